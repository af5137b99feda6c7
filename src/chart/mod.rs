//! Charts as SVG and PNG bytes (plotters): Pareto, tier-stacked bars, treemap, Sankey of
//! tier flows, ranking bars, score breakdown and year-on-year trend.
//!
//! A chart is drawn from a query result and a [`ChartSpec`] naming the columns it plots.
//! PNG text uses the bundled M+ font (Japanese included; `src/font/OFL.txt`), never a system
//! font; SVG text is escaped by the backend, so a company called `<script>` stays text. This
//! module draws; it knows nothing of HTTP or dashboards.

mod draw;

use std::sync::Once;

use datafusion::arrow::array::{Array, ArrayRef, RecordBatch};
use datafusion::arrow::datatypes::DataType;
use plotters::prelude::*;

use crate::lang::Lang;
use crate::query::Output;
use crate::{Error, Result};

/// The bundled font (M+ 1 Regular, SIL OFL 1.1).
pub const FONT: &[u8] = crate::font::MPLUS1;

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
    /// A value as it was (the first row), the steps that change it and the value it comes to
    /// (the last row), `y` per `x`.
    Waterfall,
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
            "waterfall" => ChartKind::Waterfall,
            _ => return None,
        })
    }

    /// Most rows a chart of this kind draws: one bar per row past a hundred cannot be told
    /// apart (and a sheet of a million products was a picture of hundreds of megabytes).
    /// The first rows are drawn, in the query's order, and the chart says so. A treemap
    /// keeps its largest tiles and sums the rest into one; tiers, flows, lines over dates
    /// and a waterfall's steps are drawn whole.
    pub fn most_rows(self) -> Option<usize> {
        match self {
            ChartKind::Pareto | ChartKind::RankingBars | ChartKind::StackedBars => Some(MOST_BARS),
            _ => None,
        }
    }

    /// Every kind's name.
    pub const NAMES: [&'static str; 8] = [
        "pareto",
        "tier_stack",
        "treemap",
        "sankey",
        "ranking_bars",
        "stacked_bars",
        "trend",
        "waterfall",
    ];
}

/// Most bars a bar chart draws (see [`ChartKind::most_rows`]).
pub const MOST_BARS: usize = 100;

/// What to draw: the kind, the title and the columns.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartSpec {
    /// Kind.
    pub kind: ChartKind,
    /// Language of the words the chart draws itself (notes, the Pareto's second axis).
    pub lang: Lang,
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
    /// Columns of each bar's interval, low and high (Pareto and stacked bars: a whisker
    /// over the bar or the stack; a row without them has none).
    pub interval: Option<(String, String)>,
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
        if let Some((low, high)) = &self.interval {
            c.extend([low.as_str(), high.as_str()]);
        }
        c
    }
}

/// A query result as a chart reads it: labels as text, numbers read from the Arrow arrays
/// (decimals, integers and floats alike). Rows without a value in a column the chart plots
/// (null, or text that is not a number) are left out and counted, never drawn as 0.
pub(crate) struct Table {
    batch: RecordBatch,
    /// The numbers of each plotted column (`y`, then `y2`), one per row drawn, read once.
    numbers: Vec<(String, Vec<f64>)>,
    /// Rows left out for want of a value, and the columns that lacked one.
    missing: Option<(usize, Vec<String>)>,
    /// The rows there were when only the first [`ChartKind::most_rows`] are drawn.
    cut: Option<usize>,
}

