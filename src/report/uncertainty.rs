//! "How sure": a decomposition's Monte Carlo ([`crate::hotspot::uncertainty`]) as the CLI
//! and the API show it — JSON, CSV (one row per supplier and tier) and text.

use serde_json::{Value, json};
use unicode_width::UnicodeWidthStr;

use crate::hotspot::{Decomposition, ShareInterval, Uncertainty};
use crate::output::significant;

/// The JSON answer: the product, the CFP's interval, the suppliers' and tiers' shares.
pub fn to_json(d: &Decomposition, u: &Uncertainty) -> Value {
    json!({
        "product": d.product,
        "cfp_kgco2e_per_unit": u.cfp_kgco2e_per_unit,
        "samples": u.samples,
        "seed": u.seed,
        "mean_kgco2e_per_unit": u.mean_kgco2e_per_unit,
        "sd_kgco2e_per_unit": u.sd_kgco2e_per_unit,
        "cfp_interval": u.cfp_interval,
        "suppliers": u.suppliers,
        "tiers": u.tiers,
    })
}

/// CSV: `group, name, share_pct, p2_5_pct, p50_pct, p97_5_pct`, suppliers then tiers.
pub fn to_csv(u: &Uncertainty) -> String {
    let mut s = String::from("group,name,share_pct,p2_5_pct,p50_pct,p97_5_pct\n");
    for (group, rows) in [("supplier", &u.suppliers), ("tier", &u.tiers)] {
        for r in rows {
            s.push_str(&format!(
                "{group},{},{},{},{},{}\n",
                crate::escape::csv(&r.name),
                r.share_pct,
                r.interval_pct.p2_5,
                r.interval_pct.p50,
                r.interval_pct.p97_5
            ));
        }
    }
    s
}

fn table(title: &str, rows: &[ShareInterval]) -> String {
    let pct = |v: f64| format!("{v:.1}");
    let width = rows
        .iter()
        .map(|r| r.name.width())
        .chain([title.len()])
        .max()
        .unwrap_or(0);
    let mut s = format!(
        "{title:<width$}  {:>9}  {:>7}  {:>7}  {:>7}\n",
        "share (%)", "2.5 %", "median", "97.5 %"
    );
    for r in rows {
        let pad = width - r.name.width();
        s.push_str(&format!(
            "{}{}  {:>9}  {:>7}  {:>7}  {:>7}\n",
            r.name,
            " ".repeat(pad),
            pct(r.share_pct),
            pct(r.interval_pct.p2_5),
            pct(r.interval_pct.p50),
            pct(r.interval_pct.p97_5)
        ));
    }
    s
}

/// Text for a terminal.
pub fn to_text(d: &Decomposition, u: &Uncertainty) -> String {
    let unit = d
        .product
        .declared_unit
        .as_deref()
        .unwrap_or("declared unit");
    let i = u.cfp_interval;
    let mut s = format!(
        "How sure: {} — {} ({}), {} samples, seed {}\n\
         CFP {} kgCO2e per {unit}; 95 % of the samples between {} and {} (median {}, mean {})\n\n",
        d.product.product_name,
        d.product.company_name,
        d.product.footprint_id,
        u.samples,
        u.seed,
        significant(u.cfp_kgco2e_per_unit),
        significant(i.p2_5),
        significant(i.p97_5),
        significant(i.p50),
        significant(u.mean_kgco2e_per_unit),
    );
    s.push_str(&table("supplier", &u.suppliers));
    s.push('\n');
    s.push_str(&table("tier", &u.tiers));
    s.push_str(
        "\nEach footprint's figures vary by a lognormal factor with mean 1 whose spread comes from its \
         data quality (DQRs, primary data share, calculation method; wider for untraced and \
         unresolved parts: the spread table, `--spreads`); a supplier reached through several \
         paths is one draw per sample.\n",
    );
    s
}
