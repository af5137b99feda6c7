//! `mieruka pull`: a PACT data recipient. Discovers the token endpoint through
//! `/.well-known/openid-configuration` (falling back to `BASE/auth/token`), obtains a token
//! with client credentials, reads every page of `ListFootprints` (following `Link` headers),
//! retries 5xx answers and timeouts with backoff, refreshes the token once on `TokenExpired`,
//! and hands the pages to ingest, which validates them and commits them atomically. A pull
//! that fails part-way stores nothing unless asked to keep what it has. HTTPS through rustls
//! trusts the Mozilla roots (compiled in) and any CA certificate given.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Request, StatusCode, Uri, header};
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Serialize;
use serde_json::Value;
use tokio_rustls::rustls::pki_types::CertificateDer;

use super::host::percent_encode;
use crate::ingest::Source;
use crate::{Error, Result};

/// What to pull and how.
#[derive(Debug, Clone)]
pub struct PullOptions {
    /// The host's base URL (`https://pact.example.com`).
    pub url: String,
    /// OAuth2 client id.
    pub client_id: String,
    /// OAuth2 client secret (never logged).
    pub client_secret: String,
    /// PACT major version of the API to read: 2 or 3.
    pub version: u8,
    /// v2: a `$filter` expression; v3: a query string of criteria (`productId=…&status=Active`).
    pub filter: Option<String>,
    /// Page size asked for.
    pub limit: usize,
    /// Timeout of one HTTP request.
    pub timeout: Duration,
    /// Attempts per request on 5xx answers and timeouts.
    pub attempts: u32,
    /// Certificates (PEM) to trust besides the Mozilla roots, for a private CA.
    pub ca_cert: Option<PathBuf>,
    /// The token endpoint, instead of the one discovery announces.
    pub token_url: Option<String>,
    /// Keep only footprints created or updated after this time (`updated`, else `created`);
    /// the others are dropped from the pages as they arrive, each kept document's text as
    /// received.
    pub since: Option<chrono::DateTime<chrono::Utc>>,
}

/// What a pull did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PullStats {
    /// Pages read.
    pub pages: usize,
    /// Footprints received.
    pub footprints: usize,
    /// Requests retried after a 5xx answer or a timeout.
    pub retries: usize,
    /// Tokens obtained again after `TokenExpired`.
    pub token_refreshes: usize,
    /// The token endpoint used.
    pub token_endpoint: String,
    /// Footprints left out by `since`: not created or updated after it.
    pub unchanged: usize,
}

/// The pages read, each as a PACT list response, and how it went. `error` is set when the
/// pull stopped part-way; `pages` then holds what arrived before.
#[derive(Debug)]
pub struct Pulled {
    /// One ingest source per page.
    pub pages: Vec<Source>,
    /// Counters.
    pub stats: PullStats,
    /// Why the pull stopped early, if it did.
    pub error: Option<Error>,
}

struct Http {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
    attempts: u32,
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Http {
    fn new(opts: &PullOptions) -> Result<Http> {
        Ok(Http {
            client: Client::builder(TokioExecutor::new())
                .build(connector(opts.ca_cert.as_deref())?),
            timeout: opts.timeout,
            attempts: opts.attempts,
        })
    }

    async fn once(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &[(header::HeaderName, String)],
        body: &[u8],
    ) -> std::result::Result<Answer, String> {
        let mut req = Request::builder().method(method.clone()).uri(uri.clone());
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let req = req
            .body(Full::new(Bytes::copy_from_slice(body)))
            .map_err(|e| e.to_string())?;
        let call = async {
            let resp = self.client.request(req).await.map_err(|e| chain(&e))?;
            let (parts, body) = resp.into_parts();
            let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
            Ok::<_, String>(Answer {
                status: parts.status,
                headers: parts.headers,
                body,
            })
        };
        match tokio::time::timeout(self.timeout, call).await {
            Ok(r) => r,
            Err(_) => Err(format!("no answer within {} s", self.timeout.as_secs())),
        }
    }

    /// A request with retries on 5xx answers, timeouts and connection failures.
    async fn send(
        &self,
        method: Method,
        url: &str,
        headers: &[(header::HeaderName, String)],
        body: &[u8],
        stats: &mut PullStats,
    ) -> Result<Answer> {
        let uri: Uri = url
            .parse()
            .map_err(|e| Error::Usage(format!("{url:?} is not a URL: {e}")))?;
        let mut delay = Duration::from_millis(250);
        let mut last = String::new();
        for attempt in 1..=self.attempts.max(1) {
            if attempt > 1 {
                stats.retries += 1;
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(8));
            }
            match self.once(&method, &uri, headers, body).await {
                Ok(a) if a.status.is_server_error() => {
                    last = format!("{} {}", a.status, String::from_utf8_lossy(&a.body));
                }
                Ok(a) => return Ok(a),
                Err(e) => last = e,
            }
            tracing::info!(url, attempt, "pull: retrying after {last}");
        }
        Err(Error::Usage(format!(
            "{method} {url} failed {} times; last: {last}",
            self.attempts.max(1)
        )))
    }
}

