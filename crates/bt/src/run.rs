use std::{collections::BTreeMap, path::PathBuf, sync::atomic::AtomicBool};

use bt_domain::{RunInfo, ValidationGroup, window::WalkForwardResult};
use bt_executor::DatasetLookup;
use bt_executor::{ExecOptions, LockedRunDir, Mode, Progress, RunDir, Shard};
use bt_queue::Queue;
use bt_report::ReportFiles;
use bt_strategies::Registry;

use crate::{
    dataset::{Datasets, dataset_infos},
    error::Result,
    reporting::{ReportOptions, report_into},
    simulate::{DEFAULT_PBO_BLOCKS, Simulator},
    validation::write_validation,
    walk_forward::{WalkForwards, write_walk_forward},
};

/// How to run a queue.
#[derive(Debug, Clone)]
pub struct RunOptions<'a> {
    /// The run directory (created if missing).
    pub out: PathBuf,
    /// Sequential, on N threads, or auto (parallel unless the queue is too small to profit).
    pub mode: Mode,
    /// Skip the simulations already in the directory and run the rest (the queue and data
    /// must be the ones the directory was made from).
    pub resume: bool,
    /// Run only this shard of the queue.
    pub shard: Option<Shard>,
    /// Set it to stop after the simulations in flight (the directory stays resumable).
    pub stop: Option<&'a AtomicBool>,
    /// Told of every finished simulation (from worker threads).
    pub progress: Option<&'a dyn Progress>,
    /// Write the report at the end (not when stopped early).
    pub report: Option<ReportOptions>,
    /// How run.json names the queue [default: the queue's display name].
    pub queue_label: Option<String>,
    /// Who holds the run directory's lock, for a second writer's message [default: this
    /// process's pid and command line].
    pub holder: Option<String>,
    /// Run simulations whose warm-up is at least their data's length (they never trade)
    /// instead of refusing the queue.
    pub allow_short_data: bool,
    /// Blocks of returns each simulation keeps for the PBO (even, 0: no PBO) [default:
    /// [`DEFAULT_PBO_BLOCKS`]]; a resume must use the number the run started with.
    pub pbo_blocks: usize,
}

