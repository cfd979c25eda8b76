//! `information_schema`: tables, columns, schemata, views, table_constraints,
//! key_column_usage, referential_constraints and constraint_column_usage, computed from the catalog like the pg_catalog views, with
//! PostgreSQL 15's column names and values (what ORMs' introspection selects).
//!
//! Shortcuts, on purpose:
//! * The SQL-standard domains are served as their base types: `sql_identifier` as
//!   `name`, `character_data` and `yes_or_no` as `varchar`, `cardinal_number` as
//!   `int4` (the values are the same; RowDescription names the base type's oid).
//! * Only the columns ORMs read are present (a query naming another gets 42703), and
//!   only user objects are listed: `tables`, `columns` and the constraint views hold
//!   no rows for pg_catalog's or information_schema's own relations, which a query
//!   filtering on `table_schema = 'public'` (what ORMs send) does not see anyway.
//! * Views are listed in `tables` (`VIEW`, `is_insertable_into` NO: troupe does not
//!   write through views, where PostgreSQL says YES for a simple view), in `columns`
//!   (`is_updatable` NO, for the same reason) and in `views`,
//!   which has no `view_definition` column: troupe keeps the text as written, not
//!   PostgreSQL's deparsed form, and a query naming it gets 42703 rather than a
//!   different text.

use super::funcs::default_text;
use super::relations::{columns_named_in, namespace_oid};
use super::rows::type_row;
use super::Sources;
use crate::catalog::{Column, FkAction, ForeignKeyDef, Identity, TableDef};
use crate::types::{DataType, Value};
use std::sync::Arc;

/// An information_schema view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InfoView {
    /// information_schema.tables.
    Tables,
    /// information_schema.columns.
    Columns,
    /// information_schema.schemata.
    Schemata,
    /// information_schema.table_constraints.
    TableConstraints,
    /// information_schema.key_column_usage.
    KeyColumnUsage,
    /// information_schema.referential_constraints.
    ReferentialConstraints,
    /// information_schema.constraint_column_usage.
    ConstraintColumnUsage,
    /// information_schema.views.
    Views,
}

impl InfoView {
    /// The view called `name` in schema information_schema.
    pub fn by_name(name: &str) -> Option<InfoView> {
        Some(match name {
            "tables" => InfoView::Tables,
            "columns" => InfoView::Columns,
            "schemata" => InfoView::Schemata,
            "table_constraints" => InfoView::TableConstraints,
            "key_column_usage" => InfoView::KeyColumnUsage,
            "referential_constraints" => InfoView::ReferentialConstraints,
            "constraint_column_usage" => InfoView::ConstraintColumnUsage,
            "views" => InfoView::Views,
            _ => return None,
        })
    }

    /// Its oid (pg_class of PostgreSQL 15's initdb assigns these numbers).
    pub fn oid(self) -> u32 {
        match self {
            InfoView::Tables => 13_236,
            InfoView::Columns => 13_171,
            InfoView::Schemata => 13_212,
            InfoView::TableConstraints => 13_228,
            InfoView::KeyColumnUsage => 13_184,
            InfoView::ReferentialConstraints => 13_220,
            InfoView::ConstraintColumnUsage => 13_144,
            InfoView::Views => 13_248,
        }
    }

