//! The object-identifier types `regclass`, `regtype` and `regnamespace`: an oid that
//! reads and prints as its object's name.
//!
//! ```text
//!   'items'::regclass        text ─ RegIn(Class) ─▶ oid 16386      (catalog lookup)
//!   c.oid::regclass          oid ─ plain cast ───▶ oid 16386      (no lookup)
//!   x::regclass::text        oid ─ RegOut(Class) ─▶ 'items'
//!   SELECT x::regclass       oid ─ output ───────▶ 'items'        (name_rows, at the edge)
//! ```
//! A value of a reg type is an `oid` (`Value::Oid`) everywhere inside: it compares,
//! joins and sorts as its number, as in PostgreSQL. Only the two conversions to and
//! from text need the catalog, so the planner turns them into catalog function calls
//! ([`reg_cast`]) evaluated with the session's engine at hand, and the session names
//! a query's reg-typed output columns ([`name_rows`]) before they go on the wire.
//!
//! Shortcut: a reg-typed column requested in binary format is sent as its name's
//! text, not as the 4-byte oid PostgreSQL sends; no driver we know asks for that.

use super::funcs::{format_type, CatalogFunc};
use super::{oids, visibility, VirtualTable};
use crate::catalog::{namespace, SearchPath, PG_CATALOG_NAMESPACE_OID, PUBLIC_NAMESPACE_OID};
use crate::engine::Engine;
use crate::error::{Error, ErrorKind, Result};
use crate::sql::expr::Expr;
use crate::sql::functions::Func;
use crate::types::{DataType, Value};

use super::rows::INFORMATION_SCHEMA_NAMESPACE_OID;

/// Which reg type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegKind {
    /// regclass: a relation.
    Class,
    /// regtype: a type.
    Type,
    /// regnamespace: a schema.
    Namespace,
}

impl RegKind {
    /// The reg type `ty` is, if it is one.
    pub fn of(ty: &DataType) -> Option<RegKind> {
        match ty {
            DataType::Regclass => Some(RegKind::Class),
            DataType::Regtype => Some(RegKind::Type),
            DataType::Regnamespace => Some(RegKind::Namespace),
            _ => None,
        }
    }

    /// The SQL type.
    pub fn data_type(self) -> DataType {
        match self {
            RegKind::Class => DataType::Regclass,
            RegKind::Type => DataType::Regtype,
            RegKind::Namespace => DataType::Regnamespace,
        }
    }
}

fn is_text(ty: &DataType) -> bool {
    matches!(ty, DataType::Text | DataType::Varchar(_) | DataType::Bpchar(_) | DataType::Name)
}

/// What a cast from `from` to `to` needs from the catalog: `Some((kind, true))` reads
/// a name (text → reg type), `Some((kind, false))` prints one (reg type → text).
pub fn needs_catalog(from: &DataType, to: &DataType) -> Option<(RegKind, bool)> {
    match (RegKind::of(from), RegKind::of(to)) {
        (None, Some(k)) if is_text(from) || *from == DataType::Unknown => Some((k, true)),
        (Some(k), None) if is_text(to) => Some((k, false)),
        _ => None,
    }
}

/// The expression for a cast [`needs_catalog`] said needs the catalog; `e` is text
/// when reading a name.
pub fn reg_cast(kind: RegKind, reading: bool, e: Expr) -> Expr {
    let f = if reading { CatalogFunc::RegIn(kind, false) } else { CatalogFunc::RegOut(kind) };
    Expr::Func(Func::Catalog(f), vec![e])
}

/// An identifier as a name: `"Mixed"` keeps its case, `Plain` is folded.
fn ident(s: &str) -> String {
    let s = s.trim();
    match s.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\""),
        None => s.to_lowercase(),
    }
}

