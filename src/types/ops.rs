//! Operator resolution and evaluation: which `+`, `=`, `||` applies to two operand
//! types, and what it computes — PostgreSQL's choices for the supported types.
//!
//! Resolution ([`binary_op_type`]) and evaluation ([`binary_op`]) share one table,
//! `resolve`, which names the operand types each side is coerced to and the
//! implementation to run:
//!
//! ```text
//!   int2 + int4     ─▶ int4 arithmetic      (22003 "integer out of range")
//!   int8 * numeric  ─▶ numeric arithmetic   (PostgreSQL's division scale)
//!   int4 / float4   ─▶ float8 arithmetic    (22012 "division by zero")
//!   date + int4     ─▶ date                 date - date ─▶ int4
//!   text || any     ─▶ text                 (the non-text side through its output)
//!   bpchar = bpchar ─▶ compare, trailing blanks ignored
//!   date < timestamptz ─▶ compare as timestamptz        'x' = name ─▶ compare as name
//! ```
//!
//! An `unknown` operand (an untyped literal) takes the other side's type, as in
//! PostgreSQL (`'5' + 1` is int4 arithmetic; `'a' || 1` is text). Two unknowns
//! compare and concatenate as text; `'1' + '2'` is ambiguous, as in PostgreSQL.
//!
//! ```text
//!   interval ± interval, interval * / float8 ─▶ interval   (22008 "interval out of range")
//!   timestamp[tz] ± interval ─▶ timestamp[tz]    date ± interval ─▶ timestamp
//!   timestamp - timestamp ─▶ interval            bytea || bytea ─▶ bytea
//!   jsonb -> text|int ─▶ jsonb   ->> ─▶ text   #> / #>> text[]   @> / <@ jsonb ─▶ bool
//!   jsonb ? text, jsonb ?| text[], jsonb ?& text[] ─▶ bool
//!   T[] [int] ─▶ T                              (a subscript, NULL when out of range)
//!   T[] || T[], T[] || T, T || T[] ─▶ T[]       (not strict: a NULL array is empty)
//!   int & | # int ─▶ the wider int              int << >> int4 ─▶ the left int
//! ```

use std::borrow::Cow;
use std::cmp::Ordering;

use super::arith::{
    bitwise, date_arithmetic, float_arithmetic, int_arithmetic, interval_arithmetic, json_operator,
    numeric_arithmetic, subscript,
};
use super::cast::cast;
use super::order::compare;
use super::text::text_of;
use super::{BinaryOp, DataType, Value};
use crate::error::{Error, ErrorKind, Result};

impl BinaryOp {
    /// The operator as SQL spells it.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
            BinaryOp::Concat => "||",
            BinaryOp::Eq => "=",
            BinaryOp::NotEq => "<>",
            BinaryOp::Lt => "<",
            BinaryOp::LtEq => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::GtEq => ">=",
            BinaryOp::JsonGet => "->",
            BinaryOp::JsonGetText => "->>",
            BinaryOp::JsonPath => "#>",
            BinaryOp::JsonPathText => "#>>",
            BinaryOp::JsonContains => "@>",
            BinaryOp::JsonContainedBy => "<@",
            BinaryOp::Subscript => "[]",
            BinaryOp::BitAnd => "&",
            BinaryOp::BitOr => "|",
            BinaryOp::BitXor => "#",
            BinaryOp::ShiftLeft => "<<",
            BinaryOp::ShiftRight => ">>",
            BinaryOp::JsonHasKey => "?",
            BinaryOp::JsonHasAny => "?|",
            BinaryOp::JsonHasAll => "?&",
        }
    }

    /// `&`, `|`, `#`, `<<`, `>>`.
    fn is_bitwise(self) -> bool {
        matches!(
            self,
            BinaryOp::BitAnd
                | BinaryOp::BitOr
                | BinaryOp::BitXor
                | BinaryOp::ShiftLeft
                | BinaryOp::ShiftRight
        )
    }

    /// True for `=`, `<>`, `<`, `<=`, `>`, `>=`.
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Eq
                | BinaryOp::NotEq
                | BinaryOp::Lt
                | BinaryOp::LtEq
                | BinaryOp::Gt
                | BinaryOp::GtEq
        )
    }

    fn is_arithmetic(self) -> bool {
        matches!(
            self,
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod
        )
    }
}

