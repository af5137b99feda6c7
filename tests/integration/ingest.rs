//! Ingest: PACT's own examples, the GxD extension, BOM input, and the table of bad inputs.

use mieruka::ingest::{IngestOptions, Problem};
use serde_json::{Value, json};

use crate::common::{check, check_with, dangling, fixtures, source, v2_example, v3_example};

fn fixture(path: &str) -> mieruka::ingest::Source {
    let p = fixtures().join(path);
    mieruka::ingest::Source::new(path, std::fs::read(&p).expect("fixture"))
}

#[test]
fn every_valid_pact_example_is_accepted() {
    // (file, footprints it holds)
    let cases = [
        ("pact/v2/get-footprint-response.json", 1),
        ("pact/v2/list-footprints-response.json", 1),
        ("pact/v2/pf-response-event.json", 1),
        ("pact/v3/get-footprint-response.json", 1),
        ("pact/v3/list-footprints-response.json", 1),
        ("pact/v3/pf-response-event.json", 1),
        ("pact/v3/example-1.json", 1),
        ("pact/v3/example-2.json", 1),
        ("pact/v3/example-3.json", 1),
        ("pact/v3/example-4.json", 1),
    ];
    for (file, n) in cases {
        let p = check(&[fixture(file)]);
        assert_eq!(p.report.rejected, 0, "{file}: {:#?}", p.report.errors);
        assert_eq!(p.report.accepted, n, "{file}");
        assert_eq!(p.footprints.len(), n, "{file}");
    }
}

#[test]
fn pact_invalid_examples_are_rejected_with_pointers() {
    let p = check(&[fixture("pact/v2/invalid-response-all-properties.json")]);
    assert_eq!((p.report.accepted, p.report.rejected), (0, 1));
    let pointers: Vec<&str> = p.report.errors.iter().map(|e| e.pointer.as_str()).collect();
    assert_eq!(pointers, ["/updated"], "{:#?}", p.report.errors);
    assert!(p.report.errors[0].message.contains("2023-1-08T14:47:32Z"));
    assert_eq!(p.report.errors[0].line, 11, "the line of \"updated\"");

    let p = check(&[fixture("pact/v3/invalid-response-all-properties.json")]);
    assert_eq!((p.report.accepted, p.report.rejected), (0, 1));
    let pointers: Vec<&str> = p.report.errors.iter().map(|e| e.pointer.as_str()).collect();
    assert_eq!(pointers, ["/updated"], "{:#?}", p.report.errors);
    // Its validity period (from 2024-12-08) also starts before the reference period ends
    // (2026-01-01). PACT's valid v3 get-footprint example does the same, so that is a warning.
    assert!(
        p.report
            .warnings
            .iter()
            .any(|w| w.pointer == "/validityPeriodStart")
    );
}

#[test]
fn error_responses_are_not_footprints() {
    for file in [
        "pact/v2/error-response-access-denied.json",
        "pact/v3/error-response-access-denied.json",
    ] {
        let p = check(&[fixture(file)]);
        assert_eq!(p.report.rejected, 1);
        assert!(
            p.report.errors[0].message.contains("PACT error response"),
            "{:?}",
            p.report.errors
        );
    }
}

#[test]
fn v2_and_v3_map_onto_one_model() {
    let p = check(&[
        fixture("pact/v2/get-footprint-response.json"),
        fixture("pact/v3/example-1.json"),
    ]);
    let v2 = &p.footprints[0].footprint;
    assert_eq!(v2.version, Some(1));
    assert_eq!(v2.pcf.declared_unit.map(|u| u.as_str()), Some("liter"));
    assert_eq!(
        v2.pcf.pcf_excluding_biogenic_kgco2e_per_unit.to_string(),
        "1.63"
    );
    assert_eq!(
        v2.pcf
            .primary_data_share_pct
            .map(|d| d.to_string())
            .as_deref(),
        Some("12.9")
    );
    assert_eq!(
        v2.pcf
            .dqi
            .as_ref()
            .and_then(|d| d.technological_dqr)
            .map(|d| d.to_string())
            .as_deref(),
        Some("1.6")
    );
    assert_eq!(v2.product_category_cpc.as_deref(), Some("6398"));
    assert_eq!(v2.extensions.len(), 1, "unknown extensions are kept");
    assert_eq!(v2.extensions[0].kind.as_str(), "other");

    let v3 = &p.footprints[1].footprint;
    assert_eq!(v3.version, None);
    assert_eq!(v3.pcf.declared_unit.map(|u| u.as_str()), Some("kilogram"));
    assert_eq!(
        v3.pcf.pcf_excluding_biogenic_kgco2e_per_unit.to_string(),
        "0.384"
    );
    assert_eq!(
        v3.pcf
            .pcf_including_biogenic_kgco2e_per_unit
            .map(|d| d.to_string())
            .as_deref(),
        Some("-1.23")
    );
    assert_eq!(
        v3.pcf
            .product_mass_per_declared_unit_kg
            .map(|d| d.to_string())
            .as_deref(),
        Some("1")
    );
    // v3 rates DQRs 1–5: example-1's geographical DQR is 3.2.
    assert_eq!(
        v3.pcf
            .dqi
            .as_ref()
            .and_then(|d| d.geographical_dqr)
            .map(|d| d.to_string())
            .as_deref(),
        Some("3.2")
    );
    // example-1 puts otherOperatorName on pcf: accepted with a warning.
    assert!(
        p.report
            .warnings
            .iter()
            .any(|w| w.pointer == "/pcf/otherOperatorName")
    );
}

fn gxd_doc(data: Value) -> Value {
    let mut v = v2_example();
    v["extensions"] = json!([{
        "specVersion": "2.0.0",
        "dataSchema": "https://github.com/Green-x-Digital-Consortium/data-model-extensions/blob/main/specs/GxD_schema_en.json",
        "data": data
    }]);
    v
}

