//! How sure a decomposition is: Monte Carlo over its items with lognormal spreads derived
//! from each footprint's data quality (the spread table, `spreads.toml`).
//!
//! Each (footprint, kind) of the items — a footprint's own Gate-to-Gate part, its untraced
//! upstream, its whole CFP when unresolved or beyond the cut-off — is one random factor per
//! sample, shared by every item it has (a supplier reached through several paths moves as
//! one). A factor is lognormal with mean 1, `exp(σ·z − σ²/2)`, so the CFP's expected value is
//! the reported CFP; mismatches (the excess of suppliers' footprints over what a footprint
//! reports) stay as they are. Sampling is seeded (ChaCha8: the same samples for a seed on
//! every machine) and split into fixed blocks, each with its own stream, so the answer does
//! not depend on the number of threads. Statistics are in f64: the exact fixed point is for
//! the reported numbers; this is about their spread.

use std::collections::HashMap;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::values::VALUE_SCALE;
use super::{Decomposition, Kind};
use crate::{Error, Result};

/// The default spread table.
pub const DEFAULT_SPREADS: &str = include_str!("spreads.toml");

/// Samples per block: each block draws from its own stream, seeded from the seed and the
/// block's number.
const BLOCK: usize = 256;

/// How data quality maps to spread: variances of the logarithm (σ²) that add up.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Spreads {
    /// σ² of a footprint with the best data.
    pub basic_variance: f64,
    /// Added σ² for technological DQR 1..5.
    pub technological: [f64; 5],
    /// Added σ² for temporal DQR 1..5.
    pub temporal: [f64; 5],
    /// Added σ² for geographical DQR 1..5.
    pub geographical: [f64; 5],
    /// DQR level assumed when a footprint gives none.
    pub missing_dqr_level: f64,
    /// Added σ² at 100 % secondary data, scaled by the secondary share.
    pub secondary_data: f64,
    /// Added σ² for an organization-based calculation.
    pub organization_based: f64,
    /// σ² of untraced upstream.
    pub untraced: f64,
    /// σ² of an unresolved footprint.
    pub unresolved: f64,
    /// σ² of what lies beyond the cut-off.
    pub beyond_cutoff: f64,
}

impl Default for Spreads {
    fn default() -> Spreads {
        // Checked by a test; the bundled table always reads.
        Spreads::parse("spreads.toml", DEFAULT_SPREADS).unwrap_or(Spreads {
            basic_variance: 0.0025,
            technological: [0.0; 5],
            temporal: [0.0; 5],
            geographical: [0.0; 5],
            missing_dqr_level: 3.0,
            secondary_data: 0.04,
            organization_based: 0.04,
            untraced: 0.09,
            unresolved: 0.25,
            beyond_cutoff: 0.25,
        })
    }
}

impl Spreads {
    /// Reads a spread table; `source` names it in errors.
    pub fn parse(source: &str, text: &str) -> Result<Spreads> {
        let s: Spreads = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(0, |sp| {
                text[..sp.start.min(text.len())].matches('\n').count() + 1
            });
            Error::Usage(format!("{source}:{line}: {}", e.message()))
        })?;
        let all = [
            s.basic_variance,
            s.secondary_data,
            s.organization_based,
            s.untraced,
            s.unresolved,
            s.beyond_cutoff,
        ]
        .into_iter()
        .chain(s.technological)
        .chain(s.temporal)
        .chain(s.geographical);
        for v in all {
            if !v.is_finite() || !(0.0..=25.0).contains(&v) {
                return Err(Error::Usage(format!(
                    "{source}: a variance of {v}: variances are from 0 to 25 (σ up to 5)"
                )));
            }
        }
        if !(1.0..=5.0).contains(&s.missing_dqr_level) {
            return Err(Error::Usage(format!(
                "{source}: missing_dqr_level {} is not a DQR from 1 to 5",
                s.missing_dqr_level
            )));
        }
        Ok(s)
    }

    /// The added σ² of DQR `level` (1 to 5, interpolated between levels) on `table`; a
    /// missing (NaN) rating is read as `missing_dqr_level`.
    fn dqr(&self, table: &[f64; 5], level: f64) -> f64 {
        let level = if level.is_nan() {
            self.missing_dqr_level
        } else {
            level.clamp(1.0, 5.0)
        };
        let below = (level.floor() as usize).clamp(1, 5);
        let above = (below + 1).min(5);
        let t = level - below as f64;
        table[below - 1] * (1.0 - t) + table[above - 1] * t
    }

    /// σ² of a footprint's own figure from its quality facts: primary data share (percent),
    /// the three DQRs (NaN when not given), and whether it is organization-based.
    pub fn own_variance(&self, weighted: [f64; 4], organization_based: bool) -> f64 {
        let [pds, technological, temporal, geographical] = weighted;
        let secondary = if pds.is_nan() {
            1.0
        } else {
            1.0 - (pds / 100.0).clamp(0.0, 1.0)
        };
        self.basic_variance
            + self.dqr(&self.technological, technological)
            + self.dqr(&self.temporal, temporal)
            + self.dqr(&self.geographical, geographical)
            + self.secondary_data * secondary
            + if organization_based {
                self.organization_based
            } else {
                0.0
            }
    }
}

