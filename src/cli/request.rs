//! `mieruka request`: ask suppliers for the data that matter most.

use std::path::PathBuf;

use clap::Args;
use datafusion::arrow::array::{ArrayRef, Float64Array, StringArray};
use mieruka::pact::request::{Ask, RequestLog, SentRequest, request_event, uuid_v4};
use mieruka::query::Session;
use mieruka::{dataset, hotspot};

use super::{TableFormat, print_table};

/// Ask suppliers for the data that matter most: a PACT RequestCreated event for each of a
/// product's largest data gaps (see `mieruka gaps`), sent to the PACT host of the company
/// that could close it.
///
/// The hosts are `[[pact.partner]]` entries of the config:
///   [[pact.partner]]
///   name = "Meridian"
///   companies = ["urn:mieruka-demo:company:meridian"]   # companyIds whose data it holds
///   url = "https://pact.meridian.example"
///   version = 3                                         # PACT 2 (default) or 3
///   client_id = "kaede"
///   client_secret_env = "MERIDIAN_PACT_SECRET"
/// and `public_url` there is where answers come back (its /2/events or /3/events).
///
/// Each request's comment says what is asked and why (Japanese and English). Every request
/// sent or failed is kept in DIR/requests.json (id, partner, company, product, gap, share of
/// the CFP, status, times); a gap with no partner is listed, not sent. --dry-run prints the
/// events and sends nothing; --list shows the requests kept; --resend sends those not
/// answered yet again, as they were (the same event id, so a late answer still matches).
///
/// Examples:
///   mieruka request --data ./gx --config mieruka.toml --product urn:gtin:4712345060507 --top 5 --dry-run
///   mieruka request --data ./gx --config mieruka.toml --product urn:gtin:4712345060507 --top 5
///   mieruka request --data ./gx --list
///   mieruka request --data ./gx --config mieruka.toml --resend
#[derive(Args)]
#[command(verbatim_doc_comment)]
pub struct RequestArgs {
    /// Footprint id or product URN (then its latest Active footprint).
    #[arg(long, required_unless_present_any = ["list", "resend"])]
    product: Option<String>,
    /// Show the requests kept in DIR/requests.json.
    #[arg(long, conflicts_with_all = ["product", "resend", "dry_run"])]
    list: bool,
    /// Send the requests not answered yet (sent or failed) again, as they were.
    #[arg(long, conflicts_with_all = ["product", "dry_run"])]
    resend: bool,
    /// Ask about the N largest gaps.
    #[arg(long, value_name = "N", default_value_t = 5)]
    top: usize,
    /// Config (TOML) with the [[pact.partner]] hosts and public_url.
    #[arg(long, value_name = "FILE", env = "MIERUKA_CONFIG")]
    config: PathBuf,
    /// Data directory: the chain analysed, and where requests.json is kept.
    #[arg(long, value_name = "DIR", env = "MIERUKA_DATA")]
    data: Option<PathBuf>,
    /// Print the events that would be sent; send and keep nothing.
    #[arg(long)]
    dry_run: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: TableFormat,
}

