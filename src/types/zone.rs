//! Time zones: the session's `TimeZone` and the zones of `AT TIME ZONE` and of
//! timestamptz input, with PostgreSQL 15's rules for naming them and for turning a
//! local time into an instant.
//!
//! A timestamptz is an instant (microseconds since 2000-01-01 UTC); a zone only
//! matters at the edges, where a local (wall-clock) time is read or written:
//!
//! ```text
//!   text in ('2024-03-10 01:00', no offset) ──local_to_utc──▶ instant ──offset_at──▶ text out
//!   timestamp ──local_to_utc──▶ timestamptz               timestamptz ──to_local──▶ timestamp
//! ```
//!
//! So every caller that reads or writes local times takes a [`Zone`]: text I/O of
//! timestamptz, the casts timestamp ⇄ timestamptz ⇄ date (and time), timestamptz ±
//! interval (days and months move the wall clock), `date_trunc`, `extract`, `to_char`,
//! `AT TIME ZONE`. The session's zone is parsed once, at SET, and travels in
//! [`crate::session::settings::Settings`] to the evaluator and the wire.
//!
//! Names, as PostgreSQL reads them:
//! * `SET TimeZone`: a number of hours (`5`, `-3.5`, `'+02'`: ISO sign, shown as
//!   `<+05>-05`), `INTERVAL '…'` (shown likewise), a tz database name in any case
//!   (shown in its canonical case), or a POSIX zone without daylight-saving rules
//!   (`UTC+3`, `-05:30`: POSIX sign, west positive; shown upper-cased). An unknown name
//!   is 22023 `invalid value for parameter "TimeZone"`.
//! * `AT TIME ZONE` and an input's zone word: a common abbreviation (`PST`, `CEST`:
//!   fixed offsets, PostgreSQL's `Default` set, checked first), then a tz database name,
//!   then a POSIX zone; an unknown one is 22023 `time zone "…" not recognized`.
//!
//! Zone rules come from `chrono-tz` (the IANA database, pinned in Cargo.toml).
//! A local time in a spring-forward gap is read with the offset before the transition
//! and an ambiguous one in a fall-back overlap with the offset after it, as
//! PostgreSQL's `DetermineTimeZoneOffset` does.
//!
//! Shortcuts: POSIX zones with daylight-saving rules that are not tz database names
//! (`FOO5BAR`) are refused with 0A000; only the common abbreviations listed in
//! [`ABBREVIATIONS`] are known (others are 22023, as an unknown name).

use chrono::{NaiveDateTime, Offset, TimeZone};
use chrono_tz::{OffsetName, Tz};

use super::datetime::{UNIX_TO_PG_DAYS, USECS_PER_DAY};
use super::interval::Interval;
use crate::error::{Error, ErrorKind, Result};

/// A time zone: rules from the tz database, or a fixed offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    /// A tz database zone (`America/New_York`, `Etc/UTC`).
    Named(Tz),
    /// A fixed offset, seconds east of UTC.
    Fixed(i32),
}

/// The default zone, `Etc/UTC`.
pub const UTC: Zone = Zone::Named(Tz::Etc__UTC);

impl Default for Zone {
    fn default() -> Zone {
        UTC
    }
}

/// PostgreSQL's `Default` abbreviations that `AT TIME ZONE` and input most often meet
/// (seconds east of UTC). Each is a fixed offset, also when a zone has the same name
/// (`CET` the abbreviation is +01 all year; the zone `CET` has summer time).
pub const ABBREVIATIONS: &[(&str, i32)] = &[
    ("akdt", -8 * 3600),
    ("akst", -9 * 3600),
    ("bst", 3600),
    ("cdt", -5 * 3600),
    ("cest", 2 * 3600),
    ("cet", 3600),
    ("cst", -6 * 3600),
    ("edt", -4 * 3600),
    ("eest", 3 * 3600),
    ("eet", 2 * 3600),
    ("est", -5 * 3600),
    ("gmt", 0),
    ("hst", -10 * 3600),
    ("jst", 9 * 3600),
    ("mdt", -6 * 3600),
    ("msk", 3 * 3600),
    ("mst", -7 * 3600),
    ("pdt", -7 * 3600),
    ("pst", -8 * 3600),
    ("ut", 0),
    ("utc", 0),
    ("west", 3600),
    ("wet", 0),
    ("z", 0),
    ("zulu", 0),
];

