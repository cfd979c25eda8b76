//! ALTER TABLE and foreign keys, sans IO: what an action does to the foreign keys the
//! table holds and to those that reference it from other tables.
//!
//! A foreign key names its columns by position and its parent by (schema, name), so:
//! ```text
//!   ADD FOREIGN KEY (c) REFERENCES p   bound against the working copy (a key added
//!                                       earlier in the statement counts), p looked
//!                                       up through the session's search_path; p joins
//!                                       `related` unchanged, to be moved with t
//!   DROP COLUMN c        of t's own key   the key goes with it, silently (PostgreSQL's
//!                                         auto dependency)
//!                        referenced       2BP01 "cannot drop column …", or CASCADE:
//!                                         the referencing keys go (NOTICE)
//!                        any other        referencing keys' positions shift
//!   DROP CONSTRAINT key  referenced       2BP01 "… depends on index …", or CASCADE
//!   RENAME TO n                           referencing keys (in any schema) name n,
//!                                         in the table's schema, as their parent
//! ```
//! Another table whose keys change joins `related` with its new definition; the
//! session moves every related table with the altered one (`session/alter.rs`).
//! A key depends on the parent's key with exactly its column set (troupe does not
//! record which index a key was bound to, as PostgreSQL's `conindid` does).

use sqlparser::ast;

use super::alter_apply::Work;
use super::foreign_key::{self, NewTable};
use super::ident;
use crate::catalog::{ForeignKeyDef, TableDef};
use crate::error::{Error, ErrorKind, Result};

/// PostgreSQL's 2BP01 for a drop that other objects depend on.
pub fn dependents_error(object: &str, detail: Vec<String>) -> Error {
    Error::new(
        ErrorKind::DependentObjectsStillExist,
        format!("cannot drop {object} because other objects depend on it"),
    )
    .with_detail(detail.join("\n"))
    .with_hint("Use DROP ... CASCADE to drop the dependent objects too.")
}

/// PostgreSQL's NOTICE for what a CASCADE dropped along: one line, or a count with
/// the list as its DETAIL (after the first newline, see `Session::flush_notices`).
pub fn cascade_notice(dropped: &[String]) -> (&'static str, String) {
    match dropped {
        [one] => ("00000", format!("drop cascades to {one}")),
        many => {
            let lines: Vec<String> = many.iter().map(|d| format!("drop cascades to {d}")).collect();
            (
                "00000",
                format!("drop cascades to {} other objects\n{}", many.len(), lines.join("\n")),
            )
        }
    }
}

/// A table's key in `Work::related`.
fn key_of(t: &TableDef) -> (String, String) {
    (t.schema.clone(), t.name.clone())
}

fn same_set(a: &[usize], b: &[usize]) -> bool {
    a.len() == b.len() && a.iter().all(|c| b.contains(c))
}

