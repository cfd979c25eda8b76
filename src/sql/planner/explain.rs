//! EXPLAIN: the chosen plan as PostgreSQL's text format, rendered when the statement is
//! planned (nothing runs).
//!
//! ```text
//!   Limit                                  node at depth 0
//!     ->  Index Scan using t_pkey on t     a child: "->  " under its parent
//!           Index Cond: (id > 5)           properties 2 columns right of the arrow
//!           Filter: (b <> 0)
//! ```
//! Node names are PostgreSQL's (`Seq Scan`, `Index Scan using … on …`, `Limit`,
//! `Sort`, `Aggregate`, `HashAggregate`, `Hash Join`, `Nested Loop`, `Update on t` …),
//! and conditions are deparsed as PostgreSQL deparses them (`(id = 1)`,
//! `(id = ANY ('{1,2}'::integer[]))`, `'x'::text`), so that `EXPLAIN (COSTS OFF)` of a
//! point, key-list, range, ORDER BY … LIMIT or filtered full scan prints what
//! PostgreSQL 15 prints. A projection is not a node (as in PostgreSQL).
//!
//! Deliberately refused with 0A000: costs (troupe keeps no statistics to estimate them
//! from, and inventing PostgreSQL-looking numbers would mislead: use `COSTS OFF`),
//! `ANALYZE` (no per-node instrumentation yet), `VERBOSE`, and formats other than text.

use sqlparser::ast;

use super::access::{conjuncts, key_cond, KeyCond};
use super::unsupported;
use crate::catalog::TableDef;
use crate::error::{Error, ErrorKind, Result};
use crate::types::{text_of, BinaryOp, DataType, Value, UTC};

use super::super::expr::Expr;
use super::super::plan::{Access, DmlFrom, JoinKind, Plan, QueryPlan, Rel, SetOpKind};

/// Checks EXPLAIN's options: only `COSTS OFF` (or `COSTS false`) is accepted.
pub(super) fn check_options(
    analyze: bool,
    verbose: bool,
    format: bool,
    options: Option<&[ast::UtilityOption]>,
) -> Result<()> {
    if analyze {
        return Err(unsupported("EXPLAIN ANALYZE"));
    }
    if verbose || format {
        return Err(unsupported("EXPLAIN VERBOSE or FORMAT"));
    }
    let mut costs = true;
    for o in options.unwrap_or(&[]) {
        let name = o.name.value.to_ascii_lowercase();
        let arg = o.arg.as_ref().map(|a| a.to_string().to_ascii_lowercase());
        let on = !matches!(arg.as_deref(), Some("off" | "false" | "0"));
        match name.as_str() {
            "costs" => costs = on,
            "analyze" if on => return Err(unsupported("EXPLAIN ANALYZE")),
            "verbose" | "buffers" | "settings" | "wal" | "timing" | "summary" if !on => {}
            "analyze" => {}
            "format" if arg.as_deref() == Some("text") => {}
            other => return Err(unsupported(format!("EXPLAIN option \"{other}\""))),
        }
    }
    if costs {
        return Err(Error::new(
            ErrorKind::FeatureNotSupported,
            "EXPLAIN with costs is not supported: troupe keeps no statistics to estimate them; use EXPLAIN (COSTS OFF)",
        ));
    }
    Ok(())
}

/// The lines of EXPLAIN for `plan`.
pub(super) fn render(plan: &Plan) -> Result<Vec<String>> {
    let mut out = Lines::default();
    match plan {
        Plan::Query(q) => query(q, &mut out, 0),
        Plan::Insert(i) => {
            out.node(0, &format!("Insert on {}", i.table.name));
            match &i.source {
                super::super::plan::InsertSource::Values(rows) if rows.len() == 1 => {
                    out.node(1, "Result")
                }
                super::super::plan::InsertSource::Values(_) => {
                    out.node(1, "Values Scan on \"*VALUES*\"")
                }
                super::super::plan::InsertSource::Query(q, _) => query(q, &mut out, 1),
            }
        }
        Plan::Update(u) => {
            out.node(0, &format!("Update on {}", u.table.name));
            match &u.from {
                Some(from) => dml_join(&u.table, &u.access, u.filter.as_ref(), from, &mut out),
                None => scan(&u.table, &u.access, u.filter.as_ref(), &mut out, 1),
            }
        }
        Plan::Delete(d) => {
            out.node(0, &format!("Delete on {}", d.table.name));
            match &d.from {
                Some(from) => dml_join(&d.table, &d.access, d.filter.as_ref(), from, &mut out),
                None => scan(&d.table, &d.access, d.filter.as_ref(), &mut out, 1),
            }
        }
        _ => return Err(unsupported("EXPLAIN of this statement")),
    }
    Ok(out.0)
}

