//! Datasets: the bundled demo (the notebook-PC supply chain of `datasets/pc-supply-chain/`,
//! compiled into the binary and loaded read-only), or a data directory.

use std::path::Path;

use crate::hotspot::Graph;
use crate::ingest::{self, IngestOptions, Source};
use crate::store::Store;
use crate::table::Tables;
use crate::{Error, Result};

/// Files compiled into the binary by `build.rs`.
pub mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

/// Name of the bundled demo dataset.
pub const DEMO_NAME: &str = "pc-supply-chain";

/// The demo dataset's files, as ingest sources (BOM CSVs last, so their products are known).
pub fn demo_sources() -> Vec<Source> {
    let mut sources: Vec<Source> = embedded::DEMO_DATASET
        .iter()
        .map(|(name, bytes)| Source::new(format!("datasets/{DEMO_NAME}/{name}"), bytes.to_vec()))
        .collect();
    sources.sort_by_key(|s| (s.name.ends_with(".csv"), s.name.clone()));
    sources
}

/// Loads the demo dataset into memory. It ships with the binary, so any rejected document is
/// a bug, reported as such.
pub fn demo() -> Result<Tables> {
    let sources = demo_sources();
    let prepared = ingest::prepare(
        &Tables::default(),
        &sources,
        &IngestOptions::default(),
        &|_| {},
    )?;
    if let Some(e) = prepared.report.errors.first() {
        return Err(Error::Internal(format!(
            "bundled demo dataset: {} rejected (first: {} #{} {}: {})",
            prepared.report.rejected, e.source, e.index, e.pointer, e.message
        )));
    }
    prepared.to_tables(0)
}

/// The hotspot graph of the data directory `data`, or of the demo dataset when `data` is
/// `None`: from the directory's graph index, without reading any table, when it has one;
/// else built from its tables.
pub fn graph(data: Option<&Path>) -> Result<Graph> {
    match data {
        Some(dir) => {
            let store = Store::open(dir)?;
            match stored_graph(&store) {
                Ok(Some(graph)) => Ok(graph),
                Ok(None) => Graph::from_tables(&store.load()?),
                // The index is derived from the tables: answer from them, and say so.
                Err(e) => {
                    tracing::warn!(
                        "{e}; answering from the tables instead (the next ingest writes a new index)"
                    );
                    Graph::from_tables(&store.load()?)
                }
            }
        }
        None => Graph::from_tables(&demo()?),
    }
}

/// The hotspot graph over `store`'s graph index, when it has one.
pub fn stored_graph(store: &Store) -> Result<Option<Graph>> {
    let t = std::time::Instant::now();
    let Some(index) = store.graph_index()? else {
        return Ok(None);
    };
    tracing::debug!("read the graph index in {:.2?}", t.elapsed());
    Graph::from_index(&index).map(Some)
}

/// Where the footprints' documents are, and their ids and versions, of the data directory
/// `data` (the few columns that need, not the tables), or the demo dataset when `data` is
/// `None`: for reading one document by id.
pub fn documents(data: Option<&Path>) -> Result<Tables> {
    match data {
        Some(dir) => Store::open(dir)?.load_for_ingest(false, true),
        None => demo(),
    }
}

/// The tables in `which` of the data directory `data` (the others empty), or every table of
/// the demo dataset when `data` is `None`.
pub fn load_some(data: Option<&Path>, which: crate::table::TableSet) -> Result<Tables> {
    match data {
        Some(dir) => Store::open(dir)?.load_some(which),
        None => demo(),
    }
}

/// The tables of the data directory `data`, or of the demo dataset when `data` is `None`.
pub fn load(data: Option<&Path>) -> Result<Tables> {
    match data {
        Some(dir) => Store::open(dir)?.load(),
        None => demo(),
    }
}
