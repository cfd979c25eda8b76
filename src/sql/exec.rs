//! Query execution: evaluates a [`Rel`] tree into rows.
//!
//! Reads are requests to the tables' storage actors (`Get` for a point access, `Scan`
//! batches otherwise) under the statement's [`ReadView`]; the rest is evaluated here,
//! on the session's task. Writes (which may wait for row locks) are in `dml.rs`.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::ops::{Bound, ControlFlow};
use std::pin::Pin;

use crate::catalog::Catalog;
use crate::error::{Error, ErrorKind, Result};
use crate::storage::{ReadView, Storage};
use crate::types::{compare, encode_key, Value};

use super::expr::{EvalCtx, Expr, SessionFacts};
use super::functions::Accumulator;
use super::plan::{Access, AggCall, JoinKind, Rel, SortKey};

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
}

impl QueryCtx<'_> {
    fn eval_ctx<'b>(&'b self, outer: Option<&'b [Value]>) -> EvalCtx<'b> {
        EvalCtx { params: self.params, outer, session: self.facts }
    }
}

/// The key a point access names, encoded; `None` if a key value is NULL (no row).
pub fn point_key(exprs: &[Expr], ctx: &EvalCtx<'_>) -> Result<Option<Vec<u8>>> {
    let mut vals = Vec::with_capacity(exprs.len());
    for e in exprs {
        let v = e.eval(&[], ctx)?;
        if v.is_null() {
            return Ok(None);
        }
        vals.push(v);
    }
    let mut key = Vec::new();
    encode_key(&vals, &mut key);
    Ok(Some(key))
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
        Rel::Project { input, exprs } if matches!(input.as_ref(), Rel::Scan { .. }) => {
            scan(input, ctx, outer, Some(exprs)).await
        }
        Rel::Virtual(v) => Ok(v.rows(ctx.catalog)),
        Rel::Single => Ok(vec![Vec::new()]),
        Rel::Values(rows) => {
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                out.push(r.iter().map(|e| e.eval(&[], &ectx)).collect::<Result<Vec<_>>>()?);
            }
            Ok(out)
        }
        Rel::Join { kind, left, right, on, lateral, right_width } => {
            let lrows = run(left, ctx, outer).await?;
            let fixed_right = if *lateral { None } else { Some(run(right, ctx, outer).await?) };
            let mut out = Vec::new();
            for l in lrows {
                let computed;
                let rrows = match &fixed_right {
                    Some(r) => r,
                    None => {
                        computed = run(right, ctx, Some(&l)).await?;
                        &computed
                    }
                };
                let mut matched = false;
                for r in rrows {
                    let mut row = l.clone();
                    row.extend(r.iter().cloned());
                    if let Some(p) = on {
                        if !p.matches(&row, &ectx)? {
                            continue;
                        }
                    }
                    matched = true;
                    out.push(row);
                }
                if !matched && *kind == JoinKind::Left {
                    let mut row = l;
                    row.extend(std::iter::repeat_n(Value::Null, *right_width));
                    out.push(row);
                }
            }
            Ok(out)
        }
        Rel::Filter { input, pred } => {
            let rows = run(input, ctx, outer).await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                if pred.matches(&r, &ectx)? {
                    out.push(r);
                }
            }
            Ok(out)
        }
        Rel::Project { input, exprs } => {
            let rows = run(input, ctx, outer).await?;
            rows.iter().map(|r| exprs.iter().map(|e| e.eval(r, &ectx)).collect()).collect()
        }
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
            let rows = run(input, ctx, outer).await?;
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
    match access {
        Access::Point(key_exprs) => {
            let Some(key) = point_key(key_exprs, &ectx)? else { return Ok(Vec::new()) };
            match store.get(ctx.view, key.into_boxed_slice()).await? {
                Some(row) => Ok(emit(&row)?.into_iter().collect()),
                None => Ok(Vec::new()),
            }
        }
        Access::Full => {
            let mut out = Vec::new();
            store
                .scan(ctx.view, Bound::Unbounded, Bound::Unbounded, false, |_, row| {
                    if let Some(r) = emit(&row)? {
                        out.push(r);
                    }
                    Ok(ControlFlow::Continue(()))
                })
                .await?;
            Ok(out)
        }
    }
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
    }
    let fresh = |keys: Vec<Value>| Group {
        keys,
        accs: aggs.iter().map(|a| Accumulator::new(a.func, &a.arg_ty)).collect(),
        seen: aggs.iter().map(|_| HashSet::new()).collect(),
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
            match &a.arg {
                None => g.accs[ai].add(None)?,
                Some(e) => {
                    let v = e.eval(row, ectx)?;
                    if a.distinct && !v.is_null() {
                        let mut dk = Vec::new();
                        encode_key(std::slice::from_ref(&v), &mut dk);
                        if !g.seen[ai].insert(dk) {
                            continue;
                        }
                    }
                    g.accs[ai].add(Some(&v))?;
                }
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
