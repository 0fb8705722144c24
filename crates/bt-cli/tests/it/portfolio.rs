//! Portfolios from the command line: correlated instruments generated, a portfolio strategy
//! backtested over several `--data` files, and the queue of the README run to its report.

use std::process::Output;

use crate::bt;

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn generated_instruments_backtest_as_one_portfolio() {
    let dir = tempfile::tempdir().unwrap();
    let gen_into = |sub: &str| {
        let o = bt()
            .args(["data", "generate", "--bars", "400", "--seed", "3", "--assets", "3"])
            .args(["--correlation", "0.5", "-o"])
            .arg(dir.path().join(sub))
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    };
    gen_into("a");
    gen_into("b");
    for k in 1..=3 {
        let f = format!("asset{k}.csv");
        let (x, y) = (
            std::fs::read(dir.path().join("a").join(&f)),
            std::fs::read(dir.path().join("b").join(&f)),
        );
        assert_eq!(x.unwrap(), y.unwrap(), "{f}: the same seed gives the same bytes");
    }
    let files: Vec<_> = (1..=3).map(|k| dir.path().join(format!("a/asset{k}.csv"))).collect();
    let o = bt()
        .args(["backtest", "--strategy", "momentum", "--param", "lookback=20", "--param", "top=2"])
        .args(files.iter().flat_map(|f| [std::ffi::OsStr::new("--data"), f.as_os_str()]))
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(out.contains("contribution %") && out.contains("asset3"), "{out}");
    assert!(out.contains("Buy & Hold Return [%]"), "{out}");

    // A portfolio strategy on one file is refused with the fix.
    let o = bt().args(["backtest", "--strategy", "equal_weight", "--data"]).arg(&files[0]).output();
    let o = o.unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).1.contains("is a portfolio strategy: run it on a portfolio"),
        "{:?}",
        text(&o)
    );
}

#[test]
fn the_portfolio_queue_runs_to_its_report() {
    let dir = tempfile::tempdir().unwrap();
    let queue = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/queues/portfolio.ron");
    let o = bt().args(["run", queue, "--out"]).arg(dir.path()).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let summary = std::fs::read_to_string(dir.path().join("summary.csv")).unwrap();
    assert_eq!(summary.lines().count(), 1 + 1 + 4 + 18 + 6, "{summary}");
    assert!(summary.lines().skip(1).all(|l| l.contains(",ok,")), "{summary}");
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    // The best runs' weights over time, next to their equity.
    let weights: Vec<_> = std::fs::read_dir(dir.path().join("charts"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("weights-01-") && n.ends_with(".svg"))
        .collect();
    assert_eq!(weights.len(), 1, "{weights:?}");
    let stem = weights[0].trim_end_matches(".svg");
    assert!(html.contains(stem), "report.html shows {stem}");
    let table = &html[html.find(stem).unwrap()..];
    assert!(table.contains("<table class=\"instruments\""), "an instruments table under it");
}
