//! An updatable learned index: a radix table over leaves, each leaf a linear model over
//! a packed sorted array. In the spirit of ALEX (models predict positions, exponential
//! search corrects them, leaves split by size) and of RadixSpline (the root), simpler
//! than either, and sized for troupe's memory target.
//!
//! ```text
//!            prefix(k) ──▶ Root: radix table over leaf pivots (root.rs)
//!                              │  table[bucket] .. table[bucket+1]  → bisect 0–2 pivots
//!                              ▼
//!   leaves: [ Leaf 0 ][ Leaf 1 ] … [ Leaf i ] …             (leaf.rs)
//!                                  │ pos ≈ a + b·(prefix − base)
//!                                  ▼
//!                       [(k,v) (k,v) … (k,v)]  exponential search from pos
//! ```
//!
//! **Keys and the model.** The models work on a `u64` prefix of the key (`key.rs`): for
//! `u64` keys the key itself; for byte keys 8 big-endian bytes after the bytes every
//! stored key shares (troupe's type tag). The prefix never contradicts key order; keys
//! whose prefixes tie are ordered by full comparison, so text and composite keys are
//! correct, merely slower when many share 8 bytes.
//!
//! **The error bound.** Unlike a PGM-index there is no fixed ε: each leaf fits a least
//! squares line when it is built, split, merged or retrained, and the search starts at
//! the prediction and doubles its step until it brackets the key, so a prediction `e`
//! positions off costs about `2·log2(e + 1)` comparisons and correctness never depends
//! on the model. The error is bounded by the leaf size ([`MAX_LEAF`] entries); on
//! uniformly random `u64` keys the mean error is tens of positions, on dense keys about
//! zero (`LearnedIndex::model_error` measures it; the bench prints it).
//!
//! **Inserts and deletes.** A write finds its position as a lookup does and shifts the
//! shorter side of the leaf: the entries are a ring buffer (`VecDeque`), so room can be
//! made at either end, and a write moves at most half of [`MAX_LEAF`] entries, a quarter
//! on average. That is the part of ALEX's gapped arrays that matters for a leaf this
//! small, without their memory: there are no gaps, so spare memory is only the
//! allocation slack, grown and shrunk by an eighth. A write makes the model a little
//! stale; after a quarter of the leaf's length in writes the leaf retrains (`O(len)`,
//! so `O(1)` amortised per write).
//!
//! **Splits and merges.** A leaf over [`MAX_LEAF`] entries splits in half: both halves
//! retrain and the upper half's first key becomes a pivot in the root (`O(leaves)` to
//! insert it, amortised over the `MAX_LEAF / 2` inserts that filled the leaf). A leaf
//! under [`MIN_LEAF`] merges with a neighbour if the two fit in [`MERGED_LEAF`]; an
//! empty leaf is always dropped (except the last one).
//!
//! **The shared bytes.** `skip` is the common prefix length of all keys ever stored
//! (at most [`key::MAX_SKIP`]). An insert that shares fewer bytes shrinks it and
//! recomputes every prefix and model (`O(n)`); `skip` only shrinks, so that happens at
//! most `MAX_SKIP` times in the index's life (for rowid keys growing from 1: when the
//! ids pass 2⁸, 2¹⁶, 2²⁴ …).
//!
//! **What it costs.** A lookup is a table read, a short bisection, a leaf header and
//! one to three cache lines of entries. Memory beyond the entries: a 56-byte leaf header,
//! a pivot and its prefix and about two table slots per leaf, plus ≤ 1/8 slack in the
//! arrays; about 1–2 bytes per key for 16-byte entries. Not done: concurrent access
//! (the partition's actor owns it), gapped arrays (ALEX's faster inserts, at several
//! bytes per key), a cost model choosing leaf sizes per region.

pub mod key;
mod leaf;
mod range;
mod root;

use std::ops::Bound;

pub use key::LearnedKey;
pub use leaf::{MAX_LEAF, MERGED_LEAF, MIN_LEAF};
pub use range::Range;

use leaf::Leaf;
use root::Root;

/// Entries per leaf when bulk loading: room for a quarter more before the first split.
const BULK_LEAF: usize = MAX_LEAF * 3 / 4;

/// How the index turns keys into model prefixes: the shared bytes to skip.
#[derive(Debug, Clone)]
pub struct Prefixer<K> {
    skip: usize,
    anchor: Option<K>,
}

impl<K> Default for Prefixer<K> {
    fn default() -> Prefixer<K> {
        Prefixer { skip: 0, anchor: None }
    }
}

impl<K: LearnedKey> Prefixer<K> {
    fn of(&self, probe: &K::Probe) -> u64 {
        K::prefix(probe, self.skip, self.anchor.as_ref())
    }
}

/// An ordered map from `K` to `V` found through learned models; see the module doc.
#[derive(Debug, Clone)]
pub struct LearnedIndex<K, V> {
    /// Never empty: one (possibly empty) leaf when there are no keys.
    leaves: Vec<Leaf<K, V>>,
    root: Root<K>,
    prefixer: Prefixer<K>,
    len: usize,
}

