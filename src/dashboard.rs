//! Dashboards: `dashboards/*.toml` files binding catalog queries to charts and tables, with
//! parameters. A dashboard's id is its path without `.toml`, which is also its URL
//! (`/dashboards/<id>`). No SQL lives in a dashboard; [`Dashboards::check`] verifies every
//! query id, parameter binding and plotted column against the catalog and a dataset.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use datafusion::arrow::array::{Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use serde::Deserialize;

use crate::chart::{ChartKind, ChartSpec};
use crate::lang::{Lang, Text};
use crate::query::{Catalog, Output, Session};
use crate::{Error, Result};

/// The dashboards compiled into the binary: `(id, TOML)`.
pub fn embedded() -> &'static [(&'static str, &'static str)] {
    crate::dataset::embedded::DASHBOARDS
}

/// What a dashboard parameter's form field offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamKind {
    /// A product picker (the dataset's products).
    Product,
    /// A UN CPC category picker (the dataset's categories).
    Category,
    /// A company picker (the dataset's companies).
    Company,
    /// Free text.
    Text,
    /// A whole number.
    Int,
    /// A number.
    Float,
    /// A date, YYYY-MM-DD.
    Date,
    /// One of `options`.
    Select,
}

/// A dashboard parameter.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Param {
    /// Name, used as `$name` in panel bindings and as the URL query parameter.
    pub name: String,
    /// Form label.
    pub label: Text,
    /// Form field kind.
    pub kind: ParamKind,
    /// Default value (empty when absent).
    #[serde(default)]
    pub default: String,
    /// Choices for `select`.
    #[serde(default)]
    pub options: Vec<String>,
}

/// A panel: a query, shown as a chart or a table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Panel {
    /// Title.
    pub title: Text,
    /// Query id.
    pub query: String,
    /// Chart kind, or `table`.
    pub chart: String,
    /// Category / x column (charts).
    #[serde(default)]
    pub x: String,
    /// Value columns (charts).
    #[serde(default)]
    pub y: Vec<String>,
    /// Secondary value column (Pareto).
    #[serde(default)]
    pub y2: Option<String>,
    /// Grouping column (treemap, trend).
    #[serde(default)]
    pub group: Option<String>,
    /// Interval columns, low and high (Pareto, stacked bars): a whisker per bar.
    #[serde(default)]
    pub interval: Vec<String>,
    /// Legend labels of `y`.
    #[serde(default)]
    pub series: Vec<Text>,
    /// Axis labels, with units.
    #[serde(default)]
    pub x_label: Text,
    /// Axis labels, with units.
    #[serde(default)]
    pub y_label: Text,
    /// Columns shown by a table panel (default: all).
    #[serde(default)]
    pub columns: Vec<String>,
    /// Query parameter → value; `$name` takes the dashboard parameter `name`.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// Panel width in the page: `full` or `half`.
    #[serde(default = "full")]
    pub width: String,
    /// Samples of how sure each place of an intensity ranking is (`ranking/suppliers` with
    /// `by = "intensity"` only): adds `ahead_of_next_pct` to its rows.
    #[serde(default)]
    pub how_sure: Option<usize>,
}

fn full() -> String {
    "full".into()
}

/// A dashboard.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dashboard {
    /// Id: the path under `dashboards/` without `.toml`.
    #[serde(skip)]
    pub id: String,
    /// Title.
    pub title: Text,
    /// What it answers.
    pub description: Text,
    /// Order on the index page.
    #[serde(default)]
    pub order: i32,
    /// Parameters.
    #[serde(default, rename = "param")]
    pub params: Vec<Param>,
    /// Panels.
    #[serde(default, rename = "panel")]
    pub panels: Vec<Panel>,
}

impl Panel {
    /// The chart this panel draws in `lang`, or `None` for a table.
    pub fn chart_spec(&self, lang: Lang) -> Option<ChartSpec> {
        let kind = ChartKind::parse(&self.chart)?;
        Some(ChartSpec {
            kind,
            lang,
            title: self.title.get(lang).to_owned(),
            x: self.x.clone(),
            y: self.y.clone(),
            y2: self.y2.clone(),
            group: self.group.clone(),
            interval: match &self.interval[..] {
                [low, high] => Some((low.clone(), high.clone())),
                _ => None,
            },
            x_label: self.x_label.get(lang).to_owned(),
            y_label: self.y_label.get(lang).to_owned(),
            series: self.series.iter().map(|s| s.get(lang).to_owned()).collect(),
            size: if self.width == "half" {
                (620, 420)
            } else {
                (1200, 460)
            },
        })
    }
}

