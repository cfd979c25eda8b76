//! Index DDL: UNIQUE constraints in CREATE TABLE, `CREATE [UNIQUE] INDEX [IF NOT EXISTS]
//! name ON t (cols)` and `DROP INDEX [IF EXISTS]`. Names follow PostgreSQL's: a UNIQUE
//! constraint is `t_a_b_key`, an unnamed index `t_a_b_idx`. What the storage does with
//! an index is in `storage/secondary.rs`; where the planner uses one, in `access.rs`.
//! Refused with 0A000: expression columns, INCLUDE, partial indexes, NULLS NOT
//! DISTINCT, DEFERRABLE, CONCURRENTLY, index methods other than btree, CASCADE.

use sqlparser::ast;

use super::{first_words, ident, index_column_name, object_parts, unsupported, Planner};
use crate::catalog::{Column, IndexDef};
use crate::error::{Error, ErrorKind, Result};
use crate::sql::plan::Plan;

/// PostgreSQL's generated name for an index of `table` on `columns`: `t_a_b_key` for a
/// UNIQUE constraint (`suffix` "key"), `t_a_b_idx` for CREATE INDEX.
pub(super) fn generated_name(table: &str, columns: &[&str], suffix: &str) -> String {
    let mut name = table.to_owned();
    for c in columns {
        name.push('_');
        name.push_str(c);
    }
    name.push('_');
    name.push_str(suffix);
    name
}

/// Positions of the named index columns in `columns`; `missing` makes the error for an
/// unknown name.
fn positions(
    cols: &[ast::IndexColumn],
    columns: &[Column],
    missing: impl Fn(&str) -> Error,
) -> Result<Vec<usize>> {
    let mut out = Vec::with_capacity(cols.len());
    for c in cols {
        let plain_order = matches!(c.column.options.sort, None | Some(ast::OrderBySort::Asc));
        if c.operator_class.is_some() || !plain_order || c.column.options.nulls_first.is_some() {
            return Err(unsupported("index column options (DESC, operator classes)"));
        }
        let name = index_column_name(&c.column.expr)?;
        let i = columns.iter().position(|x| x.name == name).ok_or_else(|| missing(&name))?;
        out.push(i);
    }
    Ok(out)
}

/// A UNIQUE constraint of CREATE TABLE (`columns` are the table's, `given` the
/// constraint's own name if it has one).
pub(super) fn unique_constraint(
    table: &str,
    columns: &[Column],
    uc: &ast::UniqueConstraint,
    given: Option<&ast::Ident>,
    only: Option<usize>,
) -> Result<IndexDef> {
    if !uc.include.is_empty() || uc.index_type.is_some() || !uc.index_options.is_empty() {
        return Err(unsupported("UNIQUE … INCLUDE / USING / index options"));
    }
    if uc.nulls_distinct == ast::NullsDistinctOption::NotDistinct {
        return Err(unsupported("UNIQUE NULLS NOT DISTINCT"));
    }
    if uc.characteristics.is_some() {
        return Err(unsupported("DEFERRABLE constraints"));
    }
    let cols = match only {
        Some(i) => vec![i],
        None => positions(&uc.columns, columns, |name| {
            Error::new(
                ErrorKind::UndefinedColumn,
                format!("column \"{name}\" named in key does not exist"),
            )
        })?,
    };
    let name = match given.or(uc.name.as_ref()) {
        Some(n) => ident(n),
        None => {
            let names: Vec<&str> = cols.iter().map(|&i| columns[i].name.as_str()).collect();
            generated_name(table, &names, "key")
        }
    };
    Ok(IndexDef { name, columns: cols, unique: true, constraint: true })
}

impl Planner<'_> {
    /// CREATE [UNIQUE] INDEX [IF NOT EXISTS] [name] ON t (cols).
    pub(super) fn create_index(&mut self, c: &ast::CreateIndex) -> Result<Plan> {
        if c.concurrently {
            return Err(unsupported("CREATE INDEX CONCURRENTLY"));
        }
        if !c.include.is_empty() || c.predicate.is_some() || !c.with.is_empty() {
            return Err(unsupported("CREATE INDEX … INCLUDE / WHERE / WITH"));
        }
        if c.nulls_distinct == Some(false) {
            return Err(unsupported("NULLS NOT DISTINCT"));
        }
        match &c.using {
            None => {}
            Some(ast::IndexType::BTree) => {}
            Some(other) => return Err(unsupported(format!("index method \"{other}\""))),
        }
        let table = self.table(&c.table_name)?;
        let columns = positions(&c.columns, &table.columns, |name| {
            Error::new(ErrorKind::UndefinedColumn, format!("column \"{name}\" does not exist"))
        })?;
        let (name, named) = match &c.name {
            Some(n) => (object_parts(n).pop().unwrap_or_default(), true),
            None => {
                let names: Vec<&str> =
                    columns.iter().map(|&i| table.columns[i].name.as_str()).collect();
                (generated_name(&table.name, &names, "idx"), false)
            }
        };
        let index = IndexDef { name, columns, unique: c.unique, constraint: false };
        Ok(Plan::CreateIndex {
            schema: table.schema.clone(),
            table: table.name.clone(),
            index,
            named,
            if_not_exists: c.if_not_exists,
        })
    }

    /// DROP INDEX [IF EXISTS] names.
    pub(super) fn drop_index(
        &mut self,
        names: &[ast::ObjectName],
        if_exists: bool,
        cascade: bool,
    ) -> Result<Plan> {
        if cascade {
            return Err(unsupported("DROP INDEX … CASCADE"));
        }
        let names = super::schema::drop_names(names)?;
        Ok(Plan::DropIndex { names, if_exists })
    }
}

/// 0A000 for a table constraint troupe does not keep.
pub(super) fn unsupported_constraint(tc: &ast::TableConstraint) -> Error {
    unsupported(format!("table constraint {}", first_words(&tc.to_string())))
}
