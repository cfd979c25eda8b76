//! Planning DEFAULT, CHECK, SERIAL and identity columns, and CREATE / DROP SEQUENCE.
//!
//! The catalog keeps defaults and checks as SQL text ([`crate::catalog::Column`],
//! [`crate::catalog::CheckDef`]), as PostgreSQL keeps an expression; they are bound
//! again whenever an INSERT or UPDATE is planned (prepared statements re-plan when the
//! catalog changes), so what runs is always the current definition:
//!
//! ```text
//!  CREATE TABLE t (id serial, n int DEFAULT 7 CHECK (n > 0))
//!    planner: id int4 NOT NULL, sequence (int4) to create; n default "7";
//!             check t_n_check "n > 0"
//!    session: names the sequence t_id_seq, sets id's default
//!             "nextval('public.t_id_seq'::regclass)" (bound: session/defaults.rs),
//!             commits table + sequence records in one WAL record
//!  INSERT INTO t (n) VALUES (DEFAULT)
//!    planner: n ← bound "7"; omitted id ← bound nextval(…) (InsertPlan.defaults);
//!             checks [t_n_check: n > 0]
//!    dml:     row = (nextval…, 7) → NOT NULL → CHECKs in name order (NULL passes)
//! ```
//!
//! Constraint names follow PostgreSQL: a column CHECK is `<table>_<column>_check`, a
//! table CHECK takes the first column its expression names (`<table>_check` if none),
//! and a taken name gets a number (`t_n_check1`).

use sqlparser::ast;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Location, Token, TokenWithSpan, Tokenizer};

use crate::catalog::{CheckDef, Column, Identity, TableDef, TableId};
use crate::error::{Error, ErrorKind, Result};
use crate::sequence::SequenceDef;
use crate::types::{DataType, Value};

use super::expr::Expr;
use super::plan::{BoundCheck, Plan};
use super::planner::{ident, Planner, Scope};

/// The sequences a new table's SERIAL / identity columns need, by column position.
pub type OwnedSequences = Vec<(usize, SequenceDef)>;

/// `INSERT … OVERRIDING {SYSTEM|USER} VALUE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overriding {
    /// Explicit values go into GENERATED ALWAYS identity columns.
    System,
    /// Explicit values for identity columns are ignored (their sequence is used).
    User,
}

/// What CREATE TABLE found in one column's options besides NULL / NOT NULL / PK.
#[derive(Debug, Default)]
pub struct ColumnExtras {
    default: Option<ast::Expr>,
    identity: Option<(Identity, Vec<ast::SequenceOptions>)>,
    checks: Vec<(Option<String>, ast::Expr)>,
    serial: bool,
}

impl ColumnExtras {
    /// SERIAL / BIGSERIAL / SMALLSERIAL: the column's real type, if `ty` is one.
    pub fn serial_type(ty: &ast::DataType) -> Option<DataType> {
        let ast::DataType::Custom(name, mods) = ty else { return None };
        if !mods.is_empty() {
            return None;
        }
        match name.to_string().to_lowercase().as_str() {
            "serial" | "serial4" => Some(DataType::Int4),
            "bigserial" | "serial8" => Some(DataType::Int8),
            "smallserial" | "serial2" => Some(DataType::Int2),
            _ => None,
        }
    }

    /// Marks a SERIAL column.
    pub fn serial() -> ColumnExtras {
        ColumnExtras { serial: true, ..ColumnExtras::default() }
    }

    /// Takes one column option; `Err` (0A000) for options troupe does not have.
    pub fn option(&mut self, o: &ast::ColumnOptionDef) -> Result<()> {
        match &o.option {
            ast::ColumnOption::Default(e) => self.default = Some(e.clone()),
            ast::ColumnOption::Check(c) => {
                let name = o.name.as_ref().or(c.name.as_ref()).map(ident);
                self.checks.push((name, (*c.expr).clone()));
            }
            ast::ColumnOption::Generated {
                generated_as,
                sequence_options,
                generation_expr: None,
                ..
            } => {
                let kind = match generated_as {
                    ast::GeneratedAs::Always => Identity::Always,
                    ast::GeneratedAs::ByDefault => Identity::ByDefault,
                    ast::GeneratedAs::ExpStored => return Err(unsupported("generated columns")),
                };
                self.identity = Some((kind, sequence_options.clone().unwrap_or_default()));
            }
            ast::ColumnOption::Generated { .. } => return Err(unsupported("generated columns")),
            other => return Err(unsupported(format!("column option {other}"))),
        }
        Ok(())
    }
}

