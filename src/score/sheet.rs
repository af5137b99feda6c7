//! GX product requirement sheets (要件シート) after the consortium's 表3-2-1: a group header
//! row, a weight row (重み付け / Weight), one row per product with ○ / × / – (and △ with the
//! credit where a linear rule gives part of it), the GX score, and footnotes defining every
//! indicator. HTML (printable, self-contained), CSV (for Excel), JSON and Markdown, in Japanese
//! or English.

use maud::{DOCTYPE, Markup, PreEscaped, html};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::{Credit, Inputs, Key, SCORE_PLACES, Scores, Status};
use crate::escape;

mod xlsx;

pub use crate::lang::Lang;

/// Output format of a sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SheetFormat {
    /// A printable HTML page with no external assets.
    Html,
    /// CSV laid out like the sheet, UTF-8 with a byte-order mark so Excel reads Japanese.
    Csv,
    /// JSON.
    Json,
    /// Markdown.
    Markdown,
}

/// Label of a column group.
pub fn group_label(group: &str, lang: Lang) -> String {
    let (ja, en) = match group {
        "national" => ("国視点の重要性", "National viewpoint"),
        "disclosure" => (
            "環境宣言・情報開示・認証",
            "Declaration, disclosure, certification",
        ),
        "decarbonization" => ("減炭素指標", "Decarbonization"),
        "circulation" => ("資源循環", "Resource circulation"),
        "additionality" => ("追加性", "Additionality"),
        "quality" => ("データ品質", "Data quality"),
        other => return other.to_owned(),
    };
    lang.pick(ja, en).to_owned()
}

/// Label of an indicator.
pub fn label(key: Key, lang: Lang) -> &'static str {
    match key {
        Key::NationalTargetContribution => lang.pick(
            "中長期目標への貢献度合",
            "Contribution to mid/long-term targets",
        ),
        Key::SupportMeasures => lang.pick("支援措置", "Support measures"),
        Key::GxDeclaration => lang.pick("GX宣言", "GX declaration"),
        Key::ProgressDisclosed => lang.pick("進捗", "Progress disclosed"),
        Key::PubliclyDisclosed => lang.pick("公開", "Public disclosure"),
        Key::Certified => lang.pick("認証", "Certification"),
        Key::Cfp => "CFP",
        Key::Rep => "REP",
        Key::Aep => "AEP",
        Key::CircularOutflow => lang.pick("サーキュラーアウトフロー率", "Circular outflow rate"),
        Key::CircularInflow => lang.pick("サーキュラーインフロー率", "Circular inflow rate"),
        Key::Additionality => lang.pick("追加性", "Additionality"),
        Key::PrimaryDataShare => lang.pick("一次データ比率", "Primary data share"),
    }
}

