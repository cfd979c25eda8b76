//! Operators bound outside the main expression match in `planner.rs`: LIKE's operand
//! check and its ESCAPE clause, and the refusal of multidimensional ARRAY[[…]].
//!
//! LIKE takes string operands only (PostgreSQL has `text ~~ text`, `bpchar ~~ text`,
//! `name ~~ text` and `bytea ~~ bytea`; an integer is 42883, never cast). An ESCAPE
//! character is handled as PostgreSQL's `like_escape(pattern, escape)` does: the
//! pattern is rewritten to use the default escape, backslash, so evaluation
//! (`expr::like`) knows only one escape.

use sqlparser::ast;

use crate::error::{Error, ErrorKind, Result};
use crate::types::DataType;

use super::super::expr::{Expr, SubKind, SubPlan};
use super::super::functions::text_like;
use super::super::plan::{Rel, SortKey};
use super::{AggCtx, Planner, Scope};

/// 42883 unless both LIKE operands are strings.
pub(super) fn like_operands(value: &DataType, pattern: &DataType, ilike: bool) -> Result<()> {
    if text_like(value) && text_like(pattern) {
        return Ok(());
    }
    let op = if ilike { "~~*" } else { "~~" };
    Err(Error::new(
        ErrorKind::UndefinedFunction,
        format!("operator does not exist: {} {op} {}", value.display_name(), pattern.display_name()),
    )
    .with_hint(
        "No operator matches the given name and argument types. You might need to add explicit type casts.",
    ))
}

impl Planner<'_> {
    /// The pattern of a LIKE, rewritten by `like_escape` when it has an ESCAPE clause.
    pub(super) fn like_pattern(
        &mut self,
        pattern: &ast::Expr,
        escape: Option<&ast::Expr>,
        scope: &Scope,
        outer: Option<&Scope>,
        agg: Option<&mut AggCtx>,
    ) -> Result<(Expr, DataType)> {
        match escape {
            None => self.expr(pattern, scope, outer, agg),
            Some(esc) => {
                let (e, t) = self.call_named("like_escape", &[pattern, esc], scope, outer, agg)?;
                Ok((e, if t == DataType::Text { DataType::Text } else { t }))
            }
        }
    }
}

/// ARRAY[[1, 2], [3, 4]] is refused (0A000: arrays here have one dimension), after
/// PostgreSQL's own check that the sub-arrays match (2202E).
pub(super) fn flat_array(arr: &ast::Array) -> Result<()> {
    if arr.elem.iter().all(|e| shape(e).is_none()) {
        return Ok(());
    }
    if !matching(&arr.elem) {
        return Err(Error::new(
            ErrorKind::ArraySubscriptError,
            "multidimensional arrays must have array expressions with matching dimensions",
        ));
    }
    Err(Error::new(ErrorKind::FeatureNotSupported, "multidimensional arrays are not supported yet"))
}

/// The dimensions of a bracketed sub-array (None: a scalar element).
fn shape(e: &ast::Expr) -> Option<Vec<usize>> {
    match e {
        ast::Expr::Array(a) if !a.named => {
            let mut dims = vec![a.elem.len()];
            if let Some(first) = a.elem.first().and_then(shape) {
                dims.extend(first);
            }
            Some(dims)
        }
        _ => None,
    }
}

/// True if all elements have one shape, and so do the elements of each sub-array.
fn matching(elems: &[ast::Expr]) -> bool {
    let shapes: Vec<Option<Vec<usize>>> = elems.iter().map(shape).collect();
    shapes.windows(2).all(|w| w[0] == w[1])
        && elems.iter().all(|e| match e {
            ast::Expr::Array(a) if !a.named => matching(&a.elem),
            _ => true,
        })
}

