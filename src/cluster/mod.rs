//! mieruka on Apache Ballista, DataFusion's distributed engine (cargo feature `cluster`):
//! a scheduler and executors with mieruka's codecs, and client sessions that send the same
//! SQL there. Every process opens the data directory's graph index itself (the directory
//! is on storage they all read); plans carry what to compute, not the graph.
//!
//! What is distributed today: `hotspot_batch` (each executor walks the roots of the
//! partitions it is given and writes their Parquet) and everything DataFusion plans above
//! it; the catalog's SQL over the stored tables ([`catalog`]: the segments' Parquet,
//! scanned by the executors). The table functions answer where the SQL is planned, and a
//! plan over their answers only runs there; see docs/scale-out.md.

use std::net::SocketAddr;
use std::sync::Arc;

use ballista::prelude::{SessionConfigExt, SessionContextExt};
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::context::{SessionConfig, SessionContext};

use crate::hotspot::{Graph, GraphSource};
use crate::{Error, Result};

pub mod catalog;
pub mod codec;

use codec::{LogicalCodec, PhysicalCodec};

/// Partitions per plan on a cluster unless told otherwise: enough for 8 executors of two
/// slots to each have work.
pub const DEFAULT_PARTITIONS: usize = 16;

/// Ballista's default scheduler port.
pub const DEFAULT_SCHEDULER_PORT: u16 = 50050;

fn failed(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Usage(format!("{what}: {e}"))
}

/// The session configuration every mieruka process on a cluster uses: Ballista's, with
/// mieruka's codecs over `graph`, `partitions` partitions per plan.
pub fn config(graph: &Arc<GraphSource>, partitions: usize) -> SessionConfig {
    SessionConfig::new_with_ballista()
        .with_target_partitions(partitions.max(1))
        .with_ballista_logical_extension_codec(Arc::new(LogicalCodec::new(graph.clone())))
        .with_ballista_physical_extension_codec(Arc::new(PhysicalCodec::new(graph.clone())))
}

/// Where a client session sends its plans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Engine {
    /// A scheduler at `ballista://HOST:PORT`.
    Remote(String),
    /// A scheduler and one executor inside this process (tests, trying it out).
    Standalone,
}

impl Engine {
    /// Reads `ballista://HOST[:PORT]` or `ballista://standalone`.
    pub fn parse(url: &str) -> Result<Engine> {
        let rest = url.strip_prefix("ballista://").ok_or_else(|| {
            Error::Usage(format!(
                "--engine {url}: expected ballista://HOST:PORT (a scheduler; default port {DEFAULT_SCHEDULER_PORT}) or ballista://standalone"
            ))
        })?;
        if rest == "standalone" {
            return Ok(Engine::Standalone);
        }
        if rest.is_empty() || rest.contains('/') {
            return Err(Error::Usage(format!(
                "--engine {url}: expected ballista://HOST:PORT"
            )));
        }
        Ok(Engine::Remote(url.to_owned()))
    }

    /// How a batch's summary names it.
    pub fn name(&self) -> String {
        match self {
            Engine::Remote(url) => url.clone(),
            Engine::Standalone => "ballista://standalone".into(),
        }
    }
}

/// A client session on `engine` whose plans are split into `partitions` partitions, with
/// the hotspot table functions over `graph` registered.
pub async fn session(
    engine: &Engine,
    graph: Arc<Graph>,
    partitions: usize,
) -> Result<SessionContext> {
    let source = Arc::new(GraphSource::from_graph(graph));
    let ctx = client(engine, source.clone(), partitions).await?;
    crate::query::register_hotspot_functions(&ctx, &source);
    Ok(ctx)
}

/// A client context on `engine`, its codecs over `graph`, with nothing registered.
async fn client(
    engine: &Engine,
    source: Arc<GraphSource>,
    partitions: usize,
) -> Result<SessionContext> {
    let state = SessionStateBuilder::new()
        .with_default_features()
        .with_config(config(&source, partitions))
        .build();
    let ctx = match engine {
        Engine::Remote(url) => SessionContext::remote_with_state(url, state)
            .await
            .map_err(|e| failed(&format!("connecting to {url}"), e))?,
        Engine::Standalone => SessionContext::standalone_with_state(state)
            .await
            .map_err(|e| failed("starting an in-process cluster", e))?,
    };
    Ok(ctx)
}

/// Runs a scheduler on `bind` until the process ends.
pub async fn scheduler(bind: SocketAddr, graph: Arc<Graph>) -> Result<()> {
    use ballista_scheduler::cluster::BallistaCluster;
    use ballista_scheduler::config::SchedulerConfig;
    let source = Arc::new(GraphSource::from_graph(graph));
    let mut config = SchedulerConfig::default()
        .with_hostname(bind.ip().to_string())
        .with_port(bind.port());
    config.override_logical_codec = Some(Arc::new(LogicalCodec::new(source.clone())));
    config.override_physical_codec = Some(Arc::new(PhysicalCodec::new(source)));
    let cluster = BallistaCluster::new_from_config(&config)
        .await
        .map_err(|e| failed("the scheduler's state", e))?;
    ballista_scheduler::scheduler_process::start_server(cluster, bind, Arc::new(config))
        .await
        .map_err(|e| failed(&format!("the scheduler on {bind}"), e))
}

/// How an executor runs.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    /// The scheduler's host and port.
    pub scheduler: (String, u16),
    /// The address the executor listens on (its Flight service; gRPC on the next port).
    pub bind: SocketAddr,
    /// The host name other executors reach it by (default: the bind address).
    pub external_host: Option<String>,
    /// Tasks run at once.
    pub slots: usize,
    /// Where shuffle files are written (default: a temporary directory).
    pub work_dir: Option<String>,
}

/// Runs an executor until the process ends.
pub async fn executor(opts: ExecutorOptions, graph: Arc<Graph>) -> Result<()> {
    use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
    let source = Arc::new(GraphSource::from_graph(graph));
    let config = ExecutorProcessConfig {
        scheduler_host: opts.scheduler.0.clone(),
        scheduler_port: opts.scheduler.1,
        bind_host: opts.bind.ip().to_string(),
        external_host: opts.external_host.clone(),
        port: opts.bind.port(),
        grpc_port: opts.bind.port().saturating_add(1),
        vcores: opts.slots.max(1),
        work_dir: opts.work_dir.clone(),
        print_thread_info: false,
        override_logical_codec: Some(Arc::new(LogicalCodec::new(source.clone()))),
        override_physical_codec: Some(Arc::new(PhysicalCodec::new(source))),
        ..ExecutorProcessConfig::default()
    };
    start_executor_process(Arc::new(config))
        .await
        .map_err(|e| failed("the executor", e))
}
