//! A JSON text too large to be one document, read element by element: an array of
//! footprints, or a PACT list response `{"data":[…]}`.
//!
//! Each element is found by its brackets and quotes alone (a value's end), cut out as a unit
//! of work like an NDJSON line, and parsed and checked as one document; a chunk ends after
//! its last whole element. What lies between the elements (the brackets, commas and blanks
//! of the array itself) is read here, and anything else there is reported once, at its line:
//! past it the array cannot be followed, and the rest of the source is not read as documents.

use super::tape::ws;
use super::{Unit, size_message, whole};

/// What comes next in a streamed array.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// The first element, or `]` (just after `[`).
    First,
    /// An element (after a comma).
    Element,
    /// `,` or `]`.
    CommaOrClose,
    /// `}`, closing the response whose `"data"` the array was, or `,` and another member.
    Brace,
    /// A member of the response after its `"data"` (read past: only `"data"` is read).
    Member,
    /// Nothing but blanks.
    End,
    /// Something that is not the array was reported: the rest is skipped.
    Broken,
}

/// Where a streamed array is read to, from one chunk to the next.
#[derive(Debug)]
pub(super) struct Scan {
    expect: Expect,
    /// Whether the array is a response's `"data"` (and a `}` follows it).
    wrapped: bool,
}

impl Scan {
    /// What comes after the array's `]`.
    fn closed(&self) -> Expect {
        match self.wrapped {
            true => Expect::Brace,
            false => Expect::End,
        }
    }

    /// The element that was next was read past (see [`ValueEnd`]).
    pub(super) fn skipped(&mut self) {
        self.expect = Expect::CommaOrClose;
    }
}

/// How the text `bytes` (a source's first bytes, its byte order mark left out) opens when it
/// is a streamable array: `[`, or a PACT list response, an object whose `"data"` is an array
/// (`{"data":[`; members before it, as long as they end within `bytes`, are read past).
/// Gives the scan to read its elements with, where they start, and the line breaks before.
/// An object with a footprint's `id`, `specVersion` or `pcf` before its `"data"` is none.
pub(super) fn open(bytes: &[u8]) -> Option<(Scan, usize, usize)> {
    let mut i = ws(bytes, 0);
    let wrapped = match bytes.get(i)? {
        b'[' => false,
        b'{' => {
            i = ws(bytes, i + 1);
            loop {
                let (key, value) = member_key(bytes, i).ok()?;
                match key {
                    b"data" if bytes.get(value) == Some(&b'[') => {
                        i = value;
                        break true;
                    }
                    b"data" | b"id" | b"specVersion" | b"pcf" => return None,
                    _ => {
                        let len = ValueEnd::default().feed(&bytes[value..])?;
                        i = ws(bytes, value + len);
                        if bytes.get(i) != Some(&b',') {
                            return None;
                        }
                        i = ws(bytes, i + 1);
                    }
                }
            }
        }
        _ => return None,
    };
    let at = i + 1;
    let breaks = memchr::memchr_iter(b'\n', &bytes[..at]).count();
    let scan = Scan {
        expect: Expect::First,
        wrapped,
    };
    Some((scan, at, breaks))
}

/// Reads the key of an object's member at `i`, its colon and the blanks after it: the key's
/// text (escapes left as they are) and where the value starts. `Err(true)` when `bytes`
/// ends first, `Err(false)` when there is no member at `i`.
fn member_key(bytes: &[u8], i: usize) -> Result<(&[u8], usize), bool> {
    match bytes.get(i) {
        None => return Err(true),
        Some(b'"') => {}
        Some(_) => return Err(false),
    }
    let end = i + ValueEnd::default().feed(&bytes[i..]).ok_or(true)?;
    let colon = ws(bytes, end);
    match bytes.get(colon) {
        None => Err(true),
        Some(b':') => {
            let value = ws(bytes, colon + 1);
            match value < bytes.len() {
                true => Ok((&bytes[i + 1..end - 1], value)),
                false => Err(true),
            }
        }
        Some(_) => Err(false),
    }
}

/// The end of a JSON value's text, found by its brackets and quotes (not checked: a value
/// whose syntax is wrong is cut where a parser would stop reading it, and rejected when it is
/// parsed). Kept from one piece of a text to the next, for a value too long to hold.
#[derive(Debug, Default)]
pub(super) struct ValueEnd {
    depth: usize,
    in_string: bool,
    /// A backslash ended the last piece: the next byte is escaped.
    escape: bool,
    /// Bytes read so far.
    pub(super) read: usize,
}

