use bt_domain::{EquityObserver, Stats, Trade, time::NANOS_PER_DAY};
use multiversion::multiversion;

use crate::{
    block::{BLOCK, Pending},
    dataset::DatasetStats,
    ln::ln,
    numeric::{NeumaierSum, Welford, ceil_ns, float_to_ns},
    trades::TradeStats,
};

/// What the statistics need from a run besides its equity curve.
///
/// The caller maps its run result to this (the engine's `BacktestResult` has both fields);
/// this crate does not depend on the engine.
#[derive(Debug, Clone, Copy)]
pub struct RunFacts<'a> {
    /// Closed trades (trades without an exit are ignored, as backtesting.py ignores trades
    /// still open at the end).
    pub trades: &'a [Trade],
    /// The indicator warm-up bar: Buy & Hold is measured from its close.
    pub warmup: usize,
}

/// The statistics of one run, accumulated from the equity stream in O(1) memory.
///
/// Feed it every bar's equity in order (it is an [`EquityObserver`]: pass it to the engine,
/// alone or paired with a recorder), then call [`StatsAccumulator::finish`]. Per bar it does a
/// few comparisons, the ratio to the last equity and its logarithm (immediate for a ratio of
/// 1), compensated adds only on bars whose equity changed, and a further division only at the
/// end of each resample bucket and of each drawdown episode.
///
/// The equity is taken in blocks (`crate::block`), each folded in one loop compiled for the
/// CPU: with FMA where it has it, for the inlined logarithm (`crate::ln`).
#[derive(Debug, Clone)]
pub struct StatsAccumulator<'a> {
    fold: StatsFold<'a>,
    pending: Pending,
}

/// The running state of the statistics, folded one bar at a time.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StatsFold<'a> {
    pub(crate) ds: &'a DatasetStats,
    pub(crate) ts: &'a [i64],
    pub(crate) close_dev: &'a [f64],
    pub(crate) bucket_ends: &'a [usize],
    /// Index of the next bar to fold in.
    pub(crate) i: usize,
    pub(crate) first: f64,
    pub(crate) prev: f64,
    pub(crate) peak: f64,
    pub(crate) drawdown: Drawdowns,
    /// `Σ ln(E[i]/E[i-1])` over bars whose equity changed (the others add exactly 0).
    pub(crate) log_sum: f64,
    /// `Σ ln(E[i]/E[i-1]) * close_dev[i-1]`.
    pub(crate) log_dot: NeumaierSum,
    /// A ratio was 0, negative, infinite or NaN: numpy's covariance is then NaN.
    pub(crate) log_bad: bool,
    /// The bits of this bar's ratio `E[i]/E[i-1]` and its logarithm (or an impossible ratio's
    /// bits): a bucket of one bar has the same growth, whose logarithm is then not recomputed.
    pub(crate) last_ln: (u64, f64),
    pub(crate) next_bucket: usize,
    pub(crate) next_end: usize,
    pub(crate) periods: PeriodReturns,
}

/// Drawdown episodes (`compute_drawdown_duration_peaks`), one at a time.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Drawdowns {
    /// Index of the last bar with drawdown 0 (`usize::MAX` before the first).
    pub(crate) last_zero: usize,
    /// Lowest equity since `last_zero` (the episode's deepest point: dd = 1 - min/peak).
    pub(crate) low: f64,
    pub(crate) count: u64,
    pub(crate) peak_sum: NeumaierSum,
    pub(crate) peak_max: f64,
    pub(crate) duration_sum: i128,
    pub(crate) duration_max: i64,
}

/// The period-return series `r` and the sums its statistics need.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PeriodReturns {
    /// Last equity of the previous non-empty bucket (NaN before the first).
    pub(crate) prev_bucket: f64,
    pub(crate) count: u64,
    /// `Σ ln(1 + r)` for the geometric mean.
    pub(crate) ln_sum: NeumaierSum,
    /// Some `1 + r <= 0`: `geometric_mean` returns the integer 0.
    pub(crate) non_positive: bool,
    pub(crate) moments: Welford,
    /// `Σ min(r, 0)²` for Sortino.
    pub(crate) downside_sq: NeumaierSum,
}

