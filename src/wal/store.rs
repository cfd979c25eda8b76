//! The durable store the WalWriter writes to, behind one small trait.
//!
//! [`Store`] is what the server opens at start-up: [`Store::open`] returns it together
//! with everything that was durable ([`Recovered`]), and the WalWriter owns it from
//! then on (it is the only writer). Behind it sits a [`GroupStore`]:
//!
//! ```text
//!   Store ── Box<dyn GroupStore> ──┬── FjallStore   (StoreConfig::Dir: fjall, one fdatasync per group)
//!                                  ├── MemoryStore  (StoreConfig::InMemory: writes nothing)
//!                                  └── FailingStore (fault injection: fails persists, for tests)
//! ```
//!
//! A `GroupStore` has one duty: apply a group of records, in order, atomically, and
//! make it durable with one persist, or report why not. It never retries: after an
//! `Err` the WalWriter poisons the engine and never calls it again.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::catalog::TableId;
use crate::error::{Error, ErrorKind};
use crate::wal::fjall_store::FjallStore;
use crate::wal::record::CommitRecord;

/// Where the data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreConfig {
    /// A fjall database in this directory (created if missing).
    Dir(PathBuf),
    /// Nothing on disk: a fresh, throwaway server for test harnesses. Grouping still
    /// happens, persist is a no-op, and nothing survives the process.
    InMemory,
}

/// Key/value pairs in key order: a table's rows or the catalog's entries.
pub type Rows = Vec<(Vec<u8>, Vec<u8>)>;

/// Everything that was durable when the store was opened.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovered {
    /// Every catalog (and sequence) key/value, in key order.
    pub catalog: Rows,
    /// Every table's rows, in key order. A table with no rows may be absent; a dropped
    /// table is always absent.
    pub tables: HashMap<TableId, Rows>,
    /// The highest table id this store has ever seen (live, with rows, or dropped): new
    /// tables must get larger ids, or a reused id's rows would be deleted at the next
    /// start as those of the dropped table.
    pub max_table_id: u32,
}

/// A durable sink for groups of commit records.
pub trait GroupStore: Send {
    /// Applies `group`'s writes, record by record in order, as one atomic batch and
    /// makes the batch durable with one persist (fsync). `Ok` means every record of the
    /// group survives a crash; `Err` means none may be acknowledged. Never called again
    /// after it returned `Err`.
    fn persist_group(&mut self, group: Vec<CommitRecord>) -> Result<(), Error>;
}

/// The durable store, owned by the WalWriter (see the module doc).
pub struct Store {
    inner: Box<dyn GroupStore>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}

impl Store {
    /// Opens (or creates) the store and returns what was durable in it.
    ///
    /// For a directory this removes for good the rows of tables whose `DropTable` was
    /// durable, even if the process died before it could delete them last time.
    /// Errors are 58030 (`IoError`): the directory cannot be used.
    pub fn open(config: StoreConfig) -> Result<(Store, Recovered), Error> {
        match config {
            StoreConfig::Dir(dir) => {
                let (store, recovered) = FjallStore::open(&dir)?;
                Ok((Store::from_group_store(Box::new(store)), recovered))
            }
            StoreConfig::InMemory => {
                Ok((Store::from_group_store(Box::new(MemoryStore)), Recovered::default()))
            }
        }
    }

    /// Wraps any [`GroupStore`], e.g. a [`FailingStore`] to inject persist failures.
    pub fn from_group_store(inner: Box<dyn GroupStore>) -> Store {
        Store { inner }
    }

    /// See [`GroupStore::persist_group`].
    pub fn persist_group(&mut self, group: Vec<CommitRecord>) -> Result<(), Error> {
        self.inner.persist_group(group)
    }
}

/// `StoreConfig::InMemory`: accepts every group and keeps nothing.
#[derive(Debug, Default)]
pub struct MemoryStore;

impl GroupStore for MemoryStore {
    fn persist_group(&mut self, _group: Vec<CommitRecord>) -> Result<(), Error> {
        Ok(())
    }
}

/// Fault injection: forwards the first `successes` groups to `inner` (if any), then
/// fails every persist with the error an fdatasync returning EIO would give.
pub struct FailingStore {
    inner: Option<Box<dyn GroupStore>>,
    successes: usize,
}

impl FailingStore {
    /// Succeeds `successes` times (keeping nothing), then fails.
    pub fn after(successes: usize) -> FailingStore {
        FailingStore { inner: None, successes }
    }

    /// Forwards the first `successes` groups to `inner`, then fails without calling it.
    pub fn wrapping(inner: Store, successes: usize) -> FailingStore {
        FailingStore { inner: Some(inner.inner), successes }
    }
}

impl GroupStore for FailingStore {
    fn persist_group(&mut self, group: Vec<CommitRecord>) -> Result<(), Error> {
        if self.successes == 0 {
            return Err(Error::new(
                ErrorKind::IoError,
                "could not fdatasync file \"journal\": Input/output error",
            ));
        }
        self.successes -= 1;
        match &mut self.inner {
            Some(inner) => inner.persist_group(group),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::txn::CommitTs;

    fn empty(ts: u64) -> Vec<CommitRecord> {
        vec![CommitRecord { ts: CommitTs(ts), writes: Vec::new() }]
    }

    #[test]
    fn in_memory_recovers_nothing_and_accepts_everything() {
        let (mut store, recovered) = Store::open(StoreConfig::InMemory).unwrap();
        assert_eq!(recovered, Recovered::default());
        assert!(store.persist_group(empty(1)).is_ok());
    }

    #[test]
    fn failing_store_fails_after_its_successes() {
        let mut store = Store::from_group_store(Box::new(FailingStore::after(1)));
        assert!(store.persist_group(empty(1)).is_ok());
        let err = store.persist_group(empty(2)).unwrap_err();
        assert_eq!(err.kind.sqlstate(), "58030");
        assert!(store.persist_group(empty(3)).is_err());
    }
}
