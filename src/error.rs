//! The library's one error type. Document-level problems found while ingesting are not
//! errors: they are data, reported in an [`crate::ingest::IngestReport`].

use std::path::{Path, PathBuf};

/// Everything that can go wrong outside a document's own content. Callers decide by variant
/// (the server's status codes, the CLI's exit codes), never by message text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The data directory is unusable (not a mieruka directory, damaged manifest, …).
    #[error("data directory {}: {message}", dir.display())]
    Store {
        /// The data directory.
        dir: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A value is beyond the range the engines compute in (for example a footprint of more
    /// than 10^14 kgCO2e per unit, or amounts whose product along the chain is larger).
    #[error("footprint {footprint}: {message}")]
    OutOfRange {
        /// The footprint id concerned.
        footprint: String,
        /// What is out of range, and the range.
        message: String,
    },
    /// Something asked for by name or id does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The user asked for something that cannot be done as asked.
    #[error("{0}")]
    Usage(String),
    /// A query in the catalog is malformed, unknown or was given bad parameters.
    #[error("query {id}: {message}")]
    Query {
        /// Query id (path under `queries/` without `.sql`), or `sql` for ad-hoc SQL.
        id: String,
        /// What is wrong.
        message: String,
    },
    /// No query of the catalog has this id.
    #[error("query {id}: no such query; known: {}", known.join(", "))]
    UnknownQuery {
        /// The id asked for.
        id: String,
        /// The ids the catalog has.
        known: Vec<String>,
    },
    /// A query (of the catalog, or ad-hoc SQL as `sql`) failed to plan or run; the engine's
    /// error is kept as the cause.
    #[error("query {id}: {source}")]
    QueryFailed {
        /// Query id, or `sql` for ad-hoc SQL.
        id: String,
        /// The engine's error.
        source: datafusion::error::DataFusionError,
    },
    /// DataFusion failed while planning or running a query.
    #[error("query engine: {0}")]
    DataFusion(#[from] datafusion::error::DataFusionError),
    /// Arrow failed to build or convert a table.
    #[error("arrow: {0}")]
    Arrow(#[from] datafusion::arrow::error::ArrowError),
    /// Parquet failed to read or write a table.
    #[error("parquet: {0}")]
    Parquet(#[from] datafusion::parquet::errors::ParquetError),
    /// An invariant of mieruka's own data did not hold; a bug.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
