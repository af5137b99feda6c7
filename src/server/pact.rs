//! The PACT host API, served by `mieruka serve`: OAuth2 client credentials at `/auth/token`,
//! `/.well-known/openid-configuration`, `ListFootprints` and `GetFootprint` under `/2/` (v2.3,
//! with the `$filter` subset) and `/3/` (v3.0, with its query criteria), and the events
//! endpoints (in `server::events`). Every footprint is served under both: exactly as received
//! under its own version, converted (`pact::convert`) under the other, and left out there
//! (with a logged reason) when it cannot be converted faithfully; a client sees only the
//! footprints of the companies its entry in the config names. What the host keeps (tokens, documents, criteria) is in
//! `pact::host`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{AppState, hash_token};
use crate::ingest::is_uuid;
use crate::pact::filter::Filter;
use crate::pact::host::{
    Criteria, Doc, Issued, Keep, PactClient, PactError, Served, V3Criteria, oauth_error,
    percent_decode, percent_encode,
};

/// The base URL of links the server writes: the config's `public_url`, else the request's
/// `Host` when it is a plain host name (else `localhost`), with
/// `https` when the server terminates TLS or a proxy in front says so (`X-Forwarded-Proto`).
pub(super) fn base_url(state: &AppState, headers: &HeaderMap) -> String {
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
pub(super) fn client_of(state: &AppState, headers: &HeaderMap) -> Result<PactClient, PactError> {
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
    // Without criteria every footprint the client sees is a candidate.
    let may: Option<&dyn Fn(&Doc) -> bool> = match &criteria {
        Criteria::V2(None) => None,
        Criteria::V3(c) if c.is_everything() => None,
        _ => Some(&may),
    };
    let page = docs
        .page(&client, major, keep.as_deref(), may, offset, limit)
        .map_err(PactError::internal)?;
    let body = serde_json::to_vec(&json!({ "data": page.docs })).map_err(PactError::internal)?;
    let mut r = ([(header::CONTENT_TYPE, "application/json")], body).into_response();
    if let Some(end) = page.next {
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
    // A footprint not shared with this client answers as one that does not exist: a
    // different answer would tell the client which ids exist.
    let doc = docs
        .find(&client, &id)
        .ok_or_else(|| PactError::not_found(&id, major))?;
    let raw = match docs
        .served(&mut docs.tables.documents(), doc, major)
        .map_err(PactError::internal)?
    {
        Served::Doc(raw) => raw,
        Served::LeftOut(why) => {
            let mut e = PactError::not_found(&id, major);
            e.message = format!(
                "footprint {id} was received as PACT v{} and cannot be given as v{major}: {why}; it is at /{}/footprints/{id}",
                doc.major, doc.major
            );
            return Err(e);
        }
    };
    let body = serde_json::to_vec(&json!({ "data": raw })).map_err(PactError::internal)?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
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
