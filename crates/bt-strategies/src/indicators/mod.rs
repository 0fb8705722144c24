//! Technical indicators over slices, one output value per input value (NaN while warming up).
//!
//! Every indicator reproduces the pandas expression named in its documentation, operation for
//! operation (ports of the loops in `pandas/_libs/window/aggregations.pyx`), so values agree with
//! pandas bit for bit: the parity tests compare every indicator with pandas 3.1.1's output on
//! GOOG and require identical bits. All of them are causal: value `i` depends only on inputs
//! `0..=i`, so a strategy reading them at bar `i` cannot look ahead.
//!
//! Periods must be >= 1 (the functions panic otherwise, like [`sma`]); the strategy registry
//! validates user input before any indicator is computed.

use std::collections::VecDeque;

/// Simple moving average, bit-identical to pandas' `Series.rolling(n).mean()`: the engine's
/// [`bt_engine::window::rolling_mean`] (one home for pandas' rolling mean; NaN inputs are
/// skipped as pandas skips them).
///
/// # Panics
/// If `n == 0`.
pub fn sma(x: &[f64], n: usize) -> Vec<f64> {
    bt_engine::window::rolling_mean(x, n)
}

/// backtesting.py's `crossover(a, b)` at the end of the slices: `a[-2] < b[-2] and a[-1] > b[-1]`,
/// both strict. False with fewer than two values or any NaN.
pub fn crossover(a: &[f64], b: &[f64]) -> bool {
    let (na, nb) = (a.len(), b.len());
    na >= 2 && nb >= 2 && a[na - 2] < b[nb - 2] && a[na - 1] > b[nb - 1]
}

/// `crossover(a, b)` at bar `i` of whole series: `a[i-1] < b[i-1] && a[i] > b[i]`, both strict.
///
/// Same rule as [`crossover`] on slices ending at `i`, for callers that hold whole series. False at
/// `i == 0`, past the end of either series, or with any NaN.
pub fn cross_above_at(a: &[f64], b: &[f64], i: usize) -> bool {
    i >= 1 && i < a.len() && i < b.len() && a[i - 1] < b[i - 1] && a[i] > b[i]
}

/// backtesting.py's `crossover(a, level)` with a constant: `a[-2] < level and a[-1] > level`.
pub fn crossover_level(a: &[f64], level: f64) -> bool {
    let n = a.len();
    n >= 2 && a[n - 2] < level && a[n - 1] > level
}

/// backtesting.py's `crossover(level, a)`: `a` crosses below a constant,
/// `level < a[-2] and level > a[-1]`.
pub fn crossunder_level(a: &[f64], level: f64) -> bool {
    let n = a.len();
    n >= 2 && level < a[n - 2] && level > a[n - 1]
}

/// pandas' `Series.ewm(com=com, adjust=False, ignore_na=False, min_periods=min_periods).mean()`,
/// a port of `ewm` in `pandas/_libs/window/aggregations.pyx`.
///
/// pandas derives `alpha = 1 / (1 + com)` and, for `adjust=False`, updates
/// `weighted = (old_wt * weighted + alpha * cur) / (old_wt + alpha)` with `old_wt = 1 - alpha`
/// (the division by `(1 - alpha) + alpha`, which need not be exactly 1.0 in floating point, is
/// kept for bit parity), skips the update when `cur == weighted`, starts at the first non-NaN
/// input, and lets the old weight decay over NaN inputs. Output is NaN until `min_periods`
/// (at least 1) non-NaN inputs were seen.
fn ewm_mean(x: &[f64], com: f64, min_periods: usize) -> Vec<f64> {
    let min_periods = min_periods.max(1);
    let alpha = 1.0 / (1.0 + com);
    let old_wt_factor = 1.0 - alpha;
    let new_wt = alpha;
    let mut out = Vec::with_capacity(x.len());
    let Some((&first, rest)) = x.split_first() else { return out };
    let mut weighted = first;
    let mut nobs = usize::from(!weighted.is_nan());
    out.push(if nobs >= min_periods { weighted } else { f64::NAN });
    let mut old_wt = 1.0;
    for &cur in rest {
        let is_observation = !cur.is_nan();
        nobs += usize::from(is_observation);
        if !weighted.is_nan() {
            // ignore_na=False: the old weight decays at every step, observed or not.
            old_wt *= old_wt_factor;
            if is_observation {
                // pandas skips equal values "to avoid numerical errors on constant series".
                if weighted != cur {
                    weighted = old_wt * weighted + new_wt * cur;
                    weighted /= old_wt + new_wt;
                }
                old_wt = 1.0;
            }
        } else if is_observation {
            weighted = cur;
        }
        out.push(if nobs >= min_periods { weighted } else { f64::NAN });
    }
    out
}

