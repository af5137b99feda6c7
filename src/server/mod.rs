//! The HTTP server: dashboards as HTML with inline SVG, charts as SVG and PNG, the query
//! catalog and the CLI's analyses as a JSON/CSV/Arrow/Parquet API, uploads, ad-hoc SQL,
//! and roles. The only module that touches axum.
//!
//! Access: without a config file the server is read-only and anonymous, and binds loopback
//! only. With one, every data route needs a token (`Authorization: Bearer …`, or the
//! `mieruka_token` cookie) whose SHA-256 is listed in the config with a role: `admin`
//! (everything), `analyst` (read and ad-hoc SQL) or `supplier` (read, and only the rows of
//! its own companies: enforced once, by giving each supplier a session over its own rows).

mod api;
mod auth;
mod cache;
mod events;
pub mod listen;
mod openapi;
mod pact;
mod pages;
mod profile;
pub mod tls;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tower_http::LatencyUnit;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

pub use auth::{Principal, Role, hash_token};

use crate::dashboard::Dashboards;
use crate::pact::PactConfig;
use crate::query::{Catalog, KeptViews, Session};
use crate::score::Profile;
use crate::table::Tables;
use crate::{Error, Result};

/// Limits of the server, from `[limits]` in the config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Seconds a request may take before it is answered 408.
    pub request_seconds: u64,
    /// Largest request body (uploads), MiB.
    pub body_mib: usize,
    /// Seconds an ad-hoc SQL query may run.
    pub sql_seconds: u64,
    /// Memory an ad-hoc SQL query may use, MiB.
    pub sql_memory_mib: usize,
    /// Rows an ad-hoc SQL query may return.
    pub sql_rows: usize,
    /// Seconds a client has to send a request's head; also how long an idle connection
    /// stays open.
    pub header_seconds: u64,
    /// Connections open at once.
    pub connections: usize,
    /// Connections open at once from one address (set it to `connections` behind a
    /// reverse proxy, where every connection comes from the proxy).
    pub connections_per_address: usize,
}

impl Limits {
    /// The connection limits the accept loop applies.
    pub fn connections(&self) -> listen::Connections {
        listen::Connections {
            header_seconds: self.header_seconds,
            total: self.connections,
            per_address: self.connections_per_address,
        }
    }
}

impl Default for Limits {
    fn default() -> Limits {
        let connections = listen::Connections::default();
        Limits {
            request_seconds: 30,
            body_mib: 64,
            sql_seconds: 10,
            sql_memory_mib: 512,
            sql_rows: 100_000,
            header_seconds: connections.header_seconds,
            connections: connections.total,
            connections_per_address: connections.per_address,
        }
    }
}

/// A token entry of the config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenEntry {
    /// Who holds it (shown in logs; never the token).
    pub name: String,
    /// Hex SHA-256 of the token (`printf %s TOKEN | sha256sum`).
    pub sha256: String,
    /// `admin`, `analyst` or `supplier`.
    pub role: Role,
    /// The companies (URNs, as in PACT `companyIds`) a supplier token may see.
    #[serde(default)]
    pub companies: Vec<String>,
}

/// The server config file (TOML).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to bind when `--bind` is not given.
    #[serde(default)]
    pub bind: Option<String>,
    /// Scoring profile for scores, sheets and rankings (default: gxd-2025).
    #[serde(default)]
    pub profile: Option<PathBuf>,
    /// Limits.
    #[serde(default)]
    pub limits: Limits,
    /// API tokens.
    #[serde(default, rename = "token")]
    pub tokens: Vec<TokenEntry>,
    /// The PACT host: its clients (data recipients) and token lifetime.
    #[serde(default)]
    pub pact: PactConfig,
    /// Serve plain HTTP on a non-loopback address (behind a TLS-terminating proxy).
    #[serde(default)]
    pub plain_http: bool,
    /// The URL clients reach the server at (`https://pact.example.com`), written into the
    /// links the server makes (PACT `Link` pagination, the OpenID configuration) instead of
    /// the request's `Host` header, which any client can set.
    #[serde(default)]
    pub public_url: Option<String>,
}

