//! ALTER TABLE: from sqlparser's operations to [`AlterAction`]s.
//!
//! Planning only translates: every name is resolved again when the statement runs,
//! against the definition current under the DDL lock (`alter_apply.rs` applies the
//! actions to it, `session/alter.rs` rewrites the rows). Several actions in one
//! statement are applied in order to one working copy of the definition, and the
//! table is rewritten once, as PostgreSQL's ALTER TABLE does.
//!
//! ADD CONSTRAINT … FOREIGN KEY keeps sqlparser's constraint: it is bound (parent,
//! columns, the parent's key) when the statement runs, against the working copy, so a
//! key added earlier in the same statement counts (`foreign_key::bind`, shared with
//! CREATE TABLE). DROP COLUMN and DROP CONSTRAINT take CASCADE: it reaches the
//! foreign keys of other tables that depend on what is dropped (`alter_apply.rs`).
//!
//! Refused with 0A000: ADD COLUMN of SERIAL / identity / a collation, ALTER COLUMN
//! TYPE, EXCLUDE, DEFERRABLE, NOT VALID, a PRIMARY KEY named other than `<table>_pkey`
//! (the key's name is not stored), and everything else sqlparser knows (partitions,
//! triggers, row level security, …).

use sqlparser::ast;

use super::index::unsupported_constraint;
use super::{first_words, ident, index_column_name, object_parts, unsupported, Planner};
use crate::catalog::Column;
use crate::error::{Error, Result};
use crate::sql::constraints::ColumnExtras;
use crate::sql::plan::Plan;
use crate::types::DataType;

/// One action of an ALTER TABLE, with names as written (case-folded).
#[derive(Debug, Clone, PartialEq)]
pub enum AlterAction {
    /// ADD \[COLUMN\] \[IF NOT EXISTS\] name type [DEFAULT …] \[NOT NULL\] [CHECK …]
    /// \[UNIQUE\] \[PRIMARY KEY\].
    AddColumn {
        /// The column (its DEFAULT as SQL text).
        column: Column,
        /// IF NOT EXISTS.
        if_not_exists: bool,
        /// Column CHECK constraints: (given name, expression text).
        checks: Vec<(Option<String>, String)>,
        /// Column UNIQUE constraints, by given name.
        uniques: Vec<Option<String>>,
        /// PRIMARY KEY.
        primary_key: bool,
    },
    /// DROP \[COLUMN\] \[IF EXISTS\] name \[CASCADE\].
    DropColumn {
        /// Column.
        name: String,
        /// IF EXISTS.
        if_exists: bool,
        /// CASCADE: drop the other tables' foreign keys that reference the column.
        cascade: bool,
    },
    /// RENAME \[COLUMN\] old TO new.
    RenameColumn {
        /// Current name.
        old: String,
        /// New name.
        new: String,
    },
    /// RENAME TO new.
    RenameTable(String),
    /// ALTER \[COLUMN\] c SET DEFAULT e / DROP DEFAULT.
    SetDefault {
        /// Column.
        column: String,
        /// The new default as SQL text, `None` to drop it.
        default: Option<String>,
    },
    /// ALTER \[COLUMN\] c SET NOT NULL / DROP NOT NULL.
    SetNotNull {
        /// Column.
        column: String,
        /// SET (true) or DROP (false).
        not_null: bool,
    },
    /// ADD [CONSTRAINT name] CHECK (e).
    AddCheck {
        /// Given name.
        name: Option<String>,
        /// Expression text.
        expr: String,
    },
    /// ADD [CONSTRAINT name] UNIQUE (cols).
    AddUnique {
        /// Given name.
        name: Option<String>,
        /// Column names.
        columns: Vec<String>,
    },
    /// ADD [CONSTRAINT t_pkey] PRIMARY KEY (cols).
    AddPrimaryKey {
        /// Column names.
        columns: Vec<String>,
    },
    /// ADD [CONSTRAINT name] FOREIGN KEY (cols) REFERENCES parent \[(cols)\] ….
    AddForeignKey(Box<ast::ForeignKeyConstraint>),
    /// DROP CONSTRAINT \[IF EXISTS\] name \[CASCADE\].
    DropConstraint {
        /// Name.
        name: String,
        /// IF EXISTS.
        if_exists: bool,
        /// CASCADE: drop the foreign keys that reference the key being dropped.
        cascade: bool,
    },
}