/// pandas' center of mass for `span`: `com = (span - 1) / 2`.
fn com_from_span(span: usize) -> f64 {
    (span as f64 - 1.0) / 2.0
}

/// pandas' center of mass for `alpha = 1 / n`: `com = (1 - alpha) / alpha`.
fn com_from_inverse_period(n: usize) -> f64 {
    let alpha = 1.0 / n as f64;
    (1.0 - alpha) / alpha
}

/// Exponential moving average: pandas' `x.ewm(span=n, adjust=False, min_periods=n).mean()`.
///
/// `alpha = 2 / (n + 1)` (computed as pandas does, `1 / (1 + (n - 1) / 2)`), `y[0] = x[0]`,
/// `y[t] = ((1 - alpha) * y[t-1] + alpha * x[t]) / ((1 - alpha) + alpha)`, NaN for `i < n - 1`.
///
/// # Panics
/// If `n == 0`.
pub fn ema(x: &[f64], n: usize) -> Vec<f64> {
    assert!(n >= 1, "ema period must be >= 1");
    ewm_mean(x, com_from_span(n), n)
}

/// Wilder's smoothing (RMA): pandas' `x.ewm(alpha=1/n, adjust=False, min_periods=n).mean()`.
///
/// The same recursion as [`ema`] with `alpha = 1 / (1 + (1 - 1/n) / (1/n))`; NaN until `n`
/// non-NaN inputs were seen.
///
/// # Panics
/// If `n == 0`.
pub fn rma(x: &[f64], n: usize) -> Vec<f64> {
    assert!(n >= 1, "rma period must be >= 1");
    ewm_mean(x, com_from_inverse_period(n), n)
}

/// Wilder's relative strength index, as pandas computes it:
///
/// ```text
/// delta = close.diff()                       # NaN at 0
/// gain  = delta.clip(lower=0); loss = -delta.clip(upper=0)
/// g = rma(gain, n); l = rma(loss, n)         # over the diff series, which starts at index 1
/// rsi = 100 - 100 / (1 + g / l), or 100 where l == 0
/// ```
///
/// NaN for `i < n`; every value is in `[0, 100]`.
///
/// # Panics
/// If `n == 0`.
pub fn rsi(close: &[f64], n: usize) -> Vec<f64> {
    assert!(n >= 1, "rsi period must be >= 1");
    let mut gain = Vec::with_capacity(close.len());
    let mut loss = Vec::with_capacity(close.len());
    for i in 0..close.len() {
        let delta = if i == 0 { f64::NAN } else { close[i] - close[i - 1] };
        // `clip` keeps NaN and every value on the allowed side of the bound (-0.0 included).
        gain.push(if delta < 0.0 { 0.0 } else { delta });
        loss.push(-(if delta > 0.0 { 0.0 } else { delta }));
    }
    let avg_gain = rma(&gain, n);
    let avg_loss = rma(&loss, n);
    avg_gain
        .iter()
        .zip(&avg_loss)
        .map(|(&g, &l)| {
            if l.is_nan() {
                f64::NAN
            } else if l == 0.0 {
                100.0
            } else {
                100.0 - 100.0 / (1.0 + g / l)
            }
        })
        .collect()
}

