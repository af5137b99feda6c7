//! Synthetic supply chains for tests and benchmarks: `mieruka gen`.
//!
//! A chain has `tiers` tiers. Tier 0 holds the root products; the other nodes are spread
//! evenly over tiers 1…tiers-1. Every node that is not a leaf or a black box takes `fanout`
//! distinct inputs from the next tier (with `skip_pct` % of them from the tier after, so
//! suppliers are reached on several tiers). Footprints are consistent bottom-up:
//! `cfp = g2g + Σ amount·cfp(input) + gap`, where the gap is positive (untraced upstream) for
//! `gap_pct` % of nodes and negative (a mismatch) for `mismatch_pct` %. Black boxes
//! (`black_box_pct` %) report a CFP without Gate-to-Gate data and without inputs.
//! `cycle_pct` % of nodes get one extra input pointing back at a node that uses them.
//!
//! Every random choice comes from a generator seeded by `(seed, node, purpose)`, so the
//! same options give byte-identical files whatever the thread count.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use rust_decimal::Decimal;

use crate::{Error, Result};

/// Options of `mieruka gen`.
#[derive(Debug, Clone)]
pub struct GenOptions {
    /// Total footprints.
    pub nodes: usize,
    /// Number of tiers (tier 0 = roots).
    pub tiers: usize,
    /// Inputs per expanded node.
    pub fanout: usize,
    /// Seed.
    pub seed: u64,
    /// Root products on tier 0 (default: nodes / 1000, at least 1).
    pub roots: Option<usize>,
    /// Percent of nodes without Gate-to-Gate data and inputs.
    pub black_box_pct: f64,
    /// Percent of nodes reporting untraced upstream emissions.
    pub gap_pct: f64,
    /// Percent of nodes whose inputs exceed their reported upstream.
    pub mismatch_pct: f64,
    /// Percent of nodes with an extra input that closes a cycle.
    pub cycle_pct: f64,
    /// Percent of inputs taken from two tiers down instead of one.
    pub skip_pct: f64,
}

impl Default for GenOptions {
    fn default() -> Self {
        GenOptions {
            nodes: 1000,
            tiers: 4,
            fanout: 3,
            seed: 1,
            roots: None,
            black_box_pct: 5.0,
            gap_pct: 20.0,
            mismatch_pct: 2.0,
            cycle_pct: 0.0,
            skip_pct: 10.0,
        }
    }
}

/// SplitMix64: small, fast, and good enough for synthetic data.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for one `(seed, item, purpose)`.
    pub fn for_item(seed: u64, item: u64, purpose: u64) -> Rng {
        let mut r = Rng(seed ^ item.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ purpose.rotate_left(32));
        r.next_u64();
        r
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// True with probability `pct` percent.
    pub fn chance(&mut self, pct: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * 100.0 < pct
    }

    /// A decimal in `lo..=hi` thousandths, as `Decimal` with 3 places.
    pub fn milli(&mut self, lo: i64, hi: i64) -> Decimal {
        Decimal::new(lo + self.below((hi - lo + 1) as u64) as i64, 3)
    }
}

/// One generated footprint.
#[derive(Debug, Clone)]
pub struct Node {
    /// Tier.
    pub tier: usize,
    /// Gate-to-Gate emissions; `None` for a black box.
    pub g2g: Option<Decimal>,
    /// Reported upstream not explained by inputs (negative: mismatch).
    pub gap: Decimal,
    /// Cradle-to-gate footprint, computed bottom-up.
    pub cfp: Decimal,
    /// Company index.
    pub company: usize,
}

/// A generated chain: nodes and edges `(parent, child, amount)`.
#[derive(Debug, Clone)]
pub struct Graph {
    /// Options used.
    pub opts: GenOptions,
    /// Nodes, tier by tier.
    pub nodes: Vec<Node>,
    /// Edges, grouped by parent in node order.
    pub edges: Vec<(u32, u32, Decimal)>,
}

const P_SHAPE: u64 = 1;
const P_CHILDREN: u64 = 2;
const P_VALUES: u64 = 3;
const P_CYCLE: u64 = 4;
const P_ID: u64 = 5;

