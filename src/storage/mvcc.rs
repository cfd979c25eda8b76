//! MVCC version chains: each key holds the versions written to it, oldest first.
//!
//! ```text
//!   key 42:  [ v0 (frozen, ts 0) | v1 (T7, ts 12) | v2 (T9, active) ]
//!   snapshot 11, reader T3  → v0        snapshot 12, reader T3 → v1
//!   reader T9 (own write)   → v2        after T9 aborts         → v2 is garbage
//! ```
//! A version points at its writer's [`TxnStatus`]; it is visible to a reader when the
//! writer is the reader itself or committed at or before the reader's snapshot. Writers
//! of one key are serialised by the row lock (LockManager), so chain order is commit
//! order and at most one transaction's uncommitted versions sit on top of a chain.
//! A version whose row is `None` is a deletion.
//!
//! # Row locks
//! A row is held in one of PostgreSQL's four strengths ([`RowLockMode`]). A writer holds
//! it through its uncommitted version (`Version::mode`: NO KEY UPDATE for an UPDATE that
//! leaves the key columns alone, UPDATE for a DELETE or a key change). A locking read
//! (SELECT … FOR UPDATE / NO KEY UPDATE / SHARE / KEY SHARE, and a foreign-key check's
//! KEY SHARE on the parent row) writes no version: it adds a [`RowLock`] to the chain's
//! `locks`, so that several sharers hold one row at once and a lock is never mistaken
//! for a change (a REPEATABLE READ writer whose snapshot predates a lock does not get
//! 40001 for it, PostgreSQL's `HEAP_XMAX_LOCK_ONLY`). Locks never reach the WAL; one
//! whose transaction ended no longer counts and is dropped lazily.
//!
//! ```text
//!   held →       KEY SHARE  SHARE  NO KEY UPDATE  UPDATE
//!   KEY SHARE        .        .          .          X
//!   SHARE            .        .          X          X
//!   NO KEY UPDATE    .        X          X          X
//!   UPDATE           X        X          X          X
//! ```
//! [`Chain::blocker`] applies the table: the first active holder (writer or locker) of
//! another transaction whose strength conflicts with the one wanted.

use crate::sync::Arc;
use crate::txn::{CommitTs, State, TxnId, TxnStatus};
use crate::types::Value;

/// An immutable row image, shared between versions, readers and the WAL record.
pub type Row = Arc<[Value]>;

/// A row-lock strength, weakest first (PostgreSQL's `LockTupleMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RowLockMode {
    /// FOR KEY SHARE; a foreign-key check on the referenced row.
    KeyShare,
    /// FOR SHARE.
    Share,
    /// FOR NO KEY UPDATE; an UPDATE that changes no key column.
    NoKeyUpdate,
    /// FOR UPDATE; a DELETE, or an UPDATE of a key column.
    Update,
}

impl RowLockMode {
    /// True if a holder in `self` and one in `other` (different transactions) cannot
    /// hold the row at once (the table in the module doc).
    pub fn conflicts(self, other: RowLockMode) -> bool {
        use RowLockMode::*;
        match (self.min(other), self.max(other)) {
            (KeyShare, Update) => true,
            (KeyShare, _) => false,
            (Share, Share) => false,
            _ => true,
        }
    }

    /// The SQL that asks for this strength (`FOR NO KEY UPDATE`), for messages.
    pub fn clause(self) -> &'static str {
        match self {
            RowLockMode::KeyShare => "FOR KEY SHARE",
            RowLockMode::Share => "FOR SHARE",
            RowLockMode::NoKeyUpdate => "FOR NO KEY UPDATE",
            RowLockMode::Update => "FOR UPDATE",
        }
    }
}

/// One version of a key.
#[derive(Debug, Clone)]
pub struct Version {
    /// The writer's status.
    pub status: Arc<TxnStatus>,
    /// The row, or `None` for a deletion.
    pub row: Option<Row>,
    /// The strength the writer holds the row with while it is active.
    pub mode: RowLockMode,
    /// A deletion that moved the row to another key (an UPDATE of its primary key,
    /// `Partition::move_row`): a writer that built on the row gets 40001 instead of
    /// skipping it (PostgreSQL's moved-partition marker).
    pub moved: bool,
}

/// A lock on a row taken by a locking read: no new version, only a holder.
#[derive(Debug, Clone)]
pub struct RowLock {
    /// The locking (sub)transaction's status: the lock counts while it is active.
    pub status: Arc<TxnStatus>,
    /// Its strength.
    pub mode: RowLockMode,
}

/// The versions of one key, oldest first, and the locks held on it.
#[derive(Debug, Default, Clone)]
pub struct Chain {
    /// Oldest first.
    pub versions: Vec<Version>,
    /// Locks of locking reads (active ones count; ended ones are dropped lazily).
    pub locks: Vec<RowLock>,
}

