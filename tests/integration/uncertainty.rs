//! How sure a decomposition is: the Monte Carlo against closed forms. Every tolerance is a
//! few standard errors of the statistic at the sample size used, worked out in the test.

use mieruka::hotspot::{self, Request, Spreads, UncertaintyRequest, uncertainty};
use mieruka::query::Session;

use crate::hotspot::{chain_tables, diamond_tables, fp, tables, urn};

/// Φ⁻¹(0.975): the standard normal's 97.5th percentile.
const Z975: f64 = 1.959_963_984_540_054;

/// A table where every own figure has σ² = `own` and untraced upstream σ² = `untraced`.
fn spreads(own: f64, untraced: f64) -> Spreads {
    Spreads {
        basic_variance: own,
        technological: [0.0; 5],
        temporal: [0.0; 5],
        geographical: [0.0; 5],
        missing_dqr_level: 3.0,
        secondary_data: 0.0,
        organization_based: 0.0,
        untraced,
        unresolved: 0.25,
        beyond_cutoff: 0.25,
    }
}

async fn decompose(t: &mieruka::table::Tables, root: &str) -> hotspot::Decomposition {
    let session = Session::new(t).await.expect("session");
    let graph = session.graph().expect("graph");
    hotspot::decompose(&graph, &Request::new(urn(root))).expect("decompose")
}

fn req(samples: usize) -> UncertaintyRequest {
    UncertaintyRequest {
        samples,
        seed: 7,
        top: 10,
    }
}

#[tokio::test]
async fn one_lognormal_has_its_percentiles() {
    // One footprint, cfp = g2g = 10: one item, own 10, factor exp(σz − σ²/2) with σ² = 0.04.
    let t = tables(&[fp("A", "10", Some("10"))], &[]);
    let d = decompose(&t, "A").await;
    let n = 100_000;
    let u = uncertainty(&d, &spreads(0.04, 0.09), req(n)).expect("uncertainty");
    let sigma = 0.2_f64;
    let x = |z: f64| 10.0 * (sigma * z - sigma * sigma / 2.0).exp();
    // A sample quantile's standard error: sqrt(q(1 − q)/N) over the density there, the
    // lognormal's φ(z)/(xσ).
    let phi = |z: f64| (-z * z / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let se = |q: f64, z: f64| (q * (1.0 - q) / n as f64).sqrt() / (phi(z) / (x(z) * sigma));
    for (got, q, z) in [
        (u.cfp_interval.p2_5, 0.025, -Z975),
        (u.cfp_interval.p50, 0.5, 0.0),
        (u.cfp_interval.p97_5, 0.975, Z975),
    ] {
        assert!(
            (got - x(z)).abs() < 4.0 * se(q, z),
            "q {q}: {got} vs {} ± {}",
            x(z),
            4.0 * se(q, z)
        );
    }
    // Mean 1 factors: the mean is the reported CFP, within 4 standard errors.
    let sd = 10.0 * ((sigma * sigma).exp() - 1.0).sqrt();
    assert!((u.mean_kgco2e_per_unit - 10.0).abs() < 4.0 * sd / (n as f64).sqrt());
    assert_eq!(u.cfp_kgco2e_per_unit, 10.0);
    // One supplier, one tier: 100 % in every sample.
    assert_eq!(u.suppliers.len(), 1);
    assert_eq!(u.suppliers[0].interval_pct.p2_5, 100.0);
    assert_eq!(u.tiers[0].share_pct, 100.0);

    // The same seed gives the same samples; another seed others.
    let again = uncertainty(&d, &spreads(0.04, 0.09), req(n)).expect("again");
    assert_eq!(again, u);
    let other = uncertainty(
        &d,
        &spreads(0.04, 0.09),
        UncertaintyRequest { seed: 8, ..req(n) },
    )
    .expect("other");
    assert_ne!(other.cfp_interval, u.cfp_interval);
    assert!(uncertainty(&d, &spreads(0.04, 0.09), req(0)).is_err());
}

#[tokio::test]
async fn the_mean_of_the_sum_is_the_sum_of_the_means() {
    // The chain of the hotspot tests: A own 2, A untraced 2, B own 2, C own 4; CFP 10.
    let t = chain_tables();
    let d = decompose(&t, "A").await;
    let n = 100_000;
    let u = uncertainty(&d, &spreads(0.04, 0.09), req(n)).expect("uncertainty");
    // Independent factors with mean 1: Var = Σ V²(e^σ² − 1) = (2² + 2² + 4²)(e^0.04 − 1)
    // + 2²(e^0.09 − 1).
    let var = 24.0 * (0.04_f64.exp() - 1.0) + 4.0 * (0.09_f64.exp() - 1.0);
    let se = (var / n as f64).sqrt();
    assert!(
        (u.mean_kgco2e_per_unit - 10.0).abs() < 4.0 * se,
        "{} vs 10 ± {}",
        u.mean_kgco2e_per_unit,
        4.0 * se
    );
    // The standard deviation too, within 5 standard errors of a variance (relative
    // sqrt((2 + κ)/N), κ < 1 here) → about 1.3 % of the SD.
    let rel = 5.0 * (3.0 / n as f64).sqrt() / 2.0;
    assert!(
        (u.sd_kgco2e_per_unit / var.sqrt() - 1.0).abs() < rel,
        "{} vs {}",
        u.sd_kgco2e_per_unit,
        var.sqrt()
    );
    // Reported shares: A 4 of 10, B 2, C 4; by tier 40 %, 20 %, 40 %.
    let share = |name: &str| {
        u.suppliers
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.share_pct)
            .expect(name)
    };
    assert_eq!(
        (share("A Co."), share("B Co."), share("C Co.")),
        (40.0, 20.0, 40.0)
    );
    let tiers: Vec<(String, f64)> = u
        .tiers
        .iter()
        .map(|t| (t.name.clone(), t.share_pct))
        .collect();
    assert_eq!(
        tiers,
        [("0".into(), 40.0), ("1".into(), 20.0), ("2".into(), 40.0)]
    );
    for s in u.suppliers.iter().chain(&u.tiers) {
        let i = s.interval_pct;
        assert!(i.p2_5 <= i.p50 && i.p50 <= i.p97_5 && i.p2_5 > 0.0, "{s:?}");
    }
}

