//! Ingest: PACT v2/v3 JSON (single documents, list responses, arrays, NDJSON, CloudEvents),
//! the GxD extension and BOM CSVs → validated model values → Arrow rows.
//!
//! Validation is all-or-nothing per document: a document with any error is rejected whole and
//! never half-loads; its siblings still load unless `all_or_nothing` is set. Every problem
//! names its source, the document's position, the line and the JSON pointer. This module
//! decides what to store; `store` does the writing.

mod array;
mod bom;
mod checked;
mod gx;
mod gxd;
mod intake;
mod json;
mod pact;
mod pact_values;
mod recycle;
mod report;
mod seen;
mod sink;
mod source;
mod split;
mod tape;
mod utf8;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::Utc;
use datafusion::arrow::array::{Array, Decimal128Array, Int64Array, RecordBatch, StringArray};
use rust_decimal::Decimal;
use serde_json::value::RawValue;

pub use bom::BOM_CSV_HEADER;
pub use gx::{GX_CSV_HEADER, GX_EXTENSION_SCHEMA};
pub use json::{DECIMAL_SCALE, is_uuid};
pub use pact::BOM_EXTENSION_SCHEMA;
pub use report::{IngestReport, LISTED_PROBLEMS, Problem};
pub use source::Source;

use self::checked::{Checked, Document, Group, GroupBuilder};
use self::intake::{Intake, Layouts, has_bom_csv, has_documents, layouts};
use self::sink::{ChannelSink, DrySink, Job, SegmentSink, Sink, footprint_batches};

use self::json::{Checker, Diag};
use crate::model::{BomEdge, GxAttributes};
use crate::table::{self, DocumentSpan, FootprintRecord, GxRecord, LogRow, Tables};
use crate::{Error, Result};

/// Default limit on one JSON document (an NDJSON line or a whole JSON file): 16 MiB.
pub const DEFAULT_MAX_DOCUMENT_BYTES: usize = 16 * 1024 * 1024;

/// How an ingest behaves.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Largest JSON document accepted (an NDJSON line, or a whole JSON file).
    pub max_document_bytes: usize,
    /// Store nothing if any document is rejected.
    pub all_or_nothing: bool,
    /// Bytes of a source read and checked per step (whole lines or CSV records; a longer one
    /// is read whole; CSV a quarter of it, a parsed row being about four times its bytes).
    /// Memory follows this, not the input's size.
    pub chunk_bytes: usize,
    /// Read NDJSON files, and JSON arrays or list responses larger than one document, where
    /// they lie, mapped read-only, rather than copied into buffers (a few per cent of a large
    /// ingest's time). A mapped file that another process cuts short while it is read ends
    /// the process (the store keeps its last commit).
    pub map_files: bool,
    /// Called once every source is checked and written, before the commit builds the graph
    /// index (all that the checking and the writing held is freed by then, their threads
    /// ended but for the thread pool's): the `mieruka` binary gives its
    /// allocator's free pages back to the system here, so that the index's peak does not
    /// come on top of them.
    pub before_commit: Option<fn()>,
}

/// Default [`IngestOptions::chunk_bytes`]: enough work to share between the cores, little
/// enough that an ingest's memory does not grow with its input.
pub const DEFAULT_CHUNK_BYTES: usize = 32 << 20;

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            max_document_bytes: DEFAULT_MAX_DOCUMENT_BYTES,
            all_or_nothing: false,
            chunk_bytes: DEFAULT_CHUNK_BYTES,
            map_files: true,
            before_commit: None,
        }
    }
}

/// What an ingest would add, checked against what is already stored, kept in memory.
#[derive(Debug)]
pub struct Prepared {
    /// The report.
    pub report: IngestReport,
    /// New footprint records.
    pub footprints: Vec<FootprintRecord<'static>>,
    /// New or changed BOM edges.
    pub bom: Vec<BomEdge>,
    /// New or changed GX attributes.
    pub gx: Vec<GxRecord>,
    /// Log rows.
    pub log: Vec<LogRow>,
    /// When the documents were checked (the `ingested_at` of the log rows).
    pub at: chrono::DateTime<Utc>,
    /// The sources, which the footprint records point into.
    pub sources: Vec<Source>,
}

