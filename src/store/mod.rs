//! The data directory: one Parquet file per table per ingest, every original document as
//! received, and a manifest naming the committed ingests.
//!
//! ```text
//! DIR/manifest.json            the format version and the committed ingests (replaced
//!                              atomically)
//! DIR/lock                     held by the one ingest that may write
//! DIR/segments/000001/         one directory per ingest, never changed once committed
//!     footprints.parquet  footprint_extensions.parquet  bom.parquet  ingest_log.parquet
//!     gx_attributes.parquet
//!     originals/000-<file>     the bytes exactly as received
//! DIR/tmp/                     ingests being written
//! ```
//!
//! Format version 2 keeps the documents only in `originals/`: `footprints` holds where each
//! one is (`document_original`, `document_offset`, `document_length`), so no analytic column
//! carries the documents. Version 1 kept them in a `document_json` column as well;
//! [`migrate`] rewrites such a directory, and every other entry point refuses it with a
//! message saying so. A directory of a newer version is refused.
//!
//! A commit writes a whole segment under `tmp/`, fsyncs it, renames it into `segments/`,
//! then replaces the manifest by rename. A crash at any point leaves the previous manifest
//! and therefore the previous state; a segment that was renamed but never reached the
//! manifest is removed by the next commit. Readers take no lock: they see the manifest as
//! of the moment they read it. This module validates nothing; `ingest` decides what to store.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::arrow::{ArrowWriter, ProjectionMask};
use serde::{Deserialize, Serialize};

use crate::table::TableSet;
use crate::table::{Original, Segments, Tables, same_columns};
use crate::{Error, Result};

mod index;
mod ipc;
mod migrate;
mod profiles;
mod requests;
mod segment;
mod spill;

pub use migrate::{Migration, migrate};
pub use profiles::{PROFILES_DIR, is_profile_name};
use segment::TableWriter;
pub(crate) use segment::writing;

mod properties;
pub(crate) use properties::writer_properties;

pub use segment::{SegmentWriter, Table};

const MANIFEST: &str = "manifest.json";
const FORMAT: &str = "mieruka-data-directory";
/// The format version this mieruka writes and reads.
pub const FORMAT_VERSION: u32 = 2;

/// What `manifest.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Manifest {
    format: String,
    version: u32,
    segments: Vec<Segment>,
    /// The hotspot graph index of every committed segment (a directory of Arrow IPC files),
    /// written with the last commit; absent in a directory whose index is to be built.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    graph_index: Option<String>,
}

/// One committed ingest.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Segment {
    seq: i64,
    dir: String,
    committed_at: String,
    footprints: usize,
    bom_edges: usize,
    originals: Vec<String>,
}

/// The segments of `m` as [`Segments`] of directory `dir`: each named by its number, place and
/// commit time, which a segment keeps from its commit on.
fn segments_of(dir: &Path, m: &Manifest) -> Segments {
    Segments {
        dir: dir.to_path_buf(),
        list: m
            .segments
            .iter()
            .map(|s| format!("{} {} {}", s.seq, s.dir, s.committed_at))
            .collect(),
    }
}

impl Manifest {
    fn empty() -> Manifest {
        Manifest {
            format: FORMAT.into(),
            version: FORMAT_VERSION,
            segments: Vec::new(),
            graph_index: None,
        }
    }
}

/// A data directory.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

/// The right to commit, held until dropped (an exclusive lock on `DIR/lock`).
#[derive(Debug)]
pub struct WriteLock<'a> {
    store: &'a Store,
    _file: File,
}

fn sync_dir(dir: &Path) -> Result<()> {
    // Directory fsync makes renames durable; it is not available on every platform.
    match File::open(dir).and_then(|d| d.sync_all()) {
        Ok(()) => Ok(()),
        Err(e) if cfg!(windows) => {
            tracing::debug!("directory fsync unsupported: {e}");
            Ok(())
        }
        Err(e) => Err(Error::io(dir, e)),
    }
}

