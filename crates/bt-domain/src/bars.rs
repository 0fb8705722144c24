use std::{
    fmt,
    ops::Range,
    sync::{Arc, Mutex, PoisonError},
};

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
/// Invariants, checked by [`Bars::new`] (or [`Bars::new_with_checks`], the same checks shared
/// between threads; there is no other constructor):
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
        Bars::new_with_checks(ts, open, high, low, close, volume, |checks| {
            checks.check(0..checks.len());
        })
    }

    /// Like [`Bars::new`], with the same checks and the same error, but `run` decides how the
    /// checks of the bars are split: it calls [`BarChecks::check`] on ranges of bars, from as
    /// many threads as it likes (this crate starts none).
    ///
    /// Why: checking 1M bars reads 48 MB once, about 3 ms on one core and bound by memory;
    /// a loader that just decoded the columns on two threads halves that by checking on both.
    /// Bars `run` leaves unchecked are checked here afterwards, so `run` cannot weaken the
    /// invariants, only share the work.
    pub fn new_with_checks(
        ts: Vec<i64>,
        open: Vec<f64>,
        high: Vec<f64>,
        low: Vec<f64>,
        close: Vec<f64>,
        volume: Vec<f64>,
        run: impl FnOnce(&BarChecks<'_>),
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
        let inner = Inner { ts, open, high, low, close, volume };
        let checks = BarChecks { inner: &inner, state: Mutex::default() };
        run(&checks);
        checks.finish()?;
        if n < 2 {
            return Err(BarsError { index: 0, kind: BarsErrorKind::TooFewBars { len: n } });
        }
        Ok(Bars { inner: Arc::new(inner), start: 0, end: n })
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

/// The checks of [`Bars::new`] over columns not yet made into [`Bars`], for
/// [`Bars::new_with_checks`]: ranges of bars may be checked on several threads at once.
pub struct BarChecks<'a> {
    inner: &'a Inner,
    state: Mutex<CheckState>,
}

/// What the checks so far found.
#[derive(Default)]
struct CheckState {
    /// Every range checked, whether it passed or not.
    ranges: Vec<Range<usize>>,
    /// The error at the lowest bar index found so far.
    first: Option<BarsError>,
}

impl BarChecks<'_> {
    /// Number of bars to check.
    pub fn len(&self) -> usize {
        self.inner.ts.len()
    }

    /// Whether there are no bars (then [`Bars::new_with_checks`] fails with too few bars).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Checks bars `range` (clipped to the bars) as [`Bars::new`] does, bar by bar in order,
    /// each against its predecessor's timestamp; the range's first error is kept.
    pub fn check(&self, range: Range<usize>) {
        let range = range.start.min(self.len())..range.end.min(self.len());
        let error = check_range(self.inner, range.clone()).err();
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.ranges.push(range);
        if let Some(e) = error
            && state.first.as_ref().is_none_or(|first| e.index < first.index)
        {
            state.first = Some(e);
        }
    }

    /// Checks what no range covered, then returns the error at the lowest index: every bar
    /// before it passed (a range stops at its first error, so the bars it skipped all come
    /// after an error), hence it is the error [`Bars::new`] finds.
    fn finish(&self) -> Result<(), BarsError> {
        let mut ranges =
            std::mem::take(&mut self.state.lock().unwrap_or_else(PoisonError::into_inner).ranges);
        ranges.sort_unstable_by_key(|r| r.start);
        let mut covered = 0;
        for r in ranges {
            if r.start > covered {
                self.check(covered..r.start);
            }
            covered = covered.max(r.end);
        }
        if covered < self.len() {
            self.check(covered..self.len());
        }
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.first.take().map_or(Ok(()), Err)
    }
}

/// The checks of bars `range`, in [`Bars::new`]'s order.
fn check_range(c: &Inner, range: Range<usize>) -> Result<(), BarsError> {
    let (ts, open, high, low, close, volume) =
        (&c.ts, &c.open, &c.high, &c.low, &c.close, &c.volume);
    for i in range {
        validate_bar(i, open[i], high[i], low[i], close[i], volume[i])
            .map_err(|kind| BarsError { index: i, kind })?;
        if i > 0 && ts[i] <= ts[i - 1] {
            return Err(BarsError {
                index: i,
                kind: BarsErrorKind::NotIncreasing { previous: ts[i - 1], current: ts[i] },
            });
        }
    }
    Ok(())
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

    /// However `run` splits the checks (in any order, overlapping, leaving gaps, or not at
    /// all), the result is [`Bars::new`]'s, error included.
    #[test]
    fn split_checks_find_what_new_finds() {
        let splits: [&dyn Fn(&BarChecks<'_>); 6] = [
            &|c| c.check(0..c.len()),
            &|_| {},
            &|c| (0..c.len()).rev().for_each(|i| c.check(i..i + 1)),
            &|c| c.check(2..4),
            &|c| {
                c.check(3..usize::MAX);
                c.check(0..4);
            },
            &|c| {
                c.check(Range { start: 5, end: 1 }); // reversed: empty
                c.check(1..2);
            },
        ];
        let mut cases: Vec<Columns> = vec![cols(6), cols(1)];
        for bad in 0..6 {
            let (mut t, mut o, mut h, l, c, mut v) = cols(6);
            match bad {
                0 => h[4] = 10.2,
                1 => t[3] = t[2],
                2 => o[5] = f64::NAN,
                3 => v[0] = -1.0,
                4 => (h[1], t[4]) = (10.2, t[3]),
                _ => (o[2], o[4]) = (f64::INFINITY, -1.0),
            }
            cases.push((t, o, h, l, c, v));
        }
        for (case, (t, o, h, l, c, v)) in cases.into_iter().enumerate() {
            let expected =
                Bars::new(t.clone(), o.clone(), h.clone(), l.clone(), c.clone(), v.clone());
            for (k, split) in splits.iter().enumerate() {
                let (t, o, h, l, c, v) =
                    (t.clone(), o.clone(), h.clone(), l.clone(), c.clone(), v.clone());
                let got = Bars::new_with_checks(t, o, h, l, c, v, split);
                // Debug output: a NaN in an error is not equal to itself.
                let err = |r: &Result<Bars, BarsError>| format!("{:?}", r.as_ref().err());
                assert_eq!(err(&got), err(&expected), "case {case}, split {k}");
                assert_eq!(got.ok(), expected.as_ref().ok().cloned(), "case {case}, split {k}");
            }
        }
        let (t, o, h, l, c, v) = cols(200_000);
        let threads = Bars::new_with_checks(t, o, h, l, c, v, |c| {
            std::thread::scope(|s| {
                s.spawn(|| c.check(0..c.len() / 2));
                c.check(c.len() / 2..c.len());
            });
        });
        assert_eq!(threads.map(|b| b.len()), Ok(200_000), "checks on two threads");
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
