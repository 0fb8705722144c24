//! The portfolio broker: one cash account, one book of lots per instrument.
//!
//! Two order kinds, each with the rule of its reference implementation:
//! - entries and closes (`buy`/`sell`/`close_position`) follow backtesting.py's `_Broker`
//!   (bt-engine's broker): fraction-of-margin or whole-unit sizes, netting FIFO against
//!   opposite lots at the unadjusted price, spread and commission on the adjusted price, an
//!   order the margin cannot cover cancelled;
//! - target-percent orders follow vectorbt 1.2 (`crate::vbt`): sized on the group value at the
//!   fill prices computed once per bar, executed in vectorbt's `call_seq='auto'` order (largest
//!   sell first, largest buy last), a buy the cash cannot cover shrunk to the cash left.
//!
//! The account is kept as backtesting.py keeps it (cash = initial cash + realised profit -
//! commissions; equity = cash + the open lots marked at the close), so that one instrument
//! traded like `sma_cross` gives the single-instrument engine's numbers bit for bit. Next to it
//! runs vectorbt's cash (what the positions have not absorbed), which target-percent orders are
//! sized and limited by: both are the same quantity up to rounding.

use bt_domain::{BacktestConfig, Bars, Trade};
use bt_engine::fill_units;

/// Trading costs and size rules of one instrument.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InstrumentCosts {
    /// Commission rate on traded value.
    pub commission: f64,
    /// Fixed commission per fill.
    pub commission_fixed: f64,
    /// Spread as a fraction of price, paid in full on every entry and target-percent fill
    /// (backtesting.py's convention).
    pub spread: f64,
    /// Slippage as a fraction of price.
    pub slippage: f64,
    /// Slippage per unit.
    pub slippage_fixed: f64,
    /// Size step of target-percent orders (vectorbt's `size_granularity`): `Some(1.0)` whole
    /// units (the default), `None` continuous sizes.
    pub granularity: Option<f64>,
}

impl InstrumentCosts {
    /// The costs a single-instrument configuration sets.
    pub fn from_config(config: &BacktestConfig) -> InstrumentCosts {
        InstrumentCosts {
            commission: config.commission,
            commission_fixed: config.commission_fixed,
            spread: config.spread,
            slippage: config.slippage,
            slippage_fixed: config.slippage_fixed,
            granularity: Some(config.fractional_unit.unwrap_or(1.0)),
        }
    }

    /// `_commission_func`: `fixed + abs(size) * price * rate`.
    #[inline]
    pub(crate) fn commission(&self, size: f64, price: f64) -> f64 {
        self.commission_fixed + size.abs() * price * self.commission
    }

    /// A fill price moved against the order by the slippage.
    #[inline]
    pub(crate) fn slipped(&self, price: f64, buy: bool) -> f64 {
        if self.slippage == 0.0 && self.slippage_fixed == 0.0 {
            price
        } else if buy {
            price * (1.0 + self.slippage) + self.slippage_fixed
        } else {
            price * (1.0 - self.slippage) - self.slippage_fixed
        }
    }
}

/// A fill, for reports and tests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fill {
    /// Timeline bar of the fill (with trade_on_close: the bar whose close it filled at).
    pub bar: usize,
    /// Instrument index.
    pub instrument: usize,
    /// Signed units (> 0 bought).
    pub size: f64,
    /// Fill price (after spread and slippage).
    pub price: f64,
    /// Commission paid.
    pub fees: f64,
}

/// A pending order of the backtesting.py kind.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Pending {
    /// Close every open lot (`position.close()`).
    Close,
    /// A signed entry: a fraction of margin in (-1, 1) or whole units.
    Entry(f64),
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Lot {
    pub size: f64,
    pub entry: f64,
    /// Timeline bar of the entry.
    pub bar: usize,
}

/// One instrument's book and per-instrument totals.
#[derive(Debug)]
pub(crate) struct Book {
    pub lots: Vec<Lot>,
    /// Signed units held.
    pub position: f64,
    /// `sum(lot.size * lot.entry)` in lot order.
    cost: f64,
    pub pending: Vec<Pending>,
    /// A target weight to reach at the next fill.
    pub target: Option<f64>,
    pub costs: InstrumentCosts,
    /// Index of the instrument's last bar at or before the current timeline bar.
    pub cursor: Option<usize>,
    /// Whether the instrument has a bar at the current timeline bar.
    pub has_bar: bool,
    /// vectorbt's last valuation price: the last fill-price basis (open, or the previous close
    /// with trade_on_close).
    pub val_price: f64,
    /// Cash flow of the instrument's fills (`-size * price - fees`).
    pub flow: f64,
    /// Traded value (`|size| * price`).
    pub traded: f64,
    /// Fees paid.
    pub fees: f64,
    /// Timeline bars (from the start) closing with a position.
    pub bars_held: usize,
    /// Fills.
    pub fills: u64,
}

