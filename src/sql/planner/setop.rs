//! Query bodies other than a plain SELECT: VALUES, parenthesised queries and
//! UNION / INTERSECT / EXCEPT \[ALL\], with the ORDER BY and LIMIT written after them.
//!
//! Each side of a set operation is bound keeping its untyped literals `unknown`; then
//! each column's type is resolved as PostgreSQL does for UNION: equal types stay, an
//! unknown side takes the other side's type, numbers widen (int4 ∪ numeric → numeric),
//! text-like types become text, and anything else is 42804 "UNION types integer and
//! text cannot be matched". Sides whose type differs get a cast on top. Column names
//! come from the left side. ORDER BY after a set operation may name output columns
//! only (by name or position), as in PostgreSQL.

use sqlparser::ast;

use crate::error::{Error, ErrorKind, Result};
use crate::types::DataType;

use super::super::expr::Expr;
use super::super::functions::common_type;
use super::super::plan::{OutCol, QueryPlan, Rel, SetOpKind, SortKey};
use super::{output_column, unsupported, Planner, Scope};

impl Planner<'_> {
    /// Binds a query body that is not a SELECT (those carry their own ORDER BY).
    pub(super) fn body(
        &mut self,
        body: &ast::SetExpr,
        outer: Option<&Scope>,
        keep_unknown: bool,
    ) -> Result<QueryPlan> {
        match body {
            ast::SetExpr::Select(s) => {
                let q = ast::Query {
                    with: None,
                    body: Box::new(ast::SetExpr::Select(s.clone())),
                    order_by: None,
                    limit_clause: None,
                    fetch: None,
                    locks: Vec::new(),
                    for_clause: None,
                    settings: None,
                    format_clause: None,
                    pipe_operators: Vec::new(),
                };
                self.select(s, &q, outer, keep_unknown)
            }
            ast::SetExpr::Values(v) => self.values(v, outer, keep_unknown),
            ast::SetExpr::Query(q) => self.query_typed(q, outer, keep_unknown),
            ast::SetExpr::SetOperation { op, set_quantifier, left, right } => {
                let kind = match op {
                    ast::SetOperator::Union => SetOpKind::Union,
                    ast::SetOperator::Intersect => SetOpKind::Intersect,
                    ast::SetOperator::Except | ast::SetOperator::Minus => SetOpKind::Except,
                };
                let all = match set_quantifier {
                    ast::SetQuantifier::All => true,
                    ast::SetQuantifier::Distinct | ast::SetQuantifier::None => false,
                    _ => return Err(unsupported("UNION BY NAME")),
                };
                let l = self.body(left, outer, true)?;
                let r = self.body(right, outer, true)?;
                set_operation(kind, all, l, r, keep_unknown)
            }
            _ => Err(unsupported("this query form")),
        }
    }

    /// The ORDER BY / LIMIT / OFFSET written after a non-SELECT body.
    pub(super) fn order_limit(&mut self, plan: QueryPlan, q: &ast::Query) -> Result<QueryPlan> {
        let QueryPlan { mut rel, columns, .. } = plan;
        if let Some(ob) = &q.order_by {
            let ast::OrderByKind::Expressions(list) = &ob.kind else {
                return Err(unsupported("ORDER BY ALL"));
            };
            let mut keys = Vec::new();
            for o in list {
                let desc = matches!(o.options.sort, Some(ast::OrderBySort::Desc));
                let nulls_first = o.options.nulls_first.unwrap_or(desc);
                let Some(idx) = output_column(&o.expr, &columns, columns.len())? else {
                    return Err(match &o.expr {
                        ast::Expr::Identifier(i) => Error::new(
                            ErrorKind::UndefinedColumn,
                            format!("column \"{}\" does not exist", super::ident(i)),
                        ),
                        _ => Error::new(
                            ErrorKind::FeatureNotSupported,
                            "invalid UNION/INTERSECT/EXCEPT ORDER BY clause",
                        )
                        .with_detail("Only result column names can be used, not expressions or functions.")
                        .with_hint("Add the expression/function to every SELECT, or move the UNION into a FROM clause."),
                    });
                };
                keys.push(SortKey { expr: Expr::Column(idx), desc, nulls_first });
            }
            rel = Rel::Sort { input: Box::new(rel), keys };
        }
        let rel = self.limit(rel, q)?;
        Ok(QueryPlan { rel, columns, lock: None })
    }
}

