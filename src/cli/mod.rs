//! The subcommands of the `mieruka` binary, one file each: its arguments (clap) and its `run`.
//! They call the library and print; `main.rs` dispatches to them.

pub mod migrate;
