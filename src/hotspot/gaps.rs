//! A decomposition's data gaps, ranked by how much of the CFP each concerns: what to ask
//! suppliers for first.
//!
//! A gap is a footprint whose data leave part of the answer uncertain, and the company that
//! could close it:
//!
//! - `unresolved`: a footprint without Gate-to-Gate data, so the walk cannot descend it: its
//!   whole contribution is one number. Ask its company for the GxD Gate-to-Gate extension.
//! - `untraced`: upstream a footprint reports that no supplier footprint explains. Ask its
//!   company for its suppliers' footprints (or which inputs its upstream covers).
//! - `organization_based`: a footprint calculated from company-wide totals. Ask for a
//!   product-based one.
//! - `older_reference_period`: a footprint for an earlier period than the root's. Ask for
//!   one for the root's period.
//! - `dangling_input`: an input of a footprint's bill of materials that has no footprint at
//!   all; its share sits in that footprint's untraced upstream. Ask the company listing it
//!   which supplier delivers it, and that supplier for its footprint.
//!
//! A gap's amount is the sum of the items of its footprint that the gap concerns: the
//! unresolved items for `unresolved`, the untraced items for `untraced` and
//! `dangling_input`, every item of the footprint for `organization_based` and
//! `older_reference_period` (a footprint reached along several paths has an item on each).
//! Gaps are ranked by the magnitude of that amount, largest first; a footprint can have
//! gaps of several kinds.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Decimal128Array, Float64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use serde::Serialize;

use super::{Decomposition, ITEM_SCALE, Kind, pct, value_string};
use crate::table::DECIMAL_PRECISION;

/// What a gap lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GapKind {
    /// No Gate-to-Gate data: the footprint is not descended.
    Unresolved,
    /// Upstream reported that no supplier footprint explains.
    Untraced,
    /// Calculated from organization-level data.
    OrganizationBased,
    /// An older reference period than the root's.
    OlderReferencePeriod,
    /// A bill-of-materials input without any footprint.
    DanglingInput,
}

impl GapKind {
    /// The name used in every output.
    pub fn as_str(self) -> &'static str {
        match self {
            GapKind::Unresolved => "unresolved",
            GapKind::Untraced => "untraced",
            GapKind::OrganizationBased => "organization_based",
            GapKind::OlderReferencePeriod => "older_reference_period",
            GapKind::DanglingInput => "dangling_input",
        }
    }
}

/// One data gap of a decomposition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gap {
    /// What is missing.
    pub kind: GapKind,
    /// The footprint concerned.
    pub footprint_id: String,
    /// Its product.
    pub product_id: String,
    /// Its product's trade name.
    pub product_name: String,
    /// The company to ask (the footprint's data owner).
    pub company_id: String,
    /// Its name.
    pub company_name: String,
    /// For `dangling_input`: the input (a product URN) without a footprint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// The items the gap concerns, kgCO2e per declared unit of the root, at
    /// [`super::VALUE_SCALE`].
    #[serde(serialize_with = "value_string")]
    pub kgco2e: i128,
    /// Their share of the root's CFP, percent (of the magnitude).
    pub share_pct: f64,
    /// What to ask for, in a sentence.
    pub ask: String,
}

/// Item sums of one footprint node.
#[derive(Default, Clone, Copy)]
struct Sums {
    unresolved: i128,
    untraced: i128,
    all: i128,
}

