//! Text I/O: PostgreSQL's typoutput ([`write_text`]) and typinput ([`parse_text`]).
//!
//! Output depends on the [`Value`] variant alone, so a value never fails to print; the
//! `DataType` only matters for input. Input follows each type's input function:
//! whitespace around numbers is allowed, errors carry PostgreSQL's messages and
//! SQLSTATEs, and string types enforce their length modifier the way the input function
//! does (`char(n)`/`varchar(n)` error with 22001, except for trailing blanks, which are
//! trimmed). Explicit casts truncate instead: see `cast.rs`.
//!
//! Floats print the shortest digits that read back to the same value (PostgreSQL 12+
//! with `extra_float_digits = 1`): fixed notation for decimal exponents in `-4..15`
//! (`-4..6` for real), otherwise `1e+100` style.

use bytes::BytesMut;

use super::array;
use super::bytea;
use super::datetime::{self, DatetimeKind};
use super::interval;
use super::jsonb;
use super::numeric;
use super::{DataType, Value, Zone};
use crate::error::{Error, ErrorKind, Result};

/// Longest `name` in bytes (NAMEDATALEN - 1).
pub(crate) const NAME_MAX_BYTES: usize = 63;

/// Text output (PostgreSQL's typoutput) of a non-NULL value of type `ty`, appended.
/// A NULL (only reachable inside arrays) prints as `NULL`.
pub fn write_text(value: &Value, ty: &DataType, zone: Zone, out: &mut BytesMut) {
    out.extend_from_slice(text_of(value, ty, zone).as_bytes());
}

/// [`write_text`] into a `String`. A timestamptz prints in `zone`.
pub fn text_of(value: &Value, ty: &DataType, zone: Zone) -> String {
    match value {
        Value::Null => "NULL".into(),
        Value::Bool(b) => (if *b { "t" } else { "f" }).into(),
        Value::Int2(v) => v.to_string(),
        Value::Int4(v) => v.to_string(),
        Value::Int8(v) => v.to_string(),
        Value::Float4(v) => format_float4(*v),
        Value::Float8(v) => format_float8(*v),
        Value::Numeric(d) => {
            let mut d = *d;
            if d.is_zero() {
                d.set_sign_positive(true);
            }
            d.to_string()
        }
        Value::Text(s) => s.clone(),
        Value::Char(c) => char_out(*c),
        Value::Oid(o) => o.to_string(),
        Value::Timestamp(t) => datetime::format_timestamp(*t),
        Value::TimestampTz(t) => datetime::format_timestamptz(*t, zone),
        Value::Date(d) => datetime::format_date(*d),
        Value::Interval(iv) => interval::format_interval(iv),
        Value::Bytea(b) => bytea::bytea_out(b),
        Value::Uuid(u) => bytea::uuid_out(u),
        Value::Jsonb(j) => jsonb::format_jsonb(j),
        Value::Array(items) => {
            let elem_ty = match ty {
                DataType::Array(elem) => elem.as_ref(),
                _ => &DataType::Unknown,
            };
            array::array_out(items, elem_ty, zone)
        }
    }
}

/// PostgreSQL 15's `charout`: the byte itself, nothing for 0, `\ooo` for non-ASCII.
fn char_out(c: u8) -> String {
    match c {
        0 => String::new(),
        c if c >= 0x80 => format!("\\{c:03o}"),
        c => char::from(c).to_string(),
    }
}

/// float8 output.
pub fn format_float8(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return (if v > 0.0 { "Infinity" } else { "-Infinity" }).into();
    }
    shortest_to_pg(&format!("{v:e}"), 15)
}

/// float4 output.
pub fn format_float4(v: f32) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return (if v > 0.0 { "Infinity" } else { "-Infinity" }).into();
    }
    shortest_to_pg(&format!("{v:e}"), 6)
}

