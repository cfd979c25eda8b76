//! `pg_get_viewdef`: a view's query as PostgreSQL 15 deparses it, from the text troupe
//! keeps (`catalog/view.rs`).
//!
//! PostgreSQL prints the rewrite rule's query tree, not what was written: every
//! column qualified with its relation (`vt.id`), the implicit casts the parser added
//! shown (`t.name::text = 'a'::text` for a varchar column, `t.price > 1::numeric`),
//! each output column named when its name is not the column's own (`count(*) AS
//! count`), one clause per line, and, when pretty, only the parentheses its
//! precedence rules need (`isSimpleNode` in ruleutils.c):
//!
//! ```text
//!  SELECT vt.id,                      ← " SELECT ", then ",\n    " between columns
//!     vt.name AS nm
//!    FROM vt                          ← "\n   FROM ", joins on "\n     JOIN … ON …"
//!   WHERE vt.id > 1 AND ((vt.qty + 1) > 2 OR vt.note = 'x'::text)
//!   ORDER BY vt.id DESC               ← then "\n  GROUP BY", "\n HAVING", "\n OFFSET",
//!  LIMIT 5;                              "\n LIMIT"
//! ```
//!
//! The deparser types expressions itself (column types from the catalog) to place
//! those casts, so it covers what it can type exactly: columns of tables, integer,
//! decimal, string and boolean literals, comparisons and + - * / % over integers,
//! numeric and the string types, AND / OR / NOT, IS [NOT] NULL, IN lists, BETWEEN,
//! count / sum / min / max / avg, DISTINCT, plain and LEFT / RIGHT / FULL joins, and
//! `SELECT *` of one table. Anything else (views over views, other functions, CASE,
//! subqueries, window functions, …) is refused with 0A000 rather than printed in a
//! shape PostgreSQL would not print.

use sqlparser::ast;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use super::funcs::quote_ident;
use crate::catalog::{namespace, Catalog, SearchPath, TableDef, ViewDef};
use crate::error::{Error, ErrorKind, Result};
use crate::sql::planner::{ident, object_parts};
use crate::sync::Arc;
use crate::types::DataType;

fn refused(what: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::FeatureNotSupported, format!("pg_get_viewdef cannot deparse {what} yet"))
}

/// The type of a deparsed expression, as far as cast placement needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    /// int2 or int4.
    Int,
    /// int8 (compares and adds with int4 through cross-type operators: no cast).
    BigInt,
    Numeric,
    Text,
    Varchar,
    Bpchar,
    Bool,
    /// A string literal whose type the context decides.
    Unknown,
}

fn ty_of(t: &DataType) -> Result<Ty> {
    Ok(match t {
        DataType::Int2 | DataType::Int4 => Ty::Int,
        DataType::Int8 => Ty::BigInt,
        DataType::Numeric(_) => Ty::Numeric,
        DataType::Text => Ty::Text,
        DataType::Varchar(_) => Ty::Varchar,
        DataType::Bpchar(_) => Ty::Bpchar,
        DataType::Bool => Ty::Bool,
        other => return Err(refused(format!("a column of type {}", other.display_name()))),
    })
}

/// What kind of node a deparsed expression is (for `isSimpleNode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A column, constant or function call: never parenthesized.
    Simple,
    /// A binary operator, with its name.
    Op(&'static str),
    And,
    Or,
    Not,
    /// `x = ANY (ARRAY[…])`.
    ArrayOp,
    /// `x IS [NOT] NULL`.
    NullTest,
}

#[derive(Debug, Clone)]
struct Node {
    text: String,
    ty: Ty,
    kind: Kind,
    /// The column's name, for a plain column (no `AS` needed when it names itself).
    column: Option<String>,
    /// An AND / OR node's operands, each as it prints inside it (PostgreSQL keeps
    /// `a AND b AND c` as one node).
    parts: Vec<String>,
}

impl Node {
    fn simple(text: String, ty: Ty) -> Node {
        Node { text, ty, kind: Kind::Simple, column: None, parts: Vec::new() }
    }
}

fn arith(op: &str) -> Option<bool> {
    match op {
        "+" | "-" => Some(false),
        "*" | "/" | "%" => Some(true),
        _ => None,
    }
}

