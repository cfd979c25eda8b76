//! The session's sequence DDL: CREATE / DROP SEQUENCE, and naming the sequences that
//! SERIAL and identity columns own. Like the table DDL in `session::ddl`, each
//! statement commits its catalog record on its own through the WAL (under the engine's
//! DDL lock) and changes the live state only once the record is durable.

use crate::catalog::TableDef;
use crate::engine::Engine;
use crate::error::{Error, ErrorKind, Result};
use crate::sequence::{Sequence, SequenceDef, Sequences};
use crate::sql::pg_catalog::funcs::quote_ident;
use crate::sql::plan::RelName;
use crate::sync::Arc;

use super::Session;

/// Names the sequences `table`'s SERIAL / identity columns need (`<table>_<col>_seq`,
/// numbered when taken, as PostgreSQL does) in the table's schema, gives them oids
/// and their owner, and sets each column's default to
/// `nextval('<schema>.<name>'::regclass)`: bound to the sequence whatever the search
/// path of the inserting session (PostgreSQL stores the sequence's oid; see
/// `defaults.rs`).
pub(super) fn name_owned(
    engine: &Engine,
    table: &mut TableDef,
    wanted: &[(usize, SequenceDef)],
) -> Vec<SequenceDef> {
    let mut out: Vec<SequenceDef> = Vec::with_capacity(wanted.len());
    for (col, def) in wanted {
        let column = table.columns[*col].name.clone();
        let base = format!("{}_{}_seq", table.name, column);
        let mut name = base.clone();
        let mut k = 0;
        while super::indexes::relation_exists(engine, &table.schema, &name)
            || out.iter().any(|s| s.name == name)
            || name == table.name
        {
            k += 1;
            name = format!("{base}{k}");
        }
        let mut def = def.clone();
        def.name = name.clone();
        def.schema = table.schema.clone();
        def.oid = engine.catalog.allocate_oid();
        def.owned_by = Some((table.name.clone(), column));
        let regclass = format!("{}.{}", quote_ident(&table.schema), quote_ident(&name));
        table.columns[*col].default =
            Some(format!("nextval('{}'::regclass)", regclass.replace('\'', "''")));
        out.push(def);
    }
    out
}

impl Session {
    pub(super) async fn create_sequence(
        &mut self,
        engine: &Engine,
        def: &SequenceDef,
        if_not_exists: bool,
    ) -> Result<String> {
        let name = &def.name;
        if super::indexes::relation_exists(engine, &def.schema, name) {
            if if_not_exists {
                self.pending_notices
                    .push(("42P07", format!("relation \"{name}\" already exists, skipping")));
                return Ok("CREATE SEQUENCE".into());
            }
            return Err(Error::new(
                ErrorKind::DuplicateTable,
                format!("relation \"{name}\" already exists"),
            ));
        }
        let mut def = def.clone();
        def.oid = engine.catalog.allocate_oid();
        engine.commit(&engine.begin(), vec![Sequences::create_writes(&def)]).await?;
        engine.sequences.install(def);
        Ok("CREATE SEQUENCE".into())
    }

    pub(super) async fn drop_sequences(
        &mut self,
        engine: &Engine,
        names: &[RelName],
        if_exists: bool,
    ) -> Result<String> {
        let mut seqs = Vec::new();
        for n in names {
            let Some((schema, n)) = self.resolve_target(n, if_exists)? else { continue };
            match engine.sequences.get(&schema, &n) {
                Some(s) => {
                    if let Some((t, c)) = &s.def.owned_by {
                        if engine.catalog.table(&schema, t).is_some() {
                            return Err(Error::new(
                                ErrorKind::DependentObjectsStillExist,
                                format!(
                                    "cannot drop sequence {n} because other objects depend on it"
                                ),
                            )
                            .with_detail(format!(
                                "default value for column {c} of table {t} depends on sequence {n}"
                            ))
                            .with_hint("Use DROP ... CASCADE to drop the dependent objects too."));
                        }
                    }
                    seqs.push(s);
                }
                None if engine.catalog.table(&schema, &n).is_some() => {
                    return Err(Error::new(
                        ErrorKind::WrongObjectType,
                        format!("\"{n}\" is not a sequence"),
                    )
                    .with_hint("Use DROP TABLE to remove a table."))
                }
                None if if_exists => self
                    .pending_notices
                    .push(("00000", format!("sequence \"{n}\" does not exist, skipping"))),
                None => {
                    return Err(Error::new(
                        ErrorKind::UndefinedTable,
                        format!("sequence \"{n}\" does not exist"),
                    ))
                }
            }
        }
        drop_sequences(engine, &seqs).await?;
        Ok("DROP SEQUENCE".into())
    }
}

/// Drops `seqs` in one WAL commit.
pub(super) async fn drop_sequences(engine: &Engine, seqs: &[Arc<Sequence>]) -> Result<()> {
    if seqs.is_empty() {
        return Ok(());
    }
    let writes = seqs.iter().map(|s| Sequences::retire(s)).collect();
    if let Err(e) = engine.commit(&engine.begin(), writes).await {
        for s in seqs {
            Sequences::unretire(s);
        }
        return Err(e);
    }
    for s in seqs {
        engine.sequences.remove(&s.def.schema, &s.def.name);
    }
    Ok(())
}
