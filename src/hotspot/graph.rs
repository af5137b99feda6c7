// Over 800 lines: the graph, its resolution by date and the readers of the index columns
// share node numbering and caches (the value caches are held here, computed in walk.rs);
// splitting them would only make the parts import each other.

//! The supply-chain graph the decomposition walks, over the graph index of `table`:
//! footprints as nodes, BOM edges from footprints to products, resolved to footprints per
//! analysis date.
//!
//! The graph reads the index's Arrow columns in place: opening it costs the time to read the
//! index, not to rebuild one (no hash map is built; ids and URNs are found by binary search).
//! An edge in the data directory links *products*: a parent's BOM names its inputs by product
//! URN. Which footprint stands for an input depends on the date the root is analysed for, so
//! resolution happens per date ([`Graph::resolve`]) and is cached: the latest Active
//! footprint of the input whose reference period covers the date; failing that the most
//! recent earlier one (reported as older than the root's), or the earliest later one.
//! Amounts are converted into the input's declared unit; an edge that cannot be converted,
//! or whose input has no footprint, is left out and reported.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use datafusion::arrow::array::{
    Array, BooleanArray, Decimal128Array, Int32Array, LargeBinaryArray, LargeStringArray,
    ListArray, RecordBatch, TimestampMicrosecondArray, UInt32Array, UInt64Array,
};

use super::Basis;
use super::ints::Ints;
use super::values::{EdgeValues, INPUT_SCALE, ValueCache, Values};
use crate::model::DeclaredUnit;
use crate::model::fixed;
use crate::table::Tables;
use crate::table::graph_index::GraphIndex;
use crate::{Error, Result};

/// One footprint, with what the decomposition and its findings need, borrowed from the
/// index.
#[derive(Debug, Clone, Copy)]
pub struct Node<'a> {
    /// Footprint id.
    pub id: &'a str,
    /// Primary product URN.
    pub product_id: &'a str,
    /// Trade name of the product.
    pub product_name: &'a str,
    /// Data owner.
    pub company_name: &'a str,
    /// Data owner's first URN.
    pub company_id: &'a str,
    /// UN CPC code.
    pub cpc: Option<&'a str>,
    /// ISO 3166-1 country.
    pub country: Option<&'a str>,
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
    pub calc_method: Option<&'a str>,
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

impl Node<'_> {
    /// Whether the footprint is organization-based (GxD calcMethod "1").
    pub fn organization_based(&self) -> bool {
        self.calc_method == Some("1")
    }
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
/// amounts in the child's declared unit; either the whole graph, or only the footprints one
/// root reaches (a question asked once touches a fraction of a large graph).
///
/// Nodes are numbered locally: `0..len()`, in the order of the graph's node numbers
/// ([`Resolved::global`] and [`Resolved::local`] translate). Over the whole graph the two
/// numberings are the same.
#[derive(Debug)]
pub struct Resolved {
    /// Graph node of each local node; `None` for the whole graph (the identity).
    pub(super) nodes: Option<Vec<u32>>,
    /// The local nodes in ascending order of their graph nodes, where `nodes` are not
    /// ascending (a root's part, numbered in the order its walk reaches them).
    by_graph: Option<Vec<u32>>,
    /// `children[offsets[f]..offsets[f + 1]]` are the inputs of local node `f`.
    pub offsets: Vec<u32>,
    /// Child nodes (local).
    pub children: Vec<u32>,
    /// Amount of each child per declared unit of the parent, at 12 decimal places.
    pub amounts: Ints,
    /// Node values per basis for a part of the graph (the whole graph's are the graph's).
    pub(super) values: [OnceLock<Values>; 2],
    /// Edge coefficients and node consistency per basis, built on first use.
    pub(super) edge_values: [OnceLock<EdgeValues>; 2],
    /// Whether the adjacency has no cycle, found on first use.
    acyclic: OnceLock<bool>,
    /// The adjacency reversed (`parents[p_offsets[c]..p_offsets[c + 1]]` use local node `c`),
    /// built on first use.
    reversed: OnceLock<(Vec<u32>, Vec<u32>)>,
    /// Edges left out, per parent (graph node).
    pub problems: HashMap<u32, Vec<EdgeProblem>>,
    /// Inputs resolved to a footprint of another reference period, per child (graph node).
    pub staleness: HashMap<u32, Staleness>,
}

impl Resolved {
    /// Number of (local) nodes.
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Whether there is no node.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The graph node of local node `l`.
    pub fn global(&self, l: u32) -> u32 {
        self.nodes.as_ref().map_or(l, |n| n[l as usize])
    }

    /// The local node of graph node `g`, if it was resolved.
    pub fn local(&self, g: u32) -> Option<u32> {
        match (&self.nodes, &self.by_graph) {
            (None, _) => ((g as usize) < self.len()).then_some(g),
            (Some(n), None) => n.binary_search(&g).ok().map(|l| l as u32),
            (Some(n), Some(by_graph)) => by_graph
                .binary_search_by(|&l| n[l as usize].cmp(&g))
                .ok()
                .map(|at| by_graph[at]),
        }
    }

