//! HTML pages (no JavaScript): the index and the dashboards, with charts inline as SVG, in
//! Japanese or English: a `lang` parameter, else the `lang` cookie (which a `lang`
//! parameter sets), else the browser's `Accept-Language`, else English.

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::auth::{Principal, require_reader};
use super::{ApiError, AppState, render_key};
use crate::chart;
use crate::dashboard::{Dashboard, INDEX_QUERY, Panel, ParamKind, Words};
use crate::lang::Lang;
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

pub(super) fn query_string(pairs: impl IntoIterator<Item = (String, String)>) -> String {
    pairs
        .into_iter()
        .map(|(k, v)| format!("{}={}", url_encode(&k), url_encode(&v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The language of a page, and whether the request named it (then a cookie keeps it).
#[derive(Debug, Clone, Copy)]
pub(super) struct PageLang {
    pub(super) lang: Lang,
    chosen: bool,
}

impl PageLang {
    /// From `?lang=`, else the `lang` cookie, else `Accept-Language`, else English. A `lang`
    /// parameter other than ja or en is a 400; a cookie or header we cannot read is ignored.
    pub(super) fn of(
        given: &HashMap<String, String>,
        headers: &HeaderMap,
    ) -> Result<PageLang, ApiError> {
        if let Some(code) = given.get("lang").filter(|c| !c.is_empty()) {
            return Lang::parse(code)
                .map(|lang| PageLang { lang, chosen: true })
                .ok_or_else(|| {
                    ApiError::new(
                        StatusCode::BAD_REQUEST,
                        format!("lang={code:?}: the pages are in ja (日本語) or en (English)"),
                    )
                });
        }
        let cookie = (headers.get_all(header::COOKIE).iter())
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .find_map(|c| c.trim().strip_prefix("lang=").and_then(Lang::parse));
        let browser = || {
            (headers.get(header::ACCEPT_LANGUAGE))
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::negotiate)
        };
        Ok(PageLang {
            lang: cookie.or_else(browser).unwrap_or(Lang::En),
            chosen: false,
        })
    }

    /// `response` with the headers a page in a negotiated language needs: what it varies on,
    /// its language, and the cookie when the request chose it.
    pub(super) fn finish(self, mut response: Response) -> Response {
        let h = response.headers_mut();
        h.insert(
            header::VARY,
            HeaderValue::from_static("cookie, accept-language"),
        );
        h.insert(
            header::CONTENT_LANGUAGE,
            HeaderValue::from_static(self.lang.code()),
        );
        if self.chosen {
            let cookie = format!(
                "lang={}; Path=/; Max-Age=31536000; SameSite=Lax",
                self.lang.code()
            );
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                h.insert(header::SET_COOKIE, v);
            }
        }
        response
    }
}

/// Where a page is, for the language switch: its path and parameters.
pub(super) struct Here<'a> {
    pub(super) path: &'a str,
    pub(super) given: &'a HashMap<String, String>,
}

impl Here<'_> {
    /// This page in `lang`.
    fn in_lang(&self, lang: Lang) -> String {
        let mut params: Vec<(String, String)> = (self.given.iter())
            .filter(|(k, _)| *k != "lang")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        params.sort();
        params.push(("lang".into(), lang.code().into()));
        format!("{}?{}", self.path, query_string(params))
    }
}

