//! Tier-decomposed hotspots: where a product's cradle-to-gate footprint comes from.
//!
//! For a root footprint r and one declared unit of it, x(r, 0) = 1 and
//! x(g, k+1) = Σ_f x(f, k) · a(f, g). Each footprint f reached on tier k gives items:
//! - `own`: x · g2g(f), its Gate-to-Gate emissions;
//! - `untraced`: x · (cfp(f) − g2g(f) − Σ_g a(f, g) · cfp(g)) when positive: upstream that f
//!   reports but no supplier footprint explains;
//! - `mismatch`: the same when negative: its suppliers report more than f counts upstream;
//! - `unresolved`: x · cfp(f) for an f without Gate-to-Gate data (not descended);
//! - `beyond_cutoff`: x · cfp(f) for a node not expanded because of a limit: every node
//!   reached on tier `max_tier + 1`, and with `min_share_pct` every node whose |x · cfp| is
//!   below that share of cfp(r) (on its own tier). Limits come before the black-box rule.
//!
//! Items are keyed by (footprint, tier, kind) and telescope: they sum exactly to cfp(r), for
//! any DAG and for cycles (the tier limit bounds the walk). The walk computes in fixed-point
//! integers (`walk`: 24 decimal places, every rounding residue kept in the gap items), so the
//! sum holds to the last unit at any magnitude it accepts, and a value beyond its range is an
//! error naming the footprint.
//!
//! The same decomposition exists as SQL (`queries/hotspot/sql_items.sql`, a recursive CTE);
//! this module is the native engine behind the `hotspot_items` table function and the
//! `hotspots` command. This module computes; it does not print or serve.

pub mod batch;
mod findings;
mod function;
mod gaps;
mod graph;
mod ints;
pub mod scenario;
mod uncertainty;
mod values;
mod walk;

use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use chrono::{DateTime, NaiveDate, Utc};
use rayon::prelude::*;
use serde::Serialize;

#[cfg(feature = "cluster")]
pub(crate) use function::ItemsTable;
pub use function::{HotspotItemsFunction, ITEM_SCALE, Output, items_batch, items_schema};
pub(crate) use function::{arg_text, request as function_request};
pub use gaps::{Gap, GapKind, gaps, gaps_batch, gaps_schema};
pub use graph::{EdgeProblem, Graph, Node, Resolved, Staleness};
pub use uncertainty::{
    DEFAULT_SPREADS, Interval, ShareInterval, Spreads, Uncertainty, UncertaintyRequest, factor,
    in_blocks, uncertainty,
};
pub use values::{INPUT_SCALE, VALUE_SCALE, ValueCache, Values, X_SCALE};
pub use walk::{Limits, RawItem, walk, walk_split};

use findings::{findings, quality};

use crate::model::fixed;
use crate::{Error, Result};

/// Which PACT total is decomposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Basis {
    /// `pcfExcludingBiogenic` with GxD `gateToGateFossilGhgEmissions` (the default).
    #[default]
    ExcludingBiogenic,
    /// `pcfIncludingBiogenic` with GxD `gateToGateBiogenicCarbonContent`.
    IncludingBiogenic,
}

impl Basis {
    /// The name used on the command line, in SQL and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::ExcludingBiogenic => "excluding_biogenic",
            Basis::IncludingBiogenic => "including_biogenic",
        }
    }

    /// Parses `excluding_biogenic` or `including_biogenic`.
    pub fn parse(s: &str) -> Result<Basis> {
        match s {
            "excluding_biogenic" | "" => Ok(Basis::ExcludingBiogenic),
            "including_biogenic" => Ok(Basis::IncludingBiogenic),
            _ => Err(Error::Usage(format!(
                "basis {s:?}: expected excluding_biogenic or including_biogenic"
            ))),
        }
    }
}

/// The kind of an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// Gate-to-Gate emissions of the footprint.
    Own,
    /// Upstream reported but not explained by supplier footprints.
    Untraced,
    /// Supplier footprints exceed the upstream reported (negative).
    Mismatch,
    /// A footprint without Gate-to-Gate data, not descended.
    Unresolved,
    /// A footprint not expanded because of a limit.
    BeyondCutoff,
}

impl Kind {
    /// Every kind, in display order.
    pub const ALL: [Kind; 5] = [
        Kind::Own,
        Kind::Untraced,
        Kind::Mismatch,
        Kind::Unresolved,
        Kind::BeyondCutoff,
    ];

