//! loom model of the WalWriter's group commit (DESIGN §2, invariants 1 and 4).
//!
//! Setup: two committer threads and one writer thread. Each committer does what
//! `WalHandle::submit` does — check the poisoned flag, refuse if set, otherwise send
//! its record through the submit queue — then waits for its reply on a loom channel. The writer runs the real
//! sans-IO core (`troupe::wal::GroupCommit`) as the real shell does: block for one
//! message, drain the rest with `try_recv`, send `Drained`, perform the effects. Its
//! persist is fake and scripted (all persists succeed; the first fails; the second
//! fails), and slow: while it runs, one more message may arrive, so records also
//! queue up behind a group in flight.
//!
//! Asserted in every interleaving:
//! * every commit gets exactly one reply: a refused submit, or one `Durable` listing it;
//! * a committer that receives `Ok` observes that a persist covering it succeeded
//!   (the writer's `covered` flag, published before the ack with Release/Acquire);
//! * after a failed persist, no `Ok` is sent (checked where the writer sends replies).
//!
//! Run: `RUSTFLAGS="--cfg troupe_loom" LOOM_MAX_PREEMPTIONS=2 CARGO_TARGET_DIR=target/loom \
//!       cargo test -p troupe-loom-tests --test group_commit`
#![cfg(troupe_loom)]

use std::collections::VecDeque;

use loom::sync::atomic::{AtomicBool, Ordering};
use loom::sync::mpsc::{channel, Sender};
use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;
use troupe::txn::CommitTs;
use troupe::wal::{CommitRecord, Durable, Effect, GroupCommit, GroupLimits, Input};

const COMMITTERS: usize = 2;

/// The submit channel, as a loom mutex and condvar around a queue. Not
/// `loom::sync::mpsc`: its `try_recv` on an empty channel is no loom operation, so the
/// model checker would never schedule a send between a writer's drain and its persist
/// (the interleaving where a record waits behind a group in flight). Here every poll
/// takes the lock, which loom sees.
struct Queue<T> {
    items: Mutex<VecDeque<T>>,
    ready: Condvar,
}

impl<T> Queue<T> {
    fn new() -> Self {
        Queue { items: Mutex::new(VecDeque::new()), ready: Condvar::new() }
    }

    fn send(&self, item: T) {
        self.items.lock().expect("no panic holds the lock").push_back(item);
        self.ready.notify_one();
    }

    /// Blocks for the next item (crossbeam's `recv`).
    fn recv(&self) -> T {
        let mut items = self.items.lock().expect("no panic holds the lock");
        loop {
            if let Some(item) = items.pop_front() {
                return item;
            }
            items = self.ready.wait(items).expect("no panic holds the lock");
        }
    }

    /// The next item if one is waiting (crossbeam's `try_recv`).
    fn try_recv(&self) -> Option<T> {
        self.items.lock().expect("no panic holds the lock").pop_front()
    }
}

enum Message {
    /// A record and where its reply goes.
    Commit(CommitRecord, Sender<Durable>),
    /// The committer is finished (refused or replied).
    Done,
}

/// What the threads share: the facade flags the real code shares.
struct Flags {
    /// `WalHandle::is_poisoned`.
    poisoned: AtomicBool,
    /// Set by the fake persist when one fails.
    failed: AtomicBool,
    /// `covered[i]`: a persist covering commit ts `i + 1` returned Ok.
    covered: [AtomicBool; COMMITTERS],
}

fn committer(ts: u64, tx: Arc<Queue<Message>>, flags: Arc<Flags>) {
    if flags.poisoned.load(Ordering::Acquire) {
        // Refused at submit: the caller gets Err and no Durable will come.
        tx.send(Message::Done);
        return;
    }
    let (reply_tx, reply_rx) = channel();
    let record = CommitRecord { ts: CommitTs(ts), writes: Vec::new() };
    tx.send(Message::Commit(record, reply_tx));
    let durable = reply_rx.recv().expect("exactly one reply comes");
    assert!(durable.commits.contains(&CommitTs(ts)));
    if durable.result.is_ok() {
        assert!(
            flags.covered[(ts - 1) as usize].load(Ordering::Acquire),
            "Ok before a persist covered {ts}"
        );
    }
    tx.send(Message::Done);
    // The reply sender went with the ack; a second reply would need a second sender.
    assert!(reply_rx.try_recv().is_err(), "a second reply for {ts}");
}

