//! `pg_catalog` views computed from the live catalog, so that clients' introspection
//! queries (pgbench's partition check, psql's `\dt \d \di \dn \du \l`, drivers) get
//! real answers.
//!
//! ```text
//!   Catalog (TableDef: columns, defaults, checks, primary key)
//!      │  rows::rows(view, catalog)           computed per scan, never stored
//!      ▼
//!   pg_class ─ pg_attribute ─ pg_attrdef ─ pg_index ─ pg_constraint ─ pg_type …
//! ```
//!
//! Each view lists its columns with PostgreSQL's types (`pg_node_tree` is served as
//! text, `aclitem[]` as `text[]`, `int2vector` as `int2[]`) and produces one row per
//! catalog object when scanned. Only the columns clients read are present; a query
//! naming another one gets 42703 like any unknown column. Catalogs troupe has nothing
//! for (policies, publications, extended statistics, inheritance) are served empty.
//!
//! Shortcuts, on purpose:
//! * Objects troupe's catalog has no oid for get one derived from their table's oid
//!   ([`oids`]): the primary-key index, its constraint, CHECK constraints, defaults.
//! * `pg_attrdef.adbin` holds the default's deparsed text (what `pg_get_expr` prints),
//!   not a node tree; `pg_get_expr` returns it as it is.

pub mod funcs;
pub mod infoschema;
pub mod oids;
pub mod regcast;
mod relations;
mod rows;
mod schema;
mod sequences;
pub mod settings;
mod viewdef;
pub mod visibility;

use crate::catalog::Catalog;
use crate::sequence::SequenceDef;
use crate::sql::expr::SessionFacts;
use crate::types::{DataType, Value};

/// What the views are computed from: the catalog, the sequences, the session.
pub struct Sources<'a> {
    /// Table definitions.
    pub catalog: &'a Catalog,
    /// Every live sequence's definition, by name.
    pub sequences: Vec<SequenceDef>,
    /// The scanning session.
    pub facts: &'a SessionFacts,
}

impl<'a> Sources<'a> {
    /// The sources a query in the session of `facts` sees.
    pub fn new(catalog: &'a Catalog, facts: &'a SessionFacts) -> Sources<'a> {
        let sequences = match &facts.sequences {
            Some(a) => a.engine.sequences.all().iter().map(|s| s.def.clone()).collect(),
            None => Vec::new(),
        };
        Sources { catalog, sequences, facts }
    }

    /// A regclass literal's relation (`s.t`) as the session prints it: bare where
    /// visible on its search path (`visibility.rs`).
    pub fn shown_regclass(&self, text: &str) -> String {
        match &self.facts.sequences {
            Some(a) => visibility::shown_text(&a.engine, &a.path, text),
            None => text.to_owned(),
        }
    }
}

/// A pg_catalog view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VirtualTable {
    /// pg_class: tables, their indexes, sequences, views.
    PgClass,
    /// pg_namespace: pg_catalog, public, information_schema.
    PgNamespace,
    /// pg_partitioned_table: empty (no partitioned tables).
    PgPartitionedTable,
    /// pg_inherits: empty (no inheritance).
    PgInherits,
    /// pg_database: postgres, template0, template1.
    PgDatabase,
    /// pg_attribute: user columns of every table.
    PgAttribute,
    /// pg_attrdef: column defaults.
    PgAttrdef,
    /// pg_type: the built-in types troupe knows, with PostgreSQL's oids.
    PgType,
    /// pg_index: primary-key and secondary indexes.
    PgIndex,
    /// pg_constraint: primary keys, UNIQUE, CHECK and FOREIGN KEY constraints.
    PgConstraint,
    /// pg_am: the access methods PostgreSQL ships.
    PgAm,
    /// pg_roles: the postgres superuser.
    PgRoles,
    /// pg_auth_members: empty.
    PgAuthMembers,
    /// pg_collation: default, C, POSIX.
    PgCollation,
    /// pg_policy: empty.
    PgPolicy,
    /// pg_views: each view's schema, name and owner (no `definition`: see
    /// `funcs::CatalogFunc::GetViewDef`).
    PgViews,
    /// pg_trigger: empty (foreign keys are checked without triggers; PostgreSQL's
    /// RI triggers are internal, which psql's `\d` does not list).
    PgTrigger,
    /// pg_statistic_ext: empty.
    PgStatisticExt,
    /// pg_publication: empty.
    PgPublication,
    /// pg_publication_namespace: empty.
    PgPublicationNamespace,
    /// pg_publication_rel: empty.
    PgPublicationRel,
    /// pg_settings: the session's settings.
    PgSettings,
    /// pg_sequence: each sequence's parameters.
    PgSequence,
    /// pg_depend: what psql asks of it, a sequence's dependency on the column that
    /// owns it (SERIAL 'a', identity 'i').
    PgDepend,
    /// pg_rewrite: each view's `_RETURN` rule.
    PgRewrite,
    /// pg_prepared_statements: the session's named prepared statements.
    PgPreparedStatements,
    /// A view of information_schema.
    Info(infoschema::InfoView),
}

