//! A session's transaction: its status, snapshot, write set, the locks it holds, its
//! savepoints, and how it ends (commit through the TxnManager; rollback by discarding
//! its versions).
//!
//! Savepoints: SAVEPOINT starts a subtransaction, a status of its own under the current
//! one (`txn::TxnStatus::child`); writes after it point at that status. ROLLBACK TO
//! SAVEPOINT aborts it (its versions, and those of subtransactions started inside it,
//! are garbage at once: readers and writers skip aborted versions, vacuum removes
//! them), releases the transaction locks those subtransactions held (writers blocked
//! by them go on, as in PostgreSQL), restores the write set as it was at the
//! savepoint, and starts a fresh subtransaction under the same savepoint. RELEASE
//! keeps everything and writes go on under the enclosing (sub)transaction.

use std::collections::HashMap;

use rustc_hash::FxHashMap;

use crate::catalog::TableId;
use crate::engine::Engine;
use crate::error::Result;
use crate::sql::dml::WriteCtx;
use crate::storage::{Isolation, Key, ReadView, Row};
use crate::sync::Arc;
use crate::txn::{CommitTs, SnapshotGuard, TxnId, TxnStatus};
use crate::types::encode_row;
use crate::wal::WalWrite;
use crate::wire::CancelSignal;

/// A transaction's final row image per written key (`None` = deleted).
pub type WriteSet = FxHashMap<(TableId, Key), Option<Row>>;

/// An open savepoint.
#[derive(Debug)]
pub struct Savepoint {
    /// Its name (the newest of equal names wins).
    pub name: String,
    /// The (sub)transaction it was taken in.
    parent: Arc<TxnStatus>,
    /// The subtransaction running since (replaced at each ROLLBACK TO).
    sub: Arc<TxnStatus>,
    /// The write set as it was.
    writes: WriteSet,
    /// How many entries `own_locks` had.
    own_locks: usize,
    /// The session's settings as they were (ROLLBACK TO reverts SETs made since).
    pub settings: super::settings::Settings,
}

/// One open transaction.
#[derive(Debug)]
pub struct Txn {
    /// The top-level transaction's status: what commits.
    pub top: Arc<TxnStatus>,
    /// The status the next write points at: `top`, or the innermost subtransaction.
    pub status: Arc<TxnStatus>,
    /// Isolation level.
    pub isolation: Isolation,
    /// READ ONLY: every write is refused with 25006 (`Session::refuse_if_read_only`).
    pub read_only: bool,
    /// REPEATABLE READ: the transaction's snapshot, taken by its first statement.
    pub snapshot: Option<SnapshotGuard>,
    /// Final image per written key.
    pub writes: WriteSet,
    /// The (sub)transactions whose own transaction lock `top` holds, oldest first.
    pub own_locks: Vec<TxnId>,
    /// Open savepoints, oldest first.
    pub savepoints: Vec<Savepoint>,
    /// Holds locks besides its own transaction locks (`pg_advisory_xact_lock`), which
    /// its end must release.
    pub other_locks: bool,
    /// Start time (now()).
    pub start: i64,
    /// Statements run so far (SET TRANSACTION must come first).
    pub statements: usize,
}

impl Txn {
    /// A new transaction.
    pub fn new(engine: &Engine, isolation: Isolation, start: i64) -> Txn {
        let top = engine.begin();
        Txn {
            status: top.clone(),
            top,
            isolation,
            read_only: false,
            snapshot: None,
            writes: WriteSet::default(),
            own_locks: Vec::new(),
            savepoints: Vec::new(),
            other_locks: false,
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
                (ReadView { snapshot: g.ts(), txn: self.top.id() }, None)
            }
            Isolation::ReadCommitted => {
                let g = engine.watermark.begin_snapshot();
                (ReadView { snapshot: g.ts(), txn: self.top.id() }, Some(g))
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
            top: self.top.id(),
            isolation: self.isolation,
            view,
            horizon,
            pid,
            locks: &engine.locks,
            storage: &engine.storage,
            writes: &mut self.writes,
            own_locks: &mut self.own_locks,
            cancel,
            lock_timeout,
        }
    }

    /// Commits: a transaction that wrote goes through the TxnManager and WalWriter
    /// (durable before this returns); either way its locks are released.
    pub async fn commit(self, engine: &Engine) -> Result<()> {
        if self.writes.is_empty() {
            if !self.own_locks.is_empty() || self.other_locks {
                // Nothing to publish, but row locks (SELECT … FOR UPDATE) to end: the
                // status must stop being active before waiters wake, or they would find
                // the lock-only versions still held. Marked aborted, they are void (no
                // data changed, so no reader can tell).
                self.top.abort();
                engine.locks.release_all(self.top.id());
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
        match engine.commit(&self.top, writes).await {
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
        self.top.abort();
        let wrote = !self.writes.is_empty();
        let mut by_table: HashMap<TableId, Vec<Key>> = HashMap::new();
        for (table, key) in self.writes.into_keys() {
            by_table.entry(table).or_default().push(key);
        }
        for (table, keys) in by_table {
            if let Ok(store) = engine.storage.table(table) {
                store.remove_txn(self.top.id(), keys);
            }
        }
        if !self.own_locks.is_empty() || self.other_locks || wrote {
            engine.locks.release_all(self.top.id());
        }
    }

    /// SAVEPOINT `name`: a subtransaction starts under the current one.
    pub fn savepoint(
        &mut self,
        engine: &Engine,
        name: String,
        settings: super::settings::Settings,
    ) {
        let sub = TxnStatus::child(engine.watermark.next_txn_id(), &self.status);
        self.savepoints.push(Savepoint {
            name,
            parent: self.status.clone(),
            sub: sub.clone(),
            writes: self.writes.clone(),
            own_locks: self.own_locks.len(),
            settings,
        });
        self.status = sub;
    }

    /// The newest savepoint called `name`, or 3B001.
    pub fn find_savepoint(&self, name: &str) -> Result<usize> {
        self.savepoints
            .iter()
            .rposition(|s| s.name == name)
            .ok_or_else(|| super::no_savepoint(name))
    }

    /// ROLLBACK TO savepoint `i`: undoes everything since it (see the module doc);
    /// the savepoint stays, the ones after it go. Returns the settings to restore.
    pub fn rollback_to(&mut self, engine: &Engine, i: usize) -> super::settings::Settings {
        self.savepoints.truncate(i + 1);
        let top = self.top.id();
        let sp = &mut self.savepoints[i];
        sp.sub.abort();
        for sub in self.own_locks.drain(sp.own_locks..) {
            engine.locks.release_sub(top, sub);
        }
        self.writes = sp.writes.clone();
        sp.sub = TxnStatus::child(engine.watermark.next_txn_id(), &sp.parent);
        self.status = sp.sub.clone();
        sp.settings.clone()
    }

    /// RELEASE savepoint `i` and those after it: their work stays, and goes on under
    /// the (sub)transaction the savepoint was taken in.
    pub fn release(&mut self, i: usize) {
        if let Some(sp) = self.savepoints.drain(i..).next() {
            self.status = sp.parent;
        }
    }
}
