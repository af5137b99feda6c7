//! The hotspot graph index: what the decomposition needs of a whole dataset, as four Arrow
//! tables that the store writes once per commit (Arrow IPC) and a reader opens without
//! rebuilding anything.
//!
//! - `nodes`: one row per stored footprint version, in `footprints` order, with the columns
//!   the walk, its labels and its findings read, and `edges_from`: where the node's inputs
//!   start in `edges`.
//! - `edges`: the BOM inputs of every node, grouped by node (a compressed adjacency): the input
//!   product (an index into `urns`), the amount and its unit. A footprint's own BOM extension
//!   wins over the CSV rows of its products, decided here once.
//! - `urns`: every product URN, sorted, with its candidate footprints (latest, Active), sorted
//!   by reference period: which one stands for an input is decided per analysis date.
//! - `ids`: the node of each footprint id (its newest version), sorted by id.
//!
//! Lookups are binary searches over the sorted columns, so opening the index builds no hash
//! map. Strings are `LargeUtf8`, so no column of any size can pass Arrow's offsets.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{
    Array, ArrayRef, BooleanArray, Decimal128Array, Int32Array, LargeBinaryArray, LargeStringArray,
    ListArray, RecordBatch, StringArray, TimestampMicrosecondArray, UInt32Array, UInt64Array,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use rayon::iter::{IndexedParallelIterator, IntoParallelIterator, ParallelIterator};
use rayon::slice::ParallelSliceMut;

use super::{Tables, column, decimal_type};
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

