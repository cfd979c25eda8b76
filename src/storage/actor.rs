//! The storage actor: a task that owns one [`Partition`] of a table (a key range) and
//! serves [`Request`]s from its mailbox, one at a time. It is a thin shell: each request
//! is one call into the partition core and one reply.
//!
//! ```text
//!   session task ──Request──▶ mailbox (bounded) ──▶ storage actor task ──▶ Partition
//!        ▲                                                  │  [lo, hi)
//!        └───────────── oneshot reply ◀─────────────────────┘
//!                                                           │ next ─▶ actor of [hi, …)
//! ```
//! The actor runs on the sessions' own tokio runtime (see `storage/mod.rs` for the
//! measurement behind that): a session that sends a request and awaits the reply
//! usually finds the actor run next on the same worker thread.
//!
//! **Splits.** When an insert leaves the partition with `split_keys` keys or more, the
//! actor cuts it at the median key `m`: it keeps `[lo, m)`, starts a new actor on a new
//! task owning `[m, hi)` (with every chain, version and row lock of that range), adds
//! the new route, and makes the new actor its `next`. The new task is scheduled by the
//! runtime like any other, so one hot table is served by several cores. Sessions that
//! read the routes before the split still send keys in `[m, hi)` here; the actor
//! forwards whatever it no longer owns to `next`. Forwarding goes only towards higher
//! keys, and nothing waits on a forward (a full mailbox is sent to from a task of its
//! own), so two actors never wait on each other. The race, written out:
//! ```text
//!   [S] route(k) → A              [A] split at m ≤ k: B owns [m, hi), A.next = B
//!   [S] Latest(k) → A                 A forwards → B answers (the moved chain)
//!   [S] Put(k, expect v) → A          A forwards → B: v is still on top → Written
//! ```
//! A scan is clipped at the partition's end and its batch names where the next one
//! begins; the handle continues there, so a scan crosses partitions in key order, and
//! its snapshot, carried in every request, keeps it consistent while chains move.
//!
//! **Coalescing.** A table with a UNIQUE secondary index lives in one partition (the
//! UNIQUE check needs every row in one request). A `SetIndexes` adding one to a table
//! of several partitions makes the first partition send `Surrender` down the list;
//! each partition sends itself to the first in an `Absorb`, then forwards everything
//! there. The first answers the `SetIndexes` once the last `Absorb` (the one ending at
//! the table's end) is in. Forwarding then goes towards the first partition, but only
//! from partitions that hold nothing.
//!
//! Long work never holds the actor for long: scans come back in batches, and a vacuum
//! visits the keys written since the last one [`BATCH_KEYS`](super::partition::BATCH_KEYS)
//! at a time, serving up to
//! [`REQUESTS_PER_VACUUM_CHUNK`] waiting requests between chunks and yielding to the
//! runtime after each. A split is the exception: it moves half the chains at once.
//! The actor ends when every handle to its mailbox is gone (the table was dropped or
//! rewritten, or the engine stopped).

use std::collections::VecDeque;
use std::ops::Bound;

use tokio::sync::{mpsc, oneshot};

use super::index::Key;
use super::messages::{Inserted, Request};
use super::partition::{IndexBuildError, Partition};
use super::routes::Routes;
use crate::catalog::IndexDef;
use crate::sync::Weak;
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
    /// Keys removed so far, by this partition and the ones before it.
    removed: usize,
    reply: oneshot::Sender<usize>,
}

/// The reply to a `SetIndexes`.
type IndexesSet = oneshot::Sender<Result<(), IndexBuildError>>;

/// Where a partition sits in its table.
pub struct Place {
    /// Its end (exclusive); `None`: the end of the table.
    pub hi: Option<Key>,
    /// The actor owning `hi` onward (`None` exactly when `hi` is).
    pub next: Option<mpsc::Sender<Request>>,
    /// The table's routes, to add a split's partition to.
    pub routes: Weak<Routes>,
    /// Split when a partition holds this many keys.
    pub split_keys: usize,
}

/// The actor's state: its partition, where it sits, and the work it owes.
struct StorageActor {
    part: Partition,
    place: Place,
    sweeps: VecDeque<Sweep>,
    /// A `SetIndexes` waiting for the table to coalesce into this partition.
    coalescing: Option<(Vec<IndexDef>, IndexesSet)>,
    /// Set once this partition surrendered: it holds nothing and forwards everything.
    surrendered: bool,
}