impl<'a> StatsAccumulator<'a> {
    /// A fresh accumulator for one run over `ds`'s bars.
    pub fn new(ds: &'a DatasetStats) -> StatsAccumulator<'a> {
        StatsAccumulator { fold: StatsFold::new(ds), pending: Pending::new() }
    }

    /// Number of bars received so far.
    pub fn bars_seen(&self) -> usize {
        self.fold.i + self.pending.len()
    }

    /// All 32 statistics. Panics if the stream did not deliver exactly one equity per bar
    /// (the engine's contract).
    pub fn finish(mut self, facts: &RunFacts<'_>) -> Stats {
        fold_block(&mut self.fold, self.pending.take());
        self.fold.finish(facts)
    }
}

impl<'a> StatsFold<'a> {
    pub(crate) fn new(ds: &'a DatasetStats) -> StatsFold<'a> {
        StatsFold {
            ds,
            ts: ds.bars.timestamps(),
            close_dev: &ds.close_dev,
            bucket_ends: &ds.bucket_ends,
            i: 0,
            first: f64::NAN,
            prev: f64::NAN,
            peak: f64::NEG_INFINITY,
            drawdown: Drawdowns {
                last_zero: usize::MAX,
                low: f64::INFINITY,
                count: 0,
                peak_sum: NeumaierSum::default(),
                peak_max: 0.0,
                duration_sum: 0,
                duration_max: 0,
            },
            log_sum: 0.0,
            log_dot: NeumaierSum::default(),
            log_bad: false,
            last_ln: (f64::NAN.to_bits(), f64::NAN),
            next_bucket: 0,
            next_end: ds.bucket_ends[0],
            periods: PeriodReturns { prev_bucket: f64::NAN, ..PeriodReturns::default() },
        }
    }

    /// Number of bars folded in.
    pub(crate) fn bars(&self) -> usize {
        self.i
    }

    /// The equity of the last bar folded in (NaN before the first).
    #[inline(always)]
    pub(crate) fn prev(&self) -> f64 {
        self.prev
    }

    /// One bar's equity (bar `self.i`).
    #[inline(always)]
    pub(crate) fn fold(&mut self, e: f64) {
        let ratio = e / self.prev;
        self.fold_with(e, ratio, ln_of(ratio));
    }

    /// [`StatsFold::fold`] given `ratio = e / self.prev()` and `ln_ratio = ln_of(ratio)`, as
    /// [`ratios_and_logs`] computes them for a whole block ahead of the fold. One division
    /// serves the log return, the period return when the last bucket ended on the last bar
    /// (daily bars), and the return statistics ([`crate::RunAccumulator`]).
    #[inline(always)]
    pub(crate) fn fold_with(&mut self, e: f64, ratio: f64, ln_ratio: f64) {
        let i = self.i;
        self.i += 1;
        self.last_ln.0 = f64::NAN.to_bits();
        let prev = self.prev;
        if i == 0 {
            self.first = e;
        } else if e != prev || e <= 0.0 || e.is_nan() {
            // ln(1) = 0 adds nothing: only bars whose equity changed pay for a logarithm.
            self.log_return(i, ratio, ln_ratio);
        }
        self.prev = e;
        // dd = 1 - e/peak is 0 exactly when e reaches the running peak, and within an episode
        // the peak is constant, so the deepest point is the lowest equity.
        if e >= self.peak {
            self.new_high(i, e);
        } else {
            self.drawdown.low = self.drawdown.low.min(e);
        }
        if i == self.next_end {
            self.close_bucket(e, prev, ratio);
        }
    }

    #[inline(always)]
    fn log_return(&mut self, i: usize, ratio: f64, a: f64) {
        if ratio > 0.0 && ratio.is_finite() {
            self.last_ln = (ratio.to_bits(), a);
            self.log_sum += a;
            self.log_dot.add(a * self.close_dev[i - 1]);
        } else {
            self.log_bad = true;
        }
    }

    #[inline(always)]
    fn new_high(&mut self, i: usize, e: f64) {
        let dd = &mut self.drawdown;
        if dd.last_zero != usize::MAX && i > dd.last_zero + 1 {
            let depth = 1.0 - dd.low / self.peak;
            dd.record(depth, self.ts[i] - self.ts[dd.last_zero]);
        }
        dd.last_zero = i;
        dd.low = f64::INFINITY;
        self.peak = e;
    }

    /// Not `#[cold]`: with daily (or coarser) bars every bar closes a bucket. `ratio` is
    /// `e / prev`.
    #[inline(always)]
    fn close_bucket(&mut self, e: f64, prev: f64, ratio: f64) {
        let p = &mut self.periods;
        let growth_since =
            if p.prev_bucket.to_bits() == prev.to_bits() { ratio } else { e / p.prev_bucket };
        let r = growth_since - 1.0;
        p.prev_bucket = e;
        // pct_change().dropna(): the first bucket and 0/0 give NaN and are dropped; ±inf stay.
        if !r.is_nan() {
            p.count += 1;
            let growth = 1.0 + r;
            p.non_positive |= growth <= 0.0;
            // ln(1) = 0 leaves a Neumaier sum bit-for-bit unchanged: flat periods skip the log.
            // With one bar per bucket (daily bars) the growth is this bar's ratio, whose
            // logarithm the log return just took.
            if growth != 1.0 {
                let (bits, ln_r) = self.last_ln;
                p.ln_sum.add(if growth.to_bits() == bits { ln_r } else { ln(growth) });
            }
            p.moments.add(r);
            let down = r.min(0.0);
            p.downside_sq.add(down * down);
        }
        self.next_bucket += 1;
        self.next_end = self.bucket_ends.get(self.next_bucket).copied().unwrap_or(usize::MAX);
    }

    /// All 32 statistics (see [`StatsAccumulator::finish`]).
    pub(crate) fn finish(self, facts: &RunFacts<'_>) -> Stats {
        let n = self.ds.n_bars();
        assert_eq!(self.i, n, "the equity stream must deliver one value per bar");
        let ts = self.ts;
        let (first, last) = (self.first, self.prev);
        let duration = ts[n - 1] - ts[0];
        let res = self.ds.resolution_ns;
        let a = self.ds.annual_periods;

        // Drawdowns: the last bar closes an open episode (Z includes n - 1).
        let mut dd = self.drawdown;
        let dd_last = 1.0 - last / self.peak;
        if dd.last_zero != usize::MAX && n - 1 > dd.last_zero + 1 {
            let depth = 1.0 - dd.low / self.peak;
            dd.record(depth, ts[n - 1] - ts[dd.last_zero]);
        }
        // Every non-zero drawdown lies in an episode, except possibly the last bar's.
        let dd_max = dd.peak_max.max(dd_last);
        let (avg_dd, max_dd_dur, avg_dd_dur) = if dd.count > 0 {
            let mean_dur = float_to_ns(dd.duration_sum as f64 / dd.count as f64);
            (
                dd.peak_sum.value() / dd.count as f64,
                Some(ceil_ns(dd.duration_max, res)),
                mean_dur.map(|d| ceil_ns(d, res)),
            )
        } else {
            // No episode: pandas returns `dd.replace(0, nan)` for both series, so the only
            // possible non-zero drawdown (the last bar's) is the "peak". Its "duration" would be
            // that float, which a duration cannot hold: NaT.
            (if dd_last != 0.0 { dd_last } else { f64::NAN }, None, None)
        };

        // Period returns.
        let p = self.periods;
        let g = if p.count == 0 {
            f64::NAN
        } else if p.non_positive {
            0.0
        } else {
            (p.ln_sum.value() / p.count as f64).exp() - 1.0
        };
        let ann = (1.0 + g).powf(a) - 1.0;
        let var = p.moments.var(1);
        let vol_pct =
            ((var + (1.0 + g).powf(2.0)).powf(a) - (1.0 + g).powf(2.0 * a)).sqrt() * 100.0;
        let return_ann_pct = ann * 100.0;
        let downside = if p.count == 0 { f64::NAN } else { p.downside_sq.value() / p.count as f64 };
        let sortino = ann / (downside.sqrt() * a.sqrt());

        let years = (duration.div_euclid(NANOS_PER_DAY) as f64
            + (duration.rem_euclid(NANOS_PER_DAY) / 1_000_000_000) as f64 / 86400.0)
            / 365.25;
        let cagr_pct =
            if years != 0.0 { ((last / first).powf(1.0 / years) - 1.0) * 100.0 } else { f64::NAN };

        let m = n - 1;
        let beta = if m <= 1 || self.log_bad {
            f64::NAN
        } else {
            let mean_a = self.log_sum / m as f64;
            let cov = (self.log_dot.value() - mean_a * self.ds.close_dev_sum) / (m - 1) as f64;
            let var_b = self.ds.close_dev_sq_sum / (m - 1) as f64;
            cov / var_b
        };

        let close = self.ds.bars.close();
        let return_pct = (last - first) / first * 100.0;
        let buy_hold_return_pct = match close.get(facts.warmup) {
            Some(&c0) => (close[n - 1] - c0) / c0 * 100.0,
            None => f64::NAN,
        };
        let t = TradeStats::new(facts.trades, n, res);

        Stats {
            start: ts[0],
            end: ts[n - 1],
            duration,
            exposure_time_pct: t.exposure_frac * 100.0,
            equity_final: last,
            equity_peak: self.peak,
            commissions: t.commissions,
            return_pct,
            buy_hold_return_pct,
            return_ann_pct,
            volatility_ann_pct: vol_pct,
            cagr_pct,
            sharpe_ratio: if vol_pct != 0.0 { return_ann_pct / vol_pct } else { f64::NAN },
            sortino_ratio: sortino,
            calmar_ratio: if dd_max != 0.0 { ann / dd_max } else { f64::NAN },
            alpha_pct: return_pct - beta * buy_hold_return_pct,
            beta,
            max_drawdown_pct: -dd_max * 100.0,
            avg_drawdown_pct: -avg_dd * 100.0,
            max_drawdown_duration: max_dd_dur,
            avg_drawdown_duration: avg_dd_dur,
            n_trades: t.n_trades,
            win_rate_pct: t.win_rate * 100.0,
            best_trade_pct: t.best * 100.0,
            worst_trade_pct: t.worst * 100.0,
            avg_trade_pct: t.gmean * 100.0,
            max_trade_duration: t.max_duration,
            avg_trade_duration: t.avg_duration,
            profit_factor: t.profit_factor,
            expectancy_pct: t.mean_return * 100.0,
            sqn: t.sqn,
            kelly_criterion: t.kelly,
        }
    }
}

impl Drawdowns {
    pub(crate) fn record(&mut self, depth: f64, duration: i64) {
        self.count += 1;
        self.peak_sum.add(depth);
        self.peak_max = self.peak_max.max(depth);
        self.duration_sum += i128::from(duration);
        self.duration_max = self.duration_max.max(duration);
    }
}

impl EquityObserver for StatsAccumulator<'_> {
    #[inline]
    fn on_equity(&mut self, _bar_idx: usize, e: f64) {
        if self.pending.push(e) {
            fold_block(&mut self.fold, self.pending.take());
        }
    }

