//! The graph index of a data directory: built from its segments at each commit, written as
//! Arrow IPC files beside them, and opened through a memory map.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use datafusion::arrow::array::{Array, BooleanArray, RecordBatch};
use datafusion::arrow::datatypes::Schema;

use crate::table::graph_index::{self, GraphIndex};
use crate::{Error, Result};

use super::spill::SpilledNodes;
use super::{Manifest, Segment, Store, Table, ipc, start_writeback, sync_dir};

/// The `bom` columns the graph index reads.
const INDEX_BOM_COLUMNS: [&str; 5] = [
    "parent_product_id",
    "child_product_id",
    "amount",
    "unit",
    "parent_footprint_id",
];

/// The tables of an index written a file per column, each in a directory of its name: their
/// columns come one at a time (see [`GraphIndex::build_in_steps`]), and writing a batch copies
/// it whole.
const BY_COLUMN: [&str; 2] = ["nodes", "edges"];

impl Store {
    /// Builds the graph index of the segments `m` lists and writes it as `index/<seq>/` (an
    /// Arrow IPC file per table, and per column of those in [`BY_COLUMN`]), aside first and
    /// renamed into place; returns its path relative to the directory. Each table is written
    /// as soon as it is built (see [`GraphIndex::build_in_steps`]), and the `nodes` columns
    /// copied from `footprints` a column at a time on a thread of their own, beside the graph
    /// (and on this thread too once the graph is written): the index of millions of
    /// footprints is built in bounded memory, on every core. `nodes`: the copied columns
    /// written as the segment was (the first one's, see `spill`), in the directory to build
    /// the rest of the index in.
    pub(super) fn write_graph_index(
        &self,
        m: &Manifest,
        seq: i64,
        nodes: Option<SpilledNodes>,
    ) -> Result<String> {
        use datafusion::arrow::ipc::writer::FileWriter;
        let started = std::time::Instant::now();
        let rel = format!("index/{seq:06}");
        let target = self.dir.join(&rel);
        // The copied `nodes` columns, when written as the segment was, are in the directory
        // this index is built in; they must be every stored footprint's (a first segment's).
        let stored: usize = m.segments.iter().map(|s| s.footprints).sum();
        let (mut nodes, tmp) = match nodes {
            Some(n) if n.rows() == stored => {
                let tmp = n.dir().to_path_buf();
                (Some(n), tmp)
            }
            Some(n) => {
                return Err(Error::Internal(format!(
                    "graph index: {} footprints' columns written, {stored} stored",
                    n.rows()
                )));
            }
            None => (None, self.fresh_tmp(&format!("index-{seq:06}"))?),
        };
        for name in BY_COLUMN {
            let dir = tmp.join(name);
            fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        }
        // Files written, their pages on their way to the disk: synced together at the end.
        let kept = nodes
            .as_mut()
            .map(SpilledNodes::take_files)
            .unwrap_or_default();
        for (_, file) in &kept {
            start_writeback(file);
        }
        let written = std::sync::Mutex::new(kept);
        let write = |path: PathBuf, batch: RecordBatch| -> Result<()> {
            let batch = GraphIndex::stored(batch)?;
            let file = File::create(&path).map_err(|e| Error::io(&path, e))?;
            let mut w = FileWriter::try_new(std::io::BufWriter::new(file), &batch.schema())?;
            w.write(&batch)?;
            drop(batch);
            w.finish()?;
            let file = w
                .into_inner()?
                .into_inner()
                .map_err(|e| Error::io(&path, e.into_error()))?;
            start_writeback(&file);
            written
                .lock()
                .map_err(|_| Error::Internal("graph index: a writer panicked".into()))?
                .push((path.clone(), file));
            tracing::debug!(
                "graph index: wrote {} at {:.2?}",
                path.display(),
                started.elapsed()
            );
            Ok(())
        };
        // A file per column: each written as it comes, none held with another.
        let put_columns = |name: &str, batch: RecordBatch| -> Result<()> {
            for (f, c) in batch.schema().fields().iter().zip(batch.columns()) {
                let one = RecordBatch::try_new(
                    Arc::new(Schema::new(vec![f.as_ref().clone()])),
                    vec![c.clone()],
                )?;
                write(column_file(&tmp, name, f.name()), one)?;
            }
            Ok(())
        };
        let put = |name: &'static str, batch: RecordBatch| -> Result<()> {
            debug_assert!(graph_index::TABLES.contains(&name) || name == graph_index::BOM_CURRENT);
            match BY_COLUMN.contains(&name) {
                true => put_columns(name, batch),
                false => write(table_file(&tmp, name), batch),
            }
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
        // Set when the graph fails: the copied columns stop at the next.
        let failed = AtomicBool::new(false);
        // The `nodes` columns copied from `footprints` need nothing of the graph: they are
        // read, joined and written on a thread of their own while the graph is built, and on
        // this one too once the graph is written (a column each, the next not yet taken: the
        // copying thread had the last fifth of a second at 1M footprints to itself).
        let copied: Vec<&str> = match nodes {
            Some(_) => Vec::new(),
            None => graph_index::copied_node_columns()
                .map(|(from, _)| from)
                .collect(),
        };
        let next = AtomicUsize::new(0);
        let copy_columns = || -> Result<()> {
            while !failed.load(Ordering::Relaxed) {
                let Some(&from) = copied.get(next.fetch_add(1, Ordering::Relaxed)) else {
                    break;
                };
                put_columns("nodes", GraphIndex::node_column(from, column(from)?)?)?;
            }
            Ok(())
        };
        std::thread::scope(|scope| {
            let copying = scope.spawn(copy_columns);
            // The BOM a batch at a time, a file at a time: millions of edges are reduced to
            // integers as they are read. They are decoded on a thread of their own, a few
            // batches ahead, while this one reads the footprints and numbers the edges.
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
            let graph = (|| {
                let mut footprints = Vec::new();
                for seg in &m.segments {
                    footprints.extend(self.segment_columns(
                        seg,
                        Table::Footprints,
                        &graph_index::GRAPH_COLUMNS,
                    )?);
                }
                tracing::debug!(
                    "graph index: read the graph's columns at {:.2?}",
                    started.elapsed()
                );
                let bom_rows = m.segments.iter().map(|s| s.bom_edges).sum();
                GraphIndex::build_in_steps(footprints, rx, bom_rows, &column, put)
            })();
            let graph = graph.and_then(|()| copy_columns());
            if graph.is_err() {
                failed.store(true, Ordering::Relaxed);
            }
            let copied = copying.join().unwrap_or_else(|_| {
                Err(Error::Internal(
                    "the thread writing the graph index panicked".into(),
                ))
            });
            graph.and(copied)
        })?;
        let written = written
            .into_inner()
            .map_err(|_| Error::Internal("graph index: a writer panicked".into()))?;
        for (path, file) in written {
            file.sync_all().map_err(|e| Error::io(&path, e))?;
        }
        for name in BY_COLUMN {
            sync_dir(&tmp.join(name))?;
        }
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

    /// `columns` of `table` in segment `seg`, as [`Store::segment_table`] reads them, but
    /// each column read on a core of its own (the graph's four, read together, were a third
    /// of a million footprints' index).
    fn segment_columns(
        &self,
        seg: &Segment,
        table: Table,
        columns: &[&str],
    ) -> Result<Vec<RecordBatch>> {
        use rayon::iter::{IntoParallelRefIterator, ParallelIterator};
        let read: Vec<Vec<RecordBatch>> = columns
            .par_iter()
            .map(|c| self.segment_table(seg, table, Some(&[c])))
            .collect::<Result<_>>()?;
        let batches = read.first().map_or(0, Vec::len);
        if read.iter().any(|r| r.len() != batches) {
            return Err(Error::Internal(format!(
                "{}: the columns of {} came in batches of different sizes",
                seg.dir,
                table.file_stem()
            )));
        }
        (0..batches)
            .map(|i| {
                let (mut fields, mut arrays) = (Vec::new(), Vec::new());
                for b in read.iter().map(|r| &r[i]) {
                    fields.extend(b.schema().fields().iter().cloned());
                    arrays.extend(b.columns().iter().cloned());
                }
                // Columns of different lengths are refused here.
                Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)?)
            })
            .collect()
    }

    /// Removes index directories other than `current` (after the manifest names it).
    pub(super) fn remove_old_indexes(&self, current: Option<&str>) {
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

    /// `is_latest` of every footprint the segments of `m` store, in stored order, as the graph
    /// index of `m` keeps it (`nodes/is_latest`, written with the same commit): a map of one
    /// bit per row, where working it out reads three columns of every row and hashes every id
    /// (a third of a second at a million footprints, for every question of the latest ones).
    /// `None` when `m` names no index (a migrated directory) or an index of an earlier build,
    /// written a file per table: the caller works the flags out.
    pub(super) fn index_latest(&self, m: &Manifest) -> Result<Option<BooleanArray>> {
        let rows = m.segments.iter().map(|s| s.footprints).sum();
        self.index_flags(m, |index| column_file(index, "nodes", "is_latest"), rows)
    }

    /// Which BOM rows the segments of `m` store are current (kept by the `bom` view), a flag
    /// each in stored order, as the graph index of `m` keeps them
    /// ([`graph_index::BOM_CURRENT`]): working them out reads three text columns of every
    /// row (three quarters of a second for 6.5 million rows). `None` when the index keeps no
    /// such file (none, an earlier build's, or a BOM not every row of which it numbered).
    pub(super) fn index_bom_current(&self, m: &Manifest) -> Result<Option<BooleanArray>> {
        let rows = m.segments.iter().map(|s| s.bom_edges).sum();
        self.index_flags(m, |index| table_file(index, graph_index::BOM_CURRENT), rows)
    }

    /// A file of the graph index of `m` (`at` the index's directory) that holds one column
    /// of `rows` flags, none null; `None` when there is no such file.
    fn index_flags(
        &self,
        m: &Manifest,
        at: impl FnOnce(&Path) -> PathBuf,
        rows: usize,
    ) -> Result<Option<BooleanArray>> {
        let Some(rel) = &m.graph_index else {
            return Ok(None);
        };
        let path = at(&self.dir.join(rel));
        if !path.exists() {
            return Ok(None);
        }
        let batch = ipc::read_ipc_mapped(&path)?;
        let damaged = |why: String| Error::Store {
            dir: path.clone(),
            message: format!("the graph index file is damaged ({why})"),
        };
        let flags = batch
            .columns()
            .first()
            .and_then(|c| c.as_any().downcast_ref::<BooleanArray>())
            .ok_or_else(|| damaged("not a column of booleans".into()))?;
        if flags.len() != rows || flags.null_count() > 0 {
            return Err(damaged(format!(
                "{} flags, {} of them null, for {rows} stored rows",
                flags.len(),
                flags.null_count()
            )));
        }
        Ok(Some(flags.clone()))
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
            let path = table_file(&dir, name);
            // Earlier builds of this format wrote each table as one file.
            tables.push(match BY_COLUMN.contains(&name) && !path.exists() {
                true => {
                    let columns: Vec<PathBuf> = GraphIndex::table_schema(name)?
                        .fields()
                        .iter()
                        .map(|f| column_file(&dir, name, f.name()))
                        .collect();
                    let mut read = ipc::read_columns_mapped(&columns)?.into_iter();
                    GraphIndex::assemble(name, true, |c| {
                        read.next().ok_or_else(|| {
                            Error::Internal(format!("graph index: no {name} column {c}"))
                        })
                    })?
                }
                false => ipc::read_ipc_mapped(&path)?,
            });
        }
        let tables: [RecordBatch; 4] = tables
            .try_into()
            .map_err(|_| Error::Internal("graph index: four tables expected".into()))?;
        GraphIndex::from_tables(tables).map(Some)
    }
}

/// Where the index in `dir` keeps table `name` written as one file.
fn table_file(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.arrow"))
}

/// Where the index in `dir` keeps `column` of `table`, one of [`BY_COLUMN`].
fn column_file(dir: &Path, table: &str, column: &str) -> PathBuf {
    dir.join(table).join(format!("{column}.arrow"))
}
