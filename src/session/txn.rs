//! A session's transaction: its status, snapshot, write set and lock flag, and how it
//! ends (commit through the TxnManager; rollback by discarding its versions).

use std::collections::HashMap;

use rustc_hash::FxHashMap;

use crate::catalog::TableId;
use crate::engine::Engine;
use crate::error::Result;
use crate::sql::dml::WriteCtx;
use crate::storage::{Isolation, Key, ReadView, Row};
use crate::sync::Arc;
use crate::txn::{CommitTs, SnapshotGuard, TxnStatus};
use crate::types::encode_row;
use crate::wal::WalWrite;
use crate::wire::CancelSignal;

/// A transaction's final row image per written key (`None` = deleted).
pub type WriteSet = FxHashMap<(TableId, Key), Option<Row>>;

/// One open transaction.
#[derive(Debug)]
pub struct Txn {
    /// Status shared with the versions it writes.
    pub status: Arc<TxnStatus>,
    /// Isolation level.
    pub isolation: Isolation,
    /// REPEATABLE READ: the transaction's snapshot, taken by its first statement.
    pub snapshot: Option<SnapshotGuard>,
    /// Final image per written key.
    pub writes: WriteSet,
    /// May hold row locks.
    pub locked: bool,
    /// Start time (now()).
    pub start: i64,
    /// Statements run so far (SET TRANSACTION must come first).
    pub statements: usize,
}

impl Txn {
    /// A new transaction.
    pub fn new(engine: &Engine, isolation: Isolation, start: i64) -> Txn {
        Txn {
            status: engine.begin(),
            isolation,
            snapshot: None,
            writes: WriteSet::default(),
            locked: false,
            start,
            statements: 0,
        }
    }

    /// The read view for the next statement and the guard that keeps its snapshot
    /// registered (READ COMMITTED: a new one per statement; REPEATABLE READ: the
    /// transaction's).
    pub fn statement_view(&mut self, engine: &Engine) -> (ReadView, Option<SnapshotGuard>) {
        match self.isolation {
            Isolation::RepeatableRead => {
                let g = self.snapshot.get_or_insert_with(|| engine.watermark.begin_snapshot());
                (ReadView { snapshot: g.ts(), txn: self.status.id() }, None)
            }
            Isolation::ReadCommitted => {
                let g = engine.watermark.begin_snapshot();
                (ReadView { snapshot: g.ts(), txn: self.status.id() }, Some(g))
            }
        }
    }

    /// What DML needs of this transaction for one statement.
    pub fn write_ctx<'a>(
        &'a mut self,
        engine: &'a Engine,
        view: ReadView,
        horizon: CommitTs,
        pid: i32,
        cancel: &'a CancelSignal,
        lock_timeout: Option<std::time::Duration>,
    ) -> WriteCtx<'a> {
        WriteCtx {
            status: &self.status,
            isolation: self.isolation,
            view,
            horizon,
            pid,
            locks: &engine.locks,
            storage: &engine.storage,
            writes: &mut self.writes,
            locked: &mut self.locked,
            cancel,
            lock_timeout,
        }
    }

    /// Commits: a transaction that wrote goes through the TxnManager and WalWriter
    /// (durable before this returns); either way its locks are released.
    pub async fn commit(self, engine: &Engine) -> Result<()> {
        if self.writes.is_empty() {
            if self.locked {
                // Nothing to publish, but row locks (SELECT … FOR UPDATE) to end: the
                // status must stop being active before waiters wake, or they would find
                // the lock-only versions still held. Marked aborted, they are void (no
                // data changed, so no reader can tell).
                self.status.abort();
                engine.locks.release_all(self.status.id());
            }
            return Ok(());
        }
        // Key order: the store's memtable takes sorted input much faster (a 1M-row COPY).
        let mut entries: Vec<_> = self.writes.iter().collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let mut writes = Vec::with_capacity(entries.len());
        for ((table, key), row) in entries {
            writes.push(match row {
                Some(r) => {
                    let mut value = Vec::with_capacity(64);
                    encode_row(r, &mut value);
                    WalWrite::Put { table: *table, key: key.to_vec(), value }
                }
                None => WalWrite::Delete { table: *table, key: key.to_vec() },
            });
        }
        match engine.commit(&self.status, writes).await {
            // The TxnManager released the locks when it published the commit.
            Ok(_) => Ok(()),
            Err(e) => {
                self.abort(engine);
                Err(e)
            }
        }
    }

    /// Rolls back: the status turns aborted (readers ignore the versions at once), the
    /// versions are removed, the locks released.
    pub fn abort(self, engine: &Engine) {
        self.status.abort();
        let wrote = !self.writes.is_empty();
        let mut by_table: HashMap<TableId, Vec<Key>> = HashMap::new();
        for (table, key) in self.writes.into_keys() {
            by_table.entry(table).or_default().push(key);
        }
        for (table, keys) in by_table {
            if let Ok(store) = engine.storage.table(table) {
                store.remove_txn(self.status.id(), keys);
            }
        }
        if self.locked || wrote {
            engine.locks.release_all(self.status.id());
        }
    }
}
