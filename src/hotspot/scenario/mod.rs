//! What-if scenarios: a named list of changes applied on top of the stored data (never
//! written into it), and the decomposition of a product as it would be with them.
//!
//! A scenario is read from TOML (`scenarios/*.toml`) or JSON (`POST /api/whatif`), the same
//! fields in both:
//! - `replace`: product P's input X uses footprint Y instead (another supplier's, another
//!   version, or a footprint given in the scenario, for a supplier not in the data);
//! - `scale`: the amount of P's input X times a factor, or set to a value;
//! - `reduce`: a footprint's Gate-to-Gate emissions (or its whole CFP) lower by a percentage;
//! - `estimate`: an input left out of P's decomposition (no footprint, or counted in a unit
//!   that cannot be converted) gets an estimated footprint;
//! - `attribute`: a GX attribute of the product set (certified, circular inflow, …), for its
//!   score.
//!
//! How a change moves the numbers (`apply`): every footprint whose inputs or own emissions
//! change reports a CFP that moves by exactly as much, and so does every footprint above it,
//! by its amounts — each footprint's untraced remainder (what it reports beyond its inputs)
//! stays what it was per declared unit. An `estimate` is the exception: it explains part of
//! what the footprint already reports, so its CFP stays and its untraced remainder shrinks.
//! Values are the hotspot engine's fixed point (12 places per unit, rounded half to even once
//! per footprint), and the scenario's items sum to its CFP exactly.

mod apply;
mod part;

use std::fmt;

use rust_decimal::Decimal;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

pub use apply::{Applied, Estimated, apply};

use crate::model::fixed;
use crate::{Error, Result};

/// Decimal places of the numbers a scenario gives (the stored tables' scale).
const PLACES: u32 = 12;

/// A number from a scenario, exact: TOML and JSON numbers are read by their shortest decimal
/// form (`0.9` is 0.9, not the binary fraction nearest to it), strings as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Num(Decimal);

impl Num {
    /// The decimal.
    pub fn decimal(self) -> Decimal {
        self.0
    }

    /// At 12 decimal places; `None` with more places or beyond range.
    pub fn fixed(self) -> Option<i128> {
        let d = self.0.normalize();
        if d.scale() > PLACES {
            return None;
        }
        d.mantissa()
            .checked_mul(fixed::pow10(PLACES - d.scale()))
            .filter(|v| v.unsigned_abs() < fixed::pow10(26).unsigned_abs())
    }
}

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.normalize())
    }
}

