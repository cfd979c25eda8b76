//! pg_class, pg_index and pg_constraint: the relations troupe has (tables, their
//! primary-key and secondary indexes, sequences) and the constraints on them
//! (PRIMARY KEY, UNIQUE, CHECK).
//!
//! ```text
//!   TableDef ──▶ pg_class 'r' ─┬─ primary key ─▶ pg_class 'i' + pg_index + pg_constraint 'p'
//!                              ├─ indexes[n] ──▶ pg_class 'i' + pg_index (+ pg_constraint 'u'
//!                              │                 when a UNIQUE constraint made it)
//!                              ├─ checks[n] ───▶ pg_constraint 'c'
//!                              └─ foreign_keys[n] ▶ pg_constraint 'f' (confrelid: the parent)
//!   SequenceDef ─▶ pg_class 'S'
//!   ViewDef ─────▶ pg_class 'v' (relhasrules: its _RETURN rule)
//! ```
//! Indexes and constraints have derived oids ([`super::oids`]); tables and sequences
//! their own.

use super::oids;
use super::rows::POSTGRES_ROLE_OID;
use crate::catalog::{
    Catalog, FkAction, ForeignKeyDef, IndexDef, TableDef, ViewDef, PUBLIC_NAMESPACE_OID,
};
use crate::sequence::SequenceDef;
use crate::types::Value;

const HEAP_AM: u32 = 2;
const BTREE_AM: u32 = 403;

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

/// An int2[] (int2vector) of 1-based column numbers from 0-based positions.
pub fn attnums<'a>(v: impl IntoIterator<Item = &'a usize>) -> Value {
    Value::Array(v.into_iter().map(|n| Value::Int2(*n as i16 + 1)).collect())
}

/// The oid of schema `schema` (public for one that is gone, which a relation being
/// dropped with its schema may still name).
pub fn namespace_oid(catalog: &Catalog, schema: &str) -> u32 {
    catalog.schema_oid(schema).unwrap_or(PUBLIC_NAMESPACE_OID)
}

/// What a pg_class row describes.
struct Class<'a> {
    oid: u32,
    name: &'a str,
    namespace: u32,
    kind: u8,
    am: u32,
    natts: usize,
    has_index: bool,
    checks: usize,
    /// Holds or is referenced by a FOREIGN KEY (PostgreSQL's RI triggers); psql's `\d`
    /// looks for foreign keys only when this is set.
    has_triggers: bool,
}

fn class_row(c: Class<'_>) -> Vec<Value> {
    let table = c.kind == b'r';
    vec![
        Value::Oid(c.oid),
        text(c.name),
        Value::Oid(c.namespace),
        Value::Oid(0),
        Value::Oid(0),
        Value::Oid(POSTGRES_ROLE_OID),
        Value::Oid(c.am),
        Value::Oid(c.oid),
        Value::Oid(0),
        Value::Int4(0),
        Value::Float4(-1.0),
        Value::Oid(0),
        Value::Bool(c.has_index),
        Value::Bool(false),
        Value::Char(b'p'),
        Value::Char(c.kind),
        Value::Int2(c.natts as i16),
        Value::Int2(c.checks as i16),
        Value::Bool(c.kind == b'v'),
        Value::Bool(c.has_triggers),
        Value::Bool(false),
        Value::Bool(false),
        Value::Bool(false),
        Value::Bool(true),
        Value::Char(if table { b'd' } else { b'n' }),
        Value::Bool(false),
        Value::Null,
        Value::Null,
        Value::Null,
    ]
}

/// pg_class: each table, its indexes, each sequence and each view.
pub fn class_rows(
    catalog: &Catalog,
    tables: &[std::sync::Arc<TableDef>],
    sequences: &[SequenceDef],
    views: &[std::sync::Arc<ViewDef>],
) -> Vec<Vec<Value>> {
    let mut out = Vec::new();
    for t in tables {
        let referenced = tables.iter().any(|c| c.foreign_keys.iter().any(|f| f.references(t)));
        let namespace = namespace_oid(catalog, &t.schema);
        out.push(class_row(Class {
            oid: t.oid,
            name: &t.name,
            namespace,
            kind: b'r',
            am: HEAP_AM,
            natts: t.columns.len(),
            has_index: t.primary_key.is_some() || !t.indexes.is_empty(),
            checks: t.checks.len(),
            has_triggers: referenced || !t.foreign_keys.is_empty(),
        }));
        if let Some(key) = &t.primary_key {
            let name = t.pkey_name();
            out.push(index_class(oids::pkey_index(t.oid), &name, namespace, key.len()));
        }
        for (n, ix) in t.indexes.iter().enumerate() {
            let oid = oids::index(t.oid, n);
            out.push(index_class(oid, &ix.name, namespace, ix.columns.len()));
        }
    }
    for s in sequences {
        out.push(class_row(Class {
            oid: s.oid,
            name: &s.name,
            namespace: namespace_oid(catalog, &s.schema),
            kind: b'S',
            am: 0,
            natts: 3,
            has_index: false,
            checks: 0,
            has_triggers: false,
        }));
    }
    for v in views {
        out.push(class_row(Class {
            oid: v.oid,
            name: &v.name,
            namespace: namespace_oid(catalog, &v.schema),
            kind: b'v',
            am: 0,
            natts: v.columns.len(),
            has_index: false,
            checks: 0,
            has_triggers: false,
        }));
    }
    out
}

