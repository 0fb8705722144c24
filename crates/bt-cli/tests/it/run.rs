//! `bt run`, `bt merge`, `bt backtest` end to end: modes agree byte for byte, a killed run
//! resumes to the same summary, shards merge to the single-machine summary.

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Output, Stdio},
    time::{Duration, Instant},
};

use crate::{bt, ok, text};

/// A temp dir holding GOOG.csv and the given queue text as q.ron.
pub(crate) fn workspace(queue: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/GOOG.csv"),
        tmp.path().join("GOOG.csv"),
    )
    .unwrap();
    let q = tmp.path().join("q.ron");
    fs::write(&q, queue).unwrap();
    (tmp, q)
}

const SWEEP: &str = r#"(
    version: 1,
    defaults: (cash: 10000.0, commission: 0.002),
    datasets: {"goog": (path: "GOOG.csv")},
    simulations: [
        (id: "sma-10-20", dataset: "goog", strategy: "sma_cross", params: {"fast": 10, "slow": 20}),
        (id: "finalized", dataset: "goog", strategy: "sma_cross", params: {"fast": 10, "slow": 20}, config: (finalize_trades: true)),
    ],
    sweeps: [
        (id: "sma", datasets: ["goog"], strategy: "sma_cross", grid: {"fast": range(5, 20, 3), "slow": [30, 40]}, where: "fast < slow"),
        (id: "rsi", datasets: ["goog"], strategy: "rsi_reversion", random: (n: 6, seed: 3),
         space: {"period": range(5, 20), "lower": [20, 30], "upper": [70, 80]}),
        (id: "macd", datasets: ["goog"], strategy: "macd_cross", grid: {"fast": [8, 12], "slow": [26]}),
    ],
)"#;

fn run_to(q: &Path, out: &Path, extra: &[&str]) -> Output {
    bt().arg("run").arg(q).arg("--out").arg(out).arg("--no-report").args(extra).output().unwrap()
}

#[test]
fn sequential_and_threads_give_byte_identical_summaries() {
    let (tmp, q) = workspace(SWEEP);
    let (mut summaries, mut parquets) = (Vec::new(), Vec::new());
    for (name, extra) in [
        ("seq", vec!["--sequential"]),
        ("t1", vec!["--threads", "1"]),
        ("t2", vec!["--threads", "2"]),
        ("t4", vec!["--threads", "4"]),
        ("auto", vec![]),
    ] {
        let out = tmp.path().join(name);
        let o = run_to(&q, &out, &extra);
        ok(&o);
        summaries.push(fs::read(out.join("summary.csv")).unwrap());
        parquets.push(fs::read(out.join("summary.parquet")).unwrap());
    }
    for s in &summaries[1..] {
        assert!(s == &summaries[0], "summaries differ between modes");
    }
    for p in &parquets[1..] {
        assert!(p == &parquets[0], "summary.parquet differs between modes");
    }
    let summary = text(&summaries[0]);
    // header + 2 explicit + 6x2 grid (5..=20 step 3) + 6 random + 2 macd
    assert_eq!(summary.lines().count(), 1 + 2 + 12 + 6 + 2);
    // The reference run of SEMANTICS.md section 7, through the whole pipeline.
    let row = summary.lines().find(|l| l.starts_with("sma-10-20,")).unwrap();
    assert!(row.contains(",56263.51934000004,"), "{row}");
    assert!(row.contains(",0.6007399729861899,"), "{row}");
}

#[test]
fn shards_merge_to_the_single_machine_summary() {
    let (tmp, q) = workspace(SWEEP);
    let single = tmp.path().join("single");
    ok(&run_to(&q, &single, &["--threads", "2"]));
    let mut dirs = Vec::new();
    for k in 0..3 {
        let d = tmp.path().join(format!("shard-{k}"));
        ok(&run_to(&q, &d, &["--shard", &format!("{k}/3"), "--sequential"]));
        dirs.push(d);
    }
    let merged = tmp.path().join("merged");
    let o = bt()
        .arg("merge")
        .args(&dirs)
        .arg("--out")
        .arg(&merged)
        .arg("--no-report")
        .output()
        .unwrap();
    ok(&o);
    for file in ["summary.csv", "summary.parquet"] {
        assert!(
            fs::read(merged.join(file)).unwrap() == fs::read(single.join(file)).unwrap(),
            "the merged {file} differs from the single machine's"
        );
    }
    // `bt report --format parquet` writes the same table, streaming the merged log.
    let report = tmp.path().join("report");
    ok(&bt()
        .arg("report")
        .arg(&merged)
        .args(["--format", "parquet", "--out"])
        .arg(&report)
        .output()
        .unwrap());
    assert!(
        fs::read(report.join("summary.parquet")).unwrap()
            == fs::read(single.join("summary.parquet")).unwrap(),
        "bt report's summary.parquet differs from the run's"
    );

    // A missing shard is an error naming the missing ids, unless --allow-partial.
    let partial = tmp.path().join("partial");
    let o = bt()
        .arg("merge")
        .args(&dirs[..2])
        .arg("--out")
        .arg(&partial)
        .arg("--no-report")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("in no shard"), "{}", text(&o.stderr));
    let o = bt()
        .arg("merge")
        .args(&dirs[..2])
        .arg("--out")
        .arg(&partial)
        .arg("--no-report")
        .arg("--allow-partial")
        .output()
        .unwrap();
    ok(&o);
    assert!(text(&o.stdout).contains("missing"), "{}", text(&o.stdout));

    // Shard index out of range.
    let o = run_to(&q, &tmp.path().join("x"), &["--shard", "3/3"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("0..3"), "{}", text(&o.stderr));
}

