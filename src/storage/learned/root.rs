//! The root: which leaf holds a key, through a radix table over the leaves' pivots.
//!
//! Leaf `i ≥ 1` starts at pivot `P_i` (the key it was split at); leaf `i` holds the keys
//! in `[P_i, P_{i+1})`, leaf 0 everything below `P_1`. The leaf of key `k` is therefore
//! the number of pivots `≤ k`. The radix table answers most of that count at once, in
//! the manner of RadixSpline: the pivots' prefixes, minus `base` and shifted right, fall
//! in `buckets` buckets, and `table[b]` counts the pivots in buckets below `b`.
//!
//! ```text
//!   bucket(k) = min((prefix(k) − base) >> shift, buckets − 1)
//!   leaf(k)   = table[b] + #{ pivots in bucket b that are ≤ k }     (bisect, usually 0–2)
//! ```
//! `bucket` is monotone in the prefix, so a pivot in a lower bucket is below `k` and one
//! in a higher bucket above it; the table is always exact, whatever the key
//! distribution, and a skewed one only makes the bisection longer. A split adds one
//! pivot (`O(buckets)` increments, a vectorised loop); the table is rebuilt in
//! `O(leaves + buckets)` when the leaves outgrow it or a bucket gets crowded.

use super::key::LearnedKey;
use super::Prefixer;

/// Bucket crowding that triggers a rebuild at the next split.
const CROWDED: u32 = 8;

/// Routes keys to leaves.
#[derive(Debug, Clone)]
pub struct Root<K> {
    /// `pivots[i]` starts leaf `i + 1`.
    pivots: Vec<K>,
    /// `prefix(pivots[i])`.
    prefixes: Vec<u64>,
    /// `table[b]`: pivots in buckets `< b`; `buckets + 1` entries.
    table: Vec<u32>,
    base: u64,
    shift: u32,
    /// Pivots added since the last rebuild.
    added: usize,
}

impl<K: LearnedKey> Default for Root<K> {
    fn default() -> Root<K> {
        Root {
            pivots: Vec::new(),
            prefixes: Vec::new(),
            table: vec![0, 0],
            base: 0,
            shift: 0,
            added: 0,
        }
    }
}

impl<K: LearnedKey> Root<K> {
    /// A root over `pivots` (strictly ascending).
    pub fn new(pivots: Vec<K>, prefixer: &Prefixer<K>) -> Root<K> {
        let mut root = Root { pivots, ..Root::default() };
        root.rebuild(prefixer);
        root
    }

    fn buckets(&self) -> usize {
        self.table.len() - 1
    }

    fn bucket(&self, prefix: u64) -> usize {
        let b = prefix.saturating_sub(self.base).checked_shr(self.shift).unwrap_or(0);
        (b as usize).min(self.buckets() - 1)
    }

    /// Recomputes the prefixes (after `skip` changed) and the table.
    pub fn rebuild(&mut self, prefixer: &Prefixer<K>) {
        self.prefixes = self.pivots.iter().map(|p| prefixer.of(p.probe())).collect();
        let buckets = (self.pivots.len() + 1).next_power_of_two() * 2;
        self.base = self.prefixes.first().copied().unwrap_or(0);
        let span = self.prefixes.last().copied().unwrap_or(0) - self.base;
        self.shift = 0;
        while self.shift < 64 && (span >> self.shift) >= buckets as u64 {
            self.shift += 1;
        }
        self.table = vec![0; buckets + 1];
        self.added = 0;
        let mut b = 0;
        for (i, &p) in self.prefixes.iter().enumerate() {
            let pb = self.bucket(p);
            while b < pb {
                b += 1;
                self.table[b] = i as u32;
            }
        }
        while b < buckets {
            b += 1;
            self.table[b] = self.prefixes.len() as u32;
        }
    }

    /// The leaf that holds (or would hold) `probe`, whose prefix is `prefix`.
    pub fn leaf(&self, probe: &K::Probe, prefix: u64) -> usize {
        let b = self.bucket(prefix);
        let (lo, hi) = (self.table[b] as usize, self.table[b + 1] as usize);
        let within = self.prefixes[lo..hi].partition_point(|&p| p < prefix);
        let ties = self.prefixes[lo + within..hi].partition_point(|&p| p == prefix);
        let start = lo + within;
        start + self.pivots[start..start + ties].partition_point(|p| p.probe() <= probe)
    }

    /// Records that leaf `leaf` split, the new leaf `leaf + 1` starting at `pivot`.
    pub fn split(&mut self, leaf: usize, pivot: K, prefixer: &Prefixer<K>) {
        let prefix = prefixer.of(pivot.probe());
        self.pivots.insert(leaf, pivot);
        self.prefixes.insert(leaf, prefix);
        let b = self.bucket(prefix);
        for count in &mut self.table[b + 1..] {
            *count += 1;
        }
        self.added += 1;
        let crowded = self.table[b + 1] - self.table[b] > CROWDED;
        if self.pivots.len() >= self.buckets() || (crowded && self.added * 8 >= self.pivots.len()) {
            self.rebuild(prefixer);
        }
    }

    /// Records that leaf `leaf + 1` was merged into leaf `leaf` (its pivot goes).
    pub fn merge(&mut self, leaf: usize) {
        let prefix = self.prefixes.remove(leaf);
        self.pivots.remove(leaf);
        let b = self.bucket(prefix);
        for count in &mut self.table[b + 1..] {
            *count -= 1;
        }
    }

    /// Bytes held, not counting heap memory inside the pivot keys.
    pub fn overhead(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.pivots.capacity() * std::mem::size_of::<K>()
            + self.prefixes.capacity() * 8
            + self.table.capacity() * 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_to_the_number_of_pivots_at_or_below() {
        let prefixer = Prefixer::default();
        let pivots: Vec<u64> = vec![10, 20, 20_000, 1 << 40, u64::MAX - 1];
        let mut root = Root::new(pivots.clone(), &prefixer);
        let check = |root: &Root<u64>, pivots: &[u64]| {
            for k in [0, 9, 10, 11, 19, 20, 21, 19_999, 20_000, 1 << 40, u64::MAX - 1, u64::MAX] {
                let want = pivots.iter().filter(|&&p| p <= k).count();
                assert_eq!(root.leaf(&k, k), want, "key {k}");
            }
        };
        check(&root, &pivots);
        root.split(2, 15_000, &prefixer);
        let mut more = pivots.clone();
        more.insert(2, 15_000);
        check(&root, &more);
        root.merge(0);
        more.remove(0);
        check(&root, &more);
    }
}
