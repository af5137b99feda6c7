//! What-if: a scenario ([`crate::hotspot::scenario`]) beside the product as stored — the
//! CFP before and after, the change by supplier and by tier, the footprints that changed,
//! and the GX score and rank in its category before and after. What the `whatif` command,
//! `POST /api/whatif` and the `whatif*` table functions of the scenarios dashboard show.

use std::collections::{BTreeMap, HashMap};

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
    /// Per supplier (data owner), largest change first; suppliers the scenario does not
    /// touch are listed after, largest first.
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
        self.after - self.before
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
/// (kept for the next question), the scenario's walked beside it.
pub fn run(
    graph: &GraphSource,
    scores: &ScoreSource,
    req: &Request,
    scenario: &Scenario,
) -> Result<WhatIf> {
    let d = graph.decompose(req)?;
    let g = graph.get()?;
    let applied = apply(&g, req, scenario)?;
    let mut w = compare(&d, &applied, scenario)?;
    w.score = score_change(scores, &d, &applied, scenario);
    Ok(w)
}

/// The name and key of graph node `n`'s supplier, or of a footprint the scenario gives.
/// A footprint the scenario gives is its supplier's name after the change's number in
/// brackets (`[1] Formosa Panel Corp.`): not the stored company of the same name.
fn supplier<'a>(d: &'a Decomposition, a: &'a Applied, n: u32) -> (&'a str, &'a str) {
    let g = d.items.graph();
    match (n as usize).checked_sub(g.len()) {
        None => (g.company_name(n), g.company_id(n)),
        Some(v) => (a.estimated[v].label.as_str(), a.estimated[v].label.as_str()),
    }
}

/// A hasher for node numbers: one multiply (Fibonacci hashing). Node numbers are not chosen
/// by anyone who could make them collide on purpose, and a large root has a hundred
/// thousand of them to sum, twice.
#[derive(Default)]
struct NodeHasher(u64);

impl std::hash::Hasher for NodeHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = u64::from(n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

type BuildNodeHasher = std::hash::BuildHasherDefault<NodeHasher>;

fn compare(d: &Decomposition, a: &Applied, scenario: &Scenario) -> Result<WhatIf> {
    let g = d.items.graph();
    // Per node and per tier, before and after: the walks give each (tier, node, kind) once.
    let mut nodes: HashMap<u32, Change2, BuildNodeHasher> =
        HashMap::with_capacity_and_hasher(d.items.len() + 16, BuildNodeHasher::default());
    let mut tiers: BTreeMap<u32, Change2> = BTreeMap::new();
    for r in d.items.walked() {
        nodes.entry(r.node).or_default().before += r.value;
        tiers.entry(r.tier).or_default().before += r.value;
    }
    for r in &a.items {
        nodes.entry(r.node).or_default().after += r.value;
        tiers.entry(r.tier).or_default().after += r.value;
    }
    let after = a
        .cfp_after
        .checked_mul(fixed::pow10(VALUE_SCALE - crate::hotspot::INPUT_SCALE))
        .ok_or_else(|| Error::OutOfRange {
            footprint: d.product.footprint_id.clone(),
            message: "the scenario's CFP is beyond range".into(),
        })?;
    let mut suppliers: HashMap<&str, (&str, Change2)> = HashMap::new();
    let mut footprints = Vec::new();
    for (&n, v) in &nodes {
        let (name, key) = supplier(d, a, n);
        let s = &mut suppliers.entry(key).or_insert((name, Change2::default())).1;
        s.before += v.before;
        s.after += v.after;
        if v.before != v.after {
            let (name, key) = match (n as usize).checked_sub(g.len()) {
                None => (g.product_name(n).to_owned(), g.id(n).to_owned()),
                Some(i) => {
                    let e = &a.estimated[i];
                    let f = &e.footprint;
                    (
                        f.product_name.clone().unwrap_or_else(|| e.input.clone()),
                        format!("[{}]", e.change),
                    )
                }
            };
            footprints.push(Row {
                name,
                key,
                kgco2e: *v,
            });
        }
    }
    let by_change = |a: &Row, b: &Row| {
        (
            b.kgco2e.change().unsigned_abs(),
            b.kgco2e.before.unsigned_abs(),
            &a.key,
        )
            .cmp(&(
                a.kgco2e.change().unsigned_abs(),
                a.kgco2e.before.unsigned_abs(),
                &b.key,
            ))
    };
    let mut suppliers: Vec<Row> = suppliers
        .into_iter()
        .map(|(key, (name, v))| Row {
            name: name.to_owned(),
            key: key.to_owned(),
            kgco2e: v,
        })
        .collect();
    suppliers.sort_by(by_change);
    footprints.sort_by(by_change);
    let tiers = tiers
        .into_iter()
        .map(|(t, v)| Row {
            name: t.to_string(),
            key: t.to_string(),
            kgco2e: v,
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
