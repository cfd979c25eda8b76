//! Casts between the supported types, with PostgreSQL's semantics and errors.
//!
//! Two entry points differ only in what a too-long string does:
//!
//! * [`cast`]: explicit casts (`::`, `CAST`): `'abcdef'::char(3)` is `abc`.
//! * [`assign_cast`]: storing into a column (INSERT, UPDATE, COPY): 22001
//!   `value too long for type character(3)`, unless the excess is blanks.
//!
//! Neither decides *whether* a cast may happen implicitly: that is the planner's call,
//! made with [`can_cast_implicitly`] and [`can_cast_assignment`] (PostgreSQL's pg_cast
//! contexts), since its error names the column (42804).
//!
//! ```text
//!   unknown ──text input──▶ any          any ──text output──▶ text/varchar/bpchar/name
//!   text-like ──text input──▶ any        (bool prints true/false, bpchar loses its pad)
//!   int2 ⇄ int4 ⇄ int8 ⇄ numeric ⇄ float4 ⇄ float8    (range checks, rint, half-away)
//!   date ⇄ timestamp ⇄ timestamptz (zone)  bool ⇄ int4  int ⇄ oid ⇄ regclass  "char" ⇄ int4
//!   T[] ⇄ U[] element by element      jsonb ─▶ numbers, bool (a jsonb number or boolean)
//! ```

use super::datetime;
use super::numeric;
use super::text::{self, LengthRule};
use super::{parse_text, DataType, Value, Zone};
use crate::error::{Error, ErrorKind, Result};

/// Casts `value` of type `from` to type `to` (explicit cast semantics: `::`/CAST),
/// enforcing modifiers: char(n) pads or truncates, varchar(n) truncates, numeric(p,s)
/// rounds or fails with 22003, integers fail with 22003 out of range. Casts between
/// timestamptz and the local types (timestamp, date, text) read and write local times
/// in `zone`.
pub fn cast(value: &Value, from: &DataType, to: &DataType, zone: Zone) -> Result<Value> {
    convert(value, from, to, LengthRule::Truncate, zone)
}

/// Like [`cast`], for storing into a column of type `to`: a string longer than
/// `char(n)`/`varchar(n)` is 22001 `value too long for type character varying(n)`
/// (trailing blanks beyond n are trimmed), as INSERT and UPDATE do.
pub fn assign_cast(value: &Value, from: &DataType, to: &DataType, zone: Zone) -> Result<Value> {
    convert(value, from, to, LengthRule::Error, zone)
}

/// True when casting `value` of type `from` to `to` depends on the session's time
/// zone, so that a constant must not be cast at plan time (a prepared plan may run
/// under another zone): to or from timestamptz (or its arrays) except between
/// timestamptz types, and the words `now`, `today`, … read as a date or timestamp.
pub fn cast_depends_on_zone(value: &Value, from: &DataType, to: &DataType) -> bool {
    let has_tz = |t: &DataType| match t.without_modifier() {
        DataType::TimestampTz => true,
        DataType::Array(e) => *e == DataType::TimestampTz,
        _ => false,
    };
    let relative_word = || match value {
        Value::Text(s) => {
            let w = s.trim().to_ascii_lowercase();
            matches!(w.as_str(), "now" | "today" | "tomorrow" | "yesterday")
        }
        _ => false,
    };
    has_tz(from) != has_tz(to)
        || (matches!(to, DataType::Date | DataType::Timestamp) && relative_word())
}

fn cannot_cast(from: &DataType, to: &DataType) -> Error {
    Error::new(
        ErrorKind::CannotCoerce,
        format!("cannot cast type {} to {}", from.display_name(), to.display_name()),
    )
}

fn out_of_range(to: &DataType) -> Error {
    let message = match to {
        DataType::Int2 => "smallint out of range",
        DataType::Int4 => "integer out of range",
        DataType::Int8 => "bigint out of range",
        DataType::Oid | DataType::Regclass | DataType::Regtype | DataType::Regnamespace => {
            "OID out of range"
        }
        DataType::Char => "\"char\" out of range",
        _ => "value out of range",
    };
    Error::new(ErrorKind::NumericValueOutOfRange, message)
}

