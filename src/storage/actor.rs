//! The storage actor: a task that owns one [`Partition`] and serves [`Request`]s from
//! its mailbox, one at a time. It is a thin shell: each request is one call into the
//! partition core and one reply.
//!
//! ```text
//!   session task ──Request──▶ mailbox (bounded) ──▶ storage actor task ──▶ Partition
//!        ▲                                                  │
//!        └───────────── oneshot reply ◀─────────────────────┘
//! ```
//! The actor runs on the sessions' own tokio runtime (see `storage/mod.rs` for the
//! measurement behind that): a session that sends a request and awaits the reply
//! usually finds the actor run next on the same worker thread.
//!
//! Long work never holds the actor for long: scans come back in batches, and a vacuum
//! visits the keys written since the last one [`BATCH_KEYS`](super::partition::BATCH_KEYS)
//! at a time, serving up to
//! [`REQUESTS_PER_VACUUM_CHUNK`] waiting requests between chunks and yielding to the
//! runtime after each. The actor ends when every handle to its mailbox is gone (the
//! table was dropped or rewritten, or the engine stopped).

use std::collections::VecDeque;

use tokio::sync::{mpsc, oneshot};

use super::index::Key;
use super::messages::Request;
use super::partition::Partition;
use crate::txn::CommitTs;

/// Requests that can wait in one storage actor's mailbox. When it is full, a sender
/// waits (backpressure) until the actor takes one; a rollback's `RemoveTxn` that finds
/// it full is sent from a task of its own instead.
pub const MAILBOX_CAPACITY: usize = 4096;

/// Waiting requests served between two vacuum chunks.
pub const REQUESTS_PER_VACUUM_CHUNK: usize = 64;

/// A vacuum sweep under way.
struct Sweep {
    horizon: CommitTs,
    /// The keys still to visit; taken when the sweep reaches the front of the queue.
    todo: Option<Vec<Key>>,
    removed: usize,
    reply: oneshot::Sender<usize>,
}

/// The actor's state: its partition and the vacuum sweeps it owes.
struct StorageActor {
    part: Partition,
    sweeps: VecDeque<Sweep>,
}

/// Runs the actor until its mailbox closes.
pub async fn run(part: Partition, mut mail: mpsc::Receiver<Request>) {
    let mut actor = StorageActor { part, sweeps: VecDeque::new() };
    loop {
        if actor.sweeps.is_empty() {
            let Some(req) = mail.recv().await else { return };
            actor.handle(req);
            continue;
        }
        // A sweep is under way: serve what waits, sweep one chunk, let others run.
        for _ in 0..REQUESTS_PER_VACUUM_CHUNK {
            match mail.try_recv() {
                Ok(req) => actor.handle(req),
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => return,
            }
        }
        actor.sweep_chunk();
        tokio::task::yield_now().await;
    }
}

impl StorageActor {
    fn handle(&mut self, req: Request) {
        let part = &mut self.part;
        // A send fails only if the requester stopped waiting (its task was dropped);
        // the effect stands either way, so the failure is ignored.
        match req {
            Request::Get { view, key, reply } => {
                let _ = reply.send(part.get(view, &key));
            }
            Request::Scan { view, from, to, with_keys, reply } => {
                let _ = reply.send(part.scan(view, as_ref(&from), as_ref(&to), with_keys));
            }
            Request::Latest { view, isolation, key, mode, reply } => {
                let _ = reply.send(part.latest_for(view, isolation, view.txn, &key, mode));
            }
            Request::Put { writer, key, expect, new, horizon, mode, reply } => {
                let _ = reply.send(part.put_as(&writer, &key, &expect, new, horizon, mode));
            }
            Request::Update { writer, view, isolation, key, change, horizon, reply } => {
                let _ = reply.send(part.update(&writer, view, isolation, &key, &*change, horizon));
            }
            Request::Lock { writer, key, expect, mode, reply } => {
                let _ = reply.send(part.lock(&writer, &key, &expect, mode));
            }
            Request::Insert { writer, rows, reply } => {
                let _ = reply.send(part.insert(&writer, rows));
            }
            Request::RemoveTxn { txn, keys } => part.remove_txn(txn, &keys),
            Request::Vacuum { horizon, reply } => {
                self.sweeps.push_back(Sweep { horizon, todo: None, removed: 0, reply });
            }
            Request::Retire { txn, reply } => {
                let _ = reply.send(part.retire(txn));
            }
            Request::Unretire => part.unretire(),
            Request::SetIndexes { indexes, reply } => {
                let _ = reply.send(part.set_indexes(indexes));
            }
            Request::IndexScan { view, index, from, to, limit, reply } => {
                let found = part.index_scan(view, &index, as_ref(&from), as_ref(&to), limit);
                let _ = reply.send(found);
            }
            Request::Len { reply } => {
                let _ = reply.send(part.len());
            }
        }
    }

