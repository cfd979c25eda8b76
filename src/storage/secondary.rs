//! Secondary indexes, kept inside the partition beside the rows they index, so that one
//! actor request sees both and a UNIQUE check is atomic without any lock of its own.
//!
//! ```text
//!   rows:     pk 1 → [ (1,'a@x') | (1,'b@x') T9 active ]      pk 2 → [ (2,'c@x') ]
//!   entries:  ('a@x', 1)  ('b@x', 1)  ('c@x', 2)               (index key, primary key)
//! ```
//! An entry `(k, pk)` says "some version in the chain at `pk` has index key `k`", never
//! more: entries are added whenever a version is written and are not removed by writes,
//! so an entry can be stale (the version that had `k` was overwritten, rolled back or
//! vacuumed). Every reader through the index therefore fetches the chain, takes the
//! version it may see, and re-checks the key. Stale entries go when the chain they point
//! to is vacuumed or rolled back ([`SecondaryIndex::retain_row`] with the keys still
//! present). A row with a NULL in any indexed column has no entry: NULLs never conflict
//! for UNIQUE and never match `=`, as in PostgreSQL.
//!
//! What it deliberately does not do: entries are not persisted (they are rebuilt from
//! the rows when a partition is loaded), and there are no expression or partial indexes.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

use super::index::Key;
use super::mvcc::Chain;
use crate::catalog::IndexDef;
use crate::types::{encode_key, Value};

/// One secondary index: its definition and its entries.
#[derive(Debug, Clone)]
pub struct SecondaryIndex {
    /// The definition (name, columns, UNIQUE).
    pub def: IndexDef,
    entries: BTreeSet<(Key, Key)>,
    /// Reverse map: the index keys with an entry for each primary key (for clean-up).
    by_row: BTreeMap<Key, Vec<Key>>,
}

impl SecondaryIndex {
    /// An empty index for `def`.
    pub fn new(def: IndexDef) -> SecondaryIndex {
        SecondaryIndex { def, entries: BTreeSet::new(), by_row: BTreeMap::new() }
    }

    /// The index key of `row`: its indexed columns, encoded; `None` if any is NULL.
    pub fn key_of(&self, row: &[Value]) -> Option<Key> {
        let vals: Vec<Value> = self.def.columns.iter().map(|&c| row[c].clone()).collect();
        if vals.iter().any(Value::is_null) {
            return None;
        }
        let mut k = Vec::new();
        encode_key(&vals, &mut k);
        Some(k.into_boxed_slice())
    }

    /// Records that the row at `pk` has index key `ikey` (in some version).
    pub fn add(&mut self, ikey: Key, pk: &[u8]) {
        if self.entries.insert((ikey.clone(), Key::from(pk))) {
            self.by_row.entry(Key::from(pk)).or_default().push(ikey);
        }
    }

    /// Adds entries for every version of `chain` at `pk`.
    pub fn add_chain(&mut self, pk: &[u8], chain: &Chain) {
        for v in &chain.versions {
            if let Some(k) = v.row.as_deref().and_then(|r| self.key_of(r)) {
                self.add(k, pk);
            }
        }
    }

