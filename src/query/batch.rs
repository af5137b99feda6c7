//! The all-products batch: every root product's decomposition (`hotspot_batch`) and its sums
//! per supplier and per tier (`hotspot_batch_suppliers`, `hotspot_batch_tiers`), written as
//! partitioned Parquet into a new directory. The same plan runs on whatever engine the
//! session is (embedded, or a cluster's), so both give the same rows: the batch's scan,
//! under a node that writes each partition's rows into a file of its own where the
//! partition runs (on a cluster, the executor writes its rows to the shared directory;
//! only a row of counts per partition travels back).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{TableFunctionArgs, TableProvider};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, plan_err};
use datafusion::datasource::TableType;
use datafusion::execution::TaskContext;
use datafusion::execution::context::SessionContext;
use datafusion::logical_expr::{Expr, col, lit};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::errors::ParquetError;
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr, expressions::Column};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
    SendableRecordBatchStream,
};
use futures::StreamExt as _;
use serde::Serialize;

use crate::hotspot::batch::{BatchOutput, BatchRequest};
use crate::{Error, Result};

/// Rows per Parquet row group of a batch's files.
pub const ROW_GROUP_ROWS: usize = 128 * 1024;

/// What a batch wrote: also `batch.json` in its directory.
#[derive(Debug, Clone, Serialize)]
pub struct BatchSummary {
    /// Root products decomposed.
    pub roots: u64,
    /// Rows of `items/`.
    pub items: u64,
    /// Rows of `suppliers/`.
    pub suppliers: u64,
    /// Rows of `tiers/`.
    pub tiers: u64,
    /// Deepest tier expanded.
    pub max_tier: u32,
    /// Share below which nodes were not expanded, percent.
    pub min_share_pct: f64,
    /// The basis decomposed.
    pub basis: String,
    /// Where it ran: `embedded`, or the cluster's address.
    pub engine: String,
    /// When the batch was committed (UTC, RFC 3339).
    pub written_at: String,
}

/// Runs the batch (of `roots`, or every root product) on `ctx` (which has `hotspot_batch`
/// registered) into the new directory
/// `out`: `items/`, `suppliers/` and `tiers/` (Parquet, one file per partition) and
/// `batch.json`. All or nothing: written beside `out` and renamed into place at the end, so
/// an error or a crash leaves no half batch; an existing `out` is refused, never replaced.
pub async fn write(
    ctx: &SessionContext,
    req: &BatchRequest,
    roots: Option<&[String]>,
    out: &Path,
    engine: &str,
) -> Result<BatchSummary> {
    check_new(out)?;
    let partial = partial_dir(out)?;
    std::fs::create_dir_all(&partial).map_err(|e| Error::io(&partial, e))?;
    let written = write_into(ctx, req, roots, &partial, engine).await;
    let summary = match written {
        Ok(s) => s,
        Err(e) => {
            // Best effort: the partial directory is ours alone.
            let _ = std::fs::remove_dir_all(&partial);
            return Err(e);
        }
    };
    std::fs::rename(&partial, out).map_err(|e| Error::io(out, e))?;
    Ok(summary)
}

/// Refuses an `out` that exists: a batch is written into a new directory, never over one.
pub fn check_new(out: &Path) -> Result<()> {
    if out.exists() {
        return Err(Error::Usage(format!(
            "{} exists: the batch writes a new directory (remove it, or choose another --out)",
            out.display()
        )));
    }
    Ok(())
}

/// `out`'s sibling that the batch is written into before it is renamed.
fn partial_dir(out: &Path) -> Result<PathBuf> {
    let name = out
        .file_name()
        .ok_or_else(|| Error::Usage(format!("--out {}: not a directory name", out.display())))?;
    let mut partial = std::ffi::OsString::from(".");
    partial.push(name);
    partial.push(format!(".partial-{}", std::process::id()));
    Ok(out.with_file_name(partial))
}

async fn write_into(
    ctx: &SessionContext,
    req: &BatchRequest,
    roots: Option<&[String]>,
    dir: &Path,
    engine: &str,
) -> Result<BatchSummary> {
    let mut written = Vec::with_capacity(3);
    for output in BatchOutput::ALL {
        let to = dir.join(output.as_str());
        std::fs::create_dir_all(&to).map_err(|e| Error::io(&to, e))?;
        let to = to
            .to_str()
            .map(str::to_owned)
            .ok_or_else(|| Error::Usage(format!("{}: not a UTF-8 path", to.display())))?;
        written.push(write_table(ctx, output, req, roots, &to).await?);
    }
    let [items, suppliers, tiers] = <[Written; 3]>::try_from(written)
        .map_err(|_| Error::Internal("a batch writes three tables".into()))?;
    let summary = BatchSummary {
        roots: tiers.roots,
        items: items.rows,
        suppliers: suppliers.rows,
        tiers: tiers.rows,
        max_tier: req.max_tier,
        min_share_pct: req.min_share_pct,
        basis: req.basis.as_str().to_owned(),
        engine: engine.to_owned(),
        written_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    };
    let json = dir.join("batch.json");
    let text = serde_json::to_string_pretty(&summary)
        .map_err(|e| Error::Internal(format!("batch.json: {e}")))?;
    std::fs::write(&json, text + "\n").map_err(|e| Error::io(&json, e))?;
    Ok(summary)
}

