//! The TxnManager actor: a thin shell around [`TxnCore`](super::core::TxnCore).
//!
//! It turns [`Commit`] messages into core inputs, hands commit records to the
//! WalWriter, and when a group is durable publishes each commit (one atomic store in
//! the transaction's [`TxnStatus`]), stores the new watermark, and only then replies.
//!
//! Race handled here — a reader taking a snapshot while a group is published:
//! ```text
//! [txn manager] status(T1).commit(11); status(T2).commit(12); watermark.store(12)
//! [session R]   snapshot = watermark.load()      -- 10 or 12, never "11 without T1"
//! ```
//! A reader that loads 10 ignores T1 and T2 even if it sees their stamps; one that
//! loads 12 sees both, because both stamps were stored (Release) before the watermark.

use actix::{Actor, Context, Handler, Message};
use std::collections::HashMap;
use tokio::sync::oneshot;

use super::core::{Effect, Input, Token, TxnCore};
use super::status::TxnStatus;
use super::CommitTs;
use crate::error::{Error, ErrorKind, Result};
use crate::lock::LockClient;
use crate::sync::{Arc, AtomicU64, Ordering};
use crate::wal::{CommitRecord, Durable, WalHandle, WalWrite};

/// Mailbox capacity: commits are bounded by sessions, each with at most one in flight.
const MAILBOX: usize = 65_536;

/// Commit a transaction that wrote something. Sent by a session at COMMIT (or at the
/// end of an implicit transaction). The reply comes once the commit is durable and
/// visible (`Ok(ts)`), or failed (`Err`, 58030 after a failed fsync); it always comes.
pub struct Commit {
    /// The transaction's shared status; published with the commit timestamp.
    pub status: Arc<TxnStatus>,
    /// The transaction's writes, as the WAL stores them.
    pub writes: Vec<WalWrite>,
    /// Where the outcome goes.
    pub reply: oneshot::Sender<Result<CommitTs>>,
}

impl Message for Commit {
    type Result = ();
}

/// A persisted group, from the WalWriter thread.
pub struct GroupDurable(pub Durable);

impl Message for GroupDurable {
    type Result = ();
}

struct Waiting {
    status: Arc<TxnStatus>,
    writes: Option<Vec<WalWrite>>,
    reply: oneshot::Sender<Result<CommitTs>>,
}

/// The actor.
pub struct TxnManager {
    core: TxnCore,
    wal: WalHandle,
    locks: LockClient,
    watermark: Arc<AtomicU64>,
    next_token: Token,
    waiting: HashMap<Token, Waiting>,
}

impl TxnManager {
    /// A manager whose commits go to `wal` and who publishes into `watermark` (which
    /// must hold the last recovered timestamp).
    pub fn new(wal: WalHandle, watermark: Arc<AtomicU64>, locks: LockClient) -> TxnManager {
        let last = CommitTs(watermark.load(Ordering::Acquire));
        TxnManager {
            core: TxnCore::new(last),
            wal,
            locks,
            watermark,
            next_token: 0,
            waiting: HashMap::new(),
        }
    }

    fn perform(&mut self, effects: Vec<Effect>) {
        // Replies wait until every effect of the step has run, so that a commit is
        // acknowledged only once the watermark covers it. Otherwise:
        // [txn manager] status(T).commit(12); reply Ok(12) to session A
        // [session A]   COMMIT done; client sends SELECT on connection B
        // [session B]   snapshot = watermark.load() = 11  -- misses T's committed write
        // [txn manager] watermark.store(12)
        let mut replies = Vec::new();
        let mut queue: std::collections::VecDeque<Effect> = effects.into();
        while let Some(effect) = queue.pop_front() {
            match effect {
                Effect::Submit { token, ts } => {
                    let writes = self
                        .waiting
                        .get_mut(&token)
                        .and_then(|w| w.writes.take())
                        .unwrap_or_default();
                    if self.wal.submit(CommitRecord { ts, writes }).is_err() {
                        queue.extend(self.core.step(Input::SubmitFailed { ts }));
                    }
                }
                Effect::Publish { token, ts } => {
                    if let Some(w) = self.waiting.remove(&token) {
                        w.status.commit(ts);
                        // Release the row locks here rather than from the session: the
                        // LockManager shares this arbiter, so the next waiter is woken
                        // one thread hop sooner (hot rows are held for less time). The
                        // status was published first, so the waiter builds on it.
                        self.locks.release_all(w.status.id());
                        replies.push((w.reply, ts));
                    }
                }
                Effect::Watermark(ts) => self.watermark.store(ts.0, Ordering::Release),
                Effect::Fail { token } => {
                    if let Some(w) = self.waiting.remove(&token) {
                        w.status.abort();
                        // The session may be gone (it would release them itself
                        // otherwise); releasing twice is harmless.
                        self.locks.release_all(w.status.id());
                        let _ = w.reply.send(Err(poisoned()));
                    }
                }
            }
        }
        for (reply, ts) in replies {
            // The session may have gone away; its commit still stands.
            let _ = reply.send(Ok(ts));
        }
    }
}

fn poisoned() -> Error {
    Error::new(ErrorKind::IoError, "could not commit: the write-ahead log failed to persist")
        .with_hint("The server must be restarted; no commit is acknowledged after a failed fsync.")
}

impl Actor for TxnManager {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(MAILBOX);
    }
}

impl Handler<Commit> for TxnManager {
    type Result = ();

    fn handle(&mut self, msg: Commit, _: &mut Self::Context) {
        let token = self.next_token;
        self.next_token += 1;
        self.waiting.insert(
            token,
            Waiting { status: msg.status, writes: Some(msg.writes), reply: msg.reply },
        );
        let effects = self.core.step(Input::Commit { token });
        self.perform(effects);
    }
}

impl Handler<GroupDurable> for TxnManager {
    type Result = ();

    fn handle(&mut self, msg: GroupDurable, _: &mut Self::Context) {
        let ok = msg.0.result.is_ok();
        let effects = self.core.step(Input::Durable { commits: msg.0.commits, ok });
        self.perform(effects);
    }
}
