//! The index inside a partition, behind a small trait so that the learned index (its own
//! issue) can replace the ordered map without touching the MVCC code above it.

use std::collections::BTreeMap;
use std::ops::Bound;

use super::mvcc::Chain;

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
    /// Chains with keys in the range, in key order.
    fn range<'a>(
        &'a self,
        lo: Bound<&[u8]>,
        hi: Bound<&[u8]>,
    ) -> Box<dyn Iterator<Item = (&'a [u8], &'a Chain)> + 'a>;
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

    fn range<'a>(
        &'a self,
        lo: Bound<&[u8]>,
        hi: Bound<&[u8]>,
    ) -> Box<dyn Iterator<Item = (&'a [u8], &'a Chain)> + 'a> {
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