    /// Inputs of local `node`: `(child, amount)`.
    pub fn inputs(&self, node: u32) -> impl Iterator<Item = (u32, i128)> + '_ {
        let (a, b) = (
            self.offsets[node as usize] as usize,
            self.offsets[node as usize + 1] as usize,
        );
        self.children[a..b]
            .iter()
            .copied()
            .zip(self.amounts.iter_range(a, b))
    }

    /// Whether no node is its own input, directly or through others (Kahn's algorithm: every
    /// node is taken off once nothing points at it; a cycle keeps its nodes). Kept, so a
    /// server answering many questions about one root asks once.
    pub fn is_acyclic(&self) -> bool {
        *self.acyclic.get_or_init(|| {
            let mut indegree = vec![0u32; self.len()];
            for &c in &self.children {
                indegree[c as usize] += 1;
            }
            let mut ready: Vec<u32> = (0..self.len() as u32)
                .filter(|&n| indegree[n as usize] == 0)
                .collect();
            let mut taken = 0usize;
            while let Some(n) = ready.pop() {
                taken += 1;
                let (a, b) = (
                    self.offsets[n as usize] as usize,
                    self.offsets[n as usize + 1] as usize,
                );
                for &c in &self.children[a..b] {
                    indegree[c as usize] -= 1;
                    if indegree[c as usize] == 0 {
                        ready.push(c);
                    }
                }
            }
            taken == self.len()
        })
    }

    /// The local nodes that have local `node` as an input (each once per edge). The reversed
    /// adjacency is built on the first call and kept.
    pub fn parents(&self, node: u32) -> &[u32] {
        let (offsets, parents) = self.reversed.get_or_init(|| {
            let mut offsets = vec![0u32; self.len() + 1];
            for &c in &self.children {
                offsets[c as usize + 1] += 1;
            }
            for i in 0..self.len() {
                offsets[i + 1] += offsets[i];
            }
            let mut next = offsets.clone();
            let mut parents = vec![0u32; self.children.len()];
            for p in 0..self.len() {
                for &c in &self.children[self.offsets[p] as usize..self.offsets[p + 1] as usize] {
                    parents[next[c as usize] as usize] = p as u32;
                    next[c as usize] += 1;
                }
            }
            (offsets, parents)
        });
        &parents[offsets[node as usize] as usize..offsets[node as usize + 1] as usize]
    }

    /// A part of a graph made elsewhere (a what-if scenario's): `nodes` (graph node numbers,
    /// or numbers past the graph's for footprints a scenario gives), with `values` for
    /// `basis` already known.
    pub(super) fn from_parts(
        nodes: Vec<u32>,
        offsets: Vec<u32>,
        children: Vec<u32>,
        amounts: Ints,
        basis: Basis,
        values: Values,
    ) -> Resolved {
        let by_graph = by_graph(&nodes);
        let r = Resolved {
            nodes: Some(nodes),
            by_graph,
            offsets,
            children,
            amounts,
            values: Default::default(),
            edge_values: Default::default(),
            acyclic: OnceLock::new(),
            reversed: OnceLock::new(),
            problems: HashMap::new(),
            staleness: HashMap::new(),
        };
        let _ = r.values[super::values::basis_index(basis)].set(values);
        r
    }

    /// Sets the edge values for `basis` (before any walk asks for them).
    pub(super) fn set_edge_values(&self, basis: Basis, e: EdgeValues) {
        let _ = self.edge_values[super::values::basis_index(basis)].set(e);
    }

    /// Bytes held by the adjacency (offsets, children, amounts, coefficients built so far).
    pub fn heap_bytes(&self) -> usize {
        self.offsets.capacity() * 4
            + self.children.capacity() * 4
            + self.nodes.as_ref().map_or(0, |n| n.capacity() * 4)
            + self.by_graph.as_ref().map_or(0, |n| n.capacity() * 4)
            + self.amounts.heap_bytes()
            + self
                .reversed
                .get()
                .map_or(0, |(o, p)| (o.capacity() + p.capacity()) * 4)
            + self
                .edge_values
                .iter()
                .filter_map(|c| c.get())
                .map(|e| e.coef.heap_bytes() + e.balance.capacity())
                .sum::<usize>()
    }
}

/// The local nodes in ascending order of their graph nodes `nodes`, unless these ascend
/// already ([`Resolved::by_graph`]).
fn by_graph(nodes: &[u32]) -> Option<Vec<u32>> {
    if nodes.is_sorted() {
        return None;
    }
    let mut by_graph: Vec<u32> = (0..nodes.len() as u32).collect();
    by_graph.sort_unstable_by_key(|&l| nodes[l as usize]);
    Some(by_graph)
}

/// The footprint picked for each product URN (by URN number) while the nodes reachable from
/// a root were found: a node, [`Picks::DANGLING`] for none, [`Picks::UNPICKED`] for a URN not
/// met.
struct Picks(Vec<u32>);

impl Picks {
    const UNPICKED: u32 = u32::MAX;
    const DANGLING: u32 = u32::MAX - 1;
}

