//! Transactions: ids, commit timestamps, the shared commit status that versions point
//! to, and the TxnManager actor that orders commits and publishes the visibility
//! watermark.

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
