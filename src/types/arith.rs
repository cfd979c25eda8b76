//! Arithmetic behind the operators `ops.rs` resolves: integers computed in i128 and
//! range-checked into the result width, floats with PostgreSQL's overflow/underflow
//! checks, numerics with its division scale, and `date ± integer`.
//!
//! Every function takes operands already coerced to the resolved types; anything else
//! is an internal error (a resolution bug), never a panic.

use super::cast::as_i64;
use super::datetime;
use super::interval;
use super::numeric;
use super::ops::{operand_mismatch, Impl};
use super::{BinaryOp, DataType, Value};
use crate::error::{Error, ErrorKind, Result};

fn division_by_zero() -> Error {
    Error::new(ErrorKind::DivisionByZero, "division by zero")
}

pub(super) fn int_arithmetic(
    op: BinaryOp,
    l: &Value,
    r: &Value,
    result: &DataType,
) -> Result<Value> {
    let (Some(a), Some(b)) = (as_i64(l), as_i64(r)) else {
        return Err(operand_mismatch(l, r));
    };
    let (a, b) = (i128::from(a), i128::from(b));
    let value = match op {
        BinaryOp::Add => a + b,
        BinaryOp::Sub => a - b,
        BinaryOp::Mul => a * b,
        BinaryOp::Div if b == 0 => return Err(division_by_zero()),
        BinaryOp::Div => a / b,
        BinaryOp::Mod if b == 0 => return Err(division_by_zero()),
        BinaryOp::Mod => a % b,
        _ => return Err(operand_mismatch(l, r)),
    };
    let out_of_range = |m: &str| Error::new(ErrorKind::NumericValueOutOfRange, m.to_owned());
    Ok(match result {
        DataType::Int2 => {
            Value::Int2(i16::try_from(value).map_err(|_| out_of_range("smallint out of range"))?)
        }
        DataType::Int4 => {
            Value::Int4(i32::try_from(value).map_err(|_| out_of_range("integer out of range"))?)
        }
        _ => Value::Int8(i64::try_from(value).map_err(|_| out_of_range("bigint out of range"))?),
    })
}

/// Float arithmetic with PostgreSQL's overflow and underflow checks.
pub(super) fn float_arithmetic<F>(op: BinaryOp, a: F, b: F) -> Result<F>
where
    F: num_like::Float,
{
    let result = match op {
        BinaryOp::Add => a + b,
        BinaryOp::Sub => a - b,
        BinaryOp::Mul => a * b,
        BinaryOp::Div if b.is_zero() => return Err(division_by_zero()),
        BinaryOp::Div => a / b,
        _ => return Err(Error::internal("no float operator")),
    };
    if result.is_infinite() && !a.is_infinite() && !b.is_infinite() {
        return Err(Error::new(ErrorKind::NumericValueOutOfRange, "value out of range: overflow"));
    }
    let underflow = match op {
        BinaryOp::Mul => result.is_zero() && !a.is_zero() && !b.is_zero(),
        BinaryOp::Div => result.is_zero() && !a.is_zero() && !b.is_infinite(),
        _ => false,
    };
    if underflow {
        return Err(Error::new(ErrorKind::NumericValueOutOfRange, "value out of range: underflow"));
    }
    Ok(result)
}

/// Just enough of a float trait for [`float_arithmetic`] to serve f32 and f64.
mod num_like {
    use std::ops::{Add, Div, Mul, Sub};

    pub trait Float:
        Copy + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self> + Div<Output = Self>
    {
        fn is_infinite(self) -> bool;
        fn is_zero(self) -> bool;
    }

    impl Float for f32 {
        fn is_infinite(self) -> bool {
            f32::is_infinite(self)
        }
        fn is_zero(self) -> bool {
            self == 0.0
        }
    }

    impl Float for f64 {
        fn is_infinite(self) -> bool {
            f64::is_infinite(self)
        }
        fn is_zero(self) -> bool {
            self == 0.0
        }
    }
}

