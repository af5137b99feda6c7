//! v3 → v2: a v3 document as `/2/` serves it.

use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::*;

impl Conversion {
    pub(super) fn v3_to_v2(&mut self, doc: &Value) -> Option<Value> {
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
                _ => self.carry(&mut out, k, v, at.clone(), at),
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
                _ => self.carry(&mut out, k, v, at.clone(), at),
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
                _ => self.carry(&mut out, k, v, at, to),
            }
        }
        if !out.contains_key("providerName") {
            out.insert("providerName".into(), "".into());
            self.note("/pcf/verification".into(), Some("/pcf/assurance/providerName".into()), Change::Derived, "providerName is \"optional in version 3.0 was mandatory in 2.x\" (v3 schema): empty");
        }
        Some(Value::Object(out))
    }
}
