//! Subqueries in expressions: scalar `(SELECT …)`, `EXISTS`, `IN`, `op ANY/ALL`, and
//! how a subquery reads the row of the query around it.
//!
//! A subquery is bound with an outer scope that is the enclosing query's scope
//! followed by the enclosing query's own outer scope, and at run time its outer row is
//! the enclosing row followed by the enclosing row's outer row (`exec::sub_results`):
//!
//! ```text
//!   SELECT … FROM a WHERE EXISTS (SELECT … FROM b WHERE b.x IN (SELECT c.y FROM c
//!                                                        WHERE c.z = a.z))
//!   innermost outer scope:  b's columns ++ a's columns     (a.z = Outer(|b| + i))
//! ```
//!
//! Each subquery being bound pushes a [`CorrFrame`]; a reference that resolves to an
//! outer column marks the frames it crosses as correlated. An uncorrelated subquery
//! runs once per statement; a correlated one once per enclosing row. NOT IN follows
//! SQL's NULL rules (`x NOT IN (…, NULL)` is never true) because it is `NOT (x = ANY)`.

use sqlparser::ast;

use crate::error::{Error, Result};
use crate::types::{binary_op_type, BinaryOp, DataType};

use super::super::expr::{Expr, SubKind, SubPlan};
use super::super::plan::{AggCall, QueryPlan, Rel};
use super::{unsupported, AggCtx, Planner, Scope, ScopeCol};

/// One subquery being bound.
#[derive(Debug, Clone)]
pub(super) struct CorrFrame {
    /// It referenced a column of an enclosing query.
    pub correlated: bool,
    /// Width of the scope it was given as the nearest enclosing one (references past
    /// it reach further out).
    pub parent_len: usize,
}

impl Planner<'_> {
    /// Marks the frames that a reference to outer column `i` crosses as correlated.
    pub(super) fn mark_correlated(&mut self, mut i: usize) {
        for frame in self.corr.iter_mut().rev() {
            frame.correlated = true;
            if i < frame.parent_len {
                break;
            }
            i -= frame.parent_len;
        }
    }

    /// Binds `q` with `scope ++ outer` as its outer scope; returns the plan and whether
    /// it referenced that scope.
    fn nested_query(
        &mut self,
        q: &ast::Query,
        scope: &Scope,
        outer: Option<&Scope>,
    ) -> Result<(QueryPlan, bool)> {
        let mut combined = scope.clone();
        combined.extend(outer.into_iter().flatten().cloned());
        self.corr.push(CorrFrame { correlated: false, parent_len: scope.len() });
        let plan = self.query(q, Some(&combined));
        let frame = self.corr.pop().ok_or_else(|| Error::internal("correlation stack"))?;
        Ok((plan?, frame.correlated))
    }

    /// A LATERAL derived table: its outer scope is the FROM items to its left.
    pub(super) fn lateral_query(
        &mut self,
        q: &ast::Query,
        left: &Scope,
        outer: Option<&Scope>,
    ) -> Result<QueryPlan> {
        Ok(self.nested_query(q, left, outer)?.0)
    }

    /// Binds a subquery expression.
    pub(super) fn subquery_expr(
        &mut self,
        e: &ast::Expr,
        scope: &Scope,
        outer: Option<&Scope>,
        mut agg: Option<&mut AggCtx>,
    ) -> Result<(Expr, DataType)> {
        use ast::Expr as E;
        // After aggregation the row is group keys ++ aggregates: a subquery sees the
        // grouped columns by name.
        let row_scope = match agg.as_deref() {
            Some(ctx) => agg_scope(ctx),
            None => scope.clone(),
        };
        let (query, negated) = match e {
            E::Subquery(q) => (q, false),
            E::Exists { subquery, negated } => (subquery, *negated),
            E::InSubquery { subquery, negated, .. } => (subquery, *negated),
            E::AnyOp { right, .. } | E::AllOp { right, .. } => match right.as_ref() {
                E::Subquery(q) => (q, false),
                _ => return Err(unsupported("ANY / ALL over an array")),
            },
            _ => return Err(Error::internal("not a subquery expression")),
        };
        let (plan, correlated) = self.nested_query(query, &row_scope, outer)?;
        let width = plan.columns.len();
        let first_ty = plan.columns.first().map(|c| c.ty.clone()).unwrap_or(DataType::Text);
        let one_column = |what: &str| -> Result<()> {
            if width == 1 {
                Ok(())
            } else {
                Err(Error::syntax(format!("subquery {what}")))
            }
        };
        let (kind, ty) = match e {
            E::Subquery(_) => {
                one_column("must return only one column")?;
                (SubKind::Scalar, first_ty)
            }
            E::Exists { .. } => (SubKind::Exists, DataType::Bool),
            E::InSubquery { expr, .. } => self.quantified(
                expr,
                BinaryOp::Eq,
                false,
                first_ty,
                width,
                scope,
                outer,
                agg.as_deref_mut(),
            )?,
            E::AnyOp { left, compare_op, .. } | E::AllOp { left, compare_op, .. } => {
                let op = comparison(compare_op)?;
                let all = matches!(e, E::AllOp { .. });
                self.quantified(left, op, all, first_ty, width, scope, outer, agg)?
            }
            _ => return Err(Error::internal("not a subquery expression")),
        };
        self.next_id += 1;
        let sub =
            Expr::Sub(Box::new(SubPlan { id: self.next_id, rel: plan.rel, correlated, kind }));
        Ok((if negated { Expr::Not(Box::new(sub)) } else { sub }, ty))
    }

    /// `ARRAY(SELECT x …)`: an array of the subquery's one column.
    pub(super) fn array_subquery(
        &mut self,
        q: &ast::Query,
        scope: &Scope,
        outer: Option<&Scope>,
        agg: Option<&mut AggCtx>,
    ) -> Result<(Expr, DataType)> {
        let row_scope = match agg.as_deref() {
            Some(ctx) => agg_scope(ctx),
            None => scope.clone(),
        };
        let (plan, correlated) = self.nested_query(q, &row_scope, outer)?;
        if plan.columns.len() != 1 {
            return Err(Error::syntax("subquery must return only one column"));
        }
        let elem = plan.columns[0].ty.clone();
        if matches!(elem, DataType::Array(_)) {
            return Err(unsupported("ARRAY(subquery) of arrays"));
        }
        self.next_id += 1;
        let sub = SubPlan { id: self.next_id, rel: plan.rel, correlated, kind: SubKind::Array };
        Ok((Expr::Sub(Box::new(sub)), DataType::Array(Box::new(elem))))
    }

    /// `x op ANY/ALL (subquery)`: binds `x` and resolves the comparison's types.
    #[allow(clippy::too_many_arguments)]
    fn quantified(
        &mut self,
        x: &ast::Expr,
        op: BinaryOp,
        all: bool,
        col_ty: DataType,
        width: usize,
        scope: &Scope,
        outer: Option<&Scope>,
        agg: Option<&mut AggCtx>,
    ) -> Result<(SubKind, DataType)> {
        if width != 1 {
            return Err(Error::syntax(if width > 1 {
                "subquery has too many columns"
            } else {
                "subquery has too few columns"
            }));
        }
        let (bound, t) = self.expr(x, scope, outer, agg)?;
        let (bound, t) = if t == DataType::Unknown {
            (self.cast_to(bound, t, &col_ty, false)?, col_ty.clone())
        } else {
            (bound, t)
        };
        binary_op_type(op, &t, &col_ty)?;
        Ok((
            SubKind::Quantified { expr: Box::new(bound), op, left_ty: t, right_ty: col_ty, all },
            DataType::Bool,
        ))
    }
}

