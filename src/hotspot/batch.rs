//! Every root product's decomposition as one table, `hotspot_batch(max_tier, min_share_pct,
//! basis)`, and its sums per root and supplier or tier (`hotspot_batch_suppliers`,
//! `hotspot_batch_tiers`): what `mieruka batch hotspots --all-roots` writes. The roots are split over the
//! plan's partitions (root k goes to partition k mod n), so the same plan runs on the cores
//! of one machine or on a cluster's executors, each partition walking its roots on its own.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use std::collections::{BTreeMap, HashMap, HashSet};

use datafusion::arrow::array::{
    Array, ArrayRef, Decimal128Array, Float64Array, Int32Array, Int64Array, RecordBatch,
    StringArray, StringBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, plan_err};
use datafusion::datasource::TableType;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, lit};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
    SendableRecordBatchStream,
};
use futures::StreamExt as _;

use super::function::{ITEM_SCALE, request};
use super::{Basis, Graph, GraphSource, Kind, Request, decompose_raw, pct, root_cfp};
use crate::table::DECIMAL_PRECISION;

/// The columns of `hotspot_batch`: the root, then its items as `hotspot_items` gives them.
pub fn batch_schema() -> SchemaRef {
    let dec = || DataType::Decimal128(DECIMAL_PRECISION, ITEM_SCALE);
    Arc::new(Schema::new(vec![
        Field::new("root_product_id", DataType::Utf8, false),
        Field::new("root_footprint_id", DataType::Utf8, false),
        Field::new("root_cfp_kgco2e_per_unit", dec(), false),
        Field::new("tier", DataType::Int32, false),
        Field::new("footprint_id", DataType::Utf8, false),
        Field::new("company_name", DataType::Utf8, false),
        Field::new("company_id", DataType::Utf8, false),
        Field::new("kind", DataType::Utf8, false),
        Field::new("kgco2e", dec(), false),
        Field::new("share_pct", DataType::Float64, false),
    ]))
}

/// Which of the batch's tables a plan gives: every item, or the sums per root and supplier,
/// or per root and tier (summed root by root as it is walked: no group spans two roots).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchOutput {
    /// `hotspot_batch`: every root's items.
    Items,
    /// `hotspot_batch_suppliers`: per root and supplier (data owner).
    Suppliers,
    /// `hotspot_batch_tiers`: per root and tier, split by kind.
    Tiers,
}

impl BatchOutput {
    /// All three, in the order a batch writes them.
    pub const ALL: [BatchOutput; 3] = [
        BatchOutput::Items,
        BatchOutput::Suppliers,
        BatchOutput::Tiers,
    ];

    /// The table's name in a batch's directory.
    pub fn as_str(self) -> &'static str {
        match self {
            BatchOutput::Items => "items",
            BatchOutput::Suppliers => "suppliers",
            BatchOutput::Tiers => "tiers",
        }
    }

    /// The output named `s` by [`BatchOutput::as_str`].
    pub fn parse(s: &str) -> Option<BatchOutput> {
        BatchOutput::ALL.into_iter().find(|o| o.as_str() == s)
    }

    /// The SQL table function giving it.
    pub fn function(self) -> &'static str {
        match self {
            BatchOutput::Items => "hotspot_batch",
            BatchOutput::Suppliers => "hotspot_batch_suppliers",
            BatchOutput::Tiers => "hotspot_batch_tiers",
        }
    }

    /// Its columns.
    pub fn schema(self) -> SchemaRef {
        let dec = || DataType::Decimal128(DECIMAL_PRECISION, ITEM_SCALE);
        let root = || {
            vec![
                Field::new("root_product_id", DataType::Utf8, false),
                Field::new("root_footprint_id", DataType::Utf8, false),
            ]
        };
        match self {
            BatchOutput::Items => batch_schema(),
            BatchOutput::Suppliers => {
                let mut f = root();
                f.extend([
                    Field::new("company_name", DataType::Utf8, false),
                    Field::new("company_id", DataType::Utf8, false),
                    Field::new("kgco2e", dec(), false),
                    Field::new("share_pct", DataType::Float64, false),
                    Field::new("first_tier", DataType::Int32, false),
                    Field::new("footprints", DataType::Int64, false),
                ]);
                Arc::new(Schema::new(f))
            }
            BatchOutput::Tiers => {
                let mut f = root();
                f.extend([
                    Field::new("tier", DataType::Int32, false),
                    Field::new("kgco2e", dec(), false),
                    Field::new("share_pct", DataType::Float64, false),
                ]);
                f.extend(
                    KINDS
                        .iter()
                        .map(|k| Field::new(format!("{}_kgco2e", k.as_str()), dec(), false)),
                );
                f.push(Field::new("items", DataType::Int64, false));
                Arc::new(Schema::new(f))
            }
        }
    }
}

