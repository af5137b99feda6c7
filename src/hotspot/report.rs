//! A decomposition as the `hotspots` command shows it: the JSON contract, a text report,
//! CSV rows, and the top-N-plus-rest cut.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, Decimal128Array, Float64Array, RecordBatch, StringArray, UInt32Array,
    new_null_array,
};
use datafusion::arrow::compute::{concat, concat_batches, take};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use serde::Serialize;
use serde_json::{Value, json};

use super::{Decomposition, INPUT_SCALE, RawItem, Request, VALUE_SCALE, items_batch};
use crate::model::fixed;
use crate::output::{self, Format};
use crate::query::{Catalog, Output, Session};
use crate::{Error, Result};

/// How `--by` sums the items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    /// Per tier.
    Tier,
    /// Per supplier company.
    Supplier,
    /// Per footprint.
    Footprint,
    /// Per UN CPC code.
    Category,
    /// Per country.
    Country,
    /// Per kind.
    Kind,
}

impl By {
    /// Parses `tier`, `supplier`, `footprint`, `category`, `country` or `kind`.
    pub fn parse(s: &str) -> Option<By> {
        Some(match s {
            "tier" => By::Tier,
            "supplier" => By::Supplier,
            "footprint" => By::Footprint,
            "category" => By::Category,
            "country" => By::Country,
            "kind" => By::Kind,
            _ => return None,
        })
    }

    /// The catalog query that sums this way.
    pub fn query(self) -> &'static str {
        match self {
            By::Tier => "hotspot/by_tier",
            By::Supplier => "hotspot/by_supplier",
            By::Footprint => "hotspot/by_footprint",
            By::Category => "hotspot/by_category",
            By::Country => "hotspot/by_country",
            By::Kind => "hotspot/by_kind",
        }
    }
}

/// Decomposes `req` on `session` and returns it with the rows to show: `None` for the items
/// themselves (rendered straight from the decomposition), or their sums per `by`, or either
/// cut to the `top` largest plus a rest row.
pub async fn run(
    session: &Session,
    req: &Request,
    by: Option<By>,
    top: Option<usize>,
) -> Result<(Arc<Decomposition>, Option<Output>)> {
    let d = session.decompose(req)?;
    let Some(by) = by else {
        let rows = match top {
            Some(n) => Some(top_items(&d, n, d.cfp_kgco2e_per_unit)?),
            None => None,
        };
        return Ok((d, rows));
    };
    let catalog = Catalog::embedded()?;
    let args = vec![
        ("product".to_owned(), d.product.footprint_id.clone()),
        ("max_tier".to_owned(), req.max_tier.to_string()),
        ("min_share_pct".to_owned(), req.min_share_pct.to_string()),
        ("basis".to_owned(), req.basis.as_str().to_owned()),
        (
            "as_of".to_owned(),
            req.as_of.map(|d| d.to_string()).unwrap_or_default(),
        ),
    ];
    let rows = session.run(catalog.get(by.query())?, &args).await?;
    let rows = match top {
        Some(n) => top_n(&rows, n, d.cfp_kgco2e_per_unit)?,
        None => rows,
    };
    Ok((d, Some(rows)))
}

/// Columns of the item table, in display order.
const ITEM_COLUMNS: [&str; 11] = [
    "tier",
    "kind",
    "company_name",
    "product_name",
    "kgco2e",
    "share_pct",
    "footprint_id",
    "product_id",
    "company_id",
    "cpc",
    "country_code",
];

/// The items of `d` as a result table: all, or `rows` (some of them), in that order.
pub fn items_output(d: &Decomposition, rows: Option<&[RawItem]>) -> Result<Output> {
    let batch = items_batch(d, rows)?;
    let indices: Vec<usize> = ITEM_COLUMNS
        .iter()
        .map(|c| batch.schema().index_of(c))
        .collect::<std::result::Result<_, _>>()?;
    let batch = batch.project(&indices)?;
    Ok(Output {
        schema: batch.schema(),
        batches: vec![batch],
    })
}