    /// The name used in SQL and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Own => "own",
            Kind::Untraced => "untraced",
            Kind::Mismatch => "mismatch",
            Kind::Unresolved => "unresolved",
            Kind::BeyondCutoff => "beyond_cutoff",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Builds a dataset's [`Graph`] on first use and keeps it: the table functions and the
/// `hotspots` command share one, and the last decomposition with it, so a question that
/// sums a decomposition in SQL (`--by supplier`) walks the chain once, not twice.
#[derive(Debug)]
pub struct GraphSource {
    footprints: Vec<datafusion::arrow::array::RecordBatch>,
    bom: Vec<datafusion::arrow::array::RecordBatch>,
    graph: Mutex<Option<Arc<Graph>>>,
    last: Mutex<Option<(Asked, Arc<Decomposition>)>>,
    /// The last Monte Carlo drawn: a dashboard's panels ask the same one several times.
    last_uncertainty: Mutex<Option<LastUncertainty>>,
}

/// A Monte Carlo and what it was asked (see [`GraphSource::uncertainty`]).
type LastUncertainty = ((Asked, Spreads, UncertaintyRequest), Arc<Uncertainty>);

/// What a decomposition answers: root node, date, basis and limits.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Asked {
    root: u32,
    date: i64,
    basis: Basis,
    max_tier: u32,
    min_share_pct: f64,
}

impl GraphSource {
    /// A source over the `footprints` view (with `is_latest`) and the current `bom`.
    pub fn new(
        footprints: Vec<datafusion::arrow::array::RecordBatch>,
        bom: Vec<datafusion::arrow::array::RecordBatch>,
    ) -> GraphSource {
        GraphSource {
            footprints,
            bom,
            graph: Mutex::new(None),
            last: Mutex::new(None),
            last_uncertainty: Mutex::new(None),
        }
    }

    /// A source whose graph is already built (from a data directory's graph index).
    pub fn from_graph(graph: Arc<Graph>) -> GraphSource {
        GraphSource {
            footprints: Vec::new(),
            bom: Vec::new(),
            graph: Mutex::new(Some(graph)),
            last: Mutex::new(None),
            last_uncertainty: Mutex::new(None),
        }
    }

    /// The graph, built on the first call.
    pub fn get(&self) -> Result<Arc<Graph>> {
        // A panic elsewhere while the lock was held leaves the slot as it was: still usable.
        let mut slot = self.graph.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(g) = slot.as_ref() {
            return Ok(g.clone());
        }
        let g = Arc::new(Graph::from_batches(&self.footprints, &self.bom)?);
        *slot = Some(g.clone());
        Ok(g)
    }

    /// [`decompose`] on the graph; the same question as the last one is answered again
    /// without walking.
    pub fn decompose(&self, req: &Request) -> Result<Arc<Decomposition>> {
        self.asked(req).map(|(_, d)| d)
    }

    /// [`uncertainty`] of `req`'s decomposition. The same Monte Carlo as the last one asked
    /// (the same question, spreads, samples, seed and top) is given again without drawing:
    /// the same seed draws the same samples, and a dashboard's panels ask it several times
    /// (1.5 s each on a root of 160,000 items).
    pub fn uncertainty(
        &self,
        req: &Request,
        spreads: &Spreads,
        ask: UncertaintyRequest,
    ) -> Result<(Arc<Decomposition>, Arc<Uncertainty>)> {
        let (asked, d) = self.asked(req)?;
        let key = (asked, spreads.clone(), ask);
        let u = last_or(&self.last_uncertainty, key, || {
            Ok(Arc::new(uncertainty(&d, spreads, ask)?))
        })?;
        Ok((d, u))
    }

    /// The decomposition of `req` and the question it answers.
    fn asked(&self, req: &Request) -> Result<(Asked, Arc<Decomposition>)> {
        let graph = self.get()?;
        let limits = req.limits()?;
        let (root, date) = graph.root(&req.product, req.as_of)?;
        let asked = Asked {
            root,
            date,
            basis: req.basis,
            max_tier: limits.max_tier,
            min_share_pct: limits.min_share_pct,
        };
        let d = last_or(&self.last, asked, || {
            Ok(Arc::new(decompose_at(&graph, req, limits, root, date)?))
        })?;
        Ok((asked, d))
    }
}

