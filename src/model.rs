//! Plain types of the domain: product footprints (PACT v2 and v3 mapped onto one shape),
//! the Green x Digital Consortium (GxD) Gate-to-Gate extension, bill-of-materials edges and
//! declared units.
//!
//! This module owns meaning, not I/O: nothing here reads files, builds Arrow arrays or
//! validates JSON. `ingest` produces these values; `table` turns them into Arrow rows.

pub mod fixed;
mod owned;

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

/// A text of a footprint: borrowed from the document it was read from wherever the JSON
/// string has no escapes, owned otherwise. (Owned, a footprint's forty-odd texts were as many
/// allocations, each freed as soon as the footprint's row was built.)
pub type Text<'a> = Cow<'a, str>;

/// Which PACT data model a document follows; v2.x and v3.x differ in field names and in a
/// few types (v3 writes every number as a decimal string).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PactVersion {
    /// PACT Technical Specification 2.x (`declaredUnit`, `pCfExcludingBiogenic`, …).
    V2,
    /// PACT Technical Specification 3.x (`declaredUnitOfMeasurement`, `verification`, …).
    V3,
}

impl PactVersion {
    /// The major version number as written in `specVersion`.
    pub fn major(self) -> u8 {
        match self {
            PactVersion::V2 => 2,
            PactVersion::V3 => 3,
        }
    }
}

/// PACT `status` of a footprint version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// The footprint may be used by data recipients.
    Active,
    /// Superseded; data recipients should not use it.
    Deprecated,
}

impl Status {
    /// The PACT spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "Active",
            Status::Deprecated => "Deprecated",
        }
    }
}

/// A PACT declared unit (v2 `declaredUnit`, v3 `declaredUnitOfMeasurement`).
///
/// v3 added `piece`, `hour` and `megabit second`; everything per declared unit in a footprint
/// (kgCO2e, kgC) is per one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeclaredUnit {
    /// `liter`
    Liter,
    /// `kilogram`
    Kilogram,
    /// `cubic meter`
    CubicMeter,
    /// `kilowatt hour`
    KilowattHour,
    /// `megajoule`
    Megajoule,
    /// `ton kilometer`
    TonKilometer,
    /// `square meter`
    SquareMeter,
    /// `piece` (PACT v3)
    Piece,
    /// `hour` (PACT v3)
    Hour,
    /// `megabit second` (PACT v3)
    MegabitSecond,
}

impl DeclaredUnit {
    /// Every unit, in PACT's order.
    pub const ALL: [DeclaredUnit; 10] = [
        DeclaredUnit::Liter,
        DeclaredUnit::Kilogram,
        DeclaredUnit::CubicMeter,
        DeclaredUnit::KilowattHour,
        DeclaredUnit::Megajoule,
        DeclaredUnit::TonKilometer,
        DeclaredUnit::SquareMeter,
        DeclaredUnit::Piece,
        DeclaredUnit::Hour,
        DeclaredUnit::MegabitSecond,
    ];

    /// The PACT spelling (`"kilogram"`, `"cubic meter"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            DeclaredUnit::Liter => "liter",
            DeclaredUnit::Kilogram => "kilogram",
            DeclaredUnit::CubicMeter => "cubic meter",
            DeclaredUnit::KilowattHour => "kilowatt hour",
            DeclaredUnit::Megajoule => "megajoule",
            DeclaredUnit::TonKilometer => "ton kilometer",
            DeclaredUnit::SquareMeter => "square meter",
            DeclaredUnit::Piece => "piece",
            DeclaredUnit::Hour => "hour",
            DeclaredUnit::MegabitSecond => "megabit second",
        }
    }

    /// Parses the exact PACT spelling.
    pub fn from_pact(s: &str) -> Option<DeclaredUnit> {
        DeclaredUnit::ALL.into_iter().find(|u| u.as_str() == s)
    }

    /// Whether PACT v2 knows this unit (v3 added the last three).
    pub fn in_pact_v2(self) -> bool {
        !matches!(
            self,
            DeclaredUnit::Piece | DeclaredUnit::Hour | DeclaredUnit::MegabitSecond
        )
    }
}

