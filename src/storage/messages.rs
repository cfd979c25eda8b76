//! The requests a storage actor serves. Sessions send them through a
//! [`super::TableStore`] handle; the engine sends `Vacuum` from its autovacuum task.
//! Each carries a oneshot for its reply, except `RemoveTxn`, which nobody waits for.
//! A reply never comes late in the sense that matters: the actor handles requests one
//! at a time in arrival order, so a reply reflects every request that reached the
//! actor before it. A reply whose receiver is gone (the session was dropped while
//! waiting) is discarded; the request's effect stays, as a statement's effect stays
//! until its transaction ends.

use std::ops::Bound;

use tokio::sync::oneshot;

use super::index::Key;
use super::mvcc::{Chain, ReadView, Row, RowLockMode, Version};
use super::partition::{
    IndexBuildError, Latest, PutOutcome, Refused, RowChange, ScanBatch, Updated,
};
use super::Isolation;
use crate::catalog::IndexDef;
use crate::error::Result;
use crate::sync::Arc;
use crate::txn::{CommitTs, TxnId, TxnStatus};

/// A request to the storage actor that owns a partition.
#[derive(Debug)]
pub enum Request {
    /// A point read: the row at `key` visible to `view` (a SELECT by primary key, or a
    /// LATERAL probe). Sent by the executor.
    Get {
        /// Snapshot and reading transaction.
        view: ReadView,
        /// Encoded key.
        key: Key,
        /// The row, or `None`.
        reply: oneshot::Sender<Option<Row>>,
    },
    /// One batch of a range scan; the reply says where to resume. Sent by the executor
    /// and by DML looking for the rows a WHERE selects.
    Scan {
        /// Snapshot and reading transaction.
        view: ReadView,
        /// Lower bound.
        from: Bound<Key>,
        /// Upper bound.
        to: Bound<Key>,
        /// Whether the reply carries the rows' keys.
        with_keys: bool,
        /// Up to `partition::BATCH_KEYS` keys' worth of rows.
        reply: oneshot::Sender<ScanBatch>,
    },
    /// First half of a write: the version to build on (`Partition::latest`).
    Latest {
        /// The statement's snapshot and the writing transaction.
        view: ReadView,
        /// Its isolation level (REPEATABLE READ: 40001 on a concurrent update).
        isolation: Isolation,
        /// Encoded key.
        key: Key,
        /// The strength wanted: NO KEY UPDATE for a write, the lock's for a locking
        /// read (a KEY SHARE lock is not blocked by a NO KEY UPDATE writer).
        mode: RowLockMode,
        /// The version, `Skipped` or `Blocked`; or 40001.
        reply: oneshot::Sender<Result<Latest>>,
    },
    /// Second half of a write: install `new` on top if `expect` is still the version to
    /// build on (`Partition::put`).
    Put {
        /// The writer (the new version points at its status).
        writer: Arc<TxnStatus>,
        /// Encoded key.
        key: Key,
        /// The version `Latest` returned.
        expect: Version,
        /// The new row, `None` for a delete.
        new: Option<Row>,
        /// Oldest snapshot in use: older versions can go.
        horizon: CommitTs,
        /// The strength the write holds the row with (UPDATE for a delete or a key
        /// change, else NO KEY UPDATE).
        mode: RowLockMode,
        /// `Written` or `Changed`; 40001 if the table is being rewritten.
        reply: oneshot::Sender<Result<PutOutcome>>,
    },
    /// A whole row write in one request, for a change the actor evaluates itself
    /// (`Partition::update`): what `Latest` + `Put` do in two.
    Update {
        /// The writer.
        writer: Arc<TxnStatus>,
        /// The statement's snapshot and the writing transaction.
        view: ReadView,
        /// Its isolation level.
        isolation: Isolation,
        /// Encoded key.
        key: Key,
        /// The statement's change to the row.
        change: Arc<dyn RowChange>,
        /// Oldest snapshot in use.
        horizon: CommitTs,
        /// Written, skipped, blocked or a UNIQUE conflict; or the statement's error.
        reply: oneshot::Sender<Result<Updated>>,
    },
    /// SELECT … FOR UPDATE / SHARE …, a foreign-key check: lock the row if `expect` is
    /// still the version to build on (`Partition::lock`).
    Lock {
        /// The locking transaction.
        writer: Arc<TxnStatus>,
        /// Encoded key.
        key: Key,
        /// The version `Latest` returned.
        expect: Version,
        /// The lock's strength.
        mode: RowLockMode,
        /// `Written` (locked), `Changed`, or `Blocked` by a conflicting holder; 40001 if
        /// the table is being rewritten.
        reply: oneshot::Sender<Result<PutOutcome>>,
    },
    /// Inserts rows in order, stopping at the first that cannot go in (INSERT, COPY).
    Insert {
        /// The writer.
        writer: Arc<TxnStatus>,
        /// Keys and rows.
        rows: Vec<(Key, Row)>,
        /// `Ok` when all went in, else which row stopped it and why.
        reply: oneshot::Sender<Result<(), Refused>>,
    },
    /// Rollback: removes the aborted transaction's versions. No reply: its status is
    /// already aborted, so no reader sees them in the meantime.
    RemoveTxn {
        /// The aborted transaction.
        txn: TxnId,
        /// The keys it wrote here.
        keys: Vec<Key>,
    },
    /// Garbage collection up to `horizon` (autovacuum and VACUUM), done a chunk at a time
    /// between other requests; the reply, with the number of keys removed, comes when
    /// the whole partition has been swept.
    Vacuum {
        /// Oldest snapshot in use.
        horizon: CommitTs,
        /// Keys removed.
        reply: oneshot::Sender<usize>,
    },
    /// DDL: stop accepting writes and hand over the committed chains (55006 if another
    /// transaction has uncommitted writes here).
    Retire {
        /// The DDL's transaction.
        txn: TxnId,
        /// The chains, in key order.
        reply: oneshot::Sender<Result<Vec<(Key, Chain)>>>,
    },
    /// DDL failed: accept writes again.
    Unretire,
    /// DDL: replace the secondary indexes, building new ones from the chains (CREATE
    /// TABLE with UNIQUE, CREATE / DROP INDEX, start-up). Sent by the session's DDL.
    SetIndexes {
        /// The table's whole index list, in the definition's order.
        indexes: Vec<IndexDef>,
        /// `Err` if a UNIQUE index found two live rows with one key (nothing changed).
        reply: oneshot::Sender<Result<(), IndexBuildError>>,
    },
    /// Rows visible to `view` whose key in index `index` lies in the range, in index
    /// order (`Partition::index_scan`). Sent by the executor and DML.
    IndexScan {
        /// Snapshot and reading transaction.
        view: ReadView,
        /// Index name.
        index: String,
        /// Lower bound on the encoded index key.
        from: Bound<Key>,
        /// Upper bound on the encoded index key.
        to: Bound<Key>,
        /// Stop after this many rows (an ORDER BY … LIMIT read in index order).
        limit: usize,
        /// Primary keys and rows; 40001 if the index is gone.
        reply: oneshot::Sender<Result<Vec<(Key, Row)>>>,
    },
    /// The number of keys (a size hint).
    Len {
        /// The count.
        reply: oneshot::Sender<usize>,
    },
}