fn convert(
    value: &Value,
    from: &DataType,
    to: &DataType,
    rule: LengthRule,
    zone: Zone,
) -> Result<Value> {
    if value.is_null() {
        return Ok(Value::Null);
    }
    let target = to.without_modifier();
    let converted = match (from.without_modifier(), &target) {
        (_, DataType::Unknown) => value.clone(),
        (DataType::Array(fe), DataType::Array(te)) => {
            let Value::Array(items) = value else {
                return Err(mismatch(value, from));
            };
            let to_elem = match to {
                DataType::Array(e) => e.as_ref(),
                _ => te.as_ref(),
            };
            let from_elem = match from {
                DataType::Array(e) => e.as_ref(),
                _ => fe.as_ref(),
            };
            let items = items
                .iter()
                .map(|v| convert(v, from_elem, to_elem, rule, zone))
                .collect::<Result<_>>()?;
            return Ok(Value::Array(items));
        }
        (DataType::Char, DataType::Int4) => match value {
            Value::Char(c) => Value::Int4(i32::from(*c as i8)),
            _ => return Err(mismatch(value, from)),
        },
        (DataType::Int4, DataType::Char) => {
            let i = as_i64(value).ok_or_else(|| mismatch(value, from))?;
            Value::Char(i8::try_from(i).map_err(|_| out_of_range(to))? as u8)
        }
        (_, t) if t.is_string() => Value::Text(string_of(value, from, t, zone)),
        (f, _) if f.is_string() || f == DataType::Unknown => {
            let Value::Text(s) = value else {
                return Err(mismatch(value, from));
            };
            return parse_text(s, &target, zone).and_then(|v| enforce(v, to, rule));
        }
        (f, t) if is_numeric(&f) && is_numeric(t) => convert_number(value, t)?,
        (DataType::Jsonb, t) if is_numeric(t) || *t == DataType::Bool => jsonb_scalar(value, t)?,
        (DataType::Bool, DataType::Int4) => match value {
            Value::Bool(b) => Value::Int4(i32::from(*b)),
            _ => return Err(mismatch(value, from)),
        },
        (DataType::Int4, DataType::Bool) => match value {
            Value::Int4(i) => Value::Bool(*i != 0),
            _ => return Err(mismatch(value, from)),
        },
        (f, t) if is_datetime(&f) && is_datetime(t) => convert_datetime(value, t, zone)?,
        (
            DataType::Int2 | DataType::Int4 | DataType::Int8,
            DataType::Oid | DataType::Regclass | DataType::Regtype | DataType::Regnamespace,
        ) => {
            let i = as_i64(value).ok_or_else(|| mismatch(value, from))?;
            let oid = if matches!(value, Value::Int8(_)) {
                u32::try_from(i).map_err(|_| out_of_range(to))?
            } else {
                i as i32 as u32
            };
            Value::Oid(oid)
        }
        (
            DataType::Oid | DataType::Regclass | DataType::Regtype | DataType::Regnamespace,
            DataType::Oid | DataType::Regclass | DataType::Regtype | DataType::Regnamespace,
        ) => value.clone(),
        (
            DataType::Oid | DataType::Regclass | DataType::Regtype | DataType::Regnamespace,
            DataType::Int4,
        ) => match value {
            Value::Oid(o) => Value::Int4(*o as i32),
            _ => return Err(mismatch(value, from)),
        },
        (
            DataType::Oid | DataType::Regclass | DataType::Regtype | DataType::Regnamespace,
            DataType::Int8,
        ) => match value {
            Value::Oid(o) => Value::Int8(i64::from(*o)),
            _ => return Err(mismatch(value, from)),
        },
        (f, t) if f == *t => value.clone(),
        _ => return Err(cannot_cast(from, to)),
    };
    enforce(converted, to, rule)
}

/// Applies `to`'s modifier: numeric(p,s) rounding, string lengths.
fn enforce(value: Value, to: &DataType, rule: LengthRule) -> Result<Value> {
    Ok(match (value, to) {
        (Value::Numeric(d), DataType::Numeric(typmod)) => {
            Value::Numeric(numeric::apply_typmod(d, *typmod)?)
        }
        (Value::Text(s), t) if t.is_string() => Value::Text(text::fit_string(&s, t, rule)?),
        (Value::Array(items), DataType::Array(elem)) => {
            Value::Array(items.into_iter().map(|v| enforce(v, elem, rule)).collect::<Result<_>>()?)
        }
        (v, _) => v,
    })
}

