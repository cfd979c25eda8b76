//! Ordering: the total order [`compare`] used by sorting, grouping and keys, and the
//! memcomparable key encoding [`encode_key`] that reproduces it byte by byte.
//!
//! The order, per PostgreSQL's default btree operator classes:
//!
//! * NULL after everything (the caller flips it for `NULLS FIRST` / `DESC`);
//! * numbers by value across widths (`int2 1 = numeric 1.0`); floats put NaN above
//!   +Infinity and NaN equals NaN; `-0 = 0`;
//! * strings by bytes (C collation); timestamps and dates by instant;
//! * arrays element by element, then shorter first;
//! * intervals by their normalised length (30-day months, 24-hour days);
//! * bytea and uuid by bytes; jsonb by its btree order (see `jsonb.rs`).
//!
//! Values of unrelated types (never compared by a well-typed plan) fall back to a fixed
//! rank per variant, so the order stays total.
//!
//! Key layout, one tagged field per value, fields simply concatenated:
//!
//! ```text
//!   integer, date      0x10  8 bytes big-endian, sign bit flipped (all widths alike)
//!   timestamp[tz]      0x18  8 bytes big-endian, sign bit flipped
//!   oid                0x14  4 bytes big-endian
//!   float4/8           0x20  f64 bits, flipped so that byte order = numeric order
//!   numeric            0x30  class (neg 1 / zero 2 / pos 3), exponent, digits, end
//!   text               0x40  bytes with 0x00 → 00 FF, then terminator 00 01
//!   bool / "char"      0x50 / 0x58  1 byte
//!   array              0x60  (0x01 element)* 0x00
//!   interval           0x70  normalised µs as i128 big-endian, sign bit flipped
//!   bytea / uuid       0x78 / 0x7C  bytes as text's
//!   jsonb              0x80  see `Jsonb::encode_key`
//!   NULL               0xFF
//! ```
//!
//! Equal keys encode equally: `-0.0` and `0.0`, every NaN, `1.5` and `1.50` each have one
//! encoding, so a unique index agrees with `=`.

use std::cmp::Ordering;

use rust_decimal::Decimal;

use super::datetime;
use super::numeric;
use super::Value;

/// A value's rank among unrelated types (only used when no other rule applies).
fn rank(value: &Value) -> u8 {
    match value {
        Value::Int2(_)
        | Value::Int4(_)
        | Value::Int8(_)
        | Value::Float4(_)
        | Value::Float8(_)
        | Value::Numeric(_) => 1,
        Value::Text(_) => 2,
        Value::Bool(_) => 3,
        Value::Char(_) => 4,
        Value::Oid(_) => 5,
        Value::Timestamp(_) | Value::TimestampTz(_) | Value::Date(_) => 6,
        Value::Array(_) => 7,
        Value::Interval(_) => 8,
        Value::Bytea(_) => 9,
        Value::Uuid(_) => 10,
        Value::Jsonb(_) => 11,
        Value::Null => 12,
    }
}

fn int_of(value: &Value) -> Option<i64> {
    match value {
        Value::Int2(i) => Some(i64::from(*i)),
        Value::Int4(i) => Some(i64::from(*i)),
        Value::Int8(i) => Some(*i),
        _ => None,
    }
}

fn float_of(value: &Value) -> Option<f64> {
    match value {
        Value::Float4(f) => Some(f64::from(*f)),
        Value::Float8(f) => Some(*f),
        _ => None,
    }
}

/// PostgreSQL's float order: NaN above everything and equal to itself, -0 = 0.
fn compare_floats(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
    }
}

/// A date or timestamp as microseconds, for comparing across the two.
fn instant_of(value: &Value) -> Option<i64> {
    match value {
        Value::Timestamp(t) | Value::TimestampTz(t) => Some(*t),
        Value::Date(d) => Some(datetime::date_to_timestamp(*d).unwrap_or(if *d < 0 {
            i64::MIN
        } else {
            i64::MAX
        })),
        _ => None,
    }
}

