//! Binding FROM items joined together: join kinds, ON / USING / NATURAL, and the
//! equality keys a hash join can use.
//!
//! `a JOIN b USING (id)` (and NATURAL, which is USING over the common names) outputs
//! one merged `id` first, then the other columns of `a`, then those of `b`:
//!
//! ```text
//!   Project [ merged id , a.* , b.* ]      scope: id (unqualified, visible)
//!      └─ Join ON a.id = b.id                     a.id, b.id (hidden: qualified only)
//! ```
//!
//! The merged column is the left one for INNER / LEFT, the right one for RIGHT and
//! COALESCE(left, right) for FULL. The hidden columns keep `a.id` / `b.id` and `a.*`
//! working, while `id` and `*` see only the merged column, as in PostgreSQL.

use sqlparser::ast;

use crate::error::{Error, ErrorKind, Result};
use crate::types::{binary_op_type, BinaryOp, DataType};

use super::super::expr::Expr;
use super::super::functions::{common_type, Func};
use super::super::plan::{JoinKind, Rel};
use super::{expect_bool, object_parts, unsupported, Planner, Scope, ScopeCol};

impl Planner<'_> {
    /// Binds one comma-separated FROM item; `preceding` is what the items before it
    /// produced (it is cross-joined to them, laterally if it is a LATERAL subquery).
    pub(super) fn table_with_joins(
        &mut self,
        twj: &ast::TableWithJoins,
        preceding: Option<(Rel, Scope)>,
        outer: Option<&Scope>,
    ) -> Result<(Rel, Scope)> {
        let cross = ast::JoinOperator::CrossJoin(ast::JoinConstraint::None);
        let (mut rel, mut scope, joins): (
            Rel,
            Scope,
            Vec<(&ast::TableFactor, &ast::JoinOperator)>,
        ) = match preceding {
            None => {
                let (r, sc) = self.table_factor(&twj.relation, None, outer)?;
                (r, sc, Vec::new())
            }
            Some((r, sc)) => (r, sc, vec![(&twj.relation, &cross)]),
        };
        let joins =
            joins.into_iter().chain(twj.joins.iter().map(|j| (&j.relation, &j.join_operator)));
        for (relation, operator) in joins {
            use ast::JoinOperator as J;
            let (kind, constraint) = match operator {
                J::Join(c) | J::Inner(c) => (JoinKind::Inner, c),
                J::Left(c) | J::LeftOuter(c) => (JoinKind::Left, c),
                J::Right(c) | J::RightOuter(c) => (JoinKind::Right, c),
                J::FullOuter(c) => (JoinKind::Full, c),
                J::CrossJoin(c) => (JoinKind::Inner, c),
                _ => return Err(unsupported("this join type")),
            };
            if matches!(constraint, ast::JoinConstraint::None)
                && !matches!(operator, J::CrossJoin(_))
            {
                // `a JOIN b` needs ON, USING or NATURAL (PostgreSQL's grammar).
                return Err(Error::syntax("syntax error at end of input"));
            }
            let lateral = matches!(relation, ast::TableFactor::Derived { lateral: true, .. });
            if lateral && matches!(kind, JoinKind::Right | JoinKind::Full) {
                return Err(Error::new(
                    ErrorKind::InvalidColumnReference,
                    "invalid reference to FROM-clause entry for table",
                )
                .with_hint(
                    "The combining JOIN type must be INNER or LEFT for a LATERAL reference.",
                ));
            }
            let (right, rscope) =
                self.table_factor(relation, if lateral { Some(&scope) } else { None }, outer)?;
            let twice = rscope
                .iter()
                .filter_map(|c| c.qualifier.as_deref())
                .find(|q| scope.iter().any(|c| c.qualifier.as_deref() == Some(q)));
            if let Some(name) = twice {
                return Err(Error::new(
                    ErrorKind::DuplicateAlias,
                    format!("table name \"{name}\" specified more than once"),
                ));
            }
            let (left_width, right_width) = (scope.len(), rscope.len());
            let mut joined = scope.clone();
            joined.extend(rscope.iter().cloned());
            let (on, using) = match constraint {
                ast::JoinConstraint::On(e) => {
                    let (pred, ty) = self.expr(e, &joined, outer, None)?;
                    expect_bool(&ty, "JOIN/ON")?;
                    if pred.has_subquery() {
                        return Err(unsupported("subqueries in JOIN/ON"));
                    }
                    (Some(pred), None)
                }
                ast::JoinConstraint::None => (None, None),
                ast::JoinConstraint::Using(names) => {
                    let names: Vec<String> =
                        names.iter().map(|n| object_parts(n).pop().unwrap_or_default()).collect();
                    let pairs = using_pairs(&names, &scope, &rscope)?;
                    (using_condition(&pairs, &joined, left_width)?, Some(pairs))
                }
                ast::JoinConstraint::Natural => {
                    let names: Vec<String> = scope
                        .iter()
                        .filter(|c| {
                            !c.hidden && rscope.iter().any(|r| !r.hidden && r.name == c.name)
                        })
                        .map(|c| c.name.clone())
                        .collect();
                    let pairs = using_pairs(&names, &scope, &rscope)?;
                    (using_condition(&pairs, &joined, left_width)?, Some(pairs))
                }
            };
            let equi = match (&on, lateral) {
                (Some(p), false) => equi_keys(p, left_width),
                _ => Vec::new(),
            };
            rel = Rel::Join {
                kind,
                left: Box::new(rel),
                right: Box::new(right),
                on,
                lateral,
                left_width,
                right_width,
                equi,
            };
            scope = joined;
            if let Some(pairs) = using {
                (rel, scope) = merge_using(rel, scope, &pairs, kind, left_width)?;
            }
        }
        Ok((rel, scope))
    }
}

