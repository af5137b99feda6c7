//! `mieruka footprints`: lists the stored footprints.

use clap::Args;
use mieruka::output;
use mieruka::query::Catalog;

use super::{DataArg, TableFormat, session};

/// List footprints (the latest version of each, unless --all-versions).
#[derive(Args)]
pub struct FootprintsArgs {
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
}

/// Runs `mieruka footprints`; the exit code.
pub async fn run(args: FootprintsArgs) -> anyhow::Result<u8> {
    let FootprintsArgs {
        data,
        company,
        all_versions,
        format,
    } = args;
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