/// The join of an UPDATE … FROM / DELETE … USING (see `planner/dml_from.rs`): a key
/// lookup on the target per FROM row is a Nested Loop over an Index Scan, as in
/// PostgreSQL; a join in memory is a Hash Join (or a Nested Loop without equality keys).
fn dml_join(
    table: &TableDef,
    access: &Access,
    filter: Option<&Expr>,
    from: &DmlFrom,
    out: &mut Lines,
) {
    let mut both: Vec<String> =
        table.columns.iter().map(|c| format!("{}.{}", table.name, c.name)).collect();
    both.extend(names(&from.rel));
    let cond = filter.map(|f| deparse(f, &both));
    if let Some(lookup) = &from.lookup {
        out.node(1, "Nested Loop");
        rel(&from.rel, out, 2);
        scan(table, lookup, None, out, 2);
        if let Some(c) = cond {
            out.prop(2, &format!("Filter: {c}"));
        }
    } else if from.equi.is_empty() {
        out.node(1, "Nested Loop");
        if let Some(c) = cond {
            out.prop(1, &format!("Join Filter: {c}"));
        }
        scan(table, access, None, out, 2);
        rel(&from.rel, out, 2);
    } else {
        out.node(1, "Hash Join");
        if let Some(c) = cond {
            out.prop(1, &format!("Hash Cond: {c}"));
        }
        scan(table, access, None, out, 2);
        out.node(2, "Hash");
        rel(&from.rel, out, 3);
    }
}

#[derive(Default)]
struct Lines(Vec<String>);

impl Lines {
    fn node(&mut self, depth: usize, text: &str) {
        if depth == 0 {
            self.0.push(text.to_owned());
        } else {
            self.0.push(format!("{}->  {text}", " ".repeat(6 * (depth - 1) + 2)));
        }
    }

    fn prop(&mut self, depth: usize, text: &str) {
        let indent = if depth == 0 { 2 } else { 6 * depth + 2 };
        self.0.push(format!("{}{text}", " ".repeat(indent)));
    }
}

fn query(q: &QueryPlan, out: &mut Lines, depth: usize) {
    if q.lock.is_some() {
        out.node(depth, "LockRows");
        rel(&q.rel, out, depth + 1);
    } else {
        rel(&q.rel, out, depth);
    }
}

/// The names a node's output columns are shown by (for the keys of nodes above it).
fn names(r: &Rel) -> Vec<String> {
    match r {
        Rel::Scan { table, .. } => table.columns.iter().map(|c| c.name.clone()).collect(),
        Rel::Project { input, exprs } => {
            let inner = names(input);
            exprs.iter().map(|e| deparse(e, &inner)).collect()
        }
        Rel::Filter { input, .. }
        | Rel::Sort { input, .. }
        | Rel::Limit { input, .. }
        | Rel::Distinct(input)
        | Rel::DistinctOn { input, .. }
        | Rel::Truncate { input, .. } => names(input),
        Rel::Join { left, right, .. } => {
            let mut n = names(left);
            n.extend(names(right));
            n
        }
        Rel::Aggregate { input, group, aggs } => {
            let inner = names(input);
            let mut n: Vec<String> = group.iter().map(|g| deparse(g, &inner)).collect();
            n.extend(aggs.iter().map(|a| format!("{:?}", a.func).to_lowercase()));
            n
        }
        Rel::SetOp { left, .. } => names(left),
        _ => Vec::new(),
    }
}

