//! HTML pages (no JavaScript): the index and the dashboards, with charts inline as SVG.

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::auth::{Principal, require_reader};
use super::{ApiError, AppState, render_key};
use crate::chart;
use crate::dashboard::{Dashboard, Panel, ParamKind};
use crate::output;
use crate::query::{Output, Session};

/// Rows a table panel shows (the CSV link has them all).
const TABLE_ROWS: usize = 200;

fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn query_string(pairs: impl IntoIterator<Item = (String, String)>) -> String {
    pairs
        .into_iter()
        .map(|(k, v)| format!("{}={}", url_encode(&k), url_encode(&v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn layout(state: &AppState, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · mieruka" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    a.brand href="/" { "mieruka " span { "見える化" } }
                    nav {
                        @for d in state.0.dashboards.iter() {
                            a href=(format!("/dashboards/{}", d.id)) { (d.title) }
                        }
                    }
                }
                main { (body) }
                footer {
                    // Where the data lie on the server is nobody's business but its operator's.
                    "Data: " (if state.0.data_dir.is_some() { "the server's data directory" } else { "the bundled demo dataset (synthetic, read-only)" })
                    " · " a href="/api/queries" { "API" } " · " a href="/openapi.json" { "OpenAPI" }
                }
            }
        }
    }
}

