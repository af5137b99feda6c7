//! Property tests (proptest): the hotspot identities on random supply graphs with cycles, and
//! the invariants of the score rules.

use mieruka::hotspot::{self, Request};
use mieruka::ingest::{self, IngestOptions};
use mieruka::score::{Credit, Rule};
use mieruka::table::Tables;
use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::json;

use crate::common::{source, v2_example};

/// A random supply graph: each node's CFP in kgCO2e/kg (thousandths, up to 1,000,000 kg)
/// and Gate-to-Gate share, and BOM edges `(parent, child, amount in grams, up to 5 kg)`, back edges
/// (cycles) included.
#[derive(Debug, Clone)]
struct Chain {
    nodes: Vec<(u64, Option<u8>)>,
    edges: Vec<(usize, usize, u32)>,
}

fn chain() -> impl Strategy<Value = Chain> {
    (2usize..10).prop_flat_map(|n| {
        (
            prop::collection::vec((1u64..1_000_000_000, prop::option::of(0u8..=100)), n),
            prop::collection::vec((0..n, 0..n, 1u32..5_000), 0..3 * n),
        )
            .prop_map(|(nodes, edges)| Chain { nodes, edges })
    })
}

fn id_of(i: usize) -> String {
    format!("00000000-0000-4000-8000-{i:012x}")
}

/// The chain as a dataset; its BOM rows in `order`.
fn tables(c: &Chain, order: &[usize]) -> Tables {
    let mut ndjson = String::new();
    for (i, (cfp, g2g)) in c.nodes.iter().enumerate() {
        let cfp = Decimal::new(*cfp as i64, 3);
        let mut v = v2_example();
        v["id"] = json!(id_of(i));
        v["productIds"] = json!([format!("urn:prop:{i}")]);
        v["companyIds"] = json!([format!("urn:prop-company:{}", i % 3)]);
        v["pcf"]["declaredUnit"] = json!("kilogram");
        for key in [
            "pCfExcludingBiogenic",
            "pCfIncludingBiogenic",
            "fossilGhgEmissions",
        ] {
            v["pcf"][key] = json!(cfp.to_string());
        }
        v["extensions"] = match g2g {
            Some(pct) => json!([{
                "specVersion": "2.0.0",
                "dataSchema": "https://github.com/Green-x-Digital-Consortium/data-model-extensions/blob/main/specs/GxD_schema_en.json",
                "data": {"calcMethod": "0", "FWedition": "1", "gateToGate": {
                    "gateToGateFossilGhgEmissions": (cfp * Decimal::new(i64::from(*pct), 2)).normalize().to_string()
                }}
            }]),
            None => json!([]),
        };
        ndjson.push_str(&format!("{v}\n"));
    }
    // One row per (parent, child), the first drawn: a second would be a conflicting BOM
    // line. A self-loop is refused by ingest (longer cycles are kept, and walked to the
    // limit).
    let mut seen = std::collections::HashSet::new();
    let kept: Vec<bool> = c
        .edges
        .iter()
        .map(|&(p, ch, _)| p != ch && seen.insert((p, ch)))
        .collect();
    let mut csv = String::from("parent_product_id,child_product_id,amount,unit\n");
    for &k in order {
        let (p, ch, grams) = c.edges[k];
        if kept[k] {
            csv.push_str(&format!(
                "urn:prop:{p},urn:prop:{ch},{},kilogram\n",
                Decimal::new(i64::from(grams), 3)
            ));
        }
    }
    let p = ingest::prepare(
        &Tables::default(),
        &[source("fp.ndjson", &ndjson), source("bom.csv", &csv)],
        &IngestOptions::default(),
        &|_| {},
    )
    .expect("prepare");
    assert_eq!(p.report.rejected, 0, "{:#?}", p.report.errors);
    p.to_tables(1).expect("tables")
}

/// Items as sortable rows: (tier, footprint, kind, kgCO2e).
fn rows(d: &hotspot::Decomposition) -> Vec<(u32, String, String, i128)> {
    let mut v: Vec<_> = d
        .items
        .iter()
        .map(|i| {
            (
                i.tier,
                i.footprint_id.to_owned(),
                i.kind.as_str().to_owned(),
                i.kgco2e,
            )
        })
        .collect();
    v.sort();
    v
}

/// A scenario on a [`Chain`]'s root (node 0): reduce one footprint of its chain by `pct`
/// thousandths of a percent (its Gate-to-Gate if it has one, else its CFP) and, if the root
/// has inputs, scale one of them by `factor` thousandths.
struct Case {
    toml: String,
    /// BOM edges as ingested (self-loops and repeated pairs left out), amounts in kg.
    edges: Vec<(usize, usize, f64)>,
    reduced: usize,
    of_g2g: bool,
    pct: f64,
    scaled: Option<(usize, f64)>,
}