/// First node index of each tier, plus the end.
fn tier_starts(opts: &GenOptions) -> Vec<usize> {
    let tiers = opts.tiers.max(1);
    let roots = opts
        .roots
        .unwrap_or(opts.nodes / 1000)
        .clamp(1, opts.nodes.max(1));
    let mut starts = vec![0, roots];
    let rest = opts.nodes.saturating_sub(roots);
    for k in 1..tiers {
        let share = rest / (tiers - 1) + usize::from(k - 1 < rest % (tiers - 1));
        starts.push(starts[k] + share);
    }
    if tiers == 1 {
        starts.truncate(2);
    }
    starts
}

/// Generates a chain.
pub fn generate(opts: &GenOptions) -> Result<Graph> {
    if opts.nodes == 0 || opts.tiers == 0 {
        return Err(Error::Usage("gen needs --nodes ≥ 1 and --tiers ≥ 1".into()));
    }
    if opts.nodes > u32::MAX as usize {
        return Err(Error::Usage(format!("gen: at most {} nodes", u32::MAX)));
    }
    let starts = tier_starts(opts);
    let tiers = starts.len() - 1;
    let tier_of = |n: usize| starts.partition_point(|s| *s <= n) - 1;
    let companies = (opts.nodes / 3).max(1);

    // Shape: black boxes, then the inputs of every other node above the last tier.
    let black_box: Vec<bool> = (0..opts.nodes)
        .map(|n| Rng::for_item(opts.seed, n as u64, P_SHAPE).chance(opts.black_box_pct))
        .collect();
    let children: Vec<Vec<(u32, Decimal)>> = (0..opts.nodes)
        .into_par_iter()
        .map(|n| {
            let tier = tier_of(n);
            if tier + 1 >= tiers || black_box[n] {
                return Vec::new();
            }
            let mut rng = Rng::for_item(opts.seed, n as u64, P_CHILDREN);
            let mut picked: Vec<(u32, Decimal)> = Vec::with_capacity(opts.fanout);
            let mut attempts = 0;
            while picked.len() < opts.fanout && attempts < opts.fanout * 8 {
                attempts += 1;
                let target = if tier + 2 < tiers && rng.chance(opts.skip_pct) {
                    tier + 2
                } else {
                    tier + 1
                };
                let (lo, hi) = (starts[target], starts[target + 1]);
                if hi == lo {
                    continue;
                }
                let c = (lo + rng.below((hi - lo) as u64) as usize) as u32;
                if picked.iter().any(|(p, _)| *p == c) {
                    continue;
                }
                picked.push((c, rng.milli(1, 2000)));
            }
            picked
        })
        .collect();

    // Values bottom-up, tier by tier (a tier only uses deeper tiers).
    let mut cfp = vec![Decimal::ZERO; opts.nodes];
    let mut nodes: Vec<Node> = Vec::with_capacity(opts.nodes);
    nodes.resize(
        opts.nodes,
        Node {
            tier: 0,
            g2g: None,
            gap: Decimal::ZERO,
            cfp: Decimal::ZERO,
            company: 0,
        },
    );
    for tier in (0..tiers).rev() {
        let range = starts[tier]..starts[tier + 1];
        let computed: Vec<Node> = range
            .clone()
            .into_par_iter()
            .map(|n| {
                let mut rng = Rng::for_item(opts.seed, n as u64, P_VALUES);
                let company = rng.below(companies as u64) as usize;
                if black_box[n] {
                    let c = rng.milli(500, 50_000);
                    return Node {
                        tier,
                        g2g: None,
                        gap: Decimal::ZERO,
                        cfp: c,
                        company,
                    };
                }
                let g2g = rng.milli(50, 5000);
                let inputs: Decimal = children[n].iter().map(|(c, a)| *a * cfp[*c as usize]).sum();
                let gap = if rng.chance(opts.mismatch_pct) && !inputs.is_zero() {
                    -(inputs * rng.milli(50, 200)).round_dp(6)
                } else if rng.chance(opts.gap_pct) {
                    ((g2g + inputs) * rng.milli(50, 300)).round_dp(6)
                } else {
                    Decimal::ZERO
                };
                let total = (g2g + inputs + gap).round_dp(6).max(Decimal::ZERO);
                Node {
                    tier,
                    g2g: Some(g2g),
                    gap,
                    cfp: total,
                    company,
                }
            })
            .collect();
        for (n, node) in range.zip(computed) {
            cfp[n] = node.cfp;
            nodes[n] = node;
        }
    }

    let mut edges: Vec<(u32, u32, Decimal)> =
        Vec::with_capacity(children.iter().map(Vec::len).sum());
    let mut first_parent: Vec<Option<u32>> = vec![None; opts.nodes];
    for (p, list) in children.iter().enumerate() {
        for (c, a) in list {
            edges.push((p as u32, *c, *a));
            first_parent[*c as usize].get_or_insert(p as u32);
        }
    }
    if opts.cycle_pct > 0.0 {
        for n in 0..opts.nodes {
            let Some(parent) = first_parent[n] else {
                continue;
            };
            if black_box[n] {
                continue;
            }
            let mut rng = Rng::for_item(opts.seed, n as u64, P_CYCLE);
            if rng.chance(opts.cycle_pct) {
                edges.push((n as u32, parent, rng.milli(1, 100)));
            }
        }
        edges.sort_by_key(|e| (e.0, e.1));
    }
    Ok(Graph {
        opts: opts.clone(),
        nodes,
        edges,
    })
}

