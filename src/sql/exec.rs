//! Query execution: evaluates a [`Rel`] tree into rows.
//!
//! Reads are requests to the tables' storage actors (`Get` for a point access, `Scan`
//! batches otherwise) under the statement's [`ReadView`]; the rest is evaluated here,
//! on the session's task. Writes (which may wait for row locks) are in `dml.rs`.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::ops::ControlFlow;
use std::pin::Pin;

use crate::catalog::Catalog;
use crate::error::{Error, ErrorKind, Result};
use crate::storage::{ReadView, Storage};
use crate::types::{compare, encode_key, Value};
use crate::wire::CancelSignal;

use super::access::read;
use super::expr::{EvalCtx, Expr, SessionFacts, SubKind, SubResult};
use super::functions::Accumulator;
use super::join::join_rows;
use super::plan::{Access, AggCall, Rel, SortKey};
use super::setop::set_op;

/// Per-statement results the executor keeps while a query runs: the results of
/// uncorrelated subqueries (computed once, at first use) and the working tables of
/// WITH RECURSIVE. A std mutex, never held across an await: the future stays Send.
#[derive(Debug, Default)]
pub struct ExecMemo {
    subs: std::sync::Mutex<HashMap<usize, SubResult>>,
    work: std::sync::Mutex<HashMap<usize, crate::sync::Arc<Vec<Vec<Value>>>>>,
}

impl ExecMemo {
    fn sub(&self, id: usize) -> Option<SubResult> {
        self.subs.lock().ok().and_then(|m| m.get(&id).cloned())
    }

    fn set_sub(&self, id: usize, r: SubResult) {
        if let Ok(mut m) = self.subs.lock() {
            m.insert(id, r);
        }
    }

    fn work(&self, id: usize) -> Result<crate::sync::Arc<Vec<Vec<Value>>>> {
        self.work
            .lock()
            .ok()
            .and_then(|m| m.get(&id).cloned())
            .ok_or_else(|| Error::internal("working table read outside its recursion"))
    }

    fn set_work(&self, id: usize, rows: Vec<Vec<Value>>) {
        if let Ok(mut m) = self.work.lock() {
            m.insert(id, crate::sync::Arc::new(rows));
        }
    }
}

/// What a query reads.
pub struct QueryCtx<'a> {
    /// Table definitions (for pg_catalog views).
    pub catalog: &'a Catalog,
    /// Table rows.
    pub storage: &'a Storage,
    /// Snapshot and own transaction.
    pub view: ReadView,
    /// Bound parameters.
    pub params: &'a [Value],
    /// Session facts.
    pub facts: &'a SessionFacts,
    /// Subquery results and working tables of this statement.
    pub memo: ExecMemo,
    /// The session's cancel signal: a pg_sleep ends with 57014 when it fires.
    pub cancel: Option<CancelSignal>,
}

impl QueryCtx<'_> {
    /// The evaluation context for expressions without subqueries.
    pub fn eval_ctx<'b>(&'b self, outer: Option<&'b [Value]>) -> EvalCtx<'b> {
        EvalCtx { params: self.params, outer, session: self.facts, subs: &[] }
    }
}

