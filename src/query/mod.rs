//! The query catalog (`queries/**/*.sql`) and the DataFusion session it runs in.
//!
//! A query's id is its path under `queries/` without `.sql`. Each file holds one read-only
//! statement after a header of `--` lines:
//!
//! ```sql
//! -- title: Footprints by company
//! -- description: One row per company with its footprint count and mean CFP.
//! -- param: company text = '' ; Only this company (empty: all)
//! -- returns: company_name, footprints, mean_cfp_kgco2e_per_unit
//! SELECT …  WHERE ($company = '' OR company_name = $company)
//! ```
//!
//! Parameters are DataFusion `$name` placeholders bound as typed values, never text spliced
//! into SQL. A parameter used but not declared, or declared but not used, is a load error, as
//! is a file holding anything but a single query. The session holds the tables of
//! [`crate::table`]; ad-hoc SQL runs with DDL, DML and statements disabled.

use std::sync::Arc;

use datafusion::arrow::array::{BooleanArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, SchemaRef};

use datafusion::common::config::Dialect;
use datafusion::datasource::MemTable;
use datafusion::execution::context::{SQLOptions, SessionContext};
use datafusion::logical_expr::LogicalPlan;

use crate::hotspot::{self, GraphSource};
use crate::score::{GxScoresFunction, Profile, ScoreSource};
use crate::table::{self, Tables};
use crate::{Error, Result, store};

pub mod batch;
mod catalog;
pub mod limits;
mod reads;
mod stored;
pub mod whatif;
mod whatif_sql;

use catalog::bind_statement;
pub use catalog::*;
pub use limits::{MAX_EXPR_DEPTH, check_depth};
pub use reads::{Reads, reads};

/// A query result: schema and batches.
#[derive(Debug, Clone)]
pub struct Output {
    /// Result schema.
    pub schema: SchemaRef,
    /// Result rows.
    pub batches: Vec<RecordBatch>,
}

impl Output {
    /// Number of rows.
    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }
}

/// A DataFusion session over a loaded dataset.
#[derive(Clone)]
pub struct Session {
    ctx: SessionContext,
    graph: Arc<GraphSource>,
    scores: Arc<ScoreSource>,
    /// On a cluster ([`Session::on_context`]): a context in this process over the same
    /// tables, for the plans that run here ([`runs_here`]).
    here: Option<SessionContext>,
}

/// Where a server's SQL runs when not in its own process: an engine opens sessions whose
/// stored tables it reads itself (a Ballista cluster over the data directory's files,
/// feature `cluster`).
#[async_trait::async_trait]
pub trait Engine: Send + Sync {
    /// A session over the stored tables, on this engine; `tables` are what the scores
    /// and the single-product functions read in this process.
    async fn session(
        &self,
        tables: &Tables,
        profile: Profile,
        graph: Option<Arc<hotspot::Graph>>,
    ) -> Result<Session>;

    /// How logs and pages name it (`ballista://HOST:PORT`).
    fn name(&self) -> String;
}

/// The tables every session with data registers (the views in [`create_views`] read them).
const TABLES: [&str; 7] = [
    "footprints",
    "footprint_extensions",
    "bom",
    "bom_history",
    "ingest_log",
    "gx_attributes",
    "pact_requests",
];

/// The views over [`TABLES`]: `footprints_latest`, the newest version of each footprint.
async fn create_views(ctx: &SessionContext) -> datafusion::error::Result<()> {
    ctx.sql("CREATE VIEW footprints_latest AS SELECT * FROM footprints WHERE is_latest")
        .await?;
    Ok(())
}

/// Registers on `to` the tables and table functions of `from`, and the views over them.
async fn copy_catalog(from: &SessionContext, to: &SessionContext) -> datafusion::error::Result<()> {
    for name in TABLES {
        to.register_table(name, from.table_provider(name).await?)?;
    }
    for name in TABLE_FUNCTIONS {
        if let Ok(f) = from.table_function(name) {
            to.register_udtf(name, f.function().clone());
        }
    }
    create_views(to).await
}

