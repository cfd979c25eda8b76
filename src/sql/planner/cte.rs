//! WITH queries (common table expressions), plain and RECURSIVE.
//!
//! A plain WITH query is bound again at each reference, as if written there as a
//! derived table (PostgreSQL 12+ inlines a CTE referenced once; one referenced several
//! times runs again per reference here, which gives the same rows within one
//! statement's snapshot). Its body sees only the WITH queries defined before it.
//!
//! WITH RECURSIVE `t` whose body is `base UNION \[ALL\] step` and whose step reads `t`
//! becomes [`Rel::Recursive`]: `base` is bound first (a reference to `t` there is
//! 42P19), its column types become `t`'s, then `step` is bound with `t` as the
//! working table ([`Rel::WorkTable`]). As in PostgreSQL: `t` may appear once in the
//! step, not inside a subquery expression (42P19), and a step column whose type
//! differs from the base's is 42804.

use sqlparser::ast;

use crate::error::{Error, ErrorKind, Result};
use crate::types::DataType;

use super::super::expr::Expr;
use super::super::plan::{OutCol, QueryPlan, Rel};
use super::{ident, object_parts, relation_scope, unsupported, Planner, Scope};

/// A WITH query in scope.
#[derive(Debug, Clone)]
pub(super) struct CteDef {
    name: String,
    query: Box<ast::Query>,
    renames: Vec<String>,
    /// How many entries of the CTE stack its body sees.
    visible: usize,
    recursive: bool,
    state: CteState,
}

#[derive(Debug, Clone)]
enum CteState {
    /// Not being bound.
    Idle,
    /// Binding the non-recursive term (or a recursive-WITH body of the wrong form).
    Base { wrong_form: bool },
    /// Binding the recursive term: references read the working table.
    Step { id: usize, columns: Vec<(String, DataType)>, refs: usize, depth: usize },
}

fn invalid_recursion(msg: String) -> Error {
    Error::new(ErrorKind::InvalidRecursion, msg)
}

