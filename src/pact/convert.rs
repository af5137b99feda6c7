//! A footprint in the other PACT major version: v2 documents served under `/3/`, v3 under
//! `/2/`, and what `mieruka footprints --explain-conversion` prints. Pure JSON to JSON, no
//! I/O; the stored document is never changed.
//!
//! The mapping is the one the PACT v3 specification gives for the move from 2.x: its
//! changelog ("Properties removed", "renamed", "replaced by", "superseded by") and the notes of
//! its OpenAPI schema ("Replaces dLucGhgEmissions", "Replaces biogenicCarbonWithdrawal",
//! "Replaces productCategoryCpc deprecated in 2.3", "string<decimal> in 3.0, was Number in
//! 2.x", …). Every property of the document is accounted for in the notes: renamed, derived
//! (with the rule), left out (no counterpart), or carried as received (not a PACT property).
//!
//! A document is given in the other version only when nothing the target version requires
//! would have to be invented and no value would change its meaning: a v2 liter footprint
//! without `productMassPerDeclaredUnit` (mandatory in v3) or a v3 `piece` footprint (no v2
//! declared unit) is not converted, and the reasons say why.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Map, Number, Value};

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

    fn v2_to_v3(&mut self, doc: &Value) -> Option<Value> {
        let src = self.object(doc, "")?;
        let mut out = Map::new();
        let mut cpc = None;
        for (k, v) in src {
            let at = ptr("", k);
            match k.as_str() {
                "specVersion" => {
                    out.insert(k.clone(), V3_SPEC_VERSION.into());
                    self.note(at.clone(), Some(at), Change::Derived, format!("given as PACT {V3_SPEC_VERSION}, received as {v}"));
                }
                "version" | "updated" => self.left_out(
                    at,
                    "v3 has no versions of a footprint: \"any change to a Product Footprint will result in a new Product Footprint with a new ID\" (v3, Product Footprint Lifecycle)",
                ),
                "statusComment" => self.left_out(at, "statusComment \"is now obsolete and has been removed\" in v3"),
                "productCategoryCpc" => cpc = Some((at, v)),
                "pcf" => {
                    let pcf = self.pcf_v2_to_v3(v);
                    out.insert(k.clone(), pcf?);
                }
                k2 if SHARED_TOP.contains(&k2) => {
                    out.insert(k.clone(), v.clone());
                }
                _ => {
                    out.insert(k.clone(), v.clone());
                    self.note(at.clone(), Some(at), Change::Carried, "not a property of the version received: carried as received");
                }
            }
        }
        // productCategoryCpc becomes a classification URN unless one says it already.
        if let Some((at, v)) = cpc {
            match v.as_str() {
                Some(code) if !code.is_empty() => {
                    let urn = format!("{CPC_URN}{code}");
                    let list = out
                        .entry("productClassifications")
                        .or_insert_with(|| Value::Array(Vec::new()));
                    if let Value::Array(a) = list {
                        let i = a.iter().position(|x| x.as_str() == Some(urn.as_str()));
                        let i = i.unwrap_or_else(|| {
                            a.push(urn.into());
                            a.len() - 1
                        });
                        self.note(at, Some(format!("/productClassifications/{i}")), Change::Derived, "productClassifications \"Replaces productCategoryCpc deprecated in 2.3\" (v3 schema): the code as a UN CPC classification URN");
                    }
                }
                _ => self.left_out(
                    at,
                    "an empty or non-text productCategoryCpc names no classification",
                ),
            }
        }
        self.require(
            &out,
            "",
            &[
                "id",
                "specVersion",
                "created",
                "status",
                "companyName",
                "companyIds",
                "productDescription",
                "productIds",
                "productNameCompany",
                "pcf",
            ],
            3,
        );
        Some(Value::Object(out))
    }

    fn pcf_v2_to_v3(&mut self, v: &Value) -> Option<Value> {
        let src = self.object(v, "/pcf")?;
        let mut out = Map::new();
        let amount = src.get("unitaryProductAmount").and_then(decimal);
        for (k, v) in src {
            let at = ptr("/pcf", k);
            if let Some((_, to, why)) = RENAMED_PCF.iter().find(|(f, _, _)| f == k) {
                out.insert((*to).to_owned(), v.clone());
                self.note(at, Some(ptr("/pcf", to)), Change::Renamed, *why);
                continue;
            }
            if let Some((_, why)) = V2_ONLY_PCF.iter().find(|(f, _)| f == k) {
                self.left_out(at, *why);
                continue;
            }
            match k.as_str() {
                "productMassPerDeclaredUnit" => {
                    // v2: "the mass of one piece"; v3: "the mass of declaredUnitAmount pieces".
                    match (decimal(v), amount) {
                        (_, Some(a)) if a == Decimal::ONE => {
                            out.insert(k.clone(), v.clone());
                        }
                        (Some(m), Some(a)) => match m.checked_mul(a) {
                            Some(total) => {
                                out.insert(k.clone(), total.normalize().to_string().into());
                                self.note(at.clone(), Some(at), Change::Derived, format!("v2 gives the mass of one declared unit, v3 \"the mass of declaredUnitAmount\" units: {m} kg × {a}"));
                            }
                            None => self.block("productMassPerDeclaredUnit × unitaryProductAmount is too large to write"),
                        },
                        _ => self.block("productMassPerDeclaredUnit or unitaryProductAmount is not a decimal"),
                    }
                }
                "characterizationFactors" => {
                    if src.contains_key("ipccCharacterizationFactorsSources") {
                        self.left_out(at, "deprecated; ipccCharacterizationFactorsSources, given too, becomes ipccCharacterizationFactors (\"supersedes characterizationFactors\", v3 schema)");
                    } else {
                        out.insert(
                            "ipccCharacterizationFactors".into(),
                            Value::Array(vec![v.clone()]),
                        );
                        self.note(at, Some("/pcf/ipccCharacterizationFactors/0".into()), Change::Derived, "ipccCharacterizationFactors \"supersedes characterizationFactors\" (v3 schema): the one report it names");
                    }
                }
                "ipccCharacterizationFactorsSources" => {
                    out.insert("ipccCharacterizationFactors".into(), v.clone());
                    self.note(at, Some("/pcf/ipccCharacterizationFactors".into()), Change::Renamed, "characterizationFactors is \"replaced by ipccCharacterizationFactors\" (changelog 3.0.0); the v2.2 list of reports is its value");
                }
                "crossSectoralStandardsUsed" => {
                    if src.contains_key("crossSectoralStandards") {
                        self.left_out(at, "deprecated in 2.3 and removed in v3; crossSectoralStandards, given too, is kept");
                    } else {
                        let mapped: Vec<Value> = v
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|s| {
                                STANDARDS.iter().find(|(old, _)| Some(*old) == s.as_str())
                            })
                            .map(|(_, new)| Value::from(*new))
                            .collect();
                        out.insert("crossSectoralStandards".into(), Value::Array(mapped));
                        self.note(at, Some("/pcf/crossSectoralStandards".into()), Change::Derived, "crossSectoralStandards \"Supersedes crossSectoralStandardsUsed\" (v3 schema): each standard under its v3 name");
                    }
                }
                "exemptedEmissionsPercent" | "primaryDataShare" => {
                    out.insert(k.clone(), self.number_to_decimal(v, &at)?);
                }
                "dqi" => {
                    if let Some(d) = self.dqi_v2_to_v3(v) {
                        out.insert(k.clone(), d);
                    }
                }
                "assurance" => {
                    if let Some(a) = self.assurance_to_verification(v) {
                        out.insert("verification".into(), a);
                    }
                }
                k2 if SHARED_PCF.contains(&k2) => {
                    out.insert(k.clone(), v.clone());
                }
                _ => {
                    out.insert(k.clone(), v.clone());
                    self.note(
                        at.clone(),
                        Some(at),
                        Change::Carried,
                        "not a property of the version received: carried as received",
                    );
                }
            }
        }
        if !out.contains_key("productMassPerDeclaredUnit")
            && !src.contains_key("productMassPerDeclaredUnit")
        {
            // v2.3: "If the declared unit is kilogram, this attribute SHOULD by definition be
            // populated with 1. If the product mass is not relevant (i.e. PCF is for an energy
            // (kWh, MJ), logistics (ton.km) or service product), this attribute SHOULD be
            // populated with 0."
            let unit = src
                .get("declaredUnit")
                .and_then(Value::as_str)
                .unwrap_or("");
            let mass = match unit {
                "kilogram" => amount.map(|a| (a.normalize().to_string(), "a kilogram weighs 1 kg by definition (v2.3): the mass of declaredUnitAmount kilograms")),
                "kilowatt hour" | "megajoule" | "ton kilometer" => Some(("0".to_owned(), "\"If the product mass is not relevant (i.e. PCF is for an energy (kWh, MJ), logistics (ton.km) or service product), this attribute SHOULD be populated with 0\" (v2.3)")),
                _ => None,
            };
            match mass {
                Some((m, why)) => {
                    out.insert("productMassPerDeclaredUnit".into(), m.into());
                    self.note("/pcf/declaredUnit".into(), Some("/pcf/productMassPerDeclaredUnit".into()), Change::Derived, why);
                }
                None => self.block(format!(
                    "productMassPerDeclaredUnit is mandatory in v3 and the v2 document does not give it; for a {unit:?} declared unit it cannot be derived"
                )),
            }
        }
        self.require(
            &out,
            "/pcf",
            &[
                "declaredUnitOfMeasurement",
                "declaredUnitAmount",
                "productMassPerDeclaredUnit",
                "referencePeriodStart",
                "referencePeriodEnd",
                "pcfExcludingBiogenicUptake",
                "pcfIncludingBiogenicUptake",
                "fossilGhgEmissions",
                "fossilCarbonContent",
                "ipccCharacterizationFactors",
                "crossSectoralStandards",
                "exemptedEmissionsPercent",
            ],
            3,
        );
        if out
            .get("crossSectoralStandards")
            .and_then(Value::as_array)
            .is_some_and(Vec::is_empty)
        {
            self.block("crossSectoralStandards must be a non-empty array in v3 and none of crossSectoralStandardsUsed has a v3 name");
        }
        Some(Value::Object(out))
    }

    fn dqi_v2_to_v3(&mut self, v: &Value) -> Option<Value> {
        let src = self.object(v, "/pcf/dqi")?;
        let mut out = Map::new();
        for (k, v) in src {
            let at = ptr("/pcf/dqi", k);
            match k.as_str() {
                "technologicalDQR" | "temporalDQR" | "geographicalDQR" => {
                    out.insert(k.clone(), self.number_to_decimal(v, &at)?);
                }
                "coveragePercent" | "completenessDQR" | "reliabilityDQR" => {
                    self.left_out(
                        at,
                        format!("DataQualityIndicators/{k} is removed in v3 (changelog 3.0.0)"),
                    );
                }
                _ => {
                    out.insert(k.clone(), v.clone());
                    self.note(
                        at.clone(),
                        Some(at),
                        Change::Carried,
                        "not a property of the version received: carried as received",
                    );
                }
            }
        }
        Some(Value::Object(out))
    }

    fn assurance_to_verification(&mut self, v: &Value) -> Option<Value> {
        let src = self.object(v, "/pcf/assurance")?;
        if src.get("assurance") != Some(&Value::Bool(true)) {
            self.left_out("/pcf/assurance".into(), "the PCF is not assured (assurance: false); v3 has only a verification that took place");
            return None;
        }
        let mut out = Map::new();
        for (k, v) in src {
            let at = ptr("/pcf/assurance", k);
            let to = ptr("/pcf/verification", k);
            match k.as_str() {
                "assurance" => self.note(at, Some("/pcf/verification".into()), Change::Derived, "assurance is \"renamed to verification\" (changelog 3.0.0); assured: true means a verification is given"),
                "coverage" if v.as_str() == Some("product level") => {
                    out.insert(k.clone(), v.clone());
                    self.note(at, Some(to), Change::Renamed, "assurance is \"renamed to verification\" (changelog 3.0.0)");
                }
                "coverage" => self.left_out(at, format!("v3 verification coverage values changed (PCF calculation model, PCF program, product level); {v} has no counterpart")),
                "level" | "boundary" => self.left_out(at, format!("v3 verification has no {k}")),
                "providerName" | "completedAt" | "standardName" | "comments" => {
                    out.insert(k.clone(), v.clone());
                    self.note(at, Some(to), Change::Renamed, "assurance is \"renamed to verification\" (changelog 3.0.0)");
                }
                _ => {
                    out.insert(k.clone(), v.clone());
                    self.note(at, Some(to), Change::Carried, "not a property of the version received: carried as received");
                }
            }
        }
        Some(Value::Object(out))
    }

    fn v3_to_v2(&mut self, doc: &Value) -> Option<Value> {
        let src = self.object(doc, "")?;
        let mut out = Map::new();
        for (k, v) in src {
            let at = ptr("", k);
            match k.as_str() {
                "specVersion" => {
                    out.insert(k.clone(), V2_SPEC_VERSION.into());
                    self.note(
                        at.clone(),
                        Some(at),
                        Change::Derived,
                        format!("given as PACT {V2_SPEC_VERSION}, received as {v}"),
                    );
                }
                "pcf" => {
                    let pcf = self.pcf_v3_to_v2(v);
                    out.insert(k.clone(), pcf?);
                }
                // v2 properties some v3 hosts still keep ("Version 3.x MAY in its internal
                // data model store the version and updated properties").
                "version" | "updated" => {
                    out.insert(k.clone(), v.clone());
                }
                k2 if SHARED_TOP.contains(&k2) => {
                    out.insert(k.clone(), v.clone());
                }
                _ => {
                    out.insert(k.clone(), v.clone());
                    self.note(
                        at.clone(),
                        Some(at),
                        Change::Carried,
                        "not a property of the version received: carried as received",
                    );
                }
            }
        }
        if !out.contains_key("version") {
            out.insert("version".into(), 1.into());
            self.note("/id".into(), Some("/version".into()), Change::Derived, "v3: a footprint's \"version number [...] MUST always be 1\" (Product Footprint Lifecycle)");
        }
        // productCategoryCpc is required in v2: the first UN CPC classification.
        let cpc = src
            .get("productClassifications")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
            .find_map(|(i, c)| Some((i, c.as_str()?.strip_prefix(CPC_URN)?)));
        match cpc {
            Some((i, code)) if !code.is_empty() => {
                out.insert("productCategoryCpc".into(), code.into());
                self.note(format!("/productClassifications/{i}"), Some("/productCategoryCpc".into()), Change::Derived, "productClassifications \"Replaces productCategoryCpc\" (v3 schema): the code of the UN CPC classification URN");
            }
            _ => self.block(format!(
                "productCategoryCpc is required in v2 and no productClassifications entry is a UN CPC classification ({CPC_URN}…)"
            )),
        }
        if !out.contains_key("comment") {
            out.insert("comment".into(), "".into());
            self.note(
                "/comment".into(),
                Some("/comment".into()),
                Change::Derived,
                "comment is required in v2 and optional in v3: empty",
            );
        }
        self.require(
            &out,
            "",
            &[
                "id",
                "specVersion",
                "version",
                "created",
                "status",
                "comment",
                "companyName",
                "companyIds",
                "productDescription",
                "productIds",
                "productCategoryCpc",
                "productNameCompany",
                "pcf",
            ],
            2,
        );
        Some(Value::Object(out))
    }

    fn pcf_v3_to_v2(&mut self, v: &Value) -> Option<Value> {
        let src = self.object(v, "/pcf")?;
        let mut out = Map::new();
        let amount = src.get("declaredUnitAmount").and_then(decimal);
        for (k, v) in src {
            let at = ptr("/pcf", k);
            if let Some((to, _, why)) = RENAMED_PCF.iter().find(|(_, f, _)| f == k) {
                out.insert((*to).to_owned(), v.clone());
                self.note(at, Some(ptr("/pcf", to)), Change::Renamed, *why);
                continue;
            }
            if V3_ONLY_PCF.contains(&k.as_str()) {
                self.left_out(at, "added in v3 (changelog 3.0.0): no v2 counterpart");
                continue;
            }
            match k.as_str() {
                "productMassPerDeclaredUnit" => match (decimal(v), amount) {
                    (_, Some(a)) if a == Decimal::ONE => {
                        out.insert(k.clone(), v.clone());
                    }
                    (Some(m), Some(a)) => match m.checked_div(a).filter(|per| per.checked_mul(a) == Some(m)) {
                        Some(per) => {
                            out.insert(k.clone(), per.normalize().to_string().into());
                            self.note(at.clone(), Some(at), Change::Derived, format!("v3 gives \"the mass of declaredUnitAmount\" units, v2 the mass of one: {m} kg ÷ {a}"));
                        }
                        None => self.left_out(at, format!("the mass of one declared unit ({m} kg ÷ {a}) has no exact decimal; optional in v2")),
                    },
                    _ => self.block("productMassPerDeclaredUnit or declaredUnitAmount is not a decimal"),
                },
                "ipccCharacterizationFactors" => {
                    out.insert("ipccCharacterizationFactorsSources".into(), v.clone());
                    self.note(at.clone(), Some("/pcf/ipccCharacterizationFactorsSources".into()), Change::Renamed, "characterizationFactors is \"replaced by ipccCharacterizationFactors\" (changelog 3.0.0); v2.2's list of reports is ipccCharacterizationFactorsSources");
                    // v2: "In case several characterization factors are used, indicate the
                    // earliest version used"; the value MUST be AR6 or AR5.
                    let earliest = v
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|r| r.as_str()?.strip_prefix("AR")?.parse::<u32>().ok())
                        .min();
                    match earliest {
                        Some(n @ (5 | 6)) => {
                            out.insert("characterizationFactors".into(), format!("AR{n}").into());
                            self.note(at, Some("/pcf/characterizationFactors".into()), Change::Derived, "required in v2: \"indicate the earliest version used\" (AR5 or AR6)");
                        }
                        _ => self.block("characterizationFactors is required in v2 and must be AR5 or AR6: the earliest report of ipccCharacterizationFactors is neither"),
                    }
                }
                "crossSectoralStandards" => {
                    out.insert(k.clone(), v.clone());
                    let used: Vec<Value> = v
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|s| STANDARDS.iter().find(|(_, new)| Some(*new) == s.as_str()))
                        .map(|(old, _)| Value::from(*old))
                        .collect();
                    if used.is_empty() {
                        self.block("crossSectoralStandardsUsed is required in v2 and none of crossSectoralStandards is a standard it names (GHGP-Product, ISO14067, ISO14040-44)");
                    } else {
                        out.insert("crossSectoralStandardsUsed".into(), Value::Array(used));
                        self.note(at, Some("/pcf/crossSectoralStandardsUsed".into()), Change::Derived, "required in v2 (deprecated): the standards it can name, under their v2 names");
                    }
                }
                "exemptedEmissionsPercent" | "primaryDataShare" => {
                    out.insert(k.clone(), self.decimal_to_number(v, &at)?);
                }
                "dqi" => self.left_out(at, "v2 DataQualityIndicators also require coveragePercent, completenessDQR and reliabilityDQR, which v3 removed, and rate 1 to 3"),
                "verification" => {
                    if let Some(a) = self.verification_to_assurance(v) {
                        out.insert("assurance".into(), a);
                    }
                }
                k2 if SHARED_PCF.contains(&k2) => {
                    out.insert(k.clone(), v.clone());
                }
                _ => {
                    out.insert(k.clone(), v.clone());
                    self.note(at.clone(), Some(at), Change::Carried, "not a property of the version received: carried as received");
                }
            }
        }
        // v3: packagingGhgEmissions "MUST be undefined if packagingEmissionsIncluded is
        // false": given, the packaging emissions are included.
        if !out.contains_key("packagingEmissionsIncluded")
            && out.contains_key("packagingGhgEmissions")
        {
            out.insert("packagingEmissionsIncluded".into(), true.into());
            self.note("/pcf/packagingGhgEmissions".into(), Some("/pcf/packagingEmissionsIncluded".into()), Change::Derived, "required in v2; v3's packagingGhgEmissions \"MUST be undefined if packagingEmissionsIncluded is false\", so it is true");
        }
        match out.get("declaredUnit").and_then(Value::as_str) {
            Some(u) if !V2_UNITS.contains(&u) => self.block(format!(
                "the declared unit {u:?} has no PACT v2 counterpart (v2 knows {})",
                V2_UNITS.join(", ")
            )),
            _ => {}
        }
        if out
            .get("pCfExcludingBiogenic")
            .and_then(decimal)
            .is_some_and(|d| d.is_sign_negative() && !d.is_zero())
        {
            self.block("pcfExcludingBiogenicUptake is negative; v2's pCfExcludingBiogenic must be equal to or greater than zero");
        }
        if out
            .get("exemptedEmissionsPercent")
            .and_then(Value::as_f64)
            .is_some_and(|p| p > 100.0)
        {
            self.block("exemptedEmissionsPercent is above 100, v2's upper bound");
        }
        for (k, why) in [
            (
                "boundaryProcessesDescription",
                "\"optional in 3.0, was mandatory in 2.x\"",
            ),
            (
                "exemptedEmissionsDescription",
                "\"optional in 3.0, was mandatory in 2.x\"",
            ),
        ] {
            if !out.contains_key(k) {
                out.insert(k.into(), "".into());
                self.note(
                    ptr("/pcf", k),
                    Some(ptr("/pcf", k)),
                    Change::Derived,
                    format!("{why} (v3 schema): empty"),
                );
            }
        }
        self.require(
            &out,
            "/pcf",
            &[
                "declaredUnit",
                "unitaryProductAmount",
                "referencePeriodStart",
                "referencePeriodEnd",
                "pCfExcludingBiogenic",
                "fossilGhgEmissions",
                "fossilCarbonContent",
                "biogenicCarbonContent",
                "ipccCharacterizationFactorsSources",
                "crossSectoralStandardsUsed",
                "exemptedEmissionsPercent",
                "packagingEmissionsIncluded",
            ],
            2,
        );
        Some(Value::Object(out))
    }

    fn verification_to_assurance(&mut self, v: &Value) -> Option<Value> {
        let src = self.object(v, "/pcf/verification")?;
        let mut out = Map::new();
        out.insert("assurance".into(), true.into());
        self.note("/pcf/verification".into(), Some("/pcf/assurance/assurance".into()), Change::Derived, "assurance is \"renamed to verification\" (changelog 3.0.0): a verification means assured");
        for (k, v) in src {
            let at = ptr("/pcf/verification", k);
            let to = ptr("/pcf/assurance", k);
            match k.as_str() {
                "coverage" if v.as_str() == Some("product level") => {
                    out.insert(k.clone(), v.clone());
                    self.note(
                        at,
                        Some(to),
                        Change::Renamed,
                        "verification was assurance in v2 (changelog 3.0.0)",
                    );
                }
                "coverage" => self.left_out(
                    at,
                    format!("v3 verification coverage values changed; {v} has no v2 counterpart"),
                ),
                "providerName" | "completedAt" | "standardName" | "comments" => {
                    out.insert(k.clone(), v.clone());
                    self.note(
                        at,
                        Some(to),
                        Change::Renamed,
                        "verification was assurance in v2 (changelog 3.0.0)",
                    );
                }
                _ => {
                    out.insert(k.clone(), v.clone());
                    self.note(
                        at,
                        Some(to),
                        Change::Carried,
                        "not a property of the version received: carried as received",
                    );
                }
            }
        }
        if !out.contains_key("providerName") {
            out.insert("providerName".into(), "".into());
            self.note("/pcf/verification".into(), Some("/pcf/assurance/providerName".into()), Change::Derived, "providerName is \"optional in version 3.0 was mandatory in 2.x\" (v3 schema): empty");
        }
        Some(Value::Object(out))
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
