//! ALTER TABLE's decisions, sans IO: a definition and a list of [`AlterAction`]s in,
//! the new definition and how to build its rows out ([`Altered`]).
//!
//! ```text
//!   TableDef t(id, a, b)  ── ADD c int DEFAULT 7, DROP a ──▶  Altered
//!                                                              def: t(id, b, c)
//!                                                              sources: [Old 0, Old 2, Fill 7]
//!                                                              checks: bound over t(id, b, c)
//! ```
//! The actions apply in order to one working copy, as PostgreSQL applies them, and
//! with its errors and notices. What depends on a dropped column inside the table (an
//! index, a UNIQUE constraint, the primary key, a CHECK naming it) goes with it, as in
//! PostgreSQL; what depends on it from outside (a view) is the caller's to check.
//! What the actions do to foreign keys, the table's own and other tables' that
//! reference it, is in `alter_fk.rs`. An added column's DEFAULT fills the existing rows (evaluated per row by the caller,
//! so a volatile default gives each row its own value); a later SET DEFAULT in the
//! same statement changes the default, not the fill. The caller validates every new
//! row against every NOT NULL and CHECK of the result (a rewrite, as PostgreSQL's
//! ATRewriteTable), so an action never needs to know which rows it affects.

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Token, Tokenizer, Word};

use super::alter::AlterAction;
use super::index::generated_name;
use super::{Planner, Scope};
use std::collections::BTreeMap;

use crate::catalog::{Catalog, CheckDef, Column, ForeignKeyDef, IndexDef, SearchPath, TableDef};
use crate::error::{Error, ErrorKind, Result};
use crate::sql::constraints::{columns_named, parse_expr};
use crate::sql::expr::Expr;
use crate::sql::plan::BoundCheck;
use crate::types::DataType;

/// Where a column of the rewritten rows comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// The old row's column at this position.
    Old(usize),
    /// An added column: its DEFAULT (NULL if none), bound and cast.
    Fill(Expr),
}

