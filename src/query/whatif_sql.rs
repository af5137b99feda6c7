//! What-if as SQL, for the scenarios dashboard: `whatif_rows`, `whatif_summary` and
//! `whatif_changes`, each taking `(scenario, product, max_tier, min_share_pct, basis,
//! as_of)` where `scenario` names a bundled scenario (`scenarios/`), never a file.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Decimal128Array, Float64Array, Int64Array, RecordBatch, StringArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{DataFusionError, plan_err};
use datafusion::datasource::MemTable;

use super::whatif::{self, Row, WhatIf};
use crate::hotspot::{GraphSource, ITEM_SCALE, arg_text, function_request};
use crate::score::ScoreSource;
use crate::table::DECIMAL_PRECISION;

/// Which table a [`WhatifFunction`] returns.
#[derive(Debug, Clone, Copy)]
pub enum WhatifOutput {
    /// `whatif_rows`: per supplier, tier and changed footprint (`grouping`), before, after
    /// and change, in the answer's order (`position` from 1).
    Rows,
    /// `whatif_summary`: one row, the CFP, score and rank before and after.
    Summary,
    /// `whatif_changes`: what each change did.
    Changes,
}

/// A what-if table function over one dataset.
#[derive(Debug)]
pub struct WhatifFunction {
    graph: Arc<GraphSource>,
    scores: Arc<ScoreSource>,
    output: WhatifOutput,
}

impl WhatifFunction {
    /// The function returning `output`.
    pub fn new(
        graph: Arc<GraphSource>,
        scores: Arc<ScoreSource>,
        output: WhatifOutput,
    ) -> WhatifFunction {
        WhatifFunction {
            graph,
            scores,
            output,
        }
    }
}

fn kg(name: &str) -> Field {
    Field::new(
        name,
        DataType::Decimal128(DECIMAL_PRECISION, ITEM_SCALE),
        false,
    )
}

fn decimals(v: Vec<i128>) -> crate::Result<ArrayRef> {
    Ok(Arc::new(
        Decimal128Array::from(v).with_precision_and_scale(DECIMAL_PRECISION, ITEM_SCALE)?,
    ))
}

fn rows_batch(w: &WhatIf) -> crate::Result<RecordBatch> {
    let groups: [(&str, &[Row]); 3] = [
        ("supplier", &w.suppliers),
        ("tier", &w.tiers),
        ("footprint", &w.footprints),
    ];
    let (mut grouping, mut position, mut name, mut key) = (vec![], vec![], vec![], vec![]);
    let (mut before, mut after, mut change) = (vec![], vec![], vec![]);
    for (g, rows) in groups {
        for (i, r) in rows.iter().enumerate() {
            grouping.push(g);
            position.push(i as i64 + 1);
            name.push(r.name.as_str());
            key.push(r.key.as_str());
            before.push(r.kgco2e.before);
            after.push(r.kgco2e.after);
            change.push(r.kgco2e.change());
        }
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("grouping", DataType::Utf8, false),
        Field::new("position", DataType::Int64, false),
        Field::new("name", DataType::Utf8, false),
        Field::new("key", DataType::Utf8, false),
        kg("before_kgco2e"),
        kg("after_kgco2e"),
        kg("change_kgco2e"),
    ]));
    Ok(RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(grouping)),
            Arc::new(Int64Array::from(position)),
            Arc::new(StringArray::from(name)),
            Arc::new(StringArray::from(key)),
            decimals(before)?,
            decimals(after)?,
            decimals(change)?,
        ],
    )?)
}

