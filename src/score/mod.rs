//! GX product scores: indicator values per product (from footprints and GX attributes),
//! credits by the rules of a [`Profile`], points = weight × credit in exact decimals, and the
//! GX score out of 100; requirement sheets in four formats and two languages.
//!
//! Missing data earn no points and are marked missing ("–"), never treated as false ("×").
//! This module computes and renders; it does not serve or store.

mod function;
mod input;
mod profile;
pub mod sheet;

use rayon::prelude::*;
use rust_decimal::Decimal;
use serde::Serialize;

pub use function::{GxScoresFunction, ScoreSource, scores_batch};
pub use input::{Inputs, Rep, RepBasis, Values};
pub use profile::{DEFAULT_PROFILE, Indicator, Key, Profile, Rule};

/// What every supplier ranking says beside its rows.
pub const RANKING_CAVEAT: &str = "Suppliers are ranked within one product category. The framework is built to compare a supplier with itself over time; comparing different companies' products is your responsibility.";

/// The products of `session` (optionally those whose CPC code starts with `category`) and
/// their scores under the session's profile.
pub fn scored(
    session: &crate::query::Session,
    category: Option<&str>,
) -> crate::Result<(Inputs, Scores)> {
    let all = session.scores()?;
    Ok(match category.filter(|c| !c.is_empty()) {
        Some(c) => {
            let inputs = all.0.clone().filter_category(c);
            let scores = score(session.profile(), &inputs);
            (inputs, scores)
        }
        None => (all.0.clone(), all.1.clone()),
    })
}

/// The supplier ranking (`ranking/suppliers`) within `category`, by `by` (`score`,
/// `intensity`, `reduction` or `pds`), with a buyer `product`'s contributions when given.
pub async fn rank(
    session: &crate::query::Session,
    category: Option<&str>,
    by: &str,
    product: Option<&str>,
) -> crate::Result<crate::query::Output> {
    if !["score", "intensity", "reduction", "pds"].contains(&by) {
        return Err(crate::Error::Usage(format!(
            "rank by {by:?}: expected score, intensity, reduction or pds"
        )));
    }
    let catalog = crate::query::Catalog::embedded()?;
    let args = vec![
        (
            "category".to_owned(),
            category.unwrap_or_default().to_owned(),
        ),
        ("by".to_owned(), by.to_owned()),
        ("product".to_owned(), product.unwrap_or_default().to_owned()),
    ];
    session.run(catalog.get("ranking/suppliers")?, &args).await
}

/// How an indicator scored for one product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Full credit.
    Pass,
    /// Some credit (a linear rule between its ends).
    Partial,
    /// No credit.
    Fail,
    /// No value: no credit, shown as "–".
    Missing,
}

impl Status {
    /// From a credit (`None` = missing).
    pub fn of(credit: Option<Decimal>) -> Status {
        match credit {
            None => Status::Missing,
            Some(c) if c >= Decimal::ONE => Status::Pass,
            Some(c) if c <= Decimal::ZERO => Status::Fail,
            Some(_) => Status::Partial,
        }
    }

    /// The name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Partial => "partial",
            Status::Fail => "fail",
            Status::Missing => "missing",
        }
    }
}

/// Scores of many products under one profile, column by column.
#[derive(Debug, Clone)]
pub struct Scores {
    /// The profile.
    pub profile: Profile,
    /// GX score (Σ points, 0–100) per product.
    pub gx_score: Vec<Decimal>,
    /// Indicators without a value, per product.
    pub missing: Vec<u32>,
    /// Credit per indicator (profile order), per product; `None` = missing.
    pub credit: Vec<Vec<Option<Decimal>>>,
}

impl Scores {
    /// Points of indicator `i` for product `p`.
    pub fn points(&self, i: usize, p: usize) -> Decimal {
        self.credit[i][p].map_or(Decimal::ZERO, |c| self.profile.indicators[i].weight * c)
    }
}

/// One parallel task's result: totals, missing counts and credits per indicator.
type Chunk = (Vec<Decimal>, Vec<u32>, Vec<Vec<Option<Decimal>>>);

/// Products scored per parallel task.
const CHUNK: usize = 16 * 1024;

