//! Bound expressions and their evaluation.
//!
//! The planner turns sqlparser's AST into an [`Expr`] whose every column reference is a
//! position in the row it will be evaluated on, whose parameters are positions in the
//! bound parameter list, and whose operators were resolved by type. Evaluation is then a
//! plain recursive walk with SQL's three-valued logic (NULL propagates through operators;
//! AND/OR follow Kleene logic).

use crate::error::{Error, ErrorKind, Result};
use crate::types::{binary_op, cast, compare, BinaryOp, DataType, Value};

use super::functions::Func;
use super::plan::Rel;

/// A bound expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A constant.
    Const(Value),
    /// Parameter `$n+1`, already converted to its inferred type at Bind.
    Param(usize),
    /// Column `i` of the row being evaluated.
    Column(usize),
    /// Column `i` of the enclosing row (a LATERAL subquery's left side).
    Outer(usize),
    /// `-x`.
    Neg(Box<Expr>, DataType),
    /// `NOT x`.
    Not(Box<Expr>),
    /// A typed binary operator.
    Binary {
        /// The operator.
        op: BinaryOp,
        /// Left operand.
        left: Box<Expr>,
        /// Its type.
        left_ty: DataType,
        /// Right operand.
        right: Box<Expr>,
        /// Its type.
        right_ty: DataType,
    },
    /// `a AND b`.
    And(Box<Expr>, Box<Expr>),
    /// `a OR b`.
    Or(Box<Expr>, Box<Expr>),
    /// `x IS [NOT] NULL`.
    IsNull(Box<Expr>, bool),
    /// `x IS [NOT] DISTINCT FROM y`.
    IsDistinct(Box<Expr>, Box<Expr>, bool),
    /// A cast.
    Cast(Box<Expr>, DataType, DataType),
    /// A scalar function call.
    Func(Func, Vec<Expr>),
    /// `CASE [operand] WHEN … THEN … ELSE … END`.
    Case {
        /// The simple-CASE operand.
        operand: Option<Box<Expr>>,
        /// WHEN/THEN pairs (conditions, or values compared with the operand).
        whens: Vec<(Expr, Expr)>,
        /// ELSE.
        otherwise: Option<Box<Expr>>,
    },
    /// `x [NOT] IN (list)`: each item compared with `=` at the given types.
    InList {
        /// The tested value.
        expr: Box<Expr>,
        /// The list.
        list: Vec<Expr>,
        /// NOT IN.
        negated: bool,
        /// Type of the tested value.
        ty: DataType,
        /// Type of the list items.
        item_ty: DataType,
    },
    /// `x [NOT] LIKE/ILIKE pattern`.
    Like {
        /// The string.
        expr: Box<Expr>,
        /// The pattern.
        pattern: Box<Expr>,
        /// NOT LIKE.
        negated: bool,
        /// ILIKE.
        case_insensitive: bool,
    },
    /// `ARRAY[…]`.
    Array(Vec<Expr>),
    /// `left op ANY (array)`, or `ALL` when `all`.
    AnyAll {
        /// The comparison.
        op: BinaryOp,
        /// The tested value.
        left: Box<Expr>,
        /// Its type.
        left_ty: DataType,
        /// The array.
        array: Box<Expr>,
        /// The array's element type.
        elem_ty: DataType,
        /// ALL rather than ANY.
        all: bool,
    },
    /// A subquery in an expression (scalar, EXISTS, IN / ANY / ALL); its result is
    /// computed by the executor before the expression is evaluated (see `exec::subs`).
    Sub(Box<SubPlan>),
}

/// A subquery used as an expression.
#[derive(Debug, Clone, PartialEq)]
pub struct SubPlan {
    /// Unique within the statement: the key of its result in [`EvalCtx::subs`].
    pub id: usize,
    /// The query. It reads the enclosing row (followed by the enclosing row's own
    /// outer row) through `Expr::Outer`.
    pub rel: Rel,
    /// True if it reads the enclosing row, so it runs once per row; otherwise it runs
    /// once per statement and its result is reused.
    pub correlated: bool,
    /// What the expression makes of the rows.
    pub kind: SubKind,
}