/// What a data directory's graph index keeps of the `footprints` and `bom` views: a flag per
/// stored footprint (`is_latest`) and per stored BOM row (current or not), in stored order
/// (see [`store::Snapshot::latest_flags`] and [`store::Snapshot::bom_current`]). Working
/// them out hashes every id and every edge's keys: about a second at a million footprints,
/// at a server's start and after every upload.
#[derive(Debug, Clone, Default)]
pub struct KeptViews {
    latest: Option<BooleanArray>,
    bom_current: Option<BooleanArray>,
}

impl KeptViews {
    /// What `snapshot`'s graph index keeps.
    pub fn of(snapshot: &store::Snapshot) -> KeptViews {
        KeptViews {
            latest: snapshot.latest_flags(),
            bom_current: snapshot.bom_current(),
        }
    }

    /// `tables.footprints_view()`, from the kept flags when they are a flag per row of
    /// `tables` (tables read at another version, or restricted, have other rows: the flags
    /// of a version with as many footprints are the same, as only footprints make them).
    fn footprints_view(&self, tables: &Tables) -> Result<Vec<RecordBatch>> {
        let rows: usize = tables.footprints.iter().map(RecordBatch::num_rows).sum();
        match &self.latest {
            Some(flags) if rows > 0 && flags.len() == rows => {
                stored::with_flags(tables.footprints.clone(), flags, true)
            }
            _ => tables.footprints_view(),
        }
    }

    /// `tables.bom_view()`, from the kept flags when they are a flag per BOM row of `tables`.
    fn bom_view(&self, tables: &Tables) -> Result<Vec<RecordBatch>> {
        let rows: usize = tables.bom.iter().map(RecordBatch::num_rows).sum();
        match &self.bom_current {
            Some(current) if rows > 0 && current.len() == rows => {
                stored::current_rows(tables.bom.clone(), current)
            }
            _ => tables.bom_view(),
        }
    }
}

fn register(ctx: &SessionContext, name: &str, batches: Vec<RecordBatch>) -> Result<()> {
    let schema = batches
        .first()
        .map(RecordBatch::schema)
        .ok_or_else(|| Error::Internal(format!("table {name} has no batch")))?;
    let table = MemTable::try_new(schema, vec![batches])?;
    ctx.register_table(name, Arc::new(table))?;
    Ok(())
}

/// Registers `hotspot_items`, `hotspot_findings`, `hotspot_quality`, `hotspot_gaps`,
/// `hotspot_uncertainty` and the `hotspot_batch` functions over `graph`.
pub(crate) fn register_hotspot_functions(ctx: &SessionContext, graph: &Arc<GraphSource>) {
    for (name, output) in [
        ("hotspot_items", hotspot::Output::Items),
        ("hotspot_findings", hotspot::Output::Findings),
        ("hotspot_quality", hotspot::Output::Quality),
        ("hotspot_gaps", hotspot::Output::Gaps),
        ("hotspot_uncertainty", hotspot::Output::Uncertainty),
    ] {
        ctx.register_udtf(
            name,
            Arc::new(hotspot::HotspotItemsFunction::new(graph.clone(), output)),
        );
    }
    for output in hotspot::batch::BatchOutput::ALL {
        ctx.register_udtf(
            output.function(),
            Arc::new(hotspot::batch::BatchFunction::new(graph.clone(), output)),
        );
    }
}

/// Registers `gx_scores` over `scores`, and with a `graph` to walk `whatif_rows`,
/// `whatif_summary` and `whatif_changes`.
fn register_score_functions(
    ctx: &SessionContext,
    scores: &Arc<ScoreSource>,
    graph: Option<&Arc<GraphSource>>,
) {
    use whatif_sql::{WhatifFunction, WhatifOutput};
    ctx.register_udtf("gx_scores", Arc::new(GxScoresFunction::new(scores.clone())));
    let Some(graph) = graph else {
        return;
    };
    for (name, output) in [
        ("whatif_rows", WhatifOutput::Rows),
        ("whatif_summary", WhatifOutput::Summary),
        ("whatif_changes", WhatifOutput::Changes),
    ] {
        ctx.register_udtf(
            name,
            Arc::new(WhatifFunction::new(graph.clone(), scores.clone(), output)),
        );
    }
}