/// Average true range with Wilder's smoothing:
/// `TR[i] = max(H[i] - L[i], |H[i] - C[i-1]|, |L[i] - C[i-1]|)`, `TR[0] = H[0] - L[0]`,
/// `atr = rma(TR, n)` (pandas' `tr.ewm(alpha=1/n, adjust=False, min_periods=n).mean()`).
///
/// NaN for `i < n - 1`. The output has the length of the shortest input.
///
/// # Panics
/// If `n == 0`.
pub fn atr(high: &[f64], low: &[f64], close: &[f64], n: usize) -> Vec<f64> {
    assert!(n >= 1, "atr period must be >= 1");
    let len = high.len().min(low.len()).min(close.len());
    let mut tr = Vec::with_capacity(len);
    for i in 0..len {
        let range = high[i] - low[i];
        if i == 0 {
            tr.push(range);
            continue;
        }
        let prev = close[i - 1];
        // pandas' row-wise `max` skips NaN; all-NaN gives NaN.
        let mut max = f64::NAN;
        for v in [range, (high[i] - prev).abs(), (low[i] - prev).abs()] {
            if !v.is_nan() && (max.is_nan() || v > max) {
                max = v;
            }
        }
        tr.push(max);
    }
    rma(&tr, n)
}

/// Rolling population standard deviation: pandas' `x.rolling(n).std(ddof=0)`.
///
/// A port of pandas 3's `roll_var`: Welford's online mean and sum of squared deviations, with
/// Kahan-compensated mean updates (separate compensation terms for additions and removals),
/// removing `x[i-n]` before adding `x[i]`. When an update loses more than all but ~3
/// significant digits of the sum of squares (`old * 1000 * EPS > new`: catastrophic
/// cancellation, e.g. a window that became constant) the window is recomputed from scratch, which
/// also makes a constant window's variance exactly 0. `std = sqrt(var)`, 0 for a negative
/// rounding residue (pandas' `zsqrt`). NaN for `i < n - 1` and for windows with a NaN.
///
/// # Panics
/// If `n == 0`.
pub fn rolling_std(x: &[f64], n: usize) -> Vec<f64> {
    assert!(n >= 1, "rolling_std period must be >= 1");
    let mut out = vec![f64::NAN; x.len()];
    let mut var = RollingVar::default();
    for i in 0..x.len() {
        let start = (i + 1).saturating_sub(n);
        // pandas recomputes at the first window and whenever windows do not overlap (n == 1).
        let recompute = i == 0 || n == 1;
        if !recompute {
            if i >= n {
                var.remove(x[i - n]);
            }
            var.add(x[i]);
        }
        if recompute || var.unstable {
            var = RollingVar::default();
            for &v in &x[start..=i] {
                var.add(v);
            }
            var.unstable = false;
        }
        let v =
            if var.nobs >= n as f64 && var.nobs > 0.0 { var.ssqdm / var.nobs } else { f64::NAN };
        out[i] = if v < 0.0 { 0.0 } else { v.sqrt() };
    }
    out
}

/// pandas' tolerance for an ill-conditioned update: `EPS * 1e3`.
const INV_COND_TOL: f64 = f64::EPSILON * 1e3;

/// State of pandas' `roll_var` (`pandas/_libs/window/aggregations.pyx`).
#[derive(Debug, Default)]
struct RollingVar {
    nobs: f64,
    mean: f64,
    ssqdm: f64,
    comp_add: f64,
    comp_remove: f64,
    unstable: bool,
}

impl RollingVar {
    fn add(&mut self, val: f64) {
        if val.is_nan() {
            return;
        }
        let prev_m2 = self.ssqdm;
        self.nobs += 1.0;
        let prev_mean = self.mean - self.comp_add;
        let y = val - self.comp_add;
        let t = y - self.mean;
        self.comp_add = t + self.mean - y;
        self.mean += t / self.nobs;
        self.ssqdm += (val - prev_mean) * (val - self.mean);
        if prev_m2 * INV_COND_TOL > self.ssqdm {
            self.unstable = true;
        }
    }

    fn remove(&mut self, val: f64) {
        if val.is_nan() {
            return;
        }
        let prev_m2 = self.ssqdm;
        self.nobs -= 1.0;
        if self.nobs != 0.0 {
            let prev_mean = self.mean - self.comp_remove;
            let y = val - self.comp_remove;
            let t = y - self.mean;
            self.comp_remove = t + self.mean - y;
            self.mean -= t / self.nobs;
            self.ssqdm -= (val - prev_mean) * (val - self.mean);
            if prev_m2 * INV_COND_TOL > self.ssqdm {
                self.unstable = true;
            }
        } else {
            self.mean = 0.0;
            self.ssqdm = 0.0;
            self.unstable = false;
        }
    }
}

