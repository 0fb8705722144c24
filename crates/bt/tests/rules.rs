//! Rules files (docs/rules.md) against the built-in strategies they restate: the same queue
//! run with the built-in and with its rules form (registered under the built-in's name) gives
//! byte-identical summary.csv, over grids on GOOG and on synthetic data.

use std::{
    fs,
    path::{Path, PathBuf},
    sync::Arc,
};

use bt::{RunOptions, Workbench, executor::Mode, rules::Rules, strategies::Registry};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

/// Runs a sweep of `strategy` over `grid` on GOOG and on synthetic hourly bars with
/// `registry` (a grid `{}`: one simulation on each); summary.csv.
fn summary(dir: &Path, registry: Registry, strategy: &str, grid: &str, name: &str) -> Vec<u8> {
    let runs = if grid == "{}" {
        format!(
            r#"simulations: [(id: "a", dataset: "goog", strategy: "{strategy}"), (id: "b", dataset: "syn", strategy: "{strategy}")],"#
        )
    } else {
        format!(
            r#"sweeps: [(id: "g", datasets: ["goog", "syn"], strategy: "{strategy}", grid: {grid})],"#
        )
    };
    let goog = repo("data/GOOG.csv");
    let text = format!(
        r#"(
    version: 1,
    defaults: (cash: 10000.0, commission: 0.002),
    datasets: {{
        "goog": (path: "{}"),
        "syn": (synthetic: (bars: 3000, seed: 5, interval: "1h")),
    }},
    {runs}
)"#,
        goog.display()
    );
    let q = dir.join(format!("{name}.ron"));
    fs::write(&q, text).unwrap();
    let wb = Workbench::new(registry);
    let queue = wb.read_queue(&q).unwrap();
    let out = dir.join(name);
    let opts = RunOptions { out: out.clone(), mode: Mode::Threads(2), ..RunOptions::default() };
    wb.run_queue(&queue, &opts).unwrap();
    fs::read(out.join("summary.csv")).unwrap()
}

fn rules_registry(strategy: &str) -> Registry {
    let rules = Arc::new(Rules::load(repo(&format!("data/rules/{strategy}.ron"))).unwrap());
    Registry::new().with(rules.entry(strategy))
}

fn same(strategy: &str, grid: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let builtin = summary(tmp.path(), Registry::builtin(), strategy, grid, "builtin");
    let rules = summary(tmp.path(), rules_registry(strategy), strategy, grid, "rules");
    let text = String::from_utf8_lossy(&builtin);
    let rows = text.lines().count() - 1;
    let failed = text.lines().filter(|l| l.contains(",failed,")).count();
    assert!(rows >= 12 && failed == 0, "{strategy}: {rows} rows, {failed} failed");
    let trades = text.lines().filter(|l| !l.contains(",0,,")).count();
    assert!(trades > rows / 2, "the grid trades");
    if builtin != rules {
        let r = String::from_utf8_lossy(&rules);
        let diff = text.lines().zip(r.lines()).find(|(a, b)| a != b);
        panic!("{strategy}: summary.csv differs between the built-in and its rules form: {diff:?}");
    }
}

#[test]
fn sma_cross_rules_equal_the_built_in() {
    same("sma_cross", r#"{"fast": [5, 10, 15], "slow": [20, 40, 60], "long_only": [false, true]}"#);
}

#[test]
fn rsi_reversion_rules_equal_the_built_in() {
    same(
        "rsi_reversion",
        r#"{"period": [7, 14, 21], "lower": [25.0, 30.0], "upper": [70.0, 75.0], "long_only": [false, true]}"#,
    );
}

#[test]
fn bollinger_breakout_rules_equal_the_built_in() {
    same(
        "bollinger_breakout",
        r#"{"period": [10, 20, 40], "k": [1.5, 2.0, 2.5], "long_only": [false, true]}"#,
    );
}

#[test]
fn donchian_breakout_rules_equal_the_built_in() {
    same("donchian_breakout", r#"{"period": [5, 10, 20, 55], "long_only": [false, true]}"#);
}

#[test]
fn macd_cross_rules_equal_the_built_in() {
    same(
        "macd_cross",
        r#"{"fast": [8, 12], "slow": [21, 26], "signal": [5, 9], "long_only": [false, true]}"#,
    );
}

#[test]
fn buy_and_hold_is_a_long_entry_that_always_holds() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = Arc::new(
        Rules::from_str(r#"(version: 1, name: "bh", long_entry: "true")"#, "bh.ron").unwrap(),
    );
    let builtin = summary(tmp.path(), Registry::builtin(), "buy_and_hold", "{}", "builtin");
    let ours = summary(
        tmp.path(),
        Registry::new().with(rules.entry("buy_and_hold")),
        "buy_and_hold",
        "{}",
        "rules",
    );
    assert!(
        builtin == ours,
        "{}\n{}",
        String::from_utf8_lossy(&builtin),
        String::from_utf8_lossy(&ours)
    );
}