/// How a subquery's rows become a value.
#[derive(Debug, Clone, PartialEq)]
pub enum SubKind {
    /// `(SELECT x …)`: the one value; NULL for no row; 21000 for several.
    Scalar,
    /// `EXISTS (…)`.
    Exists,
    /// `ARRAY(SELECT x …)`: the column's values as an array (empty for no row).
    Array,
    /// `x op ANY (…)` / `x op ALL (…)` (`IN` is `= ANY`, `NOT IN` is `NOT (= ANY)`).
    Quantified {
        /// The tested value.
        expr: Box<Expr>,
        /// The comparison.
        op: BinaryOp,
        /// Type of `expr`.
        left_ty: DataType,
        /// Type of the subquery's column.
        right_ty: DataType,
        /// ALL rather than ANY.
        all: bool,
    },
}

/// A subquery's result, as its expression needs it.
#[derive(Debug, Clone, PartialEq)]
pub enum SubResult {
    /// Scalar subquery's value.
    Value(Value),
    /// EXISTS.
    Exists(bool),
    /// The first column of every row (for ANY / ALL).
    Column(crate::sync::Arc<Vec<Value>>),
}

/// What evaluation may read besides the row.
#[derive(Debug, Clone, Copy)]
pub struct EvalCtx<'a> {
    /// Bound parameters.
    pub params: &'a [Value],
    /// The enclosing row, for LATERAL.
    pub outer: Option<&'a [Value]>,
    /// Session facts functions read (now(), current_user, …).
    pub session: &'a SessionFacts,
    /// Results of the subqueries in the expression, by [`SubPlan::id`].
    pub subs: &'a [(usize, SubResult)],
}

/// Facts about the session and statement that functions read.
#[derive(Debug, Clone, Default)]
pub struct SessionFacts {
    /// Transaction start time, µs since 2000-01-01 UTC (now(), CURRENT_TIMESTAMP).
    pub txn_start: i64,
    /// Statement start time (statement_timestamp()).
    pub statement_start: i64,
    /// The backend pid.
    pub pid: i32,
    /// The connected user.
    pub user: String,
    /// The connected database.
    pub database: String,
    /// The sequence functions' access (None where no session is, e.g. unit tests).
    pub sequences: Option<crate::sequence::SequenceAccess>,
    /// The session's settings (current_setting, pg_settings); None outside a session.
    pub settings: Option<crate::session::settings::Settings>,
    /// The session's named prepared statements (pg_prepared_statements).
    pub prepared: Option<crate::sync::Arc<crate::session::PreparedStatements>>,
}

impl Expr {
    /// True if evaluation reads no row (constants, parameters, functions of them).
    pub fn is_row_independent(&self) -> bool {
        match self {
            Expr::Const(_) | Expr::Param(_) => true,
            Expr::Column(_) | Expr::Outer(_) => false,
            Expr::Neg(e, _) | Expr::Not(e) | Expr::IsNull(e, _) | Expr::Cast(e, _, _) => {
                e.is_row_independent()
            }
            Expr::Binary { left, right, .. } => {
                left.is_row_independent() && right.is_row_independent()
            }
            Expr::And(a, b) | Expr::Or(a, b) | Expr::IsDistinct(a, b, _) => {
                a.is_row_independent() && b.is_row_independent()
            }
            Expr::Func(f, args) => {
                f.is_immutable_per_statement() && args.iter().all(Expr::is_row_independent)
            }
            Expr::Case { .. }
            | Expr::InList { .. }
            | Expr::Like { .. }
            | Expr::Array(_)
            | Expr::AnyAll { .. }
            | Expr::Sub(_) => false,
        }
    }

