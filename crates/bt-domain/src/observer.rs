/// Receives the equity curve as the engine produces it, one value per bar, in bar order.
///
/// The engine calls [`EquityObserver::on_equity`] exactly once for every bar `0..n`, including
/// the warm-up bars (back-filled with the starting cash, as backtesting.py does) and the bars
/// after the account went bust (0). Statistics accumulate from this stream, so a sweep never has
/// to keep a curve; a recorded curve is just another observer ([`EquityCurve`]).
pub trait EquityObserver {
    /// Equity at the close of bar `bar_idx`.
    fn on_equity(&mut self, bar_idx: usize, equity: f64);

    /// The same `equity` at the close of `count` bars from `first` on: the warm-up's cash, or
    /// the 0 after a bust. The same as `count` calls of [`EquityObserver::on_equity`] (and
    /// observers that override it must keep it so, bit for bit); an observer that can take a
    /// flat run in O(1) makes long warm-ups free.
    #[inline]
    fn on_flat(&mut self, first: usize, count: usize, equity: f64) {
        for b in first..first + count {
            self.on_equity(b, equity);
        }
    }
}

/// An observer that keeps the whole curve.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EquityCurve(pub Vec<f64>);

impl EquityObserver for EquityCurve {
    #[inline]
    fn on_equity(&mut self, _bar_idx: usize, equity: f64) {
        self.0.push(equity);
    }

    fn on_flat(&mut self, _first: usize, count: usize, equity: f64) {
        self.0.resize(self.0.len() + count, equity);
    }
}

impl EquityObserver for () {
    #[inline]
    fn on_equity(&mut self, _bar_idx: usize, _equity: f64) {}

    #[inline]
    fn on_flat(&mut self, _first: usize, _count: usize, _equity: f64) {}
}

impl<A: EquityObserver, B: EquityObserver> EquityObserver for (A, B) {
    #[inline]
    fn on_equity(&mut self, bar_idx: usize, equity: f64) {
        self.0.on_equity(bar_idx, equity);
        self.1.on_equity(bar_idx, equity);
    }

    #[inline]
    fn on_flat(&mut self, first: usize, count: usize, equity: f64) {
        self.0.on_flat(first, count, equity);
        self.1.on_flat(first, count, equity);
    }
}

impl<T: EquityObserver + ?Sized> EquityObserver for &mut T {
    #[inline]
    fn on_equity(&mut self, bar_idx: usize, equity: f64) {
        (**self).on_equity(bar_idx, equity);
    }

    #[inline]
    fn on_flat(&mut self, first: usize, count: usize, equity: f64) {
        (**self).on_flat(first, count, equity);
    }
}
