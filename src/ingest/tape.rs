//! One pass over a JSON text: its syntax checked and the members of every object and array
//! recorded, so that reading a document's nested objects never scans their bytes again.
//!
//! Reading a footprint asks for the members of the document, then of `pcf`, then of the
//! objects inside `pcf`; split on demand, the bytes of a value nested three deep were read
//! four times (serde_json's check of the whole text, then each level's split), which was a
//! fifth of an ingest's time. The tape reads each byte once for its structure (after a pass
//! that marks the text's quotes 64 bytes at a time, see [`bytes`]).
//!
//! The tape is strict: it accepts only texts serde_json accepts (RFC 8259, serde_json's
//! escapes, at most [`MAX_DEPTH`] levels). It does not explain: a text it refuses is read
//! again by serde_json, whose message names the line and column.

use std::borrow::Cow;

use serde_json::value::RawValue;

use super::json::{self, Entries, raw_value};

mod bytes;

use bytes::{Marks, literal, number, string};
pub(super) use bytes::{below, each, ws};

/// Deepest nesting the tape reads; deeper texts are left to serde_json.
pub(crate) const MAX_DEPTH: usize = 128;

/// Longest text the tape reads: its offsets are `u32` (longer texts are left to serde_json).
const MAX_LEN: usize = u32::MAX as usize;

/// An offset into the text read (below [`MAX_LEN`], which [`Tape::read`] checks).
type At = u32;

/// An object or array: where it is and which members are its own.
#[derive(Clone, Copy)]
struct Container {
    start: At,
    end: At,
    first: At,
    count: At,
}

impl Container {
    /// The offsets `(from, to)` of this text as a range within the container's own text.
    fn within(&self, (from, to): (At, At)) -> std::ops::Range<usize> {
        (from - self.start) as usize..(to - self.start) as usize
    }
}

/// A member of an object (with its key) or an element of an array (with an empty key).
///
/// Every member is written once and moved once (from the scratch to the tape when its
/// container closes): at 20 bytes (`u32` offsets) instead of 40 a member costs half the
/// copying and the cache (`Vec::extend` of the moves was 3 % of an ingest's CPU at 1M
/// footprints).
#[derive(Clone, Copy, Default)]
struct Member {
    /// The key's text between its quotes.
    key: (At, At),
    value: (At, At),
    /// Whether the key has escapes (to be decoded).
    escaped: bool,
}

/// A key's text between its quotes, and whether it has escapes.
type Key = ((At, At), bool);

/// `i` as an offset: every offset of a text [`Tape::read`] accepts fits.
fn at(i: usize) -> At {
    i as At
}

/// A container being read.
struct Frame {
    container: usize,
    /// Where its members start in `scratch`.
    mark: usize,
    object: bool,
    /// Its own entry in its parent's members, to be given its end.
    slot: Option<usize>,
}

/// The buffers of a tape, kept from one text to the next.
#[derive(Default)]
pub(crate) struct Tape {
    /// Every container, in the order it opens (so by start).
    containers: Vec<Container>,
    /// Members of each container, a container's together.
    members: Vec<Member>,
    /// Members of the containers still open.
    scratch: Vec<Member>,
    stack: Vec<Frame>,
    /// The quotes and the bytes strings must not hold plain, of the text being read.
    marks: Marks,
}

/// A text read onto a tape.
#[derive(Clone, Copy)]
pub(crate) struct Read<'t> {
    text: &'t str,
    tape: &'t Tape,
}

/// Reads `"key" :` at `i`: where the value starts, and the key.
fn member_key(b: &[u8], marks: &Marks, i: usize) -> Option<(usize, Key)> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let (end, escaped) = string(b, marks, i)?;
    let colon = ws(b, end);
    if b.get(colon) != Some(&b':') {
        return None;
    }
    Some((ws(b, colon + 1), ((at(i + 1), at(end - 1)), escaped)))
}

impl Tape {
    /// Reads `text`, one JSON value with optional whitespace around it; `None` when it is
    /// not valid JSON (or nests deeper than [`MAX_DEPTH`], or is longer than [`MAX_LEN`]).
    pub(crate) fn read<'t>(&'t mut self, text: &'t str) -> Option<Read<'t>> {
        if text.len() >= MAX_LEN {
            return None;
        }
        self.containers.clear();
        self.members.clear();
        self.scratch.clear();
        self.stack.clear();
        let mut marks = std::mem::take(&mut self.marks);
        marks.mark(text.as_bytes());
        let scanned = self.scan(text.as_bytes(), &marks);
        self.marks = marks;
        match scanned {
            Some(()) => Some(Read { text, tape: self }),
            None => {
                self.containers.clear();
                None
            }
        }
    }

