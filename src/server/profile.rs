//! The profile editor, `/dashboards/profile`: the active scoring profile as a form (every
//! indicator's weight and rule, the overrides by CPC prefix). Sending it (GET, so a preview
//! is a link) checks it — weights above 0 with at most 6 decimals adding up to 100, rules
//! that fit their indicator, linear thresholds in the indicator's direction — and shows the
//! sheet it gives and every product's score and rank beside the active profile's; or
//! downloads it as TOML. An admin saves it in the data directory under a name (POST), for
//! `mieruka score --profile NAME`.

use std::collections::HashMap;

use axum::extract::{Form as BodyForm, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{Markup, html};

use super::auth::{Principal, Role, require_reader};
use super::pages::{Here, PageLang, layout, query_string};
use super::{ApiError, AppState};
use crate::lang::Lang;
use crate::score::{self, Key, Profile, sheet};

mod form;

use form::{Form, KINDS, Override, kind_label, kinds_for, ranks};

/// Rows of the change table shown (the largest changes first).
const CHANGE_ROWS: usize = 500;
/// Products up to which the preview shows the whole sheet.
const SHEET_PRODUCTS: usize = 200;
/// Empty override rows offered below the profile's own.
const NEW_OVERRIDES: usize = 3;

/// The headings of a rule's three cells.
fn rule_heads(lang: Lang) -> Markup {
    let t = |ja, en| lang.pick(ja, en);
    html! {
        th { (t("ルール", "Rule")) }
        th { (t("しきい値 / 0点の値 / 最小 %", "Threshold / zero at / min %")) }
        th { (t("満点の値（線形）", "Full at (linear)")) }
    }
}

/// A rule's three cells: its kind among `kinds`, then its one or two numbers; `names` are
/// the fields' names (kind, a, b).
fn rule_cells(names: [String; 3], kinds: &[&str], [kind, a, b]: [&str; 3], lang: Lang) -> Markup {
    let [kind_name, a_name, b_name] = names;
    html! {
        td { select name=(kind_name) {
            @for k in kinds {
                option value=(k) selected[*k == kind] { (kind_label(k, lang)) }
            }
        } }
        td { input type="text" inputmode="decimal" size="10" name=(a_name) value=(a); }
        td { input type="text" inputmode="decimal" size="10" name=(b_name) value=(b); }
    }
}

fn form_markup(form: &Form, active: &Profile, category: &str, lang: Lang) -> Markup {
    let t = |ja, en| lang.pick(ja, en);
    let weighed: Vec<Key> = active.indicators.iter().map(|i| i.key).collect();
    let mut overrides = form.overrides.clone();
    overrides.extend(std::iter::repeat_n(Override::default(), NEW_OVERRIDES));
    html! {
        form.profile method="get" action="/dashboards/profile" {
            input type="hidden" name="lang" value=(lang.code());
            input type="hidden" name="order" value=(form.order());
            div.params {
                label { span { (t("プロファイル名", "Profile name")) } input type="text" name="name" value=(form.name) required; }
                label { span { (t("プレビューするカテゴリー（CPC接頭辞、空欄ならすべて）", "Categories previewed (CPC prefix; empty: all)")) } input type="text" name="category" value=(category); }
            }
            div.tablewrap {
                table.data.editor {
                    thead { tr {
                        th { (t("指標", "Indicator")) }
                        th { (t("グループ", "Group")) }
                        th { (t("重み（点）", "Weight (points)")) }
                        (rule_heads(lang))
                    } }
                    tbody {
                        @for r in &form.rows {
                            @let k = r.key.as_str();
                            tr {
                                td { (sheet::label(r.key, lang)) br; code { (k) } }
                                td { (sheet::group_label(&r.group, lang)) }
                                td { input type="text" inputmode="decimal" size="8" name=(format!("w.{k}")) value=(r.weight); }
                                (rule_cells([format!("kind.{k}"), format!("a.{k}"), format!("b.{k}")], kinds_for(r.key), [&r.kind, &r.a, &r.b], lang))
                            }
                        }
                    }
                }
            }
            h2 { (t("カテゴリー別のルール（CPC接頭辞、最長一致）", "Rules by category (CPC prefix, longest match wins)")) }
            div.tablewrap {
                table.data.editor {
                    thead { tr {
                        th { (t("CPC接頭辞", "CPC prefix")) }
                        th { (t("指標", "Indicator")) }
                        (rule_heads(lang))
                    } }
                    tbody {
                        @for (i, o) in overrides.iter().enumerate() {
                            tr {
                                td { input type="text" inputmode="numeric" size="8" name=(format!("o{i}.prefix")) value=(o.prefix); }
                                td { select name=(format!("o{i}.key")) {
                                    option value="" { "—" }
                                    @for key in &weighed {
                                        option value=(key.as_str()) selected[key.as_str() == o.key] { (sheet::label(*key, lang)) }
                                    }
                                } }
                                (rule_cells([format!("o{i}.kind"), format!("o{i}.a"), format!("o{i}.b")], &KINDS, [&o.kind, &o.a, &o.b], lang))
                            }
                        }
                    }
                }
            }
            p.buttons {
                button type="submit" name="action" value="preview" { (t("プレビュー", "Preview")) }
                " "
                button type="submit" name="action" value="toml" { (t("TOMLをダウンロード", "Download TOML")) }
            }
        }
    }
}

/// The preview: what the edited profile changes, product by product, and its sheet.
fn preview_markup(
    state: &AppState,
    inputs: &score::Inputs,
    now: &score::Scores,
    edited: &Profile,
    form: &Form,
    lang: Lang,
) -> Markup {
    let t = |ja, en| lang.pick(ja, en);
    let then = score::score(edited, inputs);
    let (rank_now, rank_then) = (ranks(&now.gx_micros), ranks(&then.gx_micros));
    let n = now.gx_micros.len();
    let changed = (0..n)
        .filter(|&p| now.gx_micros[p] != then.gx_micros[p])
        .count();
    let moved = (0..n).filter(|&p| rank_now[p] != rank_then[p]).count();
    let mut order: Vec<usize> = (0..n).collect();
    let change = |p: usize| {
        let rank = (rank_now[p] as i64 - rank_then[p] as i64).unsigned_abs();
        let score = (now.gx_micros[p] - then.gx_micros[p]).unsigned_abs();
        (rank, score)
    };
    order.sort_by(|a, b| {
        change(*b)
            .cmp(&change(*a))
            .then(rank_then[*a].cmp(&rank_then[*b]))
    });
    let shown = |micros: i64| crate::output::significant(micros as f64 / 1e6);
    let signed = |d: i64, scale: f64| {
        if d == 0 {
            "0".to_owned()
        } else {
            format!(
                "{}{}",
                if d > 0 { "+" } else { "−" },
                crate::output::significant(d.unsigned_abs() as f64 / scale)
            )
        }
    };
    let sheet_page = (n <= SHEET_PRODUCTS)
        .then(|| sheet::Sheet::new(&then, inputs, lang).render(sheet::SheetFormat::Html));
    let can_save = state.0.data_dir.is_some();
    html! {
        section.panel.preview {
            h2 { (t("プレビュー", "Preview")) ": " (edited.name) }
            p {
                @match lang {
                    Lang::Ja => { "製品 " (n) " 件のうち、評点が変わる製品 " (changed) " 件、順位が変わる製品 " (moved) " 件。" }
                    Lang::En => { (n) " products: " (changed) " change score, " (moved) " change rank." }
                }
            }
            div.tablewrap {
                table.data {
                    thead { tr {
                        th { (t("製品名", "product")) }
                        th { (t("企業名", "company")) }
                        th { "CPC" }
                        th { (t("現在の評点", "score now")) }
                        th { (t("編集後の評点", "edited score")) }
                        th { (t("評点の差", "score change")) }
                        th { (t("現在の順位", "rank now")) }
                        th { (t("編集後の順位", "edited rank")) }
                        th { (t("順位の差", "rank change")) }
                    } }
                    tbody {
                        @for &p in order.iter().take(CHANGE_ROWS) {
                            tr {
                                td { (inputs.product_name[p]) }
                                td { (inputs.company_name[p]) }
                                td { (inputs.cpc.get(p).unwrap_or_default()) }
                                td.num { (shown(now.gx_micros[p])) }
                                td.num { (shown(then.gx_micros[p])) }
                                td.num { (signed(then.gx_micros[p] - now.gx_micros[p], 1e6)) }
                                td.num { (rank_now[p]) }
                                td.num { (rank_then[p]) }
                                td.num { (signed(rank_now[p] as i64 - rank_then[p] as i64, 1.0)) }
                            }
                        }
                    }
                }
            }
            @if n > CHANGE_ROWS {
                p.note { (t("変化の大きい順に先頭の行を表示しています。", "The largest changes first; the first rows shown.")) " " (CHANGE_ROWS) " / " (n) }
            }
            @match sheet_page {
                Some(page) => {
                    h2 { (t("編集後の要件シート", "The sheet with the edited profile")) }
                    iframe.sheet srcdoc=(page) title=(t("要件シート", "Requirement sheet")) {}
                }
                None => p.note { (t("要件シートのプレビューは製品 200 件までです。カテゴリーで絞り込んでください。", "The sheet is previewed for at most 200 products: narrow the categories.")) }
            }
            @if can_save {
                form.save method="post" action="/dashboards/profile" {
                    @for (k, v) in form.fields() { input type="hidden" name=(k) value=(v); }
                    input type="hidden" name="lang" value=(lang.code());
                    label { span { (t("保存名（英数字と - _ .）", "Save as (letters, digits, - _ .)")) } input type="text" name="save_as" value=(save_name(&edited.name)) required; }
                    " "
                    button type="submit" { (t("データディレクトリに保存（管理者）", "Save in the data directory (admin)")) }
                }
            }
        }
    }
}

/// A file name for `name`: its letters, digits and `- _ .`, the rest as `-`.
fn save_name(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let s = s
        .trim_start_matches('.')
        .chars()
        .take(64)
        .collect::<String>();
    if crate::store::is_profile_name(&s) {
        s
    } else {
        "profile".into()
    }
}

fn page(state: &AppState, lang: Lang, given: &HashMap<String, String>, body: Markup) -> String {
    let here = Here {
        path: "/dashboards/profile",
        given,
    };
    layout(
        state,
        lang,
        &here,
        lang.pick("プロファイル編集", "Profile editor"),
        body,
    )
    .into_string()
}

/// `GET /dashboards/profile`: the editor; with `action=preview` the preview, with
/// `action=toml` the profile as a file.
pub(crate) async fn editor(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Query(given): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    require_reader(&state, &principal)?;
    let page_lang = PageLang::of(&given, &headers)?;
    let lang = page_lang.lang;
    let t = |ja, en| lang.pick(ja, en);
    let active = &state.0.profile;
    let form = Form::sent(&given, active);
    let action = given.get("action").map(String::as_str).unwrap_or_default();
    if !["", "preview", "toml"].contains(&action) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("action={action:?}: preview or toml"),
        ));
    }
    let category = given.get("category").cloned().unwrap_or_default();
    let edited = (!action.is_empty()).then(|| form.profile(lang));
    if let (Some(Ok(p)), "toml") = (&edited, action) {
        let file = format!("attachment; filename=\"{}.toml\"", save_name(&p.name));
        let response = (
            [
                (
                    header::CONTENT_TYPE,
                    "application/toml; charset=utf-8".to_owned(),
                ),
                (header::CONTENT_DISPOSITION, file),
            ],
            p.to_toml(),
        );
        return Ok(page_lang.finish(response.into_response()));
    }
    let preview = match &edited {
        Some(Ok(p)) => {
            let session = state.session(&principal).await?;
            let (inputs, now) = crate::report::score::scored(&session, Some(&category))?;
            Some(preview_markup(&state, &inputs, &now, p, &form, lang))
        }
        _ => None,
    };
    let errors = match &edited {
        Some(Err(e)) => e.clone(),
        _ => Vec::new(),
    };
    let body = html! {
        h1 { (t("プロファイル編集", "Profile editor")) }
        p.lead {
            (t(
                "評価プロファイル（指標の重み、ルール、カテゴリー別のしきい値）を編集し、要件シートと各製品の評点・順位がどう変わるかを現在のプロファイルと並べて確かめます。TOMLでダウンロードすれば mieruka score --profile で使えます。",
                "Edit the scoring profile (weights, rules, thresholds by category) and see the sheet it gives and how every product's score and rank change beside the active profile. Download it as TOML for mieruka score --profile.",
            ))
            " " (t("現在のプロファイル", "Active profile")) ": " code { (active.name) }
        }
        @if let Some(saved) = given.get("saved").filter(|s| crate::store::is_profile_name(s)) {
            p.saved {
                (t("保存しました", "Saved as")) ": " code { (saved) } " — "
                code { "mieruka score --data DIR --profile " (saved) }
            }
        }
        @if !errors.is_empty() {
            section.panel.invalid {
                h2 { (t("このプロファイルは使えません", "This profile cannot be used")) }
                ul { @for e in &errors { li { (e) } } }
            }
        }
        (form_markup(&form, active, &category, lang))
        @if let Some(p) = preview { (p) }
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let html = page(&state, lang, &given, body);
    Ok(page_lang.finish((status, Html(html)).into_response()))
}

