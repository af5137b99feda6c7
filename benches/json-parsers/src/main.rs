//! How fast each JSON parser reads the documents of an NDJSON file on one core, for the
//! syntax work of `mieruka ingest`: every line checked as UTF-8 and as JSON, and taken apart
//! into the members of every object and array (what the checks then read field by field).
//!
//! ```sh
//! cargo run --release --manifest-path benches/json-parsers/Cargo.toml -- FILE.ndjson [MB] [ROUNDS]
//! ```
//!
//! Each approach reads the first `MB` megabytes of whole lines (default 512) `ROUNDS` times
//! (default 3, interleaved) and prints its median MB/s and the count of values it saw, which
//! must agree between the approaches that take documents apart (a parser that read less would
//! show it). `--features exact` builds sonic-rs with `arbitrary_precision`, so that its tree
//! keeps each number's text, as the checks need (they never read a number through `f64`).

use std::time::Instant;

use serde_json::value::RawValue;

/// mieruka today (`src/ingest/mod.rs` `parse_text`, `src/ingest/json.rs` `split`): serde_json
/// checks the line whole into a `RawValue`, then every object and array is split into its
/// members by a scan that finds only where each member ends. The scan is a copy of
/// `json::split` (this crate does not build mieruka, whose splitter is private to its
/// checks): a change there is measured here only once copied.
mod today {
    use serde_json::value::RawValue;

    fn ws(b: &[u8], mut i: usize) -> usize {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = b.get(i) {
            i += 1;
        }
        i
    }

    fn string_end(b: &[u8], i: usize) -> Option<usize> {
        let mut at = i + 1;
        loop {
            at += memchr::memchr2(b'"', b'\\', b.get(at..)?)?;
            if b[at] == b'"' {
                return Some(at + 1);
            }
            at += 2;
        }
    }

    fn value_end(b: &[u8], i: usize) -> Option<usize> {
        match *b.get(i)? {
            b'"' => string_end(b, i),
            b'{' | b'[' => {
                let mut depth = 0_usize;
                let mut at = i;
                loop {
                    match *b.get(at)? {
                        b'"' => {
                            at = string_end(b, at)?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                return Some(at + 1);
                            }
                        }
                        _ => {}
                    }
                    at += 1;
                }
            }
            _ => {
                let mut at = i;
                while let Some(c) = b.get(at) {
                    if matches!(c, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t') {
                        break;
                    }
                    at += 1;
                }
                (at > i).then_some(at)
            }
        }
    }

    /// The ends of every object and array of a checked document, found in one scan: a
    /// member that is a container ends where the index says, instead of being scanned again
    /// at every level above it.
    pub struct Ends(Vec<(usize, usize)>);

    impl Ends {
        pub fn of(text: &str) -> Ends {
            let b = text.as_bytes();
            let mut out = Vec::new();
            let mut open = Vec::new();
            let mut at = 0;
            while at < b.len() {
                match b[at] {
                    b'"' => {
                        at = string_end(b, at).expect("string");
                        continue;
                    }
                    b'{' | b'[' => {
                        open.push(out.len());
                        out.push((at, 0));
                    }
                    b'}' | b']' => {
                        let i = open.pop().expect("open");
                        out[i].1 = at + 1;
                    }
                    _ => {}
                }
                at += 1;
            }
            Ends(out)
        }

        fn end(&self, start: usize) -> usize {
            let i = self.0.partition_point(|(s, _)| *s < start);
            self.0[i].1
        }
    }

    /// Counts the values under `text` (itself included), splitting as the checks do; with
    /// `ends`, containers end where it says (`base` is `text`'s offset in the indexed
    /// document) instead of where a scan finds.
    pub fn walk(text: &str, base: usize, ends: Option<&Ends>) -> usize {
        let b = text.as_bytes();
        let end_of = |i: usize| match (b[i], ends) {
            (b'{' | b'[', Some(ends)) => ends.end(base + i) - base,
            _ => value_end(b, i).expect("value"),
        };
        match b.first() {
            Some(b'{') => {
                let mut n = 1;
                let mut i = ws(b, 1);
                if b.get(i) == Some(&b'}') {
                    return n;
                }
                loop {
                    let key_end = string_end(b, i).expect("key");
                    i = ws(b, key_end);
                    let start = ws(b, i + 1);
                    let end = end_of(start);
                    n += walk(&text[start..end], base + start, ends);
                    i = ws(b, end);
                    match b[i] {
                        b',' => i = ws(b, i + 1),
                        _ => return n,
                    }
                }
            }
            Some(b'[') => {
                let mut n = 1;
                let mut i = ws(b, 1);
                if b.get(i) == Some(&b']') {
                    return n;
                }
                loop {
                    let end = end_of(i);
                    n += walk(&text[i..end], base + i, ends);
                    i = ws(b, end);
                    match b[i] {
                        b',' => i = ws(b, i + 1),
                        _ => return n,
                    }
                }
            }
            _ => 1,
        }
    }

    pub fn line(bytes: &[u8]) -> usize {
        let text = std::str::from_utf8(bytes).expect("UTF-8");
        let raw: &RawValue = serde_json::from_str(text).expect("JSON");
        walk(raw.get(), 0, None)
    }
}

fn count_serde(v: &serde_json::Value) -> usize {
    1 + match v {
        serde_json::Value::Object(m) => m.values().map(count_serde).sum(),
        serde_json::Value::Array(a) => a.iter().map(count_serde).sum(),
        _ => 0,
    }
}

