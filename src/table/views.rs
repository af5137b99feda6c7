//! The views the queries see over the stored rows: every version with `is_latest`, the
//! current BOM edges, the latest GX attributes (the last row of each key wins).

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, BooleanArray, Int32Array, RecordBatch, StringArray, UInt32Array,
};
use datafusion::arrow::buffer::BooleanBuffer;
use datafusion::arrow::compute::take_record_batch;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use super::graph_index::Interner;
use super::{
    Tables, bom_schema, column, extensions_schema, footprints_schema, gx_schema, ingest_log_schema,
    or_empty,
};
use crate::Result;

/// The last row of each key (batches and rows are in ingest order, so the latest stored),
/// batch by batch; `keys` gives a batch's key per row. Batches with no superseded row are
/// returned as they are.
///
/// Millions of string keys would make a hash map of them as large as the table, so rows are
/// sorted by their key's hash instead (16 bytes a row), and only rows whose hash another row
/// shares have their keys compared: exact, whatever the hash.
fn keep_last<'a, K: std::hash::Hash + Eq>(
    batches: &'a [RecordBatch],
    schema: &SchemaRef,
    keys: impl Fn(&'a RecordBatch) -> Result<Vec<K>>,
) -> Result<Vec<RecordBatch>> {
    use rayon::slice::ParallelSliceMut;
    let state = ahash::RandomState::new();
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let mut hashed: Vec<(u64, u32, u32)> = Vec::with_capacity(rows);
    for (bi, b) in batches.iter().enumerate() {
        for (i, k) in keys(b)?.iter().enumerate() {
            hashed.push((state.hash_one(k), bi as u32, i as u32));
        }
    }
    hashed.par_sort_unstable();
    // Rows sharing a hash, in runs: (batch, row) in stored order.
    let mut runs: Vec<&[(u64, u32, u32)]> = Vec::new();
    for run in hashed.chunk_by(|a, b| a.0 == b.0) {
        if run.len() > 1 {
            runs.push(run);
        }
    }
    if runs.is_empty() {
        return Ok(or_empty(schema, batches.to_vec()));
    }
    // The keys of those rows only.
    let mut wanted: Vec<Vec<u32>> = vec![Vec::new(); batches.len()];
    for run in &runs {
        for &(_, b, i) in *run {
            wanted[b as usize].push(i);
        }
    }
    let mut key_of: HashMap<(u32, u32), K> = HashMap::new();
    for (bi, rows) in wanted.iter().enumerate() {
        if rows.is_empty() {
            continue;
        }
        let mut ks: Vec<Option<K>> = keys(&batches[bi])?.into_iter().map(Some).collect();
        for &i in rows {
            if let Some(k) = ks.get_mut(i as usize).and_then(Option::take) {
                key_of.insert((bi as u32, i), k);
            }
        }
    }
    let mut dropped: Vec<Vec<u32>> = vec![Vec::new(); batches.len()];
    for run in runs {
        for (n, &(_, b, i)) in run.iter().enumerate() {
            let k = key_of.get(&(b, i));
            let later = run[n + 1..]
                .iter()
                .any(|&(_, b2, i2)| k.is_some() && key_of.get(&(b2, i2)) == k);
            if later {
                dropped[b as usize].push(i);
            }
        }
    }
    let mut out = Vec::with_capacity(batches.len());
    for (b, mut d) in batches.iter().zip(dropped) {
        if d.is_empty() {
            out.push(b.clone());
            continue;
        }
        d.sort_unstable();
        let keep: Vec<u32> = (0..b.num_rows() as u32)
            .filter(|i| d.binary_search(i).is_err())
            .collect();
        if !keep.is_empty() {
            out.push(take_record_batch(b, &UInt32Array::from(keep))?);
        }
    }
    Ok(or_empty(schema, out))
}

/// `footprints` rows (all stored columns or some) with their `is_latest` flags (see
/// [`Tables::latest_flags`]) as the view's last column.
pub fn with_is_latest(batch: &RecordBatch, latest: ArrayRef) -> Result<RecordBatch> {
    let mut fields = batch.schema().fields().to_vec();
    fields.push(Arc::new(Field::new("is_latest", DataType::Boolean, false)));
    let mut columns = batch.columns().to_vec();
    columns.push(latest);
    Ok(RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns,
    )?)
}

