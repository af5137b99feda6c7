//! The PACT host API, served by `mieruka serve`: OAuth2 client credentials at `/auth/token`,
//! `/.well-known/openid-configuration`, `ListFootprints` and `GetFootprint` under `/2/` (v2.3,
//! with the `$filter` subset) and `/3/` (v3.0, with its query criteria), and the events
//! endpoints. Footprints are served exactly as they were received, v2 documents under `/2/`
//! and v3 documents under `/3/`; a client sees only the footprints of the companies its
//! entry in the config names.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::filter::{Filter, Known};
use crate::server::{AppState, hash_token};

/// A PACT client (data recipient) of the config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PactClient {
    /// The OAuth2 client id.
    pub id: String,
    /// Hex SHA-256 of the client secret (`printf %s SECRET | sha256sum`).
    pub secret_sha256: String,
    /// Companies (URNs, as in PACT `companyIds`) whose footprints it may read; `"*"`: all.
    pub companies: Vec<String>,
    /// Where to answer its `RequestCreated` events; without it they are declined at once.
    #[serde(default)]
    pub callback: Option<super::client::Callback>,
}

/// `[pact]` of the server config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PactConfig {
    /// Lifetime of an access token, seconds.
    pub token_seconds: u64,
    /// The clients.
    #[serde(rename = "client")]
    pub clients: Vec<PactClient>,
}

impl Default for PactConfig {
    fn default() -> PactConfig {
        PactConfig {
            token_seconds: 3600,
            clients: Vec::new(),
        }
    }
}

impl PactConfig {
    /// Checks the entries; `at` names the config file in messages.
    pub fn validate(&self, at: &str) -> Result<(), String> {
        for c in &self.clients {
            let ok = c.secret_sha256.len() == 64
                && c.secret_sha256.bytes().all(|b| b.is_ascii_hexdigit());
            if !ok {
                return Err(format!(
                    "{at}: pact client {:?}: secret_sha256 must be 64 hex digits (printf %s SECRET | sha256sum)",
                    c.id
                ));
            }
            if c.companies.is_empty() {
                return Err(format!(
                    "{at}: pact client {:?}: companies = [\"urn:…\"] (or [\"*\"] for every company) is required",
                    c.id
                ));
            }
        }
        Ok(())
    }
}

/// Access tokens handed out, by token.
#[derive(Default)]
pub(crate) struct Tokens {
    by_token: std::sync::Mutex<HashMap<String, Issued>>,
}

#[derive(Clone)]
struct Issued {
    client: String,
    expires: Instant,
}

/// A PACT error: `{code, message}` with its status.
#[derive(Debug)]
pub struct PactError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl PactError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> PactError {
        PactError {
            status,
            code,
            message: message.into(),
        }
    }

    fn bad_request(message: impl Into<String>) -> PactError {
        PactError::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    fn access_denied(message: impl Into<String>) -> PactError {
        PactError::new(StatusCode::FORBIDDEN, "AccessDenied", message)
    }

    fn no_such_footprint(id: &str) -> PactError {
        PactError::new(
            StatusCode::NOT_FOUND,
            "NoSuchFootprint",
            format!("the requested footprint {id} could not be found"),
        )
    }

    fn internal(e: impl std::fmt::Display) -> PactError {
        tracing::error!("pact: internal error: {e}");
        PactError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "an internal error occurred",
        )
    }
}

impl IntoResponse for PactError {
    fn into_response(self) -> Response {
        (
            self.status,
            axum::Json(json!({"code": self.code, "message": self.message})),
        )
            .into_response()
    }
}

/// An OAuth2 error (RFC 6749 §5.2).
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut r = (
        status,
        axum::Json(json!({"error": error, "error_description": description})),
    )
        .into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if status == StatusCode::UNAUTHORIZED {
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"pact\""),
        );
    }
    r
}

/// The base URL of the request: `https` when the server terminates TLS or a proxy in front
/// says so (`X-Forwarded-Proto`), else `http`.
fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
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

/// `POST /auth/token`: OAuth2 client credentials (HTTP Basic, `grant_type=client_credentials`).
pub(crate) async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let pact = state.pact_config();
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
    let credentials = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Basic "))
        .and_then(|b| decode_base64(b.trim()))
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
        tracing::info!(client = %id, "pact: token refused");
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            "unknown client id or wrong secret",
        );
    }
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

