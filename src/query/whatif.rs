//! What-if: a scenario ([`crate::hotspot::scenario`]) beside the product as stored — the
//! CFP before and after, the change by supplier and by tier, the footprints that changed,
//! and the GX score and rank in its category before and after. What the `whatif` command,
//! `POST /api/whatif` and the `whatif*` table functions of the scenarios dashboard show.

use std::collections::HashMap;

use rust_decimal::Decimal;

use crate::hotspot::scenario::{Applied, Change, Scenario, apply};
use crate::hotspot::{Basis, Decomposition, GraphSource, Request, Root, VALUE_SCALE};
use crate::model::fixed;
use crate::score::{self, Inputs, Key, ScoreSource, Values};
use crate::{Error, Result};

/// A scenario applied to one product, beside the product as stored.
#[derive(Debug, Clone)]
pub struct WhatIf {
    /// The scenario.
    pub scenario: Scenario,
    /// The product.
    pub product: Root,
    /// The basis decomposed.
    pub basis: Basis,
    /// The date the chain was resolved for.
    pub as_of: String,
    /// The CFP as stored and with the changes, at [`VALUE_SCALE`].
    pub cfp: Change2,
    /// Per supplier (data owner) whose contribution changes, largest change first: its
    /// whole contribution before and after (the largest, then `(rest)`, when asked).
    pub suppliers: Vec<Row>,
    /// Per tier.
    pub tiers: Vec<Row>,
    /// The footprints whose items changed, largest change first.
    pub footprints: Vec<Row>,
    /// What each change did: its kind, in English and in Japanese.
    pub effects: Vec<(String, String, String)>,
    /// Footprints whose CFP was recomputed.
    pub recomputed: usize,
    /// Items of the scenario's decomposition (they sum to `cfp.after`).
    pub items: usize,
    /// The score before and after, or why there is none.
    pub score: std::result::Result<ScoreChange, String>,
}

/// A value before and after, at [`VALUE_SCALE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Change2 {
    /// As stored.
    pub before: i128,
    /// With the scenario.
    pub after: i128,
}

impl Change2 {
    /// After − before.
    pub fn change(&self) -> i128 {
        self.after.saturating_sub(self.before)
    }

    /// The change in percent of `before` (`None` from 0).
    pub fn change_pct(&self) -> Option<f64> {
        (self.before != 0).then(|| self.change() as f64 / self.before as f64 * 100.0)
    }
}

/// One row of a comparison: what it is and its values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Supplier name, tier number or product name.
    pub name: String,
    /// Company URN, tier, or footprint id.
    pub key: String,
    /// The values.
    pub kgco2e: Change2,
}

/// The GX score and the rank in the product's category (its CPC code) before and after.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreChange {
    /// The CPC code.
    pub category: String,
    /// Products in it.
    pub products: usize,
    /// Score out of 100 as stored.
    pub before: Decimal,
    /// With the scenario.
    pub after: Decimal,
    /// Rank (1 = best; ties share a rank) as stored.
    pub rank_before: usize,
    /// With the scenario (the other products as stored).
    pub rank_after: usize,
}

/// Applies `scenario` to `req`'s product: the baseline decomposition is the graph source's
/// (kept for the next question), the scenario's walked beside it. Suppliers and footprints
/// that change: the `top` largest changes by name, the others one `(rest)` row (`None`:
/// all by name).
pub fn run(
    graph: &GraphSource,
    scores: &ScoreSource,
    req: &Request,
    scenario: &Scenario,
    top: Option<usize>,
) -> Result<WhatIf> {
    let t = std::time::Instant::now();
    let d = graph.decompose(req)?;
    let g = graph.get()?;
    let decomposed = t.elapsed();
    let applied = apply(&g, req, scenario, &d)?;
    let applied_at = t.elapsed();
    let mut w = compare(&d, &applied, scenario, top)?;
    let compared = t.elapsed();
    w.score = score_change(scores, &d, &applied, scenario);
    tracing::debug!(
        "what-if {:?} on {}: stored decomposition by {decomposed:.2?}, scenario applied by {applied_at:.2?}, compared by {compared:.2?}, scored by {:.2?}",
        scenario.name,
        req.product,
        t.elapsed()
    );
    Ok(w)
}

