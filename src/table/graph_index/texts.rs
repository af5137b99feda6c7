//! Texts by the million: sorting them, numbering them, and looking up runs of one key once.
//! All work around the cost of a cache miss per text, which at millions of texts is the
//! build's.

use crate::pages::{prefetch, slots_for, zeroed_slots};
use rayon::iter::{
    IndexedParallelIterator, IntoParallelRefIterator, IntoParallelRefMutIterator, ParallelIterator,
};
use rayon::slice::ParallelSliceMut;

/// Sorts `items` by their texts, which are distinct (so the one order needs no stable sort),
/// on every core.
///
/// Compared through their numbers, every comparison of two texts is two cache misses in
/// tables of millions. Instead each item is sorted with the 16 bytes of its text after the
/// prefix all texts share (URNs of one scheme share a long one), zero-padded, compared as one
/// number; only equal keys compare the texts. A zero-padded key never orders two texts
/// against their order: where two keys first differ, either both texts have bytes there, or
/// the shorter text has ended (its padding, 0, is below any byte the longer one has there).
pub(crate) fn sort_by_text<'a>(items: &mut [u32], text: impl Fn(u32) -> &'a str + Sync) {
    let Some(&first) = items.first() else {
        return;
    };
    let first = text(first).as_bytes();
    let shared = items.iter().fold(first.len(), |shared, &i| {
        let t = text(i).as_bytes();
        shared.min(
            first[..shared]
                .iter()
                .zip(t)
                .take_while(|(a, b)| a == b)
                .count(),
        )
    });
    let key = |i: u32| {
        let mut k = [0u8; 16];
        let rest = &text(i).as_bytes()[shared..];
        let n = rest.len().min(16);
        k[..n].copy_from_slice(&rest[..n]);
        k
    };
    let mut keyed: Vec<([u8; 16], u32)> = items.par_iter().map(|&i| (key(i), i)).collect();
    keyed.par_sort_unstable_by(|a, b| {
        u128::from_be_bytes(a.0)
            .cmp(&u128::from_be_bytes(b.0))
            .then_with(|| text(a.1).cmp(text(b.1)))
    });
    items
        .par_iter_mut()
        .zip(keyed.par_iter())
        .for_each(|(item, k)| *item = k.1);
}

/// The last key looked up and what it gave: a run of rows naming the same key looks it up
/// once.
pub(crate) struct Repeated<'a, T> {
    last: Option<(&'a str, T)>,
}

impl<T> Default for Repeated<'_, T> {
    fn default() -> Self {
        Repeated { last: None }
    }
}

impl<'a, T: Copy> Repeated<'a, T> {
    pub(crate) fn get(&mut self, key: &'a str, look_up: impl FnOnce(&'a str) -> T) -> T {
        match self.last {
            Some((last, value)) if last == key => value,
            _ => {
                let value = look_up(key);
                self.last = Some((key, value));
                value
            }
        }
    }
}

/// Texts numbered in order of first sight, kept one after the other in one buffer, found
/// through an open-addressing table whose slots hold where each text is, its length and 16
/// bits of its hash.
///
/// A hash map of boxed strings costs two dependent cache misses per lookup in a table of
/// millions (its slot, then the string behind the box): the BOM's millions of rows, looked up
/// one after the other, were a third of the graph index's time. [`Interner::get_many`] looks
/// up a group of texts at a time, asking the memory for every slot of the group, then for
/// every text the slots point at, before comparing any: the misses overlap.
pub(crate) struct Interner {
    /// Every text, one after the other, in number order.
    bytes: Vec<u8>,
    /// Where each text ends in `bytes`, by number.
    ends: Vec<usize>,
    /// `[start << 16 | tag, length << 32 | number + 1]`; `[0, 0]` is empty. The tag is the
    /// hash's top 16 bits; a length of `u32::MAX` or more is written as `u32::MAX`.
    slots: Vec<[u64; 2]>,
    hasher: ahash::RandomState,
}

/// Texts looked up together by [`Interner::get_many`]: enough to keep the memory busy, few
/// enough that their slots stay in the cache until they are read.
const GROUP: usize = 16;