    fn on_flat(&mut self, first: usize, count: usize, e: f64) {
        fold_block(&mut self.fold, self.pending.take());
        self.fold.flat(first, count, e);
    }
}

impl StatsFold<'_> {
    /// `count` bars of equity `e` from bar `first` on.
    ///
    /// A warm-up (the same positive equity from the first bar on) in O(log n): bar by bar
    /// until the first period has closed, then every later bar is a new high right after the
    /// last, brings no log return, and closes its periods with returns of exactly 0, which
    /// only count. Anything else goes bar by bar.
    pub(crate) fn flat(&mut self, first: usize, count: usize, e: f64) {
        let end = first + count;
        let mut b = first;
        if self.i == 0 && e > 0.0 && e.is_finite() {
            while b < end && self.periods.prev_bucket.is_nan() {
                self.fold(e);
                b += 1;
            }
            if b < end {
                let closed = self.bucket_ends.partition_point(|&x| x < end);
                let k = closed.saturating_sub(self.next_bucket) as u64;
                let p = &mut self.periods;
                p.count += k;
                p.moments.add_zeros(k);
                p.downside_sq.add_zeros(k);
                self.next_bucket = self.next_bucket.max(closed);
                self.next_end =
                    self.bucket_ends.get(self.next_bucket).copied().unwrap_or(usize::MAX);
                self.drawdown.last_zero = end - 1;
                self.drawdown.low = f64::INFINITY;
                self.peak = e;
                self.prev = e;
                self.i = end;
                return;
            }
        }
        if b == first && count > 0 && self.i > 0 && e == self.prev && e > 0.0 && e < f64::INFINITY {
            self.flat_after_same(count, e);
            return;
        }
        for _ in b..end {
            self.fold(e);
        }
    }

