//! One writer per run directory: a second `bt run`, `bt run --resume`, `bt merge --out` or
//! `bt report` on a directory that a running `bt` holds is refused at once (exit 2, naming the
//! holder), the first run finishes untouched, and a killed holder leaves no stale lock.

use std::{
    fs,
    os::unix::process::ExitStatusExt as _,
    path::Path,
    process::{Child, Output, Stdio},
    time::{Duration, Instant},
};

use crate::{bt, ok, text};

/// Long enough in a debug build to be caught running: 126 simulations over 100k bars.
const LONG: &str = r#"(
    version: 1,
    datasets: {"syn": (synthetic: (bars: 100000, seed: 5, interval: "1m"))},
    sweeps: [(id: "g", datasets: ["syn"], strategy: "sma_cross",
              grid: {"fast": range(2, 22), "slow": [30, 40, 50, 60, 70, 80]})],
)"#;

/// A tiny queue whose shards can be merged anywhere.
const SMALL: &str = r#"(
    version: 1,
    datasets: {"syn": (synthetic: (bars: 300, seed: 1, interval: "1d"))},
    sweeps: [(id: "s", datasets: ["syn"], strategy: "sma_cross", grid: {"fast": [3, 5], "slow": [10]})],
)"#;

fn lines(dir: &Path) -> usize {
    crate::record_count(dir)
}

/// `bt run Q --out OUT --sequential -q` in the background, once it has written `at` results.
fn start(q: &Path, out: &Path, at: usize) -> Child {
    let mut child = bt()
        .arg("run")
        .arg(q)
        .arg("--out")
        .arg(out)
        .args(["--no-report", "--sequential", "-q"])
        .env("BT_FRAME_RECORDS", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while lines(out) < at {
        assert!(child.try_wait().unwrap().is_none(), "the run ended before {at} results");
        assert!(Instant::now() < deadline, "no {at} results in time");
        std::thread::sleep(Duration::from_millis(2));
    }
    child
}

fn refused(o: &Output, holder_pid: u32, what: &str) {
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{what}: {err}");
    assert!(
        err.contains(&format!("is in use by another bt process (pid {holder_pid}: ")),
        "{what}: the holder is named: {err}"
    );
    assert!(
        err.contains(" run ") && err.contains("--sequential"),
        "{what}: its command line: {err}"
    );
    assert!(
        err.contains("hint: wait for the other bt process to finish, or pass another --out"),
        "{what}: {err}"
    );
}

#[test]
fn a_second_writer_is_refused_and_the_first_run_finishes_as_a_clean_run_would() {
    let (tmp, q) = crate::run::workspace(LONG);
    let (small_tmp, small) = crate::run::workspace(SMALL);
    let shard = small_tmp.path().join("shard");
    ok(&bt().arg("run").arg(&small).arg("--out").arg(&shard).arg("--no-report").output().unwrap());

    let out = tmp.path().join("out");
    let first = start(&q, &out, 1);
    let pid = first.id();
    let second = |args: &[&str]| bt().args(args).arg("-q").output().unwrap();
    let (q_s, out_s, shard_s) =
        (q.to_str().unwrap(), out.to_str().unwrap(), shard.to_str().unwrap());
    refused(&second(&["run", q_s, "--out", out_s]), pid, "a second run");
    refused(&second(&["run", q_s, "--out", out_s, "--resume"]), pid, "a resume (a Slurm requeue)");
    refused(&second(&["merge", shard_s, "--out", out_s]), pid, "a merge into it");
    refused(&second(&["report", out_s]), pid, "a report into it");
    // A report of the run elsewhere only reads it: no lock needed on the run directory.
    let elsewhere = tmp.path().join("elsewhere");
    let o = second(&["report", out_s, "--out", elsewhere.to_str().unwrap(), "--format", "csv"]);
    ok(&o);
    assert!(elsewhere.join("summary.csv").is_file());

    let done = first.wait_with_output().unwrap();
    ok(&done);
    let clean = tmp.path().join("clean");
    ok(&bt()
        .arg("run")
        .arg(&q)
        .arg("--out")
        .arg(&clean)
        .args(["--no-report", "--threads", "2"])
        .output()
        .unwrap());
    assert!(
        fs::read(out.join("summary.csv")).unwrap() == fs::read(clean.join("summary.csv")).unwrap(),
        "the held run's summary equals a clean run's"
    );
    assert_eq!(lines(&out), 126, "no result was written twice");
}

#[test]
fn a_killed_holder_leaves_no_stale_lock() {
    let (tmp, q) = crate::run::workspace(LONG);
    let out = tmp.path().join("out");
    let mut first = start(&q, &out, 3);
    first.kill().unwrap();
    assert_eq!(first.wait().unwrap().signal(), Some(9));
    assert!(out.join(".bt.lock").exists(), "the lock file stays, unlocked");
    let started = Instant::now();
    let resumed = bt()
        .arg("run")
        .arg(&q)
        .arg("--out")
        .arg(&out)
        .args(["--resume", "--no-report", "--threads", "2"])
        .output()
        .unwrap();
    let stdout = crate::ok_text(&resumed);
    assert!(stdout.contains("resumed"), "{stdout}");
    assert!(started.elapsed() < Duration::from_secs(60), "the resume did not wait for a lock");
    assert_eq!(lines(&out), 126);
}

/// Progress lines are written by the worker threads while the main thread waits for them: with
/// stderr a pipe (a scheduler's log) and a line after every simulation, a parallel run must
/// finish and log them (the main thread once held stderr's lock for the whole command, and the
/// first progress line, 5 s into a run, deadlocked it).
#[test]
fn progress_lines_from_worker_threads_do_not_block_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let q = dir.path().join("q.ron");
    fs::write(&q, SMALL).unwrap();
    let mut child = bt()
        .arg("run")
        .arg(&q)
        .arg("--out")
        .arg(dir.path().join("out"))
        .args(["--no-report", "--threads", "2"])
        .env("BT_PROGRESS_INTERVAL", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("bt run hung writing progress lines");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let o = child.wait_with_output().unwrap();
    ok(&o);
    let err = text(&o.stderr);
    assert!(err.contains("progress: 2/2 simulations (100%)"), "{err}");
}