/// An error with its causes (hyper's own message is only "client error (Connect)").
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// HTTP and HTTPS (rustls; the Mozilla roots and `ca_cert`).
fn connector(ca_cert: Option<&std::path::Path>) -> Result<HttpsConnector<HttpConnector>> {
    use tokio_rustls::rustls;
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca_cert {
        for cert in certificates(path)? {
            roots.add(cert).map_err(|e| {
                Error::Usage(format!(
                    "{}: not a usable CA certificate: {e}",
                    path.display()
                ))
            })?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Internal(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_or_http()
        .enable_http1()
        .build())
}

fn base64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// The authority (`host[:port]`, lower case) of an absolute URL.
fn authority(url: &str) -> Option<String> {
    let uri: Uri = url.parse().ok()?;
    uri.authority().map(|a| a.as_str().to_ascii_lowercase())
}

/// Finds the token endpoint: `--token-url` if given, else openid-configuration's
/// `token_endpoint`, else `BASE/auth/token`. An endpoint announced on another host than the
/// one asked is refused with a way out: hosts often announce their production address from
/// a test or staging one, and a secret must not go to a host the user did not name.
async fn token_endpoint(
    http: &Http,
    base: &str,
    opts: &PullOptions,
    stats: &mut PullStats,
) -> Result<String> {
    if let Some(t) = &opts.token_url {
        return Ok(t.clone());
    }
    let url = format!("{base}/.well-known/openid-configuration");
    if let Ok(a) = http.send(Method::GET, &url, &[], b"", stats).await
        && a.status == StatusCode::OK
        && let Ok(v) = serde_json::from_slice::<Value>(&a.body)
        && let Some(t) = v["token_endpoint"].as_str()
    {
        let announced = authority(t);
        if announced.is_none() || announced != authority(base) {
            return Err(Error::Usage(format!(
                "{url} announces its token endpoint as {t:?}, not on {base}: hosts often announce their production address; \
                 the client secret is not sent there. If that endpoint is right, pass --token-url {t}; \
                 if the token endpoint is on this host, pass --token-url {base}/auth/token"
            )));
        }
        return Ok(t.to_owned());
    }
    Ok(format!("{base}/auth/token"))
}

/// `body`, a list response, with only the footprints created or updated after `since`; each
/// kept footprint's text is as received. Returns the new body and how many were left out. A
/// footprint whose dates cannot be read is kept: ingest checks it and says what is wrong.
fn changed_since(
    body: &[u8],
    since: chrono::DateTime<chrono::Utc>,
) -> std::result::Result<(Vec<u8>, usize), String> {
    #[derive(serde::Deserialize)]
    struct Page<'a> {
        #[serde(borrow)]
        data: Vec<&'a serde_json::value::RawValue>,
    }
    #[derive(serde::Deserialize)]
    struct Dates {
        created: Option<String>,
        updated: Option<String>,
    }
    let page: Page = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let at = |s: &Option<String>| {
        s.as_deref()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
    };
    let mut left_out = 0;
    let kept: Vec<&serde_json::value::RawValue> = page
        .data
        .into_iter()
        .filter(|raw| {
            let keep = match serde_json::from_str::<Dates>(raw.get()) {
                Ok(d) => at(&d.updated).or(at(&d.created)).is_none_or(|t| t > since),
                Err(_) => true,
            };
            left_out += usize::from(!keep);
            keep
        })
        .collect();
    Ok((super::list_body(kept), left_out))
}

async fn get_token(
    http: &Http,
    endpoint: &str,
    opts: &PullOptions,
    stats: &mut PullStats,
) -> Result<String> {
    let auth = base64(&format!("{}:{}", opts.client_id, opts.client_secret));
    let a = http
        .send(
            Method::POST,
            endpoint,
            &[
                (header::AUTHORIZATION, format!("Basic {auth}")),
                (
                    header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded".into(),
                ),
                (header::ACCEPT, "application/json".into()),
            ],
            b"grant_type=client_credentials",
            stats,
        )
        .await?;
    let v: Value = serde_json::from_slice(&a.body).unwrap_or(Value::Null);
    if a.status != StatusCode::OK {
        let why = v["error"].as_str().unwrap_or("no OAuth2 error given");
        return Err(Error::Usage(format!(
            "{endpoint} refused client {:?}: {} {why}{}",
            opts.client_id,
            a.status,
            v["error_description"]
                .as_str()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default()
        )));
    }
    v["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| Error::Usage(format!("{endpoint} answered without an access_token")))
}

/// The `rel="next"` target of a `Link` header.
fn next_link(headers: &HeaderMap) -> Option<String> {
    let link = headers.get(header::LINK)?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (target, params) = part.trim().split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        params
            .split(';')
            .any(|p| {
                let p = p.trim().replace(' ', "");
                p == "rel=\"next\"" || p == "rel=next"
            })
            .then(|| target.to_owned())
    })
}

