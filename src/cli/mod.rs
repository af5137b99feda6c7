//! The subcommands of the `mieruka` binary, one file each: its arguments (clap) and its `run`.
//! They call the library and print; `main.rs` dispatches to them. What several share is here:
//! printing to stdout, the `--data`, `--format` and `--profile` arguments, opening a query
//! session, writing a file atomically.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};
use mieruka::dataset;
use mieruka::output::Format;
use mieruka::query::Session;

/// Writes to stdout; a closed pipe (`mieruka … | head`) ends the program quietly.
pub fn write_stdout(args: std::fmt::Arguments) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_fmt(args).and_then(|()| stdout.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("mieruka: writing to stdout: {e}");
        std::process::exit(2);
    }
}

/// Makes this process's new memory come in pages of 4 KiB (`true`), or puts back what the
/// process was started with (`false`): the transparent huge pages of 2 MiB the allocator asks
/// Linux for, unless whoever started it had turned them off. Elsewhere than Linux: nothing.
///
/// A huge page is cheaper to use (fewer TLB misses) and dearer to get: where the page cache
/// has filled memory, a fault of one may first compact memory, a stall of milliseconds, and
/// on a virtual machine the host may have to back 2 MiB at once. A process answering one
/// question lives a second or less and gets all its memory once, so it takes small pages (at
/// 1M footprints a cold `hotspots` took 0.26–0.66 s with huge pages, 0.28–0.36 s without);
/// `serve` takes them while it reads its tables (at 1M, started again at once: 6–10.5 s with
/// huge pages, 3–3.7 s without, and 0.7 GiB less; the first start after idle minutes is
/// about 9 s either way), then lets later memory be huge. `ingest` takes them too: it once
/// freed and reused the same pages for a minute and was a second slower without huge pages
/// ("A seventeenth look" in BENCHMARKS.md); at six seconds for a million footprints, it
/// faults in some 400 huge pages, and takes 0.6 s less system time in small ones ("A
/// thirty-sixth look").
pub fn small_pages(on: bool) {
    #[cfg(target_os = "linux")]
    {
        /// Whether huge pages were off before this process first asked for small pages.
        static STARTED_OFF: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        // SAFETY: `PR_GET_THP_DISABLE` takes no argument and reads a flag of this process.
        let started_off = *STARTED_OFF
            .get_or_init(|| unsafe { libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0) } == 1);
        let off = on || started_off;
        // SAFETY: `PR_SET_THP_DISABLE` takes a flag (0 or 1) and no pointer; it changes only
        // how this process's later page faults are served.
        let done =
            unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, libc::c_ulong::from(off), 0, 0, 0) };
        if done != 0 {
            tracing::debug!(
                "could not set small pages to {off}: {}",
                std::io::Error::last_os_error()
            );
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = on;
}

macro_rules! out {
    ($($t:tt)*) => { $crate::cli::write_stdout(format_args!($($t)*)) };
}

macro_rules! outln {
    ($($t:tt)*) => { $crate::cli::write_stdout(format_args!("{}\n", format_args!($($t)*))) };
}

pub mod batch;
#[cfg(feature = "cluster")]
pub mod cluster;
pub mod engine;
pub mod footprints;
pub mod gaps;
pub mod generate;
pub mod hotspots;
pub mod ingest;
pub mod migrate;
pub mod pull;
pub mod query;
pub mod rank;
pub mod request;
pub mod score;
pub mod serve;
pub mod sheet;
pub mod whatif;

#[derive(Args)]
/// `--data DIR`: the data directory a command reads.
pub struct DataArg {
    /// Data directory to read (default: the bundled demo dataset, read-only).
    #[arg(long, value_name = "DIR", env = "MIERUKA_DATA")]
    pub data: Option<PathBuf>,
}

/// `--format` of the commands that print a table.
#[derive(Clone, Copy, ValueEnum)]
pub enum TableFormat {
    Table,
    Json,
    Csv,
}

impl From<TableFormat> for Format {
    fn from(f: TableFormat) -> Format {
        match f {
            TableFormat::Table => Format::Table,
            TableFormat::Json => Format::Json,
            TableFormat::Csv => Format::Csv,
        }
    }
}

/// `--profile FILE`: the scoring profile.
#[derive(Args)]
pub struct ProfileArg {
    /// Scoring profile: a TOML file, or the name of a profile saved in the data directory
    /// (the profile editor's Save, `DIR/profiles/NAME.toml`); default: the built-in gxd-2025.
    #[arg(long, value_name = "FILE|NAME")]
    pub profile: Option<PathBuf>,
}

impl ProfileArg {
    /// The profile's source and TOML: the file's, else the one saved in `data` under that
    /// name, else the built-in one.
    pub fn text(&self, data: &DataArg) -> anyhow::Result<(String, String)> {
        let Some(path) = &self.profile else {
            return Ok((
                "gxd-2025.toml".into(),
                mieruka::score::DEFAULT_PROFILE.into(),
            ));
        };
        if path.is_file() {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            return Ok((path.display().to_string(), text));
        }
        let name = path.to_string_lossy();
        let saved = match (&data.data, mieruka::store::is_profile_name(&name)) {
            (Some(dir), true) => {
                let store = mieruka::Store::open(dir)?;
                match store.profile(&name)? {
                    Some(text) => {
                        let file = dir
                            .join(mieruka::store::PROFILES_DIR)
                            .join(format!("{name}.toml"));
                        return Ok((file.display().to_string(), text));
                    }
                    None => store.profile_names()?,
                }
            }
            _ => Vec::new(),
        };
        let place = match &data.data {
            Some(dir) => format!(
                "no saved profile of that name in {} ({})",
                dir.display(),
                if saved.is_empty() {
                    "none saved".to_owned()
                } else {
                    format!("saved: {}", saved.join(", "))
                }
            ),
            None => "saved profiles are looked up in --data DIR".to_owned(),
        };
        anyhow::bail!("--profile {name}: no such file, and {place}")
    }

