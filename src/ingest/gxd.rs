//! The Green x Digital Consortium data model extension (GxD): `calcMethod`, `FWedition`,
//! `organization.*`, `certificate.*` and `gateToGate.*`, typed.
//!
//! Accepted leniently, as the consortium's own documents and schema revisions differ:
//! - the published schema lists `declaredUnit` and `crossSectoralStandardsUsed` as required in
//!   `organization` although it no longer defines them; their absence is not an error;
//! - the older field names (`gateToGate.fossilGhgEmissions`, `gateToGate.biogenicCarbonContent`,
//!   `upstreamEmissions`, `creditAmount`, `certificateAmount`, `scope3Category`,
//!   `distributionLevel`, `distributionIndex`) are read wherever they appear (top level,
//!   `gateToGate` or `organization`);
//! - amounts written as JSON numbers instead of decimal strings are read exactly, with a warning.

use std::borrow::Cow;

use rust_decimal::Decimal;
use serde_json::value::RawValue;

use super::json::{Checker, Ptr, Sign, number_or_decimal_string, pointer, string};
use super::pact_values::object;
use crate::model::{CalcMethod, Gxd};

const LEVELS: [&str; 4] = ["organization", "site", "building", "production line"];
const INDEXES: [&str; 3] = ["volume", "unit", "production"];

/// Whether an extension's data looks like GxD even though its `dataSchema` does not say so.
pub(crate) fn has_gxd_shape(c: &Checker, data: &RawValue) -> bool {
    c.object(data).is_ok_and(|e| {
        let has = |key: &str| e.0.iter().any(|(k, _)| k == key);
        has("calcMethod")
            && (has("gateToGate") || has("FWedition") || has("organization") || has("certificate"))
    })
}

fn amount(c: &mut Checker, ptr: &Ptr, key: &str, raw: &RawValue, sign: Sign) -> Option<Decimal> {
    let here = || pointer(ptr, key);
    match number_or_decimal_string(raw) {
        Ok((d, was_string)) => {
            if !was_string {
                c.warn(
                    Some(raw),
                    here(),
                    "GxD writes amounts as decimal strings; the number was read exactly",
                );
            }
            let ok = match sign {
                Sign::NonNegative => d >= Decimal::ZERO,
                _ => true,
            };
            if ok {
                Some(d)
            } else {
                c.error(
                    Some(raw),
                    here(),
                    format!("{d} is out of range: expected a value ≥ 0"),
                );
                None
            }
        }
        Err(message) => {
            c.error(Some(raw), here(), message);
            None
        }
    }
}

fn text<'a>(c: &mut Checker, ptr: &Ptr, key: &str, raw: &'a RawValue) -> Option<Cow<'a, str>> {
    match string(raw) {
        Ok(s) => Some(s),
        Err(m) => {
            c.error(Some(raw), pointer(ptr, key), m);
            None
        }
    }
}

fn choice<'a>(
    c: &mut Checker,
    ptr: &Ptr,
    key: &str,
    raw: &'a RawValue,
    allowed: &[&str],
) -> Option<Cow<'a, str>> {
    let s = text(c, ptr, key, raw)?;
    if allowed.contains(&s.as_ref()) {
        Some(s)
    } else {
        let list: Vec<String> = allowed.iter().map(|a| format!("{a:?}")).collect();
        c.error(
            Some(raw),
            pointer(ptr, key),
            format!("{s:?} is not one of {}", list.join(", ")),
        );
        None
    }
}

fn categories<'a>(c: &mut Checker, ptr: &Ptr, key: &str, raw: &'a RawValue) -> Vec<Cow<'a, str>> {
    let here = ptr.key(key);
    // Older documents give a single category as a string.
    if raw.get().starts_with('"') {
        return text(c, ptr, key, raw).into_iter().collect();
    }
    match c.array(raw) {
        Ok(items) => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| text(c, &here, &i.to_string(), item))
            .collect(),
        Err(m) => {
            c.error(Some(raw), here.get(), m);
            Vec::new()
        }
    }
}

/// Older single `distributionLevel`/`distributionIndex` apply to all three scopes.
fn older_per_scope<'a>(
    c: &mut Checker,
    ptr: &Ptr,
    key: &str,
    raw: &'a RawValue,
    allowed: &[&str],
    slots: &mut [Option<Cow<'a, str>>; 3],
) {
    if let Some(v) = choice(c, ptr, key, raw, allowed) {
        c.warn(
            Some(raw),
            pointer(ptr, key),
            "older GxD field: applied to scopes 1, 2 and 3",
        );
        for slot in slots.iter_mut().filter(|s| s.is_none()) {
            *slot = Some(v.clone());
        }
    }
}

/// Fields that older GxD documents place at the top level or inside any sub-object.
fn older_field<'a>(
    c: &mut Checker,
    g: &mut Gxd<'a>,
    ptr: &Ptr,
    key: &str,
    raw: &'a RawValue,
) -> bool {
    match key {
        "upstreamEmissions" => {
            g.upstream_emissions_kgco2e_per_unit = amount(c, ptr, key, raw, Sign::NonNegative)
        }
        "creditAmount" => {
            g.credit_amount_kgco2e_per_unit = amount(c, ptr, key, raw, Sign::NonNegative)
        }
        "certificateAmount" => {
            g.certificate_amount_kgco2e_per_unit = amount(c, ptr, key, raw, Sign::NonNegative)
        }
        "scope3Category" => g.scope3_category = categories(c, ptr, key, raw),
        "distributionLevel" => {
            older_per_scope(c, ptr, key, raw, &LEVELS, &mut g.distribution_level)
        }
        "distributionIndex" => {
            older_per_scope(c, ptr, key, raw, &INDEXES, &mut g.distribution_index)
        }
        _ => return false,
    }
    true
}

