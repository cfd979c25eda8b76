//! The functions catalog queries call: `format_type`, `pg_get_expr`,
//! `pg_get_indexdef`, `pg_get_constraintdef`, `pg_get_userbyid`,
//! `pg_table_is_visible`, `array_to_string`, `array_upper`, `current_setting`, …
//!
//! Those that describe a catalog object by oid read the catalog through the session's
//! engine; the derived oids of [`super::oids`] say which object an oid names.

use super::oids::{self, Derived};
use super::regcast::{reg_in, reg_out, RegKind};
use super::relations::{column_list, foreign_key_def, index_def, secondary};
use super::rows::{type_row, POSTGRES_ROLE_OID};
use super::visibility::{is_visible, relation_of, shown_name};
use crate::catalog::{
    type_with_modifier, Catalog, SearchPath, TableDef, PG_CATALOG_NAMESPACE_OID,
    PUBLIC_NAMESPACE_OID,
};
use crate::engine::Engine;
use crate::error::{Error, ErrorKind, Result};
use crate::sql::expr::SessionFacts;
use crate::types::{DataType, Value};

/// A catalog function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatalogFunc {
    /// pg_get_userbyid(oid) → name.
    GetUserById,
    /// pg_encoding_to_char(int4) → name.
    EncodingToChar,
    /// pg_table_is_visible(oid) → bool: the relation is the first of its name on the
    /// search path (`visibility.rs`); NULL for an oid that names none.
    TableIsVisible,
    /// pg_type_is_visible(oid) → bool.
    TypeIsVisible,
    /// format_type(oid, int4) → text.
    FormatType,
    /// pg_get_expr(pg_node_tree, oid [, bool]) → text.
    GetExpr,
    /// pg_get_indexdef(oid [, int4, bool]) → text.
    GetIndexDef,
    /// pg_get_constraintdef(oid [, bool]) → text.
    GetConstraintDef,
    /// pg_get_statisticsobjdef_columns(oid) → text (no statistics objects: NULL).
    StatisticsObjDefColumns,
    /// pg_relation_is_publishable(regclass) → bool (no publications: false).
    RelationIsPublishable,
    /// pg_partition_ancestors(regclass) → setof regclass: no rows, since troupe has no
    /// partitions (the planner makes a FROM-less SELECT of it return no rows:
    /// `srf::returns_no_rows`); as a scalar it would be NULL.
    PartitionAncestors,
    /// pg_get_triggerdef(oid [, bool]) → text (no triggers: NULL).
    GetTriggerDef,
    /// pg_get_viewdef(oid | text [, bool | int4]): the view's query deparsed as
    /// PostgreSQL prints it (`viewdef.rs`; 0A000 for what it cannot deparse).
    GetViewDef,
    /// pg_get_ruledef(oid [, bool]) → text: a view's `_RETURN` rule (pg_rewrite),
    /// its query deparsed as `pg_get_viewdef` does.
    GetRuleDef,
    /// col_description(oid, int4) → text: NULL (troupe has no COMMENT ON).
    ColDescription,
    /// obj_description(oid [, name]) → text: initdb's comments on the built-in
    /// schemas, NULL for everything else (troupe has no COMMENT ON).
    ObjDescription,
    /// array_to_string(anyarray, text [, text]) → text.
    ArrayToString,
    /// array_upper(anyarray, int4) → int4.
    ArrayUpper,
    /// array_lower(anyarray, int4) → int4.
    ArrayLower,
    /// text → regclass / regtype / regnamespace (the input function); `true`:
    /// to_regclass & co., NULL for a name that names nothing.
    RegIn(RegKind, bool),
    /// regclass / regtype / regnamespace → text (the output function).
    RegOut(RegKind),
    /// current_setting(name [, missing_ok]) → text.
    CurrentSetting,
    /// set_config(name, value, is_local) → text; only as a statement of its own
    /// (`SELECT set_config(…)`, see `settings::plan_set_config`), refused elsewhere.
    SetConfig,
    /// text ~ pattern (textregexeq), `negated` for !~, `icase` for ~* and !~*.
    RegexMatch {
        /// `!~`, `!~*`.
        negated: bool,
        /// `~*`, `!~*`.
        icase: bool,
    },
}

