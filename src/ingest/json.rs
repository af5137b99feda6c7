//! JSON plumbing for validation: objects read as borrowed `(key, raw value)` lists, exact
//! number and decimal parsing straight from the JSON text (never through `f64`), RFC 6901
//! pointers, and the diagnostics gathered while checking one document.
//!
//! Every raw value borrows from the input buffer, so a diagnostic can name the line it is on.

use std::borrow::Cow;
use std::fmt::{self, Write as _};

use chrono::{DateTime, Utc};
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::tape::Read;

mod decimal;

pub use decimal::DECIMAL_SCALE;
pub(crate) use decimal::{
    Sign, decimal_string, number_or_decimal_string, parse_decimal_text, within,
};

/// One error or warning about a document: where (pointer and byte offset) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Diag {
    /// RFC 6901 pointer relative to the document (`""` for the document itself).
    pub pointer: String,
    /// What is wrong, for a person to read.
    pub message: String,
    /// Byte offset in the input buffer of the value concerned, when known.
    pub offset: Option<usize>,
}

/// Collects errors and warnings while checking one document.
pub(crate) struct Checker<'t> {
    base: usize,
    len: usize,
    pub errors: Vec<Diag>,
    pub warnings: Vec<Diag>,
    /// The text the document is in, read onto a tape, when it was.
    tape: Option<Read<'t>>,
}

impl<'t> Checker<'t> {
    /// A checker for documents borrowed from `buffer` (used to turn values into offsets).
    pub fn new(buffer: &str) -> Checker<'t> {
        Checker {
            base: buffer.as_ptr() as usize,
            len: buffer.len(),
            errors: Vec::new(),
            warnings: Vec::new(),
            tape: None,
        }
    }

    /// A checker whose objects and arrays are split by `tape`, a text holding them.
    pub fn with_tape(buffer: &str, tape: Option<Read<'t>>) -> Checker<'t> {
        Checker {
            tape,
            ..Checker::new(buffer)
        }
    }

    /// The members of `raw` (see [`object`]), from the tape when it holds them.
    pub fn object<'a>(&self, raw: &'a RawValue) -> Result<Entries<'a>, String> {
        super::tape::object(self.tape, raw)
    }

    /// The elements of `raw` (see [`array`]), from the tape when it holds them.
    pub fn array<'a>(&self, raw: &'a RawValue) -> Result<Vec<&'a RawValue>, String> {
        super::tape::array(self.tape, raw)
    }

    /// The text the document is in, read onto a tape, when it was.
    pub fn tape(&self) -> Option<Read<'t>> {
        self.tape
    }

    /// Offset of `raw` inside the buffer, when it lies inside it.
    pub fn offset_of(&self, raw: &RawValue) -> Option<usize> {
        let at = raw.get().as_ptr() as usize;
        (at >= self.base && at <= self.base + self.len).then(|| at - self.base)
    }

    /// Records an error at `pointer`.
    pub fn error(&mut self, raw: Option<&RawValue>, pointer: String, message: impl Into<String>) {
        let offset = raw.and_then(|r| self.offset_of(r));
        self.errors.push(Diag {
            pointer,
            message: message.into(),
            offset,
        });
    }

    /// Records a warning at `pointer`.
    pub fn warn(&mut self, raw: Option<&RawValue>, pointer: String, message: impl Into<String>) {
        let offset = raw.and_then(|r| self.offset_of(r));
        self.warnings.push(Diag {
            pointer,
            message: message.into(),
            offset,
        });
    }
}

/// 1-based line numbers of byte offsets into a text, asked for in order (a CSV's records, an
/// array's elements): the line breaks between one offset and the next are counted as the
/// reader passes them, so each byte is looked at once. (A table of every line's start,
/// binary-searched for each record, was 2–4 % of a BOM CSV's check at 6.5M rows, most of it
/// the search's misses.) An offset before the last one counts again from the start.
pub(crate) struct Lines<'t> {
    bytes: &'t [u8],
    /// The last offset asked for, and its line.
    at: usize,
    line: usize,
}

impl<'t> Lines<'t> {
    pub(crate) fn new(bytes: &'t [u8]) -> Lines<'t> {
        Lines {
            bytes,
            at: 0,
            line: 1,
        }
    }

    /// The text whose lines these are.
    pub(crate) fn text(&self) -> &'t [u8] {
        self.bytes
    }