impl Prepared {
    /// Whether there is anything to store.
    pub fn is_empty(&self) -> bool {
        self.footprints.is_empty() && self.bom.is_empty() && self.gx.is_empty()
    }

    /// The rows as tables for ingest number `seq`, with the sources as its originals.
    pub fn to_tables(&self, seq: i64) -> Result<Tables> {
        let _timer = Timer::new("built tables");
        let (mut footprints, mut footprint_extensions) = footprint_batches(&self.footprints, seq)?;
        // A table without rows still has its schema.
        for (batches, schema) in [
            (&mut footprints, table::footprints_stored_schema()),
            (&mut footprint_extensions, table::extensions_schema()),
        ] {
            if batches.is_empty() {
                batches.push(RecordBatch::new_empty(schema));
            }
        }
        let originals = self.sources.iter().map(Source::original).collect();
        Ok(Tables {
            footprints,
            footprint_extensions,
            bom: vec![table::bom_batch(&self.bom, seq)?],
            gx_attributes: vec![table::gx_batch(&self.gx, seq)?],
            ingest_log: vec![table::ingest_log_batch(&self.log, seq, self.at)?],
            originals: table::Originals([(seq, originals)].into_iter().collect()),
            requests: Vec::new(),
            segments: Default::default(),
        })
    }
}

/// Logs how long a scope took, at debug level.
struct Timer(&'static str, std::time::Instant);

impl Timer {
    fn new(what: &'static str) -> Timer {
        Timer(what, std::time::Instant::now())
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        tracing::debug!("{} in {:.2?}", self.0, self.1.elapsed());
    }
}

/// A piece of work for the parallel check, inside one chunk of one source.
enum Unit<'a> {
    /// An NDJSON line, not parsed yet.
    Line { bytes: &'a [u8], line: usize },
    /// An element of an array read in chunks (see [`array`]), not parsed yet: one footprint
    /// (or what should be one).
    Element { bytes: &'a [u8], line: usize },
    /// A footprint (or what should be one) inside a JSON file already split serially.
    Value { raw: &'a RawValue, line: usize },
    /// Rejected before parsing (size, encoding, syntax, layout).
    Rejected { line: usize, diag: Diag },
}

/// A chunk checked and waiting to be decided: its bytes, where they start, the results.
type CheckedChunk = (Vec<u8>, u64, Vec<Group>);

fn problem(sources: &[Source], source: usize, index: usize, line: usize, d: Diag) -> Problem {
    Problem {
        source: sources[source].name.clone(),
        index,
        line,
        pointer: d.pointer,
        message: d.message,
    }
}

fn whole(message: impl Into<String>) -> Diag {
    Diag {
        pointer: String::new(),
        message: message.into(),
        offset: None,
    }
}

fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

fn first_line(bytes: &[u8]) -> &[u8] {
    let line = bytes.split(|b| *b == b'\n').next().unwrap_or(bytes);
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn size(n: usize) -> String {
    match n {
        0..1024 => format!("{n} bytes"),
        1024..1048576 => format!("{:.1} KiB", n as f64 / 1024.0),
        _ => format!("{:.1} MiB", n as f64 / 1048576.0),
    }
}

fn size_message(len: usize, limit: usize) -> String {
    format!(
        "document is {}, over the {} limit (raise it with --max-document-size)",
        size(len),
        size(limit)
    )
}

/// A footprint's raw text and, when already read, its entries.
type Found<'a> = (&'a RawValue, Option<json::Entries<'a>>);

/// Which footprints a JSON text holds: itself, an array's elements, a list response's
/// `data`, a get response's `data`, or a CloudEvent's `data.pfs`.
fn footprint_values<'a>(
    top: &'a RawValue,
    tape: Option<tape::Read>,
) -> std::result::Result<Vec<Found<'a>>, String> {
    fn each(values: Vec<&RawValue>) -> Vec<Found<'_>> {
        values.into_iter().map(|v| (v, None)).collect()
    }
    match top.get().as_bytes().first() {
        Some(b'[') => tape::array(tape, top).map(each),
        Some(b'{') => {
            let entries = tape::object(tape, top)?;
            let get = |key: &str| entries.0.iter().find(|(k, _)| k == key).map(|e| e.1);
            if get("pcf").is_some() || get("specVersion").is_some() {
                return Ok(vec![(top, Some(entries))]);
            }
            if let Some(data) = get("data") {
                return match data.get().as_bytes().first() {
                    Some(b'[') => tape::array(tape, data).map(each),
                    Some(b'{') => {
                        let inner = tape::object(tape, data)?;
                        match inner.0.iter().find(|(k, _)| k == "pfs") {
                            Some((_, pfs)) => tape::array(tape, pfs).map(each),
                            None => Ok(vec![(data, Some(inner))]),
                        }
                    }
                    _ => Err(format!(
                        "\"data\" holds {}, not footprints",
                        json::describe(data)
                    )),
                };
            }
            if let (Some(code), Some(message)) = (get("code"), get("message")) {
                return Err(format!(
                    "this is a PACT error response ({}: {}), not a product footprint",
                    code.get(),
                    message.get()
                ));
            }
            Ok(vec![(top, Some(entries))])
        }
        _ => Err(format!(
            "expected a product footprint object, an array of them or a PACT response, found {}",
            json::describe(top)
        )),
    }
}

/// Reads one JSON text onto `tape`; a text the tape refuses is parsed by serde_json, which
/// says what is wrong (or, for one nested deeper than the tape reads, takes it).
fn read_text<'a: 't, 't>(
    text: &'a str,
    first_line_no: usize,
    tape: &'t mut tape::Tape,
) -> std::result::Result<(&'a RawValue, Option<tape::Read<'t>>), (usize, Diag)> {
    match tape.read(text) {
        Some(read) => Ok((tape::whole(text), Some(read))),
        None => parse_text(text, first_line_no).map(|top| (top, None)),
    }
}