    /// `count` more bars of the equity `e` of the last bar, positive and finite (out of the
    /// market) in O(periods): the first bar as any other; after it every bar is, as it was,
    /// at the running peak (a new high right after the last) or below it (the episode's low
    /// already counts it), and brings no log return; the periods that end on them have the
    /// return `e / prev_bucket - 1` for the first, exactly 0 for the others.
    fn flat_after_same(&mut self, count: usize, e: f64) {
        let end = self.i + count;
        self.fold_with(e, 1.0, 0.0);
        while self.next_end < end {
            self.last_ln.0 = f64::NAN.to_bits();
            self.close_bucket(e, e, 1.0);
        }
        if e >= self.peak {
            self.drawdown.last_zero = end - 1;
        }
        self.last_ln.0 = f64::NAN.to_bits();
        self.i = end;
    }
}

/// The logarithm of an equity ratio where the log return takes one (NaN elsewhere).
#[inline(always)]
pub(crate) fn ln_of(ratio: f64) -> f64 {
    if ratio > 0.0 && ratio.is_finite() { ln(ratio) } else { f64::NAN }
}

/// `e / prev` and its [`ln_of`].
#[inline(always)]
pub(crate) fn ratio_and_log(e: f64, prev: f64) -> (f64, f64) {
    let r = e / prev;
    (r, ln_of(r))
}