    /// The line `offset` is on: one more than the line breaks before it.
    pub(crate) fn line_of(&mut self, offset: usize) -> usize {
        let offset = offset.min(self.bytes.len());
        if offset < self.at {
            (self.at, self.line) = (0, 1);
        }
        // `memchr`'s search, 32 bytes a step.
        self.line += memchr::memchr_iter(b'\n', &self.bytes[self.at..offset]).count();
        self.at = offset;
        self.line
    }
}

/// A JSON pointer (RFC 6901), written out only when a diagnostic needs it.
///
/// Checking a document enters a dozen nested objects and list items (`pcf`, its `dqi`, each
/// rule and emission-factor source, each extension and its parts), and every reader is
/// given the pointer of where it reads; nearly none is ever written out. Built as text on the
/// way in, those pointers were 4 % of an ingest's CPU at 1M footprints.
#[derive(Clone, Copy)]
pub(crate) enum Ptr<'a> {
    /// The whole document (the empty pointer).
    Root,
    /// The member `key` of the object at the pointer before.
    Key(&'a Ptr<'a>, &'a str),
    /// The element `index` of the array at the pointer before.
    Index(&'a Ptr<'a>, usize),
}

impl Ptr<'_> {
    /// The whole document.
    pub(crate) const ROOT: Ptr<'static> = Ptr::Root;

    /// The member `key` of the object here.
    pub(crate) fn key<'b>(&'b self, key: &'b str) -> Ptr<'b> {
        Ptr::Key(self, key)
    }

    /// The element `index` of the array here.
    pub(crate) fn index(&self, index: usize) -> Ptr<'_> {
        Ptr::Index(self, index)
    }

    /// The pointer's text.
    pub(crate) fn get(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match *self {
            Ptr::Root => {}
            Ptr::Key(base, key) => {
                base.write(out);
                push_token(out, key);
            }
            Ptr::Index(base, index) => {
                base.write(out);
                // Writing to a String cannot fail.
                let _ = write!(out, "/{index}");
            }
        }
    }
}

/// Appends `key` as one RFC 6901 reference token.
fn push_token(out: &mut String, key: &str) {
    out.push('/');
    for c in key.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
}

/// The pointer of the member `key` of the object at `base`, as text.
pub(crate) fn pointer(base: &Ptr, key: &str) -> String {
    base.key(key).get()
}

/// An object key that borrows from the input when it has no escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

/// A JSON object as its entries in document order, each value left unparsed. Its vector goes
/// back to the thread's [`recycle`](super::recycle) pool when it is dropped.
pub(crate) struct Entries<'a>(pub Vec<(Cow<'a, str>, &'a RawValue)>);

impl Drop for Entries<'_> {
    fn drop(&mut self) {
        super::recycle::give_members(std::mem::take(&mut self.0));
    }
}

impl<'de> Deserialize<'de> for Entries<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct EntriesVisitor;
        impl<'de> Visitor<'de> for EntriesVisitor {
            type Value = Entries<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries<'de>, A::Error> {
                let mut out = super::recycle::members(map.size_hint().unwrap_or(16));
                while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
                    let v: &'de RawValue = map.next_value()?;
                    out.push((k, v));
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_map(EntriesVisitor)
    }
}

/// The JSON type of a raw value, for messages ("expected a string, found number 12").
pub(crate) fn describe(raw: &RawValue) -> String {
    let text = raw.get();
    let kind = match text.as_bytes().first() {
        Some(b'{') => return "an object".into(),
        Some(b'[') => return "an array".into(),
        Some(b'"') => "string",
        Some(b't' | b'f') => "boolean",
        Some(b'n') => return "null".into(),
        _ => "number",
    };
    let mut shown: String = text.chars().take(40).collect();
    if shown.len() < text.len() {
        shown.push('…');
    }
    format!("{kind} {shown}")
}

/// Parses `raw` as an object.
pub(crate) fn object<'a>(raw: &'a RawValue) -> Result<Entries<'a>, String> {
    if !raw.get().starts_with('{') {
        return Err(format!("expected an object, found {}", describe(raw)));
    }
    serde_json::from_str::<Entries<'a>>(raw.get()).map_err(|e| e.to_string())
}

/// Parses `raw` as an array of raw values.
pub(crate) fn array<'a>(raw: &'a RawValue) -> Result<Vec<&'a RawValue>, String> {
    if !raw.get().starts_with('[') {
        return Err(format!("expected an array, found {}", describe(raw)));
    }
    serde_json::from_str::<Vec<&'a RawValue>>(raw.get()).map_err(|e| e.to_string())
}

