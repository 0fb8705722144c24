//! The text table against backtesting.py's own `print(stats)`.

use bt_domain::EquityCurve;
use bt_stats::{DatasetStats, RunFacts, StatsAccumulator, compute_from_curve, format_table};

use crate::fixtures::{all_cases, parity_dir};

/// `tests/reference/NAME.repr.txt` is backtesting.py 0.6.6's `repr(stats)` for the run, without
/// its `_strategy`, `_equity_curve`, `_trades` and `dtype` lines (written by running the run in
/// Python, see `gen_fixtures.py` for the strategies).
#[test]
fn table_matches_backtesting_py_print_line_for_line() {
    for name in ["goog_smacross_10_20_comm002", "goog_smacross_20_50_comm0"] {
        let case = all_cases().into_iter().find(|c| c.name == name).expect("fixture");
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
    let case = all_cases().into_iter().find(|c| c.name == "goog_smacross_10_20_comm002").unwrap();
    let ds = DatasetStats::new(&case.bars);
    let mut obs = (StatsAccumulator::new(&ds), EquityCurve::default());
    for (i, &e) in case.equity.iter().enumerate() {
        bt_domain::EquityObserver::on_equity(&mut obs, i, e);
    }
    let stats = obs.0.finish(&RunFacts { trades: &case.trades, warmup: case.warmup() });
    insta::assert_snapshot!(format_table(&stats));
}
