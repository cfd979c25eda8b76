//! Writes: INSERT, UPDATE, DELETE and COPY rows, under row locks (DESIGN §2–3).
//!
//! The life of one row write:
//! ```text
//!  find the key (point key, or Scan batches under the statement's snapshot)
//!   → storage actor: Latest(view, key)  the version to build on: READ COMMITTED, the
//!                                       newest committed one (EvalPlanQual);
//!                                       REPEATABLE READ: 40001 if it changed since
//!                                       the snapshot; Blocked(T) if T's uncommitted
//!                                       version is on top → wait for T in the
//!                                       LockManager (40P01 on a cycle), start over
//!   → here: re-check WHERE on that row, evaluate SET (nothing evaluated in the actor)
//!   → storage actor: Put(key, expect, new)   Written, or Changed (someone wrote the
//!                                            row in between: start over)
//!   → the new image goes into the transaction's write set (for the WAL at commit)
//! ```
//! Inserts go as one `Insert` batch per statement (per COPY batch); the actor stops at
//! a key another transaction holds, and the session waits for that transaction and
//! sends the rest, so that of two concurrent inserts of one key the second waits and
//! fails with 23505 only if the first commits. Tables without a primary key get fresh
//! hidden row ids, which nobody else can hold.
//!
//! An UPDATE that changes the primary key moves the row ([`put_row`]): instead of `Put`
//! it sends `MoveOut`, which puts a deletion marked *moved* on the old key, then
//! inserts the new image at the new key as an INSERT would (in whichever partition
//! owns it): 23505 if a live row has it, checked row by row as PostgreSQL's
//! non-deferrable constraints are (`SET id = id + 1` over consecutive keys fails on
//! the first row), and a wait for a transaction that holds it. A writer that built on the old key and finds the moved deletion
//! fails with 40001 rather than skip a row that still exists (`Partition::latest_for`;
//! PostgreSQL does the same for a row moved to another partition); an implicit
//! transaction's retry then finds the row at its new key.
//!
//! A `put` holds its row FOR UPDATE when it deletes the row or changes a key column
//! (primary key or UNIQUE: [`key_columns`]), else FOR NO KEY UPDATE ([`write_mode`]), so
//! that a foreign-key check's FOR KEY SHARE lock waits only for the former. After each
//! row, the foreign-key rules run (`foreign_keys.rs`). ON CONFLICT's arbiter is the
//! primary key or a UNIQUE index (`upsert`); the row holding a UNIQUE key is found
//! through the index (`holder_of`).

use std::ops::Bound;
use std::ops::ControlFlow;

use crate::catalog::TableDef;
use crate::error::{Error, ErrorKind, Result};
use crate::lock::{LockClient, LockMode, LockTarget, WaitPolicy};
use crate::storage::{
    InsertConflict, Isolation, Key, Latest, PutOutcome, ReadView, Refused, Row, RowChange,
    RowLockMode, Storage, TableStore, Updated,
};
use crate::sync::Arc;
use crate::txn::{CommitTs, TxnId, TxnStatus};
use crate::types::{encode_key, write_text, DataType, Value};
use crate::wire::CancelSignal;

use super::access::read;
use super::exec::{run, QueryCtx};
use super::expr::{EvalCtx, Expr, SessionFacts};
use super::foreign_keys::{self, FkDuty};
use super::plan::{
    Access, Arbiter, BoundCheck, DeletePlan, InsertPlan, InsertSource, OnConflict, Returning,
    UpdatePlan,
};

/// The writing transaction's state that DML needs.
pub struct WriteCtx<'a> {
    /// The writing (sub)transaction's status (versions point at it).
    pub status: &'a Arc<TxnStatus>,
    /// The top-level transaction (it holds the locks and waits for others').
    pub top: TxnId,
    /// Its isolation level.
    pub isolation: Isolation,
    /// The statement's read view.
    pub view: ReadView,
    /// Oldest snapshot in use (versions older than needed can go).
    pub horizon: CommitTs,
    /// The session's backend pid (for deadlock reports).
    pub pid: i32,
    /// The lock manager.
    pub locks: &'a LockClient,
    /// Storage.
    pub storage: &'a Storage,
    /// The transaction's write set: final row image per key (`None` = deleted).
    pub writes: &'a mut crate::session::txn::WriteSet,
    /// The (sub)transactions whose own transaction lock `top` holds.
    pub own_locks: &'a mut Vec<TxnId>,
    /// The session's cancel signal: a lock wait ends with 57014 when it fires.
    pub cancel: &'a CancelSignal,
    /// `lock_timeout`: a lock wait longer than this ends with 55P03.
    pub lock_timeout: Option<std::time::Duration>,
}

