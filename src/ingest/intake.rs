//! The intake: sources read in chunks, split into documents and CSV records on both cores,
//! checked, and decided in order (duplicates, products, the log) beside the next chunk.

use std::sync::Arc;

use rayon::prelude::*;

use super::checked::Kept;
use super::json::{Diag, Lines};
use super::seen::Seen;
use super::sink::Sink;
use super::source::Reader;
use super::split::{
    CsvRows, MOST_LINES, beside, check_units, chunk_buffer, csv_pieces, give_back, has_quotes,
    ndjson_units, record_end, take_chunk,
};
use super::{
    CheckedChunk, Chunk, Group, IngestOptions, IngestReport, Layout, Problem, Source, StoredIndex,
    Unit, bom, dangling, done, done_row, footprint_values, gx, log_row, problem, read_text,
    same_document, size_message, strip_bom, tape::Tape, utf8_error, whole,
};
use crate::Result;
use crate::model::{BomEdge, BomSource};
use crate::table::graph_index::Interner;
use crate::table::{GxRecord, Tables};

mod in_place;
mod layout;
mod streamed;

pub(super) use layout::{Layouts, has_bom_csv, has_documents, layouts};

/// Product ids: a set whose lookups can come in groups (the numbers it gives go unused).
type Known = Interner;

/// The checks that span documents — idempotency against the store and within the ingest,
/// products named before they are known, the report and the log — fed chunk by chunk.
pub(super) struct Intake<'a> {
    sources: &'a [Source],
    /// Each source's name, shared by its rows.
    names: Vec<Arc<str>>,
    /// Each source's layout, taken when the sources are read.
    layouts: Layouts,
    opts: &'a IngestOptions,
    existing: &'a Tables,
    stored: StoredIndex<'a>,
    sink: &'a mut (dyn Sink + Send),
    progress: &'a (dyn Fn(u64) + Sync),
    report: IngestReport,
    /// Footprints of this ingest by id and version: where the document is in its source.
    in_batch: Seen,
    /// Every product with a footprint: stored or in this ingest.
    known: Known,
    /// Documents expected in the source being read, from its first chunk, and its size: its
    /// products' text is reserved when the first are decided (never more than the source).
    expected: (usize, usize),
    /// Inputs of new footprints' BOM extensions whose product was not known when read:
    /// (product, where, footprint id), warned about if still unknown at the end.
    pending: Vec<(String, Problem, String)>,
    /// GX attributes of new footprints' extensions, then of CSV rows.
    gx: Vec<(GxRecord, Problem)>,
    /// The next document index of each source.
    next_index: Vec<usize>,
    /// Time spent per phase, logged at debug level.
    phases: Phases,
}

/// Where an ingest's time goes.
#[derive(Debug, Default)]
struct Phases {
    /// Parsing and checking documents and CSV rows on every core, with the ordered
    /// decisions on the chunk before beside it.
    check: std::time::Duration,
    /// Waiting to hand rows and originals to the writer.
    write: std::time::Duration,
}

/// Adds the time `f` takes to `total`.
fn timed<T>(total: &mut std::time::Duration, f: impl FnOnce() -> T) -> T {
    let started = std::time::Instant::now();
    let out = f();
    *total += started.elapsed();
    out
}

