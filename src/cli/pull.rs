//! `mieruka pull`: footprints from a PACT host, ingested in one commit.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use mieruka::ingest::IngestOptions;
use mieruka::pact::client::PullLog;

use super::ingest::{ReportFormat, ingest_sources, print_report};

/// Pull footprints from a PACT host into a data directory.
///
/// Finds the token endpoint through BASE/.well-known/openid-configuration (else
/// BASE/auth/token), authenticates with OAuth2 client credentials, reads every page of
/// ListFootprints (following the Link headers), and ingests what arrived in one atomic
/// commit, with the same validation as `mieruka ingest`. Answers 5xx and timeouts are
/// retried with backoff; an expired token is renewed once. If the pull fails part-way,
/// nothing is stored unless --keep-partial.
///
/// The secret can come from MIERUKA_PACT_CLIENT_SECRET instead of the command line; it is
/// never logged. It is sent only to the host named by --url: a discovery document that
/// announces its token endpoint on another host (often a production address announced by a
/// test host) stops the pull, and --token-url says which endpoint to use.
///
/// Incremental pulls: --since DATE keeps only footprints created or updated after DATE;
/// --since last, those changed since the last complete pull of the same host, API version
/// and filter into this data directory (remembered in DIR/pulls.json).
///
/// Examples:
///   mieruka pull --url http://127.0.0.1:8080 --client-id buyer --data ./gx
///   mieruka pull --url http://pact.local --client-id buyer --data ./gx \
///       --filter "productIds/any(p:(p eq 'urn:gtin:4712345060507'))"
///   mieruka pull --url http://pact.local --client-id buyer --pact-version 3 \
///       --filter "productId=urn:gtin:4712345060507&status=Active" --dry-run
///   mieruka pull --url https://pact-test.supplier.example --client-id buyer --data ./gx \
///       --token-url https://pact-test.supplier.example/auth/token --since last
#[derive(Args)]
pub struct PullArgs {
    /// The host's base URL (the part before /2/footprints).
    #[arg(long, value_name = "BASE")]
    url: String,
    /// OAuth2 client id.
    #[arg(long, value_name = "ID")]
    client_id: String,
    /// OAuth2 client secret.
    #[arg(
        long,
        value_name = "SECRET",
        env = "MIERUKA_PACT_CLIENT_SECRET",
        hide_env_values = true
    )]
    client_secret: String,
    /// v2: a $filter expression (eq ne lt le gt ge, and, productIds/any(…)); v3: query
    /// criteria such as productId=…&status=Active.
    #[arg(long, value_name = "EXPR")]
    filter: Option<String>,
    /// Which PACT API to read: 2 (/2/footprints) or 3 (/3/footprints).
    #[arg(long, value_name = "N", default_value = "2", value_parser = clap::value_parser!(u8).range(2..=3))]
    pact_version: u8,
    /// Footprints asked for per page.
    #[arg(long, value_name = "N", default_value = "100")]
    limit: usize,
    /// Seconds one request may take.
    #[arg(long, value_name = "SECONDS", default_value = "30")]
    timeout: u64,
    /// Data directory to store into (created if missing).
    #[arg(long, value_name = "DIR", env = "MIERUKA_DATA")]
    data: Option<PathBuf>,
    /// Check what arrives; store nothing.
    #[arg(long)]
    dry_run: bool,
    /// If the pull fails part-way, store the pages that arrived.
    #[arg(long)]
    keep_partial: bool,
    /// Trust this CA certificate (PEM) too, besides the built-in Mozilla roots.
    #[arg(long, value_name = "FILE")]
    ca_cert: Option<PathBuf>,
    /// The token endpoint to use instead of the one discovery announces.
    #[arg(long, value_name = "URL")]
    token_url: Option<String>,
    /// Only footprints created or updated after DATE (2026-11-01 or an RFC 3339 time), or
    /// after the last complete pull of this host into --data (`last`).
    #[arg(long, value_name = "DATE|last")]
    since: Option<String>,
    /// Report format.
    #[arg(long, value_enum, default_value = "table")]
    format: ReportFormat,
}

/// Runs `mieruka pull`; the exit code.
pub async fn run(args: PullArgs) -> anyhow::Result<u8> {
    let PullArgs {
        url,
        client_id,
        client_secret,
        filter,
        pact_version,
        limit,
        timeout,
        data,
        dry_run,
        keep_partial,
        ca_cert,
        token_url,
        since,
        format,
    } = args;
    if data.is_none() && !dry_run {
        anyhow::bail!(
            "pull needs --data DIR (or MIERUKA_DATA) to store into; --dry-run checks without storing"
        );
    }
    let mut opts = mieruka::pact::client::PullOptions {
        url,
        client_id,
        client_secret,
        version: pact_version,
        filter,
        limit: limit.max(1),
        timeout: Duration::from_secs(timeout.max(1)),
        attempts: 4,
        ca_cert,
        token_url,
        since: None,
    };
    opts.since = match since.as_deref() {
        None => None,
        Some("last") => {
            let Some(dir) = &data else {
                anyhow::bail!("--since last needs --data DIR: the last pull is remembered there");
            };
            let last = PullLog::read(dir)?.last(&opts)?;
            if last.is_none() {
                eprintln!(
                    "mieruka: no complete pull of {} (this version and filter) into {} yet; pulling everything",
                    opts.url,
                    dir.display()
                );
            }
            last
        }
        Some(d) => Some(parse_since(d)?),
    };
    let started = chrono::Utc::now();
    let pulled = mieruka::pact::client::pull(&opts).await?;
    if let Some(e) = &pulled.error
        && !keep_partial
    {
        anyhow::bail!(
            "{e}\nnothing was stored; {} pages ({} footprints) had arrived (--keep-partial stores them)",
            pulled.stats.pages,
            pulled.stats.footprints
        );
    }
    let report = ingest_sources(
        &pulled.pages,
        data.as_deref(),
        dry_run,
        &IngestOptions::default(),
    )?;
    // Only a whole pull, stored, is a point to go on from.
    if let Some(dir) = &data
        && pulled.error.is_none()
        && !dry_run
        && report.exit_code() == 0
    {
        PullLog::record(dir, &opts, started)?;
    }
    match format {
        ReportFormat::Json => outln!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "pull": pulled.stats,
                "complete": pulled.error.is_none(),
                "ingest": report,
            }))?
        ),
        ReportFormat::Table => {
            outln!(
                "pulled {} footprints in {} pages from {} ({} retries, {} token renewals)",
                pulled.stats.footprints,
                pulled.stats.pages,
                opts.url,
                pulled.stats.retries,
                pulled.stats.token_refreshes
            );
            if let Some(since) = opts.since {
                outln!(
                    "{} of them unchanged since {} and left out",
                    pulled.stats.unchanged,
                    since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                );
            }
            print_report(&report, format)?;
        }
    }
    if let Some(e) = pulled.error {
        eprintln!("mieruka: the pull stopped part-way: {e}; the pages before it were kept");
        return Ok(1);
    }
    Ok(report.exit_code() as u8)
}

/// `--since`: a date (midnight UTC) or an RFC 3339 time.
fn parse_since(s: &str) -> anyhow::Result<chrono::DateTime<chrono::Utc>> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&chrono::Utc));
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        && let Some(t) = d.and_hms_opt(0, 0, 0)
    {
        return Ok(t.and_utc());
    }
    anyhow::bail!(
        "--since {s:?}: expected a date (2026-11-01), an RFC 3339 time (2026-11-01T09:00:00Z) or `last`"
    )
}
