//! Chunks into units of work: NDJSON lines, CSV pieces cut between records, and checking
//! the units of a chunk on every core, beside the ordered work on the chunk before.

use std::sync::Arc;

use rayon::prelude::*;

use super::tape::{Read, Tape};
use super::{
    Checked, Chunk, Group, GroupBuilder, Unit, bom, check_element, check_line, check_value, gx,
    size_message, whole,
};
use crate::Result;

/// Most lines a chunk of NDJSON is checked in: a chunk ends after them, even short of its
/// bytes. Each line's outcome is kept until its chunk is decided; a 15 MB file of three
/// million one-byte lines held 2.4 GiB, where chunks of a few thousand footprints are its
/// usual size.
pub(super) const MOST_LINES: usize = 1 << 16;

/// The lines of an NDJSON chunk (the first `skip` bytes left out), numbered from `line_no`,
/// as units of work; blank lines are skipped and lines over `max` bytes rejected. Stops
/// after `most` units. Also gives the number of line breaks read (counted on the way: a pass
/// of its own over each chunk was 1 % of an ingest's CPU, with the other cores idle) and how
/// many of the chunk's bytes were read (the rest goes back with [`give_back`]).
pub(super) fn ndjson_units(
    bytes: &[u8],
    skip: usize,
    line_no: usize,
    max: usize,
    most: usize,
) -> (Vec<Unit<'_>>, usize, usize) {
    let mut units = Vec::new();
    let mut start = skip;
    let mut breaks = 0;
    let ends = memchr::memchr_iter(b'\n', bytes).chain(std::iter::once(bytes.len()));
    for (n, end) in ends.enumerate() {
        if start > bytes.len() || units.len() == most {
            break;
        }
        if end < bytes.len() {
            breaks += 1;
        }
        let this = line_no + n;
        let line = &bytes[start..end];
        start = end + 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.trim_ascii().is_empty() {
            continue;
        }
        units.push(if line.len() > max {
            Unit::Rejected {
                line: this,
                diag: whole(size_message(line.len(), max)),
            }
        } else {
            Unit::Line {
                bytes: line,
                line: this,
            }
        });
    }
    (units, breaks, start.min(bytes.len()))
}

/// Puts the bytes of `chunk` from `used` on back in front of `buf`, for the next chunk.
pub(super) fn give_back(chunk: &mut Vec<u8>, used: usize, buf: &mut Vec<u8>) {
    if used < chunk.len() {
        let mut rest = chunk.split_off(used);
        rest.extend_from_slice(buf);
        *buf = rest;
    }
}

/// Parses and checks the units of `chunk` on every core, a [`Group`] at a time, its
/// footprints built into batches for ingest `seq` (or kept as `records`).
/// `text`, the JSON text that `Unit::Value`s are values of, read onto a tape when it was.
pub(super) fn check_units(
    names: &[Arc<str>],
    progress: &(dyn Fn(u64) + Sync),
    chunk: Chunk,
    units: Vec<Unit>,
    text: Option<Read>,
    (seq, records): (i64, bool),
) -> Result<Vec<Group>> {
    let si = chunk.source;
    units
        .into_par_iter()
        .chunks(GROUP_UNITS)
        .map_init(Tape::default, |tape, units| {
            let mut group = GroupBuilder::new(units.len(), seq, records);
            // Counted once per group: a progress bar's count is shared by the cores.
            let mut read = 0u64;
            for unit in units {
                match unit {
                    Unit::Line { bytes, line } => {
                        for checked in check_line(names, chunk, bytes, line, tape) {
                            group.push(checked)?;
                        }
                        read += bytes.len() as u64 + 1;
                    }
                    Unit::Element { bytes, line } => {
                        group.push(check_element(names, chunk, bytes, line, tape))?;
                        read += bytes.len() as u64 + 1;
                    }
                    Unit::Value { raw, line } => {
                        group.push(check_value(names, chunk, raw, None, text, line))?;
                        read += raw.get().len() as u64;
                    }
                    Unit::Rejected { line, diag } => {
                        group.push(Checked::rejected(si, line, diag))?;
                    }
                }
            }
            progress(read);
            group.finish()
        })
        .collect()
}

/// Documents checked by one task, one after the other, and built into batches together
/// (see [`Group`]): a few dozen groups to a chunk, to share between the cores. (At 1M
/// footprints, four rounds of 128, 256, 512 and 1,024 alternated: within a few per cent of
/// each other in CPU; 256 left the 3M ingest's peak about 90 MiB higher than 512 did.)
const GROUP_UNITS: usize = 512;

