//! The Sankey of flows through the tiers: each tier's kinds as stacked nodes, and what flows
//! on to deeper tiers as bands.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{ChartSpec, PALETTE, Table, err, font, kind_color, series_name, tier_label};
use crate::Result;
use crate::lang::Lang;

pub(super) fn sankey<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    spec: &ChartSpec,
    t: &Table,
) -> Result<()> {
    let tiers = t.labels(&spec.x)?;
    let columns: Vec<Vec<f64>> = spec.y.iter().map(|c| t.numbers(c)).collect::<Result<_>>()?;
    let n = tiers.len();
    // Per tier, the positive blocks; what flows deeper is the positive total of the next tiers.
    let positive: Vec<f64> = (0..n)
        .map(|r| columns.iter().map(|c| c[r].max(0.0)).sum())
        .collect();
    let deeper: Vec<f64> = (0..n).map(|r| positive[r + 1..].iter().sum()).collect();
    let height_of: Vec<f64> = (0..n).map(|r| positive[r] + deeper[r]).collect();
    let max = height_of.iter().cloned().fold(0.0, f64::max).max(1e-9);
    let (w, h) = area.dim_in_pixel();
    let (top, bottom, left, right) = (10.0, 40.0, 20.0, 160.0);
    let scale = (h as f64 - top - bottom) / max;
    let col_w = 18.0;
    let gap = if n > 1 {
        (w as f64 - left - right - col_w) / (n - 1) as f64
    } else {
        0.0
    };
    let x_of = |r: usize| left + r as f64 * gap;
    let mismatch: f64 = columns
        .iter()
        .enumerate()
        .filter(|(i, _)| spec.y[*i].contains("mismatch"))
        .map(|(_, c)| c.iter().sum::<f64>())
        .sum();
    for r in 0..n {
        let x = x_of(r);
        let mut y = top;
        for (s, col) in columns.iter().enumerate() {
            let v = col[r].max(0.0);
            if v <= 0.0 {
                continue;
            }
            let hh = v * scale;
            area.draw(&Rectangle::new(
                [(x as i32, y as i32), ((x + col_w) as i32, (y + hh) as i32)],
                kind_color(&spec.y[s], s).filled(),
            ))
            .map_err(err)?;
            y += hh;
        }
        // The part that flows to the next tier.
        if deeper[r] > 0.0 && r + 1 < n {
            let y0 = y;
            let y1 = y + deeper[r] * scale;
            area.draw(&Rectangle::new(
                [(x as i32, y0 as i32), ((x + col_w) as i32, y1 as i32)],
                PALETTE[2].mix(0.6).filled(),
            ))
            .map_err(err)?;
            let (tx, ty0, ty1) = (x_of(r + 1), top, top + height_of[r + 1] * scale);
            let steps = 24;
            let curve = |from: f64, to: f64| -> Vec<(i32, i32)> {
                (0..=steps)
                    .map(|k| {
                        let u = k as f64 / steps as f64;
                        let s = u * u * (3.0 - 2.0 * u);
                        (
                            (x + col_w + u * (tx - x - col_w)) as i32,
                            (from + s * (to - from)) as i32,
                        )
                    })
                    .collect()
            };
            let mut poly = curve(y0, ty0);
            let mut back = curve(y1, ty1);
            back.reverse();
            poly.extend(back);
            area.draw(&Polygon::new(poly, PALETTE[2].mix(0.25).filled()))
                .map_err(err)?;
        }
        area.draw(&Text::new(
            tier_label(spec.lang, &tiers[r]),
            (x as i32, (h as f64 - bottom + 8.0) as i32),
            font(12),
        ))
        .map_err(err)?;
    }
    // Legend on the right.
    let lx = w as f64 - right + 20.0;
    let mut ly = top;
    for (s, _) in columns.iter().enumerate() {
        if spec.y[s].contains("mismatch") {
            continue;
        }
        let c = kind_color(&spec.y[s], s);
        area.draw(&Rectangle::new(
            [
                (lx as i32, ly as i32),
                ((lx + 12.0) as i32, (ly + 10.0) as i32),
            ],
            c.filled(),
        ))
        .map_err(err)?;
        area.draw(&Text::new(
            series_name(spec, s),
            ((lx + 16.0) as i32, (ly - 2.0) as i32),
            font(12),
        ))
        .map_err(err)?;
        ly += 18.0;
    }
    area.draw(&Rectangle::new(
        [
            (lx as i32, ly as i32),
            ((lx + 12.0) as i32, (ly + 10.0) as i32),
        ],
        PALETTE[2].mix(0.6).filled(),
    ))
    .map_err(err)?;
    area.draw(&Text::new(
        spec.lang.pick("より深い階層へ", "to deeper tiers"),
        ((lx + 16.0) as i32, (ly - 2.0) as i32),
        font(12),
    ))
    .map_err(err)?;
    ly += 26.0;
    area.draw(&Text::new(
        format!("{}: {}", spec.lang.pick("高さ", "height"), spec.y_label),
        (lx as i32, ly as i32),
        font(11),
    ))
    .map_err(err)?;
    if mismatch < 0.0 {
        area.draw(&Text::new(
            match spec.lang {
                Lang::Ja => format!("不一致 {mismatch:.2} は表示なし"),
                Lang::En => format!("mismatch {mismatch:.2} not drawn"),
            },
            (lx as i32, (ly + 16.0) as i32),
            font(11),
        ))
        .map_err(err)?;
    }
    Ok(())
}
