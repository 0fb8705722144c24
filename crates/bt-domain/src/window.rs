//! Windows of a data set, as walk-forward optimisation uses them (docs/validation.md): the
//! bars a window trains or trades on, and the name its simulations record as their data set.

use std::ops::Range;

/// One walk-forward window over a data set's bars: `train` is the in-sample range, `test` the
/// out-of-sample range that follows it (empty when the training reaches the end of the data).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Window {
    /// Position of the window (0-based).
    pub k: usize,
    /// Bars of the training run.
    pub train: Range<usize>,
    /// Bars the chosen parameters trade on, out of sample.
    pub test: Range<usize>,
}

/// The windows of a data set of `bars` bars: window `k` trains on `[k * test, k * test + train)`
/// (rolling) or `[0, k * test + train)` (anchored) and tests on the `test` bars that follow,
/// until the data ends; the last test range may be shorter, and one of fewer than 2 bars is
/// left out (a range of bars needs two for a return). The first window exists whenever
/// `2 <= train <= bars`; with `train == bars` it has no test range.
pub fn windows(bars: usize, train: usize, test: usize, anchored: bool) -> Vec<Window> {
    let mut out = Vec::new();
    if train < 2 || train > bars || test == 0 {
        return out;
    }
    for k in 0.. {
        let end = k * test + train;
        let start = if anchored { 0 } else { k * test };
        let test_end = (end + test).min(bars);
        if k > 0 && test_end < end + 2 {
            break;
        }
        let test_range = if test_end >= end + 2 { end..test_end } else { end..end };
        out.push(Window { k, train: start..end, test: test_range });
        if test_end == bars {
            break;
        }
    }
    out
}

/// The data-set name of the simulations that run on bars `range` of `dataset`:
/// `dataset[start:end]` (queue data set names contain no `[`).
pub fn window_name(dataset: &str, range: &Range<usize>) -> String {
    format!("{dataset}[{}:{}]", range.start, range.end)
}

/// The base data set and the range of a [`window_name`]; `None` for a plain data set name.
pub fn parse_window_name(name: &str) -> Option<(&str, Range<usize>)> {
    let (base, rest) = name.split_once('[')?;
    let (start, end) = rest.strip_suffix(']')?.split_once(':')?;
    Some((base, start.parse().ok()?..end.parse().ok()?))
}

/// What one walk-forward window gave: the training's choice and the out-of-sample run.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WindowResult {
    /// The window.
    pub window: Window,
    /// Timestamps of the first and last training bar.
    pub train_span: (i64, i64),
    /// Timestamps of the first and last test bar (`None` without test bars).
    pub test_span: Option<(i64, i64)>,
    /// Successful training runs.
    pub trials: u64,
    /// The chosen training run (best by the selection metric), when one succeeded.
    pub chosen_id: Option<String>,
    /// Its parameters (empty without a choice).
    pub params: crate::Params,
    /// The selection metric of the chosen run, in sample.
    pub is_metric: f64,
    /// The same metric of the out-of-sample run.
    pub oos_metric: f64,
    /// Annualised return of the chosen run, in sample (%).
    pub is_return_ann_pct: f64,
    /// Annualised return of the out-of-sample run (%).
    pub oos_return_ann_pct: f64,
    /// `oos_return_ann_pct / is_return_ann_pct`: the walk-forward efficiency of the window.
    pub efficiency: f64,
    /// Equity at the start and at the end of the out-of-sample run.
    pub oos_equity: (f64, f64),
    /// Why the out-of-sample run failed, if it did.
    pub error: Option<String>,
}

/// The outcome of a `walk_forward` entry of a queue (docs/validation.md).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WalkForwardResult {
    /// The entry's id.
    pub id: String,
    /// The strategy.
    pub strategy: String,
    /// The data set.
    pub dataset: String,
    /// The selection metric.
    pub select_by: String,
    /// Training bars, test bars, anchored.
    pub train: usize,
    /// Test bars per window.
    pub test: usize,
    /// Whether the training windows start at bar 0.
    pub anchored: bool,
    /// Every window, in order.
    pub windows: Vec<WindowResult>,
    /// The id of the stitched out-of-sample run.
    pub oos_id: String,
    /// The 32 statistics of the stitched out-of-sample curve (`None` when it failed or
    /// there are no test bars).
    pub oos: Option<crate::Stats>,
    /// Stitched out-of-sample annualised return over the mean in-sample annualised return of
    /// the windows' choices.
    pub efficiency: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ranges(w: &[Window]) -> Vec<(Range<usize>, Range<usize>)> {
        w.iter().map(|w| (w.train.clone(), w.test.clone())).collect()
    }

    #[test]
    fn rolling_and_anchored_windows_run_to_the_end() {
        assert_eq!(
            ranges(&windows(1000, 500, 200, false)),
            [(0..500, 500..700), (200..700, 700..900), (400..900, 900..1000)]
        );
        assert_eq!(
            ranges(&windows(1000, 500, 200, true)),
            [(0..500, 500..700), (0..700, 700..900), (0..900, 900..1000)]
        );
        // A last test range of 1 bar is left out; one of 2 is kept.
        assert_eq!(windows(901, 500, 200, false).len(), 2);
        assert_eq!(ranges(&windows(902, 500, 200, false))[2], (400..900, 900..902));
        // Training on everything: one window, nothing to test.
        assert_eq!(ranges(&windows(500, 500, 100, false)), [(0..500, 500..500)]);
        assert!(windows(499, 500, 100, false).is_empty() && windows(10, 1, 5, false).is_empty());
        assert_eq!(windows(2148, 500, 125, false).len(), 14);
    }

    #[test]
    fn window_names_round_trip() {
        let name = window_name("goog", &(500..625));
        assert_eq!(name, "goog[500:625]");
        assert_eq!(parse_window_name(&name), Some(("goog", 500..625)));
        assert_eq!(parse_window_name("goog"), None);
        assert_eq!(parse_window_name("goog[1:x]"), None);
    }
}
