//! Query results as text: an aligned table for terminals (East Asian wide characters count
//! as two columns), RFC 4180 CSV, and JSON (an array of objects).
//!
//! Decimals are written exactly, without trailing zeros, and as JSON *strings* so no reader
//! turns them into binary floats. Lists and structs become JSON in CSV and table cells.

mod readable;

pub(crate) use readable::grouped;
pub use readable::{cell as readable_cell, heading, significant};

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Date32Array, Decimal128Array, Float32Array,
    Float64Array, Int8Array, Int16Array, Int32Array, Int64Array, LargeStringArray, ListArray,
    RecordBatch, StringArray, StringViewArray, StructArray, TimestampMicrosecondArray,
    TimestampMillisecondArray, TimestampNanosecondArray, TimestampSecondArray, UInt8Array,
    UInt16Array, UInt32Array, UInt64Array,
};
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use serde_json::{Map, Value};
use unicode_width::UnicodeWidthStr;

use crate::escape;
use crate::model::fixed;
use crate::query::Output;

/// Output formats of the CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Aligned text table.
    Table,
    /// RFC 4180 CSV with a header row.
    Csv,
    /// A JSON array of objects.
    Json,
}

/// A decimal's text: `v` at `scale` places, exactly. A negative scale counts tens (12 at
/// scale −2 is 1200), as SQL may give.
fn decimal(v: i128, scale: i8) -> String {
    match u32::try_from(scale) {
        Ok(scale) => fixed::format(v, scale),
        Err(_) if v == 0 => "0".to_owned(),
        Err(_) => format!("{v}{}", "0".repeat(scale.unsigned_abs().into())),
    }
}

fn timestamp(micros: i64) -> String {
    DateTime::<Utc>::from_timestamp_micros(micros)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
        .unwrap_or_else(|| micros.to_string())
}

/// One cell as JSON. Decimals become strings; everything else its natural JSON type.
pub fn json_value(col: &ArrayRef, row: usize) -> Value {
    if col.is_null(row) {
        return Value::Null;
    }
    macro_rules! num {
        ($t:ty) => {
            if let Some(a) = col.as_any().downcast_ref::<$t>() {
                return Value::from(a.value(row));
            }
        };
    }
    num!(Int8Array);
    num!(Int16Array);
    num!(Int32Array);
    num!(Int64Array);
    num!(UInt8Array);
    num!(UInt16Array);
    num!(UInt32Array);
    num!(UInt64Array);
    if let Some(a) = col.as_any().downcast_ref::<Float64Array>() {
        return serde_json::Number::from_f64(a.value(row)).map_or(Value::Null, Value::Number);
    }
    if let Some(a) = col.as_any().downcast_ref::<Float32Array>() {
        return serde_json::Number::from_f64(a.value(row) as f64)
            .map_or(Value::Null, Value::Number);
    }
    if let Some(a) = col.as_any().downcast_ref::<BooleanArray>() {
        return Value::Bool(a.value(row));
    }
    if let Some(a) = col.as_any().downcast_ref::<Decimal128Array>() {
        return Value::String(decimal(a.value(row), a.scale()));
    }
    if let Some(a) = col.as_any().downcast_ref::<ListArray>() {
        let inner = a.value(row);
        return Value::Array((0..inner.len()).map(|i| json_value(&inner, i)).collect());
    }
    if let Some(a) = col.as_any().downcast_ref::<StructArray>() {
        let mut m = Map::new();
        for (f, c) in a.fields().iter().zip(a.columns()) {
            m.insert(f.name().clone(), json_value(c, row));
        }
        return Value::Object(m);
    }
    Value::String(text(col, row))
}

