//! How mieruka's plan parts travel between a Ballista client, its scheduler and its
//! executors. Ballista sends plans as protobuf; what DataFusion does not know is handed to
//! these codecs, which write it after a tag and rebuild it on the other side over that
//! process's own graph (each scheduler and executor opens the data directory's graph index):
//!
//! - the `hotspot_batch` tables (logical) and their plan node (physical): how to walk, never
//!   the walk's result; the roots travel as the node's input, an in-memory work list that
//!   Ballista splits by partition like any scan, so each executor walks its tasks' roots;
//! - the batch's writes (logical: the table written and where; physical: the node writing
//!   each partition's file where the partition runs);
//! - in-memory tables (logical): the answers of the single-product table functions
//!   (`hotspot_items('…')` and the others are computed where the SQL is planned) and the
//!   tables a client session holds, as Arrow IPC.
//!
//! Everything else goes to Ballista's own codecs.

use std::io::Cursor;
use std::sync::Arc;

use ballista_core::serde::{BallistaLogicalExtensionCodec, BallistaPhysicalExtensionCodec};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::ipc::reader::StreamReader;
use datafusion::arrow::ipc::writer::StreamWriter;
use datafusion::catalog::TableProvider;
use datafusion::common::{DataFusionError, Result, TableReference};
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Extension, LogicalPlan};
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};
use serde::{Deserialize, Serialize};

use crate::hotspot::ItemsTable;
use crate::hotspot::batch::{BatchExec, BatchOutput, BatchRequest, BatchTable};
use crate::hotspot::{Basis, GraphSource};
use crate::query::batch::{WriteFilesExec, WrittenTable};

/// The first bytes of every part these codecs write: nothing Ballista writes starts so.
const TAG: &[u8] = b"mieruka\x01";

/// What a batch table or plan node is, on the wire.
#[derive(Debug, Serialize, Deserialize)]
struct BatchWire {
    output: String,
    max_tier: u32,
    min_share_pct: f64,
    basis: String,
    projection: Option<Vec<usize>>,
}

impl BatchWire {
    fn output(&self) -> Result<BatchOutput> {
        BatchOutput::parse(&self.output)
            .ok_or_else(|| DataFusionError::Plan(format!("no batch table {:?}", self.output)))
    }

    fn request(&self) -> Result<BatchRequest> {
        Ok(BatchRequest {
            max_tier: self.max_tier,
            min_share_pct: self.min_share_pct,
            basis: Basis::parse(&self.basis).map_err(|e| DataFusionError::Plan(e.to_string()))?,
        })
    }
}

/// A tagged part: which kind, then its bytes.
#[derive(Debug, Serialize, Deserialize)]
enum Wire {
    BatchTable(BatchWire),
    BatchExec(BatchWire),
    /// Schema and batches as an Arrow IPC stream, per partition.
    Memory(Vec<Vec<u8>>),
    /// A batch table written into `dir`, over `roots` (every root when `None`).
    Written {
        table: BatchWire,
        roots: Option<Vec<String>>,
        dir: String,
    },
    /// The node writing its input's partitions into `dir`.
    WriteFiles {
        dir: String,
    },
}

impl BatchWire {
    fn of_table(t: &BatchTable) -> BatchWire {
        let r = t.request();
        BatchWire {
            output: t.output().as_str().to_owned(),
            max_tier: r.max_tier,
            min_share_pct: r.min_share_pct,
            basis: r.basis.as_str().to_owned(),
            projection: None,
        }
    }
}

fn encode(wire: &Wire, buf: &mut Vec<u8>) -> Result<()> {
    buf.extend_from_slice(TAG);
    serde_json::to_writer(buf, wire).map_err(|e| DataFusionError::Internal(e.to_string()))
}

/// The part in `buf`, if these codecs wrote it.
fn decode(buf: &[u8]) -> Result<Option<Wire>> {
    match buf.strip_prefix(TAG) {
        None => Ok(None),
        Some(rest) => serde_json::from_slice(rest)
            .map(Some)
            .map_err(|e| DataFusionError::Internal(format!("a mieruka plan part: {e}"))),
    }
}

fn ipc(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut w = StreamWriter::try_new(&mut out, schema)?;
    for b in batches {
        w.write(b)?;
    }
    w.finish()?;
    drop(w);
    Ok(out)
}

fn from_ipc(bytes: &[u8]) -> Result<Vec<RecordBatch>> {
    let reader = StreamReader::try_new(Cursor::new(bytes), None)?;
    Ok(reader.collect::<std::result::Result<Vec<_>, _>>()?)
}

/// The logical codec: mieruka's tables, then Ballista's.
#[derive(Debug)]
pub struct LogicalCodec {
    graph: Arc<GraphSource>,
    ballista: BallistaLogicalExtensionCodec,
}

impl LogicalCodec {
    /// Tables rebuilt over `graph`.
    pub fn new(graph: Arc<GraphSource>) -> LogicalCodec {
        LogicalCodec {
            graph,
            ballista: BallistaLogicalExtensionCodec::default(),
        }
    }
}

