//! pg_sequence and pg_depend: a sequence's parameters, and the dependency of a
//! sequence on the column that owns it, which psql's `\d` reads to print "Owned by:"
//! (SERIAL, OWNED BY: deptype 'a') or "Sequence for identity column:" ('i').
//!
//! troupe records no other dependencies (a view's on its tables, a constraint's on
//! its index are checked from the definitions themselves), so pg_depend holds only
//! these rows.

use crate::catalog::TableDef;
use crate::sequence::SequenceDef;
use crate::sync::Arc;
use crate::types::Value;

/// pg_class's oid, the class of every object pg_depend names here.
const PG_CLASS: u32 = 1259;

/// pg_sequence: one row per sequence.
pub fn sequence_rows(sequences: &[SequenceDef]) -> Vec<Vec<Value>> {
    sequences
        .iter()
        .map(|s| {
            vec![
                Value::Oid(s.oid),
                Value::Oid(s.ty.oid()),
                Value::Int8(s.start),
                Value::Int8(s.increment),
                Value::Int8(s.max),
                Value::Int8(s.min),
                Value::Int8(s.cache),
                Value::Bool(s.cycle),
            ]
        })
        .collect()
}

/// pg_depend: each owned sequence's dependency on its column.
pub fn depend_rows(sequences: &[SequenceDef], tables: &[Arc<TableDef>]) -> Vec<Vec<Value>> {
    let mut out = Vec::new();
    for s in sequences {
        let Some((table, column)) = &s.owned_by else { continue };
        let Some(t) = tables.iter().find(|t| t.schema == s.schema && t.name == *table) else {
            continue;
        };
        let Some(i) = t.column_index(column) else { continue };
        let deptype = if t.columns[i].identity.is_some() { b'i' } else { b'a' };
        out.push(vec![
            Value::Oid(PG_CLASS),
            Value::Oid(s.oid),
            Value::Int4(0),
            Value::Oid(PG_CLASS),
            Value::Oid(t.oid),
            Value::Int4(i as i32 + 1),
            Value::Char(deptype),
        ]);
    }
    out
}