    /// The profile: [`ProfileArg::text`], read.
    pub fn load(&self, data: &DataArg) -> anyhow::Result<mieruka::score::Profile> {
        let (source, text) = self.text(data)?;
        Ok(mieruka::score::Profile::parse(&source, &text)?)
    }
}

/// A session for a statement that reads only what `reads` names: from a data directory,
/// `footprints` and `bom` are read as the plan scans them, only the columns it needs, and
/// the hotspot functions walk the stored graph index.
async fn session_reading(data: &DataArg, reads: mieruka::query::Reads) -> anyhow::Result<Session> {
    match data.data.as_deref() {
        Some(dir) => snapshot_session(dir, reads, mieruka::score::Profile::default_profile()).await,
        None => session_loading(data, reads).await,
    }
}

/// A session for the statement `sql`: over only what it reads ([`session_reading`]).
pub async fn session_for(data: &DataArg, sql: &str) -> anyhow::Result<Session> {
    session_reading(data, mieruka::query::reads(sql)).await
}

/// A session over the data directory `dir` as it is now, reading what `reads` says (see
/// [`Session::over_snapshot`]), scoring with `profile`.
async fn snapshot_session(
    dir: &std::path::Path,
    reads: mieruka::query::Reads,
    profile: mieruka::score::Profile,
) -> anyhow::Result<Session> {
    let t = std::time::Instant::now();
    let snapshot = mieruka::store::Store::open(dir)?.snapshot()?;
    let graph = match reads.graph {
        true => Some(std::sync::Arc::new(dataset::graph(Some(dir))?)),
        false => None,
    };
    let session = Session::over_snapshot(snapshot, reads, graph, profile).await?;
    tracing::debug!(
        "opened {:?} (footprints and bom as scanned) in {:.2?}",
        reads,
        t.elapsed()
    );
    Ok(session)
}

/// A session over the tables `reads` names, read whole, its hotspot functions over the
/// stored graph index when `reads` calls them.
async fn session_loading(data: &DataArg, reads: mieruka::query::Reads) -> anyhow::Result<Session> {
    let t = std::time::Instant::now();
    let dir = data.data.as_deref();
    let tables = dataset::load_some(dir, reads.tables)?;
    let graph = match dir {
        Some(dir) if reads.graph => Some(std::sync::Arc::new(dataset::graph(Some(dir))?)),
        _ => None,
    };
    let loaded = t.elapsed();
    let session =
        Session::with_graph(&tables, mieruka::score::Profile::default_profile(), graph).await?;
    tracing::debug!(
        "read {:?} in {loaded:.2?}, built the session by {:.2?}",
        reads,
        t.elapsed()
    );
    Ok(session)
}

/// A session that scores with `profile` (`mieruka score`, `rank`, `sheet`, `whatif`): from a
/// data directory, the `footprints` columns scoring reads and `gx_attributes`, with the
/// stored graph index (a ranking's contributions and spreads, a scenario's decomposition);
/// the bundled demo read whole.
pub async fn scored_session(data: &DataArg, profile: &ProfileArg) -> anyhow::Result<Session> {
    let profile = profile.load(data)?;
    let Some(dir) = data.data.as_deref() else {
        let tables = dataset::load(None)?;
        return Ok(Session::with_profile(&tables, profile).await?);
    };
    let reads = mieruka::query::Reads {
        graph: true,
        ..mieruka::query::Reads::SCORING
    };
    snapshot_session(dir, reads, profile).await
}

/// Prints `columns`, named `names`, in `format`.
pub fn print_table(
    names: &[&str],
    columns: Vec<datafusion::arrow::array::ArrayRef>,
    format: TableFormat,
) -> anyhow::Result<()> {
    let schema = std::sync::Arc::new(datafusion::arrow::datatypes::Schema::new(
        names
            .iter()
            .zip(&columns)
            .map(|(n, c)| datafusion::arrow::datatypes::Field::new(*n, c.data_type().clone(), true))
            .collect::<Vec<_>>(),
    ));
    let batch = datafusion::arrow::array::RecordBatch::try_new(schema.clone(), columns)?;
    out!(
        "{}",
        mieruka::output::render(
            &mieruka::query::Output {
                schema,
                batches: vec![batch],
            },
            format.into()
        )
    );
    Ok(())
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    /// This process's `THP_enabled` as Linux reports it (kernels since 6.4 do).
    fn thp_enabled() -> Option<String> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let line = status.lines().find(|l| l.starts_with("THP_enabled:"))?;
        Some(line["THP_enabled:".len()..].trim().to_owned())
    }

    #[test]
    fn small_pages_turn_huge_pages_off_and_back_to_how_they_were() {
        let Some(before) = thp_enabled() else {
            eprintln!("this kernel does not report THP_enabled; nothing to check");
            return;
        };
        super::small_pages(true);
        assert_eq!(thp_enabled().as_deref(), Some("0"));
        super::small_pages(false);
        assert_eq!(thp_enabled(), Some(before));
    }
}
