//! The partition's secondary indexes: building them, keeping their entries, the UNIQUE
//! check that `insert` and `put` make in the same request as the write (so it is atomic
//! with it), and reads through an index.
//!
//! The UNIQUE check for a new row with index key `k`, written by transaction `T` at
//! primary key `p`, looks at every chain `q ≠ p` with an entry for `k`:
//! ```text
//!   newest live version of q is committed, or T's own:  has k → Unique (23505)
//!   it is another active transaction U's (a row lock):   U's version has k, or the
//!                                                        committed one below has k
//!                                                        → Blocked(U): wait, retry
//!   anything else (deleted, moved off k, rolled back):   no conflict
//! ```
//! The race it closes, written out:
//! ```text
//!   [T1] insert (1, 'x')  → entry ('x', 1), T1's version on top of chain 1
//!                              [T2] insert (2, 'x') → chain 1 top is T1's, has 'x'
//!                                   → Blocked(T1): T2 waits for T1 in the LockManager
//!   [T1] COMMIT                [T2] retries: chain 1 committed with 'x' → Unique
//!   (or [T1] ROLLBACK          [T2] retries: chain 1 has nothing live → inserted)
//! ```

use std::ops::Bound;

use super::{Partition, PutOutcome};
use crate::catalog::IndexDef;
use crate::error::{Error, ErrorKind, Result};
use crate::storage::index::Key;
use crate::storage::mvcc::{ReadView, Row, Version};
use crate::storage::secondary::SecondaryIndex;
use crate::txn::{State, TxnId};
use crate::types::Value;

/// Why a UNIQUE index could not be built: two live rows share a key.
#[derive(Debug, Clone)]
pub struct IndexBuildError {
    /// The index being built.
    pub index: String,
    /// One of the rows whose key is duplicated.
    pub row: Row,
}

impl Partition {
    /// Replaces the secondary indexes with `defs`, building each from every version of
    /// every chain. A UNIQUE one fails (and nothing changes) if two chains' newest
    /// non-aborted versions share a key (uncommitted ones included: the conservative
    /// side, since PostgreSQL would wait for their writers).
    pub fn set_indexes(&mut self, defs: Vec<IndexDef>) -> Result<(), IndexBuildError> {
        let mut built = Vec::with_capacity(defs.len());
        for def in defs {
            // An index that exists already is kept as it is.
            if let Some(old) = self.secondary.iter().find(|s| s.def == def) {
                built.push(old.clone());
                continue;
            }
            let mut ix = SecondaryIndex::new(def);
            let mut newest: std::collections::BTreeMap<Key, Row> = Default::default();
            for (pk, chain) in self.index.range(Bound::Unbounded, Bound::Unbounded) {
                ix.add_chain(pk, chain);
                if !ix.def.unique {
                    continue;
                }
                let top = chain.versions.iter().rev().find(|v| v.status.state() != State::Aborted);
                if let Some(row) = top.and_then(|v| v.row.clone()) {
                    if let Some(k) = ix.key_of(&row) {
                        if newest.insert(k, row.clone()).is_some() {
                            return Err(IndexBuildError { index: ix.def.name.clone(), row });
                        }
                    }
                }
            }
            built.push(ix);
        }
        self.secondary = built;
        Ok(())
    }

    /// Adds the entries of a version whose row is `row` at `pk`.
    pub(super) fn add_entries(&mut self, pk: &[u8], row: &[Value]) {
        for ix in &mut self.secondary {
            if let Some(k) = ix.key_of(row) {
                ix.add(k, pk);
            }
        }
    }

    /// Drops the entries of `pk` that no remaining version of its chain has.
    pub(super) fn clean_entries(&mut self, pk: &[u8]) {
        let chain = self.index.get(pk);
        for ix in &mut self.secondary {
            ix.retain_row(pk, chain);
        }
    }

