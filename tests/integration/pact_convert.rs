//! v2 ⇄ v3: the official PACT examples in the other version.

use mieruka::generator;
use mieruka::model::Footprint;
use mieruka::pact::convert::{Change, convert};
use serde_json::{Value, json};

use crate::common::{check, fixtures, source};

/// Every footprint of the official examples: (file, index, document).
fn official() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (dir, files) in [
        (
            "v2",
            &[
                "get-footprint-response",
                "list-footprints-response",
                "pf-response-event",
            ][..],
        ),
        (
            "v3",
            &[
                "get-footprint-response",
                "list-footprints-response",
                "pf-response-event",
                "example-1",
                "example-2",
                "example-3",
                "example-4",
            ][..],
        ),
    ] {
        for f in files {
            let text = std::fs::read_to_string(fixtures().join(format!("pact/{dir}/{f}.json")))
                .expect("fixture");
            let v: Value = serde_json::from_str(&text).expect("json");
            let docs = match (&v["data"], &v["data"]["pfs"]) {
                (_, Value::Array(a)) => a.clone(),
                (Value::Array(a), _) => a.clone(),
                (Value::Object(_), _) => vec![v["data"].clone()],
                _ => vec![v.clone()],
            };
            for (i, d) in docs.into_iter().enumerate() {
                out.push((format!("{dir}/{f}#{i}"), d));
            }
        }
    }
    out
}

/// The official document `name` (as [`official`] names them).
fn example(name: &str) -> Value {
    official()
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, d)| d)
        .expect("example")
}

/// The official v2 example with the `productMassPerDeclaredUnit` v2.3 allows: 0.879 kg per
/// liter, the mass the v3 version of the same example (Bio-Ethanol 98%, corn feedstock)
/// gives.
fn v2_with_mass() -> Value {
    let mut d = example("v2/get-footprint-response#0");
    d["pcf"]["productMassPerDeclaredUnit"] = json!("0.879");
    d
}

fn other(major_of_doc: &str) -> u8 {
    if major_of_doc.starts_with("v2") { 3 } else { 2 }
}

/// Checks one document with mieruka's own ingest: its footprint, or the errors.
fn ingest_one(doc: &Value) -> Result<Footprint<'static>, String> {
    let p = check(&[source("doc.json", &doc.to_string())]);
    match p.footprints.first() {
        Some(f) if p.report.rejected == 0 => Ok(f.footprint.clone()),
        _ => Err(format!("{:#?}", p.report.errors)),
    }
}

