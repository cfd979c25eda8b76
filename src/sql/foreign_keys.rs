//! FOREIGN KEY enforcement (MATCH SIMPLE), PostgreSQL's RI triggers as plain code run
//! after each row a statement writes.
//!
//! ```text
//!  child row written (INSERT, UPDATE of its key columns, COPY, a SET DEFAULT action)
//!    → check_references: for each foreign key without a NULL in it, find the parent
//!      row (its primary key, or through the UNIQUE index) and lock it FOR KEY SHARE
//!      → missing: 23503 "… is not present in table "p"."
//!  parent row deleted, or its referenced columns updated
//!    → on_parent_write: the child rows still holding the old key, read as now committed
//!      → NO ACTION / RESTRICT: 23503 "… is still referenced from table "c"."
//!      → CASCADE: delete them (or give them the new key); SET NULL / SET DEFAULT
//!        update them; each such child write runs these rules again (recursion)
//! ```
//! The race that the KEY SHARE lock closes, as in PostgreSQL:
//! ```text
//!  [T1] INSERT INTO c (p_id 1) → parent row 1 locked FOR KEY SHARE by T1
//!                               [T2] DELETE FROM p WHERE id = 1 → put(UPDATE) finds
//!                                    T1's lock → Blocked(T1): waits
//!  [T1] COMMIT                  [T2] deletes row 1, finds T1's child row (committed,
//!                                    read with the newest view) → 23503
//! ```
//! and the other way round: a child insert that finds the parent's uncommitted
//! deletion waits for it, then fails (committed) or locks the row (rolled back). An
//! UPDATE of the parent that leaves its key alone holds the row FOR NO KEY UPDATE and
//! blocks nobody here.
//!
//! Shortcuts: both sides read with the newest committed view under REPEATABLE READ too
//! (PostgreSQL would fail some of those with 40001); NO ACTION is checked right after
//! the row, like RESTRICT, not at the end of the statement (so a statement that moves
//! a referenced key away and back in one go fails); the child rows are found by a
//! scan of the child table; referencing tables are found by a walk of the catalog.

use std::ops::{Bound, ControlFlow};

use crate::catalog::{Catalog, FkAction, ForeignKeyDef, TableDef};
use crate::error::{Error, ErrorKind, Result};
use crate::storage::{Isolation, Key, Latest, PutOutcome, ReadView, Row, RowLockMode};
use crate::sync::Arc;
use crate::txn::CommitTs;
use crate::types::{assign_cast, encode_key, Value, UTC};

use super::dml::{failing_text, write_row, WriteCtx};
use super::expr::{EvalCtx, SessionFacts};
use super::planner::Planner;

/// The newest committed versions and the transaction's own: what the checks read.
fn newest(w: &WriteCtx<'_>) -> ReadView {
    ReadView { snapshot: CommitTs(u64::MAX - 1), txn: w.view.txn }
}

/// `values` as the parent's column types (a key compares and encodes by type). The
/// zone is UTC: a foreign key between timestamp and timestamptz columns is refused
/// when it is created, so no cast here reads one.
fn as_parent(
    parent: &TableDef,
    fk: &ForeignKeyDef,
    child: &TableDef,
    row: &[Value],
) -> Result<Vec<Value>> {
    fk.columns
        .iter()
        .zip(&fk.parent_columns)
        .map(|(&c, &p)| assign_cast(&row[c], &child.columns[c].ty, &parent.columns[p].ty, UTC))
        .collect()
}

fn key_text(table: &TableDef, cols: &[usize], vals: &[Value]) -> String {
    let names: Vec<&str> = cols.iter().map(|&c| table.columns[c].name.as_str()).collect();
    let vals: Vec<String> =
        cols.iter().zip(vals).map(|(&c, v)| failing_text(v, &table.columns[c].ty)).collect();
    format!("Key ({})=({})", names.join(", "), vals.join(", "))
}

