//! The learned index against `std::collections::BTreeMap`: random operation sequences
//! (proptest) and long seeded runs that split and merge many leaves, comparing every
//! answer, scans in both directions included.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::ops::Bound;

use proptest::prelude::*;
use rand::{Rng, SeedableRng};

use super::*;

#[derive(Debug, Clone)]
enum Op<K> {
    Insert(K, u64),
    Remove(K),
    Get(K),
    Update(K, u64),
    Entry(K),
    Scan(Bound<K>, Bound<K>, bool),
    BulkLoad(Vec<K>),
    RemoveFirst(usize),
    Drain,
}

/// True if `BTreeMap::range` accepts the bounds (it panics on inverted ones).
fn valid<K: Ord>(lo: &Bound<K>, hi: &Bound<K>) -> bool {
    match (lo, hi) {
        (Bound::Excluded(a), Bound::Excluded(b)) => a < b,
        (Bound::Included(a) | Bound::Excluded(a), Bound::Included(b) | Bound::Excluded(b)) => {
            a <= b
        }
        _ => true,
    }
}

fn as_probe<K: LearnedKey>(b: &Bound<K>) -> Bound<&K::Probe> {
    match b {
        Bound::Included(k) => Bound::Included(k.probe()),
        Bound::Excluded(k) => Bound::Excluded(k.probe()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

fn check_all<K: LearnedKey + Debug>(index: &LearnedIndex<K, u64>, model: &BTreeMap<K, u64>) {
    assert_eq!(index.len(), model.len());
    let ours: Vec<_> = index.range(Bound::Unbounded, Bound::Unbounded).collect();
    let theirs: Vec<_> = model.iter().collect();
    assert_eq!(ours, theirs);
}

fn run<K: LearnedKey + Debug>(ops: Vec<Op<K>>) {
    let mut index: LearnedIndex<K, u64> = LearnedIndex::new();
    let mut model: BTreeMap<K, u64> = BTreeMap::new();
    for op in ops {
        match op {
            Op::Insert(k, v) => {
                assert_eq!(index.insert(k.clone(), v), model.insert(k, v));
            }
            Op::Remove(k) => assert_eq!(index.remove(k.probe()), model.remove(&k)),
            Op::Get(k) => assert_eq!(index.get(k.probe()), model.get(&k)),
            Op::Update(k, v) => {
                let ours = index.get_mut(k.probe()).map(|x| std::mem::replace(x, v));
                let theirs = model.get_mut(&k).map(|x| std::mem::replace(x, v));
                assert_eq!(ours, theirs);
            }
            Op::Entry(k) => {
                let ours = index.get_or_insert_with(k.probe(), || (k.clone(), 7));
                *ours += 1;
                let theirs = model.entry(k).or_insert(7);
                *theirs += 1;
                assert_eq!(*ours, *theirs);
            }
            Op::Scan(lo, hi, backward) => {
                let ours = index.range(as_probe(&lo), as_probe(&hi));
                if !valid(&lo, &hi) {
                    assert_eq!(ours.count(), 0);
                    continue;
                }
                let theirs = model.range((lo, hi));
                if backward {
                    assert!(ours.rev().eq(theirs.rev()));
                } else {
                    assert!(ours.eq(theirs));
                }
            }
            Op::BulkLoad(mut keys) => {
                keys.sort();
                keys.dedup();
                let entries: Vec<(K, u64)> =
                    keys.into_iter().enumerate().map(|(i, k)| (k, i as u64)).collect();
                model = entries.iter().cloned().collect();
                index = LearnedIndex::bulk_load(entries);
            }
            Op::RemoveFirst(n) => {
                let keys: Vec<K> = model.keys().take(n).cloned().collect();
                for k in keys {
                    assert_eq!(index.remove(k.probe()), model.remove(&k));
                }
            }
            Op::Drain => {
                let ours = index.drain();
                let theirs: Vec<_> = std::mem::take(&mut model).into_iter().collect();
                assert_eq!(ours, theirs);
            }
        }
        assert_eq!(index.len(), model.len());
    }
    check_all(&index, &model);
}

fn u64_key() -> BoxedStrategy<u64> {
    prop_oneof![any::<u64>(), 0..2_000u64, Just(0), Just(u64::MAX), (u64::MAX - 2_000)..=u64::MAX,]
        .boxed()
}

fn byte_key() -> BoxedStrategy<Box<[u8]>> {
    let shared = "a long text key sharing its first bytes/";
    prop_oneof![
        Just(Vec::new()),
        prop::collection::vec(any::<u8>(), 0..12),
        (0..3_000u32).prop_map(move |i| format!("{shared}{i}").into_bytes()),
        // troupe's integer keys: a tag, then the sign-flipped big-endian value.
        (-3_000i64..3_000).prop_map(|i| {
            let mut k = vec![5];
            k.extend_from_slice(&((i as u64) ^ (1 << 63)).to_be_bytes());
            k
        }),
    ]
    .prop_map(Vec::into_boxed_slice)
    .boxed()
}

fn bound<K: Clone + Debug>(key: impl Strategy<Value = K>) -> impl Strategy<Value = Bound<K>> {
    prop_oneof![
        Just(Bound::Unbounded),
        (key, any::<bool>()).prop_map(|(k, i)| if i {
            Bound::Included(k)
        } else {
            Bound::Excluded(k)
        }),
    ]
}

fn ops<K: Clone + Debug + 'static>(
    key: impl Strategy<Value = K> + Clone + 'static,
) -> impl Strategy<Value = Vec<Op<K>>> {
    let op = prop_oneof![
        8 => (key.clone(), any::<u64>()).prop_map(|(k, v)| Op::Insert(k, v)),
        3 => key.clone().prop_map(Op::Remove),
        3 => key.clone().prop_map(Op::Get),
        2 => (key.clone(), any::<u64>()).prop_map(|(k, v)| Op::Update(k, v)),
        2 => key.clone().prop_map(Op::Entry),
        3 => (bound(key.clone()), bound(key.clone()), any::<bool>())
            .prop_map(|(lo, hi, back)| Op::Scan(lo, hi, back)),
        1 => prop::collection::vec(key.clone(), 0..2_500).prop_map(Op::BulkLoad),
        1 => (0..3_000usize).prop_map(Op::RemoveFirst),
        1 => Just(Op::Drain),
    ];
    prop::collection::vec(op, 0..200)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    #[test]
    fn u64_keys_behave_like_a_btreemap(ops in ops(u64_key())) {
        run(ops);
    }

    #[test]
    fn byte_keys_behave_like_a_btreemap(ops in ops(byte_key())) {
        run(ops);
    }
}

/// Long seeded runs: many splits, merges and retrains that short sequences never reach.
fn churn<K: LearnedKey + Debug>(
    seed: u64,
    steps: usize,
    key: impl Fn(&mut rand::rngs::StdRng) -> K,
) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut index: LearnedIndex<K, u64> = LearnedIndex::new();
    let mut model = BTreeMap::new();
    for step in 0..steps {
        let k = key(&mut rng);
        // Grow for the first half, shrink in the second: splits, then merges.
        let grow = if step < steps / 2 { 0.75 } else { 0.25 };
        if rng.gen_bool(grow) {
            assert_eq!(index.insert(k.clone(), step as u64), model.insert(k, step as u64));
        } else if let Some(k) = model.range(k..).next().map(|(k, _)| k.clone()) {
            assert_eq!(index.remove(k.probe()), model.remove(&k));
        }
        if step % 5_000 == 0 {
            let lo = key(&mut rng);
            let ours: Vec<_> =
                index.range(Bound::Included(lo.probe()), Bound::Unbounded).rev().take(50).collect();
            let theirs: Vec<_> = model.range(lo..).rev().take(50).collect();
            assert_eq!(ours, theirs);
        }
    }
    check_all(&index, &model);
}

#[test]
fn random_u64_churn_splits_and_merges() {
    churn(1, 200_000, |r| r.gen::<u64>());
}

#[test]
fn dense_u64_churn_splits_and_merges() {
    churn(2, 200_000, |r| r.gen_range(0..60_000u64));
}

#[test]
fn rowid_keys_growing_from_one_shrink_the_skip() {
    let mut index: LearnedIndex<Box<[u8]>, u64> = LearnedIndex::new();
    let key = |i: u64| -> Box<[u8]> { i.to_be_bytes().into() };
    for i in 1..70_000u64 {
        index.insert(key(i), i);
    }
    for i in (1..70_000u64).step_by(997) {
        assert_eq!(index.get(&key(i)), Some(&i));
    }
    assert!(index.model_error().0 < 4.0, "{:?}", index.model_error());
}

#[test]
fn text_keys_sharing_a_long_prefix_split_and_scan() {
    churn(3, 60_000, |r| {
        let text = format!("customer-with-a-long-shared-prefix-{:06}", r.gen_range(0..20_000));
        Box::<[u8]>::from(text.into_bytes())
    });
}
