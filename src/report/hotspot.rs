//! A decomposition as the `hotspots` command shows it: the JSON contract, a text report,
//! CSV rows, and the top-N-plus-rest cut.

mod findings;

use std::cmp::Ordering;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, Decimal128Array, Float64Array, RecordBatch, StringArray, UInt32Array,
    new_null_array,
};
use datafusion::arrow::compute::{concat, concat_batches, take};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use serde::Serialize;
use serde_json::{Value, json};

use crate::hotspot::{
    Decomposition, Finding, INPUT_SCALE, RawItem, Request, VALUE_SCALE, items_batch,
};
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
    let (top, rest_sum) = if n <= FEW_TOP {
        few_first(walked, n, order)
    } else {
        let mut ranked = walked.to_vec();
        if n > 0 {
            ranked.select_nth_unstable_by(n - 1, order);
            ranked[..n].sort_unstable_by(order);
        }
        let rest_sum = ranked[n..]
            .iter()
            .try_fold(0_i128, |s, i| s.checked_add(i.value));
        ranked.truncate(n);
        (ranked, rest_sum)
    };
    let shown = items_output(d, Some(&top))?;
    let all = concat_batches(&shown.schema, &shown.batches)?;
    let head: Vec<u32> = (0..top.len() as u32).collect();
    with_rest(&all, &head, rest_sum, walked.len() - n, cfp)
}

/// Most rows a `top` asks for that [`few_first`] picks in one pass over the items; beyond,
/// they are partitioned in a copy.
const FEW_TOP: usize = 256;

/// The first `n` of `items` under `order` (a total order), in that order, and what the rest
/// sum to (`None`: beyond `i128`). One pass that keeps the `n` best so far: nearly every item
/// is turned away by one comparison with the worst of them. (Copying 161,660 items to
/// partition them was a sixth of a warm `/api/hotspots?…&top=20` at a million footprints.)
fn few_first(
    items: &[RawItem],
    n: usize,
    order: impl Fn(&RawItem, &RawItem) -> Ordering,
) -> (Vec<RawItem>, Option<i128>) {
    // Positions of the best so far, best first.
    let mut best: Vec<usize> = Vec::with_capacity(n + 1);
    for (at, item) in items.iter().enumerate() {
        if best.len() == n {
            match best.last() {
                Some(&worst) if order(item, &items[worst]) == Ordering::Less => {}
                _ => continue,
            }
        }
        let place = best.partition_point(|&b| order(&items[b], item) == Ordering::Less);
        best.insert(place, at);
        best.truncate(n);
    }
    let top = best.iter().map(|&b| items[b]).collect();
    // The rest, summed in item order as a partition's tail would be in any order: integers.
    best.sort_unstable();
    let mut shown = best.iter().peekable();
    let mut rest_sum = Some(0_i128);
    for (at, item) in items.iter().enumerate() {
        if shown.next_if(|&&b| b == at).is_none() {
            rest_sum = rest_sum.and_then(|s| s.checked_add(item.value));
        }
    }
    (top, rest_sum)
}

/// The label of the rest row: its count grouped as the table's numbers are (`1,997,000`).
fn rest_label(rows: usize) -> String {
    let n = crate::output::grouped(&rows.to_string());
    match rows {
        1 => format!("(rest: {n} row)"),
        _ => format!("(rest: {n} rows)"),
    }
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
            Arc::new(StringArray::from(vec![rest_label(rest_rows)]))
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

/// The JSON contract, keys in alphabetical order.
#[derive(Serialize)]
struct Contract<'a, I: Serialize> {
    as_of: &'a str,
    basis: &'a str,
    certificate_kgco2e_per_unit: Option<String>,
    cfp_kgco2e_per_unit: String,
    findings: &'a [Finding],
    items: I,
    product: Value,
    quality: Value,
}

/// Items labelled and read ahead at a time while an answer is written.
const LABEL_AHEAD: usize = 32;

/// Items a thread makes the text of at a time (some 4 MB of pretty JSON).
const ITEMS_PER_SEGMENT: usize = 8192;

