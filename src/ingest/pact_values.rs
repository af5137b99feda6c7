//! PACT property values: typed readers of required and optional properties and lists, the
//! code lists (regions, countries, cross-sectoral standards), the nested objects (product or
//! sector rules, emission-factor sources, DQIs, assurance), declared units, and which
//! properties belong to one PACT version only.

use std::borrow::Cow;

use rust_decimal::Decimal;
use serde_json::value::RawValue;

use super::json::{
    Checker, Entries, Ptr, boolean, check_urn, date_time, number_or_decimal_string, pointer,
    string, uuid, within,
};
use crate::model::{Assurance, DeclaredUnit, Dqi, EmissionFactorSource, PactVersion, SectorRule};

mod members;

pub(crate) use members::object;
pub(super) use members::{check_duplicates, list};

/// Runs a value parser, turning its error into a diagnostic at `ptr/key`. `null` counts as
/// absent (with a warning) so optional properties written as `null` are not rejected.
#[inline]
pub(super) fn read<'a, T>(
    c: &mut Checker,
    ptr: &Ptr,
    key: &str,
    raw: &'a RawValue,
    parse: impl FnOnce(&'a RawValue) -> Result<T, String>,
) -> Option<T> {
    if raw.get() == "null" {
        null_is_absent(c, ptr, key, raw);
        return None;
    }
    match parse(raw) {
        Ok(v) => Some(v),
        Err(message) => {
            invalid(c, ptr, key, raw, message);
            None
        }
    }
}

/// [`read`]'s warning for a property given as null (out of line: the read is inlined).
#[cold]
fn null_is_absent(c: &mut Checker, ptr: &Ptr, key: &str, raw: &RawValue) {
    c.warn(
        Some(raw),
        pointer(ptr, key),
        "null is treated as an absent property",
    );
}

/// [`read`]'s error for a value its parser refused.
#[cold]
fn invalid(c: &mut Checker, ptr: &Ptr, key: &str, raw: &RawValue, message: String) {
    c.error(Some(raw), pointer(ptr, key), message);
}

/// Reports a required property that is absent (or null); returns the value otherwise.
/// (A check of the value, inlined at each of the twenty-odd places a footprint is checked; the
/// report is out of line.)
#[inline]
pub(super) fn require<T>(
    c: &mut Checker,
    entries: &Entries,
    ptr: &Ptr,
    key: &str,
    value: Option<T>,
) -> Option<T> {
    if value.is_none() {
        missing(c, entries, ptr, key);
    }
    value
}

/// [`require`]'s report of a property that has no value.
#[cold]
fn missing(c: &mut Checker, entries: &Entries, ptr: &Ptr, key: &str) {
    match entries.0.iter().find(|(k, _)| k == key) {
        Some((_, raw)) if raw.get() == "null" => {
            c.error(Some(raw), pointer(ptr, key), "required property is null")
        }
        Some(_) => {} // present but invalid: already reported
        None => c.error(None, pointer(ptr, key), "missing required property"),
    }
}

pub(super) fn non_empty<'a>(raw: &'a RawValue) -> Result<Cow<'a, str>, String> {
    let s = string(raw)?;
    if s.is_empty() {
        Err("must not be empty".into())
    } else {
        Ok(s)
    }
}

#[inline]
pub(super) fn one_of<'a>(raw: &'a RawValue, allowed: &[&str]) -> Result<Cow<'a, str>, String> {
    let s = string(raw)?;
    if allowed.contains(&s.as_ref()) {
        Ok(s)
    } else {
        Err(not_one_of(&s, allowed))
    }
}

/// [`one_of`]'s message for a value not allowed (out of line: the check is inlined).
#[cold]
fn not_one_of(s: &str, allowed: &[&str]) -> String {
    format!("{s:?} is not one of {}", quote_list(allowed))
}

fn quote_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("{s:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

// The list items' readers below are inlined into each list's loop; their reports are out
// of line, in `bad_item`.

#[inline]
pub(super) fn urn_item<'a>(c: &mut Checker, p: &Ptr, raw: &'a RawValue) -> Option<Cow<'a, str>> {
    let s = match string(raw) {
        Ok(s) => s,
        Err(m) => return bad_item(c, p, raw, m),
    };
    match check_urn(&s) {
        Ok(()) => Some(s),
        Err(m) => bad_item(c, p, raw, m),
    }
}

