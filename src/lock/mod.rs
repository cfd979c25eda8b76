//! The LockManager: row and table locks, FIFO wait queues, deadlock detection at the
//! moment a transaction starts to wait.
//!
//! ```text
//!  session ── LockClient::acquire ──▶ ┌─ actor.rs: LockManager (actix) ──────────┐
//!          ◀─ Granted/Skipped/Err ─── │  pending: txn → reply sender              │
//!  session ── release_all / cancel ─▶ │  core.rs: LockTable::step(Input)→Effects  │
//!                                     │     deadlock.rs: find_cycle (wait-for)    │
//!                                     └───────────────────────────────────────────┘
//! ```
//!
//! * [`target`]: what can be locked ([`LockTarget`]), modes and their conflicts.
//! * [`core`]: every decision, as a sans-IO state machine (DESIGN.md §5).
//! * [`deadlock`]: the cycle search and PostgreSQL's 40P01 report.
//! * [`messages`], [`actor`], [`client`]: the actix shell and the handle sessions use.
//!
//! Invariant 3 of DESIGN.md §2, and where it is checked: two transactions never hold
//! conflicting locks on the same target (`LockTable::check_invariants`, run after
//! every step by the golden scripts and the loom models); a waiter is woken exactly
//! once (the core answers each acquire once; the actor keeps its reply sender until
//! then); a cycle gives exactly one victim, the transaction whose wait closed it.
//!
//! The life of a row lock (pgbench's `UPDATE pgbench_branches ... WHERE bid = $2`).
//! Row locks themselves live in the version chains (see `storage`): the newest
//! uncommitted version of a row is its lock. The LockManager only sees transactions
//! that have to wait, through `LockTarget::Transaction` targets:
//! 1. before its first write, transaction T calls [`LockClient::hold_own`]: T holds
//!    `Transaction(T)` Exclusive (fire-and-forget; nobody else can want it yet);
//! 2. T writes the row: a new uncommitted version on top of its chain;
//! 3. transaction W's UPDATE of the same row finds T's version (`Blocked(T)`) and calls
//!    [`LockClient::acquire`]`(W, pid, Transaction(T), Shared, Block)`; the core puts W
//!    in T's queue after checking the wait-for graph for a cycle through it (40P01 if
//!    W's wait would close one — PostgreSQL's "ShareLock on transaction N");
//! 4. T commits; the TxnManager publishes T's status, then calls
//!    [`LockClient::release_all`]`(T)`; the core grants W and the actor answers; W's
//!    UPDATE re-reads the row (READ COMMITTED re-check; REPEATABLE READ: 40001).
//!
//! `Row` and `Table` targets are ready for SELECT … FOR UPDATE / FOR SHARE and DDL.
//!
//! Golden scripts: `tests/golden/lock/*.txt`, run by `tests/lock_golden.rs`.
//! loom models: `loom-tests/tests/locks.rs`.

pub mod actor;
mod client;
pub mod core;
pub mod deadlock;
pub mod messages;
pub mod target;

pub use client::LockClient;

/// The lock-table owner id of session `pid`'s session-level advisory locks. They
/// outlive transactions, so they cannot be held under a transaction id; ids with the
/// top bit set are never handed to transactions. Shortcut: a wait-for cycle that runs
/// through a session's advisory locks and its transaction's row locks is not seen
/// as one cycle (PostgreSQL sees it); each wait stays cancelable.
pub fn session_owner(pid: i32) -> crate::txn::TxnId {
    crate::txn::TxnId((1 << 63) | u64::from(pid as u32))
}
pub use target::{Acquired, LockMode, LockTarget, WaitPolicy};
