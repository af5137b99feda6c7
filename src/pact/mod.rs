//! PACT interoperability: the host API `mieruka serve` offers to data recipients, the client
//! `mieruka pull` uses to read from other hosts, and the `$filter` subset of PACT v2.

pub mod client;
pub mod filter;
pub(crate) mod host;
pub mod request;

pub use host::{PactClient, PactConfig};
