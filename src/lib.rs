//! mieruka (見える化, "making visible"): GX product scoring and supply-chain hotspot analytics
//! over PACT product carbon footprints with the Green x Digital Consortium Gate-to-Gate
//! extension.
//!
//! The modules are layers, each using only those below it (ARCHITECTURE.md has the table,
//! and a test enforces it): [`model`] (documents, fixed point) ← [`table`] (Arrow tables and
//! views, the graph index) ← [`store`] (the data directory) ← [`ingest`] (validation);
//! [`hotspot`] and [`score`] compute on tables; [`query`] (the SQL catalog and sessions) ←
//! [`output`] ← [`report`] (the views the CLI and the API share) ← [`chart`] ←
//! [`dashboard`] ← [`server`], with [`pact`] (the PACT protocol and client) beside. The few
//! names most programs need are re-exported here.

#![deny(missing_docs)]

pub mod chart;
#[cfg(feature = "cluster")]
pub mod cluster;
pub mod dashboard;
pub mod dataset;
pub mod escape;
pub mod font;
pub mod generator;
pub mod hotspot;
pub mod ingest;
pub mod lang;
pub mod model;
pub mod output;
pub mod pact;
mod pages;
pub mod query;
pub mod report;
pub mod score;
pub mod server;
pub mod store;
pub mod table;

mod error;

pub use error::{Error, Result};
pub use hotspot::{Decomposition, Graph, Request};
pub use ingest::{IngestOptions, IngestReport, Source};
pub use query::{Catalog, Output, Session};
pub use store::Store;
pub use table::Tables;

/// The stack of every runtime thread mieruka starts: 32 MiB (reserved, touched only as
/// used). A plan sent to a cluster is decoded from protobuf one call per level of nesting,
/// with no depth limit (the catalog's views over the stored files nest deeper than prost's
/// default of 100), and a debug build's frames are large.
pub const STACK_BYTES: usize = 32 << 20;
