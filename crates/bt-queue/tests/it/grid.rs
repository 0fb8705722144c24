//! Grid sweeps: counts, order, ids, config merging, laziness.

use std::{collections::BTreeSet, path::Path};

use bt_domain::{ParamValue, SimSpec};
use bt_queue::Queue;

use crate::catalog::TestCatalog;

pub fn queue(text: &str) -> Queue {
    Queue::from_str(text, Path::new("tests/data"), "test.ron").unwrap()
}

const BENCHMARK: &str = r#"(
    version: 1,
    defaults: (cash: 5000, commission: 0.002),
    datasets: {
        "goog": (path: "GOOG.csv"),
        "syn": (synthetic: (bars: 1000, seed: 7, interval: "1m")),
    },
    simulations: [
        (id: "sma-10-20", dataset: "goog", strategy: "sma_cross", params: {"fast": 10, "slow": 20}),
        (id: "bh", dataset: "goog", strategy: "buy_and_hold", params: {}, config: (commission: 0.0, cash: 100)),
    ],
    sweeps: [
        (id: "grid", datasets: ["goog", "syn"], strategy: "sma_cross",
         grid: {"fast": range(5, 34), "slow": [40, 50, 60]}, where: "fast < slow"),
        (id: "wide", datasets: ["syn"], strategy: "sma_cross", params: {"long_only": true},
         config: (hedging: true), grid: {"slow": range(40, 130, 10), "fast": range(5, 34)}),
    ],
)"#;

fn all(q: &Queue) -> Vec<SimSpec> {
    q.iter().collect()
}

#[test]
fn benchmark_grid_counts_90_per_dataset_and_300_for_the_wide_grid() {
    let q = queue(BENCHMARK);
    q.validate(&TestCatalog).unwrap();
    let specs = all(&q);
    let count = |prefix: &str| specs.iter().filter(|s| s.id.starts_with(prefix)).count();
    assert_eq!(count("grid/goog/"), 90);
    assert_eq!(count("grid/syn/"), 90);
    assert_eq!(count("wide/syn/"), 300);
    assert_eq!(q.len(), 2 + 180 + 300);
    assert_eq!(specs.len() as u64, q.len());
}

#[test]
fn constraint_filters_points_exactly() {
    let q = queue(
        r#"(version: 1, datasets: {"d": (path: "GOOG.csv")}, sweeps: [
            (id: "s", datasets: ["d"], strategy: "sma_cross",
             grid: {"fast": range(1, 10), "slow": range(1, 10)}, where: "fast < slow and slow - fast >= 2 * 1 or false")])"#,
    );
    // Pairs 1 <= fast < slow <= 10 with slow - fast >= 2: 45 pairs minus the 9 neighbours.
    assert_eq!(q.len(), 36);
    assert!(q.iter().all(|s| {
        let (f, s) = (s.params["fast"].as_f64().unwrap(), s.params["slow"].as_f64().unwrap());
        s - f >= 2.0
    }));
}

#[test]
fn queue_order_and_point_order_are_fixed() {
    let q = queue(BENCHMARK);
    let ids: Vec<String> = q.iter().map(|s| s.id).collect();
    assert_eq!(
        ids[..6],
        [
            "sma-10-20",
            "bh",
            "grid/goog/fast=5,slow=40",
            "grid/goog/fast=5,slow=50",
            "grid/goog/fast=5,slow=60",
            "grid/goog/fast=6,slow=40"
        ]
    );
    assert_eq!(ids[2 + 89], "grid/goog/fast=34,slow=60");
    assert_eq!(ids[2 + 90], "grid/syn/fast=5,slow=40");
    // Params in name order in ids, whatever the order in the file; last name fastest.
    assert_eq!(ids[2 + 180], "wide/syn/fast=5,slow=40");
    assert_eq!(ids[2 + 181], "wide/syn/fast=5,slow=50");
    assert_eq!(ids.last().unwrap(), "wide/syn/fast=34,slow=130");
}

