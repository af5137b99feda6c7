//! The PACT host API, served by `mieruka serve`: OAuth2 client credentials at `/auth/token`,
//! `/.well-known/openid-configuration`, `ListFootprints` and `GetFootprint` under `/2/` (v2.3,
//! with the `$filter` subset) and `/3/` (v3.0, with its query criteria), and the events
//! endpoints. Footprints are served exactly as they were received, v2 documents under `/2/`
//! and v3 documents under `/3/`; a client sees only the footprints of the companies its
//! entry in the config names. What the host keeps (tokens, documents, criteria) is in
//! `pact::host`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::{AppState, hash_token};
use crate::pact::filter::Filter;
use crate::pact::host::{
    Criteria, Doc, Docs, Issued, Keep, PactClient, PactError, V3Criteria, oauth_error,
    percent_decode, percent_encode, visible,
};

/// The base URL of links the server writes: the config's `public_url`, else the request's
/// `Host` when it is a plain host name (else `localhost`), with
/// `https` when the server terminates TLS or a proxy in front says so (`X-Forwarded-Proto`).
fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = state.0.config.as_ref().and_then(|c| c.public_url.as_ref()) {
        return url.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| super::is_host(h))
        .unwrap_or("localhost");
    let proto = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .filter(|p| *p == "https" || *p == "http")
        .unwrap_or(if state.https() { "https" } else { "http" });
    format!("{proto}://{host}")
}

fn decode_base64(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

fn random_token() -> Result<String, PactError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(PactError::internal)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// 429 with `Retry-After`: too many failed attempts from one address.
fn slow_down(seconds: u64) -> Response {
    let mut r = oauth_error(
        StatusCode::TOO_MANY_REQUESTS,
        "slow_down",
        &format!("too many failed authentications from this address; try again in {seconds} s"),
    );
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    r
}

/// `POST /auth/token`: OAuth2 client credentials (HTTP Basic, `grant_type=client_credentials`).
/// Failed authentications from one address slow it down (`pact::host::Failures`).
pub(crate) async fn token(
    State(state): State<AppState>,
    client: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let pact = state.pact_config();
    // Without a socket (a test calling the router) every request counts as one source.
    let source = client.map_or_else(|| "-".to_owned(), |c| c.0.0.ip().to_string());
    let failures = &state.pact_tokens().failures;
    if let Err(wait) = failures.check(&source, Instant::now()) {
        return slow_down(wait);
    }
    let form: HashMap<String, String> = url_form(&body);
    match form.get("grant_type").map(String::as_str) {
        Some("client_credentials") => {}
        Some(_) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "only grant_type=client_credentials is supported",
            );
        }
        None => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "the form body needs grant_type=client_credentials",
            );
        }
    }
    let credentials = super::auth::credentials(&headers, "Basic")
        .and_then(decode_base64)
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.split_once(':').map(|(u, p)| (u.to_owned(), p.to_owned())));
    let Some((id, secret)) = credentials else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "send the client id and secret with HTTP Basic authentication",
        );
    };
    let hash = hash_token(&secret);
    let known = pact
        .clients
        .iter()
        .any(|c| c.id == id && c.secret_sha256.eq_ignore_ascii_case(&hash));
    if !known {
        let wait = failures.failed(&source, Instant::now());
        tracing::info!(client = %id, %source, "pact: token refused");
        if wait > 0 {
            return slow_down(wait);
        }
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            "unknown client id or wrong secret",
        );
    }
    failures.succeeded(&source);
    let token = match random_token() {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    let lifetime = Duration::from_secs(pact.token_seconds);
    if let Ok(mut tokens) = state.pact_tokens().by_token.lock() {
        let now = Instant::now();
        tokens.retain(|_, t| t.expires > now);
        tokens.insert(
            token.clone(),
            Issued {
                client: id.clone(),
                expires: now + lifetime,
            },
        );
    }
    tracing::info!(client = %id, "pact: token issued");
    let mut r = axum::Json(json!({
        "access_token": token,
        "token_type": "bearer",
        "expires_in": pact.token_seconds,
        "scope": "footprint:list footprint:read",
    }))
    .into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn url_form(body: &[u8]) -> HashMap<String, String> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (percent_decode(k), percent_decode(v)))
        .collect()
}