/// (function, result type, the type each argument is cast to).
pub type Resolved = (CatalogFunc, DataType, Vec<Option<DataType>>);

impl CatalogFunc {
    /// Resolves `name(args)` if it is a catalog function.
    pub fn resolve(name: &str, args: &[DataType]) -> Option<Resolved> {
        use CatalogFunc as C;
        use DataType::*;
        let oid = || Some(Oid);
        let n = args.len();
        Some(match (name, n) {
            ("pg_get_userbyid", 1) => (C::GetUserById, Name, vec![oid()]),
            ("pg_encoding_to_char", 1) => (C::EncodingToChar, Name, vec![Some(Int4)]),
            ("pg_table_is_visible", 1) => (C::TableIsVisible, Bool, vec![oid()]),
            ("pg_type_is_visible", 1) => (C::TypeIsVisible, Bool, vec![oid()]),
            ("format_type", 2) => (C::FormatType, Text, vec![oid(), Some(Int4)]),
            ("pg_get_expr", 2 | 3) => {
                (C::GetExpr, Text, vec![Some(Text), oid(), Some(Bool)][..n].to_vec())
            }
            ("pg_get_indexdef", 1 | 3) => {
                (C::GetIndexDef, Text, vec![oid(), Some(Int4), Some(Bool)][..n].to_vec())
            }
            ("pg_get_constraintdef", 1 | 2) => {
                (C::GetConstraintDef, Text, vec![oid(), Some(Bool)][..n].to_vec())
            }
            ("pg_get_statisticsobjdef_columns", 1) => {
                (C::StatisticsObjDefColumns, Text, vec![oid()])
            }
            ("pg_relation_is_publishable", 1) => (C::RelationIsPublishable, Bool, vec![oid()]),
            ("pg_get_triggerdef", 1 | 2) => {
                (C::GetTriggerDef, Text, vec![oid(), Some(Bool)][..n].to_vec())
            }
            ("pg_get_viewdef", 1 | 2) => (C::GetViewDef, Text, vec![None, None][..n].to_vec()),
            ("pg_partition_ancestors", 1) => (C::PartitionAncestors, Regclass, vec![oid()]),
            ("pg_get_ruledef", 1 | 2) => {
                (C::GetRuleDef, Text, vec![oid(), Some(Bool)][..n].to_vec())
            }
            ("col_description", 2) => (C::ColDescription, Text, vec![oid(), Some(Int4)]),
            ("obj_description", 1 | 2) => {
                (C::ObjDescription, Text, vec![oid(), Some(Name)][..n].to_vec())
            }
            ("array_to_string", 2 | 3) if matches!(args[0], Array(_) | Unknown) => {
                (C::ArrayToString, Text, vec![None, Some(Text), Some(Text)][..n].to_vec())
            }
            ("array_upper", 2) if matches!(args[0], Array(_)) => {
                (C::ArrayUpper, Int4, vec![None, Some(Int4)])
            }
            ("array_lower", 2) if matches!(args[0], Array(_)) => {
                (C::ArrayLower, Int4, vec![None, Some(Int4)])
            }
            ("current_setting", 1 | 2) => {
                (C::CurrentSetting, Text, vec![Some(Text), Some(Bool)][..n].to_vec())
            }
            ("set_config", 3) => (C::SetConfig, Text, vec![Some(Text), Some(Text), Some(Bool)]),
            ("to_regclass", 1) => (C::RegIn(RegKind::Class, true), Regclass, vec![Some(Text)]),
            ("to_regtype", 1) => (C::RegIn(RegKind::Type, true), Regtype, vec![Some(Text)]),
            ("to_regnamespace", 1) => {
                (C::RegIn(RegKind::Namespace, true), Regnamespace, vec![Some(Text)])
            }
            ("textregexeq" | "textregexne" | "texticregexeq" | "texticregexne", 2) => (
                C::RegexMatch { negated: name.ends_with("ne"), icase: name.contains("ic") },
                Bool,
                vec![Some(Text), Some(Text)],
            ),
            _ => return None,
        })
    }