/// Starts writing `file`'s pages to the disk without waiting for them: the graph index's and
/// the segment's files were each synced as soon as written, and their thread waited for the
/// disk (a third of a second of the index's second at 1M footprints); now the disk writes
/// while the next files are built, and the commit syncs them all before the manifest.
///
/// The request itself waits while the disk's queue is full (at a million footprints, 0.15 s
/// for the copied `nodes` columns, 0.1 s for the footprints table): it is made on a thread
/// that does nothing else, for a copy of the descriptor.
fn start_writeback(file: &File) {
    #[cfg(target_os = "linux")]
    {
        use std::sync::OnceLock;
        use std::sync::mpsc::{Sender, channel};
        static QUEUE: OnceLock<Option<Sender<File>>> = OnceLock::new();
        let queue = QUEUE.get_or_init(|| {
            let (tx, rx) = channel::<File>();
            let thread = std::thread::Builder::new().name("writeback".into());
            thread
                .spawn(move || rx.into_iter().for_each(|f| write_back(&f)))
                .ok()
                .map(|_| tx)
        });
        let sent = match (queue, file.try_clone()) {
            (Some(queue), Ok(copy)) => queue.send(copy).is_ok(),
            _ => false,
        };
        if !sent {
            write_back(file);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = file;
}

/// Asks Linux to start writing `file`'s dirty pages (waiting only for room in the disk's
/// queue).
#[cfg(target_os = "linux")]
fn write_back(file: &File) {
    use std::os::fd::AsRawFd;
    // SAFETY: `file` is an open descriptor for the whole call; the range 0..0 means the
    // whole file, and the flag only starts the writing. A failure leaves the pages to the
    // final sync, which reports it.
    unsafe {
        libc::sync_file_range(file.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE);
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = File::create(path).map_err(|e| Error::io(path, e))?;
    f.write_all(bytes).map_err(|e| Error::io(path, e))?;
    f.sync_all().map_err(|e| Error::io(path, e))
}

/// Writes `bytes` to `path` through a temporary file beside it, fsynced and renamed, so a
/// reader sees the old file or the new one, never half of one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    write_synced(&tmp, bytes)?;
    fs::rename(&tmp, path).map_err(|e| Error::io(path, e))?;
    sync_dir(dir)
}

/// Rows per batch read from a table file.
const READ_BATCH_ROWS: usize = 8_192;

/// The batches of a table file whose schema is `full`, a batch at a time: every column, or
/// only `columns` (projection pushdown: the others are neither read nor decoded).
fn parquet_batches(
    path: &Path,
    full: &SchemaRef,
    columns: Option<&[&str]>,
) -> Result<impl Iterator<Item = Result<RecordBatch>> + Send + use<>> {
    let indices = match columns {
        None => (0..full.fields().len()).collect(),
        Some(names) => {
            let mut indices = names
                .iter()
                .map(|n| {
                    full.index_of(n)
                        .map_err(|_| Error::Internal(format!("{}: no column {n}", path.display())))
                })
                .collect::<Result<Vec<usize>>>()?;
            indices.sort_unstable();
            indices
        }
    };
    let expected = std::sync::Arc::new(full.project(&indices)?);
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)?;
    if !same_columns(builder.schema(), full) {
        return Err(Error::Store {
            dir: path.to_path_buf(),
            message: "table was written with a different schema (another mieruka version?)".into(),
        });
    }
    let mask = ProjectionMask::roots(builder.parquet_schema(), indices);
    // DataFusion's batch size: a million rows are a hundred batches, not a thousand (every
    // view and scan pays per batch), and a batch's strings stay below the 2 GiB offset limit
    // unless its cells average 256 KiB.
    let reader = builder
        .with_projection(mask)
        .with_batch_size(READ_BATCH_ROWS)
        .build()?;
    Ok(reader.map(move |b| Ok(b?.with_schema(expected.clone())?)))
}

/// A data directory at one committed version: its manifest read once, its tables read a
/// few columns at a time, when a question needs them.
#[derive(Debug, Clone)]
pub struct Snapshot {
    store: Store,
    manifest: Manifest,
}

impl Snapshot {
    /// `columns` of `table` (stored names; at least one) in every committed segment, in
    /// stored order, or of only the first `rows` rows; each batch holds them in the table's
    /// column order. The other columns, and the rows after, are neither read nor decoded.
    pub fn read_columns(
        &self,
        table: Table,
        columns: &[&str],
        rows: Option<usize>,
    ) -> Result<Vec<RecordBatch>> {
        if columns.is_empty() {
            return Err(Error::Internal(format!(
                "{}: no column to read",
                table.file_stem()
            )));
        }
        let mut left = rows.unwrap_or(usize::MAX);
        let mut batches = Vec::new();
        for seg in &self.manifest.segments {
            if left == 0 {
                break;
            }
            for b in self.store.segment_batches(seg, table, Some(columns))? {
                let b = b?;
                let b = b.slice(0, b.num_rows().min(left));
                left -= b.num_rows();
                batches.push(b);
                if left == 0 {
                    break;
                }
            }
        }
        Ok(batches)
    }

    /// The tables in `which`, whole; the others empty (as [`Store::load_some`]).
    pub fn load_some(&self, which: TableSet) -> Result<Tables> {
        self.store.load_from(&self.manifest, which)
    }

    /// `is_latest` of every stored footprint, in stored order (the rows
    /// [`Snapshot::read_columns`] gives), as this version's graph index keeps it; `None` when
    /// it keeps none, or its file is damaged (a warning: the index is derived from the
    /// tables, so the caller works the flags out with [`Tables::latest_flags`]).
    pub fn latest_flags(&self) -> Option<datafusion::arrow::array::BooleanArray> {
        let kept = self.store.index_latest(&self.manifest);
        kept_or_warn(kept, "is_latest")
    }

    /// Which stored BOM rows (the rows [`Snapshot::read_columns`] gives) are current edges,
    /// as this version's graph index keeps it; `None` as for [`Snapshot::latest_flags`]
    /// (see [`Tables::bom_view`] for working them out).
    pub fn bom_current(&self) -> Option<datafusion::arrow::array::BooleanArray> {
        let kept = self.store.index_bom_current(&self.manifest);
        kept_or_warn(kept, "which BOM rows are current")
    }
}

/// Flags the graph index keeps, or `None` (a warning) when its file is damaged: the index is
/// derived from the tables, which give `what` all the same.
fn kept_or_warn<T>(kept: Result<Option<T>>, what: &str) -> Option<T> {
    kept.unwrap_or_else(|e| {
        tracing::warn!("{e}; {what} is worked out from the stored rows instead");
        None
    })
}

/// The `footprints` columns an ingest checks new documents against.
const INGEST_FOOTPRINT_COLUMNS: [&str; 7] = [
    "id",
    "version",
    "product_ids",
    "document_original",
    "document_offset",
    "document_length",
    "ingest_seq",
];

/// The `footprints` columns an ingest without footprint documents reads (the products a BOM
/// row may name).
const INGEST_PRODUCT_COLUMNS: [&str; 1] = ["product_ids"];

/// The `bom` columns an ingest compares BOM CSV rows with.
const INGEST_BOM_COLUMNS: [&str; 5] = [
    "parent_product_id",
    "child_product_id",
    "amount",
    "unit",
    "source_kind",
];

/// A file name safe to keep: the source's base name with anything unusual replaced.
fn original_name(i: usize, source: &str) -> String {
    let base = Path::new(source)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "upload".into());
    let clean: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    format!("{i:03}-{clean}")
}