/// Room for an answer's head (the findings) before its items.
const HEAD_BYTES: usize = 1 << 20;

/// JSON text exactly as serde_json writes it, pretty (two-space indents) or compact, for a
/// writer that lays out the contract itself: a large root has hundreds of thousands of
/// items, written here straight as bytes; the few other values go through serde_json.
struct JsonText {
    out: Vec<u8>,
    pretty: bool,
}

impl JsonText {
    /// A new line at `level` (pretty only).
    fn line(&mut self, level: usize) {
        if self.pretty {
            self.out.push(b'\n');
            self.out.resize(self.out.len() + 2 * level, b' ');
        }
    }

    /// `"key": ` (pretty) or `"key":`, on a new line at `level` after a `,` unless `first`.
    fn key(&mut self, level: usize, key: &str, first: bool) {
        if !first {
            self.out.push(b',');
        }
        self.line(level);
        self.string(key);
        self.out
            .extend_from_slice(if self.pretty { b": " } else { b":" });
    }

    fn string(&mut self, s: &str) {
        // Every byte looked at, no early exit: the compiler turns this into vector code,
        // which `any` (stopping at the first hit) is not; the texts are short.
        let escapes = s
            .bytes()
            .fold(false, |e, b| e | (b < 0x20) | (b == b'"') | (b == b'\\'));
        if escapes {
            self.value(s);
        } else {
            self.out.push(b'"');
            self.out.extend_from_slice(s.as_bytes());
            self.out.push(b'"');
        }
    }

    /// An exact amount as a JSON string (`"12.5"`), written in place.
    fn decimal(&mut self, v: i128, scale: u32) {
        self.out.push(b'"');
        fixed::write(&mut self.out, v, scale);
        self.out.push(b'"');
    }

    /// A number as serde_json writes it (the shortest text that reads back the same, `null`
    /// when not finite), without going through a serializer.
    fn number(&mut self, v: f64) {
        if v.is_finite() {
            self.out
                .extend_from_slice(ryu::Buffer::new().format_finite(v).as_bytes());
        } else {
            self.out.extend_from_slice(b"null");
        }
    }

    fn optional(&mut self, s: Option<&str>) {
        match s {
            Some(s) => self.string(s),
            None => self.out.extend_from_slice(b"null"),
        }
    }

    /// Any value through serde_json, nested at `level` (its lines indented to it).
    fn nested<T: Serialize + ?Sized>(&mut self, level: usize, v: &T) {
        let text = if self.pretty {
            serde_json::to_vec_pretty(v)
        } else {
            serde_json::to_vec(v)
        }
        .unwrap_or_else(|e| json!({ "error": e.to_string() }).to_string().into_bytes());
        if !self.pretty || level == 0 {
            self.out.extend_from_slice(&text);
            return;
        }
        // A raw new line in JSON text is layout: inside strings it is escaped.
        for (i, line) in text.split(|b| *b == b'\n').enumerate() {
            if i > 0 {
                self.line(level);
            }
            self.out.extend_from_slice(line);
        }
    }

    fn value<T: Serialize + ?Sized>(&mut self, v: &T) {
        self.nested(0, v);
    }
}

/// A value as a JSON tree (objects with their keys in alphabetical order, as every object of
/// the contract has them), or the error.
fn tree(v: std::result::Result<Value, serde_json::Error>) -> Value {
    v.unwrap_or_else(|e| json!({"error": e.to_string()}))
}

