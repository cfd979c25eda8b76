//! `UPDATE … FROM` and `DELETE … USING`: binding the FROM list and choosing how the
//! target is joined to it.
//!
//! The statement's expressions see the joined row, the target's columns first:
//!
//! ```text
//!   UPDATE t AS x SET v = s.v FROM s, u WHERE x.id = s.id AND s.k = u.k
//!   joined row:  x.id x.v … | s.id s.v … u.k …        (SET, WHERE, RETURNING)
//!                ◀─ target ─▶ ◀──── DmlFrom.rel ────▶
//! ```
//!
//! The join is planned one of two ways (`sql/dml_from.rs` runs it):
//! * **key lookup per FROM row** — when the WHERE equates target key columns with FROM
//!   columns (`x.id = s.id`) so that [`super::point_access`] finds a point, key list or
//!   range on the target whose values are `Expr::Outer` references to the FROM row. The
//!   FROM rows are read once, and each looks up only its target rows: never a loop over
//!   full scans.
//! * **read once, join in memory** — otherwise: the target is read through the
//!   statement's own access path and hashed against the FROM rows on the equality
//!   conjuncts (`join::equi_keys`), or paired with every FROM row when there are none.
//!
//! The FROM items cannot see the target (they are not LATERAL to it, as in PostgreSQL),
//! and a FROM item may not reuse the target's name or alias (42712).

use sqlparser::ast;

use crate::catalog::TableDef;
use crate::error::{Error, ErrorKind, Result};
use crate::types::BinaryOp;

use super::super::expr::Expr;
use super::super::plan::{DmlFrom, Rel};
use super::{flatten_and, point_access, Planner, Scope};

impl Planner<'_> {
    /// Binds the FROM (USING) list of an UPDATE (DELETE) whose target has the scope
    /// `target`: the joined FROM rows and their scope.
    pub(super) fn dml_from_list(
        &mut self,
        items: &[ast::TableWithJoins],
        target: &Scope,
    ) -> Result<(Rel, Scope)> {
        let mut acc: Option<(Rel, Scope)> = None;
        for twj in items {
            acc = Some(self.table_with_joins(twj, acc, None)?);
        }
        let (rel, scope) = acc.ok_or_else(|| Error::syntax("syntax error at end of input"))?;
        let name = target.first().and_then(|c| c.qualifier.clone());
        if let Some(name) = name {
            if scope.iter().any(|c| c.qualifier.as_deref() == Some(name.as_str())) {
                return Err(Error::new(
                    ErrorKind::DuplicateAlias,
                    format!("table name \"{name}\" specified more than once"),
                ));
            }
        }
        Ok((rel, scope))
    }
}

/// How the target `table` joins the FROM rows (`rel`, `width` columns wide), given the
/// WHERE over the joined row.
pub(super) fn plan_join(
    table: &TableDef,
    filter: Option<&Expr>,
    rel: Rel,
    width: usize,
) -> Box<DmlFrom> {
    let n = table.columns.len();
    let mut conjuncts = Vec::new();
    if let Some(f) = filter {
        flatten_and(f, &mut conjuncts);
    }
    // `target.col = from.col` becomes `target.col = Outer(from col)`: a key value the
    // access path reads from the FROM row it is given.
    let mut lookup_filter: Option<Expr> = filter.cloned();
    for c in &conjuncts {
        let Expr::Binary { op: BinaryOp::Eq, left, right, left_ty, right_ty } = c else {
            continue;
        };
        let (Expr::Column(a), Expr::Column(b)) = (left.as_ref(), right.as_ref()) else {
            continue;
        };
        let (t, t_ty, f, f_ty) = match (*a < n, *b < n) {
            (true, false) => (*a, left_ty, *b - n, right_ty),
            (false, true) => (*b, right_ty, *a - n, left_ty),
            _ => continue,
        };
        let key = Expr::Binary {
            op: BinaryOp::Eq,
            left: Box::new(Expr::Column(t)),
            left_ty: t_ty.clone(),
            right: Box::new(Expr::Outer(f)),
            right_ty: f_ty.clone(),
        };
        lookup_filter = Some(match lookup_filter {
            Some(l) => Expr::And(Box::new(l), Box::new(key)),
            None => key,
        });
    }
    let own = point_access(table, filter);
    let joined = point_access(table, lookup_filter.as_ref());
    let lookup = (joined != own).then_some(joined);
    let equi = match (&lookup, filter) {
        (None, Some(f)) => super::join::equi_keys(f, n),
        _ => Vec::new(),
    };
    Box::new(DmlFrom { rel, width, lookup, equi })
}
