//! Splitting a partition in two by key range, and joining two back into one: the
//! sans-IO half of partition splits (the actor half, with the routing, is `actor.rs`).
//!
//! ```text
//!   split_off(at):   [lo ─────────────── hi)   →   [lo ── at) + [at ── hi)
//!   absorb(upper):   [lo ── at) + [at ── hi)   →   [lo ─────────────── hi)
//! ```
//! Whole chains move, versions and row locks included, so a write that read a version
//! from one half (`latest`) and installs on top of it in the other (`put`) finds the
//! very same version (`same_version` compares pointers). The keys a vacuum still owes
//! go with their chains, and each half rebuilds its secondary indexes from its chains.
//!
//! A split costs a pass over every chain (drain, then two bulk loads) and a rebuild of
//! the secondary indexes; it runs inside the actor, so the partition's requests wait
//! for it. A table with a UNIQUE secondary index never splits: its uniqueness check
//! must see every row in one request (`indexed.rs`).

use super::Partition;
use crate::catalog::IndexDef;
use crate::storage::index::Key;

impl Partition {
    /// The key a split would cut at (the median key), if there are at least two keys.
    pub fn split_point(&self) -> Option<Key> {
        let n = self.index.len();
        if n < 2 {
            return None;
        }
        let all = self.index.range(std::ops::Bound::Unbounded, std::ops::Bound::Unbounded);
        all.map(|(k, _)| k).nth(n / 2).map(Key::from)
    }

    /// True if some secondary index is UNIQUE: such a partition must not split.
    pub fn has_unique(&self) -> bool {
        self.secondary.iter().any(|s| s.def.unique)
    }

    /// The kind of index the partition keeps its chains in.
    pub fn kind(&self) -> crate::storage::IndexKind {
        self.kind
    }

    /// True while DDL has the partition retired.
    pub fn is_retired(&self) -> bool {
        self.retired
    }

    /// The definitions of the secondary indexes, in order.
    pub fn index_defs(&self) -> Vec<IndexDef> {
        self.secondary.iter().map(|s| s.def.clone()).collect()
    }

    /// Notes that the chain at `key` must be visited by the next vacuum (a key a sweep
    /// under way still owed, handed over with its chain).
    pub fn owe_vacuum(&mut self, key: Key) {
        self.dirty.insert(key);
    }

    /// Moves the chains with keys at or above `at` into a new partition of the same
    /// kind, with the same secondary indexes and the same retired state, and returns it.
    pub fn split_off(&mut self, at: &[u8]) -> Partition {
        let mut lower = self.index.drain();
        let cut = lower.partition_point(|(k, _)| &**k < at);
        let upper_chains = lower.split_off(cut);
        self.index.bulk_load(lower);
        let mut upper = Partition::new(self.kind);
        upper.index.bulk_load(upper_chains);
        upper.retired = self.retired;
        let owed: Vec<Key> = self.dirty.iter().filter(|k| &***k >= at).cloned().collect();
        for k in owed {
            self.dirty.remove(&k);
            upper.dirty.insert(k);
        }
        let defs = self.index_defs();
        self.rebuild_indexes(defs.clone());
        upper.rebuild_indexes(defs);
        upper
    }

    /// Takes every chain of `upper`, whose keys all sort after this partition's, and
    /// its vacuum debts (the partitions of a table coming back together).
    pub fn absorb(&mut self, mut upper: Partition) {
        let mut chains = self.index.drain();
        chains.append(&mut upper.index.drain());
        self.index.bulk_load(chains);
        self.dirty.extend(std::mem::take(&mut upper.dirty));
        let defs = self.index_defs();
        self.rebuild_indexes(defs);
    }

    /// Builds the secondary indexes `defs` afresh from the chains. Only for indexes
    /// that were valid over a superset of these chains, so a UNIQUE one cannot fail.
    fn rebuild_indexes(&mut self, defs: Vec<IndexDef>) {
        self.secondary.clear();
        if let Err(e) = self.set_indexes(defs) {
            // Keys unique over the whole table are unique over part of it.
            tracing::error!(index = %e.index, "a UNIQUE index failed to rebuild after a split");
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::storage::index::IndexKind;
    use crate::storage::mvcc::{ReadView, Row, RowLockMode};
    use crate::storage::{Isolation, Latest, PutOutcome};
    use crate::txn::{CommitTs, TxnId, TxnStatus};
    use crate::types::Value;
    use std::ops::Bound;

    fn key(i: u64) -> Key {
        Key::from(i.to_be_bytes())
    }

    fn row(v: i64) -> Row {
        Row::from(vec![Value::Int8(v), Value::Int8(v % 7)])
    }

    fn keys(p: &Partition) -> Vec<Key> {
        let view = ReadView { snapshot: CommitTs(u64::MAX), txn: TxnId(999) };
        let mut out = Vec::new();
        let mut from = Bound::Unbounded;
        loop {
            let b = p.scan(view, from.as_ref().map(|k: &Key| &**k), Bound::Unbounded, true);
            out.extend(b.keys);
            match b.resume {
                Some(k) => from = Bound::Excluded(k),
                None => return out,
            }
        }
    }

    /// A write that read its version before the split installs on top of it after.
    #[test]
    fn a_split_moves_whole_chains_and_a_write_across_it_still_lands() {
        for kind in [IndexKind::BTree, IndexKind::Learned] {
            let n = 5000u64;
            let mut part =
                Partition::new(kind).with_rows((0..n).map(|i| (key(i), row(i as i64))).collect());
            let ix = IndexDef {
                name: "by_mod".into(),
                columns: vec![1],
                unique: false,
                constraint: false,
            };
            part.set_indexes(vec![ix]).unwrap();
            let t = TxnStatus::new(TxnId(5));
            let view = ReadView { snapshot: CommitTs(0), txn: t.id() };
            let rc = Isolation::ReadCommitted;
            let Latest::Row(base) = part.latest(view, rc, t.id(), &key(4000)).unwrap() else {
                panic!("row 4000 is there")
            };
            let at = part.split_point().unwrap();
            assert_eq!(at, key(n / 2));
            let mut upper = part.split_off(&at);
            assert_eq!(part.len() + upper.len(), n as usize);
            assert_eq!(keys(&part), (0..n / 2).map(key).collect::<Vec<_>>());
            assert_eq!(keys(&upper), (n / 2..n).map(key).collect::<Vec<_>>());
            let put = upper.put_as(
                &t,
                &key(4000),
                &base,
                Some(row(-1)),
                CommitTs(0),
                RowLockMode::NoKeyUpdate,
            );
            assert_eq!(put.unwrap(), PutOutcome::Written, "{kind:?}");
            // Each half's secondary index holds its own rows only.
            let all = ReadView { snapshot: CommitTs(1), txn: TxnId(999) };
            let threes_in = |p: &Partition| {
                let k: Vec<u8> = {
                    let mut k = Vec::new();
                    crate::types::encode_key(&[Value::Int8(3)], &mut k);
                    k
                };
                p.index_scan(all, "by_mod", Bound::Included(&k), Bound::Included(&k), usize::MAX)
                    .unwrap()
                    .len()
            };
            let threes = (0..n).filter(|i| i % 7 == 3).count();
            assert_eq!(threes_in(&part) + threes_in(&upper), threes);
            part.absorb(upper);
            assert_eq!(keys(&part), (0..n).map(key).collect::<Vec<_>>());
            assert_eq!(threes_in(&part), threes);
        }
    }
}