/// (left position, right position within the right scope) for each USING name.
fn using_pairs(names: &[String], left: &Scope, right: &Scope) -> Result<Vec<(usize, usize)>> {
    let find = |sc: &Scope, name: &str, side: &str| -> Result<usize> {
        let hits: Vec<usize> = sc
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.hidden && c.name == name)
            .map(|(i, _)| i)
            .collect();
        match hits.as_slice() {
            [i] => Ok(*i),
            [] => Err(Error::new(
                ErrorKind::UndefinedColumn,
                format!(
                    "column \"{name}\" specified in USING clause does not exist in {side} table"
                ),
            )),
            _ => Err(Error::new(
                ErrorKind::AmbiguousColumn,
                format!("common column name \"{name}\" appears more than once in {side} table"),
            )),
        }
    };
    let mut pairs = Vec::new();
    for (k, n) in names.iter().enumerate() {
        if names[..k].contains(n) {
            return Err(Error::new(
                ErrorKind::DuplicateColumn,
                format!("column name \"{n}\" appears more than once in USING clause"),
            ));
        }
        pairs.push((find(left, n, "left")?, find(right, n, "right")?));
    }
    Ok(pairs)
}

/// `l1 = r1 AND l2 = r2 …` over the joined row.
fn using_condition(
    pairs: &[(usize, usize)],
    joined: &Scope,
    left_width: usize,
) -> Result<Option<Expr>> {
    let mut cond: Option<Expr> = None;
    for &(l, r) in pairs {
        let (lt, rt) = (joined[l].ty.clone(), joined[left_width + r].ty.clone());
        binary_op_type(BinaryOp::Eq, &lt, &rt)?;
        let eq = Expr::Binary {
            op: BinaryOp::Eq,
            left: Box::new(Expr::Column(l)),
            left_ty: lt,
            right: Box::new(Expr::Column(left_width + r)),
            right_ty: rt,
        };
        cond = Some(match cond {
            None => eq,
            Some(c) => Expr::And(Box::new(c), Box::new(eq)),
        });
    }
    Ok(cond)
}