/// Parses one JSON text; on a syntax error, the line and the diagnostic.
fn parse_text(text: &str, first_line_no: usize) -> std::result::Result<&RawValue, (usize, Diag)> {
    serde_json::from_str(text).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Eof => "truncated JSON",
            _ => "invalid JSON",
        };
        let line = first_line_no + e.line().saturating_sub(1);
        let msg = e.to_string();
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_owned();
        (
            line,
            whole(format!(
                "{what}: {msg} (line {line}, column {})",
                e.column()
            )),
        )
    })
}

/// Where `text`, a slice of `chunk` (which starts at byte `base` of source `index`), lies in
/// the source.
fn span_in(chunk: &[u8], base: u64, text: &str, index: usize) -> Option<DocumentSpan> {
    let at = (text.as_ptr() as usize).checked_sub(chunk.as_ptr() as usize)?;
    (at + text.len() <= chunk.len()).then_some(DocumentSpan {
        original: u32::try_from(index).ok()?,
        offset: base + at as u64,
        length: text.len() as u64,
    })
}

/// A piece of a source being checked: its bytes and where they start.
#[derive(Clone, Copy)]
struct Chunk<'a> {
    source: usize,
    bytes: &'a [u8],
    /// Offset of `bytes` in the source.
    base: u64,
}

impl Chunk<'_> {
    /// The text of `span`, a document inside this chunk.
    fn text(&self, span: DocumentSpan) -> Option<&str> {
        let from = usize::try_from(span.offset.checked_sub(self.base)?).ok()?;
        let to = from.checked_add(usize::try_from(span.length).ok()?)?;
        std::str::from_utf8(self.bytes.get(from..to)?).ok()
    }
}