    /// Primary keys with an entry whose index key lies in the range, in index order
    /// (a primary key may come more than once, under different index keys).
    pub fn range<'a>(
        &'a self,
        lo: Bound<&[u8]>,
        hi: Bound<&'a [u8]>,
    ) -> impl Iterator<Item = (&'a Key, &'a Key)> + 'a {
        let start = match lo {
            Bound::Unbounded => Bound::Unbounded,
            Bound::Included(k) => Bound::Included((Key::from(k), Key::from(&[][..]))),
            // Every entry of key k sorts before (k ++ [0xff…]); entries of keys that
            // merely start with k are filtered below.
            Bound::Excluded(k) => Bound::Included((Key::from(k), Key::from(&[][..]))),
        };
        let lo_owned: Option<Key> = match lo {
            Bound::Excluded(k) => Some(Key::from(k)),
            _ => None,
        };
        self.entries
            .range((start, Bound::Unbounded))
            .skip_while(move |(k, _)| lo_owned.as_ref().is_some_and(|l| k == l))
            .take_while(move |(k, _)| match hi {
                Bound::Unbounded => true,
                Bound::Included(h) => &**k <= h,
                Bound::Excluded(h) => &**k < h,
            })
            .map(|(k, pk)| (k, pk))
    }

    /// Primary keys with an entry for exactly `ikey`.
    pub fn lookup<'a>(&'a self, ikey: &'a [u8]) -> impl Iterator<Item = &'a Key> + 'a {
        self.range(Bound::Included(ikey), Bound::Included(ikey)).map(|(_, pk)| pk)
    }

    /// Keeps the entries of the row at `pk` whose index key some remaining version
    /// still has (`chain`, or none if the chain is gone); drops the others.
    pub fn retain_row(&mut self, pk: &[u8], chain: Option<&Chain>) {
        let Some(keys) = self.by_row.remove(pk) else { return };
        let live: Vec<Key> = chain
            .map(|c| {
                c.versions
                    .iter()
                    .filter_map(|v| v.row.as_deref().and_then(|r| self.key_of(r)))
                    .collect()
            })
            .unwrap_or_default();
        let mut kept = Vec::new();
        for k in keys {
            if live.contains(&k) {
                kept.push(k);
            } else {
                self.entries.remove(&(k, Key::from(pk)));
            }
        }
        if !kept.is_empty() {
            self.by_row.insert(Key::from(pk), kept);
        }
    }

    /// Number of entries (stale ones included).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{Row, Version};
    use crate::txn::TxnStatus;

    fn def() -> IndexDef {
        IndexDef { name: "t_v_key".into(), columns: vec![1], unique: true, constraint: true }
    }

    fn row(pk: i32, v: Option<i32>) -> Row {
        Row::from(vec![Value::Int4(pk), v.map_or(Value::Null, Value::Int4)])
    }

    fn pk(i: i32) -> Key {
        let mut k = Vec::new();
        encode_key(&[Value::Int4(i)], &mut k);
        k.into_boxed_slice()
    }

    #[test]
    fn nulls_have_no_entry_and_lookups_find_every_version() {
        let mut ix = SecondaryIndex::new(def());
        assert_eq!(ix.key_of(&row(1, None)), None);
        let frozen = TxnStatus::frozen();
        let mut chain = Chain::frozen(row(1, Some(10)), &frozen);
        chain.versions.push(Version {
            status: frozen,
            row: Some(row(1, Some(20))),
            mode: crate::storage::mvcc::RowLockMode::Update,
            moved: false,
        });
        ix.add_chain(&pk(1), &chain);
        let k10 = ix.key_of(&row(0, Some(10))).expect("key");
        let k20 = ix.key_of(&row(0, Some(20))).expect("key");
        assert_eq!(ix.lookup(&k10).count(), 1);
        assert_eq!(ix.lookup(&k20).count(), 1);
        // The old version is vacuumed: its entry goes, the live one stays.
        chain.versions.remove(0);
        ix.retain_row(&pk(1), Some(&chain));
        assert_eq!(ix.lookup(&k10).count(), 0);
        assert_eq!(ix.lookup(&k20).count(), 1);
        ix.retain_row(&pk(1), None);
        assert!(ix.is_empty());
    }

    #[test]
    fn ranges_respect_their_bounds() {
        let mut ix = SecondaryIndex::new(def());
        for i in 1..=5 {
            let k = ix.key_of(&row(i, Some(i * 10))).expect("key");
            ix.add(k, &pk(i));
        }
        let k = |v| ix.key_of(&row(0, Some(v))).expect("key");
        let (k20, k40) = (k(20), k(40));
        let n = |lo, hi| ix.range(lo, hi).count();
        assert_eq!(n(Bound::Included(&k20[..]), Bound::Included(&k40[..])), 3);
        assert_eq!(n(Bound::Excluded(&k20[..]), Bound::Excluded(&k40[..])), 1);
        assert_eq!(n(Bound::Unbounded, Bound::Excluded(&k40[..])), 3);
        assert_eq!(n(Bound::Excluded(&k40[..]), Bound::Unbounded), 1);
    }
}