/// The typed columns of the index.
#[derive(Debug)]
struct Columns {
    id: Text,
    product_id: Text,
    product_name: Text,
    company_name: Text,
    company_id: Text,
    cpc: Text,
    country: Text,
    unit: Text,
    mass_kg: Decimal128Array,
    cfp_excluding: Decimal128Array,
    cfp_including: Decimal128Array,
    g2g_fossil: Decimal128Array,
    g2g_biogenic: Decimal128Array,
    calc_method: Text,
    pds_pct: Decimal128Array,
    dqr: [Decimal128Array; 3],
    major: Int32Array,
    version: Int32Array,
    start: TimestampMicrosecondArray,
    end: TimestampMicrosecondArray,
    status: Text,
    is_latest: BooleanArray,
    certificate: Decimal128Array,
    edges_from: UInt64Array,
    edge_child: UInt32Array,
    edge_amount: Decimal128Array,
    edge_unit: Text,
    urn: Text,
    candidates: ListArray,
    candidate_nodes: UInt32Array,
    ids: UInt32Array,
}

fn col<T: Clone + 'static>(b: &RecordBatch, name: &str) -> Result<T> {
    b.column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .cloned()
        .ok_or_else(|| Error::Internal(format!("graph index column {name} missing or mistyped")))
}

/// A stored amount at [`INPUT_SCALE`] places (the columns are written at that scale; another
/// scale is converted, and a value that cannot be is treated as absent).
fn raw(a: &Decimal128Array, i: usize) -> Option<i128> {
    if a.is_null(i) {
        return None;
    }
    fixed::rescale(a.value(i), a.scale().max(0) as u32, INPUT_SCALE)
}

/// A DQR or percentage as `f64` (they weigh items; they are never summed as amounts, and
/// their few digits need no more than f64's precision).
fn ratio(a: &Decimal128Array, i: usize) -> Option<f64> {
    /// 10^k, exact in f64 for k ≤ 22 (the scales these columns have).
    const POW10: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];
    if a.is_null(i) {
        return None;
    }
    let scale = i32::from(a.scale());
    let div = usize::try_from(scale)
        .ok()
        .and_then(|k| POW10.get(k).copied())
        .unwrap_or_else(|| 10f64.powi(scale));
    Some(a.value(i) as f64 / div)
}

fn text(a: &Text, i: usize) -> Option<&str> {
    a.is_valid(i).then(|| a.value(i))
}

/// A text column of the index. Mapped from the index's file, it is kept as bytes: each value
/// is checked to be UTF-8 as it is read, so opening a mapped index reads none of its text (a
/// value that is not UTF-8, in a damaged index, reads as U+FFFD). A column built in memory,
/// or checked whole by [`Graph::with_text_checked`] for a graph that answers many questions,
/// is read as it is.
#[derive(Debug, Clone)]
enum Text {
    Bytes(LargeBinaryArray),
    Checked(LargeStringArray),
}

impl Text {
    fn len(&self) -> usize {
        match self {
            Text::Bytes(a) => a.len(),
            Text::Checked(a) => a.len(),
        }
    }

    fn is_valid(&self, i: usize) -> bool {
        match self {
            Text::Bytes(a) => a.is_valid(i),
            Text::Checked(a) => a.is_valid(i),
        }
    }

    fn value(&self, i: usize) -> &str {
        match self {
            Text::Bytes(a) => std::str::from_utf8(a.value(i)).unwrap_or("\u{FFFD}"),
            Text::Checked(a) => a.value(i),
        }
    }

    fn array(&self) -> &dyn Array {
        match self {
            Text::Bytes(a) => a,
            Text::Checked(a) => a,
        }
    }

    /// The column checked whole (one pass over its bytes), or as it is if some value is not
    /// UTF-8.
    fn checked(&self) -> Text {
        match self {
            Text::Bytes(a) => LargeStringArray::try_from_binary(a.clone())
                .map_or_else(|_| self.clone(), Text::Checked),
            Text::Checked(_) => self.clone(),
        }
    }
}

/// Text column `name` of `b`, as written (bytes) or built in memory (UTF-8).
fn text_col(b: &RecordBatch, name: &str) -> Result<Text> {
    let c = b.column_by_name(name);
    if let Some(a) = c.and_then(|c| c.as_any().downcast_ref::<LargeBinaryArray>()) {
        return Ok(Text::Bytes(a.clone()));
    }
    c.and_then(|c| c.as_any().downcast_ref::<LargeStringArray>())
        .map(|a| Text::Checked(a.clone()))
        .ok_or_else(|| Error::Internal(format!("graph index column {name} missing or mistyped")))
}

/// What a graph keeps of a date.
#[derive(Debug, Clone)]
enum Resolution {
    /// Asked for one root so far: the part it reaches, kept for the questions that follow.
    Root(u32, Arc<Resolved>),
    /// Asked for another root: the whole graph is being resolved on another thread; the
    /// last root's part is kept meanwhile.
    Building(u32, Arc<Resolved>),
    /// The whole graph, resolved.
    Whole(Arc<Resolved>),
}