impl Planner<'_> {
    /// An aggregate's `FILTER (WHERE …)` and `ORDER BY …` inside the call, bound over
    /// its input row (other clauses inside the call are refused).
    pub(super) fn aggregate_clauses(
        &mut self,
        f: &ast::Function,
        list: &ast::FunctionArgumentList,
        ctx: &AggCtx,
        outer: Option<&Scope>,
    ) -> Result<(Option<Expr>, Vec<SortKey>)> {
        let input = ctx.input.clone();
        let filter = match &f.filter {
            Some(w) => {
                let (pred, ty) = self.expr(w, &input, outer, None)?;
                if ty != DataType::Bool && ty != DataType::Unknown {
                    return Err(Error::new(
                        ErrorKind::DatatypeMismatch,
                        format!(
                            "argument of FILTER must be type boolean, not type {}",
                            ty.display_name()
                        ),
                    ));
                }
                Some(pred)
            }
            None => None,
        };
        let mut keys = Vec::new();
        for clause in &list.clauses {
            let ast::FunctionArgumentClause::OrderBy(list) = clause else {
                return Err(Error::new(
                    ErrorKind::FeatureNotSupported,
                    format!("{clause} in an aggregate call is not supported yet"),
                ));
            };
            for o in list {
                let (expr, _) = self.expr(&o.expr, &input, outer, None)?;
                let desc = matches!(o.options.sort, Some(ast::OrderBySort::Desc));
                let nulls_first = o.options.nulls_first.unwrap_or(desc);
                keys.push(SortKey { expr, desc, nulls_first });
            }
        }
        let distinct = matches!(list.duplicate_treatment, Some(ast::DuplicateTreatment::Distinct));
        if distinct && !keys.is_empty() {
            let args: Vec<String> = list.args.iter().map(|a| a.to_string()).collect();
            let all_in_args = list.clauses.iter().all(|c| match c {
                ast::FunctionArgumentClause::OrderBy(l) => {
                    l.iter().all(|o| args.contains(&o.expr.to_string()))
                }
                _ => true,
            });
            if !all_in_args {
                return Err(Error::new(
                    ErrorKind::InvalidColumnReference,
                    "in an aggregate with DISTINCT, ORDER BY expressions must appear in argument list",
                ));
            }
        }
        Ok((filter, keys))
    }
}

/// `~~`, `!~~`, `~~*`, `!~~*`: (negated, case-insensitive) of the LIKE they spell.
pub(super) fn like_operator(op: &ast::BinaryOperator) -> Option<(bool, bool)> {
    use ast::BinaryOperator as B;
    Some(match op {
        B::PGLikeMatch => (false, false),
        B::PGNotLikeMatch => (true, false),
        B::PGILikeMatch => (false, true),
        B::PGNotILikeMatch => (true, true),
        _ => return None,
    })
}

/// The LIKE expression an operator form spells.
pub(super) fn like_ast(
    left: &ast::Expr,
    right: &ast::Expr,
    negated: bool,
    ilike: bool,
) -> ast::Expr {
    let (expr, pattern) = (Box::new(left.clone()), Box::new(right.clone()));
    if ilike {
        ast::Expr::ILike { negated, any: false, expr, pattern, escape_char: None }
    } else {
        ast::Expr::Like { negated, any: false, expr, pattern, escape_char: None }
    }
}

/// `-a ^ b`: PostgreSQL's unary minus binds tighter than `^` (so `-2 ^ 2` is 4), while
/// sqlparser reads `-(2 ^ 2)`; the minus moves onto the leftmost operand. (A written
/// `-(2 ^ 2)` keeps its parentheses as `Nested` and is not rewritten.)
pub(super) fn minus_into_power(e: &ast::Expr) -> ast::Expr {
    match e {
        ast::Expr::BinaryOp { left, op: ast::BinaryOperator::PGExp, right } => {
            ast::Expr::BinaryOp {
                left: Box::new(minus_into_power(left)),
                op: ast::BinaryOperator::PGExp,
                right: right.clone(),
            }
        }
        other => {
            ast::Expr::UnaryOp { op: ast::UnaryOperator::Minus, expr: Box::new(other.clone()) }
        }
    }
}

