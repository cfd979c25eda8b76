//! Row-locking reads: `SELECT … FOR { UPDATE | NO KEY UPDATE | SHARE | KEY SHARE }
//! [NOWAIT | SKIP LOCKED]`.
//!
//! The four strengths and which of them conflict are PostgreSQL's (the table is in
//! `storage/mvcc.rs`): FOR SHARE keeps writers out but lets other sharers in; FOR KEY
//! SHARE (what a foreign-key check takes on the referenced row) only keeps out DELETE,
//! key-changing UPDATEs and FOR UPDATE; an UPDATE that changes no key column holds its
//! row FOR NO KEY UPDATE. sqlparser knows only `FOR UPDATE` and `FOR SHARE`, so
//! [`strip_lock_strengths`] blanks out the `NO KEY` / `KEY` words before parsing and
//! hands the strengths to the planner.
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
//! The lock is a `RowLock` on the row's chain (see `storage/mvcc.rs`), held until the
//! transaction ends, like a write's. Only single-table queries without aggregates or
//! DISTINCT can lock (PostgreSQL refuses the last two as well).

use std::ops::ControlFlow;

use sqlparser::ast;

use crate::catalog::TableDef;
use crate::error::{Error, ErrorKind, Result};
use crate::lock::WaitPolicy;
use crate::storage::{Key, Latest, PutOutcome, Row, RowLockMode};
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
    /// The lock's strength.
    pub mode: RowLockMode,
}

/// Blanks out the `NO KEY` of `FOR NO KEY UPDATE` and the `KEY` of `FOR KEY SHARE`
/// (with spaces, so that error positions stay right) and returns the text with the
/// strength of every locking clause in text order; `None` if there is no `FOR` clause
/// to look at (or the text does not tokenize: the parser reports that).
pub fn strip_lock_strengths(sql: &str) -> Option<(String, Vec<RowLockMode>)> {
    use sqlparser::dialect::PostgreSqlDialect;
    use sqlparser::tokenizer::{Token, Tokenizer};
    if !sql.to_ascii_lowercase().contains("for") {
        return None;
    }
    let tokens = Tokenizer::new(&PostgreSqlDialect {}, sql).tokenize_with_location().ok()?;
    let words: Vec<(String, sqlparser::tokenizer::Location)> = tokens
        .iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_)))
        .map(|t| {
            let w = match &t.token {
                Token::Word(w) if w.quote_style.is_none() => w.value.to_ascii_uppercase(),
                _ => String::new(),
            };
            (w, t.span.start)
        })
        .collect();
    let word = |i: usize| words.get(i).map(|(w, _)| w.as_str()).unwrap_or("");
    let mut strengths = Vec::new();
    let mut blank: Vec<(sqlparser::tokenizer::Location, usize)> = Vec::new();
    for i in 0..words.len() {
        if word(i) != "FOR" {
            continue;
        }
        match (word(i + 1), word(i + 2), word(i + 3)) {
            ("NO", "KEY", "UPDATE") => {
                strengths.push(RowLockMode::NoKeyUpdate);
                blank.push((words[i + 1].1, 2));
                blank.push((words[i + 2].1, 3));
            }
            ("KEY", "SHARE", _) => {
                strengths.push(RowLockMode::KeyShare);
                blank.push((words[i + 1].1, 3));
            }
            ("UPDATE", _, _) => strengths.push(RowLockMode::Update),
            ("SHARE", _, _) => strengths.push(RowLockMode::Share),
            _ => {}
        }
    }
    if blank.is_empty() {
        return None;
    }
    // Locations are 1-based lines and columns in characters.
    let mut out = String::with_capacity(sql.len());
    let (mut line, mut col, mut skip) = (1u64, 1u64, 0usize);
    for c in sql.chars() {
        if skip == 0 && blank.iter().any(|(l, _)| l.line == line && l.column == col) {
            skip = blank.iter().find(|(l, _)| l.line == line && l.column == col).map_or(0, |b| b.1);
        }
        if skip > 0 {
            out.push(' ');
            skip -= 1;
        } else {
            out.push(c);
        }
        if c == '\n' {
            (line, col) = (line + 1, 1);
        } else {
            col += 1;
        }
    }
    Some((out, strengths))
}