/// Runs the actor until its mailbox closes.
pub async fn run(part: Partition, place: Place, mut mail: mpsc::Receiver<Request>) {
    let mut actor =
        StorageActor { part, place, sweeps: VecDeque::new(), coalescing: None, surrendered: false };
    actor.maybe_split();
    loop {
        if actor.sweeps.is_empty() {
            let Some(req) = mail.recv().await else { return };
            actor.handle(req).await;
            continue;
        }
        // A sweep is under way: serve what waits, sweep one chunk, let others run.
        for _ in 0..REQUESTS_PER_VACUUM_CHUNK {
            match mail.try_recv() {
                Ok(req) => actor.handle(req).await,
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => return,
            }
        }
        actor.sweep_chunk();
        tokio::task::yield_now().await;
    }
}

/// Sends without waiting, from the actor's own task (see [`super::routes::send_later`]).
fn send_on(mail: &mpsc::Sender<Request>, req: Request) {
    super::routes::send_later(mail, req, &tokio::runtime::Handle::current());
}

impl StorageActor {
    /// True if `key` lies past this partition's end (it belongs to a later one).
    fn past(&self, key: &[u8]) -> bool {
        self.place.hi.as_deref().is_some_and(|hi| key >= hi)
    }

    /// True if a range starting at `from` starts past this partition's end.
    fn starts_past(&self, from: &Bound<Key>) -> bool {
        match from {
            Bound::Unbounded => self.surrendered,
            Bound::Included(k) | Bound::Excluded(k) => self.past(k),
        }
    }

    /// Hands `req` to the next partition, or, at the end of the table, gives it back.
    fn forward(&self, req: Request) -> Option<Request> {
        match &self.place.next {
            Some(next) => {
                send_on(next, req);
                None
            }
            None => Some(req),
        }
    }

    /// Where a walk continues: this partition's end.
    fn end(&self) -> Key {
        self.place.hi.clone().unwrap_or_default()
    }

