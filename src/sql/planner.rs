//! The planner: sqlparser's AST → a typed [`Plan`], resolved against the catalog.
//!
//! Binding walks the AST with a [`Scope`] (the columns visible at that point, each with
//! its qualifier and type) and turns names into column positions, literals into typed
//! constants, and `$n` into parameters whose types are inferred from where they appear
//! (`aid = $1` makes `$1` the type of `aid`; `abalance + $1` the type of `abalance`; an
//! INSERT value the target column's type) — clients like pgbench send no parameter
//! types at all. What the planner cannot do yet is refused with 0A000, never guessed.

use sqlparser::ast;

use crate::catalog::namespace::{self, PG_CATALOG};
use crate::catalog::{Catalog, Column, SearchPath, TableDef};
use crate::error::{Error, ErrorKind, Result};
use crate::storage::Isolation;
use crate::sync::Arc;
use crate::types::{
    assign_cast, binary_op_type, cast_depends_on_zone, parse_text, BinaryOp, DataType, Value, UTC,
};

use super::constraints::{is_default_keyword, ColumnExtras};
use super::expr::Expr;
use super::functions::{common_type, AggFunc, Func};
use super::pg_catalog::{regcast, VirtualTable};

mod special;
use super::plan::*;

mod access;
mod alter;
mod alter_apply;
mod alter_fk;
mod cte;
mod dml_from;
mod explain;
mod foreign_key;
mod index;
mod join;
mod operators;
mod returning;
pub mod schema;
mod setop;
pub mod srf;
mod subquery;
mod upsert;
mod view;

pub use alter::AlterAction;
pub use alter_apply::{apply_alter, rename_word, Altered, Source};
pub use alter_fk::{cascade_notice, dependents_error};
use cte::CteDef;
use operators::like_operands;
use subquery::CorrFrame;

/// One visible column.
#[derive(Debug, Clone)]
pub struct ScopeCol {
    /// Table name or alias.
    pub qualifier: Option<String>,
    /// Column name.
    pub name: String,
    /// Type.
    pub ty: DataType,
    /// Source table oid and attribute number, for RowDescription.
    pub origin: (u32, i16),
    /// A column that a JOIN … USING merged into an unqualified one: reachable only
    /// by its qualified name, and not part of `*`.
    pub hidden: bool,
}

/// The columns visible to an expression.
pub type Scope = Vec<ScopeCol>;

/// Aggregate-binding state: the group keys (by their SQL text) and the aggregates
/// found so far. Post-aggregation rows are group keys ++ aggregate results.
struct AggCtx {
    group_keys: Vec<(String, DataType)>,
    aggs: Vec<AggCall>,
    input: Scope,
}

/// Binds statements for one Parse (or one simple-query statement).
pub struct Planner<'a> {
    pub(super) catalog: &'a Catalog,
    /// Where unqualified names are looked up (the session's `search_path`; a view's
    /// own path while its text is bound again).
    pub(super) path: SearchPath,
    /// `INSERT … OVERRIDING {SYSTEM|USER} VALUE` (cut out of the text before parsing).
    pub overriding: Option<super::constraints::Overriding>,
    /// The weaker row-lock strengths (`FOR NO KEY UPDATE`, `FOR KEY SHARE`) sqlparser
    /// does not parse, one per locking clause in text order (see `locking.rs`).
    pub lock_strengths: Vec<crate::storage::RowLockMode>,
    /// Parameter types: declared by the client, inferred, or Unknown until inferred.
    pub params: Vec<DataType>,
    /// Next id for a subquery or a recursive working table.
    next_id: usize,
    /// One frame per enclosing subquery, innermost last (see `subquery.rs`).
    corr: Vec<CorrFrame>,
    /// The WITH queries in scope, innermost last (see `cte.rs`).
    ctes: Vec<CteDef>,
    /// The views being expanded (their oids), outermost first (see `view.rs`).
    expanding: Vec<u32>,
    /// Every table and view a FROM resolved, as (schema, name) (what CREATE VIEW
    /// depends on).
    referenced: Vec<(String, String)>,
    /// While a view's text is bound again: the relations it read at creation, which
    /// its unqualified names stand for (see `view.rs`).
    view_reads: Option<Vec<(String, String)>>,
}

/// Case-folds an identifier as PostgreSQL does (unquoted → lower case).
pub fn ident(i: &ast::Ident) -> String {
    if i.quote_style.is_some() {
        i.value.clone()
    } else {
        i.value.to_lowercase()
    }
}

/// The parts of a dotted name, each case-folded as an identifier.
pub fn object_parts(name: &ast::ObjectName) -> Vec<String> {
    name.0
        .iter()
        .map(|p| match p {
            ast::ObjectNamePart::Identifier(i) => ident(i),
            other => other.to_string(),
        })
        .collect()
}

/// The function behind a regular-expression match operator (`~`, `!~`, `~*`, `!~*`,
/// also spelled `OPERATOR(pg_catalog.~)`), as PostgreSQL names them.
fn regex_function(op: &ast::BinaryOperator) -> Option<&'static str> {
    use ast::BinaryOperator as B;
    let symbol = match op {
        B::PGRegexMatch => "~",
        B::PGRegexNotMatch => "!~",
        B::PGRegexIMatch => "~*",
        B::PGRegexNotIMatch => "!~*",
        B::PGCustomBinaryOperator(parts) => match parts.as_slice() {
            [op] => op.as_str(),
            [schema, op] if schema == "pg_catalog" => op.as_str(),
            _ => return None,
        },
        _ => return None,
    };
    Some(match symbol {
        "~" => "textregexeq",
        "!~" => "textregexne",
        "~*" => "texticregexeq",
        "!~*" => "texticregexne",
        _ => return None,
    })
}

fn unsupported(what: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::FeatureNotSupported, format!("{what} is not supported yet"))
}

/// Where a relation name points.
enum Relation {
    Table(Arc<TableDef>),
    Virtual(VirtualTable),
    View(Arc<crate::catalog::ViewDef>),
}

