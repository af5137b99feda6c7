//! The supply-chain graph the decomposition walks: footprints as nodes, BOM edges resolved
//! from products to footprints, built once per loaded dataset.
//!
//! An edge in the data directory links *products*: a parent's BOM names its inputs by product
//! URN. Which footprint stands for an input depends on the date the root is analysed for, so
//! resolution happens per date ([`Graph::resolve`]) and is cached: the latest Active
//! footprint of the input whose reference period covers the date; failing that the most
//! recent earlier one (reported as older than the root's), or the earliest later one.
//! Amounts are converted into the input's declared unit; an edge that cannot be converted,
//! or whose input has no footprint, is left out and reported.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use datafusion::arrow::array::{
    Array, BooleanArray, Decimal128Array, Int32Array, ListArray, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};

use super::Basis;
use super::walk::{EdgeValues, INPUT_SCALE, ValueCache, basis_index, edge_values};
use crate::model::DeclaredUnit;
use crate::model::fixed;
use crate::table::Tables;
use crate::{Error, Result};

/// One footprint, with what the decomposition and its findings need.
#[derive(Debug, Clone)]
pub struct Node {
    /// Footprint id.
    pub id: String,
    /// Primary product URN.
    pub product_id: String,
    /// Trade name of the product.
    pub product_name: String,
    /// Data owner.
    pub company_name: String,
    /// Data owner's first URN.
    pub company_id: String,
    /// UN CPC code.
    pub cpc: Option<String>,
    /// ISO 3166-1 country.
    pub country: Option<String>,
    /// Declared unit.
    pub unit: Option<DeclaredUnit>,
    /// kg per declared unit, at 12 decimal places (as every amount below).
    pub mass_kg: Option<i128>,
    /// Cradle-to-gate PCF excluding biogenic uptake, per declared unit.
    pub cfp_excluding: i128,
    /// Cradle-to-gate PCF including biogenic uptake, per declared unit.
    pub cfp_including: Option<i128>,
    /// Gate-to-Gate fossil emissions (GxD), per declared unit.
    pub g2g_fossil: Option<i128>,
    /// Gate-to-Gate emissions including biogenic (GxD), per declared unit.
    pub g2g_biogenic: Option<i128>,
    /// GxD calcMethod: `"0"` product-based, `"1"` organization-based.
    pub calc_method: Option<String>,
    /// Primary data share, percent.
    pub pds_pct: Option<f64>,
    /// Technological, temporal and geographical DQRs on PACT v3's 1–5 scale (v2's 1–3
    /// mapped linearly: 1 → 1, 3 → 5).
    pub dqr: [Option<f64>; 3],
    /// Reference period start and end, µs since the epoch.
    pub period: (i64, i64),
    /// Status is Active.
    pub active: bool,
    /// Not superseded by a newer version.
    pub is_latest: bool,
    /// PACT v2 version number.
    pub version: Option<i32>,
    /// Certificates declared in the GxD extension, per declared unit (never netted), at 12
    /// decimal places.
    pub certificate_kgco2e: Option<i128>,
}

impl Node {
    /// Whether the footprint is organization-based (GxD calcMethod "1").
    pub fn organization_based(&self) -> bool {
        self.calc_method.as_deref() == Some("1")
    }
}

/// A BOM edge as stored: to a product, in some unit.
#[derive(Debug, Clone)]
struct RawEdge {
    child: u32,
    /// At 12 decimal places.
    amount: i128,
    unit: Option<DeclaredUnit>,
}

/// Why an edge was left out of the walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EdgeProblem {
    /// No footprint for the input product.
    Dangling {
        /// The input product URN.
        product: String,
    },
    /// The amount's unit cannot be converted into the input's declared unit.
    Unit {
        /// Input footprint.
        child: u32,
        /// Unit of the amount.
        unit: DeclaredUnit,
        /// Declared unit of the input.
        declared: Option<DeclaredUnit>,
    },
}