/// Bollinger bands `(mid, upper, lower)`: `mid = sma(x, n)` (pandas' rolling mean, bit-exact),
/// `std = rolling_std(x, n)` (population, ddof = 0), `upper = mid + k * std`,
/// `lower = mid - k * std`. NaN for `i < n - 1`.
///
/// # Panics
/// If `n == 0`.
pub fn bollinger(x: &[f64], n: usize, k: f64) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let mid = sma(x, n);
    let std = rolling_std(x, n);
    let upper = mid.iter().zip(&std).map(|(&m, &s)| m + k * s).collect();
    let lower = mid.iter().zip(&std).map(|(&m, &s)| m - k * s).collect();
    (mid, upper, lower)
}

/// Rolling maximum over the last `n` values (the upper Donchian channel when `x` is the highs):
/// pandas' `x.rolling(n).max()`. NaN for `i < n - 1` and for windows with a NaN. O(N) with a
/// monotonic deque.
///
/// # Panics
/// If `n == 0`.
pub fn rolling_max(x: &[f64], n: usize) -> Vec<f64> {
    assert!(n >= 1, "rolling_max period must be >= 1");
    rolling_extreme(x, n, |kept, new| kept <= new)
}

/// Rolling minimum over the last `n` values (the lower Donchian channel when `x` is the lows):
/// pandas' `x.rolling(n).min()`. NaN for `i < n - 1` and for windows with a NaN. O(N) with a
/// monotonic deque.
///
/// # Panics
/// If `n == 0`.
pub fn rolling_min(x: &[f64], n: usize) -> Vec<f64> {
    assert!(n >= 1, "rolling_min period must be >= 1");
    rolling_extreme(x, n, |kept, new| kept >= new)
}

/// Sliding-window extreme; `dominated(kept, new)` says a kept value can never be the extreme
/// again once `new` entered the window.
fn rolling_extreme(x: &[f64], n: usize, dominated: impl Fn(f64, f64) -> bool) -> Vec<f64> {
    let mut out = vec![f64::NAN; x.len()];
    // Indices of candidates, values monotonic from front (the extreme) to back.
    let mut window: VecDeque<usize> = VecDeque::with_capacity(n.min(x.len()) + 1);
    let mut nobs = 0usize;
    for (i, &v) in x.iter().enumerate() {
        if i >= n {
            if !x[i - n].is_nan() {
                nobs -= 1;
            }
            if window.front() == Some(&(i - n)) {
                window.pop_front();
            }
        }
        if !v.is_nan() {
            nobs += 1;
            while window.back().is_some_and(|&b| dominated(x[b], v)) {
                window.pop_back();
            }
            window.push_back(i);
        }
        if nobs >= n
            && let Some(&best) = window.front()
        {
            out[i] = x[best];
        }
    }
    out
}

/// MACD line and signal line `(macd, signal)`, as pandas computes them:
///
/// ```text
/// macd   = x.ewm(span=fast, adjust=False).mean() - x.ewm(span=slow, adjust=False).mean()
/// signal = macd.ewm(span=signal, adjust=False).mean()
/// ```
///
/// Both EMAs and the signal run over the full series from index 0 (no `min_periods`); the
/// results are then masked: `macd` is NaN for `i < w` with `w = max(fast, slow) - 1`, and
/// `signal` is NaN for `i < w + signal - 1` (`slow - 1` and `slow + signal - 2` when
/// `fast < slow`).
///
/// # Panics
/// If any period is 0.
pub fn macd(x: &[f64], fast: usize, slow: usize, signal: usize) -> (Vec<f64>, Vec<f64>) {
    assert!(fast >= 1 && slow >= 1 && signal >= 1, "macd periods must be >= 1");
    let fast_ema = ewm_mean(x, com_from_span(fast), 1);
    let slow_ema = ewm_mean(x, com_from_span(slow), 1);
    let mut line: Vec<f64> = fast_ema.iter().zip(&slow_ema).map(|(&f, &s)| f - s).collect();
    let mut sig = ewm_mean(&line, com_from_span(signal), 1);
    let warmup = fast.max(slow) - 1;
    for v in line.iter_mut().take(warmup) {
        *v = f64::NAN;
    }
    for v in sig.iter_mut().take(warmup + signal - 1) {
        *v = f64::NAN;
    }
    (line, sig)
}

#[cfg(test)]
mod tests;
