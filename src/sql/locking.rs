//! Row-locking reads: `SELECT … FOR UPDATE [NOWAIT | SKIP LOCKED]`.
//!
//! PostgreSQL plans these as `Limit → LockRows → Sort → Scan`: rows come out of the
//! scan under the statement's snapshot, in ORDER BY order, and each is locked before
//! LIMIT counts it. So a row another transaction holds is waited for (the default),
//! refused with 55P03 (NOWAIT), or passed over without counting towards the LIMIT
//! (SKIP LOCKED — the job-queue pattern: each worker gets the first row nobody else
//! holds). Under READ COMMITTED a row that changed while we waited is re-checked
//! against the WHERE and returned as it is now (EvalPlanQual); under REPEATABLE READ a
//! row changed since the snapshot is 40001.
//!
//! ```text
//!  scan (keys, snapshot) → WHERE → project (+ hidden sort columns) → sort
//!    → for each row: storage Latest → Blocked(T)? wait / 55P03 / skip
//!                    re-check WHERE on the version to build on, re-project
//!                    storage Lock(expect) → lock-only version on top (or Changed: again)
//!    → OFFSET, LIMIT → drop the hidden columns
//! ```
//! The lock is a lock-only version on the row's chain (see `storage/mvcc.rs`), held
//! until the transaction ends, like a write's. Only single-table queries without
//! aggregates or DISTINCT can lock (PostgreSQL refuses the last two as well); FOR
//! SHARE / FOR KEY SHARE (shared row locks) are refused with 0A000.

use std::ops::ControlFlow;

use sqlparser::ast;

use crate::catalog::TableDef;
use crate::error::{Error, ErrorKind, Result};
use crate::lock::WaitPolicy;
use crate::storage::{Key, Latest, PutOutcome, Row};
use crate::sync::Arc;
use crate::types::Value;

use super::access::read;
use super::dml::WriteCtx;
use super::exec::{sort, QueryCtx};
use super::expr::{EvalCtx, Expr};
use super::plan::{Access, QueryPlan, Rel, SortKey};

/// How a `SELECT … FOR UPDATE` locks its rows.
#[derive(Debug, Clone, PartialEq)]
pub struct RowLocking {
    /// The table whose rows are locked.
    pub table: Arc<TableDef>,
    /// How the scan finds them.
    pub access: Access,
    /// The WHERE, on the table's rows (re-checked after a wait).
    pub filter: Option<Expr>,
    /// The output expressions plus hidden sort columns, on the table's rows.
    pub project: Vec<Expr>,
    /// ORDER BY, on projected rows.
    pub sort: Vec<SortKey>,
    /// LIMIT.
    pub limit: Option<Expr>,
    /// OFFSET.
    pub offset: Option<Expr>,
    /// Output columns (the rest are hidden sort columns).
    pub visible: usize,
    /// Wait, NOWAIT, or SKIP LOCKED.
    pub wait: WaitPolicy,
}

fn refused(what: &str, clause: &str) -> Error {
    Error::new(ErrorKind::FeatureNotSupported, format!("{clause} is not allowed with {what}"))
}

/// The wait policy of a query's locking clause, or 0A000 for what is not supported.
pub fn wait_policy(locks: &[ast::LockClause]) -> Result<WaitPolicy> {
    let [clause] = locks else {
        return Err(Error::new(
            ErrorKind::FeatureNotSupported,
            "more than one locking clause is not supported yet",
        ));
    };
    if clause.lock_type == ast::LockType::Share {
        return Err(Error::new(
            ErrorKind::FeatureNotSupported,
            "SELECT FOR SHARE (shared row locks) is not supported yet",
        ));
    }
    Ok(match clause.nonblock {
        None => WaitPolicy::Block,
        Some(ast::NonBlock::Nowait) => WaitPolicy::NoWait,
        Some(ast::NonBlock::SkipLocked) => WaitPolicy::SkipLocked,
    })
}

/// Takes apart a bound single-table SELECT into a [`RowLocking`]. `of` is the table
/// named in `FOR UPDATE OF t`, if any.
pub fn plan(q: &QueryPlan, wait: WaitPolicy, of: Option<&str>) -> Result<RowLocking> {
    const CLAUSE: &str = "FOR UPDATE";
    let mut rel = &q.rel;
    let mut visible = q.columns.len();
    if let Rel::Truncate { input, width } = rel {
        visible = *width;
        rel = input;
    }
    let (mut limit, mut offset) = (None, None);
    if let Rel::Limit { input, limit: l, offset: o } = rel {
        (limit, offset) = (l.clone(), o.clone());
        rel = input;
    }
    let mut sort = Vec::new();
    if let Rel::Sort { input, keys } = rel {
        sort = keys.clone();
        rel = input;
    }
    let (project, input) = match rel {
        Rel::Project { input, exprs } => (exprs.clone(), input.as_ref()),
        Rel::Distinct(_) => return Err(refused("DISTINCT clause", CLAUSE)),
        _ => return Err(unsupported_shape()),
    };
    let subquery = |e: &Expr| e.has_subquery();
    if project.iter().any(subquery)
        || matches!(input, Rel::Scan { filter: Some(f), .. } if subquery(f))
    {
        return Err(unsupported_shape());
    }
    match input {
        Rel::Scan { table, access, filter } => {
            if let Some(name) = of {
                if name != table.name {
                    return Err(Error::new(
                        ErrorKind::UndefinedTable,
                        format!(
                            "relation \"{name}\" in FOR UPDATE clause not found in FROM clause"
                        ),
                    ));
                }
            }
            Ok(RowLocking {
                table: table.clone(),
                access: access.clone(),
                filter: filter.clone(),
                project,
                sort,
                limit,
                offset,
                visible,
                wait,
            })
        }
        Rel::Aggregate { .. } => Err(refused("aggregate functions", CLAUSE)),
        Rel::Filter { input, .. } if matches!(input.as_ref(), Rel::Aggregate { .. }) => {
            Err(refused("aggregate functions", CLAUSE))
        }
        _ => Err(unsupported_shape()),
    }
}

