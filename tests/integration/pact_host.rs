//! The PACT host API of `mieruka serve`, route by route against the v2.3.3 and v3.0.3
//! OpenAPI: OAuth2 client credentials, discovery, ListFootprints with pagination and
//! filters, GetFootprint, events, and the error bodies.

use std::collections::BTreeSet;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use base64::Engine;
use mieruka::pact::{PactClient, PactConfig};
use mieruka::server::{AppState, Config, hash_token, router};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::common::{self, source};

const HOST: &str = "pact.example.test";
/// A demo product with two PACT v2.3 footprints, FY2023 and FY2024 (`mieruka query "SELECT
/// id, spec_version, reference_period_start FROM footprints WHERE product_ids[1] = '…'"`).
const LCD: &str = "urn:mieruka-demo:product:formosa-lcd-cell";
const FORMOSA: &str = "urn:mieruka-demo:company:formosa";

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Value,
}

async fn call(
    app: &Router,
    method: Method,
    uri: &str,
    headers: &[(&str, String)],
    body: &str,
) -> Reply {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::HOST, HOST);
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let resp = app
        .clone()
        .oneshot(req.body(Body::from(body.to_owned())).expect("request"))
        .await
        .expect("infallible");
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .expect("body");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            panic!("{uri}: not JSON ({e}): {}", String::from_utf8_lossy(&bytes))
        })
    };
    Reply {
        status,
        headers,
        body,
    }
}

fn client(id: &str, companies: &[&str]) -> PactClient {
    PactClient {
        id: id.to_owned(),
        secret_sha256: hash_token(&format!("{id}-secret")),
        companies: companies.iter().map(|c| (*c).to_owned()).collect(),
        callback: None,
    }
}

fn config(token_seconds: u64) -> Config {
    Config {
        pact: PactConfig {
            partners: Vec::new(),
            token_seconds,
            clients: vec![client("buyer", &["*"]), client("panel-buyer", &[FORMOSA])],
        },
        ..Config::default()
    }
}

async fn demo_app(token_seconds: u64) -> Router {
    let tables = mieruka::dataset::load(None).expect("demo");
    router(
        AppState::new(tables, None, Some(config(token_seconds)))
            .await
            .expect("state"),
    )
}

fn basic(id: &str, secret: &str) -> (&'static str, String) {
    let b = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
    ("authorization", format!("Basic {b}"))
}

const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