    /// Its columns.
    pub fn columns(self) -> Vec<(&'static str, DataType)> {
        let id = || DataType::Name;
        let chr = || DataType::Varchar(None);
        let num = || DataType::Int4;
        match self {
            InfoView::Tables => vec![
                ("table_catalog", id()),
                ("table_schema", id()),
                ("table_name", id()),
                ("table_type", chr()),
                ("self_referencing_column_name", id()),
                ("reference_generation", chr()),
                ("user_defined_type_catalog", id()),
                ("user_defined_type_schema", id()),
                ("user_defined_type_name", id()),
                ("is_insertable_into", chr()),
                ("is_typed", chr()),
                ("commit_action", chr()),
            ],
            InfoView::Columns => vec![
                ("table_catalog", id()),
                ("table_schema", id()),
                ("table_name", id()),
                ("column_name", id()),
                ("ordinal_position", num()),
                ("column_default", chr()),
                ("is_nullable", chr()),
                ("data_type", chr()),
                ("character_maximum_length", num()),
                ("character_octet_length", num()),
                ("numeric_precision", num()),
                ("numeric_precision_radix", num()),
                ("numeric_scale", num()),
                ("datetime_precision", num()),
                ("interval_type", chr()),
                ("interval_precision", num()),
                ("collation_name", id()),
                ("udt_catalog", id()),
                ("udt_schema", id()),
                ("udt_name", id()),
                ("is_identity", chr()),
                ("identity_generation", chr()),
                ("identity_start", chr()),
                ("identity_increment", chr()),
                ("identity_maximum", chr()),
                ("identity_minimum", chr()),
                ("identity_cycle", chr()),
                ("is_generated", chr()),
                ("generation_expression", chr()),
                ("is_updatable", chr()),
            ],
            InfoView::Schemata => vec![
                ("catalog_name", id()),
                ("schema_name", id()),
                ("schema_owner", id()),
                ("default_character_set_catalog", id()),
                ("default_character_set_schema", id()),
                ("default_character_set_name", id()),
                ("sql_path", chr()),
            ],
            InfoView::TableConstraints => vec![
                ("constraint_catalog", id()),
                ("constraint_schema", id()),
                ("constraint_name", id()),
                ("table_catalog", id()),
                ("table_schema", id()),
                ("table_name", id()),
                ("constraint_type", chr()),
                ("is_deferrable", chr()),
                ("initially_deferred", chr()),
                ("enforced", chr()),
                ("nulls_distinct", chr()),
            ],
            InfoView::KeyColumnUsage => vec![
                ("constraint_catalog", id()),
                ("constraint_schema", id()),
                ("constraint_name", id()),
                ("table_catalog", id()),
                ("table_schema", id()),
                ("table_name", id()),
                ("column_name", id()),
                ("ordinal_position", num()),
                ("position_in_unique_constraint", num()),
            ],
            InfoView::ReferentialConstraints => vec![
                ("constraint_catalog", id()),
                ("constraint_schema", id()),
                ("constraint_name", id()),
                ("unique_constraint_catalog", id()),
                ("unique_constraint_schema", id()),
                ("unique_constraint_name", id()),
                ("match_option", chr()),
                ("update_rule", chr()),
                ("delete_rule", chr()),
            ],
            InfoView::ConstraintColumnUsage => vec![
                ("table_catalog", id()),
                ("table_schema", id()),
                ("table_name", id()),
                ("column_name", id()),
                ("constraint_catalog", id()),
                ("constraint_schema", id()),
                ("constraint_name", id()),
            ],
            InfoView::Views => vec![
                ("table_catalog", id()),
                ("table_schema", id()),
                ("table_name", id()),
                ("check_option", chr()),
                ("is_trigger_updatable", chr()),
                ("is_trigger_deletable", chr()),
                ("is_trigger_insertable_into", chr()),
            ],
        }
    }

