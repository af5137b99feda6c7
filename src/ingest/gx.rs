//! GX attributes of products — the facts a GX requirement sheet scores that a PACT footprint
//! does not carry (declarations, disclosures, circularity, avoided emissions, …): from a CSV
//! whose header is [`GX_CSV_HEADER`], or from mieruka's GX attributes extension on a
//! footprint (`dataSchema` [`GX_EXTENSION_SCHEMA`]). An empty CSV cell means "not known".

use rust_decimal::Decimal;
use serde_json::value::RawValue;

use super::json::{self, Checker, Diag, Lines, Ptr, check_urn, number_or_decimal_string, pointer};
use super::pact_values::object;
use crate::model::GxAttributes;

/// The exact header a GX attributes CSV starts with.
pub const GX_CSV_HEADER: &str = "product_id,gx_declaration,progress_disclosed,publicly_disclosed,certified,circular_inflow_pct,circular_outflow_pct,aep_kgco2e_per_unit,additionality,national_target_contribution,support_measures";

/// `dataSchema` of mieruka's GX attributes extension; its JSON Schema is
/// `src/schema/gx-attributes-extension.schema.json`.
pub const GX_EXTENSION_SCHEMA: &str = "urn:mieruka:data-model-extension:gx-attributes:1.0.0";

/// One parsed CSV row: attributes or the problems that reject it.
pub(crate) struct GxRow {
    /// 0-based row index (header excluded).
    pub index: usize,
    /// 1-based line number.
    pub line: usize,
    /// The attributes, when the row is valid.
    pub attributes: Option<GxAttributes>,
    /// Errors.
    pub errors: Vec<Diag>,
}

fn boolean(s: &str) -> Result<Option<bool>, String> {
    match s.trim() {
        "" => Ok(None),
        t if t.eq_ignore_ascii_case("true") => Ok(Some(true)),
        t if t.eq_ignore_ascii_case("false") => Ok(Some(false)),
        t => Err(format!(
            "{t:?} is not a boolean: write true or false, or leave the cell empty when not known"
        )),
    }
}

fn percent(d: Decimal) -> Result<Decimal, String> {
    if d < Decimal::ZERO || d > Decimal::ONE_HUNDRED {
        Err(format!(
            "{d} is out of range: expected a percentage from 0 to 100"
        ))
    } else {
        Ok(d)
    }
}

fn decimal(s: &str) -> Result<Option<Decimal>, String> {
    match s.trim() {
        "" => Ok(None),
        t => json::parse_decimal_text(t).map(Some),
    }
}

const FIELDS: [&str; 11] = [
    "product_id",
    "gx_declaration",
    "progress_disclosed",
    "publicly_disclosed",
    "certified",
    "circular_inflow_pct",
    "circular_outflow_pct",
    "aep_kgco2e_per_unit",
    "additionality",
    "national_target_contribution",
    "support_measures",
];

/// Parses a GX attributes CSV; each row stands alone.
pub(crate) fn parse_csv(bytes: &[u8], header: bool) -> Vec<GxRow> {
    let mut reader = super::bom::csv_reader(bytes, header);
    let mut lines = Lines::new(bytes);
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut index = 0;
    loop {
        let line = match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => super::bom::record_line(&mut lines, record.position()),
            Err(e) => {
                rows.push(GxRow {
                    index,
                    line: super::bom::record_line(&mut lines, e.position()),
                    attributes: None,
                    errors: vec![super::bom::csv_error(&e, &FIELDS)],
                });
                index += 1;
                continue;
            }
        };
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let mut errors = Vec::new();
        let mut err = |field: &str, message: String| {
            errors.push(Diag {
                pointer: if field.is_empty() {
                    String::new()
                } else {
                    format!("/{field}")
                },
                message,
                offset: None,
            })
        };
        if record.len() != FIELDS.len() {
            err(
                "",
                format!(
                    "expected {} fields ({GX_CSV_HEADER}), found {}",
                    FIELDS.len(),
                    record.len()
                ),
            );
            rows.push(GxRow {
                index,
                line,
                attributes: None,
                errors,
            });
            index += 1;
            continue;
        }
        let product = record[0].trim().to_owned();
        if let Err(m) = check_urn(&product) {
            err("product_id", m);
        }
        let mut flag = |i: usize| match boolean(&record[i]) {
            Ok(v) => v,
            Err(m) => {
                err(FIELDS[i], m);
                None
            }
        };
        let gx_declaration = flag(1);
        let progress_disclosed = flag(2);
        let publicly_disclosed = flag(3);
        let certified = flag(4);
        let additionality = flag(8);
        let national_target_contribution = flag(9);
        let support_measures = flag(10);
        let mut number = |i: usize, pct: bool| match decimal(&record[i]).and_then(|d| match d {
            Some(d) if pct => percent(d).map(Some),
            other => Ok(other),
        }) {
            Ok(v) => v,
            Err(m) => {
                err(FIELDS[i], m);
                None
            }
        };
        let circular_inflow_pct = number(5, true);
        let circular_outflow_pct = number(6, true);
        let aep_kgco2e_per_unit = number(7, false);
        let attributes = errors.is_empty().then_some(GxAttributes {
            product_id: product,
            gx_declaration,
            progress_disclosed,
            publicly_disclosed,
            certified,
            circular_inflow_pct,
            circular_outflow_pct,
            aep_kgco2e_per_unit,
            additionality,
            national_target_contribution,
            support_measures,
        });
        rows.push(GxRow {
            index,
            line,
            attributes,
            errors,
        });
        index += 1;
    }
    rows
}

