//! The hotspot graph index: what the decomposition needs of a whole dataset, as four Arrow
//! tables that the store writes once per commit (Arrow IPC) and a reader opens without
//! rebuilding anything.
//!
//! - `nodes`: one row per stored footprint version, in `footprints` order, with the columns
//!   the walk, its labels and its findings read, and `edges_from`: where the node's inputs
//!   start in `edges`. Stored a file per column: most are `footprints` columns as they are,
//!   copied beside the building of the rest (see `nodes.rs`).
//! - `edges`: the BOM inputs of every node, grouped by node (a compressed adjacency): the input
//!   product (an index into `urns`), the amount and its unit. A footprint's own BOM extension
//!   wins over the CSV rows of its products, decided here once.
//! - `urns`: every product URN, sorted, with its candidate footprints (latest, Active), sorted
//!   by reference period: which one stands for an input is decided per analysis date.
//! - `ids`: the node of each footprint id (its newest version), sorted by id.
//!
//! Lookups are binary searches over the sorted columns, so opening the index builds no hash
//! map. Strings are `LargeUtf8`, so no column of any size can pass Arrow's offsets.

mod amounts;
mod bom_rows;
mod nodes;
mod numbers;
mod texts;

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{
    Array, ArrayRef, BooleanArray, BooleanBufferBuilder, Decimal128Array, Int32Array,
    LargeBinaryArray, LargeStringArray, ListArray, RecordBatch, StringArray,
    TimestampMicrosecondArray, UInt32Array, UInt64Array,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use rayon::iter::{
    IndexedParallelIterator, IntoParallelIterator, IntoParallelRefIterator, ParallelIterator,
};

use self::bom_rows::{BomRows, Owner};
pub(crate) use self::nodes::text_from;
use self::nodes::whole;
pub use self::nodes::{GRAPH_NODE_COLUMNS, copied_node_columns};
use self::numbers::{Products, number_ids};
pub(crate) use self::texts::{Interner, Repeated, sort_by_text};
use super::{Tables, column, decimal_type, views};
use crate::{Error, Result};

/// The `footprints` columns copied into `nodes`, with the `nodes` column name.
pub const NODE_COLUMNS: [(&str, &str); 25] = [
    ("id", "id"),
    ("product_id", "product_id"),
    ("product_name_company", "product_name"),
    ("company_name", "company_name"),
    ("company_id", "company_id"),
    ("product_category_cpc", "cpc"),
    ("country_code", "country"),
    ("declared_unit", "unit"),
    ("product_mass_per_declared_unit_kg", "mass_kg"),
    ("pcf_excluding_biogenic_kgco2e_per_unit", "cfp_excluding"),
    ("pcf_including_biogenic_kgco2e_per_unit", "cfp_including"),
    ("gxd_g2g_fossil_ghg_kgco2e_per_unit", "g2g_fossil"),
    ("gxd_g2g_biogenic_kgco2e_per_unit", "g2g_biogenic"),
    ("gxd_calc_method", "calc_method"),
    ("primary_data_share_pct", "pds_pct"),
    ("dqi_technological_dqr", "dqr_technological"),
    ("dqi_temporal_dqr", "dqr_temporal"),
    ("dqi_geographical_dqr", "dqr_geographical"),
    ("pact_major_version", "pact_major_version"),
    ("version", "version"),
    ("reference_period_start", "period_start"),
    ("reference_period_end", "period_end"),
    ("status", "status"),
    ("is_latest", "is_latest"),
    ("gxd_certificate_kgco2e_per_unit", "certificate_kgco2e"),
];

fn large(t: &DataType) -> DataType {
    match t {
        DataType::Utf8 => DataType::LargeUtf8,
        t => t.clone(),
    }
}

/// Schema of `nodes`.
pub fn nodes_schema() -> SchemaRef {
    static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
        let fp = super::footprints_schema();
        let mut fields: Vec<Field> = NODE_COLUMNS
            .iter()
            .map(|(from, to)| match fp.field_with_name(from) {
                Ok(f) => Field::new(*to, large(f.data_type()), f.is_nullable()),
                // Not reachable: NODE_COLUMNS names footprints columns (a unit test checks).
                Err(_) => Field::new(*to, DataType::Null, true),
            })
            .collect();
        fields.push(Field::new("edges_from", DataType::UInt64, false));
        Arc::new(Schema::new(fields))
    });
    SCHEMA.clone()
}

