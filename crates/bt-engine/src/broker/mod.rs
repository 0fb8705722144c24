//! backtesting.py 0.6.6's `_Broker`, operation for operation.
//!
//! The Python code is the specification; comments name the Python they mirror where the order
//! of operations or an oddity of Python matters for bit-exact parity.

use bt_domain::{BacktestConfig, Bars, Trade};

use crate::{
    error::EngineError,
    order::{Order, Role},
};

mod fill;

/// An open trade as the broker keeps it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct OpenTrade {
    pub id: u64,
    /// Signed whole units.
    pub size: f64,
    pub entry_price: f64,
    pub entry_bar: usize,
    pub sl_order: Option<u64>,
    pub tp_order: Option<u64>,
    /// Price of the current SL order (kept for the trade record).
    pub sl: Option<f64>,
    /// Price of the current TP order.
    pub tp: Option<f64>,
    pub tag: Option<u32>,
}

impl OpenTrade {
    pub fn is_long(&self) -> bool {
        self.size > 0.0
    }
}

#[derive(Debug)]
pub(crate) struct Broker<'a> {
    ts: &'a [i64],
    open: &'a [f64],
    high: &'a [f64],
    low: &'a [f64],
    close: &'a [f64],
    commission_fixed: f64,
    commission_rate: f64,
    spread: f64,
    leverage: f64,
    trade_on_close: bool,
    hedging: bool,
    exclusive_orders: bool,
    pub cash: f64,
    /// Current bar index.
    pub i: usize,
    pub orders: Vec<Order>,
    pub trades: Vec<OpenTrade>,
    pub closed: Vec<Trade>,
    next_id: u64,
    /// Reused buffers: no allocation per bar.
    order_snapshot: Vec<u64>,
    trade_snapshot: Vec<u64>,
    /// `sum(int(t.size) for t in trades)`, kept up to date on every trade change.
    position_size: f64,
    /// `sum(t.size * t.entry_price for t in trades)`, summed in list order like Python.
    position_cost: f64,
    /// Orders the broker cancelled for lack of margin.
    pub cancelled_orders: u64,
    /// Slippage as a fraction of price and as a fixed amount per unit.
    slippage: f64,
    slippage_fixed: f64,
    /// Whether fills slip at all (with 0 they are exactly backtesting.py's).
    slips: bool,
    /// A fill that could not be made (a slipped sell price at or below zero).
    pub failed: Option<EngineError>,
}

/// CPython's `float.__floordiv__` (`Objects/floatobject.c`, `_float_div_mod`).
pub fn py_floordiv(a: f64, b: f64) -> f64 {
    let m = a % b; // fmod
    let mut div = (a - m) / b;
    if m != 0.0 && ((b < 0.0) != (m < 0.0)) {
        div -= 1.0;
    }
    if div != 0.0 {
        let mut f = div.floor();
        if div - f > 0.5 {
            f += 1.0;
        }
        f
    } else {
        0.0f64.copysign(a / b)
    }
}

/// The size `_process_orders` fills for an order of `size`: a fraction of the available margin
/// (`-1 < size < 1`) becomes the whole units it buys at `adjusted_plus_commission` each
/// (`int(margin_available * leverage * abs(size) // adjusted_price_plus_commission)`, signed;
/// 0: not even one unit); a size in units stays as it is.
pub fn fill_units(
    size: f64,
    margin_available: f64,
    leverage: f64,
    adjusted_plus_commission: f64,
) -> f64 {
    if -1.0 < size && size < 1.0 {
        let units = py_floordiv(margin_available * leverage * size.abs(), adjusted_plus_commission);
        units.trunc().copysign(size)
    } else {
        size
    }
}

/// `Strategy.buy/sell`'s `assert 0 < size < 1 or round(size) == size >= 1`, on the unsigned
/// size the strategy gave (a negative size is refused, not turned around), and finite (Python
/// raises OverflowError on an infinite size).
pub fn check_order_size(bar: usize, size: f64) -> Result<(), EngineError> {
    let fraction = size > 0.0 && size < 1.0;
    let units = size.is_finite() && size >= 1.0 && size.round_ties_even() == size;
    if fraction || units { Ok(()) } else { Err(EngineError::InvalidSize { bar, size }) }
}