/// Reads every page. Never fails outright after the token: a failure part-way is returned
/// in [`Pulled::error`] with the pages read before it.
pub async fn pull(opts: &PullOptions) -> Result<Pulled> {
    let http = Http::new(opts)?;
    let base = opts.url.trim_end_matches('/').to_owned();
    let mut stats = PullStats::default();
    let endpoint = token_endpoint(&http, &base, opts, &mut stats).await?;
    stats.token_endpoint = endpoint.clone();
    let mut token = get_token(&http, &endpoint, opts, &mut stats).await?;
    let mut query = vec![format!("limit={}", opts.limit)];
    match (opts.version, &opts.filter) {
        (2, Some(f)) => query.push(format!("$filter={}", percent_encode(f))),
        (_, Some(f)) => query.push(f.trim_start_matches('?').to_owned()),
        _ => {}
    }
    let mut next = Some(format!(
        "{base}/{}/footprints?{}",
        opts.version,
        query.join("&")
    ));
    let mut pages = Vec::new();
    let mut refreshed = false;
    while let Some(url) = next.take() {
        let answer = http
            .send(
                Method::GET,
                &url,
                &[
                    (header::AUTHORIZATION, format!("Bearer {token}")),
                    (header::ACCEPT, "application/json".into()),
                ],
                b"",
                &mut stats,
            )
            .await;
        let a = match answer {
            Ok(a) => a,
            Err(e) => {
                return Ok(Pulled {
                    pages,
                    stats,
                    error: Some(e),
                });
            }
        };
        let body: Value = serde_json::from_slice(&a.body).unwrap_or(Value::Null);
        if a.status == StatusCode::UNAUTHORIZED && body["code"] == "TokenExpired" && !refreshed {
            refreshed = true;
            stats.token_refreshes += 1;
            match get_token(&http, &endpoint, opts, &mut stats).await {
                Ok(t) => token = t,
                Err(e) => {
                    return Ok(Pulled {
                        pages,
                        stats,
                        error: Some(e),
                    });
                }
            }
            next = Some(url);
            continue;
        }
        if a.status != StatusCode::OK {
            let e = Error::Usage(format!(
                "GET {url}: {} {} {}",
                a.status,
                body["code"].as_str().unwrap_or_default(),
                body["message"].as_str().unwrap_or_default()
            ));
            return Ok(Pulled {
                pages,
                stats,
                error: Some(e),
            });
        }
        let Some(data) = body["data"].as_array() else {
            let e = Error::Usage(format!("GET {url}: the answer has no data array"));
            return Ok(Pulled {
                pages,
                stats,
                error: Some(e),
            });
        };
        refreshed = false;
        stats.pages += 1;
        stats.footprints += data.len();
        let body = match opts.since {
            None => a.body.to_vec(),
            Some(since) => match changed_since(&a.body, since) {
                Ok((kept, left_out)) => {
                    stats.unchanged += left_out;
                    kept
                }
                Err(e) => {
                    let e = Error::Usage(format!("GET {url}: the answer's data: {e}"));
                    return Ok(Pulled {
                        pages,
                        stats,
                        error: Some(e),
                    });
                }
            },
        };
        pages.push(Source::new(format!("pull {url}"), body));
        next = next_link(&a.headers);
        if next.is_some() && stats.pages > 100_000 {
            let e = Error::Usage(format!("{base}: more than 100,000 pages; stopping"));
            return Ok(Pulled {
                pages,
                stats,
                error: Some(e),
            });
        }
    }
    Ok(Pulled {
        pages,
        stats,
        error: None,
    })
}

