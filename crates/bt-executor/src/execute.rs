use std::{
    collections::BTreeMap,
    fs::{self, File, OpenOptions},
    io::Write,
    panic::{AssertUnwindSafe, catch_unwind},
    sync::{
        Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Instant,
};

use bt_domain::{
    Attempt, Params, RunInfo, RunMode, RunStatus, SimOutcome, SimRecord, SimSpec, SimSummary,
    hash::fnv1a_128,
};

use crate::{
    error::ExecError,
    jsonl::encode_record,
    results::{done_ids, finalize},
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
    /// Skip simulations already in `results.jsonl` (the run hash must match).
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

impl std::fmt::Debug for dyn Progress + '_ {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress")
    }
}

/// Runs `specs` (the whole queue, in queue order; `total` of them) into `opts.out`.
///
/// Each finished simulation is appended to `results.jsonl` as one line and flushed to the OS
/// at once, so a crash loses only the simulations in flight. At the end `summary.csv` (queue
/// order, byte-identical whatever the mode, thread count or interruptions) and `run.json` are
/// written atomically. Failing or panicking simulations are recorded and the rest go on.
///
/// A directory whose path cannot be used (permissions, not a directory...) is
/// [`ExecError::OutDir`], found before anything ran. A failed write for another reason (disk
/// full), before or during the run, is [`ExecError::Write`]; during the run it stops the run
/// after the simulations in flight: `results.jsonl` then holds only complete lines, there is no
/// `summary.csv` (a stale one is removed before the first result is appended) and `run.json`
/// still says "running", so `--resume` finishes the run later.
pub fn execute<S: Simulator>(
    specs: impl Iterator<Item = SimSpec> + Send,
    total: u64,
    datasets: &BTreeMap<String, S::Dataset>,
    simulator: &S,
    opts: &ExecOptions<'_>,
    progress: Option<&dyn Progress>,
) -> Result<RunOutcome, ExecError> {
    let started = Instant::now();
    let dir = opts.out;
    let results_path = dir.results();
    let mut attempts = Vec::new();
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
        // Not `before_start`: a torn line that cannot be cut is a failed write of a run with
        // results to keep; another --out would not help.
        done_ids(&results_path)?
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
    info.attempts = attempts;
    info.wall_time_s = info.attempts.iter().map(|a| a.wall_time_s).sum();
    dir.write_info(&info).map_err(ExecError::before_start)?;
    // A summary.csv left by an interrupted run describes fewer results than the file will hold
    // once this run appends: remove it before the first append, so any summary.csv on disk
    // matches results.jsonl (run.json already says "running", so a kill here is resumable).
    if let Err(e) = fs::remove_file(dir.summary())
        && e.kind() != std::io::ErrorKind::NotFound
    {
        return Err(ExecError::setup(dir.summary())(e));
    }

    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&results_path)
        .map_err(ExecError::setup(&results_path))?;
    let len = file.metadata().map_err(ExecError::setup(&results_path))?.len();
    let writer = Mutex::new(ResultsWriter { file, len, error: None });
    // Set when a result cannot be written: the run stops like on Ctrl-C, then reports the error.
    let write_failed = AtomicBool::new(false);

    let shard = opts.shard;
    let is_done =
        |id: &str| !done.is_empty() && done.binary_search(&fnv1a_128(id.as_bytes())).is_ok();
    let mut resumed = 0u64;
    let mut in_shard = 0u64;
    let resumed_ref = &mut resumed;
    let in_shard_ref = &mut in_shard;
    let stop = opts.stop;
    let stopped = || stop.is_some_and(|s| s.load(Ordering::Relaxed));
    let halted = || stopped() || write_failed.load(Ordering::Relaxed);
    let todo = specs
        .enumerate()
        .filter(move |(_, spec)| shard.is_none_or(|s| s.contains(&spec.id)))
        .inspect(|_| *in_shard_ref += 1)
        .filter(|(_, spec)| {
            let skip = is_done(&spec.id);
            if skip {
                *resumed_ref += 1;
            }
            !skip
        })
        .take_while(|_| !halted());

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
    let run_one = |(index, spec): (usize, SimSpec)| {
        let outcome = match datasets.get(&spec.dataset) {
            None => Err(format!("unknown dataset {:?}", spec.dataset)),
            Some(data) => {
                match catch_unwind(AssertUnwindSafe(|| simulator.simulate(&spec, data))) {
                    Ok(result) => result.map_err(|e| e.to_string()),
                    Err(payload) => Err(format!("panicked: {}", panic_message(&payload))),
                }
            }
        };
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
        let mut line = encode_record(&record);
        line.push('\n');
        if !writer.lock().unwrap_or_else(|e| e.into_inner()).append(line.as_bytes()) {
            write_failed.store(true, Ordering::Relaxed);
            return;
        }
        ran.fetch_add(1, Ordering::Relaxed);
        if let Some(p) = progress {
            p.finished(ok);
        }
    };

    if parallel {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("bt-worker-{i}"))
            .build()
            .map_err(|e| ExecError::Pool { threads, message: e.to_string() })?;
        // Guided self-scheduling: each worker takes a chunk of the remaining specs (a quarter
        // of its fair share, 1..=64), so the shared iterator is locked rarely (rayon's
        // par_bridge locked it per item: slower than sequential on short simulations, measured)
        // and the last chunks are small enough to balance the tail.
        let source = Mutex::new((todo, 0u64));
        let next_chunk = || {
            let mut guard = source.lock().unwrap_or_else(|e| e.into_inner());
            let (iter, taken) = &mut *guard;
            let left = total.saturating_sub(*taken);
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
                            // A chunk holds up to 64 specs: check the stop flags between them,
                            // not only between chunks. Specs left out are run on resume.
                            for item in chunk {
                                if halted() {
                                    break;
                                }
                                run_one(item);
                            }
                        }
                    });
                }
            })
        });
    } else {
        todo.for_each(run_one);
    }

    let writer = writer.into_inner().unwrap_or_else(|e| e.into_inner());
    if let Some(source) = writer.error {
        return Err(ExecError::Write { path: results_path, source });
    }
    writer.file.sync_all().map_err(ExecError::write(&results_path))?;
    let interrupted = stopped();
    tracing::info!(seconds = started.elapsed().as_secs_f64(), "simulations done");
    let counts = finalize(dir)?;
    tracing::info!(seconds = started.elapsed().as_secs_f64(), "summary written");
    let ran = ran.into_inner();
    info.attempts.push(Attempt {
        mode: info.mode,
        threads: info.threads,
        wall_time_s: started.elapsed().as_secs_f64(),
        ran,
    });
    info.wall_time_s = info.attempts.iter().map(|a| a.wall_time_s).sum();
    info.total = if shard.is_some() { in_shard } else { total };
    info.ok = counts.ok;
    info.failed = counts.failed;
    let complete = !interrupted && counts.total >= info.total;
    info.status = if complete { RunStatus::Complete } else { RunStatus::Interrupted };
    dir.write_info(&info)?;
    Ok(RunOutcome { info, ran, resumed, interrupted })
}