fn summary_batch(w: &WhatIf) -> crate::Result<RecordBatch> {
    let score = w.score.as_ref().ok();
    let num = |f: &dyn Fn(&whatif::ScoreChange) -> String| -> ArrayRef {
        Arc::new(Float64Array::from(vec![
            score.and_then(|s| f(s).parse::<f64>().ok()),
        ]))
    };
    let int = |f: &dyn Fn(&whatif::ScoreChange) -> usize| -> ArrayRef {
        Arc::new(Int64Array::from(vec![score.map(|s| f(s) as i64)]))
    };
    let schema = Arc::new(Schema::new(vec![
        Field::new("scenario", DataType::Utf8, false),
        Field::new("product_name", DataType::Utf8, false),
        kg("cfp_before_kgco2e"),
        kg("cfp_after_kgco2e"),
        kg("cfp_change_kgco2e"),
        Field::new("cfp_change_pct", DataType::Float64, true),
        Field::new("gx_score_before", DataType::Float64, true),
        Field::new("gx_score_after", DataType::Float64, true),
        Field::new("rank_before", DataType::Int64, true),
        Field::new("rank_after", DataType::Int64, true),
        Field::new("products_in_category", DataType::Int64, true),
        Field::new("footprints_recomputed", DataType::Int64, false),
    ]));
    Ok(RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(vec![w.scenario.name.as_str()])),
            Arc::new(StringArray::from(vec![w.product.product_name.as_str()])),
            decimals(vec![w.cfp.before])?,
            decimals(vec![w.cfp.after])?,
            decimals(vec![w.cfp.change()])?,
            Arc::new(Float64Array::from(vec![w.cfp.change_pct()])),
            num(&|s| s.before.to_string()),
            num(&|s| s.after.to_string()),
            int(&|s| s.rank_before),
            int(&|s| s.rank_after),
            int(&|s| s.products),
            Arc::new(Int64Array::from(vec![w.recomputed as i64])),
        ],
    )?)
}

fn changes_batch(w: &WhatIf) -> crate::Result<RecordBatch> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("position", DataType::Int64, false),
        Field::new("kind", DataType::Utf8, false),
        Field::new("effect", DataType::Utf8, false),
        Field::new("effect_ja", DataType::Utf8, false),
    ]));
    Ok(RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from_iter_values(1..=w.effects.len() as i64)),
            Arc::new(StringArray::from_iter_values(
                w.effects.iter().map(|(k, _, _)| k.as_str()),
            )),
            Arc::new(StringArray::from_iter_values(
                w.effects.iter().map(|(_, e, _)| e.as_str()),
            )),
            Arc::new(StringArray::from_iter_values(
                w.effects.iter().map(|(_, _, ja)| ja.as_str()),
            )),
        ],
    )?)
}

impl TableFunctionImpl for WhatifFunction {
    fn call_with_args(
        &self,
        args: TableFunctionArgs,
    ) -> datafusion::common::Result<Arc<dyn TableProvider>> {
        let exprs = args.exprs();
        if exprs.len() > 6 {
            return plan_err!(
                "what-if functions take (scenario, product, max_tier, min_share_pct, basis, as_of)"
            );
        }
        let name = arg_text(exprs, 0, "scenario")?
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                DataFusionError::Plan(
                    "what-if functions take (scenario, product, …); scenario (a bundled scenario's name) is required".into(),
                )
            })?;
        let wrap = |e: crate::Error| match e {
            crate::Error::NotFound(_) | crate::Error::OutOfRange { .. } => {
                DataFusionError::External(Box::new(e))
            }
            e => DataFusionError::Plan(e.to_string()),
        };
        let scenario = whatif::bundled_one(&name).map_err(wrap)?;
        let mut rest = exprs.get(1..).unwrap_or_default().to_vec();
        // The scenario's own product when none is given.
        if matches!(arg_text(&rest, 0, "product")?.as_deref(), None | Some(""))
            && let Some(p) = &scenario.product
        {
            let p = datafusion::logical_expr::lit(p.as_str());
            match rest.first_mut() {
                Some(first) => *first = p,
                None => rest.push(p),
            }
        }
        let req = function_request(&rest)?;
        let w = whatif::run(&self.graph, &self.scores, &req, &scenario, None).map_err(wrap)?;
        let batch = match self.output {
            WhatifOutput::Rows => rows_batch(&w),
            WhatifOutput::Summary => summary_batch(&w),
            WhatifOutput::Changes => changes_batch(&w),
        }
        .map_err(wrap)?;
        Ok(Arc::new(MemTable::try_new(
            batch.schema(),
            vec![vec![batch]],
        )?))
    }
}
