//! The bytes of a JSON text read by the tape: strings (found through the text's marks),
//! numbers, literals and whitespace.

/// Where a text's quotes are, and where its backslashes and control characters are: a bit
/// per byte, found 64 bytes at a time before the text is read, so that a string's end is the
/// next quote bit (the first stage of simdjson, without its tracking of escapes: a string
/// with a backslash before its closing quote is read byte by byte). Read one at a time, the
/// strings of a footprint (a hundred and fifty, mostly keys of a few bytes) each set up a
/// 32-byte comparison of their own: that was the tape's largest cost.
#[derive(Default)]
pub(super) struct Marks {
    quotes: Vec<u64>,
    special: Vec<u64>,
}

impl Marks {
    /// Marks the bytes of `b`; without AVX2 the marks stay empty and every string is read
    /// byte by byte ([`string_bytes`]).
    pub(super) fn mark(&mut self, b: &[u8]) {
        self.quotes.clear();
        self.special.clear();
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the processor has AVX2, checked just above.
            unsafe { self.mark_avx2(b) }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = b;
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn mark_avx2(&mut self, b: &[u8]) {
        use std::arch::x86_64::{
            __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_min_epu8, _mm256_movemask_epi8,
            _mm256_or_si256, _mm256_set1_epi8,
        };
        let quote = _mm256_set1_epi8(b'"' as i8);
        let backslash = _mm256_set1_epi8(b'\\' as i8);
        let control = _mm256_set1_epi8(0x1f);
        // The quotes and the special bytes of 32 bytes, a bit each.
        let half = |p: &[u8]| -> (u64, u64) {
            // SAFETY: `p` is 32 readable bytes (every caller's slice); the load takes any
            // alignment.
            let v = unsafe { _mm256_loadu_si256(p.as_ptr().cast::<__m256i>()) };
            let q = _mm256_movemask_epi8(_mm256_cmpeq_epi8(v, quote)) as u32;
            // A control character is a byte whose unsigned minimum with 0x1f is itself.
            let s = _mm256_movemask_epi8(_mm256_or_si256(
                _mm256_cmpeq_epi8(v, backslash),
                _mm256_cmpeq_epi8(_mm256_min_epu8(v, control), v),
            )) as u32;
            (u64::from(q), u64::from(s))
        };
        let words = b.len().div_ceil(64);
        self.quotes.reserve(words);
        self.special.reserve(words);
        let mut blocks = b.chunks_exact(64);
        let mut push = |block: &[u8]| {
            let (q0, s0) = half(&block[..32]);
            let (q1, s1) = half(&block[32..64]);
            self.quotes.push(q0 | q1 << 32);
            self.special.push(s0 | s1 << 32);
        };
        for block in &mut blocks {
            push(block);
        }
        let rest = blocks.remainder();
        if !rest.is_empty() {
            // Padded with spaces, which are neither.
            let mut last = [b' '; 64];
            last[..rest.len()].copy_from_slice(rest);
            push(&last);
        }
    }

    /// Where the string whose text starts at `from` ends (its closing quote), when no
    /// backslash or control character comes before that quote; `None` otherwise, and when
    /// the text was not marked.
    fn plain_end(&self, from: usize) -> Option<usize> {
        let mut w = from / 64;
        let below = !0_u64 << (from % 64);
        let mut q = *self.quotes.get(w)? & below;
        let mut s = self.special[w] & below;
        loop {
            if q != 0 {
                let end = q.trailing_zeros();
                return (s & ((1 << end) - 1) == 0).then_some(w * 64 + end as usize);
            }
            if s != 0 {
                return None;
            }
            w += 1;
            q = *self.quotes.get(w)?;
            s = self.special[w];
        }
    }
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

/// Where the JSON whitespace from `i` ends.
pub(in crate::ingest) fn ws(b: &[u8], mut i: usize) -> usize {
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

/// `byte` in each of a word's eight bytes.
pub(in crate::ingest) const fn each(byte: u8) -> u64 {
    u64::from_le_bytes([byte; 8])
}

/// The high bit of each byte of `v` below `n` (the lowest flagged byte is always a true one;
/// bytes of 0x80 and over, UTF-8's, are never flagged). `below(v ^ each(c), 1)` flags the
/// bytes equal to `c`.
#[inline]
pub(in crate::ingest) fn below(v: u64, n: u8) -> u64 {
    v.wrapping_sub(each(1) * u64::from(n)) & !v & each(0x80)
}

/// [`plain_run`] 8 bytes at a time, in a `u64`.
fn plain_run_words(b: &[u8], mut at: usize) -> usize {
    while let Some(w) = b.get(at..at + 8).and_then(|w| <[u8; 8]>::try_from(w).ok()) {
        let v = u64::from_le_bytes(w);
        let stops = below(v ^ each(b'"'), 1) | below(v ^ each(b'\\'), 1) | below(v, 0x20);
        if stops != 0 {
            return at + (stops.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    at
}

/// The end (past the closing quote) of the string opening at `i`, and whether it has escapes.
pub(super) fn string(b: &[u8], marks: &Marks, i: usize) -> Option<(usize, bool)> {
    match marks.plain_end(i + 1) {
        Some(end) => Some((end + 1, false)),
        None => string_bytes(b, i),
    }
}

/// [`string`], reading its bytes.
pub(super) fn string_bytes(b: &[u8], i: usize) -> Option<(usize, bool)> {
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

pub(super) fn digits(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    i
}

/// The end of the number starting at `i`: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
pub(super) fn number(b: &[u8], mut i: usize) -> Option<usize> {
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

pub(super) fn literal(b: &[u8], i: usize, word: &[u8]) -> Option<usize> {
    (b.get(i..i + word.len())? == word).then_some(i + word.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marked_strings_end_where_their_bytes_do() {
        // Texts of every length to 200 bytes, mostly plain, with quotes, backslashes, escapes
        // and control characters strewn in: every string opening anywhere reads to the same
        // end through the marks as byte by byte (the marks' words end at 64, 128 and 192).
        let alphabet: [&[u8]; 9] = [
            b"a",
            b"a",
            b"a",
            b"a",
            b"\"",
            b"\\",
            b"\\u00e9",
            b"\n",
            b"\xc3\xa9",
        ];
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut marks = Marks::default();
        let mut strings = 0;
        for len in 0..200 {
            for _ in 0..20 {
                let mut b = Vec::with_capacity(len + 6);
                while b.len() < len {
                    b.extend_from_slice(alphabet[(next() % 9) as usize]);
                }
                marks.mark(&b);
                for i in (0..b.len()).filter(|&i| b[i] == b'"') {
                    assert_eq!(string(&b, &marks, i), string_bytes(&b, i), "{i} in {b:?}");
                    strings += 1;
                }
            }
        }
        assert!(strings > 10_000, "{strings} strings");
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
}
