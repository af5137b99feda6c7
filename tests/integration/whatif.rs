//! What-if scenarios: hand-worked cases on a small chain (the arithmetic in comments), the
//! errors that name the change, and the demo's display-supplier example.
//!
//! The chain (per kilogram):
//! R (cfp 11, g2g 2) ← A ×2, B ×1, D ×4 (D has no footprint: left out)
//! A (cfp 3, g2g 1) ← C ×0.5
//! B (cfp 2, no Gate-to-Gate: a black box)
//! C (cfp 2, g2g 2)
//! As stored, R's items: R own 2, R untraced 11 − 2 − (2·3 + 1·2) = 1; A own 2·1 = 2,
//! A untraced 2·(3 − 1 − 0.5·2) = 2; C own 2·0.5·2 = 2; B unresolved 2·… = 2. Sum 11.

use mieruka::hotspot::scenario::Scenario;
use mieruka::hotspot::{Request, VALUE_SCALE};
use mieruka::model::fixed;
use mieruka::query::Session;
use mieruka::query::whatif::WhatIf;
use mieruka::table::Tables;

use crate::hotspot::{fp, tables, urn};

fn chain() -> Tables {
    tables(
        &[
            fp("R", "11", Some("2")),
            fp("A", "3", Some("1")),
            fp("B", "2", None),
            fp("C", "2", Some("2")),
        ],
        &[
            ("R", "A", "2", ""),
            ("R", "B", "1", ""),
            ("R", "D", "4", ""),
            ("A", "C", "0.5", ""),
        ],
    )
}

/// kgCO2e at the engine's 24 places.
fn kg(s: &str) -> i128 {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let neg = int.starts_with('-');
    let digits = format!("{}{frac:0<24}", int.trim_start_matches('-'));
    let v: i128 = digits.parse().expect("digits");
    if neg { -v } else { v }
}

/// The scenario (TOML changes, `[[changes]]` tables) applied to R.
async fn whatif(t: &Tables, changes: &str) -> mieruka::Result<WhatIf> {
    let session = Session::new(t).await.expect("session");
    let s = Scenario::from_toml("test", &format!("name = \"test\"\n{changes}"))?;
    session.whatif(&Request::new(urn("R")), &s, None)
}

async fn ok(t: &Tables, changes: &str) -> WhatIf {
    whatif(t, changes)
        .await
        .unwrap_or_else(|e| panic!("{changes}: {e}"))
}

/// The change of footprint `name`'s items, before → after.
fn footprint(w: &WhatIf, name: &str) -> (i128, i128) {
    w.footprints
        .iter()
        .find(|r| r.name == name)
        .map(|r| (r.kgco2e.before, r.kgco2e.after))
        .unwrap_or_else(|| panic!("{name} not among {:?}", w.footprints))
}

/// The scenario's items add up to its CFP, and the stored ones to the stored CFP, exactly,
/// by tier; the changes of the suppliers and of the footprints that change add up to the
/// CFP's change.
fn sums_hold(w: &WhatIf) {
    let after: i128 = w.tiers.iter().map(|r| r.kgco2e.after).sum();
    let before: i128 = w.tiers.iter().map(|r| r.kgco2e.before).sum();
    assert_eq!(after, w.cfp.after, "{:?}", w.tiers);
    assert_eq!(before, w.cfp.before, "{:?}", w.tiers);
    for rows in [&w.suppliers, &w.footprints] {
        let change: i128 = rows.iter().map(|r| r.kgco2e.change()).sum();
        assert_eq!(change, w.cfp.change(), "{rows:?}");
        assert!(rows.iter().all(|r| r.kgco2e.change() != 0), "{rows:?}");
    }
}

