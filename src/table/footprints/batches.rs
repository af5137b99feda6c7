//! `footprints` and `footprint_extensions` rows appended a record at a time, and closed into
//! batches bounded in rows and string bytes.
//!
//! A record is appended to every column at once, right after it was checked and while it is
//! still in the core's cache; it can then be freed. (Built a column at a time from a group of
//! records, each of the sixty-odd columns walked the group's records again, a couple of
//! kilobytes each in some thirty allocations, mostly from memory: an eighth of an ingest's
//! CPU at a million footprints.)

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanBuilder, Decimal128Builder, Int32Builder, Int64Array, Int64Builder,
    RecordBatch, StringBuilder, StructArray, TimestampMicrosecondBuilder,
};

use super::{
    BATCH_STRING_BYTES, FOOTPRINT_COLUMNS, FootprintRecord, Get, ef_fields, extensions_schema,
    footprints_stored_schema, list, rule_fields, ts_micros,
};
use crate::Result;
use crate::model::{Footprint, Text};
use crate::table::{DECIMAL_PRECISION, DECIMAL_SCALE, decimal_to_i128};

/// Most rows in one batch: large enough for columnar work, small enough that the batches of
/// a few hundred documents share the writing threads.
const BATCH_ROWS: usize = 1024;

/// When a batch is full: at `max_rows` rows, or when a row's `weight` (an upper bound of the
/// string bytes it adds to any one column) would take the batch past `max_bytes`. A row
/// heavier than that is a batch of its own.
#[derive(Debug, Clone, Copy)]
struct BatchBound {
    max_rows: usize,
    max_bytes: u64,
    rows: usize,
    bytes: u64,
}

impl BatchBound {
    /// A bound of `max_rows` rows (at least one) and `max_bytes` string bytes.
    fn new(max_rows: usize, max_bytes: u64) -> BatchBound {
        BatchBound {
            max_rows: max_rows.max(1),
            max_bytes,
            rows: 0,
            bytes: 0,
        }
    }

    /// Whether a row of `weight` must start a new batch (then call [`BatchBound::reset`]).
    fn is_full_for(&self, weight: u64) -> bool {
        self.rows >= self.max_rows
            || (self.rows > 0 && self.bytes.saturating_add(weight) > self.max_bytes)
    }

    /// Counts a row of `weight` in.
    fn add(&mut self, weight: u64) {
        self.rows += 1;
        self.bytes = self.bytes.saturating_add(weight);
    }

    /// Starts a new batch.
    fn reset(&mut self) {
        self.rows = 0;
        self.bytes = 0;
    }
}

/// Bytes of text a string column starts with per row (it grows as needed).
const TEXT_BYTES: usize = 16;

/// A string column's builder with room for `rows` rows.
fn text_builder(rows: usize) -> StringBuilder {
    StringBuilder::with_capacity(rows, rows * TEXT_BYTES)
}

/// A list of strings: each row's length, and the values one after the other.
struct StringLists {
    lengths: Vec<usize>,
    values: StringBuilder,
}

impl StringLists {
    fn with_capacity(rows: usize) -> StringLists {
        StringLists {
            lengths: Vec::with_capacity(rows),
            values: text_builder(rows),
        }
    }

    fn push<S: AsRef<str>>(&mut self, row: &[S]) {
        self.lengths.push(row.len());
        for v in row {
            self.values.append_value(v.as_ref());
        }
    }

    fn finish(&mut self) -> Result<ArrayRef> {
        list(
            std::mem::take(&mut self.lengths),
            Arc::new(self.values.finish()),
        )
    }
}

