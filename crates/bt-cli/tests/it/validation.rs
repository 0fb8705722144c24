//! `bt run` reports the overfitting statistics of its groups (docs/validation.md): the GOOG SMA
//! grid of bt-stats/tests/overfit through the whole pipeline, matched to numpy and scipy, and
//! `--pbo-blocks` (choices, bad values, resume).

use std::{fs, path::Path};

use serde_json::Value;

use crate::{bt, ok_text, run::workspace, text};

/// The reference's GOOG grid: fast 5..25 step 5 x slow {30, 40, 60, 90}, commission 0.2 %.
const GRID: &str = r#"(
    version: 1,
    defaults: (cash: 10000.0, commission: 0.002),
    datasets: {"goog": (path: "GOOG.csv")},
    sweeps: [(id: "sma", datasets: ["goog"], strategy: "sma_cross",
              grid: {"fast": range(5, 26, 5), "slow": [30, 40, 60, 90]})],
)"#;

fn reference() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../bt-stats/tests/overfit/overfit_reference.json");
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

fn close(ours: &Value, theirs: &Value, what: &str) {
    let (a, b) = (ours.as_f64().unwrap(), theirs.as_f64().unwrap());
    assert!((a - b).abs() <= 1e-9 * b.abs().max(1e-3), "{what}: ours {a}, reference {b}");
}

fn run(q: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    bt().arg("run").arg(q).arg("--out").arg(out).arg("--no-report").args(extra).output().unwrap()
}

fn groups(out: &Path) -> Vec<Value> {
    let v: Value =
        serde_json::from_str(&fs::read_to_string(out.join("validation.json")).unwrap()).unwrap();
    v["groups"].as_array().unwrap().clone()
}

#[test]
fn a_sweep_reports_the_dsr_and_pbo_that_numpy_and_scipy_compute() {
    let (tmp, q) = workspace(GRID);
    let reference = reference();
    let want = &reference["groups"][0];
    assert_eq!(want["dataset"], "GOOG");
    for (blocks, extra) in [("16", vec![]), ("8", vec!["--pbo-blocks", "8"])] {
        let out = tmp.path().join(format!("s{blocks}"));
        let stdout = ok_text(&run(&q, &out, &extra));
        let g = groups(&out);
        assert_eq!(g.len(), 1);
        let g = &g[0];
        assert_eq!(
            (g["strategy"].as_str(), g["dataset"].as_str()),
            (Some("sma_cross"), Some("goog"))
        );
        assert_eq!(g["n"], want["n"]);
        assert_eq!(g["best_id"], "sma/goog/fast=10,slow=40");
        assert!(want["best_id"].as_str().unwrap().ends_with("/fast=10,slow=40"));
        for k in ["best_sr", "sr_variance", "sr0", "dsr"] {
            close(&g[k], &want[k], k);
        }
        let pbo = &want["pbo"][blocks];
        assert_eq!(g["pbo_blocks"].to_string(), blocks);
        assert_eq!(g["splits"], pbo["n_splits"]);
        for k in ["pbo", "median_lambda", "degradation", "prob_loss"] {
            close(&g[k], &pbo[k], &format!("S={blocks} {k}"));
        }
        // The terminal shows the same figures, and the leaderboard the winner's DSR.
        let dsr = format!("{:.3}", want["dsr"].as_f64().unwrap());
        let pbo_text = format!("{:.3}", pbo["pbo"].as_f64().unwrap());
        let line = stdout.lines().find(|l| l.starts_with("sma_cross  goog")).unwrap_or_default();
        assert!(line.contains(&dsr) && line.contains(&pbo_text), "{stdout}");
        assert!(stdout.contains("Is the winner real?"), "{stdout}");
        // Per simulation: the four columns after the 32 statistics.
        let summary = fs::read_to_string(out.join("summary.csv")).unwrap();
        let header: Vec<&str> = summary.lines().next().unwrap().split(',').collect();
        assert_eq!(header[header.len() - 5..], ["sr", "skew", "kurtosis", "psr", "error"]);
    }
}