pub(super) fn layout(
    state: &AppState,
    lang: Lang,
    here: &Here,
    title: &str,
    body: Markup,
) -> Markup {
    let t = |ja, en| lang.pick(ja, en);
    let data = if state.0.data_dir.is_some() {
        t(
            "サーバーのデータディレクトリ",
            "the server's data directory",
        )
    } else {
        t(
            "同梱のデモデータセット（合成データ・読み取り専用）",
            "the bundled demo dataset (synthetic, read-only)",
        )
    };
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · mieruka" }
                // Started at once, not when the style is read: on a machine without Japanese
                // fonts every Japanese word waits for it (font-display: block, not boxes).
                link rel="preload" href="/assets/mplus1-regular.otf" as="font" type="font/otf" crossorigin;
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    a.brand href="/" { "mieruka " span { "見える化" } }
                    nav {
                        @for d in state.0.dashboards.iter() {
                            a href=(format!("/dashboards/{}", d.id)) { (d.title.get(lang)) }
                        }
                        a href="/dashboards/profile" { (t("プロファイル編集", "Profile editor")) }
                    }
                    nav.lang aria-label=(t("言語", "Language")) {
                        @for l in Lang::ALL {
                            @if l == lang {
                                strong lang=(l.code()) { (l.name()) }
                            } @else {
                                a href=(here.in_lang(l)) hreflang=(l.code()) lang=(l.code()) { (l.name()) }
                            }
                        }
                    }
                }
                main { (body) }
                footer {
                    // Where the data lie on the server is nobody's business but its operator's.
                    (t("データ: ", "Data: ")) (data)
                    " · " a href="/api/queries" { "API" } " · " a href="/openapi.json" { "OpenAPI" }
                }
            }
        }
    }
}

