//! Schemas (namespaces) created with CREATE SCHEMA, kept in the catalog keyspace under
//! `schema/<name>` and loaded at start-up. `pg_catalog`, `public` and
//! `information_schema` are built in and have no record, so a data directory written
//! before schemas existed loads with exactly those.
//!
//! ```text
//!   CREATE SCHEMA s   → WAL CatalogPut schema/s = "schema1\n<oid>\n<name>"  → Catalog::install_schema
//!   DROP SCHEMA s     → WAL CatalogDelete schema/s                          → Catalog::remove_schema
//! ```
//!
//! Relations live in any schema (keyed by (schema, name) in [`super::Catalog`]);
//! DROP SCHEMA refuses to drop a schema that holds any unless CASCADE.

use super::encoding::{escape, unescape};
use crate::error::{Error, Result};

/// A user-created schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaDef {
    /// Its pg_namespace oid (allocated like a table's).
    pub oid: u32,
    /// Its name (already case-folded).
    pub name: String,
}

/// The catalog key prefix of schemas.
pub const SCHEMA_KEY_PREFIX: &[u8] = b"schema/";

/// The catalog key of a schema.
pub fn schema_key(name: &str) -> Vec<u8> {
    format!("schema/{name}").into_bytes()
}

/// The built-in schemas, with their oids.
pub const BUILTIN_SCHEMAS: [(&str, u32); 3] = [
    ("pg_catalog", super::PG_CATALOG_NAMESPACE_OID),
    ("public", super::PUBLIC_NAMESPACE_OID),
    ("information_schema", INFORMATION_SCHEMA_NAMESPACE_OID),
];

/// The oid of schema `information_schema` (initdb's number differs between builds).
pub const INFORMATION_SCHEMA_NAMESPACE_OID: u32 = 13000;

impl SchemaDef {
    /// Serialises the definition (format `schema1`).
    pub fn encode(&self) -> Vec<u8> {
        format!("schema1\n{}\n{}\n", self.oid, escape(&self.name)).into_bytes()
    }

    /// Inverse of [`SchemaDef::encode`].
    pub fn decode(bytes: &[u8]) -> Result<SchemaDef> {
        let bad = || Error::internal("corrupt schema definition in the catalog");
        let text = std::str::from_utf8(bytes).map_err(|_| bad())?;
        let mut lines = text.lines();
        if lines.next() != Some("schema1") {
            return Err(bad());
        }
        let oid = lines.next().and_then(|l| l.parse().ok()).ok_or_else(bad)?;
        let name = unescape(lines.next().ok_or_else(bad)?)?;
        Ok(SchemaDef { oid, name })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_schema_round_trips_and_garbage_is_an_error() {
        let s = SchemaDef { oid: 16390, name: "My\tApp".into() };
        assert_eq!(SchemaDef::decode(&s.encode()).unwrap(), s);
        assert!(SchemaDef::decode(b"schema1\nx\n").is_err());
        assert!(SchemaDef::decode(b"view1\n1\nv\n").is_err());
    }
}
