//! Running CREATE SCHEMA and DROP SCHEMA, and choosing the schema a new relation goes
//! into (PostgreSQL's creation namespace: the first schema of `search_path` that
//! exists, `"$user"` meaning the schema named after the user).
//!
//! ```text
//!   CREATE SCHEMA s          exists      → 42P06 (IF NOT EXISTS: a notice)
//!                            pg_…        → 42939 reserved
//!                            else        → WAL CatalogPut schema/s, then install
//!   DROP SCHEMA s            missing     → 3F000 (IF EXISTS: a notice)
//!                            pg_catalog, information_schema → 2BP01
//!                            public      → 0A000 (built in)
//!                            else        → WAL CatalogDelete schema/s, then remove
//!   DROP SCHEMA s            holds objects → 2BP01 listing them (RESTRICT)
//!                            CASCADE       → drop them and the foreign keys of other
//!                                            schemas' tables that reference them,
//!                                            NOTICE "drop cascades to …" (+ DETAIL)
//! ```
//! Choosing where names point (`search_path`) is `catalog::namespace`; the session
//! computes its effective path per statement ([`Session::search_path`]).

use super::*;
use crate::catalog::namespace::{self, PUBLIC};
use crate::catalog::{schema_key, SchemaDef, SearchPath};
use crate::sql::plan::RelName;

impl Session {
    /// CREATE SCHEMA [IF NOT EXISTS] name.
    pub(super) async fn create_schema(
        &mut self,
        engine: &Engine,
        name: &str,
        if_not_exists: bool,
    ) -> Result<String> {
        let catalog = &engine.catalog;
        if catalog.schema_oid(name).is_some() {
            if if_not_exists {
                self.pending_notices
                    .push(("42P06", format!("schema \"{name}\" already exists, skipping")));
                return Ok("CREATE SCHEMA".into());
            }
            return Err(Error::new(
                ErrorKind::DuplicateSchema,
                format!("schema \"{name}\" already exists"),
            ));
        }
        if name.starts_with("pg_") {
            return Err(Error::new(
                ErrorKind::ReservedName,
                format!("unacceptable schema name \"{name}\""),
            )
            .with_detail("The prefix \"pg_\" is reserved for system schemas."));
        }
        let def = SchemaDef { oid: catalog.allocate_oid(), name: name.to_owned() };
        let writes = vec![WalWrite::CatalogPut { key: schema_key(name), value: def.encode() }];
        engine.commit(&engine.begin(), writes).await?;
        catalog.install_schema(def);
        Ok("CREATE SCHEMA".into())
    }

    /// DROP SCHEMA [IF EXISTS] names [RESTRICT | CASCADE].
    pub(super) async fn drop_schemas(
        &mut self,
        engine: &Engine,
        names: &[String],
        if_exists: bool,
        cascade: bool,
    ) -> Result<String> {
        let catalog = &engine.catalog;
        let mut gone = Vec::new();
        for n in names {
            match n.as_str() {
                "pg_catalog" => return Err(Error::new(
                    ErrorKind::DependentObjectsStillExist,
                    "cannot drop schema pg_catalog because it is required by the database system",
                )),
                "information_schema" => {
                    return Err(Error::new(
                        ErrorKind::DependentObjectsStillExist,
                        "cannot drop schema information_schema because other objects depend on it",
                    )
                    .with_hint("Use DROP ... CASCADE to drop the dependent objects too."))
                }
                PUBLIC => {
                    return Err(Error::new(
                        ErrorKind::FeatureNotSupported,
                        "dropping schema public is not supported",
                    )
                    .with_detail("troupe's schema public is built in."))
                }
                _ => {}
            }
            if catalog.schema_oid(n).is_some() {
                if !gone.contains(n) {
                    gone.push(n.clone());
                }
            } else if if_exists {
                self.pending_notices
                    .push(("00000", format!("schema \"{n}\" does not exist, skipping")));
            } else {
                return Err(namespace::no_schema(n));
            }
        }
        let mut held = Vec::new();
        for n in &gone {
            held.extend(Contents::of(engine, n));
        }
        if !held.is_empty() {
            let path = self.search_path();
            if !cascade {
                let n = &gone[0];
                let mut detail = Vec::new();
                for o in held.iter().filter(|o| o.schema() == n.as_str()) {
                    detail.push(format!("{} depends on schema {n}", o.describe(engine, &path)));
                    if let Contents::Table(t) = o {
                        let table = shown(engine, &path, &t.schema, &t.name);
                        let keys = outside_keys(engine, &path, &held, t);
                        detail.extend(keys.iter().map(|k| format!("{k} depends on table {table}")));
                    }
                }
                return Err(crate::sql::planner::dependents_error(&format!("schema {n}"), detail));
            }
            // PostgreSQL lists each table followed by the keys of other schemas'
            // tables that go with it, described before they are dropped.
            let mut dropped = Vec::new();
            for o in &held {
                dropped.push(o.describe(engine, &path));
                if let Contents::Table(t) = o {
                    dropped.extend(outside_keys(engine, &path, &held, t));
                }
            }
            drop_contents(engine, &path, &held).await?;
            self.pending_notices.push(crate::sql::planner::cascade_notice(&dropped));
        }
        if !gone.is_empty() {
            let writes = gone.iter().map(|n| WalWrite::CatalogDelete { key: schema_key(n) });
            engine.commit(&engine.begin(), writes.collect()).await?;
        }
        for n in &gone {
            catalog.remove_schema(n);
        }
        Ok("DROP SCHEMA".into())
    }

