//! The waterfall: a value as it was, each step that changes it, and the value it comes to,
//! as horizontal bars from top to bottom — the first and last rows whole, each step floating
//! from where the ones before it left off (red: up, green: down).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{err, rows_across};
use crate::Result;
use crate::chart::{ChartSpec, Table};

const UP: RGBColor = RGBColor(0xc6, 0x28, 0x28);
const DOWN: RGBColor = RGBColor(0x2e, 0x7d, 0x32);
const TOTAL: RGBColor = RGBColor(0x54, 0x6e, 0x7a);

/// Where each row's bar runs: the first and last from 0 to their value, a step from the
/// running total before it to the running total after it.
pub(super) fn spans(values: &[f64]) -> Vec<(f64, f64)> {
    let n = values.len();
    let mut running = 0.0;
    values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            if i == 0 || i == n - 1 {
                running = v;
                (0.0, v)
            } else {
                let from = running;
                running += v;
                (from, running)
            }
        })
        .collect()
}

/// The value axis: every end of a bar, except that when all of them lie well away from 0
/// the axis starts below the lowest by as much as they spread (the totals' bars are then
/// cut at the axis, which its numbers say), so that small steps of a large value show.
pub(super) fn axis(spans: &[(f64, f64)]) -> (f64, f64) {
    let ends = spans
        .iter()
        .flat_map(|&(a, b)| [a, b])
        .filter(|v| *v != 0.0)
        .collect::<Vec<_>>();
    let hi = ends.iter().copied().fold(f64::MIN, f64::max).max(0.0);
    let lo = ends.iter().copied().fold(f64::MAX, f64::min).min(hi);
    let spread = hi - lo;
    let pad = spread * 0.05 + hi.abs().max(lo.abs()) * 1e-9 + 1e-12;
    if lo > 0.0 && lo - spread > 0.0 {
        (lo - spread, hi + pad)
    } else {
        (lo.min(0.0) - if lo < 0.0 { pad } else { 0.0 }, hi + pad)
    }
}

pub(super) fn waterfall<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    spec: &ChartSpec,
    t: &Table,
) -> Result<()> {
    let labels = t.shown_labels(&spec.x, spec.lang)?;
    let values = t.numbers(spec.y.first().ok_or_else(|| err("waterfall needs y"))?)?;
    let n = labels.len();
    let spans = spans(&values);
    let (lo, hi) = axis(&spans);
    let mut chart = rows_across(area, spec, &labels, lo..hi)?;
    chart
        .draw_series(spans.iter().enumerate().map(|(i, &(a, b))| {
            let row = (n - 1 - i) as f64;
            let color = if i == 0 || i == n - 1 {
                TOTAL
            } else if b >= a {
                UP
            } else {
                DOWN
            };
            // Clipped to the axis (a total's bar may start below it).
            let (a, b) = (a.max(lo), b.max(lo));
            Rectangle::new([(a, row - 0.35), (b, row + 0.35)], color.filled())
        }))
        .map_err(err)?;
    // The connectors: each bar's end to the next bar's start.
    let ink = RGBColor(0x1c, 0x23, 0x21).stroke_width(1);
    for (i, &(_, x)) in spans.iter().enumerate().take(n.saturating_sub(1)) {
        let row = (n - 1 - i) as f64;
        chart
            .draw_series([PathElement::new(
                vec![(x, row - 0.35), (x, row - 0.65)],
                ink,
            )])
            .map_err(err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_float_from_where_the_ones_before_left_off() {
        // 150 as stored, −25 then +30, 155 with the scenario.
        assert_eq!(
            spans(&[150.0, -25.0, 30.0, 155.0]),
            vec![(0.0, 150.0), (150.0, 125.0), (125.0, 155.0), (0.0, 155.0)]
        );
    }

    #[test]
    fn the_axis_starts_near_the_steps_when_they_are_far_from_zero() {
        // Ends from 125 to 155 (a spread of 30): the axis from 95, plus 5 % of the spread
        // above the highest.
        let (lo, hi) = axis(&spans(&[150.0, -25.0, 30.0, 155.0]));
        assert_eq!(lo, 95.0);
        assert!((hi - 156.5).abs() < 1e-6, "{hi}");
        // A step through 0 keeps 0 in view.
        let (lo, _) = axis(&spans(&[10.0, -30.0, -20.0]));
        assert!(lo < -20.0, "{lo}");
    }
}