impl WriteCtx<'_> {
    /// Before the transaction's first write: take its own transaction lock, which
    /// writers blocked by its versions will wait on.
    pub(super) fn before_write(&mut self) {
        let writer = self.status.id();
        if !self.own_locks.contains(&writer) {
            self.own_locks.push(writer);
            self.locks.hold_for(self.top, writer, self.pid);
        }
    }

    /// Waits until transaction `holder` ends (its version blocks our write).
    pub(super) async fn wait_for(&mut self, holder: TxnId) -> Result<()> {
        let target = LockTarget::Transaction(holder);
        let acquire =
            self.locks.acquire(self.top, self.pid, target, LockMode::Shared, WaitPolicy::Block);
        // [session] waits for the lock / [client] sends CancelRequest (or lock_timeout
        // passes): the wait ends with 57014 (55P03); a grant that races the cancel is
        // released with the transaction's release_all when the error aborts it.
        let timeout = self.lock_timeout;
        let expired = async move {
            match timeout {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            r = acquire => r.map(|_| ()),
            _ = self.cancel.cancelled() => {
                self.locks.cancel_wait(self.top);
                Err(Error::new(ErrorKind::QueryCanceled, "canceling statement due to user request"))
            }
            _ = expired => {
                self.locks.cancel_wait(self.top);
                Err(Error::new(ErrorKind::LockNotAvailable, "canceling statement due to lock timeout"))
            }
        }
    }
}

/// Checks NOT NULL (23502 with the failing row).
pub(super) fn check_not_null(table: &TableDef, row: &[Value]) -> Result<()> {
    check_row(table, row)
}

/// Checks NOT NULL and builds the stored row for `table`.
fn check_row(table: &TableDef, row: &[Value]) -> Result<()> {
    for (i, c) in table.columns.iter().enumerate() {
        if c.not_null && row[i].is_null() {
            return Err(Error::new(
                ErrorKind::NotNullViolation,
                format!(
                    "null value in column \"{}\" of relation \"{}\" violates not-null constraint",
                    c.name, table.name
                ),
            )
            .with_detail(format!("Failing row contains {}.", failing_row(table, row))));
        }
    }
    Ok(())
}

/// Checks NOT NULL, then the CHECK constraints in name order (a NULL result passes,
/// as in PostgreSQL): 23514 with the failing row.
pub(super) fn check_constraints(
    table: &TableDef,
    checks: &[BoundCheck],
    row: &[Value],
    ectx: &EvalCtx<'_>,
) -> Result<()> {
    check_row(table, row)?;
    for k in checks {
        if let Value::Bool(false) = k.expr.eval(row, ectx)? {
            return Err(Error::new(
                ErrorKind::CheckViolation,
                format!(
                    "new row for relation \"{}\" violates check constraint \"{}\"",
                    table.name, k.name
                ),
            )
            .with_detail(format!("Failing row contains {}.", failing_row(table, row))));
        }
    }
    Ok(())
}

/// PostgreSQL's `(v1, v2, null)` rendering of a row in error details.
pub fn failing_row(table: &TableDef, row: &[Value]) -> String {
    let parts: Vec<String> =
        row.iter().zip(&table.columns).map(|(v, c)| text_of(v, &c.ty)).collect();
    format!("({})", parts.join(", "))
}

/// A value as error details show it (`null` for NULL).
pub(super) fn failing_text(v: &Value, ty: &DataType) -> String {
    text_of(v, ty)
}

fn text_of(v: &Value, ty: &DataType) -> String {
    if v.is_null() {
        return "null".to_owned();
    }
    let mut b = bytes::BytesMut::new();
    write_text(v, ty, &mut b);
    String::from_utf8_lossy(&b).into_owned()
}

/// The key of `row` in `table` (primary key, or a fresh row id).
fn row_key(table: &TableDef, store: &TableStore, row: &[Value]) -> Key {
    primary_key_of(table, row).unwrap_or_else(|| store.next_rowid())
}

/// The encoded primary key of `row`; `None` for a table without one.
fn primary_key_of(table: &TableDef, row: &[Value]) -> Option<Key> {
    let pk = table.primary_key.as_ref()?;
    let vals: Vec<Value> = pk.iter().map(|&i| row[i].clone()).collect();
    let mut k = Vec::new();
    encode_key(&vals, &mut k);
    Some(k.into_boxed_slice())
}