/// PostgreSQL's `isSimpleNode(child, parent)` for the node kinds here; `first`: the
/// child is the parent operator's left operand.
fn simple_under(child: Kind, parent: Kind, first: bool) -> bool {
    match (child, parent) {
        (Kind::Simple, _) => true,
        (Kind::Op(c), Kind::Op(p)) => match (arith(c), arith(p)) {
            (Some(true), Some(false)) => true,
            (Some(false), Some(true)) => false,
            (Some(_), Some(_)) => first,
            _ => false,
        },
        (Kind::Op(_) | Kind::NullTest, Kind::And | Kind::Or | Kind::Not) => true,
        (Kind::Not | Kind::And, Kind::And | Kind::Or) => true,
        (Kind::Or, Kind::Or) => true,
        _ => false,
    }
}

struct Rel {
    qualifier: String,
    table: Arc<TableDef>,
}

struct Deparser<'a> {
    catalog: &'a Catalog,
    /// The view's stored search path (what its text's names are looked up in).
    path: SearchPath,
    /// The relations the view read at creation, by (schema, name).
    reads: &'a [(String, String)],
    /// How a relation is printed: bare where visible on the session's path.
    shown: &'a dyn Fn(&str, &str) -> String,
    pretty: bool,
    rels: Vec<Rel>,
}

/// `pg_get_viewdef(view, pretty)`; `shown` prints a relation's name (as
/// `visibility::shown_name` on the session's path).
pub fn viewdef(
    catalog: &Catalog,
    view: &ViewDef,
    pretty: bool,
    shown: &dyn Fn(&str, &str) -> String,
) -> Result<String> {
    let stmts = Parser::parse_sql(&PostgreSqlDialect {}, &view.sql)
        .map_err(|e| Error::internal(format!("a stored view does not parse: {e}")))?;
    let [ast::Statement::Query(q)] = stmts.as_slice() else {
        return Err(Error::internal("a stored view is not one query"));
    };
    let path = SearchPath::of(view.path.clone());
    let mut d = Deparser { catalog, path, reads: &view.depends, shown, pretty, rels: Vec::new() };
    let names: Vec<&str> = view.columns.iter().map(|c| c.name.as_str()).collect();
    let sources: Vec<&str> = view.columns.iter().map(|c| c.source.as_str()).collect();
    d.query(q, &names, &sources)
}

