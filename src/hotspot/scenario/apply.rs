//! A scenario applied to one product's chain: its changes found in the chain, the part of
//! the graph the product reaches with them, the CFPs that move (only where a change reaches:
//! the changed footprints and those above them), and the walk over it.

use std::collections::HashMap;
use std::sync::Arc;

use super::{Change, Estimate, Num, Of, Scenario};
use crate::hotspot::graph::{EdgeProblem, Graph, Resolved};
use crate::hotspot::ints::Ints;
use crate::hotspot::values::{Balance, INPUT_SCALE, Values, mul, mul_scaled};
use crate::hotspot::walk::{RawItem, edge_values, walk};
use crate::hotspot::{Basis, Request};
use crate::model::fixed;
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
}

/// Where an edge of the scenario's chain leads: a node of the resolved graph (local), or a
/// footprint the scenario gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Base(u32),
    Given(u32),
}

/// An input of a changed footprint.
#[derive(Debug, Clone, Copy)]
struct Edge {
    to: Target,
    amount: i128,
    /// Whether it counts in the footprint's reported CFP (an estimate explains what is
    /// already reported: it does not).
    counts: bool,
    /// The change (1-based) that made it; 0 for a stored edge.
    change: usize,
}

/// The changes in terms of the resolved graph.
#[derive(Default)]
struct Plan {
    /// New inputs of footprints whose inputs change (local).
    inputs: HashMap<u32, Vec<Edge>>,
    /// New Gate-to-Gate and the change of the reported CFP from a footprint's own figures.
    own: HashMap<u32, (Option<i128>, i128)>,
    given: Vec<Estimated>,
    effects: Vec<(String, String)>,
}

