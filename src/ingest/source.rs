//! Sources: a file, a directory's files or bytes, read in chunks of whole lines or records.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::table::{self, DocumentSpan, Original, Tables};
use crate::{Error, Result};

/// A file or bytes to ingest, and the name it is reported under.
#[derive(Debug, Clone)]
pub struct Source {
    /// File path as given, or a label such as `upload`.
    pub name: String,
    pub(super) data: Data,
}

#[derive(Debug, Clone)]
pub(super) enum Data {
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
    pub(super) fn original(&self) -> Original {
        match &self.data {
            Data::Bytes(bytes) => Original::Bytes {
                name: self.name.clone(),
                bytes: bytes.clone(),
            },
            Data::File(path) => Original::File(path.clone()),
        }
    }

    /// The bytes of `span` (a document found earlier in this source).
    pub(super) fn read_span(&self, span: DocumentSpan) -> Result<Vec<u8>> {
        let tables = Tables {
            originals: table::Originals([(0, vec![self.original()])].into_iter().collect()),
            ..Tables::default()
        };
        tables.document(0, span)
    }
}

/// Reads a source front to back, block by block.
pub(super) struct Reader<'a> {
    feed: Feed<'a>,
    /// Bytes read so far.
    pub(super) pos: usize,
    pub(super) done: bool,
}

/// What a [`Reader`] reads.
enum Feed<'a> {
    Bytes(&'a [u8]),
    File(&'a Path, std::fs::File),
}

impl<'a> Reader<'a> {
    pub(super) fn open(source: &'a Source) -> Result<Reader<'a>> {
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
    pub(super) fn fill(&mut self, buf: &mut Vec<u8>, n: usize) -> Result<()> {
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
