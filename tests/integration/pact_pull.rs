//! `mieruka pull` against PACT hosts on loopback sockets: mieruka's own host (the round
//! trip), and small hosts that misbehave on purpose (5xx, expired tokens, no discovery).

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use mieruka::ingest::IngestOptions;
use mieruka::pact::client::{PullOptions, pull};
use mieruka::pact::{PactClient, PactConfig};
use mieruka::server::{AppState, Config, hash_token, router};
use serde_json::json;
use tower::ServiceExt;

use crate::common;

async fn spawn(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

/// `mieruka ARGS` on a blocking thread (the hosts it talks to run on this runtime), without
/// the environment's data directory and config.
fn mieruka_cli(args: Vec<String>) -> tokio::task::JoinHandle<std::process::Output> {
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_mieruka"))
            .args(args)
            .env_remove("MIERUKA_DATA")
            .env_remove("MIERUKA_CONFIG")
            .output()
            .expect("mieruka")
    })
}

fn options(addr: SocketAddr, id: &str, secret: &str) -> PullOptions {
    PullOptions {
        url: format!("http://{addr}"),
        client_id: id.to_owned(),
        client_secret: secret.to_owned(),
        version: 2,
        filter: None,
        limit: 5,
        timeout: Duration::from_secs(10),
        attempts: 3,
        ca_cert: None,
        token_url: None,
        since: None,
    }
}

/// A host config with one client, `buyer` (secret `buyer-secret`), reading every company.
fn buyer_config(token_seconds: u64) -> Config {
    Config {
        pact: PactConfig {
            partners: Vec::new(),
            token_seconds,
            clients: vec![PactClient {
                id: "buyer".into(),
                secret_sha256: hash_token("buyer-secret"),
                companies: vec!["*".into()],
                callback: None,
            }],
        },
        ..Config::default()
    }
}

async fn own_host(token_seconds: u64) -> SocketAddr {
    let tables = mieruka::dataset::load(None).expect("demo");
    spawn(router(
        AppState::new(tables, None, Some(buyer_config(token_seconds)))
            .await
            .expect("state"),
    ))
    .await
}

/// Ids of the demo dataset's PACT v2 footprints.
async fn demo_v2_ids() -> BTreeSet<String> {
    crate::pact_host::demo_ids("2", None).await
}

#[tokio::test]
async fn round_trip_through_the_own_host() {
    let addr = own_host(3600).await;
    let pulled = pull(&options(addr, "buyer", "buyer-secret"))
        .await
        .expect("pull");
    assert!(pulled.error.is_none(), "{:?}", pulled.error);
    let expected = demo_v2_ids().await;
    assert_eq!(pulled.stats.footprints, expected.len());
    assert_eq!(pulled.stats.pages, expected.len().div_ceil(5));
    assert!(pulled.stats.pages >= 3);
    assert_eq!(
        pulled.stats.token_endpoint,
        format!("http://{addr}/auth/token")
    );

    // Ingested into a fresh data directory: the same footprints, nothing rejected.
    let dir = common::temp_dir("pull-round-trip");
    let store = mieruka::store::Store::create_or_open(&dir).expect("store");
    let report =
        mieruka::ingest::ingest_into(&store, &pulled.pages, &IngestOptions::default(), &|_| {})
            .expect("ingest");
    assert_eq!(report.rejected, 0, "{:?}", report.errors);
    assert_eq!(report.footprints, expected.len());
    let tables = store.load().expect("load");
    let session = mieruka::query::Session::new(&tables)
        .await
        .expect("session");
    let out = session
        .sql("SELECT DISTINCT lower(id) FROM footprints")
        .await
        .expect("sql");
    let mut got = BTreeSet::new();
    for b in &out.batches {
        for r in 0..b.num_rows() {
            got.insert(mieruka::output::text(b.column(0), r));
        }
    }
    assert_eq!(got, expected);

    // With a filter: the LCD cell's two footprints (see pact_host.rs).
    let mut o = options(addr, "buyer", "buyer-secret");
    o.filter = Some("productIds/any(p:(p eq 'urn:mieruka-demo:product:formosa-lcd-cell'))".into());
    let pulled = pull(&o).await.expect("pull");
    assert!(pulled.error.is_none(), "{:?}", pulled.error);
    assert_eq!(pulled.stats.footprints, 2);
}

#[tokio::test]
async fn bad_credentials_and_expired_tokens() {
    let addr = own_host(3600).await;
    let e = pull(&options(addr, "buyer", "wrong"))
        .await
        .expect_err("refused");
    assert!(e.to_string().contains("invalid_client"), "{e}");

    // Tokens that expire at once: renewed once, then the pull stops with TokenExpired.
    let addr = own_host(0).await;
    let pulled = pull(&options(addr, "buyer", "buyer-secret"))
        .await
        .expect("pull");
    assert_eq!(pulled.stats.token_refreshes, 1);
    let e = pulled.error.expect("stopped");
    assert!(e.to_string().contains("TokenExpired"), "{e}");
    assert!(pulled.pages.is_empty());
}

