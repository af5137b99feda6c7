//! The level-by-level walk: x(r, 0) = 1, x(g, k+1) = Σ_f x(f, k) · a(f, g), with one item
//! per (footprint, tier, kind). Generic over the number type so the same code runs exactly
//! in decimal and fast in `f64`.

use std::ops::{Add, Mul, Sub};
use std::sync::OnceLock;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::graph::{Graph, Resolved};
use super::{Basis, Kind};

/// A number the walk can run on.
pub trait Amount:
    Copy + Send + Sync + PartialOrd + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self>
{
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;
    /// Converts a decimal.
    fn from_decimal(d: Decimal) -> Self;
    /// |self|.
    fn abs(self) -> Self;
    /// Per-node values of `graph` for `basis`, built once.
    fn values(graph: &Graph, basis: Basis) -> &Values<Self>;
    /// Edge amounts of `resolved` in this type.
    fn amounts(resolved: &Resolved) -> &[Self];
}

/// Per-node cradle-to-gate and Gate-to-Gate values for one basis.
#[derive(Debug)]
pub struct Values<T> {
    /// Cradle-to-gate footprint per declared unit.
    pub cfp: Vec<T>,
    /// Gate-to-Gate emissions per declared unit; `None` for a black box.
    pub g2g: Vec<Option<T>>,
    /// Nodes whose value for this basis fell back to the other basis.
    pub fallback: Vec<u32>,
}

fn build<T: Amount>(graph: &Graph, basis: Basis) -> Values<T> {
    let mut fallback = Vec::new();
    let mut cfp = Vec::with_capacity(graph.nodes.len());
    let mut g2g = Vec::with_capacity(graph.nodes.len());
    for (i, n) in graph.nodes.iter().enumerate() {
        match basis {
            Basis::ExcludingBiogenic => {
                cfp.push(T::from_decimal(n.cfp_excluding));
                g2g.push(n.g2g_fossil.map(T::from_decimal));
            }
            Basis::IncludingBiogenic => {
                if n.cfp_including.is_none() {
                    fallback.push(i as u32);
                }
                cfp.push(T::from_decimal(n.cfp_including.unwrap_or(n.cfp_excluding)));
                g2g.push(n.g2g_biogenic.map(T::from_decimal));
            }
        }
    }
    Values { cfp, g2g, fallback }
}

/// Caches of [`Values`] per basis and number type, held by the graph.
#[derive(Debug, Default)]
pub struct ValueCache {
    decimal: [OnceLock<Values<Decimal>>; 2],
    float: [OnceLock<Values<f64>>; 2],
}

fn basis_index(b: Basis) -> usize {
    match b {
        Basis::ExcludingBiogenic => 0,
        Basis::IncludingBiogenic => 1,
    }
}

impl Amount for Decimal {
    const ZERO: Self = Decimal::ZERO;
    const ONE: Self = Decimal::ONE;
    fn from_decimal(d: Decimal) -> Self {
        d
    }
    fn abs(self) -> Self {
        Decimal::abs(&self)
    }
    fn values(graph: &Graph, basis: Basis) -> &Values<Self> {
        graph.value_cache().decimal[basis_index(basis)].get_or_init(|| build(graph, basis))
    }
    fn amounts(resolved: &Resolved) -> &[Self] {
        &resolved.amounts
    }
}

impl Amount for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    fn from_decimal(d: Decimal) -> Self {
        d.to_f64().unwrap_or(f64::NAN)
    }
    fn abs(self) -> Self {
        f64::abs(self)
    }
    fn values(graph: &Graph, basis: Basis) -> &Values<Self> {
        graph.value_cache().float[basis_index(basis)].get_or_init(|| build(graph, basis))
    }
    fn amounts(resolved: &Resolved) -> &[Self] {
        &resolved.amounts_f64
    }
}

/// One item before it is labelled: node, tier, kind and kgCO2e per declared unit of the root.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RawItem<T> {
    /// Tier.
    pub tier: u32,
    /// Footprint node.
    pub node: u32,
    /// Kind.
    pub kind: Kind,
    /// kgCO2e per declared unit of the root.
    pub value: T,
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
pub fn walk<T: Amount>(
    graph: &Graph,
    resolved: &Resolved,
    basis: Basis,
    root: u32,
    limits: Limits,
) -> Vec<RawItem<T>> {
    let values = T::values(graph, basis);
    let amounts = T::amounts(resolved);
    let n = graph.nodes.len();
    let cfp_root = values.cfp[root as usize];
    // |x·cfp| below this share of the root's CFP is not expanded.
    let threshold = if limits.min_share_pct > 0.0 {
        let share =
            <Decimal as rust_decimal::prelude::FromPrimitive>::from_f64(limits.min_share_pct)
                .unwrap_or_default()
                / Decimal::ONE_HUNDRED;
        Some(T::from_decimal(share) * cfp_root.abs())
    } else {
        None
    };

    let mut items = Vec::new();
    let mut current: Vec<(u32, T)> = vec![(root, T::ONE)];
    let mut acc: Vec<T> = vec![T::ZERO; n];
    let mut stamp: Vec<u32> = vec![0; n];
    let mut touched: Vec<u32> = Vec::new();
    let mut tier = 0u32;
    while !current.is_empty() {
        let mark = tier + 1;
        for &(f, x) in &current {
            let fu = f as usize;
            let cfp = values.cfp[fu];
            let push = |items: &mut Vec<RawItem<T>>, kind, value: T| {
                if value != T::ZERO {
                    items.push(RawItem {
                        tier,
                        node: f,
                        kind,
                        value,
                    });
                }
            };
            // Limits come before the black-box rule.
            if tier > limits.max_tier {
                push(&mut items, Kind::BeyondCutoff, x * cfp);
                continue;
            }
            if let Some(t) = threshold
                && tier > 0
                && (x * cfp).abs() < t
            {
                push(&mut items, Kind::BeyondCutoff, x * cfp);
                continue;
            }
            let Some(g2g) = values.g2g[fu] else {
                push(&mut items, Kind::Unresolved, x * cfp);
                continue;
            };
            push(&mut items, Kind::Own, x * g2g);
            let (a, b) = (
                resolved.offsets[fu] as usize,
                resolved.offsets[fu + 1] as usize,
            );
            let mut upstream = T::ZERO;
            for (&c, &amount) in resolved.children[a..b].iter().zip(&amounts[a..b]) {
                upstream = upstream + amount * values.cfp[c as usize];
                let cu = c as usize;
                if stamp[cu] != mark {
                    stamp[cu] = mark;
                    acc[cu] = T::ZERO;
                    touched.push(c);
                }
                acc[cu] = acc[cu] + x * amount;
            }
            let gap = x * (cfp - g2g - upstream);
            if gap > T::ZERO {
                push(&mut items, Kind::Untraced, gap);
            } else if gap < T::ZERO {
                push(&mut items, Kind::Mismatch, gap);
            }
        }
        current.clear();
        current.extend(touched.drain(..).map(|c| (c, acc[c as usize])));
        tier += 1;
        if tier > limits.max_tier + 1 {
            break;
        }
    }
    items
}