impl<K: LearnedKey, V> Default for LearnedIndex<K, V> {
    fn default() -> LearnedIndex<K, V> {
        LearnedIndex {
            leaves: vec![Leaf::new(Vec::new(), &Prefixer::default())],
            root: Root::default(),
            prefixer: Prefixer::default(),
            len: 0,
        }
    }
}

impl<K: LearnedKey, V> LearnedIndex<K, V> {
    /// An empty index.
    pub fn new() -> LearnedIndex<K, V> {
        LearnedIndex::default()
    }

    /// An index holding `entries`. Sorted, strictly ascending input is loaded in `O(n)`;
    /// anything else is sorted first (of equal keys, the first is kept).
    pub fn bulk_load(mut entries: Vec<(K, V)>) -> LearnedIndex<K, V> {
        if !entries.windows(2).all(|w| w[0].0 < w[1].0) {
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            entries.dedup_by(|b, a| a.0 == b.0);
        }
        let (Some(first), Some(last)) = (entries.first(), entries.last()) else {
            return LearnedIndex::default();
        };
        let prefixer = Prefixer {
            skip: K::shared(first.0.probe(), last.0.probe()),
            anchor: Some(first.0.clone()),
        };
        let len = entries.len();
        let mut leaves = Vec::with_capacity(len.div_ceil(BULK_LEAF));
        let mut pivots = Vec::with_capacity(leaves.capacity());
        let mut rest = entries.into_iter();
        loop {
            let chunk: Vec<(K, V)> = rest.by_ref().take(BULK_LEAF).collect();
            let Some((start, _)) = chunk.first() else { break };
            if !leaves.is_empty() {
                pivots.push(start.clone());
            }
            leaves.push(Leaf::new(chunk, &prefixer));
        }
        let root = Root::new(pivots, &prefixer);
        LearnedIndex { leaves, root, prefixer, len }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when there are no entries.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The leaf for `probe`, the prefix, and the position in the leaf (`Ok`: found).
    fn locate(&self, probe: &K::Probe) -> (usize, Result<usize, usize>) {
        let prefix = self.prefixer.of(probe);
        let leaf = self.root.leaf(probe, prefix);
        (leaf, self.leaves[leaf].find(probe, prefix))
    }

    /// The value at `probe`.
    pub fn get(&self, probe: &K::Probe) -> Option<&V> {
        match self.locate(probe) {
            (leaf, Ok(pos)) => Some(&self.leaves[leaf].entries[pos].1),
            _ => None,
        }
    }

    /// The value at `probe`, mutable (an update in place).
    pub fn get_mut(&mut self, probe: &K::Probe) -> Option<&mut V> {
        match self.locate(probe) {
            (leaf, Ok(pos)) => Some(&mut self.leaves[leaf].entries[pos].1),
            _ => None,
        }
    }

    /// Inserts `value` at `key`, returning the value it replaced.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.locate(key.probe()) {
            (leaf, Ok(pos)) => {
                Some(std::mem::replace(&mut self.leaves[leaf].entries[pos].1, value))
            }
            (leaf, Err(pos)) => {
                self.insert_new(key, value, (leaf, pos));
                None
            }
        }
    }

    /// The value at `probe`, inserted from `make` if missing; `make` must return a key
    /// equal to `probe`.
    pub fn get_or_insert_with(
        &mut self,
        probe: &K::Probe,
        make: impl FnOnce() -> (K, V),
    ) -> &mut V {
        let (leaf, pos) = match self.locate(probe) {
            (leaf, Ok(pos)) => (leaf, pos),
            (leaf, Err(pos)) => {
                let (key, value) = make();
                self.insert_new(key, value, (leaf, pos))
            }
        };
        &mut self.leaves[leaf].entries[pos].1
    }

    /// Inserts a key known to be absent at `at` (its leaf and position, found by a search
    /// for this key); returns where it ended up.
    fn insert_new(&mut self, key: K, value: V, at: (usize, usize)) -> (usize, usize) {
        let (mut leaf, mut pos) = at;
        if self.widen_for(&key) {
            let prefix = self.prefixer.of(key.probe());
            leaf = self.root.leaf(key.probe(), prefix);
            pos = match self.leaves[leaf].find(key.probe(), prefix) {
                Ok(pos) | Err(pos) => pos,
            };
        }
        self.leaves[leaf].insert_at(pos, key, value);
        self.len += 1;
        if self.leaves[leaf].len() > MAX_LEAF {
            let upper = self.leaves[leaf].split(&self.prefixer);
            let lower_len = self.leaves[leaf].len();
            if let Some((pivot, _)) = upper.entries.front() {
                self.root.split(leaf, pivot.clone(), &self.prefixer);
            }
            self.leaves.insert(leaf + 1, upper);
            if pos >= lower_len {
                leaf += 1;
                pos -= lower_len;
            }
        } else if self.leaves[leaf].stale() {
            self.leaves[leaf].train(&self.prefixer);
        }
        (leaf, pos)
    }

    /// Shrinks `skip` if `key` does not share the bytes it skips; recomputes every
    /// prefix then (rare: see the module doc). True if the prefixes changed.
    fn widen_for(&mut self, key: &K) -> bool {
        let shared = match &self.prefixer.anchor {
            None => K::shared(key.probe(), key.probe()),
            Some(anchor) => K::shared(key.probe(), anchor.probe()).min(self.prefixer.skip),
        };
        if self.prefixer.anchor.is_none() {
            self.prefixer = Prefixer { skip: shared, anchor: Some(key.clone()) };
            true
        } else if shared < self.prefixer.skip {
            self.prefixer.skip = shared;
            for leaf in &mut self.leaves {
                leaf.train(&self.prefixer);
            }
            self.root.rebuild(&self.prefixer);
            true
        } else {
            false
        }
    }

    /// Removes the entry at `probe`.
    pub fn remove(&mut self, probe: &K::Probe) -> Option<V> {
        let (leaf, Ok(pos)) = self.locate(probe) else { return None };
        let (_, value) = self.leaves[leaf].remove_at(pos)?;
        self.len -= 1;
        let n = self.leaves[leaf].len();
        if self.leaves.len() > 1 && n < MIN_LEAF {
            self.merge_around(leaf);
        } else if self.leaves[leaf].stale() {
            self.leaves[leaf].train(&self.prefixer);
        }
        Some(value)
    }

    /// Merges the small leaf `leaf` with a neighbour when they fit together; drops it
    /// if it is empty.
    fn merge_around(&mut self, leaf: usize) {
        let n = self.leaves[leaf].len();
        let neighbour = |i: usize| self.leaves.get(i).map_or(usize::MAX, Leaf::len);
        let right = neighbour(leaf + 1);
        let left = if leaf > 0 { neighbour(leaf - 1) } else { usize::MAX };
        let lower = if n == 0 {
            // Drop it: its keys range goes to the neighbour below (or above, for leaf 0).
            self.leaves.remove(leaf);
            self.root.merge(leaf.saturating_sub(1));
            return;
        } else if right <= left && n + right <= MERGED_LEAF {
            leaf
        } else if left < right && n + left <= MERGED_LEAF {
            leaf - 1
        } else {
            self.leaves[leaf].train(&self.prefixer);
            return;
        };
        let upper = self.leaves.remove(lower + 1);
        self.root.merge(lower);
        let merged = &mut self.leaves[lower];
        merged.entries.reserve_exact(upper.len() + (merged.len() + upper.len()) / 8);
        merged.entries.extend(upper.entries);
        merged.train(&self.prefixer);
    }

    /// Entries with keys in `(lo, hi)`, in key order; double-ended.
    pub fn range(&self, lo: Bound<&K::Probe>, hi: Bound<&K::Probe>) -> Range<'_, K, V> {
        let cursor = |probe: &K::Probe, after_equal: bool| match self.locate(probe) {
            (leaf, Ok(pos)) => (leaf, if after_equal { pos + 1 } else { pos }),
            (leaf, Err(pos)) => (leaf, pos),
        };
        let last = self.leaves.len() - 1;
        let front = match lo {
            Bound::Unbounded => (0, 0),
            Bound::Included(k) => cursor(k, false),
            Bound::Excluded(k) => cursor(k, true),
        };
        let back = match hi {
            Bound::Unbounded => (last, self.leaves[last].len()),
            Bound::Included(k) => cursor(k, true),
            Bound::Excluded(k) => cursor(k, false),
        };
        Range::new(&self.leaves, front, back)
    }

    /// Every entry, in key order, consumed; the index is left empty.
    pub fn drain(&mut self) -> Vec<(K, V)> {
        let mut out = Vec::with_capacity(self.len);
        for leaf in std::mem::take(&mut self.leaves) {
            out.extend(leaf.entries);
        }
        *self = LearnedIndex::default();
        out
    }

    /// Bytes the index holds beyond `len × size_of::<(K, V)>()` (not counting heap
    /// memory owned by keys and values themselves).
    pub fn overhead(&self) -> usize {
        std::mem::size_of::<Self>()
            + (self.leaves.capacity() - self.leaves.len()) * std::mem::size_of::<Leaf<K, V>>()
            + self.leaves.iter().map(Leaf::overhead).sum::<usize>()
            + self.root.overhead()
    }

    /// Mean and largest distance between each entry's predicted and real position.
    pub fn model_error(&self) -> (f64, usize) {
        let (mut sum, mut max) = (0usize, 0usize);
        for leaf in &self.leaves {
            for (i, (k, _)) in leaf.entries.iter().enumerate() {
                let e = leaf.predicted(self.prefixer.of(k.probe())).abs_diff(i);
                sum += e;
                max = max.max(e);
            }
        }
        (sum as f64 / self.len.max(1) as f64, max)
    }

    /// Number of leaves.
    pub fn leaf_count(&self) -> usize {
        self.leaves.len()
    }
}

#[cfg(test)]
mod tests;
