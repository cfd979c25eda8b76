//! `interval`: PostgreSQL's three-field representation, its text input and output in
//! the default `postgres` IntervalStyle, and the arithmetic on it.
//!
//! ```text
//!   Interval { months: i32, days: i32, micros: i64 }       binary: i64 µs, i32 days, i32 months
//!
//!   '1 year 2 mons 3 days 04:05:06'  ─▶ { 14, 3, 14_706_000_000 }
//!   '-1 day +02:00'                   ─▶ { 0, -1, 7_200_000_000 }   printed "-1 days +02:00:00"
//!   'P1Y2M3DT4H5M6S'                  ─▶ { 14, 3, 14_706_000_000 }
//! ```
//!
//! The three fields are kept apart because they are not convertible in general (a month
//! is 28 to 31 days, a day 23 to 25 hours across DST): `timestamp + interval` adds months
//! on the calendar, then days, then microseconds. Comparison, though, follows PostgreSQL
//! in normalising with 30-day months and 24-hour days, so `'1 mon' = '30 days'`, and the
//! key encoding uses that same normalised 128-bit number.
//!
//! Input accepts PostgreSQL's "postgres" style (numbers with units, `hh:mm[:ss[.f]]`,
//! signs per field, `@` and `ago`, fractional units cascading down: `'1.5 months'` is
//! `1 mon 15 days`) and ISO 8601 designators (`P1Y2M3DT4H5M6S`). Not accepted, and an
//! error rather than a guess: the ISO "alternative format" (`P0001-02-03T04:05:06`),
//! SQL-standard `'1-2'` year-month literals and interval typmods (`interval hour`).

use crate::error::{Error, ErrorKind, Result};

use super::datetime::{
    civil_from_days, days_from_civil, days_in_month, timestamp_in_range, UNIX_TO_PG_DAYS,
    USECS_PER_DAY,
};

const USECS_PER_SEC: i64 = 1_000_000;
const USECS_PER_MINUTE: i64 = 60 * USECS_PER_SEC;
const USECS_PER_HOUR: i64 = 60 * USECS_PER_MINUTE;
const DAYS_PER_MONTH: i64 = 30;
const SECS_PER_DAY: f64 = 86_400.0;

/// An interval value, exactly PostgreSQL's `Interval` struct.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Interval {
    /// Months (years are 12 months).
    pub months: i32,
    /// Days.
    pub days: i32,
    /// Microseconds.
    pub micros: i64,
}

/// 22008 `interval out of range`.
pub(crate) fn out_of_range() -> Error {
    Error::new(ErrorKind::DatetimeFieldOverflow, "interval out of range")
}

impl Interval {
    /// The value comparison and keys use: 30-day months, 24-hour days, in µs.
    pub fn normalized(&self) -> i128 {
        (i128::from(self.months) * i128::from(DAYS_PER_MONTH) + i128::from(self.days))
            * i128::from(USECS_PER_DAY)
            + i128::from(self.micros)
    }

    /// Field-wise sum (`interval + interval`).
    pub fn checked_add(&self, other: &Interval) -> Result<Interval> {
        Ok(Interval {
            months: self.months.checked_add(other.months).ok_or_else(out_of_range)?,
            days: self.days.checked_add(other.days).ok_or_else(out_of_range)?,
            micros: self.micros.checked_add(other.micros).ok_or_else(out_of_range)?,
        })
    }

    /// Field-wise negation (`-interval`).
    pub fn checked_neg(&self) -> Result<Interval> {
        Ok(Interval {
            months: self.months.checked_neg().ok_or_else(out_of_range)?,
            days: self.days.checked_neg().ok_or_else(out_of_range)?,
            micros: self.micros.checked_neg().ok_or_else(out_of_range)?,
        })
    }

    /// `interval * float8`, PostgreSQL's `interval_mul`: fractional months cascade into
    /// days (30 per month) and fractional days into seconds.
    pub fn scaled(&self, factor: f64) -> Result<Interval> {
        let to_i32 = |f: f64| -> Result<i32> {
            if f.is_nan() || !(-2_147_483_648.0..2_147_483_648.0).contains(&f) {
                Err(out_of_range())
            } else {
                Ok(f as i32)
            }
        };
        let round_us = |f: f64| (f * 1e6).round_ties_even() / 1e6;
        let month_f = f64::from(self.months) * factor;
        let day_f = f64::from(self.days) * factor;
        let months = to_i32(month_f)?;
        let mut days = to_i32(day_f)?;
        let month_remainder_days = round_us((month_f - f64::from(months)) * DAYS_PER_MONTH as f64);
        let mut sec_remainder = round_us(
            (day_f - f64::from(days) + month_remainder_days - month_remainder_days.trunc())
                * SECS_PER_DAY,
        );
        if sec_remainder.abs() >= SECS_PER_DAY {
            let whole = (sec_remainder / SECS_PER_DAY).trunc();
            days = days.checked_add(whole as i32).ok_or_else(out_of_range)?;
            sec_remainder -= whole * SECS_PER_DAY;
        }
        days = days.checked_add(month_remainder_days as i32).ok_or_else(out_of_range)?;
        let micros = (self.micros as f64 * factor + sec_remainder * 1e6).round_ties_even();
        if micros.is_nan()
            || !(-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&micros)
        {
            return Err(out_of_range());
        }
        Ok(Interval { months, days, micros: micros as i64 })
    }