impl Default for Interner {
    fn default() -> Interner {
        Interner::with_capacity(0)
    }
}

impl Interner {
    /// Room for `n` texts before the table grows.
    pub(crate) fn with_capacity(n: usize) -> Interner {
        Interner {
            bytes: Vec::new(),
            ends: Vec::with_capacity(n),
            slots: zeroed_slots(slots_for(n)),
            hasher: ahash::RandomState::new(),
        }
    }

    /// Room for `n` more texts before the table grows.
    pub(crate) fn reserve(&mut self, n: usize) {
        let want = slots_for(self.len().saturating_add(n));
        self.ends.reserve(n);
        if want > self.slots.len() {
            self.grow_to(want);
        }
    }

    /// Room for `bytes` more bytes of text.
    pub(crate) fn reserve_text(&mut self, bytes: usize) {
        self.bytes.reserve(bytes);
    }

    /// Whether `s` has a number.
    pub(crate) fn contains(&self, s: &str) -> bool {
        self.get(s).is_some()
    }

    /// Number of texts.
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// Where text number `i` is in `bytes`.
    fn span(&self, i: u32) -> std::ops::Range<usize> {
        let i = i as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        start..self.ends[i]
    }

    /// Text `i` as bytes (not checked again as UTF-8, as [`Interner::text`] is).
    pub(crate) fn bytes_of(&self, i: u32) -> &[u8] {
        &self.bytes[self.span(i)]
    }

    /// Text number `i`.
    pub(crate) fn text(&self, i: u32) -> &str {
        // Every text was appended whole from a `&str`.
        std::str::from_utf8(&self.bytes[self.span(i)]).unwrap_or_default()
    }

    /// The hash of a text's bytes (the table is rebuilt from the bytes alone).
    fn hash(&self, s: &[u8]) -> u64 {
        self.hasher.hash_one(s)
    }

    /// The slot of text `number`, `len` bytes at `start`, with hash `h`.
    fn slot(start: usize, len: usize, h: u64, number: u32) -> [u64; 2] {
        [
            (start as u64) << 16 | h >> 48,
            (len.min(u32::MAX as usize) as u64) << 32 | u64::from(number.wrapping_add(1)),
        ]
    }

    /// Whether `slot` holds `s` (hash `h`).
    #[inline]
    fn holds(&self, [at, rest]: [u64; 2], s: &str, h: u64) -> bool {
        if at & 0xFFFF != h >> 48 || (rest >> 32) as usize != s.len().min(u32::MAX as usize) {
            return false;
        }
        let start = (at >> 16) as usize;
        let end = start.saturating_add(s.len());
        let number = (rest as u32).wrapping_sub(1) as usize;
        // A length written as u32::MAX is checked against the text's own end.
        self.bytes.get(start..end) == Some(s.as_bytes())
            && (s.len() < u32::MAX as usize || self.ends.get(number) == Some(&end))
    }

    /// The slot index where the probe for hash `h` starts.
    #[inline]
    fn home(&self, h: u64) -> usize {
        h as usize & (self.slots.len() - 1)
    }

    /// The number of `s` (hash `h`), or the empty slot where it would go.
    fn find(&self, s: &str, h: u64) -> Result<u32, usize> {
        let mask = self.slots.len() - 1;
        let mut i = self.home(h);
        loop {
            let slot = self.slots[i];
            if slot[1] == 0 {
                return Err(i);
            }
            if self.holds(slot, s, h) {
                return Ok((slot[1] as u32).wrapping_sub(1));
            }
            i = (i + 1) & mask;
        }
    }

    /// The number of `s`, when it has one.
    pub(crate) fn get(&self, s: &str) -> Option<u32> {
        self.find(s, self.hash(s.as_bytes())).ok()
    }

    /// The number of `s`, numbering it if it has none.
    pub(crate) fn id(&mut self, s: &str) -> u32 {
        let h = self.hash(s.as_bytes());
        self.id_hashed(s, h)
    }