impl Session {
    /// Registers `footprints` (with `is_latest`), `footprints_latest`, `footprint_extensions`,
    /// `bom` (current edges), `bom_history` (every stored edge) and `ingest_log`, and the
    /// native table functions `hotspot_items`, `hotspot_findings` and `hotspot_quality`.
    pub async fn new(tables: &Tables) -> Result<Session> {
        Session::with_profile(tables, Profile::default_profile()).await
    }

    /// [`Session::new`] with `profile` for `gx_scores()` instead of the default `gxd-2025`.
    pub async fn with_profile(tables: &Tables, profile: Profile) -> Result<Session> {
        Session::with_graph(tables, profile, None).await
    }

    /// [`Session::with_profile`] whose hotspot functions walk `graph` (from a data
    /// directory's graph index) instead of a graph built from `tables` on first use.
    pub async fn with_graph(
        tables: &Tables,
        profile: Profile,
        graph: Option<Arc<hotspot::Graph>>,
    ) -> Result<Session> {
        Session::with_kept(tables, profile, graph, &KeptViews::default()).await
    }

    /// [`Session::with_graph`] whose `footprints` and `bom` views take what the data
    /// directory's graph index keeps of them (`kept`) instead of working it out from
    /// `tables`, where it has a flag per row of them.
    pub async fn with_kept(
        tables: &Tables,
        profile: Profile,
        graph: Option<Arc<hotspot::Graph>>,
        kept: &KeptViews,
    ) -> Result<Session> {
        let ctx = SessionContext::new();
        let footprints = kept.footprints_view(tables)?;
        let bom = kept.bom_view(tables)?;
        // In the order of TABLES.
        let views = [
            footprints.clone(),
            tables.extensions_view(),
            bom.clone(),
            tables.bom_history_view(),
            tables.ingest_log_view(),
            tables.gx_view()?,
            tables.requests_view(),
        ];
        for (name, batches) in TABLES.into_iter().zip(views) {
            register(&ctx, name, batches)?;
        }
        create_views(&ctx).await?;
        let graph = Arc::new(match graph {
            Some(g) => GraphSource::from_graph(g),
            None => GraphSource::new(footprints, bom),
        });
        register_hotspot_functions(&ctx, &graph);
        let scores = Arc::new(ScoreSource::new(tables.clone(), profile));
        register_score_functions(&ctx, &scores, Some(&graph));
        Ok(Session {
            ctx,
            graph,
            scores,
            here: None,
        })
    }

