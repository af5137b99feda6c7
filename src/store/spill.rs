//! The graph index's `nodes` columns copied from `footprints`, written into their Arrow IPC
//! files as the first segment of a data directory is written.
//!
//! Read back at the commit, each column was decoded from the segment's Parquet into fresh
//! memory, joined into one array (copied again) and written: at a million footprints a
//! second of CPU, most of it the kernel's (zeroing the new pages, copying the writes), in
//! the second before the commit. Here each column goes into its index file as the batches
//! are encoded, beside the checking, already joined: values after values in the file's
//! body; text offsets, counted on from the batch before, into a file beside it, appended
//! at the end; the null flags in memory (a bit a row). Finishing a file writes its
//! metadata, the offsets and the flags, and the footer: the index copies nothing.
//!
//! The file is the one Arrow's `FileWriter` writes, but for the order of the buffers in the
//! body (values first) and the room left for the batch's metadata: a reader finds each
//! buffer by its offset and length, as the format says.
//!
//! Only the first segment's are written so: the index of a later commit covers every
//! segment, and reads the columns back from all of them.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use datafusion::arrow::array::builder::NullBufferBuilder;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, GenericStringArray, OffsetSizeTrait, RecordBatch,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::ipc;
use datafusion::arrow::ipc::writer::{DictionaryTracker, IpcDataGenerator, IpcWriteOptions};

use crate::table::graph_index;
use crate::{Error, Result};

/// Bytes each file is written in.
const WRITE_BYTES: usize = 256 << 10;

/// Where buffers start in a body, and what every part of the file is padded to (Arrow's
/// `FileWriter` default).
const ALIGN: u64 = 64;

/// Room for the record batch's metadata (its 8-byte prefix and flatbuffer, padded): one
/// field node and three buffers take about 200 bytes.
const BATCH_HEADER: u64 = 512;

/// The copied `nodes` columns of the batches written so far, each into its index file.
pub(super) struct NodeSpill {
    dir: SpillDir,
    columns: Vec<SpillColumn>,
    rows: usize,
}

/// One copied column being written.
struct SpillColumn {
    /// The `footprints` column it is copied from.
    from: &'static str,
    /// Its `nodes` field as the index stores it (text as bytes, see
    /// [`GraphIndex::stored`](graph_index::GraphIndex::stored)).
    field: Field,
    /// The index file: its header written, the values being appended to its body.
    file: Spilled,
    /// Where the record batch's metadata goes ([`BATCH_HEADER`] bytes; the body follows).
    header_at: u64,
    /// The values' bytes so far.
    values: u64,
    /// Text only: where each value ends, as `i64` (the first, 0, written at the start).
    ends: Option<Spilled>,
    /// Reused for each batch's offsets, as bytes.
    scratch: Vec<u8>,
    nulls: NullBufferBuilder,
}

/// A file being written.
struct Spilled {
    path: PathBuf,
    file: BufWriter<File>,
}

impl Spilled {
    fn create(path: PathBuf) -> Result<Spilled> {
        // Readable too: the offsets' file is read back into the column's.
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        Ok(Spilled {
            file: BufWriter::with_capacity(WRITE_BYTES, file),
            path,
        })
    }

    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.file
            .write_all(bytes)
            .map_err(|e| Error::io(&self.path, e))
    }

    /// Zeros up to the next multiple of [`ALIGN`] after `len` bytes; the padded length.
    fn pad(&mut self, len: u64) -> Result<u64> {
        let padded = len.next_multiple_of(ALIGN);
        self.write(&[0; ALIGN as usize][..(padded - len) as usize])?;
        Ok(padded)
    }

    fn finish(self) -> Result<File> {
        self.file
            .into_inner()
            .map_err(|e| Error::io(&self.path, e.into_error()))
    }
}

