//! `pg_catalog` views computed from the live catalog, so that clients' introspection
//! queries (pgbench's partition check first of all) get real answers.
//!
//! Each view lists its columns with PostgreSQL's types and produces one row per catalog
//! object when scanned. Only the columns clients read today are present; a query naming
//! another one gets 42703 like any unknown column.

use crate::catalog::{Catalog, PG_CATALOG_NAMESPACE_OID, PUBLIC_NAMESPACE_OID};
use crate::types::{DataType, Value};

/// A pg_catalog view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VirtualTable {
    /// pg_class: one row per table.
    PgClass,
    /// pg_namespace: pg_catalog and public.
    PgNamespace,
    /// pg_partitioned_table: empty (no partitioned tables).
    PgPartitionedTable,
    /// pg_inherits: empty (no inheritance).
    PgInherits,
    /// pg_database: the one database.
    PgDatabase,
}

/// pg_class's own oid.
const PG_CLASS_OID: u32 = 1259;

impl VirtualTable {
    /// The view called `name` (unqualified, or qualified with `pg_catalog`).
    pub fn by_name(name: &str) -> Option<VirtualTable> {
        Some(match name {
            "pg_class" => VirtualTable::PgClass,
            "pg_namespace" => VirtualTable::PgNamespace,
            "pg_partitioned_table" => VirtualTable::PgPartitionedTable,
            "pg_inherits" => VirtualTable::PgInherits,
            "pg_database" => VirtualTable::PgDatabase,
            _ => return None,
        })
    }

    /// The view's oid (as pg_class would list it).
    pub fn oid(self) -> u32 {
        match self {
            VirtualTable::PgClass => PG_CLASS_OID,
            VirtualTable::PgNamespace => 2615,
            VirtualTable::PgPartitionedTable => 3350,
            VirtualTable::PgInherits => 2611,
            VirtualTable::PgDatabase => 1262,
        }
    }

    /// Columns: name and type.
    pub fn columns(self) -> Vec<(&'static str, DataType)> {
        use DataType::*;
        match self {
            VirtualTable::PgClass => vec![
                ("oid", Oid),
                ("relname", Name),
                ("relnamespace", Oid),
                ("reltype", Oid),
                ("relowner", Oid),
                ("relam", Oid),
                ("relpages", Int4),
                ("reltuples", Float4),
                ("relhasindex", Bool),
                ("relisshared", Bool),
                ("relpersistence", Char),
                ("relkind", Char),
                ("relnatts", Int2),
                ("relchecks", Int2),
                ("relispartition", Bool),
            ],
            VirtualTable::PgNamespace => vec![("oid", Oid), ("nspname", Name), ("nspowner", Oid)],
            VirtualTable::PgPartitionedTable => vec![
                ("partrelid", Oid),
                ("partstrat", Char),
                ("partnatts", Int2),
                ("partdefid", Oid),
            ],
            VirtualTable::PgInherits => vec![
                ("inhrelid", Oid),
                ("inhparent", Oid),
                ("inhseqno", Int4),
                ("inhdetachpending", Bool),
            ],
            VirtualTable::PgDatabase => vec![
                ("oid", Oid),
                ("datname", Name),
                ("datdba", Oid),
                ("encoding", Int4),
                ("datallowconn", Bool),
            ],
        }
    }

    /// The rows, from the catalog as it is now.
    pub fn rows(self, catalog: &Catalog) -> Vec<Vec<Value>> {
        match self {
            VirtualTable::PgClass => catalog
                .all()
                .iter()
                .map(|t| {
                    vec![
                        Value::Oid(t.oid),
                        Value::Text(t.name.clone()),
                        Value::Oid(PUBLIC_NAMESPACE_OID),
                        Value::Oid(0),
                        Value::Oid(10),
                        Value::Oid(2),
                        Value::Int4(0),
                        Value::Float4(-1.0),
                        Value::Bool(t.primary_key.is_some()),
                        Value::Bool(false),
                        Value::Char(b'p'),
                        Value::Char(b'r'),
                        Value::Int2(t.columns.len() as i16),
                        Value::Int2(0),
                        Value::Bool(false),
                    ]
                })
                .collect(),
            VirtualTable::PgNamespace => vec![
                vec![
                    Value::Oid(PG_CATALOG_NAMESPACE_OID),
                    Value::Text("pg_catalog".into()),
                    Value::Oid(10),
                ],
                vec![
                    Value::Oid(PUBLIC_NAMESPACE_OID),
                    Value::Text("public".into()),
                    Value::Oid(10),
                ],
            ],
            VirtualTable::PgPartitionedTable | VirtualTable::PgInherits => Vec::new(),
            VirtualTable::PgDatabase => vec![vec![
                Value::Oid(5),
                Value::Text("postgres".into()),
                Value::Oid(10),
                Value::Int4(6),
                Value::Bool(true),
            ]],
        }
    }
}
