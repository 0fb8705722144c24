/// Receives the equity curve as the engine produces it, one value per bar, in bar order.
///
/// The engine calls [`EquityObserver::on_equity`] exactly once for every bar `0..n`, including
/// the warm-up bars (back-filled with the starting cash, as backtesting.py does) and the bars
/// after the account went bust (0). Statistics accumulate from this stream, so a sweep never has
/// to keep a curve; a recorded curve is just another observer ([`EquityCurve`]).
pub trait EquityObserver {
    /// Equity at the close of bar `bar_idx`.
    fn on_equity(&mut self, bar_idx: usize, equity: f64);
}

/// An observer that keeps the whole curve.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EquityCurve(pub Vec<f64>);

impl EquityObserver for EquityCurve {
    #[inline]
    fn on_equity(&mut self, _bar_idx: usize, equity: f64) {
        self.0.push(equity);
    }
}

impl EquityObserver for () {
    #[inline]
    fn on_equity(&mut self, _bar_idx: usize, _equity: f64) {}
}

impl<A: EquityObserver, B: EquityObserver> EquityObserver for (A, B) {
    #[inline]
    fn on_equity(&mut self, bar_idx: usize, equity: f64) {
        self.0.on_equity(bar_idx, equity);
        self.1.on_equity(bar_idx, equity);
    }
}

impl<T: EquityObserver + ?Sized> EquityObserver for &mut T {
    #[inline]
    fn on_equity(&mut self, bar_idx: usize, equity: f64) {
        (**self).on_equity(bar_idx, equity);
    }
}