    /// `interval / float8` (22012 on zero).
    pub fn divided(&self, divisor: f64) -> Result<Interval> {
        if divisor == 0.0 {
            return Err(Error::new(ErrorKind::DivisionByZero, "division by zero"));
        }
        self.scaled(1.0 / divisor)
    }
}

/// `timestamp + interval`: months on the calendar (clamping the day to the month's
/// end), then days, then microseconds.
pub(crate) fn timestamp_plus(ts: i64, iv: &Interval) -> Result<i64> {
    if ts == i64::MAX || ts == i64::MIN {
        return Ok(ts);
    }
    let ts_range = || Error::new(ErrorKind::DatetimeFieldOverflow, "timestamp out of range");
    let mut days = ts.div_euclid(USECS_PER_DAY);
    let time = ts.rem_euclid(USECS_PER_DAY);
    if iv.months != 0 {
        let (year, month, day) = civil_from_days(days + UNIX_TO_PG_DAYS);
        let total = year * 12 + i64::from(month) - 1 + i64::from(iv.months);
        let (year, month) = (total.div_euclid(12), (total.rem_euclid(12) + 1) as u32);
        let day = day.min(days_in_month(year, month));
        days = days_from_civil(year, month, day) - UNIX_TO_PG_DAYS;
    }
    days += i64::from(iv.days);
    let result = days
        .checked_mul(USECS_PER_DAY)
        .and_then(|d| d.checked_add(time))
        .and_then(|t| t.checked_add(iv.micros))
        .ok_or_else(ts_range)?;
    if !timestamp_in_range(result) || result == i64::MAX || result == i64::MIN {
        return Err(ts_range());
    }
    Ok(result)
}

/// `timestamptz + interval`: months and days move the wall clock in `zone` (a day
/// across a DST change is 23 or 25 hours), then microseconds move the instant.
pub(crate) fn timestamptz_plus(ts: i64, iv: &Interval, zone: super::Zone) -> Result<i64> {
    if ts == i64::MAX || ts == i64::MIN {
        return Ok(ts);
    }
    let mut ts = ts;
    if iv.months != 0 || iv.days != 0 {
        let calendar = Interval { months: iv.months, days: iv.days, micros: 0 };
        ts = zone.local_to_utc(timestamp_plus(zone.to_local(ts), &calendar)?);
    }
    timestamp_plus(ts, &Interval { months: 0, days: 0, micros: iv.micros })
}

/// `timestamp - timestamp`: the difference in days and time of day, same sign
/// (PostgreSQL's `timestamp_mi` with `interval_justify_hours`).
pub(crate) fn timestamp_diff(a: i64, b: i64) -> Result<Interval> {
    let infinite = |t: i64| t == i64::MAX || t == i64::MIN;
    if infinite(a) || infinite(b) {
        return Err(Error::new(
            ErrorKind::DatetimeFieldOverflow,
            "cannot subtract infinite timestamps",
        ));
    }
    let diff = a.checked_sub(b).ok_or_else(out_of_range)?;
    let days = diff / USECS_PER_DAY;
    Ok(Interval {
        months: 0,
        days: i32::try_from(days).map_err(|_| out_of_range())?,
        micros: diff % USECS_PER_DAY,
    })
}

/// Text output in the `postgres` IntervalStyle: `1 year 2 mons -3 days +04:05:06.5`.
pub fn format_interval(iv: &Interval) -> String {
    let mut out = String::new();
    let mut is_zero = true;
    let mut is_before = false;
    let mut part = |value: i64, unit: &str, out: &mut String| {
        if value == 0 {
            return;
        }
        if !is_zero {
            out.push(' ');
        }
        if is_before && value > 0 {
            out.push('+');
        }
        out.push_str(&format!("{value} {unit}{}", if value != 1 { "s" } else { "" }));
        is_before = value < 0;
        is_zero = false;
    };
    let months = i64::from(iv.months);
    part(months / 12, "year", &mut out);
    part(months % 12, "mon", &mut out);
    part(i64::from(iv.days), "day", &mut out);
    let (hour, rest) = (iv.micros / USECS_PER_HOUR, iv.micros % USECS_PER_HOUR);
    let (minute, rest) = (rest / USECS_PER_MINUTE, rest % USECS_PER_MINUTE);
    let (second, fraction) = (rest / USECS_PER_SEC, rest % USECS_PER_SEC);
    if is_zero || iv.micros != 0 {
        let minus = iv.micros < 0;
        if !is_zero {
            out.push(' ');
        }
        out.push_str(if minus {
            "-"
        } else if is_before {
            "+"
        } else {
            ""
        });
        out.push_str(&format!(
            "{:02}:{:02}:{:02}",
            hour.unsigned_abs(),
            minute.unsigned_abs(),
            second.unsigned_abs()
        ));
        if fraction != 0 {
            let digits = format!("{:06}", fraction.unsigned_abs());
            out.push('.');
            out.push_str(digits.trim_end_matches('0'));
        }
    }
    out
}

