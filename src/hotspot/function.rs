//! The native engine as DataFusion table functions:
//! `hotspot_items(product, max_tier, min_share_pct, basis, as_of)`,
//! `hotspot_findings(…)` and `hotspot_quality(…)`, all taking the same arguments, so the
//! aggregations in `queries/hotspot/` are plain SQL over the native decomposition.

use std::sync::Arc;

use super::{Basis, Decomposition, GraphSource, Item, RawItem, Request, VALUE_SCALE};
use crate::table::DECIMAL_PRECISION;
use async_trait::async_trait;
use chrono::NaiveDate;
use datafusion::arrow::array::{
    ArrayRef, Decimal128Array, Float64Array, Int32Array, Int64Array, RecordBatch,
    RecordBatchOptions, StringArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{DataFusionError, ScalarValue, plan_err};
use datafusion::datasource::{MemTable, TableType};
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;

/// Decimal places of item values: the walk's [`VALUE_SCALE`], so items go into the column
/// unchanged and still sum exactly.
pub const ITEM_SCALE: i8 = VALUE_SCALE as i8;

/// The columns of `hotspot_items`.
pub fn items_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("tier", DataType::Int32, false),
        Field::new("footprint_id", DataType::Utf8, false),
        Field::new("product_id", DataType::Utf8, false),
        Field::new("product_name", DataType::Utf8, false),
        Field::new("company_name", DataType::Utf8, false),
        Field::new("company_id", DataType::Utf8, false),
        Field::new("cpc", DataType::Utf8, true),
        Field::new("country_code", DataType::Utf8, true),
        Field::new("kind", DataType::Utf8, false),
        Field::new(
            "kgco2e",
            DataType::Decimal128(DECIMAL_PRECISION, ITEM_SCALE),
            false,
        ),
        Field::new("share_pct", DataType::Float64, false),
        Field::new("root_footprint_id", DataType::Utf8, false),
        Field::new(
            "root_cfp_kgco2e_per_unit",
            DataType::Decimal128(DECIMAL_PRECISION, ITEM_SCALE),
            false,
        ),
    ]))
}

/// The items of a decomposition as a `hotspot_items` batch: all, in order, or `rows` (some
/// of its items), in that order.
pub fn items_batch(d: &Decomposition, rows: Option<&[RawItem]>) -> crate::Result<RecordBatch> {
    items_columns(d, rows, None)
}

/// [`items_batch`] with only the columns at `projection` (indices into [`items_schema`]), in
/// that order; every column when `None`.
fn items_columns(
    d: &Decomposition,
    rows: Option<&[RawItem]>,
    projection: Option<&[usize]>,
) -> crate::Result<RecordBatch> {
    let items: Vec<Item<'_>> = match rows {
        None => d.items.iter().collect(),
        Some(rows) => rows.iter().map(|r| d.items.labelled(r)).collect(),
    };
    let dec = |values: Vec<i128>| -> crate::Result<ArrayRef> {
        Ok(Arc::new(
            Decimal128Array::from(values)
                .with_precision_and_scale(DECIMAL_PRECISION, ITEM_SCALE)?,
        ))
    };
    let text = |get: for<'a> fn(&'a Item<'a>) -> &'a str| -> ArrayRef {
        Arc::new(StringArray::from_iter_values(items.iter().map(get)))
    };
    let column = |i: usize| -> crate::Result<ArrayRef> {
        Ok(match i {
            0 => Arc::new(Int32Array::from_iter_values(
                items.iter().map(|i| i.tier as i32),
            )),
            1 => text(|i| i.footprint_id),
            2 => text(|i| i.product_id),
            3 => text(|i| i.product_name),
            4 => text(|i| i.company_name),
            5 => text(|i| i.company_id),
            6 => Arc::new(StringArray::from_iter(items.iter().map(|i| i.cpc))),
            7 => Arc::new(StringArray::from_iter(items.iter().map(|i| i.country))),
            8 => text(|i| i.kind.as_str()),
            9 => dec(items.iter().map(|i| i.kgco2e).collect())?,
            10 => Arc::new(Float64Array::from_iter_values(
                items.iter().map(|i| i.share_pct),
            )),
            11 => Arc::new(StringArray::from_iter_values(
                items.iter().map(|_| d.product.footprint_id.as_str()),
            )),
            12 => dec(vec![d.cfp_kgco2e_per_unit; items.len()])?,
            _ => {
                return Err(crate::Error::Internal(format!(
                    "hotspot_items has no column {i}"
                )));
            }
        })
    };
    let schema = items_schema();
    let all: Vec<usize> = (0..schema.fields().len()).collect();
    let projection = projection.unwrap_or(&all);
    let columns = projection
        .iter()
        .map(|&i| column(i))
        .collect::<crate::Result<Vec<_>>>()?;
    // A query that reads no column (`count(*)`) still has a row per item.
    let options = RecordBatchOptions::new().with_row_count(Some(items.len()));
    Ok(RecordBatch::try_new_with_options(
        Arc::new(schema.project(projection)?),
        columns,
        &options,
    )?)
}