/// A host with no discovery document whose list answers 503 `failures` times first, and
/// whose second page always fails when `second_page_fails`.
fn flaky_host(failures: usize, second_page_fails: bool) -> (Router, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let doc = common::v2_example();
    let counter = calls.clone();
    let list = move |headers: HeaderMap, uri: axum::http::Uri| {
        let counter = counter.clone();
        let doc = doc.clone();
        async move {
            if headers
                .get(header::AUTHORIZATION)
                .and_then(|h| h.to_str().ok())
                != Some("Bearer t0k3n")
            {
                return (
                    StatusCode::FORBIDDEN,
                    axum::Json(json!({"code": "AccessDenied", "message": "no"})),
                )
                    .into_response();
            }
            let n = counter.fetch_add(1, Ordering::SeqCst);
            if n < failures {
                return (StatusCode::SERVICE_UNAVAILABLE, "busy").into_response();
            }
            let second = uri.query().unwrap_or_default().contains("offset=1");
            if second && second_page_fails {
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    axum::Json(json!({"code": "InternalError", "message": "down"})),
                )
                    .into_response();
            }
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let mut r = axum::Json(json!({"data": [doc]})).into_response();
            if !second {
                let link = format!("<http://{host}/2/footprints?limit=1&offset=1>; rel=\"next\"");
                r.headers_mut()
                    .insert(header::LINK, link.parse().expect("link"));
            }
            r
        }
    };
    let app = Router::new()
        .route(
            "/auth/token",
            post(|| async { axum::Json(json!({"access_token": "t0k3n", "token_type": "bearer"})) }),
        )
        .route("/2/footprints", get(list));
    (app, calls)
}

#[tokio::test]
async fn retries_5xx_and_falls_back_to_auth_token() {
    let (app, calls) = flaky_host(2, false);
    let addr = spawn(app).await;
    let pulled = pull(&options(addr, "any", "any")).await.expect("pull");
    assert!(pulled.error.is_none(), "{:?}", pulled.error);
    // Discovery answered 404, so the token came from BASE/auth/token.
    assert_eq!(
        pulled.stats.token_endpoint,
        format!("http://{addr}/auth/token")
    );
    // Two 503s, then page one; then page two.
    assert_eq!(pulled.stats.retries, 2);
    assert_eq!(calls.load(Ordering::SeqCst), 4);
    assert_eq!(pulled.stats.pages, 2);
}

#[tokio::test]
async fn a_pull_that_fails_part_way_stores_nothing_unless_asked() {
    let (app, _) = flaky_host(0, true);
    let addr = spawn(app).await;
    let pulled = pull(&options(addr, "any", "any")).await.expect("pull");
    assert_eq!(pulled.stats.pages, 1);
    assert_eq!(pulled.stats.retries, 2, "3 attempts at the failing page");
    assert!(pulled.error.is_some());

    // The CLI: without --keep-partial nothing is stored; with it, the first page is.
    let dir = common::temp_dir("pull-partial");
    let data = dir.join("data");
    let run = |extra: &'static [&'static str]| {
        let data = data.clone();
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_mieruka"))
                .env_remove("MIERUKA_DATA")
                .args([
                    "pull",
                    "--url",
                    &format!("http://{addr}"),
                    "--client-id",
                    "any",
                    "--client-secret",
                    "any",
                    "--data",
                ])
                .arg(&data)
                .args(extra)
                .output()
                .expect("run")
        })
    };
    let out = run(&[]).await.expect("join");
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("nothing was stored"), "{stderr}");
    assert!(!data.join("manifest.json").exists());

    let out = run(&["--keep-partial", "--format", "json"])
        .await
        .expect("join");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["complete"], false);
    assert_eq!(report["ingest"]["footprints"], 1, "{report}");
    assert!(data.join("manifest.json").exists());
}

#[tokio::test]
async fn pulls_over_https_from_a_host_with_a_private_ca() {
    let tls = common::fixtures().join("tls");
    let config = buyer_config(3600);
    let tables = mieruka::dataset::load(None).expect("demo");
    let state = AppState::new(tables, None, Some(config))
        .await
        .expect("state");
    state.set_https(true);
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = tcp.local_addr().expect("addr");
    let server_tls =
        mieruka::server::tls::server_config(&tls.join("cert.pem"), &tls.join("key.pem"))
            .expect("certificate and key");
    let listener = mieruka::server::tls::TlsListener::new(tcp, server_tls).expect("listener");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router(state)).await;
    });

    let mut o = options(addr, "buyer", "buyer-secret");
    o.url = format!("https://{addr}");
    o.attempts = 1;
    // Not signed by a CA it trusts: refused, and the message says why.
    let e = pull(&o).await.expect_err("untrusted");
    assert!(e.to_string().contains("UnknownIssuer"), "{e}");

    o.ca_cert = Some(tls.join("ca.pem"));
    let pulled = pull(&o).await.expect("pull");
    assert!(pulled.error.is_none(), "{:?}", pulled.error);
    assert_eq!(pulled.stats.footprints, demo_v2_ids().await.len());
    assert_eq!(
        pulled.stats.token_endpoint,
        format!("https://{addr}/auth/token")
    );
}

/// Events received by a requester's host.
type Inbox = Arc<std::sync::Mutex<Vec<serde_json::Value>>>;

