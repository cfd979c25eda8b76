//! The fjall-backed [`GroupStore`]: layout, the group batch, and recovery.
//!
//! Layout in one fjall `Database` (fjall's journal is our write-ahead log):
//!
//! ```text
//!   keyspace "catalog"  catalog and sequence entries (opaque keys and values)
//!   keyspace "dropped"  u32 big-endian table id → "" for every durable DropTable
//!   keyspace "t<id>"    one per table: encoded primary key (or row id) → encoded row
//! ```
//!
//! A group is one `WriteBatch` across keyspaces, committed with
//! `PersistMode::SyncData`: fjall writes the batch to its journal and fdatasyncs it
//! under one lock, so the group is atomic and durable together. The database is opened
//! with `manual_journal_persist(true)`, so nothing else flushes the journal behind us.
//!
//! DropTable without resurrection: the batch also writes the id into `dropped`. Only
//! after the batch is durable is the table's keyspace deleted; if the process dies in
//! between (or the delete fails), [`FjallStore::open`] finds the id in `dropped` and
//! deletes the keyspace then, before loading anything. Table ids are never reused, so
//! the `dropped` entries are kept forever (four bytes each).
//!
//! Recovery loads every keyspace into memory in key order (storage bulk-builds its
//! learned indexes from that). It does not stream: the caller gets `Vec`s.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use fjall::{Database, Keyspace, KeyspaceCreateOptions, PersistMode};

use crate::catalog::TableId;
use crate::error::{Error, ErrorKind};
use crate::wal::record::{CommitRecord, WalWrite};
use crate::wal::store::{GroupStore, Recovered, Rows};

const CATALOG: &str = "catalog";
const DROPPED: &str = "dropped";

/// A fjall database with the layout of the module doc.
pub struct FjallStore {
    db: Database,
    catalog: Keyspace,
    dropped: Keyspace,
    tables: HashMap<TableId, Keyspace>,
}

fn table_keyspace_name(table: TableId) -> String {
    format!("t{}", table.0)
}

fn parse_table_keyspace_name(name: &str) -> Option<TableId> {
    let digits = name.strip_prefix('t')?;
    // Only the canonical spelling: "t007" is not ours.
    let id: u32 = digits.parse().ok()?;
    (table_keyspace_name(TableId(id)) == name).then_some(TableId(id))
}

/// Maps a fjall error to 58030 in PostgreSQL's style.
fn io_error(action: &str, err: fjall::Error) -> Error {
    Error::new(ErrorKind::IoError, format!("could not {action}: {err}"))
}

fn load(keyspace: &Keyspace) -> Result<Rows, Error> {
    let mut rows = Vec::with_capacity(keyspace.approximate_len());
    for guard in keyspace.iter() {
        let (key, value) =
            guard.into_inner().map_err(|e| io_error("read the data directory", e))?;
        rows.push((key.to_vec(), value.to_vec()));
    }
    Ok(rows)
}

/// Journal size after which fjall flushes memtables to tables (its minimum, 64 MiB).
const MAX_JOURNAL_BYTES: u64 = 64 * 1024 * 1024;

impl FjallStore {
    /// Opens or creates the database in `dir`, finishes interrupted table drops, and
    /// loads everything.
    pub fn open(dir: &Path) -> Result<(FjallStore, Recovered), Error> {
        let db = Database::builder(dir)
            .manual_journal_persist(true)
            // Start-up replays whatever journal is not yet flushed to tables; fjall's
            // default lets 512 MiB accumulate (a scale-10 pgbench init left ~180 MB and
            // a 10 s restart). Its minimum keeps replay short.
            .max_journaling_size(MAX_JOURNAL_BYTES)
            .open()
            .map_err(|e| io_error(&format!("open data directory \"{}\"", dir.display()), e))?;
        let open = |name: &str| {
            db.keyspace(name, KeyspaceCreateOptions::default)
                .map_err(|e| io_error(&format!("open keyspace \"{name}\""), e))
        };
        let catalog = open(CATALOG)?;
        let dropped = open(DROPPED)?;

        let mut dropped_ids = HashSet::new();
        for guard in dropped.iter() {
            let key = guard.key().map_err(|e| io_error("read the dropped tables", e))?;
            if let Ok(bytes) = <[u8; 4]>::try_from(&key[..]) {
                dropped_ids.insert(TableId(u32::from_be_bytes(bytes)));
            }
        }

        let max_table_id = dropped_ids.iter().map(|t| t.0).max().unwrap_or(0);
        let mut recovered =
            Recovered { catalog: load(&catalog)?, tables: HashMap::new(), max_table_id };
        let mut tables = HashMap::new();
        for name in db.list_keyspace_names() {
            let Some(table) = parse_table_keyspace_name(&name) else {
                continue;
            };
            let keyspace = open(&name)?;
            if dropped_ids.contains(&table) {
                db.delete_keyspace(keyspace)
                    .map_err(|e| io_error(&format!("remove dropped table {}", table.0), e))?;
                continue;
            }
            recovered.max_table_id = recovered.max_table_id.max(table.0);
            recovered.tables.insert(table, load(&keyspace)?);
            tables.insert(table, keyspace);
        }
        Ok((FjallStore { db, catalog, dropped, tables }, recovered))
    }

