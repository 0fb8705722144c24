//! The streaming accumulator: edge cases and agreement with the recorded-curve path.

use bt_domain::{Bars, EquityObserver, StatValue, Stats, time::NANOS_PER_DAY};
use bt_stats::{DatasetStats, RunFacts, StatsAccumulator, StatsError, compute_from_curve};

/// Bit-for-bit equality of every statistic (NaN equal to NaN).
pub fn same_stats(a: &Stats, b: &Stats) -> bool {
    a.values().iter().zip(b.values()).all(|((_, x), (_, y))| match (x, y) {
        (StatValue::Float(x), StatValue::Float(y)) => x.to_bits() == y.to_bits(),
        (x, y) => *x == y,
    })
}

fn daily_bars(close: &[f64], start_day: i64) -> Bars {
    let n = close.len();
    let ts = (0..n as i64).map(|i| (start_day + i) * NANOS_PER_DAY).collect();
    Bars::new(ts, close.to_vec(), close.to_vec(), close.to_vec(), close.to_vec(), vec![0.0; n])
        .unwrap()
}

#[test]
fn flat_equity_without_trades_gives_pandas_nans() {
    // backtesting.py with a strategy that never trades, on GOOG: Sharpe, Sortino, Calmar NaN,
    // Beta 0, Max. Drawdown -0.0, no drawdown episodes (NaN / NaT), trade stats NaN.
    let close: Vec<f64> = (0..50).map(|i| 100.0 + (i % 7) as f64).collect();
    let bars = daily_bars(&close, 12_000);
    let s =
        compute_from_curve(&bars, &[10_000.0; 50], &RunFacts { trades: &[], warmup: 0 }).unwrap();
    assert_eq!(
        (s.return_ann_pct, s.volatility_ann_pct, s.cagr_pct, s.beta, s.alpha_pct),
        (0.0, 0.0, 0.0, 0.0, 0.0)
    );
    assert!(s.max_drawdown_pct == 0.0 && s.max_drawdown_pct.is_sign_negative());
    for v in [
        s.sharpe_ratio,
        s.sortino_ratio,
        s.calmar_ratio,
        s.avg_drawdown_pct,
        s.win_rate_pct,
        s.sqn,
        s.kelly_criterion,
    ] {
        assert!(v.is_nan());
    }
    assert_eq!((s.max_drawdown_duration, s.avg_drawdown_duration), (None, None));
    assert_eq!((s.n_trades, s.max_trade_duration), (0, None));
    assert!(!s.commissions_reported());
}

#[test]
fn drawdown_only_on_the_last_bar_is_not_an_episode() {
    // dd = [0, 0, 0, 0.5]: Z = {0, 1, 2, 3}, no pair with q > p + 1, so pandas returns
    // dd.replace(0, nan) for peaks and durations. backtesting.py (checked with compute_stats on
    // this curve) gives Max./Avg. Drawdown -50 % and *durations* of the float 0.5, which a
    // duration cannot hold: we give NaT.
    let bars = daily_bars(&[1.0, 2.0, 3.0, 4.0], 0);
    let s = compute_from_curve(
        &bars,
        &[100.0, 110.0, 120.0, 60.0],
        &RunFacts { trades: &[], warmup: 0 },
    )
    .unwrap();
    assert_eq!(s.max_drawdown_pct, -50.0);
    assert_eq!(s.avg_drawdown_pct, -50.0);
    assert_eq!(s.max_drawdown_duration, None);
}

#[test]
fn drawdown_episodes_measure_from_the_last_high_to_recovery_or_end() {
    // Peaks at bars 0, 3 (recovery of a 2-bar dip), 4; then an unrecovered dip to the end.
    let eq = [100.0, 90.0, 95.0, 100.0, 120.0, 119.0, 60.0, 90.0];
    let bars = daily_bars(&[1.0; 8], 0);
    let s = compute_from_curve(&bars, &eq, &RunFacts { trades: &[], warmup: 0 }).unwrap();
    assert_eq!(s.max_drawdown_pct, -50.0);
    // episodes (0, 3): 10 %, 3 days; (4, 7): 50 %, 3 days
    assert!((s.avg_drawdown_pct - -30.0).abs() < 1e-12);
    assert_eq!(s.max_drawdown_duration, Some(3 * NANOS_PER_DAY));
    assert_eq!(s.avg_drawdown_duration, Some(3 * NANOS_PER_DAY));
}

#[test]
fn streaming_and_recorded_curve_agree_and_lengths_are_checked() {
    let close: Vec<f64> =
        (0..400).map(|i| 100.0 * (1.0 + 0.3 * ((i as f64) * 0.05).sin())).collect();
    let bars = daily_bars(&close, 18_000);
    let eq: Vec<f64> = close
        .iter()
        .enumerate()
        .map(|(i, c)| if i % 3 == 0 { 1e4 } else { 1e4 + c * 3.0 })
        .collect();
    let facts = RunFacts { trades: &[], warmup: 5 };
    let ds = DatasetStats::new(&bars);
    let mut acc = StatsAccumulator::new(&ds);
    for (i, &e) in eq.iter().enumerate() {
        acc.on_equity(i, e);
    }
    assert_eq!(acc.bars_seen(), 400);
    assert!(same_stats(&acc.finish(&facts), &compute_from_curve(&bars, &eq, &facts).unwrap()));
    assert_eq!(
        compute_from_curve(&bars, &eq[..10], &facts),
        Err(StatsError::CurveLength { len: 10, n_bars: 400 })
    );
}