impl<'a> Planner<'a> {
    /// A planner with the client's declared parameter types (0 = infer).
    pub fn new(catalog: &'a Catalog, path: &SearchPath, declared: &[u32]) -> Result<Planner<'a>> {
        let mut params = Vec::with_capacity(declared.len());
        for &oid in declared {
            params.push(if oid == 0 {
                DataType::Unknown
            } else {
                DataType::from_oid(oid).ok_or_else(|| {
                    Error::new(
                        ErrorKind::UndefinedObject,
                        format!("type with OID {oid} does not exist"),
                    )
                })?
            });
        }
        Ok(Planner {
            catalog,
            path: path.clone(),
            params,
            next_id: 0,
            corr: Vec::new(),
            ctes: Vec::new(),
            expanding: Vec::new(),
            referenced: Vec::new(),
            view_reads: None,
            overriding: None,
            lock_strengths: Vec::new(),
        })
    }

    /// Final parameter types: anything still unknown is `text`, as PostgreSQL infers
    /// for a parameter that nothing constrains.
    pub fn param_types(&self) -> Vec<DataType> {
        self.params
            .iter()
            .map(|t| if *t == DataType::Unknown { DataType::Text } else { t.clone() })
            .collect()
    }

    fn resolve(&mut self, name: &ast::ObjectName) -> Result<Relation> {
        let found = self.resolve_name(name)?;
        match &found {
            Relation::Table(t) => self.referenced.push((t.schema.clone(), t.name.clone())),
            Relation::View(v) => self.referenced.push((v.schema.clone(), v.name.clone())),
            Relation::Virtual(_) => {}
        }
        Ok(found)
    }

    /// The relation `schema.rel`, if there is one.
    fn relation_in(&self, schema: &str, rel: &str) -> Option<Relation> {
        match schema {
            PG_CATALOG => VirtualTable::by_name(rel).map(Relation::Virtual),
            "information_schema" => VirtualTable::information_schema(rel).map(Relation::Virtual),
            s => self
                .catalog
                .table(s, rel)
                .map(Relation::Table)
                .or_else(|| self.catalog.view(s, rel).map(Relation::View)),
        }
    }

    /// A name in FROM (or a DML target): `s.t` in s (3F000 if s does not exist),
    /// `t` in the first schema of the search path that holds one.
    fn resolve_name(&self, name: &ast::ObjectName) -> Result<Relation> {
        self.resolve_parts(&object_parts(name))
    }

    fn resolve_parts(&self, parts: &[String]) -> Result<Relation> {
        let undefined = || {
            Error::new(
                ErrorKind::UndefinedTable,
                format!("relation \"{}\" does not exist", parts.join(".")),
            )
        };
        match namespace::split_qualified(parts, None)? {
            // PostgreSQL says 42P01 here also when the schema does not exist.
            (Some(s), rel) => self.relation_in(s, rel).ok_or_else(undefined),
            (None, rel) => {
                // In a view's text: the relation the name found at creation, the one of
                // those it read that comes first on its path (see `view.rs`).
                let bound = self.view_reads.as_ref().and_then(|reads| {
                    let read = |s: &str| reads.iter().any(|(r, n)| r == s && n == rel);
                    let schema = self.path.schemas().find(|s| read(s))?;
                    self.relation_in(schema, rel)
                });
                bound
                    .or_else(|| self.path.schemas().find_map(|s| self.relation_in(s, rel)))
                    .ok_or_else(undefined)
            }
        }
    }

    /// The table `parts` names (COPY, VACUUM): 42P01 if none, 42809 for a view or a
    /// system catalog.
    pub fn table_named(&self, parts: &[String]) -> Result<Arc<TableDef>> {
        match self.resolve_parts(parts)? {
            Relation::Table(t) => Ok(t),
            _ => Err(Error::new(
                ErrorKind::WrongObjectType,
                format!("\"{}\" is not a table", parts.join(".")),
            )),
        }
    }

    /// The schema a CREATE of `parts` puts its relation in: the one given (3F000 if
    /// it does not exist), else the search path's creation schema.
    pub(super) fn creation_schema(&self, parts: &[String]) -> Result<(String, String)> {
        match namespace::split_qualified(parts, None)? {
            (Some(s), n) => {
                if self.catalog.schema_oid(s).is_none() {
                    return Err(namespace::no_schema(s));
                }
                namespace::creatable(s, n)?;
                Ok((s.to_owned(), n.to_owned()))
            }
            (None, n) => Ok((self.path.creation_schema(n)?, n.to_owned())),
        }
    }

    fn table(&mut self, name: &ast::ObjectName) -> Result<Arc<TableDef>> {
        match self.resolve(name)? {
            Relation::Table(t) => Ok(t),
            Relation::View(v) => Err(view::view_not_writable(&v.name)),
            Relation::Virtual(_) => Err(Error::new(
                ErrorKind::InsufficientPrivilege,
                format!("permission denied: \"{name}\" is a system catalog"),
            )),
        }
    }

    /// Plans one statement.
    pub fn plan(&mut self, stmt: &ast::Statement) -> Result<Plan> {
        use ast::Statement as S;
        match stmt {
            S::Query(q) => Ok(Plan::Query(self.query(q, None)?)),
            S::Insert(i) => self.insert(i),
            S::Update(u) => self.update(u),
            S::Delete(d) => self.delete(d),
            S::CreateTable(c) => self.create_table(c),
            S::Drop { object_type: ast::ObjectType::Table, if_exists, names, cascade, .. } => {
                let names = schema::drop_names(names)?;
                Ok(Plan::DropTable { names, if_exists: *if_exists, cascade: *cascade })
            }
            S::CreateSchema { schema_name, if_not_exists, or_replace, with, options, .. } => {
                schema::create_schema(schema_name, *if_not_exists, *or_replace, with, options)
            }
            S::Drop { object_type: ast::ObjectType::Schema, if_exists, names, cascade, .. } => {
                schema::drop_schema(names, *if_exists, *cascade)
            }
            S::CreateIndex(c) => self.create_index(c),
            S::CreateView(c) => self.create_view(c),
            S::Drop { object_type: ast::ObjectType::View, if_exists, names, cascade, .. } => {
                self.drop_view(names, *if_exists, *cascade)
            }
            S::Drop { object_type: ast::ObjectType::Index, if_exists, names, cascade, .. } => {
                self.drop_index(names, *if_exists, *cascade)
            }
            S::Truncate(t) => {
                let mut tables = Vec::new();
                for target in &t.table_names {
                    tables.push(self.table(&target.name)?);
                }
                Ok(Plan::Truncate(tables))
            }
            S::AlterTable(a) => self.alter_table(a),
            S::CreateSequence {
                temporary,
                if_not_exists,
                name,
                data_type,
                sequence_options,
                owned_by,
            } => self.create_sequence(
                *temporary,
                *if_not_exists,
                name,
                data_type.as_ref(),
                sequence_options,
                owned_by.as_ref(),
            ),
            S::Drop {
                object_type: ast::ObjectType::Sequence, if_exists, names, cascade, ..
            } => {
                if *cascade {
                    return Err(unsupported("DROP SEQUENCE … CASCADE"));
                }
                let names = schema::drop_names(names)?;
                Ok(Plan::DropSequence { names, if_exists: *if_exists })
            }
            S::StartTransaction { modes, begin, .. } => Ok(Plan::Begin(
                transaction_modes(modes)?,
                if *begin { "BEGIN" } else { "START TRANSACTION" },
            )),
            S::Commit { chain: false, .. } => Ok(Plan::Commit),
            S::Rollback { chain: false, savepoint: None } => Ok(Plan::Rollback),
            S::Rollback { chain: false, savepoint: Some(name) } => {
                Ok(Plan::RollbackToSavepoint(ident(name)))
            }
            S::Savepoint { name } => Ok(Plan::Savepoint(ident(name))),
            S::Explain { analyze, verbose, statement, format, options, .. } => {
                explain::check_options(*analyze, *verbose, format.is_some(), options.as_deref())?;
                Ok(Plan::Explain(explain::render(&self.plan(statement)?)?))
            }
            S::ReleaseSavepoint { name } => Ok(Plan::ReleaseSavepoint(ident(name))),
            other => Err(unsupported(format!("statement \"{}\"", first_words(&other.to_string())))),
        }
    }

    // ---- queries -------------------------------------------------------------

    /// Binds a query; `outer` is the scope of the enclosing row(s) it may reference
    /// (a LATERAL or correlated subquery's).
    pub fn query(&mut self, q: &ast::Query, outer: Option<&Scope>) -> Result<QueryPlan> {
        self.query_typed(q, outer, false)
    }

    /// Binds a query; with `keep_unknown`, output columns of untyped literals keep the
    /// type `unknown` (a set operation resolves them against its other side).
    fn query_typed(
        &mut self,
        q: &ast::Query,
        outer: Option<&Scope>,
        keep_unknown: bool,
    ) -> Result<QueryPlan> {
        if let Some(fetch) = &q.fetch {
            let q = operators::fetch_as_limit(q, fetch)?;
            return self.query_typed(&q, outer, keep_unknown);
        }
        if !q.locks.is_empty() {
            let wait = super::locking::wait_policy(&q.locks, &self.lock_strengths)?;
            let (ast::SetExpr::Select(select), None) = (q.body.as_ref(), &q.with) else {
                return Err(Error::new(
                    ErrorKind::FeatureNotSupported,
                    "FOR UPDATE is supported only on a single table, not yet with WITH or UNION/INTERSECT/EXCEPT",
                ));
            };
            let of = q.locks[0].of.as_ref().map(|n| n.to_string().to_lowercase());
            let mut plan = self.select(select, q, outer, keep_unknown)?;
            plan.lock = Some(Box::new(super::locking::plan(&plan, wait, of.as_deref())?));
            return Ok(plan);
        }
        let depth = self.ctes.len();
        if let Some(with) = &q.with {
            self.push_ctes(with)?;
        }
        let plan = match q.body.as_ref() {
            ast::SetExpr::Select(s) => self.select(s, q, outer, keep_unknown),
            body => self.body(body, outer, keep_unknown).and_then(|p| self.order_limit(p, q)),
        };
        self.ctes.truncate(depth);
        plan
    }

    fn values(
        &mut self,
        v: &ast::Values,
        outer: Option<&Scope>,
        keep_unknown: bool,
    ) -> Result<QueryPlan> {
        let empty = Scope::new();
        let mut rows = Vec::new();
        let mut types: Vec<DataType> = Vec::new();
        for row in &v.rows {
            let mut bound = Vec::new();
            for (i, e) in row.content.iter().enumerate() {
                let (e, t) = self.expr(e, &empty, outer, None)?;
                if types.len() <= i {
                    types.push(t);
                } else if types[i] == DataType::Unknown {
                    types[i] = t;
                }
                bound.push(e);
            }
            if !rows.is_empty() && bound.len() != types.len() {
                return Err(Error::syntax("VALUES lists must all be the same length"));
            }
            rows.push(bound);
        }
        let types: Vec<DataType> = types
            .into_iter()
            .map(|t| if t == DataType::Unknown && !keep_unknown { DataType::Text } else { t })
            .collect();
        let columns = types
            .iter()
            .enumerate()
            .map(|(i, t)| OutCol {
                name: format!("column{}", i + 1),
                ty: t.clone(),
                table_oid: 0,
                column: 0,
            })
            .collect();
        Ok(QueryPlan { rel: Rel::Values(rows), columns, lock: None })
    }

    fn select(
        &mut self,
        s: &ast::Select,
        q: &ast::Query,
        outer: Option<&Scope>,
        keep_unknown: bool,
    ) -> Result<QueryPlan> {
        // FROM
        let (mut rel, scope) = if s.from.is_empty() && srf::returns_no_rows(&s.projection) {
            (Rel::Values(Vec::new()), Scope::new())
        } else if s.from.is_empty() {
            (Rel::Single, Scope::new())
        } else {
            let mut acc: Option<(Rel, Scope)> = None;
            for twj in &s.from {
                acc = Some(self.table_with_joins(twj, acc, outer)?);
            }
            acc.ok_or_else(|| Error::internal("empty FROM"))?
        };

        // WHERE
        if let Some(w) = &s.selection {
            let (pred, ty) = self.expr(w, &scope, outer, None)?;
            expect_bool(&ty, "WHERE")?;
            rel = push_filter(rel, pred);
        }

        // A constant HAVING is type-checked first, as PostgreSQL does before it checks
        // the select list's grouping (`SELECT * FROM t HAVING 1` is 42804, not 42803).
        if let Some(h @ ast::Expr::Value(_)) = &s.having {
            expect_bool(&self.expr(h, &scope, outer, None)?.1, "HAVING")?;
        }

        // GROUP BY / aggregates
        let group_exprs = match &s.group_by {
            ast::GroupByExpr::Expressions(e, mods) if mods.is_empty() => e.clone(),
            ast::GroupByExpr::Expressions(..) | ast::GroupByExpr::All(_) => {
                return Err(unsupported("GROUP BY modifiers"))
            }
        };
        let items = select_items(&s.projection, &scope)?;
        let has_aggs = !group_exprs.is_empty()
            || s.having.is_some()
            || items.iter().any(|(e, _)| contains_aggregate(e));

        let mut agg = if has_aggs {
            let mut keys = Vec::new();
            let mut key_exprs = Vec::new();
            for g in &group_exprs {
                let g = self.resolve_positional(g, &items)?;
                let (e, t) = self.expr(&g, &scope, outer, None)?;
                keys.push((g.to_string(), t));
                key_exprs.push(e);
            }
            Some((AggCtx { group_keys: keys, aggs: Vec::new(), input: scope.clone() }, key_exprs))
        } else {
            None
        };

        // SELECT list
        let mut out_exprs = Vec::new();
        let mut columns = Vec::new();
        for (e, alias) in &items {
            let (bound, ty) = match agg.as_mut() {
                Some((ctx, _)) => self.expr(e, &scope, outer, Some(ctx))?,
                None => self.expr(e, &scope, outer, None)?,
            };
            let ty = if ty == DataType::Unknown && !keep_unknown { DataType::Text } else { ty };
            let origin = match e {
                ast::Expr::Identifier(_) | ast::Expr::CompoundIdentifier(_) if agg.is_none() => {
                    origin_of(&bound, &scope)
                }
                _ => (0, 0),
            };
            columns.push(OutCol {
                name: alias.clone().unwrap_or_else(|| column_name(e)),
                ty,
                table_oid: origin.0,
                column: origin.1,
            });
            out_exprs.push(bound);
        }

        // HAVING
        let mut having = None;
        if let Some(h) = &s.having {
            let (ctx, _) =
                agg.as_mut().ok_or_else(|| Error::internal("HAVING without aggregation"))?;
            let (pred, ty) = self.expr(h, &scope, outer, Some(ctx))?;
            expect_bool(&ty, "HAVING")?;
            having = Some(pred);
        }

        // ORDER BY: output columns by position or name, else expressions over the input
        // (computed as hidden trailing columns).
        let mut sort_keys = Vec::new();
        let visible = out_exprs.len();
        if let Some(ob) = &q.order_by {
            let ast::OrderByKind::Expressions(list) = &ob.kind else {
                return Err(unsupported("ORDER BY ALL"));
            };
            for o in list {
                let desc = matches!(o.options.sort, Some(ast::OrderBySort::Desc));
                let nulls_first = o.options.nulls_first.unwrap_or(desc);
                let idx = output_column(&o.expr, &columns, visible)?;
                let idx = match idx {
                    Some(i) => i,
                    None => {
                        let (bound, _) = match agg.as_mut() {
                            Some((ctx, _)) => self.expr(&o.expr, &scope, outer, Some(ctx))?,
                            None => self.expr(&o.expr, &scope, outer, None)?,
                        };
                        out_exprs.push(bound);
                        out_exprs.len() - 1
                    }
                };
                sort_keys.push(SortKey { expr: Expr::Column(idx), desc, nulls_first });
            }
        }

        let distinct_on = match &s.distinct {
            Some(ast::Distinct::On(_)) if s.projection.is_empty() => {
                return Err(Error::syntax("syntax error at or near \"FROM\""));
            }
            Some(ast::Distinct::On(list)) => {
                let mut keys = Vec::new();
                for e in list {
                    let idx = match output_column(e, &columns, visible)? {
                        Some(i) => i,
                        None => {
                            let (bound, _) = match agg.as_mut() {
                                Some((ctx, _)) => self.expr(e, &scope, outer, Some(ctx))?,
                                None => self.expr(e, &scope, outer, None)?,
                            };
                            // The same expression as a hidden ORDER BY key: one column.
                            match out_exprs[visible..].iter().position(|x| *x == bound) {
                                Some(k) => visible + k,
                                None => {
                                    out_exprs.push(bound);
                                    out_exprs.len() - 1
                                }
                            }
                        }
                    };
                    keys.push(idx);
                }
                Some(keys)
            }
            _ => None,
        };

        if let Some((mut ctx, mut key_exprs)) = agg {
            rel = subquery::before_aggregate(rel, scope.len(), &mut key_exprs, &mut ctx.aggs);
            rel = Rel::Aggregate { input: Box::new(rel), group: key_exprs, aggs: ctx.aggs };
            if let Some(h) = having {
                rel = Rel::Filter { input: Box::new(rel), pred: h };
            }
        }
        rel = Rel::Project { input: Box::new(rel), exprs: out_exprs };
        match &s.distinct {
            None | Some(ast::Distinct::All) => {}
            Some(ast::Distinct::Distinct) => {
                if !sort_keys.is_empty()
                    && sort_keys.iter().any(|k| matches!(k.expr, Expr::Column(i) if i >= visible))
                {
                    return Err(Error::new(
                        ErrorKind::InvalidColumnReference,
                        "for SELECT DISTINCT, ORDER BY expressions must appear in select list",
                    ));
                }
                rel = Rel::Distinct(Box::new(rel));
            }
            Some(ast::Distinct::On(_)) => {}
        }
        if let Some(keys) = distinct_on {
            // The leading ORDER BY keys must be DISTINCT ON keys; the rest of those
            // keys then sort each run of equal leading keys together.
            for (k, _) in sort_keys.iter().zip(&keys) {
                if !matches!(k.expr, Expr::Column(i) if keys.contains(&i)) {
                    return Err(Error::new(
                        ErrorKind::InvalidColumnReference,
                        "SELECT DISTINCT ON expressions must match initial ORDER BY expressions",
                    ));
                }
            }
            for &i in &keys {
                if !sort_keys.iter().any(|k| k.expr == Expr::Column(i)) {
                    sort_keys.push(SortKey {
                        expr: Expr::Column(i),
                        desc: false,
                        nulls_first: false,
                    });
                }
            }
            rel = Rel::Sort { input: Box::new(rel), keys: std::mem::take(&mut sort_keys) };
            rel = Rel::DistinctOn {
                input: Box::new(rel),
                keys: keys.into_iter().map(Expr::Column).collect(),
            };
        }
        if !sort_keys.is_empty() {
            rel = Rel::Sort { input: Box::new(rel), keys: sort_keys };
        }
        rel = self.limit(rel, q)?;
        access::use_key_order(&mut rel);
        if columns.len() < count_width(&rel, visible) {
            rel = Rel::Truncate { input: Box::new(rel), width: visible };
        }
        Ok(QueryPlan { rel, columns, lock: None })
    }

    /// Wraps `rel` in the query's LIMIT / OFFSET, if it has them.
    fn limit(&mut self, rel: Rel, q: &ast::Query) -> Result<Rel> {
        let Some(lc) = &q.limit_clause else { return Ok(rel) };
        let (limit, offset) = match lc {
            ast::LimitClause::LimitOffset { limit, offset, limit_by } if limit_by.is_empty() => {
                (limit.clone(), offset.as_ref().map(|o| o.value.clone()))
            }
            _ => return Err(unsupported("this LIMIT form")),
        };
        let empty = Scope::new();
        let mut bind_count = |e: Option<ast::Expr>| -> Result<Option<Expr>> {
            match e {
                None => Ok(None),
                Some(e) => {
                    let (b, t) = self.expr(&e, &empty, None, None)?;
                    if b.has_subquery() {
                        return Err(unsupported("subqueries in LIMIT / OFFSET"));
                    }
                    // An untyped literal ('5') is read as a bigint: 22P02 for 'x'.
                    let b = if t == DataType::Unknown {
                        self.cast_to(b, t, &DataType::Int8, false)?
                    } else {
                        coerce(b, t, &DataType::Int8)?
                    };
                    Ok(Some(b))
                }
            }
        };
        let limit = bind_count(limit)?;
        let offset = bind_count(offset)?;
        Ok(Rel::Limit { input: Box::new(rel), limit, offset })
    }

    fn resolve_positional(
        &self,
        g: &ast::Expr,
        items: &[(ast::Expr, Option<String>)],
    ) -> Result<ast::Expr> {
        if let ast::Expr::Value(v) = g {
            if let ast::Value::Number(n, _) = &v.value {
                let pos: usize = n.parse().map_err(|_| Error::syntax("bad GROUP BY position"))?;
                return items.get(pos.wrapping_sub(1)).map(|(e, _)| e.clone()).ok_or_else(|| {
                    Error::new(
                        ErrorKind::InvalidColumnReference,
                        format!("GROUP BY position {pos} is not in select list"),
                    )
                });
            }
        }
        if let ast::Expr::Identifier(i) = g {
            // GROUP BY may name an output column alias.
            let name = ident(i);
            if let Some((e, _)) = items.iter().find(|(_, a)| a.as_deref() == Some(name.as_str())) {
                return Ok(e.clone());
            }
        }
        Ok(g.clone())
    }

    fn table_factor(
        &mut self,
        tf: &ast::TableFactor,
        lateral_scope: Option<&Scope>,
        outer: Option<&Scope>,
    ) -> Result<(Rel, Scope)> {
        match tf {
            ast::TableFactor::Table { name, alias, args: None, .. } => {
                if let Some(found) = self.cte_reference(name, alias.as_ref())? {
                    return Ok(found);
                }
                let qualifier =
                    alias.as_ref().map(|a| ident(&a.name)).or_else(|| object_parts(name).pop());
                let renames: Vec<String> = alias
                    .as_ref()
                    .map(|a| a.columns.iter().map(|c| ident(&c.name)).collect())
                    .unwrap_or_default();
                match self.resolve(name)? {
                    Relation::Table(t) => {
                        let cols =
                            t.columns.iter().enumerate().map(|(i, c)| {
                                (c.name.clone(), c.ty.clone(), (t.oid, i as i16 + 1))
                            });
                        let scope = relation_scope(qualifier, &renames, cols);
                        Ok((Rel::Scan { table: t, access: Access::Full, filter: None }, scope))
                    }
                    Relation::Virtual(v) => {
                        let cols = v
                            .columns()
                            .into_iter()
                            .enumerate()
                            .map(|(i, (n, ty))| (n.to_owned(), ty, (v.oid(), i as i16 + 1)));
                        let scope = relation_scope(qualifier, &renames, cols);
                        Ok((Rel::Virtual(v), scope))
                    }
                    Relation::View(v) => self.view_relation(&v, qualifier, &renames),
                }
            }
            ast::TableFactor::Derived { subquery, alias, .. } => {
                if alias.is_none() {
                    return Err(Error::syntax("subquery in FROM must have an alias")
                        .with_hint("For example, FROM (SELECT ...) [AS] foo."));
                }
                let plan = match lateral_scope {
                    Some(left) => self.lateral_query(subquery, left, outer)?,
                    None => self.query(subquery, outer)?,
                };
                let qualifier = alias.as_ref().map(|a| ident(&a.name));
                let renames: Vec<String> = alias
                    .as_ref()
                    .map(|a| a.columns.iter().map(|c| ident(&c.name)).collect())
                    .unwrap_or_default();
                let cols = plan.columns.iter().map(|c| (c.name.clone(), c.ty.clone(), (0, 0)));
                let scope = relation_scope(qualifier, &renames, cols);
                Ok((plan.rel, scope))
            }
            ast::TableFactor::Table { name, alias, args: Some(args), with_ordinality, .. } => {
                self.table_function(name, alias.as_ref(), args, *with_ordinality, outer)
            }
            ast::TableFactor::UNNEST {
                alias,
                array_exprs,
                with_offset: false,
                with_ordinality: false,
                ..
            } => self.unnest(array_exprs, alias.as_ref(), outer),
            ast::TableFactor::NestedJoin { table_with_joins, alias: None } => {
                self.table_with_joins(table_with_joins, None, outer)
            }
            _ => Err(unsupported("this FROM item")),
        }
    }

    // ---- expressions ---------------------------------------------------------

    fn lookup(
        &mut self,
        qualifier: Option<&str>,
        name: &str,
        scope: &Scope,
        outer: Option<&Scope>,
    ) -> Result<(Expr, DataType)> {
        let find = |sc: &Scope| -> Result<Option<(usize, DataType)>> {
            let hits: Vec<usize> = sc
                .iter()
                .enumerate()
                .filter(|(_, c)| {
                    c.name == name
                        && match qualifier {
                            Some(q) => c.qualifier.as_deref() == Some(q),
                            None => !c.hidden,
                        }
                })
                .map(|(i, _)| i)
                .collect();
            match hits.len() {
                0 => Ok(None),
                1 => Ok(Some((hits[0], sc[hits[0]].ty.clone()))),
                _ => Err(Error::new(
                    ErrorKind::AmbiguousColumn,
                    format!("column reference \"{name}\" is ambiguous"),
                )),
            }
        };
        if let Some((i, t)) = find(scope)? {
            return Ok((Expr::Column(i), t));
        }
        if let Some(o) = outer {
            if let Some((i, t)) = find(o)? {
                self.mark_correlated(i);
                return Ok((Expr::Outer(i), t));
            }
        }
        Err(match qualifier {
            Some(q)
                if !scope
                    .iter()
                    .chain(outer.into_iter().flatten())
                    .any(|c| c.qualifier.as_deref() == Some(q)) =>
            {
                Error::new(
                    ErrorKind::UndefinedTable,
                    format!("missing FROM-clause entry for table \"{q}\""),
                )
            }
            Some(q) => {
                Error::new(ErrorKind::UndefinedColumn, format!("column {q}.{name} does not exist"))
            }
            None => {
                Error::new(ErrorKind::UndefinedColumn, format!("column \"{name}\" does not exist"))
            }
        })
    }

    /// Binds an expression. With `agg`, binds in post-aggregation mode: group keys and
    /// aggregate calls become columns of the aggregated row, other column references
    /// are 42803.
    /// Binds a scalar expression over `scope` (no aggregates, no outer scope).
    pub(super) fn scalar(&mut self, e: &ast::Expr, scope: &Scope) -> Result<(Expr, DataType)> {
        self.expr(e, scope, None, None)
    }

    fn expr(
        &mut self,
        e: &ast::Expr,
        scope: &Scope,
        outer: Option<&Scope>,
        mut agg: Option<&mut AggCtx>,
    ) -> Result<(Expr, DataType)> {
        use ast::Expr as E;
        if let Some(ctx) = agg.as_deref_mut() {
            let text = e.to_string();
            if let Some(i) = ctx.group_keys.iter().position(|(k, _)| *k == text) {
                return Ok((Expr::Column(i), ctx.group_keys[i].1.clone()));
            }
            if let E::Function(f) = e {
                let name = object_parts(&f.name).pop().unwrap_or_default();
                if let Some(func) = AggFunc::by_name(&name) {
                    return self.aggregate(func, f, ctx, outer);
                }
            }
            if let E::Identifier(_) | E::CompoundIdentifier(_) = e {
                let (_, _) = self.expr(e, &ctx.input.clone(), outer, None)?;
                return Err(Error::new(
                    ErrorKind::GroupingError,
                    format!(
                        "column \"{}\" must appear in the GROUP BY clause or be used in an aggregate function",
                        e.to_string().trim_matches('"')
                    ),
                ));
            }
        }
        match e {
            E::Identifier(i) => self.lookup(None, &ident(i), scope, outer),
            E::CompoundIdentifier(parts) => {
                let n = parts.len();
                if n < 2 {
                    return Err(Error::syntax("bad column reference"));
                }
                self.lookup(Some(&ident(&parts[n - 2])), &ident(&parts[n - 1]), scope, outer)
            }
            E::Value(v) => self.literal(&v.value),
            E::Nested(inner) => self.expr(inner, scope, outer, agg),
            E::UnaryOp { op: ast::UnaryOperator::Minus, expr: inner } if matches!(&**inner, E::Value(v) if matches!(v.value, ast::Value::Number(..))) =>
            {
                // PostgreSQL's grammar folds `-` into a numeric literal, so -2147483648
                // is an integer (and -2147483648 - 1 overflows), not a negated bigint.
                let E::Value(v) = &**inner else { return Err(Error::internal("literal")) };
                let ast::Value::Number(n, long) = &v.value else {
                    return Err(Error::internal("literal"));
                };
                self.literal(&ast::Value::Number(format!("-{n}"), *long))
            }
            E::UnaryOp {
                op: op @ (ast::UnaryOperator::PGSquareRoot | ast::UnaryOperator::PGCubeRoot),
                expr,
            } => {
                let name =
                    if matches!(op, ast::UnaryOperator::PGSquareRoot) { "dsqrt" } else { "dcbrt" };
                self.call_named(name, &[expr.as_ref()], scope, outer, agg)
            }
            E::UnaryOp { op: ast::UnaryOperator::Minus, expr }
                if matches!(**expr, E::BinaryOp { op: ast::BinaryOperator::PGExp, .. }) =>
            {
                self.expr(&operators::minus_into_power(expr), scope, outer, agg)
            }
            E::UnaryOp { op, expr } => {
                let (x, t) = self.expr(expr, scope, outer, agg)?;
                match op {
                    ast::UnaryOperator::Not => {
                        let x = coerce(x, t, &DataType::Bool)?;
                        Ok((Expr::Not(Box::new(x)), DataType::Bool))
                    }
                    ast::UnaryOperator::Minus => {
                        if let Expr::Const(v) = &x {
                            if let Some(neg) = negate_literal(v) {
                                return Ok((Expr::Const(neg), t));
                            }
                        }
                        let t = if t == DataType::Unknown { DataType::Float8 } else { t };
                        Ok((Expr::Neg(Box::new(x), t.clone()), t))
                    }
                    ast::UnaryOperator::Plus => Ok((x, t)),
                    // `~x` is `x # -1`, in x's own integer type.
                    ast::UnaryOperator::BitwiseNot => {
                        let ones = match t {
                            DataType::Int2 => Value::Int2(-1),
                            DataType::Int8 => Value::Int8(-1),
                            DataType::Int4 | DataType::Unknown => Value::Int4(-1),
                            _ => {
                                return Err(Error::new(
                                    ErrorKind::UndefinedFunction,
                                    format!("operator does not exist: ~ {}", t.display_name()),
                                )
                                .with_hint("No operator matches the given name and argument type. You might need to add an explicit type cast."))
                            }
                        };
                        let int = if t == DataType::Unknown { DataType::Int4 } else { t.clone() };
                        let x = self.cast_to(x, t, &int, false)?;
                        let t = int;
                        let e = Expr::Binary {
                            op: BinaryOp::BitXor,
                            left: Box::new(x),
                            left_ty: t.clone(),
                            right: Box::new(Expr::Const(ones)),
                            right_ty: t.clone(),
                        };
                        Ok((e, t))
                    }

                    _ => Err(unsupported(format!("operator {op}"))),
                }
            }
            E::BinaryOp { left, op, right }
                if matches!((&**left, &**right), (E::Tuple(_), E::Tuple(_))) =>
            {
                self.expr(&operators::row_comparison(left, op, right)?, scope, outer, agg)
            }
            E::InSubquery { expr, subquery, negated } if matches!(**expr, E::Tuple(_)) => {
                self.expr(&operators::row_in_subquery(expr, subquery, *negated)?, scope, outer, agg)
            }
            E::InList { expr, list, negated } if matches!(**expr, E::Tuple(_)) => {
                self.expr(&operators::row_in_list(expr, list, *negated)?, scope, outer, agg)
            }
            E::BinaryOp { left, op: ast::BinaryOperator::PGExp, right } => {
                self.call_named("power", &[left.as_ref(), right.as_ref()], scope, outer, agg)
            }
            E::BinaryOp { left, op, right } if operators::like_operator(op).is_some() => {
                let like = operators::like_operator(op)
                    .map(|(negated, ilike)| operators::like_ast(left, right, negated, ilike));
                match like {
                    Some(l) => self.expr(&l, scope, outer, agg),
                    None => Err(Error::internal("LIKE operator")),
                }
            }
            E::BinaryOp { left, op, right } => match regex_function(op) {
                Some(f) => self.call_named(f, &[left.as_ref(), right.as_ref()], scope, outer, agg),
                None => self.binary(left, op, right, scope, outer, agg),
            },
            // Only the default collation exists (and "C", which compares the same way).
            E::Collate { expr, collation }
                if matches!(
                    object_parts(collation).last().map(String::as_str),
                    Some("default" | "C" | "c")
                ) =>
            {
                self.expr(expr, scope, outer, agg)
            }
            E::IsNull(x) | E::IsNotNull(x) => {
                let (b, _) = self.expr(x, scope, outer, agg)?;
                Ok((Expr::IsNull(Box::new(b), matches!(e, E::IsNotNull(_))), DataType::Bool))
            }
            E::IsUnknown(x) | E::IsNotUnknown(x) => {
                let (b, t) = self.expr(x, scope, outer, agg)?;
                let b = coerce(b, t, &DataType::Bool)?;
                Ok((Expr::IsNull(Box::new(b), matches!(e, E::IsNotUnknown(_))), DataType::Bool))
            }
            E::IsTrue(x) | E::IsFalse(x) | E::IsNotTrue(x) | E::IsNotFalse(x) => {
                let (b, t) = self.expr(x, scope, outer, agg)?;
                let b = coerce(b, t, &DataType::Bool)?;
                let target = matches!(e, E::IsTrue(_) | E::IsNotTrue(_));
                let negated = matches!(e, E::IsNotTrue(_) | E::IsNotFalse(_));
                Ok((
                    Expr::IsDistinct(
                        Box::new(b),
                        Box::new(Expr::Const(Value::Bool(target))),
                        !negated,
                    ),
                    DataType::Bool,
                ))
            }
            E::IsDistinctFrom(a, b) | E::IsNotDistinctFrom(a, b) => {
                let (l, lt) = self.expr(a, scope, outer, agg.as_deref_mut())?;
                let (r, rt) = self.expr(b, scope, outer, agg)?;
                let (l, r, _, _) = self.unify(l, lt, r, rt)?;
                Ok((
                    Expr::IsDistinct(
                        Box::new(l),
                        Box::new(r),
                        matches!(e, E::IsNotDistinctFrom(..)),
                    ),
                    DataType::Bool,
                ))
            }
            E::Cast { expr, data_type, .. } => {
                let to = DataType::from_sql(data_type)?;
                let (x, t) = self.expr(expr, scope, outer, agg)?;
                Ok((self.cast_to(x, t, &to, true)?, to))
            }
            E::TypedString(ts) => {
                let to = DataType::from_sql(&ts.data_type)?;
                let text = match &ts.value.value {
                    ast::Value::SingleQuotedString(s) => s.clone(),
                    other => other.to_string(),
                };
                let literal = Value::Text(text.clone());
                if cast_depends_on_zone(&literal, &DataType::Unknown, &to) {
                    // Read when the statement runs, in the session's zone then.
                    let e =
                        Expr::Cast(Box::new(Expr::Const(literal)), DataType::Unknown, to.clone());
                    return Ok((e, to));
                }
                Ok((Expr::Const(parse_text(&text, &to, UTC)?), to))
            }
            E::InList { expr, list, negated } => {
                let (x, t) = self.expr(expr, scope, outer, agg.as_deref_mut())?;
                let mut items = Vec::new();
                let mut types = vec![t.clone()];
                for i in list {
                    let (b, it) = self.expr(i, scope, outer, agg.as_deref_mut())?;
                    types.push(it.clone());
                    items.push((b, it));
                }
                let common = common_type(&types);
                let x = self.cast_to(x, t, &common, false)?;
                let mut bound = Vec::new();
                for (b, it) in items {
                    bound.push(self.cast_to(b, it, &common, false)?);
                }
                binary_op_type(BinaryOp::Eq, &common, &common)?;
                Ok((
                    Expr::InList {
                        expr: Box::new(x),
                        list: bound,
                        negated: *negated,
                        ty: common.clone(),
                        item_ty: common,
                    },
                    DataType::Bool,
                ))
            }
            E::Between { expr, negated, low, high } if operators::symmetric(low).is_some() => {
                let low = operators::symmetric(low).unwrap_or(low);
                let e = operators::between_symmetric(expr, *negated, low, high);
                self.expr(&e, scope, outer, agg)
            }
            E::Between { expr, negated, low, high } => {
                let ge = ast::Expr::BinaryOp {
                    left: expr.clone(),
                    op: ast::BinaryOperator::GtEq,
                    right: low.clone(),
                };
                let le = ast::Expr::BinaryOp {
                    left: expr.clone(),
                    op: ast::BinaryOperator::LtEq,
                    right: high.clone(),
                };
                let (a, _) = self.expr(&ge, scope, outer, agg.as_deref_mut())?;
                let (b, _) = self.expr(&le, scope, outer, agg)?;
                let both = Expr::And(Box::new(a), Box::new(b));
                Ok((if *negated { Expr::Not(Box::new(both)) } else { both }, DataType::Bool))
            }
            E::Like { negated, expr, pattern, escape_char, any: false }
            | E::ILike { negated, expr, pattern, escape_char, any: false } => {
                let (x, t) = self.expr(expr, scope, outer, agg.as_deref_mut())?;
                let (p, pt) =
                    self.like_pattern(pattern, escape_char.as_deref(), scope, outer, agg)?;
                like_operands(&t, &pt, matches!(e, E::ILike { .. }))?;
                let x = self.cast_to(x, t, &DataType::Text, false)?;
                let p = self.cast_to(p, pt, &DataType::Text, false)?;
                Ok((
                    Expr::Like {
                        expr: Box::new(x),
                        pattern: Box::new(p),
                        negated: *negated,
                        case_insensitive: matches!(e, E::ILike { .. }),
                    },
                    DataType::Bool,
                ))
            }
            E::Case { operand, conditions, else_result, .. } => {
                let operand_b = match operand {
                    Some(o) => Some(self.expr(o, scope, outer, agg.as_deref_mut())?),
                    None => None,
                };
                let mut whens = Vec::new();
                let mut result_types = Vec::new();
                for cw in conditions {
                    let (c, ct) = self.expr(&cw.condition, scope, outer, agg.as_deref_mut())?;
                    let c = match &operand_b {
                        Some((_, ot)) => self.cast_to(c, ct, ot, false)?,
                        None => coerce(c, ct, &DataType::Bool)?,
                    };
                    let (r, rt) = self.expr(&cw.result, scope, outer, agg.as_deref_mut())?;
                    result_types.push(rt.clone());
                    whens.push((c, r, rt));
                }
                let otherwise = match else_result {
                    Some(x) => {
                        let (b, t) = self.expr(x, scope, outer, agg)?;
                        result_types.push(t.clone());
                        Some((b, t))
                    }
                    None => None,
                };
                check_case_types(&result_types, else_result.is_some())?;
                let ty = common_type(&result_types);
                let mut bound = Vec::new();
                for (c, r, rt) in whens {
                    bound.push((c, self.cast_to(r, rt, &ty, false)?));
                }
                let otherwise = match otherwise {
                    Some((b, t)) => Some(Box::new(self.cast_to(b, t, &ty, false)?)),
                    None => None,
                };
                Ok((
                    Expr::Case {
                        operand: operand_b.map(|(o, _)| Box::new(o)),
                        whens: bound,
                        otherwise,
                    },
                    ty,
                ))
            }
            // `x op ANY (array)`: the types issue's array form; over a subquery below.
            E::AnyOp { left, compare_op, right, .. }
                if !matches!(right.as_ref(), E::Subquery(_)) =>
            {
                self.any_all(left, compare_op, right, false, scope, outer, agg)
            }
            E::AllOp { left, compare_op, right } if !matches!(right.as_ref(), E::Subquery(_)) => {
                self.any_all(left, compare_op, right, true, scope, outer, agg)
            }
            E::Subquery(_)
            | E::Exists { .. }
            | E::InSubquery { .. }
            | E::AnyOp { .. }
            | E::AllOp { .. } => self.subquery_expr(e, scope, outer, agg),
            E::Function(f) => self.function(f, scope, outer, agg),
            E::Interval(iv) => self.interval_literal(iv),
            E::CompoundFieldAccess { root, access_chain } => {
                self.subscript(root, access_chain, scope, outer, agg)
            }
            E::Substring { .. }
            | E::Trim { .. }
            | E::Position { .. }
            | E::Extract { .. }
            | E::AtTimeZone { .. }
            | E::Ceil { .. }
            | E::Floor { .. } => self.special_function(e, scope, outer, agg),
            E::Array(arr) => {
                operators::flat_array(arr)?;
                let mut items = Vec::new();
                let mut types = Vec::new();
                for x in &arr.elem {
                    let (b, t) = self.expr(x, scope, outer, agg.as_deref_mut())?;
                    types.push(t.clone());
                    items.push((b, t));
                }
                let elem = common_type(&types);
                if matches!(elem, DataType::Array(_)) {
                    return Err(unsupported("multidimensional arrays"));
                }
                let mut bound = Vec::new();
                for (b, t) in items {
                    bound.push(self.cast_to(b, t, &elem, false)?);
                }
                Ok((Expr::Array(bound), DataType::Array(Box::new(elem))))
            }
            _ => Err(unsupported(format!("expression \"{}\"", first_words(&e.to_string())))),
        }
    }

    fn aggregate(
        &mut self,
        func: AggFunc,
        f: &ast::Function,
        ctx: &mut AggCtx,
        outer: Option<&Scope>,
    ) -> Result<(Expr, DataType)> {
        let ast::FunctionArguments::List(list) = &f.args else {
            return Err(Error::syntax(format!("{}() needs arguments", func.name())));
        };
        let distinct = matches!(list.duplicate_treatment, Some(ast::DuplicateTreatment::Distinct));
        if f.over.is_some() || !f.within_group.is_empty() {
            return Err(unsupported("window functions and WITHIN GROUP"));
        }
        let (filter, order_by) = self.aggregate_clauses(f, list, ctx, outer)?;
        let mut call = match list.args.as_slice() {
            [ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Wildcard)]
                if func == AggFunc::Count =>
            {
                AggCall {
                    func: AggFunc::CountStar,
                    arg: None,
                    arg_ty: DataType::Int8,
                    result_ty: DataType::Int8,
                    distinct: false,
                    delimiter: None,
                    filter: None,
                    order_by: Vec::new(),
                }
            }
            [ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(a))]
                if func != AggFunc::StringAgg =>
            {
                if contains_aggregate(a) {
                    return Err(Error::new(
                        ErrorKind::GroupingError,
                        "aggregate function calls cannot be nested",
                    ));
                }
                let input = ctx.input.clone();
                let (arg, t) = self.expr(a, &input, outer, None)?;
                let (arg, t) = if t == DataType::Unknown {
                    (self.cast_to(arg, t, &DataType::Text, false)?, DataType::Text)
                } else {
                    (arg, t)
                };
                let result_ty = func.result_type(&t)?;
                AggCall {
                    func,
                    arg: Some(arg),
                    arg_ty: t,
                    result_ty,
                    distinct,
                    delimiter: None,
                    filter: None,
                    order_by: Vec::new(),
                }
            }
            [ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(a)), ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(d))]
                if func == AggFunc::StringAgg =>
            {
                let input = ctx.input.clone();
                let (arg, t) = self.expr(a, &input, outer, None)?;
                let (delim, dt) = self.expr(d, &input, outer, None)?;
                let text = |t: &DataType| {
                    matches!(
                        t,
                        DataType::Text
                            | DataType::Varchar(_)
                            | DataType::Name
                            | DataType::Bpchar(_)
                            | DataType::Unknown
                    )
                };
                if !text(&t) || !text(&dt) {
                    return Err(Error::new(
                        ErrorKind::UndefinedFunction,
                        format!(
                            "function string_agg({}, {}) does not exist",
                            t.display_name(),
                            dt.display_name()
                        ),
                    )
                    .with_hint("No function matches the given name and argument types. You might need to add explicit type casts."));
                }
                let arg = self.cast_to(arg, t, &DataType::Text, false)?;
                let delim = self.cast_to(delim, dt, &DataType::Text, false)?;
                AggCall {
                    func,
                    arg: Some(arg),
                    arg_ty: DataType::Text,
                    result_ty: DataType::Text,
                    distinct,
                    delimiter: Some(delim),
                    filter: None,
                    order_by: Vec::new(),
                }
            }
            _ => return Err(unsupported(format!("{}() with these arguments", func.name()))),
        };
        call.filter = filter;
        call.order_by = order_by;
        let ty = call.result_ty.clone();
        let idx = ctx.group_keys.len() + ctx.aggs.len();
        ctx.aggs.push(call);
        Ok((Expr::Column(idx), ty))
    }

    fn function(
        &mut self,
        f: &ast::Function,
        scope: &Scope,
        outer: Option<&Scope>,
        agg: Option<&mut AggCtx>,
    ) -> Result<(Expr, DataType)> {
        let parts = object_parts(&f.name);
        let name = parts.last().cloned().unwrap_or_default();
        if parts.len() > 1 && parts[0] != "pg_catalog" {
            return Err(Error::new(
                ErrorKind::UndefinedFunction,
                format!("function {} does not exist", f.name),
            ));
        }
        if let Some(func) = AggFunc::by_name(&name) {
            return Err(if agg.is_some() {
                Error::internal("aggregate resolution")
            } else {
                let _ = func;
                Error::new(ErrorKind::GroupingError, "aggregate functions are not allowed here")
            });
        }
        let args: Vec<&ast::Expr> = match &f.args {
            ast::FunctionArguments::None => Vec::new(),
            ast::FunctionArguments::List(l) => {
                let mut v = Vec::new();
                for a in &l.args {
                    match a {
                        ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => v.push(e),
                        _ => return Err(unsupported("named or wildcard function arguments")),
                    }
                }
                v
            }
            ast::FunctionArguments::Subquery(q) if name == "array" => {
                return self.array_subquery(q, scope, outer, agg)
            }
            ast::FunctionArguments::Subquery(_) => return Err(unsupported("subquery arguments")),
        };
        self.call_named(&name, &args, scope, outer, agg)
    }

    /// Binds `name(args)` for a scalar function.
    fn call_named(
        &mut self,
        name: &str,
        args: &[&ast::Expr],
        scope: &Scope,
        outer: Option<&Scope>,
        mut agg: Option<&mut AggCtx>,
    ) -> Result<(Expr, DataType)> {
        let mut bound = Vec::new();
        let mut types = Vec::new();
        for a in args {
            let (b, t) = self.expr(a, scope, outer, agg.as_deref_mut())?;
            bound.push(b);
            types.push(t);
        }
        if name == "pg_sleep" && types.len() == 1 {
            return self.pg_sleep(bound.remove(0), types.remove(0));
        }
        if name == "pg_typeof" && types.len() == 1 {
            // The argument's type is known at bind time: a constant, as PostgreSQL
            // prints it (a regtype, so without the type modifier).
            return Ok((Expr::Const(Value::Text(typeof_name(&types[0]))), DataType::Text));
        }
        let (func, result) = Func::resolve(name, &types)?;
        let targets = func.arg_types(name, &result, &types);
        let mut final_args = Vec::new();
        for ((b, t), target) in bound.into_iter().zip(types).zip(targets) {
            final_args.push(match target {
                Some(target) => self.cast_to(b, t, &target, false)?,
                None => b,
            });
        }
        Ok((Expr::Func(func, final_args), result))
    }

    /// The SQL-syntax forms of functions: SUBSTRING(… FROM … FOR …), TRIM(…),
    /// POSITION(… IN …), EXTRACT(… FROM …), CEIL(…), FLOOR(…), `x AT TIME ZONE z`
    /// (`timezone(z, x)`).
    fn special_function(
        &mut self,
        e: &ast::Expr,
        scope: &Scope,
        outer: Option<&Scope>,
        agg: Option<&mut AggCtx>,
    ) -> Result<(Expr, DataType)> {
        use ast::Expr as E;
        let lit = |s: String| {
            E::Value(ast::ValueWithSpan {
                value: ast::Value::SingleQuotedString(s),
                span: sqlparser::tokenizer::Span::empty(),
            })
        };
        match e {
            E::Substring { expr, substring_from, substring_for, .. } => {
                let one = E::Value(ast::ValueWithSpan {
                    value: ast::Value::Number("1".into(), false),
                    span: sqlparser::tokenizer::Span::empty(),
                });
                let from = substring_from.as_deref().unwrap_or(&one);
                let mut args: Vec<&ast::Expr> = vec![expr, from];
                if let Some(f) = substring_for {
                    args.push(f);
                }
                self.call_named("substr", &args, scope, outer, agg)
            }
            E::Trim { expr, trim_where, trim_what, trim_characters } => {
                let chars = match trim_characters.as_deref() {
                    None => None,
                    // trim(s, chars): PostgreSQL's btrim(s, chars).
                    Some([c]) if trim_where.is_none() && trim_what.is_none() => Some(c),
                    Some(_) => return Err(unsupported("TRIM with this character list")),
                };
                let name = match trim_where {
                    Some(ast::TrimWhereField::Leading) => "ltrim",
                    Some(ast::TrimWhereField::Trailing) => "rtrim",
                    _ => "btrim",
                };
                let mut args: Vec<&ast::Expr> = vec![expr];
                if let Some(w) = trim_what.as_deref().or(chars) {
                    args.push(w);
                }
                self.call_named(name, &args, scope, outer, agg)
            }
            E::Position { expr, r#in } => {
                self.call_named("strpos", &[r#in, expr], scope, outer, agg)
            }
            E::AtTimeZone { timestamp, time_zone } => {
                self.call_named("timezone", &[time_zone, timestamp], scope, outer, agg)
            }
            E::Extract { field, expr, .. } => {
                let field = lit(field.to_string().to_lowercase().trim_matches('"').to_owned());
                self.call_named("extract", &[&field, expr], scope, outer, agg)
            }
            E::Ceil { expr, field } | E::Floor { expr, field } => {
                if !matches!(
                    field,
                    ast::CeilFloorKind::DateTimeField(ast::DateTimeField::NoDateTime)
                ) {
                    return Err(unsupported("CEIL / FLOOR with a second argument"));
                }
                let name = if matches!(e, E::Ceil { .. }) { "ceil" } else { "floor" };
                self.call_named(name, &[expr], scope, outer, agg)
            }
            _ => Err(Error::internal("not a special function form")),
        }
    }

    fn literal(&mut self, v: &ast::Value) -> Result<(Expr, DataType)> {
        Ok(match v {
            ast::Value::Number(n, _) => {
                if let Ok(i) = n.parse::<i32>() {
                    (Expr::Const(Value::Int4(i)), DataType::Int4)
                } else if let Ok(i) = n.parse::<i64>() {
                    (Expr::Const(Value::Int8(i)), DataType::Int8)
                } else {
                    let t = DataType::Numeric(None);
                    (Expr::Const(parse_text(n, &t, UTC)?), t)
                }
            }
            ast::Value::SingleQuotedString(s) | ast::Value::EscapedStringLiteral(s) => {
                (Expr::Const(Value::Text(s.clone())), DataType::Unknown)
            }
            ast::Value::Boolean(b) => (Expr::Const(Value::Bool(*b)), DataType::Bool),
            ast::Value::Null => (Expr::Const(Value::Null), DataType::Unknown),
            ast::Value::Placeholder(p) => {
                let n: usize = p
                    .strip_prefix('$')
                    .and_then(|d| d.parse().ok())
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| Error::syntax(format!("syntax error at or near \"{p}\"")))?;
                if n > 65535 {
                    return Err(Error::new(
                        ErrorKind::UndefinedParameter,
                        format!("there is no parameter ${n}"),
                    ));
                }
                if self.params.len() < n {
                    self.params.resize(n, DataType::Unknown);
                }
                (Expr::Param(n - 1), self.params[n - 1].clone())
            }
            other => return Err(unsupported(format!("literal {other}"))),
        })
    }

    /// Gives an unknown-typed expression (string literal, NULL, untyped parameter) the
    /// type `to`; casts typed ones (explicitly when `explicit`).
    pub fn cast_to(
        &mut self,
        e: Expr,
        from: DataType,
        to: &DataType,
        explicit: bool,
    ) -> Result<Expr> {
        if from == *to {
            return Ok(e);
        }
        if let Some((kind, reading)) = regcast::needs_catalog(&from, to) {
            let e = if reading { self.cast_to(e, from, &DataType::Text, explicit)? } else { e };
            return Ok(regcast::reg_cast(kind, reading, e));
        }
        if from == DataType::Unknown {
            return match e {
                Expr::Param(i) => {
                    self.params[i] = to.clone();
                    Ok(Expr::Param(i))
                }
                Expr::Const(Value::Null) => Ok(Expr::Const(Value::Null)),
                // Read when the statement runs, in the session's zone then.
                Expr::Const(v) if cast_depends_on_zone(&v, &from, to) => {
                    Ok(Expr::Cast(Box::new(Expr::Const(v)), from, to.clone()))
                }
                // Folded now: the cast reads no zone (checked just above), so UTC is
                // as good as any. An explicit cast truncates to varchar(n)/char(n) ('hello'::varchar(3)
                // is 'hel'); an implicit coercion of a literal is 22001 instead.
                Expr::Const(Value::Text(s)) if explicit => Ok(Expr::Const(crate::types::cast(
                    &Value::Text(s),
                    &DataType::Unknown,
                    to,
                    UTC,
                )?)),
                Expr::Const(Value::Text(s)) => Ok(Expr::Const(parse_text(&s, to, UTC)?)),
                other => Ok(Expr::Cast(Box::new(other), DataType::Text, to.clone())),
            };
        }
        let _ = explicit;
        // numeric(p,s) → numeric and varchar(n) → varchar change no value: no per-row
        // cast (a numeric column compared with an integer literal would pay one).
        if matches!(to, DataType::Numeric(None) | DataType::Varchar(None))
            && from.without_modifier() == *to
        {
            return Ok(e);
        }
        if let Expr::Const(v) = &e {
            if v.is_null() {
                return Ok(Expr::Const(Value::Null));
            }
            if !cast_depends_on_zone(v, &from, to) {
                return Ok(Expr::Const(crate::types::cast(v, &from, to, UTC)?));
            }
        }
        Ok(Expr::Cast(Box::new(e), from, to.clone()))
    }

    /// Resolves unknown operands of a binary operation against each other.
    fn unify(
        &mut self,
        l: Expr,
        lt: DataType,
        r: Expr,
        rt: DataType,
    ) -> Result<(Expr, Expr, DataType, DataType)> {
        match (lt == DataType::Unknown, rt == DataType::Unknown) {
            (true, true) => {
                let l = self.cast_to(l, DataType::Unknown, &DataType::Text, false)?;
                let r = self.cast_to(r, DataType::Unknown, &DataType::Text, false)?;
                Ok((l, r, DataType::Text, DataType::Text))
            }
            (true, false) => {
                let target = if let DataType::Array(_) = rt { rt.clone() } else { rt.clone() };
                let l = self.cast_to(l, DataType::Unknown, &target, false)?;
                Ok((l, r, target, rt))
            }
            (false, true) => {
                let r = self.cast_to(r, DataType::Unknown, &lt, false)?;
                Ok((l, r, lt.clone(), lt))
            }
            (false, false) => Ok((l, r, lt, rt)),
        }
    }

    fn binary(
        &mut self,
        left: &ast::Expr,
        op: &ast::BinaryOperator,
        right: &ast::Expr,
        scope: &Scope,
        outer: Option<&Scope>,
        mut agg: Option<&mut AggCtx>,
    ) -> Result<(Expr, DataType)> {
        use ast::BinaryOperator as B;
        let (l, lt) = self.expr(left, scope, outer, agg.as_deref_mut())?;
        let (r, rt) = self.expr(right, scope, outer, agg)?;
        match op {
            B::And | B::Or => {
                let l = coerce(
                    self.cast_to(l, lt.clone(), &DataType::Bool, false)?,
                    if lt == DataType::Unknown { DataType::Bool } else { lt },
                    &DataType::Bool,
                )?;
                let r = coerce(
                    self.cast_to(r, rt.clone(), &DataType::Bool, false)?,
                    if rt == DataType::Unknown { DataType::Bool } else { rt },
                    &DataType::Bool,
                )?;
                let e = if matches!(op, B::And) {
                    Expr::And(Box::new(l), Box::new(r))
                } else {
                    Expr::Or(Box::new(l), Box::new(r))
                };
                return Ok((e, DataType::Bool));
            }
            _ => {}
        }
        let bop = match op {
            B::Plus => BinaryOp::Add,
            B::Minus => BinaryOp::Sub,
            B::Multiply => BinaryOp::Mul,
            B::Divide => BinaryOp::Div,
            B::Modulo => BinaryOp::Mod,
            B::StringConcat => BinaryOp::Concat,
            B::Eq => BinaryOp::Eq,
            B::NotEq => BinaryOp::NotEq,
            B::Lt => BinaryOp::Lt,
            B::LtEq => BinaryOp::LtEq,
            B::Gt => BinaryOp::Gt,
            B::GtEq => BinaryOp::GtEq,
            B::Arrow => BinaryOp::JsonGet,
            B::LongArrow => BinaryOp::JsonGetText,
            B::HashArrow => BinaryOp::JsonPath,
            B::HashLongArrow => BinaryOp::JsonPathText,
            B::AtArrow => BinaryOp::JsonContains,
            B::ArrowAt => BinaryOp::JsonContainedBy,
            B::BitwiseAnd => BinaryOp::BitAnd,
            B::BitwiseOr => BinaryOp::BitOr,
            B::PGBitwiseXor => BinaryOp::BitXor,
            B::PGBitwiseShiftLeft => BinaryOp::ShiftLeft,
            B::PGBitwiseShiftRight => BinaryOp::ShiftRight,
            B::Question => BinaryOp::JsonHasKey,
            B::QuestionPipe => BinaryOp::JsonHasAny,
            B::QuestionAnd => BinaryOp::JsonHasAll,
            other => return Err(unsupported(format!("operator {other}"))),
        };
        let (l, r, lt, rt) =
            if let Some((to_l, to_r)) = Planner::special_operand_type(bop, &lt, &rt) {
                (self.cast_to(l, lt, &to_l, false)?, self.cast_to(r, rt, &to_r, false)?, to_l, to_r)
            } else if bop == BinaryOp::Concat {
                // `'a' || x`: an unknown side of || is text, not the other side's type.
                let l = if lt == DataType::Unknown {
                    self.cast_to(l, lt.clone(), &DataType::Text, false)?
                } else {
                    l
                };
                let r = if rt == DataType::Unknown {
                    self.cast_to(r, rt.clone(), &DataType::Text, false)?
                } else {
                    r
                };
                let lt = if lt == DataType::Unknown { DataType::Text } else { lt };
                let rt = if rt == DataType::Unknown { DataType::Text } else { rt };
                (l, r, lt, rt)
            } else {
                self.unify(l, lt, r, rt)?
            };
        let ty = binary_op_type(bop, &lt, &rt)?;
        Ok((
            Expr::Binary {
                op: bop,
                left: Box::new(l),
                left_ty: lt,
                right: Box::new(r),
                right_ty: rt,
            },
            ty,
        ))
    }

    // ---- DML -----------------------------------------------------------------

    fn insert(&mut self, i: &ast::Insert) -> Result<Plan> {
        let ast::TableObject::TableName(name) = &i.table else {
            return Err(unsupported("INSERT into a table function"));
        };
        let table = self.table(name)?;
        let on_conflict = self.on_conflict(i, &table)?;
        let mut targets: Vec<usize> = if i.columns.is_empty() {
            (0..table.columns.len()).collect()
        } else {
            let mut v = Vec::new();
            for c in &i.columns {
                let cname = object_parts(c).pop().unwrap_or_default();
                let idx = table.column_index(&cname).ok_or_else(|| {
                    Error::new(
                        ErrorKind::UndefinedColumn,
                        format!("column \"{cname}\" of relation \"{}\" does not exist", table.name),
                    )
                })?;
                if v.contains(&idx) {
                    return Err(Error::new(
                        ErrorKind::DuplicateColumn,
                        format!("column \"{cname}\" specified more than once"),
                    ));
                }
                v.push(idx);
            }
            v
        };
        let Some(source) = &i.source else {
            // INSERT … DEFAULT VALUES: every column from its default.
            let defaults = self.omitted_defaults(&table, &[])?;
            let checks = self.checks_of(&table)?;
            let source = InsertSource::Values(vec![Vec::new()]);
            let returning = self.returning(i.returning.as_ref(), &Self::table_scope(&table))?;
            return Ok(Plan::Insert(InsertPlan {
                table,
                targets: Vec::new(),
                source,
                defaults,
                checks,
                returning,
                on_conflict,
            }));
        };
        let source = match source.body.as_ref() {
            ast::SetExpr::Values(values)
                if source.order_by.is_none() && source.limit_clause.is_none() =>
            {
                let empty = Scope::new();
                let mut rows = Vec::new();
                // Without a column list, PostgreSQL fills the leading columns and
                // leaves the rest to their defaults.
                let width = values.rows.first().map_or(0, |r| r.content.len());
                if i.columns.is_empty() && width < targets.len() {
                    targets.truncate(width);
                }
                for row in &values.rows {
                    if row.content.len() != width {
                        return Err(Error::syntax("VALUES lists must all be the same length"));
                    }
                    if row.content.len() > targets.len() {
                        return Err(Error::syntax(
                            "INSERT has more expressions than target columns",
                        ));
                    }
                    if row.content.len() < targets.len() {
                        return Err(Error::syntax(
                            "INSERT has more target columns than expressions",
                        ));
                    }
                    let mut bound = Vec::new();
                    for (e, &col) in row.content.iter().zip(&targets) {
                        if is_default_keyword(e) || self.explicit_value(&table, col)? {
                            bound.push(self.default_of(&table, col)?);
                            continue;
                        }
                        let (b, t) = self.expr(e, &empty, None, None)?;
                        bound.push(self.assign(b, t, &table.columns[col])?);
                    }
                    rows.push(bound);
                }
                InsertSource::Values(rows)
            }
            _ => {
                let q = self.query(source, None)?;
                if i.columns.is_empty() && q.columns.len() < targets.len() {
                    targets.truncate(q.columns.len());
                }
                if q.columns.len() != targets.len() {
                    return Err(Error::syntax(if q.columns.len() > targets.len() {
                        "INSERT has more expressions than target columns"
                    } else {
                        "INSERT has more target columns than expressions"
                    }));
                }
                for (c, &t) in q.columns.iter().zip(&targets) {
                    check_assignment(&table.columns[t].name, &c.ty, &table.columns[t].ty)?;
                }
                for &t in &targets {
                    if self.explicit_value(&table, t)? {
                        return Err(unsupported("OVERRIDING USER VALUE with INSERT … SELECT"));
                    }
                }
                let casts = q
                    .columns
                    .iter()
                    .zip(&targets)
                    .map(|(c, &t)| (c.ty.clone(), table.columns[t].ty.clone()))
                    .collect();
                InsertSource::Query(Box::new(q), casts)
            }
        };
        let defaults = self.omitted_defaults(&table, &targets)?;
        let checks = self.checks_of(&table)?;
        let returning = self.returning(i.returning.as_ref(), &Self::table_scope(&table))?;
        if on_conflict.is_some() && returning.as_ref().is_some_and(|r| r.has_subquery()) {
            return Err(unsupported("subqueries in RETURNING of INSERT … ON CONFLICT"));
        }
        Ok(Plan::Insert(InsertPlan {
            table,
            targets,
            source,
            defaults,
            checks,
            returning,
            on_conflict,
        }))
    }

    /// Binds a value assigned to a column: unknowns take the column's type, typed
    /// values get an assignment cast.
    pub(super) fn assign(&mut self, e: Expr, t: DataType, col: &Column) -> Result<Expr> {
        if t == DataType::Unknown {
            return self.cast_to(e, t, &col.ty, false);
        }
        if t == col.ty {
            return Ok(e);
        }
        check_assignment(&col.name, &t, &col.ty)?;
        if let Expr::Const(v) = &e {
            if v.is_null() {
                return Ok(e);
            }
            if !cast_depends_on_zone(v, &t, &col.ty) {
                return Ok(Expr::Const(assign_cast(v, &t, &col.ty, UTC)?));
            }
        }
        Ok(Expr::Cast(Box::new(e), t, col.ty.clone()))
    }

    pub(super) fn table_scope(table: &TableDef) -> Scope {
        table
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| ScopeCol {
                qualifier: Some(table.name.clone()),
                name: c.name.clone(),
                ty: c.ty.clone(),
                origin: (table.oid, i as i16 + 1),
                hidden: false,
            })
            .collect()
    }

    /// The table an UPDATE or DELETE writes, and the scope its expressions see.
    fn dml_target(&mut self, tf: &ast::TableFactor, verb: &str) -> Result<(Arc<TableDef>, Scope)> {
        let ast::TableFactor::Table { name, alias, .. } = tf else {
            return Err(unsupported(format!("{verb} of this target")));
        };
        let table = self.table(name)?;
        let mut scope = Self::table_scope(&table);
        if let Some(a) = alias {
            for c in &mut scope {
                c.qualifier = Some(ident(&a.name));
            }
        }
        Ok((table, scope))
    }

    /// A WHERE clause over `scope`, which must be boolean.
    fn where_clause(
        &mut self,
        selection: Option<&ast::Expr>,
        scope: &Scope,
    ) -> Result<Option<Expr>> {
        let Some(w) = selection else { return Ok(None) };
        let (p, t) = self.expr(w, scope, None, None)?;
        expect_bool(&t, "WHERE")?;
        Ok(Some(p))
    }

    fn update(&mut self, u: &ast::Update) -> Result<Plan> {
        if !u.table.joins.is_empty() {
            return Err(unsupported("UPDATE … JOIN"));
        }
        let (table, mut scope) = self.dml_target(&u.table.relation, "UPDATE")?;
        let from = match &u.from {
            None => None,
            Some(ast::UpdateTableFromKind::AfterSet(items)) => {
                let (rel, fscope) = self.dml_from_list(items, &scope)?;
                let width = fscope.len();
                scope.extend(fscope);
                Some((rel, width))
            }
            Some(ast::UpdateTableFromKind::BeforeSet(_)) => {
                return Err(Error::syntax("syntax error at or near \"FROM\""))
            }
        };
        let mut sets = Vec::new();
        for a in &u.assignments {
            let idx = assignment_column(&table, a)?;
            if is_default_keyword(&a.value) {
                sets.push((idx, self.default_of(&table, idx)?));
                continue;
            }
            self.explicit_update(&table, idx)?;
            let (b, t) = self.expr(&a.value, &scope, None, None)?;
            sets.push((idx, self.assign(b, t, &table.columns[idx])?));
        }
        let filter = self.where_clause(u.selection.as_ref(), &scope)?;
        let access = point_access(&table, filter.as_ref());
        let checks = self.checks_of(&table)?;
        let returning = self.returning(u.returning.as_ref(), &scope)?;
        let from = from.map(|(rel, w)| dml_from::plan_join(&table, filter.as_ref(), rel, w));
        Ok(Plan::Update(UpdatePlan { table, sets, filter, access, checks, returning, from }))
    }

    fn delete(&mut self, d: &ast::Delete) -> Result<Plan> {
        let from = match &d.from {
            ast::FromTable::WithFromKeyword(v) | ast::FromTable::WithoutKeyword(v) => v,
        };
        let [twj] = from.as_slice() else { return Err(unsupported("DELETE from several tables")) };
        let (table, mut scope) = self.dml_target(&twj.relation, "DELETE")?;
        let from = match &d.using {
            None => None,
            Some(items) => {
                let (rel, fscope) = self.dml_from_list(items, &scope)?;
                let width = fscope.len();
                scope.extend(fscope);
                Some((rel, width))
            }
        };
        let filter = self.where_clause(d.selection.as_ref(), &scope)?;
        let access = point_access(&table, filter.as_ref());
        let returning = self.returning(d.returning.as_ref(), &scope)?;
        let from = from.map(|(rel, w)| dml_from::plan_join(&table, filter.as_ref(), rel, w));
        Ok(Plan::Delete(DeletePlan { table, filter, access, returning, from }))
    }

    // ---- DDL -----------------------------------------------------------------

    fn create_table(&mut self, c: &ast::CreateTable) -> Result<Plan> {
        if c.query.is_some() || c.like.is_some() || c.temporary {
            return Err(unsupported("CREATE TABLE AS / LIKE / TEMPORARY"));
        }
        let (schema, name) = self.creation_schema(&object_parts(&c.name))?;
        let mut columns: Vec<Column> = Vec::new();
        let mut primary_key: Option<Vec<usize>> = None;
        let mut extras = Vec::new();
        let mut table_checks = Vec::new();
        let mut uniques = Vec::new();
        let mut fks: Vec<(&ast::ForeignKeyConstraint, Option<usize>)> = Vec::new();
        for (i, cd) in c.columns.iter().enumerate() {
            let cname = ident(&cd.name);
            if columns.iter().any(|x| x.name == cname) {
                return Err(Error::new(
                    ErrorKind::DuplicateColumn,
                    format!("column \"{cname}\" specified more than once"),
                ));
            }
            let (ty, mut extra) = match ColumnExtras::serial_type(&cd.data_type) {
                Some(ty) => (ty, ColumnExtras::serial()),
                None => (DataType::from_sql(&cd.data_type)?, ColumnExtras::default()),
            };
            let mut not_null = false;
            for o in &cd.options {
                match &o.option {
                    ast::ColumnOption::Null => {}
                    ast::ColumnOption::NotNull => not_null = true,
                    ast::ColumnOption::Unique(uc) => {
                        uniques.push((o.name.clone(), uc.clone(), i));
                    }
                    ast::ColumnOption::ForeignKey(fk) => fks.push((fk, Some(i))),
                    ast::ColumnOption::PrimaryKey(_) => {
                        if primary_key.is_some() {
                            return Err(multiple_pk(&name));
                        }
                        primary_key = Some(vec![i]);
                        not_null = true;
                    }
                    _ => extra.option(o)?,
                }
            }
            columns.push(Column::new(cname, ty, not_null));
            extras.push(extra);
        }
        let mut indexes = Vec::new();
        for (given, uc, i) in &uniques {
            let def = index::unique_constraint(&name, &columns, uc, given.as_ref(), Some(*i))?;
            indexes.push(def);
        }
        for tc in &c.constraints {
            match tc {
                ast::TableConstraint::PrimaryKey(pk) => {
                    if primary_key.is_some() {
                        return Err(multiple_pk(&name));
                    }
                    let mut idx = Vec::new();
                    for col in &pk.columns {
                        let cname = index_column_name(&col.column.expr)?;
                        let i = columns.iter().position(|x| x.name == cname).ok_or_else(|| {
                            Error::new(
                                ErrorKind::UndefinedColumn,
                                format!("column \"{cname}\" named in key does not exist"),
                            )
                        })?;
                        columns[i].not_null = true;
                        idx.push(i);
                    }
                    primary_key = Some(idx);
                }
                ast::TableConstraint::Check(k) => {
                    table_checks.push((k.name.as_ref().map(ident), (*k.expr).clone()));
                }
                ast::TableConstraint::Unique(uc) => {
                    let def = index::unique_constraint(&name, &columns, uc, None, None)?;
                    indexes.push(def);
                }
                ast::TableConstraint::ForeignKey(fk) => fks.push((fk, None)),
                other => return Err(index::unsupported_constraint(other)),
            }
        }
        check_table_options(&c.table_options)?;
        let new = foreign_key::NewTable {
            schema: &schema,
            name: &name,
            columns: &columns,
            primary_key: primary_key.as_deref(),
            indexes: &indexes,
        };
        let foreign_keys = fks
            .into_iter()
            .map(|(fk, col)| foreign_key::bind(self.catalog, &self.path, &new, fk, col))
            .collect::<Result<Vec<_>>>()?;
        let (checks, sequences) = self.finish_columns(&name, &mut columns, extras, table_checks)?;
        Ok(Plan::CreateTable {
            foreign_keys,
            schema,
            name,
            columns,
            primary_key,
            if_not_exists: c.if_not_exists,
            checks,
            sequences,
            indexes,
        })
    }
}