/// The implementation an operator resolved to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Impl {
    Int,
    Float4,
    Float8,
    Numeric,
    DatePlusInt,
    IntPlusDate,
    DateMinusInt,
    DateMinusDate,
    Concat,
    ByteaConcat,
    /// interval ± interval, interval × ÷ float8, float8 × interval.
    IntervalArith,
    /// timestamp ± interval (either order for +).
    TimestampInterval,
    /// timestamp - timestamp.
    TimestampDiff,
    /// The jsonb operators.
    Json,
    /// The bitwise operators on integers.
    Bits,
    /// `||` on arrays: array || array, array || element, element || array.
    ArrayConcat,
    Subscript,

    /// `blank_padded`: bpchar semantics, trailing blanks ignored.
    Compare {
        blank_padded: bool,
    },
}

/// Operand types after coercion, the result type and the implementation.
struct Resolved {
    left: DataType,
    right: DataType,
    result: DataType,
    how: Impl,
}

fn no_operator(op: BinaryOp, left: &DataType, right: &DataType) -> Error {
    Error::new(
        ErrorKind::UndefinedFunction,
        format!(
            "operator does not exist: {} {} {}",
            left.without_modifier().display_name(),
            op.symbol(),
            right.without_modifier().display_name()
        ),
    )
    .with_hint("No operator matches the given name and argument types. You might need to add explicit type casts.")
}

fn int_width(ty: &DataType) -> Option<u8> {
    match ty {
        DataType::Int2 => Some(2),
        DataType::Int4 => Some(4),
        DataType::Int8 => Some(8),
        _ => None,
    }
}

fn is_number(ty: &DataType) -> bool {
    int_width(ty).is_some()
        || matches!(ty, DataType::Float4 | DataType::Float8 | DataType::Numeric(_))
}

fn is_datetime(ty: &DataType) -> bool {
    matches!(ty, DataType::Date | DataType::Timestamp | DataType::TimestampTz)
}

/// The common type of arithmetic on two numbers.
fn arithmetic_type(l: &DataType, r: &DataType) -> DataType {
    match (l, r) {
        (DataType::Float4, DataType::Float4) => DataType::Float4,
        (DataType::Float4 | DataType::Float8, _) | (_, DataType::Float4 | DataType::Float8) => {
            DataType::Float8
        }
        (DataType::Numeric(_), _) | (_, DataType::Numeric(_)) => DataType::Numeric(None),
        _ => {
            if int_width(l) >= int_width(r) {
                l.clone()
            } else {
                r.clone()
            }
        }
    }
}

/// The type both sides of a comparison are coerced to, and whether it is bpchar's.
fn comparison_type(l: &DataType, r: &DataType) -> Option<(DataType, bool)> {
    use DataType as T;
    Some(match (l, r) {
        (l, r) if int_width(l).is_some() && int_width(r).is_some() => (T::Int8, false),
        (l, r) if is_number(l) && is_number(r) => match arithmetic_type(l, r) {
            T::Float4 => (T::Float8, false),
            other => (other, false),
        },
        (T::Bpchar(_), T::Bpchar(_)) => (T::Bpchar(None), true),
        (l, r) if l.is_string() && r.is_string() => (T::Text, false),
        (T::Char, T::Char) => (T::Char, false),
        (T::Char, s) | (s, T::Char) if s.is_string() => (T::Text, false),
        (T::Bool, T::Bool) => (T::Bool, false),
        (T::Date, T::Date) => (T::Date, false),
        (T::TimestampTz, r) if is_datetime(r) => (T::TimestampTz, false),
        (l, T::TimestampTz) if is_datetime(l) => (T::TimestampTz, false),
        (l, r) if is_datetime(l) && is_datetime(r) => (T::Timestamp, false),
        (
            T::Oid | T::Regclass | T::Regtype | T::Regnamespace,
            T::Oid | T::Regclass | T::Regtype | T::Regnamespace,
        ) => (T::Oid, false),
        (T::Interval, T::Interval) => (T::Interval, false),
        (T::Bytea, T::Bytea) => (T::Bytea, false),
        (T::Uuid, T::Uuid) => (T::Uuid, false),
        (T::Jsonb, T::Jsonb) => (T::Jsonb, false),
        (T::Oid | T::Regclass | T::Regtype | T::Regnamespace, r)
        | (r, T::Oid | T::Regclass | T::Regtype | T::Regnamespace)
            if int_width(r).is_some() =>
        {
            (T::Oid, false)
        }
        (T::Array(le), T::Array(re)) => {
            let (elem, blank_padded) = comparison_type(le, re)?;
            (T::Array(Box::new(elem)), blank_padded)
        }
        _ => return None,
    })
}