/// chrono's date range is narrower than PostgreSQL's; far outside it the offset is
/// whatever it is at chrono's edge (zone rules end long before either).
fn naive(micros: i64) -> NaiveDateTime {
    const UNIX_OFFSET: i64 = UNIX_TO_PG_DAYS * USECS_PER_DAY;
    let min = NaiveDateTime::MIN.and_utc().timestamp_micros();
    let max = NaiveDateTime::MAX.and_utc().timestamp_micros();
    let unix = micros.saturating_add(UNIX_OFFSET).clamp(min, max);
    chrono::DateTime::from_timestamp_micros(unix).map(|d| d.naive_utc()).unwrap_or_default()
}

impl Zone {
    /// Seconds east of UTC at the instant `utc` (µs since 2000-01-01 UTC).
    pub fn offset_at(self, utc: i64) -> i32 {
        match self {
            Zone::Fixed(east) => east,
            Zone::Named(tz) => tz.offset_from_utc_datetime(&naive(utc)).fix().local_minus_utc(),
        }
    }

    /// The local (wall-clock) time at the instant `utc`; infinities stay infinite.
    pub fn to_local(self, utc: i64) -> i64 {
        if utc == i64::MAX || utc == i64::MIN {
            return utc;
        }
        utc.saturating_add(i64::from(self.offset_at(utc)) * 1_000_000)
    }

    /// Seconds east of UTC that a local time is read with (gap: the offset before the
    /// transition; overlap: the one after it).
    pub fn offset_of_local(self, local: i64) -> i32 {
        let Zone::Named(tz) = self else { return self.offset_at(local) };
        let at = |utc: i64| self.offset_at(utc);
        match tz.offset_from_local_datetime(&naive(local)) {
            chrono::LocalResult::Single(o) => o.fix().local_minus_utc(),
            // The later instant is the one with the smaller offset east.
            chrono::LocalResult::Ambiguous(a, b) => {
                a.fix().local_minus_utc().min(b.fix().local_minus_utc())
            }
            // A day before: the offset in force before the gap (no zone changes twice
            // within a day).
            chrono::LocalResult::None => at(local.saturating_sub(USECS_PER_DAY)),
        }
    }

    /// The instant of the local time `local` in this zone; infinities stay infinite.
    pub fn local_to_utc(self, local: i64) -> i64 {
        if local == i64::MAX || local == i64::MIN {
            return local;
        }
        local.saturating_sub(i64::from(self.offset_of_local(local)) * 1_000_000)
    }

    /// The abbreviation in force at `utc` (`EST`, `CEST`), as `to_char`'s `TZ` prints
    /// it; a fixed offset prints as its offset (`+05:30`).
    pub fn abbreviation_at(self, utc: i64) -> String {
        match self {
            Zone::Named(tz) => {
                let offset = tz.offset_from_utc_datetime(&naive(utc));
                match offset.abbreviation() {
                    Some(a) => a.to_owned(),
                    None => format_offset(offset.fix().local_minus_utc()),
                }
            }
            Zone::Fixed(east) => format_offset(east),
        }
    }

    /// The zone of `SET TimeZone = value`, and the value as SHOW shows it.
    pub fn from_setting(value: &str) -> Result<(Zone, String)> {
        let invalid = || {
            Error::new(
                ErrorKind::InvalidParameterValue,
                format!("invalid value for parameter \"TimeZone\": \"{value}\""),
            )
        };
        if value.len() >= 8 && value[..8].eq_ignore_ascii_case("interval") {
            let east = interval_setting(value, &invalid)?;
            return Ok((Zone::Fixed(east), offset_setting_name(east)));
        }
        if let Some(hours) = strtod_whole(value) {
            let east = (hours * 3600.0) as i64;
            let east = i32::try_from(east).map_err(|_| invalid())?;
            return Ok((Zone::Fixed(east), offset_setting_name(east)));
        }
        match named(value) {
            Some(Ok((zone, shown))) => Ok((zone, shown)),
            Some(Err(e)) => Err(e),
            None => Err(invalid()),
        }
    }