    /// The direct children of this node (not descending into subqueries' plans).
    fn children(&self) -> Vec<&Expr> {
        match self {
            Expr::Const(_) | Expr::Param(_) | Expr::Column(_) | Expr::Outer(_) => Vec::new(),
            Expr::Neg(e, _) | Expr::Not(e) | Expr::IsNull(e, _) | Expr::Cast(e, _, _) => {
                vec![e]
            }
            Expr::Binary { left, right, .. } => vec![left, right],
            Expr::And(a, b) | Expr::Or(a, b) | Expr::IsDistinct(a, b, _) => vec![a, b],
            Expr::Func(_, args) | Expr::Array(args) => args.iter().collect(),
            Expr::Case { operand, whens, otherwise } => {
                let mut v: Vec<&Expr> = operand.iter().map(|b| b.as_ref()).collect();
                for (c, r) in whens {
                    v.push(c);
                    v.push(r);
                }
                v.extend(otherwise.iter().map(|b| b.as_ref()));
                v
            }
            Expr::InList { expr, list, .. } => {
                let mut v = vec![expr.as_ref()];
                v.extend(list.iter());
                v
            }
            Expr::Like { expr, pattern, .. } => vec![expr, pattern],
            Expr::AnyAll { left, array, .. } => vec![left, array],
            Expr::Sub(sp) => match &sp.kind {
                SubKind::Quantified { expr, .. } => vec![expr],
                _ => Vec::new(),
            },
        }
    }

    /// [`Expr::children`], mutable.
    fn children_mut(&mut self) -> Vec<&mut Expr> {
        match self {
            Expr::Const(_) | Expr::Param(_) | Expr::Column(_) | Expr::Outer(_) => Vec::new(),
            Expr::Neg(e, _) | Expr::Not(e) | Expr::IsNull(e, _) | Expr::Cast(e, _, _) => {
                vec![e]
            }
            Expr::Binary { left, right, .. } => vec![left, right],
            Expr::And(a, b) | Expr::Or(a, b) | Expr::IsDistinct(a, b, _) => vec![a, b],
            Expr::Func(_, args) | Expr::Array(args) => args.iter_mut().collect(),
            Expr::Case { operand, whens, otherwise } => {
                let mut v: Vec<&mut Expr> = operand.iter_mut().map(|b| b.as_mut()).collect();
                for (c, r) in whens {
                    v.push(c);
                    v.push(r);
                }
                v.extend(otherwise.iter_mut().map(|b| b.as_mut()));
                v
            }
            Expr::InList { expr, list, .. } => {
                let mut v = vec![expr.as_mut()];
                v.extend(list.iter_mut());
                v
            }
            Expr::Like { expr, pattern, .. } => vec![expr, pattern],
            Expr::AnyAll { left, array, .. } => vec![left, array],
            Expr::Sub(sp) => match &mut sp.kind {
                SubKind::Quantified { expr, .. } => vec![expr],
                _ => Vec::new(),
            },
        }
    }

    /// The lowest and highest row column this expression reads, if it reads only
    /// columns of the row (no enclosing row, no subquery) and at least one: what
    /// decides which side of a join a WHERE condition can be pushed to.
    pub fn column_span(&self) -> Option<(usize, usize)> {
        fn walk(e: &Expr, span: &mut Option<(usize, usize)>) -> bool {
            match e {
                Expr::Outer(_) | Expr::Sub(_) => return false,
                Expr::Column(i) => {
                    *span = Some(match *span {
                        Some((lo, hi)) => (lo.min(*i), hi.max(*i)),
                        None => (*i, *i),
                    })
                }
                _ => {}
            }
            e.children().into_iter().all(|c| walk(c, span))
        }
        let mut span = None;
        if walk(self, &mut span) {
            span
        } else {
            None
        }
    }

    /// This expression with every row column `i` read as column `i - by` (for a
    /// condition moved onto the right input of a join, whose row starts `by` columns
    /// later in the joined row). Only for expressions whose [`Expr::column_span`]
    /// starts at `by` or later.
    pub fn shifted_left(mut self, by: usize) -> Expr {
        fn walk(e: &mut Expr, by: usize) {
            if let Expr::Column(i) = e {
                *i -= by;
            }
            for c in e.children_mut() {
                walk(c, by);
            }
        }
        walk(&mut self, by);
        self
    }