/// PostgreSQL's operator resolution for the supported types.
fn resolve(op: BinaryOp, left: &DataType, right: &DataType) -> Result<Resolved> {
    let (l, r) = (left.without_modifier(), right.without_modifier());
    let (l, r) = match (l, r) {
        (DataType::Unknown, DataType::Unknown) if op.is_arithmetic() => {
            return Err(Error::new(
                ErrorKind::UndefinedFunction,
                format!("operator is not unique: unknown {} unknown", op.symbol()),
            )
            .with_hint("Could not choose a best candidate operator. You might need to add explicit type casts."))
        }
        (DataType::Unknown, DataType::Unknown) => (DataType::Text, DataType::Text),
        (l, DataType::Unknown) if op.is_json_lookup() || op == BinaryOp::JsonHasKey => {
            (l, DataType::Text)
        }
        (l, DataType::Unknown)
            if matches!(
                op,
                BinaryOp::JsonPath
                    | BinaryOp::JsonPathText
                    | BinaryOp::JsonHasAny
                    | BinaryOp::JsonHasAll
            ) =>
        {
            (l, DataType::Array(Box::new(DataType::Text)))
        }
        // `array || 'literal'`: the literal is an array of the same type, as
        // PostgreSQL's anyarray || anyarray is preferred.
        (l @ DataType::Array(_), DataType::Unknown) if op == BinaryOp::Concat => (l.clone(), l),
        (DataType::Unknown, r @ DataType::Array(_)) if op == BinaryOp::Concat => (r.clone(), r),
        (l, DataType::Unknown) if op == BinaryOp::Subscript => (l, DataType::Int4),
        (DataType::Unknown, DataType::Bytea) | (DataType::Bytea, DataType::Unknown)
            if op == BinaryOp::Concat =>
        {
            (DataType::Bytea, DataType::Bytea)
        }
        (DataType::Unknown, r) if op == BinaryOp::Concat && !r.is_string() => (DataType::Text, r),
        (l, DataType::Unknown) if op == BinaryOp::Concat && !l.is_string() => (l, DataType::Text),
        (DataType::Unknown, r) => (r.clone(), r),
        (l, DataType::Unknown) => (l.clone(), l),
        pair => pair,
    };
    let resolved = |left: DataType, right: DataType, result: DataType, how: Impl| {
        Ok(Resolved { left, right, result, how })
    };
    if op.is_comparison() {
        let Some((ty, blank_padded)) = comparison_type(&l, &r) else {
            return Err(no_operator(op, left, right));
        };
        return resolved(ty.clone(), ty, DataType::Bool, Impl::Compare { blank_padded });
    }
    if op == BinaryOp::Concat && (l == DataType::Jsonb || r == DataType::Jsonb) {
        return Err(Error::new(
            ErrorKind::FeatureNotSupported,
            "jsonb concatenation is not supported yet",
        ));
    }
    if let Some(found) = resolve_special(op, &l, &r) {
        return found.ok_or_else(|| no_operator(op, left, right));
    }
    if op.is_bitwise() {
        let shift = matches!(op, BinaryOp::ShiftLeft | BinaryOp::ShiftRight);
        return match (int_width(&l), int_width(&r)) {
            // int2/int4/int8 << int4 (an int2 count widens to int4; an int8 one cannot).
            (Some(_), Some(2 | 4)) if shift => resolved(l.clone(), DataType::Int4, l, Impl::Bits),
            (Some(_), Some(_)) if !shift => {
                let ty = arithmetic_type(&l, &r);
                resolved(ty.clone(), ty.clone(), ty, Impl::Bits)
            }
            _ => Err(no_operator(op, left, right)),
        };
    }
    if op == BinaryOp::Concat {
        if matches!(l, DataType::Array(_)) || matches!(r, DataType::Array(_)) {
            return array_concat_type(&l, &r).ok_or_else(|| no_operator(op, left, right));
        }
        if !l.is_string() && !r.is_string() {
            return Err(no_operator(op, left, right));
        }
        let side = |t: DataType| if t.is_string() { DataType::Text } else { t };
        return resolved(side(l), side(r), DataType::Text, Impl::Concat);
    }
    if is_number(&l) && is_number(&r) {
        let ty = arithmetic_type(&l, &r);
        let how = match ty {
            DataType::Float4 => Impl::Float4,
            DataType::Float8 => Impl::Float8,
            DataType::Numeric(_) => Impl::Numeric,
            _ => Impl::Int,
        };
        if op == BinaryOp::Mod && matches!(how, Impl::Float4 | Impl::Float8) {
            return Err(no_operator(op, left, right));
        }
        return resolved(ty.clone(), ty.clone(), ty, how);
    }
    let small_int = |t: &DataType| matches!(t, DataType::Int2 | DataType::Int4);
    match (op, &l, &r) {
        (BinaryOp::Add, DataType::Date, i) if small_int(i) => {
            resolved(DataType::Date, DataType::Int4, DataType::Date, Impl::DatePlusInt)
        }
        (BinaryOp::Add, i, DataType::Date) if small_int(i) => {
            resolved(DataType::Int4, DataType::Date, DataType::Date, Impl::IntPlusDate)
        }
        (BinaryOp::Sub, DataType::Date, i) if small_int(i) => {
            resolved(DataType::Date, DataType::Int4, DataType::Date, Impl::DateMinusInt)
        }
        (BinaryOp::Sub, DataType::Date, DataType::Date) => {
            resolved(DataType::Date, DataType::Date, DataType::Int4, Impl::DateMinusDate)
        }
        _ => match resolve_interval(op, &l, &r) {
            Some(found) => Ok(found),
            None => Err(no_operator(op, left, right)),
        },
    }
}