/// A footprint's version as the latest flags compare it: a missing one is older than any.
pub(crate) fn version_or_oldest(versions: &Int32Array, i: usize) -> i32 {
    if versions.is_null(i) {
        -1
    } else {
        versions.value(i)
    }
}

/// Which ids are superseded: a flag per number of `ids`, set where a footprint names the id in
/// `precedingPfIds` (`named`).
pub(crate) fn superseded(ids: &Interner, named: &[&str]) -> Vec<bool> {
    let mut superseded = vec![false; ids.len()];
    ids.get_many(
        named.len(),
        |k| named[k],
        |_, n| {
            if let Some(n) = n {
                superseded[n as usize] = true;
            }
        },
    );
    superseded
}

/// The `is_latest` flag of every row (see [`Tables::latest_flags`]), from each row's id
/// number (`number`, row after row), the ids' [`superseded`] flags and each row's
/// [`version_or_oldest`]: a row is the latest when no row of its id has a newer version and
/// no footprint names its id as preceding.
pub(crate) fn latest_by_number(
    number: &[u32],
    superseded: &[bool],
    version: impl Fn(usize) -> i32,
) -> BooleanBuffer {
    let mut newest = vec![i32::MIN; superseded.len()];
    for (row, &n) in number.iter().enumerate() {
        let e = &mut newest[n as usize];
        *e = (*e).max(version(row));
    }
    BooleanBuffer::collect_bool(number.len(), |row| {
        let n = number[row] as usize;
        newest[n] == version(row) && !superseded[n]
    })
}

impl Tables {
    /// Whether footprint row `(batch, row)` is the latest version, for every row: true unless
    /// a newer version of the same id exists, or another footprint names this one in
    /// `precedingPfIds` (PACT v3 gives each version a new id).
    ///
    /// Each id is numbered once, a run of rows at a time (a table of strings looked up one
    /// row at a time was a cache miss per row, twice: a fifth of a second at a million
    /// footprints, on the graph index's critical path); the newest version and whether it is
    /// superseded are then kept by number.
    pub fn latest_flags(&self) -> Result<Vec<BooleanArray>> {
        let rows: usize = self.footprints.iter().map(RecordBatch::num_rows).sum();
        let mut ids = super::graph_index::Interner::with_capacity(rows);
        let mut id_bytes = 0;
        for b in &self.footprints {
            id_bytes += column::<StringArray>(b, "id")?.value_data().len();
        }
        ids.reserve_text(id_bytes);
        // Each row's id number and version, row after row across the batches.
        let mut number: Vec<u32> = Vec::with_capacity(rows);
        let mut versions: Vec<i32> = Vec::with_capacity(rows);
        let mut named: Vec<&str> = Vec::new();
        for b in &self.footprints {
            let id = column::<StringArray>(b, "id")?;
            ids.id_each(b.num_rows(), |i| id.value(i), |n| number.push(n));
            let v = column::<Int32Array>(b, "version")?;
            versions.extend((0..v.len()).map(|i| version_or_oldest(v, i)));
            named.extend(super::list_texts(b, "preceding_pf_ids")?);
        }
        let latest = latest_by_number(&number, &superseded(&ids, &named), |row| versions[row]);
        let mut row = 0;
        Ok(self
            .footprints
            .iter()
            .map(|b| {
                let flags = BooleanArray::new(latest.slice(row, b.num_rows()), None);
                row += b.num_rows();
                flags
            })
            .collect())
    }

    /// `footprints` as queried: every stored version plus `is_latest` (see
    /// [`Tables::latest_flags`]), batch by batch. Batches holding only some stored columns
    /// (read with projection) get `is_latest` all the same.
    pub fn footprints_view(&self) -> Result<Vec<RecordBatch>> {
        let flags = self.latest_flags()?;
        let batches = self
            .footprints
            .iter()
            .zip(flags)
            .map(|(b, latest)| with_is_latest(b, Arc::new(latest)))
            .collect::<Result<Vec<_>>>()?;
        Ok(or_empty(&footprints_schema(), batches))
    }

