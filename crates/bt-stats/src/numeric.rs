//! Numerical building blocks that reproduce numpy/pandas reductions.
//!
//! Where a slice is available (trades, the per-dataset close returns) the sums are numpy's
//! pairwise summation, operation for operation, so results are bit-identical to
//! `np.add.reduce`. Where values arrive one at a time (the equity stream) compensated sums and
//! Welford's update keep the error at a few ulps instead.

pub(crate) use bt_domain::numeric::{np_sum, pairwise_sum};

/// `np.add.reduce(x.astype(float64))` for an int64 array, as numpy does it with a cast: the
/// buffered iterator hands the loop chunks of `np.getbufsize()` = 8192 elements, each summed
/// pairwise and added to the running result.
pub(crate) fn np_sum_i64_as_f64(x: &[i64]) -> f64 {
    const BUFSIZE: usize = 8192;
    let mut buf = Vec::with_capacity(x.len().min(BUFSIZE));
    let mut acc = 0.0;
    for chunk in x.chunks(BUFSIZE) {
        buf.clear();
        buf.extend(chunk.iter().map(|&v| v as f64));
        acc += pairwise_sum(&buf);
    }
    acc
}

/// pandas `Series.mean()` of floats (`nanops.nanmean`, no NaN): sum / count; NaN when empty.
pub(crate) fn pd_mean(x: &[f64]) -> f64 {
    if x.is_empty() { f64::NAN } else { np_sum(x) / x.len() as f64 }
}

/// pandas `Series.var(ddof)` (`nanops.nanvar`): two passes, `sum((avg - x)**2) / (n - ddof)`,
/// NaN when `n <= ddof`.
pub(crate) fn pd_var(x: &[f64], ddof: usize) -> f64 {
    let n = x.len();
    if n <= ddof {
        return f64::NAN;
    }
    let avg = np_sum(x) / n as f64;
    let sqr: Vec<f64> = x.iter().map(|&v| (avg - v) * (avg - v)).collect();
    np_sum(&sqr) / (n - ddof) as f64
}

/// pandas `Series.mean()` of a timedelta64[ns] series: the int64 values summed as float64,
/// divided by the count, truncated back to int64 (`np.int64(result)`). `None` (NaT) when empty.
pub(crate) fn pd_timedelta_mean(ns: &[i64]) -> Option<i64> {
    if ns.is_empty() {
        return None;
    }
    let mean = np_sum_i64_as_f64(ns) / ns.len() as f64;
    float_to_ns(mean)
}

/// `np.int64(x)` for a mean in ns: truncation toward zero; NaN is NaT.
pub(crate) fn float_to_ns(x: f64) -> Option<i64> {
    if x.is_nan() { None } else { Some(x as i64) }
}

/// `Timedelta.ceil(unit)` in integer nanoseconds (pandas `round_nsint64`, `PLUS_INFTY`).
pub(crate) fn ceil_ns(value: i64, unit: i64) -> i64 {
    let rem = value.rem_euclid(unit);
    if rem == 0 { value } else { value - rem + unit }
}

/// `Timedelta.resolution_string` of a period, as the unit length in ns: the smallest non-zero
/// component (ns, us, ms, s, min, h), or a day when only days (or nothing) are set.
pub(crate) fn resolution_unit_ns(period_ns: i64) -> i64 {
    // (unit, the next larger unit): a component is non-zero when `v % next / unit != 0`.
    const UNITS: [(u64, u64); 6] = [
        (1, 1_000),
        (1_000, 1_000_000),
        (1_000_000, 1_000_000_000),
        (1_000_000_000, 60_000_000_000),
        (60_000_000_000, 3_600_000_000_000),
        (3_600_000_000_000, 86_400_000_000_000),
    ];
    let v = period_ns.unsigned_abs();
    UNITS
        .iter()
        .find(|&&(unit, next)| (v % next) / unit != 0)
        .map_or(86_400_000_000_000, |&(unit, _)| unit as i64)
}

/// A compensated (Neumaier) running sum: error independent of the number of terms.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct NeumaierSum {
    pub(crate) sum: f64,
    pub(crate) comp: f64,
}

impl NeumaierSum {
    #[inline]
    pub(crate) fn add(&mut self, x: f64) {
        let t = self.sum + x;
        // The larger magnitude first; a select rather than a branch (signs of returns are
        // unpredictable), the same operations in the same order as the branching form.
        let (big, small) = if self.sum.abs() >= x.abs() { (self.sum, x) } else { (x, self.sum) };
        self.comp += (big - t) + small;
        self.sum = t;
    }

    /// `k` additions of +0: nothing while the sum is still exactly +0 (as `k` calls of
    /// `add(0.0)` leave it); `k` calls otherwise.
    pub(crate) fn add_zeros(&mut self, k: u64) {
        if self.sum.to_bits() != 0 || self.comp.to_bits() != 0 {
            for _ in 0..k {
                self.add(0.0);
            }
        }
    }

    pub(crate) fn value(&self) -> f64 {
        // Non-finite sums make the compensation NaN; the plain sum is then the IEEE answer.
        if self.sum.is_finite() { self.sum + self.comp } else { self.sum }
    }
}

