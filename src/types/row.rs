//! The storage encoding of a row, for the WAL and fjall: compact, self-describing, and
//! exact (every [`Value`] round-trips bit for bit, NaN payloads and `-0.0` included).
//!
//! ```text
//!   row    := version(0x01) varint(count) value*
//!   value  := tag payload
//!     0 NULL      1 bool u8        2 int2 i16le     3 int4 i32le    4 int8 i64le
//!     5 float4 u32le bits          6 float8 u64le bits              7 numeric [u8;16]
//!     8 text varint(len) utf8      9 "char" u8     10 oid u32le    11 timestamp i64le
//!    12 timestamptz i64le         13 date i32le    14 array varint(count) value*
//!    15 interval i32le months, i32le days, i64le µs              16 bytea varint(len) bytes
//!    17 uuid [u8;16]              18 jsonb varint(len) canonical text (re-parsed)
//! ```
//!
//! Decoding trusts nothing: a truncated buffer, an unknown tag, invalid UTF-8, a bad
//! numeric scale or trailing bytes are `Error::internal`, never a panic. Arrays nest at
//! most [`MAX_DEPTH`] deep so a corrupt buffer cannot exhaust the stack.

use rust_decimal::Decimal;

use super::Value;
use crate::error::{Error, Result};

const VERSION: u8 = 1;
/// Deepest array nesting `decode_row` accepts.
const MAX_DEPTH: usize = 16;

/// Compact self-describing binary encoding of a row, for the WAL and fjall.
pub fn encode_row(values: &[Value], out: &mut Vec<u8>) {
    out.push(VERSION);
    put_varint(values.len() as u64, out);
    for value in values {
        encode_value(value, out);
    }
}

fn put_varint(mut n: u64, out: &mut Vec<u8>) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn encode_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.push(0),
        Value::Bool(b) => out.extend_from_slice(&[1, u8::from(*b)]),
        Value::Int2(i) => {
            out.push(2);
            out.extend_from_slice(&i.to_le_bytes());
        }
        Value::Int4(i) => {
            out.push(3);
            out.extend_from_slice(&i.to_le_bytes());
        }
        Value::Int8(i) => {
            out.push(4);
            out.extend_from_slice(&i.to_le_bytes());
        }
        Value::Float4(f) => {
            out.push(5);
            out.extend_from_slice(&f.to_bits().to_le_bytes());
        }
        Value::Float8(f) => {
            out.push(6);
            out.extend_from_slice(&f.to_bits().to_le_bytes());
        }
        Value::Numeric(d) => {
            out.push(7);
            out.extend_from_slice(&d.serialize());
        }
        Value::Text(s) => {
            out.push(8);
            put_varint(s.len() as u64, out);
            out.extend_from_slice(s.as_bytes());
        }
        Value::Char(c) => out.extend_from_slice(&[9, *c]),
        Value::Oid(o) => {
            out.push(10);
            out.extend_from_slice(&o.to_le_bytes());
        }
        Value::Timestamp(t) => {
            out.push(11);
            out.extend_from_slice(&t.to_le_bytes());
        }
        Value::TimestampTz(t) => {
            out.push(12);
            out.extend_from_slice(&t.to_le_bytes());
        }
        Value::Date(d) => {
            out.push(13);
            out.extend_from_slice(&d.to_le_bytes());
        }
        Value::Interval(iv) => {
            out.push(15);
            out.extend_from_slice(&iv.months.to_le_bytes());
            out.extend_from_slice(&iv.days.to_le_bytes());
            out.extend_from_slice(&iv.micros.to_le_bytes());
        }
        Value::Bytea(b) => {
            out.push(16);
            put_varint(b.len() as u64, out);
            out.extend_from_slice(b);
        }
        Value::Uuid(u) => {
            out.push(17);
            out.extend_from_slice(u);
        }
        Value::Jsonb(j) => {
            let text = super::jsonb::format_jsonb(j);
            out.push(18);
            put_varint(text.len() as u64, out);
            out.extend_from_slice(text.as_bytes());
        }
        Value::Array(items) => {
            out.push(14);
            put_varint(items.len() as u64, out);
            for item in items {
                encode_value(item, out);
            }
        }
    }
}

fn corrupt(what: &str) -> Error {
    Error::internal(format!("corrupt row encoding: {what}"))
}

/// A cursor over an encoded row.
struct Decoder<'a> {
    bytes: &'a [u8],
}