/// True for the `DEFAULT` keyword in VALUES or in UPDATE's SET.
pub fn is_default_keyword(e: &ast::Expr) -> bool {
    matches!(e, ast::Expr::Identifier(id)
        if id.value.eq_ignore_ascii_case("default") && id.quote_style.is_none())
}

/// Cuts `OVERRIDING {SYSTEM|USER} VALUE` out of an INSERT's text (sqlparser does not
/// parse it) and says which it was.
pub fn strip_overriding(sql: &str) -> Result<(String, Option<Overriding>)> {
    let tokens = Tokenizer::new(&PostgreSqlDialect {}, sql)
        .tokenize_with_location()
        .map_err(|e| Error::syntax(e.to_string()))?;
    let words: Vec<(usize, String)> = tokens
        .iter()
        .enumerate()
        .filter_map(|(i, t)| match &t.token {
            Token::Whitespace(_) => None,
            Token::Word(w) if w.quote_style.is_none() => Some((i, w.value.to_lowercase())),
            other => Some((i, other.to_string())),
        })
        .collect();
    for w in words.windows(3) {
        let which = match (w[0].1.as_str(), w[1].1.as_str(), w[2].1.as_str()) {
            ("overriding", "system", "value") => Overriding::System,
            ("overriding", "user", "value") => Overriding::User,
            _ => continue,
        };
        let offset = |i: usize| byte_offset(sql, tokens[i].span.start);
        let (start, end) = (offset(w[0].0), offset(w[2].0) + "value".len());
        return Ok((format!("{} {}", &sql[..start], &sql[end.min(sql.len())..]), Some(which)));
    }
    Ok((sql.to_owned(), None))
}

/// The byte offset in `sql` of a token's location (line and column, 1-based, in
/// characters).
fn byte_offset(sql: &str, loc: Location) -> usize {
    let before: usize =
        sql.split('\n').take((loc.line as usize).saturating_sub(1)).map(|l| l.len() + 1).sum();
    let line = sql[before.min(sql.len())..].split('\n').next().unwrap_or("");
    before
        + line
            .chars()
            .take((loc.column as usize).saturating_sub(1))
            .map(char::len_utf8)
            .sum::<usize>()
}

/// Puts the options of each `AS IDENTITY ( … )` in the order sqlparser reads them
/// (INCREMENT, MINVALUE, MAXVALUE, START, CACHE, CYCLE): PostgreSQL takes them in any
/// order (`START WITH 50 INCREMENT BY 10`), sqlparser only in that one. `None` when
/// the statement has no such list to reorder.
pub fn order_identity_options(sql: &str) -> Option<String> {
    let tokens = Tokenizer::new(&PostgreSqlDialect {}, sql).tokenize_with_location().ok()?;
    let solid: Vec<&TokenWithSpan> =
        tokens.iter().filter(|t| !matches!(t.token, Token::Whitespace(_))).collect();
    let word = |i: usize| match solid.get(i).map(|t| &t.token) {
        Some(Token::Word(w)) if w.quote_style.is_none() => w.value.to_lowercase(),
        _ => String::new(),
    };
    let mut out = String::new();
    let mut copied = 0;
    let mut i = 0;
    while i + 2 < solid.len() {
        if !(word(i) == "as" && word(i + 1) == "identity" && solid[i + 2].token == Token::LParen) {
            i += 1;
            continue;
        }
        let open = i + 2;
        let close = (open..solid.len()).find(|&j| solid[j].token == Token::RParen)?;
        // Each option runs from its first keyword to the next option's.
        let rank = |j: usize| match (word(j).as_str(), word(j + 1).as_str()) {
            ("increment", _) => Some(0),
            ("minvalue", _) | ("no", "minvalue") => Some(1),
            ("maxvalue", _) | ("no", "maxvalue") => Some(2),
            ("start", _) => Some(3),
            ("cache", _) => Some(4),
            ("cycle", _) | ("no", "cycle") => Some(5),
            _ => None,
        };
        let starts: Vec<usize> = (open + 1..close)
            .filter(|&j| rank(j).is_some() && !(j > open + 1 && word(j - 1) == "no"))
            .collect();
        let at = |j: usize| byte_offset(sql, solid[j].span.start);
        let mut options: Vec<(u8, &str)> = Vec::new();
        for (n, &s) in starts.iter().enumerate() {
            let end = starts.get(n + 1).copied().unwrap_or(close);
            options.push((rank(s)?, sql[at(s)..at(end)].trim()));
        }
        options.sort_by_key(|(r, _)| *r);
        let inner = options.iter().map(|(_, t)| *t).collect::<Vec<_>>().join(" ");
        out.push_str(&sql[copied..at(open) + 1]);
        out.push_str(&inner);
        copied = at(close);
        i = close;
    }
    if copied == 0 {
        return None;
    }
    out.push_str(&sql[copied..]);
    Some(out)
}

