//! `numeric` on top of `rust_decimal`: PostgreSQL's input syntax, typmod rounding,
//! display scale rules and its base-10000 wire format.
//!
//! PostgreSQL's numeric is arbitrary precision; `Decimal` holds 96 bits of mantissa
//! (28–29 significant digits) and a scale of at most 28. The shortcut: values with more
//! integer digits than that are refused with 22003 `value overflows numeric format`;
//! fractional digits beyond what fits are rounded (half away from zero), as arithmetic
//! results would be. `NaN` and `±Infinity` do not exist here and are refused with 0A000.
//!
//! ```text
//!   "-12.50"  ──parse_numeric──▶  Decimal(-1250, scale 2)  ──to_pg_digits──▶
//!   ndigits 2, weight 0, sign 0x4000, dscale 2, digits [12, 5000]
//! ```

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::error::{Error, ErrorKind, Result};

/// PostgreSQL's minimum significant digits of a division result.
const MIN_SIG_DIGITS: i64 = 16;
/// Largest scale a `Decimal` holds.
const MAX_SCALE: i64 = 28;

/// 22003 for a value wider than troupe's numeric.
pub(crate) fn overflow() -> Error {
    Error::new(ErrorKind::NumericValueOutOfRange, "value overflows numeric format")
}

fn unsupported_special(what: &str) -> Error {
    Error::new(ErrorKind::FeatureNotSupported, format!("numeric {what} is not supported yet"))
}

/// Parses PostgreSQL's numeric input syntax (`' -1.50 '`, `1e3`, `.5`), keeping the
/// display scale PostgreSQL would (`1.50` has scale 2, `1.5e1` scale 0).
pub(crate) fn parse_numeric(text: &str) -> Result<Decimal> {
    let invalid = || {
        Error::new(
            ErrorKind::InvalidTextRepresentation,
            format!("invalid input syntax for type numeric: \"{text}\""),
        )
    };
    let s = text.trim_matches(|c: char| c.is_ascii_whitespace());
    let lower = s.to_ascii_lowercase();
    match lower.trim_start_matches(['+', '-']) {
        "nan" if lower == "nan" => return Err(unsupported_special("NaN")),
        "infinity" | "inf" => return Err(unsupported_special("Infinity")),
        _ => {}
    }
    let bytes = s.as_bytes();
    let mut i = 0;
    let negative = match bytes.first() {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let mut digits = Vec::new();
    let mut frac_len: i64 = 0;
    let mut seen_point = false;
    while i < bytes.len() {
        match bytes[i] {
            b @ b'0'..=b'9' => {
                digits.push(b - b'0');
                if seen_point {
                    frac_len += 1;
                }
            }
            b'.' if !seen_point => seen_point = true,
            _ => break,
        }
        i += 1;
    }
    if digits.is_empty() {
        return Err(invalid());
    }
    let mut exponent: i64 = 0;
    if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
        let rest = &s[i + 1..];
        exponent = rest.parse::<i64>().map_err(|_| invalid())?;
        if exponent.abs() > 1000 {
            return Err(overflow());
        }
        i = bytes.len();
    }
    if i != bytes.len() {
        return Err(invalid());
    }
    decimal_from_digits(negative, digits, frac_len - exponent)
}

/// Builds `±digits × 10^-scale`, rounding away fractional digits a `Decimal` cannot
/// hold and refusing (22003) integer parts it cannot hold.
pub(crate) fn decimal_from_digits(
    negative: bool,
    mut digits: Vec<u8>,
    mut scale: i64,
) -> Result<Decimal> {
    let leading = digits.iter().take_while(|d| **d == 0).count();
    digits.drain(..leading);
    if scale < 0 {
        digits.extend(std::iter::repeat_n(0, (-scale) as usize));
        scale = 0;
    }
    if digits.len() as i64 - scale > 29 {
        return Err(overflow());
    }
    if scale > MAX_SCALE {
        round_off(&mut digits, (scale - MAX_SCALE) as usize);
        scale = MAX_SCALE;
    }
    loop {
        let mut mantissa: u128 = 0;
        let mut fits = digits.len() <= 30;
        if fits {
            for d in &digits {
                mantissa = mantissa * 10 + u128::from(*d);
            }
            fits = mantissa < (1u128 << 96);
        }
        if fits {
            let signed = if negative { -(mantissa as i128) } else { mantissa as i128 };
            let mut value =
                Decimal::try_from_i128_with_scale(signed, scale as u32).map_err(|_| overflow())?;
            if value.is_zero() {
                value.set_sign_positive(true);
            }
            return Ok(value);
        }
        if scale == 0 {
            return Err(overflow());
        }
        round_off(&mut digits, 1);
        scale -= 1;
    }
}