fn percent_decode(s: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes a query component (RFC 3986 unreserved characters stay).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
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

/// The client a bearer token belongs to.
fn client_of(state: &AppState, headers: &HeaderMap) -> Result<PactClient, PactError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| {
            PactError::access_denied("an access token is required (POST /auth/token)")
        })?;
    let issued = state
        .pact_tokens()
        .by_token
        .lock()
        .ok()
        .and_then(|t| t.get(token).cloned())
        .ok_or_else(|| PactError::access_denied("the access token is invalid"))?;
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
        .ok_or_else(|| PactError::access_denied("the client of this token is no longer configured"))
}

/// One served footprint: what listing needs of it, from the table's columns; the document
/// itself stays in the data directory until a page shows it.
#[derive(Debug)]
pub(crate) struct Doc {
    id: String,
    major: u8,
    /// `companyIds` and `productIds` as stored (as received).
    companies: Vec<String>,
    products: Vec<String>,
    /// `pcf.geographyRegionOrSubregion`, `pcf.geographyCountry`,
    /// `pcf.geographyCountrySubdivision` and `status`, as stored.
    region: Option<Box<str>>,
    country: Option<Box<str>>,
    subdivision: Option<Box<str>>,
    status: Box<str>,
    /// `(batch, row)` in the `footprints` table.
    at: (usize, usize),
}

/// The latest version of every footprint id, in (created, id) order. Built from columns
/// (no document is parsed: a million footprints list in seconds, in a few hundred MiB);
/// documents are read as pages show them, and parsed only to match a filter.
#[derive(Debug, Default)]
pub(crate) struct Docs {
    docs: Vec<Doc>,
    tables: crate::table::Tables,
}

impl Docs {
    /// Builds the list from the stored `footprints` batches.
    pub(crate) fn build(tables: &crate::table::Tables) -> crate::Result<Docs> {
        use datafusion::arrow::array::{Array, AsArray};
        use datafusion::arrow::datatypes::{Int32Type, TimestampMicrosecondType};
        let internal = |what: &str| crate::Error::Internal(format!("footprints.{what}"));
        // The latest version of each id: (version, created, (batch, row)).
        let mut latest: HashMap<String, (i64, i64, (usize, usize))> = HashMap::new();
        for (bi, b) in tables.footprints.iter().enumerate() {
            let col = |name: &str| b.column_by_name(name).ok_or_else(|| internal(name));
            let ids = col("id")?
                .as_string_opt::<i32>()
                .ok_or_else(|| internal("id is not text"))?;
            let versions = col("version")?
                .as_primitive_opt::<Int32Type>()
                .ok_or_else(|| internal("version is not Int32"))?;
            let created = col("created")?
                .as_primitive_opt::<TimestampMicrosecondType>()
                .ok_or_else(|| internal("created is not a timestamp"))?;
            for r in 0..b.num_rows() {
                // v3 footprints carry no version: each id is then one footprint.
                let version = if versions.is_null(r) {
                    -1
                } else {
                    i64::from(versions.value(r))
                };
                let id = ids.value(r).to_ascii_lowercase();
                let newer = latest.get(&id).is_none_or(|(v, _, _)| version > *v);
                if newer {
                    latest.insert(id, (version, created.value(r), (bi, r)));
                }
            }
        }
        // Spec version and ids, for the rows kept only.
        let doc = |id: String, (bi, r): (usize, usize)| -> crate::Result<Doc> {
            let b = &tables.footprints[bi];
            let col = |name: &str| b.column_by_name(name).ok_or_else(|| internal(name));
            let major = col("spec_version")?
                .as_string_opt::<i32>()
                .ok_or_else(|| internal("spec_version is not text"))?
                .value(r)
                .split('.')
                .next()
                .and_then(|m| m.parse().ok())
                .unwrap_or(2);
            let ids = |name: &str| -> crate::Result<Vec<String>> {
                let list = col(name)?
                    .as_list_opt::<i32>()
                    .ok_or_else(|| internal(name))?
                    .value(r);
                let names = list.as_string_opt::<i32>().ok_or_else(|| internal(name))?;
                Ok(names.iter().flatten().map(str::to_owned).collect())
            };
            let text = |name: &str| -> crate::Result<Option<Box<str>>> {
                let c = col(name)?
                    .as_string_opt::<i32>()
                    .ok_or_else(|| internal(name))?;
                Ok((!c.is_null(r)).then(|| c.value(r).into()))
            };
            Ok(Doc {
                id,
                major,
                companies: ids("company_ids")?,
                products: ids("product_ids")?,
                region: text("geography_region_or_subregion")?,
                country: text("geography_country")?,
                subdivision: text("geography_country_subdivision")?,
                status: text("status")?.unwrap_or_default(),
                at: (bi, r),
            })
        };
        let mut docs = latest
            .into_iter()
            .map(|(id, (_, created, at))| Ok((created, doc(id, at)?)))
            .collect::<crate::Result<Vec<(i64, Doc)>>>()?;
        docs.sort_by(|a, b| (a.0, &a.1.id).cmp(&(b.0, &b.1.id)));
        Ok(Docs {
            docs: docs.into_iter().map(|(_, d)| d).collect(),
            tables: tables.clone(),
        })
    }