/// Schema of `edges`.
pub fn edges_schema() -> SchemaRef {
    static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            Field::new("child_urn", DataType::UInt32, false),
            Field::new("amount", decimal_type(), false),
            Field::new("unit", DataType::LargeUtf8, true),
        ]))
    });
    SCHEMA.clone()
}

/// Schema of `urns`.
pub fn urns_schema() -> SchemaRef {
    static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
        Arc::new(Schema::new(vec![
            Field::new("urn", DataType::LargeUtf8, false),
            Field::new(
                "candidates",
                DataType::List(Arc::new(Field::new("item", DataType::UInt32, false))),
                false,
            ),
        ]))
    });
    SCHEMA.clone()
}

/// Schema of `ids`.
pub fn ids_schema() -> SchemaRef {
    static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
        Arc::new(Schema::new(vec![Field::new(
            "node",
            DataType::UInt32,
            false,
        )]))
    });
    SCHEMA.clone()
}

/// The four tables of the index.
#[derive(Debug, Clone)]
pub struct GraphIndex {
    /// One row per footprint version.
    pub nodes: RecordBatch,
    /// The BOM inputs, grouped by node.
    pub edges: RecordBatch,
    /// Product URNs, sorted, with their candidate footprints.
    pub urns: RecordBatch,
    /// Node per footprint id, sorted by id.
    pub ids: RecordBatch,
}

/// The names of the four tables, as the store names their files.
pub const TABLES: [&str; 4] = ["nodes", "edges", "urns", "ids"];

/// What [`GraphIndex::build_in_steps`] also hands over beside the four tables: a flag per
/// stored BOM row, in stored order, true for the rows the `bom` view keeps (the current
/// edges), so that a question of them reads no key of any row. Given only when every stored
/// row was numbered (an extension row whose footprint is not stored is not).
pub const BOM_CURRENT: &str = "bom_current";

/// The `footprints` columns [`GraphIndex::build_in_steps`] reads for every row first (with
/// `is_latest` when the batches are the view's; stored batches have it worked out from `id`,
/// `version` and `preceding_pf_ids`, as the view does); the other columns it reads one at a
/// time afterwards.
pub const GRAPH_COLUMNS: [&str; 4] = ["id", "version", "preceding_pf_ids", "product_ids"];

/// `schema` with its text columns as bytes (see [`GraphIndex::stored`]).
pub(crate) fn stored_schema(schema: &SchemaRef) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::LargeUtf8 => f.as_ref().clone().with_data_type(DataType::LargeBinary),
            _ => f.as_ref().clone(),
        })
        .collect();
    Arc::new(Schema::new(fields))
}

impl GraphIndex {
    /// The tables in [`TABLES`] order.
    pub fn tables(&self) -> [&RecordBatch; 4] {
        [&self.nodes, &self.edges, &self.urns, &self.ids]
    }

    /// The schemas in [`TABLES`] order.
    pub fn schemas() -> [SchemaRef; 4] {
        [nodes_schema(), edges_schema(), urns_schema(), ids_schema()]
    }

    /// Reassembles an index from its tables in [`TABLES`] order, checking their schemas.
    pub fn from_tables(tables: [RecordBatch; 4]) -> Result<GraphIndex> {
        for (t, (s, name)) in tables.iter().zip(GraphIndex::schemas().iter().zip(TABLES)) {
            if !super::same_columns(&stored_schema(&t.schema()), &stored_schema(s)) {
                return Err(Error::Internal(format!(
                    "graph index table {name} has another schema (written by another mieruka?)"
                )));
            }
        }
        let [nodes, edges, urns, ids] = tables;
        Ok(GraphIndex {
            nodes,
            edges,
            urns,
            ids,
        })
    }

    /// A table of the index as it is written: text as bytes (`LargeBinary`), so that opening
    /// a mapped index checks its offsets but reads none of its text; [`Graph`] checks each
    /// text it reads is UTF-8. Tables read back from files have this schema.
    ///
    /// [`Graph`]: crate::hotspot::Graph
    pub fn stored(batch: RecordBatch) -> Result<RecordBatch> {
        let schema = stored_schema(&batch.schema());
        let columns = batch
            .columns()
            .iter()
            .map(|c| match c.as_any().downcast_ref::<LargeStringArray>() {
                Some(text) => Arc::new(LargeBinaryArray::from(text.clone())) as ArrayRef,
                None => c.clone(),
            })
            .collect();
        Ok(RecordBatch::try_new(schema, columns)?)
    }