/// Subqueries in GROUP BY keys or aggregate arguments: the Aggregate node evaluates
/// those on each input row without subquery results, so they are computed first, by a
/// Project below it that appends them to the input row (`width` columns wide) as extra
/// columns, which the keys and arguments then read.
pub(super) fn before_aggregate(
    rel: Rel,
    width: usize,
    keys: &mut [Expr],
    aggs: &mut [AggCall],
) -> Rel {
    let mut extra = Vec::new();
    let mut take = |e: &mut Expr| {
        if e.has_subquery() {
            let col = Expr::Column(width + extra.len());
            extra.push(std::mem::replace(e, col));
        }
    };
    keys.iter_mut().for_each(&mut take);
    for a in aggs.iter_mut() {
        a.arg.iter_mut().chain(a.delimiter.iter_mut()).for_each(&mut take);
        a.filter.iter_mut().chain(a.order_by.iter_mut().map(|k| &mut k.expr)).for_each(&mut take);
    }
    if extra.is_empty() {
        return rel;
    }
    let mut exprs: Vec<Expr> = (0..width).map(Expr::Column).collect();
    exprs.extend(extra);
    Rel::Project { input: Box::new(rel), exprs }
}

fn comparison(op: &ast::BinaryOperator) -> Result<BinaryOp> {
    use ast::BinaryOperator as B;
    Ok(match op {
        B::Eq => BinaryOp::Eq,
        B::NotEq => BinaryOp::NotEq,
        B::Lt => BinaryOp::Lt,
        B::LtEq => BinaryOp::LtEq,
        B::Gt => BinaryOp::Gt,
        B::GtEq => BinaryOp::GtEq,
        other => return Err(unsupported(format!("operator {other} with ANY / ALL"))),
    })
}

/// The scope of a post-aggregation row: each group key that is a plain column keeps
/// that column's name; the other positions cannot be named.
fn agg_scope(ctx: &AggCtx) -> Scope {
    ctx.group_keys
        .iter()
        .map(|(text, ty)| {
            let col = ctx.input.iter().find(|c| {
                c.name == *text
                    || c.qualifier.as_ref().is_some_and(|q| format!("{q}.{}", c.name) == *text)
            });
            match col {
                Some(c) => ScopeCol { hidden: false, ..c.clone() },
                None => ScopeCol {
                    qualifier: None,
                    name: String::new(),
                    ty: ty.clone(),
                    origin: (0, 0),
                    hidden: true,
                },
            }
        })
        .collect()
}
