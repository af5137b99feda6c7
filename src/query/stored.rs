//! Stored tables read when a plan scans them, and only the columns it asks for (projection
//! pushdown): the one-row summary of a million footprints reads the nine columns it counts,
//! not all 112 of the table. `is_latest`, and which BOM rows are current, come from the graph
//! index, which keeps a flag per stored row; without one, from the columns they are made from,
//! read for every row.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{BooleanArray, RecordBatch, RecordBatchOptions};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::TableProvider;
use datafusion::datasource::{MemTable, TableType};
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;

use crate::store::{Snapshot, Table};
use crate::table::{Tables, bom_schema, footprints_schema, with_is_latest};
use crate::{Error, Result};

/// Which view of the stored tables a [`StoredTable`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum View {
    /// `footprints`: every stored version, with `is_latest`.
    Footprints,
    /// `bom`: the current edges.
    Bom,
    /// `bom_history`: every stored edge.
    BomHistory,
}

impl View {
    /// The view's schema: what the session registers, whatever a scan reads.
    fn schema(self) -> SchemaRef {
        match self {
            View::Footprints => footprints_schema(),
            View::Bom | View::BomHistory => bom_schema(),
        }
    }

    /// The stored columns the view needs to give `names`: the view's own columns made from
    /// stored ones (`is_latest`; the current edges' keys) bring theirs, and a scan of no
    /// column (`count(*)`) reads one small column for the row count.
    fn stored_columns<'a>(self, names: &[&'a str]) -> Vec<&'a str> {
        let mut stored = stored_only(names);
        let made_from: &[&'static str] = match self {
            View::Footprints if names.contains(&"is_latest") => {
                &["id", "version", "preceding_pf_ids"]
            }
            View::Bom => &[
                "parent_product_id",
                "child_product_id",
                "parent_footprint_id",
            ],
            View::Footprints | View::BomHistory => &[],
        };
        for n in made_from {
            if !stored.contains(n) {
                stored.push(n);
            }
        }
        if stored.is_empty() {
            stored.push("ingest_seq");
        }
        stored
    }
}

/// The stored columns among `names` (not `is_latest`, which the view adds).
fn stored_only<'a>(names: &[&'a str]) -> Vec<&'a str> {
    names
        .iter()
        .copied()
        .filter(|n| *n != "is_latest")
        .collect()
}

/// A stored view over a data directory's snapshot, read at scan time.
#[derive(Debug)]
pub(super) struct StoredTable {
    view: View,
    snapshot: Arc<Snapshot>,
}

impl StoredTable {
    pub(super) fn new(view: View, snapshot: Arc<Snapshot>) -> StoredTable {
        StoredTable { view, snapshot }
    }

    /// The view's batches holding the columns at `projection` (every column: `None`), in
    /// that order; the first `limit` rows only, when given (any rows would do: the plan asks
    /// for no order). The current edges are a choice among all rows, so `bom` reads them all.
    fn read(
        &self,
        projection: Option<&Vec<usize>>,
        limit: Option<usize>,
    ) -> Result<(SchemaRef, Vec<RecordBatch>)> {
        let full = self.view.schema();
        let schema = match projection {
            Some(p) => Arc::new(full.project(p)?),
            None => full.clone(),
        };
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        let table = match self.view {
            View::Footprints => Table::Footprints,
            View::Bom | View::BomHistory => Table::Bom,
        };
        let rows = limit.filter(|_| self.view != View::Bom);
        let latest = self.view == View::Footprints && names.contains(&"is_latest");
        // What the graph index keeps of the view, when it does: `is_latest` of every stored
        // footprint, or which stored BOM rows are current.
        let kept = match self.view {
            View::Footprints if latest => self.snapshot.latest_flags(),
            View::Bom => self.snapshot.bom_current(),
            View::Footprints | View::BomHistory => None,
        };
        // `is_latest` is added after the read: from the index, or (with a limit) by
        // `with_latest`, which reads what it is made from for every row.
        let own = match (&kept, rows) {
            (None, None) => names.clone(),
            _ => stored_only(&names),
        };
        let columns = match (&kept, own.is_empty()) {
            (Some(_), true) => vec!["ingest_seq"],
            (Some(_), false) => own,
            (None, _) => self.view.stored_columns(&own),
        };
        let stored = self.snapshot.read_columns(table, &columns, rows)?;
        let batches = match (self.view, kept) {
            (View::Footprints, Some(flags)) => with_flags(stored, &flags, rows.is_none())?,
            (View::Footprints, None) if latest && rows.is_some() => self.with_latest(stored)?,
            (View::Footprints, None) if latest => Tables {
                footprints: stored,
                ..Tables::default()
            }
            .footprints_view()?,
            (View::Bom, Some(current)) => current_rows(stored, &current)?,
            (View::Bom, None) => Tables {
                bom: stored,
                ..Tables::default()
            }
            .bom_view()?,
            (View::Footprints | View::BomHistory, _) => stored,
        };
        let batches = batches
            .iter()
            .map(|b| project(b, &schema))
            .collect::<Result<_>>()?;
        Ok((schema, batches))
    }