impl<'a> Intake<'a> {
    pub(super) fn new(
        existing: &'a Tables,
        sources: &'a [Source],
        layouts: Layouts,
        opts: &'a IngestOptions,
        sink: &'a mut (dyn Sink + Send),
        progress: &'a (dyn Fn(u64) + Sync),
    ) -> Result<Intake<'a>> {
        let mut stored = StoredIndex::new(existing, has_documents(&layouts))?;
        let known = std::mem::take(&mut stored.products);
        Ok(Intake {
            sources,
            names: sources.iter().map(|s| Arc::from(s.name.as_str())).collect(),
            layouts,
            opts,
            existing,
            stored,
            sink,
            progress,
            report: IngestReport::default(),
            in_batch: Seen::default(),
            known,
            expected: (0, 0),
            pending: Vec::new(),
            gx: Vec::new(),
            next_index: vec![0; sources.len()],
            phases: Phases::default(),
        })
    }

    /// Checks every source: JSON first, then CSV rows, which are checked against every
    /// footprint of the ingest.
    pub(super) fn run(mut self) -> Result<IngestReport> {
        let mut csv = Vec::new();
        for (si, layout) in std::mem::take(&mut self.layouts).into_iter().enumerate() {
            match layout {
                Err(message) => {
                    self.reject(si, 1, whole(message))?;
                    self.skip(si)?;
                }
                Ok(Layout::Ndjson) => self.ndjson(si)?,
                Ok(Layout::Json) => self.json(si)?,
                Ok(l @ (Layout::BomCsv | Layout::GxCsv)) => csv.push((si, l)),
            }
        }
        // Inputs named by footprints that never came.
        let mut warnings = Vec::new();
        for (product, at, id) in std::mem::take(&mut self.pending) {
            if !self.known.contains(product.as_str()) {
                let w = Problem {
                    pointer: "/extensions".into(),
                    message: dangling(&product),
                    ..at
                };
                warnings.push(log_row(&w, "warning", "bom_edge", Some(id)));
                self.report.warning(w);
            }
        }
        timed(&mut self.phases.write, || self.sink.log(warnings))?;
        // No CSV row names a footprint's id: the ids of this ingest go before its rows come.
        self.in_batch = Seen::default();
        for (si, l) in csv {
            self.csv(si, matches!(l, Layout::BomCsv))?;
        }
        self.finish_gx()?;
        tracing::debug!("ingest phases: {:?}", self.phases);
        Ok(self.report)
    }

    /// Bytes read per step.
    fn step(&self) -> usize {
        self.opts.chunk_bytes.max(1)
    }

    /// Bytes of CSV read per step: a quarter of [`Intake::step`]. Parsed, a BOM row takes
    /// about four times its bytes (its edge, two products' text, its place), and two chunks
    /// are held at once (one parsed, one decided); at a full step the BOM phase of the 1M
    /// chain needed 300 MB more memory than the footprints', all of it faulted in new.
    fn csv_step(&self) -> usize {
        (self.step() / 4).max(1)
    }

    /// Reads the rest of source `si` only to keep it as received.
    fn skip(&mut self, si: usize) -> Result<()> {
        let mut r = Reader::open(&self.sources[si])?;
        self.skip_rest(&mut r, si, &mut Vec::new())
    }

    /// Reads the rest of `r`, source `si`, only to keep it as received (`buf` is scratch).
    fn skip_rest(&mut self, r: &mut Reader, si: usize, buf: &mut Vec<u8>) -> Result<()> {
        while !r.done {
            buf.clear();
            self.fill(r, si, buf, self.step())?;
        }
        (self.progress)(r.pos as u64);
        Ok(())
    }

    /// Reads up to `n` more bytes of `r`, source `si`, into `buf`; the source is kept as
    /// received from its first read, and checked to be whole at its last.
    fn fill(&mut self, r: &mut Reader, si: usize, buf: &mut Vec<u8>, n: usize) -> Result<()> {
        if r.pos == 0 {
            timed(&mut self.phases.write, || self.sink.keep_original(si))?;
        }
        r.fill(buf, n)?;
        if r.done {
            let len = r.pos as u64;
            timed(&mut self.phases.write, || self.sink.original_read(si, len))?;
        }
        Ok(())
    }

    /// Reads on into `buf` until it holds `step` bytes (or the rest of the source); `false`
    /// when nothing is left.
    fn top_up(
        &mut self,
        r: &mut Reader,
        si: usize,
        buf: &mut Vec<u8>,
        step: usize,
    ) -> Result<bool> {
        if buf.len() < step && !r.done {
            let want = step - buf.len();
            self.fill(r, si, buf, want)?;
        }
        Ok(!buf.is_empty())
    }

    /// Rejects one document of source `si` before it is checked (layout, size, syntax).
    fn reject(&mut self, si: usize, line: usize, diag: Diag) -> Result<()> {
        self.footprint_chunk(None, vec![Group::rejected(si, line, diag)])
    }

    /// A JSON text: one footprint, an array, or a PACT response; read whole when it is at
    /// most the document size limit, else as an array in chunks (see [`Intake::json_array`]).
    fn json(&mut self, si: usize) -> Result<()> {
        let len = self.sources[si].size()?;
        let max = self.opts.max_document_bytes;
        if len > max as u64 {
            return self.json_array(si);
        }
        let mut r = Reader::open(&self.sources[si])?;
        let mut all = Vec::new();
        while !r.done {
            self.fill(&mut r, si, &mut all, self.step().max(max))?;
        }
        let skip = all.len() - strip_bom(&all).len();
        let chunk = Chunk {
            source: si,
            bytes: &all,
            base: 0,
        };
        let bytes = &all[skip..];
        let text = match super::utf8::utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let (line, diag) = utf8_error(bytes, e, 1);
                return self.reject(si, line, diag);
            }
        };
        let mut tape = Tape::default();
        let (top, read) = match read_text(text, 1, &mut tape) {
            Ok(t) => t,
            Err((line, diag)) => return self.reject(si, line, diag),
        };
        let values = match footprint_values(top, read) {
            Ok(v) => v,
            Err(message) => return self.reject(si, 1, whole(message)),
        };
        let mut lines = Lines::new(text.as_bytes());
        let units: Vec<Unit> = values
            .into_iter()
            .map(|(raw, _)| {
                let offset = raw.get().as_ptr() as usize - text.as_ptr() as usize;
                Unit::Value {
                    raw,
                    line: lines.line_of(offset),
                }
            })
            .collect();
        let started = std::time::Instant::now();
        let checked = check_units(
            &self.names,
            self.progress,
            chunk,
            units,
            read,
            (self.sink.seq(), self.sink.keeps_records()),
        )?;
        self.phases.check += started.elapsed();
        self.footprint_chunk(Some(chunk), checked)
    }

    /// NDJSON, chunk by chunk of whole lines. While one chunk is checked on every core, the
    /// one before it is decided on: the ordered part overlaps the parallel one.
    fn ndjson(&mut self, si: usize) -> Result<()> {
        if self.ndjson_in_place(si)? {
            return Ok(());
        }
        let max = self.opts.max_document_bytes;
        let mut r = Reader::open(&self.sources[si])?;
        // Sized for a chunk: grown as they are read, a chunk's bytes were copied at each step.
        let mut buf = chunk_buffer(self.step());
        // A checked chunk waiting to be decided: its bytes, where they start, the results.
        let mut pending: Option<CheckedChunk> = None;
        let mut spare: Vec<u8> = Vec::new();
        let mut base = 0u64;
        let mut line_no = 1usize;
        let mut first = true;
        while self.top_up(&mut r, si, &mut buf, self.step())? {
            let cut = if r.done {
                Some(buf.len())
            } else {
                memchr::memrchr(b'\n', &buf).map(|i| i + 1)
            };
            let Some(cut) = cut else {
                if buf.len() <= max.saturating_add(2) {
                    // A long line: read on until it ends.
                    self.fill(&mut r, si, &mut buf, self.step())?;
                    if !r.done || !buf.is_empty() {
                        continue;
                    }
                    break;
                }
                // A line over the limit: measure it without keeping it.
                let mut len = buf.len();
                base += buf.len() as u64;
                buf.clear();
                let rest = loop {
                    if r.done {
                        break None;
                    }
                    self.fill(&mut r, si, &mut buf, self.step())?;
                    match memchr::memchr(b'\n', &buf) {
                        Some(i) => break Some(i),
                        None => {
                            len += buf.len();
                            base += buf.len() as u64;
                            buf.clear();
                        }
                    }
                };
                if let Some(i) = rest {
                    len += i;
                    base += i as u64 + 1;
                    buf.drain(..=i);
                }
                (self.progress)(len as u64);
                self.decide_pending(si, &mut pending, &mut spare)?;
                self.reject(si, line_no, whole(size_message(len, max)))?;
                line_no += 1;
                first = false;
                continue;
            };
            let skip = if first {
                buf.len() - strip_bom(&buf).len()
            } else {
                0
            };
            first = false;
            // The chunk's bytes move out; the rest (and its lines past MOST_LINES) come next.
            let mut bytes = take_chunk(&mut buf, cut, &mut spare, self.step());
            let chunk = Chunk {
                source: si,
                bytes: &bytes,
                base,
            };
            let (units, breaks, used) = ndjson_units(&bytes, skip, line_no, max, MOST_LINES);
            if base == 0 {
                self.expect_documents(si, units.len(), used);
            }
            let checked = self.check_beside(
                si,
                (&mut r, &mut buf),
                (&mut pending, &mut spare),
                chunk,
                units,
            )?;
            line_no += breaks;
            give_back(&mut bytes, used, &mut buf);
            pending = Some((bytes, base, checked));
            base += used as u64;
        }
        self.decide_pending(si, &mut pending, &mut spare)
    }

    /// Sizes the tables of this ingest's documents for source `si`, from its first chunk:
    /// `units` documents in its first `used` bytes. (Grown, they were copied over and over
    /// on the deciding thread; a wrong guess costs at most an entry per 2 KiB, as small
    /// footprints do.)
    fn expect_documents(&mut self, si: usize, units: usize, used: usize) {
        let Ok(size) = self.sources[si].size() else {
            return;
        };
        let more = size / (used / units.max(1)).max(2048) as u64;
        let more = usize::try_from(more).unwrap_or(0);
        self.in_batch.reserve(more);
        self.known.reserve(more);
        self.expected = (more, usize::try_from(size).unwrap_or(usize::MAX));
    }

    /// Decides on the chunk `pending` holds, if any; its buffer becomes `spare`.
    fn decide_pending(
        &mut self,
        si: usize,
        pending: &mut Option<CheckedChunk>,
        spare: &mut Vec<u8>,
    ) -> Result<()> {
        let Some((bytes, base, checked)) = pending.take() else {
            return Ok(());
        };
        let chunk = Chunk {
            source: si,
            bytes: &bytes,
            base,
        };
        self.footprint_chunk(Some(chunk), checked)?;
        *spare = bytes;
        Ok(())
    }

    /// Decides, in document order, what becomes of each checked document of `chunk`.
    fn footprint_chunk(&mut self, chunk: Option<Chunk>, groups: Vec<Group>) -> Result<()> {
        let sources = self.sources;
        // Sized once: grown by doubling, a chunk's rows would be copied at every step.
        let n: usize = groups.iter().map(|g| g.checked.len()).sum();
        let mut log = Vec::with_capacity(n);
        let mut new: Vec<Kept> = Vec::with_capacity(n);
        // Where each new footprint is: (source, index, line).
        let mut origins: Vec<(usize, usize, usize)> = Vec::with_capacity(n);
        let mut rows = Vec::with_capacity(groups.len());
        let at_of = |(source, index, line): (usize, usize, usize)| Problem {
            source: sources[source].name.clone(),
            index,
            line,
            pointer: String::new(),
            message: String::new(),
        };
        for group in groups {
            // Whether each footprint of the group (a row of its batches) is stored, and each
            // of their extensions.
            let mut keep: Vec<bool> = Vec::with_capacity(group.checked.len());
            let mut extensions: Vec<usize> = Vec::with_capacity(group.checked.len());
            // Each key's hash, its slot asked for a few documents before it is looked up.
            let keys = group
                .checked
                .iter()
                .map(|ch| ch.record.as_ref().map(|r| &r.key));
            let hashes = self.in_batch.hashes(keys);
            for (k, ch) in group.checked.into_iter().enumerate() {
                self.in_batch.look_ahead(&hashes, k);
                let index = self.next_index[ch.source];
                self.next_index[ch.source] += 1;
                let name = &self.names[ch.source];
                let id = ch.record.as_ref().map(|r| r.id.clone());
                for (line, d) in ch.warnings {
                    let w = problem(sources, ch.source, index, line, d);
                    log.push(log_row(&w, "warning", "footprint", id.clone()));
                    self.report.warning(w);
                }
                let (Some(record), Some(chunk)) = (ch.record, chunk) else {
                    self.report.rejected += 1;
                    for (line, d) in ch.errors {
                        let e = problem(sources, ch.source, index, line, d);
                        log.push(log_row(&e, "rejected", "footprint", None));
                        self.report.error(e);
                    }
                    continue;
                };
                let key = (&record.id, record.version);
                let lossy = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
                // An earlier document of this id and version, if any: the first of this ingest
                // is entered with one hash (a document's span is its own, so finding it means
                // none).
                let earlier = match self.stored.documents.get(&(key.0.as_str(), key.1)) {
                    Some(&(seq, span)) => Some(lossy(&self.existing.document(seq, span)?)),
                    None => match self.in_batch.first(record.key, hashes[k], record.document) {
                        span if span == record.document => None,
                        span => Some(match chunk.text(span) {
                            Some(t) if span.original as usize == chunk.source => t.to_owned(),
                            _ => lossy(&sources[span.original as usize].read_span(span)?),
                        }),
                    },
                };
                let stored = match earlier {
                    None => {
                        self.report.accepted += 1;
                        log.push(done(name, (index, ch.line), "accepted", "footprint", id));
                        true
                    }
                    Some(doc)
                        if same_document(&doc, chunk.text(record.document).unwrap_or_default()) =>
                    {
                        self.report.accepted += 1;
                        self.report.duplicates += 1;
                        log.push(done(name, (index, ch.line), "duplicate", "footprint", id));
                        false
                    }
                    Some(_) => {
                        let e = Problem {
                            pointer: if key.1.is_some() { "/version" } else { "/id" }.into(),
                            message: format!(
                                "footprint {} version {} is already stored with different content; a changed footprint needs a new version",
                                key.0,
                                key.1.map_or("(none)".into(), |v| v.to_string())
                            ),
                            ..at_of((ch.source, index, ch.line))
                        };
                        self.report.rejected += 1;
                        log.push(log_row(&e, "rejected", "footprint", id));
                        self.report.error(e);
                        false
                    }
                };
                keep.push(stored);
                extensions.push(record.extensions);
                if stored {
                    new.push(record);
                    origins.push((ch.source, index, ch.line));
                }
            }
            rows.push(group.rows.kept(&keep, &extensions)?);
        }
        if self.expected.0 > 0 && !new.is_empty() {
            // The products' text of the documents to come, at these documents' length (grown by
            // doubling, it was copied and faulted in anew at each step on this thread), never
            // more than the source holds.
            let ids = new.iter().flat_map(|r| &r.product_ids);
            let each = ids.map(String::len).sum::<usize>().div_ceil(new.len());
            let (documents, bytes) = std::mem::take(&mut self.expected);
            self.known
                .reserve_text(each.saturating_mul(documents).min(bytes));
        }
        let products: Vec<&str> = new
            .iter()
            .flat_map(|r| r.product_ids.iter().map(String::as_str))
            .collect();
        self.known.id_each(products.len(), |k| products[k], |_| ());
        // BOM edges declared by the new footprints' extensions, and their GX attributes.
        let mut bom = Vec::with_capacity(new.iter().map(|r| r.bom_inputs.len()).sum());
        self.report.footprints += new.len();
        for (mut r, &origin) in new.into_iter().zip(&origins) {
            for edge in r.take_edges() {
                if !self.known.contains(edge.child_product_id.as_str()) {
                    let child = edge.child_product_id.clone();
                    self.pending.push((child, at_of(origin), r.id.clone()));
                }
                bom.push(edge);
            }
            if let Some(g) = r.take_gx() {
                self.gx.push((g, at_of(origin)));
            }
        }
        self.report.bom_edges += bom.len();
        timed(&mut self.phases.write, || self.sink.footprints(rows))?;
        timed(&mut self.phases.write, || self.sink.bom(bom))?;
        timed(&mut self.phases.write, || self.sink.log(log))
    }

    /// A BOM or GX attributes CSV, chunk by chunk of whole records, each parsed on every
    /// core.
    fn csv(&mut self, si: usize, is_bom: bool) -> Result<()> {
        // Every footprint is known by now: the products rows name are looked up on every
        // core, beside the parsing, not one row at a time in order.
        let known = std::mem::take(&mut self.known);
        let out = self.csv_with(si, is_bom, &known);
        self.known = known;
        out
    }

    fn csv_with(&mut self, si: usize, is_bom: bool, known: &Known) -> Result<()> {
        let mut r = Reader::open(&self.sources[si])?;
        let step = self.csv_step();
        let mut buf = chunk_buffer(step);
        // The buffer of the chunk before, the next one's once its rows are parsed.
        let mut spare: Vec<u8> = Vec::new();
        let mut pending: Vec<CsvRows> = Vec::new();
        let (mut line_no, mut index, mut first) = (1usize, 0usize, true);
        while self.top_up(&mut r, si, &mut buf, step)? {
            // The chunk is cut from `buf`: it has no quote when `buf` has none.
            let quoted = has_quotes(&buf);
            let cut = if r.done {
                buf.len()
            } else {
                match record_end(&buf, quoted) {
                    Some(end) => end,
                    None => {
                        // One record longer than a chunk (a quoted field with line breaks):
                        // read on until it ends.
                        self.fill(&mut r, si, &mut buf, step)?;
                        continue;
                    }
                }
            };
            let skip = if first {
                buf.len() - strip_bom(&buf).len()
            } else {
                0
            };
            // The chunk moves out; the rest of the buffer starts the next one, read while
            // this one is parsed.
            let chunk = take_chunk(&mut buf, cut, &mut spare, step);
            let bytes = &chunk[skip..];
            // Pieces of whole records, one per core and a few more.
            let pieces = csv_pieces(bytes, quoted, rayon::current_num_threads() * 4, 1 << 20);
            let header = first;
            let started = std::time::Instant::now();
            // The rows of the chunk before are decided while this one is parsed.
            let waiting = std::mem::take(&mut pending);
            let (decided, parsed) = beside(
                || {
                    self.csv_decide(si, waiting, known)?;
                    self.top_up(&mut r, si, &mut buf, step).map(drop)
                },
                || {
                    pieces
                        .par_iter()
                        .enumerate()
                        .map(|(i, range)| {
                            let piece = &bytes[range.clone()];
                            let has_header = header && i == 0;
                            let lines = memchr::memchr_iter(b'\n', piece).count();
                            let rows = if is_bom {
                                let mut rows = bom::parse_csv(piece, has_header);
                                bom::mark_dangling(&mut rows, known);
                                CsvRows::Bom(rows)
                            } else {
                                CsvRows::Gx(gx::parse_csv(piece, has_header))
                            };
                            (lines, rows)
                        })
                        .collect::<Vec<(usize, CsvRows)>>()
                },
            );
            decided?;
            self.phases.check += started.elapsed();
            (self.progress)(cut as u64);
            // Numbered from the start of the file: indexes count rows, lines count breaks.
            for (lines, mut rows) in parsed {
                let line_base = line_no - 1;
                let n = match &mut rows {
                    CsvRows::Bom(rows) => {
                        for row in rows.iter_mut() {
                            row.index += index;
                            row.line += line_base;
                        }
                        rows.len()
                    }
                    CsvRows::Gx(rows) => {
                        for row in rows.iter_mut() {
                            row.index += index;
                            row.line += line_base;
                        }
                        rows.len()
                    }
                };
                index += n;
                line_no += lines;
                pending.push(rows);
            }
            first = false;
            spare = chunk;
        }
        self.csv_decide(si, pending, known)
    }

    /// Decides on parsed CSV rows, in order.
    fn csv_decide(&mut self, si: usize, rows: Vec<CsvRows>, known: &Known) -> Result<()> {
        for rows in rows {
            match rows {
                CsvRows::Bom(rows) => self.bom_rows(si, rows)?,
                CsvRows::Gx(rows) => self.gx_rows(si, rows, known)?,
            }
        }
        Ok(())
    }

    /// BOM CSV rows: rejected, duplicate or new edges. Millions of rows come this way, so a
    /// row that is simply accepted allocates nothing but its edge.
    fn bom_rows(&mut self, si: usize, rows: Vec<bom::CsvRow>) -> Result<()> {
        let sources = self.sources;
        let name = self.names[si].clone();
        let mut log = Vec::with_capacity(rows.len());
        let mut edges = Vec::with_capacity(rows.len());
        for row in rows {
            let (index, line) = (row.index, row.line);
            let Some((parent, child, amount, unit)) = row.edge else {
                self.report.rejected += 1;
                for d in row.errors {
                    let p = problem(sources, si, index, line, d);
                    log.push(log_row(&p, "rejected", "bom_edge", None));
                    self.report.error(p);
                }
                continue;
            };
            let named = [("parent_product_id", &parent), ("child_product_id", &child)];
            for ((col, id), unknown) in named.into_iter().zip(row.dangling) {
                if unknown {
                    let w = Problem {
                        source: sources[si].name.clone(),
                        index,
                        line,
                        pointer: format!("/{col}"),
                        message: dangling(id),
                    };
                    log.push(log_row(&w, "warning", "bom_edge", None));
                    self.report.warning(w);
                }
            }
            self.report.accepted += 1;
            let same = !self.stored.csv_edges.is_empty()
                && self
                    .stored
                    .csv_edges
                    .get(&(parent.as_str(), child.as_str()))
                    // Decimals compare by value, whatever their scale (1.5 = 1.50).
                    == Some(&(amount, unit.map(|u| u.as_str())));
            if same {
                self.report.duplicates += 1;
                log.push(done(&name, (index, line), "duplicate", "bom_edge", None));
            } else {
                log.push(done(&name, (index, line), "accepted", "bom_edge", None));
                edges.push(BomEdge {
                    parent_product_id: parent,
                    child_product_id: child,
                    amount,
                    unit,
                    source: BomSource::Csv {
                        file: name.clone(),
                        line,
                    },
                });
            }
        }
        self.report.bom_edges += edges.len();
        timed(&mut self.phases.write, || self.sink.bom(edges))?;
        timed(&mut self.phases.write, || self.sink.log(log))
    }

    /// GX attributes CSV rows: rejected ones now, the others kept for [`Intake::finish_gx`].
    fn gx_rows(&mut self, si: usize, rows: Vec<gx::GxRow>, known: &Known) -> Result<()> {
        let sources = self.sources;
        let mut log = Vec::new();
        for row in rows {
            let at = Problem {
                source: sources[si].name.clone(),
                index: row.index,
                line: row.line,
                pointer: String::new(),
                message: String::new(),
            };
            let Some(a) = row.attributes else {
                self.report.rejected += 1;
                for d in row.errors {
                    let p = problem(sources, si, row.index, row.line, d);
                    log.push(log_row(&p, "rejected", "gx_attributes", None));
                    self.report.error(p);
                }
                continue;
            };
            if !known.contains(a.product_id.as_str()) {
                let w = Problem {
                    pointer: "/product_id".into(),
                    message: format!(
                        "product {} has no footprint yet; its GX attributes are kept for when one is ingested",
                        a.product_id
                    ),
                    ..at.clone()
                };
                log.push(log_row(&w, "warning", "gx_attributes", None));
                self.report.warning(w);
            }
            self.gx.push((
                GxRecord {
                    attributes: a,
                    source_kind: "csv",
                    source: sources[si].name.clone(),
                    footprint_id: None,
                    line: Some(row.line),
                },
                at,
            ));
        }
        timed(&mut self.phases.write, || self.sink.log(log))
    }

    /// GX attributes: from new footprints' extensions, then CSV rows (a later row wins);
    /// those equal to what is stored are duplicates.
    fn finish_gx(&mut self) -> Result<()> {
        let mut log = Vec::new();
        let mut new = Vec::new();
        for (record, at) in std::mem::take(&mut self.gx) {
            let from_csv = record.source_kind == "csv";
            if from_csv {
                self.report.accepted += 1;
            }
            if self.stored.gx.get(record.attributes.product_id.as_str()) == Some(&record.attributes)
            {
                if from_csv {
                    self.report.duplicates += 1;
                    log.push(done_row(&at, "duplicate", "gx_attributes", None));
                }
            } else {
                if from_csv {
                    log.push(done_row(&at, "accepted", "gx_attributes", None));
                }
                new.push(record);
            }
        }
        self.report.gx_attributes = new.len();
        timed(&mut self.phases.write, || self.sink.gx(new))?;
        timed(&mut self.phases.write, || self.sink.log(log))
    }
}