/// The kinds of item, in the order of the tier table's columns.
const KINDS: [Kind; 5] = [
    Kind::Own,
    Kind::Untraced,
    Kind::Mismatch,
    Kind::Unresolved,
    Kind::BeyondCutoff,
];

/// What every root of a batch is decomposed with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchRequest {
    /// Deepest tier expanded.
    pub max_tier: u32,
    /// Nodes below this share of their root's CFP, percent, are not expanded (0 = off).
    pub min_share_pct: f64,
    /// Which total to decompose.
    pub basis: Basis,
}

impl Default for BatchRequest {
    fn default() -> BatchRequest {
        let r = Request::new("");
        BatchRequest {
            max_tier: r.max_tier,
            min_share_pct: r.min_share_pct,
            basis: r.basis,
        }
    }
}

impl BatchRequest {
    /// The request for one root.
    pub fn for_root(&self, product: &str) -> Request {
        Request {
            max_tier: self.max_tier,
            min_share_pct: self.min_share_pct,
            basis: self.basis,
            ..Request::new(product)
        }
    }

    /// Whether the limits are ones a walk takes (a clear error if not).
    pub fn check(&self) -> crate::Result<()> {
        self.for_root("").limits().map(|_| ())
    }

    /// Reads `(max_tier, min_share_pct, basis)`, as the hotspot functions read them.
    pub fn from_args(args: &[Expr]) -> datafusion::common::Result<BatchRequest> {
        if args.len() > 3 {
            return plan_err!(
                "hotspot_batch takes (max_tier, min_share_pct, basis): every root is analysed for its own reference period"
            );
        }
        let mut with_product = vec![lit("(every root)")];
        with_product.extend(args.iter().cloned());
        let r = request(&with_product)?;
        Ok(BatchRequest {
            max_tier: r.max_tier,
            min_share_pct: r.min_share_pct,
            basis: r.basis,
        })
    }
}

/// The products a filter on `root_product_id` keeps, when it names them: `= 'p'`,
/// `IN ('p', …)` or equalities joined by OR. (The filter itself is still applied above the scan.)
fn named_roots(filter: &Expr) -> Option<Vec<String>> {
    use datafusion::common::ScalarValue;
    use datafusion::logical_expr::{BinaryExpr, Operator, expr::InList};
    let is_root = |e: &Expr| matches!(e, Expr::Column(c) if c.name == "root_product_id");
    let text = |e: &Expr| match e {
        Expr::Literal(ScalarValue::Utf8(Some(v)) | ScalarValue::Utf8View(Some(v)), _) => {
            Some(v.clone())
        }
        _ => None,
    };
    match filter {
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::Eq,
            right,
        }) => match (is_root(left), is_root(right)) {
            (true, false) => text(right).map(|v| vec![v]),
            (false, true) => text(left).map(|v| vec![v]),
            _ => None,
        },
        // A short IN list is planned as equalities joined by OR.
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::Or,
            right,
        }) => {
            let mut names = named_roots(left)?;
            names.extend(named_roots(right)?);
            Some(names)
        }
        Expr::InList(InList {
            expr,
            list,
            negated: false,
        }) if is_root(expr) => list.iter().map(text).collect(),
        _ => None,
    }
}

/// The roots kept by `filters` (all of them apply): `None` for every root.
fn selected_roots(filters: &[Expr]) -> Option<Vec<String>> {
    let mut kept: Option<std::collections::BTreeSet<String>> = None;
    for names in filters.iter().filter_map(named_roots) {
        let names: std::collections::BTreeSet<String> = names.into_iter().collect();
        kept = Some(match kept {
            None => names,
            Some(k) => k.intersection(&names).cloned().collect(),
        });
    }
    kept.map(|k| k.into_iter().collect())
}