#[tokio::test]
async fn reduce_moves_the_footprint_and_everything_above_it() {
    let t = chain();
    // A's Gate-to-Gate halves: 1 → 0.5, its CFP 3 → 2.5; R moves by 2 × (2.5 − 3) = −1.
    let w = ok(
        &t,
        r#"[[changes]]
kind = "reduce"
footprint = "urn:test:A"
pct = 50"#,
    )
    .await;
    assert_eq!((w.cfp.before, w.cfp.after), (kg("11"), kg("10")));
    // A's items: own 2 → 1; its untraced 2 stays (its remainder per kilogram is kept).
    assert_eq!(footprint(&w, "A"), (kg("4"), kg("3")));
    assert_eq!(w.footprints.len(), 1, "{:?}", w.footprints);
    // A and R were recomputed, nothing else.
    assert_eq!(w.recomputed, 2);
    sums_hold(&w);

    // A black box's CFP: B 2 → 1.8, R 11 → 10.8.
    let w = ok(
        &t,
        r#"[[changes]]
kind = "reduce"
footprint = "urn:test:B"
pct = 10
of = "cfp""#,
    )
    .await;
    assert_eq!(w.cfp.after, kg("10.8"));
    assert_eq!(footprint(&w, "B"), (kg("2"), kg("1.8")));
    sums_hold(&w);
}

#[tokio::test]
async fn scale_changes_what_flows_down_the_edge() {
    let t = chain();
    // R takes 3 kg of A instead of 2: R 11 + (3 − 2) × 3 = 14; A's items 4 → 6, C's 2 → 3.
    let w = ok(
        &t,
        r#"[[changes]]
kind = "scale"
input = "urn:test:A"
factor = 1.5"#,
    )
    .await;
    assert_eq!(w.cfp.after, kg("14"));
    assert_eq!(footprint(&w, "A"), (kg("4"), kg("6")));
    assert_eq!(footprint(&w, "C"), (kg("2"), kg("3")));
    sums_hold(&w);

    // None of A: R 11 − 2 × 3 = 5; A and C are gone.
    let w = ok(
        &t,
        r#"[[changes]]
kind = "scale"
input = "urn:test:A"
amount = 0"#,
    )
    .await;
    assert_eq!(w.cfp.after, kg("5"));
    assert_eq!(footprint(&w, "C"), (kg("2"), 0));
    sums_hold(&w);

    // A third (0.333333333333, 12 places): 2 × it = 0.666666666666 kg of A, R's inputs
    // 0.666666666666 × 3 + 2 = 3.999999999998 against 8: R = 11 − 4.000000000002.
    let w = ok(
        &t,
        r#"[[changes]]
kind = "scale"
input = "urn:test:A"
factor = 0.333333333333"#,
    )
    .await;
    assert_eq!(w.cfp.after, kg("6.999999999998"));
    sums_hold(&w);
}

#[tokio::test]
async fn replace_takes_another_footprint_or_one_given() {
    let t = chain();
    // B (2) replaced by a footprint given in the scenario (1.5, of which 0.5 Gate-to-Gate):
    // R 11 − 2 + 1.5 = 10.5; the new supplier shows under its change's number.
    let w = ok(
        &t,
        r#"[[changes]]
kind = "replace"
input = "urn:test:B"
footprint = { cfp = 1.5, g2g = 0.5, company = "E Co." }"#,
    )
    .await;
    assert_eq!(w.cfp.after, kg("10.5"));
    // Two suppliers change (E +1.5, B −2): asked for the largest one, the other is the rest.
    let session = Session::new(&t).await.expect("session");
    let s = Scenario::from_toml(
        "test",
        "name = \"t\"\n[[changes]]\nkind = \"replace\"\ninput = \"urn:test:B\"\nfootprint = { cfp = 1.5, g2g = 0.5, company = \"E Co.\" }",
    )
    .expect("scenario");
    let cut = session
        .whatif(&Request::new(urn("R")), &s, Some(1))
        .expect("whatif");
    let names: Vec<&str> = cut.suppliers.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["B Co.", "(rest)"]);
    assert_eq!(cut.suppliers[1].kgco2e.change(), kg("1.5"));
    sums_hold(&cut);
    let e = w
        .suppliers
        .iter()
        .find(|r| r.name == "[1] E Co.")
        .expect("E");
    assert_eq!((e.kgco2e.before, e.kgco2e.after), (0, kg("1.5")));
    let b = w.suppliers.iter().find(|r| r.name == "B Co.").expect("B");
    assert_eq!((b.kgco2e.before, b.kgco2e.after), (kg("2"), 0));
    sums_hold(&w);

    // B replaced by C, a footprint in the data (2 per kg, as B): R stays 11; C's items
    // 2 (through A) + 1 × 2 (in B's place) = 4.
    let w = ok(
        &t,
        r#"[[changes]]
kind = "replace"
input = "urn:test:B"
with = "urn:test:C""#,
    )
    .await;
    assert_eq!(w.cfp.after, kg("11"));
    assert_eq!(footprint(&w, "C"), (kg("2"), kg("4")));
    sums_hold(&w);
}

