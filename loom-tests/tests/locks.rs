//! loom models of the LockManager protocol (DESIGN.md §2, invariant 3).
//!
//! The real [`LockTable`] (not a copy) runs on a loom thread, as the actor runs it:
//! it receives requests from session threads through a loom channel, keeps the reply
//! sender of every unanswered acquire, and sends each effect to its sender
//! (`src/lock/actor.rs` does the same with actix and tokio oneshots). loom then tries
//! the interleavings of sessions and lock manager, up to the preemption bound.
//!
//! What the models assert:
//! * no two conflicting holders at any time: the table's own check after every step,
//!   and the sessions' view (a counter they bump when granted, before they release);
//! * every acquire is answered exactly once: a lost wake-up leaves a session blocked
//!   in `recv` forever, which loom reports as a deadlock; a second answer finds no
//!   pending sender and panics the lock manager;
//! * a 2-cycle gives exactly one victim, and the survivor is granted once the victim
//!   releases;
//! * waiters are granted in the order their acquires reached the lock manager (FIFO).
//!
//! Run: `CARGO_TARGET_DIR=target/loom RUSTFLAGS="--cfg troupe_loom" \
//!       LOOM_MAX_PREEMPTIONS=2 cargo test -p troupe-loom-tests --test locks`

#![cfg(troupe_loom)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::mpsc::{channel, Receiver, Sender};
use loom::sync::{Arc, Mutex};
use loom::thread::{self, JoinHandle};
use troupe::catalog::TableId;
use troupe::error::{Error, ErrorKind};
use troupe::lock::core::{Effect, Input, LockTable};
use troupe::lock::{Acquired, LockMode, LockTarget, WaitPolicy};
use troupe::txn::TxnId;

type Answer = Result<Acquired, Error>;

/// What a session sends to the lock-manager thread (the actor's messages).
enum Request {
    Acquire {
        txn: TxnId,
        target: LockTarget,
        mode: LockMode,
        reply: Sender<Answer>,
    },
    ReleaseAll {
        txn: TxnId,
    },
    CancelWait {
        txn: TxnId,
    },
    /// Sent by the model after every session has finished (loom channels never hang up).
    Shutdown,
}

fn row(k: &str) -> LockTarget {
    LockTarget::Row { table: TableId(1), key: k.as_bytes().into() }
}

/// The actor shell, on a loom thread. Returns the table at shutdown for final checks.
fn spawn_lock_manager(requests: Receiver<Request>) -> JoinHandle<LockTable> {
    spawn_recording_lock_manager(requests, Arc::new(Mutex::new(Vec::new())))
}

/// [`spawn_lock_manager`] that also records the order in which acquires arrive.
fn spawn_recording_lock_manager(
    requests: Receiver<Request>,
    arrivals: Arc<Mutex<Vec<TxnId>>>,
) -> JoinHandle<LockTable> {
    thread::spawn(move || {
        let mut table = LockTable::new();
        let mut pending: HashMap<TxnId, Sender<Answer>> = HashMap::new();
        loop {
            let effects = match requests.recv().expect("model keeps a sender") {
                Request::Acquire { txn, target, mode, reply } => {
                    assert!(pending.insert(txn, reply).is_none(), "one acquire at a time per txn");
                    arrivals.lock().unwrap().push(txn);
                    let pid = 100 + txn.0 as i32;
                    table.step(Input::Acquire { txn, pid, target, mode, wait: WaitPolicy::Block })
                }
                Request::ReleaseAll { txn } => {
                    let effects = table.step(Input::ReleaseAll { txn });
                    pending.remove(&txn);
                    effects
                }
                Request::CancelWait { txn } => table.step(Input::CancelWait { txn }),
                Request::Shutdown => {
                    assert!(pending.is_empty(), "acquires never answered: {:?}", pending.keys());
                    return table;
                }
            };
            table.check_invariants().expect("lock table invariant");
            for effect in effects {
                let reply = pending.remove(&effect.txn()).expect("exactly one answer per acquire");
                let answer = match effect {
                    Effect::Granted { .. } => Ok(Acquired::Granted),
                    Effect::Skipped { .. } => Ok(Acquired::Skipped),
                    Effect::Failed { error, .. } => Err(error),
                };
                let _ = reply.send(answer);
            }
        }
    })
}

/// A session's acquire: send, then block until the answer arrives.
fn acquire(lm: &Sender<Request>, txn: u64, target: LockTarget, mode: LockMode) -> Answer {
    let (reply, answer) = channel();
    lm.send(Request::Acquire { txn: TxnId(txn), target, mode, reply }).unwrap();
    let got = answer.recv().unwrap();
    assert!(answer.try_recv().is_err(), "a second answer arrived");
    got
}