#[inline]
pub(super) fn uuid_item<'a>(c: &mut Checker, p: &Ptr, raw: &'a RawValue) -> Option<Cow<'a, str>> {
    match uuid(raw) {
        Ok(s) => Some(s),
        Err(m) => bad_item(c, p, raw, m),
    }
}

#[inline]
pub(super) fn string_item<'a>(c: &mut Checker, p: &Ptr, raw: &'a RawValue) -> Option<Cow<'a, str>> {
    match non_empty(raw) {
        Ok(s) => Some(s),
        Err(m) => bad_item(c, p, raw, m),
    }
}

/// The error of a list item its reader refused, at the item's own pointer.
#[cold]
fn bad_item<T>(c: &mut Checker, p: &Ptr, raw: &RawValue, message: String) -> Option<T> {
    c.error(Some(raw), p.get(), message);
    None
}

pub(super) fn spec_version(s: &str) -> Option<(u32, u32, u32)> {
    let core = match s.split_once('-') {
        Some((core, date)) if date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit()) => core,
        Some(_) => return None,
        None => s,
    };
    let mut parts = core.split('.');
    let mut num = || -> Option<u32> {
        let p = parts.next()?;
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        p.parse().ok()
    };
    let v = (num()?, num()?, num()?);
    parts.next().is_none().then_some(v)
}

pub(super) const REGIONS: [&str; 22] = [
    "Africa",
    "Americas",
    "Asia",
    "Europe",
    "Oceania",
    "Australia and New Zealand",
    "Central Asia",
    "Eastern Asia",
    "Eastern Europe",
    "Latin America and the Caribbean",
    "Melanesia",
    "Micronesia",
    "Northern Africa",
    "Northern America",
    "Northern Europe",
    "Polynesia",
    "South-eastern Asia",
    "Southern Asia",
    "Southern Europe",
    "Sub-Saharan Africa",
    "Western Asia",
    "Western Europe",
];

pub(super) fn country(raw: &RawValue) -> Result<Cow<'_, str>, String> {
    let s = string(raw)?;
    if s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(s)
    } else {
        Err(format!(
            "{s:?} is not an ISO 3166-1 alpha-2 country code like \"JP\""
        ))
    }
}

pub(super) fn subdivision(raw: &RawValue) -> Result<Cow<'_, str>, String> {
    let s = string(raw)?;
    let b = s.as_bytes();
    let ok = b.len() >= 4
        && b.len() <= 6
        && b[..2].iter().all(u8::is_ascii_uppercase)
        && b[2] == b'-'
        && b[3..]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if ok {
        Ok(s)
    } else {
        Err(format!(
            "{s:?} is not an ISO 3166-2 subdivision code like \"JP-13\""
        ))
    }
}

/// v2 `crossSectoralStandardsUsed` spellings, and their normalised keys.
pub(super) const V2_STANDARDS: [(&str, &str); 3] = [
    ("ghgpproduct", "GHG Protocol Product standard"),
    ("iso14067", "ISO Standard 14067"),
    ("iso14044", "ISO Standard 14044"),
];

/// v2.3/v3 `crossSectoralStandards` values, and their normalised keys.
pub(super) const V3_STANDARDS: [(&str, &str); 9] = [
    ("iso14067", "ISO14067"),
    ("iso14083", "ISO14083"),
    ("iso1404044", "ISO14040-44"),
    ("ghgpproduct", "GHGP-Product"),
    ("pef", "PEF"),
    ("pact1.0", "PACT-1.0"),
    ("pact2.0", "PACT-2.0"),
    ("pact3.0", "PACT-3.0"),
    ("pas2050", "PAS2050"),
];

fn standard_key(s: &str) -> String {
    s.to_ascii_lowercase()
        .replace("standard", "")
        .replace("protocol", "p")
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-' && *c != '_')
        .collect()
}

/// Normalises a cross-sectoral standard to PACT's spelling, warning on variants and on
/// values outside the list (which are kept as written).
pub(super) fn standards<'a>(
    c: &mut Checker,
    ptr: &Ptr,
    key: &str,
    raw: &'a RawValue,
    known: &[(&str, &'static str)],
) -> Option<Vec<Cow<'a, str>>> {
    list(c, ptr, key, raw, true, |c, p, e| {
        let s = string_item(c, p, e)?;
        if known.iter().any(|(_, canon)| *canon == s) {
            return Some(s);
        }
        let k = standard_key(&s);
        match known.iter().find(|(nk, _)| *nk == k) {
            Some((_, canon)) => {
                c.warn(
                    Some(e),
                    p.get(),
                    format!("{s:?} read as PACT's spelling {canon:?}"),
                );
                Some(Cow::Borrowed(*canon))
            }
            None => {
                let names: Vec<&str> = known.iter().map(|(_, c)| *c).collect();
                c.warn(
                    Some(e),
                    p.get(),
                    format!(
                        "{s:?} is not one of PACT's values ({}); kept as written",
                        quote_list(&names)
                    ),
                );
                Some(s)
            }
        }
    })
}