impl VirtualTable {
    /// The view called `name` (unqualified, or qualified with `pg_catalog`).
    pub fn by_name(name: &str) -> Option<VirtualTable> {
        use VirtualTable::*;
        Some(match name {
            "pg_class" => PgClass,
            "pg_namespace" => PgNamespace,
            "pg_partitioned_table" => PgPartitionedTable,
            "pg_inherits" => PgInherits,
            "pg_database" => PgDatabase,
            "pg_attribute" => PgAttribute,
            "pg_attrdef" => PgAttrdef,
            "pg_type" => PgType,
            "pg_index" => PgIndex,
            "pg_constraint" => PgConstraint,
            "pg_am" => PgAm,
            "pg_roles" | "pg_authid" | "pg_user" => PgRoles,
            "pg_auth_members" => PgAuthMembers,
            "pg_collation" => PgCollation,
            "pg_policy" => PgPolicy,
            "pg_trigger" => PgTrigger,
            "pg_views" => PgViews,
            "pg_statistic_ext" => PgStatisticExt,
            "pg_publication" => PgPublication,
            "pg_publication_namespace" => PgPublicationNamespace,
            "pg_publication_rel" => PgPublicationRel,
            "pg_settings" => PgSettings,
            "pg_sequence" => PgSequence,
            "pg_depend" => PgDepend,
            "pg_rewrite" => PgRewrite,
            "pg_prepared_statements" => PgPreparedStatements,
            _ => return None,
        })
    }

    /// The information_schema view called `name`.
    pub fn information_schema(name: &str) -> Option<VirtualTable> {
        infoschema::InfoView::by_name(name).map(VirtualTable::Info)
    }

    /// The view's oid (as pg_class would list it).
    pub fn oid(self) -> u32 {
        use VirtualTable::*;
        match self {
            PgClass => 1259,
            PgNamespace => 2615,
            PgPartitionedTable => 3350,
            PgInherits => 2611,
            PgDatabase => 1262,
            PgAttribute => 1249,
            PgAttrdef => 2604,
            PgType => 1247,
            PgIndex => 2610,
            PgConstraint => 2606,
            PgAm => 2601,
            PgRoles => 12001,
            PgAuthMembers => 1261,
            PgCollation => 3456,
            PgPolicy => 3256,
            PgTrigger => 2620,
            PgViews => 12_058,
            PgStatisticExt => 3381,
            PgPublication => 6104,
            PgPublicationNamespace => 6237,
            PgPublicationRel => 6106,
            PgSettings => 12_300,
            PgSequence => 2224,
            PgDepend => 2608,
            PgRewrite => 2618,
            PgPreparedStatements => 12_095,
            Info(v) => v.oid(),
        }
    }

    /// Columns: name and type.
    pub fn columns(self) -> Vec<(&'static str, DataType)> {
        schema::columns(self)
    }

    /// The rows, from the catalog as it is now, as the session of `facts` sees them.
    pub fn rows(self, catalog: &Catalog, facts: &SessionFacts) -> Vec<Vec<Value>> {
        rows::rows(self, &Sources::new(catalog, facts))
    }
}
