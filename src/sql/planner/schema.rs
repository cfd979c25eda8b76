//! CREATE SCHEMA and DROP SCHEMA, planned without the catalog: whether the schema
//! exists, is built in or holds anything is decided when the statement runs, under
//! the DDL lock (`session/schemas.rs`).
//!
//! Refused with 0A000: `AUTHORIZATION` naming a role other than `postgres` (troupe
//! has that one role), options PostgreSQL does not have (OR REPLACE, WITH, OPTIONS),
//! and DROP SCHEMA … CASCADE.

use sqlparser::ast;

use super::{ident, object_parts, unsupported};
use crate::catalog::Catalog;
use crate::error::{Error, ErrorKind, Result};
use crate::sql::plan::Plan;

/// The name of a relation that `CREATE TABLE / VIEW / SEQUENCE parts` makes, and
/// whether the schema was given (then it is public; unqualified, the session checks
/// `search_path` when it runs the statement). A schema other than public is refused:
/// a user schema with 0A000, pg_catalog with PostgreSQL's 42501, a missing one with
/// 3F000.
pub fn creation_name(catalog: &Catalog, parts: &[String]) -> Result<(String, bool)> {
    match parts {
        [n] => Ok((n.clone(), false)),
        [s, n] if s == "public" => Ok((n.clone(), true)),
        [s, n] if s == "pg_catalog" => Err(Error::new(
            ErrorKind::InsufficientPrivilege,
            format!("permission denied to create \"pg_catalog.{n}\""),
        )
        .with_detail("System catalog modifications are currently disallowed.")),
        [s, _] if catalog.schema_oid(s).is_some() => Err(in_user_schema(s)),
        [s, _] => {
            Err(Error::new(ErrorKind::InvalidSchemaName, format!("schema \"{s}\" does not exist")))
        }
        _ => Err(Error::syntax(format!("improper relation name: {}", parts.join(".")))),
    }
}

/// The names DROP TABLE / DROP VIEW acts on: those in public (qualified or not).
/// A name in another schema names nothing (relations live in public only): without
/// IF EXISTS that is PostgreSQL's error (42P01 `table "t" does not exist`, 42704 for
/// an index, or 3F000 for a missing schema); with IF EXISTS it is skipped (PostgreSQL's notice is not
/// sent).
pub fn drop_names(
    catalog: &Catalog,
    names: &[ast::ObjectName],
    kind: &str,
    if_exists: bool,
) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for name in names {
        match object_parts(name).as_slice() {
            [n] => out.push(n.clone()),
            [s, n] if s == "public" => out.push(n.clone()),
            _ if if_exists => {}
            [s, n] if catalog.schema_oid(s).is_some() => {
                // PostgreSQL: 42704 for an index, 42P01 for a table, view or sequence.
                let code = if kind == "index" {
                    ErrorKind::UndefinedObject
                } else {
                    ErrorKind::UndefinedTable
                };
                return Err(Error::new(code, format!("{kind} \"{n}\" does not exist")));
            }
            [s, _] => {
                return Err(Error::new(
                    ErrorKind::InvalidSchemaName,
                    format!("schema \"{s}\" does not exist"),
                ))
            }
            _ => return Err(Error::syntax(format!("improper relation name: {name}"))),
        }
    }
    Ok(out)
}

/// 0A000 for a relation that would be created in user schema `schema`.
pub fn in_user_schema(schema: &str) -> Error {
    Error::new(
        ErrorKind::FeatureNotSupported,
        format!("creating relations in schema \"{schema}\" is not supported yet"),
    )
    .with_detail("troupe keeps every table, view and sequence in schema public.")
}

/// CREATE SCHEMA [IF NOT EXISTS] { name [AUTHORIZATION role] | AUTHORIZATION role }.
pub(super) fn create_schema(
    schema_name: &ast::SchemaName,
    if_not_exists: bool,
    or_replace: bool,
    with: &Option<Vec<ast::SqlOption>>,
    options: &Option<Vec<ast::SqlOption>>,
) -> Result<Plan> {
    if or_replace || with.is_some() || options.is_some() {
        return Err(unsupported("this CREATE SCHEMA form"));
    }
    let owner_ok = |role: &ast::Ident| {
        if ident(role) == "postgres" {
            Ok(())
        } else {
            Err(unsupported("CREATE SCHEMA … AUTHORIZATION a role other than postgres"))
        }
    };
    let name = match schema_name {
        ast::SchemaName::Simple(n) => schema_ident(n)?,
        ast::SchemaName::NamedAuthorization(n, role) => {
            owner_ok(role)?;
            schema_ident(n)?
        }
        // PostgreSQL names the schema after the role.
        ast::SchemaName::UnnamedAuthorization(role) => {
            owner_ok(role)?;
            ident(role)
        }
    };
    Ok(Plan::CreateSchema { name, if_not_exists })
}

/// DROP SCHEMA [IF EXISTS] names [RESTRICT].
pub(super) fn drop_schema(
    names: &[ast::ObjectName],
    if_exists: bool,
    cascade: bool,
) -> Result<Plan> {
    if cascade {
        return Err(unsupported("DROP SCHEMA … CASCADE"));
    }
    let names = names.iter().map(schema_ident).collect::<Result<_>>()?;
    Ok(Plan::DropSchema { names, if_exists })
}

fn schema_ident(name: &ast::ObjectName) -> Result<String> {
    match object_parts(name).as_slice() {
        [n] => Ok(n.clone()),
        _ => Err(Error::syntax(format!("improper qualified name (too many dotted names): {name}"))),
    }
}