pub(super) fn sector_rules<'a>(
    c: &mut Checker,
    ptr: &Ptr,
    raw: &'a RawValue,
) -> Option<Vec<SectorRule<'a>>> {
    let key = "productOrSectorSpecificRules";
    if raw.get().trim() == "[]" {
        // The OpenAPI says minItems 1; the PACT text says the set MUST be empty when no rules
        // were followed. Both readings occur in practice.
        c.warn(
            Some(raw),
            pointer(ptr, key),
            "empty list accepted (the PACT text asks for an empty set when no rules apply; the OpenAPI asks for at least one item)",
        );
        return Some(Vec::new());
    }
    list(c, ptr, key, raw, true, |c, p, e| {
        let entries = object(c, e, p)?;
        let (mut operator, mut rule_names, mut other) = (None, None, None);
        for (k, v) in &entries.0 {
            match k.as_ref() {
                "operator" => {
                    operator = read(c, p, k, v, |r| {
                        one_of(r, &["PEF", "EPD International", "Other"])
                    })
                }
                "ruleNames" => rule_names = list(c, p, k, v, true, string_item),
                "otherOperatorName" => other = read(c, p, k, v, non_empty),
                _ => unknown(c, p, k, v),
            }
        }
        let operator = require(c, &entries, p, "operator", operator);
        let rule_names = require(c, &entries, p, "ruleNames", rule_names);
        Some(SectorRule {
            operator: operator?,
            rule_names: rule_names?,
            other_operator_name: other,
        })
    })
}

pub(super) fn ef_sources<'a>(
    c: &mut Checker,
    ptr: &Ptr,
    raw: &'a RawValue,
) -> Option<Vec<EmissionFactorSource<'a>>> {
    list(
        c,
        ptr,
        "secondaryEmissionFactorSources",
        raw,
        true,
        |c, p, e| {
            let entries = object(c, e, p)?;
            let (mut name, mut version) = (None, None);
            for (k, v) in &entries.0 {
                match k.as_ref() {
                    "name" => name = read(c, p, k, v, non_empty),
                    "version" => version = read(c, p, k, v, non_empty),
                    _ => unknown(c, p, k, v),
                }
            }
            let name = require(c, &entries, p, "name", name);
            let version = require(c, &entries, p, "version", version);
            Some(EmissionFactorSource {
                name: name?,
                version: version?,
            })
        },
    )
}

/// A v2 number (or v3 decimal string) within `lo..=hi`.
#[inline]
pub(super) fn bounded(
    c: &mut Checker,
    ptr: &Ptr,
    key: &str,
    raw: &RawValue,
    version: PactVersion,
    lo: u8,
    hi: u8,
) -> Option<Decimal> {
    let (d, was_string) = read(c, ptr, key, raw, number_or_decimal_string)?;
    if was_string == matches!(version, PactVersion::V2) {
        other_version_form(c, ptr, key, raw, version);
    }
    if !within(d, lo, hi) {
        return out_of_range(c, ptr, key, raw, d, (lo, hi));
    }
    Some(d)
}

/// [`bounded`]'s warning for a number written as the other PACT version writes it (out of
/// line, as its error: the check is inlined at each of its places).
#[cold]
fn other_version_form(c: &mut Checker, ptr: &Ptr, key: &str, raw: &RawValue, version: PactVersion) {
    let message = match version {
        PactVersion::V2 => "PACT v2 writes this as a number; the decimal string was accepted",
        PactVersion::V3 => "PACT v3 writes this as a decimal string; the number was accepted",
    };
    c.warn(Some(raw), pointer(ptr, key), message);
}

/// [`bounded`]'s error for a value outside its bounds.
#[cold]
fn out_of_range(
    c: &mut Checker,
    ptr: &Ptr,
    key: &str,
    raw: &RawValue,
    d: Decimal,
    (lo, hi): (u8, u8),
) -> Option<Decimal> {
    c.error(
        Some(raw),
        pointer(ptr, key),
        format!("{d} is out of range: expected a value from {lo} to {hi}"),
    );
    None
}