/// How well the footprint chosen for an input matches the date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Staleness {
    /// Its reference period covers the date.
    Covers,
    /// Only an earlier reference period was available.
    Older,
    /// Only a later reference period was available.
    Newer,
}

/// The graph resolved for one date: compressed adjacency from footprint to footprint, with
/// amounts in the child's declared unit.
#[derive(Debug)]
pub struct Resolved {
    /// `children[offsets[f]..offsets[f + 1]]` are the inputs of node `f`.
    pub offsets: Vec<u32>,
    /// Child nodes.
    pub children: Vec<u32>,
    /// Amount of each child per declared unit of the parent, at 12 decimal places.
    pub amounts: Vec<i128>,
    /// Edge coefficients and node consistency per basis, built on first use.
    edge_values: [OnceLock<EdgeValues>; 2],
    /// Edges left out, per parent node.
    pub problems: HashMap<u32, Vec<EdgeProblem>>,
    /// Inputs resolved to a footprint of another reference period, per child node.
    pub staleness: HashMap<u32, Staleness>,
}

impl Resolved {
    /// Inputs of `node`: `(child, amount)`.
    pub fn inputs(&self, node: u32) -> impl Iterator<Item = (u32, i128)> + '_ {
        let (a, b) = (
            self.offsets[node as usize] as usize,
            self.offsets[node as usize + 1] as usize,
        );
        self.children[a..b]
            .iter()
            .copied()
            .zip(self.amounts[a..b].iter().copied())
    }

    /// The edge coefficients and node consistency for `basis`, built on first use.
    pub(crate) fn edge_values(&self, graph: &Graph, basis: Basis) -> &EdgeValues {
        self.edge_values[basis_index(basis)].get_or_init(|| edge_values(graph, self, basis))
    }

    /// Bytes held by the adjacency (offsets, children, amounts, coefficients built so far).
    pub fn heap_bytes(&self) -> usize {
        self.offsets.capacity() * 4
            + self.children.capacity() * 4
            + self.amounts.capacity() * 16
            + self
                .edge_values
                .iter()
                .filter_map(|c| c.get())
                .map(|e| e.coef.capacity() * 16 + e.consistent.capacity())
                .sum::<usize>()
    }
}

/// Every footprint and BOM edge of a dataset, indexed for the walk.
#[derive(Debug)]
pub struct Graph {
    /// Nodes, in `footprints` order.
    pub nodes: Vec<Node>,
    by_id: HashMap<String, u32>,
    urns: Vec<String>,
    urn_index: HashMap<String, u32>,
    /// Candidate footprints (latest and Active) per URN, sorted by reference period end.
    candidates: Vec<Vec<u32>>,
    /// Edges declared by a footprint's own BOM extension.
    ext_edges: HashMap<u32, Vec<RawEdge>>,
    /// Edges from BOM CSVs, by parent URN.
    csv_edges: HashMap<u32, Vec<RawEdge>>,
    /// URNs of each node (its productIds).
    node_urns: Vec<Vec<u32>>,
    resolved: Mutex<HashMap<i64, Arc<Resolved>>>,
    values: ValueCache,
}

