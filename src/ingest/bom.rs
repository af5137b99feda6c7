//! Bill-of-materials input: the BOM CSV (`parent_product_id,child_product_id,amount,unit`)
//! and mieruka's BOM data model extension on a parent footprint
//! (`dataSchema` = [`BOM_EXTENSION_SCHEMA`](super::BOM_EXTENSION_SCHEMA)).
//!
//! An edge reads "one declared unit of the parent uses `amount` of the child, in the child's
//! declared unit unless `unit` says otherwise". Whether the products exist is checked by
//! `ingest` against the store, not here.

use serde_json::value::RawValue;

use super::json::{
    self, Checker, Diag, Lines, Ptr, Sign, check_urn, decimal_string, parse_decimal_text, pointer,
};
use super::pact_values::object;
use crate::model::{BomInput, DeclaredUnit};
use crate::table::graph_index::{Interner, Repeated};

/// The exact header a BOM CSV starts with.
pub const BOM_CSV_HEADER: &str = "parent_product_id,child_product_id,amount,unit";

/// One parsed CSV row: an edge or the problems that reject it.
pub(crate) struct CsvRow {
    /// 0-based row index (header excluded).
    pub index: usize,
    /// 1-based line number.
    pub line: usize,
    /// The edge, when the row is valid.
    pub edge: Option<(String, String, rust_decimal::Decimal, Option<DeclaredUnit>)>,
    /// Errors (the row is rejected when there are any).
    pub errors: Vec<Diag>,
    /// Whether the parent and the child have no footprint (stored or in the ingest): set by
    /// the intake beside the parsing.
    pub dangling: [bool; 2],
}

/// Sets which products of `rows` have no footprint, `known` holding those that have one.
/// Children, a different one on nearly every row, are looked up a group at a time; a BOM
/// lists a product's inputs together, so a parent is looked up once per run of rows.
pub(crate) fn mark_dangling(rows: &mut [CsvRow], known: &Interner) {
    let mut child = vec![false; rows.len()];
    known.get_many(
        rows.len(),
        |j| rows[j].edge.as_ref().map_or("", |e| e.1.as_str()),
        |j, n| child[j] = n.is_some(),
    );
    let mut parent = Repeated::default();
    for (row, child) in rows.iter_mut().zip(child) {
        if let Some((p, ..)) = &row.edge {
            row.dangling = [parent.get(p.as_str(), |p| !known.contains(p)), !child];
        }
    }
}

fn unit(s: &str) -> Result<Option<DeclaredUnit>, String> {
    if s.is_empty() {
        return Ok(None);
    }
    DeclaredUnit::from_pact(s).map(Some).ok_or_else(|| {
        let names: Vec<String> = DeclaredUnit::ALL
            .iter()
            .map(|u| format!("{:?}", u.as_str()))
            .collect();
        format!(
            "{s:?} is not a PACT declared unit ({}); leave it empty to mean the child's declared unit",
            names.join(", ")
        )
    })
}

/// The line a CSV record starts on. Line numbers come from byte offsets: the csv reader's own
/// count skips blank lines, and a record's offset is where the reader started, before any
/// blank lines it skipped. `lines` are those of the text the reader reads.
pub(crate) fn record_line(lines: &mut Lines, p: Option<&csv::Position>) -> usize {
    p.map_or(0, |p| {
        let start = p.byte() as usize;
        let skipped = lines.text().get(start..).map_or(0, |rest| {
            rest.iter()
                .take_while(|b| matches!(b, b'\n' | b'\r'))
                .count()
        });
        lines.line_of(start + skipped)
    })
}

/// The BOM CSV's fields, in [`BOM_CSV_HEADER`]'s order.
const BOM_CSV_FIELDS: [&str; 4] = ["parent_product_id", "child_product_id", "amount", "unit"];

/// The diagnostic of a CSV row the reader could not read. It names the field and says why,
/// and leaves out the reader's own record, line and byte: those count from the start of the
/// piece being parsed, not of the file (the row's index and line, counted from the file, are
/// given beside it).
pub(crate) fn csv_error(e: &csv::Error, fields: &[&str]) -> Diag {
    let (pointer, message) = match e.kind() {
        csv::ErrorKind::Utf8 { err, .. } => {
            let n = err.field();
            let (pointer, name) = match fields.get(n) {
                Some(name) => (format!("/{name}"), format!("field {} ({name})", n + 1)),
                None => (String::new(), format!("field {}", n + 1)),
            };
            // Spreadsheets in Japan save CSV as Shift_JIS unless told otherwise.
            let message = format!(
                "{name} is not UTF-8 text (an invalid byte after {} valid ones); save the CSV as UTF-8 (in Excel: \"CSV UTF-8\")",
                err.valid_up_to()
            );
            (pointer, message)
        }
        // Not reachable from a byte slice with flexible records; worded in case it becomes so.
        _ => (String::new(), "unreadable CSV row".to_owned()),
    };
    Diag {
        pointer,
        message,
        offset: None,
    }
}