/// A CSV piece's rows.
pub(super) enum CsvRows {
    Bom(Vec<bom::CsvRow>),
    Gx(Vec<gx::GxRow>),
}

/// Whether CSV `bytes` may quote a field: most CSV files quote nothing, and are then cut at
/// any line break. (Stepping through every line break with the quote state took a core
/// 0.15 s per 370 MB.) Found once per chunk, for [`record_end`] and [`csv_pieces`].
pub(super) fn has_quotes(bytes: &[u8]) -> bool {
    memchr::memchr(b'"', bytes).is_some()
}

/// The end of the last whole CSV record in `bytes`: just after the last line break outside
/// quotes (a quote inside a field is doubled, so quotes outside fields pair up). `quoted`
/// is [`has_quotes`] of `bytes` (or of bytes that hold them).
pub(super) fn record_end(bytes: &[u8], quoted: bool) -> Option<usize> {
    if !quoted {
        return memchr::memrchr(b'\n', bytes).map(|i| i + 1);
    }
    let mut quoted = false;
    let mut end = None;
    for i in memchr::memchr2_iter(b'"', b'\n', bytes) {
        if bytes[i] == b'"' {
            quoted = !quoted;
        } else if !quoted {
            end = Some(i + 1);
        }
    }
    end
}

/// Splits `bytes`, whole CSV records, into about `n` ranges of whole records of at least
/// `min` bytes. `quoted` is as for [`record_end`].
pub(super) fn csv_pieces(
    bytes: &[u8],
    quoted: bool,
    n: usize,
    min: usize,
) -> Vec<std::ops::Range<usize>> {
    let target = (bytes.len() / n.max(1)).max(min).max(1);
    let mut out = Vec::new();
    let mut start = 0;
    while start < bytes.len() {
        let want = start + target;
        if want >= bytes.len() {
            out.push(start..bytes.len());
            break;
        }
        if !quoted {
            let end = memchr::memchr(b'\n', &bytes[want..]).map_or(bytes.len(), |i| want + i + 1);
            out.push(start..end);
            start = end;
            continue;
        }
        // The first record end after `want`, with the quote state known from `start`.
        let mut quoted = false;
        let mut cut = None;
        for i in memchr::memchr2_iter(b'"', b'\n', &bytes[start..]) {
            let i = start + i;
            if bytes[i] == b'"' {
                quoted = !quoted;
            } else if !quoted && i >= want {
                cut = Some(i + 1);
                break;
            }
        }
        let end = cut.unwrap_or(bytes.len());
        out.push(start..end);
        start = end;
    }
    out
}

/// Cuts `buf` at `cut`: returns the chunk (the bytes before the cut) and leaves the rest in
/// `buf`, which is now `spare`'s buffer (a chunk's, given back once it was decided) with room
/// for a whole chunk, so that reading the next one into it never grows it (each step of
/// growing copied what was read).
pub(super) fn take_chunk(
    buf: &mut Vec<u8>,
    cut: usize,
    spare: &mut Vec<u8>,
    step: usize,
) -> Vec<u8> {
    let mut next = std::mem::take(spare);
    next.clear();
    let want = step.max(buf.len() - cut);
    if next.capacity() < want {
        next = chunk_buffer(want);
    }
    next.extend_from_slice(&buf[cut..]);
    buf.truncate(cut);
    std::mem::replace(buf, next)
}

/// An empty buffer with room for `capacity` bytes of a source, in small pages (a chunk is
/// read front to back; see [`crate::pages`]). Faulted in as huge pages, the first chunks'
/// buffers held up the checks of an ingest's first second.
pub(super) fn chunk_buffer(capacity: usize) -> Vec<u8> {
    crate::pages::small_page_vec(capacity)
}