/// One entry of PACT `productOrSectorSpecificRules`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectorRule<'a> {
    /// `PEF`, `EPD International` or `Other`.
    pub operator: Text<'a>,
    /// Names of the rules applied.
    pub rule_names: Vec<Text<'a>>,
    /// Operator name when `operator` is `Other`.
    pub other_operator_name: Option<Text<'a>>,
}

/// One entry of PACT `secondaryEmissionFactorSources`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmissionFactorSource<'a> {
    /// Database name, e.g. `ecoinvent`.
    pub name: Text<'a>,
    /// Database version.
    pub version: Text<'a>,
}

/// PACT data quality indicators. v2 rates DQRs 1–3, v3 rates them 1–5; both are kept as given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dqi {
    /// v2 only: coverage after exemptions, percent.
    pub coverage_pct: Option<Decimal>,
    /// Technological representativeness.
    pub technological_dqr: Option<Decimal>,
    /// Temporal representativeness.
    pub temporal_dqr: Option<Decimal>,
    /// Geographical representativeness.
    pub geographical_dqr: Option<Decimal>,
    /// v2 only: completeness.
    pub completeness_dqr: Option<Decimal>,
    /// v2 only: reliability.
    pub reliability_dqr: Option<Decimal>,
}

/// PACT v2 `assurance`, or v3 `verification` (whose presence means the footprint is verified).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Assurance<'a> {
    /// v2 `assurance.assurance`; `true` for every v3 `verification`.
    pub assured: bool,
    /// Coverage of the assurance or verification.
    pub coverage: Option<Text<'a>>,
    /// v2 only: `limited` or `reasonable`.
    pub level: Option<Text<'a>>,
    /// v2 only: `Gate-to-Gate` or `Cradle-to-Gate`.
    pub boundary: Option<Text<'a>>,
    /// Name of the assurance provider.
    pub provider_name: Option<Text<'a>>,
    /// When the assurance was completed.
    pub completed_at: Option<DateTime<Utc>>,
    /// Standard followed.
    pub standard_name: Option<Text<'a>>,
    /// Free-text comments.
    pub comments: Option<Text<'a>>,
}

