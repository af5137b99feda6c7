//! One pass over a JSON text: its syntax checked and the members of every object and array
//! recorded, so that reading a document's nested objects never scans their bytes again.
//!
//! Reading a footprint asks for the members of the document, then of `pcf`, then of the
//! objects inside `pcf`; split on demand, the bytes of a value nested three deep were read
//! four times (serde_json's check of the whole text, then each level's split), which was a
//! fifth of an ingest's time. The tape reads each byte once.
//!
//! The tape is strict: it accepts only texts serde_json accepts (RFC 8259, serde_json's
//! escapes, at most [`MAX_DEPTH`] levels). It does not explain: a text it refuses is read
//! again by serde_json, whose message names the line and column.

use std::borrow::Cow;

use serde_json::value::RawValue;

use super::json::{self, Entries, raw_value};

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
}

/// A text read onto a tape.
#[derive(Clone, Copy)]
pub(crate) struct Read<'t> {
    text: &'t str,
    tape: &'t Tape,
}

/// Bytes that end the plain run of a string: a quote, a backslash, a control character.
const STOPS: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = true;
        i += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

fn ws(b: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\n' | b'\r' | b'\t') = b.get(i) {
        i += 1;
    }
    i
}

/// Skips the bytes of a string from `at` that need no look (no quote, backslash or control
/// character), whole groups at a time, stopping at or before the first byte that does: 32
/// bytes a step where the processor has AVX2, 8 otherwise (and for the last few).
fn plain_run(b: &[u8], at: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2, checked just above.
        let at = unsafe { plain_run_avx2(b, at) };
        return plain_run_words(b, at);
    }
    plain_run_words(b, at)
}

/// [`plain_run`] 32 bytes at a time; stops where fewer than 32 are left.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn plain_run_avx2(b: &[u8], mut at: usize) -> usize {
    use std::arch::x86_64::{
        __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_min_epu8, _mm256_movemask_epi8,
        _mm256_or_si256, _mm256_set1_epi8,
    };
    let quote = _mm256_set1_epi8(b'"' as i8);
    let backslash = _mm256_set1_epi8(b'\\' as i8);
    let control = _mm256_set1_epi8(0x1f);
    while let Some(group) = b.get(at..at + 32) {
        // SAFETY: `group` is 32 readable bytes; the load takes any alignment.
        let v = unsafe { _mm256_loadu_si256(group.as_ptr().cast::<__m256i>()) };
        // A control character is a byte whose unsigned minimum with 0x1f is itself.
        let stops = _mm256_or_si256(
            _mm256_or_si256(_mm256_cmpeq_epi8(v, quote), _mm256_cmpeq_epi8(v, backslash)),
            _mm256_cmpeq_epi8(_mm256_min_epu8(v, control), v),
        );
        let mask = _mm256_movemask_epi8(stops) as u32;
        if mask != 0 {
            return at + mask.trailing_zeros() as usize;
        }
        at += 32;
    }
    at
}

/// [`plain_run`] 8 bytes at a time, in a `u64`.
fn plain_run_words(b: &[u8], mut at: usize) -> usize {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);
    // The high bit of each byte below `n` (the lowest flagged byte is always a true one;
    // bytes of 0x80 and over, UTF-8's, are never flagged).
    let below = |v: u64, n: u8| v.wrapping_sub(ONES * u64::from(n)) & !v & HIGHS;
    while let Some(w) = b.get(at..at + 8).and_then(|w| <[u8; 8]>::try_from(w).ok()) {
        let v = u64::from_le_bytes(w);
        let stops = below(v ^ (ONES * u64::from(b'"')), 1)
            | below(v ^ (ONES * u64::from(b'\\')), 1)
            | below(v, 0x20);
        if stops != 0 {
            return at + (stops.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    at
}

/// The end (past the closing quote) of the string opening at `i`, and whether it has escapes.
fn string(b: &[u8], i: usize) -> Option<(usize, bool)> {
    let mut at = i + 1;
    let mut escaped = false;
    loop {
        at = plain_run(b, at);
        while !STOPS[*b.get(at)? as usize] {
            at += 1;
        }
        match b[at] {
            b'"' => return Some((at + 1, escaped)),
            b'\\' => {
                escaped = true;
                match *b.get(at + 1)? {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => at += 2,
                    b'u' => {
                        let hex = b.get(at + 2..at + 6)?;
                        if !hex.iter().all(u8::is_ascii_hexdigit) {
                            return None;
                        }
                        at += 6;
                    }
                    _ => return None,
                }
            }
            // A control character, which JSON strings must escape.
            _ => return None,
        }
    }
}

fn digits(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    i
}

/// The end of the number starting at `i`: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
fn number(b: &[u8], mut i: usize) -> Option<usize> {
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    match *b.get(i)? {
        b'0' => i += 1,
        b'1'..=b'9' => i = digits(b, i + 1),
        _ => return None,
    }
    if b.get(i) == Some(&b'.') {
        let end = digits(b, i + 1);
        if end == i + 1 {
            return None;
        }
        i = end;
    }
    if let Some(b'e' | b'E') = b.get(i) {
        i += 1;
        if let Some(b'+' | b'-') = b.get(i) {
            i += 1;
        }
        let end = digits(b, i);
        if end == i {
            return None;
        }
        i = end;
    }
    Some(i)
}

fn literal(b: &[u8], i: usize, word: &[u8]) -> Option<usize> {
    (b.get(i..i + word.len())? == word).then_some(i + word.len())
}

/// Reads `"key" :` at `i`: where the value starts, and the key.
fn member_key(b: &[u8], i: usize) -> Option<(usize, Key)> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let (end, escaped) = string(b, i)?;
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
        match self.scan(text.as_bytes()) {
            Some(()) => Some(Read { text, tape: self }),
            None => {
                self.containers.clear();
                None
            }
        }
    }

    fn scan(&mut self, b: &[u8]) -> Option<()> {
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
                            (i, key) = member_key(b, i)?;
                        }
                        continue;
                    }
                    self.close(i + 1)
                }
                b'"' => string(b, i)?.0,
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
                            (i, key) = member_key(b, i)?;
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