impl ValueEnd {
    /// Reads on in `b`, the next piece of the value's text: where in `b` the value ends, or
    /// `None` if it goes on past `b`.
    pub(super) fn feed(&mut self, b: &[u8]) -> Option<usize> {
        let mut i = 0;
        if b.is_empty() {
            return None;
        }
        if std::mem::take(&mut self.escape) {
            i = 1;
        }
        let end = loop {
            if i >= b.len() {
                break None;
            }
            // Inside an object or array, 32 bytes at a time where the processor can.
            #[cfg(target_arch = "x86_64")]
            if self.depth > 0 && i + 32 <= b.len() && std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the processor has AVX2 (checked just above); `b[i..i + 32]` is in
                // bounds.
                match unsafe { self.block_avx2(b, i) } {
                    Some(Ok(end)) => break Some(end),
                    Some(Err(next)) => {
                        i = next;
                        continue;
                    }
                    None => {}
                }
            }
            match self.step(b, i) {
                Ok(end) => break Some(end),
                Err(next) => i = next,
            }
        };
        self.read += end.unwrap_or(b.len()).min(b.len());
        end
    }

    /// Reads `b` from `i` to the next byte that may matter: `Ok` with the value's end, or
    /// `Err` with where to go on.
    fn step(&mut self, b: &[u8], i: usize) -> Result<usize, usize> {
        if self.in_string {
            return match memchr::memchr2(b'"', b'\\', &b[i..]) {
                None => Err(b.len()),
                Some(k) if b[i + k] == b'\\' => {
                    let next = i + k + 2;
                    self.escape = next > b.len();
                    Err(next)
                }
                Some(k) => {
                    self.in_string = false;
                    match self.depth {
                        0 => Ok(i + k + 1),
                        _ => Err(i + k + 1),
                    }
                }
            };
        }
        match b[i] {
            b'"' => self.in_string = true,
            b'{' | b'[' => self.depth += 1,
            b'}' | b']' if self.depth == 0 => return Ok(i),
            b'}' | b']' => {
                self.depth -= 1;
                if self.depth == 0 {
                    return Ok(i + 1);
                }
            }
            b',' | b' ' | b'\n' | b'\r' | b'\t' if self.depth == 0 => return Ok(i),
            _ => {}
        }
        Err(i + 1)
    }

    /// The 32 bytes of `b` from `i`, inside an object or array, at once: the quotes among
    /// them open and close strings (a prefix XOR of their positions), and the brackets outside
    /// strings count the depth, until it comes back to 0 (`Ok` with the value's end) or the
    /// block ends (`Err` with `i + 32`). `None` when the block has a backslash (what it
    /// escapes is left to [`ValueEnd::step`]).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn block_avx2(&mut self, b: &[u8], i: usize) -> Option<Result<usize, usize>> {
        use std::arch::x86_64::{
            __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_or_si256,
            _mm256_set1_epi8,
        };
        let block = b.get(i..i + 32)?;
        // SAFETY: `block` is 32 readable bytes; the load takes any alignment.
        let v = unsafe { _mm256_loadu_si256(block.as_ptr().cast::<__m256i>()) };
        let eq = |c: u8| _mm256_cmpeq_epi8(v, _mm256_set1_epi8(c as i8));
        let mask_of = |x: __m256i| _mm256_movemask_epi8(x) as u32;
        if mask_of(eq(b'\\')) != 0 {
            return None;
        }
        let quotes = mask_of(eq(b'"'));
        // Bit k set: byte k is inside a string (its opening quote included, its closing
        // quote not), counting from the state the block starts in.
        let mut strings = quotes;
        for shift in [1, 2, 4, 8, 16] {
            strings ^= strings << shift;
        }
        if self.in_string {
            strings = !strings;
        }
        let opens = mask_of(_mm256_or_si256(eq(b'{'), eq(b'['))) & !strings;
        let closes = mask_of(_mm256_or_si256(eq(b'}'), eq(b']'))) & !strings;
        let mut brackets = opens | closes;
        while brackets != 0 {
            let k = brackets.trailing_zeros();
            brackets &= brackets - 1;
            if opens & (1 << k) != 0 {
                self.depth += 1;
            } else {
                self.depth -= 1;
                if self.depth == 0 {
                    return Some(Ok(i + k as usize + 1));
                }
            }
        }
        self.in_string = strings >> 31 != 0;
        Some(Err(i + 32))
    }
}

