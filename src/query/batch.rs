//! The all-products batch: every root product's decomposition (`hotspot_batch`) and its sums
//! per supplier and per tier (`hotspot_batch_suppliers`, `hotspot_batch_tiers`), written as
//! partitioned Parquet into a new directory. It runs
//! as SQL on whatever engine the session is (embedded, or a cluster's), so both give the
//! same rows.

use std::path::{Path, PathBuf};

use datafusion::arrow::array::{Array, UInt64Array};
use datafusion::common::config::TableParquetOptions;
use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::execution::context::SessionContext;
use datafusion::prelude::ParquetReadOptions;
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

/// The SQL of the batch's table `output`: every root product's, or those of `roots`
/// (product URNs or footprint ids; the scan walks only these).
pub fn sql(output: BatchOutput, req: &BatchRequest, roots: Option<&[String]>) -> String {
    let mut sql = format!(
        "SELECT * FROM {}({}, {:?}, '{}')",
        output.function(),
        req.max_tier,
        req.min_share_pct,
        req.basis.as_str()
    );
    if let Some(roots) = roots {
        let quoted: Vec<String> = roots
            .iter()
            .map(|r| format!("'{}'", r.replace('\'', "''")))
            .collect();
        sql.push_str(&format!(
            " WHERE root_product_id IN ({})",
            if quoted.is_empty() {
                "NULL".to_owned()
            } else {
                quoted.join(", ")
            }
        ));
    }
    sql
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
    let path = |name: &str| -> Result<String> {
        let p = dir.join(name);
        p.to_str()
            .map(str::to_owned)
            .ok_or_else(|| Error::Usage(format!("{}: not a UTF-8 path", p.display())))
    };
    let mut rows = [0u64; 3];
    for (k, output) in BatchOutput::ALL.into_iter().enumerate() {
        rows[k] = copy(ctx, &sql(output, req, roots), &path(output.as_str())?).await?;
    }
    let [items, suppliers, tiers] = rows;
    // The roots, from the smallest table written (a row per root and tier).
    let roots = count_roots(&path("tiers")?).await?;
    let summary = BatchSummary {
        roots,
        items,
        suppliers,
        tiers,
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

/// Writes the rows of `sql` as Parquet files into the directory `to`; how many rows.
async fn copy(ctx: &SessionContext, sql: &str, to: &str) -> Result<u64> {
    let df = ctx.sql(sql).await?;
    // Row groups of 128 Ki rows, each file encoded on its own thread: a writer holds one
    // small row group, so a process writing many partitions at once stays bounded (with
    // DataFusion's defaults, 1 Mi rows encoded in parallel, an executor running eight
    // partitions' writers reached 10 GB at a million footprints).
    let mut options = TableParquetOptions::default();
    options.global.max_row_group_size = ROW_GROUP_ROWS;
    options.global.allow_single_file_parallelism = false;
    let done = df
        .write_parquet(
            // A trailing slash: a directory of files, one per partition.
            &format!("{to}/"),
            DataFrameWriteOptions::new(),
            Some(options),
        )
        .await?;
    Ok(first_count(&done))
}

/// The roots in the table written at `dir`, read back in a session of its own (none when
/// no root gave a row, and so no file was written).
async fn count_roots(dir: &str) -> Result<u64> {
    let written = std::fs::read_dir(dir).map_or(0, |d| d.count());
    if written == 0 {
        return Ok(0);
    }
    let ctx = SessionContext::new();
    ctx.register_parquet(
        "written",
        dir,
        ParquetReadOptions::default().file_extension(".parquet"),
    )
    .await?;
    let sql = "SELECT count(DISTINCT root_footprint_id) AS n FROM written";
    let batches = ctx.sql(sql).await?.collect().await?;
    Ok(batches
        .first()
        .filter(|b| b.num_rows() > 0)
        .and_then(|b| {
            let c = b.column(0);
            c.as_any()
                .downcast_ref::<datafusion::arrow::array::Int64Array>()
                .map(|a| a.value(0) as u64)
        })
        .unwrap_or(0))
}

/// The row count a write answers with (one `count` row).
fn first_count(done: &[datafusion::arrow::array::RecordBatch]) -> u64 {
    done.iter()
        .filter(|b| b.num_columns() > 0)
        .filter_map(|b| b.column(0).as_any().downcast_ref::<UInt64Array>().cloned())
        .flat_map(|a| (0..a.len()).map(move |i| a.value(i)))
        .sum()
}
