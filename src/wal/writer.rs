//! The WalWriter actor: a dedicated OS thread hosting [`GroupCommit`], and the
//! [`WalHandle`] that feeds it.
//!
//! The thread is a thin shell: it turns channel events into core inputs and performs
//! the core's effects (persist through the [`Store`], publish the poisoned flag, call
//! `on_durable`). One loop turn:
//!
//! ```text
//!   recv() (blocks for the first record)
//!     └▶ try_recv() until the channel is empty ──▶ Submitted(r) each
//!          (a full group persists right there, the drain goes on)
//!   Drained ──▶ Persist(group): store.persist_group ──▶ PersistFinished ──▶ Ack(s)
//! ```
//!
//! Shutdown race, handled by the `closed` gate: a submit holds the gate's read lock
//! while it sends, and `shutdown` takes the write lock to close it before sending the
//! `Shutdown` message. So `Shutdown` is the last message in the channel, and every
//! record whose `submit` returned `Ok` is drained, persisted and acknowledged first:
//!
//! ```text
//!   [session]  read gate: open ─ send(Commit r) ─ release
//!   [shutdown]                                      write gate: closed ─ send(Shutdown) ─ join
//!   [writer]   … Commit r … Shutdown ⇒ persist, ack r, exit
//!   [session]  read gate: closed ⇒ Err(58030), no Durable will come
//! ```

use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender, TryRecvError};
use parking_lot::{Mutex, RwLock};

use crate::error::{Error, ErrorKind};
use crate::sync::{AtomicBool, Ordering};
use crate::wal::core::{poisoned_error, Effect, GroupCommit, GroupLimits, Input};
use crate::wal::record::{CommitRecord, Durable};
use crate::wal::store::Store;

/// Capacity of the submit channel. When it is full, `submit` blocks until the writer
/// drains it (it drains everything at once, so the wait is at most one persist). The
/// number of records in flight is bounded anyway by the number of sessions (each waits
/// for its commit), so this only smooths bursts.
pub const SUBMIT_QUEUE_CAPACITY: usize = 1024;

/// The callback that receives every group's outcome, on the writer thread.
pub type OnDurable = Box<dyn Fn(Durable) + Send>;

enum Message {
    Commit(CommitRecord),
    Shutdown,
}

struct Shared {
    tx: Sender<Message>,
    /// True once `shutdown` began; see the module doc for the race it closes.
    closed: RwLock<bool>,
    poison: Arc<Poison>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

/// Written by the writer thread, read by every handle. Kept apart from `Shared` so that
/// the thread holds no `Sender`: when every handle is dropped the channel disconnects
/// and the thread drains and exits on its own.
struct Poison {
    flag: AtomicBool,
    /// The persist failure (its text goes into later errors); set before `flag`.
    cause: Mutex<Option<Error>>,
}

/// The WalWriter actor (see the module doc). Started once per server.
pub struct WalWriter;

impl WalWriter {
    /// Starts the writer thread with the default group limits; `on_durable` is called
    /// on that thread once per group after its persist (or failure), in commit order.
    /// `on_durable` must not block for long (the next group waits for it), and must
    /// not call `submit` or `shutdown` (the thread would wait for itself); it should
    /// forward the outcome to the actors, e.g. with a non-blocking send. If it panics,
    /// the writer is gone: later submits fail, queued records get no `Durable`.
    pub fn start(store: Store, on_durable: OnDurable) -> WalHandle {
        WalWriter::start_with_limits(store, GroupLimits::default(), on_durable)
    }

    /// [`WalWriter::start`] with explicit group limits.
    pub fn start_with_limits(
        store: Store,
        limits: GroupLimits,
        on_durable: OnDurable,
    ) -> WalHandle {
        let (tx, rx) = crossbeam_channel::bounded(SUBMIT_QUEUE_CAPACITY);
        let shared = Arc::new(Shared {
            tx,
            closed: RwLock::new(false),
            poison: Arc::new(Poison { flag: AtomicBool::new(false), cause: Mutex::new(None) }),
            thread: Mutex::new(None),
        });
        let shell = Shell {
            core: GroupCommit::new(limits),
            store,
            on_durable,
            poison: shared.poison.clone(),
        };
        let spawned =
            std::thread::Builder::new().name("troupe-wal".into()).spawn(move || shell.run(rx));
        match spawned {
            Ok(thread) => *shared.thread.lock() = Some(thread),
            Err(err) => {
                // No writer: every submit fails (the receiver is gone), nothing is acked.
                tracing::error!(%err, "could not start the WAL writer thread");
                *shared.closed.write() = true;
            }
        }
        WalHandle { shared }
    }
}

/// A cheap, cloneable way to submit commit records to the WalWriter.
#[derive(Clone)]
pub struct WalHandle {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for WalHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WalHandle").field("poisoned", &self.is_poisoned()).finish()
    }
}

