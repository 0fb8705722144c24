use std::{
    collections::BTreeMap,
    fs,
    panic::{AssertUnwindSafe, catch_unwind},
    sync::{
        Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Instant,
};

use bt_domain::{
    Attempt, Params, RunInfo, RunMode, RunStatus, SimOutcome, SimRecord, SimSpec, SimSummary,
};

use crate::{
    error::ExecError,
    log::LogWriter,
    results::{SummaryOutput, done_indices, finalize, remove_stale},
    rundir::LockedRunDir,
    shard::Shard,
};

/// How to spread simulations over cores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// One after another on the calling thread.
    Sequential,
    /// On a pool of this many threads.
    Threads(usize),
    /// Parallel on this many threads, unless the queue is too small to profit
    /// ([`ExecOptions::work_estimate`] below [`AUTO_MIN_BAR_STEPS`]).
    Auto(usize),
}

/// Below this many bar-steps in total, `auto` runs sequentially: the pool's start-up and wake-up
/// costs (~0.4 ms measured here) exceed the gain. See docs/performance.md.
pub const AUTO_MIN_BAR_STEPS: u64 = 20_000;

/// Turns one simulation spec into statistics. The caller plugs in strategies, the engine and
/// statistics; the executor only schedules, isolates and records.
pub trait Simulator: Sync {
    /// What is prepared once per data set and shared by its simulations (bars, indicator cache,
    /// per-dataset statistics facts).
    type Dataset: Sync;
    /// Why a simulation failed; its message is recorded with the result.
    type Error: std::error::Error;

    /// Runs one simulation. Returns the canonical parameters (defaults filled in) and the
    /// summary, or why it failed. A panic is caught by the executor and recorded as a failure.
    fn simulate(
        &self,
        spec: &SimSpec,
        data: &Self::Dataset,
    ) -> Result<(Params, SimSummary), Self::Error>;

    /// Several simulations over one data set, in order: what [`Simulator::simulate`] gives
    /// for each, which is how it runs them unless a simulator shares work between them (bt
    /// folds their statistics together in vector lanes). One result per spec.
    fn simulate_many(
        &self,
        specs: &[SimSpec],
        data: &Self::Dataset,
    ) -> Vec<Result<(Params, SimSummary), Self::Error>> {
        specs.iter().map(|spec| self.simulate(spec, data)).collect()
    }

    /// How many simulations of `data` [`Simulator::simulate_many`] gains from taking together
    /// (1: none, the default). The executor's batches are no larger: a batch that panics runs
    /// again one simulation at a time, and a stop waits for the batch in progress.
    fn batch(&self, data: &Self::Dataset) -> usize {
        let _ = data;
        1
    }
}

/// The data sets a run's simulations name, by name: a map, or anything that finds them.
pub trait DatasetLookup<D>: Sync {
    /// The data set called `name`.
    fn get(&self, name: &str) -> Option<&D>;
}

impl<D: Sync> DatasetLookup<D> for BTreeMap<String, D> {
    fn get(&self, name: &str) -> Option<&D> {
        BTreeMap::get(self, name)
    }
}

/// Receives progress as simulations finish (called from worker threads).
pub trait Progress: Sync {
    /// The run starts: `to_run` simulations will run, `already_done` were found on resume.
    fn start(&self, to_run: u64, already_done: u64);
    /// One simulation finished.
    fn finished(&self, ok: bool);
}

/// Options of [`execute`].
#[derive(Debug)]
pub struct ExecOptions<'a> {
    /// The run directory, locked by this process.
    pub out: &'a LockedRunDir,
    /// Scheduling.
    pub mode: Mode,
    /// Skip simulations already in the result log (the run hash must match).
    pub resume: bool,
    /// Run only this shard of the queue.
    pub shard: Option<Shard>,
    /// Metadata recorded in run.json (queue, hash, version, datasets); the executor fills in
    /// mode, threads, status, counts and the attempts.
    pub info: RunInfo,
    /// Total bar-steps the queue will take (for [`Mode::Auto`]).
    pub work_estimate: u64,
    /// Set to stop after the simulations in flight (Ctrl-C).
    pub stop: Option<&'a AtomicBool>,
    /// Simulations that can only be specified once the others have run (a walk-forward's
    /// out-of-sample runs need the training results): called with the directory once every
    /// simulation of `specs` has its result (not after a stop, and never for a shard: the
    /// merge's resume runs them), its specs run like the others (resume skips those done) and
    /// are numbered after them. `total` counts them.
    pub then: Option<&'a dyn Then>,
    /// Where the summary rows go besides summary.csv (summary.parquet, in the facade).
    pub summary: Option<&'a dyn SummaryOutput>,
}

