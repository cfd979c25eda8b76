//! The sans-IO core of a sequence: its definition, its counter, and the log-ahead
//! decision (no locks, no WAL, no clock here).
//!
//! The counter is PostgreSQL's `(last_value, is_called)`: the next value is
//! `last_value` itself when `is_called` is false, else `last_value + increment`
//! (wrapping to the other bound with CYCLE, else 2200H). Besides the counter the core
//! remembers `safe`: how far values may be handed out without a new durable record.
//!
//! ```text
//!  increment 1, LOG_AHEAD 32:
//!    durable record (32, called)       handed out: 1 2 3 … 32 (no fsync)
//!    nextval → 33 > safe 32            ⇒ Step::Log(record (64, called)) first,
//!                                        then safe = 64 and 33 is handed out
//!    crash after 40                    restart from (64, called): next is 65
//! ```
//! Every value handed out is at or before the position the newest durable record
//! resumes from, so no value repeats after a crash, also values a transaction that
//! never committed used (nextval is not transactional). Wrapping around (CYCLE)
//! always logs first: `safe` only says how far ahead is covered, not behind.

use crate::error::{Error, ErrorKind, Result};
use crate::types::DataType;

/// Values logged ahead with each durable sequence record (PostgreSQL's SEQ_LOG_VALS).
pub const LOG_AHEAD: i128 = 32;

/// A sequence's definition (CREATE SEQUENCE's options, resolved to their defaults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceDef {
    /// Its schema.
    pub schema: String,
    /// Name (case-folded).
    pub name: String,
    /// Its pg_class oid (shares the table oid counter).
    pub oid: u32,
    /// `AS` type: int2, int4 or int8.
    pub ty: DataType,
    /// INCREMENT BY (never 0).
    pub increment: i64,
    /// MINVALUE.
    pub min: i64,
    /// MAXVALUE.
    pub max: i64,
    /// START WITH.
    pub start: i64,
    /// CACHE (accepted; values are handed out one at a time from the shared counter).
    pub cache: i64,
    /// CYCLE.
    pub cycle: bool,
    /// `OWNED BY table.column` (SERIAL and identity sequences): dropped with the table.
    pub owned_by: Option<(String, String)>,
}

/// The durable counter: what a sequence record stores besides the definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter {
    /// PostgreSQL's `last_value`.
    pub last: i64,
    /// PostgreSQL's `is_called`.
    pub is_called: bool,
}

/// What [`SeqState::next`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Hand this value out (already taken).
    Value(i64),
    /// Make this counter durable first, then call [`SeqState::logged`] and ask again.
    Log(Counter),
}

/// A live sequence's counter and how far it is covered by durable records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeqState {
    /// The counter as handed out so far.
    pub counter: Counter,
    /// Values up to here (in the increment's direction) may be handed out without a
    /// new record; `None` when nothing is covered.
    safe: Option<i64>,
    /// The newest record was written for a wrap-around (CYCLE) that is still to be
    /// taken: the next wrapped value is covered by it.
    wrap_logged: bool,
}