async fn token(app: &Router, id: &str) -> String {
    let r = call(
        app,
        Method::POST,
        "/auth/token",
        &[basic(id, &format!("{id}-secret")), (FORM.0, FORM.1.into())],
        "grant_type=client_credentials",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

fn bearer(t: &str) -> (&'static str, String) {
    ("authorization", format!("Bearer {t}"))
}

#[tokio::test]
async fn token_endpoint_follows_rfc_6749() {
    let app = demo_app(3600).await;
    let form = (FORM.0, FORM.1.to_owned());
    let cases = [
        // (headers, body, status, error)
        (
            vec![basic("buyer", "buyer-secret"), form.clone()],
            "grant_type=password",
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
        ),
        (
            vec![basic("buyer", "buyer-secret"), form.clone()],
            "",
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            vec![form.clone()],
            "grant_type=client_credentials",
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            vec![basic("buyer", "wrong"), form.clone()],
            "grant_type=client_credentials",
            StatusCode::BAD_REQUEST,
            "invalid_client",
        ),
        (
            vec![basic("nobody", "nobody-secret"), form.clone()],
            "grant_type=client_credentials",
            StatusCode::BAD_REQUEST,
            "invalid_client",
        ),
    ];
    for (headers, body, status, error) in cases {
        let r = call(&app, Method::POST, "/auth/token", &headers, body).await;
        assert_eq!(r.status, status, "{body}: {}", r.body);
        assert_eq!(r.body["error"], error, "{}", r.body);
        assert_eq!(r.headers[header::CACHE_CONTROL], "no-store");
    }
    let r = call(
        &app,
        Method::POST,
        "/auth/token",
        &[basic("buyer", "buyer-secret"), form],
        "grant_type=client_credentials",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["token_type"], "bearer");
    assert_eq!(r.body["expires_in"], 3600);
    assert_eq!(r.body["access_token"].as_str().map(str::len), Some(64));

    let d = call(
        &app,
        Method::GET,
        "/.well-known/openid-configuration",
        &[],
        "",
    )
    .await;
    assert_eq!(d.status, StatusCode::OK);
    assert_eq!(
        d.body["token_endpoint"],
        format!("http://{HOST}/auth/token")
    );
}

/// A token request from `addr`, as the accept loop hands it to the router.
async fn token_from(app: &Router, addr: [u8; 4], secret: &str) -> Reply {
    let b = base64::engine::general_purpose::STANDARD.encode(format!("buyer:{secret}"));
    let mut req = Request::builder()
        .method(Method::POST)
        .uri("/auth/token")
        .header(header::HOST, HOST)
        .header(header::AUTHORIZATION, format!("Basic {b}"))
        .header(header::CONTENT_TYPE, FORM.1)
        .body(Body::from("grant_type=client_credentials"))
        .expect("request");
    let addr = std::net::SocketAddr::from((addr, 40_000));
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(addr));
    let resp = app.clone().oneshot(req).await.expect("infallible");
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .expect("body");
    Reply {
        status,
        headers,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

/// #12 item 8: wrong secrets from one address are slowed down. The first five failures in a
/// row are answered as usual; from the sixth, the address waits 1, 2, 4, … s (429 with
/// `Retry-After`), and while it waits even the right secret is refused, so guessing cannot
/// go on. Another address is not held up, and a success clears the count.
#[tokio::test]
async fn wrong_secrets_from_one_address_are_slowed_down() {
    let app = demo_app(3600).await;
    let attacker = [10, 0, 0, 66];
    for i in 0..5 {
        let r = token_from(&app, attacker, "guess").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "attempt {i}: {}", r.body);
    }
    let r = token_from(&app, attacker, "guess").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert_eq!(r.headers[header::RETRY_AFTER], "1");
    assert_eq!(r.body["error"], "slow_down");
    let mut refused = 0;
    for _ in 0..1000 {
        if token_from(&app, attacker, "buyer-secret").await.status == StatusCode::TOO_MANY_REQUESTS
        {
            refused += 1;
        }
    }
    // A thousand attempts within the second of waiting: all refused, the right one too.
    assert_eq!(refused, 1000);
    let other = token_from(&app, [10, 0, 0, 7], "buyer-secret").await;
    assert_eq!(other.status, StatusCode::OK, "{}", other.body);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let r = token_from(&app, attacker, "buyer-secret").await;
    assert_eq!(r.status, StatusCode::OK, "after the wait: {}", r.body);
    let r = token_from(&app, attacker, "guess").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "the count starts again");
}

/// #12 item 10: links the host writes use the configured public URL, never a `Host` header a
/// client made up; without one, a `Host` that is not a plain host name is not copied.
#[tokio::test]
async fn links_use_the_public_url_not_the_host_header() {
    let tables = mieruka::dataset::load(None).expect("demo");
    let config = Config {
        public_url: Some("https://pact.kaede.example/".into()),
        ..config(3600)
    };
    let app = router(
        AppState::new(tables, None, Some(config))
            .await
            .expect("state"),
    );
    let d = call(
        &app,
        Method::GET,
        "/.well-known/openid-configuration",
        &[],
        "",
    )
    .await;
    assert_eq!(
        d.body["token_endpoint"],
        "https://pact.kaede.example/auth/token"
    );
    let t = token(&app, "buyer").await;
    let r = call(
        &app,
        Method::GET,
        "/2/footprints?limit=1",
        &[bearer(&t)],
        "",
    )
    .await;
    let link = r.headers[header::LINK].to_str().expect("link");
    assert!(
        link.starts_with("<https://pact.kaede.example/2/footprints?"),
        "{link}"
    );

    let app = demo_app(3600).await;
    let forged = Request::builder()
        .uri("/.well-known/openid-configuration")
        .header(header::HOST, "evil.example/\"><x")
        .body(Body::empty())
        .expect("request");
    let r = app.clone().oneshot(forged).await.expect("infallible");
    let body = axum::body::to_bytes(r.into_body(), usize::MAX)
        .await
        .expect("body");
    let d: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(d["token_endpoint"], "http://localhost/auth/token");
}

#[tokio::test]
async fn footprint_routes_need_a_valid_token() {
    // PACT v2 and v3, ListFootprints and GetFootprint (rest-api.md): "If the access token is
    // valid, but the client does not have the necessary permissions to access the requested
    // ProductFootprints, the host system MUST return an error response with code AccessDenied.
    // If the host system does not accept the access token because it expired, the body SHOULD
    // be an error response with code TokenExpired. In all other cases, the body SHOULD be an
    // error response with code BadRequest." No token, a malformed one or one this host never
    // issued is such another case: 400 BadRequest, not 403.
    let app = demo_app(3600).await;
    let malformed = ("authorization", "Bearer".to_owned());
    let basic = ("authorization", "Basic YnV5ZXI6YnV5ZXItc2VjcmV0".to_owned());
    for (method, uri) in [
        (Method::GET, "/2/footprints"),
        (Method::GET, "/3/footprints"),
        (
            Method::GET,
            "/2/footprints/91715e5e-fd0b-4d1c-8fab-76290c46e6ed",
        ),
        (
            Method::GET,
            "/3/footprints/25102b63-a972-4290-867b-6dae1873b46c",
        ),
        (Method::POST, "/2/events"),
        (Method::POST, "/3/events"),
    ] {
        for auth in [
            vec![],
            vec![bearer("not-a-token")],
            vec![malformed.clone()],
            vec![basic.clone()],
        ] {
            let r = call(&app, method.clone(), uri, &auth, "{}").await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{uri} {auth:?}");
            assert_eq!(r.body["code"], "BadRequest", "{uri} {auth:?}");
            assert!(r.body["message"].is_string());
        }
    }
    // A token that lives 0 seconds has expired when it is used.
    let app = demo_app(0).await;
    let t = token(&app, "buyer").await;
    for uri in ["/2/footprints", "/3/footprints"] {
        let r = call(&app, Method::GET, uri, &[bearer(&t)], "").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(r.body["code"], "TokenExpired");
    }
}

/// Follows `Link: <…>; rel="next"` from `first`; returns the ids of every page and the pages.
async fn all_pages(app: &Router, token: &str, first: &str) -> (Vec<String>, usize) {
    let mut ids = Vec::new();
    let mut pages = 0;
    let mut next = Some(first.to_owned());
    while let Some(uri) = next.take() {
        let r = call(app, Method::GET, &uri, &[bearer(token)], "").await;
        assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.body);
        pages += 1;
        let data = r.body["data"].as_array().expect("data is an array");
        ids.extend(
            data.iter()
                .map(|d| d["id"].as_str().expect("id").to_owned()),
        );
        if let Some(link) = r.headers.get(header::LINK) {
            let link = link.to_str().expect("ascii");
            let target = link
                .strip_prefix('<')
                .and_then(|l| l.split_once(">; rel=\"next\""))
                .map(|(t, _)| t)
                .unwrap_or_else(|| panic!("malformed Link: {link}"));
            let path = target
                .strip_prefix(&format!("http://{HOST}"))
                .unwrap_or_else(|| panic!("Link is not absolute on the request's host: {target}"));
            next = Some(path.to_owned());
        }
        assert!(pages < 100, "pagination does not end");
    }
    (ids, pages)
}