/// The writer shell around the real core, as `troupe::wal::writer` runs it, except
/// that a persist takes a while: during it the writer takes one more message if one is
/// waiting (so records also arrive while a group is in flight, the path an
/// asynchronous shell would take).
struct Writer {
    core: GroupCommit,
    rx: Arc<Queue<Message>>,
    flags: Arc<Flags>,
    /// Where each submitted, not yet acknowledged commit's reply goes.
    replies: Vec<(CommitTs, Sender<Durable>)>,
    /// Index of the persist that fails (none fails when out of range).
    fail_persist: usize,
    persists: usize,
    done: usize,
}

impl Writer {
    fn run(mut self) {
        while self.done < COMMITTERS {
            let mut next = Some(self.rx.recv());
            while let Some(message) = next.take() {
                let effects = self.accept(message);
                self.perform(effects);
                next = self.rx.try_recv();
            }
            let effects = self.core.step(Input::Drained);
            self.perform(effects);
        }
        assert!(self.replies.is_empty(), "commits without a reply");
    }

    fn accept(&mut self, message: Message) -> Vec<Effect> {
        match message {
            Message::Commit(record, reply) => {
                self.replies.push((record.ts, reply));
                self.core.step(Input::Submitted(record))
            }
            Message::Done => {
                self.done += 1;
                Vec::new()
            }
        }
    }

    /// Performs the effects, and the persists they cause, in order.
    fn perform(&mut self, effects: Vec<Effect>) {
        let mut queue: VecDeque<Effect> = effects.into();
        while let Some(effect) = queue.pop_front() {
            match effect {
                Effect::Persist(group) => {
                    let result = self.fake_persist(&group);
                    // While the "fsync" runs, one more message may come in.
                    if let Some(message) = self.rx.try_recv() {
                        queue.extend(self.accept(message));
                    }
                    queue.extend(self.core.step(Input::PersistFinished(result)));
                }
                Effect::Poison(_) => self.flags.poisoned.store(true, Ordering::Release),
                Effect::Ack(durable) => self.reply(durable),
            }
        }
    }

    fn fake_persist(&mut self, group: &[CommitRecord]) -> Result<(), troupe::Error> {
        let this = self.persists;
        self.persists += 1;
        if this == self.fail_persist {
            self.flags.failed.store(true, Ordering::Release);
            return Err(troupe::Error::new(
                troupe::ErrorKind::IoError,
                "could not fdatasync: Input/output error",
            ));
        }
        assert!(!self.flags.failed.load(Ordering::Acquire), "persist retried after a failure");
        for record in group {
            self.flags.covered[(record.ts.0 - 1) as usize].store(true, Ordering::Release);
        }
        Ok(())
    }

    fn reply(&mut self, durable: Durable) {
        if durable.result.is_ok() {
            assert!(!self.flags.failed.load(Ordering::Acquire), "Ok ack after a failed persist");
        }
        for ts in &durable.commits {
            let at = self
                .replies
                .iter()
                .position(|(t, _)| t == ts)
                .expect("one ack per submitted commit");
            let (_, reply) = self.replies.remove(at);
            reply.send(durable.clone()).expect("committer waits");
        }
    }
}

fn model(fail_persist: usize) {
    loom::model(move || {
        let flags = Arc::new(Flags {
            poisoned: AtomicBool::new(false),
            failed: AtomicBool::new(false),
            covered: [AtomicBool::new(false), AtomicBool::new(false)],
        });
        let queue = Arc::new(Queue::new());
        let committers: Vec<_> = (1..=COMMITTERS as u64)
            .map(|ts| {
                let (tx, flags) = (queue.clone(), flags.clone());
                thread::spawn(move || committer(ts, tx, flags))
            })
            .collect();
        let writer = Writer {
            core: GroupCommit::new(GroupLimits::default()),
            rx: queue,
            flags,
            replies: Vec::new(),
            fail_persist,
            persists: 0,
            done: 0,
        };
        writer.run();
        for c in committers {
            c.join().expect("committer finished");
        }
    });
}

#[test]
fn every_persist_succeeds() {
    model(usize::MAX);
}

#[test]
fn the_first_persist_fails() {
    model(0);
}

#[test]
fn the_second_persist_fails() {
    model(1);
}
