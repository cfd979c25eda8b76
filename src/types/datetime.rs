//! `timestamp`, `timestamptz` and `date`: PostgreSQL's representation (microseconds or
//! days since 2000-01-01), ISO text input and output, and the range limits.
//!
//! A timestamptz is printed in the session's zone (`zone.rs`) with its offset there, and
//! read with the offset or zone name its text gives, else as a local time in the
//! session's zone. Input is the ISO form only
//! (`2024-01-02[ T]03:04:05[.123456][+02[:00]|Z|UTC|Europe/Paris][ BC]`), plus the
//! special words `infinity`, `-infinity`, `epoch`, `now`, `today`, `tomorrow`,
//! `yesterday`. The other date styles PostgreSQL accepts (`01/02/2024`, `Jan 2 2024`)
//! are refused with an error, never guessed at. Infinity is `i64::MAX`/`i64::MIN`
//! (`i32::MAX`/`i32::MIN` for dates), exactly PostgreSQL's on-disk and wire values.
//!
//! ```text
//!   days since 2000-01-01 ──civil_from_days──▶ (year, month, day)   proleptic Gregorian,
//!   (year, month, day)    ──days_from_civil──▶ days                 year 0 = 1 BC
//! ```

use super::zone::{format_offset, Zone};
use crate::error::{Error, ErrorKind, Result};

/// Microseconds in a day.
pub(crate) const USECS_PER_DAY: i64 = 86_400_000_000;
/// 4714-11-24 00:00:00 BC, PostgreSQL's first timestamp.
pub(crate) const MIN_TIMESTAMP: i64 = -211_813_488_000_000_000;
/// 294277-01-01 00:00:00, one past PostgreSQL's last timestamp.
pub(crate) const END_TIMESTAMP: i64 = 9_223_371_331_200_000_000;
/// 4714-11-24 BC, PostgreSQL's first date.
pub(crate) const MIN_DATE: i32 = -2_451_545;
/// One past 5874897-12-31, PostgreSQL's last date.
pub(crate) const END_DATE: i32 = 2_145_031_949;
/// Days from 1970-01-01 to 2000-01-01.
pub(crate) const UNIX_TO_PG_DAYS: i64 = 10_957;

/// Which datetime type a text is parsed as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DatetimeKind {
    /// `timestamp without time zone`: an input offset is ignored, as PostgreSQL does.
    Timestamp,
    /// `timestamp with time zone`: an input offset converts to UTC.
    TimestampTz,
    /// `date`: a time of day is accepted and dropped, as PostgreSQL does.
    Date,
}

