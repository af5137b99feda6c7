//! Every root product's decomposition as one table, `hotspot_batch(max_tier, min_share_pct,
//! basis)`: what `mieruka batch hotspots --all-roots` writes. The roots are split over the
//! plan's partitions (root k goes to partition k mod n), so the same plan runs on the cores
//! of one machine or on a cluster's executors, each partition walking its roots on its own.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{
    ArrayRef, Decimal128Builder, Float64Builder, Int32Builder, RecordBatch, StringBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, plan_err};
use datafusion::datasource::TableType;
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
use super::{Basis, Graph, GraphSource, Request, decompose_raw, pct, root_cfp};
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

/// The roots of partition `k` of `n`: every n-th of `selected` (ascending, without repeats),
/// or of [`Graph::root_products`] when none are, from the k-th.
pub fn partition_roots(
    graph: &Graph,
    selected: Option<&[String]>,
    k: usize,
    n: usize,
) -> Vec<String> {
    let step = n.max(1);
    match selected {
        Some(roots) => roots.iter().skip(k).step_by(step).cloned().collect(),
        None => (graph.root_products().into_iter().skip(k))
            .step_by(step)
            .map(str::to_owned)
            .collect(),
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

/// The items of `product` as one batch of [`batch_schema`]; an error names the root.
pub fn batch_items(graph: &Graph, req: &BatchRequest, product: &str) -> crate::Result<RecordBatch> {
    let r = req.for_root(product);
    let (root, _) = graph.root(product, None)?;
    let items = decompose_raw(graph, &r).map_err(|e| match e {
        crate::Error::OutOfRange { footprint, message } => crate::Error::OutOfRange {
            footprint,
            message: format!("{message} (in the chain of root {product})"),
        },
        e => e,
    })?;
    let cfp = root_cfp(graph, req.basis, root);
    let n = items.len();
    let root_id = graph.id(root);
    let mut root_product = StringBuilder::with_capacity(n, n * product.len());
    let mut root_footprint = StringBuilder::with_capacity(n, n * root_id.len());
    let mut root_cfps = Decimal128Builder::with_capacity(n);
    let mut tier = Int32Builder::with_capacity(n);
    let mut footprint = StringBuilder::with_capacity(n, n * 36);
    let mut company = StringBuilder::with_capacity(n, n * 16);
    let mut company_id = StringBuilder::with_capacity(n, n * 24);
    let mut kind = StringBuilder::with_capacity(n, n * 8);
    let mut kg = Decimal128Builder::with_capacity(n);
    let mut share = Float64Builder::with_capacity(n);
    for i in &items {
        root_product.append_value(product);
        root_footprint.append_value(root_id);
        root_cfps.append_value(cfp);
        tier.append_value(i32::try_from(i.tier).unwrap_or(i32::MAX));
        footprint.append_value(graph.id(i.node));
        company.append_value(graph.company_name(i.node));
        company_id.append_value(graph.company_id(i.node));
        kind.append_value(i.kind.as_str());
        kg.append_value(i.value);
        share.append_value(pct(i.value, cfp));
    }
    let dec = |b: &mut Decimal128Builder| -> crate::Result<ArrayRef> {
        Ok(Arc::new(
            b.finish()
                .with_precision_and_scale(DECIMAL_PRECISION, ITEM_SCALE)?,
        ))
    };
    let columns: Vec<ArrayRef> = vec![
        Arc::new(root_product.finish()),
        Arc::new(root_footprint.finish()),
        dec(&mut root_cfps)?,
        Arc::new(tier.finish()),
        Arc::new(footprint.finish()),
        Arc::new(company.finish()),
        Arc::new(company_id.finish()),
        Arc::new(kind.finish()),
        dec(&mut kg)?,
        Arc::new(share.finish()),
    ];
    Ok(RecordBatch::try_new(batch_schema(), columns)?)
}

/// `hotspot_batch(max_tier, min_share_pct, basis)`.
#[derive(Debug)]
pub struct BatchFunction {
    graph: Arc<GraphSource>,
}

impl BatchFunction {
    /// The function over `graph`.
    pub fn new(graph: Arc<GraphSource>) -> BatchFunction {
        BatchFunction { graph }
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
        }))
    }
}

