//! The first document of each footprint id and version in an ingest: what a later document
//! of the same id and version is compared with.
//!
//! A hash map from keys to spans held 48 bytes an entry at a random place (96 MB for a
//! million footprints, in small pages): each new footprint wrote a cache line and a page
//! that nothing near it had touched, 3–4 % of a million-footprint ingest's CPU on the one
//! thread that decides in order. Here the entries are appended in order, where writing them
//! costs what a vector's push does, and the table holds 8 bytes a slot: 32 bits of the
//! key's hash and the entry's number, 16 MB for a million. A new key (nearly every one) is
//! told apart by its slots alone; a group of keys is asked for ahead of its lookups
//! ([`Seen::look_ahead`]), so that their misses overlap.

use super::checked::IdKey;
use crate::pages::{prefetch, slots_for, zeroed_slots};
use crate::table::DocumentSpan;

/// How many keys ahead of its lookup a key's slot is asked for.
const AHEAD: usize = 8;

/// First documents by key.
pub(super) struct Seen {
    /// Each key with its first document, in order of first sight.
    entries: Vec<(IdKey, DocumentSpan)>,
    /// `tag << 32 | number + 1` (the tag: the hash's top 32 bits); 0 is empty. A power of
    /// two long, at most three quarters full.
    slots: Vec<u64>,
    hasher: ahash::RandomState,
}

impl Default for Seen {
    fn default() -> Seen {
        Seen {
            entries: Vec::new(),
            slots: zeroed_slots(slots_for(0)),
            hasher: ahash::RandomState::new(),
        }
    }
}

impl Seen {
    /// Room for `n` more keys before the table grows.
    pub(super) fn reserve(&mut self, n: usize) {
        self.entries.reserve(n);
        let want = slots_for(self.entries.len().saturating_add(n));
        if want > self.slots.len() {
            self.grow_to(want);
        }
    }

    /// The hash of `key`.
    pub(super) fn hash(&self, key: &IdKey) -> u64 {
        self.hasher.hash_one(key)
    }

    /// The hashes of `keys` (0 for none), the slots of the first [`AHEAD`] asked for.
    pub(super) fn hashes<'k>(&self, keys: impl Iterator<Item = Option<&'k IdKey>>) -> Vec<u64> {
        let hashes: Vec<u64> = keys.map(|k| k.map_or(0, |k| self.hash(k))).collect();
        for &h in hashes.iter().take(AHEAD) {
            self.ask_for(h);
        }
        hashes
    }

    /// Asks for the slot of key `k + AHEAD` of `hashes` (from [`Seen::hashes`]), before key
    /// `k` is looked up.
    pub(super) fn look_ahead(&self, hashes: &[u64], k: usize) {
        if let Some(&h) = hashes.get(k + AHEAD) {
            self.ask_for(h);
        }
    }

    /// Asks the memory for the slot where the probe for hash `h` starts, without waiting.
    fn ask_for(&self, h: u64) {
        prefetch(&self.slots[self.home(h)]);
    }

    #[inline]
    fn home(&self, h: u64) -> usize {
        h as usize & (self.slots.len() - 1)
    }

    /// The first document of `key` (hash `h`, from [`Seen::hash`]); when there is none,
    /// `document` becomes it, and is returned.
    pub(super) fn first(&mut self, key: IdKey, h: u64, document: DocumentSpan) -> DocumentSpan {
        let mask = self.slots.len() - 1;
        let tag = h >> 32;
        let mut i = self.home(h);
        loop {
            let slot = self.slots[i];
            if slot == 0 {
                break;
            }
            if slot >> 32 == tag {
                let (k, span) = self.entries[(slot as u32 - 1) as usize];
                if k == key {
                    return span;
                }
            }
            i = (i + 1) & mask;
        }
        let number = self.entries.len() as u64;
        self.entries.push((key, document));
        if self.entries.len().saturating_mul(4) > self.slots.len().saturating_mul(3) {
            self.grow_to(slots_for(self.entries.len()));
        } else {
            self.slots[i] = tag << 32 | (number + 1);
        }
        document
    }

    /// A table of `slots` slots (a power of two), every entry placed again.
    fn grow_to(&mut self, slots: usize) {
        self.slots = zeroed_slots(slots);
        let mask = slots - 1;
        for (number, (key, _)) in self.entries.iter().enumerate() {
            let h = self.hasher.hash_one(key);
            let mut at = h as usize & mask;
            while self.slots[at] != 0 {
                at = (at + 1) & mask;
            }
            self.slots[at] = (h >> 32) << 32 | (number as u64 + 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn span(offset: u64) -> DocumentSpan {
        DocumentSpan {
            original: 0,
            offset,
            length: 1,
        }
    }

    proptest! {
        /// Whatever the keys, their order and the growth of the table, a key's first document
        /// is the one a map entered first would give.
        #[test]
        fn the_first_document_of_a_key_is_the_one_a_map_gives(
            keys in proptest::collection::vec((0u64..6, 0u64..3, proptest::option::of(0i32..3)), 0..300),
            reserve in 0usize..40,
        ) {
            let mut seen = Seen::default();
            seen.reserve(reserve);
            let mut map = std::collections::HashMap::new();
            let keys: Vec<IdKey> = keys
                .iter()
                .map(|&(hi, lo, version)| IdKey::from_parts([hi, lo], version))
                .collect();
            let hashes = seen.hashes(keys.iter().map(Some));
            for (n, &key) in keys.iter().enumerate() {
                seen.look_ahead(&hashes, n);
                let want = *map.entry(key).or_insert(span(n as u64));
                prop_assert_eq!(seen.first(key, hashes[n], span(n as u64)), want);
            }
        }
    }

    #[test]
    fn keys_equal_in_their_bits_but_not_their_version_are_apart() {
        let mut seen = Seen::default();
        let (a, b) = (
            IdKey::from_parts([1, 2], None),
            IdKey::from_parts([1, 2], Some(1)),
        );
        let (ha, hb) = (seen.hash(&a), seen.hash(&b));
        assert_eq!(seen.first(a, ha, span(10)).offset, 10);
        assert_eq!(seen.first(b, hb, span(20)).offset, 20);
        assert_eq!(seen.first(a, ha, span(30)).offset, 10);
        assert_eq!(seen.first(b, hb, span(40)).offset, 20);
    }
}