impl Table {
    pub(crate) fn new(out: &Output, spec: &ChartSpec) -> Result<Table> {
        let batch = datafusion::arrow::compute::concat_batches(&out.schema, &out.batches)?;
        let mut plotted: Vec<(String, datafusion::arrow::array::Float64Array)> = Vec::new();
        for name in spec.y.iter().chain(spec.y2.as_ref()) {
            if !plotted.iter().any(|(n, _)| n == name) {
                plotted.push((name.clone(), number_column(&batch, name)?));
            }
        }
        let keep: Vec<bool> = (0..batch.num_rows())
            .map(|r| plotted.iter().all(|(_, v)| v.is_valid(r)))
            .collect();
        let left_out = keep.iter().filter(|k| !**k).count();
        let lacking: Vec<String> = (plotted.iter())
            .filter(|(_, v)| v.null_count() > 0)
            .map(|(n, _)| n.clone())
            .collect();
        let mut numbers: Vec<(String, Vec<f64>)> = plotted
            .into_iter()
            .map(|(name, v)| {
                let kept = v.iter().zip(&keep).filter_map(|(v, k)| v.filter(|_| *k));
                (name, kept.collect())
            })
            .collect();
        let (batch, missing) = match left_out {
            0 => (batch, None),
            _ => {
                let mask = datafusion::arrow::array::BooleanArray::from(keep);
                let kept = datafusion::arrow::compute::filter_record_batch(&batch, &mask)?;
                (kept, Some((left_out, lacking)))
            }
        };
        let rows = batch.num_rows();
        let most = spec.kind.most_rows().filter(|&most| rows > most);
        for (_, v) in &mut numbers {
            v.truncate(most.unwrap_or(rows));
        }
        Ok(Table {
            batch: batch.slice(0, most.unwrap_or(rows)),
            numbers,
            missing,
            cut: most.map(|_| rows),
        })
    }

    pub(crate) fn rows(&self) -> usize {
        self.batch.num_rows()
    }

    /// Each drawn row's interval from columns `low` and `high` (`None` where either is
    /// missing: a row is drawn without its whisker, never left out for want of one).
    pub(crate) fn interval(&self, low: &str, high: &str) -> Result<Vec<Option<(f64, f64)>>> {
        let (l, h) = (
            number_column(&self.batch, low)?,
            number_column(&self.batch, high)?,
        );
        Ok(l.iter()
            .zip(h.iter())
            .map(|(l, h)| Some((l?, h?)))
            .collect())
    }

    /// A note for the reader when rows were left out: how many, and for want of what; and
    /// when only the first rows are drawn.
    pub(crate) fn left_out_note(&self, lang: Lang) -> Option<String> {
        let cut = self.cut.map(|all| {
            let (drawn, all) = (
                crate::output::grouped(&self.rows().to_string()),
                crate::output::grouped(&all.to_string()),
            );
            match lang {
                Lang::Ja => format!("全 {all} 行のうち先頭 {drawn} 行を表示"),
                Lang::En => format!("the first {drawn} of {all} rows drawn"),
            }
        });
        let missing = self.missing.as_ref().map(|(n, columns)| match lang {
            Lang::Ja => format!("値のない {n} 行（{}）は表示なし", columns.join(", ")),
            Lang::En => {
                let rows = if *n == 1 { "row" } else { "rows" };
                format!(
                    "{n} {rows} without a value ({}) not drawn",
                    columns.join(", ")
                )
            }
        });
        let sep = lang.pick("、", "; ");
        match (missing, cut) {
            (Some(m), Some(c)) => Some(format!("{m}{sep}{c}")),
            (m, c) => m.or(c),
        }
    }

    pub(crate) fn labels(&self, name: &str) -> Result<Vec<String>> {
        let c = column(&self.batch, name)?;
        Ok((0..c.len()).map(|i| crate::output::text(c, i)).collect())
    }

    /// [`Table::labels`] as a reader sees them: the placeholders queries write in English
    /// (`(rest)`, `(none)`) in `lang`.
    pub(crate) fn shown_labels(&self, name: &str, lang: Lang) -> Result<Vec<String>> {
        let mut labels = self.labels(name)?;
        for l in &mut labels {
            let shown = placeholder(l, lang);
            if shown != l {
                *l = shown.to_owned();
            }
        }
        Ok(labels)
    }

