//! The durable text encoding of a [`TableDef`] in the catalog keyspace.
//!
//! ```text
//!   v3                      format tag (v2: the same without `i` lines; v1: also
//!   <storage id>            without the `c`/`k` line tags, defaults, identities and
//!                           checks; both still readable)
//!   <oid>
//!   <name>
//!   <pk positions "0,2"> | -
//!   c \t name \t type oid \t typmod \t not null 0|1 \t identity -|a|d \t default | \N
//!   k \t constraint name \t check expression
//!   i \t index name \t column positions "1,2" \t unique 0|1 \t constraint 0|1
//!   f \t fk name \t column positions \t parent table \t parent positions
//!     \t on delete a|r|c|n|d \t on update a|r|c|n|d \t parent schema
//!   n \t schema
//! ```
//! (`f` and `n` lines came after `v3` without a new tag: a `v3` definition without
//! them, as older data directories hold, reads as a table in public without foreign
//! keys; an `f` line without its last field references a table in public.)
//! Expressions (defaults, checks) are SQL text, as PostgreSQL keeps them, and are
//! re-bound when a statement is planned. Text fields escape `\`, tab and newline, so a
//! field never spans a line or a column.

use super::{
    type_with_modifier, CheckDef, Column, FkAction, ForeignKeyDef, Identity, IndexDef, TableDef,
    TableId,
};
use crate::error::{Error, Result};

/// Serialises `def` in the current (`v3`) format.
pub fn encode(def: &TableDef) -> Vec<u8> {
    let mut out = format!("v3\n{}\n{}\n{}\n", def.id.0, def.oid, escape(&def.name));
    let schema_line = format!("n\t{}\n", escape(&def.schema));
    match &def.primary_key {
        Some(pk) => out.push_str(&format!(
            "{}\n",
            pk.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",")
        )),
        None => out.push_str("-\n"),
    }
    for c in &def.columns {
        let identity = match c.identity {
            None => "-",
            Some(Identity::Always) => "a",
            Some(Identity::ByDefault) => "d",
        };
        let default = c.default.as_deref().map(escape).unwrap_or_else(|| "\\N".into());
        out.push_str(&format!(
            "c\t{}\t{}\t{}\t{}\t{identity}\t{default}\n",
            escape(&c.name),
            c.ty.oid(),
            c.ty.type_modifier(),
            u8::from(c.not_null),
        ));
    }
    for k in &def.checks {
        out.push_str(&format!("k\t{}\t{}\n", escape(&k.name), escape(&k.expr)));
    }
    for i in &def.indexes {
        let cols: Vec<String> = i.columns.iter().map(|c| c.to_string()).collect();
        out.push_str(&format!(
            "i\t{}\t{}\t{}\t{}\n",
            escape(&i.name),
            cols.join(","),
            u8::from(i.unique),
            u8::from(i.constraint)
        ));
    }
    let positions = |p: &[usize]| p.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(",");
    for f in &def.foreign_keys {
        out.push_str(&format!(
            "f\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            escape(&f.name),
            positions(&f.columns),
            escape(&f.parent),
            positions(&f.parent_columns),
            f.on_delete.letter(),
            f.on_update.letter(),
            escape(&f.parent_schema),
        ));
    }
    out.push_str(&schema_line);
    out.into_bytes()
}