/// The scope of one FROM item: its columns (name, type, origin), qualified by the
/// item's name or alias and renamed by the alias's column list.
fn relation_scope(
    qualifier: Option<String>,
    renames: &[String],
    cols: impl Iterator<Item = (String, DataType, (u32, i16))>,
) -> Scope {
    cols.enumerate()
        .map(|(i, (name, ty, origin))| ScopeCol {
            qualifier: qualifier.clone(),
            name: renames.get(i).cloned().unwrap_or(name),
            ty,
            origin,
            hidden: false,
        })
        .collect()
}

fn index_column_name(e: &ast::Expr) -> Result<String> {
    match e {
        ast::Expr::Identifier(i) => Ok(ident(i)),
        _ => Err(unsupported("expression index columns")),
    }
}

fn check_table_options(opts: &ast::CreateTableOptions) -> Result<()> {
    match opts {
        ast::CreateTableOptions::None => Ok(()),
        ast::CreateTableOptions::With(list) => {
            for o in list {
                let name = match o {
                    ast::SqlOption::KeyValue { key, .. } => ident(key),
                    other => other.to_string(),
                };
                // fillfactor only tunes page filling; there are no pages here.
                if name != "fillfactor" {
                    return Err(unsupported(format!("storage parameter \"{name}\"")));
                }
            }
            Ok(())
        }
        _ => Err(unsupported("these table options")),
    }
}

