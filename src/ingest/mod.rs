//! Ingest: PACT v2/v3 JSON (single documents, list responses, arrays, NDJSON, CloudEvents),
//! the GxD extension and BOM CSVs → validated model values → Arrow rows.
//!
//! Validation is all-or-nothing per document: a document with any error is rejected whole and
//! never half-loads; its siblings still load unless `all_or_nothing` is set. Every problem
//! names its source, the document's position, the line and the JSON pointer. This module
//! decides what to store; `store` does the writing.

mod bom;
mod gx;
mod gxd;
mod json;
mod pact;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Utc;
use datafusion::arrow::array::{
    Array, Decimal128Array, Int64Array, ListArray, RecordBatch, StringArray,
};
use rayon::prelude::*;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::value::RawValue;

pub use bom::BOM_CSV_HEADER;
pub use gx::{GX_CSV_HEADER, GX_EXTENSION_SCHEMA};
pub use json::{DECIMAL_SCALE, is_uuid};
pub use pact::BOM_EXTENSION_SCHEMA;

use self::json::{Checker, Diag, Lines};
use crate::model::{BomEdge, BomSource, GxAttributes};
use crate::store::{SegmentWriter, Table as StoreTable};
use crate::table::{self, DocumentSpan, FootprintRecord, GxRecord, LogRow, Original, Tables};
use crate::{Error, Result};

/// Default limit on one JSON document (an NDJSON line or a whole JSON file): 16 MiB.
pub const DEFAULT_MAX_DOCUMENT_BYTES: usize = 16 * 1024 * 1024;

/// A file or bytes to ingest, and the name it is reported under.
#[derive(Debug, Clone)]
pub struct Source {
    /// File path as given, or a label such as `upload`.
    pub name: String,
    data: Data,
}

#[derive(Debug, Clone)]
enum Data {
    /// In memory (an upload, a pulled page, the bundled demo).
    Bytes(Arc<Vec<u8>>),
    /// A file, read in chunks as it is checked.
    File(PathBuf),
}

impl Source {
    /// A source named `name` holding `bytes`.
    pub fn new(name: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Source {
        Source {
            name: name.into(),
            data: Data::Bytes(Arc::new(bytes.into())),
        }
    }

    /// The file at `path`, named by its path; nothing is read yet.
    pub fn file(path: &Path) -> Source {
        Source {
            name: path.display().to_string(),
            data: Data::File(path.to_path_buf()),
        }
    }

    /// Its size in bytes (for a file, as it is now).
    pub fn size(&self) -> Result<u64> {
        match &self.data {
            Data::Bytes(b) => Ok(b.len() as u64),
            Data::File(p) => Ok(std::fs::metadata(p).map_err(|e| Error::io(p, e))?.len()),
        }
    }

    /// All of its bytes, read now.
    pub fn read(&self) -> Result<Vec<u8>> {
        match &self.data {
            Data::Bytes(b) => Ok(b.to_vec()),
            Data::File(p) => std::fs::read(p).map_err(|e| Error::io(p, e)),
        }
    }

    /// `path`'s files: `path` itself, or for a directory its `*.json`, `*.ndjson`, `*.jsonl`
    /// and `*.csv` files, recursively, in name order. Nothing is read yet.
    pub fn read_path(path: &Path) -> Result<Vec<Source>> {
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if !meta.is_dir() {
            return Ok(vec![Source::file(path)]);
        }
        let mut files = Vec::new();
        collect_files(path, &mut files)?;
        files.sort();
        Ok(files.iter().map(|p| Source::file(p)).collect())
    }

    /// The original this source becomes when tables are kept in memory.
    fn original(&self) -> Original {
        match &self.data {
            Data::Bytes(bytes) => Original::Bytes {
                name: self.name.clone(),
                bytes: bytes.clone(),
            },
            Data::File(path) => Original::File(path.clone()),
        }
    }

    /// The bytes of `span` (a document found earlier in this source).
    fn read_span(&self, span: DocumentSpan) -> Result<Vec<u8>> {
        let tables = Tables {
            originals: table::Originals([(0, vec![self.original()])].into_iter().collect()),
            ..Tables::default()
        };
        tables.document(0, span)
    }
}

/// Reads a source front to back, block by block.
struct Reader<'a> {
    feed: Feed<'a>,
    /// Bytes read so far.
    pos: usize,
    done: bool,
}

/// What a [`Reader`] reads.
enum Feed<'a> {
    Bytes(&'a [u8]),
    File(&'a Path, std::fs::File),
}

impl<'a> Reader<'a> {
    fn open(source: &'a Source) -> Result<Reader<'a>> {
        let feed = match &source.data {
            Data::Bytes(b) => Feed::Bytes(b),
            Data::File(p) => Feed::File(p, std::fs::File::open(p).map_err(|e| Error::io(p, e))?),
        };
        Ok(Reader {
            feed,
            pos: 0,
            done: false,
        })
    }

    /// Appends up to `n` more bytes to `buf`.
    fn fill(&mut self, buf: &mut Vec<u8>, n: usize) -> Result<()> {
        use std::io::Read;
        let from = buf.len();
        match &mut self.feed {
            Feed::Bytes(b) => {
                let end = self.pos.saturating_add(n).min(b.len());
                buf.extend_from_slice(&b[self.pos..end]);
            }
            Feed::File(p, f) => {
                f.take(n as u64)
                    .read_to_end(buf)
                    .map_err(|e| Error::io(p, e))?;
            }
        }
        let read = buf.len() - from;
        self.pos += read;
        if read < n {
            self.done = true;
        }
        Ok(())
    }
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        if path.is_dir() {
            collect_files(&path, out)?;
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("json" | "ndjson" | "jsonl" | "csv")
        ) {
            out.push(path);
        }
    }
    Ok(())
}

/// How an ingest behaves.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Largest JSON document accepted (an NDJSON line, or a whole JSON file).
    pub max_document_bytes: usize,
    /// Store nothing if any document is rejected.
    pub all_or_nothing: bool,
    /// Bytes of a source read and checked per step (whole lines or CSV records; a longer one
    /// is read whole). Memory follows this, not the input's size.
    pub chunk_bytes: usize,
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
        }
    }
}