    /// Calls the function in the session of `facts` (whose engine holds the live
    /// catalog; none outside a session).
    pub fn call(self, args: &[Value], facts: &SessionFacts) -> Result<Value> {
        let engine: Option<&Engine> = facts.sequences.as_ref().map(|a| &*a.engine);
        let catalog = engine.map(|e| &e.catalog);
        if let C::CurrentSetting = self {
            return super::settings::current_setting(args, facts.settings.as_ref());
        }
        use CatalogFunc as C;
        let strict = !matches!(self, C::ArrayToString | C::SetConfig);
        // format_type is strict in its type only: a NULL typmod is "no modifier".
        let nulls = if self == C::FormatType { &args[..1] } else { args };
        if strict && nulls.iter().any(Value::is_null) {
            return Ok(Value::Null);
        }
        let oid = |i: usize| match args.get(i) {
            Some(Value::Oid(o)) => *o,
            _ => 0,
        };
        let public = SearchPath::public();
        let path = facts.sequences.as_ref().map_or(&public, |a| &a.path);
        Ok(match self {
            C::GetUserById => Value::Text(if oid(0) == POSTGRES_ROLE_OID {
                "postgres".to_owned()
            } else if oid(0) == super::rows::PG_DATABASE_OWNER_OID {
                "pg_database_owner".to_owned()
            } else {
                format!("unknown (OID={})", oid(0))
            }),
            C::EncodingToChar => Value::Text(match args[0] {
                Value::Int4(6) => "UTF8".to_owned(),
                Value::Int4(0) => "SQL_ASCII".to_owned(),
                _ => String::new(),
            }),
            C::TableIsVisible => match engine.and_then(|e| Some((e, relation_of(e, oid(0))?))) {
                Some((e, (schema, name))) => Value::Bool(is_visible(e, path, &schema, &name)),
                None => Value::Null,
            },
            C::TypeIsVisible => match type_row(oid(0)) {
                // Every type troupe has is a built-in one, in pg_catalog.
                Some(_) => Value::Bool(true),
                None => Value::Null,
            },
            C::FormatType => {
                let typmod = match args[1] {
                    Value::Int4(m) => m,
                    _ => -1,
                };
                Value::Text(format_type(oid(0), typmod))
            }
            C::GetExpr => args[0].clone(),
            C::GetIndexDef => {
                let column = match args.get(1) {
                    Some(Value::Int4(n)) => *n,
                    _ => 0,
                };
                let pretty = matches!(args.get(2), Some(Value::Bool(true)));
                indexdef(lookup(catalog, oid(0)), column, pretty, Shown { engine, path })
            }
            C::GetConstraintDef => {
                constraintdef(catalog, lookup(catalog, oid(0)), Shown { engine, path })
            }
            C::RegIn(kind, missing_ok) => match &args[0] {
                Value::Text(name) => reg_in(kind, name, engine, path, missing_ok)?,
                _ => Value::Null,
            },
            C::RegOut(kind) => Value::Text(reg_out(kind, oid(0), engine, path)),
            C::StatisticsObjDefColumns => Value::Null,
            C::CurrentSetting => Value::Null,
            C::SetConfig => return Err(super::settings::set_config_refused()),
            C::RelationIsPublishable => Value::Bool(false),
            C::PartitionAncestors | C::GetTriggerDef | C::ColDescription => Value::Null,
            C::GetRuleDef => {
                let pretty = matches!(args.get(1), Some(Value::Bool(true)));
                let view = catalog
                    .and_then(|c| c.views().into_iter().find(|v| oids::rule(v.oid) == oid(0)));
                match (view, catalog) {
                    (Some(v), Some(c)) => {
                        // Not pretty: always qualified (generate_qualified_relation_name).
                        let shown = Shown { engine, path };
                        let to = if pretty {
                            shown.name(&v.schema, &v.name)
                        } else {
                            format!("{}.{}", quote_ident(&v.schema), quote_ident(&v.name))
                        };
                        let query =
                            super::viewdef::viewdef(c, &v, pretty, &|s, n| shown.name(s, n))?;
                        Value::Text(format!(
                            "CREATE RULE \"_RETURN\" AS\n    ON SELECT TO {to} DO INSTEAD {query}"
                        ))
                    }
                    _ => Value::Null,
                }
            }
            C::ObjDescription => {
                let namespace = matches!(args.get(1), None | Some(Value::Text(_)))
                    && args.get(1).is_none_or(|c| *c == Value::Text("pg_namespace".into()));
                match oid(0) {
                    PG_CATALOG_NAMESPACE_OID if namespace => {
                        Value::Text("system catalog schema".into())
                    }
                    PUBLIC_NAMESPACE_OID if namespace => {
                        Value::Text("standard public schema".into())
                    }
                    _ => Value::Null,
                }
            }
            C::GetViewDef => {
                let view = match (&args[0], catalog) {
                    (Value::Oid(o), Some(c)) => c.views().into_iter().find(|v| v.oid == *o),
                    (Value::Text(name), Some(c)) => {
                        // The name is looked up as regclass input is (42P01 if none).
                        match reg_in(RegKind::Class, name, engine, path, false)? {
                            Value::Oid(o) => c.views().into_iter().find(|v| v.oid == o),
                            _ => None,
                        }
                    }
                    _ => None,
                };
                // pretty: `true`, or a wrap column (an int4).
                let pretty = matches!(args.get(1), Some(Value::Bool(true) | Value::Int4(_)));
                match (view, catalog) {
                    (Some(v), Some(c)) => {
                        let shown = Shown { engine, path };
                        Value::Text(super::viewdef::viewdef(c, &v, pretty, &|s, n| {
                            shown.name(s, n)
                        })?)
                    }
                    _ => Value::Null,
                }
            }
            C::ArrayToString => array_to_string(args, facts.zone())?,
            C::RegexMatch { negated, icase } => match (&args[0], &args[1]) {
                (Value::Text(s), Value::Text(p)) => {
                    Value::Bool(regex_match(s, p, icase)? != negated)
                }
                _ => Value::Null,
            },
            C::ArrayUpper | C::ArrayLower => match (&args[0], &args[1]) {
                (Value::Array(items), Value::Int4(1)) if !items.is_empty() => {
                    Value::Int4(if self == C::ArrayUpper { items.len() as i32 } else { 1 })
                }
                _ => Value::Null,
            },
        })
    }
}

