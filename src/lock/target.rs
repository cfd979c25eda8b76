//! What can be locked, in which modes, and what a request does when it would wait.
//!
//! Two modes only, with the conflict table
//!
//! ```text
//!               held Shared   held Exclusive
//! Shared            ok          conflict
//! Exclusive      conflict       conflict
//! ```
//!
//! `Shared` is what `SELECT ... FOR SHARE` takes; `Exclusive` is what writes and
//! `SELECT ... FOR UPDATE` take (PostgreSQL's four tuple-lock modes collapse onto these
//! two: FOR KEY SHARE behaves as FOR SHARE, FOR NO KEY UPDATE as FOR UPDATE). Table
//! targets serve DDL. [`LockMode`] is `#[non_exhaustive]` so that PostgreSQL's finer
//! modes can be added without breaking callers.

use crate::catalog::TableId;
use crate::txn::TxnId;

/// A lockable object: one row of a table (by its encoded primary key or row id), or a
/// whole table.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LockTarget {
    /// One row, named by the order-preserving encoding of its key.
    Row {
        /// The row's table.
        table: TableId,
        /// The encoded primary key (or hidden row id).
        key: Box<[u8]>,
    },
    /// A whole table (DDL).
    Table(TableId),
    /// A transaction: held Exclusive by the transaction itself from its first write
    /// until it ends; a writer that finds the transaction's uncommitted version on a row
    /// waits by asking for it Shared (PostgreSQL's "ShareLock on transaction N").
    Transaction(TxnId),
    /// A PostgreSQL advisory lock (`pg_advisory_lock(key)` / `(key1, key2)`): an
    /// application-defined number. Held by a session (owner
    /// [`crate::lock::session_owner`]) or by a transaction (the `_xact_` functions).
    Advisory {
        /// True for the two-int4 form, whose key space is separate from the bigint one
        /// (PostgreSQL's objsubid 2 versus 1).
        pair: bool,
        /// The bigint key, or `(key1 << 32) | key2` for the pair form.
        key: i64,
    },
}

impl LockTarget {
    /// The object as PostgreSQL names it in a deadlock report: `tuple of relation N` or
    /// `relation N`.
    pub fn describe(&self) -> String {
        match self {
            LockTarget::Row { table, .. } => format!("tuple of relation {}", table.0),
            LockTarget::Table(table) => format!("relation {}", table.0),
            LockTarget::Transaction(txn) => format!("transaction {}", txn.0),
            LockTarget::Advisory { pair, key } => {
                let (hi, lo) = ((*key >> 32) as u32, *key as u32);
                format!("advisory lock [{hi},{lo},{}]", if *pair { 2 } else { 1 })
            }
        }
    }

    /// The noun PostgreSQL's 55P03 message uses: `row` or `relation`.
    pub fn noun(&self) -> &'static str {
        match self {
            LockTarget::Row { .. } | LockTarget::Transaction(_) => "row",
            LockTarget::Table(_) => "relation",
            LockTarget::Advisory { .. } => "advisory lock",
        }
    }
}

/// How strongly a target is locked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LockMode {
    /// FOR SHARE: many holders at once, none of them writing.
    Shared,
    /// Writes and FOR UPDATE: one holder, nobody else.
    Exclusive,
}

impl LockMode {
    /// True when a holder in `self` lets another transaction hold `other` at the same time.
    pub fn compatible_with(self, other: LockMode) -> bool {
        matches!((self, other), (LockMode::Shared, LockMode::Shared))
    }

    /// True when holding `self` already gives everything `wanted` asks for.
    pub fn covers(self, wanted: LockMode) -> bool {
        self == LockMode::Exclusive || wanted == LockMode::Shared
    }

    /// PostgreSQL's name of the mode in a deadlock report.
    pub fn pg_name(self) -> &'static str {
        match self {
            LockMode::Shared => "ShareLock",
            LockMode::Exclusive => "ExclusiveLock",
        }
    }
}

/// What a request does when it cannot be granted at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitPolicy {
    /// Wait in the FIFO queue until granted (or deadlock, or cancel).
    Block,
    /// Fail at once with 55P03 (`FOR UPDATE NOWAIT`).
    NoWait,
    /// Give up at once without an error (`FOR UPDATE SKIP LOCKED`): the row is skipped.
    SkipLocked,
}

/// The successful outcomes of an acquire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acquired {
    /// The lock is held (now, or it already was in the same or a stronger mode).
    Granted,
    /// The lock was not free and the request asked for [`WaitPolicy::SkipLocked`].
    Skipped,
}