impl WalHandle {
    /// Queues a record. Blocks while the channel is full (see [`SUBMIT_QUEUE_CAPACITY`]).
    ///
    /// `Ok` means exactly one [`Durable`] listing `record.ts` will reach `on_durable`.
    /// `Err` (58030) means the engine is poisoned or the writer is shut down; then no
    /// `Durable` will come for this record. Records must be submitted in commit-ts
    /// order: they are applied in submission order.
    pub fn submit(&self, record: CommitRecord) -> Result<(), Error> {
        if let Some(err) = self.poisoned_error() {
            return Err(err);
        }
        let closed = self.shared.closed.read();
        if *closed {
            return Err(writer_gone());
        }
        self.shared.tx.send(Message::Commit(record)).map_err(|_| writer_gone())
    }

    /// True once a persist failed: no commit is ever acknowledged `Ok` afterwards.
    pub fn is_poisoned(&self) -> bool {
        self.shared.poison.flag.load(Ordering::Acquire)
    }

    /// Stops the thread after it persisted and acknowledged everything queued before,
    /// and waits for it (the store is closed when this returns). Idempotent; later
    /// submits fail. Must not be called from `on_durable` (the thread would wait for
    /// itself). Dropping every handle without calling it also stops the thread once it
    /// has drained the channel, but nobody waits for that.
    pub fn shutdown(&self) {
        {
            let mut closed = self.shared.closed.write();
            if !*closed {
                *closed = true;
                // Cannot fail while the writer runs; if it is gone there is no one to stop.
                let _ = self.shared.tx.send(Message::Shutdown);
            }
        }
        let thread = self.shared.thread.lock().take();
        if let Some(thread) = thread {
            if thread.join().is_err() {
                tracing::error!("the WAL writer thread panicked");
            }
        }
    }

    fn poisoned_error(&self) -> Option<Error> {
        if !self.is_poisoned() {
            return None;
        }
        let cause = self.shared.poison.cause.lock().clone();
        Some(match cause {
            Some(cause) => poisoned_error(&cause),
            None => {
                Error::new(ErrorKind::IoError, "could not commit: the write-ahead log is poisoned")
            }
        })
    }
}

fn writer_gone() -> Error {
    Error::new(ErrorKind::IoError, "could not commit: the write-ahead log writer has shut down")
}

/// The thread's state: the core, the store, and the way out.
struct Shell {
    core: GroupCommit,
    store: Store,
    on_durable: OnDurable,
    poison: Arc<Poison>,
}

impl Shell {
    fn run(mut self, rx: Receiver<Message>) {
        // Blocks for the first record of a group; `Err` means every handle is gone.
        while let Ok(first) = rx.recv() {
            let mut stop = self.accept(first);
            while !stop {
                match rx.try_recv() {
                    Ok(message) => stop = self.accept(message),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => stop = true,
                }
            }
            self.feed(Input::Drained);
            if stop {
                break;
            }
        }
        // Dropping `self.store` here closes fjall (the directory can be reopened).
    }

    /// Feeds one message; true when it asks the thread to stop.
    fn accept(&mut self, message: Message) -> bool {
        match message {
            Message::Commit(record) => {
                self.feed(Input::Submitted(record));
                false
            }
            Message::Shutdown => true,
        }
    }