/// `text::regclass` etc.: the oid the name names; with `missing_ok` (`to_regclass`)
/// NULL where PostgreSQL's input function raises an error.
pub fn reg_in(
    kind: RegKind,
    text: &str,
    engine: Option<&Engine>,
    path: &SearchPath,
    missing_ok: bool,
) -> Result<Value> {
    if let Ok(oid) = text.trim().parse::<u32>() {
        return Ok(Value::Oid(oid));
    }
    let found = match kind {
        RegKind::Class => class_oid(text, engine, path),
        RegKind::Type => type_oid(text)?,
        RegKind::Namespace => namespace_oid(&ident(text))
            .or_else(|| engine.and_then(|e| e.catalog.schema_oid(&ident(text)))),
    };
    match found {
        Some(oid) => Ok(Value::Oid(oid)),
        None if missing_ok => Ok(Value::Null),
        None => Err(match kind {
            RegKind::Class => Error::new(
                ErrorKind::UndefinedTable,
                format!("relation \"{}\" does not exist", text.trim()),
            ),
            RegKind::Type => Error::new(
                ErrorKind::UndefinedObject,
                format!("type \"{}\" does not exist", text.trim()),
            ),
            RegKind::Namespace => Error::new(
                ErrorKind::InvalidSchemaName,
                format!("schema \"{}\" does not exist", ident(text)),
            ),
        }),
    }
}

/// The oid of the relation `text` names: `s.x` in s, `x` through the search path
/// (`path`; pg_catalog's virtual tables are found there too).
fn class_oid(text: &str, engine: Option<&Engine>, path: &SearchPath) -> Option<u32> {
    let parts = namespace::text_name_parts(text).ok()?;
    let (schema, name) = namespace::split_qualified(&parts, None).ok()?;
    let in_schema = |s: &str| -> Option<u32> {
        match s {
            "pg_catalog" => VirtualTable::by_name(name).map(VirtualTable::oid),
            s => engine.and_then(|e| relation_oid(e, s, name)),
        }
    };
    match schema {
        Some(s) => in_schema(s),
        None => path.schemas().find_map(in_schema),
    }
}

/// The oid of relation `schema.name` (table, index, sequence or view).
fn relation_oid(engine: &Engine, schema: &str, name: &str) -> Option<u32> {
    for t in engine.catalog.all().iter().filter(|t| t.schema == schema) {
        if t.name == name {
            return Some(t.oid);
        }
        if t.primary_key.is_some() && t.pkey_name() == name {
            return Some(oids::pkey_index(t.oid));
        }
        if let Some(n) = t.indexes.iter().position(|ix| ix.name == name) {
            return Some(oids::index(t.oid, n));
        }
    }
    if let Some(s) = engine.sequences.get(schema, name) {
        return Some(s.def.oid);
    }
    engine.catalog.view(schema, name).map(|v| v.oid)
}

fn type_oid(text: &str) -> Result<Option<u32>> {
    let dialect = sqlparser::dialect::PostgreSqlDialect {};
    let parsed = sqlparser::parser::Parser::new(&dialect)
        .try_with_sql(text)
        .and_then(|mut p| p.parse_data_type());
    let Ok(ast) = parsed else {
        return Err(Error::syntax(format!("invalid type name \"{text}\"")));
    };
    Ok(DataType::from_sql(&ast).ok().map(|t| t.oid()).filter(|&o| o != 0))
}

fn namespace_oid(name: &str) -> Option<u32> {
    match name {
        "pg_catalog" => Some(PG_CATALOG_NAMESPACE_OID),
        "public" => Some(PUBLIC_NAMESPACE_OID),
        "information_schema" => Some(INFORMATION_SCHEMA_NAMESPACE_OID),
        _ => None,
    }
}