/// The text of one whole JSON value, as a `RawValue`.
///
/// `text` must be a valid JSON value with no whitespace around it: a member of a value that
/// serde_json or the tape has checked, cut at its ends.
pub(super) fn raw_value(text: &str) -> &RawValue {
    // SAFETY: `RawValue` is `#[repr(transparent)]` over `str` (serde_json 1.x declares it
    // so, and converts `&str` to `&RawValue` the same way itself), so the pointer cast keeps
    // the layout; its one invariant, that the text is a whole valid JSON value, is the
    // caller's.
    unsafe { &*(text as *const str as *const RawValue) }
}

/// Whether `b` holds a backslash. Most strings of a footprint (keys, amounts, codes) are 16
/// bytes or fewer: those are read as two overlapping words (or byte by byte under 8), where
/// the standard library's search set up a word-at-a-time loop (3 % of a check's
/// instructions); longer ones are searched.
fn has_backslash(b: &[u8]) -> bool {
    use super::tape::{below, each};
    let in_word = |w: [u8; 8]| below(u64::from_le_bytes(w) ^ each(b'\\'), 1) != 0;
    match (b.first_chunk::<8>(), b.last_chunk::<8>()) {
        (Some(&first), Some(&last)) if b.len() <= 16 => in_word(first) || in_word(last),
        (Some(_), _) => memchr::memchr(b'\\', b).is_some(),
        _ => b.contains(&b'\\'),
    }
}

/// Parses `raw` as a string, borrowing when the string has no escapes.
pub(crate) fn string<'a>(raw: &'a RawValue) -> Result<Cow<'a, str>, String> {
    let text = raw.get();
    if !text.starts_with('"') {
        return Err(format!("expected a string, found {}", describe(raw)));
    }
    let inner = &text[1..text.len() - 1];
    if !has_backslash(inner.as_bytes()) {
        return Ok(Cow::Borrowed(inner));
    }
    serde_json::from_str::<String>(text)
        .map(Cow::Owned)
        .map_err(|e| e.to_string())
}

/// Parses `raw` as a boolean.
pub(crate) fn boolean(raw: &RawValue) -> Result<bool, String> {
    match raw.get() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("expected true or false, found {}", describe(raw))),
    }
}

/// Parses `raw` as an integer that fits in `i32`.
pub(crate) fn int32(raw: &RawValue) -> Result<i32, String> {
    let text = raw.get();
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("expected an integer, found {}", describe(raw)));
    }
    text.parse::<i32>()
        .map_err(|_| format!("integer {text} does not fit in 32 bits"))
}

/// Parses an RFC 3339 date-time (`2024-01-01T00:00:00Z`).
pub(crate) fn date_time(raw: &RawValue) -> Result<DateTime<Utc>, String> {
    let s = string(raw)?;
    if let Some(t) = plain_date_time(&s) {
        return Ok(t);
    }
    DateTime::parse_from_rfc3339(&s)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|e| {
            format!("{s:?} is not an RFC 3339 date-time like \"2024-01-01T00:00:00Z\" ({e})")
        })
}

/// `s` when it is exactly `YYYY-MM-DDTHH:MM:SSZ` (the form of the five date-times of nearly
/// every footprint), read digit by digit; `None` for any other form or a leap second, which
/// chrono reads (to the same instant; its general reading was a tenth of a footprint's
/// values' time).
fn plain_date_time(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    if b.len() != 20
        || [
            (4, b'-'),
            (7, b'-'),
            (10, b'T'),
            (13, b':'),
            (16, b':'),
            (19, b'Z'),
        ]
        .iter()
        .any(|&(i, c)| b[i] != c)
    {
        return None;
    }
    let n = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0_u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let date = chrono::NaiveDate::from_ymd_opt(n(0, 4)? as i32, n(5, 7)?, n(8, 10)?)?;
    let second = n(17, 19)?;
    if second > 59 {
        return None;
    }
    Some(date.and_hms_opt(n(11, 13)?, n(14, 16)?, second)?.and_utc())
}

/// Whether `s` is a UUID in 8-4-4-4-12 hex form (any case).
pub fn is_uuid(s: &str) -> bool {
    let Ok(b) = <&[u8; 36]>::try_from(s.as_bytes()) else {
        return false;
    };
    // Every byte tested, none branched on: the loop over a fixed 36 is unrolled, each
    // byte's test known where it is (an id is checked in every document).
    let mut ok = true;
    for (i, &c) in b.iter().enumerate() {
        ok &= match UUID_DASH[i] {
            true => c == b'-',
            false => HEX_VALUE[usize::from(c.to_ascii_lowercase())] < 16,
        };
    }
    ok
}