/// `format_type(oid, typmod)`: PostgreSQL's SQL name for a type.
pub fn format_type(oid: u32, typmod: i32) -> String {
    match type_with_modifier(oid, typmod) {
        Some(t) => t.display_name(),
        None => match type_row(oid) {
            Some(r) => r.1.to_owned(),
            None => "???".to_owned(),
        },
    }
}

/// `pg_get_indexdef(oid, column, pretty)`: the CREATE INDEX statement, or with
/// `column` > 0 that key column's name; NULL for an oid that names no index.
fn indexdef(
    found: Option<(std::sync::Arc<TableDef>, Derived)>,
    column: i32,
    pretty: bool,
    shown: Shown<'_>,
) -> Value {
    let Some((t, d)) = found else { return Value::Null };
    let (name, columns, unique) = match d {
        Derived::PkeyIndex(_) => match &t.primary_key {
            Some(key) => (t.pkey_name(), key.clone(), true),
            None => return Value::Null,
        },
        Derived::Index(_, n) => match secondary(&t, n) {
            Some(ix) => (ix.name.clone(), ix.columns.clone(), ix.unique),
            None => return Value::Null,
        },
        _ => return Value::Null,
    };
    if column > 0 {
        return match columns.get(column as usize - 1) {
            Some(&c) => Value::Text(column_list(&t, &[c])),
            None => Value::Text(String::new()),
        };
    }
    let table = if pretty {
        shown.name(&t.schema, &t.name)
    } else {
        format!("{}.{}", quote_ident(&t.schema), quote_ident(&t.name))
    };
    Value::Text(index_def(&t, &name, &columns, unique, &table))
}

