//! Calendar functions over intervals and fields: justify_hours / justify_days /
//! justify_interval, make_date, make_timestamp, age(a, b), and EXTRACT / date_part of
//! an interval, with PostgreSQL 15's arithmetic (a month is 30 days when justified, a
//! year 365.25 days in an interval's epoch; age borrows from the earlier month's
//! length).

use chrono::{Datelike, NaiveDate, Timelike};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use crate::error::{Error, ErrorKind, Result};
use crate::types::{DataType, Interval, Value, Zone};

use super::datetime::{micros_of, to_datetime};
use super::{float, int, text, Builtin, Resolved};

const DAY: i64 = 86_400_000_000;

/// A calendar function of this module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalendarFn {
    /// justify_hours(interval): whole days out of the time part.
    JustifyHours,
    /// justify_days(interval): whole months (30 days) out of the days.
    JustifyDays,
    /// justify_interval(interval): both, with one sign throughout.
    JustifyInterval,
    /// make_date(year, month, day).
    MakeDate,
    /// make_timestamp(year, month, day, hour, minute, seconds).
    MakeTimestamp,
    /// age(a, b): a - b in years, months and days.
    Age,
    /// EXTRACT(field FROM interval) → numeric.
    ExtractInterval,
    /// date_part(field, interval) → float8.
    DatePartInterval,
    /// timezone(zone, timestamptz) → the local timestamp there, and
    /// timezone(zone, timestamp) → the instant of that local time there (`AT TIME
    /// ZONE`); the zone a name or an interval.
    AtZone,
}

/// Resolves a function of this module (None: not one of its names or argument types).
pub(super) fn resolve(name: &str, args: &[DataType]) -> Option<Resolved> {
    use DataType::*;
    let n = args.len();
    let iv = Some(Interval);
    let int_like = |t: &DataType| matches!(t, Int2 | Int4 | Int8 | Unknown);
    let (f, ty, targets) = match name {
        "justify_hours" | "justify_days" | "justify_interval"
            if n == 1 && matches!(args[0], Interval | Unknown) =>
        {
            let f = match name {
                "justify_hours" => CalendarFn::JustifyHours,
                "justify_days" => CalendarFn::JustifyDays,
                _ => CalendarFn::JustifyInterval,
            };
            (f, Interval, vec![iv])
        }
        "make_date" if n == 3 && args.iter().all(int_like) => {
            (CalendarFn::MakeDate, Date, vec![Some(Int4); 3])
        }
        "make_timestamp" if n == 6 && args[..5].iter().all(int_like) => {
            let mut t = vec![Some(Int4); 5];
            t.push(Some(Float8));
            (CalendarFn::MakeTimestamp, Timestamp, t)
        }
        "age" if n == 2 && args.iter().all(|t| matches!(t, Timestamp | Date | Unknown)) => {
            (CalendarFn::Age, Interval, vec![Some(Timestamp); 2])
        }
        "age" if n == 2 && args.iter().all(|t| matches!(t, TimestampTz | Unknown)) => {
            (CalendarFn::Age, Interval, vec![Some(TimestampTz); 2])
        }
        "timezone"
            if n == 2 && (super::super::functions::text_like(&args[0]) || args[0] == Interval) =>
        {
            let zone = if args[0] == Interval { iv } else { Some(Text) };
            match args[1] {
                Timestamp => (CalendarFn::AtZone, TimestampTz, vec![zone, None]),
                TimestampTz | Date | Unknown => {
                    (CalendarFn::AtZone, Timestamp, vec![zone, Some(TimestampTz)])
                }
                _ => return None,
            }
        }
        "extract" | "date_part"
            if n == 2 && super::super::functions::text_like(&args[0]) && args[1] == Interval =>
        {
            let (f, r) = if name == "extract" {
                (CalendarFn::ExtractInterval, Numeric(None))
            } else {
                (CalendarFn::DatePartInterval, Float8)
            };
            (f, r, vec![Some(Text), None])
        }
        _ => return None,
    };
    Some((Builtin::Calendar(f), ty, targets))
}

fn interval(v: &Value) -> Result<Interval> {
    match v {
        Value::Interval(i) => Ok(*i),
        _ => Err(Error::internal("interval function on a non-interval")),
    }
}

fn overflow() -> Error {
    Error::new(ErrorKind::DatetimeFieldOverflow, "interval out of range")
}

