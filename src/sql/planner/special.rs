//! Binding the expression forms with a syntax of their own: `INTERVAL '…'` literals,
//! subscripts (`a[1]`), `x op ANY/ALL (array)`, and the unknown-literal rules of the
//! jsonb and bytea operators.
//!
//! Kept apart from `planner.rs` so that the type-specific rules live in one place;
//! each is a method on [`Planner`] that the main `expr` match delegates to.

use sqlparser::ast;

use crate::error::{Error, ErrorKind, Result};
use crate::types::{binary_op_type, parse_interval, BinaryOp, DataType, Value};

use super::{unsupported, AggCtx, Planner, Scope};
use crate::sql::expr::Expr;

impl Planner<'_> {
    /// `INTERVAL '1 day'` (no fields or precision: those are refused with 0A000).
    pub(super) fn interval_literal(&mut self, iv: &ast::Interval) -> Result<(Expr, DataType)> {
        if iv.leading_field.is_some()
            || iv.last_field.is_some()
            || iv.leading_precision.is_some()
            || iv.fractional_seconds_precision.is_some()
        {
            return Err(unsupported("interval fields and precision"));
        }
        match iv.value.as_ref() {
            ast::Expr::Value(v) => match &v.value {
                ast::Value::SingleQuotedString(s) => {
                    Ok((Expr::Const(Value::Interval(parse_interval(s)?)), DataType::Interval))
                }
                _ => Err(unsupported("INTERVAL with a non-string value")),
            },
            _ => Err(unsupported("INTERVAL with a non-literal value")),
        }
    }

    /// `root[i][j]…`: each step a `Subscript` operator on an array.
    pub(super) fn subscript(
        &mut self,
        root: &ast::Expr,
        chain: &[ast::AccessExpr],
        scope: &Scope,
        outer: Option<&Scope>,
        mut agg: Option<&mut AggCtx>,
    ) -> Result<(Expr, DataType)> {
        let (mut e, mut ty) = self.expr(root, scope, outer, agg.as_deref_mut())?;
        for step in chain {
            let not_subscriptable = |ty: &DataType| {
                Error::new(
                    ErrorKind::DatatypeMismatch,
                    format!(
                        "cannot subscript type {} because it does not support subscripting",
                        ty.display_name()
                    ),
                )
            };
            let index = match step {
                ast::AccessExpr::Subscript(ast::Subscript::Index { index }) => index,
                ast::AccessExpr::Subscript(ast::Subscript::Slice {
                    lower_bound,
                    upper_bound,
                    stride: None,
                }) => {
                    if !matches!(ty, DataType::Array(_)) {
                        return Err(not_subscriptable(&ty));
                    }
                    // An omitted bound is the array's own (1, or its length).
                    let mut bound = |b: &Option<ast::Expr>, omitted: i32| -> Result<Expr> {
                        let Some(b) = b else { return Ok(Expr::Const(Value::Int4(omitted))) };
                        let (i, it) = self.expr(b, scope, outer, agg.as_deref_mut())?;
                        // PostgreSQL coerces a bound as an assignment would (1.5 is 2).
                        let assignable = it == DataType::Unknown
                            || crate::types::can_cast_assignment(&it, &DataType::Int4);
                        if !assignable {
                            return Err(Error::new(
                                ErrorKind::DatatypeMismatch,
                                "array subscript must have type integer",
                            ));
                        }
                        self.cast_to(i, it, &DataType::Int4, true)
                    };
                    let lo = bound(lower_bound, 1)?;
                    let hi = bound(upper_bound, i32::MAX)?;
                    e = Expr::Func(crate::sql::functions::Func::ArraySlice, vec![e, lo, hi]);
                    continue;
                }
                ast::AccessExpr::Subscript(ast::Subscript::Slice { .. }) => {
                    return Err(unsupported("array slices with a stride"))
                }
                ast::AccessExpr::Dot(_) => return Err(unsupported("field selection")),
            };
            if !matches!(ty, DataType::Array(_)) {
                return Err(not_subscriptable(&ty));
            }
            let (i, it) = self.expr(index, scope, outer, agg.as_deref_mut())?;
            let i = self.cast_to(i, it.clone(), &DataType::Int4, false)?;
            let it = if it == DataType::Unknown { DataType::Int4 } else { it };
            let result = binary_op_type(BinaryOp::Subscript, &ty, &it).map_err(|_| {
                Error::new(ErrorKind::DatatypeMismatch, "array subscript must have type integer")
            })?;
            e = Expr::Binary {
                op: BinaryOp::Subscript,
                left: Box::new(e),
                left_ty: ty,
                right: Box::new(i),
                right_ty: it,
            };
            ty = result;
        }
        Ok((e, ty))
    }

    /// `left op ANY (array)` / `left op ALL (array)`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn any_all(
        &mut self,
        left: &ast::Expr,
        op: &ast::BinaryOperator,
        right: &ast::Expr,
        all: bool,
        scope: &Scope,
        outer: Option<&Scope>,
        mut agg: Option<&mut AggCtx>,
    ) -> Result<(Expr, DataType)> {
        use ast::BinaryOperator as B;
        let op = match op {
            B::Eq => BinaryOp::Eq,
            B::NotEq => BinaryOp::NotEq,
            B::Lt => BinaryOp::Lt,
            B::LtEq => BinaryOp::LtEq,
            B::Gt => BinaryOp::Gt,
            B::GtEq => BinaryOp::GtEq,
            other => return Err(unsupported(format!("operator {other} with ANY/ALL"))),
        };
        if matches!(right, ast::Expr::Subquery(_)) {
            return Err(unsupported("ANY/ALL over a subquery"));
        }
        let (l, lt) = self.expr(left, scope, outer, agg.as_deref_mut())?;
        let (r, rt) = self.expr(right, scope, outer, agg)?;
        let (l, lt, r, rt) = match (&lt, &rt) {
            (DataType::Unknown, DataType::Array(elem)) => {
                let elem = elem.as_ref().clone();
                (self.cast_to(l, lt, &elem, false)?, elem, r, rt)
            }
            (_, DataType::Unknown) => {
                let target = if lt == DataType::Unknown { DataType::Text } else { lt.clone() };
                let l = self.cast_to(l, lt, &target, false)?;
                let lt = target;
                let arr = DataType::Array(Box::new(lt.clone()));
                (l, lt, self.cast_to(r, DataType::Unknown, &arr, false)?, arr)
            }
            _ => (l, lt, r, rt),
        };
        let DataType::Array(elem) = &rt else {
            return Err(Error::new(
                ErrorKind::DatatypeMismatch,
                format!(
                    "op ANY/ALL (array) requires array on right side, not {}",
                    rt.display_name()
                ),
            ));
        };
        binary_op_type(op, &lt, elem)?;
        Ok((
            Expr::AnyAll {
                op,
                left: Box::new(l),
                left_ty: lt,
                array: Box::new(r),
                elem_ty: elem.as_ref().clone(),
                all,
            },
            DataType::Bool,
        ))
    }

    /// The type an unknown right operand of a jsonb or bytea operator takes, when it is
    /// not simply the other side's type (`doc -> 'key'` is text, `doc #> '{a,b}'` text[]).
    pub(super) fn special_operand_type(
        op: BinaryOp,
        left: &DataType,
        right: &DataType,
    ) -> Option<(DataType, DataType)> {
        let text = DataType::Text;
        match (op, left, right) {
            (
                BinaryOp::JsonGet | BinaryOp::JsonGetText | BinaryOp::JsonHasKey,
                l,
                DataType::Unknown,
            ) => Some((l.clone(), text)),
            (
                BinaryOp::JsonPath
                | BinaryOp::JsonPathText
                | BinaryOp::JsonHasAny
                | BinaryOp::JsonHasAll,
                l,
                DataType::Unknown,
            ) => Some((l.clone(), DataType::Array(Box::new(text)))),
            // `array || 'literal'`: the literal is an array (anyarray || anyarray).
            (BinaryOp::Concat, a @ DataType::Array(_), DataType::Unknown)
            | (BinaryOp::Concat, DataType::Unknown, a @ DataType::Array(_)) => {
                Some((a.clone(), a.clone()))
            }
            (BinaryOp::Concat, DataType::Bytea, DataType::Unknown) => {
                Some((DataType::Bytea, DataType::Bytea))
            }
            (BinaryOp::Concat, DataType::Unknown, DataType::Bytea) => {
                Some((DataType::Bytea, DataType::Bytea))
            }
            _ => None,
        }
    }
}
