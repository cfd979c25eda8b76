//! The engine: the actors and shared structures one server runs, and how they start.
//!
//! ```text
//!   actix System thread ── Arbiter: LockManager actor, TxnManager actor
//!   WalWriter thread    ── group commit into fjall (or nothing, in memory)
//!   tokio runtime       ── listener + one session task per connection
//!                          + one storage actor task per table (owns its partition)
//!                          + the autovacuum task
//!   shared, read-mostly ── Catalog, Watermark
//! ```
//! Start-up: open the store (recovering every committed row), rebuild the catalog,
//! bulk-load each table's partition and start its storage actor, start the WalWriter, the actix System with the
//! TxnManager and LockManager, then accept connections.

use std::path::PathBuf;
use tokio::sync::oneshot;

use crate::catalog::{Catalog, TableDef};
use crate::error::{Error, ErrorKind, Result};
use crate::lock::LockClient;
use crate::sequence::{SequenceDef, Sequences, SEQUENCE_KEY_PREFIX};
use crate::storage::{Key, Row, Storage, StorageOptions};
use crate::sync::Arc;
use crate::txn::{Commit, CommitTs, GroupDurable, TxnManager, TxnStatus, Watermark};
use crate::types::decode_row;
use crate::wal::{Store, StoreConfig, WalHandle, WalWrite, WalWriter};

/// How often the background sweep garbage-collects every table's old versions.
pub const AUTOVACUUM_INTERVAL: std::time::Duration = std::time::Duration::from_secs(10);

/// Every [`AUTOVACUUM_INTERVAL`], asks each table's storage actor to garbage-collect:
/// versions no snapshot can see any more, and keys deleted before the oldest snapshot,
/// go, so an update-heavy run (pgbench) does not grow memory without bound. The actors
/// sweep a chunk at a time between other requests. Stops when the engine is dropped.
fn start_autovacuum(engine: std::sync::Weak<Engine>, runtime: &tokio::runtime::Handle) {
    runtime.spawn(async move {
        let mut ticks = tokio::time::interval(AUTOVACUUM_INTERVAL);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            let (horizon, stores) = match engine.upgrade() {
                Some(e) => (e.watermark.horizon(), e.storage.tables()),
                None => return,
            };
            for store in stores {
                // A table dropped meanwhile has no actor to answer: nothing to sweep.
                let _ = store.vacuum(horizon).await;
            }
        }
    });
}

/// Where data lives.
#[derive(Debug, Clone)]
pub enum DataDir {
    /// A directory (created if missing).
    Path(PathBuf),
    /// Nothing on disk: a throwaway server.
    InMemory,
}

/// Everything sessions share.
pub struct Engine {
    /// Table definitions.
    pub catalog: Catalog,
    /// Sequences and their counters.
    pub sequences: Sequences,
    /// Table rows.
    pub storage: Storage,
    /// Snapshots and transaction ids.
    pub watermark: Watermark,
    /// The LockManager actor.
    pub locks: LockClient,
    /// The TxnManager actor.
    pub txn_manager: actix::Addr<TxnManager>,
    /// The WalWriter.
    pub wal: WalHandle,
    /// Serialises DDL statements (catalog changes). Held across the DDL's commit
    /// await on purpose: DDL is rare and must not interleave with other DDL; no DML
    /// path takes it.
    pub ddl: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}

impl Engine {
    /// Opens the store, recovers, and starts the actors; the storage actors run on
    /// `runtime` (the sessions' runtime). Must not be called from inside an async
    /// runtime's worker (it blocks while recovering).
    pub fn start(dir: DataDir, runtime: &tokio::runtime::Handle) -> Result<Arc<Engine>> {
        Engine::start_with_storage(dir, runtime, StorageOptions::default())
    }

