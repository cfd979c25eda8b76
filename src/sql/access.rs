//! Reading rows through an access path: the one place that turns a planned [`Access`]
//! into storage requests, shared by queries (`exec.rs`), UPDATE / DELETE (`dml.rs`) and
//! SELECT … FOR UPDATE (`locking.rs`).
//!
//! ```text
//!   Access::Full            Scan (-∞, +∞)                   batches, primary-key order
//!   Access::Point(k)        Get k
//!   Access::Index{ix, k}    IndexScan ix [k, k]
//!   Access::Keys{pk, ks}    Get k  for each k, deduplicated, in key order
//!   Access::Keys{ix, ks}    IndexScan ix [k, k]  for each k, in key order
//!   Access::Range(pk, r)    Scan [lo, hi)                   batches, primary-key order
//!   Access::Range(ix, r)    IndexScan ix [lo, hi)           batches when a LIMIT is known
//! ```
//! Keys are the order-preserving encodings of `types::encode_key`, which is why the
//! planner only picks a path when the compared value encodes like the column (see
//! `planner/access.rs`). A range is equality on a key prefix `p` plus bounds on the next
//! column: `col > v` starts at the successor of `p‖v` (the first byte string after
//! every key that begins with `p‖v`), `col <= v` ends before it, so a composite key's
//! later columns never leak into the comparison. A NULL anywhere in a key value selects
//! nothing (NULL is never `=`, `<` or `>` anything).
//!
//! Every row read here is still checked against the whole WHERE by the caller: the path
//! only narrows what is read.

use std::ops::{Bound, ControlFlow};

use crate::catalog::TableDef;
use crate::error::{Error, Result};
use crate::storage::{Key, ReadView, Row, TableStore};
use crate::types::{encode_key, Value};

use super::expr::{EvalCtx, Expr};
use super::plan::{Access, KeyRange};

/// Visits the rows `access` selects under `view`, in the path's order, until `visit`
/// breaks; `visit` gets the row's primary key (always for point, key-list and index
/// paths, for scans only when `with_keys`). `want` is how many rows the caller expects
/// to take at most (an ORDER BY … LIMIT): an index range is then read in batches.
#[allow(clippy::too_many_arguments)] // the read's whole context, each used once
pub async fn read(
    store: &TableStore,
    view: ReadView,
    table: &TableDef,
    access: &Access,
    ectx: &EvalCtx<'_>,
    with_keys: bool,
    want: Option<usize>,
    mut visit: impl FnMut(Option<Key>, Row) -> Result<ControlFlow<()>>,
) -> Result<()> {
    match access {
        Access::Full => {
            store.scan(view, Bound::Unbounded, Bound::Unbounded, with_keys, visit).await
        }
        Access::Point(exprs) => {
            let Some(key) = encode(exprs, ectx)? else { return Ok(()) };
            let key: Key = key.into_boxed_slice();
            if let Some(row) = store.get(view, key.clone()).await? {
                let _ = visit(Some(key), row)?; // one row: nothing left to stop
            }
            Ok(())
        }
        Access::Index { index, key } => {
            let Some(key) = encode(key, ectx)? else { return Ok(()) };
            let key: Key = key.into_boxed_slice();
            let rows = store
                .index_scan(
                    view,
                    index,
                    Bound::Included(key.clone()),
                    Bound::Included(key),
                    usize::MAX,
                )
                .await?;
            for (pk, row) in rows {
                if visit(Some(pk), row)?.is_break() {
                    break;
                }
            }
            Ok(())
        }
        Access::Keys { index, keys } => {
            let mut encoded = Vec::with_capacity(keys.len());
            for k in keys {
                encoded.extend(encode(k, ectx)?);
            }
            encoded.sort();
            encoded.dedup();
            for key in encoded {
                let key: Key = key.into_boxed_slice();
                let rows = match index {
                    None => {
                        store.get(view, key.clone()).await?.map(|r| (key, r)).into_iter().collect()
                    }
                    Some(ix) => {
                        let (lo, hi) = (Bound::Included(key.clone()), Bound::Included(key));
                        store.index_scan(view, ix, lo, hi, usize::MAX).await?
                    }
                };
                for (pk, row) in rows {
                    if visit(Some(pk), row)?.is_break() {
                        return Ok(());
                    }
                }
            }
            Ok(())
        }
        Access::Range(r) => {
            let Some((lo, hi)) = bounds(r, ectx)? else { return Ok(()) };
            match &r.index {
                None => store.scan(view, lo, hi, with_keys, visit).await,
                Some(ix) => index_range(store, view, table, ix, (lo, hi), want, visit).await,
            }
        }
    }
}

