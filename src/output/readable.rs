//! Numbers for people: what tables on a terminal and on a dashboard show. Amounts of
//! kgCO2e to four significant digits, shares (`…_pct`, `…share…`) to one decimal, scores and
//! points to one decimal, other fractions to four significant digits, and thousands
//! separators from 10,000 up (a year stays 2024). Headers name their unit. CSV, JSON, Arrow
//! and Parquet keep every digit: this module is only for reading.

use datafusion::arrow::array::{Array, ArrayRef, Decimal128Array, Float32Array, Float64Array};
use datafusion::arrow::datatypes::DataType;
use rust_decimal::{Decimal, RoundingStrategy};

/// How a numeric column is rounded for reading, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A share or percentage: one decimal.
    Share,
    /// A score or points: one decimal.
    Score,
    /// Anything else with a fraction (kgCO2e, DQRs, amounts): four significant digits.
    Significant,
}

fn kind(name: &str) -> Kind {
    let n = name.to_ascii_lowercase();
    if n.ends_with("_pct") || n.ends_with("pct") || n.contains("share") || n.ends_with("%") {
        Kind::Share
    } else if n.contains("score") || n.ends_with("_pt") || n.contains("points") {
        Kind::Score
    } else {
        Kind::Significant
    }
}

/// A column name with its unit spelled out: `cfp_kgco2e_per_unit` → `cfp (kgCO2e/unit)`,
/// `share_pct` → `share (%)`, `emissions_kgco2e` → `emissions (kgCO2e)`.
pub fn heading(name: &str) -> String {
    const UNITS: [(&str, &str); 6] = [
        ("_kgco2e_per_unit", "kgCO2e/unit"),
        ("_kgco2e_per_kg", "kgCO2e/kg"),
        ("_kgco2e", "kgCO2e"),
        ("_pct", "%"),
        ("_kg", "kg"),
        ("_ms", "ms"),
    ];
    if name == "kgco2e" {
        return "kgCO2e".into();
    }
    for (suffix, unit) in UNITS {
        if let Some(stem) = name.strip_suffix(suffix)
            && !stem.is_empty()
        {
            return format!("{stem} ({unit})");
        }
    }
    name.to_owned()
}

/// Cell `row` of the column named `name`, for reading; non-numbers as [`super::text`].
pub fn cell(name: &str, col: &ArrayRef, row: usize) -> String {
    if col.is_null(row) {
        return String::new();
    }
    let any = col.as_any();
    let value: Option<Decimal> = match col.data_type() {
        DataType::Decimal128(_, scale) if *scale >= 0 => any
            .downcast_ref::<Decimal128Array>()
            .and_then(|a| decimal(a.value(row), *scale as u32)),
        DataType::Float64 => any
            .downcast_ref::<Float64Array>()
            .and_then(|a| float(a.value(row))),
        DataType::Float32 => any
            .downcast_ref::<Float32Array>()
            .and_then(|a| float(f64::from(a.value(row)))),
        t if t.is_integer() => {
            let text = super::text(col, row);
            return text
                .parse::<i128>()
                .map_or(text, |v| grouped(&v.to_string()));
        }
        _ => None,
    };
    match value {
        Some(v) => number(kind(name), v),
        None => super::text(col, row),
    }
}

/// `v` at `scale` as a `Decimal`, which holds 28 digits: the digits past them are dropped
/// (shown to four significant digits, they change nothing). Items are at 24 decimals, so
/// from 79,228 kgCO2e up a value has more than 28 digits; it was shown with all of them.
fn decimal(mut v: i128, mut scale: u32) -> Option<Decimal> {
    loop {
        if let Ok(d) = Decimal::try_from_i128_with_scale(v, scale) {
            return Some(d);
        }
        if scale == 0 {
            return None;
        }
        v /= 10;
        scale -= 1;
    }
}

/// `v` to four significant digits with thousands separators (chart axes and labels).
pub fn significant(v: f64) -> String {
    match float(v) {
        Some(d) => number(Kind::Significant, d),
        None => v.to_string(),
    }
}