fn table(out: &Output, columns: &[String]) -> Markup {
    let fields: Vec<usize> = if columns.is_empty() {
        (0..out.schema.fields().len()).collect()
    } else {
        columns
            .iter()
            .filter_map(|c| out.schema.index_of(c).ok())
            .collect()
    };
    let numeric: Vec<bool> = fields
        .iter()
        .map(|i| out.schema.field(*i).data_type().is_numeric())
        .collect();
    let total = out.num_rows();
    html! {
        div.tablewrap {
            table.data {
                thead { tr { @for i in &fields { th { (output::heading(out.schema.field(*i).name())) } } } }
                tbody {
                    @for b in &out.batches {
                        @for r in 0..b.num_rows() {
                            tr {
                                @for (n, i) in fields.iter().enumerate() {
                                    td class=(if numeric[n] { "num" } else { "" }) { (output::readable_cell(out.schema.field(*i).name(), b.column(*i), r)) }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if total > TABLE_ROWS { p.note { (total) " rows; the CSV has them all." } }
    }
}

fn truncate(out: Output) -> Output {
    let mut left = TABLE_ROWS;
    let mut batches = Vec::new();
    for b in out.batches {
        if left == 0 {
            break;
        }
        let take = b.num_rows().min(left);
        batches.push(b.slice(0, take));
        left -= take;
    }
    Output {
        schema: out.schema,
        batches,
    }
}

/// `GET /`.
pub(crate) async fn index(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Response, ApiError> {
    require_reader(&state, &principal)?;
    let session = state.session(&principal).await?;
    let summary = session
        .run(state.0.catalog.get("footprints/summary")?, &[])
        .await?;
    let body = html! {
        h1 { "mieruka " span.ja { "見える化" } }
        p.lead { "Supply-chain carbon footprint hotspots and GX product scores from PACT footprints with the Green x Digital Consortium Gate-to-Gate extension." }
        section.panel {
            h2 { "Dataset" }
            (table(&summary, &[]))
        }
        section.cards {
            @for d in state.0.dashboards.iter() {
                a.card href=(format!("/dashboards/{}", d.id)) {
                    h3 { (d.title) }
                    p { (d.description) }
                }
            }
        }
        section.panel {
            h2 { "Requirement sheet" }
            p {
                "The GX product requirement sheet (要件シート): "
                a href="/api/sheet?lang=ja&format=html" { "日本語" } " · "
                a href="/api/sheet?lang=en&format=html" { "English" } " · "
                a href="/api/sheet?lang=ja&format=csv" { "CSV" } " · "
                a href="/api/sheet?lang=ja&format=xlsx" { "Excel" }
            }
        }
    };
    Ok(Html(layout(&state, "Overview", body).into_string()).into_response())
}

/// The dashboard's parameter values for this reader: what the URL gives, else the defaults.
/// A default product the reader cannot see (a supplier sees only its own) becomes the
/// reader's product with the most inputs, so every dashboard opens on data.
async fn values_for(
    session: &Session,
    d: &Dashboard,
    given: &HashMap<String, String>,
) -> BTreeMap<String, String> {
    let mut values = d.values(given);
    for p in d.params.iter().filter(|p| p.kind == ParamKind::Product) {
        let asked = given.get(&p.name).is_some_and(|v| !v.trim().is_empty());
        let Some(v) = values.get(&p.name) else {
            continue;
        };
        if asked || v.is_empty() {
            continue;
        }
        let visible = format!(
            "SELECT 1 FROM footprints_latest WHERE product_id = '{}' LIMIT 1",
            v.replace('\'', "''")
        );
        if session.sql(&visible).await.is_ok_and(|o| o.num_rows() > 0) {
            continue;
        }
        let best = "SELECT f.product_id FROM footprints_latest f \
                    LEFT JOIN bom b ON b.parent_product_id = f.product_id \
                    GROUP BY f.product_id ORDER BY count(b.parent_product_id) DESC, f.product_id LIMIT 1";
        if let Ok(out) = session.sql(best).await
            && let Some(b) = out.batches.iter().find(|b| b.num_rows() > 0)
        {
            values.insert(p.name.clone(), output::text(b.column(0), 0));
        }
    }
    values
}

/// Choices for a picker: `(value, label)`.
async fn choices(session: &Session, kind: ParamKind) -> Vec<(String, String)> {
    let sql = match kind {
        ParamKind::Product => {
            "SELECT product_id, max(product_name_company) || ' — ' || max(company_name) AS label FROM footprints_latest GROUP BY product_id ORDER BY label, product_id"
        }
        ParamKind::Category => {
            "SELECT DISTINCT product_category_cpc AS v, product_category_cpc AS label FROM footprints_latest WHERE product_category_cpc IS NOT NULL ORDER BY v"
        }
        ParamKind::Company => {
            "SELECT DISTINCT company_name AS v, company_name AS label FROM footprints_latest ORDER BY v"
        }
        _ => return Vec::new(),
    };
    let Ok(out) = session.sql(sql).await else {
        return Vec::new();
    };
    let mut v = Vec::new();
    for b in &out.batches {
        for r in 0..b.num_rows() {
            v.push((output::text(b.column(0), r), output::text(b.column(1), r)));
        }
    }
    v
}

async fn form(session: &Session, d: &Dashboard, values: &BTreeMap<String, String>) -> Markup {
    let mut fields = Vec::new();
    for p in &d.params {
        let value = values.get(&p.name).cloned().unwrap_or_default();
        let field = match p.kind {
            ParamKind::Product | ParamKind::Category | ParamKind::Company => {
                let mut options = choices(session, p.kind).await;
                if p.kind != ParamKind::Product {
                    options.insert(0, (String::new(), "(all)".into()));
                }
                // Prefixes typed in the URL stay selectable.
                if !value.is_empty() && !options.iter().any(|(v, _)| *v == value) {
                    options.push((value.clone(), value.clone()));
                }
                html! {
                    select name=(p.name) {
                        @for (v, label) in &options {
                            option value=(v) selected[*v == value] { (label) }
                        }
                    }
                }
            }
            ParamKind::Select => html! {
                select name=(p.name) {
                    @for o in &p.options { option value=(o) selected[*o == value] { (o) } }
                }
            },
            ParamKind::Int | ParamKind::Float => html! {
                input type="number" step=(if p.kind == ParamKind::Int { "1" } else { "any" }) name=(p.name) value=(value);
            },
            ParamKind::Date => html! { input type="date" name=(p.name) value=(value); },
            ParamKind::Text => html! { input type="text" name=(p.name) value=(value); },
        };
        fields.push(html! { label { span { (p.label) } (field) } });
    }
    html! {
        @if !fields.is_empty() {
            form.params method="get" {
                @for f in fields { (f) }
                button type="submit" { "Show" }
            }
        }
    }
}

async fn panel_markup(
    state: &AppState,
    session: &Session,
    d: &Dashboard,
    index: usize,
    panel: &Panel,
    values: &BTreeMap<String, String>,
) -> Markup {
    let args = d.panel_args(panel, values);
    let csv = format!(
        "/api/queries/{}?{}",
        panel.query,
        query_string(
            args.iter()
                .cloned()
                .chain([("format".to_owned(), "csv".to_owned())])
        )
    );
    let result = match state.0.catalog.get(&panel.query) {
        Ok(q) => session.run(q, &args).await,
        Err(e) => Err(e),
    };
    let out = match result {
        Ok(out) => out,
        Err(e) => {
            return html! {
                section class=(format!("panel {}", panel.width)) {
                    h2 { (panel.title) }
                    p.error { (e.to_string()) }
                }
            };
        }
    };
    let chart_query = query_string(values.iter().map(|(k, v)| (k.clone(), v.clone())));
    let body = match panel.chart_spec() {
        Some(spec) => match chart::svg(&spec, &out) {
            Ok(svg) => html! {
                div.chart data-kind=(panel.chart) { (PreEscaped(svg)) }
                p.links {
                    a href=(format!("/charts/{}/{index}.svg?{chart_query}", d.id)) { "SVG" } " · "
                    a href=(format!("/charts/{}/{index}.png?{chart_query}", d.id)) { "PNG" } " · "
                    a href=(csv) { "CSV" }
                }
            },
            Err(e) => html! { p.error { (e.to_string()) } },
        },
        None => html! {
            (table(&truncate(out), &panel.columns))
            p.links { a href=(csv) { "CSV" } }
        },
    };
    html! {
        section class=(format!("panel {}", panel.width)) {
            @if panel.chart == "table" { h2 { (panel.title) } }
            (body)
        }
    }
}

/// `GET /dashboards/{id}?param=…`.
pub(crate) async fn dashboard(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Query(given): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    require_reader(&state, &principal)?;
    let d = state.0.dashboards.get(&id)?.clone();
    let loaded = state.loaded();
    let key = render_key(&format!("dashboard/{id}"), &given, &principal);
    loaded
        .render(key, || async {
            let session = state.session(&principal).await?;
            let values = values_for(&session, &d, &given).await;
            let mut panels = Vec::new();
            for (i, p) in d.panels.iter().enumerate() {
                panels.push(panel_markup(&state, &session, &d, i, p, &values).await);
            }
            let body = html! {
                h1 { (d.title) }
                p.lead { (d.description) }
                (form(&session, &d, &values).await)
                div.panels { @for p in panels { (p) } }
            };
            let page = layout(&state, &d.title, body).into_string();
            Ok(("text/html; charset=utf-8", page.into_bytes()))
        })
        .await
}

/// `GET /assets/mplus1-regular.otf`: the charts' bundled font, so inline SVG text looks as
/// laid out (and Japanese renders) on machines without Japanese fonts.
pub(crate) async fn font() -> Response {
    (
        [
            (header::CONTENT_TYPE, "font/otf"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        chart::FONT,
    )
        .into_response()
}

/// `GET /charts/{dashboard}/{panel}.svg|png?param=…`.
pub(crate) async fn chart(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<String>,
    Query(given): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    require_reader(&state, &principal)?;
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no chart {path:?}; charts are /charts/<dashboard>/<panel number>.svg or .png"),
        )
    };
    let (dashboard, file) = path.rsplit_once('/').ok_or_else(not_found)?;
    let (n, ext) = file.rsplit_once('.').ok_or_else(not_found)?;
    let d = state.0.dashboards.get(dashboard)?.clone();
    let panel = n
        .parse::<usize>()
        .ok()
        .and_then(|i| d.panels.get(i))
        .ok_or_else(not_found)?;
    let spec = panel.chart_spec().ok_or_else(not_found)?;
    let loaded = state.loaded();
    let key = render_key(&format!("chart/{path}"), &given, &principal);
    let png = match ext {
        "svg" => false,
        "png" => true,
        _ => return Err(not_found()),
    };
    loaded
        .render(key, || async {
            let session = state.session(&principal).await?;
            let values = values_for(&session, &d, &given).await;
            let out = session
                .run(
                    state.0.catalog.get(&panel.query)?,
                    &d.panel_args(panel, &values),
                )
                .await?;
            Ok(if png {
                ("image/png", chart::png(&spec, &out)?)
            } else {
                ("image/svg+xml", chart::svg(&spec, &out)?.into_bytes())
            })
        })
        .await
}

const STYLE: &str = "
@font-face { font-family: 'mieruka M+ 1'; src: url('/assets/mplus1-regular.otf') format('opentype'); font-display: swap; }
:root { --ink: #1c2321; --muted: #5b6661; --line: #d8dfdb; --accent: #2e7d32; }
* { box-sizing: border-box; }
body { margin: 0; font-family: 'Noto Sans JP', 'Hiragino Sans', 'Segoe UI', system-ui, sans-serif, 'mieruka M+ 1'; color: var(--ink); background: #f6f8f7; }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 1rem; padding: .6rem 1.5rem; background: #fff; border-bottom: 1px solid var(--line); }
header .brand { font-weight: 700; color: var(--accent); text-decoration: none; font-size: 1.1rem; }
header .brand span { color: var(--ink); font-weight: 400; }
header nav a { margin-right: .9rem; color: var(--ink); text-decoration: none; font-size: .9rem; }
header nav a:hover { color: var(--accent); }
main { padding: 1rem 1.5rem 2rem; max-width: 1320px; margin: 0 auto; }
h1 { font-size: 1.5rem; margin: .5rem 0; } h1 .ja { color: var(--muted); font-weight: 400; }
p.lead { color: var(--muted); max-width: 70rem; }
form.params { display: flex; flex-wrap: wrap; gap: .8rem; align-items: flex-end; background: #fff; padding: .8rem; border: 1px solid var(--line); border-radius: 6px; margin-bottom: 1rem; }
form.params label { display: flex; flex-direction: column; font-size: .8rem; color: var(--muted); gap: .2rem; }
form.params select, form.params input { font: inherit; padding: .25rem; max-width: 26rem; }
form.params button { padding: .35rem 1rem; background: var(--accent); color: #fff; border: 0; border-radius: 4px; font: inherit; cursor: pointer; }
.panels { display: flex; flex-wrap: wrap; gap: 1rem; }
section.panel { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .8rem; flex: 1 1 100%; min-width: 0; }
section.panel.half { flex: 1 1 calc(50% - .5rem); }
section.panel h2 { font-size: 1rem; margin: 0 0 .5rem; }
.chart svg { width: 100%; height: auto; }
.chart svg text { font-family: 'mieruka M+ 1', sans-serif; }
p.links { font-size: .8rem; margin: .3rem 0 0; } p.links a { color: var(--muted); }
p.error { color: #a01919; } p.note { color: var(--muted); font-size: .8rem; }
.tablewrap { overflow-x: auto; }
table.data { border-collapse: collapse; font-size: .8rem; width: 100%; }
table.data th, table.data td { border-bottom: 1px solid var(--line); padding: .25rem .4rem; text-align: left; vertical-align: top; }
table.data td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.data th { background: #eef3ef; position: sticky; top: 0; }
section.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: 1rem; margin: 1rem 0; }
a.card { display: block; background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .8rem; color: inherit; text-decoration: none; }
a.card:hover { border-color: var(--accent); } a.card h3 { margin: 0 0 .3rem; font-size: 1rem; color: var(--accent); } a.card p { margin: 0; font-size: .85rem; color: var(--muted); }
footer { padding: 1rem 1.5rem; color: var(--muted); font-size: .8rem; border-top: 1px solid var(--line); background: #fff; }
footer a { color: var(--muted); }
";