pub(super) fn dqi(c: &mut Checker, ptr: &Ptr, raw: &RawValue, version: PactVersion) -> Option<Dqi> {
    let p = ptr.key("dqi");
    let entries = object(c, raw, &p)?;
    // PACT v2 rates DQRs from 1 to 3, v3 from 1 to 5.
    let top = match version {
        PactVersion::V2 => 3,
        PactVersion::V3 => 5,
    };
    let mut d = Dqi::default();
    for (k, v) in &entries.0 {
        let slot = match (k.as_ref(), version) {
            ("coveragePercent", PactVersion::V2) => {
                d.coverage_pct = bounded(c, &p, k, v, version, 0, 100);
                continue;
            }
            ("technologicalDQR", _) => &mut d.technological_dqr,
            ("temporalDQR", _) => &mut d.temporal_dqr,
            ("geographicalDQR", _) => &mut d.geographical_dqr,
            ("completenessDQR", PactVersion::V2) => &mut d.completeness_dqr,
            ("reliabilityDQR", PactVersion::V2) => &mut d.reliability_dqr,
            _ => {
                unknown_for(c, &p, k, v, version);
                continue;
            }
        };
        *slot = bounded(c, &p, k, v, version, 1, top);
    }
    let required: &[&str] = match version {
        PactVersion::V2 => &[
            "coveragePercent",
            "technologicalDQR",
            "temporalDQR",
            "geographicalDQR",
            "completenessDQR",
            "reliabilityDQR",
        ],
        PactVersion::V3 => &["technologicalDQR", "temporalDQR", "geographicalDQR"],
    };
    let before = c.errors.len();
    for key in required {
        let present = match *key {
            "coveragePercent" => d.coverage_pct.is_some(),
            "technologicalDQR" => d.technological_dqr.is_some(),
            "temporalDQR" => d.temporal_dqr.is_some(),
            "geographicalDQR" => d.geographical_dqr.is_some(),
            "completenessDQR" => d.completeness_dqr.is_some(),
            _ => d.reliability_dqr.is_some(),
        };
        require(c, &entries, &p, key, present.then_some(()));
    }
    (c.errors.len() == before).then_some(d)
}

pub(super) fn assurance<'a>(
    c: &mut Checker,
    ptr: &Ptr,
    raw: &'a RawValue,
    version: PactVersion,
) -> Option<Assurance<'a>> {
    let key = match version {
        PactVersion::V2 => "assurance",
        PactVersion::V3 => "verification",
    };
    let p = ptr.key(key);
    let entries = object(c, raw, &p)?;
    let mut a = Assurance {
        assured: version == PactVersion::V3,
        ..Assurance::default()
    };
    let mut assured = None;
    let coverage: &[&str] = match version {
        PactVersion::V2 => &[
            "corporate level",
            "product line",
            "PCF system",
            "product level",
        ],
        PactVersion::V3 => &["PCF calculation model", "PCF program", "product level"],
    };
    for (k, v) in &entries.0 {
        match (k.as_ref(), version) {
            ("assurance", PactVersion::V2) => assured = read(c, &p, k, v, boolean),
            ("coverage", _) => a.coverage = read(c, &p, k, v, |r| one_of(r, coverage)),
            ("level", PactVersion::V2) => {
                a.level = read(c, &p, k, v, |r| one_of(r, &["limited", "reasonable"]))
            }
            ("boundary", PactVersion::V2) => {
                a.boundary = read(c, &p, k, v, |r| {
                    one_of(r, &["Gate-to-Gate", "Cradle-to-Gate"])
                })
            }
            ("providerName", _) => a.provider_name = read(c, &p, k, v, string),
            ("completedAt", _) => a.completed_at = read(c, &p, k, v, date_time),
            ("standardName", _) => a.standard_name = read(c, &p, k, v, string),
            ("comments", _) => a.comments = read(c, &p, k, v, string),
            _ => unknown_for(c, &p, k, v, version),
        }
    }
    if version == PactVersion::V2 {
        let before = c.errors.len();
        a.assured = require(c, &entries, &p, "assurance", assured).unwrap_or(false);
        require(c, &entries, &p, "providerName", a.provider_name.as_ref());
        if c.errors.len() != before {
            return None;
        }
    }
    Some(a)
}