#[test]
fn gxd_extension_is_typed() {
    let doc = gxd_doc(json!({
        "calcMethod": "1",
        "FWedition": "1.0",
        "organization": {
            "scope3Category": ["1", "4"],
            "scope1DistributionLevel": "site",
            "scope2DistributionLevel": "building",
            "scope3DistributionLevel": "organization",
            "scope1DistributionIndex": "production"
        },
        "certificate": {"certificateAmount": "0.25", "certificateType": "J-Credit"},
        "gateToGate": {"gateToGateFossilGhgEmissions": "0.4", "gateToGateBiogenicCarbonContent": "-0.1"}
    }));
    let p = check(&[source("gxd.json", &doc.to_string())]);
    assert_eq!(p.report.rejected, 0, "{:#?}", p.report.errors);
    let g = p.footprints[0].footprint.gxd.clone().expect("gxd");
    assert_eq!(g.calc_method.map(|m| m.code()), Some("1"));
    assert_eq!(g.fw_edition.as_deref(), Some("1.0"));
    assert_eq!(g.scope3_category, ["1", "4"]);
    assert_eq!(g.distribution_level[1].as_deref(), Some("building"));
    assert_eq!(g.distribution_index[0].as_deref(), Some("production"));
    assert_eq!(
        g.certificate_amount_kgco2e_per_unit
            .map(|d| d.to_string())
            .as_deref(),
        Some("0.25")
    );
    assert_eq!(
        g.g2g_fossil_ghg_emissions_kgco2e_per_unit
            .map(|d| d.to_string())
            .as_deref(),
        Some("0.4")
    );
    // The published schema's stale `declaredUnit`/`crossSectoralStandardsUsed` requirement in
    // `organization` is not enforced: they are absent here and nothing was rejected.
}

#[test]
fn older_gxd_names_and_shape_recognition() {
    // No GxD dataSchema, but the GxD shape; the older field names.
    let mut doc = v2_example();
    doc["extensions"] = json!([{
        "specVersion": "1.0.0",
        "dataSchema": "https://example.com/vendor/gxd-compatible.json",
        "data": {
            "calcMethod": "0",
            "gateToGate": {"fossilGhgEmissions": "0.5", "biogenicCarbonContent": "0.01"},
            "upstreamEmissions": "1.13",
            "creditAmount": "0.1",
            "certificateAmount": "0.2",
            "scope3Category": "1",
            "distributionLevel": "site",
            "distributionIndex": "unit"
        }
    }]);
    let p = check(&[source("old-gxd.json", &doc.to_string())]);
    assert_eq!(p.report.rejected, 0, "{:#?}", p.report.errors);
    let f = &p.footprints[0].footprint;
    assert_eq!(f.extensions[0].kind.as_str(), "gxd");
    let g = f.gxd.clone().expect("gxd by shape");
    assert_eq!(
        g.g2g_fossil_ghg_emissions_kgco2e_per_unit
            .map(|d| d.to_string())
            .as_deref(),
        Some("0.5")
    );
    assert_eq!(
        g.upstream_emissions_kgco2e_per_unit
            .map(|d| d.to_string())
            .as_deref(),
        Some("1.13")
    );
    assert_eq!(
        g.credit_amount_kgco2e_per_unit
            .map(|d| d.to_string())
            .as_deref(),
        Some("0.1")
    );
    assert_eq!(g.scope3_category, ["1"]);
    assert_eq!(
        g.distribution_level,
        [
            Some("site".into()),
            Some("site".into()),
            Some("site".into())
        ]
    );
    assert!(
        p.report
            .warnings
            .iter()
            .any(|w| w.message.contains("older GxD field"))
    );
}

#[test]
fn lenient_readings_warn_instead_of_rejecting() {
    let mut doc = v2_example();
    doc["pcf"]["productOrSectorSpecificRules"] = json!([]);
    doc["pcf"]["crossSectoralStandardsUsed"] =
        json!(["GHG Protocol Product Standard", "ISO 14067"]);
    let p = check(&[source("lenient.json", &doc.to_string())]);
    assert_eq!(p.report.rejected, 0, "{:#?}", p.report.errors);
    let f = &p.footprints[0].footprint;
    assert_eq!(
        f.pcf.cross_sectoral_standards_used,
        ["GHG Protocol Product standard", "ISO Standard 14067"]
    );
    let warned: Vec<&str> = p
        .report
        .warnings
        .iter()
        .map(|w| w.pointer.as_str())
        .collect();
    assert!(
        warned.contains(&"/pcf/productOrSectorSpecificRules"),
        "{warned:?}"
    );
    assert!(
        warned.contains(&"/pcf/crossSectoralStandardsUsed/0"),
        "{warned:?}"
    );
}

#[test]
fn input_layouts_are_detected() {
    let a = v2_example();
    let mut b = v2_example();
    b["id"] = json!("3a7f1c2e-8b9d-4e5f-a6b7-c8d9e0f1a2b3");
    let array = json!([a, b]).to_string();
    let list = json!({"data": [a, b]}).to_string();
    let ndjson = format!("{a}\n\n{b}\n");
    let single_pretty = serde_json::to_string_pretty(&a).expect("json");
    let with_bom = format!("\u{feff}{a}");
    for (name, text, n) in [
        ("array.json", array.as_str(), 2),
        ("list.json", list.as_str(), 2),
        ("lines.ndjson", ndjson.as_str(), 2),
        ("pretty.json", single_pretty.as_str(), 1),
        ("bom-prefixed.json", with_bom.as_str(), 1),
    ] {
        let p = check(&[source(name, text)]);
        assert_eq!(
            (p.report.accepted, p.report.rejected),
            (n, 0),
            "{name}: {:#?}",
            p.report.errors
        );
    }
    // NDJSON lines report their own line numbers.
    let bad_second = format!("{a}\n{{\"id\": 1}}\n");
    let p = check(&[source("l.ndjson", &bad_second)]);
    assert_eq!((p.report.accepted, p.report.rejected), (1, 1));
    assert!(
        p.report.errors.iter().all(|e| e.line == 2 && e.index == 1),
        "{:#?}",
        p.report.errors
    );
}

/// One bad input: what to feed, and the pointer and message fragment expected.
struct Bad {
    name: &'static str,
    input: String,
    pointer: &'static str,
    message: &'static str,
}

fn v2_with(f: impl FnOnce(&mut Value)) -> String {
    let mut v = v2_example();
    f(&mut v);
    v.to_string()
}

fn v3_with(f: impl FnOnce(&mut Value)) -> String {
    let mut v = v3_example();
    f(&mut v);
    v.to_string()
}

fn remove(v: &mut Value, parent: &str, key: &str) {
    if let Some(Value::Object(m)) = v.pointer_mut(parent) {
        m.remove(key);
    }
}