/// The simulations of [`ExecOptions::then`].
pub trait Then: Sync {
    /// The specs to run once every earlier simulation has its result in `dir`.
    fn specs(&self, dir: &LockedRunDir) -> Result<Vec<SimSpec>, ExecError>;
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutcome {
    /// Metadata as written to run.json.
    pub info: RunInfo,
    /// Simulations run in this session.
    pub ran: u64,
    /// Simulations skipped because the resume found them done.
    pub resumed: u64,
    /// Whether the run stopped early (stop flag); the directory is resumable.
    pub interrupted: bool,
}

impl std::fmt::Debug for dyn Then + '_ {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Then")
    }
}

impl std::fmt::Debug for dyn Progress + '_ {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress")
    }
}

/// Runs `specs` (the whole queue, in queue order; `total` of them) into `opts.out`.
///
/// Each finished simulation is appended to the result log (`results.btr`, see [`crate::log`]),
/// whose frames reach the OS whole as soon as they hold 4096 records or a second of simulation
/// time, so a crash loses only the simulations in flight and at most about a second of
/// finished work. At the end the summaries (`summary.csv`, queue order, byte-identical whatever
/// the mode, thread count or interruptions; [`ExecOptions::summary`]'s table) and `run.json`
/// are written atomically. Failing or panicking simulations are recorded and the rest go on.
///
/// A directory whose path cannot be used (permissions, not a directory...) is
/// [`ExecError::OutDir`], found before anything ran. A failed write for another reason (disk
/// full), before or during the run, is [`ExecError::Write`]; during the run it stops the run
/// after the simulations in flight: the log then holds only complete frames, there is no
/// `summary.csv` (a stale one is removed before the first result is appended) and `run.json`
/// still says "running", so `--resume` finishes the run later.
pub fn execute<S: Simulator>(
    specs: impl Iterator<Item = SimSpec> + Send,
    total: u64,
    datasets: &dyn DatasetLookup<S::Dataset>,
    simulator: &S,
    opts: &ExecOptions<'_>,
    progress: Option<&dyn Progress>,
) -> Result<RunOutcome, ExecError> {
    let started = Instant::now();
    let dir = opts.out;
    let results_path = dir.results();
    let mut attempts = Vec::new();
    // When the log was last written: the end of a session that was killed (read before a torn
    // frame is cut, which writes it).
    let mut last_write = None;
    let done = if opts.resume {
        if let Some(previous) = dir.read_info()? {
            if previous.queue_hash != opts.info.queue_hash {
                return Err(ExecError::QueueMismatch {
                    path: dir.run_json(),
                    found: previous.queue_hash,
                    expected: opts.info.queue_hash.clone(),
                });
            }
            if previous.pbo_blocks != opts.info.pbo_blocks {
                return Err(ExecError::PboBlocksMismatch {
                    path: dir.run_json(),
                    found: previous.pbo_blocks,
                    expected: opts.info.pbo_blocks,
                });
            }
            attempts = previous.attempts;
        }
        let legacy = dir.path.join("results.jsonl");
        if legacy.exists() && !results_path.exists() {
            return Err(ExecError::Corrupt {
                path: legacy,
                line: 1,
                message: "a results.jsonl from an earlier bt: this one writes results.btr (docs/results-format.md) and cannot resume it; run the queue into a new directory".into(),
            });
        }
        last_write = fs::metadata(&results_path).and_then(|m| m.modified()).ok();
        // Not `before_start`: a torn frame that cannot be cut is a failed write of a run with
        // results to keep; another --out would not help.
        done_indices(&results_path)?
    } else {
        let has_results = fs::metadata(&results_path).map(|m| m.len() > 0).unwrap_or(false);
        if has_results {
            return Err(ExecError::AlreadyHasResults { path: dir.path.clone() });
        }
        Vec::new()
    };

    let threads = match opts.mode {
        Mode::Sequential => 1,
        Mode::Threads(n) => n.max(1),
        Mode::Auto(n) if opts.work_estimate >= AUTO_MIN_BAR_STEPS && total > 1 => n.max(1),
        Mode::Auto(_) => 1,
    };
    let parallel = !matches!(opts.mode, Mode::Sequential) && threads > 1;
    let mut info = opts.info.clone();
    info.mode = if parallel { RunMode::Parallel } else { RunMode::Sequential };
    info.threads = threads as u64;
    info.shard = opts.shard.map(|s| s.to_string());
    info.status = RunStatus::Running;
    close_unended(&mut attempts, last_write.map(unix_ns), done.len() as u64);
    attempts.push(Attempt {
        mode: info.mode,
        threads: info.threads,
        started: Some(unix_ns(std::time::SystemTime::now()) / 1_000_000 * 1_000_000),
        ..Attempt::default()
    });
    info.attempts = attempts;
    info.wall_time_s = info.attempts.iter().map(|a| a.wall_time_s).sum();
    dir.write_info(&info).map_err(ExecError::before_start)?;
    // Summaries left by an interrupted run describe fewer results than the log will hold once
    // this run appends: remove them before the first append, so any summary on disk matches
    // the log (run.json already says "running", so a kill here is resumable).
    for stale in [dir.summary(), dir.summary_parquet()] {
        remove_stale(&stale).map_err(|e| match e {
            ExecError::Write { path, source } => ExecError::setup(path)(source),
            e => e,
        })?;
    }

    let writer = LogWriter::open(&results_path).map_err(ExecError::setup(&results_path))?;
    // Set when a result cannot be written: the run stops like on Ctrl-C, then reports the error.
    let write_failed = AtomicBool::new(false);

    let shard = opts.shard;
    let is_done = |index: usize| !done.is_empty() && done.binary_search(&(index as u64)).is_ok();
    let counts = Counters::default();
    let stop = opts.stop;
    let stopped = || stop.is_some_and(|s| s.load(Ordering::Relaxed));
    let halted = || stopped() || write_failed.load(Ordering::Relaxed);
    let ran = AtomicU64::new(0);
    if let Some(p) = progress {
        // With sharding the exact count is known only after filtering; report the queue total
        // for a whole run and an estimate for a shard.
        let expected = match shard {
            Some(s) => total / s.count,
            None => total,
        };
        p.start(expected.saturating_sub(done.len() as u64), done.len() as u64);
    }
    // Runs consecutive specs of one data set (a batch of up to `simulator.batch(data)`) and
    // records each result.
    let run_batch = |batch: Vec<(usize, SimSpec)>| {
        let began = Instant::now();
        let (indices, specs): (Vec<usize>, Vec<SimSpec>) = batch.into_iter().unzip();
        let outcomes: Vec<Result<(Params, SimSummary), String>> =
            match datasets.get(&specs[0].dataset) {
                None => {
                    let message = format!("unknown dataset {:?}", specs[0].dataset);
                    specs.iter().map(|_| Err(message.clone())).collect()
                }
                Some(data) => run_isolated(simulator, &specs, data),
            };
        // The batch's time, shared out (it only paces the log's frames).
        let work = began.elapsed() / specs.len() as u32;
        for ((index, spec), outcome) in indices.into_iter().zip(specs).zip(outcomes) {
            let ok = outcome.is_ok();
            let (params, outcome) = match outcome {
                Ok((params, summary)) => (params, SimOutcome::Ok(Box::new(summary))),
                Err(message) => (spec.params, SimOutcome::Failed(message)),
            };
            let record = SimRecord {
                index: index as u64,
                id: spec.id,
                dataset: spec.dataset,
                strategy: spec.strategy,
                params,
                outcome,
            };
            if !writer.append(&record, work) {
                write_failed.store(true, Ordering::Relaxed);
                return;
            }
            ran.fetch_add(1, Ordering::Relaxed);
            if let Some(p) = progress {
                p.finished(ok);
            }
        }
    };
    // The batch size for specs of the data set `name` (1 for an unknown one: it fails alone).
    let batch = |name: &str| datasets.get(name).map_or(1, |data| simulator.batch(data).max(1));

    let pool = if parallel {
        Some(
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .thread_name(|i| format!("bt-worker-{i}"))
                .build()
                .map_err(|e| ExecError::Pool { threads, message: e.to_string() })?,
        )
    } else {
        None
    };
    // Runs `todo`, about `count` specs.
    let dispatch =
        |todo: &mut (dyn Iterator<Item = (usize, SimSpec)> + Send), count: u64| match &pool {
            Some(pool) => {
                // Guided self-scheduling: each worker takes a chunk of the remaining specs (a
                // quarter of its fair share, 1..=64), so the shared iterator is locked rarely
                // (rayon's par_bridge locked it per item: slower than sequential on short
                // simulations, measured) and the last chunks are small enough to balance the tail.
                let source = Mutex::new((todo, 0u64));
                let next_chunk = || {
                    let mut guard = source.lock().unwrap_or_else(|e| e.into_inner());
                    let (iter, taken) = &mut *guard;
                    let left = count.saturating_sub(*taken);
                    let size = (left / (4 * threads as u64)).clamp(1, 64) as usize;
                    let chunk: Vec<(usize, SimSpec)> = iter.by_ref().take(size).collect();
                    *taken += chunk.len() as u64;
                    chunk
                };
                pool.install(|| {
                    rayon::scope(|scope| {
                        for _ in 0..threads {
                            scope.spawn(|_| {
                                loop {
                                    let chunk = next_chunk();
                                    if chunk.is_empty() {
                                        break;
                                    }
                                    // A chunk holds up to 64 specs: check the stop flags between
                                    // its batches, not only between chunks. Specs left out run on
                                    // resume.
                                    for item in batches(chunk.into_iter(), &batch) {
                                        if halted() {
                                            break;
                                        }
                                        run_batch(item);
                                    }
                                }
                            });
                        }
                    })
                });
            }
            None => batches(todo, &batch).take_while(|_| !halted()).for_each(run_batch),
        };

    let mut specs = specs;
    dispatch(&mut todo(&mut specs, 0, shard, &is_done, &counts, &halted), total);
    if let Some(then) = opts.then
        && shard.is_none()
        && !halted()
        && writer.flush()
    {
        let more = then.specs(dir)?;
        let count = more.len() as u64;
        let first = counts.seen.load(Ordering::Relaxed) as usize;
        dispatch(&mut todo(&mut more.into_iter(), first, None, &is_done, &counts, &halted), count);
    }
    let (resumed, in_shard) = (counts.resumed.into_inner(), counts.in_shard.into_inner());

    writer.finish()?;
    let interrupted = stopped();
    tracing::info!(seconds = started.elapsed().as_secs_f64(), "simulations done");
    let counts = finalize(dir, opts.summary)?;
    tracing::info!(seconds = started.elapsed().as_secs_f64(), "summary written");
    let ran = ran.into_inner();
    let this = info.attempts.last_mut().expect("this session's attempt is recorded at its start");
    (this.wall_time_s, this.ran, this.ended) = (started.elapsed().as_secs_f64(), ran, true);
    info.wall_time_s = info.attempts.iter().map(|a| a.wall_time_s).sum();
    info.total = if shard.is_some() { in_shard } else { total };
    info.ok = counts.ok;
    info.failed = counts.failed;
    let complete = !interrupted && counts.total >= info.total;
    info.status = if complete { RunStatus::Complete } else { RunStatus::Interrupted };
    dir.write_info(&info)?;
    Ok(RunOutcome { info, ran, resumed, interrupted })
}

