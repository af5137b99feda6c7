//! The level-by-level walk in fixed-point integers: x(r, 0) = 1,
//! x(g, k+1) = Σ_f x(f, k) · a(f, g), with one item per (footprint, tier, kind).
//!
//! Scales (see `model::fixed`): footprints and amounts arrive at 12 decimal places (the
//! stored `Decimal128(38, 12)`); quantities x are kept at [`X_SCALE`] = 12 places; an edge's
//! coefficient c(f, g) = a(f, g) · cfp(g) is rounded once to 12 places when the graph is
//! resolved; every value that flows (what a parent passes, what a node receives, every item)
//! is an exact product at [`VALUE_SCALE`] = 24 places. So:
//! - a parent passes P(f, g) = x(f) · c(f, g) to each input, exactly;
//! - a node receives V(g) = Σ_f P(f, g) (the root receives cfp(root));
//! - `own` = x(f) · g2g(f); the gap item (`untraced` / `mismatch`) = V(f) − own − Σ_g P(f, g),
//!   so every rounding residue (of x and of c) lands in that node's gap;
//! - except that a footprint whose own numbers are consistent (cfp = g2g + Σ a · cfp of its
//!   inputs, exactly) has no gap to report: its residue, a few units of 10^-24 kg, is added
//!   to its `own` item instead of showing as a spurious untraced or mismatch item;
//! - a terminal node's item (`unresolved`, `beyond_cutoff`) is V itself.
//!
//! The items therefore telescope to cfp(root) to the last unit, in integer arithmetic, on any
//! graph. The only rounding is of x (once per node and tier) and of c (once per edge).
//! Values are `i128`: at 24 places they reach ±1.7·10^14 kgCO2e, and items must fit the
//! `Decimal128(38, 24)` column (±10^14). Anything larger is an [`Error::OutOfRange`]
//! naming the footprint, never a wrap-around or a panic.

use std::sync::OnceLock;

use super::graph::{Graph, Resolved};
use super::ints::Ints;
use super::values::{
    Balance, EdgeValues, INPUT_SCALE, OUT_OF_RANGE, VALUE_SCALE, Values, X_ONE, X_SCALE,
    basis_index, mul, mul_scaled, root_value,
};
use super::{Basis, Kind};
use crate::model::fixed::{self, DECIMAL128_MAX};
use crate::{Error, Result};

impl Values {
    /// The values of every node of `graph` for `basis`, built once and kept by the graph.
    pub fn of(graph: &Graph, basis: Basis) -> &Values {
        graph.value_cache().values[basis_index(basis)]
            .get_or_init(|| Values::build(graph, basis, 0..graph.len() as u32))
    }

    /// The values of `nodes` (numbered from 0 in this order) for `basis`.
    pub(crate) fn build(
        graph: &Graph,
        basis: Basis,
        nodes: impl ExactSizeIterator<Item = u32>,
    ) -> Values {
        let mut fallback = Vec::new();
        let mut cfp = Vec::with_capacity(nodes.len());
        let mut g2g = Vec::with_capacity(nodes.len());
        for (l, i) in nodes.enumerate() {
            let (c, g, fell_back) = graph.cfp_g2g(i, basis);
            if fell_back {
                fallback.push(l as u32);
            }
            cfp.push(c);
            g2g.push(g);
        }
        Values { cfp, g2g, fallback }
    }
}

/// The caches a resolved part of the graph keeps, filled here.
impl Resolved {
    /// The node values for `basis`, by local node.
    pub fn values<'a>(&'a self, graph: &'a Graph, basis: Basis) -> &'a Values {
        match &self.nodes {
            None => Values::of(graph, basis),
            Some(nodes) => self.values[basis_index(basis)]
                .get_or_init(|| Values::build(graph, basis, nodes.iter().copied())),
        }
    }

    /// The edge coefficients and node consistency for `basis`, built on first use.
    pub(crate) fn edge_values(&self, graph: &Graph, basis: Basis) -> &EdgeValues {
        self.edge_values[basis_index(basis)].get_or_init(|| edge_values(graph, self, basis))
    }
}