/// An index range read in growing batches, resumed at the last index key seen (the
/// rows of that key already visited are skipped: a non-unique key can span batches).
async fn index_range(
    store: &TableStore,
    view: ReadView,
    table: &TableDef,
    index: &str,
    (mut lo, hi): (Bound<Key>, Bound<Key>),
    want: Option<usize>,
    mut visit: impl FnMut(Option<Key>, Row) -> Result<ControlFlow<()>>,
) -> Result<()> {
    let columns =
        table.indexes.iter().find(|i| i.name == index).map(|i| i.columns.clone()).ok_or_else(
            || Error::internal(format!("index \"{index}\" is not in the plan's table")),
        )?;
    let mut batch = want.map_or(usize::MAX, |n| n.max(16));
    let mut boundary: Option<Key> = None;
    let mut seen: Vec<Key> = Vec::new();
    loop {
        let rows = store.index_scan(view, index, lo.clone(), hi.clone(), batch).await?;
        let got = rows.len();
        for (pk, row) in rows {
            if seen.contains(&pk) {
                continue;
            }
            let vals: Vec<Value> = columns.iter().map(|&c| row[c].clone()).collect();
            let mut ikey = Vec::new();
            encode_key(&vals, &mut ikey);
            if boundary.as_deref() != Some(ikey.as_slice()) {
                boundary = Some(ikey.into_boxed_slice());
                seen.clear();
            }
            seen.push(pk.clone());
            if visit(Some(pk), row)?.is_break() {
                return Ok(());
            }
        }
        match &boundary {
            Some(b) if got == batch => lo = Bound::Included(b.clone()),
            _ => return Ok(()),
        }
        batch = batch.saturating_mul(2);
    }
}

/// The encoded key `exprs` name; `None` if a value is NULL (no row has it).
fn encode(exprs: &[Expr], ectx: &EvalCtx<'_>) -> Result<Option<Vec<u8>>> {
    let mut vals = Vec::with_capacity(exprs.len());
    for e in exprs {
        let v = e.eval(&[], ectx)?;
        if v.is_null() {
            return Ok(None);
        }
        vals.push(v);
    }
    let mut key = Vec::new();
    encode_key(&vals, &mut key);
    Ok(Some(key))
}

/// The encoded bounds of a key range; `None` when it is empty (a NULL value, or a
/// lower bound past every key).
fn bounds(r: &KeyRange, ectx: &EvalCtx<'_>) -> Result<Option<(Bound<Key>, Bound<Key>)>> {
    let Some(prefix) = encode(&r.prefix, ectx)? else { return Ok(None) };
    let with = |e: &Expr| -> Result<Option<Vec<u8>>> {
        let Some(v) = encode(std::slice::from_ref(e), ectx)? else { return Ok(None) };
        let mut k = prefix.clone();
        k.extend_from_slice(&v);
        Ok(Some(k))
    };
    let lo = match &r.lower {
        None if prefix.is_empty() => Bound::Unbounded,
        None => Bound::Included(prefix.clone()),
        Some((e, inclusive)) => {
            let Some(k) = with(e)? else { return Ok(None) };
            if *inclusive {
                Bound::Included(k)
            } else {
                match successor(k) {
                    Some(s) => Bound::Included(s),
                    None => return Ok(None),
                }
            }
        }
    };
    let hi = match &r.upper {
        None if prefix.is_empty() => Bound::Unbounded,
        None => successor(prefix.clone()).map_or(Bound::Unbounded, Bound::Excluded),
        Some((e, inclusive)) => {
            let Some(k) = with(e)? else { return Ok(None) };
            if *inclusive {
                successor(k).map_or(Bound::Unbounded, Bound::Excluded)
            } else {
                Bound::Excluded(k)
            }
        }
    };
    // An inverted range (`id > 5 AND id < 5`) selects nothing; the B-tree would panic.
    let inverted = match (&lo, &hi) {
        (Bound::Included(l), Bound::Included(h)) => l > h,
        (Bound::Included(l) | Bound::Excluded(l), Bound::Included(h) | Bound::Excluded(h)) => {
            l >= h
        }
        _ => false,
    };
    if inverted {
        return Ok(None);
    }
    let boxed = |b: Bound<Vec<u8>>| b.map(Vec::into_boxed_slice);
    Ok(Some((boxed(lo), boxed(hi))))
}

/// The first byte string greater than every string that starts with `k` (`None` if
/// `k` is all 0xFF: nothing is).
fn successor(mut k: Vec<u8>) -> Option<Vec<u8>> {
    while let Some(last) = k.last_mut() {
        if *last == 0xFF {
            k.pop();
        } else {
            *last += 1;
            return Some(k);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(vals: &[Value]) -> Vec<u8> {
        let mut k = Vec::new();
        encode_key(vals, &mut k);
        k
    }

    #[test]
    fn successor_is_past_every_extension() {
        let p = key(&[Value::Int4(5)]);
        let s = successor(p.clone()).expect("a successor");
        let longer = key(&[Value::Int4(5), Value::Text("zzz".into())]);
        assert!(longer.as_slice() < s.as_slice());
        assert!(key(&[Value::Int4(6)]).as_slice() >= s.as_slice());
        assert_eq!(successor(vec![0xFF, 0xFF]), None);
        assert_eq!(successor(vec![1, 0xFF]), Some(vec![2]));
    }

    #[test]
    fn integer_widths_encode_alike() {
        assert_eq!(key(&[Value::Int4(7)]), key(&[Value::Int8(7)]));
        assert!(key(&[Value::Int8(-1)]) < key(&[Value::Int2(0)]));
    }
}