/// The carbon footprint (`pcf`) of a product footprint, all amounts per declared unit.
///
/// Field names carry their unit. Fields that exist in only one PACT version are `None` for
/// documents of the other version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CarbonFootprint<'a> {
    /// Declared unit (v2 `declaredUnit`, v3 `declaredUnitOfMeasurement`).
    pub declared_unit: Option<DeclaredUnit>,
    /// Amount of declared units in the product (v2 `unitaryProductAmount`, v3 `declaredUnitAmount`).
    pub unitary_product_amount: Decimal,
    /// Mass of one declared unit in kg (optional in v2, required in v3).
    pub product_mass_per_declared_unit_kg: Option<Decimal>,
    /// Cradle-to-gate PCF excluding biogenic uptake (v3 `pcfExcludingBiogenicUptake`).
    pub pcf_excluding_biogenic_kgco2e_per_unit: Decimal,
    /// Cradle-to-gate PCF including biogenic uptake (v3 `pcfIncludingBiogenicUptake`).
    pub pcf_including_biogenic_kgco2e_per_unit: Option<Decimal>,
    /// Fossil GHG emissions.
    pub fossil_ghg_emissions_kgco2e_per_unit: Option<Decimal>,
    /// Fossil carbon content.
    pub fossil_carbon_content_kgc_per_unit: Option<Decimal>,
    /// Biogenic carbon content.
    pub biogenic_carbon_content_kgc_per_unit: Option<Decimal>,
    /// v2: direct land use change emissions.
    pub dluc_ghg_emissions_kgco2e_per_unit: Option<Decimal>,
    /// v2: land management emissions.
    pub land_management_ghg_emissions_kgco2e_per_unit: Option<Decimal>,
    /// v2: other biogenic emissions.
    pub other_biogenic_ghg_emissions_kgco2e_per_unit: Option<Decimal>,
    /// v2: indirect land use change emissions.
    pub iluc_ghg_emissions_kgco2e_per_unit: Option<Decimal>,
    /// v2: biogenic carbon withdrawal (≤ 0).
    pub biogenic_carbon_withdrawal_kgco2e_per_unit: Option<Decimal>,
    /// Aircraft emissions.
    pub aircraft_ghg_emissions_kgco2e_per_unit: Option<Decimal>,
    /// Whether packaging emissions are included in the PCF.
    pub packaging_emissions_included: Option<bool>,
    /// Packaging emissions.
    pub packaging_ghg_emissions_kgco2e_per_unit: Option<Decimal>,
    /// v3: recycled carbon content.
    pub recycled_carbon_content_kgc_per_unit: Option<Decimal>,
    /// v3: land use change emissions.
    pub land_use_change_ghg_emissions_kgco2e_per_unit: Option<Decimal>,
    /// v3: land carbon leakage.
    pub land_carbon_leakage_kgco2e_per_unit: Option<Decimal>,
    /// v3: fossil emissions from land management.
    pub land_management_fossil_ghg_emissions_kgco2e_per_unit: Option<Decimal>,
    /// v3: biogenic CO2 emissions from land management.
    pub land_management_biogenic_co2_emissions_kgco2e_per_unit: Option<Decimal>,
    /// v3: biogenic CO2 removals from land management (≤ 0).
    pub land_management_biogenic_co2_removals_kgco2e_per_unit: Option<Decimal>,
    /// v3: biogenic CO2 uptake (≤ 0).
    pub biogenic_co2_uptake_kgco2e_per_unit: Option<Decimal>,
    /// v3: biogenic non-CO2 emissions.
    pub biogenic_non_co2_emissions_kgco2e_per_unit: Option<Decimal>,
    /// v3: land occupation, m²·year per declared unit.
    pub land_area_occupation_m2yr_per_unit: Option<Decimal>,
    /// v3: biogenic carbon content of packaging.
    pub packaging_biogenic_carbon_content_kgc_per_unit: Option<Decimal>,
    /// v3: outbound logistics emissions.
    pub outbound_logistics_ghg_emissions_kgco2e_per_unit: Option<Decimal>,
    /// v3: whether technological CO2 capture with storage is included.
    pub ccs_technological_co2_capture_included: Option<bool>,
    /// v3: technological CO2 capture (≤ 0).
    pub ccs_technological_co2_capture_kgco2e_per_unit: Option<Decimal>,
    /// v3: origin of captured CO2.
    pub technological_co2_capture_origin: Option<Text<'a>>,
    /// v3: technological CO2 removals (≤ 0).
    pub technological_co2_removals_kgco2e_per_unit: Option<Decimal>,
    /// v3: CCU carbon content.
    pub ccu_carbon_content_kgc_per_unit: Option<Decimal>,
    /// v3: `Cut-off` or `Credit`.
    pub ccu_calculation_approach: Option<Text<'a>>,
    /// v3: URI of the CCU credit certification.
    pub ccu_credit_certification: Option<Text<'a>>,
    /// v2 (deprecated): `AR5` or `AR6`.
    pub characterization_factors: Option<Text<'a>>,
    /// IPCC assessment reports used (v2 `ipccCharacterizationFactorsSources`, v3 `ipccCharacterizationFactors`).
    pub ipcc_characterization_factors: Vec<Text<'a>>,
    /// v2 (deprecated) `crossSectoralStandardsUsed`, normalised to the PACT spellings.
    pub cross_sectoral_standards_used: Vec<Text<'a>>,
    /// v2.3/v3 `crossSectoralStandards`.
    pub cross_sectoral_standards: Vec<Text<'a>>,
    /// Product or sector specific rules (PCRs).
    pub product_or_sector_specific_rules: Vec<SectorRule<'a>>,
    /// `PEF`, `ISO`, `GHGP` or `Quantis`.
    pub biogenic_accounting_methodology: Option<Text<'a>>,
    /// Processes included in the boundary.
    pub boundary_processes_description: Option<Text<'a>>,
    /// Start of the reference period.
    pub reference_period_start: DateTime<Utc>,
    /// End of the reference period.
    pub reference_period_end: DateTime<Utc>,
    /// UN M49 region or subregion name.
    pub geography_region_or_subregion: Option<Text<'a>>,
    /// ISO 3166-1 alpha-2 country.
    pub geography_country: Option<Text<'a>>,
    /// ISO 3166-2 subdivision.
    pub geography_country_subdivision: Option<Text<'a>>,
    /// Secondary emission factor databases.
    pub secondary_emission_factor_sources: Vec<EmissionFactorSource<'a>>,
    /// Share of emissions exempted from the PCF, percent.
    pub exempted_emissions_pct: Option<Decimal>,
    /// Why emissions were exempted.
    pub exempted_emissions_description: Option<Text<'a>>,
    /// Allocation rules applied.
    pub allocation_rules_description: Option<Text<'a>>,
    /// v2: uncertainty assessment.
    pub uncertainty_assessment_description: Option<Text<'a>>,
    /// Primary data share, percent.
    pub primary_data_share_pct: Option<Decimal>,
    /// Data quality indicators.
    pub dqi: Option<Dqi>,
    /// Assurance (v2) or verification (v3).
    pub assurance: Option<Assurance<'a>>,
}

