//! The requests a storage actor serves. Sessions send them through a
//! [`super::TableStore`] handle; the engine sends `Vacuum` from its autovacuum task.
//! Each carries a oneshot for its reply, except `RemoveTxn`, which nobody waits for.
//!
//! A request about one key goes to the partition that owns it (`routes.rs`); one that
//! reached a partition that no longer owns its key (a split moved it) is forwarded.
//! A request about the whole table is a *walk*: it goes to the first partition, each
//! partition does its part over `[from, its end)` and passes it on to the next with
//! `from` set to its end, and the last one replies. The partitions form a list through
//! their `next` mailboxes, so a walk visits every partition once, in key order, even
//! while partitions split.
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
    IndexBuildError, Latest, Partition, PutOutcome, Refused, RowChange, ScanBatch, Updated,
};
use super::Isolation;
use crate::catalog::IndexDef;
use crate::error::Result;
use crate::sync::Arc;
use crate::txn::{CommitTs, TxnId, TxnStatus};
use tokio::sync::mpsc;

/// What a partition did with an `Insert` batch.
#[derive(Debug)]
pub enum Inserted {
    /// All rows went in, or this row stopped the batch and why.
    Done(Result<(), Refused>),
    /// The rows before position `.0` went in; the rest, given back, belong to a later
    /// partition (a split moved them): the handle sends them there.
    Moved(usize, Vec<(Key, Row)>),
}

/// Rows an index scan found: index key, primary key, row.
pub type IndexRows = Vec<(Key, Key, Row)>;

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
    /// The first half of an UPDATE of the primary key: put a deletion marked moved on
    /// the row if `expect` is still the version to build on (`Partition::move_out`);
    /// the session then inserts the new image at its new key.
    MoveOut {
        /// The writer.
        writer: Arc<TxnStatus>,
        /// The row's encoded (old) key.
        key: Key,
        /// The version `Latest` returned.
        expect: Version,
        /// Oldest snapshot in use.
        horizon: CommitTs,
        /// `Written`, `Changed` or `Blocked`; 40001 if the table is being rewritten.
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
        /// Done, or moved from some row on.
        reply: oneshot::Sender<Inserted>,
    },
    /// Rollback: removes the aborted transaction's versions. No reply: its status is
    /// already aborted, so no reader sees them in the meantime.
    RemoveTxn {
        /// The aborted transaction.
        txn: TxnId,
        /// The keys it wrote here.
        keys: Vec<Key>,
    },
    /// Walk: garbage collection up to `horizon` (autovacuum and VACUUM), done a chunk at
    /// a time between other requests; the reply, with the number of keys removed, comes
    /// when every partition has been swept.
    Vacuum {
        /// Oldest snapshot in use.
        horizon: CommitTs,
        /// Keys removed by the partitions before this one.
        removed: usize,
        /// Keys removed.
        reply: oneshot::Sender<usize>,
    },
    /// Walk, DDL: stop accepting writes and hand over the committed chains (55006 if
    /// another transaction has uncommitted writes; the partitions before the one that
    /// refused stay retired until `Unretire`).
    Retire {
        /// The DDL's transaction.
        txn: TxnId,
        /// Where this partition's part begins.
        from: Key,
        /// The chains of the partitions before this one.
        chains: Vec<(Key, Chain)>,
        /// The chains, in key order.
        reply: oneshot::Sender<Result<Vec<(Key, Chain)>>>,
    },
    /// Walk, DDL failed: accept writes again.
    Unretire,
    /// Walk, DDL: replace the secondary indexes, building new ones from the chains
    /// (CREATE TABLE with UNIQUE, CREATE / DROP INDEX, start-up). Sent by the session's
    /// DDL. A new UNIQUE index on a table of several partitions first brings them back
    /// into one (`Surrender`/`Absorb`): uniqueness is checked inside one partition.
    SetIndexes {
        /// The table's whole index list, in the definition's order.
        indexes: Vec<IndexDef>,
        /// `Err` if a UNIQUE index found two live rows with one key (that partition
        /// changed nothing; the handle puts the old list back everywhere).
        reply: oneshot::Sender<Result<(), IndexBuildError>>,
    },
    /// Coalesce: hand this partition, its bounds and its successor to `to` (the first
    /// partition) in an `Absorb`, pass the `Surrender` on, and forward everything to
    /// `to` from then on.
    Surrender {
        /// The first partition's mailbox.
        to: mpsc::Sender<Request>,
    },
    /// Coalesce: the next partition, to be joined onto this one.
    Absorb {
        /// Its chains.
        part: Box<Partition>,
        /// Its end (`None`: the end of the table: the coalesce is complete).
        hi: Option<Key>,
        /// Its successor.
        next: Option<mpsc::Sender<Request>>,
    },
    /// Walk: rows visible to `view` whose key in index `index` lies in the range, in
    /// index order per partition (`Partition::index_scan`); the handle merges them.
    /// Sent by the executor and DML.
    IndexScan {
        /// Snapshot and reading transaction.
        view: ReadView,
        /// Index name.
        index: String,
        /// Lower bound on the encoded index key.
        from: Bound<Key>,
        /// Upper bound on the encoded index key.
        to: Bound<Key>,
        /// Stop after this many rows per partition (an ORDER BY … LIMIT read in index
        /// order).
        limit: usize,
        /// Where this partition's part begins.
        from_key: Key,
        /// What the partitions before this one found.
        found: IndexRows,
        /// Index keys, primary keys and rows; 40001 if the index is gone.
        reply: oneshot::Sender<Result<IndexRows>>,
    },
    /// Walk: the number of keys (a size hint).
    Len {
        /// The count of the partitions before this one.
        count: usize,
        /// The count.
        reply: oneshot::Sender<usize>,
    },
}

impl Request {
    /// The key that names the partition a request goes to; `None`: the first partition
    /// (a walk, an unbounded scan).
    pub fn route(&self) -> Option<&[u8]> {
        match self {
            Request::Get { key, .. }
            | Request::Latest { key, .. }
            | Request::Put { key, .. }
            | Request::MoveOut { key, .. }
            | Request::Update { key, .. }
            | Request::Lock { key, .. } => Some(key),
            Request::Scan { from: Bound::Included(k) | Bound::Excluded(k), .. } => Some(k),
            Request::Insert { rows, .. } => rows.first().map(|(k, _)| &**k),
            Request::RemoveTxn { keys, .. } => keys.first().map(|k| &**k),
            _ => None,
        }
    }
}