/// The outcome of applying ALTER TABLE actions to a definition.
#[derive(Debug)]
pub struct Altered {
    /// The new definition (still under the old storage id).
    pub def: TableDef,
    /// One source per column of `def`.
    pub sources: Vec<Source>,
    /// Every CHECK of `def`, bound over its columns.
    pub checks: Vec<BoundCheck>,
    /// Notices to send (SQLSTATE, message).
    pub notices: Vec<(&'static str, String)>,
    /// Columns of the old definition that were dropped or renamed (views using them
    /// stop working: the caller refuses that).
    pub touched_columns: Vec<String>,
    /// Other tables that change with this one: new definitions of those whose foreign
    /// keys reference it and changed, and (unchanged) the parents of added foreign
    /// keys. The caller moves them all with the table.
    pub related: Vec<TableDef>,
    /// The foreign keys this statement added (in `def`), which the existing rows must
    /// satisfy.
    pub added_foreign_keys: Vec<ForeignKeyDef>,
}

impl Altered {
    /// True if the primary key changed, so that rows move to new keys.
    pub fn rekeyed(&self, old: &TableDef) -> bool {
        let mapped = old.primary_key.as_ref().map(|pk| {
            pk.iter()
                .map(|&c| self.sources.iter().position(|s| *s == Source::Old(c)))
                .collect::<Option<Vec<usize>>>()
        });
        match (mapped, &self.def.primary_key) {
            (None, None) => false,
            (Some(Some(m)), Some(new)) => m != *new,
            _ => true,
        }
    }
}

/// A column source while the actions apply: the added column's fill stays text.
#[derive(Debug, Clone)]
enum Src {
    Old(usize),
    Fill(Option<String>),
}

/// The working copy the actions apply to.
pub(super) struct Work<'d> {
    pub(super) catalog: &'d Catalog,
    /// The session's search path (what an added foreign key's parent is looked up in).
    pub(super) path: &'d SearchPath,
    /// How a relation is named in a message: bare where visible on `path`.
    pub(super) shown: &'d dyn Fn(&str, &str) -> String,
    pub(super) old: &'d TableDef,
    pub(super) name: String,
    pub(super) columns: Vec<Column>,
    srcs: Vec<Src>,
    pub(super) primary_key: Option<Vec<usize>>,
    checks: Vec<CheckDef>,
    pub(super) indexes: Vec<IndexDef>,
    pub(super) foreign_keys: Vec<ForeignKeyDef>,
    pub(super) notices: Vec<(&'static str, String)>,
    touched: Vec<String>,
    /// Other tables' new definitions, by their current (schema, name) (see
    /// [`Altered::related`]).
    pub(super) related: BTreeMap<(String, String), TableDef>,
    /// Names of the foreign keys added.
    pub(super) added_foreign_keys: Vec<String>,
}

fn err(kind: ErrorKind, msg: String) -> Error {
    Error::new(kind, msg)
}

/// Applies `actions` to `table`. `taken` says whether a relation name (table, view,
/// sequence or index) is in use elsewhere in the table's schema; `path` is the
/// session's search path, and `shown` names a relation (schema, name) in messages as
/// the session sees it (`pg_catalog::visibility::shown_name`).
pub fn apply_alter(
    catalog: &Catalog,
    path: &SearchPath,
    table: &TableDef,
    actions: &[AlterAction],
    taken: &dyn Fn(&str) -> bool,
    shown: &dyn Fn(&str, &str) -> String,
) -> Result<Altered> {
    let mut w = Work {
        catalog,
        path,
        shown,
        old: table,
        name: table.name.clone(),
        columns: table.columns.clone(),
        srcs: (0..table.columns.len()).map(Src::Old).collect(),
        primary_key: table.primary_key.clone(),
        checks: table.checks.clone(),
        indexes: table.indexes.clone(),
        foreign_keys: table.foreign_keys.clone(),
        notices: Vec::new(),
        touched: Vec::new(),
        related: BTreeMap::new(),
        added_foreign_keys: Vec::new(),
    };
    for a in actions {
        w.apply(a, taken)?;
    }
    w.checks.sort_by(|a, b| a.name.cmp(&b.name));
    let added_foreign_keys =
        w.foreign_keys.iter().filter(|k| w.added_foreign_keys.contains(&k.name)).cloned().collect();
    let def = TableDef {
        id: table.id,
        oid: table.oid,
        schema: table.schema.clone(),
        name: w.name,
        columns: w.columns,
        primary_key: w.primary_key,
        checks: w.checks,
        indexes: w.indexes,
        foreign_keys: w.foreign_keys,
    };
    let mut planner = Planner::new(catalog, &table.own_path(), &[])?;
    let scope = Planner::table_scope(&def);
    let mut checks = Vec::with_capacity(def.checks.len());
    for k in &def.checks {
        let (expr, t) = planner.scalar(&parse_expr(&k.expr)?, &scope)?;
        if t != DataType::Bool && t != DataType::Unknown {
            return Err(err(
                ErrorKind::DatatypeMismatch,
                format!("argument of CHECK must be type boolean, not type {}", t.display_name()),
            ));
        }
        checks.push(BoundCheck { name: k.name.clone(), expr });
    }
    let mut sources = Vec::with_capacity(w.srcs.len());
    for (i, s) in w.srcs.into_iter().enumerate() {
        sources.push(match s {
            Src::Old(c) => Source::Old(c),
            Src::Fill(None) => Source::Fill(Expr::Const(crate::types::Value::Null)),
            Src::Fill(Some(text)) => {
                let (e, t) = planner.scalar(&parse_expr(&text)?, &Scope::new())?;
                Source::Fill(planner.assign(e, t, &def.columns[i])?)
            }
        });
    }
    // A default that is kept must still bind (SET DEFAULT of a bad expression fails).
    for c in &def.columns {
        if let Some(text) = &c.default {
            let (e, t) = planner.scalar(&parse_expr(text)?, &Scope::new())?;
            match planner.assign(e, t, c) {
                Err(e) if e.kind != ErrorKind::StringDataRightTruncation => return Err(e),
                _ => {}
            }
        }
    }
    Ok(Altered {
        def,
        sources,
        checks,
        notices: w.notices,
        touched_columns: w.touched,
        related: w.related.into_values().collect(),
        added_foreign_keys,
    })
}

impl Work<'_> {
    fn position(&self, column: &str) -> Result<usize> {
        self.columns.iter().position(|c| c.name == column).ok_or_else(|| {
            err(
                ErrorKind::UndefinedColumn,
                format!("column \"{column}\" of relation \"{}\" does not exist", self.name),
            )
        })
    }

    pub(super) fn constraint_taken(&self, name: &str) -> bool {
        self.checks.iter().any(|k| k.name == name)
            || self.indexes.iter().any(|i| i.name == name)
            || self.foreign_keys.iter().any(|k| k.name == name)
            || (self.primary_key.is_some() && name == format!("{}_pkey", self.old.name))
    }

