//! The Arrow tables mieruka works on, their schemas, and the conversion of model values into
//! them: `footprints`, `footprint_extensions`, `bom` and `ingest_log`.
//!
//! Column names carry units (`_kgco2e_per_unit`, `_kg`, `_pct`). Every amount is
//! `Decimal128(38, 12)`, so sums over the demo data are exact. Derived views (which footprint
//! version is the latest, which BOM edge is current) and the hotspot graph index
//! ([`graph_index`]) are computed here from the stored rows. The only I/O is reading one
//! document's bytes from a kept original file when a document is asked for
//! ([`Tables::document`]); `store` does everything else with files.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, LazyLock};

use chrono::{DateTime, Utc};
use datafusion::arrow::array::{
    Array, ArrayRef, BooleanArray, Decimal128Array, Int32Array, Int64Array, ListArray, RecordBatch,
    StringArray, StringBuilder, StructArray, TimestampMicrosecondArray, UInt32Array,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::compute::take_record_batch;
use datafusion::arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use rust_decimal::Decimal;

pub mod graph_index;

use crate::model::{BomEdge, BomSource, Footprint};
use crate::{Error, Result};

/// Decimal places kept for every amount (the scale of the Arrow Decimal128 columns):
/// 1e-12 kgCO2e per declared unit. Ingest rounds more digits half-to-even; the original
/// document, kept by the store, still has them.
pub const DECIMAL_SCALE: u32 = 12;

/// Precision of every decimal column.
pub const DECIMAL_PRECISION: u8 = 38;

/// The Arrow type of every amount column.
pub fn decimal_type() -> DataType {
    DataType::Decimal128(DECIMAL_PRECISION, DECIMAL_SCALE as i8)
}

fn ts_type() -> DataType {
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
    Str(fn(&Footprint) -> Option<&str>),
    Dec(fn(&Footprint) -> Option<Decimal>),
    Bool(fn(&Footprint) -> Option<bool>),
    Ts(fn(&Footprint) -> Option<DateTime<Utc>>),
    I32(fn(&Footprint) -> Option<i32>),
    StrList(fn(&Footprint) -> &[String]),
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

fn gxd_str(f: &Footprint, get: fn(&crate::model::Gxd) -> Option<&str>) -> Option<&str> {
    f.gxd.as_ref().and_then(get)
}

fn gxd_dec(f: &Footprint, get: fn(&crate::model::Gxd) -> Option<Decimal>) -> Option<Decimal> {
    f.gxd.as_ref().and_then(get)
}

fn dqi(f: &Footprint, get: fn(&crate::model::Dqi) -> Option<Decimal>) -> Option<Decimal> {
    f.pcf.dqi.as_ref().and_then(get)
}

fn assurance_str(f: &Footprint, get: fn(&crate::model::Assurance) -> Option<&str>) -> Option<&str> {
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
            Str(|f| f.company_ids.first().map(String::as_str)),
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
            Dec(|f| Some(f.pcf.unitary_product_amount)),
        ),
        (
            "product_mass_per_declared_unit_kg",
            true,
            Dec(|f| f.pcf.product_mass_per_declared_unit_kg),
        ),
        (
            "pcf_excluding_biogenic_kgco2e_per_unit",
            false,
            Dec(|f| Some(f.pcf.pcf_excluding_biogenic_kgco2e_per_unit)),
        ),
        (
            "pcf_including_biogenic_kgco2e_per_unit",
            true,
            Dec(|f| f.pcf.pcf_including_biogenic_kgco2e_per_unit),
        ),
        (
            "fossil_ghg_emissions_kgco2e_per_unit",
            true,
            Dec(|f| f.pcf.fossil_ghg_emissions_kgco2e_per_unit),
        ),
        (
            "fossil_carbon_content_kgc_per_unit",
            true,
            Dec(|f| f.pcf.fossil_carbon_content_kgc_per_unit),
        ),
        (
            "biogenic_carbon_content_kgc_per_unit",
            true,
            Dec(|f| f.pcf.biogenic_carbon_content_kgc_per_unit),
        ),
        (
            "dluc_ghg_emissions_kgco2e_per_unit",
            true,
            Dec(|f| f.pcf.dluc_ghg_emissions_kgco2e_per_unit),
        ),
        (
            "land_management_ghg_emissions_kgco2e_per_unit",
            true,
            Dec(|f| f.pcf.land_management_ghg_emissions_kgco2e_per_unit),
        ),
        (
            "other_biogenic_ghg_emissions_kgco2e_per_unit",
            true,
            Dec(|f| f.pcf.other_biogenic_ghg_emissions_kgco2e_per_unit),
        ),
        (
            "iluc_ghg_emissions_kgco2e_per_unit",
            true,
            Dec(|f| f.pcf.iluc_ghg_emissions_kgco2e_per_unit),
        ),
        (
            "biogenic_carbon_withdrawal_kgco2e_per_unit",
            true,
            Dec(|f| f.pcf.biogenic_carbon_withdrawal_kgco2e_per_unit),
        ),
        (
            "aircraft_ghg_emissions_kgco2e_per_unit",
            true,
            Dec(|f| f.pcf.aircraft_ghg_emissions_kgco2e_per_unit),
        ),
        (
            "packaging_emissions_included",
            true,
            Bool(|f| f.pcf.packaging_emissions_included),
        ),
        (
            "packaging_ghg_emissions_kgco2e_per_unit",
            true,
            Dec(|f| f.pcf.packaging_ghg_emissions_kgco2e_per_unit),
        ),
        (
            "recycled_carbon_content_kgc_per_unit",
            true,
            Dec(|f| f.pcf.recycled_carbon_content_kgc_per_unit),
        ),
        (
            "land_use_change_ghg_emissions_kgco2e_per_unit",
            true,
            Dec(|f| f.pcf.land_use_change_ghg_emissions_kgco2e_per_unit),
        ),
        (
            "land_carbon_leakage_kgco2e_per_unit",
            true,
            Dec(|f| f.pcf.land_carbon_leakage_kgco2e_per_unit),
        ),
        (
            "land_management_fossil_ghg_emissions_kgco2e_per_unit",
            true,
            Dec(|f| f.pcf.land_management_fossil_ghg_emissions_kgco2e_per_unit),
        ),
        (
            "land_management_biogenic_co2_emissions_kgco2e_per_unit",
            true,
            Dec(|f| f.pcf.land_management_biogenic_co2_emissions_kgco2e_per_unit),
        ),
        (
            "land_management_biogenic_co2_removals_kgco2e_per_unit",
            true,
            Dec(|f| f.pcf.land_management_biogenic_co2_removals_kgco2e_per_unit),
        ),
        (
            "biogenic_co2_uptake_kgco2e_per_unit",
            true,
            Dec(|f| f.pcf.biogenic_co2_uptake_kgco2e_per_unit),
        ),
        (
            "biogenic_non_co2_emissions_kgco2e_per_unit",
            true,
            Dec(|f| f.pcf.biogenic_non_co2_emissions_kgco2e_per_unit),
        ),
        (
            "land_area_occupation_m2yr_per_unit",
            true,
            Dec(|f| f.pcf.land_area_occupation_m2yr_per_unit),
        ),
        (
            "packaging_biogenic_carbon_content_kgc_per_unit",
            true,
            Dec(|f| f.pcf.packaging_biogenic_carbon_content_kgc_per_unit),
        ),
        (
            "outbound_logistics_ghg_emissions_kgco2e_per_unit",
            true,
            Dec(|f| f.pcf.outbound_logistics_ghg_emissions_kgco2e_per_unit),
        ),
        (
            "ccs_technological_co2_capture_included",
            true,
            Bool(|f| f.pcf.ccs_technological_co2_capture_included),
        ),
        (
            "ccs_technological_co2_capture_kgco2e_per_unit",
            true,
            Dec(|f| f.pcf.ccs_technological_co2_capture_kgco2e_per_unit),
        ),
        (
            "technological_co2_capture_origin",
            true,
            Str(|f| f.pcf.technological_co2_capture_origin.as_deref()),
        ),
        (
            "technological_co2_removals_kgco2e_per_unit",
            true,
            Dec(|f| f.pcf.technological_co2_removals_kgco2e_per_unit),
        ),
        (
            "ccu_carbon_content_kgc_per_unit",
            true,
            Dec(|f| f.pcf.ccu_carbon_content_kgc_per_unit),
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
            Dec(|f| f.pcf.exempted_emissions_pct),
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
            Dec(|f| f.pcf.primary_data_share_pct),
        ),
        (
            "dqi_coverage_pct",
            true,
            Dec(|f| dqi(f, |d| d.coverage_pct)),
        ),
        (
            "dqi_technological_dqr",
            true,
            Dec(|f| dqi(f, |d| d.technological_dqr)),
        ),
        (
            "dqi_temporal_dqr",
            true,
            Dec(|f| dqi(f, |d| d.temporal_dqr)),
        ),
        (
            "dqi_geographical_dqr",
            true,
            Dec(|f| dqi(f, |d| d.geographical_dqr)),
        ),
        (
            "dqi_completeness_dqr",
            true,
            Dec(|f| dqi(f, |d| d.completeness_dqr)),
        ),
        (
            "dqi_reliability_dqr",
            true,
            Dec(|f| dqi(f, |d| d.reliability_dqr)),
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
            Dec(|f| gxd_dec(f, |g| g.g2g_fossil_ghg_emissions_kgco2e_per_unit)),
        ),
        (
            "gxd_g2g_biogenic_kgco2e_per_unit",
            true,
            Dec(|f| gxd_dec(f, |g| g.g2g_biogenic_carbon_content_kgco2e_per_unit)),
        ),
        (
            "gxd_unitary_product_amount_comment",
            true,
            Str(|f| gxd_str(f, |g| g.unitary_product_amount_comment.as_deref())),
        ),
        (
            "gxd_upstream_kgco2e_per_unit",
            true,
            Dec(|f| gxd_dec(f, |g| g.upstream_emissions_kgco2e_per_unit)),
        ),
        (
            "gxd_credit_kgco2e_per_unit",
            true,
            Dec(|f| gxd_dec(f, |g| g.credit_amount_kgco2e_per_unit)),
        ),
        (
            "gxd_certificate_kgco2e_per_unit",
            true,
            Dec(|f| gxd_dec(f, |g| g.certificate_amount_kgco2e_per_unit)),
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

/// Converts a decimal to the `i128` of a `Decimal128(38, 12)` column. Ingest keeps every
/// amount at most 12 places and below 10^16, so this is exact.
pub fn decimal_to_i128(d: Decimal) -> i128 {
    let d = if d.scale() > DECIMAL_SCALE {
        d.round_dp(DECIMAL_SCALE)
    } else {
        d
    };
    d.mantissa() * 10_i128.pow(DECIMAL_SCALE - d.scale())
}

/// Converts a stored `Decimal128(_, scale)` value back to a decimal. Stored amounts stay
/// below 10^16 at 12 places, which `rust_decimal` holds exactly; a value beyond its 96 bits
/// (only computed values can be: use `model::fixed` for those) saturates instead of
/// panicking.
pub fn i128_to_decimal(v: i128, scale: i8) -> Decimal {
    Decimal::try_from_i128_with_scale(v, scale.clamp(0, 28) as u32).unwrap_or(if v < 0 {
        Decimal::MIN
    } else {
        Decimal::MAX
    })
}

fn ts_micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// A string column built in one allocation (the values are walked twice: sizes, then bytes).
fn strings<'a, I>(values: I) -> ArrayRef
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

fn decimals(values: impl Iterator<Item = Option<Decimal>>) -> Result<ArrayRef> {
    let arr = Decimal128Array::from_iter(values.map(|v| v.map(decimal_to_i128)))
        .with_precision_and_scale(DECIMAL_PRECISION, DECIMAL_SCALE as i8)?;
    Ok(Arc::new(arr))
}

fn timestamps(values: impl Iterator<Item = Option<DateTime<Utc>>>) -> ArrayRef {
    Arc::new(
        TimestampMicrosecondArray::from_iter(values.map(|v| v.map(ts_micros))).with_timezone("UTC"),
    )
}

/// A list column from per-row lengths and the flattened values.
fn list(lengths: Vec<usize>, values: ArrayRef) -> Result<ArrayRef> {
    let field = Arc::new(Field::new("item", values.data_type().clone(), true));
    Ok(Arc::new(ListArray::try_new(
        field,
        OffsetBuffer::from_lengths(lengths),
        values,
        None,
    )?))
}

fn string_lists<'a>(rows: impl Iterator<Item = &'a [String]>) -> Result<ArrayRef> {
    let mut lengths = Vec::new();
    let mut values: Vec<&str> = Vec::new();
    for r in rows {
        lengths.push(r.len());
        values.extend(r.iter().map(String::as_str));
    }
    list(lengths, Arc::new(StringArray::from(values)))
}

fn rules_column(rows: &[&Footprint]) -> Result<ArrayRef> {
    let mut lengths = Vec::with_capacity(rows.len());
    let (mut operators, mut others) = (Vec::new(), Vec::new());
    let mut names: Vec<&[String]> = Vec::new();
    for f in rows {
        let rules = &f.pcf.product_or_sector_specific_rules;
        lengths.push(rules.len());
        for r in rules {
            operators.push(r.operator.as_str());
            others.push(r.other_operator_name.as_deref());
            names.push(&r.rule_names);
        }
    }
    let children: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(operators)),
        string_lists(names.into_iter())?,
        Arc::new(StringArray::from(others)),
    ];
    let values = StructArray::try_new(rule_fields(), children, None)?;
    list(lengths, Arc::new(values))
}