/// Computes the results of the subqueries in `exprs` for `row`: a correlated one runs
/// with `row ++ outer` as its outer row; an uncorrelated one runs once per statement.
pub(super) async fn sub_results(
    exprs: &[&Expr],
    row: &[Value],
    ctx: &QueryCtx<'_>,
    outer: Option<&[Value]>,
) -> Result<Vec<(usize, SubResult)>> {
    let mut out = Vec::new();
    for sp in exprs.iter().flat_map(|e| e.subplans()) {
        if !sp.correlated {
            if let Some(r) = ctx.memo.sub(sp.id) {
                out.push((sp.id, r));
                continue;
            }
        }
        let mut outer_row = Vec::new();
        if sp.correlated {
            outer_row.extend_from_slice(row);
            outer_row.extend_from_slice(outer.unwrap_or(&[]));
        }
        let rows = run(&sp.rel, ctx, Some(&outer_row)).await?;
        let r = match &sp.kind {
            SubKind::Scalar => {
                if rows.len() > 1 {
                    return Err(Error::new(
                        ErrorKind::CardinalityViolation,
                        "more than one row returned by a subquery used as an expression",
                    ));
                }
                SubResult::Value(
                    rows.into_iter()
                        .next()
                        .and_then(|r| r.into_iter().next())
                        .unwrap_or(Value::Null),
                )
            }
            SubKind::Exists => SubResult::Exists(!rows.is_empty()),
            SubKind::Array => SubResult::Value(Value::Array(
                rows.into_iter().map(|r| r.into_iter().next().unwrap_or(Value::Null)).collect(),
            )),
            SubKind::Quantified { .. } => SubResult::Column(crate::sync::Arc::new(
                rows.into_iter().map(|r| r.into_iter().next().unwrap_or(Value::Null)).collect(),
            )),
        };
        if !sp.correlated {
            ctx.memo.set_sub(sp.id, r.clone());
        }
        out.push((sp.id, r));
    }
    Ok(out)
}

/// Evaluates `exprs` on `row`, computing their subqueries first if they have any.
pub(super) async fn eval_all(
    exprs: &[Expr],
    row: &[Value],
    ctx: &QueryCtx<'_>,
    outer: Option<&[Value]>,
) -> Result<Vec<Value>> {
    let with_subs: Vec<&Expr> = exprs.iter().filter(|e| e.has_subquery()).collect();
    let subs = if with_subs.is_empty() {
        Vec::new()
    } else {
        sub_results(&with_subs, row, ctx, outer).await?
    };
    let ectx = EvalCtx { subs: &subs, ..ctx.eval_ctx(outer) };
    exprs.iter().map(|e| e.eval(row, &ectx)).collect()
}

/// Rows, computed later: what [`run`] returns (it recurses, so its future is boxed).
pub type RowsFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<Vec<Value>>>> + Send + 'a>>;

/// Runs `rel`; `outer` is the enclosing row for LATERAL.
pub fn run<'a>(rel: &'a Rel, ctx: &'a QueryCtx<'a>, outer: Option<&'a [Value]>) -> RowsFuture<'a> {
    Box::pin(run_rel(rel, ctx, outer))
}

