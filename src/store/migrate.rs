//! `mieruka migrate`: a directory of an earlier format brought to this one, beside the old
//! files, switched by one rename of the manifest.

use std::fs::{self, File};
use std::path::Path;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::table::{self, same_columns};
use crate::{Error, Result};

use super::{FORMAT_VERSION, Store, sync_dir};

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
    manifest.graph_index = Some(store.write_graph_index(&manifest, seq, None)?);
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
    let schema = table::footprints_stored_schema();
    let props = super::writer_properties(&schema);
    let mut writer =
        ArrowWriter::try_new(out_file, schema, Some(props)).map_err(super::writing(to))?;
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
        writer
            .write(&RecordBatch::try_new(
                table::footprints_stored_schema(),
                columns,
            )?)
            .map_err(super::writing(to))?;
    }
    let file = writer.into_inner().map_err(super::writing(to))?;
    file.sync_all().map_err(|e| Error::io(to, e))?;
    Ok(rows)
}