struct ResultsWriter {
    file: File,
    /// Bytes of complete lines in the file.
    len: u64,
    /// The first failed write; nothing is written after it.
    error: Option<std::io::Error>,
}

impl ResultsWriter {
    /// One `write` per line: a line reaches the OS whole, or (if the process dies inside the
    /// call) as a torn tail that resume truncates. Returns false when the line was not written
    /// (the disk is full...): the run must stop.
    fn append(&mut self, line: &[u8]) -> bool {
        if self.error.is_some() {
            return false;
        }
        match self.file.write_all(line) {
            Ok(()) => {
                self.len += line.len() as u64;
                true
            }
            Err(e) => {
                // A write can fail after part of the line went out (a file size limit): cut it
                // off, so the file holds only complete records. Best effort: if even that fails,
                // resume drops the torn line.
                let _ = self.file.set_len(self.len);
                self.error = Some(e);
                false
            }
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

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use bt_domain::{BacktestConfig, Params};

    use super::*;
    use crate::rundir::RunDir;

    /// The error of the fake simulators: every simulation fails (a failure is recorded like a
    /// success).
    #[derive(Debug)]
    struct NoEngine;

    impl std::fmt::Display for NoEngine {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("no engine here")
        }
    }

    impl std::error::Error for NoEngine {}

    /// Fails every simulation (a failure is recorded like a success) and counts the calls.
    struct Counting(AtomicU64);

    impl Simulator for Counting {
        type Dataset = ();
        type Error = NoEngine;
        fn simulate(&self, _: &SimSpec, _: &()) -> Result<(Params, SimSummary), NoEngine> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Err(NoEngine)
        }
    }

    fn specs(n: usize) -> impl Iterator<Item = SimSpec> + Send {
        (0..n).map(|i| SimSpec {
            id: format!("s{i}"),
            dataset: "d".into(),
            strategy: "x".into(),
            params: Params::new(),
            config: BacktestConfig::default(),
        })
    }

