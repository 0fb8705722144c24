//! `cargo xtask`: project automation in Rust (matklad's cargo-xtask pattern), run as
//! `cargo xtask <command>` through the alias in `.cargo/config.toml`.
//!
//! - `gen-queue`: writes the benchmark queue `data/queues/test_queue.ron` ([`test_queue`]);
//!   `--check` tells whether the committed file is current.
//! - `perf`: builds `bt` in release and times it end to end as a subprocess, sequential,
//!   threaded, `auto` and multi-process, over growing queues ([`perf`]); writes
//!   `data/performance_test_results/` (or `target/perf-quick/` with `--quick`).
//! - `scale`: the large-scale goals ([`scale`]): a random sma_cross sweep of a million
//!   simulations through `bt run` (wall time, the run's phases, peak RSS, bytes on disk, with
//!   and without the report), and ten million synthetic results, written here as two shard
//!   run directories, through `bt merge --no-report` and `bt report` (wall time, peak RSS,
//!   goal under 1 GB each); writes `scale.csv` and `scale.json` to
//!   `data/performance_test_results/` (or `target/scale-quick/` with `--quick`, 20,000 and
//!   200,000 simulations on the dev build, a smoke test that asserts nothing about time).
//!   Options: `--sims N`,
//!   `--synthetic-sims N`, `--out DIR`, `--rss-limit-mib M` (kill past it, default 6144),
//!   `--keep` (keep the run directories).
//! - `profile`: builds `bt-profile` (xtask/profile: the `bt` command line under pprof) and reports where the time goes
//!   ([`profile`]): a pprof flamegraph, the top functions, and the phase breakdown.
//! - `fuzz`: builds the cargo-fuzz targets of `xtask/fuzz` and runs each for `--time` seconds
//!   ([`fuzz`]), reporting executions, coverage and crashes.
//!
//! Invariant: the xtask drives the `bt` binary as a user would; it does not link bt-cli. Its
//! outputs go under the target directory, except the committed queue and perf results.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod fuzz;
mod perf;
mod profile;
mod scale;
mod test_queue;
mod tools;

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
};

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use crate::test_queue::{DataChoice, Spec};

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "Project automation for bt (see docs/performance.md)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write the benchmark queue (default data/queues/test_queue.ron), or check that it is current.
    GenQueue(GenQueueArgs),
    /// Time the release `bt` binary end to end: sequential, threads, auto, processes.
    Perf(perf::PerfArgs),
    /// Measure the large-scale goals: a 1M-simulation sweep, a 10M-result merge and report.
    Scale(scale::ScaleArgs),
    /// Profile one run of `bt`: flamegraph, top functions, phase breakdown.
    Profile(profile::ProfileArgs),
    /// Run every cargo-fuzz target of xtask/fuzz for a while (needs cargo-fuzz).
    Fuzz(fuzz::FuzzArgs),
}

/// Options of the benchmark queue, shared by `gen-queue`, `perf` and `profile`.
#[derive(Debug, Clone, clap::Args)]
pub struct QueueOpts {
    /// Only this strategy (sma_cross, rsi_reversion, bollinger_breakout, donchian_breakout,
    /// macd_cross); default: cycle over all five.
    #[arg(long)]
    pub strategy: Option<String>,
    /// Data file [default: data/GOOG.csv].
    #[arg(long, value_name = "FILE", conflicts_with = "synthetic_bars")]
    pub data: Option<PathBuf>,
    /// A synthetic data set of N one-minute bars instead of a file.
    #[arg(long, value_name = "N")]
    pub synthetic_bars: Option<usize>,
    /// Seed of the parameter draws and of the synthetic data.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

impl QueueOpts {
    /// The generator spec for `sims` simulations.
    pub fn spec(&self, sims: usize) -> Spec {
        let data = match (self.synthetic_bars, &self.data) {
            (Some(bars), _) => DataChoice::Synthetic(bars),
            (None, Some(path)) => DataChoice::File(absolute(path)),
            (None, None) => DataChoice::File(project_root().join("data/GOOG.csv")),
        };
        Spec { sims, strategy: self.strategy.clone(), data, seed: self.seed }
    }

