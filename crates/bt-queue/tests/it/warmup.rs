//! Parameters whose warm-up is at least the data's length are refused before anything runs,
//! naming the sweep, the first offending point and how many there are.

use std::{collections::BTreeMap, path::Path};

use bt_queue::{Queue, QueueError};

use crate::catalog::TestCatalog;

const QUEUE: &str = r#"(
    version: 1,
    datasets: {"short": (synthetic: (bars: 100, seed: 1, interval: "1d")), "long": (synthetic: (bars: 5000, seed: 1, interval: "1d"))},
    simulations: [
        (id: "fits", dataset: "short", strategy: "sma_cross", params: {"fast": 5, "slow": 99}),
        (id: "too-long", dataset: "short", strategy: "sma_cross", params: {"fast": 5, "slow": 101}),
    ],
    sweeps: [
        (id: "grid", datasets: ["long", "short"], strategy: "sma_cross",
         grid: {"fast": [5, 10], "slow": [50, 101, 150, 200]}),
        (id: "ok", datasets: ["short"], strategy: "sma_cross", grid: {"fast": [5], "slow": [20, 30]}),
    ],
    walk_forward: [
        (id: "wf", dataset: "long", strategy: "sma_cross", grid: {"fast": [5], "slow": [20, 600]},
         train: 500, test: 100),
    ],
)"#;

#[test]
fn warm_ups_of_at_least_the_data_are_refused_with_the_first_point() {
    let q = Queue::from_str(QUEUE, Path::new("."), "q.ron").unwrap();
    q.validate(&TestCatalog).unwrap();
    let bars = BTreeMap::from([("short".to_string(), 100), ("long".to_string(), 5000)]);
    let Err(QueueError::Invalid { problems, .. }) = q.validate_warmups(&TestCatalog, &bars) else {
        panic!("expected problems")
    };
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(text.len(), 3, "{text:#?}");
    assert!(
        text[0].starts_with(
            "simulation \"too-long\": its warm-up is 100 bars but data set \"short\" has 100"
        ),
        "{}",
        text[0]
    );
    // The sweep is measured against its shortest data set, and points that fit are fine.
    assert!(
        text[1].starts_with("sweep \"grid\": 6 of its 8 points need a warm-up of at least 100 bars, the bars of data set \"short\", so they would never trade"),
        "{}",
        text[1]
    );
    assert!(text[1].contains("the first: fast=5,slow=101 (warm-up 100 bars)"), "{}", text[1]);
    // A walk-forward trains on windows of `train` bars.
    assert!(text[2].starts_with("walk_forward \"wf\": 1 of its 2 points need a warm-up of at least 500 bars, a training window (train = 500)"), "{}", text[2]);
    // With data long enough, nothing to say.
    let long = BTreeMap::from([("short".to_string(), 1000), ("long".to_string(), 5000)]);
    let q = Queue::from_str(&QUEUE.replace("600]", "60]"), Path::new("."), "q.ron").unwrap();
    q.validate_warmups(&TestCatalog, &long).unwrap();
}