    /// The document of `d` exactly as received.
    fn raw(&self, d: &Doc) -> crate::Result<Box<RawValue>> {
        self.raws(std::slice::from_ref(&d))
            .map(|mut v| v.pop().unwrap_or_default())
    }

    /// The documents of `docs` exactly as received, in order (each original file opened
    /// once).
    fn raws(&self, docs: &[&Doc]) -> crate::Result<Vec<Box<RawValue>>> {
        let mut reader = self.tables.documents();
        docs.iter()
            .map(|d| {
                let bytes = reader.footprint(d.at.0, d.at.1)?;
                let text = String::from_utf8(bytes).map_err(|e| {
                    crate::Error::Internal(format!("stored footprint {} is not UTF-8: {e}", d.id))
                })?;
                RawValue::from_string(text).map_err(|e| {
                    crate::Error::Internal(format!("stored footprint {} is not JSON: {e}", d.id))
                })
            })
            .collect()
    }

    /// The docs of `major` that `client` may see and `keep` accepts (parsed one by one,
    /// only when there is a filter, and only those whose stored product and company ids
    /// `may` match: a filter by product reads a few documents, not every one).
    fn matching<'a>(
        &'a self,
        client: &PactClient,
        major: u8,
        keep: Option<&dyn Fn(&Value) -> bool>,
        may: &dyn Fn(&Doc) -> bool,
    ) -> crate::Result<Vec<&'a Doc>> {
        let candidates = self
            .docs
            .iter()
            .filter(|d| d.major == major && visible(client, d) && may(d));
        let Some(keep) = keep else {
            return Ok(candidates.collect());
        };
        let mut reader = self.tables.documents();
        let mut out = Vec::new();
        for d in candidates {
            let bytes = reader.footprint(d.at.0, d.at.1)?;
            let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
                crate::Error::Internal(format!("stored footprint {} is not JSON: {e}", d.id))
            })?;
            if keep(&value) {
                out.push(d);
            }
        }
        Ok(out)
    }
}

fn visible(client: &PactClient, doc: &Doc) -> bool {
    client
        .companies
        .iter()
        .any(|c| c == "*" || doc.companies.iter().any(|d| d.eq_ignore_ascii_case(c)))
}

/// A filter on a parsed document.
type Keep<'a> = Box<dyn Fn(&Value) -> bool + 'a>;

/// What a list request filters on.
enum Criteria {
    /// v2: an OData `$filter`, if any.
    V2(Option<Filter>),
    /// v3: the query criteria.
    V3(V3Criteria),
}

#[derive(Default)]
struct V3Criteria {
    product_ids: Vec<String>,
    company_ids: Vec<String>,
    geography: Vec<String>,
    classification: Vec<String>,
    valid_on: Option<chrono::DateTime<chrono::FixedOffset>>,
    valid_after: Option<chrono::DateTime<chrono::FixedOffset>>,
    valid_before: Option<chrono::DateTime<chrono::FixedOffset>>,
    status: Option<String>,
}

fn date_param(v: &str, name: &str) -> Result<chrono::DateTime<chrono::FixedOffset>, PactError> {
    chrono::DateTime::parse_from_rfc3339(v).map_err(|_| {
        PactError::bad_request(format!("{name} must be an RFC 3339 date-time, got {v:?}"))
    })
}

impl Doc {
    /// The fields of a footprint a v2 `$filter` can be decided on without its document.
    const FIELDS: [&str; 6] = [
        "productIds",
        "companyIds",
        "pcf/geographyRegionOrSubregion",
        "pcf/geographyCountry",
        "pcf/geographyCountrySubdivision",
        "status",
    ];