fn ef_column(rows: &[&Footprint]) -> Result<ArrayRef> {
    let mut lengths = Vec::with_capacity(rows.len());
    let (mut names, mut versions) = (Vec::new(), Vec::new());
    for f in rows {
        let sources = &f.pcf.secondary_emission_factor_sources;
        lengths.push(sources.len());
        for s in sources {
            names.push(s.name.as_str());
            versions.push(s.version.as_str());
        }
    }
    let children: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(names)),
        Arc::new(StringArray::from(versions)),
    ];
    let values = StructArray::try_new(ef_fields(), children, None)?;
    list(lengths, Arc::new(values))
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
pub struct FootprintRecord {
    /// The validated footprint.
    pub footprint: Footprint,
    /// Where the footprint's JSON document, exactly as received, is.
    pub document: DocumentSpan,
    /// Where it came from (file name or upload).
    pub source: String,
}

/// Most bytes of string data one batch may hold in one column. Arrow's `Utf8` arrays address
/// their bytes with `i32` offsets (2 GiB); a batch stays well below.
pub const BATCH_STRING_BYTES: u64 = 1 << 30;

/// Splits rows into batches of at most `max_rows` rows whose `weights` (an upper bound of the
/// string bytes a row adds to any one column) add up to at most `max_bytes`; a single row
/// heavier than that is a batch of its own.
pub fn batch_ranges(
    weights: &[u64],
    max_rows: usize,
    max_bytes: u64,
) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0u64);
    for (i, &w) in weights.iter().enumerate() {
        let full =
            i - start >= max_rows.max(1) || (i > start && bytes.saturating_add(w) > max_bytes);
        if full {
            out.push(start..i);
            start = i;
            bytes = 0;
        }
        bytes = bytes.saturating_add(w);
    }
    if start < weights.len() {
        out.push(start..weights.len());
    }
    out
}