/// Specs seen, in the shard, and skipped as done, across the stages of a run.
#[derive(Default)]
struct Counters {
    seen: AtomicU64,
    in_shard: AtomicU64,
    resumed: AtomicU64,
}

/// What is left to run of `specs` (numbered from `first`): in the shard, not done, until a stop.
fn todo<'a>(
    specs: &'a mut (dyn Iterator<Item = SimSpec> + Send),
    first: usize,
    shard: Option<Shard>,
    is_done: &'a (dyn Fn(usize) -> bool + Sync),
    counts: &'a Counters,
    halted: &'a (dyn Fn() -> bool + Sync),
) -> impl Iterator<Item = (usize, SimSpec)> + Send + 'a {
    specs
        .enumerate()
        .map(move |(i, spec)| (first + i, spec))
        .inspect(|_| {
            counts.seen.fetch_add(1, Ordering::Relaxed);
        })
        .filter(move |(_, spec)| shard.is_none_or(|s| s.contains(&spec.id)))
        .inspect(|_| {
            counts.in_shard.fetch_add(1, Ordering::Relaxed);
        })
        .filter(|(index, _)| {
            let skip = is_done(*index);
            if skip {
                counts.resumed.fetch_add(1, Ordering::Relaxed);
            }
            !skip
        })
        .take_while(|_| !halted())
}