/// A table of `out`'s `columns` (all when empty), its codes already in the page's language
/// ([`Words::translate`]). A column `X` with a Japanese twin `X_ja`
/// (a query's text written in both) shows the twin, under X's heading, on Japanese pages; the
/// twin is never a column of its own.
fn table(out: &Output, columns: &[String], words: &Words, lang: Lang) -> Markup {
    let schema = &out.schema;
    let twin = |name: &str| schema.index_of(&format!("{name}_ja")).ok();
    let is_twin = |name: &str| {
        name.strip_suffix("_ja")
            .is_some_and(|base| schema.index_of(base).is_ok())
    };
    let names: Vec<&str> = if columns.is_empty() {
        (schema.fields().iter())
            .map(|f| f.name().as_str())
            .filter(|n| !is_twin(n))
            .collect()
    } else {
        columns.iter().map(String::as_str).collect()
    };
    // (heading's column, shown column)
    let shown: Vec<(usize, usize)> = (names.iter())
        .filter_map(|n| schema.index_of(n).ok())
        .map(|i| {
            let name = schema.field(i).name();
            match (lang, twin(name)) {
                (Lang::Ja, Some(t)) => (i, t),
                _ => (i, i),
            }
        })
        .collect();
    let fields: Vec<usize> = shown.iter().map(|(_, i)| *i).collect();
    let numeric: Vec<bool> = fields
        .iter()
        .map(|i| out.schema.field(*i).data_type().is_numeric())
        .collect();
    let total = out.num_rows();
    html! {
        div.tablewrap {
            table.data {
                thead { tr { @for (h, _) in &shown { th { (words.heading(schema.field(*h).name(), lang)) } } } }
                tbody {
                    @for b in &out.batches {
                        @for r in 0..b.num_rows() {
                            tr {
                                @for (n, i) in fields.iter().enumerate() {
                                    @let name = out.schema.field(*i).name();
                                    @let cell = output::readable_cell(name, b.column(*i), r);
                                    td class=(if numeric[n] { "num" } else { "" }) { (chart::placeholder(&cell, lang)) }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if total > TABLE_ROWS {
            p.note {
                @match lang {
                    Lang::Ja => { "全 " (total) " 行のうち " (TABLE_ROWS) " 行を表示しています。CSVにはすべての行があります。" }
                    Lang::En => { (total) " rows; the CSV has them all." }
                }
            }
        }
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
    headers: HeaderMap,
    Query(given): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    require_reader(&state, &principal)?;
    let page_lang = PageLang::of(&given, &headers)?;
    let lang = page_lang.lang;
    let t = |ja, en| lang.pick(ja, en);
    let session = state.session(&principal).await?;
    let summary = session.run(state.0.catalog.get(INDEX_QUERY)?, &[]).await?;
    let words = state.0.dashboards.words();
    let summary = words.translate(summary, lang)?;
    let body = html! {
        h1 { "mieruka " span.ja { "見える化" } }
        p.lead { (t(
            "PACTの製品カーボンフットプリント（グリーン×デジタル・コンソーシアムのGate-to-Gate拡張を含む）から、サプライチェーンの排出ホットスポットとGX製品評点を見える化します。",
            "Supply-chain carbon footprint hotspots and GX product scores from PACT footprints with the Green x Digital Consortium Gate-to-Gate extension.",
        )) }
        section.panel {
            h2 { (t("データセット", "Dataset")) }
            (table(&summary, &[], words, lang))
        }
        section.cards {
            @for d in state.0.dashboards.iter() {
                a.card href=(format!("/dashboards/{}", d.id)) {
                    h3 { (d.title.get(lang)) }
                    p { (d.description.get(lang)) }
                }
            }
        }
        section.panel {
            h2 { (t("要件シート", "Requirement sheet")) }
            p {
                (t("GX製品の要件シート: ", "The GX product requirement sheet (要件シート): "))
                a href="/api/sheet?lang=ja&format=html" { "日本語" } " · "
                a href="/api/sheet?lang=en&format=html" { "English" } " · "
                a href="/api/sheet?lang=ja&format=csv" { "CSV" } " · "
                a href="/api/sheet?lang=ja&format=xlsx" { "Excel" }
            }
        }
    };
    let here = Here {
        path: "/",
        given: &given,
    };
    let page = layout(&state, lang, &here, t("概要", "Overview"), body);
    Ok(page_lang.finish(Html(page.into_string()).into_response()))
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

/// Most choices a picker lists. Past them it is a text field that suggests the first of
/// them: a list of every product of a store of a million footprints was 77 MB of page, for
/// every page that picks a product.
const PICKER_CHOICES: usize = 500;

/// Choices for a picker, `(value, label)`: at most [`PICKER_CHOICES`], and whether there are
/// more.
async fn choices(session: &Session, kind: ParamKind) -> (Vec<(String, String)>, bool) {
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
        _ => return (Vec::new(), false),
    };
    let Ok(out) = session
        .sql(&format!("{sql} LIMIT {}", PICKER_CHOICES + 1))
        .await
    else {
        return (Vec::new(), false);
    };
    let mut v = Vec::new();
    for b in &out.batches {
        for r in 0..b.num_rows() {
            v.push((output::text(b.column(0), r), output::text(b.column(1), r)));
        }
    }
    let more = v.len() > PICKER_CHOICES;
    v.truncate(PICKER_CHOICES);
    (v, more)
}

async fn form(
    session: &Session,
    words: &Words,
    d: &Dashboard,
    values: &BTreeMap<String, String>,
    lang: Lang,
) -> Markup {
    let mut fields = Vec::new();
    for p in &d.params {
        let value = values.get(&p.name).cloned().unwrap_or_default();
        let field = match p.kind {
            ParamKind::Product | ParamKind::Category | ParamKind::Company => {
                let (mut options, more) = choices(session, p.kind).await;
                if more {
                    // Typed: an id (or for a product, its footprint's id), the first
                    // choices suggested; empty is "all" where a select offers it.
                    let list = format!("{}-choices", p.name);
                    let n = PICKER_CHOICES;
                    let hint = match (p.kind, lang) {
                        (ParamKind::Product, Lang::Ja) => {
                            format!(
                                "製品 URN かフットプリント ID を入力（先頭 {n} 件を候補に表示）"
                            )
                        }
                        (ParamKind::Product, Lang::En) => {
                            format!(
                                "type a product URN or footprint id (the first {n} are suggested)"
                            )
                        }
                        (_, Lang::Ja) => format!("入力（先頭 {n} 件を候補に表示、空欄ですべて）"),
                        (_, Lang::En) => {
                            format!("type a value (the first {n} are suggested; empty for all)")
                        }
                    };
                    html! {
                        input type="text" name=(p.name) value=(value) list=(list) title=(hint) placeholder=(hint);
                        datalist id=(list) {
                            @for (v, label) in &options {
                                option value=(v) { (label) }
                            }
                        }
                    }
                } else {
                    if p.kind != ParamKind::Product {
                        options.insert(0, (String::new(), lang.pick("（すべて）", "(all)").into()));
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
            }
            ParamKind::Select => html! {
                select name=(p.name) {
                    @for o in &p.options {
                        option value=(o) selected[*o == value] { (words.value(&p.name, o, lang)) }
                    }
                }
            },
            ParamKind::Int | ParamKind::Float => html! {
                input type="number" step=(if p.kind == ParamKind::Int { "1" } else { "any" }) name=(p.name) value=(value);
            },
            ParamKind::Date => html! { input type="date" name=(p.name) value=(value); },
            ParamKind::Text => html! { input type="text" name=(p.name) value=(value); },
        };
        fields.push(html! { label { span { (p.label.get(lang)) } (field) } });
    }
    html! {
        @if !fields.is_empty() {
            form.params method="get" {
                @for f in fields { (f) }
                input type="hidden" name="lang" value=(lang.code());
                button type="submit" { (lang.pick("表示", "Show")) }
            }
        }
    }
}

async fn panel_markup(
    state: &AppState,
    session: &Session,
    d: &Dashboard,
    runs: &mut crate::dashboard::Runs,
    (index, panel): (usize, &Panel),
    values: &BTreeMap<String, String>,
    lang: Lang,
) -> Markup {
    let title = panel.title.get(lang);
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
    let result = d
        .run_once(runs, session, state.0.catalog, panel, values)
        .await;
    let words = state.0.dashboards.words();
    let out = match result.and_then(|out| words.translate(out, lang)) {
        Ok(out) => out,
        Err(e) => {
            return html! {
                section class=(format!("panel {}", panel.width)) {
                    h2 { (title) }
                    p.error { (e.to_string()) }
                }
            };
        }
    };
    let chart_query = query_string(
        (values.iter())
            .map(|(k, v)| (k.clone(), v.clone()))
            .chain([("lang".to_owned(), lang.code().to_owned())]),
    );
    let body = match panel.chart_spec(lang) {
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
            (table(&truncate(out), &panel.columns, words, lang))
            p.links { a href=(csv) { "CSV" } }
        },
    };
    html! {
        section class=(format!("panel {}", panel.width)) {
            @if panel.chart == "table" { h2 { (title) } }
            (body)
        }
    }
}

/// `GET /dashboards/{id}?param=…`.
pub(crate) async fn dashboard(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(given): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    require_reader(&state, &principal)?;
    let page_lang = PageLang::of(&given, &headers)?;
    let lang = page_lang.lang;
    let d = state.0.dashboards.get(&id)?.clone();
    let loaded = state.loaded();
    let key = render_key(
        &format!("dashboard/{id}/{}", lang.code()),
        &given,
        &principal,
    );
    let page = loaded
        .render(key, || async {
            let session = state.session(&principal).await?;
            let values = values_for(&session, &d, &given).await;
            let (mut panels, mut runs) = (Vec::new(), crate::dashboard::Runs::default());
            for (i, p) in d.panels.iter().enumerate() {
                let markup = panel_markup(&state, &session, &d, &mut runs, (i, p), &values, lang);
                panels.push(markup.await);
            }
            let body = html! {
                h1 { (d.title.get(lang)) }
                p.lead { (d.description.get(lang)) }
                (form(&session, state.0.dashboards.words(), &d, &values, lang).await)
                div.panels { @for p in panels { (p) } }
            };
            let path = format!("/dashboards/{id}");
            let here = Here {
                path: &path,
                given: &given,
            };
            let page = layout(&state, lang, &here, d.title.get(lang), body).into_string();
            Ok(("text/html; charset=utf-8", page.into_bytes()))
        })
        .await?;
    Ok(page_lang.finish(page))
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
    headers: HeaderMap,
    Path(path): Path<String>,
    Query(given): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    require_reader(&state, &principal)?;
    let page_lang = PageLang::of(&given, &headers)?;
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
    let spec = panel.chart_spec(page_lang.lang).ok_or_else(not_found)?;
    let loaded = state.loaded();
    let key = render_key(
        &format!("chart/{path}/{}", page_lang.lang.code()),
        &given,
        &principal,
    );
    let png = match ext {
        "svg" => false,
        "png" => true,
        _ => return Err(not_found()),
    };
    let drawn = loaded
        .render(key, || async {
            let session = state.session(&principal).await?;
            let values = values_for(&session, &d, &given).await;
            let out = d.run(&session, state.0.catalog, panel, &values).await?;
            let out = state.0.dashboards.words().translate(out, page_lang.lang)?;
            Ok(if png {
                ("image/png", chart::png(&spec, &out)?)
            } else {
                ("image/svg+xml", chart::svg(&spec, &out)?.into_bytes())
            })
        })
        .await?;
    Ok(page_lang.finish(drawn))
}

/// Japanese is drawn in the bundled M+ 1 everywhere ('mieruka ja', its kana and CJK ranges
/// only, first in the stack): a web font late in the stack is only a fallback, and Chromium
/// shapes text it has not loaded yet as boxes that stay (seen on machines without Japanese
/// fonts). First, with `font-display: block`, Japanese waits for it instead. Latin text keeps
/// the system's face.
const STYLE: &str = "
@font-face { font-family: 'mieruka M+ 1'; src: url('/assets/mplus1-regular.otf') format('opentype'); font-display: block; }
@font-face { font-family: 'mieruka ja'; src: url('/assets/mplus1-regular.otf') format('opentype'); font-display: block; unicode-range: U+3000-30FF, U+3400-4DBF, U+4E00-9FFF, U+F900-FAFF, U+FF00-FFEF; }
:root { --ink: #1c2321; --muted: #5b6661; --line: #d8dfdb; --accent: #2e7d32; }
* { box-sizing: border-box; }
body { margin: 0; font-family: 'mieruka ja', 'Segoe UI', system-ui, sans-serif, 'Noto Sans JP', 'Hiragino Sans'; color: var(--ink); background: #f6f8f7; }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 1rem; padding: .6rem 1.5rem; background: #fff; border-bottom: 1px solid var(--line); }
header .brand { font-weight: 700; color: var(--accent); text-decoration: none; font-size: 1.1rem; }
header .brand span { color: var(--ink); font-weight: 400; }
header nav a { margin-right: .9rem; color: var(--ink); text-decoration: none; font-size: .9rem; }
header nav a:hover { color: var(--accent); }
header nav.lang { margin-left: auto; font-size: .85rem; }
header nav.lang a, header nav.lang strong { margin: 0 0 0 .7rem; }
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
section.invalid { border-color: #a01919; } section.invalid h2, section.invalid li { color: #a01919; }
p.saved { background: #e8f3e8; padding: .5rem .8rem; border-radius: 4px; }
form.profile .params { display: flex; flex-wrap: wrap; gap: 1rem; margin-bottom: .8rem; }
form.profile label, form.save label { display: inline-flex; flex-direction: column; font-size: .8rem; color: var(--muted); gap: .2rem; }
form.profile input, form.profile select, form.save input { font: inherit; padding: .2rem; }
table.editor td { vertical-align: middle; } table.editor code { color: var(--muted); font-size: .75rem; }
p.buttons button, form.save button { padding: .35rem 1rem; background: var(--accent); color: #fff; border: 0; border-radius: 4px; font: inherit; cursor: pointer; }
iframe.sheet { width: 100%; height: 640px; border: 1px solid var(--line); background: #fff; }
footer { padding: 1rem 1.5rem; color: var(--muted); font-size: .8rem; border-top: 1px solid var(--line); background: #fff; }
footer a { color: var(--muted); }
";