/// `GET /.well-known/openid-configuration`.
pub(crate) async fn openid_configuration(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Response {
    let base = base_url(&state, &headers);
    axum::Json(json!({
        "issuer": base,
        "token_endpoint": format!("{base}/auth/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        "grant_types_supported": ["client_credentials"],
        "response_types_supported": ["token"],
        "scopes_supported": ["footprint:list", "footprint:read"],
    }))
    .into_response()
}

/// The client a bearer token belongs to. PACT (v2 and v3, ListFootprints and GetFootprint):
/// "If the access token is valid, but the client does not have the necessary permissions
/// […] AccessDenied. If the host system does not accept the access token because it
/// expired, […] TokenExpired. In all other cases, the body SHOULD be an error response with
/// code BadRequest." A missing, malformed or unknown token is such another case.
fn client_of(state: &AppState, headers: &HeaderMap) -> Result<PactClient, PactError> {
    let token = super::auth::credentials(headers, "Bearer").ok_or_else(|| {
        PactError::bad_request(
            "an access token is required: `Authorization: Bearer TOKEN`, the token from POST /auth/token",
        )
    })?;
    let issued = state
        .pact_tokens()
        .by_token
        .lock()
        .ok()
        .and_then(|t| t.get(token).cloned())
        .ok_or_else(|| {
            PactError::bad_request(
                "the access token is not one this host issued; request one from POST /auth/token",
            )
        })?;
    if issued.expires <= Instant::now() {
        return Err(PactError::new(
            StatusCode::UNAUTHORIZED,
            "TokenExpired",
            "the access token has expired; request a new one",
        ));
    }
    state
        .pact_config()
        .clients
        .iter()
        .find(|c| c.id == issued.client)
        .cloned()
        .ok_or_else(|| {
            PactError::bad_request(
                "the access token's client is no longer configured on this host, so the token is no longer valid",
            )
        })
}

fn list_response(
    state: &AppState,
    headers: &HeaderMap,
    raw_query: Option<&str>,
    major: u8,
) -> Result<Response, PactError> {
    let client = client_of(state, headers)?;
    let pairs: Vec<(String, String)> = raw_query
        .unwrap_or_default()
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => (percent_decode(k), percent_decode(v)),
            None => (percent_decode(kv), String::new()),
        })
        .collect();
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let limit = match get("limit") {
        None | Some("") => None,
        Some(l) => Some(l.parse::<usize>().map_err(|_| {
            PactError::bad_request(format!("limit must be a whole number, got {l:?}"))
        })?),
    };
    let offset = match get("offset") {
        None | Some("") => 0,
        Some(o) => o.parse::<usize>().map_err(|_| {
            PactError::bad_request(format!("offset must be a whole number, got {o:?}"))
        })?,
    };
    // A `next` link names the dataset it pages through; its list is kept for a while.
    let pinned = match get("dataset") {
        None | Some("") => None,
        Some(g) => Some(u64::from_str_radix(g, 16).map_err(|_| {
            PactError::bad_request(format!("dataset must be what a next link gave, got {g:?}"))
        })?),
    };
    let criteria = if major == 2 {
        for (k, _) in &pairs {
            if !["limit", "offset", "dataset", "$filter"].contains(&k.as_str()) {
                return Err(PactError::bad_request(format!(
                    "unknown query parameter {k:?} (limit, $filter)"
                )));
            }
        }
        match get("$filter") {
            None | Some("") => Criteria::V2(None),
            Some(f) => Criteria::V2(Some(
                Filter::parse(f).map_err(|e| PactError::bad_request(format!("$filter: {e}")))?,
            )),
        }
    } else {
        Criteria::V3(V3Criteria::parse(&pairs)?)
    };
    let (generation, docs) = match pinned {
        None => state.pact_list().map_err(PactError::internal)?,
        Some(g) => (
            g,
            state.pact_list_of(g).ok_or_else(|| {
                PactError::bad_request(
                    "the data changed several times since this link was made and its list is no longer kept; list again from the first page",
                )
            })?,
        ),
    };
    // Criteria the stored fields decide alone read no document.
    let keep: Option<Keep<'_>> = match &criteria {
        Criteria::V2(None) => None,
        Criteria::V2(Some(f)) if f.decided_by(&|field| Doc::FIELDS.contains(&field)) => None,
        Criteria::V2(Some(f)) => Some(Box::new(move |v: &Value| f.matches(v))),
        Criteria::V3(c) if c.decided_by_stored() => None,
        Criteria::V3(c) => Some(Box::new(move |v: &Value| c.matches(v))),
    };
    let may = |d: &Doc| match &criteria {
        Criteria::V2(None) => true,
        Criteria::V2(Some(f)) => f.may_match(&|field| d.field(field)),
        Criteria::V3(c) => c.may_match(d),
    };
    let matching = docs
        .matching(&client, major, keep.as_deref(), &may)
        .map_err(PactError::internal)?;
    let end = match limit {
        Some(l) => offset.saturating_add(l).min(matching.len()),
        None => matching.len(),
    };
    let page = docs
        .raws(
            matching
                .get(offset.min(matching.len())..end)
                .unwrap_or_default(),
        )
        .map_err(PactError::internal)?;
    let body = serde_json::to_vec(&json!({ "data": page })).map_err(PactError::internal)?;
    let mut r = ([(header::CONTENT_TYPE, "application/json")], body).into_response();
    if end < matching.len() {
        let mut query: Vec<String> = pairs
            .iter()
            .filter(|(k, _)| k != "offset" && k != "dataset")
            .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
            .collect();
        query.push(format!("offset={end}"));
        query.push(format!("dataset={generation:x}"));
        let link = format!(
            "<{}/{major}/footprints?{}>; rel=\"next\"",
            base_url(state, headers),
            query.join("&")
        );
        if let Ok(v) = HeaderValue::from_str(&link) {
            r.headers_mut().insert(header::LINK, v);
        }
    }
    Ok(r)
}

