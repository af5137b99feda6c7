//! PACT ProductFootprint documents (v2.x and v3.x) → [`Footprint`], with every field
//! checked against the PACT v2.3.3 / v3.0.3 OpenAPI and every problem named by its JSON
//! pointer.
//!
//! Where the PACT text and its OpenAPI disagree, the lenient reading is taken and a warning
//! recorded (an empty `productOrSectorSpecificRules`, cross-sectoral standard spellings,
//! numbers written as strings or the other way round). Unknown properties are ignored with a
//! warning: they stay in the original document, which the store keeps.

use std::borrow::Cow;

use chrono::{DateTime, Months, Utc};
use rust_decimal::Decimal;
use serde_json::value::RawValue;

use super::gxd;
use super::json::{
    self, Checker, Entries, Sign, array, boolean, check_urn, date_time, decimal_string, int32,
    number_or_decimal_string, pointer, pointer_index, string, uuid,
};
use crate::model::{
    Assurance, CarbonFootprint, DeclaredUnit, Dqi, EmissionFactorSource, Extension, ExtensionKind,
    Footprint, PactVersion, SectorRule, Status,
};

/// `dataSchema` of mieruka's bill-of-materials extension; its JSON Schema is
/// `src/schema/bom-extension.schema.json`.
pub const BOM_EXTENSION_SCHEMA: &str = "urn:mieruka:data-model-extension:bom:1.0.0";

/// Reads an object, reporting a wrong type or a duplicated property.
pub(crate) fn object<'a>(c: &mut Checker, raw: &'a RawValue, ptr: &str) -> Option<Entries<'a>> {
    match json::object(raw) {
        Ok(entries) => check_duplicates(c, entries, ptr),
        Err(message) => {
            c.error(Some(raw), ptr.to_owned(), message);
            None
        }
    }
}

/// Reports a property given more than once (JSON allows it; PACT's schemas cannot mean it).
fn check_duplicates<'a>(c: &mut Checker, entries: Entries<'a>, ptr: &str) -> Option<Entries<'a>> {
    let keys = &entries.0;
    // Objects of PACT have a few dozen members at most: comparing pairs (most differ in
    // length, so no bytes are compared) beats sorting. Larger objects are sorted.
    let repeated: Option<&str> = if keys.len() <= 32 {
        keys.iter().enumerate().find_map(|(i, (k, _))| {
            keys[i + 1..]
                .iter()
                .any(|(other, _)| other == k)
                .then_some(k.as_ref())
        })
    } else {
        let mut sorted: Vec<&str> = keys.iter().map(|(k, _)| k.as_ref()).collect();
        sorted.sort_unstable();
        sorted.windows(2).find(|w| w[0] == w[1]).map(|w| w[0])
    };
    if let Some(key) = repeated {
        let key = key.to_owned();
        let at = entries.0.iter().rev().find(|(k, _)| *k == key).map(|e| e.1);
        c.error(
            at,
            pointer(ptr, &key),
            format!("property {key:?} is given more than once"),
        );
        return None;
    }
    Some(entries)
}

/// Runs a value parser, turning its error into a diagnostic at `ptr/key`. `null` counts as
/// absent (with a warning) so optional properties written as `null` are not rejected.
fn read<'a, T>(
    c: &mut Checker,
    ptr: &str,
    key: &str,
    raw: &'a RawValue,
    parse: impl FnOnce(&'a RawValue) -> Result<T, String>,
) -> Option<T> {
    if raw.get() == "null" {
        c.warn(
            Some(raw),
            pointer(ptr, key),
            "null is treated as an absent property",
        );
        return None;
    }
    match parse(raw) {
        Ok(v) => Some(v),
        Err(message) => {
            c.error(Some(raw), pointer(ptr, key), message);
            None
        }
    }
}

/// Reports a required property that is absent (or null); returns the value otherwise.
fn require<T>(
    c: &mut Checker,
    entries: &Entries,
    ptr: &str,
    key: &str,
    value: Option<T>,
) -> Option<T> {
    if value.is_none() {
        match entries.0.iter().find(|(k, _)| k == key) {
            Some((_, raw)) if raw.get() == "null" => {
                c.error(Some(raw), pointer(ptr, key), "required property is null")
            }
            Some(_) => {} // present but invalid: already reported
            None => c.error(None, pointer(ptr, key), "missing required property"),
        }
    }
    value
}

fn non_empty<'a>(raw: &'a RawValue) -> Result<Cow<'a, str>, String> {
    let s = string(raw)?;
    if s.is_empty() {
        Err("must not be empty".into())
    } else {
        Ok(s)
    }
}

fn owned(raw: &RawValue) -> Result<String, String> {
    string(raw).map(Cow::into_owned)
}

fn one_of(raw: &RawValue, allowed: &[&str]) -> Result<String, String> {
    let s = string(raw)?;
    if allowed.contains(&s.as_ref()) {
        Ok(s.into_owned())
    } else {
        Err(format!("{s:?} is not one of {}", quote_list(allowed)))
    }
}

fn quote_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("{s:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads an array, applying `item` to each element with its own pointer. Checks `minItems: 1`
/// and `uniqueItems` on the raw text of the elements.
/// The pointer of a list item, built only when a diagnostic needs it.
pub(crate) struct ItemPtr<'p> {
    base: &'p str,
    key: &'p str,
    index: usize,
}