#[tokio::test]
async fn an_estimate_explains_untraced_upstream_and_keeps_the_cfp() {
    let t = chain();
    // D (4 kg per kg of R) estimated at 0.25: 1 kgCO2e, exactly R's untraced 1. R's CFP
    // stays 11; R's items 3 → 2; the estimate's 1 is one item.
    let w = ok(
        &t,
        r#"[[changes]]
kind = "estimate"
input = "urn:test:D"
footprint = { cfp = 0.25, technological_dqr = 3 }"#,
    )
    .await;
    assert_eq!(w.cfp.after, kg("11"));
    assert_eq!(footprint(&w, "R"), (kg("3"), kg("2")));
    let d = w
        .suppliers
        .iter()
        .find(|r| r.name == "[1] (estimate)")
        .expect("estimate");
    assert_eq!(d.kgco2e.after, kg("1"));
    sums_hold(&w);
}

#[tokio::test]
async fn changes_compose() {
    let t = chain();
    // C's Gate-to-Gate gone (C 2 → 0, A 3 → 2) and twice as much A:
    // R's inputs 4 × 2 + 2 = 10 against 8: R 13. Items: R 2 + 1, A 4 × (1 + 1) = 8, C 0, B 2.
    let w = ok(
        &t,
        r#"[[changes]]
kind = "reduce"
footprint = "urn:test:C"
pct = 100

[[changes]]
kind = "scale"
input = "urn:test:A"
factor = 2"#,
    )
    .await;
    assert_eq!(w.cfp.after, kg("13"));
    assert_eq!(footprint(&w, "A"), (kg("4"), kg("8")));
    assert_eq!(footprint(&w, "C"), (kg("2"), 0));
    assert_eq!(w.effects.len(), 2);
    sums_hold(&w);
}

#[tokio::test]
async fn errors_name_the_change_and_why() {
    let t = chain();
    for (changes, says) in [
        (
            "[[changes]]\nkind = \"reduce\"\nfootprint = \"urn:test:nope\"\npct = 5",
            vec!["change 1 (reduce)", "urn:test:nope"],
        ),
        (
            // A's input C replaced by R, which uses A: a cycle, made by change 2 (change 1
            // replaces R's input B, below the cycle, and is not blamed).
            "[[changes]]\nkind = \"replace\"\ninput = \"urn:test:B\"\nwith = \"urn:test:C\"\n\n[[changes]]\nkind = \"replace\"\nproduct = \"urn:test:A\"\ninput = \"urn:test:C\"\nwith = \"urn:test:R\"",
            vec!["change 2", "cycle"],
        ),
        (
            "[[changes]]\nkind = \"scale\"\ninput = \"urn:test:Z\"\nfactor = 2",
            vec![
                "change 1 (scale)",
                "no input urn:test:Z",
                "urn:test:A",
                "urn:test:B",
            ],
        ),
        (
            "[[changes]]\nkind = \"reduce\"\nfootprint = \"urn:test:B\"\npct = 5",
            vec!["change 1 (reduce)", "black box", "of = \"cfp\""],
        ),
        (
            "[[changes]]\nkind = \"estimate\"\ninput = \"urn:test:A\"\nfootprint = { cfp = 1 }",
            vec!["change 1 (estimate)", "`replace` changes it"],
        ),
        (
            "[[changes]]\nkind = \"attribute\"\nproduct = \"urn:test:A\"\ncertified = true",
            vec!["change 1 (attribute)", "another"],
        ),
        (
            "[[changes]]\nkind = \"repalce\"\ninput = \"urn:test:B\"",
            vec!["repalce", "replace"],
        ),
        (
            "[[changes]]\nkind = \"scale\"\ninput = \"urn:test:A\"\nfactor = 2\namount = 1",
            vec!["change 1 (scale)", "not both"],
        ),
        (
            "[[changes]]\nkind = \"reduce\"\nfootprint = \"urn:test:A\"\npct = 150",
            vec!["change 1 (reduce)", "more than 100"],
        ),
        (
            "[[changes]]\nkind = \"scale\"\ninput = \"urn:test:A\"\nfactor = 0.0000000000001",
            vec!["change 1 (scale)", "12 decimal places"],
        ),
    ] {
        let e = whatif(&t, changes)
            .await
            .err()
            .unwrap_or_else(|| panic!("{changes}: accepted"))
            .to_string();
        for s in says {
            assert!(e.contains(s), "{changes}\n→ {e}\nlacks {s:?}");
        }
    }
    // An unknown product is "not found", as for hotspots.
    let session = Session::new(&t).await.expect("session");
    let s = Scenario::from_toml("test", "name = \"x\"").expect("scenario");
    let e = session
        .whatif(&Request::new("urn:test:nope"), &s, None)
        .expect_err("unknown");
    assert!(matches!(e, mieruka::Error::NotFound(_)), "{e}");
}