/// `hotspot_items` of one decomposition: a query's columns are built when it is planned to
/// read them, the others never (a panel grouping 160,000 items by country reads two of the
/// thirteen).
#[derive(Debug)]
pub(crate) struct ItemsTable(Arc<Decomposition>);

impl ItemsTable {
    /// Every column, as [`items_batch`] gives them (for a plan sent elsewhere whole).
    #[cfg_attr(not(feature = "cluster"), allow(dead_code))]
    pub(crate) fn whole(&self) -> crate::Result<RecordBatch> {
        items_batch(&self.0, None)
    }
}

#[async_trait]
impl TableProvider for ItemsTable {
    fn schema(&self) -> SchemaRef {
        items_schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> datafusion::common::Result<Arc<dyn ExecutionPlan>> {
        let batch = items_columns(&self.0, None, projection.map(Vec::as_slice))
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        MemTable::try_new(batch.schema(), vec![vec![batch]])?
            .scan(state, None, filters, limit)
            .await
    }
}

fn findings_batch(d: &Decomposition) -> crate::Result<RecordBatch> {
    let f = &d.findings;
    let schema = Arc::new(Schema::new(vec![
        Field::new("kind", DataType::Utf8, false),
        Field::new("footprint_id", DataType::Utf8, true),
        Field::new("message", DataType::Utf8, false),
        Field::new("footprint_ids", DataType::Utf8, false),
        Field::new("message_ja", DataType::Utf8, false),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(f.iter().map(|x| x.kind))),
        Arc::new(StringArray::from_iter(
            f.iter().map(|x| x.footprint_id.as_deref()),
        )),
        Arc::new(StringArray::from_iter_values(
            f.iter().map(|x| x.message.as_str()),
        )),
        Arc::new(StringArray::from_iter_values(
            f.iter().map(|x| x.footprint_ids.join(" ")),
        )),
        Arc::new(StringArray::from_iter_values(
            f.iter().map(|x| x.message_ja.as_str()),
        )),
    ];
    Ok(RecordBatch::try_new(schema, columns)?)
}

/// How sure, one row for the CFP, one per supplier group and one per tier: the share as
/// reported and its interval (the CFP's: in percent of the reported CFP), with the CFP and
/// its interval in kgCO2e on every row.
fn uncertainty_batch(u: &super::Uncertainty) -> crate::Result<RecordBatch> {
    let float = |name: &str| Field::new(name, DataType::Float64, false);
    let schema = Arc::new(Schema::new(vec![
        Field::new("grouping", DataType::Utf8, false),
        Field::new("name", DataType::Utf8, false),
        Field::new("key", DataType::Utf8, true),
        float("share_pct"),
        float("p2_5_pct"),
        float("p50_pct"),
        float("p97_5_pct"),
        float("p2_5_kgco2e"),
        float("p50_kgco2e"),
        float("p97_5_kgco2e"),
        float("cfp_kgco2e_per_unit"),
        float("cfp_p2_5_kgco2e_per_unit"),
        float("cfp_p50_kgco2e_per_unit"),
        float("cfp_p97_5_kgco2e_per_unit"),
        Field::new("samples", DataType::Int64, false),
    ]));
    // The CFP as a row of its own: 100 % as reported, its interval in percent of that.
    let relative = |v: f64| {
        if u.cfp_kgco2e_per_unit == 0.0 {
            0.0
        } else {
            v / u.cfp_kgco2e_per_unit * 100.0
        }
    };
    let cfp = super::ShareInterval {
        name: "CFP".into(),
        key: None,
        share_pct: 100.0,
        interval_pct: super::Interval {
            p2_5: relative(u.cfp_interval.p2_5),
            p50: relative(u.cfp_interval.p50),
            p97_5: relative(u.cfp_interval.p97_5),
        },
        interval_kgco2e: u.cfp_interval,
    };
    let rows: Vec<(&str, &super::ShareInterval)> = std::iter::once(("cfp", &cfp))
        .chain(u.suppliers.iter().map(|s| ("supplier", s)))
        .chain(u.tiers.iter().map(|t| ("tier", t)))
        .chain(u.footprints.iter().map(|f| ("footprint", f)))
        .collect();
    let n = rows.len();
    let f = |pick: &dyn Fn(&super::ShareInterval) -> f64| -> ArrayRef {
        Arc::new(Float64Array::from_iter_values(
            rows.iter().map(|r| pick(r.1)),
        ))
    };
    let same = |v: f64| -> ArrayRef { Arc::new(Float64Array::from(vec![v; n])) };
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0))),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| r.1.name.as_str()),
        )),
        Arc::new(StringArray::from(
            rows.iter().map(|r| r.1.key.as_deref()).collect::<Vec<_>>(),
        )),
        f(&|s| s.share_pct),
        f(&|s| s.interval_pct.p2_5),
        f(&|s| s.interval_pct.p50),
        f(&|s| s.interval_pct.p97_5),
        f(&|s| s.interval_kgco2e.p2_5),
        f(&|s| s.interval_kgco2e.p50),
        f(&|s| s.interval_kgco2e.p97_5),
        same(u.cfp_kgco2e_per_unit),
        same(u.cfp_interval.p2_5),
        same(u.cfp_interval.p50),
        same(u.cfp_interval.p97_5),
        Arc::new(Int64Array::from(vec![u.samples as i64; n])),
    ];
    Ok(RecordBatch::try_new(schema, columns)?)
}