/// Puts the merged USING columns in front and hides the columns they merge.
fn merge_using(
    rel: Rel,
    mut scope: Scope,
    pairs: &[(usize, usize)],
    kind: JoinKind,
    left_width: usize,
) -> Result<(Rel, Scope)> {
    let mut exprs = Vec::new();
    let mut merged = Vec::new();
    for &(l, r) in pairs {
        let r = left_width + r;
        let (lt, rt) = (scope[l].ty.clone(), scope[r].ty.clone());
        let ty = common_type(&[lt.clone(), rt.clone()]);
        let cast = |i: usize, from: &DataType| {
            if *from == ty {
                Expr::Column(i)
            } else {
                Expr::Cast(Box::new(Expr::Column(i)), from.clone(), ty.clone())
            }
        };
        let (e, origin) = match kind {
            JoinKind::Inner | JoinKind::Left => (cast(l, &lt), scope[l].origin),
            JoinKind::Right => (cast(r, &rt), scope[r].origin),
            JoinKind::Full => {
                (Expr::Func(Func::Coalesce, vec![cast(l, &lt), cast(r, &rt)]), (0, 0))
            }
        };
        exprs.push(e);
        merged.push(ScopeCol {
            qualifier: None,
            name: scope[l].name.clone(),
            ty,
            origin,
            hidden: false,
        });
        scope[l].hidden = true;
        scope[r].hidden = true;
    }
    exprs.extend((0..scope.len()).map(Expr::Column));
    merged.extend(scope);
    Ok((Rel::Project { input: Box::new(rel), exprs }, merged))
}

/// The conjuncts of `on` of the form `left column = right column` whose two sides can
/// be hashed as the same type: (key over the left row, key over the right row).
pub(super) fn equi_keys(on: &Expr, left_width: usize) -> Vec<(Expr, Expr)> {
    let mut conjuncts = Vec::new();
    super::flatten_and(on, &mut conjuncts);
    let mut keys = Vec::new();
    for c in conjuncts {
        let Expr::Binary { op: BinaryOp::Eq, left, right, left_ty, right_ty } = c else {
            continue;
        };
        let (Expr::Column(a), Expr::Column(b)) = (left.as_ref(), right.as_ref()) else {
            continue;
        };
        let Some(ty) = hash_type(left_ty, right_ty) else { continue };
        let (l, lt, r, rt) = match (*a < left_width, *b < left_width) {
            (true, false) => (*a, left_ty, *b - left_width, right_ty),
            (false, true) => (*b, right_ty, *a - left_width, left_ty),
            _ => continue,
        };
        let key = |i: usize, t: &DataType| {
            // Text-like values are the same `Value::Text` whatever their type.
            if *t == ty || ty != DataType::Int8 {
                Expr::Column(i)
            } else {
                Expr::Cast(Box::new(Expr::Column(i)), t.clone(), ty.clone())
            }
        };
        keys.push((key(l, lt), key(r, rt)));
    }
    keys
}

/// The type both sides are hashed as, where the key encoding of equal values is equal
/// bytes: integers as int8, text-like types as text (same values), and a few exact
/// types as themselves. Floats (-0 = 0), numeric (1.0 = 1) and char(n) are not hashed.
fn hash_type(a: &DataType, b: &DataType) -> Option<DataType> {
    use DataType::*;
    let int = |t: &DataType| matches!(t, Int2 | Int4 | Int8);
    let text = |t: &DataType| matches!(t, Text | Varchar(_) | Name);
    if int(a) && int(b) {
        return Some(Int8);
    }
    if text(a) && text(b) {
        return Some(a.clone());
    }
    match (a, b) {
        (Bool, Bool) | (Date, Date) | (Timestamp, Timestamp) | (TimestampTz, TimestampTz) => {
            Some(a.clone())
        }
        _ => None,
    }
}
