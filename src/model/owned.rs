//! Footprints that own their texts: a footprint read from a document borrows its texts from
//! it; one kept after the document (tables held in memory) owns them.

use std::borrow::Cow;

use super::{
    Assurance, CarbonFootprint, EmissionFactorSource, Extension, Footprint, Gxd, SectorRule, Text,
};

/// `t`, owning its text.
fn own(t: Text) -> Text<'static> {
    Cow::Owned(t.into_owned())
}

/// `t`, owning its text.
fn own_opt(t: Option<Text>) -> Option<Text<'static>> {
    t.map(own)
}

/// Every text of `v`, owning it.
fn own_all(v: Vec<Text>) -> Vec<Text<'static>> {
    v.into_iter().map(own).collect()
}

impl SectorRule<'_> {
    /// The same, owning every text (to outlive the document it was read from).
    pub fn into_owned(self) -> SectorRule<'static> {
        SectorRule {
            operator: own(self.operator),
            rule_names: own_all(self.rule_names),
            other_operator_name: own_opt(self.other_operator_name),
        }
    }
}

impl EmissionFactorSource<'_> {
    /// The same, owning every text (to outlive the document it was read from).
    pub fn into_owned(self) -> EmissionFactorSource<'static> {
        EmissionFactorSource {
            name: own(self.name),
            version: own(self.version),
        }
    }
}

impl Assurance<'_> {
    /// The same, owning every text (to outlive the document it was read from).
    pub fn into_owned(self) -> Assurance<'static> {
        Assurance {
            assured: self.assured,
            coverage: own_opt(self.coverage),
            level: own_opt(self.level),
            boundary: own_opt(self.boundary),
            provider_name: own_opt(self.provider_name),
            completed_at: self.completed_at,
            standard_name: own_opt(self.standard_name),
            comments: own_opt(self.comments),
        }
    }
}

impl CarbonFootprint<'_> {
    /// The same, owning every text (to outlive the document it was read from).
    pub fn into_owned(self) -> CarbonFootprint<'static> {
        CarbonFootprint {
            declared_unit: self.declared_unit,
            unitary_product_amount: self.unitary_product_amount,
            product_mass_per_declared_unit_kg: self.product_mass_per_declared_unit_kg,
            pcf_excluding_biogenic_kgco2e_per_unit: self.pcf_excluding_biogenic_kgco2e_per_unit,
            pcf_including_biogenic_kgco2e_per_unit: self.pcf_including_biogenic_kgco2e_per_unit,
            fossil_ghg_emissions_kgco2e_per_unit: self.fossil_ghg_emissions_kgco2e_per_unit,
            fossil_carbon_content_kgc_per_unit: self.fossil_carbon_content_kgc_per_unit,
            biogenic_carbon_content_kgc_per_unit: self.biogenic_carbon_content_kgc_per_unit,
            dluc_ghg_emissions_kgco2e_per_unit: self.dluc_ghg_emissions_kgco2e_per_unit,
            land_management_ghg_emissions_kgco2e_per_unit: self
                .land_management_ghg_emissions_kgco2e_per_unit,
            other_biogenic_ghg_emissions_kgco2e_per_unit: self
                .other_biogenic_ghg_emissions_kgco2e_per_unit,
            iluc_ghg_emissions_kgco2e_per_unit: self.iluc_ghg_emissions_kgco2e_per_unit,
            biogenic_carbon_withdrawal_kgco2e_per_unit: self
                .biogenic_carbon_withdrawal_kgco2e_per_unit,
            aircraft_ghg_emissions_kgco2e_per_unit: self.aircraft_ghg_emissions_kgco2e_per_unit,
            packaging_emissions_included: self.packaging_emissions_included,
            packaging_ghg_emissions_kgco2e_per_unit: self.packaging_ghg_emissions_kgco2e_per_unit,
            recycled_carbon_content_kgc_per_unit: self.recycled_carbon_content_kgc_per_unit,
            land_use_change_ghg_emissions_kgco2e_per_unit: self
                .land_use_change_ghg_emissions_kgco2e_per_unit,
            land_carbon_leakage_kgco2e_per_unit: self.land_carbon_leakage_kgco2e_per_unit,
            land_management_fossil_ghg_emissions_kgco2e_per_unit: self
                .land_management_fossil_ghg_emissions_kgco2e_per_unit,
            land_management_biogenic_co2_emissions_kgco2e_per_unit: self
                .land_management_biogenic_co2_emissions_kgco2e_per_unit,
            land_management_biogenic_co2_removals_kgco2e_per_unit: self
                .land_management_biogenic_co2_removals_kgco2e_per_unit,
            biogenic_co2_uptake_kgco2e_per_unit: self.biogenic_co2_uptake_kgco2e_per_unit,
            biogenic_non_co2_emissions_kgco2e_per_unit: self
                .biogenic_non_co2_emissions_kgco2e_per_unit,
            land_area_occupation_m2yr_per_unit: self.land_area_occupation_m2yr_per_unit,
            packaging_biogenic_carbon_content_kgc_per_unit: self
                .packaging_biogenic_carbon_content_kgc_per_unit,
            outbound_logistics_ghg_emissions_kgco2e_per_unit: self
                .outbound_logistics_ghg_emissions_kgco2e_per_unit,
            ccs_technological_co2_capture_included: self.ccs_technological_co2_capture_included,
            ccs_technological_co2_capture_kgco2e_per_unit: self
                .ccs_technological_co2_capture_kgco2e_per_unit,
            technological_co2_capture_origin: own_opt(self.technological_co2_capture_origin),
            technological_co2_removals_kgco2e_per_unit: self
                .technological_co2_removals_kgco2e_per_unit,
            ccu_carbon_content_kgc_per_unit: self.ccu_carbon_content_kgc_per_unit,
            ccu_calculation_approach: own_opt(self.ccu_calculation_approach),
            ccu_credit_certification: own_opt(self.ccu_credit_certification),
            characterization_factors: own_opt(self.characterization_factors),
            ipcc_characterization_factors: own_all(self.ipcc_characterization_factors),
            cross_sectoral_standards_used: own_all(self.cross_sectoral_standards_used),
            cross_sectoral_standards: own_all(self.cross_sectoral_standards),
            product_or_sector_specific_rules: self
                .product_or_sector_specific_rules
                .into_iter()
                .map(|x| x.into_owned())
                .collect(),
            biogenic_accounting_methodology: own_opt(self.biogenic_accounting_methodology),
            boundary_processes_description: own_opt(self.boundary_processes_description),
            reference_period_start: self.reference_period_start,
            reference_period_end: self.reference_period_end,
            geography_region_or_subregion: own_opt(self.geography_region_or_subregion),
            geography_country: own_opt(self.geography_country),
            geography_country_subdivision: own_opt(self.geography_country_subdivision),
            secondary_emission_factor_sources: self
                .secondary_emission_factor_sources
                .into_iter()
                .map(|x| x.into_owned())
                .collect(),
            exempted_emissions_pct: self.exempted_emissions_pct,
            exempted_emissions_description: own_opt(self.exempted_emissions_description),
            allocation_rules_description: own_opt(self.allocation_rules_description),
            uncertainty_assessment_description: own_opt(self.uncertainty_assessment_description),
            primary_data_share_pct: self.primary_data_share_pct,
            dqi: self.dqi,
            assurance: self.assurance.map(|x| x.into_owned()),
        }
    }
}