impl Deparser<'_> {
    fn query(&mut self, q: &ast::Query, names: &[&str], sources: &[&str]) -> Result<String> {
        if q.with.is_some() || q.fetch.is_some() || !q.locks.is_empty() || q.settings.is_some() {
            return Err(refused("WITH, FETCH or FOR UPDATE"));
        }
        let ast::SetExpr::Select(s) = q.body.as_ref() else {
            return Err(refused("a set operation or VALUES"));
        };
        if s.top.is_some()
            || s.into.is_some()
            || !s.lateral_views.is_empty()
            || !s.named_window.is_empty()
            || s.qualify.is_some()
            || s.prewhere.is_some()
            || !s.cluster_by.is_empty()
            || !s.distribute_by.is_empty()
            || !s.sort_by.is_empty()
        {
            return Err(refused("this SELECT form"));
        }
        let mut froms = Vec::with_capacity(s.from.len());
        for f in &s.from {
            froms.push(self.joined(f)?);
        }
        let mut out = String::from(" SELECT ");
        match &s.distinct {
            None => {}
            Some(ast::Distinct::Distinct) => out.push_str("DISTINCT "),
            Some(_) => return Err(refused("DISTINCT ON")),
        }
        let targets = self.targets(&s.projection, names, sources)?;
        out.push_str(&targets.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>().join(",\n    "));
        if !froms.is_empty() {
            out.push_str("\n   FROM ");
            out.push_str(&froms.join(",\n    "));
        }
        if let Some(w) = &s.selection {
            out.push_str("\n  WHERE ");
            out.push_str(&self.top(w)?.text);
        }
        match &s.group_by {
            ast::GroupByExpr::Expressions(exprs, mods) if mods.is_empty() => {
                if !exprs.is_empty() {
                    let items: Vec<String> = exprs
                        .iter()
                        .map(|e| self.sort_key(e, &s.projection, &targets, false))
                        .collect::<Result<_>>()?;
                    out.push_str("\n  GROUP BY ");
                    out.push_str(&items.join(", "));
                }
            }
            _ => return Err(refused("GROUP BY ALL / ROLLUP")),
        }
        if let Some(h) = &s.having {
            out.push_str("\n HAVING ");
            out.push_str(&self.top(h)?.text);
        }
        if let Some(ob) = &q.order_by {
            let ast::OrderByKind::Expressions(items) = &ob.kind else {
                return Err(refused("ORDER BY ALL"));
            };
            if ob.interpolate.is_some() {
                return Err(refused("INTERPOLATE"));
            }
            let mut keys = Vec::with_capacity(items.len());
            for o in items {
                let mut k = self.sort_key(&o.expr, &s.projection, &targets, true)?;
                let desc = match &o.options.sort {
                    None | Some(ast::OrderBySort::Asc) => false,
                    Some(ast::OrderBySort::Desc) => true,
                    Some(ast::OrderBySort::Using(_)) => return Err(refused("ORDER BY … USING")),
                };
                if desc {
                    k.push_str(" DESC");
                }
                match o.options.nulls_first {
                    Some(true) if !desc => k.push_str(" NULLS FIRST"),
                    Some(false) if desc => k.push_str(" NULLS LAST"),
                    _ => {}
                }
                keys.push(k);
            }
            out.push_str("\n  ORDER BY ");
            out.push_str(&keys.join(", "));
        }
        match &q.limit_clause {
            None => {}
            Some(ast::LimitClause::LimitOffset { limit, offset, limit_by })
                if limit_by.is_empty() =>
            {
                if let Some(o) = offset {
                    out.push_str("\n OFFSET ");
                    out.push_str(&self.top(&o.value)?.text);
                }
                if let Some(l) = limit {
                    out.push_str("\n LIMIT ");
                    out.push_str(&self.top(l)?.text);
                }
            }
            Some(_) => return Err(refused("this LIMIT form")),
        }
        out.push(';');
        Ok(out)
    }

    /// The select list, each item with its text and its bound node (for ORDER BY 1).
    fn targets(
        &mut self,
        projection: &[ast::SelectItem],
        names: &[&str],
        sources: &[&str],
    ) -> Result<Vec<(String, Node)>> {
        let mut out = Vec::new();
        for item in projection {
            let expr = match item {
                ast::SelectItem::UnnamedExpr(e)
                | ast::SelectItem::ExprWithAlias { expr: e, .. } => e,
                ast::SelectItem::Wildcard(opts) if self.rels.len() == 1 => {
                    if opts.opt_exclude.is_some()
                        || opts.opt_except.is_some()
                        || opts.opt_rename.is_some()
                        || opts.opt_replace.is_some()
                    {
                        return Err(refused("* with options"));
                    }
                    // The columns the view recorded at creation, as PostgreSQL expands
                    // `*` once, when the view is made.
                    for &source in &sources[out.len()..] {
                        let node = self.column(None, source)?;
                        out.push(self.named(node, names.get(out.len()).copied())?);
                    }
                    continue;
                }
                _ => return Err(refused("this select-list item")),
            };
            let node = self.top(expr)?;
            let name = names.get(out.len()).copied();
            out.push(self.named(node, name)?);
        }
        Ok(out)
    }

    fn named(&self, node: Node, name: Option<&str>) -> Result<(String, Node)> {
        let name = name.ok_or_else(|| Error::internal("a view column without a name"))?;
        let text = if node.column.as_deref() == Some(name) {
            node.text.clone()
        } else {
            format!("{} AS {}", node.text, quote_ident(name))
        };
        Ok((text, node))
    }

    /// An ORDER BY / GROUP BY key: an output column's name or number stands for its
    /// expression, as PostgreSQL resolves and prints it (a name is an output column
    /// first for ORDER BY, an input column first for GROUP BY).
    fn sort_key(
        &mut self,
        e: &ast::Expr,
        projection: &[ast::SelectItem],
        targets: &[(String, Node)],
        output_first: bool,
    ) -> Result<String> {
        if let ast::Expr::Value(v) = e {
            if let ast::Value::Number(n, _) = &v.value {
                let i: usize = n.parse().map_err(|_| refused("this ORDER BY position"))?;
                return match targets.get(i.wrapping_sub(1)) {
                    Some((_, node)) => Ok(node.text.clone()),
                    None => Err(refused("this ORDER BY position")),
                };
            }
        }
        if let ast::Expr::Identifier(id) = e {
            let name = ident(id);
            let input = self.rels.iter().any(|r| r.table.column_index(&name).is_some());
            if !output_first && input {
                return Ok(self.top(e)?.text);
            }
            for (item, (_, node)) in projection.iter().zip(targets) {
                if let ast::SelectItem::ExprWithAlias { alias, .. } = item {
                    if ident(alias) == name {
                        return Ok(node.text.clone());
                    }
                }
            }
        }
        Ok(self.top(e)?.text)
    }

    fn joined(&mut self, f: &ast::TableWithJoins) -> Result<String> {
        let mut out = self.factor(&f.relation)?;
        for j in &f.joins {
            let (word, constraint) = match &j.join_operator {
                ast::JoinOperator::Join(c) | ast::JoinOperator::Inner(c) => ("JOIN", c),
                ast::JoinOperator::Left(c) | ast::JoinOperator::LeftOuter(c) => ("LEFT JOIN", c),
                ast::JoinOperator::Right(c) | ast::JoinOperator::RightOuter(c) => ("RIGHT JOIN", c),
                ast::JoinOperator::FullOuter(c) => ("FULL JOIN", c),
                _ => return Err(refused("this join")),
            };
            let right = self.factor(&j.relation)?;
            let ast::JoinConstraint::On(on) = constraint else {
                return Err(refused("USING / NATURAL joins"));
            };
            let on = self.top(on)?.text;
            out = if self.pretty {
                format!("{out}\n     {word} {right} ON {on}")
            } else {
                format!("({out}\n     {word} {right} ON ({on}))")
            };
        }
        Ok(out)
    }

    fn factor(&mut self, t: &ast::TableFactor) -> Result<String> {
        let ast::TableFactor::Table { name, alias, args: None, with_hints, .. } = t else {
            return Err(refused("this FROM item"));
        };
        if !with_hints.is_empty() || alias.as_ref().is_some_and(|a| !a.columns.is_empty()) {
            return Err(refused("this FROM item"));
        }
        // Looked up as the view's text is bound (`planner/view.rs`): the relation of
        // the name it read that comes first on the path it was created under, else
        // the first the path finds.
        let parts = object_parts(name);
        let schema = match namespace::split_qualified(&parts, None)? {
            (Some(s), _) => Some(s.to_owned()),
            (None, n) => {
                let read = |s: &str| self.reads.iter().any(|(r, m)| r == s && m == n);
                self.path
                    .schemas()
                    .find(|s| read(s))
                    .or_else(|| {
                        self.path.schemas().find(|s| {
                            self.catalog.holds(s, n)
                                || (*s == namespace::PG_CATALOG
                                    && super::VirtualTable::by_name(n).is_some())
                        })
                    })
                    .map(str::to_owned)
            }
        };
        let n = parts.last().map(String::as_str).unwrap_or_default();
        let table = schema
            .and_then(|s| self.catalog.table(&s, n))
            .ok_or_else(|| refused("a view over a view or a system catalog"))?;
        let mut text = (self.shown)(&table.schema, &table.name);
        let qualifier = match alias {
            Some(a) => {
                let q = ident(&a.name);
                text.push(' ');
                text.push_str(&quote_ident(&q));
                q
            }
            None => table.name.clone(),
        };
        self.rels.push(Rel { qualifier, table });
        Ok(text)
    }

    /// A column reference, by qualifier (or any relation) and name.
    fn column(&self, qualifier: Option<&str>, name: &str) -> Result<Node> {
        let mut found = self.rels.iter().filter(|r| qualifier.is_none_or(|q| r.qualifier == q));
        let hit = found
            .find_map(|r| r.table.column_index(name).map(|i| (r, i)))
            .ok_or_else(|| Error::internal(format!("a view's column {name} is gone")))?;
        let (r, i) = hit;
        let text = format!("{}.{}", quote_ident(&r.qualifier), quote_ident(name));
        Ok(Node {
            column: Some(name.to_owned()),
            ..Node::simple(text, ty_of(&r.table.columns[i].ty)?)
        })
    }

    /// An expression at the top of a clause: no parentheses around it when pretty.
    fn top(&mut self, e: &ast::Expr) -> Result<Node> {
        let mut n = self.expr(e)?;
        if n.ty == Ty::Unknown {
            n = cast(n, "text", Ty::Text, self.pretty);
        }
        Ok(n)
    }

    /// `child` as an operand of a `parent` node.
    fn operand(&self, child: &Node, parent: Kind, first: bool) -> String {
        if child.kind == Kind::Simple || (self.pretty && simple_under(child.kind, parent, first)) {
            child.text.clone()
        } else if self.pretty {
            format!("({})", child.text)
        } else {
            // Not pretty: every operator already wears its parentheses.
            child.text.clone()
        }
    }

    /// Wraps a non-pretty operator node in the parentheses PostgreSQL always prints.
    fn finish(&self, text: String, ty: Ty, kind: Kind) -> Node {
        let text = if self.pretty { text } else { format!("({text})") };
        Node { kind, ..Node::simple(text, ty) }
    }

    fn expr(&mut self, e: &ast::Expr) -> Result<Node> {
        use ast::Expr as E;
        match e {
            E::Identifier(id) => self.column(None, &ident(id)),
            E::CompoundIdentifier(parts) => match parts.as_slice() {
                [q, c] => self.column(Some(&ident(q)), &ident(c)),
                _ => Err(refused("a column qualified with a schema")),
            },
            E::Nested(inner) => self.expr(inner),
            E::Value(v) => literal(&v.value),
            E::BinaryOp { left, op, right } => {
                let (l, r) = (self.expr(left)?, self.expr(right)?);
                self.binary(l, op, r)
            }
            E::UnaryOp { op: ast::UnaryOperator::Not, expr } => {
                let x = self.expr(expr)?;
                if x.ty != Ty::Bool {
                    return Err(refused("NOT of a non-boolean"));
                }
                let text = format!("NOT {}", self.operand(&x, Kind::Not, true));
                Ok(self.finish(text, Ty::Bool, Kind::Not))
            }
            E::IsNull(x) | E::IsNotNull(x) => {
                let x = self.top(x)?;
                let word = if matches!(e, E::IsNull(_)) { "IS NULL" } else { "IS NOT NULL" };
                let text = format!("{} {word}", self.operand(&x, Kind::NullTest, true));
                Ok(self.finish(text, Ty::Bool, Kind::NullTest))
            }
            E::InList { expr, list, negated: false } => {
                // Integers only: the array of another type prints with casts of its own.
                let x = self.expr(expr)?;
                let mut items = Vec::with_capacity(list.len());
                for item in std::iter::once(&**expr).chain(list) {
                    let n = self.expr(item)?;
                    if n.ty != Ty::Int {
                        return Err(refused("IN over a list of other than integers"));
                    }
                    items.push(n.text);
                }
                let text = format!("{} = ANY (ARRAY[{}])", x.text, items[1..].join(", "));
                Ok(self.finish(text, Ty::Bool, Kind::ArrayOp))
            }
            E::Between { expr, negated: false, low, high } => {
                let x = self.expr(expr)?;
                let (low, high) = (self.expr(low)?, self.expr(high)?);
                let lo = self.binary(x.clone(), &ast::BinaryOperator::GtEq, low)?;
                let hi = self.binary(x, &ast::BinaryOperator::LtEq, high)?;
                self.boolean(lo, "AND", hi)
            }
            E::Function(f) => self.function(f),
            other => Err(refused(format!("the expression {other}"))),
        }
    }

    fn boolean(&self, l: Node, word: &'static str, r: Node) -> Result<Node> {
        if l.ty != Ty::Bool || r.ty != Ty::Bool {
            return Err(refused(format!("{word} of non-booleans")));
        }
        let kind = if word == "AND" { Kind::And } else { Kind::Or };
        let mut parts = Vec::new();
        for (n, first) in [(&l, true), (&r, false)] {
            if n.kind == kind {
                parts.extend(n.parts.iter().cloned());
            } else {
                parts.push(self.operand(n, kind, first));
            }
        }
        let node = self.finish(parts.join(&format!(" {word} ")), Ty::Bool, kind);
        Ok(Node { parts, ..node })
    }

    fn binary(&self, l: Node, op: &ast::BinaryOperator, r: Node) -> Result<Node> {
        use ast::BinaryOperator as B;
        let name: &'static str = match op {
            B::And => return self.boolean(l, "AND", r),
            B::Or => return self.boolean(l, "OR", r),
            B::Eq => "=",
            B::NotEq => "<>",
            B::Lt => "<",
            B::LtEq => "<=",
            B::Gt => ">",
            B::GtEq => ">=",
            B::Plus => "+",
            B::Minus => "-",
            B::Multiply => "*",
            B::Divide => "/",
            B::Modulo => "%",
            other => return Err(refused(format!("the operator {other}"))),
        };
        let ty = common(l.ty, r.ty)?;
        let arithmetic = arith(name).is_some();
        if arithmetic && !matches!(ty, Ty::Int | Ty::BigInt | Ty::Numeric) {
            return Err(refused(format!("{name} over strings")));
        }
        let (l, r) = (coerce(l, ty, self.pretty)?, coerce(r, ty, self.pretty)?);
        let kind = Kind::Op(name);
        let text =
            format!("{} {name} {}", self.operand(&l, kind, true), self.operand(&r, kind, false));
        Ok(self.finish(text, if arithmetic { ty } else { Ty::Bool }, kind))
    }

    fn function(&mut self, f: &ast::Function) -> Result<Node> {
        let name = object_parts(&f.name).join(".");
        if f.over.is_some() || f.filter.is_some() || !f.within_group.is_empty() {
            return Err(refused("window functions, FILTER or WITHIN GROUP"));
        }
        let ast::FunctionArguments::List(list) = &f.args else {
            return Err(refused(format!("the call of {name}")));
        };
        if list.duplicate_treatment.is_some() || !list.clauses.is_empty() {
            return Err(refused("DISTINCT or ORDER BY in an aggregate"));
        }
        let args: Vec<&ast::FunctionArgExpr> = list
            .args
            .iter()
            .map(|a| match a {
                ast::FunctionArg::Unnamed(x) => Ok(x),
                _ => Err(refused("named arguments")),
            })
            .collect::<Result<_>>()?;
        let arg = match args.as_slice() {
            [ast::FunctionArgExpr::Wildcard] if name == "count" => {
                return Ok(Node::simple("count(*)".into(), Ty::Int));
            }
            [ast::FunctionArgExpr::Expr(x)] => self.top(x)?,
            _ => return Err(refused(format!("the call of {name}"))),
        };
        let (arg, ty) = match (name.as_str(), arg.ty) {
            ("count", _) => (arg, Ty::BigInt),
            ("sum", Ty::Int) => (arg, Ty::BigInt),
            ("sum" | "avg", Ty::Int | Ty::BigInt | Ty::Numeric) => (arg, Ty::Numeric),
            ("sum", _) | ("avg", _) => return Err(refused(format!("{name} of this type"))),
            ("min" | "max", Ty::Varchar) => (cast(arg, "text", Ty::Text, self.pretty), Ty::Text),
            ("min" | "max", t) => (arg, t),
            _ => return Err(refused(format!("the function {name}"))),
        };
        Ok(Node::simple(format!("{name}({})", arg.text), ty))
    }
}