/// When each host was last pulled completely into a data directory (`pulls.json` there), for
/// `mieruka pull --since last`. A pull is one host, API version and filter: a pull with a
/// filter says nothing about footprints outside it.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct PullLog {
    /// By [`PullLog::key`]: when the pull started, RFC 3339 (what changed during it is
    /// pulled again).
    pub pulls: std::collections::BTreeMap<String, String>,
}

impl PullLog {
    const FILE: &str = "pulls.json";

    /// The log of `data`, empty if there is none yet.
    pub fn read(data: &std::path::Path) -> Result<PullLog> {
        let path = data.join(Self::FILE);
        super::read_json(&path, |e| {
            format!(
                "{}: not a pull log ({e}); remove it to start afresh",
                path.display()
            )
        })
    }

    /// When the pull `opts` describes was last stored whole, if it was.
    pub fn last(&self, opts: &PullOptions) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
        let Some(t) = self.pulls.get(&PullLog::key(opts)) else {
            return Ok(None);
        };
        chrono::DateTime::parse_from_rfc3339(t)
            .map(|t| Some(t.with_timezone(&chrono::Utc)))
            .map_err(|e| Error::Usage(format!("{}: {t:?} is not a time: {e}", Self::FILE)))
    }

    /// What identifies a pull: the base URL (scheme and host in lower case, no trailing
    /// slash), the API version and the filter.
    pub fn key(opts: &PullOptions) -> String {
        let base = opts.url.trim_end_matches('/');
        let base = match base.split_once("://") {
            Some((scheme, rest)) => {
                let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
                format!(
                    "{}://{}{path}",
                    scheme.to_ascii_lowercase(),
                    host.to_ascii_lowercase()
                )
            }
            None => base.to_owned(),
        };
        match &opts.filter {
            Some(f) => format!("{base} v{} {f}", opts.version),
            None => format!("{base} v{}", opts.version),
        }
    }

    /// Records that the pull `opts` describes, started at `started`, was stored whole;
    /// written atomically.
    pub fn record(
        data: &std::path::Path,
        opts: &PullOptions,
        started: chrono::DateTime<chrono::Utc>,
    ) -> Result<()> {
        super::locked(data, Self::FILE, || {
            let mut log = PullLog::read(data)?;
            log.pulls.insert(
                PullLog::key(opts),
                started.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            );
            super::write_json(data, Self::FILE, &log)
        })
    }
}

