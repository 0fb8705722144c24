use crate::interval::Interval;

/// How to generate a synthetic data set: a seeded geometric Brownian motion of `bars` bars.
///
/// The queue format describes it, bt-data generates it (its algorithm is documented there):
/// one type, so the two can never disagree on fields or defaults. `drift` and `volatility` are
/// annualised.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SyntheticSpec {
    /// Number of bars (at least 2).
    pub bars: usize,
    /// Seed of the generator: the same seed gives the same bars.
    pub seed: u64,
    /// Spacing of the bars.
    pub interval: Interval,
    /// Timestamp of the first bar, UTC nanoseconds.
    pub start: i64,
    /// Open of the first bar (> 0).
    pub start_price: f64,
    /// Annualised drift (0.05 for 5% a year).
    pub drift: f64,
    /// Annualised volatility (>= 0, e.g. 0.2).
    pub volatility: f64,
}

impl SyntheticSpec {
    /// Default first timestamp: 2000-01-01T00:00:00 UTC.
    pub const DEFAULT_START: i64 = 946_684_800_000_000_000;
    /// Default first price.
    pub const DEFAULT_START_PRICE: f64 = 100.0;
    /// Default annualised drift.
    pub const DEFAULT_DRIFT: f64 = 0.05;
    /// Default annualised volatility.
    pub const DEFAULT_VOLATILITY: f64 = 0.2;

    /// A spec with the default start, start price, drift and volatility.
    pub fn new(bars: usize, seed: u64, interval: Interval) -> SyntheticSpec {
        SyntheticSpec {
            bars,
            seed,
            interval,
            start: SyntheticSpec::DEFAULT_START,
            start_price: SyntheticSpec::DEFAULT_START_PRICE,
            drift: SyntheticSpec::DEFAULT_DRIFT,
            volatility: SyntheticSpec::DEFAULT_VOLATILITY,
        }
    }
}

impl Default for SyntheticSpec {
    /// 1000 daily bars from 2000-01-01, seed 0, price 100, drift 5 %, volatility 20 %.
    fn default() -> Self {
        SyntheticSpec::new(1000, 0, Interval::DAY)
    }
}