async fn run_rel<'a>(
    rel: &'a Rel,
    ctx: &'a QueryCtx<'a>,
    outer: Option<&'a [Value]>,
) -> Result<Vec<Vec<Value>>> {
    let ectx = ctx.eval_ctx(outer);
    match rel {
        Rel::Scan { .. } => scan(rel, ctx, outer, None).await,
        Rel::Project { input, exprs }
            if matches!(input.as_ref(), Rel::Scan { .. })
                && !exprs.iter().any(Expr::has_subquery) =>
        {
            scan(input, ctx, outer, Some(exprs)).await
        }
        Rel::Virtual(v) => Ok(v.rows(ctx.catalog, ctx.facts)),
        Rel::Single => Ok(vec![Vec::new()]),
        Rel::Sleep(seconds) => {
            sleep(seconds.eval(&[], &ectx)?, ctx.cancel.as_ref()).await?;
            Ok(vec![vec![Value::Text(String::new())]])
        }
        Rel::Series { args, .. } => {
            crate::sql::planner::srf::series_rows(&eval_all(args, &[], ctx, outer).await?)
        }
        Rel::Unnest(array) => {
            match eval_all(std::slice::from_ref(array), &[], ctx, outer).await?.pop() {
                Some(Value::Array(items)) => Ok(items.into_iter().map(|v| vec![v]).collect()),
                _ => Ok(Vec::new()),
            }
        }
        Rel::Values(rows) => {
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                out.push(eval_all(r, &[], ctx, outer).await?);
            }
            Ok(out)
        }
        Rel::Join { kind, left, right, on, lateral, left_width, right_width, equi } => {
            let lrows = run(left, ctx, outer).await?;
            if !*lateral {
                let rrows = run(right, ctx, outer).await?;
                let widths = (*left_width, *right_width);
                return join_rows(*kind, lrows, rrows, on.as_ref(), equi, widths, &ectx);
            }
            // LATERAL: the right side runs once per left row, with that row (followed
            // by this query's own outer row) as its outer row.
            let mut out = Vec::new();
            for l in lrows {
                let mut outer_row = l.clone();
                outer_row.extend_from_slice(outer.unwrap_or(&[]));
                let rrows = run(right, ctx, Some(&outer_row)).await?;
                let widths = (*left_width, *right_width);
                out.extend(join_rows(*kind, vec![l], rrows, on.as_ref(), &[], widths, &ectx)?);
            }
            Ok(out)
        }
        Rel::Filter { input, pred } => {
            let rows = run(input, ctx, outer).await?;
            let mut out = Vec::with_capacity(rows.len());
            let has_sub = pred.has_subquery();
            for r in rows {
                let keep = if has_sub {
                    let subs = sub_results(&[pred], &r, ctx, outer).await?;
                    pred.matches(&r, &EvalCtx { subs: &subs, ..ectx })?
                } else {
                    pred.matches(&r, &ectx)?
                };
                if keep {
                    out.push(r);
                }
            }
            Ok(out)
        }
        Rel::Project { input, exprs } => {
            let rows = run(input, ctx, outer).await?;
            if exprs.iter().any(Expr::has_subquery) {
                let mut out = Vec::with_capacity(rows.len());
                for r in rows {
                    out.push(eval_all(exprs, &r, ctx, outer).await?);
                }
                return Ok(out);
            }
            rows.iter().map(|r| exprs.iter().map(|e| e.eval(r, &ectx)).collect()).collect()
        }
        Rel::SetOp { op, all, left, right } => {
            let l = run(left, ctx, outer).await?;
            let r = run(right, ctx, outer).await?;
            Ok(set_op(*op, *all, l, r))
        }
        Rel::DistinctOn { input, keys } => {
            let rows = run(input, ctx, outer).await?;
            let mut out = Vec::new();
            let mut last: Option<Vec<u8>> = None;
            for r in rows {
                let k = keys.iter().map(|e| e.eval(&r, &ectx)).collect::<Result<Vec<_>>>()?;
                let mut enc = Vec::new();
                encode_key(&k, &mut enc);
                if last.as_ref() != Some(&enc) {
                    out.push(r);
                    last = Some(enc);
                }
            }
            Ok(out)
        }
        Rel::Recursive { id, base, step, all } => {
            recursive(*id, base, step, *all, None, ctx, outer).await
        }
        Rel::WorkTable(id) => Ok(ctx.memo.work(*id)?.as_ref().clone()),
        Rel::Aggregate { input, group, aggs } => {
            aggregate(run(input, ctx, outer).await?, group, aggs, &ectx)
        }
        Rel::Sort { input, keys } => {
            let rows = run(input, ctx, outer).await?;
            sort(rows, keys, &ectx)
        }
        Rel::Distinct(input) => {
            let rows = run(input, ctx, outer).await?;
            let mut seen = HashSet::new();
            let mut out = Vec::new();
            for r in rows {
                let mut k = Vec::new();
                encode_key(&r, &mut k);
                if seen.insert(k) {
                    out.push(r);
                }
            }
            Ok(out)
        }
        Rel::Limit { input, limit, offset } => {
            let count = |e: &Option<Expr>, what: &str, kind: ErrorKind| -> Result<Option<usize>> {
                match e {
                    None => Ok(None),
                    Some(e) => match e.eval(&[], &ectx)? {
                        Value::Null => Ok(None),
                        Value::Int8(n) if n < 0 => {
                            Err(Error::new(kind, format!("{what} must not be negative")))
                        }
                        Value::Int8(n) => Ok(Some(n as usize)),
                        other => Err(Error::internal(format!("{what} evaluated to {other:?}"))),
                    },
                }
            };
            let limit = count(limit, "LIMIT", ErrorKind::InvalidRowCountInLimitClause)?;
            let offset = count(offset, "OFFSET", ErrorKind::InvalidRowCountInResultOffsetClause)?
                .unwrap_or(0);
            let cap = limit.map(|l| l.saturating_add(offset));
            let rows = match (cap, capped_recursive(input)) {
                (Some(cap), Some((id, base, step, all))) => {
                    let rows = recursive(id, base, step, all, Some(cap), ctx, outer).await?;
                    rows.into_iter()
                        .map(|r| row_wise(input, r, &ectx))
                        .collect::<Result<Vec<_>>>()?
                }
                _ => run(input, ctx, outer).await?,
            };
            Ok(rows.into_iter().skip(offset).take(limit.unwrap_or(usize::MAX)).collect())
        }
        Rel::Truncate { input, width } => {
            let mut rows = run(input, ctx, outer).await?;
            for r in &mut rows {
                r.truncate(*width);
            }
            Ok(rows)
        }
    }
}