fn multiple_pk(table: &str) -> Error {
    Error::new(
        ErrorKind::InvalidTableDefinition,
        format!("multiple primary keys for table \"{table}\" are not allowed"),
    )
}

fn expect_bool(ty: &DataType, clause: &str) -> Result<()> {
    if *ty == DataType::Bool || *ty == DataType::Unknown {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::DatatypeMismatch,
            format!("argument of {clause} must be type boolean, not type {}", ty.display_name()),
        ))
    }
}

/// Adds an implicit cast to `to` where types differ (typed operands only).
fn coerce(e: Expr, from: DataType, to: &DataType) -> Result<Expr> {
    if from == *to || from == DataType::Unknown {
        return Ok(e);
    }
    if *to == DataType::Bool {
        return Err(Error::new(
            ErrorKind::DatatypeMismatch,
            format!("argument of NOT must be type boolean, not type {}", from.display_name()),
        ));
    }
    Ok(Expr::Cast(Box::new(e), from, to.clone()))
}

fn negate_literal(v: &Value) -> Option<Value> {
    Some(match v {
        Value::Int4(i) => Value::Int4(i.checked_neg()?),
        Value::Int8(i) => {
            let n = i.checked_neg()?;
            match i32::try_from(n) {
                Ok(small) => Value::Int4(small),
                Err(_) => Value::Int8(n),
            }
        }
        Value::Numeric(d) => Value::Numeric(-*d),
        _ => return None,
    })
}

