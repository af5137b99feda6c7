//! The treemap: each group (a supplier) a rectangle sized by its total, its rows (its
//! footprints) tiles inside it. The largest [`TILES`] rows are drawn; the others are one
//! "(rest)" tile, so that the areas still add up to everything positive.

use std::collections::HashMap;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{PALETTE, err, font, short};
use crate::Result;
use crate::chart::{ChartSpec, Table};
use crate::lang::Lang;

/// Most rows drawn as tiles: the largest. (Every footprint of a chain at 1M footprints,
/// 121,618 tiles, made an 11 MB picture nobody can read, and grouping them pairwise took
/// minutes.)
pub(super) const TILES: usize = 200;

/// Squarified layout (Bruls, Huizing & van Wijk): rectangles for `values` (all > 0) in
/// `(x, y, w, h)`, in input order.
pub(super) fn squarify(values: &[f64], rect: (f64, f64, f64, f64)) -> Vec<(f64, f64, f64, f64)> {
    let total: f64 = values.iter().sum();
    let mut out = vec![(0.0, 0.0, 0.0, 0.0); values.len()];
    if total <= 0.0 || values.is_empty() {
        return out;
    }
    let (mut x, mut y, mut w, mut h) = rect;
    let scale = w * h / total;
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|a, b| values[*b].total_cmp(&values[*a]));
    let areas: Vec<f64> = order.iter().map(|i| values[*i] * scale).collect();
    let worst = |row: &[f64], side: f64| -> f64 {
        let s: f64 = row.iter().sum();
        let (mx, mn) = row
            .iter()
            .fold((0.0f64, f64::MAX), |(a, b), v| (a.max(*v), b.min(*v)));
        (side * side * mx / (s * s)).max(s * s / (side * side * mn))
    };
    let mut i = 0;
    while i < areas.len() {
        let side = w.min(h).max(1e-9);
        let mut j = i + 1;
        while j < areas.len() && worst(&areas[i..=j], side) <= worst(&areas[i..j], side) {
            j += 1;
        }
        let row = &areas[i..j];
        let s: f64 = row.iter().sum();
        if w >= h {
            let rw = s / h.max(1e-9);
            let mut yy = y;
            for (k, a) in row.iter().enumerate() {
                let rh = a / rw.max(1e-9);
                out[order[i + k]] = (x, yy, rw, rh);
                yy += rh;
            }
            x += rw;
            w -= rw;
        } else {
            let rh = s / w.max(1e-9);
            let mut xx = x;
            for (k, a) in row.iter().enumerate() {
                let rw = a / rh.max(1e-9);
                out[order[i + k]] = (xx, y, rw, rh);
                xx += rw;
            }
            y += rh;
            h -= rh;
        }
        i = j;
    }
    out
}

/// A treemap tile: `rect` (x, y, w, h) filled with `fill`, outlined in white.
fn tile<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    rect: (f64, f64, f64, f64),
    fill: ShapeStyle,
    outline: u32,
) -> Result<()> {
    let corners = [
        (rect.0 as i32, rect.1 as i32),
        ((rect.0 + rect.2) as i32, (rect.1 + rect.3) as i32),
    ];
    area.draw(&Rectangle::new(corners, fill)).map_err(err)?;
    area.draw(&Rectangle::new(corners, WHITE.stroke_width(outline)))
        .map_err(err)
}