/// Welford's running mean and sum of squared deviations (sample variance with `ddof`).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Welford {
    pub(crate) n: u64,
    pub(crate) mean: f64,
    pub(crate) m2: f64,
    pub(crate) non_finite: bool,
}

impl Welford {
    #[inline]
    pub(crate) fn add(&mut self, x: f64) {
        if !x.is_finite() {
            // pandas: `avg - values` is NaN at an infinite value, so the variance is NaN.
            self.non_finite = true;
            return;
        }
        self.n += 1;
        let delta = x - self.mean;
        // Through i64: one conversion instruction (u64 takes several), the same value.
        self.mean += delta / self.n as i64 as f64;
        self.m2 += delta * (x - self.mean);
    }

    /// `k` more zeros, in O(1) while every value so far was 0 (the mean and the sum of
    /// squares stay exactly +0, as `k` calls of `add(0.0)` leave them); `k` calls otherwise.
    pub(crate) fn add_zeros(&mut self, k: u64) {
        if self.mean.to_bits() == 0 && self.m2.to_bits() == 0 {
            self.n += k;
        } else {
            for _ in 0..k {
                self.add(0.0);
            }
        }
    }

    /// Sample variance with `ddof` (NaN when `n <= ddof` or any value was not finite).
    pub(crate) fn var(&self, ddof: u64) -> f64 {
        if self.non_finite || self.n <= ddof { f64::NAN } else { self.m2 / (self.n - ddof) as f64 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairwise_matches_numpy_on_known_sums() {
        // Reference values: np.sum(x) with numpy 2.4.6 for x_i = (i*7919 % 1000)/997 - 0.4.
        let x = |n: usize| -> Vec<f64> {
            (0..n).map(|i| ((i * 7919) % 1000) as f64 / 997.0 - 0.4).collect()
        };
        for (n, expected) in [
            (7, 1.5119358074222666),
            (100, 9.197592778335004),
            (129, 12.857372116349044),
            (1001, 100.60300902708123),
            (10000, 1010.0300902708123),
            (100003, 10100.863189568703),
        ] {
            assert_eq!(np_sum(&x(n)), expected, "n = {n}");
        }
        // np.sum([0.1] * 1000) == 100.00000000000001; a sequential sum gives 99.9999999999986.
        assert_eq!(np_sum(&[0.1; 1000]), 100.00000000000001);
        assert_eq!(np_sum(&[]), 0.0);
    }

    #[test]
    fn timedelta_sum_is_chunked_like_numpy() {
        // pd.Series(pd.to_timedelta(ns, unit="ns")).mean().value == 18014408509011984 for
        // ns_i = (i * 1000003) % 10**13 + 2**54, i < 20000 (the exact mean ends in ...982).
        let ns: Vec<i64> =
            (0..20000i64).map(|i| (i * 1_000_003) % 10_000_000_000_000 + (1 << 54)).collect();
        assert_eq!(pd_timedelta_mean(&ns), Some(18014408509011984));
    }

    #[test]
    fn timedelta_mean_truncates_like_pandas() {
        // pd.Series(pd.to_timedelta([1, 2, 2], unit="ns")).mean() == 1 ns
        assert_eq!(pd_timedelta_mean(&[1, 2, 2]), Some(1));
        assert_eq!(pd_timedelta_mean(&[-1, -1, 0]), Some(0));
        assert_eq!(pd_timedelta_mean(&[]), None);
        // Float summation loses the +1/+2 above 2**60, as in pandas.
        let big = 1i64 << 60;
        assert_eq!(pd_timedelta_mean(&[big + 1, big + 2, big + 2]), Some(big));
    }

    #[test]
    fn ceil_and_resolution_like_pandas() {
        let day = 86_400_000_000_000;
        assert_eq!(resolution_unit_ns(day), day);
        assert_eq!(resolution_unit_ns(31 * day), day);
        assert_eq!(resolution_unit_ns(3_600_000_000_000), 3_600_000_000_000);
        assert_eq!(resolution_unit_ns(90 * 60_000_000_000), 60_000_000_000);
        assert_eq!(resolution_unit_ns(2_000_000), 1_000_000);
        assert_eq!(resolution_unit_ns(day + 1), 1);
        assert_eq!(resolution_unit_ns(0), day);
        assert_eq!(ceil_ns(31 * day + 1, day), 32 * day);
        assert_eq!(ceil_ns(31 * day, day), 31 * day);
        assert_eq!(ceil_ns(-5, 1000), 0);
    }

    #[test]
    fn welford_and_two_pass_agree() {
        let x: Vec<f64> = (0..1000).map(|i| ((i * 7919) % 1000) as f64 * 1e-3 - 0.3).collect();
        let mut w = Welford::default();
        x.iter().for_each(|&v| w.add(v));
        let two_pass = pd_var(&x, 1);
        assert!(((w.var(1) - two_pass) / two_pass).abs() < 1e-14);
        w.add(f64::INFINITY);
        assert!(w.var(1).is_nan());
        assert!(pd_var(&[1.0], 1).is_nan());
    }

    #[test]
    fn neumaier_recovers_lost_low_bits() {
        let mut s = NeumaierSum::default();
        for v in [1e16, 1.0, -1e16] {
            s.add(v);
        }
        assert_eq!(s.value(), 1.0);
    }
}
