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
    /// Credit per indicator (profile order), per product, in millionths
    /// (6 places: every credit is a multiple of 10⁻⁶ in 0..=1);
    /// [`MISSING`] where the value is missing. Read through [`Scores::credit`].
    pub credits: Vec<Vec<i32>>,
}

/// The credit column value of a missing indicator.
pub const MISSING: i32 = i32::MIN;

const MICROS: i64 = 1_000_000;

impl Scores {
    /// Credit of indicator `i` for product `p` (0 to 1), `None` when its value is missing.
    pub fn credit(&self, i: usize, p: usize) -> Option<Decimal> {
        match self.credits[i][p] {
            MISSING => None,
            0 => Some(Decimal::ZERO),
            c if c as i64 == MICROS => Some(Decimal::ONE),
            c => Some(Decimal::new(c as i64, profile::CREDIT_SCALE).normalize()),
        }
    }

    /// Points of indicator `i` for product `p`.
    pub fn points(&self, i: usize, p: usize) -> Decimal {
        self.credit(i, p)
            .map_or(Decimal::ZERO, |c| self.profile.indicators[i].weight * c)
    }
}

/// Decimal places of the integer fast path: inputs and thresholds at this scale compare as
/// integers (amounts are stored with 12 decimals).
const FAST_SCALE: u32 = 12;

