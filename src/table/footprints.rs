//! `footprints` and `footprint_extensions`: the column list (one entry per column, with how
//! it is read from a [`Footprint`]) and their schemas; `batches`, records appended to them and
//! closed into Arrow batches bounded in size.

use std::sync::{Arc, LazyLock};

use chrono::{DateTime, Utc};
use datafusion::arrow::array::{
    Array, ArrayRef, Decimal128Array, ListArray, StringBuilder, TimestampMicrosecondArray,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use rust_decimal::Decimal;

use super::{DECIMAL_PRECISION, DECIMAL_SCALE, decimal_to_i128, decimal_type};
use crate::Result;
use crate::model::{Footprint, Text};

mod batches;
pub use batches::FootprintRows;

pub(super) fn ts_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

fn list_of(item: DataType) -> DataType {
    DataType::List(Arc::new(Field::new("item", item, true)))
}

fn rule_fields() -> Fields {
    Fields::from(vec![
        Field::new("operator", DataType::Utf8, false),
        Field::new("rule_names", list_of(DataType::Utf8), false),
        Field::new("other_operator_name", DataType::Utf8, true),
    ])
}

fn ef_fields() -> Fields {
    Fields::from(vec![
        Field::new("name", DataType::Utf8, false),
        Field::new("version", DataType::Utf8, false),
    ])
}

/// How one `footprints` column is read from a [`Footprint`].
enum Get {
    Str(for<'r> fn(&'r Footprint<'_>) -> Option<&'r str>),
    Dec(for<'r> fn(&'r Footprint<'_>) -> Option<&'r Decimal>),
    Bool(fn(&Footprint<'_>) -> Option<bool>),
    Ts(fn(&Footprint<'_>) -> Option<DateTime<Utc>>),
    I32(fn(&Footprint<'_>) -> Option<i32>),
    StrList(for<'r> fn(&'r Footprint<'_>) -> &'r [Text<'r>]),
    Rules,
    EfSources,
}

impl Get {
    fn data_type(&self) -> DataType {
        match self {
            Get::Str(_) => DataType::Utf8,
            Get::Dec(_) => decimal_type(),
            Get::Bool(_) => DataType::Boolean,
            Get::Ts(_) => ts_type(),
            Get::I32(_) => DataType::Int32,
            Get::StrList(_) => list_of(DataType::Utf8),
            Get::Rules => list_of(DataType::Struct(rule_fields())),
            Get::EfSources => list_of(DataType::Struct(ef_fields())),
        }
    }
}

fn gxd_str<'r>(
    f: &'r Footprint<'_>,
    get: for<'g> fn(&'g crate::model::Gxd<'_>) -> Option<&'g str>,
) -> Option<&'r str> {
    f.gxd.as_ref().and_then(get)
}

fn gxd_dec<'r>(
    f: &'r Footprint<'_>,
    get: for<'g> fn(&'g crate::model::Gxd<'_>) -> Option<&'g Decimal>,
) -> Option<&'r Decimal> {
    f.gxd.as_ref().and_then(get)
}

fn dqi<'r>(
    f: &'r Footprint<'_>,
    get: fn(&crate::model::Dqi) -> Option<&Decimal>,
) -> Option<&'r Decimal> {
    f.pcf.dqi.as_ref().and_then(get)
}

fn assurance_str<'r>(
    f: &'r Footprint<'_>,
    get: for<'g> fn(&'g crate::model::Assurance<'_>) -> Option<&'g str>,
) -> Option<&'r str> {
    f.pcf.assurance.as_ref().and_then(get)
}

/// The `footprints` columns taken from the model, in schema order; `(name, nullable, getter)`.
/// The document's place among the originals, `source`, `ingest_seq` and `is_latest` follow.
static FOOTPRINT_COLUMNS: LazyLock<Vec<(&'static str, bool, Get)>> = LazyLock::new(|| {
    use Get::*;
    vec![
        ("id", false, Str(|f| Some(&f.id))),
        ("spec_version", false, Str(|f| Some(&f.spec_version))),
        (
            "pact_major_version",
            false,
            I32(|f| Some(f.pact_version.major().into())),
        ),
        ("version", true, I32(|f| f.version)),
        ("preceding_pf_ids", false, StrList(|f| &f.preceding_pf_ids)),
        ("created", false, Ts(|f| Some(f.created))),
        ("updated", true, Ts(|f| f.updated)),
        ("status", false, Str(|f| Some(f.status.as_str()))),
        ("status_comment", true, Str(|f| f.status_comment.as_deref())),
        (
            "validity_period_start",
            true,
            Ts(|f| f.validity_period_start),
        ),
        ("validity_period_end", true, Ts(|f| f.validity_period_end)),
        ("company_name", false, Str(|f| Some(&f.company_name))),
        (
            "company_id",
            false,
            Str(|f| f.company_ids.first().map(|s| s.as_ref())),
        ),
        ("company_ids", false, StrList(|f| &f.company_ids)),
        ("product_id", false, Str(|f| Some(f.product_id()))),
        ("product_ids", false, StrList(|f| &f.product_ids)),
        (
            "product_description",
            false,
            Str(|f| Some(&f.product_description)),
        ),
        (
            "product_category_cpc",
            true,
            Str(|f| f.product_category_cpc.as_deref()),
        ),
        (
            "product_classifications",
            false,
            StrList(|f| &f.product_classifications),
        ),
        (
            "product_name_company",
            false,
            Str(|f| Some(&f.product_name_company)),
        ),
        ("comment", true, Str(|f| f.comment.as_deref())),
        (
            "declared_unit",
            true,
            Str(|f| f.pcf.declared_unit.map(|u| u.as_str())),
        ),
        (
            "unitary_product_amount",
            false,
            Dec(|f| Some(&f.pcf.unitary_product_amount)),
        ),
        (
            "product_mass_per_declared_unit_kg",
            true,
            Dec(|f| f.pcf.product_mass_per_declared_unit_kg.as_ref()),
        ),
        (
            "pcf_excluding_biogenic_kgco2e_per_unit",
            false,
            Dec(|f| Some(&f.pcf.pcf_excluding_biogenic_kgco2e_per_unit)),
        ),
        (
            "pcf_including_biogenic_kgco2e_per_unit",
            true,
            Dec(|f| f.pcf.pcf_including_biogenic_kgco2e_per_unit.as_ref()),
        ),
        (
            "fossil_ghg_emissions_kgco2e_per_unit",
            true,
            Dec(|f| f.pcf.fossil_ghg_emissions_kgco2e_per_unit.as_ref()),
        ),
        (
            "fossil_carbon_content_kgc_per_unit",
            true,
            Dec(|f| f.pcf.fossil_carbon_content_kgc_per_unit.as_ref()),
        ),
        (
            "biogenic_carbon_content_kgc_per_unit",
            true,
            Dec(|f| f.pcf.biogenic_carbon_content_kgc_per_unit.as_ref()),
        ),
        (
            "dluc_ghg_emissions_kgco2e_per_unit",
            true,
            Dec(|f| f.pcf.dluc_ghg_emissions_kgco2e_per_unit.as_ref()),
        ),
        (
            "land_management_ghg_emissions_kgco2e_per_unit",
            true,
            Dec(|f| f.pcf.land_management_ghg_emissions_kgco2e_per_unit.as_ref()),
        ),
        (
            "other_biogenic_ghg_emissions_kgco2e_per_unit",
            true,
            Dec(|f| f.pcf.other_biogenic_ghg_emissions_kgco2e_per_unit.as_ref()),
        ),
        (
            "iluc_ghg_emissions_kgco2e_per_unit",
            true,
            Dec(|f| f.pcf.iluc_ghg_emissions_kgco2e_per_unit.as_ref()),
        ),
        (
            "biogenic_carbon_withdrawal_kgco2e_per_unit",
            true,
            Dec(|f| f.pcf.biogenic_carbon_withdrawal_kgco2e_per_unit.as_ref()),
        ),
        (
            "aircraft_ghg_emissions_kgco2e_per_unit",
            true,
            Dec(|f| f.pcf.aircraft_ghg_emissions_kgco2e_per_unit.as_ref()),
        ),
        (
            "packaging_emissions_included",
            true,
            Bool(|f| f.pcf.packaging_emissions_included),
        ),
        (
            "packaging_ghg_emissions_kgco2e_per_unit",
            true,
            Dec(|f| f.pcf.packaging_ghg_emissions_kgco2e_per_unit.as_ref()),
        ),
        (
            "recycled_carbon_content_kgc_per_unit",
            true,
            Dec(|f| f.pcf.recycled_carbon_content_kgc_per_unit.as_ref()),
        ),
        (
            "land_use_change_ghg_emissions_kgco2e_per_unit",
            true,
            Dec(|f| f.pcf.land_use_change_ghg_emissions_kgco2e_per_unit.as_ref()),
        ),
        (
            "land_carbon_leakage_kgco2e_per_unit",
            true,
            Dec(|f| f.pcf.land_carbon_leakage_kgco2e_per_unit.as_ref()),
        ),
        (
            "land_management_fossil_ghg_emissions_kgco2e_per_unit",
            true,
            Dec(|f| {
                f.pcf
                    .land_management_fossil_ghg_emissions_kgco2e_per_unit
                    .as_ref()
            }),
        ),
        (
            "land_management_biogenic_co2_emissions_kgco2e_per_unit",
            true,
            Dec(|f| {
                f.pcf
                    .land_management_biogenic_co2_emissions_kgco2e_per_unit
                    .as_ref()
            }),
        ),
        (
            "land_management_biogenic_co2_removals_kgco2e_per_unit",
            true,
            Dec(|f| {
                f.pcf
                    .land_management_biogenic_co2_removals_kgco2e_per_unit
                    .as_ref()
            }),
        ),
        (
            "biogenic_co2_uptake_kgco2e_per_unit",
            true,
            Dec(|f| f.pcf.biogenic_co2_uptake_kgco2e_per_unit.as_ref()),
        ),
        (
            "biogenic_non_co2_emissions_kgco2e_per_unit",
            true,
            Dec(|f| f.pcf.biogenic_non_co2_emissions_kgco2e_per_unit.as_ref()),
        ),
        (
            "land_area_occupation_m2yr_per_unit",
            true,
            Dec(|f| f.pcf.land_area_occupation_m2yr_per_unit.as_ref()),
        ),
        (
            "packaging_biogenic_carbon_content_kgc_per_unit",
            true,
            Dec(|f| {
                f.pcf
                    .packaging_biogenic_carbon_content_kgc_per_unit
                    .as_ref()
            }),
        ),
        (
            "outbound_logistics_ghg_emissions_kgco2e_per_unit",
            true,
            Dec(|f| {
                f.pcf
                    .outbound_logistics_ghg_emissions_kgco2e_per_unit
                    .as_ref()
            }),
        ),
        (
            "ccs_technological_co2_capture_included",
            true,
            Bool(|f| f.pcf.ccs_technological_co2_capture_included),
        ),
        (
            "ccs_technological_co2_capture_kgco2e_per_unit",
            true,
            Dec(|f| f.pcf.ccs_technological_co2_capture_kgco2e_per_unit.as_ref()),
        ),
        (
            "technological_co2_capture_origin",
            true,
            Str(|f| f.pcf.technological_co2_capture_origin.as_deref()),
        ),
        (
            "technological_co2_removals_kgco2e_per_unit",
            true,
            Dec(|f| f.pcf.technological_co2_removals_kgco2e_per_unit.as_ref()),
        ),
        (
            "ccu_carbon_content_kgc_per_unit",
            true,
            Dec(|f| f.pcf.ccu_carbon_content_kgc_per_unit.as_ref()),
        ),
        (
            "ccu_calculation_approach",
            true,
            Str(|f| f.pcf.ccu_calculation_approach.as_deref()),
        ),
        (
            "ccu_credit_certification",
            true,
            Str(|f| f.pcf.ccu_credit_certification.as_deref()),
        ),
        (
            "characterization_factors",
            true,
            Str(|f| f.pcf.characterization_factors.as_deref()),
        ),
        (
            "ipcc_characterization_factors",
            false,
            StrList(|f| &f.pcf.ipcc_characterization_factors),
        ),
        (
            "cross_sectoral_standards_used",
            false,
            StrList(|f| &f.pcf.cross_sectoral_standards_used),
        ),
        (
            "cross_sectoral_standards",
            false,
            StrList(|f| &f.pcf.cross_sectoral_standards),
        ),
        ("product_or_sector_specific_rules", false, Rules),
        (
            "biogenic_accounting_methodology",
            true,
            Str(|f| f.pcf.biogenic_accounting_methodology.as_deref()),
        ),
        (
            "boundary_processes_description",
            true,
            Str(|f| f.pcf.boundary_processes_description.as_deref()),
        ),
        (
            "reference_period_start",
            false,
            Ts(|f| Some(f.pcf.reference_period_start)),
        ),
        (
            "reference_period_end",
            false,
            Ts(|f| Some(f.pcf.reference_period_end)),
        ),
        (
            "geography_region_or_subregion",
            true,
            Str(|f| f.pcf.geography_region_or_subregion.as_deref()),
        ),
        (
            "geography_country",
            true,
            Str(|f| f.pcf.geography_country.as_deref()),
        ),
        (
            "geography_country_subdivision",
            true,
            Str(|f| f.pcf.geography_country_subdivision.as_deref()),
        ),
        ("country_code", true, Str(|f| f.pcf.country())),
        ("secondary_emission_factor_sources", false, EfSources),
        (
            "exempted_emissions_pct",
            true,
            Dec(|f| f.pcf.exempted_emissions_pct.as_ref()),
        ),
        (
            "exempted_emissions_description",
            true,
            Str(|f| f.pcf.exempted_emissions_description.as_deref()),
        ),
        (
            "allocation_rules_description",
            true,
            Str(|f| f.pcf.allocation_rules_description.as_deref()),
        ),
        (
            "uncertainty_assessment_description",
            true,
            Str(|f| f.pcf.uncertainty_assessment_description.as_deref()),
        ),
        (
            "primary_data_share_pct",
            true,
            Dec(|f| f.pcf.primary_data_share_pct.as_ref()),
        ),
        (
            "dqi_coverage_pct",
            true,
            Dec(|f| dqi(f, |d| d.coverage_pct.as_ref())),
        ),
        (
            "dqi_technological_dqr",
            true,
            Dec(|f| dqi(f, |d| d.technological_dqr.as_ref())),
        ),
        (
            "dqi_temporal_dqr",
            true,
            Dec(|f| dqi(f, |d| d.temporal_dqr.as_ref())),
        ),
        (
            "dqi_geographical_dqr",
            true,
            Dec(|f| dqi(f, |d| d.geographical_dqr.as_ref())),
        ),
        (
            "dqi_completeness_dqr",
            true,
            Dec(|f| dqi(f, |d| d.completeness_dqr.as_ref())),
        ),
        (
            "dqi_reliability_dqr",
            true,
            Dec(|f| dqi(f, |d| d.reliability_dqr.as_ref())),
        ),
        (
            "assurance",
            true,
            Bool(|f| f.pcf.assurance.as_ref().map(|a| a.assured)),
        ),
        (
            "assurance_coverage",
            true,
            Str(|f| assurance_str(f, |a| a.coverage.as_deref())),
        ),
        (
            "assurance_level",
            true,
            Str(|f| assurance_str(f, |a| a.level.as_deref())),
        ),
        (
            "assurance_boundary",
            true,
            Str(|f| assurance_str(f, |a| a.boundary.as_deref())),
        ),
        (
            "assurance_provider_name",
            true,
            Str(|f| assurance_str(f, |a| a.provider_name.as_deref())),
        ),
        (
            "assurance_completed_at",
            true,
            Ts(|f| f.pcf.assurance.as_ref().and_then(|a| a.completed_at)),
        ),
        (
            "assurance_standard_name",
            true,
            Str(|f| assurance_str(f, |a| a.standard_name.as_deref())),
        ),
        (
            "assurance_comments",
            true,
            Str(|f| assurance_str(f, |a| a.comments.as_deref())),
        ),
        ("gxd_present", false, Bool(|f| Some(f.gxd.is_some()))),
        (
            "gxd_calc_method",
            true,
            Str(|f| f.gxd.as_ref().and_then(|g| g.calc_method).map(|m| m.code())),
        ),
        (
            "gxd_fw_edition",
            true,
            Str(|f| gxd_str(f, |g| g.fw_edition.as_deref())),
        ),
        (
            "gxd_g2g_fossil_ghg_kgco2e_per_unit",
            true,
            Dec(|f| gxd_dec(f, |g| g.g2g_fossil_ghg_emissions_kgco2e_per_unit.as_ref())),
        ),
        (
            "gxd_g2g_biogenic_kgco2e_per_unit",
            true,
            Dec(|f| {
                gxd_dec(f, |g| {
                    g.g2g_biogenic_carbon_content_kgco2e_per_unit.as_ref()
                })
            }),
        ),
        (
            "gxd_unitary_product_amount_comment",
            true,
            Str(|f| gxd_str(f, |g| g.unitary_product_amount_comment.as_deref())),
        ),
        (
            "gxd_upstream_kgco2e_per_unit",
            true,
            Dec(|f| gxd_dec(f, |g| g.upstream_emissions_kgco2e_per_unit.as_ref())),
        ),
        (
            "gxd_credit_kgco2e_per_unit",
            true,
            Dec(|f| gxd_dec(f, |g| g.credit_amount_kgco2e_per_unit.as_ref())),
        ),
        (
            "gxd_certificate_kgco2e_per_unit",
            true,
            Dec(|f| gxd_dec(f, |g| g.certificate_amount_kgco2e_per_unit.as_ref())),
        ),
        (
            "gxd_certificate_type",
            true,
            Str(|f| gxd_str(f, |g| g.certificate_type.as_deref())),
        ),
        (
            "gxd_scope3_categories",
            false,
            StrList(|f| f.gxd.as_ref().map_or(&[], |g| g.scope3_category.as_slice())),
        ),
        (
            "gxd_scope1_distribution_level",
            true,
            Str(|f| gxd_str(f, |g| g.distribution_level[0].as_deref())),
        ),
        (
            "gxd_scope2_distribution_level",
            true,
            Str(|f| gxd_str(f, |g| g.distribution_level[1].as_deref())),
        ),
        (
            "gxd_scope3_distribution_level",
            true,
            Str(|f| gxd_str(f, |g| g.distribution_level[2].as_deref())),
        ),
        (
            "gxd_scope1_distribution_index",
            true,
            Str(|f| gxd_str(f, |g| g.distribution_index[0].as_deref())),
        ),
        (
            "gxd_scope2_distribution_index",
            true,
            Str(|f| gxd_str(f, |g| g.distribution_index[1].as_deref())),
        ),
        (
            "gxd_scope3_distribution_index",
            true,
            Str(|f| gxd_str(f, |g| g.distribution_index[2].as_deref())),
        ),
        (
            "gxd_distribution_level_comment",
            true,
            Str(|f| gxd_str(f, |g| g.distribution_level_comment.as_deref())),
        ),
        (
            "gxd_distribution_index_comment",
            true,
            Str(|f| gxd_str(f, |g| g.distribution_index_comment.as_deref())),
        ),
    ]
});