/// Who reads: a snapshot and the reading transaction (which sees its own writes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadView {
    /// Commits at or before this timestamp are visible.
    pub snapshot: CommitTs,
    /// The reader's own writes are visible too.
    pub txn: TxnId,
}

impl Chain {
    /// A chain holding one frozen row (loaded at start-up).
    pub fn frozen(row: Row, status: &Arc<TxnStatus>) -> Chain {
        Chain {
            versions: vec![Version {
                status: status.clone(),
                row: Some(row),
                mode: RowLockMode::Update,
                moved: false,
            }],
            locks: Vec::new(),
        }
    }

    /// Index of the newest version visible to `view`.
    pub fn visible_index(&self, view: ReadView) -> Option<usize> {
        self.versions.iter().rposition(|v| v.status.visible_to(view.snapshot, view.txn))
    }

    /// The row visible to `view` (`None` if none or deleted).
    pub fn visible(&self, view: ReadView) -> Option<&Row> {
        self.visible_index(view).and_then(|i| self.versions[i].row.as_ref())
    }

    /// Index of the newest version that is committed (at any time) or written by the
    /// top-level transaction `txn` (any of its live subtransactions): what a writer
    /// holding the row lock builds on (EvalPlanQual's "latest version").
    /// `Err(holder)` if another transaction's uncommitted version is on top (`holder`
    /// is the id of the (sub)transaction that wrote it: the one to wait for).
    pub fn latest_index(&self, txn: TxnId) -> Result<Option<usize>, TxnId> {
        for (i, v) in self.versions.iter().enumerate().rev() {
            match v.status.state() {
                State::Aborted => continue,
                _ if v.status.top() == txn => return Ok(Some(i)),
                State::Committed(_) => return Ok(Some(i)),
                State::Active => return Err(v.status.id()),
            }
        }
        Ok(None)
    }

    /// The active holder of another top-level transaction than `txn` whose strength
    /// conflicts with `want`: the (sub)transaction id to wait for.
    pub fn blocker(&self, txn: TxnId, want: RowLockMode) -> Option<TxnId> {
        let other = |s: &TxnStatus| s.state() == State::Active && s.top() != txn;
        // The other's versions: one transaction may have written the row twice, a key
        // change first, so every one counts, not only the newest.
        let writer =
            self.versions.iter().rev().find(|v| other(&v.status) && v.mode.conflicts(want));
        if let Some(v) = writer {
            return Some(v.status.id());
        }
        self.locks
            .iter()
            .find(|l| other(&l.status) && l.mode.conflicts(want))
            .map(|l| l.status.id())
    }

    /// [`Chain::latest_index`] for a holder in strength `want`: a KEY SHARE lock may
    /// be taken under another transaction's uncommitted NO KEY UPDATE version, and then
    /// builds on the committed version below it.
    pub fn latest_index_for(&self, txn: TxnId, want: RowLockMode) -> Result<Option<usize>, TxnId> {
        if let Some(holder) = self.blocker(txn, want) {
            return Err(holder);
        }
        for (i, v) in self.versions.iter().enumerate().rev() {
            match v.status.state() {
                State::Aborted => continue,
                _ if v.status.top() == txn => return Ok(Some(i)),
                State::Committed(_) => return Ok(Some(i)),
                // Not conflicting (checked above): look below it.
                State::Active => continue,
            }
        }
        Ok(None)
    }

    /// Adds a lock of `status` in `mode` unless its transaction already holds one at
    /// least as strong (drops ended locks on the way).
    pub fn add_lock(&mut self, status: &Arc<TxnStatus>, mode: RowLockMode) {
        self.locks.retain(|l| l.status.state() == State::Active);
        let held = self.locks.iter().any(|l| l.status.id() == status.id() && l.mode >= mode);
        if !held {
            self.locks.push(RowLock { status: status.clone(), mode });
        }
    }

    /// True if a transaction other than `txn` holds an active lock here.
    pub fn locked_by_other(&self, txn: TxnId) -> Option<TxnId> {
        self.locks
            .iter()
            .find(|l| l.status.state() == State::Active && l.status.top() != txn)
            .map(|l| l.status.id())
    }

    /// Drops versions of aborted transactions, and those of `txn` (rolled back), and
    /// their locks.
    pub fn remove_txn(&mut self, txn: TxnId) {
        self.versions.retain(|v| v.status.id() != txn && v.status.state() != State::Aborted);
        self.locks.retain(|l| l.status.id() != txn && l.status.state() == State::Active);
    }