impl BinaryOp {
    /// `->` and `->>`, whose right side is a key or an index.
    pub fn is_json_lookup(self) -> bool {
        matches!(self, BinaryOp::JsonGet | BinaryOp::JsonGetText)
    }
}

/// The jsonb operators, subscripts and `bytea || bytea`: `None` when `op` is none of
/// them, `Some(None)` when it is but the operand types do not fit.
fn resolve_special(op: BinaryOp, l: &DataType, r: &DataType) -> Option<Option<Resolved>> {
    use DataType as T;
    let found = |left: &T, right: &T, result: T, how: Impl| {
        Some(Some(Resolved { left: left.clone(), right: right.clone(), result, how }))
    };
    let text_result = |op: BinaryOp| {
        if matches!(op, BinaryOp::JsonGetText | BinaryOp::JsonPathText) {
            T::Text
        } else {
            T::Jsonb
        }
    };
    match (op, l, r) {
        (BinaryOp::JsonGet | BinaryOp::JsonGetText, T::Jsonb, r) if r.is_string() => {
            found(l, &T::Text, text_result(op), Impl::Json)
        }
        (BinaryOp::JsonGet | BinaryOp::JsonGetText, T::Jsonb, r) if int_width(r).is_some() => {
            found(l, &T::Int8, text_result(op), Impl::Json)
        }
        (BinaryOp::JsonPath | BinaryOp::JsonPathText, T::Jsonb, T::Array(e)) if e.is_string() => {
            found(l, &T::Array(Box::new(T::Text)), text_result(op), Impl::Json)
        }
        (BinaryOp::JsonContains | BinaryOp::JsonContainedBy, T::Jsonb, T::Jsonb) => {
            found(l, r, T::Bool, Impl::Json)
        }
        (BinaryOp::JsonHasKey, T::Jsonb, r) if r.is_string() => {
            found(l, &T::Text, T::Bool, Impl::Json)
        }
        (BinaryOp::JsonHasAny | BinaryOp::JsonHasAll, T::Jsonb, T::Array(e)) if e.is_string() => {
            found(l, &T::Array(Box::new(T::Text)), T::Bool, Impl::Json)
        }
        (BinaryOp::Subscript, T::Array(elem), r) if int_width(r).is_some() => {
            found(l, &T::Int8, elem.as_ref().clone(), Impl::Subscript)
        }
        (BinaryOp::Concat, T::Bytea, T::Bytea) => found(l, r, T::Bytea, Impl::ByteaConcat),

        (
            BinaryOp::JsonGet
            | BinaryOp::JsonGetText
            | BinaryOp::JsonPath
            | BinaryOp::JsonPathText
            | BinaryOp::JsonContains
            | BinaryOp::JsonContainedBy
            | BinaryOp::JsonHasKey
            | BinaryOp::JsonHasAny
            | BinaryOp::JsonHasAll
            | BinaryOp::Subscript,
            _,
            _,
        ) => Some(None),
        _ => None,
    }
}

/// `||` with an array on either side: `T[] || T[]`, `T[] || T`, `T || T[]`, the
/// element coerced to the array's element type as PostgreSQL's anycompatible does.
fn array_concat_type(l: &DataType, r: &DataType) -> Option<Resolved> {
    use DataType as T;
    let common = |a: &T, b: &T| -> Option<T> {
        if a == b {
            Some(a.clone())
        } else if is_number(a) && is_number(b) {
            Some(arithmetic_type(a, b))
        } else if a.is_string() && b.is_string() {
            Some(T::Text)
        } else {
            None
        }
    };
    let elem = match (l, r) {
        (T::Array(a), T::Array(b)) => common(a, b)?,
        (T::Array(a), b) | (b, T::Array(a)) => common(a, b)?,
        _ => return None,
    };
    let array = T::Array(Box::new(elem.clone()));
    let side = |t: &T| if matches!(t, T::Array(_)) { array.clone() } else { elem.clone() };
    Some(Resolved { left: side(l), right: side(r), result: array.clone(), how: Impl::ArrayConcat })
}