/// What to compute.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UncertaintyRequest {
    /// Samples.
    pub samples: usize,
    /// Seed.
    pub seed: u64,
    /// Suppliers listed by name (the largest shares); the others are one "(rest)" row.
    pub top: usize,
}

/// 2.5th, 50th and 97.5th percentiles.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    /// 2.5th percentile.
    pub p2_5: f64,
    /// Median.
    pub p50: f64,
    /// 97.5th percentile.
    pub p97_5: f64,
}

/// A group's share of the CFP: as reported and its interval, in percent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShareInterval {
    /// The supplier (company name), the tier, or the footprint (its product's name).
    pub name: String,
    /// The footprint's id (footprints only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The share as reported, percent.
    pub share_pct: f64,
    /// Its interval over the samples, percent.
    pub interval_pct: Interval,
    /// The interval of what it gives, kgCO2e per declared unit.
    pub interval_kgco2e: Interval,
}

/// How sure a decomposition is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Uncertainty {
    /// Samples drawn.
    pub samples: usize,
    /// Seed.
    pub seed: u64,
    /// The reported CFP, kgCO2e per declared unit.
    pub cfp_kgco2e_per_unit: f64,
    /// The CFP's mean over the samples.
    pub mean_kgco2e_per_unit: f64,
    /// The CFP's standard deviation over the samples.
    pub sd_kgco2e_per_unit: f64,
    /// The CFP's interval.
    pub cfp_interval: Interval,
    /// The suppliers' shares (by company, largest first, then "(rest)").
    pub suppliers: Vec<ShareInterval>,
    /// The tiers' shares.
    pub tiers: Vec<ShareInterval>,
    /// The footprints' shares (largest first as the hotspot Pareto ranks them: by what
    /// their items add up to, then id; then "(rest)").
    pub footprints: Vec<ShareInterval>,
}

/// A value at [`VALUE_SCALE`] as f64: whole units and the fraction apart, so that a whole
/// number stays exact (10 is 10.0, not 10.000000000000002).
fn kg(v: i128) -> f64 {
    let unit = 10i128.pow(VALUE_SCALE);
    (v / unit) as f64 + (v % unit) as f64 / unit as f64
}

/// One random factor: its σ, and its items' total, by group.
struct Draw {
    sigma: f64,
    parts: Vec<Part>,
}

/// (supplier group, tier group, footprint group, kgCO2e)
type Part = (u32, u32, u32, f64);

/// The groups a decomposition's items fall in.
struct Groups {
    /// Suppliers named, then "(rest)" when there are more.
    suppliers: Vec<String>,
    tiers: Vec<u32>,
    /// Footprints named (product name, id), then "(rest)" when there are more.
    footprints: Vec<(String, Option<String>)>,
}

