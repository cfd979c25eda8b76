//! [`LockClient`]: what sessions hold to talk to the LockManager.

use actix::{Actor, Addr, ArbiterHandle};
use tokio::sync::oneshot;

use crate::error::Error;
use crate::lock::actor::{LockManager, MAILBOX_CAPACITY};
use crate::lock::messages::{Acquire, CancelWait, Release, ReleaseAll};
use crate::lock::target::{Acquired, LockMode, LockTarget, WaitPolicy};
use crate::txn::TxnId;

/// A cheap, cloneable handle to the LockManager actor. Usable from any thread and any
/// tokio runtime (actix addresses are `Send`).
#[derive(Clone)]
pub struct LockClient {
    addr: Addr<LockManager>,
}

impl LockClient {
    /// Starts the LockManager actor on `arbiter`, with a mailbox of
    /// [`MAILBOX_CAPACITY`]. Call it from inside a running actix System, or with the
    /// handle of an arbiter of one.
    pub fn start(arbiter: &ArbiterHandle) -> LockClient {
        let addr = LockManager::start_in_arbiter(arbiter, |ctx| {
            ctx.set_mailbox_capacity(MAILBOX_CAPACITY);
            LockManager::new()
        });
        LockClient { addr }
    }

    /// Acquires `target` in `mode` for `txn`, waiting (FIFO) when `wait` is
    /// [`WaitPolicy::Block`]. `pid` is the session's backend pid, shown in deadlock
    /// reports.
    ///
    /// Re-entrant: a lock already held in the same or a stronger mode is granted at
    /// once; a Shared→Exclusive upgrade waits for the other sharers. Errors: 40P01
    /// (this wait would close a cycle; the other locks stay held until
    /// [`release_all`](Self::release_all)), 55P03 with `NoWait` (`could not obtain lock
    /// on row` / `... on relation`: the caller may add the table name), 57014 after
    /// [`cancel_wait`](Self::cancel_wait), XX000 if the actor is gone or `txn` already
    /// waits. Precondition: at most one acquire in flight per transaction.
    ///
    /// Dropping the future while it waits does not withdraw the request: the lock may
    /// still be granted, and stays held until `release_all(txn)`.
    pub async fn acquire(
        &self,
        txn: TxnId,
        pid: i32,
        target: LockTarget,
        mode: LockMode,
        wait: WaitPolicy,
    ) -> Result<Acquired, Error> {
        let (reply, answer) = oneshot::channel();
        self.addr
            .send(Acquire { txn, pid, target, mode, wait, reply })
            .await
            .map_err(|e| Error::internal(format!("lock manager unavailable: {e}")))?;
        answer.await.map_err(|_| Error::internal("lock manager dropped the lock request"))?
    }

    /// Takes `txn`'s own transaction lock (Exclusive on `LockTarget::Transaction(txn)`),
    /// without waiting for the answer: nobody else can hold it, and because this is
    /// enqueued before `txn` writes its first version, any writer that later finds that
    /// version and waits for `txn` is queued behind it (one mailbox, FIFO).
    pub fn hold_own(&self, txn: TxnId, pid: i32) {
        self.hold_for(txn, txn, pid);
    }

    /// Takes the transaction lock of subtransaction `sub` for its top-level transaction
    /// `txn`, as [`LockClient::hold_own`] does for `txn` itself. Held by `txn`, so that
    /// the wait-for graph sees one node per session, whichever (sub)transaction wrote.
    pub fn hold_for(&self, txn: TxnId, sub: TxnId, pid: i32) {
        let (reply, _answer) = oneshot::channel();
        let target = LockTarget::Transaction(sub);
        self.addr.do_send(Acquire {
            txn,
            pid,
            target,
            mode: LockMode::Exclusive,
            wait: WaitPolicy::Block,
            reply,
        });
    }

    /// Releases the transaction lock of subtransaction `sub` that `txn` holds (ROLLBACK
    /// TO SAVEPOINT). Fire-and-forget.
    pub fn release_sub(&self, txn: TxnId, sub: TxnId) {
        self.release(txn, LockTarget::Transaction(sub));
    }

    /// Releases every lock of `txn` and drops its queued wait; wakes the next
    /// compatible waiters in FIFO order. Fire-and-forget: never fails, never blocks,
    /// usable from `Drop` and non-async code.
    pub fn release_all(&self, txn: TxnId) {
        self.addr.do_send(ReleaseAll { txn });
    }

    /// Releases `txn`'s hold on `target` alone (advisory unlock); fire-and-forget.
    pub fn release(&self, txn: TxnId, target: LockTarget) {
        self.addr.do_send(Release { txn, target });
    }