    /// Builds the index of `tables`.
    pub fn build(tables: &Tables) -> Result<GraphIndex> {
        // Every stored BOM row: the builder keeps the current ones itself.
        GraphIndex::from_views(&tables.footprints_view()?, &tables.bom)
    }

    /// Builds the index from `footprints` view batches (with `is_latest`) and `bom` batches
    /// (the current edges, or every stored row: later rows win either way).
    pub fn from_views(footprints: &[RecordBatch], bom: &[RecordBatch]) -> Result<GraphIndex> {
        // What each step handed over: whole tables, or some of a table's columns.
        let mut parts: HashMap<&str, Vec<RecordBatch>> = HashMap::with_capacity(TABLES.len());
        GraphIndex::build_in_steps(
            footprints.to_vec(),
            bom.iter().cloned().map(Ok),
            bom.iter().map(RecordBatch::num_rows).sum(),
            |from| footprints.iter().map(|b| named(b, from)).collect(),
            |name, batch| {
                parts.entry(name).or_default().push(batch);
                Ok(())
            },
        )?;
        let mut take = |name: &str| -> Result<RecordBatch> {
            let parts = parts.remove(name).unwrap_or_default();
            GraphIndex::assemble(name, false, |column| {
                if let Some(c) = parts.iter().find_map(|b| b.column_by_name(column)) {
                    return Ok(c.clone());
                }
                // Only `nodes` has columns no step gives: those copied from `footprints`.
                let Some((from, _)) = copied_node_columns().find(|&(_, to)| to == column) else {
                    return Err(Error::Internal(format!(
                        "graph index: no {name} column {column}"
                    )));
                };
                let pieces: Result<Vec<_>> = footprints.iter().map(|b| named(b, from)).collect();
                Ok(GraphIndex::node_column(from, pieces?)?.column(0).clone())
            })
        };
        Ok(GraphIndex {
            nodes: take("nodes")?,
            edges: take("edges")?,
            urns: take("urns")?,
            ids: take("ids")?,
        })
    }

