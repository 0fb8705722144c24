//! Rules files through the command line (docs/rules.md): check, describe, backtest, and a queue
//! that sweeps one; a changed rules file is refused on resume.

use std::{fs, path::Path};

use crate::{bt, ok_text, text};

fn repo(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

#[test]
fn rules_files_are_checked_described_and_backtested() {
    let files: Vec<_> =
        fs::read_dir(repo("data/rules")).unwrap().map(|e| e.unwrap().path()).collect();
    assert!(files.len() >= 6);
    let out = ok_text(&bt().args(["rules", "check"]).args(&files).output().unwrap());
    assert_eq!(out.lines().filter(|l| l.starts_with("OK: ")).count(), files.len(), "{out}");
    assert!(out.contains("rules `trend_rsi`, 6 parameter(s)"), "{out}");

    let out = ok_text(
        &bt()
            .arg("strategies")
            .arg("--rules")
            .arg(repo("data/rules/trend_rsi.ron"))
            .output()
            .unwrap(),
    );
    assert!(out.starts_with("trend_rsi\n"), "{out}");
    assert!(out.contains("long_entry: crosses_above(f, s) and r < $rsi_max"), "{out}");
    assert!(out.contains("fast = 10: used in f (an integer >= 1)"), "{out}");
    assert!(out.contains("rules: fast < slow"), "{out}");
    let out = ok_text(&bt().args(["strategies", "rsi_reversion"]).output().unwrap());
    assert!(out.contains("lower = 30") && out.contains("Wilder's RSI"), "{out}");

    // The rules form of sma_cross gives the built-in's output byte for byte.
    let data = repo("data/GOOG.csv");
    let common = ["--param", "fast=10", "--param", "slow=30", "--commission", "0.002", "--json"];
    let builtin = bt()
        .arg("backtest")
        .arg("--data")
        .arg(&data)
        .args(["--strategy", "sma_cross"])
        .args(common)
        .output()
        .unwrap();
    let rules = bt()
        .arg("backtest")
        .arg("--data")
        .arg(&data)
        .arg("--rules")
        .arg(repo("data/rules/sma_cross.ron"))
        .args(common)
        .output()
        .unwrap();
    assert_eq!(ok_text(&rules), ok_text(&builtin));
    // A parameter the file does not have.
    let o = bt()
        .arg("backtest")
        .arg("--data")
        .arg(&data)
        .arg("--rules")
        .arg(repo("data/rules/sma_cross.ron"))
        .args(["--param", "fats=3"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("fats"), "{}", text(&o.stderr));
}

#[test]
fn a_queue_sweeps_a_rules_file_and_a_changed_file_is_not_resumed() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("rules");
    let stdout = ok_text(
        &bt()
            .arg("run")
            .arg(repo("data/queues/rules.ron"))
            .arg("--out")
            .arg(&out)
            .arg("--no-report")
            .output()
            .unwrap(),
    );
    assert!(stdout.contains("180 simulations (180 ok, 0 failed)"), "{stdout}");
    assert!(stdout.contains("trend_rsi  goog        180"), "{stdout}");

    // A copy of the queue and its files: run, change the rules, resume.
    let dir = tmp.path().join("copy");
    fs::create_dir_all(dir.join("rules")).unwrap();
    fs::copy(repo("data/GOOG.csv"), dir.join("GOOG.csv")).unwrap();
    let rules = dir.join("rules/trend_rsi.ron");
    fs::copy(repo("data/rules/trend_rsi.ron"), &rules).unwrap();
    let queue = fs::read_to_string(repo("data/queues/rules.ron")).unwrap();
    let q = dir.join("queues/q.ron");
    fs::create_dir_all(q.parent().unwrap()).unwrap();
    fs::write(&q, queue).unwrap();
    let run = dir.join("run");
    ok_text(&bt().arg("run").arg(&q).arg("--out").arg(&run).arg("--no-report").output().unwrap());
    let changed = fs::read_to_string(&rules).unwrap().replace("r < $rsi_max", "r <= $rsi_max");
    fs::write(&rules, changed).unwrap();
    let o = bt().arg("run").arg(&q).arg("--out").arg(&run).arg("--resume").output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("different queue, data or rules files"),
        "{}",
        text(&o.stderr)
    );
}
