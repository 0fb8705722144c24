use std::{fmt, sync::Arc};

use crate::error::{BarsError, BarsErrorKind};

/// A column of a [`Bars`] table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Column {
    /// Bar timestamp.
    Timestamp,
    /// Open price.
    Open,
    /// High price.
    High,
    /// Low price.
    Low,
    /// Close price.
    Close,
    /// Traded volume.
    Volume,
}

impl Column {
    /// Lowercase column name.
    pub fn name(self) -> &'static str {
        match self {
            Column::Timestamp => "timestamp",
            Column::Open => "open",
            Column::High => "high",
            Column::Low => "low",
            Column::Close => "close",
            Column::Volume => "volume",
        }
    }
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, PartialEq)]
struct Inner {
    ts: Vec<i64>,
    open: Vec<f64>,
    high: Vec<f64>,
    low: Vec<f64>,
    close: Vec<f64>,
    volume: Vec<f64>,
}

/// Columnar OHLCV bars of one instrument, validated.
///
/// Invariants, checked by [`Bars::new`] (the only constructor):
/// - at least 2 bars, all columns the same length;
/// - timestamps (i64 nanoseconds since the Unix epoch, UTC) strictly increasing;
/// - prices finite and > 0, `high >= max(open, close)`, `low <= min(open, close)`;
/// - volume finite and >= 0.
///
/// Cloning is an `Arc` increment: every simulation of a sweep shares one copy, and a
/// [`Bars::window`] of it shares that copy too.
#[derive(Clone)]
pub struct Bars {
    inner: Arc<Inner>,
    /// The bars of `inner` this value shows: `start..end`.
    start: usize,
    end: usize,
}

impl PartialEq for Bars {
    /// The same bars, wherever they are stored.
    fn eq(&self, other: &Bars) -> bool {
        self.timestamps() == other.timestamps()
            && self.open() == other.open()
            && self.high() == other.high()
            && self.low() == other.low()
            && self.close() == other.close()
            && self.volume() == other.volume()
    }
}

impl fmt::Debug for Bars {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bars")
            .field("len", &self.len())
            .field("first", &crate::time::format_iso(self.first_ts()))
            .field("last", &crate::time::format_iso(self.last_ts()))
            .finish()
    }
}

impl Bars {
    /// Validates the columns and builds the bars.
    ///
    /// Errors name the first offending bar (0-based) and what is wrong with it.
    pub fn new(
        ts: Vec<i64>,
        open: Vec<f64>,
        high: Vec<f64>,
        low: Vec<f64>,
        close: Vec<f64>,
        volume: Vec<f64>,
    ) -> Result<Bars, BarsError> {
        let n = ts.len();
        for (column, len) in [
            (Column::Open, open.len()),
            (Column::High, high.len()),
            (Column::Low, low.len()),
            (Column::Close, close.len()),
            (Column::Volume, volume.len()),
        ] {
            if len != n {
                return Err(BarsError {
                    index: 0,
                    kind: BarsErrorKind::LengthMismatch { column, len, expected: n },
                });
            }
        }
        for i in 0..n {
            validate_bar(i, open[i], high[i], low[i], close[i], volume[i])
                .map_err(|kind| BarsError { index: i, kind })?;
            if i > 0 && ts[i] <= ts[i - 1] {
                return Err(BarsError {
                    index: i,
                    kind: BarsErrorKind::NotIncreasing { previous: ts[i - 1], current: ts[i] },
                });
            }
        }
        if n < 2 {
            return Err(BarsError { index: 0, kind: BarsErrorKind::TooFewBars { len: n } });
        }
        Ok(Bars { inner: Arc::new(Inner { ts, open, high, low, close, volume }), start: 0, end: n })
    }

    /// Bars `range` of these (at least 2), sharing their storage: no copy. `None` when the
    /// range is out of bounds or holds fewer than 2 bars.
    pub fn window(&self, range: std::ops::Range<usize>) -> Option<Bars> {
        (range.end <= self.len() && range.start + 2 <= range.end).then(|| Bars {
            inner: Arc::clone(&self.inner),
            start: self.start + range.start,
            end: self.start + range.end,
        })
    }

    /// Number of bars (always >= 2).
    #[inline]
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// Always false: a `Bars` holds at least two bars.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Timestamps, i64 nanoseconds since the Unix epoch (UTC), strictly increasing.
    #[inline]
    pub fn timestamps(&self) -> &[i64] {
        &self.inner.ts[self.start..self.end]
    }
    /// Open prices.
    #[inline]
    pub fn open(&self) -> &[f64] {
        &self.inner.open[self.start..self.end]
    }
    /// High prices.
    #[inline]
    pub fn high(&self) -> &[f64] {
        &self.inner.high[self.start..self.end]
    }
    /// Low prices.
    #[inline]
    pub fn low(&self) -> &[f64] {
        &self.inner.low[self.start..self.end]
    }
    /// Close prices.
    #[inline]
    pub fn close(&self) -> &[f64] {
        &self.inner.close[self.start..self.end]
    }
    /// Volumes (0 where the source had none).
    #[inline]
    pub fn volume(&self) -> &[f64] {
        &self.inner.volume[self.start..self.end]
    }
    /// One price column by name (`Timestamp` is not a price column and panics).
    pub fn column(&self, column: Column) -> &[f64] {
        match column {
            Column::Open => self.open(),
            Column::High => self.high(),
            Column::Low => self.low(),
            Column::Close => self.close(),
            Column::Volume => self.volume(),
            Column::Timestamp => panic!("timestamps are i64: use Bars::timestamps"),
        }
    }
    /// First timestamp.
    pub fn first_ts(&self) -> i64 {
        self.timestamps()[0]
    }
    /// Last timestamp.
    pub fn last_ts(&self) -> i64 {
        self.timestamps()[self.len() - 1]
    }

