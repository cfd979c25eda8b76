//! The LockManager actor: a thin shell around [`LockTable`].
//!
//! Each message becomes one [`Input`]; each resulting [`Effect`] is an answer sent on
//! the reply channel that the matching [`Acquire`] brought along. The actor keeps
//! those reply senders, one per waiting transaction, in `pending`, so a wake-up is
//! never lost: the core decides, and the sender is right there.
//!
//! ```text
//!  session ──Acquire{reply}──▶ LockManager ── step(Input) ──▶ LockTable
//!     ▲                           │ pending[txn] = reply          │
//!     └──── reply.send(answer) ◀──┴────────── Vec<Effect> ◀───────┘
//! ```
//!
//! The race with a session that stops waiting, as an interleaving:
//!
//! ```text
//!  [session A]  acquire(t1, row r) → Acquire queued; A awaits the reply
//!  [session A]  the connection closes (or the future is dropped): receiver dropped
//!  [lock mgr ]  ReleaseAll(t0) from session B → core grants r to t1 → Granted{t1}
//!  [lock mgr ]  pending.remove(t1).send(..) fails: nobody listens. Ignored; t1 holds r
//!  [session A]  Drop → release_all(t1) → ReleaseAll(t1) queued after the Acquire
//!  [lock mgr ]  ReleaseAll(t1) → r released, the next waiter is granted
//! ```
//!
//! So the lock is held, briefly, by a transaction nobody runs, and freed by the
//! session's `release_all`, which therefore must always be sent when a transaction
//! ends, however it ends. If `ReleaseAll(t1)` arrives while t1 still waits, the core
//! drops the wait and the actor drops the reply sender with it.

use std::collections::HashMap;

use actix::{Actor, Context, Handler};

use crate::error::Error;
use crate::lock::core::{Effect, Input, LockTable};
use crate::lock::messages::{Acquire, AcquireReply, CancelWait, Release, ReleaseAll};
use crate::lock::target::Acquired;
use crate::txn::TxnId;

/// The actor's mailbox capacity (actix's default is 16). `LockClient::acquire` uses
/// `send`, which waits while the mailbox is full: sessions slow down instead of the
/// queue growing without bound. Releases and cancels use `do_send`, which actix
/// queues even when the mailbox is full, so they never block (at most one of each per
/// transaction end or cancel, so they are bounded by the number of sessions).
pub const MAILBOX_CAPACITY: usize = 4096;

/// The LockManager actor. One per server.
#[derive(Default)]
pub struct LockManager {
    table: LockTable,
    /// Reply senders of acquires not answered yet, one per waiting transaction.
    pending: HashMap<TxnId, AcquireReply>,
}

impl LockManager {
    /// A lock manager with an empty table.
    pub fn new() -> Self {
        Self::default()
    }

    fn perform(&mut self, effects: Vec<Effect>) {
        for effect in effects {
            let txn = effect.txn();
            let answer = match effect {
                Effect::Granted { .. } => Ok(Acquired::Granted),
                Effect::Skipped { .. } => Ok(Acquired::Skipped),
                Effect::Failed { error, .. } => Err(error),
            };
            match self.pending.remove(&txn) {
                // Err: the session stopped listening; see the interleaving above.
                Some(reply) => {
                    let _ = reply.send(answer);
                }
                None => tracing::error!(%txn, "lock manager: answer without a pending acquire"),
            }
        }
    }
}

impl Actor for LockManager {
    type Context = Context<Self>;
}

impl Handler<Acquire> for LockManager {
    type Result = ();

    fn handle(&mut self, msg: Acquire, _: &mut Context<Self>) {
        let Acquire { txn, pid, target, mode, wait, reply } = msg;
        if self.pending.contains_key(&txn) {
            // A session bug; the core would refuse it too. Keep the first wait's sender.
            let _ = reply
                .send(Err(Error::internal(format!("transaction {txn} already waits for a lock"))));
            return;
        }
        self.pending.insert(txn, reply);
        let effects = self.table.step(Input::Acquire { txn, pid, target, mode, wait });
        self.perform(effects);
    }
}

impl Handler<ReleaseAll> for LockManager {
    type Result = ();

    fn handle(&mut self, msg: ReleaseAll, _: &mut Context<Self>) {
        let effects = self.table.step(Input::ReleaseAll { txn: msg.txn });
        self.perform(effects);
        // The core dropped msg.txn's wait, if it had one, without an answer.
        self.pending.remove(&msg.txn);
    }
}

impl Handler<Release> for LockManager {
    type Result = ();

    fn handle(&mut self, msg: Release, _: &mut Context<Self>) {
        let effects = self.table.step(Input::Release { txn: msg.txn, target: msg.target });
        self.perform(effects);
    }
}

impl Handler<CancelWait> for LockManager {
    type Result = ();

    fn handle(&mut self, msg: CancelWait, _: &mut Context<Self>) {
        let effects = self.table.step(Input::CancelWait { txn: msg.txn });
        self.perform(effects);
    }
}
