//! Inputs that fuzzing or review found to misbehave, each test named after what it found.

use bt_domain::{BacktestConfig, Bars, EquityCurve};
use bt_engine::{Ctx, EngineError, IndicatorCache, Init, OrderSpec, Strategy};

/// Buys `size` on the first bar it sees (bar 1: `next` starts after the warm-up bar), then
/// holds.
struct BuyOnce(f64);

impl Strategy for BuyOnce {
    fn init(&mut self, _: &mut Init<'_>) -> Result<(), EngineError> {
        Ok(())
    }
    fn next(&mut self, ctx: &mut Ctx<'_, '_>) -> Result<(), EngineError> {
        if ctx.bar_idx() == 1 {
            ctx.buy(OrderSpec { size: self.0, ..OrderSpec::default() })
        } else {
            Ok(())
        }
    }
}

fn bars() -> Bars {
    let close = [100.0, 101.0, 99.5, 102.0, 100.0];
    let day = 86_400_000_000_000;
    Bars::new(
        (0..5).map(|i| i * day).collect(),
        close.to_vec(),
        close.iter().map(|c| c + 1.0).collect(),
        close.iter().map(|c| c - 1.0).collect(),
        close.to_vec(),
        vec![0.0; 5],
    )
    .unwrap()
}

/// Found by review of the `backtest` fuzz target: with cash 1e15 and margin 1e-300 (both valid
/// for backtesting.py, which then fails on `int(inf)`), the order size overflowed to infinity and
/// every statistic came out NaN, with exit 0.
#[test]
fn overflowing_position_value_is_an_error_not_nan_statistics() {
    for (cash, margin) in [(1e15, 1e-300), (1e300, 1e-10)] {
        let config = BacktestConfig { cash, margin, ..BacktestConfig::default() };
        let mut curve = EquityCurve::default();
        let err = bt_engine::run(
            &bars(),
            &mut BuyOnce(0.99),
            &config,
            &IndicatorCache::new(),
            &mut curve,
        )
        .expect_err("a NaN equity must not pass as a result");
        assert!(matches!(err, EngineError::Overflow { bar: 2, .. }), "{err:?}");
        let message = err.to_string();
        assert!(message.contains("lower the cash or raise the margin"), "{message}");
        assert!(
            curve.0.iter().all(|e| e.is_finite()),
            "only finite equity was streamed: {:?}",
            curve.0
        );
    }
    // The same order with sane settings runs.
    let config = BacktestConfig { cash: 1e15, margin: 0.01, ..BacktestConfig::default() };
    let result = bt_engine::run(
        &bars(),
        &mut BuyOnce(0.99),
        &config,
        &IndicatorCache::new(),
        &mut EquityCurve::default(),
    )
    .unwrap();
    assert!(result.final_equity.is_finite() && result.open_trades.len() == 1);
}