pub(super) fn treemap<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    spec: &ChartSpec,
    t: &Table,
) -> Result<()> {
    let labels = t.shown_labels(&spec.x, spec.lang)?;
    let values = t.numbers(spec.y.first().ok_or_else(|| err("treemap needs y"))?)?;
    let groups = match &spec.group {
        Some(g) => t.shown_labels(g, spec.lang)?,
        None => labels.clone(),
    };
    let layout = Layout::of(&groups, &values, TILES);
    let rest_label = |n: usize| {
        let n = crate::output::grouped(&n.to_string());
        match spec.lang {
            Lang::Ja => format!("（その他 {n} 件）"),
            Lang::En => format!("(rest: {n})"),
        }
    };
    let (w, h) = area.dim_in_pixel();
    let legend_h = 22.0;
    let outer = squarify(
        &layout.totals,
        (4.0, 4.0, w as f64 - 8.0, h as f64 - 8.0 - legend_h),
    );
    let negative: f64 = values.iter().filter(|v| **v < 0.0).sum();
    for (pi, r) in outer.iter().enumerate() {
        let (name, members) = match layout.parents.get(pi) {
            Some(&g) => (groups[g].clone(), layout.members[pi].as_slice()),
            // The rest: one tile, named by how many rows it holds.
            None => (rest_label(layout.rest.1), &[][..]),
        };
        let color = PALETTE[pi % PALETTE.len()];
        let inner_vals: Vec<f64> = members.iter().map(|i| values[*i]).collect();
        let inner = squarify(
            &inner_vals,
            (
                r.0 + 2.0,
                r.1 + 16.0,
                (r.2 - 4.0).max(0.0),
                (r.3 - 18.0).max(0.0),
            ),
        );
        tile(area, *r, color.mix(0.35).filled(), 2)?;
        if r.2 > 40.0 && r.3 > 14.0 {
            let chars = ((r.2 - 6.0) / 8.0) as usize;
            area.draw(&Text::new(
                short(&name, chars.max(3)),
                ((r.0 + 3.0) as i32, (r.1 + 2.0) as i32),
                font(12),
            ))
            .map_err(err)?;
        }
        for (m, ir) in members.iter().zip(&inner) {
            tile(area, *ir, color.mix(0.8).filled(), 1)?;
            if ir.2 > 50.0 && ir.3 > 28.0 {
                let chars = ((ir.2 - 6.0) / 7.0) as usize;
                area.draw(&Text::new(
                    short(&labels[*m], chars.max(3)),
                    ((ir.0 + 3.0) as i32, (ir.1 + 3.0) as i32),
                    font(11).color(&WHITE),
                ))
                .map_err(err)?;
                area.draw(&Text::new(
                    crate::output::significant(values[*m]),
                    ((ir.0 + 3.0) as i32, (ir.1 + 16.0) as i32),
                    font(11).color(&WHITE),
                ))
                .map_err(err)?;
            }
        }
    }
    let mut note = format!("{}: {}", spec.lang.pick("面積", "area"), spec.y_label);
    if layout.rest.1 > 0 {
        let all = crate::output::grouped(&(TILES + layout.rest.1).to_string());
        note.push_str(&match spec.lang {
            Lang::Ja => format!("、{all} 件のうち大きい {TILES} 件を個別に、残りを1つに表示"),
            Lang::En => format!("; the largest {TILES} of {all} as tiles, the rest as one"),
        });
    }
    if negative < 0.0 {
        note.push_str(&match spec.lang {
            Lang::Ja => format!("、負の項目（不一致）{negative:.2} は表示なし"),
            Lang::En => format!("; not shown: {negative:.2} of negative items (mismatches)"),
        });
    }
    area.draw(&Text::new(
        note,
        (6, (h as f64 - legend_h + 4.0) as i32),
        font(12),
    ))
    .map_err(err)?;
    Ok(())
}

/// What a treemap draws: the groups of the rows drawn, each with its total and its rows, and
/// the rest.
#[derive(Debug, PartialEq)]
struct Layout {
    /// The row first naming each group, in order of first appearance among the rows drawn.
    parents: Vec<usize>,
    /// Each group's total, then the rest's (when there is one).
    totals: Vec<f64>,
    /// Each group's rows, in row order.
    members: Vec<Vec<usize>>,
    /// The rest: its total and how many rows it holds.
    rest: (f64, usize),
}

