//! `mieruka rank`: suppliers ranked within a product category.

use clap::{Args, ValueEnum};
use mieruka::{output, score};

use super::{DataArg, ProfileArg, TableFormat, scored_session};

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
///   mieruka rank --category 4714 --by intensity --uncertainty 10000
///
/// With --by intensity --uncertainty N, each supplier also gets `ahead_of_next_pct`: the
/// probability that its intensity is below the next one's, when every product's CFP
/// varies with the spread its data quality gives (the spread table of
/// `mieruka hotspots --show-spreads`).
#[derive(Args)]
#[command(verbatim_doc_comment)]
pub struct RankArgs {
    /// UN CPC code or prefix to rank within (default: each category on its own).
    #[arg(long, value_name = "CPC")]
    category: Option<String>,
    /// What to rank by.
    #[arg(long, value_enum, default_value = "score")]
    by: RankBy,
    /// Buyer product: adds each supplier's contribution to its footprint.
    #[arg(long, value_name = "PRODUCT")]
    product: Option<String>,
    /// With --by intensity: how sure each place is, from N Monte Carlo samples.
    #[arg(long, value_name = "N")]
    uncertainty: Option<usize>,
    /// Seed of the samples.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[command(flatten)]
    profile: ProfileArg,
    #[command(flatten)]
    data: DataArg,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: TableFormat,
}

/// Runs `mieruka rank`; the exit code.
pub async fn run(args: RankArgs) -> anyhow::Result<u8> {
    let RankArgs {
        category,
        by,
        product,
        uncertainty,
        seed,
        profile,
        data,
        format,
    } = args;
    if uncertainty.is_some() && !matches!(by, RankBy::Intensity) {
        anyhow::bail!("--uncertainty tells how sure an intensity ranking is: add --by intensity");
    }
    let session = scored_session(&data, &profile).await?;
    let by = match by {
        RankBy::Score => "score",
        RankBy::Intensity => "intensity",
        RankBy::Reduction => "reduction",
        RankBy::Pds => "pds",
    };
    let mut rows =
        mieruka::report::score::rank(&session, category.as_deref(), by, product.as_deref()).await?;
    if let Some(samples) = uncertainty {
        let spreads = mieruka::hotspot::Spreads::default();
        rows = mieruka::report::score::ahead_of_next(&session, rows, &spreads, samples, seed)?;
    }
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