/// `schema` with its text columns as bytes (see [`GraphIndex::stored`]).
fn stored_schema(schema: &SchemaRef) -> SchemaRef {
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

    /// Builds the index from stored batches holding only the columns it reads: the
    /// `footprints` columns of [`NODE_COLUMNS`] (without `is_latest`), `product_ids` and
    /// `preceding_pf_ids`; and the `bom` columns `parent_product_id`, `child_product_id`,
    /// `amount`, `unit` and `parent_footprint_id`, every row stored, read one batch at a time.
    pub fn build_from_stored(
        footprints: Vec<RecordBatch>,
        bom: impl IntoIterator<Item = Result<RecordBatch>>,
    ) -> Result<GraphIndex> {
        let stored = Tables {
            footprints,
            ..Tables::default()
        };
        let view = stored.footprints_view()?;
        drop(stored);
        GraphIndex::build_streaming(view, bom)
    }

    /// Builds the index from `footprints` view batches (with `is_latest`) and `bom` batches
    /// (the current edges, or every stored row: later rows win either way).
    pub fn from_views(footprints: &[RecordBatch], bom: &[RecordBatch]) -> Result<GraphIndex> {
        GraphIndex::build_streaming(footprints.to_vec(), bom.iter().cloned().map(Ok))
    }

    /// The one builder: the footprints whole (they become `nodes`), the BOM a batch at a
    /// time, each reduced to integers as it comes, so no string of the BOM is kept.
    fn build_streaming(
        footprints: Vec<RecordBatch>,
        bom: impl IntoIterator<Item = Result<RecordBatch>>,
    ) -> Result<GraphIndex> {
        let n: usize = footprints.iter().map(RecordBatch::num_rows).sum();
        // URNs: every product id of a footprint and every product a BOM names.
        let mut urns = Interner::with_capacity(n);
        // The URNs of each node, as one flat list with offsets.
        let mut node_urns: Vec<u32> = Vec::with_capacity(n);
        let mut node_urns_from: Vec<usize> = Vec::with_capacity(n + 1);
        for b in &footprints {
            let lists = column::<ListArray>(b, "product_ids")?;
            let values = downcast::<StringArray>(lists.values())?;
            let offsets = lists.value_offsets();
            for r in 0..b.num_rows() {
                node_urns_from.push(node_urns.len());
                for j in offsets[r] as usize..offsets[r + 1] as usize {
                    if !values.is_null(j) {
                        node_urns.push(urns.id(values.value(j)));
                    }
                }
            }
        }
        node_urns_from.push(node_urns.len());
        let urns_of = |i: usize| &node_urns[node_urns_from[i]..node_urns_from[i + 1]];

        // nodes, without edges_from yet: the projected columns, strings widened. The batches
        // are taken apart column by column, each column's parts dropped once concatenated,
        // so the footprints are never held twice.
        let mut parts: Vec<Vec<(String, ArrayRef)>> = footprints
            .into_iter()
            .map(|b| {
                let schema = b.schema();
                let names = schema.fields().iter().map(|f| f.name().clone());
                names.zip(b.columns().iter().cloned()).collect()
            })
            .collect();
        let columns = NODE_COLUMNS
            .iter()
            .map(|(from, _)| {
                let pieces =
                    parts
                        .iter_mut()
                        .map(|cols| {
                            let at = cols.iter().position(|(name, _)| name == from).ok_or_else(
                                || Error::Internal(format!("footprints has no column {from}")),
                            )?;
                            let (_, c) = cols.swap_remove(at);
                            Ok(cast(&c, &large(c.data_type()))?)
                        })
                        .collect::<Result<Vec<ArrayRef>>>()?;
                let refs: Vec<&dyn Array> = pieces.iter().map(|a| a.as_ref()).collect();
                Ok(match refs.as_slice() {
                    [] => datafusion::arrow::array::new_empty_array(
                        nodes_schema().field_with_name(from_to(from))?.data_type(),
                    ),
                    _ => datafusion::arrow::compute::concat(&refs)?,
                })
            })
            .collect::<Result<Vec<ArrayRef>>>()?;
        drop(parts);
        let partial_schema = Arc::new(Schema::new(
            nodes_schema().fields()[..NODE_COLUMNS.len()].to_vec(),
        ));
        let nodes = RecordBatch::try_new(partial_schema, columns)?;

        let ids = column::<LargeStringArray>(&nodes, "id")?;
        let versions = column::<Int32Array>(&nodes, "version")?;
        let latest = column::<BooleanArray>(&nodes, "is_latest")?;
        let status = column::<LargeStringArray>(&nodes, "status")?;
        let start = column::<TimestampMicrosecondArray>(&nodes, "period_start")?;
        let end = column::<TimestampMicrosecondArray>(&nodes, "period_end")?;
        let version = |i: usize| (!versions.is_null(i)).then(|| versions.value(i));

        // The node of each id: its newest version (a later row wins a tie, as stored later).
        let mut by_id: HashMap<&str, u32, ahash::RandomState> =
            HashMap::with_capacity_and_hasher(n, ahash::RandomState::new());
        for i in 0..n {
            let e = by_id.entry(ids.value(i)).or_insert(i as u32);
            if version(*e as usize) <= version(i) {
                *e = i as u32;
            }
        }

        // BOM rows as integers: by the footprint that declares them (extension), or by the
        // parent product (CSV).
        let mut rows = BomRows::default();
        let mut units = Interner::with_capacity(16);
        for b in bom {
            let b = b?;
            let parents = column::<StringArray>(&b, "parent_product_id")?;
            let children = column::<StringArray>(&b, "child_product_id")?;
            let amounts = column::<Decimal128Array>(&b, "amount")?;
            let unit = column::<StringArray>(&b, "unit")?;
            let parent_fp = column::<StringArray>(&b, "parent_footprint_id")?;
            // Nearly every product a row names is known already (a footprint's): they are
            // looked up on every core, and only the rest numbered here, in row order.
            let found: Vec<Found> = (0..b.num_rows())
                .into_par_iter()
                .with_min_len(4096)
                .map(|i| Found {
                    child: urns.get(children.value(i)),
                    parent: urns.get(parents.value(i)),
                    node: (!parent_fp.is_null(i)).then(|| by_id.get(parent_fp.value(i)).copied()),
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
                    Some(None) => continue,
                };
                let u = (!unit.is_null(i)).then(|| units.id(unit.value(i)) + 1);
                rows.push(owner, child, amounts.value(i), u.unwrap_or(0));
            }
        }
        let (ext, csv) = rows.current();
        // The rows of one owner: a range of a list sorted by owner.
        let range = |list: &[u32], owner: u32| {
            let from = list.partition_point(|&r| rows.owner[r as usize] < owner);
            let to = list.partition_point(|&r| rows.owner[r as usize] <= owner);
            from..to
        };
        let urns = urns.into_strings();
        let mut candidates: Vec<Vec<u32>> = vec![Vec::new(); urns.len()];
        for i in 0..n {
            if latest.value(i) && status.value(i) == "Active" {
                for &u in urns_of(i) {
                    candidates[u as usize].push(i as u32);
                }
            }
        }

        // Sorted URNs, and the old index → sorted position.
        let mut order: Vec<u32> = (0..urns.len() as u32).collect();
        // URNs are distinct: an unstable sort gives the one order, on every core.
        order.par_sort_unstable_by(|a, b| urns[*a as usize].cmp(&urns[*b as usize]));
        let mut rank = vec![0u32; urns.len()];
        for (pos, &u) in order.iter().enumerate() {
            rank[u as usize] = pos as u32;
        }

        // edges, grouped by node: a footprint's own BOM extension wins over the CSV rows of
        // its products.
        let unit_names = units.into_strings();
        let mut edges_from: Vec<u64> = Vec::with_capacity(n);
        let mut child: Vec<u32> = Vec::with_capacity(ext.len() + csv.len());
        let mut amount: Vec<i128> = Vec::with_capacity(ext.len() + csv.len());
        let mut unit = datafusion::arrow::array::LargeStringBuilder::new();
        let mut push = |row: u32, child: &mut Vec<u32>| {
            let r = row as usize;
            child.push(rank[rows.child[r] as usize]);
            amount.push(rows.amount[r]);
            match rows.unit[r] {
                0 => unit.append_null(),
                u => unit.append_value(&unit_names[u as usize - 1]),
            }
        };
        for i in 0..n {
            edges_from.push(child.len() as u64);
            let own = range(&ext, i as u32);
            if !own.is_empty() {
                ext[own].iter().for_each(|&r| push(r, &mut child));
            } else {
                for &u in urns_of(i) {
                    csv[range(&csv, u)]
                        .iter()
                        .for_each(|&r| push(r, &mut child));
                }
            }
        }
        let unit = unit.finish();
        drop((ext, csv, rows));
        let mut columns = nodes.columns().to_vec();
        columns.push(Arc::new(UInt64Array::from(edges_from)));
        let edges = RecordBatch::try_new(
            edges_schema(),
            vec![
                Arc::new(UInt32Array::from(child)),
                Arc::new(Decimal128Array::from(amount).with_precision_and_scale(
                    super::DECIMAL_PRECISION,
                    super::DECIMAL_SCALE as i8,
                )?),
                Arc::new(unit),
            ],
        )?;

        // urns, sorted, with candidates by (period end, period start, id).
        let mut lengths = Vec::with_capacity(urns.len());
        let mut values: Vec<u32> = Vec::new();
        for &u in &order {
            let c = &mut candidates[u as usize];
            c.sort_by(|a, b| {
                let key = |x: &u32| {
                    let x = *x as usize;
                    (end.value(x), start.value(x), ids.value(x))
                };
                key(a).cmp(&key(b))
            });
            c.dedup();
            lengths.push(c.len());
            values.extend(c.iter().copied());
        }
        drop(candidates);
        let sorted: Vec<&str> = order.iter().map(|u| urns[*u as usize].as_ref()).collect();
        let item = Arc::new(Field::new("item", DataType::UInt32, false));
        let urns = RecordBatch::try_new(
            urns_schema(),
            vec![
                Arc::new(LargeStringArray::from(sorted)),
                Arc::new(ListArray::try_new(
                    item,
                    OffsetBuffer::from_lengths(lengths),
                    Arc::new(UInt32Array::from(values)),
                    None,
                )?),
            ],
        )?;

        // ids: one node per id, sorted by id.
        let mut chosen: Vec<u32> = by_id.into_values().collect();
        // One node per id: distinct keys, one order.
        chosen.par_sort_unstable_by(|a, b| ids.value(*a as usize).cmp(ids.value(*b as usize)));
        let ids = RecordBatch::try_new(ids_schema(), vec![Arc::new(UInt32Array::from(chosen))])?;
        let nodes = RecordBatch::try_new(nodes_schema(), columns)?;
        Ok(GraphIndex {
            nodes,
            edges,
            urns,
            ids,
        })
    }
}

