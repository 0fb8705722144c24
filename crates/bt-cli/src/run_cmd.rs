//! `bt run`: a queue, sequentially or in parallel, into a run directory.

use std::{
    io::{IsTerminal, Write},
    path::PathBuf,
    process::ExitCode,
    sync::{
        Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context as _;
use bt_domain::{RunInfo, STAT_KEYS, Stats};
use bt_executor::{ExecOptions, Mode, Progress, RunDir, Shard};
use bt_queue::Queue;

use crate::{
    BadInput,
    sim::{Backtester, Catalog, load_datasets},
};

/// Exit code when the run finished but some simulations failed.
pub const EXIT_SOME_FAILED: u8 = 3;
/// Exit code when the run was interrupted (Ctrl-C); the directory is resumable.
pub const EXIT_INTERRUPTED: u8 = 130;

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  bt run data/queues/example.ron                      # all cores, results in runs/example
  bt run data/queues/example.ron --sequential --out /tmp/seq
  bt run big.ron --out runs/big --resume              # finish an interrupted run
  bt run big.ron --shard 2/8 --out runs/big-2         # one of 8 shards (0-based)
  bt run big.ron --check                              # validate only

Exit codes: 0 all simulations ran, 3 some failed (see summary.csv), 2 bad input (or an
--out that cannot be used: no permission, not a directory, read-only), 130 interrupted
(resume with --resume), 1 internal error or a write that failed for space (disk full,
quota, file size limit: free space, then --resume).")]
pub struct RunArgs {
    /// The queue file (RON, see docs/queue-format.md).
    pub queue: PathBuf,
    /// Run directory [default: runs/<queue file stem>, or runs/<stem>-2, -3... if taken].
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Worker threads [default: SLURM_CPUS_PER_TASK, else all cores; auto-sequential for tiny queues].
    #[arg(long, conflicts_with = "sequential")]
    pub threads: Option<usize>,
    /// Run on the calling thread only.
    #[arg(long)]
    pub sequential: bool,
    /// Skip simulations already in OUT/results.jsonl and run the rest.
    #[arg(long)]
    pub resume: bool,
    /// Run one shard: `K/N` (0-based K), or `auto` from the scheduler's environment.
    #[arg(long, value_name = "K/N|auto")]
    pub shard: Option<String>,
    /// Shard count for `--shard auto` under Kubernetes (else BT_SHARDS).
    #[arg(long)]
    pub shards: Option<u64>,
    /// Leaderboard size.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// Leaderboard metric (a stats key, e.g. sharpe_ratio, return_pct).
    #[arg(long, default_value = "sharpe_ratio")]
    pub by: String,
    /// Validate the queue (and data files) and exit.
    #[arg(long)]
    pub check: bool,
    /// Do not write the report at the end.
    #[arg(long)]
    pub no_report: bool,
}

/// Checks a leaderboard metric name.
pub fn check_metric(by: &str) -> Result<(), BadInput> {
    if STAT_KEYS.contains(&by) && !matches!(by, "start" | "end") {
        Ok(())
    } else {
        Err(BadInput(format!(
            "--by {by:?} is not a statistic: use one of {}",
            STAT_KEYS[2..].join(", ")
        )))
    }
}

/// Worker threads: `--threads`, else `SLURM_CPUS_PER_TASK` (Slurm without cgroups shows every
/// core to every task), else all cores.
pub fn default_threads() -> usize {
    if let Some(n) = std::env::var("SLURM_CPUS_PER_TASK").ok().and_then(|v| v.parse().ok())
        && n > 0
    {
        return n;
    }
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Resolves `--shard`: `K/N`, or `auto` from Slurm, Kubernetes or AWS Batch variables.
pub fn resolve_shard(spec: &str, shards: Option<u64>) -> anyhow::Result<Shard> {
    if spec != "auto" {
        return Ok(spec.parse::<Shard>()?);
    }
    let var = |k: &str| std::env::var(k).ok();
    let num = |k: &str, v: String| -> Result<u64, BadInput> {
        v.trim().parse().map_err(|_| BadInput(format!("{k}={v:?} is not a non-negative integer")))
    };
    if let Some(id) = var("SLURM_ARRAY_TASK_ID") {
        let count = var("SLURM_ARRAY_TASK_COUNT").ok_or_else(|| {
            BadInput("SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not: submit with --array=0-(N-1)".into())
        })?;
        return Ok(Shard::new(
            num("SLURM_ARRAY_TASK_ID", id)?,
            num("SLURM_ARRAY_TASK_COUNT", count)?,
        )?);
    }
    if let Some(id) = var("JOB_COMPLETION_INDEX") {
        let count = match shards {
            Some(n) => n,
            None => num(
                "BT_SHARDS",
                var("BT_SHARDS").ok_or_else(|| {
                    BadInput("JOB_COMPLETION_INDEX is set: give the shard count with --shards N or BT_SHARDS (the Job's completions)".into())
                })?,
            )?,
        };
        return Ok(Shard::new(num("JOB_COMPLETION_INDEX", id)?, count)?);
    }
    if let Some(id) = var("AWS_BATCH_JOB_ARRAY_INDEX") {
        let count = var("AWS_BATCH_JOB_ARRAY_SIZE").ok_or_else(|| {
            BadInput("AWS_BATCH_JOB_ARRAY_INDEX is set but AWS_BATCH_JOB_ARRAY_SIZE is not".into())
        })?;
        return Ok(Shard::new(
            num("AWS_BATCH_JOB_ARRAY_INDEX", id)?,
            num("AWS_BATCH_JOB_ARRAY_SIZE", count)?,
        )?);
    }
    Err(BadInput(
        "--shard auto found no scheduler variables: set SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT, JOB_COMPLETION_INDEX with --shards N, or AWS_BATCH_JOB_ARRAY_INDEX/AWS_BATCH_JOB_ARRAY_SIZE; or give --shard K/N".into(),
    )
    .into())
}

/// Progress on stderr: a bar on a terminal, a log line every few seconds otherwise.
struct StderrProgress {
    bar: Option<indicatif::ProgressBar>,
    quiet: bool,
    total: AtomicU64,
    done: AtomicU64,
    failed: AtomicU64,
    started: Instant,
    last_line: Mutex<Instant>,
}

impl StderrProgress {
    fn new(quiet: bool) -> StderrProgress {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} sims  {per_sec}  ETA {eta}  {msg}",
                )
                .expect("a valid template"),
            );
            bar
        });
        StderrProgress {
            bar,
            quiet,
            total: AtomicU64::new(0),
            done: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            started: Instant::now(),
            last_line: Mutex::new(Instant::now()),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Progress for StderrProgress {
    fn start(&self, to_run: u64, already_done: u64) {
        self.total.store(to_run, Ordering::Relaxed);
        if let Some(bar) = &self.bar {
            bar.set_length(to_run);
        }
        if already_done > 0 {
            tracing::warn!("resuming: {already_done} simulations already done");
        }
    }

    fn finished(&self, ok: bool) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if !ok {
            let failed = self.failed.fetch_add(1, Ordering::Relaxed) + 1;
            if let Some(bar) = &self.bar {
                bar.set_message(format!("{failed} failed"));
            }
        }
        if let Some(bar) = &self.bar {
            bar.inc(1);
            return;
        }
        if self.quiet {
            return;
        }
        let mut last = self.last_line.lock().unwrap_or_else(|e| e.into_inner());
        if last.elapsed() >= Duration::from_secs(5) {
            *last = Instant::now();
            let total = self.total.load(Ordering::Relaxed).max(done);
            let secs = self.started.elapsed().as_secs_f64();
            let rate = done as f64 / secs.max(1e-9);
            let eta = (total - done) as f64 / rate.max(1e-9);
            // Never panic on a closed stderr (`bt run ... 2>&1 | head`): progress is best effort.
            let _ = writeln!(
                std::io::stderr(),
                "progress: {done}/{total} simulations ({:.0}%), {rate:.1} sims/s, ETA {eta:.0}s, {} failed",
                100.0 * done as f64 / total.max(1) as f64,
                self.failed.load(Ordering::Relaxed)
            );
        }
    }
}

