//! to_char(value, format) for timestamps, dates and numbers, over the common template
//! patterns only; any other letter in a template is refused with 0A000 rather than
//! printed wrong (PostgreSQL copies unknown letters through, which a template written
//! for a pattern troupe lacks would silently mangle).
//!
//! * date/time: `YYYY YY MM DD HH24 HH12 HH MI SS MS US AM PM`, the `FM` prefix (no
//!   padding), `"quoted text"`, and any non-letter copied as is;
//! * numbers: `9` (a digit, blank before the first), `0` (a digit, zero-padded), `.`,
//!   `,` and `FM` (no blanks, no trailing zeros from `9`s). One position before the
//!   digits is the sign (blank when positive, `-` just before the first digit); a value
//!   too wide prints `#`s, as PostgreSQL does.

use chrono::{Datelike, Timelike};
use rust_decimal::prelude::FromPrimitive;
use rust_decimal::Decimal;

use crate::error::{Error, ErrorKind, Result};
use crate::types::{DataType, Value, Zone};

use super::datetime::to_datetime;
use super::{text, Builtin, Resolved};

/// Resolves to_char (None: not to_char of a supported type).
pub(super) fn resolve(name: &str, args: &[DataType]) -> Option<Resolved> {
    use DataType::*;
    if name != "to_char" || args.len() != 2 || !super::super::functions::text_like(&args[1]) {
        return None;
    }
    let first = match &args[0] {
        Timestamp | TimestampTz => None,
        Date => Some(Timestamp),
        Int2 | Int4 | Int8 | Numeric(_) | Float4 | Float8 => None,
        _ => return None,
    };
    Some((Builtin::ToChar, Text, vec![first, Some(Text)]))
}

fn refused(what: &str) -> Error {
    Error::new(
        ErrorKind::FeatureNotSupported,
        format!("to_char template pattern \"{what}\" is not supported yet"),
    )
}

/// Calls to_char on arguments of the resolved types.
pub(super) fn to_char(args: &[Value], zone: Zone) -> Result<Value> {
    if args.iter().any(Value::is_null) {
        return Ok(Value::Null);
    }
    let fmt = text(&args[1])?;
    match &args[0] {
        Value::Timestamp(_) | Value::TimestampTz(_) | Value::Date(_) => {
            datetime(&args[0], fmt, zone)
        }
        Value::Numeric(d) => number(*d, fmt),
        Value::Int2(x) => number(Decimal::from(*x), fmt),
        Value::Int4(x) => number(Decimal::from(*x), fmt),
        Value::Int8(x) => number(Decimal::from(*x), fmt),
        Value::Float4(x) => float(*x as f64, fmt),
        Value::Float8(x) => float(*x, fmt),
        _ => Err(Error::internal("to_char of an unexpected type")),
    }
}

fn float(x: f64, fmt: &str) -> Result<Value> {
    let d = Decimal::from_f64(x).ok_or_else(|| refused("of an infinite or NaN float"))?;
    number(d, fmt)
}

