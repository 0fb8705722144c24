//! `bt`: the command-line tool of the bt backtesting workbench. Thin glue: it parses arguments,
//! wires the library crates together and prints; the work happens in the crates.
//!
//! Exit codes: 0 success, 1 internal or runtime failure (a write that failed for space: a full
//! disk, a quota, a file size limit; free space and retry), 2 bad input (data, queue,
//! parameters, flags, an output path that cannot be used: no permission, not a directory, a
//! read-only file system), 3 a run finished with failed simulations, 130 interrupted. The
//! output rule is the same for every command that writes (run, merge, gen-queue, report,
//! data generate/convert): see [`exit_code`].

mod backtest_cmd;
mod data_cmd;
mod gen_queue_cmd;
mod merge_cmd;
#[cfg(feature = "profile")]
mod profiling;
mod report_cmd;
mod report_run;
mod run_cmd;
mod sim;
mod slurm_cmd;
mod test_strategies;

use std::{io::Write, path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};

/// An error in what the user gave us (a flag value, a metric name...): exit code 2.
#[derive(Debug)]
pub struct BadInput(pub String);

impl std::fmt::Display for BadInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadInput {}

/// A file or directory the user chose (`--out`, `-o`) could not be created or written. The OS
/// error decides the advice and the exit code: a path that cannot be used
/// ([`bt_executor::unusable_output`]: no permission, not a directory...) is 2, choose another
/// path; a write that failed for space (or another runtime cause) is 1, free space and retry.
#[derive(Debug)]
pub struct WriteError {
    /// The file or directory.
    pub path: PathBuf,
    /// The OS error.
    pub source: std::io::Error,
    /// The option that named the path: `--out`, `-o`.
    pub option: &'static str,
    /// What to do once there is space, e.g. "run `bt merge` again".
    pub retry: &'static str,
}

impl WriteError {
    /// Wraps an I/O error on `path` (for `map_err`).
    pub fn at(
        path: impl Into<PathBuf>,
        option: &'static str,
        retry: &'static str,
    ) -> impl FnOnce(std::io::Error) -> WriteError {
        let path = path.into();
        move |source| WriteError { path, source, option, retry }
    }
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot write {}: {}: ", self.path.display(), self.source)?;
        if bt_executor::unusable_output(self.source.kind()) {
            write!(
                f,
                "choose another {}, or make sure its directory exists and is writable",
                self.option
            )
        } else {
            write!(f, "free disk space, then {}", self.retry)
        }
    }
}

impl std::error::Error for WriteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "bt",
    version,
    about = "Fast, crash-safe backtesting sweeps with backtesting.py-compatible results",
    after_help = "Start here:
  bt run data/queues/example.ron          # a few hundred simulations on the bundled GOOG data
  bt backtest --data data/GOOG.csv --strategy sma_cross --param fast=10 --param slow=20
  bt data inspect data/GOOG.csv