/// What `slot` keeps when it was built for `key`, else what `build` gives, kept in its place:
/// the last question asked is answered again without the work. (Not held while building: two
/// requests at once may both build, and the later is kept.)
fn last_or<K: PartialEq, V: Clone>(
    slot: &Mutex<Option<(K, V)>>,
    key: K,
    build: impl FnOnce() -> Result<V>,
) -> Result<V> {
    if let Some((k, v)) = slot.lock().unwrap_or_else(PoisonError::into_inner).as_ref()
        && *k == key
    {
        return Ok(v.clone());
    }
    let v = build()?;
    *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some((key, v.clone()));
    Ok(v)
}

/// Default deepest tier expanded.
pub const DEFAULT_MAX_TIER: u32 = 10;

/// Share of the CFP from organization-based data above which a caution is given, percent.
pub const ORGANIZATION_BASED_CAUTION_PCT: f64 = 20.0;

/// What to decompose.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// A footprint id, or a product URN (then the latest Active footprint, or the one whose
    /// reference period covers `as_of`).
    pub product: String,
    /// Deepest tier expanded; nodes reached on `max_tier + 1` become beyond-cutoff items.
    pub max_tier: u32,
    /// Nodes whose |x · cfp| is below this share of the root's CFP are not expanded (0 = off).
    pub min_share_pct: f64,
    /// Which total to decompose.
    pub basis: Basis,
    /// The date the chain is analysed for; default: the root's reference period.
    pub as_of: Option<NaiveDate>,
}

impl Request {
    /// A request for `product` with the defaults.
    pub fn new(product: impl Into<String>) -> Request {
        Request {
            product: product.into(),
            max_tier: DEFAULT_MAX_TIER,
            min_share_pct: 0.0,
            basis: Basis::default(),
            as_of: None,
        }
    }

    fn limits(&self) -> Result<Limits> {
        if !(0.0..=100.0).contains(&self.min_share_pct) || self.min_share_pct.is_nan() {
            return Err(Error::Usage(format!(
                "min share {}: expected a percentage from 0 to 100",
                self.min_share_pct
            )));
        }
        if self.max_tier > 1000 {
            return Err(Error::Usage(format!(
                "max tier {}: expected at most 1000",
                self.max_tier
            )));
        }
        Ok(Limits {
            max_tier: self.max_tier,
            min_share_pct: self.min_share_pct,
        })
    }
}

/// The footprint decomposed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Root {
    /// Product URN.
    pub product_id: String,
    /// Footprint id.
    pub footprint_id: String,
    /// Data owner.
    pub company_name: String,
    /// Declared unit.
    pub declared_unit: Option<String>,
    /// Trade name.
    pub product_name: String,
    /// Reference period start (date).
    pub reference_period_start: String,
    /// Reference period end (date).
    pub reference_period_end: String,
}

/// One item of a decomposition, its labels borrowed from the graph.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Item<'a> {
    /// Tier (0 = the root's own company).
    pub tier: u32,
    /// Footprint id.
    pub footprint_id: &'a str,
    /// Product URN.
    pub product_id: &'a str,
    /// Trade name.
    pub product_name: &'a str,
    /// Data owner.
    pub company_name: &'a str,
    /// Data owner's URN.
    pub company_id: &'a str,
    /// UN CPC code.
    pub cpc: Option<&'a str>,
    /// ISO 3166-1 country.
    pub country: Option<&'a str>,
    /// Kind.
    pub kind: Kind,
    /// kgCO2e per declared unit of the root, at [`VALUE_SCALE`] decimal places.
    #[serde(serialize_with = "value_string")]
    pub kgco2e: i128,
    /// Share of the root's CFP, percent.
    pub share_pct: f64,
}

/// The items of a decomposition, by (tier, kind, magnitude): kept as node numbers and values
/// and labelled from the graph when read, so an answer that shows a few of a product's
/// hundreds of thousands of items labels only those.
///
/// The order is made on first use: an answer that shows the largest few items, or sums them
/// by supplier, never sorts a large root's items.
#[derive(Clone)]
pub struct Items {
    graph: Arc<Graph>,
    /// In the walk's order.
    walked: Vec<RawItem>,
    /// In order.
    sorted: OnceLock<Vec<RawItem>>,
    cfp: i128,
}

impl Items {
    /// Number of items.
    pub fn len(&self) -> usize {
        self.walked.len()
    }

    /// Whether there is no item.
    pub fn is_empty(&self) -> bool {
        self.walked.is_empty()
    }

    /// The items unlabelled, in order.
    pub fn raw(&self) -> &[RawItem] {
        self.sorted
            .get_or_init(|| sort_items(&self.graph, self.walked.clone()))
    }