    /// A session over a data directory at `snapshot`, for a statement that reads what
    /// `reads` says (see [`reads`]): `footprints`, `bom` and `bom_history` are read when a
    /// plan scans them, only the columns it needs; the other tables it names are read whole
    /// now, and the rest left empty. The hotspot functions walk `graph` and exist only with
    /// it; `gx_scores()` exists when `reads` scores, under `profile`, from the
    /// `footprints` columns scoring reads, and the what-if functions when it scores and
    /// walks `graph`.
    pub async fn over_snapshot(
        snapshot: store::Snapshot,
        reads: Reads,
        graph: Option<Arc<hotspot::Graph>>,
        profile: Profile,
    ) -> Result<Session> {
        use stored::{StoredTable, View};
        let ctx = SessionContext::new();
        let eager = table::TableSet {
            footprints: false,
            bom: false,
            ..reads.tables
        };
        let tables = snapshot.load_some(eager)?;
        // What `gx_scores()` scores: its columns of every stored footprint, read now.
        let scored = match reads.scores {
            true => Tables {
                footprints: snapshot.read_columns(
                    store::Table::Footprints,
                    &crate::score::Inputs::FOOTPRINT_COLUMNS,
                    None,
                )?,
                gx_attributes: tables.gx_attributes.clone(),
                ..Tables::default()
            },
            false => Tables::default(),
        };
        let snapshot = Arc::new(snapshot);
        for (name, view) in [
            ("footprints", View::Footprints),
            ("bom", View::Bom),
            ("bom_history", View::BomHistory),
        ] {
            ctx.register_table(name, Arc::new(StoredTable::new(view, snapshot.clone())))?;
        }
        for (name, batches) in [
            ("footprint_extensions", tables.extensions_view()),
            ("ingest_log", tables.ingest_log_view()),
            ("gx_attributes", tables.gx_view()?),
            ("pact_requests", tables.requests_view()),
        ] {
            register(&ctx, name, batches)?;
        }
        if let Some(missing) = TABLES
            .iter()
            .find(|t| !ctx.table_exist(**t).unwrap_or(false))
        {
            return Err(Error::Internal(format!("table {missing} not registered")));
        }
        create_views(&ctx).await?;
        let walks = graph.is_some();
        let graph = Arc::new(match graph {
            Some(g) => GraphSource::from_graph(g),
            // Never walked: no function here reads it.
            None => GraphSource::new(tables.footprints_view()?, tables.bom_view()?),
        });
        if walks {
            register_hotspot_functions(&ctx, &graph);
        }
        let scores = Arc::new(ScoreSource::new(scored, profile));
        if reads.scores {
            register_score_functions(&ctx, &scores, walks.then_some(&graph));
        }
        Ok(Session {
            ctx,
            graph,
            scores,
            here: None,
        })
    }

    /// A session on `ctx`, a context whose engine runs the SQL elsewhere (a cluster's
    /// client) and in which the caller has registered the stored tables (`footprints` with
    /// `is_latest`, `footprint_extensions`, `bom`, `bom_history`, `ingest_log`,
    /// `gx_attributes`, `pact_requests`). Adds the views and the table functions, as
    /// [`Session::with_graph`] does; the functions answer in this process, from `tables`
    /// and `graph`, and travel to the engine as data.
    pub async fn on_context(
        ctx: SessionContext,
        tables: &Tables,
        profile: Profile,
        graph: Arc<GraphSource>,
    ) -> Result<Session> {
        create_views(&ctx).await?;
        register_hotspot_functions(&ctx, &graph);
        let scores = Arc::new(ScoreSource::new(tables.clone(), profile));
        register_score_functions(&ctx, &scores, Some(&graph));
        let here = SessionContext::new();
        copy_catalog(&ctx, &here).await?;
        Ok(Session {
            ctx,
            graph,
            scores,
            here: Some(here),
        })
    }

    /// A session with only the hotspot table functions, over `graph`: what the `hotspots`
    /// command needs, without reading a table (the `hotspot/` queries read nothing else).
    pub async fn for_graph(graph: Arc<hotspot::Graph>) -> Result<Session> {
        let ctx = SessionContext::new();
        let graph = Arc::new(GraphSource::from_graph(graph));
        register_hotspot_functions(&ctx, &graph);
        let scores = Arc::new(ScoreSource::new(
            Tables::default(),
            Profile::default_profile(),
        ));
        Ok(Session {
            ctx,
            graph,
            scores,
            here: None,
        })
    }

    /// The products' GX inputs and scores under the session's profile, computed on first use.
    pub fn scores(&self) -> Result<Arc<(crate::score::Inputs, crate::score::Scores)>> {
        self.scores.get()
    }

    /// The session's scoring profile.
    pub fn profile(&self) -> &Profile {
        self.scores.profile()
    }

    /// The DataFusion context, for callers that register more (table functions, views).
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// The supply-chain graph of the dataset, built on first use.
    pub fn graph(&self) -> Result<Arc<hotspot::Graph>> {
        self.graph.get()
    }