impl SequenceDef {
    /// Resolves CREATE SEQUENCE's options against PostgreSQL's defaults and checks
    /// them (22023 with PostgreSQL's messages). The sequence is in public until the
    /// caller sets `schema`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        name: String,
        oid: u32,
        ty: DataType,
        increment: Option<i64>,
        min: Option<i64>,
        max: Option<i64>,
        start: Option<i64>,
        cache: Option<i64>,
        cycle: bool,
    ) -> Result<SequenceDef> {
        let (type_min, type_max) = match ty {
            DataType::Int2 => (i16::MIN as i64, i16::MAX as i64),
            DataType::Int4 => (i32::MIN as i64, i32::MAX as i64),
            _ => (i64::MIN, i64::MAX),
        };
        let increment = increment.unwrap_or(1);
        if increment == 0 {
            return Err(invalid("INCREMENT must not be zero".into()));
        }
        let max = max.unwrap_or(if increment > 0 { type_max } else { -1 });
        let min = min.unwrap_or(if increment > 0 { 1 } else { type_min });
        let tname = ty.display_name();
        if max < type_min || max > type_max {
            return Err(invalid(format!(
                "MAXVALUE ({max}) is out of range for sequence data type {tname}"
            )));
        }
        if min < type_min || min > type_max {
            return Err(invalid(format!(
                "MINVALUE ({min}) is out of range for sequence data type {tname}"
            )));
        }
        if min >= max {
            return Err(invalid(format!("MINVALUE ({min}) must be less than MAXVALUE ({max})")));
        }
        let start = start.unwrap_or(if increment > 0 { min } else { max });
        if start < min {
            return Err(invalid(format!(
                "START value ({start}) cannot be less than MINVALUE ({min})"
            )));
        }
        if start > max {
            return Err(invalid(format!(
                "START value ({start}) cannot be greater than MAXVALUE ({max})"
            )));
        }
        let cache = cache.unwrap_or(1);
        if cache <= 0 {
            return Err(invalid(format!("CACHE ({cache}) must be greater than zero")));
        }
        let schema = crate::catalog::PUBLIC.to_owned();
        Ok(SequenceDef {
            schema,
            name,
            oid,
            ty,
            increment,
            min,
            max,
            start,
            cache,
            cycle,
            owned_by: None,
        })
    }

    /// The counter of a fresh sequence (or after `ALTER SEQUENCE … RESTART`).
    pub fn fresh(&self) -> Counter {
        Counter { last: self.start, is_called: false }
    }

    /// Checks a setval target (22003 out of bounds).
    pub fn check_setval(&self, value: i64) -> Result<()> {
        if value < self.min || value > self.max {
            return Err(Error::new(
                ErrorKind::NumericValueOutOfRange,
                format!(
                    "setval: value {value} is out of bounds for sequence \"{}\" ({}..{})",
                    self.name, self.min, self.max
                ),
            ));
        }
        Ok(())
    }

    /// The catalog record: definition and counter (`s1` format, one field a line; the
    /// last, the schema, came later: a record without it is in public).
    pub fn encode(&self, counter: Counter) -> Vec<u8> {
        let owned = match &self.owned_by {
            Some((t, c)) => format!("{}\t{}", escape(t), escape(c)),
            None => "-".into(),
        };
        format!(
            "s1\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{owned}\n{}\t{}\n{}\n",
            escape(&self.name),
            self.oid,
            self.ty.oid(),
            self.increment,
            self.min,
            self.max,
            self.start,
            self.cache,
            u8::from(self.cycle),
            counter.last,
            u8::from(counter.is_called),
            escape(&self.schema),
        )
        .into_bytes()
    }

    /// Inverse of [`SequenceDef::encode`].
    pub fn decode(bytes: &[u8]) -> Result<(SequenceDef, Counter)> {
        let bad = || Error::internal("corrupt sequence record in the catalog");
        let text = std::str::from_utf8(bytes).map_err(|_| bad())?;
        let l: Vec<&str> = text.lines().collect();
        let (schema, l) = match l.len() {
            13 => (unescape(l[12])?, &l[..12]),
            _ => (crate::catalog::PUBLIC.to_owned(), &l[..]),
        };
        let [tag, name, oid, ty, inc, min, max, start, cache, cycle, owned, counter] = l[..] else {
            return Err(bad());
        };
        if tag != "s1" {
            return Err(bad());
        }
        let num = |s: &str| s.parse::<i64>().map_err(|_| bad());
        let owned_by = match owned.split_once('\t') {
            Some((t, c)) => Some((unescape(t)?, unescape(c)?)),
            None if owned == "-" => None,
            None => return Err(bad()),
        };
        let (last, called) = counter.split_once('\t').ok_or_else(bad)?;
        let def = SequenceDef {
            schema,
            name: unescape(name)?,
            oid: oid.parse().map_err(|_| bad())?,
            ty: DataType::from_oid(ty.parse().map_err(|_| bad())?).ok_or_else(bad)?,
            increment: num(inc)?,
            min: num(min)?,
            max: num(max)?,
            start: num(start)?,
            cache: num(cache)?,
            cycle: cycle == "1",
            owned_by,
        };
        Ok((def, Counter { last: num(last)?, is_called: called == "1" }))
    }
}

impl SeqState {
    /// The state of a sequence whose newest durable record holds `counter`: values
    /// the record's position already passed are covered.
    pub fn recovered(def: &SequenceDef, counter: Counter) -> SeqState {
        let safe = if counter.is_called { Some(counter.last) } else { None };
        let _ = def;
        SeqState { counter, safe, wrap_logged: false }
    }

    /// Takes the next value, or asks for a durable record first.
    pub fn next(&mut self, def: &SequenceDef) -> Result<Step> {
        let Counter { last, is_called } = self.counter;
        let (value, wrapped) = if !is_called {
            (last, false)
        } else {
            let n = last as i128 + def.increment as i128;
            if n > def.max as i128 {
                if !def.cycle {
                    return Err(limit(def, "maximum", def.max));
                }
                (def.min, true)
            } else if n < def.min as i128 {
                if !def.cycle {
                    return Err(limit(def, "minimum", def.min));
                }
                (def.max, true)
            } else {
                (n as i64, false)
            }
        };
        let covered = (!wrapped || self.wrap_logged)
            && self.safe.is_some_and(|s| if def.increment > 0 { value <= s } else { value >= s });
        if covered {
            self.wrap_logged = false;
            self.counter = Counter { last: value, is_called: true };
            return Ok(Step::Value(value));
        }
        let ahead = value as i128 + def.increment as i128 * (LOG_AHEAD - 1);
        let mark = ahead.clamp(def.min as i128, def.max as i128) as i64;
        Ok(Step::Log(Counter { last: mark, is_called: true }))
    }