    /// The items unlabelled, in the walk's order (tier by tier), for answers that do not
    /// need them in order.
    pub fn walked(&self) -> &[RawItem] {
        &self.walked
    }

    /// Item `r` (one of these) labelled.
    pub fn labelled(&self, r: &RawItem) -> Item<'_> {
        self.label(r)
    }

    /// The graph the items are labelled from.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// Item `i`, labelled (`None` past the end).
    pub fn get(&self, i: usize) -> Option<Item<'_>> {
        self.raw().get(i).map(|r| self.label(r))
    }

    /// The items, labelled, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Item<'_>> + '_ {
        self.raw().iter().map(|r| self.label(r))
    }

    fn label(&self, r: &RawItem) -> Item<'_> {
        let (g, n) = (&*self.graph, r.node);
        Item {
            tier: r.tier,
            footprint_id: g.id(n),
            product_id: g.product_id(n),
            product_name: g.product_name(n),
            company_name: g.company_name(n),
            company_id: g.company_id(n),
            cpc: g.cpc(n),
            country: g.country(n),
            kind: r.kind,
            kgco2e: r.value,
            share_pct: pct(r.value, self.cfp),
        }
    }
}

impl PartialEq for Items {
    fn eq(&self, other: &Items) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl fmt::Debug for Items {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for Items {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

/// A value at [`VALUE_SCALE`] as an exact decimal string.
fn value_string<S: serde::Serializer>(v: &i128, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&fixed::format(*v, VALUE_SCALE))
}

/// A stored amount at [`INPUT_SCALE`] as an exact decimal string, or null.
fn optional_input_string<S: serde::Serializer>(
    v: &Option<i128>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.serialize_str(&fixed::format(*v, INPUT_SCALE)),
        None => s.serialize_none(),
    }
}

impl Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Something in the chain that deserves a look. Fields in alphabetical order: serialised as
/// they are, they give the keys in the order the JSON contract gives every object's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The footprint concerned (for a cycle: the first on it).
    pub footprint_id: Option<String>,
    /// Footprints involved (the nodes on a cycle).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub footprint_ids: Vec<String>,
    /// For `dangling`: the input (a product URN) without a footprint. (Fields stay in
    /// alphabetical order: the answer's JSON lists keys so.)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// `mismatch`, `cycle`, `unit`, `dangling`, `organization_based`,
    /// `older_reference_period`, `newer_reference_period`, `basis_fallback` or `root_status`.
    pub kind: &'static str,
    /// What and why, with the numbers.
    pub message: String,
    /// The same in Japanese (the `message_ja` column of `hotspot_findings`; the JSON answer
    /// keeps its one `message`).
    #[serde(skip)]
    pub message_ja: String,
}

/// Data quality of a decomposition, weighted by contribution.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Quality {
    /// Share of the CFP covered by own (Gate-to-Gate) items of product-based footprints, percent.
    pub primary_data_coverage_pct: f64,
    /// Primary data share weighted by |item|, percent (footprints that give one).
    pub weighted_pds_pct: Option<f64>,
    /// Technological DQR weighted by |item|, on PACT v3's 1–5 scale (v2's 1–3 mapped linearly).
    pub weighted_technological_dqr: Option<f64>,
    /// Temporal DQR, weighted likewise.
    pub weighted_temporal_dqr: Option<f64>,
    /// Geographical DQR, weighted likewise.
    pub weighted_geographical_dqr: Option<f64>,
    /// Share of the CFP from organization-based footprints, percent.
    pub organization_based_pct: f64,
    /// Share of the CFP that is untraced upstream, percent.
    pub untraced_pct: f64,
    /// Share of the CFP in black boxes, percent.
    pub unresolved_pct: f64,
    /// Share of the CFP beyond the cut-offs, percent.
    pub beyond_cutoff_pct: f64,
    /// Share of the CFP that is mismatch (negative), percent.
    pub mismatch_pct: f64,
    /// Footprints (distinct) the decomposition reached.
    pub footprints_reached: usize,
    /// Deepest tier with an item.
    pub deepest_tier: u32,
}