impl Store {
    /// Opens a data directory, creating it if it does not exist.
    pub fn create_or_open(dir: &Path) -> Result<Store> {
        if !dir.exists() {
            fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let store = Store {
            dir: dir.to_path_buf(),
        };
        if !store.manifest_path().exists() {
            let is_empty = fs::read_dir(dir)
                .map_err(|e| Error::io(dir, e))?
                .next()
                .is_none();
            if !is_empty {
                return Err(store.err(
                    "not a mieruka data directory (no manifest.json) and not empty; choose an empty or new directory",
                ));
            }
            store.write_manifest(&Manifest::empty())?;
        }
        Ok(store)
    }

    /// Opens an existing data directory.
    pub fn open(dir: &Path) -> Result<Store> {
        let store = Store {
            dir: dir.to_path_buf(),
        };
        if !store.manifest_path().exists() {
            return Err(store.err(
                "no data directory here (no manifest.json); create one with `mieruka ingest --data DIR FILES…`",
            ));
        }
        Ok(store)
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn err(&self, message: &str) -> Error {
        Error::Store {
            dir: self.dir.clone(),
            message: message.into(),
        }
    }

    fn manifest_path(&self) -> PathBuf {
        self.dir.join(MANIFEST)
    }

    /// The manifest, whatever its version.
    fn read_manifest_any(&self) -> Result<Manifest> {
        let path = self.manifest_path();
        let text = fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        let m: Manifest = serde_json::from_str(&text)
            .map_err(|e| self.err(&format!("manifest.json is damaged: {e}")))?;
        if m.format != FORMAT {
            return Err(self.err(&format!(
                "manifest.json is format {:?}; this mieruka reads {FORMAT:?}",
                m.format
            )));
        }
        Ok(m)
    }

    /// The manifest, refusing another version with what to do about it.
    fn read_manifest(&self) -> Result<Manifest> {
        let m = self.read_manifest_any()?;
        match m.version {
            FORMAT_VERSION => Ok(m),
            v if v < FORMAT_VERSION => Err(self.err(&format!(
                "written by an earlier mieruka (data directory format {v}); run `mieruka migrate --data {}` to bring it to format {FORMAT_VERSION} (the old files are kept until the migration commits)",
                self.dir.display()
            ))),
            v => Err(self.err(&format!(
                "written by a newer mieruka (data directory format {v}); this one reads format {FORMAT_VERSION}: upgrade mieruka to read it"
            ))),
        }
    }

    /// The format version of the directory's manifest.
    pub fn format_version(&self) -> Result<u32> {
        Ok(self.read_manifest_any()?.version)
    }

    fn write_manifest(&self, m: &Manifest) -> Result<()> {
        let text = serde_json::to_string_pretty(m)
            .map_err(|e| Error::Internal(format!("manifest: {e}")))?;
        write_atomic(&self.manifest_path(), text.as_bytes())
    }

    /// Reads every committed table.
    pub fn load(&self) -> Result<Tables> {
        self.load_from(&self.read_manifest()?, TableSet::ALL)
    }

    /// Every committed table, as [`Store::load`] reads them, sharing the batches of `before`
    /// for the segments it was read from (see [`Segments`]) and reading only those committed
    /// since: after an upload, a server holding a million footprints reads the upload's
    /// rows, not the million again (nor holds them twice while it does). When the
    /// directory's first segments are not those `before` was read from (tables read in part
    /// or built in memory, another directory), every table is read.
    pub fn load_after(&self, before: &Tables) -> Result<Tables> {
        let m = self.read_manifest()?;
        let (seen, now) = (&before.segments, segments_of(&self.dir, &m));
        let shared =
            !seen.list.is_empty() && seen.dir == now.dir && now.list.starts_with(&seen.list);
        if !shared {
            return self.load_from(&m, TableSet::ALL);
        }
        let newer = Manifest {
            segments: m.segments[seen.list.len()..].to_vec(),
            ..m.clone()
        };
        let mut t = self.load_from(&newer, TableSet::ALL)?;
        // The batches held first, in commit order, then the newer segments'.
        for (new, old) in [
            (&mut t.footprints, &before.footprints),
            (&mut t.footprint_extensions, &before.footprint_extensions),
            (&mut t.bom, &before.bom),
            (&mut t.ingest_log, &before.ingest_log),
            (&mut t.gx_attributes, &before.gx_attributes),
        ] {
            new.splice(0..0, old.iter().cloned());
        }
        for (seq, originals) in &before.originals.0 {
            t.originals.0.insert(*seq, originals.clone());
        }
        t.segments = now;
        Ok(t)
    }

    /// The Parquet files of `table`, one per committed segment that has one, in commit
    /// order: what an engine scanning the directory's files itself (a cluster) reads.
    pub fn table_files(&self, table: Table) -> Result<Vec<PathBuf>> {
        let m = self.read_manifest()?;
        Ok(m.segments
            .iter()
            .map(|seg| {
                self.dir
                    .join(&seg.dir)
                    .join(format!("{}.parquet", table.file_stem()))
            })
            .filter(|p| p.exists())
            .collect())
    }

    /// Reads the committed tables in `which`; the others are left empty (for a question
    /// that reads only some: a million footprints' ingest log is not read to count BOM
    /// edges).
    pub fn load_some(&self, which: TableSet) -> Result<Tables> {
        self.load_from(&self.read_manifest()?, which)
    }

    /// The committed ingests as they are now: what [`Snapshot`] reads stays the same
    /// whatever is committed after.
    pub fn snapshot(&self) -> Result<Snapshot> {
        Ok(Snapshot {
            store: self.clone(),
            manifest: self.read_manifest()?,
        })
    }

    /// Reads what an ingest checks new documents against, and no more: the stored footprints'
    /// products, the GX attributes, where each stored footprint's document is when
    /// `documents` (only footprint documents are compared with them: a BOM CSV does not read
    /// a million ids), and the BOM rows when `bom` (only BOM CSV rows are compared with them:
    /// an upload of footprints does not read millions of stored edges).
    pub fn load_for_ingest(&self, bom: bool, documents: bool) -> Result<Tables> {
        let m = self.read_manifest()?;
        let mut t = Tables::default();
        for seg in &m.segments {
            let footprints = match documents {
                true => Some(&INGEST_FOOTPRINT_COLUMNS[..]),
                false => Some(&INGEST_PRODUCT_COLUMNS[..]),
            };
            t.footprints
                .extend(self.segment_table(seg, Table::Footprints, footprints)?);
            if bom {
                let columns = Some(&INGEST_BOM_COLUMNS[..]);
                t.bom.extend(self.segment_table(seg, Table::Bom, columns)?);
            }
            t.gx_attributes
                .extend(self.segment_table(seg, Table::GxAttributes, None)?);
            t.originals.0.insert(seg.seq, self.segment_originals(seg));
        }
        Ok(t)
    }

    /// Reads the tables in `which` of the segments `m` lists.
    ///
    /// Each table is read on a thread of its own, its segments in order: a server opening a
    /// million footprints decodes `footprints`, `bom` and `ingest_log` side by side.
    fn load_from(&self, m: &Manifest, which: TableSet) -> Result<Tables> {
        let mut t = Tables::default();
        let read = |table: Table| -> Result<Vec<RecordBatch>> {
            let mut batches = Vec::new();
            for seg in &m.segments {
                batches.extend(self.segment_table(seg, table, None)?);
            }
            Ok(batches)
        };
        std::thread::scope(|scope| -> Result<()> {
            let reading: Vec<_> = [
                (Table::Footprints, which.footprints, &mut t.footprints),
                (
                    Table::Extensions,
                    which.extensions,
                    &mut t.footprint_extensions,
                ),
                (Table::Bom, which.bom, &mut t.bom),
                (Table::IngestLog, which.ingest_log, &mut t.ingest_log),
                (
                    Table::GxAttributes,
                    which.gx_attributes,
                    &mut t.gx_attributes,
                ),
            ]
            .into_iter()
            .filter(|(_, wanted, _)| *wanted)
            .map(|(table, _, into)| (scope.spawn(move || read(table)), into))
            .collect();
            for (thread, into) in reading {
                *into = thread.join().unwrap_or_else(|_| {
                    Err(Error::Internal("a thread reading a table panicked".into()))
                })?;
            }
            Ok(())
        })?;
        for seg in &m.segments {
            t.originals.0.insert(seg.seq, self.segment_originals(seg));
        }
        if which.requests {
            t.requests = self.requests_or_empty();
        }
        if which == TableSet::ALL {
            t.segments = segments_of(&self.dir, m);
        }
        Ok(t)
    }

    /// The batches of `table` in segment `seg` (only `columns` when given), a batch at a
    /// time. A segment written before GX attributes existed has no such file, and no rows.
    fn segment_batches(
        &self,
        seg: &Segment,
        table: Table,
        columns: Option<&[&str]>,
    ) -> Result<impl Iterator<Item = Result<RecordBatch>> + Send + use<>> {
        let path = self
            .dir
            .join(&seg.dir)
            .join(format!("{}.parquet", table.file_stem()));
        let batches = if table == Table::GxAttributes && !path.exists() {
            None
        } else {
            Some(parquet_batches(&path, &table.schema(), columns)?)
        };
        Ok(batches.into_iter().flatten())
    }

    /// [`Store::segment_batches`], all read.
    fn segment_table(
        &self,
        seg: &Segment,
        table: Table,
        columns: Option<&[&str]>,
    ) -> Result<Vec<RecordBatch>> {
        self.segment_batches(seg, table, columns)?.collect()
    }

    /// The original files of segment `seg`.
    fn segment_originals(&self, seg: &Segment) -> Vec<Original> {
        let dir = self.dir.join(&seg.dir).join("originals");
        seg.originals
            .iter()
            .map(|name| Original::File(dir.join(name)))
            .collect()
    }

    /// An empty directory `tmp/<name>-<pid>` to write aside in (what a crashed writer left
    /// there is removed).
    fn fresh_tmp(&self, name: &str) -> Result<PathBuf> {
        let tmp = self
            .dir
            .join("tmp")
            .join(format!("{name}-{}", std::process::id()));
        if tmp.exists() {
            fs::remove_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
        }
        fs::create_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
        Ok(tmp)
    }

    /// Takes the write lock, waiting for another ingest into this directory to finish.
    pub fn lock(&self) -> Result<WriteLock<'_>> {
        let path = self.dir.join("lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                tracing::warn!(
                    "another ingest is writing to {}; waiting for it to finish",
                    self.dir.display()
                );
                file.lock().map_err(|e| Error::io(&path, e))?;
            }
            Err(fs::TryLockError::Error(e)) => return Err(Error::io(&path, e)),
        }
        Ok(WriteLock {
            store: self,
            _file: file,
        })
    }
}