/// Runs `mieruka request`; the exit code (1 if a request could not be sent).
pub async fn run(args: RequestArgs) -> anyhow::Result<u8> {
    let RequestArgs {
        product,
        list,
        resend,
        top,
        config,
        data,
        dry_run,
        format,
    } = args;
    if list || resend {
        let Some(dir) = &data else {
            anyhow::bail!("--list and --resend need --data DIR: the requests are kept there");
        };
        let mut failed = 0;
        if resend {
            let config = mieruka::server::Config::load(&config)?;
            let open: Vec<(String, String, serde_json::Value)> = RequestLog::read(dir)?
                .requests
                .into_iter()
                .filter(|r| matches!(r.status.as_str(), "sent" | "failed") && !r.event.is_null())
                .map(|r| (r.id, r.partner, r.event))
                .collect();
            for (id, name, event) in open {
                let sent = match config.pact.partners.iter().find(|p| p.name == name) {
                    Some(partner) => partner.send(&event).await.map_err(|e| e.to_string()),
                    None => Err(format!("no partner {name:?} in the config")),
                };
                failed += usize::from(sent.is_err());
                let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                RequestLog::update(dir, |log| {
                    // Unless an answer came meanwhile.
                    if let Some(r) = log
                        .requests
                        .iter_mut()
                        .find(|r| r.id == id && matches!(r.status.as_str(), "sent" | "failed"))
                    {
                        r.sent_at = now;
                        (r.status, r.reason) = match sent {
                            Ok(()) => ("sent".into(), None),
                            Err(e) => ("failed".into(), Some(e)),
                        };
                    }
                })?;
            }
        }
        let log = RequestLog::read(dir)?;
        print_log(&log, format)?;
        return Ok(u8::from(failed > 0));
    }
    let product = product.unwrap_or_default();
    let config = mieruka::server::Config::load(&config)?;
    if data.is_none() && !dry_run {
        anyhow::bail!(
            "request needs --data DIR (or MIERUKA_DATA): the requests sent are kept there; --dry-run sends nothing"
        );
    }
    let source = match (&config.public_url, dry_run) {
        (Some(url), _) => url.clone(),
        (None, true) => "https://public-url.not.configured".to_owned(),
        (None, false) => anyhow::bail!(
            "the config needs public_url = \"https://…\": partners send their answers to its /2/events or /3/events"
        ),
    };
    let graph = std::sync::Arc::new(dataset::graph(data.as_deref())?);
    let session = Session::for_graph(graph).await?;
    let d = session.decompose(&hotspot::Request::new(product))?;
    let gaps = hotspot::gaps(&d, Some(top));
    let root = &d.product;
    let mut rows: Vec<Row> = Vec::new();
    let mut failed = 0;
    for g in &gaps {
        let Some(partner) = config.pact.partner_for(&g.company_id) else {
            rows.push(Row::new(g, "", "no partner".into(), String::new()));
            continue;
        };
        let ask = ask_for(g, &root.product_name);
        let id = uuid_v4()?;
        let event = request_event(partner.version, &source, &id, &ask);
        if dry_run {
            outln!("{}", serde_json::to_string_pretty(&event)?);
            rows.push(Row::new(
                g,
                &partner.name,
                "not sent (--dry-run)".into(),
                id,
            ));
            continue;
        }
        let Some(dir) = &data else {
            continue;
        };
        // Kept before it is sent: a partner may answer before the send returns.
        let sent_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        RequestLog::update(dir, |log| {
            log.requests.push(SentRequest {
                id: id.clone(),
                partner: partner.name.clone(),
                company_id: g.company_id.clone(),
                product_id: ask.product_id.clone(),
                footprint_id: g.footprint_id.clone(),
                root_product_id: root.product_id.clone(),
                gap: g.kind.as_str().to_owned(),
                share_pct: g.share_pct,
                coverage_before_pct: Some(d.quality.primary_data_coverage_pct),
                status: "sent".into(),
                reason: None,
                sent_at,
                answered_at: None,
                event: event.clone(),
            })
        })?;
        let (status, reason) = match partner.send(&event).await {
            Ok(()) => ("sent".to_owned(), None),
            Err(e) => {
                failed += 1;
                let reason = e.to_string();
                RequestLog::update(dir, |log| {
                    if let Some(r) = log.requests.iter_mut().find(|r| r.id == id) {
                        r.status = "failed".into();
                        r.reason = Some(reason.clone());
                    }
                })?;
                ("failed".to_owned(), Some(reason))
            }
        };
        let shown = match reason {
            Some(r) => format!("{status}: {r}"),
            None => status,
        };
        rows.push(Row::new(g, &partner.name, shown, id));
    }
    let text = |f: &dyn Fn(&Row) -> String| -> ArrayRef {
        std::sync::Arc::new(StringArray::from_iter_values(rows.iter().map(f)))
    };
    let columns: Vec<ArrayRef> = vec![
        std::sync::Arc::new(Float64Array::from_iter_values(
            rows.iter().map(|r| r.gap.share_pct),
        )),
        text(&|r| r.gap.kind.as_str().to_owned()),
        text(&|r| r.gap.company_name.clone()),
        text(&|r| {
            r.gap
                .input
                .clone()
                .unwrap_or_else(|| r.gap.product_name.clone())
        }),
        text(&|r| r.partner.clone()),
        text(&|r| r.status.clone()),
        text(&|r| r.id.clone()),
    ];
    print_table(
        &[
            "share_pct",
            "gap",
            "company_name",
            "asked_about",
            "partner",
            "status",
            "request_id",
        ],
        columns,
        format,
    )?;
    Ok(u8::from(failed > 0))
}

/// One gap and what became of it: the partner asked, how it went, the request's id.
struct Row<'a> {
    gap: &'a hotspot::Gap,
    partner: String,
    status: String,
    id: String,
}

impl<'a> Row<'a> {
    fn new(gap: &'a hotspot::Gap, partner: &str, status: String, id: String) -> Row<'a> {
        Row {
            gap,
            partner: partner.to_owned(),
            status,
            id,
        }
    }
}

/// What to ask about gap `g` of `root` (a product name), with a comment in Japanese and
/// English. A dangling input is asked about by its own URN, of the company listing it.
fn ask_for(g: &hotspot::Gap, root: &str) -> Ask {
    let share = format!("{:.1}", g.share_pct);
    let what = match g.kind {
        hotspot::GapKind::Unresolved => "Gate-to-Gate排出量（GxD拡張）",
        hotspot::GapKind::Untraced => "上流（仕入先）のCFPデータ",
        hotspot::GapKind::OrganizationBased => "製品ベースで算定したCFP",
        hotspot::GapKind::OlderReferencePeriod => "最新の算定期間のCFP",
        hotspot::GapKind::DanglingInput => "この部材の仕入先とそのCFP",
    };
    Ask {
        product_id: g.input.clone().unwrap_or_else(|| g.product_id.clone()),
        company_id: g.company_id.clone(),
        comment: format!(
            "{what}のご提供をお願いします。製品「{root}」のCFPの{share}%に関わるデータです。 / Please provide {}. It concerns {share} % of the CFP of {root}.",
            g.ask
        ),
    }
}

/// The requests kept, as a table.
fn print_log(log: &RequestLog, format: TableFormat) -> anyhow::Result<()> {
    let names = [
        "request_id",
        "partner",
        "company_id",
        "product_id",
        "gap",
        "share_pct",
        "status",
        "reason",
        "sent_at",
        "answered_at",
    ];
    let r = &log.requests;
    let text = |f: &dyn Fn(&SentRequest) -> Option<String>| -> ArrayRef {
        std::sync::Arc::new(StringArray::from_iter(r.iter().map(f)))
    };
    let columns: Vec<ArrayRef> = vec![
        text(&|x| Some(x.id.clone())),
        text(&|x| Some(x.partner.clone())),
        text(&|x| Some(x.company_id.clone())),
        text(&|x| Some(x.product_id.clone())),
        text(&|x| Some(x.gap.clone())),
        std::sync::Arc::new(Float64Array::from_iter_values(
            r.iter().map(|x| x.share_pct),
        )),
        text(&|x| Some(x.status.clone())),
        text(&|x| x.reason.clone()),
        text(&|x| Some(x.sent_at.clone())),
        text(&|x| x.answered_at.clone()),
    ];
    print_table(&names, columns, format)
}
