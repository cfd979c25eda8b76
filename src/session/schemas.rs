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
//!                            public      → 0A000 (relations live there)
//!                            else        → WAL CatalogDelete schema/s, then remove
//! ```
//! A user schema never holds a relation (see `catalog/schema.rs`), so DROP SCHEMA …
//! RESTRICT of one always succeeds, as PostgreSQL's does for an empty schema.

use super::*;
use crate::catalog::{schema_key, SchemaDef};

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

    /// DROP SCHEMA [IF EXISTS] names [RESTRICT].
    pub(super) async fn drop_schemas(
        &mut self,
        engine: &Engine,
        names: &[String],
        if_exists: bool,
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
                "public" => {
                    return Err(Error::new(
                        ErrorKind::FeatureNotSupported,
                        "dropping schema public is not supported",
                    )
                    .with_detail("troupe keeps every table, view and sequence in schema public."))
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
                return Err(Error::new(
                    ErrorKind::InvalidSchemaName,
                    format!("schema \"{n}\" does not exist"),
                ));
            }
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

    /// Checks that a relation created under an unqualified name would go into public:
    /// the first existing schema of `search_path` must be public. Another user schema
    /// is refused with 0A000, pg_catalog with PostgreSQL's 42501, none with 3F000.
    pub(super) fn creation_schema_is_public(&self, relation: &str) -> Result<()> {
        let path = self.settings.get("search_path")?;
        let user = self.settings.get("session_authorization").unwrap_or_default();
        let first = search_path_names(&path)
            .into_iter()
            .map(|n| if n == "$user" { user.clone() } else { n })
            .find(|n| self.engine.catalog.schema_oid(n).is_some());
        match first.as_deref() {
            Some("public") => Ok(()),
            Some("pg_catalog") => Err(Error::new(
                ErrorKind::InsufficientPrivilege,
                format!("permission denied to create \"pg_catalog.{relation}\""),
            )
            .with_detail("System catalog modifications are currently disallowed.")),
            Some(s) => Err(crate::sql::planner::schema::in_user_schema(s)),
            None => Err(Error::new(
                ErrorKind::InvalidSchemaName,
                "no schema has been selected to create in",
            )),
        }
    }
}

/// The schema names of a `search_path` value, unquoted and case-folded.
pub fn search_path_names(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| match n.strip_prefix('"').and_then(|n| n.strip_suffix('"')) {
            Some(q) => q.replace("\"\"", "\""),
            None => n.to_lowercase(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::search_path_names;

    #[test]
    fn search_path_names_unquote_and_fold() {
        assert_eq!(search_path_names("\"$user\", public"), vec!["$user", "public"]);
        assert_eq!(search_path_names("MyApp, \"Mixed\"\"Q\""), vec!["myapp", "Mixed\"Q"]);
        assert!(search_path_names("").is_empty());
    }
}
