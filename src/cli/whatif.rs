//! `mieruka whatif`: a product as it would be with a scenario's changes.

use std::path::Path;

use clap::Args;
use mieruka::hotspot;
use mieruka::hotspot::scenario::Scenario;

use super::{DataArg, ProfileArg, TableFormat};

/// What if: apply a scenario's changes to a product's chain and compare.
///
/// A scenario is a TOML file (see scenarios/README.md) or the name of a bundled one:
/// a list of changes applied on top of the stored data, never written into it —
/// `replace` (an input from another supplier or version, or a footprint given in the
/// file), `scale` (a bill-of-materials amount), `reduce` (a supplier's announced cut of
/// its Gate-to-Gate emissions or CFP), `estimate` (a footprint for an input that has
/// none) and `attribute` (a GX attribute, for the score).
///
/// Every footprint a change reaches reports a CFP that moves by exactly as much as its
/// inputs and own emissions move; its untraced remainder per unit stays. Shown: the CFP
/// before and after, the change by supplier and by tier, the footprints that changed,
/// and the GX score and rank in the product's category before and after.
///
/// Examples:
///   mieruka whatif --scenario display-supplier
///   mieruka whatif --scenario scenarios/supplier-commitments.toml --format json
///   mieruka whatif --scenario my.toml --product urn:mieruka-demo:product:shinonome-mb-k14
///   mieruka whatif --list
#[derive(Args)]
#[command(verbatim_doc_comment)]
pub struct WhatifArgs {
    /// Scenario: a TOML file, or a bundled scenario's name (--list shows them).
    #[arg(long, value_name = "FILE|NAME", required_unless_present = "list")]
    scenario: Option<String>,
    /// Footprint id or product URN (default: the scenario's `product`).
    #[arg(long)]
    product: Option<String>,
    /// Deepest tier expanded.
    #[arg(long, default_value_t = hotspot::DEFAULT_MAX_TIER)]
    max_tier: u32,
    /// Analyse the chain as of this date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    as_of: Option<chrono::NaiveDate>,
    /// Suppliers and footprints listed by name (the largest changes); the others are one
    /// "(rest)" row.
    #[arg(long, value_name = "N", default_value_t = 20)]
    top: usize,
    /// List the bundled scenarios and exit.
    #[arg(long)]
    list: bool,
    #[command(flatten)]
    profile: ProfileArg,
    #[command(flatten)]
    data: DataArg,
    /// Output format (csv: not available; json is the API's answer).
    #[arg(long, value_enum, default_value = "table")]
    format: TableFormat,
}

/// Reads `--scenario`: a file when one exists at that path, else a bundled name.
fn load(name: &str) -> anyhow::Result<Scenario> {
    let path = Path::new(name);
    if path.is_file() {
        let text = std::fs::read_to_string(path).map_err(|e| mieruka::Error::io(path, e))?;
        return Ok(Scenario::from_toml(&path.display().to_string(), &text)?);
    }
    match mieruka::query::whatif::bundled_one(name) {
        Ok(s) => Ok(s),
        Err(e) if name.ends_with(".toml") => {
            anyhow::bail!("{name}: no such file ({e})")
        }
        Err(e) => Err(e.into()),
    }
}

/// Runs `mieruka whatif`; the exit code.
pub async fn run(args: WhatifArgs) -> anyhow::Result<u8> {
    let WhatifArgs {
        scenario,
        product,
        max_tier,
        as_of,
        top,
        list,
        profile,
        data,
        format,
    } = args;
    if list {
        for (id, s) in mieruka::query::whatif::bundled()? {
            outln!(
                "{id:<24} {} ({} changes){}",
                s.name,
                s.changes.len(),
                s.product
                    .map(|p| format!(", product {p}"))
                    .unwrap_or_default()
            );
        }
        return Ok(0);
    }
    let scenario = load(scenario.as_deref().unwrap_or_default())?;
    let Some(product) = product.or_else(|| scenario.product.clone()) else {
        anyhow::bail!(
            "which product? The scenario {:?} names none: add --product",
            scenario.name
        );
    };
    if matches!(format, TableFormat::Csv) {
        anyhow::bail!("--format csv: a what-if answer is not one table; use table or json");
    }
    let session = super::scored_session(&data, &profile).await?;
    let req = hotspot::Request {
        max_tier,
        as_of,
        ..hotspot::Request::new(product)
    };
    let w = session.whatif(&req, &scenario, Some(top))?;
    use mieruka::report::whatif;
    match format {
        TableFormat::Json => outln!("{}", serde_json::to_string_pretty(&whatif::to_json(&w))?),
        _ => outln!("{}", whatif::to_text(&w).trim_end()),
    }
    Ok(0)
}