/// Pushes a WHERE condition as far down as it can go: into a single-table scan, where
/// it can pick a key or index path, and through joins, each AND-ed part to the input
/// whose columns alone it reads (for an outer join, only to its preserved side), so
/// that a join reads the rows the condition keeps instead of filtering the joined rows
/// afterwards. What reads both sides, the enclosing row or a subquery stays above.
fn push_filter(rel: Rel, pred: Expr) -> Rel {
    match rel {
        // A scan evaluates its filter inside the storage callback, where subquery
        // results cannot be awaited: such a filter stays a Filter node.
        Rel::Scan { table, access: _, filter } if !pred.has_subquery() => {
            let pred = match filter {
                Some(f) => Expr::And(Box::new(f), Box::new(pred)),
                None => pred,
            };
            let access = point_access(&table, Some(&pred));
            Rel::Scan { table, access, filter: Some(pred) }
        }
        Rel::Join { kind, left, right, on, lateral: false, left_width, right_width, equi } => {
            let (to_left, to_right) = match kind {
                JoinKind::Inner => (true, true),
                JoinKind::Left => (true, false),
                JoinKind::Right => (false, true),
                JoinKind::Full => (false, false),
            };
            let (mut left, mut right) = (*left, *right);
            let mut kept: Option<Expr> = None;
            for part in conjuncts(pred) {
                match part.column_span() {
                    Some((_, hi)) if to_left && hi < left_width => left = push_filter(left, part),
                    Some((lo, _)) if to_right && lo >= left_width => {
                        right = push_filter(right, part.shifted_left(left_width))
                    }
                    _ => {
                        kept = Some(match kept {
                            Some(k) => Expr::And(Box::new(k), Box::new(part)),
                            None => part,
                        })
                    }
                }
            }
            let join = Rel::Join {
                kind,
                left: Box::new(left),
                right: Box::new(right),
                on,
                lateral: false,
                left_width,
                right_width,
                equi,
            };
            match kept {
                Some(pred) => Rel::Filter { input: Box::new(join), pred },
                None => join,
            }
        }
        other => Rel::Filter { input: Box::new(other), pred },
    }
}

