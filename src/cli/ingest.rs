//! `mieruka ingest`: checks PACT footprints and BOM CSVs and stores them; the ingest helpers
//! `mieruka pull` shares (the one commit with its progress bar, the report).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mieruka::ingest::{self, IngestOptions, IngestReport, Source};
use mieruka::store::Store;

/// How an ingest report is printed.
#[derive(Clone, Copy, ValueEnum)]
pub enum ReportFormat {
    Table,
    Json,
}

/// Check PACT footprints and BOM CSVs and store them in a data directory.
///
/// Reads PACT v2 or v3 ProductFootprints as single documents, list responses
/// ({"data":[…]}), JSON arrays, NDJSON or CloudEvents, and BOM CSVs whose header is
/// `parent_product_id,child_product_id,amount,unit`. A directory is read recursively.
/// Each document is checked whole: a document with any error is rejected and the others
/// are stored (unless --all-or-nothing). Re-ingesting the same id and version is a no-op.
/// Files are read in pieces and stored as they are checked, in one commit: memory does not
/// grow with the input, and a failed or interrupted ingest stores nothing.
///
/// Exit status: 0 nothing rejected, 1 some documents rejected, 2 usage or I/O error.
///
/// Examples:
///   mieruka ingest --data ./gx footprints.json bom.csv
///   mieruka ingest --dry-run --format json supplier-upload.ndjson
#[derive(Args)]
#[command(verbatim_doc_comment)]
pub struct IngestArgs {
    /// Files or directories to read.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Data directory to store into (created if missing).
    #[arg(long, value_name = "DIR", env = "MIERUKA_DATA")]
    data: Option<PathBuf>,
    /// Check only; store nothing.
    #[arg(long)]
    dry_run: bool,
    /// Store nothing if any document is rejected.
    #[arg(long)]
    all_or_nothing: bool,
    /// Largest JSON document accepted, e.g. 16MiB: an NDJSON line, a whole JSON file, or each
    /// footprint of a larger file that is a JSON array or a list response ({"data":[…]}).
    #[arg(long, value_name = "SIZE", default_value = "16MiB", value_parser = parse_size)]
    max_document_size: usize,
    /// Report format.
    #[arg(long, value_enum, default_value = "table")]
    format: ReportFormat,
    /// Copy large files into memory as they are read instead of mapping them (mapped, the
    /// checks read the system's cached pages in place, a few per cent faster). Use it for a file
    /// that another process may cut short while it is ingested, which ends a mapped read
    /// with SIGBUS (nothing is stored then), or on a filesystem that maps files slowly.
    #[arg(long)]
    no_mmap: bool,
}

/// Runs `mieruka ingest`; the exit code.
pub fn run(args: IngestArgs) -> anyhow::Result<u8> {
    let IngestArgs {
        paths,
        data,
        dry_run,
        all_or_nothing,
        max_document_size,
        format,
        no_mmap,
    } = args;
    let opts = IngestOptions {
        max_document_bytes: max_document_size,
        all_or_nothing,
        map_files: !no_mmap,
        before_commit: Some(release_freed_pages),
        ..IngestOptions::default()
    };
    // A dry run has no commit to give the pages back before: it keeps the default.
    if data.is_some() && !dry_run {
        hold_freed_pages();
    }
    let report = run_ingest(&paths, data.as_deref(), dry_run, &opts)?;
    print_report(&report, format)?;
    Ok(report.exit_code() as u8)
}

/// mimalloc's `mi_option_purge_delay` (its place in `mi_option_t` of mimalloc 3, which
/// the `mimalloc` crate builds; its bindings name only version 2's options).
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// The checking frees and allocates a chunk's worth of pages several times a second.
/// mimalloc's default gives pages free for a second back to the system, and they are
/// faulted in again, zeroed by the kernel: a fifth of an ingest's CPU at 1M footprints.
/// While the sources are checked, free pages wait (an hour, longer than any ingest) …
fn hold_freed_pages() {
    // SAFETY: sets an option of the allocator linked into this binary; any value is valid
    // for the purge delay (milliseconds), and options may be set while it runs.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 3_600_000) }
}

/// … and before the commit builds the graph index they all go back (a forced collect
/// purges every waiting page, however long its delay). The index then frees its steps'
/// arrays of hundreds of megabytes each at once: with no delay, so that a step's freed
/// arrays are not still resident beside the next one's new ones (the default, a second,
/// set the peak of a 3M-footprint ingest).
fn release_freed_pages() {
    // SAFETY: as in `hold_freed_pages`; `mi_collect` may be called from any thread.
    unsafe {
        libmimalloc_sys::mi_option_set(PURGE_DELAY, 0);
        libmimalloc_sys::mi_collect(true);
    }
}

fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: usize = num
        .parse()
        .map_err(|_| format!("expected a size like 16MiB, got {s:?}"))?;
    let mult = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => {
            return Err(format!(
                "unknown size unit in {s:?} (use B, KiB, MiB or GiB)"
            ));
        }
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("{s:?} is too large"))
}

/// Reads `paths` and ingests them (see [`ingest_sources`]).
fn run_ingest(
    paths: &[PathBuf],
    data: Option<&Path>,
    dry_run: bool,
    opts: &IngestOptions,
) -> anyhow::Result<IngestReport> {
    if data.is_none() && !dry_run {
        anyhow::bail!(
            "ingest needs --data DIR (or MIERUKA_DATA): the bundled demo dataset is read-only. Use --dry-run to check files without storing them."
        );
    }
    let mut sources = Vec::new();
    for p in paths {
        sources.extend(Source::read_path(p)?);
    }
    ingest_sources(&sources, data, dry_run, opts)
}

/// Checks `sources` and, unless `dry_run`, stores them into `data` in one commit.
pub fn ingest_sources(
    sources: &[Source],
    data: Option<&Path>,
    dry_run: bool,
    opts: &IngestOptions,
) -> anyhow::Result<IngestReport> {
    let mut total = 0u64;
    for s in sources {
        total += s.size()?;
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} checking {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let start = Instant::now();
    let shown = AtomicBool::new(false);
    let interactive = std::io::stderr().is_terminal();
    let progress = |n: u64| {
        bar.inc(n);
        if interactive
            && start.elapsed() > Duration::from_secs(1)
            && !shown.swap(true, Ordering::Relaxed)
        {
            bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    };
    let result = match (data, dry_run) {
        (Some(dir), false) => {
            ingest::ingest_into(&Store::create_or_open(dir)?, sources, opts, &progress)
                // Every error comes before the commit (its manifest is the last write).
                .with_context(|| {
                    format!(
                        "the ingest into {} stopped; nothing was stored, the directory is as it was",
                        dir.display()
                    )
                })?
        }
        (data, _) => {
            // A dry run checks against the data directory when there is one, and builds the
            // Arrow tables too, so it does everything but write.
            let store = data.and_then(|dir| Store::open(dir).ok());
            ingest::dry_run(store.as_ref(), sources, opts, &progress)?
        }
    };
    bar.finish_and_clear();
    tracing::info!("ingest took {:.2?}", start.elapsed());
    Ok(result)
}

/// Prints `r` as a summary table (errors and warnings first) or JSON.
pub fn print_report(r: &IngestReport, format: ReportFormat) -> anyhow::Result<()> {
    match format {
        ReportFormat::Json => outln!("{}", serde_json::to_string_pretty(r)?),
        ReportFormat::Table => {
            const SHOWN: usize = 50;
            let lists = [
                ("error", &r.errors, r.error_count()),
                ("warning", &r.warnings, r.warning_count()),
            ];
            for (label, list, count) in lists {
                for p in list.iter().take(SHOWN) {
                    let at = if p.pointer.is_empty() {
                        String::new()
                    } else {
                        format!(" {}", p.pointer)
                    };
                    outln!(
                        "{label}: {}:{} #{}{at}: {}",
                        p.source,
                        p.line,
                        p.index,
                        p.message
                    );
                }
                let more = count - list.len().min(SHOWN);
                if more > 0 {
                    let whole = match count > list.len() {
                        true => format!(
                            "--format json lists the first {}; the ingest log has every one when the ingest is stored",
                            list.len()
                        ),
                        false => "use --format json to see all".to_owned(),
                    };
                    outln!("… and {more} more {label}s ({whole})");
                }
            }
            outln!(
                "accepted {} ({} new footprints, {} BOM edges, {} duplicates), rejected {}, {} warnings; {}",
                r.accepted,
                r.footprints,
                r.bom_edges,
                r.duplicates,
                r.rejected,
                r.warning_count(),
                match (r.stored, r.ingest_seq) {
                    (true, Some(seq)) => format!("stored as ingest #{seq}"),
                    _ => "nothing stored".to_owned(),
                }
            );
        }
    }
    Ok(())
}
