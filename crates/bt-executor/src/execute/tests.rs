//! Unit tests of the executor's scheduling, stop flag and write failures.

use std::{fs::OpenOptions, io::Write, path::PathBuf};

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
    // started (run.json was written, the log opened). The first frame to be written fails: the
    // run stops after the simulations in flight, not after the whole queue.
    for mode in [Mode::Sequential, Mode::Threads(2)] {
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
            then: None,
            summary: None,
        };
        let sim = Counting(AtomicU64::new(0));
        let datasets = BTreeMap::from([("d".to_string(), ())]);
        let err = execute(specs(20_000), 20_000, &datasets, &sim, &opts, None).unwrap_err();
        let ExecError::Write { path, source } = &err else { panic!("{mode:?}: {err:?}") };
        assert_eq!(path, &dir.results());
        assert_eq!(source.kind(), std::io::ErrorKind::StorageFull, "{mode:?}");
        assert!(err.to_string().contains("resume the run"), "{err}");
        // A frame holds at most 4096 records; while the first is compressed and fails, the
        // other thread fills at most the next two.
        let calls = sim.0.load(Ordering::SeqCst);
        assert!((1..=3 * 4096).contains(&calls), "{mode:?}: {calls} simulations ran");
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
                    then: None,
                    summary: None,
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
        then: None,
        summary: None,
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
fn a_torn_frame_that_cannot_be_cut_on_resume_is_a_write_error_not_out_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = RunDir::new(tmp.path().join("out"));
    let datasets = BTreeMap::from([("d".to_string(), ())]);
    let sim = Counting(AtomicU64::new(0));
    execute(specs(3), 3, &datasets, &sim, &options(&dir.lock("test").unwrap(), false, None), None)
        .unwrap();
    let mut f = OpenOptions::new().append(true).open(dir.results()).unwrap();
    f.write_all(b"BTfr\x01\x00").unwrap();
    drop(f);
    let Some(_guard) = Unwritable::new(&dir.results()) else {
        eprintln!("skipped: results.btr cannot be made unwritable here");
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
    // describe fewer results than the log holds (and stay so if the resume failed).
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

#[test]
fn a_session_that_never_ended_is_completed_by_the_next_resume() {
    let at = |s: i64| s * 1_000_000_000;
    let ended = Attempt {
        started: Some(at(100)),
        wall_time_s: 2.0,
        ran: 3,
        ended: true,
        ..Attempt::default()
    };
    let killed = Attempt { started: Some(at(200)), ..Attempt::default() };
    let mut attempts = vec![ended, killed];
    // The log was last written 7.5 s after the killed session started and holds 10 results.
    close_unended(&mut attempts, Some(at(200) + 7_500_000_000), 10);
    assert_eq!((attempts[1].wall_time_s, attempts[1].ran, attempts[1].ended), (7.5, 7, false));
    assert_eq!(attempts[0], ended, "an ended session is left alone");
    // Ended sessions (every file of older versions) are never estimated.
    let mut old = vec![ended];
    close_unended(&mut old, Some(at(900)), 50);
    assert_eq!(old, [ended]);
    // Without a start time, no wall time can be told.
    let mut unknown = vec![Attempt::default()];
    close_unended(&mut unknown, Some(at(900)), 4);
    assert_eq!((unknown[0].wall_time_s, unknown[0].ran), (0.0, 4));
}