impl CarbonFootprint<'_> {
    /// The country this footprint is located in, from `geographyCountry` or the country
    /// part of `geographyCountrySubdivision`.
    pub fn country(&self) -> Option<&str> {
        self.geography_country.as_deref().or_else(|| {
            self.geography_country_subdivision
                .as_deref()
                .and_then(|s| s.get(..2))
        })
    }
}

/// GxD `calcMethod`: how the footprint was calculated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CalcMethod {
    /// `"0"`: product-based calculation.
    ProductBased,
    /// `"1"`: organization-based calculation (Scope 1–3 allocated to the product by an index).
    OrganizationBased,
}

impl CalcMethod {
    /// The GxD code, `"0"` or `"1"`.
    pub fn code(self) -> &'static str {
        match self {
            CalcMethod::ProductBased => "0",
            CalcMethod::OrganizationBased => "1",
        }
    }
}

/// The Green x Digital Consortium data model extension, typed.
///
/// Older GxD field names (`gateToGate.fossilGhgEmissions`, `upstreamEmissions`, …) are mapped
/// onto the same fields by `ingest`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Gxd<'a> {
    /// Product- or organization-based calculation.
    pub calc_method: Option<CalcMethod>,
    /// Edition of the CO2 visualization framework referenced (`FWedition`).
    pub fw_edition: Option<Text<'a>>,
    /// Scope 3 categories covered (organization-based).
    pub scope3_category: Vec<Text<'a>>,
    /// Distribution level per scope 1–3: organization, site, building, production line.
    pub distribution_level: [Option<Text<'a>>; 3],
    /// Distribution index per scope 1–3: volume, unit, production.
    pub distribution_index: [Option<Text<'a>>; 3],
    /// Comment on the distribution level.
    pub distribution_level_comment: Option<Text<'a>>,
    /// Comment on the distribution index.
    pub distribution_index_comment: Option<Text<'a>>,
    /// Certificate amount used (shown beside the CFP, never netted into it).
    pub certificate_amount_kgco2e_per_unit: Option<Decimal>,
    /// Certificate type (e.g. renewable-energy J-Credits).
    pub certificate_type: Option<Text<'a>>,
    /// Older GxD `creditAmount`.
    pub credit_amount_kgco2e_per_unit: Option<Decimal>,
    /// Gate-to-Gate fossil GHG emissions: what arises inside the company's own gate.
    pub g2g_fossil_ghg_emissions_kgco2e_per_unit: Option<Decimal>,
    /// Gate-to-Gate emissions including biogenic emissions and removals.
    pub g2g_biogenic_carbon_content_kgco2e_per_unit: Option<Decimal>,
    /// Explanation of product amount and declared unit.
    pub unitary_product_amount_comment: Option<Text<'a>>,
    /// Older GxD `upstreamEmissions`: reported supply-chain upstream emissions.
    pub upstream_emissions_kgco2e_per_unit: Option<Decimal>,
}

/// GX attributes of a product: what a GX requirement sheet scores beyond the footprint.
/// `None` means not known (an empty CSV cell), which scores as missing, never as false.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GxAttributes {
    /// Product URN.
    pub product_id: String,
    /// The company has made a GX declaration.
    pub gx_declaration: Option<bool>,
    /// Progress towards its targets is disclosed.
    pub progress_disclosed: Option<bool>,
    /// Information is publicly disclosed.
    pub publicly_disclosed: Option<bool>,
    /// Third-party certified (also true when the footprint carries PACT assurance/verification).
    pub certified: Option<bool>,
    /// Share of reused, recycled or renewable inputs, percent (WBCSD CTI circular inflow).
    pub circular_inflow_pct: Option<Decimal>,
    /// Share reused or recycled after use, percent (circular outflow).
    pub circular_outflow_pct: Option<Decimal>,
    /// Avoided emissions per declared unit against a reference product (AEP, 削減貢献量).
    pub aep_kgco2e_per_unit: Option<Decimal>,
    /// The reductions are additional.
    pub additionality: Option<bool>,
    /// Contributes to national mid/long-term targets.
    pub national_target_contribution: Option<bool>,
    /// Backed by public support measures.
    pub support_measures: Option<bool>,
}