fn rel(r: &Rel, out: &mut Lines, depth: usize) {
    match r {
        Rel::Scan { table, access, filter } => scan(table, access, filter.as_ref(), out, depth),
        Rel::Project { input, .. } | Rel::Truncate { input, .. } => rel(input, out, depth),
        Rel::Filter { input, pred } => match input.as_ref() {
            Rel::Scan { .. } | Rel::Project { .. } => {
                rel(input, out, depth);
                out.prop(depth, &format!("Filter: {}", deparse(pred, &names(input))));
            }
            // A condition over both sides of a join is the join node's own Filter, shown
            // after its join condition, before its inputs (as PostgreSQL shows it).
            Rel::Join { .. } => {
                let mut join = Lines(Vec::new());
                rel(input, &mut join, depth);
                let mut filter = Lines(Vec::new());
                filter.prop(depth, &format!("Filter: {}", deparse(pred, &names(input))));
                let props =
                    join.0.iter().skip(1).take_while(|l| !l.trim_start().starts_with("->")).count();
                let mut lines = join.0;
                lines.splice(1 + props..1 + props, filter.0);
                out.0.extend(lines);
            }
            _ => {
                out.node(depth, "Result");
                out.prop(depth, &format!("One-Time Filter: {}", deparse(pred, &names(input))));
                rel(input, out, depth + 1);
            }
        },
        Rel::Virtual(_) => out.node(depth, "Function Scan"),
        Rel::Series { .. } => out.node(depth, "Function Scan on generate_series"),
        Rel::Unnest(_) => out.node(depth, "Function Scan on unnest"),
        Rel::Single | Rel::Sleep(_) => out.node(depth, "Result"),
        Rel::Values(_) => out.node(depth, "Values Scan on \"*VALUES*\""),
        Rel::WorkTable(_) => out.node(depth, "WorkTable Scan"),
        Rel::Recursive { base, step, .. } => {
            out.node(depth, "Recursive Union");
            rel(base, out, depth + 1);
            rel(step, out, depth + 1);
        }
        Rel::Join { kind, left, right, on, equi, .. } => {
            let suffix = match kind {
                JoinKind::Inner => "",
                JoinKind::Left => " Left Join",
                JoinKind::Right => " Right Join",
                JoinKind::Full => " Full Join",
            };
            let both = names(r);
            if equi.is_empty() {
                let name = if suffix.is_empty() {
                    "Nested Loop".into()
                } else {
                    format!("Nested Loop{suffix}")
                };
                out.node(depth, &name);
                if let Some(on) = on {
                    out.prop(depth, &format!("Join Filter: {}", deparse(on, &both)));
                }
                rel(left, out, depth + 1);
                rel(right, out, depth + 1);
            } else {
                let name =
                    if suffix.is_empty() { "Hash Join".into() } else { format!("Hash{suffix}") };
                out.node(depth, &name);
                if let Some(on) = on {
                    out.prop(depth, &format!("Hash Cond: {}", deparse(on, &both)));
                }
                rel(left, out, depth + 1);
                out.node(depth + 1, "Hash");
                rel(right, out, depth + 2);
            }
        }
        Rel::SetOp { op, all, left, right } => {
            let name = match (op, all) {
                (SetOpKind::Union, true) => "Append",
                (SetOpKind::Union, false) => "HashAggregate",
                (SetOpKind::Intersect, _) => "HashSetOp Intersect",
                (SetOpKind::Except, _) => "HashSetOp Except",
            };
            out.node(depth, name);
            rel(left, out, depth + 1);
            rel(right, out, depth + 1);
        }
        Rel::DistinctOn { input, .. } => {
            out.node(depth, "Unique");
            rel(input, out, depth + 1);
        }
        Rel::Distinct(input) => {
            out.node(depth, "HashAggregate");
            let n = names(input);
            out.prop(depth, &format!("Group Key: {}", n.join(", ")));
            rel(input, out, depth + 1);
        }
        Rel::Aggregate { input, group, .. } => {
            if group.is_empty() {
                out.node(depth, "Aggregate");
            } else {
                out.node(depth, "HashAggregate");
                let n = names(input);
                let keys: Vec<String> = group.iter().map(|g| deparse(g, &n)).collect();
                out.prop(depth, &format!("Group Key: {}", keys.join(", ")));
            }
            rel(input, out, depth + 1);
        }
        Rel::Sort { input, keys } => {
            out.node(depth, "Sort");
            let n = names(input);
            let keys: Vec<String> = keys
                .iter()
                .map(|k| {
                    let mut s = bare(deparse(&k.expr, &n));
                    if k.desc {
                        s.push_str(" DESC");
                    }
                    if k.nulls_first != k.desc {
                        s.push_str(if k.nulls_first { " NULLS FIRST" } else { " NULLS LAST" });
                    }
                    s
                })
                .collect();
            out.prop(depth, &format!("Sort Key: {}", keys.join(", ")));
            rel(input, out, depth + 1);
        }
        Rel::Limit { input, .. } => {
            out.node(depth, "Limit");
            rel(input, out, depth + 1);
        }
    }
}