impl Case {
    fn new(
        c: &Chain,
        pick: prop::sample::Index,
        pct: u32,
        edge: prop::sample::Index,
        factor: u32,
    ) -> Case {
        let mut seen = std::collections::HashSet::new();
        let edges: Vec<(usize, usize, f64)> = c
            .edges
            .iter()
            .filter(|&&(p, ch, _)| p != ch && seen.insert((p, ch)))
            .map(|&(p, ch, g)| (p, ch, f64::from(g) / 1000.0))
            .collect();
        // The reduced footprint is one of the root's chain (a change elsewhere is refused).
        let mut chain = vec![0usize];
        let mut i = 0;
        while i < chain.len() {
            let from = chain[i];
            for e in edges.iter().filter(|e| e.0 == from) {
                if !chain.contains(&e.1) {
                    chain.push(e.1);
                }
            }
            i += 1;
        }
        let reduced = chain[pick.index(chain.len())];
        let of_g2g = c.nodes[reduced].1.is_some();
        let pct = Decimal::new(i64::from(pct), 3);
        let mut toml = format!(
            "name = \"p\"\n[[changes]]\nkind = \"reduce\"\nfootprint = \"urn:prop:{reduced}\"\npct = \"{pct}\"\nof = \"{}\"\n",
            if of_g2g { "g2g" } else { "cfp" }
        );
        let inputs: Vec<usize> = edges.iter().filter(|e| e.0 == 0).map(|e| e.1).collect();
        let factor = Decimal::new(i64::from(factor), 3);
        let scaled = (!inputs.is_empty()).then(|| inputs[edge.index(inputs.len())]);
        if let Some(ch) = scaled {
            toml.push_str(&format!(
                "\n[[changes]]\nkind = \"scale\"\ninput = \"urn:prop:{ch}\"\nfactor = \"{factor}\"\n"
            ));
        }
        let decimal = |d: Decimal| d.to_string().parse::<f64>().expect("f64");
        Case {
            toml,
            edges,
            reduced,
            of_g2g,
            pct: decimal(pct) / 100.0,
            scaled: scaled.map(|ch| (ch, decimal(factor))),
        }
    }

    /// The scenario through the engine, with the identities that hold on any answer checked.
    fn run(&self, c: &Chain) -> Result<mieruka::query::whatif::WhatIf, String> {
        let order: Vec<usize> = (0..c.edges.len()).collect();
        let t = tables(c, &order);
        let scenario =
            mieruka::hotspot::scenario::Scenario::from_toml("prop", &self.toml).expect("scenario");
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let session = rt
            .block_on(mieruka::query::Session::new(&t))
            .expect("session");
        let w = session
            .whatif(&Request::new(id_of(0)), &scenario, None)
            .map_err(|e| e.to_string())?;
        let tiers: i128 = w.tiers.iter().map(|r| r.kgco2e.after).sum();
        assert_eq!(tiers, w.cfp.after, "tiers against the CFP\n{}", self.toml);
        let changes: i128 = w.footprints.iter().map(|r| r.kgco2e.change()).sum();
        assert_eq!(
            changes,
            w.cfp.change(),
            "changes against the CFP's\n{}",
            self.toml
        );
        Ok(w)
    }