impl<'a> Decoder<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.bytes.len() < n {
            return Err(corrupt("truncated"));
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        self.take(N)?.try_into().map_err(|_| corrupt("truncated"))
    }

    fn varint(&mut self) -> Result<u64> {
        let mut n: u64 = 0;
        for shift in (0..64).step_by(7) {
            let [b] = self.array::<1>()?;
            n |= u64::from(b & 0x7F) << shift;
            if b & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err(corrupt("varint too long"))
    }

    /// A count of items that each take at least one byte: bounded by what is left.
    fn count(&mut self) -> Result<usize> {
        let n = self.varint()?;
        if n > self.bytes.len() as u64 {
            return Err(corrupt("count exceeds buffer"));
        }
        Ok(n as usize)
    }

    fn value(&mut self, depth: usize) -> Result<Value> {
        let [tag] = self.array::<1>()?;
        Ok(match tag {
            0 => Value::Null,
            1 => match self.array::<1>()? {
                [0] => Value::Bool(false),
                [1] => Value::Bool(true),
                _ => return Err(corrupt("bad bool")),
            },
            2 => Value::Int2(i16::from_le_bytes(self.array()?)),
            3 => Value::Int4(i32::from_le_bytes(self.array()?)),
            4 => Value::Int8(i64::from_le_bytes(self.array()?)),
            5 => Value::Float4(f32::from_bits(u32::from_le_bytes(self.array()?))),
            6 => Value::Float8(f64::from_bits(u64::from_le_bytes(self.array()?))),
            7 => {
                let raw: [u8; 16] = self.array()?;
                let flags = u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]);
                if flags & 0x7F00_FFFF != 0 || (flags >> 16) & 0xFF > 28 {
                    return Err(corrupt("bad numeric flags"));
                }
                Value::Numeric(Decimal::deserialize(raw))
            }
            8 => {
                let len = self.count()?;
                let bytes = self.take(len)?;
                Value::Text(
                    std::str::from_utf8(bytes).map_err(|_| corrupt("invalid UTF-8"))?.to_owned(),
                )
            }
            9 => Value::Char(self.array::<1>()?[0]),
            10 => Value::Oid(u32::from_le_bytes(self.array()?)),
            11 => Value::Timestamp(i64::from_le_bytes(self.array()?)),
            12 => Value::TimestampTz(i64::from_le_bytes(self.array()?)),
            13 => Value::Date(i32::from_le_bytes(self.array()?)),
            14 => {
                if depth >= MAX_DEPTH {
                    return Err(corrupt("arrays nested too deeply"));
                }
                let count = self.count()?;
                let items = (0..count).map(|_| self.value(depth + 1)).collect::<Result<_>>()?;
                Value::Array(items)
            }
            15 => Value::Interval(super::Interval {
                months: i32::from_le_bytes(self.array()?),
                days: i32::from_le_bytes(self.array()?),
                micros: i64::from_le_bytes(self.array()?),
            }),
            16 => {
                let len = self.count()?;
                Value::Bytea(self.take(len)?.to_vec())
            }
            17 => Value::Uuid(self.array()?),
            18 => {
                let len = self.count()?;
                let text =
                    std::str::from_utf8(self.take(len)?).map_err(|_| corrupt("invalid UTF-8"))?;
                let doc = super::jsonb::parse_jsonb(text).map_err(|_| corrupt("invalid jsonb"))?;
                Value::Jsonb(Box::new(doc))
            }
            other => return Err(corrupt(&format!("unknown tag {other}"))),
        })
    }
}

/// Inverse of [`encode_row`]. A corrupt row is an `Internal` error, never a panic.
pub fn decode_row(bytes: &[u8]) -> Result<Vec<Value>> {
    let mut d = Decoder { bytes };
    let [version] = d.array::<1>()?;
    if version != VERSION {
        return Err(corrupt(&format!("unknown version {version}")));
    }
    let count = d.count()?;
    let values = (0..count).map(|_| d.value(0)).collect::<Result<Vec<_>>>()?;
    if !d.bytes.is_empty() {
        return Err(corrupt("trailing bytes"));
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    fn sample_row() -> Vec<Value> {
        vec![
            Value::Null,
            Value::Bool(true),
            Value::Int2(-2),
            Value::Int4(i32::MIN),
            Value::Int8(i64::MAX),
            Value::Float4(-0.0),
            Value::Float8(f64::from_bits(0x7FF8_0000_0000_0001)),
            Value::Numeric(Decimal::new(-12345, 3)),
            Value::Text("héllo\0".repeat(50)),
            Value::Char(0xFF),
            Value::Oid(u32::MAX),
            Value::Timestamp(i64::MIN),
            Value::TimestampTz(-1),
            Value::Date(i32::MAX),
            Value::Array(vec![Value::Text("a".into()), Value::Null, Value::Array(vec![])]),
            Value::Interval(super::super::Interval { months: -1, days: 2, micros: i64::MIN }),
            Value::Bytea(vec![0, 1, 255]),
            Value::Uuid([7; 16]),
            Value::Jsonb(Box::new(
                super::super::parse_jsonb(r#"{"a": [1.50, null, "x"]}"#).unwrap(),
            )),
        ]
    }

    #[test]
    fn rows_round_trip_bit_for_bit() {
        let row = sample_row();
        let mut buf = Vec::new();
        encode_row(&row, &mut buf);
        let back = decode_row(&buf).unwrap();
        // Debug output distinguishes -0.0 and shows NaN; compare float bits directly too.
        assert_eq!(format!("{back:?}"), format!("{row:?}"));
        match (&back[6], &back[5]) {
            (Value::Float8(nan), Value::Float4(zero)) => {
                assert_eq!(nan.to_bits(), 0x7FF8_0000_0000_0001);
                assert_eq!(zero.to_bits(), (-0.0f32).to_bits());
            }
            other => panic!("{other:?}"),
        }
        let mut empty = Vec::new();
        encode_row(&[], &mut empty);
        assert_eq!(decode_row(&empty).unwrap(), vec![]);
    }

    #[test]
    fn corrupt_rows_are_errors_not_panics() {
        let mut buf = Vec::new();
        encode_row(&sample_row(), &mut buf);
        for cut in 0..buf.len() {
            assert!(decode_row(&buf[..cut]).is_err(), "truncated at {cut}");
        }
        let mut rng = StdRng::seed_from_u64(3);
        for _ in 0..5_000 {
            let mut garbled = buf.clone();
            for _ in 0..rng.gen_range(1..4) {
                let i = rng.gen_range(0..garbled.len());
                garbled[i] = rng.gen();
            }
            let _ = decode_row(&garbled);
            let noise: Vec<u8> = (0..rng.gen_range(0..40)).map(|_| rng.gen()).collect();
            let _ = decode_row(&noise);
        }
        let mut deep = vec![VERSION, 1];
        deep.extend(std::iter::repeat_n([14u8, 1], 100).flatten());
        deep.push(0);
        assert!(decode_row(&deep).is_err());
        let mut trailing = buf.clone();
        trailing.push(0);
        assert!(decode_row(&trailing).is_err());
    }
}
