//! Session settings (GUCs): SET, SHOW, RESET, and the ParameterStatus reports.
//!
//! Only parameters troupe honours are settable; a value it cannot honour (an
//! idle_in_transaction_session_timeout, a POSIX time zone with daylight-saving rules)
//! is refused with 0A000 rather than accepted and ignored. `TimeZone` is parsed once,
//! at SET, into a [`Zone`] that statements and the wire read ([`Settings::zone`]). `lock_timeout` and `statement_timeout` are read
//! and shown as PostgreSQL does (`'1000'` shows as `1s`) and enforced by the session.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::error::{Error, ErrorKind, Result};
use crate::storage::Isolation;
use crate::types::Zone;

/// The server_version reported to clients (psql and libpq pick query variants by it).
pub const SERVER_VERSION: &str = "15.18 (troupe 0.1.0)";

/// Parameters PostgreSQL reports with ParameterStatus at start-up and on change, in
/// PostgreSQL 15's start-up order.
pub const REPORTED: &[&str] = &[
    "application_name",
    "client_encoding",
    "DateStyle",
    "default_transaction_read_only",
    "in_hot_standby",
    "integer_datetimes",
    "IntervalStyle",
    "is_superuser",
    "server_encoding",
    "server_version",
    "session_authorization",
    "standard_conforming_strings",
    "TimeZone",
];

/// What [`Settings::token`] returns.
#[derive(Debug, Clone)]
pub struct SettingsToken(Arc<BTreeMap<String, String>>);

/// The settings of one session. Cloning is cheap (the map is shared until a SET
/// changes it): each statement's `SessionFacts` carries a clone for
/// `current_setting` and `pg_settings`.
#[derive(Debug, Clone)]
pub struct Settings {
    values: Arc<BTreeMap<String, String>>,
    /// The current transaction's isolation level and read-only status, which
    /// `transaction_isolation` and `transaction_read_only` show (set on the copy a
    /// statement reads, [`Settings::in_transaction`]); `None`: the defaults'.
    transaction: Option<(Isolation, bool)>,
    /// `TimeZone`, parsed.
    zone: Zone,
}

fn canonical(name: &str) -> String {
    let lower = name.to_lowercase();
    match lower.as_str() {
        "datestyle" => "DateStyle".to_owned(),
        "intervalstyle" => "IntervalStyle".to_owned(),
        "timezone" => "TimeZone".to_owned(),
        _ => lower,
    }
}

fn read_only(name: &str) -> bool {
    matches!(
        name,
        "server_version"
            | "server_version_num"
            | "server_encoding"
            | "integer_datetimes"
            | "in_hot_standby"
            | "is_superuser"
            | "max_connections"
            | "block_size"
            | "lc_collate"
            | "lc_ctype"
    )
}

impl Settings {
    /// Defaults, with the user and application name from the start-up packet.
    pub fn new(user: &str, application_name: &str) -> Settings {
        let mut v = BTreeMap::new();
        for (k, val) in [
            ("application_name", application_name),
            ("client_encoding", "UTF8"),
            ("DateStyle", "ISO, MDY"),
            ("default_transaction_isolation", "read committed"),
            ("transaction_isolation", "read committed"),
            ("default_transaction_read_only", "off"),
            ("in_hot_standby", "off"),
            ("integer_datetimes", "on"),
            ("IntervalStyle", "postgres"),
            ("is_superuser", "on"),
            ("server_encoding", "UTF8"),
            ("server_version", SERVER_VERSION),
            ("server_version_num", "150018"),
            ("session_authorization", user),
            ("standard_conforming_strings", "on"),
            ("TimeZone", "Etc/UTC"),
            ("search_path", "\"$user\", public"),
            ("extra_float_digits", "1"),
            ("statement_timeout", "0"),
            ("lock_timeout", "0"),
            ("idle_in_transaction_session_timeout", "0"),
            ("synchronous_commit", "on"),
            ("max_connections", "10000"),
            ("block_size", "8192"),
            ("lc_collate", "C.UTF-8"),
            ("lc_ctype", "C.UTF-8"),
            ("lc_messages", "C.UTF-8"),
            ("lc_monetary", "C.UTF-8"),
            ("lc_numeric", "C.UTF-8"),
            ("lc_time", "C.UTF-8"),
            ("transaction_read_only", "off"),
            ("client_min_messages", "notice"),
            ("bytea_output", "hex"),
            ("row_security", "on"),
            ("jit", "off"),
        ] {
            v.insert(k.to_owned(), val.to_owned());
        }
        Settings { values: Arc::new(v), transaction: None, zone: Zone::default() }
    }

    /// These settings as seen inside a transaction of level `isolation`, read-only or
    /// not: what SHOW, `current_setting` and pg_settings give for
    /// `transaction_isolation` and `transaction_read_only`.
    pub fn in_transaction(&self, isolation: Isolation, read_only: bool) -> Settings {
        Settings {
            values: self.values.clone(),
            transaction: Some((isolation, read_only)),
            zone: self.zone,
        }
    }

