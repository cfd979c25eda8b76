//! The commit status every version of a transaction points to.
//!
//! Storage does not stamp each version with its commit timestamp. Every version holds
//! an `Arc<TxnStatus>` of the transaction that wrote it, and committing is one atomic
//! store into that status (done by the TxnManager, in commit-timestamp order, before the
//! visibility watermark moves past it). So a transaction's writes become visible all at
//! once — no snapshot can see part of one (DESIGN §2, invariant 2) — and storage needs
//! no message at commit.
//!
//! ```text
//!  state:  ACTIVE (0) ──commit(ts)──▶ ts (1..u64::MAX-1)
//!             │
//!             └──────abort──────────▶ ABORTED (u64::MAX)
//! ```
//! Rows loaded at start-up are committed "before everything": [`TxnStatus::frozen`] has
//! timestamp 0, which every snapshot (≥ 0) sees.
//!
//! A subtransaction (SAVEPOINT) has a status of its own, with its own id, whose
//! `parent` is the status it runs under. It can abort on its own (ROLLBACK TO
//! SAVEPOINT: its versions, and its children's, turn to garbage at once); otherwise it
//! has no outcome of its own: it reads its parent's, so the top-level commit is still
//! one atomic store that publishes every subtransaction's versions with it.
//! ```text
//!   top T7 (ACTIVE) ◀─parent── sub T9 (ACTIVE: reads T7's state) ◀─parent── sub T12
//!   ROLLBACK TO the savepoint that made T9: T9 ABORTED → T9 and T12 read as aborted
//! ```

use crate::sync::{Arc, AtomicU64, Ordering};
use crate::txn::{CommitTs, TxnId};

const ACTIVE: u64 = 0;
const ABORTED: u64 = u64::MAX;
/// Frozen rows use a separate flag so that timestamp 0 can mean "visible to all".
const FROZEN_ID: u64 = 0;

/// What a reader learns from a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Still running (or committing but not yet stamped).
    Active,
    /// Committed at this timestamp.
    Committed(CommitTs),
    /// Rolled back; its versions are garbage.
    Aborted,
}

/// One transaction's id and its (atomically published) outcome.
#[derive(Debug)]
pub struct TxnStatus {
    id: TxnId,
    state: AtomicU64,
    /// The status a subtransaction runs under (`None` for a top-level transaction).
    parent: Option<Arc<TxnStatus>>,
}

impl TxnStatus {
    /// A new, active transaction.
    pub fn new(id: TxnId) -> Arc<TxnStatus> {
        Arc::new(TxnStatus { id, state: AtomicU64::new(ACTIVE), parent: None })
    }

    /// A subtransaction of `parent` (SAVEPOINT).
    pub fn child(id: TxnId, parent: &Arc<TxnStatus>) -> Arc<TxnStatus> {
        Arc::new(TxnStatus { id, state: AtomicU64::new(ACTIVE), parent: Some(parent.clone()) })
    }

    /// The top-level transaction's id (its own for a top-level transaction).
    pub fn top(&self) -> TxnId {
        match &self.parent {
            Some(p) => p.top(),
            None => self.id,
        }
    }

    /// The status of rows recovered from disk: committed at timestamp 0.
    pub fn frozen() -> Arc<TxnStatus> {
        // `u64::MAX - 1` would also do; we encode "committed at 0" as state 0 with the
        // reserved id 0, which `state()` maps to Committed(0).
        Arc::new(TxnStatus { id: TxnId(FROZEN_ID), state: AtomicU64::new(ACTIVE), parent: None })
    }

    /// The transaction id.
    pub fn id(&self) -> TxnId {
        self.id
    }

    /// The current outcome. `Acquire` pairs with the `Release` in [`TxnStatus::commit`].
    pub fn state(&self) -> State {
        if self.id.0 == FROZEN_ID {
            return State::Committed(CommitTs(0));
        }
        match (self.state.load(Ordering::Acquire), &self.parent) {
            (ABORTED, _) => State::Aborted,
            (_, Some(parent)) => parent.state(),
            (ACTIVE, None) => State::Active,
            (ts, None) => State::Committed(CommitTs(ts)),
        }
    }

    /// Publishes the commit. Called only by the TxnManager, before the watermark passes
    /// `ts`.
    pub fn commit(&self, ts: CommitTs) {
        debug_assert!(ts.0 != ACTIVE && ts.0 != ABORTED);
        self.state.store(ts.0, Ordering::Release);
    }

    /// Marks the transaction rolled back.
    pub fn abort(&self) {
        self.state.store(ABORTED, Ordering::Release);
    }

    /// True if a reader with snapshot `snapshot`, running as top-level transaction
    /// `reader`, sees versions written by this transaction (its own, subtransactions
    /// included, unless rolled back to a savepoint).
    pub fn visible_to(&self, snapshot: CommitTs, reader: TxnId) -> bool {
        if self.id.0 != FROZEN_ID && self.top() == reader {
            return self.state() != State::Aborted;
        }
        matches!(self.state(), State::Committed(ts) if ts <= snapshot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subtransaction_reads_its_parents_outcome_unless_it_aborted_itself() {
        let top = TxnStatus::new(TxnId(7));
        let sub = TxnStatus::child(TxnId(9), &top);
        let inner = TxnStatus::child(TxnId(12), &sub);
        assert_eq!((sub.top(), inner.top()), (TxnId(7), TxnId(7)));
        assert!(inner.visible_to(CommitTs(0), TxnId(7)), "own writes, at any depth");
        assert!(!inner.visible_to(CommitTs(100), TxnId(8)), "not yet committed");
        sub.abort();
        assert_eq!(
            inner.state(),
            State::Aborted,
            "rolling back a savepoint aborts what is inside it"
        );
        assert!(!inner.visible_to(CommitTs(0), TxnId(7)));
        let other = TxnStatus::child(TxnId(13), &top);
        top.commit(CommitTs(40));
        assert_eq!(
            other.state(),
            State::Committed(CommitTs(40)),
            "one store commits every live subtransaction"
        );
        assert_eq!(sub.state(), State::Aborted);
    }
}