impl Serialize for Num {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Num, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Num;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number (or a decimal as text)")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Num, E> {
                Ok(Num(Decimal::from(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Num, E> {
                Ok(Num(Decimal::from(v)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<Num, E> {
                if !v.is_finite() {
                    return Err(E::custom(format!("{v} is not a number")));
                }
                // Rust writes the shortest decimal that reads back as the same f64.
                self.visit_str(&v.to_string())
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Num, E> {
                Decimal::from_str_exact(v.trim())
                    .or_else(|_| Decimal::from_scientific(v.trim()))
                    .map(Num)
                    .map_err(|_| E::custom(format!("{v:?} is not a decimal number")))
            }
        }
        d.deserialize_any(V)
    }
}

/// A scenario: a name and the changes, in order.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// What it is called (shown beside the numbers).
    pub name: String,
    /// What it is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The product it is about (a product URN or footprint id), when the caller names none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// The changes, applied together.
    #[serde(default)]
    pub changes: Vec<Change>,
}

/// What a `reduce` lowers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Of {
    /// The footprint's Gate-to-Gate emissions (its own operations).
    #[default]
    G2g,
    /// Its whole cradle-to-gate footprint (for a black box, or a supplier's total).
    Cfp,
}

/// One change of a scenario. `product` names the footprint whose input changes (a product
/// URN or footprint id in the chain; the scenario's product when left out).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Change {
    /// Product P's input X uses footprint `with` (or the `footprint` given) instead.
    Replace {
        /// P.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        product: Option<String>,
        /// X: the input's product URN (as the bill of materials names it) or footprint id.
        input: String,
        /// Y: a product URN or footprint id in the data.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        with: Option<String>,
        /// Or Y given here (a supplier not in the data).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        footprint: Option<Estimate>,
    },
    /// The amount of product P's input X times `factor`, or set to `amount` (per declared
    /// unit of P, in the input's declared unit).
    Scale {
        /// P.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        product: Option<String>,
        /// X.
        input: String,
        /// Times this.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        factor: Option<Num>,
        /// Or this amount.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        amount: Option<Num>,
    },
    /// A footprint's Gate-to-Gate emissions (or CFP) lower by `pct` percent.
    Reduce {
        /// A product URN or footprint id in the chain.
        footprint: String,
        /// Percent, 0 to 100 (negative: an increase).
        pct: Num,
        /// `g2g` (default) or `cfp`.
        #[serde(default)]
        of: Of,
    },
    /// Product P's input X, left out of its decomposition, gets `footprint`.
    Estimate {
        /// P.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        product: Option<String>,
        /// X: the product URN its bill of materials names.
        input: String,
        /// The estimate, per unit the bill of materials counts X in.
        footprint: Estimate,
    },
    /// GX attributes of product P set, for its score.
    Attribute {
        /// P.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        product: Option<String>,
        /// Third-party certified.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        certified: Option<bool>,
        /// GX declaration made.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        gx_declaration: Option<bool>,
        /// Progress disclosed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        progress_disclosed: Option<bool>,
        /// Publicly disclosed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        publicly_disclosed: Option<bool>,
        /// Contributes to national targets.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        national_target_contribution: Option<bool>,
        /// Backed by support measures.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        support_measures: Option<bool>,
        /// Additionality.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        additionality: Option<bool>,
        /// Circular inflow rate, percent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        circular_inflow_pct: Option<Num>,
        /// Circular outflow rate, percent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        circular_outflow_pct: Option<Num>,
        /// Avoided emissions, kgCO2e per declared unit.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        aep_kgco2e_per_unit: Option<Num>,
    },
}

impl Change {
    /// `replace`, `scale`, …
    pub fn kind(&self) -> &'static str {
        match self {
            Change::Replace { .. } => "replace",
            Change::Scale { .. } => "scale",
            Change::Reduce { .. } => "reduce",
            Change::Estimate { .. } => "estimate",
            Change::Attribute { .. } => "attribute",
        }
    }
}

/// A footprint a scenario gives: secondary data for an input, or a supplier not in the data.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Estimate {
    /// Cradle-to-gate, kgCO2e per unit.
    pub cfp: Num,
    /// Gate-to-Gate part of it, when known (then the rest is untraced upstream); without it
    /// the estimate is one item, its whole CFP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub g2g: Option<Num>,
    /// The supplier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    /// The product's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_name: Option<String>,
    /// Where the number comes from (a database, a quote).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// PACT data quality ratings, 1 (best) to 3 (v2) or 5 (v3), as the source gives them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub technological_dqr: Option<Num>,
    /// Temporal DQR.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temporal_dqr: Option<Num>,
    /// Geographical DQR.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geographical_dqr: Option<Num>,
    /// Primary data share, percent (0 for database values).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_data_share_pct: Option<Num>,
}

impl Scenario {
    /// Reads a scenario from TOML; `source` names it in errors.
    pub fn from_toml(source: &str, text: &str) -> Result<Scenario> {
        let s: Scenario = toml::from_str(text)
            .map_err(|e| Error::Usage(format!("scenario {source}: {}", e.to_string().trim())))?;
        s.check(source)
    }

    /// Reads a scenario from JSON; `source` names it in errors.
    pub fn from_json(source: &str, text: &str) -> Result<Scenario> {
        let s: Scenario = serde_json::from_str(text)
            .map_err(|e| Error::Usage(format!("scenario {source}: {e}")))?;
        s.check(source)
    }