/// What `gen` wrote.
#[derive(Debug, Clone)]
pub struct GenSummary {
    /// The footprints file.
    pub footprints: PathBuf,
    /// The BOM file.
    pub bom: PathBuf,
    /// Footprints written.
    pub nodes: usize,
    /// Edges written.
    pub edges: usize,
    /// Bytes of the footprints file.
    pub footprint_bytes: u64,
}

/// Product URN of node `n`.
pub fn product_urn(seed: u64, n: usize) -> String {
    format!("urn:mieruka:gen:{seed}:{n}")
}

fn uuid(seed: u64, n: usize) -> String {
    let mut r = Rng::for_item(seed, n as u64, P_ID);
    let (a, b) = (r.next_u64(), r.next_u64());
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0x0fff,
        0x8000 | (b >> 48) & 0x3fff,
        b & 0xffff_ffff_ffff
    )
}

const COUNTRIES: [&str; 9] = ["JP", "CN", "TW", "KR", "VN", "TH", "MY", "US", "DE"];
const CPC: [&str; 6] = ["452", "4711", "4721", "4642", "4153", "3694"];
const GXD_SCHEMA: &str = "https://github.com/Green-x-Digital-Consortium/data-model-extensions/blob/main/specs/GxD_schema_en.json";

/// One footprint as a single NDJSON line (PACT v2.3 with the GxD extension).
fn document(g: &Graph, n: usize, out: &mut String) {
    let seed = g.opts.seed;
    let node = &g.nodes[n];
    let mut rng = Rng::for_item(seed, n as u64, P_VALUES ^ 0xff);
    let country = COUNTRIES[rng.below(COUNTRIES.len() as u64) as usize];
    let cpc = CPC[node.tier.min(CPC.len() - 1)];
    let pds = rng.below(1000) as f64 / 10.0;
    let dqr = |r: &mut Rng| format!("{}.{}", 1 + r.below(2), r.below(10));
    let (t, te, ge, co, re) = (
        dqr(&mut rng),
        dqr(&mut rng),
        dqr(&mut rng),
        dqr(&mut rng),
        dqr(&mut rng),
    );
    let fossil = node.cfp;
    let _ = write!(
        out,
        r#"{{"id":"{id}","specVersion":"2.3.0","version":1,"created":"2025-02-01T00:00:00Z","status":"Active","validityPeriodStart":"2025-01-01T00:00:00Z","validityPeriodEnd":"2027-12-31T00:00:00Z","companyName":"Supplier {company:05}","companyIds":["urn:mieruka:gen-company:{seed}:{company}"],"productDescription":"Synthetic part {n} on tier {tier}","productIds":["{urn}"],"productCategoryCpc":"{cpc}","productNameCompany":"Part {n}","comment":"synthetic (mieruka gen)","pcf":{{"declaredUnit":"kilogram","unitaryProductAmount":"1","productMassPerDeclaredUnit":"1","pCfExcludingBiogenic":"{cfp}","pCfIncludingBiogenic":"{cfp}","fossilGhgEmissions":"{fossil}","fossilCarbonContent":"0","biogenicCarbonContent":"0","dLucGhgEmissions":"0","landManagementGhgEmissions":"0","otherBiogenicGhgEmissions":"0","iLucGhgEmissions":"0","biogenicCarbonWithdrawal":"0","aircraftGhgEmissions":"0","characterizationFactors":"AR6","ipccCharacterizationFactorsSources":["AR6"],"crossSectoralStandardsUsed":["GHG Protocol Product standard","ISO Standard 14067"],"crossSectoralStandards":["GHGP-Product","ISO14067"],"productOrSectorSpecificRules":[{{"operator":"Other","ruleNames":["JEITA PC PCR"],"otherOperatorName":"JEITA"}}],"biogenicAccountingMethodology":"GHGP","boundaryProcessesDescription":"cradle-to-gate: materials, parts, assembly","referencePeriodStart":"2024-01-01T00:00:00Z","referencePeriodEnd":"2025-01-01T00:00:00Z","geographyCountry":"{country}","secondaryEmissionFactorSources":[{{"name":"ecoinvent","version":"3.10"}}],"exemptedEmissionsPercent":0.5,"exemptedEmissionsDescription":"minor auxiliaries","packagingEmissionsIncluded":true,"packagingGhgEmissions":"0","allocationRulesDescription":"mass allocation","uncertaintyAssessmentDescription":"not assessed","primaryDataShare":{pds},"dqi":{{"coveragePercent":95,"technologicalDQR":{t},"temporalDQR":{te},"geographicalDQR":{ge},"completenessDQR":{co},"reliabilityDQR":{re}}},"assurance":{{"assurance":false,"providerName":""}}}}"#,
        id = uuid(seed, n),
        company = node.company,
        tier = node.tier,
        urn = product_urn(seed, n),
        cfp = node.cfp,
    );
    match node.g2g {
        Some(g2g) => {
            let _ = write!(
                out,
                r#","extensions":[{{"specVersion":"2.0.0","dataSchema":"{GXD_SCHEMA}","data":{{"calcMethod":"0","FWedition":"1.0","gateToGate":{{"gateToGateFossilGhgEmissions":"{g2g}","unitaryProductAmountComment":"per kg"}}}}}}]}}"#
            );
        }
        None => out.push('}'),
    }
    out.push('\n');
}