impl NodeSpill {
    /// Writes the copied `nodes` columns into `dir/nodes/` (created), the graph index's
    /// directory being built; `dir` is removed with the spill unless it was renamed.
    pub(super) fn create(dir: PathBuf) -> Result<NodeSpill> {
        let nodes = dir.join("nodes");
        std::fs::create_dir_all(&nodes).map_err(|e| Error::io(&nodes, e))?;
        let mut spill = NodeSpill {
            dir: SpillDir(dir),
            columns: Vec::new(),
            rows: 0,
        };
        for (from, to) in graph_index::copied_node_columns() {
            spill.columns.push(SpillColumn::create(&nodes, from, to)?);
        }
        Ok(spill)
    }

    /// Appends the copied columns of `batch`, a `footprints` batch as the segment stores it.
    pub(super) fn append(&mut self, batch: &RecordBatch) -> Result<()> {
        for c in &mut self.columns {
            let column = batch.column_by_name(c.from).ok_or_else(|| {
                Error::Internal(format!("graph index: no footprints column {}", c.from))
            })?;
            c.append(column)?;
        }
        self.rows += batch.num_rows();
        Ok(())
    }

    /// The columns' files finished (not synced: the index syncs its files together).
    pub(super) fn finish(self) -> Result<SpilledNodes> {
        let rows = self.rows;
        let files = self
            .columns
            .into_iter()
            .map(|c| c.finish(rows))
            .collect::<Result<_>>()?;
        Ok(SpilledNodes {
            dir: self.dir,
            files,
            rows,
        })
    }
}

impl SpillColumn {
    /// The index file of `nodes` column `to`, copied from `footprints` column `from`, in
    /// `dir`: its header written.
    fn create(dir: &Path, from: &'static str, to: &str) -> Result<SpillColumn> {
        let stored = graph_index::stored_schema(&graph_index::nodes_schema());
        let field = stored.field_with_name(to)?.clone();
        let text = field.data_type() == &DataType::LargeBinary;
        let mut file = Spilled::create(dir.join(format!("{to}.arrow")))?;
        // As `FileWriter` begins: the magic, padded, and the schema's message.
        file.write(b"ARROW1")?;
        let mut at = file.pad(6)?;
        let options = IpcWriteOptions::default();
        let schema = IpcDataGenerator::default().schema_to_bytes_with_dictionary_tracker(
            &Schema::new(vec![field.clone()]),
            &mut DictionaryTracker::new(true),
            &options,
        );
        let (meta, body) = ipc::writer::write_message(&mut file.file, schema, &options)
            .map_err(|e| Error::Internal(format!("graph index: {e}")))?;
        at += (meta + body) as u64;
        // Room for the batch's metadata, written last.
        let header_at = at;
        file.write(&[0; BATCH_HEADER as usize])?;
        let ends = match text {
            true => {
                let mut ends = Spilled::create(dir.join(format!("{to}.ends")))?;
                ends.write(&0i64.to_le_bytes())?;
                Some(ends)
            }
            false => None,
        };
        Ok(SpillColumn {
            from,
            field,
            file,
            header_at,
            values: 0,
            ends,
            scratch: Vec::new(),
            nulls: NullBufferBuilder::new(0),
        })
    }

    fn append(&mut self, column: &ArrayRef) -> Result<()> {
        match (column.data_type(), self.ends.is_some()) {
            (DataType::Utf8, true) => self.append_text(column.as_string::<i32>()),
            (DataType::LargeUtf8, true) => self.append_text(column.as_string::<i64>()),
            (t, false) if t == self.field.data_type() => self.append_fixed(column),
            (t, _) => Err(Error::Internal(format!(
                "graph index: footprints column {} is {t}, not {}",
                self.from,
                self.field.data_type()
            ))),
        }?;
        match column.nulls() {
            Some(n) => self.nulls.append_buffer(n),
            None => self.nulls.append_n_non_nulls(column.len()),
        }
        Ok(())
    }

