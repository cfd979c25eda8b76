//! date_trunc, date_part and EXTRACT over timestamp, timestamptz and date, on
//! chrono's calendar; a timestamptz is taken apart as its local time in the session's
//! zone (and `date_trunc`'s result is that zone's local time, read back as an instant). EXTRACT returns numeric (PostgreSQL 14+), keeping the digits a
//! field has (`second` → 30.500000); date_part returns the same value as float8.

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use crate::error::{Error, ErrorKind, Result};
use crate::types::{Value, Zone};

use super::{text, Builtin};

const PG_EPOCH: NaiveDate = match NaiveDate::from_ymd_opt(2000, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

/// The local date and time of a date/time value (a timestamptz's in `zone`).
pub(super) fn to_datetime(v: &Value, zone: Zone) -> Result<NaiveDateTime> {
    let micros = match v {
        Value::Timestamp(m) => *m,
        Value::TimestampTz(m) => zone.to_local(*m),
        Value::Date(d) => *d as i64 * 86_400_000_000,
        _ => return Err(Error::internal("date/time function on a non-date/time")),
    };
    PG_EPOCH
        .and_hms_opt(0, 0, 0)
        .and_then(|e| e.checked_add_signed(chrono::TimeDelta::microseconds(micros)))
        .ok_or_else(|| Error::new(ErrorKind::DatetimeFieldOverflow, "timestamp out of range"))
}

pub(super) fn micros_of(dt: NaiveDateTime) -> i64 {
    let base = PG_EPOCH.and_hms_opt(0, 0, 0).unwrap_or_default();
    (dt - base).num_microseconds().unwrap_or(0)
}

/// Calls a date/time built-in.
pub(super) fn datetime(f: Builtin, args: &[Value], zone: Zone) -> Result<Value> {
    let field = text(&args[0])?.to_lowercase();
    let dt = to_datetime(&args[1], zone)?;
    if f == Builtin::DateTrunc {
        let d = dt.date();
        let day = |d: NaiveDate| d.and_hms_opt(0, 0, 0).unwrap_or_default();
        let t = match field.as_str() {
            "microseconds" => dt,
            "milliseconds" => {
                dt.with_nanosecond(dt.nanosecond() / 1_000_000 * 1_000_000).unwrap_or(dt)
            }
            "second" => dt.with_nanosecond(0).unwrap_or(dt),
            "minute" => dt.with_nanosecond(0).and_then(|x| x.with_second(0)).unwrap_or(dt),
            "hour" => dt
                .with_nanosecond(0)
                .and_then(|x| x.with_second(0))
                .and_then(|x| x.with_minute(0))
                .unwrap_or(dt),
            "day" => day(d),
            "week" => day(d - chrono::Days::new(d.weekday().num_days_from_monday() as u64)),
            "month" => day(d.with_day(1).unwrap_or(d)),
            "quarter" => {
                day(NaiveDate::from_ymd_opt(d.year(), (d.month0() / 3) * 3 + 1, 1).unwrap_or(d))
            }
            "year" => day(NaiveDate::from_ymd_opt(d.year(), 1, 1).unwrap_or(d)),
            "decade" => {
                day(NaiveDate::from_ymd_opt(d.year().div_euclid(10) * 10, 1, 1).unwrap_or(d))
            }
            "century" => {
                let y = d.year();
                let c = if y > 0 { (y - 1) / 100 * 100 + 1 } else { y };
                day(NaiveDate::from_ymd_opt(c, 1, 1).unwrap_or(d))
            }
            _ => {
                return Err(Error::new(
                    ErrorKind::InvalidParameterValue,
                    format!("unit \"{field}\" not recognized for type timestamp without time zone"),
                ))
            }
        };
        return Ok(match &args[1] {
            Value::TimestampTz(_) | Value::Date(_) => {
                Value::TimestampTz(zone.local_to_utc(micros_of(t)))
            }
            _ => Value::Timestamp(micros_of(t)),
        });
    }
    let is_date = matches!(args[1], Value::Date(_));
    if let Value::TimestampTz(utc) = args[1] {
        if let Some(v) = zone_field(&field, zone.offset_at(utc)) {
            return Ok(numeric_or_float(f, Decimal::from(v)));
        }
    }
    let secs_frac = dt.second() as i64 * 1_000_000 + (dt.nanosecond() / 1000) as i64;
    // (value scaled by 10^scale, scale) so that EXTRACT's numeric keeps its digits.
    let (scaled, scale): (i64, u32) = match field.as_str() {
        "year" => (dt.year() as i64, 0),
        "month" => (dt.month() as i64, 0),
        "day" => (dt.day() as i64, 0),
        "hour" if !is_date => (dt.hour() as i64, 0),
        "minute" if !is_date => (dt.minute() as i64, 0),
        "second" if !is_date => (secs_frac, 6),
        "millisecond" | "milliseconds" if !is_date => (secs_frac, 3),
        "microsecond" | "microseconds" if !is_date => (secs_frac, 0),
        "dow" => (dt.weekday().num_days_from_sunday() as i64, 0),
        "isodow" => (dt.weekday().number_from_monday() as i64, 0),
        "doy" => (dt.ordinal() as i64, 0),
        "week" => (dt.iso_week().week() as i64, 0),
        "quarter" => (dt.month0() as i64 / 3 + 1, 0),
        "decade" => (dt.year().div_euclid(10) as i64, 0),
        "century" => {
            let y = dt.year() as i64;
            (if y > 0 { (y + 99) / 100 } else { -((99 - (y - 1)) / 100) }, 0)
        }
        "epoch" => {
            // An instant's epoch is absolute; a local time's is as if it were UTC.
            let m = match args[1] {
                Value::TimestampTz(utc) => utc,
                _ => micros_of(dt),
            } + 946_684_800_000_000;
            if is_date {
                (m / 1_000_000, 0)
            } else {
                (m, 6)
            }
        }
        _ => {
            let ty = if is_date { "date" } else { "timestamp without time zone" };
            return Err(Error::new(
                ErrorKind::InvalidParameterValue,
                format!("unit \"{field}\" not recognized for type {ty}"),
            ));
        }
    };
    Ok(numeric_or_float(f, Decimal::from_i128_with_scale(scaled as i128, scale)))
}

/// EXTRACT's numeric, or date_part's float8.
fn numeric_or_float(f: Builtin, d: Decimal) -> Value {
    if f == Builtin::Extract {
        Value::Numeric(d)
    } else {
        Value::Float8(d.to_f64().unwrap_or(0.0))
    }
}

/// `timezone`, `timezone_hour`, `timezone_minute` of a timestamptz whose offset in the
/// session's zone is `east` seconds.
fn zone_field(field: &str, east: i32) -> Option<i64> {
    let east = i64::from(east);
    Some(match field {
        "timezone" => east,
        "timezone_hour" | "timezone_h" => east / 3600,
        "timezone_minute" | "timezone_m" => east / 60 % 60,
        _ => return None,
    })
}
