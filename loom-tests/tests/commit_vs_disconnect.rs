//! loom model of a commit racing a cancel and a client disconnect (issue 5, model 6):
//! the outcome is all or nothing, and the transaction's locks are released.
//!
//! Setup, as the real pieces run it:
//! * transaction A has written rows `a` and `b` (versions in the real
//!   `storage::Partition`, pointing at A's `TxnStatus`) and holds its own transaction
//!   lock in the real `lock::core::LockTable`, where session B waits for it (the wait
//!   of a writer that found A's version on a row);
//! * A's session sends `Commit` to the TxnManager thread, which runs the real
//!   `txn::core::TxnCore` the way `txn::actor` does: `Submit` (the WAL is a scripted
//!   persist that succeeds or fails), then per `Publish` the status store and
//!   `ReleaseAll`, per `Fail` the abort and `ReleaseAll`, the watermark, and the
//!   replies last;
//! * meanwhile A's session is canceled (a CancelRequest reaches the LockManager as
//!   `CancelWait`: A waits for no lock, so it changes nothing) and, in the disconnect
//!   models, its client goes away: the reply receiver is dropped, and the session's
//!   drop path finds no transaction to roll back (`Txn::commit` took it, so nothing can
//!   abort a commit in flight).
//!
//! Asserted in every interleaving:
//! * B is granted exactly once, and only after A's outcome is published: at its grant
//!   A's status is committed or aborted, never active;
//! * any snapshot (B's, taken after its grant, and the final one) sees both of A's rows
//!   or neither;
//! * A commits exactly when its persist succeeded, and a client still connected is told
//!   so (Ok after a good persist, an error after a failed one);
//! * at the end the lock table is idle: nothing held, nobody waiting.
//!
//! A commit that gets no answer (the mutation `mutate-poison-forgets-commits`: the
//! poisoned TxnCore forgets its waiting commits) leaves A's locks held and B waiting:
//! loom reports the deadlock.
#![cfg(troupe_loom)]
#![allow(clippy::unwrap_used)]

use loom::sync::mpsc::{channel, Receiver, Sender};
use loom::thread;

use loom::sync::Condvar;
use troupe::lock::core::{Effect as LockEffect, Input as LockInput, LockTable};
use troupe::lock::{LockMode, LockTarget, WaitPolicy};
use troupe::storage::{Partition, PutOutcome, ReadView, Row};
use troupe::sync::{Arc, AtomicU64, Mutex, Ordering};
use troupe::txn::core::{Effect, Input, TxnCore};
use troupe::txn::{CommitTs, State, TxnId, TxnStatus};
use troupe::types::Value;

const A: TxnId = TxnId(1);
const B: TxnId = TxnId(2);

/// The LockManager: the real table behind a loom mutex (its mailbox), and where B's
/// answer goes.
struct Locks {
    table: Mutex<LockTable>,
    b_answer: Sender<LockEffect>,
}

impl Locks {
    fn step(&self, input: LockInput) -> Vec<LockEffect> {
        let mut table = self.table.lock().unwrap();
        let effects = table.step(input);
        table.check_invariants().expect("lock table invariant");
        let (for_b, rest): (Vec<_>, Vec<_>) = effects.into_iter().partition(|e| e.txn() == B);
        for effect in for_b {
            self.b_answer.send(effect).unwrap();
        }
        rest
    }
}

fn own_lock(txn: TxnId, mode: LockMode) -> LockInput {
    LockInput::Acquire {
        txn,
        pid: 100 + txn.0 as i32,
        target: LockTarget::Transaction(A),
        mode,
        wait: WaitPolicy::Block,
    }
}

/// The reply oneshot of `Commit`. Not a loom channel: loom fails a model that drops
/// a receiver with a message in it, which is exactly what a disconnect does.
#[derive(Default)]
struct Reply {
    /// (the client hung up, the answer once it came).
    slot: loom::sync::Mutex<(bool, Option<Result<CommitTs, ()>>)>,
    ready: Condvar,
}

impl Reply {
    /// `oneshot::Sender::send`: dropped if the receiver is gone.
    fn send(&self, answer: Result<CommitTs, ()>) {
        let mut slot = self.slot.lock().unwrap();
        if !slot.0 {
            assert!(slot.1.replace(answer).is_none(), "a second reply");
            self.ready.notify_one();
        }
    }

    /// The session awaits the reply.
    fn recv(&self) -> Result<CommitTs, ()> {
        let mut slot = self.slot.lock().unwrap();
        loop {
            if let Some(answer) = slot.1.take() {
                return answer;
            }
            slot = self.ready.wait(slot).unwrap();
        }
    }

    /// The receiver is dropped: the client disconnected.
    fn hang_up(&self) {
        self.slot.lock().unwrap().0 = true;
    }
}

/// What the threads share.
struct World {
    part: Mutex<Partition>,
    watermark: AtomicU64,
    locks: Locks,
}

impl World {
    /// A's two rows as a snapshot at the current watermark sees them: both or neither.
    fn sees_a(&self, me: TxnId) -> bool {
        let view = ReadView { snapshot: CommitTs(self.watermark.load(Ordering::Acquire)), txn: me };
        let part = self.part.lock().unwrap();
        let value = |k: &[u8]| match part.get(view, k).unwrap()[0] {
            Value::Int4(v) => v,
            _ => panic!("not an int4 row"),
        };
        let (a, b) = (value(b"a"), value(b"b"));
        assert_eq!(a, b, "a snapshot saw part of A (a = {a}, b = {b})");
        a == 1
    }
}

