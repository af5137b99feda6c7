//! A scenario applied to one product's chain: its changes found in the chain (the plan),
//! the part of the graph the product reaches with them (`part.rs`), the walk over it, and
//! what each footprint and tier gives before and after.

use std::collections::HashMap;
use std::sync::Arc;

use super::{Change, Estimate, Num, Of, Scenario};
use crate::hotspot::graph::{EdgeProblem, Graph, Resolved};
use crate::hotspot::values::{INPUT_SCALE, mul_scaled};
use crate::hotspot::walk::{RawItem, walk};
use crate::hotspot::{Basis, Decomposition, Request};
use crate::{Error, Result};

/// A footprint a scenario gives (an estimate, or a supplier not in the data): in the items
/// as node `Graph::len() + its index`.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimated {
    /// The input's product URN.
    pub input: String,
    /// The footprint whose input it is (graph node).
    pub parent: u32,
    /// What the scenario says of it.
    pub footprint: Estimate,
    /// The change (1-based) that gives it.
    pub change: usize,
    /// Its supplier as shown: `[change] company` (`[2] (estimate)` without one).
    pub label: String,
}

/// A scenario applied to one product.
#[derive(Debug, Clone)]
pub struct Applied {
    /// The root (graph node) and the date its chain is resolved for.
    pub root: u32,
    /// µs since the epoch.
    pub date: i64,
    /// The basis.
    pub basis: Basis,
    /// The root's CFP as reported, at 12 places.
    pub cfp_before: i128,
    /// The root's CFP with the changes, at 12 places.
    pub cfp_after: i128,
    /// The scenario's items (values at 24 places), summing to `cfp_after` exactly.
    pub items: Vec<RawItem>,
    /// Footprints the scenario gives, by node number past the graph's.
    pub estimated: Vec<Estimated>,
    /// Footprints whose CFP was recomputed (those the changes reach).
    pub recomputed: usize,
    /// What each change did, in the scenario's order: in English and in Japanese.
    pub effects: Vec<(String, String)>,
    /// The footprints of the scenario's part of the chain (graph nodes; a given footprint
    /// is `Graph::len()` + its index), and what each gives before and after, at 24 places.
    pub nodes: Vec<u32>,
    /// Before, by `nodes`.
    pub before: Vec<i128>,
    /// After, by `nodes`.
    pub after: Vec<i128>,
    /// Before and after, by tier.
    pub tiers: Vec<(i128, i128)>,
}

/// Where an edge of the scenario's chain leads: a node of the resolved graph (local), or a
/// footprint the scenario gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Target {
    /// A node of the resolved graph (local).
    Base(u32),
    /// A footprint the scenario gives, by its index.
    Given(u32),
}

/// An input of a changed footprint.
#[derive(Debug, Clone, Copy)]
pub(super) struct Edge {
    pub(super) to: Target,
    pub(super) amount: i128,
    /// Whether it counts in the footprint's reported CFP (an estimate explains what is
    /// already reported: it does not).
    pub(super) counts: bool,
    /// The change (1-based) that made it; 0 for a stored edge.
    pub(super) change: usize,
}

/// The changes in terms of the resolved graph.
#[derive(Default)]
pub(super) struct Plan {
    /// New inputs of footprints whose inputs change (local).
    pub(super) inputs: HashMap<u32, Vec<Edge>>,
    /// New Gate-to-Gate and the change of the reported CFP from a footprint's own figures.
    pub(super) own: HashMap<u32, (Option<i128>, i128)>,
    pub(super) given: Vec<Estimated>,
    pub(super) effects: Vec<(String, String)>,
}