fn unsupported(what: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::FeatureNotSupported, format!("{what} is not supported yet"))
}

pub(crate) fn parse_expr(text: &str) -> Result<ast::Expr> {
    Parser::new(&PostgreSqlDialect {})
        .try_with_sql(text)
        .and_then(|mut p| p.parse_expr())
        .map_err(|e| Error::internal(format!("stored expression \"{text}\" does not parse: {e}")))
}

fn always_identity(table: &TableDef, col: usize) -> Error {
    let name = &table.columns[col].name;
    Error::new(
        ErrorKind::GeneratedAlways,
        format!("cannot insert a non-DEFAULT value into column \"{name}\""),
    )
    .with_detail(format!("Column \"{name}\" is an identity column defined as GENERATED ALWAYS."))
    .with_hint("Use OVERRIDING SYSTEM VALUE to override.")
}

impl Planner<'_> {
    /// Column `col`'s DEFAULT, bound and cast to its type (NULL when it has none).
    pub(super) fn default_of(&mut self, table: &TableDef, col: usize) -> Result<Expr> {
        let column = &table.columns[col];
        let Some(text) = &column.default else { return Ok(Expr::Const(Value::Null)) };
        let (e, t) = self.scalar(&parse_expr(text)?, &Scope::new())?;
        self.assign(e, t, column)
    }

    /// The DEFAULTs of the columns an INSERT leaves out (only those that have one).
    pub(super) fn omitted_defaults(
        &mut self,
        table: &TableDef,
        targets: &[usize],
    ) -> Result<Vec<(usize, Expr)>> {
        let mut out = Vec::new();
        for (i, c) in table.columns.iter().enumerate() {
            if c.default.is_some() && !targets.contains(&i) {
                out.push((i, self.default_of(table, i)?));
            }
        }
        Ok(out)
    }

    /// An explicit INSERT value for column `col`: 428C9 for a GENERATED ALWAYS
    /// identity without OVERRIDING SYSTEM VALUE; `true` when OVERRIDING USER VALUE
    /// says to use the column's default instead.
    pub(super) fn explicit_value(&self, table: &TableDef, col: usize) -> Result<bool> {
        match (table.columns[col].identity, self.overriding) {
            (Some(_), Some(Overriding::User)) => Ok(true),
            (Some(Identity::Always), Some(Overriding::System)) => Ok(false),
            (Some(Identity::Always), _) => Err(always_identity(table, col)),
            _ => Ok(false),
        }
    }

    /// UPDATE … SET col = <not DEFAULT>: 428C9 for a GENERATED ALWAYS identity.
    pub(super) fn explicit_update(&self, table: &TableDef, col: usize) -> Result<()> {
        if table.columns[col].identity == Some(Identity::Always) {
            let name = &table.columns[col].name;
            return Err(Error::new(
                ErrorKind::GeneratedAlways,
                format!("column \"{name}\" can only be updated to DEFAULT"),
            )
            .with_detail(format!(
                "Column \"{name}\" is an identity column defined as GENERATED ALWAYS."
            )));
        }
        Ok(())
    }

    /// The table's CHECK constraints, bound over its columns, in name order.
    pub(super) fn checks_of(&mut self, table: &TableDef) -> Result<Vec<BoundCheck>> {
        let scope = Planner::table_scope(table);
        let mut out = Vec::with_capacity(table.checks.len());
        for k in &table.checks {
            let (expr, _) = self.scalar(&parse_expr(&k.expr)?, &scope)?;
            out.push(BoundCheck { name: k.name.clone(), expr });
        }
        Ok(out)
    }

    /// CREATE TABLE's second half: validates and stores the defaults, names and
    /// validates the checks, and describes the sequences SERIAL and identity columns
    /// need. `columns` gets defaults, identities and NOT NULLs.
    pub(super) fn finish_columns(
        &mut self,
        table: &str,
        columns: &mut [Column],
        extras: Vec<ColumnExtras>,
        table_checks: Vec<(Option<String>, ast::Expr)>,
    ) -> Result<(Vec<CheckDef>, OwnedSequences)> {
        let mut sequences = Vec::new();
        let mut named: Vec<(Option<String>, String, ast::Expr)> = Vec::new();
        for (i, extra) in extras.into_iter().enumerate() {
            let cname = columns[i].name.clone();
            if let Some(e) = &extra.default {
                if extra.identity.is_some() {
                    return Err(Error::syntax(format!(
                        "both default and identity specified for column \"{cname}\" of table \"{table}\""
                    )));
                }
                if extra.serial {
                    return Err(Error::syntax(format!(
                        "multiple default values specified for column \"{cname}\" of table \"{table}\""
                    )));
                }
                let (b, t) = self.scalar(e, &Scope::new())?;
                match self.assign(b, t, &columns[i]) {
                    // PostgreSQL checks a default's length only when it is used.
                    Err(err) if err.kind != ErrorKind::StringDataRightTruncation => {
                        return Err(err)
                    }
                    _ => {}
                }
                columns[i].default = Some(e.to_string());
            }
            if extra.serial || extra.identity.is_some() {
                let ty = columns[i].ty.clone();
                if !matches!(ty, DataType::Int2 | DataType::Int4 | DataType::Int8) {
                    return Err(Error::new(
                        ErrorKind::InvalidParameterValue,
                        "identity column type must be smallint, integer, or bigint",
                    ));
                }
                let opts = extra.identity.as_ref().map(|(_, o)| o.as_slice()).unwrap_or(&[]);
                sequences.push((i, sequence_def(String::new(), ty, opts)?));
                columns[i].identity = extra.identity.as_ref().map(|(k, _)| *k);
                columns[i].not_null = true;
            }
            table_checks_from(extra.checks, &mut named, table, columns);
        }
        table_checks_from(table_checks, &mut named, table, columns);
        let probe = TableDef {
            id: TableId(0),
            oid: 0,
            schema: self.path.creation().unwrap_or(crate::catalog::PUBLIC).to_owned(),
            name: table.to_owned(),
            columns: columns.to_vec(),
            primary_key: None,
            checks: Vec::new(),
            indexes: Vec::new(),
            foreign_keys: Vec::new(),
        };
        let scope = Planner::table_scope(&probe);
        let mut checks: Vec<CheckDef> = Vec::new();
        for (given, auto, e) in named {
            let (_, t) = self.scalar(&e, &scope)?;
            if t != DataType::Bool && t != DataType::Unknown {
                return Err(Error::new(
                    ErrorKind::DatatypeMismatch,
                    format!(
                        "argument of CHECK must be type boolean, not type {}",
                        t.display_name()
                    ),
                ));
            }
            let name = match given {
                Some(n) => n,
                None => {
                    let mut n = auto.clone();
                    let mut k = 0;
                    while checks.iter().any(|c| c.name == n) {
                        k += 1;
                        n = format!("{auto}{k}");
                    }
                    n
                }
            };
            checks.push(CheckDef { name, expr: e.to_string() });
        }
        checks.sort_by(|a, b| a.name.cmp(&b.name));
        Ok((checks, sequences))
    }

    /// CREATE SEQUENCE.
    pub(super) fn create_sequence(
        &mut self,
        temporary: bool,
        if_not_exists: bool,
        name: &ast::ObjectName,
        data_type: Option<&ast::DataType>,
        options: &[ast::SequenceOptions],
        owned_by: Option<&ast::ObjectName>,
    ) -> Result<Plan> {
        if temporary {
            return Err(unsupported("CREATE TEMPORARY SEQUENCE"));
        }
        let (schema, name) = self.creation_schema(&name_parts(name))?;
        let ty = match data_type {
            None => DataType::Int8,
            Some(t) => match DataType::from_sql(t)? {
                t @ (DataType::Int2 | DataType::Int4 | DataType::Int8) => t,
                _ => {
                    return Err(Error::new(
                        ErrorKind::InvalidParameterValue,
                        "sequence type must be smallint, integer, or bigint",
                    ))
                }
            },
        };
        let mut def = sequence_def(name, ty, options)?;
        def.schema = schema;
        if let Some(owner) = owned_by {
            let parts: Vec<String> = owner.0.iter().map(|p| p.to_string().to_lowercase()).collect();
            match parts.as_slice() {
                [none] if none == "none" => {}
                [t, c] | [_, t, c] => {
                    let table = owner_table(self.catalog, &def.schema, t)?;
                    if table.column_index(c).is_none() {
                        return Err(Error::new(
                            ErrorKind::UndefinedColumn,
                            format!("column \"{c}\" of relation \"{t}\" does not exist"),
                        ));
                    }
                    def.owned_by = Some((t.clone(), c.clone()));
                }
                _ => {
                    return Err(Error::new(
                        ErrorKind::InvalidParameterValue,
                        "invalid OWNED BY option",
                    )
                    .with_hint("Specify OWNED BY table.column or OWNED BY NONE."))
                }
            }
        }
        Ok(Plan::CreateSequence { def, if_not_exists })
    }
}