/// Binary output: i64 µs, i32 days, i32 months (big-endian).
pub(crate) fn to_binary(iv: &Interval) -> [u8; 16] {
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&iv.micros.to_be_bytes());
    out[8..12].copy_from_slice(&iv.days.to_be_bytes());
    out[12..].copy_from_slice(&iv.months.to_be_bytes());
    out
}

/// Binary input, the inverse of [`to_binary`].
pub(crate) fn from_binary(b: [u8; 16]) -> Interval {
    let mut micros = [0u8; 8];
    micros.copy_from_slice(&b[..8]);
    let (mut days, mut months) = ([0u8; 4], [0u8; 4]);
    days.copy_from_slice(&b[8..12]);
    months.copy_from_slice(&b[12..]);
    Interval {
        micros: i64::from_be_bytes(micros),
        days: i32::from_be_bytes(days),
        months: i32::from_be_bytes(months),
    }
}

pub use super::interval_in::parse_interval;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn iv(text: &str) -> String {
        format_interval(&parse_interval(text).unwrap())
    }

    #[test]
    fn prints_like_postgres() {
        for (input, want) in [
            ("1 day", "1 day"),
            ("2 hours 30 minutes", "02:30:00"),
            ("1 year 2 mons 3 days 04:05:06", "1 year 2 mons 3 days 04:05:06"),
            ("-1 day +02:00", "-1 days +02:00:00"),
            ("P1Y2M3DT4H5M6S", "1 year 2 mons 3 days 04:05:06"),
            ("1.5 hours", "01:30:00"),
            ("00:30:00", "00:30:00"),
            ("-00:30:00", "-00:30:00"),
            ("1.5 years", "1 year 6 mons"),
            ("1.99 years", "2 years"),
            ("1.5 months", "1 mon 15 days"),
            ("1 2:03:04", "1 day 02:03:04"),
            ("@ 1 day ago", "-1 days"),
            ("5", "00:00:05"),
            ("1.5", "00:00:01.5"),
            ("0.5 weeks", "3 days 12:00:00"),
            ("100 hours", "100:00:00"),
            ("-1 year -2 mons +3 days", "-1 years -2 mons +3 days"),
            ("1 ms", "00:00:00.001"),
            ("P1.5Y", "1 year 6 mons"),
            ("PT1.5M", "00:01:30"),
            ("P0.5D", "12:00:00"),
            ("1 mon -1 day", "1 mon -1 days"),
            ("-1.5 hours", "-01:30:00"),
            ("1:2:3.5", "01:02:03.5"),
            ("3 centuries", "300 years"),
            ("1 day 2", "1 day 00:00:02"),
            ("- 1 day", "-1 days"),
            ("1day", "1 day"),
            ("0", "00:00:00"),
        ] {
            assert_eq!(iv(input), want, "{input}");
        }
    }

    #[test]
    fn bad_input_has_postgres_errors() {
        for bad in ["abc", "", "1 day 1 day", "1 hour 02:00", "+1 -2", "1 fortnight", "P1X"] {
            let err = parse_interval(bad).unwrap_err();
            assert_eq!(err.kind, ErrorKind::InvalidDatetimeFormat, "{bad}");
            assert_eq!(err.message, format!("invalid input syntax for type interval: \"{bad}\""));
        }
        let err = parse_interval("99999999999 years").unwrap_err();
        assert_eq!(
            (err.kind, err.message.as_str()),
            (
                ErrorKind::IntervalFieldOverflow,
                "interval field value out of range: \"99999999999 years\""
            )
        );
    }

    #[test]
    fn arithmetic_matches_postgres() {
        let p = |s: &str| parse_interval(s).unwrap();
        assert_eq!(format_interval(&p("1 day").scaled(1.5).unwrap()), "1 day 12:00:00");
        assert_eq!(format_interval(&p("1 mon").divided(7.0).unwrap()), "4 days 06:51:25.6896");
        assert_eq!(p("1 mon").normalized(), p("30 days").normalized());
        assert_eq!(format_interval(&p("1 day 02:00").checked_neg().unwrap()), "-1 days -02:00:00");
        assert!(p("2147483647 days").checked_add(&p("1 day")).is_err());
        // 2000-01-31 + 1 mon = 2000-02-29
        let jan31 = 30 * USECS_PER_DAY;
        assert_eq!(timestamp_plus(jan31, &p("1 mon")).unwrap(), (31 + 28) * USECS_PER_DAY);
        let diff = timestamp_diff(60 * USECS_PER_DAY, USECS_PER_HOUR).unwrap();
        assert_eq!(format_interval(&diff), "59 days 23:00:00");
        let b = to_binary(&p("1 year 2 days 00:00:01"));
        assert_eq!(from_binary(b), p("1 year 2 days 00:00:01"));
        assert_eq!(b[..8], 1_000_000i64.to_be_bytes());
    }
}
