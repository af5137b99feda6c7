//! `mieruka score`: products scored on a weighted GX requirement profile.

use clap::Args;
use mieruka::{output, score};

use super::{DataArg, ProfileArg, TableFormat, scored_session};

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
///   mieruka score --data ./gx --profile pc-2026     # saved by the profile editor
#[derive(Args)]
#[command(verbatim_doc_comment)]
pub struct ScoreArgs {
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
}

/// Runs `mieruka score`; the exit code.
pub async fn run(args: ScoreArgs) -> anyhow::Result<u8> {
    let ScoreArgs {
        profile,
        category,
        show_profile,
        data,
        format,
    } = args;
    if show_profile {
        out!("{}", profile.text(&data)?.1);
        return Ok(0);
    }
    let session = scored_session(&data, &profile).await?;
    let (inputs, scores) = mieruka::report::score::scored(&session, category.as_deref())?;
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
            let table = score_table(&batch, &inputs, &scores, f)?;
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

/// The score table for the terminal or CSV: product, company, category, one column per
/// indicator (the mark and points in a table, the points in CSV), GX score, missing.
fn score_table(
    batch: &datafusion::arrow::array::RecordBatch,
    inputs: &score::Inputs,
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
                    score::sheet::mark(scores.credit(inputs, i, p).as_ref()),
                    scores.points(inputs, i, p)
                ),
                _ => scores.points(inputs, i, p).to_string(),
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
        order.sort_by_key(|&p| std::cmp::Reverse(scores.gx_micros[p as usize]));
        datafusion::arrow::array::UInt32Array::from(order)
    })?;
    Ok(mieruka::query::Output {
        schema,
        batches: vec![table],
    })
}
