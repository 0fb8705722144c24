//! `bt report DIR`: the report of a run directory, written into it (or into `--out`).

use std::{io::Write, path::PathBuf, process::ExitCode};

use bt::{ReportOptions, Workbench, report::Format};

use crate::{
    BadInput,
    run_cmd::{FilterArgs, write_files, write_leaderboard, write_validation},
};

/// Arguments of `bt report`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = "Examples:
  bt report runs/grid                                   # report.html, leaderboard.md, summary.csv
  bt report runs/grid --top 20 --by sortino_ratio --format html,parquet
  bt report runs/grid --out /tmp/grid-report            # leave the run directory untouched
  bt report runs/grid --top 5 --by sortino_ratio --min-trades 5 --filter 'strategy == \"sma_cross\"'

The leaderboard (printed, report.html, leaderboard.md) ranks only the simulations the filter
keeps; summaries, heatmaps and histograms show every simulation.")]
pub struct ReportArgs {
    /// Run directory written by `bt run` or `bt merge`.
    pub dir: PathBuf,
    /// Rows of the leaderboard (and equity curves charted).
    #[arg(long = "top", value_name = "K", default_value_t = 10)]
    pub top: usize,
    /// Statistic to rank by (any key of `bt backtest --json` but start/end, e.g. return_pct).
    #[arg(long = "by", value_name = "METRIC", default_value = "sharpe_ratio")]
    pub by: String,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Outputs to write, comma separated: html, md, csv, json, parquet.
    #[arg(
        long = "format",
        value_name = "FORMATS",
        value_delimiter = ',',
        default_value = "html,md,csv"
    )]
    pub format: Vec<Format>,
    /// Write the report into this directory instead of the run directory.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
}

/// `bt report DIR`: writes the files, prints the leaderboard and what was written.
pub fn run(wb: &Workbench, args: ReportArgs, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    bt::domain::ranking::rank_metric(&args.by).map_err(|e| BadInput(format!("--by {e}")))?;
    let filter = wb.run_filter(&args.dir, args.filter.filter.as_deref(), args.filter.min_trades)?;
    let opts = ReportOptions {
        top: args.top,
        by: args.by.clone(),
        formats: args.format.clone(),
        out: args.out.clone(),
        filter,
    };
    let files = wb.report(&args.dir, &opts)?;
    let validation = bt::validation::run_validation(&args.dir, bt::cluster::default_threads())?;
    write_leaderboard(out, &files.leaderboard, &args.by, &validation, files.filter.as_ref())?;
    write_validation(out, &validation)?;
    writeln!(out)?;
    write_files(out, &files)?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, clap::Parser)]
    struct Cli {
        #[command(flatten)]
        args: ReportArgs,
    }

    #[test]
    fn defaults_and_format_list() {
        let cli = Cli::try_parse_from(["bt", "runs/x"]).unwrap();
        assert_eq!(cli.args.top, 10);
        assert_eq!(cli.args.by, "sharpe_ratio");
        assert_eq!(cli.args.format, [Format::Html, Format::Md, Format::Csv]);
        let cli = Cli::try_parse_from([
            "bt",
            "d",
            "--top",
            "3",
            "--by",
            "sqn",
            "--format",
            "json,parquet",
        ])
        .unwrap();
        assert_eq!((cli.args.top, cli.args.by.as_str()), (3, "sqn"));
        assert_eq!(cli.args.format, [Format::Json, Format::Parquet]);
        let err = Cli::try_parse_from(["bt", "d", "--format", "xlsx"]).unwrap_err().to_string();
        assert!(err.contains("unknown output format `xlsx`"), "{err}");
    }
}
