//! `portfolios: {"name": ["ds1", "ds2"]}`: several data sets under one name, named by
//! simulations and sweeps like a data set, checked before anything runs.

use std::path::Path;

use bt_queue::{Queue, QueueError};

use crate::catalog::TestCatalog;

fn problems(text: &str) -> Vec<String> {
    let q = Queue::from_str(text, Path::new("."), "q.ron").unwrap();
    match q.validate(&TestCatalog) {
        Ok(()) => Vec::new(),
        Err(QueueError::Invalid { problems, .. }) => {
            problems.iter().map(ToString::to_string).collect()
        }
        Err(e) => panic!("{e}"),
    }
}

const DATA: &str = r#"datasets: {
        "a": (synthetic: (bars: 300, seed: 1, interval: "1d")),
        "b": (synthetic: (bars: 300, seed: 2, interval: "1d")),
    }"#;

#[test]
fn a_portfolio_is_named_like_a_data_set() {
    let text = format!(
        r#"(version: 1, {DATA}, portfolios: {{"ab": ["a", "b"]}},
        simulations: [(id: "s", dataset: "ab", strategy: "sma_cross", params: {{"fast": 5, "slow": 20}})],
        sweeps: [(id: "g", datasets: ["ab", "a"], strategy: "sma_cross", grid: {{"fast": [5], "slow": [20]}})])"#
    );
    assert_eq!(problems(&text), Vec::<String>::new());
    let q = Queue::from_str(&text, Path::new("."), "q.ron").unwrap();
    assert_eq!(q.portfolios()["ab"], ["a", "b"]);
    assert_eq!(q.len(), 3, "one simulation and a sweep over two data sets");
}

#[test]
fn bad_portfolios_are_refused_with_the_fix() {
    let text = format!(
        r#"(version: 1, {DATA}, portfolios: {{"a": ["b"], "empty": [], "bad": ["a", "zz", "a"]}})"#
    );
    let p = problems(&text);
    let all = p.join("\n");
    assert!(all.contains("portfolio \"a\" has the name of a data set"), "{all}");
    assert!(all.contains("portfolio with no data sets: list at least one data set"), "{all}");
    assert!(all.contains("portfolio member \"zz\" is not a data set of this queue"), "{all}");
    assert!(all.contains("data set \"a\" is listed twice in the portfolio"), "{all}");
    let dup = format!(r#"(version: 1, {DATA}, portfolios: {{"p": ["a"], "p": ["b"]}})"#);
    let e = Queue::from_str(&dup, Path::new("."), "q.ron").unwrap_err().to_string();
    assert!(e.contains("q.ron:") && e.contains("\"p\""), "{e}");
}

#[test]
fn a_data_set_carries_its_own_costs_and_they_change_the_hash() {
    let costs = r#"(version: 1, datasets: {
        "a": (synthetic: (bars: 300, seed: 1, interval: "1d"), costs: (commission: 0.0005, fractional_unit: 0.01)),
        "b": (synthetic: (bars: 300, seed: 2, interval: "1d")),
    }, portfolios: {"ab": ["a", "b"]})"#;
    let q = Queue::from_str(costs, Path::new("."), "q.ron").unwrap();
    let a = q.costs("a");
    assert_eq!((a.commission, a.fractional_unit, a.spread), (Some(0.0005), Some(0.01), None));
    assert!(q.costs("b").is_empty());
    let config = a.apply(q.default_config());
    assert_eq!((config.commission, config.fractional_unit), (0.0005, Some(0.01)));
    assert_eq!(config.spread, q.default_config().spread, "unset fields keep the config's");
    let cheaper = costs.replace("0.0005", "0.0004");
    let other = Queue::from_str(&cheaper, Path::new("."), "q.ron").unwrap();
    assert_ne!(q.hash(), other.hash(), "a run with other costs must not resume this one");
}
