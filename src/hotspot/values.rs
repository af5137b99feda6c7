//! The numbers the walk runs on, apart from the graph that holds them: the fixed-point
//! scales, per-node values (CFP and Gate-to-Gate) per basis, per-edge coefficients with each
//! node's balance, and the multiplications that never overflow silently.

use std::sync::OnceLock;

use super::ints::Ints;
use super::{Basis, Finding};
use crate::model::fixed;

/// Decimal places of the stored footprint values and BOM amounts (the tables' scale).
pub const INPUT_SCALE: u32 = crate::table::DECIMAL_SCALE;
/// Decimal places of quantities x (declared units of a footprint per unit of the root).
pub const X_SCALE: u32 = 12;
/// Decimal places of every value the walk produces (kgCO2e per declared unit of the root).
pub const VALUE_SCALE: u32 = X_SCALE + INPUT_SCALE;

/// x = 1 at [`X_SCALE`].
pub(super) const X_ONE: i128 = fixed::pow10(X_SCALE);

/// Per-node cradle-to-gate and Gate-to-Gate values for one basis, at [`INPUT_SCALE`], by
/// the node numbers of the graph or of a [`Resolved`](super::Resolved) part of it.
#[derive(Debug)]
pub struct Values {
    /// Cradle-to-gate footprint per declared unit.
    pub cfp: Vec<i128>,
    /// Gate-to-Gate emissions per declared unit; `None` for a black box.
    pub g2g: Vec<Option<i128>>,
    /// Nodes whose value for this basis fell back to the other basis, ascending.
    pub fallback: Vec<u32>,
}

/// Caches of [`Values`] per basis, held by the graph.
#[derive(Debug, Default)]
pub struct ValueCache {
    pub(super) values: [OnceLock<Values>; 2],
}

pub(crate) fn basis_index(b: Basis) -> usize {
    match b {
        Basis::ExcludingBiogenic => 0,
        Basis::IncludingBiogenic => 1,
    }
}

/// `a · b` for `i128`s, with the common case (both fit `i64`) as one widening multiply.
#[inline]
pub(super) fn mul(a: i128, b: i128) -> Option<i128> {
    match (i64::try_from(a), i64::try_from(b)) {
        (Ok(a), Ok(b)) => Some(i128::from(a) * i128::from(b)),
        _ => a.checked_mul(b),
    }
}

/// Marks an edge coefficient that does not fit: the walk reports it when it crosses the edge,
/// so one out-of-range footprint does not stop the decomposition of products that never
/// reach it.
pub(crate) const OUT_OF_RANGE: i128 = i128::MIN;

/// What the walk needs per edge and node of a resolved graph for one basis.
#[derive(Debug)]
pub struct EdgeValues {
    /// c(f, g) = a(f, g) · cfp(g) per edge, at [`INPUT_SCALE`], rounded half to even
    /// ([`OUT_OF_RANGE`] where the product overflows).
    pub coef: Ints,
    /// Per node: how its inputs compare with the upstream it reports.
    pub balance: Vec<Balance>,
    /// What the inputs of each [`Balance::Exceeds`] node add up to (local node, Σ a · cfp
    /// at [`VALUE_SCALE`]; `None` beyond range), ascending: its finding names the sum.
    pub exceeding: Vec<(u32, Option<i128>)>,
    /// The mismatch finding of each of `exceeding`, in its order, made on first use.
    pub mismatches: OnceLock<Vec<Finding>>,
}

/// How a footprint's inputs, Σ a · cfp(input), compare with the upstream it reports,
/// cfp − g2g (its own numbers, before any walk).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Balance {
    /// Equal, exactly: no gap in its own data.
    Consistent,
    /// Its inputs add up to more than it reports (a mismatch finding), or beyond range.
    Exceeds,
    /// Anything else: less, or no Gate-to-Gate (a black box is not compared).
    Other,
}

/// What the root receives: its CFP at [`VALUE_SCALE`] (x = 1); `None` beyond range.
pub(crate) fn root_value(values: &Values, root: u32) -> Option<i128> {
    mul(values.cfp[root as usize], X_ONE)
}

/// `a · b / 10^scale` rounded half to even, without an intermediate wider than the result
/// needs: a = q · 10^scale + r, so a · b / 10^scale = q · b + r · b / 10^scale.
pub(crate) fn mul_scaled(a: i128, b: i128, scale: u32) -> Option<i128> {
    let p = fixed::pow10(scale);
    if let Some(ab) = mul(a, b) {
        return Some(fixed::div_round(ab, p));
    }
    let (q, r) = (a / p, a % p);
    let whole = q.checked_mul(b)?;
    let part = fixed::div_round(r.checked_mul(b)?, p);
    whole.checked_add(part)
}