    /// The numbers of `texts(0)`, `texts(1)`, … `texts(n - 1)`, in order, each numbered if it
    /// had none (as [`Interner::id`] one at a time), handed to `number`; the slot of each is
    /// asked for [`GROUP`] texts before it is looked up, so that the misses of a run of new
    /// texts overlap.
    pub(crate) fn id_each<'t>(
        &mut self,
        n: usize,
        texts: impl Fn(usize) -> &'t str,
        mut number: impl FnMut(u32),
    ) {
        // The hashes of the next `GROUP` texts, text `k`'s at `k % GROUP`.
        let mut ahead = [0u64; GROUP];
        for (k, h) in ahead.iter_mut().enumerate().take(n) {
            *h = self.hash(texts(k).as_bytes());
            prefetch(&self.slots[self.home(*h)]);
        }
        for k in 0..n {
            let h = ahead[k % GROUP];
            if k + GROUP < n {
                let next = self.hash(texts(k + GROUP).as_bytes());
                ahead[k % GROUP] = next;
                prefetch(&self.slots[self.home(next)]);
            }
            number(self.id_hashed(texts(k), h));
        }
    }

    /// [`Interner::id`] of `s`, whose hash is `h`.
    fn id_hashed(&mut self, s: &str, h: u64) -> u32 {
        let empty = match self.find(s, h) {
            Ok(i) => return i,
            Err(empty) => empty,
        };
        let number = self.ends.len() as u32;
        let start = self.bytes.len();
        self.bytes.extend_from_slice(s.as_bytes());
        self.ends.push(self.bytes.len());
        let slot = Self::slot(start, s.len(), h, number);
        if self.ends.len().saturating_mul(4) > self.slots.len().saturating_mul(3) {
            self.grow_to(slots_for(self.ends.len()));
        } else {
            self.slots[empty] = slot;
        }
        number
    }

    /// A table of `slots` slots (a power of two), every text placed again.
    fn grow_to(&mut self, slots: usize) {
        self.slots = zeroed_slots(slots);
        let mask = self.slots.len() - 1;
        for i in 0..self.ends.len() as u32 {
            let span = self.span(i);
            let h = self.hash(&self.bytes[span.clone()]);
            let slot = Self::slot(span.start, span.len(), h, i);
            let mut at = self.home(h);
            while self.slots[at][1] != 0 {
                at = (at + 1) & mask;
            }
            self.slots[at] = slot;
        }
    }

    /// The numbers of `texts(0)`, `texts(1)`, … `texts(n - 1)`, a group at a time, each
    /// handed to `found` with its index (`None`: the text has none).
    pub(crate) fn get_many<'t>(
        &self,
        n: usize,
        texts: impl Fn(usize) -> &'t str,
        mut found: impl FnMut(usize, Option<u32>),
    ) {
        let mut hashes = [0u64; GROUP];
        for from in (0..n).step_by(GROUP) {
            let to = (from + GROUP).min(n);
            for (k, h) in (from..to).zip(&mut hashes) {
                *h = self.hash(texts(k).as_bytes());
                prefetch(&self.slots[self.home(*h)]);
            }
            for h in &hashes[..to - from] {
                let at = self.slots[self.home(*h)][0] >> 16;
                prefetch(self.bytes.as_ptr().wrapping_add(at as usize));
            }
            for (k, h) in (from..to).zip(&hashes) {
                found(k, self.find(texts(k), *h).ok());
            }
        }
    }

    /// The texts, by number.
    pub(crate) fn texts(&self) -> impl ExactSizeIterator<Item = &str> {
        (0..self.len() as u32).map(|i| self.text(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_sort_as_strings_do_past_a_shared_prefix_and_16_bytes() {
        let texts = |list: &[&str]| {
            let mut items: Vec<u32> = (0..list.len() as u32).collect();
            sort_by_text(&mut items, |i| list[i as usize]);
            let got: Vec<&str> = items.iter().map(|&i| list[i as usize]).collect();
            let mut want = list.to_vec();
            want.sort();
            assert_eq!(got, want);
        };
        // A prefix longer than the key; texts that are prefixes of others; equal keys (the
        // first 16 bytes after the prefix) told apart by the bytes after them; a NUL byte,
        // which equals the key's padding.
        texts(&[
            "urn:mieruka:gen:7:10",
            "urn:mieruka:gen:7:1",
            "urn:mieruka:gen:7:",
            "urn:mieruka:gen:7:0123456789abcdefB",
            "urn:mieruka:gen:7:0123456789abcdefA",
            "urn:mieruka:gen:7:0123456789abcdef",
            "urn:mieruka:gen:7:1\0",
            "urn:mieruka:gen:7:1\0\0",
        ]);
        texts(&["b", "a", ""]);
        texts(&["only"]);
        texts(&[]);
    }

    proptest::proptest! {
        #[test]
        fn texts_sort_as_strings_do(
            set in proptest::collection::btree_set("(ab|a|\\x00|é){0,12}", 0..64),
            prefix in "(urn:x:)?",
        ) {
            let list: Vec<String> = set.iter().rev().map(|s| format!("{prefix}{s}")).collect();
            let mut items: Vec<u32> = (0..list.len() as u32).collect();
            sort_by_text(&mut items, |i| list[i as usize].as_str());
            let mut want = list.clone();
            want.sort();
            let got: Vec<String> = items.iter().map(|&i| list[i as usize].clone()).collect();
            proptest::prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn texts_are_numbered_in_order_of_first_sight_and_found_one_or_many_at_a_time() {
        // Past the first capacity (the table grows, every text placed again); texts that are
        // prefixes of others, the empty text, one text twice.
        let mut interner = Interner::with_capacity(2);
        let texts: Vec<String> = (0..100)
            .map(|i| format!("urn:x:{}", "é".repeat(i % 7) + &i.to_string()))
            .chain(["".into(), "urn:x:".into(), "urn:x:7".into()])
            .collect();
        let numbers: Vec<u32> = texts.iter().map(|t| interner.id(t)).collect();
        // "urn:x:7" came first as the eighth text (i = 7, no é).
        assert_eq!(numbers[..3], [0, 1, 2]);
        assert_eq!(numbers[102], 7);
        assert_eq!(interner.len(), 102);
        for (t, &n) in texts.iter().zip(&numbers) {
            assert_eq!(interner.get(t), Some(n));
            assert_eq!(interner.text(n), t);
        }
        let all: Vec<&str> = interner.texts().collect();
        assert_eq!(all.len(), 102);
        assert_eq!(all[100], "");
        // Looked up in groups, some never numbered, over a group's edge (16).
        let asked: Vec<String> = texts
            .iter()
            .cloned()
            .chain(["urn:y:1".into(), "urn:x:1é".into(), "urn:x".into()])
            .collect();
        let mut got = vec![None; asked.len()];
        interner.get_many(asked.len(), |k| asked[k].as_str(), |k, n| got[k] = n);
        let want: Vec<Option<u32>> = asked.iter().map(|t| interner.get(t)).collect();
        assert_eq!(got, want);
        assert_eq!(got[103..], [None, None, None]);
    }

    proptest::proptest! {
        #[test]
        fn an_interner_numbers_as_a_map_does(list in proptest::collection::vec("(a|b|é){0,6}", 0..200)) {
            let mut interner = Interner::with_capacity(0);
            let mut map = std::collections::HashMap::new();
            for t in &list {
                let n = map.len() as u32;
                let want = *map.entry(t.clone()).or_insert(n);
                proptest::prop_assert_eq!(interner.id(t), want);
            }
            for t in &list {
                proptest::prop_assert_eq!(interner.get(t), map.get(t).copied());
            }
            // The same numbers a run at a time (the table growing inside the run).
            let mut each = Interner::with_capacity(0);
            let mut numbers = Vec::new();
            each.id_each(list.len(), |k| list[k].as_str(), |n| numbers.push(n));
            let want: Vec<u32> = list.iter().map(|t| map[t]).collect();
            proptest::prop_assert_eq!(numbers, want);
        }
    }

    #[test]
    fn a_run_of_one_key_is_looked_up_once() {
        let mut looked_up = Vec::new();
        let mut last = Repeated::default();
        for key in ["a", "a", "b", "b", "a"] {
            let value = last.get(key, |k| {
                looked_up.push(k);
                k.len()
            });
            assert_eq!(value, 1);
        }
        assert_eq!(looked_up, ["a", "b", "a"]);
    }
}