/// Builds a `footprints` batch (stored schema) from records committed in ingest `seq`.
pub fn footprints_batch(records: &[FootprintRecord], seq: i64) -> Result<RecordBatch> {
    let rows: Vec<&Footprint> = records.iter().map(|r| &r.footprint).collect();
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(FOOTPRINT_COLUMNS.len() + 3);
    for (_, _, get) in FOOTPRINT_COLUMNS.iter() {
        let col: ArrayRef = match get {
            Get::Str(g) => strings(rows.iter().map(|f| g(f))),
            Get::Dec(g) => decimals(rows.iter().map(|f| g(f)))?,
            Get::Bool(g) => Arc::new(BooleanArray::from_iter(rows.iter().map(|f| g(f)))),
            Get::Ts(g) => timestamps(rows.iter().map(|f| g(f))),
            Get::I32(g) => Arc::new(Int32Array::from_iter(rows.iter().map(|f| g(f)))),
            Get::StrList(g) => string_lists(rows.iter().map(|f| g(f)))?,
            Get::Rules => rules_column(&rows)?,
            Get::EfSources => ef_column(&rows)?,
        };
        columns.push(col);
    }
    columns.push(Arc::new(Int32Array::from_iter_values(
        records.iter().map(|r| r.document.original as i32),
    )));
    columns.push(Arc::new(Int64Array::from_iter_values(
        records.iter().map(|r| r.document.offset as i64),
    )));
    columns.push(Arc::new(Int64Array::from_iter_values(
        records.iter().map(|r| r.document.length as i64),
    )));
    columns.push(strings(records.iter().map(|r| Some(r.source.as_str()))));
    columns.push(Arc::new(Int64Array::from(vec![seq; records.len()])));
    Ok(RecordBatch::try_new(footprints_stored_schema(), columns)?)
}

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

/// Builds a `footprint_extensions` batch.
pub fn extensions_batch(records: &[FootprintRecord], seq: i64) -> Result<RecordBatch> {
    let rows: Vec<(&Footprint, usize, &crate::model::Extension)> = records
        .iter()
        .flat_map(|r| {
            r.footprint
                .extensions
                .iter()
                .enumerate()
                .map(move |(i, e)| (&r.footprint, i, e))
        })
        .collect();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| r.0.id.as_str()),
        )),
        Arc::new(Int32Array::from_iter(rows.iter().map(|r| r.0.version))),
        Arc::new(Int32Array::from_iter_values(
            rows.iter().map(|r| r.1 as i32),
        )),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| r.2.spec_version.as_str()),
        )),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| r.2.data_schema.as_str()),
        )),
        Arc::new(StringArray::from_iter(
            rows.iter().map(|r| r.2.documentation.as_deref()),
        )),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| r.2.kind.as_str()),
        )),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| r.2.data_json.as_str()),
        )),
        Arc::new(Int64Array::from(vec![seq; rows.len()])),
    ];
    Ok(RecordBatch::try_new(extensions_schema(), columns)?)
}