fn bad_documents() -> Vec<Bad> {
    let gxd = |data: Value| gxd_doc(data).to_string();
    let deep = format!("{{\"id\": {}{}}}", "[".repeat(100_000), "]".repeat(100_000));
    vec![
        Bad {
            name: "pcf is an array",
            input: v2_with(|v| v["pcf"] = json!([1])),
            pointer: "/pcf",
            message: "expected an object, found an array",
        },
        Bad {
            name: "companyIds is a string",
            input: v2_with(|v| v["companyIds"] = json!("urn:x:y")),
            pointer: "/companyIds",
            message: "expected an array",
        },
        Bad {
            name: "version is a string",
            input: v2_with(|v| v["version"] = json!("1")),
            pointer: "/version",
            message: "expected an integer",
        },
        Bad {
            name: "version is negative",
            input: v2_with(|v| v["version"] = json!(-1)),
            pointer: "/version",
            message: "out of range",
        },
        Bad {
            name: "decimal given as a JSON number",
            input: v2_with(|v| v["pcf"]["pCfExcludingBiogenic"] = json!(1.63)),
            pointer: "/pcf/pCfExcludingBiogenic",
            message: "expected a decimal string",
        },
        Bad {
            name: "decimal with a comma",
            input: v2_with(|v| v["pcf"]["pCfExcludingBiogenic"] = json!("1,63")),
            pointer: "/pcf/pCfExcludingBiogenic",
            message: "is not a decimal number",
        },
        Bad {
            name: "decimal with an exponent",
            input: v2_with(|v| v["pcf"]["fossilGhgEmissions"] = json!("1e3")),
            pointer: "/pcf/fossilGhgEmissions",
            message: "is not a decimal number",
        },
        Bad {
            name: "decimal with a bare point",
            input: v2_with(|v| v["pcf"]["fossilGhgEmissions"] = json!(".5")),
            pointer: "/pcf/fossilGhgEmissions",
            message: "is not a decimal number",
        },
        Bad {
            name: "decimal with 30 digits",
            input: v2_with(|v| {
                v["pcf"]["fossilGhgEmissions"] = json!("123456789012345678901234567890")
            }),
            pointer: "/pcf/fossilGhgEmissions",
            message: "28 significant digits",
        },
        Bad {
            name: "negative emissions",
            input: v2_with(|v| v["pcf"]["fossilGhgEmissions"] = json!("-0.5")),
            pointer: "/pcf/fossilGhgEmissions",
            message: "expected a value ≥ 0",
        },
        Bad {
            name: "negative unitaryProductAmount",
            input: v2_with(|v| v["pcf"]["unitaryProductAmount"] = json!("-1")),
            pointer: "/pcf/unitaryProductAmount",
            message: "expected a value > 0",
        },
        Bad {
            name: "zero unitaryProductAmount",
            input: v2_with(|v| v["pcf"]["unitaryProductAmount"] = json!("0.000")),
            pointer: "/pcf/unitaryProductAmount",
            message: "expected a value > 0",
        },
        Bad {
            name: "zero v3 declaredUnitAmount",
            input: v3_with(|v| v["pcf"]["declaredUnitAmount"] = json!("0")),
            pointer: "/pcf/declaredUnitAmount",
            message: "expected a value > 0",
        },
        Bad {
            name: "id is not a UUID",
            input: v2_with(|v| v["id"] = json!("91715e5e-fd0b-4d1c-8fab")),
            pointer: "/id",
            message: "is not a UUID",
        },
        Bad {
            name: "preceding id is not a UUID",
            input: v2_with(|v| v["precedingPfIds"] = json!(["nope"])),
            pointer: "/precedingPfIds/0",
            message: "is not a UUID",
        },
        Bad {
            name: "product id is not a URN",
            input: v2_with(|v| v["productIds"] = json!(["gtin:5695872369587"])),
            pointer: "/productIds/0",
            message: "is not a URN",
        },
        Bad {
            name: "company URN with a space",
            input: v2_with(|v| v["companyIds"] = json!(["urn:company:my corp"])),
            pointer: "/companyIds/0",
            message: "is not a URN",
        },
        Bad {
            name: "product ids repeat",
            input: v2_with(|v| v["productIds"] = json!(["urn:gtin:1", "urn:gtin:1"])),
            pointer: "/productIds/1",
            message: "duplicate item",
        },
        Bad {
            name: "unknown declaredUnit",
            input: v2_with(|v| v["pcf"]["declaredUnit"] = json!("bushel")),
            pointer: "/pcf/declaredUnit",
            message: "is not a PACT v2 declared unit",
        },
        Bad {
            name: "v3 unit in a v2 document",
            input: v2_with(|v| v["pcf"]["declaredUnit"] = json!("piece")),
            pointer: "/pcf/declaredUnit",
            message: "is not a PACT v2 declared unit",
        },
        Bad {
            name: "missing pcf",
            input: v2_with(|v| remove(v, "", "pcf")),
            pointer: "/pcf",
            message: "missing required property",
        },
        Bad {
            name: "missing referencePeriodStart",
            input: v2_with(|v| remove(v, "/pcf", "referencePeriodStart")),
            pointer: "/pcf/referencePeriodStart",
            message: "missing required property",
        },
        Bad {
            name: "missing companyName",
            input: v2_with(|v| remove(v, "", "companyName")),
            pointer: "/companyName",
            message: "missing required property",
        },
        Bad {
            name: "empty companyName",
            input: v2_with(|v| v["companyName"] = json!("")),
            pointer: "/companyName",
            message: "must not be empty",
        },
        Bad {
            name: "required property is null",
            input: v2_with(|v| v["productNameCompany"] = Value::Null),
            pointer: "/productNameCompany",
            message: "required property is null",
        },
        Bad {
            name: "missing specVersion",
            input: v2_with(|v| remove(v, "", "specVersion")),
            pointer: "/specVersion",
            message: "missing required property",
        },
        Bad {
            name: "PACT v1 document",
            input: v2_with(|v| v["specVersion"] = json!("1.0.0")),
            pointer: "/specVersion",
            message: "not supported",
        },
        Bad {
            name: "v3 document missing productMassPerDeclaredUnit",
            input: v3_with(|v| remove(v, "/pcf", "productMassPerDeclaredUnit")),
            pointer: "/pcf/productMassPerDeclaredUnit",
            message: "missing required property",
        },
        // serde_json writes keys in sorted order, so the region comes second and is the one named.
        Bad {
            name: "geography given twice",
            input: v2_with(|v| v["pcf"]["geographyCountry"] = json!("DE")),
            pointer: "/pcf/geographyRegionOrSubregion",
            message: "geography is given more than once",
        },
        Bad {
            name: "country code not ISO 3166",
            input: v2_with(|v| {
                remove(v, "/pcf", "geographyRegionOrSubregion");
                v["pcf"]["geographyCountry"] = json!("Japan");
            }),
            pointer: "/pcf/geographyCountry",
            message: "ISO 3166-1",
        },
        Bad {
            name: "v2 DQR above 3",
            input: v2_with(|v| v["pcf"]["dqi"]["technologicalDQR"] = json!(4)),
            pointer: "/pcf/dqi/technologicalDQR",
            message: "from 1 to 3",
        },
        Bad {
            name: "v3 DQR above 5",
            input: v3_with(|v| v["pcf"]["dqi"]["temporalDQR"] = json!("5.5")),
            pointer: "/pcf/dqi/temporalDQR",
            message: "from 1 to 5",
        },
        Bad {
            name: "DQR below 1",
            input: v2_with(|v| v["pcf"]["dqi"]["reliabilityDQR"] = json!(0.5)),
            pointer: "/pcf/dqi/reliabilityDQR",
            message: "from 1 to 3",
        },
        Bad {
            name: "primary data share above 100",
            input: v2_with(|v| v["pcf"]["primaryDataShare"] = json!(100.5)),
            pointer: "/pcf/primaryDataShare",
            message: "from 0 to 100",
        },
        Bad {
            name: "created is not RFC 3339",
            input: v2_with(|v| v["created"] = json!("2023-1-08T14:47:32Z")),
            pointer: "/created",
            message: "RFC 3339",
        },
        Bad {
            name: "unknown status",
            input: v2_with(|v| v["status"] = json!("Retired")),
            pointer: "/status",
            message: "is not one of",
        },
        Bad {
            name: "reference period ends before it starts",
            input: v2_with(|v| v["pcf"]["referencePeriodEnd"] = json!("2020-01-01T00:00:00Z")),
            pointer: "/pcf/referencePeriodEnd",
            message: "before it starts",
        },
        Bad {
            name: "validity period ends before it starts",
            input: v2_with(|v| v["validityPeriodEnd"] = json!("2022-01-01T00:00:00Z")),
            pointer: "/validityPeriodEnd",
            message: "before or when it starts",
        },
        Bad {
            name: "packaging emissions without packaging included",
            input: v2_with(|v| v["pcf"]["packagingGhgEmissions"] = json!("0.1")),
            pointer: "/pcf/packagingGhgEmissions",
            message: "must not be given",
        },
        Bad {
            name: "duplicate property",
            input: v2_with(|_| {}).replacen(
                "\"companyName\":\"My Corp\"",
                "\"companyName\":\"My Corp\",\"companyName\":\"Other\"",
                1,
            ),
            pointer: "/companyName",
            message: "more than once",
        },
        Bad {
            name: "wrong type deep inside",
            input: v2_with(|v| {
                v["pcf"]["secondaryEmissionFactorSources"][0]["version"] = json!(3.1)
            }),
            pointer: "/pcf/secondaryEmissionFactorSources/0/version",
            message: "expected a string",
        },
        Bad {
            name: "extension without dataSchema",
            input: v2_with(|v| remove(v, "/extensions/0", "dataSchema")),
            pointer: "/extensions/0/dataSchema",
            message: "missing required property",
        },
        Bad {
            name: "GxD calcMethod out of its enum",
            input: gxd(json!({"calcMethod": "2", "FWedition": "1"})),
            pointer: "/extensions/0/data/calcMethod",
            message: "is not one of",
        },
        Bad {
            name: "GxD without calcMethod",
            input: gxd(json!({"FWedition": "1"})),
            pointer: "/extensions/0/data/calcMethod",
            message: "missing required GxD property",
        },
        Bad {
            name: "GxD Gate-to-Gate not a decimal",
            input: gxd(
                json!({"calcMethod": "0", "gateToGate": {"gateToGateFossilGhgEmissions": "12 kg"}}),
            ),
            pointer: "/extensions/0/data/gateToGate/gateToGateFossilGhgEmissions",
            message: "is not a decimal number",
        },
        Bad {
            name: "GxD distribution level out of its enum",
            input: gxd(
                json!({"calcMethod": "1", "organization": {"scope1DistributionLevel": "planet"}}),
            ),
            pointer: "/extensions/0/data/organization/scope1DistributionLevel",
            message: "is not one of",
        },
        Bad {
            name: "BOM extension self-loop",
            input: v2_with(
                |v| v["extensions"] = json!([{"specVersion": "1.0.0", "dataSchema": "urn:mieruka:data-model-extension:bom:1.0.0", "data": {"inputs": [{"productId": "urn:gtin:5695872369587", "amount": "1"}]}}]),
            ),
            pointer: "/extensions/0/data/inputs/0/productId",
            message: "self-loop",
        },
        Bad {
            name: "BOM extension amount zero",
            input: v2_with(
                |v| v["extensions"] = json!([{"specVersion": "1.0.0", "dataSchema": "urn:mieruka:data-model-extension:bom:1.0.0", "data": {"inputs": [{"productId": "urn:gtin:1", "amount": "0"}]}}]),
            ),
            pointer: "/extensions/0/data/inputs/0/amount",
            message: "expected a value > 0",
        },
        Bad {
            name: "deeply nested JSON",
            input: deep,
            pointer: "/id",
            message: "expected a string, found an array",
        },
        Bad {
            name: "truncated file",
            input: {
                let s = v2_with(|_| {});
                s[..s.len() / 2].to_owned()
            },
            pointer: "",
            message: "truncated JSON",
        },
        Bad {
            name: "trailing garbage",
            input: format!("{} xyz", v2_with(|_| {})),
            pointer: "",
            message: "invalid JSON",
        },
        Bad {
            name: "top-level null",
            input: "null".into(),
            pointer: "",
            message: "not JSON, NDJSON or a known CSV",
        },
        Bad {
            name: "top-level string",
            input: "\"pcf\"".into(),
            pointer: "",
            message: "not JSON, NDJSON or a known CSV",
        },
        Bad {
            name: "empty file",
            input: "  \n".into(),
            pointer: "",
            message: "empty input",
        },
        Bad {
            name: "list response holding a number",
            input: "{\"data\": 5}".into(),
            pointer: "",
            message: "not footprints",
        },
    ]
}

