//! `bom`, `ingest_log` and `gx_attributes`: schemas and batches, and the current GX
//! attributes of each product.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use chrono::{DateTime, Utc};
use datafusion::arrow::array::{
    Array, ArrayRef, BooleanArray, Decimal128Array, Int64Array, RecordBatch, StringArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use super::footprints::{decimals, strings, timestamps, ts_type};
use super::{Tables, column, decimal_type, i128_to_decimal};
use crate::Result;
use crate::model::{BomEdge, BomSource};

/// Schema of `bom`: one row per edge.
pub fn bom_schema() -> SchemaRef {
    static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            Field::new("parent_product_id", DataType::Utf8, false),
            Field::new("child_product_id", DataType::Utf8, false),
            Field::new("amount", decimal_type(), false),
            Field::new("unit", DataType::Utf8, true),
            Field::new("parent_footprint_id", DataType::Utf8, true),
            Field::new("source_kind", DataType::Utf8, false),
            Field::new("source", DataType::Utf8, false),
            Field::new("line", DataType::Int64, true),
            Field::new("ingest_seq", DataType::Int64, false),
        ]))
    });
    SCHEMA.clone()
}

/// Builds a `bom` batch.
pub fn bom_batch(edges: &[BomEdge], seq: i64) -> Result<RecordBatch> {
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            edges.iter().map(|e| e.parent_product_id.as_str()),
        )),
        Arc::new(StringArray::from_iter_values(
            edges.iter().map(|e| e.child_product_id.as_str()),
        )),
        decimals(edges.iter().map(|e| Some(e.amount)))?,
        Arc::new(StringArray::from_iter(
            edges.iter().map(|e| e.unit.map(|u| u.as_str())),
        )),
        Arc::new(StringArray::from_iter(edges.iter().map(
            |e| match &e.source {
                BomSource::Extension { footprint_id } => Some(footprint_id.as_str()),
                BomSource::Csv { .. } => None,
            },
        ))),
        Arc::new(StringArray::from_iter_values(edges.iter().map(
            |e| match e.source {
                BomSource::Csv { .. } => "csv",
                BomSource::Extension { .. } => "extension",
            },
        ))),
        Arc::new(StringArray::from_iter_values(edges.iter().map(
            |e| match &e.source {
                BomSource::Csv { file, .. } => file.as_ref(),
                BomSource::Extension { footprint_id } => footprint_id.as_str(),
            },
        ))),
        Arc::new(Int64Array::from_iter(edges.iter().map(
            |e| match e.source {
                BomSource::Csv { line, .. } => Some(line as i64),
                BomSource::Extension { .. } => None,
            },
        ))),
        Arc::new(Int64Array::from(vec![seq; edges.len()])),
    ];
    Ok(RecordBatch::try_new(bom_schema(), columns)?)
}

/// One row of `ingest_log`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRow {
    /// File or upload the document came from (shared by its rows).
    pub source: Arc<str>,
    /// 0-based position of the document in its source.
    pub index: usize,
    /// 1-based line.
    pub line: usize,
    /// `accepted`, `duplicate`, `rejected` or `warning`.
    pub status: &'static str,
    /// `footprint` or `bom_edge`.
    pub kind: &'static str,
    /// The footprint concerned, when known.
    pub footprint_id: Option<String>,
    /// JSON pointer (or CSV column) of the problem.
    pub pointer: Option<String>,
    /// Message.
    pub message: Option<String>,
}

/// Schema of `ingest_log`: what each ingest accepted, skipped as duplicate, rejected or warned about.
pub fn ingest_log_schema() -> SchemaRef {
    static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            Field::new("ingest_seq", DataType::Int64, false),
            Field::new("ingested_at", ts_type(), false),
            Field::new("source", DataType::Utf8, false),
            Field::new("document_index", DataType::Int64, false),
            Field::new("line", DataType::Int64, false),
            Field::new("status", DataType::Utf8, false),
            Field::new("kind", DataType::Utf8, false),
            Field::new("footprint_id", DataType::Utf8, true),
            Field::new("pointer", DataType::Utf8, true),
            Field::new("message", DataType::Utf8, true),
        ]))
    });
    SCHEMA.clone()
}

/// Builds an `ingest_log` batch.
pub fn ingest_log_batch(rows: &[LogRow], seq: i64, at: DateTime<Utc>) -> Result<RecordBatch> {
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(vec![seq; rows.len()])),
        timestamps(rows.iter().map(|_| Some(at))),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| r.source.as_ref()),
        )),
        Arc::new(Int64Array::from_iter_values(
            rows.iter().map(|r| r.index as i64),
        )),
        Arc::new(Int64Array::from_iter_values(
            rows.iter().map(|r| r.line as i64),
        )),
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.status))),
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.kind))),
        Arc::new(StringArray::from_iter(
            rows.iter().map(|r| r.footprint_id.as_deref()),
        )),
        Arc::new(StringArray::from_iter(
            rows.iter().map(|r| r.pointer.as_deref()),
        )),
        Arc::new(StringArray::from_iter(
            rows.iter().map(|r| r.message.as_deref()),
        )),
    ];
    Ok(RecordBatch::try_new(ingest_log_schema(), columns)?)
}