/// Python's `min(a, b)`: `a` unless `b < a`.
fn py_min(a: f64, b: f64) -> f64 {
    if b < a { b } else { a }
}

/// Python's `max(a, b)`: `a` unless `b > a`.
fn py_max(a: f64, b: f64) -> f64 {
    if b > a { b } else { a }
}

impl<'a> Broker<'a> {
    pub fn new(bars: &'a Bars, config: &BacktestConfig) -> Broker<'a> {
        Broker {
            ts: bars.timestamps(),
            open: bars.open(),
            high: bars.high(),
            low: bars.low(),
            close: bars.close(),
            commission_fixed: config.commission_fixed,
            commission_rate: config.commission,
            spread: config.spread,
            leverage: 1.0 / config.margin,
            trade_on_close: config.trade_on_close,
            hedging: config.hedging,
            exclusive_orders: config.exclusive_orders,
            cash: config.cash,
            i: 0,
            orders: Vec::new(),
            trades: Vec::new(),
            closed: Vec::new(),
            next_id: 0,
            order_snapshot: Vec::new(),
            trade_snapshot: Vec::new(),
            position_size: 0.0,
            position_cost: 0.0,
            cancelled_orders: 0,
            slippage: config.slippage,
            slippage_fixed: config.slippage_fixed,
            slips: config.slippage != 0.0 || config.slippage_fixed != 0.0,
            failed: None,
        }
    }

    /// `price` moved against an order by the slippage: a buy pays more, a sell gets less; a
    /// limit order (limit and stop-limit entries, take-profits) never fills beyond its limit.
    fn slipped(&mut self, price: f64, buy: bool, limit: Option<f64>) -> f64 {
        let p = if buy {
            price * (1.0 + self.slippage) + self.slippage_fixed
        } else {
            price * (1.0 - self.slippage) - self.slippage_fixed
        };
        let p = match limit {
            Some(l) if buy && p > l => l,
            Some(l) if !buy && p < l => l,
            _ => p,
        };
        if p.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) && self.failed.is_none() {
            self.failed = Some(EngineError::Slippage {
                bar: self.i,
                price,
                slipped: p,
                fixed: self.slippage_fixed,
            });
        }
        p
    }

    fn new_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// `_commission_func`: `fixed + abs(size) * price * rate`.
    #[inline]
    fn commission(&self, size: f64, price: f64) -> f64 {
        self.commission_fixed + size.abs() * price * self.commission_rate
    }

    #[inline]
    fn last_price(&self) -> f64 {
        self.close[self.i]
    }

    /// Signed position size in units.
    #[inline]
    pub fn position_size(&self) -> f64 {
        self.position_size
    }

    /// `_position_unrealized_pl`.
    #[inline]
    pub fn unrealized_pl(&self) -> f64 {
        self.last_price() * self.position_size - self.position_cost
    }

    /// `_position_initial_value`.
    pub fn position_initial_value(&self) -> f64 {
        let mut sum = 0.0;
        for t in &self.trades {
            sum += t.size.abs() * t.entry_price;
        }
        sum
    }

    /// `equity`: cash plus open trades marked at the current close.
    #[inline]
    pub fn equity(&self) -> f64 {
        self.cash + self.unrealized_pl()
    }

    /// `margin_available`: equity less the margin open trades use, floored at 0.
    fn margin_available(&self) -> f64 {
        let price = self.last_price();
        let mut used = 0.0;
        for t in &self.trades {
            used += t.size.abs() * price / self.leverage;
        }
        let free = self.equity() - used;
        if free > 0.0 { free } else { 0.0 }
    }

    fn refresh_position(&mut self) {
        let mut size = 0.0;
        let mut cost = 0.0;
        for t in &self.trades {
            size += t.size;
            cost += t.size * t.entry_price;
        }
        self.position_size = size;
        self.position_cost = cost;
    }

