//! Objects and lists of a footprint, with the members and items given more than once.

use std::collections::HashSet;

use serde_json::value::RawValue;

use super::read;
use crate::ingest::json::{Checker, Entries, Ptr, pointer};

/// Reads an object, reporting a wrong type or a duplicated property.
pub(crate) fn object<'a>(c: &mut Checker, raw: &'a RawValue, ptr: &Ptr) -> Option<Entries<'a>> {
    match c.object(raw) {
        Ok(entries) => check_duplicates(c, entries, ptr),
        Err(message) => {
            c.error(Some(raw), ptr.get(), message);
            None
        }
    }
}

/// The most members [`check_duplicates`] compares pairwise (larger objects are sorted), and
/// the most items [`list`] does (longer lists go through a set).
const PAIRS_UP_TO: usize = 64;

/// Reports a property given more than once (JSON allows it; PACT's schemas cannot mean it).
pub(in crate::ingest) fn check_duplicates<'a>(
    c: &mut Checker,
    entries: Entries<'a>,
    ptr: &Ptr,
) -> Option<Entries<'a>> {
    let keys = &entries.0;
    // Objects of PACT have a few dozen members at most (`pcf` about 45): comparing pairs
    // beats sorting. Only keys of one fingerprint can be equal, so a key is compared only
    // with those before it of its fingerprint, and only when a bit of 256 says one came.
    // (A bit per length modulo 64 let `pcf`'s many keys of one length be compared byte by
    // byte: 2 % of an ingest's CPU.) Larger objects are sorted.
    let repeated: Option<&str> = if keys.len() <= PAIRS_UP_TO {
        let mut seen = [0_u64; 4];
        let mut prints = [0_u8; PAIRS_UP_TO];
        keys.iter().enumerate().find_map(|(i, (k, _))| {
            let print = fingerprint(k);
            let (word, bit) = (usize::from(print / 64), 1_u64 << (print % 64));
            let repeat =
                seen[word] & bit != 0 && (0..i).any(|j| prints[j] == print && keys[j].0 == *k);
            seen[word] |= bit;
            prints[i] = print;
            repeat.then_some(k.as_ref())
        })
    } else {
        let mut sorted: Vec<&str> = keys.iter().map(|(k, _)| k.as_ref()).collect();
        sorted.sort_unstable();
        sorted.windows(2).find(|w| w[0] == w[1]).map(|w| w[0])
    };
    if let Some(key) = repeated {
        let key = key.to_owned();
        let at = entries.0.iter().rev().find(|(k, _)| *k == key).map(|e| e.1);
        c.error(
            at,
            pointer(ptr, &key),
            format!("property {key:?} is given more than once"),
        );
        return None;
    }
    Some(entries)
}

/// A byte of `key`'s length and its first, middle and last bytes: equal keys have equal
/// fingerprints, and the keys of one PACT object rarely share one.
fn fingerprint(key: &str) -> u8 {
    let b = key.as_bytes();
    let Some((&first, &last)) = b.first().zip(b.last()) else {
        return 0;
    };
    let mixed = (b.len() as u32)
        ^ u32::from(first) << 8
        ^ u32::from(b[b.len() / 2]) << 16
        ^ u32::from(last) << 24;
    (mixed.wrapping_mul(0x9e37_79b1) >> 24) as u8
}

