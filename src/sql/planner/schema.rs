//! CREATE SCHEMA and DROP SCHEMA, planned without the catalog: whether the schema
//! exists, is built in or holds anything is decided when the statement runs, under
//! the DDL lock (`session/schemas.rs`).
//!
//! Refused with 0A000: `AUTHORIZATION` naming a role other than `postgres` (troupe
//! has that one role) and options PostgreSQL does not have (OR REPLACE, WITH,
//! OPTIONS).

use sqlparser::ast;

use super::{ident, object_parts, unsupported};
use crate::catalog::namespace;
use crate::error::{Error, Result};
use crate::sql::plan::{Plan, RelName};

/// The names DROP TABLE / VIEW / SEQUENCE / INDEX acts on, as written; the session
/// resolves them through its search path when the statement runs (under the DDL
/// lock), where it also knows the sequences.
pub fn drop_names(names: &[ast::ObjectName]) -> Result<Vec<RelName>> {
    names.iter().map(rel_name).collect()
}

/// A relation name as written (`db.s.t` is `s.t`).
pub fn rel_name(name: &ast::ObjectName) -> Result<RelName> {
    let parts = object_parts(name);
    let (schema, name) = namespace::split_qualified(&parts, None)?;
    Ok(RelName { schema: schema.map(str::to_owned), name: name.to_owned() })
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

/// DROP SCHEMA [IF EXISTS] names [RESTRICT | CASCADE].
pub(super) fn drop_schema(
    names: &[ast::ObjectName],
    if_exists: bool,
    cascade: bool,
) -> Result<Plan> {
    let names = names.iter().map(schema_ident).collect::<Result<_>>()?;
    Ok(Plan::DropSchema { names, if_exists, cascade })
}

fn schema_ident(name: &ast::ObjectName) -> Result<String> {
    match object_parts(name).as_slice() {
        [n] => Ok(n.clone()),
        _ => Err(Error::syntax(format!("improper qualified name (too many dotted names): {name}"))),
    }
}
