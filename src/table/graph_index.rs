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

    /// Builds the index from `footprints` view batches (with `is_latest`) and current `bom`
    /// batches.
    pub fn from_views(footprints: &[RecordBatch], bom: &[RecordBatch]) -> Result<GraphIndex> {
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

        // URNs: every product id of a footprint and every product a BOM names.
        let mut urn_index: HashMap<String, u32> = HashMap::new();
        let mut urns: Vec<String> = Vec::new();
        let mut intern = |u: &str, urns: &mut Vec<String>| -> u32 {
            if let Some(&i) = urn_index.get(u) {
                return i;
            }
            let i = urns.len() as u32;
            urns.push(u.to_owned());
            urn_index.insert(u.to_owned(), i);
            i
        };
        let mut node_urns: Vec<Vec<u32>> = Vec::with_capacity(n);
        for b in footprints {
            let lists = column::<ListArray>(b, "product_ids")?;
            for r in 0..b.num_rows() {
                let list = lists.value(r);
                let list = downcast::<StringArray>(&list)?;
                node_urns.push(
                    list.iter()
                        .flatten()
                        .map(|u| intern(u, &mut urns))
                        .collect(),
                );
            }
        }
        let mut candidates: Vec<Vec<u32>> = vec![Vec::new(); urns.len()];
        for (i, us) in node_urns.iter().enumerate() {
            if latest.value(i) && status.value(i) == "Active" {
                for &u in us {
                    candidates[u as usize].push(i as u32);
                }
            }
        }

        // BOM edges: by the footprint that declares them, or by the parent product.
        struct Raw {
            child: u32,
            amount: i128,
            unit: Option<String>,
        }
        let mut ext: HashMap<u32, Vec<Raw>> = HashMap::new();
        let mut csv: HashMap<u32, Vec<Raw>> = HashMap::new();
        for b in bom {
            let parents = column::<StringArray>(b, "parent_product_id")?;
            let children = column::<StringArray>(b, "child_product_id")?;
            let amounts = column::<Decimal128Array>(b, "amount")?;
            let units = column::<StringArray>(b, "unit")?;
            let parent_fp = column::<StringArray>(b, "parent_footprint_id")?;
            for i in 0..b.num_rows() {
                let raw = Raw {
                    child: intern(children.value(i), &mut urns),
                    amount: amounts.value(i),
                    unit: (!units.is_null(i)).then(|| units.value(i).to_owned()),
                };
                if parent_fp.is_null(i) {
                    let p = intern(parents.value(i), &mut urns);
                    csv.entry(p).or_default().push(raw);
                } else if let Some(&node) = by_id.get(parent_fp.value(i)) {
                    ext.entry(node).or_default().push(raw);
                }
            }
        }
        candidates.resize(urns.len(), Vec::new());

        // Sorted URNs, and the old index → sorted position.
        let mut order: Vec<u32> = (0..urns.len() as u32).collect();
        order.sort_by(|a, b| urns[*a as usize].cmp(&urns[*b as usize]));
        let mut rank = vec![0u32; urns.len()];
        for (pos, &u) in order.iter().enumerate() {
            rank[u as usize] = pos as u32;
        }

        // edges, grouped by node.
        let mut edges_from: Vec<u64> = Vec::with_capacity(n);
        let (mut child, mut amount, mut unit) = (Vec::new(), Vec::new(), Vec::new());
        let none = Vec::new();
        for (i, us) in node_urns.iter().enumerate() {
            edges_from.push(child.len() as u64);
            let own = ext.get(&(i as u32)).filter(|e| !e.is_empty());
            let chosen: Vec<&Raw> = match own {
                Some(e) => e.iter().collect(),
                None => us
                    .iter()
                    .flat_map(|u| csv.get(u).unwrap_or(&none))
                    .collect(),
            };
            for e in chosen {
                child.push(rank[e.child as usize]);
                amount.push(e.amount);
                unit.push(e.unit.clone());
            }
        }
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
                Arc::new(LargeStringArray::from(unit)),
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
        let sorted: Vec<&str> = order.iter().map(|u| urns[*u as usize].as_str()).collect();
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
