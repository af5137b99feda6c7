//! The `mieruka` command: parses arguments, sets up logging, calls the library and turns the
//! outcome into an exit code (0 fine, 1 some documents rejected, 2 usage or I/O error).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mieruka::ingest::{self, IngestOptions, IngestReport, Source};
use mieruka::output::{self, Format};
use mieruka::query::{Catalog, Session};
use mieruka::store::Store;
use mieruka::{dataset, generator, hotspot, score};

/// Writes to stdout; a closed pipe (`mieruka … | head`) ends the program quietly.
fn write_stdout(args: std::fmt::Arguments) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_fmt(args).and_then(|()| stdout.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("mieruka: writing to stdout: {e}");
        std::process::exit(2);
    }
}

macro_rules! out {
    ($($t:tt)*) => { write_stdout(format_args!($($t)*)) };
}

macro_rules! outln {
    ($($t:tt)*) => { write_stdout(format_args!("{}\n", format_args!($($t)*))) };
}

mod cli;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mieruka (見える化): supply-chain carbon footprint hotspots and GX product scores from
/// PACT footprints with the Green x Digital Consortium Gate-to-Gate extension.
///
/// Without --data, every command reads the bundled demo dataset (a synthetic notebook-PC
/// supply chain) read-only. With --data DIR (or MIERUKA_DATA), commands read the data
/// directory DIR, which `mieruka ingest --data DIR FILES…` creates and fills.
#[derive(Parser)]
#[command(name = "mieruka", version, max_term_width = 100)]
struct Cli {
    /// Log more (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct DataArg {
    /// Data directory to read (default: the bundled demo dataset, read-only).
    #[arg(long, value_name = "DIR", env = "MIERUKA_DATA")]
    data: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum TableFormat {
    Table,
    Json,
    Csv,
}

impl From<TableFormat> for Format {
    fn from(f: TableFormat) -> Format {
        match f {
            TableFormat::Table => Format::Table,
            TableFormat::Json => Format::Json,
            TableFormat::Csv => Format::Csv,
        }
    }
}

#[derive(Args)]
struct ProfileArg {
    /// Scoring profile (TOML); default: the built-in gxd-2025.
    #[arg(long, value_name = "FILE")]
    profile: Option<PathBuf>,
}

impl ProfileArg {
    fn load(&self) -> anyhow::Result<score::Profile> {
        match &self.profile {
            None => Ok(score::Profile::parse(
                "gxd-2025.toml",
                score::DEFAULT_PROFILE,
            )?),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                Ok(score::Profile::parse(&path.display().to_string(), &text)?)
            }
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum LangArg {
    Ja,
    En,
}

#[derive(Clone, Copy, ValueEnum)]
enum SheetFormatArg {
    Html,
    Csv,
    Json,
    Md,
}

#[derive(Clone, Copy, ValueEnum)]
enum RankBy {
    /// Mean GX score, highest first.
    Score,
    /// CFP relative to the category median, lowest first.
    Intensity,
    /// Mean reduction achieved (REP), highest first.
    Reduction,
    /// Mean primary data share, highest first.
    Pds,
}

#[derive(Clone, Copy, ValueEnum)]
enum BasisArg {
    /// pcfExcludingBiogenic with GxD Gate-to-Gate fossil emissions.
    ExcludingBiogenic,
    /// pcfIncludingBiogenic with GxD Gate-to-Gate including biogenic.
    IncludingBiogenic,
}

#[derive(Clone, Copy, ValueEnum)]
enum ByArg {
    Tier,
    Supplier,
    Footprint,
    Category,
    Country,
    Kind,
}

impl From<ByArg> for hotspot::report::By {
    fn from(b: ByArg) -> hotspot::report::By {
        use hotspot::report::By;
        match b {
            ByArg::Tier => By::Tier,
            ByArg::Supplier => By::Supplier,
            ByArg::Footprint => By::Footprint,
            ByArg::Category => By::Category,
            ByArg::Country => By::Country,
            ByArg::Kind => By::Kind,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum ReportFormat {
    Table,
    Json,
}

#[derive(Subcommand)]
enum Command {
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
    #[command(verbatim_doc_comment)]
    Serve {
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
    },
    /// Check PACT footprints and BOM CSVs and store them in a data directory.
    ///
    /// Reads PACT v2 or v3 ProductFootprints as single documents, list responses
    /// ({"data":[…]}), JSON arrays, NDJSON or CloudEvents, and BOM CSVs whose header is
    /// `parent_product_id,child_product_id,amount,unit`. A directory is read recursively.
    /// Each document is checked whole: a document with any error is rejected and the others
    /// are stored (unless --all-or-nothing). Re-ingesting the same id and version is a no-op.
    /// Files are read in pieces and stored as they are checked, in one commit: memory does not
    /// grow with the input, and a failed or interrupted ingest stores nothing.
    ///
    /// Exit status: 0 nothing rejected, 1 some documents rejected, 2 usage or I/O error.
    ///
    /// Examples:
    ///   mieruka ingest --data ./gx footprints.json bom.csv
    ///   mieruka ingest --dry-run --format json supplier-upload.ndjson
    #[command(verbatim_doc_comment)]
    Ingest {
        /// Files or directories to read.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Data directory to store into (created if missing).
        #[arg(long, value_name = "DIR", env = "MIERUKA_DATA")]
        data: Option<PathBuf>,
        /// Check only; store nothing.
        #[arg(long)]
        dry_run: bool,
        /// Store nothing if any document is rejected.
        #[arg(long)]
        all_or_nothing: bool,
        /// Largest JSON document accepted (an NDJSON line or a whole JSON file), e.g. 16MiB.
        #[arg(long, value_name = "SIZE", default_value = "16MiB", value_parser = parse_size)]
        max_document_size: usize,
        /// Report format.
        #[arg(long, value_enum, default_value = "table")]
        format: ReportFormat,
    },
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
    Pull {
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
    },
    Migrate(cli::migrate::MigrateArgs),
    /// List footprints (the latest version of each, unless --all-versions).
    Footprints {
        #[command(flatten)]
        data: DataArg,
        /// Only footprints of companies whose name contains this text.
        #[arg(long)]
        company: Option<String>,
        /// Include superseded versions.
        #[arg(long)]
        all_versions: bool,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: TableFormat,
    },
    /// Run a catalog query by id, or ad-hoc read-only SQL.
    ///
    /// Catalog queries live in queries/ (id = path without .sql) and take typed parameters:
    ///   mieruka query --list
    ///   mieruka query footprints/summary
    ///   mieruka query footprints/by_company --param company=Kaede
    ///   mieruka query "SELECT company_name, count(*) FROM footprints GROUP BY 1"
    /// Tables: footprints, footprints_latest, footprint_extensions, bom, bom_history,
    /// ingest_log.
    #[command(verbatim_doc_comment)]
    Query {
        /// Query id (e.g. footprints/summary) or SQL text.
        #[arg(required_unless_present = "list")]
        query: Option<String>,
        /// A parameter, as name=value (repeatable).
        #[arg(long = "param", short = 'p', value_name = "NAME=VALUE", value_parser = parse_param)]
        params: Vec<(String, String)>,
        /// List the catalog instead.
        #[arg(long)]
        list: bool,
        #[command(flatten)]
        data: DataArg,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: TableFormat,
    },
    /// Decompose a product's footprint tier by tier: where its emissions come from.
    ///
    /// Every footprint reached through the bill of materials gives items per tier: `own`
    /// (its Gate-to-Gate emissions), `untraced` (upstream it reports but no supplier
    /// footprint explains), `mismatch` (its suppliers report more than it counts upstream;
    /// negative), `unresolved` (a footprint without Gate-to-Gate data, not descended) and
    /// `beyond_cutoff` (not expanded because of --max-tier or --min-share). The items sum
    /// exactly to the product's CFP. Findings and data quality follow.
    ///
    /// Examples:
    ///   mieruka hotspots --product urn:mieruka-demo:product:kaede-note-14
    ///   mieruka hotspots --product urn:mieruka-demo:product:kaede-note-14 --by supplier --top 5
    ///   mieruka hotspots --product urn:mieruka-demo:product:kaede-note-14 --as-of 2023-10-01 --format json
    #[command(verbatim_doc_comment)]
    Hotspots {
        /// Footprint id or product URN (then its latest Active footprint).
        #[arg(long)]
        product: String,
        /// Deepest tier expanded; footprints reached one tier deeper are beyond_cutoff.
        #[arg(long, default_value_t = mieruka::hotspot::DEFAULT_MAX_TIER)]
        max_tier: u32,
        /// Do not expand footprints below this share of the CFP, percent (0 = off).
        #[arg(long, value_name = "PCT", default_value_t = 0.0)]
        min_share: f64,
        /// Which PACT total to decompose.
        #[arg(long, value_enum, default_value = "excluding-biogenic")]
        basis: BasisArg,
        /// Analyse the chain as of this date (YYYY-MM-DD): the footprints whose reference
        /// periods cover it. Default: the product's latest footprint and its period.
        #[arg(long, value_name = "DATE")]
        as_of: Option<chrono::NaiveDate>,
        /// Sum the items per tier, supplier, footprint, CPC category, country or kind.
        #[arg(long, value_enum)]
        by: Option<ByArg>,
        /// Show the N largest rows and one "(rest)" row.
        #[arg(long, value_name = "N")]
        top: Option<usize>,
        #[command(flatten)]
        data: DataArg,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: TableFormat,
    },
    /// Score products on a weighted GX requirement profile (100 points).
    ///
    /// Each product's latest Active footprint is scored on the profile's indicators: national
    /// viewpoint, declaration / disclosure / certification, CFP, REP (reduction achieved
    /// against its preceding version or previous reference period), AEP, circular outflow
    /// and inflow, additionality. Points = weight × credit, exact. Missing data earn 0 and
    /// are counted as missing, never as a "no". GX attributes come from a CSV or extension
    /// ingested with `mieruka ingest`; certification also from PACT assurance/verification.
    ///
    /// Examples:
    ///   mieruka score
    ///   mieruka score --category 452 --format json
    ///   mieruka score --show-profile > my-profile.toml
    ///   mieruka score --profile my-profile.toml
    #[command(verbatim_doc_comment)]
    Score {
        #[command(flatten)]
        profile: ProfileArg,
        /// Only products whose UN CPC code starts with this.
        #[arg(long, value_name = "CPC")]
        category: Option<String>,
        /// Print the profile in use (TOML) and exit.
        #[arg(long)]
        show_profile: bool,
        #[command(flatten)]
        data: DataArg,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: TableFormat,
    },
    /// Write a GX product requirement sheet (要件シート) like the consortium's 表3-2-1.
    ///
    /// A group header row, the weight row (重み付け), one row per product with ○ / × / –
    /// (△ and the credit where a linear rule gives part of it), the GX score, and notes
    /// defining every indicator. HTML is printable and self-contained; CSV opens in Excel.
    ///
    /// Examples:
    ///   mieruka sheet --lang ja --format html -o sheet.html
    ///   mieruka sheet --lang en --format md --category 4526
    #[command(verbatim_doc_comment)]
    Sheet {
        #[command(flatten)]
        profile: ProfileArg,
        /// Only products whose UN CPC code starts with this.
        #[arg(long, value_name = "CPC")]
        category: Option<String>,
        /// Language of every label.
        #[arg(long, value_enum, default_value = "ja")]
        lang: LangArg,
        /// Output format.
        #[arg(long, value_enum, default_value = "html")]
        format: SheetFormatArg,
        /// Write to this file (atomically) instead of standard output.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        #[command(flatten)]
        data: DataArg,
    },
    /// Rank suppliers within a product category.
    ///
    /// Per supplier company: products supplied, mean GX score, CFP intensity against the
    /// category median, mean reduction achieved, mean primary data share, share of
    /// organization-based data, and with --product a buyer product's hotspot contribution.
    /// Rankings never cross categories. The framework compares a supplier with itself over
    /// time; comparing different companies is your responsibility.
    ///
    /// Examples:
    ///   mieruka rank
    ///   mieruka rank --category 4714 --by intensity
    ///   mieruka rank --product urn:mieruka-demo:product:kaede-note-14 --format json
    #[command(verbatim_doc_comment)]
    Rank {
        /// UN CPC code or prefix to rank within (default: each category on its own).
        #[arg(long, value_name = "CPC")]
        category: Option<String>,
        /// What to rank by.
        #[arg(long, value_enum, default_value = "score")]
        by: RankBy,
        /// Buyer product: adds each supplier's contribution to its footprint.
        #[arg(long, value_name = "PRODUCT")]
        product: Option<String>,
        #[command(flatten)]
        profile: ProfileArg,
        #[command(flatten)]
        data: DataArg,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: TableFormat,
    },
    /// Write a synthetic supply chain (footprints.ndjson + bom.csv) for tests and benchmarks.
    ///
    /// The same options and seed give byte-identical files. Ingest the result with
    /// `mieruka ingest --data DIR OUT/`.
    #[command(verbatim_doc_comment)]
    Gen {
        /// Total footprints.
        #[arg(long, default_value_t = 1000)]
        nodes: usize,
        /// Tiers (tier 0 holds the root products).
        #[arg(long, default_value_t = 4)]
        tiers: usize,
        /// Inputs per expanded node.
        #[arg(long, default_value_t = 3)]
        fanout: usize,
        /// Random seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Root products on tier 0 (default: nodes / 1000, at least 1).
        #[arg(long)]
        roots: Option<usize>,
        /// Percent of footprints without Gate-to-Gate data (black boxes).
        #[arg(long, default_value_t = 5.0)]
        black_box_pct: f64,
        /// Percent of footprints with untraced upstream emissions.
        #[arg(long, default_value_t = 20.0)]
        gap_pct: f64,
        /// Percent of footprints whose suppliers' CFPs exceed their reported upstream.
        #[arg(long, default_value_t = 2.0)]
        mismatch_pct: f64,
        /// Percent of footprints with an extra input that closes a cycle.
        #[arg(long, default_value_t = 0.0)]
        cycle_pct: f64,
        /// Percent of inputs taken from two tiers down.
        #[arg(long, default_value_t = 10.0)]
        skip_pct: f64,
        /// Write only the graph (nodes.csv and bom.csv), not PACT documents: for loading
        /// the same chain into other engines.
        #[arg(long)]
        graph_only: bool,
        /// Output directory.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

fn parse_param(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.trim().to_owned(), v.to_owned()))
        .ok_or_else(|| format!("expected NAME=VALUE, got {s:?}"))
}

fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: usize = num
        .parse()
        .map_err(|_| format!("expected a size like 16MiB, got {s:?}"))?;
    let mult = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => {
            return Err(format!(
                "unknown size unit in {s:?} (use B, KiB, MiB or GiB)"
            ));
        }
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("{s:?} is too large"))
}

fn init_tracing(verbose: u8, serving: bool) {
    let level = match verbose {
        0 if serving => "info",
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!(
            "mieruka={level},tower_http={level},{}",
            if verbose > 2 { "trace" } else { "warn" }
        ))
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.verbose, matches!(cli.command, Command::Serve { .. }));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mieruka: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("mieruka: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn session(data: &DataArg) -> anyhow::Result<Session> {
    let all = mieruka::query::Reads {
        tables: mieruka::table::TableSet::ALL,
        graph: false,
    };
    session_reading(data, all).await
}

/// A session over only the tables `reads` names, its hotspot functions over the stored graph
/// index when there is one.
async fn session_reading(data: &DataArg, reads: mieruka::query::Reads) -> anyhow::Result<Session> {
    let t = std::time::Instant::now();
    let dir = data.data.as_deref();
    let tables = dataset::load_some(dir, reads.tables)?;
    let graph = match dir {
        Some(dir) if reads.graph => Some(std::sync::Arc::new(dataset::graph(Some(dir))?)),
        _ => None,
    };
    let loaded = t.elapsed();
    let session =
        Session::with_graph(&tables, mieruka::score::Profile::default_profile(), graph).await?;
    tracing::debug!(
        "read {:?} in {loaded:.2?}, built the session by {:.2?}",
        reads,
        t.elapsed()
    );
    Ok(session)
}

async fn scored_session(data: &DataArg, profile: &ProfileArg) -> anyhow::Result<Session> {
    let tables = dataset::load(data.data.as_deref())?;
    Ok(Session::with_profile(&tables, profile.load()?).await?)
}

/// Writes `bytes` to `path` through a temporary file in the same directory, fsynced and
/// renamed, so a reader never sees half a file.
fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let mut f =
        std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))?;
    Ok(())
}

async fn run(command: Command) -> anyhow::Result<u8> {
    match command {
        Command::Migrate(args) => cli::migrate::run(args),
        Command::Serve {
            data,
            bind,
            config,
            tls_cert,
            tls_key,
        } => {
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
            let tables = dataset::load(data.data.as_deref())?;
            let state = mieruka::server::AppState::new(tables, data.data.clone(), config).await?;
            mieruka::server::serve(state, addr, tls).await?;
            Ok(0)
        }
        Command::Pull {
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
        } => {
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
        Command::Ingest {
            paths,
            data,
            dry_run,
            all_or_nothing,
            max_document_size,
            format,
        } => {
            let opts = IngestOptions {
                max_document_bytes: max_document_size,
                all_or_nothing,
                ..IngestOptions::default()
            };
            let report = run_ingest(&paths, data.as_deref(), dry_run, &opts)?;
            print_report(&report, format)?;
            Ok(report.exit_code() as u8)
        }
        Command::Footprints {
            data,
            company,
            all_versions,
            format,
        } => {
            let session = session(&data).await?;
            let catalog = Catalog::embedded()?;
            let def = catalog.get("footprints/list")?;
            let args = vec![
                ("company".to_owned(), company.unwrap_or_default()),
                ("all_versions".to_owned(), all_versions.to_string()),
            ];
            let out = session.run(def, &args).await?;
            out!("{}", output::render(&out, format.into()));
            Ok(0)
        }
        Command::Query {
            query,
            params,
            list,
            data,
            format,
        } => {
            let catalog = Catalog::embedded()?;
            if list {
                for q in catalog.iter() {
                    outln!("{:<28} {}  [{}]", q.id, q.title, q.engine.describe());
                    for p in &q.params {
                        let default = p
                            .default
                            .as_ref()
                            .map_or("required".to_owned(), |d| format!("default {d:?}"));
                        outln!(
                            "    ${} ({}, {default}) {}",
                            p.name,
                            p.ty.as_str(),
                            p.description
                        );
                    }
                }
                return Ok(0);
            }
            let query = query.context("a query id or SQL text is required")?;
            let adhoc = query.trim().contains(char::is_whitespace);
            if adhoc && !params.is_empty() {
                anyhow::bail!("--param applies to catalog queries, not to ad-hoc SQL");
            }
            let def = if adhoc {
                None
            } else {
                Some(catalog.get(query.trim())?)
            };
            // Only the tables the statement names are read; the hotspot functions walk the
            // graph index.
            let reads = mieruka::query::reads(def.map_or(query.as_str(), |d| d.sql.as_str()));
            let session = match reads {
                Some(r) => session_reading(&data, r).await?,
                None => session(&data).await?,
            };
            let out = match def {
                None => session.sql(&query).await?,
                Some(def) => session.run(def, &params).await?,
            };
            out!("{}", output::render(&out, format.into()));
            Ok(0)
        }
        Command::Hotspots {
            product,
            max_tier,
            min_share,
            basis,
            as_of,
            by,
            top,
            data,
            format,
        } => {
            // The graph index alone: no table is read to answer.
            let graph = std::sync::Arc::new(dataset::graph(data.data.as_deref())?);
            let session = Session::for_graph(graph).await?;
            let req = hotspot::Request {
                product,
                max_tier,
                min_share_pct: min_share,
                basis: match basis {
                    BasisArg::ExcludingBiogenic => hotspot::Basis::ExcludingBiogenic,
                    BasisArg::IncludingBiogenic => hotspot::Basis::IncludingBiogenic,
                },
                as_of,
            };
            let (d, rows) = hotspot::report::run(&session, &req, by.map(Into::into), top).await?;
            let stdout = std::io::stdout().lock();
            let mut w = std::io::BufWriter::with_capacity(1 << 20, stdout);
            let written = hotspot::report::write(&d, rows.as_ref(), format.into(), &mut w)
                .and_then(|()| {
                    use std::io::Write;
                    w.flush().map_err(|e| mieruka::Error::io("(output)", e))
                });
            match written {
                // `mieruka hotspots … | head` ends quietly.
                Err(mieruka::Error::Io { source, .. })
                    if source.kind() == std::io::ErrorKind::BrokenPipe => {}
                r => r?,
            }
            Ok(0)
        }
        Command::Score {
            profile,
            category,
            show_profile,
            data,
            format,
        } => {
            if show_profile {
                match &profile.profile {
                    None => out!("{}", score::DEFAULT_PROFILE),
                    Some(p) => out!("{}", std::fs::read_to_string(p)?),
                }
                return Ok(0);
            }
            let session = scored_session(&data, &profile).await?;
            let (inputs, scores) = score::scored(&session, category.as_deref())?;
            match format {
                TableFormat::Json => {
                    let doc = serde_json::json!({
                        "profile": scores.profile.name,
                        "products": scores.products(&inputs),
                    });
                    outln!("{}", serde_json::to_string_pretty(&doc)?);
                }
                f => {
                    let batch = score::scores_batch(&inputs, &scores)?;
                    let table = score_table(&batch, &scores, f)?;
                    out!("{}", output::render(&table, f.into()));
                    if matches!(f, TableFormat::Table) {
                        outln!(
                            "\nprofile {}; ○ full · △ partial · × none · – missing (0 points). `--format json` shows every value and rule.",
                            scores.profile.name
                        );
                    }
                }
            }
            Ok(0)
        }
        Command::Sheet {
            profile,
            category,
            lang,
            format,
            output,
            data,
        } => {
            let session = scored_session(&data, &profile).await?;
            let (inputs, scores) = score::scored(&session, category.as_deref())?;
            let lang = match lang {
                LangArg::Ja => score::sheet::Lang::Ja,
                LangArg::En => score::sheet::Lang::En,
            };
            let format = match format {
                SheetFormatArg::Html => score::sheet::SheetFormat::Html,
                SheetFormatArg::Csv => score::sheet::SheetFormat::Csv,
                SheetFormatArg::Json => score::sheet::SheetFormat::Json,
                SheetFormatArg::Md => score::sheet::SheetFormat::Markdown,
            };
            let text = score::sheet::Sheet::new(&scores, &inputs, lang).render(format);
            match output {
                Some(path) => {
                    write_atomic(&path, text.as_bytes())?;
                    eprintln!("wrote {} ({} products)", path.display(), inputs.len());
                }
                None => out!("{text}"),
            }
            Ok(0)
        }
        Command::Rank {
            category,
            by,
            product,
            profile,
            data,
            format,
        } => {
            let session = scored_session(&data, &profile).await?;
            let by = match by {
                RankBy::Score => "score",
                RankBy::Intensity => "intensity",
                RankBy::Reduction => "reduction",
                RankBy::Pds => "pds",
            };
            let rows = score::rank(&session, category.as_deref(), by, product.as_deref()).await?;
            match format {
                TableFormat::Json => {
                    let doc = serde_json::json!({
                        "caveat": score::RANKING_CAVEAT,
                        "by": by,
                        "category": category,
                        "profile": session.profile().name,
                        "suppliers": output::rows_json(&rows.batches),
                    });
                    outln!("{}", serde_json::to_string_pretty(&doc)?);
                }
                f => {
                    out!("{}", output::render(&rows, f.into()));
                    if matches!(f, TableFormat::Table) {
                        outln!("\n{}", score::RANKING_CAVEAT);
                    }
                }
            }
            Ok(0)
        }
        Command::Gen {
            nodes,
            tiers,
            fanout,
            seed,
            roots,
            black_box_pct,
            gap_pct,
            mismatch_pct,
            cycle_pct,
            skip_pct,
            graph_only,
            out,
        } => {
            let opts = generator::GenOptions {
                nodes,
                tiers,
                fanout,
                seed,
                roots,
                black_box_pct,
                gap_pct,
                mismatch_pct,
                cycle_pct,
                skip_pct,
            };
            let graph = generator::generate(&opts)?;
            if graph_only {
                generator::write_graph(&graph, &out)?;
                eprintln!(
                    "wrote {} nodes and {} edges to {}",
                    graph.nodes.len(),
                    graph.edges.len(),
                    out.display()
                );
                return Ok(0);
            }
            let s = generator::write(&graph, &out)?;
            eprintln!(
                "wrote {} footprints ({:.1} MiB) to {} and {} edges to {}",
                s.nodes,
                s.footprint_bytes as f64 / 1048576.0,
                s.footprints.display(),
                s.edges,
                s.bom.display()
            );
            Ok(0)
        }
    }
}

/// The score table for the terminal or CSV: product, company, category, one column per
/// indicator (the mark and points in a table, the points in CSV), GX score, missing.
fn score_table(
    batch: &datafusion::arrow::array::RecordBatch,
    scores: &score::Scores,
    format: TableFormat,
) -> anyhow::Result<mieruka::query::Output> {
    use std::sync::Arc;

    use datafusion::arrow::array::{ArrayRef, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for name in ["product_name", "company_name", "cpc"] {
        let i = batch.schema().index_of(name)?;
        fields.push(batch.schema().field(i).clone());
        columns.push(batch.column(i).clone());
    }
    let n = batch.num_rows();
    for (i, ind) in scores.profile.indicators.iter().enumerate() {
        let cells: Vec<String> = (0..n)
            .map(|p| match format {
                TableFormat::Table => format!(
                    "{} {}",
                    score::sheet::mark(scores.credit(i, p)),
                    scores.points(i, p).normalize()
                ),
                _ => scores.points(i, p).normalize().to_string(),
            })
            .collect();
        fields.push(Field::new(ind.key.as_str(), DataType::Utf8, false));
        columns.push(Arc::new(StringArray::from(cells)));
    }
    for name in ["gx_score", "missing"] {
        let i = batch.schema().index_of(name)?;
        fields.push(batch.schema().field(i).clone());
        columns.push(batch.column(i).clone());
    }
    let schema = Arc::new(Schema::new(fields));
    let table = datafusion::arrow::array::RecordBatch::try_new(schema.clone(), columns)?;
    let table = datafusion::arrow::compute::take_record_batch(&table, &{
        let mut order: Vec<u32> = (0..n as u32).collect();
        order.sort_by(|a, b| scores.gx_score[*b as usize].cmp(&scores.gx_score[*a as usize]));
        datafusion::arrow::array::UInt32Array::from(order)
    })?;
    Ok(mieruka::query::Output {
        schema,
        batches: vec![table],
    })
}

fn run_ingest(
    paths: &[PathBuf],
    data: Option<&Path>,
    dry_run: bool,
    opts: &IngestOptions,
) -> anyhow::Result<IngestReport> {
    if data.is_none() && !dry_run {
        anyhow::bail!(
            "ingest needs --data DIR (or MIERUKA_DATA): the bundled demo dataset is read-only. Use --dry-run to check files without storing them."
        );
    }
    let mut sources = Vec::new();
    for p in paths {
        sources.extend(Source::read_path(p)?);
    }
    ingest_sources(&sources, data, dry_run, opts)
}

/// Checks `sources` and, unless `dry_run`, stores them into `data` in one commit.
fn ingest_sources(
    sources: &[Source],
    data: Option<&Path>,
    dry_run: bool,
    opts: &IngestOptions,
) -> anyhow::Result<IngestReport> {
    let mut total = 0u64;
    for s in sources {
        total += s.size()?;
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} checking {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let start = Instant::now();
    let shown = AtomicBool::new(false);
    let interactive = std::io::stderr().is_terminal();
    let progress = |n: u64| {
        bar.inc(n);
        if interactive
            && start.elapsed() > Duration::from_secs(1)
            && !shown.swap(true, Ordering::Relaxed)
        {
            bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    };
    let result = match (data, dry_run) {
        (Some(dir), false) => {
            ingest::ingest_into(&Store::create_or_open(dir)?, sources, opts, &progress)?
        }
        (data, _) => {
            // A dry run checks against the data directory when there is one, and builds the
            // Arrow tables too, so it does everything but write.
            let store = data.and_then(|dir| Store::open(dir).ok());
            ingest::dry_run(store.as_ref(), sources, opts, &progress)?
        }
    };
    bar.finish_and_clear();
    tracing::info!("ingest took {:.2?}", start.elapsed());
    Ok(result)
}

fn print_report(r: &IngestReport, format: ReportFormat) -> anyhow::Result<()> {
    match format {
        ReportFormat::Json => outln!("{}", serde_json::to_string_pretty(r)?),
        ReportFormat::Table => {
            const SHOWN: usize = 50;
            for (label, list) in [("error", &r.errors), ("warning", &r.warnings)] {
                for p in list.iter().take(SHOWN) {
                    let at = if p.pointer.is_empty() {
                        String::new()
                    } else {
                        format!(" {}", p.pointer)
                    };
                    outln!(
                        "{label}: {}:{} #{}{at}: {}",
                        p.source,
                        p.line,
                        p.index,
                        p.message
                    );
                }
                if list.len() > SHOWN {
                    outln!(
                        "… and {} more {label}s (use --format json to see all)",
                        list.len() - SHOWN
                    );
                }
            }
            outln!(
                "accepted {} ({} new footprints, {} BOM edges, {} duplicates), rejected {}, {} warnings; {}",
                r.accepted,
                r.footprints,
                r.bom_edges,
                r.duplicates,
                r.rejected,
                r.warnings.len(),
                match (r.stored, r.ingest_seq) {
                    (true, Some(seq)) => format!("stored as ingest #{seq}"),
                    _ => "nothing stored".to_owned(),
                }
            );
        }
    }
    Ok(())
}