/// What [`units`] read of a chunk.
pub(super) struct Split<'b> {
    pub(super) units: Vec<Unit<'b>>,
    /// Line breaks in the bytes read.
    pub(super) breaks: usize,
    /// Bytes read: the rest goes back for the next chunk.
    pub(super) used: usize,
    /// The element at `used` does not end within the chunk: more bytes are needed.
    pub(super) more: bool,
}

/// The elements of a streamed array in `bytes` (the next bytes of its source, starting
/// between two elements), numbered from line `line_no`, as units of work; elements over `max`
/// bytes are rejected. Stops after `most` units, and before an element that does not end
/// within `bytes` unless `last` (the source ends with them).
pub(super) fn units<'b>(
    scan: &mut Scan,
    bytes: &'b [u8],
    line_no: usize,
    max: usize,
    most: usize,
    last: bool,
) -> Split<'b> {
    let mut units = Vec::new();
    let mut line = line_no;
    let mut i = 0;
    let mut more = false;
    loop {
        if scan.expect == Expect::Broken {
            i = bytes.len();
            break;
        }
        let start = i;
        i = ws(bytes, i);
        line += memchr::memchr_iter(b'\n', &bytes[start..i]).count();
        let Some(&b) = bytes.get(i) else { break };
        if units.len() == most {
            break;
        }
        match scan.expect {
            Expect::First if b == b']' => {
                i += 1;
                scan.expect = scan.closed();
            }
            Expect::First | Expect::Element if matches!(b, b',' | b':' | b']' | b'}') => broken(
                &mut units,
                scan,
                line,
                format!("expected a footprint, found {}", found(b)),
            ),
            Expect::First | Expect::Element => {
                let Some(len) = ValueEnd::default().feed(&bytes[i..]) else {
                    if !last {
                        more = true;
                        break;
                    }
                    let message =
                        "the text ends inside this footprint: a bracket or a quote is not closed";
                    broken(&mut units, scan, line, message.into());
                    continue;
                };
                let element = &bytes[i..i + len];
                units.push(if len > max {
                    Unit::Rejected {
                        line,
                        diag: whole(size_message(len, max)),
                    }
                } else {
                    Unit::Element {
                        bytes: element,
                        line,
                    }
                });
                line += memchr::memchr_iter(b'\n', element).count();
                i += len;
                scan.expect = Expect::CommaOrClose;
            }
            Expect::CommaOrClose => match b {
                b',' => {
                    i += 1;
                    scan.expect = Expect::Element;
                }
                b']' => {
                    i += 1;
                    scan.expect = scan.closed();
                }
                _ => broken(
                    &mut units,
                    scan,
                    line,
                    format!(
                        "expected ',' or ']' after a footprint of the array, found {}",
                        found(b)
                    ),
                ),
            },
            Expect::Brace => match b {
                b'}' => {
                    i += 1;
                    scan.expect = Expect::End;
                }
                b',' => {
                    i += 1;
                    scan.expect = Expect::Member;
                }
                _ => broken(
                    &mut units,
                    scan,
                    line,
                    format!(
                        "expected ',' or '}}' after the response's \"data\", found {}",
                        found(b)
                    ),
                ),
            },
            Expect::Member => {
                let end = member_key(bytes, i).and_then(|(_, value)| {
                    let len = ValueEnd::default().feed(&bytes[value..]).ok_or(true)?;
                    Ok(value + len)
                });
                match end {
                    Ok(end) => {
                        line += memchr::memchr_iter(b'\n', &bytes[i..end]).count();
                        i = end;
                        scan.expect = Expect::Brace;
                    }
                    // Members are read whole: one that does not end within the limit is no
                    // member this reading follows.
                    Err(true) if !last && bytes.len() - i <= max => {
                        more = true;
                        break;
                    }
                    Err(true) if last => broken(
                        &mut units,
                        scan,
                        line,
                        "the text ends inside a member of the response".into(),
                    ),
                    Err(_) => broken(
                        &mut units,
                        scan,
                        line,
                        format!(
                            "expected a member of the response (\"name\": value, at most the \
                             document size limit), found {}",
                            found(b)
                        ),
                    ),
                }
            }
            Expect::End => broken(
                &mut units,
                scan,
                line,
                format!("expected nothing after the array, found {}", found(b)),
            ),
            Expect::Broken => {}
        }
    }
    Split {
        units,
        breaks: line - line_no,
        used: i,
        more,
    }
}