pub(super) fn unknown(c: &mut Checker, ptr: &Ptr, key: &str, raw: &RawValue) {
    c.warn(
        Some(raw),
        pointer(ptr, key),
        "unknown property, ignored (it stays in the stored original document)",
    );
}

/// Properties of the other PACT major version get a more helpful warning.
pub(super) fn unknown_for(
    c: &mut Checker,
    ptr: &Ptr,
    key: &str,
    raw: &RawValue,
    version: PactVersion,
) {
    let other = match version {
        PactVersion::V2 => (is_v3_only(key), "v3", "v2"),
        PactVersion::V3 => (is_v2_only(key), "v2", "v3"),
    };
    if other.0 {
        c.warn(
            Some(raw),
            pointer(ptr, key),
            format!(
                "is a PACT {} property, ignored in a {} document (it stays in the stored original)",
                other.1, other.2
            ),
        );
    } else {
        unknown(c, ptr, key, raw);
    }
}

fn is_v2_only(key: &str) -> bool {
    matches!(
        key,
        "version"
            | "productCategoryCpc"
            | "declaredUnit"
            | "unitaryProductAmount"
            | "pCfExcludingBiogenic"
            | "pCfIncludingBiogenic"
            | "dLucGhgEmissions"
            | "landManagementGhgEmissions"
            | "otherBiogenicGhgEmissions"
            | "iLucGhgEmissions"
            | "biogenicCarbonWithdrawal"
            | "characterizationFactors"
            | "ipccCharacterizationFactorsSources"
            | "crossSectoralStandardsUsed"
            | "uncertaintyAssessmentDescription"
            | "assurance"
            | "statusComment"
            | "biogenicAccountingMethodology"
            | "coveragePercent"
            | "completenessDQR"
            | "reliabilityDQR"
            | "level"
            | "boundary"
    )
}

fn is_v3_only(key: &str) -> bool {
    matches!(
        key,
        "declaredUnitOfMeasurement"
            | "declaredUnitAmount"
            | "pcfExcludingBiogenicUptake"
            | "pcfIncludingBiogenicUptake"
            | "recycledCarbonContent"
            | "landUseChangeGhgEmissions"
            | "landCarbonLeakage"
            | "landManagementFossilGhgEmissions"
            | "landManagementBiogenicCO2Emissions"
            | "landManagementBiogenicCO2Removals"
            | "biogenicCO2Uptake"
            | "biogenicNonCO2Emissions"
            | "landAreaOccupation"
            | "packagingBiogenicCarbonContent"
            | "outboundLogisticsGhgEmissions"
            | "ccsTechnologicalCO2CaptureIncluded"
            | "ccsTechnologicalCO2Capture"
            | "technologicalCO2CaptureOrigin"
            | "technologicalCO2Removals"
            | "ccuCarbonContent"
            | "ccuCalculationApproach"
            | "ccuCreditCertification"
            | "ipccCharacterizationFactors"
            | "verification"
    )
}

pub(super) fn declared_unit(raw: &RawValue, version: PactVersion) -> Result<DeclaredUnit, String> {
    let s = string(raw)?;
    match DeclaredUnit::from_pact(&s) {
        Some(u) if version == PactVersion::V3 || u.in_pact_v2() => Ok(u),
        _ => {
            let names: Vec<&str> = DeclaredUnit::ALL
                .iter()
                .filter(|u| version == PactVersion::V3 || u.in_pact_v2())
                .map(|u| u.as_str())
                .collect();
            Err(format!(
                "{s:?} is not a PACT {} declared unit ({})",
                match version {
                    PactVersion::V2 => "v2",
                    PactVersion::V3 => "v3",
                },
                quote_list(&names)
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_versions() {
        assert_eq!(spec_version("2.3.0"), Some((2, 3, 0)));
        assert_eq!(spec_version("3.0.1-20250101"), Some((3, 0, 1)));
        assert_eq!(spec_version("2.3"), None);
        assert_eq!(spec_version("2.3.0-beta"), None);
        assert_eq!(spec_version("2.x.0"), None);
    }

    #[test]
    fn standard_spellings_normalise() {
        assert_eq!(standard_key("ISO Standard 14067"), "iso14067");
        assert_eq!(standard_key("ISO 14040-44"), "iso1404044");
        assert_eq!(standard_key("GHGP-Product"), "ghgpproduct");
        assert_eq!(standard_key("GHG Protocol Product Standard"), "ghgpproduct");
    }
}
