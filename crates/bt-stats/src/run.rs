//! The statistics and the return statistics of one run, from one pass over its equity.

use bt_domain::{EquityObserver, ReturnStats, Stats};
use multiversion::multiversion;

use crate::{
    accumulator::{RunFacts, StatsFold, all_same, ratio_and_log},
    block::{BLOCK, Pending},
    dataset::DatasetStats,
    overfit::returns::ReturnsFold,
};

/// A [`crate::StatsAccumulator`] and an [`crate::overfit::ReturnsAccumulator`] fed together:
/// what a simulation computes from its equity.
///
/// The same results, bit for bit, as the two fed side by side, with one block of pending
/// equity and one division per bar (`E[i] / E[i-1]`) shared by the log return, the period
/// return of daily bars and the per-bar return.
///
/// ```
/// use bt_domain::{Bars, EquityObserver};
/// use bt_stats::{DatasetStats, RunAccumulator, RunFacts};
///
/// let day = 86_400_000_000_000;
/// let close = vec![10.0, 11.0, 12.0, 11.0];
/// let bars = Bars::new((0..4).map(|i| i * day).collect(), close.clone(), close.clone(),
///     close.clone(), close, vec![0.0; 4]).unwrap();
/// let ds = DatasetStats::new(&bars);
/// let mut acc = RunAccumulator::new(&ds, 0);
/// for (i, e) in [100.0, 110.0, 99.0, 121.0].into_iter().enumerate() {
///     acc.on_equity(i, e);
/// }
/// let (stats, returns) = acc.finish(&RunFacts { trades: &[], warmup: 0 });
/// assert!((stats.return_pct - 21.0).abs() < 1e-12);
/// assert_eq!(returns.t, 3);
/// ```
#[derive(Debug, Clone)]
pub struct RunAccumulator<'a> {
    stats: StatsFold<'a>,
    returns: ReturnsFold,
    pending: Pending,
}

impl<'a> RunAccumulator<'a> {
    /// For one run over `ds`'s bars, with `pbo_blocks` blocks of returns (0: none) for the PBO.
    pub fn new(ds: &'a DatasetStats, pbo_blocks: usize) -> RunAccumulator<'a> {
        RunAccumulator {
            stats: StatsFold::new(ds),
            returns: ReturnsFold::new(ds.n_bars(), pbo_blocks),
            pending: Pending::new(),
        }
    }

    /// Folds in everything received.
    fn flush(&mut self) {
        fold_block(&mut self.stats, &mut self.returns, self.pending.take());
    }

    /// The 32 statistics and the return statistics. Panics if the stream did not deliver
    /// exactly one equity per bar (the engine's contract).
    pub fn finish(mut self, facts: &RunFacts<'_>) -> (Stats, ReturnStats) {
        self.flush();
        (self.stats.finish(facts), self.returns.finish())
    }
}

impl EquityObserver for RunAccumulator<'_> {
    #[inline]
    fn on_equity(&mut self, _bar_idx: usize, equity: f64) {
        if self.pending.push(equity) {
            fold_block(&mut self.stats, &mut self.returns, self.pending.take());
        }
    }

    fn on_flat(&mut self, first: usize, count: usize, equity: f64) {
        self.flush();
        self.stats.flat(first, count, equity);
        self.returns.flat(count, equity);
    }
}

/// Folds a block of equity into both, over local copies of their running state; compiled for
/// the CPU it runs on (FMA for the inlined logarithm).
#[multiversion(targets("x86_64+fma"))]
fn fold_block(stats: &mut StatsFold<'_>, returns: &mut ReturnsFold, block: &[f64]) {
    let prev = stats.prev();
    if all_same(prev, block) {
        stats.flat(stats.bars(), block.len(), prev);
        returns.flat(block.len(), prev);
        return;
    }
    // First the ratios, their logarithms and the per-bar return sums: iterations independent
    // but for a few short sums, so the CPU overlaps the logarithms' long dependency chains.
    let (mut ratios, mut logs) = ([0.0; BLOCK], [0.0; BLOCK]);
    let mut prev = prev;
    let mut sums = returns.sums;
    for ((&e, r), l) in block.iter().zip(&mut ratios).zip(&mut logs) {
        (*r, *l) = ratio_and_log(e, prev);
        prev = e;
        sums.fold_ratio(e, *r);
        if sums.block_ended() {
            returns.sums = sums;
            returns.close_blocks();
            sums = returns.sums;
        }
    }
    returns.sums = sums;
    // Then the statistics' fold.
    let mut st = *stats;
    for ((&e, &ratio), &ln_ratio) in block.iter().zip(&ratios).zip(&logs) {
        st.fold_with(e, ratio, ln_ratio);
    }
    *stats = st;
}