/// The batch as a table: scanned, it splits the roots over the session's target partitions.
#[derive(Debug)]
pub struct BatchTable {
    graph: Arc<GraphSource>,
    req: BatchRequest,
}

impl BatchTable {
    /// The batch of `req` over `graph`.
    pub fn new(graph: Arc<GraphSource>, req: BatchRequest) -> BatchTable {
        BatchTable { graph, req }
    }

    /// What every root is decomposed with.
    pub fn request(&self) -> &BatchRequest {
        &self.req
    }
}

#[async_trait]
impl TableProvider for BatchTable {
    fn schema(&self) -> SchemaRef {
        batch_schema()
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
        let partitions = state.config().target_partitions().max(1);
        Ok(Arc::new(BatchExec::new(
            self.graph.clone(),
            self.req,
            selected_roots(filters).map(Arc::from),
            partitions,
            projection.cloned(),
        )?))
    }
}

/// The plan node: partition k walks roots k, k + n, k + 2n, … and gives one batch per root.
#[derive(Debug)]
pub struct BatchExec {
    graph: Arc<GraphSource>,
    req: BatchRequest,
    roots: Option<Arc<[String]>>,
    partitions: usize,
    projection: Option<Vec<usize>>,
    props: Arc<PlanProperties>,
}

impl BatchExec {
    /// The node for `req` over `graph` walking `roots` (every root product when `None`), in
    /// `partitions` partitions, giving the columns `projection` (all when `None`).
    pub fn new(
        graph: Arc<GraphSource>,
        req: BatchRequest,
        roots: Option<Arc<[String]>>,
        partitions: usize,
        projection: Option<Vec<usize>>,
    ) -> datafusion::common::Result<BatchExec> {
        let schema = match &projection {
            Some(p) => Arc::new(batch_schema().project(p)?),
            None => batch_schema(),
        };
        let props = PlanProperties::new(
            EquivalenceProperties::new(schema),
            Partitioning::UnknownPartitioning(partitions.max(1)),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        Ok(BatchExec {
            graph,
            req,
            roots,
            partitions: partitions.max(1),
            projection,
            props: Arc::new(props),
        })
    }

    /// What every root is decomposed with.
    pub fn request(&self) -> &BatchRequest {
        &self.req
    }

    /// The roots chosen by a filter, ascending; `None` for every root product.
    pub fn roots(&self) -> Option<&[String]> {
        self.roots.as_deref()
    }

    /// How many partitions split the roots.
    pub fn partitions(&self) -> usize {
        self.partitions
    }

    /// The columns given, by their place in [`batch_schema`].
    pub fn projection(&self) -> Option<&[usize]> {
        self.projection.as_deref()
    }
}

impl DisplayAs for BatchExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "HotspotBatchExec: roots={}, partitions={}, max_tier={}, min_share_pct={}, basis={}",
            self.roots
                .as_ref()
                .map_or("all".to_owned(), |r| r.len().to_string()),
            self.partitions,
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
        vec![]
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
        if children.is_empty() {
            Ok(self)
        } else {
            plan_err!("HotspotBatchExec has no inputs")
        }
    }

    fn execute(
        &self,
        partition: usize,
        _context: Arc<TaskContext>,
    ) -> datafusion::common::Result<SendableRecordBatchStream> {
        if partition >= self.partitions {
            return plan_err!(
                "HotspotBatchExec: partition {partition} of {}",
                self.partitions
            );
        }
        let external = |e: crate::Error| DataFusionError::External(Box::new(e));
        let graph = self.graph.get().map_err(external)?;
        let roots = partition_roots(&graph, self.roots(), partition, self.partitions);
        let (req, projection) = (self.req, self.projection.clone());
        let batches = futures::stream::iter(roots).map(move |product| {
            let b = batch_items(&graph, &req, &product).map_err(external)?;
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
