//! `INSERT … ON CONFLICT [(cols) | ON CONSTRAINT name] DO NOTHING | DO UPDATE SET … [WHERE
//! …]`. The arbiter is the primary key or a UNIQUE index whose columns are exactly the
//! target's (or the constraint named); no target (DO NOTHING only) means every unique
//! key. A target matching none is PostgreSQL's 42P10; a conflict in a key that is not
//! the arbiter is 23505.
//! DO UPDATE expressions see the existing row as the table (or its alias) and the
//! proposed row as `excluded`; they are bound over the two side by side (existing
//! columns first), as `dml::upsert` evaluates them.

use sqlparser::ast;

use super::{assignment_column, ident, object_parts, Planner, Scope};
use crate::catalog::TableDef;
use crate::error::{Error, ErrorKind, Result};
use crate::sql::plan::{Arbiter, OnConflict};

impl Planner<'_> {
    /// Binds the ON CONFLICT clause of an INSERT into `table`, if any.
    pub(super) fn on_conflict(
        &mut self,
        i: &ast::Insert,
        table: &TableDef,
    ) -> Result<Option<OnConflict>> {
        let Some(on) = &i.on else { return Ok(None) };
        let ast::OnInsert::OnConflict(oc) = on else {
            return Err(Error::unsupported("ON DUPLICATE KEY UPDATE"));
        };
        let no_match = || {
            Error::new(
                ErrorKind::InvalidColumnReference,
                "there is no unique or exclusion constraint matching the ON CONFLICT specification",
            )
        };
        let arbiter = match &oc.conflict_target {
            None => {
                if matches!(oc.action, ast::OnConflictAction::DoUpdate(_)) {
                    return Err(Error::syntax(
                        "ON CONFLICT DO UPDATE requires inference specification or constraint name",
                    )
                    .with_hint("For example, ON CONFLICT (column_name)."));
                }
                Arbiter::Any
            }
            Some(ast::ConflictTarget::Columns(cols)) => {
                let mut named = Vec::new();
                for c in cols {
                    let name = ident(c);
                    let idx = table.column_index(&name).ok_or_else(|| {
                        Error::new(
                            ErrorKind::UndefinedColumn,
                            format!("column \"{name}\" does not exist"),
                        )
                    })?;
                    named.push(idx);
                }
                named.sort_unstable();
                named.dedup();
                let same = |cols: &[usize]| {
                    let mut key = cols.to_vec();
                    key.sort_unstable();
                    key == named
                };
                if table.primary_key.as_deref().is_some_and(same) {
                    Arbiter::PrimaryKey
                } else {
                    let ix = table.indexes.iter().position(|i| i.unique && same(&i.columns));
                    Arbiter::Index(ix.ok_or_else(no_match)?)
                }
            }
            Some(ast::ConflictTarget::OnConstraint(name)) => {
                let name = object_parts(name).pop().unwrap_or_default();
                let ix = table.indexes.iter().position(|i| i.constraint && i.name == name);
                match ix {
                    _ if table.primary_key.is_some() && name == table.pkey_name() => {
                        Arbiter::PrimaryKey
                    }
                    Some(ix) => Arbiter::Index(ix),
                    None => {
                        return Err(Error::new(
                            ErrorKind::UndefinedObject,
                            format!(
                                "constraint \"{name}\" for table \"{}\" does not exist",
                                table.name
                            ),
                        ))
                    }
                }
            }
        };
        let ast::OnConflictAction::DoUpdate(du) = &oc.action else {
            return Ok(Some(OnConflict::Nothing(arbiter)));
        };
        // The existing row under the table's name (or alias), then `excluded`, reachable
        // only by its qualified name.
        let mut scope: Scope = Self::table_scope(table);
        if let Some(a) = &i.table_alias {
            for c in &mut scope {
                c.qualifier = Some(ident(&a.alias));
            }
        }
        let mut excluded = Self::table_scope(table);
        for c in &mut excluded {
            c.qualifier = Some("excluded".to_owned());
            c.hidden = true;
        }
        scope.extend(excluded);
        let mut sets = Vec::new();
        for a in &du.assignments {
            let idx = assignment_column(table, a)?;
            let (b, t) = self.expr(&a.value, &scope, None, None)?;
            sets.push((idx, self.assign(b, t, &table.columns[idx])?));
        }
        let filter = match &du.selection {
            Some(w) => {
                let (p, t) = self.expr(w, &scope, None, None)?;
                super::expect_bool(&t, "WHERE")?;
                Some(p)
            }
            None => None,
        };
        if sets.iter().any(|(_, e)| e.has_subquery())
            || filter.as_ref().is_some_and(|f| f.has_subquery())
        {
            return Err(Error::unsupported("subqueries in ON CONFLICT DO UPDATE"));
        }
        Ok(Some(OnConflict::Update { arbiter, sets, filter }))
    }
}