    /// The one builder, in steps that each hold only what they need, so that a store of
    /// millions of footprints is indexed in bounded memory:
    ///
    /// 1. the graph: `footprints` are batches with at least [`GRAPH_COLUMNS`]: view batches
    ///    with `is_latest`, taken as given, or stored ones, whose `is_latest` is worked out
    ///    here from the ids as numbered; the BOM comes a batch at a time, each reduced to
    ///    integers as it comes (no string of the BOM is kept), into lists sized for
    ///    `bom_rows` (a hint);
    /// 2. `ids`, `urns` and `edges` (a column at a time) are handed to `put` as each is
    ///    finished, and dropped; `urns` reads three more `footprints` columns from
    ///    `read_column` (every row in stored order, in pieces);
    /// 3. `nodes` last: only its [`GRAPH_NODE_COLUMNS`]. The others are copies of
    ///    `footprints` columns ([`GraphIndex::node_column`]), which a caller builds beside
    ///    these steps, and [`GraphIndex::assemble`] puts together.
    pub fn build_in_steps(
        footprints: Vec<RecordBatch>,
        bom: impl IntoIterator<Item = Result<RecordBatch>>,
        bom_rows: usize,
        mut read_column: impl FnMut(&str) -> Result<Vec<ArrayRef>>,
        mut put: impl FnMut(&'static str, RecordBatch) -> Result<()>,
    ) -> Result<()> {
        let n: usize = footprints.iter().map(RecordBatch::num_rows).sum();
        let started = std::time::Instant::now();
        let step = |what: &str| {
            tracing::debug!(
                "graph index: {what}, {:.2?} into the graph",
                started.elapsed()
            )
        };
        // The columns the graph reads, each whole; the batches are dropped.
        let of_all = |from: &str| -> Result<ArrayRef> {
            whole(
                footprints
                    .iter()
                    .map(|b| named(b, from))
                    .collect::<Result<_>>()?,
                from,
            )
        };
        let (id_col, version_col) = (of_all("id")?, of_all("version")?);
        let ids = downcast::<LargeStringArray>(&id_col)?;
        let versions = downcast::<Int32Array>(&version_col)?;
        // URNs (every product id of a footprint, and later every product a BOM names) and
        // ids, numbered on two cores.
        let (products, (id_numbers, by_id, of_rows)) = rayon::join(
            || Products::number(&footprints, n),
            || number_ids(ids, versions),
        );
        // `is_latest` as a view gives it; else from the ids' numbers (numbering them again, as
        // the view does, was a sixth of the index's time at 3M footprints, on one core).
        let given = footprints
            .first()
            .is_some_and(|b| b.column_by_name("is_latest").is_some());
        let latest: ArrayRef = if given {
            of_all("is_latest")?
        } else {
            let mut named: Vec<&str> = Vec::new();
            for b in &footprints {
                named.extend(super::list_texts(b, "preceding_pf_ids")?);
            }
            let superseded = views::superseded(&id_numbers, &named);
            Arc::new(BooleanArray::new(
                views::latest_by_number(&of_rows, &superseded, |i| {
                    views::version_or_oldest(versions, i)
                }),
                None,
            ))
        };
        let is_latest = downcast::<BooleanArray>(&latest)?;
        drop(of_rows);
        drop(footprints);
        let Products {
            mut urns,
            of_nodes,
            from: of_nodes_from,
        } = products?;
        let urns_of = |i: usize| &of_nodes[of_nodes_from[i]..of_nodes_from[i + 1]];
        step("numbered the products and the ids");

        // BOM rows as integers: by the footprint that declares them (extension), or by the
        // parent product (CSV).
        let mut rows = BomRows::with_capacity(bom_rows);
        let mut units = Interner::with_capacity(16);
        // Stored rows seen, and whether each was numbered (then `rows` counts them all).
        let (mut seen, mut numbered) = (0usize, true);
        for b in bom {
            let b = b?;
            seen += b.num_rows();
            let parents = column::<StringArray>(&b, "parent_product_id")?;
            let children = column::<StringArray>(&b, "child_product_id")?;
            let amounts = column::<Decimal128Array>(&b, "amount")?;
            let unit = column::<StringArray>(&b, "unit")?;
            let parent_fp = column::<StringArray>(&b, "parent_footprint_id")?;
            // Nearly every product a row names is known already (a footprint's): they are
            // looked up on every core, and only the rest numbered here, in row order. A BOM
            // lists a product's inputs together, so a row's parent and footprint are mostly
            // the row before's: looked up once per run of rows (a lookup is a cache miss or
            // two in a table of millions).
            const STRETCH: usize = 4096;
            let rows_in = b.num_rows();
            let (known, by_id) = (&urns, &by_id);
            let id_numbers = &id_numbers;
            // Children, a different one on nearly every row, are looked up a group at a time.
            let found: Vec<Found> = (0..rows_in.div_ceil(STRETCH))
                .into_par_iter()
                .flat_map_iter(|k| {
                    let rows = k * STRETCH..((k + 1) * STRETCH).min(rows_in);
                    let mut child = vec![None; rows.len()];
                    let from = rows.start;
                    known.get_many(
                        rows.len(),
                        |j| children.value(from + j),
                        |j, n| child[j] = n,
                    );
                    let mut parent = Repeated::default();
                    let mut node = Repeated::default();
                    rows.zip(child).map(move |(i, child)| Found {
                        child,
                        parent: parent.get(parents.value(i), |p| known.get(p)),
                        node: (!parent_fp.is_null(i)).then(|| {
                            node.get(parent_fp.value(i), |f| {
                                id_numbers.get(f).map(|k| by_id[k as usize])
                            })
                        }),
                    })
                })
                .collect();
            for (i, found) in found.into_iter().enumerate() {
                // Products are interned as in the stored view: a dropped edge still names
                // its child.
                let child = found.child.unwrap_or_else(|| urns.id(children.value(i)));
                let mut parent = || found.parent.unwrap_or_else(|| urns.id(parents.value(i)));
                let owner = match found.node {
                    None => Owner::Product(parent()),
                    Some(Some(node)) => Owner::Node(node, parent()),
                    Some(None) => {
                        numbered = false;
                        continue;
                    }
                };
                let u = (!unit.is_null(i)).then(|| units.id(unit.value(i)) + 1);
                rows.push(owner, child, amounts.value(i), u.unwrap_or(0));
            }
        }
        step("numbered the BOM");
        let current = rows.current();
        if numbered {
            let mut keep = BooleanBufferBuilder::new(seen);
            keep.append_n(seen, false);
            for &r in &current.rows {
                keep.set_bit(r as usize, true);
            }
            let field = Field::new(BOM_CURRENT, DataType::Boolean, false);
            put(
                BOM_CURRENT,
                RecordBatch::try_new(
                    Arc::new(Schema::new(vec![field])),
                    vec![Arc::new(BooleanArray::new(keep.finish(), None))],
                )?,
            )?;
        }
        // Only the choice of current rows reads their owners and parents.
        rows.owner = Vec::new();
        rows.parent = Vec::new();

        // ids: one node per id, sorted by id.
        drop(id_numbers);
        let mut chosen = by_id;
        // One node per id: distinct keys, one order.
        sort_by_text(&mut chosen, |i| ids.value(i as usize));
        put(
            "ids",
            RecordBatch::try_new(ids_schema(), vec![Arc::new(UInt32Array::from(chosen))])?,
        )?;

        // urns, sorted, with candidates (latest, Active) by (period end, period start, id),
        // gathered as one list grouped by URN. The columns only this step reads are read now.
        step("sorted the ids");
        let status_col = whole(read_column("status")?, "status")?;
        let start_col = whole(
            read_column("reference_period_start")?,
            "reference_period_start",
        )?;
        let end_col = whole(read_column("reference_period_end")?, "reference_period_end")?;
        let status = downcast::<LargeStringArray>(&status_col)?;
        let start = downcast::<TimestampMicrosecondArray>(&start_col)?;
        let end = downcast::<TimestampMicrosecondArray>(&end_col)?;
        step("read the urns' columns");
        let is_candidate = |i: usize| is_latest.value(i) && status.value(i) == "Active";
        let mut from = vec![0u32; urns.len() + 1];
        for i in (0..n).filter(|&i| is_candidate(i)) {
            for &u in urns_of(i) {
                from[u as usize + 1] += 1;
            }
        }
        for u in 0..urns.len() {
            from[u + 1] += from[u];
        }
        let mut grouped = vec![0u32; from[urns.len()] as usize];
        let mut next = from.clone();
        for i in (0..n).filter(|&i| is_candidate(i)) {
            for &u in urns_of(i) {
                grouped[next[u as usize] as usize] = i as u32;
                next[u as usize] += 1;
            }
        }
        drop(next);
        step("grouped the urns' candidates");
        let mut order: Vec<u32> = (0..urns.len() as u32).collect();
        // URNs are distinct: an unstable sort gives the one order, on every core.
        sort_by_text(&mut order, |u| urns.text(u));
        step("sorted the urns");
        // Each URN's text and its candidates in order, a stretch of URNs on each core (one
        // after the other, a cache miss or two each, they were a sixth of the index's time at
        // 3M footprints).
        let by_candidate = |a: &u32, b: &u32| {
            let key = |x: &u32| {
                let x = *x as usize;
                (end.value(x), start.value(x), ids.value(x))
            };
            key(a).cmp(&key(b))
        };
        // The text goes straight to its place: each stretch's bytes are counted first.
        let stretches: Vec<&[u32]> = order.chunks(1 << 16).collect();
        let bytes: Vec<usize> = stretches
            .par_iter()
            .map(|us| us.iter().map(|&u| urns.bytes_of(u).len()).sum())
            .collect();
        let mut text = vec![0u8; bytes.iter().sum()];
        let mut places = Vec::with_capacity(stretches.len());
        let mut rest = text.as_mut_slice();
        for &b in &bytes {
            let (place, after) = rest.split_at_mut(b);
            places.push(place);
            rest = after;
        }
        let mut listed: Vec<Stretch> = stretches
            .into_par_iter()
            .zip(places)
            .map(|(us, place)| {
                let mut s = Stretch::default();
                let (mut c, mut at) = (Vec::new(), 0);
                for &u in us {
                    let u = u as usize;
                    c.clear();
                    c.extend_from_slice(&grouped[from[u] as usize..from[u + 1] as usize]);
                    // Stable: a footprint that names a URN twice is listed once.
                    c.sort_by(by_candidate);
                    c.dedup();
                    s.candidates.push(c.len() as u32);
                    s.values.extend_from_slice(&c);
                    let t = urns.bytes_of(u as u32);
                    place[at..at + t.len()].copy_from_slice(t);
                    at += t.len();
                    s.text_lengths.push(t.len() as u32);
                }
                s
            })
            .collect();
        drop((grouped, from));
        // Nothing after this reads the footprints' columns (but `is_latest`): gone before the
        // urns are written.
        drop((id_col, version_col, status_col, start_col, end_col));
        let mut values = Vec::with_capacity(listed.iter().map(|s| s.values.len()).sum());
        for s in &mut listed {
            values.append(&mut s.values);
        }
        let lengths = |of: fn(&Stretch) -> &[u32]| listed.iter().flat_map(of).map(|&n| n as usize);
        let item = Arc::new(Field::new("item", DataType::UInt32, false));
        put(
            "urns",
            RecordBatch::try_new(
                urns_schema(),
                vec![
                    Arc::new(LargeStringArray::try_new(
                        OffsetBuffer::from_lengths(lengths(|s| &s.text_lengths)),
                        text.into(),
                        None,
                    )?),
                    Arc::new(ListArray::try_new(
                        item,
                        OffsetBuffer::from_lengths(lengths(|s| &s.candidates)),
                        Arc::new(UInt32Array::from(values)),
                        None,
                    )?),
                ],
            )?,
        )?;
        // The old number of each URN → its sorted position.
        let mut rank = vec![0u32; urns.len()];
        for (pos, &u) in order.iter().enumerate() {
            rank[u as usize] = pos as u32;
        }
        drop((urns, order));

        // edges, grouped by node: a footprint's own BOM extension wins over the CSV rows of
        // its products. First which rows, in order; then each column, dropping the rows'
        // column it came from.
        let mut edges_from: Vec<u64> = Vec::with_capacity(n);
        let mut edge_rows: Vec<u32> = Vec::with_capacity(current.rows.len());
        for i in 0..n {
            edges_from.push(edge_rows.len() as u64);
            let own = current.of_node(i as u32);
            if !own.is_empty() {
                edge_rows.extend_from_slice(own);
            } else {
                for &u in urns_of(i) {
                    edge_rows.extend_from_slice(current.of_product(u));
                }
            }
        }
        drop((current, of_nodes, of_nodes_from));
        let BomRows {
            child: mut row_child,
            amount: row_amount,
            unit: row_unit,
            ..
        } = rows;
        row_child.iter_mut().for_each(|c| *c = rank[*c as usize]);
        drop(rank);
        // A column at a time, each handed over and dropped before the next is built: the three
        // at once were the index's peak (some 600 MB at 3M footprints). (Arrow IPC writes an
        // uncompressed array's buffers as they are, without a copy.)
        let column = |name: &str, array: ArrayRef| -> Result<RecordBatch> {
            let field = edges_schema().field_with_name(name)?.clone();
            Ok(RecordBatch::try_new(
                Arc::new(Schema::new(vec![field])),
                vec![array],
            )?)
        };
        let child = UInt32Array::from(gather(row_child, &edge_rows));
        put("edges", column("child_urn", Arc::new(child))?)?;
        let amount = Decimal128Array::from(row_amount.gather(&edge_rows)?)
            .with_precision_and_scale(super::DECIMAL_PRECISION, super::DECIMAL_SCALE as i8)?;
        put("edges", column("amount", Arc::new(amount))?)?;
        let mut unit = datafusion::arrow::array::LargeStringBuilder::with_capacity(
            edge_rows.len(),
            edge_rows.len() * units.texts().map(str::len).max().unwrap_or(0),
        );
        for &r in &edge_rows {
            match row_unit[r as usize] {
                0 => unit.append_null(),
                u => unit.append_value(units.text(u - 1)),
            }
        }
        drop((row_unit, edge_rows));
        put("edges", column("unit", Arc::new(unit.finish()))?)?;

        // nodes: the columns the graph gives. Those copied from `footprints` need nothing
        // built here: the caller gets them from [`GraphIndex::node_column`], beside all this.
        let schema = nodes_schema();
        let graph: Vec<usize> = GRAPH_NODE_COLUMNS
            .iter()
            .map(|name| schema.index_of(name))
            .collect::<std::result::Result<_, _>>()?;
        put(
            "nodes",
            RecordBatch::try_new(
                Arc::new(schema.project(&graph)?),
                vec![latest, Arc::new(UInt64Array::from(edges_from))],
            )?,
        )
    }
}

/// Some sorted URNs, as one core lists them for `urns`: each one's number of candidates and
/// their rows, and the length of each one's text (written in its place).
#[derive(Default)]
struct Stretch {
    candidates: Vec<u32>,
    values: Vec<u32>,
    text_lengths: Vec<u32>,
}

/// `values[rows[0]], values[rows[1]], …`: in place when `rows` takes every value once (an
/// edge per BOM row, the usual case), so the largest lists are never held twice.
fn gather<T: Copy>(mut values: Vec<T>, rows: &[u32]) -> Vec<T> {
    let n = values.len();
    let mut seen = vec![false; n];
    let permutation = rows.len() == n
        && rows
            .iter()
            .all(|&r| (r as usize) < n && !std::mem::replace(&mut seen[r as usize], true));
    if !permutation {
        return rows.iter().map(|&r| values[r as usize]).collect();
    }
    // Each cycle of the permutation moved along once: position `j` takes the value at
    // `rows[j]`, and the first value of the cycle goes to its last position.
    seen.fill(false);
    for start in 0..n {
        if seen[start] {
            continue;
        }
        let first = values[start];
        let mut j = start;
        loop {
            seen[j] = true;
            let from = rows[j] as usize;
            if from == start {
                values[j] = first;
                break;
            }
            values[j] = values[from];
            j = from;
        }
    }
    values
}

/// The column `from` of `b`.
fn named(b: &RecordBatch, from: &str) -> Result<ArrayRef> {
    b.column_by_name(from)
        .cloned()
        .ok_or_else(|| Error::Internal(format!("footprints has no column {from}")))
}

/// What a BOM row names, looked up before any new product is numbered: the child, the
/// parent, and for an extension row (`Some`) the node of its footprint, if stored.
struct Found {
    child: Option<u32>,
    parent: Option<u32>,
    node: Option<Option<u32>>,
}

fn downcast<T: 'static>(a: &ArrayRef) -> Result<&T> {
    a.as_any()
        .downcast_ref::<T>()
        .ok_or_else(|| Error::Internal(format!("unexpected column type {}", a.data_type())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gather_takes_values_in_row_order_in_place_or_not() {
        let values = vec![10, 11, 12, 13];
        // Permutations (moved in place): two cycles of two, one of four, the identity.
        assert_eq!(gather(values.clone(), &[2, 3, 0, 1]), [12, 13, 10, 11]);
        assert_eq!(gather(values.clone(), &[1, 2, 3, 0]), [11, 12, 13, 10]);
        assert_eq!(gather(values.clone(), &[0, 1, 2, 3]), values);
        // Not a permutation: repeats, or fewer rows than values.
        assert_eq!(gather(values.clone(), &[3, 3, 0, 0]), [13, 13, 10, 10]);
        assert_eq!(gather(values.clone(), &[3, 1]), [13, 11]);
        assert_eq!(gather(values.clone(), &[]), Vec::<i32>::new());
        assert_eq!(gather(Vec::<i32>::new(), &[]), Vec::<i32>::new());
    }

    #[test]
    fn every_node_column_is_a_footprints_column() {
        let fp = super::super::footprints_schema();
        for (from, _) in NODE_COLUMNS {
            assert!(fp.field_with_name(from).is_ok(), "{from}");
        }
        assert!(
            nodes_schema()
                .fields()
                .iter()
                .all(|f| f.data_type() != &DataType::Null)
        );
        // Each `nodes` column comes once: copied from `footprints`, or given by the graph.
        let mut names: Vec<&str> = copied_node_columns().map(|(_, to)| to).collect();
        names.extend(GRAPH_NODE_COLUMNS);
        names.sort_unstable();
        let schema = nodes_schema();
        let mut all: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        all.sort_unstable();
        assert_eq!(names, all);
    }
}