/// A requester's host on loopback: hands out the token `cb-token` and records every event
/// sent to its `/2/events` or `/3/events` with it.
async fn inbox_host() -> (SocketAddr, Inbox) {
    let received: Inbox = Arc::default();
    let inbox = received.clone();
    let requester = Router::new()
        .route(
            "/auth/token",
            post(|| async {
                axum::Json(json!({"access_token": "cb-token", "token_type": "bearer"}))
            }),
        )
        .route(
            "/{version}/events",
            post(move |headers: HeaderMap, body: axum::body::Bytes| {
                let inbox = inbox.clone();
                async move {
                    if headers
                        .get(header::AUTHORIZATION)
                        .and_then(|h| h.to_str().ok())
                        != Some("Bearer cb-token")
                    {
                        return StatusCode::FORBIDDEN;
                    }
                    let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                    inbox.lock().expect("inbox").push(v);
                    StatusCode::OK
                }
            }),
        );
    (spawn(requester).await, received)
}

/// A data owner's host: mieruka serving the demo to one client, `client` (secret
/// `CLIENT-secret`), which may read every company and is answered on `requester`.
async fn owner_host(requester: SocketAddr, client: &str) -> Router {
    let callback: mieruka::pact::client::Callback = toml::from_str(&format!(
        "url = \"http://{requester}\"\nclient_id = \"owner\"\nclient_secret = \"owner-secret\"\n"
    ))
    .expect("callback");
    let config = Config {
        pact: PactConfig {
            partners: Vec::new(),
            token_seconds: 3600,
            clients: vec![PactClient {
                id: client.into(),
                secret_sha256: hash_token(&format!("{client}-secret")),
                companies: vec!["*".into()],
                callback: Some(callback),
            }],
        },
        ..Config::default()
    };
    let tables = mieruka::dataset::load(None).expect("demo");
    router(
        AppState::new(tables, None, Some(config))
            .await
            .expect("state"),
    )
}

#[tokio::test]
async fn request_created_is_answered_on_the_requesters_host() {
    let (requester_addr, received) = inbox_host().await;

    // The data owner: mieruka, with a callback for the buyer.
    let owner = owner_host(requester_addr, "buyer").await;
    let token = {
        use base64::Engine;
        let basic = base64::engine::general_purpose::STANDARD.encode("buyer:buyer-secret");
        let r = owner
            .clone()
            .oneshot(
                axum::http::Request::post("/auth/token")
                    .header(header::AUTHORIZATION, format!("Basic {basic}"))
                    .body(axum::body::Body::from("grant_type=client_credentials"))
                    .expect("request"),
            )
            .await
            .expect("infallible");
        let b = axum::body::to_bytes(r.into_body(), usize::MAX)
            .await
            .expect("body");
        serde_json::from_slice::<serde_json::Value>(&b).expect("json")["access_token"]
            .as_str()
            .expect("token")
            .to_owned()
    };
    let ask = |id: &str, product: &str| {
        json!({
            "type": "org.wbcsd.pathfinder.ProductFootprintRequest.Created.v1",
            "specversion": "1.0",
            "id": id,
            "source": "//requester.example/2/events",
            "time": "2026-11-27T00:00:00Z",
            "data": {"pf": {"productIds": [product]}, "comment": "please"}
        })
    };
    // A v3 request carries its criteria in data, and may carry a comment, which is not one:
    // "The property data.comment of a PF Request Event is OPTIONAL."
    let ask_v3 = json!({
        "type": "org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.3",
        "specversion": "1.0",
        "id": "req-3",
        "source": "//requester.example/3/events",
        "time": "2026-11-27T00:00:00Z",
        "data": {
            "productId": ["urn:mieruka-demo:product:kaede-note-14"],
            "comment": "今年度のPCFをお願いします / please send this year's PCF"
        }
    });
    for (path, event) in [
        (
            "/2/events",
            ask("req-1", "urn:mieruka-demo:product:formosa-lcd-cell"),
        ),
        ("/2/events", ask("req-2", "urn:gtin:0000000000000")),
        ("/3/events", ask_v3),
    ] {
        let r = owner
            .clone()
            .oneshot(
                axum::http::Request::post(path)
                    .header(header::HOST, "owner.example")
                    .header(header::AUTHORIZATION, format!("Bearer {token}"))
                    .header(header::CONTENT_TYPE, "application/cloudevents+json")
                    .body(axum::body::Body::from(event.to_string()))
                    .expect("request"),
            )
            .await
            .expect("infallible");
        assert_eq!(r.status(), StatusCode::OK);
    }

    // Both answers arrive, asynchronously.
    let start = std::time::Instant::now();
    while received.lock().expect("inbox").len() < 3 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no answers arrived"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let events = received.lock().expect("inbox").clone();
    let by_request = |id: &str| {
        events
            .iter()
            .find(|e| e["data"]["requestEventId"] == id)
            .unwrap_or_else(|| panic!("no answer to {id}: {events:?}"))
            .clone()
    };
    // The LCD cell's two PACT v2 footprints (see pact_host.rs).
    let fulfilled = by_request("req-1");
    assert_eq!(
        fulfilled["type"],
        "org.wbcsd.pathfinder.ProductFootprintRequest.Fulfilled.v1"
    );
    assert_eq!(fulfilled["source"], "//owner.example/2/events");
    assert_eq!(fulfilled["specversion"], "1.0");
    let pfs = fulfilled["data"]["pfs"].as_array().expect("pfs");
    assert_eq!(pfs.len(), 2);
    assert!(
        pfs.iter()
            .all(|p| p["productIds"][0] == "urn:mieruka-demo:product:formosa-lcd-cell")
    );
    let rejected = by_request("req-2");
    assert_eq!(
        rejected["type"],
        "org.wbcsd.pathfinder.ProductFootprintRequest.Rejected.v1"
    );
    assert_eq!(rejected["data"]["error"]["code"], "NoSuchFootprint");
    // The notebook's two v3 footprints in the demo (datasets/pc-supply-chain, 25102b63… and
    // 7b198565…), in a v3 Fulfilled event.
    let v3 = by_request("req-3");
    assert_eq!(
        v3["type"],
        "org.wbcsd.pact.ProductFootprint.RequestFulfilledEvent.3"
    );
    let pfs = v3["data"]["pfs"].as_array().expect("pfs");
    let mut ids: Vec<&str> = pfs.iter().filter_map(|p| p["id"].as_str()).collect();
    ids.sort_unstable();
    assert_eq!(
        ids,
        [
            "25102b63-a972-4290-867b-6dae1873b46c",
            "7b198565-f1ea-426f-a6a7-5fa446e6d812"
        ]
    );
}

