//! The session's index DDL: CREATE [UNIQUE] INDEX and DROP INDEX. Like the table DDL in
//! `session::ddl`, each statement runs under the engine's DDL lock and commits the
//! table's new definition (its index list is part of it) on its own through the WAL.
//!
//! CREATE INDEX first asks the table's storage actor to build the index from its chains
//! (`SetIndexes`): from that request on, every write maintains it and, if UNIQUE, is
//! checked against it, so no row slips in between the build and the catalog change.
//! If the catalog write then fails, the actor gets the old list back.

use crate::catalog::{table_key, IndexDef, TableDef};
use crate::engine::Engine;
use crate::error::{Error, ErrorKind, Result};
use crate::sql::plan::RelName;
use crate::storage::IndexBuildError;
use crate::wal::WalWrite;

use super::Session;

/// True if schema `schema` holds a relation (table, view, sequence or index) called
/// `name` (pg_class names are unique per schema).
pub(super) fn relation_exists(engine: &Engine, schema: &str, name: &str) -> bool {
    engine.catalog.holds(schema, name) || engine.sequences.get(schema, name).is_some()
}

/// PostgreSQL's 23505 for a UNIQUE index that cannot be built.
pub(super) fn build_failed(table: &TableDef, e: &IndexBuildError) -> Error {
    let Some(ix) = table.index(&e.index) else {
        return Error::internal("unknown index in a build failure");
    };
    let names: Vec<&str> = ix.columns.iter().map(|&c| table.columns[c].name.as_str()).collect();
    let vals: Vec<String> = ix
        .columns
        .iter()
        .map(|&c| crate::types::text_of(&e.row[c], &table.columns[c].ty))
        .collect();
    Error::new(ErrorKind::UniqueViolation, format!("could not create unique index \"{}\"", ix.name))
        .with_detail(format!("Key ({})=({}) is duplicated.", names.join(", "), vals.join(", ")))
}

impl Session {
    pub(super) async fn create_index(
        &mut self,
        engine: &Engine,
        schema: &str,
        table: &str,
        index: &IndexDef,
        named: bool,
        if_not_exists: bool,
    ) -> Result<String> {
        let old = engine.catalog.table(schema, table).ok_or_else(|| {
            Error::new(ErrorKind::UndefinedTable, format!("relation \"{table}\" does not exist"))
        })?;
        let mut index = index.clone();
        if !named {
            // PostgreSQL numbers a generated name that is taken: t_a_idx1, t_a_idx2, …
            let base = index.name.clone();
            let mut k = 0;
            while relation_exists(engine, schema, &index.name) {
                k += 1;
                index.name = format!("{base}{k}");
            }
        } else if relation_exists(engine, schema, &index.name) {
            let name = &index.name;
            if if_not_exists {
                self.pending_notices
                    .push(("42P07", format!("relation \"{name}\" already exists, skipping")));
                return Ok("CREATE INDEX".into());
            }
            return Err(Error::new(
                ErrorKind::DuplicateTable,
                format!("relation \"{name}\" already exists"),
            ));
        }
        let mut def = (*old).clone();
        def.indexes.push(index);
        self.replace_indexes(engine, &old, def).await?;
        Ok("CREATE INDEX".into())
    }

    pub(super) async fn drop_indexes(
        &mut self,
        engine: &Engine,
        names: &[RelName],
        if_exists: bool,
    ) -> Result<String> {
        for name in names {
            let Some((schema, name)) = self.resolve_target(name, if_exists)? else { continue };
            let name = &name;
            let Some(old) = engine.catalog.table_of_index(&schema, name) else {
                if relation_exists(engine, &schema, name) {
                    return Err(Error::new(
                        ErrorKind::WrongObjectType,
                        format!("\"{name}\" is not an index"),
                    )
                    .with_hint("Use DROP TABLE to remove a table."));
                }
                if if_exists {
                    self.pending_notices
                        .push(("00000", format!("index \"{name}\" does not exist, skipping")));
                    continue;
                }
                return Err(Error::new(
                    ErrorKind::UndefinedObject,
                    format!("index \"{name}\" does not exist"),
                ));
            };
            if old.index(name).is_some_and(|i| i.constraint) {
                return Err(Error::new(
                    ErrorKind::DependentObjectsStillExist,
                    format!(
                        "cannot drop index {name} because constraint {name} on table {} requires it",
                        old.name
                    ),
                )
                .with_hint(format!(
                    "You can drop constraint {name} on table {} instead.",
                    old.name
                )));
            }
            let mut def = (*old).clone();
            def.indexes.retain(|i| i.name != *name);
            self.replace_indexes(engine, &old, def).await?;
        }
        Ok("DROP INDEX".into())
    }

    /// Gives the table's actor `def`'s index list, then commits `def` durably and
    /// installs it; puts `old`'s list back if the commit fails.
    async fn replace_indexes(&self, engine: &Engine, old: &TableDef, def: TableDef) -> Result<()> {
        let store = engine.storage.table(def.id)?;
        if let Err(e) = store.set_indexes(def.indexes.clone()).await? {
            return Err(build_failed(&def, &e));
        }
        let writes = vec![WalWrite::CatalogPut {
            key: table_key(&def.schema, &def.name),
            value: def.encode(),
        }];
        if let Err(e) = engine.commit(&engine.begin(), writes).await {
            let _ = store.set_indexes(old.indexes.clone()).await;
            return Err(e);
        }
        engine.catalog.install(def);
        Ok(())
    }
}