fn col<'a, T: 'static>(b: &'a RecordBatch, name: &str) -> Result<&'a T> {
    b.column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .ok_or_else(|| Error::Internal(format!("footprints.{name} missing or mistyped")))
}

/// A stored amount at [`INPUT_SCALE`] places (the columns are written at that scale; another
/// scale is converted, and a value that cannot be is treated as absent).
fn raw(a: &Decimal128Array, i: usize) -> Option<i128> {
    if a.is_null(i) {
        return None;
    }
    fixed::rescale(a.value(i), a.scale().max(0) as u32, INPUT_SCALE)
}

/// A DQR or percentage as `f64` (they weigh items; they are never summed as amounts).
fn ratio(a: &Decimal128Array, i: usize) -> Option<f64> {
    (!a.is_null(i)).then(|| fixed::to_f64(a.value(i), a.scale().max(0) as u32))
}

fn text(a: &StringArray, i: usize) -> Option<String> {
    (!a.is_null(i)).then(|| a.value(i).to_owned())
}

impl Graph {
    /// Builds the graph from the `footprints` and `bom` views of `tables`.
    pub fn from_tables(tables: &Tables) -> Result<Graph> {
        Graph::from_batches(&tables.footprints_view()?, &tables.bom_view()?)
    }

    /// Builds the graph from `footprints` batches (with `is_latest`) and `bom` batches.
    pub fn from_batches(fp: &[RecordBatch], bom: &[RecordBatch]) -> Result<Graph> {
        let rows: usize = fp.iter().map(RecordBatch::num_rows).sum();
        let mut g = Graph {
            nodes: Vec::with_capacity(rows),
            by_id: HashMap::with_capacity(rows),
            urns: Vec::new(),
            urn_index: HashMap::new(),
            candidates: Vec::new(),
            ext_edges: HashMap::new(),
            csv_edges: HashMap::new(),
            node_urns: Vec::with_capacity(rows),
            resolved: Mutex::new(HashMap::new()),
            values: ValueCache::default(),
        };
        for b in fp {
            g.add_footprints(b)?;
        }
        for c in g.candidates.iter_mut() {
            let nodes = &g.nodes;
            // By reference period, then id, so every engine picks the same footprint.
            c.sort_by(|a, b| {
                let (a, b) = (&nodes[*a as usize], &nodes[*b as usize]);
                (a.period.1, a.period.0, &a.id).cmp(&(b.period.1, b.period.0, &b.id))
            });
            c.dedup();
        }
        for b in bom {
            g.add_edges(b)?;
        }
        Ok(g)
    }

    fn add_footprints(&mut self, fp: &RecordBatch) -> Result<()> {
        let g = self;
        let ids = col::<StringArray>(fp, "id")?;
        let product = col::<StringArray>(fp, "product_id")?;
        let product_ids = col::<ListArray>(fp, "product_ids")?;
        let name = col::<StringArray>(fp, "product_name_company")?;
        let company = col::<StringArray>(fp, "company_name")?;
        let company_id = col::<StringArray>(fp, "company_id")?;
        let cpc = col::<StringArray>(fp, "product_category_cpc")?;
        let country = col::<StringArray>(fp, "country_code")?;
        let unit = col::<StringArray>(fp, "declared_unit")?;
        let mass = col::<Decimal128Array>(fp, "product_mass_per_declared_unit_kg")?;
        let excl = col::<Decimal128Array>(fp, "pcf_excluding_biogenic_kgco2e_per_unit")?;
        let incl = col::<Decimal128Array>(fp, "pcf_including_biogenic_kgco2e_per_unit")?;
        let g2g = col::<Decimal128Array>(fp, "gxd_g2g_fossil_ghg_kgco2e_per_unit")?;
        let g2g_bio = col::<Decimal128Array>(fp, "gxd_g2g_biogenic_kgco2e_per_unit")?;
        let calc = col::<StringArray>(fp, "gxd_calc_method")?;
        let pds = col::<Decimal128Array>(fp, "primary_data_share_pct")?;
        let dqr = [
            col::<Decimal128Array>(fp, "dqi_technological_dqr")?,
            col::<Decimal128Array>(fp, "dqi_temporal_dqr")?,
            col::<Decimal128Array>(fp, "dqi_geographical_dqr")?,
        ];
        let major = col::<Int32Array>(fp, "pact_major_version")?;
        let version = col::<Int32Array>(fp, "version")?;
        let start = col::<TimestampMicrosecondArray>(fp, "reference_period_start")?;
        let end = col::<TimestampMicrosecondArray>(fp, "reference_period_end")?;
        let status = col::<StringArray>(fp, "status")?;
        let latest = col::<BooleanArray>(fp, "is_latest")?;
        let certificate = col::<Decimal128Array>(fp, "gxd_certificate_kgco2e_per_unit")?;

        for i in 0..fp.num_rows() {
            let v2 = major.value(i) == 2;
            let node = Node {
                id: ids.value(i).to_owned(),
                product_id: product.value(i).to_owned(),
                product_name: name.value(i).to_owned(),
                company_name: company.value(i).to_owned(),
                company_id: company_id.value(i).to_owned(),
                cpc: text(cpc, i),
                country: text(country, i),
                unit: text(unit, i).and_then(|u| DeclaredUnit::from_pact(&u)),
                mass_kg: raw(mass, i),
                cfp_excluding: raw(excl, i).unwrap_or_default(),
                cfp_including: raw(incl, i),
                g2g_fossil: raw(g2g, i),
                g2g_biogenic: raw(g2g_bio, i),
                calc_method: text(calc, i),
                pds_pct: ratio(pds, i),
                dqr: dqr.map(|a| ratio(a, i).map(|d| if v2 { 1.0 + (d - 1.0) * 2.0 } else { d })),
                period: (start.value(i), end.value(i)),
                active: status.value(i) == "Active",
                is_latest: latest.value(i),
                version: (!version.is_null(i)).then(|| version.value(i)),
                certificate_kgco2e: raw(certificate, i),
            };
            let n = g.nodes.len() as u32;
            // One node per id for lookups: the highest version (PACT v2 keeps the id across
            // versions; the older rows stay as nodes nobody points to).
            let newer = match g.by_id.get(&node.id) {
                Some(&m) => g.nodes[m as usize].version <= node.version,
                None => true,
            };
            if newer {
                g.by_id.insert(node.id.clone(), n);
            }
            let list = product_ids.value(i);
            let mut urns = Vec::new();
            if let Some(s) = list.as_any().downcast_ref::<StringArray>() {
                for u in s.iter().flatten() {
                    let u = g.intern(u);
                    urns.push(u);
                    if node.is_latest && node.active {
                        g.candidates[u as usize].push(n);
                    }
                }
            }
            g.node_urns.push(urns);
            g.nodes.push(node);
        }
        Ok(())
    }

    fn add_edges(&mut self, bom: &RecordBatch) -> Result<()> {
        let g = self;
        let parents = col::<StringArray>(bom, "parent_product_id")?;
        let children = col::<StringArray>(bom, "child_product_id")?;
        let amounts = col::<Decimal128Array>(bom, "amount")?;
        let units = col::<StringArray>(bom, "unit")?;
        let parent_fp = col::<StringArray>(bom, "parent_footprint_id")?;
        for i in 0..bom.num_rows() {
            let edge = RawEdge {
                child: g.intern(children.value(i)),
                amount: fixed::rescale(
                    amounts.value(i),
                    amounts.scale().max(0) as u32,
                    INPUT_SCALE,
                )
                .unwrap_or(i128::MAX),
                unit: text(units, i).and_then(|u| DeclaredUnit::from_pact(&u)),
            };
            if parent_fp.is_null(i) {
                let p = g.intern(parents.value(i));
                g.csv_edges.entry(p).or_default().push(edge);
            } else if let Some(&n) = g.by_id.get(parent_fp.value(i)) {
                g.ext_edges.entry(n).or_default().push(edge);
            }
        }
        Ok(())
    }

    fn intern(&mut self, urn: &str) -> u32 {
        if let Some(&u) = self.urn_index.get(urn) {
            return u;
        }
        let u = self.urns.len() as u32;
        self.urns.push(urn.to_owned());
        self.urn_index.insert(urn.to_owned(), u);
        self.candidates.push(Vec::new());
        u
    }

    /// Per-node values for the walk, built once per basis and number type.
    pub(crate) fn value_cache(&self) -> &ValueCache {
        &self.values
    }

    /// The node of footprint `id`.
    pub fn node_by_id(&self, id: &str) -> Option<u32> {
        self.by_id.get(id).copied()
    }

    /// Latest Active footprints of product `urn`, oldest reference period first.
    pub fn candidates(&self, urn: &str) -> &[u32] {
        self.urn_index
            .get(urn)
            .map_or(&[], |u| self.candidates[*u as usize].as_slice())
    }

    /// Picks the footprint of `urn` for `date` (µs): the latest whose reference period
    /// covers it, else the most recent earlier, else the earliest later.
    pub fn pick(&self, candidates: &[u32], date: i64) -> Option<(u32, Staleness)> {
        let period = |n: &u32| self.nodes[*n as usize].period;
        if let Some(n) = candidates
            .iter()
            .rev()
            .find(|n| period(n).0 <= date && date < period(n).1)
        {
            return Some((*n, Staleness::Covers));
        }
        if let Some(n) = candidates.iter().rev().find(|n| period(n).1 <= date) {
            return Some((*n, Staleness::Older));
        }
        candidates.first().map(|n| (*n, Staleness::Newer))
    }

    /// The graph resolved for `date` (µs since the epoch), built on first use and cached.
    pub fn resolve(&self, date: i64) -> Arc<Resolved> {
        if let Ok(cache) = self.resolved.lock()
            && let Some(r) = cache.get(&date)
        {
            return r.clone();
        }
        let r = Arc::new(self.build_resolved(date));
        if let Ok(mut cache) = self.resolved.lock() {
            cache.insert(date, r.clone());
        }
        r
    }

    fn build_resolved(&self, date: i64) -> Resolved {
        let choice: Vec<Option<(u32, Staleness)>> =
            self.candidates.iter().map(|c| self.pick(c, date)).collect();
        let mut offsets = Vec::with_capacity(self.nodes.len() + 1);
        let mut children = Vec::new();
        let mut amounts = Vec::new();
        let mut problems: HashMap<u32, Vec<EdgeProblem>> = HashMap::new();
        let mut staleness = HashMap::new();
        offsets.push(0u32);
        let empty = Vec::new();
        for (n, urns) in self.node_urns.iter().enumerate() {
            let n = n as u32;
            // A footprint's own BOM extension wins over product-level CSV rows.
            let edges: Vec<&RawEdge> = match self.ext_edges.get(&n) {
                Some(e) if !e.is_empty() => e.iter().collect(),
                _ => urns
                    .iter()
                    .flat_map(|u| self.csv_edges.get(u).unwrap_or(&empty))
                    .collect(),
            };
            for e in edges {
                let Some((child, stale)) = choice[e.child as usize] else {
                    problems.entry(n).or_default().push(EdgeProblem::Dangling {
                        product: self.urns[e.child as usize].clone(),
                    });
                    continue;
                };
                let c = &self.nodes[child as usize];
                let amount = match e.unit {
                    None => Some(e.amount),
                    Some(u) if Some(u) == c.unit => Some(e.amount),
                    // A mass into a child declared per piece (or per litre, …) whose mass per
                    // declared unit is known.
                    // kg / (kg per unit), at 12 places; an overflow counts as not convertible.
                    Some(DeclaredUnit::Kilogram) => c.mass_kg.filter(|m| *m != 0).and_then(|m| {
                        let scaled = e.amount.checked_mul(fixed::pow10(INPUT_SCALE))?;
                        Some(fixed::div_round(scaled, m))
                    }),
                    Some(_) => None,
                };
                let Some(amount) = amount else {
                    problems.entry(n).or_default().push(EdgeProblem::Unit {
                        child,
                        unit: e.unit.unwrap_or(DeclaredUnit::Kilogram),
                        declared: c.unit,
                    });
                    continue;
                };
                if stale != Staleness::Covers {
                    staleness.insert(child, stale);
                }
                children.push(child);
                amounts.push(amount);
            }
            offsets.push(children.len() as u32);
        }
        Resolved {
            offsets,
            children,
            amounts,
            edge_values: Default::default(),
            problems,
            staleness,
        }
    }
}
