//! The [`PortfolioStrategy`] trait and what it sees.

use bt_domain::{Bars, time};

use crate::{
    broker::{Broker, Pending},
    error::PortfolioError,
    run::Portfolio,
};

/// A strategy over several instruments sharing one cash account.
///
/// `init` sees every bar of every instrument (for vectorised indicators) and returns the
/// warm-up: `next` first runs at timeline bar `warmup + 1`, as in the single-instrument engine.
/// `next` runs once per timeline bar (the union of the instruments' timestamps) and sees each
/// instrument's bars up to and including the current timestamp.
pub trait PortfolioStrategy: Send {
    /// Prepares the strategy; returns the warm-up (the last timeline bar before the first `next`).
    fn init(&mut self, portfolio: &Portfolio) -> Result<usize, PortfolioError>;
    /// Decides the orders of one bar.
    fn next(&mut self, ctx: &mut PortfolioCtx<'_, '_>) -> Result<(), PortfolioError>;
}

/// What [`PortfolioStrategy::next`] sees and how it places orders.
///
/// Orders decided at bar t fill at the instrument's next bar's open (with `trade_on_close`:
/// at the close of the bar they were decided on), as in the single-instrument engine.
pub struct PortfolioCtx<'b, 'a> {
    pub(crate) broker: &'b mut Broker<'a>,
    pub(crate) portfolio: &'a Portfolio,
}

impl<'a> PortfolioCtx<'_, 'a> {
    /// The current timeline bar.
    pub fn bar(&self) -> usize {
        self.broker.step
    }

    /// The current timestamp (ns since the epoch, UTC).
    pub fn timestamp(&self) -> i64 {
        self.portfolio.timeline()[self.broker.step]
    }

    /// Number of instruments.
    pub fn n_instruments(&self) -> usize {
        self.broker.books.len()
    }

    /// The name of instrument `k`.
    pub fn name(&self, k: usize) -> &'a str {
        self.portfolio.name(k)
    }

    fn upto(&self, k: usize) -> usize {
        self.broker.books[k].cursor.map_or(0, |j| j + 1)
    }

    /// Instrument `k`'s bars up to now (its last bar at or before the current timestamp).
    fn bars(&self, k: usize) -> &'a Bars {
        self.portfolio.bars(k)
    }

    /// Closes of instrument `k` up to now (empty before its first bar).
    pub fn close(&self, k: usize) -> &'a [f64] {
        &self.bars(k).close()[..self.upto(k)]
    }

    /// Opens of instrument `k` up to now.
    pub fn open(&self, k: usize) -> &'a [f64] {
        &self.bars(k).open()[..self.upto(k)]
    }

    /// Highs of instrument `k` up to now.
    pub fn high(&self, k: usize) -> &'a [f64] {
        &self.bars(k).high()[..self.upto(k)]
    }

    /// Lows of instrument `k` up to now.
    pub fn low(&self, k: usize) -> &'a [f64] {
        &self.bars(k).low()[..self.upto(k)]
    }

    /// Timestamps of instrument `k`'s bars up to now.
    pub fn timestamps(&self, k: usize) -> &'a [i64] {
        &self.bars(k).timestamps()[..self.upto(k)]
    }

    /// Whether instrument `k` has a bar at the current timestamp (else it shows its last one).
    pub fn has_bar(&self, k: usize) -> bool {
        self.broker.books[k].has_bar
    }

    /// Whether the current bar is the last of its calendar month (UTC) in the timeline: the next
    /// timeline bar is in another month. False on the last bar. (A calendar fact, no prices.)
    pub fn is_month_end(&self) -> bool {
        let t = self.portfolio.timeline();
        let i = self.broker.step;
        i + 1 < t.len() && month(t[i]) != month(t[i + 1])
    }

    /// Signed units of instrument `k` held.
    pub fn position(&self, k: usize) -> f64 {
        self.broker.books[k].position
    }

    /// Equity at the current bar's closes.
    pub fn equity(&self) -> f64 {
        self.broker.equity()
    }

    /// Cash not absorbed by positions.
    pub fn cash(&self) -> f64 {
        self.broker.free_cash
    }

    fn check(&self, k: usize) -> Result<(), PortfolioError> {
        let n = self.broker.books.len();
        if k < n {
            Ok(())
        } else {
            Err(PortfolioError::NoSuchInstrument { bar: self.broker.step, instrument: k, n })
        }
    }

    /// A market buy of instrument `k`: `size` a fraction in (0, 1) of the margin available at
    /// fill time, or whole units (backtesting.py's `buy`; cancelled if margin cannot cover it).
    pub fn buy(&mut self, k: usize, size: f64) -> Result<(), PortfolioError> {
        self.check(k)?;
        bt_engine::check_order_size(self.broker.step, size)?;
        self.broker.books[k].pending.push(Pending::Entry(size));
        Ok(())
    }

    /// A market sell (short entry, or netting against a long) of instrument `k`; sizes as
    /// [`PortfolioCtx::buy`].
    pub fn sell(&mut self, k: usize, size: f64) -> Result<(), PortfolioError> {
        self.check(k)?;
        bt_engine::check_order_size(self.broker.step, size)?;
        self.broker.books[k].pending.push(Pending::Entry(-size));
        Ok(())
    }

    /// Closes instrument `k`'s position at its next fill (`position.close()`): closes fill
    /// before everything else of their bar.
    pub fn close_position(&mut self, k: usize) -> Result<(), PortfolioError> {
        self.check(k)?;
        if self.broker.books[k].position != 0.0 {
            self.broker.books[k].pending.insert(0, Pending::Close);
        }
        Ok(())
    }

    /// Brings instrument `k` to weight `w` of the portfolio's value at its next fill (vectorbt's
    /// `size_type='targetpercent'`: sized on the group value at the fill prices, computed once
    /// per bar; a buy that cash cannot cover is shrunk to the cash left, fees included). A new
    /// target replaces a pending one.
    pub fn order_target_percent(&mut self, k: usize, w: f64) -> Result<(), PortfolioError> {
        self.check(k)?;
        if !w.is_finite() {
            return Err(PortfolioError::InvalidWeight {
                bar: self.broker.step,
                instrument: k,
                weight: w,
            });
        }
        self.broker.books[k].target = Some(w);
        Ok(())
    }
}

/// (year, month) of a timestamp.
fn month(ts: i64) -> (i64, u32) {
    let (y, m, _) = time::civil_from_days(time::day_index(ts));
    (y, m)
}