impl<'s> WriteLock<'s> {
    /// Reads every committed table (under the lock, so nothing changes meanwhile).
    pub fn load(&self) -> Result<Tables> {
        self.store.load()
    }

    /// Reads what an ingest checks new documents against (see
    /// [`Store::load_for_ingest`]), under the lock.
    pub fn load_for_ingest(&self, bom: bool, documents: bool) -> Result<Tables> {
        self.store.load_for_ingest(bom, documents)
    }

    /// Starts the next segment: its tables are written batch by batch into `tmp/` and
    /// become part of the directory only when [`SegmentWriter::commit`] returns.
    pub fn begin(&self) -> Result<SegmentWriter<'_, 's>> {
        let store = self.store;
        let manifest = store.read_manifest()?;
        let seq = manifest.segments.iter().map(|s| s.seq).max().unwrap_or(0) + 1;
        let tmp = store.fresh_tmp(&format!("{seq:06}"))?;
        let originals_dir = tmp.join("originals");
        fs::create_dir_all(&originals_dir).map_err(|e| Error::io(&originals_dir, e))?;
        let first = manifest.segments.is_empty();
        let writer = |table: Table| -> Result<TableWriter> {
            let (name, schema) = (table.file_stem(), table.schema());
            let path = tmp.join(format!("{name}.parquet"));
            let file = File::create(&path).map_err(|e| Error::io(&path, e))?;
            let props = writer_properties(&schema);
            // The first segment's footprints write the index's copied columns into the
            // directory its index is built in, as they are written (see `spill`); a later
            // commit's index reads them back from every segment.
            let nodes = match (table, first) {
                (Table::Footprints, true) => Some(spill::NodeSpill::create(
                    store.fresh_tmp(&format!("index-{seq:06}"))?,
                )?),
                _ => None,
            };
            Ok(TableWriter {
                writer: ArrowWriter::try_new(file, schema, Some(props))
                    .map_err(segment::writing(&path))?,
                path,
                rows: 0,
                nodes,
            })
        };
        Ok(SegmentWriter {
            lock: self,
            manifest,
            seq,
            writers: Table::ALL.into_iter().map(writer).collect::<Result<_>>()?,
            originals: Vec::new(),
            originals_dir,
            copies: Vec::new(),
            tmp,
            committed: false,
            encoders: None,
            rows: None,
            nodes: None,
            written: Vec::new(),
        })
    }

    /// Commits the tables `build(seq)` returns, with their originals, as one new segment
    /// numbered `seq`, and the graph index of every segment with them. Returns `seq`.
    pub fn commit(&self, build: impl FnOnce(i64) -> Result<Tables>) -> Result<i64> {
        let mut w = self.begin()?;
        let tables = build(w.seq())?;
        for (t, batches) in Table::ALL.into_iter().zip([
            &tables.footprints,
            &tables.footprint_extensions,
            &tables.bom,
            &tables.ingest_log,
            &tables.gx_attributes,
        ]) {
            for b in batches {
                w.write(t, b)?;
            }
        }
        for (i, original) in tables
            .originals
            .0
            .get(&w.seq())
            .into_iter()
            .flatten()
            .enumerate()
        {
            match original {
                Original::Bytes { name, bytes } => w.append_original(i, name, bytes)?,
                // Waited for by the commit.
                Original::File(path) => w.copy_original_beside(i, path)?,
            }
        }
        w.commit()
    }
}