/// The `nodes` name of a `footprints` column.
fn from_to(from: &str) -> &'static str {
    NODE_COLUMNS
        .iter()
        .find(|(f, _)| *f == from)
        .map_or("id", |(_, to)| to)
}

/// Strings numbered in order of first sight.
struct Interner {
    ids: HashMap<Box<str>, u32, ahash::RandomState>,
}

impl Interner {
    fn with_capacity(n: usize) -> Interner {
        Interner {
            ids: HashMap::with_capacity_and_hasher(n, ahash::RandomState::new()),
        }
    }

    /// The number of `s`, when it has one.
    fn get(&self, s: &str) -> Option<u32> {
        self.ids.get(s).copied()
    }

    fn id(&mut self, s: &str) -> u32 {
        if let Some(i) = self.get(s) {
            return i;
        }
        let i = self.ids.len() as u32;
        self.ids.insert(s.into(), i);
        i
    }

    /// The strings, by number.
    fn into_strings(self) -> Vec<Box<str>> {
        let mut out: Vec<(u32, Box<str>)> = self.ids.into_iter().map(|(s, i)| (i, s)).collect();
        out.sort_unstable_by_key(|e| e.0);
        out.into_iter().map(|e| e.1).collect()
    }
}

/// What a BOM row names, looked up before any new product is numbered: the child, the
/// parent, and for an extension row (`Some`) the node of its footprint, if stored.
struct Found {
    child: Option<u32>,
    parent: Option<u32>,
    node: Option<Option<u32>>,
}