/// Checks the foreign keys of `child` for its new `row` and locks each parent row FOR
/// KEY SHARE (23503 if one is missing): all of them, or (`changed`) those with a
/// column among the ones an UPDATE set.
pub async fn check_references(
    w: &mut WriteCtx<'_>,
    catalog: &Catalog,
    child: &TableDef,
    row: &[Value],
    changed: Option<&[usize]>,
) -> Result<()> {
    for fk in &child.foreign_keys {
        if changed.is_some_and(|set| !fk.columns.iter().any(|c| set.contains(c))) {
            continue;
        }
        if fk.columns.iter().any(|&c| row[c].is_null()) {
            continue; // MATCH SIMPLE
        }
        // The parent cannot be missing while a key names it (DROP TABLE and RENAME
        // TO change the key with it): this statement was planned before such a change.
        let parent = catalog.table(&fk.parent_schema, &fk.parent).ok_or_else(definition_changed)?;
        let vals = as_parent(&parent, fk, child, row)?;
        if !lock_parent(w, &parent, fk, &vals).await? {
            return Err(not_present(child, fk, row, &parent.name));
        }
    }
    Ok(())
}

fn definition_changed() -> Error {
    Error::new(
        ErrorKind::SerializationFailure,
        "could not serialize access: the relation was dropped or rewritten concurrently",
    )
}

/// 23503 for a child row whose parent row is missing.
fn not_present(child: &TableDef, fk: &ForeignKeyDef, row: &[Value], parent: &str) -> Error {
    let raw: Vec<Value> = fk.columns.iter().map(|&c| row[c].clone()).collect();
    Error::new(
        ErrorKind::ForeignKeyViolation,
        format!(
            "insert or update on table \"{}\" violates foreign key constraint \"{}\"",
            child.name, fk.name
        ),
    )
    .with_detail(format!(
        "{} is not present in table \"{parent}\".",
        key_text(child, &fk.columns, &raw)
    ))
}

/// ALTER TABLE … ADD FOREIGN KEY: every row of `child_rows` without a NULL in the key
/// must find its parent among `parent_rows` (PostgreSQL's initial check); 23503 for
/// the first that does not. Sans IO: the caller has both tables retired, so these are
/// all their rows.
pub fn check_existing<'r>(
    child: &TableDef,
    fk: &ForeignKeyDef,
    parent: &TableDef,
    parent_rows: impl Iterator<Item = &'r [Value]>,
    child_rows: impl Iterator<Item = &'r [Value]>,
) -> Result<()> {
    let encoded = |vals: &[Value]| {
        let mut k = Vec::new();
        encode_key(vals, &mut k);
        k
    };
    let keys: std::collections::HashSet<Vec<u8>> = parent_rows
        .map(|r| encoded(&fk.parent_columns.iter().map(|&p| r[p].clone()).collect::<Vec<_>>()))
        .collect();
    for row in child_rows {
        if fk.columns.iter().any(|&c| row[c].is_null()) {
            continue; // MATCH SIMPLE
        }
        let found = as_parent(parent, fk, child, row).is_ok_and(|v| keys.contains(&encoded(&v)));
        if !found {
            return Err(not_present(child, fk, row, &parent.name));
        }
    }
    Ok(())
}