    /// PostgreSQL's ChooseConstraintName: `base`, else `base1`, `base2`, ….
    pub(super) fn choose_name(&self, base: String, taken: &dyn Fn(&str) -> bool) -> String {
        let mut name = base.clone();
        let mut k = 0;
        while self.constraint_taken(&name) || taken(&name) {
            k += 1;
            name = format!("{base}{k}");
        }
        name
    }

    fn apply(&mut self, a: &AlterAction, taken: &dyn Fn(&str) -> bool) -> Result<()> {
        match a {
            AlterAction::AddColumn { column, if_not_exists, checks, uniques, primary_key } => {
                if self.columns.iter().any(|c| c.name == column.name) {
                    let msg = format!(
                        "column \"{}\" of relation \"{}\" already exists",
                        column.name, self.name
                    );
                    if *if_not_exists {
                        self.notices.push(("42701", format!("{msg}, skipping")));
                        return Ok(());
                    }
                    return Err(err(ErrorKind::DuplicateColumn, msg));
                }
                let i = self.columns.len();
                self.columns.push(column.clone());
                self.srcs.push(Src::Fill(column.default.clone()));
                for (given, expr) in checks {
                    self.add_check(given.clone(), expr, Some(&column.name), taken)?;
                }
                for given in uniques {
                    self.add_unique(given.clone(), vec![i], taken)?;
                }
                if *primary_key {
                    self.add_primary_key(vec![i])?;
                }
            }
            AlterAction::DropColumn { name, if_exists, cascade } => {
                let Some(i) = self.columns.iter().position(|c| c.name == *name) else {
                    let msg =
                        format!("column \"{name}\" of relation \"{}\" does not exist", self.name);
                    if *if_exists {
                        self.notices.push(("00000", format!("{msg}, skipping")));
                        return Ok(());
                    }
                    return Err(err(ErrorKind::UndefinedColumn, msg));
                };
                self.drop_column_keys(i, *cascade)?;
                self.drop_column(i);
            }
            AlterAction::RenameColumn { old, new } => {
                let i = self.columns.iter().position(|c| c.name == *old).ok_or_else(|| {
                    err(ErrorKind::UndefinedColumn, format!("column \"{old}\" does not exist"))
                })?;
                if self.columns.iter().any(|c| c.name == *new) {
                    return Err(err(
                        ErrorKind::DuplicateColumn,
                        format!("column \"{new}\" of relation \"{}\" already exists", self.name),
                    ));
                }
                for k in &mut self.checks {
                    k.expr = rename_word(&k.expr, old, new);
                }
                self.columns[i].name = new.clone();
                self.touched.push(old.clone());
            }
            AlterAction::RenameTable(new) => {
                if taken(new) && *new != self.name {
                    return Err(err(
                        ErrorKind::DuplicateTable,
                        format!("relation \"{new}\" already exists"),
                    ));
                }
                self.rename_referenced(new);
                self.name = new.clone();
            }
            AlterAction::SetDefault { column, default } => {
                let i = self.position(column)?;
                if self.columns[i].identity.is_some() && default.is_some() {
                    return Err(err(
                        ErrorKind::SyntaxError,
                        format!(
                            "column \"{column}\" of relation \"{}\" is an identity column",
                            self.name
                        ),
                    )
                    .with_hint("Use ALTER TABLE ... ALTER COLUMN ... DROP IDENTITY instead."));
                }
                self.columns[i].default = default.clone();
            }
            AlterAction::SetNotNull { column, not_null } => {
                let i = self.position(column)?;
                if !not_null && self.primary_key.as_ref().is_some_and(|pk| pk.contains(&i)) {
                    return Err(err(
                        ErrorKind::InvalidTableDefinition,
                        format!("column \"{column}\" is in a primary key"),
                    ));
                }
                if !not_null && self.columns[i].identity.is_some() {
                    return Err(err(
                        ErrorKind::InvalidTableDefinition,
                        format!(
                            "column \"{column}\" of relation \"{}\" is an identity column",
                            self.name
                        ),
                    ));
                }
                self.columns[i].not_null = *not_null;
            }
            AlterAction::AddCheck { name, expr } => {
                self.add_check(name.clone(), expr, None, taken)?;
            }
            AlterAction::AddUnique { name, columns } => {
                let cols = self.key_positions(columns)?;
                self.add_unique(name.clone(), cols, taken)?;
            }
            AlterAction::AddPrimaryKey { columns } => {
                let cols = self.key_positions(columns)?;
                self.add_primary_key(cols)?;
            }
            AlterAction::AddForeignKey(fk) => self.add_foreign_key(fk, taken)?,
            AlterAction::DropConstraint { name, if_exists, cascade } => {
                self.drop_constraint(name, *if_exists, *cascade)?
            }
        }
        Ok(())
    }

