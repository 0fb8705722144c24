//! Per simulation: the per-bar Sharpe ratio, skewness, kurtosis and Probabilistic Sharpe Ratio
//! of its equity's returns, and the per-block sums the PBO needs, streamed in O(1) memory.

use bt_domain::{EquityObserver, ReturnStats};

use crate::{block::Pending, normal};

/// Streams a run's equity and keeps what the return statistics need: power sums of the
/// returns and, per block, their sum and sum of squares. `r_t = E_t / E_{t-1} - 1`; after the
/// account went bust (`E_{t-1} <= 0`) the returns are 0 (no capital, no return).
///
/// Like [`crate::StatsAccumulator`] it takes the equity in blocks (`crate::block`).
#[derive(Debug, Clone)]
pub struct ReturnsAccumulator {
    fold: ReturnsFold,
    pending: Pending,
}

impl ReturnsAccumulator {
    /// For a run over `bars` bars, with `blocks` blocks of returns (0: none) for the PBO.
    pub fn new(bars: usize, blocks: usize) -> ReturnsAccumulator {
        ReturnsAccumulator { fold: ReturnsFold::new(bars, blocks), pending: Pending::new() }
    }

    /// The statistics: NaN where undefined (fewer than 2 returns, no variance, a PSR whose
    /// variance term is not positive).
    pub fn finish(mut self) -> ReturnStats {
        self.fold.fold_block(self.pending.take());
        self.fold.finish()
    }
}

impl EquityObserver for ReturnsAccumulator {
    #[inline]
    fn on_equity(&mut self, _bar_idx: usize, equity: f64) {
        if self.pending.push(equity) {
            self.fold.fold_block(self.pending.take());
        }
    }

    fn on_flat(&mut self, _first: usize, count: usize, equity: f64) {
        self.fold.fold_block(self.pending.take());
        self.fold.flat(count, equity);
    }
}

/// The running state of the return statistics.
#[derive(Debug, Clone)]
pub(crate) struct ReturnsFold {
    pub(crate) sums: Sums,
    /// End (exclusive, in returns) of each block.
    ends: Vec<usize>,
    pub(crate) blocks: Vec<[f64; 2]>,
    block: usize,
}

/// The running sums, folded one equity at a time.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sums {
    pub(crate) prev: f64,
    /// Returns seen.
    pub(crate) n: usize,
    pub(crate) s: [f64; 4],
    /// The current PBO block's sum and sum of squares.
    pub(crate) cur: [f64; 2],
    /// End of the current PBO block (`usize::MAX` past the last).
    pub(crate) next_end: usize,
}

impl Sums {
    /// One bar's equity, given `ratio = equity / prev` (the previous bar's equity).
    #[inline(always)]
    pub(crate) fn fold_ratio(&mut self, equity: f64, ratio: f64) {
        let prev = self.prev;
        self.prev = equity;
        if prev.is_nan() {
            return; // the first bar has no return
        }
        let r = if prev > 0.0 { ratio - 1.0 } else { 0.0 };
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
    }

    /// Whether the current PBO block has ended.
    #[inline(always)]
    pub(crate) fn block_ended(&self) -> bool {
        self.n >= self.next_end
    }
}

impl ReturnsFold {
    pub(crate) fn new(bars: usize, blocks: usize) -> ReturnsFold {
        let t = bars.saturating_sub(1);
        let ends: Vec<usize> = (0..blocks).map(|b| (b + 1) * t / blocks).collect();
        ReturnsFold {
            sums: Sums {
                prev: f64::NAN,
                n: 0,
                s: [0.0; 4],
                cur: [0.0; 2],
                next_end: ends.first().copied().unwrap_or(usize::MAX),
            },
            blocks: Vec::with_capacity(blocks),
            ends,
            block: 0,
        }
    }

    fn fold_block(&mut self, block: &[f64]) {
        let mut sums = self.sums;
        for &e in block {
            sums.fold_ratio(e, e / sums.prev);
            if sums.block_ended() {
                self.sums = sums;
                self.close_blocks();
                sums = self.sums;
            }
        }
        self.sums = sums;
    }

    /// `count` bars of the same `equity`.
    pub(crate) fn flat(&mut self, count: usize, equity: f64) {
        if count == 0 {
            return;
        }
        self.sums.fold_ratio(equity, equity / self.sums.prev);
        // Every later bar of the run has the return 0 (equity/equity - 1, or 0 after a bust),
        // which adds nothing to the sums: it only counts, and may close blocks.
        self.sums.n += count - 1;
        self.close_blocks();
    }

    /// Closes the blocks that ended (none unless [`Sums::block_ended`]).
    #[cold]
    pub(crate) fn close_blocks(&mut self) {
        // Several blocks can end together only when some are empty (T < blocks).
        let sums = &mut self.sums;
        while sums.n >= sums.next_end {
            self.blocks.push(sums.cur);
            sums.cur = [0.0; 2];
            self.block += 1;
            sums.next_end = self.ends.get(self.block).copied().unwrap_or(usize::MAX);
        }
    }

    pub(crate) fn finish(mut self) -> ReturnStats {
        self.close_blocks();
        let n = self.sums.n as f64;
        let [s1, s2, s3, s4] = self.sums.s;
        let mean = s1 / n;
        let var = (s2 - s1 * mean) / (n - 1.0);
        let t = self.sums.n as u64;
        let sr = if t >= 2 { mean / var.sqrt() } else { f64::NAN };
        let (e2, e3, e4) = (s2 / n, s3 / n, s4 / n);
        let m2 = e2 - mean * mean;
        let m3 = e3 - 3.0 * mean * e2 + 2.0 * mean * mean * mean;
        let m4 = e4 - 4.0 * mean * e3 + 6.0 * mean * mean * e2 - 3.0 * mean * mean * mean * mean;
        let (skew, kurtosis) =
            if m2 > 0.0 { (m3 / m2.powf(1.5), m4 / (m2 * m2)) } else { (f64::NAN, f64::NAN) };
        ReturnStats {
            t,
            sr,
            skew,
            kurtosis,
            psr: psr(sr, skew, kurtosis, t, 0.0),
            blocks: self.blocks,
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
