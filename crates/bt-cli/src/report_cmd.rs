//! `bt report DIR`: render the report of a finished run directory.
//!
//! This module only maps arguments to [`bt_report::ReportOptions`] and calls
//! [`bt_report::write_report`]; reading the run directory (run.json, results.jsonl) and
//! re-running the top K simulations to record their equity curves is the caller's job.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use bt_domain::{RunInfo, SimRecord};
use bt_report::{CurveData, Format, ReportOptions};

/// Arguments of `bt report`.
#[derive(Debug, Clone, clap::Args)]
pub struct ReportArgs {
    /// Run directory written by `bt run` (the report goes there too).
    pub dir: PathBuf,
    /// Rows of the leaderboard (and equity curves charted).
    #[arg(long = "top", value_name = "K", default_value_t = 10)]
    pub top: usize,
    /// Statistic to rank by (any key of `bt backtest --json`, e.g. return_pct, sqn).
    #[arg(long = "by", value_name = "METRIC", default_value = "sharpe_ratio")]
    pub by: String,
    /// Outputs to write, comma separated: html, md, csv, json, parquet.
    #[arg(
        long = "format",
        value_name = "FORMATS",
        value_delimiter = ',',
        default_value = "html,md,csv"
    )]
    pub format: Vec<Format>,
}

/// Writes the report of a run into `dir` as `args` ask.
///
/// `curves` are the equity curves of the simulations to chart (normally the top K re-run
/// with curve recording); pass an empty slice to skip the equity section.
pub fn render(
    dir: &Path,
    info: &RunInfo,
    records: &[SimRecord],
    curves: &[CurveData<'_>],
    args: &ReportArgs,
) -> anyhow::Result<()> {
    let mut formats = args.format.clone();
    formats.sort_unstable();
    formats.dedup();
    let opts = ReportOptions {
        top_k: args.top,
        metric: args.by.clone(),
        formats: formats.clone(),
        ..ReportOptions::default()
    };
    let files = bt_report::write_report(dir, info, records, curves, &opts)
        .with_context(|| format!("writing the report into {}", dir.display()))?;
    // summary.parquet is written by the caller (crate::report_run), through bt-data.
    for path in files.html.iter().chain(&files.tables).chain(&files.charts) {
        tracing::info!(path = %path.display(), "wrote");
    }
    Ok(())
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

    #[test]
    fn render_writes_the_requested_files() {
        let dir = tempfile::tempdir().unwrap();
        let args = ReportArgs {
            dir: dir.path().to_path_buf(),
            top: 5,
            by: "return_pct".into(),
            format: vec![Format::Csv, Format::Html],
        };
        render(dir.path(), &RunInfo::default(), &[], &[], &args).unwrap();
        assert!(dir.path().join("report.html").is_file());
        assert!(dir.path().join("summary.csv").is_file());
        assert!(!dir.path().join("summary.md").exists());
        let bad = ReportArgs { by: "nope".into(), ..args };
        let err =
            format!("{:#}", render(dir.path(), &RunInfo::default(), &[], &[], &bad).unwrap_err());
        assert!(err.contains("unknown metric `nope`"), "{err}");
    }
}