/// The AND-ed parts of `pred`, in order.
fn conjuncts(pred: Expr) -> Vec<Expr> {
    match pred {
        Expr::And(a, b) => {
            let mut out = conjuncts(*a);
            out.extend(conjuncts(*b));
            out
        }
        other => vec![other],
    }
}

/// The access path for a scan of `table` under `filter`: a point, key list, key range
/// or full scan (see `planner/access.rs`).
pub fn point_access(table: &TableDef, filter: Option<&Expr>) -> Access {
    access::choose(table, filter)
}

fn flatten_and<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
    match e {
        Expr::And(a, b) => {
            flatten_and(a, out);
            flatten_and(b, out);
        }
        other => out.push(other),
    }
}

fn transaction_modes(modes: &[ast::TransactionMode]) -> Result<TxnModes> {
    let mut out = TxnModes::default();
    for m in modes {
        match m {
            ast::TransactionMode::IsolationLevel(l) => {
                out.isolation = Some(match l {
                    ast::TransactionIsolationLevel::ReadUncommitted
                    | ast::TransactionIsolationLevel::ReadCommitted => Isolation::ReadCommitted,
                    ast::TransactionIsolationLevel::RepeatableRead => Isolation::RepeatableRead,
                    ast::TransactionIsolationLevel::Serializable => {
                        return Err(serializable_refused())
                    }
                    _ => return Err(unsupported("this isolation level")),
                })
            }
            ast::TransactionMode::AccessMode(ast::TransactionAccessMode::ReadWrite) => {
                out.read_only = Some(false)
            }
            ast::TransactionMode::AccessMode(ast::TransactionAccessMode::ReadOnly) => {
                out.read_only = Some(true)
            }
        }
    }
    Ok(out)
}