    fn key_positions(&self, columns: &[String]) -> Result<Vec<usize>> {
        columns
            .iter()
            .map(|n| {
                self.columns.iter().position(|c| c.name == *n).ok_or_else(|| {
                    err(
                        ErrorKind::UndefinedColumn,
                        format!("column \"{n}\" named in key does not exist"),
                    )
                })
            })
            .collect()
    }

    fn add_check(
        &mut self,
        given: Option<String>,
        expr: &str,
        column: Option<&str>,
        taken: &dyn Fn(&str) -> bool,
    ) -> Result<()> {
        let name = match given {
            Some(n) => {
                if self.checks.iter().any(|k| k.name == n) || self.constraint_taken(&n) {
                    return Err(err(
                        ErrorKind::DuplicateObject,
                        format!("constraint \"{n}\" for relation \"{}\" already exists", self.name),
                    ));
                }
                n
            }
            None => {
                let used = match column {
                    Some(c) => vec![c.to_owned()],
                    None => columns_named(expr, &self.columns),
                };
                let base = match used.as_slice() {
                    [c] => format!("{}_{c}_check", self.name),
                    _ => format!("{}_check", self.name),
                };
                self.choose_name(base, taken)
            }
        };
        self.checks.push(CheckDef { name, expr: expr.to_owned() });
        Ok(())
    }

    fn add_unique(
        &mut self,
        given: Option<String>,
        columns: Vec<usize>,
        taken: &dyn Fn(&str) -> bool,
    ) -> Result<()> {
        let name = match given {
            Some(n) => {
                if taken(&n) || self.constraint_taken(&n) {
                    return Err(err(
                        ErrorKind::DuplicateTable,
                        format!("relation \"{n}\" already exists"),
                    ));
                }
                n
            }
            None => {
                let names: Vec<&str> =
                    columns.iter().map(|&i| self.columns[i].name.as_str()).collect();
                let base = generated_name(&self.name, &names, "key");
                self.choose_name(base, taken)
            }
        };
        self.indexes.push(IndexDef { name, columns, unique: true, constraint: true });
        Ok(())
    }

    fn add_primary_key(&mut self, columns: Vec<usize>) -> Result<()> {
        if self.primary_key.is_some() {
            return Err(err(
                ErrorKind::InvalidTableDefinition,
                format!("multiple primary keys for table \"{}\" are not allowed", self.name),
            ));
        }
        for &c in &columns {
            self.columns[c].not_null = true;
        }
        self.primary_key = Some(columns);
        Ok(())
    }

    /// Drops column `i` and what inside the table depends on it, as PostgreSQL does.
    fn drop_column(&mut self, i: usize) {
        let name = self.columns[i].name.clone();
        let checks = std::mem::take(&mut self.checks);
        self.checks = checks
            .into_iter()
            .filter(|k| !columns_named(&k.expr, &self.columns).contains(&name))
            .collect();
        self.indexes.retain(|ix| !ix.columns.contains(&i));
        if self.primary_key.as_ref().is_some_and(|pk| pk.contains(&i)) {
            self.primary_key = None;
        }
        let shift = |c: &mut usize| {
            if *c > i {
                *c -= 1;
            }
        };
        for ix in &mut self.indexes {
            ix.columns.iter_mut().for_each(shift);
        }
        if let Some(pk) = &mut self.primary_key {
            pk.iter_mut().for_each(shift);
        }
        self.columns.remove(i);
        self.srcs.remove(i);
        self.touched.push(name);
    }