/// Every footprint and BOM edge of a dataset, over its graph index.
#[derive(Debug)]
pub struct Graph {
    c: Columns,
    len: usize,
    /// What is known of each date asked.
    resolved: Mutex<HashMap<i64, Resolution>>,
    values: ValueCache,
    /// Per-node quality facts in one record each, built when the whole graph is resolved or
    /// a part is asked about again.
    facts: OnceLock<Vec<Facts>>,
    /// Whether the facts are being built on another thread.
    facts_aside: AtomicBool,
    /// Each node's company, numbered, built on first use.
    companies: OnceLock<Vec<u32>>,
}

/// What a decomposition's quality reads of a node, in one cache line: the primary data
/// share, the three DQRs (NaN where absent) and whether it is organization-based.
#[derive(Debug, Clone, Copy)]
pub struct Facts {
    /// Primary data share, percent, then the technological, temporal and geographical DQRs
    /// as [`Graph::dqr`] gives them; NaN for none.
    pub weighted: [f64; 4],
    /// GxD calcMethod "1".
    pub organization_based: bool,
}

impl Graph {
    /// Builds the graph of `tables` (its index computed in memory).
    pub fn from_tables(tables: &Tables) -> Result<Graph> {
        Graph::from_index(&GraphIndex::build(tables)?)
    }

    /// Builds the graph from `footprints` batches (with `is_latest`) and `bom` batches.
    pub fn from_batches(fp: &[RecordBatch], bom: &[RecordBatch]) -> Result<Graph> {
        Graph::from_index(&GraphIndex::from_views(fp, bom)?)
    }

    /// The graph with its text checked to be UTF-8 whole, once, instead of value by value
    /// as each is read: for a graph that answers many questions (a server's), where the
    /// labels of the same items are read again and again (a tenth of the hotspots page's
    /// time at 1M footprints, checked as read). It reads every text of a mapped index.
    pub fn with_text_checked(mut self) -> Graph {
        let c = &mut self.c;
        for t in [
            &mut c.id,
            &mut c.product_id,
            &mut c.product_name,
            &mut c.company_name,
            &mut c.company_id,
            &mut c.cpc,
            &mut c.country,
            &mut c.unit,
            &mut c.calc_method,
            &mut c.status,
            &mut c.edge_unit,
            &mut c.urn,
        ] {
            *t = t.checked();
        }
        self
    }

    /// The graph over `index`, reading its columns in place.
    pub fn from_index(index: &GraphIndex) -> Result<Graph> {
        let n = &index.nodes;
        let candidates: ListArray = col(&index.urns, "candidates")?;
        let candidate_nodes = candidates
            .values()
            .as_any()
            .downcast_ref::<UInt32Array>()
            .cloned()
            .ok_or_else(|| Error::Internal("graph index candidates are not node numbers".into()))?;
        let c = Columns {
            id: text_col(n, "id")?,
            product_id: text_col(n, "product_id")?,
            product_name: text_col(n, "product_name")?,
            company_name: text_col(n, "company_name")?,
            company_id: text_col(n, "company_id")?,
            cpc: text_col(n, "cpc")?,
            country: text_col(n, "country")?,
            unit: text_col(n, "unit")?,
            mass_kg: col(n, "mass_kg")?,
            cfp_excluding: col(n, "cfp_excluding")?,
            cfp_including: col(n, "cfp_including")?,
            g2g_fossil: col(n, "g2g_fossil")?,
            g2g_biogenic: col(n, "g2g_biogenic")?,
            calc_method: text_col(n, "calc_method")?,
            pds_pct: col(n, "pds_pct")?,
            dqr: [
                col(n, "dqr_technological")?,
                col(n, "dqr_temporal")?,
                col(n, "dqr_geographical")?,
            ],
            major: col(n, "pact_major_version")?,
            version: col(n, "version")?,
            start: col(n, "period_start")?,
            end: col(n, "period_end")?,
            status: text_col(n, "status")?,
            is_latest: col(n, "is_latest")?,
            certificate: col(n, "certificate_kgco2e")?,
            edges_from: col(n, "edges_from")?,
            edge_child: col(&index.edges, "child_urn")?,
            edge_amount: col(&index.edges, "amount")?,
            edge_unit: text_col(&index.edges, "unit")?,
            urn: text_col(&index.urns, "urn")?,
            candidates,
            candidate_nodes,
            ids: col(&index.ids, "node")?,
        };
        let len = n.num_rows();
        // Everything the walk indexes with must be in range: a damaged index is an error here,
        // never a panic later.
        let urns = c.urn.len();
        let in_range = c.edge_child.values().iter().all(|&u| (u as usize) < urns)
            && c.candidate_nodes
                .values()
                .iter()
                .all(|&v| (v as usize) < len)
            && c.ids.values().iter().all(|&v| (v as usize) < len)
            && c.edges_from
                .values()
                .iter()
                .all(|&e| e as usize <= c.edge_child.len())
            && c.edges_from.values().windows(2).all(|w| w[0] <= w[1]);
        if !in_range {
            return Err(Error::Internal(
                "the graph index is inconsistent (damaged data directory?)".into(),
            ));
        }
        Ok(Graph {
            c,
            len,
            resolved: Mutex::new(HashMap::new()),
            values: ValueCache::default(),
            facts: OnceLock::new(),
            facts_aside: AtomicBool::new(false),
            companies: OnceLock::new(),
        })
    }

