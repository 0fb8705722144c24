use bt_domain::{BacktestConfig, Bars, EquityObserver, Trade};

use crate::{
    broker::Broker,
    cache::IndicatorCache,
    error::EngineError,
    strategy::{Ctx, Init, Strategy},
    trailing::Trailing,
};

/// What a backtest produced (the equity curve went to the observer).
#[derive(Debug, Clone, PartialEq)]
pub struct BacktestResult {
    /// Closed trades, in the order they closed.
    pub trades: Vec<Trade>,
    /// Trades still open at the end, marked at the last close (with only the entry commission).
    pub open_trades: Vec<Trade>,
    /// backtesting.py's warm-up: the largest first-valid index over all indicators. The
    /// simulation starts at bar `warmup + 1`.
    pub warmup: usize,
    /// Number of bars.
    pub n_bars: usize,
    /// Cash at the end.
    pub final_cash: f64,
    /// Equity at the end (the last point of the curve).
    pub final_equity: f64,
    /// The bar at which the account ran out of money and the simulation stopped, if it did.
    pub bust_bar: Option<usize>,
    /// Orders the broker cancelled for insufficient margin.
    pub cancelled_orders: u64,
    /// Bars the loop stepped through (`next` calls).
    pub bar_steps: usize,
}

impl BacktestResult {
    /// Trades of a run in fractional units, as `FractionalBacktest.run` shows them: sizes times
    /// the unit, prices (entry, exit, SL, TP) divided by it.
    fn rescale(&mut self, unit: f64) {
        for t in self.trades.iter_mut().chain(self.open_trades.iter_mut()) {
            t.size *= unit;
            t.entry_price /= unit;
            t.exit_price /= unit;
            t.sl = t.sl.map(|p| p / unit);
            t.tp = t.tp.map(|p| p / unit);
        }
    }
}

/// Runs one backtest of `strategy` over `bars`, streaming equity (one value per bar, in order)
/// to `observer`.
///
/// `cache` must belong to `bars`' data set (see [`IndicatorCache`]). With
/// `config.fractional_unit`, the run is backtesting.py's `FractionalBacktest`: the strategy,
/// the broker and the statistics see prices in units of the fraction (made once per data set
/// and unit by the cache) and whole numbers of those units; the trades come back in the
/// data's units (sizes times the unit, prices divided by it).
pub fn run<O: EquityObserver + ?Sized>(
    bars: &Bars,
    strategy: &mut dyn Strategy,
    config: &BacktestConfig,
    cache: &IndicatorCache,
    observer: &mut O,
) -> Result<BacktestResult, EngineError> {
    run_from(bars, strategy, config, cache, observer, 0)
}

/// [`run`], trading from bar `first` on: the strategy's `init` sees every bar (its indicators
/// warm up on the history) but its first `next` is at `max(first, warm-up + 1)`, so its first
/// order fills at bar `first + 1` at the earliest; equity before is the cash. A walk-forward's
/// out-of-sample window runs this way over the bars up to its end.
pub fn run_from<O: EquityObserver + ?Sized>(
    bars: &Bars,
    strategy: &mut dyn Strategy,
    config: &BacktestConfig,
    cache: &IndicatorCache,
    observer: &mut O,
    first: usize,
) -> Result<BacktestResult, EngineError> {
    config.validate().map_err(|e| EngineError::Init(e.to_string()))?;
    match config.fractional_unit {
        None => run_units(bars, strategy, config, cache, observer, first),
        Some(unit) => {
            let scaled = cache.scaled(unit, bars).map_err(EngineError::Init)?;
            let mut result =
                run_units(&scaled.bars, strategy, config, &scaled.cache, observer, first)?;
            result.rescale(unit);
            Ok(result)
        }
    }
}

/// [`run`] in whole units of `bars`.
fn run_units<O: EquityObserver + ?Sized>(
    bars: &Bars,
    strategy: &mut dyn Strategy,
    config: &BacktestConfig,
    cache: &IndicatorCache,
    observer: &mut O,
    first: usize,
) -> Result<BacktestResult, EngineError> {
    let mut init = Init { bars, cache, indicators: Vec::new(), warmup: 0 };
    strategy.init(&mut init)?;
    let Init { indicators, warmup, .. } = init;

    let n = bars.len();
    let start = (warmup + 1).max(first);
    let mut broker = Broker::new(bars, config);
    let trailing = Trailing::new(bars, config, cache);
    // Bars before the start are back-filled with the equity at the start, which is the cash: no
    // order can exist before the first `next`.
    observer.on_flat(0, start.min(n), config.cash);
    let mut bust_bar = None;
    let mut final_equity = config.cash;
    let mut bar_steps = 0;
    for i in start..n {
        let next = broker.next(i);
        if let Some(e) = broker.failed.take() {
            return Err(e);
        }
        let Some(equity) = next else {
            bust_bar = Some(i);
            observer.on_flat(i, n - i, 0.0);
            final_equity = 0.0;
            break;
        };
        check_finite(i, equity, config)?;
        final_equity = equity;
        let finalizing_last = config.finalize_trades && i == n - 1;
        if !finalizing_last {
            observer.on_equity(i, equity);
        }
        bar_steps += 1;
        if let Some(trailing) = &trailing {
            trailing.apply(&mut broker, i, bars.close()[i])?;
        }
        strategy.next(&mut Ctx { i, bars, indicators: &indicators, broker: &mut broker })?;
    }
    if bust_bar.is_none() && config.finalize_trades && start < n {
        // backtesting.py queues `trade.close()` for every open trade (in reverse, each at the
        // front) and runs the broker once more on the last bar: the closes fill at its open.
        for t in (0..broker.trades.len()).rev() {
            broker.close_trade_order(t, 1.0);
        }
        let last = broker.next(n - 1);
        if let Some(e) = broker.failed.take() {
            return Err(e);
        }
        final_equity = match last {
            Some(equity) => {
                check_finite(n - 1, equity, config)?;
                equity
            }
            None => {
                bust_bar = Some(n - 1);
                0.0
            }
        };
        observer.on_equity(n - 1, final_equity);
    }
    Ok(BacktestResult {
        open_trades: broker.open_trade_records(),
        trades: std::mem::take(&mut broker.closed),
        warmup,
        n_bars: n,
        final_cash: broker.cash,
        final_equity,
        bust_bar,
        cancelled_orders: broker.cancelled_orders,
        bar_steps,
    })
}

/// Equity that is NaN or infinite would turn every statistic into NaN without a word: stop.
fn check_finite(bar: usize, equity: f64, config: &BacktestConfig) -> Result<(), EngineError> {
    if equity.is_finite() {
        Ok(())
    } else {
        Err(EngineError::Overflow { bar, equity, cash: config.cash, margin: config.margin })
    }
}