/// `FETCH FIRST n ROWS ONLY` is `LIMIT n` (n defaults to 1); WITH TIES and PERCENT are
/// refused, and a query with both LIMIT and FETCH is PostgreSQL's syntax error.
pub(super) fn fetch_as_limit(q: &ast::Query, fetch: &ast::Fetch) -> Result<ast::Query> {
    if fetch.with_ties || fetch.percent {
        return Err(Error::new(
            ErrorKind::FeatureNotSupported,
            "FETCH … WITH TIES / PERCENT is not supported yet",
        ));
    }
    let one = ast::Expr::Value(ast::Value::Number("1".into(), false).into());
    let quantity = fetch.quantity.clone().unwrap_or(one);
    let offset = match &q.limit_clause {
        None => None,
        Some(ast::LimitClause::LimitOffset { limit: None, offset, limit_by })
            if limit_by.is_empty() =>
        {
            offset.clone()
        }
        Some(_) => return Err(Error::syntax("multiple LIMIT clauses not allowed")),
    };
    let mut q = q.clone();
    q.fetch = None;
    q.limit_clause =
        Some(ast::LimitClause::LimitOffset { limit: Some(quantity), offset, limit_by: Vec::new() });
    Ok(q)
}

/// The marker `parse::parse_sql` wraps the low bound of `BETWEEN SYMMETRIC` in
/// (sqlparser has no SYMMETRIC): the bound, if `low` is one.
pub(super) fn symmetric(low: &ast::Expr) -> Option<&ast::Expr> {
    let ast::Expr::Function(f) = low else { return None };
    if f.name.to_string() != super::super::parse::SYMMETRIC_MARKER {
        return None;
    }
    match &f.args {
        ast::FunctionArguments::List(l) => match l.args.as_slice() {
            [ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e))] => Some(e),
            _ => None,
        },
        _ => None,
    }
}

/// `x [NOT] BETWEEN SYMMETRIC a AND b`: `x BETWEEN a AND b OR x BETWEEN b AND a`.
pub(super) fn between_symmetric(
    x: &ast::Expr,
    negated: bool,
    low: &ast::Expr,
    high: &ast::Expr,
) -> ast::Expr {
    let between = |lo: &ast::Expr, hi: &ast::Expr| ast::Expr::Between {
        expr: Box::new(x.clone()),
        negated: false,
        low: Box::new(lo.clone()),
        high: Box::new(hi.clone()),
    };
    let either = ast::Expr::Nested(Box::new(ast::Expr::BinaryOp {
        left: Box::new(between(low, high)),
        op: ast::BinaryOperator::Or,
        right: Box::new(between(high, low)),
    }));
    if negated {
        ast::Expr::UnaryOp { op: ast::UnaryOperator::Not, expr: Box::new(either) }
    } else {
        either
    }
}

fn row_items(e: &ast::Expr) -> &[ast::Expr] {
    match e {
        ast::Expr::Tuple(items) => items,
        other => std::slice::from_ref(other),
    }
}

fn binary(l: ast::Expr, op: ast::BinaryOperator, r: ast::Expr) -> ast::Expr {
    ast::Expr::Nested(Box::new(ast::Expr::BinaryOp { left: Box::new(l), op, right: Box::new(r) }))
}

fn unequal_rows() -> Error {
    Error::syntax("unequal number of entries in row expressions")
}