fn count_sonic(v: &sonic_rs::Value) -> usize {
    use sonic_rs::JsonContainerTrait;
    1 + if let Some(o) = v.as_object() {
        o.iter().map(|(_, v)| count_sonic(v)).sum()
    } else if let Some(a) = v.as_array() {
        a.iter().map(count_sonic).sum()
    } else {
        0
    }
}

fn count_simd(v: &simd_json::BorrowedValue) -> usize {
    1 + match v {
        simd_json::BorrowedValue::Object(m) => m.values().map(count_simd).sum(),
        simd_json::BorrowedValue::Array(a) => a.iter().map(count_simd).sum(),
        _ => 0,
    }
}

/// Splits every object and array with sonic-rs's lazy iterators, level by level as the checks
/// read them; `checked` iterators check what they skip, unchecked ones trust the text.
fn sonic_split(text: &str, checked: bool) -> usize {
    match text.as_bytes().first() {
        Some(b'{') => {
            let members = if checked {
                sonic_rs::to_object_iter(text)
            } else {
                // SAFETY: only ever called unchecked on a value serde_json has checked.
                unsafe { sonic_rs::to_object_iter_unchecked(text) }
            };
            1 + members
                .map(|m| sonic_split(m.expect("JSON").1.as_raw_str(), checked))
                .sum::<usize>()
        }
        Some(b'[') => {
            let elements = if checked {
                sonic_rs::to_array_iter(text)
            } else {
                // SAFETY: as above.
                unsafe { sonic_rs::to_array_iter_unchecked(text) }
            };
            1 + elements
                .map(|v| sonic_split(v.expect("JSON").as_raw_str(), checked))
                .sum::<usize>()
        }
        _ => 1,
    }
}

type Approach = (&'static str, fn(&[u8], &mut Vec<u8>) -> usize);

const APPROACHES: &[Approach] = &[
    (
        "today: serde_json RawValue check + split of every object and array",
        |l, _| today::line(l),
    ),
    (
        "serde_json RawValue check + split with every container's end found in one scan",
        |l, _| {
            let text = std::str::from_utf8(l).expect("UTF-8");
            let raw: &RawValue = serde_json::from_str(text).expect("JSON");
            let ends = today::Ends::of(raw.get());
            today::walk(raw.get(), 0, Some(&ends))
        },
    ),
    ("serde_json RawValue check alone (no split)", |l, _| {
        let text = std::str::from_utf8(l).expect("UTF-8");
        let _: &RawValue = serde_json::from_str(text).expect("JSON");
        1
    }),
    ("serde_json Value (a tree, numbers as f64)", |l, _| {
        count_serde(&serde_json::from_slice(l).expect("JSON"))
    }),
    ("sonic-rs LazyValue check alone (no split)", |l, _| {
        let _: sonic_rs::LazyValue = sonic_rs::from_slice(l).expect("JSON");
        1
    }),
    (
        "serde_json RawValue check + sonic-rs unchecked lazy split of every level",
        |l, _| {
            let text = std::str::from_utf8(l).expect("UTF-8");
            let raw: &RawValue = serde_json::from_str(text).expect("JSON");
            sonic_split(raw.get(), false)
        },
    ),
    (
        "sonic-rs checked lazy split of every level (no serde_json)",
        |l, _| sonic_split(std::str::from_utf8(l).expect("UTF-8"), true),
    ),
    #[cfg(not(feature = "exact"))]
    ("sonic-rs Value (a tree, numbers as f64)", |l, _| {
        count_sonic(&sonic_rs::from_slice(l).expect("JSON"))
    }),
    #[cfg(feature = "exact")]
    (
        "sonic-rs Value, arbitrary_precision (a tree, numbers as their text)",
        |l, _| count_sonic(&sonic_rs::from_slice(l).expect("JSON")),
    ),
    (
        "simd-json BorrowedValue (a tree, numbers as f64; parses a copy in place)",
        |l, buf| {
            buf.clear();
            buf.extend_from_slice(l);
            count_simd(&simd_json::to_borrowed_value(buf).expect("JSON"))
        },
    ),
];

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .expect("usage: json-parsers FILE.ndjson [MB] [ROUNDS]");
    let mb: usize = args.next().map_or(512, |s| s.parse().expect("MB"));
    let rounds: usize = args.next().map_or(3, |s| s.parse().expect("ROUNDS"));
    let all = std::fs::read(&path).expect("read");
    let cut = (mb << 20).min(all.len());
    let end = memchr::memrchr(b'\n', &all[..cut]).map_or(all.len(), |i| i + 1);
    let text = &all[..end];
    let lines: Vec<&[u8]> = text
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    println!(
        "{} lines, {:.1} MB, {rounds} rounds",
        lines.len(),
        text.len() as f64 / 1e6
    );
    let mut times = vec![Vec::new(); APPROACHES.len()];
    let mut counts = vec![0; APPROACHES.len()];
    let mut buf = Vec::new();
    for _ in 0..rounds {
        for (i, (_, f)) in APPROACHES.iter().enumerate() {
            let start = Instant::now();
            let n: usize = lines.iter().map(|l| f(l, &mut buf)).sum();
            times[i].push(start.elapsed().as_secs_f64());
            counts[i] = n;
        }
    }
    for (i, (name, _)) in APPROACHES.iter().enumerate() {
        times[i].sort_by(f64::total_cmp);
        let median = times[i][times[i].len() / 2];
        println!(
            "{:>7.0} MB/s  {:>11} values  {name}",
            text.len() as f64 / 1e6 / median,
            counts[i]
        );
    }
}