fn duplicate_key(table: &TableDef, row: &[Value]) -> Error {
    let pk = table.primary_key.as_deref().unwrap_or(&[]);
    unique_violation(table, &table.pkey_name(), pk, row)
}

/// 23505 for `row`, whose key in the UNIQUE index at position `ix` is taken.
pub(super) fn duplicate_in(table: &TableDef, ix: usize, row: &[Value]) -> Error {
    match table.indexes.get(ix) {
        Some(i) => unique_violation(table, &i.name, &i.columns, row),
        None => Error::internal("a unique conflict in an unknown index"),
    }
}

fn unique_violation(table: &TableDef, name: &str, cols: &[usize], row: &[Value]) -> Error {
    let names: Vec<&str> = cols.iter().map(|&i| table.columns[i].name.as_str()).collect();
    let vals: Vec<String> = cols.iter().map(|&i| text_of(&row[i], &table.columns[i].ty)).collect();
    Error::new(
        ErrorKind::UniqueViolation,
        format!("duplicate key value violates unique constraint \"{name}\""),
    )
    .with_detail(format!("Key ({})=({}) already exists.", names.join(", "), vals.join(", ")))
}

/// Inserts complete rows (already typed and cast) into `table`, as one batch.
pub async fn insert_rows(
    w: &mut WriteCtx<'_>,
    table: &TableDef,
    store: &TableStore,
    rows: Vec<Vec<Value>>,
) -> Result<u64> {
    let mut batch = Vec::with_capacity(rows.len());
    for row in rows {
        check_row(table, &row)?;
        let key = row_key(table, store, &row);
        batch.push((key, Row::from(row)));
    }
    let n = batch.len() as u64;
    w.before_write();
    // Into the write set first: a row the actor refuses is in it for nothing, which is
    // harmless (a rollback removes only this transaction's own versions).
    w.writes.reserve(batch.len());
    for (key, row) in &batch {
        w.writes.insert((table.id, key.clone()), Some(row.clone()));
    }
    while !batch.is_empty() {
        let sent = batch.clone();
        match store.insert(w.status, sent).await? {
            Ok(()) => break,
            Err(Refused { at, why }) => {
                batch.drain(..at);
                match why {
                    InsertConflict::Duplicate => return Err(duplicate_key(table, &batch[0].1)),
                    InsertConflict::Unique(ix) => return Err(duplicate_in(table, ix, &batch[0].1)),
                    // Another transaction inserted or deleted this key and has not
                    // ended: wait, then send the rest again (23505 only if it committed
                    // a live row).
                    InsertConflict::Blocked(holder) => w.wait_for(holder).await?,
                    InsertConflict::Retired => return Err(concurrent_ddl()),
                }
            }
        }
    }
    Ok(n)
}

fn concurrent_ddl() -> Error {
    Error::new(
        ErrorKind::SerializationFailure,
        "could not serialize access due to concurrent DDL on the table",
    )
}

/// What a write does to the row it builds on: `None` skips it (it no longer matches),
/// `Some(None)` deletes it, `Some(Some(new))` replaces it.
type Apply<'a> = dyn Fn(&Row) -> Result<Option<Option<Row>>> + Sync + 'a;

/// Writes one row under the READ COMMITTED / REPEATABLE READ rules: asks the storage
/// actor for the version to build on, applies the statement to it here, and puts the
/// result; waits for any transaction whose uncommitted version is on the row, and
/// starts over whenever the row changed in between.
pub(super) async fn write_row(
    w: &mut WriteCtx<'_>,
    table: &TableDef,
    store: &TableStore,
    key: &Key,
    apply: &Apply<'_>,
) -> Result<Option<(Row, Option<Row>)>> {
    write_row_with(w, table, store, key, |old| std::future::ready(apply(&old))).await
}