fn unknown(c: &mut Checker, ptr: &Ptr, key: &str, raw: &RawValue) {
    c.warn(
        Some(raw),
        pointer(ptr, key),
        "unknown GxD property, ignored (it stays in the stored original document)",
    );
}

/// Parses the GxD extension's `data` object at `ptr`. `by_schema` says whether the
/// extension named the GxD schema (then `calcMethod` is required, as the schema says).
pub(crate) fn parse<'a>(
    c: &mut Checker,
    data: &'a RawValue,
    ptr: &Ptr,
    by_schema: bool,
) -> Option<Gxd<'a>> {
    let entries = object(c, data, ptr)?;
    let before = c.errors.len();
    let mut g = Gxd::default();
    let mut organization_seen = false;
    for (k, v) in &entries.0 {
        let k = k.as_ref();
        match k {
            "calcMethod" => {
                // Schema: the string "0" or "1". Integers occur in older exports.
                let code = match v.get() {
                    "0" | "1" => {
                        c.warn(
                            Some(v),
                            pointer(ptr, k),
                            "calcMethod is a string in GxD; the number was accepted",
                        );
                        Some(Cow::Borrowed(v.get()))
                    }
                    _ => choice(c, ptr, k, v, &["0", "1"]),
                };
                g.calc_method = code.map(|s| {
                    if s == "0" {
                        CalcMethod::ProductBased
                    } else {
                        CalcMethod::OrganizationBased
                    }
                });
            }
            "FWedition" => g.fw_edition = text(c, ptr, k, v),
            "organization" => {
                organization_seen = true;
                organization(c, &mut g, &ptr.key(k), v);
            }
            "certificate" => {
                let p = ptr.key(k);
                if let Some(sub) = object(c, v, &p) {
                    for (k, v) in &sub.0 {
                        match k.as_ref() {
                            "certificateAmount" => {
                                g.certificate_amount_kgco2e_per_unit =
                                    amount(c, &p, k, v, Sign::NonNegative)
                            }
                            "certificateType" => g.certificate_type = text(c, &p, k, v),
                            _ if older_field(c, &mut g, &p, k, v) => {}
                            _ => unknown(c, &p, k, v),
                        }
                    }
                }
            }
            "gateToGate" => {
                let p = ptr.key(k);
                if let Some(sub) = object(c, v, &p) {
                    for (k, v) in &sub.0 {
                        match k.as_ref() {
                            "gateToGateFossilGhgEmissions" | "fossilGhgEmissions" => {
                                g.g2g_fossil_ghg_emissions_kgco2e_per_unit =
                                    amount(c, &p, k, v, Sign::NonNegative)
                            }
                            "gateToGateBiogenicCarbonContent" | "biogenicCarbonContent" => {
                                g.g2g_biogenic_carbon_content_kgco2e_per_unit =
                                    amount(c, &p, k, v, Sign::Any)
                            }
                            "unitaryProductAmountComment" => {
                                g.unitary_product_amount_comment = text(c, &p, k, v)
                            }
                            _ if older_field(c, &mut g, &p, k, v) => {}
                            _ => unknown(c, &p, k, v),
                        }
                    }
                }
            }
            _ if older_field(c, &mut g, ptr, k, v) => {}
            _ => unknown(c, ptr, k, v),
        }
    }
    if g.calc_method.is_none() && !entries.0.iter().any(|(k, _)| k == "calcMethod") {
        if by_schema {
            c.error(
                None,
                pointer(ptr, "calcMethod"),
                "missing required GxD property (\"0\" product-based, \"1\" organization-based)",
            );
        } else {
            c.warn(
                None,
                pointer(ptr, "calcMethod"),
                "missing; calculation method unknown",
            );
        }
    }
    if g.fw_edition.is_none() {
        c.warn(
            None,
            pointer(ptr, "FWedition"),
            "missing GxD property (edition of the CO2 visualization framework)",
        );
    }
    if g.calc_method == Some(CalcMethod::OrganizationBased) && !organization_seen {
        c.warn(
            None,
            pointer(ptr, "organization"),
            "organization-based footprint without organization details (distribution level and index)",
        );
    }
    (c.errors.len() == before).then_some(g)
}

fn organization<'a>(c: &mut Checker, g: &mut Gxd<'a>, p: &Ptr, raw: &'a RawValue) {
    let Some(sub) = object(c, raw, p) else {
        return;
    };
    for (k, v) in &sub.0 {
        let k = k.as_ref();
        let scope = |prefix: &str| -> Option<usize> {
            let n = k.strip_prefix("scope")?.strip_suffix(prefix)?;
            match n {
                "1" => Some(0),
                "2" => Some(1),
                "3" => Some(2),
                _ => None,
            }
        };
        if let Some(i) = scope("DistributionLevel") {
            g.distribution_level[i] = choice(c, p, k, v, &LEVELS);
        } else if let Some(i) = scope("DistributionIndex") {
            g.distribution_index[i] = choice(c, p, k, v, &INDEXES);
        } else {
            match k {
                "distributionLevelComment" => g.distribution_level_comment = text(c, p, k, v),
                "distributionIndexComment" => g.distribution_index_comment = text(c, p, k, v),
                // Listed as required by the published schema but no longer defined by it;
                // accepted and kept in the original document.
                "declaredUnit" | "crossSectoralStandardsUsed" => {}
                _ if older_field(c, g, p, k, v) => {}
                _ => unknown(c, p, k, v),
            }
        }
    }
    for (i, level) in g.distribution_level.iter().enumerate() {
        if level.is_none() {
            c.warn(
                None,
                pointer(p, &format!("scope{}DistributionLevel", i + 1)),
                "missing (the GxD schema lists it as required for organization-based data)",
            );
        }
    }
}
