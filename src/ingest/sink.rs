//! Where checked rows go: the caller's batches (`prepare`), a writing thread that streams them
//! into the store's segment, or nowhere (a dry run); and how footprint records become batches.

use std::path::Path;

use chrono::Utc;
use datafusion::arrow::array::RecordBatch;
use rayon::prelude::*;

use super::checked::Rows;
use super::source::Data;
use super::{Prepared, Source};
use crate::model::BomEdge;
use crate::store::{SegmentWriter, Table as StoreTable};
use crate::table::{self, FootprintRecord, GxRecord, LogRow};
use crate::{Error, Result};

/// Where checked rows go: kept in memory ([`Prepared`]) or streamed into a data directory's
/// next segment.
pub(super) trait Sink {
    /// The ingest number the rows are for (batches carry it).
    fn seq(&self) -> i64 {
        0
    }
    /// Whether footprints come as records rather than batches (see [`Rows`]).
    fn keeps_records(&self) -> bool {
        false
    }
    /// New footprints, in order: `footprints` and `footprint_extensions` batches built by the
    /// checks (see [`Group`](super::Group)), numbered for [`Sink::seq`], or records.
    fn footprints(&mut self, rows: Vec<Rows>) -> Result<()>;
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
    /// Everything handed over so far is written: called once, after the last rows.
    fn flush(&mut self) -> Result<()> {
        Ok(())
    }
}

impl Sink for Prepared {
    fn keeps_records(&self) -> bool {
        true
    }
    fn footprints(&mut self, rows: Vec<Rows>) -> Result<()> {
        for r in rows {
            match r {
                Rows::Records(r) => self.footprints.extend(r),
                Rows::Batches { .. } => {
                    return Err(Error::Internal(
                        "footprint batches for tables kept as records".into(),
                    ));
                }
            }
        }
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
pub(super) enum Job {
    Footprints(Vec<Rows>),
    Bom(Vec<BomEdge>),
    Log(Vec<LogRow>),
    Gx(Vec<GxRecord>),
    KeepOriginal(usize),
    OriginalRead(usize, u64),
}

/// Hands rows to the writing thread: encoding and compressing them, and writing the
/// originals happen beside the checking, not after it.
pub(super) struct ChannelSink {
    pub(super) to: std::sync::mpsc::SyncSender<Job>,
    /// The writer's [`Sink::seq`] and [`Sink::keeps_records`].
    pub(super) seq: i64,
    pub(super) records: bool,
}

impl ChannelSink {
    fn send(&self, job: Job) -> Result<()> {
        // The writer stops only on an error, which the ingest reports when it joins it.
        self.to
            .send(job)
            .map_err(|_| Error::Internal("the segment writer stopped".into()))
    }
}

impl Sink for ChannelSink {
    fn seq(&self) -> i64 {
        self.seq
    }
    fn keeps_records(&self) -> bool {
        self.records
    }
    fn footprints(&mut self, rows: Vec<Rows>) -> Result<()> {
        self.send(Job::Footprints(rows))
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
///
/// The batches of one step of the intake (a chunk's footprints, BOM edges and log rows, which
/// end with its log) are kept until the step's log comes, then encoded a table per core: each
/// table's Parquet is encoded by one thread, so one after the other they kept the checking
/// waiting (a BOM CSV's edges and log rows are millions each).
pub(super) struct SegmentSink<'w, 'l, 's> {
    pub(super) segment: &'w mut SegmentWriter<'l, 's>,
    pub(super) sources: &'w [Source],
    pub(super) at: chrono::DateTime<Utc>,
    /// Batches built and not yet written, in the order they came.
    pub(super) waiting: Vec<(StoreTable, RecordBatch)>,
}

impl SegmentSink<'_, '_, '_> {
    /// Builds `rows` into batches of 65,536 rows on every core, to be written to `table`.
    fn build_in_batches<T: Sync>(
        &mut self,
        table: StoreTable,
        rows: &[T],
        build: impl Fn(&[T]) -> Result<RecordBatch> + Sync,
    ) -> Result<()> {
        let batches = rows
            .par_chunks(65_536)
            .map(&build)
            .collect::<Result<Vec<_>>>()?;
        self.waiting.extend(batches.into_iter().map(|b| (table, b)));
        Ok(())
    }

    /// Writes the waiting batches, the tables at once.
    fn write_waiting(&mut self) -> Result<()> {
        if self.waiting.is_empty() {
            return Ok(());
        }
        self.segment.write_tables(std::mem::take(&mut self.waiting))
    }
}

impl Sink for SegmentSink<'_, '_, '_> {
    fn seq(&self) -> i64 {
        self.segment.seq()
    }
    fn footprints(&mut self, rows: Vec<Rows>) -> Result<()> {
        for r in rows {
            let (footprints, extensions) = r.into_batches(self.segment.seq())?;
            let footprints = footprints.into_iter().map(|b| (StoreTable::Footprints, b));
            let extensions = extensions.into_iter().map(|b| (StoreTable::Extensions, b));
            self.waiting.extend(footprints.chain(extensions));
        }
        Ok(())
    }
    fn bom(&mut self, edges: Vec<BomEdge>) -> Result<()> {
        let seq = self.segment.seq();
        self.build_in_batches(StoreTable::Bom, &edges, |c| table::bom_batch(c, seq))
    }
    fn log(&mut self, rows: Vec<LogRow>) -> Result<()> {
        let (seq, at) = (self.segment.seq(), self.at);
        self.build_in_batches(StoreTable::IngestLog, &rows, |c| {
            table::ingest_log_batch(c, seq, at)
        })?;
        // A step of the intake ends with its log.
        self.write_waiting()
    }
    fn gx(&mut self, rows: Vec<GxRecord>) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let b = table::gx_batch(&rows, self.segment.seq())?;
        self.waiting.push((StoreTable::GxAttributes, b));
        Ok(())
    }
    fn flush(&mut self) -> Result<()> {
        self.write_waiting()
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

/// Builds every batch an ingest would write, and drops it (the checks build the footprints').
pub(super) struct DrySink {
    pub(super) at: chrono::DateTime<Utc>,
}

impl Sink for DrySink {
    fn footprints(&mut self, rows: Vec<Rows>) -> Result<()> {
        rows.into_iter()
            .try_for_each(|r| r.into_batches(0).map(drop))
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

/// The `footprints` and `footprint_extensions` batches of `records`, none without rows. The
/// ingest's checks build theirs a record at a time instead (see [`Group`](super::Group));
/// this is for records kept in memory.
pub(super) fn footprint_batches<'a, R: std::borrow::Borrow<FootprintRecord<'a>>>(
    records: impl IntoIterator<Item = R>,
    seq: i64,
) -> Result<(Vec<RecordBatch>, Vec<RecordBatch>)> {
    let records = records.into_iter();
    let mut rows = table::FootprintRows::new(seq, records.size_hint().0);
    for r in records {
        rows.push(r.borrow())?;
    }
    rows.finish()
}
