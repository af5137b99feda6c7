//! How a segment's Parquet files are written: codec, statistics, dictionaries and encodings
//! per column.

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::parquet::basic::{Compression, Encoding};
use datafusion::parquet::file::properties::{EnabledStatistics, WriterProperties};
use datafusion::parquet::schema::types::ColumnPath;

/// Largest data page written, before compression: 64 KiB, not the Parquet writer's 1 MiB.
/// Its encoders hand each page's buffer over and grow the next one from nothing, by
/// doubling: at 1 MiB their reallocations were 3 % of an ingest's CPU at 1M footprints, and
/// the larger steps faulted in fresh memory; 64 KiB buffers come from the allocator's free
/// lists. Files grow by 2 % (more page headers, smaller frames to compress);
/// 16 and 256 KiB were no faster (BENCHMARKS.md, "A nineteenth look").
const DATA_PAGE_BYTES: usize = 64 << 10;

/// How a segment's tables are written: LZ4 (the raw block format), and min/max statistics only
/// for integer, boolean and time columns (row counts, sequence numbers, offsets), where a
/// filter can use them. LZ4 rather than ZSTD: at a million footprints ZSTD was a third of the
/// writers' CPU, LZ4 takes 0.7 CPU-seconds less per ingest and reads back faster, for files
/// about twice the size (354 against 167 MB beside 2.5 GiB of originals; BENCHMARKS.md, "A
/// twenty-seventh look"). Segments written with ZSTD read as before: the codec is the file's.
/// Statistics of text and decimal columns cost a comparison per value (a fifth of the
/// writer's time at a million footprints, `perf`) and prune nothing: ids are random, and
/// every question reads its columns whole.
///
/// No column has a dictionary. A dictionary hashes and compares every value as it is written:
/// at a million footprints that was 7 % of an ingest's CPU samples, more than LZ4 takes to
/// squeeze the same runs out of plain values (a status, a version, a company's name on each
/// of its products). Without them the ingest takes 0.5 CPU-seconds less, the files are within
/// 3 % of their size, and questions read them as fast (BENCHMARKS.md, "A thirty-fifth look").
/// Segments written with dictionaries read as before: the encoding is each page's.
///
/// Integers that go up a little at each row (lines, document numbers and offsets) or stay near
/// one size (documents' lengths), and the ingest's number and time (one value in every row of
/// a segment), are written as deltas (DELTA_BINARY_PACKED, which every Parquet reader reads):
/// a few bits a value. The footprint ids are not compressed. Pages are [`DATA_PAGE_BYTES`].
pub(crate) fn writer_properties(schema: &SchemaRef) -> WriterProperties {
    use datafusion::arrow::datatypes::DataType;
    /// Integer columns that go up a little at each row or stay near one size, or hold one
    /// value in every row of a segment.
    const DELTAS: [&str; 6] = [
        "line",
        "document_index",
        "document_offset",
        "document_length",
        "ingest_seq",
        "ingested_at",
    ];
    /// The columns of footprint ids, UUIDs.
    const UUIDS: [&str; 2] = ["id", "footprint_id"];
    let mut props = WriterProperties::builder()
        .set_compression(Compression::LZ4_RAW)
        .set_dictionary_enabled(false)
        .set_statistics_enabled(EnabledStatistics::None)
        .set_data_page_size_limit(DATA_PAGE_BYTES);
    for f in schema.fields() {
        let path = || ColumnPath::from(f.name().as_str());
        let cheap = f.data_type().is_integer()
            || matches!(
                f.data_type(),
                DataType::Boolean | DataType::Timestamp(..) | DataType::Date32
            );
        if cheap {
            props = props.set_column_statistics_enabled(path(), EnabledStatistics::Chunk);
        }
        if DELTAS.contains(&f.name().as_str()) {
            props = props.set_column_encoding(path(), Encoding::DELTA_BINARY_PACKED);
        } else if UUIDS.contains(&f.name().as_str()) {
            // Random hexadecimal: LZ4 read every byte and saved none of them.
            props = props.set_column_compression(path(), Compression::UNCOMPRESSED);
        }
    }
    props.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_keep_statistics_only_where_a_filter_can_use_them() {
        let schema = crate::table::footprints_stored_schema();
        let props = writer_properties(&schema);
        let of = |name: &str| props.statistics_enabled(&ColumnPath::from(name));
        // Integers: a sequence number and a document's place in its original.
        assert_eq!(of("ingest_seq"), EnabledStatistics::Chunk);
        assert_eq!(of("document_offset"), EnabledStatistics::Chunk);
        // Text: random ids, nothing to prune by.
        assert_eq!(of("id"), EnabledStatistics::None);
        assert_eq!(of("source"), EnabledStatistics::None);
    }

    #[test]
    fn row_numbers_and_ingest_numbers_are_deltas_and_ids_are_not_compressed() {
        use datafusion::parquet::basic::{Compression, Encoding};
        let log = writer_properties(&crate::table::ingest_log_schema());
        let col = |name: &str| ColumnPath::from(name);
        // A value per row, going up, or one value in every row: deltas, no dictionary.
        for name in ["line", "document_index", "ingest_seq", "ingested_at"] {
            assert_eq!(
                log.encoding(&col(name)),
                Some(Encoding::DELTA_BINARY_PACKED)
            );
            assert!(!log.dictionary_enabled(&col(name)));
        }
        // Random UUIDs: stored as they are; everything else LZ4.
        assert_eq!(
            log.compression(&col("footprint_id")),
            Compression::UNCOMPRESSED
        );
        assert_eq!(log.compression(&col("line")), Compression::LZ4_RAW);
        let footprints = writer_properties(&crate::table::footprints_stored_schema());
        assert_eq!(
            footprints.compression(&col("id")),
            Compression::UNCOMPRESSED
        );
        assert_eq!(
            footprints.encoding(&col("document_offset")),
            Some(Encoding::DELTA_BINARY_PACKED)
        );
        // A text column with a value per row keeps the default encoding and LZ4.
        assert_eq!(footprints.encoding(&col("product_id")), None);
        assert_eq!(
            footprints.compression(&col("product_id")),
            Compression::LZ4_RAW
        );
    }

    #[test]
    fn a_repeated_text_is_written_plain_and_compressed_not_as_a_dictionary() {
        use datafusion::arrow::array::{RecordBatch, StringArray};
        use datafusion::arrow::datatypes::{DataType, Field, Schema};
        use datafusion::parquet::arrow::ArrowWriter;
        use datafusion::parquet::basic::Encoding;
        use datafusion::parquet::file::reader::{FileReader, SerializedFileReader};
        use std::sync::Arc;
        // A status as footprints carry it: one word in every row. With the writer's default,
        // this column is a dictionary of one value and its indexes.
        let schema = Arc::new(Schema::new(vec![Field::new(
            "status",
            DataType::Utf8,
            false,
        )]));
        let rows = 10_000;
        let status = StringArray::from(vec!["Active"; rows]);
        let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(status)]).unwrap();
        let path = std::env::temp_dir().join(format!(
            "mieruka-no-dictionary-{}.parquet",
            std::process::id()
        ));
        let file = std::fs::File::create(&path).unwrap();
        let mut writer =
            ArrowWriter::try_new(file, schema.clone(), Some(writer_properties(&schema))).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
        let reader = SerializedFileReader::new(std::fs::File::open(&path).unwrap()).unwrap();
        std::fs::remove_file(&path).unwrap();
        let chunk = reader.metadata().row_group(0).column(0).clone();
        assert_eq!(chunk.dictionary_page_offset(), None);
        let encodings: Vec<Encoding> = chunk.encodings().collect();
        assert!(encodings.contains(&Encoding::PLAIN), "{encodings:?}");
        assert!(
            !encodings.contains(&Encoding::RLE_DICTIONARY),
            "{encodings:?}"
        );
        // Plain, the 10,000 values are 100,000 bytes (a 4-byte length and "Active" each);
        // LZ4 keeps a small part of that.
        assert!(chunk.uncompressed_size() >= 100_000, "{chunk:?}");
        assert!(chunk.compressed_size() < 10_000, "{chunk:?}");
    }
}