    /// The root's CFP after the changes, in f64, recursing from the root (`c` without a
    /// cycle; a footprint reached by several paths is worked out once).
    fn by_hand(&self, c: &Chain) -> f64 {
        let mut memo = vec![None; c.nodes.len()];
        fn after(case: &Case, c: &Chain, i: usize, memo: &mut Vec<Option<f64>>) -> f64 {
            if let Some(v) = memo[i] {
                return v;
            }
            let cfp = |i: usize| c.nodes[i].0 as f64 / 1000.0;
            let mut v = cfp(i);
            if i == case.reduced {
                let g2g = c.nodes[i].1.map_or(0.0, |p| cfp(i) * f64::from(p) / 100.0);
                v -= if case.of_g2g { g2g } else { cfp(i) } * case.pct;
            }
            for &(p, ch, a) in case.edges.iter().filter(|e| e.0 == i) {
                let factor = match case.scaled {
                    Some((s, f)) if p == 0 && s == ch => f,
                    _ => 1.0,
                };
                v += a * factor * after(case, c, ch, memo) - a * cfp(ch);
            }
            memo[i] = Some(v);
            v
        }
        after(self, c, 0, &mut memo)
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// For any graph, cycles included, and any tier limit: the items of every root sum to its
    /// CFP exactly, and the decomposition does not depend on the order of the BOM rows.
    #[test]
    fn items_sum_to_the_cfp_whatever_the_edge_order(c in chain(), max_tier in 0u32..8) {
        let forward: Vec<usize> = (0..c.edges.len()).collect();
        let backward: Vec<usize> = forward.iter().rev().copied().collect();
        let (a, b) = (tables(&c, &forward), tables(&c, &backward));
        let (ga, gb) = (
            std::sync::Arc::new(hotspot::Graph::from_tables(&a).expect("graph")),
            std::sync::Arc::new(hotspot::Graph::from_tables(&b).expect("graph")),
        );
        for root in 0..c.nodes.len() {
            let req = Request { max_tier, ..Request::new(id_of(root)) };
            match (hotspot::decompose(&ga, &req), hotspot::decompose(&gb, &req)) {
                (Ok(da), Ok(db)) => {
                    let sum: i128 = da.items.iter().map(|i| i.kgco2e).sum();
                    prop_assert_eq!(sum, da.cfp_kgco2e_per_unit, "root {}", root);
                    prop_assert_eq!(rows(&da), rows(&db), "root {}: edge order changed the items", root);
                }
                // A cycle multiplying amounts tier after tier leaves the range: a clear
                // error naming the footprint, the same whatever the order.
                (Err(ea), Err(eb)) => {
                    prop_assert!(ea.to_string().contains("beyond range"), "{}", ea);
                    prop_assert_eq!(ea.to_string(), eb.to_string());
                }
                (a, b) => prop_assert!(false, "root {}: {:?} against {:?}", root, a.err(), b.err()),
            }
        }
    }

    /// For any graph without a cycle and a scenario of a reduction (of a footprint's
    /// Gate-to-Gate, or of its whole CFP) and a scaled input of the root: the scenario's
    /// tiers sum to its CFP exactly, the footprints' changes to the CFP's change, and the CFP
    /// is what the changes give worked out independently in f64: cfp'(f) = cfp(f) + Δown(f)
    /// + Σ a'·cfp'(c) − a·cfp(c) over its inputs (each footprint keeps its untraced
    /// remainder). The same scenario on the graph with its cycles is answered with the same
    /// identities or refused naming a cycle, never a panic.
    #[test]
    fn a_scenario_moves_the_cfp_as_worked_out_by_hand(
        c in chain(), pick in any::<prop::sample::Index>(), pct in 0u32..=100_000,
        edge in any::<prop::sample::Index>(), factor in 0u32..3_000,
    ) {
        // Every edge from the lower node to the higher: no cycle, the root (node 0) above all.
        let dag = Chain {
            nodes: c.nodes.clone(),
            edges: c.edges.iter().map(|&(p, ch, g)| (p.min(ch), p.max(ch), g)).collect(),
        };
        let case = Case::new(&dag, pick, pct, edge, factor);
        let want = case.by_hand(&dag);
        match case.run(&dag) {
            Ok(w) => {
                let got = w.cfp.after as f64 / 1e24;
                prop_assert!(
                    (got - want).abs() <= 1e-9 * want.abs().max(1.0),
                    "{} against {} by hand\n{}", got, want, case.toml
                );
            }
            Err(e) => prop_assert!(e.contains("beyond range"), "{}\n{}", e, case.toml),
        }
        let case = Case::new(&c, pick, pct, edge, factor);
        if let Err(e) = case.run(&c) {
            prop_assert!(e.contains("cycle") || e.contains("beyond range"), "{}\n{}", e, case.toml);
        }
    }

    /// A rule's credit is between 0 and 1 for any value, so weight × credit is between 0 and
    /// the weight; threshold rules are monotone in the value, and so is a linear rule in its
    /// direction.
    #[test]
    fn credits_stay_in_0_to_1_and_follow_the_value(
        a in any::<i64>(), b in any::<i64>(), scale_a in 0u32..12, scale_b in 0u32..12,
        t in -1_000_000i64..1_000_000, u in -1_000_000i64..1_000_000,
        weight in 0u32..100,
    ) {
        let (x, y) = (Decimal::new(a, scale_a), Decimal::new(b, scale_b));
        let (lo, hi) = if x <= y { (x, y) } else { (y, x) };
        let (t, u) = (Decimal::new(t, 2), Decimal::new(u, 2));
        let weight = Decimal::from(weight);
        let rules = [
            Rule::Present,
            Rule::AtLeast(t),
            Rule::AtMost(t),
            Rule::Reduction(t),
            Rule::Linear { zero_at: t, full_at: u },
        ];
        // Credits are exact rationals; rounding at 20 places keeps their order.
        let credit = |rule: &Rule, v: Decimal| Credit::of_number(rule, v).rounded(20);
        for rule in &rules {
            for v in [lo, hi] {
                let c = credit(rule, v);
                prop_assert!((Decimal::ZERO..=Decimal::ONE).contains(&c), "{rule:?} at {v}: {c}");
                let points = weight * c;
                prop_assert!(points >= Decimal::ZERO && points <= weight);
            }
            let (c_lo, c_hi) = (credit(rule, lo), credit(rule, hi));
            match rule {
                Rule::AtLeast(_) | Rule::Reduction(_) => prop_assert!(c_lo <= c_hi),
                Rule::AtMost(_) => prop_assert!(c_lo >= c_hi),
                Rule::Linear { zero_at, full_at } if full_at > zero_at => {
                    prop_assert!(c_lo <= c_hi, "{rule:?}: {lo} → {c_lo}, {hi} → {c_hi}")
                }
                Rule::Linear { zero_at, full_at } if full_at < zero_at => {
                    prop_assert!(c_lo >= c_hi, "{rule:?}: {lo} → {c_lo}, {hi} → {c_hi}")
                }
                _ => {}
            }
        }
        prop_assert_eq!(Credit::of_flag(true), Credit::Full);
        prop_assert_eq!(Credit::of_flag(false), Credit::Zero);
    }
}