/// Total order used by ORDER BY, GROUP BY, DISTINCT and keys: NULLs last, numbers of
/// different widths compared by value, floats with NaN above all numbers, text by bytes
/// (C collation).
pub fn compare(left: &Value, right: &Value) -> Ordering {
    use Value::*;
    match (left, right) {
        (Null, Null) => Ordering::Equal,
        (Null, _) => Ordering::Greater,
        (_, Null) => Ordering::Less,
        (Numeric(a), Numeric(b)) => a.cmp(b),
        (Text(a), Text(b)) => a.as_bytes().cmp(b.as_bytes()),
        (Bool(a), Bool(b)) => a.cmp(b),
        (Char(a), Char(b)) => a.cmp(b),
        (Oid(a), Oid(b)) => a.cmp(b),
        (Date(a), Date(b)) => a.cmp(b),
        (Interval(a), Interval(b)) => a.normalized().cmp(&b.normalized()),
        (Bytea(a), Bytea(b)) => a.cmp(b),
        (Uuid(a), Uuid(b)) => a.cmp(b),
        (Jsonb(a), Jsonb(b)) => a.compare_top(b),
        (Array(a), Array(b)) => {
            for (x, y) in a.iter().zip(b) {
                let o = compare(x, y);
                if o != Ordering::Equal {
                    return o;
                }
            }
            a.len().cmp(&b.len())
        }
        _ => {
            if let (Some(a), Some(b)) = (int_of(left), int_of(right)) {
                return a.cmp(&b);
            }
            if let (Some(a), Some(b)) = (instant_of(left), instant_of(right)) {
                return a.cmp(&b);
            }
            match (left, right) {
                (Numeric(a), other) if int_of(other).is_some() => {
                    a.cmp(&Decimal::from(int_of(other).unwrap_or_default()))
                }
                (other, Numeric(b)) if int_of(other).is_some() => {
                    Decimal::from(int_of(other).unwrap_or_default()).cmp(b)
                }
                _ => {
                    let as_f64 = |v: &Value| match v {
                        Numeric(d) => Some(numeric::to_f64(d)),
                        v => float_of(v).or_else(|| int_of(v).map(|i| i as f64)),
                    };
                    match (as_f64(left), as_f64(right)) {
                        (Some(a), Some(b)) => compare_floats(a, b),
                        _ => rank(left).cmp(&rank(right)),
                    }
                }
            }
        }
    }
}

const TAG_INT: u8 = 0x10;
const TAG_OID: u8 = 0x14;
const TAG_TIMESTAMP: u8 = 0x18;
const TAG_FLOAT: u8 = 0x20;
const TAG_NUMERIC: u8 = 0x30;
const TAG_TEXT: u8 = 0x40;
const TAG_BOOL: u8 = 0x50;
const TAG_CHAR: u8 = 0x58;
const TAG_ARRAY: u8 = 0x60;
const TAG_INTERVAL: u8 = 0x70;
const TAG_BYTEA: u8 = 0x78;
const TAG_UUID: u8 = 0x7C;
const TAG_JSONB: u8 = 0x80;
const TAG_NULL: u8 = 0xFF;

/// Order-preserving ("memcomparable") encoding of a key: for two keys of the same
/// types, byte order equals [`compare`] order. Integers of every width encode as the
/// same 8-byte sign-flipped big-endian form, so int4 and int8 keys agree.
pub fn encode_key(values: &[Value], out: &mut Vec<u8>) {
    for value in values {
        encode_key_value(value, out);
    }
}

fn sign_flipped(i: i64) -> [u8; 8] {
    ((i as u64) ^ (1 << 63)).to_be_bytes()
}