/// Schema of `bom`: one row per edge.
pub fn bom_schema() -> SchemaRef {
    static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            Field::new("parent_product_id", DataType::Utf8, false),
            Field::new("child_product_id", DataType::Utf8, false),
            Field::new("amount", decimal_type(), false),
            Field::new("unit", DataType::Utf8, true),
            Field::new("parent_footprint_id", DataType::Utf8, true),
            Field::new("source_kind", DataType::Utf8, false),
            Field::new("source", DataType::Utf8, false),
            Field::new("line", DataType::Int64, true),
            Field::new("ingest_seq", DataType::Int64, false),
        ]))
    });
    SCHEMA.clone()
}

/// Builds a `bom` batch.
pub fn bom_batch(edges: &[BomEdge], seq: i64) -> Result<RecordBatch> {
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(
            edges.iter().map(|e| e.parent_product_id.as_str()),
        )),
        Arc::new(StringArray::from_iter_values(
            edges.iter().map(|e| e.child_product_id.as_str()),
        )),
        decimals(edges.iter().map(|e| Some(e.amount)))?,
        Arc::new(StringArray::from_iter(
            edges.iter().map(|e| e.unit.map(|u| u.as_str())),
        )),
        Arc::new(StringArray::from_iter(edges.iter().map(
            |e| match &e.source {
                BomSource::Extension { footprint_id } => Some(footprint_id.as_str()),
                BomSource::Csv { .. } => None,
            },
        ))),
        Arc::new(StringArray::from_iter_values(edges.iter().map(
            |e| match e.source {
                BomSource::Csv { .. } => "csv",
                BomSource::Extension { .. } => "extension",
            },
        ))),
        Arc::new(StringArray::from_iter_values(edges.iter().map(
            |e| match &e.source {
                BomSource::Csv { file, .. } => file.as_ref(),
                BomSource::Extension { footprint_id } => footprint_id.as_str(),
            },
        ))),
        Arc::new(Int64Array::from_iter(edges.iter().map(
            |e| match e.source {
                BomSource::Csv { line, .. } => Some(line as i64),
                BomSource::Extension { .. } => None,
            },
        ))),
        Arc::new(Int64Array::from(vec![seq; edges.len()])),
    ];
    Ok(RecordBatch::try_new(bom_schema(), columns)?)
}

/// One row of `ingest_log`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRow {
    /// File or upload the document came from (shared by its rows).
    pub source: Arc<str>,
    /// 0-based position of the document in its source.
    pub index: usize,
    /// 1-based line.
    pub line: usize,
    /// `accepted`, `duplicate`, `rejected` or `warning`.
    pub status: &'static str,
    /// `footprint` or `bom_edge`.
    pub kind: &'static str,
    /// The footprint concerned, when known.
    pub footprint_id: Option<String>,
    /// JSON pointer (or CSV column) of the problem.
    pub pointer: Option<String>,
    /// Message.
    pub message: Option<String>,
}

/// Schema of `ingest_log`: what each ingest accepted, skipped as duplicate, rejected or warned about.
pub fn ingest_log_schema() -> SchemaRef {
    static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            Field::new("ingest_seq", DataType::Int64, false),
            Field::new("ingested_at", ts_type(), false),
            Field::new("source", DataType::Utf8, false),
            Field::new("document_index", DataType::Int64, false),
            Field::new("line", DataType::Int64, false),
            Field::new("status", DataType::Utf8, false),
            Field::new("kind", DataType::Utf8, false),
            Field::new("footprint_id", DataType::Utf8, true),
            Field::new("pointer", DataType::Utf8, true),
            Field::new("message", DataType::Utf8, true),
        ]))
    });
    SCHEMA.clone()
}

/// Builds an `ingest_log` batch.
pub fn ingest_log_batch(rows: &[LogRow], seq: i64, at: DateTime<Utc>) -> Result<RecordBatch> {
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(vec![seq; rows.len()])),
        timestamps(rows.iter().map(|_| Some(at))),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| r.source.as_ref()),
        )),
        Arc::new(Int64Array::from_iter_values(
            rows.iter().map(|r| r.index as i64),
        )),
        Arc::new(Int64Array::from_iter_values(
            rows.iter().map(|r| r.line as i64),
        )),
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.status))),
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.kind))),
        Arc::new(StringArray::from_iter(
            rows.iter().map(|r| r.footprint_id.as_deref()),
        )),
        Arc::new(StringArray::from_iter(
            rows.iter().map(|r| r.pointer.as_deref()),
        )),
        Arc::new(StringArray::from_iter(
            rows.iter().map(|r| r.message.as_deref()),
        )),
    ];
    Ok(RecordBatch::try_new(ingest_log_schema(), columns)?)
}

/// GX attributes with where they came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GxRecord {
    /// The attributes.
    pub attributes: crate::model::GxAttributes,
    /// `csv` or `extension`.
    pub source_kind: &'static str,
    /// File name, or the id of the footprint carrying the extension.
    pub source: String,
    /// The footprint carrying the extension.
    pub footprint_id: Option<String>,
    /// CSV line.
    pub line: Option<usize>,
}

/// Schema of `gx_attributes`: one row per product and ingest.
pub fn gx_schema() -> SchemaRef {
    static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            Field::new("product_id", DataType::Utf8, false),
            Field::new("gx_declaration", DataType::Boolean, true),
            Field::new("progress_disclosed", DataType::Boolean, true),
            Field::new("publicly_disclosed", DataType::Boolean, true),
            Field::new("certified", DataType::Boolean, true),
            Field::new("circular_inflow_pct", decimal_type(), true),
            Field::new("circular_outflow_pct", decimal_type(), true),
            Field::new("aep_kgco2e_per_unit", decimal_type(), true),
            Field::new("additionality", DataType::Boolean, true),
            Field::new("national_target_contribution", DataType::Boolean, true),
            Field::new("support_measures", DataType::Boolean, true),
            Field::new("source_kind", DataType::Utf8, false),
            Field::new("source", DataType::Utf8, false),
            Field::new("footprint_id", DataType::Utf8, true),
            Field::new("line", DataType::Int64, true),
            Field::new("ingest_seq", DataType::Int64, false),
        ]))
    });
    SCHEMA.clone()
}

