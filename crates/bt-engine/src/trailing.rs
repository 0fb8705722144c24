//! The trailing stop-loss of backtesting.py's `lib.TrailingStrategy`, as a broker setting that
//! works with any strategy (docs/SEMANTICS.md, "Trailing stops").

use std::sync::Arc;

use bt_domain::{BacktestConfig, Bars, numeric::np_mean};

use crate::{broker::Broker, cache::IndicatorCache, error::EngineError, window::rolling_mean};

/// `TrailingStrategy.set_atr_periods(periods)`: the rolling mean of the true range
/// `max(H - L, |C[i-1] - H|, |C[i-1] - L|)` over `periods` bars (NaN at bar 0, which has no
/// previous close, and skipped by the mean), back-filled from its first value.
pub fn trailing_atr(bars: &Bars, periods: usize) -> Vec<f64> {
    let (high, low, close) = (bars.high(), bars.low(), bars.close());
    let mut tr = Vec::with_capacity(bars.len());
    for i in 0..bars.len() {
        if i == 0 {
            tr.push(f64::NAN);
            continue;
        }
        let prev = close[i - 1];
        let a = high[i] - low[i];
        let b = (prev - high[i]).abs();
        let c = (prev - low[i]).abs();
        tr.push(a.max(b).max(c));
    }
    let mut atr = rolling_mean(&tr, periods);
    // `.bfill()`: NaN values take the next valid one (all stay NaN when none is valid).
    let mut next = f64::NAN;
    for v in atr.iter_mut().rev() {
        if v.is_nan() {
            *v = next;
        } else {
            next = *v;
        }
    }
    atr
}

/// The trailing stop of one run: the ATR it trails with and its distance in ATRs.
#[derive(Debug, Clone)]
pub(crate) struct Trailing {
    atr: Arc<[f64]>,
    n_atr: f64,
}

impl Trailing {
    /// The trailing stop `config` asks for, or `None`. The ATR (and the ATR distance of
    /// `trailing_pct`) is computed once per data set, through `cache`.
    pub(crate) fn new(
        bars: &Bars,
        config: &BacktestConfig,
        cache: &IndicatorCache,
    ) -> Option<Trailing> {
        let periods = config.atr_periods;
        let atr = || {
            cache
                .get_or_compute(&format!("trailing_atr({periods})"), || trailing_atr(bars, periods))
        };
        if let Some(n_atr) = config.trailing_atr {
            return Some(Trailing { atr: atr(), n_atr });
        }
        let pct = config.trailing_pct?;
        let atr = atr();
        // `set_trailing_pct`: n_atr = np.mean(Close * pct / ATR) over the whole data (as in
        // backtesting.py, which computes it in init() before the run: a constant, look-ahead
        // included; see docs/SEMANTICS.md).
        let key = format!("trailing_pct_n_atr({periods},{:016x})", pct.to_bits());
        let n = cache.get_or_compute(&key, || {
            let ratios: Vec<f64> =
                bars.close().iter().zip(atr.iter()).map(|(c, a)| c * pct / a).collect();
            vec![np_mean(&ratios)]
        });
        Some(Trailing { atr, n_atr: n[0] })
    }

    /// `TrailingStrategy.next()` on bar `i`, before the strategy's own `next`: every open trade's
    /// stop becomes `max(SL, C - ATR * n)` (long) or `min(SL, C + ATR * n)` (short), and is
    /// re-set (its order re-created at the front of the queue) even when unchanged.
    pub(crate) fn apply(
        &self,
        broker: &mut Broker<'_>,
        i: usize,
        close: f64,
    ) -> Result<(), EngineError> {
        let distance = self.atr[i] * self.n_atr;
        for t in 0..broker.trades.len() {
            let trade = &broker.trades[t];
            let long = trade.is_long();
            let (current, candidate) = if long {
                (trade.sl.unwrap_or(f64::NEG_INFINITY), close - distance)
            } else {
                (trade.sl.unwrap_or(f64::INFINITY), close + distance)
            };
            // Python's max(a, b) / min(a, b): `a` unless `b` is strictly better (a NaN
            // candidate keeps the current stop).
            let sl = if (long && candidate > current) || (!long && candidate < current) {
                candidate
            } else {
                current
            };
            if !(sl > 0.0 && sl < f64::INFINITY) {
                return Err(EngineError::TrailingStop {
                    bar: i,
                    side: if long { "long" } else { "short" },
                    stop: sl,
                    close,
                    atr: self.atr[i],
                    n_atr: self.n_atr,
                });
            }
            broker.trail_stop(t, sl);
        }
        Ok(())
    }
}