/// Resolves the column types of a set operation and builds it.
fn set_operation(
    op: SetOpKind,
    all: bool,
    l: QueryPlan,
    r: QueryPlan,
    keep_unknown: bool,
) -> Result<QueryPlan> {
    let name = match op {
        SetOpKind::Union => "UNION",
        SetOpKind::Intersect => "INTERSECT",
        SetOpKind::Except => "EXCEPT",
    };
    if l.columns.len() != r.columns.len() {
        return Err(Error::syntax(format!(
            "each {name} query must have the same number of columns"
        )));
    }
    let mut types = Vec::new();
    for (a, b) in l.columns.iter().zip(&r.columns) {
        let t = resolve(&a.ty, &b.ty).ok_or_else(|| {
            Error::new(
                ErrorKind::DatatypeMismatch,
                format!(
                    "{name} types {} and {} cannot be matched",
                    a.ty.display_name(),
                    b.ty.display_name()
                ),
            )
        })?;
        types.push(if t == DataType::Unknown && !keep_unknown { DataType::Text } else { t });
    }
    let columns = l
        .columns
        .iter()
        .zip(&types)
        .map(|(c, t)| OutCol { name: c.name.clone(), ty: t.clone(), table_oid: 0, column: 0 })
        .collect();
    let left = cast_columns(l, &types);
    let right = cast_columns(r, &types);
    Ok(QueryPlan {
        rel: Rel::SetOp { op, all, left: Box::new(left), right: Box::new(right) },
        columns,
        lock: None,
    })
}

/// The type two set-operation columns resolve to, if they can be matched.
pub(super) fn resolve(a: &DataType, b: &DataType) -> Option<DataType> {
    use DataType::*;
    let numeric = |t: &DataType| matches!(t, Int2 | Int4 | Int8 | Numeric(_) | Float4 | Float8);
    let text = |t: &DataType| matches!(t, Text | Varchar(_) | Bpchar(_) | Name);
    match (a, b) {
        _ if a == b => Some(a.clone()),
        (Unknown, t) | (t, Unknown) => Some(t.clone()),
        _ if numeric(a) && numeric(b) => Some(common_type(&[a.clone(), b.clone()])),
        _ if text(a) && text(b) => Some(Text),
        (Varchar(_), Varchar(_)) => Some(Varchar(None)),
        (Timestamp, TimestampTz) | (TimestampTz, Timestamp) => Some(TimestampTz),
        (Date, Timestamp) | (Timestamp, Date) => Some(Timestamp),
        (Date, TimestampTz) | (TimestampTz, Date) => Some(TimestampTz),
        _ => None,
    }
}

/// Casts the columns of `plan` whose type differs from `types`.
fn cast_columns(plan: QueryPlan, types: &[DataType]) -> Rel {
    if plan.columns.iter().zip(types).all(|(c, t)| c.ty == *t) {
        return plan.rel;
    }
    let exprs = plan
        .columns
        .iter()
        .zip(types)
        .enumerate()
        .map(|(i, (c, t))| {
            if c.ty == *t || *t == DataType::Unknown {
                Expr::Column(i)
            } else {
                // An unknown column holds its literal's text.
                let from = if c.ty == DataType::Unknown { DataType::Text } else { c.ty.clone() };
                Expr::Cast(Box::new(Expr::Column(i)), from, t.clone())
            }
        })
        .collect();
    Rel::Project { input: Box::new(plan.rel), exprs }
}
