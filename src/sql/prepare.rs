//! The statements drivers send about the session itself, parsed by hand (sqlparser
//! does not accept all of PostgreSQL's forms): `PREPARE name [(types)] AS stmt`,
//! `EXECUTE name [(args)]`, `DEALLOCATE [PREPARE] name | ALL`, `DISCARD ALL`,
//! `CLOSE name | ALL` and `UNLISTEN name | *`.
//!
//! ```text
//!  PREPARE p (int4) AS SELECT … WHERE id = $1   ─▶ Plan::Prepare { planned with int4 }
//!  EXECUTE p (5)                                ─▶ Plan::Execute { args: ["5"] }
//!        session: SELECT CAST((5) AS integer) → [Int4(5)] → runs p's plan with them
//! ```
//!
//! SQL-level prepared statements share the session's namespace with the protocol's
//! named statements, as in PostgreSQL: `DEALLOCATE ALL` (psycopg 3 sends it) drops
//! both, and a Bind may name a statement made by PREPARE.
//! pg_prepared_statements lists the named ones (`session::Prepared::view_row`); its
//! `statement` is the PREPARE statement alone, where PostgreSQL shows the whole query
//! string the PREPARE came in (the same when it came alone).
//!
//! Not here: LISTEN and NOTIFY (refused with 0A000), DISCARD PLANS / SEQUENCES / TEMP
//! (0A000), SQL cursors (none exist, so `CLOSE name` is 34000 and `CLOSE ALL` does
//! nothing).

use sqlparser::ast::{SelectItem, SetExpr, Statement};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use crate::catalog::{Catalog, SearchPath};
use crate::error::{Error, Result};
use crate::types::DataType;

use super::parse::plan_statement;
use super::plan::Plan;

/// Plans one of the statements above; `first` is its first word, lower-cased.
pub fn plan_session_statement(
    first: &str,
    sql: &str,
    catalog: &Catalog,
    path: &SearchPath,
) -> Result<Plan> {
    let rest = sql.trim()[first.len()..].trim();
    match first {
        "prepare" => prepare(rest, catalog, path, sql),
        "execute" => execute(rest),
        "deallocate" => {
            let rest = strip_word(rest, "prepare").unwrap_or(rest);
            match rest {
                "" => Err(Error::syntax("syntax error at end of input")),
                r if r.eq_ignore_ascii_case("all") => Ok(Plan::Deallocate(None)),
                r => Ok(Plan::Deallocate(Some(identifier(r)?.0))),
            }
        }
        "discard" => match rest.to_ascii_lowercase().as_str() {
            "all" => Ok(Plan::DiscardAll),
            "plans" | "sequences" | "temp" | "temporary" => {
                Err(Error::unsupported(format!("DISCARD {}", rest.to_ascii_uppercase())))
            }
            _ => Err(Error::syntax(format!("syntax error at or near \"{rest}\""))),
        },
        "close" => match rest {
            "" => Err(Error::syntax("syntax error at end of input")),
            r if r.eq_ignore_ascii_case("all") => Ok(Plan::CloseCursor(None)),
            r => Ok(Plan::CloseCursor(Some(identifier(r)?.0))),
        },
        "unlisten" => match rest {
            "" => Err(Error::syntax("syntax error at end of input")),
            _ => Ok(Plan::Unlisten),
        },
        _ => Err(Error::unsupported(first.to_ascii_uppercase())),
    }
}

/// `rest` without a leading keyword `word` (case-insensitive, followed by a blank).
fn strip_word<'a>(rest: &'a str, word: &str) -> Option<&'a str> {
    let head = rest.get(..word.len())?;
    let tail = &rest[word.len()..];
    (head.eq_ignore_ascii_case(word) && tail.starts_with(char::is_whitespace))
        .then(|| tail.trim_start())
}

/// An identifier at the start of `s` (folded to lower case unless double-quoted) and
/// the text after it.
fn identifier(s: &str) -> Result<(String, &str)> {
    if let Some(quoted) = s.strip_prefix('"') {
        let end =
            quoted.find('"').ok_or_else(|| Error::syntax("unterminated quoted identifier"))?;
        return Ok((quoted[..end].to_owned(), &quoted[end + 1..]));
    }
    let end = s.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$')).unwrap_or(s.len());
    if end == 0 {
        let near: String = s.chars().take_while(|c| !c.is_whitespace()).collect();
        return Err(Error::syntax(format!("syntax error at or near \"{near}\"")));
    }
    Ok((s[..end].to_lowercase(), &s[end..]))
}