/// `(a1, a2) op (b1, b2)` as scalar comparisons, with the SQL standard's meaning:
/// `=` all pairs equal, `<>` some pair differs, and an ordering decided by the first
/// pair that differs (`a1 < b1 OR (a1 = b1 AND a2 <= b2)` for `<=`), so a NULL pair
/// makes the result NULL unless an earlier pair decided it.
pub(super) fn row_comparison(
    left: &ast::Expr,
    op: &ast::BinaryOperator,
    right: &ast::Expr,
) -> Result<ast::Expr> {
    use ast::BinaryOperator as B;
    let (l, r) = (row_items(left), row_items(right));
    if l.len() != r.len() || l.is_empty() {
        return Err(unequal_rows());
    }
    let pairs = l.iter().cloned().zip(r.iter().cloned());
    let fold = |join: B, op: B| {
        pairs
            .clone()
            .map(|(a, b)| binary(a, op.clone(), b))
            .reduce(|acc, e| binary(acc, join.clone(), e))
            .ok_or_else(unequal_rows)
    };
    match op {
        B::Eq => fold(B::And, B::Eq),
        B::NotEq => fold(B::Or, B::NotEq),
        B::Lt | B::LtEq | B::Gt | B::GtEq => {
            let strict = if matches!(op, B::Lt | B::LtEq) { B::Lt } else { B::Gt };
            let mut items: Vec<(ast::Expr, ast::Expr)> = pairs.collect();
            let (la, lb) = items.pop().ok_or_else(unequal_rows)?;
            let mut acc = binary(la, op.clone(), lb);
            while let Some((a, b)) = items.pop() {
                let decided = binary(a.clone(), strict.clone(), b.clone());
                let tied = binary(binary(a, B::Eq, b), B::And, acc);
                acc = binary(decided, B::Or, tied);
            }
            Ok(acc)
        }
        other => Err(Error::new(
            ErrorKind::FeatureNotSupported,
            format!("row comparison with operator {other} is not supported yet"),
        )),
    }
}

/// `(a, b) [NOT] IN ((1, 2), …)`: an OR of row equalities.
pub(super) fn row_in_list(
    expr: &ast::Expr,
    list: &[ast::Expr],
    negated: bool,
) -> Result<ast::Expr> {
    let mut any: Option<ast::Expr> = None;
    for item in list {
        let eq = row_comparison(expr, &ast::BinaryOperator::Eq, item)?;
        any = Some(match any {
            None => eq,
            Some(acc) => binary(acc, ast::BinaryOperator::Or, eq),
        });
    }
    let any = any.ok_or_else(|| Error::syntax("syntax error at or near \")\""))?;
    Ok(if negated {
        ast::Expr::UnaryOp { op: ast::UnaryOperator::Not, expr: Box::new(any) }
    } else {
        any
    })
}

/// `(a, b) [NOT] IN (SELECT x, y …)` as a scalar subquery over the subquery's rows with
/// IN's three-valued result: true if some row is equal, else NULL if some comparison
/// was NULL, else false (also for no rows):
///
/// ```sql
/// (SELECT CASE WHEN bool_or(eq) THEN true WHEN bool_or(eq IS NULL) THEN NULL
///         ELSE false END FROM (SELECT x, y …) AS in_rows(c1, c2))
/// ```
pub(super) fn row_in_subquery(
    expr: &ast::Expr,
    subquery: &ast::Query,
    negated: bool,
) -> Result<ast::Expr> {
    let items = row_items(expr);
    match select_width(&subquery.body) {
        None => {
            return Err(Error::new(
                ErrorKind::FeatureNotSupported,
                "a row IN over a subquery of * is not supported yet",
            ))
        }
        Some(w) if w > items.len() => return Err(Error::syntax("subquery has too many columns")),
        Some(w) if w < items.len() => return Err(Error::syntax("subquery has too few columns")),
        Some(_) => {}
    }
    let cols: Vec<ast::Ident> =
        (1..=items.len()).map(|i| ast::Ident::new(format!("__troupe_in_{i}"))).collect();
    let inner = ast::Expr::Tuple(cols.iter().cloned().map(ast::Expr::Identifier).collect());
    let eq = row_comparison(&inner, &ast::BinaryOperator::Eq, expr)?;
    let sql = format!(
        "SELECT CASE WHEN bool_or({eq}) THEN true WHEN bool_or(({eq}) IS NULL) THEN NULL ELSE false END FROM ({subquery}) AS __troupe_in_rows({})",
        cols.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(", ")
    );
    let parsed = sqlparser::parser::Parser::new(&sqlparser::dialect::PostgreSqlDialect {})
        .try_with_sql(&sql)
        .and_then(|mut p| p.parse_query())
        .map_err(|e| Error::internal(format!("row IN rewrite: {e}")))?;
    let sub = ast::Expr::Subquery(parsed);
    Ok(if negated {
        ast::Expr::UnaryOp { op: ast::UnaryOperator::Not, expr: Box::new(sub) }
    } else {
        sub
    })
}