/// The table an `OWNED BY t.c` names: in the sequence's own schema, as PostgreSQL
/// requires (42P01 if there is none).
fn owner_table(
    catalog: &crate::catalog::Catalog,
    schema: &str,
    t: &str,
) -> Result<std::sync::Arc<crate::catalog::TableDef>> {
    catalog.table(schema, t).ok_or_else(|| {
        Error::new(ErrorKind::UndefinedTable, format!("relation \"{t}\" does not exist"))
    })
}

/// CREATE SEQUENCE, parsed here from its words (lower-cased keywords, numbers, and
/// punctuation) because sqlparser only takes the options in one fixed order and
/// PostgreSQL takes them in any.
pub fn create_sequence_words(w: &[String], planner: &Planner) -> Result<Plan> {
    let catalog = planner.catalog;
    let end = || Error::syntax("syntax error at end of input");
    let near = |i: usize| match w.get(i) {
        Some(t) => Error::syntax(format!("syntax error at or near \"{t}\"")),
        None => end(),
    };
    let mut i = 1;
    if matches!(w.get(i).map(String::as_str), Some("temporary" | "temp" | "unlogged")) {
        return Err(unsupported(format!("CREATE {} SEQUENCE", w[i].to_uppercase())));
    }
    if w.get(i).map(String::as_str) != Some("sequence") {
        return Err(near(i));
    }
    i += 1;
    let mut if_not_exists = false;
    if w[i..].starts_with(&["if".into(), "not".into(), "exists".into()]) {
        if_not_exists = true;
        i += 3;
    }
    let mut parts = vec![w.get(i).cloned().ok_or_else(end)?];
    i += 1;
    if w.get(i).map(String::as_str) == Some(".") {
        parts.push(w.get(i + 1).cloned().ok_or_else(end)?);
        i += 2;
    }
    let (schema, name) = planner.creation_schema(&parts)?;
    let number = |i: &mut usize| -> Result<i64> {
        let neg = match w.get(*i).map(String::as_str) {
            Some("-") => {
                *i += 1;
                true
            }
            Some("+") => {
                *i += 1;
                false
            }
            _ => false,
        };
        let n = w.get(*i).ok_or_else(end)?;
        let v: i64 = n.parse().map_err(|_| near(*i))?;
        *i += 1;
        Ok(if neg { -v } else { v })
    };
    let mut o = SeqOptions::default();
    let mut ty = DataType::Int8;
    let mut owned_by = None;
    while i < w.len() {
        let word = w[i].clone();
        i += 1;
        match word.as_str() {
            "as" => {
                ty = match w.get(i).map(String::as_str) {
                    Some("smallint" | "int2") => DataType::Int2,
                    Some("integer" | "int" | "int4") => DataType::Int4,
                    Some("bigint" | "int8") => DataType::Int8,
                    Some(_) => {
                        return Err(Error::new(
                            ErrorKind::InvalidParameterValue,
                            "sequence type must be smallint, integer, or bigint",
                        ))
                    }
                    None => return Err(end()),
                };
                i += 1;
            }
            "increment" => {
                if w.get(i).map(String::as_str) == Some("by") {
                    i += 1;
                }
                o.increment = Some(number(&mut i)?);
            }
            "minvalue" => o.min = Some(number(&mut i)?),
            "maxvalue" => o.max = Some(number(&mut i)?),
            "start" => {
                if w.get(i).map(String::as_str) == Some("with") {
                    i += 1;
                }
                o.start = Some(number(&mut i)?);
            }
            "cache" => o.cache = Some(number(&mut i)?),
            "cycle" => o.cycle = true,
            "no" => {
                match w.get(i).map(String::as_str) {
                    Some("minvalue") => o.min = None,
                    Some("maxvalue") => o.max = None,
                    Some("cycle") => o.cycle = false,
                    _ => return Err(near(i)),
                }
                i += 1;
            }
            "owned" if w.get(i).map(String::as_str) == Some("by") => {
                let parts: Vec<&str> = w[i + 1..]
                    .iter()
                    .map(String::as_str)
                    .take_while(|t| {
                        !matches!(
                            *t,
                            "increment"
                                | "minvalue"
                                | "maxvalue"
                                | "start"
                                | "cache"
                                | "cycle"
                                | "no"
                                | "as"
                        )
                    })
                    .collect();
                i += 1 + parts.len();
                let names: Vec<&str> = parts.into_iter().filter(|p| *p != ".").collect();
                owned_by = match names.as_slice() {
                    ["none"] => None,
                    [t, c] | [_, t, c] => {
                        let table = owner_table(catalog, &schema, t)?;
                        if table.column_index(c).is_none() {
                            return Err(Error::new(
                                ErrorKind::UndefinedColumn,
                                format!("column \"{c}\" of relation \"{t}\" does not exist"),
                            ));
                        }
                        Some((t.to_string(), c.to_string()))
                    }
                    _ => {
                        return Err(Error::new(
                            ErrorKind::InvalidParameterValue,
                            "invalid OWNED BY option",
                        )
                        .with_hint("Specify OWNED BY table.column or OWNED BY NONE."))
                    }
                };
            }
            _ => return Err(near(i - 1)),
        }
    }
    let mut def = o.def(name, ty)?;
    def.owned_by = owned_by;
    def.schema = schema;
    Ok(Plan::CreateSequence { def, if_not_exists })
}