/// The stored schema of `footprints` (without the derived `is_latest`).
pub fn footprints_stored_schema() -> SchemaRef {
    static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
        let mut fields: Vec<Field> = FOOTPRINT_COLUMNS
            .iter()
            .map(|(name, nullable, get)| Field::new(*name, get.data_type(), *nullable))
            .collect();
        // Where the document as received is: which original file of the ingest, and the bytes
        // of it. The analytic table never holds the documents themselves.
        fields.push(Field::new("document_original", DataType::Int32, false));
        fields.push(Field::new("document_offset", DataType::Int64, false));
        fields.push(Field::new("document_length", DataType::Int64, false));
        fields.push(Field::new("source", DataType::Utf8, false));
        fields.push(Field::new("ingest_seq", DataType::Int64, false));
        Arc::new(Schema::new(fields))
    });
    SCHEMA.clone()
}

/// The `footprints` schema as registered for queries: the stored columns plus `is_latest`.
pub fn footprints_schema() -> SchemaRef {
    static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
        let mut fields: Vec<Field> = footprints_stored_schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        fields.push(Field::new("is_latest", DataType::Boolean, false));
        Arc::new(Schema::new(fields))
    });
    SCHEMA.clone()
}

pub(super) fn ts_micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// A string column built in one allocation (the values are walked twice: sizes, then bytes).
pub(super) fn strings<'a, I>(values: I) -> ArrayRef
where
    I: Iterator<Item = Option<&'a str>> + Clone,
{
    let (rows, bytes) = values
        .clone()
        .fold((0, 0), |(r, b), v| (r + 1, b + v.map_or(0, str::len)));
    let mut builder = StringBuilder::with_capacity(rows, bytes);
    for v in values {
        builder.append_option(v);
    }
    Arc::new(builder.finish())
}

