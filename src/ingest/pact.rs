//! PACT ProductFootprint documents (v2.x and v3.x) → [`Footprint`], with every field
//! checked against the PACT v2.3.3 / v3.0.3 OpenAPI and every problem named by its JSON
//! pointer.
//!
//! Where the PACT text and its OpenAPI disagree, the lenient reading is taken and a warning
//! recorded (an empty `productOrSectorSpecificRules`, cross-sectoral standard spellings,
//! numbers written as strings or the other way round). Unknown properties are ignored with a
//! warning: they stay in the original document, which the store keeps.

use std::borrow::Cow;
use std::sync::LazyLock;

use chrono::{DateTime, Months, Utc};
use memchr::memmem;
use serde_json::value::RawValue;

use super::gxd;
use super::json::{
    self, Checker, Entries, Ptr, Sign, boolean, date_time, decimal_string, int32, pointer, string,
    uuid,
};
use super::pact_values::{
    REGIONS, V2_STANDARDS, V3_STANDARDS, assurance, bounded, check_duplicates, country,
    declared_unit, dqi, ef_sources, list, non_empty, object, one_of, read, require, sector_rules,
    spec_version, standards, string_item, subdivision, unknown, unknown_for, urn_item, uuid_item,
};
use crate::model::{CarbonFootprint, Extension, ExtensionKind, Footprint, PactVersion, Status};

/// `dataSchema` of mieruka's bill-of-materials extension; its JSON Schema is
/// `src/schema/bom-extension.schema.json`.
pub const BOM_EXTENSION_SCHEMA: &str = "urn:mieruka:data-model-extension:bom:1.0.0";

/// The consortium's repository of data-model extensions, as a `dataSchema` names it.
const GXD_MODELS: &str = "Green-x-Digital-Consortium/data-model-extensions";

/// Whether `schema` is a GitHub address starting with `name` (as the consortium's own
/// extensions give theirs): a comparison, where a search through the address took 600
/// instructions, once per extension, a million times an ingest.
fn on_github(schema: &str, name: &str) -> bool {
    schema
        .strip_prefix("https://github.com/")
        .is_some_and(|path| path.starts_with(name))
}

/// Whether a `dataSchema` is one of the consortium's data-model extensions (a GxD extension).
fn names_gxd_models(schema: &str) -> bool {
    static FINDER: LazyLock<memmem::Finder<'static>> =
        LazyLock::new(|| memmem::Finder::new(GXD_MODELS));
    on_github(schema, GXD_MODELS) || FINDER.find(schema.as_bytes()).is_some()
}

/// Whether a `dataSchema` names the consortium at all. (Both searches are built once, not per
/// call as `str::contains` does.)
fn names_consortium(schema: &str) -> bool {
    const CONSORTIUM: &str = "Green-x-Digital-Consortium";
    static FINDER: LazyLock<memmem::Finder<'static>> =
        LazyLock::new(|| memmem::Finder::new(CONSORTIUM));
    on_github(schema, CONSORTIUM) || FINDER.find(schema.as_bytes()).is_some()
}

