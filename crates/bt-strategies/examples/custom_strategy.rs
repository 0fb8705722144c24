//! Writing your own strategy against `bt_engine::Strategy`.
//!
//! A momentum strategy with a stop-loss / take-profit bracket, run on synthetic bars made here
//! (no files). Run it with:
//!
//! ```text
//! cargo run -p bt-strategies --example custom_strategy
//! ```

use bt_domain::{BacktestConfig, Bars, EquityCurve};
use bt_engine::{Ctx, EngineError, Ind, IndicatorCache, Init, OrderSpec, Strategy};
use bt_strategies::indicators::sma;

/// Goes long when the close has risen more than `threshold` over `lookback` bars and the close
/// is above its `trend`-bar SMA; every entry carries a bracket: a stop-loss `stop_frac` below
/// and a take-profit `take_frac` above the current close. The broker closes the trade when
/// either is hit; the strategy only ever decides entries.
struct Momentum {
    lookback: usize,
    trend: usize,
    threshold: f64,
    stop_frac: f64,
    take_frac: f64,
    /// Set in `init`: handles to registered indicators are read in `next`.
    trend_sma: Option<Ind>,
}

impl Strategy for Momentum {
    /// Runs once, over the whole history: compute indicators here, vectorized. Registering
    /// them through `Init::indicator` caches them per data set (the key names the indicator
    /// and its inputs) and makes the backtest start once every indicator has a value.
    fn init(&mut self, init: &mut Init<'_>) -> Result<(), EngineError> {
        let n = self.trend;
        self.trend_sma =
            Some(init.indicator(&format!("sma(close,{n})"), |bars| sma(bars.close(), n))?);
        Ok(())
    }

    /// Runs once per bar. Every slice `ctx` hands out ends at the current bar: the last
    /// element is "now", and there is no way to read the future. Orders placed here fill on
    /// the next bar (at its open, for market orders).
    fn next(&mut self, ctx: &mut Ctx<'_, '_>) -> Result<(), EngineError> {
        let Some(trend) = self.trend_sma else {
            return Err(EngineError::Strategy {
                bar: ctx.bar_idx(),
                message: "init() not run".into(),
            });
        };
        let close = ctx.close();
        let i = close.len() - 1;
        // Flat and no order waiting: look for an entry. (No allocation here: this runs per bar.)
        if i < self.lookback || ctx.position_size() != 0.0 || ctx.order_count() > 0 {
            return Ok(());
        }
        let momentum = close[i] / close[i - self.lookback] - 1.0;
        let above_trend = close[i] > ctx.ind(trend)[i];
        if momentum > self.threshold && above_trend {
            let price = close[i];
            // 95 % of available margin, with the bracket attached to the resulting trade.
            let order = OrderSpec::market()
                .size(0.95)
                .sl(price * (1.0 - self.stop_frac))
                .tp(price * (1.0 + self.take_frac));
            ctx.buy(order)?;
        }
        Ok(())
    }
}

/// Synthetic daily bars: a deterministic random walk with a slow sine-shaped trend, so there
/// are rallies to catch and drops to stop out of.
fn synthetic_bars(n: usize) -> Bars {
    let mut state: u64 = 42;
    let mut noise = || {
        // xorshift64: deterministic, good enough for example data.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    let day = 86_400_000_000_000i64;
    let (mut ts, mut open, mut high, mut low, mut close) = (vec![], vec![], vec![], vec![], vec![]);
    let mut price = 100.0f64;
    for i in 0..n {
        let drift = 0.002 * (i as f64 / 60.0).sin();
        let o = price;
        let c = price * (1.0 + drift + 0.02 * noise());
        ts.push(i as i64 * day);
        open.push(o);
        close.push(c);
        high.push(o.max(c) * (1.0 + 0.01 * noise().abs()));
        low.push(o.min(c) * (1.0 - 0.01 * noise().abs()));
        price = c;
    }
    Bars::new(ts, open, high, low, close, vec![1_000.0; n]).expect("synthetic bars are valid")
}

fn main() -> Result<(), EngineError> {
    let bars = synthetic_bars(1_000);
    let mut strategy = Momentum {
        lookback: 10,
        trend: 50,
        threshold: 0.02,
        stop_frac: 0.03,
        take_frac: 0.06,
        trend_sma: None,
    };
    let config = BacktestConfig { commission: 0.001, ..BacktestConfig::default() };
    let mut curve = EquityCurve::default();
    let result = bt_engine::run(&bars, &mut strategy, &config, &IndicatorCache::new(), &mut curve)?;

    let wins = result.trades.iter().filter(|t| t.pnl > 0.0).count();
    let stopped =
        result.trades.iter().filter(|t| t.sl.is_some_and(|sl| t.exit_price <= sl)).count();
    println!("bars:          {}", result.n_bars);
    println!("trades closed: {} ({wins} winners, {stopped} stopped out)", result.trades.len());
    println!("trades open:   {}", result.open_trades.len());
    println!("final equity:  {:.2}", result.final_equity);
    Ok(())
}