fn assert_rejected(name: &str, errors: &[Problem], pointer: &str, message: &str) {
    assert!(
        errors
            .iter()
            .any(|e| e.pointer == pointer && e.message.contains(message)),
        "{name}: expected an error at {pointer:?} containing {message:?}, got {errors:#?}"
    );
}

#[test]
fn bad_documents_are_rejected_whole_with_a_pointer() {
    let cases = bad_documents();
    assert!(cases.len() >= 30);
    for case in &cases {
        let p = check(&[source(case.name, &case.input)]);
        assert_eq!(p.report.rejected, 1, "{}: {:#?}", case.name, p.report);
        assert_eq!(p.report.accepted, 0, "{}", case.name);
        assert!(
            p.footprints.is_empty(),
            "{}: a rejected document must not half-load",
            case.name
        );
        assert_rejected(case.name, &p.report.errors, case.pointer, case.message);
        for e in &p.report.errors {
            assert_eq!(e.source, case.name);
            assert!(e.line >= 1, "{}: line {}", case.name, e.line);
        }
    }
}

#[test]
fn non_utf8_bytes_name_the_line() {
    let mut bytes = v2_with(|_| {}).into_bytes();
    bytes.push(b'\n');
    let mut second =
        v2_with(|v| v["id"] = json!("3a7f1c2e-8b9d-4e5f-a6b7-c8d9e0f1a2b3")).into_bytes();
    let at = second
        .iter()
        .position(|b| *b == b'M')
        .expect("an M in My Corp");
    second[at] = 0xff;
    bytes.extend(second);
    let p = check(&[mieruka::ingest::Source::new("latin1.ndjson", bytes)]);
    assert_eq!((p.report.accepted, p.report.rejected), (1, 1));
    assert!(
        p.report.errors[0].message.contains("invalid UTF-8"),
        "{:?}",
        p.report.errors
    );
    assert_eq!(p.report.errors[0].line, 2);
}