/// `pg_get_constraintdef(oid)`: `PRIMARY KEY (…)`, `UNIQUE (…)`, `CHECK (…)`.
fn constraintdef(
    catalog: Option<&Catalog>,
    found: Option<(std::sync::Arc<TableDef>, Derived)>,
    shown: Shown<'_>,
) -> Value {
    let Some((t, d)) = found else { return Value::Null };
    match d {
        Derived::PkeyConstraint(_) => match &t.primary_key {
            Some(key) => Value::Text(format!("PRIMARY KEY ({})", column_list(&t, key))),
            None => Value::Null,
        },
        Derived::Unique(_, n) => match secondary(&t, n) {
            Some(ix) => Value::Text(format!("UNIQUE ({})", column_list(&t, &ix.columns))),
            None => Value::Null,
        },
        Derived::Check(_, n) => match t.checks.get(n) {
            Some(c) => Value::Text(format!("CHECK ({})", check_text(&c.expr))),
            None => Value::Null,
        },
        Derived::ForeignKey(_, n) => match t.foreign_keys.get(n) {
            Some(fk) => {
                let parent = catalog.and_then(|c| c.table(&fk.parent_schema, &fk.parent));
                let parent_name = shown.name(&fk.parent_schema, &fk.parent);
                Value::Text(foreign_key_def(&t, fk, parent.as_deref(), &parent_name))
            }
            None => Value::Null,
        },
        Derived::PkeyIndex(_) | Derived::Index(..) => Value::Null,
    }
}

/// How relation names are printed: qualified where not visible on the session's
/// path (`visibility.rs`); bare where no session is.
#[derive(Clone, Copy)]
struct Shown<'a> {
    engine: Option<&'a Engine>,
    path: &'a SearchPath,
}

impl Shown<'_> {
    fn name(self, schema: &str, name: &str) -> String {
        match self.engine {
            Some(e) => shown_name(e, self.path, schema, name),
            None => quote_ident(name),
        }
    }
}

/// The table a derived oid belongs to, and what the oid names.
fn lookup(catalog: Option<&Catalog>, oid: u32) -> Option<(std::sync::Arc<TableDef>, Derived)> {
    let d = oids::decode(oid)?;
    let table = match d {
        Derived::PkeyConstraint(t)
        | Derived::PkeyIndex(t)
        | Derived::Check(t, _)
        | Derived::Index(t, _)
        | Derived::Unique(t, _)
        | Derived::ForeignKey(t, _) => t,
    };
    let t = catalog?.all().into_iter().find(|t| t.oid == table)?;
    Some((t, d))
}

/// An identifier as PostgreSQL's deparser prints it (quoted unless plain lower case).
pub fn quote_ident(s: &str) -> String {
    let plain = s.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        s.to_owned()
    } else {
        format!("\"{}\"", s.replace('"', "\"\""))
    }
}

/// A column default as `pg_get_expr` prints it: string literals carry their cast
/// (`'none'::character varying`), `nextval` its regclass cast, and a regclass
/// literal (bound to a schema at creation: `session/defaults.rs`) the relation as
/// `relation` prints it (bare where visible); anything else is the stored text. (A
/// real deparser would print every expression PostgreSQL's way; these are the forms
/// defaults take in practice.)
pub fn default_text(expr: &str, ty: &DataType, relation: &dyn Fn(&str) -> String) -> String {
    let e = expr.trim();
    if let Some(rest) = e.strip_prefix("nextval('") {
        // Stored before defaults were bound at creation.
        if let Some(name) = rest.strip_suffix("')") {
            return format!("nextval('{name}'::regclass)");
        }
    }
    if is_string_literal(e) {
        return format!("{e}::{}", ty.without_modifier().display_name());
    }
    regclass_literals(e, relation)
}