/// What the writers of one table reported.
#[derive(Debug, Default)]
struct Written {
    rows: u64,
    roots: u64,
}

/// Writes the batch's table `output` into the directory `to`: the plan is the batch's scan
/// under a [`WriteFilesExec`], so each partition writes its own file where it runs (an
/// executor, on a cluster) and only a row of counts per partition comes back.
async fn write_table(
    ctx: &SessionContext,
    output: BatchOutput,
    req: &BatchRequest,
    roots: Option<&[String]>,
    to: &str,
) -> Result<Written> {
    let args = [
        lit(i64::from(req.max_tier)),
        lit(req.min_share_pct),
        lit(req.basis.as_str()),
    ];
    let state = ctx.state();
    let inner = ctx
        .table_function(output.function())?
        .create_table_provider_with_args(TableFunctionArgs::new(&args, &state))?;
    let table = WrittenTable {
        inner,
        roots: roots.map(<[String]>::to_vec),
        dir: to.to_owned(),
    };
    let batches = ctx.read_table(Arc::new(table))?.collect().await?;
    let mut w = Written::default();
    for b in &batches {
        let rows = int64(b, "rows")?;
        let roots = int64(b, "roots")?;
        for i in 0..b.num_rows() {
            w.rows += u64::try_from(rows.value(i)).unwrap_or(0);
            w.roots += u64::try_from(roots.value(i)).unwrap_or(0);
        }
    }
    Ok(w)
}

fn int64<'a>(b: &'a RecordBatch, name: &str) -> Result<&'a Int64Array> {
    b.column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<Int64Array>())
        .ok_or_else(|| Error::Internal(format!("a batch writer's report has no {name}")))
}

/// The columns a [`WriteFilesExec`] answers with: a row per partition.
pub fn written_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("file", DataType::Utf8, false),
        Field::new("rows", DataType::Int64, false),
        Field::new("roots", DataType::Int64, false),
    ]))
}

/// One of the batch's tables, written: scanned, each partition of `inner` (over the roots
/// `roots`, or every root product) is written into a Parquet file in `dir`, and the scan
/// gives [`written_schema`] rows. Only the batch writer builds it; no SQL function does, so
/// no query can write files.
#[derive(Debug)]
pub struct WrittenTable {
    /// The batch's table (`hotspot_batch` or the others).
    pub inner: Arc<dyn TableProvider>,
    /// The roots walked (`None`: every root product).
    pub roots: Option<Vec<String>>,
    /// The directory written into: a path every process running the plan can write.
    pub dir: String,
}

#[async_trait]
impl TableProvider for WrittenTable {
    fn schema(&self) -> SchemaRef {
        written_schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    async fn scan(
        &self,
        state: &dyn datafusion::catalog::Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> datafusion::common::Result<Arc<dyn ExecutionPlan>> {
        let filters: Vec<Expr> = match &self.roots {
            None => Vec::new(),
            Some(roots) => vec![
                col("root_product_id")
                    .in_list(roots.iter().map(|r| lit(r.as_str())).collect(), false),
            ],
        };
        let rows = self.inner.scan(state, None, &filters, None).await?;
        let write: Arc<dyn ExecutionPlan> = Arc::new(WriteFilesExec::new(rows, self.dir.clone()));
        match projection {
            Some(p) if p.len() != written_schema().fields().len() => {
                let exprs = p
                    .iter()
                    .map(|&i| {
                        let f = written_schema().field(i).clone();
                        let c: Arc<dyn PhysicalExpr> = Arc::new(Column::new(f.name(), i));
                        (c, f.name().clone())
                    })
                    .collect::<Vec<_>>();
                Ok(Arc::new(ProjectionExec::try_new(exprs, write)?))
            }
            _ => Ok(write),
        }
    }
}

/// The plan node that writes each partition of its input into a Parquet file of its own in
/// `dir`, and answers with one [`written_schema`] row per partition. The file is named by a
/// hash of its first row's `root_product_id` (a root is in one partition only), so a
/// partition run again (a retried task) writes the same file again, never a second one; it
/// is written under a hidden name and renamed when complete.
#[derive(Debug)]
pub struct WriteFilesExec {
    input: Arc<dyn ExecutionPlan>,
    dir: String,
    props: Arc<PlanProperties>,
}

impl WriteFilesExec {
    /// The node writing `input` into `dir`.
    pub fn new(input: Arc<dyn ExecutionPlan>, dir: String) -> WriteFilesExec {
        let props = PlanProperties::new(
            EquivalenceProperties::new(written_schema()),
            Partitioning::UnknownPartitioning(
                input.properties().output_partitioning().partition_count(),
            ),
            EmissionType::Final,
            Boundedness::Bounded,
        );
        WriteFilesExec {
            input,
            dir,
            props: Arc::new(props),
        }
    }

    /// The directory written into.
    pub fn dir(&self) -> &str {
        &self.dir
    }
}

impl DisplayAs for WriteFilesExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "WriteFilesExec: dir={}", self.dir)
    }
}