fn mismatch(value: &Value, ty: &DataType) -> Error {
    Error::internal(format!("value {value:?} is not of type {}", ty.display_name()))
}

fn is_numeric(ty: &DataType) -> bool {
    matches!(
        ty,
        DataType::Int2
            | DataType::Int4
            | DataType::Int8
            | DataType::Float4
            | DataType::Float8
            | DataType::Numeric(_)
    )
}

fn is_datetime(ty: &DataType) -> bool {
    matches!(ty, DataType::Timestamp | DataType::TimestampTz | DataType::Date)
}

pub(crate) fn as_i64(value: &Value) -> Option<i64> {
    match value {
        Value::Int2(i) => Some(i64::from(*i)),
        Value::Int4(i) => Some(i64::from(*i)),
        Value::Int8(i) => Some(*i),
        _ => None,
    }
}

/// The string a value becomes when cast to a string type `to`: its text output, except
/// that booleans spell `true`/`false` and bpchar drops its padding unless `to` is
/// bpchar, as PostgreSQL's `text(boolean)` and `text(bpchar)` do.
fn string_of(value: &Value, from: &DataType, to: &DataType, zone: Zone) -> String {
    match (value, from) {
        (Value::Bool(b), _) => (if *b { "true" } else { "false" }).into(),
        (Value::Text(s), DataType::Bpchar(_)) if !matches!(to, DataType::Bpchar(_)) => {
            s.trim_end_matches(' ').into()
        }
        (Value::Text(s), _) => s.clone(),
        (v, _) => text::text_of(v, from, zone),
    }
}

/// An integer result in `to`'s width, or 22003.
fn int_in_range(i: i64, to: &DataType) -> Result<Value> {
    Ok(match to {
        DataType::Int2 => Value::Int2(i16::try_from(i).map_err(|_| out_of_range(to))?),
        DataType::Int4 => Value::Int4(i32::try_from(i).map_err(|_| out_of_range(to))?),
        _ => Value::Int8(i),
    })
}

/// PostgreSQL's float → integer: round half to even (`rint`), then range check.
fn float_to_int(f: f64, to: &DataType) -> Result<Value> {
    let r = f.round_ties_even();
    // i64::MAX as f64 rounds up to 2^63, which does not fit: the bound is exclusive.
    if r.is_nan() || !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&r) {
        return Err(out_of_range(to));
    }
    int_in_range(r as i64, to)
}

fn convert_number(value: &Value, to: &DataType) -> Result<Value> {
    let f64_of = |v: &Value| -> Option<f64> {
        match v {
            Value::Float4(f) => Some(f64::from(*f)),
            Value::Float8(f) => Some(*f),
            Value::Numeric(d) => Some(numeric::to_f64(d)),
            v => as_i64(v).map(|i| i as f64),
        }
    };
    match (value, to) {
        (v, DataType::Int2 | DataType::Int4 | DataType::Int8) => match v {
            Value::Float4(f) => float_to_int(f64::from(*f), to),
            Value::Float8(f) => float_to_int(*f, to),
            Value::Numeric(d) => {
                int_in_range(numeric::to_i64_rounded(d).ok_or_else(|| out_of_range(to))?, to)
            }
            v => int_in_range(as_i64(v).ok_or_else(|| mismatch(v, to))?, to),
        },
        (Value::Float8(f), DataType::Float4) => {
            let narrowed = *f as f32;
            if narrowed.is_infinite() && f.is_finite() {
                return Err(Error::new(
                    ErrorKind::NumericValueOutOfRange,
                    "value out of range: overflow",
                ));
            }
            if narrowed == 0.0 && *f != 0.0 {
                return Err(Error::new(
                    ErrorKind::NumericValueOutOfRange,
                    "value out of range: underflow",
                ));
            }
            Ok(Value::Float4(narrowed))
        }
        (Value::Numeric(d), DataType::Float4) => {
            let f: f32 = d.to_string().parse().map_err(|_| mismatch(value, to))?;
            if f.is_infinite() {
                return Err(Error::new(
                    ErrorKind::NumericValueOutOfRange,
                    "value out of range: overflow",
                ));
            }
            Ok(Value::Float4(f))
        }
        (v, DataType::Float4) => {
            Ok(Value::Float4(f64_of(v).ok_or_else(|| mismatch(v, to))? as f32))
        }
        (v, DataType::Float8) => Ok(Value::Float8(f64_of(v).ok_or_else(|| mismatch(v, to))?)),
        (v, DataType::Numeric(_)) => Ok(Value::Numeric(match v {
            Value::Numeric(d) => *d,
            Value::Float4(f) => numeric::from_float(f64::from(*f), 6)?,
            Value::Float8(f) => numeric::from_float(*f, 15)?,
            v => rust_decimal::Decimal::from(as_i64(v).ok_or_else(|| mismatch(v, to))?),
        })),
        (v, _) => Err(mismatch(v, to)),
    }
}

