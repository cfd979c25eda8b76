//! UPDATE / DELETE that read more than the target row: a FROM (USING) list joined to
//! the target, or subqueries in SET, WHERE or RETURNING.
//!
//! A statement runs in two phases, as PostgreSQL's ModifyTable over a join does:
//!
//! ```text
//!  1. find   FROM rows (read once) ─┬─ per FROM row: key lookup on the target ─┐
//!                                   └─ or: target read once, hash/loop join ───┤
//!           WHERE on target ++ FROM row (subqueries computed for that row)     │
//!           → (target key, the FROM row it joined); a target row joins at most ◀┘
//!             once: the first FROM row found wins (PostgreSQL's rule too)
//!  2. write, per (key, FROM row), a compare-and-set loop:
//!      latest(key) ── Blocked(T): wait for T, again ── Skipped / deleted: skip
//!        │ the newest version (READ COMMITTED) or 40001 (REPEATABLE READ)
//!      subqueries of WHERE and SET on newest ++ FROM row   (async, here)
//!      WHERE again on newest ++ FROM row: no longer true → skip (EvalPlanQual)
//!      SET, CHECK → put(key, expect = that version, new)
//!        └ Changed (someone wrote it in between): again from latest
//!  3. RETURNING on new (DELETE: old) ++ FROM row, its subqueries computed for it
//! ```
//!
//! Why not `dml::write_row`: its closure over the newest version is synchronous, and a
//! subquery is a storage read that must be awaited. Here the subqueries are computed
//! between `latest` and `put`, for the very version `put` expects; if the row changes
//! in between, `put` says `Changed` and everything is recomputed for the newer version
//! — a correlated subquery is re-evaluated for it, as PostgreSQL's EvalPlanQual does.
//! Subqueries read the statement's snapshot (also in the re-check), and so does
//! PostgreSQL's. The FROM row is not re-read in the re-check: PostgreSQL re-uses the
//! joined row of an unlocked FROM table the same way.

use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;

use crate::catalog::TableDef;
use crate::error::Result;
use crate::storage::{Key, ReadView, Row, TableStore};
use crate::sync::Arc;
use crate::types::{encode_key, Value};

use super::access::read;
use super::dml::{check_constraints, write_row_with, WriteCtx, Written};
use super::exec::{eval_all, run, sub_results, QueryCtx};
use super::expr::{EvalCtx, Expr};
use super::foreign_keys::FkDuty;
use super::plan::{Access, BoundCheck, DeletePlan, DmlFrom, Returning, UpdatePlan};

/// True if this UPDATE runs here: it has a FROM list or a subquery.
pub fn handles_update(plan: &UpdatePlan) -> bool {
    plan.from.is_some()
        || plan.filter.as_ref().is_some_and(Expr::has_subquery)
        || plan.sets.iter().any(|(_, e)| e.has_subquery())
        || plan.returning.as_ref().is_some_and(Returning::has_subquery)
}

/// True if this DELETE runs here: it has a USING list or a subquery.
pub fn handles_delete(plan: &DeletePlan) -> bool {
    plan.from.is_some()
        || plan.filter.as_ref().is_some_and(Expr::has_subquery)
        || plan.returning.as_ref().is_some_and(Returning::has_subquery)
}

/// Runs an UPDATE with a FROM list or subqueries.
pub async fn update(w: &mut WriteCtx<'_>, plan: &UpdatePlan, q: &QueryCtx<'_>) -> Result<Written> {
    let s = Statement {
        table: &plan.table,
        access: &plan.access,
        filter: plan.filter.as_ref(),
        sets: Some(&plan.sets),
        checks: &plan.checks,
        returning: plan.returning.as_ref(),
        from: plan.from.as_deref(),
    };
    s.run(w, q).await
}

/// Runs a DELETE with a USING list or subqueries.
pub async fn delete(w: &mut WriteCtx<'_>, plan: &DeletePlan, q: &QueryCtx<'_>) -> Result<Written> {
    let s = Statement {
        table: &plan.table,
        access: &plan.access,
        filter: plan.filter.as_ref(),
        sets: None,
        checks: &[],
        returning: plan.returning.as_ref(),
        from: plan.from.as_deref(),
    };
    s.run(w, q).await
}

/// An UPDATE or DELETE, its expressions over the joined row (target ++ FROM row).
struct Statement<'p> {
    table: &'p Arc<TableDef>,
    access: &'p Access,
    filter: Option<&'p Expr>,
    /// `None`: DELETE.
    sets: Option<&'p [(usize, Expr)]>,
    checks: &'p [BoundCheck],
    returning: Option<&'p Returning>,
    from: Option<&'p DmlFrom>,
}

/// The target row followed by the FROM row.
fn joined(target: &[Value], from: &[Value]) -> Vec<Value> {
    let mut row = Vec::with_capacity(target.len() + from.len());
    row.extend_from_slice(target);
    row.extend_from_slice(from);
    row
}

/// The rows `access` selects, with their keys.
async fn read_keyed(
    store: &TableStore,
    view: ReadView,
    table: &TableDef,
    access: &Access,
    ectx: &EvalCtx<'_>,
) -> Result<Vec<(Key, Row)>> {
    let mut rows = Vec::new();
    read(store, view, table, access, ectx, true, None, |key, row| {
        rows.extend(key.map(|k| (k, row)));
        Ok(ControlFlow::Continue(()))
    })
    .await?;
    Ok(rows)
}

