//! Writing one segment: a Parquet writer per table, row groups as batches come, the originals
//! copied beside them, all under `tmp/` until the commit renames the segment into place and
//! replaces the manifest.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::errors::ParquetError;
use rayon::prelude::*;

use crate::table::{self};
use crate::{Error, Result};

use super::spill::{NodeSpill, SpilledNodes};
use super::{Manifest, Segment, WriteLock, original_name, start_writeback, sync_dir};

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
    /// The graph index's copied columns of the rows written, kept as they are written.
    pub(super) nodes: Option<NodeSpill>,
}

/// Bytes of encoded rows a table writer holds before it writes them out as a row group: the
/// memory an ingest needs does not grow with its input.
const ROW_GROUP_BYTES: usize = 16 << 20;

/// A Parquet writer's error at `path`: a failed write of the file (a full disk, say) is an
/// I/O error naming it, as any other file's; Parquet's own errors stay as they are.
pub(crate) fn writing(path: &Path) -> impl Fn(ParquetError) -> Error + '_ {
    move |e| match e {
        ParquetError::External(source) => match source.downcast::<std::io::Error>() {
            Ok(io) => Error::io(path, *io),
            Err(other) => Error::Parquet(ParquetError::External(other)),
        },
        e => Error::Parquet(e),
    }
}

impl TableWriter {
    fn write(&mut self, b: &RecordBatch) -> Result<()> {
        self.writer.write(b).map_err(writing(&self.path))?;
        if let Some(nodes) = &mut self.nodes {
            nodes.append(b)?;
        }
        self.rows += b.num_rows();
        if self.writer.in_progress_size() > ROW_GROUP_BYTES {
            self.writer.flush().map_err(writing(&self.path))?;
        }
        Ok(())
    }

    /// Finishes the file, its pages on their way to the disk (the commit syncs it); its
    /// rows, the file, and the index's columns kept from them.
    fn finish(self) -> Result<(usize, Written, Option<SpilledNodes>)> {
        let file = self.writer.into_inner().map_err(writing(&self.path))?;
        start_writeback(&file);
        let nodes = self.nodes.map(NodeSpill::finish).transpose()?;
        Ok((self.rows, (self.path, file), nodes))
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
    /// Threads encoding the tables of [`SegmentWriter::write_tables`], started at its first
    /// call and kept until the tables are finished (see there).
    pub(super) encoders: Option<Encoders>,
    /// Rows of each table, once [`SegmentWriter::finish_tables`] finished their files.
    pub(super) rows: Option<Vec<usize>>,
    /// The graph index's columns kept from the footprints written (the first segment's),
    /// once their files are finished.
    pub(super) nodes: Option<SpilledNodes>,
    /// The table files finished and not synced yet (see [`SegmentWriter::commit`]).
    pub(super) written: Vec<Written>,
}

/// A file written in the segment's directory, by its path there.
pub(super) type Written = (PathBuf, File);

/// The threads encoding a segment's tables.
pub(super) struct Encoders {
    pool: rayon::ThreadPool,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Encoders {
    fn start() -> Result<Encoders> {
        let mut threads = Vec::new();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(Table::ALL.len() - 1)
            .spawn_handler(|thread| {
                let t = std::thread::Builder::new()
                    .name(format!("encode-{}", thread.index()))
                    .spawn(|| thread.run())?;
                threads.push(t);
                Ok(())
            })
            .build()
            .map_err(|e| Error::Internal(format!("cannot start the table encoders: {e}")))?;
        Ok(Encoders { pool, threads })
    }

    /// Ends the threads and waits until they are gone, with what their allocator kept for
    /// them given back to the process.
    fn end(self) {
        drop(self.pool);
        for t in self.threads {
            // A thread's panic was reported by the write it happened in.
            let _ = t.join();
        }
    }
}

/// What writing to a committed segment gives: its table writers are gone.
fn committed() -> Error {
    Error::Internal("segment writer already committed".into())
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
            None => Err(committed()),
        }
    }

