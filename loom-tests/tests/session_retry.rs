//! loom model of the session's transparent retry (issue 5, model 5): an implicit
//! statement retried after 40001 is applied at most once — and, retried, exactly once.
//!
//! Setup: one row pair `a`, `b` (both 0) in the real partition core
//! (`storage::Partition`, a loom mutex standing for the storage actor's mailbox).
//! * Session S runs `UPDATE t SET v = v + 1` (rows `a` then `b`) as a lone implicit
//!   statement under REPEATABLE READ, through the real session pieces: the block state
//!   machine (`session::block::Block`: `Statement`, `Retry`, `End` and the effects they
//!   return) and the retry decision (`session::retry::should_retry`).
//! * Session T runs `UPDATE t SET v = v + 1 WHERE k = 'b'` and commits, concurrently.
//!
//! When T commits `b` after S's snapshot and before S reaches `b`, S has already
//! written `a` and gets 40001 on `b`. The retry must roll the attempt back (its status
//! aborted, its version on `a` removed) and run the statement again in a new
//! transaction with a new snapshot.
//!
//! Asserted in every interleaving: both sessions report success, and the committed
//! rows are `a = 1`, `b = 2` — S's statement was applied exactly once to each row, T's
//! once to `b`. A retry inside the failed attempt's transaction (the mutation
//! `mutate-retry-keeps-failed-attempt`) keeps that attempt's snapshot, so every retry
//! fails again and S reports 40001 after `MAX_RETRIES`; a retry that kept the attempt's
//! write and succeeded would leave `a = 2`.
#![cfg(troupe_loom)]
#![allow(clippy::unwrap_used)]

use loom::thread;

use troupe::error::{Error, Result};
use troupe::session::block::{Block, Effect, Event};
use troupe::session::retry::should_retry;
use troupe::storage::{Isolation, Key, Latest, Partition, PutOutcome, ReadView, Row};
use troupe::sync::{Arc, AtomicU64, Mutex, Ordering};
use troupe::txn::{CommitTs, State, TxnId, TxnStatus};
use troupe::types::Value;

fn int(row: &Row) -> i32 {
    match row[0] {
        Value::Int4(v) => v,
        _ => panic!("not an int4 row"),
    }
}

/// What the sessions share: the partition, the commit clock (the TxnManager's
/// timestamps and watermark, reduced to one counter: commits here are one at a time),
/// every transaction's status (for "wait for the holder") and the txn id counter.
struct World {
    part: Mutex<Partition>,
    clock: AtomicU64,
    statuses: Mutex<Vec<Arc<TxnStatus>>>,
}

impl World {
    fn begin(&self) -> Arc<TxnStatus> {
        let mut all = self.statuses.lock().unwrap();
        let status = TxnStatus::new(TxnId(all.len() as u64 + 1));
        all.push(status.clone());
        status
    }

    fn status(&self, id: TxnId) -> Arc<TxnStatus> {
        self.statuses.lock().unwrap()[id.0 as usize - 1].clone()
    }

    /// The committed value at `key`, for the final check.
    fn committed(&self, key: &[u8]) -> i32 {
        let after = ReadView { snapshot: CommitTs(u64::MAX - 1), txn: TxnId(999) };
        int(&self.part.lock().unwrap().get(after, key).unwrap())
    }
}

/// A session's open transaction: status, snapshot (taken by its first statement, kept
/// for the transaction: REPEATABLE READ) and the keys it wrote.
struct Txn {
    status: Arc<TxnStatus>,
    snapshot: CommitTs,
    wrote: Vec<Key>,
}