/// CREATE SEQUENCE's (or an identity's) options, before defaults.
#[derive(Debug, Default)]
struct SeqOptions {
    increment: Option<i64>,
    min: Option<i64>,
    max: Option<i64>,
    start: Option<i64>,
    cache: Option<i64>,
    cycle: bool,
}

impl SeqOptions {
    fn def(self, name: String, ty: DataType) -> Result<SequenceDef> {
        SequenceDef::new(
            name,
            0,
            ty,
            self.increment,
            self.min,
            self.max,
            self.start,
            self.cache,
            self.cycle,
        )
    }
}

/// A relation name of CREATE/DROP SEQUENCE (schema `public` only).
pub fn relation_name(name: &ast::ObjectName) -> Result<String> {
    match name_parts(name).as_slice() {
        [n] => Ok(n.clone()),
        [s, n] if s == "public" => Ok(n.clone()),
        [s, _] => {
            Err(Error::new(ErrorKind::InvalidSchemaName, format!("schema \"{s}\" does not exist")))
        }
        _ => Err(Error::syntax(format!("improper relation name: {name}"))),
    }
}

/// The parts of a dotted name, case-folded.
pub fn name_parts(name: &ast::ObjectName) -> Vec<String> {
    name.0
        .iter()
        .map(|p| match p {
            ast::ObjectNamePart::Identifier(i) => ident(i),
            other => other.to_string(),
        })
        .collect()
}