/// The results a page's panels got, by what they asked (see [`Dashboard::run_once`]); a
/// result's batches are shared, not copied.
#[derive(Debug, Default)]
pub struct Runs(HashMap<Asked, Output>);

/// What a panel asks: its query, the query's arguments and how sure.
type Asked = (String, Vec<(String, String)>, Option<usize>);

impl Dashboard {
    /// Every piece of text a person reads on the dashboard, with where it is (optional axis
    /// labels only when given).
    pub fn texts(&self) -> Vec<(String, &Text)> {
        let mut v = vec![
            ("title".to_owned(), &self.title),
            ("description".to_owned(), &self.description),
        ];
        for p in &self.params {
            v.push((format!("param {}: label", p.name), &p.label));
        }
        for (i, panel) in self.panels.iter().enumerate() {
            v.push((format!("panel {i}: title"), &panel.title));
            for (what, t) in [("x_label", &panel.x_label), ("y_label", &panel.y_label)] {
                if !t.is_empty() {
                    v.push((format!("panel {i}: {what}"), t));
                }
            }
            for (s, t) in panel.series.iter().enumerate() {
                v.push((format!("panel {i}: series {s}"), t));
            }
        }
        v
    }

    /// The values of the dashboard's parameters: `given` where present, else the defaults.
    pub fn values(&self, given: &HashMap<String, String>) -> BTreeMap<String, String> {
        self.params
            .iter()
            .map(|p| {
                let v = given
                    .get(&p.name)
                    .filter(|v| !v.trim().is_empty() || p.default.is_empty())
                    .cloned()
                    .unwrap_or_else(|| p.default.clone());
                (p.name.clone(), v)
            })
            .collect()
    }

    /// Runs `panel`'s query for dashboard parameter `values`, with how sure its places are
    /// when the panel asks (seed 1: a page shows the same numbers each time).
    pub async fn run(
        &self,
        session: &Session,
        catalog: &Catalog,
        panel: &Panel,
        values: &BTreeMap<String, String>,
    ) -> Result<Output> {
        let out = session
            .run(catalog.get(&panel.query)?, &self.panel_args(panel, values))
            .await?;
        match panel.how_sure {
            None => Ok(out),
            Some(samples) => crate::report::score::ahead_of_next(
                session,
                out,
                &crate::hotspot::Spreads::default(),
                samples,
                1,
            ),
        }
    }

    /// [`Dashboard::run`], once per page for panels that ask the same: the ranking page's
    /// five panels run two questions.
    pub async fn run_once(
        &self,
        runs: &mut Runs,
        session: &Session,
        catalog: &Catalog,
        panel: &Panel,
        values: &BTreeMap<String, String>,
    ) -> Result<Output> {
        let key = (
            panel.query.clone(),
            self.panel_args(panel, values),
            panel.how_sure,
        );
        if let Some(out) = runs.0.get(&key) {
            return Ok(out.clone());
        }
        let out = self.run(session, catalog, panel, values).await?;
        runs.0.insert(key, out.clone());
        Ok(out)
    }

    /// The query arguments of `panel` for dashboard parameter `values`.
    pub fn panel_args(
        &self,
        panel: &Panel,
        values: &BTreeMap<String, String>,
    ) -> Vec<(String, String)> {
        panel
            .params
            .iter()
            .map(|(k, v)| {
                let value = match v.strip_prefix('$') {
                    Some(name) => values.get(name).cloned().unwrap_or_default(),
                    None => v.clone(),
                };
                (k.clone(), value)
            })
            .collect()
    }
}

/// The query the index page shows as "the dataset" (its columns need headings too).
pub const INDEX_QUERY: &str = "footprints/summary";