/// Which known data model extension an `extensions[]` entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExtensionKind {
    /// Green x Digital Consortium Gate-to-Gate extension.
    Gxd,
    /// mieruka bill-of-materials extension ([`crate::ingest::BOM_EXTENSION_SCHEMA`]).
    MierukaBom,
    /// mieruka GX attributes extension ([`crate::ingest::GX_EXTENSION_SCHEMA`]).
    MierukaGx,
    /// Any other extension; kept as received.
    Other,
}

impl ExtensionKind {
    /// Short name used in the `footprint_extensions.kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            ExtensionKind::Gxd => "gxd",
            ExtensionKind::MierukaBom => "mieruka-bom",
            ExtensionKind::MierukaGx => "mieruka-gx",
            ExtensionKind::Other => "other",
        }
    }
}

/// One `extensions[]` entry as received, plus what it was recognised as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension<'a> {
    /// Extension `specVersion`.
    pub spec_version: Text<'a>,
    /// Extension `dataSchema` URI.
    pub data_schema: Text<'a>,
    /// Extension `documentation` URI.
    pub documentation: Option<Text<'a>>,
    /// The extension's `data` object, as received (JSON text).
    pub data_json: Text<'a>,
    /// What the extension was recognised as.
    pub kind: ExtensionKind,
}

