//! `mieruka pull`: footprints from a PACT host, ingested in one commit.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use mieruka::ingest::IngestOptions;

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
/// never logged.
///
/// Examples:
///   mieruka pull --url http://127.0.0.1:8080 --client-id buyer --data ./gx
///   mieruka pull --url http://pact.local --client-id buyer --data ./gx \
///       --filter "productIds/any(p:(p eq 'urn:gtin:4712345060507'))"
///   mieruka pull --url http://pact.local --client-id buyer --pact-version 3 \
///       --filter "productId=urn:gtin:4712345060507&status=Active" --dry-run
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
        format,
    } = args;
    if data.is_none() && !dry_run {
        anyhow::bail!(
            "pull needs --data DIR (or MIERUKA_DATA) to store into; --dry-run checks without storing"
        );
    }
    let opts = mieruka::pact::client::PullOptions {
        url,
        client_id,
        client_secret,
        version: pact_version,
        filter,
        limit: limit.max(1),
        timeout: Duration::from_secs(timeout.max(1)),
        attempts: 4,
        ca_cert,
    };
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
            print_report(&report, format)?;
        }
    }
    if let Some(e) = pulled.error {
        eprintln!("mieruka: the pull stopped part-way: {e}; the pages before it were kept");
        return Ok(1);
    }
    Ok(report.exit_code() as u8)
}