/// The WITH RECURSIVE under a LIMIT, through row-wise nodes only (projections without
/// subqueries, truncations): there the LIMIT caps the rows the recursion produces, as
/// PostgreSQL's lazy evaluation does, so a recursion with no stop condition ends.
fn capped_recursive(rel: &Rel) -> Option<(usize, &Rel, &Rel, bool)> {
    match rel {
        Rel::Recursive { id, base, step, all } => Some((*id, base, step, *all)),
        Rel::Project { input, exprs } if !exprs.iter().any(Expr::has_subquery) => {
            capped_recursive(input)
        }
        Rel::Truncate { input, .. } => capped_recursive(input),
        _ => None,
    }
}

/// A row of the recursion through the row-wise nodes [`capped_recursive`] walked.
fn row_wise(rel: &Rel, row: Vec<Value>, ctx: &EvalCtx<'_>) -> Result<Vec<Value>> {
    match rel {
        Rel::Project { input, exprs } => {
            let r = row_wise(input, row, ctx)?;
            exprs.iter().map(|e| e.eval(&r, ctx)).collect()
        }
        Rel::Truncate { input, width } => {
            let mut r = row_wise(input, row, ctx)?;
            r.truncate(*width);
            Ok(r)
        }
        _ => Ok(row),
    }
}

/// pg_sleep: an await (so that statement_timeout, which drops the statement's future,
/// ends it too), or 57014 as soon as the session's cancel signal fires.
async fn sleep(seconds: Value, cancel: Option<&CancelSignal>) -> Result<()> {
    let secs = match seconds {
        Value::Float8(s) if s.is_finite() && s > 0.0 => s.min(1e9),
        _ => return Ok(()),
    };
    let nap = tokio::time::sleep(std::time::Duration::from_secs_f64(secs));
    match cancel {
        Some(c) => tokio::select! {
            _ = nap => Ok(()),
            _ = c.cancelled() => Err(Error::new(
                ErrorKind::QueryCanceled,
                "canceling statement due to user request",
            )),
        },
        None => {
            nap.await;
            Ok(())
        }
    }
}