/// Interval arithmetic and `timestamp - timestamp`.
fn resolve_interval(op: BinaryOp, l: &DataType, r: &DataType) -> Option<Resolved> {
    use DataType as T;
    let found =
        |left: T, right: T, result: T, how: Impl| Some(Resolved { left, right, result, how });
    // date ± interval computes on timestamps, as date's implicit cast does in PostgreSQL.
    let instant = |t: &T| if *t == T::Date { T::Timestamp } else { t.clone() };
    match (op, l, r) {
        (BinaryOp::Add | BinaryOp::Sub, T::Interval, T::Interval) => {
            found(T::Interval, T::Interval, T::Interval, Impl::IntervalArith)
        }
        (BinaryOp::Mul | BinaryOp::Div, T::Interval, n) if is_number(n) => {
            found(T::Interval, T::Float8, T::Interval, Impl::IntervalArith)
        }
        (BinaryOp::Mul, n, T::Interval) if is_number(n) => {
            found(T::Float8, T::Interval, T::Interval, Impl::IntervalArith)
        }
        (BinaryOp::Add | BinaryOp::Sub, t, T::Interval) if is_datetime(t) => {
            found(instant(t), T::Interval, instant(t), Impl::TimestampInterval)
        }
        (BinaryOp::Add, T::Interval, t) if is_datetime(t) => {
            found(T::Interval, instant(t), instant(t), Impl::TimestampInterval)
        }
        (BinaryOp::Sub, a, b) if is_datetime(a) && is_datetime(b) => {
            let common = if *a == T::TimestampTz || *b == T::TimestampTz {
                T::TimestampTz
            } else {
                T::Timestamp
            };
            found(common.clone(), common, T::Interval, Impl::TimestampDiff)
        }
        _ => None,
    }
}

/// The result type of `left op right`, or 42883 `operator does not exist: integer +
/// text` (with PostgreSQL's hint). `Unknown` operands take the other side's type.
pub fn binary_op_type(op: BinaryOp, left: &DataType, right: &DataType) -> Result<DataType> {
    Ok(resolve(op, left, right)?.result)
}

/// The types `left op right` coerces its operands to before computing (e.g.
/// `(int8, int8)` for `int2 = int8`, `(text, text)` for `bpchar || text`): what an
/// index lookup or a parameter's inferred type should use.
pub fn binary_op_operand_types(
    op: BinaryOp,
    left: &DataType,
    right: &DataType,
) -> Result<(DataType, DataType)> {
    let resolved = resolve(op, left, right)?;
    Ok((resolved.left, resolved.right))
}

fn coerce<'a>(value: &'a Value, from: &DataType, to: &DataType) -> Result<Cow<'a, Value>> {
    if from.without_modifier() == *to {
        Ok(Cow::Borrowed(value))
    } else {
        cast(value, from, to).map(Cow::Owned)
    }
}

