//! Text input of `interval` (PostgreSQL's `DecodeInterval` and `DecodeISO8601Interval`
//! for the forms listed in `interval.rs`).
//!
//! The input is split into tokens: signed numbers (`-1.5`), times (`-02:00`, `1:2:3.5`)
//! and words (units, `ago`). A number takes the unit word that follows it; a number
//! without one is seconds, or days when a time follows it (`'1 2:03:04'`). Each unit
//! may appear once (PostgreSQL's field mask), so `'1 day 1 day'` is an error. Field
//! values accumulate in wide integers and are range-checked at the end, so overflow is
//! PostgreSQL's 22008 rather than a wrap.

use crate::error::{Error, ErrorKind, Result};

use super::interval::Interval;

const USECS_PER_SEC: f64 = 1e6;
const SECS_PER_DAY: f64 = 86_400.0;

/// A unit of an interval field, with PostgreSQL's field-mask bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Microsecond,
    Millisecond,
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
    Decade,
    Century,
    Millennium,
}

impl Unit {
    fn from_word(word: &str) -> Option<Unit> {
        Some(match word {
            "microsecond" | "microseconds" | "us" | "usec" | "usecs" | "useconds" => {
                Unit::Microsecond
            }
            "millisecond" | "milliseconds" | "ms" | "msec" | "msecs" | "mseconds" => {
                Unit::Millisecond
            }
            "second" | "seconds" | "s" | "sec" | "secs" => Unit::Second,
            "minute" | "minutes" | "m" | "min" | "mins" => Unit::Minute,
            "hour" | "hours" | "h" | "hr" | "hrs" => Unit::Hour,
            "day" | "days" | "d" => Unit::Day,
            "week" | "weeks" | "w" => Unit::Week,
            "month" | "months" | "mon" | "mons" => Unit::Month,
            "year" | "years" | "y" | "yr" | "yrs" => Unit::Year,
            "decade" | "decades" | "dec" | "decs" => Unit::Decade,
            "century" | "centuries" | "c" | "cent" => Unit::Century,
            "millennium" | "millennia" | "millenniums" | "mil" | "mils" => Unit::Millennium,
            _ => return None,
        })
    }

    fn mask(self) -> u32 {
        1 << (self as u32)
    }
}

/// The time-of-day fields a `hh:mm:ss` token occupies.
const TIME_MASK: u32 =
    (1 << Unit::Hour as u32) | (1 << Unit::Minute as u32) | (1 << Unit::Second as u32);

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Number(String),
    Time(String),
    Word(String),
}

/// Fields being accumulated, wider than the result so overflow is detected once.
#[derive(Default)]
struct Fields {
    months: i128,
    days: i128,
    micros: i128,
    mask: u32,
}

struct Parser<'a> {
    input: &'a str,
}

