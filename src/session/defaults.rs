//! Binding the relation names in a column DEFAULT when it is created, as PostgreSQL
//! binds them.
//!
//! PostgreSQL parses a default once, at CREATE TABLE (ALTER TABLE … SET DEFAULT, ADD
//! COLUMN): a string literal that becomes a `regclass` (`nextval`'s argument, or an
//! explicit `'x'::regclass`) is looked up then, through the creator's `search_path`,
//! and the stored expression holds the relation's oid. troupe keeps a default as
//! SQL text (`catalog::Column::default`), so it writes the name it found there,
//! schema-qualified:
//!
//! ```text
//!   SET search_path = s, public;  CREATE TABLE t (a int DEFAULT nextval('q'))
//!     q found in s                      stored  nextval('s.q'::regclass)
//!   CREATE TABLE t2 (id serial)         stored  nextval('s.t2_id_seq'::regclass)
//!   INSERT under any search_path        'q' is s.q, whatever the path says now
//!   \d t, information_schema.columns    printed nextval('q'::regclass) where s.q is
//!                                       visible, nextval('s.q'::regclass) elsewhere
//! ```
//! A name that finds nothing is PostgreSQL's 42P01 at creation. `nextval('q'::text)`
//! is a text → regclass conversion at run time in PostgreSQL too, and stays unbound.
//! Only function arguments, casts, operators and parentheses are walked: the shapes
//! defaults take.

use sqlparser::ast;

use crate::catalog::{SearchPath, TableDef};
use crate::engine::Engine;
use crate::error::Result;
use crate::sql::pg_catalog::funcs::quote_ident;
use crate::sql::pg_catalog::regcast::{reg_in, RegKind};
use crate::sql::pg_catalog::visibility::relation_of;
use crate::types::Value;

/// Binds the defaults of `def`'s columns that `old` (the definition before an ALTER)
/// did not have with the same text; every default for a new table.
pub(super) fn bind_defaults(
    engine: &Engine,
    path: &SearchPath,
    def: &mut TableDef,
    old: Option<&TableDef>,
) -> Result<()> {
    for c in &mut def.columns {
        let Some(text) = &c.default else { continue };
        let kept = old
            .and_then(|o| o.columns.iter().find(|oc| oc.name == c.name))
            .is_some_and(|oc| oc.default.as_ref() == Some(text));
        if kept || c.identity.is_some() {
            continue;
        }
        c.default = Some(bind_default(engine, path, text)?);
    }
    Ok(())
}

/// `text` with its regclass literals qualified with the schema they are found in.
fn bind_default(engine: &Engine, path: &SearchPath, text: &str) -> Result<String> {
    let mut e = crate::sql::constraints::parse_expr(text)?;
    if bind_expr(engine, path, &mut e)? {
        Ok(e.to_string())
    } else {
        Ok(text.to_owned())
    }
}

/// Binds the regclass literals in `e`; true if it changed anything.
fn bind_expr(engine: &Engine, path: &SearchPath, e: &mut ast::Expr) -> Result<bool> {
    use ast::Expr as E;
    Ok(match e {
        E::Cast { expr, data_type: ast::DataType::Regclass, .. } => match literal(expr) {
            Some(name) => {
                **expr = string(&qualified(engine, path, &name)?);
                true
            }
            None => bind_expr(engine, path, expr)?,
        },
        E::Function(f) => {
            let takes_regclass = matches!(
                f.name.to_string().to_lowercase().as_str(),
                "nextval" | "currval" | "setval" | "pg_catalog.nextval"
            );
            let mut changed = false;
            if let ast::FunctionArguments::List(list) = &mut f.args {
                for (i, arg) in list.args.iter_mut().enumerate() {
                    let ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(a)) = arg else {
                        continue;
                    };
                    match literal(a) {
                        Some(name) if i == 0 && takes_regclass => {
                            *a = ast::Expr::Cast {
                                kind: ast::CastKind::DoubleColon,
                                expr: Box::new(string(&qualified(engine, path, &name)?)),
                                data_type: ast::DataType::Regclass,
                                format: None,
                            };
                            changed = true;
                        }
                        _ => changed |= bind_expr(engine, path, a)?,
                    }
                }
            }
            changed
        }
        E::Cast { expr, .. } | E::Nested(expr) | E::UnaryOp { expr, .. } => {
            bind_expr(engine, path, expr)?
        }
        E::BinaryOp { left, right, .. } => {
            bind_expr(engine, path, left)? | bind_expr(engine, path, right)?
        }
        _ => false,
    })
}

fn literal(e: &ast::Expr) -> Option<String> {
    match e {
        ast::Expr::Value(v) => match &v.value {
            ast::Value::SingleQuotedString(s) => Some(s.clone()),
            _ => None,
        },
        _ => None,
    }
}

fn string(s: &str) -> ast::Expr {
    ast::Expr::Value(ast::Value::SingleQuotedString(s.to_owned()).into())
}

/// `name` (as regclass input reads it) as `schema.name` of the relation it finds.
fn qualified(engine: &Engine, path: &SearchPath, name: &str) -> Result<String> {
    let found = match reg_in(RegKind::Class, name, Some(engine), path, false)? {
        Value::Oid(oid) => relation_of(engine, oid),
        _ => None,
    };
    match found {
        Some((schema, rel)) => Ok(format!("{}.{}", quote_ident(&schema), quote_ident(&rel))),
        None => Ok(name.to_owned()),
    }
}