fn quality_batch(d: &Decomposition) -> crate::Result<RecordBatch> {
    let q = &d.quality;
    let float = |name: &str| Field::new(name, DataType::Float64, true);
    let schema = Arc::new(Schema::new(vec![
        Field::new("root_footprint_id", DataType::Utf8, false),
        Field::new(
            "cfp_kgco2e_per_unit",
            DataType::Decimal128(DECIMAL_PRECISION, ITEM_SCALE),
            false,
        ),
        float("primary_data_coverage_pct"),
        float("weighted_pds_pct"),
        float("weighted_technological_dqr"),
        float("weighted_temporal_dqr"),
        float("weighted_geographical_dqr"),
        float("organization_based_pct"),
        float("untraced_pct"),
        float("unresolved_pct"),
        float("beyond_cutoff_pct"),
        float("mismatch_pct"),
        Field::new("footprints_reached", DataType::Int64, false),
        Field::new("deepest_tier", DataType::Int32, false),
    ]));
    let one = |v: Option<f64>| -> ArrayRef { Arc::new(Float64Array::from(vec![v])) };
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec![d.product.footprint_id.as_str()])),
        Arc::new(
            Decimal128Array::from(vec![d.cfp_kgco2e_per_unit])
                .with_precision_and_scale(DECIMAL_PRECISION, ITEM_SCALE)?,
        ),
        one(Some(q.primary_data_coverage_pct)),
        one(q.weighted_pds_pct),
        one(q.weighted_technological_dqr),
        one(q.weighted_temporal_dqr),
        one(q.weighted_geographical_dqr),
        one(Some(q.organization_based_pct)),
        one(Some(q.untraced_pct)),
        one(Some(q.unresolved_pct)),
        one(Some(q.beyond_cutoff_pct)),
        one(Some(q.mismatch_pct)),
        Arc::new(Int64Array::from(vec![q.footprints_reached as i64])),
        Arc::new(Int32Array::from(vec![q.deepest_tier as i32])),
    ];
    Ok(RecordBatch::try_new(schema, columns)?)
}

/// Which table a [`HotspotItemsFunction`] returns.
#[derive(Debug, Clone, Copy)]
pub enum Output {
    /// `hotspot_items`.
    Items,
    /// `hotspot_findings`.
    Findings,
    /// `hotspot_quality`.
    Quality,
    /// `hotspot_gaps`: the data gaps, largest first ([`super::gaps`]).
    Gaps,
    /// `hotspot_uncertainty(…, samples, seed, top)`: how sure ([`super::uncertainty`]).
    Uncertainty,
}

/// A native decomposition table function over one loaded dataset.
#[derive(Debug)]
pub struct HotspotItemsFunction {
    graph: Arc<GraphSource>,
    output: Output,
}

impl HotspotItemsFunction {
    /// The function returning `output` over the dataset of `graph`.
    pub fn new(graph: Arc<GraphSource>, output: Output) -> HotspotItemsFunction {
        HotspotItemsFunction { graph, output }
    }
}

pub(crate) fn literal(e: &Expr) -> Option<&ScalarValue> {
    match e {
        Expr::Literal(v, _) => Some(v),
        Expr::Cast(c) => literal(&c.expr),
        _ => None,
    }
}

pub(crate) fn arg_text(
    args: &[Expr],
    i: usize,
    name: &str,
) -> datafusion::common::Result<Option<String>> {
    match args.get(i).map(|e| (e, literal(e))) {
        None => Ok(None),
        Some((
            _,
            Some(ScalarValue::Utf8(s) | ScalarValue::Utf8View(s) | ScalarValue::LargeUtf8(s)),
        )) => Ok(s.clone()),
        Some((_, Some(ScalarValue::Null))) => Ok(None),
        Some((e, _)) => plan_err!("{name} must be a text literal, got {e}"),
    }
}

