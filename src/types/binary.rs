//! Binary I/O: PostgreSQL's typsend ([`write_binary`]) and typreceive ([`parse_binary`]).
//!
//! ```text
//!   bool        1 byte 0/1            int2/4/8, oid   big-endian two's complement
//!   float4/8    IEEE 754 big-endian   text types      UTF-8 bytes, no terminator
//!   "char"      1 byte                timestamp[tz]   i64 µs since 2000-01-01
//!   date        i32 days since 2000-01-01
//!   numeric     i16 ndigits, i16 weight, u16 sign (0 / 0x4000), u16 dscale,
//!               ndigits × u16 base-10000 digits
//!   interval    i64 µs, i32 days, i32 months   bytea   the bytes
//!   uuid        16 bytes                      jsonb   version byte 1, then the text
//!   array       i32 ndim, i32 has-null, u32 element oid, per dimension (i32 size,
//!               i32 lower bound), then per element i32 length (-1 = NULL) + bytes
//! ```
//!
//! Input of the wrong length is `incorrect binary data format in bind parameter`
//! (PostgreSQL's 22P03; reported as 22000 until `ErrorKind` grows that code). String
//! types enforce their length modifier as their text input does.

use bytes::{BufMut, BytesMut};

use super::datetime;
use super::numeric::{self, PgDigits};
use super::text::{self, LengthRule};
use super::{DataType, Value};
use crate::error::{Error, ErrorKind, Result};

/// PostgreSQL's binary numeric sign words.
const NUMERIC_POS: u16 = 0x0000;
const NUMERIC_NEG: u16 = 0x4000;
const NUMERIC_NAN: u16 = 0xC000;
/// The only jsonb binary format version PostgreSQL has.
const JSONB_VERSION: u8 = 1;

fn mismatch(value: &Value, ty: &DataType) -> Error {
    Error::internal(format!("cannot send {value:?} as type {}", ty.display_name()))
}

/// Binary output (typsend) of a non-NULL value of type `ty`, appended. Integer values
/// of another width are converted (with a range check) to the declared width.
pub fn write_binary(value: &Value, ty: &DataType, out: &mut BytesMut) -> Result<()> {
    let int = |v: &Value| -> Option<i64> {
        match v {
            Value::Int2(i) => Some(i64::from(*i)),
            Value::Int4(i) => Some(i64::from(*i)),
            Value::Int8(i) => Some(*i),
            _ => None,
        }
    };
    let out_of_range =
        |name: &str| Error::new(ErrorKind::NumericValueOutOfRange, format!("{name} out of range"));
    match (ty, value) {
        (DataType::Bool, Value::Bool(b)) => out.put_u8(u8::from(*b)),
        (DataType::Int2, v) if int(v).is_some() => {
            let i = int(v).unwrap_or_default();
            out.put_i16(i16::try_from(i).map_err(|_| out_of_range("smallint"))?);
        }
        (DataType::Int4, v) if int(v).is_some() => {
            let i = int(v).unwrap_or_default();
            out.put_i32(i32::try_from(i).map_err(|_| out_of_range("integer"))?);
        }
        (DataType::Int8, v) if int(v).is_some() => out.put_i64(int(v).unwrap_or_default()),
        (DataType::Float4, Value::Float4(f)) => out.put_f32(*f),
        (DataType::Float8, Value::Float8(f)) => out.put_f64(*f),
        (DataType::Float8, Value::Float4(f)) => out.put_f64(f64::from(*f)),
        (DataType::Numeric(_), Value::Numeric(d)) => {
            let pg = numeric::to_pg_digits(d);
            out.put_i16(pg.digits.len() as i16);
            out.put_i16(pg.weight);
            out.put_u16(if pg.negative { NUMERIC_NEG } else { NUMERIC_POS });
            out.put_u16(pg.dscale);
            for d in &pg.digits {
                out.put_i16(*d);
            }
        }
        (
            DataType::Text
            | DataType::Varchar(_)
            | DataType::Bpchar(_)
            | DataType::Name
            | DataType::Unknown,
            Value::Text(s),
        ) => out.extend_from_slice(s.as_bytes()),
        (DataType::Char, Value::Char(c)) => out.put_u8(*c),
        (
            DataType::Oid | DataType::Regclass | DataType::Regtype | DataType::Regnamespace,
            Value::Oid(o),
        ) => out.put_u32(*o),
        (DataType::Timestamp, Value::Timestamp(t))
        | (DataType::TimestampTz, Value::TimestampTz(t)) => out.put_i64(*t),
        (DataType::Date, Value::Date(d)) => out.put_i32(*d),
        (DataType::Interval, Value::Interval(iv)) => {
            out.extend_from_slice(&super::interval::to_binary(iv))
        }
        (DataType::Bytea, Value::Bytea(b)) => out.extend_from_slice(b),
        (DataType::Uuid, Value::Uuid(u)) => out.extend_from_slice(u),
        (DataType::Jsonb, Value::Jsonb(j)) => {
            out.put_u8(JSONB_VERSION);
            out.extend_from_slice(super::jsonb::format_jsonb(j).as_bytes());
        }
        (DataType::Array(elem), Value::Array(items)) => write_array(items, elem, out)?,
        _ => return Err(mismatch(value, ty)),
    }
    Ok(())
}