/// The [`EdgeValues`] of `resolved` for `basis`.
pub(crate) fn edge_values(graph: &Graph, resolved: &Resolved, basis: Basis) -> EdgeValues {
    let values = resolved.values(graph, basis);
    let coef = resolved
        .children
        .iter()
        .zip(resolved.amounts.iter_range(0, resolved.amounts.len()))
        .map(|(&g, amount)| {
            mul_scaled(amount, values.cfp[g as usize], INPUT_SCALE).unwrap_or(OUT_OF_RANGE)
        })
        .collect();
    let mut exceeding = Vec::new();
    let balance = (0..resolved.len())
        .map(|f| {
            let Some(g2g) = values.g2g[f] else {
                return Balance::Other;
            };
            let upstream = upstream(resolved, values, f as u32);
            // An overflow on either side is not consistent; inputs beyond range exceed.
            let reported = values.cfp[f]
                .checked_sub(g2g)
                .and_then(|r| mul(r, fixed::pow10(INPUT_SCALE)));
            if matches!((upstream, reported), (Some(u), Some(r)) if u == r) {
                return Balance::Consistent;
            }
            let reported = values.cfp[f]
                .saturating_sub(g2g)
                .saturating_mul(fixed::pow10(INPUT_SCALE));
            if upstream.unwrap_or(i128::MAX) > reported {
                exceeding.push((f as u32, upstream));
                Balance::Exceeds
            } else {
                Balance::Other
            }
        })
        .collect();
    EdgeValues {
        coef,
        balance,
        exceeding,
        mismatches: OnceLock::new(),
    }
}

/// What node `f`'s inputs add up to, Σ a · cfp(input), exactly at [`VALUE_SCALE`] (12 + 12
/// places); `None` on overflow.
pub(crate) fn upstream(resolved: &Resolved, values: &Values, f: u32) -> Option<i128> {
    resolved.inputs(f).try_fold(0_i128, |s, (g, amount)| {
        s.checked_add(mul(amount, values.cfp[g as usize])?)
    })
}

fn out_of_range(graph: &Graph, node: u32, why: String) -> Error {
    if node as usize >= graph.len() {
        // A footprint a what-if scenario gives: named by the scenario's change.
        return Error::OutOfRange {
            footprint: "(given in the scenario)".into(),
            message: format!(
                "{why}; mieruka decomposes footprints up to ±10^14 kgCO2e per declared unit"
            ),
        };
    }
    let n = graph.node(node);
    Error::OutOfRange {
        footprint: n.id.to_owned(),
        message: format!(
            "{} ({}): {why}; mieruka decomposes footprints up to ±10^14 kgCO2e per declared unit of the product, with quantities up to ±10^14 units per tier step",
            n.product_name, n.company_name
        ),
    }
}

/// One item before it is labelled: node, tier, kind and kgCO2e per declared unit of the root
/// at [`VALUE_SCALE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawItem {
    /// Tier.
    pub tier: u32,
    /// Footprint node.
    pub node: u32,
    /// Kind.
    pub kind: Kind,
    /// kgCO2e per declared unit of the root, at [`VALUE_SCALE`] decimal places.
    pub value: i128,
}

/// Limits of a walk.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Deepest tier expanded.
    pub max_tier: u32,
    /// Minimum share of the root's CFP, percent, for a node to be expanded (0 = off).
    pub min_share_pct: f64,
}

/// Walks from `root` and returns its items, tier by tier.
pub fn walk(
    graph: &Graph,
    resolved: &Resolved,
    basis: Basis,
    root: u32,
    limits: Limits,
) -> Result<Vec<RawItem>> {
    walk_split(graph, resolved, basis, root, limits, SPLIT_NODES)
}

/// [`walk`], expanding tiers of at least `split_nodes` nodes in two halves on two threads.
/// The items are the same, in the same order, for any `split_nodes` (`usize::MAX`: one
/// thread throughout; 1: every tier split).
pub fn walk_split(
    graph: &Graph,
    resolved: &Resolved,
    basis: Basis,
    root: u32,
    limits: Limits,
    split_nodes: usize,
) -> Result<Vec<RawItem>> {
    let edges = resolved.edge_values(graph, basis);
    // One loop, compiled for each width of the two columns.
    match (&resolved.amounts, &edges.coef) {
        (Ints::Narrow(a), Ints::Narrow(c)) => tiers(
            graph,
            resolved,
            edges,
            a,
            c,
            basis,
            root,
            limits,
            split_nodes,
        ),
        (Ints::Narrow(a), Ints::Wide(c)) => tiers(
            graph,
            resolved,
            edges,
            a,
            c,
            basis,
            root,
            limits,
            split_nodes,
        ),
        (Ints::Wide(a), Ints::Narrow(c)) => tiers(
            graph,
            resolved,
            edges,
            a,
            c,
            basis,
            root,
            limits,
            split_nodes,
        ),
        (Ints::Wide(a), Ints::Wide(c)) => tiers(
            graph,
            resolved,
            edges,
            a,
            c,
            basis,
            root,
            limits,
            split_nodes,
        ),
    }
}