/// A sequence definition from CREATE SEQUENCE's (or an identity's) options.
fn sequence_def(name: String, ty: DataType, opts: &[ast::SequenceOptions]) -> Result<SequenceDef> {
    use ast::SequenceOptions as O;
    let (mut inc, mut min, mut max, mut start, mut cache, mut cycle) =
        (None, None, None, None, None, false);
    for o in opts {
        match o {
            O::IncrementBy(e, _) => inc = Some(const_i64(e)?),
            O::MinValue(e) => min = e.as_ref().map(const_i64).transpose()?,
            O::MaxValue(e) => max = e.as_ref().map(const_i64).transpose()?,
            O::StartWith(e, _) => start = Some(const_i64(e)?),
            O::Cache(e) => cache = Some(const_i64(e)?),
            // sqlparser's flag is "NO": `Cycle(true)` is NO CYCLE.
            O::Cycle(no) => cycle = !*no,
        }
    }
    SequenceDef::new(name, 0, ty, inc, min, max, start, cache, cycle)
}

/// An integer constant of a sequence option (`5`, `-5`, `+5`).
fn const_i64(e: &ast::Expr) -> Result<i64> {
    let bad = || Error::syntax(format!("syntax error at or near \"{e}\""));
    match e {
        ast::Expr::Value(v) => match &v.value {
            ast::Value::Number(n, _) => n.parse().map_err(|_| {
                Error::new(
                    ErrorKind::NumericValueOutOfRange,
                    format!("value \"{n}\" is out of range for type bigint"),
                )
            }),
            _ => Err(bad()),
        },
        ast::Expr::UnaryOp { op: ast::UnaryOperator::Minus, expr } => {
            const_i64(expr)?.checked_neg().ok_or_else(bad)
        }
        ast::Expr::UnaryOp { op: ast::UnaryOperator::Plus, expr } => const_i64(expr),
        ast::Expr::Nested(inner) => const_i64(inner),
        _ => Err(bad()),
    }
}

