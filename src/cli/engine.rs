//! `--engine ballista://HOST:PORT`: the commands' sessions on a cluster (feature
//! `cluster`); without the feature, a clear refusal naming how to build it.

use std::path::Path;
use std::sync::Arc;

use datafusion::prelude::SessionContext;
use mieruka::hotspot::Graph;
use mieruka::query::{Reads, Session};

/// The refusal of `--engine` in a build without the feature.
#[cfg(not(feature = "cluster"))]
fn not_built(url: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "--engine {url}: this mieruka was built without the cluster feature (cargo build --release --features cluster)"
    )
}

/// `data`, which a cluster's executors scan themselves: a data directory is required.
fn data_dir<'a>(url: &str, data: Option<&'a Path>) -> anyhow::Result<&'a Path> {
    data.ok_or_else(|| {
        anyhow::anyhow!(
            "--engine {url}: the cluster reads a data directory's files; give --data DIR (a path every executor reads; the bundled demo lives only in this process)"
        )
    })
}

/// A catalog session on the cluster at `url` over `data`. What the statement `reads`
/// decides what this process loads: nothing for SQL over the stored tables (the executors
/// scan them), every table when it scores products (`gx_scores` scores here).
#[cfg(feature = "cluster")]
pub async fn catalog_session(
    url: &str,
    data: Option<&Path>,
    reads: Reads,
) -> anyhow::Result<Session> {
    use mieruka::dataset;
    let dir = data_dir(url, data)?;
    let engine = mieruka::cluster::Engine::parse(url)?;
    let tables = match reads.scores {
        false => mieruka::table::Tables::default(),
        true => dataset::load(Some(dir))?,
    };
    let graph = Arc::new(dataset::graph(Some(dir))?);
    Ok(mieruka::cluster::catalog::session(
        &engine,
        dir,
        &tables,
        mieruka::score::Profile::default_profile(),
        Some(graph),
        mieruka::cluster::DEFAULT_PARTITIONS,
    )
    .await?)
}

#[cfg(not(feature = "cluster"))]
pub async fn catalog_session(
    url: &str,
    data: Option<&Path>,
    _reads: Reads,
) -> anyhow::Result<Session> {
    data_dir(url, data)?;
    Err(not_built(url))
}

/// The server's engine: its sessions on the cluster at `url`, over `data`.
#[cfg(feature = "cluster")]
pub fn server_engine(
    url: &str,
    data: Option<&Path>,
) -> anyhow::Result<Arc<dyn mieruka::query::Engine>> {
    let dir = data_dir(url, data)?;
    Ok(Arc::new(mieruka::cluster::catalog::ClusterEngine {
        engine: mieruka::cluster::Engine::parse(url)?,
        data: dir.to_path_buf(),
        partitions: mieruka::cluster::DEFAULT_PARTITIONS,
    }))
}

#[cfg(not(feature = "cluster"))]
pub fn server_engine(
    url: &str,
    data: Option<&Path>,
) -> anyhow::Result<Arc<dyn mieruka::query::Engine>> {
    data_dir(url, data)?;
    Err(not_built(url))
}

/// A client context on the cluster at `url` with the batch functions over `graph`, and how
/// a batch's summary names the engine.
#[cfg(feature = "cluster")]
pub async fn batch_context(
    url: &str,
    graph: Arc<Graph>,
    partitions: Option<usize>,
) -> anyhow::Result<(SessionContext, String)> {
    let engine = mieruka::cluster::Engine::parse(url)?;
    let partitions = partitions.unwrap_or(mieruka::cluster::DEFAULT_PARTITIONS);
    let ctx = mieruka::cluster::session(&engine, graph, partitions).await?;
    Ok((ctx, engine.name()))
}

#[cfg(not(feature = "cluster"))]
pub async fn batch_context(
    url: &str,
    _graph: Arc<Graph>,
    _partitions: Option<usize>,
) -> anyhow::Result<(SessionContext, String)> {
    Err(not_built(url))
}