/// `oid::regclass::text` etc.: the object's name, or the number if no object has it
/// (as PostgreSQL prints a dangling oid).
pub fn reg_out(kind: RegKind, oid: u32, engine: Option<&Engine>, path: &SearchPath) -> String {
    if oid == 0 {
        // PostgreSQL's regclassout (and the others) print InvalidOid as "-".
        return "-".to_owned();
    }
    let name = match kind {
        RegKind::Class => class_name(oid, engine, path),
        RegKind::Type => Some(format_type(oid, -1)).filter(|n| n != "???" && !n.starts_with('_')),
        RegKind::Namespace => match oid {
            PG_CATALOG_NAMESPACE_OID => Some("pg_catalog".to_owned()),
            PUBLIC_NAMESPACE_OID => Some("public".to_owned()),
            INFORMATION_SCHEMA_NAMESPACE_OID => Some("information_schema".to_owned()),
            _ => engine
                .and_then(|e| e.catalog.schema_name(oid))
                .map(|n| super::funcs::quote_ident(&n)),
        },
    };
    name.unwrap_or_else(|| oid.to_string())
}

/// A relation's name as regclass output prints it: qualified only when the relation
/// is not visible on `path` (see `visibility.rs`).
fn class_name(oid: u32, engine: Option<&Engine>, path: &SearchPath) -> Option<String> {
    match engine {
        Some(engine) => {
            let (schema, name) = visibility::relation_of(engine, oid)?;
            Some(visibility::shown_name(engine, path, &schema, &name))
        }
        None => system_view_name(oid).map(str::to_owned),
    }
}

/// The names of the system views (pg_catalog's, then information_schema's).
const SYSTEM_VIEWS: &[&str] = &[
    "pg_class",
    "pg_namespace",
    "pg_partitioned_table",
    "pg_inherits",
    "pg_database",
    "pg_attribute",
    "pg_attrdef",
    "pg_type",
    "pg_index",
    "pg_constraint",
    "pg_am",
    "pg_roles",
    "pg_auth_members",
    "pg_collation",
    "pg_policy",
    "pg_trigger",
    "pg_views",
    "pg_statistic_ext",
    "pg_publication",
    "pg_publication_namespace",
    "pg_publication_rel",
    "pg_settings",
    "pg_prepared_statements",
    "pg_sequence",
    "pg_depend",
    "pg_rewrite",
    "tables",
    "columns",
    "schemata",
    "table_constraints",
    "key_column_usage",
    "referential_constraints",
    "constraint_column_usage",
    "views",
];

/// The name of the system view with `oid` (pg_catalog's or information_schema's).
pub fn system_view_name(oid: u32) -> Option<&'static str> {
    SYSTEM_VIEWS.iter().copied().find(|n| {
        let view = VirtualTable::by_name(n).or_else(|| VirtualTable::information_schema(n));
        view.is_some_and(|v| v.oid() == oid)
    })
}

/// A query's rows with each reg-typed column's oids replaced by their names, as the
/// output function prints them under the session's `path`.
pub fn name_rows(
    columns: &[DataType],
    mut rows: Vec<Vec<Value>>,
    engine: &Engine,
    path: &SearchPath,
) -> Vec<Vec<Value>> {
    // A reg* column, or an array of them (pg_prepared_statements.parameter_types).
    let kind_of = |t: &DataType| match t {
        DataType::Array(elem) => RegKind::of(elem),
        t => RegKind::of(t),
    };
    let regs: Vec<(usize, RegKind)> =
        columns.iter().enumerate().filter_map(|(i, t)| Some((i, kind_of(t)?))).collect();
    if regs.is_empty() {
        return rows;
    }
    let named = |kind, v: &mut Value| {
        if let Value::Oid(oid) = v {
            *v = Value::Text(reg_out(kind, *oid, Some(engine), path));
        }
    };
    for row in &mut rows {
        for &(i, kind) in &regs {
            match row.get_mut(i) {
                Some(Value::Array(items)) => items.iter_mut().for_each(|v| named(kind, v)),
                Some(v) => named(kind, v),
                None => {}
            }
        }
    }
    rows
}
