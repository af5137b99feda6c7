//! `mieruka gen`: a synthetic supply chain for tests and benchmarks.

use std::path::PathBuf;

use clap::Args;
use mieruka::generator;

/// Write a synthetic supply chain (footprints.ndjson + bom.csv) for tests and benchmarks.
///
/// The same options and seed give byte-identical files. Ingest the result with
/// `mieruka ingest --data DIR OUT/`.
#[derive(Args)]
#[command(verbatim_doc_comment)]
pub struct GenArgs {
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
}

/// Runs `mieruka gen`; the exit code.
pub fn run(args: GenArgs) -> anyhow::Result<u8> {
    let opts = generator::GenOptions {
        nodes: args.nodes,
        tiers: args.tiers,
        fanout: args.fanout,
        seed: args.seed,
        roots: args.roots,
        black_box_pct: args.black_box_pct,
        gap_pct: args.gap_pct,
        mismatch_pct: args.mismatch_pct,
        cycle_pct: args.cycle_pct,
        skip_pct: args.skip_pct,
    };
    let (graph_only, out) = (args.graph_only, args.out);
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