/// Rewrites Rust's shortest `LowerExp` output (`-1.25e-5`) in PostgreSQL's layout.
fn shortest_to_pg(exp_form: &str, fixed_limit: i32) -> String {
    let (mantissa, exponent) = exp_form.split_once('e').unwrap_or((exp_form, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let mut out = String::from(sign);
    if exponent < -4 || exponent >= fixed_limit {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let exp_sign = if exponent < 0 { '-' } else { '+' };
        out.push_str(&format!("e{exp_sign}{:02}", exponent.abs()));
    } else if exponent < 0 {
        out.push_str("0.");
        out.push_str(&"0".repeat((-exponent - 1) as usize));
        out.push_str(&digits);
    } else {
        let int_len = exponent as usize + 1;
        if digits.len() <= int_len {
            out.push_str(&digits);
            out.push_str(&"0".repeat(int_len - digits.len()));
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    }
    out
}

/// 22P02 `invalid input syntax for type T: "x"`.
pub(crate) fn invalid_syntax(type_name: &str, input: &str) -> Error {
    Error::new(
        ErrorKind::InvalidTextRepresentation,
        format!("invalid input syntax for type {type_name}: \"{input}\""),
    )
}

/// 22003 `value "x" is out of range for type T`.
fn value_out_of_range(type_name: &str, input: &str) -> Error {
    Error::new(
        ErrorKind::NumericValueOutOfRange,
        format!("value \"{input}\" is out of range for type {type_name}"),
    )
}

/// Text input (typinput) of `text` as type `ty`, with PostgreSQL's errors.
///
/// `regclass` accepts only a numeric oid here: a relation name needs the catalog,
/// which resolves it before calling (0A000 otherwise).
/// A timestamptz without an offset is a local time in `zone`.
pub fn parse_text(text: &str, ty: &DataType, zone: Zone) -> Result<Value> {
    Ok(match ty {
        DataType::Bool => Value::Bool(parse_bool(text)?),
        DataType::Int2 => {
            Value::Int2(parse_int(text, "smallint", i16::MIN.into(), i16::MAX.into())? as i16)
        }
        DataType::Int4 => {
            Value::Int4(parse_int(text, "integer", i32::MIN.into(), i32::MAX.into())? as i32)
        }
        DataType::Int8 => Value::Int8(parse_int(text, "bigint", i64::MIN, i64::MAX)?),
        DataType::Float4 => Value::Float4(parse_float4(text)?),
        DataType::Float8 => Value::Float8(parse_float8(text)?),
        DataType::Numeric(typmod) => {
            Value::Numeric(numeric::apply_typmod(numeric::parse_numeric(text)?, *typmod)?)
        }
        DataType::Text | DataType::Unknown => Value::Text(text.to_owned()),
        DataType::Varchar(_) | DataType::Bpchar(_) | DataType::Name => {
            Value::Text(fit_string(text, ty, LengthRule::Error)?)
        }
        DataType::Char => Value::Char(char_in(text)),
        DataType::Oid => Value::Oid(parse_oid(text)?),
        DataType::Regclass | DataType::Regtype | DataType::Regnamespace => match parse_oid(text) {
            Ok(oid) => Value::Oid(oid),
            Err(_) => {
                return Err(Error::new(
                    ErrorKind::FeatureNotSupported,
                    format!(
                        "{} input \"{text}\" must be resolved by the catalog",
                        ty.display_name()
                    ),
                ))
            }
        },
        DataType::Timestamp => {
            Value::Timestamp(datetime::parse_datetime(text, DatetimeKind::Timestamp, zone)?)
        }
        DataType::TimestampTz => {
            Value::TimestampTz(datetime::parse_datetime(text, DatetimeKind::TimestampTz, zone)?)
        }
        DataType::Date => {
            Value::Date(datetime::parse_datetime(text, DatetimeKind::Date, zone)? as i32)
        }
        DataType::Interval => Value::Interval(interval::parse_interval(text)?),
        DataType::Bytea => Value::Bytea(bytea::bytea_in(text)?),
        DataType::Uuid => Value::Uuid(bytea::uuid_in(text)?),
        DataType::Jsonb => Value::Jsonb(Box::new(jsonb::parse_jsonb(text)?)),
        DataType::Array(elem) => Value::Array(array::parse_array(text, elem, zone)?),
    })
}

/// PostgreSQL's `boolin`: t/true/yes/on/1 and f/false/no/off/0, any case, any unique
/// prefix, surrounding whitespace allowed.
fn parse_bool(text: &str) -> Result<bool> {
    let s = text.trim_matches(|c: char| c.is_ascii_whitespace()).to_ascii_lowercase();
    let prefix_of = |word: &str, min: usize| s.len() >= min && word.starts_with(s.as_str());
    if prefix_of("true", 1) || prefix_of("yes", 1) || prefix_of("on", 2) || s == "1" {
        Ok(true)
    } else if prefix_of("false", 1) || prefix_of("no", 1) || prefix_of("off", 2) || s == "0" {
        Ok(false)
    } else {
        Err(invalid_syntax("boolean", text))
    }
}

/// PostgreSQL 15's `pg_strtoint*`: optional whitespace, sign, decimal digits.
fn parse_int(text: &str, type_name: &str, min: i64, max: i64) -> Result<i64> {
    let s = text.trim_matches(|c: char| c.is_ascii_whitespace());
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid_syntax(type_name, text));
    }
    let mut magnitude: i128 = 0;
    for b in digits.bytes() {
        magnitude = magnitude * 10 + i128::from(b - b'0');
        if magnitude > i128::from(u64::MAX) {
            return Err(value_out_of_range(type_name, text));
        }
    }
    let value = if negative { -magnitude } else { magnitude };
    if value < i128::from(min) || value > i128::from(max) {
        return Err(value_out_of_range(type_name, text));
    }
    Ok(value as i64)
}

/// Splits a float literal for the out-of-range checks: (is an infinity word, has a
/// non-zero digit in its mantissa).
fn float_shape(s: &str) -> (bool, bool) {
    let lower = s.trim_start_matches(['+', '-']).to_ascii_lowercase();
    let is_inf = lower == "inf" || lower == "infinity";
    let mantissa = lower.split('e').next().unwrap_or("");
    (is_inf, mantissa.bytes().any(|b| (b'1'..=b'9').contains(&b)))
}

fn parse_float8(text: &str) -> Result<f64> {
    let s = text.trim_matches(|c: char| c.is_ascii_whitespace());
    let value: f64 = s.parse().map_err(|_| invalid_syntax("double precision", text))?;
    let (is_inf, nonzero) = float_shape(s);
    if (value.is_infinite() && !is_inf) || (value == 0.0 && nonzero) {
        return Err(Error::new(
            ErrorKind::NumericValueOutOfRange,
            format!("\"{s}\" is out of range for type double precision"),
        ));
    }
    Ok(value)
}

fn parse_float4(text: &str) -> Result<f32> {
    let s = text.trim_matches(|c: char| c.is_ascii_whitespace());
    let value: f32 = s.parse().map_err(|_| invalid_syntax("real", text))?;
    let (is_inf, nonzero) = float_shape(s);
    if (value.is_infinite() && !is_inf) || (value == 0.0 && nonzero) {
        return Err(Error::new(
            ErrorKind::NumericValueOutOfRange,
            format!("\"{s}\" is out of range for type real"),
        ));
    }
    Ok(value)
}

/// PostgreSQL's `oidin`: an unsigned 32-bit number; negative 32-bit numbers wrap.
fn parse_oid(text: &str) -> Result<u32> {
    let value = parse_int(text, "oid", i64::MIN, i64::MAX).map_err(|e| match e.kind {
        ErrorKind::NumericValueOutOfRange => value_out_of_range("oid", text),
        _ => e,
    })?;
    if (0..=i64::from(u32::MAX)).contains(&value) {
        Ok(value as u32)
    } else if (i64::from(i32::MIN)..0).contains(&value) {
        Ok(value as i32 as u32)
    } else {
        Err(value_out_of_range("oid", text))
    }
}

/// PostgreSQL 15's `charin`: `\ooo` octal, else the first byte (0 for empty).
fn char_in(text: &str) -> u8 {
    let b = text.as_bytes();
    if b.len() == 4 && b[0] == b'\\' && b[1..].iter().all(|d| (b'0'..=b'7').contains(d)) {
        let value = b[1..].iter().fold(0u32, |acc, d| acc * 8 + u32::from(d - b'0'));
        if value <= 0xFF {
            return value as u8;
        }
    }
    b.first().copied().unwrap_or(0)
}

/// What to do with a string longer than its type's length modifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LengthRule {
    /// Input functions and assignment: 22001 unless the excess is blanks.
    Error,
    /// Explicit casts: truncate silently.
    Truncate,
}

