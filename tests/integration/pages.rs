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