#[tokio::test]
async fn the_demo_display_module_from_another_supplier() {
    // The notebook takes one 14-inch module (0.32 kg over the module's 0.32 kg per piece);
    // Aoba's is 36.7841 kgCO2e per piece, Formosa's quote 30.5: 150.4727 − 6.2841.
    let tables = mieruka::dataset::demo().expect("demo");
    let session = Session::new(&tables).await.expect("session");
    let s = mieruka::query::whatif::bundled_one("display-supplier").expect("bundled");
    let req = Request::new(s.product.clone().expect("product"));
    let w = session.whatif(&req, &s, None).expect("whatif");
    assert_eq!(w.cfp.before, kg("150.4727"));
    assert_eq!(w.cfp.after, kg("144.1886"));
    assert_eq!(w.recomputed, 1, "only the notebook's CFP moves");
    sums_hold(&w);
    assert_eq!(
        fixed::format(w.cfp.change(), VALUE_SCALE),
        "-6.2841",
        "{:?}",
        w.suppliers
    );
    // Every bundled scenario applies to the demo.
    for (id, s) in mieruka::query::whatif::bundled().expect("bundled") {
        let req = Request::new(s.product.clone().expect("product"));
        let w = session
            .whatif(&req, &s, None)
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        sums_hold(&w);
    }
}