/// The walk over amounts and coefficients of whatever width they are kept in.
#[allow(clippy::too_many_arguments)]
fn tiers<A: Copy + Into<i128> + Sync, C: Copy + Into<i128> + Sync>(
    graph: &Graph,
    resolved: &Resolved,
    edges: &EdgeValues,
    amounts: &[A],
    coef: &[C],
    basis: Basis,
    root: u32,
    limits: Limits,
    split_nodes: usize,
) -> Result<Vec<RawItem>> {
    // Node numbers below are the resolution's (local); items name graph nodes.
    let values = resolved.values(graph, basis);
    let n = resolved.len();
    let range = |node: u32, why: &str| out_of_range(graph, resolved.global(node), why.to_owned());
    let root = resolved
        .local(root)
        .ok_or_else(|| Error::Internal("the root is not in its resolved graph".into()))?;
    let v_root = root_value(values, root)
        .ok_or_else(|| range(root, "its cradle-to-gate footprint is beyond range"))?;
    // |V| below this is not expanded; a cut-off, so f64 precision is enough.
    let threshold = (limits.min_share_pct > 0.0)
        .then(|| v_root.unsigned_abs() as f64 * limits.min_share_pct / 100.0);
    if limits.max_tier >= MAX_WALK_TIERS - 2 {
        return Err(Error::Usage(format!(
            "max tier {}: expected fewer than {}",
            limits.max_tier,
            MAX_WALK_TIERS - 2
        )));
    }
    // Per node, for the next tier: Σ x·a at VALUE_SCALE (rounded to X_SCALE at the end of
    // the tier) and Σ P at VALUE_SCALE, kept per thread between walks: a server asking about
    // a large root many times does not fault in and zero fresh pages for each question.
    let step = Step {
        graph,
        resolved,
        values,
        amounts,
        coef,
        edges,
        threshold,
        limits,
        split_nodes,
    };
    let run = |scratch: &mut Scratch| {
        let (mut kept, epoch) = scratch.take(n);
        let items = step.walk(root, v_root, &mut kept, epoch);
        if let Ok(items) = &items {
            scratch.items_hint = scratch.items_hint.max(items.len());
        }
        items
    };
    SCRATCH.with(|kept| match kept.try_borrow_mut() {
        Ok(mut kept) => run(&mut kept),
        // A thread waiting for the other half of a tier may take up another walk meanwhile
        // (rayon's work stealing, e.g. in a batch of roots): that one gets its own.
        Err(_) => run(&mut Scratch::default()),
    })
}

/// A node's sums for the next tier: Σ x·a and Σ P at [`VALUE_SCALE`], valid while `stamp`
/// is the current tier's mark. Together, so one cache line is touched per edge.
#[derive(Debug, Clone, Copy, Default)]
struct Acc {
    x: i128,
    v: i128,
    stamp: u32,
}

/// Per-thread accumulators and lists reused by walks; marks keep rising across walks so
/// nothing needs clearing, until they would wrap.
#[derive(Default)]
struct Scratch {
    acc: Vec<Acc>,
    spare: Vec<Acc>,
    epoch: u32,
    lists: Lists,
    /// Most items of this thread's walks: the next one's starting room (a smaller walk
    /// gives the rest back at its end).
    items_hint: usize,
}

/// The lists a walk fills and empties tier by tier, kept with their room. (Grown from
/// nothing by doubling, each walk of a large root copied them a dozen times into fresh
/// memory the kernel zeroed: a fifth of a warm `/api/hotspots` request at 1M footprints.)
#[derive(Default)]
struct Lists {
    /// (node, x at X_SCALE, V at VALUE_SCALE) of the current tier.
    current: Vec<(u32, i128, i128)>,
    /// Inputs reached by the current tier, in the order first reached.
    touched: Vec<u32>,
    /// A split tier's second half: its items and the inputs it reached.
    more_items: Vec<RawItem>,
    more_touched: Vec<u32>,
    /// The next tier's entries only the second half reached.
    more_current: Vec<(u32, i128, i128)>,
}

/// What a walk borrows from its thread's [`Scratch`].
struct Kept<'s> {
    acc: &'s mut [Acc],
    spare: &'s mut [Acc],
    lists: &'s mut Lists,
    items_hint: usize,
}