/// The data gaps of `d`, largest first (by magnitude, then kind, then footprint id), the
/// first `top` of them (all with `None`). The root's own company is not asked about its own
/// footprint's basis or period. Gaps are ranked on their numbers and only those kept are
/// labelled: a large root has a gap at most of the footprints it reaches.
pub fn gaps(d: &Decomposition, top: Option<usize>) -> Vec<Gap> {
    let graph = d.items.graph();
    let mut by_node: BTreeMap<u32, Sums> = BTreeMap::new();
    for r in d.items.raw() {
        let s = by_node.entry(r.node).or_default();
        // Item values are bounded far below i128's range (a decomposition's items sum to
        // its CFP); saturating keeps a sum of many from ever wrapping.
        s.all = s.all.saturating_add(r.value);
        match r.kind {
            Kind::Unresolved => s.unresolved = s.unresolved.saturating_add(r.value),
            Kind::Untraced => s.untraced = s.untraced.saturating_add(r.value),
            _ => {}
        }
    }
    let root = graph.node_by_id(&d.product.footprint_id);
    // (kind, node, amount, the dangling input).
    let mut raw: Vec<(GapKind, u32, i128, Option<&str>)> = Vec::new();
    for (&node, s) in &by_node {
        if s.unresolved != 0 {
            raw.push((GapKind::Unresolved, node, s.unresolved, None));
        }
        if s.untraced != 0 {
            raw.push((GapKind::Untraced, node, s.untraced, None));
        }
        if Some(node) != root && graph.organization_based(node) && s.all != 0 {
            raw.push((GapKind::OrganizationBased, node, s.all, None));
        }
    }
    for f in &d.findings {
        let Some(node) = f
            .footprint_id
            .as_deref()
            .and_then(|id| graph.node_by_id(id))
        else {
            continue;
        };
        let s = by_node.get(&node).copied().unwrap_or_default();
        match f.kind {
            "older_reference_period" if Some(node) != root && s.all != 0 => {
                raw.push((GapKind::OlderReferencePeriod, node, s.all, None));
            }
            "dangling" => raw.push((
                GapKind::DanglingInput,
                node,
                s.untraced,
                Some(f.input.as_deref().unwrap_or_default()),
            )),
            _ => {}
        }
    }
    raw.sort_by(|a, b| {
        b.2.saturating_abs()
            .cmp(&a.2.saturating_abs())
            .then(a.0.cmp(&b.0))
            .then_with(|| graph.id(a.1).cmp(graph.id(b.1)))
            .then_with(|| a.3.cmp(&b.3))
    });
    raw.truncate(top.unwrap_or(usize::MAX));
    let cfp = d.cfp_kgco2e_per_unit;
    raw.into_iter()
        .map(|(kind, node, kgco2e, input)| {
            let what = graph.product_name(node);
            let ask = match kind {
                GapKind::Unresolved => format!(
                    "Gate-to-Gate emissions (the GxD extension) for {what}, so its upstream can be traced"
                ),
                GapKind::Untraced => format!(
                    "the footprints of the suppliers of {what}'s inputs, or which inputs its upstream emissions cover"
                ),
                GapKind::OrganizationBased => {
                    format!("a product-based footprint of {what} instead of company-wide data")
                }
                GapKind::OlderReferencePeriod => format!(
                    "a footprint of {what} for the period of {}",
                    d.product.product_name
                ),
                GapKind::DanglingInput => format!(
                    "which supplier delivers input {} of {what}, and that supplier's footprint of it",
                    input.unwrap_or_default()
                ),
            };
            Gap {
                kind,
                footprint_id: graph.id(node).to_owned(),
                product_id: graph.product_id(node).to_owned(),
                product_name: what.to_owned(),
                company_id: graph.company_id(node).to_owned(),
                company_name: graph.company_name(node).to_owned(),
                input: input.map(str::to_owned),
                kgco2e,
                share_pct: pct(kgco2e.saturating_abs(), cfp.saturating_abs()),
                ask,
            }
        })
        .collect()
}

/// The columns of a gaps table.
pub fn gaps_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("rank", DataType::Int64, false),
        Field::new("share_pct", DataType::Float64, false),
        Field::new(
            "kgco2e",
            DataType::Decimal128(DECIMAL_PRECISION, ITEM_SCALE),
            false,
        ),
        Field::new("kind", DataType::Utf8, false),
        Field::new("company_name", DataType::Utf8, false),
        Field::new("product_name", DataType::Utf8, false),
        Field::new("input", DataType::Utf8, true),
        Field::new("ask", DataType::Utf8, false),
        Field::new("company_id", DataType::Utf8, false),
        Field::new("footprint_id", DataType::Utf8, false),
    ]))
}

/// `gaps` as a table, ranked from 1.
pub fn gaps_batch(gaps: &[Gap]) -> crate::Result<RecordBatch> {
    let text = |f: fn(&Gap) -> &str| -> ArrayRef {
        Arc::new(StringArray::from_iter_values(gaps.iter().map(f)))
    };
    let columns: Vec<ArrayRef> = vec![
        Arc::new(datafusion::arrow::array::Int64Array::from_iter_values(
            (1..).take(gaps.len()),
        )),
        Arc::new(Float64Array::from_iter_values(
            gaps.iter().map(|g| g.share_pct),
        )),
        Arc::new(
            Decimal128Array::from_iter_values(gaps.iter().map(|g| g.kgco2e))
                .with_precision_and_scale(DECIMAL_PRECISION, ITEM_SCALE)?,
        ),
        text(|g| g.kind.as_str()),
        text(|g| &g.company_name),
        text(|g| &g.product_name),
        Arc::new(StringArray::from_iter(
            gaps.iter().map(|g| g.input.as_deref()),
        )),
        text(|g| &g.ask),
        text(|g| &g.company_id),
        text(|g| &g.footprint_id),
    ];
    Ok(RecordBatch::try_new(gaps_schema(), columns)?)
}