/// Runs `decide` on this thread while `work` runs on the thread pool.
///
/// `decide` hands rows to the writing thread and may wait for it; the writing thread builds
/// batches on the pool. So `decide` must never run on a pool thread (as in `rayon::join`):
/// waiting there holds a thread the writer may need, and the two can wait for each other.
pub(super) fn beside<A, B: Send>(
    decide: impl FnOnce() -> A,
    work: impl FnOnce() -> B + Send,
) -> (A, B) {
    std::thread::scope(|scope| {
        let worker = scope.spawn(work);
        let a = decide();
        let b = worker
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (a, b)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_chunks_end_only_between_records() {
        // The break inside the quoted field of row 2 is not a record end; the last break is.
        let text = b"p,c,1,\n\"a\nb\",c,2,\nx,y,3,\npartial";
        assert_eq!(record_end(text, has_quotes(text)), Some(25));
        assert_eq!(&text[..25], b"p,c,1,\n\"a\nb\",c,2,\nx,y,3,\n");
        // An open quote at the end of a chunk: no record end after it.
        assert_eq!(record_end(b"p,c,1,\n\"a\nb", true), Some(7));
        assert_eq!(record_end(b"\"a\nb", true), None);

        // Four pieces of 36 bytes: 9 bytes each, cut at the first record end at or after
        // that. The break at 7 comes too early, those at 10–12 are quoted, so the first
        // piece ends after row 2 (byte 20); the second runs to the end (27 is too early).
        let text = b"r1,a,1,\n\"q\n\n\n\",b,2,\nr3,c,3,\nr4,d,4,\n";
        let pieces = csv_pieces(text, has_quotes(text), 4, 8);
        assert_eq!(pieces, vec![0..20, 20..36]);
        for p in &pieces {
            assert_eq!(text[p.end - 1], b'\n');
            assert_eq!(record_end(&text[p.clone()], true), Some(p.len()));
        }
    }

    #[test]
    fn unquoted_csv_is_cut_at_its_line_breaks() {
        // Rows of 8 bytes, breaks at 7, 15 and 23, then a partial row.
        let text = b"r1,a,1,\nr2,b,2,\nr3,c,3,\npartial";
        assert_eq!(record_end(text, has_quotes(text)), Some(24));
        assert_eq!(record_end(b"no break", false), None);
        // Three pieces of 8 bytes, at least 9: the first runs to the first break at or after
        // byte 9 (15), the second from 16 is the rest.
        assert_eq!(
            csv_pieces(&text[..24], has_quotes(&text[..24]), 3, 9),
            vec![0..16, 16..24]
        );
        // The same rows with a quoted field take the quote-aware path and cut alike.
        let quoted = b"r1,a,1,\nr2,\"b\",2,\nr3,c,3,\n";
        assert_eq!(
            csv_pieces(quoted, has_quotes(quoted), 3, 9),
            vec![0..18, 18..26]
        );
    }

    #[test]
    fn ndjson_lines_are_numbered_and_their_breaks_counted() {
        // Lines 5–9 of a source: a document, a blank line, one with CR LF, a line over the
        // 8-byte limit, and a last line without a break. Four breaks in all.
        let text = b"{\"a\":1}\n\n{\"b\":2}\r\n{\"long\":123}\n{}";
        let (units, breaks, used) = ndjson_units(text, 0, 5, 8, MOST_LINES);
        assert_eq!(used, text.len());
        assert_eq!(breaks, 4);
        let seen: Vec<(usize, &str)> = units
            .iter()
            .map(|u| match u {
                Unit::Line { bytes, line } => (*line, std::str::from_utf8(bytes).unwrap_or("?")),
                Unit::Rejected { line, .. } => (*line, "rejected"),
                Unit::Value { line, .. } | Unit::Element { line, .. } => (*line, "value"),
            })
            .collect();
        assert_eq!(
            seen,
            vec![
                (5, "{\"a\":1}"),
                (7, "{\"b\":2}"),
                (8, "rejected"),
                (9, "{}")
            ]
        );
        // A chunk ending in a break: the empty rest is no line, and not a break.
        assert_eq!(ndjson_units(b"{}\n", 0, 1, 8, MOST_LINES).1, 1);
        // At most two units: the chunk is read through line 7's CR LF (bytes 0–17: 7 + 1, a
        // blank line, 7 + 2), three breaks; the rest is given back in front of what comes next.
        let (units, breaks, used) = ndjson_units(text, 0, 5, 8, 2);
        assert_eq!((units.len(), breaks, used), (2, 3, 18));
        let mut chunk = text.to_vec();
        let mut next = b"{\"c\":3}".to_vec();
        give_back(&mut chunk, used, &mut next);
        assert_eq!(&chunk[..], &text[..18]);
        assert_eq!(&next[..], &b"{\"long\":123}\n{}{\"c\":3}"[..]);
    }
}