/// 42804 when CASE's results have no common type (`CASE WHEN c THEN 1 ELSE true END`).
/// `types` are the THEN types then the ELSE type; PostgreSQL names the ELSE type first.
fn check_case_types(types: &[DataType], has_else: bool) -> Result<()> {
    use crate::types::can_cast_implicitly;
    let mut ordered: Vec<&DataType> = types.iter().filter(|t| **t != DataType::Unknown).collect();
    if has_else && types.last().is_some_and(|t| *t != DataType::Unknown) {
        ordered.rotate_right(1);
    }
    let Some(first) = ordered.first() else { return Ok(()) };
    match ordered.iter().find(|t| !can_cast_implicitly(t, first) && !can_cast_implicitly(first, t))
    {
        None => Ok(()),
        Some(other) => Err(Error::new(
            ErrorKind::DatatypeMismatch,
            format!(
                "CASE types {} and {} cannot be matched",
                first.display_name(),
                other.display_name()
            ),
        )),
    }
}

/// 42804 when a value of type `from` cannot be stored in column `name` of type `to`
/// (PostgreSQL allows only assignment casts there: not boolean into integer).
fn check_assignment(name: &str, from: &DataType, to: &DataType) -> Result<()> {
    if crate::types::can_cast_assignment(from, to) {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::DatatypeMismatch,
        format!(
            "column \"{name}\" is of type {} but expression is of type {}",
            to.without_modifier().display_name(),
            from.without_modifier().display_name()
        ),
    )
    .with_hint("You will need to rewrite or cast the expression."))
}