/// Applies `scenario` to the product of `req`, whose decomposition as stored is `stored`:
/// the scenario's items, the CFP before and after, and what each footprint gives before and
/// after. Errors name the change (1-based) that cannot be applied.
pub fn apply(
    graph: &Arc<Graph>,
    req: &Request,
    scenario: &Scenario,
    stored: &Decomposition,
) -> Result<Applied> {
    let limits = req.limits()?;
    let (root, date) = graph.root(&req.product, req.as_of)?;
    let basis = req.basis;
    // A replacement from outside the product's chain needs the whole graph resolved.
    let mut resolved = graph.resolve_for(date, root);
    let outside = scenario.changes.iter().any(|c| match c {
        Change::Replace { with: Some(w), .. } => {
            matches!(find_any(graph, w, date), Some(n) if resolved.local(n).is_none())
        }
        _ => false,
    });
    if outside {
        resolved = graph.resolve(date);
    }
    let base = resolved.values(graph, basis);
    let local_root = resolved
        .local(root)
        .ok_or_else(|| Error::Internal("the root is not in its resolved graph".into()))?;
    // The footprints of the stored decomposition, by graph node: the chain as far as the
    // walk goes (a footprint found only deeper, or with nothing to give, is looked for on
    // the whole chain).
    let mut in_items = vec![0u64; graph.len().div_ceil(64)];
    for i in stored.items.walked() {
        if let Some(w) = in_items.get_mut(i.node as usize / 64) {
            *w |= 1 << (i.node % 64);
        }
    }
    let locals = (resolved.len() < graph.len()).then(|| {
        let mut v = vec![u32::MAX; graph.len()];
        for l in 0..resolved.len() as u32 {
            v[resolved.global(l) as usize] = l;
        }
        v
    });
    let chain = Chain {
        graph,
        resolved: &resolved,
        in_items,
        locals,
        reach: std::sync::OnceLock::new(),
        root: local_root,
        date,
        basis,
    };
    let t = std::time::Instant::now();
    let plan = chain.plan(scenario)?;
    let planned = t.elapsed();
    // Only nodes the stored walk reached, and what the changes bring in, unless a cut-off
    // by share (which moves with the CFP) or a footprint found beyond the walk needs the
    // whole chain.
    let whole = limits.min_share_pct > 0.0 || chain.reach.get().is_some();
    let nodes = chain.nodes(&plan, whole);
    let part = chain.part(&plan, base, basis, nodes)?;
    let parted = t.elapsed();
    let root_local = part.local[local_root as usize] as usize;
    let cfp_after = part.values(graph, basis).cfp[root_local];
    let items = walk(graph, &part, basis, root, limits)?;
    let walked = t.elapsed();

    // What each footprint gives, before and after, by the part's numbers; and each tier.
    let n_base = resolved.len();
    let at = |g: u32| -> Option<usize> {
        let i = match (g as usize).checked_sub(graph.len()) {
            Some(v) => n_base + v,
            None => chain.local_of(g)?,
        };
        part.local
            .get(i)
            .filter(|&&l| l != u32::MAX)
            .map(|&l| l as usize)
    };
    let mut before = vec![0i128; part.len()];
    let mut after = vec![0i128; part.len()];
    let mut tiers: Vec<(i128, i128)> = Vec::new();
    for (items, after_side) in [(stored.items.walked(), false), (&items[..], true)] {
        for r in items {
            let l = at(r.node).ok_or_else(|| {
                Error::Internal("a footprint of the walk is outside its part".into())
            })?;
            let tier = r.tier as usize;
            if tiers.len() <= tier {
                tiers.resize(tier + 1, (0, 0));
            }
            let (node, tier) = if after_side {
                (&mut after[l], &mut tiers[tier].1)
            } else {
                (&mut before[l], &mut tiers[tier].0)
            };
            match (node.checked_add(r.value), tier.checked_add(r.value)) {
                (Some(n), Some(t)) => (*node, *tier) = (n, t),
                _ => {
                    return Err(Error::OutOfRange {
                        footprint: stored.product.footprint_id.clone(),
                        message: "what a footprint or tier gives in the scenario is beyond range"
                            .into(),
                    });
                }
            }
        }
    }
    tracing::debug!(
        "scenario on {} footprints ({} in the changed part, {}): planned by {planned:.2?}, part built by {parted:.2?}, walked by {walked:.2?}, summed by {:.2?}",
        resolved.len(),
        part.len(),
        if whole {
            "the whole chain"
        } else {
            "the walk's"
        },
        t.elapsed()
    );
    let nodes = (0..part.len() as u32).map(|l| part.global(l)).collect();
    Ok(Applied {
        root,
        date,
        basis,
        cfp_before: base.cfp[local_root as usize],
        cfp_after,
        items,
        estimated: plan.given,
        recomputed: part.recomputed,
        effects: plan.effects,
        nodes,
        before,
        after,
        tiers,
    })
}

/// A footprint anywhere in the data: by id (its newest version), else a product URN's
/// footprint for `date`.
fn find_any(graph: &Graph, reference: &str, date: i64) -> Option<u32> {
    let r = reference.trim();
    graph
        .node_by_id(&r.to_ascii_lowercase())
        .or_else(|| graph.pick(graph.candidates(r), date).map(|(n, _)| n))
}

