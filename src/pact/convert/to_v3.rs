//! v2 → v3: a v2 document as `/3/` serves it.

use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::*;

impl Conversion {
    pub(super) fn v2_to_v3(&mut self, doc: &Value) -> Option<Value> {
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
                _ => self.carry(&mut out, k, v, at.clone(), at),
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
                _ => self.carry(&mut out, k, v, at.clone(), at),
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
                _ => self.carry(&mut out, k, v, at.clone(), at),
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
                _ => self.carry(&mut out, k, v, at, to),
            }
        }
        Some(Value::Object(out))
    }
}