/// Who a BOM row belongs to.
#[derive(Clone, Copy)]
enum Owner {
    /// The footprint (node) whose extension declares it, with the parent product.
    Node(u32, u32),
    /// The parent product of a CSV row.
    Product(u32),
}

/// Every BOM row read, as integers, in stored order.
#[derive(Default)]
struct BomRows {
    /// The owner: a node for extension rows, a parent product for CSV rows.
    owner: Vec<u32>,
    /// The parent product of an extension row (for its identity); `u32::MAX` for CSV rows.
    parent: Vec<u32>,
    child: Vec<u32>,
    amount: Vec<i128>,
    /// 0 for none, else 1 + the interned unit.
    unit: Vec<u32>,
}

impl BomRows {
    fn push(&mut self, owner: Owner, child: u32, amount: i128, unit: u32) {
        let (o, p) = match owner {
            Owner::Node(node, parent) => (node, parent),
            Owner::Product(parent) => (parent, u32::MAX),
        };
        self.owner.push(o);
        self.parent.push(p);
        self.child.push(child);
        self.amount.push(amount);
        self.unit.push(unit);
    }

    /// The current rows — the last of each (owner, parent, child), as the `bom` view keeps
    /// them — split into extension and CSV rows, each sorted by owner, then stored order.
    fn current(&self) -> (Vec<u32>, Vec<u32>) {
        let n = self.owner.len();
        let key = |r: usize| {
            (
                self.parent[r] == u32::MAX,
                self.owner[r],
                self.parent[r],
                self.child[r],
            )
        };
        let mut order: Vec<u32> = (0..n as u32).collect();
        // Stable: equal keys stay in stored order, so the last of a run is the latest.
        order.par_sort_by_key(|&r| key(r as usize));
        let mut ext = Vec::new();
        let mut csv = Vec::new();
        for run in order.chunk_by(|a, b| key(*a as usize) == key(*b as usize)) {
            let Some(&r) = run.last() else { continue };
            if self.parent[r as usize] == u32::MAX {
                csv.push(r)
            } else {
                ext.push(r)
            }
        }
        let by_owner = |r: &u32| (self.owner[*r as usize], *r);
        ext.par_sort_unstable_by_key(by_owner);
        csv.par_sort_unstable_by_key(by_owner);
        (ext, csv)
    }
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
    }
}
