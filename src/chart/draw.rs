//! Drawing each chart kind on any plotters backend.

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::{ChartKind, ChartSpec, FAMILY, Table, placeholder};
use crate::lang::Lang;
use crate::{Error, Result};

mod sankey;
mod treemap;
mod waterfall;

use sankey::sankey;
use treemap::treemap;
use waterfall::waterfall;

fn err<E: std::fmt::Debug>(e: E) -> Error {
    Error::Internal(format!("chart: {e:?}"))
}

const PALETTE: [RGBColor; 10] = [
    RGBColor(0x2e, 0x7d, 0x32),
    RGBColor(0xf9, 0xa8, 0x25),
    RGBColor(0x15, 0x65, 0xc0),
    RGBColor(0x6d, 0x4c, 0x41),
    RGBColor(0x90, 0xa4, 0xae),
    RGBColor(0x8e, 0x24, 0xaa),
    RGBColor(0x00, 0x83, 0x8f),
    RGBColor(0xef, 0x6c, 0x00),
    RGBColor(0xad, 0x14, 0x57),
    RGBColor(0x55, 0x8b, 0x2f),
];

/// `tier 3`, `第3階層`.
fn tier_label(lang: Lang, tier: &str) -> String {
    match lang {
        Lang::Ja => format!("第{tier}階層"),
        Lang::En => format!("tier {tier}"),
    }
}

/// Colours of the item kinds, by column name fragment.
fn kind_color(column: &str, i: usize) -> RGBColor {
    let c = column.to_ascii_lowercase();
    if c.contains("mismatch") {
        RGBColor(0xc6, 0x28, 0x28)
    } else if c.contains("untraced") {
        RGBColor(0xf9, 0xa8, 0x25)
    } else if c.contains("unresolved") {
        RGBColor(0x6d, 0x4c, 0x41)
    } else if c.contains("beyond") {
        RGBColor(0x90, 0xa4, 0xae)
    } else if c.contains("own") {
        RGBColor(0x2e, 0x7d, 0x32)
    } else {
        PALETTE[i % PALETTE.len()]
    }
}

/// Display width of a character in half-width cells: CJK and other wide characters take two.
fn cells(c: char) -> usize {
    unicode_width::UnicodeWidthChar::width(c)
        .unwrap_or(0)
        .max(1)
}

/// `s` cut to at most `n` half-width cells, with an ellipsis when cut.
fn short(s: &str, n: usize) -> String {
    if s.chars().map(cells).sum::<usize>() <= n {
        return s.to_owned();
    }
    let mut t = String::new();
    let mut used = 1; // the ellipsis
    for c in s.chars() {
        if used + cells(c) > n {
            break;
        }
        used += cells(c);
        t.push(c);
    }
    t.push('…');
    t
}

/// How many half-width cells of a category label fit under one of `n` bars in an area
/// `width` pixels wide (about 6 px a cell at the label size, less the axis areas).
fn label_chars(width: u32, n: usize) -> usize {
    let per_bar = (width.saturating_sub(140)) as f64 / n.max(1) as f64;
    ((per_bar / 6.0) as usize).clamp(3, 16)
}

fn series_name(spec: &ChartSpec, i: usize) -> String {
    spec.series
        .get(i)
        .cloned()
        .unwrap_or_else(|| spec.y.get(i).cloned().unwrap_or_default())
}

fn font(size: u32) -> TextStyle<'static> {
    (FAMILY, size).into_font().color(&BLACK)
}

/// Draws `spec` on `root`.
pub(crate) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    spec: &ChartSpec,
    t: &Table,
) -> Result<()> {
    root.fill(&WHITE).map_err(err)?;
    let area = root
        .titled(&spec.title, (FAMILY, 20).into_font())
        .map_err(err)?;
    let area = match t.left_out_note(spec.lang) {
        Some(note) => {
            // Said under the title, in the chart's own space: left-out rows are never
            // silent.
            area.draw(&Text::new(note, (12, 2), font(12).color(&RED)))
                .map_err(err)?;
            area.margin(16, 0, 0, 0)
        }
        None => area,
    };
    if t.rows() == 0 {
        area.draw(&Text::new(
            spec.lang.pick("（データなし）", "(no data)"),
            (20, 20),
            font(14),
        ))
        .map_err(err)?;
        return Ok(());
    }
    match spec.kind {
        ChartKind::Pareto => pareto(&area, spec, t),
        ChartKind::TierStack | ChartKind::StackedBars => stacked(&area, spec, t),
        ChartKind::Treemap => treemap(&area, spec, t),
        ChartKind::Sankey => sankey(&area, spec, t),
        ChartKind::RankingBars => ranking(&area, spec, t),
        ChartKind::Trend => trend(&area, spec, t),
        ChartKind::Waterfall => waterfall(&area, spec, t),
    }
}

