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

/// Runs `bt run Q --out OUT EXTRA`, SIGKILLs it as soon as `reached(OUT)` holds (polling the
/// file system), checks that it died unfinished and returns the result lines it left.
///
/// The kill must land before the run ends. On a loaded machine the poller can be late: then
/// OUT is restored to its state before the start and the run tried again (3 attempts).
fn kill_when(q: &Path, out: &Path, extra: &[&str], reached: impl Fn(&Path) -> bool) -> usize {
    let before = snapshot(out);
    for _ in 0..3 {
        restore(out, &before);
        let mut cmd = bt();
        run_args(&mut cmd, q, out, extra);
        let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(120);
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

#[test]
fn a_full_disk_stops_the_run_with_a_clear_error_and_resume_finishes_it() {
    let (tmp, q) = workspace(QUEUE);
    let clean = tmp.path().join("clean");
    ok(&run_to(&q, &clean, &["--threads", "2"]));

    // The disk fills up after a few results.
    let out = tmp.path().join("full");
    let mut cmd = bt_limited();
    run_args(&mut cmd, &q, &out, &["--threads", "2"]);
    let o = cmd.output().unwrap();
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "a failed write mid-run is exit 1: {err}");
    let results = out.join("results.btr").display().to_string();
    assert!(err.starts_with(&format!("error: cannot write {results}: ")), "{err}");
    assert!(err.contains("free disk space") && err.contains("--resume"), "a hint: {err}");
    assert_eq!(err.matches("(os error").count(), 1, "the cause once: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_not_done(&out, "full disk");
    assert_eq!(status(&out), "running");
    let kept = complete_records(&out, "full disk");
    assert!(kept > 0 && kept < TOTAL, "{kept} results kept");
    // More room: the run finishes as if nothing happened.
    ok(&run_to(&q, &out, &["--resume", "--threads", "2"]));
    assert_matches_clean(&out, &clean, "resumed after a full disk");

    // The disk fills up while summary.csv is written (every result is in, from a killed run).
    let fin = tmp.path().join("full-at-summary");
    fs::create_dir_all(&fin).unwrap();
    fs::copy(clean.join("results.btr"), fin.join("results.btr")).unwrap();
    let mut cmd = bt_limited();
    run_args(&mut cmd, &q, &fin, &["--resume"]);
    let o = cmd.output().unwrap();
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    let summary = fin.join("summary.csv").display().to_string();
    assert!(err.starts_with(&format!("error: cannot write {summary}: ")), "{err}");
    assert_not_done(&fin, "full disk at summary.csv");
    assert_eq!(listing(&fin), ["results.btr", "run.json"], "no temporary file is left");
    ok(&run_to(&q, &fin, &["--resume"]));
    assert_matches_clean(&fin, &clean, "resumed after a full disk at summary.csv");

    // ENOSPC itself, for root too: results.btr on /dev/full.
    let dev = tmp.path().join("dev-full");
    fs::create_dir_all(&dev).unwrap();
    std::os::unix::fs::symlink("/dev/full", dev.join("results.btr")).unwrap();
    let o = run_to(&q, &dev, &["--threads", "2"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    let results = dev.join("results.btr").display().to_string();
    assert!(err.starts_with(&format!("error: cannot write {results}: No space left")), "{err}");
    assert_not_done(&dev, "/dev/full");
    assert_eq!(listing(&dev), ["results.btr", "run.json"]);
}

#[test]
fn other_writers_leave_no_half_written_file_on_a_full_disk() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let shards = shard_workspace(dir);
    let before = listing(dir);

    let g = |s: &str| dir.join(s).display().to_string();
    let merged = dir.join("merged");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                "data".into(),
                "generate".into(),
                "--bars".into(),
                "5000".into(),
                "--seed".into(),
                "1".into(),
                "-o".into(),
                g("gen.csv"),
            ],
            "gen.csv",
        ),
        (
            vec!["data".into(), "convert".into(), g("GOOG.csv"), "-o".into(), g("goog.parquet")],
            "goog.parquet",
        ),
        (
            vec![
                "gen-queue".into(),
                "--expand".into(),
                g("grid.ron"),
                "-o".into(),
                g("expanded.ron"),
            ],
            "expanded.ron",
        ),
    ];
    for (args, file) in cases {
        let o = bt_limited().args(&args).output().unwrap();
        let err = text(&o.stderr);
        // A full disk is a runtime failure (1), not bad input (2).
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.starts_with("error: ") && err.contains(file), "{args:?}: {err}");
        assert!(!err.contains("corrupted"), "{args:?}: a reader's hint on a write: {err}");
        assert!(!err.contains("panicked"), "{err}");
        assert_eq!(listing(dir), before, "{args:?}: a file was left behind");
    }

    // `bt merge`: the merged results.btr does not fit.
    let merge = |cmd: &mut Command| {
        cmd.arg("merge")
            .args(&shards)
            .arg("--out")
            .arg(&merged)
            .arg("--no-report")
            .output()
            .unwrap()
    };
    let o = merge(&mut bt_limited());
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains(&merged.join("results.btr").display().to_string()), "{err}");
    assert!(listing(&merged).is_empty(), "nothing half-written in the merged directory");
    ok(&merge(&mut bt()));
    assert_eq!(status(&merged), "complete");

    // `bt report`: report.html (~0.2 MB) does not fit; smaller files before it may. No
    // temporary file remains and the run's own files are untouched.
    let before = run_files(&merged);
    let o = bt_limited().arg("report").arg(&merged).output().unwrap();
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains(&merged.display().to_string()) && !err.contains("panicked"), "{err}");
    let names = listing(&merged);
    assert!(!names.iter().any(|n| n.contains(".tmp") || n == "report.html"), "{names:?}");
    assert!(run_files(&merged) == before, "the run's files changed");
}

