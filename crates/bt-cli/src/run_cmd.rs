//! `bt run`: a queue, sequentially or in parallel, into a run directory.

use std::{
    io::Write,
    path::PathBuf,
    process::ExitCode,
    sync::atomic::{AtomicBool, Ordering},
};

use bt::{
    ReportOptions, RunOptions, Workbench,
    executor::{Mode, Shard},
};

use crate::{BadInput, EXIT_INTERRUPTED, EXIT_SOME_FAILED, Io, progress::StderrProgress};

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  bt run data/queues/example.ron                      # all cores, results in runs/example
  bt run data/queues/example.ron --sequential --out /tmp/seq
  bt run big.ron --out runs/big --resume              # finish an interrupted run
  bt run big.ron --shard 2/8 --out runs/big-2         # one of 8 shards (0-based)
  bt run big.ron --check                              # validate only
  bt run q.ron --top 5 --by sortino_ratio --min-trades 10 --filter 'strategy == \"sma_cross\"'

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
    /// Skip simulations already in OUT/results.btr and run the rest.
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
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Validate the queue (and data files) and exit.
    #[arg(long)]
    pub check: bool,
    /// Do not write the report at the end.
    #[arg(long)]
    pub no_report: bool,
    /// Run (and pass --check with) simulations whose warm-up is at least their data's length,
    /// which never trade; without it such a queue is refused, naming the first point.
    #[arg(long)]
    pub allow_short_data: bool,
    /// Blocks of returns per simulation for the Probability of Backtest Overfitting: an even
    /// number up to 20, or 0 for no PBO (docs/validation.md) [default: 16, or 0 for queues of
    /// more than 100,000 simulations; on --resume, the run's].
    #[arg(long, value_name = "S")]
    pub pbo_blocks: Option<usize>,
}

/// Resolves `--shard`: `K/N`, or `auto` from Slurm, Kubernetes or AWS Batch variables.
fn resolve_shard(spec: &str, shards: Option<u64>) -> anyhow::Result<Shard> {
    Ok(if spec == "auto" {
        bt::cluster::shard_from_env(shards).map_err(|e| BadInput(format!("--shard auto: {e}")))?
    } else {
        spec.parse::<Shard>().map_err(bt::Error::from)?
    })
}

/// `--min-trades` and `--filter`: which simulations a leaderboard ranks.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct FilterArgs {
    /// Rank only simulations with at least N closed trades (`n_trades >= N`, joined to
    /// --filter by `and`).
    #[arg(long, value_name = "N")]
    pub min_trades: Option<u64>,
    /// Rank only the simulations this condition keeps, in the language of a queue's `where`:
    /// parameters, statistics (n_trades, sharpe_ratio, psr...), `strategy`, `dataset`, `id` and
    /// `sweep` (strings, `==`/`!=`), e.g. 'strategy == "rsi_reversion" and n_trades >= 20'. A
    /// simulation without a parameter the condition names is left out (docs/report.md).
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<String>,
}