    #[test]
    fn a_results_write_failure_stops_the_run_and_is_reported_with_the_path() {
        // /dev/full fails every write with ENOSPC, for root too: a full disk after the run
        // started (run.json was written, the results file opened).
        for (mode, max_calls) in [(Mode::Sequential, 1), (Mode::Threads(2), 4)] {
            let tmp = tempfile::tempdir().unwrap();
            let dir = RunDir::new(tmp.path().join("out"));
            fs::create_dir_all(&dir.path).unwrap();
            std::os::unix::fs::symlink("/dev/full", dir.results()).unwrap();
            let locked = dir.lock("test").unwrap();
            let opts = ExecOptions {
                out: &locked,
                mode,
                resume: false,
                shard: None,
                info: RunInfo { queue_hash: "h".into(), ..RunInfo::default() },
                work_estimate: u64::MAX,
                stop: None,
            };
            let sim = Counting(AtomicU64::new(0));
            let datasets = BTreeMap::from([("d".to_string(), ())]);
            let err = execute(specs(500), 500, &datasets, &sim, &opts, None).unwrap_err();
            let ExecError::Write { path, source } = &err else { panic!("{mode:?}: {err:?}") };
            assert_eq!(path, &dir.results());
            assert_eq!(source.kind(), std::io::ErrorKind::StorageFull, "{mode:?}");
            assert!(err.to_string().contains("resume the run"), "{err}");
            // Stopped after the simulations in flight, not after the whole queue.
            let calls = sim.0.load(Ordering::SeqCst);
            assert!((1..=max_calls).contains(&calls), "{mode:?}: {calls} simulations ran");
            assert!(!dir.summary().exists(), "{mode:?}: no summary of a failed run");
            let status = dir.read_info().unwrap().unwrap().status;
            assert_eq!(status, RunStatus::Running, "{mode:?}");
        }
    }