impl<'t> Read<'t> {
    /// The whole value read.
    pub(crate) fn value(&self) -> &'t RawValue {
        raw_value(self.text.trim_matches([' ', '\n', '\r', '\t']))
    }

    /// The container that `raw`, a value of this text, is; `None` for another text's value.
    fn container(&self, raw: &RawValue) -> Option<Container> {
        let at = (raw.get().as_ptr() as usize).checked_sub(self.text.as_ptr() as usize)?;
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
        let mut out = Vec::with_capacity(members.len());
        for m in members {
            let key = c.within(m.key);
            let key = if m.escaped {
                let quoted = key.start - 1..key.end + 1;
                Cow::Owned(serde_json::from_str::<String>(text.get(quoted)?).ok()?)
            } else {
                Cow::Borrowed(text.get(key)?)
            };
            out.push((key, raw_value(text.get(c.within(m.value))?)));
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
        self.members(c)
            .iter()
            .map(|m| Some(raw_value(text.get(c.within(m.value))?)))
            .collect()
    }
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
                .into_iter()
                .map(|(k, v)| (k.into_owned(), v.get().to_owned()))
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
                .into_iter()
                .map(|(k, v)| (k.into_owned(), v))
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
        tape_splits(read, read.value(), &mut ours);
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
        // Strings are skipped 32 or 8 bytes at a time: a quote, a backslash or a control
        // character at any place of a group must stop the skip, and no other byte may.
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
        // (0 + 1) + (1 + 1) + … + (69 + 1) places, 15 marks, 2 texts.
        assert_eq!(tried, 2485 * 15 * 2);
    }

    #[test]
    fn plain_runs_stop_at_the_first_byte_that_needs_a_look() {
        // Each way of skipping steps over whole groups of `n` bytes: it stops at the first
        // quote, backslash or control character when that lies in a whole group, else where
        // fewer than `n` bytes are left.
        let expected = |b: &[u8], n: usize| {
            let first = b.iter().position(|&c| STOPS[c as usize]).unwrap_or(b.len());
            first.min(b.len() / n * n)
        };
        let marks = [b'"', b'\\', 0, 1, 0x1f, b' ', b'a', 0x7f, 0x80, 0xe6, 0xff];
        for len in 0..80 {
            for at in 0..len {
                for mark in marks {
                    let mut b = vec![b'x'; len];
                    b[at] = mark;
                    assert_eq!(plain_run_words(&b, 0), expected(&b, 8), "{b:?}");
                    #[cfg(target_arch = "x86_64")]
                    if std::arch::is_x86_feature_detected!("avx2") {
                        // SAFETY: the processor has AVX2.
                        let avx2 = unsafe { plain_run_avx2(&b, 0) };
                        assert_eq!(avx2, expected(&b, 32), "{b:?}");
                    }
                }
            }
        }
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
        assert!(read.object(read.value()).is_some());
        // A member that is not a container, and an object asked for as an array.
        let entries = read.object(read.value()).unwrap();
        assert!(read.object(entries.0[0].1).is_some());
        assert!(read.array(entries.0[0].1).is_none());
    }
}