impl ExecutionPlan for WriteFilesExec {
    fn name(&self) -> &str {
        "WriteFilesExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.props
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![false]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> datafusion::common::Result<TreeNodeRecursion>,
    ) -> datafusion::common::Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> datafusion::common::Result<Arc<dyn ExecutionPlan>> {
        match <[_; 1]>::try_from(children) {
            Ok([input]) => Ok(Arc::new(WriteFilesExec::new(input, self.dir.clone()))),
            Err(_) => plan_err!("WriteFilesExec has one input"),
        }
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> datafusion::common::Result<SendableRecordBatchStream> {
        let mut input = self.input.execute(partition, context)?;
        let dir = PathBuf::from(&self.dir);
        let schema = written_schema();
        let report = schema.clone();
        let written = async move {
            let mut file: Option<PartFile> = None;
            let mut rows = 0u64;
            let mut roots: HashSet<String> = HashSet::new();
            while let Some(b) = input.next().await {
                let b = b?;
                if b.num_rows() == 0 {
                    continue;
                }
                let keys = root_column(&b)?;
                let f = match &mut file {
                    Some(f) => f,
                    None => file.insert(PartFile::create(&dir, keys.value(0), &b.schema())?),
                };
                f.writer.write(&b).map_err(written(&f.partial))?;
                rows += b.num_rows() as u64;
                for key in keys.iter().flatten() {
                    if !roots.contains(key) {
                        roots.insert(key.to_owned());
                    }
                }
            }
            let name = match file {
                Some(f) => f.commit()?,
                None => String::new(),
            };
            let roots = u64::try_from(roots.len()).unwrap_or(u64::MAX);
            let count =
                |n: u64| Arc::new(Int64Array::from(vec![i64::try_from(n).unwrap_or(i64::MAX)]));
            Ok(RecordBatch::try_new(
                report,
                vec![
                    Arc::new(StringArray::from(vec![name])),
                    count(rows),
                    count(roots),
                ],
            )?)
        };
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            schema,
            futures::stream::once(written),
        )))
    }
}

fn root_column(b: &RecordBatch) -> datafusion::common::Result<&StringArray> {
    b.column_by_name("root_product_id")
        .and_then(|c| c.as_any().downcast_ref::<StringArray>())
        .ok_or_else(|| DataFusionError::Internal("a batch table without root_product_id".into()))
}

/// A Parquet writer's error at `path`, as the store words it (a failed write names the file).
fn written(path: &Path) -> impl Fn(ParquetError) -> DataFusionError + '_ {
    move |e| DataFusionError::External(Box::new(crate::store::writing(path)(e)))
}

/// A partition's file, written under a hidden name until [`PartFile::commit`].
struct PartFile {
    writer: ArrowWriter<std::fs::File>,
    partial: PathBuf,
    path: PathBuf,
}

impl PartFile {
    fn create(
        dir: &Path,
        first_root: &str,
        schema: &SchemaRef,
    ) -> datafusion::common::Result<PartFile> {
        use std::hash::{Hash, Hasher};
        // The same name in every process of the same build: SipHash with fixed keys.
        let mut h = std::hash::DefaultHasher::new();
        first_root.hash(&mut h);
        let name = format!("part-{:016x}.parquet", h.finish());
        let path = dir.join(&name);
        let partial = dir.join(format!(".{name}.{}.partial", std::process::id()));
        let file = std::fs::File::create(&partial)
            .map_err(|e| DataFusionError::External(Box::new(Error::io(&partial, e))))?;
        // Row groups of 128 Ki rows: a writer holds one small row group, so a process
        // writing many partitions at once stays bounded.
        let props = crate::store::writer_properties(schema)
            .into_builder()
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .build();
        let writer =
            ArrowWriter::try_new(file, schema.clone(), Some(props)).map_err(written(&partial))?;
        Ok(PartFile {
            writer,
            partial,
            path,
        })
    }

    /// Closes the file and gives it its name; the name.
    fn commit(self) -> datafusion::common::Result<String> {
        let io = |p: &Path, e| DataFusionError::External(Box::new(Error::io(p, e)));
        let file = self.writer.into_inner().map_err(written(&self.partial))?;
        file.sync_all().map_err(|e| io(&self.partial, e))?;
        std::fs::rename(&self.partial, &self.path).map_err(|e| io(&self.path, e))?;
        Ok(self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default())
    }
}