#[test]
fn pbo_blocks_are_checked_and_kept_across_a_resume() {
    let (tmp, q) = workspace(GRID);
    let out = tmp.path().join("out");
    // Odd, or too many: a clear error before anything is written.
    for bad in ["3", "22"] {
        let o = run(&q, &out, &["--pbo-blocks", bad]);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains(&format!("--pbo-blocks {bad}")) && err.contains("even number"),
            "{err}"
        );
        assert!(!out.exists(), "nothing written for a bad --pbo-blocks");
    }
    // 0: no PBO, the DSR still.
    ok_text(&run(&q, &out, &["--pbo-blocks", "0"]));
    let g = &groups(&out)[0];
    assert!(g["pbo"].is_null() && g["dsr"].as_f64().is_some(), "{g}");
    let results = crate::results_jsonl(&out);
    assert!(results.contains("\"blocks\":[]"), "no blocks kept");
    // A resume takes the run's number by default and refuses another.
    let o = run(&q, &out, &["--resume", "--pbo-blocks", "16"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("0 PBO blocks") && err.contains("--pbo-blocks"), "{err}");
    ok_text(&run(&q, &out, &["--resume"]));
    let run_json: Value =
        serde_json::from_str(&fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(run_json["pbo_blocks"], 0);
}

/// A walk-forward long enough to be killed during its training in a debug build (~2 s):
/// 8 anchored windows of 12 points over 400k synthetic bars.
const WALK_FORWARD: &str = r#"(
    version: 1,
    defaults: (commission: 0.001),
    datasets: {"syn": (synthetic: (bars: 400000, seed: 11, interval: "1h"))},
    walk_forward: [(id: "wf", dataset: "syn", strategy: "sma_cross",
                    grid: {"fast": range(2, 7), "slow": [20, 40]},
                    train: 80000, test: 40000, anchored: true)],
)"#;

/// The files a walk-forward run must reproduce byte for byte.
const OUTPUTS: [&str; 4] =
    ["summary.csv", "walk_forward.csv", "walk_forward.json", "validation.json"];

#[test]
fn a_walk_forward_killed_resumed_or_sharded_gives_the_same_bytes() {
    let (tmp, q) = workspace(WALK_FORWARD);
    let clean = tmp.path().join("clean");
    let stdout = ok_text(&run(&q, &clean, &["--threads", "2"]));
    assert!(stdout.contains("Walk-forward wf: sma_cross on syn, 8 windows"), "{stdout}");
    assert!(stdout.contains("stitched out of sample (wf/oos)"), "{stdout}");
    let csv = fs::read_to_string(clean.join("walk_forward.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 8);
    // 12 points x 8 windows, 8 test windows and the stitched run.
    assert_eq!(fs::read_to_string(clean.join("summary.csv")).unwrap().lines().count(), 1 + 96 + 9);

    let killed = tmp.path().join("killed");
    let mut child = bt()
        .arg("run")
        .arg(&q)
        .arg("--out")
        .arg(&killed)
        .args(["--no-report", "--threads", "2"])
        .env("BT_FRAME_RECORDS", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while crate::record_count(&killed) < 20 && start.elapsed() < std::time::Duration::from_secs(120)
    {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let done = crate::record_count(&killed);
    assert!(done < 96, "the training finished before the kill ({done} results): make it longer");
    ok_text(&run(&q, &killed, &["--threads", "2", "--resume"]));

    let shards: Vec<std::path::PathBuf> =
        (0..3).map(|k| tmp.path().join(format!("shard-{k}"))).collect();
    for (k, shard) in shards.iter().enumerate() {
        ok_text(&run(&q, shard, &["--shard", &format!("{k}/3"), "--sequential"]));
        assert!(!shard.join("walk_forward.csv").exists(), "a shard has no out-of-sample runs");
    }
    let merged = tmp.path().join("merged");
    ok_text(
        &bt()
            .arg("merge")
            .args(&shards)
            .arg("--out")
            .arg(&merged)
            .arg("--no-report")
            .output()
            .unwrap(),
    );
    for name in OUTPUTS {
        let want = fs::read(clean.join(name)).unwrap();
        for dir in [&killed, &merged] {
            assert!(fs::read(dir.join(name)).unwrap() == want, "{name} of {}", dir.display());
        }
    }
}