impl Gxd<'_> {
    /// The same, owning every text (to outlive the document it was read from).
    pub fn into_owned(self) -> Gxd<'static> {
        Gxd {
            calc_method: self.calc_method,
            fw_edition: own_opt(self.fw_edition),
            scope3_category: own_all(self.scope3_category),
            distribution_level: self.distribution_level.map(own_opt),
            distribution_index: self.distribution_index.map(own_opt),
            distribution_level_comment: own_opt(self.distribution_level_comment),
            distribution_index_comment: own_opt(self.distribution_index_comment),
            certificate_amount_kgco2e_per_unit: self.certificate_amount_kgco2e_per_unit,
            certificate_type: own_opt(self.certificate_type),
            credit_amount_kgco2e_per_unit: self.credit_amount_kgco2e_per_unit,
            g2g_fossil_ghg_emissions_kgco2e_per_unit: self.g2g_fossil_ghg_emissions_kgco2e_per_unit,
            g2g_biogenic_carbon_content_kgco2e_per_unit: self
                .g2g_biogenic_carbon_content_kgco2e_per_unit,
            unitary_product_amount_comment: own_opt(self.unitary_product_amount_comment),
            upstream_emissions_kgco2e_per_unit: self.upstream_emissions_kgco2e_per_unit,
        }
    }
}

impl Extension<'_> {
    /// The same, owning every text (to outlive the document it was read from).
    pub fn into_owned(self) -> Extension<'static> {
        Extension {
            spec_version: own(self.spec_version),
            data_schema: own(self.data_schema),
            documentation: own_opt(self.documentation),
            data_json: own(self.data_json),
            kind: self.kind,
        }
    }
}

impl Footprint<'_> {
    /// The same, owning every text (to outlive the document it was read from).
    pub fn into_owned(self) -> Footprint<'static> {
        Footprint {
            id: own(self.id),
            spec_version: own(self.spec_version),
            pact_version: self.pact_version,
            version: self.version,
            preceding_pf_ids: own_all(self.preceding_pf_ids),
            created: self.created,
            updated: self.updated,
            status: self.status,
            status_comment: own_opt(self.status_comment),
            validity_period_start: self.validity_period_start,
            validity_period_end: self.validity_period_end,
            company_name: own(self.company_name),
            company_ids: own_all(self.company_ids),
            product_description: own(self.product_description),
            product_ids: own_all(self.product_ids),
            product_category_cpc: own_opt(self.product_category_cpc),
            product_classifications: own_all(self.product_classifications),
            product_name_company: own(self.product_name_company),
            comment: own_opt(self.comment),
            pcf: Box::new(self.pcf.into_owned()),
            extensions: self
                .extensions
                .into_iter()
                .map(|x| x.into_owned())
                .collect(),
            gxd: self.gxd.map(|x| x.into_owned()),
            bom_inputs: self.bom_inputs,
            gx_attributes: self.gx_attributes,
        }
    }
}