    /// What can be checked without data: numbers in range, each change complete.
    fn check(self, source: &str) -> Result<Scenario> {
        let bad = |i: usize, c: &Change, why: String| {
            Error::Usage(format!(
                "scenario {source}: change {} ({}): {why}",
                i + 1,
                c.kind()
            ))
        };
        if self.name.trim().is_empty() {
            return Err(Error::Usage(format!("scenario {source}: name is empty")));
        }
        if self.changes.len() > MAX_CHANGES {
            return Err(Error::Usage(format!(
                "scenario {source}: {} changes; at most {MAX_CHANGES}",
                self.changes.len()
            )));
        }
        let fits = |n: &Num, what: &str| {
            n.fixed().map(|_| ()).ok_or_else(|| {
                format!("{what} {n}: expected at most 12 decimal places and below 10^14")
            })
        };
        for (i, c) in self.changes.iter().enumerate() {
            let checked = match c {
                Change::Replace {
                    with, footprint, ..
                } => match (with, footprint) {
                    (Some(_), None) => Ok(()),
                    (None, Some(f)) => f.check(&fits),
                    _ => Err("give either `with` (a footprint in the data) or `footprint` (one given here), not both".into()),
                },
                Change::Scale { factor, amount, .. } => match (factor, amount) {
                    (Some(f), None) if f.decimal().is_sign_negative() => {
                        Err(format!("factor {f}: expected 0 or more"))
                    }
                    (None, Some(a)) if a.decimal().is_sign_negative() => {
                        Err(format!("amount {a}: expected 0 or more"))
                    }
                    (Some(f), None) => fits(f, "factor"),
                    (None, Some(a)) => fits(a, "amount"),
                    _ => Err("give either `factor` or `amount`, not both".into()),
                },
                Change::Reduce { pct, .. } => {
                    if pct.decimal() > Decimal::ONE_HUNDRED {
                        Err(format!("pct {pct}: a reduction of more than 100 %"))
                    } else {
                        fits(pct, "pct")
                    }
                }
                Change::Estimate { footprint, .. } => footprint.check(&fits),
                Change::Attribute {
                    circular_inflow_pct,
                    circular_outflow_pct,
                    aep_kgco2e_per_unit,
                    ..
                } => [
                    ("circular_inflow_pct", circular_inflow_pct),
                    ("circular_outflow_pct", circular_outflow_pct),
                    ("aep_kgco2e_per_unit", aep_kgco2e_per_unit),
                ]
                .into_iter()
                .filter_map(|(w, n)| n.as_ref().map(|n| fits(n, w)))
                .collect::<std::result::Result<(), String>>(),
            };
            checked.map_err(|why| bad(i, c, why))?;
        }
        Ok(self)
    }
}

/// Changes one scenario may hold.
pub const MAX_CHANGES: usize = 1000;

impl Estimate {
    fn check(
        &self,
        fits: &dyn Fn(&Num, &str) -> std::result::Result<(), String>,
    ) -> std::result::Result<(), String> {
        fits(&self.cfp, "footprint.cfp")?;
        if let Some(g) = &self.g2g {
            fits(g, "footprint.g2g")?;
        }
        for (what, d) in [
            ("technological_dqr", &self.technological_dqr),
            ("temporal_dqr", &self.temporal_dqr),
            ("geographical_dqr", &self.geographical_dqr),
        ] {
            if let Some(d) = d
                && !(Decimal::ONE..=Decimal::from(5)).contains(&d.decimal())
            {
                return Err(format!("footprint.{what} {d}: expected 1 to 5"));
            }
        }
        if let Some(p) = &self.primary_data_share_pct
            && !(Decimal::ZERO..=Decimal::ONE_HUNDRED).contains(&p.decimal())
        {
            return Err(format!(
                "footprint.primary_data_share_pct {p}: expected 0 to 100"
            ));
        }
        Ok(())
    }
}