    /// Appends `batches`, each to its table, in order within a table; the tables are encoded
    /// at once, on threads of their own (not the thread pool's: the checking has it).
    ///
    /// Those threads live until the tables are finished: started for each call, a hundred and
    /// thirty came and went at 1M footprints, each faulting in a fresh stack (a second of
    /// system time).
    pub fn write_tables(&mut self, batches: Vec<(Table, RecordBatch)>) -> Result<()> {
        let mut per_table: Vec<Vec<RecordBatch>> = vec![Vec::new(); self.writers.len()];
        for (table, b) in batches {
            match per_table.get_mut(table as usize) {
                Some(list) => list.push(b),
                // As in `write`: the writers are gone once the segment is committed.
                None => return Err(committed()),
            }
        }
        let work: Vec<(&mut TableWriter, Vec<RecordBatch>)> = self
            .writers
            .iter_mut()
            .zip(per_table)
            .filter(|(_, list)| !list.is_empty())
            .collect();
        let write = |(w, list): (&mut TableWriter, Vec<RecordBatch>)| -> Result<()> {
            list.iter().try_for_each(|b| w.write(b))
        };
        if work.len() <= 1 {
            return work.into_iter().try_for_each(write);
        }
        let pool = match &mut self.encoders {
            Some(e) => &e.pool,
            none => &none.insert(Encoders::start()?).pool,
        };
        pool.install(|| {
            work.into_par_iter()
                .map(|w| {
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| write(w)))
                        .unwrap_or_else(|_| Err(Error::Internal("a table writer panicked".into())))
                })
                .collect::<Vec<_>>()
        })
        .into_iter()
        .collect()
    }

    /// The file of original `i` (received as `name`), created on first use, and its name in
    /// the originals' directory.
    fn original_file(&mut self, i: usize, name: &str) -> Result<(&str, &mut File)> {
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
            Some((kept, f)) => Ok((kept, f)),
            None => Err(Error::Internal("original file not opened".into())),
        }
    }

    /// Appends `bytes` to original `i`, the source received as `name` (its documents' spans
    /// are offsets into what is appended, in order).
    pub fn append_original(&mut self, i: usize, name: &str, bytes: &[u8]) -> Result<()> {
        let dir = self.originals_dir.clone();
        let (_, f) = self.original_file(i, name)?;
        f.write_all(bytes).map_err(|e| Error::io(&dir, e))
    }

    /// Starts copying the file at `path` as original `i` on a thread of its own (by DMA where
    /// it can, see `copy_file`, then its flush to disk, beside whatever else the ingest does:
    /// the commit does not wait for gigabytes to reach the disk); [`SegmentWriter::copied`]
    /// waits for it.
    pub fn copy_original_beside(&mut self, i: usize, path: &Path) -> Result<()> {
        let name = path.display().to_string();
        let (kept, to) = self.original_file(i, &name)?;
        let (kept, mut to) = (
            kept.to_owned(),
            to.try_clone().map_err(|e| Error::io(path, e))?,
        );
        let target = self.originals_dir.join(kept);
        let from = File::open(path).map_err(|e| Error::io(path, e))?;
        let copy = std::thread::spawn(move || {
            let n = copy_file(&from, &mut to, &target).and_then(|n| to.sync_all().map(|()| n));
            // The error is reported under the source's name; the copy's place says where a
            // write failed (a full disk, say).
            n.map_err(|e| {
                let at = target.display();
                std::io::Error::new(e.kind(), format!("keeping its copy at {at}: {e}"))
            })
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

    /// Finishes the tables' files (no more rows are taken) and ends their encoders' threads:
    /// after it, what the writing held in memory is free, before [`SegmentWriter::commit`]
    /// builds the graph index. The commit does it if it was not done.
    pub fn finish_tables(&mut self) -> Result<()> {
        if self.rows.is_some() {
            return Ok(());
        }
        if self.writers.is_empty() {
            // Taken by a finish that failed, or by the commit.
            return Err(committed());
        }
        let mut rows = Vec::with_capacity(Table::ALL.len());
        for w in std::mem::take(&mut self.writers) {
            let (n, file, nodes) = w.finish()?;
            rows.push(n);
            self.written.push(file);
            self.nodes = self.nodes.take().or(nodes);
        }
        self.rows = Some(rows);
        if let Some(encoders) = self.encoders.take() {
            encoders.end();
        }
        Ok(())
    }

    /// Writes the segment out, builds the graph index of every segment with it, and commits
    /// both by replacing the manifest. Returns the ingest number.
    ///
    /// The segment is moved into place and indexed before its files are synced: the disk
    /// writes them while the index is built (synced first, the commit waited a tenth of a
    /// second for them at a million footprints). Nothing names the segment until the
    /// manifest does, after every file is synced: a crash before leaves a directory that the
    /// next ingest removes.
    pub fn commit(mut self) -> Result<i64> {
        let store = self.lock.store;
        let seq = self.seq;
        while let Some(&(i, ..)) = self.copies.first() {
            self.copied(i)?;
        }
        self.finish_tables()?;
        let rows = self.rows.take().ok_or_else(committed)?;

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
        // Removed, as `tmp` was, if the commit fails from here on.
        self.tmp = target.clone();
        self.originals_dir = target.join("originals");

        let mut manifest = self.manifest.clone();
        let originals = self.originals.iter().flatten();
        manifest.segments.push(Segment {
            seq,
            dir: rel,
            committed_at: chrono::Utc::now().to_rfc3339(),
            footprints: rows[Table::Footprints as usize],
            bom_edges: rows[Table::Bom as usize],
            originals: originals.map(|(name, _)| name.clone()).collect(),
        });
        let nodes = self.nodes.take();
        manifest.graph_index = Some(store.write_graph_index(&manifest, seq, nodes)?);

        for (path, file) in &self.written {
            // Named where it is now.
            let at = target.join(path.file_name().unwrap_or_default());
            file.sync_all().map_err(|e| Error::io(at, e))?;
        }
        for (_, file) in self.originals.iter().flatten() {
            file.sync_all()
                .map_err(|e| Error::io(&self.originals_dir, e))?;
        }
        sync_dir(&self.originals_dir)?;
        sync_dir(&target)?;
        sync_dir(&segments)?;
        self.committed = true;
        store.write_manifest(&manifest)?;
        store.remove_old_indexes(manifest.graph_index.as_deref());
        Ok(seq)
    }
}

/// Copies `from` into `to` (empty, created at `path`): on Linux the source's pages go to the
/// disk by DMA, written with `O_DIRECT` through a pipe — the CPU copies nothing.
/// (`copy_file_range` on ext4, which has no reflinks, is a page-cache-to-page-cache copy by
/// the kernel: a tenth of an ingest's CPU at 1M footprints.) Elsewhere, for a small file,
/// or where the filesystem refuses `O_DIRECT`, `std::io::copy`.
fn copy_file(from: &File, to: &mut File, path: &Path) -> std::io::Result<u64> {
    #[cfg(target_os = "linux")]
    if let Some(n) = direct::copy(from, to, path)? {
        return Ok(n);
    }
    let _ = path;
    std::io::copy(&mut &*from, to)
}

#[cfg(target_os = "linux")]
mod direct {
    use std::fs::{File, OpenOptions};
    use std::os::fd::{AsRawFd, RawFd};
    use std::os::unix::fs::{FileExt, OpenOptionsExt};
    use std::path::Path;

    /// Page size and `O_DIRECT`'s alignment (a multiple of any block size).
    const ALIGN: usize = 4096;
    /// The smallest source copied this way (a smaller one goes the plain way).
    pub(super) const STEP: usize = 8 << 20;

    /// The copy, or `None` when this way cannot make it (nothing written then).
    pub(super) fn copy(from: &File, to: &File, path: &Path) -> std::io::Result<Option<u64>> {
        copy_of(from, to, path, from.metadata()?.len())
    }

    /// [`copy`] of a source `len` bytes long when the copy begins (it may be cut short while
    /// it runs).
    ///
    /// The source's pages go through a pipe (`splice`): read into it from the page cache by
    /// reference, and written from it to the disk with `O_DIRECT`. Written from a memory map
    /// of the source instead, the kernel looked every page up and pinned it (`get_user_pages`),
    /// half a CPU-second for the 2.2 GB of a million footprints (BENCHMARKS.md, "A
    /// twenty-seventh look").
    pub(super) fn copy_of(
        from: &File,
        to: &File,
        path: &Path,
        len: u64,
    ) -> std::io::Result<Option<u64>> {
        let Ok(len) = usize::try_from(len) else {
            return Ok(None);
        };
        if len < STEP {
            return Ok(None);
        }
        let direct = match OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_DIRECT)
            .open(path)
        {
            Ok(f) => f,
            Err(_) => return Ok(None),
        };
        let Ok(pipe) = Pipe::new() else {
            return Ok(None);
        };
        // Whole blocks directly; the tail, shorter than a block, through the page cache.
        let blocks = len / ALIGN * ALIGN;
        let mut at = 0;
        while at < blocks {
            let want = (blocks - at).min(pipe.room);
            let mut filled = 0;
            while filled < want {
                let mut off = (at + filled) as libc::off_t;
                match splice(
                    from.as_raw_fd(),
                    Some(&mut off),
                    pipe.write.as_raw_fd(),
                    None,
                    want - filled,
                ) {
                    Ok(0) => return Err(shorter(len)),
                    Ok(n) => filled += n,
                    // The source's filesystem cannot be spliced from (some network and FUSE
                    // filesystems): nothing is written yet, so the plain way starts afresh.
                    Err(e) if at == 0 && filled == 0 && unspliceable(&e) => return Ok(None),
                    Err(e) => return Err(e),
                }
            }
            let mut written = 0;
            while written < filled {
                let mut off = (at + written) as libc::off_t;
                match splice(
                    pipe.read.as_raw_fd(),
                    None,
                    direct.as_raw_fd(),
                    Some(&mut off),
                    filled - written,
                ) {
                    Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
                    Ok(n) => written += n,
                    // The filesystem takes no direct writes, or none from a pipe: start again
                    // the plain way.
                    Err(e) if at == 0 && unspliceable(&e) => {
                        to.set_len(0)?;
                        return Ok(None);
                    }
                    Err(e) => return Err(e),
                }
            }
            at += filled;
        }
        if blocks < len {
            let mut tail = vec![0; len - blocks];
            from.read_exact_at(&mut tail, blocks as u64)
                .map_err(|e| match e.kind() {
                    std::io::ErrorKind::UnexpectedEof => shorter(len),
                    _ => e,
                })?;
            to.write_all_at(&tail, blocks as u64)?;
        }
        Ok(Some(len as u64))
    }

    /// Bytes a pipe is asked to hold: a direct write per fill, large enough that the disk
    /// streams.
    const PIPE_BYTES: usize = 1 << 20;

    /// A pipe's two ends, and what it holds.
    struct Pipe {
        read: std::io::PipeReader,
        write: std::io::PipeWriter,
        room: usize,
    }

    impl Pipe {
        fn new() -> std::io::Result<Pipe> {
            let (read, write) = std::io::pipe()?;
            // SAFETY: `F_SETPIPE_SZ` takes a size and changes only this pipe; refused (a
            // limit), the pipe keeps its size, which `F_GETPIPE_SZ` tells.
            let room = unsafe {
                libc::fcntl(
                    write.as_raw_fd(),
                    libc::F_SETPIPE_SZ,
                    PIPE_BYTES as libc::c_int,
                );
                libc::fcntl(write.as_raw_fd(), libc::F_GETPIPE_SZ)
            };
            let room = match usize::try_from(room) {
                Ok(room) if room >= ALIGN => room / ALIGN * ALIGN,
                // Linux's default.
                _ => 16 * ALIGN,
            };
            Ok(Pipe { read, write, room })
        }
    }

    /// Whether `e` says a file cannot be spliced at all (rather than that this read failed).
    fn unspliceable(e: &std::io::Error) -> bool {
        matches!(
            e.raw_os_error(),
            Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP)
        )
    }

    /// Moves up to `len` bytes from `from` to `to` (one of them a pipe) without copying them;
    /// the bytes moved (0 at the source's end). Interrupted calls are made again.
    fn splice(
        from: RawFd,
        from_at: Option<&mut libc::off_t>,
        to: RawFd,
        to_at: Option<&mut libc::off_t>,
        len: usize,
    ) -> std::io::Result<usize> {
        let from_at = from_at.map_or(std::ptr::null_mut(), |p| p as *mut libc::off_t);
        let to_at = to_at.map_or(std::ptr::null_mut(), |p| p as *mut libc::off_t);
        loop {
            // SAFETY: both descriptors are open; each offset is null or a live `off_t` the
            // call updates.
            let n = unsafe { libc::splice(from, from_at, to, to_at, len, libc::SPLICE_F_MOVE) };
            match usize::try_from(n) {
                Ok(n) => return Ok(n),
                Err(_) => {
                    let e = std::io::Error::last_os_error();
                    if e.kind() != std::io::ErrorKind::Interrupted {
                        return Err(e);
                    }
                }
            }
        }
    }

    /// The source ended before the `len` bytes it had when its copy began: said as what
    /// happened.
    fn shorter(len: usize) -> std::io::Error {
        std::io::Error::other(format!(
            "the file changed while it was ingested (shorter than the {len} bytes it had when its copy began); nothing was stored"
        ))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_names_the_file() {
        let path = Path::new("/data/tmp/000002/bom.parquet");
        let full = std::io::Error::from_raw_os_error(28);
        let e = writing(path)(ParquetError::External(Box::new(full)));
        match &e {
            Error::Io { path: p, source } => {
                assert_eq!(p, path);
                assert_eq!(source.raw_os_error(), Some(28));
            }
            other => panic!("expected an I/O error naming the file, got {other:?}"),
        }
        assert!(
            e.to_string().starts_with("/data/tmp/000002/bom.parquet: "),
            "{e}"
        );
        // Parquet's own errors, and other external ones, are left as they are.
        let own = writing(path)(ParquetError::General("bad schema".into()));
        assert!(
            matches!(own, Error::Parquet(ParquetError::General(_))),
            "{own:?}"
        );
        let other = writing(path)(ParquetError::External("not I/O".into()));
        assert!(
            matches!(other, Error::Parquet(ParquetError::External(_))),
            "{other:?}"
        );
    }

    #[test]
    fn a_copy_is_the_source_byte_for_byte() {
        // Sizes around the direct path's edges: below its 8 MiB threshold (a plain copy),
        // exactly that, and pipe fills plus a tail shorter than a block.
        // Into the temporary directory, and into memory (`/dev/shm`, where there is one: a
        // filesystem that may take no direct writes, so that the copy starts again the plain
        // way) from there.
        let name = format!("mieruka-copy-{}", std::process::id());
        let dir = std::env::temp_dir().join(&name);
        let shm = Path::new("/dev/shm").join(&name);
        fs::create_dir_all(&dir).expect("dir");
        let mut targets = vec![dir.join("dst")];
        if fs::create_dir_all(&shm).is_ok() {
            targets.push(shm.join("dst"));
        }
        for len in [0, 5000, 8 << 20, (17 << 20) + 1234] {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 7 + i / 4099) as u8).collect();
            let src = dir.join("src");
            fs::write(&src, &bytes).expect("source");
            for dst in &targets {
                let mut to = File::create(dst).expect("target");
                let n = copy_file(&File::open(&src).expect("open"), &mut to, dst).expect("copy");
                drop(to);
                assert_eq!(n, len as u64);
                assert!(
                    fs::read(dst).expect("read") == bytes,
                    "{len} bytes differ in {}",
                    dst.display()
                );
            }
        }
        fs::remove_dir_all(&dir).expect("clean");
        let _ = fs::remove_dir_all(&shm);
    }

    /// A source cut short while its copy runs: the copy finds its end early, and the error
    /// says what happened, in the whole blocks written directly and in the tail written
    /// through the page cache.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_source_cut_short_during_its_copy_is_a_clear_error() {
        use std::os::unix::fs::OpenOptionsExt;
        let dir = std::env::temp_dir().join(format!("mieruka-cut-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("dir");
        let (src, dst) = (dir.join("src"), dir.join("dst"));
        let probe = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .custom_flags(libc::O_DIRECT)
            .open(&dst);
        if probe.is_err() {
            eprintln!(
                "{} takes no O_DIRECT writes: nothing to test",
                dir.display()
            );
            fs::remove_dir_all(&dir).expect("clean");
            return;
        }
        // (bytes on disk, bytes the copy was told of): 4 MiB of a 16 MiB source, ending
        // among its whole blocks; 8 MiB and two blocks of a source with a 100-byte tail past
        // that, ending in the tail.
        let step = direct::STEP;
        for (real, told) in [(4 << 20, 16 << 20), (step + 8192, step + 8192 + 100)] {
            fs::write(&src, vec![7u8; real]).expect("source");
            let to = File::create(&dst).expect("target");
            let from = File::open(&src).expect("open");
            let e = direct::copy_of(&from, &to, &dst, told as u64)
                .expect_err("a copy past the source's end");
            let text = e.to_string();
            assert!(
                text.contains("the file changed while it was ingested")
                    && text.contains(&format!("the {told} bytes")),
                "{real} of {told} bytes: {text}"
            );
        }
        fs::remove_dir_all(&dir).expect("clean");
    }
}
