//! Running ALTER TABLE: every form rewrites the table under a new storage id, in one
//! WAL commit, as PostgreSQL's table rewrite does.
//!
//! ```text
//!  ddl lock ─▶ apply_alter(current def, actions)      (sans IO: sql/planner/alter_apply.rs)
//!          ─▶ old store: Retire(txn)                   55006 if another transaction has
//!                                                      uncommitted writes in the table
//!          ─▶ each committed chain: rows rebuilt (kept / dropped / filled columns),
//!             newest row checked (NOT NULL, CHECK), re-keyed if the key changed;
//!             UNIQUE indexes built on a fresh Partition (23505 before anything is durable)
//!          ─▶ WAL commit: catalog put (+ delete of the old name), DropTable(old id),
//!             Put of every row under the new id
//!          ─▶ new store started; catalog swapped (version bump: plans re-bind); old store
//!             forgotten
//!  any failure before the commit: Unretire, nothing changed
//! ```
//!
//! Concurrency, the simplest correct rule (PostgreSQL takes ACCESS EXCLUSIVE instead):
//! * a transaction with uncommitted writes in the table makes the ALTER fail with
//!   55006 rather than wait for it;
//! * while the table is retired every write to it is refused (40001, retried when
//!   implicit), so nothing lands in a store about to be discarded;
//! * a statement planned against the old definition reaches for the old storage id
//!   after the swap and gets 40001 (an implicit statement is re-planned and retried);
//!   so no statement ever mixes the old and the new shape of the table.
//! * the chains move with their committed history, so an older snapshot still sees
//!   the rows it saw, in the new shape (PostgreSQL would have blocked it instead).
//!
//! Refused with 0A000: renaming or dropping what a SERIAL / identity sequence's
//! ownership names (the sequence's record would need rewriting too).

use super::*;
use crate::sql::expr::EvalCtx;
use crate::sql::plan::RelName;
use crate::sql::planner::{apply_alter, AlterAction, Altered, Source};

impl Session {
    /// ALTER TABLE `name` `actions`.
    pub(super) async fn alter_table(
        &mut self,
        engine: &Arc<Engine>,
        name: &RelName,
        if_exists: bool,
        actions: &[AlterAction],
    ) -> Result<String> {
        let Some((schema, name)) = self.resolve_target(name, if_exists)? else {
            return Ok("ALTER TABLE".into());
        };
        let Some(table) = engine.catalog.table(&schema, &name) else {
            if if_exists {
                self.pending_notices
                    .push(("00000", format!("relation \"{name}\" does not exist, skipping")));
                return Ok("ALTER TABLE".into());
            }
            return Err(Error::new(
                ErrorKind::UndefinedTable,
                format!("relation \"{name}\" does not exist"),
            ));
        };
        let taken = |n: &str| indexes::relation_exists(engine, &schema, n);
        let mut altered = apply_alter(&engine.catalog, &table, actions, &taken)?;
        defaults::bind_defaults(engine, &self.search_path(), &mut altered.def, Some(&table))?;
        let owned = engine.sequences.owned_by(&table.schema, &table.name);
        let sequence_moves = owned.iter().any(|s| {
            altered.def.name != table.name
                || s.def.owned_by.as_ref().is_some_and(|(_, c)| altered.touched_columns.contains(c))
        });
        if sequence_moves {
            return Err(Error::new(
                ErrorKind::FeatureNotSupported,
                "renaming or dropping a table's or column's owned sequence is not supported yet",
            ));
        }
        self.views_allow(engine, &table, &altered)?;
        self.pending_notices.extend(altered.notices.iter().cloned());
        let txn = engine.begin();
        let old = engine.storage.table(table.id)?;
        let chains = old.retire(txn.id()).await?;
        match self.rewrite(engine, &table, altered, chains, &txn).await {
            Ok(()) => {
                engine.storage.drop_table(table.id);
                Ok("ALTER TABLE".into())
            }
            Err(e) => {
                old.unretire().await;
                Err(e)
            }
        }
    }

