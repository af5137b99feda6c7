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
use crate::table::{self, DocumentSpan, FootprintRecord, GxRecord, LogRow, Original, Tables};
use crate::{Error, Result};

/// Default limit on one JSON document (an NDJSON line or a whole JSON file): 16 MiB.
pub const DEFAULT_MAX_DOCUMENT_BYTES: usize = 16 * 1024 * 1024;

/// Bytes to ingest and the name they are reported under.
#[derive(Debug, Clone)]
pub struct Source {
    /// File path as given, or a label such as `upload`.
    pub name: String,
    /// The bytes as received (shared: the stored tables point into them until committed).
    pub bytes: Arc<Vec<u8>>,
}

impl Source {
    /// A source named `name` holding `bytes`.
    pub fn new(name: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Source {
        Source {
            name: name.into(),
            bytes: Arc::new(bytes.into()),
        }
    }
}

impl Source {
    /// Reads `path`; a directory is read recursively for `*.json`, `*.ndjson`, `*.jsonl` and
    /// `*.csv` files, in name order.
    pub fn read_path(path: &Path) -> Result<Vec<Source>> {
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if !meta.is_dir() {
            let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
            return Ok(vec![Source::new(path.display().to_string(), bytes)]);
        }
        let mut files = Vec::new();
        collect_files(path, &mut files)?;
        files.sort();
        files
            .into_iter()
            .map(|p| {
                let bytes = std::fs::read(&p).map_err(|e| Error::io(&p, e))?;
                Ok(Source::new(p.display().to_string(), bytes))
            })
            .collect()
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
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            max_document_bytes: DEFAULT_MAX_DOCUMENT_BYTES,
            all_or_nothing: false,
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

/// What an ingest would add, checked against what is already stored.
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
        // Rows per batch: large enough for columnar work, small enough to share the cores.
        // A row's strings come from its document, so the document's length bounds what the
        // row adds to any string column: batches by that stay clear of 2 GiB offsets.
        const ROWS: usize = 8192;
        let weights: Vec<u64> = self.footprints.iter().map(|r| r.document.length).collect();
        let ranges = table::batch_ranges(&weights, ROWS, table::BATCH_STRING_BYTES);
        let chunks =
            |f: fn(&[FootprintRecord], i64) -> Result<RecordBatch>| -> Result<Vec<RecordBatch>> {
                if self.footprints.is_empty() {
                    return Ok(vec![f(&[], seq)?]);
                }
                ranges
                    .par_iter()
                    .map(|r| f(&self.footprints[r.clone()], seq))
                    .collect()
            };
        let originals = self
            .sources
            .iter()
            .map(|s| Original::Bytes {
                name: s.name.clone(),
                bytes: s.bytes.clone(),
            })
            .collect();
        Ok(Tables {
            footprints: chunks(table::footprints_batch)?,
            footprint_extensions: chunks(table::extensions_batch)?,
            bom: vec![table::bom_batch(&self.bom, seq)?],
            gx_attributes: vec![table::gx_batch(&self.gx, seq)?],
            ingest_log: vec![table::ingest_log_batch(&self.log, seq, self.at)?],
            originals: table::Originals([(seq, originals)].into_iter().collect()),
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

/// A piece of work for the parallel check.
enum Unit<'a> {
    /// An NDJSON line, not parsed yet.
    Line {
        source: usize,
        bytes: &'a [u8],
        line: usize,
    },
    /// A footprint (or what should be one) inside a JSON file already split serially.
    Value {
        source: usize,
        raw: &'a RawValue,
        line: usize,
    },
    /// Rejected before parsing (size, encoding, syntax, layout).
    Rejected {
        source: usize,
        line: usize,
        diag: Diag,
    },
}

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

/// Where `text`, a slice of `source`'s bytes, lies in them.
fn span_in(source: &[u8], text: &str, index: usize) -> Option<DocumentSpan> {
    let base = source.as_ptr() as usize;
    let at = (text.as_ptr() as usize).checked_sub(base)?;
    (at + text.len() <= source.len()).then_some(DocumentSpan {
        original: u32::try_from(index).ok()?,
        offset: at as u64,
        length: text.len() as u64,
    })
}

/// Checks one footprint document whose text starts on `line`.
fn check_value(
    sources: &[Source],
    source: usize,
    raw: &RawValue,
    entries: Option<json::Entries>,
    line: usize,
) -> Checked {
    let text = raw.get();
    let mut c = Checker::new(text);
    let fp = pact::footprint_with(&mut c, raw, entries);
    let line_of = |d: &Diag| {
        d.offset.map_or(line, |o| {
            line + text.as_bytes()[..o].iter().filter(|b| **b == b'\n').count()
        })
    };
    let errors: Vec<(usize, Diag)> = c.errors.into_iter().map(|d| (line_of(&d), d)).collect();
    let warnings = c.warnings.into_iter().map(|d| (line_of(&d), d)).collect();
    let mut errors = errors;
    // The document is a slice of its source (the parsers borrow): its span is where it lies.
    let span = span_in(&sources[source].bytes, text, source);
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
fn check_line(sources: &[Source], source: usize, bytes: &[u8], line: usize) -> Vec<Checked> {
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
            .map(|(raw, entries)| check_value(sources, source, raw, entries, line))
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

/// A BOM CSV row that passed its own checks.
struct CsvEdge {
    source: usize,
    index: usize,
    line: usize,
    edge: BomEdge,
}

/// Checks `sources` and decides what to add to `existing`: new footprint versions and BOM
/// edges, with duplicates skipped and conflicts rejected. `progress` receives the number of
/// bytes checked as work completes.
pub fn prepare(
    existing: &Tables,
    sources: &[Source],
    opts: &IngestOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Prepared> {
    let started = std::time::Instant::now();
    let mut report = IngestReport::default();
    let mut log = Vec::new();
    let mut csv_edges: Vec<CsvEdge> = Vec::new();
    let mut gx_rows: Vec<(usize, usize, usize, GxAttributes)> = Vec::new();

    // Split every source into units of work; parsing and checking happen in parallel below.
    let mut units: Vec<Unit> = Vec::new();
    for (si, src) in sources.iter().enumerate() {
        let bytes = strip_bom(&src.bytes);
        match layout(&src.bytes) {
            Err(message) => units.push(Unit::Rejected {
                source: si,
                line: 1,
                diag: whole(message),
            }),
            Ok(Layout::BomCsv) => {
                for row in bom::parse_csv(bytes) {
                    match row.edge {
                        Some((parent, child, amount, unit)) => csv_edges.push(CsvEdge {
                            source: si,
                            index: row.index,
                            line: row.line,
                            edge: BomEdge {
                                parent_product_id: parent,
                                child_product_id: child,
                                amount,
                                unit,
                                source: BomSource::Csv {
                                    file: src.name.clone(),
                                    line: row.line,
                                },
                            },
                        }),
                        None => {
                            report.rejected += 1;
                            for d in row.errors {
                                let p = problem(sources, si, row.index, row.line, d);
                                log.push(log_row(&p, "rejected", "bom_edge", None));
                                report.errors.push(p);
                            }
                        }
                    }
                }
                progress(src.bytes.len() as u64);
            }
            Ok(Layout::GxCsv) => {
                for row in gx::parse_csv(bytes) {
                    match row.attributes {
                        Some(a) => gx_rows.push((si, row.index, row.line, a)),
                        None => {
                            report.rejected += 1;
                            for d in row.errors {
                                let p = problem(sources, si, row.index, row.line, d);
                                log.push(log_row(&p, "rejected", "gx_attributes", None));
                                report.errors.push(p);
                            }
                        }
                    }
                }
                progress(src.bytes.len() as u64);
            }
            Ok(Layout::Ndjson) => {
                let mut start = 0;
                let ends = memchr::memchr_iter(b'\n', bytes).chain(std::iter::once(bytes.len()));
                for (n, end) in ends.enumerate() {
                    let line_no = n + 1;
                    let line = &bytes[start..end];
                    start = end + 1;
                    let line = line.strip_suffix(b"\r").unwrap_or(line);
                    if line.trim_ascii().is_empty() {
                        continue;
                    }
                    units.push(if line.len() > opts.max_document_bytes {
                        Unit::Rejected {
                            source: si,
                            line: line_no,
                            diag: whole(size_message(line.len(), opts.max_document_bytes)),
                        }
                    } else {
                        Unit::Line {
                            source: si,
                            bytes: line,
                            line: line_no,
                        }
                    });
                }
            }
            Ok(Layout::Json) => {
                if bytes.len() > opts.max_document_bytes {
                    units.push(Unit::Rejected {
                        source: si,
                        line: 1,
                        diag: whole(size_message(bytes.len(), opts.max_document_bytes)),
                    });
                    continue;
                }
                let text = match std::str::from_utf8(bytes) {
                    Ok(t) => t,
                    Err(e) => {
                        let (line, diag) = utf8_error(bytes, e, 1);
                        units.push(Unit::Rejected {
                            source: si,
                            line,
                            diag,
                        });
                        continue;
                    }
                };
                let top = match parse_text(text, 1) {
                    Ok(t) => t,
                    Err((line, diag)) => {
                        units.push(Unit::Rejected {
                            source: si,
                            line,
                            diag,
                        });
                        continue;
                    }
                };
                match footprint_values(top) {
                    Ok(values) => {
                        let lines = Lines::new(text.as_bytes());
                        for (raw, _) in values {
                            let offset = raw.get().as_ptr() as usize - text.as_ptr() as usize;
                            units.push(Unit::Value {
                                source: si,
                                raw,
                                line: lines.line_of(offset),
                            });
                        }
                    }
                    Err(message) => units.push(Unit::Rejected {
                        source: si,
                        line: 1,
                        diag: whole(message),
                    }),
                }
            }
        }
    }

    tracing::debug!(
        "split {} sources into {} units in {:.2?}",
        sources.len(),
        units.len(),
        started.elapsed()
    );
    // Parse and check every document; this is where the time goes, so use every core.
    let checked: Vec<Vec<Checked>> = units
        .into_par_iter()
        .map(|unit| match unit {
            Unit::Line {
                source,
                bytes,
                line,
            } => {
                let out = check_line(sources, source, bytes, line);
                progress(bytes.len() as u64 + 1);
                out
            }
            Unit::Value { source, raw, line } => {
                let out = check_value(sources, source, raw, None, line);
                progress(raw.get().len() as u64);
                vec![out]
            }
            Unit::Rejected { source, line, diag } => vec![Checked::rejected(source, line, diag)],
        })
        .collect();

    tracing::debug!("checked documents at {:.2?}", started.elapsed());
    // Idempotency: the same id and version again is a duplicate when the content is the same,
    // and a conflict otherwise (PACT asks for a new version for any change).
    let stored = StoredIndex::new(existing)?;
    let mut in_batch: HashMap<(String, Option<i32>), usize> = HashMap::new();
    let total: usize = checked.iter().map(Vec::len).sum();
    let mut footprints: Vec<FootprintRecord> = Vec::with_capacity(total);
    let mut origins: Vec<Problem> = Vec::new(); // where each new footprint came from
    let mut next_index = vec![0usize; sources.len()];
    for ch in checked.into_iter().flatten() {
        let index = next_index[ch.source];
        next_index[ch.source] += 1;
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
            report.warnings.push(w);
        }
        let Some(record) = ch.record else {
            report.rejected += 1;
            for (line, d) in ch.errors {
                let e = problem(sources, ch.source, index, line, d);
                log.push(log_row(&e, "rejected", "footprint", None));
                report.errors.push(e);
            }
            continue;
        };
        let key = (record.footprint.id.clone(), record.footprint.version);
        let text = |src: usize, span: DocumentSpan| {
            let (a, b) = (span.offset as usize, (span.offset + span.length) as usize);
            String::from_utf8_lossy(&sources[src].bytes[a..b]).into_owned()
        };
        // The earlier document with this id and version, read only when there is one.
        let earlier = match stored.documents.get(&(key.0.as_str(), key.1)) {
            Some(&(seq, span)) => {
                Some(String::from_utf8_lossy(&existing.document(seq, span)?).into_owned())
            }
            None => in_batch.get(&key).map(|i| {
                let r = &footprints[*i];
                text(r.document.original as usize, r.document)
            }),
        };
        match earlier {
            None => {
                report.accepted += 1;
                log.push(done_row(&at, "accepted", "footprint", id));
                in_batch.insert(key, footprints.len());
                footprints.push(*record);
                origins.push(at);
            }
            Some(doc) if same_document(&doc, &text(ch.source, record.document)) => {
                report.accepted += 1;
                report.duplicates += 1;
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
                report.rejected += 1;
                log.push(log_row(&e, "rejected", "footprint", id));
                report.errors.push(e);
            }
        }
    }

    // BOM edges: the inputs declared by new footprints' BOM extensions, then CSV rows.
    let mut known_products: HashSet<&str> = stored.products.iter().map(String::as_str).collect();
    for r in &footprints {
        known_products.extend(r.footprint.product_ids.iter().map(String::as_str));
    }
    let mut bom = Vec::new();
    for (r, at) in footprints.iter().zip(&origins) {
        let f = &r.footprint;
        for input in &f.bom_inputs {
            if !known_products.contains(input.product_id.as_str()) {
                let w = Problem {
                    pointer: "/extensions".into(),
                    message: dangling(&input.product_id),
                    ..at.clone()
                };
                log.push(log_row(&w, "warning", "bom_edge", Some(f.id.clone())));
                report.warnings.push(w);
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
    }
    for ce in csv_edges {
        let e = &ce.edge;
        let at = Problem {
            source: sources[ce.source].name.clone(),
            index: ce.index,
            line: ce.line,
            pointer: String::new(),
            message: String::new(),
        };
        for (col, id) in [
            ("parent_product_id", &e.parent_product_id),
            ("child_product_id", &e.child_product_id),
        ] {
            if !known_products.contains(id.as_str()) {
                let w = Problem {
                    pointer: format!("/{col}"),
                    message: dangling(id),
                    ..at.clone()
                };
                log.push(log_row(&w, "warning", "bom_edge", None));
                report.warnings.push(w);
            }
        }
        report.accepted += 1;
        let current = stored
            .csv_edges
            .get(&(e.parent_product_id.as_str(), e.child_product_id.as_str()));
        let same = current == Some(&(e.amount.normalize(), e.unit.map(|u| u.as_str().to_owned())));
        if same {
            report.duplicates += 1;
            log.push(done_row(&at, "duplicate", "bom_edge", None));
        } else {
            log.push(done_row(&at, "accepted", "bom_edge", None));
            bom.push(ce.edge);
        }
    }

    // GX attributes: from new footprints' extensions, then CSV rows (a later row wins).
    let mut gx = Vec::new();
    for (r, at) in footprints.iter().zip(&origins) {
        if let Some(a) = &r.footprint.gx_attributes {
            gx.push((
                GxRecord {
                    attributes: a.clone(),
                    source_kind: "extension",
                    source: r.footprint.id.clone(),
                    footprint_id: Some(r.footprint.id.clone()),
                    line: None,
                },
                at.clone(),
            ));
        }
    }
    for (si, index, line, a) in gx_rows {
        let at = Problem {
            source: sources[si].name.clone(),
            index,
            line,
            pointer: String::new(),
            message: String::new(),
        };
        if !known_products.contains(a.product_id.as_str()) {
            let w = Problem {
                pointer: "/product_id".into(),
                message: format!(
                    "product {} has no footprint yet; its GX attributes are kept for when one is ingested",
                    a.product_id
                ),
                ..at.clone()
            };
            log.push(log_row(&w, "warning", "gx_attributes", None));
            report.warnings.push(w);
        }
        gx.push((
            GxRecord {
                attributes: a,
                source_kind: "csv",
                source: sources[si].name.clone(),
                footprint_id: None,
                line: Some(line),
            },
            at,
        ));
    }
    let mut gx_new = Vec::new();
    for (record, at) in gx {
        let from_csv = record.source_kind == "csv";
        if from_csv {
            report.accepted += 1;
        }
        if stored.gx.get(record.attributes.product_id.as_str()) == Some(&record.attributes) {
            if from_csv {
                report.duplicates += 1;
                log.push(done_row(&at, "duplicate", "gx_attributes", None));
            }
        } else {
            if from_csv {
                log.push(done_row(&at, "accepted", "gx_attributes", None));
            }
            gx_new.push(record);
        }
    }

    report.footprints = footprints.len();
    report.bom_edges = bom.len();
    report.gx_attributes = gx_new.len();
    tracing::debug!(
        "prepared {} footprints in {:.2?}",
        footprints.len(),
        started.elapsed()
    );
    Ok(Prepared {
        report,
        footprints,
        bom,
        gx: gx_new,
        log,
        at: Utc::now(),
        sources: sources.to_vec(),
    })
}

/// Checks `sources` against the data directory and commits what is new, under the
/// directory's write lock. With `all_or_nothing`, a rejection stores nothing.
pub fn ingest_into(
    store: &crate::store::Store,
    sources: &[Source],
    opts: &IngestOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<IngestReport> {
    let lock = store.lock()?;
    let existing = lock.load()?;
    let mut prepared = prepare(&existing, sources, opts, progress)?;
    let blocked = opts.all_or_nothing && prepared.report.rejected > 0;
    if !blocked && !prepared.is_empty() {
        prepared.report.ingest_seq = Some(lock.commit(&existing, |seq| prepared.to_tables(seq))?);
        prepared.report.stored = true;
    }
    Ok(prepared.report)
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

/// A log row for an error or warning.
fn log_row(p: &Problem, status: &'static str, kind: &'static str, id: Option<String>) -> LogRow {
    LogRow {
        source: p.source.clone(),
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
    products: Vec<String>,
    csv_edges: HashMap<(&'a str, &'a str), (Decimal, Option<String>)>,
}

impl<'a> StoredIndex<'a> {
    fn new(t: &'a Tables) -> Result<StoredIndex<'a>> {
        let mut index = StoredIndex {
            documents: HashMap::new(),
            gx: table::current_gx_attributes(t)?,
            products: Vec::new(),
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
