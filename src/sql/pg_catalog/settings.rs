//! pg_settings, `current_setting` and `set_config`: the session's settings
//! (`session::settings::Settings`, what SET and SHOW act on) seen from SQL.
//!
//! ```text
//!   Session.settings ──clone (shared map)──▶ SessionFacts.settings
//!        ▲                                      ├─▶ current_setting(name [, missing_ok])
//!        │                                      └─▶ pg_settings rows
//!   SELECT set_config(n, v, local)  ─▶ Plan::SetConfig ─▶ Session::set (as SET [LOCAL])
//! ```
//! `set_config` changes the session, which an expression cannot (expressions are
//! evaluated with a read-only view of the session), so it is served only as a
//! statement of its own, `SELECT set_config(…) [AS alias]` — the form drivers and
//! pg_dump send; inside a larger query it is refused with 0A000.
//!
//! pg_settings lists the parameters troupe has, with PostgreSQL 15's descriptions,
//! contexts, types, ranges and enum values; `setting` is the session's value,
//! `boot_val` troupe's default, `source` is `session` for a value SET in this session
//! (`client` for application_name from the start-up packet) and `default` otherwise.
//! `reset_val` is the default too: a start-up parameter other than
//! application_name shows its default there (troupe does not keep the start-up
//! values apart from the session's).

use sqlparser::ast::{
    Expr as AstExpr, FunctionArg, FunctionArgExpr, FunctionArguments, SelectItem, SetExpr,
    Statement,
};

use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::session::settings::Settings;
use crate::sql::parse::{plan_statement, Planned};
use crate::sql::plan::{OutCol, Plan, QueryPlan};
use crate::types::{DataType, Value};

/// A lone `SELECT set_config(name, value, is_local)`.
#[derive(Debug, Clone, PartialEq)]
pub struct SetConfigCall {
    /// Evaluates the three arguments (as text, text, bool).
    pub args: QueryPlan,
    /// The result column (`set_config`, or the alias).
    pub column: OutCol,
}

/// The error for `set_config` where it cannot change the session.
pub fn set_config_refused() -> Error {
    Error::unsupported("set_config inside a larger query (call it alone: SELECT set_config(…))")
}

/// Plans `stmt` as a set_config call if it is `SELECT set_config(a, b, c) [AS x]`.
pub fn plan_set_config(
    stmt: &Statement,
    catalog: &Catalog,
    path: &crate::catalog::SearchPath,
    declared: &[u32],
) -> Result<Option<Planned>> {
    let Statement::Query(q) = stmt else { return Ok(None) };
    let SetExpr::Select(s) = q.body.as_ref() else { return Ok(None) };
    if !s.from.is_empty() || s.projection.len() != 1 || s.selection.is_some() {
        return Ok(None);
    }
    let (expr, alias) = match &s.projection[0] {
        SelectItem::UnnamedExpr(e) => (e, None),
        SelectItem::ExprWithAlias { expr, alias } => (expr, Some(alias.value.clone())),
        _ => return Ok(None),
    };
    let AstExpr::Function(f) = expr else { return Ok(None) };
    let name = f.name.to_string().to_lowercase();
    if name != "set_config" && name != "pg_catalog.set_config" {
        return Ok(None);
    }
    let FunctionArguments::List(l) = &f.args else { return Ok(None) };
    let args: Vec<String> = l
        .args
        .iter()
        .map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e.to_string()),
            _ => None,
        })
        .collect::<Option<_>>()
        .unwrap_or_default();
    if args.len() != 3 {
        return Ok(None); // resolution reports the missing function
    }
    let sql = format!(
        "SELECT CAST(({}) AS text), CAST(({}) AS text), CAST(({}) AS boolean)",
        args[0], args[1], args[2]
    );
    let planned = plan_statement(&sql, catalog, path, declared)?;
    let Plan::Query(args) = planned.plan else {
        return Err(Error::internal("set_config arguments did not plan as a query"));
    };
    let column = OutCol {
        name: alias.unwrap_or_else(|| "set_config".to_owned()),
        ty: DataType::Text,
        table_oid: 0,
        column: 0,
    };
    Ok(Some(Planned {
        plan: Plan::SetConfig(Box::new(SetConfigCall { args, column })),
        param_types: planned.param_types,
    }))
}

/// `current_setting(name [, missing_ok])`.
pub fn current_setting(args: &[Value], settings: Option<&Settings>) -> Result<Value> {
    let Some(Value::Text(name)) = args.first() else { return Ok(Value::Null) };
    let missing_ok = matches!(args.get(1), Some(Value::Bool(true)));
    let Some(settings) = settings else { return Ok(Value::Null) };
    match settings.get(name) {
        Ok(v) => Ok(Value::Text(v)),
        Err(_) if missing_ok => Ok(Value::Null),
        Err(e) => Err(e),
    }
}