/// What an indicator means, for the footnotes.
pub fn definition(key: Key, lang: Lang) -> &'static str {
    match key {
        Key::NationalTargetContribution => lang.pick(
            "製品が国の中長期目標（2030年度46%削減・2050年カーボンニュートラル）の達成に貢献すること。",
            "The product contributes to the national mid- and long-term targets (46 % by FY2030, carbon neutrality by 2050).",
        ),
        Key::SupportMeasures => lang.pick(
            "製品またはその製造に国等の支援措置（補助金・税制等）が適用されていること。",
            "The product or its production is backed by public support measures (subsidies, tax schemes, …).",
        ),
        Key::GxDeclaration => lang.pick(
            "企業がGX（グリーントランスフォーメーション）の取組を宣言していること。",
            "The company has declared its green transformation (GX) commitments.",
        ),
        Key::ProgressDisclosed => lang.pick(
            "削減目標に対する進捗を開示していること。",
            "Progress against the reduction targets is disclosed.",
        ),
        Key::PubliclyDisclosed => lang.pick(
            "製品の環境情報を公開していること。",
            "The product's environmental information is publicly disclosed.",
        ),
        Key::Certified => lang.pick(
            "第三者による認証・検証を受けていること（PACTのassurance / verificationを含む）。",
            "Third-party certification or verification (including PACT assurance / verification).",
        ),
        Key::Cfp => lang.pick(
            "カーボンフットプリント：宣言単位あたりのCradle-to-Gate排出量（kgCO2e）。",
            "Carbon footprint: cradle-to-gate emissions per declared unit (kgCO2e).",
        ),
        Key::Rep => lang.pick(
            "削減実績量（Reduced Emissions of Product）：同じ製品の前バージョン、なければ前の基準期間に対する削減率（%）。",
            "Reduced emissions of product: the reduction against the same product's preceding version, else its previous reference period (percent).",
        ),
        Key::Aep => lang.pick(
            "削減貢献量（Avoided Emissions of Product）：比較対象製品に対して回避される排出量（宣言単位あたりkgCO2e）。",
            "Avoided emissions of product against a reference product (kgCO2e per declared unit).",
        ),
        Key::CircularOutflow => lang.pick(
            "製品がどれだけ再利用やリサイクルされたかを表す指標（%）。",
            "How much of the product is reused or recycled after use (percent).",
        ),
        Key::CircularInflow => lang.pick(
            "製品にどれだけ再利用やリサイクルされた部材・部品（または再生可能資源）が使われているかを表す指標（%、WBCSD CTI）。",
            "How much of the product's input is reused, recycled or renewable (percent, as in WBCSD CTI).",
        ),
        Key::Additionality => lang.pick(
            "削減が、その取組がなければ生じなかったものであること。",
            "The reductions would not have happened without the measure.",
        ),
        Key::PrimaryDataShare => lang.pick(
            "CFP算定に用いた一次データの比率（%）。",
            "Share of primary data in the footprint calculation (percent).",
        ),
    }
}

fn text(d: Decimal) -> String {
    d.normalize().to_string()
}

/// A GX score as the sheet shows it: one decimal place (JSON keeps the exact value).
fn shown(d: Decimal) -> String {
    text(d.round_dp(1))
}

/// The mark of one cell: ○, ×, – or △ with the credit.
pub fn mark(credit: Option<&Credit>) -> String {
    match (Status::of(credit), credit) {
        (Status::Partial, Some(c)) => format!("△ {}", text(c.rounded(2))),
        (Status::Pass, _) => "○".into(),
        (Status::Fail, _) => "×".into(),
        _ => "–".into(),
    }
}

struct Labels {
    title: &'static str,
    product: &'static str,
    company: &'static str,
    weight: &'static str,
    score: &'static str,
    max: &'static str,
    legend: &'static str,
    caveat: &'static str,
    profile: &'static str,
    notes: &'static str,
}

fn labels(lang: Lang) -> Labels {
    match lang {
        Lang::Ja => Labels {
            title: "GX製品 要件シート",
            product: "具体製品",
            company: "企業",
            weight: "重み付け",
            score: "GX評点",
            max: "100 pt max.",
            legend: "○ 要件を満たす　△ 一部を満たす（数値は得点率）　× 満たさない　– データなし（0点、欠測として数える）",
            caveat: "評点は製品自身の経年比較のための指標です。異なる企業の製品の比較は利用者の責任で行ってください。",
            profile: "評価プロファイル",
            notes: "注記",
        },
        Lang::En => Labels {
            title: "GX product requirement sheet",
            product: "Product",
            company: "Company",
            weight: "Weight",
            score: "GX score",
            max: "100 pt max.",
            legend: "○ meets the requirement · △ partly (the share of the points) · × does not · – no data (0 points, counted as missing)",
            caveat: "The score is built to compare a product with itself over time; comparing different companies' products is the user's responsibility.",
            profile: "Scoring profile",
            notes: "Notes",
        },
    }
}

/// A rendered sheet.
pub struct Sheet<'a> {
    scores: &'a Scores,
    inputs: &'a Inputs,
    lang: Lang,
    /// Products in display order: GX score descending, then product id.
    order: Vec<usize>,
}

