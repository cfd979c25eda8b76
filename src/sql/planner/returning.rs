//! `RETURNING …` of INSERT, UPDATE and DELETE: a select list over the written row,
//! named and typed as a SELECT list is (`*` expands to the table's columns).

use sqlparser::ast;

use super::{column_name, origin_of, select_items, Planner, Scope};
use crate::error::Result;
use crate::sql::plan::{OutCol, Returning};
use crate::types::DataType;

impl Planner<'_> {
    /// Binds a RETURNING list over `scope` (the target table's columns).
    pub(super) fn returning(
        &mut self,
        items: Option<&Vec<ast::SelectItem>>,
        scope: &Scope,
    ) -> Result<Option<Returning>> {
        let Some(items) = items else { return Ok(None) };
        let named = select_items(items, scope)?;
        let mut exprs = Vec::with_capacity(named.len());
        let mut columns = Vec::with_capacity(named.len());
        for (e, alias) in &named {
            let (bound, ty) = self.expr(e, scope, None, None)?;
            let ty = if ty == DataType::Unknown { DataType::Text } else { ty };
            let origin = match e {
                ast::Expr::Identifier(_) | ast::Expr::CompoundIdentifier(_) => {
                    origin_of(&bound, scope)
                }
                _ => (0, 0),
            };
            columns.push(OutCol {
                name: alias.clone().unwrap_or_else(|| column_name(e)),
                ty,
                table_oid: origin.0,
                column: origin.1,
            });
            exprs.push(bound);
        }
        Ok(Some(Returning { exprs, columns }))
    }
}
