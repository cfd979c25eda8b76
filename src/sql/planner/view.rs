//! CREATE [OR REPLACE] VIEW, DROP VIEW, and a view in FROM.
//!
//! A view is expanded where it is used, like a subquery in FROM: its text is parsed
//! and bound again (with no WITH queries of the using statement in scope), then its
//! recorded columns are picked out of the result (see `catalog/view.rs` for why they
//! are recorded). A view that reaches itself again while being expanded (OR REPLACE
//! can make one) is PostgreSQL's 42P17.
//!
//! Refused with 0A000: MATERIALIZED, TEMPORARY, RECURSIVE, WITH options (e.g.
//! check_option), typed column lists, DROP VIEW … CASCADE, and writing through a view
//! (PostgreSQL's automatically updatable views).

use sqlparser::ast;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use super::{ident, object_parts, relation_scope, unsupported, Planner, Scope};
use crate::catalog::{SearchPath, ViewColumn, ViewDef};
use crate::error::{Error, ErrorKind, Result};
use crate::sql::expr::Expr;
use crate::sql::plan::{Plan, Rel};
use crate::sync::Arc;

impl Planner<'_> {
    /// CREATE [OR REPLACE] VIEW name [(cols)] AS query.
    pub(super) fn create_view(&mut self, c: &ast::CreateView) -> Result<Plan> {
        if c.materialized || c.temporary || c.or_alter || c.to.is_some() || c.params.is_some() {
            return Err(unsupported("CREATE MATERIALIZED / TEMPORARY VIEW"));
        }
        if !matches!(c.options, ast::CreateTableOptions::None) {
            return Err(unsupported("CREATE VIEW … WITH options"));
        }
        let (schema, name) = self.creation_schema(&object_parts(&c.name))?;
        let saved = std::mem::take(&mut self.referenced);
        let planned = self.query(&c.query, None);
        let depends = std::mem::replace(&mut self.referenced, saved);
        let planned = planned?;
        if c.columns.len() > planned.columns.len() {
            return Err(Error::syntax("CREATE VIEW specifies more column names than columns"));
        }
        let mut columns: Vec<ViewColumn> = Vec::with_capacity(planned.columns.len());
        for (i, out) in planned.columns.iter().enumerate() {
            let given = match c.columns.get(i) {
                Some(col) if col.data_type.is_some() || col.options.is_some() => {
                    return Err(unsupported("typed or optioned view column lists"))
                }
                Some(col) => Some(ident(&col.name)),
                None => None,
            };
            let name = given.unwrap_or_else(|| out.name.clone());
            if columns.iter().any(|x| x.name == name) {
                return Err(Error::new(
                    ErrorKind::DuplicateColumn,
                    format!("column \"{name}\" specified more than once"),
                ));
            }
            let ty = match out.ty {
                crate::types::DataType::Unknown => crate::types::DataType::Text,
                ref t => t.clone(),
            };
            columns.push(ViewColumn { name, source: out.name.clone(), ty });
        }
        let mut deps: Vec<(String, String)> = Vec::new();
        for d in depends {
            if !deps.contains(&d) {
                deps.push(d);
            }
        }
        if !self.params.is_empty() {
            return Err(Error::new(
                ErrorKind::UndefinedParameter,
                "there is no parameter $1".to_owned(),
            ));
        }
        let def = ViewDef {
            oid: 0,
            schema,
            name,
            path: self.path.listed().to_vec(),
            sql: c.query.to_string(),
            columns,
            depends: deps,
        };
        Ok(Plan::CreateView { def, or_replace: c.or_replace })
    }

    /// DROP VIEW [IF EXISTS] names.
    pub(super) fn drop_view(
        &mut self,
        names: &[ast::ObjectName],
        if_exists: bool,
        cascade: bool,
    ) -> Result<Plan> {
        if cascade {
            return Err(unsupported("DROP VIEW … CASCADE"));
        }
        let names = super::schema::drop_names(names)?;
        Ok(Plan::DropView { names, if_exists })
    }

    /// The rows of view `v` in FROM, under `qualifier` with the alias's `renames`.
    pub(super) fn view_relation(
        &mut self,
        v: &Arc<ViewDef>,
        qualifier: Option<String>,
        renames: &[String],
    ) -> Result<(Rel, Scope)> {
        if self.expanding.contains(&v.oid) {
            return Err(Error::new(
                ErrorKind::InvalidObjectDefinition,
                format!("infinite recursion detected in rules for relation \"{}\"", v.name),
            ));
        }
        let query = Parser::new(&PostgreSqlDialect {})
            .try_with_sql(&v.sql)
            .and_then(|mut p| p.parse_query())
            .map_err(|e| {
                Error::internal(format!("stored view \"{}\" does not parse: {e}", v.name))
            })?;
        self.expanding.push(v.oid);
        let ctes = std::mem::take(&mut self.ctes);
        let corr = std::mem::take(&mut self.corr);
        // The names in the text stand for what they found at creation.
        let path = std::mem::replace(&mut self.path, SearchPath::of(v.path.clone()));
        let reads = self.view_reads.replace(v.depends.clone());
        let planned = self.query(&query, None);
        self.path = path;
        self.view_reads = reads;
        self.ctes = ctes;
        self.corr = corr;
        self.expanding.pop();
        let planned = planned?;
        // Pick the recorded columns, in order, out of what the text gives today (a
        // table's added column must not appear in a `SELECT *` view).
        let mut picks = Vec::with_capacity(v.columns.len());
        let mut from = 0;
        for c in &v.columns {
            let found = planned.columns[from.min(planned.columns.len())..]
                .iter()
                .position(|o| o.name == c.source && o.ty == c.ty)
                .map(|p| p + from);
            let Some(i) = found else {
                return Err(Error::new(
                    ErrorKind::FeatureNotSupported,
                    format!(
                        "view \"{}\" no longer matches the relations it reads (column \"{}\")",
                        v.name, c.name
                    ),
                ));
            };
            picks.push(i);
            from = i + 1;
        }
        let identity =
            picks.len() == planned.columns.len() && picks.iter().enumerate().all(|(i, &p)| i == p);
        let rel = if identity {
            planned.rel
        } else {
            Rel::Project {
                input: Box::new(planned.rel),
                exprs: picks.iter().map(|&i| Expr::Column(i)).collect(),
            }
        };
        let cols = v.columns.iter().map(|c| (c.name.clone(), c.ty.clone(), (v.oid, 0)));
        Ok((rel, relation_scope(qualifier, renames, cols)))
    }
}

/// 0A000 for writing through a view (PostgreSQL's automatically updatable views).
pub(super) fn view_not_writable(name: &str) -> Error {
    Error::new(
        ErrorKind::FeatureNotSupported,
        format!("\"{name}\" is a view; writing or altering through a view is not supported yet"),
    )
}
