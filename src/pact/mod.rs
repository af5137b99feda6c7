//! PACT interoperability: the host API `mieruka serve` offers to data recipients, and the
//! `$filter` subset of PACT v2.

pub mod filter;
pub(crate) mod host;

pub use host::{PactClient, PactConfig};