    fn append_text<O: OffsetSizeTrait>(&mut self, text: &GenericStringArray<O>) -> Result<()> {
        let (bytes, ends) = graph_index::text_from(text, self.values as i64);
        self.file.write(bytes)?;
        self.values += bytes.len() as u64;
        self.scratch.clear();
        for end in ends {
            self.scratch.extend_from_slice(&end.to_le_bytes());
        }
        match &mut self.ends {
            Some(e) => e.write(&self.scratch),
            None => Err(Error::Internal("graph index: text without offsets".into())),
        }
    }

    fn append_fixed(&mut self, column: &ArrayRef) -> Result<()> {
        let data = column.to_data();
        let width = column.data_type().primitive_width().ok_or_else(|| {
            Error::Internal(format!(
                "graph index: {} is not of fixed width",
                column.data_type()
            ))
        })?;
        let bytes = data
            .buffers()
            .first()
            .and_then(|b| {
                b.as_slice()
                    .get(data.offset() * width..(data.offset() + data.len()) * width)
            })
            .ok_or_else(|| Error::Internal(format!("graph index: {} is short", self.from)))?;
        self.values += bytes.len() as u64;
        self.file.write(bytes)
    }

    /// Finishes the file of `rows` values: the offsets and the null flags after the values,
    /// the footer, and the batch's metadata in the room left for it.
    fn finish(mut self, rows: usize) -> Result<(PathBuf, File)> {
        // Buffers as (offset in the body, length), in the order Arrow lays out the type:
        // validity, then offsets (text), then values.
        let values = (0, self.values);
        let mut end = self.file.pad(self.values)?;
        let mut buffers = Vec::with_capacity(3);
        if let Some(ends) = self.ends.take() {
            let (path, mut from) = (ends.path.clone(), ends.finish()?);
            let len = ((rows + 1) * 8) as u64;
            from.seek(SeekFrom::Start(0)).map_err(io(&path))?;
            let copied =
                std::io::copy(&mut from, &mut self.file.file).map_err(io(&self.file.path))?;
            drop(from);
            std::fs::remove_file(&path).map_err(io(&path))?;
            if copied != len {
                return Err(Error::Internal(format!(
                    "graph index: {} offsets of {rows} values",
                    copied / 8
                )));
            }
            buffers.push((end, len));
            end = self.file.pad(end + len)?;
        }
        buffers.push(values);
        let nulls = self.nulls.finish();
        let null_count = nulls.as_ref().map_or(0, |n| n.null_count());
        // No nulls, no flags: a reader takes every value as valid.
        let validity = match nulls.filter(|_| null_count > 0) {
            Some(n) => {
                let bytes = &n.buffer().as_slice()[..rows.div_ceil(8)];
                self.file.write(bytes)?;
                let at = end;
                end = self.file.pad(end + bytes.len() as u64)?;
                (at, bytes.len() as u64)
            }
            None => (end, 0),
        };
        buffers.insert(0, validity);
        let body = end;

        // The end of the stream, then the footer, as `FileWriter::finish` writes them.
        self.file.write(&[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0])?;
        let schema = Schema::new(vec![self.field.clone()]);
        let block = ipc::Block::new(self.header_at as i64, BATCH_HEADER as i32, body as i64);
        let footer = footer(&schema, block);
        self.file.write(&footer)?;
        self.file.write(&(footer.len() as i32).to_le_bytes())?;
        self.file.write(b"ARROW1")?;

        let header = batch_header(rows, null_count, &buffers, body)?;
        let path = self.file.path.clone();
        let mut file = self.file.finish()?;
        file.seek(SeekFrom::Start(self.header_at))
            .and_then(|_| file.write_all(&header))
            .map_err(io(&path))?;
        Ok((path, file))
    }
}

/// An I/O error at `path`.
fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::io(path, e)
}