/// A decomposition: the root, its CFP, the items, findings and quality.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decomposition {
    /// The footprint decomposed.
    pub product: Root,
    /// The root's CFP per declared unit (the sum of the items), at [`VALUE_SCALE`].
    #[serde(serialize_with = "value_string")]
    pub cfp_kgco2e_per_unit: i128,
    /// The basis.
    #[serde(serialize_with = "basis_string")]
    pub basis: Basis,
    /// The date the chain was resolved for.
    pub as_of: String,
    /// Items by (tier, kind, magnitude, footprint).
    pub items: Items,
    /// Findings.
    pub findings: Vec<Finding>,
    /// Quality.
    pub quality: Quality,
    /// Certificates the root's company declares (GxD), shown beside the CFP, never netted;
    /// at [`INPUT_SCALE`].
    #[serde(serialize_with = "optional_input_string")]
    pub certificate_kgco2e_per_unit: Option<i128>,
}

fn basis_string<S: serde::Serializer>(b: &Basis, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(b.as_str())
}

fn date_of(micros: i64) -> String {
    DateTime::<Utc>::from_timestamp_micros(micros)
        .map(|t| t.date_naive().to_string())
        .unwrap_or_default()
}

fn micros_of(d: NaiveDate) -> i64 {
    d.and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp_micros())
        .unwrap_or_default()
}

impl Graph {
    /// The root node for `product` (a footprint id or a product URN) and the date its chain
    /// is resolved for.
    pub fn root(&self, product: &str, as_of: Option<NaiveDate>) -> Result<(u32, i64)> {
        let product = product.trim();
        let date = as_of.map(micros_of);
        let node = if let Some(n) = self.node_by_id(&product.to_ascii_lowercase()) {
            n
        } else {
            let c = self.candidates(product);
            if c.is_empty() {
                return Err(Error::NotFound(format!(
                    "no Active footprint of product or footprint id {product:?}; `mieruka footprints` lists them"
                )));
            }
            match date {
                None => c[c.len() - 1],
                Some(d) => match self.pick(c, d) {
                    Some((n, Staleness::Covers)) => n,
                    _ => {
                        let periods: Vec<String> = c
                            .iter()
                            .map(|n| {
                                let p = self.node(*n).period;
                                format!("{}..{}", date_of(p.0), date_of(p.1))
                            })
                            .collect();
                        return Err(Error::NotFound(format!(
                            "no Active footprint of {product} has a reference period covering {}; its periods: {}",
                            as_of.map(|d| d.to_string()).unwrap_or_default(),
                            periods.join(", ")
                        )));
                    }
                },
            }
        };
        let (s, e) = self.node(node).period;
        // Inputs are resolved for the middle of the root's reference period unless asked.
        Ok((node, date.unwrap_or(s + (e - s) / 2)))
    }
}

/// `part / whole` in percent, for shares (both at the same scale).
pub fn pct(part: i128, whole: i128) -> f64 {
    if whole == 0 {
        return 0.0;
    }
    // Both are exact integers; their ratio needs no more than f64's precision.
    part as f64 / whole as f64 * 100.0
}

/// Decomposes one root exactly, with labels, findings and quality.
pub fn decompose(graph: &Arc<Graph>, req: &Request) -> Result<Decomposition> {
    let limits = req.limits()?;
    let (root, date) = graph.root(&req.product, req.as_of)?;
    decompose_at(graph, req, limits, root, date)
}

/// [`decompose`] once `req`'s limits, root node and date are known.
fn decompose_at(
    graph: &Arc<Graph>,
    req: &Request,
    limits: Limits,
    root: u32,
    date: i64,
) -> Result<Decomposition> {
    let t = std::time::Instant::now();
    let resolved = graph.resolve_for(date, root);
    let resolved_at = t.elapsed();
    let raw = walk(graph, &resolved, req.basis, root, limits)?;
    let walked_at = t.elapsed();
    let n = raw.len();
    let d = label(graph, &resolved, req, root, date, raw);
    tracing::debug!(
        "decomposed {}: resolved in {resolved_at:.2?}, walked {n} items by {walked_at:.2?}, labelled by {:.2?}",
        req.product,
        t.elapsed()
    );
    Ok(d)
}

/// Decomposes one root: the items only, unlabelled (for large graphs and batches).
pub fn decompose_raw(graph: &Graph, req: &Request) -> Result<Vec<RawItem>> {
    let limits = req.limits()?;
    let (root, date) = graph.root(&req.product, req.as_of)?;
    let resolved = graph.resolve(date);
    walk(graph, &resolved, req.basis, root, limits)
}

/// Decomposes many roots on every core; one item list per root, in order.
pub fn decompose_batch(graph: &Graph, reqs: &[Request]) -> Result<Vec<Vec<RawItem>>> {
    reqs.par_iter().map(|r| decompose_raw(graph, r)).collect()
}