    /// The UNIQUE check for `row` written at `pk` by top-level transaction `top`:
    /// `Some(Unique(i))`, `Some(Blocked(holder))` or `None` (see the module doc).
    pub(super) fn unique_conflict(
        &self,
        top: TxnId,
        pk: &[u8],
        row: &[Value],
    ) -> Option<PutOutcome> {
        for (pos, ix) in self.secondary.iter().enumerate().filter(|(_, ix)| ix.def.unique) {
            let Some(k) = ix.key_of(row) else { continue };
            let has =
                |v: &Version| v.row.as_deref().and_then(|r| ix.key_of(r)).as_ref() == Some(&k);
            for other in ix.lookup(&k) {
                if **other == *pk {
                    continue;
                }
                let Some(chain) = self.index.get(other) else { continue };
                match chain.latest_index(top) {
                    Ok(Some(i)) if has(&chain.versions[i]) => return Some(PutOutcome::Unique(pos)),
                    Ok(_) => {}
                    Err(holder) => {
                        let live = |v: &&Version| v.status.state() != State::Aborted;
                        let committed =
                            |v: &&Version| matches!(v.status.state(), State::Committed(_));
                        let mut versions = chain.versions.iter().rev();
                        let on_top = versions.clone().find(live);
                        let below = versions.find(committed);
                        // (A row lock is no version: a locked row's committed version
                        // is what `latest_index` found, above.)
                        if on_top.is_some_and(has) || below.is_some_and(has) {
                            return Some(PutOutcome::Blocked(holder));
                        }
                    }
                }
            }
        }
        None
    }