/// Where a UUID's dashes are (`8-4-4-4-12`).
const UUID_DASH: [bool; 36] = {
    let mut dash = [false; 36];
    (dash[8], dash[13], dash[18], dash[23]) = (true, true, true, true);
    dash
};

/// The value of each lower-case hexadecimal digit, by byte; 255 for every other byte.
const HEX_VALUE: [u8; 256] = {
    let mut value = [255; 256];
    let mut d = 0;
    while d < 16 {
        value[b"0123456789abcdef"[d] as usize] = d as u8;
        d += 1;
    }
    value
};

/// Parses a UUID string; returns it lower-cased.
pub(crate) fn uuid(raw: &RawValue) -> Result<Cow<'_, str>, String> {
    let s = string(raw)?;
    if !is_uuid(&s) {
        return Err(format!(
            "{s:?} is not a UUID like \"f4b1225a-bd44-4c8e-861d-079e4e1dfd69\""
        ));
    }
    // Borrowed when already lower-case, as ids nearly always are.
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        Ok(Cow::Owned(s.to_ascii_lowercase()))
    } else {
        Ok(s)
    }
}

/// The 128 bits of a lower-case UUID (`8-4-4-4-12` hexadecimal digits), if `id` is one.
pub(super) fn uuid_bits(id: &str) -> Option<u128> {
    let b = <&[u8; 36]>::try_from(id.as_bytes()).ok()?;
    let (mut bits, mut bad) = (0u128, 0u8);
    for (i, &c) in b.iter().enumerate() {
        if UUID_DASH[i] {
            bad |= u8::from(c != b'-');
        } else {
            let digit = HEX_VALUE[usize::from(c)];
            bad |= digit >> 4;
            bits = bits << 4 | u128::from(digit & 15);
        }
    }
    (bad == 0).then_some(bits)
}

/// Whether every byte of `bytes` is one `table` allows. Straight through, without stopping
/// at the first that is not: a URN is a few dozen bytes and nearly always valid, and a loop
/// with no exit takes a third of the instructions of one that tests each byte (a BOM's
/// millions of URNs are all checked).
fn all_in(bytes: &[u8], table: &[bool; 256]) -> bool {
    bytes.iter().fold(true, |ok, &b| ok & table[usize::from(b)])
}

/// The bytes a URN's namespace identifier may hold (RFC 8141: letters, digits, hyphens).
const NID_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        table[i] = b.is_ascii_alphanumeric() || b == b'-';
        i += 1;
    }
    table
};

/// The bytes a URN's namespace-specific string may hold, as a table (one load per byte: a
/// BOM's millions of URNs are all checked): RFC 8141's URI path characters, and any byte of a
/// UTF-8 sequence (IRIs in the wild; harmless for matching).
const NSS_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        table[i] = b.is_ascii_alphanumeric()
            || b >= 0x80
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'%'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
                    | b'@'
                    | b'/'
            );
        i += 1;
    }
    table
};