/// Scores every product of `inputs` with `profile`.
pub fn score(profile: &Profile, inputs: &Inputs) -> Scores {
    let n = inputs.len();
    // The rules that apply to each distinct category, resolved once.
    let mut rulesets: Vec<Vec<&Rule>> = Vec::new();
    let mut by_cpc: std::collections::HashMap<Option<&str>, usize> = Default::default();
    let ruleset: Vec<usize> = inputs
        .cpc
        .iter()
        .map(|c| {
            let c = c.as_deref();
            *by_cpc.entry(c).or_insert_with(|| {
                rulesets.push(
                    profile
                        .indicators
                        .iter()
                        .map(|i| profile.rule_for(i, c))
                        .collect(),
                );
                rulesets.len() - 1
            })
        })
        .collect();
    let columns: Vec<&Values> = profile
        .indicators
        .iter()
        .map(|i| inputs.values(i.key))
        .collect();

    let chunks: Vec<Chunk> = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let range = c * CHUNK..((c + 1) * CHUNK).min(n);
            let mut total = vec![Decimal::ZERO; range.len()];
            let mut missing = vec![0u32; range.len()];
            let mut credits = Vec::with_capacity(columns.len());
            for (i, (ind, col)) in profile.indicators.iter().zip(&columns).enumerate() {
                let mut credit = Vec::with_capacity(range.len());
                for (j, p) in range.clone().enumerate() {
                    let rule = rulesets[ruleset[p]][i];
                    let c = match col {
                        Values::Flag(v) => v[p].map(|b| rule.credit_flag(b)),
                        Values::Number(v) => v[p].map(|x| rule.credit_number(x)),
                    };
                    match c {
                        None => missing[j] += 1,
                        Some(c) if c == Decimal::ONE => total[j] += ind.weight,
                        Some(c) if c.is_zero() => {}
                        Some(c) => total[j] += ind.weight * c,
                    }
                    credit.push(c);
                }
                credits.push(credit);
            }
            (total, missing, credits)
        })
        .collect();

    let mut gx_score = Vec::with_capacity(n);
    let mut missing = Vec::with_capacity(n);
    let mut credit: Vec<Vec<Option<Decimal>>> = profile
        .indicators
        .iter()
        .map(|_| Vec::with_capacity(n))
        .collect();
    for (t, m, cs) in chunks {
        gx_score.extend(t);
        missing.extend(m);
        for (all, part) in credit.iter_mut().zip(cs) {
            all.extend(part);
        }
    }
    Scores {
        profile: profile.clone(),
        gx_score,
        missing,
        credit,
    }
}

/// One indicator of one product, as `mieruka score --format json` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndicatorScore {
    /// Indicator key.
    pub key: &'static str,
    /// Column group.
    pub group: String,
    /// Weight (points at full credit).
    pub weight: String,
    /// Credit from 0 to 1; `null` when missing.
    pub credit: Option<String>,
    /// Points earned.
    pub points: String,
    /// `pass`, `partial`, `fail` or `missing`.
    pub status: &'static str,
    /// The value scored (`true`/`false`, a number with its unit implied by the key), or null.
    pub value: Option<String>,
    /// The rule applied (after category overrides).
    pub rule: String,
}

/// One product, as `mieruka score --format json` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProductScore {
    /// Product URN.
    pub product_id: String,
    /// Footprint scored.
    pub footprint_id: String,
    /// Trade name.
    pub product_name: String,
    /// Company.
    pub company_name: String,
    /// UN CPC code.
    pub cpc: Option<String>,
    /// GX score, 0–100.
    pub gx_score: String,
    /// Indicators without data.
    pub missing: u32,
    /// Every indicator of the profile.
    pub indicators: Vec<IndicatorScore>,
}

fn text(d: Decimal) -> String {
    d.normalize().to_string()
}

impl Scores {
    /// The products in JSON-contract form, in input order.
    pub fn products(&self, inputs: &Inputs) -> Vec<ProductScore> {
        (0..self.gx_score.len())
            .map(|p| ProductScore {
                product_id: inputs.product_id[p].clone(),
                footprint_id: inputs.footprint_id[p].clone(),
                product_name: inputs.product_name[p].clone(),
                company_name: inputs.company_name[p].clone(),
                cpc: inputs.cpc[p].clone(),
                gx_score: text(self.gx_score[p]),
                missing: self.missing[p],
                indicators: self
                    .profile
                    .indicators
                    .iter()
                    .enumerate()
                    .map(|(i, ind)| {
                        let c = self.credit[i][p];
                        IndicatorScore {
                            key: ind.key.as_str(),
                            group: ind.group.clone(),
                            weight: text(ind.weight),
                            credit: c.map(text),
                            points: text(self.points(i, p)),
                            status: Status::of(c).as_str(),
                            value: inputs.values(ind.key).text(p),
                            rule: self
                                .profile
                                .rule_for(ind, inputs.cpc[p].as_deref())
                                .describe(),
                        }
                    })
                    .collect(),
            })
            .collect()
    }
}