    fn order_index(&self, id: u64) -> Option<usize> {
        self.orders.iter().position(|o| o.id == id)
    }

    fn trade_index(&self, id: u64) -> Option<usize> {
        self.trades.iter().position(|t| t.id == id)
    }

    fn remove_order(&mut self, id: u64) {
        if let Some(k) = self.order_index(id) {
            self.orders.remove(k);
        }
    }

    /// `_Broker.new_order` for a stand-alone order. `size` is signed and its magnitude was
    /// checked by [`check_order_size`].
    pub fn place_entry(
        &mut self,
        size: f64,
        limit: Option<f64>,
        stop: Option<f64>,
        sl: Option<f64>,
        tp: Option<f64>,
        tag: Option<u32>,
    ) -> Result<(), EngineError> {
        let bar = self.i;
        for (what, price) in [("limit", limit), ("stop", stop), ("sl", sl), ("tp", tp)] {
            if let Some(p) = price
                && !(p.is_finite() && p > 0.0)
            {
                return Err(EngineError::InvalidPrice { bar, what, price: p });
            }
        }
        let adjusted = self.last_price() * (1.0 + self.spread.copysign(size));
        let reference = limit.or(stop).unwrap_or(adjusted);
        if size > 0.0 {
            if !(sl.unwrap_or(f64::NEG_INFINITY) < reference
                && reference < tp.unwrap_or(f64::INFINITY))
            {
                return Err(EngineError::InvalidBracket {
                    bar,
                    side: "long",
                    requirement: "SL < LIMIT < TP",
                    sl,
                    price: reference,
                    tp,
                });
            }
        } else if !(tp.unwrap_or(f64::NEG_INFINITY) < reference
            && reference < sl.unwrap_or(f64::INFINITY))
        {
            return Err(EngineError::InvalidBracket {
                bar,
                side: "short",
                requirement: "TP < LIMIT < SL",
                sl,
                price: reference,
                tp,
            });
        }
        if self.exclusive_orders {
            // `for o in self.orders: if not o.is_contingent: o.cancel()` removes from the list it
            // iterates, so Python skips the order after each removed one. Mirror that exactly.
            let mut k = 0;
            while k < self.orders.len() {
                if !self.orders[k].is_contingent() {
                    self.cancel_order_at(k);
                }
                k += 1;
            }
            for t in 0..self.trades.len() {
                self.close_trade_order(t, 1.0);
            }
        }
        let id = self.new_id();
        self.orders.push(Order { id, size, limit, stop, sl, tp, tag, role: Role::Entry });
        Ok(())
    }

    /// `Order.cancel()`.
    pub fn cancel_order_at(&mut self, k: usize) {
        let order = self.orders.remove(k);
        match order.role {
            Role::StopLoss(t) => {
                if let Some(t) = self.trade_index(t) {
                    self.trades[t].sl_order = None;
                    self.trades[t].sl = None;
                }
            }
            Role::TakeProfit(t) => {
                if let Some(t) = self.trade_index(t) {
                    self.trades[t].tp_order = None;
                    self.trades[t].tp = None;
                }
            }
            Role::Entry | Role::Close(_) => {}
        }
    }

    /// `Trade.close(portion)`: queue a close order at the front of the queue.
    pub fn close_trade_order(&mut self, t: usize, portion: f64) {
        let trade = self.trades[t];
        // `copysign(max(1, int(round(abs(size) * portion))), -size)`; Python rounds half to even.
        let units = (trade.size.abs() * portion).round_ties_even().max(1.0);
        let size = units.copysign(-trade.size);
        let id = self.new_id();
        self.orders.insert(
            0,
            Order {
                id,
                size,
                limit: None,
                stop: None,
                sl: None,
                tp: None,
                tag: trade.tag,
                role: Role::Close(trade.id),
            },
        );
    }