fn literal(v: &ast::Value) -> Result<Node> {
    match v {
        ast::Value::Number(n, _) if n.parse::<i32>().is_ok() => {
            Ok(Node::simple(n.clone(), Ty::Int))
        }
        ast::Value::Number(n, _)
            if n.contains('.') && !n.contains(['e', 'E']) && !n.starts_with('.') =>
        {
            Ok(Node::simple(n.clone(), Ty::Numeric))
        }
        ast::Value::SingleQuotedString(s) if !s.contains('\\') => {
            Ok(Node::simple(format!("'{}'", s.replace('\'', "''")), Ty::Unknown))
        }
        ast::Value::Boolean(b) => Ok(Node::simple(b.to_string(), Ty::Bool)),
        other => Err(refused(format!("the constant {other}"))),
    }
}

/// The type two operands meet at, as PostgreSQL's operator resolution picks it for
/// these types.
fn common(a: Ty, b: Ty) -> Result<Ty> {
    use Ty::*;
    Ok(match (a, b) {
        (x, y) if x == y && x != Unknown => x,
        (Int, BigInt) | (BigInt, Int) => BigInt,
        (Int | BigInt, Numeric) | (Numeric, Int | BigInt) => Numeric,
        (Unknown, Unknown) => Text,
        (Unknown, x) | (x, Unknown) => match x {
            Text | Varchar => Text,
            Bpchar => Bpchar,
            _ => return Err(refused("a string constant compared with a non-string")),
        },
        (Text | Varchar | Bpchar, Text | Varchar | Bpchar) => Text,
        _ => return Err(refused("an operator over these types")),
    })
}