#[test]
fn the_official_examples_in_the_other_version() {
    // Each example, and why it cannot be given in the other version (None: it can).
    let cases = [
        // v2.3: productMassPerDeclaredUnit "is optional in v2.3 but will be released in v3 as
        // a mandatory attribute"; the v2 examples (liter) do not give it, and for a liter
        // (a density) no rule supplies it.
        (
            "v2/get-footprint-response#0",
            Some("productMassPerDeclaredUnit is mandatory in v3"),
        ),
        (
            "v2/list-footprints-response#0",
            Some("productMassPerDeclaredUnit is mandatory in v3"),
        ),
        (
            "v2/pf-response-event#0",
            Some("productMassPerDeclaredUnit is mandatory in v3"),
        ),
        // packagingEmissionsIncluded is required in v2 and optional in v3; these leave it out
        // (and give no packagingGhgEmissions, which would imply it).
        (
            "v3/get-footprint-response#0",
            Some("packagingEmissionsIncluded is required in v2"),
        ),
        (
            "v3/list-footprints-response#0",
            Some("packagingEmissionsIncluded is required in v2"),
        ),
        (
            "v3/pf-response-event#0",
            Some("packagingEmissionsIncluded is required in v2"),
        ),
        // Its only classification is a CAS number: no UN CPC code for v2's productCategoryCpc.
        (
            "v3/example-1#0",
            Some("productCategoryCpc is required in v2"),
        ),
        ("v3/example-2#0", None),
        // "piece" is a v3 declared unit (ADR 33); v2 has none for it.
        (
            "v3/example-3#0",
            Some("\"piece\" has no PACT v2 counterpart"),
        ),
        // Its crossSectoralStandards name none of the three standards v2 can name.
        (
            "v3/example-4#0",
            Some("crossSectoralStandardsUsed is required in v2"),
        ),
    ];
    assert_eq!(
        cases.len(),
        official().len(),
        "every official footprint has a case"
    );
    for (name, blocked) in cases {
        let doc = example(name);
        let c = convert(&doc, other(name));
        match blocked {
            Some(why) => {
                assert!(c.document.is_none(), "{name}");
                assert!(
                    c.blockers.iter().any(|b| b.contains(why)),
                    "{name}: {:?}",
                    c.blockers
                );
            }
            None => {
                assert!(c.blockers.is_empty(), "{name}: {:?}", c.blockers);
                let converted = c.document.expect("converted");
                // The converted document passes mieruka's checks for its version, and says
                // the same about the product as the original.
                let a = ingest_one(&doc).expect("original");
                let b = ingest_one(&converted).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(b.pact_version as u8 + 2, other(name), "{name}");
                assert_eq!(
                    (&a.id, &a.product_ids, &a.company_ids, a.created),
                    (&b.id, &b.product_ids, &b.company_ids, b.created)
                );
                assert_eq!(a.pcf.declared_unit, b.pcf.declared_unit, "{name}");
                assert_eq!(a.pcf.unitary_product_amount, b.pcf.unitary_product_amount);
                assert_eq!(
                    a.pcf.pcf_excluding_biogenic_kgco2e_per_unit,
                    b.pcf.pcf_excluding_biogenic_kgco2e_per_unit,
                    "{name}"
                );
            }
        }
    }
    // The v2 example with the mass v2.3 allows converts, and passes the v3 checks.
    let c = convert(&v2_with_mass(), 3);
    assert!(c.blockers.is_empty(), "{:?}", c.blockers);
    ingest_one(&c.document.expect("converted")).expect("a valid v3 footprint");
}

/// Where two JSON values differ, as pointers (a member on one side only: its pointer).
fn differences(a: &Value, b: &Value, at: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let p = format!("{at}/{k}");
                match (x.get(k), y.get(k)) {
                    (Some(u), Some(v)) => differences(u, v, &p, out),
                    _ => out.push(p),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (u, v)) in x.iter().zip(y).enumerate() {
                differences(u, v, &format!("{at}/{i}"), out);
            }
        }
        _ if a == b => {}
        _ => out.push(at.to_owned()),
    }
}

#[test]
fn round_trips_give_back_the_original_but_for_what_the_notes_list() {
    let mut docs: Vec<(String, Value)> = official()
        .into_iter()
        .filter(|(n, d)| convert(d, other(n)).document.is_some())
        .collect();
    docs.push((
        "v2/get-footprint-response#0 with mass".into(),
        v2_with_mass(),
    ));
    // The v3 example of the same product, with the flag v2 requires: "bulk - no packaging",
    // as its description says.
    let mut bulk = example("v3/get-footprint-response#0");
    bulk["pcf"]["packagingEmissionsIncluded"] = json!(false);
    docs.push(("v3/get-footprint-response#0 without packaging".into(), bulk));
    assert_eq!(docs.len(), 3, "v3 example-2 and the two completed examples");
    // And the footprints `mieruka gen` writes (v2.3, kilogram, GxD extension on most).
    let dir = crate::common::temp_dir("convert-gen");
    let opts = generator::GenOptions {
        nodes: 12,
        ..Default::default()
    };
    generator::write(&generator::generate(&opts).expect("gen"), &dir).expect("write");
    let text = std::fs::read_to_string(dir.join("footprints.ndjson")).expect("ndjson");
    for (i, line) in text.lines().enumerate() {
        let doc: Value = serde_json::from_str(line).expect("json");
        let v3 = convert(&doc, 3)
            .document
            .expect("a generated footprint converts");
        ingest_one(&v3).unwrap_or_else(|e| panic!("generated #{i} as v3: {e}"));
        docs.push((format!("v2 generated #{i}"), doc));
    }
    for (name, doc) in docs {
        let there = convert(&doc, other(&name));
        let back = convert(there.document.as_ref().expect("there"), 5 - other(&name));
        assert!(back.blockers.is_empty(), "{name}: {:?}", back.blockers);
        let again = back.document.expect("back");
        // Every difference is one the explanation of a leg names: a property left out or
        // derived on the way there, left out or derived on the way back.
        let mut covering: Vec<(&str, bool)> = Vec::new();
        for n in &there.notes {
            if n.change != Change::Renamed {
                covering.push((&n.from, false));
            }
            if let (Change::Derived, Some(to)) = (n.change, &n.to) {
                covering.push((to, true));
            }
        }
        for n in &back.notes {
            match (n.change, &n.to) {
                (Change::LeftOut, _) => covering.push((&n.from, false)),
                (Change::Derived, Some(to)) => covering.push((to, true)),
                _ => {}
            }
        }
        let mut diff = Vec::new();
        differences(&doc, &again, "", &mut diff);
        assert!(!diff.is_empty(), "{name}: at least specVersion changes");
        for p in diff {
            let covered = covering.iter().any(|(q, parent_ok)| {
                p == *q
                    || p.starts_with(&format!("{q}/"))
                    || (*parent_ok && q.starts_with(&format!("{p}/")))
            });
            assert!(covered, "{name}: {p} changed and no note says why");
        }
    }
}

