//! Charts as SVG and PNG bytes (plotters): Pareto, tier-stacked bars, treemap, Sankey of
//! tier flows, ranking bars, score breakdown and year-on-year trend.
//!
//! A chart is drawn from a query result and a [`ChartSpec`] naming the columns it plots.
//! PNG text uses the bundled M+ font (Japanese included; `font/OFL.txt`), never a system
//! font; SVG text is escaped by the backend, so a company called `<script>` stays text. This
//! module draws; it knows nothing of HTTP or dashboards.

mod draw;

use std::sync::Once;

use datafusion::arrow::array::{Array, ArrayRef, RecordBatch};
use datafusion::arrow::datatypes::DataType;
use plotters::prelude::*;
use rust_decimal::prelude::ToPrimitive;

use crate::query::Output;
use crate::{Error, Result};

/// The bundled font (M+ 1 Regular, SIL OFL 1.1).
pub const FONT: &[u8] = include_bytes!("font/Mplus1-Regular.otf");

/// The family name charts ask for; the bundled font is registered under it.
pub(crate) const FAMILY: &str = "sans-serif";

fn register_font() -> Result<()> {
    static ONCE: Once = Once::new();
    let mut result = Ok(());
    ONCE.call_once(|| {
        for style in [FontStyle::Normal, FontStyle::Bold] {
            if plotters::style::register_font(FAMILY, style, FONT).is_err() {
                result = Err(Error::Internal("the bundled font does not load".into()));
            }
        }
    });
    result
}

/// The kinds of chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChartKind {
    /// Bars of `y` per `x`, largest first, with the cumulative share (`y2`, percent) as a line.
    Pareto,
    /// One bar per tier (`x`), stacked by the `y` columns; negative values stack below zero.
    TierStack,
    /// Nested rectangles: `group` (supplier) → `x` (footprint), area by `y`.
    Treemap,
    /// Flows through the tiers: at each tier (`x`) the `y` columns, and what goes deeper.
    Sankey,
    /// Horizontal bars of `y` per `x`, in row order.
    RankingBars,
    /// One bar per `x`, stacked by the `y` columns (e.g. points per indicator group).
    StackedBars,
    /// One line per `group` of `y` over `x` (dates).
    Trend,
}

impl ChartKind {
    /// Parses a kind from a dashboard file.
    pub fn parse(s: &str) -> Option<ChartKind> {
        Some(match s {
            "pareto" => ChartKind::Pareto,
            "tier_stack" => ChartKind::TierStack,
            "treemap" => ChartKind::Treemap,
            "sankey" => ChartKind::Sankey,
            "ranking_bars" => ChartKind::RankingBars,
            "stacked_bars" => ChartKind::StackedBars,
            "trend" => ChartKind::Trend,
            _ => return None,
        })
    }

    /// Every kind's name.
    pub const NAMES: [&'static str; 7] = [
        "pareto",
        "tier_stack",
        "treemap",
        "sankey",
        "ranking_bars",
        "stacked_bars",
        "trend",
    ];
}

/// What to draw: the kind, the title and the columns.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartSpec {
    /// Kind.
    pub kind: ChartKind,
    /// Title (always drawn).
    pub title: String,
    /// Category or x column.
    pub x: String,
    /// Value columns.
    pub y: Vec<String>,
    /// Secondary value column (Pareto: cumulative share).
    pub y2: Option<String>,
    /// Grouping column (treemap parent, trend series).
    pub group: Option<String>,
    /// Label of the x axis.
    pub x_label: String,
    /// Label of the y axis, with its unit.
    pub y_label: String,
    /// Legend labels for the `y` columns (defaults to the column names).
    pub series: Vec<String>,
    /// Width and height in pixels.
    pub size: (u32, u32),
}

impl ChartSpec {
    /// The columns this chart reads.
    pub fn columns(&self) -> Vec<&str> {
        let mut c = vec![self.x.as_str()];
        c.extend(self.y.iter().map(String::as_str));
        c.extend(self.y2.as_deref());
        c.extend(self.group.as_deref());
        c
    }
}

/// A column of a query result, as labels or numbers.
pub(crate) struct Table<'a> {
    batch: RecordBatch,
    _out: &'a Output,
}

impl<'a> Table<'a> {
    pub(crate) fn new(out: &'a Output) -> Result<Table<'a>> {
        let batch = datafusion::arrow::compute::concat_batches(&out.schema, &out.batches)?;
        Ok(Table { batch, _out: out })
    }

    pub(crate) fn rows(&self) -> usize {
        self.batch.num_rows()
    }

    fn column(&self, name: &str) -> Result<&ArrayRef> {
        self.batch.column_by_name(name).ok_or_else(|| {
            Error::Usage(format!(
                "the chart needs column {name:?}, which the query does not return"
            ))
        })
    }

    pub(crate) fn labels(&self, name: &str) -> Result<Vec<String>> {
        let c = self.column(name)?;
        Ok((0..c.len()).map(|i| crate::output::text(c, i)).collect())
    }

    pub(crate) fn numbers(&self, name: &str) -> Result<Vec<f64>> {
        let c = self.column(name)?;
        let cast = |i: usize| -> f64 {
            if c.is_null(i) {
                return 0.0;
            }
            match c.data_type() {
                DataType::Decimal128(_, _) => crate::output::text(c, i)
                    .parse::<rust_decimal::Decimal>()
                    .ok()
                    .and_then(|d| d.to_f64())
                    .unwrap_or(0.0),
                _ => crate::output::text(c, i).parse::<f64>().unwrap_or(0.0),
            }
        };
        Ok((0..c.len()).map(cast).collect())
    }
}

/// Draws `spec` from `data` as an SVG document.
pub fn svg(spec: &ChartSpec, data: &Output) -> Result<String> {
    register_font()?;
    let table = Table::new(data)?;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, spec.size).into_drawing_area();
        draw::draw(&root, spec, &table)?;
        root.present()
            .map_err(|e| Error::Internal(format!("svg: {e}")))?;
    }
    Ok(out)
}

/// Draws `spec` from `data` as a PNG image.
pub fn png(spec: &ChartSpec, data: &Output) -> Result<Vec<u8>> {
    register_font()?;
    let table = Table::new(data)?;
    let (w, h) = spec.size;
    let mut rgb = vec![255u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        draw::draw(&root, spec, &table)?;
        root.present()
            .map_err(|e| Error::Internal(format!("png: {e}")))?;
    }
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, w, h);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder
            .write_header()
            .map_err(|e| Error::Internal(format!("png: {e}")))?;
        writer
            .write_image_data(&rgb)
            .map_err(|e| Error::Internal(format!("png: {e}")))?;
    }
    Ok(bytes)
}
