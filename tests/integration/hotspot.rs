//! Hotspot decomposition: hand-worked cases (the arithmetic in comments), the native engine
//! against the SQL engine on every test dataset, a property test on generated chains, and the
//! demo PC.

use std::collections::BTreeMap;

use mieruka::hotspot::VALUE_SCALE;
use mieruka::hotspot::{self, Basis, Decomposition, Request};
use mieruka::ingest::{self, IngestOptions, Source};
use mieruka::model::fixed;
use mieruka::output;
use mieruka::query::{Catalog, Session};
use mieruka::report;
use mieruka::table::Tables;
use serde_json::{Value, json};

use crate::common::{source, v2_example};

/// A deterministic footprint id for a test node name.
fn id_of(name: &str) -> String {
    let h = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    format!("00000000-0000-4000-8000-{:012x}", h & 0xffff_ffff_ffff)
}

pub(crate) fn urn(name: &str) -> String {
    format!("urn:test:{name}")
}

/// A footprint for node `name`: cradle-to-gate `cfp` and, when given, Gate-to-Gate `g2g`
/// (GxD), per kilogram.
pub(crate) fn fp(name: &str, cfp: &str, g2g: Option<&str>) -> Value {
    let mut v = v2_example();
    v["id"] = json!(id_of(name));
    v["productIds"] = json!([urn(name)]);
    v["productNameCompany"] = json!(name);
    v["companyName"] = json!(format!("{name} Co."));
    v["companyIds"] = json!([format!("urn:test-company:{name}")]);
    v["pcf"]["declaredUnit"] = json!("kilogram");
    v["pcf"]["pCfExcludingBiogenic"] = json!(cfp);
    v["pcf"]["pCfIncludingBiogenic"] = json!(cfp);
    v["pcf"]["fossilGhgEmissions"] = json!(cfp);
    v["extensions"] = match g2g {
        Some(g) => json!([{
            "specVersion": "2.0.0",
            "dataSchema": "https://github.com/Green-x-Digital-Consortium/data-model-extensions/blob/main/specs/GxD_schema_en.json",
            "data": {"calcMethod": "0", "FWedition": "1", "gateToGate": {"gateToGateFossilGhgEmissions": g}}
        }]),
        None => json!([]),
    };
    v
}

/// Loads footprints and BOM rows `(parent, child, amount, unit)` as a dataset.
pub(crate) fn tables(docs: &[Value], bom: &[(&str, &str, &str, &str)]) -> Tables {
    let ndjson: String = docs.iter().map(|d| format!("{d}\n")).collect();
    let mut csv = String::from("parent_product_id,child_product_id,amount,unit\n");
    for (p, c, a, u) in bom {
        csv.push_str(&format!("{},{},{a},{u}\n", urn(p), urn(c)));
    }
    let sources = vec![source("fp.ndjson", &ndjson), source("bom.csv", &csv)];
    let p = ingest::prepare(
        &Tables::default(),
        &sources,
        &IngestOptions::default(),
        &|_| {},
    )
    .expect("prepare");
    assert_eq!(p.report.rejected, 0, "{:#?}", p.report.errors);
    p.to_tables(1).expect("tables")
}

/// Items as `(tier, node name, kind, kgCO2e)`, sorted.
fn items(d: &Decomposition, names: &[&str]) -> Vec<(u32, String, String, String)> {
    let by_id: BTreeMap<String, &str> = names.iter().map(|n| (id_of(n), *n)).collect();
    let mut out: Vec<_> = d
        .items
        .iter()
        .map(|i| {
            (
                i.tier,
                by_id.get(i.footprint_id).copied().unwrap_or("?").to_owned(),
                i.kind.as_str().to_owned(),
                kg(i.kgco2e),
            )
        })
        .collect();
    out.sort();
    out
}

fn expect(rows: &[(u32, &str, &str, &str)]) -> Vec<(u32, String, String, String)> {
    let mut v: Vec<_> = rows
        .iter()
        .map(|(t, n, k, x)| (*t, n.to_string(), k.to_string(), x.to_string()))
        .collect();
    v.sort();
    v
}

/// An item value (at the walk's 24 decimal places) as exact decimal text.
fn kg(v: i128) -> String {
    fixed::format(v, VALUE_SCALE)
}

fn sum(d: &Decomposition) -> i128 {
    d.items.iter().map(|i| i.kgco2e).sum()
}

async fn run(t: &Tables, req: &Request) -> Decomposition {
    let session = Session::new(t).await.expect("session");
    let graph = session.graph().expect("graph");
    let d = hotspot::decompose(&graph, req).expect("decompose");
    // A question resolves only what its root reaches (kept for the next question about it)
    // until the whole graph of its date is kept (resolved on another thread once another
    // root is asked about): the same answer either way.
    let again = hotspot::decompose(&graph, req).expect("decompose");
    assert_eq!(d, again, "the part kept gives the same answer");
    let (_, date) = graph.root(&req.product, req.as_of).expect("root");
    graph.resolve(date);
    let whole = hotspot::decompose(&graph, req).expect("decompose");
    assert_eq!(
        d, whole,
        "a part of the graph and the whole give one answer"
    );
    assert_eq!(
        sum(&d),
        d.cfp_kgco2e_per_unit,
        "items must sum to the CFP exactly"
    );
    if req.min_share_pct == 0.0 {
        assert_native_matches_sql(&session, req, &d).await;
    }
    d
}