/// Reports `message` at `line`: the array cannot be followed past it.
fn broken(units: &mut Vec<Unit>, scan: &mut Scan, line: usize, message: String) {
    units.push(Unit::Rejected {
        line,
        diag: whole(message),
    });
    scan.expect = Expect::Broken;
}

/// Where a source read as a streamed array ended: `None` when it ended as an array does.
pub(super) fn unfinished(scan: &Scan) -> Option<&'static str> {
    match scan.expect {
        Expect::End | Expect::Broken => None,
        Expect::Brace | Expect::Member => Some("the text ends before the '}' closing the response"),
        _ => Some("the text ends before the ']' closing the array"),
    }
}

/// A byte as a diagnostic names it.
fn found(b: u8) -> String {
    match b {
        0x20..=0x7e => format!("{:?}", b as char),
        _ => format!("byte 0x{b:02x}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The units of `text` read in pieces cut at `cuts` (as the intake reads chunks, giving
    /// back what was not used), as (line, element text or "rejected: message").
    fn read(text: &str, cuts: &[usize], max: usize) -> Vec<(usize, String)> {
        let (mut scan, at, breaks) = open(text.as_bytes()).expect("an array");
        let (mut from, mut line) = (at, 1 + breaks);
        let mut out = Vec::new();
        for &cut in cuts.iter().chain(std::iter::once(&text.len())) {
            let cut = cut.max(from);
            let last = cut == text.len();
            let s = units(&mut scan, &text.as_bytes()[from..cut], line, max, 100, last);
            for u in s.units {
                out.push(match u {
                    Unit::Element { bytes, line } => {
                        (line, String::from_utf8_lossy(bytes).into_owned())
                    }
                    Unit::Rejected { line, diag } => (line, format!("rejected: {}", diag.message)),
                    _ => (0, "other".into()),
                });
            }
            assert!(!s.more || !last);
            from += s.used;
            line += s.breaks;
        }
        if let Some(m) = unfinished(&scan) {
            out.push((line, format!("unfinished: {m}")));
        }
        out
    }

    #[test]
    fn elements_are_cut_by_brackets_and_quotes_across_chunks() {
        // A pretty-printed response: the second element holds brackets, a comma and an
        // escaped quote inside strings, and spans lines 4–6; the third is a number.
        let text = "{ \"data\" :\n[\n  {\"a\": 1},\n  {\"b\": \"x]},\\\"{\",\n   \"c\": [1, {}]\n  },\n  7\n]\n}\n";
        let want: Vec<(usize, String)> = vec![
            (3, "{\"a\": 1}".into()),
            (4, "{\"b\": \"x]},\\\"{\",\n   \"c\": [1, {}]\n  }".into()),
            (7, "7".into()),
        ];
        // Whole, and cut at every byte (an element cut short waits for the next chunk).
        assert_eq!(read(text, &[], 1000), want);
        for cut in 0..text.len() {
            assert_eq!(read(text, &[cut], 1000), want, "cut at {cut}");
        }
        // A plain array, empty arrays, and an element over the limit (11 bytes > 10).
        assert_eq!(
            read("[{}, {}]", &[], 10),
            vec![(1, "{}".into()), (1, "{}".into())]
        );
        assert_eq!(read("[ ]", &[], 10), vec![]);
        assert_eq!(read("{\"data\":[]}", &[], 10), vec![]);
        assert_eq!(
            read("[{\"a\":\"xxx\"},\n{}]", &[], 10),
            vec![
                (
                    1,
                    "rejected: document is 11 bytes, over the 10 bytes limit (raise it with --max-document-size)".into()
                ),
                (2, "{}".into())
            ]
        );
        // Members of a response around its "data" are read past, in the head and in
        // chunks (cut anywhere); brackets and quotes inside them end nothing.
        let text = "{\"meta\": {\"n\": \"]}\"}, \"size\": 2,\n\"data\": [{}, {}],\n\"links\": [\"}\"], \"next\": null}";
        let want: Vec<(usize, String)> = vec![(2, "{}".into()), (2, "{}".into())];
        for cut in 0..text.len() {
            assert_eq!(read(text, &[cut], 100), want, "cut at {cut}");
        }
        // Only `[` and an object whose "data" is an array open a streamed array; a footprint
        // (its id, specVersion or pcf before any "data") does not.
        for text in [
            "{\"id\":1}",
            "{\"data\":{}}",
            "\"x\"",
            "",
            "{\"dat",
            "{\"id\":\"a\", \"data\":[]}",
            "{\"meta\":1 \"data\":[]}",
        ] {
            assert!(open(text.as_bytes()).is_none(), "{text}");
        }
    }

    #[test]
    fn what_is_not_an_array_is_reported_once_at_its_line() {
        assert_eq!(
            read("[{},\n{} {}]", &[], 100),
            vec![
                (1, "{}".into()),
                (2, "{}".into()),
                (
                    2,
                    "rejected: expected ',' or ']' after a footprint of the array, found '{'"
                        .into()
                )
            ]
        );
        assert_eq!(
            read("[{}]\nx", &[], 100)[1],
            (
                2,
                "rejected: expected nothing after the array, found 'x'".into()
            )
        );
        assert_eq!(
            read("{\"data\":[{}], \"x\" 1}", &[], 100)[1].1,
            "rejected: expected a member of the response (\"name\": value, at most the document size limit), found '\"'"
        );
        assert_eq!(
            read("{\"data\":[{}] ]", &[], 100)[1].1,
            "rejected: expected ',' or '}' after the response's \"data\", found ']'"
        );
        assert_eq!(
            read("[{}, {\"a\":\"]", &[], 100)[1],
            (
                1,
                "rejected: the text ends inside this footprint: a bracket or a quote is not closed"
                    .into()
            )
        );
        assert_eq!(
            read("[{},,{}]", &[], 100)[1].1,
            "rejected: expected a footprint, found ','"
        );
        assert_eq!(
            read("[{}, {}", &[], 100)[2].1,
            "unfinished: the text ends before the ']' closing the array"
        );
        assert_eq!(
            read("{\"data\":[{}]", &[], 100)[1].1,
            "unfinished: the text ends before the '}' closing the response"
        );
    }

    /// [`ValueEnd::feed`] a byte or a string at a time, never a block.
    fn feed_bytewise(v: &mut ValueEnd, b: &[u8]) -> Option<usize> {
        if b.is_empty() {
            return None;
        }
        let mut i = usize::from(std::mem::take(&mut v.escape));
        let end = loop {
            if i >= b.len() {
                break None;
            }
            match v.step(b, i) {
                Ok(end) => break Some(end),
                Err(next) => i = next,
            }
        };
        v.read += end.unwrap_or(b.len()).min(b.len());
        end
    }

    proptest::proptest! {
        #[test]
        fn blocks_find_the_ends_bytes_do(
            text in "\\{([{}\\[\\]\", a]{0,40}\\\\?){0,8}",
            cut in 0usize..330,
        ) {
            // Any text opening an object, with every byte that matters to the scan, fed in
            // two pieces: the same end and bytes read, and the same state when it goes on,
            // blocks or not.
            let b = text.as_bytes();
            let cut = cut.min(b.len());
            let (mut blocks, mut bytes) = (ValueEnd::default(), ValueEnd::default());
            let ends = |v: &mut ValueEnd, f: fn(&mut ValueEnd, &[u8]) -> Option<usize>| {
                f(v, &b[..cut]).or_else(|| f(v, &b[cut..]).map(|n| n + cut))
            };
            let found = ends(&mut blocks, ValueEnd::feed);
            proptest::prop_assert_eq!(found, ends(&mut bytes, feed_bytewise));
            proptest::prop_assert_eq!(blocks.read, bytes.read);
            // Past a value's end, its state is never read again.
            if found.is_none() {
                proptest::prop_assert_eq!(
                    (blocks.depth, blocks.in_string, blocks.escape),
                    (bytes.depth, bytes.in_string, bytes.escape)
                );
            }
        }
    }

    #[test]
    fn a_value_end_is_found_across_pieces() {
        // An escape split between two pieces, then the rest of the value and a comma.
        let mut v = ValueEnd::default();
        assert_eq!(v.feed(b"{\"a\":\"x\\"), None);
        assert_eq!(v.feed(b"\"}\"}, {}"), Some(4));
        assert_eq!(v.read, 12);
    }
}