/// Evaluates `left op right` for operands whose types are `left_ty`/`right_ty`
/// (as resolved by [`binary_op_type`]): overflow is 22003 (`integer out of range`),
/// division by zero 22012. Comparisons return `Value::Bool`. A NULL operand gives NULL.
pub fn binary_op(
    op: BinaryOp,
    left: &Value,
    left_ty: &DataType,
    right: &Value,
    right_ty: &DataType,
) -> Result<Value> {
    if left.is_null() || right.is_null() {
        return concat_null_array(op, left, left_ty, right, right_ty);
    }
    let resolved = resolve(op, left_ty, right_ty)?;
    let l = coerce(left, left_ty, &resolved.left)?;
    let r = coerce(right, right_ty, &resolved.right)?;
    match resolved.how {
        Impl::Int => int_arithmetic(op, &l, &r, &resolved.result),
        Impl::Float4 => match (l.as_ref(), r.as_ref()) {
            (Value::Float4(a), Value::Float4(b)) => {
                Ok(Value::Float4(float_arithmetic(op, *a, *b)?))
            }
            _ => Err(operand_mismatch(&l, &r)),
        },
        Impl::Float8 => match (l.as_ref(), r.as_ref()) {
            (Value::Float8(a), Value::Float8(b)) => {
                Ok(Value::Float8(float_arithmetic(op, *a, *b)?))
            }
            _ => Err(operand_mismatch(&l, &r)),
        },
        Impl::Numeric => numeric_arithmetic(op, &l, &r),
        Impl::DatePlusInt | Impl::IntPlusDate | Impl::DateMinusInt | Impl::DateMinusDate => {
            date_arithmetic(resolved.how, &l, &r)
        }
        Impl::IntervalArith | Impl::TimestampInterval | Impl::TimestampDiff => {
            interval_arithmetic(resolved.how, op, &l, &r)
        }
        Impl::Json => json_operator(op, &l, &r),
        Impl::Bits => bitwise(op, &l, &r, &resolved.result),
        Impl::ArrayConcat => {
            let items = |v: &Value, ty: &DataType| match (v, ty) {
                (Value::Array(items), DataType::Array(_)) => items.clone(),
                (other, _) => vec![other.clone()],
            };
            let mut out = items(&l, &resolved.left);
            out.extend(items(&r, &resolved.right));
            Ok(Value::Array(out))
        }
        Impl::Subscript => subscript(&l, &r),

        Impl::ByteaConcat => match (l.as_ref(), r.as_ref()) {
            (Value::Bytea(a), Value::Bytea(b)) => Ok(Value::Bytea([a.as_slice(), b].concat())),
            _ => Err(operand_mismatch(&l, &r)),
        },
        Impl::Concat => {
            let piece = |v: &Value, ty: &DataType| match v {
                Value::Text(s) => s.clone(),
                // As the bool → text cast: 'x' || true is 'xtrue'.
                Value::Bool(b) => (if *b { "true" } else { "false" }).to_owned(),
                other => text_of(other, ty),
            };
            Ok(Value::Text(piece(&l, &resolved.left) + &piece(&r, &resolved.right)))
        }
        Impl::Compare { blank_padded } => {
            let ordering =
                if blank_padded { compare_blank_padded(&l, &r) } else { compare(&l, &r) };
            Ok(Value::Bool(match op {
                BinaryOp::Eq => ordering == Ordering::Equal,
                BinaryOp::NotEq => ordering != Ordering::Equal,
                BinaryOp::Lt => ordering == Ordering::Less,
                BinaryOp::LtEq => ordering != Ordering::Greater,
                BinaryOp::Gt => ordering == Ordering::Greater,
                _ => ordering != Ordering::Less,
            }))
        }
    }
}

/// A NULL operand gives NULL, except in `||` with an array, which PostgreSQL's
/// array_cat / array_append / array_prepend do not make strict: a NULL array is an
/// empty one (two NULL arrays give NULL), a NULL element is appended.
fn concat_null_array(
    op: BinaryOp,
    left: &Value,
    left_ty: &DataType,
    right: &Value,
    right_ty: &DataType,
) -> Result<Value> {
    let is_array = |t: &DataType| matches!(t, DataType::Array(_));
    if op != BinaryOp::Concat || !(is_array(left_ty) || is_array(right_ty)) {
        return Ok(Value::Null);
    }
    let resolved = resolve(op, left_ty, right_ty)?;
    // Each side as its resolved type: the array's, or the element's.
    let side = |v: &Value, ty: &DataType, to: &DataType| -> Result<Option<Vec<Value>>> {
        Ok(match (coerce(v, ty, to)?.into_owned(), is_array(to)) {
            (Value::Null, true) => None,
            (Value::Array(items), true) => Some(items),
            (other, true) => return Err(operand_mismatch(&other, v)),
            (element, false) => Some(vec![element]),
        })
    };
    Ok(match (side(left, left_ty, &resolved.left)?, side(right, right_ty, &resolved.right)?) {
        (None, None) => Value::Null,
        (a, b) => Value::Array(a.into_iter().chain(b).flatten().collect()),
    })
}

pub(super) fn operand_mismatch(l: &Value, r: &Value) -> Error {
    Error::internal(format!("operands {l:?} and {r:?} do not match their resolved types"))
}