/// A reader of CSV `bytes` (after a header line when `header`) whose rows may differ in length
/// (a row's count of fields is checked, and reported, by its parser).
pub(crate) fn csv_reader(bytes: &[u8], header: bool) -> csv::Reader<&[u8]> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(header)
        .flexible(true)
        .from_reader(bytes);
    if header {
        // Read the header now: a record's UTF-8 error carries the reader's position from before
        // the record was read, and before the first one that is the header's (line 1), unless
        // the header has been read already. Reading a slice cannot fail.
        let _ = reader.byte_headers();
    }
    reader
}

/// Parses BOM CSV records: a whole file, whose first line is [`BOM_CSV_HEADER`], or, without
/// `header`, a piece of one. Rows are independent documents: a bad row is reported and the
/// others still load. Indexes and lines count from the start of `bytes`.
pub(crate) fn parse_csv(bytes: &[u8], header: bool) -> Vec<CsvRow> {
    let mut reader = csv_reader(bytes, header);
    // About a row a line: sized once, not doubled (and copied) a push at a time.
    let mut rows = Vec::with_capacity(memchr::memchr_iter(b'\n', bytes).count() + 1);
    let mut record = csv::StringRecord::new();
    let mut index = 0;
    let mut lines = Lines::new(bytes);
    let mut line_at = |p: Option<&csv::Position>| record_line(&mut lines, p);
    loop {
        let line = match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => line_at(record.position()),
            Err(e) => {
                let line = line_at(e.position());
                rows.push(CsvRow {
                    index,
                    line,
                    edge: None,
                    dangling: [false; 2],
                    errors: vec![csv_error(&e, &BOM_CSV_FIELDS)],
                });
                index += 1;
                // The csv reader cannot resume after an I/O-level error; UTF-8 errors are per
                // record, so keep going only for those.
                if matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) {
                    continue;
                }
                break;
            }
        };
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
        if record.iter().all(|f| f.trim().is_empty()) {
            continue; // blank line
        }
        if record.len() != 4 {
            err(
                "",
                format!(
                    "expected 4 fields ({BOM_CSV_HEADER}), found {}",
                    record.len()
                ),
            );
            rows.push(CsvRow {
                index,
                line,
                edge: None,
                errors,
                dangling: [false; 2],
            });
            index += 1;
            continue;
        }
        let parent = record[0].trim();
        let child = record[1].trim();
        if let Err(m) = check_urn(parent) {
            err("parent_product_id", m);
        }
        if let Err(m) = check_urn(child) {
            err("child_product_id", m);
        }
        if !parent.is_empty() && parent == child {
            err(
                "child_product_id",
                format!("self-loop: {parent} cannot be an input of itself"),
            );
        }
        let amount = match parse_decimal_text(record[2].trim()) {
            Ok(a) if a > rust_decimal::Decimal::ZERO => Some(a),
            Ok(a) => {
                err(
                    "amount",
                    format!("{a} is out of range: expected a value > 0"),
                );
                None
            }
            Err(m) => {
                err("amount", m);
                None
            }
        };
        let unit = match unit(record[3].trim()) {
            Ok(u) => Some(u),
            Err(m) => {
                err("unit", m);
                None
            }
        };
        let edge = match (amount, unit) {
            (Some(a), Some(u)) if errors.is_empty() => {
                Some((parent.to_owned(), child.to_owned(), a, u))
            }
            _ => None,
        };
        rows.push(CsvRow {
            index,
            line,
            edge,
            errors,
            dangling: [false; 2],
        });
        index += 1;
    }
    rows
}