impl Layout {
    /// The positive rows of `values` (only they have an area), at most `tiles` of them, the
    /// largest (ties: the first); the others are the rest.
    fn of(groups: &[String], values: &[f64], tiles: usize) -> Layout {
        let mut drawn: Vec<usize> = (0..values.len()).filter(|&i| values[i] > 0.0).collect();
        let mut rest = (0.0, 0);
        if drawn.len() > tiles {
            drawn.sort_by(|&a, &b| values[b].total_cmp(&values[a]).then(a.cmp(&b)));
            for &i in &drawn[tiles..] {
                rest = (rest.0 + values[i], rest.1 + 1);
            }
            drawn.truncate(tiles);
            // Back in row order.
            drawn.sort_unstable();
        }
        let mut at: HashMap<&str, usize> = HashMap::new();
        let mut layout = Layout {
            parents: Vec::new(),
            totals: Vec::new(),
            members: Vec::new(),
            rest,
        };
        for i in drawn {
            let g = *at.entry(groups[i].as_str()).or_insert_with(|| {
                layout.parents.push(i);
                layout.totals.push(0.0);
                layout.members.push(Vec::new());
                layout.parents.len() - 1
            });
            layout.totals[g] += values[i];
            layout.members[g].push(i);
        }
        if rest.1 > 0 {
            layout.totals.push(rest.0);
        }
        layout
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn squarify_fills_the_rectangle() {
        let r = squarify(&[6.0, 6.0, 4.0, 3.0, 2.0, 2.0, 1.0], (0.0, 0.0, 6.0, 4.0));
        let area: f64 = r.iter().map(|x| x.2 * x.3).sum();
        assert!((area - 24.0).abs() < 1e-9);
        assert!(r.iter().all(|x| x.0 >= -1e-9
            && x.1 >= -1e-9
            && x.0 + x.2 <= 6.0 + 1e-9
            && x.1 + x.3 <= 4.0 + 1e-9));
    }

    #[test]
    fn the_largest_rows_are_tiles_and_the_others_one_rest() {
        let g = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let groups = g(&["A", "B", "A", "C", "B", "A"]);
        let values = [5.0, 1.0, 3.0, -2.0, 4.0, 0.5];
        // Within the limit: every positive row, groups in order of first appearance (the
        // negative C has no area).
        let all = Layout::of(&groups, &values, 10);
        assert_eq!(all.parents, vec![0, 1]);
        assert_eq!(all.totals, vec![8.5, 5.0]);
        assert_eq!(all.members, vec![vec![0, 2, 5], vec![1, 4]]);
        assert_eq!(all.rest, (0.0, 0));
        // Three tiles: 5, 4 and 3; the rest is 1 + 0.5 in two rows, its total last.
        let three = Layout::of(&groups, &values, 3);
        assert_eq!(three.parents, vec![0, 4]);
        assert_eq!(three.totals, vec![8.0, 4.0, 1.5]);
        assert_eq!(three.members, vec![vec![0, 2], vec![4]]);
        assert_eq!(three.rest, (1.5, 2));
        // Ties go to the first row.
        let tie = Layout::of(&g(&["X", "Y"]), &[1.0, 1.0], 1);
        assert_eq!(tie.members, vec![vec![0]]);
    }

    #[test]
    fn a_chain_s_every_footprint_is_laid_out_at_once() {
        // 200,000 rows in 150,000 groups (pairwise, this took minutes).
        let n = 200_000;
        let groups: Vec<String> = (0..n).map(|i| format!("S{}", i % 150_000)).collect();
        let values: Vec<f64> = (0..n).map(|i| 1.0 + (i % 977) as f64).collect();
        let l = Layout::of(&groups, &values, TILES);
        let drawn: usize = l.members.iter().map(Vec::len).sum();
        assert_eq!(drawn + l.rest.1, n);
        assert_eq!(drawn, TILES);
        let total: f64 = values.iter().sum();
        assert!((l.totals.iter().sum::<f64>() - total).abs() < 1e-6 * total);
    }
}
