//! loom model of two updaters of one row (DESIGN §3; issue 5's invariant 4): each runs
//! the real write protocol against the real partition core, `Partition::latest` then
//! `Partition::put`, one request at a time as the storage actor serves them (a mutex
//! stands for its mailbox), and waits for the other when it finds its uncommitted
//! version on the row (the LockManager's wait, reduced to waiting for the holder's end).
//! In every interleaving the outcome is PostgreSQL's:
//! * READ COMMITTED: both updates apply (the second builds on the first's committed
//!   version: no lost update), final value 2;
//! * REPEATABLE READ: first updater wins; the other fails with 40001, final value 1.
#![cfg(troupe_loom)]
#![allow(clippy::unwrap_used)]

use loom::thread;

use troupe::storage::{Isolation, Latest, Partition, PutOutcome, ReadView, Row};
use troupe::sync::{Arc, AtomicU64, Mutex, Ordering};
use troupe::txn::{CommitTs, State, TxnId, TxnStatus};
use troupe::types::Value;

const KEY: &[u8] = b"k";

fn value(row: &Row) -> i32 {
    match row[0] {
        Value::Int4(v) => v,
        _ => panic!("not an int4 row"),
    }
}

/// What one updater ended with.
#[derive(Debug, PartialEq)]
enum Outcome {
    Committed,
    SerializationFailure,
}

/// `UPDATE t SET v = v + 1 WHERE k = 'k'` in its own transaction, then COMMIT.
fn updater(
    part: &Mutex<Partition>,
    me: &Arc<TxnStatus>,
    other: &Arc<TxnStatus>,
    isolation: Isolation,
    clock: &AtomicU64,
) -> Outcome {
    // Both statements took their snapshot before either committed.
    let view = ReadView { snapshot: CommitTs(0), txn: me.id() };
    loop {
        let latest = part.lock().unwrap().latest(view, isolation, me.id(), KEY);
        let base = match latest {
            Err(e) => {
                assert_eq!(e.kind.sqlstate(), "40001");
                me.abort();
                return Outcome::SerializationFailure;
            }
            Ok(Latest::Row(base)) => base,
            Ok(Latest::Skipped) => panic!("the row exists and matches"),
            Ok(Latest::Blocked(holder)) => {
                assert_eq!(holder, other.id(), "only the other updater can hold the row");
                // [me] waits for the holder in the LockManager / [other] commits.
                while other.state() == State::Active {
                    thread::yield_now();
                }
                continue;
            }
        };
        let new = Row::from(vec![Value::Int4(value(base.row.as_ref().unwrap()) + 1)]);
        let put = part.lock().unwrap().put(me, KEY, &base, Some(new), CommitTs(0)).unwrap();
        match put {
            PutOutcome::Written => break,
            // [other] put on the same version first: look again (and wait for it).
            PutOutcome::Changed => continue,
            // [me] put checks the other's strength / [other] commits / [me] reads the
            // chain: put may name a holder that just ended. The session waits for it in
            // the LockManager (granted at once) and looks again, as here.
            PutOutcome::Blocked(holder) => {
                assert_eq!(holder, other.id(), "only the other updater can hold the row");
                while other.state() == State::Active {
                    thread::yield_now();
                }
                continue;
            }
            other => panic!("no secondary index here, so no {other:?}"),
        }
    }
    me.commit(CommitTs(clock.fetch_add(1, Ordering::AcqRel) + 1));
    Outcome::Committed
}

fn model(isolation: Isolation, want: (usize, i32)) {
    loom::model(move || {
        let part = Arc::new(Mutex::new(Partition::loaded(vec![(
            KEY.into(),
            Row::from(vec![Value::Int4(0)]),
        )])));
        let clock = Arc::new(AtomicU64::new(0));
        let (t1, t2) = (TxnStatus::new(TxnId(1)), TxnStatus::new(TxnId(2)));
        let (p, c, a, b) = (part.clone(), clock.clone(), t1.clone(), t2.clone());
        let first = thread::spawn(move || updater(&p, &a, &b, isolation, &c));
        let second = updater(&part, &t2, &t1, isolation, &clock);
        let first = first.join().unwrap();
        let committed = [first, second].iter().filter(|o| **o == Outcome::Committed).count();
        let after = ReadView { snapshot: CommitTs(u64::MAX - 1), txn: TxnId(99) };
        let row = part.lock().unwrap().get(after, KEY).unwrap();
        assert_eq!((committed, value(&row)), want, "{isolation:?}: commits and final value");
    });
}

#[test]
fn read_committed_second_updater_builds_on_the_first() {
    model(Isolation::ReadCommitted, (2, 2));
}

#[test]
fn repeatable_read_first_updater_wins() {
    model(Isolation::RepeatableRead, (1, 1));
}
