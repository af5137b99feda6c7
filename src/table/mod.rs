//! The Arrow tables mieruka works on, their schemas, and the conversion of model values into
//! them: `footprints`, `footprint_extensions`, `bom`, `ingest_log`, `gx_attributes`, and
//! `pact_requests` (the requests a data directory sent, from its `requests.json`).
//!
//! Column names carry units (`_kgco2e_per_unit`, `_kg`, `_pct`). Every amount is
//! `Decimal128(38, 12)`, so sums over the demo data are exact. One file per concern:
//!
//! - `footprints`: the footprint column list, schemas, and records into size-bounded batches;
//! - `rows`: the other tables' schemas and batches;
//! - `views`: what queries see (which version is the latest, which BOM edge is current);
//! - `scope`: the rows a supplier's token may see;
//! - `requests`: the requests sent, as kept and as a table;
//! - `documents`: a document's bytes, read from the kept original only when asked for;
//! - [`graph_index`]: the hotspot graph index the store writes at each commit.
//!
//! The only I/O is reading a document from a kept original file ([`Tables::document`]);
//! `store` does everything else with files.

use std::sync::Arc;

use datafusion::arrow::array::{Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use rust_decimal::Decimal;

mod documents;
mod footprints;
pub mod graph_index;
mod requests;
mod rows;
mod scope;
mod views;
pub use views::with_is_latest;

pub use documents::*;
pub use footprints::*;
pub use requests::*;
pub use rows::*;

use crate::{Error, Result};

/// Decimal places kept for every amount (the scale of the Arrow Decimal128 columns):
/// 1e-12 kgCO2e per declared unit. Ingest rounds more digits half-to-even; the original
/// document, kept by the store, still has them.
pub const DECIMAL_SCALE: u32 = 12;

/// Precision of every decimal column.
pub const DECIMAL_PRECISION: u8 = 38;

/// The Arrow type of every amount column.
pub fn decimal_type() -> DataType {
    DataType::Decimal128(DECIMAL_PRECISION, DECIMAL_SCALE as i8)
}

/// Converts a decimal to the `i128` of a `Decimal128(38, 12)` column. Ingest keeps every
/// amount at most 12 places and below 10^16, so this is exact.
pub fn decimal_to_i128(d: Decimal) -> i128 {
    let d = if d.scale() > DECIMAL_SCALE {
        d.round_dp(DECIMAL_SCALE)
    } else {
        d
    };
    // 10^0 … 10^DECIMAL_SCALE (a load, where `pow` multiplied in a loop: this runs for
    // every amount of every footprint ingested).
    const POWERS: [i128; DECIMAL_SCALE as usize + 1] = {
        let mut p = [1; DECIMAL_SCALE as usize + 1];
        let mut i = 1;
        while i < p.len() {
            p[i] = p[i - 1] * 10;
            i += 1;
        }
        p
    };
    // The scale is at most DECIMAL_SCALE by now.
    d.mantissa() * POWERS[(DECIMAL_SCALE - d.scale()) as usize]
}

/// Converts a stored `Decimal128(_, scale)` value back to a decimal. Stored amounts stay
/// below 10^16 at 12 places, which `rust_decimal` holds exactly; a value beyond its 96 bits
/// (only computed values can be: use `model::fixed` for those) saturates instead of
/// panicking.
pub fn i128_to_decimal(v: i128, scale: i8) -> Decimal {
    Decimal::try_from_i128_with_scale(v, scale.clamp(0, 28) as u32).unwrap_or(if v < 0 {
        Decimal::MIN
    } else {
        Decimal::MAX
    })
}

/// Which stored tables to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableSet {
    /// `footprints` (and the views over it).
    pub footprints: bool,
    /// `footprint_extensions`.
    pub extensions: bool,
    /// `bom` and `bom_history`.
    pub bom: bool,
    /// `ingest_log`.
    pub ingest_log: bool,
    /// `gx_attributes`.
    pub gx_attributes: bool,
    /// `pact_requests` (from `requests.json`).
    pub requests: bool,
}

impl TableSet {
    /// Every table.
    pub const ALL: TableSet = TableSet {
        footprints: true,
        extensions: true,
        bom: true,
        ingest_log: true,
        gx_attributes: true,
        requests: true,
    };

    /// No table.
    pub const NONE: TableSet = TableSet {
        footprints: false,
        extensions: false,
        bom: false,
        ingest_log: false,
        gx_attributes: false,
        requests: false,
    };

    /// The tables of either set.
    pub const fn union(self, other: TableSet) -> TableSet {
        TableSet {
            footprints: self.footprints || other.footprints,
            extensions: self.extensions || other.extensions,
            bom: self.bom || other.bom,
            ingest_log: self.ingest_log || other.ingest_log,
            gx_attributes: self.gx_attributes || other.gx_attributes,
            requests: self.requests || other.requests,
        }
    }