/// Writes `nodes.csv` (`product_id,footprint_id,tier,cfp_kgco2e_per_unit,g2g_kgco2e_per_unit`,
/// empty g2g for a black box) and `bom.csv` into `dir`: the graph alone, for other engines.
pub fn write_graph(g: &Graph, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let path = dir.join("nodes.csv");
    let mut f =
        std::io::BufWriter::new(std::fs::File::create(&path).map_err(|e| Error::io(&path, e))?);
    let seed = g.opts.seed;
    let mut line = String::new();
    writeln!(
        f,
        "product_id,footprint_id,tier,cfp_kgco2e_per_unit,g2g_kgco2e_per_unit"
    )
    .map_err(|e| Error::io(&path, e))?;
    for (n, node) in g.nodes.iter().enumerate() {
        line.clear();
        let _ = writeln!(
            line,
            "{},{},{},{},{}",
            product_urn(seed, n),
            uuid(seed, n),
            node.tier,
            node.cfp,
            node.g2g.map(|d| d.to_string()).unwrap_or_default()
        );
        f.write_all(line.as_bytes())
            .map_err(|e| Error::io(&path, e))?;
    }
    f.flush().map_err(|e| Error::io(&path, e))?;
    write_bom(g, &dir.join("bom.csv"))
}

fn write_bom(g: &Graph, bom_path: &Path) -> Result<()> {
    let mut b = std::io::BufWriter::new(
        std::fs::File::create(bom_path).map_err(|e| Error::io(bom_path, e))?,
    );
    let seed = g.opts.seed;
    let mut line = String::new();
    writeln!(b, "{}", crate::ingest::BOM_CSV_HEADER).map_err(|e| Error::io(bom_path, e))?;
    for (p, c, a) in &g.edges {
        line.clear();
        let _ = writeln!(
            line,
            "{},{},{a},",
            product_urn(seed, *p as usize),
            product_urn(seed, *c as usize)
        );
        b.write_all(line.as_bytes())
            .map_err(|e| Error::io(bom_path, e))?;
    }
    b.flush().map_err(|e| Error::io(bom_path, e))
}

