//! The `mieruka` command: parses arguments, sets up logging, runs the subcommand (one file
//! each in `cli/`) and turns the outcome into an exit code (0 fine, 1 some documents
//! rejected, 2 usage or I/O error).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cli;

#[global_allocator]
static ALLOCATOR: Mimalloc = Mimalloc;

/// mimalloc, asked for its plain `mi_malloc` wherever the alignment wanted is one every block
/// it gives has (a word: its blocks are whole words from 16-byte aligned starts), and for its
/// aligned variants only above that. The `mimalloc` crate always asks for the aligned ones,
/// whose fast path covers only small blocks no larger than their alignment: every string of a
/// footprint and every larger buffer went the generic aligned way (2 % of an ingest check's
/// instructions, `BENCHMARKS.md`).
struct Mimalloc;

/// The alignment every block mimalloc gives has.
const WORD: usize = std::mem::size_of::<usize>();

// SAFETY: each method passes the layout's size (and, above a word, its alignment) to the
// mimalloc function made for it, which returns a block of at least that size with at least
// that alignment, or null; blocks are freed and reallocated by mimalloc, which allocated
// them all.
unsafe impl std::alloc::GlobalAlloc for Mimalloc {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        use libmimalloc_sys::{mi_malloc, mi_malloc_aligned};
        // SAFETY: see the impl.
        unsafe {
            if layout.align() <= WORD {
                mi_malloc(layout.size()).cast()
            } else {
                mi_malloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        use libmimalloc_sys::{mi_zalloc, mi_zalloc_aligned};
        // SAFETY: see the impl.
        unsafe {
            if layout.align() <= WORD {
                mi_zalloc(layout.size()).cast()
            } else {
                mi_zalloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: std::alloc::Layout) {
        // SAFETY: see the impl; `ptr` came from this allocator.
        unsafe { libmimalloc_sys::mi_free(ptr.cast()) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        use libmimalloc_sys::{mi_realloc, mi_realloc_aligned};
        // SAFETY: see the impl; `ptr` came from this allocator with `layout`.
        unsafe {
            if layout.align() <= WORD {
                mi_realloc(ptr.cast(), new_size).cast()
            } else {
                mi_realloc_aligned(ptr.cast(), new_size, layout.align()).cast()
            }
        }
    }
}

/// mieruka (見える化): supply-chain carbon footprint hotspots and GX product scores from
/// PACT footprints with the Green x Digital Consortium Gate-to-Gate extension.
///
/// Without --data, every command reads the bundled demo dataset (a synthetic notebook-PC
/// supply chain) read-only. With --data DIR (or MIERUKA_DATA), commands read the data
/// directory DIR, which `mieruka ingest --data DIR FILES…` creates and fills.
#[derive(Parser)]
#[command(name = "mieruka", version, max_term_width = 100)]
struct Cli {
    /// Log more (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Serve(cli::serve::ServeArgs),
    Ingest(cli::ingest::IngestArgs),
    Pull(cli::pull::PullArgs),
    Request(cli::request::RequestArgs),
    Migrate(cli::migrate::MigrateArgs),
    Footprints(cli::footprints::FootprintsArgs),
    Query(cli::query::QueryArgs),
    Hotspots(cli::hotspots::HotspotsArgs),
    Gaps(cli::gaps::GapsArgs),
    Score(cli::score::ScoreArgs),
    Sheet(cli::sheet::SheetArgs),
    Rank(cli::rank::RankArgs),
    Whatif(cli::whatif::WhatifArgs),
    Batch(cli::batch::BatchArgs),
    #[cfg(feature = "cluster")]
    Cluster(cli::cluster::ClusterArgs),
    Gen(cli::generate::GenArgs),
}

async fn run(command: Command) -> anyhow::Result<u8> {
    match command {
        Command::Serve(args) => cli::serve::run(args).await,
        Command::Ingest(args) => cli::ingest::run(args),
        Command::Pull(args) => cli::pull::run(args).await,
        Command::Request(args) => cli::request::run(args).await,
        Command::Migrate(args) => cli::migrate::run(args),
        Command::Footprints(args) => cli::footprints::run(args).await,
        Command::Query(args) => cli::query::run(args).await,
        Command::Hotspots(args) => cli::hotspots::run(args).await,
        Command::Gaps(args) => cli::gaps::run(args).await,
        Command::Score(args) => cli::score::run(args).await,
        Command::Sheet(args) => cli::sheet::run(args).await,
        Command::Rank(args) => cli::rank::run(args).await,
        Command::Whatif(args) => cli::whatif::run(args).await,
        Command::Gen(args) => cli::generate::run(args),
        Command::Batch(args) => cli::batch::run(args).await,
        #[cfg(feature = "cluster")]
        Command::Cluster(args) => cli::cluster::run(args).await,
    }
}

fn init_tracing(verbose: u8, serving: bool) {
    let level = match verbose {
        0 if serving => "info",
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!(
            "mieruka={level},tower_http={level},{}",
            if verbose > 2 { "trace" } else { "warn" }
        ))
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.verbose, matches!(cli.command, Command::Serve(_)));
    cli::small_pages(true);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(mieruka::STACK_BYTES)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mieruka: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("mieruka: {}", message(&e));
            ExitCode::from(2)
        }
    }
}

/// The error and its causes, each said once: a library error already names its cause in its
/// message (`query sql: Error during planning: …`), a context added here does not.
fn message(e: &anyhow::Error) -> String {
    let mut out = e.to_string();
    for cause in e.chain().skip(1) {
        let cause = cause.to_string();
        if !out.contains(&cause) {
            out.push_str(": ");
            out.push_str(&cause);
        }
    }
    out
}