/// `GET /2/footprints?limit=…&$filter=…`.
pub(crate) async fn list_v2(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Result<Response, PactError> {
    list_response(&state, &headers, uri.query(), 2)
}

/// `GET /3/footprints?limit=…&productId=…&…`.
pub(crate) async fn list_v3(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Result<Response, PactError> {
    list_response(&state, &headers, uri.query(), 3)
}

fn get_response(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
    major: u8,
) -> Result<Response, PactError> {
    let client = client_of(state, headers)?;
    if !is_uuid(id) {
        return Err(PactError::bad_request(format!("{id:?} is not a UUID")));
    }
    let docs = state.pact_docs().map_err(PactError::internal)?;
    let id = id.to_ascii_lowercase();
    let doc = docs
        .docs
        .iter()
        // A footprint not shared with this client answers as one that does not exist: a
        // different answer would tell the client which ids exist.
        .find(|d| d.id == id && d.major == major && visible(&client, d))
        .ok_or_else(|| PactError::not_found(&id, major))?;
    let raw = docs.raw(doc).map_err(PactError::internal)?;
    let body = serde_json::to_vec(&json!({ "data": raw })).map_err(PactError::internal)?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// `GET /2/footprints/{id}`.
pub(crate) async fn get_v2(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PactError> {
    get_response(&state, &headers, &id, 2)
}

/// `GET /3/footprints/{id}`.
pub(crate) async fn get_v3(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PactError> {
    get_response(&state, &headers, &id, 3)
}

/// The event types a host accepts, per major version.
fn event_kind(t: &str) -> Option<&'static str> {
    Some(match t {
        "org.wbcsd.pathfinder.ProductFootprint.Published.v1"
        | "org.wbcsd.pact.ProductFootprint.PublishedEvent.3" => "published",
        "org.wbcsd.pathfinder.ProductFootprintRequest.Created.v1"
        | "org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.3" => "request_created",
        "org.wbcsd.pathfinder.ProductFootprintRequest.Fulfilled.v1"
        | "org.wbcsd.pact.ProductFootprint.RequestFulfilledEvent.3" => "request_fulfilled",
        "org.wbcsd.pathfinder.ProductFootprintRequest.Rejected.v1"
        | "org.wbcsd.pact.ProductFootprint.RequestRejectedEvent.3" => "request_rejected",
        _ => return None,
    })
}

/// `POST /2/events` and `/3/events`: CloudEvents. Each event is checked; `Published`,
/// `Fulfilled` and `Rejected` are acknowledged and logged. A `RequestCreated` is accepted
/// when the client has a callback in the config: the footprints it asks for (and may see)
/// are sent to the requester's events endpoint in a `Fulfilled` event, or a `Rejected` one
/// with `NoSuchFootprint`; without a callback it is declined at once with `NotImplemented`.
pub(crate) async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PactError> {
    let client = client_of(&state, &headers)?;
    let event: Value = serde_json::from_slice(&body)
        .map_err(|e| PactError::bad_request(format!("the body is not JSON: {e}")))?;
    let kind = check_event(&event)?;
    let t = event["type"].as_str().unwrap_or_default();
    let data = &event["data"];
    if kind == "request_created" {
        let Some(callback) = client.callback.clone() else {
            // Accepting obliges the host to answer later on the requester's own host, which
            // needs a callback in the config; without one the request is declined at once,
            // as the spec allows.
            return Err(PactError::new(
                StatusCode::BAD_REQUEST,
                "NotImplemented",
                "this host has no callback configured for your client, so it cannot answer requests asynchronously; ListFootprints with the same criteria returns what is shared with you",
            ));
        };
        let major = if t.ends_with(".v1") { 2 } else { 3 };
        let docs = state.pact_docs().map_err(PactError::internal)?;
        let found = requested(&docs, &client, major, data)?;
        let found = docs.raws(&found).map_err(PactError::internal)?;
        let answer = answer_event(major, &base_url(&state, &headers), &event, found)?;
        let id = client.id.clone();
        tokio::spawn(async move {
            match crate::pact::client::send_event(&callback, major, &answer).await {
                Ok(()) => tracing::info!(client = %id, "pact: request answered"),
                Err(e) => tracing::warn!(client = %id, "pact: answering a request failed: {e}"),
            }
        });
        tracing::info!(client = %client.id, event = %event["id"], "pact: request accepted");
        return Ok(StatusCode::OK.into_response());
    }
    if matches!(kind, "request_fulfilled" | "request_rejected") {
        answer_to_request(&state, kind, &body).await?;
    }
    tracing::info!(client = %client.id, event = %event["id"], kind, "pact: event received");
    Ok(StatusCode::OK.into_response())
}

/// An answer to a request this host sent (`mieruka request`), found by its `requestEventId`
/// in the data directory's `requests.json`: a Fulfilled event's footprints are ingested with
/// the same checks and atomic commit as an upload, each document's text as the partner sent
/// it, and the request closed; a Rejected event's reason is kept. An answer to a request not
/// sent from here is acknowledged and logged only. `body` is the event, already checked.
async fn answer_to_request(state: &AppState, kind: &str, body: &[u8]) -> Result<(), PactError> {
    use crate::ingest::{self, IngestOptions, Source};
    use crate::pact::request::RequestLog;

    let Some(dir) = state.0.data_dir.clone() else {
        return Ok(());
    };
    #[derive(serde::Deserialize)]
    struct Answer<'a> {
        #[serde(borrow)]
        data: AnswerData<'a>,
    }
    #[derive(serde::Deserialize)]
    struct AnswerData<'a> {
        #[serde(rename = "requestEventId")]
        request: String,
        #[serde(borrow, default)]
        pfs: Vec<&'a RawValue>,
        #[serde(default)]
        error: Option<Value>,
    }
    let answer: Answer = serde_json::from_slice(body)
        .map_err(|e| PactError::bad_request(format!("the answer's data: {e}")))?;
    let id = answer.data.request.clone();
    // The footprints as a list response, each document's bytes as received.
    let mut list = b"{\"data\":[".to_vec();
    for (i, pf) in answer.data.pfs.iter().enumerate() {
        if i > 0 {
            list.push(b',');
        }
        list.extend_from_slice(pf.get().as_bytes());
    }
    list.extend_from_slice(b"]}");
    let reason = answer.data.error.map(|e| {
        format!(
            "{}: {}",
            e["code"].as_str().unwrap_or_default(),
            e["message"].as_str().unwrap_or_default()
        )
    });
    let fulfilled = kind == "request_fulfilled";
    let _one_at_a_time = state.0.upload.lock().await;
    let tables =
        tokio::task::spawn_blocking(move || -> crate::Result<Option<crate::table::Tables>> {
            let mut log = RequestLog::read(&dir)?;
            let Some(r) = log.requests.iter_mut().find(|r| r.id == id) else {
                tracing::info!(request = %id, "pact: an answer to a request not sent from here");
                return Ok(None);
            };
            let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            let mut tables = None;
            if fulfilled {
                let store = crate::store::Store::create_or_open(&dir)?;
                let source = Source::new(format!("answer to request {id}"), list);
                let report =
                    ingest::ingest_into(&store, &[source], &IngestOptions::default(), &|_| {})?;
                r.status = "fulfilled".into();
                r.reason = report.errors.first().map(|e| {
                    format!(
                        "{} of the footprints sent were rejected; the first: {} {}",
                        report.rejected, e.pointer, e.message
                    )
                });
                if report.stored {
                    tables = Some(store.load()?);
                }
            } else {
                r.status = "rejected".into();
                r.reason = reason;
            }
            r.answered_at = Some(now);
            log.write(&dir)?;
            Ok(tables)
        })
        .await
        .map_err(PactError::internal)?
        .map_err(PactError::internal)?;
    if let Some(t) = tables {
        state.replace(t).await.map_err(PactError::internal)?;
    }
    Ok(())
}

/// Checks a CloudEvent (structured mode, CloudEvents 1.0 JSON) as PACT defines it for its
/// type; returns the event's kind. Every field the specification names is checked, so an
/// event is either understood whole or answered 400 with the field that is wrong.
fn check_event(event: &Value) -> Result<&'static str, PactError> {
    fn bad<T>(m: String) -> Result<T, PactError> {
        Err(PactError::bad_request(m))
    }
    let Some(e) = event.as_object() else {
        return bad("the body must be a JSON object: a CloudEvent in structured mode".into());
    };
    for field in ["type", "specversion", "id", "source"] {
        if e.get(field)
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return bad(format!(
                "a CloudEvent needs the non-empty string field {field:?}"
            ));
        }
    }
    // CloudEvents 1.0 JSON format §2: "specversion" is "1.0".
    if e["specversion"] != "1.0" {
        return bad(format!(
            "specversion must be \"1.0\", got {}",
            e["specversion"]
        ));
    }
    if let Some(time) = e.get("time")
        && time
            .as_str()
            .is_none_or(|t| chrono::DateTime::parse_from_rfc3339(t).is_err())
    {
        return bad(format!("time must be an RFC 3339 date-time, got {time}"));
    }
    let t = e["type"].as_str().unwrap_or_default();
    let kind = event_kind(t).ok_or_else(|| {
        PactError::new(
            StatusCode::BAD_REQUEST,
            "NotImplemented",
            format!("event type {t:?} is not supported"),
        )
    })?;
    let Some(data) = e.get("data").and_then(Value::as_object) else {
        return bad(format!(
            "{t}: a CloudEvent of this type needs a data object"
        ));
    };
    let v2 = t.ends_with(".v1");
    let string = |field: &str| -> Result<(), PactError> {
        match data.get(field) {
            Some(Value::String(_)) => Ok(()),
            Some(other) => bad(format!("{t}: data.{field} must be a string, got {other}")),
            None => bad(format!("{t}: data.{field} is required")),
        }
    };
    let optional_string = |field: &str| match data.get(field) {
        None | Some(Value::String(_)) => Ok(()),
        Some(other) => bad(format!("{t}: data.{field} must be a string, got {other}")),
    };
    match kind {
        // PACT: "The PfIds MUST be the non-empty list of ProductFootprint/id values of the
        // updated Product Footprints, encoded as a JSON array" (v3: `items: format: uuid`).
        "published" => {
            let Some(ids) = data.get("pfIds").and_then(Value::as_array) else {
                return bad(format!("{t}: data.pfIds must be a list of footprint ids"));
            };
            if ids.is_empty() {
                return bad(format!("{t}: data.pfIds must not be empty"));
            }
            for (i, id) in ids.iter().enumerate() {
                if !id.as_str().is_some_and(is_uuid) {
                    return bad(format!(
                        "{t}: data.pfIds[{i}] is {id}, not a footprint id (a UUID)"
                    ));
                }
            }
        }
        // v2 asks with a partial footprint in data.pf; both may carry a comment: "The property
        // data.comment of a PF Request Event is OPTIONAL" and "MUST be encoded as a JSON string".
        "request_created" if v2 => {
            if !data.get("pf").is_some_and(Value::is_object) {
                return bad(format!(
                    "{t}: data.pf must be an object (a partial footprint)"
                ));
            }
            optional_string("comment")?;
        }
        "request_created" => {
            for (k, v) in data {
                let ok = match k.as_str() {
                    "productId" | "companyId" | "geography" | "classification" => {
                        v.is_string()
                            || v.as_array()
                                .is_some_and(|a| !a.is_empty() && a.iter().all(Value::is_string))
                    }
                    "validOn" | "validAfter" | "validBefore" => v
                        .as_str()
                        .is_some_and(|d| chrono::DateTime::parse_from_rfc3339(d).is_ok()),
                    "status" | "comment" => v.is_string(),
                    x if x.starts_with("x-") => true,
                    other => {
                        return bad(format!(
                            "{t}: data.{other} is not a criterion (productId, companyId, geography, classification, validOn, validAfter, validBefore, status, x-…) nor comment"
                        ));
                    }
                };
                if !ok {
                    return bad(format!("{t}: data.{k} has the wrong form: {v}"));
                }
            }
        }
        "request_fulfilled" => {
            string("requestEventId")?;
            let Some(pfs) = data.get("pfs").and_then(Value::as_array) else {
                return bad(format!("{t}: data.pfs must be a list of footprints"));
            };
            // v3: "This list MUST be non-empty, as the RequestFulfilled event indicates success."
            if !v2 && pfs.is_empty() {
                return bad(format!("{t}: data.pfs must not be empty"));
            }
            if let Some(i) = pfs.iter().position(|p| !p.is_object()) {
                return bad(format!("{t}: data.pfs[{i}] is not a footprint object"));
            }
        }
        _ => {
            string("requestEventId")?;
            let error = data.get("error").and_then(Value::as_object);
            let field = |f: &str| error.and_then(|e| e.get(f)).is_some_and(Value::is_string);
            if !(field("code") && field("message")) {
                return bad(format!(
                    "{t}: data.error must be an error response: an object with the strings code and message"
                ));
            }
        }
    }
    Ok(kind)
}

