//! Fault tests through the real `bt` binary: SIGKILL at several points of a run and of a resume,
//! a full disk (a file size limit, `/dev/full`) and an output directory that cannot be written.
//! After every fault `bt run --resume` must give the clean run's `summary.csv` byte for byte and
//! the same set of records; nothing half-written may be presented as done.
//!
//! Every `bt` here writes one record per frame of its result log (`BT_FRAME_RECORDS=1`), so a
//! kill or a full disk can land between any two results, as with the default frames it lands
//! between any two frames.
//!
//! The full disk is simulated without root with RLIMIT_FSIZE: `sh -c 'trap "" XFSZ; ulimit -f
//! N; exec bt ...'`. An ignored SIGXFSZ stays ignored across exec, so a write past the limit
//! fails with EFBIG instead of killing bt. `/dev/full` fails every write with ENOSPC, for root
//! too. (A data file changed between run and resume is tested in run.rs.)

use std::{
    fs,
    os::unix::{fs::PermissionsExt as _, process::ExitStatusExt as _},
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};

use crate::{ok, record_count, records, text};

mod disk;

/// `bt`, one record per frame of the result log.
fn bt() -> Command {
    let mut cmd = crate::bt();
    cmd.env("BT_FRAME_RECORDS", "1");
    cmd
}

/// The bytes of a directory's run files (results.btr, summary.csv, run.json).
fn run_files(dir: &Path) -> [Vec<u8>; 3] {
    ["results.btr", "summary.csv", "run.json"]
        .map(|f| fs::read(dir.join(f)).unwrap_or_else(|e| panic!("{}/{f}: {e}", dir.display())))
}

/// GOOG.csv, a 280-simulation queue grid.ron, its 20-simulation subset small.ron and two shard
/// runs of small.ron in DIR; returns the shard directories.
fn shard_workspace(dir: &Path) -> Vec<PathBuf> {
    fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/GOOG.csv"),
        dir.join("GOOG.csv"),
    )
    .unwrap();
    // 280 simulations: a ~30 kB expanded queue; 20 results for the merge.
    let grid = r#"(
        version: 1,
        datasets: {"syn": (synthetic: (bars: 300, seed: 3, interval: "1h"))},
        sweeps: [(id: "g", datasets: ["syn"], strategy: "sma_cross",
                  grid: {"fast": range(2, 29), "slow": range(30, 39)})],
    )"#;
    let small =
        grid.replace("range(2, 29)", "range(2, 7)").replace("range(30, 39)", "range(30, 34)");
    fs::write(dir.join("grid.ron"), grid).unwrap();
    fs::write(dir.join("small.ron"), small).unwrap();
    let shards: Vec<PathBuf> = (0..2).map(|k| dir.join(format!("shard-{k}"))).collect();
    for (k, shard) in shards.iter().enumerate() {
        ok(&run_to(&dir.join("small.ron"), shard, &["--sequential", "--shard", &format!("{k}/2")]));
    }
    shards
}

/// `CMD merge SHARDS --out OUT EXTRA`.
fn merge_into(mut cmd: Command, shards: &[PathBuf], out: &Path, extra: &[&str]) -> Output {
    cmd.arg("merge").args(shards).arg("--out").arg(out).args(extra).output().unwrap()
}

/// 40 simulations over 60k synthetic bars: about 1 s in a debug build on one thread, slow
/// enough to be killed at a chosen number of finished results; ~1 kB per one-record frame.
const QUEUE: &str = r#"(
    version: 1,
    datasets: {"syn": (synthetic: (bars: 60000, seed: 7, interval: "1m"))},
    sweeps: [(id: "g", datasets: ["syn"], strategy: "sma_cross",
              grid: {"fast": range(2, 11), "slow": [20, 30, 40, 50]})],
)"#;
const TOTAL: usize = 40;

/// A file size limit in `ulimit -f` blocks: 8 kB under dash (512-byte blocks), 16 kB under
/// bash (1024). Either way above run.json (~0.4 kB) and below results.btr (~40 kB in one-record
/// frames) and summary.csv (~23 kB) of [`QUEUE`].
const LIMIT_BLOCKS: u32 = 16;

/// A temp dir holding the queue text as q.ron.
fn workspace(queue: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let q = tmp.path().join("q.ron");
    fs::write(&q, queue).unwrap();
    (tmp, q)
}