/// The draws of `d` under `spreads`: one per (footprint, kind) of its items.
fn draws(d: &Decomposition, spreads: &Spreads, top: usize) -> (Vec<Draw>, Groups) {
    let graph = &d.items.graph;
    // Suppliers by reported share: the `top` largest by name, the rest together.
    let mut by_company: HashMap<&str, f64> = HashMap::new();
    for i in d.items.walked() {
        *by_company.entry(graph.company_name(i.node)).or_default() += kg(i.value);
    }
    let mut companies: Vec<(&str, f64)> = by_company.into_iter().collect();
    companies.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    let mut names: Vec<String> = companies.iter().take(top).map(|c| c.0.to_owned()).collect();
    let rest = names.len() as u32;
    if companies.len() > top {
        names.push("(rest)".into());
    }
    let group: HashMap<&str, u32> = (companies.iter().enumerate())
        .map(|(i, c)| (c.0, (i as u32).min(rest)))
        .collect();
    let mut tiers: Vec<u32> = d.items.walked().iter().map(|i| i.tier).collect();
    tiers.sort_unstable();
    tiers.dedup();
    // Footprints by what their items add up to, exactly, then id (the Pareto's order). A
    // footprint met on many tiers of a cycle can pass i128's range: it saturates, and
    // orders as the largest.
    let mut by_id: HashMap<&str, (i128, u32)> = HashMap::new();
    for i in d.items.walked() {
        let sum = &mut by_id.entry(graph.id(i.node)).or_insert((0, i.node)).0;
        *sum = sum.saturating_add(i.value);
    }
    let mut ids: Vec<(&str, (i128, u32))> = by_id.into_iter().collect();
    ids.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(b.0)));
    let named = ids.len().min(top) as u32;
    let footprint_group: HashMap<&str, u32> = (ids.iter().enumerate())
        .map(|(i, f)| (f.0, (i as u32).min(named)))
        .collect();
    let mut footprints: Vec<(String, Option<String>)> = (ids.iter().take(top))
        .map(|(id, (_, n))| (graph.product_name(*n).to_owned(), Some((*id).to_owned())))
        .collect();
    if ids.len() > top {
        footprints.push(("(rest)".into(), None));
    }

    let kept = graph.facts();
    let mut index: HashMap<(u32, Kind), usize> = HashMap::new();
    let mut out: Vec<Draw> = Vec::new();
    for i in d.items.walked() {
        let value = kg(i.value);
        let sigma = match i.kind {
            Kind::Mismatch => 0.0,
            Kind::Untraced => spreads.untraced.sqrt(),
            Kind::Unresolved => spreads.unresolved.sqrt(),
            Kind::BeyondCutoff => spreads.beyond_cutoff.sqrt(),
            Kind::Own => {
                let f = kept.map_or_else(|| graph.facts_of(i.node), |f| f[i.node as usize]);
                spreads
                    .own_variance(f.weighted, f.organization_based)
                    .sqrt()
            }
        };
        let at = *index.entry((i.node, i.kind)).or_insert_with(|| {
            out.push(Draw {
                sigma,
                parts: Vec::new(),
            });
            out.len() - 1
        });
        let supplier = group[graph.company_name(i.node)];
        let tier = tiers.binary_search(&i.tier).unwrap_or(0) as u32;
        let footprint = footprint_group[graph.id(i.node)];
        out[at].parts.push((supplier, tier, footprint, value));
    }
    let groups = Groups {
        suppliers: names,
        tiers,
        footprints,
    };
    (out, groups)
}

/// The `q`-quantile of sorted `v` (linear between order statistics).
fn quantile(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let at = q * (v.len() - 1) as f64;
    let (lo, hi) = (at.floor() as usize, at.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (at - lo as f64)
}

fn interval(mut v: Vec<f64>) -> Interval {
    v.sort_unstable_by(f64::total_cmp);
    Interval {
        p2_5: quantile(&v, 0.025),
        p50: quantile(&v, 0.5),
        p97_5: quantile(&v, 0.975),
    }
}

/// A lognormal factor with mean 1 and log standard deviation `sigma`: `exp(σz − σ²/2)`.
pub fn factor(rng: &mut ChaCha8Rng, sigma: f64) -> f64 {
    if sigma == 0.0 {
        return 1.0;
    }
    let z: f64 = StandardNormal.sample(rng);
    (sigma * z - sigma * sigma / 2.0).exp()
}

/// `samples` samples in blocks of 256 over the cores: `each(rng, n)` draws a block of
/// `n` samples from its own stream (seeded by `seed`, the stream by the block's number), so
/// the results, in block order, do not depend on the number of threads.
pub fn in_blocks<T: Send>(
    samples: usize,
    seed: u64,
    each: impl Fn(&mut ChaCha8Rng, usize) -> T + Sync,
) -> Vec<T> {
    (0..samples.div_ceil(BLOCK))
        .into_par_iter()
        .map(|b| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(b as u64);
            each(&mut rng, BLOCK.min(samples - b * BLOCK))
        })
        .collect()
}