    /// Its rows.
    pub fn rows(self, src: &Sources<'_>) -> Vec<Vec<Value>> {
        let db = src.facts.database.as_str();
        let db = if db.is_empty() { "postgres" } else { db };
        let tables = src.catalog.all();
        match self {
            InfoView::Tables => {
                let row = |schema: &str, name: &str, kind: &str, insertable: &str| {
                    let mut r = vec![text(db), text(schema), text(name), text(kind)];
                    r.extend(std::iter::repeat_n(Value::Null, 5));
                    r.extend([text(insertable), text("NO"), Value::Null]);
                    r
                };
                let mut out: Vec<_> =
                    tables.iter().map(|t| row(&t.schema, &t.name, "BASE TABLE", "YES")).collect();
                let views = src.catalog.views();
                out.extend(views.iter().map(|v| row(&v.schema, &v.name, "VIEW", "NO")));
                out
            }
            InfoView::Views => src
                .catalog
                .views()
                .iter()
                .map(|v| {
                    let mut r = vec![text(db), text(&v.schema), text(&v.name), text("NONE")];
                    r.extend([text("NO"), text("NO"), text("NO")]);
                    r
                })
                .collect(),
            InfoView::ReferentialConstraints => tables
                .iter()
                .flat_map(|t| t.foreign_keys.iter().map(|fk| referential_row(db, t, fk, &tables)))
                .collect(),
            InfoView::ConstraintColumnUsage => {
                tables.iter().flat_map(|t| column_usage_rows(db, t, &tables)).collect()
            }
            InfoView::Columns => {
                let mut out: Vec<_> = tables
                    .iter()
                    .flat_map(|t| {
                        let rel = (t.schema.as_str(), t.name.as_str());
                        t.columns
                            .iter()
                            .enumerate()
                            .map(move |c| column_row(db, rel, false, c, src))
                    })
                    .collect();
                for v in src.catalog.views() {
                    let columns: Vec<Column> = v
                        .columns
                        .iter()
                        .map(|c| Column::new(&c.name, c.ty.clone(), false))
                        .collect();
                    let rel = (v.schema.as_str(), v.name.as_str());
                    out.extend(
                        columns.iter().enumerate().map(|c| column_row(db, rel, true, c, src)),
                    );
                }
                out
            }
            InfoView::Schemata => {
                let user = src.catalog.schemas();
                [
                    ("information_schema", "postgres"),
                    ("pg_catalog", "postgres"),
                    ("public", "pg_database_owner"),
                ]
                .into_iter()
                .chain(user.iter().map(|s| (s.name.as_str(), "postgres")))
                .map(|(s, owner)| {
                    let mut r = vec![text(db), text(s), text(owner)];
                    r.extend(std::iter::repeat_n(Value::Null, 4));
                    r
                })
                .collect()
            }
            InfoView::TableConstraints => {
                tables.iter().flat_map(|t| constraint_rows(db, t, src)).collect()
            }
            InfoView::KeyColumnUsage => tables
                .iter()
                .flat_map(|t| {
                    let unique = keys(t).into_iter().map(|(name, cols)| (name, cols, None));
                    let foreign = t.foreign_keys.iter().map(|fk| {
                        // position_in_unique_constraint: where the referenced column
                        // stands in the parent's key (the key lists them in its order).
                        let parent_key = referenced_key(fk, &tables).map(|(_, k)| k);
                        let positions = fk.parent_columns.iter().map(|pc| {
                            let at =
                                parent_key.as_ref().and_then(|k| k.iter().position(|c| c == pc));
                            at.map(|p| p as i32 + 1)
                        });
                        (fk.name.clone(), fk.columns.clone(), Some(positions.collect::<Vec<_>>()))
                    });
                    unique.chain(foreign).flat_map(move |(name, columns, positions)| {
                        columns.into_iter().enumerate().map(move |(k, c)| {
                            let mut r = vec![text(db), text(&t.schema), text(&name)];
                            r.extend([text(db), text(&t.schema), text(&t.name)]);
                            r.push(text(&t.columns[c].name));
                            r.push(Value::Int4(k as i32 + 1));
                            let position =
                                positions.as_ref().and_then(|p| p.get(k).copied().flatten());
                            r.push(position.map_or(Value::Null, Value::Int4));
                            r
                        })
                    })
                })
                .collect(),
        }
    }
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn yes_no(b: bool) -> Value {
    text(if b { "YES" } else { "NO" })
}

fn int(n: Option<i64>) -> Value {
    n.map_or(Value::Null, |n| Value::Int4(n as i32))
}

/// The PRIMARY KEY and UNIQUE constraints of `t`: name and key columns.
fn keys(t: &TableDef) -> Vec<(String, Vec<usize>)> {
    let mut out = Vec::new();
    if let Some(k) = &t.primary_key {
        out.push((t.pkey_name(), k.clone()));
    }
    for ix in t.indexes.iter().filter(|ix| ix.constraint) {
        out.push((ix.name.clone(), ix.columns.clone()));
    }
    out
}

fn constraint_rows(db: &str, t: &TableDef, src: &Sources<'_>) -> Vec<Vec<Value>> {
    let row = |name: &str, kind: &str, nulls: Value| {
        let mut r = vec![text(db), text(&t.schema), text(name)];
        r.extend([text(db), text(&t.schema), text(&t.name), text(kind)]);
        r.extend([text("NO"), text("NO"), text("YES"), nulls]);
        r
    };
    let mut out = Vec::new();
    for c in &t.checks {
        out.push(row(&c.name, "CHECK", Value::Null));
    }
    if t.primary_key.is_some() {
        out.push(row(&t.pkey_name(), "PRIMARY KEY", Value::Null));
    }
    for ix in t.indexes.iter().filter(|ix| ix.constraint) {
        out.push(row(&ix.name, "UNIQUE", text("YES")));
    }
    for fk in &t.foreign_keys {
        out.push(row(&fk.name, "FOREIGN KEY", Value::Null));
    }
    // PostgreSQL 15 lists each NOT NULL column as a CHECK constraint with a made-up
    // name: <namespace oid>_<table oid>_<attnum>_not_null.
    let namespace = namespace_oid(src.catalog, &t.schema);
    for (i, _) in t.columns.iter().enumerate().filter(|(_, c)| c.not_null) {
        let name = format!("{}_{}_{}_not_null", namespace, t.oid, i + 1);
        out.push(row(&name, "CHECK", Value::Null));
    }
    out
}

/// The parent's PRIMARY KEY or UNIQUE constraint that a foreign key references: its
/// name and columns.
fn referenced_key(fk: &ForeignKeyDef, tables: &[Arc<TableDef>]) -> Option<(String, Vec<usize>)> {
    let parent = tables.iter().find(|p| fk.references(p))?;
    let mut wanted = fk.parent_columns.clone();
    wanted.sort_unstable();
    keys(parent).into_iter().find(|(_, cols)| {
        let mut cols = cols.clone();
        cols.sort_unstable();
        cols == wanted
    })
}

fn rule(action: FkAction) -> Value {
    text(match action {
        FkAction::NoAction => "NO ACTION",
        FkAction::Restrict => "RESTRICT",
        FkAction::Cascade => "CASCADE",
        FkAction::SetNull => "SET NULL",
        FkAction::SetDefault => "SET DEFAULT",
    })
}

/// One referential_constraints row: foreign key `fk` of `t`.
fn referential_row(
    db: &str,
    t: &TableDef,
    fk: &ForeignKeyDef,
    tables: &[Arc<TableDef>],
) -> Vec<Value> {
    let key = referenced_key(fk, tables).map_or(Value::Null, |(name, _)| text(&name));
    let mut r = vec![text(db), text(&t.schema), text(&fk.name)];
    r.extend([text(db), text(&fk.parent_schema), key]);
    r.extend([text("NONE"), rule(fk.on_update), rule(fk.on_delete)]);
    r
}

/// constraint_column_usage: the columns each constraint of `t` uses — its own for
/// PRIMARY KEY, UNIQUE and CHECK, the referenced ones (of the parent) for a FOREIGN KEY.
fn column_usage_rows(db: &str, t: &TableDef, tables: &[Arc<TableDef>]) -> Vec<Vec<Value>> {
    let row = |table: &TableDef, column: usize, constraint: &str| {
        let mut r = vec![text(db), text(&table.schema), text(&table.name)];
        r.push(text(&table.columns[column].name));
        r.extend([text(db), text(&t.schema), text(constraint)]);
        r
    };
    let mut out = Vec::new();
    for (name, columns) in keys(t) {
        out.extend(columns.iter().map(|&c| row(t, c, &name)));
    }
    for c in &t.checks {
        out.extend(columns_named_in(t, &c.expr).into_iter().map(|k| row(t, k, &c.name)));
    }
    for fk in &t.foreign_keys {
        if let Some(parent) = tables.iter().find(|p| fk.references(p)) {
            let mut columns = fk.parent_columns.clone();
            columns.sort_unstable();
            out.extend(columns.iter().map(|&c| row(parent, c, &fk.name)));
        }
    }
    out
}

/// (data_type, char max length, char octet length, numeric precision, radix, scale,
/// datetime precision) for a column type, as information_schema reports them.
type TypeFacts =
    (String, Option<i64>, Option<i64>, Option<i64>, Option<i64>, Option<i64>, Option<i64>);

fn type_facts(ty: &DataType) -> TypeFacts {
    use DataType as T;
    const UNBOUNDED: i64 = 1_073_741_824;
    let name = match ty {
        T::Array(_) => "ARRAY".to_owned(),
        T::Bpchar(_) => "character".to_owned(),
        other => other.without_modifier().display_name(),
    };
    let (len, octets) = match ty {
        T::Varchar(Some(n)) | T::Bpchar(Some(n)) => (Some(*n as i64), Some(*n as i64 * 4)),
        T::Varchar(None) | T::Bpchar(None) | T::Text => (None, Some(UNBOUNDED)),
        _ => (None, None),
    };
    let (precision, radix, scale) = match ty {
        T::Int2 => (Some(16), Some(2), Some(0)),
        T::Int4 => (Some(32), Some(2), Some(0)),
        T::Int8 => (Some(64), Some(2), Some(0)),
        T::Float4 => (Some(24), Some(2), None),
        T::Float8 => (Some(53), Some(2), None),
        T::Numeric(Some((p, s))) => (Some(*p as i64), Some(10), Some(*s as i64)),
        T::Numeric(None) => (None, Some(10), None),
        _ => (None, None, None),
    };
    let datetime = match ty {
        T::Date => Some(0),
        T::Timestamp | T::TimestampTz | T::Interval => Some(6),
        _ => None,
    };
    (name, len, octets, precision, radix, scale, datetime)
}

/// One information_schema.columns row: column `i` (`c`) of relation `rel`; a view's
/// columns are not updatable (troupe does not write through views).
fn column_row(
    db: &str,
    (schema, rel): (&str, &str),
    view: bool,
    (i, c): (usize, &Column),
    src: &Sources<'_>,
) -> Vec<Value> {
    let (data_type, len, octets, precision, radix, scale, datetime) = type_facts(&c.ty);
    let udt = type_row(c.ty.oid()).map_or_else(String::new, |r| r.1.to_owned());
    let default = match (&c.default, c.identity) {
        (Some(d), None) => text(&default_text(d, &c.ty, &|n| src.shown_regclass(n))),
        _ => Value::Null,
    };
    let mut r = vec![text(db), text(schema), text(rel), text(&c.name)];
    r.extend([Value::Int4(i as i32 + 1), default, yes_no(!c.not_null), text(&data_type)]);
    r.extend([int(len), int(octets), int(precision), int(radix), int(scale), int(datetime)]);
    r.extend([Value::Null, Value::Null, Value::Null]);
    r.extend([text(db), text("pg_catalog"), text(&udt)]);
    r.push(yes_no(c.identity.is_some()));
    let seq = src.sequences.iter().find(|s| {
        s.schema == schema
            && s.owned_by.as_ref().is_some_and(|(tb, col)| tb == rel && *col == c.name)
    });
    match (c.identity, seq) {
        (Some(kind), Some(s)) => {
            r.push(text(match kind {
                Identity::Always => "ALWAYS",
                Identity::ByDefault => "BY DEFAULT",
            }));
            for n in [s.start, s.increment, s.max, s.min] {
                r.push(text(&n.to_string()));
            }
            r.push(yes_no(s.cycle));
        }
        _ => {
            r.extend(std::iter::repeat_n(Value::Null, 5));
            r.push(text("NO"));
        }
    }
    r.extend([text("NEVER"), Value::Null, yes_no(!view)]);
    r
}