/// Fits a string to `varchar(n)` / `char(n)` (blank-padded) / `name` (63 bytes).
/// Other types pass it through.
pub(crate) fn fit_string(s: &str, ty: &DataType, rule: LengthRule) -> Result<String> {
    let (limit, type_name) = match ty {
        DataType::Varchar(Some(n)) => (*n as usize, format!("character varying({n})")),
        DataType::Bpchar(Some(n)) => (*n as usize, format!("character({n})")),
        DataType::Name => return Ok(truncate_bytes(s, NAME_MAX_BYTES).to_owned()),
        _ => return Ok(s.to_owned()),
    };
    let char_count = s.chars().count();
    let mut fitted = if char_count > limit {
        let cut = s.char_indices().nth(limit).map_or(s.len(), |(i, _)| i);
        if rule == LengthRule::Error && s[cut..].bytes().any(|b| b != b' ') {
            return Err(Error::new(
                ErrorKind::StringDataRightTruncation,
                format!("value too long for type {type_name}"),
            ));
        }
        s[..cut].to_owned()
    } else {
        s.to_owned()
    };
    if matches!(ty, DataType::Bpchar(_)) && char_count < limit {
        fitted.extend(std::iter::repeat_n(' ', limit - char_count));
    }
    Ok(fitted)
}