/// One cell as plain text (no quoting): what a table or CSV cell shows.
pub fn text(col: &ArrayRef, row: usize) -> String {
    if col.is_null(row) {
        return String::new();
    }
    let any = col.as_any();
    if let Some(a) = any.downcast_ref::<StringArray>() {
        return a.value(row).to_owned();
    }
    if let Some(a) = any.downcast_ref::<StringViewArray>() {
        return a.value(row).to_owned();
    }
    if let Some(a) = any.downcast_ref::<LargeStringArray>() {
        return a.value(row).to_owned();
    }
    if let Some(a) = any.downcast_ref::<Decimal128Array>() {
        return decimal(a.value(row), a.scale());
    }
    match col.data_type() {
        DataType::Timestamp(unit, _) => {
            let micros = match unit {
                TimeUnit::Second => col
                    .as_any()
                    .downcast_ref::<TimestampSecondArray>()
                    .and_then(|a| a.value(row).checked_mul(1_000_000)),
                TimeUnit::Millisecond => col
                    .as_any()
                    .downcast_ref::<TimestampMillisecondArray>()
                    .and_then(|a| a.value(row).checked_mul(1000)),
                TimeUnit::Microsecond => col
                    .as_any()
                    .downcast_ref::<TimestampMicrosecondArray>()
                    .map(|a| a.value(row)),
                TimeUnit::Nanosecond => col
                    .as_any()
                    .downcast_ref::<TimestampNanosecondArray>()
                    .map(|a| a.value(row) / 1000),
            };
            if let Some(m) = micros {
                return timestamp(m);
            }
        }
        DataType::Date32 => {
            if let Some(a) = any.downcast_ref::<Date32Array>() {
                // Days from 1970-01-01, either way; beyond the calendar's range, the number.
                return a
                    .value_as_date(row)
                    .map_or_else(|| a.value(row).to_string(), |d| d.to_string());
            }
        }
        DataType::List(_) | DataType::Struct(_) => return json_value(col, row).to_string(),
        DataType::Dictionary(_, _) => {
            let dict = col.as_any_dictionary();
            let keys = dict.normalized_keys();
            return text(dict.values(), keys[row]);
        }
        _ => {}
    }
    ArrayFormatter::try_new(col.as_ref(), &FormatOptions::default())
        .map(|f| f.value(row).to_string())
        .unwrap_or_else(|e| format!("<{e}>"))
}

/// Writes `out` as JSON: an array of objects, one per row.
pub fn to_json(out: &Output) -> String {
    let names: Vec<&String> = out.schema.fields().iter().map(|f| f.name()).collect();
    let mut rows = Vec::with_capacity(out.num_rows());
    for b in &out.batches {
        for r in 0..b.num_rows() {
            let mut m = Map::new();
            for (name, col) in names.iter().zip(b.columns()) {
                m.insert((*name).clone(), json_value(col, r));
            }
            rows.push(Value::Object(m));
        }
    }
    serde_json::to_string_pretty(&Value::Array(rows)).unwrap_or_default()
}

/// Writes `out` as CSV with a header row; a text a spreadsheet would run as a formula is
/// written as text ([`crate::escape::csv_field`]).
pub fn to_csv(out: &Output) -> String {
    let mut s = String::new();
    for (i, f) in out.schema.fields().iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        escape::csv_field(f.name(), &mut s);
    }
    s.push('\n');
    for b in &out.batches {
        for r in 0..b.num_rows() {
            for (i, col) in b.columns().iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                escape::csv_field(&text(col, r), &mut s);
            }
            s.push('\n');
        }
    }
    s
}

/// Longest cell shown in a table before it is cut with `…`.
const MAX_CELL_WIDTH: usize = 48;