Logs go to stderr; set the level with -v/-q or RUST_LOG (default warn)."
)]
struct Cli {
    /// More log output (-v info, -vv debug).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// Only errors on stderr; no progress bar.
    #[arg(short, long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Inspect, validate, generate and convert market data.
    #[command(subcommand)]
    Data(data_cmd::DataCommand),
    /// Run one strategy on one data file and print its statistics.
    Backtest(backtest_cmd::BacktestArgs),
    /// Run a queue of simulations into a run directory.
    Run(run_cmd::RunArgs),
    /// Write a queue file from a parameter grid or a random search.
    GenQueue(gen_queue_cmd::GenQueueArgs),
    /// Write tables, charts and report.html for a run directory.
    Report(report_cmd::ReportArgs),
    /// Combine shard run directories into one.
    Merge(merge_cmd::MergeArgs),
    /// Print a script that runs a queue as a Slurm job array plus a merge job.
    #[command(subcommand)]
    Slurm(slurm_cmd::SlurmCommand),
    /// List the built-in strategies and their parameters.
    Strategies,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    init_logging(cli.verbose, cli.quiet);
    // `cargo xtask profile`: CPU profile and phase times into $BT_PROFILE_DIR, written on drop.
    #[cfg(feature = "profile")]
    let _profile = match profiling::from_env() {
        Ok(guard) => guard,
        Err(err) => {
            eprintln!("error: {err:#}");
            return ExitCode::from(1);
        }
    };
    // A panic is a bug; report it as one line, not a backtrace (simulations catch their own).
    std::panic::set_hook(Box::new(|info| {
        tracing::debug!("panic: {info}");
    }));
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            let _ = writeln!(std::io::stderr(), "error: {}", render_error(&err));
            ExitCode::from(exit_code(&err))
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match cli.command {
        Command::Data(cmd) => data_cmd::run(cmd, &mut out),
        Command::Backtest(args) => backtest_cmd::run(args, &mut out).map(|()| ExitCode::SUCCESS),
        Command::Run(args) => run_cmd::run(args, cli.quiet, &mut out),
        Command::GenQueue(args) => {
            let registry = test_strategies::registry();
            gen_queue_cmd::run(args, &sim::Catalog(&registry))
        }
        Command::Report(args) => report_run::run(args, &mut out).map(|()| ExitCode::SUCCESS),
        Command::Merge(args) => merge_cmd::run(args, &mut out),
        Command::Slurm(cmd) => slurm_cmd::run(cmd, &mut out),
        Command::Strategies => {
            list_strategies(&mut out)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn list_strategies(out: &mut dyn Write) -> anyhow::Result<()> {
    let registry = test_strategies::registry();
    for name in registry.names() {
        writeln!(out, "{name}")?;
        for p in registry.describe(name)? {
            let default = p.default.as_ref().map(|d| format!(" = {d}")).unwrap_or_default();
            writeln!(out, "    {}{default}: {} ({})", p.name, p.doc, p.rule())?;
        }
    }
    Ok(())
}

fn init_logging(verbose: u8, quiet: bool) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, _) => "debug",
    };
    let filter = if verbose == 0 && !quiet {
        tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default))
    } else {
        tracing_subscriber::EnvFilter::new(default)
    };
    use tracing_subscriber::{Layer as _, layer::SubscriberExt as _, util::SubscriberInitExt as _};
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .with_filter(filter);
    let registry = tracing_subscriber::registry().with(fmt);
    #[cfg(feature = "profile")]
    let registry = registry.with(profiling::phase_layer());
    registry.init();
}

/// The error chain joined with ": " like `{:#}`, skipping a cause its parent's message already
/// quotes: thiserror messages embed their `source` ("cannot write X: No space left on device
/// (os error 28): free disk space..."). Only the parent's own message counts, and only as a
/// whole ": "-separated part of it, so a short cause that merely occurs in a path or in an
/// earlier message is still printed.
fn render_error(err: &anyhow::Error) -> String {
    let mut text = String::new();
    let mut parent = String::new();
    for cause in err.chain() {
        let message = cause.to_string();
        if !message.is_empty() && !quotes(&parent, &message) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&message);
        }
        parent = message;
    }
    text
}

