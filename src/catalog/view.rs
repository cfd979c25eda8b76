//! Views: a name for a query, kept as SQL text and expanded where it is used.
//!
//! ```text
//!   CREATE VIEW v (x) AS SELECT a FROM t
//!     catalog key  view/v  (view/<schema>\0v outside public)
//!     value        "view1" \n oid \n name \n sql \n
//!                  one line per column: name \t query's own column name \t type oid \t typmod
//!                  then "d" lines: d \t relation the query reads \t its schema
//!                  n \t schema;  p \t search_path schemas at creation (tab-separated)
//! ```
//! (`n`, `p` and the schema of `d` came later without a new tag: a view without them
//! is in public, reads relations in public and binds its text with path `public`.)
//!
//! PostgreSQL resolves a view's names once, at creation. troupe keeps the text, the
//! search path it was created under and the relations it read (`depends`), and binds
//! the text again with them (`planner/view.rs`): an unqualified name stands for the
//! relation of that name it read that comes first on the stored path, which is the
//! one the name found at creation (every relation it read existed then, and the
//! name found the first of them). So neither a later `search_path` nor a relation
//! created later, earlier on the path and with the same name, changes what the view
//! reads:
//!
//! ```text
//!   SET search_path = s, public;  CREATE VIEW v AS SELECT * FROM t   (only public.t)
//!     depends  (public, t)          path  s, public
//!   CREATE TABLE s.t …              v still reads public.t: s.t is not among depends
//! ```
//! (Names that read no stored relation — pg_catalog's views — are looked up on the
//! stored path.)
//! PostgreSQL stores a view as a rewrite rule over a parsed query tree that names
//! columns by number; troupe stores the query's text and binds it again each time a
//! statement uses the view (`planner/view.rs`). The columns are fixed at creation, as
//! PostgreSQL fixes them (`SELECT *` does not grow when the table does): expansion
//! picks the recorded columns out of what the text gives today. What the query reads
//! is recorded (`depends`), so that DROP TABLE / DROP VIEW and ALTER TABLE can refuse
//! to break it, with PostgreSQL's 2BP01.

use super::encoding::{escape, unescape};
use super::{type_with_modifier, PUBLIC};
use crate::error::{Error, Result};
use crate::types::DataType;

/// One column of a view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewColumn {
    /// The view's name for it (the column list's, else the query's).
    pub name: String,
    /// The query's own name for it (what expansion looks for).
    pub source: String,
    /// Type with modifier.
    pub ty: DataType,
}

/// A view definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewDef {
    /// pg_class oid.
    pub oid: u32,
    /// Its schema.
    pub schema: String,
    /// Name (case-folded).
    pub name: String,
    /// The creator's search path: which of `depends` an unqualified name stands for.
    pub path: Vec<String>,
    /// The query, as SQL text.
    pub sql: String,
    /// Output columns.
    pub columns: Vec<ViewColumn>,
    /// Tables and views the query reads, by (schema, name).
    pub depends: Vec<(String, String)>,
}

/// The catalog key of a view.
pub fn view_key(schema: &str, name: &str) -> Vec<u8> {
    super::relation_key("view", schema, name)
}

/// The catalog key prefix of views.
pub const VIEW_KEY_PREFIX: &[u8] = b"view/";

impl ViewDef {
    /// Serialises the definition (format `view1`).
    pub fn encode(&self) -> Vec<u8> {
        let mut out =
            format!("view1\n{}\n{}\n{}\n", self.oid, escape(&self.name), escape(&self.sql));
        for c in &self.columns {
            out.push_str(&format!(
                "c\t{}\t{}\t{}\t{}\n",
                escape(&c.name),
                escape(&c.source),
                c.ty.oid(),
                c.ty.type_modifier()
            ));
        }
        for (schema, rel) in &self.depends {
            out.push_str(&format!("d\t{}\t{}\n", escape(rel), escape(schema)));
        }
        out.push_str(&format!("n\t{}\n", escape(&self.schema)));
        let path: Vec<String> = self.path.iter().map(|s| escape(s)).collect();
        out.push_str(&format!("p{}\n", path.iter().map(|s| format!("\t{s}")).collect::<String>()));
        out.into_bytes()
    }

    /// Inverse of [`ViewDef::encode`].
    pub fn decode(bytes: &[u8]) -> Result<ViewDef> {
        let text = std::str::from_utf8(bytes).map_err(|_| bad())?;
        let mut lines = text.lines();
        if lines.next() != Some("view1") {
            return Err(bad());
        }
        let oid = lines.next().and_then(|l| l.parse().ok()).ok_or_else(bad)?;
        let name = unescape(lines.next().ok_or_else(bad)?)?;
        let sql = unescape(lines.next().ok_or_else(bad)?)?;
        let mut def = ViewDef {
            oid,
            schema: PUBLIC.to_owned(),
            name,
            path: vec![PUBLIC.to_owned()],
            sql,
            columns: Vec::new(),
            depends: Vec::new(),
        };
        for line in lines {
            match line.split('\t').collect::<Vec<_>>().as_slice() {
                ["c", name, source, ty, typmod] => {
                    let oid: u32 = ty.parse().map_err(|_| bad())?;
                    let typmod: i32 = typmod.parse().map_err(|_| bad())?;
                    def.columns.push(ViewColumn {
                        name: unescape(name)?,
                        source: unescape(source)?,
                        ty: type_with_modifier(oid, typmod).ok_or_else(bad)?,
                    });
                }
                ["d", rel] => def.depends.push((PUBLIC.to_owned(), unescape(rel)?)),
                ["d", rel, schema] => def.depends.push((unescape(schema)?, unescape(rel)?)),
                ["n", schema] => def.schema = unescape(schema)?,
                ["p", path @ ..] => {
                    def.path = path.iter().map(|s| unescape(s)).collect::<Result<_>>()?
                }
                _ => return Err(bad()),
            }
        }
        Ok(def)
    }
}

fn bad() -> Error {
    Error::internal("corrupt view definition in the catalog")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_view_round_trips_and_garbage_is_an_error() {
        let v = ViewDef {
            oid: 16400,
            schema: "s".into(),
            name: "v".into(),
            path: vec!["s".into(), "public".into()],
            sql: "SELECT a,\n\tb FROM t".into(),
            columns: vec![ViewColumn { name: "x".into(), source: "a".into(), ty: DataType::Int4 }],
            depends: vec![("public".into(), "t".into())],
        };
        assert_eq!(ViewDef::decode(&v.encode()).unwrap(), v);
        let empty_path = ViewDef { path: Vec::new(), ..v };
        assert_eq!(ViewDef::decode(&empty_path.encode()).unwrap(), empty_path);
        let old = ViewDef::decode(b"view1\n1\nv\nSELECT 1\nd\tt\n").unwrap();
        assert_eq!((old.schema.as_str(), old.path.clone()), ("public", vec!["public".into()]));
        assert_eq!(old.depends, vec![("public".to_owned(), "t".to_owned())]);
        assert!(ViewDef::decode(b"view1\n1\n").is_err());
        assert!(ViewDef::decode(b"view2\n").is_err());
    }
}