    async fn rewrite(
        &self,
        engine: &Engine,
        table: &TableDef,
        altered: Altered,
        chains: Vec<(Key, Chain)>,
        txn: &Arc<crate::txn::TxnStatus>,
    ) -> Result<()> {
        let rekey = altered.rekeyed(table);
        let facts = self.facts();
        let ectx = EvalCtx { params: &[], outer: None, session: &facts, subs: &[] };
        let mut def = altered.def;
        let mut out: Vec<(Key, Chain, Row)> = Vec::with_capacity(chains.len());
        for (n, (key, mut chain)) in chains.into_iter().enumerate() {
            // A volatile fill (nextval, random) is evaluated once per row, and every
            // version of the row gets the same value.
            let mut fills = Vec::with_capacity(altered.sources.len());
            for s in &altered.sources {
                fills.push(match s {
                    Source::Old(_) => None,
                    Source::Fill(e) => Some(e.eval(&[], &ectx)?),
                });
            }
            for v in &mut chain.versions {
                if let Some(old) = &v.row {
                    let row: Vec<Value> = altered
                        .sources
                        .iter()
                        .zip(&fills)
                        .map(|(s, f)| match (s, f) {
                            (Source::Old(c), _) => old[*c].clone(),
                            (_, Some(v)) => v.clone(),
                            _ => Value::Null,
                        })
                        .collect();
                    v.row = Some(Row::from(row));
                }
            }
            let Some(row) = chain.versions.last().and_then(|v| v.row.clone()) else { continue };
            validate(&def, &altered.checks, &row, &ectx)?;
            let key = match (&def.primary_key, rekey) {
                (_, false) => key,
                (Some(pk), true) => {
                    let vals: Vec<Value> = pk.iter().map(|&c| row[c].clone()).collect();
                    let mut k = Vec::new();
                    encode_key(&vals, &mut k);
                    k.into_boxed_slice()
                }
                (None, true) => crate::storage::rowid_key(n as u64 + 1),
            };
            out.push((key, chain, row));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some(w) = out.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(duplicate_key(&def, &w[0].2));
        }
        def.id = engine.catalog.allocate_id();
        let mut writes = Vec::with_capacity(out.len() + 3);
        writes.push(WalWrite::CatalogPut {
            key: table_key(&def.schema, &def.name),
            value: def.encode(),
        });
        if def.name != table.name {
            writes.push(WalWrite::CatalogDelete { key: table_key(&table.schema, &table.name) });
        }
        writes.push(WalWrite::DropTable { table: table.id });
        let mut max_rowid = 0;
        for (k, _, row) in &out {
            if let Ok(b) = <[u8; 8]>::try_from(&**k) {
                max_rowid = max_rowid.max(u64::from_be_bytes(b));
            }
            let mut value = Vec::with_capacity(64);
            crate::types::encode_row(row, &mut value);
            writes.push(WalWrite::Put { table: def.id, key: k.to_vec(), value });
        }
        let mut part = engine
            .storage
            .partition()
            .with_chains(out.into_iter().map(|(k, c, _)| (k, c)).collect());
        if let Err(e) = part.set_indexes(def.indexes.clone()) {
            return Err(indexes::build_failed(&def, &e));
        }
        engine.commit(txn, writes).await?;
        engine.storage.adopt(def.id, part, max_rowid + 1);
        engine.catalog.replace(&table.name, def);
        Ok(())
    }
}

/// A rewritten row against the table's NOT NULLs and CHECKs, with PostgreSQL's
/// ATRewriteTable errors.
fn validate(
    def: &TableDef,
    checks: &[crate::sql::plan::BoundCheck],
    row: &[Value],
    ectx: &EvalCtx<'_>,
) -> Result<()> {
    for (c, v) in def.columns.iter().zip(row) {
        if c.not_null && v.is_null() {
            return Err(Error::new(
                ErrorKind::NotNullViolation,
                format!("column \"{}\" of relation \"{}\" contains null values", c.name, def.name),
            ));
        }
    }
    for k in checks {
        if let Value::Bool(false) = k.expr.eval(row, ectx)? {
            return Err(Error::new(
                ErrorKind::CheckViolation,
                format!(
                    "check constraint \"{}\" of relation \"{}\" is violated by some row",
                    k.name, def.name
                ),
            ));
        }
    }
    Ok(())
}

fn duplicate_key(def: &TableDef, row: &[Value]) -> Error {
    let pk = def.primary_key.clone().unwrap_or_default();
    let names: Vec<&str> = pk.iter().map(|&c| def.columns[c].name.as_str()).collect();
    let vals: Vec<String> = pk
        .iter()
        .map(|&c| crate::types::text_of(&row[c], &def.columns[c].ty, crate::types::UTC))
        .collect();
    Error::new(
        ErrorKind::UniqueViolation,
        format!("could not create unique index \"{}\"", def.pkey_name()),
    )
    .with_detail(format!("Key ({})=({}) is duplicated.", names.join(", "), vals.join(", ")))
}