    /// The zone of `AT TIME ZONE 'name'` or `timezone(name, …)`.
    pub fn from_name(name: &str) -> Result<Zone> {
        let lower = name.to_ascii_lowercase();
        if let Some((_, east)) = ABBREVIATIONS.iter().find(|(a, _)| *a == lower) {
            return Ok(Zone::Fixed(*east));
        }
        match named(name) {
            Some(r) => r.map(|(zone, _)| zone),
            None => Err(Error::new(
                ErrorKind::InvalidParameterValue,
                format!("time zone \"{name}\" not recognized"),
            )),
        }
    }

    /// The zone of `AT TIME ZONE INTERVAL '…'`: its time part, ISO sign (east positive).
    pub fn from_interval(iv: &Interval) -> Result<Zone> {
        if iv.months != 0 || iv.days != 0 {
            return Err(Error::new(
                ErrorKind::InvalidParameterValue,
                format!(
                    "interval time zone \"{}\" must not include months or days",
                    super::format_interval(iv)
                ),
            ));
        }
        let east = i32::try_from(iv.micros / 1_000_000).map_err(|_| {
            Error::new(ErrorKind::InvalidParameterValue, "interval time zone out of range")
        })?;
        Ok(Zone::Fixed(east))
    }
}

/// `+05`, `-04:56:02`: an offset as timestamptz output appends it.
pub fn format_offset(east: i32) -> String {
    let sign = if east < 0 { '-' } else { '+' };
    let abs = east.unsigned_abs();
    let (h, m, s) = (abs / 3600, abs / 60 % 60, abs % 60);
    match (m, s) {
        (0, 0) => format!("{sign}{h:02}"),
        (_, 0) => format!("{sign}{h:02}:{m:02}"),
        _ => format!("{sign}{h:02}:{m:02}:{s:02}"),
    }
}

/// PostgreSQL's name for a numeric zone setting: `<+05>-05` (a POSIX name: the
/// abbreviation in brackets, then the offset west).
fn offset_setting_name(east: i32) -> String {
    let abs = east.unsigned_abs();
    let mut hms = format!("{:02}", abs / 3600);
    if !abs.is_multiple_of(3600) {
        hms.push_str(&format!(":{:02}", abs / 60 % 60));
        if !abs.is_multiple_of(60) {
            hms.push_str(&format!(":{:02}", abs % 60));
        }
    }
    if east < 0 {
        format!("<-{hms}>+{hms}")
    } else {
        format!("<+{hms}>-{hms}")
    }
}

/// The whole of `s` as C's strtod reads a number (leading blanks allowed), or None.
fn strtod_whole(s: &str) -> Option<f64> {
    let t = s.trim_start();
    let looks_numeric = t.bytes().all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
        && t.bytes().any(|b| b.is_ascii_digit());
    if !looks_numeric {
        return None;
    }
    t.parse::<f64>().ok().filter(|h| h.is_finite())
}

/// `INTERVAL '…'` (how a `SET TIME ZONE INTERVAL …` arrives): seconds east.
fn interval_setting(value: &str, invalid: &dyn Fn() -> Error) -> Result<i32> {
    let quoted = value[8..].trim();
    let body = quoted.strip_prefix('\'').and_then(|q| q.strip_suffix('\'')).ok_or_else(invalid)?;
    let iv = super::parse_interval(body)?;
    let detail = if iv.months != 0 {
        Some("Cannot specify months in time zone interval.")
    } else if iv.days != 0 {
        Some("Cannot specify days in time zone interval.")
    } else {
        None
    };
    if let Some(detail) = detail {
        return Err(invalid().with_detail(detail));
    }
    i32::try_from(iv.micros / 1_000_000).map_err(|_| invalid())
}

