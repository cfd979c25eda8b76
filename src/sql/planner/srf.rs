//! Set-returning functions in FROM: `generate_series(start, stop [, step])` over
//! integers, the one catalog queries use (psql's `\d` walks an int2vector with it),
//! and `unnest(array)` (psql's `\d+` unnests a table's TOAST reloptions).
//!
//! The arguments may read the enclosing query's row (a correlated subquery's outer
//! row), so they are evaluated when the FROM item runs, like a VALUES row.
//! `pg_partition_ancestors(rel) [WITH ORDINALITY]` yields no rows (troupe has no
//! partitions), for psql's `\d`. Other functions in FROM (generate_series over
//! timestamps, unnest of several arrays, …) and WITH ORDINALITY on generate_series or
//! unnest are refused with 0A000.

use sqlparser::ast;

use crate::error::{Error, ErrorKind, Result};
use crate::sql::expr::Expr;
use crate::sql::plan::Rel;
use crate::types::{DataType, Value};

use super::{ident, object_parts, relation_scope, unsupported, Planner, Scope};

impl Planner<'_> {
    /// `name(args) [AS alias]` in FROM.
    pub(super) fn table_function(
        &mut self,
        name: &ast::ObjectName,
        alias: Option<&ast::TableAlias>,
        args: &ast::TableFunctionArgs,
        with_ordinality: bool,
        outer: Option<&Scope>,
    ) -> Result<(Rel, Scope)> {
        let parts = object_parts(name);
        let fname = match parts.as_slice() {
            [f] => f.as_str(),
            [s, f] if s == "pg_catalog" => f.as_str(),
            _ => return Err(unsupported(format!("function {name} in FROM"))),
        };
        if fname == "pg_partition_ancestors" && args.args.len() == 1 {
            let qualifier = alias.map(|a| ident(&a.name)).unwrap_or_else(|| fname.to_owned());
            let renames: Vec<String> = alias
                .map(|a| a.columns.iter().map(|c| ident(&c.name)).collect())
                .unwrap_or_default();
            let mut cols = vec![(fname.to_owned(), DataType::Regclass, (0, 0))];
            if with_ordinality {
                cols.push(("ordinality".to_owned(), DataType::Int8, (0, 0)));
            }
            let scope = relation_scope(Some(qualifier), &renames, cols.into_iter());
            return Ok((Rel::Values(Vec::new()), scope));
        }
        if fname != "generate_series" && fname != "unnest" {
            return Err(unsupported(format!("function {fname} in FROM")));
        }
        if with_ordinality {
            return Err(unsupported("WITH ORDINALITY"));
        }
        if fname == "unnest" {
            let mut arrays = Vec::with_capacity(args.args.len());
            for a in &args.args {
                let ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) = a else {
                    return Err(unsupported("named arguments to unnest"));
                };
                arrays.push(e.clone());
            }
            return self.unnest(&arrays, alias, outer);
        }
        let empty = Scope::new();
        let mut exprs = Vec::new();
        let mut ty = DataType::Int4;
        let mut bound = Vec::new();
        for a in &args.args {
            let ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) = a else {
                return Err(unsupported("named arguments to generate_series"));
            };
            let (x, t) = self.expr(e, &empty, outer, None)?;
            if t == DataType::Int8 {
                ty = DataType::Int8;
            } else if !matches!(t, DataType::Int2 | DataType::Int4 | DataType::Unknown) {
                return Err(unsupported(format!("generate_series over {}", t.display_name())));
            }
            bound.push((x, t));
        }
        if !(2..=3).contains(&bound.len()) {
            return Err(Error::new(
                ErrorKind::UndefinedFunction,
                format!("function generate_series with {} arguments does not exist", bound.len()),
            ));
        }
        for (x, t) in bound {
            exprs.push(self.cast_to(x, t, &ty, false)?);
        }
        if exprs.len() == 2 {
            exprs.push(Expr::Const(if ty == DataType::Int8 {
                Value::Int8(1)
            } else {
                Value::Int4(1)
            }));
        }
        let scope = one_column(alias, fname, ty.clone());
        Ok((Rel::Series { args: exprs, ty }, scope))
    }

    /// `unnest(array) [AS alias]` in FROM (sqlparser's `UNNEST` factor, or the
    /// qualified `pg_catalog.unnest` as a table function).
    pub(super) fn unnest(
        &mut self,
        arrays: &[ast::Expr],
        alias: Option<&ast::TableAlias>,
        outer: Option<&Scope>,
    ) -> Result<(Rel, Scope)> {
        let [e] = arrays else {
            return Err(unsupported("unnest of several arrays in FROM"));
        };
        let (x, t) = self.expr(e, &Scope::new(), outer, None)?;
        let ty = match t {
            DataType::Array(elem) => *elem,
            other => {
                return Err(Error::new(
                    ErrorKind::UndefinedFunction,
                    format!("function unnest({}) does not exist", other.display_name()),
                ))
            }
        };
        Ok((Rel::Unnest(x), one_column(alias, "unnest", ty)))
    }
}

/// The scope of a function in FROM that yields one column of type `ty`: PostgreSQL
/// names the column after the alias (`generate_series(…) s` has column `s`), or after
/// the function.
fn one_column(alias: Option<&ast::TableAlias>, fname: &str, ty: DataType) -> Scope {
    let qualifier = alias.map(|a| ident(&a.name)).unwrap_or_else(|| fname.to_owned());
    let column = alias
        .and_then(|a| a.columns.first())
        .map(|c| ident(&c.name))
        .unwrap_or_else(|| qualifier.clone());
    relation_scope(Some(qualifier), &[], std::iter::once((column, ty, (0, 0))))
}

/// Whether a FROM-less select list calls a set-returning function that yields no
/// rows here, making the whole SELECT empty as in PostgreSQL: only
/// `pg_partition_ancestors` (troupe has no partitions; psql's `\d` sends
/// `SELECT pg_catalog.pg_partition_ancestors('16385') UNION ALL VALUES (…)`).
pub(super) fn returns_no_rows(projection: &[ast::SelectItem]) -> bool {
    projection.iter().any(|item| {
        let (ast::SelectItem::UnnamedExpr(ast::Expr::Function(f))
        | ast::SelectItem::ExprWithAlias { expr: ast::Expr::Function(f), .. }) = item
        else {
            return false;
        };
        matches!(object_parts(&f.name).last().map(String::as_str), Some("pg_partition_ancestors"))
    })
}

/// The rows of `generate_series(start, stop, step)` for evaluated arguments.
pub fn series_rows(args: &[Value]) -> Result<Vec<Vec<Value>>> {
    let int = |v: &Value| match v {
        Value::Int2(n) => Some(*n as i64),
        Value::Int4(n) => Some(*n as i64),
        Value::Int8(n) => Some(*n),
        _ => None,
    };
    let (Some(start), Some(stop), Some(step)) =
        (args.first().and_then(int), args.get(1).and_then(int), args.get(2).and_then(int))
    else {
        return Ok(Vec::new()); // a NULL argument: no rows
    };
    if step == 0 {
        return Err(Error::new(ErrorKind::InvalidParameterValue, "step size cannot equal zero"));
    }
    let wide = matches!(args.first(), Some(Value::Int8(_)));
    let mut out = Vec::new();
    let mut i = start;
    while (step > 0 && i <= stop) || (step < 0 && i >= stop) {
        out.push(vec![if wide { Value::Int8(i) } else { Value::Int4(i as i32) }]);
        i = match i.checked_add(step) {
            Some(n) => n,
            None => break,
        };
    }
    Ok(out)
}