#[test]
fn v2_to_v3_by_hand() {
    let c = convert(&v2_with_mass(), 3);
    let d = c.document.expect("converted");
    assert_eq!(d["specVersion"], "3.0.0");
    assert!(d.get("version").is_none(), "v3 footprints have no version");
    // productCategoryCpc 6398 as a classification URN.
    assert_eq!(
        d["productClassifications"],
        json!(["urn:pact:productclassification:un-cpc:6398"])
    );
    let pcf = &d["pcf"];
    // Renamed, values as received.
    for (k, v) in [
        ("declaredUnitOfMeasurement", "liter"),
        ("declaredUnitAmount", "1"),
        ("pcfExcludingBiogenicUptake", "1.63"),
        ("pcfIncludingBiogenicUptake", "1.85"),
        ("landUseChangeGhgEmissions", "0.8"),
        ("biogenicCO2Uptake", "-1.5"),
        // Amount 1: the mass of one liter is the mass of declaredUnitAmount liters.
        ("productMassPerDeclaredUnit", "0.879"),
        // Numbers in v2, decimal strings in v3.
        ("exemptedEmissionsPercent", "0"),
        ("primaryDataShare", "12.9"),
    ] {
        assert_eq!(pcf[k], v, "{k}");
    }
    assert_eq!(pcf["ipccCharacterizationFactors"], json!(["AR6"]));
    assert_eq!(
        pcf["crossSectoralStandards"],
        json!(["GHGP-Product", "ISO14067"])
    );
    assert_eq!(
        pcf["dqi"],
        // The example's 1.6, 2.6 and 1.8 (coverage 78, completeness 1.7, reliability 2.1 are
        // left out).
        json!({"technologicalDQR": "1.6", "temporalDQR": "2.6", "geographicalDQR": "1.8"})
    );
    // assurance: false — not assured, so no verification.
    assert!(pcf.get("verification").is_none());
    let left_out: Vec<&str> = c
        .notes
        .iter()
        .filter(|n| n.change == Change::LeftOut)
        .map(|n| n.from.as_str())
        .collect();
    assert_eq!(
        left_out,
        [
            "/pcf/assurance",
            "/pcf/biogenicAccountingMethodology",
            "/pcf/characterizationFactors",
            "/pcf/dqi/completenessDQR",
            "/pcf/dqi/coveragePercent",
            "/pcf/dqi/reliabilityDQR",
            "/pcf/iLucGhgEmissions",
            "/pcf/landManagementGhgEmissions",
            "/pcf/otherBiogenicGhgEmissions",
            "/pcf/uncertaintyAssessmentDescription",
            "/version",
        ]
    );
}