/// The footprints a `RequestCreated` event asks for that `client` may see: v2 by the
/// `productIds` (and `companyIds`) of the partial footprint in `data.pf`, v3 by the criteria
/// in `data`, as ListFootprints filters them.
fn requested<'a>(
    docs: &'a Docs,
    client: &PactClient,
    major: u8,
    data: &Value,
) -> Result<Vec<&'a Doc>, PactError> {
    let lower = |v: &Value| -> Vec<String> {
        match v {
            Value::Array(a) => a
                .iter()
                .filter_map(|x| x.as_str().map(str::to_ascii_lowercase))
                .collect(),
            Value::String(s) => vec![s.to_ascii_lowercase()],
            _ => Vec::new(),
        }
    };
    if major == 2 {
        let products = lower(&data["pf"]["productIds"]);
        let companies = lower(&data["pf"]["companyIds"]);
        if products.is_empty() && companies.is_empty() {
            return Err(PactError::bad_request(
                "data.pf needs productIds or companyIds to say which footprints are asked for",
            ));
        }
        let has = |want: &[String], have: &Value| {
            want.is_empty() || lower(have).iter().any(|h| want.contains(h))
        };
        let keep =
            |v: &Value| has(&products, &v["productIds"]) && has(&companies, &v["companyIds"]);
        docs.matching(client, major, Some(&keep), &|_| true)
            .map_err(PactError::internal)
    } else {
        let mut pairs = Vec::new();
        if let Some(o) = data.as_object() {
            // The comment is part of the request, not a criterion.
            for (k, v) in o.iter().filter(|(k, _)| k.as_str() != "comment") {
                match v {
                    Value::Array(a) => pairs.extend(
                        a.iter()
                            .filter_map(|x| x.as_str().map(|x| (k.clone(), x.to_owned()))),
                    ),
                    Value::String(x) => pairs.push((k.clone(), x.clone())),
                    _ => {}
                }
            }
        }
        let criteria = V3Criteria::parse(&pairs)?;
        let keep = |v: &Value| criteria.matches(v);
        docs.matching(client, major, Some(&keep), &|_| true)
            .map_err(PactError::internal)
    }
}