#[tokio::test]
async fn discovery_on_another_host_stops_the_pull_until_token_url_says_where() {
    // A test host whose discovery document announces its production address, as many do.
    let host = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(|| async {
                axum::Json(json!({
                    "issuer": "https://pact.supplier.example",
                    "token_endpoint": "https://pact.supplier.example/auth/token"
                }))
            }),
        )
        .route(
            "/auth/token",
            post(|| async { axum::Json(json!({"access_token": "t", "token_type": "bearer"})) }),
        )
        .route(
            "/2/footprints",
            get(|| async { axum::Json(json!({"data": []})) }),
        );
    let addr = spawn(host).await;
    let mut o = options(addr, "buyer", "buyer-secret");
    let e = pull(&o).await.expect_err("another host");
    let message = e.to_string();
    assert!(
        message.contains("https://pact.supplier.example/auth/token")
            && message.contains("--token-url"),
        "{message}"
    );
    // Told where, the pull goes on (and the secret goes only there).
    o.token_url = Some(format!("http://{addr}/auth/token"));
    let pulled = pull(&o).await.expect("pull");
    assert!(pulled.error.is_none(), "{:?}", pulled.error);
    assert_eq!(
        pulled.stats.token_endpoint,
        format!("http://{addr}/auth/token")
    );
    assert_eq!(pulled.stats.footprints, 0);
}

#[tokio::test]
async fn since_keeps_only_what_changed_and_each_document_as_received() {
    // The demo's PACT v2 footprints (datasets/pc-supply-chain/footprints-pact-v2.json), by
    // `updated`, else `created`: 16 on 2024-06-14, 1 on 2025-05-09, 16 on 2025-06-13. The
    // 2025-05-09 one is version 1 of b70616cb…, whose version 2 is among the 2025-06-13 ones;
    // the host lists the latest version of each footprint, so 32 arrive, 16 of each day.
    let addr = own_host(3600).await;
    let mut o = options(addr, "buyer", "buyer-secret");
    o.since = Some("2025-01-01T00:00:00Z".parse().expect("time"));
    let pulled = pull(&o).await.expect("pull");
    assert!(pulled.error.is_none(), "{:?}", pulled.error);
    assert_eq!(pulled.stats.footprints, 32);
    assert_eq!(pulled.stats.unchanged, 16);
    let dir = common::temp_dir("pull-since");
    let store = mieruka::store::Store::create_or_open(&dir).expect("store");
    let report =
        mieruka::ingest::ingest_into(&store, &pulled.pages, &IngestOptions::default(), &|_| {})
            .expect("ingest");
    assert_eq!((report.footprints, report.rejected), (16, 0));
    // Each kept document is the host's text byte for byte: the same text as in a pull of
    // everything, and dated after the day asked.
    let texts = |pages: &[mieruka::ingest::Source]| -> std::collections::BTreeMap<String, String> {
        let mut by_id = std::collections::BTreeMap::new();
        for p in pages {
            let bytes = p.read().expect("read");
            #[derive(serde::Deserialize)]
            struct Page<'a> {
                #[serde(borrow)]
                data: Vec<&'a serde_json::value::RawValue>,
            }
            let page: Page = serde_json::from_slice(&bytes).expect("page");
            for raw in page.data {
                let v: serde_json::Value = serde_json::from_str(raw.get()).expect("doc");
                by_id.insert(
                    v["id"].as_str().expect("id").to_owned(),
                    raw.get().to_owned(),
                );
            }
        }
        by_id
    };
    let kept = texts(&pulled.pages);
    let all = texts(
        &pull(&options(addr, "buyer", "buyer-secret"))
            .await
            .expect("pull")
            .pages,
    );
    assert_eq!(kept.len(), 16);
    for (id, text) in &kept {
        assert_eq!(Some(text), all.get(id), "{id}");
        let v: serde_json::Value = serde_json::from_str(text).expect("doc");
        let date = v["updated"]
            .as_str()
            .or(v["created"].as_str())
            .expect("date");
        assert!(date > "2025-01-01", "{id}: {date}");
    }

    // After the last of them was made, nothing is new.
    o.since = Some("2025-06-13T09:00:00Z".parse().expect("time"));
    let pulled = pull(&o).await.expect("pull");
    assert_eq!(pulled.stats.unchanged, 32);
}

