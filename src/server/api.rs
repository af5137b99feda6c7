//! The JSON/CSV/Arrow/Parquet API: the query catalog, the CLI's analyses, uploads and
//! ad-hoc SQL.

use std::collections::HashMap;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::auth::{Principal, Role, require_reader};
use super::{ApiError, AppState};
use crate::hotspot::{Basis, Request};
use crate::ingest::{self, IngestOptions, Source};
use crate::output;
use crate::query::{Output, SqlLimit};
use crate::report;
use crate::score::{self, sheet};
use crate::store::Store;

/// Result encodings of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    Json,
    Csv,
    Arrow,
    Parquet,
}

impl Encoding {
    fn pick(params: &HashMap<String, String>, headers: &HeaderMap) -> Result<Encoding, ApiError> {
        if let Some(f) = params.get("format") {
            return match f.as_str() {
                "json" => Ok(Encoding::Json),
                "csv" => Ok(Encoding::Csv),
                "arrow" => Ok(Encoding::Arrow),
                "parquet" => Ok(Encoding::Parquet),
                other => Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    format!("format {other:?}: expected json, csv, arrow or parquet"),
                )),
            };
        }
        let accept = headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        Ok(if accept.contains("text/csv") {
            Encoding::Csv
        } else if accept.contains("vnd.apache.arrow") {
            Encoding::Arrow
        } else if accept.contains("parquet") {
            Encoding::Parquet
        } else {
            Encoding::Json
        })
    }
}

/// A 500 with the generic body; the cause goes to the log.
fn internal(e: impl std::fmt::Display) -> ApiError {
    tracing::error!("internal error: {e}");
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
}

/// Encodes a query result.
pub(crate) fn encode(out: &Output, encoding: Encoding) -> Result<Response, ApiError> {
    Ok(match encoding {
        Encoding::Json => axum::Json(Value::Array(output::rows_json(&out.batches))).into_response(),
        Encoding::Csv => (
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            output::to_csv(out),
        )
            .into_response(),
        Encoding::Arrow => {
            let mut w =
                datafusion::arrow::ipc::writer::StreamWriter::try_new(Vec::new(), &out.schema)
                    .map_err(internal)?;
            for b in &out.batches {
                w.write(b).map_err(internal)?;
            }
            w.finish().map_err(internal)?;
            let bytes = w.into_inner().map_err(internal)?;
            (
                [(header::CONTENT_TYPE, "application/vnd.apache.arrow.stream")],
                bytes,
            )
                .into_response()
        }
        Encoding::Parquet => {
            let mut w = datafusion::parquet::arrow::ArrowWriter::try_new(
                Vec::new(),
                out.schema.clone(),
                None,
            )
            .map_err(internal)?;
            for b in &out.batches {
                w.write(b).map_err(internal)?;
            }
            let bytes = w.into_inner().map_err(internal)?;
            (
                [(header::CONTENT_TYPE, "application/vnd.apache.parquet")],
                bytes,
            )
                .into_response()
        }
    })
}

/// `GET /api/queries`: the catalog.
pub(crate) async fn queries(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Response, ApiError> {
    require_reader(&state, &principal)?;
    let list: Vec<Value> = state
        .0
        .catalog
        .iter()
        .map(|q| {
            json!({
                "id": q.id,
                "title": q.title,
                "description": q.description,
                "engine": q.engine.describe(),
                "returns": q.returns,
                "params": q.params.iter().map(|p| json!({
                    "name": p.name,
                    "type": p.ty.as_str(),
                    "default": p.default,
                    "required": p.default.is_none(),
                    "choices": p.choices,
                    "description": p.description,
                })).collect::<Vec<_>>(),
                "url": format!("/api/queries/{}", q.id),
            })
        })
        .collect();
    Ok(axum::Json(Value::Array(list)).into_response())
}

/// `GET /api/queries/{id}?param=…&format=…`: runs a catalog query.
pub(crate) async fn query(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    require_reader(&state, &principal)?;
    let encoding = Encoding::pick(&params, &headers)?;
    let def = state.0.catalog.get(&id)?;
    let mut args: Vec<(String, String)> =
        params.into_iter().filter(|(k, _)| k != "format").collect();
    args.sort();
    let session = state.session(&principal).await?;
    let out = session.run(def, &args).await?;
    encode(&out, encoding)
}

fn param<'a>(p: &'a HashMap<String, String>, k: &str) -> Option<&'a str> {
    p.get(k).map(String::as_str).filter(|v| !v.is_empty())
}

