//! The scenario's part of the chain: which footprints it holds, its adjacency with the
//! plan's inputs, the CFPs the changes reach recomputed (children before parents), and the
//! edge values the walk reads — the stored ones wherever nothing moved.

use super::Num;
use super::apply::{Chain, Edge, Plan, Target};
use crate::hotspot::Basis;
use crate::hotspot::graph::Resolved;
use crate::hotspot::ints::Ints;
use crate::hotspot::values::{
    Balance, EdgeValues, INPUT_SCALE, OUT_OF_RANGE, Values, mul, mul_scaled,
};
use crate::model::fixed;
use crate::{Error, Result};

/// The scenario's part of the graph, with how many CFPs were recomputed.
pub(super) struct Patched {
    pub(super) resolved: Resolved,
    pub(super) recomputed: usize,
    /// The part's node of each node of the resolved graph (then of each given footprint);
    /// `u32::MAX` outside it.
    pub(super) local: Vec<u32>,
}

impl std::ops::Deref for Patched {
    type Target = Resolved;
    fn deref(&self) -> &Resolved {
        &self.resolved
    }
}

impl Chain<'_> {
    /// The nodes of the scenario's part, ascending (the resolved graph's, then the given
    /// footprints): everything the root reaches with the plan's inputs (`whole`), or the
    /// stored decomposition's footprints with all that the changed edges now lead to.
    pub(super) fn nodes(&self, plan: &Plan, whole: bool) -> Vec<usize> {
        let r = self.resolved;
        let n_base = r.len();
        let total = n_base + plan.given.len();
        let index = |t: Target| match t {
            Target::Base(l) => l as usize,
            Target::Given(v) => n_base + v as usize,
        };
        // The stored walk's footprints always (what they gave before is compared), the
        // root and the given footprints.
        let mut seen = vec![false; total];
        for (at, &w) in self.in_items.iter().enumerate() {
            let mut w = w;
            while w != 0 {
                let g = at as u32 * 64 + w.trailing_zeros();
                if let Some(l) = self.local_of(g) {
                    seen[l] = true;
                }
                w &= w - 1;
            }
        }
        seen[self.root as usize] = true;
        for v in 0..plan.given.len() {
            seen[n_base + v] = true;
        }
        // Every footprint on a path from the root to a changed one: its CFP moves, even
        // where the stored walk stopped above it (a black box, a cut-off) and used the CFP
        // as reported.
        if !whole {
            for i in self.between(plan) {
                seen[i] = true;
            }
        }
        // Then everything the root reaches in the scenario (`whole`), or all that a changed
        // edge's input leads to (it may lead deeper than the stored walk went, through
        // footprints it reached before or not).
        let mut stack: Vec<usize> = if whole {
            vec![self.root as usize]
        } else {
            (plan.inputs.values().flatten())
                .filter(|e| e.change > 0)
                .map(|e| index(e.to))
                .collect()
        };
        let mut below = vec![false; total];
        for &i in &stack {
            below[i] = true;
        }
        while let Some(i) = stack.pop() {
            seen[i] = true;
            self.scenario_inputs(plan, i, &mut |c| {
                if !std::mem::replace(&mut below[c], true) {
                    stack.push(c);
                }
            });
        }
        (0..total).filter(|&i| seen[i]).collect()
    }

    /// The local nodes on a path (of stored edges) from the root to a footprint whose own
    /// figures or inputs the plan changes, those included: the footprints whose CFP can
    /// move. Found upward from the changed ones (the resolved graph may be larger than the
    /// root's chain), then downward from the root within what was found.
    fn between(&self, plan: &Plan) -> Vec<usize> {
        let r = self.resolved;
        let mut above = vec![false; r.len()];
        let mut stack: Vec<u32> = plan.own.keys().chain(plan.inputs.keys()).copied().collect();
        for &n in &stack {
            above[n as usize] = true;
        }
        while let Some(n) = stack.pop() {
            for &p in r.parents(n) {
                if !std::mem::replace(&mut above[p as usize], true) {
                    stack.push(p);
                }
            }
        }
        let mut found = Vec::new();
        if !above[self.root as usize] {
            return found;
        }
        above[self.root as usize] = false;
        let mut stack = vec![self.root];
        while let Some(n) = stack.pop() {
            found.push(n as usize);
            for (c, _) in r.inputs(n) {
                if std::mem::replace(&mut above[c as usize], false) {
                    stack.push(c);
                }
            }
        }
        found
    }

    /// Calls `f` with each input of node `i` (the resolved graph's numbers, then the given
    /// footprints') in the scenario.
    fn scenario_inputs(&self, plan: &Plan, i: usize, f: &mut dyn FnMut(usize)) {
        let n_base = self.resolved.len();
        if i >= n_base {
            return;
        }
        match plan.inputs.get(&(i as u32)) {
            Some(edges) => edges.iter().for_each(|e| {
                f(match e.to {
                    Target::Base(l) => l as usize,
                    Target::Given(v) => n_base + v as usize,
                })
            }),
            None => self
                .resolved
                .inputs(i as u32)
                .for_each(|(c, _)| f(c as usize)),
        }
    }

    /// The scenario's part of the graph: the nodes `nodes` (indices of the resolved graph's
    /// nodes, then of the given footprints, ascending by graph node; every node the walk
    /// can reach in the scenario), with the plan's inputs, and the CFP of every footprint a
    /// change reaches recomputed — children before parents, each moving by what its inputs
    /// and own figures move, so that its untraced remainder per unit stays. Edge
    /// coefficients and balances are the stored ones wherever nothing moved.
    pub(super) fn part(
        &self,
        plan: &Plan,
        base: &Values,
        basis: Basis,
        nodes: Vec<usize>,
    ) -> Result<Patched> {
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
        let n = nodes.len();
        let mut local = vec![u32::MAX; total];
        for (l, &i) in nodes.iter().enumerate() {
            local[i] = l as u32;
        }
        // What changes, by the part's numbers: no hashing per node below.
        let mut patched: Vec<Option<&Vec<Edge>>> = vec![None; n];
        for (&i, edges) in &plan.inputs {
            if let Some(&l) = local.get(i as usize).filter(|&&l| l != u32::MAX) {
                patched[l as usize] = Some(edges);
            }
        }
        let mut own: Vec<Option<(Option<i128>, i128)>> = vec![None; n];
        for (&i, &o) in &plan.own {
            if let Some(&l) = local.get(i as usize).filter(|&&l| l != u32::MAX) {
                own[l as usize] = Some(o);
            }
        }
        // Calls `f(input, amount, counts, stored edge)` for each input of part node `l`:
        // inputs by the resolved graph's numbers (or a given footprint's), including any
        // outside the part (the walk never reaches them; their CFPs do not move).
        let inputs = |l: usize, f: &mut dyn FnMut(usize, i128, bool, u32)| {
            let i = nodes[l];
            if i >= n_base {
                return;
            }
            match patched[l] {
                Some(edges) => edges
                    .iter()
                    .for_each(|e| f(index(e.to), e.amount, e.counts, u32::MAX)),
                None => {
                    let a = r.offsets[i] as usize;
                    r.inputs(i as u32)
                        .enumerate()
                        .for_each(|(k, (c, amount))| f(c as usize, amount, true, (a + k) as u32))
                }
            }
        };

        let mut offsets = Vec::with_capacity(n + 1);
        let mut children = Vec::with_capacity(n + n / 4);
        let mut amounts = Ints::with_capacity(n + n / 4);
        let mut stored_edge = Vec::with_capacity(n + n / 4);
        offsets.push(0u32);
        for l in 0..n {
            inputs(l, &mut |c, a, _, e| {
                if local[c] != u32::MAX {
                    children.push(local[c]);
                    amounts.push(a);
                    stored_edge.push(e);
                }
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
        let mut cfp = Vec::with_capacity(n);
        let mut g2g = Vec::with_capacity(n);
        for (l, &i) in nodes.iter().enumerate() {
            if i < n_base {
                cfp.push(base.cfp[i]);
                g2g.push(own[l].map_or(base.g2g[i], |o| o.0));
            } else {
                let (c, g) = given_value(i - n_base)?;
                cfp.push(c);
                g2g.push(g);
            }
        }
        let base_edges = r.edge_values(graph, basis);
        let mut moved = vec![false; n];
        // Per node: its balance when recomputed (`None`: as stored).
        let mut balance: Vec<Option<Balance>> = vec![None; n];
        let mut recomputed = 0;
        let range = |i: usize, why: &str| {
            let node = graph.node(global(i));
            Error::OutOfRange {
                footprint: node.id.to_owned(),
                message: format!(
                    "{} ({}): {why} in the scenario",
                    node.product_name, node.company_name
                ),
            }
        };
        let unit = fixed::pow10(INPUT_SCALE);
        for &l in order.iter().rev() {
            let (l, i) = (l as usize, nodes[l as usize]);
            if i >= n_base {
                balance[l] = Some(balance_of(cfp[l], g2g[l], Some(0)));
                continue;
            }
            let (a, b) = (offsets[l] as usize, offsets[l + 1] as usize);
            let reaches = own[l].is_some()
                || patched[l].is_some()
                || children[a..b].iter().any(|&c| moved[c as usize]);
            if !reaches {
                continue;
            }
            recomputed += 1;
            let mut before = Some(0i128);
            for (c, amount) in r.inputs(i as u32) {
                before = before.and_then(|s| s.checked_add(mul(amount, base.cfp[c as usize])?));
            }
            // The scenario's inputs: those that count in its CFP, and all of them (the
            // upstream its balance compares).
            let (mut after, mut upstream) = (Some(0i128), Some(0i128));
            let mut all_counted = true;
            inputs(l, &mut |c, amount, counts, _| {
                let v = match local[c] {
                    u32::MAX => base.cfp[c],
                    k => cfp[k as usize],
                };
                let p = mul(amount, v);
                upstream = upstream.and_then(|s| s.checked_add(p?));
                all_counted &= counts;
                if counts {
                    after = after.and_then(|s| s.checked_add(p?));
                }
            });
            let (Some(before), Some(after)) = (before, after) else {
                return Err(range(i, "what its inputs add up to is beyond range"));
            };
            let moved_up = after
                .checked_sub(before)
                .map(|d| fixed::div_round(d, unit))
                .ok_or_else(|| range(i, "the change of its inputs is beyond range"))?;
            let new = base.cfp[i]
                .checked_add(own[l].map_or(0, |o| o.1))
                .and_then(|v| v.checked_add(moved_up))
                .filter(|v| v.unsigned_abs() <= fixed::pow10(26).unsigned_abs())
                .ok_or_else(|| range(i, "its CFP is beyond range"))?;
            cfp[l] = new;
            moved[l] = new != base.cfp[i];
            // A footprint whose own numbers added up keeps only rounding residue (half a
            // unit at 12 places, per unit): the walk leaves it with its own item.
            let near = all_counted
                && base_edges.balance[i] == Balance::Consistent
                && g2g[l].is_some_and(|g| {
                    let reported = (new - g).checked_mul(unit);
                    matches!((upstream, reported),
                        (Some(u), Some(p)) if (u - p).unsigned_abs() * 2 <= unit.unsigned_abs())
                });
            balance[l] = Some(if near {
                Balance::Consistent
            } else {
                balance_of(new, g2g[l], upstream)
            });
        }

        // Coefficients: the stored one wherever the edge and its input's CFP are as stored.
        let mut coef = Ints::with_capacity(children.len());
        for (k, (&c, amount)) in children
            .iter()
            .zip(amounts.iter_range(0, amounts.len()))
            .enumerate()
        {
            let e = stored_edge[k];
            coef.push(if e != u32::MAX && !moved[c as usize] {
                base_edges.coef.get(e as usize)
            } else {
                mul_scaled(amount, cfp[c as usize], INPUT_SCALE).unwrap_or(OUT_OF_RANGE)
            });
        }
        let balance = balance
            .iter()
            .zip(&nodes)
            .map(|(b, &i)| b.unwrap_or_else(|| base_edges.balance[i]))
            .collect();
        let fallback = base
            .fallback
            .iter()
            .filter_map(|&i| (local[i as usize] != u32::MAX).then_some(local[i as usize]))
            .collect::<Vec<_>>();
        let globals: Vec<u32> = nodes.iter().map(|&i| global(i)).collect();
        let part = Resolved::from_parts(
            globals,
            offsets,
            children,
            amounts,
            basis,
            Values { cfp, g2g, fallback },
        );
        part.set_edge_values(
            basis,
            EdgeValues {
                coef,
                balance,
                // Mismatch findings are the stored decomposition's; a scenario gives none.
                exceeding: Vec::new(),
                mismatches: std::sync::OnceLock::new(),
            },
        );
        Ok(Patched {
            resolved: part,
            recomputed,
            local,
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

/// How a footprint's inputs (`upstream`, Σ a · cfp at 24 places; `None` beyond range)
/// compare with the upstream it reports, as the walk's edge values judge it.
fn balance_of(cfp: i128, g2g: Option<i128>, upstream: Option<i128>) -> Balance {
    let Some(g2g) = g2g else {
        return Balance::Other;
    };
    let unit = fixed::pow10(INPUT_SCALE);
    let reported = cfp.checked_sub(g2g).and_then(|r| r.checked_mul(unit));
    if matches!((upstream, reported), (Some(u), Some(r)) if u == r) {
        return Balance::Consistent;
    }
    let reported = cfp.saturating_sub(g2g).saturating_mul(unit);
    if upstream.unwrap_or(i128::MAX) > reported {
        Balance::Exceeds
    } else {
        Balance::Other
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