/// Checks one footprint document whose text, inside `chunk`, starts on `line`.
fn check_value<'a>(
    names: &[Arc<str>],
    chunk: Chunk,
    raw: &'a RawValue,
    entries: Option<json::Entries<'a>>,
    tape: Option<tape::Read>,
    line: usize,
) -> Document<'a> {
    let source = chunk.source;
    let text = raw.get();
    let mut c = Checker::with_tape(text, tape);
    let fp = pact::footprint_with(&mut c, raw, entries);
    let line_of = |d: &Diag| {
        d.offset.map_or(line, |o| {
            line + text.as_bytes()[..o].iter().filter(|b| **b == b'\n').count()
        })
    };
    let mut errors: Vec<(usize, Diag)> = c.errors.into_iter().map(|d| (line_of(&d), d)).collect();
    let warnings = c.warnings.into_iter().map(|d| (line_of(&d), d)).collect();
    // The document is a slice of its chunk (the parsers borrow): its span is where it lies.
    let span = span_in(chunk.bytes, chunk.base, text, source);
    if span.is_none() {
        errors.push((
            line,
            whole("internal error: the document is not inside its source"),
        ));
    }
    let record = match (errors.is_empty(), span) {
        (true, Some(document)) => fp.map(|footprint| {
            Box::new(FootprintRecord {
                footprint,
                document,
                source: names[source].clone(),
            })
        }),
        _ => None,
    };
    Checked {
        source,
        line,
        record,
        errors,
        warnings,
    }
}

/// Checks one NDJSON line: it may hold one footprint or a response with several. `tape` is
/// the thread's, for the line to be read onto.
fn check_line<'a>(
    names: &[Arc<str>],
    chunk: Chunk,
    bytes: &'a [u8],
    line: usize,
    tape: &mut tape::Tape,
) -> Vec<Document<'a>> {
    let (top, read) = match parse_unit(chunk, bytes, line, tape) {
        Ok(t) => t,
        Err(rejected) => return vec![rejected],
    };
    match footprint_values(top, read) {
        Ok(values) => values
            .into_iter()
            .map(|(raw, entries)| check_value(names, chunk, raw, entries, read, line))
            .collect(),
        Err(message) => vec![Checked::rejected(chunk.source, line, whole(message))],
    }
}

/// Checks one element of an array read in chunks: one footprint.
fn check_element<'a>(
    names: &[Arc<str>],
    chunk: Chunk,
    bytes: &'a [u8],
    line: usize,
    tape: &mut tape::Tape,
) -> Document<'a> {
    match parse_unit(chunk, bytes, line, tape) {
        Ok((top, read)) => check_value(names, chunk, top, None, read, line),
        Err(rejected) => rejected,
    }
}

/// Reads the JSON text `bytes` (starting on `line` of its chunk's source) onto `tape`, or
/// says why it was rejected (its encoding or its syntax).
fn parse_unit<'a: 't, 't>(
    chunk: Chunk,
    bytes: &'a [u8],
    line: usize,
    tape: &'t mut tape::Tape,
) -> std::result::Result<(&'a RawValue, Option<tape::Read<'t>>), Document<'a>> {
    let text = utf8::utf8(bytes).map_err(|e| {
        let (l, d) = utf8_error(bytes, e, line);
        Checked::rejected(chunk.source, l, d)
    })?;
    read_text(text, line, tape).map_err(|(l, d)| Checked::rejected(chunk.source, l, d))
}

/// What kind of input a source is.
#[derive(Debug, PartialEq)]
enum Layout {
    BomCsv,
    GxCsv,
    Ndjson,
    Json,
}