impl Config {
    /// Reads a config file.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Config::parse(&path.display().to_string(), &text)
    }

    /// A config from its TOML text; `source` names it in errors.
    pub fn parse(source: &str, text: &str) -> Result<Config> {
        let config: Config = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(0, |s| {
                text[..s.start.min(text.len())].matches('\n').count() + 1
            });
            Error::Usage(format!("{source}:{line}: {}", e.message()))
        })?;
        for t in &config.tokens {
            let ok = t.sha256.len() == 64 && t.sha256.bytes().all(|b| b.is_ascii_hexdigit());
            if !ok {
                return Err(Error::Usage(format!(
                    "{}: token {:?}: sha256 must be 64 hex digits (printf %s TOKEN | sha256sum)",
                    source, t.name
                )));
            }
            if t.role == Role::Supplier && t.companies.is_empty() {
                return Err(Error::Usage(format!(
                    "{}: token {:?}: a supplier token needs companies = [\"urn:…\"]",
                    source, t.name
                )));
            }
        }
        if let Some(url) = &config.public_url {
            let rest = url
                .strip_prefix("https://")
                .or_else(|| url.strip_prefix("http://"));
            if !rest.is_some_and(|r| !r.is_empty() && is_host(r.trim_end_matches('/'))) {
                return Err(Error::Usage(format!(
                    "{source}: public_url = {url:?}: give the scheme and host (and port) clients reach the server at, e.g. \"https://pact.example.com\""
                )));
            }
        }
        config.pact.validate(source).map_err(Error::Usage)?;
        Ok(config)
    }
}

/// Whether `s` is a host with an optional port (`example.com`, `10.0.0.1:8443`, `[::1]:80`):
/// what a `Host` header may carry into a link the server writes.
pub(crate) fn is_host(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 255
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]_".contains(&b))
}

/// A loaded dataset and its sessions; replaced whole after an upload.
pub(crate) struct Loaded {
    pub tables: Tables,
    pub full: Session,
    per_supplier: Mutex<HashMap<Vec<String>, Session>>,
    /// Pages and charts rendered from this dataset. The data change only by an upload,
    /// which replaces the whole `Loaded`, so an entry is never stale.
    rendered: Mutex<cache::Rendered>,
    /// The footprints the PACT host serves, built once (or why they could not be).
    pact_docs: std::sync::OnceLock<std::result::Result<Arc<crate::pact::host::Docs>, String>>,
    /// Which dataset this is, unique in the process and unlikely to repeat across restarts
    /// (a random start plus a count): PACT `next` links name it.
    pub generation: u64,
}

/// PACT lists kept for links into earlier datasets.
const PACT_LISTS_KEPT: usize = 4;

/// A new dataset generation.
fn next_generation() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    static START: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let start = *START.get_or_init(|| {
        let mut b = [0u8; 8];
        // Without randomness, links from before a restart may name a later dataset: still
        // a list, only not the one they began on.
        let _ = getrandom::fill(&mut b);
        u64::from_le_bytes(b) >> 16
    });
    start.wrapping_add(NEXT.fetch_add(1, Ordering::Relaxed))
}

/// The cache key of a rendered response: what was asked, and what the asker may see.
pub(crate) fn render_key(
    what: &str,
    given: &HashMap<String, String>,
    principal: &Principal,
) -> String {
    let mut params: Vec<(&String, &String)> = given.iter().collect();
    params.sort();
    format!("{what}\u{0}{params:?}\u{0}{:?}", principal.companies())
}

/// What every handler shares.
pub(crate) struct Inner {
    pub data_dir: Option<PathBuf>,
    pub config: Option<Config>,
    pub catalog: &'static Catalog,
    pub dashboards: Dashboards,
    pub profile: Profile,
    pub loaded: RwLock<Arc<Loaded>>,
    /// Serialises uploads (the store also locks, across processes).
    pub upload: tokio::sync::Mutex<()>,
    /// Access tokens the PACT host handed out.
    pub pact_tokens: crate::pact::host::Tokens,
    /// The PACT lists of the last few datasets, by generation: a `next` link names the
    /// generation it pages through, so its pages stay the same while uploads happen.
    pub pact_lists: Mutex<std::collections::VecDeque<(u64, Arc<crate::pact::host::Docs>)>>,
    /// Whether requests arrive over TLS (for absolute links the server writes).
    pub https: std::sync::atomic::AtomicBool,
    /// Where the full session's SQL runs when not in this process (`serve --engine`).
    pub engine: Option<Arc<dyn crate::query::Engine>>,
}

