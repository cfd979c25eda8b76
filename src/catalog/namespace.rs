//! Name resolution through `search_path`, as PostgreSQL's namespace.c does it.
//!
//! ```text
//!   search_path = '"$user", s, public'   user = postgres, schemas s and public exist
//!     effective path   pg_catalog, s, public     ($user dropped: no schema "postgres";
//!                                                 pg_catalog first since not listed)
//!     creation schema  s                         (first listed schema that exists;
//!                                                 none → 3F000 on CREATE)
//!   t        → pg_catalog.t? s.t? public.t?      the first one that exists
//!   s.t      → s.t only                          (42P01 `relation "s.t" does not exist`)
//!   db.s.t   → s.t                               (db must be the current database)
//! ```
//! A [`SearchPath`] is computed from the setting and the catalog's schemas once per
//! statement plan (the session keys cached plans on the setting and the catalog
//! version, which changes when a schema comes or goes). `pg_temp` is not supported:
//! troupe has no temporary relations, so listing it finds nothing.

use super::Catalog;
use crate::error::{Error, ErrorKind, Result};

/// The schema pg_catalog.
pub const PG_CATALOG: &str = "pg_catalog";
/// The schema public.
pub const PUBLIC: &str = "public";

/// A session's effective search path: the schemas an unqualified name is looked up
/// in, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchPath {
    /// The listed schemas that exist, `$user` expanded, in order.
    listed: Vec<String>,
    /// Whether pg_catalog was listed (otherwise it is searched first).
    catalog_listed: bool,
}

impl SearchPath {
    /// The effective path of `setting` (a `search_path` value) for `user`, given
    /// which schemas exist in `catalog`.
    pub fn new(setting: &str, user: &str, catalog: &Catalog) -> SearchPath {
        let mut listed: Vec<String> = Vec::new();
        for n in setting_names(setting) {
            let n = if n == "$user" { user.to_owned() } else { n };
            if catalog.schema_oid(&n).is_some() && !listed.contains(&n) {
                listed.push(n);
            }
        }
        let catalog_listed = listed.iter().any(|n| n == PG_CATALOG);
        SearchPath { listed, catalog_listed }
    }

    /// The default path (`"$user", public` for a user without a schema): used where
    /// no session is, and to bind what was stored before schemas held relations.
    pub fn public() -> SearchPath {
        SearchPath { listed: vec![PUBLIC.to_owned()], catalog_listed: false }
    }

    /// A path of exactly `schemas` (a view's stored path, a table's own schema).
    pub fn of(schemas: Vec<String>) -> SearchPath {
        let catalog_listed = schemas.iter().any(|n| n == PG_CATALOG);
        SearchPath { listed: schemas, catalog_listed }
    }

    /// The schemas searched, in order: pg_catalog first unless listed.
    pub fn schemas(&self) -> impl Iterator<Item = &str> {
        let implicit = (!self.catalog_listed).then_some(PG_CATALOG);
        implicit.into_iter().chain(self.listed.iter().map(String::as_str))
    }

    /// The listed schemas that exist (what a view stores to bind its body again).
    pub fn listed(&self) -> &[String] {
        &self.listed
    }

    /// `current_schemas(include_implicit)`.
    pub fn current_schemas(&self, include_implicit: bool) -> Vec<String> {
        if include_implicit {
            self.schemas().map(str::to_owned).collect()
        } else {
            self.listed.clone()
        }
    }

    /// The schema an unqualified CREATE puts its relation in (`current_schema()`):
    /// the first listed schema that exists.
    pub fn creation(&self) -> Option<&str> {
        self.listed.first().map(String::as_str)
    }

    /// [`SearchPath::creation`], or PostgreSQL's errors: 3F000 when no schema is
    /// selected, 42501 for pg_catalog.
    pub fn creation_schema(&self, relation: &str) -> Result<String> {
        match self.creation() {
            None => Err(Error::new(
                ErrorKind::InvalidSchemaName,
                "no schema has been selected to create in",
            )),
            Some(s) => creatable(s, relation).map(|()| s.to_owned()),
        }
    }
}

