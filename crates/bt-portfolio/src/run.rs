//! The portfolio (instruments on one timeline) and the run loop.

use bt_domain::{BacktestConfig, Bars, EquityObserver, Trade};
use bt_engine::EngineError;

use crate::{
    broker::{Broker, Fill, InstrumentCosts},
    error::PortfolioError,
    strategy::{PortfolioCtx, PortfolioStrategy},
};

/// Named instruments and their timeline (the union of their timestamps), built once per data
/// set and shared by every simulation over it.
#[derive(Debug, Clone)]
pub struct Portfolio {
    names: Vec<String>,
    bars: Vec<Bars>,
    timeline: Vec<i64>,
}

impl Portfolio {
    /// Instruments in the order given (the order of columns, call sequences and reports).
    pub fn new(instruments: Vec<(String, Bars)>) -> Result<Portfolio, PortfolioError> {
        if instruments.is_empty() {
            return Err(PortfolioError::NoInstruments);
        }
        let (names, bars): (Vec<String>, Vec<Bars>) = instruments.into_iter().unzip();
        // k-way merge of sorted, strictly increasing timestamps.
        let mut timeline = Vec::with_capacity(bars.iter().map(Bars::len).max().unwrap_or(0));
        let mut cursors = vec![0usize; bars.len()];
        loop {
            let mut next: Option<i64> = None;
            for (b, &c) in bars.iter().zip(&cursors) {
                if let Some(&ts) = b.timestamps().get(c) {
                    next = Some(next.map_or(ts, |n| n.min(ts)));
                }
            }
            let Some(ts) = next else { break };
            timeline.push(ts);
            for (b, c) in bars.iter().zip(cursors.iter_mut()) {
                if b.timestamps().get(*c) == Some(&ts) {
                    *c += 1;
                }
            }
        }
        Ok(Portfolio { names, bars, timeline })
    }

    /// Number of instruments.
    pub fn len(&self) -> usize {
        self.bars.len()
    }

    /// Always false (a portfolio has at least one instrument).
    pub fn is_empty(&self) -> bool {
        self.bars.is_empty()
    }

    /// Instrument names.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The name of instrument `k`.
    pub fn name(&self, k: usize) -> &str {
        &self.names[k]
    }

    /// The bars of instrument `k`.
    pub fn bars(&self, k: usize) -> &Bars {
        &self.bars[k]
    }

    /// The timeline: every instrument's timestamps, merged.
    pub fn timeline(&self) -> &[i64] {
        &self.timeline
    }

    /// The equal-weight basket as bars on the timeline (open = high = low = close): 1/N of the
    /// value in each instrument at the first timeline bar, held. An instrument's price before
    /// its first bar is its first close, after it its last close. The statistics' Buy & Hold
    /// and Beta are measured against it.
    pub fn basket(&self) -> Result<Bars, PortfolioError> {
        let n = self.bars.len() as f64;
        let mut index = Vec::with_capacity(self.timeline.len());
        let mut cursors = vec![0usize; self.bars.len()];
        for &ts in &self.timeline {
            let mut v = 0.0;
            for (b, c) in self.bars.iter().zip(cursors.iter_mut()) {
                let t = b.timestamps();
                while *c + 1 < t.len() && t[*c + 1] <= ts {
                    *c += 1;
                }
                v += b.close()[*c] / b.close()[0];
            }
            index.push(v / n);
        }
        let volume = vec![0.0; index.len()];
        Bars::new(self.timeline.clone(), index.clone(), index.clone(), index.clone(), index, volume)
            .map_err(|e| PortfolioError::Config(format!("the equal-weight basket: {e}")))
    }

    /// The index of instrument `k`'s last bar at or before each timeline bar (None before its
    /// first), for callers that map per-instrument series onto the timeline.
    pub fn cursor_at(&self, k: usize, step: usize) -> Option<usize> {
        let ts = self.timeline[step];
        let t = self.bars[k].timestamps();
        t.partition_point(|&x| x <= ts).checked_sub(1)
    }
}

/// Per-instrument figures of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct InstrumentSummary {
    /// Instrument name.
    pub name: String,
    /// Signed units held at the end.
    pub final_position: f64,
    /// Share of the traded timeline bars (from the first `next` on) that closed with a position.
    pub exposure: f64,
    /// Traded value (sum of |units x price| of every fill) over the run's mean equity.
    pub turnover: f64,
    /// Commissions paid.
    pub fees: f64,
    /// Fills.
    pub fills: u64,
    /// Profit of the instrument (its fills' cash flows plus its position at the last close)
    /// over the initial cash: the contributions add up to the total return.
    pub contribution: f64,
}