#[test]
fn a_report_lists_the_first_errors_and_counts_the_rest() {
    // One footprint, then LISTED_PROBLEMS + 50 lines of garbage: each is rejected and
    // counted, the first LISTED_PROBLEMS listed (lines 2 onwards), the last 50 only counted.
    use mieruka::ingest::LISTED_PROBLEMS;
    let mut text = v2_with(|_| {});
    for _ in 0..LISTED_PROBLEMS + 50 {
        text.push_str("\nx");
    }
    let p = check(&[mieruka::ingest::Source::new(
        "garbage.ndjson",
        text.into_bytes(),
    )]);
    let r = &p.report;
    assert_eq!((r.accepted, r.rejected), (1, LISTED_PROBLEMS + 50));
    assert_eq!((r.errors.len(), r.errors_not_listed), (LISTED_PROBLEMS, 50));
    assert_eq!(r.error_count(), r.rejected);
    assert_eq!(r.errors[0].line, 2);
    assert_eq!(r.errors[LISTED_PROBLEMS - 1].line, LISTED_PROBLEMS + 1);
    // Every rejection is in the log all the same.
    let rejected = p.log.iter().filter(|l| l.status == "rejected").count();
    assert_eq!(rejected, LISTED_PROBLEMS + 50);
    // The JSON report names the count only when some are not listed.
    let json = serde_json::to_value(r).expect("report as JSON");
    assert_eq!(json["errors_not_listed"], 50);
    assert!(json.get("warnings_not_listed").is_none());
}

#[test]
fn a_chunk_of_many_short_lines_ends_after_its_most_lines() {
    // 70,000 lines of garbage between two footprints: more lines than one chunk is checked
    // in, so the second footprint comes in the next chunk, at its own line and offset.
    let first = v2_with(|_| {});
    let second = v2_with(|v| v["id"] = json!("3a7f1c2e-8b9d-4e5f-a6b7-c8d9e0f1a2b3"));
    let mut text = first.clone();
    for _ in 0..70_000 {
        text.push_str("\nx");
    }
    text.push('\n');
    let offset = text.len();
    text.push_str(&second);
    // In memory (an upload) and as a file, mapped: the lines are found as the chunk is
    // checked, and where the chunk ends is known only then.
    let path = crate::common::temp_dir("many-lines").join("many.ndjson");
    std::fs::write(&path, &text).expect("write");
    let sources = [
        mieruka::ingest::Source::new("many.ndjson", text.into_bytes()),
        mieruka::ingest::Source::file(&path),
    ];
    for source in sources {
        let p = check(&[source]);
        assert_eq!((p.report.accepted, p.report.rejected), (2, 70_000));
        assert_eq!(p.report.errors.last().map(|e| e.line), Some(10_001));
        let span = p.footprints[1].document;
        assert_eq!(
            (span.offset, span.length),
            (offset as u64, second.len() as u64)
        );
        let accepted: Vec<usize> = p
            .log
            .iter()
            .filter(|l| l.status == "accepted")
            .map(|l| l.line)
            .collect();
        assert_eq!(accepted, vec![1, 70_002]);
    }
}

#[test]
fn the_largest_size_limit_is_no_limit() {
    // `--max-document-size` takes any size; the largest reads whole files without overflow.
    let doc = v2_with(|_| {});
    let opts = IngestOptions {
        max_document_bytes: usize::MAX,
        ..IngestOptions::default()
    };
    for name in ["one.json", "lines.ndjson"] {
        let text = if name.ends_with("ndjson") {
            format!("{doc}\n{doc}\n")
        } else {
            doc.clone()
        };
        let p = check_with(&[source(name, &text)], &opts);
        assert_eq!(p.report.rejected, 0, "{name}: {:?}", p.report.errors);
    }
}

/// The line (from 1) of the first `needle` in `text`.
fn line_of(text: &str, needle: &str) -> usize {
    let at = text.find(needle).expect("needle in text");
    1 + text[..at].matches('\n').count()
}