/// A PACT ProductFootprint, validated; v2 and v3 documents both map onto it. Its texts
/// ([`Text`]) borrow from the document it was read from for `'a`; [`Footprint::into_owned`]
/// makes one that outlives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Footprint<'a> {
    /// Footprint id (UUID, lower-case).
    pub id: Text<'a>,
    /// `specVersion` as written.
    pub spec_version: Text<'a>,
    /// PACT major version the document follows.
    pub pact_version: PactVersion,
    /// v2 `version`; v3 has none (a new version gets a new id and names its predecessors).
    pub version: Option<i32>,
    /// Ids of earlier versions of this footprint.
    pub preceding_pf_ids: Vec<Text<'a>>,
    /// Creation time.
    pub created: DateTime<Utc>,
    /// Last update.
    pub updated: Option<DateTime<Utc>>,
    /// Active or Deprecated.
    pub status: Status,
    /// Why the status is what it is.
    pub status_comment: Option<Text<'a>>,
    /// Start of the validity period.
    pub validity_period_start: Option<DateTime<Utc>>,
    /// End of the validity period.
    pub validity_period_end: Option<DateTime<Utc>>,
    /// Data owner's name.
    pub company_name: Text<'a>,
    /// Data owner's URNs.
    pub company_ids: Vec<Text<'a>>,
    /// Free-form product description.
    pub product_description: Text<'a>,
    /// Product URNs; the first is the product's key in BOM edges.
    pub product_ids: Vec<Text<'a>>,
    /// UN CPC code (v2 `productCategoryCpc`, or the `un-cpc` entry of v3 `productClassifications`).
    pub product_category_cpc: Option<Text<'a>>,
    /// v2.3/v3 product classification URNs.
    pub product_classifications: Vec<Text<'a>>,
    /// Trade name.
    pub product_name_company: Text<'a>,
    /// Comment on the calculation.
    pub comment: Option<Text<'a>>,
    /// The carbon footprint. Boxed: its fifty-odd numbers are most of a footprint's size,
    /// and a footprint is moved several times between its check and its columns.
    pub pcf: Box<CarbonFootprint<'a>>,
    /// Every extension, as received.
    pub extensions: Vec<Extension<'a>>,
    /// The GxD extension, typed, when present.
    pub gxd: Option<Gxd<'a>>,
    /// Inputs declared by the mieruka BOM extension.
    pub bom_inputs: Vec<BomInput>,
    /// GX attributes declared by the mieruka GX attributes extension.
    pub gx_attributes: Option<GxAttributes>,
}

impl Footprint<'_> {
    /// The product URN used as this footprint's key in the bill of materials.
    pub fn product_id(&self) -> &str {
        self.product_ids.first().map(|p| p.as_ref()).unwrap_or("")
    }

    /// Gate-to-Gate fossil emissions per declared unit, when the GxD extension gives them.
    pub fn g2g_kgco2e_per_unit(&self) -> Option<Decimal> {
        self.gxd
            .as_ref()
            .and_then(|g| g.g2g_fossil_ghg_emissions_kgco2e_per_unit)
    }
}

/// One input of a product, from the mieruka BOM extension on the parent's footprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BomInput {
    /// Child product URN.
    pub product_id: String,
    /// Amount of the child per declared unit of the parent.
    pub amount: Decimal,
    /// Unit of `amount` when it is not the child's declared unit.
    pub unit: Option<DeclaredUnit>,
}

/// Where a BOM edge came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BomSource {
    /// A row of a BOM CSV file.
    Csv {
        /// File name as given to `ingest` (shared by its rows).
        file: std::sync::Arc<str>,
        /// 1-based line number.
        line: usize,
    },
    /// The mieruka BOM extension on a footprint.
    Extension {
        /// Id of the footprint carrying the extension.
        footprint_id: String,
    },
}

/// A bill-of-materials edge: one declared unit of `parent` uses `amount` of `child`, in the
/// child's declared unit unless `unit` says otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BomEdge {
    /// Parent product URN.
    pub parent_product_id: String,
    /// Child product URN.
    pub child_product_id: String,
    /// Amount of child per declared unit of parent.
    pub amount: Decimal,
    /// Unit of `amount` when it is not the child's declared unit.
    pub unit: Option<DeclaredUnit>,
    /// Origin of the edge.
    pub source: BomSource,
}
