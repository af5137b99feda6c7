//! The graph's first step: every product a footprint names and every footprint id numbered.
//! Neither numbering needs the other, so the two run on two cores at once (one after the
//! other, they were a fifth of the index's time at a million footprints).

use datafusion::arrow::array::{
    Array, Int32Array, LargeStringArray, ListArray, RecordBatch, StringArray,
};

use super::{Interner, column, downcast};
use crate::Result;

/// Every product id of every footprint, numbered.
pub(super) struct Products {
    /// The numbers, by product id.
    pub(super) urns: Interner,
    /// The numbers of each footprint's product ids, as one flat list …
    pub(super) of_nodes: Vec<u32>,
    /// … where footprint `i`'s start at `from[i]` and end at `from[i + 1]`.
    pub(super) from: Vec<usize>,
}

impl Products {
    /// The product ids of `footprints` (batches with `product_ids`, `n` rows in all), each
    /// numbered in the order they come, a batch at a time.
    pub(super) fn number(footprints: &[RecordBatch], n: usize) -> Result<Products> {
        let mut urns = Interner::with_capacity(n);
        // Room for their text at once: grown by doubling, the interners' copies were 0.7 % of
        // an ingest's CPU samples at a million footprints, besides the pages they faulted in.
        let mut urn_bytes = 0;
        for b in footprints {
            let values = column::<ListArray>(b, "product_ids")?.values().clone();
            urn_bytes += downcast::<StringArray>(&values)?.value_data().len();
        }
        urns.reserve_text(urn_bytes);
        let mut of_nodes: Vec<u32> = Vec::with_capacity(n);
        let mut from: Vec<usize> = Vec::with_capacity(n + 1);
        for b in footprints {
            let lists = column::<ListArray>(b, "product_ids")?;
            let values = downcast::<StringArray>(lists.values())?;
            let offsets = lists.value_offsets();
            // The batch's product ids in order, numbered a run at a time.
            let mut texts = Vec::with_capacity(values.len());
            for r in 0..b.num_rows() {
                from.push(of_nodes.len() + texts.len());
                for j in offsets[r] as usize..offsets[r + 1] as usize {
                    if !values.is_null(j) {
                        texts.push(values.value(j));
                    }
                }
            }
            urns.id_each(texts.len(), |k| texts[k], |u| of_nodes.push(u));
        }
        from.push(of_nodes.len());
        Ok(Products {
            urns,
            of_nodes,
            from,
        })
    }
}

/// Each footprint id numbered (a run of rows at a time): the numbers, the node of each number
/// (the row of its newest version; a later row wins a tie, as stored later) and each row's
/// number.
pub(super) fn number_ids(
    ids: &LargeStringArray,
    versions: &Int32Array,
) -> (Interner, Vec<u32>, Vec<u32>) {
    let n = ids.len();
    let version = |i: usize| (!versions.is_null(i)).then(|| versions.value(i));
    let mut numbers = Interner::with_capacity(n);
    numbers.reserve_text(ids.value_data().len());
    let mut by_id: Vec<u32> = Vec::with_capacity(n);
    let mut of_rows: Vec<u32> = Vec::with_capacity(n);
    numbers.id_each(
        n,
        |i| ids.value(i),
        |k| {
            let i = of_rows.len() as u32;
            match by_id.get_mut(k as usize) {
                None => by_id.push(i),
                Some(e) if version(*e as usize) <= version(i as usize) => *e = i,
                Some(_) => {}
            }
            of_rows.push(k);
        },
    );
    (numbers, by_id, of_rows)
}