/// PostgreSQL 15's description of a parameter.
struct Gucs {
    name: &'static str,
    unit: Option<&'static str>,
    category: &'static str,
    short_desc: &'static str,
    extra_desc: Option<&'static str>,
    context: &'static str,
    vartype: &'static str,
    #[allow(dead_code)] // PostgreSQL's source on its reference server, kept for comparison
    source: &'static str,
    min: Option<&'static str>,
    max: Option<&'static str>,
    enumvals: &'static [&'static str],
    #[allow(dead_code)] // PostgreSQL's boot value; troupe's own default is shown
    boot: &'static str,
}

/// The columns of pg_settings.
pub fn columns() -> Vec<(&'static str, DataType)> {
    use DataType::*;
    let t = || Text;
    vec![
        ("name", t()),
        ("setting", t()),
        ("unit", t()),
        ("category", t()),
        ("short_desc", t()),
        ("extra_desc", t()),
        ("context", t()),
        ("vartype", t()),
        ("source", t()),
        ("min_val", t()),
        ("max_val", t()),
        ("enumvals", Array(Box::new(Text))),
        ("boot_val", t()),
        ("reset_val", t()),
        ("sourcefile", t()),
        ("sourceline", Int4),
        ("pending_restart", Bool),
    ]
}

/// pg_settings: one row per parameter the session has.
pub fn rows(settings: Option<&Settings>) -> Vec<Vec<Value>> {
    let Some(settings) = settings else { return Vec::new() };
    let app = settings.get("application_name").unwrap_or_default();
    let defaults = Settings::new("postgres", &app);
    let opt = |s: Option<&str>| s.map_or(Value::Null, |v| Value::Text(v.to_owned()));
    let text = |s: &str| Value::Text(s.to_owned());
    GUCS.iter()
        .filter_map(|g| {
            let mut value = settings.get(g.name).ok()?;
            if g.unit == Some("ms") {
                value = milliseconds(&value);
            }
            let default = defaults.get(g.name).unwrap_or_default();
            let source = if g.name == "application_name" && !value.is_empty() {
                "client"
            } else if value != default {
                "session"
            } else {
                "default"
            };
            let enumvals = if g.enumvals.is_empty() {
                Value::Null
            } else {
                Value::Array(g.enumvals.iter().map(|e| text(e)).collect())
            };
            Some(vec![
                text(g.name),
                text(&value),
                opt(g.unit),
                text(g.category),
                text(g.short_desc),
                opt(g.extra_desc),
                text(g.context),
                text(g.vartype),
                text(source),
                opt(g.min),
                opt(g.max),
                enumvals,
                text(&default),
                text(&default),
                Value::Null,
                Value::Null,
                Value::Bool(false),
            ])
        })
        .collect()
}

/// A duration as SHOW prints it (`5s`, `250ms`, `2min`) in milliseconds, as
/// pg_settings.setting shows a parameter whose unit is ms.
fn milliseconds(shown: &str) -> String {
    let digits: String = shown.chars().take_while(|c| c.is_ascii_digit()).collect();
    let factor = match &shown[digits.len()..] {
        "s" => 1000,
        "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => 1,
    };
    digits.parse::<u64>().map_or_else(|_| shown.to_owned(), |n| (n * factor).to_string())
}