    /// The options as `cargo xtask` flags, in a fixed order, for headers and messages.
    pub fn flags(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(s) = &self.strategy {
            out.push(format!("--strategy {s}"));
        }
        if let Some(p) = &self.data {
            out.push(format!("--data {}", display_path(&absolute(p))));
        }
        if let Some(n) = self.synthetic_bars {
            out.push(format!("--synthetic-bars {n}"));
        }
        if self.seed != 42 {
            out.push(format!("--seed {}", self.seed));
        }
        out
    }
}

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  cargo xtask gen-queue                     # rewrite data/queues/test_queue.ron
  cargo xtask gen-queue --check             # exit 1 if the committed file is stale
  cargo xtask gen-queue --sims 50 --synthetic-bars 100000 -o /tmp/q.ron")]
struct GenQueueArgs {
    /// Number of simulations.
    #[arg(long, default_value_t = 300)]
    sims: usize,
    #[command(flatten)]
    queue: QueueOpts,
    /// Queue file to write [default: data/queues/test_queue.ron].
    #[arg(short = 'o', long = "out", value_name = "FILE.ron")]
    out: Option<PathBuf>,
    /// Do not write: regenerate in memory and fail if the file differs.
    #[arg(long)]
    check: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::GenQueue(args) => gen_queue(&args),
        Command::Perf(args) => perf::run(&args),
        Command::Scale(args) => scale::run(&args),
        Command::Profile(args) => profile::run(&args),
        Command::Fuzz(args) => fuzz::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn gen_queue(args: &GenQueueArgs) -> anyhow::Result<ExitCode> {
    let out = args
        .out
        .as_deref()
        .map_or_else(|| project_root().join("data/queues/test_queue.ron"), absolute);
    let mut command = vec!["cargo xtask gen-queue".to_owned()];
    if args.sims != 300 {
        command.push(format!("--sims {}", args.sims));
    }
    command.extend(args.queue.flags());
    let spec = args.queue.spec(args.sims);
    let dir = out.parent().unwrap_or(Path::new("."));
    let text = test_queue::build(&spec, dir, &command.join(" "))?;
    test_queue::validate(&text, &out, args.sims)?;
    let shown = display_path(&out);
    if args.check {
        let committed = std::fs::read_to_string(&out).with_context(|| {
            format!("cannot read {shown}: generate it with `{}`", command.join(" "))
        })?;
        if committed != text {
            let line = committed
                .lines()
                .zip(text.lines())
                .position(|(a, b)| a != b)
                .map_or_else(|| committed.lines().count().min(text.lines().count()) + 1, |i| i + 1);
            eprintln!(
                "error: {shown} is stale: it differs from what `{}` writes now (first difference at line {line}); regenerate it with that command and commit it",
                command.join(" ")
            );
            return Ok(ExitCode::FAILURE);
        }
        println!("OK: {shown} is current ({} simulations)", args.sims);
        return Ok(ExitCode::SUCCESS);
    }
    std::fs::write(&out, &text)
        .with_context(|| format!("cannot write {shown}: check that the directory exists"))?;
    // Read back what was written, as `bt run` will.
    let queue = bt_queue::Queue::from_path(&out)?;
    println!("wrote {} simulations to {shown} (hash {})", queue.len(), queue.hash());
    Ok(ExitCode::SUCCESS)
}

/// The workspace root (the parent of this crate's directory).
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_owned)
}

/// `path` made absolute against the current directory.
pub fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

/// `path` relative to the project root when inside it (so that messages and headers do not
/// depend on where the clone lives), else as is.
pub fn display_path(path: &Path) -> String {
    let root = project_root();
    match path.strip_prefix(&root) {
        Ok(rel) => rel.display().to_string(),
        Err(_) => path.display().to_string(),
    }
}