fn pareto<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    spec: &ChartSpec,
    t: &Table,
) -> Result<()> {
    let labels = t.shown_labels(&spec.x, spec.lang)?;
    let values = t.numbers(spec.y.first().ok_or_else(|| err("pareto needs y"))?)?;
    let cumulative = match &spec.y2 {
        Some(c) => t.numbers(c)?,
        None => {
            let total: f64 = values.iter().sum();
            let mut run = 0.0;
            values
                .iter()
                .map(|v| {
                    run += v;
                    if total == 0.0 {
                        0.0
                    } else {
                        run / total * 100.0
                    }
                })
                .collect()
        }
    };
    let n = labels.len();
    let interval = interval_of(spec, t)?;
    let ends = values
        .iter()
        .copied()
        .chain(interval.iter().flatten().flat_map(|&(l, h)| [l, h]));
    let top = ends.clone().fold(0.0_f64, f64::max) * 1.1 + 1e-9;
    let bottom = ends.fold(0.0_f64, f64::min).min(0.0) * 1.1;
    let mut chart = ChartBuilder::on(area)
        .margin(10)
        .x_label_area_size(70)
        .y_label_area_size(70)
        .right_y_label_area_size(50)
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), bottom..top)
        .map_err(err)?
        .set_secondary_coord(-0.5f64..(n as f64 - 0.5), 0.0f64..105.0);
    let names = labels.clone();
    let chars = label_chars(area.dim_in_pixel().0.saturating_sub(50), n);
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n)
        .x_label_formatter(&move |x| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < names.len() {
                short(&names[i as usize], chars)
            } else {
                String::new()
            }
        })
        .x_label_style(font(11))
        .y_label_style(font(12))
        .y_label_formatter(&|v| crate::output::significant(*v))
        .x_desc(spec.x_label.as_str())
        .y_desc(spec.y_label.as_str())
        .axis_desc_style(font(13))
        .draw()
        .map_err(err)?;
    chart
        .configure_secondary_axes()
        .y_desc(spec.lang.pick("累積シェア (%)", "cumulative share (%)"))
        .label_style(font(12))
        .axis_desc_style(font(13))
        .draw()
        .map_err(err)?;
    chart
        .draw_series(values.iter().enumerate().map(|(i, v)| {
            let color = if labels[i] == placeholder("(rest)", spec.lang) {
                PALETTE[4]
            } else {
                PALETTE[2]
            };
            Rectangle::new(
                [(i as f64 - 0.4, 0.0), (i as f64 + 0.4, *v)],
                color.filled(),
            )
        }))
        .map_err(err)?
        .label(series_name(spec, 0))
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], PALETTE[2].filled()));
    whiskers(&mut chart, &interval)?;
    chart
        .draw_secondary_series(LineSeries::new(
            cumulative.iter().enumerate().map(|(i, c)| (i as f64, *c)),
            RGBColor(0xc6, 0x28, 0x28).stroke_width(2),
        ))
        .map_err(err)?
        .label(spec.lang.pick("累積シェア (%)", "cumulative share (%)"))
        .legend(|(x, y)| {
            PathElement::new(
                vec![(x, y), (x + 12, y)],
                RGBColor(0xc6, 0x28, 0x28).stroke_width(2),
            )
        });
    chart
        .configure_series_labels()
        .label_font(font(12))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::MiddleRight)
        .draw()
        .map_err(err)?;
    Ok(())
}

/// The chart's intervals, one per row drawn (`[]` when it has none).
fn interval_of(spec: &ChartSpec, t: &Table) -> Result<Vec<Option<(f64, f64)>>> {
    match &spec.interval {
        Some((low, high)) => t.interval(low, high),
        None => Ok(Vec::new()),
    }
}

