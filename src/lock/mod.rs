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
//! The life of a row lock (pgbench's `UPDATE pgbench_accounts ... WHERE aid = $2`):
//! 1. the session calls [`LockClient::acquire`]`(txn, pid, Row{accounts, aid},
//!    Exclusive, Block)`, which sends [`messages::Acquire`] with a oneshot sender;
//! 2. [`actor::LockManager`] stores the sender under `txn` and calls
//!    [`core::LockTable::step`]; the row is free: `Effect::Granted`, answered at once;
//! 3. another transaction asks for the same row: no effect, it waits in the FIFO
//!    queue (after the wait-for graph is checked for a cycle through it);
//! 4. the first commits; the session calls [`LockClient::release_all`]; the core
//!    grants the queue head and the actor sends its answer; that session's UPDATE
//!    re-reads the row (READ COMMITTED) and goes on.
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
pub use target::{Acquired, LockMode, LockTarget, WaitPolicy};
