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
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use serde::{Deserialize, Serialize};

use crate::table::TableSet;
use crate::table::graph_index::{self, GraphIndex};
use crate::table::{self, Original, Tables, same_columns};
use crate::{Error, Result};

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

/// The `bom` columns an ingest compares BOM CSV rows with.
const INGEST_BOM_COLUMNS: [&str; 5] = [
    "parent_product_id",
    "child_product_id",
    "amount",
    "unit",
    "source_kind",
];

/// The `bom` columns the graph index reads.
const INDEX_BOM_COLUMNS: [&str; 5] = [
    "parent_product_id",
    "child_product_id",
    "amount",
    "unit",
    "parent_footprint_id",
];

/// The one record batch of an Arrow IPC file, its arrays pointing into a read-only memory map
/// of the file: opening costs no copy, and pages are read as they are used. Every array is
/// still validated (offsets and lengths) as it is decoded, so a damaged file is an error; the
/// index keeps its text as bytes, so none of it is read to open it (a million footprints'
/// text is some 400 MB): the graph checks each text is UTF-8 as it reads it.
fn read_ipc_mapped(path: &Path) -> Result<RecordBatch> {
    use datafusion::arrow::buffer::Buffer;
    use datafusion::arrow::ipc::convert::fb_to_schema;
    use datafusion::arrow::ipc::reader::{FileDecoder, read_footer_length};
    use datafusion::arrow::ipc::root_as_footer;

    let io = |e: std::io::Error| Error::io(path, e);
    let damaged = |why: &str| Error::Store {
        dir: path.to_path_buf(),
        message: format!("the graph index file is damaged ({why})"),
    };
    let file = File::open(path).map_err(io)?;
    // SAFETY: index files are written aside, fsynced and renamed into place, and never written
    // again: a later commit writes a new index directory and removes this one only after the
    // manifest stops naming it. A reader that still maps it keeps the unlinked file's pages.
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(io)?;
    let len = map.len();
    if len < 10 {
        return Err(damaged("too short"));
    }
    let map = std::sync::Arc::new(map);
    let ptr = std::ptr::NonNull::new(map.as_ptr().cast_mut()).ok_or_else(|| damaged("empty"))?;
    // SAFETY: `ptr` and `len` describe the mapping, which `map` (the owner) keeps alive and
    // unmodified for as long as any buffer points into it.
    let buffer = unsafe { Buffer::from_custom_allocation(ptr, len, map) };
    let trailer: [u8; 10] = buffer[len - 10..]
        .try_into()
        .map_err(|_| damaged("no trailer"))?;
    let footer_len = read_footer_length(trailer).map_err(|e| damaged(&e.to_string()))?;
    let footer_start = (len - 10)
        .checked_sub(footer_len)
        .ok_or_else(|| damaged("footer length"))?;
    let footer = root_as_footer(&buffer[footer_start..len - 10])
        .map_err(|e| damaged(&format!("footer: {e}")))?;
    let schema = std::sync::Arc::new(fb_to_schema(
        footer.schema().ok_or_else(|| damaged("no schema"))?,
    ));
    let decoder = FileDecoder::new(schema.clone(), footer.version());
    // From here every Arrow error means the file is not what was written.
    let blocks = footer
        .recordBatches()
        .ok_or_else(|| damaged("no batches"))?;
    let mut batches = Vec::with_capacity(blocks.len());
    for block in blocks {
        let start = usize::try_from(block.offset()).map_err(|_| damaged("block offset"))?;
        let block_len = block.bodyLength() as usize + block.metaDataLength() as usize;
        if start.checked_add(block_len).is_none_or(|end| end > len) {
            return Err(damaged("block beyond the file"));
        }
        let data = buffer.slice_with_length(start, block_len);
        if let Some(b) = decoder
            .read_record_batch(block, &data)
            .map_err(|e| damaged(&e.to_string()))?
        {
            batches.push(b);
        }
    }
    Ok(match batches.len() {
        0 => RecordBatch::new_empty(schema),
        1 => batches.swap_remove(0),
        _ => datafusion::arrow::compute::concat_batches(&schema, &batches)?,
    })
}

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

    /// Reads the committed tables in `which`; the others are left empty (for a question
    /// that reads only some: a million footprints' ingest log is not read to count BOM
    /// edges).
    pub fn load_some(&self, which: TableSet) -> Result<Tables> {
        self.load_from(&self.read_manifest()?, which)
    }

    /// Reads what an ingest checks new documents against, and no more: where each stored
    /// footprint's document is and its products, the GX attributes, and the BOM rows when
    /// `bom` (only BOM CSV rows are compared with them: an upload of footprints does not read
    /// millions of stored edges).
    pub fn load_for_ingest(&self, bom: bool) -> Result<Tables> {
        let m = self.read_manifest()?;
        let mut t = Tables::default();
        for seg in &m.segments {
            let footprints = Some(&INGEST_FOOTPRINT_COLUMNS[..]);
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
    fn load_from(&self, m: &Manifest, which: TableSet) -> Result<Tables> {
        let mut t = Tables::default();
        for seg in &m.segments {
            for (table, wanted, into) in [
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
            ] {
                if wanted {
                    into.extend(self.segment_table(seg, table, None)?);
                }
            }
            t.originals.0.insert(seg.seq, self.segment_originals(seg));
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

    /// Builds the graph index of the segments `m` lists and writes it as `index/<seq>/` (one
    /// Arrow IPC file per table), aside first and renamed into place; returns its path
    /// relative to the directory. Each table is written as soon as it is built, and `nodes`
    /// is built last, a column at a time (see [`GraphIndex::build_in_steps`]), so that the
    /// index of millions of footprints is built in bounded memory.
    fn write_graph_index(&self, m: &Manifest, seq: i64) -> Result<String> {
        use datafusion::arrow::ipc::writer::FileWriter;
        let started = std::time::Instant::now();
        let rel = format!("index/{seq:06}");
        let target = self.dir.join(&rel);
        let tmp = self.fresh_tmp(&format!("index-{seq:06}"))?;
        let put = |name: &'static str, batch: RecordBatch| -> Result<()> {
            debug_assert!(graph_index::TABLES.contains(&name));
            let batch = GraphIndex::stored(batch)?;
            let path = tmp.join(format!("{name}.arrow"));
            let file = File::create(&path).map_err(|e| Error::io(&path, e))?;
            let mut w = FileWriter::try_new(std::io::BufWriter::new(file), &batch.schema())?;
            w.write(&batch)?;
            drop(batch);
            w.finish()?;
            let file = w
                .into_inner()?
                .into_inner()
                .map_err(|e| Error::io(&path, e.into_error()))?;
            file.sync_all().map_err(|e| Error::io(&path, e))?;
            tracing::debug!("graph index: wrote {name} at {:.2?}", started.elapsed());
            Ok(())
        };
        // One footprints column of every segment, in stored order.
        let column = |from: &str| -> Result<Vec<datafusion::arrow::array::ArrayRef>> {
            let mut pieces = Vec::new();
            for seg in &m.segments {
                for b in self.segment_batches(seg, Table::Footprints, Some(&[from]))? {
                    pieces.push(b?.column(0).clone());
                }
            }
            Ok(pieces)
        };
        // The BOM a batch at a time, a file at a time: millions of edges are reduced to
        // integers as they are read. They are decoded on a thread of their own, a few
        // batches ahead, while this one reads the footprints and numbers the edges.
        std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::sync_channel(4);
            scope.spawn(move || {
                for seg in &m.segments {
                    match self.segment_batches(seg, Table::Bom, Some(&INDEX_BOM_COLUMNS)) {
                        Ok(batches) => {
                            for b in batches {
                                // The builder stopped (an error): nothing more to decode.
                                if tx.send(b).is_err() {
                                    return;
                                }
                            }
                        }
                        Err(e) => {
                            // The builder stops at the first error.
                            let _ = tx.send(Err(e));
                            return;
                        }
                    }
                }
            });
            let mut footprints = Vec::new();
            for seg in &m.segments {
                footprints.extend(self.segment_table(
                    seg,
                    Table::Footprints,
                    Some(&graph_index::GRAPH_COLUMNS),
                )?);
            }
            let view = Tables {
                footprints,
                ..Tables::default()
            }
            .footprints_view()?;
            let bom_rows = m.segments.iter().map(|s| s.bom_edges).sum();
            GraphIndex::build_in_steps(view, rx, bom_rows, column, put)
        })?;
        sync_dir(&tmp)?;
        let parent = self.dir.join("index");
        fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
        if target.exists() {
            // Left by a commit that crashed before its manifest: never used.
            fs::remove_dir_all(&target).map_err(|e| Error::io(&target, e))?;
        }
        fs::rename(&tmp, &target).map_err(|e| Error::io(&target, e))?;
        sync_dir(&parent)?;
        tracing::debug!("built the graph index in {:.2?}", started.elapsed());
        Ok(rel)
    }

    /// Removes index directories other than `current` (after the manifest names it).
    fn remove_old_indexes(&self, current: Option<&str>) {
        let Ok(entries) = fs::read_dir(self.dir.join("index")) else {
            return;
        };
        for e in entries.flatten() {
            let rel = format!("index/{}", e.file_name().to_string_lossy());
            if Some(rel.as_str()) != current
                && let Err(err) = fs::remove_dir_all(e.path())
            {
                tracing::warn!(
                    "could not remove the old index {}: {err}",
                    e.path().display()
                );
            }
        }
    }

    /// The graph index written with the last commit, read from its Arrow IPC files; `None`
    /// when the directory has none (nothing committed yet, or migrated from format 1).
    pub fn graph_index(&self) -> Result<Option<GraphIndex>> {
        let m = self.read_manifest()?;
        let Some(rel) = m.graph_index else {
            return Ok(None);
        };
        let dir = self.dir.join(rel);
        let mut tables = Vec::with_capacity(4);
        for name in graph_index::TABLES {
            let path = dir.join(format!("{name}.arrow"));
            tables.push(read_ipc_mapped(&path)?);
        }
        let tables: [RecordBatch; 4] = tables
            .try_into()
            .map_err(|_| Error::Internal("graph index: four tables expected".into()))?;
        GraphIndex::from_tables(tables).map(Some)
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
    pub fn load_for_ingest(&self, bom: bool) -> Result<Tables> {
        self.store.load_for_ingest(bom)
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
        let writer = |name: &str, schema: SchemaRef| -> Result<TableWriter> {
            let path = tmp.join(format!("{name}.parquet"));
            let file = File::create(&path).map_err(|e| Error::io(&path, e))?;
            let props = WriterProperties::builder()
                .set_compression(Compression::ZSTD(ZstdLevel::default()))
                .build();
            Ok(TableWriter {
                writer: ArrowWriter::try_new(file, schema, Some(props))?,
                path,
                rows: 0,
            })
        };
        Ok(SegmentWriter {
            lock: self,
            manifest,
            seq,
            writers: Table::ALL
                .iter()
                .map(|t| writer(t.file_stem(), t.schema()))
                .collect::<Result<_>>()?,
            originals: Vec::new(),
            originals_dir,
            copies: Vec::new(),
            tmp,
            committed: false,
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

/// The tables of a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// `footprints` (stored schema).
    Footprints,
    /// `footprint_extensions`.
    Extensions,
    /// `bom`.
    Bom,
    /// `ingest_log`.
    IngestLog,
    /// `gx_attributes`.
    GxAttributes,
}

impl Table {
    /// Every table, in the order of their files in a segment.
    pub const ALL: [Table; 5] = [
        Table::Footprints,
        Table::Extensions,
        Table::Bom,
        Table::IngestLog,
        Table::GxAttributes,
    ];

    fn file_stem(self) -> &'static str {
        match self {
            Table::Footprints => "footprints",
            Table::Extensions => "footprint_extensions",
            Table::Bom => "bom",
            Table::IngestLog => "ingest_log",
            Table::GxAttributes => "gx_attributes",
        }
    }

    fn schema(self) -> SchemaRef {
        match self {
            Table::Footprints => table::footprints_stored_schema(),
            Table::Extensions => table::extensions_schema(),
            Table::Bom => table::bom_schema(),
            Table::IngestLog => table::ingest_log_schema(),
            Table::GxAttributes => table::gx_schema(),
        }
    }
}

/// One table file being written.
struct TableWriter {
    writer: ArrowWriter<File>,
    path: PathBuf,
    rows: usize,
}

/// Bytes of encoded rows a table writer holds before it writes them out as a row group: the
/// memory an ingest needs does not grow with its input.
const ROW_GROUP_BYTES: usize = 64 << 20;

impl TableWriter {
    fn write(&mut self, b: &RecordBatch) -> Result<()> {
        self.writer.write(b)?;
        self.rows += b.num_rows();
        if self.writer.in_progress_size() > ROW_GROUP_BYTES {
            self.writer.flush()?;
        }
        Ok(())
    }

    fn finish(self) -> Result<usize> {
        let file = self.writer.into_inner()?;
        file.sync_all().map_err(|e| Error::io(&self.path, e))?;
        Ok(self.rows)
    }
}

/// A segment being written (see [`WriteLock::begin`]). Dropped without
/// [`SegmentWriter::commit`], it leaves the directory as it was.
pub struct SegmentWriter<'l, 's> {
    lock: &'l WriteLock<'s>,
    manifest: Manifest,
    seq: i64,
    tmp: PathBuf,
    /// One per table, in [`Table::ALL`] order.
    writers: Vec<TableWriter>,
    /// Per source: the name kept and the file being written.
    originals: Vec<Option<(String, File)>>,
    originals_dir: PathBuf,
    /// Originals being copied by their own threads: (original, source path, bytes copied).
    copies: Vec<(
        usize,
        PathBuf,
        std::thread::JoinHandle<std::io::Result<u64>>,
    )>,
    committed: bool,
}

impl SegmentWriter<'_, '_> {
    /// The ingest number this segment will have.
    pub fn seq(&self) -> i64 {
        self.seq
    }

    /// Appends `batch` to `table`.
    pub fn write(&mut self, table: Table, batch: &RecordBatch) -> Result<()> {
        match self.writers.get_mut(table as usize) {
            Some(w) => w.write(batch),
            None => Err(Error::Internal("segment writer already committed".into())),
        }
    }

    /// The file of original `i` (received as `name`), created on first use.
    fn original_file(&mut self, i: usize, name: &str) -> Result<&mut File> {
        if self.originals.len() <= i {
            self.originals.resize_with(i + 1, || None);
        }
        let dir = &self.originals_dir;
        let slot = &mut self.originals[i];
        if slot.is_none() {
            let kept = original_name(i, name);
            let path = dir.join(&kept);
            let file = File::create(&path).map_err(|e| Error::io(&path, e))?;
            *slot = Some((kept, file));
        }
        match slot {
            Some((_, f)) => Ok(f),
            None => Err(Error::Internal("original file not opened".into())),
        }
    }

    /// Appends `bytes` to original `i`, the source received as `name` (its documents' spans
    /// are offsets into what is appended, in order).
    pub fn append_original(&mut self, i: usize, name: &str, bytes: &[u8]) -> Result<()> {
        let dir = self.originals_dir.clone();
        let f = self.original_file(i, name)?;
        f.write_all(bytes).map_err(|e| Error::io(&dir, e))
    }

    /// Starts copying the file at `path` as original `i` on a thread of its own (a copy in
    /// the kernel, beside whatever else the ingest does); [`SegmentWriter::copied`] waits
    /// for it.
    pub fn copy_original_beside(&mut self, i: usize, path: &Path) -> Result<()> {
        let name = path.display().to_string();
        let to = self.original_file(i, &name)?;
        let mut to = to.try_clone().map_err(|e| Error::io(path, e))?;
        let mut from = File::open(path).map_err(|e| Error::io(path, e))?;
        let copy = std::thread::spawn(move || std::io::copy(&mut from, &mut to));
        self.copies.push((i, path.to_path_buf(), copy));
        Ok(())
    }

    /// Waits for the copy of original `i` started by [`SegmentWriter::copy_original_beside`];
    /// returns the bytes copied.
    pub fn copied(&mut self, i: usize) -> Result<u64> {
        let Some(at) = self.copies.iter().position(|c| c.0 == i) else {
            return Err(Error::Internal(format!("original {i} is not being copied")));
        };
        let (_, path, copy) = self.copies.swap_remove(at);
        copy.join()
            .unwrap_or_else(|_| Err(std::io::Error::other("the copying thread panicked")))
            .map_err(|e| Error::io(&path, e))
    }

    /// Writes the segment out, builds the graph index of every segment with it, and commits
    /// both by replacing the manifest. Returns the ingest number.
    pub fn commit(mut self) -> Result<i64> {
        let store = self.lock.store;
        let seq = self.seq;
        while let Some(&(i, ..)) = self.copies.first() {
            self.copied(i)?;
        }
        let mut rows = Vec::with_capacity(Table::ALL.len());
        for w in std::mem::take(&mut self.writers) {
            rows.push(w.finish()?);
        }
        let mut originals = Vec::new();
        for (name, file) in self.originals.drain(..).flatten() {
            file.sync_all()
                .map_err(|e| Error::io(&self.originals_dir, e))?;
            originals.push(name);
        }
        sync_dir(&self.originals_dir)?;
        sync_dir(&self.tmp)?;

        let segments = store.dir.join("segments");
        fs::create_dir_all(&segments).map_err(|e| Error::io(&segments, e))?;
        let rel = format!("segments/{seq:06}");
        let target = store.dir.join(&rel);
        if target.exists() {
            // Left by an ingest that crashed before its manifest was written: never committed.
            tracing::warn!("removing uncommitted segment {}", target.display());
            fs::remove_dir_all(&target).map_err(|e| Error::io(&target, e))?;
        }
        fs::rename(&self.tmp, &target).map_err(|e| Error::io(&target, e))?;
        self.committed = true;
        sync_dir(&segments)?;

        let mut manifest = self.manifest.clone();
        manifest.segments.push(Segment {
            seq,
            dir: rel,
            committed_at: chrono::Utc::now().to_rfc3339(),
            footprints: rows[Table::Footprints as usize],
            bom_edges: rows[Table::Bom as usize],
            originals,
        });
        manifest.graph_index = Some(store.write_graph_index(&manifest, seq)?);
        store.write_manifest(&manifest)?;
        store.remove_old_indexes(manifest.graph_index.as_deref());
        Ok(seq)
    }
}

impl Drop for SegmentWriter<'_, '_> {
    fn drop(&mut self) {
        // Copies still running write into tmp/: let them finish before it goes.
        for (_, _, copy) in self.copies.drain(..) {
            let _ = copy.join();
        }
        if !self.committed
            && let Err(e) = fs::remove_dir_all(&self.tmp)
        {
            tracing::warn!(
                "could not remove the uncommitted ingest {}: {e}",
                self.tmp.display()
            );
        }
    }
}

/// What [`migrate`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// The format version found.
    pub from: u32,
    /// The format version written.
    pub to: u32,
    /// Segments rewritten.
    pub segments: usize,
    /// Footprints whose documents were located in the originals.
    pub footprints: usize,
}

/// The stored `footprints` schema of format version 1: the documents in a `document_json`
/// column where version 2 has their place in the originals.
fn footprints_v1_schema() -> SchemaRef {
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    let v2 = table::footprints_stored_schema();
    let mut fields: Vec<Field> = Vec::new();
    for f in v2.fields() {
        match f.name().as_str() {
            "document_original" => fields.push(Field::new("document_json", DataType::Utf8, false)),
            "document_offset" | "document_length" => {}
            _ => fields.push(f.as_ref().clone()),
        }
    }
    std::sync::Arc::new(Schema::new(fields))
}

/// Brings a data directory of an earlier format to [`FORMAT_VERSION`], under the write lock.
///
/// From version 1: each segment gets a new `footprints.parquet` without the documents,
/// holding where each document is in the segment's `originals/` (found by searching the
/// originals for the stored text, which is a slice of one of them). The new segment is
/// written beside the old one (`segments/000001-v2/`, the unchanged files hard-linked, or
/// copied where links are not possible); the manifest is replaced by rename, atomically; only
/// then are the old segment directories removed. A crash before the rename leaves the
/// directory as it was (format 1); after it, the new format with perhaps an old directory left
/// behind, which nothing reads. A directory already at the current format is left alone.
pub fn migrate(store: &Store) -> Result<Migration> {
    let _lock = store.lock()?;
    let mut manifest = store.read_manifest_any()?;
    let from = manifest.version;
    if from == FORMAT_VERSION {
        return Ok(Migration {
            from,
            to: FORMAT_VERSION,
            segments: 0,
            footprints: 0,
        });
    }
    if from > FORMAT_VERSION {
        return Err(store.err(&format!(
            "written by a newer mieruka (data directory format {from}); this one reads format {FORMAT_VERSION}"
        )));
    }
    let mut rewritten = Vec::new();
    let mut footprints = 0;
    for seg in &mut manifest.segments {
        let old = store.dir.join(&seg.dir);
        let rel = format!("{}-v{FORMAT_VERSION}", seg.dir);
        let new = store.dir.join(&rel);
        if new.exists() {
            // Left by a migration that did not commit.
            fs::remove_dir_all(&new).map_err(|e| Error::io(&new, e))?;
        }
        fs::create_dir_all(new.join("originals")).map_err(|e| Error::io(&new, e))?;
        for entry in fs::read_dir(&old).map_err(|e| Error::io(&old, e))? {
            let entry = entry.map_err(|e| Error::io(&old, e))?;
            let name = entry.file_name();
            if name == "footprints.parquet" || name == "originals" {
                continue;
            }
            link_or_copy(&entry.path(), &new.join(&name))?;
        }
        let originals: Vec<Vec<u8>> = seg
            .originals
            .iter()
            .map(|name| {
                let p = old.join("originals").join(name);
                let bytes = fs::read(&p).map_err(|e| Error::io(&p, e))?;
                link_or_copy(&p, &new.join("originals").join(name))?;
                Ok(bytes)
            })
            .collect::<Result<_>>()?;
        footprints += rewrite_footprints_v1(
            &old.join("footprints.parquet"),
            &new.join("footprints.parquet"),
            &originals,
            &seg.originals,
        )?;
        sync_dir(&new.join("originals"))?;
        sync_dir(&new)?;
        rewritten.push(old);
        seg.dir = rel;
    }
    sync_dir(&store.dir.join("segments"))?;
    manifest.version = FORMAT_VERSION;
    let seq = manifest.segments.iter().map(|s| s.seq).max().unwrap_or(0);
    manifest.graph_index = Some(store.write_graph_index(&manifest, seq)?);
    store.write_manifest(&manifest)?;
    for old in rewritten {
        if let Err(e) = fs::remove_dir_all(&old) {
            tracing::warn!("migrated; could not remove {}: {e}", old.display());
        }
    }
    Ok(Migration {
        from,
        to: FORMAT_VERSION,
        segments: manifest.segments.len(),
        footprints,
    })
}

fn link_or_copy(from: &Path, to: &Path) -> Result<()> {
    if from.is_dir() {
        fs::create_dir_all(to).map_err(|e| Error::io(to, e))?;
        for entry in fs::read_dir(from).map_err(|e| Error::io(from, e))? {
            let entry = entry.map_err(|e| Error::io(from, e))?;
            link_or_copy(&entry.path(), &to.join(entry.file_name()))?;
        }
        return Ok(());
    }
    if fs::hard_link(from, to).is_err() {
        fs::copy(from, to).map_err(|e| Error::io(to, e))?;
        File::open(to)
            .and_then(|f| f.sync_all())
            .map_err(|e| Error::io(to, e))?;
    }
    Ok(())
}

/// Rewrites a format-1 `footprints.parquet` as format 2; returns the rows.
fn rewrite_footprints_v1(
    from: &Path,
    to: &Path,
    originals: &[Vec<u8>],
    names: &[String],
) -> Result<usize> {
    use datafusion::arrow::array::{Array, ArrayRef, Int32Array, Int64Array, StringArray};

    let v1 = footprints_v1_schema();
    // Batch by batch: a format-1 segment holds every document twice (here and in originals).
    let file = File::open(from).map_err(|e| Error::io(from, e))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)?.build()?;
    let out_file = File::create(to).map_err(|e| Error::io(to, e))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .build();
    let mut writer =
        ArrowWriter::try_new(out_file, table::footprints_stored_schema(), Some(props))?;
    let doc_at = v1.index_of("document_json")?;
    let source_at = v1.index_of("source")?;
    let id_at = v1.index_of("id")?;
    // Documents appear in their source in order: search on from where the last one ended.
    let mut cursor = vec![0usize; originals.len()];
    let mut search_order: std::collections::HashMap<String, Vec<usize>> =
        std::collections::HashMap::new();
    let mut rows = 0;
    for b in reader {
        let b = b?;
        if !same_columns(&b.schema(), &v1) {
            return Err(Error::Store {
                dir: from.to_path_buf(),
                message: "cannot migrate: footprints.parquet is not in format 1".into(),
            });
        }
        let docs = b
            .column(doc_at)
            .as_any()
            .downcast_ref::<StringArray>()
            .ok_or_else(|| Error::Internal("document_json is not text".into()))?;
        let sources = b
            .column(source_at)
            .as_any()
            .downcast_ref::<StringArray>()
            .ok_or_else(|| Error::Internal("source is not text".into()))?;
        let ids = b
            .column(id_at)
            .as_any()
            .downcast_ref::<StringArray>()
            .ok_or_else(|| Error::Internal("id is not text".into()))?;
        let (mut which, mut offsets, mut lengths) = (Vec::new(), Vec::new(), Vec::new());
        for r in 0..b.num_rows() {
            let doc = docs.value(r).as_bytes();
            // The original kept for this source first (its name ends with the source's base
            // name), then every other one; worked out once per source.
            let order = search_order
                .entry(sources.value(r).to_owned())
                .or_insert_with(|| {
                    let base = Path::new(sources.value(r))
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    let mut order: Vec<usize> = (0..originals.len()).collect();
                    order.sort_by_key(|&i| !names[i].ends_with(&base));
                    order
                });
            let found = order.iter().find_map(|&i| {
                let hay = &originals[i];
                let from_cursor = memchr::memmem::find(&hay[cursor[i].min(hay.len())..], doc)
                    .map(|at| at + cursor[i]);
                from_cursor
                    .or_else(|| memchr::memmem::find(hay, doc))
                    .map(|at| (i, at))
            });
            let Some((i, at)) = found else {
                return Err(Error::Store {
                    dir: from.to_path_buf(),
                    message: format!(
                        "cannot migrate: the document of footprint {} is not in this ingest's originals; nothing was changed",
                        ids.value(r)
                    ),
                });
            };
            cursor[i] = at + doc.len();
            which.push(i as i32);
            offsets.push(at as i64);
            lengths.push(doc.len() as i64);
        }
        let mut columns: Vec<ArrayRef> = Vec::new();
        for (c, f) in b.columns().iter().zip(v1.fields()) {
            if f.name() == "document_json" {
                columns.push(std::sync::Arc::new(Int32Array::from(std::mem::take(
                    &mut which,
                ))));
                columns.push(std::sync::Arc::new(Int64Array::from(std::mem::take(
                    &mut offsets,
                ))));
                columns.push(std::sync::Arc::new(Int64Array::from(std::mem::take(
                    &mut lengths,
                ))));
            } else {
                columns.push(c.clone());
            }
        }
        rows += b.num_rows();
        writer.write(&RecordBatch::try_new(
            table::footprints_stored_schema(),
            columns,
        )?)?;
    }
    let file = writer.into_inner()?;
    file.sync_all().map_err(|e| Error::io(to, e))?;
    Ok(rows)
}