/// A vertical whisker over bar `i` (at x = i) from each interval's low to its high.
fn whiskers<DB: DrawingBackend>(
    chart: &mut ChartContext<
        '_,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    interval: &[Option<(f64, f64)>],
) -> Result<()> {
    let ink = RGBColor(0x1c, 0x23, 0x21).stroke_width(2);
    for (i, iv) in interval.iter().enumerate() {
        let Some((l, h)) = *iv else { continue };
        let x = i as f64;
        chart
            .draw_series([
                PathElement::new(vec![(x, l), (x, h)], ink),
                PathElement::new(vec![(x - 0.15, l), (x + 0.15, l)], ink),
                PathElement::new(vec![(x - 0.15, h), (x + 0.15, h)], ink),
            ])
            .map_err(err)?;
    }
    Ok(())
}

fn stacked<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    spec: &ChartSpec,
    t: &Table,
) -> Result<()> {
    let labels = t.shown_labels(&spec.x, spec.lang)?;
    let columns: Vec<Vec<f64>> = spec.y.iter().map(|c| t.numbers(c)).collect::<Result<_>>()?;
    let n = labels.len();
    let interval = interval_of(spec, t)?;
    let (mut lo, mut hi) = (0.0f64, 0.0f64);
    for r in 0..n {
        let pos: f64 = columns.iter().map(|c| c[r].max(0.0)).sum();
        let neg: f64 = columns.iter().map(|c| c[r].min(0.0)).sum();
        hi = hi.max(pos);
        lo = lo.min(neg);
    }
    for &(l, h) in interval.iter().flatten() {
        (lo, hi) = (lo.min(l), hi.max(h));
    }
    let pad = (hi - lo).max(1e-9) * 0.08;
    let mut chart = ChartBuilder::on(area)
        .margin(10)
        .x_label_area_size(55)
        .y_label_area_size(70)
        .build_cartesian_2d(
            -0.5f64..(n as f64 - 0.5),
            (lo - if lo < 0.0 { pad } else { 0.0 })..(hi + pad),
        )
        .map_err(err)?;
    let names = labels.clone();
    let is_tier = spec.kind == ChartKind::TierStack;
    let chars = label_chars(area.dim_in_pixel().0, n);
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n)
        .x_label_formatter(&move |x| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < names.len() {
                if is_tier {
                    tier_label(spec.lang, &names[i as usize])
                } else {
                    short(&names[i as usize], chars)
                }
            } else {
                String::new()
            }
        })
        .x_label_style(font(11))
        .y_label_style(font(12))
        .y_label_formatter(&|v| crate::output::significant(*v))
        .x_desc(spec.x_label.as_str())
        .y_desc(spec.y_label.as_str())
        .axis_desc_style(font(13))
        .draw()
        .map_err(err)?;
    let mut pos_base = vec![0.0; n];
    let mut neg_base = vec![0.0; n];
    for (s, col) in columns.iter().enumerate() {
        let color = kind_color(&spec.y[s], s);
        let mut rects = Vec::new();
        for r in 0..n {
            let v = col[r];
            if v == 0.0 {
                continue;
            }
            let (a, b) = if v > 0.0 {
                let a = pos_base[r];
                pos_base[r] += v;
                (a, pos_base[r])
            } else {
                let a = neg_base[r];
                neg_base[r] += v;
                (a, neg_base[r])
            };
            rects.push(Rectangle::new(
                [(r as f64 - 0.35, a), (r as f64 + 0.35, b)],
                color.filled(),
            ));
        }
        chart
            .draw_series(rects)
            .map_err(err)?
            .label(series_name(spec, s))
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled()));
    }
    if lo < 0.0 {
        chart
            .draw_series(LineSeries::new(
                vec![(-0.5, 0.0), (n as f64 - 0.5, 0.0)],
                BLACK,
            ))
            .map_err(err)?;
    }
    whiskers(&mut chart, &interval)?;
    chart
        .configure_series_labels()
        .label_font(font(12))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(err)?;
    Ok(())
}