/// Drops the last `count` digits, rounding half away from zero.
fn round_off(digits: &mut Vec<u8>, count: usize) {
    let keep = digits.len().saturating_sub(count);
    let round_up = digits.get(keep).is_some_and(|d| *d >= 5);
    digits.truncate(keep);
    if round_up {
        let mut i = digits.len();
        loop {
            if i == 0 {
                digits.insert(0, 1);
                break;
            }
            i -= 1;
            if digits[i] == 9 {
                digits[i] = 0;
            } else {
                digits[i] += 1;
                break;
            }
        }
    }
}

/// Rounds to `numeric(p,s)` and checks the integer digits, with PostgreSQL's message.
pub(crate) fn apply_typmod(value: Decimal, typmod: Option<(u32, u32)>) -> Result<Decimal> {
    let Some((precision, scale)) = typmod else {
        return Ok(value);
    };
    let mut rounded = value.round_dp_with_strategy(scale, RoundingStrategy::MidpointAwayFromZero);
    if scale as i64 <= MAX_SCALE {
        rounded.rescale(scale);
    }
    let max_digits = precision as i64 - scale as i64;
    let int_part = rounded.abs().trunc();
    let int_digits =
        if int_part.is_zero() { 0 } else { int_part.normalize().to_string().len() as i64 };
    if int_digits > max_digits {
        let limit = if max_digits > 0 { format!("10^{max_digits}") } else { "1".into() };
        return Err(Error::new(ErrorKind::NumericValueOutOfRange, "numeric field overflow").with_detail(
            format!(
                "A field with precision {precision}, scale {scale} must round to an absolute value less than {limit}."
            ),
        ));
    }
    if rounded.is_zero() {
        rounded.set_sign_positive(true);
    }
    Ok(rounded)
}

/// PostgreSQL's `NumericVar`: base-10000 digits, most significant first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PgDigits {
    /// Power of 10000 of the first digit.
    pub weight: i16,
    /// True for negative values.
    pub negative: bool,
    /// Display scale (decimal digits after the point).
    pub dscale: u16,
    /// Base-10000 digits without leading or trailing zero digits.
    pub digits: Vec<i16>,
}

/// `value` in PostgreSQL's base-10000 form (zero has no digits and weight 0).
pub(crate) fn to_pg_digits(value: &Decimal) -> PgDigits {
    let scale = value.scale() as usize;
    let text = value.mantissa().unsigned_abs().to_string();
    let padded = if text.len() <= scale {
        format!("{}{}", "0".repeat(scale + 1 - text.len()), text)
    } else {
        text
    };
    let (int_part, frac_part) = padded.split_at(padded.len() - scale);
    // Left-pad the integer part and right-pad the fraction to whole groups of 4.
    let int_groups = int_part.len().div_ceil(4);
    let int_padded = format!("{}{}", "0".repeat(int_groups * 4 - int_part.len()), int_part);
    let frac_groups = frac_part.len().div_ceil(4);
    let frac_padded = format!("{}{}", frac_part, "0".repeat(frac_groups * 4 - frac_part.len()));
    let all = format!("{int_padded}{frac_padded}");
    let mut digits: Vec<i16> = all
        .as_bytes()
        .chunks(4)
        .map(|c| c.iter().fold(0i16, |acc, b| acc * 10 + i16::from(b - b'0')))
        .collect();
    let mut weight = int_groups as i16 - 1;
    let leading = digits.iter().take_while(|d| **d == 0).count();
    digits.drain(..leading);
    weight -= leading as i16;
    while digits.last() == Some(&0) {
        digits.pop();
    }
    if digits.is_empty() {
        weight = 0;
    }
    PgDigits {
        weight,
        negative: value.is_sign_negative() && !digits.is_empty(),
        dscale: scale as u16,
        digits,
    }
}

