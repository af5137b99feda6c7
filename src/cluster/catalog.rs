//! The catalog on a cluster: the data directory's stored tables as Parquet listing tables
//! that the executors scan themselves, and the views the embedded session computes in Rust
//! ([`crate::table::Tables::footprints_view`] and the others) written as SQL over them.
//!
//! The views keep the embedded rows: `footprints.is_latest` is true for a row whose version
//! is its id's highest and whose id no footprint names in `preceding_pf_ids`; `bom` and
//! `gx_attributes` keep the last stored row of each key, which on files means the row of
//! the latest ingest, then of the greatest source and line. (Embedded, the stored order
//! decides between two rows of one key from the same ingest; the two differ only when one
//! upload carries the same edge or product twice in files listed out of name order.)

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::execution::context::SessionContext;

use super::Engine;
use crate::hotspot::{Graph, GraphSource};
use crate::query::Session;
use crate::score::Profile;
use crate::store::{Store, Table};
use crate::table::Tables;
use crate::{Error, Result};

/// The views over the stored rows, as SQL; in the order they are created.
const VIEWS: [&str; 3] = [
    "CREATE VIEW footprints AS \
     SELECT f.*, \
            coalesce(f.version, -1) = max(coalesce(f.version, -1)) OVER (PARTITION BY f.id) \
            AND s.id IS NULL AS is_latest \
     FROM stored_footprints f \
     LEFT JOIN (SELECT DISTINCT p.id FROM \
                  (SELECT unnest(preceding_pf_ids) AS id FROM stored_footprints) p \
                WHERE p.id IS NOT NULL) s \
       ON f.id = s.id",
    "CREATE VIEW bom AS \
     SELECT * EXCLUDE (keep_rank) FROM \
       (SELECT *, row_number() OVER (PARTITION BY parent_product_id, child_product_id, \
                                     parent_footprint_id \
                                     ORDER BY ingest_seq DESC, source DESC, line DESC) AS keep_rank \
        FROM bom_history) \
     WHERE keep_rank = 1",
    "CREATE VIEW gx_attributes AS \
     SELECT * EXCLUDE (keep_rank) FROM \
       (SELECT *, row_number() OVER (PARTITION BY product_id \
                                     ORDER BY ingest_seq DESC, source DESC, line DESC) AS keep_rank \
        FROM stored_gx_attributes) \
     WHERE keep_rank = 1",
];

/// A session on `engine` over the data directory `data`: its SQL runs on the cluster, which
/// scans the directory's Parquet files (at the same path on every executor); the scores and
/// the single-product functions answer here from `tables` and `graph` (built from `tables`
/// when `None`).
pub async fn session(
    engine: &Engine,
    data: &Path,
    tables: &Tables,
    profile: Profile,
    graph: Option<Arc<Graph>>,
    partitions: usize,
) -> Result<Session> {
    let source = Arc::new(match graph {
        Some(g) => GraphSource::from_graph(g),
        None => GraphSource::new(tables.footprints_view()?, tables.bom_view()?),
    });
    let ctx = super::client(engine, source.clone(), partitions).await?;
    register_stored(&ctx, data).await?;
    Session::on_context(ctx, tables, profile, source).await
}

/// Registers the stored tables of `data` on `ctx`: `stored_footprints`,
/// `footprint_extensions`, `bom_history`, `ingest_log` and `stored_gx_attributes` as
/// listings of the segments' files, `pact_requests` in memory (the request log is small,
/// and is not Parquet), and the views over them.
pub async fn register_stored(ctx: &SessionContext, data: &Path) -> Result<()> {
    let data = data.canonicalize().map_err(|e| Error::io(data, e))?;
    let store = Store::open(&data)?;
    for (name, table) in [
        ("stored_footprints", Table::Footprints),
        ("footprint_extensions", Table::Extensions),
        ("bom_history", Table::Bom),
        ("ingest_log", Table::IngestLog),
        ("stored_gx_attributes", Table::GxAttributes),
    ] {
        register_files(ctx, name, store.table_files(table)?, table.schema())?;
    }
    let schema = crate::table::requests_schema();
    ctx.register_table(
        "pact_requests",
        Arc::new(MemTable::try_new(schema, vec![store.requests_or_empty()])?),
    )?;
    for view in VIEWS {
        ctx.sql(view).await?;
    }
    Ok(())
}

/// `files` as the table `name` (an empty table when there are none).
fn register_files(
    ctx: &SessionContext,
    name: &str,
    files: Vec<PathBuf>,
    schema: SchemaRef,
) -> Result<()> {
    if files.is_empty() {
        ctx.register_table(name, Arc::new(MemTable::try_new(schema, vec![vec![]])?))?;
        return Ok(());
    }
    let urls = files
        .iter()
        .map(|p| {
            let text = p
                .to_str()
                .ok_or_else(|| Error::Usage(format!("{}: not a UTF-8 path", p.display())))?;
            Ok(ListingTableUrl::parse(text)?)
        })
        .collect::<Result<Vec<_>>>()?;
    let options =
        ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
    let config = ListingTableConfig::new_with_multi_paths(urls)
        .with_listing_options(options)
        .with_schema(schema);
    ctx.register_table(name, Arc::new(ListingTable::try_new(config)?))?;
    Ok(())
}

/// A server's engine: sessions on a cluster over the data directory `data`.
#[derive(Debug, Clone)]
pub struct ClusterEngine {
    /// The cluster.
    pub engine: Engine,
    /// The data directory, at the same path on every executor.
    pub data: PathBuf,
    /// Partitions per plan.
    pub partitions: usize,
}

#[async_trait::async_trait]
impl crate::query::Engine for ClusterEngine {
    async fn session(
        &self,
        tables: &Tables,
        profile: Profile,
        graph: Option<Arc<Graph>>,
    ) -> Result<Session> {
        session(
            &self.engine,
            &self.data,
            tables,
            profile,
            graph,
            self.partitions,
        )
        .await
    }

    fn name(&self) -> String {
        self.engine.name()
    }
}