/// [`write_row`] for a change that must await something per row version (the
/// subqueries of an UPDATE … FROM, computed again for each newer version it builds on).
pub(super) async fn write_row_with<F, Fut>(
    w: &mut WriteCtx<'_>,
    table: &TableDef,
    store: &TableStore,
    key: &Key,
    mut apply: F,
) -> Result<Option<(Row, Option<Row>)>>
where
    F: FnMut(Row) -> Fut,
    Fut: std::future::Future<Output = Result<Option<Option<Row>>>>,
{
    w.before_write();
    loop {
        let base = match store.latest(w.view, w.isolation, key.clone()).await? {
            Latest::Row(base) => base,
            Latest::Skipped => return Ok(None),
            Latest::Blocked(holder) => {
                w.wait_for(holder).await?;
                continue;
            }
        };
        let Some(old) = base.row.clone() else { return Ok(None) };
        let Some(new) = apply(old.clone()).await? else { return Ok(None) };
        match put_row(w, table, store, key, base, &old, &new).await? {
            PutOutcome::Written => return Ok(Some((old, new))),
            // [us] latest → v1 / [other writer] put on v1 / [us] put on v1 → Changed:
            // the next `latest` finds the other writer's version and waits for it (and
            // a change with subqueries computes them again for it).
            PutOutcome::Changed => continue,
            // The new row's UNIQUE key is held by another transaction's uncommitted
            // version: wait for it, then build on the row again.
            PutOutcome::Blocked(holder) => {
                w.wait_for(holder).await?;
                continue;
            }
            PutOutcome::Unique(ix) => {
                let row = new.unwrap_or_else(|| old.clone());
                return Err(duplicate_in(table, ix, &row));
            }
        }
    }
}

/// Installs the write of `old` (the version `base`) as `new` at `key` and, once
/// written, records it in the write set: a `put`, or, when `new` has another primary
/// key (an UPDATE of the key), a `move_out` of the row at `key` followed by an insert
/// of `new` at its key, which waits for a transaction holding that key and fails with
/// 23505 if a live row has it: row by row, like PostgreSQL's non-deferrable
/// constraint. (A failed insert leaves the moved-out deletion in the transaction,
/// which the error aborts.)
async fn put_row(
    w: &mut WriteCtx<'_>,
    table: &TableDef,
    store: &TableStore,
    key: &Key,
    base: crate::storage::Version,
    old: &Row,
    new: &Option<Row>,
) -> Result<PutOutcome> {
    let moved = new.as_ref().filter(|row| primary_key_of(table, row).is_some_and(|to| to != *key));
    if let Some(row) = moved {
        let outcome = store.move_out(w.status, key.clone(), base, w.horizon).await?;
        if outcome == PutOutcome::Written {
            w.writes.insert((table.id, key.clone()), None);
            insert_rows(w, table, store, vec![row.to_vec()]).await?;
        }
        return Ok(outcome);
    }
    let mode = write_mode(table, old, new.as_ref());
    let outcome = store.put(w.status, key.clone(), base, new.clone(), w.horizon, mode).await?;
    if outcome == PutOutcome::Written {
        w.writes.insert((table.id, key.clone()), new.clone());
    }
    Ok(outcome)
}

/// An UPDATE's or DELETE's change to a row, made `'static` so that the storage actor
/// applies it itself and a row write is one request (`TableStore::update`) instead of
/// two (`latest`, then `put`). Only for statements whose expressions are
/// self-contained (`Expr::is_self_contained`: no function reads session facts, no
/// subquery): pgbench's `SET abalance = abalance + $1 WHERE aid = $2` is one.
#[derive(Debug)]
pub struct PlannedChange {
    table: Arc<TableDef>,
    filter: Option<Expr>,
    /// `None`: DELETE.
    sets: Option<Vec<(usize, Expr)>>,
    checks: Vec<BoundCheck>,
    params: Vec<Value>,
    facts: SessionFacts,
}

impl PlannedChange {
    /// The change, if every expression in it is self-contained.
    fn new(
        table: &Arc<TableDef>,
        filter: Option<&Expr>,
        sets: Option<&[(usize, Expr)]>,
        checks: &[BoundCheck],
        params: &[Value],
    ) -> Option<Arc<PlannedChange>> {
        let exprs = filter
            .into_iter()
            .chain(sets.into_iter().flatten().map(|(_, e)| e))
            .chain(checks.iter().map(|c| &c.expr));
        let mut all = exprs;
        if !all.all(Expr::is_self_contained) {
            return None;
        }
        // A primary-key change moves the row to another key (`put_row`), which the
        // actor's one-key update cannot do.
        let pk = table.primary_key.as_deref().unwrap_or(&[]);
        if sets.is_some_and(|sets| sets.iter().any(|(c, _)| pk.contains(c))) {
            return None;
        }
        Some(Arc::new(PlannedChange {
            table: table.clone(),
            filter: filter.cloned(),
            sets: sets.map(<[_]>::to_vec),
            checks: checks.to_vec(),
            params: params.to_vec(),
            facts: SessionFacts::default(),
        }))
    }
}