pub(crate) fn arg_f64(
    args: &[Expr],
    i: usize,
    name: &str,
) -> datafusion::common::Result<Option<f64>> {
    match args.get(i).map(|e| (e, literal(e))) {
        None | Some((_, Some(ScalarValue::Null))) => Ok(None),
        Some((_, Some(v))) => match v.cast_to(&DataType::Float64) {
            Ok(ScalarValue::Float64(x)) => Ok(x),
            _ => plan_err!("{name} must be a number, got {v}"),
        },
        Some((e, None)) => plan_err!("{name} must be a number literal, got {e}"),
    }
}

/// Reads `(product, max_tier, min_share_pct, basis, as_of)`.
pub(crate) fn request(args: &[Expr]) -> datafusion::common::Result<Request> {
    let product = arg_text(args, 0, "product")?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            DataFusionError::Plan(
                "hotspot functions take (product, max_tier, min_share_pct, basis, as_of); product is required".into(),
            )
        })?;
    let mut r = Request::new(product);
    if let Some(t) = arg_f64(args, 1, "max_tier")? {
        if t < 0.0 || t.fract() != 0.0 || t > 1000.0 {
            return plan_err!("max_tier must be a whole number from 0 to 1000, got {t}");
        }
        r.max_tier = t as u32;
    }
    if let Some(s) = arg_f64(args, 2, "min_share_pct")? {
        r.min_share_pct = s;
    }
    if let Some(b) = arg_text(args, 3, "basis")? {
        r.basis = Basis::parse(&b).map_err(|e| DataFusionError::Plan(e.to_string()))?;
    }
    if let Some(d) = arg_text(args, 4, "as_of")?.filter(|s| !s.is_empty()) {
        r.as_of = Some(NaiveDate::parse_from_str(&d, "%Y-%m-%d").map_err(|_| {
            DataFusionError::Plan(format!("as_of must be a date like 2024-10-01, got {d:?}"))
        })?);
    }
    Ok(r)
}

impl TableFunctionImpl for HotspotItemsFunction {
    fn call_with_args(
        &self,
        args: TableFunctionArgs,
    ) -> datafusion::common::Result<Arc<dyn TableProvider>> {
        // No product, no items: lets queries join a decomposition only when one is asked for.
        if matches!(
            arg_text(args.exprs(), 0, "product")?.as_deref(),
            None | Some("")
        ) {
            let schema = match self.output {
                Output::Items => items_schema(),
                Output::Findings | Output::Quality | Output::Gaps | Output::Uncertainty => {
                    return plan_err!(
                        "a product is required: hotspot functions take (product, max_tier, min_share_pct, basis, as_of)"
                    );
                }
            };
            return Ok(Arc::new(MemTable::try_new(schema, vec![vec![]])?));
        }
        let exprs = args.exprs();
        let most = if matches!(self.output, Output::Uncertainty) {
            8
        } else {
            5
        };
        if exprs.len() > most {
            return plan_err!("this hotspot function takes at most {most} arguments");
        }
        let req = request(&exprs[..exprs.len().min(5)])?;
        // An unknown product or a value beyond range travels as itself, so callers can answer
        // "not found" or "unprocessable".
        let wrap = |e: crate::Error| match e {
            crate::Error::NotFound(_) | crate::Error::OutOfRange { .. } => {
                DataFusionError::External(Box::new(e))
            }
            e => DataFusionError::Plan(e.to_string()),
        };
        let d = self.graph.decompose(&req).map_err(wrap)?;
        let batch = match self.output {
            Output::Items => return Ok(Arc::new(ItemsTable(d))),
            Output::Findings => findings_batch(&d),
            Output::Quality => quality_batch(&d),
            Output::Gaps => super::gaps_batch(&super::gaps(&d, None)),
            Output::Uncertainty => {
                let whole =
                    |i: usize, name: &str, default: f64| -> datafusion::common::Result<u64> {
                        let v = arg_f64(exprs, i, name)?.unwrap_or(default);
                        if v < 0.0 || v.fract() != 0.0 || v > 1e9 {
                            return plan_err!("{name} must be a whole number, got {v}");
                        }
                        Ok(v as u64)
                    };
                let samples = whole(5, "samples", 1000.0)? as usize;
                if !(1..=100_000).contains(&samples) {
                    return plan_err!("samples: from 1 to 100000 in SQL, got {samples}");
                }
                let ask = super::UncertaintyRequest {
                    samples,
                    seed: whole(6, "seed", 1.0)?,
                    top: whole(7, "top", 10.0)? as usize,
                };
                self.graph
                    .uncertainty(&req, &super::Spreads::default(), ask)
                    .and_then(|(_, u)| uncertainty_batch(&u))
            }
        }
        .map_err(wrap)?;
        Ok(Arc::new(MemTable::try_new(
            batch.schema(),
            vec![vec![batch]],
        )?))
    }
}