    /// Makes `txn`'s pending wait, if any, fail with 57014 "canceling statement due to
    /// user request". Fire-and-forget. A cancel that arrives before the acquire it was
    /// meant for does nothing: the caller re-checks its cancel flag after sending
    /// the acquire, or calls this again.
    pub fn cancel_wait(&self, txn: TxnId) {
        self.addr.do_send(CancelWait { txn });
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::time::{Duration, Instant};

    use actix::{Arbiter, System};

    use super::*;
    use crate::catalog::TableId;
    use crate::error::ErrorKind;

    fn row(k: &str) -> LockTarget {
        LockTarget::Row { table: TableId(16385), key: k.as_bytes().into() }
    }

    const X: LockMode = LockMode::Exclusive;
    const BLOCK: WaitPolicy = WaitPolicy::Block;
    const PATIENCE: Duration = Duration::from_secs(5);

    #[actix_rt::test]
    async fn waiter_is_granted_when_holder_releases() {
        let locks = LockClient::start(&Arbiter::current());
        let got = locks.acquire(TxnId(1), 101, row("a"), X, BLOCK).await.unwrap();
        assert_eq!(got, Acquired::Granted);
        let l2 = locks.clone();
        let waiter =
            actix_rt::spawn(async move { l2.acquire(TxnId(2), 102, row("a"), X, BLOCK).await });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiter.is_finished(), "t2 must wait while t1 holds the row");
        locks.release_all(TxnId(1));
        let got = tokio::time::timeout(PATIENCE, waiter).await.unwrap().unwrap();
        assert_eq!(got, Ok(Acquired::Granted));
    }

    #[actix_rt::test]
    async fn cancel_wait_fails_the_wait_with_57014() {
        let locks = LockClient::start(&Arbiter::current());
        locks.acquire(TxnId(1), 101, row("a"), X, BLOCK).await.unwrap();
        let l2 = locks.clone();
        let waiter =
            actix_rt::spawn(async move { l2.acquire(TxnId(2), 102, row("a"), X, BLOCK).await });
        tokio::time::sleep(Duration::from_millis(50)).await;
        locks.cancel_wait(TxnId(2));
        let err = tokio::time::timeout(PATIENCE, waiter).await.unwrap().unwrap().unwrap_err();
        assert_eq!(err.kind, ErrorKind::QueryCanceled);
        assert_eq!(err.message, "canceling statement due to user request");
    }

    /// The race documented in `actor.rs`: a session stops listening while it waits;
    /// the lock is granted anyway and freed by its release_all.
    #[actix_rt::test]
    async fn abandoned_wait_is_granted_then_freed_by_release_all() {
        let locks = LockClient::start(&Arbiter::current());
        locks.acquire(TxnId(1), 101, row("a"), X, BLOCK).await.unwrap();
        let abandoned = tokio::time::timeout(
            Duration::from_millis(50),
            locks.acquire(TxnId(2), 102, row("a"), X, BLOCK),
        )
        .await;
        assert!(abandoned.is_err(), "t2 waited and gave up");
        locks.release_all(TxnId(1)); // grants row a to t2, whose receiver is gone
        let nowait = WaitPolicy::NoWait;
        let err = locks.acquire(TxnId(3), 103, row("a"), X, nowait).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::LockNotAvailable);
        locks.release_all(TxnId(2));
        assert_eq!(locks.acquire(TxnId(3), 103, row("a"), X, nowait).await, Ok(Acquired::Granted));
    }

    /// Two sessions on a multi-thread tokio runtime, the actor in its own actix System:
    /// the deadlock gives one 40P01 at once, and the survivor proceeds after the
    /// victim's release_all.
    #[test]
    fn deadlock_between_two_sessions_has_one_victim() {
        let (tx, rx) = std::sync::mpsc::channel();
        let system_thread = std::thread::spawn(move || {
            let runner = System::new();
            tx.send(System::current()).unwrap();
            runner.run().unwrap();
        });
        let system = rx.recv().unwrap();
        let locks = LockClient::start(system.arbiter());
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            locks.acquire(TxnId(1), 101, row("a"), X, BLOCK).await.unwrap();
            locks.acquire(TxnId(2), 102, row("b"), X, BLOCK).await.unwrap();
            let started = Instant::now();
            let session = |txn: u64, pid: i32, want: &'static str| {
                let locks = locks.clone();
                tokio::spawn(async move {
                    let r = locks.acquire(TxnId(txn), pid, row(want), X, BLOCK).await;
                    if r.is_err() {
                        locks.release_all(TxnId(txn)); // the victim rolls back
                    }
                    r
                })
            };
            let (s1, s2) = (session(1, 101, "b"), session(2, 102, "a"));
            let r1 = tokio::time::timeout(PATIENCE, s1).await.unwrap().unwrap();
            let r2 = tokio::time::timeout(PATIENCE, s2).await.unwrap().unwrap();
            assert!(started.elapsed() < Duration::from_secs(1), "detected at once, not on a timer");
            let (victim, survivor) = if r1.is_err() { (r1, r2) } else { (r2, r1) };
            let err = victim.unwrap_err();
            assert_eq!(err.kind, ErrorKind::DeadlockDetected);
            assert_eq!(err.detail.as_deref().map(|d| d.lines().count()), Some(2));
            assert_eq!(survivor, Ok(Acquired::Granted));
        });
        system.stop();
        system_thread.join().unwrap();
    }
}