pub(super) fn decimals(values: impl Iterator<Item = Option<Decimal>>) -> Result<ArrayRef> {
    let arr = Decimal128Array::from_iter(values.map(|v| v.map(decimal_to_i128)))
        .with_precision_and_scale(DECIMAL_PRECISION, DECIMAL_SCALE as i8)?;
    Ok(Arc::new(arr))
}

pub(super) fn timestamps(values: impl Iterator<Item = Option<DateTime<Utc>>>) -> ArrayRef {
    Arc::new(
        TimestampMicrosecondArray::from_iter(values.map(|v| v.map(ts_micros))).with_timezone("UTC"),
    )
}

/// A list column from per-row lengths and the flattened values.
pub(super) fn list(lengths: Vec<usize>, values: ArrayRef) -> Result<ArrayRef> {
    let field = Arc::new(Field::new("item", values.data_type().clone(), true));
    Ok(Arc::new(ListArray::try_new(
        field,
        OffsetBuffer::from_lengths(lengths),
        values,
        None,
    )?))
}

/// Where a document is in the files of its ingest: the original file (its position among the
/// ingest's sources) and the byte range of the document in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocumentSpan {
    /// Position of the original file among the ingest's sources.
    pub original: u32,
    /// First byte of the document.
    pub offset: u64,
    /// Bytes of the document.
    pub length: u64,
}

