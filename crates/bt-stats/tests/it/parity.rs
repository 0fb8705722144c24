//! Parity with backtesting.py 0.6.6 (`tests/parity/runs`).

use bt_stats::{RunFacts, compute_from_curve};

use crate::fixtures::{Case, Worst, all_cases, check_all, compare_stats};

/// Statistics from the reference equity curve and trades table (no engine involved).
fn check_stats_only(case: &Case, worst: &mut Worst) -> Result<(), String> {
    let facts = RunFacts { trades: &case.trades, warmup: case.warmup() };
    let stats = compute_from_curve(&case.bars, &case.equity, &facts).map_err(|e| e.to_string())?;
    let diffs = compare_stats(&stats, &case.json, worst);
    if diffs.is_empty() { Ok(()) } else { Err(diffs.join("\n    ")) }
}

#[test]
fn every_statistic_matches_backtesting_py_given_its_curve_and_trades() {
    let cases = all_cases();
    assert!(cases.len() >= 4, "parity fixtures missing");
    check_all(&cases, "runs", check_stats_only);
}
