//! mieruka's integration tests: one binary, one module per domain.

mod cli;
mod common;
mod generator;
mod hotspot;
mod ingest;
mod query;
mod score;
mod store;