/// Where and as whom the host sends a requester its answer to a `RequestCreated` event.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Callback {
    /// The requester's PACT host (base URL; its events endpoint is `/2/events` or `/3/events`).
    pub url: String,
    /// The client id this host has on the requester's host.
    pub client_id: String,
    /// Its secret, or …
    #[serde(default)]
    pub client_secret: Option<String>,
    /// … the name of an environment variable holding it (keeps it out of the config file).
    #[serde(default)]
    pub client_secret_env: Option<String>,
    /// A CA certificate (PEM) to trust besides the Mozilla roots.
    #[serde(default)]
    pub ca_cert: Option<PathBuf>,
    /// The requester's token endpoint, when its discovery announces another host.
    #[serde(default)]
    pub token_url: Option<String>,
}

impl Callback {
    fn secret(&self) -> Result<String> {
        match (&self.client_secret, &self.client_secret_env) {
            (Some(s), _) => Ok(s.clone()),
            (None, Some(var)) => std::env::var(var)
                .map_err(|_| Error::Usage(format!("callback to {}: ${var} is not set", self.url))),
            (None, None) => Err(Error::Usage(format!(
                "callback to {}: client_secret or client_secret_env is required",
                self.url
            ))),
        }
    }
}

/// Sends `event` (a CloudEvent) to the requester's `/{version}/events`, authenticating as
/// `callback` says, with the same discovery, retries and TLS as [`pull`].
pub async fn send_event(callback: &Callback, version: u8, event: &Value) -> Result<()> {
    let opts = PullOptions {
        url: callback.url.clone(),
        client_id: callback.client_id.clone(),
        client_secret: callback.secret()?,
        version,
        filter: None,
        limit: 1,
        timeout: Duration::from_secs(30),
        attempts: 4,
        ca_cert: callback.ca_cert.clone(),
        token_url: callback.token_url.clone(),
        since: None,
    };
    let http = Http::new(&opts)?;
    let base = opts.url.trim_end_matches('/').to_owned();
    let mut stats = PullStats::default();
    let endpoint = token_endpoint(&http, &base, &opts, &mut stats).await?;
    let token = get_token(&http, &endpoint, &opts, &mut stats).await?;
    let url = format!("{base}/{version}/events");
    let body = serde_json::to_vec(event).map_err(|e| Error::Internal(e.to_string()))?;
    let a = http
        .send(
            Method::POST,
            &url,
            &[
                (header::AUTHORIZATION, format!("Bearer {token}")),
                (header::CONTENT_TYPE, "application/cloudevents+json".into()),
            ],
            &body,
            &mut stats,
        )
        .await?;
    if !a.status.is_success() {
        return Err(Error::Usage(format!(
            "POST {url}: {} {}",
            a.status,
            String::from_utf8_lossy(&a.body)
        )));
    }
    Ok(())
}

/// Reads PEM certificates (leaf first, then intermediates): a CA to trust here, the
/// server's certificate chain in `server::tls`.
pub fn certificates(path: &std::path::Path) -> Result<Vec<CertificateDer<'static>>> {
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    let bad = |e: tokio_rustls::rustls::pki_types::pem::Error| {
        Error::Usage(format!(
            "{}: not a PEM certificate file: {e}",
            path.display()
        ))
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(bad)?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(bad)?;
    if certs.is_empty() {
        return Err(Error::Usage(format!(
            "{}: no CERTIFICATE in it",
            path.display()
        )));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers() {
        let mut h = HeaderMap::new();
        h.insert(
            header::LINK,
            "<https://a.example/2/footprints?limit=2&offset=2>; rel=\"next\""
                .parse()
                .unwrap(),
        );
        assert_eq!(
            next_link(&h).as_deref(),
            Some("https://a.example/2/footprints?limit=2&offset=2")
        );
        h.insert(
            header::LINK,
            "<https://a.example/x>; rel=\"prev\", <https://a.example/y>; rel=next"
                .parse()
                .unwrap(),
        );
        assert_eq!(next_link(&h).as_deref(), Some("https://a.example/y"));
        h.insert(
            header::LINK,
            "<https://a.example/x>; rel=\"prev\"".parse().unwrap(),
        );
        assert_eq!(next_link(&h), None);
    }
}