/// The SQL engine (queries/hotspot/sql_items.sql) gives exactly the native items.
async fn assert_native_matches_sql(session: &Session, req: &Request, d: &Decomposition) {
    let catalog = Catalog::embedded().expect("catalog");
    let q = catalog.get("hotspot/sql_items").expect("query");
    let args = vec![
        ("product".to_owned(), req.product.clone()),
        ("max_tier".to_owned(), req.max_tier.to_string()),
        ("basis".to_owned(), req.basis.as_str().to_owned()),
        (
            "as_of".to_owned(),
            req.as_of.map(|d| d.to_string()).unwrap_or_default(),
        ),
    ];
    let out = session.run(q, &args).await.expect("sql engine");
    let mut sql: Vec<(i64, String, String, String)> = output::rows_json(&out.batches)
        .iter()
        .map(|r| {
            (
                r["tier"].as_i64().unwrap_or(-1),
                r["footprint_id"].as_str().unwrap_or("").to_owned(),
                r["kind"].as_str().unwrap_or("").to_owned(),
                r["kgco2e"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    sql.sort();
    // The native engine's output as its table function returns it (24 decimal places).
    let batch = hotspot::items_batch(d, None).expect("items batch");
    let mut native: Vec<(i64, String, String, String)> = output::rows_json(&[batch])
        .iter()
        .map(|r| {
            (
                r["tier"].as_i64().unwrap_or(-1),
                r["footprint_id"].as_str().unwrap_or("").to_owned(),
                r["kind"].as_str().unwrap_or("").to_owned(),
                r["kgco2e"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    native.sort();
    assert_eq!(
        native, sql,
        "native and SQL engines disagree for {}",
        req.product
    );
}

/// A (cfp 10, g2g 2) ← 2 kg of B (cfp 3, g2g 1) ← 0.5 kg of C (cfp 4, g2g 4).
pub(crate) fn chain_tables() -> Tables {
    tables(
        &[
            fp("A", "10", Some("2")),
            fp("B", "3", Some("1")),
            fp("C", "4", Some("4")),
        ],
        &[("A", "B", "2", ""), ("B", "C", "0.5", "")],
    )
}

/// A (cfp 20, g2g 2) ← B ×1, C ×1, D ×1; B (cfp 5, g2g 1) ← D ×2; C (cfp 9, g2g 3) ← D ×3;
/// D (cfp 2, g2g 2).
pub(crate) fn diamond_tables() -> Tables {
    tables(
        &[
            fp("A", "20", Some("2")),
            fp("B", "5", Some("1")),
            fp("C", "9", Some("3")),
            fp("D", "2", Some("2")),
        ],
        &[
            ("A", "B", "1", ""),
            ("A", "C", "1", ""),
            ("A", "D", "1", ""),
            ("B", "D", "2", ""),
            ("C", "D", "3", ""),
        ],
    )
}

#[tokio::test]
async fn chain() {
    // A (cfp 10, g2g 2) ← 2 kg of B (cfp 3, g2g 1) ← 0.5 kg of C (cfp 4, g2g 4).
    // Tier 0, A: own 2; its suppliers explain 2·3 = 6, so untraced = 10 − 2 − 6 = 2.
    // Tier 1, B with x = 2: own 2·1 = 2; gap 3 − 1 − 0.5·4 = 0, so no item.
    // Tier 2, C with x = 2·0.5 = 1: own 1·4 = 4. Sum 2 + 2 + 2 + 4 = 10.
    let t = chain_tables();
    let d = run(&t, &Request::new(urn("A"))).await;
    assert_eq!(
        items(&d, &["A", "B", "C"]),
        expect(&[
            (0, "A", "own", "2"),
            (0, "A", "untraced", "2"),
            (1, "B", "own", "2"),
            (2, "C", "own", "4")
        ])
    );
    assert!(d.findings.is_empty(), "{:#?}", d.findings);
    // Own Gate-to-Gate items of product-based footprints: (2 + 2 + 4) / 10 = 80 %.
    assert!((d.quality.primary_data_coverage_pct - 80.0).abs() < 1e-9);
    assert!((d.quality.untraced_pct - 20.0).abs() < 1e-9);
}

#[tokio::test]
async fn diamond_with_a_shared_supplier_on_two_tiers() {
    // A (cfp 20, g2g 2) ← B ×1, C ×1, D ×1;  B (cfp 5, g2g 1) ← D ×2;  C (cfp 9, g2g 3) ← D ×3;
    // D (cfp 2, g2g 2).
    // A: suppliers 5 + 9 + 2 = 16, untraced 20 − 2 − 16 = 2.  B: 5 − 1 − 2·2 = 0.  C: 9 − 3 − 3·2 = 0.
    // Tier 1: B own 1, C own 3, D (x = 1) own 2.
    // Tier 2: D reached through B (x = 2) and C (x = 3): one item, x = 5, own 5·2 = 10.
    // Sum 2 + 2 + 1 + 3 + 2 + 10 = 20.
    let t = diamond_tables();
    let d = run(&t, &Request::new(urn("A"))).await;
    assert_eq!(
        items(&d, &["A", "B", "C", "D"]),
        expect(&[
            (0, "A", "own", "2"),
            (0, "A", "untraced", "2"),
            (1, "B", "own", "1"),
            (1, "C", "own", "3"),
            (1, "D", "own", "2"),
            (2, "D", "own", "10"),
        ])
    );
}

#[tokio::test]
async fn a_cycle_is_cut_at_the_tier_limit_and_reported() {
    // A (cfp 10, g2g 4) ← 0.5 of B;  B (cfp 12, g2g 6) ← 0.5 of A.
    // A: 10 − 4 − 0.5·12 = 0.  B: 12 − 6 − 0.5·10 = 1 untraced per unit of B.
    // max_tier 3: t0 A x=1 own 4; t1 B x=0.5 own 3, untraced 0.5; t2 A x=0.25 own 1;
    // t3 B x=0.125 own 0.75, untraced 0.125; t4 A x=0.0625 beyond_cutoff 0.625.
    // Sum 4 + 3 + 0.5 + 1 + 0.75 + 0.125 + 0.625 = 10.
    let t = tables(
        &[fp("A", "10", Some("4")), fp("B", "12", Some("6"))],
        &[("A", "B", "0.5", ""), ("B", "A", "0.5", "")],
    );
    let d = run(
        &t,
        &Request {
            max_tier: 3,
            ..Request::new(urn("A"))
        },
    )
    .await;
    assert_eq!(
        items(&d, &["A", "B"]),
        expect(&[
            (0, "A", "own", "4"),
            (1, "B", "own", "3"),
            (1, "B", "untraced", "0.5"),
            (2, "A", "own", "1"),
            (3, "B", "own", "0.75"),
            (3, "B", "untraced", "0.125"),
            (4, "A", "beyond_cutoff", "0.625"),
        ])
    );
    let cycles: Vec<_> = d.findings.iter().filter(|f| f.kind == "cycle").collect();
    assert_eq!(cycles.len(), 1, "{:#?}", d.findings);
    let mut on_cycle = cycles[0].footprint_ids.clone();
    on_cycle.sort();
    let mut expected = vec![id_of("A"), id_of("B")];
    expected.sort();
    assert_eq!(on_cycle, expected);
}

#[tokio::test]
async fn a_black_box_is_not_descended() {
    // A (cfp 10, g2g 3) ← 2 of B; B (cfp 2.5, no Gate-to-Gate) ← 1 of C (cfp 7, g2g 7).
    // A: 10 − 3 − 2·2.5 = 2 untraced. B is unresolved: 2·2.5 = 5, and C is never reached.
    // Sum 3 + 2 + 5 = 10.
    let t = tables(
        &[
            fp("A", "10", Some("3")),
            fp("B", "2.5", None),
            fp("C", "7", Some("7")),
        ],
        &[("A", "B", "2", ""), ("B", "C", "1", "")],
    );
    let d = run(&t, &Request::new(urn("A"))).await;
    assert_eq!(
        items(&d, &["A", "B", "C"]),
        expect(&[
            (0, "A", "own", "3"),
            (0, "A", "untraced", "2"),
            (1, "B", "unresolved", "5")
        ])
    );
    assert!((d.quality.unresolved_pct - 50.0).abs() < 1e-9);
}

#[tokio::test]
async fn a_mismatch_is_negative_and_reported_with_both_numbers() {
    // A (cfp 10, g2g 1) ← 1 of B (cfp 12, g2g 12): A reports 9 upstream, its supplier 12.
    // A: 10 − 1 − 12 = −3 (mismatch). B own 12. Sum 1 − 3 + 12 = 10.
    let t = tables(
        &[fp("A", "10", Some("1")), fp("B", "12", Some("12"))],
        &[("A", "B", "1", "")],
    );
    let d = run(&t, &Request::new(urn("A"))).await;
    assert_eq!(
        items(&d, &["A", "B"]),
        expect(&[
            (0, "A", "own", "1"),
            (0, "A", "mismatch", "-3"),
            (1, "B", "own", "12")
        ])
    );
    let m: Vec<_> = d.findings.iter().filter(|f| f.kind == "mismatch").collect();
    assert_eq!(m.len(), 1);
    assert!(
        // 12 − 9 = 3, the mismatch item's size.
        m[0].message.contains("add up to 12 kgCO2e")
            && m[0]
                .message
                .contains("3 more than the 9 it reports upstream"),
        "{}",
        m[0].message
    );
}

#[tokio::test]
async fn a_text_report_lists_the_largest_mismatch_first() {
    // R (cfp 100, g2g 95) ← 1 of A (cfp 10, g2g 1) ← 1 of C (cfp 90, g2g 90).
    // R reports 5 upstream, its supplier 10: 100 − 95 − 10 = −5 (mismatch, tier 0).
    // A reports 9 upstream, its supplier 90: 10 − 1 − 90 = −81 (mismatch, tier 1).
    // Sum 95 − 5 + 1 − 81 + 90 = 100.
    let t = tables(
        &[
            fp("R", "100", Some("95")),
            fp("A", "10", Some("1")),
            fp("C", "90", Some("90")),
        ],
        &[("R", "A", "1", ""), ("A", "C", "1", "")],
    );
    let d = run(&t, &Request::new(urn("R"))).await;
    assert_eq!(
        items(&d, &["R", "A", "C"]),
        expect(&[
            (0, "R", "mismatch", "-5"),
            (0, "R", "own", "95"),
            (1, "A", "mismatch", "-81"),
            (1, "A", "own", "1"),
            (2, "C", "own", "90")
        ])
    );
    let mut text = Vec::new();
    report::hotspot::write(&d, None, output::Format::Table, &mut text).expect("write");
    let text = String::from_utf8(text).expect("UTF-8");
    // The findings list A's mismatch (81 kgCO2e of the root's) before R's (5), whatever
    // order the engine found them in.
    let at = |name: &str| {
        let line = format!("[mismatch] {name} ({name} Co.)");
        text.lines()
            .position(|l| l.trim_start().starts_with(&line))
            .unwrap_or_else(|| panic!("no mismatch finding of {name} in\n{text}"))
    };
    assert!(at("A") < at("R"), "{text}");
}

#[tokio::test]
async fn units_convert_with_the_mass_per_declared_unit_or_the_edge_is_left_out() {
    // B is declared per litre at 0.8 kg per litre; A uses 2 kg of B, i.e. 2 / 0.8 = 2.5 l.
    // D is declared per kg, and A counts it in pieces: that cannot be converted, so the edge is
    // left out and D's 3 kgCO2e stay in A's untraced upstream.
    // A (cfp 18, g2g 5): suppliers 2.5·4 = 10 (D left out), untraced 18 − 5 − 10 = 3.
    // B at x = 2.5: own 2.5·4 = 10. Sum 5 + 3 + 10 = 18.
    let mut b = fp("B", "4", Some("4"));
    b["pcf"]["declaredUnit"] = json!("liter");
    b["pcf"]["productMassPerDeclaredUnit"] = json!("0.8");
    let t = tables(
        &[fp("A", "18", Some("5")), b, fp("D", "3", Some("3"))],
        &[("A", "B", "2", "kilogram"), ("A", "D", "1", "piece")],
    );
    let d = run(&t, &Request::new(urn("A"))).await;
    assert_eq!(
        items(&d, &["A", "B", "D"]),
        expect(&[
            (0, "A", "own", "5"),
            (0, "A", "untraced", "3"),
            (1, "B", "own", "10")
        ])
    );
    let unit: Vec<_> = d.findings.iter().filter(|f| f.kind == "unit").collect();
    assert_eq!(unit.len(), 1, "{:#?}", d.findings);
    assert!(unit[0].message.contains("in piece") && unit[0].message.contains("per kilogram"));
}

#[tokio::test]
async fn cut_offs_by_tier_and_by_share() {
    // A (cfp 100, g2g 50) ← 1 of B (cfp 45, g2g 40), 1 of D (cfp 5, g2g 5); B ← 1 of C (cfp 5, g2g 5).
    // Gaps are all zero: A 100 − 50 − 45 − 5, B 45 − 40 − 5.
    let docs = [
        fp("A", "100", Some("50")),
        fp("B", "45", Some("40")),
        fp("C", "5", Some("5")),
        fp("D", "5", Some("5")),
    ];
    let bom = [
        ("A", "B", "1", ""),
        ("A", "D", "1", ""),
        ("B", "C", "1", ""),
    ];
    let t = tables(&docs, &bom);
    let names = ["A", "B", "C", "D"];

    // max_tier 0: only A is expanded; B and D, reached on tier 1, are beyond the cut-off.
    let d = run(
        &t,
        &Request {
            max_tier: 0,
            ..Request::new(urn("A"))
        },
    )
    .await;
    assert_eq!(
        items(&d, &names),
        expect(&[
            (0, "A", "own", "50"),
            (1, "B", "beyond_cutoff", "45"),
            (1, "D", "beyond_cutoff", "5")
        ])
    );

    // min share 10 %: D (5 of 100) on tier 1 and C (1·5) on tier 2 are below 10 kgCO2e and
    // are not expanded: beyond-cutoff on their own tiers. Sum 50 + 40 + 5 + 5 = 100.
    let d = run(
        &t,
        &Request {
            min_share_pct: 10.0,
            ..Request::new(urn("A"))
        },
    )
    .await;
    assert_eq!(
        items(&d, &names),
        expect(&[
            (0, "A", "own", "50"),
            (1, "B", "own", "40"),
            (1, "D", "beyond_cutoff", "5"),
            (2, "C", "beyond_cutoff", "5"),
        ])
    );
}

#[tokio::test]
async fn including_biogenic_uses_the_other_totals() {
    // Excluding: A (10, g2g 4) ← 1 of B (6, g2g 6): untraced 0.
    // Including: A (8, biogenic g2g 3) ← 1 of B (5, biogenic g2g 5): untraced 8 − 3 − 5 = 0;
    // items own 3 and 5, sum 8.
    let mut a = fp("A", "10", Some("4"));
    a["pcf"]["pCfIncludingBiogenic"] = json!("8");
    a["extensions"][0]["data"]["gateToGate"]["gateToGateBiogenicCarbonContent"] = json!("3");
    let mut b = fp("B", "6", Some("6"));
    b["pcf"]["pCfIncludingBiogenic"] = json!("5");
    b["extensions"][0]["data"]["gateToGate"]["gateToGateBiogenicCarbonContent"] = json!("5");
    let t = tables(&[a, b], &[("A", "B", "1", "")]);
    let d = run(
        &t,
        &Request {
            basis: Basis::IncludingBiogenic,
            ..Request::new(urn("A"))
        },
    )
    .await;
    assert_eq!(kg(d.cfp_kgco2e_per_unit), "8");
    assert_eq!(
        items(&d, &["A", "B"]),
        expect(&[(0, "A", "own", "3"), (1, "B", "own", "5")])
    );
}

#[tokio::test]
async fn the_demo_pc_decomposes_to_tier_3_with_findings() {
    let t = mieruka::dataset::demo().expect("demo");
    let pc = "urn:mieruka-demo:product:kaede-note-14";
    let d = run(&t, &Request::new(pc)).await;
    // build.py: the FY2024 PC is 150.4727 kgCO2e per piece.
    assert_eq!(kg(d.cfp_kgco2e_per_unit), "150.4727");
    let tiers: std::collections::BTreeSet<u32> = d.items.iter().map(|i| i.tier).collect();
    assert_eq!(tiers.into_iter().collect::<Vec<_>>(), [0, 1, 2, 3]);
    assert!(
        d.items
            .iter()
            .any(|i| i.kind == hotspot::Kind::Untraced && i.kgco2e != 0)
    );
    let kinds: std::collections::BTreeSet<&str> = d.findings.iter().map(|f| f.kind).collect();
    for k in ["mismatch", "dangling", "unit", "older_reference_period"] {
        assert!(kinds.contains(k), "{k} missing from {kinds:?}");
    }
    // The adapter maker's mismatch: in build.py its FY2024 gap is −0.62 per adapter, written
    // with its cfp rounded to 4 places; one adapter per PC.
    let adapter = d
        .items
        .iter()
        .find(|i| i.kind == hotspot::Kind::Mismatch && i.product_id.ends_with("pearl-adp-65"))
        .expect("adapter mismatch");
    assert_eq!(kg(adapter.kgco2e), "-0.61998");

    // The FY2023 PC, analysed for its own period; the LED backlight has only FY2024 data.
    let d = run(
        &t,
        &Request {
            as_of: chrono::NaiveDate::from_ymd_opt(2023, 10, 1),
            ..Request::new(pc)
        },
    )
    .await;
    assert_eq!(kg(d.cfp_kgco2e_per_unit), "161.8707");
    assert!(
        d.findings
            .iter()
            .any(|f| f.kind == "newer_reference_period"),
        "{:#?}",
        d.findings
    );

    // Every tier limit and both bases agree between the engines too.
    for max_tier in [0, 1, 2] {
        run(
            &t,
            &Request {
                max_tier,
                ..Request::new(pc)
            },
        )
        .await;
    }
    run(
        &t,
        &Request {
            basis: Basis::IncludingBiogenic,
            ..Request::new(pc)
        },
    )
    .await;
}

/// Generator options for a chain of three roots with every kind of trouble: cycles (on even
/// seeds), footprints whose inputs exceed what they report, black boxes.
fn messy(seed: u64) -> mieruka::generator::GenOptions {
    mieruka::generator::GenOptions {
        seed,
        roots: Some(3),
        cycle_pct: if seed.is_multiple_of(2) { 10.0 } else { 0.0 },
        mismatch_pct: 10.0,
        black_box_pct: 10.0,
        ..mieruka::generator::GenOptions::default()
    }
}

/// A generated chain, written into a fresh directory named `name` and checked as an ingest
/// checks it.
pub(crate) fn generated(opts: &mieruka::generator::GenOptions, name: &str) -> ingest::Prepared {
    use mieruka::generator::{generate, write};
    let dir = crate::common::temp_dir(name);
    let s = write(&generate(opts).expect("gen"), &dir).expect("write");
    let sources: Vec<Source> = [s.footprints, s.bom]
        .iter()
        .flat_map(|p| Source::read_path(p).expect("read"))
        .collect();
    ingest::prepare(
        &Tables::default(),
        &sources,
        &IngestOptions::default(),
        &|_| {},
    )
    .expect("prepare")
}

#[tokio::test]
async fn generated_chains_sum_to_their_cfp_and_the_engines_agree() {
    use mieruka::generator::GenOptions;
    for seed in 1..=6 {
        let opts = GenOptions {
            nodes: 120,
            tiers: 4,
            fanout: 3,
            ..messy(seed)
        };
        let p = generated(&opts, &format!("hotspot-gen-{seed}"));
        assert_eq!(p.report.rejected, 0);
        let t = p.to_tables(1).expect("tables");
        for root in 0..3 {
            // Amounts have 3 decimals, so x on tier 5 has at most 15 places (the SQL engine keeps
            // 18) and items at most 21 (both engines output 24).
            let req = Request {
                max_tier: 4,
                ..Request::new(mieruka::generator::product_urn(seed, root))
            };
            let d = run(&t, &req).await;
            assert!(!d.items.is_empty());
            // Cut-offs by share and a shallow tier limit keep the identity too (native only:
            // the SQL engine does not take min_share_pct).
            for (max_tier, min_share_pct) in [(1, 0.0), (10, 1.0), (10, 5.0), (2, 0.5)] {
                run(
                    &t,
                    &Request {
                        max_tier,
                        min_share_pct,
                        ..req.clone()
                    },
                )
                .await;
            }
        }
    }
}

#[tokio::test]
async fn every_hotspot_query_answers_on_the_demo() {
    let t = mieruka::dataset::demo().expect("demo");
    let session = Session::new(&t).await.expect("session");
    let catalog = Catalog::embedded().expect("catalog");
    let product = (
        "product".to_owned(),
        "urn:mieruka-demo:product:kaede-note-14".to_owned(),
    );
    for q in catalog.iter().filter(|q| q.id.starts_with("hotspot/")) {
        let out = session
            .run(q, std::slice::from_ref(&product))
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", q.id));
        let rows = output::rows_json(&out.batches);
        assert!(!rows.is_empty(), "{}", q.id);
        insta::assert_json_snapshot!(q.id.replace('/', "__"), rows);
    }
}

#[tokio::test]
async fn pareto_shares_add_up_to_100() {
    let t = mieruka::dataset::demo().expect("demo");
    let session = Session::new(&t).await.expect("session");
    let catalog = Catalog::embedded().expect("catalog");
    let args = vec![
        (
            "product".to_owned(),
            "urn:mieruka-demo:product:kaede-note-14".to_owned(),
        ),
        ("n".to_owned(), "5".to_owned()),
    ];
    let out = session
        .run(catalog.get("hotspot/pareto").expect("q"), &args)
        .await
        .expect("run");
    let rows = output::rows_json(&out.batches);
    assert_eq!(rows.len(), 6, "top 5 and the rest");
    assert_eq!(rows[5]["product_name"], "(rest)");
    let last = rows[5]["cumulative_share_pct"].as_f64().expect("share");
    assert!((last - 100.0).abs() < 1e-9, "{last}");
    let total: rust_decimal::Decimal = rows
        .iter()
        .map(|r| {
            r["kgco2e"]
                .as_str()
                .unwrap_or("0")
                .parse::<rust_decimal::Decimal>()
                .unwrap_or_default()
        })
        .sum();
    assert_eq!(total.normalize().to_string(), "150.4727");
}

// Magnitudes: PACT's realistic range is CFPs from 10^-9 to 10^12 kgCO2e per declared unit and
// BOM amounts from 10^-9 to 10^9. The walk computes in integers at 24 decimal places, so every
// one of these sums exactly; beyond the range is an error naming the footprint, never a panic.

/// A machine of 1,500 t CO2e per piece, as an excavator or a transformer has: every item is
/// above 79,228 kg, where a 96-bit decimal at 24 places overflows.
fn machine() -> Tables {
    // T (cfp 1,500,000, g2g 250,000) ← 1 E (cfp 400,000, g2g 100,000), 4 W (cfp 50,000 each,
    // g2g 50,000), 1 C (cfp 300,000, g2g 300,000); E ← 20,000 kg of S (15 per kg, no G2G).
    // T: suppliers 400,000 + 4·50,000 + 300,000 = 900,000 of the 1,250,000 it reports
    //    upstream: untraced 350,000.  E: 100,000 + 20,000·15 = 400,000, consistent.
    // Items: T own 250,000, T untraced 350,000; E own 100,000, W own 200,000, C own 300,000;
    // S unresolved 20,000·15 = 300,000. Sum 1,500,000.
    tables(
        &[
            fp("T", "1500000", Some("250000")),
            fp("E", "400000", Some("100000")),
            fp("W", "50000", Some("50000")),
            fp("C", "300000", Some("300000")),
            fp("S", "15", None),
        ],
        &[
            ("T", "E", "1", ""),
            ("T", "W", "4", ""),
            ("T", "C", "1", ""),
            ("E", "S", "20000", ""),
        ],
    )
}

#[tokio::test]
async fn industrial_magnitudes_sum_exactly() {
    let d = run(&machine(), &Request::new(urn("T"))).await;
    assert_eq!(kg(d.cfp_kgco2e_per_unit), "1500000");
    assert_eq!(
        items(&d, &["T", "E", "W", "C", "S"]),
        expect(&[
            (0, "T", "own", "250000"),
            (0, "T", "untraced", "350000"),
            (1, "C", "own", "300000"),
            (1, "E", "own", "100000"),
            (1, "W", "own", "200000"),
            (2, "S", "unresolved", "300000"),
        ])
    );
}

#[tokio::test]
async fn huge_and_tiny_magnitudes_sum_exactly() {
    // 10^12 kg: P (g2g 4·10^11) ← 3 of Q (cfp = g2g = 2·10^11). P is consistent:
    // 4·10^11 + 3·2·10^11 = 10^12. Items: P own 4·10^11, Q own 6·10^11.
    let t = tables(
        &[
            fp("P", "1000000000000", Some("400000000000")),
            fp("Q", "200000000000", Some("200000000000")),
        ],
        &[("P", "Q", "3", "")],
    );
    let d = run(&t, &Request::new(urn("P"))).await;
    assert_eq!(
        items(&d, &["P", "Q"]),
        expect(&[
            (0, "P", "own", "400000000000"),
            (1, "Q", "own", "600000000000")
        ])
    );

    // 10^-9 kg: A (cfp 3·10^-9, g2g 10^-9) ← 2 of B (cfp = g2g = 10^-9): A own 10^-9,
    // B own 2·10^-9. And a 10^-9 amount: F (cfp 2·10^-9, g2g 10^-9) ← 10^-9 of G (cfp = g2g
    // = 1): G's share is 10^-9 · 1 = 10^-9.
    let t = tables(
        &[
            fp("A", "0.000000003", Some("0.000000001")),
            fp("B", "0.000000001", Some("0.000000001")),
            fp("F", "0.000000002", Some("0.000000001")),
            fp("G", "1", Some("1")),
        ],
        &[("A", "B", "2", ""), ("F", "G", "0.000000001", "")],
    );
    let d = run(&t, &Request::new(urn("A"))).await;
    assert_eq!(
        items(&d, &["A", "B"]),
        expect(&[
            (0, "A", "own", "0.000000001"),
            (1, "B", "own", "0.000000002")
        ])
    );
    let d = run(&t, &Request::new(urn("F"))).await;
    assert_eq!(
        items(&d, &["F", "G"]),
        expect(&[
            (0, "F", "own", "0.000000001"),
            (1, "G", "own", "0.000000001")
        ])
    );
}

#[tokio::test]
async fn a_third_rounds_once_and_the_residue_is_kept() {
    // P (per litre, cfp 2, g2g 1) uses 1 kg of Q, declared per litre of 3 kg: 1/3 litre,
    // kept as 0.333333333333 (12 places, like every stored amount). Q (cfp = g2g = 3) at
    // x = 0.333333333333: own 0.999999999999. P's suppliers then explain 0.999999999999 of
    // its upstream 1, so 0.000000000001 stays untraced. Sum 1 + 0.999999999999 + 10^-12 = 2.
    let mut p = fp("P", "2", Some("1"));
    p["pcf"]["declaredUnit"] = json!("liter");
    let mut q = fp("Q", "3", Some("3"));
    q["pcf"]["declaredUnit"] = json!("liter");
    q["pcf"]["productMassPerDeclaredUnit"] = json!("3");
    let t = tables(&[p, q], &[("P", "Q", "1", "kilogram")]);
    let d = run(&t, &Request::new(urn("P"))).await;
    assert_eq!(
        items(&d, &["P", "Q"]),
        expect(&[
            (0, "P", "own", "1"),
            (0, "P", "untraced", "0.000000000001"),
            (1, "Q", "own", "0.999999999999"),
        ])
    );
}

#[tokio::test]
async fn beyond_the_range_is_an_error_naming_the_footprint() {
    // 10^15 kg per unit is stored (below the 10^16 ingest limit) but beyond the walk's range
    // at 24 places (±1.7·10^14 kg).
    let t = tables(&[fp("X", "1000000000000000", Some("1"))], &[]);
    let session = Session::new(&t).await.expect("session");
    let e = hotspot::decompose(&session.graph().expect("graph"), &Request::new(urn("X")))
        .expect_err("out of range");
    assert!(matches!(e, mieruka::Error::OutOfRange { .. }), "{e:?}");
    assert!(e.to_string().contains(&id_of("X")), "{e}");

    // Quantities multiply along the chain: 10^9 of M per R, 10^9 of N per M is 10^18 units of
    // N per R, beyond the quantity range. M is the footprint whose step overflows.
    let t = tables(
        &[
            fp("R", "2", Some("1")),
            fp("M", "0.000000001", Some("0")),
            fp("N", "0.000000000001", Some("0.000000000001")),
        ],
        &[("R", "M", "1000000000", ""), ("M", "N", "1000000000", "")],
    );
    let session = Session::new(&t).await.expect("session");
    let e = hotspot::decompose(&session.graph().expect("graph"), &Request::new(urn("R")))
        .expect_err("out of range");
    assert!(e.to_string().contains(&id_of("M")), "{e}");
    // The SQL function says the same instead of failing the process.
    let e = session
        .sql(&format!(
            "SELECT * FROM hotspot_items('{}', 10, 0, 'excluding_biogenic', '')",
            urn("R")
        ))
        .await
        .expect_err("out of range in SQL");
    assert!(e.to_string().contains(&id_of("M")), "{e}");
}

#[test]
fn a_walk_after_one_that_failed_on_the_same_thread_answers_as_on_a_fresh_one() {
    // A thread keeps a walk's lists for the next; R's walk fails at M (10^18 units of N per
    // R, as above) after R's tier has filled them. G's walk on that thread must give what it
    // gives on a thread that never walked: G's own 1 and H's 2 × 0.5 kg per unit of G.
    use mieruka::hotspot::{Graph, Limits, walk};
    let t = tables(
        &[
            fp("R", "2", Some("1")),
            fp("M", "0.000000001", Some("0")),
            fp("N", "0.000000000001", Some("0.000000000001")),
            fp("G", "2", Some("1")),
            fp("H", "0.5", Some("0.5")),
        ],
        &[
            ("R", "M", "1000000000", ""),
            ("M", "N", "1000000000", ""),
            ("G", "H", "2", ""),
        ],
    );
    let graph = std::sync::Arc::new(Graph::from_tables(&t).expect("graph"));
    let limits = Limits {
        max_tier: 10,
        min_share_pct: 0.0,
    };
    let items = |name: &str| {
        let (node, date) = graph.root(&urn(name), None).expect("root");
        walk(
            &graph,
            &graph.resolve_for(date, node),
            Basis::default(),
            node,
            limits,
        )
    };
    let fresh =
        std::thread::scope(|s| s.spawn(|| items("G")).join().expect("thread")).expect("G walks");
    assert_eq!(fresh.len(), 2, "{fresh:?}");
    let values: i128 = fresh.iter().map(|i| i.value).sum();
    assert_eq!(
        values,
        2 * mieruka::model::fixed::pow10(mieruka::hotspot::VALUE_SCALE),
        "{fresh:?}"
    );
    let e = items("R").expect_err("R is out of range");
    assert!(e.to_string().contains(&id_of("M")), "{e}");
    assert_eq!(items("G").expect("G walks"), fresh);
}

#[tokio::test]
async fn the_sql_function_and_the_api_answer_at_industrial_magnitude() {
    let t = machine();
    let session = Session::new(&t).await.expect("session");
    let out = session
        .sql(&format!(
            "SELECT sum(kgco2e) AS total, max(kgco2e) AS largest FROM hotspot_items('{}', 10, 0, 'excluding_biogenic', '')",
            urn("T")
        ))
        .await
        .expect("sql");
    let rows = output::rows_json(&out.batches);
    // The items above: they sum to the CFP, the largest is T's untraced 350,000.
    assert_eq!(rows[0]["total"], "1500000");
    assert_eq!(rows[0]["largest"], "350000");

    let app = mieruka::server::router(
        mieruka::server::AppState::new(t, None, None)
            .await
            .expect("state"),
    );
    for (query, rest) in [
        // Six items; the top 5 leave E's own 100,000.
        ("top=5", "100000"),
        // Per supplier: T 600,000, C 300,000, S 300,000, W 200,000, E 100,000; top 2 leaves
        // 300,000 + 200,000 + 100,000 (C or S, whichever sorts second, plus W and E).
        ("by=supplier&top=2", "600000"),
    ] {
        let uri = format!(
            "/api/hotspots?product={}&{query}",
            urn("T").replace(':', "%3A")
        );
        let v = api_json(&app, &uri).await;
        assert_eq!(v["cfp_kgco2e_per_unit"], "1500000", "{uri}");
        let items = v["items"].as_array().expect("items");
        let last = items.last().expect("rest row");
        assert_eq!(last["kgco2e"], rest, "{uri}: {last}");
        let total: f64 = items
            .iter()
            .map(|i| i["share_pct"].as_f64().unwrap_or(f64::NAN))
            .sum();
        assert!((total - 100.0).abs() < 1e-9, "{uri}: shares add to {total}");
    }
}

#[test]
fn the_cli_answers_at_industrial_and_out_of_range_magnitudes() {
    let dir = crate::common::temp_dir("hotspot-cli-magnitudes");
    // The machine of `machine()`, plus X at 10^15 kg (stored, beyond the walk's range).
    let docs = [
        fp("T", "1500000", Some("250000")),
        fp("E", "400000", Some("100000")),
        fp("W", "50000", Some("50000")),
        fp("C", "300000", Some("300000")),
        fp("S", "15", None),
        fp("X", "1000000000000000", Some("1")),
        // The tiny chain of `huge_and_tiny_magnitudes_sum_exactly`: 3·10^-9 kg.
        fp("A", "0.000000003", Some("0.000000001")),
        fp("B", "0.000000001", Some("0.000000001")),
    ];
    let ndjson: String = docs.iter().map(|d| format!("{d}\n")).collect();
    std::fs::write(dir.join("fp.ndjson"), ndjson).expect("write");
    let mut csv = String::from("parent_product_id,child_product_id,amount,unit\n");
    for (p, c, a) in [
        ("T", "E", "1"),
        ("T", "W", "4"),
        ("T", "C", "1"),
        ("E", "S", "20000"),
        ("A", "B", "2"),
    ] {
        csv.push_str(&format!("{},{},{a},\n", urn(p), urn(c)));
    }
    std::fs::write(dir.join("bom.csv"), csv).expect("write");
    let mieruka = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_mieruka"))
            .env_remove("MIERUKA_DATA")
            .args(args)
            .arg("--data")
            .arg(dir.join("data"))
            .output()
            .expect("run");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let fp_file = dir.join("fp.ndjson").display().to_string();
    let bom_file = dir.join("bom.csv").display().to_string();
    let (code, _, err) = mieruka(&["ingest", &fp_file, &bom_file]);
    assert_eq!(code, Some(0), "{err}");

    let t = urn("T");
    for (args, rest) in [
        // Six items; the top 5 leave E's own 100,000 (see `machine()`).
        (vec!["--top", "5"], "100000"),
        // Five suppliers: T 600,000, C 300,000, S 300,000, W 200,000, E 100,000; the top 4
        // leave E's 100,000.
        (vec!["--by", "supplier", "--top", "4"], "100000"),
    ] {
        let mut all = vec!["hotspots", "--product", &t, "--format", "json"];
        all.extend(args.iter().copied());
        let (code, out, err) = mieruka(&all);
        assert_eq!(code, Some(0), "{all:?}: {err}");
        let v: Value = serde_json::from_str(&out).expect("json");
        assert_eq!(v["cfp_kgco2e_per_unit"], "1500000");
        let items = v["items"].as_array().expect("items");
        assert_eq!(items.last().expect("rest")["kgco2e"], rest, "{all:?}");
    }
    // The text report too (it used to print the items through a 96-bit decimal).
    let (code, out, err) = mieruka(&["hotspots", "--product", &t, "--top", "5"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("CFP 1500000 kgCO2e"), "{out}");

    let (code, out, err) = mieruka(&["hotspots", "--product", &urn("A"), "--format", "json"]);
    assert_eq!(code, Some(0), "{err}");
    let v: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["cfp_kgco2e_per_unit"], "0.000000003");
    let tiny: Vec<&str> = v["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["kgco2e"].as_str())
        .collect();
    assert_eq!(tiny, ["0.000000001", "0.000000002"]);

    let (code, _, err) = mieruka(&["hotspots", "--product", &urn("X")]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains(&id_of("X")) && err.contains("10^14"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[tokio::test]
async fn the_sql_function_and_the_api_answer_at_huge_and_tiny_magnitudes() {
    // The two chains of `huge_and_tiny_magnitudes_sum_exactly`, in one dataset: P = 10^12 kg
    // (own 4·10^11, Q own 6·10^11) and A = 3·10^-9 kg (own 10^-9, B own 2·10^-9).
    let t = tables(
        &[
            fp("P", "1000000000000", Some("400000000000")),
            fp("Q", "200000000000", Some("200000000000")),
            fp("A", "0.000000003", Some("0.000000001")),
            fp("B", "0.000000001", Some("0.000000001")),
        ],
        &[("P", "Q", "3", ""), ("A", "B", "2", "")],
    );
    let session = Session::new(&t).await.expect("session");
    for (root, total, largest) in [
        ("P", "1000000000000", "600000000000"),
        ("A", "0.000000003", "0.000000002"),
    ] {
        let out = session
            .sql(&format!(
                "SELECT sum(kgco2e) AS total, max(kgco2e) AS largest FROM hotspot_items('{}', 10, 0, 'excluding_biogenic', '')",
                urn(root)
            ))
            .await
            .expect("sql");
        let rows = output::rows_json(&out.batches);
        assert_eq!(rows[0]["total"], total, "{root}");
        assert_eq!(rows[0]["largest"], largest, "{root}");
    }
    let app = mieruka::server::router(
        mieruka::server::AppState::new(t, None, None)
            .await
            .expect("state"),
    );
    for (root, cfp, first) in [
        ("P", "1000000000000", "400000000000"),
        ("A", "0.000000003", "0.000000001"),
    ] {
        let uri = format!("/api/hotspots?product={}", urn(root).replace(':', "%3A"));
        let v = api_json(&app, &uri).await;
        assert_eq!(v["cfp_kgco2e_per_unit"], cfp, "{uri}");
        // Items by tier: the root's own item first.
        assert_eq!(v["items"][0]["kgco2e"], first, "{uri}");
    }
}

/// `GET uri` on `app`: 200 and its JSON body.
async fn api_json(app: &axum::Router, uri: &str) -> Value {
    let resp = tower::ServiceExt::oneshot(
        app.clone(),
        axum::http::Request::get(uri)
            .body(axum::body::Body::empty())
            .expect("request"),
    )
    .await
    .expect("infallible");
    assert_eq!(resp.status(), 200, "{uri}");
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .expect("body");
    serde_json::from_slice(&body).expect("json")
}

#[test]
fn a_tier_split_between_threads_gives_the_same_items_in_the_same_order() {
    // Large tiers are expanded in two halves on two threads and joined. Splitting every tier
    // (split at 1 node) must give exactly the items of one thread (split never), in order:
    // the order decides the next tier's order and the quality's f64 sums. Chains with shared
    // suppliers (one node reached from both halves), cycles, mismatches and black boxes.
    use mieruka::generator::GenOptions;
    use mieruka::hotspot::{Graph, Limits, walk_split};
    // Walks with more than 50 items (a black-box root has one).
    let mut large = 0;
    for seed in 1..=4 {
        let opts = GenOptions {
            nodes: 400,
            tiers: 5,
            fanout: 4,
            seed,
            roots: Some(2),
            skip_pct: 20.0,
            cycle_pct: if seed % 2 == 0 { 10.0 } else { 0.0 },
            mismatch_pct: 10.0,
            black_box_pct: 10.0,
            ..GenOptions::default()
        };
        let p = generated(&opts, &format!("hotspot-split-{seed}"));
        let graph = std::sync::Arc::new(
            Graph::from_tables(&p.to_tables(1).expect("tables")).expect("graph"),
        );
        for root in 0..2 {
            let (node, date) = graph
                .root(&mieruka::generator::product_urn(seed, root), None)
                .expect("root");
            let resolved = graph.resolve_for(date, node);
            for (max_tier, min_share_pct) in [(10, 0.0), (2, 0.0), (10, 1.0)] {
                let limits = Limits {
                    max_tier,
                    min_share_pct,
                };
                let one = |split| {
                    walk_split(&graph, &resolved, Basis::default(), node, limits, split)
                        .expect("walk")
                };
                let (whole, split) = (one(usize::MAX), one(1));
                large += usize::from(whole.len() > 50);
                assert_eq!(whole, split, "seed {seed} root {root} tier {max_tier}");
                assert_eq!(whole, one(3), "seed {seed} root {root} tier {max_tier}");
            }
        }
    }
    assert!(large >= 12, "{large} large walks");
}

#[test]
fn questions_give_the_same_answers_before_and_after_the_whole_graph_is_kept() {
    // A root's first question resolves the part it reaches, kept for the questions about it;
    // a question about another root of the same date starts resolving the whole graph on
    // another thread, and the questions after that use it. Every answer must be the same
    // whichever resolution gave it: cycles, mismatches and black boxes included.
    use mieruka::generator::GenOptions;
    use mieruka::hotspot::Graph;
    use std::sync::Arc;
    for seed in [3, 4] {
        let opts = GenOptions {
            nodes: 400,
            tiers: 5,
            fanout: 4,
            ..messy(seed)
        };
        let p = generated(&opts, &format!("hotspot-kept-{seed}"));
        let graph = Arc::new(Graph::from_tables(&p.to_tables(1).expect("tables")).expect("graph"));
        let requests: Vec<Request> = (0..3)
            .map(|root| Request::new(mieruka::generator::product_urn(seed, root)))
            .collect();
        let (_, date) = graph.root(&requests[0].product, None).expect("root");
        for r in &requests {
            let (_, d) = graph.root(&r.product, None).expect("root");
            assert_eq!(d, date, "the generated roots share one reference period");
        }
        let ask = |r: &Request| hotspot::decompose(&graph, r).expect("decompose");

        // One root, asked twice: its part is kept, the whole graph is not resolved.
        let first = ask(&requests[0]);
        assert_eq!(ask(&requests[0]), first, "seed {seed}: the kept part");
        assert!(
            !graph.keeps_whole(date),
            "seed {seed}: one root needs no whole graph"
        );

        // Other roots: the whole graph is resolved aside while they are answered from parts.
        let parts: Vec<Decomposition> = requests.iter().map(ask).collect();
        assert_eq!(parts[0], first);
        let waited = std::time::Instant::now();
        while !graph.keeps_whole(date) {
            assert!(
                waited.elapsed() < std::time::Duration::from_secs(60),
                "seed {seed}: the whole graph was not kept within a minute"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        for (r, part) in requests.iter().zip(&parts) {
            assert!(!part.items.is_empty());
            assert_eq!(
                &ask(r),
                part,
                "seed {seed}: {} from the whole graph",
                r.product
            );
        }
    }
}

#[tokio::test]
async fn the_json_answer_is_laid_out_as_serde_json_lays_out_the_contract() {
    // The items of a JSON answer are written straight as bytes; the text must be what
    // serde_json gives for the same contract (objects with keys in alphabetical order), pretty
    // and compact: names that need escaping (quote, backslash, new line, tab, a control
    // character), Japanese text, an input without a country, findings (A's input exceeds
    // what it reports: 12 > 10 − 1) and the demo PC.
    let mut a = fp("A", "10", Some("1"));
    a["productNameCompany"] = json!("部品 A \"引用\" \\ back\nline\ttab\u{1}");
    a["companyName"] = json!("Ａ社 \"quoted\"");
    let mut b = fp("B", "12", Some("12"));
    for k in [
        "geographyCountry",
        "geographyRegionOrSubregion",
        "geographyCountrySubdivision",
    ] {
        if let Some(pcf) = b["pcf"].as_object_mut() {
            pcf.remove(k);
        }
    }
    let t = tables(&[a, b], &[("A", "B", "1", "")]);
    let custom = run(&t, &Request::new(urn("A"))).await;
    let demo = mieruka::dataset::demo().expect("demo");
    let pc = run(
        &demo,
        &Request::new("urn:mieruka-demo:product:kaede-note-14"),
    )
    .await;
    for d in [&custom, &pc] {
        let items: Vec<Value> = d
            .items
            .iter()
            .map(|i| {
                json!({
                    "company_id": i.company_id,
                    "company_name": i.company_name,
                    "country_code": i.country,
                    "cpc": i.cpc,
                    "footprint_id": i.footprint_id,
                    "kgco2e": kg(i.kgco2e),
                    "kind": i.kind.as_str(),
                    "product_id": i.product_id,
                    "product_name": i.product_name,
                    "share_pct": i.share_pct,
                    "tier": i.tier,
                })
            })
            .collect();
        let contract = json!({
            "as_of": d.as_of,
            "basis": d.basis.as_str(),
            "certificate_kgco2e_per_unit": d.certificate_kgco2e_per_unit.map(|c| fixed::format(c, 12)),
            "cfp_kgco2e_per_unit": kg(d.cfp_kgco2e_per_unit),
            "findings": d.findings,
            "items": items,
            "product": d.product,
            "quality": d.quality,
        });
        let pretty = report::hotspot::to_json(d, None, true);
        let compact = report::hotspot::to_json(d, None, false);
        let show = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        assert_eq!(
            show(&pretty),
            show(&serde_json::to_vec_pretty(&contract).expect("json"))
        );
        assert_eq!(
            show(&compact),
            show(&serde_json::to_vec(&contract).expect("json"))
        );
        // What the CLI writes: the pretty text and a new line.
        let mut written = Vec::new();
        report::hotspot::write(d, None, output::Format::Json, &mut written).expect("write");
        assert_eq!(written, [pretty, b"\n".to_vec()].concat());
    }
    assert!(
        custom.items.iter().any(|i| i.country.is_none()),
        "an item without a country"
    );
    assert!(
        !custom.findings.is_empty(),
        "A's input exceeds what it reports"
    );
}

#[tokio::test]
async fn data_gaps_are_ranked_by_the_share_they_concern() {
    // R (cfp 10, g2g 2) ← 1 kg of A (cfp 5, g2g 1) and 1 kg of B (cfp 2, no Gate-to-Gate);
    // A ← 1 kg of C (cfp 3, g2g 3, organization-based: GxD calcMethod "1") and an input X
    // that has no footprint at all.
    // Items: R own 2, R untraced 10 − 2 − (5 + 2) = 1; A own 1, A untraced 5 − 1 − 3 = 1
    // (X's share is in it); C own 3; B unresolved 2. Sum 10.
    // Gaps: C organization-based 3 (30 %), B unresolved 2 (20 %), R and A untraced 1 each
    // (10 %), X dangling in A's untraced 1 (10 %); ties by kind, then footprint id.
    let mut c = fp("C", "3", Some("3"));
    c["extensions"][0]["data"]["calcMethod"] = json!("1");
    let t = tables(
        &[
            fp("R", "10", Some("2")),
            fp("A", "5", Some("1")),
            fp("B", "2", None),
            c,
        ],
        &[
            ("R", "A", "1", ""),
            ("R", "B", "1", ""),
            ("A", "C", "1", ""),
            ("A", "X", "1", ""),
        ],
    );
    let d = run(&t, &Request::new(urn("R"))).await;
    let gaps = hotspot::gaps(&d, None);
    assert_eq!(hotspot::gaps(&d, Some(2)), gaps[..2]);
    let name = |id: &str| {
        ["R", "A", "B", "C"]
            .into_iter()
            .find(|n| id_of(n) == id)
            .unwrap_or("?")
    };
    let got: Vec<(&str, &str, String, String, Option<&str>)> = gaps
        .iter()
        .map(|g| {
            (
                g.kind.as_str(),
                name(&g.footprint_id),
                kg(g.kgco2e),
                format!("{:.1}", g.share_pct),
                g.input.as_deref(),
            )
        })
        .collect();
    let mut untraced = [("untraced", "R"), ("untraced", "A")];
    untraced.sort_by_key(|(_, n)| id_of(n));
    let x = urn("X");
    let want: Vec<(&str, &str, String, String, Option<&str>)> = [
        ("organization_based", "C", "3", "30.0", None),
        ("unresolved", "B", "2", "20.0", None),
        (untraced[0].0, untraced[0].1, "1", "10.0", None),
        (untraced[1].0, untraced[1].1, "1", "10.0", None),
        ("dangling_input", "A", "1", "10.0", Some(x.as_str())),
    ]
    .into_iter()
    .map(|(k, n, v, s, i)| (k, n, v.to_owned(), s.to_owned(), i))
    .collect();
    assert_eq!(got, want);
    // Each names whom to ask: the footprint's data owner.
    assert!(
        gaps.iter()
            .all(|g| g.company_name == format!("{} Co.", name(&g.footprint_id)))
    );
    let batch = hotspot::gaps_batch(&gaps).expect("batch");
    assert_eq!(batch.num_rows(), 5);
}
