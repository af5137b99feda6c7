//! What-if as the CLI and the API show it: JSON (the same for `mieruka whatif --format json`
//! and `POST /api/whatif`) and text.

use serde_json::{Value, json};

use crate::hotspot::VALUE_SCALE;
use crate::model::fixed;
use crate::output::significant;
use crate::query::whatif::{Row, WhatIf};

fn kg(v: i128) -> String {
    fixed::format(v, VALUE_SCALE)
}

/// Four significant digits, for text.
fn sig(v: i128) -> String {
    significant(fixed::to_f64(v, VALUE_SCALE))
}

/// `s` cut to `width` columns, with an ellipsis when cut.
fn cut(s: &str, width: usize) -> String {
    use unicode_width::UnicodeWidthChar;
    if unicode_width::UnicodeWidthStr::width(s) <= width {
        return s.to_owned();
    }
    let mut out = String::new();
    let mut w = 0;
    for c in s.chars() {
        let cw = c.width().unwrap_or(0);
        if w + cw + 1 > width {
            break;
        }
        out.push(c);
        w += cw;
    }
    out.push('…');
    out
}

fn rows(rows: &[Row], key: &str) -> Value {
    Value::Array(
        rows.iter()
            .map(|r| {
                json!({
                    "name": r.name,
                    key: r.key,
                    "before_kgco2e_per_unit": kg(r.kgco2e.before),
                    "after_kgco2e_per_unit": kg(r.kgco2e.after),
                    "change_kgco2e_per_unit": kg(r.kgco2e.change()),
                })
            })
            .collect(),
    )
}

/// The JSON answer. Values are exact decimal strings, as in the hotspot answer; the
/// scenario's items sum to `cfp.after_kgco2e_per_unit`, and so do `by_tier`'s `after`
/// values; `by_supplier` and `footprints_changed` list what changes (the largest changes,
/// then a `(rest)` row), their changes adding up to the CFP's.
pub fn to_json(w: &WhatIf) -> Value {
    let score = match &w.score {
        Ok(s) => json!({
            "category": s.category,
            "products_in_category": s.products,
            "gx_score_before": s.before.to_string(),
            "gx_score_after": s.after.to_string(),
            "rank_before": s.rank_before,
            "rank_after": s.rank_after,
        }),
        Err(why) => json!({ "none": why }),
    };
    json!({
        "scenario": { "name": w.scenario.name, "description": w.scenario.description },
        "product": w.product,
        "basis": w.basis.as_str(),
        "as_of": w.as_of,
        "cfp": {
            "before_kgco2e_per_unit": kg(w.cfp.before),
            "after_kgco2e_per_unit": kg(w.cfp.after),
            "change_kgco2e_per_unit": kg(w.cfp.change()),
            "change_pct": w.cfp.change_pct(),
        },
        "changes": w.effects.iter().map(|(k, e, ja)| json!({ "kind": k, "effect": e, "effect_ja": ja })).collect::<Vec<_>>(),
        "footprints_recomputed": w.recomputed,
        "items": w.items,
        "by_supplier": rows(&w.suppliers, "company_id"),
        "by_tier": rows(&w.tiers, "tier"),
        "footprints_changed": rows(&w.footprints, "footprint_id"),
        "score": score,
    })
}

fn table(out: &mut String, title: &str, rows: &[Row]) {
    let shown: Vec<&Row> = rows.iter().collect();
    if shown.is_empty() {
        return;
    }
    let width = shown
        .iter()
        .map(|r| unicode_width::UnicodeWidthStr::width(r.name.as_str()))
        .max()
        .unwrap_or(0)
        .clamp(4, 48);
    out.push_str(&format!(
        "\n{title}\n{:<width$}  {:>14}  {:>14}  {:>14}\n",
        "", "before", "after", "change"
    ));
    for r in shown {
        let name = cut(&r.name, width);
        let pad = width.saturating_sub(unicode_width::UnicodeWidthStr::width(name.as_str()));
        out.push_str(&format!(
            "{name}{}  {:>14}  {:>14}  {:>14}\n",
            " ".repeat(pad),
            sig(r.kgco2e.before),
            sig(r.kgco2e.after),
            sig(r.kgco2e.change()),
        ));
    }
}

/// The text answer: the CFP before and after (exact), what each change did, the change by
/// supplier and tier, the footprints that changed, the score.
pub fn to_text(w: &WhatIf) -> String {
    let mut out = format!(
        "{} — {}\n{} ({}), as of {}\n\nCFP {} → {} kgCO2e per {} ({}{})\n",
        w.scenario.name,
        w.product.product_name,
        w.product.company_name,
        w.product.footprint_id,
        w.as_of,
        kg(w.cfp.before),
        kg(w.cfp.after),
        w.product.declared_unit.as_deref().unwrap_or("unit"),
        if w.cfp.change() >= 0 { "+" } else { "" },
        kg(w.cfp.change()),
    );
    if let Some(p) = w.cfp.change_pct() {
        out.truncate(out.len() - 2);
        out.push_str(&format!(", {p:+.2} %)\n"));
    }
    out.push_str("\nchanges:\n");
    for (i, (k, e, _)) in w.effects.iter().enumerate() {
        out.push_str(&format!("  {}. [{k}] {e}\n", i + 1));
    }
    table(
        &mut out,
        "suppliers that change (kgCO2e per unit, their whole contribution)",
        &w.suppliers,
    );
    table(&mut out, "by tier", &w.tiers);
    table(&mut out, "footprints that change", &w.footprints);
    match &w.score {
        Ok(s) => out.push_str(&format!(
            "\nGX score {} → {}; rank in category {} {} → {} of {} (the other products as stored)\n",
            s.before, s.after, s.category, s.rank_before, s.rank_after, s.products
        )),
        Err(why) => out.push_str(&format!("\nno score: {why}\n")),
    }
    out.push_str(&format!(
        "\n{} footprints recomputed; the scenario's {} items sum to its CFP exactly\n",
        w.recomputed, w.items
    ));
    out
}