/// Local nodes reachable from `root`.
pub(super) fn reachable(resolved: &Resolved, root: u32) -> Vec<bool> {
    let mut seen = vec![false; resolved.len()];
    let mut stack = vec![root];
    seen[root as usize] = true;
    while let Some(n) = stack.pop() {
        for (c, _) in resolved.inputs(n) {
            if !std::mem::replace(&mut seen[c as usize], true) {
                stack.push(c);
            }
        }
    }
    seen
}

pub(super) struct Chain<'a> {
    pub(super) graph: &'a Graph,
    pub(super) resolved: &'a Resolved,
    /// The stored decomposition's footprints, a bit per graph node.
    pub(super) in_items: Vec<u64>,
    /// Every local node the root reaches, found when a footprint is not among the items.
    pub(super) reach: std::sync::OnceLock<Vec<bool>>,
    /// The local node of each graph node, when the resolved graph is a part of it (a search
    /// per item would cost more than the walk).
    pub(super) locals: Option<Vec<u32>>,
    pub(super) root: u32,
    pub(super) date: i64,
    pub(super) basis: Basis,
}

impl Chain<'_> {
    /// The local node of graph node `g`.
    pub(super) fn local_of(&self, g: u32) -> Option<usize> {
        match &self.locals {
            None => ((g as usize) < self.resolved.len()).then_some(g as usize),
            Some(v) => v
                .get(g as usize)
                .filter(|&&l| l != u32::MAX)
                .map(|&l| l as usize),
        }
    }

    pub(super) fn name(&self, local: u32) -> String {
        let n = self.graph.node(self.resolved.global(local));
        format!("{} ({})", n.product_name, n.company_name)
    }

    /// The footprint `reference` names in the product's chain (local); `None`: the root.
    fn find(&self, reference: Option<&str>) -> std::result::Result<u32, String> {
        let Some(r) = reference.map(str::trim) else {
            return Ok(self.root);
        };
        let in_chain = |g: u32| {
            let l = self.resolved.local(g)?;
            let in_items = self
                .in_items
                .get(g as usize / 64)
                .is_some_and(|w| w & (1 << (g % 64)) != 0);
            let reached = in_items
                || self
                    .reach
                    .get_or_init(|| reachable(self.resolved, self.root))[l as usize];
            reached.then_some(l)
        };
        if let Some(g) = self.graph.node_by_id(&r.to_ascii_lowercase()) {
            return in_chain(g).ok_or_else(|| {
                format!(
                    "footprint {r} is not in the chain of {}",
                    self.name(self.root)
                )
            });
        }
        let candidates = self.graph.candidates(r);
        if candidates.is_empty() {
            return Err(format!(
                "{r:?} is neither a footprint id nor a product URN with an Active footprint"
            ));
        }
        candidates
            .iter()
            .rev()
            .find_map(|&g| in_chain(g))
            .ok_or_else(|| {
                format!(
                    "product {r} is not in the chain of {}",
                    self.name(self.root)
                )
            })
    }

    /// The edges of `parent` (local) whose input is `input` (a product URN or footprint id).
    fn edges_to(&self, parent: u32, input: &str) -> Vec<usize> {
        let input = input.trim();
        let id = input.to_ascii_lowercase();
        let a = self.resolved.offsets[parent as usize] as usize;
        self.resolved
            .inputs(parent)
            .enumerate()
            .filter(|(_, (c, _))| {
                let g = self.resolved.global(*c);
                self.graph.product_id(g) == input || self.graph.id(g) == id
            })
            .map(|(i, _)| a + i)
            .collect()
    }

    fn inputs_listed(&self, parent: u32) -> String {
        let mut names: Vec<&str> = self
            .resolved
            .inputs(parent)
            .map(|(c, _)| self.graph.product_id(self.resolved.global(c)))
            .collect();
        names.dedup();
        if names.is_empty() {
            "none".into()
        } else {
            names.join(", ")
        }
    }

    /// The current inputs of `parent` in `plan` (its stored ones until a change).
    fn inputs_of<'p>(&self, plan: &'p mut Plan, parent: u32) -> &'p mut Vec<Edge> {
        plan.inputs.entry(parent).or_insert_with(|| {
            self.resolved
                .inputs(parent)
                .map(|(c, amount)| Edge {
                    to: Target::Base(c),
                    amount,
                    counts: true,
                    change: 0,
                })
                .collect()
        })
    }

    fn plan(&self, scenario: &Scenario) -> Result<Plan> {
        let mut plan = Plan::default();
        for (i, c) in scenario.changes.iter().enumerate() {
            self.change(&mut plan, i + 1, c).map_err(|why| {
                Error::Usage(format!(
                    "scenario {:?}: change {} ({}): {why}",
                    scenario.name,
                    i + 1,
                    c.kind()
                ))
            })?;
        }
        Ok(plan)
    }

    fn change(&self, plan: &mut Plan, at: usize, c: &Change) -> std::result::Result<(), String> {
        match c {
            Change::Replace {
                product,
                input,
                with,
                footprint,
            } => {
                let p = self.find(product.as_deref())?;
                let edges = self.edges_to(p, input);
                if edges.is_empty() {
                    return Err(format!(
                        "{} has no input {input} in its decomposition (its inputs: {}); `estimate` gives one that has no footprint",
                        self.name(p),
                        self.inputs_listed(p)
                    ));
                }
                let (to, named) = match (with, footprint) {
                    (Some(w), _) => {
                        let g = find_any(self.graph, w, self.date).ok_or_else(|| {
                            format!("{w:?} is neither a footprint id nor a product URN with an Active footprint")
                        })?;
                        let l = self.resolved.local(g).ok_or_else(|| {
                            format!("footprint {w} could not be resolved for the chain's date")
                        })?;
                        (Target::Base(l), self.name(l))
                    }
                    (None, Some(f)) => {
                        (Target::Given(plan.given.len() as u32), given_name(f, input))
                    }
                    (None, None) => return Err("nothing to replace with".into()),
                };
                if let Target::Given(_) = to
                    && let Some(f) = footprint
                {
                    plan.given.push(Estimated {
                        input: input.trim().to_owned(),
                        parent: self.resolved.global(p),
                        footprint: f.clone(),
                        change: at,
                        label: label(at, f),
                    });
                }
                let first = edges[0] - self.resolved.offsets[p as usize] as usize;
                let was = self.inputs_of(plan, p)[first].to;
                for e in edges {
                    let k = e - self.resolved.offsets[p as usize] as usize;
                    let edge = &mut self.inputs_of(plan, p)[k];
                    (edge.to, edge.change) = (to, at);
                }
                let was = match was {
                    Target::Base(l) => self.name(l),
                    Target::Given(_) => input.clone(),
                };
                plan.effects.push((
                    format!("{}: input {was} replaced by {named}", self.name(p)),
                    format!("{}：投入物 {was} を {named} に置き換え", self.name(p)),
                ));
            }
            Change::Scale {
                product,
                input,
                factor,
                amount,
            } => {
                let p = self.find(product.as_deref())?;
                let edges = self.edges_to(p, input);
                if edges.is_empty() {
                    return Err(format!(
                        "{} has no input {input} in its decomposition (its inputs: {})",
                        self.name(p),
                        self.inputs_listed(p)
                    ));
                }
                let a0 = self.resolved.offsets[p as usize] as usize;
                for e in edges {
                    let edge = &mut self.inputs_of(plan, p)[e - a0];
                    edge.change = at;
                    edge.amount = match (factor, amount) {
                        (Some(f), _) => mul_scaled(edge.amount, fixed12(f)?, INPUT_SCALE)
                            .ok_or("the scaled amount is beyond range")?,
                        (None, Some(a)) => fixed12(a)?,
                        (None, None) => return Err("nothing to scale by".into()),
                    };
                }
                let (how, how_ja) = match (factor, amount) {
                    (Some(f), _) => (format!("× {f}"), format!("{f} 倍に")),
                    (_, Some(a)) => (format!("set to {a}"), format!("{a} に")),
                    _ => Default::default(),
                };
                plan.effects.push((
                    format!("{}: amount of input {input} {how}", self.name(p)),
                    format!("{}：投入物 {input} の数量を{how_ja}", self.name(p)),
                ));
            }
            Change::Reduce { footprint, pct, of } => {
                let n = self.find(Some(footprint))?;
                let values = self.resolved.values(self.graph, self.basis);
                let (cfp, g2g) = (values.cfp[n as usize], values.g2g[n as usize]);
                let (g2g_now, delta_now) = plan.own.get(&n).copied().unwrap_or((g2g, 0));
                let p = fixed12(pct)?;
                // v · pct / 100, rounded once (half to even) to 12 places.
                let cut = |v: i128| -> std::result::Result<i128, String> {
                    mul_scaled(v, p, INPUT_SCALE + 2)
                        .ok_or_else(|| "the reduction is beyond range".into())
                };
                let (g2g_new, delta_new) = match (of, g2g_now) {
                    (Of::G2g, None) => {
                        return Err(format!(
                            "{} gives no Gate-to-Gate figure (a black box): reduce its CFP with of = \"cfp\"",
                            self.name(n)
                        ));
                    }
                    (Of::G2g, Some(g)) => {
                        let c = cut(g)?;
                        (Some(g - c), delta_now - c)
                    }
                    (Of::Cfp, g) => {
                        let current = cfp + delta_now;
                        let c = cut(current)?;
                        (g.map(|g| g - cut(g).unwrap_or(0)), delta_now - c)
                    }
                };
                plan.own.insert(n, (g2g_new, delta_new));
                let (what, what_ja) = match of {
                    Of::G2g => ("Gate-to-Gate", "ゲート・トゥ・ゲート排出量"),
                    Of::Cfp => ("CFP", "CFP"),
                };
                plan.effects.push((
                    format!("{}: {what} − {pct} %", self.name(n)),
                    format!("{}：{what_ja}を {pct} % 削減", self.name(n)),
                ));
            }
            Change::Estimate {
                product,
                input,
                footprint,
            } => {
                let p = self.find(product.as_deref())?;
                let urn = input.trim();
                let left_out = self
                    .resolved
                    .problems
                    .get(&self.resolved.global(p))
                    .is_some_and(|ps| {
                        ps.iter().any(|e| match e {
                            EdgeProblem::Dangling { product } => product == urn,
                            EdgeProblem::Unit { child, .. } => self.graph.product_id(*child) == urn,
                        })
                    });
                if !left_out {
                    return Err(if self.edges_to(p, urn).is_empty() {
                        format!(
                            "{} lists no input {urn} in its bill of materials",
                            self.name(p)
                        )
                    } else {
                        format!(
                            "input {urn} of {} has a footprint in the chain; `replace` changes it",
                            self.name(p)
                        )
                    });
                }
                let (amount, _) = self
                    .graph
                    .input_row(self.resolved.global(p), urn)
                    .ok_or_else(|| format!("{} lists no input {urn}", self.name(p)))?;
                let to = Target::Given(plan.given.len() as u32);
                plan.given.push(Estimated {
                    input: urn.to_owned(),
                    parent: self.resolved.global(p),
                    footprint: footprint.clone(),
                    change: at,
                    label: label(at, footprint),
                });
                self.inputs_of(plan, p).push(Edge {
                    to,
                    amount,
                    counts: false,
                    change: at,
                });
                plan.effects.push((
                    format!(
                        "{}: input {urn} estimated at {} kgCO2e per unit (its CFP stays; the estimate explains part of its untraced upstream)",
                        self.name(p),
                        footprint.cfp
                    ),
                    format!(
                        "{}：投入物 {urn} を 1 単位あたり {} kgCO2e と推計（CFPは変わらず、推計値は未追跡の上流の一部を説明する）",
                        self.name(p),
                        footprint.cfp
                    ),
                ));
            }
            Change::Attribute { product, .. } => {
                let p = self.find(product.as_deref())?;
                if p != self.root {
                    return Err(format!(
                        "attributes change the score of the product asked about; {} is another",
                        self.name(p)
                    ));
                }
                let set = serde_json::to_value(c)
                    .ok()
                    .and_then(|v| v.as_object().cloned())
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|(k, _)| k != "kind" && k != "product")
                    .map(|(k, v)| {
                        format!("{k} = {}", v.as_str().map_or(v.to_string(), str::to_owned))
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                plan.effects.push((
                    format!("{}: GX attributes set: {set}", self.name(p)),
                    format!("{}：GX属性を設定：{set}", self.name(p)),
                ));
            }
        }
        Ok(())
    }
}

/// A number of a scenario at 12 places.
fn fixed12(n: &Num) -> std::result::Result<i128, String> {
    n.fixed()
        .ok_or_else(|| format!("{n}: expected at most 12 decimal places and below 10^14"))
}

/// A given footprint's supplier as shown.
fn label(at: usize, f: &Estimate) -> String {
    format!("[{at}] {}", f.company.as_deref().unwrap_or("(estimate)"))
}

/// How a footprint the scenario gives is named.
fn given_name(f: &Estimate, input: &str) -> String {
    format!(
        "{} ({})",
        f.product_name.as_deref().unwrap_or(input),
        f.company.as_deref().unwrap_or("given in the scenario")
    )
}