#[tokio::test]
async fn a_shared_supplier_is_one_draw() {
    // The diamond of the hotspot tests: D is reached on tier 1 (own 2) and tier 2 (own 10,
    // through B and C). One draw for D: Var = σf²(2² + 2² + 1² + 3² + 12²) = 162 σf², where
    // σf² = e^0.04 − 1 for every factor here; drawn per path it would be 122 σf².
    let t = diamond_tables();
    let d = decompose(&t, "A").await;
    let n = 200_000;
    let u = uncertainty(&d, &spreads(0.04, 0.04), req(n)).expect("uncertainty");
    let var = 162.0 * (0.04_f64.exp() - 1.0);
    let got = u.sd_kgco2e_per_unit * u.sd_kgco2e_per_unit;
    // A variance's relative standard error is sqrt((2 + κ)/N); κ, the sum's excess
    // kurtosis, is below a single factor's e^4σ² + 2e^3σ² + 3e^2σ² − 6 = 0.68.
    let rel = 5.0 * (2.68 / n as f64).sqrt();
    assert!((got / var - 1.0).abs() < rel, "{got} vs {var} (± {rel})");
    let per_path = 122.0 * (0.04_f64.exp() - 1.0);
    assert!(
        (got / per_path - 1.0).abs() > 10.0 * rel,
        "not drawn per path"
    );
}

