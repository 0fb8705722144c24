//! `bt merge`: shard run directories -> one run directory.

use std::{io::Write, path::PathBuf, process::ExitCode};

use bt::{MergeOptions, ReportOptions, Workbench};

use crate::EXIT_SOME_FAILED;

#[derive(Debug, clap::Args)]
#[command(after_help = "Example:
  bt merge runs/big-0 runs/big-1 runs/big-2 runs/big-3 --out runs/big

The merged summary.csv is byte-identical to a one-machine `bt run` of the whole queue.
A merge that fails (a full disk...) removes what it wrote: run the same command again.")]
pub struct MergeArgs {
    /// Shard run directories.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// The merged run directory.
    #[arg(long, short)]
    pub out: PathBuf,
    /// The queue the shards ran [default: the queue recorded in the shards' run.json].
    #[arg(long)]
    pub queue: Option<PathBuf>,
    /// Merge what is there and list what is missing, instead of failing.
    #[arg(long)]
    pub allow_partial: bool,
    /// Do not write the report.
    #[arg(long)]
    pub no_report: bool,
}

pub fn run(wb: &Workbench, args: MergeArgs, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let opts = MergeOptions {
        queue: args.queue.clone(),
        allow_partial: args.allow_partial,
        report: (!args.no_report).then(ReportOptions::default),
        holder: None,
    };
    let merged = wb.merge(&args.dirs, &args.out, &opts)?;
    let c = merged.counts;
    writeln!(
        out,
        "merged {} shard(s): {} simulations ({} ok, {} failed) -> {}",
        merged.shards,
        c.total,
        c.ok,
        c.failed,
        args.out.display()
    )?;
    if merged.missing_count > 0 {
        writeln!(out, "missing {} simulation(s):", merged.missing_count)?;
        for id in &merged.missing {
            writeln!(out, "  {id}")?;
        }
        if merged.missing_count > merged.missing.len() {
            writeln!(out, "  ... and {} more", merged.missing_count - merged.missing.len())?;
        }
    }
    if let Some(files) = &merged.report {
        crate::run_cmd::write_files(out, files)?;
    }
    Ok(if c.failed > 0 { ExitCode::from(EXIT_SOME_FAILED) } else { ExitCode::SUCCESS })
}
