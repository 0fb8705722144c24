use std::sync::Arc;

use bt_domain::Bars;

use crate::{
    broker::{Broker, check_order_size},
    cache::IndicatorCache,
    error::EngineError,
    order::{OrderInfo, OrderSpec, TradeInfo},
};

/// A trading strategy: backtesting.py's `Strategy`, in Rust.
///
/// [`Strategy::init`] runs once and sees the whole history: compute indicators there, vectorized,
/// and register them with [`Init::indicator`]. The backtest starts on the first bar where every
/// registered indicator has a value (backtesting.py's warm-up rule). [`Strategy::next`] runs once
/// per bar after that and sees only data up to and including the current bar.
pub trait Strategy {
    /// Prepares indicators over the whole history.
    fn init(&mut self, init: &mut Init<'_>) -> Result<(), EngineError>;
    /// Decides on the current bar; orders placed here are processed on the next bar.
    fn next(&mut self, ctx: &mut Ctx<'_, '_>) -> Result<(), EngineError>;

    /// The strategy as `Any`, for hosts that carry other kinds of strategies through the same
    /// registry (the facade's portfolio strategies, `bt::portfolio`); `None` for a strategy
    /// the engine runs.
    fn as_any_mut(&mut self) -> Option<&mut dyn std::any::Any> {
        None
    }
}

/// A handle to an indicator registered in [`Init`]; read it in [`Ctx::ind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ind(usize);

/// What [`Strategy::init`] sees: all bars, and a place to register indicators.
#[derive(Debug)]
pub struct Init<'a> {
    pub(crate) bars: &'a Bars,
    pub(crate) cache: &'a IndicatorCache,
    pub(crate) indicators: Vec<Arc<[f64]>>,
    pub(crate) warmup: usize,
}

impl<'a> Init<'a> {
    /// The whole history.
    pub fn bars(&self) -> &'a Bars {
        self.bars
    }

    /// The data set's shared indicator cache.
    pub fn cache(&self) -> &'a IndicatorCache {
        self.cache
    }

    /// Registers an indicator computed once per data set under `key` (which must name the
    /// indicator and all its inputs, e.g. `sma(close,20)`).
    pub fn indicator(
        &mut self,
        key: &str,
        compute: impl FnOnce(&Bars) -> Vec<f64>,
    ) -> Result<Ind, EngineError> {
        let bars = self.bars;
        let values = self.cache.get_or_compute(key, || compute(bars));
        self.add(key, values)
    }

    /// Registers precomputed indicator values (one per bar).
    pub fn add(&mut self, name: &str, values: Arc<[f64]>) -> Result<Ind, EngineError> {
        self.add_checked(name, values).map(|(ind, _)| ind)
    }

    /// [`Init::add`], also saying where the indicator's first value is (`None`: it has none,
    /// every value is NaN), from the same scan.
    pub fn add_checked(
        &mut self,
        name: &str,
        values: Arc<[f64]>,
    ) -> Result<(Ind, Option<usize>), EngineError> {
        if values.len() != self.bars.len() {
            return Err(EngineError::Init(format!(
                "indicator {name} has {} values for {} bars: an indicator needs one value per bar",
                values.len(),
                self.bars.len()
            )));
        }
        // `np.isnan(indicator).argmin()`: first non-NaN index, 0 when all NaN.
        let first = values.iter().position(|v| !v.is_nan());
        self.warmup = self.warmup.max(first.unwrap_or(0));
        self.indicators.push(values);
        Ok((Ind(self.indicators.len() - 1), first))
    }
}

/// What [`Strategy::next`] sees at bar `i`: data up to and including `i`, the account, and the
/// order methods. Every slice ends at the current bar, so the API offers no look-ahead.
#[derive(Debug)]
pub struct Ctx<'b, 'a> {
    pub(crate) i: usize,
    pub(crate) bars: &'a Bars,
    pub(crate) indicators: &'b [Arc<[f64]>],
    pub(crate) broker: &'b mut Broker<'a>,
}

