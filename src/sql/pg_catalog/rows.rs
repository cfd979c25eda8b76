//! The rows of each pg_catalog view, computed from the catalog on every scan.

use super::funcs::default_text;
use super::{oids, relations, Sources, VirtualTable};
use crate::catalog::{Column, Identity, PG_CATALOG_NAMESPACE_OID, PUBLIC_NAMESPACE_OID};
use crate::types::{DataType, Value};

/// The bootstrap superuser's oid.
pub const POSTGRES_ROLE_OID: u32 = 10;
/// The oid of role pg_database_owner (public's owner).
pub const PG_DATABASE_OWNER_OID: u32 = 6171;
pub use crate::catalog::INFORMATION_SCHEMA_NAMESPACE_OID;
/// The default collation's oid.
pub const DEFAULT_COLLATION_OID: u32 = 100;
const HEAP_AM: u32 = 2;
const BTREE_AM: u32 = 403;

/// pg_type facts for a built-in type: (oid, name, len, byval, category, element, array,
/// collation).
type TypeRow = (u32, &'static str, i16, bool, u8, u32, u32, u32);

/// The built-in types troupe implements, with PostgreSQL's oids.
pub const TYPES: &[TypeRow] = &[
    (16, "bool", 1, true, b'B', 0, 1000, 0),
    (17, "bytea", -1, false, b'U', 0, 1001, 0),
    (18, "char", 1, true, b'Z', 0, 1002, DEFAULT_COLLATION_OID),
    (19, "name", 64, false, b'S', 0, 1003, 950),
    (20, "int8", 8, true, b'N', 0, 1016, 0),
    (21, "int2", 2, true, b'N', 0, 1005, 0),
    (23, "int4", 4, true, b'N', 0, 1007, 0),
    (25, "text", -1, false, b'S', 0, 1009, DEFAULT_COLLATION_OID),
    (26, "oid", 4, true, b'N', 0, 1028, 0),
    (700, "float4", 4, true, b'N', 0, 1021, 0),
    (701, "float8", 8, true, b'N', 0, 1022, 0),
    (1042, "bpchar", -1, false, b'S', 0, 1014, DEFAULT_COLLATION_OID),
    (1043, "varchar", -1, false, b'S', 0, 1015, DEFAULT_COLLATION_OID),
    (1082, "date", 4, true, b'D', 0, 1182, 0),
    (1114, "timestamp", 8, true, b'D', 0, 1115, 0),
    (1184, "timestamptz", 8, true, b'D', 0, 1185, 0),
    (1186, "interval", 16, false, b'T', 0, 1187, 0),
    (1700, "numeric", -1, false, b'N', 0, 1231, 0),
    (2205, "regclass", 4, true, b'N', 0, 2210, 0),
    (2206, "regtype", 4, true, b'N', 0, 2211, 0),
    (2950, "uuid", 16, false, b'U', 0, 2951, 0),
    (3802, "jsonb", -1, false, b'U', 0, 3807, 0),
    (4089, "regnamespace", 4, true, b'N', 0, 4090, 0),
    (1000, "_bool", -1, false, b'A', 16, 0, 0),
    (1005, "_int2", -1, false, b'A', 21, 0, 0),
    (1007, "_int4", -1, false, b'A', 23, 0, 0),
    (1009, "_text", -1, false, b'A', 25, 0, DEFAULT_COLLATION_OID),
    (1016, "_int8", -1, false, b'A', 20, 0, 0),
];

/// The pg_type row of `oid`, if troupe knows the type.
pub fn type_row(oid: u32) -> Option<&'static TypeRow> {
    TYPES.iter().find(|t| t.0 == oid)
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

/// The rows of `view`.
pub fn rows(view: VirtualTable, src: &Sources<'_>) -> Vec<Vec<Value>> {
    use VirtualTable as V;
    let tables = src.catalog.all();
    match view {
        V::PgSettings => super::settings::rows(src.facts.settings.as_ref()),
        V::PgPreparedStatements => {
            let mut rows: Vec<Vec<Value>> = match &src.facts.prepared {
                Some(all) => all
                    .iter()
                    .filter(|(name, _)| !name.is_empty())
                    .map(|(name, stmt)| stmt.view_row(name))
                    .collect(),
                None => Vec::new(),
            };
            rows.sort_by(|a, b| crate::types::compare(&a[0], &b[0]));
            rows
        }
        V::Info(v) => v.rows(src),
        V::PgClass => {
            relations::class_rows(src.catalog, &tables, &src.sequences, &src.catalog.views())
        }
        V::PgNamespace => {
            // initdb's grants: USAGE and CREATE to the owner, USAGE to PUBLIC; a
            // schema made by CREATE SCHEMA has the default (NULL) ACL.
            let acl = |owner: &str| {
                Value::Array(vec![
                    text(&format!("{owner}=UC/{owner}")),
                    text(&format!("=U/{owner}")),
                ])
            };
            let mut rows = vec![
                vec![
                    Value::Oid(PG_CATALOG_NAMESPACE_OID),
                    text("pg_catalog"),
                    Value::Oid(10),
                    acl("postgres"),
                ],
                vec![
                    Value::Oid(PUBLIC_NAMESPACE_OID),
                    text("public"),
                    Value::Oid(PG_DATABASE_OWNER_OID),
                    acl("pg_database_owner"),
                ],
                vec![
                    Value::Oid(INFORMATION_SCHEMA_NAMESPACE_OID),
                    text("information_schema"),
                    Value::Oid(10),
                    acl("postgres"),
                ],
            ];
            rows.extend(src.catalog.schemas().iter().map(|s| {
                vec![Value::Oid(s.oid), text(&s.name), Value::Oid(POSTGRES_ROLE_OID), Value::Null]
            }));
            rows
        }
        V::PgDatabase => database_rows(),
        V::PgAttribute => {
            let mut rows: Vec<Vec<Value>> =
                tables.iter().flat_map(|t| attribute_rows(t.oid, &t.columns)).collect();
            // An index's attributes are its key columns, as the table has them (but
            // never NOT NULL or with a default).
            for t in &tables {
                let key_columns = |cols: &[usize]| -> Vec<Column> {
                    cols.iter()
                        .map(|&c| Column::new(&t.columns[c].name, t.columns[c].ty.clone(), false))
                        .collect()
                };
                if let Some(pk) = &t.primary_key {
                    rows.extend(attribute_rows(oids::pkey_index(t.oid), &key_columns(pk)));
                }
                for (n, ix) in t.indexes.iter().enumerate() {
                    rows.extend(attribute_rows(oids::index(t.oid, n), &key_columns(&ix.columns)));
                }
            }
            for v in src.catalog.views() {
                let columns: Vec<Column> =
                    v.columns.iter().map(|c| Column::new(&c.name, c.ty.clone(), false)).collect();
                rows.extend(attribute_rows(v.oid, &columns));
            }
            rows
        }
        V::PgAttrdef => tables
            .iter()
            .flat_map(|t| {
                t.columns.iter().enumerate().filter_map(move |(i, c)| {
                    let d = c.default.as_ref().filter(|_| c.identity.is_none())?;
                    Some(vec![
                        Value::Oid(oids::attrdef(t.oid, i + 1)),
                        Value::Oid(t.oid),
                        Value::Int2(i as i16 + 1),
                        Value::Text(default_text(d, &c.ty, &|n| src.shown_regclass(n))),
                    ])
                })
            })
            .collect(),
        V::PgType => TYPES
            .iter()
            .map(|&(oid, name, len, byval, cat, elem, array, coll)| {
                vec![
                    Value::Oid(oid),
                    text(name),
                    Value::Oid(PG_CATALOG_NAMESPACE_OID),
                    Value::Oid(POSTGRES_ROLE_OID),
                    Value::Int2(len),
                    Value::Bool(byval),
                    Value::Char(b'b'),
                    Value::Char(cat),
                    Value::Bool(true),
                    Value::Char(b','),
                    Value::Oid(0),
                    Value::Oid(elem),
                    Value::Oid(array),
                    Value::Oid(0),
                    Value::Int4(-1),
                    Value::Bool(false),
                    Value::Oid(coll),
                ]
            })
            .collect(),
        V::PgIndex => relations::index_rows(&tables),
        V::PgSequence => super::sequences::sequence_rows(&src.sequences),
        V::PgDepend => super::sequences::depend_rows(&src.sequences, &tables),
        V::PgRewrite => relations::rewrite_rows(&src.catalog.views()),
        V::PgViews => src
            .catalog
            .views()
            .iter()
            .map(|v| vec![text(&v.schema), text(&v.name), text("postgres")])
            .collect(),
        V::PgConstraint => relations::constraint_rows(src.catalog, &tables),
        V::PgAm => [
            (HEAP_AM, "heap", "heap_tableam_handler", b't'),
            (BTREE_AM, "btree", "bthandler", b'i'),
            (405, "hash", "hashhandler", b'i'),
            (783, "gist", "gisthandler", b'i'),
            (2742, "gin", "ginhandler", b'i'),
            (4000, "spgist", "spghandler", b'i'),
            (3580, "brin", "brinhandler", b'i'),
        ]
        .iter()
        .map(|&(oid, name, h, ty)| vec![Value::Oid(oid), text(name), text(h), Value::Char(ty)])
        .collect(),
        V::PgRoles => vec![vec![
            text("postgres"),
            Value::Bool(true),
            Value::Bool(true),
            Value::Bool(true),
            Value::Bool(true),
            Value::Bool(true),
            Value::Bool(true),
            Value::Int4(-1),
            text("********"),
            Value::Null,
            Value::Bool(true),
            Value::Null,
            Value::Oid(POSTGRES_ROLE_OID),
        ]],
        V::PgCollation => [
            (DEFAULT_COLLATION_OID, "default", b'd', -1, ""),
            (950, "C", b'c', -1, "C"),
            (951, "POSIX", b'c', -1, "POSIX"),
        ]
        .iter()
        .map(|&(oid, name, prov, enc, coll)| {
            let coll = if coll.is_empty() { Value::Null } else { text(coll) };
            vec![
                Value::Oid(oid),
                text(name),
                Value::Oid(PG_CATALOG_NAMESPACE_OID),
                Value::Oid(POSTGRES_ROLE_OID),
                Value::Char(prov),
                Value::Bool(true),
                Value::Int4(enc),
                coll.clone(),
                coll,
            ]
        })
        .collect(),
        V::PgPartitionedTable
        | V::PgInherits
        | V::PgAuthMembers
        | V::PgPolicy
        | V::PgTrigger
        | V::PgStatisticExt
        | V::PgPublication
        | V::PgPublicationNamespace
        | V::PgPublicationRel => Vec::new(),
    }
}

fn attribute_rows(rel: u32, columns: &[Column]) -> Vec<Vec<Value>> {
    columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let oid = c.ty.oid();
            let ty = type_row(oid);
            let identity = match c.identity {
                Some(Identity::Always) => b'a',
                Some(Identity::ByDefault) => b'd',
                None => 0,
            };
            let coll = ty.map_or(0, |r| r.7);
            let len = ty.map_or(-1, |r| r.2);
            // PostgreSQL's typstorage: plain for fixed-length types, main for numeric,
            // extended for the other variable-length ones.
            let storage = match (len, &c.ty) {
                (1.., _) => b'p',
                (_, DataType::Numeric(_)) => b'm',
                _ => b'x',
            };
            vec![
                Value::Oid(rel),
                text(&c.name),
                Value::Oid(oid),
                Value::Int4(-1),
                Value::Int2(len),
                Value::Int2(i as i16 + 1),
                Value::Int2(i16::from(matches!(c.ty, DataType::Array(_)))),
                Value::Int4(c.ty.type_modifier()),
                Value::Char(storage),
                char_or_empty(0),
                Value::Bool(c.not_null),
                Value::Bool(c.default.is_some() && c.identity.is_none()),
                char_or_empty(identity),
                char_or_empty(0),
                Value::Bool(false),
                Value::Bool(true),
                Value::Oid(coll),
            ]
        })
        .collect()
}

/// A `"char"` column's value; 0 is PostgreSQL's empty `"char"` (printed as '').
fn char_or_empty(c: u8) -> Value {
    if c == 0 {
        Value::Text(String::new())
    } else {
        Value::Char(c)
    }
}

fn database_rows() -> Vec<Vec<Value>> {
    let acl = || Value::Array(vec![text("=c/postgres"), text("postgres=CTc/postgres")]);
    [
        ("postgres", 5, false, Value::Null),
        ("template1", 1, true, acl()),
        ("template0", 4, true, acl()),
    ]
    .into_iter()
    .map(|(name, oid, template, acl)| {
        vec![
            Value::Oid(oid),
            text(name),
            Value::Oid(POSTGRES_ROLE_OID),
            Value::Int4(6),
            Value::Char(b'c'),
            Value::Bool(template),
            Value::Bool(name != "template0"),
            Value::Int4(-1),
            Value::Oid(1663),
            text("C.UTF-8"),
            text("C.UTF-8"),
            Value::Null,
            Value::Null,
            acl,
        ]
    })
    .collect()
}