/// Whole days out of the time part, then one sign for days and time.
fn justify_hours(mut i: Interval) -> Result<Interval> {
    let whole = i.micros / DAY;
    i.micros -= whole * DAY;
    i.days =
        i.days.checked_add(i32::try_from(whole).map_err(|_| overflow())?).ok_or_else(overflow)?;
    if i.days > 0 && i.micros < 0 {
        i.micros += DAY;
        i.days -= 1;
    } else if i.days < 0 && i.micros > 0 {
        i.micros -= DAY;
        i.days += 1;
    }
    Ok(i)
}

fn justify_days(mut i: Interval) -> Result<Interval> {
    let whole = i.days / 30;
    i.days -= whole * 30;
    i.months = i.months.checked_add(whole).ok_or_else(overflow)?;
    if i.months > 0 && i.days < 0 {
        i.days += 30;
        i.months -= 1;
    } else if i.months < 0 && i.days > 0 {
        i.days -= 30;
        i.months += 1;
    }
    Ok(i)
}

/// PostgreSQL's interval_justify_interval.
fn justify_interval(mut i: Interval) -> Result<Interval> {
    if (i.days > 0 && i.micros > 0) || (i.days < 0 && i.micros < 0) {
        let whole = i.micros / DAY;
        i.micros -= whole * DAY;
        i.days = i
            .days
            .checked_add(i32::try_from(whole).map_err(|_| overflow())?)
            .ok_or_else(overflow)?;
    }
    let whole = i.days / 30;
    i.days -= whole * 30;
    i.months = i.months.checked_add(whole).ok_or_else(overflow)?;
    if i.months > 0 && (i.days < 0 || (i.days == 0 && i.micros < 0)) {
        i.days += 30;
        i.months -= 1;
    } else if i.months < 0 && (i.days > 0 || (i.days == 0 && i.micros > 0)) {
        i.days -= 30;
        i.months += 1;
    }
    justify_hours(i)
}

fn days_in_month(year: i32, month: u32) -> i64 {
    let next = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
    match (NaiveDate::from_ymd_opt(year, month, 1), NaiveDate::from_ymd_opt(next.0, next.1, 1)) {
        (Some(a), Some(b)) => (b - a).num_days(),
        _ => 30,
    }
}

/// PostgreSQL's timestamp_age: field-wise difference, negative fields borrowing from
/// the next larger one (a day borrows the length of the earlier timestamp's month).
fn age(a: &Value, b: &Value, zone: Zone) -> Result<Interval> {
    let (t1, t2) = (to_datetime(a, zone)?, to_datetime(b, zone)?);
    let flip = t1 < t2;
    let sign = if flip { -1 } else { 1 };
    let usec = |t: &chrono::NaiveDateTime| t.nanosecond() as i64 / 1000;
    let mut f = [
        sign * (usec(&t1) - usec(&t2)),
        sign * (t1.second() as i64 - t2.second() as i64),
        sign * (t1.minute() as i64 - t2.minute() as i64),
        sign * (t1.hour() as i64 - t2.hour() as i64),
        sign * (t1.day() as i64 - t2.day() as i64),
        sign * (t1.month() as i64 - t2.month() as i64),
        sign * (t1.year() as i64 - t2.year() as i64),
    ];
    let base = [1_000_000, 60, 60, 24];
    for k in 0..4 {
        while f[k] < 0 {
            f[k] += base[k];
            f[k + 1] -= 1;
        }
    }
    let earlier = if flip { &t1 } else { &t2 };
    while f[4] < 0 {
        f[4] += days_in_month(earlier.year(), earlier.month());
        f[5] -= 1;
    }
    while f[5] < 0 {
        f[5] += 12;
        f[6] -= 1;
    }
    let f = f.map(|x| x * sign);
    let months = i32::try_from(f[6] * 12 + f[5]).map_err(|_| overflow())?;
    let days = i32::try_from(f[4]).map_err(|_| overflow())?;
    let micros = ((f[3] * 60 + f[2]) * 60 + f[1]) * 1_000_000 + f[0];
    Ok(Interval { months, days, micros })
}