    /// The value of `name` (case-insensitive), or 42704.
    pub fn get(&self, name: &str) -> Result<String> {
        let key = canonical(name);
        let (isolation, read_only) =
            self.transaction.unwrap_or((self.default_isolation(), self.default_read_only()));
        match key.as_str() {
            "transaction_isolation" => Ok(crate::sql::parse::isolation_name(isolation).to_owned()),
            "transaction_read_only" => Ok(on_off(read_only).to_owned()),
            _ => self.values.get(&key).cloned().ok_or_else(|| unrecognized(name)),
        }
    }

    /// The session's time zone (`TimeZone`).
    pub fn zone(&self) -> Zone {
        self.zone
    }

    /// Whether the transaction these settings belong to is read-only (the default's,
    /// outside one).
    pub fn read_only(&self) -> bool {
        self.transaction.map_or_else(|| self.default_read_only(), |(_, ro)| ro)
    }

    /// Whether new transactions are read-only (`default_transaction_read_only`).
    pub fn default_read_only(&self) -> bool {
        self.values.get("default_transaction_read_only").is_some_and(|v| v == "on")
    }

    /// The default isolation level for new transactions.
    pub fn default_isolation(&self) -> Isolation {
        match self.values.get("default_transaction_isolation").map(String::as_str) {
            Some("repeatable read") => Isolation::RepeatableRead,
            _ => Isolation::ReadCommitted,
        }
    }

    /// A timeout setting (`statement_timeout`, `lock_timeout`); `None` when 0 (off).
    pub fn timeout(&self, name: &str) -> Option<std::time::Duration> {
        let ms = self.values.get(name).and_then(|v| parse_ms(name, v).ok()).unwrap_or(0);
        (ms > 0).then(|| std::time::Duration::from_millis(ms))
    }

    /// Sets `name` to `value` (`None` = default); returns the canonical name if it is a
    /// reported parameter (the session then sends ParameterStatus).
    pub fn set(&mut self, name: &str, value: Option<&str>) -> Result<Option<String>> {
        let key = canonical(name);
        if !self.values.contains_key(&key) {
            return Err(unrecognized(name));
        }
        if read_only(&key) {
            return Err(Error::new(
                ErrorKind::ObjectInUse,
                format!("parameter \"{key}\" cannot be changed"),
            )
            .with_hint("It is a read-only server parameter."));
        }
        let default = Settings::new("postgres", "");
        let value = match value {
            Some(v) => v.to_owned(),
            None => default.values.get(&key).cloned().unwrap_or_default(),
        };
        let value = if key == "TimeZone" {
            let (zone, shown) = Zone::from_setting(&value)?;
            self.zone = zone;
            shown
        } else {
            validate(&key, &value)?
        };
        Arc::make_mut(&mut self.values).insert(key.clone(), value);
        Ok(REPORTED.contains(&key.as_str()).then_some(key))
    }

