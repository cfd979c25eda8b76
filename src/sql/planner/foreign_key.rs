//! FOREIGN KEY constraints in CREATE TABLE and ALTER TABLE … ADD: the column form
//! `REFERENCES p [(c)]` and the table form `FOREIGN KEY (a, b) REFERENCES p (x, y)`,
//! bound to a [`ForeignKeyDef`] (what enforces them at run time is
//! `sql/foreign_keys.rs`; ALTER TABLE binds against its working copy of the table,
//! so `NewTable` is that copy there).
//!
//! As in PostgreSQL: the referenced columns default to the parent's primary key and
//! must be exactly the columns of its primary key or of one of its UNIQUE indexes; the
//! generated name is `c_a_b_fkey`; a table may reference itself. Refused with 0A000:
//! MATCH FULL / PARTIAL (MATCH SIMPLE is the default: a row with a NULL in the key is
//! not checked) and DEFERRABLE.

use sqlparser::ast;

use super::{ident, object_parts, unsupported};
use crate::catalog::namespace::{self, PG_CATALOG};
use crate::catalog::{Catalog, Column, FkAction, ForeignKeyDef, IndexDef, SearchPath};
use crate::error::{Error, ErrorKind, Result};
use crate::sql::pg_catalog::VirtualTable;

/// The table being created, as far as a foreign key (maybe a self-reference) needs it.
pub(super) struct NewTable<'a> {
    /// Its schema.
    pub schema: &'a str,
    /// Its name.
    pub name: &'a str,
    /// Its columns.
    pub columns: &'a [Column],
    /// Its primary key.
    pub primary_key: Option<&'a [usize]>,
    /// Its UNIQUE indexes.
    pub indexes: &'a [IndexDef],
}

fn action(a: Option<ast::ReferentialAction>) -> FkAction {
    match a {
        None | Some(ast::ReferentialAction::NoAction) => FkAction::NoAction,
        Some(ast::ReferentialAction::Restrict) => FkAction::Restrict,
        Some(ast::ReferentialAction::Cascade) => FkAction::Cascade,
        Some(ast::ReferentialAction::SetNull) => FkAction::SetNull,
        Some(ast::ReferentialAction::SetDefault) => FkAction::SetDefault,
    }
}

fn no_column(name: &str) -> Error {
    Error::new(
        ErrorKind::UndefinedColumn,
        format!("column \"{name}\" referenced in foreign key constraint does not exist"),
    )
}

/// Whether `schema` holds a relation called `name` that REFERENCES would find: a
/// table or view, or a system catalog in pg_catalog.
fn holds_relation(catalog: &Catalog, schema: &str, name: &str) -> bool {
    catalog.table(schema, name).is_some()
        || catalog.view(schema, name).is_some()
        || (schema == PG_CATALOG && VirtualTable::by_name(name).is_some())
}

/// Why `schema.name` (written as `parts`) is no table a key can reference: a view
/// (42809), a system catalog (42501, as PostgreSQL refuses a key on one), or nothing
/// (42P01).
fn not_a_parent(catalog: &Catalog, schema: &str, name: &str, parts: &[String]) -> Error {
    if catalog.view(schema, name).is_some() {
        Error::new(
            ErrorKind::WrongObjectType,
            format!("referenced relation \"{name}\" is not a table"),
        )
    } else if schema == PG_CATALOG && VirtualTable::by_name(name).is_some() {
        Error::new(
            ErrorKind::InsufficientPrivilege,
            format!("permission denied: \"{name}\" is a system catalog"),
        )
    } else {
        undefined(parts)
    }
}

/// 42P01 for the parent as written.
fn undefined(parts: &[String]) -> Error {
    Error::new(
        ErrorKind::UndefinedTable,
        format!("relation \"{}\" does not exist", parts.join(".")),
    )
}

fn invalid_fk(msg: String) -> Error {
    Error::new(ErrorKind::InvalidForeignKey, msg)
}

/// 0A000 for what troupe does not enforce: MATCH FULL / PARTIAL and DEFERRABLE.
pub(super) fn refuse_unsupported(fk: &ast::ForeignKeyConstraint) -> Result<()> {
    if matches!(
        fk.match_kind,
        Some(ast::ConstraintReferenceMatchKind::Full | ast::ConstraintReferenceMatchKind::Partial)
    ) {
        return Err(unsupported("MATCH FULL / MATCH PARTIAL foreign keys"));
    }
    if fk.characteristics.as_ref().is_some_and(|c| c.deferrable == Some(true)) {
        return Err(unsupported("DEFERRABLE foreign keys"));
    }
    Ok(())
}