#[test]
fn the_pull_log_remembers_each_host_version_and_filter() {
    use mieruka::pact::client::PullLog;
    let dir = common::temp_dir("pull-log");
    let addr: SocketAddr = "127.0.0.1:9".parse().expect("addr");
    let mut o = options(addr, "buyer", "buyer-secret");
    o.url = "HTTP://Pact.Example/api/".into();
    assert_eq!(
        PullLog::read(&dir).expect("empty").last(&o).expect("ok"),
        None
    );
    let started: chrono::DateTime<chrono::Utc> =
        "2026-11-30T08:15:00.123456Z".parse().expect("time");
    PullLog::record(&dir, &o, started).expect("record");
    // The scheme and host are case-insensitive and a trailing slash does not matter …
    let mut same = o.clone();
    same.url = "http://pact.example/api".into();
    let log = PullLog::read(&dir).expect("log");
    assert_eq!(log.last(&same).expect("ok"), Some(started));
    // … the path, the API version and the filter do.
    for change in [
        |o: &mut PullOptions| o.url = "http://pact.example/API".into(),
        |o: &mut PullOptions| o.version = 3,
        |o: &mut PullOptions| o.filter = Some("status=Active".into()),
    ] {
        let mut other = same.clone();
        change(&mut other);
        assert_eq!(
            log.last(&other).expect("ok"),
            None,
            "{}",
            PullLog::key(&other)
        );
    }
    std::fs::write(dir.join("pulls.json"), "{").expect("write");
    let e = PullLog::read(&dir).expect_err("broken");
    assert!(e.to_string().contains("pulls.json"), "{e}");
}

#[tokio::test]
async fn pull_since_last_goes_on_from_the_last_complete_pull() {
    let addr = own_host(3600).await;
    let dir = common::temp_dir("pull-since-last");
    let run = move |dir: std::path::PathBuf| {
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_mieruka"))
                .args([
                    "pull",
                    "--url",
                    &format!("http://{addr}"),
                    "--client-id",
                    "buyer",
                ])
                .args(["--since", "last", "--data"])
                .arg(&dir)
                .env("MIERUKA_PACT_CLIENT_SECRET", "buyer-secret")
                .env_remove("MIERUKA_DATA")
                .output()
                .expect("mieruka pull")
        })
    };
    // The first time there is nothing to go on from: everything is pulled (the 32 latest
    // versions of the demo's v2 footprints, see above) and the pull remembered.
    let first = run(dir.clone()).await.expect("join");
    let (out, err) = (
        String::from_utf8_lossy(&first.stdout),
        String::from_utf8_lossy(&first.stderr),
    );
    assert!(first.status.success(), "{out}{err}");
    assert!(err.contains("pulling everything"), "{err}");
    assert!(out.contains("pulled 32 footprints"), "{out}");
    assert!(dir.join("pulls.json").is_file());
    // The second time, none of them changed since the first began.
    let second = run(dir.clone()).await.expect("join");
    let out = String::from_utf8_lossy(&second.stdout);
    assert!(second.status.success(), "{out}");
    assert!(out.contains("32 of them unchanged since"), "{out}");
}