/// The `n` rows with the largest `kgco2e`, then one `(rest)` row summing the others, so
/// the shares still add up to 100 %. `cfp` is at [`VALUE_SCALE`].
pub fn top_n(rows: &Output, n: usize, cfp: i128) -> Result<Output> {
    let schema = rows.schema.clone();
    let all = concat_batches(&schema, &rows.batches)?;
    let Ok(k) = schema.index_of("kgco2e") else {
        return Err(Error::Usage("--top needs rows with a kgco2e column".into()));
    };
    let values = all
        .column(k)
        .as_any()
        .downcast_ref::<Decimal128Array>()
        .ok_or_else(|| Error::Internal("kgco2e is not a decimal column".into()))?;
    let mut order: Vec<u32> = (0..all.num_rows() as u32).collect();
    order.sort_by_key(|i| std::cmp::Reverse(values.value(*i as usize)));
    if order.len() <= n {
        return Ok(rows.clone());
    }
    let (top, rest) = order.split_at(n);
    // The rest is part of a sum that fits the column, unless the rows do not sum to the CFP.
    let rest_sum = rest
        .iter()
        .try_fold(0_i128, |s, i| s.checked_add(values.value(*i as usize)));
    with_rest(&all, top, rest_sum, rest.len(), cfp)
}

/// The top items of `d`: as [`top_n`] over [`items_output`], labelling only the `n` shown.
fn top_items(d: &Decomposition, n: usize, cfp: i128) -> Result<Output> {
    let walked = d.items.walked();
    if walked.len() <= n {
        return items_output(d, None);
    }
    // Largest first, ties in item order (the order top_n's stable sort gives): by tier, kind
    // and footprint id, as equal values have equal magnitudes. So the items need not be put
    // in order first; ids are compared only on a tie.
    let graph = d.items.graph();
    let order = |a: &RawItem, b: &RawItem| {
        b.value
            .cmp(&a.value)
            .then((a.tier, a.kind).cmp(&(b.tier, b.kind)))
            .then_with(|| graph.id(a.node).cmp(graph.id(b.node)))
    };
    let mut ranked = walked.to_vec();
    if n > 0 {
        ranked.select_nth_unstable_by(n - 1, order);
        ranked[..n].sort_unstable_by(order);
    }
    let (top, rest) = ranked.split_at(n);
    let rest_sum = rest.iter().try_fold(0_i128, |s, i| s.checked_add(i.value));
    let shown = items_output(d, Some(top))?;
    let all = concat_batches(&shown.schema, &shown.batches)?;
    let head: Vec<u32> = (0..top.len() as u32).collect();
    with_rest(&all, &head, rest_sum, rest.len(), cfp)
}

/// Rows `top` of `all`, then one `(rest: N rows)` row of `rest_sum` (`None`: it overflowed).
fn with_rest(
    all: &RecordBatch,
    top: &[u32],
    rest_sum: Option<i128>,
    rest_rows: usize,
    cfp: i128,
) -> Result<Output> {
    let schema = all.schema();
    let k = schema
        .index_of("kgco2e")
        .map_err(|_| Error::Usage("--top needs rows with a kgco2e column".into()))?;
    let values = all
        .column(k)
        .as_any()
        .downcast_ref::<Decimal128Array>()
        .ok_or_else(|| Error::Internal("kgco2e is not a decimal column".into()))?;
    let scale = values.scale();
    let rest_sum = rest_sum
        .filter(|s| s.unsigned_abs() <= fixed::DECIMAL128_MAX.unsigned_abs())
        .ok_or_else(|| Error::Usage("--top: the rest of the rows is beyond range".into()))?;
    let label_col = schema
        .fields()
        .iter()
        .position(|f| f.name() != "kind" && matches!(f.data_type(), DataType::Utf8));

    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| f.as_ref().clone().with_nullable(true))
        .collect();
    let out_schema = Arc::new(Schema::new(fields));
    let top_idx = UInt32Array::from(top.to_vec());
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for (i, f) in schema.fields().iter().enumerate() {
        let head = take(all.column(i).as_ref(), &top_idx, None)?;
        let tail: ArrayRef = if i == k {
            Arc::new(
                Decimal128Array::from(vec![rest_sum])
                    .with_precision_and_scale(values.precision(), scale)?,
            )
        } else if f.name() == "share_pct" {
            let share = if cfp == 0 {
                0.0
            } else {
                fixed::to_f64(rest_sum, scale.max(0) as u32) / fixed::to_f64(cfp, VALUE_SCALE)
                    * 100.0
            };
            Arc::new(Float64Array::from(vec![share]))
        } else if Some(i) == label_col {
            Arc::new(StringArray::from(vec![format!("(rest: {rest_rows} rows)")]))
        } else {
            new_null_array(f.data_type(), 1)
        };
        columns.push(concat(&[head.as_ref(), tail.as_ref()])?);
    }
    let batch = RecordBatch::try_new(out_schema.clone(), columns)?;
    Ok(Output {
        schema: out_schema,
        batches: vec![batch],
    })
}

/// One item as the JSON contract shows it (keys in alphabetical order, as every object of
/// the contract has them).
#[derive(Serialize)]
struct ItemJson<'a> {
    company_id: &'a str,
    company_name: &'a str,
    country_code: Option<&'a str>,
    cpc: Option<&'a str>,
    footprint_id: &'a str,
    kgco2e: String,
    kind: &'a str,
    product_id: &'a str,
    product_name: &'a str,
    share_pct: f64,
    tier: u32,
}