impl Default for RunOptions<'_> {
    /// `runs/run`, auto mode on every core, no resume, no shard, no report.
    fn default() -> Self {
        RunOptions {
            out: PathBuf::from("runs/run"),
            mode: Mode::Auto(std::thread::available_parallelism().map_or(1, |n| n.get())),
            resume: false,
            shard: None,
            stop: None,
            progress: None,
            report: None,
            queue_label: None,
            holder: None,
            allow_short_data: false,
            pbo_blocks: DEFAULT_PBO_BLOCKS,
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutcome {
    /// The run directory.
    pub dir: PathBuf,
    /// Metadata as written to run.json.
    pub info: RunInfo,
    /// Simulations run in this session.
    pub ran: u64,
    /// Simulations skipped because the resume found them done.
    pub resumed: u64,
    /// Whether the run stopped early; the directory is resumable.
    pub interrupted: bool,
    /// The overfitting statistics per group of trials (also in `validation.json`); empty when
    /// the run stopped early.
    pub validation: Vec<ValidationGroup>,
    /// The walk-forwards' windows and stitched results (also in `walk_forward.csv` and
    /// `walk_forward.json`); empty when the run stopped early, for a shard, and for a queue
    /// without walk-forwards.
    pub walk_forward: Vec<WalkForwardResult>,
    /// The report's files, when one was asked for and written.
    pub report: Option<ReportFiles>,
}

/// Runs `queue` (validated, datasets loaded) into `opts.out`, holding the directory's lock
/// from the first write to the end of the report.
pub(crate) fn run_queue(
    registry: &Registry,
    queue: &Queue,
    datasets: &Datasets,
    opts: &RunOptions<'_>,
) -> Result<RunOutcome> {
    crate::validation::check_pbo_blocks(opts.pbo_blocks)?;
    let bars = bar_counts(datasets);
    queue.validate_lengths(&bars)?;
    if !opts.allow_short_data {
        queue.validate_warmups(registry, &bars)?;
    }
    let holder = opts.holder.clone().unwrap_or_else(bt_fs::this_process);
    let dir = RunDir::new(&opts.out).lock(&holder)?;
    let (outcome, validation, walk_forward) = run_locked(registry, queue, datasets, opts, &dir)?;
    let report = match &opts.report {
        Some(report) if !outcome.interrupted => {
            let _span = tracing::info_span!("report").entered();
            Some(report_into(
                registry,
                &dir.path,
                &dir,
                &outcome.info,
                Some(queue),
                datasets,
                report,
            )?)
        }
        _ => None,
    };
    Ok(RunOutcome {
        dir: opts.out.clone(),
        info: outcome.info,
        ran: outcome.ran,
        resumed: outcome.resumed,
        interrupted: outcome.interrupted,
        validation,
        walk_forward,
        report,
    })
}

/// Bars per data set, by name.
pub(crate) fn bar_counts(datasets: &Datasets) -> BTreeMap<String, usize> {
    datasets.iter().map(|(name, d)| (name.clone(), d.bars.len())).collect()
}

/// [`run_queue`] in a directory this process has locked, without the report: the
/// simulations, then validation.json and the walk-forward outputs (not after a stop).
pub(crate) fn run_locked(
    registry: &Registry,
    queue: &Queue,
    datasets: &Datasets,
    opts: &RunOptions<'_>,
    dir: &LockedRunDir,
) -> Result<(bt_executor::RunOutcome, Vec<ValidationGroup>, Vec<WalkForwardResult>)> {
    let bars = bar_counts(datasets);
    let wfs = WalkForwards::new(queue, datasets);
    let lookup = wfs.lookup(datasets);
    let work_estimate: u64 = queue
        .iter_with(&bars)
        .filter(|s| opts.shard.is_none_or(|sh| sh.contains(&s.id)))
        .map(|s| lookup.get(&s.dataset).map_or(0, |d| d.bars.len() as u64))
        .sum();
    let info = RunInfo {
        bt_version: env!("CARGO_PKG_VERSION").into(),
        queue: opts.queue_label.clone().unwrap_or_else(|| queue.name().to_owned()),
        queue_hash: crate::hash::run_hash(queue)?,
        datasets: dataset_infos(datasets),
        config: queue.defaults().values().into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        pbo_blocks: opts.pbo_blocks as u64,
        ..RunInfo::default()
    };
    let summaries = crate::summary::RunSummaries::default();
    let exec = ExecOptions {
        out: dir,
        mode: opts.mode,
        resume: opts.resume,
        shard: opts.shard,
        info,
        work_estimate,
        stop: opts.stop,
        then: (!wfs.is_empty()).then_some(&wfs as &dyn bt_executor::Then),
        summary: Some(&summaries),
    };
    let simulator =
        Simulator::new(registry).with_pbo_blocks(opts.pbo_blocks).with_walk_forwards(&wfs);
    let total = queue.len() + queue.walk_forward_len(&bars);
    let outcome = {
        let _span = tracing::info_span!("simulate").entered();
        let mut specs = queue.iter_with(&bars);
        bt_executor::execute(&mut specs, total, &lookup, &simulator, &exec, opts.progress)?
    };
    let validation = if outcome.interrupted {
        Vec::new()
    } else {
        let _span = tracing::info_span!("validation").entered();
        let threads = match opts.mode {
            Mode::Sequential => 1,
            Mode::Threads(n) | Mode::Auto(n) => n,
        };
        match summaries.take_trials() {
            Some(trials) => crate::validation::write_collected(dir, trials, threads)?,
            None => write_validation(dir, threads)?,
        }
    };
    let walk_forward = if outcome.interrupted || opts.shard.is_some() {
        Vec::new()
    } else {
        let _span = tracing::info_span!("walk_forward").entered();
        write_walk_forward(&wfs, dir)?
    };
    Ok((outcome, validation, walk_forward))
}
