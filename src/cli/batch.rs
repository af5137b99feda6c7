//! `mieruka batch`: jobs over every product of a data directory, written as Parquet.

use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, Subcommand};
use mieruka::hotspot::batch::BatchRequest;
use mieruka::query::Session;
use mieruka::{dataset, hotspot};

use super::DataArg;
use super::hotspots::BasisArg;

/// Batch jobs over the whole data directory (e.g. the nightly recomputation after an
/// exchange round), written as Parquet that DuckDB, Polars or pandas read as they are.
#[derive(Args)]
pub struct BatchArgs {
    #[command(subcommand)]
    job: BatchJob,
}

#[derive(Subcommand)]
enum BatchJob {
    Hotspots(HotspotsBatchArgs),
}

/// Decompose every root product and write the items with their sums per supplier and tier.
///
/// With --all-roots, a root product is one with an Active footprint that no footprint
/// takes as an input (the end of a supply chain); --roots FILE lists them instead. Each
/// is decomposed as `mieruka hotspots --product` does, for its own reference period.
/// Written into the new directory OUT:
///
///   OUT/items/*.parquet      every root's items (the columns of hotspot_items, with
///                            root_product_id); they sum to each root's CFP exactly
///   OUT/suppliers/*.parquet  per root and supplier (data owner): kgco2e, share_pct, …
///   OUT/tiers/*.parquet      per root and tier, split by kind
///   OUT/batch.json           what was asked and how many rows were written
///
/// The roots are split over --partitions partitions (one file each), decomposed on every
/// core. The directory appears whole or not at all; an existing OUT is never replaced.
///
/// Examples:
///   mieruka batch hotspots --all-roots --out hotspots-2026-12
///   mieruka batch hotspots --all-roots --max-tier 5 --data gx --out /shared/hotspots
///   mieruka batch hotspots --roots our-products.txt --data gx --out ours
///   duckdb -c "SELECT * FROM 'hotspots-2026-12/suppliers/*.parquet' ORDER BY kgco2e DESC LIMIT 10"
#[derive(Args)]
#[command(verbatim_doc_comment)]
struct HotspotsBatchArgs {
    /// Decompose every root product.
    #[arg(long, required_unless_present = "roots", conflicts_with = "roots")]
    all_roots: bool,
    /// Decompose the products listed in FILE instead: one product URN or footprint id per
    /// line (blank lines and lines starting with # are skipped).
    #[arg(long, value_name = "FILE")]
    roots: Option<PathBuf>,
    /// New directory to write (refused if it exists).
    #[arg(long, value_name = "OUT")]
    out: PathBuf,
    /// Deepest tier expanded; footprints reached one tier deeper are beyond_cutoff.
    #[arg(long, default_value_t = hotspot::DEFAULT_MAX_TIER)]
    max_tier: u32,
    /// Do not expand footprints below this share of their root's CFP, percent (0 = off).
    #[arg(long, value_name = "PCT", default_value_t = 0.0)]
    min_share: f64,
    /// Which PACT total to decompose.
    #[arg(long, value_enum, default_value = "excluding-biogenic")]
    basis: BasisArg,
    /// Partitions the roots are split over (files per table); default: the cores, or 16 on
    /// a cluster.
    #[arg(long, value_name = "N")]
    partitions: Option<usize>,
    /// Run on an Apache Ballista cluster: ballista://HOST:PORT (its scheduler), or
    /// ballista://standalone (one in this process). Needs a build with --features cluster.
    #[arg(long, value_name = "URL")]
    engine: Option<String>,
    #[command(flatten)]
    data: DataArg,
}

/// Runs `mieruka batch`; the exit code.
pub async fn run(args: BatchArgs) -> anyhow::Result<u8> {
    let BatchJob::Hotspots(args) = args.job;
    let HotspotsBatchArgs {
        all_roots: _,
        roots,
        out,
        max_tier,
        min_share,
        basis,
        partitions,
        engine,
        data,
    } = args;
    let started = Instant::now();
    let req = BatchRequest {
        max_tier,
        min_share_pct: min_share,
        basis: basis.into(),
    };
    // Checked before the graph is opened: a bad argument answers at once.
    req.check()?;
    mieruka::query::batch::check_new(&out)?;
    let roots = roots.map(|path| read_roots(&path)).transpose()?;
    let graph = std::sync::Arc::new(dataset::graph(data.data.as_deref())?);
    // A listed product that is not in the data is named before anything is written.
    for r in roots.iter().flatten() {
        graph.root(r, None)?;
    }
    if partitions == Some(0) {
        anyhow::bail!("--partitions must be at least 1");
    }
    let (ctx, engine) = match engine {
        None => {
            let session = Session::for_graph(graph).await?;
            let ctx = session.context().clone();
            if let Some(n) = partitions {
                ctx.sql(&format!("SET datafusion.execution.target_partitions = {n}"))
                    .await?;
            }
            (ctx, "embedded".to_owned())
        }
        Some(url) => super::engine::batch_context(&url, graph, partitions).await?,
    };
    let s = mieruka::query::batch::write(&ctx, &req, roots.as_deref(), &out, &engine).await?;
    outln!(
        "{} roots, {} items, {} supplier rows, {} tier rows written to {} in {:.1} s",
        s.roots,
        s.items,
        s.suppliers,
        s.tiers,
        out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(0)
}

/// The products of a `--roots` file, ascending, without repeats.
fn read_roots(path: &std::path::Path) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| mieruka::Error::io(path, e))?;
    let roots: std::collections::BTreeSet<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    if roots.is_empty() {
        anyhow::bail!("{}: no product listed", path.display());
    }
    Ok(roots.into_iter().collect())
}