/// The columns a foreign key can reference (PostgreSQL's "key columns"): those of the
/// primary key and of every UNIQUE index. An UPDATE that changes none of them holds the
/// row FOR NO KEY UPDATE, so that a FOR KEY SHARE lock (a foreign-key check) does not
/// wait for it.
pub fn key_columns(table: &TableDef) -> Vec<usize> {
    let mut cols: Vec<usize> = table.primary_key.clone().unwrap_or_default();
    for ix in table.indexes.iter().filter(|i| i.unique) {
        cols.extend(&ix.columns);
    }
    cols
}

/// The strength a write of `old` into `new` (`None`: a delete) holds the row with.
pub fn write_mode(table: &TableDef, old: &[Value], new: Option<&Row>) -> RowLockMode {
    let Some(new) = new else { return RowLockMode::Update };
    // Per row on the hot path (pgbench's UPDATEs): no allocation.
    let changed = |cols: &[usize]| cols.iter().any(|&c| old[c] != new[c]);
    let pk = table.primary_key.as_deref().unwrap_or(&[]);
    if changed(pk) || table.indexes.iter().any(|i| i.unique && changed(&i.columns)) {
        RowLockMode::Update
    } else {
        RowLockMode::NoKeyUpdate
    }
}

impl RowChange for PlannedChange {
    fn mode(&self, old: &Row, new: Option<&Row>) -> RowLockMode {
        write_mode(&self.table, old, new)
    }

    fn apply(&self, old: &Row) -> Result<Option<Option<Row>>> {
        let ectx = EvalCtx { params: &self.params, outer: None, session: &self.facts, subs: &[] };
        if let Some(f) = &self.filter {
            if !f.matches(old, &ectx)? {
                return Ok(None);
            }
        }
        let Some(sets) = &self.sets else { return Ok(Some(None)) };
        let mut new = old.to_vec();
        for (col, e) in sets {
            new[*col] = e.eval(old, &ectx)?;
        }
        check_constraints(&self.table, &self.checks, &new, &ectx)?;
        Ok(Some(Some(new.into())))
    }
}

/// [`write_row`] in one storage request, for a change the actor applies itself.
async fn write_row_in_actor(
    w: &mut WriteCtx<'_>,
    table: &TableDef,
    store: &TableStore,
    key: &Key,
    change: &Arc<PlannedChange>,
) -> Result<Option<(Row, Option<Row>)>> {
    w.before_write();
    loop {
        let change: Arc<dyn RowChange> = change.clone();
        match store.update(w.status, w.view, w.isolation, key.clone(), change, w.horizon).await? {
            Updated::Written(old, new) => {
                w.writes.insert((table.id, key.clone()), new.clone());
                return Ok(Some((old, new)));
            }
            Updated::Skipped => return Ok(None),
            Updated::Blocked(holder) => w.wait_for(holder).await?,
            Updated::Unique(ix, old, new) => {
                return Err(duplicate_in(table, ix, &new.unwrap_or(old)));
            }
        }
    }
}

/// What a DML statement did: how many rows, and its RETURNING rows.
pub type Written = (u64, Vec<Vec<Value>>);

/// RETURNING's output for one written row.
fn returned(
    r: &Option<Returning>,
    row: &[Value],
    ectx: &EvalCtx<'_>,
    out: &mut Vec<Vec<Value>>,
) -> Result<()> {
    if let Some(r) = r {
        out.push(r.exprs.iter().map(|e| e.eval(row, ectx)).collect::<Result<Vec<_>>>()?);
    }
    Ok(())
}

