//! `mieruka gaps`: what to ask suppliers for first.

use clap::Args;
use datafusion::arrow::array::{RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use mieruka::query::{Output, Session};
use mieruka::{dataset, hotspot, output};

use super::{DataArg, TableFormat};

/// List a product's data gaps, ranked by the share of its footprint each concerns: what to
/// ask which supplier for first.
///
/// From the product's decomposition (as `mieruka hotspots` makes it), every footprint whose
/// data leave part of the answer open, and the company that could close it:
///   unresolved              no Gate-to-Gate data: the footprint is one number, not traced
///   untraced                upstream reported that no supplier footprint explains
///   organization_based      allocated from company-wide totals, not product-based
///   older_reference_period  for an earlier period than the product's
///   dangling_input          a BOM input without any footprint
/// kgco2e is the part of the product's CFP the gap concerns (per its declared unit) and
/// share_pct its share; `ask` says what to ask for. With --config, the partner holding each
/// company's data and its PACT host (`mieruka request` sends the requests).
///
/// Examples:
///   mieruka gaps --product urn:mieruka-demo:product:kaede-note-14
///   mieruka gaps --data ./gx --product urn:mieruka:gen:7:0 --top 20 --format csv > ask.csv
#[derive(Args)]
#[command(verbatim_doc_comment)]
pub struct GapsArgs {
    /// Footprint id or product URN (then its latest Active footprint).
    #[arg(long)]
    product: String,
    /// Show the N largest gaps (0 = all).
    #[arg(long, value_name = "N", default_value_t = 20)]
    top: usize,
    /// Deepest tier expanded (as for `hotspots`).
    #[arg(long, default_value_t = hotspot::DEFAULT_MAX_TIER)]
    max_tier: u32,
    /// Analyse the chain as of this date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    as_of: Option<chrono::NaiveDate>,
    /// Config (TOML) whose [[pact.partner]] entries name each company's PACT host: the
    /// `partner` and `partner_url` columns (see `mieruka request`).
    #[arg(long, value_name = "FILE")]
    config: Option<std::path::PathBuf>,
    #[command(flatten)]
    data: DataArg,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: TableFormat,
}

/// Runs `mieruka gaps`; the exit code.
pub async fn run(args: GapsArgs) -> anyhow::Result<u8> {
    let GapsArgs {
        product,
        top,
        max_tier,
        as_of,
        config,
        data,
        format,
    } = args;
    let pact = match &config {
        Some(path) => mieruka::server::Config::load(path)?.pact,
        None => mieruka::pact::PactConfig::default(),
    };
    let graph = std::sync::Arc::new(dataset::graph(data.data.as_deref())?);
    let session = Session::for_graph(graph).await?;
    let req = hotspot::Request {
        product,
        max_tier,
        min_share_pct: 0.0,
        basis: hotspot::Basis::ExcludingBiogenic,
        as_of,
    };
    let d = session.decompose(&req)?;
    let gaps = hotspot::gaps(&d, (top > 0).then_some(top));
    let mut batch = hotspot::gaps_batch(&gaps)?;
    if config.is_some() {
        // Whom to ask, where: the partner holding each gap's company.
        let partner = |g: &hotspot::Gap| pact.partner_for(&g.company_id);
        let name = StringArray::from_iter(gaps.iter().map(|g| partner(g).map(|p| p.name.as_str())));
        let url = StringArray::from_iter(gaps.iter().map(|g| partner(g).map(|p| p.url.as_str())));
        let mut fields: Vec<Field> = batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        let mut columns = batch.columns().to_vec();
        fields.push(Field::new("partner", DataType::Utf8, true));
        fields.push(Field::new("partner_url", DataType::Utf8, true));
        columns.push(std::sync::Arc::new(name));
        columns.push(std::sync::Arc::new(url));
        batch = RecordBatch::try_new(std::sync::Arc::new(Schema::new(fields)), columns)?;
    }
    let rows = Output {
        schema: batch.schema(),
        batches: vec![batch],
    };
    out!("{}", output::render(&rows, format.into()));
    Ok(0)
}