    #[test]
    fn an_unwritable_run_directory_is_out_dir_before_anything_runs() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("file");
        fs::write(&file, "x").unwrap();
        // Under a regular file (fails for root too), and a run.json that cannot be replaced.
        let blocked = tmp.path().join("blocked");
        fs::create_dir_all(blocked.join("run.json")).unwrap();
        for (out, named) in
            [(file.join("out"), file.join("out")), (blocked.clone(), blocked.join("run.json"))]
        {
            let sim = Counting(AtomicU64::new(0));
            let datasets = BTreeMap::from([("d".to_string(), ())]);
            let err = RunDir::new(&out)
                .lock("test")
                .and_then(|locked| {
                    let opts = ExecOptions {
                        out: &locked,
                        mode: Mode::Sequential,
                        resume: false,
                        shard: None,
                        info: RunInfo::default(),
                        work_estimate: 0,
                        stop: None,
                    };
                    execute(specs(3), 3, &datasets, &sim, &opts, None)
                })
                .unwrap_err();
            let ExecError::OutDir { path, .. } = &err else { panic!("{out:?}: {err:?}") };
            assert_eq!(path, &named);
            assert_eq!(sim.0.load(Ordering::SeqCst), 0);
        }
        let mut left: Vec<_> =
            fs::read_dir(&blocked).unwrap().map(|e| e.unwrap().file_name()).collect();
        left.sort();
        assert_eq!(left, [".bt.lock", "run.json"], "no temporary file is left behind");
    }

    /// Runs `hook` at every simulation (which then fails: a failure is recorded like a success).
    struct Hook<F>(F);

    impl<F: Fn() + Sync> Simulator for Hook<F> {
        type Dataset = ();
        type Error = NoEngine;
        fn simulate(&self, _: &SimSpec, _: &()) -> Result<(Params, SimSummary), NoEngine> {
            (self.0)();
            Err(NoEngine)
        }
    }

    fn options<'a>(
        dir: &'a LockedRunDir,
        resume: bool,
        stop: Option<&'a AtomicBool>,
    ) -> ExecOptions<'a> {
        ExecOptions {
            out: dir,
            mode: Mode::Sequential,
            resume,
            shard: None,
            info: RunInfo { queue_hash: "h".into(), ..RunInfo::default() },
            work_estimate: 0,
            stop,
        }
    }

    #[test]
    fn a_full_disk_before_the_first_simulation_is_a_write_error_not_out_dir() {
        // The first run.json write lands on /dev/full (ENOSPC, for root too): the directory is
        // fine, the disk is not; "choose another --out" would be the wrong advice.
        let tmp = tempfile::tempdir().unwrap();
        let dir = RunDir::new(tmp.path().join("out"));
        fs::create_dir_all(&dir.path).unwrap();
        std::os::unix::fs::symlink("/dev/full", dir.path.join("run.json.tmp")).unwrap();
        let sim = Counting(AtomicU64::new(0));
        let datasets = BTreeMap::from([("d".to_string(), ())]);
        let err = execute(
            specs(3),
            3,
            &datasets,
            &sim,
            &options(&dir.lock("test").unwrap(), false, None),
            None,
        )
        .unwrap_err();
        let ExecError::Write { path, source } = &err else { panic!("{err:?}") };
        assert_eq!((path, source.kind()), (&dir.run_json(), std::io::ErrorKind::StorageFull));
        let text = err.to_string();
        assert!(text.contains("free disk space") && !text.contains("another run"), "{text}");
        assert_eq!(sim.0.load(Ordering::SeqCst), 0);
    }

    /// Makes `path` unwritable, for root too if `chattr +i` works; undone on drop. `None` when
    /// neither permissions nor the immutable flag bite here.
    struct Unwritable(PathBuf, bool);

    impl Unwritable {
        fn new(path: &std::path::Path) -> Option<Unwritable> {
            use std::os::unix::fs::PermissionsExt as _;
            let writable = || OpenOptions::new().write(true).open(path).is_ok();
            fs::set_permissions(path, fs::Permissions::from_mode(0o444)).unwrap();
            if !writable() {
                return Some(Unwritable(path.into(), false));
            }
            let chattr = |flag| {
                std::process::Command::new("chattr")
                    .arg(flag)
                    .arg(path)
                    .stderr(std::process::Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success())
            };
            if chattr("+i") {
                let guard = Unwritable(path.into(), true);
                if !writable() {
                    return Some(guard);
                }
            }
            None
        }
    }

    impl Drop for Unwritable {
        fn drop(&mut self) {
            if self.1 {
                let _ = std::process::Command::new("chattr").arg("-i").arg(&self.0).status();
            }
        }
    }

    #[test]
    fn a_torn_line_that_cannot_be_cut_on_resume_is_a_write_error_not_out_dir() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = RunDir::new(tmp.path().join("out"));
        let datasets = BTreeMap::from([("d".to_string(), ())]);
        let sim = Counting(AtomicU64::new(0));
        execute(
            specs(3),
            3,
            &datasets,
            &sim,
            &options(&dir.lock("test").unwrap(), false, None),
            None,
        )
        .unwrap();
        let mut f = OpenOptions::new().append(true).open(dir.results()).unwrap();
        f.write_all(br#"{"index":3,"id":"s"#).unwrap();
        drop(f);
        let Some(_guard) = Unwritable::new(&dir.results()) else {
            eprintln!("skipped: results.jsonl cannot be made unwritable here");
            return;
        };
        let err = execute(
            specs(5),
            5,
            &datasets,
            &sim,
            &options(&dir.lock("test").unwrap(), true, None),
            None,
        )
        .unwrap_err();
        let ExecError::Write { path, .. } = &err else { panic!("{err:?}") };
        assert_eq!(path, &dir.results());
        assert!(!err.to_string().contains("another run"), "{err}");
        assert_eq!(sim.0.load(Ordering::SeqCst), 3, "nothing ran on the resume");
    }

    #[test]
    fn resume_removes_an_interrupted_runs_summary_before_appending() {
        // An interrupted run writes summary.csv; while the resume appends, that summary would
        // describe fewer results than results.jsonl holds (and stay so if the resume failed).
        let tmp = tempfile::tempdir().unwrap();
        let dir = RunDir::new(tmp.path().join("out"));
        let datasets = BTreeMap::from([("d".to_string(), ())]);
        let stop = AtomicBool::new(false);
        let calls = AtomicU64::new(0);
        let ctrl_c = Hook(|| {
            if calls.fetch_add(1, Ordering::SeqCst) + 1 == 2 {
                stop.store(true, Ordering::SeqCst);
            }
        });
        let first = execute(
            specs(6),
            6,
            &datasets,
            &ctrl_c,
            &options(&dir.lock("test").unwrap(), false, Some(&stop)),
            None,
        )
        .unwrap();
        assert!(first.interrupted && first.ran == 2, "{first:?}");
        assert!(dir.summary().exists(), "an interrupted run writes its summary");

        let stale_seen = AtomicU64::new(0);
        let probe = Hook(|| {
            if dir.summary().exists() {
                stale_seen.fetch_add(1, Ordering::SeqCst);
            }
        });
        let second = execute(
            specs(6),
            6,
            &datasets,
            &probe,
            &options(&dir.lock("test").unwrap(), true, None),
            None,
        )
        .unwrap();
        assert_eq!((second.ran, second.resumed), (4, 2));
        assert_eq!(stale_seen.load(Ordering::SeqCst), 0, "summary.csv existed during the resume");
        let rows = fs::read_to_string(dir.summary()).unwrap().lines().count();
        assert_eq!(rows, 1 + 6, "the new summary covers every result");
    }
}