/// The longest prefix of `s` of at most `max` bytes ending on a char boundary.
fn truncate_bytes(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn out(v: &Value, ty: &DataType) -> String {
        let mut buf = BytesMut::new();
        write_text(v, ty, crate::types::UTC, &mut buf);
        String::from_utf8(buf.to_vec()).unwrap()
    }

    #[test]
    fn floats_print_like_postgres() {
        for (v, want) in [
            (1.5, "1.5"),
            (0.1, "0.1"),
            (1e100, "1e+100"),
            (1e15, "1e+15"),
            (123456789012345.0, "123456789012345"),
            (1234567890123456.0, "1.234567890123456e+15"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-0.0, "-0"),
            (100.0, "100"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
            (1.0 / 3.0, "0.3333333333333333"),
            (-2.5e-10, "-2.5e-10"),
        ] {
            assert_eq!(format_float8(v), want, "{v}");
        }
        assert_eq!(format_float4(0.1), "0.1");
        assert_eq!(format_float4(1e6), "1e+06");
        assert_eq!(format_float4(123456.0), "123456");
        assert_eq!(format_float4(1.0 / 3.0), "0.33333334");
    }

    #[test]
    fn integers_parse_with_postgres_errors() {
        assert_eq!(
            parse_text(" 42 ", &DataType::Int4, crate::types::UTC).unwrap(),
            Value::Int4(42)
        );
        assert_eq!(
            parse_text("-32768", &DataType::Int2, crate::types::UTC).unwrap(),
            Value::Int2(-32768)
        );
        let err = parse_text("abc", &DataType::Int4, crate::types::UTC).unwrap_err();
        assert_eq!(
            (err.kind, err.message.as_str()),
            (
                ErrorKind::InvalidTextRepresentation,
                "invalid input syntax for type integer: \"abc\""
            )
        );
        let err = parse_text("99999999999", &DataType::Int4, crate::types::UTC).unwrap_err();
        assert_eq!(
            (err.kind, err.message.as_str()),
            (
                ErrorKind::NumericValueOutOfRange,
                "value \"99999999999\" is out of range for type integer"
            )
        );
        assert!(parse_text("1.5", &DataType::Int8, crate::types::UTC).is_err());
        assert!(parse_text("", &DataType::Int8, crate::types::UTC).is_err());
        assert_eq!(
            parse_text("99999999999999999999999", &DataType::Int8, crate::types::UTC)
                .unwrap_err()
                .kind,
            ErrorKind::NumericValueOutOfRange
        );
        assert_eq!(
            parse_text("-1", &DataType::Oid, crate::types::UTC).unwrap(),
            Value::Oid(u32::MAX)
        );
    }

    #[test]
    fn bools_accept_postgres_spellings() {
        for t in ["t", "TRUE", "tr", "yes", "y", "on", "1", " true "] {
            assert_eq!(
                parse_text(t, &DataType::Bool, crate::types::UTC).unwrap(),
                Value::Bool(true),
                "{t}"
            );
        }
        for f in ["f", "false", "no", "n", "off", "of", "0"] {
            assert_eq!(
                parse_text(f, &DataType::Bool, crate::types::UTC).unwrap(),
                Value::Bool(false),
                "{f}"
            );
        }
        for bad in ["o", "2", "truex", ""] {
            let err = parse_text(bad, &DataType::Bool, crate::types::UTC).unwrap_err();
            assert_eq!(err.message, format!("invalid input syntax for type boolean: \"{bad}\""));
        }
    }

    #[test]
    fn floats_parse_with_range_checks() {
        assert_eq!(
            parse_text(" 1.5 ", &DataType::Float8, crate::types::UTC).unwrap(),
            Value::Float8(1.5)
        );
        assert!(
            matches!(parse_text("NaN", &DataType::Float8, crate::types::UTC).unwrap(), Value::Float8(v) if v.is_nan())
        );
        assert_eq!(
            parse_text("-Infinity", &DataType::Float8, crate::types::UTC).unwrap(),
            Value::Float8(f64::NEG_INFINITY)
        );
        assert_eq!(
            parse_text("inf", &DataType::Float4, crate::types::UTC).unwrap(),
            Value::Float4(f32::INFINITY)
        );
        let err = parse_text("1e400", &DataType::Float8, crate::types::UTC).unwrap_err();
        assert_eq!(err.message, "\"1e400\" is out of range for type double precision");
        assert_eq!(
            parse_text("1e-400", &DataType::Float8, crate::types::UTC).unwrap_err().kind,
            ErrorKind::NumericValueOutOfRange
        );
        assert_eq!(
            parse_text("1e39", &DataType::Float4, crate::types::UTC).unwrap_err().message,
            "\"1e39\" is out of range for type real"
        );
        assert_eq!(
            parse_text("x", &DataType::Float4, crate::types::UTC).unwrap_err().message,
            "invalid input syntax for type real: \"x\""
        );
    }

    #[test]
    fn strings_enforce_length_like_input_functions() {
        assert_eq!(
            parse_text("ab", &DataType::Bpchar(Some(4)), crate::types::UTC).unwrap(),
            Value::Text("ab  ".into())
        );
        assert_eq!(
            parse_text("ab    ", &DataType::Bpchar(Some(4)), crate::types::UTC).unwrap(),
            Value::Text("ab  ".into())
        );
        let err = parse_text("abcde", &DataType::Bpchar(Some(4)), crate::types::UTC).unwrap_err();
        assert_eq!(
            (err.kind, err.message.as_str()),
            (ErrorKind::StringDataRightTruncation, "value too long for type character(4)")
        );
        let err = parse_text("abcde", &DataType::Varchar(Some(4)), crate::types::UTC).unwrap_err();
        assert_eq!(err.message, "value too long for type character varying(4)");
        assert_eq!(
            parse_text("abcd  ", &DataType::Varchar(Some(4)), crate::types::UTC).unwrap(),
            Value::Text("abcd".into())
        );
        assert_eq!(
            parse_text("héé", &DataType::Varchar(Some(3)), crate::types::UTC).unwrap(),
            Value::Text("héé".into())
        );
        assert_eq!(
            parse_text(&"x".repeat(70), &DataType::Name, crate::types::UTC).unwrap(),
            Value::Text("x".repeat(63))
        );
        assert_eq!(
            fit_string("abcdef", &DataType::Bpchar(Some(3)), LengthRule::Truncate).unwrap(),
            "abc"
        );
    }

    #[test]
    fn char_type_uses_postgres_15_escapes() {
        assert_eq!(
            parse_text("abc", &DataType::Char, crate::types::UTC).unwrap(),
            Value::Char(b'a')
        );
        assert_eq!(parse_text("", &DataType::Char, crate::types::UTC).unwrap(), Value::Char(0));
        assert_eq!(
            parse_text("\\201", &DataType::Char, crate::types::UTC).unwrap(),
            Value::Char(0o201)
        );
        assert_eq!(out(&Value::Char(0o201), &DataType::Char), "\\201");
        assert_eq!(out(&Value::Char(0), &DataType::Char), "");
        assert_eq!(out(&Value::Char(b'r'), &DataType::Char), "r");
    }

    #[test]
    fn scalar_outputs() {
        assert_eq!(out(&Value::Bool(true), &DataType::Bool), "t");
        assert_eq!(out(&Value::Numeric("1.50".parse().unwrap()), &DataType::Numeric(None)), "1.50");
        assert_eq!(out(&Value::Date(0), &DataType::Date), "2000-01-01");
        assert_eq!(
            out(&Value::TimestampTz(123_000), &DataType::TimestampTz),
            "2000-01-01 00:00:00.123+00"
        );
        assert_eq!(out(&Value::Oid(4294967295), &DataType::Oid), "4294967295");
    }
}