fn parse<T: std::str::FromStr>(
    p: &HashMap<String, String>,
    k: &str,
    what: &str,
) -> Result<Option<T>, ApiError> {
    param(p, k)
        .map(|v| {
            v.parse::<T>().map_err(|_| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    format!("{k}: expected {what}, got {v:?}"),
                )
            })
        })
        .transpose()
}

/// `GET /api/hotspots?product=…`: the decomposition, as `mieruka hotspots --format json`.
pub(crate) async fn hotspots(
    State(state): State<AppState>,
    principal: Principal,
    Query(p): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    require_reader(&state, &principal)?;
    let product = param(&p, "product")
        .ok_or_else(|| ApiError::new(StatusCode::BAD_REQUEST, "product is required"))?;
    let mut req = Request::new(product);
    if let Some(t) = parse::<u32>(&p, "max_tier", "a whole number")? {
        req.max_tier = t;
    }
    if let Some(s) = parse::<f64>(&p, "min_share", "a percentage")? {
        req.min_share_pct = s;
    }
    if let Some(b) = param(&p, "basis") {
        req.basis = Basis::parse(b)?;
    }
    req.as_of = parse::<chrono::NaiveDate>(&p, "as_of", "a date like 2024-10-01")?;
    let by = match param(&p, "by") {
        None => None,
        Some(b) => Some(report::hotspot::By::parse(b).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("by {b:?}: expected tier, supplier, footprint, category, country or kind"),
            )
        })?),
    };
    let top = parse::<usize>(&p, "top", "a whole number")?;
    if let Some(samples) = parse::<usize>(&p, "uncertainty", "a number of samples")? {
        return how_sure(&state, &principal, req, samples, &p, top).await;
    }
    let session = state.session(&principal).await?;
    let (d, rows) = report::hotspot::run(&session, &req, by, top).await?;
    let body = report::hotspot::to_json(&d, rows.as_ref(), false);
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response())
}

/// `POST /api/whatif[?product=…&max_tier=…&as_of=…]`: the scenario in the body (JSON, the
/// fields of a scenario file) applied to the product (the parameter, else the scenario's
/// `product`); or `?scenario=NAME` for a bundled one with no body. The answer is
/// `mieruka whatif --format json`'s.
pub(crate) async fn whatif(
    State(state): State<AppState>,
    principal: Principal,
    Query(p): Query<HashMap<String, String>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    require_reader(&state, &principal)?;
    let scenario = match (param(&p, "scenario"), body.is_empty()) {
        (Some(name), true) => crate::query::whatif::bundled_one(name)?,
        (Some(_), false) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "give the scenario in the body or name a bundled one with ?scenario=, not both",
            ));
        }
        (None, true) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "no scenario: send one as JSON ({\"name\": …, \"changes\": [{\"kind\": \"replace\", …}]}) or name a bundled one with ?scenario=",
            ));
        }
        (None, false) => {
            let text = std::str::from_utf8(&body).map_err(|_| {
                ApiError::new(StatusCode::BAD_REQUEST, "the body must be UTF-8 JSON")
            })?;
            crate::hotspot::scenario::Scenario::from_json("(request body)", text)?
        }
    };
    let product = param(&p, "product")
        .map(str::to_owned)
        .or_else(|| scenario.product.clone())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "product is required (a parameter, or the scenario's \"product\")",
            )
        })?;
    let mut req = Request::new(product);
    if let Some(t) = parse::<u32>(&p, "max_tier", "a whole number")? {
        req.max_tier = t;
    }
    if let Some(b) = param(&p, "basis") {
        req.basis = Basis::parse(b)?;
    }
    req.as_of = parse::<chrono::NaiveDate>(&p, "as_of", "a date like 2024-10-01")?;
    let top = parse::<usize>(&p, "top", "a whole number")?.unwrap_or(20);
    let session = state.session(&principal).await?;
    let body = tokio::task::spawn_blocking(move || {
        session
            .whatif(&req, &scenario, Some(top))
            .map(|w| crate::report::whatif::to_json(&w))
    })
    .await
    .map_err(internal)??;
    Ok(axum::Json(body).into_response())
}