pub(super) fn numeric_arithmetic(op: BinaryOp, l: &Value, r: &Value) -> Result<Value> {
    let (Value::Numeric(a), Value::Numeric(b)) = (l, r) else {
        return Err(operand_mismatch(l, r));
    };
    let mut value = match op {
        BinaryOp::Add => a.checked_add(*b).ok_or_else(numeric::overflow)?,
        BinaryOp::Sub => a.checked_sub(*b).ok_or_else(numeric::overflow)?,
        BinaryOp::Mul => a.checked_mul(*b).ok_or_else(numeric::overflow)?,
        BinaryOp::Div => numeric::divide(a, b)?,
        BinaryOp::Mod if b.is_zero() => return Err(division_by_zero()),
        BinaryOp::Mod => a.checked_rem(*b).ok_or_else(numeric::overflow)?,
        _ => return Err(operand_mismatch(l, r)),
    };
    if value.is_zero() {
        value.set_sign_positive(true);
    }
    Ok(Value::Numeric(value))
}

pub(super) fn date_arithmetic(how: Impl, l: &Value, r: &Value) -> Result<Value> {
    let out_of_range = || Error::new(ErrorKind::DatetimeFieldOverflow, "date out of range");
    let finite = |d: i32| d != i32::MAX && d != i32::MIN;
    let shifted = |date: i32, days: i64| -> Result<Value> {
        if !finite(date) {
            return Ok(Value::Date(date));
        }
        let result = i64::from(date) + days;
        match i32::try_from(result) {
            Ok(d) if finite(d) && datetime::date_in_range(d) => Ok(Value::Date(d)),
            _ => Err(out_of_range()),
        }
    };
    match (how, l, r) {
        (Impl::DatePlusInt, Value::Date(d), n) | (Impl::IntPlusDate, n, Value::Date(d)) => {
            shifted(*d, as_i64(n).ok_or_else(|| operand_mismatch(l, r))?)
        }
        (Impl::DateMinusInt, Value::Date(d), n) => {
            shifted(*d, -as_i64(n).ok_or_else(|| operand_mismatch(l, r))?)
        }
        (Impl::DateMinusDate, Value::Date(a), Value::Date(b)) => {
            if !finite(*a) || !finite(*b) {
                return Err(Error::new(
                    ErrorKind::DatetimeFieldOverflow,
                    "cannot subtract infinite dates",
                ));
            }
            Ok(Value::Int4(a - b))
        }
        _ => Err(operand_mismatch(l, r)),
    }
}

/// Interval arithmetic, `timestamp ± interval` and `timestamp - timestamp`.
pub(super) fn interval_arithmetic(how: Impl, op: BinaryOp, l: &Value, r: &Value) -> Result<Value> {
    let float = |v: &Value| match v {
        Value::Float8(f) => Some(*f),
        _ => None,
    };
    let mismatch = || operand_mismatch(l, r);
    Ok(match (how, l, r) {
        (Impl::IntervalArith, Value::Interval(a), Value::Interval(b)) => {
            Value::Interval(match op {
                BinaryOp::Add => a.checked_add(b)?,
                _ => a.checked_add(&b.checked_neg()?)?,
            })
        }
        (Impl::IntervalArith, Value::Interval(a), n) => {
            let f = float(n).ok_or_else(mismatch)?;
            Value::Interval(if op == BinaryOp::Div { a.divided(f)? } else { a.scaled(f)? })
        }
        (Impl::IntervalArith, n, Value::Interval(b)) => {
            Value::Interval(b.scaled(float(n).ok_or_else(mismatch)?)?)
        }
        (Impl::TimestampInterval, t, Value::Interval(iv))
        | (Impl::TimestampInterval, Value::Interval(iv), t) => {
            let iv = if op == BinaryOp::Sub { iv.checked_neg()? } else { *iv };
            match t {
                Value::Timestamp(ts) => Value::Timestamp(interval::timestamp_plus(*ts, &iv)?),
                Value::TimestampTz(ts) => Value::TimestampTz(interval::timestamp_plus(*ts, &iv)?),
                _ => return Err(mismatch()),
            }
        }
        (
            Impl::TimestampDiff,
            Value::Timestamp(a) | Value::TimestampTz(a),
            Value::Timestamp(b) | Value::TimestampTz(b),
        ) => Value::Interval(interval::timestamp_diff(*a, *b)?),
        _ => return Err(mismatch()),
    })
}