/// Names unnamed checks as PostgreSQL does, column-level or not: `<table>_<col>_check`
/// when the expression names exactly one column, else `<table>_check`.
fn table_checks_from(
    checks: Vec<(Option<String>, ast::Expr)>,
    named: &mut Vec<(Option<String>, String, ast::Expr)>,
    table: &str,
    columns: &[Column],
) {
    for (name, e) in checks {
        let used = columns_named(&e.to_string(), columns);
        let auto = match used.as_slice() {
            [c] => format!("{table}_{c}_check"),
            _ => format!("{table}_check"),
        };
        named.push((name, auto, e));
    }
}

/// The distinct columns of `columns` that `text` (a CHECK expression) names.
pub(super) fn columns_named(text: &str, columns: &[Column]) -> Vec<String> {
    let Ok(tokens) = Tokenizer::new(&PostgreSqlDialect {}, text).tokenize() else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    for t in tokens {
        if let Token::Word(w) = t {
            let n = if w.quote_style.is_some() { w.value } else { w.value.to_lowercase() };
            if columns.iter().any(|c| c.name == n) && !out.contains(&n) {
                out.push(n);
            }
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn overriding_is_cut_out_of_the_text() {
        let (sql, o) =
            strip_overriding("INSERT INTO t (id) OVERRIDING SYSTEM VALUE VALUES (1)").unwrap();
        assert_eq!(o, Some(Overriding::System));
        assert_eq!(
            sql.split_whitespace().collect::<Vec<_>>().join(" "),
            "INSERT INTO t (id) VALUES (1)"
        );
        let (sql, o) = strip_overriding("insert into t values ('overriding user value')").unwrap();
        assert_eq!(o, None);
        assert!(sql.contains("'overriding user value'"));
    }

    #[test]
    fn identity_options_are_put_in_sqlparser_s_order() {
        let sql = "CREATE TABLE t (id int GENERATED ALWAYS AS IDENTITY (START WITH 5 NO MAXVALUE INCREMENT BY -1) PRIMARY KEY)";
        assert_eq!(
            order_identity_options(sql).unwrap(),
            "CREATE TABLE t (id int GENERATED ALWAYS AS IDENTITY (INCREMENT BY -1 NO MAXVALUE START WITH 5) PRIMARY KEY)"
        );
        assert_eq!(
            order_identity_options("CREATE TABLE t (id int GENERATED ALWAYS AS IDENTITY)"),
            None
        );
    }
}