#[tokio::test]
async fn the_cli_and_the_api_give_the_same_answer() {
    use axum::body::Body;
    use axum::http::{Request as HttpRequest, StatusCode};
    use tower::ServiceExt;

    let file =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/display-supplier.toml");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mieruka"))
        .env_remove("MIERUKA_DATA")
        .args(["whatif", "--format", "json", "--scenario"])
        .arg(&file)
        .output()
        .expect("mieruka whatif");
    assert!(out.status.success(), "{out:?}");
    let cli: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(cli["cfp"]["after_kgco2e_per_unit"], "144.1886");
    // The text answer says the same.
    let text = std::process::Command::new(env!("CARGO_BIN_EXE_mieruka"))
        .env_remove("MIERUKA_DATA")
        .args(["whatif", "--scenario", "display-supplier"])
        .output()
        .expect("mieruka whatif");
    assert!(
        String::from_utf8_lossy(&text.stdout)
            .contains("CFP 150.4727 → 144.1886 kgCO2e per piece (-6.2841, -4.18 %)")
    );

    let tables = mieruka::dataset::load(None).expect("demo");
    let app = mieruka::server::router(
        mieruka::server::AppState::new(tables, None, None)
            .await
            .expect("state"),
    );
    let post = |uri: &str, body: String| {
        let (app, uri) = (app.clone(), uri.to_owned());
        async move {
            let resp = app
                .oneshot(
                    HttpRequest::post(uri)
                        .header("content-type", "application/json")
                        .body(Body::from(body))
                        .expect("request"),
                )
                .await
                .expect("infallible");
            let status = resp.status();
            let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
                .await
                .expect("body");
            (
                status,
                serde_json::from_slice::<serde_json::Value>(&body).expect("JSON"),
            )
        }
    };
    // The bundled scenario by name, and the same scenario as a JSON body.
    let (status, by_name) = post("/api/whatif?scenario=display-supplier", String::new()).await;
    assert_eq!(status, StatusCode::OK, "{by_name}");
    assert_eq!(by_name, cli);
    let s = mieruka::query::whatif::bundled_one("display-supplier").expect("bundled");
    let (status, by_body) = post("/api/whatif", serde_json::to_string(&s).expect("json")).await;
    assert_eq!(status, StatusCode::OK, "{by_body}");
    assert_eq!(by_body, cli);

    // Mistakes are 400s that say which change and why; an unknown product is a 404.
    let bad = serde_json::json!({"name": "x", "product": "urn:mieruka-demo:product:kaede-note-14",
        "changes": [{"kind": "scale", "input": "urn:mieruka-demo:product:nothing", "factor": 2}]});
    let (status, body) = post("/api/whatif", bad.to_string()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let msg = body["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains("change 1 (scale)")
            && msg.contains("no input urn:mieruka-demo:product:nothing"),
        "{msg}"
    );
    let (status, body) = post(
        "/api/whatif",
        "{\"name\": \"x\", \"changes\": [{\"kind\": \"grow\"}]}".into(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("grow"),
        "{body}"
    );
    let (status, body) = post(
        "/api/whatif?product=urn:nope",
        serde_json::to_string(&s).expect("json"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, _) = post("/api/whatif", String::new()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = post("/api/whatif?scenario=nope", String::new()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[test]
fn the_dashboard_offers_every_bundled_scenario_in_both_languages() {
    let dashboards = mieruka::dashboard::Dashboards::embedded().expect("dashboards");
    let d = dashboards
        .iter()
        .find(|d| d.id == "scenarios")
        .expect("scenarios dashboard");
    let offered = &d
        .params
        .iter()
        .find(|p| p.name == "scenario")
        .expect("scenario parameter")
        .options;
    let bundled: Vec<String> = mieruka::query::whatif::bundled()
        .expect("bundled")
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(offered, &bundled);
    let ja = &dashboards.words().values["scenario"];
    for id in &bundled {
        assert!(
            ja.contains_key(id),
            "{id} has no Japanese name in words.toml"
        );
    }
}

#[tokio::test]
async fn attributes_move_the_score_and_the_rank() {
    // The demo's mainboard (CPC 4530, with the chassis at 79 points) scores 56.533333 on
    // gxd-2025: 8 + 7 + 8 + 7 + 7 (declarations) + 15 (CFP) + 3.2 (outflow 20 % of the
    // 50 % for full credit × 8) + 1.333333 (inflow 5 % of 30 % × 8); certified and
    // additionality earn nothing. Certified (+8), additionality (+6), outflow 50 % (8) and
    // inflow 30 % (8) make it 8 + 7 + 8 + 7 + 7 + 8 + 15 + 8 + 8 + 6 = 82: first of two.
    let tables = mieruka::dataset::demo().expect("demo");
    let session = Session::new(&tables).await.expect("session");
    let s = Scenario::from_toml(
        "test",
        r#"name = "mainboard"
product = "urn:mieruka-demo:product:shinonome-mb-k14"

[[changes]]
kind = "attribute"
certified = true
additionality = true
circular_outflow_pct = 50
circular_inflow_pct = 30"#,
    )
    .expect("scenario");
    let w = session
        .whatif(&Request::new(s.product.clone().expect("product")), &s, None)
        .expect("whatif");
    assert_eq!(w.cfp.before, w.cfp.after);
    let score = w.score.expect("score");
    assert_eq!(score.category, "4530");
    assert_eq!(score.products, 2);
    assert_eq!(score.before.to_string(), "56.533333");
    assert_eq!(score.after.to_string(), "82");
    assert_eq!((score.rank_before, score.rank_after), (2, 1));
}

#[tokio::test]
async fn tiny_and_huge_magnitudes_stay_exact() {
    // Huge: R (cfp 10^13, g2g 10^12) ← A ×1 (cfp 9·10^12, all its own). A's Gate-to-Gate
    // halved: A 4.5·10^12, R 10^13 − 4.5·10^12 = 5.5·10^12.
    let t = tables(
        &[
            fp("R", "10000000000000", Some("1000000000000")),
            fp("A", "9000000000000", Some("9000000000000")),
        ],
        &[("R", "A", "1", "")],
    );
    let w = ok(
        &t,
        "[[changes]]\nkind = \"reduce\"\nfootprint = \"urn:test:A\"\npct = 50",
    )
    .await;
    assert_eq!(w.cfp.after, kg("5500000000000"));
    sums_hold(&w);
    // Tiny: R (cfp 3·10^-9, g2g 10^-9) ← A ×2 (cfp 10^-9, all its own); A 33.333333333333 %
    // lower: 10^-9 × 0.33333333333333 = 3.3333333333333·10^-10, at 12 places 3.33·10^-10
    // (0.000000000333|333… rounds down); A 6.67·10^-10; R 3·10^-9 − 2 × 3.33·10^-10.
    let t = tables(
        &[
            fp("R", "0.000000003", Some("0.000000001")),
            fp("A", "0.000000001", Some("0.000000001")),
        ],
        &[("R", "A", "2", "")],
    );
    let w = ok(
        &t,
        "[[changes]]\nkind = \"reduce\"\nfootprint = \"urn:test:A\"\npct = 33.333333333333",
    )
    .await;
    assert_eq!(w.cfp.after, kg("0.000000002334"));
    sums_hold(&w);
}

#[tokio::test]
async fn a_share_cut_off_walks_the_whole_chain() {
    // With min_share_pct the part is everything the root reaches in the scenario (a node's
    // share moves with the CFP); B replaced by C as before: R stays 11.
    let t = chain();
    let session = Session::new(&t).await.expect("session");
    let s = Scenario::from_toml(
        "test",
        "name = \"t\"\n[[changes]]\nkind = \"replace\"\ninput = \"urn:test:B\"\nwith = \"urn:test:C\"",
    )
    .expect("scenario");
    let mut req = Request::new(urn("R"));
    req.min_share_pct = 1.0;
    let w = session.whatif(&req, &s, None).expect("whatif");
    assert_eq!(w.cfp.after, kg("11"));
    assert_eq!(footprint(&w, "B"), (kg("2"), 0));
    sums_hold(&w);
}

#[tokio::test]
async fn a_change_below_a_black_box_moves_its_cfp() {
    // The chain above with B's bill of materials: B ← E ×1, E (cfp 1, g2g 0.5) ← C ×0.25
    // (E adds up: 0.5 + 0.25 · 2 = 1). As stored, B is a black box: the walk stops at it
    // (unresolved, 2) and never meets E. C's Gate-to-Gate halves: C 2 → 1; A moves by
    // 0.5 · (1 − 2) = −0.5 (3 → 2.5); E by 0.25 · (1 − 2) = −0.25 (1 → 0.75), and so B,
    // whose input E is, by 1 · −0.25 (2 → 1.75). R: 11 + 2 · −0.5 + 1 · −0.25 = 9.75 —
    // the same whether the part is the stored walk's or the whole chain (a share cut-off).
    let t = tables(
        &[
            fp("R", "11", Some("2")),
            fp("A", "3", Some("1")),
            fp("B", "2", None),
            fp("C", "2", Some("2")),
            fp("E", "1", Some("0.5")),
        ],
        &[
            ("R", "A", "2", ""),
            ("R", "B", "1", ""),
            ("R", "D", "4", ""),
            ("A", "C", "0.5", ""),
            ("B", "E", "1", ""),
            ("E", "C", "0.25", ""),
        ],
    );
    let session = Session::new(&t).await.expect("session");
    let s = Scenario::from_toml(
        "test",
        "name = \"t\"\n[[changes]]\nkind = \"reduce\"\nfootprint = \"urn:test:C\"\npct = 50",
    )
    .expect("scenario");
    for min_share_pct in [0.0, 1.0] {
        let mut req = Request::new(urn("R"));
        req.min_share_pct = min_share_pct;
        let w = session.whatif(&req, &s, None).expect("whatif");
        assert_eq!(w.cfp.after, kg("9.75"), "min share {min_share_pct}");
        // B's one item, unresolved: 2 → 1.75.
        assert_eq!(footprint(&w, "B"), (kg("2"), kg("1.75")));
        // C, E, A, B and R recomputed.
        assert_eq!(w.recomputed, 5, "min share {min_share_pct}");
        sums_hold(&w);
    }
}