impl Scratch {
    /// Accumulators for `n` nodes (and as many spare ones for a tier's second half), the
    /// lists (empty) and the first mark above any the accumulators hold. A walk uses at most
    /// [`MAX_WALK_TIERS`] marks.
    fn take(&mut self, n: usize) -> (Kept<'_>, u32) {
        if self.acc.len() < n {
            self.acc.resize(n, Acc::default());
            self.spare.resize(n, Acc::default());
        }
        if self.epoch > u32::MAX - MAX_WALK_TIERS {
            self.acc.iter_mut().for_each(|a| a.stamp = 0);
            self.spare.iter_mut().for_each(|a| a.stamp = 0);
            self.epoch = 0;
        }
        let epoch = self.epoch;
        self.epoch += MAX_WALK_TIERS;
        let lists = &mut self.lists;
        lists.current.clear();
        lists.touched.clear();
        lists.more_items.clear();
        lists.more_touched.clear();
        lists.more_current.clear();
        let kept = Kept {
            acc: &mut self.acc[..n],
            spare: &mut self.spare[..n],
            lists,
            items_hint: self.items_hint,
        };
        (kept, epoch)
    }
}

/// Marks one walk may use: tiers 0 ..= max_tier + 1, whatever max_tier a request asks.
const MAX_WALK_TIERS: u32 = 1 << 20;

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
}

/// After a tier split in two halves, what [`Step::next_tier`] does with the other half's sums
/// for each node of its list.
#[derive(Clone, Copy)]
enum Other<'a> {
    /// The tier was not split.
    None,
    /// The first half's list: the second half's sums, where it reached the node too, are added.
    Add(&'a [Acc]),
    /// The second half's list: a node the first half reached too is left out (the first half's
    /// list gives it).
    Skip(&'a [Acc]),
}

/// What every step of one walk reads.
struct Step<'a, A, C> {
    graph: &'a Graph,
    resolved: &'a Resolved,
    values: &'a Values,
    amounts: &'a [A],
    coef: &'a [C],
    edges: &'a EdgeValues,
    threshold: Option<f64>,
    limits: Limits,
    /// Tiers of at least this many nodes are expanded in two halves.
    split_nodes: usize,
}

/// Nodes read ahead at a time by [`Step::warm`]: their accumulators (some 16 × 10 cache
/// lines) stay in the first-level cache until they are used.
const WARM_NODES: usize = 16;

/// Nodes on a tier from which its expansion is split between two threads: below, the cost
/// of handing half to another thread and merging exceeds what it saves.
const SPLIT_NODES: usize = 4096;