fn run_args(cmd: &mut Command, q: &Path, out: &Path, extra: &[&str]) {
    cmd.arg("run").arg(q).arg("--out").arg(out).arg("--no-report").arg("-q").args(extra);
}

fn run_to(q: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut cmd = bt();
    run_args(&mut cmd, q, out, extra);
    cmd.output().unwrap()
}

/// `bt` with every file it writes limited to [`LIMIT_BLOCKS`]: a disk that fills up.
fn bt_limited() -> Command {
    bt_limited_to(LIMIT_BLOCKS)
}

/// `bt` with every file it writes limited to `blocks` (`ulimit -f`, see [`LIMIT_BLOCKS`]).
fn bt_limited_to(blocks: u32) -> Command {
    let mut cmd = Command::new("sh");
    cmd.env("BT_FRAME_RECORDS", "1")
        .arg("-c")
        .arg(format!(r#"trap "" XFSZ; ulimit -f {blocks}; exec "$0" "$@""#))
        .arg(env!("CARGO_BIN_EXE_bt"));
    cmd
}

/// Results in OUT's log so far (0 without one).
fn lines(out: &Path) -> usize {
    record_count(out)
}

/// The `status` of OUT/run.json, or "" without one.
fn status(out: &Path) -> String {
    fs::read_to_string(out.join("run.json")).map_or_else(
        |_| String::new(),
        |t| {
            let v: serde_json::Value = serde_json::from_str(&t).unwrap();
            v["status"].as_str().unwrap().to_owned()
        },
    )
}

/// Files of a run directory (flat), sorted by name.
/// The entries of `out`, sorted, without the writer lock's file (which stays, empty or naming
/// the last holder, and holds no data).
fn listing(out: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(out)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n != ".bt.lock")
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// A run that stopped early claims nothing: no summary.csv, run.json not "complete".
fn assert_not_done(out: &Path, what: &str) {
    assert_ne!(status(out), "complete", "{what}: run.json claims completion");
    assert!(!out.join("summary.csv").exists(), "{what}: a summary.csv of an unfinished run");
}

/// Every complete frame of results.btr checks out and decodes; returns the records.
fn complete_records(out: &Path, what: &str) -> usize {
    match bt::executor::read_results(&out.join("results.btr")) {
        Ok(records) => records.len(),
        Err(e) => panic!("{what}: {e}"),
    }
}

/// The records of OUT as exact JSON lines, sorted.
fn sorted_records(dir: &Path) -> Vec<String> {
    let mut l: Vec<String> = records(dir).iter().map(bt::executor::encode_record).collect();
    l.sort();
    l
}

/// OUT equals the clean run: run.json complete, summary.csv byte for byte, the same result
/// lines (completion order aside), each id once.
fn assert_matches_clean(out: &Path, clean: &Path, what: &str) {
    assert_eq!(status(out), "complete", "{what}");
    assert!(
        fs::read(out.join("summary.csv")).unwrap() == fs::read(clean.join("summary.csv")).unwrap(),
        "{what}: summary.csv differs from the clean run's"
    );
    let (got, want) = (sorted_records(out), sorted_records(clean));
    let mut ids: Vec<String> = got
        .iter()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["id"].to_string())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!((got.len(), ids.len()), (TOTAL, TOTAL), "{what}: missing or duplicated ids");
    assert!(got == want, "{what}: results.btr holds other records than the clean run's");
    let tmp: Vec<String> = listing(out).into_iter().filter(|n| n.ends_with(".tmp")).collect();
    assert!(tmp.is_empty(), "{what}: temporary files left: {tmp:?}");
}

/// The files of a run directory, to restore before a retry (`None`: no directory).
fn snapshot(out: &Path) -> Option<Vec<(String, Vec<u8>)>> {
    out.exists().then(|| {
        listing(out).into_iter().map(|n| (n.clone(), fs::read(out.join(&n)).unwrap())).collect()
    })
}

fn restore(out: &Path, snap: &Option<Vec<(String, Vec<u8>)>>) {
    if out.exists() {
        fs::remove_dir_all(out).unwrap();
    }
    if let Some(files) = snap {
        fs::create_dir_all(out).unwrap();
        for (name, bytes) in files {
            fs::write(out.join(name), bytes).unwrap();
        }
    }
}

/// OUT restored to `before`, a new `bt run Q --out OUT EXTRA` (output discarded) and the time
/// by which it must have reached its fault point: one attempt of [`kill_when`] or
/// [`interrupt_when`].
fn start_again(
    q: &Path,
    out: &Path,
    extra: &[&str],
    before: &Option<Vec<(String, Vec<u8>)>>,
) -> (std::process::Child, Instant) {
    restore(out, before);
    let mut cmd = bt();
    run_args(&mut cmd, q, out, extra);
    let child = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    (child, Instant::now() + Duration::from_secs(120))
}

/// Runs `bt run Q --out OUT EXTRA`, SIGKILLs it as soon as `reached(OUT)` holds (polling the
/// file system), checks that it died unfinished and returns the result lines it left.
///
/// The kill must land before the run ends. On a loaded machine the poller can be late: then
/// OUT is restored to its state before the start and the run tried again (3 attempts).
fn kill_when(q: &Path, out: &Path, extra: &[&str], reached: impl Fn(&Path) -> bool) -> usize {
    let before = snapshot(out);
    for _ in 0..3 {
        let (mut child, deadline) = start_again(q, out, extra, &before);
        while !reached(out) {
            if let Some(s) = child.try_wait().unwrap() {
                assert!(s.success(), "bt exited with {s} before the kill point");
                break;
            }
            assert!(Instant::now() < deadline, "the kill point was never reached");
            std::thread::sleep(Duration::from_millis(1));
        }
        let _ = child.kill(); // SIGKILL
        let killed = child.wait().unwrap().signal() == Some(9);
        let n = lines(out);
        if killed && n < TOTAL {
            return n;
        }
    }
    panic!("the run finished 3 times before it could be killed: make the queue longer");
}

/// Run threads, where the kill lands, the trigger, resume threads.
type KillPoint = (&'static str, &'static str, fn(&Path) -> bool, &'static str);

/// Files of a run directory: name and bytes.
type Files = Vec<(&'static str, Vec<u8>)>;

#[test]
fn sigkill_at_several_points_then_resume_gives_the_clean_run() {
    let (tmp, q) = workspace(QUEUE);
    let clean = tmp.path().join("clean");
    ok(&run_to(&q, &clean, &["--threads", "2"]));

    let points: [KillPoint; 3] = [
        ("1", "right after the start (run.json written)", |o| o.join("run.json").exists(), "2"),
        ("1", "after the first result", |o| lines(o) >= 1, "1"),
        ("2", "half way", |o| lines(o) >= TOTAL / 2, "2"),
    ];
    for (k, (threads, point, reached, resume_threads)) in points.into_iter().enumerate() {
        let out = tmp.path().join(format!("killed-{k}"));
        let n = kill_when(&q, &out, &["--threads", threads], reached);
        let mut what = format!("killed {point} ({n} results, --threads {threads})");
        eprintln!("{what}");
        assert_not_done(&out, &what);
        complete_records(&out, &what);
        if k == 2 {
            // Kill the resume too, after it added results of its own.
            let next = n + ((TOTAL - n) / 2).max(1);
            let m = kill_when(&q, &out, &["--resume", "--threads", "2"], |o| lines(o) >= next);
            what = format!("{what}, resume killed at {m} results");
            eprintln!("{what}");
            assert_not_done(&out, &what);
        }
        ok(&run_to(&q, &out, &["--resume", "--threads", resume_threads]));
        assert_matches_clean(&out, &clean, &what);
    }
}

#[test]
fn kill_points_between_two_writes_leave_states_resume_finishes() {
    // A kill between two file operations a few microseconds apart cannot be hit by polling.
    // These states are built from a finished run exactly as such a kill leaves them: run.json
    // is rewritten with status "running" (what the run wrote before its first simulation; the
    // resume reads only its hash), temporary files are torn halves.
    let (tmp, q) = workspace(QUEUE);
    let clean = tmp.path().join("clean");
    ok(&run_to(&q, &clean, &["--threads", "2"]));
    let read = |name: &str| fs::read(clean.join(name)).unwrap();
    let complete = text(&read("run.json"));
    let running = complete.replace(r#""status": "complete""#, r#""status": "running""#);
    assert_ne!(running, complete);
    let running = running.into_bytes();
    let (results, summary) = (read("results.btr"), read("summary.csv"));
    let half = |b: &[u8]| b[..b.len() / 2].to_vec();
    // The same records, the last one in a frame of its own, cut half way.
    let all = records(&clean);
    let log = tmp.path().join("torn.btr");
    let writer = bt::executor::log::LogWriter::open(&log).unwrap();
    for (k, r) in all.iter().enumerate() {
        if k + 1 == all.len() {
            assert!(writer.flush());
        }
        assert!(writer.append(r, Duration::ZERO));
    }
    let before_last = fs::metadata(&log).unwrap().len() as usize;
    writer.finish().unwrap();
    let whole = fs::read(&log).unwrap();
    let torn_last = whole[..before_last + (whole.len() - before_last) / 2].to_vec();

    let states: Vec<(&str, Files)> = vec![
        ("after creating the directory", vec![]),
        ("inside the first run.json write", vec![("run.json.tmp", half(&running))]),
        (
            "inside the write of the last result",
            vec![("run.json", running.clone()), ("results.btr", torn_last)],
        ),
        (
            "after the last result, before summary.csv",
            vec![("run.json", running.clone()), ("results.btr", results.clone())],
        ),
        (
            "inside the summary.csv write",
            vec![
                ("run.json", running.clone()),
                ("results.btr", results.clone()),
                ("summary.csv.tmp", half(&summary)),
            ],
        ),
        (
            "between summary.csv and the final run.json",
            vec![
                ("run.json", running.clone()),
                ("results.btr", results.clone()),
                ("summary.csv", summary.clone()),
            ],
        ),
    ];
    for (k, (point, files)) in states.into_iter().enumerate() {
        let out = tmp.path().join(format!("state-{k}"));
        fs::create_dir_all(&out).unwrap();
        for (name, bytes) in files {
            fs::write(out.join(name), bytes).unwrap();
        }
        let threads = if k % 2 == 0 { "2" } else { "1" };
        ok(&run_to(&q, &out, &["--resume", "--threads", threads]));
        assert_matches_clean(&out, &clean, &format!("killed {point}"));
    }
}

/// Runs `bt run Q --out OUT EXTRA` and sends it SIGINT (Ctrl-C) once `reached(OUT)` holds;
/// returns once it exited 130 (interrupted). Retried like [`kill_when`] if the run finished
/// before the signal landed.
fn interrupt_when(q: &Path, out: &Path, extra: &[&str], reached: impl Fn(&Path) -> bool) {
    let before = snapshot(out);
    for _ in 0..3 {
        let (mut child, deadline) = start_again(q, out, extra, &before);
        while !reached(out) && child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "the interrupt point was never reached");
            std::thread::sleep(Duration::from_millis(1));
        }
        let _ = Command::new("kill").args(["-s", "INT", &child.id().to_string()]).status();
        if child.wait().unwrap().code() == Some(130) {
            return;
        }
    }
    panic!("the run finished 3 times before it could be interrupted: make the queue longer");
}

#[test]
fn a_resume_that_fails_leaves_no_stale_summary_next_to_newer_results() {
    let (tmp, q) = workspace(QUEUE);
    let clean = tmp.path().join("clean");
    ok(&run_to(&q, &clean, &["--threads", "2"]));

    // Ctrl-C: the run stops after the simulations in flight and writes a summary of them.
    let out = tmp.path().join("out");
    interrupt_when(&q, &out, &["--threads", "2"], |o| lines(o) >= 1);
    assert_eq!(status(&out), "interrupted");
    assert!(out.join("summary.csv").exists(), "an interrupted run writes its summary");
    assert!(out.join("summary.parquet").exists(), "and its summary.parquet");
    let interrupted = lines(&out);
    assert!(interrupted < TOTAL, "{interrupted} results");

    // The resume runs out of disk: whatever it appended, no summary of fewer results is left.
    let mut cmd = bt_limited();
    run_args(&mut cmd, &q, &out, &["--resume", "--threads", "2"]);
    let o = cmd.output().unwrap();
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("--resume"), "{err}");
    assert!(!out.join("summary.csv").exists(), "a stale summary.csv is left: {err}");
    assert!(!out.join("summary.parquet").exists(), "a stale summary.parquet is left: {err}");
    assert_not_done(&out, "a failed resume");
    complete_records(&out, "a failed resume");
    ok(&run_to(&q, &out, &["--resume"]));
    assert_matches_clean(&out, &clean, "resumed after a failed resume");
}