/// The encoded join key of `row`; `None` if a key value is NULL (it joins nothing).
fn join_key<'e>(
    exprs: impl Iterator<Item = &'e Expr>,
    row: &[Value],
    ectx: &EvalCtx<'_>,
) -> Result<Option<Vec<u8>>> {
    let mut vals = Vec::new();
    for e in exprs {
        let v = e.eval(row, ectx)?;
        if v.is_null() {
            return Ok(None);
        }
        vals.push(v);
    }
    let mut k = Vec::new();
    encode_key(&vals, &mut k);
    Ok(Some(k))
}

impl Statement<'_> {
    async fn run(&self, w: &mut WriteCtx<'_>, q: &QueryCtx<'_>) -> Result<Written> {
        let store = w.storage.table(self.table.id)?;
        let found = self.find(&store, w.view, q).await?;
        let fks = match self.sets {
            Some(sets) => {
                let set: Vec<usize> = sets.iter().map(|(c, _)| *c).collect();
                FkDuty::update(q.catalog, self.table, &set)
            }
            None => FkDuty::delete(q.catalog, self.table),
        };
        let (mut n, mut out) = (0, Vec::new());
        for (key, from_row) in found {
            let Some((old, new)) = self.write(w, &store, &key, &from_row, q).await? else {
                continue;
            };
            if let Some(r) = self.returning {
                let row = joined(new.as_deref().unwrap_or(&old), &from_row);
                out.push(eval_all(&r.exprs, &row, q, None).await?);
            }
            n += 1;
            fks.after_write(w, q.catalog, self.table, &old, new.as_ref()).await?;
        }
        Ok((n, out))
    }

    /// True if the WHERE selects the joined `row` (its subqueries computed for it).
    async fn selects(&self, row: &[Value], q: &QueryCtx<'_>) -> Result<bool> {
        let Some(f) = self.filter else { return Ok(true) };
        if !f.has_subquery() {
            return f.matches(row, &q.eval_ctx(None));
        }
        let subs = sub_results(&[f], row, q, None).await?;
        f.matches(row, &EvalCtx { subs: &subs, ..q.eval_ctx(None) })
    }

    /// Phase 1: the keys of the target rows to write, each with the FROM row it
    /// joined (empty without a FROM list), under the statement's snapshot.
    async fn find(
        &self,
        store: &TableStore,
        view: ReadView,
        q: &QueryCtx<'_>,
    ) -> Result<Vec<(Key, Vec<Value>)>> {
        let mut found = Vec::new();
        let Some(from) = self.from else {
            for (key, row) in
                read_keyed(store, view, self.table, self.access, &q.eval_ctx(None)).await?
            {
                if self.selects(&row, q).await? {
                    found.push((key, Vec::new()));
                }
            }
            return Ok(found);
        };
        let from_rows = run(&from.rel, q, None).await?;
        if let Some(lookup) = &from.lookup {
            // A key lookup per FROM row; a target row that several FROM rows reach is
            // written once, with the first.
            let mut seen: HashSet<Key> = HashSet::new();
            for f in from_rows {
                let ectx = q.eval_ctx(Some(&f));
                for (key, row) in read_keyed(store, view, self.table, lookup, &ectx).await? {
                    if seen.contains(&key) || !self.selects(&joined(&row, &f), q).await? {
                        continue;
                    }
                    seen.insert(key.clone());
                    found.push((key, f.clone()));
                }
            }
            return Ok(found);
        }
        let ectx = q.eval_ctx(None);
        let targets = read_keyed(store, view, self.table, self.access, &ectx).await?;
        let index = if from.equi.is_empty() {
            None
        } else {
            let mut index: HashMap<Vec<u8>, Vec<usize>> = HashMap::new();
            for (j, f) in from_rows.iter().enumerate() {
                if let Some(k) = join_key(from.equi.iter().map(|(_, e)| e), f, &ectx)? {
                    index.entry(k).or_default().push(j);
                }
            }
            Some(index)
        };
        let all: Vec<usize> = (0..from_rows.len()).collect();
        for (key, row) in targets {
            let candidates: &[usize] = match &index {
                None => &all,
                Some(index) => match join_key(from.equi.iter().map(|(e, _)| e), &row, &ectx)? {
                    Some(k) => index.get(&k).map_or(&[], Vec::as_slice),
                    None => &[],
                },
            };
            for &j in candidates {
                if self.selects(&joined(&row, &from_rows[j]), q).await? {
                    found.push((key, from_rows[j].clone()));
                    break;
                }
            }
        }
        Ok(found)
    }

    /// Phase 2: writes one row, re-checked on its newest version (see the module doc).
    async fn write(
        &self,
        w: &mut WriteCtx<'_>,
        store: &TableStore,
        key: &Key,
        from_row: &[Value],
        q: &QueryCtx<'_>,
    ) -> Result<Option<(Row, Option<Row>)>> {
        let with_subs: Vec<&Expr> = self
            .filter
            .into_iter()
            .chain(self.sets.into_iter().flatten().map(|(_, e)| e))
            .filter(|e| e.has_subquery())
            .collect();
        let with_subs = &with_subs;
        write_row_with(w, self.table, store, key, |old: Row| async move {
            let row = joined(&old, from_row);
            let subs = if with_subs.is_empty() {
                Vec::new()
            } else {
                sub_results(with_subs, &row, q, None).await?
            };
            let ectx = EvalCtx { subs: &subs, ..q.eval_ctx(None) };
            if let Some(f) = self.filter {
                if !f.matches(&row, &ectx)? {
                    return Ok(None);
                }
            }
            Ok(Some(match self.sets {
                None => None,
                Some(sets) => {
                    let mut new = old.to_vec();
                    for (col, e) in sets {
                        new[*col] = e.eval(&row, &ectx)?;
                    }
                    check_constraints(self.table, self.checks, &new, &ectx)?;
                    Some(new.into())
                }
            }))
        })
        .await
    }
}