    /// Decomposes `req` on the session's graph; the hotspot table functions asked the same
    /// question next answer from this decomposition.
    pub fn decompose(&self, req: &hotspot::Request) -> Result<Arc<hotspot::Decomposition>> {
        self.graph.decompose(req)
    }

    /// How sure `req`'s decomposition is ([`hotspot::GraphSource::uncertainty`]: the last
    /// Monte Carlo asked, here or by `hotspot_uncertainty`, is not drawn again).
    pub fn uncertainty(
        &self,
        req: &hotspot::Request,
        spreads: &hotspot::Spreads,
        ask: hotspot::UncertaintyRequest,
    ) -> Result<(Arc<hotspot::Decomposition>, Arc<hotspot::Uncertainty>)> {
        self.graph.uncertainty(req, spreads, ask)
    }

    /// Applies `scenario` to `req`'s product, beside the product as stored, the `top`
    /// largest changes by name ([`whatif::run`]).
    pub fn whatif(
        &self,
        req: &hotspot::Request,
        scenario: &crate::hotspot::scenario::Scenario,
        top: Option<usize>,
    ) -> Result<whatif::WhatIf> {
        whatif::run(&self.graph, &self.scores, req, scenario, top)
    }

    /// The context that runs `plan`: the session's, but on a cluster the plans of
    /// [`runs_here`] run in this process.
    fn runner(&self, plan: &LogicalPlan) -> &SessionContext {
        match &self.here {
            Some(here) if runs_here(plan) => here,
            _ => &self.ctx,
        }
    }

    /// Whether the catalog query `def` with `args` runs on the session's cluster (false for
    /// an embedded session, and for the plans of [`runs_here`]).
    pub async fn runs_on_cluster(&self, def: &QueryDef, args: &[(String, String)]) -> Result<bool> {
        if self.here.is_none() {
            return Ok(false);
        }
        Ok(!runs_here(&self.plan(def, args).await?))
    }

    /// The plan of the catalog query `def` with `args` bound.
    async fn plan(&self, def: &QueryDef, args: &[(String, String)]) -> Result<LogicalPlan> {
        let values = Catalog::bind(def, args)?;
        let wrap = |e| failed(&def.id, e);
        let state = self.ctx.state();
        let mut statement = state
            .sql_to_statement(&def.sql, &Dialect::Generic)
            .map_err(wrap)?;
        bind_statement(&def.id, &mut statement, &values)?;
        state.statement_to_plan(statement).await.map_err(wrap)
    }

    /// Runs a catalog query with `args`.
    pub async fn run(&self, def: &QueryDef, args: &[(String, String)]) -> Result<Output> {
        let wrap = |e| failed(&def.id, e);
        let plan = self.plan(def, args).await?;
        let df = self
            .runner(&plan)
            .execute_logical_plan(plan)
            .await
            .map_err(wrap)?;
        let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
        let batches = df.collect().await.map_err(wrap)?;
        Ok(Output { schema, batches })
    }

