//! Rolling windows the engine needs itself (the trailing stop's ATR), ported from pandas so
//! their values agree with it bit for bit; bt-strategies' indicators build on them.

/// pandas' `Series.rolling(n).mean()`, bit for bit (the simple moving average).
///
/// pandas keeps a running sum with Kahan compensation, with separate compensation terms for
/// additions and removals, removes `x[i-n]` before adding `x[i]`, and forces the mean to 0 when
/// its sign disagrees with the count of negative inputs (SEMANTICS.md section 6). Since pandas
/// 1.5 (GH#42064) a window whose last `nobs` values are all equal returns that value exactly,
/// which removes floating-point residue on flat stretches (common in minute data). A naive window
/// sum differs by one ulp in ~40 % of values, which can flip an exact crossover tie. NaN inputs
/// are skipped (a window needs `n` non-NaN values), as in pandas.
///
/// # Panics
/// If `n == 0`.
#[expect(clippy::if_same_then_else, reason = "mirrors pandas' calc_mean branch for branch")]
pub fn rolling_mean(x: &[f64], n: usize) -> Vec<f64> {
    assert!(n >= 1, "rolling mean period must be >= 1");
    let mut out = vec![f64::NAN; x.len()];
    let (mut sum, mut c_add, mut c_rem) = (0.0f64, 0.0f64, 0.0f64);
    let (mut nobs, mut neg) = (0usize, 0usize);
    // pandas' `num_consecutive_same_value` and `prev_value` (initialised to the first value).
    let mut same = 0usize;
    let mut prev = x.first().copied().unwrap_or(f64::NAN);
    for i in 0..x.len() {
        if i >= n {
            let r = x[i - n];
            if !r.is_nan() {
                nobs -= 1;
                let y = -r - c_rem;
                let t = sum + y;
                c_rem = (t - sum) - y;
                sum = t;
                if r.is_sign_negative() {
                    neg -= 1;
                }
            }
        }
        let v = x[i];
        if !v.is_nan() {
            nobs += 1;
            let y = v - c_add;
            let t = sum + y;
            c_add = (t - sum) - y;
            sum = t;
            if v.is_sign_negative() {
                neg += 1;
            }
            same = if v == prev { same + 1 } else { 1 };
            prev = v;
        }
        if nobs >= n {
            let mut m = sum / nobs as f64;
            if same >= nobs {
                m = prev;
            } else if neg == 0 && m < 0.0 {
                m = 0.0;
            } else if neg == nobs && m > 0.0 {
                m = 0.0;
            }
            out[i] = m;
        }
    }
    out
}