impl LogicalExtensionCodec for LogicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[LogicalPlan],
        ctx: &TaskContext,
    ) -> Result<Extension> {
        self.ballista.try_decode(buf, inputs, ctx)
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        self.ballista.try_encode(node, buf)
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: SchemaRef,
        ctx: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        match decode(buf)? {
            Some(Wire::BatchTable(w)) => Ok(Arc::new(BatchTable::new(
                self.graph.clone(),
                w.request()?,
                w.output()?,
            ))),
            Some(Wire::Memory(partitions)) => {
                let partitions = partitions
                    .iter()
                    .map(|p| from_ipc(p))
                    .collect::<Result<Vec<_>>>()?;
                Ok(Arc::new(MemTable::try_new(schema, partitions)?))
            }
            Some(Wire::Written { table, roots, dir }) => Ok(Arc::new(WrittenTable {
                inner: Arc::new(BatchTable::new(
                    self.graph.clone(),
                    table.request()?,
                    table.output()?,
                )),
                roots,
                dir,
            })),
            Some(Wire::BatchExec(_) | Wire::WriteFiles { .. }) => Err(DataFusionError::Internal(
                "a plan node where a table was expected".into(),
            )),
            None => self
                .ballista
                .try_decode_table_provider(buf, table_ref, schema, ctx),
        }
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        let any: &dyn std::any::Any = node.as_ref();
        if let Some(t) = any.downcast_ref::<BatchTable>() {
            return encode(&Wire::BatchTable(BatchWire::of_table(t)), buf);
        }
        if let Some(w) = any.downcast_ref::<WrittenTable>() {
            let inner: &dyn std::any::Any = w.inner.as_ref();
            let t = inner.downcast_ref::<BatchTable>().ok_or_else(|| {
                DataFusionError::Internal("only a batch table is written on a cluster".into())
            })?;
            return encode(
                &Wire::Written {
                    table: BatchWire::of_table(t),
                    roots: w.roots.clone(),
                    dir: w.dir.clone(),
                },
                buf,
            );
        }
        // The items of one decomposition, whatever columns the query reads here: the plan
        // may read others where it runs.
        if let Some(t) = any.downcast_ref::<ItemsTable>() {
            let batch = t
                .whole()
                .map_err(|e| DataFusionError::External(Box::new(e)))?;
            return encode(&Wire::Memory(vec![ipc(&batch.schema(), &[batch])?]), buf);
        }
        if let Some(m) = any.downcast_ref::<MemTable>() {
            let schema = m.schema();
            let partitions = m
                .batches
                .iter()
                .map(|p| {
                    let batches = p.try_read().map_err(|_| {
                        DataFusionError::Internal(format!("table {table_ref} is being written"))
                    })?;
                    ipc(&schema, &batches)
                })
                .collect::<Result<Vec<_>>>()?;
            return encode(&Wire::Memory(partitions), buf);
        }
        self.ballista
            .try_encode_table_provider(table_ref, node, buf)
    }

    fn try_decode_file_format(
        &self,
        buf: &[u8],
        ctx: &TaskContext,
    ) -> Result<Arc<dyn FileFormatFactory>> {
        self.ballista.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(
        &self,
        buf: &mut Vec<u8>,
        node: Arc<dyn FileFormatFactory>,
    ) -> Result<()> {
        self.ballista.try_encode_file_format(buf, node)
    }
}

/// The physical codec: the batch's plan node, then Ballista's.
#[derive(Debug)]
pub struct PhysicalCodec {
    graph: Arc<GraphSource>,
    ballista: BallistaPhysicalExtensionCodec,
}

impl PhysicalCodec {
    /// Plan nodes rebuilt over `graph`.
    pub fn new(graph: Arc<GraphSource>) -> PhysicalCodec {
        PhysicalCodec {
            graph,
            ballista: BallistaPhysicalExtensionCodec::default(),
        }
    }
}

impl PhysicalExtensionCodec for PhysicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        match decode(buf)? {
            Some(Wire::BatchExec(w)) => {
                let [input] = inputs else {
                    return Err(DataFusionError::Internal(
                        "HotspotBatchExec arrived without its work list".into(),
                    ));
                };
                Ok(Arc::new(BatchExec::new(
                    self.graph.clone(),
                    w.request()?,
                    w.output()?,
                    input.clone(),
                    w.projection,
                )?))
            }
            Some(Wire::WriteFiles { dir }) => {
                let [input] = inputs else {
                    return Err(DataFusionError::Internal(
                        "WriteFilesExec arrived without its input".into(),
                    ));
                };
                Ok(Arc::new(WriteFilesExec::new(input.clone(), dir)))
            }
            Some(_) => Err(DataFusionError::Internal(
                "a table where a plan node was expected".into(),
            )),
            None => self.ballista.try_decode(buf, inputs, ctx, proto_converter),
        }
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        let any: &dyn std::any::Any = node.as_ref();
        if let Some(b) = any.downcast_ref::<BatchExec>() {
            let r = b.request();
            return encode(
                &Wire::BatchExec(BatchWire {
                    output: b.output().as_str().to_owned(),
                    max_tier: r.max_tier,
                    min_share_pct: r.min_share_pct,
                    basis: r.basis.as_str().to_owned(),
                    projection: b.projection().map(<[usize]>::to_vec),
                }),
                buf,
            );
        }
        if let Some(w) = any.downcast_ref::<WriteFilesExec>() {
            return encode(
                &Wire::WriteFiles {
                    dir: w.dir().to_owned(),
                },
                buf,
            );
        }
        self.ballista.try_encode(node, buf, proto_converter)
    }
}
