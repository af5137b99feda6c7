//! Dashboards: `dashboards/*.toml` files binding catalog queries to charts and tables, with
//! parameters. A dashboard's id is its path without `.toml`, which is also its URL
//! (`/dashboards/<id>`). No SQL lives in a dashboard; [`Dashboards::check`] verifies every
//! query id, parameter binding and plotted column against the catalog and a dataset.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use crate::chart::{ChartKind, ChartSpec};
use crate::query::{Catalog, Session};
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
    pub label: String,
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
    pub title: String,
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
    /// Legend labels of `y`.
    #[serde(default)]
    pub series: Vec<String>,
    /// Axis labels, with units.
    #[serde(default)]
    pub x_label: String,
    /// Axis labels, with units.
    #[serde(default)]
    pub y_label: String,
    /// Columns shown by a table panel (default: all).
    #[serde(default)]
    pub columns: Vec<String>,
    /// Query parameter → value; `$name` takes the dashboard parameter `name`.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// Panel width in the page: `full` or `half`.
    #[serde(default = "full")]
    pub width: String,
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
    pub title: String,
    /// What it answers.
    pub description: String,
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
    /// The chart this panel draws, or `None` for a table.
    pub fn chart_spec(&self) -> Option<ChartSpec> {
        let kind = ChartKind::parse(&self.chart)?;
        Some(ChartSpec {
            kind,
            title: self.title.clone(),
            x: self.x.clone(),
            y: self.y.clone(),
            y2: self.y2.clone(),
            group: self.group.clone(),
            x_label: self.x_label.clone(),
            y_label: self.y_label.clone(),
            series: self.series.clone(),
            size: if self.width == "half" {
                (620, 420)
            } else {
                (1200, 460)
            },
        })
    }
}

impl Dashboard {
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

/// Every dashboard, by id.
#[derive(Debug, Clone)]
pub struct Dashboards {
    by_id: BTreeMap<String, Dashboard>,
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
        let mut by_id = BTreeMap::new();
        for (id, text) in files {
            let mut d: Dashboard = toml::from_str(text).map_err(|e| {
                let line = e.span().map_or(0, |s| {
                    text[..s.start.min(text.len())].matches('\n').count() + 1
                });
                Error::Usage(format!("dashboards/{id}.toml:{line}: {}", e.message()))
            })?;
            d.id = id.to_owned();
            by_id.insert(id.to_owned(), d);
        }
        Ok(Dashboards { by_id })
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
        for d in self.by_id.values() {
            let at = |p: &str| format!("dashboards/{}.toml: {p}", d.id);
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
                    if !q.params.iter().any(|p| &p.name == k) {
                        problems.push(here(format!("query {} has no parameter ${k}", q.id)));
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
                let args = d.panel_args(panel, &values);
                match session.run(q, &args).await {
                    Err(e) => problems.push(here(format!("query fails with the defaults: {e}"))),
                    Ok(out) => {
                        let mut wanted: Vec<String> = panel.columns.clone();
                        if let Some(spec) = panel.chart_spec() {
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