    async fn handle(&mut self, req: Request) {
        // A send fails only if the requester stopped waiting (its task was dropped);
        // the effect stands either way, so the failure is ignored.
        let req = match req {
            Request::Get { ref key, .. }
            | Request::Latest { ref key, .. }
            | Request::Put { ref key, .. }
            | Request::MoveOut { ref key, .. }
            | Request::Update { ref key, .. }
            | Request::Lock { ref key, .. }
                if self.past(key) =>
            {
                match self.forward(req) {
                    Some(req) => req,
                    None => return,
                }
            }
            Request::Scan { ref from, .. } if self.starts_past(from) => match self.forward(req) {
                Some(req) => req,
                None => return,
            },
            req => req,
        };
        match req {
            Request::Get { view, key, reply } => {
                let _ = reply.send(self.part.get(view, &key));
            }
            Request::Scan { view, from, to, with_keys, reply } => {
                let (to, clipped) = match (&self.place.hi, &to) {
                    (Some(hi), Bound::Unbounded) => (Bound::Excluded(&**hi), true),
                    (Some(hi), Bound::Included(t) | Bound::Excluded(t)) if **t >= **hi => {
                        (Bound::Excluded(&**hi), true)
                    }
                    _ => (as_ref(&to), false),
                };
                let mut batch = self.part.scan(view, as_ref(&from), to, with_keys);
                if clipped && batch.resume.is_none() {
                    batch.next_partition = self.place.hi.clone();
                }
                let _ = reply.send(batch);
            }
            Request::Latest { view, isolation, key, mode, reply } => {
                let _ = reply.send(self.part.latest_for(view, isolation, view.txn, &key, mode));
            }
            Request::Put { writer, key, expect, new, horizon, mode, reply } => {
                let _ = reply.send(self.part.put_as(&writer, &key, &expect, new, horizon, mode));
            }
            Request::MoveOut { writer, key, expect, horizon, reply } => {
                let _ = reply.send(self.part.move_out(&writer, &key, &expect, horizon));
            }
            Request::Update { writer, view, isolation, key, change, horizon, reply } => {
                let _ =
                    reply.send(self.part.update(&writer, view, isolation, &key, &*change, horizon));
            }
            Request::Lock { writer, key, expect, mode, reply } => {
                let _ = reply.send(self.part.lock(&writer, &key, &expect, mode));
            }
            Request::Insert { writer, mut rows, reply } => {
                let mine = rows.iter().position(|(k, _)| self.past(k)).unwrap_or(rows.len());
                if self.surrendered {
                    // The first partition owns everything now; it answers.
                    self.forward(Request::Insert { writer, rows, reply });
                    return;
                }
                let rest = rows.split_off(mine);
                let _ = match self.part.insert(&writer, rows) {
                    Ok(()) if !rest.is_empty() => reply.send(Inserted::Moved(mine, rest)),
                    done => reply.send(Inserted::Done(done)),
                };
                self.maybe_split();
            }
            Request::RemoveTxn { txn, mut keys } => {
                let (past, mine): (Vec<Key>, Vec<Key>) = keys.drain(..).partition(|k| self.past(k));
                self.part.remove_txn(txn, &mine);
                if !past.is_empty() {
                    self.forward(Request::RemoveTxn { txn, keys: past });
                }
            }
            Request::Vacuum { horizon, removed, reply } => {
                self.sweeps.push_back(Sweep { horizon, todo: None, removed, reply });
            }
            Request::Retire { txn, from, mut chains, reply } => match self.part.retire(txn) {
                Err(e) => {
                    let _ = reply.send(Err(e));
                }
                Ok(mine) => {
                    chains.extend(mine.into_iter().filter(|(k, _)| *k >= from));
                    let from = self.end();
                    if let Some(Request::Retire { chains, reply, .. }) =
                        self.forward(Request::Retire { txn, from, chains, reply })
                    {
                        let _ = reply.send(Ok(chains));
                    }
                }
            },
            Request::Unretire => {
                self.part.unretire();
                self.forward(Request::Unretire);
            }
            Request::SetIndexes { indexes, reply } => {
                let adds_unique =
                    indexes.iter().any(|d| d.unique && !self.part.index_defs().contains(d));
                if adds_unique && !self.surrendered && self.place.next.is_some() {
                    self.start_coalescing(indexes, reply);
                    return;
                }
                match self.part.set_indexes(indexes.clone()) {
                    Err(e) => {
                        let _ = reply.send(Err(e));
                    }
                    Ok(()) => {
                        if let Some(Request::SetIndexes { reply, .. }) =
                            self.forward(Request::SetIndexes { indexes, reply })
                        {
                            let _ = reply.send(Ok(()));
                        }
                    }
                }
            }
            Request::Surrender { to } => self.surrender(to).await,
            Request::Absorb { part: upper, hi, next } => {
                self.part.absorb(*upper);
                self.place.hi = hi;
                self.place.next = next;
                if self.place.next.is_none() {
                    self.coalesced();
                }
            }
            Request::IndexScan { view, index, from, to, limit, from_key, mut found, reply } => {
                match self.part.index_scan(view, &index, as_ref(&from), as_ref(&to), limit) {
                    Err(e) => {
                        let _ = reply.send(Err(e));
                    }
                    Ok(mine) => {
                        found.extend(mine.into_iter().filter(|(_, pk, _)| *pk >= from_key));
                        let from_key = self.end();
                        let walk = Request::IndexScan {
                            view,
                            index,
                            from,
                            to,
                            limit,
                            from_key,
                            found,
                            reply,
                        };
                        if let Some(Request::IndexScan { found, reply, .. }) = self.forward(walk) {
                            let _ = reply.send(Ok(found));
                        }
                    }
                }
            }
            Request::Len { count, reply } => {
                let count = count + self.part.len();
                if let Some(Request::Len { count, reply }) =
                    self.forward(Request::Len { count, reply })
                {
                    let _ = reply.send(count);
                }
            }
        }
    }

    /// Splits the partition while it is too big (and allowed to split).
    fn maybe_split(&mut self) {
        while self.part.len() >= self.place.split_keys.max(2)
            && !self.part.has_unique()
            && !self.part.is_retired()
            && self.coalescing.is_none()
            && !self.surrendered
        {
            let Some(routes) = self.place.routes.upgrade() else { return };
            let Some(at) = self.part.split_point() else { return };
            let mut upper = self.part.split_off(&at);
            for sweep in &mut self.sweeps {
                if let Some(todo) = &mut sweep.todo {
                    for k in todo.extract_if(.., |k| *k >= at) {
                        upper.owe_vacuum(k);
                    }
                }
            }
            let (mail, inbox) = mpsc::channel(MAILBOX_CAPACITY);
            let place = Place {
                hi: self.place.hi.replace(at.clone()),
                next: self.place.next.replace(mail.clone()),
                routes: self.place.routes.clone(),
                split_keys: self.place.split_keys,
            };
            routes.insert(at, mail);
            tokio::spawn(run(upper, place, inbox));
        }
    }