impl Parser<'_> {
    fn syntax(&self) -> Error {
        Error::new(
            ErrorKind::InvalidDatetimeFormat,
            format!("invalid input syntax for type interval: \"{}\"", self.input),
        )
    }

    fn field_overflow(&self) -> Error {
        Error::new(
            ErrorKind::IntervalFieldOverflow,
            format!("interval field value out of range: \"{}\"", self.input),
        )
    }

    fn tokens(&self) -> Result<Vec<Token>> {
        let chars: Vec<char> = self.input.chars().collect();
        let mut i = 0;
        let mut out = Vec::new();
        let number_char = |c: char| c.is_ascii_digit() || c == '.' || c == ':';
        while i < chars.len() {
            let c = chars[i];
            if c.is_whitespace() || (c == '@' && out.is_empty()) {
                i += 1;
            } else if c == '+' || c == '-' || c.is_ascii_digit() || c == '.' {
                let mut text = String::new();
                if c == '+' || c == '-' {
                    text.push(c);
                    i += 1;
                    while i < chars.len() && chars[i].is_whitespace() {
                        i += 1;
                    }
                }
                let start = i;
                while i < chars.len() && number_char(chars[i]) {
                    text.push(chars[i]);
                    i += 1;
                }
                if i == start {
                    return Err(self.syntax());
                }
                out.push(if text.contains(':') { Token::Time(text) } else { Token::Number(text) });
            } else if c.is_alphabetic() {
                let mut word = String::new();
                while i < chars.len() && chars[i].is_alphabetic() {
                    word.extend(chars[i].to_lowercase());
                    i += 1;
                }
                out.push(Token::Word(word));
            } else {
                return Err(self.syntax());
            }
        }
        Ok(out)
    }

    /// A number token as (integer part, fraction with the same sign).
    fn number(&self, text: &str) -> Result<(i128, f64)> {
        let (negative, digits) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let (int_part, frac_part) = digits.split_once('.').unwrap_or((digits, ""));
        if (int_part.is_empty() && frac_part.is_empty())
            || !int_part.bytes().all(|b| b.is_ascii_digit())
            || !frac_part.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(self.syntax());
        }
        let int: i128 = if int_part.is_empty() {
            0
        } else if int_part.len() > 18 {
            return Err(self.field_overflow());
        } else {
            int_part.parse().map_err(|_| self.syntax())?
        };
        let frac: f64 = if frac_part.is_empty() {
            0.0
        } else {
            format!("0.{frac_part}").parse().unwrap_or(0.0)
        };
        Ok(if negative { (-int, -frac) } else { (int, frac) })
    }

    fn claim(&self, f: &mut Fields, mask: u32) -> Result<()> {
        if f.mask & mask != 0 {
            return Err(self.syntax());
        }
        f.mask |= mask;
        Ok(())
    }

    /// Adds `int + frac` of `unit`, cascading the fraction into smaller fields.
    fn add(&self, f: &mut Fields, unit: Unit, int: i128, frac: f64) -> Result<()> {
        self.claim(f, unit.mask())?;
        let frac_seconds = |f: &mut Fields, frac: f64, scale: f64| {
            f.micros += (frac * scale * USECS_PER_SEC).round_ties_even() as i128;
        };
        let frac_days = |f: &mut Fields, frac: f64, scale: f64| {
            let days = frac * scale;
            f.days += days.trunc() as i128;
            frac_seconds(f, days.fract(), SECS_PER_DAY);
        };
        let years = |f: &mut Fields, per: i128| {
            f.months += int * per * 12 + (frac * (per * 12) as f64).round_ties_even() as i128;
        };
        match unit {
            Unit::Microsecond => f.micros += (int as f64 + frac).round_ties_even() as i128,
            Unit::Millisecond => {
                f.micros += ((int as f64 + frac) * 1000.0).round_ties_even() as i128
            }
            Unit::Second => {
                f.micros += int * 1_000_000;
                frac_seconds(f, frac, 1.0);
            }
            Unit::Minute => {
                f.micros += int * 60_000_000;
                frac_seconds(f, frac, 60.0);
            }
            Unit::Hour => {
                f.micros += int * 3_600_000_000;
                frac_seconds(f, frac, 3600.0);
            }
            Unit::Day => {
                f.days += int;
                frac_seconds(f, frac, SECS_PER_DAY);
            }
            Unit::Week => {
                f.days += int * 7;
                frac_days(f, frac, 7.0);
            }
            Unit::Month => {
                f.months += int;
                frac_days(f, frac, 30.0);
            }
            Unit::Year => years(f, 1),
            Unit::Decade => years(f, 10),
            Unit::Century => years(f, 100),
            Unit::Millennium => years(f, 1000),
        }
        Ok(())
    }

    /// `[-]h:m[:s[.f]]`.
    fn time(&self, f: &mut Fields, text: &str) -> Result<()> {
        self.claim(f, TIME_MASK)?;
        let (negative, body) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let parts: Vec<&str> = body.split(':').collect();
        let int = |s: &str| -> Result<i128> {
            if s.is_empty() || s.len() > 18 || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(self.syntax());
            }
            s.parse().map_err(|_| self.syntax())
        };
        let (hours, minutes, seconds) = match parts.as_slice() {
            [h, m] => (int(h)?, int(m)?, 0.0),
            [h, m, s] => {
                let sec: f64 = if !s.is_empty()
                    && s.bytes().all(|b| b.is_ascii_digit() || b == b'.')
                    && s.bytes().filter(|b| *b == b'.').count() <= 1
                {
                    s.parse().map_err(|_| self.syntax())?
                } else {
                    return Err(self.syntax());
                };
                (int(h)?, int(m)?, sec)
            }
            _ => return Err(self.syntax()),
        };
        if minutes > 59 || seconds >= 60.0 {
            return Err(self.field_overflow());
        }
        let total = hours * 3_600_000_000
            + minutes * 60_000_000
            + (seconds * USECS_PER_SEC).round_ties_even() as i128;
        f.micros += if negative { -total } else { total };
        Ok(())
    }

    fn postgres_style(&self) -> Result<Fields> {
        let tokens = self.tokens()?;
        if tokens.is_empty() {
            return Err(self.syntax());
        }
        let mut f = Fields::default();
        let mut ago = false;
        let mut i = 0;
        while i < tokens.len() {
            match &tokens[i] {
                Token::Number(n) => {
                    let (int, frac) = self.number(n)?;
                    match tokens.get(i + 1) {
                        Some(Token::Word(w)) if w != "ago" => {
                            let unit = Unit::from_word(w).ok_or_else(|| self.syntax())?;
                            self.add(&mut f, unit, int, frac)?;
                            i += 2;
                            continue;
                        }
                        Some(Token::Time(_)) if frac == 0.0 => {
                            self.add(&mut f, Unit::Day, int, 0.0)?
                        }
                        _ => self.add(&mut f, Unit::Second, int, frac)?,
                    }
                }
                Token::Time(t) => self.time(&mut f, t)?,
                Token::Word(w) if w == "ago" && i + 1 == tokens.len() => ago = true,
                Token::Word(_) => return Err(self.syntax()),
            }
            i += 1;
        }
        if ago {
            f.months = -f.months;
            f.days = -f.days;
            f.micros = -f.micros;
        }
        Ok(f)
    }

    /// `P[nY][nM][nW][nD][T[nH][nM][nS]]`, numbers optionally signed and fractional.
    fn iso8601(&self, body: &str) -> Result<Fields> {
        let mut f = Fields::default();
        let mut in_time = false;
        let bytes = body.as_bytes();
        let mut i = 0;
        if bytes.is_empty() {
            return Err(self.syntax());
        }
        while i < bytes.len() {
            if bytes[i] == b'T' && !in_time {
                in_time = true;
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len()
                && (bytes[i].is_ascii_digit() || matches!(bytes[i], b'.' | b'-' | b'+'))
            {
                i += 1;
            }
            if i == start || i == bytes.len() {
                return Err(self.syntax());
            }
            let (int, frac) = self.number(&body[start..i])?;
            let unit = match (in_time, bytes[i]) {
                (false, b'Y') => Unit::Year,
                (false, b'M') => Unit::Month,
                (false, b'W') => Unit::Week,
                (false, b'D') => Unit::Day,
                (true, b'H') => Unit::Hour,
                (true, b'M') => Unit::Minute,
                (true, b'S') => Unit::Second,
                _ => return Err(self.syntax()),
            };
            self.add(&mut f, unit, int, frac)?;
            i += 1;
        }
        Ok(f)
    }
}

/// PostgreSQL's `interval_in` for the supported forms: 22007 for bad syntax, 22008
/// `interval field value out of range` when a field does not fit.
pub fn parse_interval(input: &str) -> Result<Interval> {
    let p = Parser { input };
    let trimmed = input.trim();
    let fields = match trimmed.strip_prefix('P') {
        Some(body) => p.iso8601(body)?,
        None => p.postgres_style()?,
    };
    let months = i32::try_from(fields.months).map_err(|_| p.field_overflow())?;
    let days = i32::try_from(fields.days).map_err(|_| p.field_overflow())?;
    let micros = i64::try_from(fields.micros).map_err(|_| p.field_overflow())?;
    Ok(Interval { months, days, micros })
}