/// Whether `message` is a whole part of `parent`: all of it, or a part that starts the text or
/// follows ": ", and ends the text or is followed by ':' or ';'.
fn quotes(parent: &str, message: &str) -> bool {
    parent.match_indices(message).any(|(at, _)| {
        let (before, after) = (&parent[..at], &parent[at + message.len()..]);
        (before.is_empty() || before.ends_with(": "))
            && (after.is_empty() || after.starts_with(':') || after.starts_with(';'))
    })
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// 2 when the cause is the user's input, 1 for internal and runtime failures. The first link of
/// the chain these rules know decides.
///
/// One rule for every output (run, merge, gen-queue, report, data generate/convert): a path
/// that cannot be created or opened because of permissions, a regular file or a directory in
/// the way, or a read-only file system ([`bt_executor::unusable_output`]) is 2, the user must
/// choose another path; a write that failed for space (full disk, quota, file size limit) is 1,
/// the same command works once there is room (`bt run` mid-run: `--resume`).
fn exit_code(err: &anyhow::Error) -> u8 {
    use bt_executor::ExecError;
    let by_kind = |e: &std::io::Error| if bt_executor::unusable_output(e.kind()) { 2 } else { 1 };
    for e in err.chain() {
        let code = if e.is::<BadInput>()
            || e.is::<bt_queue::QueueError>()
            || e.is::<bt_strategies::StrategyError>()
            || e.is::<bt_engine::EngineError>()
        {
            2
        } else if let Some(w) = e.downcast_ref::<WriteError>() {
            by_kind(&w.source)
        } else if let Some(d) = e.downcast_ref::<bt_data::DataError>() {
            match d {
                bt_data::DataError::Io { source, .. } if d.is_write() => by_kind(source),
                // A Parquet writer's failure carries no OS error: most often a full disk.
                _ if d.is_write() => 1,
                _ => 2,
            }
        } else if let Some(x) = e.downcast_ref::<ExecError>() {
            // The executor already sorted its write failures by the OS error: OutDir is an
            // unusable path, Write a failed write of a resumable run.
            match x {
                ExecError::Io { .. } | ExecError::Write { .. } | ExecError::Pool { .. } => 1,
                _ => 2,
            }
        } else if let Some(bt_report::ReportError::Io { source, .. }) = e.downcast_ref() {
            by_kind(source)
        } else {
            continue;
        };
        return code;
    }
    1
}

#[cfg(test)]
mod tests {
    use std::io::{Error, ErrorKind};

    use super::*;

    #[test]
    fn render_error_keeps_a_short_cause_that_only_occurs_elsewhere() {
        // The cause's text is in a path and in an earlier message, not quoted by its parent.
        let err = anyhow::Error::new(Error::other("denied"))
            .context("reading denied.csv")
            .context("step: denied: x");
        assert_eq!(render_error(&err), "step: denied: x: reading denied.csv: denied");
    }

    #[test]
    fn render_error_prints_a_quoted_source_once() {
        let full = || Error::from(ErrorKind::StorageFull);
        let os = full().to_string();
        // The source in the middle (before a hint) and at the end of the parent's message.
        let write =
            bt_executor::ExecError::Write { path: "out/results.jsonl".into(), source: full() };
        let text = render_error(&anyhow::Error::new(write).context("running q.ron"));
        assert_eq!(text.matches(&os).count(), 1, "{text}");
        assert!(text.starts_with("running q.ron: cannot write out/results.jsonl: "), "{text}");
        let at_end = anyhow::Error::new(Error::other("boom")).context("x: boom");
        assert_eq!(render_error(&at_end), "x: boom");
        let mine = WriteError::at("q.ron", "-o", "run it again")(full());
        let text = render_error(&anyhow::Error::new(mine));
        assert_eq!(text, format!("cannot write q.ron: {os}: free disk space, then run it again"));
    }

    #[test]
    fn an_unusable_output_path_is_exit_2_and_a_full_disk_exit_1_for_every_writer() {
        let unusable = [
            ErrorKind::PermissionDenied,
            ErrorKind::NotADirectory,
            ErrorKind::IsADirectory,
            ErrorKind::ReadOnlyFilesystem,
        ];
        let space = [ErrorKind::StorageFull, ErrorKind::QuotaExceeded, ErrorKind::FileTooLarge];
        for (kinds, want) in [(&unusable[..], 2), (&space[..], 1)] {
            for &kind in kinds {
                let errors: Vec<anyhow::Error> = vec![
                    WriteError::at("q.ron", "-o", "retry")(kind.into()).into(),
                    anyhow::Error::new(bt_report::ReportError::Io {
                        path: "r/report.html".into(),
                        source: kind.into(),
                    })
                    .context("writing the report into r"),
                    bt_data::DataError::Io {
                        path: "g.csv".into(),
                        action: "write",
                        source: kind.into(),
                    }
                    .into(),
                ];
                for err in errors {
                    assert_eq!(exit_code(&err), want, "{kind:?}: {err:#}");
                }
            }
        }
        let bad = anyhow::Error::new(BadInput("x".into())).context("while doing y");
        assert_eq!(exit_code(&bad), 2);
        assert_eq!(exit_code(&anyhow::anyhow!("internal")), 1);
    }
}