fn datetime(v: &Value, fmt: &str, zone: Zone) -> Result<Value> {
    let dt = to_datetime(v, zone)?;
    let mut out = String::new();
    let mut rest = fmt;
    let mut fill = false;
    while let Some(c) = rest.chars().next() {
        if c == '"' {
            let end = rest[1..].find('"').map_or(rest.len(), |i| i + 1);
            out.push_str(&rest[1..end]);
            rest = rest.get(end + 1..).unwrap_or("");
            continue;
        }
        if !c.is_ascii_alphabetic() {
            out.push(c);
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let upper = rest.to_ascii_uppercase();
        if upper.starts_with("FM") {
            fill = true;
            rest = &rest[2..];
            continue;
        }
        let hour12 = (dt.hour() + 11) % 12 + 1;
        let fields: [(&str, i64, usize); 11] = [
            ("YYYY", dt.year() as i64, 4),
            ("HH24", dt.hour() as i64, 2),
            ("HH12", hour12 as i64, 2),
            ("YY", (dt.year() % 100) as i64, 2),
            ("MM", dt.month() as i64, 2),
            ("DD", dt.day() as i64, 2),
            ("HH", hour12 as i64, 2),
            ("MI", dt.minute() as i64, 2),
            ("SS", dt.second() as i64, 2),
            ("MS", (dt.nanosecond() / 1_000_000) as i64, 3),
            ("US", (dt.nanosecond() / 1000) as i64, 6),
        ];
        if let Some((p, v, width)) = fields.iter().find(|(p, _, _)| upper.starts_with(p)) {
            if fill {
                out.push_str(&v.to_string());
            } else {
                out.push_str(&format!("{v:0width$}"));
            }
            rest = &rest[p.len()..];
            fill = false;
            continue;
        }
        if let Some(p) = ["AM", "PM", "am", "pm"].iter().find(|p| rest.starts_with(**p)) {
            let pm = dt.hour() >= 12;
            let s = if pm { "PM" } else { "AM" };
            out.push_str(&if p.chars().all(|c| c.is_ascii_lowercase()) {
                s.to_lowercase()
            } else {
                s.to_owned()
            });
            rest = &rest[2..];
            continue;
        }
        let word: String = rest.chars().take_while(char::is_ascii_alphanumeric).collect();
        return Err(refused(&word));
    }
    Ok(Value::Text(out))
}

fn number(d: Decimal, fmt: &str) -> Result<Value> {
    let upper = fmt.to_ascii_uppercase();
    let (fill, pattern) = match upper.strip_prefix("FM") {
        Some(p) => (true, p.to_owned()),
        None => (false, upper.clone()),
    };
    if let Some(bad) = pattern.chars().find(|c| !matches!(c, '9' | '0' | '.' | ',')) {
        return Err(refused(&bad.to_string()));
    }
    let (int_pat, frac_pat) = match pattern.split_once('.') {
        Some((i, f)) => (i.to_owned(), Some(f.to_owned())),
        None => (pattern.clone(), None),
    };
    if frac_pat.as_ref().is_some_and(|f| f.contains('.')) {
        return Err(refused("."));
    }
    let frac_digits = frac_pat.as_ref().map_or(0, |f| f.chars().filter(|c| *c != ',').count());
    let r = d.abs().round_dp(frac_digits as u32);
    let s = format!("{:.*}", frac_digits, r);
    let (int_str, frac_str) = s.split_once('.').unwrap_or((&s, ""));
    // A zero integer part prints no digit before a decimal point ('  .50'), one without.
    let int_str = if int_str == "0" && frac_pat.is_some() { "" } else { int_str };
    let slots = int_pat.chars().filter(|c| matches!(c, '9' | '0')).count();
    if int_str.len() > slots {
        let hashes: String =
            pattern.chars().map(|c| if matches!(c, '.' | ',') { c } else { '#' }).collect();
        return Ok(Value::Text(format!(" {hashes}")));
    }
    // The integer part, right-aligned in its slots; a leading `0` slot starts the digits.
    let first_zero = int_pat.chars().filter(|c| matches!(c, '9' | '0')).position(|c| c == '0');
    let start = first_zero.map_or(slots - int_str.len(), |z| z.min(slots - int_str.len()));
    let padded = format!("{:0>width$}", int_str, width = slots);
    let mut out = String::new();
    let mut slot = 0;
    let mut started = false;
    let sign = if d.is_sign_negative() && !r.is_zero() { '-' } else { ' ' };
    for c in int_pat.chars() {
        if c == ',' {
            out.push(if started { ',' } else { ' ' });
            continue;
        }
        if slot >= start && !started {
            out.push(sign);
            started = true;
        }
        out.push(if slot >= start { padded.as_bytes()[slot] as char } else { ' ' });
        slot += 1;
    }
    if !started {
        out.push(sign);
    }
    if let Some(fp) = frac_pat {
        out.push('.');
        let digits: Vec<char> = frac_str.chars().collect();
        let mut frac = String::new();
        let mut i = 0;
        for c in fp.chars() {
            if c == ',' {
                frac.push(',');
                continue;
            }
            frac.push(digits.get(i).copied().unwrap_or('0'));
            i += 1;
        }
        if fill {
            // FM drops the trailing zeros that `9` positions hold.
            let kinds: Vec<char> = fp.chars().filter(|c| *c != ',').collect();
            while frac.ends_with('0') && kinds.get(frac.len() - 1) == Some(&'9') {
                frac.pop();
            }
        }
        out.push_str(&frac);
    }
    Ok(Value::Text(if fill { out.trim_start().to_owned() } else { out }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(d: &str, fmt: &str) -> String {
        match number(d.parse().unwrap_or_default(), fmt) {
            Ok(Value::Text(s)) => s,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn numbers_as_postgres_prints_them() {
        assert_eq!(num("123", "999"), " 123");
        assert_eq!(num("-5", "999"), "  -5");
        assert_eq!(num("5", "000"), " 005");
        assert_eq!(num("1234.5", "9,999.99"), " 1,234.50");
        assert_eq!(num("0.5", "FM9.99"), ".5");
        assert_eq!(num("0", "999"), "   0");
        assert_eq!(num("12345", "999"), " ###");
    }

    #[test]
    fn unknown_patterns_are_refused() {
        assert!(number(Decimal::ONE, "RN").is_err());
        assert!(datetime(&Value::Date(0), "Month", crate::types::UTC).is_err());
        assert_eq!(
            datetime(&Value::Date(0), "YYYY-MM-DD \"x\"", crate::types::UTC).ok(),
            Some(Value::Text("2000-01-01 x".into()))
        );
    }
}