/// bpchar comparison: trailing blanks do not count.
fn compare_blank_padded(l: &Value, r: &Value) -> Ordering {
    match (l, r) {
        (Value::Text(a), Value::Text(b)) => a.trim_end_matches(' ').cmp(b.trim_end_matches(' ')),
        (Value::Array(a), Value::Array(b)) => {
            for (x, y) in a.iter().zip(b) {
                let o = if x.is_null() || y.is_null() {
                    compare(x, y)
                } else {
                    compare_blank_padded(x, y)
                };
                if o != Ordering::Equal {
                    return o;
                }
            }
            a.len().cmp(&b.len())
        }
        _ => compare(l, r),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::str::FromStr;
    use BinaryOp::*;

    fn num(s: &str) -> Value {
        Value::Numeric(rust_decimal::Decimal::from_str(s).unwrap())
    }

    fn text(s: &str) -> Value {
        Value::Text(s.into())
    }

    #[test]
    fn result_types_follow_postgres() {
        use DataType::*;
        let t = |op, l: DataType, r: DataType| binary_op_type(op, &l, &r).unwrap();
        assert_eq!(t(Add, Int2, Int4), Int4);
        assert_eq!(t(Add, Int2, Int2), Int2);
        assert_eq!(t(Mul, Int4, Int8), Int8);
        assert_eq!(t(Add, Int4, Numeric(Some((5, 2)))), Numeric(None));
        assert_eq!(t(Add, Int4, Float8), Float8);
        assert_eq!(t(Add, Int4, Float4), Float8);
        assert_eq!(t(Add, Float4, Float4), Float4);
        assert_eq!(t(Div, Numeric(None), Float8), Float8);
        assert_eq!(t(Add, Unknown, Int4), Int4);
        assert_eq!(t(Concat, Unknown, Int4), Text);
        assert_eq!(t(Concat, Varchar(Some(3)), Bool), Text);
        assert_eq!(t(Eq, Unknown, Name), Bool);
        assert_eq!(t(Lt, Date, TimestampTz), Bool);
        assert_eq!(t(Add, Date, Int4), Date);
        assert_eq!(t(Sub, Date, Date), Int4);
        let err = binary_op_type(Add, &Int4, &Bool).unwrap_err();
        assert_eq!(
            (err.kind, err.message.as_str()),
            (ErrorKind::UndefinedFunction, "operator does not exist: integer + boolean")
        );
        assert_eq!(
            err.hint.as_deref(),
            Some("No operator matches the given name and argument types. You might need to add explicit type casts.")
        );
        assert_eq!(
            binary_op_type(Mod, &Float8, &Int4).unwrap_err().message,
            "operator does not exist: double precision % integer"
        );
        assert_eq!(
            binary_op_type(Eq, &Int4, &Text).unwrap_err().kind,
            ErrorKind::UndefinedFunction
        );
        assert_eq!(t(Sub, Timestamp, Timestamp), Interval);
        assert_eq!(t(Add, Date, Interval), Timestamp);
        assert_eq!(t(Sub, TimestampTz, Interval), TimestampTz);
        assert_eq!(t(Mul, Int4, Interval), Interval);
        assert_eq!(t(JsonGet, Jsonb, Unknown), Jsonb);
        assert_eq!(t(JsonGetText, Jsonb, Int4), Text);
        assert_eq!(t(Subscript, Array(Box::new(Uuid)), Int4), Uuid);
        assert_eq!(t(Concat, Bytea, Bytea), Bytea);
        assert_eq!(
            binary_op_type(JsonGet, &Int4, &Text).unwrap_err().message,
            "operator does not exist: integer -> text"
        );
        assert_eq!(
            binary_op_type(Add, &Unknown, &Unknown).unwrap_err().message,
            "operator is not unique: unknown + unknown"
        );
    }

    #[test]
    fn integer_arithmetic_checks_overflow() {
        use DataType::*;
        let op = |o, l: Value, lt: DataType, r: Value, rt: DataType| binary_op(o, &l, &lt, &r, &rt);
        assert_eq!(op(Add, Value::Int2(1), Int2, Value::Int4(2), Int4).unwrap(), Value::Int4(3));
        assert_eq!(op(Div, Value::Int4(7), Int4, Value::Int4(-2), Int4).unwrap(), Value::Int4(-3));
        assert_eq!(op(Mod, Value::Int4(-7), Int4, Value::Int4(2), Int4).unwrap(), Value::Int4(-1));
        let err = op(Add, Value::Int4(i32::MAX), Int4, Value::Int4(1), Int4).unwrap_err();
        assert_eq!(
            (err.kind, err.message.as_str()),
            (ErrorKind::NumericValueOutOfRange, "integer out of range")
        );
        assert_eq!(
            op(Mul, Value::Int2(300), Int2, Value::Int2(300), Int2).unwrap_err().message,
            "smallint out of range"
        );
        assert_eq!(
            op(Div, Value::Int8(i64::MIN), Int8, Value::Int8(-1), Int8).unwrap_err().message,
            "bigint out of range"
        );
        assert_eq!(
            op(Mod, Value::Int8(i64::MIN), Int8, Value::Int8(-1), Int8).unwrap(),
            Value::Int8(0)
        );
        let err = op(Div, Value::Int4(1), Int4, Value::Int4(0), Int4).unwrap_err();
        assert_eq!(
            (err.kind, err.message.as_str()),
            (ErrorKind::DivisionByZero, "division by zero")
        );
        assert_eq!(op(Add, text("5"), Unknown, Value::Int4(1), Int4).unwrap(), Value::Int4(6));
        assert_eq!(
            op(Add, text("x"), Unknown, Value::Int4(1), Int4).unwrap_err().kind,
            ErrorKind::InvalidTextRepresentation
        );
    }

    #[test]
    fn numeric_and_float_arithmetic() {
        use DataType::*;
        let n = Numeric(None);
        assert_eq!(binary_op(Add, &num("1.5"), &n, &Value::Int4(1), &Int4).unwrap(), num("2.5"));
        assert_eq!(
            binary_op(Div, &Value::Int4(1), &Int4, &num("3"), &n).unwrap(),
            num("0.33333333333333333333")
        );
        assert_eq!(
            binary_op(Mul, &num("1.10"), &n, &num("2.0"), &n).unwrap().to_owned(),
            num("2.200")
        );
        assert_eq!(
            binary_op(Div, &num("1"), &n, &num("0"), &n).unwrap_err().kind,
            ErrorKind::DivisionByZero
        );
        assert_eq!(
            binary_op(Div, &Value::Float8(1.0), &Float8, &Value::Int4(0), &Int4).unwrap_err().kind,
            ErrorKind::DivisionByZero
        );
        assert_eq!(
            binary_op(Add, &Value::Int4(1), &Int4, &Value::Float8(0.5), &Float8).unwrap(),
            Value::Float8(1.5)
        );
        let err = binary_op(Mul, &Value::Float8(1e300), &Float8, &Value::Float8(1e300), &Float8)
            .unwrap_err();
        assert_eq!(err.message, "value out of range: overflow");
        assert_eq!(
            binary_op(Add, &num("0.5"), &n, &Value::Float8(0.25), &Float8).unwrap(),
            Value::Float8(0.75)
        );
    }

    #[test]
    fn concat_and_comparisons() {
        use DataType::*;
        assert_eq!(
            binary_op(Concat, &text("a"), &Text, &Value::Int4(1), &Int4).unwrap(),
            text("a1")
        );
        assert_eq!(
            binary_op(Concat, &text("x"), &Unknown, &Value::Bool(true), &Bool).unwrap(),
            text("xtrue")
        );
        assert_eq!(
            binary_op(Concat, &text("a  "), &Bpchar(Some(3)), &text("b"), &Text).unwrap(),
            text("ab")
        );
        let eq = |l: Value, lt: DataType, r: Value, rt: DataType| {
            binary_op(Eq, &l, &lt, &r, &rt).unwrap()
        };
        assert_eq!(eq(text("a  "), Bpchar(Some(3)), text("a"), Bpchar(Some(1))), Value::Bool(true));
        assert_eq!(eq(text("a  "), Bpchar(Some(3)), text("a"), Text), Value::Bool(true));
        assert_eq!(eq(Value::Int2(1), Int2, Value::Int8(1), Int8), Value::Bool(true));
        assert_eq!(eq(Value::Int4(1), Int4, num("1.0"), Numeric(None)), Value::Bool(true));
        assert_eq!(
            eq(Value::Float8(f64::NAN), Float8, Value::Float8(f64::NAN), Float8),
            Value::Bool(true)
        );
        assert_eq!(eq(text("pg_class"), Unknown, text("pg_class"), Name), Value::Bool(true));
        assert_eq!(
            eq(Value::Date(1), Date, Value::Timestamp(86_400_000_000), Timestamp),
            Value::Bool(true)
        );
        assert_eq!(eq(Value::Oid(5), Oid, Value::Int4(5), Int4), Value::Bool(true));
        assert_eq!(eq(text("t"), Unknown, Value::Bool(true), Bool), Value::Bool(true));
        let lt = binary_op(Lt, &text("a"), &Text, &text("b"), &Varchar(None)).unwrap();
        assert_eq!(lt, Value::Bool(true));
        let arr = Array(Box::new(Int4));
        let a = Value::Array(vec![Value::Int4(1), Value::Int4(2)]);
        assert_eq!(binary_op(Eq, &a, &arr, &text("{1,2}"), &Unknown).unwrap(), Value::Bool(true));
        assert_eq!(
            binary_op(Eq, &Value::Null, &Int4, &Value::Int4(1), &Int4).unwrap(),
            Value::Null
        );
    }

    #[test]
    fn date_arithmetic_works() {
        use DataType::*;
        assert_eq!(
            binary_op(Add, &Value::Date(1), &Date, &Value::Int4(2), &Int4).unwrap(),
            Value::Date(3)
        );
        assert_eq!(
            binary_op(Sub, &Value::Date(10), &Date, &Value::Date(3), &Date).unwrap(),
            Value::Int4(7)
        );
        assert_eq!(
            binary_op(Add, &Value::Int4(1), &Int4, &Value::Date(i32::MAX), &Date).unwrap(),
            Value::Date(i32::MAX)
        );
    }
}