/// Checks URN syntax (RFC 8141): `urn:` + NID (2–32 letters, digits or `-`) + `:` + a
/// non-empty NSS of URI path characters. The NSS is not interpreted further: PACT's own
/// examples use `urn:uuid:` values that are not UUIDs.
pub(crate) fn check_urn(s: &str) -> Result<(), String> {
    let bad = |why: &str| {
        Err(format!(
            "{s:?} is not a URN ({why}); expected e.g. \"urn:gtin:4712345060507\""
        ))
    };
    let Some(prefix) = s.get(..4) else {
        return bad("too short");
    };
    if !prefix.eq_ignore_ascii_case("urn:") {
        return bad("it must start with \"urn:\"");
    }
    let rest = &s[4..];
    // A plain loop: the namespace is a few bytes, shorter than a search's setting up.
    let Some(colon) = rest.bytes().position(|b| b == b':') else {
        return bad("missing \":\" after the namespace");
    };
    let (nid, nss) = (&rest[..colon], &rest[colon + 1..]);
    let nid_ok = (2..=32).contains(&nid.len())
        && all_in(nid.as_bytes(), &NID_BYTES)
        && !nid.starts_with('-')
        && !nid.ends_with('-');
    if !nid_ok {
        return bad("invalid namespace identifier");
    }
    if nss.is_empty() {
        return bad("empty namespace-specific string");
    }
    let nss_ok = all_in(nss.as_bytes(), &NSS_BYTES);
    if !nss_ok {
        return bad("it contains characters a URN may not hold, such as spaces");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backslash_is_found_at_every_place_of_every_length() {
        // The short and the long ways (7, 8, 16 and 17 bytes are their edges), with bytes of
        // multi-byte characters around (0x5C never occurs inside one in UTF-8).
        for len in 0..40 {
            let plain: Vec<u8> = (0..len)
                .map(|i| if i % 3 == 0 { 0xc3 } else { b'a' })
                .collect();
            assert!(!has_backslash(&plain), "{len} bytes without one");
            for at in 0..len {
                let mut b = plain.clone();
                b[at] = b'\\';
                assert!(has_backslash(&b), "length {len}, backslash at {at}");
            }
        }
    }

    #[test]
    fn lines_count_the_breaks_before_each_offset_in_any_order() {
        // Line starts: "a\n" line 1 (offsets 0–1), "\r\n" line 2 (2–3), "bc\n" line 3 (4–6),
        // "\n" line 4 (7), "d" line 5 (8); 9 is the end, still line 5.
        let text = b"a\n\r\nbc\n\nd";
        let expected = |offset: usize| {
            1 + text[..offset.min(text.len())]
                .iter()
                .filter(|b| **b == b'\n')
                .count()
        };
        assert_eq!(
            (0..=9).map(expected).collect::<Vec<_>>(),
            [1, 1, 2, 2, 3, 3, 3, 4, 5, 5]
        );
        // In order, as records come; then backwards, repeated and past the end.
        let mut lines = Lines::new(text);
        for offset in 0..=9 {
            assert_eq!(lines.line_of(offset), expected(offset), "offset {offset}");
        }
        for offset in [9, 3, 3, 8, 0, 100, 6] {
            assert_eq!(lines.line_of(offset), expected(offset), "offset {offset}");
        }
        assert_eq!(Lines::new(b"").line_of(5), 1);
    }

    fn raw(s: &str) -> &RawValue {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn plain_date_times_read_as_chrono_reads_them() {
        // Every field at and around its bounds (month 0 and 13, day 0 and 32 of every month,
        // hour 24, minute and second 60, leap and common years), and forms the plain reading
        // leaves to chrono: each gives what chrono gives, or is refused where it refuses.
        let mut plain = 0;
        for y in [
            "0000", "0001", "1900", "2000", "2023", "2024", "2100", "9999",
        ] {
            for m in 0..=13 {
                for d in [0, 1, 28, 29, 30, 31, 32] {
                    for (h, mi, sec) in
                        [(0, 0, 0), (23, 59, 59), (24, 0, 0), (0, 60, 0), (0, 0, 60)]
                    {
                        let s = format!("{y}-{m:02}-{d:02}T{h:02}:{mi:02}:{sec:02}Z");
                        let chrono =
                            DateTime::parse_from_rfc3339(&s).map(|t| t.with_timezone(&Utc));
                        match plain_date_time(&s) {
                            Some(t) => {
                                assert_eq!(Ok(t), chrono, "{s}");
                                plain += 1;
                            }
                            None => assert!(chrono.is_err() || sec == 60, "{s}"),
                        }
                    }
                }
            }
        }
        // 8 years × 12 months × days 1 and 28, plus the 29ths, 30ths and 31sts that exist
        // (2000 and 2024 are leap years, 1900, 2100 and 0001 are not; 0000 is), × 2 times.
        assert_eq!(plain, (8 * 12 * 2 + (8 * 11 + 3) + 8 * 11 + 8 * 7) * 2);
        for s in [
            "2024-01-01t00:00:00Z",
            "2024-01-01T00:00:00z",
            "2024-01-01T00:00:00.5Z",
            "2024-01-01T09:00:00+09:00",
            "+2024-01-01T00:00:00Z",
            "2024-1-01T00:00:00Z",
        ] {
            assert!(plain_date_time(s).is_none(), "{s}");
        }
        assert_eq!(
            date_time(raw("\"2024-01-01T09:00:00+09:00\"")).unwrap(),
            date_time(raw("\"2024-01-01T00:00:00Z\"")).unwrap()
        );
    }

    #[test]
    fn urns_follow_rfc8141_syntax() {
        assert!(check_urn("urn:gtin:5695872369587").is_ok());
        assert!(check_urn("URN:epc:id:sgln:562958.00000.4").is_ok());
        assert!(check_urn("urn:uuid:69585GB6-56T9-6958-E526-6FDGZJHU1326").is_ok());
        assert!(check_urn("urn:pact:productclassification:un-cpc:1234").is_ok());
        assert!(check_urn("gtin:5695872369587").is_err());
        assert!(check_urn("urn:gtin").is_err());
        assert!(check_urn("urn:x:").is_err());
        assert!(check_urn("urn:gtin:12 34").is_err());
        assert!(check_urn("urn:-x:1").is_err());
    }

    #[test]
    fn a_urn_may_hold_exactly_rfc3986s_path_characters() {
        // RFC 8141 §2: NSS = pchar *(pchar / "/"); RFC 3986 §3.3: pchar = unreserved /
        // pct-encoded / sub-delims / ":" / "@", unreserved = ALPHA / DIGIT / "-" / "." /
        // "_" / "~", sub-delims = "!" / "$" / "&" / "'" / "(" / ")" / "*" / "+" / "," / ";"
        // / "=". "%" starts pct-encoded; bytes from 0x80 are kept for IRIs.
        let listed = b"-._~!$&'()*+,;=:@/%";
        for b in 0..=255u8 {
            let allowed = b.is_ascii_alphanumeric() || listed.contains(&b) || b >= 0x80;
            assert_eq!(NSS_BYTES[b as usize], allowed, "byte {b:#04x}");
            if b < 0x80 {
                let urn = format!("urn:x-y:a{}b", b as char);
                assert_eq!(check_urn(&urn).is_ok(), allowed, "{urn:?}");
                // RFC 8141 §2: NID = (alphanum) 0*30(ldh) (alphanum), ldh = alphanum / "-".
                // (":" ends the NID, so "a:b" is the NID "a", one letter: refused too.)
                let nid_allowed = b.is_ascii_alphanumeric() || b == b'-';
                let urn = format!("urn:a{}b:x", b as char);
                assert_eq!(check_urn(&urn).is_ok(), nid_allowed, "{urn:?}");
            }
        }
    }

    #[test]
    fn pointers_escape_tokens() {
        assert_eq!(pointer(&Ptr::ROOT.key("pcf"), "a/b~c"), "/pcf/a~1b~0c");
        let ids = Ptr::ROOT.key("companyIds");
        assert_eq!(ids.index(2).get(), "/companyIds/2");
        assert_eq!(ids.index(2).key("a/b").get(), "/companyIds/2/a~1b");
    }

    #[test]
    fn uuid_bits_read_only_lower_case_uuids() {
        let id = "f4b1225a-bd44-4c8e-861d-079e4e1dfd69";
        assert_eq!(uuid_bits(id), Some(0xf4b1225a_bd44_4c8e_861d_079e4e1dfd69));
        assert_eq!(uuid_bits("00000000-0000-0000-0000-000000000000"), Some(0));
        // Upper case never reaches the key (the checks lower-case ids): refused, so that
        // two spellings cannot share a key.
        assert_eq!(uuid_bits(&id.to_ascii_uppercase()), None);
        // A dash out of place, a digit where a dash goes, one digit short.
        assert_eq!(uuid_bits("f4b1225ab-d44-4c8e-861d-079e4e1dfd69"), None);
        assert_eq!(uuid_bits("f4b1225a0bd44-4c8e-861d-079e4e1dfd69"), None);
        assert_eq!(uuid_bits(&id[1..]), None);
        assert_eq!(uuid_bits("f4b1225a-bd44-4c8e-861d-079e4e1dfd6g"), None);
        // Any case is a UUID to the checks (which then lower-case it), but nothing else is.
        assert!(is_uuid(id) && is_uuid(&id.to_ascii_uppercase()));
        for bad in [
            "f4b1225ab-d44-4c8e-861d-079e4e1dfd69",
            "f4b1225a-bd44-4c8e-861d-079e4e1dfd6g",
        ] {
            assert!(!is_uuid(bad), "{bad}");
        }
        assert!(!is_uuid(&id[1..]) && !is_uuid(&format!("{id}0")));
    }

    #[test]
    fn strings_borrow_without_escapes() {
        assert!(matches!(
            string(raw("\"abc\"")).unwrap(),
            Cow::Borrowed("abc")
        ));
        assert_eq!(string(raw("\"a\\u00e9\"")).unwrap(), "aé");
        assert!(string(raw("12")).is_err());
    }
}