fn write_array(items: &[Value], elem: &DataType, out: &mut BytesMut) -> Result<()> {
    let has_null = items.iter().any(Value::is_null);
    if items.is_empty() {
        out.put_i32(0);
        out.put_i32(0);
        out.put_u32(elem.oid());
        return Ok(());
    }
    out.put_i32(1);
    out.put_i32(i32::from(has_null));
    out.put_u32(elem.oid());
    out.put_i32(items.len() as i32);
    out.put_i32(1);
    for item in items {
        if item.is_null() {
            out.put_i32(-1);
            continue;
        }
        let len_at = out.len();
        out.put_i32(0);
        write_binary(item, elem, out)?;
        let len = (out.len() - len_at - 4) as i32;
        out[len_at..len_at + 4].copy_from_slice(&len.to_be_bytes());
    }
    Ok(())
}

/// 22000 `incorrect binary data format in bind parameter` (PostgreSQL: 22P03; the
/// caller may append the parameter number).
pub fn bad_binary() -> Error {
    Error::new(ErrorKind::DataException, "incorrect binary data format in bind parameter")
}

/// Exactly `N` bytes, or [`bad_binary`].
fn fixed<const N: usize>(bytes: &[u8]) -> Result<[u8; N]> {
    bytes.try_into().map_err(|_| bad_binary())
}

/// Binary input (typreceive) of `bytes` as type `ty`.
pub fn parse_binary(bytes: &[u8], ty: &DataType) -> Result<Value> {
    Ok(match ty {
        DataType::Bool => Value::Bool(fixed::<1>(bytes)?[0] != 0),
        DataType::Int2 => Value::Int2(i16::from_be_bytes(fixed(bytes)?)),
        DataType::Int4 => Value::Int4(i32::from_be_bytes(fixed(bytes)?)),
        DataType::Int8 => Value::Int8(i64::from_be_bytes(fixed(bytes)?)),
        DataType::Float4 => Value::Float4(f32::from_be_bytes(fixed(bytes)?)),
        DataType::Float8 => Value::Float8(f64::from_be_bytes(fixed(bytes)?)),
        DataType::Numeric(typmod) => {
            Value::Numeric(numeric::apply_typmod(parse_numeric(bytes)?, *typmod)?)
        }
        DataType::Text
        | DataType::Unknown
        | DataType::Varchar(_)
        | DataType::Bpchar(_)
        | DataType::Name => {
            let s = std::str::from_utf8(bytes).map_err(|_| {
                Error::new(
                    ErrorKind::InvalidTextRepresentation,
                    "invalid byte sequence for encoding \"UTF8\"",
                )
            })?;
            Value::Text(text::fit_string(s, ty, LengthRule::Error)?)
        }
        DataType::Char => Value::Char(fixed::<1>(bytes)?[0]),
        DataType::Oid | DataType::Regclass | DataType::Regtype | DataType::Regnamespace => {
            Value::Oid(u32::from_be_bytes(fixed(bytes)?))
        }
        DataType::Timestamp | DataType::TimestampTz => {
            let micros = i64::from_be_bytes(fixed(bytes)?);
            if !datetime::timestamp_in_range(micros) {
                return Err(Error::new(ErrorKind::DatetimeFieldOverflow, "timestamp out of range"));
            }
            if *ty == DataType::Timestamp {
                Value::Timestamp(micros)
            } else {
                Value::TimestampTz(micros)
            }
        }
        DataType::Date => {
            let days = i32::from_be_bytes(fixed(bytes)?);
            if !datetime::date_in_range(days) {
                return Err(Error::new(ErrorKind::DatetimeFieldOverflow, "date out of range"));
            }
            Value::Date(days)
        }
        DataType::Interval => Value::Interval(super::interval::from_binary(fixed(bytes)?)),
        DataType::Bytea => Value::Bytea(bytes.to_vec()),
        DataType::Uuid => Value::Uuid(fixed(bytes)?),
        DataType::Jsonb => {
            let Some((&JSONB_VERSION, body)) = bytes.split_first() else {
                return Err(Error::new(
                    ErrorKind::DataException,
                    "unsupported jsonb version number",
                ));
            };
            let text = std::str::from_utf8(body).map_err(|_| {
                Error::new(
                    ErrorKind::InvalidTextRepresentation,
                    "invalid byte sequence for encoding \"UTF8\"",
                )
            })?;
            Value::Jsonb(Box::new(super::jsonb::parse_jsonb(text)?))
        }
        DataType::Array(elem) => Value::Array(parse_array(bytes, elem)?),
    })
}

