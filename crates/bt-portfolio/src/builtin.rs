//! Built-in portfolio strategies: equal weights, momentum rotation, inverse volatility.
//!
//! Each rebalances on a schedule ([`Schedule`]): on the timeline bars that are multiples of
//! `every`, or with `every = 0` on the last bar of each calendar month. A rebalance sets a
//! target weight for every instrument (`order_target_percent`, vectorbt's rule); instruments
//! without a bar at the fill keep their target pending to their next bar.

use crate::{PortfolioCtx, PortfolioError, PortfolioStrategy, run::Portfolio};

/// When a strategy rebalances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    /// On timeline bars that are multiples of n (n >= 1).
    Every(usize),
    /// On the last bar of each calendar month (UTC) of the timeline.
    MonthEnd,
}

impl Schedule {
    /// `every` as the strategies take it: 0 means month end.
    pub fn from_every(every: usize) -> Schedule {
        if every == 0 { Schedule::MonthEnd } else { Schedule::Every(every) }
    }

    /// Whether the current bar is a rebalancing bar.
    pub fn due(self, ctx: &PortfolioCtx<'_, '_>) -> bool {
        match self {
            Schedule::Every(n) => ctx.bar().is_multiple_of(n),
            Schedule::MonthEnd => ctx.is_month_end(),
        }
    }
}

/// Equal weights (1/N of the value in each instrument), rebalanced on a schedule.
#[derive(Debug, Clone)]
pub struct EqualWeight {
    schedule: Schedule,
}

impl EqualWeight {
    /// Rebalances every `every` bars (0: at each month end).
    pub fn new(every: usize) -> EqualWeight {
        EqualWeight { schedule: Schedule::from_every(every) }
    }
}

impl PortfolioStrategy for EqualWeight {
    fn init(&mut self, _: &Portfolio) -> Result<usize, PortfolioError> {
        Ok(0)
    }

    fn next(&mut self, ctx: &mut PortfolioCtx<'_, '_>) -> Result<(), PortfolioError> {
        if self.schedule.due(ctx) {
            let n = ctx.n_instruments();
            let w = 1.0 / n as f64;
            for k in 0..n {
                ctx.order_target_percent(k, w)?;
            }
        }
        Ok(())
    }
}

/// Momentum rotation: on each rebalance, hold the `top` instruments with the highest
/// `lookback`-bar return (close over the close `lookback` bars before, minus 1), each at
/// weight 1/top; the others at 0. Ties keep the instruments' order; instruments with less
/// than `lookback + 1` bars of history are not candidates.
#[derive(Debug, Clone)]
pub struct Momentum {
    lookback: usize,
    top: usize,
    schedule: Schedule,
    scratch: Vec<(f64, usize)>,
}

impl Momentum {
    /// Top `top` by `lookback`-bar return, rebalanced every `every` bars (0: month end).
    pub fn new(lookback: usize, top: usize, every: usize) -> Result<Momentum, PortfolioError> {
        if lookback == 0 || top == 0 {
            return Err(PortfolioError::Param(format!(
                "momentum: lookback ({lookback}) and top ({top}) must be at least 1"
            )));
        }
        Ok(Momentum { lookback, top, schedule: Schedule::from_every(every), scratch: Vec::new() })
    }
}

impl PortfolioStrategy for Momentum {
    fn init(&mut self, _: &Portfolio) -> Result<usize, PortfolioError> {
        Ok(self.lookback)
    }

    fn next(&mut self, ctx: &mut PortfolioCtx<'_, '_>) -> Result<(), PortfolioError> {
        if !self.schedule.due(ctx) {
            return Ok(());
        }
        self.scratch.clear();
        for k in 0..ctx.n_instruments() {
            let c = ctx.close(k);
            if c.len() > self.lookback {
                let r = c[c.len() - 1] / c[c.len() - 1 - self.lookback] - 1.0;
                if r.is_finite() {
                    self.scratch.push((r, k));
                }
            }
        }
        // Highest return first; equal returns keep instrument order (stable sort).
        self.scratch.sort_by(|a, b| b.0.total_cmp(&a.0));
        let w = 1.0 / self.top as f64;
        for k in 0..ctx.n_instruments() {
            let chosen = self.scratch.iter().take(self.top).any(|&(_, j)| j == k);
            ctx.order_target_percent(k, if chosen { w } else { 0.0 })?;
        }
        Ok(())
    }
}

/// Inverse-volatility weights: each instrument's weight is proportional to the inverse of the
/// standard deviation (ddof 1) of its last `window` bar-to-bar close returns; weights add up to
/// 1. Instruments without `window + 1` bars or with zero volatility get weight 0.
#[derive(Debug, Clone)]
pub struct InverseVol {
    window: usize,
    schedule: Schedule,
    scratch: Vec<f64>,
}

impl InverseVol {
    /// Volatility over `window` returns (>= 2), rebalanced every `every` bars (0: month end).
    pub fn new(window: usize, every: usize) -> Result<InverseVol, PortfolioError> {
        if window < 2 {
            return Err(PortfolioError::Param(format!(
                "inverse_vol: window ({window}) must be at least 2 returns"
            )));
        }
        Ok(InverseVol { window, schedule: Schedule::from_every(every), scratch: Vec::new() })
    }
}

/// Sample standard deviation (ddof 1) of the last `window` close-to-close returns.
fn volatility(close: &[f64], window: usize) -> Option<f64> {
    if close.len() <= window {
        return None;
    }
    let c = &close[close.len() - window - 1..];
    let mut mean = 0.0;
    for j in 1..c.len() {
        mean += c[j] / c[j - 1] - 1.0;
    }
    mean /= window as f64;
    let mut ss = 0.0;
    for j in 1..c.len() {
        let d = c[j] / c[j - 1] - 1.0 - mean;
        ss += d * d;
    }
    let sd = (ss / (window - 1) as f64).sqrt();
    (sd.is_finite() && sd > 0.0).then_some(sd)
}

impl PortfolioStrategy for InverseVol {
    fn init(&mut self, _: &Portfolio) -> Result<usize, PortfolioError> {
        Ok(self.window)
    }

    fn next(&mut self, ctx: &mut PortfolioCtx<'_, '_>) -> Result<(), PortfolioError> {
        if !self.schedule.due(ctx) {
            return Ok(());
        }
        self.scratch.clear();
        let mut total = 0.0;
        for k in 0..ctx.n_instruments() {
            let inv = volatility(ctx.close(k), self.window).map_or(0.0, |v| 1.0 / v);
            total += inv;
            self.scratch.push(inv);
        }
        if total <= 0.0 {
            return Ok(());
        }
        for k in 0..ctx.n_instruments() {
            ctx.order_target_percent(k, self.scratch[k] / total)?;
        }
        Ok(())
    }
}