/// One `footprints` column being built, with how it is read from a footprint.
enum Column {
    Str(
        for<'r> fn(&'r Footprint<'_>) -> Option<&'r str>,
        StringBuilder,
    ),
    Dec(
        for<'r> fn(&'r Footprint<'_>) -> Option<&'r rust_decimal::Decimal>,
        Decimal128Builder,
    ),
    Bool(fn(&Footprint<'_>) -> Option<bool>, BooleanBuilder),
    Ts(
        fn(&Footprint<'_>) -> Option<chrono::DateTime<chrono::Utc>>,
        TimestampMicrosecondBuilder,
    ),
    I32(fn(&Footprint<'_>) -> Option<i32>, Int32Builder),
    StrList(for<'r> fn(&'r Footprint<'_>) -> &'r [Text<'r>], StringLists),
    /// `product_or_sector_specific_rules`.
    Rules(Rules),
    /// `secondary_emission_factor_sources`.
    EfSources(EfSources),
}

impl Column {
    /// A column of `get`, with room for `rows` rows.
    fn new(get: &Get, rows: usize) -> Column {
        match *get {
            Get::Str(g) => Column::Str(g, text_builder(rows)),
            Get::Dec(g) => Column::Dec(g, Decimal128Builder::with_capacity(rows)),
            Get::Bool(g) => Column::Bool(g, BooleanBuilder::with_capacity(rows)),
            Get::Ts(g) => Column::Ts(g, TimestampMicrosecondBuilder::with_capacity(rows)),
            Get::I32(g) => Column::I32(g, Int32Builder::with_capacity(rows)),
            Get::StrList(g) => Column::StrList(g, StringLists::with_capacity(rows)),
            Get::Rules => Column::Rules(Rules {
                lengths: Vec::with_capacity(rows),
                operators: StringBuilder::new(),
                names: StringLists::with_capacity(0),
                others: StringBuilder::new(),
            }),
            Get::EfSources => Column::EfSources(EfSources {
                lengths: Vec::with_capacity(rows),
                names: StringBuilder::new(),
                versions: StringBuilder::new(),
            }),
        }
    }

    /// Appends the value of each footprint of `run`; a null is only counted in `nulls`, the
    /// run before a value (or the batch's end) appended at once.
    fn push_run(&mut self, run: &[&FootprintRecord], nulls: &mut usize) {
        /// `value` after the nulls waiting, or one more null waiting.
        macro_rules! append {
            ($b:expr, $value:expr) => {
                match $value {
                    Some(v) => {
                        if *nulls > 0 {
                            $b.append_nulls(std::mem::take(nulls));
                        }
                        $b.append_value(v)
                    }
                    None => *nulls += 1,
                }
            };
        }
        let footprints = run.iter().map(|r| &r.footprint);
        match self {
            Column::Str(g, b) => footprints.for_each(|f| append!(b, g(f))),
            Column::Dec(g, b) => {
                footprints.for_each(|f| append!(b, g(f).map(|&d| decimal_to_i128(d))))
            }
            Column::Bool(g, b) => footprints.for_each(|f| append!(b, g(f))),
            Column::Ts(g, b) => footprints.for_each(|f| append!(b, g(f).map(ts_micros))),
            Column::I32(g, b) => footprints.for_each(|f| append!(b, g(f))),
            Column::StrList(g, b) => footprints.for_each(|f| b.push(g(f))),
            Column::Rules(rules) => footprints.for_each(|f| rules.push(f)),
            Column::EfSources(sources) => footprints.for_each(|f| sources.push(f)),
        }
    }

    /// Appends the `nulls` waiting (none waits in a list column).
    fn append_nulls(&mut self, nulls: usize) {
        match self {
            Column::Str(_, b) => b.append_nulls(nulls),
            Column::Dec(_, b) => b.append_nulls(nulls),
            Column::Bool(_, b) => b.append_nulls(nulls),
            Column::Ts(_, b) => b.append_nulls(nulls),
            Column::I32(_, b) => b.append_nulls(nulls),
            Column::StrList(..) | Column::Rules(_) | Column::EfSources(_) => {}
        }
    }

    /// The column's rows (after the `nulls` waiting) as an array.
    fn finish(&mut self, nulls: usize) -> Result<ArrayRef> {
        if nulls > 0 {
            self.append_nulls(nulls);
        }
        Ok(match self {
            Column::Str(_, b) => Arc::new(b.finish()),
            Column::Dec(_, b) => Arc::new(
                b.finish()
                    .with_precision_and_scale(DECIMAL_PRECISION, DECIMAL_SCALE as i8)?,
            ),
            Column::Bool(_, b) => Arc::new(b.finish()),
            Column::Ts(_, b) => Arc::new(b.finish().with_timezone("UTC")),
            Column::I32(_, b) => Arc::new(b.finish()),
            Column::StrList(_, b) => b.finish()?,
            Column::Rules(rules) => rules.finish()?,
            Column::EfSources(sources) => sources.finish()?,
        })
    }
}

/// `product_or_sector_specific_rules`: a list of (operator, rule names, other operator).
struct Rules {
    lengths: Vec<usize>,
    operators: StringBuilder,
    names: StringLists,
    others: StringBuilder,
}

impl Rules {
    fn push(&mut self, f: &Footprint) {
        let rules = &f.pcf.product_or_sector_specific_rules;
        self.lengths.push(rules.len());
        for r in rules {
            self.operators.append_value(r.operator.as_ref());
            self.names.push(&r.rule_names);
            self.others.append_option(r.other_operator_name.as_deref());
        }
    }

    fn finish(&mut self) -> Result<ArrayRef> {
        let children: Vec<ArrayRef> = vec![
            Arc::new(self.operators.finish()),
            self.names.finish()?,
            Arc::new(self.others.finish()),
        ];
        let values = StructArray::try_new(rule_fields(), children, None)?;
        list(std::mem::take(&mut self.lengths), Arc::new(values))
    }
}

/// `secondary_emission_factor_sources`: a list of (name, version).
struct EfSources {
    lengths: Vec<usize>,
    names: StringBuilder,
    versions: StringBuilder,
}

impl EfSources {
    fn push(&mut self, f: &Footprint) {
        let sources = &f.pcf.secondary_emission_factor_sources;
        self.lengths.push(sources.len());
        for s in sources {
            self.names.append_value(s.name.as_ref());
            self.versions.append_value(s.version.as_ref());
        }
    }

    fn finish(&mut self) -> Result<ArrayRef> {
        let children: Vec<ArrayRef> = vec![
            Arc::new(self.names.finish()),
            Arc::new(self.versions.finish()),
        ];
        let values = StructArray::try_new(ef_fields(), children, None)?;
        list(std::mem::take(&mut self.lengths), Arc::new(values))
    }
}

/// `footprint_extensions` rows being built.
struct ExtensionColumns {
    footprint_id: StringBuilder,
    footprint_version: Int32Builder,
    position: Int32Builder,
    spec_version: StringBuilder,
    data_schema: StringBuilder,
    documentation: StringBuilder,
    kind: StringBuilder,
    data_json: StringBuilder,
    rows: usize,
}

impl ExtensionColumns {
    /// Room for `rows` rows (about as many as footprints: most carry one extension).
    fn with_capacity(rows: usize) -> ExtensionColumns {
        ExtensionColumns {
            footprint_id: text_builder(rows),
            footprint_version: Int32Builder::with_capacity(rows),
            position: Int32Builder::with_capacity(rows),
            spec_version: text_builder(rows),
            data_schema: text_builder(rows),
            documentation: text_builder(rows),
            kind: text_builder(rows),
            data_json: text_builder(rows),
            rows: 0,
        }
    }

    fn push(&mut self, f: &Footprint) {
        for (i, e) in f.extensions.iter().enumerate() {
            self.footprint_id.append_value(&f.id);
            self.footprint_version.append_option(f.version);
            self.position.append_value(i as i32);
            self.spec_version.append_value(&e.spec_version);
            self.data_schema.append_value(&e.data_schema);
            self.documentation.append_option(e.documentation.as_deref());
            self.kind.append_value(e.kind.as_str());
            self.data_json.append_value(&e.data_json);
            self.rows += 1;
        }
    }

    fn finish(&mut self, seq: i64) -> Result<RecordBatch> {
        let rows = std::mem::take(&mut self.rows);
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.footprint_id.finish()),
            Arc::new(self.footprint_version.finish()),
            Arc::new(self.position.finish()),
            Arc::new(self.spec_version.finish()),
            Arc::new(self.data_schema.finish()),
            Arc::new(self.documentation.finish()),
            Arc::new(self.kind.finish()),
            Arc::new(self.data_json.finish()),
            Arc::new(Int64Array::from(vec![seq; rows])),
        ];
        Ok(RecordBatch::try_new(extensions_schema(), columns)?)
    }
}

/// The `footprints` and `footprint_extensions` rows of records appended one at a time, for
/// ingest `seq`, closed into batches by a `BatchBound` of the documents' lengths (a row's
/// strings come from its document, so its length bounds what the row adds to any column).
pub struct FootprintRows {
    seq: i64,
    /// Each column, with the nulls that wait to be appended to it: most columns of most
    /// footprints are absent, and a run of nulls is appended at once, rather than a null at
    /// a time to some eighty columns a row (each a store to its own buffers).
    columns: Vec<(Column, usize)>,
    document_original: Int32Builder,
    document_offset: Int64Builder,
    document_length: Int64Builder,
    source: StringBuilder,
    extensions: ExtensionColumns,
    /// Also counts the rows of the batch being built.
    bound: BatchBound,
    footprints_done: Vec<RecordBatch>,
    extensions_done: Vec<RecordBatch>,
}

impl FootprintRows {
    /// Rows for ingest `seq`, in batches of at most `BATCH_ROWS` (1,024) rows and
    /// [`BATCH_STRING_BYTES`] string bytes, with room for `rows` rows (more grow the
    /// columns: sized for the rows to come, the batches hold no unused half, which the
    /// builders' doubling from their defaults left).
    pub fn new(seq: i64, rows: usize) -> FootprintRows {
        let bound = BatchBound::new(BATCH_ROWS, BATCH_STRING_BYTES);
        FootprintRows::bounded(seq, rows, bound)
    }

    fn bounded(seq: i64, rows: usize, bound: BatchBound) -> FootprintRows {
        let rows = rows.min(bound.max_rows);
        FootprintRows {
            seq,
            columns: FOOTPRINT_COLUMNS
                .iter()
                .map(|(_, _, get)| (Column::new(get, rows), 0))
                .collect(),
            document_original: Int32Builder::with_capacity(rows),
            document_offset: Int64Builder::with_capacity(rows),
            document_length: Int64Builder::with_capacity(rows),
            source: text_builder(rows),
            extensions: ExtensionColumns::with_capacity(rows),
            bound,
            footprints_done: Vec::new(),
            extensions_done: Vec::new(),
        }
    }

    /// Appends `record`'s rows.
    pub fn push(&mut self, record: &FootprintRecord) -> Result<()> {
        self.push_all(&[record])
    }

    /// Appends the rows of `records`, in order: a column at a time for each run of them
    /// that goes into one batch (a row at a time, each row went through some eighty
    /// columns, each reached through its own indirect call).
    pub fn push_all(&mut self, records: &[&FootprintRecord]) -> Result<()> {
        let mut start = 0;
        for (i, r) in records.iter().enumerate() {
            let weight = r.document.length;
            if self.bound.is_full_for(weight) {
                self.append(&records[start..i]);
                self.close()?;
                start = i;
            }
            self.bound.add(weight);
        }
        self.append(&records[start..]);
        Ok(())
    }

    /// Appends the rows of `run`, which the batch being built has room for.
    fn append(&mut self, run: &[&FootprintRecord]) {
        for (c, nulls) in &mut self.columns {
            c.push_run(run, nulls);
        }
        for record in run {
            let d = record.document;
            // The span of a document that was read: its original is one of a few sources,
            // its offset and length within a file (both far below 2^63).
            self.document_original.append_value(d.original as i32);
            self.document_offset.append_value(d.offset as i64);
            self.document_length.append_value(d.length as i64);
            self.source.append_value(&record.source);
            self.extensions.push(&record.footprint);
        }
    }

    /// The batch being built closed (when it has rows).
    fn close(&mut self) -> Result<()> {
        let rows = self.bound.rows;
        if rows == 0 {
            return Ok(());
        }
        self.bound.reset();
        let mut columns = Vec::with_capacity(self.columns.len() + 5);
        for (c, nulls) in &mut self.columns {
            columns.push(c.finish(std::mem::take(nulls))?);
        }
        columns.push(Arc::new(self.document_original.finish()) as ArrayRef);
        columns.push(Arc::new(self.document_offset.finish()));
        columns.push(Arc::new(self.document_length.finish()));
        columns.push(Arc::new(self.source.finish()));
        columns.push(Arc::new(Int64Array::from(vec![self.seq; rows])));
        let footprints = RecordBatch::try_new(footprints_stored_schema(), columns)?;
        self.footprints_done.push(footprints);
        let extensions = self.extensions.finish(self.seq)?;
        if extensions.num_rows() > 0 {
            self.extensions_done.push(extensions);
        }
        Ok(())
    }

    /// The `footprints` and `footprint_extensions` batches, in the order rows were appended;
    /// none without rows.
    pub fn finish(mut self) -> Result<(Vec<RecordBatch>, Vec<RecordBatch>)> {
        self.close()?;
        Ok((self.footprints_done, self.extensions_done))
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::compute::concat_batches;
    use datafusion::arrow::datatypes::Decimal128Type;

    use super::*;
    use crate::ingest::{IngestOptions, prepare};
    use crate::table::Tables;

    /// The batches a bound cuts rows of `weights` into.
    fn ranges(weights: &[u64], max_rows: usize, max_bytes: u64) -> Vec<std::ops::Range<usize>> {
        let mut bound = BatchBound::new(max_rows, max_bytes);
        let (mut out, mut start) = (Vec::new(), 0);
        for (i, &w) in weights.iter().enumerate() {
            if bound.is_full_for(w) {
                out.push(start..i);
                start = i;
                bound.reset();
            }
            bound.add(w);
        }
        if start < weights.len() {
            out.push(start..weights.len());
        }
        out
    }

    #[test]
    fn batches_close_before_the_byte_limit() {
        // Weights 4, 4, 4 under a limit of 8: the third row would make 12, so it opens a batch.
        assert_eq!(ranges(&[4, 4, 4], 10, 8), vec![0..2, 2..3]);
        // Exactly at the limit stays in.
        assert_eq!(ranges(&[4, 4], 10, 8), vec![0..2]);
        // A row heavier than the limit is a batch of its own, never dropped or split.
        assert_eq!(ranges(&[1, 20, 1], 10, 8), vec![0..1, 1..2, 2..3]);
        // The row limit.
        assert_eq!(ranges(&[1; 5], 2, 100), vec![0..2, 2..4, 4..5]);
        assert!(ranges(&[], 2, 100).is_empty());
        // At Arrow's real boundary: rows of 600 MiB each under BATCH_STRING_BYTES (1 GiB),
        // so no batch's strings come near 2 GiB.
        let mib = 1 << 20;
        let ranges_of = |w| ranges(&[w; 4], 8192, BATCH_STRING_BYTES);
        assert_eq!(ranges_of(600 * mib), vec![0..1, 1..2, 2..3, 3..4]);
        assert_eq!(ranges_of(500 * mib), vec![0..2, 2..4]);
    }

    /// The bundled demo's footprints, as checked.
    fn demo_records() -> Vec<FootprintRecord<'static>> {
        let sources = crate::dataset::demo_sources();
        let prepared = prepare(
            &Tables::default(),
            &sources,
            &IngestOptions::default(),
            &|_| {},
        );
        prepared.expect("the demo is accepted").footprints
    }

    #[test]
    fn rows_are_cut_where_the_bound_says_and_keep_every_value() {
        let records = demo_records();
        assert!(
            records.len() > 4,
            "the demo has {} footprints",
            records.len()
        );
        let whole = |bound| {
            let mut rows = FootprintRows::bounded(7, 2, bound);
            for r in &records {
                rows.push(r).expect("appended");
            }
            rows.finish().expect("finished")
        };
        let (one, one_ext) = whole(BatchBound::new(BATCH_ROWS, BATCH_STRING_BYTES));
        assert_eq!(one.len(), 1);
        // Three rows a batch, or as many documents as fit in the first two's bytes.
        let (threes, threes_ext) = whole(BatchBound::new(3, u64::MAX));
        let sizes: Vec<usize> = threes.iter().map(RecordBatch::num_rows).collect();
        let n = records.len();
        assert_eq!(sizes.len(), n.div_ceil(3));
        assert!(sizes[..sizes.len() - 1].iter().all(|&s| s == 3));
        let two = records[0].document.length + records[1].document.length;
        let (by_bytes, _) = whole(BatchBound::new(BATCH_ROWS, two));
        assert_eq!(by_bytes[0].num_rows(), 2);
        // Cut anywhere, the rows are the same rows in the same order.
        let schema = footprints_stored_schema();
        for batches in [&threes, &by_bytes] {
            assert_eq!(concat_batches(&schema, batches.iter()).unwrap(), one[0]);
        }
        let ext = concat_batches(&extensions_schema(), threes_ext.iter()).unwrap();
        assert_eq!(
            ext,
            concat_batches(&extensions_schema(), one_ext.iter()).unwrap()
        );

        // Each value is the record's: its id, its CFP at the table's scale, its document.
        let b = &one[0];
        let col = |name: &str| b.column_by_name(name).expect(name).clone();
        let ids = col("id");
        let cfp = col("pcf_excluding_biogenic_kgco2e_per_unit");
        let (ids, cfp) = (ids.as_string::<i32>(), cfp.as_primitive::<Decimal128Type>());
        let offsets = col("document_offset");
        let seqs = col("ingest_seq");
        for (i, r) in records.iter().enumerate() {
            let f = &r.footprint;
            assert_eq!(ids.value(i), f.id);
            let scaled = decimal_to_i128(f.pcf.pcf_excluding_biogenic_kgco2e_per_unit);
            assert_eq!(cfp.value(i), scaled);
            let offset = offsets.as_primitive::<datafusion::arrow::datatypes::Int64Type>();
            assert_eq!(offset.value(i), r.document.offset as i64);
            let seq = seqs.as_primitive::<datafusion::arrow::datatypes::Int64Type>();
            assert_eq!(seq.value(i), 7);
        }
        // An extension row per entry of each footprint's `extensions`, in order.
        let entries: usize = records.iter().map(|r| r.footprint.extensions.len()).sum();
        assert_eq!(ext.num_rows(), entries);
        assert!(entries > 0, "the demo's footprints carry extensions");
        assert_eq!(ext.column(0).null_count(), 0);
    }

    /// Every scalar column holds each row's value or null, wherever the nulls fall: runs of
    /// nulls at a batch's start, between values and at its end (they are appended in runs).
    #[test]
    fn nulls_and_values_land_on_their_rows() {
        let mut records = demo_records();
        // Optional values on some rows only: a null run, a value, a run, a value, a run.
        for (i, r) in records.iter_mut().enumerate() {
            let pcf = &mut r.footprint.pcf;
            pcf.dluc_ghg_emissions_kgco2e_per_unit =
                (i % 4 == 2).then(|| rust_decimal::Decimal::new(i as i64 * 125, 3));
            r.footprint.comment = (i % 3 == 1).then(|| format!("row {i}").into());
            pcf.packaging_emissions_included = (i % 5 == 3).then_some(i % 2 == 0);
        }
        let mut rows = FootprintRows::bounded(1, 2, BatchBound::new(4, u64::MAX));
        for r in &records {
            rows.push(r).expect("appended");
        }
        let (batches, extensions) = rows.finish().expect("finished");
        // The same records appended in runs of three, across the batches' bounds of four
        // rows, give the same batches.
        let mut in_runs = FootprintRows::bounded(1, 2, BatchBound::new(4, u64::MAX));
        let refs: Vec<&FootprintRecord> = records.iter().collect();
        for run in refs.chunks(3) {
            in_runs.push_all(run).expect("appended");
        }
        assert!(
            records.len() > 8,
            "{} records cross two bounds",
            records.len()
        );
        assert_eq!(
            in_runs.finish().expect("finished"),
            (batches.clone(), extensions)
        );
        let b = concat_batches(&footprints_stored_schema(), batches.iter()).unwrap();
        let mut checked = 0;
        for (c, (name, _, get)) in FOOTPRINT_COLUMNS.iter().enumerate() {
            let column = b.column(c);
            for (i, r) in records.iter().enumerate() {
                let f = &r.footprint;
                let at = format!("{name} row {i}");
                match get {
                    Get::Str(g) => match g(f) {
                        Some(v) => assert_eq!(column.as_string::<i32>().value(i), v, "{at}"),
                        None => assert!(column.is_null(i), "{at}"),
                    },
                    Get::Dec(g) => match g(f) {
                        Some(&d) => assert_eq!(
                            column.as_primitive::<Decimal128Type>().value(i),
                            decimal_to_i128(d),
                            "{at}"
                        ),
                        None => assert!(column.is_null(i), "{at}"),
                    },
                    Get::Bool(g) => match g(f) {
                        Some(v) => assert_eq!(column.as_boolean().value(i), v, "{at}"),
                        None => assert!(column.is_null(i), "{at}"),
                    },
                    _ => continue,
                }
            }
            checked += 1;
        }
        assert!(checked > 60, "{checked} scalar columns");
        let comment = b
            .column_by_name("comment")
            .unwrap()
            .as_string::<i32>()
            .clone();
        assert_eq!(comment.value(1), "row 1");
        assert!(comment.is_null(0) && comment.is_null(2));
    }
}