    /// Rows visible to `view` whose key in index `name` lies in the range, with their
    /// index keys and primary keys, in index order (then primary-key order), at most
    /// `limit` of them. Each entry's chain is re-checked: the visible version must have
    /// exactly the entry's key (entries can be stale).
    pub fn index_scan(
        &self,
        view: ReadView,
        name: &str,
        lo: Bound<&[u8]>,
        hi: Bound<&[u8]>,
        limit: usize,
    ) -> Result<Vec<(Key, Key, Row)>> {
        let Some(ix) = self.secondary.iter().find(|s| s.def.name == name) else {
            return Err(Error::new(
                ErrorKind::SerializationFailure,
                format!("could not serialize access: index \"{name}\" was dropped concurrently"),
            ));
        };
        let mut out = Vec::new();
        for (k, pk) in ix.range(lo, hi) {
            if out.len() >= limit {
                break;
            }
            let Some(row) = self.index.get(pk).and_then(|c| c.visible(view)) else { continue };
            if ix.key_of(row).as_ref() == Some(k) {
                out.push((k.clone(), pk.clone(), row.clone()));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::InsertConflict;
    use crate::storage::{Isolation, Latest, Refused};
    use crate::sync::Arc;
    use crate::txn::{CommitTs, TxnStatus};
    use crate::types::encode_key;

    fn row(id: i32, email: Option<&str>) -> Row {
        Row::from(vec![Value::Int4(id), email.map_or(Value::Null, |e| Value::Text(e.into()))])
    }

    fn pk(i: i32) -> Key {
        let mut k = Vec::new();
        encode_key(&[Value::Int4(i)], &mut k);
        k.into_boxed_slice()
    }

    fn unique_part() -> Partition {
        let mut part = Partition::default();
        let def =
            IndexDef { name: "t_e_key".into(), columns: vec![1], unique: true, constraint: true };
        part.set_indexes(vec![def]).expect("empty table");
        part
    }

    fn txn(id: u64) -> Arc<TxnStatus> {
        TxnStatus::new(TxnId(id))
    }

    #[test]
    fn a_second_insert_waits_for_an_uncommitted_one_then_fails_or_succeeds() {
        let mut part = unique_part();
        let (t1, t2) = (txn(1), txn(2));
        part.insert(&t1, vec![(pk(1), row(1, Some("x")))]).expect("first");
        let blocked = part.insert(&t2, vec![(pk(2), row(2, Some("x")))]);
        assert_eq!(blocked, Err(Refused { at: 0, why: InsertConflict::Blocked(TxnId(1)) }));
        t1.commit(CommitTs(1));
        let dup = part.insert(&t2, vec![(pk(2), row(2, Some("x")))]);
        assert_eq!(dup, Err(Refused { at: 0, why: InsertConflict::Unique(0) }));
        // A rolled-back holder frees the key.
        let (t3, t4) = (txn(3), txn(4));
        part.insert(&t3, vec![(pk(3), row(3, Some("y")))]).expect("t3");
        t3.abort();
        part.insert(&t4, vec![(pk(4), row(4, Some("y")))]).expect("free after rollback");
        // NULLs never conflict.
        part.insert(&t4, vec![(pk(5), row(5, None)), (pk(6), row(6, None))]).expect("nulls");
    }

    #[test]
    fn an_update_onto_a_taken_key_is_refused_and_a_moved_key_is_free() {
        let mut part = unique_part();
        let t1 = txn(1);
        part.insert(&t1, vec![(pk(1), row(1, Some("a"))), (pk(2), row(2, Some("b")))])
            .expect("load");
        t1.commit(CommitTs(1));
        let t2 = txn(2);
        let view = ReadView { snapshot: CommitTs(1), txn: TxnId(2) };
        let base =
            |p: &Partition, k: &Key| match p.latest(view, Isolation::ReadCommitted, TxnId(2), k) {
                Ok(Latest::Row(v)) => v,
                other => panic!("expected a row, got {other:?}"),
            };
        let b2 = base(&part, &pk(2));
        let out = part.put(&t2, &pk(2), &b2, Some(row(2, Some("a"))), CommitTs(0));
        assert_eq!(out.expect("put"), PutOutcome::Unique(0));
        // Move 1 off 'a' (uncommitted): another transaction taking 'a' must wait.
        let b1 = base(&part, &pk(1));
        let out = part.put(&t2, &pk(1), &b1, Some(row(1, Some("c"))), CommitTs(0));
        assert_eq!(out.expect("put"), PutOutcome::Written);
        let t3 = txn(3);
        let taken = part.insert(&t3, vec![(pk(9), row(9, Some("a")))]);
        assert_eq!(taken, Err(Refused { at: 0, why: InsertConflict::Blocked(TxnId(2)) }));
        t2.commit(CommitTs(2));
        part.insert(&t3, vec![(pk(9), row(9, Some("a")))]).expect("'a' is free now");
        let now = ReadView { snapshot: CommitTs(2), txn: TxnId(3) };
        let k = |e: &str| {
            let mut b = Vec::new();
            encode_key(&[Value::Text(e.into())], &mut b);
            b
        };
        let found = part
            .index_scan(
                now,
                "t_e_key",
                Bound::Included(&k("a")),
                Bound::Included(&k("a")),
                usize::MAX,
            )
            .expect("scan");
        let want = vec![(k("a").into(), pk(9), row(9, Some("a")))];
        assert_eq!(found, want, "the stale ('a', 1) entry is skipped");
    }

    #[test]
    fn vacuum_drops_stale_entries_and_a_unique_build_finds_duplicates() {
        let mut part = Partition::default();
        let t1 = txn(1);
        part.insert(&t1, vec![(pk(1), row(1, Some("a"))), (pk(2), row(2, Some("a")))])
            .expect("no index yet");
        t1.commit(CommitTs(1));
        let def =
            IndexDef { name: "t_e_key".into(), columns: vec![1], unique: true, constraint: false };
        let err = part.set_indexes(vec![def.clone()]).expect_err("duplicate");
        assert_eq!(err.index, "t_e_key");
        let plain = IndexDef { unique: false, ..def };
        part.set_indexes(vec![plain]).expect("a plain index allows duplicates");
        let t2 = txn(2);
        let view = ReadView { snapshot: CommitTs(1), txn: TxnId(2) };
        let Ok(Latest::Row(b)) = part.latest(view, Isolation::ReadCommitted, TxnId(2), &pk(1))
        else {
            panic!("row 1")
        };
        part.put(&t2, &pk(1), &b, Some(row(1, Some("z"))), CommitTs(0)).expect("put");
        t2.commit(CommitTs(2));
        assert_eq!(part.secondary[0].len(), 3, "the old entry stays until vacuum");
        let mut todo = part.vacuum_start();
        part.vacuum_chunk(CommitTs(2), &mut todo);
        assert_eq!(part.secondary[0].len(), 2);
    }
}