fn clip(s: &str) -> String {
    let one_line = s.replace(['\n', '\r'], " ");
    if one_line.width() <= MAX_CELL_WIDTH {
        return one_line;
    }
    let mut out = String::new();
    for c in one_line.chars() {
        if out.width() + unicode_width::UnicodeWidthChar::width(c).unwrap_or(0) >= MAX_CELL_WIDTH {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

/// Writes `out` as an aligned text table for reading: numbers rounded and grouped (see
/// [`readable_cell`]) and right-aligned, units in the headers.
pub fn to_table(out: &Output) -> String {
    let fields = out.schema.fields();
    let numeric: Vec<bool> = fields.iter().map(|f| f.data_type().is_numeric()).collect();
    let mut cells: Vec<Vec<String>> = vec![fields.iter().map(|f| heading(f.name())).collect()];
    for b in &out.batches {
        for r in 0..b.num_rows() {
            cells.push(
                b.columns()
                    .iter()
                    .zip(fields.iter())
                    .map(|(c, f)| clip(&readable::cell(f.name(), c, r)))
                    .collect(),
            );
        }
    }
    let widths: Vec<usize> = (0..fields.len())
        .map(|i| cells.iter().map(|row| row[i].width()).max().unwrap_or(0))
        .collect();
    let mut s = String::new();
    for (n, row) in cells.iter().enumerate() {
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                s.push_str("  ");
            }
            let pad = widths[i] - cell.width();
            let last = i + 1 == row.len();
            if numeric[i] && n > 0 {
                s.push_str(&" ".repeat(pad));
                s.push_str(cell);
            } else {
                s.push_str(cell);
                if !last {
                    s.push_str(&" ".repeat(pad));
                }
            }
        }
        s.push('\n');
        if n == 0 {
            let total: usize = widths.iter().sum::<usize>() + 2 * widths.len().saturating_sub(1);
            let _ = writeln!(s, "{}", "─".repeat(total));
        }
    }
    let rows = cells.len() - 1;
    let _ = writeln!(s, "({rows} row{})", if rows == 1 { "" } else { "s" });
    s
}

/// Renders `out` in `format`.
pub fn render(out: &Output, format: Format) -> String {
    match format {
        Format::Table => to_table(out),
        Format::Csv => to_csv(out),
        Format::Json => to_json(out),
    }
}

/// Converts a whole result into owned JSON rows (for reports that embed query results).
pub fn rows_json(batches: &[RecordBatch]) -> Vec<Value> {
    let mut rows = Vec::new();
    for b in batches {
        let schema = b.schema();
        for r in 0..b.num_rows() {
            let mut m = Map::new();
            for (f, col) in schema.fields().iter().zip(b.columns()) {
                m.insert(f.name().clone(), json_value(col, r));
            }
            rows.push(Value::Object(m));
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::TimestampSecondArray;

    use super::*;

    #[test]
    fn cells_at_the_edges_of_their_types() {
        // Dates count days from 1970-01-01 either way: -3,653 days is 1960-01-01 (ten years
        // of 365 days and the leap days of 1960, 1964 and 1968). Beyond the calendar's
        // range (some ±262,000 years) the number of days is shown.
        let dates: ArrayRef = Arc::new(Date32Array::from(vec![-3653, 19724, i32::MAX]));
        assert_eq!(text(&dates, 0), "1960-01-01");
        assert_eq!(text(&dates, 1), "2024-01-02");
        assert_eq!(text(&dates, 2), i32::MAX.to_string());
        assert_eq!(json_value(&dates, 0), Value::from("1960-01-01"));
        // Seconds too large for microseconds are shown, not multiplied into a wrap.
        let seconds: ArrayRef = Arc::new(TimestampSecondArray::from(vec![i64::MAX, 0]));
        assert!(!text(&seconds, 0).is_empty());
        assert_eq!(text(&seconds, 1), "1970-01-01T00:00:00Z");
        // A negative scale counts tens: 12 at scale −2 is 1200.
        let tens: ArrayRef = Arc::new(
            Decimal128Array::from(vec![12, -5, 0])
                .with_precision_and_scale(10, -2)
                .expect("decimal"),
        );
        assert_eq!(text(&tens, 0), "1200");
        assert_eq!(text(&tens, 1), "-500");
        assert_eq!(text(&tens, 2), "0");
        assert_eq!(json_value(&tens, 0), Value::from("1200"));
    }
}
