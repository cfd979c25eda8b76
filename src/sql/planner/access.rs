//! Access-path choice: which key a scan reads through, from the WHERE's conjuncts and
//! the query's ORDER BY … LIMIT.
//!
//! ```text
//!   WHERE conjuncts ──key_conds──▶ per key column: = v | IN (v…) | < ≤ > ≥ v
//!        │
//!        ▼  for the primary key, then each secondary index (definition order)
//!   every column =            → Point / Index
//!   every column = or IN      → Keys (the cartesian product, ≤ MAX_KEYS keys)
//!   = on a prefix, then bounds on the next column → Range
//!   nothing                   → Full
//! ```
//! The best candidate wins: a point before a key list before a range, a longer prefix
//! before a shorter one, the primary key on ties. Then [`use_key_order`] looks at the
//! finished query: an ascending ORDER BY on the key columns that follow the `=` prefix
//! is already satisfied by a key-ordered path, so the Sort goes, and a LIMIT becomes the
//! scan's `stop_after` (a Full scan with such an ORDER BY … LIMIT becomes an unbounded
//! Range so it reads in key order and stops early).
//!
//! Types: a path is taken only when the compared value encodes like the stored column
//! (`types::encode_key` orders keys, and integers of every width encode alike; text,
//! varchar and name alike; numerics normalised), and the column is compared as itself,
//! not through a cast. Otherwise (int column against a numeric literal, float4 against
//! float8, char(n)) it is a Full scan with the condition as a filter: never a different
//! result. A secondary index has no entry for a row with a NULL in any of its columns,
//! so it is used only when each of its columns is NOT NULL or constrained by the
//! condition (which no NULL satisfies). Descending orders are left to the Sort.

use crate::catalog::TableDef;
use crate::sync::Arc;
use crate::types::{BinaryOp, DataType};

use super::super::expr::Expr;
use super::super::plan::{Access, KeyRange, Rel};

/// The largest key list an IN (or a product of INs) is read as.
const MAX_KEYS: usize = 1000;

/// What one conjunct says about one column.
#[derive(Debug, Clone)]
pub(crate) enum KeyCond {
    /// `col = v`.
    Eq(Expr),
    /// `col IN (v, …)`.
    In(Vec<Expr>),
    /// `col > v` (`inclusive`: `>=`).
    Lower(Expr, bool),
    /// `col < v` (`inclusive`: `<=`).
    Upper(Expr, bool),
}

/// The column and condition a conjunct gives a key on, if it can bound a key read.
pub(crate) fn key_cond(table: &TableDef, conj: &Expr) -> Option<(usize, KeyCond)> {
    match conj {
        Expr::Binary { op, left, right, left_ty, right_ty } => {
            let (col, col_ty, v, v_ty, flipped) = match (left.as_ref(), right.as_ref()) {
                (Expr::Column(c), v) => (*c, left_ty, v, right_ty, false),
                (v, Expr::Column(c)) => (*c, right_ty, v, left_ty, true),
                _ => return None,
            };
            let column_ty = &table.columns.get(col)?.ty;
            // An enclosing row's column is a constant for one read of this table:
            // the reader evaluates the key with that row as the outer row.
            let value_known = v.is_row_independent() || matches!(v, Expr::Outer(_));
            if !value_known || !encodes_alike(col_ty, column_ty) || !encodes_alike(v_ty, column_ty)
            {
                return None;
            }
            let op = if flipped { flip(*op)? } else { *op };
            let v = v.clone();
            let cond = match op {
                BinaryOp::Eq => KeyCond::Eq(v),
                _ if !orderable(column_ty) => return None,
                BinaryOp::Gt => KeyCond::Lower(v, false),
                BinaryOp::GtEq => KeyCond::Lower(v, true),
                BinaryOp::Lt => KeyCond::Upper(v, false),
                BinaryOp::LtEq => KeyCond::Upper(v, true),
                _ => return None,
            };
            Some((col, cond))
        }
        Expr::InList { expr, list, negated: false, ty, item_ty } => {
            let Expr::Column(col) = expr.as_ref() else { return None };
            let column_ty = &table.columns.get(*col)?.ty;
            let ok = ty == column_ty || encodes_alike(ty, column_ty);
            if !ok || !encodes_alike(item_ty, column_ty) || list.len() > MAX_KEYS {
                return None;
            }
            if !list.iter().all(Expr::is_row_independent) {
                return None;
            }
            Some((*col, KeyCond::In(list.clone())))
        }
        _ => None,
    }
}

fn flip(op: BinaryOp) -> Option<BinaryOp> {
    Some(match op {
        BinaryOp::Eq => BinaryOp::Eq,
        BinaryOp::Lt => BinaryOp::Gt,
        BinaryOp::LtEq => BinaryOp::GtEq,
        BinaryOp::Gt => BinaryOp::Lt,
        BinaryOp::GtEq => BinaryOp::LtEq,
        _ => return None,
    })
}

