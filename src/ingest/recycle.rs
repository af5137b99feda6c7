//! Vectors a check reuses from one document to the next: the members of each object and the
//! elements of each array it reads, some eighteen a footprint. Allocated afresh and freed at
//! the end of each object, they were half of a check's allocations (callgrind over 10k
//! footprints: 37 allocations a footprint).
//!
//! Each thread keeps its own few vectors, empty. A vector given back is emptied and its
//! lifetime forgotten (an empty vector borrows nothing); one taken gets the caller's.

use std::borrow::Cow;
use std::cell::RefCell;
use std::thread::LocalKey;

use serde_json::value::RawValue;

/// An object's members, as [`super::json::Entries`] holds them.
pub(super) type Members<'a> = Vec<(Cow<'a, str>, &'a RawValue)>;

/// Most vectors a thread keeps of each kind: more than a document has open at once.
const KEEP: usize = 32;

/// Largest capacity kept: an object or array of thousands (a footprint listing every
/// product id of a catalogue) is not held for the rest of the ingest.
const MOST: usize = 1024;

thread_local! {
    static MEMBERS: RefCell<Vec<Members<'static>>> = const { RefCell::new(Vec::new()) };
    static ELEMENTS: RefCell<Vec<Vec<&'static RawValue>>> = const { RefCell::new(Vec::new()) };
}

/// An empty vector with room for `n` members.
pub(super) fn members<'a>(n: usize) -> Members<'a> {
    take(&MEMBERS, n)
}

/// An empty vector with room for `n` array elements.
pub(super) fn elements<'a>(n: usize) -> Vec<&'a RawValue> {
    take(&ELEMENTS, n)
}

/// Gives `v` back, for another object's members.
pub(super) fn give_members(mut v: Members<'_>) {
    v.clear();
    // Collected from its own iterator into a type of the same layout, a vector keeps its
    // buffer (the standard library's in-place collection); empty, it yields nothing.
    let v: Members<'static> = v
        .into_iter()
        .map(|_| -> (Cow<'static, str>, &'static RawValue) { unreachable!("emptied") })
        .collect();
    give(&MEMBERS, v);
}

/// Gives `v` back, for another array's elements.
pub(super) fn give_elements(mut v: Vec<&RawValue>) {
    v.clear();
    let v: Vec<&'static RawValue> = v
        .into_iter()
        .map(|_| -> &'static RawValue { unreachable!("emptied") })
        .collect();
    give(&ELEMENTS, v);
}

// The pools are reached with `try_with` and `try_borrow_mut`: a pool that is gone (its
// thread ending) or in use is passed by, never a panic; the vector is then new, or freed.

fn take<T>(pool: &'static LocalKey<RefCell<Vec<Vec<T>>>>, n: usize) -> Vec<T> {
    let kept = pool.try_with(|p| p.try_borrow_mut().ok().and_then(|mut p| p.pop()));
    match kept {
        Ok(Some(mut v)) => {
            v.reserve(n);
            v
        }
        _ => Vec::with_capacity(n),
    }
}

fn give<T>(pool: &'static LocalKey<RefCell<Vec<Vec<T>>>>, v: Vec<T>) {
    if v.capacity() == 0 || v.capacity() > MOST {
        return;
    }
    let _ = pool.try_with(|p| {
        if let Ok(mut kept) = p.try_borrow_mut()
            && kept.len() < KEEP
        {
            kept.push(v);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vector_given_back_is_taken_again_with_its_buffer() {
        let text = r#"{"a":1}"#.to_owned();
        let raw: &RawValue = serde_json::from_str(&text).unwrap();
        let mut v = elements(4);
        v.push(raw);
        let (at, room) = (v.as_ptr(), v.capacity());
        give_elements(v);
        let again = elements(2);
        assert_eq!((again.as_ptr(), again.capacity()), (at, room));
        assert!(again.is_empty());

        let mut m = members(3);
        let owned = String::from("k");
        m.push((Cow::Borrowed(owned.as_str()), raw_value_of_null()));
        let (at, room) = (m.as_ptr(), m.capacity());
        give_members(m);
        let again = members(1);
        assert_eq!((again.as_ptr(), again.capacity()), (at, room));
        assert!(again.is_empty());
    }

    #[test]
    fn large_vectors_are_not_kept() {
        give_elements(Vec::with_capacity(MOST + 1));
        assert!(ELEMENTS.with_borrow(Vec::is_empty));
        give_elements(Vec::with_capacity(MOST));
        assert_eq!(ELEMENTS.with_borrow(Vec::len), 1);
    }

    fn raw_value_of_null() -> &'static RawValue {
        let boxed: Box<RawValue> = serde_json::from_str("null").unwrap();
        Box::leak(boxed)
    }
}
