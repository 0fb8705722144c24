//! `bt results`: a run directory's results as text, in queue order.

use std::{io::Write, path::PathBuf, process::ExitCode};

use bt::results::{ExportFormat, export};

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  bt results runs/example | head -3                 # JSON lines (docs/json-output.md)
  bt results runs/big --format csv > big.csv        # the summary table, at any size

The run directory keeps its results in results.btr, a compact binary log (docs/results-format.md);
summary.parquet and summary.csv (runs of up to 100,000 simulations) are the tables to analyse.")]
pub struct ResultsArgs {
    /// The run directory.
    pub dir: PathBuf,
    /// jsonl: one JSON object per simulation; csv: the summary table.
    #[arg(long, value_parser = ["jsonl", "csv"], default_value = "jsonl")]
    pub format: String,
}

pub fn run(args: ResultsArgs, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let format = if args.format == "csv" { ExportFormat::Csv } else { ExportFormat::Jsonl };
    export(&args.dir, format, out)?;
    Ok(ExitCode::SUCCESS)
}
