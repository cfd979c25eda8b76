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
//! A *lock-only* version (SELECT … FOR UPDATE) repeats the row image below it: it holds
//! the row lock like any uncommitted version, reads see the same row through it, and
//! it is not a change: a REPEATABLE READ writer whose snapshot predates it does not get
//! 40001 for it (PostgreSQL's `HEAP_XMAX_LOCK_ONLY`). It never reaches the WAL.

use crate::sync::Arc;
use crate::txn::{CommitTs, State, TxnId, TxnStatus};
use crate::types::Value;

/// An immutable row image, shared between versions, readers and the WAL record.
pub type Row = Arc<[Value]>;

/// One version of a key.
#[derive(Debug, Clone)]
pub struct Version {
    /// The writer's status.
    pub status: Arc<TxnStatus>,
    /// The row, or `None` for a deletion.
    pub row: Option<Row>,
    /// A row lock, not a change: `row` repeats the version below.
    pub lock_only: bool,
}

/// The versions of one key, oldest first.
#[derive(Debug, Default, Clone)]
pub struct Chain {
    /// Oldest first.
    pub versions: Vec<Version>,
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
            versions: vec![Version { status: status.clone(), row: Some(row), lock_only: false }],
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

    /// Drops versions of aborted transactions, and those of `txn` (rolled back).
    pub fn remove_txn(&mut self, txn: TxnId) {
        self.versions.retain(|v| v.status.id() != txn && v.status.state() != State::Aborted);
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

    /// Drops versions no snapshot at or after `horizon` can see: everything older than
    /// the newest version committed at or before `horizon`, and aborted versions.
    pub fn prune(&mut self, horizon: CommitTs) {
        self.versions.retain(|v| v.status.state() != State::Aborted);
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
        Version { status, row: row.map(|v| Row::from(vec![Value::Int4(v)])), lock_only: false }
    }

    #[test]
    fn prune_keeps_what_the_horizon_can_see() {
        let mut chain = Chain {
            versions: vec![
                committed(1, 5, Some(1)),
                committed(2, 8, Some(2)),
                committed(3, 12, Some(3)),
            ],
        };
        chain.prune(CommitTs(10));
        // A snapshot at 10 sees ts 8; one at 12 sees ts 12; ts 5 is invisible to both.
        assert_eq!(chain.versions.len(), 2);
        let view = ReadView { snapshot: CommitTs(10), txn: TxnId(99) };
        assert_eq!(chain.visible(view).map(|r| r[0].clone()), Some(Value::Int4(2)));
    }

    #[test]
    fn a_deletion_older_than_the_horizon_is_dead() {
        let mut chain = Chain { versions: vec![committed(1, 5, Some(1)), committed(2, 8, None)] };
        chain.prune(CommitTs(7));
        assert!(!chain.is_dead(CommitTs(7)), "a snapshot at 7 still sees the row");
        chain.prune(CommitTs(9));
        assert!(chain.is_dead(CommitTs(9)));
    }
}