fn layout(bytes: &[u8]) -> std::result::Result<Layout, String> {
    let bytes = strip_bom(bytes);
    let head = first_line(bytes);
    if head == BOM_CSV_HEADER.as_bytes() {
        return Ok(Layout::BomCsv);
    }
    if head == GX_CSV_HEADER.as_bytes() {
        return Ok(Layout::GxCsv);
    }
    let trimmed = head.trim_ascii();
    match bytes.trim_ascii_start().first() {
        None => Err("empty input".into()),
        Some(b'{' | b'[') => {
            let rest = &bytes[head.len().min(bytes.len())..];
            let is_ndjson = !trimmed.is_empty()
                && serde_json::from_slice::<serde::de::IgnoredAny>(trimmed).is_ok()
                && !rest.trim_ascii().is_empty();
            Ok(if is_ndjson { Layout::Ndjson } else { Layout::Json })
        }
        Some(_) if head.contains(&b',') => Err(format!(
            "a CSV file must start with the BOM header {BOM_CSV_HEADER:?} or the GX attributes header {GX_CSV_HEADER:?}; found {:?}",
            String::from_utf8_lossy(&head[..head.len().min(120)])
        )),
        Some(_) => Err(
            "not JSON, NDJSON or a known CSV (expected a PACT footprint, a list response, an array, NDJSON, a BOM CSV or a GX attributes CSV)"
                .into(),
        ),
    }
}

fn utf8_error(bytes: &[u8], e: std::str::Utf8Error, first_line_no: usize) -> (usize, Diag) {
    let at = e.valid_up_to();
    let line = first_line_no + bytes[..at].iter().filter(|b| **b == b'\n').count();
    (
        line,
        whole(format!(
            "invalid UTF-8 at byte {at} (line {line}); PACT documents must be UTF-8"
        )),
    )
}