/// The name and key of graph node `n`'s supplier, or of a footprint the scenario gives.
/// A footprint the scenario gives is its supplier's name after the change's number in
/// brackets (`[1] Formosa Panel Corp.`): not the stored company of the same name.
fn supplier<'a>(g: &'a crate::hotspot::Graph, a: &'a Applied, n: u32) -> (&'a str, &'a str) {
    match (n as usize).checked_sub(g.len()) {
        None => (g.company_name(n), g.company_id(n)),
        Some(v) => (a.estimated[v].label.as_str(), a.estimated[v].label.as_str()),
    }
}

/// A hasher for node numbers and company ids: one multiply per word or byte (Fibonacci
/// hashing). The keys are not chosen by anyone who could make them collide on purpose, and a
/// large root has a hundred thousand footprints to look up.
#[derive(Default)]
struct NodeHasher(u64);

impl std::hash::Hasher for NodeHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            let w = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
            self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
        for &b in words.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = u64::from(n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

type BuildNodeHasher = std::hash::BuildHasherDefault<NodeHasher>;

/// Orders rows by the size of their change, then of what they gave before, then `key`.
fn by_change<K: Ord>(a: &(Change2, K), b: &(Change2, K)) -> std::cmp::Ordering {
    (b.0.change().unsigned_abs(), b.0.before.unsigned_abs(), &a.1).cmp(&(
        a.0.change().unsigned_abs(),
        a.0.before.unsigned_abs(),
        &b.1,
    ))
}

/// Puts the `top` largest changes of `rows` first, in order (all of them for `None`); the
/// rest, summed into one row, need no order.
fn largest_first<K: Ord>(rows: &mut [(Change2, K)], top: Option<usize>) {
    match top {
        Some(n) if n < rows.len() => {
            if n > 0 {
                rows.select_nth_unstable_by(n - 1, by_change);
            }
            rows[..n].sort_unstable_by(by_change);
        }
        _ => rows.sort_unstable_by(by_change),
    }
}

/// The first `top` of `rows` (in order) named by `name`, and when there are more, one
/// `(rest)` row summing them (so the changes still add up to the CFP's).
fn named<K>(
    rows: Vec<(Change2, K)>,
    top: Option<usize>,
    name: impl Fn(&K) -> (String, String),
) -> Vec<Row> {
    let top = top.unwrap_or(usize::MAX);
    let more = rows.len().saturating_sub(top);
    let mut out = Vec::with_capacity(rows.len().min(top) + 1);
    let mut rest = Change2::default();
    for (i, (v, k)) in rows.into_iter().enumerate() {
        if i < top {
            let (name, key) = name(&k);
            out.push(Row {
                name,
                key,
                kgco2e: v,
            });
        } else {
            rest.before = rest.before.saturating_add(v.before);
            rest.after = rest.after.saturating_add(v.after);
        }
    }
    if more > 0 {
        out.push(Row {
            name: "(rest)".into(),
            key: format!("({more} more)"),
            kgco2e: rest,
        });
    }
    out
}

fn compare(
    d: &Decomposition,
    a: &Applied,
    scenario: &Scenario,
    top: Option<usize>,
) -> Result<WhatIf> {
    let g = d.items.graph();
    let after = a
        .cfp_after
        .checked_mul(fixed::pow10(VALUE_SCALE - crate::hotspot::INPUT_SCALE))
        .ok_or_else(|| Error::OutOfRange {
            footprint: d.product.footprint_id.clone(),
            message: "the scenario's CFP is beyond range".into(),
        })?;
    // The footprints whose items change, and their suppliers; then those suppliers' totals
    // over all their footprints (the others' totals do not change).
    let mut changed: Vec<(Change2, u32)> = Vec::new();
    // Suppliers by company number; a given footprint is a supplier of its own, numbered
    // after every company.
    let numbers = g.company_numbers();
    let company = |n: u32| match numbers.get(n as usize) {
        Some(&c) => c,
        None => u32::MAX - (n - g.len() as u32),
    };
    let mut supplier_at: HashMap<u32, usize, BuildNodeHasher> = HashMap::default();
    let mut suppliers: Vec<(Change2, (u32, u32))> = Vec::new();
    for (k, &n) in a.nodes.iter().enumerate() {
        if a.before[k] != a.after[k] {
            changed.push((
                Change2 {
                    before: a.before[k],
                    after: a.after[k],
                },
                n,
            ));
            supplier_at.entry(company(n)).or_insert_with(|| {
                suppliers.push((Change2::default(), (company(n), n)));
                suppliers.len() - 1
            });
        }
    }
    for (k, &n) in a.nodes.iter().enumerate() {
        if a.before[k] == 0 && a.after[k] == 0 {
            continue;
        }
        if let Some(&at) = supplier_at.get(&company(n)) {
            let s = &mut suppliers[at].0;
            s.before = s.before.saturating_add(a.before[k]);
            s.after = s.after.saturating_add(a.after[k]);
        }
    }
    largest_first(&mut changed, top);
    largest_first(&mut suppliers, top);
    let footprints = named(changed, top, |&n| match (n as usize).checked_sub(g.len()) {
        None => (g.product_name(n).to_owned(), g.id(n).to_owned()),
        Some(i) => {
            let e = &a.estimated[i];
            (
                e.footprint
                    .product_name
                    .clone()
                    .unwrap_or_else(|| e.input.clone()),
                format!("[{}]", e.change),
            )
        }
    });
    let suppliers = named(suppliers, top, |&(_, n)| {
        let (name, key) = supplier(g, a, n);
        (name.to_owned(), key.to_owned())
    });
    let tiers = (a.tiers.iter().enumerate())
        .filter(|(_, (b, a))| *b != 0 || *a != 0)
        .map(|(t, &(before, after))| Row {
            name: t.to_string(),
            key: t.to_string(),
            kgco2e: Change2 { before, after },
        })
        .collect();
    let effects = scenario
        .changes
        .iter()
        .map(Change::kind)
        .zip(a.effects.iter())
        .map(|(k, (en, ja))| (k.to_owned(), en.clone(), ja.clone()))
        .collect();
    Ok(WhatIf {
        scenario: scenario.clone(),
        product: d.product.clone(),
        basis: d.basis,
        as_of: d.as_of.clone(),
        cfp: Change2 {
            before: d.cfp_kgco2e_per_unit,
            after,
        },
        suppliers,
        tiers,
        footprints,
        effects,
        recomputed: a.recomputed,
        items: a.items.len(),
        score: Err(String::new()),
    })
}

/// The product's score and rank in its category before and after; the other products of
/// the category as stored.
fn score_change(
    source: &ScoreSource,
    d: &Decomposition,
    a: &Applied,
    scenario: &Scenario,
) -> std::result::Result<ScoreChange, String> {
    if d.basis != Basis::ExcludingBiogenic {
        return Err(
            "scores are of the CFP excluding biogenic uptake; decompose on that basis to see them"
                .into(),
        );
    }
    let all = source.get().map_err(|e| e.to_string())?;
    let inputs = &all.0;
    let p = inputs
        .footprint_id
        .iter()
        .position(|id| *id == d.product.footprint_id)
        .ok_or_else(|| {
            "the product's score is of its latest Active footprint, not of the one decomposed"
                .to_owned()
        })?;
    let category = inputs
        .cpc
        .get(p)
        .ok_or("the product has no CPC code: it has no category to be ranked in")?
        .to_owned();
    // Scores depend on a product's own values and its category's rules only: the stored
    // scores stand for every other product, and the product is scored again alone.
    let (_, scores) = &*all;
    let mut changed = inputs.pick(&[p]);
    set_scenario(&mut changed, 0, a, scenario);
    let after = score::score(source.profile(), &changed).gx_micros[0];
    let before = scores.gx_micros[p];
    let (mut products, mut above_before, mut above_after) = (0, 0, 0);
    for q in (0..inputs.len()).filter(|&q| inputs.cpc.get(q) == Some(category.as_str())) {
        products += 1;
        let g = scores.gx_micros[q];
        above_before += usize::from(g > before);
        above_after += usize::from(q != p && g > after);
    }
    let points = |micros: i64| Decimal::new(micros, score::SCORE_PLACES).normalize();
    Ok(ScoreChange {
        category,
        products,
        before: points(before),
        after: points(after),
        rank_before: 1 + above_before,
        rank_after: 1 + above_after,
    })
}

/// Product `p` of `inputs` as the scenario makes it: its CFP (and the reduction against its
/// baseline) and the attributes set.
fn set_scenario(inputs: &mut Inputs, p: usize, a: &Applied, scenario: &Scenario) {
    let cfp = Decimal::from_i128_with_scale(a.cfp_after, crate::hotspot::INPUT_SCALE).normalize();
    set_number(inputs, Key::Cfp, p, Some(cfp));
    if let Some(rep) = inputs.rep[p].as_mut() {
        let base = rep.baseline_kgco2e_per_unit;
        rep.reduction_kgco2e_per_unit = (base - cfp).normalize();
        rep.reduction_pct = (base > Decimal::ZERO).then(|| {
            ((base - cfp) / base * Decimal::ONE_HUNDRED)
                .round_dp(6)
                .normalize()
        });
        let pct = rep.reduction_pct;
        set_number(inputs, Key::Rep, p, pct);
    }
    for c in &scenario.changes {
        let Change::Attribute {
            certified,
            gx_declaration,
            progress_disclosed,
            publicly_disclosed,
            national_target_contribution,
            support_measures,
            additionality,
            circular_inflow_pct,
            circular_outflow_pct,
            aep_kgco2e_per_unit,
            ..
        } = c
        else {
            continue;
        };
        for (k, v) in [
            (Key::Certified, certified),
            (Key::GxDeclaration, gx_declaration),
            (Key::ProgressDisclosed, progress_disclosed),
            (Key::PubliclyDisclosed, publicly_disclosed),
            (
                Key::NationalTargetContribution,
                national_target_contribution,
            ),
            (Key::SupportMeasures, support_measures),
            (Key::Additionality, additionality),
        ] {
            if let (Some(v), Values::Flag(f)) = (v, &mut values_mut(inputs, k)) {
                f[p] = Some(*v);
            }
        }
        for (k, v) in [
            (Key::CircularInflow, circular_inflow_pct),
            (Key::CircularOutflow, circular_outflow_pct),
            (Key::Aep, aep_kgco2e_per_unit),
        ] {
            if let Some(v) = v {
                set_number(inputs, k, p, Some(v.decimal().normalize()));
            }
        }
    }
}

fn values_mut(inputs: &mut Inputs, k: Key) -> &mut Values {
    let i = Key::ALL.iter().position(|x| *x == k).unwrap_or(0);
    &mut inputs.values[i]
}

fn set_number(inputs: &mut Inputs, k: Key, p: usize, v: Option<Decimal>) {
    let slot = values_mut(inputs, k);
    if let Values::Number(n) = slot {
        let mut all = n.to_decimals();
        all[p] = v;
        *slot = Values::numbers(all);
    }
}

/// Bundled scenarios (`scenarios/*.toml`), by file name without `.toml`.
pub fn bundled() -> Result<Vec<(String, Scenario)>> {
    crate::dataset::embedded::SCENARIOS
        .iter()
        .filter(|(id, _)| !id.contains('/'))
        .map(|(id, text)| {
            Ok((
                (*id).to_owned(),
                Scenario::from_toml(&format!("scenarios/{id}.toml"), text)?,
            ))
        })
        .collect()
}

/// A bundled scenario by id (never a file: a dashboard's parameter names only these).
pub fn bundled_one(id: &str) -> Result<Scenario> {
    let all = bundled()?;
    let known: Vec<&str> = all.iter().map(|(i, _)| i.as_str()).collect();
    let names = known.join(", ");
    all.iter()
        .find(|(i, _)| i == id)
        .map(|(_, s)| s.clone())
        .ok_or_else(|| Error::NotFound(format!("no bundled scenario {id:?}; bundled: {names}")))
}