/// True if a value of type `v` encodes as a stored value of column type `col` would.
fn encodes_alike(v: &DataType, col: &DataType) -> bool {
    use DataType::*;
    let int = |t: &DataType| matches!(t, Int2 | Int4 | Int8);
    let text = |t: &DataType| matches!(t, Text | Varchar(_) | Name);
    let numeric = |t: &DataType| matches!(t, Numeric(_));
    v == col || (int(v) && int(col)) || (text(v) && text(col)) || (numeric(v) && numeric(col))
}

/// Types whose key order is their SQL order (`<` on the encoding is `<` on values).
fn orderable(t: &DataType) -> bool {
    use DataType::*;
    matches!(
        t,
        Int2 | Int4
            | Int8
            | Text
            | Varchar(_)
            | Name
            | Numeric(_)
            | Date
            | Timestamp
            | TimestampTz
            | Oid
            | Bool
    )
}

/// The conjuncts of `filter` (split at AND).
pub(crate) fn conjuncts(filter: &Expr) -> Vec<&Expr> {
    fn walk<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
        match e {
            Expr::And(a, b) => {
                walk(a, out);
                walk(b, out);
            }
            other => out.push(other),
        }
    }
    let mut out = Vec::new();
    walk(filter, &mut out);
    out
}

/// A candidate path and how good it is (higher is better).
struct Candidate {
    access: Access,
    rank: (u8, usize),
}

/// The access path for a scan of `table` filtered by `filter`.
pub fn choose(table: &TableDef, filter: Option<&Expr>) -> Access {
    let Some(filter) = filter else { return Access::Full };
    let conds: Vec<(usize, KeyCond)> =
        conjuncts(filter).into_iter().filter_map(|c| key_cond(table, c)).collect();
    if conds.is_empty() {
        return Access::Full;
    }
    let mut best: Option<Candidate> = None;
    let keys = table.primary_key.iter().map(|pk| (None, pk.as_slice()));
    let indexes = table.indexes.iter().map(|ix| (Some(ix.name.clone()), ix.columns.as_slice()));
    for (index, cols) in keys.chain(indexes) {
        if let Some(c) = candidate(table, index, cols, &conds) {
            if best.as_ref().is_none_or(|b| c.rank > b.rank) {
                best = Some(c);
            }
        }
    }
    best.map_or(Access::Full, |c| c.access)
}

/// The best path through key `cols` (the primary key when `index` is None).
fn candidate(
    table: &TableDef,
    index: Option<String>,
    cols: &[usize],
    conds: &[(usize, KeyCond)],
) -> Option<Candidate> {
    let eq = |col: usize| {
        conds.iter().find_map(|(c, k)| match k {
            KeyCond::Eq(v) if *c == col => Some(v.clone()),
            _ => None,
        })
    };
    let inl = |col: usize| {
        conds.iter().find_map(|(c, k)| match k {
            KeyCond::In(vs) if *c == col => Some(vs.clone()),
            _ => None,
        })
    };
    // The leading columns pinned by `=` (or, for a key list, `=` or IN).
    let prefix: Vec<Expr> = cols.iter().map_while(|&c| eq(c)).collect();
    if prefix.len() == cols.len() {
        let access = match index {
            None => Access::Point(prefix),
            Some(index) => Access::Index { index, key: prefix },
        };
        return Some(Candidate { access, rank: (4, cols.len()) });
    }
    let mut lists: Vec<Vec<Expr>> = Vec::new();
    for &c in cols {
        match eq(c).map(|v| vec![v]).or_else(|| inl(c)) {
            Some(vs) => lists.push(vs),
            None => break,
        }
    }
    if lists.len() == cols.len() && lists.iter().map(Vec::len).product::<usize>() <= MAX_KEYS {
        let mut keys: Vec<Vec<Expr>> = vec![Vec::new()];
        for vs in &lists {
            keys = keys
                .into_iter()
                .flat_map(|k| {
                    vs.iter().map(move |v| {
                        let mut k = k.clone();
                        k.push(v.clone());
                        k
                    })
                })
                .collect();
        }
        return Some(Candidate { access: Access::Keys { index, keys }, rank: (3, cols.len()) });
    }
    let next = *cols.get(prefix.len())?;
    let lower = conds.iter().find_map(|(c, k)| match k {
        KeyCond::Lower(v, inc) if *c == next => Some((v.clone(), *inc)),
        _ => None,
    });
    let upper = conds.iter().find_map(|(c, k)| match k {
        KeyCond::Upper(v, inc) if *c == next => Some((v.clone(), *inc)),
        _ => None,
    });
    let bounded = usize::from(lower.is_some()) + usize::from(upper.is_some());
    if prefix.is_empty() && bounded == 0 {
        return None;
    }
    // A secondary index lacks the rows with a NULL in any of its columns.
    let used = prefix.len() + usize::from(bounded > 0);
    if index.is_some() && cols[used..].iter().any(|&c| !table.columns[c].not_null) {
        return None;
    }
    let rank = (if bounded > 0 { 2 } else { 1 }, prefix.len() * 2 + bounded);
    let range = KeyRange { index, prefix, lower, upper, stop_after: None };
    Some(Candidate { access: Access::Range(Box::new(range)), rank })
}