/// `product`'s table `output` of the batch as one record batch; an error names the root.
pub fn batch_rows(
    graph: &Graph,
    req: &BatchRequest,
    product: &str,
    output: BatchOutput,
) -> crate::Result<RecordBatch> {
    let r = req.for_root(product);
    let (root, _) = graph.root(product, None)?;
    let in_chain = |message: String| crate::Error::OutOfRange {
        footprint: graph.id(root).to_owned(),
        message: format!("{message} (in the chain of root {product})"),
    };
    let items = decompose_raw(graph, &r).map_err(|e| match e {
        crate::Error::OutOfRange { footprint, message } => crate::Error::OutOfRange {
            footprint,
            message: format!("{message} (in the chain of root {product})"),
        },
        e => e,
    })?;
    let cfp = root_cfp(graph, req.basis, root);
    let root_id = graph.id(root);
    let dec = |values: Vec<i128>| -> crate::Result<ArrayRef> {
        Ok(Arc::new(
            Decimal128Array::from(values)
                .with_precision_and_scale(DECIMAL_PRECISION, ITEM_SCALE)?,
        ))
    };
    let text = |n: usize, value: &str| -> ArrayRef {
        Arc::new(StringArray::from_iter_values(std::iter::repeat_n(value, n)))
    };
    let tier_of = |t: u32| i32::try_from(t).unwrap_or(i32::MAX);
    let columns: Vec<ArrayRef> = match output {
        BatchOutput::Items => {
            let n = items.len();
            let mut footprint = StringBuilder::with_capacity(n, n * 36);
            let mut company = StringBuilder::with_capacity(n, n * 16);
            let mut company_id = StringBuilder::with_capacity(n, n * 24);
            for i in &items {
                footprint.append_value(graph.id(i.node));
                company.append_value(graph.company_name(i.node));
                company_id.append_value(graph.company_id(i.node));
            }
            vec![
                text(n, product),
                text(n, root_id),
                dec(vec![cfp; n])?,
                Arc::new(Int32Array::from_iter_values(
                    items.iter().map(|i| tier_of(i.tier)),
                )),
                Arc::new(footprint.finish()),
                Arc::new(company.finish()),
                Arc::new(company_id.finish()),
                Arc::new(StringArray::from_iter_values(
                    items.iter().map(|i| i.kind.as_str()),
                )),
                dec(items.iter().map(|i| i.value).collect())?,
                Arc::new(Float64Array::from_iter_values(
                    items.iter().map(|i| pct(i.value, cfp)),
                )),
            ]
        }
        BatchOutput::Suppliers => {
            // Per (company name, company id): the sum, the first tier, the footprints.
            let mut by: HashMap<(&str, &str), (i128, u32, HashSet<u32>)> = HashMap::new();
            for i in &items {
                let key = (graph.company_name(i.node), graph.company_id(i.node));
                let e = by.entry(key).or_insert((0, i.tier, HashSet::new()));
                e.0 = e.0.checked_add(i.value).ok_or_else(|| {
                    in_chain(format!("the sum of supplier {} is beyond range", key.0))
                })?;
                e.1 = e.1.min(i.tier);
                e.2.insert(i.node);
            }
            let mut rows: Vec<_> = by.into_iter().collect();
            rows.sort_by(|a, b| b.1.0.cmp(&a.1.0).then_with(|| a.0.cmp(&b.0)));
            let n = rows.len();
            vec![
                text(n, product),
                text(n, root_id),
                Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0.0))),
                Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0.1))),
                dec(rows.iter().map(|r| r.1.0).collect())?,
                Arc::new(Float64Array::from_iter_values(
                    rows.iter().map(|r| pct(r.1.0, cfp)),
                )),
                Arc::new(Int32Array::from_iter_values(
                    rows.iter().map(|r| tier_of(r.1.1)),
                )),
                Arc::new(Int64Array::from_iter_values(
                    rows.iter().map(|r| r.1.2.len() as i64),
                )),
            ]
        }
        BatchOutput::Tiers => {
            // Per tier: the sum, then per kind, then the item count.
            let mut by: BTreeMap<u32, ([i128; 6], i64)> = BTreeMap::new();
            for i in &items {
                let e = by.entry(i.tier).or_default();
                let k = 1 + KINDS.iter().position(|k| *k == i.kind).unwrap_or(0);
                for at in [0, k] {
                    e.0[at] = e.0[at].checked_add(i.value).ok_or_else(|| {
                        in_chain(format!("the sum of tier {} is beyond range", i.tier))
                    })?;
                }
                e.1 += 1;
            }
            let n = by.len();
            let mut columns = vec![
                text(n, product),
                text(n, root_id),
                Arc::new(Int32Array::from_iter_values(by.keys().map(|t| tier_of(*t)))) as ArrayRef,
                dec(by.values().map(|v| v.0[0]).collect())?,
                Arc::new(Float64Array::from_iter_values(
                    by.values().map(|v| pct(v.0[0], cfp)),
                )),
            ];
            for k in 1..=KINDS.len() {
                columns.push(dec(by.values().map(|v| v.0[k]).collect())?);
            }
            columns.push(Arc::new(Int64Array::from_iter_values(
                by.values().map(|v| v.1),
            )));
            columns
        }
    };
    Ok(RecordBatch::try_new(output.schema(), columns)?)
}