/// Builds a `gx_attributes` batch.
pub fn gx_batch(rows: &[GxRecord], seq: i64) -> Result<RecordBatch> {
    let a = |f: fn(&crate::model::GxAttributes) -> Option<bool>| -> ArrayRef {
        Arc::new(BooleanArray::from_iter(
            rows.iter().map(|r| f(&r.attributes)),
        ))
    };
    let columns: Vec<ArrayRef> = vec![
        strings(rows.iter().map(|r| Some(r.attributes.product_id.as_str()))),
        a(|x| x.gx_declaration),
        a(|x| x.progress_disclosed),
        a(|x| x.publicly_disclosed),
        a(|x| x.certified),
        decimals(rows.iter().map(|r| r.attributes.circular_inflow_pct))?,
        decimals(rows.iter().map(|r| r.attributes.circular_outflow_pct))?,
        decimals(rows.iter().map(|r| r.attributes.aep_kgco2e_per_unit))?,
        a(|x| x.additionality),
        a(|x| x.national_target_contribution),
        a(|x| x.support_measures),
        strings(rows.iter().map(|r| Some(r.source_kind))),
        strings(rows.iter().map(|r| Some(r.source.as_str()))),
        strings(rows.iter().map(|r| r.footprint_id.as_deref())),
        Arc::new(Int64Array::from_iter(
            rows.iter().map(|r| r.line.map(|l| l as i64)),
        )),
        Arc::new(Int64Array::from(vec![seq; rows.len()])),
    ];
    Ok(RecordBatch::try_new(gx_schema(), columns)?)
}

/// The current GX attributes per product: the last row stored for it.
pub fn current_gx_attributes(t: &Tables) -> Result<HashMap<String, crate::model::GxAttributes>> {
    let mut out = HashMap::new();
    for b in &t.gx_attributes {
        let bools: Vec<&BooleanArray> = [
            "gx_declaration",
            "progress_disclosed",
            "publicly_disclosed",
            "certified",
            "additionality",
            "national_target_contribution",
            "support_measures",
        ]
        .iter()
        .map(|n| column::<BooleanArray>(b, n))
        .collect::<Result<_>>()?;
        let decs: Vec<&Decimal128Array> = [
            "circular_inflow_pct",
            "circular_outflow_pct",
            "aep_kgco2e_per_unit",
        ]
        .iter()
        .map(|n| column::<Decimal128Array>(b, n))
        .collect::<Result<_>>()?;
        let products = column::<StringArray>(b, "product_id")?;
        for i in 0..b.num_rows() {
            let flag = |a: &BooleanArray| (!a.is_null(i)).then(|| a.value(i));
            let dec = |a: &Decimal128Array| {
                (!a.is_null(i)).then(|| i128_to_decimal(a.value(i), a.scale()).normalize())
            };
            out.insert(
                products.value(i).to_owned(),
                crate::model::GxAttributes {
                    product_id: products.value(i).to_owned(),
                    gx_declaration: flag(bools[0]),
                    progress_disclosed: flag(bools[1]),
                    publicly_disclosed: flag(bools[2]),
                    certified: flag(bools[3]),
                    circular_inflow_pct: dec(decs[0]),
                    circular_outflow_pct: dec(decs[1]),
                    aep_kgco2e_per_unit: dec(decs[2]),
                    additionality: flag(bools[4]),
                    national_target_contribution: flag(bools[5]),
                    support_measures: flag(bools[6]),
                },
            );
        }
    }
    Ok(out)
}

/// Reads documents from the originals of [`Tables`], keeping each file it opened.
#[derive(Debug)]
pub struct DocumentReader<'a> {
    tables: &'a Tables,
    open: HashMap<(i64, u32), std::fs::File>,
}

impl DocumentReader<'_> {
    /// The document of footprint row `row` of batch `batch`, exactly as received.
    pub fn footprint(&mut self, batch: usize, row: usize) -> Result<Vec<u8>> {
        let b = self
            .tables
            .footprints
            .get(batch)
            .filter(|b| row < b.num_rows())
            .ok_or_else(|| Error::Internal(format!("no footprint row {batch}/{row}")))?;
        let seq = column::<Int64Array>(b, "ingest_seq")?.value(row);
        let span = DocumentSpan {
            original: column::<Int32Array>(b, "document_original")?.value(row) as u32,
            offset: column::<Int64Array>(b, "document_offset")?.value(row) as u64,
            length: column::<Int64Array>(b, "document_length")?.value(row) as u64,
        };
        self.read(seq, span)
    }

    /// The bytes of `span` in the originals of ingest `seq`.
    pub fn read(&mut self, seq: i64, span: DocumentSpan) -> Result<Vec<u8>> {
        use std::io::{Read, Seek, SeekFrom};
        let original = self
            .tables
            .originals
            .0
            .get(&seq)
            .and_then(|o| o.get(span.original as usize))
            .ok_or_else(|| {
                Error::Internal(format!(
                    "ingest {seq} has no original file {} (damaged data directory?)",
                    span.original
                ))
            })?;
        let beyond = |len: u64| {
            Error::Internal(format!(
                "ingest {seq}: {} bytes at {} are beyond original file {} of {len} bytes (damaged data directory?)",
                span.length, span.offset, span.original
            ))
        };
        // The span comes from a stored table: check it before using it.
        let end = span.offset.checked_add(span.length);
        match original {
            Original::Bytes { bytes, .. } => {
                let range = end.and_then(|end| {
                    Some(usize::try_from(span.offset).ok()?..usize::try_from(end).ok()?)
                });
                range
                    .and_then(|r| bytes.get(r))
                    .map(<[u8]>::to_vec)
                    .ok_or_else(|| beyond(bytes.len() as u64))
            }
            Original::File(path) => {
                let io = |e: std::io::Error| Error::io(path, e);
                let f = match self.open.entry((seq, span.original)) {
                    std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
                    std::collections::hash_map::Entry::Vacant(v) => {
                        v.insert(std::fs::File::open(path).map_err(io)?)
                    }
                };
                let len = f.metadata().map_err(io)?.len();
                if end.is_none_or(|end| end > len) {
                    return Err(beyond(len));
                }
                f.seek(SeekFrom::Start(span.offset)).map_err(io)?;
                let mut out = vec![0; span.length as usize];
                f.read_exact(&mut out).map_err(io)?;
                Ok(out)
            }
        }
    }
}