/// Runs an INSERT; returns the number of rows and the RETURNING rows.
pub async fn insert(w: &mut WriteCtx<'_>, plan: &InsertPlan, q: &QueryCtx<'_>) -> Result<Written> {
    let table = &plan.table;
    let store = w.storage.table(table.id)?;
    let ectx = q.eval_ctx(None);
    let rows: Vec<Vec<Value>> = match &plan.source {
        InsertSource::Values(rows) => {
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                out.push(super::exec::eval_all(r, &[], q, None).await?);
            }
            out
        }
        InsertSource::Query(qp, casts) => {
            let rows = run(&qp.rel, q, None).await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                let mut v = Vec::with_capacity(r.len());
                for (x, (from, to)) in r.into_iter().zip(casts) {
                    v.push(if x.is_null() || from == to {
                        x
                    } else {
                        crate::types::assign_cast(&x, from, to)?
                    });
                }
                out.push(v);
            }
            out
        }
    };
    let mut full = Vec::with_capacity(rows.len());
    for values in rows {
        let mut row = vec![Value::Null; table.columns.len()];
        for (v, &col) in values.into_iter().zip(&plan.targets) {
            row[col] = v;
        }
        for (col, e) in &plan.defaults {
            row[*col] = e.eval(&[], &ectx)?;
        }
        check_constraints(table, &plan.checks, &row, &ectx)?;
        full.push(row);
    }
    if let Some(action) = &plan.on_conflict {
        return upsert(w, plan, action, &store, full, q).await;
    }
    let mut out = Vec::new();
    if let Some(r) = &plan.returning {
        for row in &full {
            out.push(super::exec::eval_all(&r.exprs, row, q, None).await?);
        }
    }
    if table.foreign_keys.is_empty() {
        return Ok((insert_rows(w, table, &store, full).await?, out));
    }
    // Checked after the rows are in, as PostgreSQL's AFTER triggers do: a row may
    // reference one inserted before it by the same statement.
    let n = insert_rows(w, table, &store, full.clone()).await?;
    for row in &full {
        foreign_keys::check_references(w, q.catalog, table, row, None).await?;
    }
    Ok((n, out))
}