    /// `Trade.sl = price` / `Trade.tp = price` (`None` cancels).
    pub fn set_contingent(&mut self, t: usize, is_sl: bool, price: Option<f64>) {
        let trade = self.trades[t];
        let existing = if is_sl { trade.sl_order } else { trade.tp_order };
        if let Some(id) = existing
            && let Some(k) = self.order_index(id)
        {
            self.cancel_order_at(k);
        }
        let Some(price) = price else { return };
        let id = self.new_id();
        let (stop, limit, role) = if is_sl {
            (Some(price), None, Role::StopLoss(trade.id))
        } else {
            (None, Some(price), Role::TakeProfit(trade.id))
        };
        let order =
            Order { id, size: -trade.size, limit, stop, sl: None, tp: None, tag: trade.tag, role };
        // "Ensure SL orders are processed first": contingent stop orders go to the front.
        if is_sl {
            self.orders.insert(0, order);
            self.trades[t].sl_order = Some(id);
            self.trades[t].sl = Some(price);
        } else {
            self.orders.push(order);
            self.trades[t].tp_order = Some(id);
            self.trades[t].tp = Some(price);
        }
    }

    /// `trade.sl = price` for the trailing stop: re-creates the SL order at the front of the
    /// queue, as Python does. When the trade is the only one and its SL order is already first,
    /// re-creating it would give the same queue: its price is updated in place instead (the
    /// trailing stop runs on every bar, so this is the common case).
    #[inline]
    pub fn trail_stop(&mut self, t: usize, price: f64) {
        if self.trades.len() == 1
            && let Some(id) = self.trades[0].sl_order
            && let Some(first) = self.orders.first_mut()
            && first.id == id
        {
            first.stop = Some(price);
            self.trades[0].sl = Some(price);
            return;
        }
        self.set_contingent(t, true, Some(price));
    }

    /// `_Broker.next()` up to the out-of-money check. Returns the bar's equity, or `None` when
    /// the account is out of money (all trades were then closed as backtesting.py does).
    #[inline]
    pub fn next(&mut self, i: usize) -> Option<f64> {
        self.i = i;
        if !self.orders.is_empty() && !self.only_untouched_stops() {
            self.process_orders();
        }
        let equity = self.equity();
        if equity <= 0.0 {
            // `for trade in self.trades: self._close_trade(trade, ...)` removes from the list it
            // iterates: Python closes every other trade. Mirror it.
            let price = self.last_price();
            let mut k = 0;
            while k < self.trades.len() {
                self.close_trade(k, price, i);
                k += 1;
            }
            self.cash = 0.0;
            return None;
        }
        Some(equity)
    }

    /// Trades still open, marked at the current close, as trade records.
    pub fn open_trade_records(&self) -> Vec<Trade> {
        let price = self.last_price();
        self.trades
            .iter()
            .map(|t| {
                let commission = self.commission(t.size, t.entry_price);
                Trade {
                    size: t.size,
                    entry_bar: t.entry_bar,
                    exit_bar: None,
                    entry_price: t.entry_price,
                    exit_price: price,
                    sl: t.sl,
                    tp: t.tp,
                    pnl: t.size * (price - t.entry_price) - commission,
                    commission,
                    return_frac: 1f64.copysign(t.size) * (price / t.entry_price - 1.0)
                        - commission / (t.size.abs() * t.entry_price),
                    entry_time: self.ts[t.entry_bar],
                    exit_time: None,
                    tag: t.tag,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floordiv_matches_cpython() {
        // Values checked with CPython 3.11: `a // b`.
        assert_eq!(py_floordiv(7.0, 2.0), 3.0);
        assert_eq!(py_floordiv(-7.0, 2.0), -4.0);
        assert_eq!(py_floordiv(7.0, -2.0), -4.0);
        assert_eq!(py_floordiv(0.0, 5.0), 0.0);
        assert_eq!(py_floordiv(9999.999999999998, 100.2), 99.0);
        assert_eq!(py_floordiv(1.0, 0.1), 9.0); // CPython: 1.0 // 0.1 == 9.0
    }
}