/// Finds the parent row with `vals` in `fk.parent_columns` and locks it FOR KEY SHARE;
/// false if there is none.
async fn lock_parent(
    w: &mut WriteCtx<'_>,
    parent: &TableDef,
    fk: &ForeignKeyDef,
    vals: &[Value],
) -> Result<bool> {
    let store = w.storage.table(parent.id)?;
    let view = newest(w);
    let in_order = |cols: &[usize]| -> Vec<Value> {
        cols.iter()
            .filter_map(|c| fk.parent_columns.iter().position(|p| p == c).map(|j| vals[j].clone()))
            .collect()
    };
    let same_set = |cols: &[usize]| {
        cols.len() == fk.parent_columns.len() && cols.iter().all(|c| fk.parent_columns.contains(c))
    };
    w.before_write();
    loop {
        // The parent row's primary key (or row id, through the UNIQUE index).
        let key: Key = match &parent.primary_key {
            Some(pk) if same_set(pk) => {
                let mut k = Vec::new();
                encode_key(&in_order(pk), &mut k);
                k.into_boxed_slice()
            }
            _ => {
                let Some(ix) = parent.indexes.iter().find(|i| i.unique && same_set(&i.columns))
                else {
                    return Err(Error::internal("a foreign key without its unique index"));
                };
                let mut k = Vec::new();
                encode_key(&in_order(&ix.columns), &mut k);
                let k: Key = k.into_boxed_slice();
                let found = store
                    .index_scan(
                        view,
                        &ix.name,
                        Bound::Included(k.clone()),
                        Bound::Included(k),
                        usize::MAX,
                    )
                    .await?;
                match found.into_iter().next() {
                    Some((pk, _)) => pk,
                    None => return Ok(false),
                }
            }
        };
        let holder = match store
            .latest_for(view, Isolation::ReadCommitted, key.clone(), RowLockMode::KeyShare)
            .await?
        {
            Latest::Skipped => return Ok(false),
            Latest::Blocked(holder) => holder,
            Latest::Row(base) => {
                let Some(row) = &base.row else { return Ok(false) };
                let still = fk.parent_columns.iter().zip(vals).all(|(&p, v)| row[p] == *v);
                if !still {
                    continue;
                }
                match store.lock(w.status, key, base, RowLockMode::KeyShare).await? {
                    PutOutcome::Written => return Ok(true),
                    PutOutcome::Blocked(holder) => holder,
                    PutOutcome::Changed | PutOutcome::Unique(_) => continue,
                }
            }
        };
        w.wait_for(holder).await?;
    }
}

/// The foreign keys (of any table) that reference `parent`. (The order is the
/// catalog's, which is also the order their actions run in.)
pub fn referencing(catalog: &Catalog, parent: &TableDef) -> Vec<(Arc<TableDef>, ForeignKeyDef)> {
    let mut out = Vec::new();
    for t in catalog.all() {
        for fk in t.foreign_keys.iter().filter(|f| f.references(parent)) {
            out.push((t.clone(), fk.clone()));
        }
    }
    out
}

/// What an UPDATE's or DELETE's row writes owe the foreign keys, worked out once per
/// statement: the child check (when the statement sets a referencing column) and the
/// parent actions (when it deletes rows, or sets a key column others may reference).
#[derive(Debug, Default)]
pub struct FkDuty {
    /// The columns an UPDATE sets, when one of them references a parent.
    child_sets: Option<Vec<usize>>,
    /// The foreign keys that reference the table, when its writes can break them.
    refs: Vec<(Arc<TableDef>, ForeignKeyDef)>,
}

impl FkDuty {
    /// For an UPDATE of `table` setting columns `set`.
    pub fn update(catalog: &Catalog, table: &TableDef, set: &[usize]) -> FkDuty {
        let sets = |cols: &[usize]| set.iter().any(|c| cols.contains(c));
        let child = table.foreign_keys.iter().any(|f| sets(&f.columns));
        let refs = if sets(&super::dml::key_columns(table)) {
            referencing(catalog, table)
        } else {
            Vec::new()
        };
        FkDuty { child_sets: child.then(|| set.to_vec()), refs }
    }

    /// For a DELETE from `table`.
    pub fn delete(catalog: &Catalog, table: &TableDef) -> FkDuty {
        FkDuty { child_sets: None, refs: referencing(catalog, table) }
    }