pub fn run(wb: &Workbench, args: RunArgs, io: &mut Io<'_>) -> anyhow::Result<ExitCode> {
    bt::domain::ranking::rank_metric(&args.by).map_err(|e| BadInput(format!("--by {e}")))?;
    let queue = wb.read_queue(&args.queue)?;
    // Before anything runs: a filter that does not compile fails now, not after the run.
    let filter =
        wb.queue_filter(Some(&queue), args.filter.filter.as_deref(), args.filter.min_trades)?;
    let shard = args.shard.as_deref().map(|s| resolve_shard(s, args.shards)).transpose()?;
    if args.check {
        // Walk-forward windows and warm-ups depend on the data's length: load it.
        let datasets = wb.load_datasets(&queue)?;
        let bars = datasets.iter().map(|(k, d)| (k.clone(), d.bars.len())).collect();
        queue.validate_lengths(&bars).map_err(bt::Error::from)?;
        if !args.allow_short_data {
            queue.validate_warmups(wb.registry(), &bars).map_err(bt::Error::from)?;
        }
        let walk_forward = queue.walk_forward_len(&bars);
        let of_them = match walk_forward {
            0 => String::new(),
            n => format!(" ({n} of them walk-forward)"),
        };
        writeln!(
            io.out,
            "OK: {}: {} simulations{of_them} over {} data sets",
            args.queue.display(),
            queue.len() + walk_forward,
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
        wb.load_datasets(&queue)?
    };
    let threads = args.threads.unwrap_or_else(bt::cluster::default_threads);
    let mode = match (args.sequential, args.threads) {
        (true, _) => Mode::Sequential,
        (false, Some(n)) => Mode::Threads(n),
        (false, None) => Mode::Auto(threads),
    };
    let pbo_blocks = match args.pbo_blocks {
        Some(s) => s,
        None if args.resume => bt::executor::RunDir::new(&out_dir)
            .read_info()
            .ok()
            .flatten()
            .map_or(bt::DEFAULT_PBO_BLOCKS, |i| i.pbo_blocks as usize),
        None => {
            let bars = datasets.iter().map(|(k, d)| (k.clone(), d.bars.len())).collect();
            let total = queue.len() + queue.walk_forward_len(&bars);
            let blocks = bt::validation::default_pbo_blocks(total);
            if blocks == 0 && io.progress {
                writeln!(
                    io.err,
                    "note: no PBO for {total} simulations (above {}, it takes ~30 s per million on 2 cores); --pbo-blocks 16 computes it",
                    bt::validation::PBO_DEFAULT_MAX_SIMS
                )?;
            }
            blocks
        }
    };
    bt::validation::check_pbo_blocks(pbo_blocks)
        .map_err(|e| BadInput(format!("--pbo-blocks {pbo_blocks}: {e}")))?;
    let progress = StderrProgress::new(io.progress);
    let report = (!args.no_report).then(|| ReportOptions {
        top: args.top,
        by: args.by.clone(),
        filter: filter.clone(),
        ..ReportOptions::default()
    });
    let opts = RunOptions {
        out: out_dir.clone(),
        mode,
        resume: args.resume,
        shard,
        stop: Some(install_ctrlc()),
        progress: Some(&progress),
        report,
        queue_label: Some(args.queue.display().to_string()),
        holder: None,
        allow_short_data: args.allow_short_data,
        pbo_blocks,
    };
    let outcome = wb.run_queue_with(&queue, &datasets, &opts);
    progress.finish();
    let outcome = outcome?;
    // Files first, printing last: a closed stdout (`bt run ... | head`) must not cost the report.
    let info = &outcome.info;
    writeln!(
        io.out,
        "{} simulations ({} ok, {} failed{}) in {:.3}s{}, {} on {} thread(s){} -> {}",
        info.ok + info.failed,
        info.ok,
        info.failed,
        if outcome.resumed > 0 { format!(", {} resumed", outcome.resumed) } else { String::new() },
        info.attempts.last().map_or(0.0, |a| a.wall_time_s),
        match info.attempts.len() {
            0 | 1 => String::new(),
            n => format!(" ({:.3}s over {n} attempts)", info.wall_time_s),
        },
        info.mode,
        info.threads,
        info.shard.as_ref().map(|s| format!(", shard {s}")).unwrap_or_default(),
        out_dir.display()
    )?;
    let (top, tally) = match &outcome.report {
        // The report ranked them already.
        Some(files) => (files.leaderboard.clone(), files.filter.clone()),
        None => wb.leaderboard_filtered(&out_dir, &args.by, args.top, filter.as_ref())?,
    };
    if !top.is_empty() || outcome.walk_forward.is_empty() || tally.is_some() {
        write_leaderboard(io.out, &top, &args.by, &outcome.validation, tally.as_ref())?;
    }
    write_validation(io.out, &outcome.validation)?;
    write!(io.out, "{}", bt::report::walk_forward_text(&outcome.walk_forward))?;
    if let Some(files) = &outcome.report {
        writeln!(io.out)?;
        write_files(io.out, files)?;
    }
    if outcome.interrupted {
        writeln!(
            io.out,
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

/// Prints the overfitting statistics of the groups of trials, when there are some.
pub fn write_validation(
    out: &mut dyn Write,
    groups: &[bt::domain::ValidationGroup],
) -> anyhow::Result<()> {
    if !groups.is_empty() {
        writeln!(
            out,
            "\nIs the winner real? (dsr below 0.95 or pbo from 0.5: probably luck; docs/validation.md)"
        )?;
        write!(out, "{}", bt::report::validation_text(groups))?;
    }
    Ok(())
}

/// Prints the top simulations by a metric: the leaderboard of every report, as text, after
/// the note of what its filter kept.
pub fn write_leaderboard(
    out: &mut dyn Write,
    top: &[bt::domain::SimRecord],
    by: &str,
    validation: &[bt::domain::ValidationGroup],
    filter: Option<&bt::report::FilterTally>,
) -> anyhow::Result<()> {
    if top.is_empty() {
        match filter {
            Some(tally) if tally.ranked > 0 => writeln!(out, "\n{}", tally.note())?,
            _ => writeln!(out, "no successful simulation to rank")?,
        }
        return Ok(());
    }
    let board = bt::report::Leaderboard::from_ranked(top.to_vec(), by)?.with_dsr(validation);
    writeln!(out, "\nTop {} by {by}:", top.len())?;
    if let Some(tally) = filter {
        writeln!(out, "{}", tally.note())?;
    }
    write!(out, "{}", board.to_text())?;
    Ok(())
}

/// Prints the files a report wrote, each once: `wrote PATH`, the chart files counted, and the
/// chart files of an earlier report it removed.
pub fn write_files(out: &mut dyn Write, files: &bt::report::ReportFiles) -> anyhow::Result<()> {
    for path in files.html.iter().chain(&files.tables) {
        writeln!(out, "wrote {}", path.display())?;
    }
    if let Some(first) = files.charts.first() {
        let dir = first.parent().map(|p| p.display().to_string()).unwrap_or_default();
        writeln!(out, "wrote {} chart files in {dir}", files.charts.len())?;
    }
    if let Some(first) = files.removed_charts.first() {
        let dir = first.parent().map(|p| p.display().to_string()).unwrap_or_default();
        let n = files.removed_charts.len();
        writeln!(out, "removed {n} chart files of an earlier report from {dir}")?;
    }
    Ok(())
}