fn encode_key_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.push(TAG_NULL),
        Value::Int2(_) | Value::Int4(_) | Value::Int8(_) => {
            out.push(TAG_INT);
            out.extend_from_slice(&sign_flipped(int_of(value).unwrap_or_default()));
        }
        Value::Date(d) => {
            out.push(TAG_INT);
            out.extend_from_slice(&sign_flipped(i64::from(*d)));
        }
        Value::Timestamp(t) | Value::TimestampTz(t) => {
            out.push(TAG_TIMESTAMP);
            out.extend_from_slice(&sign_flipped(*t));
        }
        Value::Oid(o) => {
            out.push(TAG_OID);
            out.extend_from_slice(&o.to_be_bytes());
        }
        Value::Float4(_) | Value::Float8(_) => {
            let f = float_of(value).unwrap_or_default();
            // One encoding per equal value: all NaNs alike, -0 as 0.
            let f = if f.is_nan() {
                f64::NAN
            } else if f == 0.0 {
                0.0
            } else {
                f
            };
            let bits = f.to_bits();
            let flipped = if bits >> 63 == 1 { !bits } else { bits | (1 << 63) };
            out.push(TAG_FLOAT);
            out.extend_from_slice(&flipped.to_be_bytes());
        }
        Value::Numeric(d) => {
            out.push(TAG_NUMERIC);
            encode_numeric_key(d, out);
        }
        Value::Text(s) => {
            out.push(TAG_TEXT);
            encode_bytes_key(s.as_bytes(), out);
        }
        Value::Interval(iv) => {
            out.push(TAG_INTERVAL);
            let flipped = (iv.normalized() as u128) ^ (1 << 127);
            out.extend_from_slice(&flipped.to_be_bytes());
        }
        Value::Bytea(b) => {
            out.push(TAG_BYTEA);
            encode_bytes_key(b, out);
        }
        Value::Uuid(u) => {
            out.push(TAG_UUID);
            out.extend_from_slice(u);
        }
        Value::Jsonb(j) => {
            out.push(TAG_JSONB);
            j.encode_key(out);
        }
        Value::Bool(b) => out.extend_from_slice(&[TAG_BOOL, u8::from(*b)]),
        Value::Char(c) => out.extend_from_slice(&[TAG_CHAR, *c]),
        Value::Array(items) => {
            out.push(TAG_ARRAY);
            for item in items {
                out.push(0x01);
                encode_key_value(item, out);
            }
            out.push(0x00);
        }
    }
}

/// Bytes with 0x00 escaped as 00 FF, ended by 00 01: prefix-free and order-preserving.
pub(super) fn encode_bytes_key(bytes: &[u8], out: &mut Vec<u8>) {
    for &b in bytes {
        if b == 0 {
            out.extend_from_slice(&[0x00, 0xFF]);
        } else {
            out.push(b);
        }
    }
    out.extend_from_slice(&[0x00, 0x01]);
}