#[test]
fn a_json_array_over_the_size_limit_is_read_footprint_by_footprint() {
    // Twelve footprints (ids ending 00–11) in one file over the limit, which a single
    // footprint is under: the file is read in chunks of 4 KiB, element by element, each one
    // document. Footprint 09 has a comment long enough to put it over the limit alone (it is
    // measured, not kept, across chunks), footprint 10 an error (an unknown declared unit,
    // found at its line after the lines skipped): the ten others are accepted, each stored
    // as the exact text of its element.
    let docs: Vec<Value> = (0..12)
        .map(|i| {
            let mut v = v2_example();
            v["id"] = json!(format!("3a7f1c2e-8b9d-4e5f-a6b7-c8d9e0f1a2{i:02}"));
            match i {
                10 => v["pcf"]["declaredUnit"] = json!("parsec"),
                9 => v["comment"] = json!("x".repeat(8000)),
                _ => {}
            }
            v
        })
        .collect();
    // Twice a footprint's length in one line, more than its pretty-printed length.
    let one = docs[0].to_string().len();
    assert!(
        one < 4000,
        "the comment of 8,000 bytes puts footprint 09 over the limit"
    );
    let opts = IngestOptions {
        max_document_bytes: 2 * one,
        chunk_bytes: 4096,
        ..IngestOptions::default()
    };
    // The response's other members (before and after "data", its keys being in order) are
    // read past.
    let response = json!({ "count": 12, "data": docs, "links": { "next": null } });
    let list = serde_json::to_string_pretty(&response).expect("JSON");
    assert!(list.find("\"count\"") < list.find("\"data\""));
    assert!(list.find("\"links\"") > list.rfind("a211"));
    let array = format!(
        "\u{feff}[{}]\n",
        docs.iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join(",\n")
    );
    // Each text three ways: in memory (an upload), as a file mapped and read in place (the
    // default), and as a file copied into memory a chunk at a time (`--no-mmap`).
    let dir = crate::common::temp_dir("json-array-chunks");
    let copied = IngestOptions {
        map_files: false,
        ..opts.clone()
    };
    for (name, text) in [("list.json", &list), ("array.json", &array)] {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write");
        let file = mieruka::ingest::Source::file(&path);
        let runs = [
            check_with(&[source(name, text)], &opts),
            check_with(std::slice::from_ref(&file), &opts),
            check_with(&[file], &copied),
        ];
        let reports: Vec<Value> = runs
            .iter()
            .map(|p| {
                let mut r = serde_json::to_value(&p.report).expect("json");
                // The source is named by its path when it is a file.
                for problem in r["errors"].as_array_mut().expect("errors") {
                    problem["source"] = json!(name);
                }
                r
            })
            .collect();
        assert_eq!(reports[0], reports[1], "{name}: in memory against mapped");
        assert_eq!(reports[0], reports[2], "{name}: in memory against copied");
        let spans = |p: &mieruka::ingest::Prepared| -> Vec<_> {
            p.footprints.iter().map(|f| f.document).collect()
        };
        assert_eq!(spans(&runs[0]), spans(&runs[1]), "{name}");
        assert_eq!(spans(&runs[0]), spans(&runs[2]), "{name}");
        let p = &runs[0];
        let r = &p.report;
        assert_eq!((r.accepted, r.rejected), (10, 2), "{name}: {:?}", r.errors);
        let unit = &r.errors[1];
        assert_eq!(
            (unit.index, unit.line, unit.pointer.as_str()),
            (10, line_of(text, "\"parsec\""), "/pcf/declaredUnit"),
            "{name}"
        );
        let long = &r.errors[0];
        assert_eq!(long.index, 9, "{name}");
        // Reported at the line its element starts on: its id's in the array of one line per
        // footprint, the line of its opening brace (indented by four) in the pretty one.
        let id = text.find("a209").expect("id");
        let start = match name {
            "list.json" => text[..id].rfind("\n    {").expect("element") + 1,
            _ => id,
        };
        assert_eq!(long.line, 1 + text[..start].matches('\n').count(), "{name}");
        assert!(long.message.contains("limit"), "{}", long.message);
        let bytes = text.as_bytes();
        let stored: Vec<Value> = p
            .footprints
            .iter()
            .map(|f| {
                let span = f.document;
                let at = usize::try_from(span.offset).expect("offset");
                let len = usize::try_from(span.length).expect("length");
                serde_json::from_slice(&bytes[at..at + len]).expect("a whole element")
            })
            .collect();
        let want: Vec<Value> = [0, 1, 2, 3, 4, 5, 6, 7, 8, 11]
            .iter()
            .map(|i| docs[*i].clone())
            .collect();
        assert_eq!(stored, want, "{name}");
    }
    // What is not an array is read up to where it stops being one.
    let broken = format!("[{}, {} {}]", docs[0], docs[1], docs[2]);
    let p = check_with(&[source("broken.json", &broken)], &opts);
    assert_eq!((p.report.accepted, p.report.rejected), (2, 1));
    assert!(
        p.report.errors[0].message.contains("expected ',' or ']'"),
        "{:?}",
        p.report.errors
    );
}

#[test]
fn ndjson_whose_first_line_is_past_what_the_layout_reads_is_read_past_it() {
    // The layout reads the larger of a chunk and the document limit + 2; a first line that
    // does not end within that made the whole text one JSON document, over the limit, and
    // the lines after it were never read. Now that line alone is rejected.
    let docs: Vec<Value> = (0..3)
        .map(|i| {
            let mut v = v2_example();
            v["id"] = json!(format!("3a7f1c2e-8b9d-4e5f-a6b7-c8d9e0f1a3{i:02}"));
            if i == 0 {
                v["comment"] = json!("x".repeat(30_000));
            }
            v
        })
        .collect();
    let one = docs[1].to_string().len();
    let opts = IngestOptions {
        max_document_bytes: 2 * one,
        chunk_bytes: 4096,
        ..IngestOptions::default()
    };
    assert!(docs[0].to_string().len() > (2 * one + 2).max(4096));
    let text: String = docs.iter().map(|d| format!("{d}\n")).collect();
    let p = check_with(&[source("long-first.ndjson", &text)], &opts);
    let r = &p.report;
    assert_eq!((r.accepted, r.rejected), (2, 1), "{:?}", r.errors);
    let long = &r.errors[0];
    assert_eq!((long.index, long.line), (0, 1));
    assert!(long.message.contains("limit"), "{}", long.message);
    let ids: Vec<&str> = p
        .footprints
        .iter()
        .map(|f| f.footprint.id.as_ref())
        .collect();
    assert_eq!(
        ids,
        [
            "3a7f1c2e-8b9d-4e5f-a6b7-c8d9e0f1a301",
            "3a7f1c2e-8b9d-4e5f-a6b7-c8d9e0f1a302"
        ]
    );
    // Alone, the same line is one JSON text over the limit, as before.
    let alone = format!("{}\n", docs[0]);
    let p = check_with(&[source("long.json", &alone)], &opts);
    assert_eq!((p.report.accepted, p.report.rejected), (0, 1));
}

