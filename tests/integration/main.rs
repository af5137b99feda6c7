//! mieruka's integration tests: one binary, one module per domain.

mod batch;
mod browser;
mod cli;
#[cfg(feature = "cluster")]
mod cluster;
mod common;
mod fuzz;
mod generator;
mod hotspot;
mod ingest;
mod layers;
mod pact_convert;
mod pact_host;
mod pact_pull;
mod pages;
mod properties;
mod query;
mod score;
mod server;
mod slt;
mod store;
mod uncertainty;
mod whatif;