    /// The numbers of plotted column `name` (one of the spec's `y` or `y2`), one per row
    /// drawn.
    pub(crate) fn numbers(&self, name: &str) -> Result<Vec<f64>> {
        (self.numbers.iter())
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| Error::Internal(format!("chart column {name:?} is not plotted")))
    }
}

/// A placeholder label the queries write (`(rest)`: everything past the top N; `(none)`: no
/// value; a what-if's `(as stored)` and `(with the scenario)`), in `lang`; any other label
/// as it is.
pub fn placeholder(label: &str, lang: Lang) -> &str {
    match (lang, label) {
        (Lang::Ja, "(rest)") => "（その他）",
        (Lang::Ja, "(as stored)") => "（現状）",
        (Lang::Ja, "(with the scenario)") => "（シナリオ適用後）",
        (Lang::Ja, "(none)") => "（なし）",
        _ => label,
    }
}

fn column<'b>(batch: &'b RecordBatch, name: &str) -> Result<&'b ArrayRef> {
    batch.column_by_name(name).ok_or_else(|| {
        Error::Usage(format!(
            "the chart needs column {name:?}, which the query does not return"
        ))
    })
}

/// Column `name` as numbers: Arrow's cast to Float64 (text that is not a number becomes
/// null); a column of another kind (a date, a list) is an error naming it.
fn number_column(
    batch: &RecordBatch,
    name: &str,
) -> Result<datafusion::arrow::array::Float64Array> {
    let c = column(batch, name)?;
    let not_numeric = || {
        Error::Usage(format!(
            "the chart plots column {name:?} as numbers, but it holds {}",
            c.data_type()
        ))
    };
    let numeric = c.data_type().is_numeric()
        || matches!(
            c.data_type(),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null
        );
    if !numeric {
        return Err(not_numeric());
    }
    let cast =
        datafusion::arrow::compute::cast(c, &DataType::Float64).map_err(|_| not_numeric())?;
    cast.as_any()
        .downcast_ref::<datafusion::arrow::array::Float64Array>()
        .cloned()
        .ok_or_else(not_numeric)
}