impl<A: Copy + Into<i128> + Sync, C: Copy + Into<i128> + Sync> Step<'_, A, C> {
    fn range(&self, node: u32, why: &str) -> Error {
        out_of_range(self.graph, self.resolved.global(node), why.to_owned())
    }

    fn push(
        &self,
        items: &mut Vec<RawItem>,
        tier: u32,
        node: u32,
        kind: Kind,
        value: i128,
    ) -> Result<()> {
        if value.unsigned_abs() > DECIMAL128_MAX.unsigned_abs() {
            return Err(self.range(node, "an item of its decomposition is beyond range"));
        }
        if value != 0 {
            items.push(RawItem {
                tier,
                node: self.resolved.global(node),
                kind,
                value,
            });
        }
        Ok(())
    }

    /// Gives the items of `part` (nodes of `tier`, in order) and adds what each passes to its
    /// inputs into `acc` (entries stamped `mark`), listing each input the first time it is
    /// reached in `touched`.
    fn expand(
        &self,
        tier: u32,
        part: &[(u32, i128, i128)],
        acc: &mut [Acc],
        mark: u32,
        items: &mut Vec<RawItem>,
        touched: &mut Vec<u32>,
    ) -> Result<()> {
        for block in part.chunks(WARM_NODES) {
            self.warm(block, acc);
            self.expand_block(tier, block, acc, mark, items, touched)?;
        }
        Ok(())
    }

    /// Reads ahead what expanding `block` reads at random places: each node's values, child
    /// range and balance, then each child's accumulator. The loads are independent of each other,
    /// so the processor has many in flight at once, where the expansion, one node and one
    /// edge after another, would wait for memory at each (most of a large walk's time).
    fn warm(&self, block: &[(u32, i128, i128)], acc: &[Acc]) {
        let resolved = self.resolved;
        let mut seen = 0u32;
        for &(f, _, _) in block {
            let f = f as usize;
            seen ^= u32::from(self.values.g2g[f].is_some())
                ^ resolved.offsets[f + 1]
                ^ self.edges.balance[f] as u32;
        }
        for &(f, _, _) in block {
            let f = f as usize;
            let (a, b) = (
                resolved.offsets[f] as usize,
                resolved.offsets[f + 1] as usize,
            );
            for &c in &resolved.children[a..b] {
                seen ^= acc[c as usize].stamp;
            }
        }
        std::hint::black_box(seen);
    }

    fn expand_block(
        &self,
        tier: u32,
        part: &[(u32, i128, i128)],
        acc: &mut [Acc],
        mark: u32,
        items: &mut Vec<RawItem>,
        touched: &mut Vec<u32>,
    ) -> Result<()> {
        let (resolved, limits) = (self.resolved, self.limits);
        for &(f, x, v) in part {
            let fu = f as usize;
            // Limits come before the black-box rule.
            if tier > limits.max_tier {
                self.push(items, tier, f, Kind::BeyondCutoff, v)?;
                continue;
            }
            if let Some(t) = self.threshold
                && tier > 0
                && (v.unsigned_abs() as f64) < t
            {
                self.push(items, tier, f, Kind::BeyondCutoff, v)?;
                continue;
            }
            let Some(g2g) = self.values.g2g[fu] else {
                self.push(items, tier, f, Kind::Unresolved, v)?;
                continue;
            };
            let own = mul(x, g2g)
                .ok_or_else(|| self.range(f, "its Gate-to-Gate share is beyond range"))?;
            let (a, b) = (
                resolved.offsets[fu] as usize,
                resolved.offsets[fu + 1] as usize,
            );
            let mut passed: i128 = 0;
            for ((&c, &amount), &k) in resolved.children[a..b]
                .iter()
                .zip(&self.amounts[a..b])
                .zip(&self.coef[a..b])
            {
                let k: i128 = k.into();
                let p = if k == OUT_OF_RANGE { None } else { mul(x, k) };
                let xa = mul(x, amount.into());
                let a = &mut acc[c as usize];
                if a.stamp != mark {
                    *a = Acc {
                        x: 0,
                        v: 0,
                        stamp: mark,
                    };
                    touched.push(c);
                }
                let (Some(p), Some(xa)) = (p, xa) else {
                    return Err(self.range(f, "the quantity it passes to an input is beyond range"));
                };
                match (
                    passed.checked_add(p),
                    a.v.checked_add(p),
                    a.x.checked_add(xa),
                ) {
                    (Some(s), Some(v), Some(q)) => {
                        passed = s;
                        a.v = v;
                        a.x = q;
                    }
                    _ => {
                        return Err(self.range(c, "what its customers pass to it is beyond range"));
                    }
                }
            }
            let gap = v
                .checked_sub(own)
                .and_then(|g| g.checked_sub(passed))
                .ok_or_else(|| self.range(f, "its untraced upstream is beyond range"))?;
            if self.edges.balance[fu] == Balance::Consistent {
                // Only rounding residue: it stays with the footprint's own item.
                let own = own
                    .checked_add(gap)
                    .ok_or_else(|| self.range(f, "its Gate-to-Gate share is beyond range"))?;
                self.push(items, tier, f, Kind::Own, own)?;
                continue;
            }
            self.push(items, tier, f, Kind::Own, own)?;
            if gap > 0 {
                self.push(items, tier, f, Kind::Untraced, gap)?;
            } else if gap < 0 {
                self.push(items, tier, f, Kind::Mismatch, gap)?;
            }
        }
        Ok(())
    }

    /// Appends to `out` the next tier's entry of each node of `nodes` (in order): its x,
    /// rounded to [`X_SCALE`], and V, from its sums in `sums` (stamped `mark`) and, after a
    /// split tier, the other half's (see [`Other`]).
    fn next_tier(
        &self,
        nodes: &[u32],
        sums: &[Acc],
        other: Other<'_>,
        mark: u32,
        out: &mut Vec<(u32, i128, i128)>,
    ) -> Result<()> {
        let unit = fixed::pow10(VALUE_SCALE - X_SCALE);
        let others = match other {
            Other::None => None,
            Other::Add(o) | Other::Skip(o) => Some(o),
        };
        out.reserve(nodes.len());
        for block in nodes.chunks(WARM_NODES) {
            // Read ahead, as in `warm`: the sums were written all over `sums` and `other`.
            let mut seen = 0;
            for &c in block {
                seen ^= sums[c as usize].stamp ^ others.map_or(0, |o| o[c as usize].stamp);
            }
            std::hint::black_box(seen);
            for &c in block {
                let mut a = sums[c as usize];
                match other {
                    Other::Skip(o) if o[c as usize].stamp == mark => continue,
                    Other::Add(o) if o[c as usize].stamp == mark => {
                        let o = o[c as usize];
                        match (a.v.checked_add(o.v), a.x.checked_add(o.x)) {
                            (Some(v), Some(x)) => (a.v, a.x) = (v, x),
                            _ => {
                                return Err(
                                    self.range(c, "what its customers pass to it is beyond range")
                                );
                            }
                        }
                    }
                    _ => {}
                }
                out.push((c, fixed::div_round(a.x, unit), a.v));
            }
        }
        Ok(())
    }

    /// The walk from `root` (x = 1, receiving `v_root`), tier by tier. A large tier is
    /// expanded in two halves on two threads, the second into `spare`; the halves are then
    /// joined so that items, the next tier's order and its sums are exactly those of one
    /// thread going through the tier in order: the first half's items, then the second's;
    /// the inputs the first half reached, in its order, then those only the second reached.
    fn walk(
        &self,
        root: u32,
        v_root: i128,
        kept: &mut Kept<'_>,
        epoch: u32,
    ) -> Result<Vec<RawItem>> {
        let Kept {
            acc,
            spare,
            lists,
            items_hint,
        } = kept;
        let Lists {
            current,
            touched,
            more_items,
            more_touched,
            more_current,
        } = &mut **lists;
        // Room for as many items as this thread's largest walk gave: one allocation, where
        // growing by doubling copied them over and over.
        let mut items = Vec::with_capacity(*items_hint);
        current.push((root, X_ONE, v_root));
        let mut tier = 0u32;
        while !current.is_empty() {
            let mark = epoch + tier + 1;
            if current.len() < self.split_nodes.max(1) {
                self.expand(tier, current, acc, mark, &mut items, touched)?;
                current.clear();
                self.next_tier(touched, acc, Other::None, mark, current)?;
            } else {
                let (first, second) = current.split_at(current.len() / 2);
                let (done, other) = rayon::join(
                    || self.expand(tier, first, acc, mark, &mut items, touched),
                    || self.expand(tier, second, spare, mark, more_items, more_touched),
                );
                done?;
                other?;
                items.append(more_items);
                // The next tier: the inputs the first half reached, with what the second
                // passed them too, then those only the second reached; each list made on
                // its own thread, the halves' sums read where they lie (no merging first).
                current.clear();
                let (acc, spare) = (&*acc, &*spare);
                let (done, other) = rayon::join(
                    || self.next_tier(touched, acc, Other::Add(spare), mark, current),
                    || self.next_tier(more_touched, spare, Other::Skip(acc), mark, more_current),
                );
                done?;
                other?;
                current.append(more_current);
                more_touched.clear();
            }
            touched.clear();
            tier += 1;
            if tier > self.limits.max_tier + 1 {
                break;
            }
        }
        // A small walk after a large one does not hand the large one's room on.
        if items.capacity() > 2 * items.len() {
            items.shrink_to_fit();
        }
        Ok(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mul_scaled_splits_when_the_product_is_wide() {
        let p12 = fixed::pow10(12);
        // 2.5 × 4 = 10 at 12 places.
        assert_eq!(mul_scaled(25 * p12 / 10, 4 * p12, 12), Some(10 * p12));
        // 10^9 units × 10^12 kg = 10^21 kg: the raw product (10^21 · 10^24) overflows i128,
        // the split does not; 10^21 kg at 12 places is 10^33.
        let a = fixed::pow10(9) * p12;
        let b = fixed::pow10(12) * p12;
        assert!(a.checked_mul(b).is_none());
        assert_eq!(mul_scaled(a, b, 12), Some(fixed::pow10(33)));
        // 0.000000001 × 0.000000001 = 10^-18: below 12 places, rounds to 0.
        assert_eq!(mul_scaled(1000, 1000, 12), Some(0));
        // 0.0000005 × 0.000001 = 5·10^-13 → half, to even: 0; 1.5·10^-12 → 2·10^-12.
        assert_eq!(mul_scaled(500_000, 1_000_000, 12), Some(0));
        assert_eq!(mul_scaled(1_500_000, 1_000_000, 12), Some(2));
        assert_eq!(mul_scaled(i128::MAX, i128::MAX, 12), None);
    }
}