/// Numeric as `0.d1d2…dn × 10^e` (normalized, no trailing zeros): class byte, then for
/// positives `e + 64` and digits `d + 1` ended by 0x00; negatives complement both (and
/// end with 0xFF), so a larger magnitude sorts first.
pub(super) fn encode_numeric_key(value: &Decimal, out: &mut Vec<u8>) {
    let normalized = value.normalize();
    if normalized.is_zero() {
        out.push(2);
        return;
    }
    let negative = normalized.is_sign_negative();
    let digits = normalized.mantissa().unsigned_abs().to_string();
    let exponent = digits.len() as i64 - i64::from(normalized.scale());
    let exponent_byte = (exponent + 64).clamp(0, 255) as u8;
    if negative {
        out.push(1);
        out.push(255 - exponent_byte);
        out.extend(digits.bytes().map(|b| 10 - (b - b'0')));
        out.push(0xFF);
    } else {
        out.push(3);
        out.push(exponent_byte);
        out.extend(digits.bytes().map(|b| b - b'0' + 1));
        out.push(0x00);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    #[test]
    fn compare_follows_postgres_rules() {
        use Value::*;
        assert_eq!(compare(&Null, &Int4(1)), Ordering::Greater);
        assert_eq!(compare(&Int2(1), &Int8(1)), Ordering::Equal);
        assert_eq!(compare(&Int4(2), &Numeric(Decimal::new(15, 1))), Ordering::Greater);
        assert_eq!(compare(&Float8(f64::NAN), &Float8(f64::INFINITY)), Ordering::Greater);
        assert_eq!(compare(&Float8(f64::NAN), &Float4(f32::NAN)), Ordering::Equal);
        assert_eq!(compare(&Float8(-0.0), &Float8(0.0)), Ordering::Equal);
        assert_eq!(
            compare(&Numeric(Decimal::new(150, 2)), &Numeric(Decimal::new(15, 1))),
            Ordering::Equal
        );
        assert_eq!(compare(&Text("a".into()), &Text("ab".into())), Ordering::Less);
        assert_eq!(compare(&Text("B".into()), &Text("a".into())), Ordering::Less);
        assert_eq!(compare(&Date(1), &Timestamp(86_400_000_000)), Ordering::Equal);
        let a = Array(vec![Int4(1), Null]);
        assert_eq!(compare(&a, &Array(vec![Int4(1), Int4(9)])), Ordering::Greater);
        assert_eq!(compare(&Array(vec![Int4(1)]), &a), Ordering::Less);
    }

    fn random_value(rng: &mut StdRng, kind: u8) -> Value {
        match kind {
            0 => Value::Int4(rng.gen_range(-5..5) * rng.gen_range(1..1_000_000)),
            1 => Value::Int8(match rng.gen_range(0..4) {
                0 => i64::MIN,
                1 => i64::MAX,
                _ => rng.gen_range(-1000..1000),
            }),
            2 => Value::Float8(match rng.gen_range(0..8) {
                0 => f64::NAN,
                1 => f64::INFINITY,
                2 => f64::NEG_INFINITY,
                3 => -0.0,
                4 => 0.0,
                _ => rng.gen_range(-1e6..1e6) * 10f64.powi(rng.gen_range(-20..20)),
            }),
            3 => {
                let mantissa: i64 = rng.gen_range(-100_000..100_000);
                Value::Numeric(Decimal::new(mantissa, rng.gen_range(0..8)))
            }
            4 => {
                let len = rng.gen_range(0..4);
                Value::Text(
                    (0..len).map(|_| ['\0', 'a', 'b', 'é', ' '][rng.gen_range(0..5)]).collect(),
                )
            }
            5 => Value::TimestampTz(rng.gen_range(-5..5) * 1_000_000_000),
            6 => Value::Array((0..rng.gen_range(0..3)).map(|_| random_value(rng, 0)).collect()),
            7 => Value::Bool(rng.gen()),
            9 => Value::Interval(super::super::Interval {
                months: rng.gen_range(-3..3),
                days: rng.gen_range(-40..40),
                micros: rng.gen_range(-3..3) * 86_400_000_000 + rng.gen_range(-5..5),
            }),
            10 => Value::Bytea(
                (0..rng.gen_range(0..4)).map(|_| [0u8, 1, 255][rng.gen_range(0..3)]).collect(),
            ),
            11 => {
                let docs = [
                    "[]",
                    "null",
                    "1",
                    "1.0",
                    "2",
                    "\"a\"",
                    "[1]",
                    "[1, 2]",
                    "{\"a\": 1}",
                    "{}",
                    "true",
                ];
                Value::Jsonb(Box::new(
                    super::super::parse_jsonb(docs[rng.gen_range(0..docs.len())]).unwrap(),
                ))
            }
            _ => Value::Oid(rng.gen_range(0..3) * 2_000_000_000),
        }
    }

    #[test]
    fn key_order_matches_compare() {
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..20_000 {
            let kinds: Vec<u8> = (0..rng.gen_range(1..3)).map(|_| rng.gen_range(0..12)).collect();
            let a: Vec<Value> = kinds.iter().map(|k| random_value(&mut rng, *k)).collect();
            let b: Vec<Value> = kinds.iter().map(|k| random_value(&mut rng, *k)).collect();
            let want = a
                .iter()
                .zip(&b)
                .map(|(x, y)| compare(x, y))
                .find(|o| *o != Ordering::Equal)
                .unwrap_or(Ordering::Equal);
            let (mut ka, mut kb) = (Vec::new(), Vec::new());
            encode_key(&a, &mut ka);
            encode_key(&b, &mut kb);
            assert_eq!(ka.cmp(&kb), want, "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn integer_widths_share_a_key() {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        encode_key(&[Value::Int2(-3)], &mut a);
        encode_key(&[Value::Int8(-3)], &mut b);
        assert_eq!(a, b);
        let mut null = Vec::new();
        encode_key(&[Value::Null], &mut null);
        assert!(null > a);
    }
}