/// Samples one request may ask for (each costs CPU time on the server).
const MAX_SAMPLES: usize = 100_000;

/// `GET /api/hotspots?product=…&uncertainty=N[&seed=S][&top=N]`: how sure, as
/// `mieruka hotspots --uncertainty N --format json`.
async fn how_sure(
    state: &AppState,
    principal: &Principal,
    req: Request,
    samples: usize,
    p: &HashMap<String, String>,
    top: Option<usize>,
) -> Result<Response, ApiError> {
    let seed = seed_for(samples, p)?;
    let session = state.session(principal).await?;
    let body = tokio::task::spawn_blocking(move || {
        let spreads = crate::hotspot::Spreads::default();
        let ask = crate::hotspot::UncertaintyRequest {
            samples,
            seed,
            top: top.unwrap_or(10),
        };
        session
            .uncertainty(&req, &spreads, ask)
            .map(|(d, u)| crate::report::uncertainty::to_json(&d, &u))
    })
    .await
    .map_err(internal)??;
    Ok(axum::Json(body).into_response())
}

/// The seed of `samples` Monte Carlo samples (`seed`, default 1), once `samples` is within
/// what one request may ask for.
fn seed_for(samples: usize, p: &HashMap<String, String>) -> Result<u64, ApiError> {
    if !(1..=MAX_SAMPLES).contains(&samples) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("uncertainty: from 1 to {MAX_SAMPLES} samples, got {samples}"),
        ));
    }
    Ok(parse::<u64>(p, "seed", "a whole number")?.unwrap_or(1))
}

/// `GET /api/score?category=…`: scores, as `mieruka score --format json`.
pub(crate) async fn score(
    State(state): State<AppState>,
    principal: Principal,
    Query(p): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    require_reader(&state, &principal)?;
    let session = state.session(&principal).await?;
    let (inputs, scores) = report::score::scored(&session, param(&p, "category"))?;
    Ok(axum::Json(json!({
        "profile": scores.profile.name,
        "products": scores.products(&inputs),
    }))
    .into_response())
}

/// `GET /api/sheet?lang=ja|en&format=html|csv|json|md|xlsx&category=…`: the requirement sheet.
pub(crate) async fn sheet(
    State(state): State<AppState>,
    principal: Principal,
    Query(p): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    require_reader(&state, &principal)?;
    let lang = match param(&p, "lang").unwrap_or("ja") {
        "ja" => sheet::Lang::Ja,
        "en" => sheet::Lang::En,
        other => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("lang {other:?}: expected ja or en"),
            ));
        }
    };
    const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    let (format, content_type) = match param(&p, "format").unwrap_or("html") {
        "xlsx" => (None, XLSX),
        "html" => (Some(sheet::SheetFormat::Html), "text/html; charset=utf-8"),
        "csv" => (Some(sheet::SheetFormat::Csv), "text/csv; charset=utf-8"),
        "json" => (Some(sheet::SheetFormat::Json), "application/json"),
        "md" => (
            Some(sheet::SheetFormat::Markdown),
            "text/markdown; charset=utf-8",
        ),
        other => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("format {other:?}: expected html, csv, json, md or xlsx"),
            ));
        }
    };
    let session = state.session(&principal).await?;
    let (inputs, scores) = report::score::scored(&session, param(&p, "category"))?;
    let sheet = sheet::Sheet::new(&scores, &inputs, lang);
    let Some(format) = format else {
        let name = format!("attachment; filename=\"gx-sheet-{}.xlsx\"", lang.code());
        return Ok((
            [
                (header::CONTENT_TYPE, content_type.to_owned()),
                (header::CONTENT_DISPOSITION, name),
            ],
            sheet.xlsx()?,
        )
            .into_response());
    };
    let text = sheet.render(format);
    Ok(([(header::CONTENT_TYPE, content_type)], text).into_response())
}