fn label(
    graph: &Arc<Graph>,
    resolved: &Resolved,
    req: &Request,
    root: u32,
    date: i64,
    raw: Vec<RawItem>,
) -> Decomposition {
    let r = graph.node(root);
    let cfp = root_cfp(graph, req.basis, root);
    // The walk gives each (tier, footprint, kind) once: it visits a node once per tier and
    // gives it at most one item of each kind. Ordered by tier, kind, then magnitude; the
    // items are sorted unlabelled (32 bytes each), ids compared only on a tie. Quality and
    // findings read the walk's order meanwhile (weighted averages in f64 depend on the order
    // summed: the walk's, as ever).
    // Quality and findings read the walk's order (weighted averages in f64 depend on the
    // order summed: the walk's, as ever); the items are put in order when first asked.
    let reached = NodeSet::of(graph, raw.iter()).to_vec();
    // Quality and findings read the same items and nothing of each other but one number.
    let (quality, findings) = rayon::join(
        || quality(graph, &raw, cfp, reached.len()),
        || findings(graph, resolved, req, root, &raw, &reached),
    );
    let findings = findings.with_organization_based(graph, &raw, quality.organization_based_pct);
    Decomposition {
        product: Root {
            product_id: r.product_id.to_owned(),
            footprint_id: r.id.to_owned(),
            company_name: r.company_name.to_owned(),
            declared_unit: r.unit.map(|u| u.as_str().to_owned()),
            product_name: r.product_name.to_owned(),
            reference_period_start: date_of(r.period.0),
            reference_period_end: date_of(r.period.1),
        },
        cfp_kgco2e_per_unit: cfp,
        basis: req.basis,
        as_of: date_of(date),
        items: Items {
            graph: graph.clone(),
            walked: raw,
            sorted: OnceLock::new(),
            cfp,
        },
        findings,
        quality,
        certificate_kgco2e_per_unit: r.certificate_kgco2e,
    }
}

/// Items in order: by tier, kind, then magnitude, largest first, then footprint id.
fn sort_items(graph: &Graph, mut items: Vec<RawItem>) -> Vec<RawItem> {
    // Integers first (a node number stands in for its id), then runs of equal magnitude put
    // in id order: the order of comparing ids throughout, as no two items share tier, kind
    // and node.
    items.sort_unstable_by(|a, b| {
        (a.tier, a.kind, b.value.unsigned_abs(), a.node).cmp(&(
            b.tier,
            b.kind,
            a.value.unsigned_abs(),
            b.node,
        ))
    });
    let tie = |a: &RawItem, b: &RawItem| {
        (a.tier, a.kind, a.value.unsigned_abs()) == (b.tier, b.kind, b.value.unsigned_abs())
    };
    for run in items.chunk_by_mut(tie).filter(|r| r.len() > 1) {
        run.sort_unstable_by(|a, b| graph.id(a.node).cmp(graph.id(b.node)));
    }
    items
}

/// A set of graph nodes, a bit each: built from items in one pass, no sort.
struct NodeSet(Vec<u64>);

impl NodeSet {
    /// The nodes of `items`.
    fn of<'a>(graph: &Graph, items: impl Iterator<Item = &'a RawItem>) -> NodeSet {
        let mut bits = vec![0u64; graph.len().div_ceil(64)];
        for i in items {
            if let Some(w) = bits.get_mut(i.node as usize / 64) {
                *w |= 1 << (i.node % 64);
            }
        }
        NodeSet(bits)
    }

    fn contains(&self, node: u32) -> bool {
        self.0
            .get(node as usize / 64)
            .is_some_and(|w| w & (1 << (node % 64)) != 0)
    }

    /// The nodes, ascending.
    fn to_vec(&self) -> Vec<u32> {
        let mut out = Vec::new();
        for (at, &w) in self.0.iter().enumerate() {
            let mut w = w;
            while w != 0 {
                out.push(at as u32 * 64 + w.trailing_zeros());
                w &= w - 1;
            }
        }
        out
    }
}

/// The root's CFP at [`VALUE_SCALE`], as the items are (the walk checked it is in range).
fn root_cfp(graph: &Graph, basis: Basis, root: u32) -> i128 {
    let cfp = graph.cfp_g2g(root, basis).0;
    cfp.checked_mul(fixed::pow10(X_SCALE)).unwrap_or_default()
}
