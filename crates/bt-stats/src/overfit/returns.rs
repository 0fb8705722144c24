//! Per simulation: the per-bar Sharpe ratio, skewness, kurtosis and Probabilistic Sharpe Ratio
//! of its equity's returns, and the per-block sums the PBO needs, streamed in O(1) memory.

use bt_domain::{EquityObserver, ReturnStats};

use crate::normal;

/// Streams a run's equity and keeps what the return statistics need: power sums of the
/// returns and, per block, their sum and sum of squares. `r_t = E_t / E_{t-1} - 1`; after the
/// account went bust (`E_{t-1} <= 0`) the returns are 0 (no capital, no return).
#[derive(Debug, Clone)]
pub struct ReturnsAccumulator {
    prev: f64,
    /// Returns seen.
    n: usize,
    s: [f64; 4],
    /// End (exclusive, in returns) of each block.
    ends: Vec<usize>,
    blocks: Vec<[f64; 2]>,
    block: usize,
    next_end: usize,
    cur: [f64; 2],
}

impl ReturnsAccumulator {
    /// For a run over `bars` bars, with `blocks` blocks of returns (0: none) for the PBO.
    pub fn new(bars: usize, blocks: usize) -> ReturnsAccumulator {
        let t = bars.saturating_sub(1);
        let ends: Vec<usize> = (0..blocks).map(|b| (b + 1) * t / blocks).collect();
        ReturnsAccumulator {
            prev: f64::NAN,
            n: 0,
            s: [0.0; 4],
            next_end: ends.first().copied().unwrap_or(usize::MAX),
            blocks: Vec::with_capacity(blocks),
            ends,
            block: 0,
            cur: [0.0; 2],
        }
    }

    #[cold]
    fn close_blocks(&mut self) {
        // Several blocks can end together only when some are empty (T < blocks).
        while self.n >= self.next_end {
            self.blocks.push(self.cur);
            self.cur = [0.0; 2];
            self.block += 1;
            self.next_end = self.ends.get(self.block).copied().unwrap_or(usize::MAX);
        }
    }

    /// The statistics: NaN where undefined (fewer than 2 returns, no variance, a PSR whose
    /// variance term is not positive).
    pub fn finish(mut self) -> ReturnStats {
        self.close_blocks();
        let n = self.n as f64;
        let [s1, s2, s3, s4] = self.s;
        let mean = s1 / n;
        let var = (s2 - s1 * mean) / (n - 1.0);
        let sr = if self.n >= 2 { mean / var.sqrt() } else { f64::NAN };
        let (e2, e3, e4) = (s2 / n, s3 / n, s4 / n);
        let m2 = e2 - mean * mean;
        let m3 = e3 - 3.0 * mean * e2 + 2.0 * mean * mean * mean;
        let m4 = e4 - 4.0 * mean * e3 + 6.0 * mean * mean * e2 - 3.0 * mean * mean * mean * mean;
        let (skew, kurtosis) =
            if m2 > 0.0 { (m3 / m2.powf(1.5), m4 / (m2 * m2)) } else { (f64::NAN, f64::NAN) };
        ReturnStats {
            t: self.n as u64,
            sr,
            skew,
            kurtosis,
            psr: psr(sr, skew, kurtosis, self.n as u64, 0.0),
            blocks: self.blocks,
        }
    }
}

impl EquityObserver for ReturnsAccumulator {
    #[inline]
    fn on_equity(&mut self, _bar_idx: usize, equity: f64) {
        let prev = self.prev;
        self.prev = equity;
        if prev.is_nan() {
            return; // the first bar has no return
        }
        let r = if prev > 0.0 { equity / prev - 1.0 } else { 0.0 };
        if r != 0.0 {
            let r2 = r * r;
            self.s[0] += r;
            self.s[1] += r2;
            self.s[2] += r2 * r;
            self.s[3] += r2 * r2;
            self.cur[0] += r;
            self.cur[1] += r2;
        }
        self.n += 1;
        if self.n >= self.next_end {
            self.close_blocks();
        }
    }

    fn on_flat(&mut self, first: usize, count: usize, equity: f64) {
        if count == 0 {
            return;
        }
        self.on_equity(first, equity);
        // Every later bar of the run has the return 0 (equity/equity - 1, or 0 after a bust),
        // which adds nothing to the sums: it only counts, and may close blocks.
        self.n += count - 1;
        if self.n >= self.next_end {
            self.close_blocks();
        }
    }
}

/// The Probabilistic Sharpe Ratio of `sr` against `sr_star`:
/// `Phi((sr - SR*) * sqrt(T - 1) / sqrt(1 - skew * sr + (kurtosis - 1) / 4 * sr^2))`; NaN when
/// undefined (`T < 2`, a variance term that is not positive, a NaN input).
pub fn psr(sr: f64, skew: f64, kurtosis: f64, t: u64, sr_star: f64) -> f64 {
    let den = 1.0 - skew * sr + (kurtosis - 1.0) / 4.0 * sr * sr;
    if t < 2 || den.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
        return f64::NAN;
    }
    normal::cdf((sr - sr_star) * ((t - 1) as f64).sqrt() / den.sqrt())
}