/// Reads mieruka's GX attributes extension at `ptr` for `product`.
pub(crate) fn extension(
    c: &mut Checker,
    data: &RawValue,
    ptr: &Ptr,
    product: &str,
) -> Option<GxAttributes> {
    let entries = object(c, data, ptr)?;
    let before = c.errors.len();
    let mut a = GxAttributes {
        product_id: product.to_owned(),
        ..GxAttributes::default()
    };
    for (k, v) in &entries.0 {
        let here = || pointer(ptr, k);
        let flag = |c: &mut Checker| match json::boolean(v) {
            Ok(b) => Some(b),
            Err(m) => {
                c.error(Some(v), here(), m);
                None
            }
        };
        let number = |c: &mut Checker, pct: bool| match number_or_decimal_string(v)
            .and_then(|(d, _)| if pct { percent(d) } else { Ok(d) })
        {
            Ok(d) => Some(d),
            Err(m) => {
                c.error(Some(v), here(), m);
                None
            }
        };
        match k.as_ref() {
            "gxDeclaration" => a.gx_declaration = flag(c),
            "progressDisclosed" => a.progress_disclosed = flag(c),
            "publiclyDisclosed" => a.publicly_disclosed = flag(c),
            "certified" => a.certified = flag(c),
            "circularInflowPct" => a.circular_inflow_pct = number(c, true),
            "circularOutflowPct" => a.circular_outflow_pct = number(c, true),
            "aepKgco2ePerUnit" => a.aep_kgco2e_per_unit = number(c, false),
            "additionality" => a.additionality = flag(c),
            "nationalTargetContribution" => a.national_target_contribution = flag(c),
            "supportMeasures" => a.support_measures = flag(c),
            _ => c.warn(
                Some(v),
                here(),
                "unknown property of the mieruka GX attributes extension, ignored",
            ),
        }
    }
    (c.errors.len() == before).then_some(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_checked_one_by_one() {
        let text = format!(
            "{GX_CSV_HEADER}\n\
             urn:xx:a,true,FALSE,,true,12.5,,3.2,false,true,\n\
             urn:xx:b,yes,,,,,,,,,\n\
             urn:xx:c,,,,,120,,,,,\n\
             urn:xx:d,,,\n"
        );
        let rows = parse_csv(text.as_bytes(), true);
        assert_eq!(rows.len(), 4);
        let a = rows[0].attributes.as_ref().expect("row 0");
        assert_eq!(a.gx_declaration, Some(true));
        assert_eq!(a.progress_disclosed, Some(false));
        assert_eq!(a.publicly_disclosed, None);
        assert_eq!(a.circular_inflow_pct, Some(Decimal::new(125, 1)));
        assert_eq!(a.support_measures, None);
        assert_eq!(rows[1].errors[0].pointer, "/gx_declaration");
        assert_eq!(rows[2].errors[0].pointer, "/circular_inflow_pct");
        assert_eq!(rows[3].errors[0].pointer, "");
        assert_eq!(
            rows.iter().map(|r| r.line).collect::<Vec<_>>(),
            [2, 3, 4, 5]
        );
    }

    #[test]
    fn a_row_that_is_not_utf8_names_its_field() {
        // The support measures of row 0 end in a lone 0xE3 (a cut-off Japanese character).
        let mut bytes = format!("{GX_CSV_HEADER}\nurn:xx:a,,,,,,,,,,補助").into_bytes();
        bytes.extend_from_slice(b"\xe3\nurn:xx:b,true,,,,,,,,,\n");
        let rows = parse_csv(&bytes, true);
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].index, rows[0].line), (0, 2));
        assert_eq!(rows[0].errors[0].pointer, "/support_measures");
        // "補助" is 6 bytes of UTF-8; the lone 0xE3 follows them.
        assert_eq!(
            rows[0].errors[0].message,
            "field 11 (support_measures) is not UTF-8 text (an invalid byte after 6 valid ones); \
             save the CSV as UTF-8 (in Excel: \"CSV UTF-8\")"
        );
        assert!(rows[1].attributes.is_some());

        // The same row saved by a spreadsheet as Shift_JIS: "補助" is 0x95 0xE2 0x8F 0x95.
        let mut bytes = format!("{GX_CSV_HEADER}\nurn:xx:a,,,,,,,,,,").into_bytes();
        bytes.extend_from_slice(b"\x95\xe2\x8f\x95\n");
        let rows = parse_csv(&bytes, true);
        assert_eq!(rows[0].errors[0].pointer, "/support_measures");
        assert!(
            rows[0].errors[0].message.starts_with(
                "field 11 (support_measures) is not UTF-8 text (an invalid byte after 0 valid ones)"
            ),
            "{}",
            rows[0].errors[0].message
        );
    }
}