#[test]
fn a_killed_run_resumes_to_the_same_summary() {
    // Long enough to be killed mid-run in a debug build: 40 simulations over 60k bars.
    let queue = r#"(
        version: 1,
        datasets: {"syn": (synthetic: (bars: 60000, seed: 7, interval: "1m"))},
        sweeps: [(id: "g", datasets: ["syn"], strategy: "sma_cross",
                  grid: {"fast": range(2, 11), "slow": [20, 30, 40, 50]})],
    )"#;
    let (tmp, q) = workspace(queue);
    let clean = tmp.path().join("clean");
    ok(&run_to(&q, &clean, &["--threads", "2"]));

    let killed = tmp.path().join("killed");
    let mut child = bt()
        .arg("run")
        .arg(&q)
        .arg("--out")
        .arg(&killed)
        .arg("--no-report")
        .args(["--threads", "2"])
        .env("BT_FRAME_RECORDS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let results = killed.join("results.btr");
    let start = Instant::now();
    loop {
        if crate::record_count(&killed) >= 5 || start.elapsed() > Duration::from_secs(120) {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let done = crate::record_count(&killed);
    assert!(done < 40, "the run finished before it was killed ({done} results): make it longer");
    // And tear the last frame, as a crash inside write() would.
    let mut bytes = fs::read(&results).unwrap();
    bytes.extend_from_slice(b"BTfr\x33\x00\x00");
    fs::write(&results, bytes).unwrap();

    let o = run_to(&q, &killed, &["--threads", "2", "--resume"]);
    ok(&o);
    assert!(text(&o.stdout).contains("resumed"), "{}", text(&o.stdout));
    // The wall time is both sessions': the killed one's runs to its last write.
    let info = bt::executor::RunDir::new(&killed).read_info().unwrap().unwrap();
    let [first, second] = info.attempts.as_slice() else { panic!("{:?}", info.attempts) };
    assert!(!first.ended && second.ended, "{:?}", info.attempts);
    assert!(first.wall_time_s > 0.0 && first.started <= second.started, "{first:?}");
    assert_eq!(first.ran + second.ran, 40, "{:?}", info.attempts);
    assert_eq!(info.wall_time_s, first.wall_time_s + second.wall_time_s);
    assert!(text(&o.stdout).contains("s over 2 attempts)"), "{}", text(&o.stdout));
    for file in ["summary.csv", "summary.parquet"] {
        assert!(
            fs::read(killed.join(file)).unwrap() == fs::read(clean.join(file)).unwrap(),
            "the resumed {file} differs from the clean run's"
        );
    }
    let records = crate::records(&killed);
    let mut ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
    ids.sort();
    let n = ids.len();
    ids.dedup();
    assert_eq!((n, ids.len()), (40, 40), "no missing or duplicated ids");

    // Without --resume, an existing run directory is never overwritten.
    let o = run_to(&q, &killed, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("--resume"), "{}", text(&o.stderr));
}

#[test]
fn backtest_plot_draws_buy_and_hold_beside_the_equity() {
    let tmp = tempfile::tempdir().unwrap();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/GOOG.csv");
    let svg = tmp.path().join("plot.svg");
    let args = ["backtest", "--strategy", "sma_cross", "--param", "fast=10", "--param", "slow=20"];
    let o = bt().args(args).arg("--data").arg(&data).arg("--plot").arg(&svg).output().unwrap();
    ok(&o);
    let svg = fs::read_to_string(&svg).unwrap();
    assert!(svg.contains(">\nbuy &amp; hold\n</text>"), "no buy & hold legend");
    assert_eq!(svg.matches("stroke=\"#969696\"").count(), 2, "the grey line and its legend");
}

#[test]
fn backtest_json_has_the_documented_schema() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/GOOG.csv");
    let o = bt()
        .args([
            "backtest",
            "--strategy",
            "sma_cross",
            "--param",
            "fast=10",
            "--param",
            "slow=20",
            "--commission",
            "0.002",
            "--json",
            "--data",
        ])
        .arg(&data)
        .output()
        .unwrap();
    ok(&o);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let keys: Vec<&str> = v["stats"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys[..32], bt::domain::STAT_KEYS);
    assert_eq!(keys[32..], bt::domain::RETURN_KEYS);
    assert_eq!(v["stats"]["equity_final"].as_f64(), Some(56263.51934000004));
    assert_eq!(v["stats"]["n_trades"].as_u64(), Some(93));
    assert_eq!(v["stats"]["start"].as_str(), Some("2004-08-19T00:00:00"));
    assert_eq!(v["stats"]["duration"].as_f64(), Some(269222400.0));
    let trades = v["trades"].as_array().unwrap();
    assert_eq!(trades.len(), 93);
    assert_eq!(trades[0]["size"].as_f64(), Some(-59.0));
    assert_eq!(trades[0]["entry_bar"].as_u64(), Some(63));
    assert_eq!(v["open_trades"].as_array().unwrap().len(), 1);

    // The return statistics of fast=10, slow=40 as numpy and scipy computed them from
    // backtesting.py's equity (bt-stats/tests/overfit).
    let reference: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../bt-stats/tests/overfit/overfit_reference.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let goog = &reference["groups"][0];
    assert_eq!(goog["commission"].as_f64(), Some(0.002));
    let want =
        goog["trials"].as_array().unwrap().iter().find(|t| t["fast"] == 10 && t["slow"] == 40);
    let want = want.unwrap();
    let o = bt()
        .args(["backtest", "--strategy", "sma_cross", "--param", "fast=10", "--param", "slow=40"])
        .args(["--commission", "0.002", "--json", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    ok(&o);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for k in bt::domain::RETURN_KEYS {
        let (ours, theirs) = (v["stats"][k].as_f64().unwrap(), want[k].as_f64().unwrap());
        assert!((ours - theirs).abs() <= 1e-9 * theirs.abs(), "{k}: {ours} vs {theirs}");
    }

    // Unknown strategy: exit 2, the valid names listed, no panic.
    let o = bt().args(["backtest", "--strategy", "nope", "--data"]).arg(&data).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(err.contains("sma_cross") && !err.contains("panicked"), "{err}");
}

#[test]
fn check_validates_without_running() {
    let (tmp, q) = workspace(SWEEP);
    let o = bt()
        .arg("run")
        .arg(&q)
        .arg("--check")
        .arg("--out")
        .arg(tmp.path().join("o"))
        .output()
        .unwrap();
    ok(&o);
    assert!(text(&o.stdout).starts_with("OK: "), "{}", text(&o.stdout));
    assert!(!tmp.path().join("o").exists());
    let (_tmp, bad) = workspace(
        &SWEEP
            .replace("\"fast\": 10, \"slow\": 20}, config", "\"fast\": 30, \"slow\": 20}, config"),
    );
    let o = bt().arg("run").arg(&bad).arg("--check").output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("finalized"),
        "the error names the simulation: {}",
        text(&o.stderr)
    );
}

#[test]
fn a_warm_up_longer_than_the_data_is_refused_before_running_unless_allowed() {
    // 300 bars: slow = 301 and 400 need a warm-up of 300 and 399 bars: those points never trade.
    let queue = r#"(
        version: 1,
        datasets: {"syn": (synthetic: (bars: 300, seed: 1, interval: "1d"))},
        sweeps: [(id: "g", datasets: ["syn"], strategy: "sma_cross",
                  grid: {"fast": [5, 10], "slow": [50, 301, 400]})],
    )"#;
    let (tmp, q) = workspace(queue);
    let out = tmp.path().join("o");
    for extra in [&["--check"][..], &[]] {
        let o = bt().arg("run").arg(&q).arg("--out").arg(&out).args(extra).output().unwrap();
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {err}");
        assert!(
            err.contains("sweep \"g\": 4 of its 6 points need a warm-up of at least 300 bars")
                && err.contains("the first: fast=5,slow=301 (warm-up 300 bars)"),
            "{extra:?}: {err}"
        );
        assert!(!out.exists(), "nothing ran");
    }
    let o = bt().arg("run").arg(&q).arg("--check").arg("--allow-short-data").output().unwrap();
    assert!(text(&o.stdout).starts_with("OK: "), "{}", text(&o.stderr));
    // Allowed, they run and fail one by one (recorded), the rest succeed.
    let o = bt()
        .arg("run")
        .arg(&q)
        .args(["--no-report", "--allow-short-data", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
}

#[test]
fn a_panicking_and_a_misconfigured_simulation_do_not_stop_the_rest() {
    let queue = r#"(
        version: 1,
        datasets: {"goog": (path: "GOOG.csv")},
        simulations: [
            (id: "before", dataset: "goog", strategy: "sma_cross", params: {"fast": 10, "slow": 20}),
            (id: "boom", dataset: "goog", strategy: "test_panic", params: {"at": 100}),
            (id: "after", dataset: "goog", strategy: "buy_and_hold", params: {}),
        ],
    )"#;
    let (tmp, q) = workspace(queue);
    let out = tmp.path().join("out");
    let o = crate::in_process::bt_test([
        "run".as_ref(),
        q.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--no-report".as_ref(),
        "--threads".as_ref(),
        "2".as_ref(),
    ]);
    assert_eq!(o.code, 3, "exit 3 says some simulations failed: {}", o.stderr);
    assert!(!o.stderr.contains("panicked at"), "no panic message leaks: {}", o.stderr);
    let summary = fs::read_to_string(out.join("summary.csv")).unwrap();
    let rows: Vec<&str> = summary.lines().skip(1).collect();
    assert_eq!(rows.len(), 3);
    assert!(rows[0].starts_with("before,goog,sma_cross,ok,"), "{}", rows[0]);
    assert!(rows[1].starts_with("boom,goog,test_panic,failed,"), "{}", rows[1]);
    assert!(rows[1].contains("deliberate panic at bar 100"), "{}", rows[1]);
    assert!(rows[2].starts_with("after,goog,buy_and_hold,ok,"), "{}", rows[2]);

    // The shipped binary has no test strategy: rejected before anything runs.
    let o = bt().arg("run").arg(&q).arg("--out").arg(tmp.path().join("o2")).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("boom"), "{}", text(&o.stderr));
}

#[test]
fn resume_refuses_data_that_changed_since_the_run() {
    let (tmp, q) = workspace(SWEEP);
    let out = tmp.path().join("out");
    ok(&run_to(&q, &out, &["--sequential"]));
    // Same queue text, same path, different bytes: one close nudged by a cent.
    let data = tmp.path().join("GOOG.csv");
    let edited = fs::read_to_string(&data).unwrap().replacen("100.34", "100.35", 1);
    fs::write(&data, edited).unwrap();
    let o = run_to(&q, &out, &["--resume"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("different queue, data or rules files"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn backtest_prints_prices_with_the_decimals_of_the_data() {
    // GOOG scaled to an FX-like quote with five decimals (100.34 -> 0.10034 + 0.00001).
    let goog =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/GOOG.csv"))
            .unwrap();
    let mut csv = String::from("Date,Open,High,Low,Close\n");
    for line in goog.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let px = |i: usize| format!("{:.5}", f[i].parse::<f64>().unwrap() / 1000.0 + 0.00001);
        csv.push_str(&format!("{},{},{},{},{}\n", f[0], px(1), px(2), px(3), px(4)));
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("fx.csv");
    fs::write(&data, csv).unwrap();
    let o = bt()
        .args(["backtest", "--strategy", "sma_cross", "--param", "fast=10", "--param", "slow=20"])
        .args(["--cash", "100", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    let out = crate::ok_text(&o);
    let rows: Vec<&str> = out.lines().skip_while(|l| !l.starts_with("Last ")).skip(2).collect();
    assert_eq!(rows.len(), 5, "{out}");
    for row in rows {
        let cols: Vec<&str> = row.split_whitespace().collect();
        for price in [cols[2], cols[4]] {
            let decimals = price.split_once('.').map_or(0, |(_, d)| d.len());
            assert_eq!(decimals, 5, "{price} in {row}");
        }
    }
}

#[test]
fn logs_redirected_to_a_file_carry_no_colour_codes() {
    let (tmp, q) = workspace(SWEEP);
    // stderr is a pipe here, as when redirected to a log file: plain text, no ANSI escapes.
    let o = bt().arg("-vv").arg("run").arg(&q).arg("--out").arg(tmp.path().join("r")).output();
    let o = o.unwrap();
    ok(&o);
    let err = text(&o.stderr);
    assert!(err.contains("DEBUG") || err.contains("INFO"), "no log lines to check: {err}");
    assert!(!err.contains('\u{1b}'), "colour codes in redirected logs: {err:?}");
}
