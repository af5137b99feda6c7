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
    Array, ArrayRef, BooleanArray, Decimal128Array, Int32Array, LargeStringArray, ListArray,
    RecordBatch, StringArray, TimestampMicrosecondArray, UInt32Array, UInt64Array,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::compute::{cast, concat_batches};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};

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
            if !super::same_columns(&t.schema(), s) {
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

    /// Builds the index of `tables`.
    pub fn build(tables: &Tables) -> Result<GraphIndex> {
        let view = tables.footprints_view()?;
        let bom = tables.bom_view()?;
        GraphIndex::from_views(&view, &bom)
    }

    /// Builds the index from stored batches holding only the columns it reads: the
    /// `footprints` columns of [`NODE_COLUMNS`] (without `is_latest`), `product_ids` and
    /// `preceding_pf_ids`; and the `bom` columns `parent_product_id`, `child_product_id`,
    /// `amount`, `unit` and `parent_footprint_id`, every row stored.
    pub fn build_from_stored(
        footprints: Vec<RecordBatch>,
        bom: Vec<RecordBatch>,
    ) -> Result<GraphIndex> {
        let stored = Tables {
            footprints,
            bom,
            ..Tables::default()
        };
        let flags = stored.latest_flags()?;
        let bom = stored.bom_view()?;
        let Tables { footprints, .. } = stored;
        let view = footprints
            .into_iter()
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
        GraphIndex::from_views(&view, &bom)
    }

    /// Builds the index from `footprints` view batches (with `is_latest`) and current `bom`
    /// batches.
    pub fn from_views<'a>(footprints: &'a [RecordBatch], bom: &'a [RecordBatch]) -> Result<GraphIndex> {
        // nodes, without edges_from yet: the projected columns, strings widened.
        let projected = footprints
            .iter()
            .map(|b| {
                let columns = NODE_COLUMNS
                    .iter()
                    .map(|(from, _)| {
                        let c = b.column_by_name(from).ok_or_else(|| {
                            Error::Internal(format!("footprints has no column {from}"))
                        })?;
                        Ok(cast(c, &large(c.data_type()))?)
                    })
                    .collect::<Result<Vec<ArrayRef>>>()?;
                Ok(columns)
            })
            .collect::<Result<Vec<_>>>()?;
        let partial_schema = Arc::new(Schema::new(
            nodes_schema().fields()[..NODE_COLUMNS.len()].to_vec(),
        ));
        let batches = projected
            .into_iter()
            .map(|c| Ok(RecordBatch::try_new(partial_schema.clone(), c)?))
            .collect::<Result<Vec<_>>>()?;
        let nodes = concat_batches(&partial_schema, &batches)?;
        let n = nodes.num_rows();

        let ids = column::<LargeStringArray>(&nodes, "id")?;
        let versions = column::<Int32Array>(&nodes, "version")?;
        let latest = column::<BooleanArray>(&nodes, "is_latest")?;
        let status = column::<LargeStringArray>(&nodes, "status")?;
        let start = column::<TimestampMicrosecondArray>(&nodes, "period_start")?;
        let end = column::<TimestampMicrosecondArray>(&nodes, "period_end")?;
        let version = |i: usize| (!versions.is_null(i)).then(|| versions.value(i));

        // The node of each id: its newest version (a later row wins a tie, as stored later).
        let mut by_id: HashMap<&str, u32> = HashMap::with_capacity(n);
        for i in 0..n {
            let e = by_id.entry(ids.value(i)).or_insert(i as u32);
            if version(*e as usize) <= version(i) {
                *e = i as u32;
            }
        }

        // URNs: every product id of a footprint and every product a BOM names, borrowed
        // from the batches (no copy of a million strings).
        let mut urn_index: HashMap<&str, u32, ahash::RandomState> =
            HashMap::with_capacity_and_hasher(n, ahash::RandomState::new());
        let mut urns: Vec<&str> = Vec::with_capacity(n);
        let mut intern = |u: &'a str, urns: &mut Vec<&'a str>| -> u32 {
            *urn_index.entry(u).or_insert_with(|| {
                urns.push(u);
                (urns.len() - 1) as u32
            })
        };
        // The URNs of each node, as one flat list with offsets.
        let mut node_urns: Vec<u32> = Vec::with_capacity(n);
        let mut node_urns_from: Vec<usize> = Vec::with_capacity(n + 1);
        for b in footprints {
            let lists = column::<ListArray>(b, "product_ids")?;
            let values = downcast::<StringArray>(lists.values())?;
            let offsets = lists.value_offsets();
            for r in 0..b.num_rows() {
                node_urns_from.push(node_urns.len());
                for j in offsets[r] as usize..offsets[r + 1] as usize {
                    if !values.is_null(j) {
                        node_urns.push(intern(values.value(j), &mut urns));
                    }
                }
            }
        }
        node_urns_from.push(node_urns.len());
        let urns_of = |i: usize| &node_urns[node_urns_from[i]..node_urns_from[i + 1]];
        let mut candidates: Vec<Vec<u32>> = vec![Vec::new(); urns.len()];
        for i in 0..n {
            if latest.value(i) && status.value(i) == "Active" {
                for &u in urns_of(i) {
                    candidates[u as usize].push(i as u32);
                }
            }
        }

        // BOM edges: by the footprint that declares them (extension), or by the parent
        // product (CSV). Each is (owner, child URN, bom batch, row), sorted by owner in stored
        // order, so an owner's edges are one range.
        let mut ext: Vec<(u32, u32, u32, u32)> = Vec::new();
        let mut csv: Vec<(u32, u32, u32, u32)> = Vec::new();
        for (bi, b) in bom.iter().enumerate() {
            let parents = column::<StringArray>(b, "parent_product_id")?;
            let children = column::<StringArray>(b, "child_product_id")?;
            let parent_fp = column::<StringArray>(b, "parent_footprint_id")?;
            for i in 0..b.num_rows() {
                let child = intern(children.value(i), &mut urns);
                if parent_fp.is_null(i) {
                    let p = intern(parents.value(i), &mut urns);
                    csv.push((p, child, bi as u32, i as u32));
                } else if let Some(&node) = by_id.get(parent_fp.value(i)) {
                    ext.push((node, child, bi as u32, i as u32));
                }
            }
        }
        ext.sort_by_key(|e| e.0);
        csv.sort_by_key(|e| e.0);
        let range = |list: &[(u32, u32, u32, u32)], owner: u32| {
            let from = list.partition_point(|e| e.0 < owner);
            let to = list.partition_point(|e| e.0 <= owner);
            from..to
        };
        candidates.resize(urns.len(), Vec::new());

        // Sorted URNs, and the old index → sorted position.
        let mut order: Vec<u32> = (0..urns.len() as u32).collect();
        order.sort_by(|a, b| urns[*a as usize].cmp(urns[*b as usize]));
        let mut rank = vec![0u32; urns.len()];
        for (pos, &u) in order.iter().enumerate() {
            rank[u as usize] = pos as u32;
        }

        // edges, grouped by node: a footprint's own BOM extension wins over the CSV rows of
        // its products.
        let amounts = bom
            .iter()
            .map(|b| column::<Decimal128Array>(b, "amount"))
            .collect::<Result<Vec<_>>>()?;
        let units = bom
            .iter()
            .map(|b| column::<StringArray>(b, "unit"))
            .collect::<Result<Vec<_>>>()?;
        let mut edges_from: Vec<u64> = Vec::with_capacity(n);
        let mut child: Vec<u32> = Vec::with_capacity(ext.len() + csv.len());
        let mut amount: Vec<i128> = Vec::with_capacity(ext.len() + csv.len());
        let mut unit = datafusion::arrow::array::LargeStringBuilder::new();
        let mut push = |e: &(u32, u32, u32, u32), child: &mut Vec<u32>, amount: &mut Vec<i128>| {
            let (b, i) = (e.2 as usize, e.3 as usize);
            child.push(rank[e.1 as usize]);
            amount.push(amounts[b].value(i));
            if units[b].is_null(i) {
                unit.append_null();
            } else {
                unit.append_value(units[b].value(i));
            }
        };
        for i in 0..n {
            edges_from.push(child.len() as u64);
            let own = range(&ext, i as u32);
            if !own.is_empty() {
                for e in &ext[own] {
                    push(e, &mut child, &mut amount);
                }
            } else {
                for &u in urns_of(i) {
                    for e in &csv[range(&csv, u)] {
                        push(e, &mut child, &mut amount);
                    }
                }
            }
        }
        let unit = unit.finish();
        let mut columns = nodes.columns().to_vec();
        columns.push(Arc::new(UInt64Array::from(edges_from)));
        let nodes = RecordBatch::try_new(nodes_schema(), columns)?;
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
            let mut c = candidates[u as usize].clone();
            c.sort_by(|a, b| {
                let key = |x: &u32| {
                    let x = *x as usize;
                    (end.value(x), start.value(x), ids.value(x))
                };
                key(a).cmp(&key(b))
            });
            c.dedup();
            lengths.push(c.len());
            values.extend(c);
        }
        let sorted: Vec<&str> = order.iter().map(|u| urns[*u as usize]).collect();
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
        chosen.sort_by(|a, b| ids.value(*a as usize).cmp(ids.value(*b as usize)));
        let ids = RecordBatch::try_new(ids_schema(), vec![Arc::new(UInt32Array::from(chosen))])?;
        Ok(GraphIndex {
            nodes,
            edges,
            urns,
            ids,
        })
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
