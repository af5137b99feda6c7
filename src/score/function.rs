//! `gx_scores()`: every product's GX score under the session's profile, as a table, so the
//! supplier ranking and other queries can use scores in SQL.

use std::sync::{Arc, Mutex};

use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Decimal128Array, Int32Array, RecordBatch, StringArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{DataFusionError, plan_err};
use datafusion::datasource::MemTable;
use rust_decimal::Decimal;

use super::{Inputs, Profile, Scores, Status, Values, score};
use crate::table::{DECIMAL_PRECISION, Tables, decimal_to_i128, decimal_type};
use crate::{Error, Result};

/// The inputs and scores of a dataset under one profile, computed on first use.
#[derive(Debug)]
pub struct ScoreSource {
    tables: Tables,
    profile: Profile,
    cached: Mutex<Option<Arc<(Inputs, Scores)>>>,
    /// `gx_scores()`, built on its first call: at 1M products it took a second a query, and
    /// a page's panels ask it several times (its arrays are shared, not copied).
    table: Mutex<Option<RecordBatch>>,
}

impl ScoreSource {
    /// Scores of `tables` under `profile`.
    pub fn new(tables: Tables, profile: Profile) -> ScoreSource {
        ScoreSource {
            tables,
            profile,
            cached: Mutex::new(None),
            table: Mutex::new(None),
        }
    }

    /// The profile.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// Inputs and scores, computed on the first call.
    pub fn get(&self) -> Result<Arc<(Inputs, Scores)>> {
        built_once(&self.cached, "score cache", || {
            let inputs = Inputs::from_tables(&self.tables)?;
            let scores = score(&self.profile, &inputs);
            Ok(Arc::new((inputs, scores)))
        })
    }

    /// The table `gx_scores()` returns ([`scores_batch`]), built on the first call.
    pub fn table(&self) -> Result<RecordBatch> {
        built_once(&self.table, "score table cache", || {
            let s = self.get()?;
            scores_batch(&s.0, &s.1)
        })
    }
}

/// What `slot` holds, built by `build` on the first call (`what` names the slot in the error
/// of a poisoned lock).
fn built_once<T: Clone>(
    slot: &Mutex<Option<T>>,
    what: &str,
    build: impl FnOnce() -> Result<T>,
) -> Result<T> {
    let mut slot = slot
        .lock()
        .map_err(|_| Error::Internal(format!("{what} poisoned")))?;
    if let Some(v) = slot.as_ref() {
        return Ok(v.clone());
    }
    let v = build()?;
    *slot = Some(v.clone());
    Ok(v)
}