    /// The stored value of `field`, one of [`Doc::FIELDS`] (`None` for any other).
    fn field(&self, field: &str) -> Option<Known<'_>> {
        Some(match field {
            "productIds" => Known::Array(&self.products),
            "companyIds" => Known::Array(&self.companies),
            "pcf/geographyRegionOrSubregion" => Known::Text(self.region.as_deref()),
            "pcf/geographyCountry" => Known::Text(self.country.as_deref()),
            "pcf/geographyCountrySubdivision" => Known::Text(self.subdivision.as_deref()),
            "status" => Known::Text(Some(&self.status)),
            _ => return None,
        })
    }
}

impl V3Criteria {
    /// Whether [`V3Criteria::may_match`] is the whole answer: no criterion on a field the
    /// list does not keep (classification, validity dates).
    fn decided_by_stored(&self) -> bool {
        self.classification.is_empty()
            && self.valid_on.is_none()
            && self.valid_after.is_none()
            && self.valid_before.is_none()
    }

    fn parse(pairs: &[(String, String)]) -> Result<V3Criteria, PactError> {
        let mut c = V3Criteria::default();
        for (k, v) in pairs {
            match k.to_ascii_lowercase().as_str() {
                "productid" => c.product_ids.push(v.to_ascii_lowercase()),
                "companyid" => c.company_ids.push(v.to_ascii_lowercase()),
                "geography" => c.geography.push(v.to_ascii_lowercase()),
                "classification" => c.classification.push(v.to_ascii_lowercase()),
                "validon" => c.valid_on = Some(date_param(v, "validOn")?),
                "validafter" => c.valid_after = Some(date_param(v, "validAfter")?),
                "validbefore" => c.valid_before = Some(date_param(v, "validBefore")?),
                "status" => {
                    let s = v.to_ascii_lowercase();
                    if s != "active" && s != "deprecated" {
                        return Err(PactError::bad_request(format!(
                            "status must be Active or Deprecated, got {v:?}"
                        )));
                    }
                    c.status = Some(s);
                }
                "limit" | "offset" | "dataset" => {}
                other if other.starts_with("x-") => {}
                other => {
                    return Err(PactError::bad_request(format!(
                        "unknown query parameter {other:?}"
                    )));
                }
            }
        }
        Ok(c)
    }

    /// Whether `d` may match, from its stored ids alone (a necessary condition of
    /// [`V3Criteria::matches`]).
    fn may_match(&self, d: &Doc) -> bool {
        let any_of = |wanted: &[String], have: &[String]| {
            wanted.is_empty()
                || have
                    .iter()
                    .any(|h| wanted.iter().any(|w| w.eq_ignore_ascii_case(h)))
        };
        let geography = [&d.region, &d.country, &d.subdivision];
        let in_geography = self.geography.is_empty()
            || geography
                .iter()
                .filter_map(|g| g.as_deref())
                .any(|g| self.geography.iter().any(|w| w.eq_ignore_ascii_case(g)));
        let status = self
            .status
            .as_ref()
            .is_none_or(|s| s.eq_ignore_ascii_case(&d.status));
        any_of(&self.product_ids, &d.products)
            && any_of(&self.company_ids, &d.companies)
            && in_geography
            && status
    }

    fn matches(&self, doc: &Value) -> bool {
        let lower_list = |key: &str| -> Vec<String> {
            doc[key]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_ascii_lowercase))
                        .collect()
                })
                .unwrap_or_default()
        };
        let any_of = |wanted: &[String], have: &[String]| {
            wanted.is_empty() || wanted.iter().any(|w| have.contains(w))
        };
        if !any_of(&self.product_ids, &lower_list("productIds"))
            || !any_of(&self.company_ids, &lower_list("companyIds"))
            || !any_of(&self.classification, &lower_list("productClassifications"))
        {
            return false;
        }
        let pcf = &doc["pcf"];
        let geo: Vec<String> = [
            "geographyRegionOrSubregion",
            "geographyCountry",
            "geographyCountrySubdivision",
        ]
        .iter()
        .filter_map(|k| pcf[*k].as_str().map(str::to_ascii_lowercase))
        .collect();
        if !any_of(&self.geography, &geo) {
            return false;
        }
        if let Some(s) = &self.status
            && doc["status"].as_str().map(str::to_ascii_lowercase).as_ref() != Some(s)
        {
            return false;
        }
        if self.valid_on.is_some() || self.valid_after.is_some() || self.valid_before.is_some() {
            let Some((start, end)) = validity(doc) else {
                return false;
            };
            if self.valid_on.is_some_and(|t| !(start <= t && t <= end))
                || self.valid_after.is_some_and(|t| start <= t)
                || self.valid_before.is_some_and(|t| end >= t)
            {
                return false;
            }
        }
        true
    }
}