#[rustfmt::skip]
const GUCS: &[Gucs] = &[
    Gucs { name: "DateStyle", unit: None, category: "Client Connection Defaults / Locale and Formatting", short_desc: "Sets the display format for date and time values.", extra_desc: Some("Also controls interpretation of ambiguous date inputs."), context: "user", vartype: "string", source: "configuration file", min: None, max: None, enumvals: &[], boot: "ISO, MDY" },
    Gucs { name: "IntervalStyle", unit: None, category: "Client Connection Defaults / Locale and Formatting", short_desc: "Sets the display format for interval values.", extra_desc: None, context: "user", vartype: "enum", source: "default", min: None, max: None, enumvals: &["postgres", "postgres_verbose", "sql_standard", "iso_8601"], boot: "postgres" },
    Gucs { name: "TimeZone", unit: None, category: "Client Connection Defaults / Locale and Formatting", short_desc: "Sets the time zone for displaying and interpreting time stamps.", extra_desc: None, context: "user", vartype: "string", source: "configuration file", min: None, max: None, enumvals: &[], boot: "GMT" },
    Gucs { name: "application_name", unit: None, category: "Reporting and Logging / What to Log", short_desc: "Sets the application name to be reported in statistics and logs.", extra_desc: None, context: "user", vartype: "string", source: "client", min: None, max: None, enumvals: &[], boot: "" },
    Gucs { name: "block_size", unit: None, category: "Preset Options", short_desc: "Shows the size of a disk block.", extra_desc: None, context: "internal", vartype: "integer", source: "default", min: Some("8192"), max: Some("8192"), enumvals: &[], boot: "8192" },
    Gucs { name: "bytea_output", unit: None, category: "Client Connection Defaults / Statement Behavior", short_desc: "Sets the output format for bytea.", extra_desc: None, context: "user", vartype: "enum", source: "default", min: None, max: None, enumvals: &["escape", "hex"], boot: "hex" },
    Gucs { name: "client_encoding", unit: None, category: "Client Connection Defaults / Locale and Formatting", short_desc: "Sets the client's character set encoding.", extra_desc: None, context: "user", vartype: "string", source: "default", min: None, max: None, enumvals: &[], boot: "SQL_ASCII" },
    Gucs { name: "client_min_messages", unit: None, category: "Client Connection Defaults / Statement Behavior", short_desc: "Sets the message levels that are sent to the client.", extra_desc: Some("Each level includes all the levels that follow it. The later the level, the fewer messages are sent."), context: "user", vartype: "enum", source: "default", min: None, max: None, enumvals: &["debug5", "debug4", "debug3", "debug2", "debug1", "log", "notice", "warning", "error"], boot: "notice" },
    Gucs { name: "default_transaction_isolation", unit: None, category: "Client Connection Defaults / Statement Behavior", short_desc: "Sets the transaction isolation level of each new transaction.", extra_desc: None, context: "user", vartype: "enum", source: "default", min: None, max: None, enumvals: &["serializable", "repeatable read", "read committed", "read uncommitted"], boot: "read committed" },
    Gucs { name: "default_transaction_read_only", unit: None, category: "Client Connection Defaults / Statement Behavior", short_desc: "Sets the default read-only status of new transactions.", extra_desc: None, context: "user", vartype: "bool", source: "default", min: None, max: None, enumvals: &[], boot: "off" },
    Gucs { name: "extra_float_digits", unit: None, category: "Client Connection Defaults / Locale and Formatting", short_desc: "Sets the number of digits displayed for floating-point values.", extra_desc: Some("This affects real, double precision, and geometric data types. A zero or negative parameter value is added to the standard number of digits (FLT_DIG or DBL_DIG as appropriate). Any value greater than zero selects precise output mode."), context: "user", vartype: "integer", source: "default", min: Some("-15"), max: Some("3"), enumvals: &[], boot: "1" },
    Gucs { name: "idle_in_transaction_session_timeout", unit: Some("ms"), category: "Client Connection Defaults / Statement Behavior", short_desc: "Sets the maximum allowed idle time between queries, when in a transaction.", extra_desc: Some("A value of 0 turns off the timeout."), context: "user", vartype: "integer", source: "default", min: Some("0"), max: Some("2147483647"), enumvals: &[], boot: "0" },
    Gucs { name: "in_hot_standby", unit: None, category: "Preset Options", short_desc: "Shows whether hot standby is currently active.", extra_desc: None, context: "internal", vartype: "bool", source: "default", min: None, max: None, enumvals: &[], boot: "off" },
    Gucs { name: "integer_datetimes", unit: None, category: "Preset Options", short_desc: "Shows whether datetimes are integer based.", extra_desc: None, context: "internal", vartype: "bool", source: "default", min: None, max: None, enumvals: &[], boot: "on" },
    Gucs { name: "jit", unit: None, category: "Query Tuning / Other Planner Options", short_desc: "Allow JIT compilation.", extra_desc: None, context: "user", vartype: "bool", source: "default", min: None, max: None, enumvals: &[], boot: "on" },
    Gucs { name: "lc_collate", unit: None, category: "Preset Options", short_desc: "Shows the collation order locale.", extra_desc: None, context: "internal", vartype: "string", source: "default", min: None, max: None, enumvals: &[], boot: "C" },
    Gucs { name: "lc_ctype", unit: None, category: "Preset Options", short_desc: "Shows the character classification and case conversion locale.", extra_desc: None, context: "internal", vartype: "string", source: "default", min: None, max: None, enumvals: &[], boot: "C" },
    Gucs { name: "lc_messages", unit: None, category: "Client Connection Defaults / Locale and Formatting", short_desc: "Sets the language in which messages are displayed.", extra_desc: None, context: "superuser", vartype: "string", source: "configuration file", min: None, max: None, enumvals: &[], boot: "" },
    Gucs { name: "lc_monetary", unit: None, category: "Client Connection Defaults / Locale and Formatting", short_desc: "Sets the locale for formatting monetary amounts.", extra_desc: None, context: "user", vartype: "string", source: "configuration file", min: None, max: None, enumvals: &[], boot: "C" },
    Gucs { name: "lc_numeric", unit: None, category: "Client Connection Defaults / Locale and Formatting", short_desc: "Sets the locale for formatting numbers.", extra_desc: None, context: "user", vartype: "string", source: "configuration file", min: None, max: None, enumvals: &[], boot: "C" },
    Gucs { name: "lc_time", unit: None, category: "Client Connection Defaults / Locale and Formatting", short_desc: "Sets the locale for formatting date and time values.", extra_desc: None, context: "user", vartype: "string", source: "configuration file", min: None, max: None, enumvals: &[], boot: "C" },
    Gucs { name: "lock_timeout", unit: Some("ms"), category: "Client Connection Defaults / Statement Behavior", short_desc: "Sets the maximum allowed duration of any wait for a lock.", extra_desc: Some("A value of 0 turns off the timeout."), context: "user", vartype: "integer", source: "default", min: Some("0"), max: Some("2147483647"), enumvals: &[], boot: "0" },
    Gucs { name: "max_connections", unit: None, category: "Connections and Authentication / Connection Settings", short_desc: "Sets the maximum number of concurrent connections.", extra_desc: None, context: "postmaster", vartype: "integer", source: "configuration file", min: Some("1"), max: Some("262143"), enumvals: &[], boot: "100" },
    Gucs { name: "row_security", unit: None, category: "Client Connection Defaults / Statement Behavior", short_desc: "Enable row security.", extra_desc: Some("When enabled, row security will be applied to all users."), context: "user", vartype: "bool", source: "default", min: None, max: None, enumvals: &[], boot: "on" },
    Gucs { name: "search_path", unit: None, category: "Client Connection Defaults / Statement Behavior", short_desc: "Sets the schema search order for names that are not schema-qualified.", extra_desc: None, context: "user", vartype: "string", source: "default", min: None, max: None, enumvals: &[], boot: r#""$user", public"# },
    Gucs { name: "server_encoding", unit: None, category: "Preset Options", short_desc: "Shows the server (database) character set encoding.", extra_desc: None, context: "internal", vartype: "string", source: "default", min: None, max: None, enumvals: &[], boot: "SQL_ASCII" },
    Gucs { name: "server_version", unit: None, category: "Preset Options", short_desc: "Shows the server version.", extra_desc: None, context: "internal", vartype: "string", source: "default", min: None, max: None, enumvals: &[], boot: "15.18 (Debian 15.18-0+deb12u1)" },
    Gucs { name: "server_version_num", unit: None, category: "Preset Options", short_desc: "Shows the server version as an integer.", extra_desc: None, context: "internal", vartype: "integer", source: "default", min: Some("150018"), max: Some("150018"), enumvals: &[], boot: "150018" },
    Gucs { name: "standard_conforming_strings", unit: None, category: "Version and Platform Compatibility / Previous PostgreSQL Versions", short_desc: "Causes '...' strings to treat backslashes literally.", extra_desc: None, context: "user", vartype: "bool", source: "default", min: None, max: None, enumvals: &[], boot: "on" },
    Gucs { name: "statement_timeout", unit: Some("ms"), category: "Client Connection Defaults / Statement Behavior", short_desc: "Sets the maximum allowed duration of any statement.", extra_desc: Some("A value of 0 turns off the timeout."), context: "user", vartype: "integer", source: "default", min: Some("0"), max: Some("2147483647"), enumvals: &[], boot: "0" },
    Gucs { name: "synchronous_commit", unit: None, category: "Write-Ahead Log / Settings", short_desc: "Sets the current transaction's synchronization level.", extra_desc: None, context: "user", vartype: "enum", source: "configuration file", min: None, max: None, enumvals: &["local", "remote_write", "remote_apply", "on", "off"], boot: "on" },
    Gucs { name: "transaction_isolation", unit: None, category: "Client Connection Defaults / Statement Behavior", short_desc: "Sets the current transaction's isolation level.", extra_desc: None, context: "user", vartype: "enum", source: "override", min: None, max: None, enumvals: &["serializable", "repeatable read", "read committed", "read uncommitted"], boot: "read committed" },
    Gucs { name: "transaction_read_only", unit: None, category: "Client Connection Defaults / Statement Behavior", short_desc: "Sets the current transaction's read-only status.", extra_desc: None, context: "user", vartype: "bool", source: "override", min: None, max: None, enumvals: &[], boot: "off" },
];
