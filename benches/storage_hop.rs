//! What a point read costs through each way a session could reach a partition:
//! called directly under a lock; sent to an actix actor on its own arbiter thread; sent
//! to troupe's storage actor, a task on the sessions' own tokio runtime
//! (`src/storage/actor.rs`, through the real `TableStore` handle). Measured at one caller (latency) and at
//! eight concurrent callers on a two-worker runtime (time per read when the machine is
//! busy, which is what throughput pays). The numbers back the choice documented in
//! `src/storage/mod.rs`.
//!
//! `cargo bench --bench storage_hop`

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::{Actor, Context, Handler, Message};
use criterion::{criterion_group, criterion_main, Criterion};
use parking_lot::RwLock;

use troupe::storage::{Key, Partition, ReadView, Row, Storage, TableStore};
use troupe::txn::{CommitTs, TxnId};
use troupe::types::{encode_key, Value};

const ROWS: i64 = 100_000;
const CALLERS: u64 = 8;

fn rows() -> Vec<(Key, Row)> {
    (0..ROWS)
        .map(|i| {
            let mut k = Vec::new();
            encode_key(&[Value::Int4(i as i32)], &mut k);
            let row: Row = vec![Value::Int4(i as i32), Value::Int4(0)].into();
            (k.into_boxed_slice(), row)
        })
        .collect()
}

fn key(i: u64) -> Vec<u8> {
    let mut k = Vec::new();
    encode_key(&[Value::Int4((i.wrapping_mul(7919) % ROWS as u64) as i32)], &mut k);
    k
}

const VIEW: ReadView = ReadView { snapshot: CommitTs(0), txn: TxnId(1) };

/// The partition behind an actix actor.
struct PartitionActor(Partition);

impl Actor for PartitionActor {
    type Context = Context<Self>;
}

struct Get(Vec<u8>);

impl Message for Get {
    type Result = Option<Row>;
}

impl Handler<Get> for PartitionActor {
    type Result = Option<Row>;
    fn handle(&mut self, msg: Get, _: &mut Context<Self>) -> Option<Row> {
        self.0.get(VIEW, &msg.0)
    }
}

type Shared = Arc<RwLock<Partition>>;

/// Runs `iters` reads split over [`CALLERS`] tasks; the elapsed time over all of them.
fn concurrent<F, Fut>(rt: &tokio::runtime::Runtime, callers: u64, iters: u64, read: F) -> Duration
where
    F: Fn(u64) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = Option<Row>> + Send,
{
    let start = Instant::now();
    rt.block_on(async {
        let tasks: Vec<_> = (0..callers)
            .map(|c| {
                let read = read.clone();
                tokio::spawn(async move {
                    for i in 0..iters / callers {
                        std::hint::black_box(read(c * 1_000_003 + i).await);
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.expect("caller");
        }
    });
    start.elapsed()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let direct: Shared = Arc::new(RwLock::new(Partition::loaded(rows())));
    let store: Arc<TableStore> = Storage::new(rt.handle().clone())
        .load(troupe::catalog::TableId(1), rows(), Vec::new())
        .expect("load");

    // The actix actor on its own System thread.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let system = actix::System::new();
        system.block_on(async move {
            let addr = PartitionActor(Partition::loaded(rows())).start();
            let _ = tx.send(addr);
        });
        let _ = system.run();
    });
    let addr = rx.recv().expect("actor started");

    for callers in [1, CALLERS] {
        let d = direct.clone();
        c.bench_function(&format!("point get, {callers} callers, direct call"), |b| {
            b.iter_custom(|iters| {
                let d = d.clone();
                concurrent(&rt, callers, iters, move |i| {
                    let d = d.clone();
                    async move {
                        tokio::task::yield_now().await;
                        d.read().get(VIEW, &key(i))
                    }
                })
            })
        });
        let a = addr.clone();
        c.bench_function(&format!("point get, {callers} callers, actix actor"), |b| {
            b.iter_custom(|iters| {
                let a = a.clone();
                concurrent(&rt, callers, iters, move |i| {
                    let a = a.clone();
                    async move { a.send(Get(key(i))).await.expect("actor alive") }
                })
            })
        });
        let s = store.clone();
        c.bench_function(&format!("point get, {callers} callers, storage actor"), |b| {
            b.iter_custom(|iters| {
                let s = s.clone();
                concurrent(&rt, callers, iters, move |i| {
                    let s = s.clone();
                    async move { s.get(VIEW, key(i).into_boxed_slice()).await.expect("actor alive") }
                })
            })
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