/// The validity period of a v3 footprint: as given, else three years from the reference
/// period's end (PACT v3 §validity-period).
fn validity(
    doc: &Value,
) -> Option<(
    chrono::DateTime<chrono::FixedOffset>,
    chrono::DateTime<chrono::FixedOffset>,
)> {
    let at = |v: &Value| {
        v.as_str()
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
    };
    let start = at(&doc["validityPeriodStart"]);
    let end = at(&doc["validityPeriodEnd"]);
    match (start, end) {
        (Some(s), Some(e)) => Some((s, e)),
        _ => {
            let ref_end = at(&doc["pcf"]["referencePeriodEnd"])?;
            let three_years = ref_end.checked_add_months(chrono::Months::new(36))?;
            Some((start.unwrap_or(ref_end), end.unwrap_or(three_years)))
        }
    }
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
        .find(|d| d.id == id && d.major == major)
        .ok_or_else(|| PactError::no_such_footprint(&id))?;
    if !visible(&client, doc) {
        return Err(PactError::access_denied(
            "the data owner has not shared this footprint with this client",
        ));
    }
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
    for field in ["type", "specversion", "id", "source"] {
        if !event[field].is_string() {
            return Err(PactError::bad_request(format!(
                "a CloudEvent needs the string field {field:?}"
            )));
        }
    }
    if !event["data"].is_object() {
        return Err(PactError::bad_request("a CloudEvent needs a data object"));
    }
    let t = event["type"].as_str().unwrap_or_default();
    let kind = event_kind(t).ok_or_else(|| {
        PactError::new(
            StatusCode::BAD_REQUEST,
            "NotImplemented",
            format!("event type {t:?} is not supported"),
        )
    })?;
    let data = &event["data"];
    let need = |field: &str, ok: bool| {
        if ok {
            Ok(())
        } else {
            Err(PactError::bad_request(format!(
                "{t}: data.{field} is missing or has the wrong type"
            )))
        }
    };
    match kind {
        "published" => need(
            "pfIds",
            data["pfIds"]
                .as_array()
                .is_some_and(|a| a.iter().all(Value::is_string))
                || data["productFootprintIds"].is_array(),
        )?,
        // v2 asks with a partial footprint in data.pf; v3 with filter criteria in data.
        "request_created" if t.ends_with(".v1") => need("pf", data["pf"].is_object())?,
        "request_created" => {}
        "request_fulfilled" => {
            need("requestEventId", data["requestEventId"].is_string())?;
            need("pfs", data["pfs"].is_array())?;
        }
        _ => {
            need("requestEventId", data["requestEventId"].is_string())?;
            need("error", data["error"].is_object())?;
        }
    }
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
            match super::client::send_event(&callback, major, &answer).await {
                Ok(()) => tracing::info!(client = %id, "pact: request answered"),
                Err(e) => tracing::warn!(client = %id, "pact: answering a request failed: {e}"),
            }
        });
        tracing::info!(client = %client.id, event = %event["id"], "pact: request accepted");
        return Ok(StatusCode::OK.into_response());
    }
    tracing::info!(client = %client.id, event = %event["id"], kind, "pact: event received");
    Ok(StatusCode::OK.into_response())
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
            for (k, v) in o {
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
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(PactError::internal)?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    ))
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
    fn every_stored_field_has_a_value() {
        let d = Doc {
            id: "x".into(),
            major: 2,
            companies: Vec::new(),
            products: Vec::new(),
            region: None,
            country: None,
            subdivision: None,
            status: "Active".into(),
            at: (0, 0),
        };
        for f in Doc::FIELDS {
            assert!(d.field(f).is_some(), "{f}");
        }
        assert!(d.field("pcf/referencePeriodStart").is_none());
    }

    #[test]
    fn percent_round_trip() {
        let s = "(pcf/geographyCountry eq 'DE') and x=1&y";
        assert_eq!(percent_decode(&percent_encode(s)), s);
        assert_eq!(percent_decode("a+b%20c"), "a b c");
    }

    #[test]
    fn uuids() {
        assert!(is_uuid("91715e5e-fd0b-4d1c-8fab-76290c46e6ed"));
        assert!(!is_uuid("91715e5e-fd0b-4d1c-8fab-76290c46e6e"));
        assert!(!is_uuid("91715e5e_fd0b-4d1c-8fab-76290c46e6ed"));
    }
}