/// Reads a `v1`, `v2` or `v3` definition.
pub fn decode(bytes: &[u8]) -> Result<TableDef> {
    let text = std::str::from_utf8(bytes).map_err(|_| bad())?;
    let mut lines = text.lines();
    let version = match lines.next() {
        Some("v1") => 1,
        Some("v2") => 2,
        Some("v3") => 3,
        _ => return Err(bad()),
    };
    let id = lines.next().and_then(|l| l.parse().ok()).ok_or_else(bad)?;
    let oid = lines.next().and_then(|l| l.parse().ok()).ok_or_else(bad)?;
    let name = unescape(lines.next().ok_or_else(bad)?)?;
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
    let mut def = TableDef {
        id: TableId(id),
        oid,
        schema: super::PUBLIC.to_owned(),
        name,
        columns: Vec::new(),
        primary_key,
        checks: Vec::new(),
        indexes: Vec::new(),
        foreign_keys: Vec::new(),
    };
    let positions = |cols: &str| -> Result<Vec<usize>> {
        let v = cols
            .split(',')
            .map(|c| c.parse::<usize>().map_err(|_| bad()))
            .collect::<Result<Vec<_>>>()?;
        if v.is_empty() {
            return Err(bad());
        }
        Ok(v)
    };
    for line in lines {
        let parts: Vec<&str> = line.split('\t').collect();
        match (version, parts.as_slice()) {
            (1, [name, ty, typmod, not_null]) => {
                def.columns.push(column(name, ty, typmod, not_null)?);
            }
            (2 | 3, ["c", name, ty, typmod, not_null, identity, default]) => {
                let mut c = column(name, ty, typmod, not_null)?;
                c.identity = match *identity {
                    "-" => None,
                    "a" => Some(Identity::Always),
                    "d" => Some(Identity::ByDefault),
                    _ => return Err(bad()),
                };
                c.default = if *default == "\\N" { None } else { Some(unescape(default)?) };
                def.columns.push(c);
            }
            (2 | 3, ["k", name, expr]) => {
                def.checks.push(CheckDef { name: unescape(name)?, expr: unescape(expr)? });
            }
            (3, ["i", name, cols, unique, constraint]) => {
                let columns = cols
                    .split(',')
                    .map(|c| c.parse::<usize>().map_err(|_| bad()))
                    .collect::<Result<Vec<_>>>()?;
                if columns.is_empty() {
                    return Err(bad());
                }
                def.indexes.push(IndexDef {
                    name: unescape(name)?,
                    columns,
                    unique: *unique == "1",
                    constraint: *constraint == "1",
                });
            }
            (3, ["f", name, cols, parent, parent_cols, on_delete, on_update, rest @ ..])
                if rest.len() <= 1 =>
            {
                def.foreign_keys.push(ForeignKeyDef {
                    name: unescape(name)?,
                    parent_schema: match rest.first() {
                        Some(s) => unescape(s)?,
                        None => super::PUBLIC.to_owned(),
                    },
                    columns: positions(cols)?,
                    parent: unescape(parent)?,
                    parent_columns: positions(parent_cols)?,
                    on_delete: FkAction::from_letter(on_delete).ok_or_else(bad)?,
                    on_update: FkAction::from_letter(on_update).ok_or_else(bad)?,
                });
            }
            (3, ["n", schema]) => def.schema = unescape(schema)?,
            _ => return Err(bad()),
        }
    }
    for c in &mut def.columns {
        if let Some(d) = &c.default {
            c.default = Some(bind_old_nextval(d, &def.schema));
        }
    }
    Ok(def)
}

/// A SERIAL default stored before defaults were bound at creation, `nextval('t_id_seq')`
/// with an unqualified name, bound to the sequence in the table's own schema (where
/// SERIAL puts it): `nextval('public.t_id_seq'::regclass)`. Anything else as it is.
fn bind_old_nextval(default: &str, schema: &str) -> String {
    let name = default.strip_prefix("nextval('").and_then(|r| r.strip_suffix("')"));
    match name {
        Some(n)
            if n.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
                && n.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') =>
        {
            let schema = crate::sql::pg_catalog::funcs::quote_ident(schema).replace('\'', "''");
            format!("nextval('{schema}.{n}'::regclass)")
        }
        _ => default.to_owned(),
    }
}

fn column(name: &str, ty: &str, typmod: &str, not_null: &str) -> Result<Column> {
    let type_oid: u32 = ty.parse().map_err(|_| bad())?;
    let typmod: i32 = typmod.parse().map_err(|_| bad())?;
    Ok(Column::new(
        unescape(name)?,
        type_with_modifier(type_oid, typmod).ok_or_else(bad)?,
        not_null == "1",
    ))
}

fn bad() -> Error {
    Error::internal("corrupt table definition in the catalog")
}

/// Escapes `\`, tab and newline so that a text field stays on its line and column.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out
}

