//! Running CREATE [OR REPLACE] VIEW and DROP VIEW, and keeping other DDL from breaking
//! a view: each view records the relations its query reads (`catalog/view.rs`), and
//! DROP TABLE, DROP VIEW and ALTER TABLE consult it, with PostgreSQL's 2BP01:
//!
//! ```text
//!   DROP TABLE t            view v reads t             → 2BP01 "view v depends on table t"
//!   ALTER TABLE t DROP a    v's text names a           → 2BP01 "view v depends on column a of table t"
//!   ALTER TABLE t RENAME …  v reads t                  → 0A000 (v's text would go stale)
//! ```
//! A column counts as used when the view's text names it (a word of the query):
//! sometimes more than PostgreSQL's dependency on the column, never less.
//! A view definition commits through the WAL like a table definition.

use super::schemas::shown;
use super::*;
use crate::catalog::{view_key, ViewDef};
use crate::sql::plan::RelName;
use crate::sql::planner::{dependents_error, Altered};

/// 2BP01 if a view reads relation `schema.name` (a table when `table`).
pub(super) fn no_dependent_views(
    engine: &Engine,
    path: &SearchPath,
    schema: &str,
    name: &str,
    table: bool,
) -> Result<()> {
    let kind = if table { "table" } else { "view" };
    let readers = engine.catalog.views_reading(schema, name);
    if readers.is_empty() {
        return Ok(());
    }
    let name = shown(engine, path, schema, name);
    let detail: Vec<String> = readers
        .iter()
        .map(|v| {
            format!("view {} depends on {kind} {name}", shown(engine, path, &v.schema, &v.name))
        })
        .collect();
    Err(dependents_error(&format!("{kind} {name}"), detail))
}

fn names_word(sql: &str, word: &str) -> bool {
    use sqlparser::dialect::PostgreSqlDialect;
    use sqlparser::tokenizer::{Token, Tokenizer};
    let Ok(tokens) = Tokenizer::new(&PostgreSqlDialect {}, sql).tokenize() else { return true };
    tokens.iter().any(|t| match t {
        Token::Word(w) if w.quote_style.is_some() => w.value == word,
        Token::Word(w) => w.value.to_lowercase() == word,
        _ => false,
    })
}

impl Session {
    /// Refuses an ALTER TABLE that would break a view reading the table.
    pub(super) fn views_allow(
        &self,
        engine: &Engine,
        table: &TableDef,
        altered: &Altered,
    ) -> Result<()> {
        let readers = engine.catalog.views_reading(&table.schema, &table.name);
        if readers.is_empty() {
            return Ok(());
        }
        let renamed_table = altered.def.name != table.name;
        for col in &altered.touched_columns {
            let users: Vec<&Arc<ViewDef>> =
                readers.iter().filter(|v| names_word(&v.sql, col)).collect();
            if users.is_empty() || table.column_index(col).is_none() {
                continue;
            }
            if renamed_column(table, altered, col) {
                return Err(renaming_refused());
            }
            let detail: Vec<String> = users
                .iter()
                .map(|v| format!("view {} depends on column {col} of table {}", v.name, table.name))
                .collect();
            return Err(dependents_error(&format!("column {col} of table {}", table.name), detail));
        }
        if renamed_table {
            return Err(renaming_refused());
        }
        Ok(())
    }

    /// CREATE [OR REPLACE] VIEW.
    pub(super) async fn create_view(
        &mut self,
        engine: &Engine,
        def: &ViewDef,
        or_replace: bool,
    ) -> Result<String> {
        let catalog = &engine.catalog;
        let (schema, name) = (&def.schema, &def.name);
        let mut def = def.clone();
        match catalog.view(schema, name) {
            Some(old) if or_replace => {
                compatible(&old, &def)?;
                def.oid = old.oid;
            }
            _ if indexes::relation_exists(engine, schema, name) => {
                if or_replace && catalog.table(schema, name).is_some() {
                    return Err(Error::new(
                        ErrorKind::WrongObjectType,
                        format!("\"{name}\" is not a view"),
                    ));
                }
                return Err(Error::new(
                    ErrorKind::DuplicateTable,
                    format!("relation \"{name}\" already exists"),
                ));
            }
            _ => def.oid = catalog.allocate_oid(),
        }
        let writes =
            vec![WalWrite::CatalogPut { key: view_key(schema, name), value: def.encode() }];
        engine.commit(&engine.begin(), writes).await?;
        catalog.install_view(def);
        Ok("CREATE VIEW".into())
    }

