//! The learned index (`src/storage/learned/`) against `std::collections::BTreeMap` on
//! the same keys in the same run: 10M uniformly random `u64` keys and 10M dense ones
//! (`2·i`, sequential, timestamp-like), `u64` values. Point lookups of present keys in
//! random order, inserts of new keys in random order (into the 10M-key map; each batch
//! is removed again untimed), scans of 100 keys from a random start, bulk load of the
//! 10M sorted keys against inserting them one by one into a BTreeMap (and against
//! `BTreeMap::from_iter`, its own bulk build). Memory beyond the keys and values is
//! measured with a counting allocator and printed before the timings, with the time per
//! insert of 2M random-order keys into an empty map (leaf splits included).
//!
//! `cargo bench --bench learned_index -- --warm-up-time 1 --measurement-time 3`
//! (`LEARNED_BENCH_KEYS=1000000` for a quicker, smaller run).

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::ops::Bound;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use troupe::storage::learned::LearnedIndex;

/// The system allocator, counting the bytes in use.
struct Counting;

static IN_USE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        IN_USE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        IN_USE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        IN_USE.fetch_add(new_size as isize - layout.size() as isize, Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn in_use() -> isize {
    IN_USE.load(Ordering::Relaxed)
}

/// Bytes per key beyond the 16 bytes of key and value, of whatever `build` makes.
fn overhead_per_key<T>(n: usize, build: impl FnOnce() -> T) -> (T, f64) {
    let before = in_use();
    let built = build();
    let bytes = in_use() - before;
    (built, (bytes as f64 - (n * 16) as f64) / n as f64)
}

fn keys_wanted() -> usize {
    std::env::var("LEARNED_BENCH_KEYS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000_000)
}

/// Sorted distinct keys, and keys absent from them to insert, in random order.
fn dataset(name: &str, n: usize, rng: &mut rand::rngs::StdRng) -> (Vec<u64>, Vec<u64>) {
    match name {
        "uniform" => {
            let mut keys: Vec<u64> = (0..n + n / 100).map(|_| rng.gen()).collect();
            keys.sort_unstable();
            keys.dedup();
            keys.truncate(n);
            let mut extra: Vec<u64> = (0..1_000_000)
                .map(|_| rng.gen())
                .filter(|k| keys.binary_search(k).is_err())
                .collect();
            extra.sort_unstable();
            extra.dedup();
            extra.shuffle(rng);
            (keys, extra)
        }
        _ => {
            let keys: Vec<u64> = (0..n as u64).map(|i| i * 2).collect();
            let mut extra: Vec<u64> = (0..n as u64).step_by(10).map(|i| i * 2 + 1).collect();
            extra.truncate(1_000_000);
            extra.shuffle(rng);
            (keys, extra)
        }
    }
}

fn bench_dataset(c: &mut Criterion, name: &str) {
    let n = keys_wanted();
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    let (keys, extra) = dataset(name, n, &mut rng);
    let sorted: Vec<(u64, u64)> = keys.iter().map(|&k| (k, k ^ 0x5555)).collect();
    let mut probes: Vec<u64> = keys.iter().step_by((n / 1_000_000).max(1)).copied().collect();
    probes.shuffle(&mut rng);

    let (mut learned, learned_mem) =
        overhead_per_key(n, || LearnedIndex::bulk_load(sorted.clone()));
    let (mut btree, btree_mem) =
        overhead_per_key(n, || sorted.iter().copied().collect::<BTreeMap<u64, u64>>());
    let (error_mean, error_max) = learned.model_error();
    let m = 2_000_000.min(n);
    let mut shuffled: Vec<(u64, u64)> = sorted.iter().step_by(n / m).copied().collect();
    shuffled.shuffle(&mut rng);
    let ((l, learned_grow), learned_ins_mem) = overhead_per_key(shuffled.len(), || {
        let start = Instant::now();
        let mut l = LearnedIndex::new();
        for &(k, v) in &shuffled {
            l.insert(k, v);
        }
        (l, start.elapsed())
    });
    drop(l);
    let ((b, btree_grow), btree_ins_mem) = overhead_per_key(shuffled.len(), || {
        let start = Instant::now();
        let mut b = BTreeMap::new();
        for &(k, v) in &shuffled {
            b.insert(k, v);
        }
        (b, start.elapsed())
    });
    drop(b);
    let per_insert = |d: Duration| d.as_nanos() as f64 / shuffled.len() as f64;
    println!(
        "{name}: {n} keys; memory beyond keys+values per key: learned {learned_mem:.2} B \
         (bulk loaded; {} leaves, model error mean {error_mean:.1} max {error_max}), \
         BTreeMap {btree_mem:.2} B (from sorted); after {} random-order inserts: \
         learned {learned_ins_mem:.2} B, BTreeMap {btree_ins_mem:.2} B; those inserts, \
         growing from empty (splits included): learned {:.0} ns, BTreeMap {:.0} ns each",
        learned.leaf_count(),
        shuffled.len(),
        per_insert(learned_grow),
        per_insert(btree_grow),
    );

    let mut g = c.benchmark_group(format!("{name}/lookup"));
    let mask = probes.len();
    g.bench_function("learned", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            black_box(learned.get(&probes[i % mask]))
        })
    });
    g.bench_function("btreemap", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            black_box(btree.get(&probes[i % mask]))
        })
    });
    g.finish();

    let mut g = c.benchmark_group(format!("{name}/insert"));
    g.bench_function("learned", |b| {
        b.iter_custom(|iters| {
            insert_batches(
                iters,
                &extra,
                &mut learned,
                |m, k| {
                    m.insert(k, k);
                },
                |m, k| {
                    m.remove(&k);
                },
            )
        })
    });
    g.bench_function("btreemap", |b| {
        b.iter_custom(|iters| {
            insert_batches(
                iters,
                &extra,
                &mut btree,
                |m, k| {
                    m.insert(k, k);
                },
                |m, k| {
                    m.remove(&k);
                },
            )
        })
    });
    g.finish();

    let mut g = c.benchmark_group(format!("{name}/scan100"));
    g.bench_function("learned", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            let from = probes[i % mask];
            let r = learned.range(Bound::Included(&from), Bound::Unbounded);
            black_box(r.take(100).fold(0u64, |s, (_, v)| s.wrapping_add(*v)))
        })
    });
    g.bench_function("btreemap", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            let from = probes[i % mask];
            let r = btree.range(from..);
            black_box(r.take(100).fold(0u64, |s, (_, v)| s.wrapping_add(*v)))
        })
    });
    g.finish();
    drop(learned);
    drop(btree);

    let mut g = c.benchmark_group(format!("{name}/bulk_load"));
    g.sample_size(10);
    g.bench_function("learned", |b| {
        b.iter_batched(|| sorted.clone(), LearnedIndex::bulk_load, BatchSize::PerIteration)
    });
    g.bench_function("btreemap_inserts", |b| {
        b.iter_batched(
            || sorted.clone(),
            |v| {
                let mut m = BTreeMap::new();
                for (k, x) in v {
                    m.insert(k, x);
                }
                m
            },
            BatchSize::PerIteration,
        )
    });
    g.bench_function("btreemap_from_iter", |b| {
        b.iter_batched(
            || sorted.clone(),
            |v| v.into_iter().collect::<BTreeMap<u64, u64>>(),
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

/// Times `iters` inserts of keys from `extra` (cycling), removing each batch again
/// untimed so that the map stays at its size.
fn insert_batches<M>(
    iters: u64,
    extra: &[u64],
    map: &mut M,
    insert: impl Fn(&mut M, u64),
    remove: impl Fn(&mut M, u64),
) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters as usize;
    let mut at = 0;
    while left > 0 {
        let batch = left.min(extra.len() - at).min(100_000);
        let keys = &extra[at..at + batch];
        let start = Instant::now();
        for &k in keys {
            insert(map, k);
        }
        total += start.elapsed();
        for &k in keys {
            remove(map, k);
        }
        left -= batch;
        at = (at + batch) % extra.len();
    }
    total
}

fn uniform(c: &mut Criterion) {
    bench_dataset(c, "uniform");
}

fn dense(c: &mut Criterion) {
    bench_dataset(c, "dense");
}

criterion_group!(benches, uniform, dense);
criterion_main!(benches);