    /// Runs ad-hoc read-only SQL within limits: at most `memory_bytes` of query memory, at
    /// most `max_rows` rows (more is an error, not a silent cut), and `timeout` in all. The
    /// query runs on threads of its own ([`limits`]), so however long it computes, the
    /// caller's threads stay free; past `timeout` it is dropped, which cancels its tasks.
    /// Statements over [`limits::MAX_SQL_BYTES`], expressions nested deeper than
    /// [`MAX_EXPR_DEPTH`], functions whose memory cannot be accounted for
    /// ([`limits::check_growth`]) and joins that could compute where they could not be stopped
    /// ([`limits::check_joins`]) are refused before they run.
    pub async fn sql_limited(
        &self,
        sql: &str,
        memory_bytes: usize,
        max_rows: usize,
        timeout: std::time::Duration,
    ) -> std::result::Result<Output, SqlLimit> {
        use datafusion::execution::runtime_env::RuntimeEnvBuilder;

        limits::check_size(sql).map_err(SqlLimit::Failed)?;
        check_depth(sql).map_err(SqlLimit::Failed)?;
        if self.here.is_some() {
            let df = self
                .ctx
                .sql_with_options(sql, read_only())
                .await
                .map_err(sql_limit)?;
            if !runs_here(df.logical_plan()) {
                return sql_remote(df, max_rows, timeout).await;
            }
            // Else run here, within every limit, over the same tables.
        }
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_limit(memory_bytes, 1.0)
            .build_arc()
            .map_err(|e| SqlLimit::Failed(Error::from(e)))?;
        let ctx = SessionContext::new_with_config_rt(self.ctx.copied_config(), runtime);
        ctx.add_optimizer_rule(Arc::new(limits::CheckedSums));
        copy_catalog(&self.ctx, &ctx)
            .await
            .map_err(|e| SqlLimit::Failed(Error::from(e)))?;
        // Planned here, so that a refusal answers at once; run on the SQL threads.
        let df = ctx
            .sql_with_options(sql, read_only())
            .await
            .map_err(sql_limit)?;
        limits::check_growth(df.logical_plan()).map_err(SqlLimit::Failed)?;
        let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
        let task = Arc::new(df.task_ctx());
        let plan = df.create_physical_plan().await.map_err(sql_limit)?;
        limits::check_joins(&plan).map_err(SqlLimit::Failed)?;
        let plan = limits::checked_arithmetic(plan).map_err(SqlLimit::Failed)?;
        let run = async move {
            let stream =
                datafusion::physical_plan::execute_stream(plan, task).map_err(sql_limit)?;
            take_rows(stream, schema, max_rows).await
        };
        let mut task = limits::runtime().map_err(SqlLimit::Failed)?.spawn(run);
        match tokio::time::timeout(timeout, &mut task).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => Err(SqlLimit::Failed(Error::Internal(format!(
                "the query stopped: {e}"
            )))),
            Err(_) => {
                task.abort();
                Err(SqlLimit::Time(timeout))
            }
        }
    }

    /// Runs ad-hoc read-only SQL: DDL, DML and other statements are refused.
    pub async fn sql(&self, sql: &str) -> Result<Output> {
        check_depth(sql)?;
        let df = self
            .ctx
            .sql_with_options(sql, read_only())
            .await
            .map_err(|e| failed("sql", e))?;
        let df = match &self.here {
            Some(here) if runs_here(df.logical_plan()) => here
                .execute_logical_plan(df.into_unoptimized_plan())
                .await
                .map_err(|e| failed("sql", e))?,
            _ => df,
        };
        let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
        let batches = df.collect().await.map_err(|e| failed("sql", e))?;
        Ok(Output { schema, batches })
    }
}

/// [`Session::sql_limited`] on a cluster: the same refusals, the row limit and the time
/// limit; the memory limit is the executors' own (their memory pools).
async fn sql_remote(
    df: datafusion::dataframe::DataFrame,
    max_rows: usize,
    timeout: std::time::Duration,
) -> std::result::Result<Output, SqlLimit> {
    limits::check_growth(df.logical_plan()).map_err(SqlLimit::Failed)?;
    let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
    let run = async move {
        let stream = df.execute_stream().await.map_err(sql_limit)?;
        take_rows(stream, schema, max_rows).await
    };
    // Dropped at the limit: the client stops waiting for the cluster's job.
    tokio::time::timeout(timeout, run)
        .await
        .unwrap_or(Err(SqlLimit::Time(timeout)))
}

/// The rows of `stream`, refused past `max_rows` (an error, not a silent cut).
async fn take_rows(
    mut stream: datafusion::physical_plan::SendableRecordBatchStream,
    schema: SchemaRef,
    max_rows: usize,
) -> std::result::Result<Output, SqlLimit> {
    use futures::StreamExt;
    let mut batches = Vec::new();
    let mut rows = 0;
    while let Some(b) = stream.next().await {
        let b = b.map_err(sql_limit)?;
        rows += b.num_rows();
        if rows > max_rows {
            return Err(SqlLimit::Rows(max_rows));
        }
        batches.push(b);
    }
    Ok(Output { schema, batches })
}