/// Monte Carlo over `d`'s items with `spreads`.
pub fn uncertainty(
    d: &Decomposition,
    spreads: &Spreads,
    req: UncertaintyRequest,
) -> Result<Uncertainty> {
    if !(1..=1_000_000).contains(&req.samples) {
        return Err(Error::Usage(format!(
            "{} samples asked: from 1 to 1,000,000",
            req.samples
        )));
    }
    let (draws, named) = draws(d, spreads, req.top);
    let (names, tiers) = (&named.suppliers, &named.tiers);
    let (groups, tier_groups) = (names.len(), tiers.len());
    let fp_at = 1 + groups + tier_groups;
    // Per sample: the CFP, each supplier group's, each tier's and each footprint group's
    // total.
    let width = fp_at + named.footprints.len();
    let sums: Vec<Vec<f64>> = in_blocks(req.samples, req.seed, |rng, n| {
        let mut out = vec![0.0; n * width];
        for s in 0..n {
            let row = &mut out[s * width..(s + 1) * width];
            for draw in &draws {
                // Every draw takes its normal, σ = 0 or not, so a spread set to 0
                // leaves the other draws as they were.
                let z: f64 = StandardNormal.sample(rng);
                let f = (draw.sigma * z - draw.sigma * draw.sigma / 2.0).exp();
                for &(g, t, p, v) in &draw.parts {
                    let x = v * f;
                    row[0] += x;
                    row[1 + g as usize] += x;
                    row[1 + groups + t as usize] += x;
                    row[fp_at + p as usize] += x;
                }
            }
        }
        out
    });
    let rows: Vec<&[f64]> = sums.iter().flat_map(|b| b.chunks(width)).collect();
    let cfp: Vec<f64> = rows.iter().map(|r| r[0]).collect();
    let reported = kg(d.cfp_kgco2e_per_unit);
    let share = |column: usize| -> Interval {
        interval(
            rows.iter()
                .map(|r| {
                    if r[0] == 0.0 {
                        0.0
                    } else {
                        r[column] / r[0] * 100.0
                    }
                })
                .collect(),
        )
    };
    let amount = |column: usize| -> Interval { interval(rows.iter().map(|r| r[column]).collect()) };
    let reported_share = |pick: &dyn Fn(&Part) -> bool| -> f64 {
        let total: f64 = (draws.iter().flat_map(|d| &d.parts))
            .filter(|p| pick(p))
            .map(|p| p.3)
            .sum();
        if reported == 0.0 {
            0.0
        } else {
            100.0 * total / reported
        }
    };
    let suppliers = (0..groups)
        .map(|g| ShareInterval {
            name: names[g].clone(),
            key: None,
            share_pct: reported_share(&|p| p.0 as usize == g),
            interval_pct: share(1 + g),
            interval_kgco2e: amount(1 + g),
        })
        .collect();
    let footprints = (named.footprints.iter().enumerate())
        .map(|(f, (name, key))| ShareInterval {
            name: name.clone(),
            key: key.clone(),
            share_pct: reported_share(&|p| p.2 as usize == f),
            interval_pct: share(fp_at + f),
            interval_kgco2e: amount(fp_at + f),
        })
        .collect();
    let tiers = (0..tier_groups)
        .map(|t| ShareInterval {
            name: tiers[t].to_string(),
            key: None,
            share_pct: reported_share(&|p| p.1 as usize == t),
            interval_pct: share(1 + groups + t),
            interval_kgco2e: amount(1 + groups + t),
        })
        .collect();
    let n = cfp.len() as f64;
    let mean = cfp.iter().sum::<f64>() / n;
    let sd = if cfp.len() > 1 {
        (cfp.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    Ok(Uncertainty {
        samples: req.samples,
        seed: req.seed,
        cfp_kgco2e_per_unit: reported,
        mean_kgco2e_per_unit: mean,
        sd_kgco2e_per_unit: sd,
        cfp_interval: interval(cfp),
        suppliers,
        tiers,
        footprints,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_table_reads() {
        let s = Spreads::parse("spreads.toml", DEFAULT_SPREADS).expect("reads");
        assert_eq!(s, Spreads::default());
        // Best data: the basic variance only.
        assert_eq!(s.own_variance([100.0, 1.0, 1.0, 1.0], false), 0.0025);
        // DQR 2.5 is halfway between levels 2 and 3 of each table.
        let v = s.own_variance([100.0, 2.5, 2.5, 2.5], false);
        let want =
            0.0025 + (0.0006 + 0.008) / 2.0 + (0.0002 + 0.002) / 2.0 + (0.000025 + 0.0001) / 2.0;
        assert!((v - want).abs() < 1e-15, "{v} vs {want}");
        // No facts at all: DQR 3 everywhere, all secondary.
        let v = s.own_variance([f64::NAN; 4], true);
        let want = 0.0025 + 0.008 + 0.002 + 0.0001 + 0.04 + 0.04;
        assert!((v - want).abs() < 1e-15, "{v} vs {want}");
    }

    #[test]
    fn a_bad_table_is_refused_with_its_line() {
        let e = Spreads::parse("s.toml", "basic_variance = 1\n").expect_err("incomplete");
        assert!(e.to_string().starts_with("s.toml:"), "{e}");
        let bad = DEFAULT_SPREADS.replace("untraced = 0.09", "untraced = -1");
        let e = Spreads::parse("s.toml", &bad).expect_err("negative");
        assert!(e.to_string().contains("variances are from 0 to 25"), "{e}");
    }

    #[test]
    fn the_last_monte_carlo_asked_is_given_again_and_anything_else_is_drawn() {
        use crate::hotspot::{GraphSource, Request};
        let graph = crate::dataset::graph(None).expect("the demo's graph");
        let source = GraphSource::from_graph(std::sync::Arc::new(graph));
        let req = Request::new("urn:mieruka-demo:product:kaede-note-14");
        let spreads = Spreads::default();
        let ask = UncertaintyRequest {
            samples: 200,
            seed: 7,
            top: 5,
        };
        let (d, first) = source.uncertainty(&req, &spreads, ask).expect("drawn");
        let (_, again) = source.uncertainty(&req, &spreads, ask).expect("given");
        assert!(std::sync::Arc::ptr_eq(&first, &again), "drawn again");
        assert_eq!(*first, uncertainty(&d, &spreads, ask).expect("drawn here"));

        // Another seed, top, question or spread table is its own Monte Carlo.
        let mut deeper = req.clone();
        deeper.max_tier = 1;
        let mut wider = spreads.clone();
        wider.untraced *= 2.0;
        let others = [
            (&req, &spreads, UncertaintyRequest { seed: 8, ..ask }),
            (&req, &spreads, UncertaintyRequest { top: 2, ..ask }),
            (&deeper, &spreads, ask),
            (&req, &wider, ask),
        ];
        for (r, s, k) in others {
            let (d, u) = source.uncertainty(r, s, k).expect("drawn");
            assert!(
                !std::sync::Arc::ptr_eq(&u, &first),
                "{k:?} given as the first"
            );
            assert_eq!(*u, uncertainty(&d, s, k).expect("drawn here"), "{k:?}");
            assert_ne!(*u, *first, "{k:?} draws the first's samples");
        }
    }

    #[test]
    fn quantiles_interpolate() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(quantile(&v, 0.5), 3.0);
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert_eq!(quantile(&v, 1.0), 5.0);
        assert_eq!(quantile(&v, 0.125), 1.5);
    }
}
