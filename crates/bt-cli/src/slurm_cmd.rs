//! `bt slurm script`: prints the driver of `bt::slurm` (a job array of shards plus a merge job).

use std::{io::Write, path::PathBuf, process::ExitCode};

use bt::{Workbench, slurm::SlurmOptions};

/// `bt slurm ...` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum SlurmCommand {
    /// Print a script that submits QUEUE as a Slurm job array of N shards plus a merge job.
    Script(ScriptArgs),
}

/// Arguments of `bt slurm script`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:
  bt slurm script big.ron --shards 64 --cpus-per-task 4 --mem 4G --time 02:00:00 \\
      --out /scratch/$USER/big > submit.sh
  bash submit.sh        # submits the array job and the merge job, prints their ids

The script and its two batch scripts use absolute paths: OUT must be on a file system that
every node sees, and the bt binary (--bt, default: this one) must run on the compute nodes.")]
pub struct ScriptArgs {
    /// The queue file (RON, see docs/queue-format.md).
    pub queue: PathBuf,
    /// Number of shards = array tasks (1..=1001, Slurm's default MaxArraySize).
    #[arg(long)]
    pub shards: u64,
    /// CPUs per task; bt runs that many threads (it reads SLURM_CPUS_PER_TASK).
    #[arg(long, default_value_t = 1)]
    pub cpus_per_task: u64,
    /// Memory per task, in Slurm's format (e.g. 2G, 500M) [default: the site's default].
    #[arg(long)]
    pub mem: Option<String>,
    /// Time limit per task, in Slurm's format (e.g. 30, 02:00:00, 1-12:00:00) [default: the
    /// partition's].
    #[arg(long)]
    pub time: Option<String>,
    /// Run directory of the merged result; shards go to OUT/shard-K [default: runs/<queue stem>].
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// The bt binary the jobs run [default: this executable].
    #[arg(long, value_name = "PATH")]
    pub bt: Option<PathBuf>,
}

/// Runs a `bt slurm` subcommand, writing to `out`.
pub fn run(wb: &Workbench, cmd: SlurmCommand, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    match cmd {
        SlurmCommand::Script(args) => {
            let opts = SlurmOptions {
                shards: args.shards,
                cpus_per_task: args.cpus_per_task,
                mem: args.mem,
                time: args.time,
                out: args.out,
                program: args.bt,
            };
            out.write_all(wb.slurm_script(&args.queue, &opts)?.as_bytes())?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