/// The table `gx_scores()` returns.
pub fn scores_batch(inputs: &Inputs, scores: &Scores) -> Result<RecordBatch> {
    let n = inputs.len();
    let mut fields = vec![
        Field::new("product_id", DataType::Utf8, false),
        Field::new("footprint_id", DataType::Utf8, false),
        Field::new("product_name", DataType::Utf8, false),
        Field::new("company_name", DataType::Utf8, false),
        Field::new("company_id", DataType::Utf8, false),
        Field::new("cpc", DataType::Utf8, true),
        Field::new("declared_unit", DataType::Utf8, true),
        Field::new("organization_based", DataType::Boolean, false),
        Field::new("cfp_kgco2e_per_unit", decimal_type(), true),
        Field::new("rep_pct", decimal_type(), true),
        Field::new("rep_basis", DataType::Utf8, true),
        Field::new("primary_data_share_pct", decimal_type(), true),
        Field::new("gx_score", decimal_type(), false),
        Field::new("missing", DataType::Int32, false),
    ];
    let dec = |v: Vec<Option<Decimal>>| -> Result<ArrayRef> {
        Ok(Arc::new(
            Decimal128Array::from_iter(v.into_iter().map(|d| d.map(decimal_to_i128)))
                .with_precision_and_scale(DECIMAL_PRECISION, crate::table::DECIMAL_SCALE as i8)?,
        ))
    };
    let number = |k: super::Key| -> Vec<Option<Decimal>> {
        match inputs.values(k) {
            Values::Number(v) => v.to_decimals(),
            Values::Flag(_) => vec![None; n],
        }
    };
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(inputs.product_id.clone())),
        Arc::new(StringArray::from(inputs.footprint_id.clone())),
        Arc::new(StringArray::from(inputs.product_name.clone())),
        Arc::new(StringArray::from(inputs.company_name.clone())),
        Arc::new(StringArray::from(inputs.company_id.clone())),
        Arc::new(StringArray::from_iter(inputs.cpc.iter())),
        Arc::new(StringArray::from(inputs.declared_unit.clone())),
        Arc::new(BooleanArray::from(inputs.organization_based.clone())),
        dec(number(super::Key::Cfp))?,
        dec(number(super::Key::Rep))?,
        Arc::new(StringArray::from_iter(inputs.rep.iter().map(|r| {
            r.as_ref().map(|r| match r.basis {
                super::RepBasis::PrecedingVersion => "preceding_version",
                super::RepBasis::PreviousPeriod => "previous_period",
            })
        }))),
        dec(number(super::Key::PrimaryDataShare))?,
        dec((0..n).map(|p| Some(scores.gx_score(p))).collect())?,
        Arc::new(Int32Array::from_iter_values(
            scores.missing.iter().map(|m| *m as i32),
        )),
    ];
    for (i, ind) in scores.profile.indicators.iter().enumerate() {
        fields.push(Field::new(
            format!("points_{}", ind.key),
            decimal_type(),
            false,
        ));
        fields.push(Field::new(
            format!("status_{}", ind.key),
            DataType::Utf8,
            false,
        ));
        columns.push(dec((0..n)
            .map(|p| Some(scores.points(inputs, i, p)))
            .collect())?);
        columns.push(Arc::new(StringArray::from_iter_values(
            (0..n).map(|p| Status::of(scores.credit(inputs, i, p).as_ref()).as_str()),
        )));
    }
    // One `points_group_<group>` column per indicator group, in sheet order, so charts can
    // stack a score by group without knowing which indicators a profile puts in each.
    let mut groups: Vec<&str> = Vec::new();
    for ind in &scores.profile.indicators {
        if !groups.contains(&ind.group.as_str()) {
            groups.push(&ind.group);
        }
    }
    for group in groups {
        fields.push(Field::new(
            format!("points_group_{group}"),
            decimal_type(),
            false,
        ));
        let members: Vec<usize> = (0..scores.profile.indicators.len())
            .filter(|&i| scores.profile.indicators[i].group == group)
            .collect();
        columns.push(dec((0..n)
            .map(|p| Some(scores.points_of(inputs, &members, p)))
            .collect())?);
    }
    let schema: SchemaRef = Arc::new(Schema::new(fields));
    Ok(RecordBatch::try_new(schema, columns)?)
}

/// `gx_scores()` over one dataset.
#[derive(Debug)]
pub struct GxScoresFunction {
    source: Arc<ScoreSource>,
}

impl GxScoresFunction {
    /// The function over `source`.
    pub fn new(source: Arc<ScoreSource>) -> GxScoresFunction {
        GxScoresFunction { source }
    }
}

impl TableFunctionImpl for GxScoresFunction {
    fn call_with_args(
        &self,
        args: TableFunctionArgs,
    ) -> datafusion::common::Result<Arc<dyn TableProvider>> {
        if !args.exprs().is_empty() {
            return plan_err!("gx_scores() takes no arguments (the session's profile applies)");
        }
        let wrap = |e: Error| DataFusionError::Plan(e.to_string());
        let batch = self.source.table().map_err(wrap)?;
        Ok(Arc::new(MemTable::try_new(
            batch.schema(),
            vec![vec![batch]],
        )?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `gx_scores()` is built once: asked again, the same arrays, and what building it gives.
    #[test]
    fn the_scores_table_is_built_once() {
        let tables = crate::dataset::demo().expect("demo");
        let source = ScoreSource::new(tables, Profile::default_profile());
        let first = source.table().expect("built");
        let again = source.table().expect("kept");
        assert!(first.num_rows() > 0);
        for (a, b) in first.columns().iter().zip(again.columns()) {
            assert!(Arc::ptr_eq(a, b), "a column was built again");
        }
        let s = source.get().expect("scores");
        assert_eq!(first, scores_batch(&s.0, &s.1).expect("built here"));
    }
}