/// `hotspot_batch(max_tier, min_share_pct, basis)` and the `_suppliers` and `_tiers` ones.
#[derive(Debug)]
pub struct BatchFunction {
    graph: Arc<GraphSource>,
    output: BatchOutput,
}

impl BatchFunction {
    /// The function giving `output` over `graph`.
    pub fn new(graph: Arc<GraphSource>, output: BatchOutput) -> BatchFunction {
        BatchFunction { graph, output }
    }
}

impl TableFunctionImpl for BatchFunction {
    fn call_with_args(
        &self,
        args: TableFunctionArgs,
    ) -> datafusion::common::Result<Arc<dyn TableProvider>> {
        let req = BatchRequest::from_args(args.exprs())?;
        Ok(Arc::new(BatchTable {
            graph: self.graph.clone(),
            req,
            output: self.output,
        }))
    }
}

/// The batch as a table: scanned, it splits the roots over the session's target partitions.
#[derive(Debug)]
pub struct BatchTable {
    graph: Arc<GraphSource>,
    req: BatchRequest,
    output: BatchOutput,
}

impl BatchTable {
    /// The batch's table `output` for `req` over `graph`.
    pub fn new(graph: Arc<GraphSource>, req: BatchRequest, output: BatchOutput) -> BatchTable {
        BatchTable { graph, req, output }
    }

    /// Which of the batch's tables it is.
    pub fn output(&self) -> BatchOutput {
        self.output
    }

    /// What every root is decomposed with.
    pub fn request(&self) -> &BatchRequest {
        &self.req
    }
}

#[async_trait]
impl TableProvider for BatchTable {
    fn schema(&self) -> SchemaRef {
        self.output.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    /// `root_product_id = 'p'` and `root_product_id IN (…)` choose the roots walked.
    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> datafusion::common::Result<Vec<TableProviderFilterPushDown>> {
        Ok(filters
            .iter()
            .map(|f| match named_roots(f) {
                Some(_) => TableProviderFilterPushDown::Inexact,
                None => TableProviderFilterPushDown::Unsupported,
            })
            .collect())
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        _limit: Option<usize>,
    ) -> datafusion::common::Result<Arc<dyn ExecutionPlan>> {
        let external = |e: crate::Error| DataFusionError::External(Box::new(e));
        let roots = match selected_roots(filters) {
            Some(roots) => roots,
            None => {
                let graph = self.graph.get().map_err(external)?;
                (graph.root_products().into_iter())
                    .map(str::to_owned)
                    .collect()
            }
        };
        let work = work_list(&roots, state.config().target_partitions())?;
        Ok(Arc::new(BatchExec::new(
            self.graph.clone(),
            self.req,
            self.output,
            work,
            projection.cloned(),
        )?))
    }
}

/// The column of a batch's work list: one root product per row.
pub const WORK_COLUMN: &str = "root";

/// The roots as a work list in `partitions` partitions (root k in partition k mod n), one
/// root per record batch: an in-memory scan that any engine splits by partition, as it
/// splits file scans, so each partition's roots are walked once wherever it runs.
pub fn work_list(
    roots: &[String],
    partitions: usize,
) -> datafusion::common::Result<Arc<dyn ExecutionPlan>> {
    let schema = Arc::new(Schema::new(vec![Field::new(
        WORK_COLUMN,
        DataType::Utf8,
        false,
    )]));
    let n = partitions.max(1).min(roots.len().max(1));
    let mut parts: Vec<Vec<RecordBatch>> = vec![Vec::new(); n];
    for (k, root) in roots.iter().enumerate() {
        parts[k % n].push(RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(StringArray::from(vec![root.as_str()]))],
        )?);
    }
    Ok(MemorySourceConfig::try_new_exec(&parts, schema, None)?)
}