/// Binds one FOREIGN KEY of the new table; `column` is the position of the column whose
/// `REFERENCES` it is (the column form).
pub(super) fn bind(
    catalog: &Catalog,
    path: &SearchPath,
    table: &NewTable<'_>,
    fk: &ast::ForeignKeyConstraint,
    column: Option<usize>,
) -> Result<ForeignKeyDef> {
    refuse_unsupported(fk)?;
    let columns = match column {
        Some(i) => vec![i],
        None => fk
            .columns
            .iter()
            .map(|c| {
                let n = ident(c);
                table.columns.iter().position(|x| x.name == n).ok_or_else(|| no_column(&n))
            })
            .collect::<Result<Vec<_>>>()?,
    };
    // `REFERENCES s.t` in s; `REFERENCES t` through the search path, where the new
    // table itself counts (it is created in its schema first).
    let parts = object_parts(&fk.foreign_table);
    let (given, parent_name) = namespace::split_qualified(&parts, None)?;
    let parent_schema = match given {
        Some(s) if catalog.schema_oid(s).is_none() => return Err(namespace::no_schema(s)),
        Some(s) => s.to_owned(),
        None => path
            .schemas()
            .find(|s| {
                (*s == table.schema && parent_name == table.name)
                    || holds_relation(catalog, s, parent_name)
            })
            .ok_or_else(|| undefined(&parts))?
            .to_owned(),
    };
    let parent_name = parent_name.to_owned();
    let stored;
    let (p_columns, p_pk, p_indexes): (&[Column], Option<&[usize]>, &[IndexDef]) =
        if parent_schema == table.schema && parent_name == table.name {
            (table.columns, table.primary_key, table.indexes)
        } else {
            stored = catalog
                .table(&parent_schema, &parent_name)
                .ok_or_else(|| not_a_parent(catalog, &parent_schema, &parent_name, &parts))?;
            (&stored.columns, stored.primary_key.as_deref(), &stored.indexes)
        };
    let parent_columns = if fk.referred_columns.is_empty() {
        p_pk.map(<[usize]>::to_vec).ok_or_else(|| {
            Error::new(
                ErrorKind::UndefinedObject,
                format!("there is no primary key for referenced table \"{parent_name}\""),
            )
        })?
    } else {
        fk.referred_columns
            .iter()
            .map(|c| {
                let n = ident(c);
                p_columns.iter().position(|x| x.name == n).ok_or_else(|| no_column(&n))
            })
            .collect::<Result<Vec<_>>>()?
    };
    if parent_columns.len() != columns.len() {
        return Err(invalid_fk(
            "number of referencing and referenced columns for foreign key disagree".into(),
        ));
    }
    let same_set = |key: &[usize]| {
        key.len() == parent_columns.len() && key.iter().all(|c| parent_columns.contains(c))
    };
    let unique =
        p_pk.is_some_and(same_set) || p_indexes.iter().any(|ix| ix.unique && same_set(&ix.columns));
    if !unique {
        return Err(invalid_fk(format!(
            "there is no unique constraint matching given keys for referenced table \"{parent_name}\""
        )));
    }
    for (&c, &p) in columns.iter().zip(&parent_columns) {
        let (ct, pt) = (&table.columns[c].ty, &p_columns[p].ty);
        if family(ct) != family(pt) {
            return Err(Error::new(
                ErrorKind::DatatypeMismatch,
                format!(
                    "foreign key constraint \"{}\" cannot be implemented",
                    name_of(fk, table, &columns)
                ),
            )
            .with_detail(format!(
                "Key columns \"{}\" and \"{}\" are of incompatible types: {} and {}.",
                table.columns[c].name,
                p_columns[p].name,
                ct.display_name(),
                pt.display_name()
            )));
        }
    }
    Ok(ForeignKeyDef {
        name: name_of(fk, table, &columns),
        columns,
        parent_schema,
        parent: parent_name,
        parent_columns,
        on_delete: action(fk.on_delete),
        on_update: action(fk.on_update),
    })
}

fn name_of(fk: &ast::ForeignKeyConstraint, table: &NewTable<'_>, columns: &[usize]) -> String {
    match &fk.name {
        Some(n) => ident(n),
        None => {
            let mut name = table.name.to_owned();
            for &c in columns {
                name.push('_');
                name.push_str(&table.columns[c].name);
            }
            name.push_str("_fkey");
            name
        }
    }
}

/// Types a key can be compared across (PostgreSQL needs an equality operator).
fn family(ty: &crate::types::DataType) -> String {
    use crate::types::DataType as T;
    match ty {
        T::Int2 | T::Int4 | T::Int8 | T::Numeric(_) | T::Float4 | T::Float8 => "number".into(),
        T::Text | T::Varchar(_) | T::Bpchar(_) => "text".into(),
        other => other.display_name(),
    }
}