    /// Adds the table a query names `name` (a registered table or view); `false` for a name
    /// that is not one.
    pub fn add(&mut self, name: &str) -> bool {
        match name {
            "footprints" | "footprints_latest" => self.footprints = true,
            "footprint_extensions" => self.extensions = true,
            "bom" | "bom_history" => self.bom = true,
            "ingest_log" => self.ingest_log = true,
            "gx_attributes" => self.gx_attributes = true,
            "pact_requests" => self.requests = true,
            _ => return false,
        }
        true
    }
}

/// The stored rows of every table, as read from a data directory or built in memory.
///
/// Tables are kept as the batches they were stored in and never concatenated: one batch stays
/// below [`BATCH_STRING_BYTES`] per column, so no `Utf8` array can pass Arrow's 2 GiB offsets.
#[derive(Debug, Clone, Default)]
pub struct Tables {
    /// `footprints` batches (stored schema).
    pub footprints: Vec<RecordBatch>,
    /// `footprint_extensions` batches.
    pub footprint_extensions: Vec<RecordBatch>,
    /// `bom` batches, every edge ever stored.
    pub bom: Vec<RecordBatch>,
    /// `ingest_log` batches.
    pub ingest_log: Vec<RecordBatch>,
    /// `gx_attributes` batches, every row ever stored.
    pub gx_attributes: Vec<RecordBatch>,
    /// The documents as received, which `footprints` points into.
    pub originals: Originals,
    /// `pact_requests` batches: the requests sent from the data directory.
    pub requests: Vec<RecordBatch>,
    /// The committed segments these tables hold whole, when read from a data directory by
    /// `Store::load` (and left as read): a later read shares their batches
    /// (`Store::load_after`). Empty otherwise.
    pub segments: Segments,
}

/// The committed segments of a data directory that a [`Tables`] holds whole: the directory,
/// and each segment as the store names it (its number, place and commit time, kept from its
/// commit on). A segment never changes once committed, so a later read of the directory
/// shares their batches and reads only newer segments. Empty for tables read in part or built
/// in memory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Segments {
    pub(crate) dir: std::path::PathBuf,
    pub(crate) list: Vec<String>,
}

fn column<'a, T: 'static>(batch: &'a RecordBatch, name: &str) -> Result<&'a T> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .ok_or_else(|| Error::Internal(format!("column {name} missing or of the wrong type")))
}

/// The texts of the string-list column `name` of `batch`, every row's in order, its null
/// items left out: read straight from the lists' values (a list taken a row at a time is an
/// array of its own, an allocation a row), within the batch's own offsets.
pub(crate) fn list_texts<'a>(batch: &'a RecordBatch, name: &str) -> Result<Vec<&'a str>> {
    use datafusion::arrow::array::{ListArray, StringArray};
    let lists = column::<ListArray>(batch, name)?;
    let values = lists
        .values()
        .as_any()
        .downcast_ref::<StringArray>()
        .ok_or_else(|| Error::Internal(format!("{name} is not a string list")))?;
    let offsets = lists.value_offsets();
    let (from, to) = (offsets[0] as usize, offsets[lists.len()] as usize);
    Ok((from..to)
        .filter(|&j| !values.is_null(j))
        .map(|j| values.value(j))
        .collect())
}

/// The batches, or one empty batch of `schema` when there are none (a table is never
/// registered without a batch).
fn or_empty(schema: &SchemaRef, batches: Vec<RecordBatch>) -> Vec<RecordBatch> {
    if batches.is_empty() {
        vec![RecordBatch::new_empty(schema.clone())]
    } else {
        batches
    }
}

/// The columns `names` of `batches` as one batch: for code that indexes rows across a whole
/// table. Only the named columns are joined, so the documents' large fields never are.
pub fn concat_columns(batches: &[RecordBatch], names: &[&str]) -> Result<RecordBatch> {
    let first = batches
        .first()
        .ok_or_else(|| Error::Internal("no batch to join".into()))?;
    let indices = names
        .iter()
        .map(|n| first.schema().index_of(n))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let projected = batches
        .iter()
        .map(|b| b.project(&indices))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let schema = first.schema().project(&indices)?;
    Ok(datafusion::arrow::compute::concat_batches(
        &Arc::new(schema),
        &projected,
    )?)
}

/// Whether two schemas have the same column names and types, in order (what reading a stored
/// table back requires; nullability and metadata may differ).
pub fn same_columns(a: &SchemaRef, b: &SchemaRef) -> bool {
    a.fields().len() == b.fields().len()
        && a.fields()
            .iter()
            .zip(b.fields())
            .all(|(a, b)| a.name() == b.name() && a.data_type() == b.data_type())
}
