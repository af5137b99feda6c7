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
/// every question reads its columns whole. Columns with a value per row (ids, lines,
/// offsets) are written without a dictionary: one that can only overflow and fall back costs
/// a hash and a comparison per value. So are the products a footprint or a BOM row names:
/// a product has one footprint, and a BOM's children are as many as its rows in all but
/// the smallest chains (a BOM's parents come in runs, and keep theirs). The integers among
/// them, and the ingest's number and time (one value in every row of a segment, which a
/// dictionary hashed at each row), are written as deltas (DELTA_BINARY_PACKED, which every
/// Parquet reader reads): a few bits a value. The footprint ids are not compressed. Pages are
/// [`DATA_PAGE_BYTES`].
pub(crate) fn writer_properties(schema: &SchemaRef) -> WriterProperties {
    use datafusion::arrow::datatypes::DataType;
    const UNIQUE: [&str; 9] = [
        "id",
        "footprint_id",
        "line",
        "document_index",
        "document_offset",
        "document_length",
        "product_id",
        "product_ids",
        "child_product_id",
    ];
    /// Integer columns with one value in every row of a segment.
    const SAME: [&str; 2] = ["ingest_seq", "ingested_at"];
    /// The columns of footprint ids, UUIDs.
    const UUIDS: [&str; 2] = ["id", "footprint_id"];
    let mut props = WriterProperties::builder()
        .set_compression(Compression::LZ4_RAW)
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
        if SAME.contains(&f.name().as_str()) {
            props = props
                .set_column_dictionary_enabled(path(), false)
                .set_column_encoding(path(), Encoding::DELTA_BINARY_PACKED);
        }
        if UNIQUE.contains(&f.name().as_str()) {
            // A list's values are the leaf column `name.list.item`.
            let leaf = match f.data_type() {
                DataType::List(item) => {
                    ColumnPath::new(vec![f.name().clone(), "list".into(), item.name().clone()])
                }
                _ => path(),
            };
            props = props.set_column_dictionary_enabled(leaf.clone(), false);
            if f.data_type().is_integer() {
                // Lines, document numbers and offsets go up a little at each row: as deltas
                // they take a few bits a value where LZ4 left half of their eight bytes.
                props = props.set_column_encoding(leaf, Encoding::DELTA_BINARY_PACKED);
            } else if UUIDS.contains(&f.name().as_str()) {
                // Random hexadecimal: LZ4 read every byte and saved none of them.
                props = props.set_column_compression(leaf, Compression::UNCOMPRESSED);
            }
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
}