/// The JSON contract, keys in alphabetical order.
#[derive(Serialize)]
struct Contract<'a, I: Serialize> {
    as_of: &'a str,
    basis: &'a str,
    certificate_kgco2e_per_unit: Option<String>,
    cfp_kgco2e_per_unit: String,
    findings: Value,
    items: I,
    product: Value,
    quality: Value,
}

/// Items labelled and read ahead at a time while an answer is written.
const LABEL_AHEAD: usize = 32;

/// The items of `d`, serialised one by one (no intermediate table or JSON tree: a product
/// of a million footprints has hundreds of thousands of items).
struct Items<'a>(&'a Decomposition);

impl Serialize for Items<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.0.items.len()))?;
        let items = &self.0.items;
        let mut block = Vec::with_capacity(LABEL_AHEAD);
        for raw in items.raw().chunks(LABEL_AHEAD) {
            // The labels of a large answer lie all over the graph's string columns: a few
            // items are labelled and their text read ahead, loads that overlap, before they
            // are written (writing reads the text byte by byte, one item after another).
            block.clear();
            block.extend(raw.iter().map(|r| items.labelled(r)));
            let first = |s: &str| s.as_bytes().first().copied().unwrap_or(0);
            std::hint::black_box(block.iter().fold(0u8, |x, i| {
                x ^ first(i.company_id)
                    ^ first(i.company_name)
                    ^ first(i.footprint_id)
                    ^ first(i.product_id)
                    ^ first(i.product_name)
                    ^ i.cpc.map_or(0, first)
                    ^ i.country.map_or(0, first)
            }));
            for i in block.drain(..) {
                seq.serialize_element(&ItemJson {
                    company_id: i.company_id,
                    company_name: i.company_name,
                    country_code: i.country,
                    cpc: i.cpc,
                    footprint_id: i.footprint_id,
                    kgco2e: fixed::format(i.kgco2e, VALUE_SCALE),
                    kind: i.kind.as_str(),
                    product_id: i.product_id,
                    product_name: i.product_name,
                    share_pct: i.share_pct,
                    tier: i.tier,
                })?;
            }
        }
        seq.end()
    }
}

fn contract<I: Serialize>(d: &Decomposition, items: I) -> Contract<'_, I> {
    let value = |v: std::result::Result<Value, serde_json::Error>| {
        v.unwrap_or_else(|e| json!({"error": e.to_string()}))
    };
    Contract {
        as_of: &d.as_of,
        basis: d.basis.as_str(),
        certificate_kgco2e_per_unit: d
            .certificate_kgco2e_per_unit
            .map(|c| fixed::format(c, INPUT_SCALE)),
        cfp_kgco2e_per_unit: fixed::format(d.cfp_kgco2e_per_unit, VALUE_SCALE),
        findings: value(serde_json::to_value(&d.findings)),
        items,
        product: value(serde_json::to_value(&d.product)),
        quality: value(serde_json::to_value(&d.quality)),
    }
}

/// The JSON contract: the root, its CFP, the basis, the rows as `items` (the items of `d`
/// when `rows` is `None`), findings, quality; pretty-printed or compact.
pub fn to_json(d: &Decomposition, rows: Option<&Output>, pretty: bool) -> Vec<u8> {
    // About 300 bytes an item: sized once rather than doubled while a large answer grows.
    let capacity = 300 * (d.items.len() + d.findings.len() + 16);
    match rows {
        None => json_bytes(&contract(d, Items(d)), pretty, capacity),
        Some(rows) => json_bytes(&contract(d, output::rows_json(&rows.batches)), pretty, 4096),
    }
}

fn json_bytes<T: Serialize>(v: &T, pretty: bool, capacity: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(capacity);
    let written = if pretty {
        serde_json::to_writer_pretty(&mut out, v)
    } else {
        serde_json::to_writer(&mut out, v)
    };
    match written {
        Ok(()) => out,
        Err(e) => json!({ "error": e.to_string() }).to_string().into_bytes(),
    }
}

fn fmt_pct(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{v:.1} %"))
}

fn fmt_num(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{v:.2}"))
}