/// Checks `sources` and decides what to add to `existing`: new footprint versions and BOM
/// edges, with duplicates skipped and conflicts rejected, kept in memory. `progress`
/// receives the number of bytes checked as work completes.
pub fn prepare(
    existing: &Tables,
    sources: &[Source],
    opts: &IngestOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Prepared> {
    let started = std::time::Instant::now();
    let mut prepared = Prepared {
        report: IngestReport::default(),
        footprints: Vec::new(),
        bom: Vec::new(),
        gx: Vec::new(),
        log: Vec::new(),
        at: Utc::now(),
        sources: sources.to_vec(),
    };
    let layouts = layouts(sources, opts)?;
    let report = Intake::new(existing, sources, layouts, opts, &mut prepared, progress)?.run()?;
    prepared.report = report;
    tracing::debug!(
        "prepared {} footprints in {:.2?}",
        prepared.footprints.len(),
        started.elapsed()
    );
    Ok(prepared)
}

/// Checks `sources` against `existing` while a second thread hands what is new to `sink`
/// (building batches, encoding, writing): the checking never waits for the writing, and at
/// most a few chunks' rows are in flight.
fn stream_into<S: Sink + Send>(
    existing: &Tables,
    sources: &[Source],
    layouts: Layouts,
    opts: &IngestOptions,
    progress: &(dyn Fn(u64) + Sync),
    mut sink: S,
) -> Result<IngestReport> {
    let (seq, records) = (sink.seq(), sink.keeps_records());
    let (tx, rx) = std::sync::mpsc::sync_channel::<Job>(4);
    let (report, written) = std::thread::scope(|scope| {
        let writer = scope.spawn(move || -> Result<()> {
            for job in rx {
                match job {
                    Job::Footprints(rows) => sink.footprints(rows)?,
                    Job::Bom(e) => sink.bom(e)?,
                    Job::Log(l) => sink.log(l)?,
                    Job::Gx(g) => sink.gx(g)?,
                    Job::KeepOriginal(i) => sink.keep_original(i)?,
                    Job::OriginalRead(i, len) => sink.original_read(i, len)?,
                }
            }
            sink.flush()
        });
        let mut channel = ChannelSink {
            to: tx,
            seq,
            records,
        };
        let report = Intake::new(existing, sources, layouts, opts, &mut channel, progress)
            .and_then(Intake::run);
        drop(channel);
        let written = writer
            .join()
            .unwrap_or_else(|_| Err(Error::Internal("the segment writer panicked".into())));
        (report, written)
    });
    // A writer's error explains a stopped intake: report it first.
    written?;
    report
}

/// Checks `sources` against the data directory and commits what is new, under the
/// directory's write lock, as one segment written while the sources are read: memory does not
/// grow with the input. With `all_or_nothing`, a rejection stores nothing.
pub fn ingest_into(
    store: &crate::store::Store,
    sources: &[Source],
    opts: &IngestOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<IngestReport> {
    let started = std::time::Instant::now();
    let lock = store.lock()?;
    let layouts = layouts(sources, opts)?;
    let existing = lock.load_for_ingest(has_bom_csv(&layouts), has_documents(&layouts))?;
    let mut segment = lock.begin()?;
    let sink = SegmentSink {
        segment: &mut segment,
        sources,
        at: Utc::now(),
        waiting: Vec::new(),
    };
    let mut report = stream_into(&existing, sources, layouts, opts, progress, sink)?;
    tracing::debug!("checked and wrote the segment in {:.2?}", started.elapsed());
    let blocked = opts.all_or_nothing && report.rejected > 0;
    let empty = report.footprints == 0 && report.bom_edges == 0 && report.gx_attributes == 0;
    if !blocked && !empty {
        drop(existing);
        segment.finish_tables()?;
        if let Some(f) = opts.before_commit {
            f();
        }
        report.ingest_seq = Some(segment.commit()?);
        report.stored = true;
    }
    tracing::debug!("ingest done in {:.2?}", started.elapsed());
    Ok(report)
}

/// An ingest without the writing (`mieruka ingest --dry-run`): `sources` checked against
/// `store` when there is one (what an ingest reads of it) and every table's batches built,
/// in the same bounded memory as an ingest.
pub fn dry_run(
    store: Option<&crate::store::Store>,
    sources: &[Source],
    opts: &IngestOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<IngestReport> {
    let layouts = layouts(sources, opts)?;
    let existing = match store {
        Some(s) => s.load_for_ingest(has_bom_csv(&layouts), has_documents(&layouts))?,
        None => Tables::default(),
    };
    let sink = DrySink { at: Utc::now() };
    stream_into(&existing, sources, layouts, opts, progress, sink)
}

fn dangling(product: &str) -> String {
    format!(
        "product {product} has no footprint yet; the edge counts as dangling until one is ingested"
    )
}

/// A log row for an accepted or duplicate document (no pointer, no message).
fn done_row(at: &Problem, status: &'static str, kind: &'static str, id: Option<String>) -> LogRow {
    LogRow {
        pointer: None,
        message: None,
        ..log_row(at, status, kind, id)
    }
}

/// A log row for an accepted or duplicate document of the source named `name`.
fn done(
    name: &Arc<str>,
    (index, line): (usize, usize),
    status: &'static str,
    kind: &'static str,
    id: Option<String>,
) -> LogRow {
    LogRow {
        source: name.clone(),
        index,
        line,
        status,
        kind,
        footprint_id: id,
        pointer: None,
        message: None,
    }
}

/// A log row for an error or warning.
fn log_row(p: &Problem, status: &'static str, kind: &'static str, id: Option<String>) -> LogRow {
    LogRow {
        source: p.source.as_str().into(),
        index: p.index,
        line: p.line,
        status,
        kind,
        footprint_id: id,
        pointer: Some(p.pointer.clone()),
        message: Some(p.message.clone()),
    }
}

/// Two documents are the same when their text is, or when they parse to equal JSON values
/// (whitespace and key order do not matter).
fn same_document(a: &str, b: &str) -> bool {
    a == b
        || matches!(
            (
                serde_json::from_str::<serde_json::Value>(a),
                serde_json::from_str::<serde_json::Value>(b),
            ),
            (Ok(x), Ok(y)) if x == y
        )
}

/// What idempotency and product checks need from the stored tables.
///
/// Built before an ingest reads its first document, over every stored footprint (and every
/// stored BOM CSV row when a BOM CSV comes): its maps hash with `ahash`, sized once, and
/// borrow their text from the tables. (With the standard library's hash, grown by
/// doubling and a `String` per unit, checking a one-row BOM CSV against the 1M-footprint
/// store took 7.4 s, most of it building this.)
struct StoredIndex<'a> {
    /// Where each stored (id, version)'s document is: its ingest and span.
    documents: HashMap<(&'a str, Option<i32>), (i64, DocumentSpan), ahash::RandomState>,
    /// Current GX attributes per product.
    gx: HashMap<String, GxAttributes>,
    /// Every stored footprint's products.
    products: crate::table::graph_index::Interner,
    /// The amount and unit of each stored BOM CSV edge (parent, child).
    csv_edges: HashMap<(&'a str, &'a str), (Decimal, Option<&'a str>), ahash::RandomState>,
}

impl<'a> StoredIndex<'a> {
    /// The index of `t`, with where each stored document is when `documents` (`t` then has
    /// the footprints' ids, versions and spans).
    fn new(t: &'a Tables, documents: bool) -> Result<StoredIndex<'a>> {
        let footprints = t.footprints.iter().map(|b| b.num_rows()).sum();
        let mut csv_rows = 0;
        for b in &t.bom {
            let kinds = downcast::<StringArray>(b, "source_kind")?;
            csv_rows += (0..b.num_rows())
                .filter(|&i| kinds.value(i) == "csv")
                .count();
        }
        let mut index = StoredIndex {
            documents: HashMap::with_capacity_and_hasher(
                if documents { footprints } else { 0 },
                Default::default(),
            ),
            gx: table::current_gx_attributes(t)?,
            // A footprint names about one product.
            products: crate::table::graph_index::Interner::with_capacity(footprints),
            csv_edges: HashMap::with_capacity_and_hasher(csv_rows, Default::default()),
        };
        for b in &t.footprints {
            if documents {
                index.add_documents(b)?;
            }
            // The batch's products, numbered a run at a time.
            let named = table::list_texts(b, "product_ids")?;
            index.products.id_each(named.len(), |k| named[k], |_| {});
        }
        for b in &t.bom {
            let parents = downcast::<StringArray>(b, "parent_product_id")?;
            let children = downcast::<StringArray>(b, "child_product_id")?;
            let amounts = downcast::<Decimal128Array>(b, "amount")?;
            let units = downcast::<StringArray>(b, "unit")?;
            let kinds = downcast::<StringArray>(b, "source_kind")?;
            for i in 0..b.num_rows() {
                if kinds.value(i) != "csv" {
                    continue;
                }
                let unit = (!units.is_null(i)).then(|| units.value(i));
                let amount = table::i128_to_decimal(amounts.value(i), amounts.scale());
                index
                    .csv_edges
                    .insert((parents.value(i), children.value(i)), (amount, unit));
            }
        }
        Ok(index)
    }

    /// Where each document of the stored footprints `b` is.
    fn add_documents(&mut self, b: &'a RecordBatch) -> Result<()> {
        let ids = downcast::<StringArray>(b, "id")?;
        let versions = downcast::<datafusion::arrow::array::Int32Array>(b, "version")?;
        let seqs = downcast::<Int64Array>(b, "ingest_seq")?;
        let originals = downcast::<datafusion::arrow::array::Int32Array>(b, "document_original")?;
        let offsets = downcast::<Int64Array>(b, "document_offset")?;
        let lengths = downcast::<Int64Array>(b, "document_length")?;
        for i in 0..b.num_rows() {
            let v = (!versions.is_null(i)).then(|| versions.value(i));
            let span = DocumentSpan {
                original: originals.value(i) as u32,
                offset: offsets.value(i) as u64,
                length: lengths.value(i) as u64,
            };
            self.documents
                .insert((ids.value(i), v), (seqs.value(i), span));
        }
        Ok(())
    }
}

fn downcast<'b, T: 'static>(
    b: &'b datafusion::arrow::array::RecordBatch,
    name: &str,
) -> Result<&'b T> {
    b.column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .ok_or_else(|| Error::Internal(format!("stored column {name} is missing or mistyped")))
}
