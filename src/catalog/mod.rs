//! The catalog: table definitions, their columns and keys, and where they are kept.
//!
//! Sessions read the catalog at plan time (`Catalog::table`) and get an immutable
//! `Arc<TableDef>`; DDL replaces definitions and bumps [`Catalog::version`], which makes
//! sessions re-plan cached statements. Definitions are stored durably in the WAL's
//! `catalog` keyspace (key `table/<name>`), written by the same group commit as data.
//!
//! The catalog is the one piece of state read outside an actor: it changes only on DDL
//! and is read by every statement, so it sits behind a read-mostly lock rather than
//! behind a message hop.

use parking_lot::RwLock;
use std::collections::BTreeMap;

use crate::error::{Error, ErrorKind, Result};
use crate::sync::{Arc, AtomicU64, Ordering};
use crate::types::DataType;

/// A table's id. Never reused within a data directory (a dropped table's id stays dead).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TableId(pub u32);

/// The first table oid, as PostgreSQL's first user oid.
pub const FIRST_USER_OID: u32 = 16384;
/// The oid of schema `public`.
pub const PUBLIC_NAMESPACE_OID: u32 = 2200;
/// The oid of schema `pg_catalog`.
pub const PG_CATALOG_NAMESPACE_OID: u32 = 11;

/// One column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Name (already case-folded).
    pub name: String,
    /// Type with modifier.
    pub ty: DataType,
    /// NOT NULL (also implied by PRIMARY KEY).
    pub not_null: bool,
}

/// A table definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDef {
    /// Storage id (changes when the table is rewritten, e.g. ADD PRIMARY KEY).
    pub id: TableId,
    /// The oid clients see in pg_class (stable across rewrites).
    pub oid: u32,
    /// Name (already case-folded).
    pub name: String,
    /// Columns in order.
    pub columns: Vec<Column>,
    /// Primary-key column positions, if any; rows of a table without one are keyed by
    /// a hidden row id.
    pub primary_key: Option<Vec<usize>>,
}

impl TableDef {
    /// The position of column `name`.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// The primary key constraint's name, as PostgreSQL would name it.
    pub fn pkey_name(&self) -> String {
        format!("{}_pkey", self.name)
    }

    /// Serialises the definition for the catalog keyspace.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = String::new();
        out.push_str(&format!("v1\n{}\n{}\n{}\n", self.id.0, self.oid, self.name));
        match &self.primary_key {
            Some(pk) => out.push_str(&format!(
                "{}\n",
                pk.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",")
            )),
            None => out.push_str("-\n"),
        }
        for c in &self.columns {
            out.push_str(&format!(
                "{}\t{}\t{}\t{}\n",
                c.name,
                c.ty.oid(),
                c.ty.type_modifier(),
                if c.not_null { 1 } else { 0 }
            ));
        }
        out.into_bytes()
    }

    /// Inverse of [`TableDef::encode`].
    pub fn decode(bytes: &[u8]) -> Result<TableDef> {
        let bad = || Error::internal("corrupt table definition in the catalog");
        let text = std::str::from_utf8(bytes).map_err(|_| bad())?;
        let mut lines = text.lines();
        if lines.next() != Some("v1") {
            return Err(bad());
        }
        let id = lines.next().and_then(|l| l.parse().ok()).ok_or_else(bad)?;
        let oid = lines.next().and_then(|l| l.parse().ok()).ok_or_else(bad)?;
        let name = lines.next().ok_or_else(bad)?.to_owned();
        let pk_line = lines.next().ok_or_else(bad)?;
        let primary_key = if pk_line == "-" {
            None
        } else {
            Some(
                pk_line
                    .split(',')
                    .map(|s| s.parse().map_err(|_| bad()))
                    .collect::<Result<Vec<usize>>>()?,
            )
        };
        let mut columns = Vec::new();
        for line in lines {
            let parts: Vec<&str> = line.split('\t').collect();
            if parts.len() != 4 {
                return Err(bad());
            }
            let type_oid: u32 = parts[1].parse().map_err(|_| bad())?;
            let typmod: i32 = parts[2].parse().map_err(|_| bad())?;
            columns.push(Column {
                name: parts[0].to_owned(),
                ty: type_with_modifier(type_oid, typmod).ok_or_else(bad)?,
                not_null: parts[3] == "1",
            });
        }
        Ok(TableDef { id: TableId(id), oid, name, columns, primary_key })
    }
}