/// `GET /api/rank?category=…&by=…&product=…`: the supplier ranking, with its caveat.
pub(crate) async fn rank(
    State(state): State<AppState>,
    principal: Principal,
    Query(p): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    require_reader(&state, &principal)?;
    let session = state.session(&principal).await?;
    let by = param(&p, "by").unwrap_or("score");
    let mut rows =
        report::score::rank(&session, param(&p, "category"), by, param(&p, "product")).await?;
    if let Some(samples) = parse::<usize>(&p, "uncertainty", "a number of samples")? {
        if by != "intensity" {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "uncertainty tells how sure an intensity ranking is: add by=intensity",
            ));
        }
        let seed = seed_for(samples, &p)?;
        let session = session.clone();
        rows = tokio::task::spawn_blocking(move || {
            let spreads = crate::hotspot::Spreads::default();
            report::score::ahead_of_next(&session, rows, &spreads, samples, seed)
        })
        .await
        .map_err(internal)??;
    }
    Ok(axum::Json(json!({
        "caveat": score::RANKING_CAVEAT,
        "by": by,
        "category": param(&p, "category"),
        "profile": session.profile().name,
        "suppliers": output::rows_json(&rows.batches),
    }))
    .into_response())
}

/// `POST /api/footprints[?name=…&all_or_nothing=true]`: ingests the body (PACT JSON,
/// NDJSON, a BOM or GX attributes CSV) through the same checks and store as the CLI; the
/// reply is the ingest report.
pub(crate) async fn upload(
    State(state): State<AppState>,
    principal: Principal,
    Query(p): Query<HashMap<String, String>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    principal.require(&[Role::Admin], "uploading footprints")?;
    let Some(dir) = state.0.data_dir.clone() else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "this server shows the bundled demo dataset, which is read-only; start it with --data DIR to accept uploads",
        ));
    };
    let name = param(&p, "name").unwrap_or("upload").to_owned();
    let opts = IngestOptions {
        all_or_nothing: param(&p, "all_or_nothing") == Some("true"),
        ..IngestOptions::default()
    };
    let _one_at_a_time = state.0.upload.lock().await;
    let sources = vec![Source::new(name, body.to_vec())];
    // The tables held now: what was stored before the upload is shared, not read again.
    let before = state.loaded();
    let (report, tables) = tokio::task::spawn_blocking(move || -> crate::Result<_> {
        let store = Store::create_or_open(&dir)?;
        let report = ingest::ingest_into(&store, &sources, &opts, &|_| {})?;
        let tables = if report.stored {
            Some(store.load_after(&before.tables)?)
        } else {
            None
        };
        Ok((report, tables))
    })
    .await
    .map_err(internal)??;
    if let Some(t) = tables {
        state.replace(t).await?;
    }
    let status = if report.rejected > 0 && !report.stored {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(report)).into_response())
}

/// `POST /api/sql[?format=…]` with the SQL as the body (or `{"sql": "…"}`): read-only
/// ad-hoc SQL, within the memory, row and time limits of the config.
pub(crate) async fn sql(
    State(state): State<AppState>,
    principal: Principal,
    Query(p): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    principal.require(&[Role::Admin, Role::Analyst], "ad-hoc SQL")?;
    let encoding = Encoding::pick(&p, &headers)?;
    let text = String::from_utf8(body.to_vec())
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "the SQL must be UTF-8"))?;
    let sql = match serde_json::from_str::<Value>(&text) {
        Ok(v) if v.get("sql").is_some() => v["sql"].as_str().unwrap_or_default().to_owned(),
        _ => text,
    };
    if sql.trim().is_empty() {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "no SQL in the body"));
    }
    let limits = state.limits();
    let session = state.session(&principal).await?;
    let out = session
        .sql_limited(
            &sql,
            limits.sql_memory_mib * 1024 * 1024,
            limits.sql_rows,
            Duration::from_secs(limits.sql_seconds),
        )
        .await
        .map_err(|e| match e {
            SqlLimit::Memory(m) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!(
                    "the query needs more than {} MiB of memory: {m}",
                    limits.sql_memory_mib
                ),
            ),
            SqlLimit::Rows(n) => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the query returns more than {n} rows; add a LIMIT or aggregate"),
            ),
            SqlLimit::Time(t) => ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                format!("the query ran longer than {} s", t.as_secs()),
            ),
            SqlLimit::Failed(e) => ApiError::from(e),
        })?;
    encode(&out, encoding)
}
