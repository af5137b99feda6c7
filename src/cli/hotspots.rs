//! `mieruka hotspots`: a product's footprint decomposed tier by tier.

use clap::{Args, ValueEnum};
use mieruka::query::Session;
use mieruka::{dataset, hotspot};

use super::{DataArg, TableFormat};

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
///   mieruka hotspots --product urn:mieruka-demo:product:kaede-note-14 --uncertainty 10000
///
/// With --uncertainty N it answers how sure the numbers are instead: N Monte Carlo
/// samples in which every footprint's figures vary with a spread from its data quality
/// (the spread table: --show-spreads prints the default, --spreads FILE replaces it), and
/// the CFP's 95 % interval and each supplier's and tier's share with its interval.
#[derive(Args)]
#[command(verbatim_doc_comment)]
pub struct HotspotsArgs {
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
    /// Answer how sure the numbers are, with N Monte Carlo samples (e.g. 10000).
    #[arg(long, value_name = "N")]
    uncertainty: Option<usize>,
    /// Seed of the samples: the same seed, the same answer.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Spread table (TOML) for --uncertainty; default: the built-in one (--show-spreads).
    #[arg(long, value_name = "FILE")]
    spreads: Option<std::path::PathBuf>,
    /// Print the built-in spread table and exit.
    #[arg(long)]
    show_spreads: bool,
    #[command(flatten)]
    data: DataArg,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: TableFormat,
}

/// Runs `mieruka hotspots`; the exit code.
pub async fn run(args: HotspotsArgs) -> anyhow::Result<u8> {
    let HotspotsArgs {
        product,
        max_tier,
        min_share,
        basis,
        as_of,
        by,
        top,
        uncertainty,
        seed,
        spreads,
        show_spreads,
        data,
        format,
    } = args;
    if show_spreads {
        out!("{}", hotspot::DEFAULT_SPREADS);
        return Ok(0);
    }
    // The graph index alone: no table is read to answer.
    let graph = std::sync::Arc::new(dataset::graph(data.data.as_deref())?);
    let session = Session::for_graph(graph).await?;
    let req = hotspot::Request {
        product,
        max_tier,
        min_share_pct: min_share,
        basis: basis.into(),
        as_of,
    };
    if let Some(samples) = uncertainty {
        let spreads = match &spreads {
            None => hotspot::Spreads::default(),
            Some(path) => {
                let text =
                    std::fs::read_to_string(path).map_err(|e| mieruka::Error::io(path, e))?;
                hotspot::Spreads::parse(&path.display().to_string(), &text)?
            }
        };
        let d = session.decompose(&req)?;
        let u = hotspot::uncertainty(
            &d,
            &spreads,
            hotspot::UncertaintyRequest {
                samples,
                seed,
                top: top.unwrap_or(10),
            },
        )?;
        use mieruka::report::uncertainty as how_sure;
        match format {
            TableFormat::Json => outln!(
                "{}",
                serde_json::to_string_pretty(&how_sure::to_json(&d, &u))?
            ),
            TableFormat::Csv => outln!("{}", how_sure::to_csv(&u).trim_end()),
            TableFormat::Table => outln!("{}", how_sure::to_text(&d, &u).trim_end()),
        }
        return Ok(0);
    }
    let (d, rows) = mieruka::report::hotspot::run(&session, &req, by.map(Into::into), top).await?;
    let stdout = std::io::stdout().lock();
    let mut w = std::io::BufWriter::with_capacity(1 << 20, stdout);
    let written = mieruka::report::hotspot::write(&d, rows.as_ref(), format.into(), &mut w)
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

/// `--basis`: which PACT total to decompose.
#[derive(Clone, Copy, ValueEnum)]
pub(super) enum BasisArg {
    /// pcfExcludingBiogenic with GxD Gate-to-Gate fossil emissions.
    ExcludingBiogenic,
    /// pcfIncludingBiogenic with GxD Gate-to-Gate including biogenic.
    IncludingBiogenic,
}

impl From<BasisArg> for hotspot::Basis {
    fn from(b: BasisArg) -> hotspot::Basis {
        match b {
            BasisArg::ExcludingBiogenic => hotspot::Basis::ExcludingBiogenic,
            BasisArg::IncludingBiogenic => hotspot::Basis::IncludingBiogenic,
        }
    }
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

impl From<ByArg> for mieruka::report::hotspot::By {
    fn from(b: ByArg) -> mieruka::report::hotspot::By {
        use mieruka::report::hotspot::By;
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