fn unsupported_shape() -> Error {
    Error::new(
        ErrorKind::FeatureNotSupported,
        "FOR UPDATE is supported only on a single table without subqueries, not yet on joins, subqueries or views",
    )
}

/// The rows a locking SELECT returns, each locked by the writing transaction.
pub async fn select_locked(
    w: &mut WriteCtx<'_>,
    plan: &RowLocking,
    q: &QueryCtx<'_>,
) -> Result<Vec<Vec<Value>>> {
    let store = w.storage.table(plan.table.id)?;
    let ectx = EvalCtx { params: q.params, outer: None, session: q.facts, subs: &[] };
    let project = |row: &Row| -> Result<Option<Vec<Value>>> {
        if let Some(f) = &plan.filter {
            if !f.matches(row, &ectx)? {
                return Ok(None);
            }
        }
        Ok(Some(plan.project.iter().map(|e| e.eval(row, &ectx)).collect::<Result<Vec<_>>>()?))
    };

    // The candidates, under the statement's snapshot, in ORDER BY order.
    let mut found: Vec<(Key, Vec<Value>)> = Vec::new();
    read(&store, q.view, &plan.table, &plan.access, &ectx, true, None, |key, row| {
        if let (Some(key), Some(out)) = (key, project(&row)?) {
            found.push((key, out));
        }
        Ok(ControlFlow::Continue(()))
    })
    .await?;
    if !plan.sort.is_empty() {
        // Sort the projected rows with their position appended, then follow it back.
        let width = plan.project.len();
        let tagged: Vec<Vec<Value>> = found
            .iter()
            .enumerate()
            .map(|(i, (_, out))| {
                let mut r = out.clone();
                r.push(Value::Int8(i as i64));
                r
            })
            .collect();
        let order: Vec<usize> = sort(tagged, &plan.sort, &ectx)?
            .iter()
            .map(|r| match r.get(width) {
                Some(Value::Int8(i)) => *i as usize,
                _ => 0,
            })
            .collect();
        let mut slots: Vec<Option<(Key, Vec<Value>)>> = found.into_iter().map(Some).collect();
        found = order.into_iter().filter_map(|i| slots.get_mut(i).and_then(Option::take)).collect();
    }

    let offset = count(plan.offset.as_ref(), &ectx, "OFFSET")?.unwrap_or(0);
    let limit = count(plan.limit.as_ref(), &ectx, "LIMIT")?.unwrap_or(usize::MAX);
    let mut locked = 0usize;
    let mut out = Vec::new();
    if limit == 0 {
        return Ok(out);
    }
    w.before_write();
    for (key, _) in found {
        let Some(mut row) = lock_row(w, &store, &plan.table, &key, plan.wait, &project).await?
        else {
            continue;
        };
        locked += 1;
        if locked <= offset {
            continue;
        }
        row.truncate(plan.visible);
        out.push(row);
        if out.len() == limit {
            break;
        }
    }
    Ok(out)
}

/// Locks one row; its output as it is now, or `None` if it is skipped (gone, no longer
/// matching, or held by another transaction under SKIP LOCKED).
async fn lock_row(
    w: &mut WriteCtx<'_>,
    store: &crate::storage::TableStore,
    table: &TableDef,
    key: &Key,
    wait: WaitPolicy,
    project: &(dyn Fn(&Row) -> Result<Option<Vec<Value>>> + Sync),
) -> Result<Option<Vec<Value>>> {
    loop {
        let base = match store.latest(w.view, w.isolation, key.clone()).await? {
            Latest::Row(base) => base,
            Latest::Skipped => return Ok(None),
            Latest::Blocked(holder) => match wait {
                WaitPolicy::Block => {
                    w.wait_for(holder).await?;
                    continue;
                }
                WaitPolicy::SkipLocked => return Ok(None),
                WaitPolicy::NoWait => {
                    return Err(Error::new(
                        ErrorKind::LockNotAvailable,
                        format!("could not obtain lock on row in relation \"{}\"", table.name),
                    ))
                }
            },
        };
        let Some(row) = &base.row else { return Ok(None) };
        // EvalPlanQual: the version to build on may be newer than the snapshot's.
        let Some(out) = project(row)? else { return Ok(None) };
        match store.lock(w.status, key.clone(), base).await? {
            PutOutcome::Written => return Ok(Some(out)),
            // A lock writes no new row, so it is never refused by a UNIQUE index; any
            // answer but Written means the row changed: start over.
            PutOutcome::Changed | PutOutcome::Blocked(_) | PutOutcome::Unique(_) => continue,
        }
    }
}

fn count(e: Option<&Expr>, ectx: &EvalCtx<'_>, what: &str) -> Result<Option<usize>> {
    match e.map(|e| e.eval(&[], ectx)).transpose()? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Int8(n)) if n < 0 => {
            let kind = if what == "LIMIT" {
                ErrorKind::InvalidRowCountInLimitClause
            } else {
                ErrorKind::InvalidRowCountInResultOffsetClause
            };
            Err(Error::new(kind, format!("{what} must not be negative")))
        }
        Some(Value::Int8(n)) => Ok(Some(n as usize)),
        Some(other) => Err(Error::internal(format!("{what} evaluated to {other:?}"))),
    }
}