    /// Runs the checks and actions for one row written: `old` became `new` (`None`:
    /// deleted).
    pub async fn after_write(
        &self,
        w: &mut WriteCtx<'_>,
        catalog: &Catalog,
        table: &TableDef,
        old: &Row,
        new: Option<&Row>,
    ) -> Result<()> {
        if let (Some(set), Some(row)) = (&self.child_sets, new) {
            check_references(w, catalog, table, row, Some(set)).await?;
        }
        if !self.refs.is_empty() {
            on_parent_write(w, catalog, table, &self.refs, old, new).await?;
        }
        Ok(())
    }
}

/// Runs the foreign keys' actions for a parent row `old` that was deleted (`new` is
/// `None`) or updated to `new`, for the foreign keys `refs` that reference it.
pub async fn on_parent_write(
    w: &mut WriteCtx<'_>,
    catalog: &Catalog,
    parent: &TableDef,
    refs: &[(Arc<TableDef>, ForeignKeyDef)],
    old: &Row,
    new: Option<&Row>,
) -> Result<()> {
    for (child, fk) in refs {
        let old_key: Vec<Value> = fk.parent_columns.iter().map(|&p| old[p].clone()).collect();
        if old_key.iter().any(Value::is_null) {
            continue;
        }
        if let Some(new) = new {
            if fk.parent_columns.iter().all(|&p| old[p] == new[p]) {
                continue;
            }
        }
        let action = if new.is_some() { fk.on_update } else { fk.on_delete };
        let refers = |row: &[Value]| -> bool {
            as_parent(parent, fk, child, row).map(|v| v == old_key).unwrap_or(false)
        };
        let store = w.storage.table(child.id)?;
        let mut keys: Vec<Key> = Vec::new();
        store
            .scan(newest(w), Bound::Unbounded, Bound::Unbounded, true, |key, row| {
                if refers(&row) {
                    keys.extend(key);
                }
                Ok(ControlFlow::Continue(()))
            })
            .await?;
        if keys.is_empty() {
            continue;
        }
        if matches!(action, FkAction::NoAction | FkAction::Restrict) {
            return Err(Error::new(
                ErrorKind::ForeignKeyViolation,
                format!(
                    "update or delete on table \"{}\" violates foreign key constraint \"{}\" on table \"{}\"",
                    parent.name, fk.name, child.name
                ),
            )
            .with_detail(format!(
                "{} is still referenced from table \"{}\".",
                key_text(parent, &fk.parent_columns, &old_key),
                child.name
            )));
        }
        let sets: Vec<(usize, Value)> = match (action, new) {
            (FkAction::Cascade, None) => Vec::new(),
            (FkAction::Cascade, Some(new)) => fk
                .columns
                .iter()
                .zip(&fk.parent_columns)
                .map(|(&c, &p)| {
                    Ok((c, assign_cast(&new[p], &parent.columns[p].ty, &child.columns[c].ty, UTC)?))
                })
                .collect::<Result<_>>()?,
            (FkAction::SetNull, _) => fk.columns.iter().map(|&c| (c, Value::Null)).collect(),
            _ => defaults(catalog, child, &fk.columns)?,
        };
        let delete = action == FkAction::Cascade && new.is_none();
        for key in keys {
            child_write(w, catalog, child, &store, &key, &refers, delete, &sets).await?;
        }
    }
    Ok(())
}

/// The defaults of `cols` of `table` (SET DEFAULT), evaluated now.
fn defaults(catalog: &Catalog, table: &TableDef, cols: &[usize]) -> Result<Vec<(usize, Value)>> {
    let mut planner = Planner::new(catalog, &table.own_path(), &[])?;
    let facts = SessionFacts::default();
    let ectx = EvalCtx { params: &[], outer: None, session: &facts, subs: &[] };
    cols.iter().map(|&c| Ok((c, planner.default_of(table, c)?.eval(&[], &ectx)?))).collect()
}