/// The type for a (type oid, typmod) pair as the catalog stores it.
pub fn type_with_modifier(oid: u32, typmod: i32) -> Option<DataType> {
    let base = DataType::from_oid(oid)?;
    let n = if typmod >= 4 { Some((typmod - 4) as u32) } else { None };
    Some(match base {
        DataType::Varchar(_) => DataType::Varchar(n),
        DataType::Bpchar(_) => DataType::Bpchar(n),
        DataType::Numeric(_) => DataType::Numeric(n.map(|m| (m >> 16, m & 0xffff))),
        other => other,
    })
}

/// The catalog key of a table definition.
pub fn table_key(name: &str) -> Vec<u8> {
    format!("table/{name}").into_bytes()
}

/// The live set of table definitions.
#[derive(Debug, Default)]
pub struct Catalog {
    tables: RwLock<BTreeMap<String, Arc<TableDef>>>,
    version: AtomicU64,
    next_id: AtomicU64,
    next_oid: AtomicU64,
}

impl Catalog {
    /// A catalog holding `tables` (as recovered); new ids start after theirs and after
    /// `max_used_id` (ids of dropped tables are never reused), new oids after theirs.
    pub fn new(tables: Vec<TableDef>, max_used_id: u32) -> Catalog {
        let next_id =
            tables.iter().map(|t| t.id.0 as u64 + 1).max().unwrap_or(1).max(max_used_id as u64 + 1);
        let next_oid =
            tables.iter().map(|t| t.oid as u64 + 1).max().unwrap_or(FIRST_USER_OID as u64);
        let map = tables.into_iter().map(|t| (t.name.clone(), Arc::new(t))).collect();
        Catalog {
            tables: RwLock::new(map),
            version: AtomicU64::new(1),
            next_id: AtomicU64::new(next_id),
            next_oid: AtomicU64::new(next_oid.max(FIRST_USER_OID as u64)),
        }
    }

    /// Changes whenever a definition changes; cached plans compare it.
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    /// The table called `name`, or 42P01.
    pub fn table(&self, name: &str) -> Result<Arc<TableDef>> {
        self.get(name).ok_or_else(|| {
            Error::new(ErrorKind::UndefinedTable, format!("relation \"{name}\" does not exist"))
        })
    }

    /// The table called `name`, if it exists.
    pub fn get(&self, name: &str) -> Option<Arc<TableDef>> {
        self.tables.read().get(name).cloned()
    }

    /// Every table, by name.
    pub fn all(&self) -> Vec<Arc<TableDef>> {
        self.tables.read().values().cloned().collect()
    }

    /// A fresh storage id.
    pub fn allocate_id(&self) -> TableId {
        TableId(self.next_id.fetch_add(1, Ordering::Relaxed) as u32)
    }

    /// A fresh pg_class oid.
    pub fn allocate_oid(&self) -> u32 {
        self.next_oid.fetch_add(1, Ordering::Relaxed) as u32
    }

    /// Installs (or replaces) a definition. Called after its catalog write is durable.
    pub fn install(&self, def: TableDef) {
        self.tables.write().insert(def.name.clone(), Arc::new(def));
        self.version.fetch_add(1, Ordering::AcqRel);
    }

    /// Removes a definition. Called after the drop is durable.
    pub fn remove(&self, name: &str) -> Option<Arc<TableDef>> {
        let removed = self.tables.write().remove(name);
        self.version.fetch_add(1, Ordering::AcqRel);
        removed
    }
}