    fn drop_constraint(&mut self, name: &str, if_exists: bool, cascade: bool) -> Result<()> {
        if let Some(k) = self.checks.iter().position(|k| k.name == name) {
            self.checks.remove(k);
        } else if let Some(f) = self.foreign_keys.iter().position(|f| f.name == name) {
            self.foreign_keys.remove(f);
        } else if let Some(x) = self.indexes.iter().position(|ix| ix.name == name && ix.constraint)
        {
            let columns = self.indexes[x].columns.clone();
            self.drop_key_dependents(name, &columns, cascade)?;
            self.indexes.remove(x);
        } else if self.primary_key.is_some() && name == format!("{}_pkey", self.old.name) {
            let columns = self.primary_key.clone().unwrap_or_default();
            self.drop_key_dependents(name, &columns, cascade)?;
            self.primary_key = None;
        } else {
            let msg = format!("constraint \"{name}\" of relation \"{}\" does not exist", self.name);
            if if_exists {
                self.notices.push(("00000", format!("{msg}, skipping")));
                return Ok(());
            }
            return Err(err(ErrorKind::UndefinedObject, msg));
        }
        Ok(())
    }
}

/// `text` (an expression) with the identifier `old` renamed to `new`.
pub fn rename_word(text: &str, old: &str, new: &str) -> String {
    let Ok(tokens) = Tokenizer::new(&PostgreSqlDialect {}, text).tokenize() else {
        return text.to_owned();
    };
    let mut out = String::with_capacity(text.len());
    for t in tokens {
        match t {
            Token::Word(w) if folded(&w) == old => {
                let plain =
                    new.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                        && !new.starts_with(|c: char| c.is_ascii_digit());
                if plain {
                    out.push_str(new);
                } else {
                    out.push('"');
                    out.push_str(&new.replace('"', "\"\""));
                    out.push('"');
                }
            }
            other => out.push_str(&other.to_string()),
        }
    }
    out
}

fn folded(w: &Word) -> String {
    if w.quote_style.is_some() {
        w.value.clone()
    } else {
        w.value.to_lowercase()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::catalog::TableId;

    fn table() -> TableDef {
        TableDef {
            id: TableId(1),
            oid: 16384,
            schema: "public".into(),
            name: "t".into(),
            columns: vec![
                Column::new("id", DataType::Int4, true),
                Column::new("a", DataType::Int4, false),
                Column::new("b", DataType::Int4, false),
            ],
            primary_key: Some(vec![0]),
            checks: vec![CheckDef { name: "t_a_check".into(), expr: "a > 0".into() }],
            indexes: vec![IndexDef {
                name: "t_b_key".into(),
                columns: vec![2],
                unique: true,
                constraint: true,
            }],
            foreign_keys: Vec::new(),
        }
    }

    fn run(actions: Vec<AlterAction>) -> Result<Altered> {
        let catalog = Catalog::new(Vec::new(), 0);
        let shown = crate::sql::pg_catalog::visibility::shown_on_public_path;
        apply_alter(&catalog, &SearchPath::public(), &table(), &actions, &|_| false, &shown)
    }

    #[test]
    fn dropping_a_column_takes_its_check_and_shifts_the_index() {
        let out = run(vec![AlterAction::DropColumn {
            name: "a".into(),
            if_exists: false,
            cascade: false,
        }])
        .unwrap();
        assert!(out.def.checks.is_empty());
        assert_eq!(out.def.indexes[0].columns, vec![1]);
        assert_eq!(out.sources, vec![Source::Old(0), Source::Old(2)]);
        assert!(!out.rekeyed(&table()));
    }

    #[test]
    fn dropping_the_key_column_drops_the_key() {
        let out = run(vec![AlterAction::DropColumn {
            name: "id".into(),
            if_exists: false,
            cascade: false,
        }])
        .unwrap();
        assert_eq!(out.def.primary_key, None);
        assert!(out.rekeyed(&table()));
    }

    #[test]
    fn renaming_a_column_renames_it_in_checks() {
        let out =
            run(vec![AlterAction::RenameColumn { old: "a".into(), new: "Z z".into() }]).unwrap();
        assert_eq!(out.def.checks[0].expr, "\"Z z\" > 0");
        assert_eq!(rename_word("A + \"a\" + aa", "a", "b"), "b + b + aa");
    }

    #[test]
    fn errors_and_notices_are_postgresqls() {
        let e = run(vec![AlterAction::DropColumn {
            name: "zz".into(),
            if_exists: false,
            cascade: false,
        }]);
        assert_eq!(e.unwrap_err().message, "column \"zz\" of relation \"t\" does not exist");
        let out = run(vec![AlterAction::DropConstraint {
            name: "x".into(),
            if_exists: true,
            cascade: false,
        }]);
        assert_eq!(out.unwrap().notices.len(), 1);
        let e = run(vec![AlterAction::AddPrimaryKey { columns: vec!["a".into()] }]);
        assert_eq!(e.unwrap_err().kind, ErrorKind::InvalidTableDefinition);
    }
}
