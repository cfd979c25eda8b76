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
}

impl TxnStatus {
    /// A new, active transaction.
    pub fn new(id: TxnId) -> Arc<TxnStatus> {
        Arc::new(TxnStatus { id, state: AtomicU64::new(ACTIVE) })
    }

    /// The status of rows recovered from disk: committed at timestamp 0.
    pub fn frozen() -> Arc<TxnStatus> {
        // `u64::MAX - 1` would also do; we encode "committed at 0" as state 0 with the
        // reserved id 0, which `state()` maps to Committed(0).
        Arc::new(TxnStatus { id: TxnId(FROZEN_ID), state: AtomicU64::new(ACTIVE) })
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
        match self.state.load(Ordering::Acquire) {
            ACTIVE => State::Active,
            ABORTED => State::Aborted,
            ts => State::Committed(CommitTs(ts)),
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

    /// True if a reader with snapshot `snapshot`, running as transaction `reader`, sees
    /// versions written by this transaction.
    pub fn visible_to(&self, snapshot: CommitTs, reader: TxnId) -> bool {
        if self.id == reader && self.id.0 != FROZEN_ID {
            return true;
        }
        matches!(self.state(), State::Committed(ts) if ts <= snapshot)
    }
}