/// Reads an array, applying `item` to each element with its own pointer. Checks `minItems: 1`
/// and `uniqueItems` on the raw text of the elements.
pub(in crate::ingest) fn list<'a, T>(
    c: &mut Checker,
    ptr: &Ptr,
    key: &str,
    raw: &'a RawValue,
    min_one: bool,
    mut item: impl FnMut(&mut Checker, &Ptr, &'a RawValue) -> Option<T>,
) -> Option<Vec<T>> {
    let tape = c.tape();
    let elems = read(c, ptr, key, raw, |r| crate::ingest::tape::array(tape, r))?;
    if min_one && elems.is_empty() {
        c.error(
            Some(raw),
            pointer(ptr, key),
            "must contain at least one item",
        );
        return None;
    }
    let errors_before = c.errors.len();
    let mut out = Vec::with_capacity(elems.len());
    let items = ptr.key(key);
    // Pairwise, one footprint with 300,000 product ids took 77 s.
    let mut seen: Option<HashSet<&str, ahash::RandomState>> = (elems.len() > PAIRS_UP_TO)
        .then(|| HashSet::with_capacity_and_hasher(elems.len(), ahash::RandomState::new()));
    for (index, e) in elems.iter().enumerate() {
        let p = items.index(index);
        let repeated = match &mut seen {
            Some(set) => !set.insert(e.get()),
            None => elems[..index].iter().any(|prev| prev.get() == e.get()),
        };
        if repeated {
            c.error(Some(e), p.get(), "duplicate item (items must be unique)");
            continue;
        }
        if let Some(v) = item(c, &p, e) {
            out.push(v);
        }
    }
    crate::ingest::recycle::give_elements(elems);
    (c.errors.len() == errors_before).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_member_is_found_in_small_and_large_objects() {
        // Both ways of looking (pairs up to 64 members, sorting above) at the boundary.
        assert_eq!(PAIRS_UP_TO, 64);
        for n in [2, 31, 63, 64, 65, 80] {
            let members = |repeat: bool| {
                let mut m: Vec<String> = (0..n).map(|i| format!("\"k{i}\":{i}")).collect();
                if repeat {
                    m[n - 1] = format!("\"k{}\":0", (n - 1) / 2);
                }
                format!("{{{}}}", m.join(","))
            };
            for repeat in [false, true] {
                let text = members(repeat);
                let mut c = Checker::new(&text);
                let entries: Entries = serde_json::from_str(&text).unwrap();
                let kept = check_duplicates(&mut c, entries, &Ptr::ROOT.key("x"));
                assert_eq!(kept.is_none(), repeat, "{n} members: {text}");
                if repeat {
                    assert_eq!(c.errors[0].pointer, format!("/x/k{}", (n - 1) / 2));
                    // The error points at the last occurrence.
                    assert_eq!(c.errors[0].offset, text.rfind(":0").map(|at| at + 1));
                }
            }
        }
        // Lengths 1 and 65 share a bit (modulo 64) and differ; a key of 70 bytes repeats.
        let long = "y".repeat(70);
        let text = format!(
            r#"{{"k":1,"k{x}":2,"{long}":3,"z":4,"{long}":5}}"#,
            x = "x".repeat(64)
        );
        let mut c = Checker::new(&text);
        let kept = check_duplicates(&mut c, serde_json::from_str(&text).unwrap(), &Ptr::ROOT);
        assert!(kept.is_none());
        assert_eq!(c.errors[0].pointer, format!("/{long}"));
        let text = format!(r#"{{"k":1,"k{x}":2}}"#, x = "x".repeat(64));
        let mut c = Checker::new(&text);
        assert!(
            check_duplicates(&mut c, serde_json::from_str(&text).unwrap(), &Ptr::ROOT).is_some()
        );
        // Two different keys of one fingerprint are not a repetition; either repeated is.
        let key = |i: usize| format!("a{i}b");
        let (a, b) = (0..)
            .flat_map(|i| (0..i).map(move |j| (key(j), key(i))))
            .find(|(a, b)| fingerprint(a) == fingerprint(b))
            .unwrap();
        for (text, repeated) in [
            (format!(r#"{{"{a}":1,"z":2,"{b}":3}}"#), None),
            (format!(r#"{{"{a}":1,"{b}":2,"{b}":3}}"#), Some(&b)),
            (format!(r#"{{"{a}":1,"{b}":2,"{a}":3}}"#), Some(&a)),
        ] {
            let mut c = Checker::new(&text);
            let kept = check_duplicates(&mut c, serde_json::from_str(&text).unwrap(), &Ptr::ROOT);
            assert_eq!(kept.is_none(), repeated.is_some(), "{text}");
            if let Some(key) = repeated {
                assert_eq!(c.errors[0].pointer, format!("/{key}"));
            }
        }
    }

    #[test]
    fn a_repeated_item_is_found_in_short_and_long_lists() {
        // Pairwise up to 64 items, through a set above: the same items are reported, each
        // repetition after the first, at its own index.
        for n in [2, 64, 65, 300] {
            for repeat in [false, true] {
                let mut items: Vec<String> = (0..n).map(|i| format!("\"urn:x:{i}\"")).collect();
                if repeat {
                    items[n - 1] = items[0].clone();
                }
                let text = format!("[{}]", items.join(","));
                let raw: &RawValue = serde_json::from_str(&text).unwrap();
                let mut c = Checker::new(&text);
                let read = list(&mut c, &Ptr::ROOT, "ids", raw, true, |_, _, e| {
                    Some(e.get().to_owned())
                });
                assert_eq!(read.is_none(), repeat, "{n} items");
                let pointers: Vec<&str> = c.errors.iter().map(|e| e.pointer.as_str()).collect();
                let expected = format!("/ids/{}", n - 1);
                assert_eq!(
                    pointers,
                    if repeat {
                        vec![expected.as_str()]
                    } else {
                        vec![]
                    }
                );
            }
        }
    }
}
