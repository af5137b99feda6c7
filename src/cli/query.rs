//! `mieruka query`: a catalog query by id, or ad-hoc read-only SQL.

use anyhow::Context;
use clap::Args;
use mieruka::output;
use mieruka::query::Catalog;

use super::{DataArg, TableFormat, session_for};

/// Run a catalog query by id, or ad-hoc read-only SQL.
///
/// Catalog queries live in queries/ (id = path without .sql) and take typed parameters:
///   mieruka query --list
///   mieruka query footprints/summary
///   mieruka query footprints/by_company --param company=Kaede
///   mieruka query "SELECT company_name, count(*) FROM footprints GROUP BY 1"
/// Tables: footprints, footprints_latest, footprint_extensions, bom, bom_history,
/// ingest_log, gx_attributes, pact_requests.
///
/// On a cluster (a build with --features cluster; docs/scale-out.md), the executors scan
/// the data directory's Parquet themselves:
///   mieruka query --engine ballista://scheduler:50050 --data /shared/gx footprints/summary
#[derive(Args)]
#[command(verbatim_doc_comment)]
pub struct QueryArgs {
    /// Query id (e.g. footprints/summary) or SQL text.
    #[arg(required_unless_present = "list")]
    query: Option<String>,
    /// A parameter, as name=value (repeatable).
    #[arg(long = "param", short = 'p', value_name = "NAME=VALUE", value_parser = parse_param)]
    params: Vec<(String, String)>,
    /// List the catalog instead.
    #[arg(long)]
    list: bool,
    #[command(flatten)]
    data: DataArg,
    /// Run the SQL on a Ballista cluster: ballista://HOST:PORT (its scheduler). Needs
    /// --data, at a path every executor reads.
    #[arg(long, value_name = "URL")]
    engine: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    format: TableFormat,
}

/// Runs `mieruka query`; the exit code.
pub async fn run(args: QueryArgs) -> anyhow::Result<u8> {
    let QueryArgs {
        query,
        params,
        list,
        data,
        engine,
        format,
    } = args;
    let catalog = Catalog::embedded()?;
    if list {
        for q in catalog.iter() {
            outln!("{:<28} {}  [{}]", q.id, q.title, q.engine.describe());
            for p in &q.params {
                let default = p
                    .default
                    .as_ref()
                    .map_or("required".to_owned(), |d| format!("default {d:?}"));
                let choices = match p.choices.is_empty() {
                    true => String::new(),
                    false => format!(", one of {}", p.choices.join(" | ")),
                };
                outln!(
                    "    ${} ({}{choices}, {default}) {}",
                    p.name,
                    p.ty.as_str(),
                    p.description
                );
            }
        }
        return Ok(0);
    }
    let query = query.context("a query id or SQL text is required")?;
    let adhoc = query.trim().contains(char::is_whitespace);
    if adhoc && !params.is_empty() {
        anyhow::bail!("--param applies to catalog queries, not to ad-hoc SQL");
    }
    let def = if adhoc {
        None
    } else {
        Some(catalog.get(query.trim())?)
    };
    // A parameter the query does not take, or a value it refuses, is said before anything
    // is read (the session binds them again as it runs).
    if let Some(def) = def {
        Catalog::bind(def, &params)?;
    }
    // Only the tables the statement names are read; the hotspot functions walk the
    // graph index.
    let sql = def.map_or(query.as_str(), |d| d.sql.as_str());
    let session = match engine {
        Some(url) => {
            let reads = mieruka::query::reads(sql);
            super::engine::catalog_session(&url, data.data.as_deref(), reads).await?
        }
        None => session_for(&data, sql).await?,
    };
    let out = match def {
        None => session.sql(&query).await?,
        Some(def) => session.run(def, &params).await?,
    };
    out!("{}", output::render(&out, format.into()));
    Ok(0)
}

fn parse_param(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.trim().to_owned(), v.to_owned()))
        .ok_or_else(|| format!("expected NAME=VALUE, got {s:?}"))
}
