//! `mieruka serve`: dashboards, charts and the API over HTTP.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use mieruka::dataset;

use super::DataArg;

/// Serve dashboards, charts and the API over HTTP.
///
/// Dashboards (HTML with inline SVG charts, no JavaScript) at /, the query catalog and
/// the analyses as JSON, CSV, Arrow IPC or Parquet under /api, charts as SVG and PNG
/// under /charts, the route list at /openapi.json.
///
/// Without --config the server is read-only and open to whoever reaches it, so it only
/// binds loopback addresses. A config file adds tokens with roles (admin: uploads;
/// analyst: ad-hoc SQL; supplier: only its companies' rows) and limits:
///
///   bind = "0.0.0.0:8080"
///   [limits]                      # defaults shown
///   request_seconds = 30
///   body_mib = 64
///   sql_seconds = 10
///   sql_memory_mib = 512
///   sql_rows = 100000
///   [[token]]
///   name = "procurement"
///   role = "analyst"
///   sha256 = "…"                  # printf %s TOKEN | sha256sum
///   [[token]]
///   name = "Formosa Panel"
///   role = "supplier"
///   companies = ["urn:mieruka-demo:company:formosa"]
///   sha256 = "…"
///   [[pact.client]]               # a PACT data recipient (/2/footprints, /3/footprints)
///   id = "buyer-kaede"
///   secret_sha256 = "…"           # printf %s SECRET | sha256sum
///   companies = ["*"]             # whose footprints it may read
///
/// Other addresses than loopback need HTTPS (--tls-cert, --tls-key), or
/// `plain_http = true` in the config behind a TLS-terminating proxy.
///
/// Examples:
///   mieruka serve
///   mieruka serve --data ./gx --config mieruka.toml --bind 0.0.0.0:8443 \
///       --tls-cert cert.pem --tls-key key.pem
///
/// With --engine (a build with --features cluster; docs/scale-out.md) the catalog
/// queries and ad-hoc SQL run on a Ballista cluster that scans --data's Parquet:
///   mieruka serve --data /shared/gx --engine ballista://scheduler:50050
#[derive(Args)]
#[command(verbatim_doc_comment)]
pub struct ServeArgs {
    #[command(flatten)]
    data: DataArg,
    /// Address to listen on (default: the config's `bind`, else 127.0.0.1:8080).
    #[arg(long, value_name = "ADDR")]
    bind: Option<std::net::SocketAddr>,
    /// Server config (TOML): tokens, roles, limits, scoring profile.
    #[arg(long, value_name = "FILE", env = "MIERUKA_CONFIG")]
    config: Option<PathBuf>,
    /// Serve HTTPS with this certificate chain (PEM, leaf first).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Run the catalog queries and ad-hoc SQL on a Ballista cluster:
    /// ballista://HOST:PORT (its scheduler). Needs --data, at a path every executor reads.
    #[arg(long, value_name = "URL")]
    engine: Option<String>,
}

/// Runs `mieruka serve`; the exit code.
pub async fn run(args: ServeArgs) -> anyhow::Result<u8> {
    let ServeArgs {
        data,
        bind,
        config,
        tls_cert,
        tls_key,
        engine,
    } = args;
    let config = config
        .as_deref()
        .map(mieruka::server::Config::load)
        .transpose()?;
    let addr = match (bind, config.as_ref().and_then(|c| c.bind.as_deref())) {
        (Some(a), _) => a,
        (None, Some(b)) => b
            .parse()
            .with_context(|| format!("bind = {b:?} in the config: expected HOST:PORT"))?,
        (None, None) => std::net::SocketAddr::from(([127, 0, 0, 1], 8080)),
    };
    let tls = match (&tls_cert, &tls_key) {
        (Some(c), Some(k)) => Some((c.as_path(), k.as_path())),
        (None, None) => None,
        _ => anyhow::bail!("--tls-cert and --tls-key go together"),
    };
    // Refused before anything is read: --engine without --data, or in a build without it.
    let engine = engine
        .map(|url| super::engine::server_engine(&url, data.data.as_deref()))
        .transpose()?;
    let tables = dataset::load(data.data.as_deref())?;
    let state =
        mieruka::server::AppState::on_engine(tables, data.data.clone(), config, engine).await?;
    // The tables are read (in small pages, see `small_pages`): what requests allocate from
    // here on may be huge pages again.
    super::small_pages(false);
    mieruka::server::serve(state, addr, tls).await?;
    Ok(0)
}