    /// Number of nodes (footprint versions).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there is no node.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Node `i`.
    pub fn node(&self, i: u32) -> Node<'_> {
        let c = &self.c;
        let i = i as usize;
        Node {
            id: c.id.value(i),
            product_id: c.product_id.value(i),
            product_name: c.product_name.value(i),
            company_name: c.company_name.value(i),
            company_id: c.company_id.value(i),
            cpc: text(&c.cpc, i),
            country: text(&c.country, i),
            unit: text(&c.unit, i).and_then(DeclaredUnit::from_pact),
            mass_kg: raw(&c.mass_kg, i),
            cfp_excluding: raw(&c.cfp_excluding, i).unwrap_or_default(),
            cfp_including: raw(&c.cfp_including, i),
            g2g_fossil: raw(&c.g2g_fossil, i),
            g2g_biogenic: raw(&c.g2g_biogenic, i),
            calc_method: text(&c.calc_method, i),
            pds_pct: ratio(&c.pds_pct, i),
            dqr: [0, 1, 2].map(|k| self.dqr(i as u32, k)),
            period: (c.start.value(i), c.end.value(i)),
            active: c.status.value(i) == "Active",
            is_latest: c.is_latest.value(i),
            version: (!c.version.is_null(i)).then(|| c.version.value(i)),
            certificate_kgco2e: raw(&c.certificate, i),
        }
    }

    /// Node `i`'s footprint id (the labels below read one column each, for answers that
    /// label many items).
    pub fn id(&self, i: u32) -> &str {
        self.c.id.value(i as usize)
    }

    /// Node `i`'s primary product URN.
    pub fn product_id(&self, i: u32) -> &str {
        self.c.product_id.value(i as usize)
    }

    /// Node `i`'s trade name.
    pub fn product_name(&self, i: u32) -> &str {
        self.c.product_name.value(i as usize)
    }

    /// Node `i`'s data owner.
    pub fn company_name(&self, i: u32) -> &str {
        self.c.company_name.value(i as usize)
    }

    /// Each node's data owner as a number (nodes of one company id share it), built on
    /// first use: what sums by supplier over many nodes compare instead of their ids.
    pub fn company_numbers(&self) -> &[u32] {
        self.companies.get_or_init(|| {
            let mut numbers: HashMap<&str, u32> = HashMap::new();
            (0..self.len as u32)
                .map(|i| {
                    let next = numbers.len() as u32;
                    *numbers.entry(self.company_id(i)).or_insert(next)
                })
                .collect()
        })
    }

    /// Node `i`'s data owner's first URN.
    pub fn company_id(&self, i: u32) -> &str {
        self.c.company_id.value(i as usize)
    }

    /// Node `i`'s UN CPC code.
    pub fn cpc(&self, i: u32) -> Option<&str> {
        text(&self.c.cpc, i as usize)
    }

    /// Node `i`'s country (ISO 3166-1).
    pub fn country(&self, i: u32) -> Option<&str> {
        text(&self.c.country, i as usize)
    }

    /// Node `i`'s declared unit.
    pub fn unit(&self, i: u32) -> Option<DeclaredUnit> {
        text(&self.c.unit, i as usize).and_then(DeclaredUnit::from_pact)
    }

    /// Node `i`'s reference period, µs since the epoch.
    pub fn period(&self, i: u32) -> (i64, i64) {
        (self.c.start.value(i as usize), self.c.end.value(i as usize))
    }

    /// Node `i`'s cradle-to-gate footprint and Gate-to-Gate emissions for `basis` at 12
    /// places, and whether the footprint lacked the basis's total (the other one is used).
    pub fn cfp_g2g(&self, i: u32, basis: Basis) -> (i128, Option<i128>, bool) {
        let (c, i) = (&self.c, i as usize);
        let excl = raw(&c.cfp_excluding, i).unwrap_or_default();
        match basis {
            Basis::ExcludingBiogenic => (excl, raw(&c.g2g_fossil, i), false),
            Basis::IncludingBiogenic => {
                let incl = raw(&c.cfp_including, i);
                (
                    incl.unwrap_or(excl),
                    raw(&c.g2g_biogenic, i),
                    incl.is_none(),
                )
            }
        }
    }

    /// Whether node `i` is organization-based (GxD calcMethod "1").
    pub fn organization_based(&self, i: u32) -> bool {
        let c = &self.c.calc_method;
        c.is_valid(i as usize) && c.value(i as usize) == "1"
    }

    /// Node `i`'s primary data share, percent.
    pub fn pds_pct(&self, i: u32) -> Option<f64> {
        ratio(&self.c.pds_pct, i as usize)
    }

    /// Node `i`'s DQR `k` (technological, temporal, geographical) on PACT v3's 1–5 scale
    /// (v2's 1–3 mapped linearly: 1 → 1, 3 → 5).
    pub fn dqr(&self, i: u32, k: usize) -> Option<f64> {
        let i = i as usize;
        let v2 = self.c.major.value(i) == 2;
        ratio(&self.c.dqr[k], i).map(|d| if v2 { 1.0 + (d - 1.0) * 2.0 } else { d })
    }

    /// Node `i`'s quality facts, read from the columns.
    pub fn facts_of(&self, i: u32) -> Facts {
        let none = f64::NAN;
        Facts {
            weighted: [
                self.pds_pct(i).unwrap_or(none),
                self.dqr(i, 0).unwrap_or(none),
                self.dqr(i, 1).unwrap_or(none),
                self.dqr(i, 2).unwrap_or(none),
            ],
            organization_based: self.organization_based(i),
        }
    }

    /// Every node's facts, if kept (a graph whose whole is resolved keeps them: one
    /// record per node is one memory read per item instead of six).
    pub fn facts(&self) -> Option<&[Facts]> {
        self.facts.get().map(Vec::as_slice)
    }

    /// Per-node values for the walk, built once per basis.
    pub(crate) fn value_cache(&self) -> &ValueCache {
        &self.values
    }

    /// The node of footprint `id` (its newest version).
    pub fn node_by_id(&self, id: &str) -> Option<u32> {
        let ids = self.c.ids.values();
        let at = ids
            .binary_search_by(|&n| self.c.id.value(n as usize).cmp(id))
            .ok()?;
        Some(ids[at])
    }

    fn urn(&self, urn: &str) -> Option<usize> {
        let u = &self.c.urn;
        let (mut lo, mut hi) = (0, u.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match u.value(mid).cmp(urn) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    fn candidates_of(&self, u: usize) -> &[u32] {
        let offsets = self.c.candidates.value_offsets();
        let (a, b) = (offsets[u] as usize, offsets[u + 1] as usize);
        &self.c.candidate_nodes.values()[a..b]
    }

    /// The amount (12 places) and unit of node `n`'s bill-of-materials row for input `urn`,
    /// as stored (also for a row the decomposition left out).
    pub fn input_row(&self, n: u32, urn: &str) -> Option<(i128, Option<DeclaredUnit>)> {
        let c = &self.c;
        let (a, b) = self.edge_range(c.edges_from.values(), n as usize);
        (a..b)
            .find(|&e| c.urn.value(c.edge_child.value(e) as usize) == urn)
            .map(|e| {
                (
                    raw(&c.edge_amount, e).unwrap_or_default(),
                    text(&c.edge_unit, e).and_then(DeclaredUnit::from_pact),
                )
            })
    }

    /// Product URNs with an Active footprint that no footprint takes as an input: the ends
    /// of the supply chains, ascending.
    pub fn root_products(&self) -> Vec<&str> {
        let c = &self.c;
        let mut used = vec![false; c.urn.len()];
        for &u in c.edge_child.values() {
            if let Some(x) = used.get_mut(u as usize) {
                *x = true;
            }
        }
        (0..c.urn.len())
            .filter(|&u| !used[u] && !self.candidates_of(u).is_empty())
            .map(|u| c.urn.value(u))
            .collect()
    }

    /// Latest Active footprints of product `urn`, oldest reference period first.
    pub fn candidates(&self, urn: &str) -> &[u32] {
        self.urn(urn).map_or(&[], |u| self.candidates_of(u))
    }

    /// Picks the footprint of `urn` for `date` (µs): the latest whose reference period
    /// covers it, else the most recent earlier, else the earliest later.
    pub fn pick(&self, candidates: &[u32], date: i64) -> Option<(u32, Staleness)> {
        for wanted in [Staleness::Covers, Staleness::Older] {
            if let Some(&n) =
                (candidates.iter().rev()).find(|&&n| self.staleness(n, date) == wanted)
            {
                return Some((n, wanted));
            }
        }
        // None covers the date or ended before it: every candidate is newer.
        candidates.first().map(|&n| (n, Staleness::Newer))
    }

    /// The whole graph resolved for `date` (µs since the epoch), built on first use and
    /// cached.
    pub fn resolve(&self, date: i64) -> Arc<Resolved> {
        if let Some(Resolution::Whole(r)) = self.cache().get(&date) {
            return r.clone();
        }
        self.resolve_whole(date)
    }

    /// Resolves the whole graph for `date` and keeps it, with the per-node facts.
    fn resolve_whole(&self, date: i64) -> Arc<Resolved> {
        let r = Arc::new(self.build_resolved(date, None));
        self.keep_facts();
        // What the first question on it would otherwise compute, for the default basis: the
        // coefficients of every edge, whether there is a cycle, the mismatch findings (half a
        // second at a million footprints).
        super::findings::prepare(self, &r, Basis::default());
        Self::keep(&mut self.cache(), date, Resolution::Whole(r.clone()));
        r
    }

    /// The graph resolved for `date`, enough for a walk from `root`: the whole graph if it
    /// is kept; otherwise the part `root` reaches, kept for the next question about it (a
    /// process that asks one question touches only that; a dashboard asks about one root
    /// again and again). Once a second root is asked about, the whole graph is resolved on
    /// another thread and kept for the questions that follow (a server, a query over many
    /// roots); no question waits for it (some 0.6 s at a million footprints).
    pub fn resolve_for(self: &Arc<Self>, date: i64, root: u32) -> Arc<Resolved> {
        let mut cache = self.cache();
        let build_whole = match cache.get(&date) {
            Some(Resolution::Whole(r)) => return r.clone(),
            Some(Resolution::Root(k, r) | Resolution::Building(k, r)) if *k == root => {
                // Asked again: the quality's per-node facts are worth keeping too.
                let r = r.clone();
                drop(cache);
                self.keep_facts_aside();
                return r;
            }
            Some(Resolution::Root(k, r)) => {
                // Marked now, so that one thread resolves the whole graph.
                let building = Resolution::Building(*k, r.clone());
                Self::keep(&mut cache, date, building);
                true
            }
            Some(Resolution::Building(..)) | None => false,
        };
        if build_whole {
            let graph = self.clone();
            let spawned = std::thread::Builder::new()
                .name("mieruka-resolve".into())
                .spawn(move || {
                    graph.resolve_whole(date);
                });
            if let Err(e) = spawned {
                tracing::warn!("could not resolve the whole graph on another thread: {e}");
            }
        }
        drop(cache);
        let part = Arc::new(self.build_resolved(date, Some(root)));
        let mut cache = self.cache();
        let kept = match cache.get(&date) {
            Some(Resolution::Whole(_)) => None,
            Some(Resolution::Building(..)) => Some(Resolution::Building(root, part.clone())),
            _ => Some(Resolution::Root(root, part.clone())),
        };
        if let Some(kept) = kept {
            Self::keep(&mut cache, date, kept);
        }
        part
    }

    /// Whether the whole graph of `date` is resolved and kept (once a second root of the date
    /// was asked about, on another thread; or by [`Graph::resolve`]).
    pub fn keeps_whole(&self, date: i64) -> bool {
        matches!(self.cache().get(&date), Some(Resolution::Whole(_)))
    }

    /// Builds and keeps the per-node facts on another thread, once.
    fn keep_facts_aside(self: &Arc<Self>) {
        if self.facts.get().is_some() || self.facts_aside.swap(true, Ordering::Relaxed) {
            return;
        }
        let graph = self.clone();
        let spawned = std::thread::Builder::new()
            .name("mieruka-facts".into())
            .spawn(move || graph.keep_facts());
        if let Err(e) = spawned {
            tracing::warn!("could not keep the quality facts on another thread: {e}");
        }
    }

    fn keep_facts(&self) {
        self.facts
            .get_or_init(|| (0..self.len as u32).map(|i| self.facts_of(i)).collect());
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Resolution>> {
        // A panic elsewhere while the lock was held leaves the cache as it was: still usable.
        self.resolved
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn keep(cache: &mut HashMap<i64, Resolution>, date: i64, r: Resolution) {
        // Each date kept is an adjacency; a server asked for many dates keeps the last few.
        if cache.len() >= 8 && !cache.contains_key(&date) {
            cache.clear();
        }
        cache.insert(date, r);
    }

    /// The nodes reachable from `root` over edges whose input has a footprint for `date`, in
    /// the order a walk from the root first reaches them (tier by tier, each node's inputs in
    /// order), and the input picked for each product URN met on the way ([`Picks`]).
    ///
    /// Numbered so, the nodes of each tier of a walk lie mostly one after another, with their
    /// values, inputs and sums: the walk reads its memory in order where, numbered as in the
    /// graph, every node and input was a read at a random place.
    fn reachable(&self, date: i64, root: u32) -> (Vec<u32>, Picks) {
        let c = &self.c;
        let from = c.edges_from.values();
        let mut picks = Picks(vec![Picks::UNPICKED; c.candidates.len()]);
        let mut seen = vec![false; self.len];
        let mut out = vec![root];
        seen[root as usize] = true;
        let mut next = 0;
        while let Some(&n) = out.get(next) {
            next += 1;
            let (a, b) = self.edge_range(from, n as usize);
            for e in a..b {
                let urn = c.edge_child.value(e) as usize;
                let picked = &mut picks.0[urn];
                if *picked == Picks::UNPICKED {
                    *picked = self
                        .pick(self.candidates_of(urn), date)
                        .map_or(Picks::DANGLING, |(n, _)| n);
                }
                let child = *picked;
                if child != Picks::DANGLING && !std::mem::replace(&mut seen[child as usize], true) {
                    out.push(child);
                }
            }
        }
        (out, picks)
    }

    /// How node `n`'s reference period relates to `date`: covering it, ended before it, or
    /// starting after it.
    fn staleness(&self, n: u32, date: i64) -> Staleness {
        let p = self.period(n);
        if p.0 <= date && date < p.1 {
            Staleness::Covers
        } else if p.1 <= date {
            Staleness::Older
        } else {
            Staleness::Newer
        }
    }

    fn edge_range(&self, from: &[u64], n: usize) -> (usize, usize) {
        let a = from[n] as usize;
        let b = from
            .get(n + 1)
            .map_or(self.c.edge_child.len(), |e| *e as usize);
        (a, b)
    }

    fn build_resolved(&self, date: i64, root: Option<u32>) -> Resolved {
        let c = &self.c;
        let (nodes, picks) = root.map(|r| self.reachable(date, r)).unzip();
        let (count, edges) = match &nodes {
            None => (self.len, c.edge_child.len()),
            Some(n) => (n.len(), n.len() * 8),
        };
        // Local numbers by graph node, looked up once per edge (a search per edge would
        // wander a large sorted list).
        let locals: Option<Vec<u32>> = nodes.as_ref().map(|nodes| {
            let mut locals = vec![u32::MAX; self.len];
            for (l, &g) in nodes.iter().enumerate() {
                locals[g as usize] = l as u32;
            }
            locals
        });
        let local = |g: u32| match &locals {
            Some(locals) => locals.get(g as usize).copied().filter(|&l| l != u32::MAX),
            None => ((g as usize) < self.len).then_some(g),
        };
        // The inputs the walk to every reachable node already picked, by product URN.
        let pick = |urn: usize| match picks.as_ref().map(|p| p.0[urn]) {
            Some(Picks::DANGLING) => None,
            Some(n) if n != Picks::UNPICKED => Some((n, self.staleness(n, date))),
            _ => self.pick(self.candidates_of(urn), date),
        };
        let mut offsets = Vec::with_capacity(count + 1);
        let mut children = Vec::with_capacity(edges);
        let mut amounts = Ints::with_capacity(edges);
        let mut problems: HashMap<u32, Vec<EdgeProblem>> = HashMap::new();
        let mut staleness = HashMap::new();
        offsets.push(0u32);
        let from = c.edges_from.values();
        for l in 0..count {
            let n = nodes.as_ref().map_or(l as u32, |v| v[l]);
            let (a, b) = self.edge_range(from, n as usize);
            for e in a..b {
                let urn = c.edge_child.value(e) as usize;
                let Some((child, stale)) = pick(urn) else {
                    problems.entry(n).or_default().push(EdgeProblem::Dangling {
                        product: c.urn.value(urn).to_owned(),
                    });
                    continue;
                };
                // Most edges give no unit (the input's declared unit): no text to compare.
                let unit = text(&c.edge_unit, e).and_then(DeclaredUnit::from_pact);
                let declared = || text(&c.unit, child as usize).and_then(DeclaredUnit::from_pact);
                let amount = raw(&c.edge_amount, e).unwrap_or(i128::MAX);
                let amount = match unit {
                    None => Some(amount),
                    Some(u) if Some(u) == declared() => Some(amount),
                    // A mass into a child declared per piece (or per litre, …) whose mass per
                    // declared unit is known: kg / (kg per unit), at 12 places; an overflow
                    // counts as not convertible.
                    Some(DeclaredUnit::Kilogram) => raw(&c.mass_kg, child as usize)
                        .filter(|m| *m != 0)
                        .and_then(|m| {
                            let scaled = amount.checked_mul(fixed::pow10(INPUT_SCALE))?;
                            Some(fixed::div_round(scaled, m))
                        }),
                    Some(_) => None,
                };
                let Some(amount) = amount else {
                    problems.entry(n).or_default().push(EdgeProblem::Unit {
                        child,
                        unit: unit.unwrap_or(DeclaredUnit::Kilogram),
                        declared: declared(),
                    });
                    continue;
                };
                // Every input picked is reachable, so resolved with its parent.
                let Some(child_local) = local(child) else {
                    continue;
                };
                if stale != Staleness::Covers {
                    staleness.insert(child, stale);
                }
                children.push(child_local);
                amounts.push(amount);
            }
            offsets.push(children.len() as u32);
        }
        let by_graph = nodes.as_deref().and_then(by_graph);
        Resolved {
            nodes,
            by_graph,
            offsets,
            children,
            amounts,
            values: Default::default(),
            edge_values: Default::default(),
            acyclic: OnceLock::new(),
            reversed: OnceLock::new(),
            problems,
            staleness,
        }
    }
}

/// The graph's columns as arrays, for callers that want to check what was opened.
impl Graph {
    /// Bytes of the index's columns held by the graph.
    pub fn index_bytes(&self) -> usize {
        let arrays: [&dyn Array; 8] = [
            self.c.id.array(),
            self.c.product_id.array(),
            self.c.product_name.array(),
            self.c.company_name.array(),
            &self.c.edge_child,
            &self.c.edge_amount,
            self.c.urn.array(),
            &self.c.candidate_nodes,
        ];
        arrays.iter().map(|a| a.get_array_memory_size()).sum()
    }
}
