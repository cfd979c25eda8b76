//! What a partition split costs: `Partition::split_off` at the median of a partition of
//! [`troupe::storage::DEFAULT_PARTITION_KEYS`] pgbench-like rows (int4 keys), for each
//! index kind. The storage actor does this inside one request, so it is the pause a
//! split puts on that partition's requests (README, Storage).
//!
//! `cargo bench --bench partition_split`

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};

use troupe::storage::{IndexKind, Key, Partition, Row, DEFAULT_PARTITION_KEYS};
use troupe::types::{encode_key, Value};

fn rows(n: usize) -> Vec<(Key, Row)> {
    (0..n as i32)
        .map(|i| {
            let mut k = Vec::new();
            encode_key(&[Value::Int4(i)], &mut k);
            let row = vec![Value::Int4(i), Value::Int4(i % 10), Value::Int4(0), Value::Null];
            (k.into_boxed_slice(), Row::from(row))
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let n = DEFAULT_PARTITION_KEYS;
    let loaded = rows(n);
    let mut g = c.benchmark_group("partition_split");
    g.sample_size(10);
    for (name, kind) in [("learned", IndexKind::Learned), ("btree", IndexKind::BTree)] {
        g.bench_function(format!("{name}/{n}"), |b| {
            b.iter_batched(
                || Partition::new(kind).with_rows(loaded.clone()),
                |mut part| {
                    let at = part.split_point().expect("two keys or more");
                    let upper = part.split_off(&at);
                    (part, upper)
                },
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