/// Reads the `inputs` of a mieruka BOM extension at `ptr`.
pub(crate) fn extension_inputs(
    c: &mut Checker,
    data: &RawValue,
    ptr: &Ptr,
    own_product: Option<&str>,
) -> Option<Vec<BomInput>> {
    let entries = object(c, data, ptr)?;
    let before = c.errors.len();
    let mut inputs = None;
    for (k, v) in &entries.0 {
        match k.as_ref() {
            "inputs" => {
                let here = ptr.key(k);
                match c.array(v) {
                    Ok(items) => {
                        let mut out = Vec::with_capacity(items.len());
                        for (i, item) in items.iter().enumerate() {
                            if let Some(input) = input(c, item, &here.index(i), own_product) {
                                out.push(input);
                            }
                        }
                        inputs = Some(out);
                    }
                    Err(m) => c.error(Some(v), here.get(), m),
                }
            }
            _ => c.warn(
                Some(v),
                pointer(ptr, k),
                "unknown property of the mieruka BOM extension, ignored",
            ),
        }
    }
    if inputs.is_none() && !entries.0.iter().any(|(k, _)| k == "inputs") {
        c.error(None, pointer(ptr, "inputs"), "missing required property");
    }
    (c.errors.len() == before).then(|| inputs.unwrap_or_default())
}

fn input(c: &mut Checker, raw: &RawValue, p: &Ptr, own_product: Option<&str>) -> Option<BomInput> {
    let entries = object(c, raw, p)?;
    let (mut product, mut amount, mut unit_v) = (None, None, None);
    for (k, v) in &entries.0 {
        let here = || pointer(p, k);
        match k.as_ref() {
            "productId" => match json::string(v).and_then(|s| check_urn(&s).map(|()| s)) {
                Ok(s) if Some(s.as_ref()) == own_product => c.error(
                    Some(v),
                    here(),
                    format!("self-loop: {s} cannot be an input of itself"),
                ),
                Ok(s) => product = Some(s.into_owned()),
                Err(m) => c.error(Some(v), here(), m),
            },
            "amount" => match decimal_string(v, Sign::Positive) {
                Ok(a) => amount = Some(a),
                Err(m) => c.error(Some(v), here(), m),
            },
            "unit" => match json::string(v).and_then(|s| unit(&s)) {
                Ok(u) => unit_v = u,
                Err(m) => c.error(Some(v), here(), m),
            },
            "note" => {}
            _ => c.warn(Some(v), here(), "unknown property, ignored"),
        }
    }
    for (key, present) in [
        ("productId", product.is_some()),
        ("amount", amount.is_some()),
    ] {
        if !present && !entries.0.iter().any(|(k, _)| k == key) {
            c.error(None, pointer(p, key), "missing required property");
        }
    }
    Some(BomInput {
        product_id: product?,
        amount: amount?,
        unit: unit_v,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_lines_count_blank_lines() {
        let text = format!("{BOM_CSV_HEADER}\nurn:a:1,urn:a:2,1,\n\nurn:a:1,urn:a:3,2,\n");
        let rows = parse_csv(text.as_bytes(), true);
        let lines: Vec<usize> = rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, [2, 4]);
        let indexes: Vec<usize> = rows.iter().map(|r| r.index).collect();
        assert_eq!(indexes, [0, 1]);
    }

    #[test]
    fn a_row_that_is_not_utf8_names_its_field_not_the_readers_position() {
        // Row 2 (line 3) has 0xFF as the third byte of its child: "ur" is valid, then 0xFF.
        let mut bytes = format!("{BOM_CSV_HEADER}\nurn:ab:1,urn:ab:2,1,\nurn:ab:1,ur").into_bytes();
        bytes.extend_from_slice(b"\xffn:a:3,2,\nurn:ab:1,urn:ab:4,3,\n");
        let rows = parse_csv(&bytes, true);
        assert_eq!(rows.len(), 3, "the bad row does not stop the others");
        let bad = &rows[1];
        assert_eq!((bad.index, bad.line), (1, 3));
        assert_eq!(bad.errors[0].pointer, "/child_product_id");
        assert_eq!(
            bad.errors[0].message,
            "field 2 (child_product_id) is not UTF-8 text (an invalid byte after 2 valid ones); \
             save the CSV as UTF-8 (in Excel: \"CSV UTF-8\")"
        );
        assert!(rows[2].errors.is_empty() && rows[2].line == 4);
        // A piece that does not start the file: the message is the same, with no position in it.
        let piece = &bytes[BOM_CSV_HEADER.len() + 1..];
        let rows = parse_csv(piece, false);
        assert_eq!(rows[1].errors[0].message, bad.errors[0].message);
    }
}