/// The server's state.
#[derive(Clone)]
pub struct AppState(pub(crate) Arc<Inner>);

impl AppState {
    /// State over `tables` (from `data_dir` when given; uploads need one).
    pub async fn new(
        tables: Tables,
        data_dir: Option<PathBuf>,
        config: Option<Config>,
    ) -> Result<AppState> {
        AppState::on_engine(tables, data_dir, config, None).await
    }

    /// [`AppState::new`] whose catalog queries and ad-hoc SQL run on `engine` (a cluster
    /// scanning the data directory's files); dashboards' analyses, uploads, PACT and the
    /// sessions of supplier tokens (their rows only) stay in this process.
    pub async fn on_engine(
        tables: Tables,
        data_dir: Option<PathBuf>,
        config: Option<Config>,
        engine: Option<Arc<dyn crate::query::Engine>>,
    ) -> Result<AppState> {
        let profile = match config.as_ref().and_then(|c| c.profile.as_ref()) {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| Error::io(p, e))?;
                Profile::parse(&p.display().to_string(), &text)?
            }
            None => Profile::default_profile(),
        };
        let index = from_index(data_dir.as_deref())?;
        let loaded = Arc::new(load(tables, &profile, index, engine.as_deref()).await?);
        let state = AppState(Arc::new(Inner {
            data_dir,
            config,
            catalog: Catalog::embedded()?,
            dashboards: Dashboards::embedded()?,
            profile,
            loaded: RwLock::new(loaded),
            upload: tokio::sync::Mutex::new(()),
            pact_tokens: crate::pact::host::Tokens::default(),
            pact_lists: Mutex::new(std::collections::VecDeque::new()),
            https: std::sync::atomic::AtomicBool::new(false),
            engine,
        }));
        state.prepare_pact_list();
        Ok(state)
    }

    /// The config's limits, or the defaults without a config.
    pub fn limits(&self) -> Limits {
        self.0
            .config
            .as_ref()
            .map(|c| c.limits.clone())
            .unwrap_or_default()
    }

    /// Says the server is reached over HTTPS, so absolute links (PACT pagination, discovery)
    /// say `https`. [`serve`] sets it when it terminates TLS.
    pub fn set_https(&self, on: bool) {
        self.0.https.store(on, std::sync::atomic::Ordering::Relaxed);
    }

    pub(crate) fn https(&self) -> bool {
        self.0.https.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub(crate) fn pact_config(&self) -> &PactConfig {
        static NONE: std::sync::LazyLock<PactConfig> =
            std::sync::LazyLock::new(PactConfig::default);
        self.0.config.as_ref().map_or(&NONE, |c| &c.pact)
    }

    pub(crate) fn pact_tokens(&self) -> &crate::pact::host::Tokens {
        &self.0.pact_tokens
    }

    /// The footprints the PACT host serves, from the current dataset.
    pub(crate) fn pact_docs(&self) -> Result<Arc<crate::pact::host::Docs>> {
        Ok(self.pact_list()?.1)
    }

    /// The current dataset's PACT list and its generation; the list is kept among the
    /// last [`PACT_LISTS_KEPT`] for links that page through it.
    pub(crate) fn pact_list(&self) -> Result<(u64, Arc<crate::pact::host::Docs>)> {
        let loaded = self.loaded();
        // Built once per dataset; a request that comes while the background build runs waits
        // for it rather than building a second list.
        let docs = loaded
            .pact_docs
            .get_or_init(|| {
                crate::pact::host::Docs::build(&loaded.tables)
                    .map(Arc::new)
                    .map_err(|e| e.to_string())
            })
            .clone()
            .map_err(Error::Internal)?;
        let mut kept = self
            .0
            .pact_lists
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !kept.iter().any(|(g, _)| *g == loaded.generation) {
            if kept.len() >= PACT_LISTS_KEPT {
                kept.pop_front();
            }
            kept.push_back((loaded.generation, docs.clone()));
        }
        Ok((loaded.generation, docs))
    }

    /// The PACT list of dataset `generation`, if it is still kept.
    pub(crate) fn pact_list_of(&self, generation: u64) -> Option<Arc<crate::pact::host::Docs>> {
        let loaded = self.loaded();
        if loaded.generation == generation {
            return self.pact_list().ok().map(|(_, d)| d);
        }
        self.0
            .pact_lists
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .find(|(g, _)| *g == generation)
            .map(|(_, d)| d.clone())
    }

    pub(crate) fn loaded(&self) -> Arc<Loaded> {
        match self.0.loaded.read() {
            Ok(l) => l.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub(crate) async fn replace(&self, tables: Tables) -> Result<()> {
        let index = from_index(self.0.data_dir.as_deref())?;
        let fresh = Arc::new(load(tables, &self.0.profile, index, self.0.engine.as_deref()).await?);
        match self.0.loaded.write() {
            Ok(mut l) => *l = fresh,
            Err(poisoned) => *poisoned.into_inner() = fresh,
        }
        self.prepare_pact_list();
        Ok(())
    }

    /// Builds the PACT list of the current dataset in the background when the host has
    /// clients, so the first ListFootprints after a start or an upload does not wait for it
    /// (seconds at a million footprints).
    fn prepare_pact_list(&self) {
        if self.pact_config().clients.is_empty() {
            return;
        }
        let state = self.clone();
        tokio::task::spawn_blocking(move || {
            let t = std::time::Instant::now();
            match state.pact_list() {
                Ok(_) => tracing::info!("pact: footprint list ready in {:.2?}", t.elapsed()),
                Err(e) => tracing::warn!("pact: building the footprint list failed: {e}"),
            }
        });
    }

    /// The session `principal` reads through: everything, or only a supplier's companies.
    pub(crate) async fn session(&self, principal: &Principal) -> Result<Session> {
        let loaded = self.loaded();
        let Some(companies) = principal.companies() else {
            return Ok(loaded.full.clone());
        };
        let key = companies.to_vec();
        if let Ok(cache) = loaded.per_supplier.lock()
            && let Some(s) = cache.get(&key)
        {
            return Ok(s.clone());
        }
        let tables = loaded.tables.restrict_to_companies(companies)?;
        let session = Session::with_profile(&tables, self.0.profile.clone()).await?;
        if let Ok(mut cache) = loaded.per_supplier.lock() {
            cache.insert(key, session.clone());
        }
        Ok(session)
    }
}

/// What the data directory's graph index gives a session: the hotspot graph, when there is
/// one (else the session builds it from the tables on first use), and what it keeps of the
/// views (else the session works them out).
type FromIndex = (Option<Arc<crate::hotspot::Graph>>, KeptViews);

/// The [`FromIndex`] of the data directory at `data_dir`, if any.
fn from_index(data_dir: Option<&std::path::Path>) -> Result<FromIndex> {
    let Some(dir) = data_dir else {
        return Ok((None, KeptViews::default()));
    };
    let Ok(store) = crate::store::Store::open(dir) else {
        return Ok((None, KeptViews::default()));
    };
    let kept = match store.snapshot() {
        Ok(snapshot) => KeptViews::of(&snapshot),
        Err(e) => {
            tracing::warn!("{e}; the views are worked out from the tables");
            KeptViews::default()
        }
    };
    match crate::dataset::stored_graph(&store) {
        // A server reads the same labels for every answer: checked once here.
        Ok(graph) => Ok((graph.map(|g| Arc::new(g.with_text_checked())), kept)),
        // The index is derived from the tables: the session builds the graph from them.
        Err(e) => {
            tracing::warn!("{e}; the graph is built from the tables instead");
            Ok((None, kept))
        }
    }
}

async fn load(
    tables: Tables,
    profile: &Profile,
    (graph, kept): FromIndex,
    engine: Option<&dyn crate::query::Engine>,
) -> Result<Loaded> {
    let full = match engine {
        Some(e) => e.session(&tables, profile.clone(), graph).await?,
        None => Session::with_kept(&tables, profile.clone(), graph, &kept).await?,
    };
    Ok(Loaded {
        tables,
        full,
        per_supplier: Mutex::new(HashMap::new()),
        rendered: Mutex::new(cache::Rendered::default()),
        pact_docs: std::sync::OnceLock::new(),
        generation: next_generation(),
    })
}

/// An error as the API answers it: a status and a message. Causes of 500s are logged, not
/// sent.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> ApiError {
        match e {
            Error::NotFound(m) => ApiError::new(StatusCode::NOT_FOUND, m),
            Error::Usage(m) => ApiError::new(StatusCode::BAD_REQUEST, m),
            e @ Error::OutOfRange { .. } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string())
            }
            e @ Error::UnknownQuery { .. } => ApiError::new(StatusCode::NOT_FOUND, e.to_string()),
            e @ (Error::Query { .. } | Error::QueryFailed { .. }) => {
                ApiError::new(StatusCode::BAD_REQUEST, e.to_string())
            }
            other => {
                tracing::error!("internal error: {other}");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "error": self.status.canonical_reason().unwrap_or("error"),
            "message": self.message,
        });
        (self.status, axum::Json(body)).into_response()
    }
}