/// WITH RECURSIVE: the base rows, then rounds of `step` over the previous round's rows
/// until a round adds nothing (with UNION, rows seen before do not count as added), or
/// until `cap` rows were produced (a LIMIT above it).
async fn recursive(
    id: usize,
    base: &Rel,
    step: &Rel,
    all: bool,
    cap: Option<usize>,
    ctx: &QueryCtx<'_>,
    outer: Option<&[Value]>,
) -> Result<Vec<Vec<Value>>> {
    let mut seen = HashSet::new();
    let mut keep_new = |rows: Vec<Vec<Value>>| -> Vec<Vec<Value>> {
        if all {
            return rows;
        }
        rows.into_iter()
            .filter(|r| {
                let mut k = Vec::new();
                encode_key(r, &mut k);
                seen.insert(k)
            })
            .collect()
    };
    let mut working = keep_new(run(base, ctx, outer).await?);
    let mut out = working.clone();
    let cap = cap.unwrap_or(usize::MAX);
    while !working.is_empty() && out.len() < cap {
        ctx.memo.set_work(id, std::mem::take(&mut working));
        working = keep_new(run(step, ctx, outer).await?);
        out.extend(working.iter().cloned());
    }
    out.truncate(cap);
    Ok(out)
}

/// A table scan, optionally fused with the projection above it (so a point SELECT
/// copies only the columns it returns).
async fn scan(
    rel: &Rel,
    ctx: &QueryCtx<'_>,
    outer: Option<&[Value]>,
    project: Option<&Vec<Expr>>,
) -> Result<Vec<Vec<Value>>> {
    let Rel::Scan { table, access, filter } = rel else {
        return Err(Error::internal("not a scan"));
    };
    let ectx = ctx.eval_ctx(outer);
    let store = ctx.storage.table(table.id)?;
    let emit = |row: &[Value]| -> Result<Option<Vec<Value>>> {
        if let Some(f) = filter {
            if !f.matches(row, &ectx)? {
                return Ok(None);
            }
        }
        Ok(Some(match project {
            Some(exprs) => exprs.iter().map(|e| e.eval(row, &ectx)).collect::<Result<Vec<_>>>()?,
            None => row.to_vec(),
        }))
    };
    // ORDER BY … LIMIT read in key order: stop once LIMIT + OFFSET rows passed.
    // A NULL or negative count reads on (the Limit node above reports the error).
    let count = |e: &Expr| -> Result<Option<usize>> {
        Ok(match e.eval(&[], &ectx)? {
            Value::Int8(n) if n >= 0 => Some(n as usize),
            _ => None,
        })
    };
    let stop_after = match access {
        Access::Range(r) => match &r.stop_after {
            Some((limit, offset)) => {
                let offset = match offset {
                    Some(o) => count(o)?,
                    None => Some(0),
                };
                count(limit)?.zip(offset).map(|(l, o)| l.saturating_add(o))
            }
            None => None,
        },
        _ => None,
    };
    if stop_after == Some(0) {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    let with_keys = false;
    read(&store, ctx.view, table, access, &ectx, with_keys, stop_after, |_, row| {
        if let Some(r) = emit(&row)? {
            out.push(r);
            if stop_after.is_some_and(|n| out.len() >= n) {
                return Ok(ControlFlow::Break(()));
            }
        }
        Ok(ControlFlow::Continue(()))
    })
    .await?;
    Ok(out)
}

fn aggregate(
    rows: Vec<Vec<Value>>,
    group: &[Expr],
    aggs: &[AggCall],
    ectx: &EvalCtx<'_>,
) -> Result<Vec<Vec<Value>>> {
    struct Group {
        keys: Vec<Value>,
        accs: Vec<Accumulator>,
        seen: Vec<HashSet<Vec<u8>>>,
        ordered: Vec<Vec<Vec<Value>>>,
    }
    let fresh = |keys: Vec<Value>| Group {
        keys,
        accs: aggs.iter().map(|a| Accumulator::new(a.func, &a.arg_ty)).collect(),
        seen: aggs.iter().map(|_| HashSet::new()).collect(),
        ordered: aggs.iter().map(|_| Vec::new()).collect(),
    };
    let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
    let mut groups: Vec<Group> = Vec::new();
    if group.is_empty() {
        groups.push(fresh(Vec::new()));
        index.insert(Vec::new(), 0);
    }
    for row in &rows {
        let keys = group.iter().map(|g| g.eval(row, ectx)).collect::<Result<Vec<_>>>()?;
        let mut k = Vec::new();
        encode_key(&keys, &mut k);
        let gi = match index.get(&k) {
            Some(&i) => i,
            None => {
                groups.push(fresh(keys));
                index.insert(k, groups.len() - 1);
                groups.len() - 1
            }
        };
        let g = &mut groups[gi];
        for (ai, a) in aggs.iter().enumerate() {
            if a.order_by.is_empty() {
                feed(a, &mut g.accs[ai], &mut g.seen[ai], row, ectx)?;
            } else {
                g.ordered[ai].push(row.clone());
            }
        }
    }
    // `agg(x ORDER BY …)`: each group's rows for it, sorted, fed in that order.
    for g in &mut groups {
        for (ai, a) in aggs.iter().enumerate() {
            if a.order_by.is_empty() {
                continue;
            }
            let rows = sort(std::mem::take(&mut g.ordered[ai]), &a.order_by, ectx)?;
            for row in &rows {
                feed(a, &mut g.accs[ai], &mut g.seen[ai], row, ectx)?;
            }
        }
    }
    groups
        .into_iter()
        .map(|g| {
            let mut out = g.keys;
            for (acc, a) in g.accs.iter().zip(aggs) {
                out.push(acc.finish(&a.result_ty)?);
            }
            Ok(out)
        })
        .collect()
}

/// One input row into one aggregate: skipped if its FILTER does not hold, or (DISTINCT)
/// if its value was seen.
fn feed(
    a: &AggCall,
    acc: &mut Accumulator,
    seen: &mut HashSet<Vec<u8>>,
    row: &[Value],
    ectx: &EvalCtx<'_>,
) -> Result<()> {
    if let Some(f) = &a.filter {
        if !f.matches(row, ectx)? {
            return Ok(());
        }
    }
    let Some(e) = &a.arg else { return acc.add(None) };
    let v = e.eval(row, ectx)?;
    if a.distinct && !v.is_null() {
        let mut dk = Vec::new();
        encode_key(std::slice::from_ref(&v), &mut dk);
        if !seen.insert(dk) {
            return Ok(());
        }
    }
    match &a.delimiter {
        Some(d) => acc.add_delimited(&v, &d.eval(row, ectx)?),
        None => acc.add(Some(&v)),
    }
}

/// Sorts rows by `keys` (ORDER BY).
pub fn sort(
    rows: Vec<Vec<Value>>,
    keys: &[SortKey],
    ectx: &EvalCtx<'_>,
) -> Result<Vec<Vec<Value>>> {
    let mut keyed = Vec::with_capacity(rows.len());
    for r in rows {
        let k = keys.iter().map(|s| s.expr.eval(&r, ectx)).collect::<Result<Vec<_>>>()?;
        keyed.push((k, r));
    }
    keyed.sort_by(|(a, _), (b, _)| {
        for (i, s) in keys.iter().enumerate() {
            let (x, y) = (&a[i], &b[i]);
            let ord = match (x.is_null(), y.is_null()) {
                (true, true) => std::cmp::Ordering::Equal,
                (true, false) => {
                    if s.nulls_first {
                        std::cmp::Ordering::Less
                    } else {
                        std::cmp::Ordering::Greater
                    }
                }
                (false, true) => {
                    if s.nulls_first {
                        std::cmp::Ordering::Greater
                    } else {
                        std::cmp::Ordering::Less
                    }
                }
                _ => {
                    let o = compare(x, y);
                    if s.desc {
                        o.reverse()
                    } else {
                        o
                    }
                }
            };
            if ord != std::cmp::Ordering::Equal {
                return ord;
            }
        }
        std::cmp::Ordering::Equal
    });
    Ok(keyed.into_iter().map(|(_, r)| r).collect())
}