    /// True when the key can go: no versions, or only a deletion that every snapshot at
    /// or after `horizon` sees.
    pub fn is_dead(&self, horizon: CommitTs) -> bool {
        match self.versions.as_slice() {
            [] => true,
            [only] => {
                only.row.is_none()
                    && matches!(only.status.state(), State::Committed(ts) if ts <= horizon)
            }
            _ => false,
        }
    }

    /// True when a vacuum has nothing left to do here: one committed, live version and
    /// no locks.
    pub fn is_clean(&self) -> bool {
        self.locks.is_empty()
            && matches!(self.versions.as_slice(),
                [only] if only.row.is_some() && matches!(only.status.state(), State::Committed(_)))
    }

    /// Drops versions no snapshot at or after `horizon` can see: everything older than
    /// the newest version committed at or before `horizon`, and aborted versions.
    pub fn prune(&mut self, horizon: CommitTs) {
        self.versions.retain(|v| v.status.state() != State::Aborted);
        self.locks.retain(|l| l.status.state() == State::Active);
        let keep_from = self
            .versions
            .iter()
            .rposition(|v| matches!(v.status.state(), State::Committed(ts) if ts <= horizon));
        if let Some(i) = keep_from {
            if i > 0 {
                self.versions.drain(..i);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn committed(id: u64, ts: u64, row: Option<i32>) -> Version {
        let status = TxnStatus::new(TxnId(id));
        status.commit(CommitTs(ts));
        Version {
            status,
            row: row.map(|v| Row::from(vec![Value::Int4(v)])),
            mode: RowLockMode::Update,
            moved: false,
        }
    }

    #[test]
    fn prune_keeps_what_the_horizon_can_see() {
        let mut chain = Chain {
            versions: vec![
                committed(1, 5, Some(1)),
                committed(2, 8, Some(2)),
                committed(3, 12, Some(3)),
            ],
            locks: Vec::new(),
        };
        chain.prune(CommitTs(10));
        // A snapshot at 10 sees ts 8; one at 12 sees ts 12; ts 5 is invisible to both.
        assert_eq!(chain.versions.len(), 2);
        let view = ReadView { snapshot: CommitTs(10), txn: TxnId(99) };
        assert_eq!(chain.visible(view).map(|r| r[0].clone()), Some(Value::Int4(2)));
    }

    #[test]
    fn a_deletion_older_than_the_horizon_is_dead() {
        let mut chain = Chain {
            versions: vec![committed(1, 5, Some(1)), committed(2, 8, None)],
            locks: Vec::new(),
        };
        chain.prune(CommitTs(7));
        assert!(!chain.is_dead(CommitTs(7)), "a snapshot at 7 still sees the row");
        chain.prune(CommitTs(9));
        assert!(chain.is_dead(CommitTs(9)));
    }

    #[test]
    fn the_conflict_table_is_postgres_s() {
        use RowLockMode::*;
        let all = [KeyShare, Share, NoKeyUpdate, Update];
        let want = [
            [false, false, false, true],
            [false, false, true, true],
            [false, true, true, true],
            [true, true, true, true],
        ];
        for (i, a) in all.iter().enumerate() {
            for (j, b) in all.iter().enumerate() {
                assert_eq!(a.conflicts(*b), want[i][j], "{a:?} vs {b:?}");
            }
        }
    }

    #[test]
    fn sharers_hold_a_row_together_and_block_a_writer() {
        let mut chain = Chain { versions: vec![committed(1, 1, Some(1))], locks: Vec::new() };
        let (t2, t3) = (TxnStatus::new(TxnId(2)), TxnStatus::new(TxnId(3)));
        chain.add_lock(&t2, RowLockMode::Share);
        assert_eq!(chain.latest_index_for(TxnId(3), RowLockMode::Share), Ok(Some(0)));
        chain.add_lock(&t3, RowLockMode::Share);
        assert_eq!(chain.blocker(TxnId(4), RowLockMode::NoKeyUpdate), Some(TxnId(2)));
        t2.commit(CommitTs(2));
        assert_eq!(chain.blocker(TxnId(4), RowLockMode::NoKeyUpdate), Some(TxnId(3)));
        t3.abort();
        assert_eq!(chain.blocker(TxnId(4), RowLockMode::Update), None);
        // A KEY SHARE lock goes under an uncommitted NO KEY UPDATE version.
        let t5 = TxnStatus::new(TxnId(5));
        chain.versions.push(Version {
            status: t5,
            row: None,
            mode: RowLockMode::NoKeyUpdate,
            moved: false,
        });
        assert_eq!(chain.latest_index_for(TxnId(6), RowLockMode::KeyShare), Ok(Some(0)));
        assert_eq!(chain.latest_index_for(TxnId(6), RowLockMode::Share), Err(TxnId(5)));
    }
}