#[test]
fn an_unwritable_output_directory_is_exit_2_naming_the_path() {
    let (tmp, q) = workspace(QUEUE);
    let expect_exit_2 = |out: &Path, named: &Path| {
        let o = run_to(&q, out, &[]);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{}: {err}", out.display());
        assert!(err.starts_with(&format!("error: cannot write {}: ", named.display())), "{err}");
        assert!(err.contains("--out") && !err.contains("panicked"), "{err}");
    };

    // These fail for root too: a path under a regular file, a regular file, a run.json that
    // cannot be replaced.
    let file = tmp.path().join("file");
    fs::write(&file, "x").unwrap();
    expect_exit_2(&file.join("out"), &file.join("out"));
    expect_exit_2(&file, &file);
    assert_eq!(fs::read(&file).unwrap(), b"x");
    let blocked = tmp.path().join("blocked");
    fs::create_dir_all(blocked.join("run.json")).unwrap();
    expect_exit_2(&blocked, &blocked.join("run.json"));
    assert_eq!(listing(&blocked), ["run.json"], "nothing was created");

    // Permissions bite only without root (and CAP_DAC_OVERRIDE): probe before asserting.
    let ro = tmp.path().join("ro");
    fs::create_dir_all(&ro).unwrap();
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o555)).unwrap();
    if fs::write(ro.join("probe"), "").is_err() {
        expect_exit_2(&ro.join("run"), &ro.join("run"));
        expect_exit_2(&ro, &ro.join("run.json"));
        assert!(listing(&ro).is_empty());
    }
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn a_merge_that_fails_after_writing_results_is_undone_and_runs_again() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let shards = shard_workspace(dir);
    let reference = dir.join("reference");
    ok(&merge_into(bt(), &shards, &reference, &["--no-report"]));
    let again = |out: &Path, extra: &[&str], what: &str| {
        ok(&merge_into(bt(), &shards, out, extra));
        assert!(run_files(out) == run_files(&reference), "{what}: differs from a clean merge");
        assert_eq!(status(out), "complete", "{what}");
    };

    // The disk is full when summary.csv is written, after results.btr went in: its temporary
    // file lands on /dev/full (ENOSPC, for root too).
    let full = dir.join("full-at-summary");
    fs::create_dir_all(&full).unwrap();
    std::os::unix::fs::symlink("/dev/full", full.join("summary.csv.tmp")).unwrap();
    let o = merge_into(bt(), &shards, &full, &["--no-report"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "a full disk is exit 1: {err}");
    let summary = full.join("summary.csv").display().to_string();
    assert!(err.starts_with(&format!("error: cannot write {summary}: No space left")), "{err}");
    assert!(err.contains("free disk space, then merge again"), "{err}");
    assert!(err.contains("hint: run the same `bt merge` again"), "{err}");
    assert!(!err.contains("--resume"), "merge has no --resume: {err}");
    assert_eq!(listing(&full), Vec::<String>::new(), "the failed merge left files");
    again(&full, &["--no-report"], "merged again after a full disk at summary.csv");

    // run.json cannot be replaced (a directory is in the way): exit 2, and the results and
    // summary written before it are removed too.
    let blocked = dir.join("blocked-run-json");
    fs::create_dir_all(blocked.join("run.json")).unwrap();
    let o = merge_into(bt(), &shards, &blocked, &["--no-report"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    let run_json = blocked.join("run.json").display().to_string();
    assert!(err.starts_with(&format!("error: cannot write {run_json}: ")), "{err}");
    assert!(
        err.contains("merge into another directory") && err.contains("hint: pass another --out"),
        "{err}"
    );
    assert_eq!(listing(&blocked), ["run.json"], "only the blocking directory is left");
    fs::remove_dir(blocked.join("run.json")).unwrap();
    again(&blocked, &["--no-report"], "merged again after run.json was unblocked");

    // The disk fills up during the report, after run.json said "complete": 160 blocks (80 kB
    // under dash, 160 kB under bash) is above results.btr and summary.csv and below report.html
    // (~0.2 MB).
    let late = dir.join("full-at-report");
    let o = merge_into(bt_limited_to(160), &shards, &late, &[]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("undone") && err.contains("hint: run the same `bt merge` again"), "{err}");
    assert!(err.contains("File too large") && !err.contains("panicked"), "{err}");
    assert!(!late.exists(), "the directory the merge created is removed: {:?}", listing(&late));
    again(&late, &[], "merged again after a full disk in the report");
    assert!(late.join("report.html").is_file());
}

#[test]
fn an_output_path_that_cannot_be_used_is_exit_2_for_every_writer() {
    // Paths that fail for root too: under a regular file (not a directory), a directory where a
    // file must go. The same rule as `bt run --out` (an_unwritable_output_directory_...).
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let shards = shard_workspace(dir);
    let file = dir.join("file");
    fs::write(&file, "x").unwrap();
    let g = |p: &Path| p.display().to_string();
    let cases: Vec<(Vec<String>, PathBuf)> = vec![
        (
            vec!["gen-queue".into(), "--expand".into(), g(&dir.join("small.ron")), "-o".into()],
            file.join("q.ron"),
        ),
        (
            vec![
                "data".into(),
                "generate".into(),
                "--bars".into(),
                "100".into(),
                "--seed".into(),
                "1".into(),
                "-o".into(),
            ],
            file.join("gen.csv"),
        ),
        (
            vec!["data".into(), "convert".into(), g(&dir.join("GOOG.csv")), "-o".into()],
            file.join("g.parquet"),
        ),
    ];
    for (args, out) in cases {
        let o = bt().args(&args).arg(&out).output().unwrap();
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.starts_with("error: ") && err.contains(&g(&out)), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }

    // `bt merge` into an existing directory where results.btr cannot be created.
    let merged = dir.join("merged");
    fs::create_dir_all(merged.join("results.btr")).unwrap();
    let o = merge_into(bt(), &shards, &merged, &["--no-report"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.starts_with(&format!("error: cannot write {}: ", g(&merged.join("results.btr")))),
        "{err}"
    );
    assert!(
        err.contains("merge into another directory") && err.contains("hint: pass another --out"),
        "{err}"
    );
    assert_eq!(listing(&merged), ["results.btr"]);
    fs::remove_dir(merged.join("results.btr")).unwrap();
    ok(&merge_into(bt(), &shards, &merged, &["--no-report"]));

    // `bt report` with a directory where report.html must go.
    fs::create_dir_all(merged.join("report.html")).unwrap();
    let o = bt().arg("report").arg(&merged).output().unwrap();
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(&g(&merged.join("report.html"))) && !err.contains("panicked"), "{err}");
}

#[test]
fn a_full_disk_before_the_first_simulation_is_exit_1_with_resume_advice() {
    // run.json, the first file written, lands on /dev/full: the directory is fine, the disk is
    // not, so "choose another --out" (exit 2) would be the wrong advice.
    let (tmp, q) = workspace(QUEUE);
    let out = tmp.path().join("out");
    fs::create_dir_all(&out).unwrap();
    std::os::unix::fs::symlink("/dev/full", out.join("run.json.tmp")).unwrap();
    let o = run_to(&q, &out, &[]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    let run_json = out.join("run.json").display().to_string();
    assert!(err.starts_with(&format!("error: cannot write {run_json}: No space left")), "{err}");
    assert!(err.contains("free disk space") && !err.contains("another --out"), "{err}");
    assert_eq!(listing(&out), Vec::<String>::new());
}

/// Runs `bt run Q --out OUT EXTRA` and sends it SIGINT (Ctrl-C) once `reached(OUT)` holds;
/// returns once it exited 130 (interrupted). Retried like [`kill_when`] if the run finished
/// before the signal landed.
fn interrupt_when(q: &Path, out: &Path, extra: &[&str], reached: impl Fn(&Path) -> bool) {
    let before = snapshot(out);
    for _ in 0..3 {
        restore(out, &before);
        let mut cmd = bt();
        run_args(&mut cmd, q, out, extra);
        let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(120);
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