/// A text report: header, the rows, findings and quality.
pub fn to_text(d: &Decomposition, rows: &Output) -> String {
    let p = &d.product;
    let unit = p.declared_unit.as_deref().unwrap_or("declared unit");
    let mut s = format!(
        "{} — {}\nfootprint {} ({}..{}), resolved as of {}\nCFP {} kgCO2e per {unit} ({})",
        p.product_name,
        p.company_name,
        p.footprint_id,
        p.reference_period_start,
        p.reference_period_end,
        d.as_of,
        fixed::format(d.cfp_kgco2e_per_unit, VALUE_SCALE),
        d.basis.as_str(),
    );
    if let Some(c) = d.certificate_kgco2e_per_unit {
        s.push_str(&format!(
            "; certificates declared beside it: {} kgCO2e (not netted)",
            fixed::format(c, INPUT_SCALE)
        ));
    }
    s.push_str("\n\n");
    s.push_str(&output::to_table(rows));
    let q = &d.quality;
    s.push_str(&format!(
        "\nquality: primary-data coverage {}, weighted PDS {}, DQRs (1–5) technological {} temporal {} geographical {}; organization-based {}, untraced {}, unresolved {}, beyond cut-off {}, mismatch {}; {} footprints to tier {}\n",
        fmt_pct(Some(q.primary_data_coverage_pct)),
        fmt_pct(q.weighted_pds_pct),
        fmt_num(q.weighted_technological_dqr),
        fmt_num(q.weighted_temporal_dqr),
        fmt_num(q.weighted_geographical_dqr),
        fmt_pct(Some(q.organization_based_pct)),
        fmt_pct(Some(q.untraced_pct)),
        fmt_pct(Some(q.unresolved_pct)),
        fmt_pct(Some(q.beyond_cutoff_pct)),
        fmt_pct(Some(q.mismatch_pct)),
        q.footprints_reached,
        q.deepest_tier,
    ));
    if !d.findings.is_empty() {
        s.push_str(&format!("\n{} findings:\n", d.findings.len()));
        for f in &d.findings {
            s.push_str(&format!("  [{}] {}\n", f.kind, f.message));
        }
    }
    s
}

/// Writes a decomposition in `format` to `w` (CSV holds only the rows; `None` rows are the
/// items). JSON is written as it is serialised, so no copy of a large answer is held.
pub fn write(
    d: &Decomposition,
    rows: Option<&Output>,
    format: Format,
    w: &mut dyn std::io::Write,
) -> Result<()> {
    let io = |e: std::io::Error| Error::io("(output)", e);
    fn json<T: Serialize>(w: &mut dyn std::io::Write, v: &T) -> Result<()> {
        use std::io::Write as _;
        let io = |e: std::io::Error| Error::io("(output)", e);
        // A buffer of a concrete type in front of `w`: the serialiser's many small writes
        // are then copies into it rather than calls through `dyn Write` (a third of a large
        // answer's time otherwise).
        let mut b = std::io::BufWriter::with_capacity(1 << 16, &mut *w);
        serde_json::to_writer_pretty(&mut b, v).map_err(|e| io(e.into()))?;
        b.write_all(b"\n").map_err(io)?;
        b.flush().map_err(io)
    }
    let items;
    let rows = match (rows, format) {
        (None, Format::Json) => return json(w, &contract(d, Items(d))),
        (Some(r), _) => r,
        (None, _) => {
            items = items_output(d, None)?;
            &items
        }
    };
    match format {
        Format::Json => json(w, &contract(d, output::rows_json(&rows.batches))),
        Format::Csv => w.write_all(output::to_csv(rows).as_bytes()).map_err(io),
        Format::Table => w.write_all(to_text(d, rows).as_bytes()).map_err(io),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_n_keeps_the_sum() {
        let values = Decimal128Array::from(vec![100_i128, 500, -50, 300])
            .with_precision_and_scale(38, 2)
            .unwrap();
        let names = StringArray::from(vec!["a", "b", "c", "d"]);
        let schema = Arc::new(Schema::new(vec![
            Field::new("name", DataType::Utf8, false),
            Field::new("kgco2e", DataType::Decimal128(38, 2), false),
        ]));
        let batch =
            RecordBatch::try_new(schema.clone(), vec![Arc::new(names), Arc::new(values)]).unwrap();
        let out = top_n(
            &Output {
                schema,
                batches: vec![batch],
            },
            2,
            // 8.50 at VALUE_SCALE.
            850 * fixed::pow10(VALUE_SCALE - 2),
        )
        .unwrap();
        let rows = output::rows_json(&out.batches);
        // b 5.00 and d 3.00 are the largest; the rest is a 1.00 + c −0.50 = 0.50.
        assert_eq!(rows[0]["name"], "b");
        assert_eq!(rows[1]["name"], "d");
        assert_eq!(rows[2]["name"], "(rest: 2 rows)");
        assert_eq!(rows[2]["kgco2e"], "0.5");
    }
}
