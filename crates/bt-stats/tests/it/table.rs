//! The text table against backtesting.py's own `print(stats)`.

use bt_domain::EquityCurve;
use bt_stats::{DatasetStats, RunFacts, StatsAccumulator, compute_from_curve, format_table};

use crate::fixtures::{case_named, cases_named, parity_dir};

/// `tests/reference/NAME.repr.txt` is backtesting.py 0.6.6's `repr(stats)` for the run, without
/// its `_strategy`, `_equity_curve`, `_trades` and `dtype` lines (written by running the run in
/// Python, see `gen_fixtures.py` for the strategies).
#[test]
fn table_matches_backtesting_py_print_line_for_line() {
    for name in ["goog_smacross_10_20_comm002", "goog_smacross_20_50_comm0"] {
        let case = case_named(name);
        let stats = compute_from_curve(
            &case.bars,
            &case.equity,
            &RunFacts { trades: &case.trades, warmup: case.warmup() },
        )
        .unwrap();
        let reference = parity_dir().join(format!("../reference/{name}.repr.txt"));
        let expected = std::fs::read_to_string(reference).unwrap();
        assert_eq!(format_table(&stats), expected, "{name}");
    }
}

#[test]
fn goog_table_snapshot() {
    let case = case_named("goog_smacross_10_20_comm002");
    let ds = DatasetStats::new(&case.bars);
    let mut obs = (StatsAccumulator::new(&ds), EquityCurve::default());
    for (i, &e) in case.equity.iter().enumerate() {
        bt_domain::EquityObserver::on_equity(&mut obs, i, e);
    }
    let stats = obs.0.finish(&RunFacts { trades: &case.trades, warmup: case.warmup() });
    insta::assert_snapshot!(format_table(&stats));
}

/// Every run with a `runs/NAME.repr.txt` (the numeric-extreme runs: 1e15 equity, `inf`, NaN
/// rows, `-0.0`) prints as backtesting.py printed it.
#[test]
fn extreme_runs_print_like_backtesting_py() {
    let mut checked = 0;
    let mut failures = Vec::new();
    let runs = parity_dir().join("runs");
    let mut names: Vec<String> = std::fs::read_dir(&runs)
        .unwrap()
        .filter_map(|e| {
            e.ok()?.file_name().into_string().ok()?.strip_suffix(".repr.txt").map(str::to_owned)
        })
        .collect();
    names.sort();
    for case in cases_named(&names) {
        let expected =
            std::fs::read_to_string(runs.join(format!("{}.repr.txt", case.name))).unwrap();
        let stats = compute_from_curve(
            &case.bars,
            &case.equity,
            &RunFacts { trades: &case.trades, warmup: case.warmup() },
        )
        .unwrap();
        let ours = format_table(&stats);
        let (ours_lines, expected_lines): (Vec<&str>, Vec<&str>) =
            (ours.lines().collect(), expected.lines().collect());
        for k in 0..ours_lines.len().max(expected_lines.len()) {
            let (a, b) = (ours_lines.get(k), expected_lines.get(k));
            if a != b {
                failures.push(format!("{} line {k}: ours {a:?}, backtesting.py {b:?}", case.name));
            }
        }
        checked += 1;
    }
    assert!(checked >= 20, "repr fixtures missing ({checked})");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