/// The `footprints` and `bom` columns the hotspot graph reads, built straight from `g`
/// (for benchmarks on graphs too large to pass through PACT documents).
pub fn graph_batches(
    g: &Graph,
) -> Result<(
    datafusion::arrow::array::RecordBatch,
    datafusion::arrow::array::RecordBatch,
)> {
    use std::sync::Arc;

    use datafusion::arrow::array::{
        ArrayRef, BooleanArray, Decimal128Array, Int32Array, ListArray, RecordBatch, StringArray,
        TimestampMicrosecondArray,
    };
    use datafusion::arrow::buffer::OffsetBuffer;
    use datafusion::arrow::datatypes::Field;

    let seed = g.opts.seed;
    let n = g.nodes.len();
    let urns: Vec<String> = (0..n).map(|i| product_urn(seed, i)).collect();
    let dec = |v: Vec<Option<Decimal>>| -> Result<ArrayRef> {
        Ok(Arc::new(
            Decimal128Array::from_iter(v.into_iter().map(|d| d.map(crate::table::decimal_to_i128)))
                .with_precision_and_scale(38, 12)?,
        ))
    };
    let text = |v: Vec<Option<String>>| -> ArrayRef { Arc::new(StringArray::from(v)) };
    let same = |s: &str| -> ArrayRef { Arc::new(StringArray::from(vec![s; n])) };
    let start = 1_704_067_200_000_000_i64; // 2024-01-01
    let end = 1_735_689_600_000_000_i64; // 2025-01-01
    let ids: ArrayRef = Arc::new(StringArray::from_iter_values((0..n).map(|i| uuid(seed, i))));
    let product_ids: ArrayRef = Arc::new(ListArray::try_new(
        Arc::new(Field::new(
            "item",
            datafusion::arrow::datatypes::DataType::Utf8,
            true,
        )),
        OffsetBuffer::from_lengths(vec![1; n]),
        Arc::new(StringArray::from_iter_values(urns.iter())),
        None,
    )?);
    let footprints = RecordBatch::try_from_iter(vec![
        ("id", ids),
        (
            "product_id",
            Arc::new(StringArray::from_iter_values(urns.iter())) as ArrayRef,
        ),
        ("product_ids", product_ids),
        (
            "product_name_company",
            text((0..n).map(|i| Some(format!("Part {i}"))).collect()),
        ),
        (
            "company_name",
            text(
                g.nodes
                    .iter()
                    .map(|x| Some(format!("Supplier {:05}", x.company)))
                    .collect(),
            ),
        ),
        (
            "company_id",
            text(
                g.nodes
                    .iter()
                    .map(|x| Some(format!("urn:mieruka:gen-company:{seed}:{}", x.company)))
                    .collect(),
            ),
        ),
        (
            "product_category_cpc",
            text(
                g.nodes
                    .iter()
                    .map(|x| Some(CPC[x.tier.min(CPC.len() - 1)].to_owned()))
                    .collect(),
            ),
        ),
        ("country_code", same("JP")),
        ("declared_unit", same("kilogram")),
        (
            "product_mass_per_declared_unit_kg",
            dec(vec![Some(Decimal::ONE); n])?,
        ),
        (
            "pcf_excluding_biogenic_kgco2e_per_unit",
            dec(g.nodes.iter().map(|x| Some(x.cfp)).collect())?,
        ),
        (
            "pcf_including_biogenic_kgco2e_per_unit",
            dec(g.nodes.iter().map(|x| Some(x.cfp)).collect())?,
        ),
        (
            "gxd_g2g_fossil_ghg_kgco2e_per_unit",
            dec(g.nodes.iter().map(|x| x.g2g).collect())?,
        ),
        ("gxd_g2g_biogenic_kgco2e_per_unit", dec(vec![None; n])?),
        ("gxd_calc_method", same("0")),
        ("primary_data_share_pct", dec(vec![None; n])?),
        ("dqi_technological_dqr", dec(vec![None; n])?),
        ("dqi_temporal_dqr", dec(vec![None; n])?),
        ("dqi_geographical_dqr", dec(vec![None; n])?),
        (
            "pact_major_version",
            Arc::new(Int32Array::from(vec![2; n])) as ArrayRef,
        ),
        (
            "version",
            Arc::new(Int32Array::from(vec![1; n])) as ArrayRef,
        ),
        (
            "reference_period_start",
            Arc::new(TimestampMicrosecondArray::from(vec![start; n]).with_timezone("UTC"))
                as ArrayRef,
        ),
        (
            "reference_period_end",
            Arc::new(TimestampMicrosecondArray::from(vec![end; n]).with_timezone("UTC"))
                as ArrayRef,
        ),
        ("status", same("Active")),
        (
            "is_latest",
            Arc::new(BooleanArray::from(vec![true; n])) as ArrayRef,
        ),
        ("gxd_certificate_kgco2e_per_unit", dec(vec![None; n])?),
    ])?;
    let e = &g.edges;
    let bom = RecordBatch::try_from_iter(vec![
        (
            "parent_product_id",
            Arc::new(StringArray::from_iter_values(
                e.iter().map(|x| urns[x.0 as usize].as_str()),
            )) as ArrayRef,
        ),
        (
            "child_product_id",
            Arc::new(StringArray::from_iter_values(
                e.iter().map(|x| urns[x.1 as usize].as_str()),
            )) as ArrayRef,
        ),
        ("amount", dec(e.iter().map(|x| Some(x.2)).collect())?),
        (
            "unit",
            Arc::new(StringArray::from(vec![None::<&str>; e.len()])) as ArrayRef,
        ),
        (
            "parent_footprint_id",
            Arc::new(StringArray::from(vec![None::<&str>; e.len()])) as ArrayRef,
        ),
    ])?;
    Ok((footprints, bom))
}