fn index_class(oid: u32, name: &str, namespace: u32, natts: usize) -> Vec<Value> {
    class_row(Class {
        oid,
        name,
        namespace,
        kind: b'i',
        am: BTREE_AM,
        natts,
        has_index: false,
        checks: 0,
        has_triggers: false,
    })
}

fn index_row(oid: u32, table: u32, columns: &[usize], unique: bool, primary: bool) -> Vec<Value> {
    let n = Value::Int2(columns.len() as i16);
    vec![
        Value::Oid(oid),
        Value::Oid(table),
        n.clone(),
        n,
        Value::Bool(unique),
        Value::Bool(false),
        Value::Bool(primary),
        Value::Bool(false),
        Value::Bool(true),
        Value::Bool(false),
        Value::Bool(true),
        Value::Bool(true),
        Value::Bool(true),
        Value::Bool(false),
        attnums(columns),
        Value::Null,
        Value::Null,
    ]
}

/// pg_index: the primary-key index and the secondary indexes of each table.
pub fn index_rows(tables: &[std::sync::Arc<TableDef>]) -> Vec<Vec<Value>> {
    let mut out = Vec::new();
    for t in tables {
        if let Some(key) = &t.primary_key {
            out.push(index_row(oids::pkey_index(t.oid), t.oid, key, true, true));
        }
        for (n, ix) in t.indexes.iter().enumerate() {
            out.push(index_row(oids::index(t.oid, n), t.oid, &ix.columns, ix.unique, false));
        }
    }
    out
}

/// pg_rewrite: each view's `_RETURN` rule (its action is not shown: NULL).
pub fn rewrite_rows(views: &[std::sync::Arc<ViewDef>]) -> Vec<Vec<Value>> {
    views
        .iter()
        .map(|v| {
            vec![
                Value::Oid(oids::rule(v.oid)),
                text("_RETURN"),
                Value::Oid(v.oid),
                Value::Char(b'1'),
                Value::Char(b'O'),
                Value::Bool(true),
                Value::Null,
                Value::Null,
            ]
        })
        .collect()
}

/// What a pg_constraint row describes.
struct Constraint<'a> {
    oid: u32,
    name: &'a str,
    kind: u8,
    index: u32,
    key: Value,
    bin: Value,
    foreign: Option<Foreign>,
}

/// The referencing side of a pg_constraint 'f' row.
struct Foreign {
    parent: u32,
    parent_key: Value,
    on_update: u8,
    on_delete: u8,
}

fn constraint_row(namespace: u32, t: &TableDef, c: Constraint<'_>) -> Vec<Value> {
    vec![
        Value::Oid(c.oid),
        text(c.name),
        Value::Oid(namespace),
        Value::Char(c.kind),
        Value::Bool(false),
        Value::Bool(false),
        Value::Bool(true),
        Value::Oid(t.oid),
        Value::Oid(0),
        Value::Oid(c.index),
        Value::Oid(0),
        Value::Oid(c.foreign.as_ref().map_or(0, |f| f.parent)),
        Value::Char(c.foreign.as_ref().map_or(b' ', |f| f.on_update)),
        Value::Char(c.foreign.as_ref().map_or(b' ', |f| f.on_delete)),
        Value::Char(if c.foreign.is_some() { b's' } else { b' ' }),
        Value::Bool(true),
        Value::Int4(0),
        Value::Bool(false),
        c.key,
        c.foreign.map_or(Value::Null, |f| f.parent_key),
        c.bin,
    ]
}