/// The ids of the demo dataset's latest v2 (or v3) footprints, from the footprints table.
pub(crate) async fn demo_ids(major: &str, company: Option<&str>) -> BTreeSet<String> {
    let tables = mieruka::dataset::load(None).expect("demo");
    let session = mieruka::query::Session::new(&tables)
        .await
        .expect("session");
    let filter = company
        .map(|c| format!(" AND array_has(company_ids, '{c}')"))
        .unwrap_or_default();
    let out = session
        .sql(&format!(
            "SELECT DISTINCT lower(id) AS id FROM footprints WHERE starts_with(spec_version, '{major}.'){filter}"
        ))
        .await
        .expect("sql");
    let mut ids = BTreeSet::new();
    for b in &out.batches {
        for r in 0..b.num_rows() {
            ids.insert(mieruka::output::text(b.column(0), r));
        }
    }
    ids
}

#[tokio::test]
async fn list_paginates_with_absolute_next_links() {
    let app = demo_app(3600).await;
    let t = token(&app, "buyer").await;
    let (ids, pages) = all_pages(&app, &t, "/2/footprints?limit=7").await;
    let expected = demo_ids("2", None).await;
    assert!(
        expected.len() > 14,
        "the demo has {} v2 footprints",
        expected.len()
    );
    assert!(pages >= 3, "{pages} pages");
    assert_eq!(pages, expected.len().div_ceil(7));
    let got: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(got.len(), ids.len(), "a footprint came twice");
    assert_eq!(got, expected);

    // Without a limit: everything at once, no Link.
    let r = call(&app, Method::GET, "/2/footprints", &[bearer(&t)], "").await;
    assert_eq!(
        r.body["data"].as_array().map(Vec::len),
        Some(expected.len())
    );
    assert!(r.headers.get(header::LINK).is_none());

    // A page link can be called again.
    let again = call(
        &app,
        Method::GET,
        "/2/footprints?limit=7&offset=7",
        &[bearer(&t)],
        "",
    )
    .await;
    let twice = call(
        &app,
        Method::GET,
        "/2/footprints?limit=7&offset=7",
        &[bearer(&t)],
        "",
    )
    .await;
    assert_eq!(again.body, twice.body);

    // Under /3/: the v3 footprints and, converted, the v2 ones (the demo's v2 footprints are
    // all per kilogram with their mass, so all convert). The v3 ones are per piece, which v2
    // has no declared unit for: they stay out of /2/, as the first assertion showed.
    let (ids3, pages3) = all_pages(&app, &t, "/3/footprints?limit=4").await;
    let both: BTreeSet<String> = demo_ids("3", None)
        .await
        .union(&expected)
        .cloned()
        .collect();
    assert_eq!(pages3, both.len().div_ceil(4));
    assert_eq!(ids3.into_iter().collect::<BTreeSet<_>>(), both);
}