fn cascade(b: &Option<ast::DropBehavior>) -> bool {
    matches!(b, Some(ast::DropBehavior::Cascade))
}

fn key_columns(cols: &[ast::IndexColumn]) -> Result<Vec<String>> {
    cols.iter().map(|c| index_column_name(&c.column.expr)).collect()
}

impl Planner<'_> {
    /// ALTER TABLE \[IF EXISTS\] t action, ….
    pub(super) fn alter_table(&mut self, a: &ast::AlterTable) -> Result<Plan> {
        if a.table_type.is_some() || a.location.is_some() || a.on_cluster.is_some() {
            return Err(unsupported("this ALTER TABLE form"));
        }
        let table = super::schema::rel_name(&a.name)?;
        if !a.if_exists {
            // A missing schema (3F000 for DDL, unlike a query's 42P01), table, a view
            // or a system catalog by that name: say so now.
            if let Some(s) =
                table.schema.as_deref().filter(|s| self.catalog.schema_oid(s).is_none())
            {
                return Err(crate::catalog::namespace::no_schema(s));
            }
            self.table(&a.name)?;
        }
        let mut actions = Vec::with_capacity(a.operations.len());
        for op in &a.operations {
            actions.push(self.alter_action(op, &table.name)?);
        }
        if actions.len() > 1
            && actions.iter().any(|x| {
                matches!(x, AlterAction::RenameTable(_) | AlterAction::RenameColumn { .. })
            })
        {
            return Err(Error::syntax("syntax error at or near \",\""));
        }
        Ok(Plan::AlterTable { table, if_exists: a.if_exists, actions })
    }

    fn alter_action(&mut self, op: &ast::AlterTableOperation, table: &str) -> Result<AlterAction> {
        use ast::AlterTableOperation as Op;
        Ok(match op {
            Op::AddColumn { if_not_exists, column_def, column_position: None, .. } => {
                self.add_column(column_def, *if_not_exists)?
            }
            Op::DropColumn { column_names, if_exists, drop_behavior, .. } => {
                let [name] = column_names.as_slice() else {
                    return Err(unsupported("DROP COLUMN of several columns"));
                };
                AlterAction::DropColumn {
                    name: ident(name),
                    if_exists: *if_exists,
                    cascade: cascade(drop_behavior),
                }
            }
            Op::RenameColumn { old_column_name, new_column_name } => AlterAction::RenameColumn {
                old: ident(old_column_name),
                new: ident(new_column_name),
            },
            Op::RenameTable { table_name } => {
                let name = match table_name {
                    ast::RenameTableNameKind::To(n) | ast::RenameTableNameKind::As(n) => n,
                };
                let parts = object_parts(name);
                if parts.len() != 1 {
                    return Err(Error::syntax(format!("syntax error at or near \".\" in {name}")));
                }
                AlterAction::RenameTable(parts[0].clone())
            }
            Op::AlterColumn { column_name, op } => {
                let column = ident(column_name);
                match op {
                    ast::AlterColumnOperation::SetNotNull => {
                        AlterAction::SetNotNull { column, not_null: true }
                    }
                    ast::AlterColumnOperation::DropNotNull => {
                        AlterAction::SetNotNull { column, not_null: false }
                    }
                    ast::AlterColumnOperation::SetDefault { value } => {
                        AlterAction::SetDefault { column, default: Some(value.to_string()) }
                    }
                    ast::AlterColumnOperation::DropDefault => {
                        AlterAction::SetDefault { column, default: None }
                    }
                    other => {
                        return Err(unsupported(format!(
                            "ALTER COLUMN … {}",
                            first_words(&other.to_string())
                        )))
                    }
                }
            }
            Op::AddConstraint { constraint, not_valid } => {
                if *not_valid {
                    return Err(unsupported("NOT VALID constraints"));
                }
                self.add_constraint(constraint, table)?
            }
            Op::DropConstraint { if_exists, name, drop_behavior } => AlterAction::DropConstraint {
                name: ident(name),
                if_exists: *if_exists,
                cascade: cascade(drop_behavior),
            },
            other => {
                return Err(unsupported(format!(
                    "ALTER TABLE … {}",
                    first_words(&other.to_string())
                )))
            }
        })
    }

    fn add_column(&mut self, cd: &ast::ColumnDef, if_not_exists: bool) -> Result<AlterAction> {
        if ColumnExtras::serial_type(&cd.data_type).is_some() {
            return Err(unsupported("ADD COLUMN of a SERIAL column"));
        }
        let ty = DataType::from_sql(&cd.data_type)?;
        let mut column = Column::new(ident(&cd.name), ty, false);
        let (mut checks, mut uniques, mut primary_key) = (Vec::new(), Vec::new(), false);
        for o in &cd.options {
            let given = o.name.as_ref().map(ident);
            match &o.option {
                ast::ColumnOption::Null => {}
                ast::ColumnOption::NotNull => column.not_null = true,
                ast::ColumnOption::Default(e) => column.default = Some(e.to_string()),
                ast::ColumnOption::Check(k) => checks.push((given, k.expr.to_string())),
                ast::ColumnOption::Unique(uc) => {
                    if uc.characteristics.is_some() {
                        return Err(unsupported("DEFERRABLE constraints"));
                    }
                    uniques.push(given);
                }
                ast::ColumnOption::PrimaryKey(_) => {
                    primary_key = true;
                    column.not_null = true;
                }
                other => {
                    return Err(unsupported(format!(
                        "column option {} in ADD COLUMN",
                        first_words(&other.to_string())
                    )))
                }
            }
        }
        Ok(AlterAction::AddColumn { column, if_not_exists, checks, uniques, primary_key })
    }

    fn add_constraint(&mut self, tc: &ast::TableConstraint, table: &str) -> Result<AlterAction> {
        Ok(match tc {
            ast::TableConstraint::Check(k) => {
                if k.enforced == Some(false) {
                    return Err(unsupported("NOT ENFORCED constraints"));
                }
                AlterAction::AddCheck { name: k.name.as_ref().map(ident), expr: k.expr.to_string() }
            }
            ast::TableConstraint::Unique(uc) => {
                if !uc.include.is_empty() || uc.index_type.is_some() || !uc.index_options.is_empty()
                {
                    return Err(unsupported("UNIQUE … INCLUDE / USING / index options"));
                }
                if uc.nulls_distinct == ast::NullsDistinctOption::NotDistinct {
                    return Err(unsupported("UNIQUE NULLS NOT DISTINCT"));
                }
                if uc.characteristics.is_some() {
                    return Err(unsupported("DEFERRABLE constraints"));
                }
                AlterAction::AddUnique {
                    name: uc.name.as_ref().map(ident),
                    columns: key_columns(&uc.columns)?,
                }
            }
            ast::TableConstraint::PrimaryKey(pk) => {
                if let Some(n) = &pk.name {
                    if ident(n) != format!("{table}_pkey") {
                        return Err(unsupported("a PRIMARY KEY constraint with its own name"));
                    }
                }
                if pk.characteristics.is_some() || !pk.include.is_empty() {
                    return Err(unsupported("PRIMARY KEY … DEFERRABLE / INCLUDE"));
                }
                AlterAction::AddPrimaryKey { columns: key_columns(&pk.columns)? }
            }
            ast::TableConstraint::ForeignKey(fk) => {
                super::foreign_key::refuse_unsupported(fk)?;
                AlterAction::AddForeignKey(Box::new(fk.clone()))
            }
            other => return Err(unsupported_constraint(other)),
        })
    }
}