/// `UPDATE t SET v = v + 1` on `keys`, in `txn`: the write protocol of
/// `row_writes.rs` (latest, compute, put; wait for a holder; start over on Changed).
fn update(world: &World, txn: &mut Txn, keys: &[&[u8]]) -> Result<()> {
    let view = ReadView { snapshot: txn.snapshot, txn: txn.status.id() };
    for &key in keys {
        loop {
            let latest = world.part.lock().unwrap().latest(
                view,
                Isolation::RepeatableRead,
                txn.status.id(),
                key,
            )?;
            let base = match latest {
                Latest::Row(base) => base,
                Latest::Skipped => panic!("the rows exist and match"),
                Latest::Blocked(holder) => {
                    // The LockManager wait, reduced to waiting for the holder's end.
                    let holder = world.status(holder);
                    while holder.state() == State::Active {
                        thread::yield_now();
                    }
                    continue;
                }
            };
            let new = Row::from(vec![Value::Int4(int(base.row.as_ref().unwrap()) + 1)]);
            let put =
                world.part.lock().unwrap().put(&txn.status, key, &base, Some(new), CommitTs(0))?;
            if put == PutOutcome::Written {
                txn.wrote.push(key.into());
                break;
            }
        }
    }
    Ok(())
}

/// The session's shell: performs the block's effects as `Session::apply` does.
struct Session<'w> {
    world: &'w World,
    block: Block,
    txn: Option<Txn>,
}

impl Session<'_> {
    fn perform(&mut self, effects: Vec<Effect>) -> Result<()> {
        for effect in effects {
            match effect {
                Effect::CommitTxn => {
                    if let Some(txn) = self.txn.take() {
                        let ts = self.world.clock.fetch_add(1, Ordering::AcqRel) + 1;
                        txn.status.commit(CommitTs(ts));
                    }
                }
                // Txn::abort: the status turns aborted, the versions go.
                Effect::AbortTxn { .. } => {
                    if let Some(txn) = self.txn.take() {
                        txn.status.abort();
                        self.world.part.lock().unwrap().remove_txn(txn.status.id(), &txn.wrote);
                    }
                }
                Effect::RefuseInFailedBlock => return Err(Error::in_failed_transaction()),
                Effect::Warn { .. }
                | Effect::OpenedExplicit
                | Effect::OpenedImplicit
                | Effect::Tag(_) => {}
            }
        }
        Ok(())
    }

    /// One lone statement of a simple Query, as `simple_statement` + `end_implicit`
    /// run it: retried on 40001 when `should_retry` says so.
    fn query(&mut self, keys: &[&[u8]]) -> Result<()> {
        let mut attempt = 0;
        loop {
            let effects = self.block.step(Event::Statement);
            let opened_implicit = effects.contains(&Effect::OpenedImplicit);
            self.perform(effects)?;
            let world = self.world;
            let txn = self.txn.get_or_insert_with(|| Txn {
                status: world.begin(),
                snapshot: CommitTs(world.clock.load(Ordering::Acquire)),
                wrote: Vec::new(),
            });
            match update(world, txn, keys) {
                Ok(()) => break,
                Err(e) if should_retry(&e, true, opened_implicit, attempt) => {
                    assert_eq!(e.kind.sqlstate(), "40001");
                    let effects = self.block.step(Event::Retry);
                    self.perform(effects)?;
                    attempt += 1;
                }
                Err(e) => {
                    let effects = self.block.step(Event::Failed);
                    self.perform(effects)?;
                    let effects = self.block.step(Event::End);
                    self.perform(effects)?;
                    return Err(e);
                }
            }
        }
        let effects = self.block.step(Event::End);
        self.perform(effects)
    }
}

fn run(world: &World, keys: &[&[u8]]) -> Result<()> {
    Session { world, block: Block::None, txn: None }.query(keys)
}

#[test]
fn a_retried_implicit_statement_is_applied_exactly_once() {
    loom::model(|| {
        let world = Arc::new(World {
            part: Mutex::new(Partition::loaded(vec![
                (b"a".as_slice().into(), Row::from(vec![Value::Int4(0)])),
                (b"b".as_slice().into(), Row::from(vec![Value::Int4(0)])),
            ])),
            clock: AtomicU64::new(0),
            statuses: Mutex::new(Vec::new()),
        });
        let w = world.clone();
        let t = thread::spawn(move || run(&w, &[b"b"]));
        let s = run(&world, &[b"a", b"b"]);
        let t = t.join().unwrap();
        assert!(s.is_ok(), "S's lone implicit statement failed: {s:?}");
        assert!(t.is_ok(), "T's lone implicit statement failed: {t:?}");
        assert_eq!(
            (world.committed(b"a"), world.committed(b"b")),
            (1, 2),
            "each statement applied exactly once"
        );
    });
}