/// INSERT … ON CONFLICT, a row at a time, race-free as PostgreSQL's: try the insert;
/// if the key is taken, DO NOTHING skips the row, and DO UPDATE updates the row that
/// holds it (READ COMMITTED: its newest committed version, even one the snapshot does
/// not see; REPEATABLE READ: 40001 if the snapshot does not see it), after waiting for
/// whoever writes it. A row deleted meanwhile is inserted after all.
/// ```text
///  insert ─ok──────────────────────────────────▶ inserted
///    │ Blocked(T): wait for T, again
///    │ Duplicate ─ DO NOTHING ─────────────────▶ skipped
///    └────────── DO UPDATE: latest ─ Row ─ WHERE? ─ put ─ok─▶ updated
///                             │ Blocked(T): wait, again   └ Changed: again
///                             └ Skipped (deleted since): again from the insert
/// ```
async fn upsert(
    w: &mut WriteCtx<'_>,
    plan: &InsertPlan,
    action: &OnConflict,
    store: &TableStore,
    rows: Vec<Vec<Value>>,
    q: &QueryCtx<'_>,
) -> Result<Written> {
    let ectx = &q.eval_ctx(None);
    let table = &plan.table;
    let refs = match action {
        OnConflict::Update { sets, .. }
            if sets.iter().any(|(c, _)| key_columns(table).contains(c)) =>
        {
            foreign_keys::referencing(q.catalog, table)
        }
        _ => Vec::new(),
    };
    let (mut n, mut out) = (0, Vec::new());
    let mut touched: std::collections::HashSet<Key> = std::collections::HashSet::new();
    // DO UPDATE builds on the newest committed version under READ COMMITTED.
    let newest = ReadView { snapshot: CommitTs(u64::MAX - 1), txn: w.view.txn };
    let view = if w.isolation == Isolation::ReadCommitted { newest } else { w.view };
    // PostgreSQL locks a row DO UPDATE leaves alone (its WHERE is false) as strongly as
    // the update would have held it.
    let sets_mode = match action {
        OnConflict::Update { sets, .. }
            if sets.iter().any(|(c, _)| key_columns(table).contains(c)) =>
        {
            RowLockMode::Update
        }
        _ => RowLockMode::NoKeyUpdate,
    };
    let arbiter = match action {
        OnConflict::Nothing(a) | OnConflict::Update { arbiter: a, .. } => *a,
    };
    w.before_write();
    for proposed in rows {
        let key = row_key(table, store, &proposed);
        let proposed: Row = proposed.into();
        loop {
            let target: Key = match store
                .insert(w.status, vec![(key.clone(), proposed.clone())])
                .await?
            {
                Ok(()) => {
                    returned(&plan.returning, &proposed, ectx, &mut out)?;
                    w.writes.insert((table.id, key.clone()), Some(proposed.clone()));
                    foreign_keys::check_references(w, q.catalog, table, &proposed, None).await?;
                    touched.insert(key.clone());
                    n += 1;
                    break;
                }
                Err(Refused { why: InsertConflict::Blocked(holder), .. }) => {
                    w.wait_for(holder).await?;
                    continue;
                }
                Err(Refused { why: InsertConflict::Retired, .. }) => return Err(concurrent_ddl()),
                // A conflict in a key that is not the arbiter is an error, as in
                // PostgreSQL.
                Err(Refused { why: InsertConflict::Unique(ix), .. }) => {
                    if !matches!(arbiter, Arbiter::Any) && arbiter != Arbiter::Index(ix) {
                        return Err(duplicate_in(table, ix, &proposed));
                    }
                    // The row holding the key (committed, or our own): a row that
                    // left it meanwhile sends us back to the insert.
                    match holder_of(store, table, ix, &proposed, newest).await? {
                        Some(pk) => pk,
                        None => continue,
                    }
                }
                Err(Refused { why: InsertConflict::Duplicate, .. }) => {
                    if !matches!(arbiter, Arbiter::Any | Arbiter::PrimaryKey) {
                        return Err(duplicate_key(table, &proposed));
                    }
                    key.clone()
                }
            };
            let OnConflict::Update { sets, filter, .. } = action else { break };
            if touched.contains(&target) {
                return Err(Error::new(
                    ErrorKind::CardinalityViolation,
                    "ON CONFLICT DO UPDATE command cannot affect row a second time",
                )
                .with_hint(
                    "Ensure that no rows proposed for insertion within the same command have duplicate constrained values.",
                ));
            }
            let base = match store.latest(view, w.isolation, target.clone()).await? {
                Latest::Row(base) => base,
                Latest::Blocked(holder) => {
                    w.wait_for(holder).await?;
                    continue;
                }
                Latest::Skipped if w.isolation == Isolation::RepeatableRead => {
                    return Err(Error::serialization_update())
                }
                Latest::Skipped => continue,
            };
            let Some(existing) = base.row.clone() else { continue };
            let both: Vec<Value> = existing.iter().chain(proposed.iter()).cloned().collect();
            if let Some(f) = filter {
                if !f.matches(&both, ectx)? {
                    // Not updated, but locked, as PostgreSQL does.
                    match store.lock(w.status, target.clone(), base, sets_mode).await? {
                        PutOutcome::Written => {}
                        PutOutcome::Blocked(holder) => {
                            w.wait_for(holder).await?;
                            continue;
                        }
                        PutOutcome::Changed | PutOutcome::Unique(_) => continue,
                    }
                    touched.insert(target.clone());
                    break;
                }
            }
            let mut new = existing.to_vec();
            for (col, e) in sets {
                new[*col] = e.eval(&both, ectx)?;
            }
            check_constraints(table, &plan.checks, &new, ectx)?;
            let new: Row = new.into();
            match put_row(w, table, store, &target, base, &existing, &Some(new.clone())).await? {
                PutOutcome::Written => {
                    returned(&plan.returning, &new, ectx, &mut out)?;
                    let set: Vec<usize> = sets.iter().map(|(c, _)| *c).collect();
                    foreign_keys::check_references(w, q.catalog, table, &new, Some(&set)).await?;
                    if !refs.is_empty() {
                        foreign_keys::on_parent_write(
                            w,
                            q.catalog,
                            table,
                            &refs,
                            &existing,
                            Some(&new),
                        )
                        .await?;
                    }
                    touched.insert(target.clone());
                    // A key the row moved to (DO UPDATE SET of the key) is that row too.
                    touched.extend(primary_key_of(table, &new));
                    n += 1;
                    break;
                }
                PutOutcome::Changed => continue,
                PutOutcome::Blocked(holder) => {
                    w.wait_for(holder).await?;
                    continue;
                }
                PutOutcome::Unique(ix) => return Err(duplicate_in(table, ix, &new)),
            }
        }
    }
    Ok((n, out))
}

/// The primary key of the row whose key in the UNIQUE index at position `ix` is
/// `row`'s, read with `view` (the newest committed rows and our own); `None` if no
/// such row is there any more.
async fn holder_of(
    store: &TableStore,
    table: &TableDef,
    ix: usize,
    row: &[Value],
    view: ReadView,
) -> Result<Option<Key>> {
    let Some(index) = table.indexes.get(ix) else {
        return Err(Error::internal("a unique conflict in an unknown index"));
    };
    let vals: Vec<Value> = index.columns.iter().map(|&c| row[c].clone()).collect();
    let mut k = Vec::new();
    encode_key(&vals, &mut k);
    let k: Key = k.into_boxed_slice();
    let found = store
        .index_scan(view, &index.name, Bound::Included(k.clone()), Bound::Included(k), usize::MAX)
        .await?;
    Ok(found.into_iter().next().map(|(pk, _)| pk))
}

