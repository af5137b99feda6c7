//! `mieruka migrate`: brings a data directory written by an earlier mieruka to this one's
//! format.

use std::path::PathBuf;

use clap::Args;
use mieruka::store::{self, Store};

/// Bring a data directory written by an earlier mieruka to this version's format
///
/// Commands that read a directory of an earlier format stop and say to run this. The
/// migration runs under the directory's write lock, writes the new files beside the old
/// ones, and switches to them with one atomic rename of the manifest; the old files are
/// removed only after that. Interrupted, it leaves the directory as it was. A directory
/// already at this version is left alone.
///
/// From format 1: the documents as received move out of the `footprints` table (where a
/// million footprints made a column too large to read back) and are read from the kept
/// originals when a document is asked for.
///
/// Example:
///   mieruka migrate --data ./gx
#[derive(Args)]
#[command(verbatim_doc_comment)]
pub struct MigrateArgs {
    /// The data directory to migrate.
    #[arg(long, value_name = "DIR", env = "MIERUKA_DATA")]
    data: PathBuf,
}

/// Runs `mieruka migrate`; the exit code.
pub fn run(args: MigrateArgs) -> anyhow::Result<u8> {
    let store = Store::open(&args.data)?;
    let m = store::migrate(&store)?;
    if m.from == m.to {
        println!(
            "{} is already at format {}; nothing to do",
            args.data.display(),
            m.to
        );
    } else {
        println!(
            "migrated {} from format {} to {}: {} ingests, {} footprints",
            args.data.display(),
            m.from,
            m.to,
            m.segments,
            m.footprints
        );
    }
    Ok(0)
}
