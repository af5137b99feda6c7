//! A footprint in the other PACT major version: v2 documents served under `/3/`, v3 under
//! `/2/`, and what `mieruka footprints --explain-conversion` prints. Pure JSON to JSON, no
//! I/O; the stored document is never changed.
//!
//! The mapping is the one the PACT v3 specification gives for the move from 2.x: its
//! changelog ("Properties removed", "renamed", "replaced by", "superseded by") and the notes of
//! its OpenAPI schema ("Replaces dLucGhgEmissions", "Replaces biogenicCarbonWithdrawal",
//! "Replaces productCategoryCpc deprecated in 2.3", "`string<decimal>` in 3.0, was Number in
//! 2.x", …). Every property of the document is accounted for in the notes: renamed, derived
//! (with the rule), left out (no counterpart), or carried as received (not a PACT property).
//!
//! A document is given in the other version only when nothing the target version requires
//! would have to be invented and no value would change its meaning: a v2 liter footprint
//! without `productMassPerDeclaredUnit` (mandatory in v3) or a v3 `piece` footprint (no v2
//! declared unit) is not converted, and the reasons say why.
//!
//! The rules of each direction are in `to_v3` and `to_v2`; the tables, the notes and the
//! number forms they share are here.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Map, Number, Value};

mod to_v2;
mod to_v3;

/// What happened to one property.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// The same value under the other version's name.
    Renamed,
    /// A value computed or supplied by a rule of the specification (the note says which).
    Derived,
    /// No counterpart in the other version: left out.
    LeftOut,
    /// Not a PACT property of either version: carried as received.
    Carried,
}

impl Change {
    /// How the change reads in a table.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Renamed => "renamed",
            Change::Derived => "derived",
            Change::LeftOut => "left out",
            Change::Carried => "carried",
        }
    }
}

/// One line of the explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    /// RFC 6901 pointer into the document as received.
    pub from: String,
    /// Pointer into the converted document (`None` when left out).
    pub to: Option<String>,
    /// What happened to it.
    pub change: Change,
    /// Why, in a sentence.
    pub why: String,
}

/// A document converted to the other PACT major version.
#[derive(Debug, Clone, Serialize)]
pub struct Converted {
    /// The major version the document was received in.
    pub from: u8,
    /// The major version it is given in.
    pub to: u8,
    /// The document in version `to`; `None` when it cannot be given faithfully.
    pub document: Option<Value>,
    /// Why it cannot (empty when it can).
    pub blockers: Vec<String>,
    /// What happened to each property that is not carried unchanged under its own name.
    pub notes: Vec<Note>,
}

/// The spec version a converted document declares.
const V2_SPEC_VERSION: &str = "2.3.0";
const V3_SPEC_VERSION: &str = "3.0.0";

/// The URN prefix of a UN CPC product classification (PACT v2.3 and v3, "Product
/// Classification URNs").
const CPC_URN: &str = "urn:pact:productclassification:un-cpc:";

/// v2 `crossSectoralStandardsUsed` values and the v2.3/v3 `crossSectoralStandards` value that
/// names the same standard.
const STANDARDS: [(&str, &str); 3] = [
    ("GHG Protocol Product standard", "GHGP-Product"),
    ("ISO Standard 14067", "ISO14067"),
    ("ISO Standard 14044", "ISO14040-44"),
];

/// Declared units PACT v2 knows (`DeclaredUnit`); v3 adds `piece`, `hour`, `megabit second`.
const V2_UNITS: [&str; 7] = [
    "liter",
    "kilogram",
    "cubic meter",
    "kilowatt hour",
    "megajoule",
    "ton kilometer",
    "square meter",
];

/// Top-level properties both versions have with the same meaning and form.
const SHARED_TOP: [&str; 14] = [
    "id",
    "precedingPfIds",
    "created",
    "status",
    "validityPeriodStart",
    "validityPeriodEnd",
    "companyName",
    "companyIds",
    "productDescription",
    "productIds",
    "productClassifications",
    "productNameCompany",
    "comment",
    "extensions",
];

/// `pcf` properties both versions have with the same meaning and form.
const SHARED_PCF: [&str; 17] = [
    "referencePeriodStart",
    "referencePeriodEnd",
    "geographyRegionOrSubregion",
    "geographyCountry",
    "geographyCountrySubdivision",
    "boundaryProcessesDescription",
    "fossilGhgEmissions",
    "fossilCarbonContent",
    "biogenicCarbonContent",
    "aircraftGhgEmissions",
    "packagingEmissionsIncluded",
    "packagingGhgEmissions",
    "crossSectoralStandards",
    "productOrSectorSpecificRules",
    "exemptedEmissionsDescription",
    "allocationRulesDescription",
    "secondaryEmissionFactorSources",
];