#[tokio::test]
async fn request_asks_the_partners_for_the_largest_gaps_and_keeps_what_it_sent() {
    // Our own host's inbox, where answers come back.
    let (requester_addr, received) = inbox_host().await;
    // The partners' host: mieruka serving the demo, which checks every event it is sent and
    // answers requests on the requester's host.
    let partner_addr = spawn(owner_host(requester_addr, "kaede").await).await;

    // The requester's data directory (the demo) and config: Meridian speaks PACT 3, Formosa 2.
    let dir = common::temp_dir("request");
    let data = dir.join("gx");
    let cfg = dir.join("mieruka.toml");
    std::fs::write(
        &cfg,
        format!(
            "public_url = \"http://{requester_addr}\"\n\
             [[pact.partner]]\nname = \"Meridian\"\ncompanies = [\"urn:mieruka-demo:company:meridian\"]\n\
             url = \"http://{partner_addr}\"\nversion = 3\nclient_id = \"kaede\"\nclient_secret = \"kaede-secret\"\n\
             [[pact.partner]]\nname = \"Formosa\"\ncompanies = [\"urn:mieruka-demo:company:formosa\"]\n\
             url = \"http://{partner_addr}\"\nclient_id = \"kaede\"\nclient_secret = \"kaede-secret\"\n"
        ),
    )
    .expect("config");
    let run = mieruka_cli;
    let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/pc-supply-chain");
    let s = |x: &std::path::Path| x.display().to_string();
    let ingest = run(vec!["ingest".into(), s(&demo), "--data".into(), s(&data)])
        .await
        .expect("join");
    assert!(
        ingest.status.success(),
        "{}",
        String::from_utf8_lossy(&ingest.stderr)
    );
    let request = |dry: bool| {
        let mut a: Vec<String> = [
            "request",
            "--product",
            "urn:mieruka-demo:product:kaede-note-14",
        ]
        .into_iter()
        .map(str::to_owned)
        .collect();
        a.extend(["--top".into(), "3".into(), "--format".into(), "json".into()]);
        a.extend(["--config".into(), s(&cfg), "--data".into(), s(&data)]);
        if dry {
            a.push("--dry-run".into());
        }
        a
    };
    // `gaps` with the config names each gap's partner and its host.
    let gaps = run(vec![
        "gaps".into(),
        "--product".into(),
        "urn:mieruka-demo:product:kaede-note-14".into(),
        "--top".into(),
        "3".into(),
        "--format".into(),
        "json".into(),
        "--config".into(),
        s(&cfg),
        "--data".into(),
        s(&data),
    ])
    .await
    .expect("join");
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&gaps.stdout).expect("gaps");
    let named: Vec<(serde_json::Value, serde_json::Value)> = rows
        .iter()
        .map(|r| (r["partner"].clone(), r["partner_url"].clone()))
        .collect();
    let url = json!(format!("http://{partner_addr}"));
    assert_eq!(
        named,
        [
            (json!("Meridian"), url.clone()),
            (json!(null), json!(null)),
            (json!("Formosa"), url)
        ]
    );

    // A dry run prints the events and keeps nothing.
    let dry = run(request(true)).await.expect("join");
    let out = String::from_utf8_lossy(&dry.stdout);
    assert!(
        dry.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    assert!(
        out.contains("org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.3"),
        "{out}"
    );
    assert!(!data.join("requests.json").exists());

    // The demo's three largest gaps (`mieruka gaps`): Meridian's SoC, unresolved (16.3 %);
    // the notebook's own untraced upstream (Kaede, the requester itself: no partner); the LCD
    // cell's untraced upstream (Formosa).
    let sent = run(request(false)).await.expect("join");
    let out = String::from_utf8_lossy(&sent.stdout);
    assert!(
        sent.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    let rows: Vec<serde_json::Value> = serde_json::from_str(&out).expect("rows");
    let partners: Vec<&str> = rows
        .iter()
        .map(|r| r["partner"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(partners, ["Meridian", "", "Formosa"]);
    assert_eq!(rows[1]["status"], "no partner");
    let log: serde_json::Value =
        serde_json::from_slice(&std::fs::read(data.join("requests.json")).expect("log"))
            .expect("json");
    let kept = log["requests"].as_array().expect("requests");
    assert_eq!(kept.len(), 2);
    assert!(kept.iter().all(|r| r["status"] == "sent"), "{kept:?}");
    assert_eq!(kept[0]["gap"], "unresolved");
    assert_eq!(
        kept[0]["product_id"],
        "urn:mieruka-demo:product:meridian-soc"
    );
    assert_eq!(
        kept[1]["product_id"],
        "urn:mieruka-demo:product:formosa-lcd-cell"
    );

    // The partner's host accepted both (it checks every event) and answered each on ours,
    // naming the request it answers.
    let start = std::time::Instant::now();
    while received.lock().expect("inbox").len() < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no answers arrived"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let answers = received.lock().expect("inbox").clone();
    let mut answered: Vec<&str> = answers
        .iter()
        .filter_map(|e| e["data"]["requestEventId"].as_str())
        .collect();
    answered.sort_unstable();
    let mut ids: Vec<&str> = kept.iter().filter_map(|r| r["id"].as_str()).collect();
    ids.sort_unstable();
    assert_eq!(answered, ids);

    // Answers went to a host that does not keep this directory, so both are still open:
    // --resend sends the same events again (same ids), and the partner answers them again.
    let resend = run(vec![
        "request".into(),
        "--resend".into(),
        "--config".into(),
        s(&cfg),
        "--data".into(),
        s(&data),
        "--format".into(),
        "json".into(),
    ])
    .await
    .expect("join");
    let out = String::from_utf8_lossy(&resend.stdout);
    assert!(
        resend.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&resend.stderr)
    );
    let listed: Vec<serde_json::Value> = serde_json::from_str(&out).expect("rows");
    let mut listed_ids: Vec<&str> = listed
        .iter()
        .filter_map(|r| r["request_id"].as_str())
        .collect();
    listed_ids.sort_unstable();
    assert_eq!(listed_ids, ids);
    while received.lock().expect("inbox").len() < 4 {
        assert!(
            start.elapsed() < Duration::from_secs(40),
            "no second answers"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let again: Vec<String> = received.lock().expect("inbox")[2..]
        .iter()
        .filter_map(|e| e["data"]["requestEventId"].as_str().map(str::to_owned))
        .collect();
    let mut again: Vec<&str> = again.iter().map(String::as_str).collect();
    again.sort_unstable();
    assert_eq!(again, ids);

    // A partner that cannot be reached: the request is kept as failed, with why, and the
    // command exits 1. (Nothing listens on port 9, the discard port, on loopback here.)
    std::fs::write(
        &cfg,
        format!(
            "public_url = \"http://{requester_addr}\"\n\
             [[pact.partner]]\nname = \"Kaede\"\ncompanies = [\"urn:mieruka-demo:company:kaede\"]\n\
             url = \"http://127.0.0.1:9\"\nclient_id = \"kaede\"\nclient_secret = \"x\"\n"
        ),
    )
    .expect("config");
    let failed = run(request(false)).await.expect("join");
    assert_eq!(
        failed.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&failed.stderr)
    );
    let log: serde_json::Value =
        serde_json::from_slice(&std::fs::read(data.join("requests.json")).expect("log"))
            .expect("json");
    let last = log["requests"]
        .as_array()
        .and_then(|r| r.last())
        .expect("kept");
    assert_eq!(
        (&last["partner"], &last["status"]),
        (&json!("Kaede"), &json!("failed"))
    );
    assert!(
        last["reason"]
            .as_str()
            .is_some_and(|r| r.contains("127.0.0.1:9")),
        "{last}"
    );
}

/// Two mieruka hosts on loopback, a buyer (Kaede, the demo ingested into its data directory)
/// and a supplier (Meridian): the buyer's largest gap is Meridian's SoC, a black box; `mieruka
/// request` asks Meridian for it; Meridian's host answers with a new footprint of the SoC that
/// states its Gate-to-Gate emissions; the buyer's host ingests it and closes the request, and
/// the share of the notebook's CFP on primary data rises by what the answer brought (worked
/// out by hand below).
#[tokio::test]
async fn a_fulfilled_request_raises_the_primary_data_share_by_what_it_brought() {
    use rust_decimal::Decimal;
    use std::str::FromStr;

    let product = "urn:mieruka-demo:product:kaede-note-14";
    let dir = common::temp_dir("request-end-to-end");
    let data = dir.join("gx");
    let store = mieruka::store::Store::create_or_open(&data).expect("store");
    mieruka::ingest::ingest_into(
        &store,
        &mieruka::dataset::demo_sources(),
        &IngestOptions::default(),
        &|_| {},
    )
    .expect("ingest the demo");
    let run = mieruka_cli;
    let s = |x: &std::path::Path| x.display().to_string();
    let json_of = |out: &std::process::Output| -> serde_json::Value {
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("json")
    };
    // `mieruka ARGS --format json --data DIR`, its JSON.
    let data_arg = s(&data);
    let cli = |args: &[&str]| {
        let mut a: Vec<String> = args.iter().map(|x| (*x).to_owned()).collect();
        a.extend([
            "--format".into(),
            "json".into(),
            "--data".into(),
            data_arg.clone(),
        ]);
        run(a)
    };
    let coverage_param = format!("product={product}");
    let coverage = || cli(&["query", "requests/coverage", "--param", &coverage_param]);

    // The gap asked about: the largest, Meridian's SoC, unresolved (no Gate-to-Gate data).
    let gaps = json_of(&cli(&["gaps", "--product", product]).await.expect("join"));
    let gap = &gaps[0];
    assert_eq!(
        (gap["kind"].as_str(), gap["company_id"].as_str()),
        (
            Some("unresolved"),
            Some("urn:mieruka-demo:company:meridian")
        )
    );
    let unresolved_pct = gap["share_pct"].as_f64().expect("share");
    let old_id = gap["footprint_id"].as_str().expect("footprint").to_owned();
    let before = json_of(&coverage().await.expect("join"));
    let coverage_before = before[0]["primary_data_coverage_pct"]
        .as_f64()
        .expect("coverage now");

    // Meridian's answer: the same SoC footprint under a new id (v3: "any change [...] will
    // result in a new Product Footprint with a new ID"), now with a GxD extension stating
    // Gate-to-Gate emissions of half its CFP.
    let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/pc-supply-chain");
    let v3 = std::fs::read_to_string(demo.join("footprints-pact-v3.ndjson")).expect("v3");
    let mut answer: serde_json::Value = v3
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json"))
        .find(|d| d["id"] == old_id.as_str())
        .expect("the SoC footprint is a v3 one");
    let cfp = Decimal::from_str(
        answer["pcf"]["pcfExcludingBiogenicUptake"]
            .as_str()
            .expect("cfp"),
    )
    .expect("decimal");
    let g2g = (cfp / Decimal::TWO).normalize();
    answer["id"] = json!("5e1f0c1e-7a11-4c2b-9d3e-000000000001");
    answer["created"] = json!("2026-01-15T00:00:00Z");
    answer["precedingPfIds"] = json!([old_id]);
    answer["extensions"] = json!([{
        "specVersion": "2.0.0",
        "dataSchema": "https://github.com/Green-x-Digital-Consortium/data-model-extensions/blob/main/specs/GxD_schema_en.json",
        "data": {
            "calcMethod": "0",
            "FWedition": "1.1",
            "gateToGate": {
                "gateToGateFossilGhgEmissions": g2g.to_string(),
                "unitaryProductAmountComment": "1 piece"
            }
        }
    }]);
    let checked = common::check(&[common::source("meridian.json", &answer.to_string())]);
    assert_eq!(checked.report.rejected, 0, "{:?}", checked.report.errors);

    // The buyer's host: its data directory, and Meridian's host as a client that may post
    // events (its answers).
    let buyer_config = Config {
        pact: PactConfig {
            partners: Vec::new(),
            token_seconds: 3600,
            clients: vec![PactClient {
                id: "meridian".into(),
                secret_sha256: hash_token("meridian-secret"),
                companies: vec!["urn:mieruka-demo:company:meridian".into()],
                callback: None,
            }],
        },
        ..Config::default()
    };
    let buyer = spawn(router(
        AppState::new(
            store.load().expect("load"),
            Some(data.clone()),
            Some(buyer_config),
        )
        .await
        .expect("state"),
    ))
    .await;
    // Meridian's host: serves the new footprint to Kaede and answers Kaede's requests on
    // the buyer's host.
    let callback: mieruka::pact::client::Callback = toml::from_str(&format!(
        "url = \"http://{buyer}\"\nclient_id = \"meridian\"\nclient_secret = \"meridian-secret\"\n"
    ))
    .expect("callback");
    let supplier_config = Config {
        pact: PactConfig {
            partners: Vec::new(),
            token_seconds: 3600,
            clients: vec![PactClient {
                id: "kaede".into(),
                secret_sha256: hash_token("kaede-secret"),
                companies: vec!["*".into()],
                callback: Some(callback),
            }],
        },
        ..Config::default()
    };
    let supplier = spawn(router(
        AppState::new(
            checked.to_tables(0).expect("tables"),
            None,
            Some(supplier_config),
        )
        .await
        .expect("state"),
    ))
    .await;

    // Kaede asks Meridian (PACT v3) about the largest gap.
    let cfg = dir.join("mieruka.toml");
    std::fs::write(
        &cfg,
        format!(
            "public_url = \"http://{buyer}\"\n\
             [[pact.partner]]\nname = \"Meridian\"\ncompanies = [\"urn:mieruka-demo:company:meridian\"]\n\
             url = \"http://{supplier}\"\nversion = 3\nclient_id = \"kaede\"\nclient_secret = \"kaede-secret\"\n"
        ),
    )
    .expect("config");
    let cfg_arg = s(&cfg);
    let request = [
        "request",
        "--product",
        product,
        "--top",
        "1",
        "--config",
        &cfg_arg,
    ];
    json_of(&cli(&request).await.expect("join"));
    let start = std::time::Instant::now();
    let log = loop {
        let log = mieruka::pact::request::RequestLog::read(&data).expect("log");
        if log.requests.iter().all(|r| r.status != "sent") {
            break log;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no answer: {log:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(log.requests.len(), 1);
    let r = &log.requests[0];
    assert_eq!(
        (r.status.as_str(), r.reason.as_deref()),
        ("fulfilled", None)
    );
    assert_eq!(r.coverage_before_pct, Some(coverage_before));

    // Before, the SoC was one unresolved item, u = x·cfp (x: SoCs per notebook, cfp = 24.5
    // kgCO2e per SoC), 16.28 % of the notebook's CFP, not descended. Now it is resolved and
    // descended: its own item x·g2g (g2g = 12.25) is primary data (product-based, calcMethod
    // "0"); its input, 0.0007 m² of Echigo's 300 mm wafer per SoC (bom.csv), adds the wafer's
    // own item x·0.0007·180 (the wafer's FY2024 footprint: CFP 320, Gate-to-Gate 180 per m²,
    // product-based) and its untraced x·0.0007·(320 − 180); the SoC's untraced is the rest,
    // x·(12.25 − 0.0007·320). The notebook's CFP is its own stated value, unchanged. So the
    // primary-data share rises by u·(12.25 + 0.0007·180)/24.5 = u·12.376/24.5.
    let cfp_soc: f64 = cfp.to_string().parse().expect("f64");
    assert_eq!((cfp_soc, g2g.to_string().as_str()), (24.5, "12.25"));
    let gain = unresolved_pct * (12.25 + 0.0007 * 180.0) / 24.5;
    let after = json_of(&coverage().await.expect("join"));
    assert_eq!(after[0]["moment"], "before the requests");
    assert_eq!(
        after[0]["primary_data_coverage_pct"],
        json!(coverage_before)
    );
    assert_eq!(after[1]["moment"], "now");
    let coverage_now = after[1]["primary_data_coverage_pct"].as_f64().expect("now");
    let expected = coverage_before + gain;
    assert!(
        (coverage_now - expected).abs() < 1e-9,
        "{coverage_now} ≠ {coverage_before} + {gain}"
    );
    // The supplier's row on the dashboard's table: one request, fulfilled.
    let by_supplier = json_of(&cli(&["query", "requests/by_supplier"]).await.expect("join"));
    assert_eq!(by_supplier[0]["partner"], "Meridian");
    assert_eq!(
        (
            by_supplier[0]["open"].as_i64(),
            by_supplier[0]["fulfilled"].as_i64()
        ),
        (Some(0), Some(1))
    );
}