impl<'a> Sheet<'a> {
    /// A sheet of `scores` for `inputs`.
    pub fn new(scores: &'a Scores, inputs: &'a Inputs, lang: Lang) -> Sheet<'a> {
        let mut order: Vec<usize> = (0..inputs.len()).collect();
        order.sort_by(|&a, &b| {
            scores.gx_micros[b]
                .cmp(&scores.gx_micros[a])
                .then(inputs.product_id[a].cmp(&inputs.product_id[b]))
        });
        Sheet {
            scores,
            inputs,
            lang,
            order,
        }
    }

    /// Consecutive indicator groups: (group, number of columns).
    fn groups(&self) -> Vec<(String, usize)> {
        let mut out: Vec<(String, usize)> = Vec::new();
        for i in &self.scores.profile.indicators {
            match out.last_mut() {
                Some((g, n)) if *g == i.group => *n += 1,
                _ => out.push((i.group.clone(), 1)),
            }
        }
        out
    }

    /// Renders in `format`.
    pub fn render(&self, format: SheetFormat) -> String {
        match format {
            SheetFormat::Html => self.html_page(),
            SheetFormat::Csv => self.csv(),
            SheetFormat::Json => {
                let mut s = serde_json::to_string_pretty(&self.json()).unwrap_or_default();
                s.push('\n');
                s
            }
            SheetFormat::Markdown => self.markdown(),
        }
    }

    fn rule_note(&self) -> Vec<String> {
        let profile = &self.scores.profile;
        let mut notes: Vec<String> = profile
            .indicators
            .iter()
            .enumerate()
            .map(|(n, i)| {
                format!(
                    "*{} {}: {} [{} {}]",
                    n + 1,
                    label(i.key, self.lang),
                    definition(i.key, self.lang),
                    self.lang.pick("要件", "requirement"),
                    i.rule.describe()
                )
            })
            .collect();
        for (prefix, rules) in &profile.categories {
            let list: Vec<String> = rules
                .iter()
                .map(|(k, r)| format!("{} {}", label(*k, self.lang), r.describe()))
                .collect();
            notes.push(format!(
                "{} CPC {prefix}: {}",
                self.lang.pick("カテゴリ別要件", "Category requirement"),
                list.join(", ")
            ));
        }
        notes
    }

    /// JSON: the columns, the products with their marks, and the notes.
    pub fn json(&self) -> Value {
        let l = labels(self.lang);
        let profile = &self.scores.profile;
        let indicators: Vec<Value> = profile
            .indicators
            .iter()
            .map(|i| {
                json!({
                    "key": i.key.as_str(),
                    "label": label(i.key, self.lang),
                    "group": i.group,
                    "group_label": group_label(&i.group, self.lang),
                    "weight": text(i.weight),
                    "rule": i.rule.describe(),
                    "definition": definition(i.key, self.lang),
                })
            })
            .collect();
        let products: Vec<Value> = self
            .order
            .iter()
            .map(|&p| {
                let marks: Vec<Value> = profile
                    .indicators
                    .iter()
                    .enumerate()
                    .map(|(i, ind)| {
                        let c = self.scores.credit(self.inputs, i, p);
                        json!({
                            "key": ind.key.as_str(),
                            "mark": mark(c.as_ref()),
                            "status": Status::of(c.as_ref()).as_str(),
                            "credit": c.map(|c| text(c.rounded(SCORE_PLACES))),
                            "points": text(self.scores.points(self.inputs, i, p)),
                            "value": self.inputs.values(ind.key).text(p),
                        })
                    })
                    .collect();
                json!({
                    "product_id": self.inputs.product_id[p],
                    "footprint_id": self.inputs.footprint_id[p],
                    "product_name": self.inputs.product_name[p],
                    "company_name": self.inputs.company_name[p],
                    "cpc": self.inputs.cpc.get(p),
                    "marks": marks,
                    "gx_score": text(self.scores.gx_score(p)),
                    "missing": self.scores.missing[p],
                })
            })
            .collect();
        json!({
            "title": l.title,
            "lang": self.lang.code(),
            "profile": profile.name,
            "indicators": indicators,
            "products": products,
            "legend": l.legend,
            "caveat": l.caveat,
            "notes": self.rule_note(),
        })
    }

    fn csv(&self) -> String {
        let l = labels(self.lang);
        let profile = &self.scores.profile;
        let field = escape::csv;
        let mut lines: Vec<Vec<String>> = Vec::new();
        let mut groups = vec![String::new(), String::new()];
        for i in &profile.indicators {
            groups.push(group_label(&i.group, self.lang));
        }
        groups.push(String::new());
        lines.push(groups);
        let mut head = vec![l.product.to_owned(), l.company.to_owned()];
        head.extend(
            profile
                .indicators
                .iter()
                .map(|i| label(i.key, self.lang).to_owned()),
        );
        head.push(l.score.to_owned());
        lines.push(head);
        let mut weights = vec![l.weight.to_owned(), String::new()];
        weights.extend(
            profile
                .indicators
                .iter()
                .map(|i| format!("{} pt", text(i.weight))),
        );
        weights.push(l.max.to_owned());
        lines.push(weights);
        for &p in &self.order {
            let mut row = vec![
                self.inputs.product_name[p].clone(),
                self.inputs.company_name[p].clone(),
            ];
            row.extend(
                (0..profile.indicators.len())
                    .map(|i| mark(self.scores.credit(self.inputs, i, p).as_ref())),
            );
            row.push(shown(self.scores.gx_score(p)));
            lines.push(row);
        }
        let mut out = String::from("\u{feff}");
        for line in lines {
            out.push_str(&line.iter().map(|s| field(s)).collect::<Vec<_>>().join(","));
            out.push_str("\r\n");
        }
        out.push_str("\r\n");
        for note in std::iter::once(l.legend.to_owned())
            .chain(self.rule_note())
            .chain(std::iter::once(l.caveat.to_owned()))
        {
            out.push_str(&field(&note));
            out.push_str("\r\n");
        }
        out
    }

    fn markdown(&self) -> String {
        let l = labels(self.lang);
        let profile = &self.scores.profile;
        let cell = escape::markdown_cell;
        let mut s = format!("# {}\n\n{}: `{}`\n\n", l.title, l.profile, profile.name);
        let mut head = vec![l.product.to_owned(), l.company.to_owned()];
        head.extend(profile.indicators.iter().map(|i| {
            format!(
                "{} / {}",
                group_label(&i.group, self.lang),
                label(i.key, self.lang)
            )
        }));
        head.push(l.score.to_owned());
        s.push_str(&format!(
            "| {} |\n",
            head.iter().map(|h| cell(h)).collect::<Vec<_>>().join(" | ")
        ));
        s.push_str(&format!(
            "|---|---|{}---:|\n",
            ":---:|".repeat(profile.indicators.len())
        ));
        let mut weights = vec![format!("**{}**", l.weight), String::new()];
        weights.extend(
            profile
                .indicators
                .iter()
                .map(|i| format!("{} pt", text(i.weight))),
        );
        weights.push(l.max.to_owned());
        s.push_str(&format!("| {} |\n", weights.join(" | ")));
        for &p in &self.order {
            let mut row = vec![
                cell(&self.inputs.product_name[p]),
                cell(&self.inputs.company_name[p]),
            ];
            row.extend(
                (0..profile.indicators.len())
                    .map(|i| mark(self.scores.credit(self.inputs, i, p).as_ref())),
            );
            row.push(format!("**{}**", shown(self.scores.gx_score(p))));
            s.push_str(&format!("| {} |\n", row.join(" | ")));
        }
        s.push_str(&format!("\n{}\n\n## {}\n\n", l.legend, l.notes));
        for note in self.rule_note() {
            s.push_str(&format!("- {}\n", cell(&note)));
        }
        s.push_str(&format!("\n{}\n", l.caveat));
        s
    }

    /// The HTML page with the glyphs it uses embedded (a subset of the bundled font, base64
    /// in an `@font-face`), so its Japanese shows and prints the same on every machine.
    fn html_page(&self) -> String {
        let page = self.html().into_string();
        let face = match crate::font::subset(crate::font::MPLUS1, page.chars()) {
            Ok(font) => {
                use base64::Engine;
                format!(
                    "@font-face {{ font-family: '{SHEET_FONT}'; src: url(data:font/otf;base64,{}) format('opentype'); font-display: block; }}",
                    base64::engine::general_purpose::STANDARD.encode(font)
                )
            }
            // The bundled font is tested; should it fail, the page still reads with the
            // reader's own fonts.
            Err(e) => {
                tracing::warn!("the sheet goes without its font: {e}");
                String::new()
            }
        };
        page.replacen(FONT_SLOT, &face, 1)
    }

    fn html(&self) -> Markup {
        let l = labels(self.lang);
        let profile = &self.scores.profile;
        let style = PreEscaped(STYLE);
        html! {
            (DOCTYPE)
            html lang=(self.lang.code()) {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (l.title) " — " (profile.name) }
                    style { (style) }
                }
                body {
                    h1 { (l.title) }
                    p.meta { (l.profile) ": " code { (profile.name) } }
                    table.sheet {
                        thead {
                            tr {
                                th rowspan="2" { (l.product) }
                                th rowspan="2" { (l.company) }
                                @for (g, n) in self.groups() {
                                    th.group colspan=(n) { (group_label(&g, self.lang)) }
                                }
                                th rowspan="2" { (l.score) }
                            }
                            tr {
                                @for (n, i) in profile.indicators.iter().enumerate() {
                                    th { (label(i.key, self.lang)) sup { "*" (n + 1) } }
                                }
                            }
                            tr.weights {
                                th colspan="2" { (l.weight) }
                                @for i in &profile.indicators {
                                    td { (text(i.weight)) " pt" }
                                }
                                td { (l.max) }
                            }
                        }
                        tbody {
                            @for &p in &self.order {
                                tr {
                                    th.product { (self.inputs.product_name[p]) }
                                    td.company { (self.inputs.company_name[p]) }
                                    @for (i, _) in profile.indicators.iter().enumerate() {
                                        @let c = self.scores.credit(self.inputs, i, p);
                                        td class=(Status::of(c.as_ref()).as_str()) title=(self.inputs.values(profile.indicators[i].key).text(p).unwrap_or_default()) { (mark(c.as_ref())) }
                                    }
                                    td.score { (shown(self.scores.gx_score(p))) }
                                }
                            }
                        }
                    }
                    p.legend { (l.legend) }
                    h2 { (l.notes) }
                    ol.notes {
                        @for note in self.rule_note() {
                            li { (note) }
                        }
                    }
                    p.caveat { (l.caveat) }
                }
            }
        }
    }
}