/// EXTRACT(field FROM interval) as (value scaled by 10^scale, scale).
fn interval_field(field: &str, i: &Interval) -> Result<(i128, u32)> {
    let (months, days, micros) = (i.months as i128, i.days as i128, i.micros as i128);
    Ok(match field {
        "epoch" => {
            let years = months / 12;
            // 365.25 days a year, 30 a month, in microseconds.
            let m = years * 36525 * 864_000_000 + (months % 12) * 30 * DAY as i128;
            (m + days * DAY as i128 + micros, 6)
        }
        "millennium" | "millennia" => (months / 12 / 1000, 0),
        "century" | "centuries" => (months / 12 / 100, 0),
        "decade" | "decades" => (months / 12 / 10, 0),
        "year" | "years" => (months / 12, 0),
        "quarter" => ((months % 12) / 3 + 1, 0),
        "month" | "months" => (months % 12, 0),
        "day" | "days" => (days, 0),
        "hour" | "hours" => (micros / 3_600_000_000, 0),
        "minute" | "minutes" => ((micros / 60_000_000) % 60, 0),
        "second" | "seconds" => (micros % 60_000_000, 6),
        "millisecond" | "milliseconds" => (micros % 60_000_000, 3),
        "microsecond" | "microseconds" => (micros % 60_000_000, 0),
        _ => {
            return Err(Error::new(
                ErrorKind::InvalidParameterValue,
                format!("unit \"{field}\" not recognized for type interval"),
            ))
        }
    })
}

impl CalendarFn {
    /// Calls the function (a NULL argument gives NULL).
    pub(super) fn call(self, args: &[Value], zone: Zone) -> Result<Value> {
        if args.iter().any(Value::is_null) {
            return Ok(Value::Null);
        }
        Ok(match self {
            CalendarFn::JustifyHours => Value::Interval(justify_hours(interval(&args[0])?)?),
            CalendarFn::JustifyDays => Value::Interval(justify_days(interval(&args[0])?)?),
            CalendarFn::JustifyInterval => Value::Interval(justify_interval(interval(&args[0])?)?),
            CalendarFn::MakeDate => {
                let (y, m, d) = (int(&args[0])?, int(&args[1])?, int(&args[2])?);
                Value::Date(date_days(y, m, d)?)
            }
            CalendarFn::MakeTimestamp => {
                let (y, mo, d) = (int(&args[0])?, int(&args[1])?, int(&args[2])?);
                let (h, mi, s) = (int(&args[3])?, int(&args[4])?, float(&args[5])?);
                let time_ok =
                    (0..24).contains(&h) && (0..60).contains(&mi) && (0.0..60.0).contains(&s);
                if !time_ok {
                    return Err(Error::new(
                        ErrorKind::DatetimeFieldOverflow,
                        format!("time field value out of range: {h}:{mi}:{s}"),
                    ));
                }
                let micros = (h * 3600 + mi * 60) * 1_000_000 + (s * 1_000_000.0).round() as i64;
                Value::Timestamp(date_days(y, mo, d)? as i64 * DAY + micros)
            }
            CalendarFn::Age => Value::Interval(age(&args[0], &args[1], zone)?),
            CalendarFn::AtZone => {
                let there = match &args[0] {
                    Value::Interval(iv) => Zone::from_interval(iv)?,
                    other => Zone::from_name(text(other)?)?,
                };
                match &args[1] {
                    Value::TimestampTz(t) => Value::Timestamp(there.to_local(*t)),
                    Value::Timestamp(t) => Value::TimestampTz(there.local_to_utc(*t)),
                    _ => return Err(Error::internal("AT TIME ZONE on a non-timestamp")),
                }
            }
            CalendarFn::ExtractInterval | CalendarFn::DatePartInterval => {
                let field = text(&args[0])?.to_lowercase();
                let (v, scale) = interval_field(&field, &interval(&args[1])?)?;
                let d = Decimal::from_i128_with_scale(v, scale);
                if self == CalendarFn::ExtractInterval {
                    Value::Numeric(d)
                } else {
                    Value::Float8(d.to_f64().unwrap_or(0.0))
                }
            }
        })
    }
}

/// Days since 2000-01-01 of a date given by its fields (22008 if there is none).
fn date_days(y: i64, m: i64, d: i64) -> Result<i32> {
    let date = i32::try_from(y)
        .ok()
        .filter(|y| *y != 0)
        .and_then(|y| {
            let y = if y < 0 { y + 1 } else { y };
            NaiveDate::from_ymd_opt(y, u32::try_from(m).ok()?, u32::try_from(d).ok()?)
        })
        .ok_or_else(|| {
            Error::new(
                ErrorKind::DatetimeFieldOverflow,
                format!("date field value out of range: {y}-{m:02}-{d:02}"),
            )
        })?;
    let micros = micros_of(date.and_hms_opt(0, 0, 0).unwrap_or_default());
    Ok((micros / DAY) as i32)
}
