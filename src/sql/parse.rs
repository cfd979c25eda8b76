//! From SQL text to plans: split a Query string into statements, parse each with
//! sqlparser (PostgreSQL dialect), and plan it.
//!
//! A few statements are parsed here by hand because sqlparser does not accept
//! PostgreSQL's forms of them: VACUUM/ANALYZE with table lists, COPY … WITH (FREEZE
//! on), SET/SHOW/RESET (including SET TRANSACTION and SET SESSION CHARACTERISTICS),
//! and ABORT.

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer, Whitespace};

use crate::catalog::{Catalog, SearchPath};
use crate::error::{Error, ErrorKind, Result};
use crate::storage::Isolation;
use crate::types::DataType;

use super::plan::{Plan, TxnModes};
use super::planner::{serializable_refused, Planner};

/// A planned statement with its parameter types.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    /// The plan.
    pub plan: Plan,
    /// Parameter types (inferred where the client gave none).
    pub param_types: Vec<DataType>,
}

/// Splits a Query string at top-level semicolons (outside quotes, comments and
/// dollar-quoted strings). Empty pieces are dropped; a string of only `;` and blanks
/// yields nothing (an empty query).
pub fn split(sql: &str) -> Vec<&str> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\'' | b'"' => {
                let q = b[i];
                i += 1;
                while i < b.len() {
                    if b[i] == q {
                        if i + 1 < b.len() && b[i + 1] == q {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut depth = 0;
                while i < b.len() {
                    if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        i += 2;
                        continue;
                    }
                    if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                        continue;
                    }
                    i += 1;
                }
                continue;
            }
            b'$' => {
                // $tag$ … $tag$ (a parameter like $1 is not a tag: tags don't start with a digit)
                let tag_end = b[i + 1..].iter().position(|c| *c == b'$').map(|p| i + 1 + p);
                if let Some(end) = tag_end {
                    let tag = &sql[i..=end];
                    if tag[1..tag.len() - 1].bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
                        && !tag.as_bytes().get(1).is_some_and(|c| c.is_ascii_digit())
                    {
                        if let Some(close) = sql[end + 1..].find(tag) {
                            i = end + 1 + close + tag.len();
                            continue;
                        }
                    }
                }
            }
            b';' => {
                let piece = sql[start..i].trim();
                if !piece.is_empty() {
                    out.push(piece);
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    let piece = sql[start.min(sql.len())..].trim();
    if !piece.is_empty() {
        out.push(piece);
    }
    out
}

/// Words of a statement (lower-cased identifiers and keywords, string contents, and
/// punctuation), for the hand-parsed statements.
fn words(sql: &str) -> Result<Vec<String>> {
    let tokens = Tokenizer::new(&PostgreSqlDialect {}, sql)
        .tokenize()
        .map_err(|e| Error::syntax(e.to_string()))?;
    Ok(tokens
        .into_iter()
        .filter_map(|t| match t {
            Token::Whitespace(_) => None,
            Token::Word(w) if w.quote_style.is_some() => Some(w.value),
            Token::Word(w) => Some(w.value.to_lowercase()),
            Token::SingleQuotedString(s) => Some(format!("'{s}")),
            Token::Number(n, _) => Some(n),
            Token::SemiColon => None,
            other => Some(other.to_string()),
        })
        .collect())
}

/// CREATE [TEMPORARY] SEQUENCE (parsed by hand: see `constraints::create_sequence_words`).
fn is_create_sequence(sql: &str) -> Result<bool> {
    let w = words(sql)?;
    Ok(match w.get(1).map(String::as_str) {
        Some("sequence") => true,
        Some("temporary" | "temp" | "unlogged") => w.get(2).map(String::as_str) == Some("sequence"),
        _ => false,
    })
}

fn strip_quote(w: &str) -> &str {
    w.strip_prefix('\'').unwrap_or(w)
}

/// Plans one statement (no semicolons inside, except in literals).
pub fn plan_statement(
    sql: &str,
    catalog: &Catalog,
    path: &SearchPath,
    declared: &[u32],
) -> Result<Planned> {
    let first = sql
        .split(|c: char| c.is_whitespace() || c == '(' || c == ';')
        .next()
        .unwrap_or("")
        .to_lowercase();
    let mut planner = Planner::new(catalog, path, declared)?;
    let plan = match first.as_str() {
        "vacuum" | "analyze" | "analyse" => maintenance(sql, &planner)?,
        "copy" => copy(sql, &planner)?,
        "set" => set(sql)?,
        "show" => show(sql)?,
        "reset" => reset(sql)?,
        "abort" => Plan::Rollback,
        "checkpoint" => Plan::Maintenance("CHECKPOINT"),
        "create" if is_create_sequence(sql)? => {
            super::constraints::create_sequence_words(&words(sql)?, &planner)?
        }
        "prepare" | "execute" | "deallocate" | "discard" | "close" | "unlisten" | "listen"
        | "notify" => super::prepare::plan_session_statement(&first, sql, catalog, path)?,
        _ => {
            let stripped;
            let mut sql = sql;
            if first == "insert" {
                let (text, overriding) = super::constraints::strip_overriding(sql)?;
                planner.overriding = overriding;
                stripped = text;
                sql = &stripped;
            } else if let Some(text) = (first == "create")
                .then(|| super::constraints::order_identity_options(sql))
                .flatten()
            {
                stripped = text;
                sql = &stripped;
            } else if let Some((text, strengths)) = super::locking::strip_lock_strengths(sql) {
                planner.lock_strengths = strengths;
                stripped = text;
                sql = &stripped;
            }
            let stmts = parse_sql(sql).map_err(|e| syntax_error(sql, e))?;
            match stmts.as_slice() {
                [] => Plan::Empty,
                [s] => match super::advisory::plan_call(s, catalog, path, declared)? {
                    Some(call) => return Ok(call),
                    None => {
                        match super::pg_catalog::settings::plan_set_config(
                            s, catalog, path, declared,
                        )? {
                            Some(call) => return Ok(call),
                            None => planner.plan(s)?,
                        }
                    }
                },
                _ => {
                    return Err(Error::syntax(
                        "cannot insert multiple commands into a prepared statement",
                    ))
                }
            }
        }
    };
    Ok(Planned { plan, param_types: planner.param_types() })
}

/// Turns sqlparser's message into PostgreSQL's shape where we can, with the position
/// of the offending token (sqlparser reports its line and column).
/// The function name `parse_sql` wraps the low bound of `BETWEEN SYMMETRIC` in; the
/// planner (`planner/operators.rs`) unwraps it.
pub(crate) const SYMMETRIC_MARKER: &str = "__troupe_between_symmetric";

/// Parses with sqlparser, after fixes to its tokens where PostgreSQL reads them
/// differently or sqlparser lacks the syntax:
/// * the postfix operator `ISNULL` (sqlparser knows only `NOTNULL`) becomes `IS NULL`;
/// * `->-` (as in `j->-1`, which sqlparser lexes as one operator) becomes `->` `-`;
/// * `BETWEEN SYMMETRIC a AND b` becomes `BETWEEN marker(a) AND b`
///   ([`SYMMETRIC_MARKER`]), `BETWEEN ASYMMETRIC` plain `BETWEEN`;
/// * `trim(BOTH | LEADING | TRAILING FROM x)` gets its default characters, `' '`.
fn parse_sql(sql: &str) -> std::result::Result<Vec<sqlparser::ast::Statement>, ParserError> {
    let dialect = PostgreSqlDialect {};
    let tokens = Tokenizer::new(&dialect, sql).tokenize_with_location()?;
    let is_word = |t: &TokenWithSpan, w: &str| matches!(&t.token, Token::Word(x) if x.quote_style.is_none() && x.value.eq_ignore_ascii_case(w));
    let mut fixed: Vec<TokenWithSpan> = Vec::with_capacity(tokens.len());
    // Open marker calls: the paren depth and CASE depth at which each closes (before AND).
    let mut open: Vec<(usize, usize)> = Vec::new();
    let (mut depth, mut cases) = (0usize, 0usize);
    for t in tokens {
        let span = t.span;
        let with = |token: Token| TokenWithSpan::new(token, span);
        let last = fixed.iter().rev().find(|x| !matches!(x.token, Token::Whitespace(_)));
        let after_between = last.is_some_and(|l| is_word(l, "between"));
        match &t.token {
            Token::LParen => depth += 1,
            Token::RParen => depth = depth.saturating_sub(1),
            _ if is_word(&t, "case") => cases += 1,
            _ if is_word(&t, "end") => cases = cases.saturating_sub(1),
            _ => {}
        }
        if is_word(&t, "and") && open.last() == Some(&(depth, cases)) {
            open.pop();
            fixed.push(with(Token::RParen));
            fixed.push(t);
            continue;
        }
        match &t.token {
            Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("isnull") => {
                fixed.push(with(Token::make_keyword("IS")));
                fixed.push(with(Token::Whitespace(Whitespace::Space)));
                fixed.push(with(Token::make_keyword("NULL")));
            }
            Token::CustomBinaryOperator(op) if op == "->-" => {
                fixed.push(with(Token::Arrow));
                fixed.push(with(Token::Minus));
            }
            _ if after_between && is_word(&t, "asymmetric") => {}
            _ if after_between && is_word(&t, "symmetric") => {
                fixed.push(with(Token::make_word(SYMMETRIC_MARKER, None)));
                fixed.push(with(Token::LParen));
                open.push((depth, cases));
            }
            _ if is_word(&t, "from") && trim_without_characters(&fixed, is_word) => {
                fixed.push(with(Token::SingleQuotedString(" ".into())));
                fixed.push(with(Token::Whitespace(Whitespace::Space)));
                fixed.push(t);
            }
            _ => fixed.push(t),
        }
    }
    Parser::new(&dialect).with_tokens_with_locations(fixed).parse_statements()
}

/// True if the tokens so far end in `trim ( BOTH | LEADING | TRAILING`.
fn trim_without_characters(
    fixed: &[TokenWithSpan],
    is_word: impl Fn(&TokenWithSpan, &str) -> bool,
) -> bool {
    let mut seen = fixed.iter().rev().filter(|x| !matches!(x.token, Token::Whitespace(_)));
    let (Some(w), Some(p), Some(f)) = (seen.next(), seen.next(), seen.next()) else {
        return false;
    };
    ["both", "leading", "trailing"].iter().any(|k| is_word(w, k))
        && matches!(p.token, Token::LParen)
        && is_word(f, "trim")
}

fn syntax_error(sql: &str, e: ParserError) -> Error {
    let msg = e.to_string();
    let found = msg
        .split("found: ")
        .nth(1)
        .map(|s| s.split(" at Line").next().unwrap_or(s).trim().to_owned());
    let err = match found {
        Some(tok) if tok == "EOF" => {
            return Error::syntax("syntax error at end of input").at(sql.chars().count() as u32 + 1)
        }
        Some(tok) => {
            Error::syntax(format!("syntax error at or near \"{}\"", tok.trim_matches('"')))
        }
        None => Error::syntax(format!("syntax error: {msg}")),
    };
    match line_column(&msg) {
        Some((line, column)) => {
            let before: usize =
                sql.split('\n').take(line.saturating_sub(1)).map(|l| l.chars().count() + 1).sum();
            err.at((before + column) as u32)
        }
        None => err,
    }
}

/// `Line: L, Column: C` in a sqlparser message.
fn line_column(msg: &str) -> Option<(usize, usize)> {
    let rest = msg.split("Line: ").nth(1)?;
    let (line, rest) = rest.split_once(", Column: ")?;
    let column: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Some((line.trim().parse().ok()?, column.parse().ok()?))
}

fn maintenance(sql: &str, planner: &Planner) -> Result<Plan> {
    let w = words(sql)?;
    let tag = if w[0] == "vacuum" { "VACUUM" } else { "ANALYZE" };
    let mut names = Vec::new();
    let mut i = 1;
    if w.get(1).map(String::as_str) == Some("(") {
        while i < w.len() && w[i] != ")" {
            i += 1;
        }
        i += 1;
    }
    while i < w.len() {
        match w[i].as_str() {
            "analyze" | "analyse" | "full" | "verbose" | "freeze" | "," => {}
            "(" => return Err(Error::unsupported("VACUUM/ANALYZE of a column list")),
            // A schema-qualified name: `s.t`.
            s if w.get(i + 1).map(String::as_str) == Some(".") => {
                names.push(vec![s.to_owned(), w.get(i + 2).cloned().unwrap_or_default()]);
                i += 2;
            }
            name => names.push(vec![name.to_owned()]),
        }
        i += 1;
    }
    let mut tables = Vec::new();
    for n in names {
        tables.push(planner.table_named(&n)?);
    }
    Ok(match tag {
        "VACUUM" => Plan::Vacuum(tables),
        _ => Plan::Maintenance(tag),
    })
}

fn copy(sql: &str, planner: &Planner) -> Result<Plan> {
    let w = words(sql)?;
    let mut i = 1;
    let mut name =
        vec![w.get(i).cloned().ok_or_else(|| Error::syntax("syntax error at end of input"))?];
    i += 1;
    if w.get(i).map(String::as_str) == Some(".") {
        name.push(w.get(i + 1).cloned().unwrap_or_default());
        i += 2;
    }
    let table = planner.table_named(&name)?;
    let mut columns = Vec::new();
    if w.get(i).map(String::as_str) == Some("(") {
        i += 1;
        while i < w.len() && w[i] != ")" {
            if w[i] != "," {
                let c = table.column_index(&w[i]).ok_or_else(|| {
                    Error::new(
                        ErrorKind::UndefinedColumn,
                        format!(
                            "column \"{}\" of relation \"{}\" does not exist",
                            w[i], table.name
                        ),
                    )
                })?;
                columns.push(c);
            }
            i += 1;
        }
        i += 1;
    } else {
        columns = (0..table.columns.len()).collect();
    }
    match (w.get(i).map(String::as_str), w.get(i + 1).map(String::as_str)) {
        (Some("from"), Some("stdin")) => {}
        (Some("to"), _) => return Err(Error::unsupported("COPY TO")),
        (Some("from"), _) => return Err(Error::unsupported("COPY FROM a file or program")),
        _ => {
            return Err(Error::syntax(format!(
                "syntax error at or near \"{}\"",
                w.get(i).cloned().unwrap_or_default()
            )))
        }
    }
    i += 2;
    let mut binary = false;
    if w.get(i).map(String::as_str) == Some("with") {
        i += 1;
    }
    if w.get(i).map(String::as_str) == Some("(") {
        i += 1;
        while i < w.len() && w[i] != ")" {
            let opt = w[i].clone();
            let val = w.get(i + 1).filter(|v| *v != "," && *v != ")").cloned();
            if val.is_some() {
                i += 1;
            }
            match (opt.as_str(), val.as_deref().map(strip_quote)) {
                ("format", Some("text")) => {}
                ("format", Some("binary")) => binary = true,
                ("freeze", None | Some("on" | "true" | "1" | "off" | "false" | "0")) => {}
                ("delimiter", Some("\t"))
                | ("null", Some("\\N"))
                | ("encoding", Some("UTF8" | "utf8")) => {}
                (o, v) => {
                    return Err(Error::unsupported(format!("COPY option {o} {}", v.unwrap_or(""))))
                }
            }
            i += 1;
            if w.get(i).map(String::as_str) == Some(",") {
                i += 1;
            }
        }
    } else if i < w.len() {
        return Err(Error::unsupported(format!("COPY option {}", w[i])));
    }
    Ok(Plan::CopyFrom { table, columns, binary })
}

fn isolation_words(w: &[String]) -> Result<Isolation> {
    match w.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["read", "committed", ..] | ["read", "uncommitted", ..] => Ok(Isolation::ReadCommitted),
        ["repeatable", "read", ..] => Ok(Isolation::RepeatableRead),
        ["serializable", ..] => Err(serializable_refused()),
        _ => Err(Error::syntax("syntax error in ISOLATION LEVEL")),
    }
}

/// The modes after `SET TRANSACTION` (or `… AS TRANSACTION`): `ISOLATION LEVEL …`,
/// `READ ONLY`, `READ WRITE`, `[NOT] DEFERRABLE` (which only SERIALIZABLE would heed),
/// with or without commas between them.
fn transaction_words(w: &[String]) -> Result<TxnModes> {
    let word = |i: usize| w.get(i).map(String::as_str);
    let mut modes = TxnModes::default();
    let mut i = 0;
    while i < w.len() {
        match (w[i].as_str(), word(i + 1)) {
            (",", _) if i > 0 => i += 1,
            ("isolation", Some("level")) => {
                modes.isolation = Some(isolation_words(&w[i + 2..])?);
                i += if word(i + 2) == Some("serializable") { 3 } else { 4 };
            }
            ("read", Some(mode @ ("only" | "write"))) => {
                modes.read_only = Some(mode == "only");
                i += 2;
            }
            ("deferrable", _) => i += 1,
            ("not", Some("deferrable")) => i += 2,
            (other, _) => {
                return Err(Error::syntax(format!("syntax error at or near \"{other}\"")))
            }
        }
    }
    if w.is_empty() {
        return Err(Error::syntax("syntax error at end of input"));
    }
    Ok(modes)
}

fn set(sql: &str) -> Result<Plan> {
    let w = words(sql)?;
    let mut i = 1;
    let mut local = false;
    match w.get(i).map(String::as_str) {
        Some("session") if w.get(i + 1).map(String::as_str) == Some("characteristics") => {
            // SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL … | READ ONLY …
            let at = w
                .iter()
                .position(|x| x == "transaction")
                .ok_or_else(|| Error::syntax("syntax error at or near \"characteristics\""))?;
            let (name, value) = match transaction_words(&w[at + 1..])? {
                TxnModes { isolation: Some(iso), read_only: None } => {
                    ("default_transaction_isolation", isolation_name(iso))
                }
                TxnModes { isolation: None, read_only: Some(ro) } => {
                    ("default_transaction_read_only", if ro { "on" } else { "off" })
                }
                _ => {
                    return Err(Error::unsupported(
                        "SET SESSION CHARACTERISTICS with several modes",
                    ))
                }
            };
            return Ok(Plan::Set { name: name.into(), value: Some(value.into()), local: false });
        }
        Some("session") => i += 1,
        Some("local") => {
            local = true;
            i += 1
        }
        _ => {}
    }
    match w.get(i).map(String::as_str) {
        Some("transaction") => {
            if w.get(i + 1).map(String::as_str) == Some("snapshot") {
                return Err(Error::unsupported("SET TRANSACTION SNAPSHOT"));
            }
            return Ok(Plan::SetTransaction(transaction_words(&w[i + 1..])?));
        }
        Some("time") if w.get(i + 1).map(String::as_str) == Some("zone") => {
            let v = w.get(i + 2).map(|s| strip_quote(s).to_owned());
            let v = if v.as_deref() == Some("local") || v.as_deref() == Some("default") {
                None
            } else {
                v
            };
            return Ok(Plan::Set { name: "TimeZone".into(), value: v, local });
        }
        Some("names") => {
            return Ok(Plan::Set {
                name: "client_encoding".into(),
                value: w.get(i + 1).map(|s| strip_quote(s).to_owned()),
                local,
            })
        }
        Some("session_authorization" | "role") | Some("session" | "authorization") => {
            return Err(Error::unsupported("SET ROLE / SESSION AUTHORIZATION"))
        }
        _ => {}
    }
    let name = w.get(i).cloned().ok_or_else(|| Error::syntax("syntax error at end of input"))?;
    i += 1;
    match w.get(i).map(String::as_str) {
        Some("to" | "=") => i += 1,
        _ => {
            return Err(Error::syntax(format!(
                "syntax error at or near \"{}\"",
                w.get(i).cloned().unwrap_or_default()
            )))
        }
    }
    let rest: Vec<&str> = w[i..].iter().map(|s| strip_quote(s)).filter(|s| *s != ",").collect();
    if rest.is_empty() {
        return Err(Error::syntax("syntax error at end of input"));
    }
    let value = if rest == ["default"] { None } else { Some(rest.join(", ")) };
    Ok(Plan::Set { name, value, local })
}

/// PostgreSQL's name for an isolation level.
pub fn isolation_name(i: Isolation) -> &'static str {
    match i {
        Isolation::ReadCommitted => "read committed",
        Isolation::RepeatableRead => "repeatable read",
    }
}