/// The text inside the parentheses that open `s` (nested ones kept) and what follows.
fn parenthesized(s: &str) -> Result<(&str, &str)> {
    let mut depth = 0;
    let mut quote = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth == 0 {
                    return Ok((&s[1..i], &s[i + 1..]));
                }
            }
            _ => {}
        }
    }
    Err(Error::syntax("syntax error at end of input"))
}

/// Splits at top-level commas (outside parentheses and quotes).
fn split_commas(s: &str) -> Vec<&str> {
    let (mut depth, mut quote, mut start) = (0, None, 0);
    let mut out = Vec::new();
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => depth -= 1,
            (None, ',') if depth == 0 => {
                out.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(s[start..].trim());
    out
}

/// `name [(type, …)] AS statement`.
fn prepare(rest: &str, catalog: &Catalog, path: &SearchPath, source: &str) -> Result<Plan> {
    let (name, after) = identifier(rest)?;
    let mut after = after.trim_start();
    let mut oids = Vec::new();
    if after.starts_with('(') {
        let (types, tail) = parenthesized(after)?;
        for t in split_commas(types) {
            let ast = Parser::new(&PostgreSqlDialect {})
                .try_with_sql(t)
                .and_then(|mut p| p.parse_data_type())
                .map_err(|_| Error::syntax(format!("syntax error at or near \"{t}\"")))?;
            oids.push(DataType::from_sql(&ast)?.oid());
        }
        after = tail.trim_start();
    }
    let body = strip_word(after, "as").ok_or_else(|| {
        let near: String = after.chars().take_while(|c| !c.is_whitespace()).collect();
        Error::syntax(format!("syntax error at or near \"{near}\""))
    })?;
    let planned = plan_statement(body, catalog, path, &oids)?;
    if planned.plan.is_transaction_control()
        || matches!(planned.plan, Plan::Prepare { .. } | Plan::Execute { .. })
    {
        return Err(Error::unsupported("PREPARE of this statement kind"));
    }
    Ok(Plan::Prepare {
        name,
        sql: body.to_owned(),
        planned: Box::new(planned),
        source: source.trim().to_owned(),
    })
}

/// `name [(arg, …)]`: each argument is checked as an expression here and evaluated,
/// cast to its parameter's type, when the statement runs.
fn execute(rest: &str) -> Result<Plan> {
    let (name, after) = identifier(rest)?;
    let after = after.trim();
    if after.is_empty() {
        return Ok(Plan::Execute { name, args: Vec::new() });
    }
    if !after.starts_with('(') {
        return Err(Error::syntax(format!("syntax error at or near \"{after}\"")));
    }
    let (inner, tail) = parenthesized(after)?;
    if !tail.trim().is_empty() {
        return Err(Error::syntax(format!("syntax error at or near \"{}\"", tail.trim())));
    }
    let select = format!("SELECT {inner}");
    let stmts = Parser::parse_sql(&PostgreSqlDialect {}, &select)
        .map_err(|e| Error::syntax(format!("syntax error in EXECUTE arguments: {e}")))?;
    let mut args = Vec::new();
    if let [Statement::Query(q)] = stmts.as_slice() {
        if let SetExpr::Select(s) = q.body.as_ref() {
            for item in &s.projection {
                match item {
                    SelectItem::UnnamedExpr(e) => args.push(e.to_string()),
                    _ => return Err(Error::syntax("syntax error in EXECUTE arguments")),
                }
            }
        }
    }
    Ok(Plan::Execute { name, args })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_lists() {
        assert_eq!(strip_word("PREPARE p", "prepare"), Some("p"));
        assert_eq!(strip_word("prepared", "prepare"), None);
        assert_eq!(identifier("\"Q\" (1)").expect("quoted").0, "Q");
        assert_eq!(identifier("Abc(1)").expect("plain"), ("abc".to_owned(), "(1)"));
        assert_eq!(parenthesized("(a, (b, ')')) AS x").expect("parens"), ("a, (b, ')')", " AS x"));
        assert_eq!(split_commas("1, f(2, 3), ','"), vec!["1", "f(2, 3)", "','"]);
    }

    #[test]
    fn execute_arguments_are_expressions() {
        match execute("p (5, 'a''b', 1 + 2)").expect("execute") {
            Plan::Execute { name, args } => {
                assert_eq!(name, "p");
                assert_eq!(args, vec!["5", "'a''b'", "1 + 2"]);
            }
            other => panic!("unexpected plan {other:?}"),
        }
    }
}