impl<'b, 'a: 'b> Ctx<'b, 'a> {
    /// Index of the current bar.
    #[inline]
    pub fn bar_idx(&self) -> usize {
        self.i
    }
    /// Timestamp (ns, UTC) of the current bar.
    #[inline]
    pub fn time(&self) -> i64 {
        self.bars.timestamps()[self.i]
    }
    /// Timestamps up to the current bar.
    #[inline]
    pub fn timestamps(&self) -> &'a [i64] {
        &self.bars.timestamps()[..=self.i]
    }
    /// Opens up to the current bar.
    #[inline]
    pub fn open(&self) -> &'a [f64] {
        &self.bars.open()[..=self.i]
    }
    /// Highs up to the current bar.
    #[inline]
    pub fn high(&self) -> &'a [f64] {
        &self.bars.high()[..=self.i]
    }
    /// Lows up to the current bar.
    #[inline]
    pub fn low(&self) -> &'a [f64] {
        &self.bars.low()[..=self.i]
    }
    /// Closes up to the current bar.
    #[inline]
    pub fn close(&self) -> &'a [f64] {
        &self.bars.close()[..=self.i]
    }
    /// Volumes up to the current bar.
    #[inline]
    pub fn volume(&self) -> &'a [f64] {
        &self.bars.volume()[..=self.i]
    }
    /// An indicator's values up to the current bar.
    #[inline]
    pub fn ind(&self, ind: Ind) -> &'b [f64] {
        &self.indicators[ind.0][..=self.i]
    }

    /// Account equity: cash plus open trades marked at the current close.
    #[inline]
    pub fn equity(&self) -> f64 {
        self.broker.equity()
    }
    /// Cash.
    #[inline]
    pub fn cash(&self) -> f64 {
        self.broker.cash
    }
    /// Net position in units (negative when short).
    #[inline]
    pub fn position_size(&self) -> f64 {
        self.broker.position_size()
    }
    /// Unrealized profit of the position, in cash.
    #[inline]
    pub fn position_pl(&self) -> f64 {
        self.broker.unrealized_pl()
    }
    /// Unrealized profit of the position, in percent of its entry value.
    pub fn position_pl_pct(&self) -> f64 {
        let invested = self.broker.position_initial_value();
        if invested != 0.0 { self.position_pl() / invested * 100.0 } else { 0.0 }
    }

    /// Places a long order.
    pub fn buy(&mut self, order: OrderSpec) -> Result<(), EngineError> {
        check_order_size(self.i, order.size)?;
        self.broker.place_entry(order.size, order.limit, order.stop, order.sl, order.tp, order.tag)
    }
    /// Places a short order.
    pub fn sell(&mut self, order: OrderSpec) -> Result<(), EngineError> {
        check_order_size(self.i, order.size)?;
        self.broker.place_entry(-order.size, order.limit, order.stop, order.sl, order.tp, order.tag)
    }

    /// `position.close(portion)`: closes `portion` of every open trade at the next price.
    pub fn close_position(&mut self, portion: f64) -> Result<(), EngineError> {
        // Python checks the portion in `Trade.close`: with no open trade, nothing is checked.
        if self.broker.trades.is_empty() {
            return Ok(());
        }
        self.check_portion(portion)?;
        for t in 0..self.broker.trades.len() {
            self.broker.close_trade_order(t, portion);
        }
        Ok(())
    }

    /// Number of open trades.
    #[inline]
    pub fn trade_count(&self) -> usize {
        self.broker.trades.len()
    }
    /// Open trade `k` (in opening order).
    pub fn trade(&self, k: usize) -> Option<TradeInfo> {
        self.broker.trades.get(k).map(|t| TradeInfo {
            size: t.size,
            entry_price: t.entry_price,
            entry_bar: t.entry_bar,
            sl: t.sl,
            tp: t.tp,
            tag: t.tag,
        })
    }
    /// Number of closed trades so far.
    #[inline]
    pub fn closed_trade_count(&self) -> usize {
        self.broker.closed.len()
    }
    /// `trades[k].close(portion)`.
    pub fn close_trade(&mut self, k: usize, portion: f64) -> Result<(), EngineError> {
        self.check_portion(portion)?;
        self.check_trade(k)?;
        self.broker.close_trade_order(k, portion);
        Ok(())
    }
    /// `trades[k].sl = price` (`None` removes the stop-loss).
    pub fn set_trade_sl(&mut self, k: usize, price: Option<f64>) -> Result<(), EngineError> {
        self.set_contingent(k, true, price)
    }
    /// `trades[k].tp = price` (`None` removes the take-profit).
    pub fn set_trade_tp(&mut self, k: usize, price: Option<f64>) -> Result<(), EngineError> {
        self.set_contingent(k, false, price)
    }

    /// Number of pending orders.
    #[inline]
    pub fn order_count(&self) -> usize {
        self.broker.orders.len()
    }
    /// Pending order `k` (in processing order).
    pub fn order(&self, k: usize) -> Option<OrderInfo> {
        self.broker.orders.get(k).map(OrderInfo::from)
    }
    /// `orders[k].cancel()`.
    pub fn cancel_order(&mut self, k: usize) -> Result<(), EngineError> {
        let len = self.broker.orders.len();
        if k >= len {
            return Err(EngineError::NoSuchItem { bar: self.i, what: "order", index: k, len });
        }
        self.broker.cancel_order_at(k);
        Ok(())
    }

    fn set_contingent(
        &mut self,
        k: usize,
        is_sl: bool,
        price: Option<f64>,
    ) -> Result<(), EngineError> {
        self.check_trade(k)?;
        if let Some(p) = price
            && !(p.is_finite() && p > 0.0)
        {
            let what = if is_sl { "sl" } else { "tp" };
            return Err(EngineError::InvalidPrice { bar: self.i, what, price: p });
        }
        self.broker.set_contingent(k, is_sl, price);
        Ok(())
    }

    fn check_trade(&self, k: usize) -> Result<(), EngineError> {
        let len = self.broker.trades.len();
        if k >= len {
            return Err(EngineError::NoSuchItem { bar: self.i, what: "trade", index: k, len });
        }
        Ok(())
    }

    fn check_portion(&self, portion: f64) -> Result<(), EngineError> {
        if portion > 0.0 && portion <= 1.0 {
            Ok(())
        } else {
            Err(EngineError::InvalidPortion { bar: self.i, portion })
        }
    }
}
