//! Keys as the model sees them: a `u64` prefix that never contradicts the key order.
//!
//! The models are linear functions of a number, so every key is mapped to a `u64`
//! *prefix* with one rule: `a < b` implies `prefix(a) <= prefix(b)`. Equal prefixes
//! (ties) are resolved by comparing whole keys, so the index is correct for any key;
//! ties only cost search steps.
//!
//! For byte keys the prefix is 8 bytes, big-endian, zero-padded, taken after the bytes
//! that *every* key in the index shares (`skip`). troupe's key encoding starts with a
//! type tag (`types::order`), so an integer key is `[tag, 8 bytes]`; taking the first 8
//! bytes would drop the integer's low byte and tie every run of 256 consecutive ids.
//! Skipping the shared bytes keeps the full integer in the prefix. A probe that does not
//! share those bytes lies below or above every stored key and maps to `0` or `u64::MAX`,
//! which keeps the rule.
//!
//! ```text
//!   key   = [0x05][80 00 00 00 00 00 01 2c]      (int 300, tag 0x05)
//!   skip  = 1 (all keys start with 0x05)
//!   prefix = 0x8000_0000_0000_012c
//! ```

use std::cmp::Ordering;

/// The most shared bytes the index skips; bounds how often a key outside the shared
/// bytes forces the prefixes to be recomputed (each time `skip` shrinks).
pub const MAX_SKIP: usize = 16;

/// A key the learned index can hold.
pub trait LearnedKey: Ord + Clone {
    /// The borrowed form used to look keys up (`[u8]` for byte keys).
    type Probe: ?Sized + Ord;
    /// This key as a probe.
    fn probe(&self) -> &Self::Probe;
    /// The model prefix of `probe`, skipping `skip` bytes that every stored key shares
    /// with `anchor` (a key that is or was stored).
    fn prefix(probe: &Self::Probe, skip: usize, anchor: Option<&Self>) -> u64;
    /// How many leading bytes `a` and `b` share, at most [`MAX_SKIP`]; `0` for keys
    /// whose prefix is the whole key.
    fn shared(a: &Self::Probe, b: &Self::Probe) -> usize;
}

impl LearnedKey for u64 {
    type Probe = u64;

    fn probe(&self) -> &u64 {
        self
    }

    fn prefix(probe: &u64, _skip: usize, _anchor: Option<&u64>) -> u64 {
        *probe
    }

    fn shared(_a: &u64, _b: &u64) -> usize {
        0
    }
}

impl LearnedKey for Box<[u8]> {
    type Probe = [u8];

    fn probe(&self) -> &[u8] {
        self
    }

    fn prefix(probe: &[u8], skip: usize, anchor: Option<&Box<[u8]>>) -> u64 {
        if skip > 0 {
            let common = anchor.map_or(&[][..], |a| &a[..skip.min(a.len())]);
            let head = &probe[..skip.min(probe.len())];
            match head.cmp(common) {
                Ordering::Less => return 0,
                Ordering::Greater => return u64::MAX,
                Ordering::Equal => {}
            }
        }
        let rest = probe.get(skip..).unwrap_or(&[]);
        let mut bytes = [0u8; 8];
        let n = rest.len().min(8);
        bytes[..n].copy_from_slice(&rest[..n]);
        u64::from_be_bytes(bytes)
    }

    fn shared(a: &[u8], b: &[u8]) -> usize {
        a.iter().zip(b).take(MAX_SKIP).take_while(|(x, y)| x == y).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: &[u8]) -> Box<[u8]> {
        b.into()
    }

    #[test]
    fn skipping_the_tag_keeps_the_whole_integer() {
        let anchor = key(&[5, 0x80, 0, 0, 0, 0, 0, 1, 0x2c]);
        assert_eq!(<Box<[u8]>>::prefix(&anchor, 1, Some(&anchor)), 0x8000_0000_0000_012c);
        assert_eq!(<Box<[u8]>>::prefix(&anchor, 0, Some(&anchor)), 0x0580_0000_0000_0001);
    }

    #[test]
    fn probes_outside_the_shared_bytes_map_to_the_ends() {
        let anchor = key(&[5, 1, 2]);
        assert_eq!(<Box<[u8]>>::prefix(&[4, 9], 1, Some(&anchor)), 0);
        assert_eq!(<Box<[u8]>>::prefix(&[6], 1, Some(&anchor)), u64::MAX);
        assert_eq!(<Box<[u8]>>::prefix(&[], 1, Some(&anchor)), 0);
        assert_eq!(<Box<[u8]>>::prefix(&[5], 1, Some(&anchor)), 0);
    }

    #[test]
    fn shared_is_bounded() {
        let long = [7u8; 40];
        assert_eq!(<Box<[u8]>>::shared(&long, &long), MAX_SKIP);
        assert_eq!(<Box<[u8]>>::shared(&[1, 2, 3], &[1, 2, 4]), 2);
    }
}