    /// [`Engine::start`], with the storage's index kind and split size.
    pub fn start_with_storage(
        dir: DataDir,
        runtime: &tokio::runtime::Handle,
        options: StorageOptions,
    ) -> Result<Arc<Engine>> {
        let config = match dir {
            DataDir::Path(p) => StoreConfig::Dir(p),
            DataDir::InMemory => StoreConfig::InMemory,
        };
        let (store, recovered) = Store::open(config)?;
        let mut defs = Vec::new();
        let mut sequences = Vec::new();
        let mut views = Vec::new();
        let mut schemas = Vec::new();
        for (k, v) in &recovered.catalog {
            if k.starts_with(SEQUENCE_KEY_PREFIX) {
                sequences.push(SequenceDef::decode(v)?);
            } else if k.starts_with(crate::catalog::VIEW_KEY_PREFIX) {
                views.push(crate::catalog::ViewDef::decode(v)?);
            } else if k.starts_with(crate::catalog::SCHEMA_KEY_PREFIX) {
                schemas.push(crate::catalog::SchemaDef::decode(v)?);
            } else {
                defs.push(TableDef::decode(v)?);
            }
        }
        let storage = Storage::with_options(runtime.clone(), options);
        let mut tables = recovered.tables;
        for def in &defs {
            let rows = tables.remove(&def.id).unwrap_or_default();
            let mut loaded: Vec<(Key, Row)> = Vec::with_capacity(rows.len());
            for (k, v) in rows {
                loaded.push((k.into_boxed_slice(), decode_row(&v)?.into()));
            }
            storage.load(def.id, loaded, def.indexes.clone())?;
        }
        let catalog = Catalog::new(defs, recovered.max_table_id);
        for v in views {
            catalog.install_view(v);
        }
        for s in schemas {
            catalog.install_schema(s);
        }
        for (def, _) in &sequences {
            catalog.note_oid(def.oid);
        }
        let sequences = Sequences::recovered(sequences);
        let watermark = Watermark::new(CommitTs(0));

        // The actix System runs on its own thread; actors are reached through Addr.
        let (tx, rx) = std::sync::mpsc::channel();
        let (wal_tx, wal_rx) = std::sync::mpsc::channel::<WalHandle>();
        let cell = watermark.cell();
        std::thread::Builder::new()
            .name("troupe-actors".into())
            .spawn(move || {
                let system = actix::System::new();
                system.block_on(async move {
                    let arbiter = actix::Arbiter::current();
                    let locks = LockClient::start(&arbiter);
                    let Ok(wal) = wal_rx.recv() else { return };
                    let manager = actix::Actor::start(TxnManager::new(wal, cell, locks.clone()));
                    let _ = tx.send((locks, manager));
                });
                system.run().ok();
            })
            .map_err(|e| {
                Error::new(ErrorKind::IoError, format!("could not start the actor thread: {e}"))
            })?;

        // The WalWriter reports durable groups to the TxnManager; it needs the
        // TxnManager's address, which needs the WalHandle: break the cycle with a slot.
        let manager_slot: Arc<std::sync::OnceLock<actix::Addr<TxnManager>>> =
            Arc::new(std::sync::OnceLock::new());
        let slot = manager_slot.clone();
        let wal = WalWriter::start(
            store,
            Box::new(move |durable| {
                if let Some(addr) = slot.get() {
                    addr.do_send(GroupDurable(durable));
                }
            }),
        );
        wal_tx.send(wal.clone()).map_err(|_| Error::internal("actor thread died at start-up"))?;
        let (locks, txn_manager) =
            rx.recv().map_err(|_| Error::internal("actor thread died at start-up"))?;
        let _ = manager_slot.set(txn_manager.clone());
        let engine = Arc::new(Engine {
            catalog,
            sequences,
            storage,
            watermark,
            locks,
            txn_manager,
            wal,
            ddl: tokio::sync::Mutex::new(()),
        });
        start_autovacuum(Arc::downgrade(&engine), runtime);
        Ok(engine)
    }

    /// Commits `writes` as transaction `status` through the TxnManager and WalWriter;
    /// returns once the commit is durable and visible.
    pub async fn commit(&self, status: &Arc<TxnStatus>, writes: Vec<WalWrite>) -> Result<CommitTs> {
        let (reply, rx) = oneshot::channel();
        self.txn_manager.do_send(Commit { status: status.clone(), writes, reply });
        rx.await.map_err(|_| Error::internal("the transaction manager stopped"))?
    }

    /// A fresh transaction status.
    pub fn begin(&self) -> Arc<TxnStatus> {
        TxnStatus::new(self.watermark.next_txn_id())
    }

    /// Stops the WalWriter (after draining) — used by tests and at shutdown.
    pub fn shutdown(&self) {
        self.wal.shutdown();
    }
}