/// pg_constraint: each table's primary key, UNIQUE constraints, CHECKs and FOREIGN
/// KEYs (whose `conindid` is left 0: PostgreSQL names the parent's unique index).
pub fn constraint_rows(catalog: &Catalog, tables: &[std::sync::Arc<TableDef>]) -> Vec<Vec<Value>> {
    let mut out = Vec::new();
    for t in tables {
        let namespace = namespace_oid(catalog, &t.schema);
        if let Some(key) = &t.primary_key {
            out.push(constraint_row(
                namespace,
                t,
                Constraint {
                    oid: oids::pkey_constraint(t.oid),
                    name: &t.pkey_name(),
                    kind: b'p',
                    index: oids::pkey_index(t.oid),
                    key: attnums(key),
                    bin: Value::Null,
                    foreign: None,
                },
            ));
        }
        for (n, ix) in t.indexes.iter().enumerate().filter(|(_, ix)| ix.constraint) {
            out.push(constraint_row(
                namespace,
                t,
                Constraint {
                    oid: oids::unique(t.oid, n),
                    name: &ix.name,
                    kind: b'u',
                    index: oids::index(t.oid, n),
                    key: attnums(&ix.columns),
                    bin: Value::Null,
                    foreign: None,
                },
            ));
        }
        for (n, c) in t.checks.iter().enumerate() {
            out.push(constraint_row(
                namespace,
                t,
                Constraint {
                    oid: oids::check(t.oid, n),
                    name: &c.name,
                    kind: b'c',
                    index: 0,
                    key: attnums(&columns_named_in(t, &c.expr)),
                    bin: Value::Text(super::funcs::check_text(&c.expr)),
                    foreign: None,
                },
            ));
        }
        for (n, fk) in t.foreign_keys.iter().enumerate() {
            let parent = tables.iter().find(|p| fk.references(p)).map_or(0, |p| p.oid);
            out.push(constraint_row(
                namespace,
                t,
                Constraint {
                    oid: oids::foreign_key(t.oid, n),
                    name: &fk.name,
                    kind: b'f',
                    index: 0,
                    key: attnums(&fk.columns),
                    bin: Value::Null,
                    foreign: Some(Foreign {
                        parent,
                        parent_key: attnums(&fk.parent_columns),
                        on_update: fk.on_update.letter() as u8,
                        on_delete: fk.on_delete.letter() as u8,
                    }),
                },
            ));
        }
    }
    out
}

/// `FOREIGN KEY (a) REFERENCES p(id) ON UPDATE … ON DELETE …`, as
/// `pg_get_constraintdef` prints it (NO ACTION and MATCH SIMPLE are left out);
/// `parent_name` is the parent as it is shown (qualified when not visible).
pub fn foreign_key_def(
    child: &TableDef,
    fk: &ForeignKeyDef,
    parent: Option<&TableDef>,
    parent_name: &str,
) -> String {
    let parent_columns = match parent {
        Some(p) => column_list(p, &fk.parent_columns),
        None => String::new(),
    };
    let mut def = format!(
        "FOREIGN KEY ({}) REFERENCES {}({})",
        column_list(child, &fk.columns),
        parent_name,
        parent_columns
    );
    for (what, action) in [("UPDATE", fk.on_update), ("DELETE", fk.on_delete)] {
        let words = match action {
            FkAction::NoAction => continue,
            FkAction::Restrict => "RESTRICT",
            FkAction::Cascade => "CASCADE",
            FkAction::SetNull => "SET NULL",
            FkAction::SetDefault => "SET DEFAULT",
        };
        def.push_str(&format!(" ON {what} {words}"));
    }
    def
}

/// The columns an expression's text names (its identifiers outside string literals
/// that are column names), in column order: a CHECK's `conkey`.
pub fn columns_named_in(t: &TableDef, expr: &str) -> Vec<usize> {
    let mut words = Vec::new();
    let mut chars = expr.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            for d in chars.by_ref() {
                if d == '\'' {
                    break;
                }
            }
        } else if c == '"' {
            let w: String = chars.by_ref().take_while(|&d| d != '"').collect();
            words.push(w);
        } else if c.is_alphabetic() || c == '_' {
            let mut w = c.to_string();
            while let Some(&d) = chars.peek() {
                if d.is_alphanumeric() || d == '_' {
                    w.push(d);
                    chars.next();
                } else {
                    break;
                }
            }
            words.push(w.to_lowercase());
        }
    }
    (0..t.columns.len()).filter(|&i| words.iter().any(|w| *w == t.columns[i].name)).collect()
}

/// `CREATE [UNIQUE] INDEX name ON table USING btree (cols)`, as `pg_get_indexdef`
/// prints it; `table` is the table's name as shown there (always schema-qualified,
/// or when pretty only where not visible).
pub fn index_def(t: &TableDef, name: &str, columns: &[usize], unique: bool, table: &str) -> String {
    format!(
        "CREATE {}INDEX {} ON {} USING btree ({})",
        if unique { "UNIQUE " } else { "" },
        super::funcs::quote_ident(name),
        table,
        column_list(t, columns)
    )
}

/// `a, b` for column positions.
pub fn column_list(t: &TableDef, columns: &[usize]) -> String {
    columns
        .iter()
        .filter_map(|&k| t.columns.get(k).map(|c| super::funcs::quote_ident(&c.name)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The secondary index a derived oid names.
pub fn secondary(t: &TableDef, n: usize) -> Option<&IndexDef> {
    t.indexes.get(n)
}