/// Writes `footprints.ndjson` and `bom.csv` into `dir`.
pub fn write(g: &Graph, dir: &Path) -> Result<GenSummary> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let fp_path = dir.join("footprints.ndjson");
    let bom_path = dir.join("bom.csv");
    const CHUNK: usize = 4096;
    let chunks: Vec<String> = (0..g.nodes.len().div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let mut s = String::with_capacity(CHUNK * 3000);
            for n in c * CHUNK..((c + 1) * CHUNK).min(g.nodes.len()) {
                document(g, n, &mut s);
            }
            s
        })
        .collect();
    let mut f = std::io::BufWriter::new(
        std::fs::File::create(&fp_path).map_err(|e| Error::io(&fp_path, e))?,
    );
    let mut bytes = 0u64;
    for c in &chunks {
        f.write_all(c.as_bytes())
            .map_err(|e| Error::io(&fp_path, e))?;
        bytes += c.len() as u64;
    }
    f.flush().map_err(|e| Error::io(&fp_path, e))?;

    write_bom(g, &bom_path)?;
    Ok(GenSummary {
        footprints: fp_path,
        bom: bom_path,
        nodes: g.nodes.len(),
        edges: g.edges.len(),
        footprint_bytes: bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_batches_build_an_index_with_their_own_latest_flags() {
        // The view batches carry `is_latest` (every row true) and no `preceding_pf_ids`: the
        // index takes the flags as given, as the hotspot bench builds its graph.
        let g = generate(&GenOptions {
            nodes: 300,
            tiers: 4,
            fanout: 3,
            seed: 7,
            ..GenOptions::default()
        })
        .unwrap();
        let (fp, bom) = graph_batches(&g).unwrap();
        let index = crate::table::graph_index::GraphIndex::from_views(&[fp], &[bom]).unwrap();
        let [nodes, ..] = index.tables();
        let latest = nodes
            .column_by_name("is_latest")
            .unwrap()
            .as_any()
            .downcast_ref::<datafusion::arrow::array::BooleanArray>()
            .unwrap();
        assert_eq!((latest.len(), latest.true_count()), (300, 300));
    }

    #[test]
    fn cfps_are_consistent_bottom_up() {
        let g = generate(&GenOptions {
            nodes: 300,
            tiers: 4,
            fanout: 3,
            seed: 7,
            ..GenOptions::default()
        })
        .unwrap();
        assert_eq!(g.nodes.len(), 300);
        for (n, node) in g.nodes.iter().enumerate() {
            let Some(g2g) = node.g2g else { continue };
            let inputs: Decimal = g
                .edges
                .iter()
                .filter(|e| e.0 as usize == n)
                .map(|e| e.2 * g.nodes[e.1 as usize].cfp)
                .sum();
            let expected = (g2g + inputs + node.gap).round_dp(6).max(Decimal::ZERO);
            assert_eq!(node.cfp, expected, "node {n}");
        }
    }

    #[test]
    fn tiers_split_the_nodes() {
        let starts = tier_starts(&GenOptions {
            nodes: 1002,
            tiers: 4,
            roots: Some(2),
            ..GenOptions::default()
        });
        assert_eq!(starts, vec![0, 2, 336, 669, 1002]);
    }

    #[test]
    fn uuids_are_well_formed() {
        for n in 0..50 {
            let u = uuid(3, n);
            assert!(crate::ingest::is_uuid(&u), "{u}");
        }
    }
}