const POW10: [i128; 13] = {
    let mut t = [1i128; 13];
    let mut i = 1;
    while i < 13 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// `d` as an integer count of 10⁻¹² units, if it fits.
fn fixed(d: Decimal) -> Option<i128> {
    let s = d.scale();
    if s > FAST_SCALE {
        return None;
    }
    d.mantissa().checked_mul(POW10[(FAST_SCALE - s) as usize])
}

/// A rule prepared for integer evaluation; every path falls back to [`Rule::credit_number`]
/// when a value does not fit, so results are exactly the decimal ones.
enum Fast {
    Full,
    AtLeast(i128),
    AtMost(i128),
    /// Credit (x − zero) / span, with `span` > 0 after `sign` is applied.
    Linear {
        zero: i128,
        span: i128,
        sign: i128,
    },
    Decimal,
}

impl Fast {
    fn of(rule: &Rule) -> Fast {
        match *rule {
            Rule::Present => Fast::Full,
            Rule::AtLeast(t) | Rule::Reduction(t) => fixed(t).map_or(Fast::Decimal, Fast::AtLeast),
            Rule::AtMost(t) => fixed(t).map_or(Fast::Decimal, Fast::AtMost),
            Rule::Linear { zero_at, full_at } => match (fixed(zero_at), fixed(full_at)) {
                (Some(z), Some(f)) if z != f => Fast::Linear {
                    zero: z,
                    span: (f - z).abs(),
                    sign: (f - z).signum(),
                },
                _ => Fast::Decimal,
            },
        }
    }

    fn credit(&self, rule: &Rule, x: Decimal) -> i64 {
        let slow = || micros(rule.credit_number(x));
        let yes = |b: bool| if b { MICROS } else { 0 };
        match *self {
            Fast::Full => MICROS,
            Fast::AtLeast(t) => fixed(x).map_or_else(slow, |v| yes(v >= t)),
            Fast::AtMost(t) => fixed(x).map_or_else(slow, |v| yes(v <= t)),
            Fast::Linear { zero, span, sign } => {
                let Some(num) = fixed(x).and_then(|v| v.checked_sub(zero)).map(|d| d * sign) else {
                    return slow();
                };
                if num <= 0 {
                    return 0;
                }
                if num >= span {
                    return MICROS;
                }
                let Some(scaled) = num.checked_mul(MICROS as i128) else {
                    return slow();
                };
                let (q, r) = (scaled / span, scaled % span);
                // The decimal path divides to 28 significant digits, then rounds half to
                // even at 6 places. Away from a tie the two agree; near one, ask it.
                let off_tie = (2 * r - span).abs();
                match off_tie.checked_mul(10i128.pow(20)) {
                    Some(m) if m <= 2 * span => slow(),
                    _ => (q + i128::from(2 * r > span)) as i64,
                }
            }
            Fast::Decimal => slow(),
        }
    }
}

/// A credit in millionths (credits are rounded to [`profile::CREDIT_SCALE`] places).
fn micros(mut c: Decimal) -> i64 {
    c.rescale(profile::CREDIT_SCALE);
    c.mantissa() as i64
}

/// Products scored per parallel task.
const CHUNK: usize = 16 * 1024;

/// Scores every product of `inputs` with `profile`.
pub fn score(profile: &Profile, inputs: &Inputs) -> Scores {
    let n = inputs.len();
    // The rules that apply to each distinct category, resolved once.
    let mut rulesets: Vec<Vec<&Rule>> = Vec::new();
    // DataFusion's hashbrown map (foldhash): one lookup per product, cheaper than SipHash.
    let mut by_cpc: datafusion::common::HashMap<Option<&str>, usize> = Default::default();
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

    // Points are summed exactly in integers: weight × credit at the weights' largest scale
    // plus the credits' six places. Profile weights have at most 6 decimals (checked when a
    // profile is read), so a total fits easily.
    let weight_scale = profile
        .indicators
        .iter()
        .map(|i| i.weight.scale())
        .max()
        .unwrap_or(0);
    let weights: Vec<i128> = profile
        .indicators
        .iter()
        .map(|i| i.weight.mantissa() * 10i128.pow(weight_scale - i.weight.scale()))
        .collect();

    let fast: Vec<Vec<Fast>> = rulesets
        .iter()
        .map(|rules| rules.iter().map(|r| Fast::of(r)).collect())
        .collect();

    let k = profile.indicators.len();
    let mut totals = vec![0i128; n];
    let mut missing = vec![0u32; n];
    let mut credits: Vec<Vec<i32>> = (0..k).map(|_| vec![0i32; n]).collect();
    // Each parallel task gets the same product range of every column.
    let mut per_chunk: Vec<Vec<&mut [i32]>> = (0..n.div_ceil(CHUNK))
        .map(|_| Vec::with_capacity(k))
        .collect();
    for column in credits.iter_mut() {
        for (c, part) in column.chunks_mut(CHUNK).enumerate() {
            per_chunk[c].push(part);
        }
    }
    totals
        .par_chunks_mut(CHUNK)
        .zip(missing.par_chunks_mut(CHUNK))
        .zip(per_chunk.into_par_iter())
        .enumerate()
        .for_each(|(c, ((total, missing), mut out))| {
            let start = c * CHUNK;
            let len = total.len();
            let ruleset = &ruleset[start..start + len];
            for (i, col) in columns.iter().enumerate() {
                let out = &mut out[i];
                let weight = weights[i];
                let mut put = |j: usize, credit: Option<i64>| match credit {
                    None => {
                        missing[j] += 1;
                        out[j] = MISSING;
                    }
                    Some(c) => {
                        total[j] += weight * c as i128;
                        // Credits are 0..=1_000_000 millionths.
                        out[j] = c as i32;
                    }
                };
                match col {
                    Values::Flag(v) => {
                        for (j, b) in v[start..start + len].iter().enumerate() {
                            put(j, b.map(|b| if b { MICROS } else { 0 }));
                        }
                    }
                    Values::Number(v) => {
                        for (j, x) in v[start..start + len].iter().enumerate() {
                            let r = ruleset[j];
                            put(j, x.map(|x| fast[r][i].credit(rulesets[r][i], x)));
                        }
                    }
                }
            }
        });
    let scale = weight_scale + profile::CREDIT_SCALE;
    let gx_score = totals
        .into_par_iter()
        .map(|t| Decimal::from_i128_with_scale(t, scale).normalize())
        .collect();
    Scores {
        profile: profile.clone(),
        gx_score,
        missing,
        credits,
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
                        let c = self.credit(i, p);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generator::Rng;

    /// The integer fast path gives exactly the decimal path's credits, ties and both
    /// directions of `linear` included.
    #[test]
    fn fast_credits_equal_decimal_credits() {
        let d = |s: &str| s.parse::<Decimal>().expect("decimal");
        let rules = [
            Rule::Linear {
                zero_at: d("0"),
                full_at: d("50"),
            },
            Rule::Linear {
                zero_at: d("0"),
                full_at: d("30"),
            },
            Rule::Linear {
                zero_at: d("50"),
                full_at: d("0"),
            },
            Rule::Linear {
                zero_at: d("0.001"),
                full_at: d("0.003"),
            },
            Rule::Linear {
                zero_at: d("-7"),
                full_at: d("3.5"),
            },
            Rule::AtLeast(d("0.001")),
            Rule::AtMost(d("250")),
            Rule::Reduction(d("5")),
            Rule::Present,
        ];
        let mut rng = Rng::for_item(5, 0, 0);
        let mut values: Vec<Decimal> = (0..20_000)
            .map(|_| {
                let scale = rng.below(13) as u32;
                let m = rng.below(2_000_000_000_000) as i64 - 600_000_000_000;
                Decimal::new(m, scale)
            })
            .collect();
        // Exact ties at the sixth place for span 50 and 30, the thresholds themselves, and
        // values beyond the fast path's twelve places.
        values.extend(
            [
                "0.000025", "0.000075", "0.000015", "50", "30", "0.001", "0.003", "250", "5",
            ]
            .map(d),
        );
        values.push(Decimal::new(1, 20));
        values.push(Decimal::new(i64::MAX, 3));
        for rule in &rules {
            let fast = Fast::of(rule);
            for &x in &values {
                assert_eq!(
                    fast.credit(rule, x),
                    micros(rule.credit_number(x)),
                    "{rule:?} at {x}"
                );
            }
        }
    }
}