/// Whether a session on a cluster runs `plan` in this process: when it scans none of the
/// stored files (its rows are the table functions' answers, computed here, or literals:
/// sending them to the cluster would only send them back), or when it holds a recursive
/// query (its work table is shared by two operators of one process; Ballista 55 cannot
/// ship it).
pub fn runs_here(plan: &LogicalPlan) -> bool {
    !scans_files(plan) || any_plan(plan, &|p| matches!(p, LogicalPlan::RecursiveQuery(_)))
}

/// Whether `plan` (its subqueries and the views it names too) scans files: a listing table,
/// or the batch's walk over the graph index.
fn scans_files(plan: &LogicalPlan) -> bool {
    any_plan(plan, &|p| {
        let LogicalPlan::TableScan(scan) = p else {
            return false;
        };
        let Ok(provider) = datafusion::datasource::source_as_provider(&scan.source) else {
            return false;
        };
        let any: &dyn std::any::Any = provider.as_ref();
        if let Some(view) = any.downcast_ref::<datafusion::catalog::view::ViewTable>() {
            return scans_files(view.logical_plan());
        }
        any.is::<datafusion::datasource::listing::ListingTable>()
            || any.is::<hotspot::batch::BatchTable>()
    })
}

/// Whether a node of `plan`, or of its subqueries, is `wanted`.
fn any_plan(plan: &LogicalPlan, wanted: &dyn Fn(&LogicalPlan) -> bool) -> bool {
    use datafusion::common::tree_node::TreeNodeRecursion;
    let mut found = false;
    let _ = plan.apply_with_subqueries(|p| {
        found = wanted(p);
        Ok(if found {
            TreeNodeRecursion::Stop
        } else {
            TreeNodeRecursion::Continue
        })
    });
    found
}

/// An engine error of limited ad-hoc SQL: the memory pool exhausted, or a failed query.
fn sql_limit(e: datafusion::error::DataFusionError) -> SqlLimit {
    match e.find_root() {
        datafusion::error::DataFusionError::ResourcesExhausted(m) => SqlLimit::Memory(m.clone()),
        _ => SqlLimit::Failed(failed("sql", e)),
    }
}

/// What ad-hoc SQL may do: read. DDL, DML and other statements are refused.
fn read_only() -> SQLOptions {
    SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false)
}

/// An engine error of query `id` (`sql` for ad-hoc SQL) as callers see it: what a table
/// function raised, as itself; anything else a failed query, its cause kept.
fn failed(id: &str, e: datafusion::error::DataFusionError) -> Error {
    match raised(&e) {
        Some(e) => e,
        None => Error::QueryFailed {
            id: id.to_owned(),
            source: e,
        },
    }
}

/// The [`Error::NotFound`] or [`Error::OutOfRange`] a table function raised inside `e`, if
/// any, so callers answer it as such (404, 422) rather than as a failed query.
fn raised(e: &datafusion::error::DataFusionError) -> Option<Error> {
    match e.find_root() {
        datafusion::error::DataFusionError::External(inner) => {
            match inner.downcast_ref::<Error>() {
                Some(Error::NotFound(m)) => Some(Error::NotFound(m.clone())),
                Some(Error::OutOfRange { footprint, message }) => Some(Error::OutOfRange {
                    footprint: footprint.clone(),
                    message: message.clone(),
                }),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Why limited ad-hoc SQL stopped.
#[derive(Debug)]
pub enum SqlLimit {
    /// It needed more memory than allowed.
    Memory(String),
    /// It returned more rows than allowed.
    Rows(usize),
    /// It ran longer than allowed.
    Time(std::time::Duration),
    /// It failed for another reason (bad SQL, a refused statement, …).
    Failed(Error),
}

/// Whether a column type is one of the exact amount types.
pub fn is_decimal(t: &DataType) -> bool {
    matches!(t, DataType::Decimal128(_, _))
}