fn release_all(lm: &Sender<Request>, txn: u64) {
    lm.send(Request::ReleaseAll { txn: TxnId(txn) }).unwrap();
}

fn shutdown(lm: &Sender<Request>, manager: JoinHandle<LockTable>) -> LockTable {
    lm.send(Request::Shutdown).unwrap();
    manager.join().unwrap()
}

/// Sessions' own view of who holds row `a`: readers count 1, the writer `WRITER`.
const WRITER: usize = 1 << 16;

/// One writer and two readers race for row `a`; each releases after using it.
/// Conflicting holders never overlap, and every acquire is answered exactly once,
/// also when a release races a new wait.
#[test]
fn holders_never_conflict_and_every_waiter_wakes_once() {
    loom::model(|| {
        let (lm, requests) = channel();
        let manager = spawn_lock_manager(requests);
        let held = Arc::new(AtomicUsize::new(0));
        let sessions: Vec<_> =
            [(1, LockMode::Exclusive), (2, LockMode::Shared), (3, LockMode::Shared)]
                .into_iter()
                .map(|(txn, mode)| {
                    let (lm, held) = (lm.clone(), held.clone());
                    thread::spawn(move || {
                        assert_eq!(acquire(&lm, txn, row("a"), mode), Ok(Acquired::Granted));
                        let weight = if mode == LockMode::Exclusive { WRITER } else { 1 };
                        let before = held.fetch_add(weight, Ordering::SeqCst);
                        if mode == LockMode::Exclusive {
                            assert_eq!(before, 0, "writer granted next to another holder");
                        } else {
                            assert!(before < WRITER, "reader granted next to the writer");
                        }
                        held.fetch_sub(weight, Ordering::SeqCst);
                        release_all(&lm, txn);
                    })
                })
                .collect();
        for s in sessions {
            s.join().unwrap();
        }
        assert!(shutdown(&lm, manager).is_idle());
    });
}

/// t1 holds `a`; t1's release races t2's new wait for `a`. Whichever the lock manager
/// sees first, t2 is granted, exactly once.
#[test]
fn release_racing_a_new_wait_loses_no_wake_up() {
    loom::model(|| {
        let (lm, requests) = channel();
        let manager = spawn_lock_manager(requests);
        assert_eq!(acquire(&lm, 1, row("a"), LockMode::Exclusive), Ok(Acquired::Granted));
        let releaser = {
            let lm = lm.clone();
            thread::spawn(move || release_all(&lm, 1))
        };
        let waiter = {
            let lm = lm.clone();
            thread::spawn(move || {
                assert_eq!(acquire(&lm, 2, row("a"), LockMode::Exclusive), Ok(Acquired::Granted));
                release_all(&lm, 2);
            })
        };
        releaser.join().unwrap();
        waiter.join().unwrap();
        assert!(shutdown(&lm, manager).is_idle());
    });
}

/// t1 holds `a`, t2 holds `b`; then t1 asks for `b` while t2 asks for `a`. Exactly one
/// of them is the victim (40P01) whichever request arrives last, and the survivor is
/// granted after the victim's release_all.
#[test]
fn two_cycle_has_exactly_one_victim_and_the_survivor_proceeds() {
    loom::model(|| {
        let (lm, requests) = channel();
        let manager = spawn_lock_manager(requests);
        assert_eq!(acquire(&lm, 1, row("a"), LockMode::Exclusive), Ok(Acquired::Granted));
        assert_eq!(acquire(&lm, 2, row("b"), LockMode::Exclusive), Ok(Acquired::Granted));
        let victims = Arc::new(AtomicUsize::new(0));
        let session = |txn: u64, want: &'static str| {
            let (lm, victims) = (lm.clone(), victims.clone());
            thread::spawn(move || {
                match acquire(&lm, txn, row(want), LockMode::Exclusive) {
                    Ok(granted) => assert_eq!(granted, Acquired::Granted),
                    Err(e) => {
                        assert_eq!(e.kind, ErrorKind::DeadlockDetected);
                        victims.fetch_add(1, Ordering::SeqCst);
                    }
                }
                release_all(&lm, txn); // commit, or roll back the victim
            })
        };
        let (s1, s2) = (session(1, "b"), session(2, "a"));
        s1.join().unwrap();
        s2.join().unwrap();
        assert_eq!(victims.load(Ordering::SeqCst), 1, "exactly one victim per cycle");
        assert!(shutdown(&lm, manager).is_idle());
    });
}