    /// The subqueries this expression evaluates, outermost first.
    pub fn subplans(&self) -> Vec<&SubPlan> {
        let mut out = Vec::new();
        self.collect_subplans(&mut out);
        out
    }

    fn collect_subplans<'e>(&'e self, out: &mut Vec<&'e SubPlan>) {
        if let Expr::Sub(sp) = self {
            out.push(sp);
        }
        for c in self.children() {
            c.collect_subplans(out);
        }
    }

    /// True if evaluation needs subquery results.
    /// True if evaluation needs nothing but the row and the parameters: no function
    /// (they may read session facts), no subquery, no enclosing row. Such expressions
    /// can be evaluated inside a storage actor (`dml::PlannedChange`).
    pub fn is_self_contained(&self) -> bool {
        !matches!(self, Expr::Func(..) | Expr::Sub(_) | Expr::Outer(_))
            && self.children().iter().all(|c| c.is_self_contained())
    }

    /// True if a subquery appears anywhere in the expression.
    pub fn has_subquery(&self) -> bool {
        matches!(self, Expr::Sub(_)) || self.children().iter().any(|c| c.has_subquery())
    }

    /// Evaluates on `row`.
    pub fn eval(&self, row: &[Value], ctx: &EvalCtx<'_>) -> Result<Value> {
        match self {
            Expr::Const(v) => Ok(v.clone()),
            Expr::Param(i) => ctx.params.get(*i).cloned().ok_or_else(|| {
                Error::new(
                    ErrorKind::UndefinedParameter,
                    format!("there is no parameter ${}", i + 1),
                )
            }),
            Expr::Column(i) => {
                row.get(*i).cloned().ok_or_else(|| Error::internal("column index out of range"))
            }
            Expr::Outer(i) => ctx
                .outer
                .and_then(|o| o.get(*i))
                .cloned()
                .ok_or_else(|| Error::internal("outer column index out of range")),
            Expr::Neg(e, ty) => {
                let v = e.eval(row, ctx)?;
                if v.is_null() {
                    return Ok(Value::Null);
                }
                match &v {
                    Value::Interval(iv) => return Ok(Value::Interval(iv.checked_neg()?)),
                    // Not 0 - x: the negation of 0 is -0, which PostgreSQL prints.
                    Value::Float8(x) => return Ok(Value::Float8(-x)),
                    Value::Float4(x) => return Ok(Value::Float4(-x)),
                    _ => {}
                }
                let zero = cast(&Value::Int4(0), &DataType::Int4, ty)?;
                binary_op(BinaryOp::Sub, &zero, ty, &v, ty)
            }
            Expr::Not(e) => Ok(match truth(&e.eval(row, ctx)?)? {
                Some(b) => Value::Bool(!b),
                None => Value::Null,
            }),
            Expr::Binary { op, left, left_ty, right, right_ty } => {
                let l = left.eval(row, ctx)?;
                // NULL without evaluating the right side, except for `||`, which is not
                // strict on arrays (`types::binary_op` answers for NULLs).
                if l.is_null() && *op != BinaryOp::Concat {
                    return Ok(Value::Null);
                }
                let r = right.eval(row, ctx)?;
                binary_op(*op, &l, left_ty, &r, right_ty)
            }
            Expr::And(a, b) => {
                let l = truth(&a.eval(row, ctx)?)?;
                if l == Some(false) {
                    return Ok(Value::Bool(false));
                }
                let r = truth(&b.eval(row, ctx)?)?;
                Ok(match (l, r) {
                    (_, Some(false)) => Value::Bool(false),
                    (Some(true), Some(true)) => Value::Bool(true),
                    _ => Value::Null,
                })
            }
            Expr::Or(a, b) => {
                let l = truth(&a.eval(row, ctx)?)?;
                if l == Some(true) {
                    return Ok(Value::Bool(true));
                }
                let r = truth(&b.eval(row, ctx)?)?;
                Ok(match (l, r) {
                    (_, Some(true)) => Value::Bool(true),
                    (Some(false), Some(false)) => Value::Bool(false),
                    _ => Value::Null,
                })
            }
            Expr::IsNull(e, negated) => Ok(Value::Bool(e.eval(row, ctx)?.is_null() != *negated)),
            Expr::IsDistinct(a, b, negated) => {
                let l = a.eval(row, ctx)?;
                let r = b.eval(row, ctx)?;
                let distinct = match (l.is_null(), r.is_null()) {
                    (true, true) => false,
                    (true, false) | (false, true) => true,
                    _ => compare(&l, &r) != std::cmp::Ordering::Equal,
                };
                Ok(Value::Bool(distinct != *negated))
            }
            Expr::Cast(e, from, to) => {
                let v = e.eval(row, ctx)?;
                if v.is_null() {
                    return Ok(Value::Null);
                }
                cast(&v, from, to)
            }
            Expr::Func(Func::Coalesce, args) => {
                // Lazy, as in PostgreSQL: coalesce(1, 1/0) is 1.
                for a in args {
                    let v = a.eval(row, ctx)?;
                    if !v.is_null() {
                        return Ok(v);
                    }
                }
                Ok(Value::Null)
            }
            Expr::Func(f, args) => {
                let mut vals = Vec::with_capacity(args.len());
                for a in args {
                    vals.push(a.eval(row, ctx)?);
                }
                f.call(&vals, ctx)
            }
            Expr::Case { operand, whens, otherwise } => {
                let subject = match operand {
                    Some(o) => Some(o.eval(row, ctx)?),
                    None => None,
                };
                for (cond, then) in whens {
                    let hit = match &subject {
                        Some(s) => {
                            let w = cond.eval(row, ctx)?;
                            !s.is_null()
                                && !w.is_null()
                                && compare(s, &w) == std::cmp::Ordering::Equal
                        }
                        None => truth(&cond.eval(row, ctx)?)? == Some(true),
                    };
                    if hit {
                        return then.eval(row, ctx);
                    }
                }
                match otherwise {
                    Some(e) => e.eval(row, ctx),
                    None => Ok(Value::Null),
                }
            }
            Expr::InList { expr, list, negated, ty, item_ty } => {
                let v = expr.eval(row, ctx)?;
                if v.is_null() {
                    return Ok(Value::Null);
                }
                let mut saw_null = false;
                for item in list {
                    let w = item.eval(row, ctx)?;
                    if w.is_null() {
                        saw_null = true;
                        continue;
                    }
                    if binary_op(BinaryOp::Eq, &v, ty, &w, item_ty)? == Value::Bool(true) {
                        return Ok(Value::Bool(!negated));
                    }
                }
                Ok(if saw_null { Value::Null } else { Value::Bool(*negated) })
            }
            Expr::Like { expr, pattern, negated, case_insensitive } => {
                let v = expr.eval(row, ctx)?;
                let p = pattern.eval(row, ctx)?;
                match (v, p) {
                    (Value::Text(s), Value::Text(p)) => {
                        let m = if *case_insensitive {
                            like(&s.to_lowercase(), &p.to_lowercase())
                        } else {
                            like(&s, &p)
                        };
                        Ok(Value::Bool(m != *negated))
                    }
                    (Value::Null, _) | (_, Value::Null) => Ok(Value::Null),
                    _ => Err(Error::new(
                        ErrorKind::UndefinedFunction,
                        "operator does not exist for LIKE",
                    )),
                }
            }
            Expr::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for i in items {
                    out.push(i.eval(row, ctx)?);
                }
                Ok(Value::Array(out))
            }
            Expr::AnyAll { op, left, left_ty, array, elem_ty, all } => {
                let v = left.eval(row, ctx)?;
                let Value::Array(items) = array.eval(row, ctx)? else {
                    return Ok(Value::Null);
                };
                quantified(&v, *op, left_ty, &items, elem_ty, *all)
            }
            Expr::Sub(sp) => {
                let result = ctx
                    .subs
                    .iter()
                    .find(|(id, _)| *id == sp.id)
                    .map(|(_, r)| r)
                    .ok_or_else(|| Error::internal("subquery result not computed"))?;
                match (&sp.kind, result) {
                    (SubKind::Scalar | SubKind::Array, SubResult::Value(v)) => Ok(v.clone()),
                    (SubKind::Exists, SubResult::Exists(b)) => Ok(Value::Bool(*b)),
                    (
                        SubKind::Quantified { expr, op, left_ty, right_ty, all },
                        SubResult::Column(vals),
                    ) => {
                        let x = expr.eval(row, ctx)?;
                        quantified(&x, *op, left_ty, vals.as_slice(), right_ty, *all)
                    }
                    _ => Err(Error::internal("subquery result of the wrong kind")),
                }
            }
        }
    }

    /// Evaluates as a condition: true only for TRUE (NULL and FALSE reject the row).
    pub fn matches(&self, row: &[Value], ctx: &EvalCtx<'_>) -> Result<bool> {
        Ok(truth(&self.eval(row, ctx)?)? == Some(true))
    }
}