/// The answer to a handler that panicked: the generic 500, with the cause in the log.
fn panic_response(cause: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = cause
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| cause.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!("a request handler panicked: {what}");
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
}

/// The layer that turns a panicking handler into the generic 500 (the cause logged) and keeps
/// the server up; [`router`] applies it to every route.
pub fn panic_guard() -> CatchPanicLayer<fn(Box<dyn std::any::Any + Send + 'static>) -> Response> {
    CatchPanicLayer::custom(panic_response as fn(_) -> _)
}

/// The span every request is logged in: method, path and query (secrets redacted), version.
fn request_span<B>(req: &axum::http::Request<B>) -> tracing::Span {
    tracing::info_span!(
        "request",
        method = %req.method(),
        uri = %redacted(req.uri()),
        version = ?req.version(),
    )
}

/// Query parameters whose values never reach the log (`/login?token=…`).
const SECRET_PARAMS: [&str; 4] = ["token", "access_token", "client_secret", "secret"];

/// `uri` with the values of [`SECRET_PARAMS`] replaced by `[redacted]`.
fn redacted(uri: &axum::http::Uri) -> String {
    let Some(query) = uri.query() else {
        return uri.to_string();
    };
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if SECRET_PARAMS.iter().any(|s| s.eq_ignore_ascii_case(name)) => {
                format!("{name}=[redacted]")
            }
            _ => pair.to_owned(),
        })
        .collect();
    format!("{}?{}", uri.path(), query.join("&"))
}