    fn scan(&mut self, b: &[u8], marks: &Marks) -> Option<()> {
        let mut i = ws(b, 0);
        // The key of the member whose value comes next, inside an object.
        let mut key: Key = ((0, 0), false);
        loop {
            // A value starts at `i`.
            let slot = self.stack.last().map(|_| {
                self.scratch.push(Member {
                    key: key.0,
                    escaped: key.1,
                    value: (at(i), 0),
                });
                self.scratch.len() - 1
            });
            let end = match *b.get(i)? {
                open @ (b'{' | b'[') => {
                    if self.stack.len() >= MAX_DEPTH {
                        return None;
                    }
                    self.containers.push(Container {
                        start: at(i),
                        end: 0,
                        first: 0,
                        count: 0,
                    });
                    self.stack.push(Frame {
                        container: self.containers.len() - 1,
                        mark: self.scratch.len(),
                        object: open == b'{',
                        slot,
                    });
                    i = ws(b, i + 1);
                    let close = if open == b'{' { b'}' } else { b']' };
                    if b.get(i) != Some(&close) {
                        if open == b'{' {
                            (i, key) = member_key(b, marks, i)?;
                        }
                        continue;
                    }
                    self.close(i + 1)
                }
                b'"' => string(b, marks, i)?.0,
                b't' => literal(b, i, b"true")?,
                b'f' => literal(b, i, b"false")?,
                b'n' => literal(b, i, b"null")?,
                _ => number(b, i)?,
            };
            if let Some(s) = slot {
                self.scratch[s].value.1 = at(end);
            }
            // After a value: a comma and the next member, or the end of its container (and
            // so of a value of the container around it), or the end of the text.
            i = ws(b, end);
            loop {
                let Some(frame) = self.stack.last() else {
                    return (i == b.len()).then_some(());
                };
                let object = frame.object;
                match *b.get(i)? {
                    b',' => {
                        i = ws(b, i + 1);
                        if object {
                            (i, key) = member_key(b, marks, i)?;
                        }
                        break;
                    }
                    b'}' if object => {}
                    b']' if !object => {}
                    _ => return None,
                }
                let end = self.close(i + 1);
                i = ws(b, end);
            }
        }
    }

    /// Closes the innermost container, whose closing bracket ends before `end`: its members
    /// move from the scratch to the tape. Returns `end`.
    fn close(&mut self, end: usize) -> usize {
        let Some(frame) = self.stack.pop() else {
            return end;
        };
        let first = self.members.len();
        self.members.extend(self.scratch.drain(frame.mark..));
        self.containers[frame.container] = Container {
            start: self.containers[frame.container].start,
            end: at(end),
            first: at(first),
            count: at(self.members.len() - first),
        };
        if let Some(s) = frame.slot {
            self.scratch[s].value.1 = at(end);
        }
        end
    }
}

/// The members of the object `raw`: from `tape` when it holds them, else as
/// [`json::object`] splits them.
pub(crate) fn object<'a>(tape: Option<Read>, raw: &'a RawValue) -> Result<Entries<'a>, String> {
    tape.and_then(|t| t.object(raw))
        .map_or_else(|| json::object(raw), Ok)
}

/// The elements of the array `raw`: from `tape` when it holds them, else as [`json::array`]
/// splits them.
pub(crate) fn array<'a>(
    tape: Option<Read>,
    raw: &'a RawValue,
) -> Result<Vec<&'a RawValue>, String> {
    tape.and_then(|t| t.array(raw))
        .map_or_else(|| json::array(raw), Ok)
}

/// The whole value of `text`, a JSON text the tape read, without the whitespace around it.
/// (It borrows the text, not the tape: a footprint read from it keeps its texts while the
/// tape reads the next document.)
pub(crate) fn whole(text: &str) -> &RawValue {
    raw_value(text.trim_matches([' ', '\n', '\r', '\t']))
}