/// Checks that a relation may be created in existing schema `schema`: pg_catalog and
/// information_schema are refused as PostgreSQL refuses them (42501).
pub fn creatable(schema: &str, relation: &str) -> Result<()> {
    match schema {
        PG_CATALOG => Err(Error::new(
            ErrorKind::InsufficientPrivilege,
            format!("permission denied to create \"pg_catalog.{relation}\""),
        )
        .with_detail("System catalog modifications are currently disallowed.")),
        "information_schema" => Err(Error::new(
            ErrorKind::InsufficientPrivilege,
            "permission denied for schema information_schema",
        )),
        _ => Ok(()),
    }
}

/// The schema names of a `search_path` value, unquoted and case-folded.
pub fn setting_names(value: &str) -> Vec<String> {
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

/// 3F000 `schema "s" does not exist`.
pub fn no_schema(schema: &str) -> Error {
    Error::new(ErrorKind::InvalidSchemaName, format!("schema \"{schema}\" does not exist"))
}

/// A name as the user wrote it, split: `(schema, name)`; `db.s.t` must name the
/// current database (`database`), as PostgreSQL checks (0A000 otherwise).
pub fn split_qualified<'a>(
    parts: &'a [String],
    database: Option<&str>,
) -> Result<(Option<&'a str>, &'a str)> {
    match parts {
        [n] => Ok((None, n)),
        [s, n] => Ok((Some(s), n)),
        [db, s, n] => match database {
            Some(current) if current != db => Err(Error::new(
                ErrorKind::FeatureNotSupported,
                format!("cross-database references are not implemented: {}", parts.join(".")),
            )),
            _ => Ok((Some(s), n)),
        },
        _ => Err(Error::syntax(format!(
            "improper relation name (too many dotted names): {}",
            parts.join(".")
        ))),
    }
}

/// The dotted parts of a name given as text (`'s.t'`, `'"My.S".t'`), as regclass
/// input reads it: each folded to lower case unless double-quoted (42602 for bad
/// syntax).
pub fn text_name_parts(text: &str) -> Result<Vec<String>> {
    let invalid = || Error::new(ErrorKind::InvalidName, "invalid name syntax");
    let mut parts = Vec::new();
    let mut chars = text.trim().chars().peekable();
    loop {
        let mut part = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        part.push('"');
                    }
                    Some('"') => break,
                    Some(c) => part.push(c),
                    None => return Err(invalid()),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == '.' {
                    break;
                }
                part.push(c.to_ascii_lowercase());
                chars.next();
            }
            if part.is_empty() {
                return Err(invalid());
            }
        }
        parts.push(part);
        match chars.next() {
            None => return Ok(parts),
            Some('.') => {}
            Some(_) => return Err(invalid()),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::catalog::SchemaDef;

    #[test]
    fn the_effective_path_drops_missing_schemas_and_puts_pg_catalog_first() {
        let c = Catalog::new(Vec::new(), 0);
        c.install_schema(SchemaDef { oid: 16390, name: "s".into() });
        let p = SearchPath::new("\"$user\", s, nope, public", "postgres", &c);
        assert_eq!(p.schemas().collect::<Vec<_>>(), vec!["pg_catalog", "s", "public"]);
        assert_eq!(p.creation(), Some("s"));
        assert_eq!(p.current_schemas(false), vec!["s", "public"]);
        c.install_schema(SchemaDef { oid: 16391, name: "postgres".into() });
        let p = SearchPath::new("\"$user\", public, pg_catalog", "postgres", &c);
        assert_eq!(p.schemas().collect::<Vec<_>>(), vec!["postgres", "public", "pg_catalog"]);
        let p = SearchPath::new("nope", "postgres", &c);
        assert_eq!(p.creation(), None);
        assert_eq!(p.creation_schema("t").unwrap_err().kind, ErrorKind::InvalidSchemaName);
    }

    #[test]
    fn text_names_split_on_dots_and_fold_unless_quoted() {
        assert_eq!(text_name_parts("S.T_id_seq").unwrap(), vec!["s", "t_id_seq"]);
        assert_eq!(text_name_parts("\"My.S\".\"T\"").unwrap(), vec!["My.S", "T"]);
        assert!(text_name_parts("a..b").is_err());
        assert!(text_name_parts("\"open").is_err());
    }

    #[test]
    fn setting_names_unquote_and_fold() {
        assert_eq!(setting_names("\"$user\", public"), vec!["$user", "public"]);
        assert_eq!(setting_names("MyApp, \"Mixed\"\"Q\""), vec!["myapp", "Mixed\"Q"]);
        assert!(setting_names("").is_empty());
    }
}