/// The record batch's message prefix and metadata, padded to [`BATCH_HEADER`] bytes.
fn batch_header(rows: usize, nulls: usize, buffers: &[(u64, u64)], body: u64) -> Result<Vec<u8>> {
    let mut fbb = flatbuffers::FlatBufferBuilder::new();
    let nodes = fbb.create_vector(&[ipc::FieldNode::new(rows as i64, nulls as i64)]);
    let buffers: Vec<ipc::Buffer> = buffers
        .iter()
        .map(|&(at, len)| ipc::Buffer::new(at as i64, len as i64))
        .collect();
    let buffers = fbb.create_vector(&buffers);
    let batch = {
        let mut b = ipc::RecordBatchBuilder::new(&mut fbb);
        b.add_length(rows as i64);
        b.add_nodes(nodes);
        b.add_buffers(buffers);
        b.finish().as_union_value()
    };
    let message = {
        let mut m = ipc::MessageBuilder::new(&mut fbb);
        m.add_version(ipc::MetadataVersion::V5);
        m.add_header_type(ipc::MessageHeader::RecordBatch);
        m.add_bodyLength(body as i64);
        m.add_header(batch);
        m.finish()
    };
    fbb.finish(message, None);
    let meta = fbb.finished_data();
    let room = BATCH_HEADER as usize - 8;
    if meta.len() > room {
        return Err(Error::Internal(format!(
            "graph index: a batch's metadata of {} bytes",
            meta.len()
        )));
    }
    let mut header = Vec::with_capacity(BATCH_HEADER as usize);
    header.extend_from_slice(&[0xff; 4]);
    header.extend_from_slice(&(room as i32).to_le_bytes());
    header.extend_from_slice(meta);
    header.resize(BATCH_HEADER as usize, 0);
    Ok(header)
}

/// The file's footer: its schema and its one record batch.
fn footer(schema: &Schema, block: ipc::Block) -> Vec<u8> {
    let mut fbb = flatbuffers::FlatBufferBuilder::new();
    let dictionaries = fbb.create_vector::<ipc::Block>(&[]);
    let batches = fbb.create_vector(&[block]);
    let schema = ipc::convert::IpcSchemaEncoder::new().schema_to_fb_offset(&mut fbb, schema);
    let root = {
        let mut f = ipc::FooterBuilder::new(&mut fbb);
        f.add_version(ipc::MetadataVersion::V5);
        f.add_schema(schema);
        f.add_dictionaries(dictionaries);
        f.add_recordBatches(batches);
        f.finish()
    };
    fbb.finish(root, None);
    fbb.finished_data().to_vec()
}

/// The copied `nodes` columns of a first segment's footprints, their index files written
/// into the index's directory (see [`NodeSpill`]).
pub(super) struct SpilledNodes {
    dir: SpillDir,
    files: Vec<(PathBuf, File)>,
    rows: usize,
}

impl SpilledNodes {
    /// The footprints written.
    pub(super) fn rows(&self) -> usize {
        self.rows
    }

    /// The directory of the index being built, with its `nodes` columns copied from
    /// `footprints` written; it is removed when this is dropped, unless renamed into place.
    pub(super) fn dir(&self) -> &Path {
        &self.dir.0
    }

    /// The files written, to sync before the index is renamed into place.
    pub(super) fn take_files(&mut self) -> Vec<(PathBuf, File)> {
        std::mem::take(&mut self.files)
    }
}

/// The directory of an index being built, removed when dropped (after a failure; renamed
/// into place, it is no longer there); a failure is only logged (it is under the data
/// directory's `tmp/`).
struct SpillDir(PathBuf);