#[test]
fn ids_are_unique_and_stable_across_parses_and_iterations() {
    let q = queue(BENCHMARK);
    let first: Vec<SimSpec> = all(&q);
    let unique: BTreeSet<&str> = first.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(unique.len(), first.len());
    assert_eq!(all(&q), first, "a second iteration yields the same");
    assert_eq!(all(&queue(BENCHMARK)), first, "a second parse yields the same");
    // The id names exactly the swept params: parse it back and compare.
    for s in first.iter().filter(|s| s.id.starts_with("grid/")) {
        let point = s.id.rsplit('/').next().unwrap();
        for kv in point.split(',') {
            let (k, v) = kv.split_once('=').unwrap();
            assert_eq!(s.params[k].to_string(), v, "{}", s.id);
        }
    }
}

#[test]
fn config_overrides_merge_over_defaults() {
    let q = queue(BENCHMARK);
    let by_id = |id: &str| q.iter().find(|s| s.id == id).unwrap();
    let sma = by_id("sma-10-20");
    assert_eq!(
        (sma.config.cash, sma.config.commission, sma.config.hedging),
        (5000.0, 0.002, false)
    );
    let bh = by_id("bh");
    assert_eq!((bh.config.cash, bh.config.commission), (100.0, 0.0));
    let wide = by_id("wide/syn/fast=5,slow=40");
    assert_eq!(
        (wide.config.cash, wide.config.commission, wide.config.hedging),
        (5000.0, 0.002, true)
    );
    assert_eq!(wide.params["long_only"], ParamValue::Bool(true), "fixed params join every point");
    assert_eq!(wide.params.len(), 3);
    assert_eq!(wide.strategy, "sma_cross");
    assert_eq!(wide.dataset, "syn");
    assert_eq!(q.default_config().cash, 5000.0);
}

#[test]
fn float_and_list_axes_give_exact_values() {
    let q = queue(
        r#"(version: 1, datasets: {"d": (path: "GOOG.csv")}, sweeps: [
            (id: "s", datasets: ["d"], strategy: "x",
             grid: {"k": range(0.1, 1.0, 0.1), "mode": ["a", "b"], "on": [true, false]})])"#,
    );
    let ids: Vec<String> = q.iter().map(|s| s.id).collect();
    assert_eq!(ids.len(), 40);
    assert_eq!(ids[0], "s/d/k=0.1,mode=a,on=true");
    assert_eq!(ids[8], "s/d/k=0.3,mode=a,on=true");
    assert_eq!(ids[39], "s/d/k=1.0,mode=b,on=false");
}

#[test]
fn ten_million_points_are_counted_and_iterated_lazily() {
    let q = queue(
        r#"(version: 1, datasets: {"d": (path: "GOOG.csv")}, sweeps: [
            (id: "big", datasets: ["d"], strategy: "sma_cross",
             grid: {"a": range(1, 1000), "b": range(1, 100), "c": range(1, 100)})])"#,
    );
    assert_eq!(q.len(), 10_000_000);
    let first: Vec<SimSpec> = q.iter().take(1000).collect();
    assert_eq!(first[999].id, "big/d/a=1,b=10,c=100");
    // Under a constraint, the count evaluates every point but stores none.
    let q = queue(
        r#"(version: 1, datasets: {"d": (path: "GOOG.csv")}, sweeps: [
            (id: "big", datasets: ["d"], strategy: "sma_cross",
             grid: {"a": range(1, 1000), "b": range(1, 100), "c": range(1, 100)}, where: "b <= c")])"#,
    );
    assert_eq!(q.len(), 1000 * 5050);
    assert_eq!(q.iter().nth(1000).unwrap().id, "big/d/a=1,b=11,c=56");
}

