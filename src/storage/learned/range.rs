//! Ordered iteration over a key range, from either end.
//!
//! A cursor is `(leaf, position)`. The front cursor points at the next entry to yield,
//! the back cursor just past the last one; `(l, len(l))` and `(l + 1, 0)` are the same
//! place, so both are normalised (front forwards past a leaf's end, back backwards past
//! a leaf's start) before they are compared. The range is empty once the front is not
//! before the back, which also makes an inverted range (`lo > hi`) simply empty.

use super::leaf::Leaf;

/// Entries of a [`super::LearnedIndex`] in a key range, in key order; double-ended.
#[derive(Debug)]
pub struct Range<'a, K, V> {
    leaves: &'a [Leaf<K, V>],
    front: (usize, usize),
    back: (usize, usize),
}

impl<'a, K, V> Range<'a, K, V> {
    pub(super) fn new(
        leaves: &'a [Leaf<K, V>],
        front: (usize, usize),
        back: (usize, usize),
    ) -> Range<'a, K, V> {
        Range { leaves, front, back }
    }

    fn normalise(&mut self) {
        while self.front.0 + 1 < self.leaves.len()
            && self.front.1 >= self.leaves[self.front.0].entries.len()
        {
            self.front = (self.front.0 + 1, 0);
        }
        while self.back.0 > 0 && self.back.1 == 0 {
            self.back = (self.back.0 - 1, self.leaves[self.back.0 - 1].entries.len());
        }
    }

    fn is_empty(&self) -> bool {
        self.front.0 > self.back.0 || (self.front.0 == self.back.0 && self.front.1 >= self.back.1)
    }
}

impl<'a, K: Ord, V> Iterator for Range<'a, K, V> {
    type Item = (&'a K, &'a V);

    fn next(&mut self) -> Option<Self::Item> {
        self.normalise();
        if self.is_empty() {
            return None;
        }
        let (k, v) = self.leaves.get(self.front.0)?.entries.get(self.front.1)?;
        self.front.1 += 1;
        Some((k, v))
    }
}

impl<K: Ord, V> DoubleEndedIterator for Range<'_, K, V> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.normalise();
        if self.is_empty() {
            return None;
        }
        self.back.1 -= 1;
        let (k, v) = self.leaves.get(self.back.0)?.entries.get(self.back.1)?;
        Some((k, v))
    }
}