    /// The first rows of `footprints` in `first` with their `is_latest`, which compares every
    /// stored version: the three columns it is made from are read for every row, the others
    /// only for the rows asked for.
    fn with_latest(&self, first: Vec<RecordBatch>) -> Result<Vec<RecordBatch>> {
        use datafusion::arrow::array::Array;
        let keys = ["id", "version", "preceding_pf_ids"];
        let every = self.snapshot.read_columns(Table::Footprints, &keys, None)?;
        let flags = Tables {
            footprints: every,
            ..Tables::default()
        }
        .latest_flags()?;
        let flags: Vec<&dyn Array> = flags.iter().map(|a| a as &dyn Array).collect();
        let flags = datafusion::arrow::compute::concat(&flags)?;
        let flags = flags
            .as_any()
            .downcast_ref::<BooleanArray>()
            .ok_or_else(|| Error::Internal("is_latest is not a column of booleans".into()))?;
        with_flags(first, flags, false)
    }
}

/// The rows of `batches` (every stored BOM row, in stored order) whose flag in `current` is
/// set.
pub(super) fn current_rows(
    batches: Vec<RecordBatch>,
    current: &BooleanArray,
) -> Result<Vec<RecordBatch>> {
    by_flags("bom", batches, current, true, |b, keep| {
        Ok(datafusion::arrow::compute::filter_record_batch(b, &keep)?)
    })
}

/// `batches` (stored footprints from the first row on, in stored order) each with its rows'
/// `is_latest` from `flags` (a flag per stored row); `whole` when the batches hold every row.
pub(super) fn with_flags(
    batches: Vec<RecordBatch>,
    flags: &BooleanArray,
    whole: bool,
) -> Result<Vec<RecordBatch>> {
    by_flags("footprints", batches, flags, whole, |b, latest| {
        with_is_latest(b, Arc::new(latest))
    })
}

/// `f` of each of `batches` (stored rows of `table` from the first on, in stored order) and
/// its rows' flags in `flags` (a flag per stored row); `whole` when the batches hold every
/// row. More rows than flags (or fewer, when `whole`) is an error: the flags are another
/// commit's.
fn by_flags(
    table: &str,
    batches: Vec<RecordBatch>,
    flags: &BooleanArray,
    whole: bool,
    f: impl Fn(&RecordBatch, BooleanArray) -> Result<RecordBatch>,
) -> Result<Vec<RecordBatch>> {
    let read: usize = batches.iter().map(RecordBatch::num_rows).sum();
    if read > flags.len() || (whole && read != flags.len()) {
        return Err(Error::Internal(format!(
            "{table}: {read} rows read, {} stored",
            flags.len()
        )));
    }
    let mut at = 0;
    batches
        .iter()
        .map(|b| {
            let rows = b.num_rows();
            at += rows;
            f(b, flags.slice(at - rows, rows))
        })
        .collect()
}

/// The columns of `schema`, by name, from `batch` (which holds them and perhaps more), with
/// its row count (a batch of no column still counts its rows).
fn project(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    let columns = schema
        .fields()
        .iter()
        .map(|f| {
            batch.column_by_name(f.name()).cloned().ok_or_else(|| {
                Error::Internal(format!("a stored view's scan lost column {}", f.name()))
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
    Ok(RecordBatch::try_new_with_options(
        schema.clone(),
        columns,
        &options,
    )?)
}

#[async_trait]
impl TableProvider for StoredTable {
    fn schema(&self) -> SchemaRef {
        self.view.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn datafusion::catalog::Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> datafusion::common::Result<Arc<dyn ExecutionPlan>> {
        let (schema, batches) = self
            .read(projection, limit)
            .map_err(|e| datafusion::error::DataFusionError::External(Box::new(e)))?;
        MemTable::try_new(schema, vec![batches])?
            .scan(state, None, filters, limit)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scan_reads_its_columns_and_what_the_view_makes_from() {
        assert_eq!(
            View::Footprints.stored_columns(&["company_id", "is_latest"]),
            ["company_id", "id", "version", "preceding_pf_ids"]
        );
        assert_eq!(
            View::Footprints.stored_columns(&["id", "company_id"]),
            ["id", "company_id"]
        );
        // `count(*)`: no column, but the rows still count.
        assert_eq!(View::Footprints.stored_columns(&[]), ["ingest_seq"]);
        assert_eq!(View::BomHistory.stored_columns(&["amount"]), ["amount"]);
        assert_eq!(
            View::Bom.stored_columns(&["amount", "child_product_id"]),
            [
                "amount",
                "child_product_id",
                "parent_product_id",
                "parent_footprint_id"
            ]
        );
    }
}