/// Writes the JSON contract with every item of `d` (what [`to_json`] gives for no rows),
/// handing the text to `flush` in order: the head, each segment of
/// [`ITEMS_PER_SEGMENT`] items, and the tail.
fn items_contract(
    d: &Decomposition,
    pretty: bool,
    flush: &mut dyn FnMut(&mut Vec<u8>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut j = JsonText {
        out: Vec::with_capacity(HEAD_BYTES + (1 << 16)),
        pretty,
    };
    j.out.push(b'{');
    j.key(1, "as_of", true);
    j.string(&d.as_of);
    j.key(1, "basis", false);
    j.string(d.basis.as_str());
    j.key(1, "certificate_kgco2e_per_unit", false);
    match d.certificate_kgco2e_per_unit {
        Some(c) => j.decimal(c, INPUT_SCALE),
        None => j.optional(None),
    }
    j.key(1, "cfp_kgco2e_per_unit", false);
    j.decimal(d.cfp_kgco2e_per_unit, VALUE_SCALE);
    j.key(1, "findings", false);
    j.nested(1, &d.findings);
    j.key(1, "items", false);
    j.out.push(b'[');
    let items = &d.items;
    let raws = items.raw();
    // The items' text (most of a large answer) is made on two threads, a segment each,
    // and written in order.
    let mut segments = raws.chunks(ITEMS_PER_SEGMENT);
    let text = |part: &[crate::hotspot::RawItem], first: bool| {
        let mut t = JsonText {
            out: Vec::with_capacity(part.len() * 480),
            pretty,
        };
        write_items(&mut t, items, part, first);
        t.out
    };
    let mut first = true;
    while let Some(a) = segments.next() {
        let (mut ta, tb) = match segments.next() {
            Some(b) => rayon::join(|| text(a, first), || Some(text(b, false))),
            None => (text(a, first), None),
        };
        first = false;
        flush(&mut j.out)?;
        flush(&mut ta)?;
        if let Some(mut tb) = tb {
            flush(&mut tb)?;
        }
    }
    if !raws.is_empty() {
        j.line(1);
    }
    j.out.push(b']');
    j.key(1, "product", false);
    j.nested(1, &tree(serde_json::to_value(&d.product)));
    j.key(1, "quality", false);
    j.nested(1, &tree(serde_json::to_value(&d.quality)));
    j.line(0);
    j.out.push(b'}');
    flush(&mut j.out)
}

/// The JSON text of `raws` (items of `items`), each after a comma unless `first`.
fn write_items(
    j: &mut JsonText,
    items: &crate::hotspot::Items,
    raws: &[crate::hotspot::RawItem],
    mut first: bool,
) {
    let mut block = Vec::with_capacity(LABEL_AHEAD);
    for raw in raws.chunks(LABEL_AHEAD) {
        // The labels of a large answer lie all over the graph's string columns: a few
        // items are labelled and their text read ahead, loads that overlap, before they
        // are written (writing reads the text byte by byte, one item after another).
        block.clear();
        block.extend(raw.iter().map(|r| items.labelled(r)));
        let ends = |s: &str| {
            let b = s.as_bytes();
            b.first().copied().unwrap_or(0) ^ b.last().copied().unwrap_or(0)
        };
        std::hint::black_box(block.iter().fold(0u8, |x, i| {
            x ^ ends(i.company_id)
                ^ ends(i.company_name)
                ^ ends(i.footprint_id)
                ^ ends(i.product_id)
                ^ ends(i.product_name)
                ^ i.cpc.map_or(0, ends)
                ^ i.country.map_or(0, ends)
        }));
        for i in &block {
            if !first {
                j.out.push(b',');
            }
            first = false;
            j.line(2);
            j.out.push(b'{');
            j.key(3, "company_id", true);
            j.string(i.company_id);
            j.key(3, "company_name", false);
            j.string(i.company_name);
            j.key(3, "country_code", false);
            j.optional(i.country);
            j.key(3, "cpc", false);
            j.optional(i.cpc);
            j.key(3, "footprint_id", false);
            j.string(i.footprint_id);
            j.key(3, "kgco2e", false);
            j.decimal(i.kgco2e, VALUE_SCALE);
            j.key(3, "kind", false);
            j.string(i.kind.as_str());
            j.key(3, "product_id", false);
            j.string(i.product_id);
            j.key(3, "product_name", false);
            j.string(i.product_name);
            j.key(3, "share_pct", false);
            j.number(i.share_pct);
            j.key(3, "tier", false);
            j.out
                .extend_from_slice(itoa::Buffer::new().format(i.tier).as_bytes());
            j.line(2);
            j.out.push(b'}');
        }
    }
}

fn contract<I: Serialize>(d: &Decomposition, items: I) -> Contract<'_, I> {
    Contract {
        as_of: &d.as_of,
        basis: d.basis.as_str(),
        certificate_kgco2e_per_unit: d
            .certificate_kgco2e_per_unit
            .map(|c| fixed::format(c, INPUT_SCALE)),
        cfp_kgco2e_per_unit: fixed::format(d.cfp_kgco2e_per_unit, VALUE_SCALE),
        findings: &d.findings,
        items,
        product: tree(serde_json::to_value(&d.product)),
        quality: tree(serde_json::to_value(&d.quality)),
    }
}

