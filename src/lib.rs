//! mieruka (見える化, "making visible"): GX product scoring and supply-chain hotspot analytics
//! over PACT product carbon footprints with the Green x Digital Consortium Gate-to-Gate
//! extension.
//!
//! The flow: [`ingest`] checks PACT v2/v3 documents and BOM CSVs and turns them into the
//! Arrow rows of [`table`]; [`store`] keeps them in a data directory (Parquet plus every
//! original document, committed atomically); [`query`] registers the tables in a DataFusion
//! session and runs the SQL catalog in `queries/`; [`dataset`] bundles the demo data;
//! [`generator`] makes synthetic supply chains; [`output`] prints tables as text, CSV or JSON.

#![deny(missing_docs)]

pub mod chart;
pub mod dashboard;
pub mod dataset;
pub mod generator;
pub mod hotspot;
pub mod ingest;
pub mod model;
pub mod output;
pub mod pact;
pub mod query;
pub mod report;
pub mod score;
pub mod server;
pub mod store;
pub mod table;

mod error;

pub use error::{Error, Result};