impl<'t> Read<'t> {
    /// The container that `raw`, a value of this text, is; `None` for another text's value.
    /// (A value it returns a container for lies within this text: [`piece`] relies on it.)
    fn container(&self, raw: &RawValue) -> Option<Container> {
        let at = (raw.get().as_ptr() as usize).checked_sub(self.text.as_ptr() as usize)?;
        if at.checked_add(raw.get().len())? > self.text.len() {
            return None;
        }
        let tape = self.tape;
        let k = tape
            .containers
            .binary_search_by_key(&at, |c| c.start as usize)
            .ok()?;
        let c = tape.containers[k];
        ((c.end - c.start) as usize == raw.get().len()).then_some(c)
    }

    /// The members of the container `c`.
    fn members(&self, c: Container) -> &'t [Member] {
        &self.tape.members[c.first as usize..(c.first + c.count) as usize]
    }

    /// The members of the object `raw`, as [`super::json::object`] splits them.
    pub(crate) fn object<'a>(&self, raw: &'a RawValue) -> Option<Entries<'a>> {
        let c = self.container(raw)?;
        if !raw.get().starts_with('{') {
            return None;
        }
        let text = raw.get();
        let members = self.members(c);
        let mut out = super::recycle::members(members.len());
        for m in members {
            let key = c.within(m.key);
            // SAFETY (the three `piece`s): `text` is the container `c` that `container` found,
            // and the ranges are its member's key (with its quotes when escaped) and value.
            let key = if m.escaped {
                let quoted = key.start - 1..key.end + 1;
                Cow::Owned(serde_json::from_str::<String>(unsafe { piece(text, quoted) }?).ok()?)
            } else {
                Cow::Borrowed(unsafe { piece(text, key) }?)
            };
            out.push((key, raw_value(unsafe { piece(text, c.within(m.value)) }?)));
        }
        Some(Entries(out))
    }

    /// The elements of the array `raw`, as [`super::json::array`] splits them.
    pub(crate) fn array<'a>(&self, raw: &'a RawValue) -> Option<Vec<&'a RawValue>> {
        let c = self.container(raw)?;
        if !raw.get().starts_with('[') {
            return None;
        }
        let text = raw.get();
        let members = self.members(c);
        let mut out = super::recycle::elements(members.len());
        for m in members {
            // SAFETY: `text` is the container `c` that `container` found, the range one of its
            // elements.
            out.push(raw_value(unsafe { piece(text, c.within(m.value)) }?));
        }
        Some(out)
    }
}