/// The JSON contract: the root, its CFP, the basis, the rows as `items` (the items of `d`
/// when `rows` is `None`), findings, quality; pretty-printed or compact.
pub fn to_json(d: &Decomposition, rows: Option<&Output>, pretty: bool) -> Vec<u8> {
    // About 300 bytes an item: sized once rather than doubled while a large answer grows.
    let capacity = 300 * (d.items.len() + d.findings.len() + 16);
    match rows {
        None => {
            let mut body = Vec::with_capacity(capacity);
            let written = items_contract(d, pretty, &mut |text| {
                body.append(text);
                Ok(())
            });
            match written {
                Ok(()) => body,
                Err(e) => json!({ "error": e.to_string() }).to_string().into_bytes(),
            }
        }
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
        "\nquality: primary-data coverage {}, weighted PDS {}, DQRs on PACT v3's 1–5 scale (v2's 1–3 mapped onto it) technological {} temporal {} geographical {}; organization-based {}, untraced {}, unresolved {}, beyond cut-off {}, mismatch {}; {} footprints to tier {}\n",
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
    s.push_str(&findings::text(d));
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
        (None, Format::Json) => {
            return items_contract(d, true, &mut |text| {
                w.write_all(text)?;
                text.clear();
                Ok(())
            })
            .and_then(|()| w.write_all(b"\n"))
            .map_err(io);
        }
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
    use crate::hotspot::Kind;

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
        // Counts are grouped as the readable table groups its numbers (five digits or more).
        assert_eq!(rest_label(1), "(rest: 1 row)");
        assert_eq!(rest_label(9999), "(rest: 9999 rows)");
        assert_eq!(rest_label(20368), "(rest: 20,368 rows)");
        assert_eq!(rest_label(1_997_000), "(rest: 1,997,000 rows)");
        assert_eq!(rows[2]["kgco2e"], "0.5");
    }

    proptest::proptest! {
        /// The one-pass pick gives what sorting every item gives: the same first `n`, in
        /// order, and the same sum of the rest. Values from a few, so that ties are common
        /// and the order's later keys decide.
        #[test]
        fn few_first_picks_what_a_sort_picks(
            items in proptest::collection::vec((0_u32..4, 0_u32..50, -3_i128..4), 0..300),
            n in 0_usize..40,
        ) {
            let items: Vec<RawItem> = items
                .into_iter()
                .enumerate()
                .map(|(i, (tier, node, value))| RawItem {
                    tier,
                    node: node * 1000 + i as u32,
                    kind: Kind::Own,
                    value: value * fixed::pow10(20),
                })
                .collect();
            let order = |a: &RawItem, b: &RawItem| {
                b.value.cmp(&a.value).then(a.tier.cmp(&b.tier)).then(a.node.cmp(&b.node))
            };
            let mut sorted = items.clone();
            sorted.sort_by(order);
            let n = n.min(items.len());
            let rest: i128 = sorted[n..].iter().map(|i| i.value).sum();
            let (top, rest_sum) = few_first(&items, n, order);
            proptest::prop_assert_eq!(&top[..], &sorted[..n]);
            proptest::prop_assert_eq!(rest_sum, Some(rest));
        }
    }
}