/// A Sort Key shows an expression without its outer parentheses.
fn bare(s: String) -> String {
    match s.strip_prefix('(').and_then(|x| x.strip_suffix(')')) {
        Some(inner) if !inner.contains('(') => inner.to_owned(),
        _ => s,
    }
}

/// A scan node: its path, then the conditions the path uses and the rest.
fn scan(table: &TableDef, access: &Access, filter: Option<&Expr>, out: &mut Lines, depth: usize) {
    let names: Vec<String> = table.columns.iter().map(|c| c.name.clone()).collect();
    let (index, used) = match access {
        Access::Full => {
            out.node(depth, &format!("Seq Scan on {}", table.name));
            if let Some(f) = filter {
                out.prop(depth, &format!("Filter: {}", deparse(f, &names)));
            }
            return;
        }
        Access::Point(_) => (None, usize::MAX),
        Access::Index { index, .. } => (Some(index.clone()), usize::MAX),
        Access::Keys { index, .. } => (index.clone(), usize::MAX),
        Access::Range(r) => {
            let bounded = r.lower.is_some() || r.upper.is_some();
            (r.index.clone(), r.prefix.len() + usize::from(bounded))
        }
    };
    let cols: Vec<usize> = match &index {
        None => table.primary_key.clone().unwrap_or_default(),
        Some(name) => table.index(name).map(|i| i.columns.clone()).unwrap_or_default(),
    };
    let cols = &cols[..used.min(cols.len())];
    let name = index.unwrap_or_else(|| table.pkey_name());
    out.node(depth, &format!("Index Scan using {name} on {}", table.name));
    let (mut conds, mut rest) = (Vec::new(), Vec::new());
    for c in filter.map(conjuncts).unwrap_or_default() {
        let is_key = match key_cond(table, c) {
            Some((col, KeyCond::Eq(_) | KeyCond::In(_))) => cols.contains(&col),
            Some((col, _)) => cols.last() == Some(&col) && matches!(access, Access::Range(_)),
            None => false,
        };
        if is_key {
            conds.push(deparse(c, &names));
        } else {
            rest.push(deparse(c, &names));
        }
    }
    if !conds.is_empty() {
        out.prop(depth, &format!("Index Cond: {}", and_all(conds)));
    }
    if !rest.is_empty() {
        out.prop(depth, &format!("Filter: {}", and_all(rest)));
    }
}

fn and_all(mut parts: Vec<String>) -> String {
    if parts.len() == 1 {
        parts.pop().unwrap_or_default()
    } else {
        format!("({})", parts.join(" AND "))
    }
}

fn op_text(op: BinaryOp) -> &'static str {
    match op {
        BinaryOp::Add => "+",
        BinaryOp::Sub => "-",
        BinaryOp::Mul => "*",
        BinaryOp::Div => "/",
        BinaryOp::Mod => "%",
        BinaryOp::Concat => "||",
        BinaryOp::Eq => "=",
        BinaryOp::NotEq => "<>",
        BinaryOp::Lt => "<",
        BinaryOp::LtEq => "<=",
        BinaryOp::Gt => ">",
        BinaryOp::GtEq => ">=",
        _ => "?",
    }
}