impl Work<'_> {
    /// The foreign keys that reference this table, as (holding table, key): its own
    /// self-references and other tables', as the statement has left them so far.
    fn referencing(&self) -> Vec<(String, ForeignKeyDef)> {
        let parent = self.old;
        let mut out: Vec<(String, ForeignKeyDef)> = self
            .foreign_keys
            .iter()
            .filter(|k| k.references(parent))
            .map(|k| ((self.shown)(&parent.schema, &self.name), k.clone()))
            .collect();
        for t in self.catalog.all() {
            if t.oid == parent.oid {
                continue;
            }
            let def: &TableDef = self.related.get(&key_of(&t)).unwrap_or(&t);
            for k in def.foreign_keys.iter().filter(|k| k.references(parent)) {
                out.push(((self.shown)(&def.schema, &def.name), k.clone()));
            }
        }
        out
    }

    /// Rewrites every foreign key that references this table with `f` (`None` drops
    /// it); another table so changed joins `related` with its new definition.
    fn edit_referencing(&mut self, f: &dyn Fn(&ForeignKeyDef) -> Option<ForeignKeyDef>) {
        let parent = self.old;
        let edit = |fks: &mut Vec<ForeignKeyDef>| {
            let before = std::mem::take(fks);
            *fks = before
                .iter()
                .filter_map(|k| if k.references(parent) { f(k) } else { Some(k.clone()) })
                .collect();
            *fks != before
        };
        edit(&mut self.foreign_keys);
        for t in self.catalog.all() {
            if t.oid == parent.oid || !t.foreign_keys.iter().any(|k| k.references(parent)) {
                continue;
            }
            let key = key_of(&t);
            let known = self.related.contains_key(&key);
            let mut def = self.related.remove(&key).unwrap_or_else(|| (*t).clone());
            if edit(&mut def.foreign_keys) || known {
                self.related.insert(key, def);
            }
        }
    }

    /// Before `object` ("column u of table p", "constraint p_pkey on table p") is
    /// dropped: the referencing keys that `doomed` picks depend on it as `what`
    /// ("column u of table p", "index p_pkey"): 2BP01, or under CASCADE they go too.
    pub(super) fn drop_dependents(
        &mut self,
        object: &str,
        what: &str,
        cascade: bool,
        doomed: &dyn Fn(&ForeignKeyDef) -> bool,
    ) -> Result<()> {
        let deps: Vec<String> = self
            .referencing()
            .into_iter()
            .filter(|(_, k)| doomed(k))
            .map(|(t, k)| format!("constraint {} on table {t}", k.name))
            .collect();
        if deps.is_empty() {
            return Ok(());
        }
        if !cascade {
            let detail = deps.iter().map(|d| format!("{d} depends on {what}")).collect();
            return Err(dependents_error(object, detail));
        }
        self.notices.push(cascade_notice(&deps));
        self.edit_referencing(&|k| (!doomed(k)).then(|| k.clone()));
        Ok(())
    }

    /// DROP COLUMN `i`, the foreign-key side: the table's own keys on it go, keys
    /// referencing it are `drop_dependents`, the others' positions shift.
    pub(super) fn drop_column_keys(&mut self, i: usize, cascade: bool) -> Result<()> {
        self.foreign_keys.retain(|k| !k.columns.contains(&i));
        let table = (self.shown)(&self.old.schema, &self.name);
        let object = format!("column {} of table {table}", self.columns[i].name);
        self.drop_dependents(&object, &object, cascade, &|k| k.parent_columns.contains(&i))?;
        let shift = |c: &mut usize| {
            if *c > i {
                *c -= 1;
            }
        };
        for k in &mut self.foreign_keys {
            k.columns.iter_mut().for_each(shift);
        }
        self.edit_referencing(&|k| {
            let mut k = k.clone();
            k.parent_columns.iter_mut().for_each(shift);
            Some(k)
        });
        Ok(())
    }

    /// DROP CONSTRAINT of the primary key or a UNIQUE constraint on `columns`.
    pub(super) fn drop_key_dependents(
        &mut self,
        name: &str,
        columns: &[usize],
        cascade: bool,
    ) -> Result<()> {
        let table = (self.shown)(&self.old.schema, &self.name);
        let object = format!("constraint {name} on table {table}");
        let what = format!("index {name}");
        self.drop_dependents(&object, &what, cascade, &|k| same_set(&k.parent_columns, columns))
    }

    /// RENAME TO `new`: the keys that reference the table (in their schema) follow.
    pub(super) fn rename_referenced(&mut self, new: &str) {
        let schema = &self.old.schema;
        self.edit_referencing(&|k| {
            Some(ForeignKeyDef {
                parent_schema: schema.clone(),
                parent: new.to_owned(),
                ..k.clone()
            })
        });
    }

    /// ADD [CONSTRAINT name] FOREIGN KEY …, bound against the working copy.
    pub(super) fn add_foreign_key(
        &mut self,
        fk: &ast::ForeignKeyConstraint,
        taken: &dyn Fn(&str) -> bool,
    ) -> Result<()> {
        if let Some(n) = fk.name.as_ref().map(ident) {
            if self.constraint_taken(&n) {
                return Err(Error::new(
                    ErrorKind::DuplicateObject,
                    format!("constraint \"{n}\" for relation \"{}\" already exists", self.name),
                ));
            }
        }
        let new = NewTable {
            schema: &self.old.schema,
            name: &self.name,
            columns: &self.columns,
            primary_key: self.primary_key.as_deref(),
            indexes: &self.indexes,
        };
        let mut def = foreign_key::bind(self.catalog, self.path, &new, fk, None)?;
        if fk.name.is_none() {
            def.name = self.choose_name(def.name, taken);
        }
        let parent = (def.parent_schema.clone(), def.parent.clone());
        let own = def.parent_schema == self.old.schema && def.parent == self.name;
        if !own && !self.related.contains_key(&parent) {
            // bind found it: the parent is in the catalog.
            if let Some(p) = self.catalog.table(&parent.0, &parent.1) {
                self.related.insert(parent, (*p).clone());
            }
        }
        self.added_foreign_keys.push(def.name.clone());
        self.foreign_keys.push(def);
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::alter::AlterAction;
    use super::super::alter_apply::apply_alter;
    use crate::catalog::{Catalog, Column, FkAction, IndexDef, SearchPath, TableDef, TableId};
    use crate::error::ErrorKind;
    use crate::types::DataType;

    /// public.p(id, v, u UNIQUE) and s.c(id, p_u) with c_p_u_fkey → public.p(u); s.p, a
    /// table of the same name in another schema, with s.d's key d_p_fkey → s.p(u).
    fn catalog() -> Catalog {
        let int = |n: &str| Column::new(n, DataType::Int4, false);
        let p = TableDef {
            id: TableId(1),
            oid: 16384,
            schema: "public".into(),
            name: "p".into(),
            columns: vec![int("id"), int("v"), int("u")],
            primary_key: Some(vec![0]),
            checks: Vec::new(),
            indexes: vec![IndexDef {
                name: "p_u_key".into(),
                columns: vec![2],
                unique: true,
                constraint: true,
            }],
            foreign_keys: Vec::new(),
        };
        let fk = |name: &str, schema: &str| crate::catalog::ForeignKeyDef {
            name: name.into(),
            columns: vec![1],
            parent_schema: schema.into(),
            parent: "p".into(),
            parent_columns: vec![2],
            on_delete: FkAction::NoAction,
            on_update: FkAction::NoAction,
        };
        let sp = TableDef { id: TableId(3), oid: 16400, schema: "s".into(), ..p.clone() };
        let d = TableDef {
            id: TableId(4),
            oid: 16410,
            schema: "s".into(),
            name: "d".into(),
            columns: vec![int("id"), int("p_u")],
            primary_key: Some(vec![0]),
            checks: Vec::new(),
            indexes: Vec::new(),
            foreign_keys: vec![fk("d_p_fkey", "s")],
        };
        let c = TableDef {
            id: TableId(2),
            oid: 16390,
            schema: "s".into(),
            name: "c".into(),
            columns: vec![int("id"), int("p_u")],
            primary_key: Some(vec![0]),
            checks: Vec::new(),
            indexes: Vec::new(),
            foreign_keys: vec![fk("c_p_u_fkey", "public")],
        };
        Catalog::new(vec![p, c, sp, d], 4)
    }

    fn alter_p(actions: Vec<AlterAction>) -> crate::error::Result<super::super::Altered> {
        let catalog = catalog();
        let p = catalog.table("public", "p").unwrap();
        let shown = crate::sql::pg_catalog::visibility::shown_on_public_path;
        apply_alter(&catalog, &SearchPath::public(), &p, &actions, &|_| false, &shown)
    }

    #[test]
    fn a_referenced_column_goes_only_with_cascade() {
        let drop =
            |cascade| AlterAction::DropColumn { name: "u".into(), if_exists: false, cascade };
        let e = alter_p(vec![drop(false)]).unwrap_err();
        assert_eq!(e.kind, ErrorKind::DependentObjectsStillExist);
        assert_eq!(e.message, "cannot drop column u of table p because other objects depend on it");
        assert_eq!(
            e.detail.as_deref(),
            Some("constraint c_p_u_fkey on table s.c depends on column u of table p")
        );
        let out = alter_p(vec![drop(true)]).unwrap();
        assert_eq!(out.notices[0].1, "drop cascades to constraint c_p_u_fkey on table s.c");
        assert!(out.related[0].foreign_keys.is_empty());
    }

    #[test]
    fn referencing_keys_follow_a_shift_and_a_rename() {
        let out = alter_p(vec![AlterAction::DropColumn {
            name: "v".into(),
            if_exists: false,
            cascade: false,
        }])
        .unwrap();
        assert_eq!(out.related[0].foreign_keys[0].parent_columns, vec![1]);
        let out = alter_p(vec![AlterAction::RenameTable("q".into())]).unwrap();
        // Only public.p's child follows, not s.d (whose parent is s.p).
        assert_eq!(out.related.len(), 1);
        let k = &out.related[0].foreign_keys[0];
        assert_eq!((k.parent_schema.as_str(), k.parent.as_str()), ("public", "q"));
    }

    #[test]
    fn a_referenced_key_goes_only_with_cascade() {
        let drop = |cascade| AlterAction::DropConstraint {
            name: "p_u_key".into(),
            if_exists: false,
            cascade,
        };
        let e = alter_p(vec![drop(false)]).unwrap_err();
        assert_eq!(
            e.detail.as_deref(),
            Some("constraint c_p_u_fkey on table s.c depends on index p_u_key")
        );
        assert!(alter_p(vec![drop(true)]).unwrap().related[0].foreign_keys.is_empty());
        // The primary key is referenced by nobody: it goes without CASCADE.
        let out = alter_p(vec![AlterAction::DropConstraint {
            name: "p_pkey".into(),
            if_exists: false,
            cascade: false,
        }]);
        assert!(out.unwrap().related.is_empty());
    }
}