    /// A record asked for by [`SeqState::next`] is durable: values up to its position
    /// are covered. The caller logs one record at a time and asks `next` again under
    /// the same log lock, so `record` is the newest one.
    pub fn logged(&mut self, record: Counter) {
        self.safe = Some(record.last);
        // The counter stands still until the logger takes its value (nobody takes a
        // value it does not cover), so a record for a wrap is for this wrap.
        self.wrap_logged = true;
    }

    /// setval(value, is_called), once its record is durable.
    pub fn set(&mut self, counter: Counter) {
        self.counter = counter;
        self.safe = if counter.is_called { Some(counter.last) } else { None };
        self.wrap_logged = false;
    }
}

fn limit(def: &SequenceDef, which: &str, bound: i64) -> Error {
    Error::new(
        ErrorKind::SequenceGeneratorLimitExceeded,
        format!("nextval: reached {which} value of sequence \"{}\" ({bound})", def.name),
    )
}

fn invalid(message: String) -> Error {
    Error::new(ErrorKind::InvalidParameterValue, message)
}

use crate::catalog::encoding::{escape, unescape};

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn def(inc: i64, min: Option<i64>, max: Option<i64>, cycle: bool) -> SequenceDef {
        SequenceDef::new("s".into(), 1, DataType::Int8, Some(inc), min, max, None, None, cycle)
            .unwrap()
    }

    /// Drives `next` like the shell does, counting the records it had to write.
    fn take(d: &SequenceDef, s: &mut SeqState, logs: &mut Vec<i64>) -> Result<i64> {
        loop {
            match s.next(d)? {
                Step::Value(v) => return Ok(v),
                Step::Log(c) => {
                    logs.push(c.last);
                    s.logged(c);
                }
            }
        }
    }

    #[test]
    fn one_record_covers_a_batch_of_values() {
        let d = def(1, None, None, false);
        let mut s = SeqState::recovered(&d, d.fresh());
        let mut logs = Vec::new();
        let got: Vec<i64> = (0..70).map(|_| take(&d, &mut s, &mut logs).unwrap()).collect();
        assert_eq!(got, (1..=70).collect::<Vec<_>>());
        assert_eq!(logs, [32, 64, 96]);
    }

    #[test]
    fn after_a_crash_the_next_value_is_past_every_value_handed_out() {
        let d = def(5, None, None, false);
        let mut s = SeqState::recovered(&d, d.fresh());
        let mut logs = Vec::new();
        let mut handed = Vec::new();
        for _ in 0..40 {
            handed.push(take(&d, &mut s, &mut logs).unwrap());
        }
        let durable = Counter { last: *logs.last().unwrap(), is_called: true };
        let mut after = SeqState::recovered(&d, durable);
        let next = take(&d, &mut after, &mut Vec::new()).unwrap();
        assert!(handed.iter().all(|&v| v < next), "{next} repeats a value");
    }

    #[test]
    fn limits_and_cycles_as_postgres() {
        let d = def(1, None, Some(3), false);
        let mut s = SeqState::recovered(&d, d.fresh());
        let mut logs = Vec::new();
        for want in 1..=3 {
            assert_eq!(take(&d, &mut s, &mut logs).unwrap(), want);
        }
        let e = take(&d, &mut s, &mut logs).unwrap_err();
        assert_eq!(e.message, "nextval: reached maximum value of sequence \"s\" (3)");
        let d = def(-1, Some(-2), Some(-1), true);
        let mut s = SeqState::recovered(&d, d.fresh());
        let got: Vec<i64> = (0..5).map(|_| take(&d, &mut s, &mut logs).unwrap()).collect();
        assert_eq!(got, [-1, -2, -1, -2, -1]);
    }

    #[test]
    fn options_are_checked_with_postgres_messages() {
        let e =
            SequenceDef::new("s".into(), 1, DataType::Int8, Some(0), None, None, None, None, false)
                .unwrap_err();
        assert_eq!(e.message, "INCREMENT must not be zero");
        let e = SequenceDef::new(
            "s".into(),
            1,
            DataType::Int8,
            None,
            Some(5),
            Some(5),
            None,
            None,
            false,
        )
        .unwrap_err();
        assert_eq!(e.message, "MINVALUE (5) must be less than MAXVALUE (5)");
        let e =
            SequenceDef::new("s".into(), 1, DataType::Int4, None, None, None, Some(0), None, false)
                .unwrap_err();
        assert_eq!(e.message, "START value (0) cannot be less than MINVALUE (1)");
    }

    #[test]
    fn records_round_trip() {
        let mut d = def(2, None, Some(100), true);
        d.owned_by = Some(("t".into(), "id".into()));
        let c = Counter { last: 42, is_called: true };
        assert_eq!(SequenceDef::decode(&d.encode(c)).unwrap(), (d, c));
        assert!(SequenceDef::decode(b"s1\nx\n").is_err());
    }
}
