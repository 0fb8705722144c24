//! The `bt` command line as a library: [`App`] parses arguments, runs the command through the
//! [`bt`] workbench, prints, and maps failures to exit codes. Parsing, printing and exit codes
//! only; everything a second program could want lives in the `bt` crate.
//!
//! A program with strategies of its own gets the whole command line (`run`, `backtest`,
//! `gen-queue`, `report`, `merge`, `results`, `slurm script`, `strategies`, `data`) in a few
//! lines:
//!
//! ```no_run
//! use bt::strategies::{Registry, StrategyEntry, builtin::BuyAndHold};
//! fn main() -> std::process::ExitCode {
//!     let registry = Registry::builtin()
//!         .with(StrategyEntry::new("my_hold", |_| Ok(Box::new(BuyAndHold::new()))));
//!     bt_cli::App::new(registry).main(std::env::args_os())
//! }
//! ```
//!
//! Exit codes: 0 success, 1 internal or runtime failure (a write that failed for space: a full
//! disk, a quota, a file size limit; free space and retry), 2 bad input (data, queue,
//! parameters, flags, an output path that cannot be used: no permission, not a directory, a
//! read-only file system, a run directory another process is writing), 3 a run finished with
//! failed simulations, 130 interrupted.

mod backtest_cmd;
mod config_flags;
mod data_cmd;
mod errors;
mod gen_queue_cmd;
mod merge_cmd;
mod progress;
mod report_cmd;
mod results_cmd;
mod rules_cmd;
mod run_cmd;
mod slurm_cmd;

use std::{ffi::OsString, io::Write, process::ExitCode};

use bt::{Workbench, strategies::Registry};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

pub use crate::{
    errors::{BadInput, exit_code, render_error},
    rules_cmd::strategies_markdown,
};

/// Exit code when a run finished but some simulations failed.
pub const EXIT_SOME_FAILED: u8 = 3;
/// Exit code when a run was interrupted (Ctrl-C); the directory is resumable.
pub const EXIT_INTERRUPTED: u8 = 130;

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
    /// Print a run directory's results in queue order (JSON lines or CSV).
    Results(results_cmd::ResultsArgs),
    /// Print a script that runs a queue as a Slurm job array plus a merge job.
    #[command(subcommand)]
    Slurm(slurm_cmd::SlurmCommand),
    /// List the strategies and their parameters, or describe one.
    Strategies(rules_cmd::StrategiesArgs),
    /// Check rules files (strategies written in RON, docs/rules.md).
    #[command(subcommand)]
    Rules(rules_cmd::RulesCommand),
}

/// The `bt` command line over a strategy registry.
#[derive(Debug, Clone)]
pub struct App {
    workbench: Workbench,
    name: Option<&'static str>,
}

/// Where a command writes: its output (stdout) and its messages (stderr).
pub struct Io<'a> {
    /// Results: tables, paths, scripts.
    pub out: &'a mut dyn Write,
    /// Errors and hints.
    pub err: &'a mut dyn Write,
    /// Whether progress goes to stderr (a bar on a terminal, lines otherwise).
    pub progress: bool,
}

impl App {
    /// The command line over `registry` (e.g. `Registry::builtin().with(my_entry)`).
    pub fn new(registry: Registry) -> App {
        App { workbench: Workbench::new(registry), name: None }
    }

    /// With another program name in help and usage texts (default `bt`).
    pub fn name(mut self, name: &'static str) -> App {
        self.name = Some(name);
        self
    }

    /// The workbench the commands run on.
    pub fn workbench(&self) -> &Workbench {
        &self.workbench
    }

    /// A process's `main`: sets up logging (stderr, -v/-q, RUST_LOG) and a panic hook that
    /// keeps panics to one log line, runs the command line `args` (the first is the program
    /// name), prints an error as `error: ...` and returns the exit code.
    pub fn main<I, T>(&self, args: I) -> ExitCode
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let cli = match self.parse(args) {
            Ok(cli) => cli,
            Err(e) => return self.parse_failure(&e),
        };
        init_logging(cli.verbose, cli.quiet);
        // A panic is a bug; report it as one line, not a backtrace (simulations catch their own).
        std::panic::set_hook(Box::new(|info| {
            tracing::debug!("panic: {info}");
        }));
        // stdout is ours alone; stderr is not locked for the whole command: progress lines,
        // logs and the Ctrl-C notice are written from other threads while the main one waits
        // for the simulations (holding the lock here deadlocked the first progress line).
        let (mut out, mut err) = (std::io::stdout().lock(), std::io::stderr());
        let quiet = cli.quiet;
        self.dispatch(cli, &mut Io { out: &mut out, err: &mut err, progress: !quiet })
    }

    /// Runs one command line with its output to `out` and its error messages to `err`, with no
    /// process-wide set-up (logging, panic hook): for tests and for programs embedding the CLI.
    pub fn run<I, T>(&self, args: I, out: &mut dyn Write, err: &mut dyn Write) -> ExitCode
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        match self.parse(args) {
            Ok(cli) => self.dispatch(cli, &mut Io { out, err, progress: false }),
            Err(e) => {
                let _ = write!(err, "{}", e.render());
                ExitCode::from(if e.use_stderr() { 2 } else { 0 })
            }
        }
    }

    fn command(&self) -> clap::Command {
        let command = Cli::command();
        match &self.name {
            Some(name) => command.name(*name).bin_name(*name),
            None => command,
        }
    }

    fn parse<I, T>(&self, args: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let matches = self.command().try_get_matches_from(args)?;
        Cli::from_arg_matches(&matches)
    }

    fn parse_failure(&self, e: &clap::Error) -> ExitCode {
        let _ = e.print();
        ExitCode::from(if e.use_stderr() { 2 } else { 0 })
    }

    fn dispatch(&self, cli: Cli, io: &mut Io<'_>) -> ExitCode {
        match self.execute(cli, io) {
            Ok(code) => code,
            Err(err) => {
                if errors::is_broken_pipe(&err) {
                    return ExitCode::SUCCESS;
                }
                let _ = writeln!(io.err, "error: {}", render_error(&err));
                if let Some(hint) = errors::hint(&err) {
                    let _ = writeln!(io.err, "hint: {hint}");
                }
                ExitCode::from(exit_code(&err))
            }
        }
    }

    fn execute(&self, cli: Cli, io: &mut Io<'_>) -> anyhow::Result<ExitCode> {
        let wb = &self.workbench;
        match cli.command {
            Command::Data(cmd) => data_cmd::run(cmd, io.out),
            Command::Backtest(args) => backtest_cmd::run(wb, args, io.out),
            Command::Run(args) => run_cmd::run(wb, args, io),
            Command::GenQueue(args) => gen_queue_cmd::run(args, wb.registry(), io.out),
            Command::Report(args) => report_cmd::run(wb, args, io.out),
            Command::Merge(args) => merge_cmd::run(wb, args, io.out),
            Command::Results(args) => results_cmd::run(args, io.out),
            Command::Slurm(cmd) => slurm_cmd::run(wb, cmd, io.out),
            Command::Strategies(args) => rules_cmd::strategies(wb, args, io.out),
            Command::Rules(cmd) => rules_cmd::run(cmd, io.out),
        }
    }
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
    // A second App::main in one process keeps the first subscriber.
    use std::io::IsTerminal as _;
    // Colour only on a terminal, and never with NO_COLOR set (https://no-color.org).
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .with_target(false)
        .without_time()
        .with_env_filter(filter)
        .try_init();
}