/// A cursor over a binary message; every read past the end is [`bad_binary`].
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.bytes.len() < n {
            return Err(bad_binary());
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }

    fn i16(&mut self) -> Result<i16> {
        Ok(i16::from_be_bytes(fixed(self.take(2)?)?))
    }

    fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_be_bytes(fixed(self.take(2)?)?))
    }

    fn i32(&mut self) -> Result<i32> {
        Ok(i32::from_be_bytes(fixed(self.take(4)?)?))
    }

    fn finish(&self) -> Result<()> {
        if self.bytes.is_empty() {
            Ok(())
        } else {
            Err(bad_binary())
        }
    }
}

fn parse_numeric(bytes: &[u8]) -> Result<rust_decimal::Decimal> {
    let mut r = Reader { bytes };
    let ndigits = r.i16()?;
    let weight = r.i16()?;
    let sign = r.u16()?;
    let dscale = r.u16()?;
    if ndigits < 0 {
        return Err(bad_binary());
    }
    let invalid = |what: &str| {
        Error::new(
            ErrorKind::InvalidTextRepresentation,
            format!("invalid {what} in external \"numeric\" value"),
        )
    };
    let negative = match sign {
        NUMERIC_POS => false,
        NUMERIC_NEG => true,
        NUMERIC_NAN | 0xD000 | 0xF000 => {
            return Err(Error::new(
                ErrorKind::FeatureNotSupported,
                "numeric NaN and Infinity are not supported yet",
            ))
        }
        _ => return Err(invalid("sign")),
    };
    if dscale > 0x3FFF {
        return Err(invalid("scale"));
    }
    let digits = (0..ndigits).map(|_| r.i16()).collect::<Result<Vec<_>>>()?;
    r.finish()?;
    numeric::from_pg_digits(&PgDigits { weight, negative, dscale, digits })
}