    /// `bom` as queried: the current edges. A CSV edge is replaced by a later CSV row for the
    /// same parent and child; extension edges belong to the footprint that declares them.
    /// Earlier edges stay in the data directory.
    pub fn bom_view(&self) -> Result<Vec<RecordBatch>> {
        keep_last(&self.bom, &bom_schema(), |b| {
            let parents = column::<StringArray>(b, "parent_product_id")?;
            let children = column::<StringArray>(b, "child_product_id")?;
            let footprints = column::<StringArray>(b, "parent_footprint_id")?;
            Ok((0..b.num_rows())
                .map(|i| {
                    let fp = (!footprints.is_null(i)).then(|| footprints.value(i));
                    (parents.value(i), children.value(i), fp)
                })
                .collect())
        })
    }

    /// `bom_history`: every stored edge.
    pub fn bom_history_view(&self) -> Vec<RecordBatch> {
        or_empty(&bom_schema(), self.bom.clone())
    }

    /// `footprint_extensions`, batch by batch.
    pub fn extensions_view(&self) -> Vec<RecordBatch> {
        or_empty(&extensions_schema(), self.footprint_extensions.clone())
    }

    /// `gx_attributes` as queried: the last row stored for each product.
    pub fn gx_view(&self) -> Result<Vec<RecordBatch>> {
        keep_last(&self.gx_attributes, &gx_schema(), |b| {
            let products = column::<StringArray>(b, "product_id")?;
            Ok((0..b.num_rows()).map(|i| products.value(i)).collect())
        })
    }

    /// `ingest_log`, batch by batch.
    pub fn ingest_log_view(&self) -> Vec<RecordBatch> {
        or_empty(&ingest_log_schema(), self.ingest_log.clone())
    }

    /// `pact_requests`, in the order sent.
    pub fn requests_view(&self) -> Vec<RecordBatch> {
        or_empty(&super::requests_schema(), self.requests.clone())
    }

    /// Adds the batches of `other` after these.
    pub fn append(&mut self, other: Tables) {
        self.footprints.extend(other.footprints);
        self.footprint_extensions.extend(other.footprint_extensions);
        self.bom.extend(other.bom);
        self.ingest_log.extend(other.ingest_log);
        self.gx_attributes.extend(other.gx_attributes);
        self.originals.0.extend(other.originals.0);
        self.requests.extend(other.requests);
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::ArrayRef;

    use super::*;

    #[test]
    fn a_row_is_latest_with_its_ids_newest_version_unless_the_id_is_named_as_preceding() {
        // Rows of ids 0, 1, 0, 2, 2 at versions 1, 1, 2, none, none; id 1 is named as
        // preceding. Id 0's newest is 2 (row 2, not row 0); id 1's row is superseded; id 2's
        // two rows have no version, a tie for the newest: both are latest.
        let number = [0, 1, 0, 2, 2];
        let versions = [1, 1, 2, -1, -1];
        let latest = latest_by_number(&number, &[false, true, false], |row| versions[row]);
        let flags: Vec<bool> = latest.iter().collect();
        assert_eq!(flags, [false, false, true, true, true]);
    }

    #[test]
    fn keep_last_keeps_the_last_row_of_each_key_and_leaves_clean_batches_alone() {
        let schema = Arc::new(Schema::new(vec![Field::new("k", DataType::Utf8, false)]));
        let batch = |keys: &[&str]| {
            RecordBatch::try_new(
                schema.clone(),
                vec![Arc::new(StringArray::from(keys.to_vec())) as ArrayRef],
            )
            .expect("batch")
        };
        let keys = |b: &RecordBatch| -> Result<Vec<String>> {
            let c = column::<StringArray>(b, "k")?;
            Ok(c.iter().flatten().map(str::to_owned).collect())
        };
        let kept = |batches: &[RecordBatch]| -> Vec<Vec<String>> {
            keep_last(batches, &schema, keys)
                .expect("keep")
                .iter()
                .map(|b| keys(b).expect("keys"))
                .collect()
        };
        // "a" twice in the first batch and again in the second; "c" only in the second
        // batch, twice; "b" and "d" once.
        let batches = [batch(&["a", "b", "a"]), batch(&["c", "a", "d", "c"])];
        assert_eq!(kept(&batches), [vec!["b"], vec!["a", "d", "c"]]);
        // Nothing superseded: the same batches, untouched.
        let clean = [batch(&["x", "y"]), batch(&["z"])];
        assert_eq!(
            keep_last(&clean, &schema, keys).expect("keep"),
            clean.to_vec()
        );
    }
}