/// A footprint together with where its document is.
#[derive(Debug, Clone)]
pub struct FootprintRecord<'a> {
    /// The validated footprint.
    pub footprint: Footprint<'a>,
    /// Where the footprint's JSON document, exactly as received, is.
    pub document: DocumentSpan,
    /// Where it came from (file name or upload), shared by the records of one source.
    pub source: Arc<str>,
}

impl FootprintRecord<'_> {
    /// The same record, owning its footprint's texts (to outlive the document's bytes).
    pub fn into_owned(self) -> FootprintRecord<'static> {
        FootprintRecord {
            footprint: self.footprint.into_owned(),
            document: self.document,
            source: self.source,
        }
    }
}

/// Most bytes of string data one batch may hold in one column. Arrow's `Utf8` arrays address
/// their bytes with `i32` offsets (2 GiB); a batch stays well below.
pub const BATCH_STRING_BYTES: u64 = 1 << 30;

/// Schema of `footprint_extensions`: every `extensions[]` entry as received.
pub fn extensions_schema() -> SchemaRef {
    static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            Field::new("footprint_id", DataType::Utf8, false),
            Field::new("footprint_version", DataType::Int32, true),
            Field::new("position", DataType::Int32, false),
            Field::new("spec_version", DataType::Utf8, false),
            Field::new("data_schema", DataType::Utf8, false),
            Field::new("documentation", DataType::Utf8, true),
            Field::new("kind", DataType::Utf8, false),
            Field::new("data_json", DataType::Utf8, false),
            Field::new("ingest_seq", DataType::Int64, false),
        ]))
    });
    SCHEMA.clone()
}