    /// The session's effective search path (computed per statement: it depends on
    /// the setting and on which schemas exist).
    pub(super) fn search_path(&self) -> SearchPath {
        let setting = self.settings.get("search_path").unwrap_or_default();
        SearchPath::new(&setting, &self.user, &self.engine.catalog)
    }

    /// Where DROP / ALTER of `n` points: `s.x` in s, `x` in the first schema of the
    /// search path holding a relation of any kind by that name (else the first
    /// schema searched, where it is then not found). `None` after IF EXISTS's notice
    /// for a schema that does not exist; 3F000 without IF EXISTS.
    pub(super) fn resolve_target(
        &mut self,
        n: &RelName,
        if_exists: bool,
    ) -> Result<Option<(String, String)>> {
        let engine = self.engine.clone();
        match &n.schema {
            Some(s) if engine.catalog.schema_oid(s).is_none() => {
                if if_exists {
                    self.pending_notices
                        .push(("00000", format!("schema \"{s}\" does not exist, skipping")));
                    return Ok(None);
                }
                Err(namespace::no_schema(s))
            }
            Some(s) => Ok(Some((s.clone(), n.name.clone()))),
            None => {
                let path = self.search_path();
                let schema = path
                    .schemas()
                    .find(|s| indexes::relation_exists(&engine, s, &n.name))
                    .or(path.creation())
                    .unwrap_or(PUBLIC)
                    .to_owned();
                Ok(Some((schema, n.name.clone())))
            }
        }
    }
}

/// One object a schema holds (indexes and owned sequences go with their table).
enum Contents {
    Table(Arc<crate::catalog::TableDef>),
    View(Arc<crate::catalog::ViewDef>),
    Sequence(Arc<crate::sequence::Sequence>),
}

impl Contents {
    /// What schema `schema` holds, in creation (oid) order, as PostgreSQL lists it.
    fn of(engine: &Engine, schema: &str) -> Vec<Contents> {
        let catalog = &engine.catalog;
        let mut out: Vec<(u32, Contents)> = Vec::new();
        for t in catalog.all().into_iter().filter(|t| t.schema == schema) {
            out.push((t.oid, Contents::Table(t)));
        }
        for v in catalog.views().into_iter().filter(|v| v.schema == schema) {
            out.push((v.oid, Contents::View(v)));
        }
        for s in engine.sequences.all() {
            let owned =
                s.def.owned_by.as_ref().is_some_and(|(t, _)| catalog.table(schema, t).is_some());
            if s.def.schema == schema && !owned {
                out.push((s.def.oid, Contents::Sequence(s)));
            }
        }
        out.sort_by_key(|(oid, _)| *oid);
        out.into_iter().map(|(_, c)| c).collect()
    }

    fn schema(&self) -> &str {
        match self {
            Contents::Table(t) => &t.schema,
            Contents::View(v) => &v.schema,
            Contents::Sequence(s) => &s.def.schema,
        }
    }

    /// `table s.t`, as PostgreSQL's messages name it (while it exists).
    fn describe(&self, engine: &Engine, path: &SearchPath) -> String {
        let (kind, schema, name) = match self {
            Contents::Table(t) => ("table", &t.schema, &t.name),
            Contents::View(v) => ("view", &v.schema, &v.name),
            Contents::Sequence(s) => ("sequence", &s.def.schema, &s.def.name),
        };
        format!("{kind} {}", shown(engine, path, schema, name))
    }
}

/// The foreign keys of tables not in `held` that reference `t` (one of `held`), as
/// PostgreSQL names them: `constraint k on table c`.
fn outside_keys(
    engine: &Engine,
    path: &SearchPath,
    held: &[Contents],
    t: &TableDef,
) -> Vec<String> {
    let inside = |oid: u32| held.iter().any(|o| matches!(o, Contents::Table(h) if h.oid == oid));
    use crate::sql::foreign_keys::{in_creation_order, referencing};
    in_creation_order(referencing(&engine.catalog, t))
        .into_iter()
        .filter(|(child, _)| !inside(child.oid))
        .map(|(child, k)| {
            format!(
                "constraint {} on table {}",
                k.name,
                shown(engine, path, &child.schema, &child.name)
            )
        })
        .collect()
}

/// Drops what DROP SCHEMA … CASCADE found: views first (newest first), then tables
/// (with their indexes and owned sequences, and the foreign keys of tables in other
/// schemas that reference them), then the other sequences. Each kind commits on its
/// own (a crash in between leaves the schema partly emptied, never a half-dropped
/// object).
async fn drop_contents(engine: &Engine, path: &SearchPath, held: &[Contents]) -> Result<()> {
    let mut views = Vec::new();
    let mut tables = Vec::new();
    let mut sequences = Vec::new();
    for c in held {
        match c {
            Contents::View(v) => views.push(v.clone()),
            Contents::Table(t) => tables.push(t.clone()),
            Contents::Sequence(s) => sequences.push(s.clone()),
        }
    }
    views::drop_views(engine, path, &views).await?;
    super::drop_tables(engine, path, &tables, true).await?;
    super::sequences::drop_sequences(engine, &sequences).await
}

/// How PostgreSQL names a relation in a message (its object description): bare when
/// visible on the session's `path`, schema-qualified otherwise.
pub(super) fn shown(engine: &Engine, path: &SearchPath, schema: &str, name: &str) -> String {
    crate::sql::pg_catalog::visibility::shown_name(engine, path, schema, name)
}