#[tokio::test]
async fn the_cli_and_the_api_give_one_answer() {
    use axum::body::Body;
    use axum::http::{Request as HttpRequest, StatusCode};
    use tower::ServiceExt;

    let pc = "urn:mieruka-demo:product:kaede-note-14";
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mieruka"))
        .args([
            "hotspots",
            "--product",
            pc,
            "--uncertainty",
            "2000",
            "--seed",
            "3",
        ])
        .args(["--top", "5", "--format", "json"])
        .output()
        .expect("mieruka hotspots");
    assert!(out.status.success(), "{out:?}");
    let cli: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");

    let tables = mieruka::dataset::load(None).expect("demo");
    let app = mieruka::server::router(
        mieruka::server::AppState::new(tables, None, None)
            .await
            .expect("state"),
    );
    let ask = |q: String| {
        let app = app.clone();
        async move {
            let resp = app
                .oneshot(HttpRequest::get(q).body(Body::empty()).expect("request"))
                .await
                .expect("infallible");
            let status = resp.status();
            let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
                .await
                .expect("body");
            (status, body)
        }
    };
    let (status, body) = ask(format!(
        "/api/hotspots?product={pc}&uncertainty=2000&seed=3&top=5"
    ))
    .await;
    assert_eq!(status, StatusCode::OK);
    let api: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(api, cli, "one engine, one seed: the same samples");
    // Five suppliers by name and the rest; the reported shares add up to 100 %.
    let suppliers = cli["suppliers"].as_array().expect("suppliers");
    assert_eq!(suppliers.len(), 6);
    assert_eq!(suppliers[5]["name"], "(rest)");
    let total: f64 = suppliers
        .iter()
        .map(|s| s["share_pct"].as_f64().expect("share"))
        .sum();
    assert!((total - 100.0).abs() < 1e-9, "{total}");
    let i = &cli["cfp_interval"];
    let (lo, hi) = (
        i["p2_5"].as_f64().expect("lo"),
        i["p97_5"].as_f64().expect("hi"),
    );
    let cfp = cli["cfp_kgco2e_per_unit"].as_f64().expect("cfp");
    assert!(lo < cfp && cfp < hi, "{lo} < {cfp} < {hi}");

    let (status, body) = ask(format!("/api/hotspots?product={pc}&uncertainty=1000001")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(String::from_utf8_lossy(&body).contains("from 1 to 100000 samples"));

    // The ranking: the demo's two printed-circuit suppliers of CPC 4712 each have one
    // product, in different units, so each is its own unit's median: intensity 1 against
    // 1 in every sample, a tie, half ahead.
    let (status, body) = ask("/api/rank?category=4712&by=intensity&uncertainty=500".into()).await;
    assert_eq!(status, StatusCode::OK);
    let rank: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    let suppliers = rank["suppliers"].as_array().expect("suppliers");
    assert_eq!(suppliers.len(), 2);
    assert_eq!(suppliers[0]["ahead_of_next_pct"], 50.0);
    assert!(suppliers[1]["ahead_of_next_pct"].is_null());
    let (status, _) = ask("/api/rank?by=score&uncertainty=500".into()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// Φ, the standard normal distribution function (Abramowitz & Stegun 7.1.26 for erf, error
/// below 1.5 × 10^-7).
fn phi(x: f64) -> f64 {
    let z = x.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * z);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-z * z).exp();
    if x >= 0.0 {
        0.5 * (1.0 + erf)
    } else {
        0.5 * (1.0 - erf)
    }
}

#[tokio::test]
async fn how_sure_a_place_in_the_ranking_is() {
    // Two suppliers of the same category and unit, one product each: A at 10, B at 12
    // kgCO2e/kg, both with σ² = 0.04. Both are divided by the same median in every sample,
    // so A is ahead when 10·f_A < 12·f_B: P = Φ((ln 12 − ln 10) / √(0.04 + 0.04)) ≈ 74 %.
    let t = tables(&[fp("A", "10", Some("10")), fp("B", "12", Some("12"))], &[]);
    let session = Session::new(&t).await.expect("session");
    let rows = mieruka::report::score::rank(&session, None, "intensity", None)
        .await
        .expect("rank");
    let n = 20_000;
    let sure = mieruka::report::score::ahead_of_next(&session, rows, &spreads(0.04, 0.09), n, 7)
        .expect("how sure");
    let json = mieruka::output::rows_json(&sure.batches);
    assert_eq!(json.len(), 2, "{json:#?}");
    assert_eq!(json[0]["company_name"], "A Co.");
    assert!(
        json[1]["ahead_of_next_pct"].is_null(),
        "the last has no next"
    );
    let got = json[0]["ahead_of_next_pct"]
        .as_f64()
        .expect("a probability")
        / 100.0;
    let want = phi((12.0_f64 / 10.0).ln() / 0.08_f64.sqrt());
    let se = (want * (1.0 - want) / n as f64).sqrt();
    assert!(
        (got - want).abs() < 4.0 * se,
        "{got} vs {want} ± {}",
        4.0 * se
    );
    assert!(
        (want - 0.7404).abs() < 1e-3,
        "the closed form itself: {want}"
    );
}