/// One original file of an ingest: the bytes as received, in memory or in a data directory.
#[derive(Debug, Clone)]
pub enum Original {
    /// Held in memory (an ingest not committed to a directory, the bundled demo).
    Bytes {
        /// The name it was received under.
        name: String,
        /// The bytes as received.
        bytes: Arc<Vec<u8>>,
    },
    /// A file of a data directory.
    File(PathBuf),
}

/// The original files of every ingest, by ingest number, in source order.
#[derive(Debug, Clone, Default)]
pub struct Originals(pub BTreeMap<i64, Vec<Original>>);

/// Which stored tables to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableSet {
    /// `footprints` (and the views over it).
    pub footprints: bool,
    /// `footprint_extensions`.
    pub extensions: bool,
    /// `bom` and `bom_history`.
    pub bom: bool,
    /// `ingest_log`.
    pub ingest_log: bool,
    /// `gx_attributes`.
    pub gx_attributes: bool,
}

impl TableSet {
    /// Every table.
    pub const ALL: TableSet = TableSet {
        footprints: true,
        extensions: true,
        bom: true,
        ingest_log: true,
        gx_attributes: true,
    };

    /// No table.
    pub const NONE: TableSet = TableSet {
        footprints: false,
        extensions: false,
        bom: false,
        ingest_log: false,
        gx_attributes: false,
    };

    /// Adds the table a query names `name` (a registered table or view); `false` for a name
    /// that is not one.
    pub fn add(&mut self, name: &str) -> bool {
        match name {
            "footprints" | "footprints_latest" => self.footprints = true,
            "footprint_extensions" => self.extensions = true,
            "bom" | "bom_history" => self.bom = true,
            "ingest_log" => self.ingest_log = true,
            "gx_attributes" => self.gx_attributes = true,
            _ => return false,
        }
        true
    }
}

/// The stored rows of every table, as read from a data directory or built in memory.
///
/// Tables are kept as the batches they were stored in and never concatenated: one batch stays
/// below [`BATCH_STRING_BYTES`] per column, so no `Utf8` array can pass Arrow's 2 GiB offsets.
#[derive(Debug, Clone, Default)]
pub struct Tables {
    /// `footprints` batches (stored schema).
    pub footprints: Vec<RecordBatch>,
    /// `footprint_extensions` batches.
    pub footprint_extensions: Vec<RecordBatch>,
    /// `bom` batches, every edge ever stored.
    pub bom: Vec<RecordBatch>,
    /// `ingest_log` batches.
    pub ingest_log: Vec<RecordBatch>,
    /// `gx_attributes` batches, every row ever stored.
    pub gx_attributes: Vec<RecordBatch>,
    /// The documents as received, which `footprints` points into.
    pub originals: Originals,
}

fn column<'a, T: 'static>(batch: &'a RecordBatch, name: &str) -> Result<&'a T> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .ok_or_else(|| Error::Internal(format!("column {name} missing or of the wrong type")))
}

/// The batches, or one empty batch of `schema` when there are none (a table is never
/// registered without a batch).
fn or_empty(schema: &SchemaRef, batches: Vec<RecordBatch>) -> Vec<RecordBatch> {
    if batches.is_empty() {
        vec![RecordBatch::new_empty(schema.clone())]
    } else {
        batches
    }
}

/// The columns `names` of `batches` as one batch: for code that indexes rows across a whole
/// table. Only the named columns are joined, so the documents' large fields never are.
pub fn concat_columns(batches: &[RecordBatch], names: &[&str]) -> Result<RecordBatch> {
    let first = batches
        .first()
        .ok_or_else(|| Error::Internal("no batch to join".into()))?;
    let indices = names
        .iter()
        .map(|n| first.schema().index_of(n))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let projected = batches
        .iter()
        .map(|b| b.project(&indices))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let schema = first.schema().project(&indices)?;
    Ok(datafusion::arrow::compute::concat_batches(
        &Arc::new(schema),
        &projected,
    )?)
}

/// Whether two schemas have the same column names and types, in order (what reading a stored
/// table back requires; nullability and metadata may differ).
pub fn same_columns(a: &SchemaRef, b: &SchemaRef) -> bool {
    a.fields().len() == b.fields().len()
        && a.fields()
            .iter()
            .zip(b.fields())
            .all(|(a, b)| a.name() == b.name() && a.data_type() == b.data_type())
}

/// The last row of each key (batches and rows are in ingest order, so the latest stored),
/// batch by batch; `keys` gives a batch's key per row. Batches with no superseded row are
/// returned as they are.
///
/// Millions of string keys would make a hash map of them as large as the table, so rows are
/// sorted by their key's hash instead (16 bytes a row), and only rows whose hash another row
/// shares have their keys compared: exact, whatever the hash.
fn keep_last<'a, K: std::hash::Hash + Eq>(
    batches: &'a [RecordBatch],
    schema: &SchemaRef,
    keys: impl Fn(&'a RecordBatch) -> Result<Vec<K>>,
) -> Result<Vec<RecordBatch>> {
    use rayon::slice::ParallelSliceMut;
    let state = ahash::RandomState::new();
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let mut hashed: Vec<(u64, u32, u32)> = Vec::with_capacity(rows);
    for (bi, b) in batches.iter().enumerate() {
        for (i, k) in keys(b)?.iter().enumerate() {
            hashed.push((state.hash_one(k), bi as u32, i as u32));
        }
    }
    hashed.par_sort_unstable();
    // Rows sharing a hash, in runs: (batch, row) in stored order.
    let mut runs: Vec<&[(u64, u32, u32)]> = Vec::new();
    for run in hashed.chunk_by(|a, b| a.0 == b.0) {
        if run.len() > 1 {
            runs.push(run);
        }
    }
    if runs.is_empty() {
        return Ok(or_empty(schema, batches.to_vec()));
    }
    // The keys of those rows only.
    let mut wanted: Vec<Vec<u32>> = vec![Vec::new(); batches.len()];
    for run in &runs {
        for &(_, b, i) in *run {
            wanted[b as usize].push(i);
        }
    }
    let mut key_of: HashMap<(u32, u32), K> = HashMap::new();
    for (bi, rows) in wanted.iter().enumerate() {
        if rows.is_empty() {
            continue;
        }
        let mut ks: Vec<Option<K>> = keys(&batches[bi])?.into_iter().map(Some).collect();
        for &i in rows {
            if let Some(k) = ks.get_mut(i as usize).and_then(Option::take) {
                key_of.insert((bi as u32, i), k);
            }
        }
    }
    let mut dropped: Vec<Vec<u32>> = vec![Vec::new(); batches.len()];
    for run in runs {
        for (n, &(_, b, i)) in run.iter().enumerate() {
            let k = key_of.get(&(b, i));
            let later = run[n + 1..]
                .iter()
                .any(|&(_, b2, i2)| k.is_some() && key_of.get(&(b2, i2)) == k);
            if later {
                dropped[b as usize].push(i);
            }
        }
    }
    let mut out = Vec::with_capacity(batches.len());
    for (b, mut d) in batches.iter().zip(dropped) {
        if d.is_empty() {
            out.push(b.clone());
            continue;
        }
        d.sort_unstable();
        let keep: Vec<u32> = (0..b.num_rows() as u32)
            .filter(|i| d.binary_search(i).is_err())
            .collect();
        if !keep.is_empty() {
            out.push(take_record_batch(b, &UInt32Array::from(keep))?);
        }
    }
    Ok(or_empty(schema, out))
}