fn ranking<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    spec: &ChartSpec,
    t: &Table,
) -> Result<()> {
    let labels = t.shown_labels(&spec.x, spec.lang)?;
    let values = t.numbers(spec.y.first().ok_or_else(|| err("ranking needs y"))?)?;
    // y = [value, low, high]: each bar with its interval as a whisker.
    let whiskers = match &spec.y[..] {
        [_, low, high] => Some((t.numbers(low)?, t.numbers(high)?)),
        _ => None,
    };
    let n = labels.len();
    let ends = values
        .iter()
        .chain(whiskers.iter().flat_map(|(l, h)| l.iter().chain(h)));
    let hi = ends.clone().cloned().fold(0.0f64, f64::max) * 1.1 + 1e-9;
    let lo = ends.cloned().fold(0.0f64, f64::min).min(0.0) * 1.1;
    let mut chart = rows_across(area, spec, &labels, lo..hi)?;
    chart
        .draw_series(values.iter().enumerate().map(|(i, v)| {
            let row = (n - 1 - i) as f64;
            Rectangle::new(
                [(0.0, row - 0.35), (*v, row + 0.35)],
                PALETTE[i % PALETTE.len()].filled(),
            )
        }))
        .map_err(err)?;
    if let Some((low, high)) = &whiskers {
        let ink = RGBColor(0x1c, 0x23, 0x21).stroke_width(2);
        for i in 0..n {
            let row = (n - 1 - i) as f64;
            let (l, h) = (low[i], high[i]);
            chart
                .draw_series([
                    PathElement::new(vec![(l, row), (h, row)], ink),
                    PathElement::new(vec![(l, row - 0.2), (l, row + 0.2)], ink),
                    PathElement::new(vec![(h, row - 0.2), (h, row + 0.2)], ink),
                ])
                .map_err(err)?;
        }
    }
    Ok(())
}

/// Axes for one horizontal bar per row of `labels` (row 0 at the top, named on the left),
/// values from `x` along the bottom: the ranking's and the waterfall's.
pub(super) fn rows_across<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    spec: &ChartSpec,
    labels: &[String],
    x: std::ops::Range<f64>,
) -> Result<ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>> {
    let n = labels.len();
    let mut chart = ChartBuilder::on(area)
        .margin(10)
        .x_label_area_size(45)
        .y_label_area_size(190)
        .build_cartesian_2d(x, -0.5f64..(n as f64 - 0.5))
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(n.min(30))
        .y_label_formatter(&|y| {
            let i = y.round();
            if (y - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < n {
                // Row 0 at the top.
                short(&labels[n - 1 - i as usize], 22)
            } else {
                String::new()
            }
        })
        .y_label_style(font(11))
        .x_label_style(font(12))
        .x_label_formatter(&|v| crate::output::significant(*v))
        .x_desc(spec.y_label.as_str())
        .y_desc(spec.x_label.as_str())
        .axis_desc_style(font(13))
        .draw()
        .map_err(err)?;
    Ok(chart)
}

fn trend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    spec: &ChartSpec,
    t: &Table,
) -> Result<()> {
    let dates = t.labels(&spec.x)?;
    let values = t.numbers(spec.y.first().ok_or_else(|| err("trend needs y"))?)?;
    let groups = match &spec.group {
        Some(g) => t.shown_labels(g, spec.lang)?,
        None => vec![String::new(); dates.len()],
    };
    let mut xs: Vec<String> = dates.clone();
    xs.sort();
    xs.dedup();
    let mut series: Vec<String> = Vec::new();
    for g in &groups {
        if !series.contains(g) {
            series.push(g.clone());
        }
    }
    let hi = values.iter().cloned().fold(0.0f64, f64::max) * 1.1 + 1e-9;
    let n = xs.len();
    let mut chart = ChartBuilder::on(area)
        .margin(10)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(-0.3f64..(n as f64 - 0.7).max(0.3), 0.0..hi)
        .map_err(err)?;
    let names = xs.clone();
    chart
        .configure_mesh()
        .x_labels(n.max(1))
        .x_label_formatter(&move |x| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < names.len() {
                names[i as usize].clone()
            } else {
                String::new()
            }
        })
        .x_label_style(font(11))
        .y_label_style(font(12))
        .y_label_formatter(&|v| crate::output::significant(*v))
        .x_desc(spec.x_label.as_str())
        .y_desc(spec.y_label.as_str())
        .axis_desc_style(font(13))
        .draw()
        .map_err(err)?;
    for (s, name) in series.iter().enumerate() {
        let color = PALETTE[s % PALETTE.len()];
        let mut points: Vec<(f64, f64)> = (0..dates.len())
            .filter(|i| groups[*i] == *name)
            .filter_map(|i| {
                xs.iter()
                    .position(|d| *d == dates[i])
                    .map(|x| (x as f64, values[i]))
            })
            .collect();
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
            .map_err(err)?
            .label(short(name, 28))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 12, y)], color.stroke_width(2))
            });
        chart
            .draw_series(
                points
                    .into_iter()
                    .map(|p| Circle::new(p, 3, color.filled())),
            )
            .map_err(err)?;
    }
    chart
        .configure_series_labels()
        .label_font(font(11))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(err)?;
    Ok(())
}