    /// The first partition starts bringing the table back into itself for `indexes`.
    fn start_coalescing(&mut self, indexes: Vec<IndexDef>, reply: IndexesSet) {
        let Some(me) = self.place.routes.upgrade().map(|r| r.mail_for(None)) else { return };
        self.coalescing = Some((indexes, reply));
        self.forward(Request::Surrender { to: me });
    }

    /// Sends this partition to `to`, passes the surrender on, and forwards from now on.
    async fn surrender(&mut self, to: mpsc::Sender<Request>) {
        if self.surrendered {
            return;
        }
        let kind = self.part.kind();
        let part = std::mem::replace(&mut self.part, Partition::new(kind));
        let next = self.place.next.take();
        let absorb =
            Request::Absorb { part: Box::new(part), hi: self.place.hi.take(), next: next.clone() };
        // Awaited, so that everything forwarded to `to` from now on arrives after it.
        // `to` never waits on a send, so this cannot deadlock.
        let _ = to.send(absorb).await;
        if let Some(next) = next {
            send_on(&next, Request::Surrender { to: to.clone() });
        }
        // The sweeps owed go to the partition that now holds the keys.
        for sweep in self.sweeps.drain(..) {
            send_on(
                &to,
                Request::Vacuum {
                    horizon: sweep.horizon,
                    removed: sweep.removed,
                    reply: sweep.reply,
                },
            );
        }
        self.surrendered = true;
        self.place.hi = Some(Key::default());
        self.place.next = Some(to);
    }

    /// The last `Absorb` is in: one partition owns the table again.
    fn coalesced(&mut self) {
        if let Some(routes) = self.place.routes.upgrade() {
            routes.keep_first();
        }
        if let Some((indexes, reply)) = self.coalescing.take() {
            let _ = reply.send(self.part.set_indexes(indexes));
        }
    }

    fn sweep_chunk(&mut self) {
        let Some(sweep) = self.sweeps.front_mut() else { return };
        let todo = sweep.todo.get_or_insert_with(|| self.part.vacuum_start());
        sweep.removed += self.part.vacuum_chunk(sweep.horizon, todo);
        if todo.is_empty() {
            if let Some(done) = self.sweeps.pop_front() {
                let walk = Request::Vacuum {
                    horizon: done.horizon,
                    removed: done.removed,
                    reply: done.reply,
                };
                if let Some(Request::Vacuum { removed, reply, .. }) = self.forward(walk) {
                    let _ = reply.send(removed);
                }
            }
        }
    }
}

