//! Writing one segment: a Parquet writer per table, row groups as batches come, the originals
//! copied beside them, all under `tmp/` until the commit renames the segment into place and
//! replaces the manifest.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::parquet::arrow::ArrowWriter;

use crate::table::{self};
use crate::{Error, Result};

use super::{Manifest, Segment, WriteLock, original_name, sync_dir};

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

    pub(super) fn file_stem(self) -> &'static str {
        match self {
            Table::Footprints => "footprints",
            Table::Extensions => "footprint_extensions",
            Table::Bom => "bom",
            Table::IngestLog => "ingest_log",
            Table::GxAttributes => "gx_attributes",
        }
    }

    /// The columns of its files.
    pub fn schema(self) -> SchemaRef {
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
pub(super) struct TableWriter {
    pub(super) writer: ArrowWriter<File>,
    pub(super) path: PathBuf,
    pub(super) rows: usize,
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
    pub(super) lock: &'l WriteLock<'s>,
    pub(super) manifest: Manifest,
    pub(super) seq: i64,
    pub(super) tmp: PathBuf,
    /// One per table, in [`Table::ALL`] order.
    pub(super) writers: Vec<TableWriter>,
    /// Per source: the name kept and the file being written.
    pub(super) originals: Vec<Option<(String, File)>>,
    pub(super) originals_dir: PathBuf,
    /// Originals being copied by their own threads: (original, source path, bytes copied).
    pub(super) copies: Vec<(
        usize,
        PathBuf,
        std::thread::JoinHandle<std::io::Result<u64>>,
    )>,
    pub(super) committed: bool,
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
    /// the kernel, then its flush to disk, beside whatever else the ingest does: the commit
    /// does not wait for gigabytes to reach the disk); [`SegmentWriter::copied`] waits for
    /// it.
    pub fn copy_original_beside(&mut self, i: usize, path: &Path) -> Result<()> {
        let name = path.display().to_string();
        let to = self.original_file(i, &name)?;
        let mut to = to.try_clone().map_err(|e| Error::io(path, e))?;
        let mut from = File::open(path).map_err(|e| Error::io(path, e))?;
        let copy = std::thread::spawn(move || {
            let n = std::io::copy(&mut from, &mut to)?;
            to.sync_all()?;
            Ok(n)
        });
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
