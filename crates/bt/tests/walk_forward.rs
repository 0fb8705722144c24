//! Walk-forward optimisation through the library (docs/validation.md): no look-ahead, one
//! window over the whole data is a plain sweep, and each out-of-sample window starts from the
//! previous one's ending equity, checked against the engine run by hand.

use std::{
    fs,
    path::{Path, PathBuf},
};

use bt::{
    RunOptions, Workbench,
    domain::{BacktestConfig, Bars, SimRecord, window::WalkForwardResult},
    engine::IndicatorCache,
    executor::{Mode, read_results},
    strategies::Registry,
};

fn goog() -> Bars {
    bt::data::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/GOOG.csv")).unwrap()
}

/// A queue over `data.csv` in `dir` with one walk-forward and, optionally, a plain sweep of
/// the same grid.
fn queue(dir: &Path, train: usize, test: usize, sweep: bool) -> PathBuf {
    let grid = r#"{"fast": [5, 10, 20], "slow": [40, 60, 90]}"#;
    let sweeps = if sweep {
        format!(r#"sweeps: [(id: "plain", datasets: ["d"], strategy: "sma_cross", grid: {grid})],"#)
    } else {
        String::new()
    };
    let text = format!(
        r#"(
    version: 1,
    defaults: (cash: 10000.0, commission: 0.002),
    datasets: {{"d": (path: "data.csv")}},
    {sweeps}
    walk_forward: [(id: "wf", dataset: "d", strategy: "sma_cross", grid: {grid},
                    train: {train}, test: {test}, select_by: "sharpe_ratio")],
)"#
    );
    let path = dir.join("q.ron");
    fs::write(&path, text).unwrap();
    path
}

/// Runs `q` sequentially into `dir/out`: the walk-forwards and every record by id.
fn run(q: &Path, out: &Path) -> (Vec<WalkForwardResult>, Vec<SimRecord>) {
    let wb = Workbench::new(Registry::builtin());
    let queue = wb.read_queue(q).unwrap();
    let opts = RunOptions { out: out.to_owned(), mode: Mode::Sequential, ..RunOptions::default() };
    let outcome = wb.run_queue(&queue, &opts).unwrap();
    let mut records = read_results(&out.join("results.btr")).unwrap();
    records.sort_by_key(|r| r.index);
    (outcome.walk_forward, records)
}

fn by_id<'a>(records: &'a [SimRecord], id: &str) -> &'a SimRecord {
    records.iter().find(|r| r.id == id).unwrap_or_else(|| panic!("no record {id}"))
}

#[test]
fn changing_bars_after_a_window_changes_nothing_of_it() {
    let tmp = tempfile::tempdir().unwrap();
    let bars = goog();
    bt::data::write_csv(&bars, &tmp.path().join("data.csv")).unwrap();
    let q = queue(tmp.path(), 500, 250, false);
    let (before, records) = run(&q, &tmp.path().join("a"));
    let w = &before[0].windows;
    assert_eq!(w.len(), 7);
    // Window 2 tests on bars 1000..1250: scale every bar from 1250 on by a wandering factor.
    let k = 2;
    let end = w[k].window.test.end;
    assert_eq!(end, 1250);
    let factor = |i: usize| if i < end { 1.0 } else { 1.0 + 0.3 * ((i as f64) * 0.05).sin() };
    let scale = |col: &[f64]| col.iter().enumerate().map(|(i, v)| v * factor(i)).collect();
    let altered = Bars::new(
        bars.timestamps().to_vec(),
        scale(bars.open()),
        scale(bars.high()),
        scale(bars.low()),
        scale(bars.close()),
        bars.volume().to_vec(),
    )
    .unwrap();
    bt::data::write_csv(&altered, &tmp.path().join("data.csv")).unwrap();
    let (after, changed) = run(&q, &tmp.path().join("b"));
    for j in 0..=k {
        let (a, b) = (&before[0].windows[j], &after[0].windows[j]);
        assert_eq!(a, b, "window {j}: choice and out-of-sample results");
        let test = format!("wf/w{j:02}/test");
        assert_eq!(by_id(&records, &test), by_id(&changed, &test), "{test}");
        for r in records.iter().filter(|r| r.id.starts_with(&format!("wf/w{j:02}/"))) {
            assert_eq!(r, by_id(&changed, &r.id), "{}", r.id);
        }
    }
    // The change is real: a later window, and the stitched curve, see it.
    assert_ne!(before[0].windows[k + 2], after[0].windows[k + 2]);
    assert_ne!(before[0].oos, after[0].oos);
}

