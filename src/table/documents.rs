//! The documents as received: where each footprint's bytes are in the kept originals, read
//! only when a document is asked for.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use datafusion::arrow::array::{Int32Array, Int64Array};

use super::{DocumentSpan, Tables, column};
use crate::{Error, Result};

/// Reads documents from the originals of [`Tables`], keeping each file it opened.
#[derive(Debug)]
pub struct DocumentReader<'a> {
    tables: &'a Tables,
    open: HashMap<(i64, u32), std::fs::File>,
}

impl DocumentReader<'_> {
    /// The document of footprint row `row` of batch `batch`, exactly as received.
    pub fn footprint(&mut self, batch: usize, row: usize) -> Result<Vec<u8>> {
        let b = self
            .tables
            .footprints
            .get(batch)
            .filter(|b| row < b.num_rows())
            .ok_or_else(|| Error::Internal(format!("no footprint row {batch}/{row}")))?;
        let seq = column::<Int64Array>(b, "ingest_seq")?.value(row);
        let span = DocumentSpan {
            original: column::<Int32Array>(b, "document_original")?.value(row) as u32,
            offset: column::<Int64Array>(b, "document_offset")?.value(row) as u64,
            length: column::<Int64Array>(b, "document_length")?.value(row) as u64,
        };
        self.read(seq, span)
    }

    /// The bytes of `span` in the originals of ingest `seq`.
    pub fn read(&mut self, seq: i64, span: DocumentSpan) -> Result<Vec<u8>> {
        use std::io::{Read, Seek, SeekFrom};
        let original = self
            .tables
            .originals
            .0
            .get(&seq)
            .and_then(|o| o.get(span.original as usize))
            .ok_or_else(|| {
                Error::Internal(format!(
                    "ingest {seq} has no original file {} (damaged data directory?)",
                    span.original
                ))
            })?;
        let beyond = |len: u64| {
            Error::Internal(format!(
                "ingest {seq}: {} bytes at {} are beyond original file {} of {len} bytes (damaged data directory?)",
                span.length, span.offset, span.original
            ))
        };
        // The span comes from a stored table: check it before using it.
        let end = span.offset.checked_add(span.length);
        match original {
            Original::Bytes { bytes, .. } => {
                let range = end.and_then(|end| {
                    Some(usize::try_from(span.offset).ok()?..usize::try_from(end).ok()?)
                });
                range
                    .and_then(|r| bytes.get(r))
                    .map(<[u8]>::to_vec)
                    .ok_or_else(|| beyond(bytes.len() as u64))
            }
            Original::File(path) => {
                let io = |e: std::io::Error| Error::io(path, e);
                let f = match self.open.entry((seq, span.original)) {
                    std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
                    std::collections::hash_map::Entry::Vacant(v) => {
                        v.insert(std::fs::File::open(path).map_err(io)?)
                    }
                };
                let len = f.metadata().map_err(io)?.len();
                if end.is_none_or(|end| end > len) {
                    return Err(beyond(len));
                }
                f.seek(SeekFrom::Start(span.offset)).map_err(io)?;
                let mut out = vec![0; span.length as usize];
                f.read_exact(&mut out).map_err(io)?;
                Ok(out)
            }
        }
    }
}

/// One original file of an ingest: the bytes as received, in memory or in a data directory.
#[derive(Debug, Clone)]
pub enum Original {
    /// Held in memory (an ingest not committed to a directory, the bundled demo).
    Bytes {
        /// The name it was received under.
        name: String,
        /// The bytes as received.
        bytes: Arc<Vec<u8>>,
    },
    /// A file of a data directory.
    File(PathBuf),
}

/// The original files of every ingest, by ingest number, in source order.
#[derive(Debug, Clone, Default)]
pub struct Originals(pub BTreeMap<i64, Vec<Original>>);

impl Tables {
    /// The document of footprint row `row` of batch `batch` of `footprints`, exactly as
    /// received.
    pub fn footprint_document(&self, batch: usize, row: usize) -> Result<Vec<u8>> {
        self.documents().footprint(batch, row)
    }

    /// The bytes of `span` in the originals of ingest `seq`.
    pub fn document(&self, seq: i64, span: DocumentSpan) -> Result<Vec<u8>> {
        self.documents().read(seq, span)
    }

    /// The document of the latest version of footprint `id` (case-insensitive), exactly as
    /// received; `None` when no footprint has that id. Reads only the `id` and `version`
    /// columns besides where the document is.
    pub fn latest_document(&self, id: &str) -> Result<Option<Vec<u8>>> {
        use datafusion::arrow::array::{Array, AsArray};
        let mut latest: Option<(i32, (usize, usize))> = None;
        for (bi, b) in self.footprints.iter().enumerate() {
            let ids = b
                .column_by_name("id")
                .and_then(|c| c.as_string_opt::<i32>())
                .ok_or_else(|| Error::Internal("footprints.id is not text".into()))?;
            let versions = column::<Int32Array>(b, "version")?;
            for r in (0..b.num_rows()).filter(|&r| ids.value(r).eq_ignore_ascii_case(id)) {
                // v3 footprints carry no version: each id is then one footprint.
                let v = if versions.is_null(r) {
                    -1
                } else {
                    versions.value(r)
                };
                if latest.is_none_or(|(best, _)| v > best) {
                    latest = Some((v, (bi, r)));
                }
            }
        }
        latest
            .map(|(_, (b, r))| self.footprint_document(b, r))
            .transpose()
    }

    /// A reader of many documents that opens each original file once.
    pub fn documents(&self) -> DocumentReader<'_> {
        DocumentReader {
            tables: self,
            open: HashMap::new(),
        }
    }
}
