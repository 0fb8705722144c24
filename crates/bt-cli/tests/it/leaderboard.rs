//! Leaderboards on the terminal: `bt report` prints the one it ranked, `--min-trades` and
//! `--filter` choose its rows (and a bad filter is exit 2 naming its column), and only the
//! files written are announced.

use std::{fs, path::Path};

use crate::{bt, ok_text, run::workspace, text};

const QUEUE: &str = r#"(
    version: 1,
    defaults: (cash: 10000.0, commission: 0.002),
    datasets: {"goog": (path: "GOOG.csv")},
    simulations: [(id: "hold", dataset: "goog", strategy: "buy_and_hold", params: {})],
    sweeps: [
        (id: "sma", datasets: ["goog"], strategy: "sma_cross", grid: {"fast": [5, 10, 20], "slow": [40, 80]}),
        (id: "rsi", datasets: ["goog"], strategy: "rsi_reversion",
         grid: {"period": [7, 14], "lower": [30], "upper": [70]}),
    ],
)"#;

/// A run of [`QUEUE`] (no report), in a temp dir holding the queue and GOOG.csv.
fn run() -> (tempfile::TempDir, std::path::PathBuf) {
    let (tmp, q) = workspace(QUEUE);
    let out = tmp.path().join("run");
    let o = bt().arg("run").arg(&q).arg("--out").arg(&out).arg("--no-report").output().unwrap();
    ok_text(&o);
    (tmp, out)
}

/// `wrote ...` lines with the directory replaced by `DIR`.
fn wrote(stdout: &str, dir: &Path) -> Vec<String> {
    stdout
        .lines()
        .filter(|l| l.starts_with("wrote "))
        .map(|l| l.replace(&dir.display().to_string(), "DIR"))
        .collect()
}

#[test]
fn report_prints_the_filtered_leaderboard() {
    let (_tmp, out) = run();
    let o = bt()
        .arg("report")
        .arg(&out)
        .args(["--top", "3", "--by", "sortino_ratio", "--min-trades", "5"])
        .args(["--filter", "strategy == \"sma_cross\" and slow == 40", "--format", "md"])
        .output()
        .unwrap();
    let stdout = ok_text(&o);
    let board: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("Top "))
        .take_while(|l| !l.is_empty())
        .collect();
    assert_eq!(board[0], "Top 3 by sortino_ratio:", "{stdout}");
    assert_eq!(
        board[1],
        "filter: n_trades >= 5 and strategy == \"sma_cross\" and slow == 40 (3 of 9 simulations pass)"
    );
    assert_eq!(board.len(), 6, "note, header and 3 rows:\n{stdout}");
    for row in &board[3..] {
        assert!(row.contains("sma_cross") && row.contains(" 40 "), "{row}");
    }
    let leaderboard = fs::read_to_string(out.join("leaderboard.md")).unwrap();
    assert!(leaderboard.starts_with(board[1]), "{leaderboard}");
    // --format md: the Markdown tables (and the chart files), no page.
    assert_eq!(
        wrote(&stdout, &out)[..3],
        ["wrote DIR/summary.md", "wrote DIR/leaderboard.md", "wrote DIR/validation.md"]
    );
    assert!(!out.join("report.html").exists());
}

#[test]
fn only_written_files_are_announced() {
    let (_tmp, out) = run();
    let o = bt().arg("report").arg(&out).args(["--format", "csv"]).output().unwrap();
    let stdout = ok_text(&o);
    assert!(!stdout.contains("report.html"), "{stdout}");
    let lines = wrote(&stdout, &out);
    assert_eq!(lines[0], "wrote DIR/summary.csv", "{stdout}");
    for line in &lines[1..] {
        assert!(
            line.starts_with("wrote ") && line.ends_with("chart files in DIR/charts"),
            "{line}"
        );
    }
}

#[test]
fn a_re_report_says_which_charts_of_the_earlier_one_it_removed() {
    let (_tmp, out) = run();
    ok_text(&bt().arg("report").arg(&out).args(["--top", "5"]).output().unwrap());
    let equity = |n: &str| {
        std::fs::read_dir(out.join("charts"))
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with(n))
            .count()
    };
    assert_eq!(equity("equity-05-"), 2, "a PNG and an SVG");
    let stdout = ok_text(&bt().arg("report").arg(&out).args(["--top", "2"]).output().unwrap());
    assert_eq!(equity("equity-03-") + equity("equity-04-") + equity("equity-05-"), 0);
    let removed: Vec<String> = stdout
        .lines()
        .filter(|l| l.starts_with("removed "))
        .map(|l| l.replace(&out.display().to_string(), "DIR"))
        .collect();
    assert_eq!(removed, ["removed 6 chart files of an earlier report from DIR/charts"], "{stdout}");
}

#[test]
fn filter_errors_name_the_column_and_exit_2() {
    let (_tmp, out) = run();
    let err = |filter: &str| {
        let o = bt().arg("report").arg(&out).args(["--filter", filter]).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
        text(&o.stderr)
    };
    insta::assert_snapshot!("unknown_column", err("n_trades >= 5 and strat == \"sma_cross\""));
    insta::assert_snapshot!("type_mismatch", err("strategy == 3"));
    insta::assert_snapshot!("not_a_condition", err("n_trades + 1"));
    // `bt run` checks the filter before it runs anything.
    let (tmp, q) = workspace(QUEUE);
    let o = bt()
        .arg("run")
        .arg(&q)
        .arg("--out")
        .arg(tmp.path().join("never"))
        .args(["--filter", "fast < slw"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("column 8: unknown column `slw`"), "{}", text(&o.stderr));
    assert!(!tmp.path().join("never").exists(), "nothing ran");
}

#[test]
fn run_prints_the_filtered_leaderboard_and_what_it_wrote() {
    let (tmp, q) = workspace(QUEUE);
    let out = tmp.path().join("run");
    let o = bt()
        .arg("run")
        .arg(&q)
        .arg("--out")
        .arg(&out)
        .args(["--top", "2", "--filter", "strategy == \"rsi_reversion\""])
        .output()
        .unwrap();
    let stdout = ok_text(&o);
    assert!(
        stdout.contains("Top 2 by sharpe_ratio:\nfilter: strategy == \"rsi_reversion\" (2 of 9 simulations pass)\n"),
        "{stdout}"
    );
    let lines = wrote(&stdout, &out);
    assert_eq!(
        lines[..3],
        ["wrote DIR/report.html", "wrote DIR/summary.csv", "wrote DIR/summary.md"]
    );
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("id=\"leaderboard-filter\""), "the page shows the filter");
}

#[test]
fn merge_announces_the_report_it_wrote() {
    let (tmp, q) = workspace(QUEUE);
    let shards: Vec<_> = (0..2).map(|k| tmp.path().join(format!("shard-{k}"))).collect();
    for (k, dir) in shards.iter().enumerate() {
        let shard = format!("{k}/2");
        let mut run = bt();
        run.arg("run").arg(&q).arg("--out").arg(dir).args(["--shard", &shard, "--no-report"]);
        ok_text(&run.output().unwrap());
    }
    let merged = tmp.path().join("merged");
    let o = bt().arg("merge").args(&shards).arg("--out").arg(&merged).output().unwrap();
    let stdout = ok_text(&o);
    assert_eq!(
        wrote(&stdout, &merged)[..3],
        ["wrote DIR/report.html", "wrote DIR/summary.csv", "wrote DIR/summary.md"],
        "{stdout}"
    );
}