impl DatetimeKind {
    fn type_name(self) -> &'static str {
        match self {
            DatetimeKind::Timestamp => "timestamp",
            DatetimeKind::TimestampTz => "timestamp with time zone",
            DatetimeKind::Date => "date",
        }
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`].
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = (if mp < 10 { mp + 3 } else { mp - 9 }) as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

pub(crate) fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        _ => 28,
    }
}

/// Appends `YYYY-MM-DD` (with ` BC` left to the caller).
fn write_ymd(days: i64, out: &mut String) -> bool {
    let (year, month, day) = civil_from_days(days + UNIX_TO_PG_DAYS);
    let (shown, bc) = if year <= 0 { (1 - year, true) } else { (year, false) };
    out.push_str(&format!("{shown:04}-{month:02}-{day:02}"));
    bc
}

/// Text output of a date.
pub(crate) fn format_date(days: i32) -> String {
    match days {
        i32::MAX => "infinity".into(),
        i32::MIN => "-infinity".into(),
        _ => {
            let mut out = String::with_capacity(13);
            if write_ymd(i64::from(days), &mut out) {
                out.push_str(" BC");
            }
            out
        }
    }
}

/// Text output of a timestamp (a local time).
pub(crate) fn format_timestamp(micros: i64) -> String {
    write_timestamp(micros, None)
}

/// Text output of a timestamptz: the local time in `zone`, then its offset there
/// (`2024-03-10 01:00:00-05`, `+05:30`, `-04:56:02` for local mean time).
pub(crate) fn format_timestamptz(micros: i64, zone: Zone) -> String {
    let offset = zone.offset_at(micros);
    write_timestamp(zone.to_local(micros), Some(offset))
}

fn write_timestamp(micros: i64, offset: Option<i32>) -> String {
    match micros {
        i64::MAX => return "infinity".into(),
        i64::MIN => return "-infinity".into(),
        _ => {}
    }
    let days = micros.div_euclid(USECS_PER_DAY);
    let time = micros.rem_euclid(USECS_PER_DAY);
    let mut out = String::with_capacity(32);
    let bc = write_ymd(days, &mut out);
    out.push(' ');
    write_time_of_day(time, &mut out);
    if let Some(offset) = offset {
        out.push_str(&format_offset(offset));
    }
    if bc {
        out.push_str(" BC");
    }
    out
}

/// Appends `HH:MM:SS[.ffffff]` (trailing zeros of the fraction dropped).
pub(crate) fn write_time_of_day(time: i64, out: &mut String) {
    let secs = time / 1_000_000;
    let frac = time % 1_000_000;
    out.push_str(&format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60));
    if frac != 0 {
        let digits = format!("{frac:06}");
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
}

/// Days since 2000-01-01 → microseconds, or `None` past the timestamp range.
pub(crate) fn date_to_timestamp(days: i32) -> Option<i64> {
    match days {
        i32::MAX => Some(i64::MAX),
        i32::MIN => Some(i64::MIN),
        _ => {
            let micros = i64::from(days) * USECS_PER_DAY;
            (MIN_TIMESTAMP..END_TIMESTAMP).contains(&micros).then_some(micros)
        }
    }
}

/// Microseconds → the date they fall on.
pub(crate) fn timestamp_to_date(micros: i64) -> i32 {
    match micros {
        i64::MAX => i32::MAX,
        i64::MIN => i32::MIN,
        _ => micros.div_euclid(USECS_PER_DAY) as i32,
    }
}

/// True for a value PostgreSQL's timestamp_recv accepts.
pub(crate) fn timestamp_in_range(micros: i64) -> bool {
    micros == i64::MAX || micros == i64::MIN || (MIN_TIMESTAMP..END_TIMESTAMP).contains(&micros)
}

/// True for a value PostgreSQL's date_recv accepts.
pub(crate) fn date_in_range(days: i32) -> bool {
    days == i32::MAX || days == i32::MIN || (MIN_DATE..END_DATE).contains(&days)
}

/// A cursor over the input with PostgreSQL's errors for it.
struct Scanner<'a> {
    input: &'a str,
    bytes: &'a [u8],
    pos: usize,
    kind: DatetimeKind,
}

impl<'a> Scanner<'a> {
    fn syntax(&self) -> Error {
        Error::new(
            ErrorKind::InvalidDatetimeFormat,
            format!("invalid input syntax for type {}: \"{}\"", self.kind.type_name(), self.input),
        )
    }

    fn field_overflow(&self) -> Error {
        Error::new(
            ErrorKind::DatetimeFieldOverflow,
            format!("date/time field value out of range: \"{}\"", self.input),
        )
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_spaces(&mut self) -> bool {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.pos += 1;
        }
        self.pos > start
    }

    /// One or more digits (at most `max`), as a number and the count read.
    fn number(&mut self, max: usize) -> Result<(i64, usize)> {
        let start = self.pos;
        let mut value: i64 = 0;
        while let Some(b @ b'0'..=b'9') = self.peek() {
            if self.pos - start == max {
                return Err(self.syntax());
            }
            value = value * 10 + i64::from(b - b'0');
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.syntax());
        }
        Ok((value, self.pos - start))
    }

    fn expect(&mut self, byte: u8) -> Result<()> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.syntax())
        }
    }

    /// `HH:MM[:SS[.frac]]` → microseconds since midnight (24:00:00 allowed).
    fn time_of_day(&mut self) -> Result<i64> {
        let (hour, _) = self.number(2)?;
        self.expect(b':')?;
        let (minute, _) = self.number(2)?;
        let (mut second, mut micros) = (0, 0);
        if self.peek() == Some(b':') {
            self.pos += 1;
            second = self.number(2)?.0;
            if self.peek() == Some(b'.') {
                self.pos += 1;
                micros = self.fraction()?;
            }
        }
        let total = ((hour * 60 + minute) * 60 + second) * 1_000_000 + micros;
        if hour > 24 || minute > 59 || second > 60 || total > USECS_PER_DAY {
            return Err(self.field_overflow());
        }
        Ok(total)
    }

    /// Digits after a decimal point, rounded to microseconds.
    fn fraction(&mut self) -> Result<i64> {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        let digits = &self.input[start..self.pos];
        let mut micros: i64 = 0;
        for (i, b) in digits.bytes().take(7).enumerate() {
            let d = i64::from(b - b'0');
            if i < 6 {
                micros = micros * 10 + d;
            } else if d >= 5 {
                micros += 1;
            }
        }
        for _ in digits.len()..6 {
            micros *= 10;
        }
        Ok(micros)
    }

    /// `+HH`, `+HH:MM`, `+HHMM`, `+HH:MM:SS` (a fixed offset), or a zone name or
    /// abbreviation (`Z`, `UTC`, `PST`, `America/New_York`: [`Zone::from_name`]).
    fn zone(&mut self) -> Result<Option<Zone>> {
        match self.peek() {
            Some(sign @ (b'+' | b'-')) => {
                self.pos += 1;
                let (first, len) = self.number(6)?;
                let (hours, mut minutes, mut seconds) = match len {
                    1 | 2 => (first, 0, 0),
                    4 => (first / 100, first % 100, 0),
                    6 => (first / 10000, first / 100 % 100, first % 100),
                    _ => return Err(self.syntax()),
                };
                if len <= 2 && self.peek() == Some(b':') {
                    self.pos += 1;
                    minutes = self.number(2)?.0;
                    if self.peek() == Some(b':') {
                        self.pos += 1;
                        seconds = self.number(2)?.0;
                    }
                }
                if hours > 15 || minutes > 59 || seconds > 59 {
                    return Err(Error::new(
                        ErrorKind::DatetimeFieldOverflow,
                        format!("time zone displacement out of range: \"{}\"", self.input),
                    ));
                }
                let offset = (hours * 3600 + minutes * 60 + seconds) as i32;
                Ok(Some(Zone::Fixed(if sign == b'-' { -offset } else { offset })))
            }
            Some(b) if b.is_ascii_alphabetic() => {
                let start = self.pos;
                while self.peek().is_some_and(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'-' | b'+')
                }) {
                    self.pos += 1;
                }
                let word = &self.input[start..self.pos];
                if word.eq_ignore_ascii_case("bc") || word.eq_ignore_ascii_case("ad") {
                    self.pos = start;
                    return Ok(None);
                }
                Zone::from_name(word).map(Some)
            }
            _ => Ok(None),
        }
    }

    fn at_end(&self) -> bool {
        self.pos == self.bytes.len()
    }
}

/// Parses ISO text as microseconds since 2000-01-01 (for timestamps) or days (dates).
/// `20240115[ rest]` (ISO 8601 basic form: eight digits) as `2024-01-15[ rest]`.
fn iso_basic_date(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    let ends = matches!(b.get(8), None | Some(b' ' | b'T' | b't'));
    (digits == 8 && ends).then(|| format!("{}-{}-{}{}", &s[..4], &s[4..6], &s[6..8], &s[8..]))
}

/// Local times (no offset in the text) of a timestamptz are in `zone`, as are the
/// special words' days (`today` is today there).
pub(crate) fn parse_datetime(input: &str, kind: DatetimeKind, zone: Zone) -> Result<i64> {
    let trimmed = input.trim_matches(|c: char| c.is_ascii_whitespace());
    if let Some(value) = special_word(trimmed, kind, zone) {
        return Ok(value);
    }
    let expanded = iso_basic_date(trimmed);
    let input = expanded.as_deref().unwrap_or(input);
    let mut s = Scanner { input, bytes: input.as_bytes(), pos: 0, kind };
    s.skip_spaces();
    let (year, _) = s.number(9)?;
    s.expect(b'-')?;
    let (month, _) = s.number(2)?;
    s.expect(b'-')?;
    let (day, _) = s.number(2)?;
    let mut time = 0;
    let mut offset = None;
    let separated = if s.peek() == Some(b'T') || s.peek() == Some(b't') {
        s.pos += 1;
        true
    } else {
        s.skip_spaces()
    };
    if separated && s.peek().is_some_and(|b| b.is_ascii_digit()) {
        time = s.time_of_day()?;
        s.skip_spaces();
        offset = s.zone()?;
        s.skip_spaces();
    } else if separated && matches!(s.peek(), Some(b'+' | b'-')) {
        // A zone with no time of day: pgjdbc sends dates as `2024-02-29 +00`.
        offset = s.zone()?;
        s.skip_spaces();
    }
    if year == 0 {
        return Err(s.field_overflow());
    }
    let mut year = year;
    let era = s.input[s.pos..].trim_end();
    if era.eq_ignore_ascii_case("bc") || era.eq_ignore_ascii_case("ad") {
        if era.eq_ignore_ascii_case("bc") {
            year = 1 - year;
        }
        s.pos += 2;
    }
    s.skip_spaces();
    if !s.at_end() {
        return Err(s.syntax());
    }
    if !(1..=12).contains(&month) || day < 1 || day > i64::from(days_in_month(year, month as u32)) {
        return Err(s.field_overflow());
    }
    let days = days_from_civil(year, month as u32, day as u32) - UNIX_TO_PG_DAYS;
    let out_of_range = |what: &str| {
        Error::new(ErrorKind::DatetimeFieldOverflow, format!("{what} out of range: \"{input}\""))
    };
    match kind {
        DatetimeKind::Date => {
            if !(i64::from(MIN_DATE)..i64::from(END_DATE)).contains(&days) {
                return Err(out_of_range("date"));
            }
            Ok(days)
        }
        DatetimeKind::Timestamp | DatetimeKind::TimestampTz => {
            let mut micros = days.checked_mul(USECS_PER_DAY).and_then(|m| m.checked_add(time));
            if kind == DatetimeKind::TimestampTz {
                let zone = offset.unwrap_or(zone);
                micros = micros.filter(|m| (MIN_TIMESTAMP..END_TIMESTAMP).contains(m));
                micros = micros.map(|m| zone.local_to_utc(m));
            }
            match micros {
                Some(m) if (MIN_TIMESTAMP..END_TIMESTAMP).contains(&m) => Ok(m),
                _ => Err(out_of_range("timestamp")),
            }
        }
    }
}

/// `infinity`, `epoch`, `now` and friends; `now`, `today`, … are local times in `zone`
/// (a timestamptz's `today` is midnight there).
fn special_word(word: &str, kind: DatetimeKind, zone: Zone) -> Option<i64> {
    let lower = word.to_ascii_lowercase();
    let (plus_inf, minus_inf) = match kind {
        DatetimeKind::Date => (i64::from(i32::MAX), i64::from(i32::MIN)),
        _ => (i64::MAX, i64::MIN),
    };
    let now = chrono::Utc::now().timestamp_micros() - UNIX_TO_PG_DAYS * USECS_PER_DAY;
    let local_now = zone.to_local(now);
    let day_start = |offset_days: i64| {
        let day = local_now.div_euclid(USECS_PER_DAY) + offset_days;
        match kind {
            DatetimeKind::Date => day,
            DatetimeKind::Timestamp => day * USECS_PER_DAY,
            DatetimeKind::TimestampTz => zone.local_to_utc(day * USECS_PER_DAY),
        }
    };
    Some(match lower.as_str() {
        "infinity" | "+infinity" => plus_inf,
        "-infinity" => minus_inf,
        "epoch" => match kind {
            DatetimeKind::Date => -UNIX_TO_PG_DAYS,
            _ => -UNIX_TO_PG_DAYS * USECS_PER_DAY,
        },
        "now" => match kind {
            DatetimeKind::Date => local_now.div_euclid(USECS_PER_DAY),
            DatetimeKind::Timestamp => local_now,
            DatetimeKind::TimestampTz => now,
        },
        "today" => day_start(0),
        "tomorrow" => day_start(1),
        "yesterday" => day_start(-1),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn ts(s: &str) -> Result<i64> {
        parse_datetime(s, DatetimeKind::Timestamp, Zone::default())
    }

    #[test]
    fn civil_conversion_round_trips() {
        assert_eq!(days_from_civil(2000, 1, 1), UNIX_TO_PG_DAYS);
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        for days in (-3_000_000..3_000_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn timestamps_parse_and_print_like_postgres() {
        for (input, want) in [
            ("2024-01-02 03:04:05", "2024-01-02 03:04:05"),
            ("2024-01-02T03:04:05", "2024-01-02 03:04:05"),
            ("2024-01-02 03:04:05.123", "2024-01-02 03:04:05.123"),
            ("2024-01-02 03:04:05.1234567", "2024-01-02 03:04:05.123457"),
            ("2024-01-02", "2024-01-02 00:00:00"),
            (" 2024-01-02 03:04 ", "2024-01-02 03:04:00"),
            ("2024-01-02 03:04:05+02", "2024-01-02 03:04:05"),
            ("0001-01-01 00:00:00 BC", "0001-01-01 00:00:00 BC"),
            ("infinity", "infinity"),
            ("2000-01-01 24:00:00", "2000-01-02 00:00:00"),
        ] {
            assert_eq!(format_timestamp(ts(input).unwrap()), want, "{input}");
        }
        assert_eq!(ts("2000-01-01 00:00:00").unwrap(), 0);
        assert_eq!(format_timestamp(-1), "1999-12-31 23:59:59.999999");
    }

    #[test]
    fn timestamptz_applies_the_offset() {
        let tz = |s| {
            let utc = Zone::default();
            format_timestamptz(parse_datetime(s, DatetimeKind::TimestampTz, utc).unwrap(), utc)
        };
        assert_eq!(tz("2024-01-02 03:04:05+02"), "2024-01-02 01:04:05+00");
        assert_eq!(tz("2024-01-02 03:04:05+02:30"), "2024-01-02 00:34:05+00");
        assert_eq!(tz("2024-01-02T03:04:05Z"), "2024-01-02 03:04:05+00");
        assert_eq!(tz("2024-01-02 03:04:05 UTC"), "2024-01-02 03:04:05+00");
        assert_eq!(tz("2024-01-02 03:04:05-0500"), "2024-01-02 08:04:05+00");
        assert_eq!(tz("2024-01-02 03:04:05"), "2024-01-02 03:04:05+00");
    }

    #[test]
    fn bad_input_has_postgres_errors() {
        let err = ts("x").unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidDatetimeFormat);
        assert_eq!(err.message, "invalid input syntax for type timestamp: \"x\"");
        let err = ts("2024-13-01").unwrap_err();
        assert_eq!(err.kind, ErrorKind::DatetimeFieldOverflow);
        assert_eq!(err.message, "date/time field value out of range: \"2024-13-01\"");
        assert_eq!(ts("2023-02-29").unwrap_err().kind, ErrorKind::DatetimeFieldOverflow);
        assert_eq!(
            ts("2024-01-02 03:04:05 junk").unwrap_err().message,
            "time zone \"junk\" not recognized"
        );
        assert_eq!(ts("2024-01-02 03:04:05 +").unwrap_err().kind, ErrorKind::InvalidDatetimeFormat);
        assert_eq!(ts("2024-01-02 25:00").unwrap_err().kind, ErrorKind::DatetimeFieldOverflow);
        let err = parse_datetime("2024-01-0x", DatetimeKind::Date, Zone::default()).unwrap_err();
        assert_eq!(err.message, "invalid input syntax for type date: \"2024-01-0x\"");
    }

    #[test]
    fn dates_parse_and_print() {
        let d =
            |s| format_date(parse_datetime(s, DatetimeKind::Date, Zone::default()).unwrap() as i32);
        assert_eq!(d("2024-01-02"), "2024-01-02");
        assert_eq!(d("2024-01-02 03:04:05"), "2024-01-02");
        assert_eq!(d("epoch"), "1970-01-01");
        assert_eq!(d("-infinity"), "-infinity");
        assert_eq!(parse_datetime("2000-01-02", DatetimeKind::Date, Zone::default()).unwrap(), 1);
        assert_eq!(
            parse_datetime("2000-01-02 +00", DatetimeKind::Date, Zone::default()).unwrap(),
            1
        );
    }
}
