//! numpy's reductions, operation for operation, where results must equal numpy's bit for bit
//! (the statistics, the trailing stop's `np.mean`). One home for the algorithm.

/// numpy's `np.add.reduce` over a contiguous float64 array: `0.0 + pairwise_sum(x)`.
pub fn np_sum(x: &[f64]) -> f64 {
    0.0 + pairwise_sum(x)
}

/// `DOUBLE_pairwise_sum` of numpy (`loops_utils.h.src`): sequential below 8 elements, 8
/// interleaved accumulators up to 128, recursive halving (on multiples of 8) above.
pub fn pairwise_sum(a: &[f64]) -> f64 {
    const BLOCK: usize = 128;
    let n = a.len();
    if n < 8 {
        let mut res = -0.0;
        for &v in a {
            res += v;
        }
        res
    } else if n <= BLOCK {
        let mut r = [0.0f64; 8];
        r.copy_from_slice(&a[..8]);
        let mut i = 8;
        while i < n - (n % 8) {
            for (j, acc) in r.iter_mut().enumerate() {
                *acc += a[i + j];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &v in &a[i..] {
            res += v;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        pairwise_sum(&a[..n2]) + pairwise_sum(&a[n2..])
    }
}

/// `np.mean` of a float64 array: [`np_sum`] divided by the count.
pub fn np_mean(x: &[f64]) -> f64 {
    np_sum(x) / x.len() as f64
}