/// One error or warning of an ingest report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The source the document came from.
    pub source: String,
    /// 0-based position of the document (footprint or CSV row) in its source.
    pub index: usize,
    /// 1-based line of the value concerned.
    pub line: usize,
    /// RFC 6901 pointer into the document (`/pcf/declaredUnit`), or `/column` for CSV rows.
    pub pointer: String,
    /// What is wrong.
    pub message: String,
}

/// What an ingest did; `mieruka ingest --format json` prints it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IngestReport {
    /// Documents accepted (footprints and BOM rows), duplicates included.
    pub accepted: usize,
    /// Documents rejected.
    pub rejected: usize,
    /// Accepted documents that were already stored with identical content.
    pub duplicates: usize,
    /// New footprint versions.
    pub footprints: usize,
    /// New or changed BOM edges.
    pub bom_edges: usize,
    /// New or changed GX attribute rows.
    pub gx_attributes: usize,
    /// Whether anything was written (false on a dry run, with `--all-or-nothing` after a
    /// rejection, or when everything was a duplicate).
    pub stored: bool,
    /// The ingest sequence number of the commit, when stored.
    pub ingest_seq: Option<i64>,
    /// Warnings: accepted as read, but worth a look.
    pub warnings: Vec<Problem>,
    /// Errors: why documents were rejected.
    pub errors: Vec<Problem>,
}

impl IngestReport {
    /// Exit code per the CLI contract: 0 nothing rejected, 1 some rejected.
    pub fn exit_code(&self) -> i32 {
        if self.rejected == 0 { 0 } else { 1 }
    }
}

/// What an ingest would add, checked against what is already stored, kept in memory.
#[derive(Debug)]
pub struct Prepared {
    /// The report.
    pub report: IngestReport,
    /// New footprint records.
    pub footprints: Vec<FootprintRecord>,
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
        let (footprints, footprint_extensions) = footprint_batches(&self.footprints, seq)?;
        let originals = self.sources.iter().map(Source::original).collect();
        Ok(Tables {
            footprints,
            footprint_extensions,
            bom: vec![table::bom_batch(&self.bom, seq)?],
            gx_attributes: vec![table::gx_batch(&self.gx, seq)?],
            ingest_log: vec![table::ingest_log_batch(&self.log, seq, self.at)?],
            originals: table::Originals([(seq, originals)].into_iter().collect()),
        })
    }
}