/// Inverse of [`escape`].
pub fn unescape(s: &str) -> Result<String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(ch) = chars.next() {
        if ch != '\\' {
            out.push(ch);
            continue;
        }
        out.push(match chars.next() {
            Some('\\') => '\\',
            Some('t') => '\t',
            Some('n') => '\n',
            Some('r') => '\r',
            _ => return Err(bad()),
        });
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::types::DataType;

    #[test]
    fn an_unqualified_serial_default_binds_to_the_tables_schema() {
        assert_eq!(
            bind_old_nextval("nextval('t_id_seq')", "public"),
            "nextval('public.t_id_seq'::regclass)"
        );
        assert_eq!(
            bind_old_nextval("nextval('t_id_seq')", "My S"),
            "nextval('\"My S\".t_id_seq'::regclass)"
        );
        for kept in ["nextval('s.q'::regclass)", "nextval('\"Q\"')", "nextval('s.q')", "7"] {
            assert_eq!(bind_old_nextval(kept, "public"), kept);
        }
    }

    #[test]
    fn v3_round_trips_defaults_identities_checks_and_indexes() {
        let mut id = Column::new("id", DataType::Int8, true);
        id.identity = Some(Identity::Always);
        id.default = Some("nextval('\"s\tx\".t_id_seq'::regclass)".into());
        let mut note = Column::new("note", DataType::Varchar(Some(10)), false);
        note.default = Some("'a\tb\\c\nd'".into());
        let def = TableDef {
            id: TableId(3),
            oid: 16390,
            schema: "s\tx".into(),
            name: "t".into(),
            columns: vec![id, note],
            primary_key: Some(vec![0]),
            checks: vec![CheckDef { name: "t_id_check".into(), expr: "id > 0".into() }],
            indexes: vec![
                IndexDef {
                    name: "t_note_key".into(),
                    columns: vec![1],
                    unique: true,
                    constraint: true,
                },
                IndexDef {
                    name: "t\tix".into(),
                    columns: vec![1, 0],
                    unique: false,
                    constraint: false,
                },
            ],
            foreign_keys: vec![ForeignKeyDef {
                name: "t_id_note_fkey".into(),
                columns: vec![0, 1],
                parent_schema: "s".into(),
                parent: "p\tq".into(),
                parent_columns: vec![1, 0],
                on_delete: FkAction::Cascade,
                on_update: FkAction::SetDefault,
            }],
        };
        assert_eq!(decode(&encode(&def)).unwrap(), def);
    }

    #[test]
    fn v1_definitions_of_older_data_directories_are_still_read() {
        let v1 = "v1\n2\n16385\nold\n0\na\t23\t-1\t1\nb\t25\t-1\t0\n";
        let def = decode(v1.as_bytes()).unwrap();
        assert_eq!(
            def.columns,
            vec![Column::new("a", DataType::Int4, true), Column::new("b", DataType::Text, false)]
        );
        assert!(def.checks.is_empty());
        assert_eq!(def.primary_key, Some(vec![0]));
    }

    #[test]
    fn v2_definitions_are_still_read_without_indexes() {
        let v2 = "v2\n2\n16385\nold\n0\nc\ta\t23\t-1\t1\t-\t\\N\nk\tc\ta > 0\n";
        let def = decode(v2.as_bytes()).unwrap();
        assert_eq!(def.checks.len(), 1);
        assert!(def.indexes.is_empty());
        assert_eq!(def.schema, "public");
    }

    #[test]
    fn v3_without_schema_lines_is_in_public_and_references_public() {
        let v3 = "v3\n2\n16385\nc\n-\nc\ta\t23\t-1\t0\t-\t\\N\nf\tc_a_fkey\t0\tp\t0\ta\ta\n";
        let def = decode(v3.as_bytes()).unwrap();
        assert_eq!(def.schema, "public");
        assert_eq!(def.foreign_keys[0].parent_schema, "public");
    }

    #[test]
    fn a_truncated_or_unknown_encoding_is_an_error_not_a_panic() {
        assert!(decode(b"v4\n").is_err());
        assert!(decode(b"v3\n1\n2\nt\n-\ni\tx\t\t1\t0\n").is_err());
        assert!(decode(b"v2\n1\n2\nt\n-\nc\tx\n").is_err());
        assert!(unescape("bad\\").is_err());
    }
}