/// Whether every equity of `block` is `prev`, positive and finite: a block out of the market,
/// which [`StatsFold::flat`] folds in O(periods).
#[inline(always)]
pub(crate) fn all_same(prev: f64, block: &[f64]) -> bool {
    prev > 0.0 && prev < f64::INFINITY && block.iter().all(|&e| e == prev)
}

/// Each bar's [`ratio_and_log`], for a block starting after equity `prev`.
///
/// A loop of its own: its iterations are independent, so the CPU overlaps the logarithms'
/// long dependency chains, which inside the fold (a chain through the running sums from bar
/// to bar) would leave it waiting.
#[inline(always)]
pub(crate) fn ratios_and_logs(mut prev: f64, block: &[f64]) -> ([f64; BLOCK], [f64; BLOCK]) {
    let (mut ratios, mut logs) = ([0.0; BLOCK], [0.0; BLOCK]);
    for ((&e, r), l) in block.iter().zip(&mut ratios).zip(&mut logs) {
        (*r, *l) = ratio_and_log(e, prev);
        prev = e;
    }
    (ratios, logs)
}

/// Folds in a block of equity: the hot loops, compiled for the CPU they run on, over a local
/// copy of the state.
#[multiversion(targets("x86_64+fma"))]
fn fold_block(fold: &mut StatsFold<'_>, block: &[f64]) {
    if all_same(fold.prev, block) {
        fold.flat(fold.i, block.len(), fold.prev);
        return;
    }
    let (ratios, logs) = ratios_and_logs(fold.prev, block);
    let mut local = *fold;
    for ((&e, &r), &l) in block.iter().zip(&ratios).zip(&logs) {
        local.fold_with(e, r, l);
    }
    *fold = local;
}