fn float(v: f64) -> Option<Decimal> {
    if v.is_finite() {
        Decimal::from_f64_retain(v)
    } else {
        None
    }
}

/// `v` rounded for reading as `kind`, with thousands separators.
fn number(kind: Kind, v: Decimal) -> String {
    let r = match kind {
        Kind::Share | Kind::Score => {
            v.round_dp_with_strategy(1, RoundingStrategy::MidpointNearestEven)
        }
        Kind::Significant => v
            .round_sf_with_strategy(4, RoundingStrategy::MidpointNearestEven)
            .unwrap_or(v),
    };
    let mut text = r.normalize().to_string();
    if text == "-0" {
        text = "0".into();
    }
    grouped(&text)
}

/// Thousands separators in the integer part of `text`, when it has five digits or more.
pub(crate) fn grouped(text: &str) -> String {
    let (sign, rest) = match text.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", text),
    };
    let (int, frac) = match rest.find('.') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    if int.len() < 5 || !int.bytes().all(|b| b.is_ascii_digit()) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + int.len() / 3);
    out.push_str(sign);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out.push_str(frac);
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::Int64Array;

    use super::*;

    fn dec(v: i128, scale: i8) -> ArrayRef {
        Arc::new(
            Decimal128Array::from(vec![v])
                .with_precision_and_scale(38, scale)
                .expect("decimal"),
        )
    }

    #[test]
    fn kgco2e_to_four_significant_digits() {
        // 2,125,390.6686 → 2,125,000; 150.4727 → 150.5; 0.0012345 → 0.001234 (half to even).
        assert_eq!(
            cell("emissions_kgco2e", &dec(21_253_906_686, 4), 0),
            "2,125,000"
        );
        assert_eq!(cell("cfp_kgco2e_per_unit", &dec(1_504_727, 4), 0), "150.5");
        assert_eq!(cell("item_kgco2e", &dec(12_345, 7), 0), "0.001234");
        // At 24 decimals, as items are, past Decimal's 28 digits: 1,996,544.98954627303673232
        // (31 digits) → 1,997,000; 10^12 (37 digits) → 1,000,000,000,000; the minus kept.
        let big = 1_996_544_989_546_273_036_732_321_085_000_i128;
        assert_eq!(cell("kgco2e", &dec(big, 24), 0), "1,997,000");
        assert_eq!(cell("kgco2e", &dec(-big, 24), 0), "-1,997,000");
        assert_eq!(
            cell("kgco2e", &dec(10_i128.pow(36), 24), 0),
            "1,000,000,000,000"
        );
        let f: ArrayRef = Arc::new(Float64Array::from(vec![9.370443940993948]));
        assert_eq!(cell("weighted_dqr", &f, 0), "9.37");
    }

    #[test]
    fn shares_and_scores_to_one_decimal() {
        let f: ArrayRef = Arc::new(Float64Array::from(vec![49.4837734685428]));
        assert_eq!(cell("share_pct", &f, 0), "49.5");
        assert_eq!(cell("gx_score", &dec(68_333_333, 6), 0), "68.3");
        assert_eq!(cell("circulation_pt", &dec(-4, 2), 0), "0");
    }

    #[test]
    fn integers_group_from_five_digits() {
        let i: ArrayRef = Arc::new(Int64Array::from(vec![2024, 16_220, -1_002_000]));
        assert_eq!(cell("year", &i, 0), "2024");
        assert_eq!(cell("items", &i, 1), "16,220");
        assert_eq!(cell("delta", &i, 2), "-1,002,000");
    }

    #[test]
    fn headings_name_their_unit() {
        assert_eq!(heading("cfp_kgco2e_per_unit"), "cfp (kgCO2e/unit)");
        assert_eq!(heading("share_pct"), "share (%)");
        assert_eq!(heading("_pct"), "_pct");
        assert_eq!(heading("kgco2e"), "kgCO2e");
        assert_eq!(heading("product_name"), "product_name");
    }
}