#[test]
fn hash_is_stable_and_tracks_content() {
    let a = queue(BENCHMARK);
    assert_eq!(a.hash().len(), 16);
    assert!(a.hash().chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(a.hash(), queue(BENCHMARK).hash());
    let edited = BENCHMARK.replace("seed: 7", "seed: 8");
    assert_ne!(a.hash(), queue(&edited).hash());
    let elsewhere = Queue::from_str(BENCHMARK, Path::new("tests"), "test.ron").unwrap();
    assert_ne!(a.hash(), elsewhere.hash(), "same text, other data files");
}

#[test]
fn datasets_are_resolved_against_the_queue_directory() {
    let q = Queue::from_path("tests/data/../data/queue_probe.ron");
    assert!(matches!(q, Err(bt_queue::QueueError::Read { .. })));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("q.ron"), BENCHMARK).unwrap();
    std::fs::write(dir.path().join("GOOG.csv"), "x").unwrap();
    let q = Queue::from_path(dir.path().join("q.ron")).unwrap();
    assert_eq!(q.datasets()["goog"], bt_queue::DatasetSource::File(dir.path().join("GOOG.csv")));
    q.validate(&TestCatalog).unwrap();
}

/// A sweep axis (or parameter) named after a broker setting sets the setting, stays in the
/// point's parameters (so results show it) and is not given to the strategy.
#[test]
fn axes_named_after_broker_settings_sweep_the_broker() {
    let q = queue(
        r#"(
        version: 1,
        defaults: (commission: 0.002, atr_periods: 50),
        datasets: {"syn": (synthetic: (bars: 300, seed: 1, interval: "1d"))},
        simulations: [(id: "one", dataset: "syn", strategy: "sma_cross",
                       params: {"fast": 5, "slow": 20, "slippage": 0.001})],
        sweeps: [(id: "trail", datasets: ["syn"], strategy: "sma_cross", params: {"fast": 5},
                  grid: {"slow": [20, 30], "trailing_atr": [2.0, 3.0], "hedging": [false, true]},
                  where: "trailing_atr * 10 >= slow")],
    )"#,
    );
    q.validate(&TestCatalog).unwrap();
    let specs = all(&q);
    assert_eq!(specs.len(), 1 + 6);
    assert_eq!(specs[0].config.slippage, 0.001);
    assert_eq!(specs[0].strategy_params().len(), 2);
    let s = &specs[1];
    assert_eq!(s.id, "trail/syn/hedging=false,slow=20,trailing_atr=2.0");
    assert_eq!(
        (s.config.trailing_atr, s.config.hedging, s.config.atr_periods),
        (Some(2.0), false, 50)
    );
    assert_eq!(s.config.commission, 0.002);
    assert_eq!(s.params["trailing_atr"], ParamValue::Float(2.0));
    let strategy: Vec<String> = s.strategy_params().into_keys().collect();
    assert_eq!(strategy, ["fast", "slow"]);
    assert!(specs.iter().skip(1).any(|s| s.config.hedging));
}

#[test]
fn bad_broker_settings_in_axes_are_found_before_anything_runs() {
    let q = queue(
        r#"(
        version: 1,
        datasets: {"syn": (synthetic: (bars: 300, seed: 1, interval: "1d"))},
        simulations: [(id: "typed", dataset: "syn", strategy: "sma_cross",
                       params: {"fast": 5, "slow": 20, "hedging": 1})],
        sweeps: [(id: "trail", datasets: ["syn"], strategy: "sma_cross", params: {"fast": 5, "slow": 20},
                  grid: {"trailing_atr": [-1.0, 2.0], "fractional_unit": [0.01, 2.0]})],
    )"#,
    );
    let err = q.validate(&TestCatalog).unwrap_err().to_string();
    assert!(
        err.contains(
            "simulation \"typed\": config: hedging = 1 is invalid: expected true or false"
        ),
        "{err}"
    );
    assert!(
        err.contains("sweep \"trail\": point fractional_unit=0.01,trailing_atr=-1.0: config: trailing_atr = -1 is invalid"),
        "{err}"
    );
    assert!(err.contains("fractional_unit = 2 is invalid: expected a unit in (0, 1]"), "{err}");
}