/// `jsonb::numeric`, `::int4`, `::bool`…: a jsonb number or boolean as a SQL value;
/// any other jsonb is 22023 `cannot cast jsonb string to type integer`.
fn jsonb_scalar(value: &Value, to: &DataType) -> Result<Value> {
    let Value::Jsonb(doc) = value else {
        return Err(mismatch(value, &DataType::Jsonb));
    };
    match (doc.as_ref(), to) {
        (super::Jsonb::Number(d), t) if is_numeric(t) => convert_number(&Value::Numeric(*d), t),
        (super::Jsonb::Bool(b), DataType::Bool) => Ok(Value::Bool(*b)),
        (other, t) => Err(Error::new(
            ErrorKind::InvalidParameterValue,
            format!("cannot cast jsonb {} to type {}", other.type_name(), t.display_name()),
        )),
    }
}

/// Between date, timestamp and timestamptz: through the local time, which for a
/// timestamptz is its wall-clock time in `zone`.
fn convert_datetime(value: &Value, to: &DataType, zone: Zone) -> Result<Value> {
    if let (Value::TimestampTz(t), DataType::TimestampTz) = (value, to) {
        return Ok(Value::TimestampTz(*t));
    }
    let local = match value {
        Value::Timestamp(t) => *t,
        Value::TimestampTz(t) => zone.to_local(*t),
        Value::Date(d) => datetime::date_to_timestamp(*d).ok_or_else(|| {
            Error::new(ErrorKind::DatetimeFieldOverflow, "date out of range for timestamp")
        })?,
        v => return Err(mismatch(v, to)),
    };
    Ok(match to {
        DataType::Timestamp => Value::Timestamp(local),
        DataType::TimestampTz => Value::TimestampTz(zone.local_to_utc(local)),
        _ => match value {
            Value::Date(d) => Value::Date(*d),
            _ => Value::Date(datetime::timestamp_to_date(local)),
        },
    })
}

/// Position in PostgreSQL's numeric promotion chain (implicit casts go rightwards).
fn numeric_rank(ty: &DataType) -> Option<u8> {
    Some(match ty {
        DataType::Int2 => 0,
        DataType::Int4 => 1,
        DataType::Int8 => 2,
        DataType::Numeric(_) => 3,
        DataType::Float4 => 4,
        DataType::Float8 => 5,
        _ => return None,
    })
}

