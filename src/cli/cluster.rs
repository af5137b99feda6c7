//! `mieruka cluster`: run Apache Ballista's scheduler and executors with mieruka's
//! extensions (built with `--features cluster`).

use std::net::SocketAddr;

use clap::{Args, Subcommand};
use mieruka::cluster::{self, ExecutorOptions};
use mieruka::dataset;

use super::DataArg;

/// Run the all-roots batch and the catalog on several machines (Apache Ballista).
///
/// A cluster is one scheduler and any number of executors. Every process reads the same
/// data directory (shared storage: NFS, a synced copy), so start them with the same
/// --data. `mieruka batch hotspots`, `mieruka query` and `mieruka serve` send their plans
/// there with --engine ballista://SCHEDULER:50050: the executors walk the batch's roots,
/// write its Parquet, and scan the data directory's tables for the queries.
///
/// Examples:
///   mieruka cluster scheduler --data /shared/gx --bind 0.0.0.0:50050
///   mieruka cluster executor  --data /shared/gx --scheduler sched-host:50050 --bind 0.0.0.0:50051
///   mieruka batch hotspots --all-roots --data /shared/gx --out /shared/hotspots \
///       --engine ballista://sched-host:50050
///   mieruka query --data /shared/gx --engine ballista://sched-host:50050 footprints/summary
///
/// docs/scale-out.md says what runs where, and what to give each machine.
#[derive(Args)]
#[command(verbatim_doc_comment)]
pub struct ClusterArgs {
    #[command(subcommand)]
    role: Role,
}

#[derive(Subcommand)]
enum Role {
    Scheduler(SchedulerArgs),
    Executor(ExecutorArgs),
}

/// Run the scheduler: it plans each query and hands its tasks to the executors.
#[derive(Args)]
struct SchedulerArgs {
    /// Address to listen on (gRPC, for clients and executors).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:50050")]
    bind: SocketAddr,
    #[command(flatten)]
    data: DataArg,
}

/// Run an executor: it registers with the scheduler and runs the tasks it is given.
#[derive(Args)]
struct ExecutorArgs {
    /// The scheduler, HOST:PORT.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:50050")]
    scheduler: String,
    /// Address to listen on for other executors' shuffle reads (Arrow Flight); its gRPC
    /// service takes the next port.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:50051")]
    bind: SocketAddr,
    /// Host name the others reach this executor by, when not its bind address.
    #[arg(long, value_name = "HOST")]
    external_host: Option<String>,
    /// Tasks run at once (default: the cores).
    #[arg(long, value_name = "N")]
    slots: Option<usize>,
    /// Directory for shuffle files (default: a temporary one).
    #[arg(long, value_name = "DIR")]
    work_dir: Option<String>,
    #[command(flatten)]
    data: DataArg,
}

/// Runs `mieruka cluster`; it returns only on an error.
pub async fn run(args: ClusterArgs) -> anyhow::Result<u8> {
    match args.role {
        Role::Scheduler(a) => {
            let graph = std::sync::Arc::new(dataset::graph(a.data.data.as_deref())?);
            tracing::info!("scheduler listening on {}", a.bind);
            cluster::scheduler(a.bind, graph).await?;
        }
        Role::Executor(a) => {
            let (host, port) = a
                .scheduler
                .rsplit_once(':')
                .and_then(|(h, p)| Some((h.to_owned(), p.parse::<u16>().ok()?)))
                .ok_or_else(|| {
                    anyhow::anyhow!("--scheduler {}: expected HOST:PORT", a.scheduler)
                })?;
            let graph = std::sync::Arc::new(dataset::graph(a.data.data.as_deref())?);
            let slots = a.slots.unwrap_or_else(|| {
                std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
            });
            if slots == 0 {
                anyhow::bail!("--slots must be at least 1");
            }
            cluster::executor(
                ExecutorOptions {
                    scheduler: (host, port),
                    bind: a.bind,
                    external_host: a.external_host,
                    slots,
                    work_dir: a.work_dir,
                },
                graph,
            )
            .await?;
        }
    }
    Ok(0)
}