/// `text` with each `'name'::regclass` literal's name replaced by `relation(name)`.
fn regclass_literals(text: &str, relation: &dyn Fn(&str) -> String) -> String {
    static LITERAL: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    let Some(re) =
        LITERAL.get_or_init(|| regex::Regex::new(r"'((?:[^']|'')*)'::(?i:regclass)").ok())
    else {
        return text.to_owned();
    };
    re.replace_all(text, |c: &regex::Captures<'_>| {
        let name = relation(&c[1].replace("''", "'"));
        format!("'{}'::regclass", name.replace('\'', "''"))
    })
    .into_owned()
}

fn is_string_literal(e: &str) -> bool {
    e.len() >= 2
        && e.starts_with('\'')
        && e.ends_with('\'')
        && !e[1..e.len() - 1].replace("''", "").contains('\'')
}

/// A CHECK condition as `pg_get_constraintdef` prints it inside `CHECK (…)`.
pub fn check_text(expr: &str) -> String {
    let e = expr.trim();
    match e.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        Some(inner) if balanced(inner) => inner.to_owned(),
        _ => e.to_owned(),
    }
}

fn balanced(s: &str) -> bool {
    let mut depth = 0i32;
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        if depth < 0 {
            return false;
        }
    }
    depth == 0
}

/// `s ~ pattern`. PostgreSQL's ARE syntax and the `regex` crate's agree on what
/// catalog queries use (anchors, groups, classes, alternation).
fn regex_match(s: &str, pattern: &str, icase: bool) -> Result<bool> {
    let re = regex::RegexBuilder::new(pattern).case_insensitive(icase).build().map_err(|e| {
        Error::new(ErrorKind::InvalidRegularExpression, format!("invalid regular expression: {e}"))
    })?;
    Ok(re.is_match(s))
}

fn array_to_string(args: &[Value], zone: crate::types::Zone) -> Result<Value> {
    let (items, sep) = match (&args[0], args.get(1)) {
        (Value::Null, _) | (_, Some(Value::Null)) => return Ok(Value::Null),
        (Value::Array(items), Some(Value::Text(sep))) => (items, sep),
        _ => {
            return Err(Error::new(
                ErrorKind::FeatureNotSupported,
                "array_to_string on this argument is not supported yet",
            ))
        }
    };
    let null = match args.get(2) {
        Some(Value::Text(s)) => Some(s.as_str()),
        _ => None,
    };
    let parts: Vec<String> = items
        .iter()
        .filter_map(|v| match v {
            Value::Null => null.map(str::to_owned),
            other => Some(crate::types::text_of(other, &DataType::Text, zone)),
        })
        .collect();
    Ok(Value::Text(parts.join(sep)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_print_like_pg_get_expr() {
        let bare = |n: &str| n.rsplit('.').next().unwrap_or(n).to_owned();
        assert_eq!(
            default_text("'none'", &DataType::Varchar(Some(20)), &bare),
            "'none'::character varying"
        );
        assert_eq!(default_text("1", &DataType::Int4, &bare), "1");
        assert_eq!(
            default_text("nextval('t_id_seq')", &DataType::Int4, &bare),
            "nextval('t_id_seq'::regclass)"
        );
        assert_eq!(
            default_text("nextval('s.t_id_seq'::REGCLASS) + 1", &DataType::Int8, &bare),
            "nextval('t_id_seq'::regclass) + 1"
        );
        assert_eq!(check_text("(qty > 0)"), "qty > 0");
        assert_eq!(check_text("(a > 0) AND (b > 0)"), "(a > 0) AND (b > 0)");
        assert_eq!(format_type(1043, 24), "character varying(20)");
    }
}
