//! A leaf: a packed sorted array of entries with a linear model of where each key sits.
//!
//! ```text
//!   position ≈ intercept + slope · (prefix − base)        (least squares, at training)
//!   entries: [(k0,v0) (k1,v1) … (kn-1,vn-1)]             sorted, no gaps, a ring buffer
//!                      ▲ predicted ── exponential search ─▶ found / insertion point
//! ```
//! The search starts at the predicted position and doubles its step until it brackets
//! the key, then bisects: `O(log e)` comparisons for a prediction `e` positions off, so
//! correctness never depends on the model, only speed does.
//!
//! The entries are a `VecDeque`, logically one sorted array: an insert or remove shifts
//! whichever side of its position is shorter (the ring buffer wraps to make room at the
//! front), so a write moves at most half the leaf and a quarter on average, and the
//! spare capacity serves both ends; this is the cheap half of ALEX's gapped arrays
//! without their memory. Writes leave the model slightly stale; after [`Leaf::stale`]
//! such writes the leaf retrains in `O(len)`.

use std::collections::VecDeque;

use super::key::LearnedKey;
use super::Prefixer;

/// Most entries in a leaf: one more and it splits in two.
pub const MAX_LEAF: usize = 1024;
/// A leaf with fewer entries merges with a neighbour when the two fit in
/// [`MERGED_LEAF`].
pub const MIN_LEAF: usize = MAX_LEAF / 8;
/// Largest leaf a merge may produce, leaving room to grow before the next split.
pub const MERGED_LEAF: usize = MAX_LEAF * 3 / 4;

/// One leaf of the index.
#[derive(Debug, Clone)]
pub struct Leaf<K, V> {
    pub(super) entries: VecDeque<(K, V)>,
    base: u64,
    slope: f64,
    intercept: f64,
    /// Inserts and removes since the model was trained.
    writes: usize,
}