/// `POST /dashboards/profile` (admin): saves the form's profile in the data directory as
/// `save_as`, then back to the editor.
pub(crate) async fn save(
    State(state): State<AppState>,
    principal: Principal,
    BodyForm(sent): BodyForm<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    principal.require(&[Role::Admin], "saving a profile")?;
    let lang = sent
        .get("lang")
        .and_then(|c| Lang::parse(c))
        .unwrap_or(Lang::En);
    let Some(dir) = &state.0.data_dir else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "this server shows the bundled demo (read-only): start it with --data DIR to save profiles",
        ));
    };
    let name = sent.get("save_as").map(|s| s.trim()).unwrap_or_default();
    if !crate::store::is_profile_name(name) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "save_as {name:?}: 1 to 64 letters, digits, '-', '_' or '.', not starting with '.'"
            ),
        ));
    }
    let profile = Form::sent(&sent, &state.0.profile)
        .profile(lang)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.join("; ")))?;
    let store = crate::Store::open(dir)?;
    store.save_profile(name, &profile.to_toml())?;
    tracing::info!(name, "profile saved");
    let back = query_string([
        ("saved".to_owned(), name.to_owned()),
        ("lang".to_owned(), lang.code().to_owned()),
    ]);
    Ok(Redirect::to(&format!("/dashboards/profile?{back}")).into_response())
}