/// The family of the font subset a sheet embeds, and where its `@font-face` goes.
const SHEET_FONT: &str = "mieruka sheet";
const FONT_SLOT: &str = "/* font */";

const STYLE: &str = "/* font */
body { font-family: 'mieruka sheet', 'Noto Sans JP', 'Hiragino Sans', 'Yu Gothic', sans-serif; margin: 2rem; color: #1a1a1a; }
h1 { font-size: 1.4rem; margin: 0 0 .25rem; }
h2 { font-size: 1rem; margin-top: 1.5rem; }
p.meta { color: #555; margin: 0 0 1rem; }
table.sheet { border-collapse: collapse; font-size: .85rem; }
table.sheet th, table.sheet td { border: 1px solid #888; padding: .3rem .45rem; text-align: center; }
table.sheet thead th { background: #eef3ee; font-weight: 600; }
table.sheet th.group { background: #d9e8d9; }
table.sheet tr.weights td, table.sheet tr.weights th { background: #f7f7f0; }
table.sheet th.product, table.sheet td.company { text-align: left; font-weight: normal; background: none; }
td.pass { color: #1b6e1b; } td.fail { color: #a01919; } td.missing { color: #888; } td.partial { color: #8a6d00; }
td.score { font-weight: 700; }
p.legend, p.caveat, ol.notes { font-size: .8rem; color: #333; }
@page { size: A4 landscape; margin: 1cm; }
@media print {
  body { margin: 0; }
  table.sheet { font-size: 9pt; }
  table.sheet thead { display: table-header-group; }
  table.sheet tr { break-inside: avoid; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
";