/// Keys of the rows a WHERE selects, under the statement's snapshot.
async fn candidates(
    store: &TableStore,
    table: &TableDef,
    access: &Access,
    filter: Option<&Expr>,
    view: ReadView,
    ectx: &EvalCtx<'_>,
) -> Result<Vec<Key>> {
    let mut keys = Vec::new();
    read(store, view, table, access, ectx, true, None, |key, row| {
        if filter.map(|f| f.matches(&row, ectx)).transpose()?.unwrap_or(true) {
            keys.extend(key);
        }
        Ok(ControlFlow::Continue(()))
    })
    .await?;
    Ok(keys)
}

/// Runs an UPDATE; returns the number of rows changed and the RETURNING rows.
pub async fn update(w: &mut WriteCtx<'_>, plan: &UpdatePlan, q: &QueryCtx<'_>) -> Result<Written> {
    if super::dml_from::handles_update(plan) {
        return super::dml_from::update(w, plan, q).await;
    }
    let table = &plan.table;
    let store = w.storage.table(table.id)?;
    let ectx = q.eval_ctx(None);
    let keys = candidates(&store, table, &plan.access, plan.filter.as_ref(), w.view, &ectx).await?;
    let mut n = 0;
    let mut out = Vec::new();
    let change =
        PlannedChange::new(table, plan.filter.as_ref(), Some(&plan.sets), &plan.checks, q.params);
    let set_cols: Vec<usize> = plan.sets.iter().map(|(c, _)| *c).collect();
    let fks = FkDuty::update(q.catalog, table, &set_cols);
    for key in keys {
        let outcome = match &change {
            Some(change) => write_row_in_actor(w, table, &store, &key, change).await?,
            None => {
                write_row(w, table, &store, &key, &|old| {
                    if let Some(f) = &plan.filter {
                        if !f.matches(old, &ectx)? {
                            return Ok(None);
                        }
                    }
                    let mut new = old.to_vec();
                    for (col, e) in &plan.sets {
                        new[*col] = e.eval(old, &ectx)?;
                    }
                    check_constraints(table, &plan.checks, &new, &ectx)?;
                    Ok(Some(Some(new.into())))
                })
                .await?
            }
        };
        if let Some((old, new)) = outcome {
            if let Some(row) = &new {
                returned(&plan.returning, row, &ectx, &mut out)?;
            }
            n += 1;
            fks.after_write(w, q.catalog, table, &old, new.as_ref()).await?;
        }
    }
    Ok((n, out))
}

/// Runs a DELETE; returns the number of rows deleted and the RETURNING rows.
pub async fn delete(w: &mut WriteCtx<'_>, plan: &DeletePlan, q: &QueryCtx<'_>) -> Result<Written> {
    if super::dml_from::handles_delete(plan) {
        return super::dml_from::delete(w, plan, q).await;
    }
    delete_where(w, &plan.table, &plan.access, plan.filter.as_ref(), &plan.returning, q).await
}

/// Deletes the rows of `table` that `filter` selects (every row when `None`).
pub async fn delete_where(
    w: &mut WriteCtx<'_>,
    table: &Arc<TableDef>,
    access: &Access,
    filter: Option<&Expr>,
    returning: &Option<Returning>,
    q: &QueryCtx<'_>,
) -> Result<Written> {
    let store = w.storage.table(table.id)?;
    let ectx = q.eval_ctx(None);
    let keys = candidates(&store, table, access, filter, w.view, &ectx).await?;
    let mut n = 0;
    let mut out = Vec::new();
    let change = PlannedChange::new(table, filter, None, &[], q.params);
    let fks = FkDuty::delete(q.catalog, table);
    for key in keys {
        let outcome = match &change {
            Some(change) => write_row_in_actor(w, table, &store, &key, change).await?,
            None => {
                write_row(w, table, &store, &key, &|old| {
                    if let Some(f) = filter {
                        if !f.matches(old, &ectx)? {
                            return Ok(None);
                        }
                    }
                    Ok(Some(None))
                })
                .await?
            }
        };
        if let Some((old, _)) = outcome {
            returned(returning, &old, &ectx, &mut out)?;
            n += 1;
            fks.after_write(w, q.catalog, table, &old, None).await?;
        }
    }
    Ok((n, out))
}