/// `pcf` properties only v2 has, and why they have no v3 counterpart.
const V2_ONLY_PCF: [(&str, &str); 5] = [
    ("iLucGhgEmissions", "removed in v3 (changelog 3.0.0)"),
    (
        "landManagementGhgEmissions",
        "removed in v3 (changelog 3.0.0); v3 splits land management emissions into fossil, biogenic CO2 and removals",
    ),
    (
        "otherBiogenicGhgEmissions",
        "removed in v3 (changelog 3.0.0)",
    ),
    ("biogenicAccountingMethodology", "not in the v3 data model"),
    (
        "uncertaintyAssessmentDescription",
        "removed in v3 (changelog 3.0.0)",
    ),
];

/// `pcf` properties only v3 has.
const V3_ONLY_PCF: [&str; 16] = [
    "recycledCarbonContent",
    "landCarbonLeakage",
    "landManagementFossilGhgEmissions",
    "landManagementBiogenicCO2Emissions",
    "landManagementBiogenicCO2Removals",
    "biogenicNonCO2Emissions",
    "landAreaOccupation",
    "packagingBiogenicCarbonContent",
    "outboundLogisticsGhgEmissions",
    "ccsTechnologicalCO2CaptureIncluded",
    "ccsTechnologicalCO2Capture",
    "technologicalCO2CaptureOrigin",
    "technologicalCO2Removals",
    "ccuCarbonContent",
    "ccuCalculationApproach",
    "ccuCreditCertification",
];

/// `pcf` properties renamed one to one: (v2 name, v3 name, the specification's words).
const RENAMED_PCF: [(&str, &str, &str); 6] = [
    (
        "declaredUnit",
        "declaredUnitOfMeasurement",
        "declaredUnit is replaced by declaredUnitOfMeasurement (changelog 3.0.0)",
    ),
    (
        "unitaryProductAmount",
        "declaredUnitAmount",
        "UnitaryProductAmount is replaced by declaredUnitAmount (changelog 3.0.0)",
    ),
    (
        "pCfExcludingBiogenic",
        "pcfExcludingBiogenicUptake",
        "pCfExcludingBiogenic is superseded by pcfExcludingBiogenicUptake (changelog 3.0.0)",
    ),
    (
        "pCfIncludingBiogenic",
        "pcfIncludingBiogenicUptake",
        "pCfIncludingBiogenic is superseded by pcfIncludingBiogenicUptake (changelog 3.0.0)",
    ),
    (
        "dLucGhgEmissions",
        "landUseChangeGhgEmissions",
        "landUseChangeGhgEmissions \"Replaces dLucGhgEmissions\" (v3 schema)",
    ),
    (
        "biogenicCarbonWithdrawal",
        "biogenicCO2Uptake",
        "biogenicCO2Uptake \"Replaces biogenicCarbonWithdrawal\" (v3 schema)",
    ),
];

/// The PACT major version of a document, from its `specVersion`.
pub fn major_of(doc: &Value) -> Option<u8> {
    doc.get("specVersion")?
        .as_str()?
        .split('.')
        .next()?
        .parse()
        .ok()
}

/// `doc` (a stored footprint, v2 or v3) in PACT major version `to` (2 or 3).
pub fn convert(doc: &Value, to: u8) -> Converted {
    let from = major_of(doc).unwrap_or(0);
    let mut c = Conversion {
        notes: Vec::new(),
        blockers: Vec::new(),
    };
    let document = match (from, to) {
        (2, 2) | (3, 3) => Some(doc.clone()),
        (2, 3) => c.v2_to_v3(doc),
        (3, 2) => c.v3_to_v2(doc),
        _ => {
            c.blockers.push(format!(
                "the document's specVersion ({}) is not PACT v2 or v3",
                doc.get("specVersion").unwrap_or(&Value::Null)
            ));
            None
        }
    };
    let document = document.filter(|_| c.blockers.is_empty());
    Converted {
        from,
        to,
        document,
        blockers: c.blockers,
        notes: c.notes,
    }
}

struct Conversion {
    notes: Vec<Note>,
    blockers: Vec<String>,
}

fn ptr(parent: &str, key: &str) -> String {
    format!("{parent}/{}", key.replace('~', "~0").replace('/', "~1"))
}

impl Conversion {
    fn note(&mut self, from: String, to: Option<String>, change: Change, why: impl Into<String>) {
        self.notes.push(Note {
            from,
            to,
            change,
            why: why.into(),
        });
    }

    fn left_out(&mut self, from: String, why: impl Into<String>) {
        self.note(from, None, Change::LeftOut, why);
    }

