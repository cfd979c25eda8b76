//! What a point read costs when the session calls the partition directly, against the
//! same read sent to an actix actor that owns the partition (DESIGN §1's storage actor)
//! from a tokio task, as sessions would. The numbers back the departure documented in
//! `src/storage/mod.rs`.
//!
//! `cargo bench --bench storage_hop`

use std::sync::Arc;

use actix::{Actor, Context, Handler, Message};
use criterion::{criterion_group, criterion_main, Criterion};

use troupe::storage::{ReadView, Row, Storage, TableStore};
use troupe::txn::{CommitTs, TxnId};
use troupe::types::{encode_key, Value};

const ROWS: i64 = 100_000;

fn table() -> Arc<TableStore> {
    let storage = Storage::new();
    let store = storage.create(troupe::catalog::TableId(1));
    let rows = (0..ROWS)
        .map(|i| {
            let mut k = Vec::new();
            encode_key(&[Value::Int4(i as i32)], &mut k);
            let row: Row = vec![Value::Int4(i as i32), Value::Int4(0)].into();
            (k.into_boxed_slice(), row)
        })
        .collect();
    store.bulk_load(rows);
    store
}

fn key(i: i64) -> Vec<u8> {
    let mut k = Vec::new();
    encode_key(&[Value::Int4((i % ROWS) as i32)], &mut k);
    k
}

const VIEW: ReadView = ReadView { snapshot: CommitTs(0), txn: TxnId(1) };

/// The partition behind an actor.
struct PartitionActor(Arc<TableStore>);

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

fn bench(c: &mut Criterion) {
    let store = table();
    let mut i = 0i64;
    c.bench_function("point get, direct call", |b| {
        b.iter(|| {
            i += 7919;
            store.get(VIEW, &key(i))
        })
    });

    // The actor on its own actix System thread, called from a tokio runtime.
    let (tx, rx) = std::sync::mpsc::channel();
    let owned = store.clone();
    std::thread::spawn(move || {
        let system = actix::System::new();
        system.block_on(async move {
            let addr = PartitionActor(owned).start();
            let _ = tx.send(addr);
        });
        let _ = system.run();
    });
    let addr = rx.recv().expect("actor started");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let mut j = 0i64;
    c.bench_function("point get, actix actor round trip", |b| {
        b.iter(|| {
            j += 7919;
            let k = key(j);
            rt.block_on(async { addr.send(Get(k)).await.expect("actor alive") })
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