fn as_ref(b: &Bound<Key>) -> Bound<&[u8]> {
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
            let vacuum = Request::Vacuum { horizon: CommitTs(1), removed: 0, reply: vacuum };
            store.routes.send(vacuum).await.expect("send");
            let view = ReadView { snapshot: CommitTs(1), txn: TxnId(9) };
            let (get, got) = oneshot::channel();
            store.routes.send(Request::Get { view, key: key(5), reply: get }).await.expect("send");
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

    fn options(index: crate::storage::IndexKind) -> crate::storage::StorageOptions {
        crate::storage::StorageOptions { index, partition_keys: 64 }
    }

    async fn all_keys(store: &crate::storage::TableStore, view: ReadView) -> Vec<Key> {
        let mut seen = Vec::new();
        store
            .scan(view, Bound::Unbounded, Bound::Unbounded, true, |k, _| {
                seen.push(k.expect("asked for keys"));
                Ok(std::ops::ControlFlow::Continue(()))
            })
            .await
            .expect("scan");
        seen
    }

    /// Inserts spread a table over many partitions; every key is still found, once,
    /// through scans, point reads, index scans, rollbacks and DDL retirement.
    #[test]
    fn a_growing_table_splits_and_every_request_still_finds_its_key() {
        for kind in [crate::storage::IndexKind::BTree, crate::storage::IndexKind::Learned] {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            let storage = Storage::with_options(rt.handle().clone(), options(kind));
            let store = storage.create(crate::catalog::TableId(1));
            rt.block_on(async {
                let ix = crate::catalog::IndexDef {
                    name: "by_mod".into(),
                    columns: vec![0],
                    unique: false,
                    constraint: false,
                };
                store.set_indexes(vec![ix]).await.expect("reply").expect("built");
                let n = 1000u64;
                // Keys in a scattered order, ten per insert request.
                let order: Vec<u64> = (0..n).map(|i| (i * 7919) % n).collect();
                let writer = TxnStatus::new(TxnId(1));
                for batch in order.chunks(10) {
                    let rows = batch.iter().map(|&i| (key(i), row((i % 5) as i32))).collect();
                    store.insert(&writer, rows).await.expect("reply").expect("inserted");
                }
                writer.commit(CommitTs(1));
                assert!(store.partitions() >= 8, "{kind:?}: {} partitions", store.partitions());
                let view = ReadView { snapshot: CommitTs(1), txn: TxnId(9) };
                assert_eq!(all_keys(&store, view).await, (0..n).map(key).collect::<Vec<_>>());
                for i in [0, 1, 63, 64, 500, 998, 999] {
                    assert_eq!(
                        store.get(view, key(i)).await.expect("get"),
                        Some(row((i % 5) as i32))
                    );
                }
                assert_eq!(store.len().await.expect("len"), n as usize);
                // An index scan merges the partitions' parts in (index key, key) order.
                let mut three = Vec::new();
                crate::types::encode_key(&[Value::Int4(3)], &mut three);
                let three: Key = three.into();
                let found = store
                    .index_scan(
                        view,
                        "by_mod",
                        Bound::Included(three.clone()),
                        Bound::Included(three),
                        usize::MAX,
                    )
                    .await
                    .expect("index scan");
                let want: Vec<Key> = (0..n).filter(|i| i % 5 == 3).map(key).collect();
                assert_eq!(found.into_iter().map(|(k, _)| k).collect::<Vec<_>>(), want);
                // A rolled-back insert spanning every partition leaves nothing behind.
                let loser = TxnStatus::new(TxnId(2));
                let rows: Vec<(Key, Row)> = (n..n + 300).map(|i| (key(i), row(0))).collect();
                store.insert(&loser, rows).await.expect("reply").expect("inserted");
                loser.abort();
                store.remove_txn(loser.id(), (n..n + 300).map(key).collect());
                let late = ReadView { snapshot: CommitTs(5), txn: TxnId(9) };
                assert_eq!(all_keys(&store, late).await.len(), n as usize);
                // A key inserted twice across a split is still a duplicate.
                let dup = TxnStatus::new(TxnId(3));
                let refused = store.insert(&dup, vec![(key(n + 500), row(0)), (key(7), row(0))]);
                let refused = refused.await.expect("reply").expect_err("7 is taken");
                assert_eq!(refused.at, 1);
                assert_eq!(refused.why, crate::storage::InsertConflict::Duplicate);
                dup.abort();
                // DDL gets every committed chain, in key order, from all partitions.
                let chains = store.retire(TxnId(4)).await.expect("retired");
                let keys: Vec<Key> = chains.into_iter().map(|(k, _)| k).collect();
                assert_eq!(keys, (0..n).map(key).collect::<Vec<_>>());
            });
        }
    }

    /// A UNIQUE index on a split table brings it back into one partition first, so
    /// that the UNIQUE check sees every row; and loading a big table starts it split.
    #[test]
    fn a_unique_index_coalesces_the_partitions_and_a_big_load_starts_split() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let storage =
            Storage::with_options(rt.handle().clone(), options(crate::storage::IndexKind::Learned));
        let n = 1000u64;
        let store = storage
            .load(
                crate::catalog::TableId(1),
                (0..n).map(|i| (key(i), row(i as i32))).collect(),
                Vec::new(),
            )
            .expect("load");
        assert_eq!(store.partitions(), (n as usize).div_ceil(32), "loaded in halves of 64");
        rt.block_on(async {
            let unique = crate::catalog::IndexDef {
                name: "u".into(),
                columns: vec![0],
                unique: true,
                constraint: false,
            };
            store.set_indexes(vec![unique.clone()]).await.expect("reply").expect("built");
            assert_eq!(store.partitions(), 1);
            let view = ReadView { snapshot: CommitTs(1), txn: TxnId(9) };
            assert_eq!(all_keys(&store, view).await, (0..n).map(key).collect::<Vec<_>>());
            // The table no longer splits, and the UNIQUE check sees every row.
            let writer = TxnStatus::new(TxnId(1));
            let rows = (n..n + 200).map(|i| (key(i), row(i as i32))).collect();
            store.insert(&writer, rows).await.expect("reply").expect("inserted");
            assert_eq!(store.partitions(), 1);
            let refused = store.insert(&writer, vec![(key(5000), row(3))]);
            let refused = refused.await.expect("reply").expect_err("3 is taken");
            assert_eq!(refused.why, crate::storage::InsertConflict::Unique(0));
        });
    }
}
