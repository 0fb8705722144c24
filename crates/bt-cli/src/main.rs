//! `bt`: the command-line tool of the bt backtesting workbench. Thin glue: it parses arguments,
//! wires the library crates together and prints; the work happens in the crates.
//!
//! Exit codes: 0 success, 1 internal or runtime failure (e.g. the disk filled up during a run),
//! 2 bad input (data, queue, parameters, flags, an output directory that cannot be written),
//! 3 a run finished with failed simulations, 130 interrupted.

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

use std::{io::Write, process::ExitCode};

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

/// The error chain joined with ": " like `{:#}`, skipping a cause whose text the message already
/// quotes (thiserror messages embed their `source`: "cannot write X: No space left on device").
fn render_error(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let message = cause.to_string();
        if text.contains(&message) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&message);
    }
    text
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// 2 when the cause is the user's input, 1 for internal and runtime failures (a write that
/// failed mid-run, e.g. a full disk: the run directory is resumable).
fn exit_code(err: &anyhow::Error) -> u8 {
    let bad_input = err.chain().any(|e| {
        e.is::<BadInput>()
            || e.downcast_ref::<bt_data::DataError>().is_some_and(|e| !e.is_write())
            || e.is::<bt_queue::QueueError>()
            || e.is::<bt_strategies::StrategyError>()
            || e.is::<bt_engine::EngineError>()
            || e.downcast_ref::<bt_executor::ExecError>().is_some_and(|e| {
                !matches!(
                    e,
                    bt_executor::ExecError::Io { .. }
                        | bt_executor::ExecError::Write { .. }
                        | bt_executor::ExecError::Pool { .. }
                )
            })
    });
    if bad_input { 2 } else { 1 }
}
