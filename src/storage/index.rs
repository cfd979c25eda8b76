//! The index inside a partition, behind a small trait so that the learned index
//! (`learned/`) can replace the ordered map without touching the MVCC code above it.
//! Which one a partition uses is an [`IndexKind`], chosen per server
//! (`troupe serve --index learned|btree`).

use std::collections::BTreeMap;
use std::ops::Bound;

use super::learned::LearnedIndex;
use super::mvcc::Chain;

/// Which index a partition keeps its chains in. The learned index is the default: it
/// serves pgbench select-only at scale 100 about 2.5× faster than the BTreeMap
/// (`benches/index-compare.sh`, numbers in the README).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IndexKind {
    /// `std::collections::BTreeMap` ([`BTreeIndex`]).
    BTree,
    /// The learned index ([`LearnedIndex`], `storage/learned/`).
    #[default]
    Learned,
}

impl IndexKind {
    /// An empty index of this kind.
    pub fn build(self) -> Box<dyn PartitionIndex> {
        match self {
            IndexKind::BTree => Box::<BTreeIndex>::default(),
            IndexKind::Learned => Box::<LearnedIndex<Key, Chain>>::default(),
        }
    }
}

/// Chains in key order; [`PartitionIndex::range`] walks it from either end.
pub type ChainRange<'a> = Box<dyn DoubleEndedIterator<Item = (&'a [u8], &'a Chain)> + 'a>;

/// An encoded key: order-preserving bytes (`types::encode_key`) or a hidden row id.
pub type Key = Box<[u8]>;

/// Ordered map from key to version chain.
pub trait PartitionIndex: Send + Sync + std::fmt::Debug {
    /// The chain at `key`.
    fn get(&self, key: &[u8]) -> Option<&Chain>;
    /// The chain at `key`, mutable.
    fn get_mut(&mut self, key: &[u8]) -> Option<&mut Chain>;
    /// The chain at `key`, created empty if missing.
    fn entry(&mut self, key: &[u8]) -> &mut Chain;
    /// Removes the chain at `key`.
    fn remove(&mut self, key: &[u8]) -> Option<Chain>;
    /// Chains with keys in the range, in key order (`.rev()` for descending). An
    /// inverted range is empty.
    fn range<'a>(&'a self, lo: Bound<&[u8]>, hi: Bound<&[u8]>) -> ChainRange<'a>;
    /// Number of chains.
    fn len(&self) -> usize;
    /// True when empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Replaces the contents with `sorted` (keys strictly ascending).
    fn bulk_load(&mut self, sorted: Vec<(Key, Chain)>);
    /// Every chain, in key order, consumed.
    fn drain(&mut self) -> Vec<(Key, Chain)>;
}

/// The ordered-map index: `std::collections::BTreeMap`.
#[derive(Debug, Default)]
pub struct BTreeIndex {
    map: BTreeMap<Key, Chain>,
}

impl PartitionIndex for BTreeIndex {
    fn get(&self, key: &[u8]) -> Option<&Chain> {
        self.map.get(key)
    }

    fn get_mut(&mut self, key: &[u8]) -> Option<&mut Chain> {
        self.map.get_mut(key)
    }

    fn entry(&mut self, key: &[u8]) -> &mut Chain {
        if !self.map.contains_key(key) {
            self.map.insert(key.into(), Chain::default());
        }
        // Just inserted if it was missing.
        self.map.entry(key.into()).or_default()
    }

    fn remove(&mut self, key: &[u8]) -> Option<Chain> {
        self.map.remove(key)
    }

    fn range<'a>(&'a self, lo: Bound<&[u8]>, hi: Bound<&[u8]>) -> ChainRange<'a> {
        // BTreeMap::range panics on an inverted range; the trait promises empty.
        let inverted = match (lo, hi) {
            (Bound::Excluded(a), Bound::Excluded(b)) => a >= b,
            (Bound::Included(a) | Bound::Excluded(a), Bound::Included(b) | Bound::Excluded(b)) => {
                a > b
            }
            _ => false,
        };
        if inverted {
            return Box::new(std::iter::empty());
        }
        Box::new(self.map.range::<[u8], _>((lo, hi)).map(|(k, c)| (&**k, c)))
    }

    fn len(&self) -> usize {
        self.map.len()
    }

    fn bulk_load(&mut self, sorted: Vec<(Key, Chain)>) {
        self.map = sorted.into_iter().collect();
    }

    fn drain(&mut self) -> Vec<(Key, Chain)> {
        std::mem::take(&mut self.map).into_iter().collect()
    }
}

impl PartitionIndex for LearnedIndex<Key, Chain> {
    fn get(&self, key: &[u8]) -> Option<&Chain> {
        LearnedIndex::get(self, key)
    }

    fn get_mut(&mut self, key: &[u8]) -> Option<&mut Chain> {
        LearnedIndex::get_mut(self, key)
    }

    fn entry(&mut self, key: &[u8]) -> &mut Chain {
        self.get_or_insert_with(key, || (key.into(), Chain::default()))
    }

    fn remove(&mut self, key: &[u8]) -> Option<Chain> {
        LearnedIndex::remove(self, key)
    }

    fn range<'a>(&'a self, lo: Bound<&[u8]>, hi: Bound<&[u8]>) -> ChainRange<'a> {
        Box::new(LearnedIndex::range(self, lo, hi).map(|(k, c)| (&**k, c)))
    }

    fn len(&self) -> usize {
        LearnedIndex::len(self)
    }

    fn bulk_load(&mut self, sorted: Vec<(Key, Chain)>) {
        *self = LearnedIndex::bulk_load(sorted);
    }

    fn drain(&mut self) -> Vec<(Key, Chain)> {
        LearnedIndex::drain(self)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Both kinds answer alike through the trait, including backward and inverted scans.
    #[test]
    fn both_kinds_agree_through_the_trait() {
        let key = |i: u32| -> Key { [&[5u8][..], &i.to_be_bytes()].concat().into() };
        let mut kinds = [IndexKind::BTree.build(), IndexKind::Learned.build()];
        for index in &mut kinds {
            index.bulk_load((0..3000).map(|i| (key(i * 2), Chain::default())).collect());
            for i in 0..3000 {
                index.entry(&key(i * 2 + 1));
            }
            for i in 0..1000 {
                index.remove(&key(i * 3));
            }
        }
        let [a, b] = &kinds;
        assert_eq!(a.len(), b.len());
        let keys = |x: &dyn PartitionIndex, lo: &[u8], hi: &[u8], back: bool| -> Vec<Vec<u8>> {
            let r = x.range(Bound::Included(lo), Bound::Excluded(hi));
            if back {
                r.rev().map(|(k, _)| k.to_vec()).collect()
            } else {
                r.map(|(k, _)| k.to_vec()).collect()
            }
        };
        for (lo, hi) in [(0, 6000), (100, 200), (4000, 10), (7, 7)] {
            for back in [false, true] {
                let (lo, hi) = (key(lo), key(hi));
                assert_eq!(keys(&**a, &lo, &hi, back), keys(&**b, &lo, &hi, back));
            }
        }
        assert_eq!(keys(&**b, &key(4000), &key(10), false), Vec::<Vec<u8>>::new());
        assert!(b.get(&key(1)).is_some() && b.get(&key(3)).is_none());
    }
}
