//! The WalWriter actor: group commit into fjall, and recovery.
//!
//! # Protocol
//!
//! ```text
//!  TxnManager ── submit(CommitRecord{ts, writes}) ──▶ bounded channel ──▶ WalWriter thread
//!                                                                          │ GroupCommit core
//!                                                                          │  drain all waiting
//!                                                                          │  one fjall batch
//!                                                                          │  one fdatasync
//!  on_durable(Durable{commits:[ts…], result}) ◀────────────────────────────┘  (same thread)
//! ```
//!
//! 1. At start-up the server calls [`Store::open`], which returns every durable catalog
//!    entry and table row ([`Recovered`]), then [`WalWriter::start`] with that store and
//!    an `on_durable` callback, and keeps the [`WalHandle`].
//! 2. At commit, after the commit timestamp is assigned, the committer calls
//!    [`WalHandle::submit`] (records in commit-ts order).
//! 3. The writer thread blocks for a record, then drains every record already waiting,
//!    writes them as one atomic fjall batch and persists it with one fdatasync
//!    ([`core::GroupCommit`] decides, [`store::GroupStore`] does the I/O).
//! 4. It then calls `on_durable` once for the group with the group's timestamps in
//!    order; only now may the commits be acknowledged, stamped and made visible.
//!
//! # Invariants (DESIGN §2)
//! * A commit is reported durable (`Durable { result: Ok }`) only after a persist that
//!   covered it returned `Ok` (invariant 1; loom model `loom-tests/tests/group_commit.rs`).
//! * Every record whose `submit` returned `Ok` is listed in exactly one `Durable`, also
//!   when its group failed (invariant 4). A `submit` that returned `Err` gets none.
//! * A failed persist poisons the engine: that group and every waiting or later record
//!   get `Err` (58030), [`WalHandle::is_poisoned`] turns true, and the persist is never
//!   retried (PostgreSQL's fsync lesson: the kernel may have dropped the dirty pages).
//! * After a crash, [`Store::open`] returns every acknowledged commit and no partial
//!   one (invariant 6): a group is one fjall batch, atomic in fjall's journal.
//!
//! # Files
//! * `record.rs` — [`CommitRecord`], [`WalWrite`], [`Durable`]: the messages.
//! * `core.rs` — [`GroupCommit`]: the sans-IO decisions.
//! * `store.rs` — [`Store`], [`GroupStore`], the in-memory and failing stores.
//! * `fjall_store.rs` — the fjall layout, the group batch, DropTable, recovery.
//! * `writer.rs` — [`WalWriter`], [`WalHandle`]: the thread and the channel.
//!
//! # What it does not do
//! * It does not read: nothing queries fjall after start-up except recovery; the
//!   storage actors serve reads from memory.
//! * It does not order commits: it applies records in submission order, which the
//!   caller keeps equal to commit-ts order.
//! * It does not split a record: one transaction is one atomic unit even with 1M rows
//!   (pgbench's init COPY); the group limits only decide when to stop adding records.
//! * It does not checkpoint or truncate: fjall flushes memtables and recycles its
//!   journals on its own.
//! * It does not recover from poisoning: the process must restart.

pub mod core;
mod fjall_store;
pub mod record;
pub mod store;
pub mod writer;

pub use self::core::{Effect, GroupCommit, GroupLimits, Input};
pub use self::record::{CommitRecord, Durable, WalWrite};
pub use self::store::{FailingStore, GroupStore, MemoryStore, Recovered, Rows, Store, StoreConfig};
pub use self::writer::{OnDurable, WalHandle, WalWriter, SUBMIT_QUEUE_CAPACITY};