/// A tz database name (any case) or a POSIX zone: the zone and its shown name;
/// None if it is neither.
fn named(name: &str) -> Option<Result<(Zone, String)>> {
    if let Some(tz) = chrono_tz::TZ_VARIANTS.iter().find(|tz| tz.name().eq_ignore_ascii_case(name))
    {
        return Some(Ok((Zone::Named(*tz), tz.name().to_owned())));
    }
    let (west, rest) = posix_std(name)?;
    let upper = name.to_ascii_uppercase();
    if !rest.is_empty() {
        return Some(Err(Error::unsupported(format!(
            "POSIX time zone \"{upper}\" with daylight-saving rules"
        ))));
    }
    if west % 60 != 0 {
        return Some(Err(Error::new(
            ErrorKind::InvalidParameterValue,
            format!("time zone \"{name}\" appears to use leap seconds"),
        )
        .with_detail("PostgreSQL does not support leap seconds.")));
    }
    Some(Ok((Zone::Fixed(-west), upper)))
}

/// A POSIX zone's standard part, `[name | <name>]offset` (POSIX sign: seconds west),
/// and what follows it; None if it is not one.
fn posix_std(s: &str) -> Option<(i32, &str)> {
    let rest = if let Some(quoted) = s.strip_prefix('<') {
        &quoted[quoted.find('>')? + 1..]
    } else {
        s.trim_start_matches(|c: char| !(c.is_ascii_digit() || c == ',' || c == '-' || c == '+'))
    };
    let (sign, rest) = match rest.as_bytes().first() {
        Some(b'-') => (-1, &rest[1..]),
        Some(b'+') => (1, &rest[1..]),
        _ => (1, rest),
    };
    let mut parts = [0i32; 3];
    let mut rest = rest;
    for (i, part) in parts.iter_mut().enumerate() {
        if i > 0 {
            match rest.strip_prefix(':') {
                Some(r) => rest = r,
                None => break,
            }
        }
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 3 {
            return None;
        }
        *part = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
    }
    let [h, m, sec] = parts;
    if h > 24 * 7 - 1 || m > 59 || sec > 60 {
        return None;
    }
    Some((sign * (h * 3600 + m * 60 + sec), rest))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn setting(v: &str) -> (Zone, String) {
        Zone::from_setting(v).unwrap()
    }

    #[test]
    fn settings_are_named_as_postgresql_names_them() {
        assert_eq!(setting("america/new_york").1, "America/New_York");
        assert_eq!(setting("5").1, "<+05>-05");
        assert_eq!(setting("-3.5"), (Zone::Fixed(-12_600), "<-03:30>+03:30".into()));
        assert_eq!(setting("+02").0, Zone::Fixed(7200));
        assert_eq!(setting("-05:30"), (Zone::Fixed(19_800), "-05:30".into()));
        assert_eq!(setting("utc+3"), (Zone::Fixed(-10_800), "UTC+3".into()));
        assert_eq!(setting("INTERVAL '+02:00:30'").1, "<+02:00:30>-02:00:30");
        let err = Zone::from_setting("Foo/Bar").unwrap_err();
        assert_eq!(err.message, "invalid value for parameter \"TimeZone\": \"Foo/Bar\"");
        assert_eq!(Zone::from_setting("FOO5BAR").unwrap_err().kind, ErrorKind::FeatureNotSupported);
    }

    #[test]
    fn local_times_in_gaps_and_overlaps_resolve_as_postgresql() {
        let ny = setting("America/New_York").0;
        let local = |s| {
            super::super::datetime::parse_datetime(
                s,
                super::super::datetime::DatetimeKind::Timestamp,
                crate::types::UTC,
            )
            .unwrap()
        };
        // 02:30 does not exist on 2024-03-10: read as EST (-05), i.e. 03:30 EDT.
        let gap = local("2024-03-10 02:30:00");
        assert_eq!(ny.local_to_utc(gap), gap + 5 * 3_600_000_000);
        // 01:30 happens twice on 2024-11-03: the second (EST).
        let overlap = local("2024-11-03 01:30:00");
        assert_eq!(ny.local_to_utc(overlap), overlap + 5 * 3_600_000_000);
        assert_eq!(format_offset(ny.offset_at(local("1850-01-01 00:00:00"))), "-04:56:02");
    }
}
