//! The graph index's Arrow IPC files, read through a memory map.

use std::fs::File;
use std::path::Path;

use datafusion::arrow::array::{ArrayRef, RecordBatch};

use crate::{Error, Result};

/// The one record batch of an Arrow IPC file, its arrays pointing into a read-only memory map
/// of the file: opening costs no copy, and pages are read as they are used. Every array is
/// still validated (offsets and lengths) as it is decoded, so a damaged file is an error; the
/// index keeps its text as bytes, so none of it is read to open it (a million footprints'
/// text is some 400 MB): the graph checks each text is UTF-8 as it reads it.
pub(super) fn read_ipc_mapped(path: &Path) -> Result<RecordBatch> {
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
    // From here every Arrow error means the file is not what was written.
    let blocks = footer
        .recordBatches()
        .ok_or_else(|| damaged("no batches"))?;
    // Decoding checks every offset of every text column (a million footprints: some 70 MB
    // of offsets): the columns are decoded in groups, one per core.
    let width = schema.fields().len();
    let groups = groups_for(width);
    let mut batches = Vec::with_capacity(blocks.len());
    for block in blocks {
        let start = usize::try_from(block.offset()).map_err(|_| damaged("block offset"))?;
        let block_len = block.bodyLength() as usize + block.metaDataLength() as usize;
        if start.checked_add(block_len).is_none_or(|end| end > len) {
            return Err(damaged("block beyond the file"));
        }
        let data = buffer.slice_with_length(start, block_len);
        let decode = |group: usize| -> Result<Option<RecordBatch>> {
            let columns: Vec<usize> = (group..width).step_by(groups).collect();
            FileDecoder::new(schema.clone(), footer.version())
                .with_projection(columns)
                .read_record_batch(block, &data)
                .map_err(|e| damaged(&e.to_string()))
        };
        let parts = on_threads(groups, decode, || damaged("a decoding thread panicked"))?;
        if parts.iter().any(Option::is_none) {
            continue;
        }
        // Column i was decoded by group i % groups, as its (i / groups)-th column.
        let parts: Vec<RecordBatch> = parts.into_iter().flatten().collect();
        let columns = (0..width)
            .map(|i| parts[i % groups].column(i / groups).clone())
            .collect();
        let rows = parts.first().map_or(0, RecordBatch::num_rows);
        let options =
            datafusion::arrow::array::RecordBatchOptions::new().with_row_count(Some(rows));
        batches.push(
            RecordBatch::try_new_with_options(schema.clone(), columns, &options)
                .map_err(|e| damaged(&e.to_string()))?,
        );
    }
    Ok(match batches.len() {
        0 => RecordBatch::new_empty(schema),
        1 => batches.swap_remove(0),
        _ => datafusion::arrow::compute::concat_batches(&schema, &batches)?,
    })
}

/// The first column of each file in `paths` (each written as one column, see
/// [`read_ipc_mapped`]), decoded on every core: a file's text offsets are all checked as it
/// is opened.
pub(super) fn read_columns_mapped(paths: &[std::path::PathBuf]) -> Result<Vec<ArrayRef>> {
    let groups = groups_for(paths.len());
    let read = |group: usize| -> Result<Vec<ArrayRef>> {
        paths
            .iter()
            .skip(group)
            .step_by(groups)
            .map(|path| {
                read_ipc_mapped(path)?
                    .columns()
                    .first()
                    .cloned()
                    .ok_or_else(|| Error::Store {
                        dir: path.to_path_buf(),
                        message: "the graph index file is damaged (no column)".into(),
                    })
            })
            .collect()
    };
    let parts = on_threads(groups, read, || {
        Error::Internal("a decoding thread panicked".into())
    })?;
    // File i was read by group i % groups, as its (i / groups)-th.
    let mut parts: Vec<_> = parts.into_iter().map(Vec::into_iter).collect();
    (0..paths.len())
        .map(|i| {
            parts[i % groups]
                .next()
                .ok_or_else(|| Error::Internal("graph index: a column went missing".into()))
        })
        .collect()
}

/// How many groups `n` things are decoded in: one per core, at most one per thing.
fn groups_for(n: usize) -> usize {
    std::thread::available_parallelism()
        .map_or(1, |c| c.get())
        .clamp(1, n.max(1))
}

/// `work(g)` for each group `g` of `groups`: the first on this thread, each other on a
/// thread of its own; the results in group order (`panicked` says a thread panicked).
fn on_threads<T: Send>(
    groups: usize,
    work: impl Fn(usize) -> Result<T> + Sync,
    panicked: impl Fn() -> Error,
) -> Result<Vec<T>> {
    std::thread::scope(|scope| {
        let work = &work;
        let others: Vec<_> = (1..groups).map(|g| scope.spawn(move || work(g))).collect();
        let mut parts = vec![work(0)];
        parts.extend(
            others
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|_| Err(panicked()))),
        );
        parts.into_iter().collect()
    })
}