/// The broker of one portfolio run.
#[derive(Debug)]
pub(crate) struct Broker<'a> {
    pub bars: &'a [Bars],
    timeline: &'a [i64],
    pub books: Vec<Book>,
    /// backtesting.py's cash: initial cash + realised profit - commissions.
    pub realised_cash: f64,
    /// vectorbt's cash: what the positions have not absorbed.
    pub free_cash: f64,
    leverage: f64,
    trade_on_close: bool,
    /// Current timeline bar.
    pub step: usize,
    /// The bar fills of this step are booked at: the step, or with trade_on_close the bar
    /// before (the orders fill at its close).
    pub fill_bar: usize,
    pub cancelled: u64,
    pub fills: Option<Vec<Fill>>,
    /// Closed lots as trades (tag: the instrument index).
    pub closed: Vec<Trade>,
    /// Scratch for the call sequence (no allocation per bar).
    pub seq_values: Vec<f64>,
    pub seq: Vec<usize>,
    pub scratch_lots: Vec<Lot>,
}

impl<'a> Broker<'a> {
    pub fn new(
        bars: &'a [Bars],
        timeline: &'a [i64],
        costs: &[InstrumentCosts],
        config: &BacktestConfig,
        record_fills: bool,
    ) -> Broker<'a> {
        let books = costs
            .iter()
            .map(|&costs| Book {
                lots: Vec::new(),
                position: 0.0,
                cost: 0.0,
                pending: Vec::new(),
                target: None,
                costs,
                cursor: None,
                has_bar: false,
                val_price: f64::NAN,
                flow: 0.0,
                traded: 0.0,
                fees: 0.0,
                bars_held: 0,
                fills: 0,
            })
            .collect();
        Broker {
            bars,
            timeline,
            books,
            realised_cash: config.cash,
            free_cash: config.cash,
            leverage: 1.0 / config.margin,
            trade_on_close: config.trade_on_close,
            step: 0,
            fill_bar: 0,
            cancelled: 0,
            fills: record_fills.then(Vec::new),
            closed: Vec::new(),
            seq_values: Vec::with_capacity(bars.len()),
            seq: Vec::with_capacity(bars.len()),
            scratch_lots: Vec::new(),
        }
    }

    /// The last close of instrument `k` (NaN before its first bar).
    #[inline]
    pub fn last_close(&self, k: usize) -> f64 {
        match self.books[k].cursor {
            Some(j) => self.bars[k].close()[j],
            None => f64::NAN,
        }
    }

    /// Equity: cash plus every open lot marked at its instrument's last close.
    #[inline]
    pub fn equity(&self) -> f64 {
        let mut equity = self.realised_cash;
        for (k, b) in self.books.iter().enumerate() {
            if !b.lots.is_empty() {
                equity += self.last_close(k) * b.position - b.cost;
            }
        }
        equity
    }

    /// Value of instrument `k`'s position at its last close.
    pub fn position_value(&self, k: usize) -> f64 {
        let b = &self.books[k];
        if b.position == 0.0 { 0.0 } else { b.position * self.last_close(k) }
    }

    /// `margin_available`, over every instrument.
    fn margin_available(&self) -> f64 {
        let mut used = 0.0;
        for (k, b) in self.books.iter().enumerate() {
            if b.lots.is_empty() {
                continue;
            }
            let price = self.last_close(k);
            for lot in &b.lots {
                used += lot.size.abs() * price / self.leverage;
            }
        }
        let free = self.equity() - used;
        if free > 0.0 { free } else { 0.0 }
    }

    pub(crate) fn refresh(&mut self, k: usize) {
        let b = &mut self.books[k];
        let mut size = 0.0;
        let mut cost = 0.0;
        for lot in &b.lots {
            size += lot.size;
            cost += lot.size * lot.entry;
        }
        b.position = size;
        b.cost = cost;
    }

    pub(crate) fn record(&mut self, k: usize, size: f64, price: f64, fees: f64) {
        let b = &mut self.books[k];
        b.flow += -size * price - fees;
        b.traded += size.abs() * price;
        b.fees += fees;
        b.fills += 1;
        if let Some(fills) = &mut self.fills {
            fills.push(Fill { bar: self.fill_bar, instrument: k, size, price, fees });
        }
    }

    /// Moves every instrument's cursor to timeline bar `step` at timestamp `ts`.
    pub fn advance(&mut self, step: usize, ts: i64) {
        self.step = step;
        self.fill_bar = if self.trade_on_close { step.saturating_sub(1) } else { step };
        let trade_on_close = self.trade_on_close;
        for (k, b) in self.books.iter_mut().enumerate() {
            let bars = &self.bars[k];
            let next = b.cursor.map_or(0, |j| j + 1);
            b.has_bar = next < bars.len() && bars.timestamps()[next] == ts;
            if b.has_bar {
                b.cursor = Some(next);
                b.val_price = if trade_on_close {
                    if next > 0 { bars.close()[next - 1] } else { f64::NAN }
                } else {
                    bars.open()[next]
                };
            }
        }
    }

    /// The market fill price of instrument `k` at this bar (before spread and slippage) and
    /// whether it exists (trade_on_close needs a previous bar).
    pub(crate) fn market_price(&self, k: usize) -> Option<f64> {
        let j = self.books[k].cursor?;
        if self.trade_on_close {
            (j > 0).then(|| self.bars[k].close()[j - 1])
        } else {
            Some(self.bars[k].open()[j])
        }
    }

    /// Processes the orders of this bar: closes, then sell entries, then the target-percent
    /// rebalance (its sells before its buys), then buy entries. Instruments without a bar keep
    /// their orders pending.
    pub fn process(&mut self) {
        // 1. closes free cash first.
        for k in 0..self.books.len() {
            if !self.books[k].has_bar || self.books[k].pending.is_empty() {
                continue;
            }
            let Some(price) = self.market_price(k) else { continue };
            while let Some(pos) = self.books[k].pending.iter().position(|p| *p == Pending::Close) {
                self.books[k].pending.remove(pos);
                self.close_all(k, price);
            }
        }
        // 2. sell entries, 3. the rebalance, 4. buy entries.
        self.entries(true);
        if self.books.iter().any(|b| b.target.is_some() && b.has_bar) {
            self.rebalance();
        }
        self.entries(false);
    }

    /// The pending sell (or buy) entries, in instrument order and queue order.
    fn entries(&mut self, sells: bool) {
        for k in 0..self.books.len() {
            if !self.books[k].has_bar || self.books[k].pending.is_empty() {
                continue;
            }
            let Some(price) = self.market_price(k) else { continue };
            let mut q = 0;
            while q < self.books[k].pending.len() {
                match self.books[k].pending[q] {
                    Pending::Entry(size) if (size < 0.0) == sells => {
                        self.books[k].pending.remove(q);
                        self.entry(k, size, price);
                    }
                    _ => q += 1,
                }
            }
        }
    }

    /// A `Trade.close()` order for every lot, as backtesting.py fills them: each lot closed at
    /// the (slipped) market price with its own exit commission.
    fn close_all(&mut self, k: usize, price: f64) {
        while let Some(&lot) = self.books[k].lots.first() {
            let price = self.books[k].costs.slipped(price, lot.size < 0.0);
            self.books[k].lots.remove(0);
            self.refresh(k);
            self.close_lot(k, lot, price);
        }
    }

    /// `_close_trade` for a lot already removed from the book.
    fn close_lot(&mut self, k: usize, lot: Lot, price: f64) {
        let exit_commission = self.books[k].costs.commission(lot.size, price);
        let gross = lot.size * (price - lot.entry);
        self.realised_cash += gross - exit_commission;
        self.free_cash += lot.size * price - exit_commission;
        self.record(k, -lot.size, price, exit_commission);
        self.trade(k, lot, price, gross, exit_commission);
    }

    /// The trade record of a closed lot (backtesting.py's `_close_trade`).
    pub(crate) fn trade(
        &mut self,
        k: usize,
        lot: Lot,
        price: f64,
        gross: f64,
        exit_commission: f64,
    ) {
        let commission = exit_commission + self.books[k].costs.commission(lot.size, lot.entry);
        self.closed.push(Trade {
            size: lot.size,
            entry_bar: lot.bar,
            exit_bar: Some(self.fill_bar),
            entry_price: lot.entry,
            exit_price: price,
            sl: None,
            tp: None,
            pnl: gross - commission,
            commission,
            return_frac: 1f64.copysign(lot.size) * (price / lot.entry - 1.0)
                - commission / (lot.size.abs() * lot.entry),
            entry_time: self.timeline[lot.bar],
            exit_time: Some(self.timeline[self.fill_bar]),
            tag: Some(k as u32),
        });
    }

    /// `_reduce_trade`: close `size` units (opposite sign) of lot `t`.
    fn reduce_lot(&mut self, k: usize, t: usize, price: f64, size: f64) {
        let lot = self.books[k].lots[t];
        let left = lot.size + size;
        if left == 0.0 {
            self.books[k].lots.remove(t);
            self.refresh(k);
            self.close_lot(k, lot, price);
            return;
        }
        self.books[k].lots[t].size = left;
        self.refresh(k);
        self.close_lot(k, Lot { size: -size, ..lot }, price);
    }

    /// backtesting.py's stand-alone order: size, net, check the margin, open.
    fn entry(&mut self, k: usize, size: f64, price: f64) {
        let long = size > 0.0;
        let costs = self.books[k].costs;
        let price = costs.slipped(price, long);
        let adjusted = price * (1.0 + costs.spread.copysign(size));
        let adjusted_plus_commission = adjusted + costs.commission(size, price) / size.abs();
        let size =
            fill_units(size, self.margin_available(), self.leverage, adjusted_plus_commission);
        if size == 0.0 {
            self.cancelled += 1;
            return;
        }
        let mut need = size.trunc();
        // Net FIFO against opposite lots at the unadjusted price.
        let mut t = 0;
        while t < self.books[k].lots.len() && need != 0.0 {
            let lot = self.books[k].lots[t];
            if (lot.size > 0.0) == long {
                t += 1;
                continue;
            }
            if need.abs() >= lot.size.abs() {
                self.books[k].lots.remove(t);
                self.refresh(k);
                self.close_lot(k, lot, price);
                need += lot.size;
            } else {
                self.reduce_lot(k, t, price, need);
                need = 0.0;
            }
        }
        if need.abs() * adjusted_plus_commission > self.margin_available() * self.leverage {
            self.cancelled += 1;
            return;
        }
        if need != 0.0 {
            self.books[k].lots.push(Lot { size: need, entry: adjusted, bar: self.fill_bar });
            self.refresh(k);
            let commission = costs.commission(need, adjusted);
            self.realised_cash -= commission;
            self.free_cash -= need * adjusted + commission;
            self.record(k, need, adjusted, commission);
        }
    }

    /// Out of money: every lot closed at its last close, no cash left.
    pub fn bust(&mut self) {
        for k in 0..self.books.len() {
            let price = self.last_close(k);
            while let Some(&lot) = self.books[k].lots.first() {
                self.books[k].lots.remove(0);
                self.refresh(k);
                self.close_lot(k, lot, price);
            }
            self.books[k].pending.clear();
            self.books[k].target = None;
        }
        self.realised_cash = 0.0;
        self.free_cash = 0.0;
    }

    /// Lots still open, marked at their instrument's last close, as trade records (with the
    /// entry commission only).
    pub fn open_trade_records(&self) -> Vec<Trade> {
        let mut out = Vec::new();
        for (k, b) in self.books.iter().enumerate() {
            let price = self.last_close(k);
            for lot in &b.lots {
                let commission = b.costs.commission(lot.size, lot.entry);
                out.push(Trade {
                    size: lot.size,
                    entry_bar: lot.bar,
                    exit_bar: None,
                    entry_price: lot.entry,
                    exit_price: price,
                    sl: None,
                    tp: None,
                    pnl: lot.size * (price - lot.entry) - commission,
                    commission,
                    return_frac: 1f64.copysign(lot.size) * (price / lot.entry - 1.0)
                        - commission / (lot.size.abs() * lot.entry),
                    entry_time: self.timeline[lot.bar],
                    exit_time: None,
                    tag: Some(k as u32),
                });
            }
        }
        out
    }

    /// Counts the bars each instrument closes with a position.
    pub fn count_held(&mut self) {
        for b in &mut self.books {
            if b.position != 0.0 {
                b.bars_held += 1;
            }
        }
    }
}