    /// DROP VIEW [IF EXISTS] names.
    pub(super) async fn drop_views(
        &mut self,
        engine: &Engine,
        names: &[RelName],
        if_exists: bool,
    ) -> Result<String> {
        let mut gone = Vec::new();
        for n in names {
            let Some((schema, n)) = self.resolve_target(n, if_exists)? else { continue };
            match engine.catalog.view(&schema, &n) {
                Some(v) => gone.push(v),
                None if engine.catalog.table(&schema, &n).is_some() => {
                    return Err(Error::new(
                        ErrorKind::WrongObjectType,
                        format!("\"{n}\" is not a view"),
                    )
                    .with_hint("Use DROP TABLE to remove a table."))
                }
                None if if_exists => self
                    .pending_notices
                    .push(("00000", format!("view \"{n}\" does not exist, skipping"))),
                None => {
                    return Err(Error::new(
                        ErrorKind::UndefinedTable,
                        format!("view \"{n}\" does not exist"),
                    ))
                }
            }
        }
        drop_views(engine, &self.search_path(), &gone).await?;
        Ok("DROP VIEW".into())
    }
}

/// Drops views `gone` in one WAL commit: 2BP01 if a view not among them reads one.
pub(super) async fn drop_views(
    engine: &Engine,
    path: &SearchPath,
    gone: &[Arc<ViewDef>],
) -> Result<()> {
    for v in gone {
        let outside: Vec<_> = engine
            .catalog
            .views_reading(&v.schema, &v.name)
            .into_iter()
            .filter(|r| !gone.iter().any(|g| g.oid == r.oid))
            .collect();
        if !outside.is_empty() {
            let name = shown(engine, path, &v.schema, &v.name);
            let shown = |r: &ViewDef| shown(engine, path, &r.schema, &r.name);
            let detail: Vec<String> = outside
                .iter()
                .map(|r| format!("view {} depends on view {name}", shown(r)))
                .collect();
            return Err(dependents_error(&format!("view {name}"), detail));
        }
    }
    if gone.is_empty() {
        return Ok(());
    }
    let writes = gone
        .iter()
        .map(|v| WalWrite::CatalogDelete { key: view_key(&v.schema, &v.name) })
        .collect();
    engine.commit(&engine.begin(), writes).await?;
    for v in gone {
        engine.catalog.remove_view(&v.schema, &v.name);
    }
    Ok(())
}

fn renamed_column(table: &TableDef, altered: &Altered, col: &str) -> bool {
    // A renamed column keeps its position; a dropped one leaves no source pointing at it.
    table
        .column_index(col)
        .is_some_and(|i| altered.sources.contains(&crate::sql::planner::Source::Old(i)))
}

fn renaming_refused() -> Error {
    Error::new(
        ErrorKind::FeatureNotSupported,
        "renaming a table or column that a view reads is not supported yet",
    )
    .with_hint("Drop the view, rename, and create the view again.")
}

/// CREATE OR REPLACE VIEW may only add columns at the end, as in PostgreSQL.
fn compatible(old: &ViewDef, new: &ViewDef) -> Result<()> {
    if new.columns.len() < old.columns.len() {
        return Err(Error::new(ErrorKind::InvalidTableDefinition, "cannot drop columns from view"));
    }
    for (o, n) in old.columns.iter().zip(&new.columns) {
        if o.name != n.name {
            return Err(Error::new(
                ErrorKind::InvalidTableDefinition,
                format!("cannot change name of view column \"{}\" to \"{}\"", o.name, n.name),
            )
            .with_hint(
                "Use ALTER VIEW ... RENAME COLUMN ... to change name of view column instead.",
            ));
        }
        if o.ty != n.ty {
            return Err(Error::new(
                ErrorKind::InvalidTableDefinition,
                format!(
                    "cannot change data type of view column \"{}\" from {} to {}",
                    o.name,
                    o.ty.display_name(),
                    n.ty.display_name()
                ),
            ));
        }
    }
    Ok(())
}