    /// Carries member `k` (not a property of the version received) into `out` unchanged.
    fn carry(
        &mut self,
        out: &mut Map<String, Value>,
        k: &str,
        v: &Value,
        from: String,
        to: String,
    ) {
        out.insert(k.to_owned(), v.clone());
        self.note(
            from,
            Some(to),
            Change::Carried,
            "not a property of the version received: carried as received",
        );
    }

    fn block(&mut self, why: impl Into<String>) {
        self.blockers.push(why.into());
    }

    fn object<'a>(&mut self, v: &'a Value, at: &str) -> Option<&'a Map<String, Value>> {
        let o = v.as_object();
        if o.is_none() {
            self.block(format!(
                "{} is not an object",
                if at.is_empty() { "the document" } else { at }
            ));
        }
        o
    }

    /// Blocks the conversion when a property version `major` requires is missing.
    fn require(&mut self, out: &Map<String, Value>, at: &str, required: &[&str], major: u8) {
        for k in required {
            // A property a rule could not give has its own reason already.
            let explained = self.blockers.iter().any(|b| b.contains(k));
            if !out.contains_key(*k) && !explained {
                self.block(format!(
                    "{} is required in v{major} and the document gives nothing it could come from",
                    ptr(at, k)
                ));
            }
        }
    }

    /// A v2 JSON number as a v3 decimal string ("string<decimal> in 3.0, was Number in 2.x").
    fn number_to_decimal(&mut self, v: &Value, at: &str) -> Option<Value> {
        let d = match v {
            Value::Number(n) => decimal_of_number(n),
            _ => None,
        };
        match d {
            Some(d) => {
                self.note(at.to_owned(), Some(at.to_owned()), Change::Derived, "\"string<decimal> in 3.0, was Number in 2.x\" (v3 schema): the same value as a decimal string");
                Some(d.to_string().into())
            }
            None => {
                self.block(format!("{at} is not a number"));
                None
            }
        }
    }

    /// A v3 decimal string as a v2 JSON number.
    fn decimal_to_number(&mut self, v: &Value, at: &str) -> Option<Value> {
        let Some(d) = decimal(v) else {
            self.block(format!("{at} is not a decimal"));
            return None;
        };
        let n = if d.scale() == 0
            && let Ok(i) = i64::try_from(d)
        {
            Number::from(i)
        } else {
            match v
                .as_str()
                .and_then(|s| s.parse::<f64>().ok())
                .and_then(Number::from_f64)
            {
                Some(n) => n,
                None => {
                    self.block(format!("{at} is not a finite number"));
                    return None;
                }
            }
        };
        let exact = decimal_of_number(&n) == Some(d);
        self.note(
            at.to_owned(),
            Some(at.to_owned()),
            Change::Derived,
            if exact {
                "\"string<decimal> in 3.0, was Number in 2.x\" (v3 schema): the same value as a number"
            } else {
                "\"string<decimal> in 3.0, was Number in 2.x\" (v3 schema): the nearest binary number"
            },
        );
        Some(Value::Number(n))
    }
}

/// A PACT decimal (a string) as a [`Decimal`].
fn decimal(v: &Value) -> Option<Decimal> {
    Decimal::from_str(v.as_str()?.trim_start_matches('+')).ok()
}

/// A JSON number as the decimal its shortest text says (`12.9` → 12.9, `1e-7` → 0.0000001).
fn decimal_of_number(n: &Number) -> Option<Decimal> {
    let text = n.to_string();
    Decimal::from_str(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_become_decimal_strings_and_back() {
        let mut c = Conversion {
            notes: Vec::new(),
            blockers: Vec::new(),
        };
        for (number, text) in [
            (json!(0), "0"),
            (json!(12.9), "12.9"),
            (json!(1e-7), "0.0000001"),
            (json!(100), "100"),
        ] {
            assert_eq!(c.number_to_decimal(&number, "/x"), Some(json!(text)));
            assert_eq!(c.decimal_to_number(&json!(text), "/x"), Some(number));
        }
        assert!(c.blockers.is_empty());
        // 0.1 + 0.2 in decimal is exact; as a binary number it is the nearest one.
        assert_eq!(
            c.decimal_to_number(&json!("0.30000000000000000001"), "/x"),
            Some(json!(0.3))
        );
        assert!(
            c.notes
                .last()
                .is_some_and(|n| n.why.contains("nearest binary number"))
        );
    }

    #[test]
    fn an_unknown_spec_version_is_not_converted() {
        let c = convert(&json!({"specVersion": "1.0.0"}), 3);
        assert!(c.document.is_none());
        assert!(
            c.blockers[0].contains("not PACT v2 or v3"),
            "{:?}",
            c.blockers
        );
    }
}