impl<K: LearnedKey, V> Leaf<K, V> {
    /// A leaf holding `entries` (sorted, strictly ascending), trained.
    pub fn new(entries: impl Into<VecDeque<(K, V)>>, prefixer: &Prefixer<K>) -> Leaf<K, V> {
        let entries = entries.into();
        let mut leaf = Leaf { entries, base: 0, slope: 0.0, intercept: 0.0, writes: 0 };
        leaf.train(prefixer);
        leaf
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Fits the model to the entries by least squares on `(prefix − base, position)`.
    pub fn train(&mut self, prefixer: &Prefixer<K>) {
        self.writes = 0;
        let n = self.entries.len();
        self.base = self.entries.front().map_or(0, |(k, _)| prefixer.of(k.probe()));
        if n < 2 {
            self.slope = 0.0;
            self.intercept = 0.0;
            return;
        }
        let (mut sx, mut sy, mut sxx, mut sxy) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
        for (i, (k, _)) in self.entries.iter().enumerate() {
            let x = offset(prefixer.of(k.probe()), self.base);
            let y = i as f64;
            sx += x;
            sy += y;
            sxx += x * x;
            sxy += x * y;
        }
        let nf = n as f64;
        let var = sxx - sx * sx / nf;
        if var > 0.0 && var.is_finite() {
            self.slope = (sxy - sx * sy / nf) / var;
            self.intercept = (sy - self.slope * sx) / nf;
        } else {
            // Every prefix ties: predict the middle, search the rest.
            self.slope = 0.0;
            self.intercept = (nf - 1.0) / 2.0;
        }
    }

    /// True when enough writes happened since training that the model should be refit.
    pub fn stale(&self) -> bool {
        self.writes > (self.entries.len() / 4).max(32)
    }

    /// The model's position for `prefix`, clamped to the leaf.
    pub fn predicted(&self, prefix: u64) -> usize {
        let p = self.intercept + self.slope * offset(prefix, self.base);
        let last = self.entries.len().saturating_sub(1);
        if p.is_nan() || p <= 0.0 {
            0
        } else if p >= last as f64 {
            last
        } else {
            p as usize
        }
    }

    /// The position of `probe` (`Ok`) or where it would be inserted (`Err`), searching
    /// exponentially outwards from the model's prediction for `prefix`.
    pub fn find(&self, probe: &K::Probe, prefix: u64) -> Result<usize, usize> {
        let e = &self.entries;
        let n = e.len();
        if n == 0 {
            return Err(0);
        }
        let p = self.predicted(prefix);
        let (lo, hi) = match e[p].0.probe().cmp(probe) {
            std::cmp::Ordering::Equal => return Ok(p),
            std::cmp::Ordering::Less => {
                // e[p] < probe: the answer is in (p, n]; find hi with e[hi] >= probe.
                let (mut lo, mut step) = (p + 1, 1);
                loop {
                    let hi = p + step;
                    if hi >= n {
                        break (lo, n);
                    }
                    if e[hi].0.probe() >= probe {
                        break (lo, hi + 1);
                    }
                    lo = hi + 1;
                    step *= 2;
                }
            }
            std::cmp::Ordering::Greater => {
                // e[p] > probe: the answer is in [0, p]; find lo with e[lo] <= probe.
                let (mut hi, mut step) = (p, 1);
                loop {
                    if step > p {
                        break (0, hi);
                    }
                    let lo = p - step;
                    if e[lo].0.probe() <= probe {
                        break (lo, hi);
                    }
                    hi = lo;
                    step *= 2;
                }
            }
        };
        bisect(e, lo, hi, probe)
    }

    /// Inserts at `pos` (from [`Leaf::find`]), shifting the shorter side, and growing the
    /// allocation by an eighth at a time so that spare capacity stays small (the memory
    /// target).
    pub fn insert_at(&mut self, pos: usize, key: K, value: V) {
        if self.entries.len() == self.entries.capacity() {
            self.entries.reserve_exact((self.entries.len() / 8).max(8));
        }
        self.entries.insert(pos, (key, value));
        self.writes += 1;
    }

    /// Removes the entry at `pos`, giving back memory when the leaf has shrunk a lot.
    /// `pos` must be an entry's position (from [`Leaf::find`]'s `Ok`).
    pub fn remove_at(&mut self, pos: usize) -> Option<(K, V)> {
        let entry = self.entries.remove(pos);
        self.writes += 1;
        let len = self.entries.len();
        if self.entries.capacity() > len + len / 4 + 16 {
            self.entries.shrink_to(len + len / 8);
        }
        entry
    }

    /// Splits off the upper half into a new leaf; both are retrained.
    pub fn split(&mut self, prefixer: &Prefixer<K>) -> Leaf<K, V> {
        let mid = self.entries.len() / 2;
        let mut upper = self.entries.split_off(mid);
        upper.reserve_exact(upper.len() / 8);
        self.entries.shrink_to(mid + mid / 8);
        self.train(prefixer);
        Leaf::new(upper, prefixer)
    }

    /// Bytes this leaf holds beyond its entries: the header and spare capacity.
    pub fn overhead(&self) -> usize {
        std::mem::size_of::<Self>()
            + (self.entries.capacity() - self.entries.len()) * std::mem::size_of::<(K, V)>()
    }
}

/// Binary search of `probe` in `e[lo..hi]`, as `slice::binary_search` answers.
fn bisect<K: LearnedKey, V>(
    e: &VecDeque<(K, V)>,
    mut lo: usize,
    mut hi: usize,
    probe: &K::Probe,
) -> Result<usize, usize> {
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match e[mid].0.probe().cmp(probe) {
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
            std::cmp::Ordering::Equal => return Ok(mid),
        }
    }
    Err(lo)
}

/// `prefix − base` as a float, negative below the base.
fn offset(prefix: u64, base: u64) -> f64 {
    if prefix >= base {
        (prefix - base) as f64
    } else {
        -((base - prefix) as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(keys: &[u64]) -> Leaf<u64, ()> {
        Leaf::new(keys.iter().map(|&k| (k, ())).collect::<Vec<_>>(), &Prefixer::default())
    }

    #[test]
    fn finds_every_key_and_every_gap() {
        let keys: Vec<u64> = (0..500).map(|i| i * i * 7 + 3).collect();
        let l = leaf(&keys);
        for (i, &k) in keys.iter().enumerate() {
            assert_eq!(l.find(&k, k), Ok(i));
            assert_eq!(l.find(&(k + 1), k + 1), Err(i + 1));
        }
        assert_eq!(l.find(&0, 0), Err(0));
        assert_eq!(l.find(&u64::MAX, u64::MAX), Err(keys.len()));
    }

    #[test]
    fn ties_and_a_stale_model_still_find() {
        let mut l = leaf(&[5, 5 + (1 << 40)]);
        for k in 6..300 {
            let Err(pos) = l.find(&k, k) else { panic!("{k} is new") };
            l.insert_at(pos, k, ());
        }
        for k in 6..300 {
            assert_eq!(l.find(&k, k), Ok(k as usize - 5));
        }
    }
}