    /// The median spacing of the bars (the lower median: a spacing that occurs in the data).
    pub fn median_interval(&self) -> i64 {
        let mut gaps: Vec<i64> = self.timestamps().windows(2).map(|w| w[1] - w[0]).collect();
        let mid = (gaps.len() - 1) / 2;
        *gaps.select_nth_unstable(mid).1
    }

    /// The first largest gap between two bars: `(i, nanos)`, the gap from bar `i` to `i + 1`.
    pub fn largest_gap(&self) -> (usize, i64) {
        self.timestamps()
            .windows(2)
            .map(|w| w[1] - w[0])
            .enumerate()
            .fold((0, i64::MIN), |best, (i, g)| if g > best.1 { (i, g) } else { best })
    }

    /// The lowest low and the highest high.
    pub fn price_range(&self) -> (f64, f64) {
        let low = self.low().iter().copied().fold(f64::INFINITY, f64::min);
        let high = self.high().iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (low, high)
    }
}

fn validate_bar(
    _i: usize,
    open: f64,
    high: f64,
    low: f64,
    close: f64,
    volume: f64,
) -> Result<(), BarsErrorKind> {
    for (column, value) in
        [(Column::Open, open), (Column::High, high), (Column::Low, low), (Column::Close, close)]
    {
        if !value.is_finite() {
            return Err(BarsErrorKind::NotFinite { column, value });
        }
        if value <= 0.0 {
            return Err(BarsErrorKind::NonPositivePrice { column, value });
        }
    }
    if !volume.is_finite() {
        return Err(BarsErrorKind::NotFinite { column: Column::Volume, value: volume });
    }
    if volume < 0.0 {
        return Err(BarsErrorKind::NegativeVolume { value: volume });
    }
    let body_max = open.max(close);
    if high < body_max {
        return Err(BarsErrorKind::HighBelowBody { high, body_max });
    }
    let body_min = open.min(close);
    if low > body_min {
        return Err(BarsErrorKind::LowAboveBody { low, body_min });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    type Columns = (Vec<i64>, Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>);

    fn cols(n: usize) -> Columns {
        let ts = (0..n as i64).map(|i| i * 60_000_000_000).collect();
        (ts, vec![10.0; n], vec![11.0; n], vec![9.0; n], vec![10.5; n], vec![1.0; n])
    }

    #[test]
    fn valid_bars_are_shared_not_copied() {
        let (t, o, h, l, c, v) = cols(3);
        let bars = Bars::new(t, o, h, l, c, v).unwrap();
        let clone = bars.clone();
        assert!(std::ptr::eq(bars.close().as_ptr(), clone.close().as_ptr()));
        assert_eq!(bars.len(), 3);
    }

    #[test]
    fn a_window_shares_the_storage_and_shows_its_bars_only() {
        let (t, o, h, l, mut c, v) = cols(6);
        c.iter_mut().enumerate().for_each(|(i, x)| *x = 9.5 + i as f64 * 0.25);
        let bars = Bars::new(t, o, h, l, c, v).unwrap();
        let w = bars.window(1..5).unwrap();
        assert_eq!((w.len(), w.close()), (4, &bars.close()[1..5]));
        assert_eq!((w.first_ts(), w.last_ts()), (bars.timestamps()[1], bars.timestamps()[4]));
        assert!(std::ptr::eq(w.close().as_ptr(), bars.close()[1..].as_ptr()));
        let ww = w.window(1..3).unwrap();
        assert_eq!(ww.close(), &bars.close()[2..4], "a window of a window");
        assert_eq!(ww, bars.window(2..4).unwrap(), "equal by content");
        assert!(
            bars.window(3..4).is_none() && bars.window(4..7).is_none() && w.window(0..5).is_none()
        );
    }

    #[test]
    fn rejects_each_invalid_kind_with_its_index() {
        let (t, o, mut h, l, c, v) = cols(4);
        h[2] = 10.2;
        let err = Bars::new(t, o, h, l, c, v).unwrap_err();
        assert_eq!(err.index, 2);
        assert!(matches!(err.kind, BarsErrorKind::HighBelowBody { .. }));

        let (mut t, o, h, l, c, v) = cols(4);
        t[3] = t[2];
        let err = Bars::new(t, o, h, l, c, v).unwrap_err();
        assert_eq!(err.index, 3);
        assert!(matches!(err.kind, BarsErrorKind::NotIncreasing { .. }));

        let (t, mut o, h, l, c, v) = cols(4);
        o[1] = f64::NAN;
        let err = Bars::new(t, o, h, l, c, v).unwrap_err();
        assert!(matches!(err.kind, BarsErrorKind::NotFinite { column: Column::Open, .. }));

        let (t, o, h, mut l, c, v) = cols(4);
        l[0] = 0.0;
        let err = Bars::new(t, o, h, l, c, v).unwrap_err();
        assert!(matches!(err.kind, BarsErrorKind::NonPositivePrice { column: Column::Low, .. }));

        let (t, o, h, l, c, v) = cols(1);
        let err = Bars::new(t, o, h, l, c, v).unwrap_err();
        assert_eq!(err.kind, BarsErrorKind::TooFewBars { len: 1 });
    }
}