/// The glossary, `dashboards/words.toml`: the Japanese headings of the columns tables show
/// and the Japanese names of the codes some columns hold. English shows a column as the CSV
/// and the API name it (with its unit: [`crate::output::heading`]) and a code as it is.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Words {
    /// Column name → Japanese heading, unit included.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    /// Column name → (code → Japanese).
    #[serde(default)]
    pub values: BTreeMap<String, BTreeMap<String, String>>,
}

impl Words {
    /// The id of the glossary among the dashboard files.
    pub const ID: &'static str = "words";

    /// The heading of column `name` in `lang`.
    pub fn heading(&self, name: &str, lang: Lang) -> String {
        match (lang, self.columns.get(name)) {
            (Lang::Ja, Some(ja)) => ja.clone(),
            _ => crate::output::heading(name),
        }
    }

    /// A cell of column (or select parameter) `name` holding `value`, in `lang`: a code by
    /// the glossary, a placeholder (`(rest)`, `(none)`) by [`crate::chart::placeholder`],
    /// anything else as it is.
    pub fn value<'a>(&'a self, name: &str, value: &'a str, lang: Lang) -> &'a str {
        if lang == Lang::Ja
            && let Some(ja) = self.values.get(name).and_then(|codes| codes.get(value))
        {
            return ja;
        }
        crate::chart::placeholder(value, lang)
    }

    /// `out` with the codes of glossary columns in `lang`, for a chart's labels and a
    /// table's cells (other columns, and English, unchanged).
    pub fn translate(&self, out: Output, lang: Lang) -> Result<Output> {
        let coded: Vec<(usize, &BTreeMap<String, String>)> = (out.schema.fields().iter())
            .enumerate()
            .filter(|(_, f)| {
                matches!(
                    f.data_type(),
                    DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
                )
            })
            .filter_map(|(i, f)| self.values.get(f.name()).map(|codes| (i, codes)))
            .collect();
        if lang == Lang::En || coded.is_empty() {
            return Ok(out);
        }
        let schema = Arc::new(Schema::new(
            (out.schema.fields().iter())
                .enumerate()
                .map(|(i, f)| match coded.iter().any(|(c, _)| *c == i) {
                    true => Field::new(f.name(), DataType::Utf8, f.is_nullable()),
                    false => f.as_ref().clone(),
                })
                .collect::<Vec<_>>(),
        ));
        let mut batches = Vec::with_capacity(out.batches.len());
        for b in &out.batches {
            let mut columns = b.columns().to_vec();
            for (i, codes) in &coded {
                let c = &columns[*i];
                let shown: StringArray = (0..c.len())
                    .map(|r| {
                        (!c.is_null(r)).then(|| {
                            let v = crate::output::text(c, r);
                            codes.get(&v).cloned().unwrap_or(v)
                        })
                    })
                    .collect();
                columns[*i] = Arc::new(shown);
            }
            batches.push(RecordBatch::try_new(schema.clone(), columns)?);
        }
        Ok(Output { schema, batches })
    }
}

/// Every dashboard, by id, and the glossary.
#[derive(Debug, Clone)]
pub struct Dashboards {
    by_id: BTreeMap<String, Dashboard>,
    words: Words,
}

impl Dashboards {
    /// The dashboards compiled into the binary.
    pub fn embedded() -> Result<Dashboards> {
        Dashboards::from_files(embedded().iter().copied())
    }

    /// Dashboards from `(id, TOML)` pairs.
    pub fn from_files<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Dashboards> {
        fn parse<'de, T: Deserialize<'de>>(id: &str, text: &'de str) -> Result<T> {
            toml::from_str(text).map_err(|e| {
                let line = e.span().map_or(0, |s| {
                    text[..s.start.min(text.len())].matches('\n').count() + 1
                });
                Error::Usage(format!("dashboards/{id}.toml:{line}: {}", e.message()))
            })
        }
        let mut by_id = BTreeMap::new();
        let mut words = Words::default();
        for (id, text) in files {
            if id == Words::ID {
                words = parse(id, text)?;
                continue;
            }
            let mut d: Dashboard = parse(id, text)?;
            d.id = id.to_owned();
            by_id.insert(id.to_owned(), d);
        }
        Ok(Dashboards { by_id, words })
    }