/// GX attributes with where they came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GxRecord {
    /// The attributes.
    pub attributes: crate::model::GxAttributes,
    /// `csv` or `extension`.
    pub source_kind: &'static str,
    /// File name, or the id of the footprint carrying the extension.
    pub source: String,
    /// The footprint carrying the extension.
    pub footprint_id: Option<String>,
    /// CSV line.
    pub line: Option<usize>,
}

/// Schema of `gx_attributes`: one row per product and ingest.
pub fn gx_schema() -> SchemaRef {
    static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            Field::new("product_id", DataType::Utf8, false),
            Field::new("gx_declaration", DataType::Boolean, true),
            Field::new("progress_disclosed", DataType::Boolean, true),
            Field::new("publicly_disclosed", DataType::Boolean, true),
            Field::new("certified", DataType::Boolean, true),
            Field::new("circular_inflow_pct", decimal_type(), true),
            Field::new("circular_outflow_pct", decimal_type(), true),
            Field::new("aep_kgco2e_per_unit", decimal_type(), true),
            Field::new("additionality", DataType::Boolean, true),
            Field::new("national_target_contribution", DataType::Boolean, true),
            Field::new("support_measures", DataType::Boolean, true),
            Field::new("source_kind", DataType::Utf8, false),
            Field::new("source", DataType::Utf8, false),
            Field::new("footprint_id", DataType::Utf8, true),
            Field::new("line", DataType::Int64, true),
            Field::new("ingest_seq", DataType::Int64, false),
        ]))
    });
    SCHEMA.clone()
}

/// Builds a `gx_attributes` batch.
pub fn gx_batch(rows: &[GxRecord], seq: i64) -> Result<RecordBatch> {
    let a = |f: fn(&crate::model::GxAttributes) -> Option<bool>| -> ArrayRef {
        Arc::new(BooleanArray::from_iter(
            rows.iter().map(|r| f(&r.attributes)),
        ))
    };
    let columns: Vec<ArrayRef> = vec![
        strings(rows.iter().map(|r| Some(r.attributes.product_id.as_str()))),
        a(|x| x.gx_declaration),
        a(|x| x.progress_disclosed),
        a(|x| x.publicly_disclosed),
        a(|x| x.certified),
        decimals(rows.iter().map(|r| r.attributes.circular_inflow_pct))?,
        decimals(rows.iter().map(|r| r.attributes.circular_outflow_pct))?,
        decimals(rows.iter().map(|r| r.attributes.aep_kgco2e_per_unit))?,
        a(|x| x.additionality),
        a(|x| x.national_target_contribution),
        a(|x| x.support_measures),
        strings(rows.iter().map(|r| Some(r.source_kind))),
        strings(rows.iter().map(|r| Some(r.source.as_str()))),
        strings(rows.iter().map(|r| r.footprint_id.as_deref())),
        Arc::new(Int64Array::from_iter(
            rows.iter().map(|r| r.line.map(|l| l as i64)),
        )),
        Arc::new(Int64Array::from(vec![seq; rows.len()])),
    ];
    Ok(RecordBatch::try_new(gx_schema(), columns)?)
}

/// The current GX attributes per product: the last row stored for it.
pub fn current_gx_attributes(t: &Tables) -> Result<HashMap<String, crate::model::GxAttributes>> {
    let mut out = HashMap::new();
    for b in &t.gx_attributes {
        let bools: Vec<&BooleanArray> = [
            "gx_declaration",
            "progress_disclosed",
            "publicly_disclosed",
            "certified",
            "additionality",
            "national_target_contribution",
            "support_measures",
        ]
        .iter()
        .map(|n| column::<BooleanArray>(b, n))
        .collect::<Result<_>>()?;
        let decs: Vec<&Decimal128Array> = [
            "circular_inflow_pct",
            "circular_outflow_pct",
            "aep_kgco2e_per_unit",
        ]
        .iter()
        .map(|n| column::<Decimal128Array>(b, n))
        .collect::<Result<_>>()?;
        let products = column::<StringArray>(b, "product_id")?;
        for i in 0..b.num_rows() {
            let flag = |a: &BooleanArray| (!a.is_null(i)).then(|| a.value(i));
            let dec = |a: &Decimal128Array| {
                (!a.is_null(i)).then(|| i128_to_decimal(a.value(i), a.scale()).normalize())
            };
            out.insert(
                products.value(i).to_owned(),
                crate::model::GxAttributes {
                    product_id: products.value(i).to_owned(),
                    gx_declaration: flag(bools[0]),
                    progress_disclosed: flag(bools[1]),
                    publicly_disclosed: flag(bools[2]),
                    certified: flag(bools[3]),
                    circular_inflow_pct: dec(decs[0]),
                    circular_outflow_pct: dec(decs[1]),
                    aep_kgco2e_per_unit: dec(decs[2]),
                    additionality: flag(bools[4]),
                    national_target_contribution: flag(bools[5]),
                    support_measures: flag(bools[6]),
                },
            );
        }
    }
    Ok(out)
}