/// t2 waits for `a` (held by t1) while a cancel of t2 and t1's release race. t2 gets
/// exactly one answer: granted, or 57014 if the cancel hit the wait first.
#[test]
fn cancel_racing_a_grant_answers_once() {
    loom::model(|| {
        let (lm, requests) = channel();
        let manager = spawn_lock_manager(requests);
        assert_eq!(acquire(&lm, 1, row("a"), LockMode::Exclusive), Ok(Acquired::Granted));
        let waiter = {
            let lm = lm.clone();
            thread::spawn(move || {
                match acquire(&lm, 2, row("a"), LockMode::Exclusive) {
                    Ok(granted) => assert_eq!(granted, Acquired::Granted),
                    Err(e) => assert_eq!(e.kind, ErrorKind::QueryCanceled),
                }
                release_all(&lm, 2);
            })
        };
        let canceler = {
            let lm = lm.clone();
            thread::spawn(move || lm.send(Request::CancelWait { txn: TxnId(2) }).unwrap())
        };
        release_all(&lm, 1);
        waiter.join().unwrap();
        canceler.join().unwrap();
        assert!(shutdown(&lm, manager).is_idle());
    });
}

/// t1 holds `a`, t2 `b`, t3 `c`; then t1 asks for `b`, t2 for `c`, t3 for `a`, in any
/// order. Exactly one of them is the victim (40P01, the one whose wait closes the
/// cycle), and both survivors are granted once the victim (and then each other)
/// releases.
#[test]
fn three_cycle_has_exactly_one_victim_and_the_survivors_proceed() {
    loom::model(|| {
        let (lm, requests) = channel();
        let manager = spawn_lock_manager(requests);
        for (txn, k) in [(1, "a"), (2, "b"), (3, "c")] {
            assert_eq!(acquire(&lm, txn, row(k), LockMode::Exclusive), Ok(Acquired::Granted));
        }
        let victims = Arc::new(AtomicUsize::new(0));
        let session = |txn: u64, want: &'static str| {
            let (lm, victims) = (lm.clone(), victims.clone());
            thread::spawn(move || {
                match acquire(&lm, txn, row(want), LockMode::Exclusive) {
                    Ok(granted) => assert_eq!(granted, Acquired::Granted),
                    Err(e) => {
                        assert_eq!(e.kind, ErrorKind::DeadlockDetected);
                        victims.fetch_add(1, Ordering::SeqCst);
                    }
                }
                release_all(&lm, txn);
            })
        };
        let s = [session(1, "b"), session(2, "c")];
        // The third session is the model's own thread (one thread fewer to interleave).
        match acquire(&lm, 3, row("a"), LockMode::Exclusive) {
            Ok(granted) => assert_eq!(granted, Acquired::Granted),
            Err(e) => {
                assert_eq!(e.kind, ErrorKind::DeadlockDetected);
                victims.fetch_add(1, Ordering::SeqCst);
            }
        }
        release_all(&lm, 3);
        for s in s {
            s.join().unwrap();
        }
        assert_eq!(victims.load(Ordering::SeqCst), 1, "exactly one victim per cycle");
        assert!(shutdown(&lm, manager).is_idle());
    });
}

/// Two writers queue behind a holder of row `a` while it releases: whatever the
/// interleaving, they are granted in the order their acquires reached the lock
/// manager (FIFO), each exactly once.
#[test]
fn waiters_are_granted_in_arrival_order() {
    loom::model(|| {
        let (lm, requests) = channel();
        let arrivals = Arc::new(Mutex::new(Vec::new()));
        let manager = spawn_recording_lock_manager(requests, arrivals.clone());
        assert_eq!(acquire(&lm, 1, row("a"), LockMode::Exclusive), Ok(Acquired::Granted));
        let granted = Arc::new(Mutex::new(Vec::new()));
        let waiters: Vec<_> = [2u64, 3]
            .into_iter()
            .map(|txn| {
                let (lm, granted) = (lm.clone(), granted.clone());
                thread::spawn(move || {
                    assert_eq!(
                        acquire(&lm, txn, row("a"), LockMode::Exclusive),
                        Ok(Acquired::Granted)
                    );
                    granted.lock().unwrap().push(TxnId(txn));
                    release_all(&lm, txn);
                })
            })
            .collect();
        release_all(&lm, 1);
        for w in waiters {
            w.join().unwrap();
        }
        let table = shutdown(&lm, manager);
        assert!(table.is_idle());
        let arrived: Vec<TxnId> =
            arrivals.lock().unwrap().iter().copied().filter(|t| *t != TxnId(1)).collect();
        assert_eq!(*granted.lock().unwrap(), arrived, "granted out of arrival order");
    });
}