/// SERIALIZABLE is refused until SSI exists: running it as snapshot isolation would be
/// silently weaker than what the client asked for.
pub fn serializable_refused() -> Error {
    Error::new(ErrorKind::FeatureNotSupported, "SERIALIZABLE isolation is not supported yet")
        .with_hint("Use REPEATABLE READ (snapshot isolation) or READ COMMITTED.")
}

fn contains_aggregate(e: &ast::Expr) -> bool {
    // Textual check is enough to decide whether a SELECT aggregates; binding then
    // finds each call exactly. Aggregates inside subqueries belong to those.
    let s = without_subqueries(&e.to_string().to_lowercase());
    [
        "count(",
        "sum(",
        "avg(",
        "min(",
        "max(",
        "string_agg(",
        "array_agg(",
        "bool_and(",
        "bool_or(",
        "every(",
    ]
    .iter()
    .any(|f| {
        s.match_indices(f).any(|(i, _)| {
            i == 0 || !s.as_bytes()[i - 1].is_ascii_alphanumeric() && s.as_bytes()[i - 1] != b'_'
        })
    })
}

/// `text` with every parenthesised `(SELECT …)` / `(WITH …)` removed.
fn without_subqueries(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) =
        ["(select ", "(with ", "(values "].iter().filter_map(|p| rest.find(p)).min()
    {
        out.push_str(&rest[..start]);
        let mut depth = 0usize;
        let mut end = rest.len();
        for (i, c) in rest[start..].char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = start + i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn column_ref(c: &ScopeCol) -> ast::Expr {
    let name = ast::Ident::with_quote('"', c.name.clone());
    match &c.qualifier {
        Some(q) => {
            ast::Expr::CompoundIdentifier(vec![ast::Ident::with_quote('"', q.clone()), name])
        }
        None => ast::Expr::Identifier(name),
    }
}

/// A select list (or RETURNING list) as (expression, output name) pairs, with `*` and
/// `t.*` expanded over `scope`.
fn select_items(
    projection: &[ast::SelectItem],
    scope: &Scope,
) -> Result<Vec<(ast::Expr, Option<String>)>> {
    let mut items: Vec<(ast::Expr, Option<String>)> = Vec::new();
    for item in projection {
        match item {
            ast::SelectItem::UnnamedExpr(e) => items.push((e.clone(), None)),
            ast::SelectItem::ExprWithAlias { expr, alias } => {
                items.push((expr.clone(), Some(ident(alias))))
            }
            ast::SelectItem::Wildcard(_) => {
                for c in scope.iter().filter(|c| !c.hidden) {
                    items.push((column_ref(c), Some(c.name.clone())));
                }
            }
            ast::SelectItem::QualifiedWildcard(
                ast::SelectItemQualifiedWildcardKind::ObjectName(n),
                _,
            ) => {
                let q = object_parts(n).pop().unwrap_or_default();
                let mut any = false;
                for c in scope.iter().filter(|c| c.qualifier.as_deref() == Some(q.as_str())) {
                    items.push((column_ref(c), Some(c.name.clone())));
                    any = true;
                }
                if !any {
                    return Err(Error::new(
                        ErrorKind::UndefinedTable,
                        format!("missing FROM-clause entry for table \"{q}\""),
                    ));
                }
            }
            _ => return Err(unsupported("this select item")),
        }
    }
    Ok(items)
}

/// The column an UPDATE-style `SET col = …` assigns: 42703 if there is none.
fn assignment_column(table: &TableDef, a: &ast::Assignment) -> Result<usize> {
    let ast::AssignmentTarget::ColumnName(cn) = &a.target else {
        return Err(unsupported("multi-column assignment"));
    };
    let cname = object_parts(cn).pop().unwrap_or_default();
    let idx = table.column_index(&cname).ok_or_else(|| {
        Error::new(
            ErrorKind::UndefinedColumn,
            format!("column \"{cname}\" of relation \"{}\" does not exist", table.name),
        )
    })?;
    Ok(idx)
}

fn origin_of(e: &Expr, scope: &Scope) -> (u32, i16) {
    match e {
        Expr::Column(i) => scope.get(*i).map(|c| c.origin).unwrap_or((0, 0)),
        _ => (0, 0),
    }
}

/// PostgreSQL's name for an unaliased output column.
fn column_name(e: &ast::Expr) -> String {
    match e {
        ast::Expr::Identifier(i) => ident(i),
        ast::Expr::CompoundIdentifier(parts) => parts.last().map(ident).unwrap_or_default(),
        ast::Expr::Function(f) => object_parts(&f.name).pop().unwrap_or_default(),
        ast::Expr::Cast { expr, data_type, .. } => match column_name(expr).as_str() {
            "?column?" => type_column_name(data_type),
            n => n.to_owned(),
        },
        ast::Expr::Nested(inner) => column_name(inner),
        ast::Expr::Case { .. } => "case".to_owned(),
        ast::Expr::Exists { .. } => "exists".to_owned(),
        ast::Expr::Substring { .. } => "substring".to_owned(),
        ast::Expr::Position { .. } => "position".to_owned(),
        ast::Expr::Extract { .. } => "extract".to_owned(),
        ast::Expr::Ceil { .. } => "ceil".to_owned(),
        ast::Expr::Floor { .. } => "floor".to_owned(),
        ast::Expr::Trim { trim_where, .. } => match trim_where {
            Some(ast::TrimWhereField::Leading) => "ltrim".to_owned(),
            Some(ast::TrimWhereField::Trailing) => "rtrim".to_owned(),
            _ => "btrim".to_owned(),
        },
        ast::Expr::Subquery(q) => match q.body.as_ref() {
            ast::SetExpr::Select(s) => match s.projection.first() {
                Some(ast::SelectItem::ExprWithAlias { alias, .. }) => ident(alias),
                Some(ast::SelectItem::UnnamedExpr(e)) => column_name(e),
                _ => "?column?".to_owned(),
            },
            _ => "?column?".to_owned(),
        },
        ast::Expr::Array(_) => "array".to_owned(),
        _ => "?column?".to_owned(),
    }
}

fn type_column_name(t: &ast::DataType) -> String {
    match DataType::from_sql(t) {
        Ok(DataType::Int4) => "int4".into(),
        Ok(DataType::Int8) => "int8".into(),
        Ok(DataType::Int2) => "int2".into(),
        Ok(DataType::Text) => "text".into(),
        Ok(DataType::Bool) => "bool".into(),
        Ok(DataType::Float8) => "float8".into(),
        Ok(DataType::Numeric(_)) => "numeric".into(),
        Ok(DataType::Varchar(_)) => "varchar".into(),
        Ok(DataType::Bpchar(_)) => "bpchar".into(),
        Ok(DataType::Timestamp) => "timestamp".into(),
        Ok(DataType::TimestampTz) => "timestamptz".into(),
        Ok(DataType::Date) => "date".into(),
        _ => "?column?".into(),
    }
}

/// The output column an ORDER BY / DISTINCT ON item names: a position, or a bare
/// name matching exactly one output column (which wins over an input column, as in
/// PostgreSQL). None: an expression over the input.
fn output_column(e: &ast::Expr, columns: &[OutCol], visible: usize) -> Result<Option<usize>> {
    match e {
        ast::Expr::Value(v) => match &v.value {
            ast::Value::Number(n, _) => {
                let pos: usize = n.parse().map_err(|_| Error::syntax("bad ORDER BY position"))?;
                if pos == 0 || pos > visible {
                    return Err(Error::new(
                        ErrorKind::InvalidColumnReference,
                        format!("ORDER BY position {pos} is not in select list"),
                    ));
                }
                Ok(Some(pos - 1))
            }
            _ => Ok(None),
        },
        ast::Expr::Identifier(i) => {
            let name = ident(i);
            let hits: Vec<usize> = columns
                .iter()
                .enumerate()
                .filter(|(_, c)| c.name == name)
                .map(|(i, _)| i)
                .collect();
            Ok(if hits.len() == 1 { Some(hits[0]) } else { None })
        }
        _ => Ok(None),
    }
}

fn count_width(rel: &Rel, visible: usize) -> usize {
    match rel {
        Rel::Project { exprs, .. } => exprs.len(),
        Rel::Sort { input, .. }
        | Rel::Distinct(input)
        | Rel::Limit { input, .. }
        | Rel::DistinctOn { input, .. } => count_width(input, visible),
        _ => visible,
    }
}

fn first_words(s: &str) -> String {
    s.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

/// `pg_typeof(x)`'s text: the type's name without its modifier (a regtype prints so).
fn typeof_name(ty: &DataType) -> String {
    match ty {
        DataType::Numeric(_) => "numeric".into(),
        DataType::Varchar(_) => "character varying".into(),
        DataType::Bpchar(_) => "character".into(),
        DataType::Array(elem) => format!("{}[]", typeof_name(elem)),
        other => other.display_name(),
    }
}