/// `n` cast to `name`: a string constant takes its type as a label (`'x'::text`);
/// anything else is a cast, parenthesized unless pretty and simple.
fn cast(n: Node, name: &str, ty: Ty, pretty: bool) -> Node {
    let text = if n.ty == Ty::Unknown || (pretty && n.kind == Kind::Simple) {
        format!("{}::{name}", n.text)
    } else {
        format!("({})::{name}", n.text)
    };
    Node::simple(text, ty)
}

/// `n` as type `ty`: the cast PostgreSQL's parser would have added, shown as it shows it.
fn coerce(n: Node, ty: Ty, pretty: bool) -> Result<Node> {
    Ok(match (n.ty, ty) {
        (a, b) if a == b => n,
        (Ty::Int, Ty::BigInt) => n,
        (Ty::Int | Ty::BigInt, Ty::Numeric) => cast(n, "numeric", ty, pretty),
        (Ty::Unknown, Ty::Text) | (Ty::Varchar | Ty::Bpchar, Ty::Text) => {
            cast(n, "text", ty, pretty)
        }
        (Ty::Unknown, Ty::Bpchar) => cast(n, "bpchar", ty, pretty),
        _ => return Err(refused("this implicit cast")),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::catalog::{Column, TableId, ViewColumn};
    use crate::sql::pg_catalog::visibility::shown_on_public_path;

    fn catalog() -> Catalog {
        let t = TableDef {
            id: TableId(1),
            oid: 16384,
            schema: "public".into(),
            name: "t".into(),
            columns: vec![
                Column::new("id", DataType::Int4, true),
                Column::new("name", DataType::Varchar(Some(20)), false),
                Column::new("price", DataType::Numeric(None), false),
            ],
            primary_key: Some(vec![0]),
            checks: Vec::new(),
            indexes: Vec::new(),
            foreign_keys: Vec::new(),
        };
        let u = TableDef { id: TableId(2), oid: 16386, schema: "s".into(), ..t.clone() };
        Catalog::new(vec![t, u], 2)
    }

    fn view(sql: &str, columns: &[&str]) -> ViewDef {
        ViewDef {
            oid: 16390,
            schema: "public".into(),
            name: "v".into(),
            path: vec!["public".into()],
            sql: sql.into(),
            columns: columns
                .iter()
                .map(|c| ViewColumn { name: (*c).into(), source: (*c).into(), ty: DataType::Int4 })
                .collect(),
            depends: vec![("public".into(), "t".into())],
        }
    }

    #[test]
    fn a_view_prints_as_postgresql_prints_it() {
        let v = view(
            "SELECT id, name AS n FROM t WHERE name = 'a' AND (price > 1 OR id + 1 > 2)",
            &["id", "n"],
        );
        assert_eq!(
            viewdef(&catalog(), &v, true, &shown_on_public_path).unwrap(),
            " SELECT t.id,\n    t.name AS n\n   FROM t\n  WHERE t.name::text = 'a'::text AND \
             (t.price > 1::numeric OR (t.id + 1) > 2);"
        );
        assert_eq!(
            viewdef(&catalog(), &v, false, &shown_on_public_path).unwrap(),
            " SELECT t.id,\n    t.name AS n\n   FROM t\n  WHERE (((t.name)::text = 'a'::text) AND \
             ((t.price > (1)::numeric) OR ((t.id + 1) > 2)));"
        );
    }

    #[test]
    fn a_table_is_the_one_the_view_read_and_qualified_where_not_visible() {
        let v = ViewDef {
            path: vec!["s".into(), "public".into()],
            depends: vec![("s".into(), "t".into())],
            ..view("SELECT id FROM t", &["id"])
        };
        assert_eq!(
            viewdef(&catalog(), &v, true, &shown_on_public_path).unwrap(),
            " SELECT t.id\n   FROM s.t;"
        );
        // Created when only public.t existed: s.t, made later, does not capture it.
        let v = ViewDef { path: vec!["s".into(), "public".into()], ..v };
        let v = ViewDef { depends: vec![("public".into(), "t".into())], ..v };
        assert_eq!(
            viewdef(&catalog(), &v, true, &shown_on_public_path).unwrap(),
            " SELECT t.id\n   FROM t;"
        );
    }

    #[test]
    fn what_cannot_be_typed_exactly_is_refused() {
        let v = view("SELECT lower(name) FROM t", &["lower"]);
        let e = viewdef(&catalog(), &v, true, &shown_on_public_path).unwrap_err();
        assert_eq!(e.kind, ErrorKind::FeatureNotSupported);
    }
}