    /// The table's keyspace, created on its first write.
    fn table(&mut self, table: TableId) -> Result<Keyspace, Error> {
        if let Some(keyspace) = self.tables.get(&table) {
            return Ok(keyspace.clone());
        }
        let name = table_keyspace_name(table);
        let keyspace = self
            .db
            .keyspace(&name, KeyspaceCreateOptions::default)
            .map_err(|e| io_error(&format!("create keyspace \"{name}\""), e))?;
        self.tables.insert(table, keyspace.clone());
        Ok(keyspace)
    }

    /// Deletes a dropped table's keyspace once its DropTable is durable. A failure is
    /// not a durability failure (the drop is durable in `dropped`): `open` retries.
    fn remove_table(&mut self, table: TableId) {
        let Some(keyspace) = self.tables.remove(&table) else {
            return;
        };
        if let Err(err) = self.db.delete_keyspace(keyspace) {
            tracing::warn!(table = table.0, %err, "could not remove a dropped table's keyspace; retried at next start");
        }
    }
}

impl GroupStore for FjallStore {
    fn persist_group(&mut self, group: Vec<CommitRecord>) -> Result<(), Error> {
        let items = group.iter().map(|r| r.writes.len()).sum();
        let mut batch = fjall::OwnedWriteBatch::with_capacity(self.db.clone(), items)
            .durability(Some(PersistMode::SyncData));
        let mut dropped = Vec::new();
        // Consume the records write by write: each key and value is copied into the
        // batch and its Vec freed at once, so a 1M-row COPY costs the batch, not twice.
        for record in group {
            for write in record.writes {
                match write {
                    WalWrite::Put { table, key, value } => {
                        batch.insert(&self.table(table)?, key, value)
                    }
                    WalWrite::Delete { table, key } => batch.remove(&self.table(table)?, key),
                    WalWrite::CatalogPut { key, value } => batch.insert(&self.catalog, key, value),
                    WalWrite::CatalogDelete { key } => batch.remove(&self.catalog, key),
                    WalWrite::DropTable { table } => {
                        batch.insert(&self.dropped, table.0.to_be_bytes().to_vec(), Vec::new());
                        dropped.push(table);
                    }
                }
            }
        }
        if batch.is_empty() {
            // Nothing new to write; still persist, so that Ok always means "fsynced".
            self.db
                .persist(PersistMode::SyncData)
                .map_err(|e| io_error("fdatasync the write-ahead log", e))?;
        } else {
            batch.commit().map_err(|e| io_error("write and fdatasync the write-ahead log", e))?;
        }
        for table in dropped {
            self.remove_table(table);
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;
    use crate::txn::CommitTs;
    use crate::wal::store::{Store, StoreConfig};
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A fresh directory under the system temp dir, removed on drop.
    pub(crate) struct TempDir(pub(crate) PathBuf);

    impl TempDir {
        pub(crate) fn new(what: &str) -> TempDir {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let dir =
                std::env::temp_dir().join(format!("troupe-wal-{what}-{}-{n}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn put(table: u32, key: &str, value: &str) -> WalWrite {
        WalWrite::Put { table: TableId(table), key: key.into(), value: value.into() }
    }

    fn rows(pairs: &[(&str, &str)]) -> Rows {
        pairs.iter().map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec())).collect()
    }

    fn record(ts: u64, writes: Vec<WalWrite>) -> CommitRecord {
        CommitRecord { ts: CommitTs(ts), writes }
    }

    #[test]
    fn table_keyspace_names_round_trip_and_reject_others() {
        assert_eq!(parse_table_keyspace_name(&table_keyspace_name(TableId(42))), Some(TableId(42)));
        assert_eq!(parse_table_keyspace_name("catalog"), None);
        assert_eq!(parse_table_keyspace_name("t007"), None);
        assert_eq!(parse_table_keyspace_name("t"), None);
        assert_eq!(parse_table_keyspace_name("t-1"), None);
    }

    #[test]
    fn writes_deletes_and_drops_survive_a_reopen_exactly() {
        let dir = TempDir::new("roundtrip");
        {
            let (mut store, recovered) = Store::open(StoreConfig::Dir(dir.0.clone())).unwrap();
            assert_eq!(recovered, Recovered::default());
            store
                .persist_group(vec![
                    record(1, vec![put(1, "a", "1"), put(1, "b", "2"), put(2, "x", "9")]),
                    record(
                        2,
                        vec![WalWrite::CatalogPut {
                            key: b"table/1".to_vec(),
                            value: b"t1".to_vec(),
                        }],
                    ),
                    record(
                        3,
                        vec![WalWrite::CatalogPut {
                            key: b"table/2".to_vec(),
                            value: b"t2".to_vec(),
                        }],
                    ),
                ])
                .unwrap();
            store
                .persist_group(vec![
                    record(
                        4,
                        vec![
                            WalWrite::Delete { table: TableId(1), key: b"a".to_vec() },
                            put(1, "b", "3"),
                        ],
                    ),
                    record(5, vec![WalWrite::DropTable { table: TableId(2) }]),
                    record(6, vec![WalWrite::CatalogDelete { key: b"table/2".to_vec() }]),
                    record(7, vec![put(3, "k", "v")]),
                ])
                .unwrap();
        }
        for _ in 0..2 {
            let (_store, recovered) = Store::open(StoreConfig::Dir(dir.0.clone())).unwrap();
            assert_eq!(recovered.catalog, rows(&[("table/1", "t1")]));
            assert_eq!(
                recovered.tables.len(),
                2,
                "table 2 is dropped: {:?}",
                recovered.tables.keys()
            );
            assert_eq!(recovered.tables[&TableId(1)], rows(&[("b", "3")]));
            assert_eq!(recovered.tables[&TableId(3)], rows(&[("k", "v")]));
        }
    }

    #[test]
    fn a_drop_whose_keyspace_survived_is_finished_at_open() {
        let dir = TempDir::new("drop");
        {
            let (mut store, _) = Store::open(StoreConfig::Dir(dir.0.clone())).unwrap();
            store.persist_group(vec![record(1, vec![put(5, "a", "1")])]).unwrap();
        }
        {
            // Simulate a crash between the durable batch and the keyspace delete: the
            // drop marker is written, the keyspace is left alone.
            let db = Database::builder(&dir.0).manual_journal_persist(true).open().unwrap();
            let dropped = db.keyspace(DROPPED, KeyspaceCreateOptions::default).unwrap();
            let mut batch = db.batch().durability(Some(PersistMode::SyncData));
            batch.insert(&dropped, 5u32.to_be_bytes().to_vec(), Vec::new());
            batch.commit().unwrap();
            assert!(db.keyspace_exists("t5"));
        }
        for _ in 0..2 {
            let (_store, recovered) = Store::open(StoreConfig::Dir(dir.0.clone())).unwrap();
            assert!(recovered.tables.is_empty());
        }
    }

    /// pgbench's init: one record with many rows; writing and recovering it must stay
    /// fast (the full 1M rows run as an ignored test: debug builds are slow).
    fn bulk_round_trip(n: u32) {
        let dir = TempDir::new("bulk");
        let started = std::time::Instant::now();
        {
            let (mut store, _) = Store::open(StoreConfig::Dir(dir.0.clone())).unwrap();
            let writes = (0..n)
                .map(|i| WalWrite::Put {
                    table: TableId(1),
                    key: i.to_be_bytes().to_vec(),
                    value: vec![b'x'; 96],
                })
                .collect();
            store.persist_group(vec![record(1, writes)]).unwrap();
        }
        let written = started.elapsed();
        let started = std::time::Instant::now();
        let (_store, recovered) = Store::open(StoreConfig::Dir(dir.0.clone())).unwrap();
        let loaded = started.elapsed();
        let table = &recovered.tables[&TableId(1)];
        assert_eq!(table.len(), n as usize);
        assert_eq!(table[0].0, 0u32.to_be_bytes());
        assert_eq!(table[n as usize - 1].0, (n - 1).to_be_bytes());
        eprintln!("bulk {n} rows: write+close {written:?}, open+load {loaded:?}");
    }

    #[test]
    fn a_large_record_round_trips() {
        bulk_round_trip(100_000);
    }

    #[test]
    #[ignore = "1M rows: run with --ignored (best in release)"]
    fn a_million_row_record_round_trips() {
        bulk_round_trip(1_000_000);
    }
}