/// Consecutive specs of one data set, up to `size(data set)` at a time.
fn batches<'a, I: Iterator<Item = (usize, SimSpec)> + 'a>(
    items: I,
    size: &'a dyn Fn(&str) -> usize,
) -> impl Iterator<Item = Vec<(usize, SimSpec)>> + 'a {
    let mut items = items.peekable();
    std::iter::from_fn(move || {
        let first = items.next()?;
        let size = size(&first.1.dataset);
        let mut batch = vec![first];
        while batch.len() < size
            && let Some(next) = items.next_if(|(_, s)| s.dataset == batch[0].1.dataset)
        {
            batch.push(next);
        }
        Some(batch)
    })
}

/// `simulator.simulate_many(specs)`, a panic caught: a batch that panics (or returns the wrong
/// number of results) runs again one simulation at a time, so a panic is recorded for the
/// simulation that raised it only.
fn run_isolated<S: Simulator>(
    simulator: &S,
    specs: &[SimSpec],
    data: &S::Dataset,
) -> Vec<Result<(Params, SimSummary), String>> {
    let one =
        |spec: &SimSpec| match catch_unwind(AssertUnwindSafe(|| simulator.simulate(spec, data))) {
            Ok(result) => result.map_err(|e| e.to_string()),
            Err(payload) => Err(format!("panicked: {}", panic_message(&payload))),
        };
    if let [spec] = specs {
        return vec![one(spec)];
    }
    match catch_unwind(AssertUnwindSafe(|| simulator.simulate_many(specs, data))) {
        Ok(results) if results.len() == specs.len() => {
            results.into_iter().map(|r| r.map_err(|e| e.to_string())).collect()
        }
        outcome => {
            tracing::debug!(
                specs = specs.len(),
                panicked = outcome.is_err(),
                "a batch failed as a whole: running its simulations one at a time"
            );
            specs.iter().map(one).collect()
        }
    }
}

fn panic_message(payload: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic payload".to_owned()
    }
}

/// Completes the last of `attempts` when it never recorded its end (the session was killed):
/// its wall time runs to `last_write` (ns since the epoch), the log's last write, and it ran
/// what the log holds (`done` simulations) beyond the other sessions.
fn close_unended(attempts: &mut [Attempt], last_write: Option<i64>, done: u64) {
    let Some((last, earlier)) = attempts.split_last_mut() else { return };
    if last.ended {
        return;
    }
    last.wall_time_s = match (last.started, last_write) {
        (Some(start), Some(end)) => (end.saturating_sub(start) as f64 / 1e9).max(0.0),
        _ => 0.0,
    };
    last.ran = done.saturating_sub(earlier.iter().map(|a| a.ran).sum());
}

/// Nanoseconds since the epoch (0 before it).
fn unix_ns(t: std::time::SystemTime) -> i64 {
    t.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as i64)
}

#[cfg(test)]
mod tests;
