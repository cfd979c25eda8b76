//! Which relation an oid names, and whether it is *visible*: PostgreSQL's
//! `RelationIsVisible` (namespace.c), behind `pg_table_is_visible`, `regclass` output
//! and the names in messages and deparsed defaults.
//!
//! ```text
//!   search_path = s, public        s.t and public.t exist, public.u exists
//!     s.t       visible            the first `t` the path finds
//!     public.t  not visible        hidden by s.t           → printed `public.t`
//!     public.u  visible                                    → printed `u`
//!     x.v       not visible        x not in the path       → printed `x.v`
//! ```
//! A relation is visible when its schema is in the session's effective path and no
//! schema earlier in the path holds a relation (of any kind: table, view, index,
//! sequence) with the same name. pg_catalog's and information_schema's views count
//! as relations of those schemas.

use super::{oids, VirtualTable};
use crate::catalog::namespace::PG_CATALOG;
use crate::catalog::SearchPath;
use crate::engine::Engine;

/// (schema, name) of the relation with pg_class oid `oid`: a table, its primary-key
/// or secondary index, a sequence, a view, or a system view.
pub fn relation_of(engine: &Engine, oid: u32) -> Option<(String, String)> {
    for t in engine.catalog.all() {
        if t.oid == oid {
            return Some((t.schema.clone(), t.name.clone()));
        }
        if t.primary_key.is_some() && oids::pkey_index(t.oid) == oid {
            return Some((t.schema.clone(), t.pkey_name()));
        }
        if let Some(ix) = t.indexes.iter().enumerate().find(|(n, _)| oids::index(t.oid, *n) == oid)
        {
            return Some((t.schema.clone(), ix.1.name.clone()));
        }
    }
    if let Some(s) = engine.sequences.all().iter().find(|s| s.def.oid == oid) {
        return Some((s.def.schema.clone(), s.def.name.clone()));
    }
    if let Some(v) = engine.catalog.views().into_iter().find(|v| v.oid == oid) {
        return Some((v.schema.clone(), v.name.clone()));
    }
    system_relation(oid)
}

/// The system view with `oid`, as (schema, name).
fn system_relation(oid: u32) -> Option<(String, String)> {
    let name = super::regcast::system_view_name(oid)?;
    let schema = match VirtualTable::information_schema(name) {
        Some(v) if v.oid() == oid => "information_schema",
        _ => PG_CATALOG,
    };
    Some((schema.to_owned(), name.to_owned()))
}

/// Whether schema `schema` holds a relation of any kind called `name`.
pub fn holds_relation(engine: &Engine, schema: &str, name: &str) -> bool {
    match schema {
        PG_CATALOG => VirtualTable::by_name(name).is_some(),
        "information_schema" => VirtualTable::information_schema(name).is_some(),
        s => {
            engine.catalog.holds(s, name)
                || engine.sequences.get(s, name).is_some()
                || engine
                    .catalog
                    .all()
                    .iter()
                    .any(|t| t.schema == s && t.primary_key.is_some() && t.pkey_name() == name)
        }
    }
}

/// Whether relation `schema.name` is the first relation called `name` on `path`.
pub fn is_visible(engine: &Engine, path: &SearchPath, schema: &str, name: &str) -> bool {
    path.schemas().find(|s| holds_relation(engine, s, name)) == Some(schema)
}

/// A relation named as regclass input reads it (`s.t`, `"S".t`), printed as
/// [`shown_name`] prints it; an unqualified or malformed name as it is.
pub fn shown_text(engine: &Engine, path: &SearchPath, text: &str) -> String {
    let parts = crate::catalog::namespace::text_name_parts(text).unwrap_or_default();
    match crate::catalog::namespace::split_qualified(&parts, None) {
        Ok((Some(schema), name)) => shown_name(engine, path, schema, name),
        _ => text.to_owned(),
    }
}

/// For tests without an engine: a name as a session on path `public`, in a database
/// whose other schemas hold no name public holds, shows it.
#[cfg(test)]
pub fn shown_on_public_path(schema: &str, name: &str) -> String {
    let quote = super::funcs::quote_ident;
    if schema == crate::catalog::PUBLIC {
        quote(name)
    } else {
        format!("{}.{}", quote(schema), quote(name))
    }
}

/// The name as regclass output and PostgreSQL's messages print it: bare when
/// visible, schema-qualified otherwise (each part quoted where needed).
pub fn shown_name(engine: &Engine, path: &SearchPath, schema: &str, name: &str) -> String {
    let quote = super::funcs::quote_ident;
    if is_visible(engine, path, schema, name) {
        quote(name)
    } else {
        format!("{}.{}", quote(schema), quote(name))
    }
}