impl Drop for SpillDir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.0)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!("could not remove {}: {e}", self.0.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::graph_index::GraphIndex;
    use datafusion::arrow::array::{Decimal128Array, LargeStringArray, StringArray};
    use std::sync::Arc;

    /// `pieces` of `footprints` column `from` written as the index file of `nodes` column
    /// `to`, read back by Arrow's own reader and by the index's mapped one.
    fn written(from: &'static str, to: &str, pieces: &[ArrayRef]) -> Result<RecordBatch> {
        let dir = std::env::temp_dir().join(format!(
            "mieruka-spill-{to}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir).expect("dir");
        let _removed = SpillDir(dir.clone());
        let mut c = SpillColumn::create(&dir, from, to)?;
        for p in pieces {
            c.append(p)?;
        }
        let rows = pieces.iter().map(|p| p.len()).sum();
        let (path, file) = c.finish(rows)?;
        drop(file);
        let left: Vec<_> = std::fs::read_dir(&dir).expect("dir").flatten().collect();
        assert_eq!(left.len(), 1, "only the column's file: {left:?}");
        let reader =
            ipc::reader::FileReader::try_new(File::open(&path).expect("open"), None).expect("ipc");
        let batches: Vec<RecordBatch> = reader.map(|b| b.expect("batch")).collect();
        assert_eq!(batches.len(), 1);
        let mapped = super::super::ipc::read_ipc_mapped(&path)?;
        assert_eq!(mapped, batches[0]);
        Ok(mapped)
    }

    /// What the index writes when it reads `pieces` back and joins them.
    fn read_back(from: &str, pieces: &[ArrayRef]) -> RecordBatch {
        let batch = GraphIndex::node_column(from, pieces.to_vec()).expect("joined");
        GraphIndex::stored(batch).expect("stored")
    }

    #[test]
    fn a_written_column_is_the_column_read_back_and_joined() {
        // Text: a sliced piece (its offsets start past 0), a piece with nulls, a `LargeUtf8`
        // piece and an empty one.
        let text: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(vec!["skipped", "a", "", "bc"]).slice(1, 3)),
            Arc::new(StringArray::from(vec![Some("d"), None, Some("éf")])),
            Arc::new(LargeStringArray::from(vec![Some("g"), None])),
            Arc::new(StringArray::from(Vec::<&str>::new())),
        ];
        let got = written("gxd_calc_method", "calc_method", &text).expect("written");
        assert_eq!(got, read_back("gxd_calc_method", &text));
        assert_eq!(got.num_rows(), 8);
        assert_eq!(got.column(0).null_count(), 2);
        // Text without nulls.
        let names: Vec<ArrayRef> = vec![Arc::new(StringArray::from(vec!["Kaede", "", "楓"]))];
        let got = written("company_name", "company_name", &names).expect("written");
        assert_eq!(got, read_back("company_name", &names));

        // Decimals at the store's scale: a sliced piece, one all null, and 1,500,000 kg.
        let decimals = |v: Vec<Option<i128>>| -> ArrayRef {
            Arc::new(
                Decimal128Array::from(v)
                    .with_precision_and_scale(38, 12)
                    .expect("decimal"),
            )
        };
        let big = 1_500_000 * 10i128.pow(12);
        let values = vec![
            decimals(vec![Some(1), Some(-2), None, Some(big)]).slice(1, 3),
            decimals(vec![None, None]),
            decimals(vec![Some(5)]),
        ];
        let from = "gxd_g2g_fossil_ghg_kgco2e_per_unit";
        let got = written(from, "g2g_fossil", &values).expect("written");
        assert_eq!(got, read_back(from, &values));
        assert_eq!(got.num_rows(), 6);

        // No rows at all (a BOM ingested alone): empty columns.
        let none: Vec<ArrayRef> = vec![Arc::new(StringArray::from(Vec::<&str>::new()))];
        let got = written("status", "status", &none).expect("written");
        assert_eq!(got, read_back("status", &none));
        let none = vec![decimals(vec![])];
        let got = written(from, "g2g_fossil", &none).expect("written");
        assert_eq!(got, read_back(from, &none));
    }

    #[test]
    fn a_column_of_another_type_is_an_error() {
        let text: Vec<ArrayRef> = vec![Arc::new(StringArray::from(vec!["1.5"]))];
        let e = written(
            "pcf_excluding_biogenic_kgco2e_per_unit",
            "cfp_excluding",
            &text,
        )
        .expect_err("refused");
        assert!(
            e.to_string().contains("is Utf8, not Decimal128(38, 12)"),
            "{e}"
        );
    }
}