/// Inverse of [`to_pg_digits`], validating what a client sent.
pub(crate) fn from_pg_digits(pg: &PgDigits) -> Result<Decimal> {
    let mut decimal_digits = Vec::with_capacity(pg.digits.len() * 4);
    for d in &pg.digits {
        if !(0..10000).contains(d) {
            return Err(Error::new(
                ErrorKind::InvalidTextRepresentation,
                "invalid digit in external \"numeric\" value",
            ));
        }
        let group = format!("{d:04}");
        decimal_digits.extend(group.bytes().map(|b| b - b'0'));
    }
    // value = digits × 10^(4 × (weight + 1 - ndigits))
    let scale = 4 * (pg.digits.len() as i64 - 1 - i64::from(pg.weight));
    let value = decimal_from_digits(pg.negative, decimal_digits, scale)?;
    let mut value =
        value.round_dp_with_strategy(u32::from(pg.dscale), RoundingStrategy::MidpointAwayFromZero);
    if i64::from(pg.dscale) <= MAX_SCALE {
        value.rescale(u32::from(pg.dscale));
    }
    Ok(value)
}

/// PostgreSQL's `select_div_scale`: at least 16 significant digits, and no fewer
/// fractional digits than either input.
pub(crate) fn division_scale(dividend: &Decimal, divisor: &Decimal) -> u32 {
    let first = |v: &Decimal| {
        let pg = to_pg_digits(v);
        (i64::from(pg.weight), pg.digits.first().copied().unwrap_or(0))
    };
    let (weight1, first1) = first(dividend);
    let (weight2, first2) = first(divisor);
    let mut qweight = weight1 - weight2;
    if first1 <= first2 {
        qweight -= 1;
    }
    let scale = (MIN_SIG_DIGITS - qweight * 4)
        .max(i64::from(dividend.scale()))
        .max(i64::from(divisor.scale()))
        .clamp(0, 1000);
    scale as u32
}

/// `a / b` with PostgreSQL's result scale; 22012 on zero.
pub(crate) fn divide(a: &Decimal, b: &Decimal) -> Result<Decimal> {
    if b.is_zero() {
        return Err(Error::new(ErrorKind::DivisionByZero, "division by zero"));
    }
    let scale = division_scale(a, b);
    let quotient = a.checked_div(*b).ok_or_else(overflow)?;
    let mut q = quotient.round_dp_with_strategy(scale, RoundingStrategy::MidpointAwayFromZero);
    if i64::from(scale) <= MAX_SCALE {
        q.rescale(scale);
    }
    if q.is_zero() {
        q.set_sign_positive(true);
    }
    Ok(q)
}

/// float → numeric as PostgreSQL does it: through `%.{digits}g` text (15 digits for
/// float8, 6 for float4), so `0.1::float8::numeric` is `0.1`.
pub(crate) fn from_float(value: f64, significant_digits: usize) -> Result<Decimal> {
    if value.is_nan() {
        return Err(unsupported_special("NaN"));
    }
    if value.is_infinite() {
        return Err(Error::new(
            ErrorKind::FeatureNotSupported,
            "cannot convert infinity to numeric",
        ));
    }
    let formatted = format!("{:.*e}", significant_digits.saturating_sub(1), value);
    let (mantissa, exponent) = formatted.split_once('e').unwrap_or((formatted.as_str(), "0"));
    let mantissa = if mantissa.contains('.') {
        mantissa.trim_end_matches('0').trim_end_matches('.')
    } else {
        mantissa
    };
    parse_numeric(&format!("{mantissa}e{exponent}"))
}

/// numeric → float8 through text, as PostgreSQL does (exactly rounded).
pub(crate) fn to_f64(value: &Decimal) -> f64 {
    value.to_string().parse::<f64>().unwrap_or_else(|_| value.to_f64().unwrap_or(f64::NAN))
}

