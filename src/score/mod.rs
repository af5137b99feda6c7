//! GX product scores: indicator values per product (from footprints and GX attributes),
//! credits by the rules of a [`Profile`], points = weight × credit in exact decimals, and the
//! GX score out of 100; requirement sheets in four formats and two languages.
//!
//! Missing data earn no points and are marked missing ("–"), never treated as false ("×").
//! This module computes and renders; it does not serve or store.

mod exact;
mod function;
mod input;
mod kernel;
mod profile;
pub mod sheet;

use rayon::prelude::*;
use rust_decimal::Decimal;
use serde::Serialize;

pub use exact::Credit;
pub use function::{GxScoresFunction, ScoreSource, scores_batch};
pub use input::{Categories, Inputs, Numbers, Rep, RepBasis, Values};
use kernel::Plan;
pub use profile::{DEFAULT_PROFILE, Indicator, Key, Profile, Rule};

/// What every supplier ranking says beside its rows.
pub const RANKING_CAVEAT: &str = "Suppliers are ranked within one product category. The framework is built to compare a supplier with itself over time; comparing different companies' products is your responsibility.";

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
    pub fn of(credit: Option<&Credit>) -> Status {
        match credit {
            None => Status::Missing,
            Some(Credit::Full) => Status::Pass,
            Some(Credit::Zero) => Status::Fail,
            Some(Credit::Part(..) | Credit::Big(..)) => Status::Partial,
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

/// Decimal places of a GX score, and of points and credits as shown.
pub const SCORE_PLACES: u32 = 6;

/// Scores of many products under one profile.
#[derive(Debug, Clone)]
pub struct Scores {
    /// The profile.
    pub profile: Profile,
    /// GX score per product in millionths of a point: Σ weight × exact credit, rounded once,
    /// half to even, at six places. Read through [`Scores::gx_score`].
    pub gx_micros: Vec<i64>,
    /// Indicators without a value, per product.
    pub missing: Vec<u32>,
    /// The rule set of each distinct category of the inputs (see [`Categories::distinct`]).
    ruleset_of: Vec<u32>,
    /// Per rule set, the rule of each indicator (profile order).
    rulesets: Vec<Vec<Rule>>,
}

impl Scores {
    /// GX score of product `p` (0 to 100).
    pub fn gx_score(&self, p: usize) -> Decimal {
        Decimal::new(self.gx_micros[p], SCORE_PLACES).normalize()
    }

    /// The rule of indicator `i` for product `p` (after its category's overrides).
    pub fn rule(&self, inputs: &Inputs, i: usize, p: usize) -> &Rule {
        &self.rulesets[self.ruleset_of[inputs.cpc.codes()[p] as usize] as usize][i]
    }

    /// Credit of indicator `i` for product `p`, exactly; `None` when its value is missing.
    pub fn credit(&self, inputs: &Inputs, i: usize, p: usize) -> Option<Credit> {
        match inputs.values(self.profile.indicators[i].key) {
            Values::Flag(v) => v[p].map(Credit::of_flag),
            Values::Number(v) => v
                .get(p)
                .map(|x| Credit::of_number(self.rule(inputs, i, p), x)),
        }
    }

    /// Points of indicator `i` for product `p`, rounded half to even at six places (for
    /// display: the score adds the exact points).
    pub fn points(&self, inputs: &Inputs, i: usize, p: usize) -> Decimal {
        self.credit(inputs, i, p).map_or(Decimal::ZERO, |c| {
            exact::points(self.profile.indicators[i].weight, &c, SCORE_PLACES).normalize()
        })
    }

    /// The points of indicators `members` for product `p`, added exactly and rounded once.
    pub fn points_of(&self, inputs: &Inputs, members: &[usize], p: usize) -> Decimal {
        let terms: Vec<(Decimal, Credit)> = members
            .iter()
            .filter_map(|&i| {
                Some((
                    self.profile.indicators[i].weight,
                    self.credit(inputs, i, p)?,
                ))
            })
            .collect();
        exact::sum_rounded(&terms, SCORE_PLACES).normalize()
    }
}

/// Products scored per parallel task.
const CHUNK: usize = 16 * 1024;

/// Scores every product of `inputs` with `profile`: exact fixed-point integers where every
/// value and rule fits them, exact rationals where one does not.
pub fn score(profile: &Profile, inputs: &Inputs) -> Scores {
    let n = inputs.len();
    // The rules of each distinct category, resolved once; categories that share their rules
    // share a rule set.
    let mut rulesets: Vec<Vec<Rule>> = Vec::new();
    let ruleset_of: Vec<u32> = inputs
        .cpc
        .distinct()
        .iter()
        .map(|c| {
            let rules: Vec<Rule> = profile
                .indicators
                .iter()
                .map(|i| profile.rule_for(i, c.as_deref()).clone())
                .collect();
            let at = rulesets
                .iter()
                .position(|r| *r == rules)
                .unwrap_or_else(|| {
                    rulesets.push(rules);
                    rulesets.len() - 1
                });
            at as u32
        })
        .collect();
    let mut scores = Scores {
        profile: profile.clone(),
        gx_micros: vec![0; n],
        missing: vec![0; n],
        ruleset_of,
        rulesets,
    };
    let plan = Plan::new(profile, inputs, &scores.rulesets, &scores.ruleset_of);
    let mut micros = std::mem::take(&mut scores.gx_micros);
    let mut missing = std::mem::take(&mut scores.missing);
    let codes = inputs.cpc.codes();
    micros
        .par_chunks_mut(CHUNK)
        .zip(missing.par_chunks_mut(CHUNK))
        .enumerate()
        .for_each(|(c, (micros, missing))| match &plan {
            Some(plan) => plan.run(codes, c * CHUNK, micros, missing),
            None => {
                tracing::debug!("scoring products {} on: exact rationals", c * CHUNK);
                for (j, (m, miss)) in micros.iter_mut().zip(missing.iter_mut()).enumerate() {
                    (*m, *miss) = exact_score(&scores, inputs, c * CHUNK + j);
                }
            }
        });
    scores.gx_micros = micros;
    scores.missing = missing;
    scores
}

/// Product `p`'s score in millionths and its missing count, in exact rationals.
fn exact_score(scores: &Scores, inputs: &Inputs, p: usize) -> (i64, u32) {
    let mut missing = 0;
    let mut terms = Vec::with_capacity(scores.profile.indicators.len());
    for (i, ind) in scores.profile.indicators.iter().enumerate() {
        match scores.credit(inputs, i, p) {
            Some(c) => terms.push((ind.weight, c)),
            None => missing += 1,
        }
    }
    let s = exact::sum_rounded(&terms, SCORE_PLACES);
    let mut m = s;
    m.rescale(SCORE_PLACES);
    (m.mantissa() as i64, missing)
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
        (0..self.gx_micros.len())
            .map(|p| ProductScore {
                product_id: inputs.product_id[p].clone(),
                footprint_id: inputs.footprint_id[p].clone(),
                product_name: inputs.product_name[p].clone(),
                company_name: inputs.company_name[p].clone(),
                cpc: inputs.cpc.get(p).map(str::to_owned),
                gx_score: text(self.gx_score(p)),
                missing: self.missing[p],
                indicators: self
                    .profile
                    .indicators
                    .iter()
                    .enumerate()
                    .map(|(i, ind)| {
                        let c = self.credit(inputs, i, p);
                        IndicatorScore {
                            key: ind.key.as_str(),
                            group: ind.group.clone(),
                            weight: text(ind.weight),
                            credit: c.as_ref().map(|c| text(c.rounded(SCORE_PLACES))),
                            points: text(self.points(inputs, i, p)),
                            status: Status::of(c.as_ref()).as_str(),
                            value: inputs.values(ind.key).text(p),
                            rule: self.rule(inputs, i, p).describe(),
                        }
                    })
                    .collect(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generator::Rng;

    fn d(s: &str) -> Decimal {
        s.parse().expect("decimal")
    }

    /// Random inputs for `profile`: values at scales 0 to 12, some missing, some on the
    /// rules' ends, and five categories.
    fn inputs(n: usize, seed: u64, max_scale: u64) -> Inputs {
        let mut i = Inputs::with_len(n);
        let mut rng = Rng::for_item(seed, 0, 0);
        let cpc = ["4521", "4526", "4530", "4642", "4714"];
        i.cpc = (0..n)
            .map(|_| Some(cpc[rng.below(5) as usize].to_owned()))
            .collect();
        let ends = [
            "0", "50", "30", "250", "200", "8", "5", "0.001", "10", "15", "25",
        ];
        for key in Key::ALL {
            let mut rng = Rng::for_item(seed, key as u64 + 1, 1);
            i.set(
                key,
                if key.is_flag() {
                    Values::Flag(
                        (0..n)
                            .map(|_| (!rng.chance(10.0)).then(|| rng.chance(60.0)))
                            .collect(),
                    )
                } else {
                    Values::numbers(
                        (0..n)
                            .map(|_| {
                                if rng.chance(20.0) {
                                    return None;
                                }
                                if rng.chance(20.0) {
                                    return Some(d(ends[rng.below(ends.len() as u64) as usize]));
                                }
                                let scale = rng.below(max_scale + 1) as u32;
                                let m = rng.below(2_000_000) as i64 - 300_000;
                                Some(Decimal::new(m, scale))
                            })
                            .collect(),
                    )
                },
            );
        }
        i
    }

    /// A profile whose weights have decimals and whose lines have spans of 3, 7 and 30: its
    /// scores are repeating decimals, some exactly half a millionth past the sixth place.
    fn thirds() -> Profile {
        let text = "name = \"thirds\"\n\
            [[indicator]]\nkey = \"circular_outflow\"\ngroup = \"g\"\nweight = 33.333333\nrule = { kind = \"linear\", zero_at = 0, full_at = 3 }\n\
            [[indicator]]\nkey = \"circular_inflow\"\ngroup = \"g\"\nweight = 33.333333\nrule = { kind = \"linear\", zero_at = 10, full_at = 3 }\n\
            [[indicator]]\nkey = \"cfp\"\ngroup = \"g\"\nweight = 0.000001\nrule = { kind = \"linear\", zero_at = 0, full_at = 30 }\n\
            [[indicator]]\nkey = \"aep\"\ngroup = \"g\"\nweight = 0.000003\nrule = { kind = \"linear\", zero_at = 0, full_at = 2 }\n\
            [[indicator]]\nkey = \"certified\"\ngroup = \"g\"\nweight = 33.333327\nrule = { kind = \"present\" }\n\
            [[indicator]]\nkey = \"rep\"\ngroup = \"g\"\nweight = 0.000003\nrule = { kind = \"reduction\", min_pct = 5 }\n\
            [category.\"4521\"]\ncircular_outflow = { kind = \"linear\", zero_at = 0, full_at = 7 }\ncfp = { kind = \"at_most\", threshold = 200 }\n";
        Profile::parse("thirds.toml", text).expect("profile")
    }

    /// The integer kernel gives every product exactly the score of adding its exact points
    /// as rationals and rounding once; on the default profile and on one built for ties,
    /// with totals in 64 bits and in 128.
    #[test]
    fn the_kernel_equals_exact_rationals() {
        let cases = [
            (Profile::default_profile(), 3, 3, true),
            (Profile::default_profile(), 4, 12, true),
            (thirds(), 5, 3, true),
            (thirds(), 6, 12, false),
        ];
        for (profile, seed, max_scale, narrow) in cases {
            let inputs = inputs(20_000, seed, max_scale);
            let scores = score(&profile, &inputs);
            let plan = Plan::new(&profile, &inputs, &scores.rulesets, &scores.ruleset_of)
                .expect("the kernel takes these inputs");
            assert_eq!(plan.narrow, narrow, "{} at scale {max_scale}", profile.name);
            // Here every narrow plan's lines fit 64 bits: both kernels are checked.
            assert_eq!(plan.wide, !narrow, "{} at scale {max_scale}", profile.name);
            for p in 0..inputs.len() {
                assert_eq!(
                    (scores.gx_micros[p], scores.missing[p]),
                    exact_score(&scores, &inputs, p),
                    "{} product {p}",
                    profile.name
                );
            }
        }
    }

    /// Hand-worked: on `thirds`, outflow 1 of 3 earns 33.333333 / 3 = 11.111111; inflow 8
    /// (2 of 7 down from 10) 33.333333 × 2/7 = 9.523809428571…; certified 33.333327; CFP 10
    /// of 30 0.000001 / 3 = 0.000000333…; AEP 1 of 2 0.0000015. Exactly 53.968249261904…,
    /// which rounds to 53.968249.
    #[test]
    fn a_hand_worked_score_of_repeating_decimals() {
        let profile = thirds();
        let mut i = Inputs::with_len(1);
        i.cpc = std::iter::once(Some("4714".to_owned())).collect();
        i.set(Key::CircularOutflow, Values::numbers(vec![Some(d("1"))]));
        i.set(Key::CircularInflow, Values::numbers(vec![Some(d("8"))]));
        i.set(Key::Certified, Values::Flag(vec![Some(true)]));
        i.set(Key::Cfp, Values::numbers(vec![Some(d("10"))]));
        i.set(Key::Aep, Values::numbers(vec![Some(d("1"))]));
        let s = score(&profile, &i);
        assert_eq!(s.gx_score(0), d("53.968249"));
        assert_eq!(s.missing[0], 1, "REP");
        // Shown per indicator, rounded for display only.
        assert_eq!(s.points(&i, 0, 0), d("11.111111"));
        assert_eq!(s.points(&i, 1, 0), d("9.523809"));
    }

    /// Values beyond the kernel's integers (28 decimals, or a CFP of 10^20) are scored
    /// exactly all the same.
    #[test]
    fn values_beyond_the_kernel_are_exact() {
        let profile = thirds();
        let mut i = Inputs::with_len(2);
        i.cpc = [Some("4714".to_owned()), Some("4521".to_owned())]
            .into_iter()
            .collect();
        i.set(
            Key::CircularOutflow,
            Values::numbers(vec![
                Some(d("1.0000000000000000000000000001")),
                Some(d("3.5")),
            ]),
        );
        i.set(
            Key::Cfp,
            Values::numbers(vec![Some(d("100000000000000000000")), Some(d("10"))]),
        );
        let s = score(&profile, &i);
        // Outflow just past 1 of 3: a hair over 11.111111; CFP past 30: full (0.000001).
        assert_eq!(s.gx_score(0), d("11.111112"));
        // 4521: outflow 3.5 of 7 = 1/2 → 16.6666665; CFP 10 ≤ 200 → 0.000001. 16.6666675 is
        // a tie at the seventh place; its sixth digit (7) is odd, so it goes up.
        assert_eq!(s.gx_score(1), d("16.666668"));
        for p in 0..2 {
            assert_eq!((s.gx_micros[p], s.missing[p]), exact_score(&s, &i, p));
        }
    }
}