fn uuid_v4() -> Result<String, PactError> {
    crate::pact::request::uuid_v4().map_err(PactError::internal)
}

/// The `Fulfilled` (or, with nothing found, `Rejected`) event answering `request`.
fn answer_event(
    major: u8,
    base: &str,
    request: &Value,
    found: Vec<Box<RawValue>>,
) -> Result<Value, PactError> {
    let host = base.split_once("://").map_or(base, |(_, h)| h);
    let (fulfilled, rejected) = if major == 2 {
        (
            "org.wbcsd.pathfinder.ProductFootprintRequest.Fulfilled.v1",
            "org.wbcsd.pathfinder.ProductFootprintRequest.Rejected.v1",
        )
    } else {
        (
            "org.wbcsd.pact.ProductFootprint.RequestFulfilledEvent.3",
            "org.wbcsd.pact.ProductFootprint.RequestRejectedEvent.3",
        )
    };
    let request_id = request["id"].clone();
    let (kind, data) = if found.is_empty() {
        let code = if major == 2 {
            "NoSuchFootprint"
        } else {
            "NotFound"
        };
        (
            rejected,
            json!({"requestEventId": request_id, "error": {"code": code, "message": "no footprint shared with you matches the request"}}),
        )
    } else {
        (
            fulfilled,
            json!({"requestEventId": request_id, "pfs": found}),
        )
    };
    Ok(json!({
        "type": kind,
        "specversion": "1.0",
        "id": uuid_v4()?,
        "source": format!("//{host}/{major}/events"),
        "time": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "data": data,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids() {
        assert!(is_uuid("91715e5e-fd0b-4d1c-8fab-76290c46e6ed"));
        assert!(!is_uuid("91715e5e-fd0b-4d1c-8fab-76290c46e6e"));
        assert!(!is_uuid("91715e5e_fd0b-4d1c-8fab-76290c46e6ed"));
    }
}