pub fn run(args: RunArgs, quiet: bool, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    check_metric(&args.by)?;
    let queue = Queue::from_path(&args.queue)?;
    let registry = crate::test_strategies::registry();
    queue.validate(&Catalog(&registry))?;
    let shard = args.shard.as_deref().map(|s| resolve_shard(s, args.shards)).transpose()?;
    if args.check {
        writeln!(
            out,
            "OK: {}: {} simulations over {} data sets",
            args.queue.display(),
            queue.len(),
            queue.datasets().len()
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    let out_dir = match (&args.out, args.resume) {
        (Some(out), _) => out.clone(),
        (None, resume) => default_out_dir(&args.queue, resume),
    };

    let datasets = {
        let _span = tracing::info_span!("load_data").entered();
        load_datasets(&queue)?
    };
    let work_estimate: u64 = queue
        .iter()
        .filter(|s| shard.is_none_or(|sh| sh.contains(&s.id)))
        .map(|s| datasets.get(&s.dataset).map_or(0, |d| d.bars.len() as u64))
        .sum();
    let threads = args.threads.unwrap_or_else(default_threads);
    let mode = match (args.sequential, args.threads) {
        (true, _) => Mode::Sequential,
        (false, Some(n)) => Mode::Threads(n),
        (false, None) => Mode::Auto(threads),
    };
    let stop = install_ctrlc();
    let info = RunInfo {
        bt_version: env!("CARGO_PKG_VERSION").into(),
        queue: args.queue.display().to_string(),
        queue_hash: crate::sim::run_hash(&queue)?,
        datasets: datasets
            .iter()
            .map(|(name, d)| (name.clone(), d.source.clone(), d.bars.len() as u64))
            .collect(),
        ..RunInfo::default()
    };
    let opts = ExecOptions {
        out: RunDir::new(&out_dir),
        mode,
        resume: args.resume,
        shard,
        info,
        work_estimate,
        stop: Some(stop),
    };
    let progress = StderrProgress::new(quiet);
    let simulator = Backtester { registry: &registry };
    let outcome = {
        let _span = tracing::info_span!("simulate").entered();
        bt_executor::execute(
            queue.iter(),
            queue.len(),
            &datasets,
            &simulator,
            &opts,
            Some(&progress),
        )?
    };
    progress.finish();
    // Files first, printing last: a closed stdout (`bt run ... | head`) must not cost the report.
    let wrote_report = !args.no_report && !outcome.interrupted;
    if wrote_report {
        let _span = tracing::info_span!("report").entered();
        crate::report_run::write_for_run(
            &crate::report_run::default_args(&out_dir, &args.by, args.top),
            &datasets,
        )
        .context("writing the report")?;
    }
    let info = &outcome.info;
    writeln!(
        out,
        "{} simulations ({} ok, {} failed{}) in {:.3}s, {} on {} thread(s){} -> {}",
        info.ok + info.failed,
        info.ok,
        info.failed,
        if outcome.resumed > 0 { format!(", {} resumed", outcome.resumed) } else { String::new() },
        info.wall_time_s,
        info.mode,
        info.threads,
        info.shard.as_ref().map(|s| format!(", shard {s}")).unwrap_or_default(),
        out_dir.display()
    )?;
    let top = bt_executor::top_k_file(&opts.out.results(), &args.by, args.top)?;
    write_leaderboard(out, &top, &args.by)?;
    if wrote_report {
        writeln!(out, "report: {}", out_dir.join("report.html").display())?;
    }
    if outcome.interrupted {
        writeln!(
            out,
            "interrupted: finish with `bt run {} --out {} --resume`",
            args.queue.display(),
            out_dir.display()
        )?;
        return Ok(ExitCode::from(EXIT_INTERRUPTED));
    }
    Ok(if info.failed > 0 { ExitCode::from(EXIT_SOME_FAILED) } else { ExitCode::SUCCESS })
}

/// `runs/<queue stem>`, or (not resuming) the first of `runs/<stem>-2`, `-3`, ... that does not
/// exist yet: running the same queue twice never touches the first run's results.
fn default_out_dir(queue: &std::path::Path, resume: bool) -> PathBuf {
    let stem = queue.file_stem().and_then(|s| s.to_str()).unwrap_or("run");
    let base = PathBuf::from("runs").join(stem);
    if resume || !base.exists() {
        return base;
    }
    (2..)
        .map(|k| PathBuf::from("runs").join(format!("{stem}-{k}")))
        .find(|p| !p.exists())
        .unwrap_or(base)
}

/// Ctrl-C sets a flag: the run stops after the simulations in flight. A second Ctrl-C exits.
fn install_ctrlc() -> &'static AtomicBool {
    static STOP: AtomicBool = AtomicBool::new(false);
    let _ = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            std::process::exit(i32::from(EXIT_INTERRUPTED));
        }
        let _ = writeln!(
            std::io::stderr(),
            "stopping after the simulations in flight (Ctrl-C again to abort)"
        );
    });
    &STOP
}

/// Prints the top simulations by a metric.
pub fn write_leaderboard(
    out: &mut dyn Write,
    top: &[bt_domain::SimRecord],
    by: &str,
) -> std::io::Result<()> {
    if top.is_empty() {
        return writeln!(out, "no successful simulation to rank");
    }
    writeln!(out, "\nTop {} by {by}:", top.len())?;
    writeln!(
        out,
        "{:>3}  {:<40} {:>12} {:>10} {:>10} {:>8} {:>7}",
        "#", "id", by, "return %", "max dd %", "trades", "sharpe"
    )?;
    for (rank, r) in top.iter().enumerate() {
        let s: &Stats = r.stats().expect("top_k keeps successful records");
        writeln!(
            out,
            "{:>3}  {:<40} {:>12.4} {:>10.2} {:>10.2} {:>8} {:>7.3}",
            rank + 1,
            r.id,
            s.metric(by).unwrap_or(f64::NAN),
            s.return_pct,
            s.max_drawdown_pct,
            s.n_trades,
            s.sharpe_ratio
        )?;
    }
    Ok(())
}