#[test]
fn v3_to_v2_by_hand() {
    let c = convert(&example("v3/example-2#0"), 2);
    let d = c.document.expect("converted");
    assert_eq!(d["specVersion"], "2.3.0");
    // v3 footprints are version 1 ("The version number of this new PCF MUST always be 1").
    assert_eq!(d["version"], 1);
    assert_eq!(d["productCategoryCpc"], "1234");
    let pcf = &d["pcf"];
    assert_eq!(pcf["declaredUnit"], "liter");
    assert_eq!(pcf["unitaryProductAmount"], "12");
    // v3 gives the mass of the 12 liters (9.468 kg); v2 of one liter: 9.468 / 12 = 0.789.
    assert_eq!(pcf["productMassPerDeclaredUnit"], "0.789");
    assert_eq!(pcf["pCfExcludingBiogenic"], "5.14");
    assert_eq!(pcf["pCfIncludingBiogenic"], "-14.22");
    assert_eq!(pcf["biogenicCarbonWithdrawal"], "-19.36");
    assert_eq!(pcf["characterizationFactors"], "AR6");
    assert_eq!(
        pcf["crossSectoralStandardsUsed"],
        json!(["GHG Protocol Product standard", "ISO Standard 14067"])
    );
    assert_eq!(pcf["exemptedEmissionsPercent"], json!(0));
    assert_eq!(pcf["primaryDataShare"], json!(16.8));
    // v2 DQIs need coverage, completeness and reliability, which v3 does not have.
    assert!(pcf.get("dqi").is_none());
    assert!(
        c.notes
            .iter()
            .any(|n| n.from == "/pcf/biogenicNonCO2Emissions" && n.change == Change::LeftOut)
    );
}

#[test]
fn rules_that_supply_a_value_and_values_that_block() {
    let mut kg = v2_with_mass();
    let pcf = kg["pcf"].as_object_mut().expect("pcf");
    pcf.remove("productMassPerDeclaredUnit");
    pcf.insert("declaredUnit".into(), json!("kilogram"));
    pcf.insert("unitaryProductAmount".into(), json!("2.5"));
    // 2.5 kg of product weigh 2.5 kg ("If the declared unit is kilogram, this attribute
    // SHOULD by definition be populated with 1", per kilogram).
    let c = convert(&kg, 3);
    assert_eq!(
        c.document.expect("kg")["pcf"]["productMassPerDeclaredUnit"],
        "2.5"
    );

    // Energy: "this attribute SHOULD be populated with 0".
    kg["pcf"]["declaredUnit"] = json!("kilowatt hour");
    let c = convert(&kg, 3);
    assert_eq!(
        c.document.expect("kWh")["pcf"]["productMassPerDeclaredUnit"],
        "0"
    );

    // Mass given with an amount of 4: v3 wants the mass of the 4 units, 4 × 0.25 = 1.
    kg["pcf"]["declaredUnit"] = json!("square meter");
    kg["pcf"]["unitaryProductAmount"] = json!("4");
    kg["pcf"]["productMassPerDeclaredUnit"] = json!("0.25");
    let c = convert(&kg, 3);
    assert_eq!(
        c.document.expect("m2")["pcf"]["productMassPerDeclaredUnit"],
        "1"
    );

    // A negative PCF excluding biogenic uptake is fine in v3 and not in v2.
    let mut v3 = example("v3/example-2#0");
    v3["pcf"]["pcfExcludingBiogenicUptake"] = json!("-0.5");
    let c = convert(&v3, 2);
    assert!(c.document.is_none());
    assert!(
        c.blockers.iter().any(|b| b.contains("negative")),
        "{:?}",
        c.blockers
    );

    // An AR4-based footprint cannot name AR5 or AR6 as its earliest report.
    let mut v3 = example("v3/example-2#0");
    v3["pcf"]["ipccCharacterizationFactors"] = json!(["AR4", "AR6"]);
    let c = convert(&v3, 2);
    assert!(
        c.blockers
            .iter()
            .any(|b| b.contains("characterizationFactors"))
    );

    // A mass per unit without an exact decimal is left out (optional in v2), not rounded.
    let mut v3 = example("v3/example-2#0");
    v3["pcf"]["declaredUnitAmount"] = json!("3");
    v3["pcf"]["productMassPerDeclaredUnit"] = json!("1");
    let c = convert(&v3, 2);
    let d = c.document.expect("converted");
    assert!(d["pcf"].get("productMassPerDeclaredUnit").is_none());
    assert!(
        c.notes
            .iter()
            .any(|n| n.from == "/pcf/productMassPerDeclaredUnit" && n.change == Change::LeftOut)
    );
}