/// PACT v3 FAQ: "It will, however, be possible to transform V2.x PCFs to V3 PCFs and exchange
/// these over the V3 API." A footprint is served under the other version's path through
/// `pact::convert`, or left out there with the reason.
#[tokio::test]
async fn footprints_are_served_in_the_other_version_or_left_out_with_a_reason() {
    let app = demo_app(3600).await;
    let t = token(&app, "buyer").await;
    let get = |path: String| {
        let app = app.clone();
        let t = t.clone();
        async move { call(&app, Method::GET, &path, &[bearer(&t)], "").await }
    };
    let v2_id = demo_ids("2", None)
        .await
        .into_iter()
        .next()
        .expect("a v2 footprint");
    let v2 = get(format!("/2/footprints/{v2_id}")).await.body["data"].clone();
    let as_v3 = get(format!("/3/footprints/{v2_id}")).await;
    assert_eq!(as_v3.status, StatusCode::OK, "{}", as_v3.body);
    let as_v3 = &as_v3.body["data"];
    assert_eq!(as_v3["specVersion"], "3.0.0");
    assert_eq!(as_v3["id"], v2["id"]);
    assert_eq!(
        as_v3["pcf"]["pcfExcludingBiogenicUptake"],
        v2["pcf"]["pCfExcludingBiogenic"]
    );
    assert_eq!(
        as_v3["pcf"]["declaredUnitOfMeasurement"],
        v2["pcf"]["declaredUnit"]
    );
    // v3 criteria apply to the converted document: its product id finds it under /3/.
    let product = v2["productIds"][0].as_str().expect("product id");
    let r = get(format!("/3/footprints?productId={}", urlencode(product))).await;
    let found: Vec<&str> = r.body["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|d| d["id"].as_str())
        .collect();
    assert!(found.contains(&v2_id.as_str()), "{found:?}");

    // A v3 footprint per piece has no v2 form: 404 with the reason and where it is.
    let v3_id = demo_ids("3", None)
        .await
        .into_iter()
        .next()
        .expect("a v3 footprint");
    let r = get(format!("/2/footprints/{v3_id}")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body["code"], "NoSuchFootprint");
    let message = r.body["message"].as_str().expect("message");
    assert!(
        message.contains("cannot be given as v2") && message.contains("\"piece\""),
        "{message}"
    );
    assert!(
        message.contains(&format!("/3/footprints/{v3_id}")),
        "{message}"
    );
}

#[tokio::test]
async fn a_client_sees_only_what_its_data_owner_shares() {
    let app = demo_app(3600).await;
    let t = token(&app, "panel-buyer").await;
    let (ids, _) = all_pages(&app, &t, "/2/footprints").await;
    let (ids3, _) = all_pages(&app, &t, "/3/footprints").await;
    let mut got: BTreeSet<String> = ids.into_iter().collect();
    got.extend(ids3);
    let mut expected = demo_ids("2", Some(FORMOSA)).await;
    expected.extend(demo_ids("3", Some(FORMOSA)).await);
    assert!(!expected.is_empty());
    assert_eq!(got, expected);

    // Another company's footprint answers as an unknown id does (#12 item 10: a 403 would
    // tell the client that the id exists).
    let other = demo_ids("2", None)
        .await
        .into_iter()
        .find(|id| !expected.contains(id))
        .expect("another footprint");
    let r = call(
        &app,
        Method::GET,
        &format!("/2/footprints/{other}"),
        &[bearer(&t)],
        "",
    )
    .await;
    let unknown = call(
        &app,
        Method::GET,
        "/2/footprints/00000000-0000-4000-8000-000000000000",
        &[bearer(&t)],
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert_eq!(r.status, unknown.status);
    assert_eq!(r.body["code"], unknown.body["code"]);
}

#[tokio::test]
async fn v2_filters_select_what_the_spec_says() {
    let app = demo_app(3600).await;
    let t = token(&app, "buyer").await;
    let list = |f: &str| {
        let app = app.clone();
        let t = t.clone();
        let uri = format!("/2/footprints?$filter={}", urlencode(f));
        async move {
            let r = call(&app, Method::GET, &uri, &[bearer(&t)], "").await;
            (r.status, r.body)
        }
    };
    // The LCD cell's two footprints.
    let (s, b) = list(&format!("productIds/any(productId:(productId eq '{LCD}'))")).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let data = b["data"].as_array().expect("data");
    assert_eq!(data.len(), 2, "{b}");
    assert!(data.iter().all(|d| d["productIds"][0] == LCD));

    // Only the FY2024 one has a reference period starting on or after 2024-04-01.
    let (_, b) = list(&format!(
        "productIds/any(p:(p eq '{LCD}')) and (pcf/referencePeriodStart ge '2024-04-01T00:00:00Z')"
    ))
    .await;
    let data = b["data"].as_array().expect("data");
    assert_eq!(data.len(), 1, "{b}");
    assert_eq!(
        data[0]["pcf"]["referencePeriodStart"],
        "2024-04-01T00:00:00Z"
    );

    // Every document returned for a country filter has that country, and none is missed.
    let (_, all) = list("created ge '1970-01-01T00:00:00Z'").await;
    let all = all["data"].as_array().expect("data").clone();
    let (_, kr) = list("pcf/geographyCountry eq 'KR'").await;
    let kr = kr["data"].as_array().expect("data");
    let expected = all
        .iter()
        .filter(|d| d["pcf"]["geographyCountry"] == "KR")
        .count();
    assert!(expected > 0);
    assert_eq!(kr.len(), expected);

    for bad in [
        "pcf/geographyCountry eq",
        "pcf/declaredUnit eq 'kilogram'",
        "a or b",
    ] {
        let (s, b) = list(bad).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {b}");
        assert_eq!(b["code"], "BadRequest");
        assert!(
            b["message"]
                .as_str()
                .unwrap_or_default()
                .contains("$filter"),
            "{b}"
        );
    }
    let r = call(
        &app,
        Method::GET,
        "/2/footprints?limit=many",
        &[bearer(&t)],
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // The largest limit and offset a client can send: past the end, an empty page and no
    // next link (their sum would overflow).
    for path in [
        "/2/footprints?limit=18446744073709551615&offset=18446744073709551615",
        "/3/footprints?limit=18446744073709551615&offset=18446744073709551615",
    ] {
        let r = call(&app, Method::GET, path, &[bearer(&t)], "").await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert!(r.headers.get(header::LINK).is_none(), "{path}");
        assert_eq!(r.body["data"], serde_json::json!([]), "{path}");
    }
    let r = call(
        &app,
        Method::GET,
        "/2/footprints?colour=red",
        &[bearer(&t)],
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The spec's own examples, ingested, served and compared with what was sent.
#[tokio::test]
async fn the_spec_examples_come_back_unchanged() {
    let v2 = common::v2_example();
    let v3 = common::v3_example();
    let prepared = common::check(&[
        source("v2.json", &v2.to_string()),
        source("v3.json", &v3.to_string()),
    ]);
    assert_eq!(prepared.report.rejected, 0, "{:?}", prepared.report.errors);
    let tables = prepared.to_tables(0).expect("tables");
    let app = router(
        AppState::new(tables, None, Some(config(3600)))
            .await
            .expect("state"),
    );
    let t = token(&app, "buyer").await;

    let r = call(
        &app,
        Method::GET,
        &format!("/2/footprints/{}", v2["id"].as_str().unwrap()),
        &[bearer(&t)],
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body, json!({ "data": v2 }));
    let r = call(&app, Method::GET, "/2/footprints", &[bearer(&t)], "").await;
    assert_eq!(r.body, json!({ "data": [v2] }));

    let r = call(
        &app,
        Method::GET,
        &format!("/3/footprints/{}", v3["id"].as_str().unwrap()),
        &[bearer(&t)],
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body, json!({ "data": v3 }));
    // v3 criteria: OR within one, AND across.
    let product = v3["productIds"][0].as_str().unwrap();
    let pcf = &v3["pcf"];
    let geography = [
        "geographyCountry",
        "geographyRegionOrSubregion",
        "geographyCountrySubdivision",
    ]
    .iter()
    .find_map(|k| pcf[*k].as_str())
    .expect("the v3 example names a geography");
    let status = v3["status"].as_str().expect("status");
    for (query, n) in [
        (format!("productId={product}&productId=urn:x"), 1),
        (format!("productId={product}&status=Deprecated"), 0),
        (format!("productId={}", product.to_uppercase()), 1),
        ("productId=urn:x".to_owned(), 0),
        // geography matches any of the three geography fields, case-insensitively
        // (PACT v3 §list-footprints); the stored fields decide it before any document is
        // read, and must agree with the document.
        (format!("geography={geography}"), 1),
        (format!("geography={}", geography.to_lowercase()), 1),
        (format!("geography=ZZ&geography={geography}"), 1),
        ("geography=ZZ".to_owned(), 0),
        (format!("geography={geography}&status={status}"), 1),
    ] {
        let r = call(
            &app,
            Method::GET,
            &format!("/3/footprints?{query}"),
            &[bearer(&t)],
            "",
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.body);
        assert_eq!(r.body["data"].as_array().map(Vec::len), Some(n), "{query}");
    }
    // v3 filtering: "`status` (string) If Present, MUST be either be "Active" or "Deprecated"".
    // Another value is a criterion no footprint meets: 200 with an empty list (as
    // interoperating hosts answer), not an error; the case of the two values does not matter.
    let r = call(
        &app,
        Method::GET,
        "/3/footprints?status=Bogus",
        &[bearer(&t)],
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["data"], json!([]));
    let r = call(
        &app,
        Method::GET,
        "/3/footprints?status=active",
        &[bearer(&t)],
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(!r.body["data"].as_array().expect("data").is_empty());

    // Unknown and malformed ids.
    let r = call(
        &app,
        Method::GET,
        "/2/footprints/00000000-0000-4000-8000-000000000000",
        &[bearer(&t)],
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body["code"], "NoSuchFootprint");
    // The v3 API names the same answer NotFound (OpenAPI v3.0.3, Error.code:
    // "NotFound # 404 NoSuchFootprint"; its example `{"code": "NotFound", …}`).
    let r = call(
        &app,
        Method::GET,
        "/3/footprints/00000000-0000-4000-8000-000000000000",
        &[bearer(&t)],
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body["code"], "NotFound");
    let r = call(
        &app,
        Method::GET,
        "/2/footprints/not-a-uuid",
        &[bearer(&t)],
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["code"], "BadRequest");
}

#[tokio::test]
async fn events_are_checked_and_acknowledged() {
    let app = demo_app(3600).await;
    let t = token(&app, "buyer").await;
    let ce = ("content-type", "application/cloudevents+json".to_owned());
    let fulfilled =
        std::fs::read_to_string(common::fixtures().join("pact/v2/pf-response-event.json"))
            .expect("fixture");
    let r = call(
        &app,
        Method::POST,
        "/2/events",
        &[bearer(&t), ce.clone()],
        &fulfilled,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let published = json!({
        "type": "org.wbcsd.pathfinder.ProductFootprint.Published.v1",
        "specversion": "1.0",
        "id": "EventId",
        "source": "//EventHostname/EventSubpath",
        "time": "2022-05-31T17:31:00Z",
        "data": {"pfIds": ["91715e5e-fd0b-4d1c-8fab-76290c46e6ed"]}
    });
    let r = call(
        &app,
        Method::POST,
        "/2/events",
        &[bearer(&t), ce.clone()],
        &published.to_string(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // A v3 request: criteria in data (the spec's example).
    let v3_request = json!({
        "type": "org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.3",
        "specversion": "1.0",
        "id": "1934405d-4f9b-4b3b-9c05bc35-68f8",
        "source": "//api.example.com/3/events",
        "time": "2025-03-05T17:31:00Z",
        "data": {
            "productId": ["urn:pact:sample.com:product-id:44055-9c05bc35-68f8"],
            "geography": ["DE"],
            "validAfter": "2025-01-01T00:00:00Z"
        }
    });
    // Well-formed, but declined at once (no asynchronous fulfilment): 400 NotImplemented,
    // which the spec allows instead of a later Rejected event.
    let r = call(
        &app,
        Method::POST,
        "/3/events",
        &[bearer(&t), ce.clone()],
        &v3_request.to_string(),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.body["code"], "NotImplemented");
    // "The property data.comment of a PF Request Event is OPTIONAL": with one, the request
    // is still understood (and declined for the same reason), in v3 as in v2.
    let mut commented = v3_request.clone();
    commented["data"]["comment"] = "Please provide current PCF value.".into();
    let r = call(
        &app,
        Method::POST,
        "/3/events",
        &[bearer(&t), ce.clone()],
        &commented.to_string(),
    )
    .await;
    assert_eq!(r.body["code"], "NotImplemented", "{}", r.body);
    let mut v3_bad = v3_request.clone();
    v3_bad["data"] = json!("criteria");
    let r = call(
        &app,
        Method::POST,
        "/3/events",
        &[bearer(&t), ce.clone()],
        &v3_bad.to_string(),
    )
    .await;
    assert_eq!(r.body["code"], "BadRequest", "{}", r.body);

    // Every event body is checked whole; what the spec requires and a wrong body breaks:
    // `base` with the member at `pointer` set (added if missing).
    let with = |base: &Value, pointer: &str, value: Value| {
        let mut e = base.clone();
        let (parent, key) = pointer.rsplit_once('/').expect("pointer");
        e.pointer_mut(parent).expect("parent")[key] = value;
        e.to_string()
    };
    let v2_request = json!({
        "type": "org.wbcsd.pathfinder.ProductFootprintRequest.Created.v1",
        "specversion": "1.0",
        "id": "848dcf00-2c18-400d-bcb8-11e45bbf7ebd",
        "source": "//RequesterEventHostname/EventSubpath",
        "data": {"pf": {"productIds": ["urn:gtin:4712345060507"]}, "comment": "Please provide current PCF value."}
    });
    let mut no_type = published.clone();
    no_type.as_object_mut().unwrap().remove("type");
    let fulfilled: Value = serde_json::from_str(&fulfilled).expect("json");
    let rejected = json!({
        "type": "org.wbcsd.pact.ProductFootprint.RequestRejectedEvent.3",
        "specversion": "1.0",
        "id": "e1",
        "source": "//requester.example/3/events",
        "data": {"requestEventId": "r1", "error": {"code": "NotFound", "message": "none"}}
    });
    let r = call(
        &app,
        Method::POST,
        "/3/events",
        &[bearer(&t), ce.clone()],
        &rejected.to_string(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let mut v3_fulfilled = fulfilled.clone();
    v3_fulfilled["type"] = "org.wbcsd.pact.ProductFootprint.RequestFulfilledEvent.3".into();
    for (body, code) in [
        ("{".to_owned(), "BadRequest"),
        ("[]".to_owned(), "BadRequest"),
        (no_type.to_string(), "BadRequest"),
        (
            with(&published, "/type", "org.example.Unknown.v1".into()),
            "NotImplemented",
        ),
        // CloudEvents 1.0 JSON: specversion "1.0"; time an RFC 3339 timestamp.
        (with(&published, "/specversion", "0.3".into()), "BadRequest"),
        (with(&published, "/time", "yesterday".into()), "BadRequest"),
        (with(&published, "/id", "".into()), "BadRequest"),
        // "The PfIds MUST be the non-empty list of ProductFootprint/id values of the updated
        // Product Footprints, encoded as a JSON array" — ids are UUIDs, not product ids.
        (
            with(&published, "/data/pfIds", "not a list".into()),
            "BadRequest",
        ),
        (with(&published, "/data/pfIds", json!([])), "BadRequest"),
        (
            with(&published, "/data/pfIds", json!(["urn:gtin:4712345060507"])),
            "BadRequest",
        ),
        (
            with(&published, "/data", json!({"productFootprintIds": []})),
            "BadRequest",
        ),
        // v2 request: "data.comment … If defined, … MUST be encoded as a JSON string".
        (with(&v2_request, "/data/comment", json!(5)), "BadRequest"),
        (
            with(&v2_request, "/data/pf", json!(["urn:x"])),
            "BadRequest",
        ),
        // v3 request: criteria as ListFootprints takes them; anything else is not one.
        (
            with(&v3_request, "/data/productIds", json!(["urn:x"])),
            "BadRequest",
        ),
        (
            with(&v3_request, "/data/validAfter", "2025".into()),
            "BadRequest",
        ),
        (
            with(&v3_request, "/data/geography", json!([])),
            "BadRequest",
        ),
        // Fulfilled: requestEventId a string, pfs a list of footprints (v3: non-empty).
        (
            with(&fulfilled, "/data/requestEventId", json!(7)),
            "BadRequest",
        ),
        (with(&fulfilled, "/data/pfs", json!(["pf"])), "BadRequest"),
        (with(&v3_fulfilled, "/data/pfs", json!([])), "BadRequest"),
        // Rejected: data.error an error response, with code and message.
        (
            with(&rejected, "/data/error", json!({"code": "NotFound"})),
            "BadRequest",
        ),
    ] {
        let r = call(
            &app,
            Method::POST,
            "/2/events",
            &[bearer(&t), ce.clone()],
            &body,
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.body);
        assert_eq!(r.body["code"], code, "{body}");
    }
    let r = call(
        &app,
        Method::POST,
        "/2/events",
        &[ce],
        &published.to_string(),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["code"], "BadRequest");
}

#[tokio::test]
async fn answers_to_our_requests_are_matched_ingested_and_kept() {
    use mieruka::pact::request::{RequestLog, SentRequest};
    // A data directory that sent two requests (`mieruka request`), still unanswered.
    let dir = common::temp_dir("pact-answers");
    let store = mieruka::store::Store::create_or_open(&dir).expect("store");
    let sent = |id: &str| SentRequest {
        id: id.into(),
        partner: "Supplier".into(),
        company_id: "urn:uuid:69585GB6-56T9-6958-E526-6FDGZJHU1326".into(),
        product_id: "urn:gtin:4712345060507".into(),
        footprint_id: "91715e5e-fd0b-4d1c-8fab-76290c46e6ed".into(),
        root_product_id: "urn:example:root".into(),
        gap: "unresolved".into(),
        share_pct: 12.5,
        coverage_before_pct: None,
        status: "sent".into(),
        reason: None,
        sent_at: "2026-12-01T00:00:00Z".into(),
        answered_at: None,
        event: Value::Null,
    };
    RequestLog {
        requests: vec![sent("req-f"), sent("req-r")],
    }
    .write(&dir)
    .expect("log");
    let app = router(
        AppState::new(
            store.load().expect("load"),
            Some(dir.clone()),
            Some(config(3600)),
        )
        .await
        .expect("state"),
    );
    let t = token(&app, "buyer").await;
    let ce = ("content-type", "application/cloudevents+json".to_owned());
    let post = |body: String| {
        let (app, t, ce) = (app.clone(), t.clone(), ce.clone());
        async move { call(&app, Method::POST, "/2/events", &[bearer(&t), ce], &body).await }
    };
    // The spec's Fulfilled example (one footprint, 91715e5e…), answering req-f.
    let mut fulfilled: Value = serde_json::from_str(
        &std::fs::read_to_string(common::fixtures().join("pact/v2/pf-response-event.json"))
            .expect("fixture"),
    )
    .expect("json");
    fulfilled["data"]["requestEventId"] = "req-f".into();
    let r = post(fulfilled.to_string()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let rejected = json!({
        "type": "org.wbcsd.pathfinder.ProductFootprintRequest.Rejected.v1",
        "specversion": "1.0",
        "id": "e2",
        "source": "//supplier.example/2/events",
        "data": {"requestEventId": "req-r", "error": {"code": "NoSuchFootprint", "message": "not calculated yet"}}
    });
    let r = post(rejected.to_string()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // An answer to a request never sent from here changes nothing.
    let mut stray = rejected.clone();
    stray["data"]["requestEventId"] = "req-x".into();
    assert_eq!(post(stray.to_string()).await.status, StatusCode::OK);

    let log = RequestLog::read(&dir).expect("log");
    let (f, r) = (&log.requests[0], &log.requests[1]);
    assert_eq!(
        (f.status.as_str(), f.reason.as_deref()),
        ("fulfilled", None)
    );
    assert_eq!(r.status, "rejected");
    assert_eq!(
        r.reason.as_deref(),
        Some("NoSuchFootprint: not calculated yet")
    );
    assert!(f.answered_at.is_some() && r.answered_at.is_some());
    assert_eq!(log.requests.len(), 2);
    // The footprint is in the store, and the server answers from it at once.
    let tables = store.load().expect("load");
    assert_eq!(
        tables
            .footprints
            .iter()
            .map(|b| b.num_rows())
            .sum::<usize>(),
        1
    );
    let r = call(
        &app,
        Method::GET,
        "/2/footprints/91715e5e-fd0b-4d1c-8fab-76290c46e6ed",
        &[bearer(&t)],
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}
