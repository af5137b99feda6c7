//! The pages in two languages: how a page picks Japanese or English (`lang` parameter, then
//! the `lang` cookie, then `Accept-Language`), the switch in the header, and that the two
//! are cached apart.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use mieruka::server::{AppState, router};
use tower::ServiceExt;

async fn app() -> Router {
    let tables = mieruka::dataset::load(None).expect("demo");
    router(AppState::new(tables, None, None).await.expect("state"))
}

/// GET `uri` with `headers`: (status, response headers, body).
async fn get(app: &Router, uri: &str, headers: &[(&str, &str)]) -> (StatusCode, HeaderMap, String) {
    let mut req = Request::builder().uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = app
        .clone()
        .oneshot(req.body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .expect("body");
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

fn is_ja(page: &str) -> bool {
    page.contains("<html lang=\"ja\">") && page.contains("<h1>製品のホットスポット</h1>")
}

fn is_en(page: &str) -> bool {
    page.contains("<html lang=\"en\">") && page.contains("<h1>Product hotspots</h1>")
}

#[tokio::test]
async fn a_page_picks_its_language_from_parameter_cookie_then_browser() {
    let app = app().await;
    let page = "/dashboards/hotspots";

    // Nothing said: English.
    let (status, h, body) = get(&app, page, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(is_en(&body), "{body}");
    assert_eq!(h[header::CONTENT_LANGUAGE], "en");
    assert!(
        h.get(header::SET_COOKIE).is_none(),
        "nothing chosen, no cookie"
    );
    let vary = h[header::VARY].to_str().unwrap_or_default();
    assert!(
        vary.contains("cookie") && vary.contains("accept-language"),
        "{vary}"
    );

    // The browser asks for Japanese first.
    let ja_browser = [("accept-language", "ja-JP,ja;q=0.9,en-US;q=0.8")];
    let (_, h, body) = get(&app, page, &ja_browser).await;
    assert!(is_ja(&body), "{body}");
    assert_eq!(h[header::CONTENT_LANGUAGE], "ja");
    let (_, _, body) = get(&app, page, &[("accept-language", "en-GB,ja;q=0.5")]).await;
    assert!(is_en(&body));

    // A cookie beats the browser; a parameter beats both and sets the cookie.
    let (_, _, body) = get(&app, page, &[("cookie", "x=1; lang=en"), ja_browser[0]]).await;
    assert!(is_en(&body), "the cookie says en");
    let (_, h, body) = get(&app, &format!("{page}?lang=ja"), &[("cookie", "lang=en")]).await;
    assert!(is_ja(&body), "the parameter says ja");
    let cookie = h[header::SET_COOKIE].to_str().unwrap_or_default();
    assert!(
        cookie.starts_with("lang=ja;") && cookie.contains("Path=/"),
        "{cookie}"
    );

    // A cookie we do not know is ignored; a parameter we do not know is a clear 400.
    let (_, _, body) = get(&app, page, &[("cookie", "lang=fr"), ja_browser[0]]).await;
    assert!(is_ja(&body));
    let (status, _, body) = get(&app, &format!("{page}?lang=fr"), &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.contains("lang=\\\"fr\\\"") && body.contains("ja"),
        "{body}"
    );
}

#[tokio::test]
async fn the_switch_keeps_the_parameters_and_each_language_is_cached_apart() {
    let app = app().await;
    let uri = "/dashboards/hotspots?top=3&lang=en";
    let (_, _, en) = get(&app, uri, &[]).await;
    // The header links to the same dashboard with the same parameters in Japanese, and
    // marks English as the current one.
    assert!(
        en.contains("href=\"/dashboards/hotspots?top=3&amp;lang=ja\" hreflang=\"ja\""),
        "{en}"
    );
    assert!(en.contains("<strong lang=\"en\">English</strong>"));
    // The form keeps the language when it is sent.
    assert!(en.contains("<input type=\"hidden\" name=\"lang\" value=\"en\">"));

    // Rendered pages are cached: asking in Japanese right after must not get the English
    // page, and the other way round (the cache key carries the language, not only the URL).
    let (_, _, ja) = get(&app, "/dashboards/hotspots?top=3", &[("cookie", "lang=ja")]).await;
    assert!(is_ja(&ja), "{ja}");
    let (_, _, en_again) = get(&app, "/dashboards/hotspots?top=3", &[]).await;
    assert!(is_en(&en_again));

    // Charts take the language: the Pareto's second axis and the tier labels.
    let (_, _, svg) = get(&app, "/charts/hotspots/0.svg?lang=ja", &[]).await;
    assert!(
        svg.contains("累積シェア (%)") && !svg.contains("cumulative share"),
        "{svg}"
    );
    let (_, _, svg) = get(&app, "/charts/hotspots/1.svg", &[("cookie", "lang=ja")]).await;
    assert!(svg.contains("第1階層") && !svg.contains("tier 1"), "{svg}");
    let (_, _, svg) = get(&app, "/charts/hotspots/1.svg?lang=en", &[]).await;
    assert!(svg.contains("tier 1"));

    // Table cells: codes in Japanese, headings from the glossary.
    let (_, _, items) = get(&app, "/dashboards/hotspots?lang=ja", &[]).await;
    assert!(items.contains("<th>企業名</th>") && items.contains("<td class=\"\">自社排出</td>"));
    assert!(!items.contains("<td class=\"\">own</td>"));
    let (_, _, index) = get(&app, "/?lang=ja", &[]).await;
    assert!(index.contains("<h2>データセット</h2>") && index.contains("<th>製品数</th>"));
}

/// The text of every cell of the first table after `marker` in `page`, row by row.
fn rows_after(page: &str, marker: &str) -> Vec<Vec<String>> {
    let at = page.find(marker).expect("the marker");
    let table = &page[at..];
    let body =
        &table[table.find("<tbody>").expect("a tbody")..table.find("</tbody>").expect("its end")];
    body.split("<tr>")
        .skip(1)
        .map(|row| {
            row.split("<td")
                .skip(1)
                .map(|cell| {
                    let inner = &cell[cell.find('>').map_or(0, |i| i + 1)..];
                    inner[..inner.find("</td>").unwrap_or(inner.len())].to_owned()
                })
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn the_profile_editor_previews_an_edit_and_refuses_a_bad_one() {
    let app = app().await;
    let (status, _, page) = get(&app, "/dashboards/profile?lang=ja", &[]).await;
    assert_eq!(status, StatusCode::OK);
    // The active profile as a form: gxd-2025 weighs the CFP 15 and its override for CPC 4521
    // (portable computers) is at most 200.
    assert!(page.contains("name=\"w.cfp\" value=\"15\""), "{page}");
    assert!(page.contains("name=\"o0.prefix\" value=\"4521\""));
    assert!(page.contains("name=\"o0.a\" value=\"200\""));

    // Five points moved from the CFP (15 → 10) to the reduction achieved (10 → 15): a
    // product's score changes by 5 × (its REP credit − its CFP credit).
    let (status, _, page) = get(
        &app,
        "/dashboards/profile?lang=en&action=preview&w.cfp=10&w.rep=15",
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let rows = rows_after(&page, "<section class=\"panel preview\">");
    assert_eq!(rows.len(), 24, "every demo product");
    let number = |s: &str| {
        s.replace('−', "-")
            .replace('+', "")
            .parse::<f64>()
            .expect(s)
    };
    let scores: Vec<(f64, f64)> = rows
        .iter()
        .map(|r| (number(&r[3]), number(&r[4])))
        .collect();
    for r in &rows {
        let (now, then) = (number(&r[3]), number(&r[4]));
        assert!((then - now - number(&r[5])).abs() < 1e-9, "{r:?}");
        // ±5 (one credit full, the other none), ±5 × a partial credit, or 0.
        assert!((then - now).abs() <= 5.0 + 1e-9, "{r:?}");
        // Ranks: one plus the products scoring higher, before and after.
        let above = |pick: fn(&(f64, f64)) -> f64, mine: f64| {
            1 + scores.iter().filter(|s| pick(s) > mine).count()
        };
        assert_eq!(r[6], above(|s| s.0, now).to_string(), "{r:?}");
        assert_eq!(r[7], above(|s| s.1, then).to_string(), "{r:?}");
    }
    // The TFT-LCD cell (Formosa Panel) earns its 10 points from REP alone (CFP ×): 15 now.
    let tft = rows
        .iter()
        .find(|r| r[0].starts_with("TFT-LCD cell"))
        .expect("TFT-LCD");
    assert_eq!(
        (tft[3].as_str(), tft[4].as_str(), tft[5].as_str()),
        ("10", "15", "+5")
    );
    assert!(
        page.contains("<iframe class=\"sheet\" srcdoc="),
        "the sheet with the edit"
    );
    assert!(page.contains("10 pt"), "the edited weight in the sheet");

    // Weights that do not add up: refused with the reason, in the page's language.
    let (status, _, page) = get(
        &app,
        "/dashboards/profile?lang=ja&action=preview&w.cfp=16",
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("<section class=\"panel invalid\">"));
    assert!(page.contains("重みの合計が 101 です"), "{page}");
    assert!(!page.contains("panel preview"));

    let (status, _, body) = get(&app, "/dashboards/profile?action=save", &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("preview or toml"), "{body}");

    // The TOML download reads back as the profile previewed.
    let (status, h, toml) = get(
        &app,
        "/dashboards/profile?action=toml&w.cfp=10&w.rep=15&name=pc%202026",
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        h[header::CONTENT_DISPOSITION],
        "attachment; filename=\"pc-2026.toml\""
    );
    let p = mieruka::score::Profile::parse("download.toml", &toml).expect("reads back");
    assert_eq!(p.name, "pc 2026");
    let cfp = p
        .indicators
        .iter()
        .find(|i| i.key == mieruka::score::Key::Cfp)
        .expect("cfp");
    assert_eq!(cfp.weight, rust_decimal::Decimal::from(10));
}

#[tokio::test]
async fn an_admin_saves_a_profile_that_score_then_uses() {
    use mieruka::server::{Config, Role, TokenEntry, hash_token};
    let dir = crate::common::temp_dir("saved-profile");
    mieruka::Store::create_or_open(&dir).expect("store");
    let token = |name: &str, role| TokenEntry {
        name: name.into(),
        sha256: hash_token(&format!("{name}-secret")),
        role,
        companies: Vec::new(),
    };
    let config = Config {
        tokens: vec![token("admin", Role::Admin), token("analyst", Role::Analyst)],
        ..Config::default()
    };
    let tables = mieruka::dataset::load(Some(&dir)).expect("load");
    let app = router(
        AppState::new(tables, Some(dir.clone()), Some(config))
            .await
            .expect("state"),
    );
    let post = |token: &'static str, body: &'static str| {
        let app = app.clone();
        async move {
            let req = Request::builder()
                .method("POST")
                .uri("/dashboards/profile")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .expect("request");
            app.oneshot(req).await.expect("infallible")
        }
    };
    let body = "name=pc+2026&w.cfp=10&w.rep=15&save_as=pc-2026&lang=en";
    assert_eq!(
        post("analyst-secret", body).await.status(),
        StatusCode::FORBIDDEN
    );
    let refused = post("admin-secret", "name=x&w.cfp=16&save_as=x").await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let bad_name = post("admin-secret", "name=x&save_as=..%2Fx").await;
    assert_eq!(bad_name.status(), StatusCode::BAD_REQUEST);
    let saved = post("admin-secret", body).await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        saved.headers()[header::LOCATION],
        "/dashboards/profile?saved=pc-2026&lang=en"
    );
    assert!(dir.join("profiles/pc-2026.toml").is_file());

    // `score --profile NAME` finds it in the data directory.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mieruka"))
        .args([
            "score",
            "--format",
            "json",
            "--profile",
            "pc-2026",
            "--data",
        ])
        .arg(&dir)
        .output()
        .expect("mieruka score");
    assert!(out.status.success(), "{out:?}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(doc["profile"], "pc 2026");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mieruka"))
        .args(["score", "--profile", "pc-2025", "--data"])
        .arg(&dir)
        .output()
        .expect("mieruka score");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("saved: pc-2026"),
        "{err}"
    );
}
