//! `mieruka footprints`: lists the stored footprints, or explains how one reads in the other
//! PACT major version.

use std::sync::Arc;

use clap::Args;
use datafusion::arrow::array::{ArrayRef, StringArray};
use mieruka::output;
use mieruka::query::Catalog;

use super::{DataArg, TableFormat, print_table, session_for};

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
    /// Instead of the list: how footprint ID reads in the other PACT major version, as
    /// `mieruka serve` gives it there (a v2 footprint under /3/, a v3 one under /2/): each
    /// property renamed, derived (and by which rule), left out (no counterpart) or carried,
    /// and why it is left out of the other version's list when it cannot be converted
    /// faithfully (then the exit code is 1). With --format json, the converted document too.
    #[arg(long, value_name = "ID", conflicts_with_all = ["company", "all_versions"])]
    explain_conversion: Option<String>,
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
        explain_conversion,
        format,
    } = args;
    if let Some(id) = explain_conversion {
        return explain(&data, &id, format);
    }
    let catalog = Catalog::embedded()?;
    let def = catalog.get("footprints/list")?;
    // Only what the list reads: from a data directory, the `footprints` columns it shows.
    let session = session_for(&data, &def.sql).await?;
    let args = vec![
        ("company".to_owned(), company.unwrap_or_default()),
        ("all_versions".to_owned(), all_versions.to_string()),
    ];
    let out = session.run(def, &args).await?;
    out!("{}", output::render(&out, format.into()));
    Ok(0)
}

fn explain(data: &DataArg, id: &str, format: TableFormat) -> anyhow::Result<u8> {
    let tables = mieruka::dataset::documents(data.data.as_deref())?;
    let c = mieruka::pact::conversion_of(&tables, id)?;
    let code = u8::from(c.document.is_none());
    if let TableFormat::Json = format {
        let body = serde_json::json!({
            "id": id.trim().to_ascii_lowercase(),
            "from": c.from,
            "to": c.to,
            "document": c.document,
            "blockers": c.blockers,
            "notes": c.notes,
        });
        outln!("{}", serde_json::to_string_pretty(&body)?);
        return Ok(code);
    }
    if let TableFormat::Table = format {
        if c.blockers.is_empty() {
            outln!(
                "{id}: received as PACT v{}, given as v{} under /{}/footprints",
                c.from,
                c.to,
                c.to
            );
        } else {
            outln!(
                "{id}: received as PACT v{}, left out of /{}/footprints: it cannot be given as v{} faithfully:",
                c.from,
                c.to,
                c.to
            );
            for b in &c.blockers {
                outln!("  - {b}");
            }
        }
        outln!("");
        // Each property on two lines: the reasons are sentences, too long for a table cell.
        let width = c.notes.iter().map(|n| n.from.len()).max().unwrap_or(0);
        for n in &c.notes {
            match &n.to {
                Some(to) => outln!("{:<9} {:<width$} → {to}", n.change.as_str(), n.from),
                None => outln!("{:<9} {}", n.change.as_str(), n.from),
            }
            outln!("{:<9} {}", "", n.why);
        }
        return Ok(code);
    }
    let text = |f: &dyn Fn(&mieruka::pact::convert::Note) -> Option<String>| -> ArrayRef {
        Arc::new(c.notes.iter().map(f).collect::<StringArray>())
    };
    print_table(
        &["from", "to", "change", "why"],
        vec![
            text(&|n| Some(n.from.clone())),
            text(&|n| n.to.clone()),
            text(&|n| Some(n.change.as_str().to_owned())),
            text(&|n| Some(n.why.clone())),
        ],
        format,
    )?;
    Ok(code)
}