    /// Every parameter and its value, by name.
    pub fn all(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// A token for the current values: [`Settings::unchanged_since`] is true while no
    /// value has changed. Holding it keeps the values shared, so the next change copies
    /// them (copy-on-write) and the token no longer matches.
    pub fn token(&self) -> SettingsToken {
        SettingsToken(self.values.clone())
    }

    /// True if no value changed since `token` was taken (a pointer comparison: the
    /// per-statement check before ReadyForQuery costs nothing when nothing was SET).
    pub fn unchanged_since(&self, token: &SettingsToken) -> bool {
        Arc::ptr_eq(&self.values, &token.0)
    }

    /// The reported parameters whose values differ from `last` (what the client was
    /// last told), with their new values; empty (and allocation-free) when none do.
    pub fn changed_reports(&self, last: &[(String, String)]) -> Vec<(String, String)> {
        let same = |(k, v): &(String, String)| self.values.get(k).is_some_and(|now| now == v);
        if last.len() == REPORTED.len() && last.iter().all(same) {
            return Vec::new();
        }
        self.reported().into_iter().filter(|kv| !last.contains(kv)).collect()
    }

    /// Every reported parameter, in start-up order.
    pub fn reported(&self) -> Vec<(String, String)> {
        REPORTED
            .iter()
            .map(|k| (k.to_string(), self.values.get(*k).cloned().unwrap_or_default()))
            .collect()
    }
}

fn on_off(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}

/// A boolean setting's value (`on`, `true`, `yes`, `1`, … as PostgreSQL reads one).
pub fn parse_bool(name: &str, value: &str) -> Result<bool> {
    match value.to_lowercase().as_str() {
        "on" | "true" | "yes" | "1" | "t" | "y" => Ok(true),
        "off" | "false" | "no" | "0" | "f" | "n" => Ok(false),
        _ => Err(Error::new(
            ErrorKind::InvalidParameterValue,
            format!("parameter \"{name}\" requires a Boolean value"),
        )),
    }
}

fn unrecognized(name: &str) -> Error {
    Error::new(
        ErrorKind::UndefinedObject,
        format!("unrecognized configuration parameter \"{name}\""),
    )
}

fn invalid(name: &str, value: &str) -> Error {
    Error::new(
        ErrorKind::InvalidParameterValue,
        format!("invalid value for parameter \"{name}\": \"{value}\""),
    )
}

/// Normalises and checks a value.
fn validate(name: &str, value: &str) -> Result<String> {
    let lower = value.to_lowercase();
    Ok(match name {
        "default_transaction_isolation" | "transaction_isolation" => match lower.as_str() {
            "read committed" | "read uncommitted" => "read committed".to_owned(),
            "repeatable read" => "repeatable read".to_owned(),
            "serializable" => return Err(crate::sql::serializable_refused()),
            _ => return Err(invalid(name, value)),
        },
        // asyncpg sends `'utf-8'`, quotes included; PostgreSQL accepts it.
        "client_encoding" => match lower.trim_matches('\'').replace(['-', '_'], "").as_str() {
            "utf8" | "unicode" => "UTF8".to_owned(),
            _ => return Err(Error::unsupported(format!("client_encoding \"{value}\""))),
        },
        "DateStyle" => {
            if lower.contains("iso") || lower.contains("mdy") {
                "ISO, MDY".to_owned()
            } else {
                return Err(Error::unsupported(format!("DateStyle \"{value}\" (only ISO)")));
            }
        }
        "statement_timeout" | "lock_timeout" => format_ms(parse_ms(name, value)?),
        "idle_in_transaction_session_timeout" => {
            if lower == "0" || lower == "0ms" || lower == "0s" {
                "0".to_owned()
            } else {
                return Err(Error::unsupported(format!("{name} other than 0")));
            }
        }
        "standard_conforming_strings" => match lower.as_str() {
            "on" | "true" | "1" => "on".to_owned(),
            _ => return Err(Error::unsupported("standard_conforming_strings = off")),
        },
        "default_transaction_read_only" | "transaction_read_only" => {
            on_off(parse_bool(name, value)?).to_owned()
        }
        // Any list: schemas that do not exist are skipped when names are looked up
        // (`catalog::namespace`), as PostgreSQL skips them.
        _ => value.to_owned(),
    })
}

/// A time setting in milliseconds, as PostgreSQL reads one: a bare integer is
/// milliseconds; units `us`, `ms`, `s`, `min`, `h`, `d` may follow, spaces allowed.
fn parse_ms(name: &str, value: &str) -> Result<u64> {
    let invalid = || {
        Error::new(
            ErrorKind::InvalidParameterValue,
            format!("invalid value for parameter \"{name}\": \"{value}\""),
        )
    };
    let v = value.trim();
    let split = v.find(|c: char| !(c.is_ascii_digit() || c == '-' || c == '.')).unwrap_or(v.len());
    let (num, unit) = (v[..split].trim(), v[split..].trim());
    let n: f64 = num.parse().map_err(|_| invalid())?;
    let per_unit = match unit {
        "" | "ms" => 1.0,
        "us" => 0.001,
        "s" => 1_000.0,
        "min" => 60_000.0,
        "h" => 3_600_000.0,
        "d" => 86_400_000.0,
        _ => return Err(invalid().with_hint(
            "Valid units for this parameter are \"us\", \"ms\", \"s\", \"min\", \"h\", and \"d\".",
        )),
    };
    let ms = (n * per_unit).round();
    if !(0.0..=2_147_483_647.0).contains(&ms) {
        return Err(Error::new(
            ErrorKind::InvalidParameterValue,
            format!(
                "{ms} ms is outside the valid range for parameter \"{name}\" (0 .. 2147483647)"
            ),
        ));
    }
    Ok(ms as u64)
}

/// A millisecond setting as SHOW prints it: the largest unit that divides it evenly.
fn format_ms(ms: u64) -> String {
    if ms == 0 {
        return "0".to_owned();
    }
    for (unit, size) in [("d", 86_400_000), ("h", 3_600_000), ("min", 60_000), ("s", 1_000)] {
        if ms.is_multiple_of(size) {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}

#[cfg(test)]
mod timeout_tests {
    use super::*;

    #[test]
    fn timeouts_read_and_print_as_postgresql_does() {
        assert_eq!(format_ms(parse_ms("lock_timeout", "1000").expect("ms")), "1s");
        assert_eq!(format_ms(parse_ms("lock_timeout", "1500").expect("ms")), "1500ms");
        assert_eq!(format_ms(parse_ms("lock_timeout", "60 s").expect("s")), "1min");
        assert_eq!(format_ms(parse_ms("lock_timeout", "0").expect("0")), "0");
        let err = parse_ms("lock_timeout", "abc").expect_err("22023");
        assert_eq!(err.message, "invalid value for parameter \"lock_timeout\": \"abc\"");
        assert!(parse_ms("lock_timeout", "5 parsecs").is_err());
        assert!(parse_ms("lock_timeout", "-1").is_err());
    }
}