/// The number of columns a query body returns, where it can be read off the syntax
/// (None for `*`).
fn select_width(body: &ast::SetExpr) -> Option<usize> {
    match body {
        ast::SetExpr::Select(s) => {
            let star = s.projection.iter().any(|i| {
                matches!(i, ast::SelectItem::Wildcard(_) | ast::SelectItem::QualifiedWildcard(..))
            });
            (!star).then_some(s.projection.len())
        }
        ast::SetExpr::SetOperation { left, .. } => select_width(left),
        ast::SetExpr::Query(q) => select_width(&q.body),
        ast::SetExpr::Values(v) => v.rows.first().map(|r| r.content.len()),
        _ => None,
    }
}

impl Planner<'_> {
    /// `pg_sleep(seconds)`: a subquery over [`Rel::Sleep`], run once per row (it is
    /// volatile), so that the sleep is an await in `exec` rather than a blocking call
    /// inside expression evaluation. Its argument must not read the row.
    pub(super) fn pg_sleep(&mut self, arg: Expr, ty: DataType) -> Result<(Expr, DataType)> {
        let arg = self.cast_to(arg, ty, &DataType::Float8, false)?;
        if !arg.is_row_independent() {
            return Err(Error::new(
                ErrorKind::FeatureNotSupported,
                "pg_sleep of a value that depends on the row is not supported yet",
            ));
        }
        self.next_id += 1;
        let sub = SubPlan {
            id: self.next_id,
            rel: Rel::Sleep(arg),
            correlated: true,
            kind: SubKind::Scalar,
        };
        Ok((Expr::Sub(Box::new(sub)), DataType::Text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expr(sql: &str) -> ast::Expr {
        sqlparser::parser::Parser::new(&sqlparser::dialect::PostgreSqlDialect {})
            .try_with_sql(sql)
            .and_then(|mut p| p.parse_expr())
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    fn rows(sql: &str) -> String {
        let ast::Expr::BinaryOp { left, op, right } = expr(sql) else { panic!("{sql}") };
        row_comparison(&left, &op, &right).map(|e| e.to_string()).unwrap_or_else(|e| e.to_string())
    }

    #[test]
    fn row_comparisons_expand_pairwise() {
        assert_eq!(rows("(a, b) = (1, 2)"), "((a = 1) AND (b = 2))");
        assert_eq!(rows("(a, b) <> (1, 2)"), "((a <> 1) OR (b <> 2))");
        assert_eq!(rows("(a, b) <= (1, 2)"), "((a < 1) OR ((a = 1) AND (b <= 2)))");
        assert!(rows("(a, b) = (1, 2, 3)").contains("unequal number"));
    }

    #[test]
    fn minus_binds_tighter_than_power() {
        let ast::Expr::UnaryOp { expr: inner, .. } = expr("-2 ^ 3 ^ 2") else { panic!() };
        assert_eq!(minus_into_power(&inner).to_string(), "-2 ^ 3 ^ 2");
        let ast::Expr::BinaryOp { left, .. } = minus_into_power(&inner) else { panic!() };
        assert!(matches!(*left, ast::Expr::BinaryOp { .. }));
    }

    #[test]
    fn multidimensional_arrays() {
        let ast::Expr::Array(ok) = expr("ARRAY[1, 2]") else { panic!() };
        assert!(flat_array(&ok).is_ok());
        let ast::Expr::Array(square) = expr("ARRAY[[1, 2], [3, 4]]") else { panic!() };
        assert!(flat_array(&square).is_err_and(|e| e.to_string().contains("not supported")));
        let ast::Expr::Array(ragged) = expr("ARRAY[[1, 2], [3]]") else { panic!() };
        assert!(flat_array(&ragged).is_err_and(|e| e.to_string().contains("matching")));
    }
}