fn refused(what: &str, clause: &str) -> Error {
    Error::new(ErrorKind::FeatureNotSupported, format!("{clause} is not allowed with {what}"))
}

/// The strength and wait policy of a query's locking clause, or 0A000 for what is not
/// supported. `strengths` are those [`strip_lock_strengths`] found in the text.
pub fn wait_policy(
    locks: &[ast::LockClause],
    strengths: &[RowLockMode],
) -> Result<(RowLockMode, WaitPolicy)> {
    let [clause] = locks else {
        return Err(Error::new(
            ErrorKind::FeatureNotSupported,
            "more than one locking clause is not supported yet",
        ));
    };
    let mode = match (clause.lock_type, strengths.first()) {
        (ast::LockType::Update, Some(RowLockMode::NoKeyUpdate)) => RowLockMode::NoKeyUpdate,
        (ast::LockType::Update, _) => RowLockMode::Update,
        (ast::LockType::Share, Some(RowLockMode::KeyShare)) => RowLockMode::KeyShare,
        (ast::LockType::Share, _) => RowLockMode::Share,
    };
    let wait = match clause.nonblock {
        None => WaitPolicy::Block,
        Some(ast::NonBlock::Nowait) => WaitPolicy::NoWait,
        Some(ast::NonBlock::SkipLocked) => WaitPolicy::SkipLocked,
    };
    Ok((mode, wait))
}

/// Takes apart a bound single-table SELECT into a [`RowLocking`]. `of` is the table
/// named in `FOR UPDATE OF t`, if any.
pub fn plan(
    q: &QueryPlan,
    lock: (RowLockMode, WaitPolicy),
    of: Option<&str>,
) -> Result<RowLocking> {
    let (mode, wait) = lock;
    let clause = mode.clause();
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
        Rel::Distinct(_) => return Err(refused("DISTINCT clause", clause)),
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
                        format!("relation \"{name}\" in {clause} clause not found in FROM clause"),
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
                mode,
            })
        }
        Rel::Aggregate { .. } => Err(refused("aggregate functions", clause)),
        Rel::Filter { input, .. } if matches!(input.as_ref(), Rel::Aggregate { .. }) => {
            Err(refused("aggregate functions", clause))
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
        let lock = (plan.mode, plan.wait);
        let Some(mut row) = lock_row(w, &store, &plan.table, &key, lock, &project).await? else {
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
    lock: (RowLockMode, WaitPolicy),
    project: &(dyn Fn(&Row) -> Result<Option<Vec<Value>>> + Sync),
) -> Result<Option<Vec<Value>>> {
    let (mode, wait) = lock;
    loop {
        let holder = match store.latest_for(w.view, w.isolation, key.clone(), mode).await? {
            Latest::Row(base) => {
                let Some(row) = &base.row else { return Ok(None) };
                // EvalPlanQual: the version to build on may be newer than the snapshot's.
                let Some(out) = project(row)? else { return Ok(None) };
                match store.lock(w.status, key.clone(), base, mode).await? {
                    PutOutcome::Written => return Ok(Some(out)),
                    // A conflicting holder came in between `latest_for` and `lock`.
                    PutOutcome::Blocked(holder) => holder,
                    // A lock writes no new row, so it is never refused by a UNIQUE
                    // index; the row changed: start over.
                    PutOutcome::Changed | PutOutcome::Unique(_) => continue,
                }
            }
            Latest::Skipped => return Ok(None),
            Latest::Blocked(holder) => holder,
        };
        match wait {
            WaitPolicy::Block => w.wait_for(holder).await?,
            WaitPolicy::SkipLocked => return Ok(None),
            WaitPolicy::NoWait => {
                return Err(Error::new(
                    ErrorKind::LockNotAvailable,
                    format!("could not obtain lock on row in relation \"{}\"", table.name),
                ))
            }
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