/// The TxnManager shell (`txn::actor::TxnManager::perform`), with a synchronous WAL.
fn txn_manager(world: &World, status: Arc<TxnStatus>, reply: &Reply, ok: bool) {
    let mut core = TxnCore::new(CommitTs(0));
    let mut queue: std::collections::VecDeque<Effect> =
        core.step(Input::Commit { token: 0 }).into();
    let mut answer = None;
    while let Some(effect) = queue.pop_front() {
        match effect {
            Effect::Submit { ts, .. } => {
                queue.extend(core.step(Input::Durable { commits: vec![ts], ok }));
            }
            Effect::Publish { ts, .. } => {
                status.commit(ts);
                assert!(world.locks.step(LockInput::ReleaseAll { txn: A }).is_empty());
                answer = Some(Ok(ts));
            }
            Effect::Watermark(ts) => world.watermark.store(ts.0, Ordering::Release),
            Effect::Fail { .. } => {
                status.abort();
                assert!(world.locks.step(LockInput::ReleaseAll { txn: A }).is_empty());
                answer = Some(Err(()));
            }
        }
    }
    if let Some(answer) = answer {
        // The session may have gone away; the commit's outcome stands.
        reply.send(answer);
    }
}

/// B: waits for A's transaction lock, then reads A's rows.
fn waiter(world: &World, a_status: &TxnStatus, answer: Receiver<LockEffect>) {
    let got = world.locks.step(own_lock(B, LockMode::Shared));
    assert!(got.is_empty(), "B must wait: A holds its lock");
    assert_eq!(answer.recv().unwrap(), LockEffect::Granted { txn: B });
    assert_ne!(a_status.state(), State::Active, "B woke before A's outcome was published");
    let a = world.locks.table.lock().unwrap().holders(&LockTarget::Transaction(A));
    assert_eq!(a, vec![(B, LockMode::Shared)], "B granted next to A");
    let _ = world.sees_a(B);
    world.locks.step(LockInput::ReleaseAll { txn: B });
    assert!(answer.try_recv().is_err(), "B answered twice");
}

fn model(persist_ok: bool, disconnect: bool) {
    loom::model(move || {
        let status = TxnStatus::new(A);
        let (b_answer, b_rx) = channel();
        let part = Partition::loaded(vec![
            (b"a".as_slice().into(), Row::from(vec![Value::Int4(0)])),
            (b"b".as_slice().into(), Row::from(vec![Value::Int4(0)])),
        ]);
        let world = Arc::new(World {
            part: Mutex::new(part),
            watermark: AtomicU64::new(0),
            locks: Locks { table: Mutex::new(LockTable::new()), b_answer },
        });
        // A's statement: its own lock, and a version on each row.
        assert_eq!(
            world.locks.step(own_lock(A, LockMode::Exclusive)),
            vec![LockEffect::Granted { txn: A }]
        );
        for key in [b"a".as_slice(), b"b".as_slice()] {
            let mut part = world.part.lock().unwrap();
            let view = ReadView { snapshot: CommitTs(0), txn: A };
            let base = match part.latest(view, troupe::storage::Isolation::ReadCommitted, A, key) {
                Ok(troupe::storage::Latest::Row(v)) => v,
                other => panic!("{other:?}"),
            };
            let put =
                part.put(&status, key, &base, Some(Row::from(vec![Value::Int4(1)])), CommitTs(0));
            assert_eq!(put.unwrap(), PutOutcome::Written);
        }

        let (w, s) = (world.clone(), status.clone());
        let b = thread::spawn(move || waiter(&w, &s, b_rx));
        // A's COMMIT goes to the TxnManager (its own thread)…
        let reply = Arc::new(Reply::default());
        let (w, s, r) = (world.clone(), status.clone(), reply.clone());
        let manager = thread::spawn(move || txn_manager(&w, s, &r, persist_ok));
        // …while a cancel for A's session reaches the LockManager (A waits for nothing).
        assert!(world.locks.step(LockInput::CancelWait { txn: A }).is_empty());
        if disconnect {
            // The client is gone: the reply has nobody to go to, and the session's drop
            // path has no transaction left to roll back (the commit took it).
            reply.hang_up();
        } else {
            let told = reply.recv();
            assert_eq!(told.is_ok(), persist_ok, "the client is told the commit's outcome");
        }
        manager.join().unwrap();
        b.join().unwrap();

        let committed = matches!(status.state(), State::Committed(_));
        assert_eq!(committed, persist_ok, "A commits exactly when its persist succeeded");
        assert_eq!(world.sees_a(TxnId(99)), persist_ok, "the final snapshot and A's outcome");
        assert!(world.locks.table.lock().unwrap().is_idle(), "locks left behind");
    });
}

#[test]
fn commit_while_the_client_waits() {
    model(true, false);
}

#[test]
fn commit_while_the_client_disconnects() {
    model(true, true);
}

#[test]
fn failed_persist_while_the_client_waits() {
    model(false, false);
}

#[test]
fn failed_persist_while_the_client_disconnects() {
    model(false, true);
}