/// True when PostgreSQL casts `from` to `to` implicitly (pg_cast context `i`), e.g.
/// in operator arguments and comparisons: int2→int4→int8→numeric→float4→float8,
/// between string types (bpchar→text, text→name, ...), "char"→text,
/// date→timestamp→timestamptz, integers→oid→regclass, unknown→anything, and arrays
/// whose elements cast implicitly. Same base type (any modifiers) is always true.
pub fn can_cast_implicitly(from: &DataType, to: &DataType) -> bool {
    let (f, t) = (from.without_modifier(), to.without_modifier());
    if f == t || f == DataType::Unknown {
        return true;
    }
    match (&f, &t) {
        (DataType::Array(fe), DataType::Array(te)) => can_cast_implicitly(fe, te),
        (DataType::Name, DataType::Varchar(_) | DataType::Bpchar(_)) => false,
        (f, t) if f.is_string() && t.is_string() => true,
        (DataType::Char, DataType::Text) => true,
        (DataType::Date, DataType::Timestamp | DataType::TimestampTz) => true,
        (DataType::Timestamp, DataType::TimestampTz) => true,
        (
            DataType::Int2 | DataType::Int4 | DataType::Int8,
            DataType::Oid | DataType::Regclass | DataType::Regtype | DataType::Regnamespace,
        ) => true,
        (DataType::Oid, DataType::Regclass | DataType::Regtype | DataType::Regnamespace)
        | (DataType::Regclass | DataType::Regtype | DataType::Regnamespace, DataType::Oid) => true,
        _ => matches!((numeric_rank(&f), numeric_rank(&t)), (Some(a), Some(b)) if a < b),
    }
}