/// `x op ANY (vals)` / `x op ALL (vals)` with SQL's NULL rules: ANY is true if some
/// comparison is true, else NULL if some was NULL, else false (so false for no rows);
/// ALL is false if some comparison is false, else NULL if some was NULL, else true.
fn quantified(
    x: &Value,
    op: BinaryOp,
    left_ty: &DataType,
    vals: &[Value],
    right_ty: &DataType,
    all: bool,
) -> Result<Value> {
    let mut saw_null = false;
    for v in vals {
        let r = if x.is_null() || v.is_null() {
            None
        } else {
            truth(&binary_op(op, x, left_ty, v, right_ty)?)?
        };
        match r {
            None => saw_null = true,
            Some(b) if b != all => return Ok(Value::Bool(b)),
            Some(_) => {}
        }
    }
    Ok(if saw_null { Value::Null } else { Value::Bool(all) })
}

/// SQL truth value of a boolean (None = NULL).
pub fn truth(v: &Value) -> Result<Option<bool>> {
    match v {
        Value::Bool(b) => Ok(Some(*b)),
        Value::Null => Ok(None),
        other => Err(Error::new(
            ErrorKind::DatatypeMismatch,
            format!("argument of WHERE must be type boolean, not {other:?}"),
        )),
    }
}

/// SQL LIKE with `%` and `_` and backslash escapes.
pub fn like(s: &str, pattern: &str) -> bool {
    let s: Vec<char> = s.chars().collect();
    let p: Vec<char> = pattern.chars().collect();
    like_at(&s, 0, &p, 0)
}

fn like_at(s: &[char], mut i: usize, p: &[char], mut j: usize) -> bool {
    while j < p.len() {
        match p[j] {
            '%' => {
                while j < p.len() && p[j] == '%' {
                    j += 1;
                }
                if j == p.len() {
                    return true;
                }
                return (i..=s.len()).any(|k| like_at(s, k, p, j));
            }
            '_' => {
                if i >= s.len() {
                    return false;
                }
                i += 1;
                j += 1;
            }
            c => {
                let (lit, step) = if c == '\\' && j + 1 < p.len() { (p[j + 1], 2) } else { (c, 1) };
                if i >= s.len() || s[i] != lit {
                    return false;
                }
                i += 1;
                j += step;
            }
        }
    }
    i == s.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns() {
        assert!(like("pgbench_accounts", "pgbench%"));
        assert!(like("abc", "a_c"));
        assert!(!like("abc", "a_"));
        assert!(like("a%c", "a\\%c"));
        assert!(like("", "%"));
    }
}