/// Parses the `pcf` object.
fn carbon_footprint<'a>(
    c: &mut Checker,
    raw: &'a RawValue,
    version: PactVersion,
) -> Option<Box<CarbonFootprint<'a>>> {
    use PactVersion::{V2, V3};
    let p = &Ptr::ROOT.key("pcf");
    let entries = object(c, raw, p)?;
    let before = c.errors.len();
    let mut f = Box::<CarbonFootprint>::default();
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
                f.technological_co2_capture_origin = read(c, p, k, v, string)
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
                f.ccu_credit_certification = read(c, p, k, v, non_empty)
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
                f.boundary_processes_description = read(c, p, k, v, string)
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
                f.exempted_emissions_pct = bounded(c, p, k, v, version, 0, 100)
            }
            ("exemptedEmissionsDescription", _) => {
                f.exempted_emissions_description = read(c, p, k, v, string)
            }
            ("allocationRulesDescription", _) => {
                f.allocation_rules_description = read(c, p, k, v, string)
            }
            ("uncertaintyAssessmentDescription", V2) => {
                f.uncertainty_assessment_description = read(c, p, k, v, string)
            }
            ("primaryDataShare", _) => {
                f.primary_data_share_pct = bounded(c, p, k, v, version, 0, 100)
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

fn require_present(c: &mut Checker, entries: &Entries, ptr: &Ptr, key: &str) {
    if !has(entries, key) {
        require::<()>(c, entries, ptr, key, None);
    }
}

fn extensions<'a>(
    c: &mut Checker,
    raw: &'a RawValue,
) -> Option<Vec<(Extension<'a>, &'a RawValue)>> {
    list(c, &Ptr::ROOT, "extensions", raw, false, |c, p, e| {
        let entries = object(c, e, p)?;
        let (mut spec_version, mut data_schema, mut documentation, mut data) =
            (None, None, None, None);
        for (k, v) in &entries.0 {
            match k.as_ref() {
                "specVersion" => spec_version = read(c, p, k, v, non_empty),
                "dataSchema" => data_schema = read(c, p, k, v, non_empty),
                "documentation" => documentation = read(c, p, k, v, string),
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
        let kind = if names_gxd_models(&data_schema) {
            ExtensionKind::Gxd
        } else if data_schema == BOM_EXTENSION_SCHEMA {
            ExtensionKind::MierukaBom
        } else if data_schema == super::gx::GX_EXTENSION_SCHEMA {
            ExtensionKind::MierukaGx
        } else if gxd::has_gxd_shape(c, data) {
            ExtensionKind::Gxd
        } else {
            ExtensionKind::Other
        };
        Some((
            Extension {
                spec_version,
                data_schema,
                documentation,
                data_json: Cow::Borrowed(data.get()),
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
) -> Option<Footprint<'a>> {
    use PactVersion::{V2, V3};
    let entries = match entries {
        Some(e) => check_duplicates(c, e, &Ptr::ROOT)?,
        None => object(c, doc, &Ptr::ROOT)?,
    };
    let before = c.errors.len();

    // The major version decides the field names, so read specVersion first.
    let mut version = None;
    let mut spec = None;
    if let Some((_, v)) = entries.0.iter().find(|(k, _)| k == "specVersion") {
        spec = read(c, &Ptr::ROOT, "specVersion", v, string);
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
    let p = &Ptr::ROOT;
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
            ("statusComment", V2) => status_comment = read(c, p, k, v, string),
            ("validityPeriodStart", _) => vstart = read(c, p, k, v, date_time),
            ("validityPeriodEnd", _) => vend = read(c, p, k, v, date_time),
            ("companyName", _) => company_name = read(c, p, k, v, non_empty),
            ("companyIds", _) => company_ids = list(c, p, k, v, true, urn_item),
            ("productDescription", _) => product_description = read(c, p, k, v, string),
            ("productIds", _) => product_ids = list(c, p, k, v, true, urn_item),
            ("productCategoryCpc", V2) => cpc = read(c, p, k, v, non_empty),
            ("productClassifications", _) => {
                classifications = list(c, p, k, v, true, urn_item).unwrap_or_default()
            }
            ("productNameCompany", _) => product_name = read(c, p, k, v, non_empty),
            ("comment", _) => comment = read(c, p, k, v, string),
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
            let scheme = u.get(..CPC.len())?;
            scheme
                .eq_ignore_ascii_case(CPC)
                .then(|| Cow::Owned(u[CPC.len()..].to_owned()))
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
    let extensions = Ptr::ROOT.key("extensions");
    for (i, (ext, data)) in exts.iter().enumerate() {
        let item = extensions.index(i);
        let ptr = item.key("data");
        match ext.kind {
            ExtensionKind::Gxd => {
                if gxd_ext.is_some() {
                    c.error(
                        Some(data),
                        ptr.get(),
                        "more than one GxD extension in one footprint",
                    );
                    continue;
                }
                let by_schema = names_consortium(&ext.data_schema);
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
                        .map(|p| p.as_ref()),
                ) {
                    bom_inputs.extend(inputs);
                }
            }
            ExtensionKind::MierukaGx => {
                let product = product_ids
                    .as_ref()
                    .and_then(|v| v.first())
                    .map(|p| p.as_ref())
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
    fn the_consortium_is_recognised_on_github_and_anywhere_else() {
        let github = "https://github.com/Green-x-Digital-Consortium/data-model-extensions/blob/main/specs/GxD_schema_en.json";
        let raw = "https://raw.githubusercontent.com/Green-x-Digital-Consortium/data-model-extensions/main/specs/GxD_schema_en.json";
        let other_repo = "https://github.com/Green-x-Digital-Consortium/other/schema.json";
        for (schema, models, consortium) in [
            (github, true, true),
            (raw, true, true),
            (other_repo, false, true),
            (
                "https://github.com/someone/Green-x-Digital-Consortium",
                false,
                true,
            ),
            (BOM_EXTENSION_SCHEMA, false, false),
            ("https://github.com/", false, false),
        ] {
            assert_eq!(names_gxd_models(schema), models, "{schema}");
            assert_eq!(names_consortium(schema), consortium, "{schema}");
        }
    }
}