/// Applies `scenario` to the product of `req`: the scenario's items, the CFP before and
/// after. Errors name the change (1-based) that cannot be applied.
pub fn apply(graph: &Arc<Graph>, req: &Request, scenario: &Scenario) -> Result<Applied> {
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
    let reach = reachable(&resolved, local_root);
    let chain = Chain {
        graph,
        resolved: &resolved,
        reach: &reach,
        root: local_root,
        date,
        basis,
    };
    let plan = chain.plan(scenario)?;
    let part = chain.part(&plan, base, basis)?;
    let cfp_after = part.values(graph, basis).cfp[part.local(root).unwrap_or_default() as usize];
    let items = walk(graph, &part, basis, root, limits)?;
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
fn reachable(resolved: &Resolved, root: u32) -> Vec<bool> {
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

struct Chain<'a> {
    graph: &'a Graph,
    resolved: &'a Resolved,
    reach: &'a [bool],
    root: u32,
    date: i64,
    basis: Basis,
}

/// The scenario's part of the graph, with how many CFPs were recomputed.
struct Patched {
    resolved: Resolved,
    recomputed: usize,
}

impl std::ops::Deref for Patched {
    type Target = Resolved;
    fn deref(&self) -> &Resolved {
        &self.resolved
    }
}

impl Chain<'_> {
    fn name(&self, local: u32) -> String {
        let n = self.graph.node(self.resolved.global(local));
        format!("{} ({})", n.product_name, n.company_name)
    }

    /// The footprint `reference` names in the product's chain (local); `None`: the root.
    fn find(&self, reference: Option<&str>) -> std::result::Result<u32, String> {
        let Some(r) = reference.map(str::trim) else {
            return Ok(self.root);
        };
        let in_chain = |g: u32| self.resolved.local(g).filter(|&l| self.reach[l as usize]);
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
                let cut = |v: i128| -> std::result::Result<i128, String> {
                    let r = mul(v, p).ok_or("the reduction is beyond range")?;
                    Ok(fixed::div_round(r, 100 * fixed::pow10(INPUT_SCALE)))
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

impl Chain<'_> {
    /// The scenario's part of the graph: what the root reaches with the plan's inputs,
    /// numbered in graph order (given footprints last), with the CFP of every footprint a
    /// change reaches recomputed — children before parents, each moving by what its inputs
    /// and own figures move, so that its untraced remainder per unit stays.
    fn part(&self, plan: &Plan, base: &Values, basis: Basis) -> Result<Patched> {
        let (r, graph) = (self.resolved, self.graph);
        let n_base = r.len();
        let total = n_base + plan.given.len();
        let index = |t: Target| match t {
            Target::Base(l) => l as usize,
            Target::Given(v) => n_base + v as usize,
        };
        let global = |i: usize| {
            if i < n_base {
                r.global(i as u32)
            } else {
                (graph.len() + i - n_base) as u32
            }
        };
        // Calls `f(input, amount, counts)` for each input of `i` in the scenario.
        let inputs = |i: usize, f: &mut dyn FnMut(usize, i128, bool)| {
            if i >= n_base {
                return;
            }
            match plan.inputs.get(&(i as u32)) {
                Some(edges) => edges
                    .iter()
                    .for_each(|e| f(index(e.to), e.amount, e.counts)),
                None => r.inputs(i as u32).for_each(|(c, a)| f(c as usize, a, true)),
            }
        };

        // What the root reaches, in graph order.
        let mut seen = vec![false; total];
        let mut stack = vec![self.root as usize];
        let mut reached = Vec::new();
        seen[self.root as usize] = true;
        while let Some(i) = stack.pop() {
            reached.push(i);
            inputs(i, &mut |c, _, _| {
                if !std::mem::replace(&mut seen[c], true) {
                    stack.push(c);
                }
            });
        }
        reached.sort_unstable_by_key(|&i| global(i));
        let mut local = vec![u32::MAX; total];
        for (l, &i) in reached.iter().enumerate() {
            local[i] = l as u32;
        }
        let mut offsets = Vec::with_capacity(reached.len() + 1);
        let mut children = Vec::new();
        let mut amounts = Ints::with_capacity(reached.len());
        offsets.push(0u32);
        for &i in &reached {
            inputs(i, &mut |c, a, _| {
                children.push(local[c]);
                amounts.push(a);
            });
            offsets.push(children.len() as u32);
        }

        // Children before parents; a cycle is an error naming the change that makes it.
        let order = topological(&offsets, &children).map_err(|left| {
            // A changed edge closes a cycle when its input reaches back to its footprint.
            let reaches = |from: usize, to: usize| {
                let (from, to) = (local[from], local[to]);
                if from == u32::MAX || to == u32::MAX || !left[from as usize] {
                    return false;
                }
                let mut seen = vec![false; left.len()];
                let mut stack = vec![from];
                while let Some(n) = stack.pop() {
                    if n == to {
                        return true;
                    }
                    let (a, b) = (
                        offsets[n as usize] as usize,
                        offsets[n as usize + 1] as usize,
                    );
                    for &c in &children[a..b] {
                        if !std::mem::replace(&mut seen[c as usize], true) {
                            stack.push(c);
                        }
                    }
                }
                false
            };
            self.cycle(plan, &|parent, to| reaches(index(to), parent as usize))
        })?;

        let given_value = |v: usize| -> Result<(i128, Option<i128>)> {
            let f = &plan.given[v].footprint;
            let fx = |n: &Num| {
                n.fixed()
                    .ok_or_else(|| Error::Usage(format!("{n}: beyond range")))
            };
            Ok((fx(&f.cfp)?, f.g2g.as_ref().map(fx).transpose()?))
        };
        let mut cfp = Vec::with_capacity(reached.len());
        let mut g2g = Vec::with_capacity(reached.len());
        for &i in &reached {
            if i < n_base {
                cfp.push(base.cfp[i]);
                g2g.push(match plan.own.get(&(i as u32)) {
                    Some((g, _)) => *g,
                    None => base.g2g[i],
                });
            } else {
                let (c, g) = given_value(i - n_base)?;
                cfp.push(c);
                g2g.push(g);
            }
        }
        let base_edges = r.edge_values(graph, basis);
        let mut moved = vec![false; reached.len()];
        let mut near_consistent = vec![false; reached.len()];
        let mut recomputed = 0;
        let range = |i: usize, why: &str| {
            let n = graph.node(global(i));
            Error::OutOfRange {
                footprint: n.id.to_owned(),
                message: format!(
                    "{} ({}): {why} in the scenario",
                    n.product_name, n.company_name
                ),
            }
        };
        for &l in order.iter().rev() {
            let i = reached[l as usize];
            if i >= n_base {
                continue;
            }
            let own = plan.own.get(&(i as u32));
            let patched = plan.inputs.get(&(i as u32));
            let (a, b) = (
                offsets[l as usize] as usize,
                offsets[l as usize + 1] as usize,
            );
            let reaches = own.is_some()
                || patched.is_some()
                || children[a..b].iter().any(|&c| moved[c as usize]);
            if !reaches {
                continue;
            }
            recomputed += 1;
            let mut before = Some(0i128);
            for (c, amount) in r.inputs(i as u32) {
                before = before.and_then(|s| s.checked_add(mul(amount, base.cfp[c as usize])?));
            }
            let mut after = Some(0i128);
            let mut all_counted = true;
            inputs(i, &mut |c, amount, counts| {
                all_counted &= counts;
                if counts {
                    let v = cfp[local[c] as usize];
                    after = after.and_then(|s| s.checked_add(mul(amount, v)?));
                }
            });
            let (Some(before), Some(after)) = (before, after) else {
                return Err(range(i, "what its inputs add up to is beyond range"));
            };
            let moved_up = after
                .checked_sub(before)
                .map(|d| fixed::div_round(d, fixed::pow10(INPUT_SCALE)))
                .ok_or_else(|| range(i, "the change of its inputs is beyond range"))?;
            let new = base.cfp[i]
                .checked_add(own.map_or(0, |o| o.1))
                .and_then(|v| v.checked_add(moved_up))
                .filter(|v| v.unsigned_abs() <= fixed::pow10(26).unsigned_abs())
                .ok_or_else(|| range(i, "its CFP is beyond range"))?;
            cfp[l as usize] = new;
            moved[l as usize] = new != base.cfp[i];
            // A footprint whose own numbers added up keeps only rounding residue (half a
            // unit at 12 places, per unit): the walk leaves it with its own item.
            if all_counted
                && base_edges.balance[i] == Balance::Consistent
                && let Some(g) = g2g[l as usize]
            {
                let mut upstream = Some(0i128);
                inputs(i, &mut |c, amount, _| {
                    upstream =
                        upstream.and_then(|s| s.checked_add(mul(amount, cfp[local[c] as usize])?));
                });
                let reported = (new - g).checked_mul(fixed::pow10(INPUT_SCALE));
                near_consistent[l as usize] = matches!((upstream, reported),
                    (Some(u), Some(p)) if (u - p).unsigned_abs() * 2 <= fixed::pow10(INPUT_SCALE).unsigned_abs());
            }
        }
        let fallback = base
            .fallback
            .iter()
            .filter_map(|&i| (local[i as usize] != u32::MAX).then_some(local[i as usize]))
            .collect::<Vec<_>>();
        let nodes: Vec<u32> = reached.iter().map(|&i| global(i)).collect();
        let part = Resolved::from_parts(
            nodes,
            offsets,
            children,
            amounts,
            basis,
            Values { cfp, g2g, fallback },
        );
        let mut edges = edge_values(graph, &part, basis);
        // Untouched footprints balance as before (the same figures and inputs); a
        // recomputed one that added up before and differs now only by rounding still does.
        for (b, near) in edges.balance.iter_mut().zip(&near_consistent) {
            if *near {
                *b = Balance::Consistent;
            }
        }
        let balance = &edges.balance;
        edges
            .exceeding
            .retain(|(l, _)| balance[*l as usize] == Balance::Exceeds);
        part.set_edge_values(basis, edges);
        Ok(Patched {
            resolved: part,
            recomputed,
        })
    }

    /// The error for a scenario whose chain has a cycle: the first change whose edge closes
    /// one (`closes(parent, target)`), else the stored chain's own.
    fn cycle(&self, plan: &Plan, closes: &dyn Fn(u32, Target) -> bool) -> Error {
        let changed = plan
            .inputs
            .iter()
            .flat_map(|(&p, edges)| edges.iter().map(move |e| (p, e)))
            .filter(|(p, e)| e.change > 0 && closes(*p, e.to))
            .map(|(p, e)| (e.change, p))
            .min();
        match changed {
            Some((at, p)) => Error::Usage(format!(
                "change {at}: it makes a cycle: what it brings into {} is upstream of it",
                self.name(p)
            )),
            None => Error::Usage(
                "the product's chain has a cycle (see the cycle finding of `mieruka hotspots`); a scenario needs a chain without one".into(),
            ),
        }
    }
}

/// The nodes in an order where each comes before its inputs (Kahn's algorithm); on a cycle,
/// which nodes were left (those on a cycle or only reached through one).
fn topological(offsets: &[u32], children: &[u32]) -> std::result::Result<Vec<u32>, Vec<bool>> {
    let n = offsets.len() - 1;
    let mut indegree = vec![0u32; n];
    for &c in children {
        indegree[c as usize] += 1;
    }
    let mut order: Vec<u32> = (0..n as u32)
        .filter(|&i| indegree[i as usize] == 0)
        .collect();
    let mut at = 0;
    while at < order.len() {
        let f = order[at] as usize;
        at += 1;
        for &c in &children[offsets[f] as usize..offsets[f + 1] as usize] {
            indegree[c as usize] -= 1;
            if indegree[c as usize] == 0 {
                order.push(c);
            }
        }
    }
    if order.len() == n {
        Ok(order)
    } else {
        Err(indegree.iter().map(|&d| d > 0).collect())
    }
}