/// True when PostgreSQL allows the cast in assignment (INSERT/UPDATE) context: the
/// implicit casts plus narrowing numeric casts, timestamptz→timestamp, timestamps→date,
/// oid→integer, and any type → a string type (through its text output).
pub fn can_cast_assignment(from: &DataType, to: &DataType) -> bool {
    if can_cast_implicitly(from, to) {
        return true;
    }
    let (f, t) = (from.without_modifier(), to.without_modifier());
    match (&f, &t) {
        (DataType::Array(fe), DataType::Array(te)) => can_cast_assignment(fe, te),
        (DataType::Array(_), _) | (_, DataType::Array(_)) => false,
        (_, t) if t.is_string() => true,
        (DataType::Text | DataType::Varchar(_) | DataType::Bpchar(_), DataType::Char) => true,
        (DataType::TimestampTz, DataType::Timestamp) => true,
        (DataType::Timestamp | DataType::TimestampTz, DataType::Date) => true,
        (
            DataType::Oid | DataType::Regclass | DataType::Regtype | DataType::Regnamespace,
            DataType::Int4 | DataType::Int8,
        ) => true,
        _ => numeric_rank(&f).is_some() && numeric_rank(&t).is_some(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::str::FromStr;

    fn num(s: &str) -> Value {
        Value::Numeric(rust_decimal::Decimal::from_str(s).unwrap())
    }

    #[test]
    fn numbers_convert_with_postgres_rounding_and_ranges() {
        assert_eq!(
            cast(&Value::Float8(2.5), &DataType::Float8, &DataType::Int4, crate::types::UTC)
                .unwrap(),
            Value::Int4(2)
        );
        assert_eq!(
            cast(&Value::Float8(3.5), &DataType::Float8, &DataType::Int4, crate::types::UTC)
                .unwrap(),
            Value::Int4(4)
        );
        assert_eq!(
            cast(&num("2.5"), &DataType::Numeric(None), &DataType::Int4, crate::types::UTC)
                .unwrap(),
            Value::Int4(3)
        );
        assert_eq!(
            cast(&num("-2.5"), &DataType::Numeric(None), &DataType::Int8, crate::types::UTC)
                .unwrap(),
            Value::Int8(-3)
        );
        let err = cast(&Value::Int8(1 << 40), &DataType::Int8, &DataType::Int4, crate::types::UTC)
            .unwrap_err();
        assert_eq!(
            (err.kind, err.message.as_str()),
            (ErrorKind::NumericValueOutOfRange, "integer out of range")
        );
        assert_eq!(
            cast(&Value::Int4(70000), &DataType::Int4, &DataType::Int2, crate::types::UTC)
                .unwrap_err()
                .message,
            "smallint out of range"
        );
        assert_eq!(
            cast(&Value::Float8(f64::NAN), &DataType::Float8, &DataType::Int8, crate::types::UTC)
                .unwrap_err()
                .message,
            "bigint out of range"
        );
        assert_eq!(
            cast(&Value::Float8(9.3e18), &DataType::Float8, &DataType::Int8, crate::types::UTC)
                .unwrap_err()
                .message,
            "bigint out of range"
        );
        assert_eq!(
            cast(
                &Value::Float8(0.1),
                &DataType::Float8,
                &DataType::Numeric(None),
                crate::types::UTC
            )
            .unwrap(),
            num("0.1")
        );
        assert_eq!(
            cast(
                &Value::Int4(5),
                &DataType::Int4,
                &DataType::Numeric(Some((5, 2))),
                crate::types::UTC
            )
            .unwrap(),
            num("5.00")
        );
        assert_eq!(
            cast(&num("1.25"), &DataType::Numeric(None), &DataType::Float8, crate::types::UTC)
                .unwrap(),
            Value::Float8(1.25)
        );
        assert_eq!(
            cast(&Value::Float8(1e300), &DataType::Float8, &DataType::Float4, crate::types::UTC)
                .unwrap_err()
                .message,
            "value out of range: overflow"
        );
    }

    #[test]
    fn strings_truncate_on_cast_and_fail_on_assignment() {
        let text = |s: &str| Value::Text(s.into());
        assert_eq!(
            cast(
                &text("abcdef"),
                &DataType::Unknown,
                &DataType::Bpchar(Some(3)),
                crate::types::UTC
            )
            .unwrap(),
            text("abc")
        );
        assert_eq!(
            cast(&text("ab"), &DataType::Text, &DataType::Bpchar(Some(3)), crate::types::UTC)
                .unwrap(),
            text("ab ")
        );
        assert_eq!(
            cast(&text("abcdef"), &DataType::Text, &DataType::Varchar(Some(3)), crate::types::UTC)
                .unwrap(),
            text("abc")
        );
        let err = assign_cast(
            &text("abcdef"),
            &DataType::Unknown,
            &DataType::Varchar(Some(3)),
            crate::types::UTC,
        )
        .unwrap_err();
        assert_eq!(
            (err.kind, err.message.as_str()),
            (ErrorKind::StringDataRightTruncation, "value too long for type character varying(3)")
        );
        let err = assign_cast(
            &text("abcdef"),
            &DataType::Text,
            &DataType::Bpchar(Some(3)),
            crate::types::UTC,
        )
        .unwrap_err();
        assert_eq!(err.message, "value too long for type character(3)");
        assert_eq!(
            assign_cast(
                &text("abc   "),
                &DataType::Text,
                &DataType::Bpchar(Some(3)),
                crate::types::UTC
            )
            .unwrap(),
            text("abc")
        );
        assert_eq!(
            cast(&text("a  "), &DataType::Bpchar(Some(3)), &DataType::Text, crate::types::UTC)
                .unwrap(),
            text("a")
        );
        assert_eq!(
            cast(
                &text("a  "),
                &DataType::Bpchar(Some(3)),
                &DataType::Bpchar(Some(5)),
                crate::types::UTC
            )
            .unwrap(),
            text("a    ")
        );
        assert_eq!(
            cast(&Value::Bool(true), &DataType::Bool, &DataType::Text, crate::types::UTC).unwrap(),
            text("true")
        );
        assert_eq!(
            cast(
                &num("1.50"),
                &DataType::Numeric(None),
                &DataType::Varchar(None),
                crate::types::UTC
            )
            .unwrap(),
            text("1.50")
        );
        assert_eq!(
            cast(&text(" 42 "), &DataType::Text, &DataType::Int4, crate::types::UTC).unwrap(),
            Value::Int4(42)
        );
        assert_eq!(
            cast(&text("yes"), &DataType::Varchar(None), &DataType::Bool, crate::types::UTC)
                .unwrap(),
            Value::Bool(true)
        );
        assert_eq!(
            cast(
                &text("1.239"),
                &DataType::Unknown,
                &DataType::Numeric(Some((4, 2))),
                crate::types::UTC
            )
            .unwrap(),
            num("1.24")
        );
    }

    #[test]
    fn other_casts() {
        assert_eq!(
            cast(&Value::Bool(true), &DataType::Bool, &DataType::Int4, crate::types::UTC).unwrap(),
            Value::Int4(1)
        );
        assert_eq!(
            cast(&Value::Int4(-3), &DataType::Int4, &DataType::Bool, crate::types::UTC).unwrap(),
            Value::Bool(true)
        );
        let err = cast(&Value::Bool(true), &DataType::Bool, &DataType::Date, crate::types::UTC)
            .unwrap_err();
        assert_eq!(
            (err.kind, err.message.as_str()),
            (ErrorKind::CannotCoerce, "cannot cast type boolean to date")
        );
        assert_eq!(
            cast(&Value::Int8(1), &DataType::Int8, &DataType::Bool, crate::types::UTC)
                .unwrap_err()
                .kind,
            ErrorKind::CannotCoerce
        );
        assert_eq!(
            cast(&Value::Date(1), &DataType::Date, &DataType::Timestamp, crate::types::UTC)
                .unwrap(),
            Value::Timestamp(86_400_000_000)
        );
        assert_eq!(
            cast(&Value::Timestamp(-1), &DataType::Timestamp, &DataType::Date, crate::types::UTC)
                .unwrap(),
            Value::Date(-1)
        );
        assert_eq!(
            cast(
                &Value::Timestamp(5),
                &DataType::Timestamp,
                &DataType::TimestampTz,
                crate::types::UTC
            )
            .unwrap(),
            Value::TimestampTz(5)
        );
        assert_eq!(
            cast(&Value::Int4(-1), &DataType::Int4, &DataType::Oid, crate::types::UTC).unwrap(),
            Value::Oid(u32::MAX)
        );
        assert_eq!(
            cast(&Value::Oid(u32::MAX), &DataType::Oid, &DataType::Int4, crate::types::UTC)
                .unwrap(),
            Value::Int4(-1)
        );
        assert_eq!(
            cast(&Value::Oid(1259), &DataType::Regclass, &DataType::Oid, crate::types::UTC)
                .unwrap(),
            Value::Oid(1259)
        );
        assert_eq!(
            cast(&Value::Char(b'r'), &DataType::Char, &DataType::Text, crate::types::UTC).unwrap(),
            Value::Text("r".into())
        );
        assert_eq!(
            cast(&Value::Text("rel".into()), &DataType::Text, &DataType::Char, crate::types::UTC)
                .unwrap(),
            Value::Char(b'r')
        );
        assert_eq!(
            cast(&Value::Text("x".repeat(70)), &DataType::Text, &DataType::Name, crate::types::UTC)
                .unwrap(),
            Value::Text("x".repeat(63))
        );
        let arr = Value::Array(vec![Value::Text("1".into()), Value::Null]);
        let got = cast(
            &arr,
            &DataType::Array(Box::new(DataType::Text)),
            &DataType::Array(Box::new(DataType::Int8)),
            crate::types::UTC,
        )
        .unwrap();
        assert_eq!(got, Value::Array(vec![Value::Int8(1), Value::Null]));
        assert_eq!(
            cast(&Value::Null, &DataType::Bool, &DataType::Date, crate::types::UTC).unwrap(),
            Value::Null
        );
        assert_eq!(
            cast(
                &Value::Text("2024-01-02".into()),
                &DataType::Unknown,
                &DataType::Date,
                crate::types::UTC
            )
            .unwrap(),
            Value::Date(8767)
        );
    }

    #[test]
    fn cast_contexts_follow_pg_cast() {
        use DataType::*;
        assert!(can_cast_implicitly(&Int2, &Int8));
        assert!(can_cast_implicitly(&Int8, &Numeric(None)));
        assert!(can_cast_implicitly(&Numeric(None), &Float8));
        assert!(!can_cast_implicitly(&Float8, &Numeric(None)));
        assert!(!can_cast_implicitly(&Int8, &Int4));
        assert!(can_cast_assignment(&Int8, &Int4));
        assert!(can_cast_implicitly(&Bpchar(Some(3)), &Text));
        assert!(can_cast_implicitly(&Text, &Name));
        assert!(can_cast_implicitly(&Unknown, &Date));
        assert!(can_cast_implicitly(&Date, &TimestampTz));
        assert!(!can_cast_implicitly(&TimestampTz, &Date));
        assert!(can_cast_assignment(&TimestampTz, &Date));
        assert!(!can_cast_assignment(&Bool, &Int4));
        assert!(can_cast_assignment(&Bool, &Text));
        assert!(!can_cast_assignment(&Text, &Int4));
        assert!(can_cast_implicitly(&Int4, &Oid));
    }
}
