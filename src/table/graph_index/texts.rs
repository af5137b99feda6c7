//! Texts by the million: sorting them, and looking up runs of one key once. Both work
//! around the cost of a cache miss per text, which at millions of texts is the build's.

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
pub(super) fn sort_by_text<'a>(items: &mut [u32], text: impl Fn(u32) -> &'a str + Sync) {
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