/// What a portfolio run produced (the equity curve went to the observer).
#[derive(Debug, Clone, PartialEq)]
pub struct PortfolioResult {
    /// Timeline bars.
    pub n_bars: usize,
    /// The strategy's warm-up: `next` first ran at `warmup + 1`.
    pub warmup: usize,
    /// Equity at the end.
    pub final_equity: f64,
    /// Cash not absorbed by positions at the end.
    pub final_cash: f64,
    /// The bar the account ran out of money, if it did.
    pub bust_bar: Option<usize>,
    /// Entries cancelled for lack of margin.
    pub cancelled_orders: u64,
    /// Per instrument, in the portfolio's order.
    pub instruments: Vec<InstrumentSummary>,
    /// Every fill, when asked for ([`RunOptions::record_fills`]).
    pub fills: Vec<Fill>,
    /// Closed lots as trades (backtesting.py's trade records; `tag` is the instrument index,
    /// bars are timeline bars), in the order they closed.
    pub trades: Vec<Trade>,
    /// Lots still open at the end, marked at the last closes (tag: the instrument index).
    pub open_trades: Vec<Trade>,
    /// Timeline bars `next` ran on.
    pub bar_steps: usize,
    /// With [`RunOptions::record_weights`]: each bar's weights, bar-major (`n_bars` rows of one
    /// value per instrument): the position's value at the close over the equity (0 while flat
    /// or before the start, negative for a short).
    pub weights: Vec<f64>,
}

/// Options of [`run`].
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Per-instrument costs (default: every instrument with the configuration's).
    pub costs: Option<Vec<InstrumentCosts>>,
    /// Keep every fill in the result.
    pub record_fills: bool,
    /// Keep every bar's weights in the result ([`PortfolioResult::weights`]).
    pub record_weights: bool,
}

/// Runs `strategy` over `portfolio` on one cash account, streaming the equity (one value per
/// timeline bar) to `observer`.
pub fn run<O: EquityObserver + ?Sized>(
    portfolio: &Portfolio,
    strategy: &mut dyn PortfolioStrategy,
    config: &BacktestConfig,
    options: &RunOptions,
    observer: &mut O,
) -> Result<PortfolioResult, PortfolioError> {
    config.validate().map_err(|e| PortfolioError::Config(e.to_string()))?;
    for (set, what) in [
        (config.hedging, "hedging"),
        (config.exclusive_orders, "exclusive_orders"),
        (config.finalize_trades, "finalize_trades"),
        (config.trailing_atr.is_some(), "trailing_atr"),
        (config.trailing_pct.is_some(), "trailing_pct"),
    ] {
        if set {
            return Err(PortfolioError::Unsupported(what));
        }
    }
    let costs = match &options.costs {
        Some(c) if c.len() != portfolio.len() => {
            return Err(PortfolioError::CostsMismatch {
                costs: c.len(),
                instruments: portfolio.len(),
            });
        }
        Some(c) => c.clone(),
        None => vec![InstrumentCosts::from_config(config); portfolio.len()],
    };
    let warmup = strategy.init(portfolio)?;
    let timeline = portfolio.timeline();
    let n = timeline.len();
    let start = (warmup + 1).min(n);
    let mut broker =
        Broker::new(&portfolio.bars, &portfolio.timeline, &costs, config, options.record_fills);
    for (step, &ts) in timeline.iter().enumerate().take(start) {
        broker.advance(step, ts);
    }
    observer.on_flat(0, start, config.cash);
    let m = portfolio.len();
    let mut weights = Vec::new();
    if options.record_weights {
        weights.reserve(n * m);
        weights.resize(start * m, 0.0);
    }
    let mut bust_bar = None;
    let mut final_equity = config.cash;
    let mut equity_sum = 0.0;
    let mut bar_steps = 0;
    for (i, &ts) in timeline.iter().enumerate().skip(start) {
        broker.advance(i, ts);
        broker.process();
        let equity = broker.equity();
        if equity <= 0.0 {
            broker.bust();
            bust_bar = Some(i);
            observer.on_flat(i, n - i, 0.0);
            final_equity = 0.0;
            break;
        }
        if !equity.is_finite() {
            return Err(EngineError::Overflow {
                bar: i,
                equity,
                cash: config.cash,
                margin: config.margin,
            }
            .into());
        }
        final_equity = equity;
        equity_sum += equity;
        if options.record_weights {
            weights.extend((0..m).map(|k| broker.position_value(k) / equity));
        }
        observer.on_equity(i, equity);
        broker.count_held();
        bar_steps += 1;
        strategy.next(&mut PortfolioCtx { broker: &mut broker, portfolio })?;
    }
    if options.record_weights {
        weights.resize(n * m, 0.0);
    }
    let traded_bars = bust_bar.unwrap_or(n).saturating_sub(start);
    let mean_equity = if traded_bars > 0 { equity_sum / traded_bars as f64 } else { config.cash };
    let instruments = broker
        .books
        .iter()
        .enumerate()
        .map(|(k, b)| InstrumentSummary {
            name: portfolio.name(k).to_owned(),
            final_position: b.position,
            exposure: if traded_bars > 0 { b.bars_held as f64 / traded_bars as f64 } else { 0.0 },
            turnover: b.traded / mean_equity,
            fees: b.fees,
            fills: b.fills,
            contribution: (b.flow + broker.position_value(k)) / config.cash,
        })
        .collect();
    Ok(PortfolioResult {
        n_bars: n,
        warmup,
        final_equity,
        final_cash: broker.free_cash,
        bust_bar,
        cancelled_orders: broker.cancelled,
        instruments,
        fills: broker.fills.take().unwrap_or_default(),
        trades: std::mem::take(&mut broker.closed),
        weights,
        open_trades: broker.open_trade_records(),
        bar_steps,
    })
}