/// Every route, without a socket (tests call it with `oneshot`).
pub fn router(state: AppState) -> Router {
    let limits = state.limits();
    Router::new()
        .route("/", get(pages::index))
        .route(
            "/dashboards/profile",
            get(profile::editor).post(profile::save),
        )
        .route("/dashboards/{*id}", get(pages::dashboard))
        .route("/charts/{*path}", get(pages::chart))
        .route("/healthz", get(|| async { "ok" }))
        .route("/assets/mplus1-regular.otf", get(pages::font))
        .route("/openapi.json", get(openapi::openapi))
        .route("/login", get(auth::login))
        .route("/api/queries", get(api::queries))
        .route("/api/queries/{*id}", get(api::query))
        .route("/api/hotspots", get(api::hotspots))
        .route("/api/score", get(api::score))
        .route("/api/sheet", get(api::sheet))
        .route("/api/rank", get(api::rank))
        .route("/api/whatif", post(api::whatif))
        .route("/api/footprints", post(api::upload))
        .route("/api/sql", post(api::sql))
        .route("/auth/token", post(self::pact::token))
        .route(
            "/.well-known/openid-configuration",
            get(self::pact::openid_configuration),
        )
        .route("/2/footprints", get(self::pact::list_v2))
        .route("/2/footprints/{id}", get(self::pact::get_v2))
        .route("/2/events", post(self::events::events))
        .route("/3/footprints", get(self::pact::list_v3))
        .route("/3/footprints/{id}", get(self::pact::get_v3))
        .route("/3/events", post(self::events::events))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such page") })
        // The config's limit, for the whole request and for the handlers' body extractors
        // (whose own default, 2 MiB, would refuse a valid upload well below `body_mib`).
        .layer(DefaultBodyLimit::max(limits.body_mib * 1024 * 1024))
        .layer(RequestBodyLimitLayer::new(limits.body_mib * 1024 * 1024))
        // Innermost of the service layers: a handler that panics answers 500 and the server
        // stays up (the cause is logged, never sent).
        .layer(panic_guard())
        // gzip's fastest level: a hotspot answer at 1M footprints (1.9 MB of JSON) took 17 ms
        // to compress at the default level, as long as the question itself; a browser asks
        // for gzip on every request.
        .layer(CompressionLayer::new().quality(tower_http::CompressionLevel::Fastest))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(limits.request_seconds),
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(
                    DefaultOnResponse::new()
                        .level(Level::INFO)
                        .latency_unit(LatencyUnit::Micros),
                ),
        )
        // Outermost, so that every answer carries them (a timeout's and a panic's too).
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

