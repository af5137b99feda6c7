//! Which layout each source has (see [`layout`]), from as few of its first bytes as tell.

use super::super::{IngestOptions, Layout, Source, array, layout, strip_bom};
use super::Reader;
use crate::Result;

/// How each source is read, or why it cannot be (see [`layout`]).
pub(in crate::ingest) type Layouts = Vec<std::result::Result<Layout, String>>;

/// The layout of every source, from its first bytes.
pub(in crate::ingest) fn layouts(sources: &[Source], opts: &IngestOptions) -> Result<Layouts> {
    sources.iter().map(|s| layout_of(s, opts)).collect()
}

/// Whether any source is a BOM CSV (whose rows are compared with the stored ones).
pub(in crate::ingest) fn has_bom_csv(layouts: &Layouts) -> bool {
    layouts.iter().any(|l| matches!(l, Ok(Layout::BomCsv)))
}

/// Whether any of the sources is JSON or NDJSON: may hold footprint documents, which are
/// compared with the stored ones.
pub(in crate::ingest) fn has_documents(layouts: &Layouts) -> bool {
    layouts
        .iter()
        .any(|l| matches!(l, Ok(Layout::Ndjson | Layout::Json)))
}

/// How a source is read, decided from its first bytes.
fn layout_of(source: &Source, opts: &IngestOptions) -> Result<std::result::Result<Layout, String>> {
    let limit = opts
        .chunk_bytes
        .max(opts.max_document_bytes.saturating_add(2));
    let mut r = Reader::open(source)?;
    let mut head = Vec::new();
    // Read on until the first line has ended and something follows it (all that `layout`
    // looks at), the source ends, or `limit` bytes were read: a block for NDJSON, where a
    // whole chunk read here (32 MiB, faulted in, read again by the ingest) came first.
    let (mut block, mut broken, mut more) = (HEAD_BLOCK, false, false);
    while !r.done && head.len() < limit && !more {
        let (from, n) = (head.len(), block.min(limit - head.len()));
        r.fill(&mut head, n)?;
        more = after_a_break(&head[from..], &mut broken);
        block = block.saturating_mul(2);
    }
    let layout = layout(&head);
    let long_first_line = !r.done && !broken;
    Ok(match layout {
        // A first line longer than what was read: one document too big for any limit, which
        // the size check of a JSON text reports …
        Ok(Layout::Ndjson) | Err(_) if long_first_line => Ok(Layout::Json),
        // … unless it is no array or list response (which are read in chunks) and more lines
        // follow it: NDJSON whose first line is over the limit, rejected alone (read as one
        // JSON text, the lines after it were never read).
        Ok(Layout::Json)
            if long_first_line
                && array::open(strip_bom(&head)).is_none()
                && more_lines(&mut r)? =>
        {
            Ok(Layout::Ndjson)
        }
        other => other,
    })
}

/// Whether what `r` has yet to give, its first line not ended yet, holds a line break with
/// something other than whitespace after it; read a block at a time, nothing kept.
fn more_lines(r: &mut Reader) -> Result<bool> {
    let mut block = Vec::with_capacity(HEAD_BLOCK);
    let mut broken = false;
    while !r.done {
        block.clear();
        r.fill(&mut block, HEAD_BLOCK)?;
        if after_a_break(&block, &mut broken) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The next bytes of a text, `broken` when a line break came before them: whether something
/// other than whitespace follows a line break in them. Sets `broken` at the first break.
fn after_a_break(bytes: &[u8], broken: &mut bool) -> bool {
    let from = match *broken {
        true => 0,
        false => match memchr::memchr(b'\n', bytes) {
            Some(i) => i + 1,
            None => return false,
        },
    };
    *broken = true;
    !bytes[from..].trim_ascii_start().is_empty()
}

/// The first read of a source for its layout; each next one is twice as long.
const HEAD_BLOCK: usize = 64 << 10;

#[cfg(test)]
mod tests {
    use super::*;

    fn layout_of_bytes(text: &[u8], chunk_bytes: usize, max_document_bytes: usize) -> Layout {
        let opts = IngestOptions {
            chunk_bytes,
            max_document_bytes,
            ..IngestOptions::default()
        };
        let source = Source::new("test", text.to_vec());
        match layout_of(&source, &opts) {
            Ok(Ok(l)) => l,
            other => panic!("no layout: {other:?}"),
        }
    }

    #[test]
    fn the_first_line_is_read_to_its_end_and_past_it() {
        // A first line of 100 KiB and a second line: read in 64 then 128 KiB (the break and
        // the `{` after it come in the second block), NDJSON.
        let long = format!("{{\"a\":\"{}\"}}", "x".repeat(100 << 10));
        let text = format!("{long}\n{{\"b\":1}}\n");
        assert_eq!(
            layout_of_bytes(text.as_bytes(), 32 << 20, 16 << 20),
            Layout::Ndjson
        );
        // The same line with only blanks after it: one JSON text.
        let text = format!("{long}\n \n\n");
        assert_eq!(
            layout_of_bytes(text.as_bytes(), 32 << 20, 16 << 20),
            Layout::Json
        );
        // A break at the very end of the first block, the second line in the next one.
        let first = format!("{{\"a\":\"{}\"}}", "y".repeat(HEAD_BLOCK - 9));
        assert_eq!(first.len() + 1, HEAD_BLOCK);
        let text = format!("{first}\n{{\"b\":1}}");
        assert_eq!(
            layout_of_bytes(text.as_bytes(), 32 << 20, 16 << 20),
            Layout::Ndjson
        );
    }

    #[test]
    fn a_first_line_past_the_limit_is_one_json_text_unless_lines_follow() {
        // The limit is the larger of the chunk and the document limit + 2: 200 KiB here. A
        // first line of 300 KiB is not seen to end (read: 64 + 128 + 8 KiB). Alone (blanks
        // after it at most), the text is one JSON document, whose size check rejects it.
        let line = |n: usize| format!("{{\"a\":\"{}\"}}", "z".repeat(n));
        let long = line(300 << 10);
        for text in [
            long.clone(),
            format!("{long}\n"),
            format!("{long}\n \n\t\n"),
        ] {
            assert_eq!(
                layout_of_bytes(text.as_bytes(), 200 << 10, 1 << 10),
                Layout::Json
            );
        }
        // Lines after it: NDJSON, its first line rejected alone — the next line found in the
        // first block read after the limit, or after 100 KiB of blank lines, in a later one.
        for gap in ["\n", &"\n".repeat(100 << 10)] {
            let text = format!("{long}{gap}{}\n", line(1));
            assert_eq!(
                layout_of_bytes(text.as_bytes(), 200 << 10, 1 << 10),
                Layout::Ndjson
            );
        }
        // An array or a list response on one long line is read in chunks as JSON, whatever
        // follows it.
        let elements = vec![line(10); 30_000].join(",");
        for text in [
            format!("[{elements}]\n{}\n", line(1)),
            format!("{{\"data\":[{elements}]}}\n\n"),
        ] {
            assert!(text.len() > 200 << 10);
            assert_eq!(
                layout_of_bytes(text.as_bytes(), 200 << 10, 1 << 10),
                Layout::Json
            );
        }
        // A first line of 150 KiB ends within the limit: NDJSON.
        let text = format!("{}\n{}\n", line(150 << 10), line(1));
        assert_eq!(
            layout_of_bytes(text.as_bytes(), 200 << 10, 1 << 10),
            Layout::Ndjson
        );
    }
}