    fn sweep_chunk(&mut self) {
        let Some(sweep) = self.sweeps.front_mut() else { return };
        let todo = sweep.todo.get_or_insert_with(|| self.part.vacuum_start());
        sweep.removed += self.part.vacuum_chunk(sweep.horizon, todo);
        if todo.is_empty() {
            if let Some(done) = self.sweeps.pop_front() {
                let _ = done.reply.send(done.removed);
            }
        }
    }
}

fn as_ref(b: &std::ops::Bound<Key>) -> std::ops::Bound<&[u8]> {
    b.as_ref().map(|k| &**k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{Latest, PutOutcome, ReadView, Row, Storage, Version};
    use crate::sync::Arc;
    use crate::txn::{TxnId, TxnStatus};
    use crate::types::Value;
    use std::ops::Bound;

    fn key(i: u64) -> Key {
        Key::from(i.to_be_bytes())
    }

    fn row(v: i32) -> Row {
        Row::from(vec![Value::Int4(v)])
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
    }

    #[test]
    fn requests_are_served_between_the_chunks_of_a_vacuum() {
        let rt = runtime();
        let storage = Storage::new(rt.handle().clone());
        let n = super::super::partition::BATCH_KEYS as u64 * 8;
        // Rows written (not loaded): a vacuum has every one of them to visit.
        let mut part = Partition::default();
        let writer = TxnStatus::new(TxnId(1));
        part.insert(&writer, (0..n).map(|i| (key(i), row(1))).collect()).expect("insert");
        writer.commit(CommitTs(1));
        let store = storage.adopt(crate::catalog::TableId(1), part, 1);
        rt.block_on(async {
            let (vacuum, swept) = oneshot::channel();
            store
                .mail
                .send(Request::Vacuum { horizon: CommitTs(1), reply: vacuum })
                .await
                .expect("send");
            let view = ReadView { snapshot: CommitTs(1), txn: TxnId(9) };
            let (get, got) = oneshot::channel();
            store.mail.send(Request::Get { view, key: key(5), reply: get }).await.expect("send");
            let mut swept = swept;
            // The read sent after the vacuum is answered while the sweep is still going.
            assert_eq!(got.await.expect("reply"), Some(row(1)));
            assert!(swept.try_recv().is_err(), "the sweep has chunks left");
            assert_eq!(swept.await.expect("swept"), 0, "every row is live");
        });
    }

    #[test]
    fn a_write_through_the_actor_is_a_compare_and_set() {
        let rt = runtime();
        let storage = Storage::new(rt.handle().clone());
        let store = storage
            .load(crate::catalog::TableId(1), vec![(key(1), row(0))], Vec::new())
            .expect("load");
        rt.block_on(async {
            let (t1, t2) = (TxnStatus::new(TxnId(1)), TxnStatus::new(TxnId(2)));
            let view = |t: &Arc<TxnStatus>| ReadView { snapshot: CommitTs(0), txn: t.id() };
            let base = |l| match l {
                Latest::Row(v) => v,
                other => panic!("expected a version, got {other:?}"),
            };
            let rc = crate::storage::Isolation::ReadCommitted;
            let b1: Version = base(store.latest(view(&t1), rc, key(1)).await.expect("latest"));
            let b2: Version = base(store.latest(view(&t2), rc, key(1)).await.expect("latest"));
            let put = |t, b, v| {
                store.put(
                    t,
                    key(1),
                    b,
                    Some(row(v)),
                    CommitTs(0),
                    crate::storage::RowLockMode::Update,
                )
            };
            assert_eq!(put(&t1, b1, 1).await.expect("put"), PutOutcome::Written);
            assert_eq!(put(&t2, b2, 2).await.expect("put"), PutOutcome::Changed);
            assert!(matches!(
                store.latest(view(&t2), rc, key(1)).await,
                Ok(Latest::Blocked(t)) if t == t1.id()
            ));
            let mut seen = Vec::new();
            store
                .scan(view(&t1), Bound::Unbounded, Bound::Unbounded, false, |_, r| {
                    seen.push(r);
                    Ok(std::ops::ControlFlow::Continue(()))
                })
                .await
                .expect("scan");
            assert_eq!(seen, vec![row(1)], "t1 sees its own write");
        });
    }
}
