//! Transactions: ids, commit timestamps, the shared commit status that versions point
//! to, and the TxnManager actor that orders commits and publishes the visibility
//! watermark.
//!
//! A snapshot is a commit timestamp: it sees exactly the transactions that committed at
//! or before it. Taking one is a single atomic load of the watermark ([`Watermark`]),
//! so sessions never message the TxnManager to start a statement; they message it only
//! to commit a transaction that wrote something.

pub mod actor;
pub mod core;
pub mod status;

pub use actor::{Commit, GroupDurable, TxnManager};
pub use status::{State, TxnStatus};

use std::collections::BTreeMap;

use crate::sync::{Arc, AtomicU64, Mutex, Ordering};

/// A transaction's id, handed out once per transaction (never reused in a process).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TxnId(pub u64);

/// A commit timestamp: commits are totally ordered by it, and a snapshot is one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CommitTs(pub u64);

impl std::fmt::Display for TxnId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The published visibility watermark, the transaction-id counter, and the registry of
/// snapshots in use (whose oldest is the garbage-collection horizon).
#[derive(Debug, Clone)]
pub struct Watermark {
    ts: Arc<AtomicU64>,
    next_txn: Arc<AtomicU64>,
    // Registration and the horizon read happen under one mutex, so a snapshot is
    // either counted or newer than any horizon computed before it: a pruner can never
    // drop a version a registered snapshot needs.
    in_use: Arc<Mutex<BTreeMap<u64, usize>>>,
}

/// A registered snapshot; unregisters on drop.
#[derive(Debug)]
pub struct SnapshotGuard {
    ts: CommitTs,
    in_use: Arc<Mutex<BTreeMap<u64, usize>>>,
}

impl SnapshotGuard {
    /// The snapshot's timestamp.
    pub fn ts(&self) -> CommitTs {
        self.ts
    }
}

impl Drop for SnapshotGuard {
    fn drop(&mut self) {
        let mut map = self.in_use.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get_mut(&self.ts.0) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.ts.0);
            }
        }
    }
}

impl Watermark {
    /// Starts at `last` (the newest recovered commit; 0 on a fresh store).
    pub fn new(last: CommitTs) -> Watermark {
        Watermark {
            ts: Arc::new(AtomicU64::new(last.0)),
            next_txn: Arc::new(AtomicU64::new(1)),
            in_use: Arc::new(Mutex::new(BTreeMap::new())),
        }
    }

    /// Takes and registers a snapshot; it counts for the horizon until dropped.
    pub fn begin_snapshot(&self) -> SnapshotGuard {
        let mut map = self.in_use.lock().unwrap_or_else(|e| e.into_inner());
        let ts = self.ts.load(Ordering::Acquire);
        *map.entry(ts).or_insert(0) += 1;
        SnapshotGuard { ts: CommitTs(ts), in_use: self.in_use.clone() }
    }

    /// The oldest snapshot any reader may still use: versions hidden behind a newer
    /// version committed at or before it can be dropped.
    pub fn horizon(&self) -> CommitTs {
        let map = self.in_use.lock().unwrap_or_else(|e| e.into_inner());
        let oldest = map.keys().next().copied();
        CommitTs(oldest.unwrap_or_else(|| self.ts.load(Ordering::Acquire)))
    }

    /// A snapshot: every commit at or before it is durable and published.
    pub fn snapshot(&self) -> CommitTs {
        CommitTs(self.ts.load(Ordering::Acquire))
    }

    /// The shared cell the TxnManager stores into.
    pub fn cell(&self) -> Arc<AtomicU64> {
        self.ts.clone()
    }

    /// A fresh transaction id (id 0 is reserved for rows loaded at start-up).
    pub fn next_txn_id(&self) -> TxnId {
        TxnId(self.next_txn.fetch_add(1, Ordering::Relaxed))
    }
}