#[test]
fn one_window_over_all_the_data_chooses_what_a_plain_sweep_ranks_first() {
    let tmp = tempfile::tempdir().unwrap();
    let bars = goog();
    bt::data::write_csv(&bars, &tmp.path().join("data.csv")).unwrap();
    let q = queue(tmp.path(), bars.len(), 100, true);
    let (wf, records) = run(&q, &tmp.path().join("out"));
    let windows = &wf[0].windows;
    assert_eq!(windows.len(), 1);
    assert!(windows[0].window.test.is_empty() && windows[0].test_span.is_none());
    assert_eq!(windows[0].trials, 9);
    let plain: Vec<SimRecord> =
        records.iter().filter(|r| r.id.starts_with("plain/")).cloned().collect();
    let best = bt::executor::top_k(plain, "sharpe_ratio", 1).remove(0);
    assert_eq!(windows[0].params, best.params);
    assert_eq!(windows[0].is_metric, best.stats().unwrap().sharpe_ratio);
    let chosen = by_id(&records, windows[0].chosen_id.as_deref().unwrap());
    assert_eq!(chosen.stats(), best.stats(), "the same backtest on the same bars");
    assert!(
        wf[0].oos.is_none() && !records.iter().any(|r| r.id.ends_with("/test") || r.id == "wf/oos")
    );
}

#[test]
fn each_window_trades_from_the_previous_ones_ending_equity() {
    let tmp = tempfile::tempdir().unwrap();
    let bars = goog();
    bt::data::write_csv(&bars, &tmp.path().join("data.csv")).unwrap();
    let q = queue(tmp.path(), 600, 300, false);
    let (wf, records) = run(&q, &tmp.path().join("out"));
    let registry = Registry::builtin();
    let mut cash = 10_000.0;
    let tested: Vec<_> = wf[0].windows.iter().filter(|w| !w.window.test.is_empty()).collect();
    assert_eq!(tested.len(), 6);
    for w in &tested {
        // By hand: the chosen strategy over the bars up to the window's end, trading from its
        // first bar, with the cash the previous window ended with.
        let data = bars.window(0..w.window.test.end).unwrap();
        let mut strategy = registry.build("sma_cross", &w.params).unwrap();
        let config = BacktestConfig { cash, commission: 0.002, ..BacktestConfig::default() };
        let mut curve = bt::domain::EquityCurve(Vec::new());
        let result = bt::engine::run_from(
            &data,
            strategy.as_mut(),
            &config,
            &IndicatorCache::new(),
            &mut curve,
            w.window.test.start,
        )
        .unwrap();
        assert!(curve.0[..w.window.test.start].iter().all(|&e| e == cash), "no trade before");
        assert!(result.trades.iter().all(|t| t.entry_bar > w.window.test.start));
        let record = by_id(&records, &format!("wf/w{:02}/test", w.window.k));
        let stats = record.stats().unwrap();
        assert_eq!(stats.equity_final, result.final_equity, "window {}", w.window.k);
        assert_eq!(w.oos_equity, (cash, result.final_equity));
        assert_eq!(record.params, w.params);
        cash = result.final_equity;
    }
    let oos = wf[0].oos.unwrap();
    assert_eq!(oos.equity_final, cash, "the stitched curve ends where the last window does");
    assert!((oos.return_pct - (cash / 10_000.0 - 1.0) * 100.0).abs() < 1e-9);
    assert_eq!(oos.start, bars.timestamps()[600]);
    let n_trades: u64 = tested
        .iter()
        .map(|w| by_id(&records, &format!("wf/w{:02}/test", w.window.k)).stats().unwrap().n_trades)
        .sum();
    assert_eq!(oos.n_trades, n_trades);
}