/// The `footprints` and `footprint_extensions` batches of `records`, built on every core.
fn footprint_batches(
    records: &[FootprintRecord],
    seq: i64,
) -> Result<(Vec<RecordBatch>, Vec<RecordBatch>)> {
    // Rows per batch: large enough for columnar work, small enough to share the cores.
    // A row's strings come from its document, so the document's length bounds what the
    // row adds to any string column: batches by that stay clear of 2 GiB offsets.
    const ROWS: usize = 8192;
    if records.is_empty() {
        return Ok((
            vec![table::footprints_batch(&[], seq)?],
            vec![table::extensions_batch(&[], seq)?],
        ));
    }
    let weights: Vec<u64> = records.iter().map(|r| r.document.length).collect();
    let ranges = table::batch_ranges(&weights, ROWS, table::BATCH_STRING_BYTES);
    let pairs = ranges
        .par_iter()
        .map(|r| {
            Ok((
                table::footprints_batch(&records[r.clone()], seq)?,
                table::extensions_batch(&records[r.clone()], seq)?,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(pairs.into_iter().unzip())
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
    /// A footprint (or what should be one) inside a JSON file already split serially.
    Value { raw: &'a RawValue, line: usize },
    /// Rejected before parsing (size, encoding, syntax, layout).
    Rejected { line: usize, diag: Diag },
}

/// A chunk checked and waiting to be decided: its bytes, where they start, the results.
type CheckedChunk = (Vec<u8>, u64, Vec<Vec<Checked>>);

/// The outcome of checking one document; its index in the source is set afterwards.
struct Checked {
    source: usize,
    line: usize,
    /// Boxed: a footprint is a couple of kilobytes, and results are moved around.
    record: Option<Box<FootprintRecord>>,
    errors: Vec<(usize, Diag)>,
    warnings: Vec<(usize, Diag)>,
}

impl Checked {
    fn rejected(source: usize, line: usize, diag: Diag) -> Checked {
        Checked {
            source,
            line,
            record: None,
            errors: vec![(line, diag)],
            warnings: Vec::new(),
        }
    }
}

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
fn footprint_values<'a>(top: &'a RawValue) -> std::result::Result<Vec<Found<'a>>, String> {
    fn each(values: Vec<&RawValue>) -> Vec<Found<'_>> {
        values.into_iter().map(|v| (v, None)).collect()
    }
    match top.get().as_bytes().first() {
        Some(b'[') => json::array(top).map(each),
        Some(b'{') => {
            let entries = json::object(top)?;
            let get = |key: &str| entries.0.iter().find(|(k, _)| k == key).map(|e| e.1);
            if get("pcf").is_some() || get("specVersion").is_some() {
                return Ok(vec![(top, Some(entries))]);
            }
            if let Some(data) = get("data") {
                return match data.get().as_bytes().first() {
                    Some(b'[') => json::array(data).map(each),
                    Some(b'{') => {
                        let inner = json::object(data)?;
                        match inner.0.iter().find(|(k, _)| k == "pfs") {
                            Some((_, pfs)) => json::array(pfs).map(each),
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
fn check_value(
    sources: &[Source],
    chunk: Chunk,
    raw: &RawValue,
    entries: Option<json::Entries>,
    line: usize,
) -> Checked {
    let source = chunk.source;
    let text = raw.get();
    let mut c = Checker::new(text);
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
                source: sources[source].name.clone(),
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

/// Checks one NDJSON line: it may hold one footprint or a response with several.
fn check_line(sources: &[Source], chunk: Chunk, bytes: &[u8], line: usize) -> Vec<Checked> {
    let source = chunk.source;
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let (l, d) = utf8_error(bytes, e, line);
            return vec![Checked::rejected(source, l, d)];
        }
    };
    let top = match parse_text(text, line) {
        Ok(t) => t,
        Err((l, d)) => return vec![Checked::rejected(source, l, d)],
    };
    match footprint_values(top) {
        Ok(values) => values
            .into_iter()
            .map(|(raw, entries)| check_value(sources, chunk, raw, entries, line))
            .collect(),
        Err(message) => vec![Checked::rejected(source, line, whole(message))],
    }
}

/// What kind of input a source is.
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

/// Where checked rows go: kept in memory ([`Prepared`]) or streamed into a data directory's
/// next segment.
trait Sink {
    fn footprints(&mut self, records: Vec<FootprintRecord>) -> Result<()>;
    fn bom(&mut self, edges: Vec<BomEdge>) -> Result<()>;
    fn log(&mut self, rows: Vec<LogRow>) -> Result<()>;
    fn gx(&mut self, rows: Vec<GxRecord>) -> Result<()>;
    /// Source `source` is being read: keep it as received. (Tables kept in memory have the
    /// sources themselves as their originals.)
    fn keep_original(&mut self, _source: usize) -> Result<()> {
        Ok(())
    }
    /// Source `source` was read to its end, `len` bytes: what was kept must be as long.
    fn original_read(&mut self, _source: usize, _len: u64) -> Result<()> {
        Ok(())
    }
}

impl Sink for Prepared {
    fn footprints(&mut self, records: Vec<FootprintRecord>) -> Result<()> {
        self.footprints.extend(records);
        Ok(())
    }
    fn bom(&mut self, edges: Vec<BomEdge>) -> Result<()> {
        self.bom.extend(edges);
        Ok(())
    }
    fn log(&mut self, rows: Vec<LogRow>) -> Result<()> {
        self.log.extend(rows);
        Ok(())
    }
    fn gx(&mut self, rows: Vec<GxRecord>) -> Result<()> {
        self.gx.extend(rows);
        Ok(())
    }
}

/// What the intake hands to the thread writing a segment.
enum Job {
    Footprints(Vec<FootprintRecord>),
    Bom(Vec<BomEdge>),
    Log(Vec<LogRow>),
    Gx(Vec<GxRecord>),
    KeepOriginal(usize),
    OriginalRead(usize, u64),
}

/// Hands rows to the writing thread: building batches, encoding and compressing them, and
/// writing the originals happen beside the checking, not after it.
struct ChannelSink(std::sync::mpsc::SyncSender<Job>);

impl ChannelSink {
    fn send(&self, job: Job) -> Result<()> {
        // The writer stops only on an error, which the ingest reports when it joins it.
        self.0
            .send(job)
            .map_err(|_| Error::Internal("the segment writer stopped".into()))
    }
}

impl Sink for ChannelSink {
    fn footprints(&mut self, records: Vec<FootprintRecord>) -> Result<()> {
        self.send(Job::Footprints(records))
    }
    fn bom(&mut self, edges: Vec<BomEdge>) -> Result<()> {
        self.send(Job::Bom(edges))
    }
    fn log(&mut self, rows: Vec<LogRow>) -> Result<()> {
        self.send(Job::Log(rows))
    }
    fn gx(&mut self, rows: Vec<GxRecord>) -> Result<()> {
        self.send(Job::Gx(rows))
    }
    fn keep_original(&mut self, source: usize) -> Result<()> {
        self.send(Job::KeepOriginal(source))
    }
    fn original_read(&mut self, source: usize, len: u64) -> Result<()> {
        self.send(Job::OriginalRead(source, len))
    }
}

/// Rows written straight into a segment of a data directory, as Arrow batches.
struct SegmentSink<'w, 'l, 's> {
    segment: &'w mut SegmentWriter<'l, 's>,
    sources: &'w [Source],
    at: chrono::DateTime<Utc>,
}

impl SegmentSink<'_, '_, '_> {
    /// Writes `rows` to `table` as batches of 65,536 rows, built on every core.
    fn write_in_batches<T: Sync>(
        &mut self,
        table: StoreTable,
        rows: &[T],
        build: impl Fn(&[T]) -> Result<RecordBatch> + Sync,
    ) -> Result<()> {
        let batches = rows
            .par_chunks(65_536)
            .map(&build)
            .collect::<Result<Vec<_>>>()?;
        for b in &batches {
            self.segment.write(table, b)?;
        }
        Ok(())
    }
}

impl Sink for SegmentSink<'_, '_, '_> {
    fn footprints(&mut self, records: Vec<FootprintRecord>) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let (footprints, extensions) = footprint_batches(&records, self.segment.seq())?;
        drop(records);
        for b in &footprints {
            self.segment.write(StoreTable::Footprints, b)?;
        }
        for b in extensions.iter().filter(|b| b.num_rows() > 0) {
            self.segment.write(StoreTable::Extensions, b)?;
        }
        Ok(())
    }
    fn bom(&mut self, edges: Vec<BomEdge>) -> Result<()> {
        let seq = self.segment.seq();
        self.write_in_batches(StoreTable::Bom, &edges, |c| table::bom_batch(c, seq))
    }
    fn log(&mut self, rows: Vec<LogRow>) -> Result<()> {
        let (seq, at) = (self.segment.seq(), self.at);
        self.write_in_batches(StoreTable::IngestLog, &rows, |c| {
            table::ingest_log_batch(c, seq, at)
        })
    }
    fn gx(&mut self, rows: Vec<GxRecord>) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let b = table::gx_batch(&rows, self.segment.seq())?;
        self.segment.write(StoreTable::GxAttributes, &b)
    }
    fn keep_original(&mut self, source: usize) -> Result<()> {
        let s = &self.sources[source];
        match &s.data {
            Data::Bytes(bytes) => self.segment.append_original(source, &s.name, bytes),
            // Copied in the kernel, beside the checking: the bytes never pass through here.
            Data::File(path) => self.segment.copy_original_beside(source, path),
        }
    }
    fn original_read(&mut self, source: usize, len: u64) -> Result<()> {
        let copied = match &self.sources[source].data {
            Data::Bytes(bytes) => bytes.len() as u64,
            Data::File(_) => self.segment.copied(source)?,
        };
        if copied == len {
            return Ok(());
        }
        let name = &self.sources[source].name;
        Err(Error::io(
            Path::new(name),
            std::io::Error::other(format!(
                "the file changed while it was ingested ({len} bytes read, {copied} copied); nothing was stored"
            )),
        ))
    }
}

/// How each source is read, or why it cannot be (see [`layout`]).
type Layouts = Vec<std::result::Result<Layout, String>>;

/// The layout of every source, from its first bytes.
fn layouts(sources: &[Source], opts: &IngestOptions) -> Result<Layouts> {
    sources.iter().map(|s| layout_of(s, opts)).collect()
}

/// Whether any source is a BOM CSV (whose rows are compared with the stored ones).
fn has_bom_csv(layouts: &Layouts) -> bool {
    layouts.iter().any(|l| matches!(l, Ok(Layout::BomCsv)))
}

/// The checks that span documents — idempotency against the store and within the ingest,
/// products named before they are known, the report and the log — fed chunk by chunk.
struct Intake<'a> {
    sources: &'a [Source],
    /// Each source's layout, taken when the sources are read.
    layouts: Layouts,
    opts: &'a IngestOptions,
    existing: &'a Tables,
    stored: StoredIndex<'a>,
    sink: &'a mut (dyn Sink + Send),
    progress: &'a (dyn Fn(u64) + Sync),
    report: IngestReport,
    /// Footprints of this ingest by id and version: where the document is in its source.
    in_batch: HashMap<(String, Option<i32>), DocumentSpan, ahash::RandomState>,
    /// Every product with a footprint: stored or in this ingest.
    known: HashSet<String, ahash::RandomState>,
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

/// How a source is read, decided from its first bytes.
fn layout_of(source: &Source, opts: &IngestOptions) -> Result<std::result::Result<Layout, String>> {
    let mut r = Reader::open(source)?;
    let mut head = Vec::new();
    r.fill(
        &mut head,
        opts.chunk_bytes
            .max(opts.max_document_bytes.saturating_add(2)),
    )?;
    let layout = layout(&head);
    // A first line longer than what was read: one document too big for any limit, which
    // the size check of a JSON text reports.
    Ok(match layout {
        Ok(Layout::Ndjson) | Err(_) if !r.done && memchr::memchr(b'\n', &head).is_none() => {
            Ok(Layout::Json)
        }
        other => other,
    })
}

impl<'a> Intake<'a> {
    fn new(
        existing: &'a Tables,
        sources: &'a [Source],
        layouts: Layouts,
        opts: &'a IngestOptions,
        sink: &'a mut (dyn Sink + Send),
        progress: &'a (dyn Fn(u64) + Sync),
    ) -> Result<Intake<'a>> {
        let mut stored = StoredIndex::new(existing)?;
        let known = std::mem::take(&mut stored.products);
        Ok(Intake {
            sources,
            layouts,
            opts,
            existing,
            stored,
            sink,
            progress,
            report: IngestReport::default(),
            in_batch: HashMap::with_hasher(ahash::RandomState::new()),
            known,
            pending: Vec::new(),
            gx: Vec::new(),
            next_index: vec![0; sources.len()],
            phases: Phases::default(),
        })
    }

    /// Checks every source: JSON first, then CSV rows, which are checked against every
    /// footprint of the ingest.
    fn run(mut self) -> Result<IngestReport> {
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
                self.report.warnings.push(w);
            }
        }
        timed(&mut self.phases.write, || self.sink.log(warnings))?;
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

    /// Reads the rest of source `si` only to keep it as received.
    fn skip(&mut self, si: usize) -> Result<()> {
        let mut r = Reader::open(&self.sources[si])?;
        let mut buf = Vec::new();
        while !r.done {
            buf.clear();
            self.fill(&mut r, si, &mut buf, self.step())?;
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

    /// Reads on into `buf` until it holds a chunk (or the rest of the source); `false` when
    /// nothing is left.
    fn top_up(&mut self, r: &mut Reader, si: usize, buf: &mut Vec<u8>) -> Result<bool> {
        if buf.len() < self.step() && !r.done {
            let want = self.step() - buf.len();
            self.fill(r, si, buf, want)?;
        }
        Ok(!buf.is_empty())
    }

    /// Rejects one document of source `si` before it is checked (layout, size, syntax).
    fn reject(&mut self, si: usize, line: usize, diag: Diag) -> Result<()> {
        self.footprint_chunk(None, vec![vec![Checked::rejected(si, line, diag)]])
    }

    /// A JSON text: one footprint, an array, or a PACT response; read whole (it is at most
    /// the document size limit).
    fn json(&mut self, si: usize) -> Result<()> {
        let len = self.sources[si].size()?;
        let max = self.opts.max_document_bytes;
        if len > max as u64 {
            let diag = whole(size_message(
                usize::try_from(len).unwrap_or(usize::MAX),
                max,
            ));
            self.reject(si, 1, diag)?;
            return self.skip(si);
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
        let text = match std::str::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let (line, diag) = utf8_error(bytes, e, 1);
                return self.reject(si, line, diag);
            }
        };
        let top = match parse_text(text, 1) {
            Ok(t) => t,
            Err((line, diag)) => return self.reject(si, line, diag),
        };
        let values = match footprint_values(top) {
            Ok(v) => v,
            Err(message) => return self.reject(si, 1, whole(message)),
        };
        let lines = Lines::new(text.as_bytes());
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
        let checked = check_units(self.sources, self.progress, chunk, units);
        self.phases.check += started.elapsed();
        self.footprint_chunk(Some(chunk), checked)
    }

    /// NDJSON, chunk by chunk of whole lines. While one chunk is checked on every core, the
    /// one before it is decided on: the ordered part overlaps the parallel one.
    fn ndjson(&mut self, si: usize) -> Result<()> {
        let max = self.opts.max_document_bytes;
        let mut r = Reader::open(&self.sources[si])?;
        let mut buf: Vec<u8> = Vec::new();
        // A checked chunk waiting to be decided: its bytes, where they start, the results.
        let mut pending: Option<CheckedChunk> = None;
        let mut spare: Vec<u8> = Vec::new();
        let mut base = 0u64;
        let mut line_no = 1usize;
        let mut first = true;
        while self.top_up(&mut r, si, &mut buf)? {
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
            // This chunk's bytes move out; the rest of the buffer starts the next one.
            let mut next = std::mem::take(&mut spare);
            next.clear();
            next.extend_from_slice(&buf[cut..]);
            buf.truncate(cut);
            let bytes = std::mem::replace(&mut buf, next);
            let chunk = Chunk {
                source: si,
                bytes: &bytes,
                base,
            };
            let units = ndjson_units(&bytes, skip, line_no, max);
            let started = std::time::Instant::now();
            let (sources, progress) = (self.sources, self.progress);
            let (decided, checked) = beside(
                || self.decide_pending(si, &mut pending, &mut spare),
                || check_units(sources, progress, chunk, units),
            );
            decided?;
            self.phases.check += started.elapsed();
            line_no += memchr::memchr_iter(b'\n', &bytes).count();
            base += cut as u64;
            let at = chunk.base;
            pending = Some((bytes, at, checked));
        }
        self.decide_pending(si, &mut pending, &mut spare)
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
    fn footprint_chunk(&mut self, chunk: Option<Chunk>, checked: Vec<Vec<Checked>>) -> Result<()> {
        let sources = self.sources;
        // Sized once: grown a push at a time, a chunk's records (thousands of large
        // structs) would be copied into fresh, zeroed pages at every doubling.
        let n: usize = checked.iter().map(Vec::len).sum();
        let mut log = Vec::with_capacity(n);
        let mut new: Vec<FootprintRecord> = Vec::with_capacity(n);
        let mut origins: Vec<Problem> = Vec::with_capacity(n);
        for ch in checked.into_iter().flatten() {
            let index = self.next_index[ch.source];
            self.next_index[ch.source] += 1;
            let at = Problem {
                source: sources[ch.source].name.clone(),
                index,
                line: ch.line,
                pointer: String::new(),
                message: String::new(),
            };
            let id = ch.record.as_ref().map(|r| r.footprint.id.clone());
            for (line, d) in ch.warnings {
                let w = problem(sources, ch.source, index, line, d);
                log.push(log_row(&w, "warning", "footprint", id.clone()));
                self.report.warnings.push(w);
            }
            let (Some(record), Some(chunk)) = (ch.record, chunk) else {
                self.report.rejected += 1;
                for (line, d) in ch.errors {
                    let e = problem(sources, ch.source, index, line, d);
                    log.push(log_row(&e, "rejected", "footprint", None));
                    self.report.errors.push(e);
                }
                continue;
            };
            let key = (record.footprint.id.clone(), record.footprint.version);
            let lossy = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
            // The earlier document with this id and version, read only when there is one.
            let earlier = match self.stored.documents.get(&(key.0.as_str(), key.1)) {
                Some(&(seq, span)) => Some(lossy(&self.existing.document(seq, span)?)),
                None => match self.in_batch.get(&key) {
                    Some(&span) => Some(match chunk.text(span) {
                        Some(t) if span.original as usize == chunk.source => t.to_owned(),
                        _ => lossy(&sources[span.original as usize].read_span(span)?),
                    }),
                    None => None,
                },
            };
            match earlier {
                None => {
                    self.report.accepted += 1;
                    log.push(done_row(&at, "accepted", "footprint", id));
                    self.in_batch.insert(key, record.document);
                    new.push(*record);
                    origins.push(at);
                }
                Some(doc)
                    if same_document(&doc, chunk.text(record.document).unwrap_or_default()) =>
                {
                    self.report.accepted += 1;
                    self.report.duplicates += 1;
                    log.push(done_row(&at, "duplicate", "footprint", id));
                }
                Some(_) => {
                    let e = Problem {
                        pointer: if key.1.is_some() { "/version" } else { "/id" }.into(),
                        message: format!(
                            "footprint {} version {} is already stored with different content; a changed footprint needs a new version",
                            key.0,
                            key.1.map_or("(none)".into(), |v| v.to_string())
                        ),
                        ..at
                    };
                    self.report.rejected += 1;
                    log.push(log_row(&e, "rejected", "footprint", id));
                    self.report.errors.push(e);
                }
            }
        }
        // BOM edges declared by the new footprints' extensions, and their GX attributes.
        for r in &new {
            self.known.extend(r.footprint.product_ids.iter().cloned());
        }
        let mut bom = Vec::with_capacity(new.iter().map(|r| r.footprint.bom_inputs.len()).sum());
        for (r, at) in new.iter().zip(origins) {
            let f = &r.footprint;
            for input in &f.bom_inputs {
                if !self.known.contains(input.product_id.as_str()) {
                    self.pending
                        .push((input.product_id.clone(), at.clone(), f.id.clone()));
                }
                bom.push(BomEdge {
                    parent_product_id: f.product_id().to_owned(),
                    child_product_id: input.product_id.clone(),
                    amount: input.amount,
                    unit: input.unit,
                    source: BomSource::Extension {
                        footprint_id: f.id.clone(),
                    },
                });
            }
            if let Some(a) = &f.gx_attributes {
                self.gx.push((
                    GxRecord {
                        attributes: a.clone(),
                        source_kind: "extension",
                        source: f.id.clone(),
                        footprint_id: Some(f.id.clone()),
                        line: None,
                    },
                    at,
                ));
            }
        }
        self.report.footprints += new.len();
        self.report.bom_edges += bom.len();
        timed(&mut self.phases.write, || self.sink.footprints(new))?;
        timed(&mut self.phases.write, || self.sink.bom(bom))?;
        timed(&mut self.phases.write, || self.sink.log(log))
    }

    /// A BOM or GX attributes CSV, chunk by chunk of whole records, each parsed on every
    /// core.
    fn csv(&mut self, si: usize, is_bom: bool) -> Result<()> {
        let mut r = Reader::open(&self.sources[si])?;
        let mut buf: Vec<u8> = Vec::new();
        let mut pending: Vec<CsvRows> = Vec::new();
        let (mut line_no, mut index, mut first) = (1usize, 0usize, true);
        while self.top_up(&mut r, si, &mut buf)? {
            let cut = if r.done {
                buf.len()
            } else {
                match record_end(&buf) {
                    Some(end) => end,
                    None => {
                        // One record longer than a chunk (a quoted field with line breaks):
                        // read on until it ends.
                        self.fill(&mut r, si, &mut buf, self.step())?;
                        continue;
                    }
                }
            };
            let skip = if first {
                buf.len() - strip_bom(&buf).len()
            } else {
                0
            };
            let bytes = &buf[skip..cut];
            // Pieces of whole records, one per core and a few more.
            let pieces = csv_pieces(bytes, rayon::current_num_threads() * 4, 1 << 20);
            let header = first;
            let started = std::time::Instant::now();
            // The rows of the chunk before are decided while this one is parsed.
            let waiting = std::mem::take(&mut pending);
            let (decided, parsed) = beside(
                || self.csv_decide(si, waiting),
                || {
                    pieces
                        .par_iter()
                        .enumerate()
                        .map(|(i, range)| {
                            let piece = &bytes[range.clone()];
                            let has_header = header && i == 0;
                            let lines = memchr::memchr_iter(b'\n', piece).count();
                            let rows = if is_bom {
                                CsvRows::Bom(bom::parse_csv(piece, has_header))
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
            buf.drain(..cut);
        }
        self.csv_decide(si, pending)
    }

    /// Decides on parsed CSV rows, in order.
    fn csv_decide(&mut self, si: usize, rows: Vec<CsvRows>) -> Result<()> {
        for rows in rows {
            match rows {
                CsvRows::Bom(rows) => self.bom_rows(si, rows)?,
                CsvRows::Gx(rows) => self.gx_rows(si, rows)?,
            }
        }
        Ok(())
    }

    /// BOM CSV rows: rejected, duplicate or new edges. Millions of rows come this way, so a
    /// row that is simply accepted allocates nothing but its edge.
    fn bom_rows(&mut self, si: usize, rows: Vec<bom::CsvRow>) -> Result<()> {
        let sources = self.sources;
        let name: Arc<str> = sources[si].name.as_str().into();
        let mut log = Vec::with_capacity(rows.len());
        let mut edges = Vec::with_capacity(rows.len());
        for row in rows {
            let (index, line) = (row.index, row.line);
            let Some((parent, child, amount, unit)) = row.edge else {
                self.report.rejected += 1;
                for d in row.errors {
                    let p = problem(sources, si, index, line, d);
                    log.push(log_row(&p, "rejected", "bom_edge", None));
                    self.report.errors.push(p);
                }
                continue;
            };
            for (col, id) in [("parent_product_id", &parent), ("child_product_id", &child)] {
                if !self.known.contains(id.as_str()) {
                    let w = Problem {
                        source: sources[si].name.clone(),
                        index,
                        line,
                        pointer: format!("/{col}"),
                        message: dangling(id),
                    };
                    log.push(log_row(&w, "warning", "bom_edge", None));
                    self.report.warnings.push(w);
                }
            }
            self.report.accepted += 1;
            let same = !self.stored.csv_edges.is_empty()
                && self
                    .stored
                    .csv_edges
                    .get(&(parent.as_str(), child.as_str()))
                    == Some(&(amount.normalize(), unit.map(|u| u.as_str().to_owned())));
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
    fn gx_rows(&mut self, si: usize, rows: Vec<gx::GxRow>) -> Result<()> {
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
                    self.report.errors.push(p);
                }
                continue;
            };
            if !self.known.contains(a.product_id.as_str()) {
                let w = Problem {
                    pointer: "/product_id".into(),
                    message: format!(
                        "product {} has no footprint yet; its GX attributes are kept for when one is ingested",
                        a.product_id
                    ),
                    ..at.clone()
                };
                log.push(log_row(&w, "warning", "gx_attributes", None));
                self.report.warnings.push(w);
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

/// Runs `decide` on this thread while `work` runs on the thread pool.
///
/// `decide` hands rows to the writing thread and may wait for it; the writing thread builds
/// batches on the pool. So `decide` must never run on a pool thread (as in `rayon::join`):
/// waiting there holds a thread the writer may need, and the two can wait for each other.
fn beside<A, B: Send>(decide: impl FnOnce() -> A, work: impl FnOnce() -> B + Send) -> (A, B) {
    std::thread::scope(|scope| {
        let worker = scope.spawn(work);
        let a = decide();
        let b = worker
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (a, b)
    })
}

/// The lines of an NDJSON chunk (the first `skip` bytes left out), numbered from `line_no`,
/// as units of work; blank lines are skipped and lines over `max` bytes rejected.
fn ndjson_units(bytes: &[u8], skip: usize, line_no: usize, max: usize) -> Vec<Unit<'_>> {
    let mut units = Vec::new();
    let mut start = skip;
    let ends = memchr::memchr_iter(b'\n', bytes).chain(std::iter::once(bytes.len()));
    for (n, end) in ends.enumerate() {
        if start > bytes.len() {
            break;
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
    units
}

/// Parses and checks the units of `chunk` on every core.
fn check_units(
    sources: &[Source],
    progress: &(dyn Fn(u64) + Sync),
    chunk: Chunk,
    units: Vec<Unit>,
) -> Vec<Vec<Checked>> {
    let si = chunk.source;
    units
        .into_par_iter()
        .map(|unit| match unit {
            Unit::Line { bytes, line } => {
                let out = check_line(sources, chunk, bytes, line);
                progress(bytes.len() as u64 + 1);
                out
            }
            Unit::Value { raw, line } => {
                let out = check_value(sources, chunk, raw, None, line);
                progress(raw.get().len() as u64);
                vec![out]
            }
            Unit::Rejected { line, diag } => vec![Checked::rejected(si, line, diag)],
        })
        .collect()
}

/// A CSV piece's rows.
enum CsvRows {
    Bom(Vec<bom::CsvRow>),
    Gx(Vec<gx::GxRow>),
}

/// The end of the last whole CSV record in `bytes`: just after the last line break outside
/// quotes (a quote inside a field is doubled, so quotes outside fields pair up).
fn record_end(bytes: &[u8]) -> Option<usize> {
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
/// `min` bytes.
fn csv_pieces(bytes: &[u8], n: usize, min: usize) -> Vec<std::ops::Range<usize>> {
    let target = (bytes.len() / n.max(1)).max(min).max(1);
    let mut out = Vec::new();
    let mut start = 0;
    while start < bytes.len() {
        let want = start + target;
        if want >= bytes.len() {
            out.push(start..bytes.len());
            break;
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
    let (tx, rx) = std::sync::mpsc::sync_channel::<Job>(4);
    let (report, written) = std::thread::scope(|scope| {
        let writer = scope.spawn(move || -> Result<()> {
            for job in rx {
                match job {
                    Job::Footprints(r) => sink.footprints(r)?,
                    Job::Bom(e) => sink.bom(e)?,
                    Job::Log(l) => sink.log(l)?,
                    Job::Gx(g) => sink.gx(g)?,
                    Job::KeepOriginal(i) => sink.keep_original(i)?,
                    Job::OriginalRead(i, len) => sink.original_read(i, len)?,
                }
            }
            Ok(())
        });
        let mut channel = ChannelSink(tx);
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
    let existing = lock.load_for_ingest(has_bom_csv(&layouts))?;
    let mut segment = lock.begin()?;
    let sink = SegmentSink {
        segment: &mut segment,
        sources,
        at: Utc::now(),
    };
    let mut report = stream_into(&existing, sources, layouts, opts, progress, sink)?;
    tracing::debug!("checked and wrote the segment in {:.2?}", started.elapsed());
    let blocked = opts.all_or_nothing && report.rejected > 0;
    let empty = report.footprints == 0 && report.bom_edges == 0 && report.gx_attributes == 0;
    if !blocked && !empty {
        drop(existing);
        report.ingest_seq = Some(segment.commit()?);
        report.stored = true;
    }
    tracing::debug!("ingest done in {:.2?}", started.elapsed());
    Ok(report)
}

/// Builds every batch an ingest would write, and drops it.
struct DrySink {
    at: chrono::DateTime<Utc>,
}

impl Sink for DrySink {
    fn footprints(&mut self, records: Vec<FootprintRecord>) -> Result<()> {
        footprint_batches(&records, 0).map(drop)
    }
    fn bom(&mut self, edges: Vec<BomEdge>) -> Result<()> {
        table::bom_batch(&edges, 0).map(drop)
    }
    fn log(&mut self, rows: Vec<LogRow>) -> Result<()> {
        table::ingest_log_batch(&rows, 0, self.at).map(drop)
    }
    fn gx(&mut self, rows: Vec<GxRecord>) -> Result<()> {
        table::gx_batch(&rows, 0).map(drop)
    }
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
        Some(s) => s.load_for_ingest(has_bom_csv(&layouts))?,
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
struct StoredIndex<'a> {
    /// Where each stored (id, version)'s document is: its ingest and span.
    documents: HashMap<(&'a str, Option<i32>), (i64, DocumentSpan)>,
    /// Current GX attributes per product.
    gx: HashMap<String, GxAttributes>,
    /// Every stored footprint's products.
    products: HashSet<String, ahash::RandomState>,
    csv_edges: HashMap<(&'a str, &'a str), (Decimal, Option<String>)>,
}

impl<'a> StoredIndex<'a> {
    fn new(t: &'a Tables) -> Result<StoredIndex<'a>> {
        let mut index = StoredIndex {
            documents: HashMap::new(),
            gx: table::current_gx_attributes(t)?,
            products: HashSet::default(),
            csv_edges: HashMap::new(),
        };
        for b in &t.footprints {
            let ids = downcast::<StringArray>(b, "id")?;
            let versions = downcast::<datafusion::arrow::array::Int32Array>(b, "version")?;
            let seqs = downcast::<Int64Array>(b, "ingest_seq")?;
            let originals =
                downcast::<datafusion::arrow::array::Int32Array>(b, "document_original")?;
            let offsets = downcast::<Int64Array>(b, "document_offset")?;
            let lengths = downcast::<Int64Array>(b, "document_length")?;
            let products = downcast::<ListArray>(b, "product_ids")?;
            for i in 0..b.num_rows() {
                let v = (!versions.is_null(i)).then(|| versions.value(i));
                let span = DocumentSpan {
                    original: originals.value(i) as u32,
                    offset: offsets.value(i) as u64,
                    length: lengths.value(i) as u64,
                };
                index
                    .documents
                    .insert((ids.value(i), v), (seqs.value(i), span));
                let list = products.value(i);
                if let Some(s) = list.as_any().downcast_ref::<StringArray>() {
                    index.products.extend(s.iter().flatten().map(str::to_owned));
                }
            }
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
                let unit = (!units.is_null(i)).then(|| units.value(i).to_owned());
                let amount = table::i128_to_decimal(amounts.value(i), amounts.scale());
                // Amounts compare by value, not by scale.
                index.csv_edges.insert(
                    (parents.value(i), children.value(i)),
                    (amount.normalize(), unit),
                );
            }
        }
        Ok(index)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_chunks_end_only_between_records() {
        // The break inside the quoted field of row 2 is not a record end; the last break is.
        let text = b"p,c,1,\n\"a\nb\",c,2,\nx,y,3,\npartial";
        assert_eq!(record_end(text), Some(25));
        assert_eq!(&text[..25], b"p,c,1,\n\"a\nb\",c,2,\nx,y,3,\n");
        // An open quote at the end of a chunk: no record end after it.
        assert_eq!(record_end(b"p,c,1,\n\"a\nb"), Some(7));
        assert_eq!(record_end(b"\"a\nb"), None);

        // Four pieces of 36 bytes: 9 bytes each, cut at the first record end at or after
        // that. The break at 7 comes too early, those at 10–12 are quoted, so the first
        // piece ends after row 2 (byte 20); the second runs to the end (27 is too early).
        let text = b"r1,a,1,\n\"q\n\n\n\",b,2,\nr3,c,3,\nr4,d,4,\n";
        let pieces = csv_pieces(text, 4, 8);
        assert_eq!(pieces, vec![0..20, 20..36]);
        for p in &pieces {
            assert_eq!(text[p.end - 1], b'\n');
            assert_eq!(record_end(&text[p.clone()]), Some(p.len()));
        }
    }
}