impl ItemPtr<'_> {
    /// The pointer text.
    pub(crate) fn get(&self) -> String {
        pointer_index(&pointer(self.base, self.key), self.index)
    }
}

fn list<'a, T>(
    c: &mut Checker,
    ptr: &str,
    key: &str,
    raw: &'a RawValue,
    min_one: bool,
    mut item: impl FnMut(&mut Checker, &ItemPtr, &'a RawValue) -> Option<T>,
) -> Option<Vec<T>> {
    let elems = read(c, ptr, key, raw, array)?;
    if min_one && elems.is_empty() {
        c.error(
            Some(raw),
            pointer(ptr, key),
            "must contain at least one item",
        );
        return None;
    }
    let errors_before = c.errors.len();
    let mut out = Vec::with_capacity(elems.len());
    for (index, e) in elems.iter().enumerate() {
        let p = ItemPtr {
            base: ptr,
            key,
            index,
        };
        if elems[..index].iter().any(|prev| prev.get() == e.get()) {
            c.error(Some(e), p.get(), "duplicate item (items must be unique)");
            continue;
        }
        if let Some(v) = item(c, &p, e) {
            out.push(v);
        }
    }
    (c.errors.len() == errors_before).then_some(out)
}

fn urn_item(c: &mut Checker, p: &ItemPtr, raw: &RawValue) -> Option<String> {
    let s = match string(raw) {
        Ok(s) => s,
        Err(m) => {
            c.error(Some(raw), p.get(), m);
            return None;
        }
    };
    match check_urn(&s) {
        Ok(()) => Some(s.into_owned()),
        Err(m) => {
            c.error(Some(raw), p.get(), m);
            None
        }
    }
}

fn uuid_item(c: &mut Checker, p: &ItemPtr, raw: &RawValue) -> Option<String> {
    match uuid(raw) {
        Ok(s) => Some(s),
        Err(m) => {
            c.error(Some(raw), p.get(), m);
            None
        }
    }
}

fn string_item(c: &mut Checker, p: &ItemPtr, raw: &RawValue) -> Option<String> {
    match non_empty(raw) {
        Ok(s) => Some(s.into_owned()),
        Err(m) => {
            c.error(Some(raw), p.get(), m);
            None
        }
    }
}

fn spec_version(s: &str) -> Option<(u32, u32, u32)> {
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

const REGIONS: [&str; 22] = [
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

fn country(raw: &RawValue) -> Result<String, String> {
    let s = string(raw)?;
    if s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(s.into_owned())
    } else {
        Err(format!(
            "{s:?} is not an ISO 3166-1 alpha-2 country code like \"JP\""
        ))
    }
}

fn subdivision(raw: &RawValue) -> Result<String, String> {
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
        Ok(s.into_owned())
    } else {
        Err(format!(
            "{s:?} is not an ISO 3166-2 subdivision code like \"JP-13\""
        ))
    }
}

/// v2 `crossSectoralStandardsUsed` spellings, and their normalised keys.
const V2_STANDARDS: [(&str, &str); 3] = [
    ("ghgpproduct", "GHG Protocol Product standard"),
    ("iso14067", "ISO Standard 14067"),
    ("iso14044", "ISO Standard 14044"),
];

