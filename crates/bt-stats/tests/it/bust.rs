//! A leveraged long that goes bust, on data made here.

use bt_domain::{BacktestConfig, Bars, EquityCurve, time::NANOS_PER_DAY};
use bt_engine::{Ctx, EngineError, IndicatorCache, Init, OrderSpec, Strategy};
use bt_stats::{DatasetStats, RunFacts, StatsAccumulator, compute_from_curve};

use crate::stream::same_stats;

struct BuyOnce;

impl Strategy for BuyOnce {
    fn init(&mut self, _: &mut Init<'_>) -> Result<(), EngineError> {
        Ok(())
    }
    fn next(&mut self, ctx: &mut Ctx<'_, '_>) -> Result<(), EngineError> {
        if ctx.bar_idx() == 3 {
            ctx.buy(OrderSpec::market())?;
        }
        Ok(())
    }
}

/// 40 calendar days: a gentle rise, then a 3 % fall per day from day 10.
fn crash_bars() -> Bars {
    let n = 40;
    let close: Vec<f64> = (0..n)
        .map(|i| if i < 10 { 100.0 + i as f64 } else { 109.0 * 0.97f64.powi(i - 9) })
        .collect();
    let open: Vec<f64> =
        (0..n as usize).map(|i| if i == 0 { 100.0 } else { close[i - 1] }).collect();
    let high: Vec<f64> = open.iter().zip(&close).map(|(o, c)| o.max(*c)).collect();
    let low: Vec<f64> = open.iter().zip(&close).map(|(o, c)| o.min(*c)).collect();
    let ts = (0..n as i64)
        .map(|i| 1_600_000_000 * 1_000_000_000 / NANOS_PER_DAY * NANOS_PER_DAY + i * NANOS_PER_DAY)
        .collect();
    Bars::new(ts, open, high, low, close, vec![0.0; n as usize]).unwrap()
}

#[test]
fn leveraged_long_goes_bust_and_stats_follow_backtesting_rules() {
    let bars = crash_bars();
    let config = BacktestConfig { margin: 0.1, ..BacktestConfig::default() };
    let ds = DatasetStats::new(&bars);
    let mut obs = (StatsAccumulator::new(&ds), EquityCurve::default());
    let result =
        bt_engine::run(&bars, &mut BuyOnce, &config, &IndicatorCache::new(), &mut obs).unwrap();
    let (acc, curve) = obs;
    let bust = result.bust_bar.expect("10x long through a 3 %/day fall must go bust");
    assert!(bust > 10 && bust < 40, "bust at {bust}");
    assert!(curve.0[..bust].iter().all(|&e| e > 0.0));
    assert!(curve.0[bust..].iter().all(|&e| e == 0.0), "equity is 0 from the bust bar on");

    // The out-of-money rule closes the open trade at the bust bar's close: it is a closed trade.
    assert_eq!(result.trades.len(), 1);
    assert_eq!(result.trades[0].exit_bar, Some(bust));
    assert_eq!(result.trades[0].exit_price, bars.close()[bust]);
    assert!(result.open_trades.is_empty());

    let facts = RunFacts { trades: &result.trades, warmup: result.warmup };
    let stats = acc.finish(&facts);
    assert_eq!(stats.n_trades, 1);
    assert!(stats.beta.is_nan() && stats.alpha_pct.is_nan(), "ln(0) makes the covariance NaN");
    // A -100 % period return: gmean is backtesting.py's integer 0, so the annual return is 0.
    assert_eq!(stats.return_ann_pct, 0.0);
    assert_eq!(stats.sharpe_ratio, 0.0);
    assert!(stats.volatility_ann_pct > 0.0);
    assert_eq!(stats.equity_final, 0.0);
    assert_eq!(stats.return_pct, -100.0);
    assert_eq!(stats.cagr_pct, -100.0);
    assert_eq!(stats.max_drawdown_pct, -100.0);
    assert_eq!(stats.calmar_ratio, 0.0);
    // The episode never recovers: it runs from the peak to the last bar.
    assert!(stats.max_drawdown_duration.is_some());
    assert_eq!(stats.win_rate_pct, 0.0);
    assert_eq!(stats.exposure_time_pct, (bust - 4 + 1) as f64 / 40.0 * 100.0);

    let from_curve = compute_from_curve(&bars, &curve.0, &facts).unwrap();
    assert!(same_stats(&stats, &from_curve));
}