/// Drops an ascending ORDER BY that the scan's key order already gives, and turns a
/// LIMIT above it into the scan's `stop_after` (see the module doc). `rel` is a
/// finished query: `[Truncate] [Limit] Sort (Project (Scan))`.
pub fn use_key_order(rel: &mut Rel) {
    match rel {
        Rel::Truncate { input, .. } => use_key_order(input),
        Rel::Limit { input, limit, offset } => {
            if let Rel::Sort { .. } = input.as_ref() {
                if let Some(stop) = limit.clone().map(|l| (l, offset.clone())) {
                    if let Some(inner) = ordered_scan(input, Some(stop)) {
                        **input = inner;
                    }
                }
            }
        }
        Rel::Sort { .. } => {
            if let Some(inner) = ordered_scan(rel, None) {
                *rel = inner;
            }
        }
        _ => {}
    }
}

/// The Sort's input with its scan reading in the Sort's order, if a key allows it.
fn ordered_scan(sort: &Rel, stop: Option<(Expr, Option<Expr>)>) -> Option<Rel> {
    let Rel::Sort { input, keys } = sort else { return None };
    let Rel::Project { input: scan, exprs } = input.as_ref() else { return None };
    let Rel::Scan { table, access, filter } = scan.as_ref() else { return None };
    let mut order = Vec::with_capacity(keys.len());
    for k in keys {
        let Expr::Column(i) = k.expr else { return None };
        let Some(Expr::Column(c)) = exprs.get(i) else { return None };
        // Key order is SQL order only for the orderable types.
        if k.desc || k.nulls_first || !orderable(&table.columns.get(*c)?.ty) {
            return None;
        }
        order.push(*c);
    }
    let access = keyed_in_order(table, access, &order, stop.is_some())?;
    let access = match (access, stop) {
        (Access::Range(mut r), stop) => {
            r.stop_after = stop;
            Access::Range(r)
        }
        (other, _) => other,
    };
    let scan = Rel::Scan { table: table.clone(), access, filter: filter.clone() };
    Some(Rel::Project { input: Box::new(scan), exprs: exprs.clone() })
}

/// The path (the given one, or a full key-ordered one replacing a Full scan) whose rows
/// come in `order`; `limited`: a Full scan is replaced through a secondary index only
/// under a LIMIT (reading a whole table through an index costs a lookup per row).
fn keyed_in_order(
    table: &Arc<TableDef>,
    access: &Access,
    order: &[usize],
    limited: bool,
) -> Option<Access> {
    let key_cols = |index: &Option<String>| -> Option<Vec<usize>> {
        match index {
            None => table.primary_key.clone(),
            Some(name) => table.indexes.iter().find(|i| &i.name == name).map(|i| i.columns.clone()),
        }
    };
    match access {
        Access::Range(r) => {
            let cols = key_cols(&r.index)?;
            follows(&cols, r.prefix.len(), order).then(|| access.clone())
        }
        Access::Full => {
            let pk = table.primary_key.iter().map(|pk| (None, pk.clone()));
            let ixs = table
                .indexes
                .iter()
                .filter(|_| limited)
                .filter(|ix| ix.columns.iter().all(|&c| table.columns[c].not_null))
                .map(|ix| (Some(ix.name.clone()), ix.columns.clone()));
            pk.chain(ixs).find(|(_, cols)| follows(cols, 0, order)).map(|(index, _)| {
                Access::Range(Box::new(KeyRange {
                    index,
                    prefix: Vec::new(),
                    lower: None,
                    upper: None,
                    stop_after: None,
                }))
            })
        }
        _ => None,
    }
}

/// True if rows in key order of `cols`, with the first `pinned` columns constant, are
/// in `order` (sort keys on pinned columns are satisfied anywhere).
fn follows(cols: &[usize], pinned: usize, order: &[usize]) -> bool {
    let mut next = pinned;
    for c in order {
        if cols[..pinned].contains(c) {
            continue;
        }
        if cols.get(next) != Some(c) {
            return false;
        }
        next += 1;
    }
    !order.is_empty()
}