/// One referencing row's action: deleted, or its key columns set; then the rules run
/// again for that row (as a child if its key changed, as a parent for its own children).
#[allow(clippy::too_many_arguments)]
async fn child_write(
    w: &mut WriteCtx<'_>,
    catalog: &Catalog,
    child: &Arc<TableDef>,
    store: &crate::storage::TableStore,
    key: &Key,
    refers: &(dyn Fn(&[Value]) -> bool + Sync),
    delete: bool,
    sets: &[(usize, Value)],
) -> Result<()> {
    let saved = w.view;
    w.view = newest(w);
    let written = write_row(w, child, store, key, &|old| {
        if !refers(old) {
            return Ok(None);
        }
        if delete {
            return Ok(Some(None));
        }
        let mut new = old.to_vec();
        for (c, v) in sets {
            new[*c] = v.clone();
        }
        super::dml::check_not_null(child, &new)?;
        Ok(Some(Some(new.into())))
    })
    .await;
    w.view = saved;
    let Some((old, new)) = written? else { return Ok(()) };
    if let Some(new) = &new {
        let set: Vec<usize> = sets.iter().map(|(c, _)| *c).collect();
        Box::pin(check_references(w, catalog, child, new, Some(&set))).await?;
    }
    let refs = referencing(catalog, child);
    if !refs.is_empty() {
        Box::pin(on_parent_write(w, catalog, child, &refs, &old, new.as_ref())).await?;
    }
    Ok(())
}

/// TRUNCATE of a table that another table (not truncated with it) references: 0A000,
/// as PostgreSQL.
pub fn check_truncate(catalog: &Catalog, tables: &[Arc<TableDef>]) -> Result<()> {
    for t in tables {
        for (child, _) in referencing(catalog, t) {
            if !tables.iter().any(|x| x.oid == child.oid) {
                return Err(Error::new(
                    ErrorKind::FeatureNotSupported,
                    "cannot truncate a table referenced in a foreign key constraint",
                )
                .with_detail(format!("Table \"{}\" references \"{}\".", child.name, t.name))
                .with_hint(format!(
                    "Truncate table \"{}\" at the same time, or use TRUNCATE ... CASCADE.",
                    child.name
                )));
            }
        }
    }
    Ok(())
}

/// The foreign keys of tables not among `dropped` that reference one of them, as
/// (holding table, key): what DROP TABLE of `dropped` would break.
pub fn referencing_from_outside(
    catalog: &Catalog,
    dropped: &[Arc<TableDef>],
) -> Vec<(Arc<TableDef>, ForeignKeyDef)> {
    dropped
        .iter()
        .flat_map(|d| in_creation_order(referencing(catalog, d)))
        .filter(|(child, _)| !dropped.iter().any(|d| d.oid == child.oid))
        .collect()
}

/// `keys` (as [`referencing`] gives them) in the order they were created (their
/// tables' oids), as PostgreSQL's messages list dependent objects.
pub fn in_creation_order(
    mut keys: Vec<(Arc<TableDef>, ForeignKeyDef)>,
) -> Vec<(Arc<TableDef>, ForeignKeyDef)> {
    keys.sort_by_key(|(t, _)| t.oid);
    keys
}

/// DROP TABLE of a table that another table (not dropped with it) references: 2BP01,
/// naming relations with `shown` (bare where visible on the session's path).
pub fn check_drop(
    catalog: &Catalog,
    dropped: &[Arc<TableDef>],
    shown: &dyn Fn(&str, &str) -> String,
) -> Result<()> {
    for d in dropped {
        let deps: Vec<String> = in_creation_order(referencing(catalog, d))
            .into_iter()
            .filter(|(child, _)| !dropped.iter().any(|x| x.oid == child.oid))
            .map(|(child, fk)| {
                let parent = shown(&d.schema, &d.name);
                let child = shown(&child.schema, &child.name);
                format!("constraint {} on table {child} depends on table {parent}", fk.name)
            })
            .collect();
        if !deps.is_empty() {
            let parent = shown(&d.schema, &d.name);
            return Err(super::planner::dependents_error(&format!("table {parent}"), deps));
        }
    }
    Ok(())
}