/// The plan node: walks each root its input (a [`work_list`]) gives, one batch per root,
/// partition by partition.
#[derive(Debug)]
pub struct BatchExec {
    graph: Arc<GraphSource>,
    req: BatchRequest,
    output: BatchOutput,
    input: Arc<dyn ExecutionPlan>,
    projection: Option<Vec<usize>>,
    props: Arc<PlanProperties>,
}

impl BatchExec {
    /// The node walking the roots of `input` for `req` over `graph`, giving the columns
    /// `projection` of `output` (all when `None`).
    pub fn new(
        graph: Arc<GraphSource>,
        req: BatchRequest,
        output: BatchOutput,
        input: Arc<dyn ExecutionPlan>,
        projection: Option<Vec<usize>>,
    ) -> datafusion::common::Result<BatchExec> {
        let schema = match &projection {
            Some(p) => Arc::new(output.schema().project(p)?),
            None => output.schema(),
        };
        let props = PlanProperties::new(
            EquivalenceProperties::new(schema),
            Partitioning::UnknownPartitioning(
                input.properties().output_partitioning().partition_count(),
            ),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        Ok(BatchExec {
            graph,
            req,
            output,
            input,
            projection,
            props: Arc::new(props),
        })
    }

    /// What every root is decomposed with.
    pub fn request(&self) -> &BatchRequest {
        &self.req
    }

    /// Which of the batch's tables it gives.
    pub fn output(&self) -> BatchOutput {
        self.output
    }

    /// The columns given, by their place in the output's schema.
    pub fn projection(&self) -> Option<&[usize]> {
        self.projection.as_deref()
    }
}

impl DisplayAs for BatchExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "HotspotBatchExec: output={}, max_tier={}, min_share_pct={}, basis={}",
            self.output.as_str(),
            self.req.max_tier,
            self.req.min_share_pct,
            self.req.basis.as_str()
        )
    }
}

impl ExecutionPlan for BatchExec {
    fn name(&self) -> &str {
        "HotspotBatchExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.props
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    /// A walk per root is heavy: the roots are not spread further than the work list is.
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
            Ok([input]) => Ok(Arc::new(BatchExec::new(
                self.graph.clone(),
                self.req,
                self.output,
                input,
                self.projection.clone(),
            )?)),
            Err(_) => plan_err!("HotspotBatchExec has one input, its work list"),
        }
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> datafusion::common::Result<SendableRecordBatchStream> {
        let external = |e: crate::Error| DataFusionError::External(Box::new(e));
        let graph = self.graph.get().map_err(external)?;
        let work = self.input.execute(partition, context)?;
        let (req, output, projection) = (self.req, self.output, self.projection.clone());
        // Root by root as the output is asked for: a work batch of many roots is not
        // walked all at once.
        let roots = work.flat_map(|b| {
            let names: datafusion::common::Result<Vec<String>> = b.and_then(|b| {
                let c = b.column(0);
                let a = datafusion::arrow::compute::cast(c, &DataType::Utf8)?;
                let a = a
                    .as_any()
                    .downcast_ref::<StringArray>()
                    .cloned()
                    .ok_or_else(|| DataFusionError::Internal("the work list is not text".into()))?;
                Ok((0..a.len()).map(|i| a.value(i).to_owned()).collect())
            });
            match names {
                Ok(v) => futures::stream::iter(v.into_iter().map(Ok).collect::<Vec<_>>()),
                Err(e) => futures::stream::iter(vec![Err(e)]),
            }
        });
        let batches = roots.map(move |product| {
            let b = batch_rows(&graph, &req, &product?, output).map_err(external)?;
            match &projection {
                Some(p) => Ok(b.project(p)?),
                None => Ok(b),
            }
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.props.eq_properties.schema().clone(),
            batches,
        )))
    }
}