fn parse_array(bytes: &[u8], elem: &DataType) -> Result<Vec<Value>> {
    let mut r = Reader { bytes };
    let ndim = r.i32()?;
    let flags = r.i32()?;
    let elem_oid = r.i32()? as u32;
    if !(0..=6).contains(&ndim) {
        return Err(Error::new(
            ErrorKind::InvalidParameterValue,
            format!("invalid number of dimensions: {ndim}"),
        ));
    }
    if flags != 0 && flags != 1 {
        return Err(Error::new(ErrorKind::InvalidParameterValue, "invalid array flags"));
    }
    if elem_oid != elem.oid() {
        let name = |oid: u32| {
            DataType::from_oid(oid).map_or_else(|| "unknown".to_owned(), |t| t.display_name())
        };
        return Err(Error::new(
            ErrorKind::DatatypeMismatch,
            format!(
                "binary data has array element type {elem_oid} ({}) instead of expected {} ({})",
                name(elem_oid),
                elem.oid(),
                name(elem.oid())
            ),
        ));
    }
    if ndim > 1 {
        return Err(Error::new(
            ErrorKind::FeatureNotSupported,
            "multidimensional arrays are not supported yet",
        ));
    }
    if ndim == 0 {
        r.finish()?;
        return Ok(Vec::new());
    }
    let count = r.i32()?;
    let _lower_bound = r.i32()?;
    if count < 0 || count as usize > r.bytes.len() / 4 {
        return Err(bad_binary());
    }
    let mut items = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let len = r.i32()?;
        if len == -1 {
            items.push(Value::Null);
        } else if len < 0 {
            return Err(bad_binary());
        } else {
            items.push(parse_binary(r.take(len as usize)?, elem)?);
        }
    }
    r.finish()?;
    Ok(items)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::str::FromStr;

    fn send(v: &Value, ty: &DataType) -> Vec<u8> {
        let mut buf = BytesMut::new();
        write_binary(v, ty, &mut buf).unwrap();
        buf.to_vec()
    }

    #[test]
    fn scalars_match_postgres_bytes() {
        assert_eq!(send(&Value::Int4(1), &DataType::Int4), [0, 0, 0, 1]);
        assert_eq!(send(&Value::Int2(-2), &DataType::Int2), [0xFF, 0xFE]);
        assert_eq!(send(&Value::Int4(7), &DataType::Int8), [0, 0, 0, 0, 0, 0, 0, 7]);
        assert_eq!(send(&Value::Float8(1.5), &DataType::Float8), [0x3F, 0xF8, 0, 0, 0, 0, 0, 0]);
        assert_eq!(send(&Value::Bool(true), &DataType::Bool), [1]);
        assert_eq!(send(&Value::Date(1), &DataType::Date), [0, 0, 0, 1]);
        assert_eq!(send(&Value::Text("hé".into()), &DataType::Text), "hé".as_bytes());
        assert!(write_binary(&Value::Int8(1 << 40), &DataType::Int4, &mut BytesMut::new()).is_err());
        assert!(write_binary(&Value::Bool(true), &DataType::Text, &mut BytesMut::new()).is_err());
    }

    #[test]
    fn numeric_matches_postgres_bytes() {
        let v = Value::Numeric(rust_decimal::Decimal::from_str("-12.50").unwrap());
        let bytes = send(&v, &DataType::Numeric(None));
        assert_eq!(bytes, [0, 2, 0, 0, 0x40, 0, 0, 2, 0, 12, 0x13, 0x88]);
        assert_eq!(parse_binary(&bytes, &DataType::Numeric(None)).unwrap().to_owned(), v);
        let zero = send(&Value::Numeric(rust_decimal::Decimal::ZERO), &DataType::Numeric(None));
        assert_eq!(zero, [0, 0, 0, 0, 0, 0, 0, 0]);
        assert!(parse_binary(&[0, 1, 0, 0, 0, 0, 0, 0], &DataType::Numeric(None)).is_err());
    }

    #[test]
    fn arrays_match_postgres_bytes() {
        let ty = DataType::Array(Box::new(DataType::Int4));
        let v = Value::Array(vec![Value::Int4(1), Value::Null]);
        let bytes = send(&v, &ty);
        let want: Vec<u8> =
            [1i32, 1, 23, 2, 1, 4, 1, -1].iter().flat_map(|i| i.to_be_bytes()).collect();
        assert_eq!(bytes, want);
        assert_eq!(parse_binary(&bytes, &ty).unwrap(), v);
        let empty = send(&Value::Array(vec![]), &ty);
        assert_eq!(parse_binary(&empty, &ty).unwrap(), Value::Array(vec![]));
        let err = parse_binary(&bytes, &DataType::Array(Box::new(DataType::Text))).unwrap_err();
        assert_eq!(err.kind, ErrorKind::DatatypeMismatch);
        assert!(parse_binary(&bytes[..bytes.len() - 1], &ty).is_err());
    }

    #[test]
    fn wrong_lengths_are_rejected() {
        let err = parse_binary(&[0, 1], &DataType::Int4).unwrap_err();
        assert_eq!(err.message, "incorrect binary data format in bind parameter");
        assert!(parse_binary(&[0, 0, 0, 1], &DataType::Int2).is_err());
        assert!(parse_binary(&[], &DataType::Bool).is_err());
        assert_eq!(
            parse_binary(&[0, 0, 0, 0, 0, 0, 0, 5], &DataType::Int8).unwrap(),
            Value::Int8(5)
        );
        assert_eq!(
            parse_binary(b"ab", &DataType::Bpchar(Some(3))).unwrap(),
            Value::Text("ab ".into())
        );
        assert!(parse_binary(&[0xFF], &DataType::Text).is_err());
    }

    #[test]
    fn every_type_round_trips() {
        let cases = [
            (Value::Float4(-0.0), DataType::Float4),
            (Value::Char(b'r'), DataType::Char),
            (Value::Oid(4_000_000_000), DataType::Regclass),
            (Value::Timestamp(-1), DataType::Timestamp),
            (Value::TimestampTz(i64::MAX), DataType::TimestampTz),
            (Value::Text("pg_class".into()), DataType::Name),
            (
                Value::Numeric(rust_decimal::Decimal::from_str("123456.000789").unwrap()),
                DataType::Numeric(None),
            ),
            (
                Value::Array(vec![Value::Text("a".into()), Value::Null]),
                DataType::Array(Box::new(DataType::Text)),
            ),
        ];
        for (v, ty) in cases {
            let got = parse_binary(&send(&v, &ty), &ty).unwrap();
            assert_eq!(format!("{got:?}"), format!("{v:?}"), "{ty:?}");
        }
    }
}