/// numeric → integer, rounding half away from zero; `None` when out of i64 range.
pub(crate) fn to_i64_rounded(value: &Decimal) -> Option<i64> {
    value.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero).to_i64()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn parse_keeps_postgres_display_scale() {
        for (input, want) in [
            ("1.50", "1.50"),
            (" -1.5 ", "-1.5"),
            ("1.5e1", "15"),
            ("15e-3", "0.015"),
            ("1e3", "1000"),
            (".5", "0.5"),
            ("5.", "5"),
            ("-0", "0"),
            ("0.000", "0.000"),
        ] {
            assert_eq!(parse_numeric(input).unwrap().to_string(), want, "{input}");
        }
        for bad in ["", "abc", "1.2.3", "1e", "- 1", "1 2"] {
            let err = parse_numeric(bad).unwrap_err();
            assert_eq!(err.kind, ErrorKind::InvalidTextRepresentation, "{bad}");
            assert_eq!(err.message, format!("invalid input syntax for type numeric: \"{bad}\""));
        }
        assert_eq!(parse_numeric("1e100").unwrap_err().kind, ErrorKind::NumericValueOutOfRange);
        assert_eq!(parse_numeric("NaN").unwrap_err().kind, ErrorKind::FeatureNotSupported);
        // More fractional digits than fit are rounded.
        assert_eq!(
            parse_numeric("0.12345678901234567890123456789").unwrap().to_string(),
            "0.1234567890123456789012345679"
        );
    }

    #[test]
    fn typmod_rounds_and_checks_like_postgres() {
        assert_eq!(apply_typmod(dec("1.005"), Some((10, 2))).unwrap().to_string(), "1.01");
        assert_eq!(apply_typmod(dec("1.5"), Some((10, 2))).unwrap().to_string(), "1.50");
        assert_eq!(apply_typmod(dec("-2.5"), Some((5, 0))).unwrap().to_string(), "-3");
        let err = apply_typmod(dec("1000"), Some((5, 2))).unwrap_err();
        assert_eq!(err.message, "numeric field overflow");
        assert_eq!(
            err.detail.as_deref(),
            Some(
                "A field with precision 5, scale 2 must round to an absolute value less than 10^3."
            )
        );
        let err = apply_typmod(dec("1"), Some((2, 2))).unwrap_err();
        assert!(err.detail.unwrap().ends_with("less than 1."));
        assert_eq!(apply_typmod(dec("999.994"), Some((5, 2))).unwrap().to_string(), "999.99");
        assert!(apply_typmod(dec("999.995"), Some((5, 2))).is_err());
    }

    #[test]
    fn base_10000_digits_round_trip() {
        let pg = to_pg_digits(&dec("-12.50"));
        assert_eq!(pg, PgDigits { weight: 0, negative: true, dscale: 2, digits: vec![12, 5000] });
        let pg = to_pg_digits(&dec("123456.789"));
        assert_eq!(
            pg,
            PgDigits { weight: 1, negative: false, dscale: 3, digits: vec![12, 3456, 7890] }
        );
        let pg = to_pg_digits(&dec("0.00001"));
        assert_eq!(pg, PgDigits { weight: -2, negative: false, dscale: 5, digits: vec![1000] });
        let pg = to_pg_digits(&dec("0.00"));
        assert_eq!(pg, PgDigits { weight: 0, negative: false, dscale: 2, digits: vec![] });
        for s in [
            "0",
            "1",
            "-1",
            "10000",
            "1.50",
            "0.00001",
            "79228162514264337593543950335",
            "-0.0000000000000000000000000001",
        ] {
            let d = dec(s);
            assert_eq!(
                from_pg_digits(&to_pg_digits(&d)).unwrap().to_string(),
                d.to_string(),
                "{s}"
            );
        }
    }

    #[test]
    fn division_uses_postgres_scale() {
        assert_eq!(divide(&dec("1"), &dec("3")).unwrap().to_string(), "0.33333333333333333333");
        assert_eq!(divide(&dec("10"), &dec("4")).unwrap().to_string(), "2.5000000000000000");
        assert_eq!(divide(&dec("1"), &dec("1")).unwrap().to_string(), "1.00000000000000000000");
        assert_eq!(divide(&dec("1"), &dec("0")).unwrap_err().kind, ErrorKind::DivisionByZero);
    }

    #[test]
    fn float_conversion_goes_through_text() {
        assert_eq!(from_float(0.1, 15).unwrap().to_string(), "0.1");
        assert_eq!(from_float(1.0 / 3.0, 15).unwrap().to_string(), "0.333333333333333");
        assert_eq!(from_float(1e20, 15).unwrap().to_string(), "100000000000000000000");
        assert_eq!(from_float(1.5e-5, 15).unwrap().to_string(), "0.000015");
        assert_eq!(to_f64(&dec("0.1")), 0.1);
        assert_eq!(to_i64_rounded(&dec("2.5")), Some(3));
        assert_eq!(to_i64_rounded(&dec("-2.5")), Some(-3));
    }
}