/// v2.3/v3 `crossSectoralStandards` values, and their normalised keys.
const V3_STANDARDS: [(&str, &str); 9] = [
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
fn standards(
    c: &mut Checker,
    ptr: &str,
    key: &str,
    raw: &RawValue,
    known: &[(&str, &str)],
) -> Option<Vec<String>> {
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
                Some((*canon).to_owned())
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

fn sector_rules(c: &mut Checker, ptr: &str, raw: &RawValue) -> Option<Vec<SectorRule>> {
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
        let p = &p.get();
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
                "otherOperatorName" => {
                    other = read(c, p, k, v, |r| non_empty(r).map(Cow::into_owned))
                }
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

fn ef_sources(c: &mut Checker, ptr: &str, raw: &RawValue) -> Option<Vec<EmissionFactorSource>> {
    list(
        c,
        ptr,
        "secondaryEmissionFactorSources",
        raw,
        true,
        |c, p, e| {
            let p = &p.get();
            let entries = object(c, e, p)?;
            let (mut name, mut version) = (None, None);
            for (k, v) in &entries.0 {
                match k.as_ref() {
                    "name" => name = read(c, p, k, v, |r| non_empty(r).map(Cow::into_owned)),
                    "version" => version = read(c, p, k, v, |r| non_empty(r).map(Cow::into_owned)),
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
fn bounded(
    c: &mut Checker,
    ptr: &str,
    key: &str,
    raw: &RawValue,
    version: PactVersion,
    lo: Decimal,
    hi: Decimal,
) -> Option<Decimal> {
    let (d, was_string) = read(c, ptr, key, raw, number_or_decimal_string)?;
    match (version, was_string) {
        (PactVersion::V2, true) => c.warn(
            Some(raw),
            pointer(ptr, key),
            "PACT v2 writes this as a number; the decimal string was accepted",
        ),
        (PactVersion::V3, false) => c.warn(
            Some(raw),
            pointer(ptr, key),
            "PACT v3 writes this as a decimal string; the number was accepted",
        ),
        _ => {}
    }
    if d < lo || d > hi {
        c.error(
            Some(raw),
            pointer(ptr, key),
            format!("{d} is out of range: expected a value from {lo} to {hi}"),
        );
        return None;
    }
    Some(d)
}

fn dqi(c: &mut Checker, ptr: &str, raw: &RawValue, version: PactVersion) -> Option<Dqi> {
    let p = pointer(ptr, "dqi");
    let entries = object(c, raw, &p)?;
    let (one, hundred, zero) = (Decimal::ONE, Decimal::ONE_HUNDRED, Decimal::ZERO);
    // PACT v2 rates DQRs from 1 to 3, v3 from 1 to 5.
    let top = match version {
        PactVersion::V2 => Decimal::from(3),
        PactVersion::V3 => Decimal::from(5),
    };
    let mut d = Dqi::default();
    for (k, v) in &entries.0 {
        let slot = match (k.as_ref(), version) {
            ("coveragePercent", PactVersion::V2) => {
                d.coverage_pct = bounded(c, &p, k, v, version, zero, hundred);
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
        *slot = bounded(c, &p, k, v, version, one, top);
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

fn assurance(
    c: &mut Checker,
    ptr: &str,
    raw: &RawValue,
    version: PactVersion,
) -> Option<Assurance> {
    let key = match version {
        PactVersion::V2 => "assurance",
        PactVersion::V3 => "verification",
    };
    let p = pointer(ptr, key);
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
            ("providerName", _) => a.provider_name = read(c, &p, k, v, owned),
            ("completedAt", _) => a.completed_at = read(c, &p, k, v, date_time),
            ("standardName", _) => a.standard_name = read(c, &p, k, v, owned),
            ("comments", _) => a.comments = read(c, &p, k, v, owned),
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

fn unknown(c: &mut Checker, ptr: &str, key: &str, raw: &RawValue) {
    c.warn(
        Some(raw),
        pointer(ptr, key),
        "unknown property, ignored (it stays in the stored original document)",
    );
}

/// Properties of the other PACT major version get a more helpful warning.
fn unknown_for(c: &mut Checker, ptr: &str, key: &str, raw: &RawValue, version: PactVersion) {
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

fn declared_unit(raw: &RawValue, version: PactVersion) -> Result<DeclaredUnit, String> {
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

/// Parses the `pcf` object.
fn carbon_footprint(
    c: &mut Checker,
    raw: &RawValue,
    version: PactVersion,
) -> Option<CarbonFootprint> {
    use PactVersion::{V2, V3};
    let p = "/pcf";
    let entries = object(c, raw, p)?;
    let before = c.errors.len();
    let mut f = CarbonFootprint::default();
    let (mut amount, mut cfp, mut ref_start, mut ref_end) = (None, None, None, None);
    let mut pcf_incl_present = false;
    let mut geography: Vec<(&str, &RawValue)> = Vec::new();
    let dec = |c: &mut Checker, k: &str, v: &RawValue, sign: Sign| {
        read(c, p, k, v, |r| decimal_string(r, sign))
    };
    for (k, v) in &entries.0 {
        let k = k.as_ref();
        match (k, version) {
            ("declaredUnit", V2) | ("declaredUnitOfMeasurement", V3) => {
                f.declared_unit = read(c, p, k, v, |r| declared_unit(r, version))
            }
            ("unitaryProductAmount", V2) | ("declaredUnitAmount", V3) => {
                amount = dec(c, k, v, Sign::Positive)
            }
            ("productMassPerDeclaredUnit", _) => {
                f.product_mass_per_declared_unit_kg = dec(c, k, v, Sign::NonNegative)
            }
            ("pCfExcludingBiogenic", V2) => cfp = dec(c, k, v, Sign::NonNegative),
            ("pcfExcludingBiogenicUptake", V3) => cfp = dec(c, k, v, Sign::Any),
            ("pCfIncludingBiogenic", V2) | ("pcfIncludingBiogenicUptake", V3) => {
                pcf_incl_present = true;
                f.pcf_including_biogenic_kgco2e_per_unit = dec(c, k, v, Sign::Any)
            }
            ("fossilGhgEmissions", _) => {
                f.fossil_ghg_emissions_kgco2e_per_unit = dec(c, k, v, Sign::NonNegative)
            }
            ("fossilCarbonContent", _) => {
                f.fossil_carbon_content_kgc_per_unit = dec(c, k, v, Sign::NonNegative)
            }
            ("biogenicCarbonContent", _) => {
                f.biogenic_carbon_content_kgc_per_unit = dec(c, k, v, Sign::NonNegative)
            }
            ("dLucGhgEmissions", V2) => {
                f.dluc_ghg_emissions_kgco2e_per_unit = dec(c, k, v, Sign::NonNegative)
            }
            ("landManagementGhgEmissions", V2) => {
                f.land_management_ghg_emissions_kgco2e_per_unit = dec(c, k, v, Sign::NonNegative)
            }
            ("otherBiogenicGhgEmissions", V2) => {
                f.other_biogenic_ghg_emissions_kgco2e_per_unit = dec(c, k, v, Sign::NonNegative)
            }
            ("iLucGhgEmissions", V2) => {
                f.iluc_ghg_emissions_kgco2e_per_unit = dec(c, k, v, Sign::NonNegative)
            }
            ("biogenicCarbonWithdrawal", V2) => {
                f.biogenic_carbon_withdrawal_kgco2e_per_unit = dec(c, k, v, Sign::NonPositive)
            }
            ("aircraftGhgEmissions", _) => {
                f.aircraft_ghg_emissions_kgco2e_per_unit = dec(c, k, v, Sign::NonNegative)
            }
            ("packagingEmissionsIncluded", _) => {
                f.packaging_emissions_included = read(c, p, k, v, boolean)
            }
            ("packagingGhgEmissions", _) => {
                f.packaging_ghg_emissions_kgco2e_per_unit = dec(c, k, v, Sign::NonNegative)
            }
            ("recycledCarbonContent", V3) => {
                f.recycled_carbon_content_kgc_per_unit = dec(c, k, v, Sign::NonNegative)
            }
            ("landUseChangeGhgEmissions", V3) => {
                f.land_use_change_ghg_emissions_kgco2e_per_unit = dec(c, k, v, Sign::NonNegative)
            }
            ("landCarbonLeakage", V3) => {
                f.land_carbon_leakage_kgco2e_per_unit = dec(c, k, v, Sign::NonNegative)
            }
            ("landManagementFossilGhgEmissions", V3) => {
                f.land_management_fossil_ghg_emissions_kgco2e_per_unit =
                    dec(c, k, v, Sign::NonNegative)
            }
            ("landManagementBiogenicCO2Emissions", V3) => {
                f.land_management_biogenic_co2_emissions_kgco2e_per_unit =
                    dec(c, k, v, Sign::NonNegative)
            }
            ("landManagementBiogenicCO2Removals", V3) => {
                f.land_management_biogenic_co2_removals_kgco2e_per_unit =
                    dec(c, k, v, Sign::NonPositive)
            }
            ("biogenicCO2Uptake", V3) => {
                f.biogenic_co2_uptake_kgco2e_per_unit = dec(c, k, v, Sign::NonPositive)
            }
            ("biogenicNonCO2Emissions", V3) => {
                f.biogenic_non_co2_emissions_kgco2e_per_unit = dec(c, k, v, Sign::NonNegative)
            }
            ("landAreaOccupation", V3) => {
                f.land_area_occupation_m2yr_per_unit = dec(c, k, v, Sign::NonNegative)
            }
            ("packagingBiogenicCarbonContent", V3) => {
                f.packaging_biogenic_carbon_content_kgc_per_unit = dec(c, k, v, Sign::NonNegative)
            }
            ("outboundLogisticsGhgEmissions", V3) => {
                f.outbound_logistics_ghg_emissions_kgco2e_per_unit = dec(c, k, v, Sign::NonNegative)
            }
            ("ccsTechnologicalCO2CaptureIncluded", V3) => {
                f.ccs_technological_co2_capture_included = read(c, p, k, v, boolean)
            }
            ("ccsTechnologicalCO2Capture", V3) => {
                f.ccs_technological_co2_capture_kgco2e_per_unit = dec(c, k, v, Sign::NonPositive)
            }
            ("technologicalCO2CaptureOrigin", V3) => {
                f.technological_co2_capture_origin = read(c, p, k, v, owned)
            }
            ("technologicalCO2Removals", V3) => {
                f.technological_co2_removals_kgco2e_per_unit = dec(c, k, v, Sign::NonPositive)
            }
            ("ccuCarbonContent", V3) => {
                f.ccu_carbon_content_kgc_per_unit = dec(c, k, v, Sign::NonNegative)
            }
            ("ccuCalculationApproach", V3) => {
                f.ccu_calculation_approach = read(c, p, k, v, |r| one_of(r, &["Cut-off", "Credit"]))
            }
            ("ccuCreditCertification", V3) => {
                f.ccu_credit_certification = read(c, p, k, v, |r| non_empty(r).map(Cow::into_owned))
            }
            ("characterizationFactors", V2) => {
                f.characterization_factors = read(c, p, k, v, |r| one_of(r, &["AR6", "AR5"]))
            }
            ("ipccCharacterizationFactorsSources", V2) | ("ipccCharacterizationFactors", V3) => {
                f.ipcc_characterization_factors = list(c, p, k, v, true, |c, ip, e| {
                    let s = string_item(c, ip, e)?;
                    let ok = s.len() > 2
                        && s.starts_with("AR")
                        && s[2..].bytes().all(|b| b.is_ascii_digit());
                    if !ok {
                        c.error(
                            Some(e),
                            ip.get(),
                            format!("{s:?} is not an IPCC assessment report like \"AR6\""),
                        );
                        return None;
                    }
                    Some(s)
                })
                .unwrap_or_default()
            }
            ("crossSectoralStandardsUsed", V2) => {
                f.cross_sectoral_standards_used =
                    standards(c, p, k, v, &V2_STANDARDS).unwrap_or_default()
            }
            ("crossSectoralStandards", _) => {
                f.cross_sectoral_standards =
                    standards(c, p, k, v, &V3_STANDARDS).unwrap_or_default()
            }
            ("productOrSectorSpecificRules", _) => {
                f.product_or_sector_specific_rules = sector_rules(c, p, v).unwrap_or_default()
            }
            ("biogenicAccountingMethodology", V2) => {
                f.biogenic_accounting_methodology = read(c, p, k, v, |r| {
                    one_of(r, &["PEF", "ISO", "GHGP", "Quantis"])
                })
            }
            ("boundaryProcessesDescription", _) => {
                f.boundary_processes_description = read(c, p, k, v, owned)
            }
            ("referencePeriodStart", _) => ref_start = read(c, p, k, v, date_time),
            ("referencePeriodEnd", _) => ref_end = read(c, p, k, v, date_time),
            ("geographyRegionOrSubregion", _) => {
                geography.push((k, v));
                f.geography_region_or_subregion = read(c, p, k, v, |r| one_of(r, &REGIONS))
            }
            ("geographyCountry", _) => {
                geography.push((k, v));
                f.geography_country = read(c, p, k, v, country)
            }
            ("geographyCountrySubdivision", _) => {
                geography.push((k, v));
                f.geography_country_subdivision = read(c, p, k, v, subdivision)
            }
            ("secondaryEmissionFactorSources", _) => {
                f.secondary_emission_factor_sources = ef_sources(c, p, v).unwrap_or_default()
            }
            ("exemptedEmissionsPercent", _) => {
                f.exempted_emissions_pct =
                    bounded(c, p, k, v, version, Decimal::ZERO, Decimal::ONE_HUNDRED)
            }
            ("exemptedEmissionsDescription", _) => {
                f.exempted_emissions_description = read(c, p, k, v, owned)
            }
            ("allocationRulesDescription", _) => {
                f.allocation_rules_description = read(c, p, k, v, owned)
            }
            ("uncertaintyAssessmentDescription", V2) => {
                f.uncertainty_assessment_description = read(c, p, k, v, owned)
            }
            ("primaryDataShare", _) => {
                f.primary_data_share_pct =
                    bounded(c, p, k, v, version, Decimal::ZERO, Decimal::ONE_HUNDRED)
            }
            ("dqi", _) => f.dqi = dqi(c, p, v, version),
            ("assurance", V2) | ("verification", V3) => f.assurance = assurance(c, p, v, version),
            _ => unknown_for(c, p, k, v, version),
        }
    }

    // Required properties, per version.
    require(c, &entries, p, unit_key(version), f.declared_unit);
    let amount = require(
        c,
        &entries,
        p,
        match version {
            V2 => "unitaryProductAmount",
            V3 => "declaredUnitAmount",
        },
        amount,
    );
    let cfp = require(
        c,
        &entries,
        p,
        match version {
            V2 => "pCfExcludingBiogenic",
            V3 => "pcfExcludingBiogenicUptake",
        },
        cfp,
    );
    let ref_start = require(c, &entries, p, "referencePeriodStart", ref_start);
    let ref_end = require(c, &entries, p, "referencePeriodEnd", ref_end);
    require(
        c,
        &entries,
        p,
        "fossilGhgEmissions",
        f.fossil_ghg_emissions_kgco2e_per_unit,
    );
    require(
        c,
        &entries,
        p,
        "fossilCarbonContent",
        f.fossil_carbon_content_kgc_per_unit,
    );
    require(
        c,
        &entries,
        p,
        "exemptedEmissionsPercent",
        f.exempted_emissions_pct,
    );
    match version {
        V2 => {
            require(
                c,
                &entries,
                p,
                "biogenicCarbonContent",
                f.biogenic_carbon_content_kgc_per_unit,
            );
            require_present(c, &entries, p, "crossSectoralStandardsUsed");
            require_present(c, &entries, p, "boundaryProcessesDescription");
            require_present(c, &entries, p, "exemptedEmissionsDescription");
            require_present(c, &entries, p, "packagingEmissionsIncluded");
            // characterizationFactors (deprecated) and ipccCharacterizationFactorsSources are
            // both listed as required; documents in the wild carry one or the other.
            let has_cf = has(&entries, "characterizationFactors");
            let has_ipcc = has(&entries, "ipccCharacterizationFactorsSources");
            match (has_cf, has_ipcc) {
                (false, false) => c.error(
                    None,
                    pointer(p, "ipccCharacterizationFactorsSources"),
                    "missing required property (neither it nor the deprecated characterizationFactors is given)",
                ),
                (true, false) => c.warn(
                    None,
                    pointer(p, "ipccCharacterizationFactorsSources"),
                    "missing; the deprecated characterizationFactors is used instead",
                ),
                (false, true) => c.warn(
                    None,
                    pointer(p, "characterizationFactors"),
                    "missing deprecated property; ipccCharacterizationFactorsSources is used",
                ),
                (true, true) => {}
            }
            if f.ipcc_characterization_factors.is_empty()
                && let Some(cf) = &f.characterization_factors
            {
                f.ipcc_characterization_factors = vec![cf.clone()];
            }
        }
        V3 => {
            require(
                c,
                &entries,
                p,
                "productMassPerDeclaredUnit",
                f.product_mass_per_declared_unit_kg,
            );
            if !pcf_incl_present {
                require::<()>(c, &entries, p, "pcfIncludingBiogenicUptake", None);
            }
            require_present(c, &entries, p, "ipccCharacterizationFactors");
            require_present(c, &entries, p, "crossSectoralStandards");
        }
    }

    if geography.len() > 1 {
        let names: Vec<&str> = geography.iter().map(|(k, _)| *k).collect();
        c.error(
            Some(geography[1].1),
            pointer(p, geography[1].0),
            format!(
                "geography is given more than once ({}); PACT allows at most one of geographyRegionOrSubregion, geographyCountry and geographyCountrySubdivision",
                names.join(", ")
            ),
        );
    }
    if let (Some(s), Some(e)) = (ref_start, ref_end)
        && e < s
    {
        c.error(
            entries
                .0
                .iter()
                .find(|(k, _)| k == "referencePeriodEnd")
                .map(|e| e.1),
            pointer(p, "referencePeriodEnd"),
            format!("reference period ends ({e}) before it starts ({s})"),
        );
    }
    if f.packaging_emissions_included == Some(false)
        && f.packaging_ghg_emissions_kgco2e_per_unit.is_some()
    {
        c.error(
            None,
            pointer(p, "packagingGhgEmissions"),
            "must not be given when packagingEmissionsIncluded is false",
        );
    }
    if c.errors.len() != before {
        return None;
    }
    f.unitary_product_amount = amount?;
    f.pcf_excluding_biogenic_kgco2e_per_unit = cfp?;
    f.reference_period_start = ref_start?;
    f.reference_period_end = ref_end?;
    Some(f)
}

fn unit_key(version: PactVersion) -> &'static str {
    match version {
        PactVersion::V2 => "declaredUnit",
        PactVersion::V3 => "declaredUnitOfMeasurement",
    }
}

fn has(entries: &Entries, key: &str) -> bool {
    entries.0.iter().any(|(k, v)| k == key && v.get() != "null")
}

fn require_present(c: &mut Checker, entries: &Entries, ptr: &str, key: &str) {
    if !has(entries, key) {
        require::<()>(c, entries, ptr, key, None);
    }
}

fn extensions<'a>(c: &mut Checker, raw: &'a RawValue) -> Option<Vec<(Extension, &'a RawValue)>> {
    list(c, "", "extensions", raw, false, |c, p, e| {
        let p = &p.get();
        let entries = object(c, e, p)?;
        let (mut spec_version, mut data_schema, mut documentation, mut data) =
            (None, None, None, None);
        for (k, v) in &entries.0 {
            match k.as_ref() {
                "specVersion" => {
                    spec_version = read(c, p, k, v, |r| non_empty(r).map(Cow::into_owned))
                }
                "dataSchema" => {
                    data_schema = read(c, p, k, v, |r| non_empty(r).map(Cow::into_owned))
                }
                "documentation" => documentation = read(c, p, k, v, owned),
                "data" => {
                    data = read(c, p, k, v, |r| {
                        if r.get().starts_with('{') {
                            Ok(*v)
                        } else {
                            Err(format!("expected an object, found {}", json::describe(r)))
                        }
                    })
                }
                _ => unknown(c, p, k, v),
            }
        }
        let spec_version = require(c, &entries, p, "specVersion", spec_version);
        let data_schema = require(c, &entries, p, "dataSchema", data_schema);
        let data = require(c, &entries, p, "data", data);
        let (spec_version, data_schema, data) = (spec_version?, data_schema?, data?);
        let kind = if data_schema.contains("Green-x-Digital-Consortium/data-model-extensions") {
            ExtensionKind::Gxd
        } else if data_schema == BOM_EXTENSION_SCHEMA {
            ExtensionKind::MierukaBom
        } else if data_schema == super::gx::GX_EXTENSION_SCHEMA {
            ExtensionKind::MierukaGx
        } else if gxd::has_gxd_shape(data) {
            ExtensionKind::Gxd
        } else {
            ExtensionKind::Other
        };
        Some((
            Extension {
                spec_version,
                data_schema,
                documentation,
                data_json: data.get().to_owned(),
                kind,
            },
            data,
        ))
    })
}

/// Parses one ProductFootprint document, reusing its entries when they were already read.
/// Returns `None` when `c` holds errors.
pub(crate) fn footprint_with<'a>(
    c: &mut Checker,
    doc: &'a RawValue,
    entries: Option<Entries<'a>>,
) -> Option<Footprint> {
    use PactVersion::{V2, V3};
    let entries = match entries {
        Some(e) => check_duplicates(c, e, "")?,
        None => object(c, doc, "")?,
    };
    let before = c.errors.len();

    // The major version decides the field names, so read specVersion first.
    let mut version = None;
    let mut spec = None;
    if let Some((_, v)) = entries.0.iter().find(|(k, _)| k == "specVersion") {
        spec = read(c, "", "specVersion", v, owned);
        if let Some(s) = &spec {
            match spec_version(s) {
                Some((2, _, _)) => version = Some(V2),
                Some((3, _, _)) => version = Some(V3),
                Some((major, _, _)) => c.error(
                    Some(v),
                    "/specVersion".into(),
                    format!(
                        "PACT {major}.x documents are not supported (mieruka reads 2.x and 3.x)"
                    ),
                ),
                None => c.error(
                    Some(v),
                    "/specVersion".into(),
                    format!("{s:?} is not a version like \"2.3.0\""),
                ),
            }
        }
    } else {
        c.error(None, "/specVersion".into(), "missing required property");
    }
    // Go on with the likelier version so every other problem is reported too.
    let version = version.unwrap_or_else(|| if has(&entries, "version") { V2 } else { V3 });

    let mut id = None;
    let mut fp_version = None;
    let mut preceding = Vec::new();
    let (mut created, mut updated, mut status, mut status_comment) = (None, None, None, None);
    let (mut vstart, mut vend) = (None, None);
    let (mut company_name, mut company_ids) = (None, None);
    let (mut product_description, mut product_ids) = (None, None);
    let (mut cpc, mut classifications, mut product_name, mut comment) =
        (None, Vec::new(), None, None);
    let mut pcf = None;
    let mut exts = Vec::new();
    let p = "";
    for (k, v) in &entries.0 {
        let k = k.as_ref();
        match (k, version) {
            ("id", _) => id = read(c, p, k, v, uuid),
            ("specVersion", _) => {}
            ("precedingPfIds", _) => {
                preceding = list(c, p, k, v, true, uuid_item).unwrap_or_default()
            }
            ("version", V2) => {
                fp_version = read(c, p, k, v, int32);
                if let Some(n) = fp_version.filter(|n| *n < 0) {
                    c.error(
                        Some(v),
                        pointer(p, k),
                        format!("{n} is out of range: expected a value ≥ 0"),
                    );
                }
            }
            ("created", _) => created = read(c, p, k, v, date_time),
            ("updated", _) => {
                if version == V3 {
                    c.warn(
                        Some(v),
                        pointer(p, k),
                        "deprecated in PACT 3.0 (a changed footprint gets a new id); read, but PACT v3 readers ignore it",
                    );
                }
                updated = read(c, p, k, v, date_time)
            }
            ("status", _) => {
                status = read(c, p, k, v, |r| {
                    one_of(r, &["Active", "Deprecated"]).map(|s| {
                        if s == "Active" {
                            Status::Active
                        } else {
                            Status::Deprecated
                        }
                    })
                })
            }
            ("statusComment", V2) => status_comment = read(c, p, k, v, owned),
            ("validityPeriodStart", _) => vstart = read(c, p, k, v, date_time),
            ("validityPeriodEnd", _) => vend = read(c, p, k, v, date_time),
            ("companyName", _) => {
                company_name = read(c, p, k, v, |r| non_empty(r).map(Cow::into_owned))
            }
            ("companyIds", _) => company_ids = list(c, p, k, v, true, urn_item),
            ("productDescription", _) => product_description = read(c, p, k, v, owned),
            ("productIds", _) => product_ids = list(c, p, k, v, true, urn_item),
            ("productCategoryCpc", V2) => {
                cpc = read(c, p, k, v, |r| non_empty(r).map(Cow::into_owned))
            }
            ("productClassifications", _) => {
                classifications = list(c, p, k, v, true, urn_item).unwrap_or_default()
            }
            ("productNameCompany", _) => {
                product_name = read(c, p, k, v, |r| non_empty(r).map(Cow::into_owned))
            }
            ("comment", _) => comment = read(c, p, k, v, owned),
            ("pcf", _) => pcf = carbon_footprint(c, v, version),
            ("extensions", _) => exts = extensions(c, v).unwrap_or_default(),
            _ => unknown_for(c, p, k, v, version),
        }
    }

    let id = require(c, &entries, p, "id", id);
    let created = require(c, &entries, p, "created", created);
    let status = require(c, &entries, p, "status", status);
    let company_name = require(c, &entries, p, "companyName", company_name);
    let company_ids = require(c, &entries, p, "companyIds", company_ids);
    let product_description = require(c, &entries, p, "productDescription", product_description);
    let product_ids = require(c, &entries, p, "productIds", product_ids);
    let product_name = require(c, &entries, p, "productNameCompany", product_name);
    if !has(&entries, "pcf") {
        require::<()>(c, &entries, p, "pcf", None);
    }
    if version == V2 {
        require(c, &entries, p, "version", fp_version);
        require(c, &entries, p, "productCategoryCpc", cpc.as_ref());
        require(c, &entries, p, "comment", comment.as_ref());
    }
    if let Some(s) = &cpc
        && !s.bytes().all(|b| b.is_ascii_digit())
    {
        c.warn(
            None,
            "/productCategoryCpc".into(),
            format!("{s:?} is not a numeric UN CPC code"),
        );
    }
    if cpc.is_none() {
        const CPC: &str = "urn:pact:productclassification:un-cpc:";
        cpc = classifications.iter().find_map(|u| {
            u.get(..CPC.len())
                .filter(|p| p.eq_ignore_ascii_case(CPC))
                .map(|_| u[CPC.len()..].to_owned())
        });
    }

    // Validity period rules (PACT: start ≥ referencePeriodEnd; end > start; end ≤ referencePeriodEnd + 3 years).
    if let Some(cf) = &pcf {
        check_validity(c, &entries, cf.reference_period_end, vstart, vend);
    }

    // The GxD and BOM extensions, typed.
    let mut gxd_ext = None;
    let mut bom_inputs = Vec::new();
    let mut gx_attributes = None;
    for (i, (ext, data)) in exts.iter().enumerate() {
        let ptr = format!("/extensions/{i}/data");
        match ext.kind {
            ExtensionKind::Gxd => {
                if gxd_ext.is_some() {
                    c.error(
                        Some(data),
                        ptr,
                        "more than one GxD extension in one footprint",
                    );
                    continue;
                }
                let by_schema = ext.data_schema.contains("Green-x-Digital-Consortium");
                gxd_ext = gxd::parse(c, data, &ptr, by_schema);
            }
            ExtensionKind::MierukaBom => {
                if let Some(inputs) = super::bom::extension_inputs(
                    c,
                    data,
                    &ptr,
                    product_ids
                        .as_ref()
                        .and_then(|v| v.first())
                        .map(String::as_str),
                ) {
                    bom_inputs.extend(inputs);
                }
            }
            ExtensionKind::MierukaGx => {
                let product = product_ids
                    .as_ref()
                    .and_then(|v| v.first())
                    .map(String::as_str)
                    .unwrap_or_default();
                gx_attributes = super::gx::extension(c, data, &ptr, product);
            }
            ExtensionKind::Other => {}
        }
    }
    if let (Some(g), Some(cf)) = (&gxd_ext, &pcf)
        && let Some(g2g) = g.g2g_fossil_ghg_emissions_kgco2e_per_unit
        && g2g > cf.pcf_excluding_biogenic_kgco2e_per_unit
    {
        c.warn(
            None,
            "/extensions".into(),
            format!(
                "Gate-to-Gate emissions ({g2g}) exceed the cradle-to-gate PCF ({}): the reported upstream is negative",
                cf.pcf_excluding_biogenic_kgco2e_per_unit
            ),
        );
    }

    if c.errors.len() != before || spec.is_none() {
        return None;
    }
    Some(Footprint {
        id: id?,
        spec_version: spec?,
        pact_version: version,
        version: fp_version,
        preceding_pf_ids: preceding,
        created: created?,
        updated,
        status: status?,
        status_comment,
        validity_period_start: vstart,
        validity_period_end: vend,
        company_name: company_name?,
        company_ids: company_ids?,
        product_description: product_description?,
        product_ids: product_ids?,
        product_category_cpc: cpc,
        product_classifications: classifications,
        product_name_company: product_name?,
        comment,
        pcf: pcf?,
        extensions: exts.into_iter().map(|(e, _)| e).collect(),
        gxd: gxd_ext,
        bom_inputs,
        gx_attributes,
    })
}

/// PACT's validity-period rules. Only a period that ends before it starts is an error: PACT's
/// own v3 examples start validity before the reference period ends, so the relation to the
/// reference period and the 3-year limit are warnings.
fn check_validity(
    c: &mut Checker,
    entries: &Entries,
    ref_end: DateTime<Utc>,
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
) {
    let at = |key: &str| entries.0.iter().find(|(k, _)| k == key).map(|e| e.1);
    if let (Some(s), Some(e)) = (start, end)
        && e <= s
    {
        c.error(
            at("validityPeriodEnd"),
            "/validityPeriodEnd".into(),
            format!("validity period ends ({e}) before or when it starts ({s})"),
        );
    }
    if let Some(s) = start
        && s < ref_end
    {
        c.warn(
            at("validityPeriodStart"),
            "/validityPeriodStart".into(),
            format!("validity period starts ({s}) before the reference period ends ({ref_end}); PACT asks for it to start at or after"),
        );
    }
    if let Some(e) = end
        && let Some(limit) = ref_end.checked_add_months(Months::new(36))
        && e > limit
    {
        c.warn(
            at("validityPeriodEnd"),
            "/validityPeriodEnd".into(),
            format!("validity period ends ({e}) more than 3 years after the reference period ends ({ref_end}); PACT allows at most 3 years"),
        );
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
    fn a_repeated_member_is_found_in_small_and_large_objects() {
        // Both ways of looking (pairs up to 32 members, sorting above) at the boundary.
        for n in [2, 31, 32, 33, 40] {
            let members = |repeat: bool| {
                let mut m: Vec<String> = (0..n).map(|i| format!("\"k{i}\":{i}")).collect();
                if repeat {
                    m[n - 1] = format!("\"k{}\":0", (n - 1) / 2);
                }
                format!("{{{}}}", m.join(","))
            };
            for repeat in [false, true] {
                let text = members(repeat);
                let mut c = Checker::new(&text);
                let entries: Entries = serde_json::from_str(&text).unwrap();
                let kept = check_duplicates(&mut c, entries, "/x");
                assert_eq!(kept.is_none(), repeat, "{n} members: {text}");
                if repeat {
                    assert_eq!(c.errors[0].pointer, format!("/x/k{}", (n - 1) / 2));
                    // The error points at the last occurrence.
                    assert_eq!(c.errors[0].offset, text.rfind(":0").map(|at| at + 1));
                }
            }
        }
    }

    #[test]
    fn standard_spellings_normalise() {
        assert_eq!(standard_key("ISO Standard 14067"), "iso14067");
        assert_eq!(standard_key("ISO 14040-44"), "iso1404044");
        assert_eq!(standard_key("GHGP-Product"), "ghgpproduct");
        assert_eq!(standard_key("GHG Protocol Product Standard"), "ghgpproduct");
    }
}