fn show(sql: &str) -> Result<Plan> {
    let w = words(sql)?;
    match w.get(1..).unwrap_or(&[]).iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["transaction", "isolation", "level"] => Ok(Plan::Show("transaction_isolation".into())),
        ["time", "zone"] => Ok(Plan::Show("TimeZone".into())),
        ["all"] => Err(Error::unsupported("SHOW ALL")),
        [name] => Ok(Plan::Show(name.to_string())),
        _ => Err(Error::syntax("syntax error in SHOW")),
    }
}

fn reset(sql: &str) -> Result<Plan> {
    let w = words(sql)?;
    match w.get(1..).unwrap_or(&[]).iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["all"] => Ok(Plan::Reset(None)),
        ["time", "zone"] => Ok(Plan::Reset(Some("TimeZone".into()))),
        [name] => Ok(Plan::Reset(Some(name.to_string()))),
        _ => Err(Error::syntax("syntax error in RESET")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_respects_quotes_comments_and_dollar_quotes() {
        assert_eq!(split("select 1; select ';'"), vec!["select 1", "select ';'"]);
        assert_eq!(split("select $$a;b$$; select 2;"), vec!["select $$a;b$$", "select 2"]);
        assert_eq!(split("-- c;\nselect 1"), vec!["-- c;\nselect 1"]);
        assert_eq!(split(" ; ; "), Vec::<&str>::new());
        assert_eq!(split("select $1; select 2"), vec!["select $1", "select 2"]);
    }
}