/// The type PostgreSQL would label a constant with.
fn const_type(v: &Value) -> Option<DataType> {
    Some(match v {
        Value::Bool(_) => DataType::Bool,
        Value::Int2(_) => DataType::Int2,
        Value::Int4(_) => DataType::Int4,
        Value::Int8(_) => DataType::Int8,
        Value::Float4(_) => DataType::Float4,
        Value::Float8(_) => DataType::Float8,
        Value::Numeric(_) => DataType::Numeric(None),
        Value::Text(_) => DataType::Text,
        Value::Date(_) => DataType::Date,
        Value::Timestamp(_) => DataType::Timestamp,
        Value::TimestampTz(_) => DataType::TimestampTz,
        _ => return None,
    })
}

/// A constant as PostgreSQL deparses it: plain integers and numerics when positive,
/// otherwise `'text'::type`. EXPLAIN is planned without a session, so a timestamptz
/// constant prints in UTC (the planner keeps timestamptz literals as text anyway,
/// read when the statement runs: see `Planner::cast_to`).
fn constant(v: &Value) -> String {
    let Some(ty) = const_type(v) else { return "?".into() };
    let text = text_of(v, &ty, UTC);
    match v {
        Value::Bool(b) => b.to_string(),
        Value::Int4(i) if *i >= 0 => text,
        Value::Numeric(d) if !d.is_sign_negative() => text,
        _ => format!("'{}'::{}", text.replace('\'', "''"), ty.display_name()),
    }
}

/// An expression as PostgreSQL's ruleutils prints it, with `names` for columns.
fn deparse(e: &Expr, names: &[String]) -> String {
    match e {
        Expr::Column(i) => names.get(*i).cloned().unwrap_or_else(|| format!("${i}")),
        Expr::Const(Value::Null) => "NULL".into(),
        Expr::Const(v) => constant(v),
        Expr::Param(n) => format!("${}", n + 1),
        Expr::Binary { op, left, right, .. } => {
            format!("({} {} {})", deparse(left, names), op_text(*op), deparse(right, names))
        }
        Expr::And(_, _) => {
            let parts = conjuncts(e).into_iter().map(|c| deparse(c, names)).collect();
            and_all(parts)
        }
        Expr::Or(a, b) => format!("({} OR {})", deparse(a, names), deparse(b, names)),
        Expr::Not(x) => format!("(NOT {})", deparse(x, names)),
        Expr::IsNull(x, negated) => {
            let not = if *negated { " NOT" } else { "" };
            format!("({} IS{not} NULL)", deparse(x, names))
        }
        Expr::Cast(x, _, to) => format!("({})::{}", deparse(x, names), to.display_name()),
        Expr::InList { expr, list, negated, item_ty, .. } => {
            let (op, q) = if *negated { ("<>", "ALL") } else { ("=", "ANY") };
            let items: Option<Vec<String>> = list
                .iter()
                .map(|i| match i {
                    Expr::Const(v) if !v.is_null() => Some(text_of(v, item_ty, UTC)),
                    _ => None,
                })
                .collect();
            let array = match items {
                Some(items) => {
                    let quoted: Vec<String> = items.iter().map(|s| array_item(s)).collect();
                    format!("'{{{}}}'::{}[]", quoted.join(","), item_ty.display_name())
                }
                None => {
                    let parts: Vec<String> = list.iter().map(|i| deparse(i, names)).collect();
                    format!("ARRAY[{}]", parts.join(", "))
                }
            };
            format!("({} {op} {q} ({array}))", deparse(expr, names))
        }
        other => format!("{other:?}"),
    }
}

/// An element of an array literal, quoted when PostgreSQL would quote it.
fn array_item(s: &str) -> String {
    let plain = !s.is_empty()
        && !s.eq_ignore_ascii_case("null")
        && s.chars()
            .all(|c| !matches!(c, '{' | '}' | ',' | '"' | '\\' | '\'') && !c.is_whitespace());
    if plain {
        s.to_owned()
    } else {
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"").replace('\'', "''"))
    }
}