impl Planner<'_> {
    /// Brings a WITH clause's queries into scope (popped by the caller).
    pub(super) fn push_ctes(&mut self, with: &ast::With) -> Result<()> {
        let first = self.ctes.len();
        for cte in &with.cte_tables {
            let name = ident(&cte.alias.name);
            if self.ctes[first..].iter().any(|c| c.name == name) {
                return Err(Error::new(
                    ErrorKind::DuplicateAlias,
                    format!("WITH query name \"{name}\" specified more than once"),
                ));
            }
            let visible = self.ctes.len() + usize::from(with.recursive);
            self.ctes.push(CteDef {
                name,
                query: cte.query.clone(),
                renames: cte.alias.columns.iter().map(|c| ident(&c.name)).collect(),
                visible,
                recursive: with.recursive,
                state: CteState::Idle,
            });
        }
        Ok(())
    }

    /// If `name` is a WITH query in scope, binds a reference to it.
    pub(super) fn cte_reference(
        &mut self,
        name: &ast::ObjectName,
        alias: Option<&ast::TableAlias>,
    ) -> Result<Option<(Rel, Scope)>> {
        let parts = object_parts(name);
        let [cte_name] = parts.as_slice() else { return Ok(None) };
        let Some(idx) = self.ctes.iter().rposition(|c| c.name == *cte_name) else {
            return Ok(None);
        };
        let (rel, cols) = match self.ctes[idx].state.clone() {
            CteState::Base { wrong_form } => {
                return Err(invalid_recursion(if wrong_form {
                    format!(
                        "recursive query \"{cte_name}\" does not have the form non-recursive-term UNION [ALL] recursive-term"
                    )
                } else {
                    format!(
                        "recursive reference to query \"{cte_name}\" must not appear within its non-recursive term"
                    )
                }))
            }
            CteState::Step { id, columns, refs, depth } => {
                if self.corr.len() > depth {
                    return Err(invalid_recursion(format!(
                        "recursive reference to query \"{cte_name}\" must not appear within a subquery"
                    )));
                }
                if refs > 0 {
                    return Err(invalid_recursion(format!(
                        "recursive reference to query \"{cte_name}\" must not appear more than once"
                    )));
                }
                self.ctes[idx].state =
                    CteState::Step { id, columns: columns.clone(), refs: 1, depth };
                (Rel::WorkTable(id), columns)
            }
            CteState::Idle => {
                let def = self.ctes[idx].clone();
                let tail = self.ctes.split_off(def.visible);
                let plan = self.bind_cte(idx, &def);
                self.ctes.extend(tail);
                let plan = plan?;
                let cols = plan.columns.iter().map(|c| (c.name.clone(), c.ty.clone())).collect();
                (plan.rel, cols)
            }
        };
        let def = &self.ctes[idx];
        if def.renames.len() > cols.len() {
            return Err(Error::new(
                ErrorKind::InvalidColumnReference,
                format!(
                    "WITH query \"{}\" has {} columns available but {} columns specified",
                    def.name,
                    cols.len(),
                    def.renames.len()
                ),
            ));
        }
        let qualifier = alias.map(|a| ident(&a.name)).unwrap_or_else(|| def.name.clone());
        let mut renames = def.renames.clone();
        if let Some(a) = alias {
            for (i, c) in a.columns.iter().enumerate() {
                if i < renames.len() {
                    renames[i] = ident(&c.name);
                } else {
                    renames.push(ident(&c.name));
                }
            }
        }
        let scope = relation_scope(
            Some(qualifier),
            &renames,
            cols.into_iter().map(|(n, t)| (n, t, (0, 0))),
        );
        Ok(Some((rel, scope)))
    }

    /// Binds the body of WITH query `idx` (the CTE stack already cut to what it sees).
    fn bind_cte(&mut self, idx: usize, def: &CteDef) -> Result<QueryPlan> {
        if !def.recursive {
            return self.query(&def.query, None);
        }
        let q = &def.query;
        let ast::SetExpr::SetOperation { op: ast::SetOperator::Union, set_quantifier, left, right } =
            q.body.as_ref()
        else {
            self.ctes[idx].state = CteState::Base { wrong_form: true };
            let plan = self.query(q, None);
            self.ctes[idx].state = CteState::Idle;
            return plan;
        };
        if q.order_by.is_some() || q.limit_clause.is_some() {
            return Err(unsupported("ORDER BY / LIMIT in a recursive query"));
        }
        let all = match set_quantifier {
            ast::SetQuantifier::All => true,
            ast::SetQuantifier::Distinct | ast::SetQuantifier::None => false,
            _ => return Err(unsupported("UNION BY NAME")),
        };
        let depth = self.ctes.len();
        if let Some(with) = &q.with {
            self.push_ctes(with)?;
        }
        let plan = self.bind_recursive(idx, left, right, all);
        self.ctes.truncate(depth);
        self.ctes[idx].state = CteState::Idle;
        plan
    }

    fn bind_recursive(
        &mut self,
        idx: usize,
        left: &ast::SetExpr,
        right: &ast::SetExpr,
        all: bool,
    ) -> Result<QueryPlan> {
        let name = self.ctes[idx].name.clone();
        self.ctes[idx].state = CteState::Base { wrong_form: false };
        let base = self.body(left, None, false)?;
        let renames = self.ctes[idx].renames.clone();
        let columns: Vec<(String, DataType)> = base
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| (renames.get(i).cloned().unwrap_or_else(|| c.name.clone()), c.ty.clone()))
            .collect();
        self.next_id += 1;
        let id = self.next_id;
        let depth = self.corr.len();
        self.ctes[idx].state = CteState::Step { id, columns: columns.clone(), refs: 0, depth };
        let step = self.body(right, None, true)?;
        let refs = match &self.ctes[idx].state {
            CteState::Step { refs, .. } => *refs,
            _ => 0,
        };
        if step.columns.len() != columns.len() {
            return Err(Error::syntax("each UNION query must have the same number of columns"));
        }
        let out: Vec<OutCol> = base.columns.clone();
        if refs == 0 {
            // Not recursive after all: a plain UNION.
            let types: Vec<DataType> = columns.iter().map(|(_, t)| t.clone()).collect();
            let step_rel = cast_step(step, &types, &name)?;
            return Ok(QueryPlan {
                rel: Rel::SetOp {
                    op: super::super::plan::SetOpKind::Union,
                    all,
                    left: Box::new(base.rel),
                    right: Box::new(step_rel),
                },
                columns: out,
                lock: None,
            });
        }
        let types: Vec<DataType> = columns.iter().map(|(_, t)| t.clone()).collect();
        let step_rel = cast_step(step, &types, &name)?;
        Ok(QueryPlan {
            rel: Rel::Recursive { id, base: Box::new(base.rel), step: Box::new(step_rel), all },
            columns: out,
            lock: None,
        })
    }
}

/// The recursive term's rows as the base's types: an unknown column is cast; any other
/// difference is PostgreSQL's 42804.
fn cast_step(step: QueryPlan, types: &[DataType], name: &str) -> Result<Rel> {
    let mut exprs = Vec::new();
    let mut any = false;
    for (i, (c, t)) in step.columns.iter().zip(types).enumerate() {
        if c.ty == *t {
            exprs.push(Expr::Column(i));
        } else if c.ty == DataType::Unknown {
            any = true;
            exprs.push(Expr::Cast(Box::new(Expr::Column(i)), DataType::Text, t.clone()));
        } else {
            return Err(Error::new(
                ErrorKind::DatatypeMismatch,
                format!(
                    "recursive query \"{name}\" column {} has type {} in non-recursive term but type {} overall",
                    i + 1,
                    t.display_name(),
                    super::setop::resolve(t, &c.ty).unwrap_or_else(|| c.ty.clone()).display_name()
                ),
            )
            .with_hint("Cast the output of the non-recursive term to the correct type."));
        }
    }
    Ok(if any { Rel::Project { input: Box::new(step.rel), exprs } } else { step.rel })
}