impl Tables {
    /// The document of footprint row `row` of batch `batch` of `footprints`, exactly as
    /// received.
    pub fn footprint_document(&self, batch: usize, row: usize) -> Result<Vec<u8>> {
        self.documents().footprint(batch, row)
    }

    /// The bytes of `span` in the originals of ingest `seq`.
    pub fn document(&self, seq: i64, span: DocumentSpan) -> Result<Vec<u8>> {
        self.documents().read(seq, span)
    }

    /// A reader of many documents that opens each original file once.
    pub fn documents(&self) -> DocumentReader<'_> {
        DocumentReader {
            tables: self,
            open: HashMap::new(),
        }
    }

    /// Whether footprint row `(batch, row)` is the latest version, for every row: true unless
    /// a newer version of the same id exists, or another footprint names this one in
    /// `precedingPfIds` (PACT v3 gives each version a new id).
    pub fn latest_flags(&self) -> Result<Vec<BooleanArray>> {
        let rows: usize = self.footprints.iter().map(RecordBatch::num_rows).sum();
        let mut newest: HashMap<&str, i32, ahash::RandomState> =
            HashMap::with_capacity_and_hasher(rows, ahash::RandomState::new());
        let mut superseded: HashSet<&str, ahash::RandomState> = HashSet::default();
        let version = |versions: &Int32Array, i: usize| {
            if versions.is_null(i) {
                -1
            } else {
                versions.value(i)
            }
        };
        for b in &self.footprints {
            let ids = column::<StringArray>(b, "id")?;
            let versions = column::<Int32Array>(b, "version")?;
            let preceding = column::<ListArray>(b, "preceding_pf_ids")?;
            let names = preceding
                .values()
                .as_any()
                .downcast_ref::<StringArray>()
                .ok_or_else(|| Error::Internal("preceding_pf_ids is not a string list".into()))?;
            for i in 0..b.num_rows() {
                let e = newest.entry(ids.value(i)).or_insert(version(versions, i));
                *e = (*e).max(version(versions, i));
            }
            superseded.extend(names.iter().flatten());
        }
        self.footprints
            .iter()
            .map(|b| {
                let ids = column::<StringArray>(b, "id")?;
                let versions = column::<Int32Array>(b, "version")?;
                Ok(BooleanArray::from_iter((0..b.num_rows()).map(|i| {
                    let id = ids.value(i);
                    Some(newest.get(id) == Some(&version(versions, i)) && !superseded.contains(id))
                })))
            })
            .collect()
    }

    /// `footprints` as queried: every stored version plus `is_latest` (see
    /// [`Tables::latest_flags`]), batch by batch. Batches holding only some stored columns
    /// (read with projection) get `is_latest` all the same.
    pub fn footprints_view(&self) -> Result<Vec<RecordBatch>> {
        let flags = self.latest_flags()?;
        let batches = self
            .footprints
            .iter()
            .zip(flags)
            .map(|(b, latest)| {
                let mut fields = b.schema().fields().to_vec();
                fields.push(Arc::new(Field::new("is_latest", DataType::Boolean, false)));
                let mut columns = b.columns().to_vec();
                columns.push(Arc::new(latest));
                Ok(RecordBatch::try_new(
                    Arc::new(Schema::new(fields)),
                    columns,
                )?)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(or_empty(&footprints_schema(), batches))
    }

    /// `bom` as queried: the current edges. A CSV edge is replaced by a later CSV row for the
    /// same parent and child; extension edges belong to the footprint that declares them.
    /// Earlier edges stay in the data directory.
    pub fn bom_view(&self) -> Result<Vec<RecordBatch>> {
        keep_last(&self.bom, &bom_schema(), |b| {
            let parents = column::<StringArray>(b, "parent_product_id")?;
            let children = column::<StringArray>(b, "child_product_id")?;
            let footprints = column::<StringArray>(b, "parent_footprint_id")?;
            Ok((0..b.num_rows())
                .map(|i| {
                    let fp = (!footprints.is_null(i)).then(|| footprints.value(i));
                    (parents.value(i), children.value(i), fp)
                })
                .collect())
        })
    }

    /// `bom_history`: every stored edge.
    pub fn bom_history_view(&self) -> Vec<RecordBatch> {
        or_empty(&bom_schema(), self.bom.clone())
    }

    /// `footprint_extensions`, batch by batch.
    pub fn extensions_view(&self) -> Vec<RecordBatch> {
        or_empty(&extensions_schema(), self.footprint_extensions.clone())
    }

    /// `gx_attributes` as queried: the last row stored for each product.
    pub fn gx_view(&self) -> Result<Vec<RecordBatch>> {
        keep_last(&self.gx_attributes, &gx_schema(), |b| {
            let products = column::<StringArray>(b, "product_id")?;
            Ok((0..b.num_rows()).map(|i| products.value(i)).collect())
        })
    }

    /// `ingest_log`, batch by batch.
    pub fn ingest_log_view(&self) -> Vec<RecordBatch> {
        or_empty(&ingest_log_schema(), self.ingest_log.clone())
    }

    /// Adds the batches of `other` after these.
    pub fn append(&mut self, other: Tables) {
        self.footprints.extend(other.footprints);
        self.footprint_extensions.extend(other.footprint_extensions);
        self.bom.extend(other.bom);
        self.ingest_log.extend(other.ingest_log);
        self.gx_attributes.extend(other.gx_attributes);
        self.originals.0.extend(other.originals.0);
    }
}

impl Tables {
    /// The rows a supplier bound to `companies` may see: its own footprints (any of their
    /// `companyIds` in `companies`), their extensions, the BOM edges and GX attributes of
    /// their products, and the log rows about them.
    pub fn restrict_to_companies(&self, companies: &[String]) -> Result<Tables> {
        use datafusion::arrow::compute::filter_record_batch;

        let allowed: HashSet<&str> = companies.iter().map(String::as_str).collect();
        let mut ids: HashSet<String> = HashSet::new();
        let mut products: HashSet<String> = HashSet::new();
        let mut footprints = Vec::new();
        for b in &self.footprints {
            let company_ids = column::<ListArray>(b, "company_ids")?;
            let product_ids = column::<ListArray>(b, "product_ids")?;
            let id = column::<StringArray>(b, "id")?;
            let keep = BooleanArray::from_iter((0..b.num_rows()).map(|i| {
                let list = company_ids.value(i);
                let owned = list
                    .as_any()
                    .downcast_ref::<StringArray>()
                    .is_some_and(|s| s.iter().flatten().any(|c| allowed.contains(c)));
                if owned {
                    ids.insert(id.value(i).to_owned());
                    if let Some(p) = product_ids.value(i).as_any().downcast_ref::<StringArray>() {
                        products.extend(p.iter().flatten().map(str::to_owned));
                    }
                }
                Some(owned)
            }));
            footprints.push(filter_record_batch(b, &keep)?);
        }
        let by = |batches: &[RecordBatch],
                  keep: &dyn Fn(&RecordBatch, usize) -> Result<bool>|
         -> Result<Vec<RecordBatch>> {
            batches
                .iter()
                .map(|b| {
                    let mask = (0..b.num_rows())
                        .map(|i| keep(b, i).map(Some))
                        .collect::<Result<BooleanArray>>()?;
                    Ok(filter_record_batch(b, &mask)?)
                })
                .collect()
        };
        let text = |b: &RecordBatch, name: &str, i: usize| -> Result<Option<String>> {
            let c = column::<StringArray>(b, name)?;
            Ok((!c.is_null(i)).then(|| c.value(i).to_owned()))
        };
        Ok(Tables {
            footprints,
            footprint_extensions: by(&self.footprint_extensions, &|b, i| {
                Ok(text(b, "footprint_id", i)?.is_some_and(|f| ids.contains(&f)))
            })?,
            bom: by(&self.bom, &|b, i| {
                let by_footprint =
                    text(b, "parent_footprint_id", i)?.is_some_and(|f| ids.contains(&f));
                let by_product =
                    text(b, "parent_product_id", i)?.is_some_and(|p| products.contains(&p));
                Ok(by_footprint || by_product)
            })?,
            ingest_log: by(&self.ingest_log, &|b, i| {
                Ok(text(b, "footprint_id", i)?.is_some_and(|f| ids.contains(&f)))
            })?,
            gx_attributes: by(&self.gx_attributes, &|b, i| {
                Ok(text(b, "product_id", i)?.is_some_and(|p| products.contains(&p)))
            })?,
            originals: self.originals.clone(),
        })
    }
}

#[cfg(test)]
mod batch_tests {
    use super::*;

    #[test]
    fn batches_close_before_the_byte_limit() {
        // Weights 4, 4, 4 under a limit of 8: the third row would make 12, so it opens a batch.
        assert_eq!(batch_ranges(&[4, 4, 4], 10, 8), vec![0..2, 2..3]);
        // Exactly at the limit stays in.
        assert_eq!(batch_ranges(&[4, 4], 10, 8), vec![0..2]);
        // A row heavier than the limit is a batch of its own, never dropped or split.
        assert_eq!(batch_ranges(&[1, 20, 1], 10, 8), vec![0..1, 1..2, 2..3]);
        // The row limit.
        assert_eq!(batch_ranges(&[1; 5], 2, 100), vec![0..2, 2..4, 4..5]);
        assert!(batch_ranges(&[], 2, 100).is_empty());
        // At Arrow's real boundary: rows of 600 MiB each under BATCH_STRING_BYTES (1 GiB),
        // so no batch's strings come near 2 GiB.
        let mib = 1 << 20;
        let ranges = batch_ranges(&[600 * mib; 4], 8192, BATCH_STRING_BYTES);
        assert_eq!(ranges, vec![0..1, 1..2, 2..3, 3..4]);
        let ranges = batch_ranges(&[500 * mib; 4], 8192, BATCH_STRING_BYTES);
        assert_eq!(ranges, vec![0..2, 2..4]);
    }

    #[test]
    fn keep_last_keeps_the_last_row_of_each_key_and_leaves_clean_batches_alone() {
        let schema = Arc::new(Schema::new(vec![Field::new("k", DataType::Utf8, false)]));
        let batch = |keys: &[&str]| {
            RecordBatch::try_new(
                schema.clone(),
                vec![Arc::new(StringArray::from(keys.to_vec())) as ArrayRef],
            )
            .expect("batch")
        };
        let keys = |b: &RecordBatch| -> Result<Vec<String>> {
            let c = column::<StringArray>(b, "k")?;
            Ok(c.iter().flatten().map(str::to_owned).collect())
        };
        let kept = |batches: &[RecordBatch]| -> Vec<Vec<String>> {
            keep_last(batches, &schema, keys)
                .expect("keep")
                .iter()
                .map(|b| keys(b).expect("keys"))
                .collect()
        };
        // "a" twice in the first batch and again in the second; "c" only in the second
        // batch, twice; "b" and "d" once.
        let batches = [batch(&["a", "b", "a"]), batch(&["c", "a", "d", "c"])];
        assert_eq!(kept(&batches), [vec!["b"], vec!["a", "d", "c"]]);
        // Nothing superseded: the same batches, untouched.
        let clean = [batch(&["x", "y"]), batch(&["z"])];
        assert_eq!(
            keep_last(&clean, &schema, keys).expect("keep"),
            clean.to_vec()
        );
    }
}