/// What every response may do in a browser: pages are HTML and inline SVG with the style
/// sheet inline and no script at all, so nothing else is allowed to load or run; no other
/// site may frame them (clickjacking), and no response is sniffed into another type.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; \
    img-src 'self' data:; font-src 'self' data:; form-action 'self'; \
    frame-ancestors 'none'; base-uri 'none'";

async fn security_headers(mut r: Response) -> Response {
    use axum::http::HeaderValue;
    use axum::http::header::{
        CONTENT_SECURITY_POLICY as CSP, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
    };
    let h = r.headers_mut();
    h.insert(CSP, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    r
}

/// Serves `state` on `addr` until SIGINT or SIGTERM, over HTTPS when `tls` gives a
/// certificate and key (PEM). Without a config only loopback addresses are allowed; plain
/// HTTP on other addresses needs `plain_http = true` in the config (for a TLS-terminating
/// proxy in front).
pub async fn serve(state: AppState, addr: SocketAddr, tls: Option<(&Path, &Path)>) -> Result<()> {
    let loopback = addr.ip().is_loopback();
    match &state.0.config {
        None if !loopback => {
            return Err(Error::Usage(format!(
                "refusing to serve on {addr} without a config: without tokens the server is open to anyone who reaches it. Bind 127.0.0.1, or pass --config with tokens"
            )));
        }
        Some(c) if !loopback && tls.is_none() && !c.plain_http => {
            return Err(Error::Usage(format!(
                "refusing plain HTTP on {addr}: tokens and footprints would cross the network unencrypted (PACT requires HTTPS). Pass --tls-cert and --tls-key, or set plain_http = true in the config behind a TLS-terminating proxy"
            )));
        }
        _ => {}
    }
    let tls_config = match tls {
        Some((cert, key)) => Some(tls::server_config(cert, key)?),
        None => None,
    };
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Error::Usage(format!("cannot bind {addr}: {e}")))?;
    let bound = listener
        .local_addr()
        .map_err(|e| Error::Internal(e.to_string()))?;
    state.set_https(tls_config.is_some());
    let limits = state.limits();
    let connections = limits.connections();
    // Requests in flight when a stop signal comes get their full time to finish.
    let drain = Duration::from_secs(limits.request_seconds.saturating_add(1));
    let app = router(state);
    match tls_config {
        Some(config) => {
            eprintln!("mieruka: serving on https://{bound}/ (Ctrl-C to stop)");
            let listener = tls::TlsListener::new(listener, config)
                .map_err(|e| Error::Internal(format!("TLS listener: {e}")))?;
            listen::serve(listener, app, connections, drain, shutdown()).await;
        }
        None => {
            eprintln!("mieruka: serving on http://{bound}/ (Ctrl-C to stop)");
            listen::serve(listener, app, connections, drain, shutdown()).await;
        }
    }
    Ok(())
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_in_a_query_never_reach_the_log() {
        let uri = |s: &str| s.parse::<axum::http::Uri>().expect("uri");
        assert_eq!(
            redacted(&uri("/login?token=s3cret")),
            "/login?token=[redacted]"
        );
        assert_eq!(
            redacted(&uri("/x?a=1&Token=s3cret&client_secret=k&b=2")),
            "/x?a=1&Token=[redacted]&client_secret=[redacted]&b=2"
        );
        // Other parameters, and paths without a query, are logged as they are.
        assert_eq!(
            redacted(&uri("/api/hotspots?product=urn:x&top=5")),
            "/api/hotspots?product=urn:x&top=5"
        );
        assert_eq!(redacted(&uri("/healthz")), "/healthz");
    }
}
