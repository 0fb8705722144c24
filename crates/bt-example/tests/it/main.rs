//! The worked example, driven as a user would: `mybt` (the whole command line with a strategy
//! of one's own) and `sweep` (the library alone).

use std::{
    fs,
    os::unix::process::ExitStatusExt as _,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};

fn mybt() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mybt"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        text(&o.stdout),
        text(&o.stderr)
    );
    text(&o.stdout)
}

/// A temporary directory holding a copy of the GOOG data.
fn workspace() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let goog = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/GOOG.csv");
    fs::copy(goog, tmp.path().join("GOOG.csv")).unwrap();
    tmp
}

/// Results written so far (a torn frame of a run in progress is ignored).
fn lines(dir: &Path) -> usize {
    bt::executor::read_results(&dir.join("results.btr")).map_or(0, |r| r.len())
}

fn run(q: &Path, out: &Path, extra: &[&str]) -> Output {
    mybt().arg("run").arg(q).arg("--out").arg(out).arg("--no-report").args(extra).output().unwrap()
}

/// Starts `mybt run` and SIGKILLs it once its log holds `at` results; returns how many
/// it held. Retries if the run finished first.
fn run_and_kill(q: &Path, out: &Path, at: usize, total: usize) -> usize {
    for _ in 0..3 {
        let _ = fs::remove_dir_all(out);
        let mut child = mybt()
            .arg("run")
            .arg(q)
            .arg("--out")
            .arg(out)
            .args(["--no-report", "--threads", "2"])
            .env("BT_FRAME_RECORDS", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(120);
        while lines(out) < at && child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "the kill point was never reached");
            std::thread::sleep(Duration::from_millis(1));
        }
        let _ = child.kill();
        let killed = child.wait().unwrap().signal() == Some(9);
        let n = lines(out);
        if killed && n < total {
            return n;
        }
    }
    panic!("the run finished 3 times before it could be killed: make the queue longer");
}

#[test]
fn a_strategy_of_ones_own_gets_the_whole_command_line() {
    let tmp = workspace();
    let dir = |name: &str| -> PathBuf { tmp.path().join(name) };

    let listed = ok(&mybt().arg("strategies").output().unwrap());
    assert!(listed.contains("vol_breakout\n    n = 14:"), "{listed}");
    assert!(listed.contains("sma_cross"), "the built-ins are still there: {listed}");

    // A grid of the custom strategy: 6 x 4 x 3 = 72 points on two data sets.
    let q = dir("q.ron");
    let out = ok(&mybt()
        .args(["gen-queue", "--strategy", "vol_breakout"])
        .args(["--grid", "n=5..=30:5", "--grid", "k=0.5..=2.0:0.5", "--grid", "trail=2.0,3.0,4.0"])
        .args(["--data", "GOOG.csv", "--synthetic-bars", "20000", "--seed", "3"])
        .args(["--commission", "0.001", "-o"])
        .arg(&q)
        .current_dir(tmp.path())
        .output()
        .unwrap());
    assert_eq!(out.trim(), format!("wrote 144 simulations to {}", q.display()));

    // One clean run on 2 threads.
    let clean = dir("clean");
    let summary = ok(&run(&q, &clean, &["--threads", "2"]));
    assert!(summary.starts_with("144 simulations (144 ok, 0 failed)"), "{summary}");
    let reference = fs::read(clean.join("summary.csv")).unwrap();

    // Killed mid-run, then resumed: the same summary, byte for byte.
    let killed = dir("killed");
    let n = run_and_kill(&q, &killed, 20, 144);
    let resumed = ok(&run(&q, &killed, &["--threads", "2", "--resume"]));
    assert!(resumed.contains(&format!("{n} resumed")), "{resumed}");
    assert!(fs::read(killed.join("summary.csv")).unwrap() == reference, "resume differs");

    // Three shards merged: the same summary again.
    let mut shards = Vec::new();
    for k in 0..3 {
        let d = dir(&format!("shard-{k}"));
        ok(&run(&q, &d, &["--shard", &format!("{k}/3"), "--sequential"]));
        shards.push(d);
    }
    let merged = dir("merged");
    ok(&mybt()
        .arg("merge")
        .args(&shards)
        .arg("--out")
        .arg(&merged)
        .arg("--no-report")
        .output()
        .unwrap());
    assert!(fs::read(merged.join("summary.csv")).unwrap() == reference, "merge differs");

    // The report's heatmaps are over the custom parameters.
    let report =
        ok(&mybt().arg("report").arg(&clean).args(["--by", "return_pct"]).output().unwrap());
    assert!(report.contains("vol_breakout"), "the leaderboard is printed: {report}");
    let mut charts: Vec<String> = fs::read_dir(clean.join("charts"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("heatmap-") && n.ends_with(".svg"))
        .collect();
    charts.sort();
    assert_eq!(
        charts,
        [
            "heatmap-return_pct_by_k_and_n.svg",
            "heatmap-return_pct_by_k_and_trail.svg",
            "heatmap-return_pct_by_n_and_trail.svg"
        ]
    );
    let html = fs::read_to_string(clean.join("report.html")).unwrap();
    assert!(html.contains("vol_breakout") && html.contains("trail"), "report.html");

    // A bad parameter of the custom strategy is refused like a built-in's.
    let bad = mybt()
        .args(["backtest", "--data", "GOOG.csv", "--strategy", "vol_breakout", "--param", "k=0"])
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("parameter k = 0 is out of range: use a number > 0"));
}

#[test]
fn the_library_alone_runs_resumes_and_reports_a_sweep() {
    let tmp = workspace();
    let sweep = || {
        Command::new(env!("CARGO_BIN_EXE_sweep"))
            .args(["GOOG.csv", "out"])
            .current_dir(tmp.path())
            .output()
            .unwrap()
    };
    let first = ok(&sweep());
    assert!(first.starts_with("12 simulations, 0 resumed -> out\n"), "{first}");
    assert_eq!(first.lines().count(), 4, "the top 3 by return follow: {first}");
    let summary = fs::read(tmp.path().join("out/summary.csv")).unwrap();
    let second = ok(&sweep());
    assert!(second.starts_with("12 simulations, 12 resumed -> out\n"), "{second}");
    assert_eq!(
        first.lines().skip(1).collect::<Vec<_>>(),
        second.lines().skip(1).collect::<Vec<_>>()
    );
    assert!(fs::read(tmp.path().join("out/summary.csv")).unwrap() == summary);
    let html = fs::read_to_string(tmp.path().join("out/report.html")).unwrap();
    assert!(html.contains("equity-01-vb_GOOG_"), "the best curve is charted");
}