#[test]
fn footprints_longer_than_a_chunk_are_read_the_same_mapped_copied_or_in_memory() {
    // Chunks of 4 KiB. The first footprint is longer than a chunk but under the limit (read
    // whole), the second an ordinary one, the third over the limit and the last (rejected
    // alone, its length measured to its end): as NDJSON lines, the last with no line break
    // after it, and as the elements of a JSON array, one per line.
    let doc = |i: usize, comment: usize| {
        let mut v = v2_example();
        v["id"] = json!(format!("3a7f1c2e-8b9d-4e5f-a6b7-c8d9e0f1a4{i:02}"));
        v["comment"] = json!("c".repeat(comment));
        v.to_string()
    };
    let (long, short, over) = (doc(0, 9_000), doc(1, 0), doc(2, 30_000));
    let opts = IngestOptions {
        max_document_bytes: 20_000,
        chunk_bytes: 4096,
        ..IngestOptions::default()
    };
    assert!(long.len() > 2 * opts.chunk_bytes && long.len() < opts.max_document_bytes);
    assert!(over.len() > opts.max_document_bytes + 2);
    let copied = IngestOptions {
        map_files: false,
        ..opts.clone()
    };
    let dir = crate::common::temp_dir("read-in-place");
    // Each text, where its first footprint starts and the bytes between the first two.
    let texts = [
        ("lines.ndjson", format!("{long}\n{short}\n{over}"), 0, 1),
        ("array.json", format!("[{long},\n{short},\n{over}]"), 1, 2),
    ];
    for (name, text, first, between) in texts {
        let second = first + long.len() + between;
        let path = dir.join(name);
        std::fs::write(&path, &text).expect("write");
        let file = mieruka::ingest::Source::file(&path);
        let runs = [
            ("in memory", check_with(&[source(name, &text)], &opts)),
            ("mapped", check_with(std::slice::from_ref(&file), &opts)),
            ("copied", check_with(&[file], &copied)),
        ];
        for (how, p) in &runs {
            let r = &p.report;
            assert_eq!(
                (r.accepted, r.rejected),
                (2, 1),
                "{name} {how}: {:?}",
                r.errors
            );
            let e = &r.errors[0];
            assert_eq!((e.index, e.line), (2, 3), "{name} {how}");
            // The whole footprint: the v2 example with a 30,000-byte comment.
            let kib = over.len() as f64 / 1024.0;
            assert!(
                e.message.contains(&format!("{kib:.1} KiB")),
                "{name} {how}: {}",
                e.message
            );
            let spans: Vec<_> = p.footprints.iter().map(|f| f.document).collect();
            assert_eq!(spans[0].offset as usize, first, "{name} {how}");
            assert_eq!(spans[0].length as usize, long.len(), "{name} {how}");
            assert_eq!(spans[1].offset as usize, second, "{name} {how}");
            assert_eq!(spans[1].length as usize, short.len(), "{name} {how}");
        }
    }
}

#[test]
fn documents_over_the_size_limit_are_rejected() {
    let doc = v2_with(|_| {});
    let opts = IngestOptions {
        max_document_bytes: 1000,
        ..IngestOptions::default()
    };
    let p = check_with(&[source("big.json", &doc)], &opts);
    assert_eq!(p.report.rejected, 1);
    assert!(
        p.report.errors[0]
            .message
            .contains("over the 1000 bytes limit"),
        "{:?}",
        p.report.errors
    );
    // NDJSON: only the long line is rejected.
    let small = "{}";
    let p = check_with(
        &[source("mixed.ndjson", &format!("{small}\n{doc}\n"))],
        &opts,
    );
    assert_eq!(
        p.report.rejected, 2,
        "the empty object fails validation, the long line the size check"
    );
    assert!(
        p.report
            .errors
            .iter()
            .any(|e| e.line == 2 && e.message.contains("limit"))
    );
}

const URN_A: &str = "urn:gtin:5695872369587"; // the v2 example's product
const URN_B: &str = "urn:gtin:4712345060507";

#[test]
fn bom_csv_rows_are_checked_one_by_one() {
    let csv = format!(
        "parent_product_id,child_product_id,amount,unit\n\
         {URN_A},{URN_B},0.5,\n\
         {URN_A},{URN_B},abc,\n\
         {URN_A},{URN_A},1,\n\
         {URN_A},{URN_B},0,\n\
         {URN_A},{URN_B},-2,kilogram\n\
         {URN_A},{URN_B},1,bushel\n\
         not-a-urn,{URN_B},1,\n\
         {URN_A},{URN_B}\n\
         \n\
         {URN_A},urn:gtin:999,2.5,piece\n"
    );
    let p = check(&[source("v2.json", &v2_with(|_| {})), source("bom.csv", &csv)]);
    // The footprint, plus rows 0 and 9; rows 1–7 are rejected.
    assert_eq!(p.report.accepted, 3, "{:#?}", p.report);
    assert_eq!(p.report.rejected, 7);
    let expect = [
        (3, "/amount", "is not a decimal number"),
        (4, "/child_product_id", "self-loop"),
        (5, "/amount", "expected a value > 0"),
        (6, "/amount", "expected a value > 0"),
        (7, "/unit", "not a PACT declared unit"),
        (8, "/parent_product_id", "is not a URN"),
        (9, "", "expected 4 fields"),
    ];
    for (line, pointer, message) in expect {
        assert!(
            p.report
                .errors
                .iter()
                .any(|e| e.line == line && e.pointer == pointer && e.message.contains(message)),
            "line {line}: {:#?}",
            p.report.errors
        );
    }
    // Unknown products are accepted with a warning: the edge is dangling until a footprint arrives.
    assert!(
        p.report
            .warnings
            .iter()
            .any(|w| w.line == 11 && w.message.contains("urn:gtin:999")),
        "{:#?}",
        p.report.warnings
    );
    assert!(
        p.report
            .warnings
            .iter()
            .any(|w| w.line == 2 && w.message.contains(URN_B))
    );
    assert_eq!(p.bom.len(), 2);
}

