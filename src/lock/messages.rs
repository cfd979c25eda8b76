//! The LockManager's messages. Each one is sent by a session (through
//! [`crate::lock::LockClient`]) and handled by [`crate::lock::actor::LockManager`].
//!
//! Order: messages from one session arrive in the order it sent them (one mailbox),
//! so a session's `ReleaseAll` is always handled after its earlier `Acquire`.

use actix::Message;
use tokio::sync::oneshot;

use crate::error::Error;
use crate::lock::target::{Acquired, LockMode, LockTarget, WaitPolicy};
use crate::txn::TxnId;

/// Where the answer to an [`Acquire`] goes: exactly one value, sent when the core
/// decides (at once, or when a release, a cancel or nothing ever wakes the wait).
pub type AcquireReply = oneshot::Sender<Result<Acquired, Error>>;

/// Lock `target` in `mode` for `txn`.
///
/// * Sender: a session, via `LockClient::acquire`, before it reads-for-update or
///   writes a row, or runs DDL on a table.
/// * Reply: the handler returns `()` at once; the real answer goes to `reply`, maybe
///   much later: `Ok(Granted)`, `Ok(Skipped)` (SKIP LOCKED), or `Err` with 40P01,
///   55P03 (NOWAIT), 57014 (canceled), or XX000 if `txn` was already waiting.
/// * Late: if the session dropped its receiver while waiting, the lock is still
///   granted and stays held until the session's [`ReleaseAll`] (see `actor.rs`).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Acquire {
    /// The requesting transaction.
    pub txn: TxnId,
    /// The session's backend pid, for deadlock reports.
    pub pid: i32,
    /// What to lock.
    pub target: LockTarget,
    /// How strongly.
    pub mode: LockMode,
    /// What to do if it is not free.
    pub wait: WaitPolicy,
    /// Where the answer goes.
    pub reply: AcquireReply,
}

/// Release every lock of `txn` and drop its queued wait, if any.
///
/// * Sender: a session when its transaction commits (after the commit is durable) or
///   rolls back, and from the session's `Drop` when the connection goes away.
/// * Reply: none (fire-and-forget, `do_send`); waiters it unblocks get their
///   `Acquire` answers.
#[derive(Message)]
#[rtype(result = "()")]
pub struct ReleaseAll {
    /// The ending transaction.
    pub txn: TxnId,
}

/// Release `txn`'s hold on one `target`.
///
/// * Sender: a session, for `pg_advisory_unlock` when its last hold on the key goes,
///   and at ROLLBACK TO SAVEPOINT for the transaction locks of the subtransactions it
///   rolls back (writers blocked by their versions go on).
/// * Reply: none (fire-and-forget); waiters it unblocks get their `Acquire` answers.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Release {
    /// The holder (a transaction, or a session's advisory owner id).
    pub txn: TxnId,
    /// What it releases.
    pub target: LockTarget,
}

/// Fail `txn`'s pending wait with 57014 "canceling statement due to user request".
///
/// * Sender: the session, when the client's CancelRequest (or statement_timeout)
///   hits a statement that is waiting for a lock.
/// * Reply: none; the waiting `Acquire` gets the error. Does nothing if `txn` is not
///   waiting when it arrives, in particular if it arrives before the `Acquire`.
#[derive(Message)]
#[rtype(result = "()")]
pub struct CancelWait {
    /// The transaction whose statement is canceled.
    pub txn: TxnId,
}