/// `&`, `|`, `#`, `<<`, `>>` on integers of the resolved type `result` (the shift
/// count is int4). A shift count is taken modulo the width PostgreSQL's C shifts on
/// (64 bits for int8, 32 for int4 and int2, whose operand C promotes to int), as the
/// x86 machines PostgreSQL runs on do.
pub(super) fn bitwise(op: BinaryOp, l: &Value, r: &Value, result: &DataType) -> Result<Value> {
    let (Some(a), Some(b)) = (as_i64(l), as_i64(r)) else {
        return Err(operand_mismatch(l, r));
    };
    let wide = *result == DataType::Int8;
    let count = if wide { (b & 63) as u32 } else { (b & 31) as u32 };
    let v = match op {
        BinaryOp::BitAnd => a & b,
        BinaryOp::BitOr => a | b,
        BinaryOp::BitXor => a ^ b,
        BinaryOp::ShiftLeft if wide => a.wrapping_shl(count),
        BinaryOp::ShiftLeft => i64::from((a as i32).wrapping_shl(count)),
        BinaryOp::ShiftRight if wide => a >> count,
        BinaryOp::ShiftRight => i64::from((a as i32) >> count),
        _ => return Err(operand_mismatch(l, r)),
    };
    Ok(match result {
        DataType::Int2 => Value::Int2(v as i16),
        DataType::Int4 => Value::Int4(v as i32),
        _ => Value::Int8(v),
    })
}

/// `->`, `->>`, `#>`, `#>>`, `@>`, `<@`, `?`, `?|`, `?&` on operands coerced as `ops.rs`
/// resolved them.
pub(super) fn json_operator(op: BinaryOp, l: &Value, r: &Value) -> Result<Value> {
    let Value::Jsonb(doc) = l else {
        return Err(operand_mismatch(l, r));
    };
    let found = match (op, r) {
        (BinaryOp::JsonHasKey, Value::Text(key)) => return Ok(Value::Bool(doc.has_key(key))),
        (BinaryOp::JsonHasAny | BinaryOp::JsonHasAll, Value::Array(keys)) => {
            // NULL keys are ignored, as PostgreSQL's jsonb_exists_any/all do.
            let mut keys = keys.iter().filter_map(|k| match k {
                Value::Text(k) => Some(k.as_str()),
                _ => None,
            });
            return Ok(Value::Bool(if op == BinaryOp::JsonHasAny {
                keys.any(|k| doc.has_key(k))
            } else {
                keys.all(|k| doc.has_key(k))
            }));
        }
        (BinaryOp::JsonContains, Value::Jsonb(other)) => {
            return Ok(Value::Bool(doc.contains(other)))
        }
        (BinaryOp::JsonContainedBy, Value::Jsonb(other)) => {
            return Ok(Value::Bool(other.contains(doc)))
        }
        (_, Value::Text(key)) => doc.field(key),
        (_, Value::Int8(i)) => doc.element(*i),
        (_, Value::Array(steps)) => {
            let mut path = Vec::with_capacity(steps.len());
            for step in steps {
                match step {
                    Value::Text(s) => path.push(s.as_str()),
                    // A NULL path element finds nothing, as in PostgreSQL.
                    _ => return Ok(Value::Null),
                }
            }
            doc.path(&path)
        }
        _ => return Err(operand_mismatch(l, r)),
    };
    Ok(match (found, op) {
        (None, _) => Value::Null,
        (Some(v), BinaryOp::JsonGetText | BinaryOp::JsonPathText) => {
            v.as_text().map_or(Value::Null, Value::Text)
        }
        (Some(v), _) => Value::Jsonb(Box::new(v.clone())),
    })
}

/// `array[i]`: 1-based, NULL out of range.
pub(super) fn subscript(l: &Value, r: &Value) -> Result<Value> {
    match (l, as_i64(r)) {
        (Value::Array(items), Some(i)) => Ok(usize::try_from(i - 1)
            .ok()
            .and_then(|i| items.get(i))
            .cloned()
            .unwrap_or(Value::Null)),
        _ => Err(operand_mismatch(l, r)),
    }
}