#[test]
fn a_csv_with_another_header_is_refused() {
    let p = check(&[source("parts.csv", "parent,child,qty\na,b,1\n")]);
    assert_eq!(p.report.rejected, 1);
    assert!(
        p.report.errors[0]
            .message
            .contains("parent_product_id,child_product_id,amount,unit")
    );
}

#[test]
fn the_demo_dataset_loads_without_errors() {
    let sources = mieruka::dataset::demo_sources();
    let p = check(&sources);
    assert_eq!(p.report.rejected, 0, "{:#?}", p.report.errors);
    // 48 footprint versions, 34 BOM rows and 10 GX attribute rows (build.py prints the counts).
    assert_eq!(p.footprints.len(), 48);
    assert_eq!(p.report.accepted, 48 + 34 + 10);
    // The PC maker's GX attributes come in its FY2024 footprint's extension.
    assert_eq!(p.gx.len(), 11);
    // The thermal module nobody published a footprint for is the one dangling product.
    let dangling = dangling(&p.report);
    assert_eq!(dangling.len(), 1, "{dangling:?}");
    assert!(dangling[0].contains("thermal-module-tm14"));
}

#[test]
fn the_published_bom_schema_names_the_recognised_data_schema() {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src/schema/bom-extension.schema.json"),
    )
    .expect("schema");
    let schema: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(schema["$id"], mieruka::ingest::BOM_EXTENSION_SCHEMA);
}

#[test]
fn every_property_of_the_published_gxd_schema_is_read() {
    // Build a GxD extension holding every property the consortium's schema defines, each with
    // a value the schema allows, and require that none is reported as unknown.
    let text = std::fs::read_to_string(fixtures().join("gxd/GxD_schema_en.json")).expect("schema");
    let schema: Value = serde_json::from_str(&text).expect("json");
    let sample = |p: &Value| -> Value {
        if let Some(first) = p["enum"].as_array().and_then(|e| e.first()) {
            return first.clone();
        }
        match p["type"].as_str() {
            Some("array") => json!(["1"]),
            _ => json!("0.5"),
        }
    };
    let mut data = serde_json::Map::new();
    for (name, p) in schema["properties"].as_object().expect("properties") {
        let value = match p.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let def = &schema["$defs"][r.trim_start_matches("#/$defs/")];
                let mut sub = serde_json::Map::new();
                for (k, v) in def["properties"].as_object().expect("properties") {
                    sub.insert(k.clone(), sample(v));
                }
                Value::Object(sub)
            }
            None => sample(p),
        };
        data.insert(name.clone(), value);
    }
    let p = check(&[source(
        "all-gxd.json",
        &gxd_doc(Value::Object(data)).to_string(),
    )]);
    assert_eq!(p.report.rejected, 0, "{:#?}", p.report.errors);
    let unknown: Vec<&Problem> = p
        .report
        .warnings
        .iter()
        .filter(|w| w.message.contains("unknown"))
        .collect();
    assert!(unknown.is_empty(), "{unknown:#?}");
    assert!(
        p.footprints[0]
            .footprint
            .gxd
            .as_ref()
            .is_some_and(|g| g.g2g_fossil_ghg_emissions_kgco2e_per_unit.is_some())
    );
}

#[test]
fn gx_attributes_come_from_csv_rows_and_the_extension() {
    let csv = format!(
        "{}\n\
         urn:gtin:5695872369587,true,false,,TRUE,12.5,40,3,,true,false\n\
         urn:gtin:5695872369587,maybe,,,,,,,,,\n\
         urn:gtin:5695872369587,,,,,101,,,,,\n",
        mieruka::ingest::GX_CSV_HEADER
    );
    let p = check(&[source("v2.json", &v2_with(|_| {})), source("gx.csv", &csv)]);
    assert_eq!(
        (p.report.accepted, p.report.rejected),
        (2, 2),
        "{:#?}",
        p.report.errors
    );
    assert!(
        p.report
            .errors
            .iter()
            .any(|e| e.line == 3 && e.pointer == "/gx_declaration")
    );
    assert!(
        p.report
            .errors
            .iter()
            .any(|e| e.line == 4 && e.pointer == "/circular_inflow_pct")
    );
    assert_eq!(p.gx.len(), 1);
    let a = &p.gx[0].attributes;
    assert_eq!(
        (
            a.gx_declaration,
            a.progress_disclosed,
            a.publicly_disclosed,
            a.certified
        ),
        (Some(true), Some(false), None, Some(true))
    );

    let doc = v2_with(|v| {
        v["extensions"] = json!([{"specVersion": "1.0.0", "dataSchema": mieruka::ingest::GX_EXTENSION_SCHEMA,
            "data": {"gxDeclaration": true, "circularInflowPct": "7.5", "aepKgco2ePerUnit": 2}}]);
    });
    let p = check(&[source("gx-ext.json", &doc)]);
    assert_eq!(p.report.rejected, 0, "{:#?}", p.report.errors);
    let a = &p.gx[0].attributes;
    assert_eq!(a.product_id, URN_A);
    assert_eq!(
        a.circular_inflow_pct.map(|d| d.to_string()).as_deref(),
        Some("7.5")
    );
    assert_eq!(
        a.aep_kgco2e_per_unit.map(|d| d.to_string()).as_deref(),
        Some("2")
    );

    let bad = v2_with(|v| {
        v["extensions"] = json!([{"specVersion": "1.0.0", "dataSchema": mieruka::ingest::GX_EXTENSION_SCHEMA,
            "data": {"certified": "yes"}}]);
    });
    let p = check(&[source("gx-bad.json", &bad)]);
    assert_eq!(p.report.rejected, 1);
    assert_eq!(p.report.errors[0].pointer, "/extensions/0/data/certified");
}

#[test]
fn the_published_gx_schema_names_the_recognised_data_schema() {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src/schema/gx-attributes-extension.schema.json"),
    )
    .expect("schema");
    let schema: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(schema["$id"], mieruka::ingest::GX_EXTENSION_SCHEMA);
}