    /// Steps the core and performs its effects, including the persists they cause.
    fn feed(&mut self, input: Input) {
        let mut effects: std::collections::VecDeque<Effect> = self.core.step(input).into();
        while let Some(effect) = effects.pop_front() {
            match effect {
                Effect::Persist(group) => {
                    let result = self.store.persist_group(group);
                    effects.extend(self.core.step(Input::PersistFinished(result)));
                }
                Effect::Poison(cause) => {
                    tracing::error!(%cause, "fsync failed: the engine is poisoned; restart the server");
                    *self.poison.cause.lock() = Some(cause);
                    self.poison.flag.store(true, Ordering::Release);
                }
                Effect::Ack(durable) => (self.on_durable)(durable),
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::catalog::TableId;
    use crate::txn::CommitTs;
    use crate::wal::fjall_store::tests::TempDir;
    use crate::wal::record::WalWrite;
    use crate::wal::store::{FailingStore, GroupStore, StoreConfig};
    use std::collections::HashMap;
    use std::time::Duration;

    /// Collects every `Durable` the writer reports.
    fn collector() -> (Arc<std::sync::Mutex<Vec<Durable>>>, OnDurable) {
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = seen.clone();
        (seen, Box::new(move |d| sink.lock().unwrap().push(d)))
    }

    fn record(ts: u64) -> CommitRecord {
        CommitRecord {
            ts: CommitTs(ts),
            writes: vec![
                WalWrite::Put {
                    table: TableId(1),
                    key: ts.to_be_bytes().to_vec(),
                    value: b"row".to_vec(),
                },
                WalWrite::Put {
                    table: TableId(2),
                    key: ts.to_be_bytes().to_vec(),
                    value: b"twin".to_vec(),
                },
            ],
        }
    }

    /// An in-memory store whose persist takes as long as a slow fsync.
    struct SlowStore;

    impl GroupStore for SlowStore {
        fn persist_group(&mut self, _group: Vec<CommitRecord>) -> Result<(), Error> {
            std::thread::sleep(Duration::from_millis(2));
            Ok(())
        }
    }

    /// How many times each commit was reported, and whether any was reported twice.
    fn counts(seen: &[Durable]) -> HashMap<u64, usize> {
        let mut counts = HashMap::new();
        for d in seen {
            for ts in &d.commits {
                *counts.entry(ts.0).or_insert(0) += 1;
            }
        }
        counts
    }

    #[test]
    fn every_record_is_acknowledged_once_in_submission_order() {
        let (seen, on_durable) = collector();
        let (store, _) = Store::open(StoreConfig::InMemory).unwrap();
        let wal = WalWriter::start(store, on_durable);
        for ts in 1..=100 {
            wal.submit(record(ts)).unwrap();
        }
        wal.shutdown();
        let seen = seen.lock().unwrap();
        let order: Vec<u64> = seen.iter().flat_map(|d| d.commits.iter().map(|t| t.0)).collect();
        assert_eq!(order, (1..=100).collect::<Vec<_>>());
        assert!(seen.iter().all(|d| d.result.is_ok()));
    }

    #[test]
    fn concurrent_submitters_are_grouped_and_each_gets_one_durable() {
        const THREADS: u64 = 8;
        const PER_THREAD: u64 = 100;
        let (seen, on_durable) = collector();
        let wal = WalWriter::start(Store::from_group_store(Box::new(SlowStore)), on_durable);
        let submitters: Vec<_> = (0..THREADS)
            .map(|t| {
                let wal = wal.clone();
                std::thread::spawn(move || {
                    for i in 0..PER_THREAD {
                        wal.submit(record(t * PER_THREAD + i)).unwrap();
                    }
                })
            })
            .collect();
        for s in submitters {
            s.join().unwrap();
        }
        wal.shutdown();
        let seen = seen.lock().unwrap();
        let counts = counts(&seen);
        assert_eq!(counts.len() as u64, THREADS * PER_THREAD);
        assert!(counts.values().all(|&n| n == 1));
        assert!(
            (seen.len() as u64) < THREADS * PER_THREAD,
            "{} persists for {} records: no grouping",
            seen.len(),
            THREADS * PER_THREAD
        );
    }

    #[test]
    fn a_failed_persist_poisons_and_nothing_is_acknowledged_ok_after_it() {
        let (seen, on_durable) = collector();
        let wal =
            WalWriter::start(Store::from_group_store(Box::new(FailingStore::after(3))), on_durable);
        let mut accepted = Vec::new();
        for ts in 1..=50 {
            match wal.submit(record(ts)) {
                Ok(()) => accepted.push(ts),
                Err(err) => assert_eq!(err.kind.sqlstate(), "58030"),
            }
            // Small pauses so that several groups form before the failure.
            if ts % 10 == 0 {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        wal.shutdown();
        assert!(wal.is_poisoned());
        let err = wal.submit(record(99)).unwrap_err();
        assert_eq!(err.kind, ErrorKind::IoError);
        let seen = seen.lock().unwrap();
        let counts = counts(&seen);
        assert_eq!(counts.len(), accepted.len());
        assert!(accepted.iter().all(|ts| counts.get(ts) == Some(&1)));
        let first_err = seen.iter().position(|d| d.result.is_err()).unwrap();
        assert!(seen[first_err..].iter().all(|d| d.result.is_err()), "Ok after poisoning");
        assert!(first_err <= 3, "at most three persists succeeded");
    }

    #[test]
    fn shutdown_is_idempotent_and_later_submits_fail() {
        let (seen, on_durable) = collector();
        let (store, _) = Store::open(StoreConfig::InMemory).unwrap();
        let wal = WalWriter::start(store, on_durable);
        wal.submit(record(1)).unwrap();
        wal.shutdown();
        wal.shutdown();
        assert_eq!(wal.submit(record(2)).unwrap_err().kind, ErrorKind::IoError);
        assert!(!wal.is_poisoned());
        assert_eq!(counts(&seen.lock().unwrap()).len(), 1);
    }

    #[test]
    fn records_written_through_the_writer_are_recovered() {
        let dir = TempDir::new("writer");
        let (store, _) = Store::open(StoreConfig::Dir(dir.0.clone())).unwrap();
        let (seen, on_durable) = collector();
        let wal = WalWriter::start(store, on_durable);
        for ts in 1..=20 {
            wal.submit(record(ts)).unwrap();
        }
        wal.submit(CommitRecord {
            ts: CommitTs(21),
            writes: vec![WalWrite::DropTable { table: TableId(2) }],
        })
        .unwrap();
        wal.shutdown();
        assert!(seen.lock().unwrap().iter().all(|d| d.result.is_ok()));
        let (_store, recovered) = Store::open(StoreConfig::Dir(dir.0.clone())).unwrap();
        assert_eq!(recovered.tables.len(), 1);
        let rows = &recovered.tables[&TableId(1)];
        assert_eq!(rows.len(), 20);
        assert_eq!(rows[19], (20u64.to_be_bytes().to_vec(), b"row".to_vec()));
    }

    #[test]
    fn dropping_every_handle_stops_the_writer_after_the_drain() {
        let (acks_tx, acks_rx) = std::sync::mpsc::channel();
        let on_durable: OnDurable = Box::new(move |d: Durable| {
            let _ = acks_tx.send(d);
        });
        let (store, _) = Store::open(StoreConfig::InMemory).unwrap();
        let wal = WalWriter::start(store, on_durable);
        let other = wal.clone();
        wal.submit(record(1)).unwrap();
        drop(wal);
        other.submit(record(2)).unwrap();
        drop(other);
        let mut acked = Vec::new();
        // The thread exits and drops `on_durable` (and its sender) after the drain.
        loop {
            match acks_rx.recv_timeout(Duration::from_secs(10)) {
                Ok(d) => acked.extend(d.commits.iter().map(|t| t.0)),
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
                Err(err) => panic!("the writer did not stop: {err}"),
            }
        }
        assert_eq!(acked, [1, 2]);
    }

    const CRASH_DIR: &str = "TROUPE_WAL_CRASH_DIR";

    /// The child half of the crash test: writes until some acks came, prints each
    /// acknowledged ts, and exits without closing anything (no destructor runs).
    #[test]
    fn crash_child() {
        let Some(dir) = std::env::var_os(CRASH_DIR) else {
            return;
        };
        let (store, _) = Store::open(StoreConfig::Dir(dir.into())).unwrap();
        let on_durable: OnDurable = Box::new(|d: Durable| {
            assert!(d.result.is_ok());
            for ts in d.commits {
                println!("acked {}", ts.0);
            }
        });
        let wal = WalWriter::start(store, on_durable);
        for ts in 1..=5_000 {
            wal.submit(record(ts)).unwrap();
            if ts == 300 {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        std::process::exit(0);
    }

    #[test]
    fn acknowledged_commits_survive_a_crash_and_none_is_partial() {
        let dir = TempDir::new("crash");
        let exe = std::env::current_exe().unwrap();
        let output = std::process::Command::new(exe)
            .args(["--exact", "wal::writer::tests::crash_child", "--nocapture", "--test-threads=1"])
            .env(CRASH_DIR, &dir.0)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let acked: Vec<u64> = stdout
            .lines()
            .filter_map(|l| l.strip_prefix("acked "))
            .map(|n| n.parse().unwrap())
            .collect();
        assert!(!acked.is_empty(), "the child acknowledged nothing: {stdout}");
        let (_store, recovered) = Store::open(StoreConfig::Dir(dir.0.clone())).unwrap();
        let keys = |t: u32| -> Vec<Vec<u8>> {
            recovered
                .tables
                .get(&TableId(t))
                .map(|rows| rows.iter().map(|(k, _)| k.clone()).collect())
                .unwrap_or_default()
        };
        let (one, two) = (keys(1), keys(2));
        assert_eq!(one, two, "a record's two writes are both present or both absent");
        for ts in &acked {
            assert!(
                one.binary_search(&ts.to_be_bytes().to_vec()).is_ok(),
                "acked commit {ts} lost"
            );
        }
    }
}