/// Draws `spec` from `data` as an SVG document.
pub fn svg(spec: &ChartSpec, data: &Output) -> Result<String> {
    register_font()?;
    let table = Table::new(data, spec)?;
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
    let table = Table::new(data, spec)?;
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Date32Array, Decimal128Array, StringArray};
    use datafusion::arrow::datatypes::{Field, Schema};

    use super::*;

    fn output(values: ArrayRef) -> Output {
        let schema = Arc::new(Schema::new(vec![
            Field::new("name", DataType::Utf8, false),
            Field::new("value", values.data_type().clone(), true),
        ]));
        let names = Arc::new(StringArray::from(vec!["alpha", "beta", "gamma"])) as ArrayRef;
        let batch = RecordBatch::try_new(schema.clone(), vec![names, values]).unwrap();
        Output {
            schema,
            batches: vec![batch],
        }
    }

    fn ranking() -> ChartSpec {
        ChartSpec {
            kind: ChartKind::RankingBars,
            lang: Lang::En,
            title: "ranking".into(),
            x: "name".into(),
            y: vec!["value".into()],
            y2: None,
            group: None,
            interval: None,
            x_label: "supplier".into(),
            y_label: "kgCO2e".into(),
            series: Vec::new(),
            size: (400, 300),
        }
    }

    #[test]
    fn rows_without_a_value_are_left_out_and_said_never_drawn_as_zero() {
        // 3.50, null, 1.25 as DECIMAL(10,2): beta has no value.
        let decimals = Decimal128Array::from(vec![Some(350), None, Some(125)])
            .with_precision_and_scale(10, 2)
            .unwrap();
        let out = output(Arc::new(decimals));
        let table = Table::new(&out, &ranking()).unwrap();
        assert_eq!(table.rows(), 2);
        assert_eq!(table.numbers("value").unwrap(), vec![3.5, 1.25]);
        assert_eq!(table.labels("name").unwrap(), vec!["alpha", "gamma"]);
        let svg = svg(&ranking(), &out).unwrap();
        assert!(
            svg.contains("1 row without a value (value) not drawn"),
            "{svg}"
        );
        assert!(svg.contains("alpha") && svg.contains("gamma"));
        assert!(!svg.contains("beta"), "beta has no value and no bar");

        // Text that is not a number is no value either; numbers as text are read.
        let text = StringArray::from(vec![Some("2.5"), Some("n/a"), Some("-1")]);
        let table = Table::new(&output(Arc::new(text)), &ranking()).unwrap();
        assert_eq!(table.numbers("value").unwrap(), vec![2.5, -1.0]);
        assert_eq!(
            table.left_out_note(Lang::En).as_deref(),
            Some("1 row without a value (value) not drawn")
        );
    }

    #[test]
    fn a_whole_table_has_no_note() {
        let decimals = Decimal128Array::from(vec![350, 0, 125])
            .with_precision_and_scale(10, 2)
            .unwrap();
        let out = output(Arc::new(decimals));
        let table = Table::new(&out, &ranking()).unwrap();
        // A stored 0 is a value: drawn.
        assert_eq!(table.numbers("value").unwrap(), vec![3.5, 0.0, 1.25]);
        assert_eq!(table.left_out_note(Lang::En), None);
        assert!(!svg(&ranking(), &out).unwrap().contains("not drawn"));
    }

    #[test]
    fn a_bar_chart_draws_its_first_hundred_rows_and_says_so() {
        // 100,002 rows, one without a value: 100,001 to draw, the first 100 drawn (row 0 is
        // the one without a value, so the drawn bars are rows 1..=100: values 1..=100).
        let n = 100_002;
        let schema = Arc::new(Schema::new(vec![
            Field::new("name", DataType::Utf8, false),
            Field::new("value", DataType::Int64, true),
        ]));
        let names = StringArray::from_iter_values((0..n).map(|i| format!("s{i}")));
        let values = datafusion::arrow::array::Int64Array::from_iter(
            (0..n as i64).map(|i| (i > 0).then_some(i)),
        );
        let batch =
            RecordBatch::try_new(schema.clone(), vec![Arc::new(names), Arc::new(values)]).unwrap();
        let out = Output {
            schema,
            batches: vec![batch],
        };
        let table = Table::new(&out, &ranking()).unwrap();
        assert_eq!(table.rows(), MOST_BARS);
        let drawn = table.numbers("value").unwrap();
        assert_eq!(drawn.len(), MOST_BARS);
        assert_eq!((drawn[0], drawn[99]), (1.0, 100.0));
        assert_eq!(table.labels("name").unwrap()[99], "s100");
        assert_eq!(
            table.left_out_note(Lang::En).as_deref(),
            Some("1 row without a value (value) not drawn; the first 100 of 100,001 rows drawn")
        );
        let svg = svg(&ranking(), &out).unwrap();
        assert!(svg.contains("the first 100 of 100,001 rows drawn"));
        assert!(
            svg.contains("s100") && !svg.contains("s101"),
            "bar 101 is not drawn"
        );
        // A waterfall is drawn whole: its last row is the value it comes to.
        let whole = ChartSpec {
            kind: ChartKind::Waterfall,
            ..ranking()
        };
        assert_eq!(Table::new(&out, &whole).unwrap().rows(), n - 1);
    }

    #[test]
    fn a_column_that_is_not_numbers_is_an_error_naming_it() {
        let dates = Date32Array::from(vec![19_000, 19_001, 19_002]);
        let e = Table::new(&output(Arc::new(dates)), &ranking())
            .err()
            .expect("dates are not values");
        assert!(matches!(e, Error::Usage(_)), "{e:?}");
        assert!(e.to_string().contains("\"value\""), "{e}");
    }
}