/// The text at `range` of a container's `text`, `range` being offsets the tape recorded for a
/// key or a value in it: `None` when they are out of bounds.
///
/// Every offset the tape records is at an ASCII byte of the text it read (a key's quotes, a
/// value's first byte, the byte after a value's last, which is a quote, bracket, digit or
/// letter of a literal) or at its end: a char boundary. `str::get` checked both ends for one
/// at every member (2 % of a check's instructions); only the bounds are checked here.
///
/// # Safety
///
/// `text` must be the text of a container the tape read, as [`Read::container`] found it (it
/// lies inside the text read, at the container's start and of its length), and `range` the
/// offsets of one of its members' keys or values (or a key's with its quotes), made relative
/// to the container by [`Container::within`].
unsafe fn piece(text: &str, range: std::ops::Range<usize>) -> Option<&str> {
    if range.start > range.end || range.end > text.len() {
        return None;
    }
    debug_assert!(text.is_char_boundary(range.start) && text.is_char_boundary(range.end));
    // SAFETY: `range` is within `text` (checked just above) and its ends are char boundaries
    // (the caller's promise, as said above).
    Some(unsafe { text.get_unchecked(range) })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What serde_json makes of an object or array: the reference for the tape.
    fn serde_split(text: &str) -> Vec<(String, String)> {
        match text.as_bytes()[0] {
            b'{' => serde_json::from_str::<Entries>(text)
                .unwrap()
                .0
                .iter()
                .map(|(k, v)| (k.to_string(), v.get().to_owned()))
                .collect(),
            _ => serde_json::from_str::<Vec<&RawValue>>(text)
                .unwrap()
                .into_iter()
                .map(|v| (String::new(), v.get().to_owned()))
                .collect(),
        }
    }

    /// The splits of `raw` and of every object and array inside it, from the tape.
    fn tape_splits(read: Read, raw: &RawValue, out: &mut Vec<(String, Vec<(String, String)>)>) {
        let members: Vec<(String, &RawValue)> = match raw.get().as_bytes()[0] {
            b'{' => read
                .object(raw)
                .expect("an object on the tape")
                .0
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
            b'[' => read
                .array(raw)
                .expect("an array on the tape")
                .into_iter()
                .map(|v| (String::new(), v))
                .collect(),
            _ => return,
        };
        let shown = members
            .iter()
            .map(|(k, v)| (k.clone(), v.get().to_owned()))
            .collect();
        out.push((raw.get().to_owned(), shown));
        for (_, v) in members {
            tape_splits(read, v, out);
        }
    }

    /// The same, from serde_json.
    fn serde_splits(raw: &RawValue, out: &mut Vec<(String, Vec<(String, String)>)>) {
        if !matches!(raw.get().as_bytes()[0], b'{' | b'[') {
            return;
        }
        let members = serde_split(raw.get());
        out.push((raw.get().to_owned(), members.clone()));
        for (_, v) in members {
            serde_splits(serde_json::from_str(&v).unwrap(), out);
        }
    }

    fn assert_splits_as_serde_json(tape: &mut Tape, text: &str) {
        let read = tape.read(text).unwrap_or_else(|| panic!("refused {text}"));
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        tape_splits(read, whole(text), &mut ours);
        serde_splits(serde_json::from_str(text).unwrap(), &mut theirs);
        assert_eq!(ours, theirs, "{text}");
    }

    /// A pseudo-random JSON value of at most `depth` levels (xorshift, fixed seed).
    fn random_value(seed: &mut u64, depth: u32) -> serde_json::Value {
        use serde_json::Value;
        let mut next = || {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            *seed
        };
        const STRINGS: [&str; 7] = [
            "",
            "a",
            "q\"uote",
            "back\\slash",
            "é 日本",
            "}]{[,:",
            "\u{1}",
        ];
        match next() % if depth == 0 { 5 } else { 7 } {
            0 => Value::Null,
            1 => Value::Bool(next() % 2 == 0),
            2 => Value::from((next() % 2001) as i64 - 1000),
            3 => Value::from((next() % 100_000) as f64 / 7.0),
            4 => Value::from(STRINGS[(next() % 7) as usize]),
            5 => {
                let n = next() % 4;
                Value::Array((0..n).map(|_| random_value(seed, depth - 1)).collect())
            }
            _ => {
                let n = next() % 4;
                Value::Object(
                    (0..n)
                        .map(|i| {
                            let key = format!("{}{i}", STRINGS[(i as usize * 3) % 7]);
                            (key, random_value(seed, depth - 1))
                        })
                        .collect(),
                )
            }
        }
    }

    #[test]
    fn valid_json_splits_as_serde_json_splits_it() {
        // Hand-picked: whitespace everywhere, escapes in keys and strings (an escaped quote
        // and backslash before a closing quote), brackets inside strings, empty containers,
        // exponents, a duplicated key (kept twice, for the caller to report).
        let texts = [
            "{}",
            "[]",
            "{ }",
            "[ ]",
            " {\n\t\"a\" : 1 ,\r\n \"b\":[ 1, {\"c\":\"]}\"} ] } ",
            r#"{"k\"ey":"v\\","x\u0041":"\\\"","e":-1.5e+3,"n":null,"t":true,"f":false}"#,
            r#"[[],{},[[]],{"":{}},"[{","}]",0,-0.0,1E2]"#,
            r#"{"a":1,"a":2}"#,
        ];
        let mut tape = Tape::default();
        for text in texts {
            assert_splits_as_serde_json(&mut tape, text);
        }
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut containers = 0;
        for _ in 0..2_000 {
            let value = random_value(&mut seed, 4);
            containers += usize::from(value.is_object() || value.is_array());
            for text in [
                serde_json::to_string(&value).unwrap(),
                serde_json::to_string_pretty(&value).unwrap(),
            ] {
                assert_splits_as_serde_json(&mut tape, &text);
            }
        }
        assert!(
            containers > 200,
            "only {containers} objects and arrays were tried"
        );
    }

    /// Whether serde_json takes `text` as one JSON value (what the tape must agree with).
    fn serde_accepts(text: &str) -> bool {
        serde_json::from_str::<&RawValue>(text).is_ok()
    }

    #[test]
    fn accepts_exactly_what_serde_json_accepts() {
        let mut tape = Tape::default();
        let hand = [
            "",
            " ",
            "{",
            "}",
            "[",
            "]",
            "{]",
            "[}",
            "[1,]",
            "{\"a\":1,}",
            "{,}",
            "[,1]",
            "{\"a\"}",
            "{\"a\" 1}",
            "{1:2}",
            "{'a':1}",
            "01",
            "-",
            "-0",
            "1.",
            ".5",
            "1e",
            "1e+",
            "1E-2",
            "-01",
            "+1",
            "1 2",
            "[1 2]",
            "tru",
            "truee",
            "nul",
            "[true false]",
            "\"\\x\"",
            "\"\\u12G4\"",
            "\"\\u123\"",
            "\"\\ud800\"",
            "\"a\tb\"",
            "\"\u{7f}\"",
            "\"open",
            "[\"a\"\"b\"]",
            "{\"a\":1}x",
            "{\"a\":1} \r\n",
            "\u{feff}{}",
            "[[[[]]]]",
            "[[[[]]]",
            "NaN",
            "Infinity",
            "[1e400]",
        ];
        for text in hand {
            let ours = tape.read(text).is_some();
            assert_eq!(ours, serde_accepts(text), "{text:?}");
        }
        // Every text one byte away from a valid one: changed to a byte JSON cares about,
        // removed, or cut there.
        const BYTES: &[u8] = b"{}[]\",:\\ 0-.eEtfnu\x01a";
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let (mut tried, mut refused) = (0, 0);
        for _ in 0..300 {
            let text = serde_json::to_string(&random_value(&mut seed, 3)).unwrap();
            for at in 0..text.len() {
                if !text.is_char_boundary(at) || !text.is_char_boundary(at + 1) {
                    continue;
                }
                let mut variants = vec![
                    format!("{}{}", &text[..at], &text[at + 1..]),
                    text[..at].to_owned(),
                ];
                for &b in BYTES {
                    variants.push(format!("{}{}{}", &text[..at], b as char, &text[at + 1..]));
                }
                for v in variants {
                    let ours = tape.read(&v).is_some();
                    assert_eq!(ours, serde_accepts(&v), "{v:?}");
                    tried += 1;
                    refused += usize::from(!ours);
                }
            }
        }
        assert!(
            tried > 50_000 && refused > tried / 4,
            "{tried} texts, {refused} refused"
        );
    }

    #[test]
    fn every_byte_of_a_long_string_is_looked_at() {
        // Strings end at the next quote of the text's marks, 64 bytes a word, or are skipped
        // 32 or 8 bytes at a time: a quote, a backslash or a control character at any place
        // of a word or group must stop the string's plain run, and no other byte may. The
        // third text puts the string across the end of the first word of marks.
        let mut tape = Tape::default();
        let marks = [
            "\"", "\\", "\\n", "\u{0}", "\u{1}", "\u{1f}", " ", "!", "#", "[", "]", "\u{7f}", "é",
            "日", "\\u00e9",
        ];
        let mut tried = 0;
        for len in 0..70 {
            for at in 0..=len {
                for mark in marks {
                    let inner = format!("{}{mark}{}", "a".repeat(at), "b".repeat(len - at));
                    for text in [
                        format!("\"{inner}\""),
                        format!("{{\"{inner}\":[\"{inner}\"]}}"),
                        format!("{}\"{inner}\"", " ".repeat(50)),
                    ] {
                        assert_eq!(tape.read(&text).is_some(), serde_accepts(&text), "{text:?}");
                        if tape.read(&text).is_some() && text.starts_with('{') {
                            assert_splits_as_serde_json(&mut tape, &text);
                        }
                        tried += 1;
                    }
                }
            }
        }
        // (0 + 1) + (1 + 1) + … + (69 + 1) places, 15 marks, 3 texts.
        assert_eq!(tried, 2485 * 15 * 3);
    }

    #[test]
    fn nesting_deeper_than_the_limit_is_left_to_serde_json() {
        let mut tape = Tape::default();
        let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(tape.read(&nested(MAX_DEPTH)).is_some());
        assert!(tape.read(&nested(MAX_DEPTH + 1)).is_none());
    }

    #[test]
    fn values_of_another_text_are_not_on_the_tape() {
        let mut tape = Tape::default();
        let text = r#"{"a":{"b":1}}"#;
        let copy = text.to_owned();
        let read = tape.read(text).unwrap();
        let other: &RawValue = serde_json::from_str(&copy).unwrap();
        assert!(read.object(other).is_none());
        assert!(read.object(whole(text)).is_some());
        // A member that is not a container, and an object asked for as an array.
        let entries = read.object(whole(text)).unwrap();
        assert!(read.object(entries.0[0].1).is_some());
        assert!(read.array(entries.0[0].1).is_none());
    }
}