    /// The glossary.
    pub fn words(&self) -> &Words {
        &self.words
    }

    /// Dashboards in index order.
    pub fn iter(&self) -> impl Iterator<Item = &Dashboard> {
        let mut v: Vec<&Dashboard> = self.by_id.values().collect();
        v.sort_by(|a, b| (a.order, &a.id).cmp(&(b.order, &b.id)));
        v.into_iter()
    }

    /// The dashboard `id`.
    pub fn get(&self, id: &str) -> Result<&Dashboard> {
        self.by_id
            .get(id)
            .ok_or_else(|| Error::NotFound(format!("no dashboard {id:?}")))
    }

    /// Checks every dashboard against `catalog` and, by running each panel with the
    /// defaults on `session`, that every plotted column is returned. Returns every problem.
    pub async fn check(&self, catalog: &Catalog, session: &Session) -> Vec<String> {
        let mut problems = Vec::new();
        let unnamed = |columns: Vec<&str>| -> Vec<String> {
            columns
                .into_iter()
                .filter(|c| !self.words.columns.contains_key(*c))
                .map(|c| format!("column {c:?} has no Japanese heading in dashboards/words.toml"))
                .collect()
        };
        match catalog.get(INDEX_QUERY) {
            Ok(q) => match session.run(q, &[]).await {
                Ok(out) => {
                    let columns = out.schema.fields().iter().map(|f| f.name().as_str());
                    for p in unnamed(columns.collect()) {
                        problems.push(format!("the index page's {INDEX_QUERY}: {p}"));
                    }
                }
                Err(e) => problems.push(format!("the index page's {INDEX_QUERY} fails: {e}")),
            },
            Err(e) => problems.push(format!("the index page's query: {e}")),
        }
        for d in self.by_id.values() {
            let at = |p: &str| format!("dashboards/{}.toml: {p}", d.id);
            for (what, text) in d.texts() {
                if text.ja.trim().is_empty() || text.en.trim().is_empty() {
                    problems.push(at(&format!(
                        "{what} needs both ja and en (ja = {:?}, en = {:?})",
                        text.ja, text.en
                    )));
                }
            }
            for p in &d.params {
                if p.kind == ParamKind::Select && !p.options.contains(&p.default) {
                    problems.push(at(&format!(
                        "param {}: default {:?} is not one of its options",
                        p.name, p.default
                    )));
                }
            }
            let values = d.values(&HashMap::new());
            for panel in &d.panels {
                let here = |m: String| at(&format!("panel {:?}: {m}", panel.title));
                let Ok(q) = catalog.get(&panel.query) else {
                    problems.push(here(format!("unknown query {:?}", panel.query)));
                    continue;
                };
                if panel.chart != "table" && ChartKind::parse(&panel.chart).is_none() {
                    problems.push(here(format!(
                        "unknown chart {:?} (table, {})",
                        panel.chart,
                        ChartKind::NAMES.join(", ")
                    )));
                }
                for (k, v) in &panel.params {
                    match q.params.iter().find(|p| &p.name == k) {
                        None => {
                            problems.push(here(format!("query {} has no parameter ${k}", q.id)))
                        }
                        // A value written in the dashboard is checked now, not on every page.
                        Some(p) if !v.starts_with('$') => {
                            if let Err(m) = p.value(v) {
                                problems.push(here(format!("parameter ${k} of {}: {m}", q.id)));
                            }
                        }
                        Some(_) => {}
                    }
                    if let Some(name) = v.strip_prefix('$')
                        && !d.params.iter().any(|p| p.name == name)
                    {
                        problems.push(here(format!("${name} is not a parameter of the dashboard")));
                    }
                }
                for p in &q.params {
                    if p.default.is_none() && !panel.params.contains_key(&p.name) {
                        problems.push(here(format!(
                            "required parameter ${} of {} is not bound",
                            p.name, q.id
                        )));
                    }
                }
                if !matches!(panel.interval.len(), 0 | 2) {
                    problems.push(here("interval names two columns, low and high".into()));
                }
                if panel.how_sure.is_some()
                    && (panel.query != "ranking/suppliers"
                        || panel.params.get("by").map(String::as_str) != Some("intensity"))
                {
                    problems.push(here(
                        "how_sure is for ranking/suppliers with by = \"intensity\"".into(),
                    ));
                }
                match d.run(session, catalog, panel, &values).await {
                    Err(e) => problems.push(here(format!("query fails with the defaults: {e}"))),
                    Ok(out) => {
                        if panel.chart == "table" {
                            let twin = |n: &str| {
                                n.strip_suffix("_ja")
                                    .is_some_and(|base| out.schema.index_of(base).is_ok())
                            };
                            let shown: Vec<&str> = if panel.columns.is_empty() {
                                (out.schema.fields().iter())
                                    .map(|f| f.name().as_str())
                                    .filter(|n| !twin(n))
                                    .collect()
                            } else {
                                panel.columns.iter().map(String::as_str).collect()
                            };
                            problems.extend(unnamed(shown).into_iter().map(&here));
                        }
                        if !panel.series.is_empty() && panel.series.len() != panel.y.len() {
                            problems.push(here(format!(
                                "{} series labels for {} y columns",
                                panel.series.len(),
                                panel.y.len()
                            )));
                        }
                        let mut wanted: Vec<String> = panel.columns.clone();
                        if let Some(spec) = panel.chart_spec(Lang::En) {
                            wanted.extend(spec.columns().into_iter().map(str::to_owned));
                            if spec.x.is_empty() || spec.y.is_empty() {
                                problems.push(here("a chart needs x and y".into()));
                            }
                        }
                        for c in wanted.iter().filter(|c| !c.is_empty()) {
                            if out.schema.index_of(c).is_err() {
                                problems
                                    .push(here(format!("{} does not return column {c:?}", q.id)));
                            }
                        }
                    }
                }
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::AsArray;
    use datafusion::arrow::datatypes::Float64Type;

    use super::*;

    /// A page whose first two panels ask the same draw and whose third asks another.
    const PAGE: &str = r#"
title = { ja = "抽選", en = "Draws" }
description = { ja = "抽選", en = "Draws" }
[[param]]
name = "k"
label = { ja = "k", en = "k" }
kind = "int"
default = "1"
[[panel]]
title = { ja = "a", en = "a" }
query = "t/draw"
chart = "table"
params = { k = "$k" }
[[panel]]
title = { ja = "b", en = "b" }
query = "t/draw"
chart = "table"
params = { k = "$k" }
[[panel]]
title = { ja = "c", en = "c" }
query = "t/draw"
chart = "table"
params = { k = "2" }
"#;

    /// Panels asking the same query with the same arguments share one run; other arguments
    /// are a run of their own. The query draws a random number, so two runs differ.
    #[tokio::test]
    async fn a_page_runs_a_question_its_panels_share_once() {
        let draw_sql = "-- title: A draw\n-- param: k int = 0 ; Added to the draw\n\
                        -- returns: r\nSELECT random() + $k AS r\n";
        let catalog = Catalog::from_files([("t/draw", draw_sql)]).expect("catalog");
        let dashboards = Dashboards::from_files([("t", PAGE)]).expect("page");
        let d = dashboards.get("t").expect("t");
        let tables = crate::dataset::demo().expect("demo");
        let session = Session::new(&tables).await.expect("session");
        let values = d.values(&HashMap::new());
        let draw = |o: Result<Output>| -> f64 {
            let o = o.expect("ran");
            o.batches[0]
                .column(0)
                .as_primitive::<Float64Type>()
                .value(0)
        };

        let mut runs = Runs::default();
        let mut page = Vec::new();
        for p in &d.panels {
            page.push(draw(
                d.run_once(&mut runs, &session, &catalog, p, &values).await,
            ));
        }
        assert_eq!(page[0], page[1], "the second panel drew again");
        assert!((2.0..3.0).contains(&page[2]), "k = 2: {}", page[2]);
        assert!((1.0..2.0).contains(&page[0]), "k = 1: {}", page[0]);

        // Run apart, the same two panels draw twice.
        let a = draw(d.run(&session, &catalog, &d.panels[0], &values).await);
        let b = draw(d.run(&session, &catalog, &d.panels[1], &values).await);
        assert_ne!(a, b, "two runs drew the same number");
    }
}
