//! The statistics of several runs over one data set, folded together in vector lanes.
//!
//! A sweep runs many simulations over the same bars. Their equity curves are recorded side by
//! side ([`LaneCurves`], bar-major: bar `i` of every lane in one row) and folded in lockstep:
//! each running sum of [`crate::RunAccumulator`] becomes a row of [`LANES`] sums, one per run,
//! updated by the same operations in the same order as one run's, so each lane ends with the
//! same bits as a run folded alone. Each operation (a division, a fused multiply-add, a
//! compare) is correctly rounded lane by lane, whatever the vector width; branches become
//! arithmetic (a lane adds +0 where its run adds nothing) or selects between both outcomes.
//! The loop is compiled for AVX-512 or AVX2 with FMA where the CPU has them (`multiversion`),
//! which then does the work of 8 runs in about the instructions of one; for FMA alone, or for
//! the baseline (SSE2, the fused multiply-adds then computed in software, as the scalar fold
//! does there) elsewhere.
//!
//! What stays per lane, outside the vector loop, is what happens on few bars: the end of a
//! drawdown episode, a logarithm of a ratio away from 1 (the table path of [`crate::ln`]), a
//! period return that is not the bar's ratio (once a period when the bars are finer than it,
//! as intraday bars are finer than a day), and the common warm-up (the bars where every lane
//! still holds its first equity, folded in O(periods) as [`crate::RunAccumulator`] folds a
//! flat run). A lane whose equity leaves `[1e-150, 1e150]` (a bust, a NaN, an absurd
//! account) is folded alone by [`crate::RunAccumulator`]: inside that range every ratio of
//! equities is a positive normal number, which the vector loop assumes.

use bt_domain::{EquityObserver, ReturnStats, Stats};
use multiversion::multiversion;

use crate::{
    accumulator::{RunFacts, StatsFold},
    dataset::DatasetStats,
    ln::{ln, ln_near_one, near_one},
    numeric::NeumaierSum,
    overfit::returns::ReturnsFold,
    run::RunAccumulator,
};

/// Runs folded together.
pub const LANES: usize = 8;

/// A lane's equity stays within these bounds for the vector loop (see the module's doc).
const MIN_EQUITY: f64 = 1e-150;
const MAX_EQUITY: f64 = 1e150;

/// The equity curves of up to [`LANES`] runs over one data set, to fold together.
///
/// ```
/// use bt_domain::{Bars, EquityObserver};
/// use bt_stats::{DatasetStats, LaneCurves, RunAccumulator, RunFacts};
///
/// let day = 86_400_000_000_000;
/// let close = vec![10.0, 11.0, 12.0, 11.0];
/// let bars = Bars::new((0..4).map(|i| i * day).collect(), close.clone(), close.clone(),
///     close.clone(), close, vec![0.0; 4]).unwrap();
/// let ds = DatasetStats::new(&bars);
/// let runs = [[100.0, 110.0, 99.0, 121.0], [100.0, 90.0, 95.0, 93.0]];
/// let mut curves = LaneCurves::new(4);
/// for (lane, run) in runs.iter().enumerate() {
///     let mut rec = curves.recorder(lane);
///     for (i, &e) in run.iter().enumerate() {
///         rec.on_equity(i, e);
///     }
/// }
/// let facts = RunFacts { trades: &[], warmup: 0 };
/// let both = curves.finish(&ds, 16, &[facts, facts]);
/// for (run, got) in runs.iter().zip(&both) {
///     let mut acc = RunAccumulator::new(&ds, 16);
///     for (i, &e) in run.iter().enumerate() {
///         acc.on_equity(i, e);
///     }
///     assert_eq!(format!("{:?}", acc.finish(&facts)), format!("{got:?}"));
/// }
/// ```
#[derive(Debug, Clone)]
pub struct LaneCurves {
    n_bars: usize,
    /// `n_bars` rows of [`LANES`] equities.
    rows: Vec<f64>,
    /// Equities each lane received since its recorder was made.
    received: [usize; LANES],
}

/// Records one run's equity into its lane of a [`LaneCurves`].
#[derive(Debug)]
pub struct LaneRecorder<'a> {
    rows: &'a mut [f64],
    received: &'a mut usize,
    lane: usize,
}

impl EquityObserver for LaneRecorder<'_> {
    #[inline]
    fn on_equity(&mut self, bar_idx: usize, equity: f64) {
        self.rows[bar_idx * LANES + self.lane] = equity;
        *self.received += 1;
    }
}

impl LaneCurves {
    /// Room for [`LANES`] runs of `n_bars` bars.
    pub fn new(n_bars: usize) -> LaneCurves {
        LaneCurves { n_bars, rows: vec![0.0; n_bars * LANES], received: [0; LANES] }
    }

    /// Bars per run.
    pub fn n_bars(&self) -> usize {
        self.n_bars
    }

    /// An observer that writes a run's equity, one value per bar, into `lane` (which must be
    /// below [`LANES`]), replacing what the lane held.
    pub fn recorder(&mut self, lane: usize) -> LaneRecorder<'_> {
        assert!(lane < LANES, "lane {lane} of {LANES}");
        self.received[lane] = 0;
        LaneRecorder { rows: &mut self.rows, received: &mut self.received[lane], lane }
    }

    /// The statistics and return statistics of lanes `0..facts.len()`, each the same bits as
    /// a [`RunAccumulator`] with `pbo_blocks` blocks fed that lane's equity. `ds` must be the
    /// data set the runs went over (its bar count is this one's). Lanes `facts.len()..` are
    /// overwritten (with a copy of a folded lane, which fills the vectors); lanes
    /// `0..facts.len()` are left as they are, so `finish` again gives the same results.
    ///
    /// Panics if a lane of `0..facts.len()` did not receive one equity per bar since its
    /// [`LaneCurves::recorder`] was made (the engine's contract, which [`RunAccumulator`]
    /// checks too).
    pub fn finish(
        &mut self,
        ds: &DatasetStats,
        pbo_blocks: usize,
        facts: &[RunFacts<'_>],
    ) -> Vec<(Stats, ReturnStats)> {
        let n = self.n_bars;
        assert!(facts.len() <= LANES, "{} runs for {LANES} lanes", facts.len());
        assert_eq!(ds.n_bars(), n, "the data set's bars are the runs' bars");
        for (l, &received) in self.received[..facts.len()].iter().enumerate() {
            assert_eq!(received, n, "lane {l}: the equity stream must deliver one value per bar");
        }
        let mut inside = [true; LANES];
        for row in self.rows.chunks_exact(LANES) {
            for (ok, &e) in inside.iter_mut().zip(row) {
                *ok &= (MIN_EQUITY..=MAX_EQUITY).contains(&e);
            }
        }
        let mut out: Vec<Option<(Stats, ReturnStats)>> = vec![None; facts.len()];
        // Alone: lanes outside the bounds, or all of them when lockstep would not pay.
        let together = inside[..facts.len()].iter().filter(|&&ok| ok).count() >= 2;
        for l in (0..facts.len()).filter(|&l| !(together && inside[l])) {
            let mut acc = RunAccumulator::new(ds, pbo_blocks);
            for (i, row) in self.rows.chunks_exact(LANES).enumerate() {
                acc.on_equity(i, row[l]);
            }
            out[l] = Some(acc.finish(&facts[l]));
        }
        if out.iter().any(Option::is_none) {
            // Lanes without a run of their own repeat a folded one, whose results they then
            // leave unread: unused lanes in place, a used lane outside the bounds in a copy.
            let model = inside[..facts.len()]
                .iter()
                .position(|&ok| ok)
                .expect("two lanes inside the bounds");
            let mut copy;
            let rows = if (0..facts.len()).all(|l| inside[l]) {
                &mut self.rows
            } else {
                copy = self.rows.clone();
                &mut copy
            };
            for row in rows.chunks_exact_mut(LANES) {
                for l in (0..LANES).filter(|&l| l >= facts.len() || !inside[l]) {
                    row[l] = row[model];
                }
            }
            // The warm-up: the bars at the start where every lane keeps its first equity.
            let first: &[f64] = &rows[..LANES];
            let warmup = rows.chunks_exact(LANES).take_while(|&row| row == first).count();
            let mut lanes = Lanes::start(ds, pbo_blocks, first, warmup);
            fold_rows(&mut lanes, rows, warmup);
            for (l, slot) in out.iter_mut().enumerate() {
                if slot.is_none() {
                    *slot = Some(lanes.finish(l, &facts[l]));
                }
            }
        }
        out.into_iter().map(|s| s.expect("every lane folded")).collect()
    }
}

type Row = [f64; LANES];

/// The running sums that change on most bars, one per lane.
#[derive(Debug, Clone, Copy)]
struct Hot {
    prev: Row,
    peak: Row,
    /// The episode's lowest equity.
    low: Row,
    /// `last_zero + 1` (`i64::MAX` before the first): bar `i` ends an episode when `i > nz`.
    nz: [i64; LANES],
    log_sum: Row,
    log_dot: [Row; 2],
    prev_bucket: Row,
    non_positive: [bool; LANES],
    ln_sum: [Row; 2],
    mean: Row,
    m2: Row,
    downside: [Row; 2],
    /// `Σ r`, `Σ r²`, `Σ r³`, `Σ r⁴` of the per-bar returns.
    s: [Row; 4],
    /// The current PBO block's `Σ r` and `Σ r²`.
    cur: [Row; 2],
}

/// The rows of [`Hot`] the per-lane work of a bar reads, as they were before the bar.
#[derive(Debug, Clone, Copy)]
struct Before {
    prev: Row,
    peak: Row,
    low: Row,
    nz: [i64; LANES],
    prev_bucket: Row,
}

/// Every lane's state: the hot sums in rows, the rest (and the common counters) in one
/// [`StatsFold`] and one [`ReturnsFold`] per lane.
struct Lanes<'a> {
    hot: Hot,
    stats: Vec<StatsFold<'a>>,
    returns: Vec<ReturnsFold>,
}

impl<'a> Lanes<'a> {
    /// Each lane after its first `bars` bars, which all hold its equity in `row`: folded
    /// alone, as a [`RunAccumulator`] folds a warm-up the engine reports as flat (in
    /// O(periods)).
    fn start(ds: &'a DatasetStats, pbo_blocks: usize, row: &[f64], bars: usize) -> Lanes<'a> {
        let mut stats = Vec::with_capacity(LANES);
        let mut returns = Vec::with_capacity(LANES);
        for &e in row {
            let mut st = StatsFold::new(ds);
            st.flat(0, bars, e);
            let mut rf = ReturnsFold::new(ds.n_bars(), pbo_blocks);
            rf.flat(bars, e);
            stats.push(st);
            returns.push(rf);
        }
        let row = |f: &dyn Fn(usize) -> f64| -> Row { std::array::from_fn(f) };
        let hot = Hot {
            prev: row(&|l| stats[l].prev),
            peak: row(&|l| stats[l].peak),
            low: row(&|l| stats[l].drawdown.low),
            nz: std::array::from_fn(|l| match stats[l].drawdown.last_zero {
                usize::MAX => i64::MAX,
                z => z as i64 + 1,
            }),
            log_sum: row(&|l| stats[l].log_sum),
            log_dot: [row(&|l| stats[l].log_dot.sum), row(&|l| stats[l].log_dot.comp)],
            prev_bucket: row(&|l| stats[l].periods.prev_bucket),
            non_positive: std::array::from_fn(|l| stats[l].periods.non_positive),
            ln_sum: [row(&|l| stats[l].periods.ln_sum.sum), row(&|l| stats[l].periods.ln_sum.comp)],
            mean: row(&|l| stats[l].periods.moments.mean),
            m2: row(&|l| stats[l].periods.moments.m2),
            downside: [
                row(&|l| stats[l].periods.downside_sq.sum),
                row(&|l| stats[l].periods.downside_sq.comp),
            ],
            s: std::array::from_fn(|k| row(&|l| returns[l].sums.s[k])),
            cur: std::array::from_fn(|k| row(&|l| returns[l].sums.cur[k])),
        };
        Lanes { hot, stats, returns }
    }

    /// Lane `l`'s results: its hot sums written back into its folds, finished as one run's.
    fn finish(&self, l: usize, facts: &RunFacts<'_>) -> (Stats, ReturnStats) {
        let h = &self.hot;
        let mut st = self.stats[l];
        st.prev = h.prev[l];
        st.peak = h.peak[l];
        st.drawdown.low = h.low[l];
        st.drawdown.last_zero = if h.nz[l] == i64::MAX { usize::MAX } else { h.nz[l] as usize - 1 };
        st.log_sum = h.log_sum[l];
        st.log_dot = NeumaierSum { sum: h.log_dot[0][l], comp: h.log_dot[1][l] };
        st.last_ln.0 = f64::NAN.to_bits();
        let p = &mut st.periods;
        p.prev_bucket = h.prev_bucket[l];
        p.non_positive = h.non_positive[l];
        p.ln_sum = NeumaierSum { sum: h.ln_sum[0][l], comp: h.ln_sum[1][l] };
        p.moments.mean = h.mean[l];
        p.moments.m2 = h.m2[l];
        p.downside_sq = NeumaierSum { sum: h.downside[0][l], comp: h.downside[1][l] };
        let mut rf = self.returns[l].clone();
        rf.sums.prev = h.prev[l];
        rf.sums.s = std::array::from_fn(|k| h.s[k][l]);
        rf.sums.cur = std::array::from_fn(|k| h.cur[k][l]);
        (st.finish(facts), rf.finish())
    }
}

/// Folds bars `first..` of `rows` (every bar of every lane) into `lanes`, which hold the bars
/// before; compiled for the CPU it runs on.
#[multiversion(targets(
    "x86_64+avx512f+avx512vl+avx512dq+avx2+fma",
    "x86_64+avx2+fma",
    "x86_64+fma"
))]
fn fold_rows(lanes: &mut Lanes<'_>, rows: &[f64], first: usize) {
    let mut h = lanes.hot;
    let lead = lanes.stats[0];
    let (ds, ts) = (lead.ds, lead.ts);
    let (mut next_bucket, mut next_end) = (lead.next_bucket, lead.next_end);
    let (mut periods, mut returns) = (lead.periods.count, lanes.returns[0].sums.n);
    let mut returns_end = lanes.returns[0].sums.next_end;
    for (k, row) in rows[first * LANES..].chunks_exact(LANES).enumerate() {
        let i = first + k;
        let e: &Row = row.try_into().expect("a row per bar");
        let cd = lead.close_dev[i - 1];
        if i != next_end {
            bar::<false>(&mut h, &mut lanes.stats, e, i, cd, 0.0, ts);
        } else {
            if h.prev_bucket[0].is_nan() {
                // The first period closes: it has no return (in every lane alike).
                bar::<false>(&mut h, &mut lanes.stats, e, i, cd, 0.0, ts);
                h.prev_bucket = *e;
            } else {
                periods += 1;
                bar::<true>(&mut h, &mut lanes.stats, e, i, cd, periods as i64 as f64, ts);
            }
            next_bucket += 1;
            next_end = ds.bucket_ends.get(next_bucket).copied().unwrap_or(usize::MAX);
        }
        returns += 1;
        if returns >= returns_end {
            for (l, rf) in lanes.returns.iter_mut().enumerate() {
                rf.sums.n = returns;
                rf.sums.cur = [h.cur[0][l], h.cur[1][l]];
                rf.close_blocks();
            }
            h.cur = [[0.0; LANES]; 2];
            returns_end = lanes.returns[0].sums.next_end;
        }
    }
    lanes.hot = h;
    for st in &mut lanes.stats {
        st.i = rows.len() / LANES;
        (st.next_bucket, st.next_end) = (next_bucket, next_end);
        st.periods.count = periods;
        st.periods.moments.n = periods;
    }
    for rf in &mut lanes.returns {
        rf.sums.n = returns;
    }
}

/// `s += x` (Neumaier) in lane `l`: the operations of [`NeumaierSum::add`].
#[inline(always)]
fn add(s: &mut [Row; 2], l: usize, x: f64) {
    let (sum, comp) = (s[0][l], s[1][l]);
    let t = sum + x;
    let (big, small) = if sum.abs() >= x.abs() { (sum, x) } else { (x, sum) };
    s[0][l] = t;
    s[1][l] = comp + ((big - t) + small);
}

/// Bar `i` (`e`: its equity in every lane) of all lanes; `CLOSE` when it closes a period with a
/// return, the `n`-th.
#[inline(always)]
fn bar<const CLOSE: bool>(
    h: &mut Hot,
    stats: &mut [StatsFold<'_>],
    e: &Row,
    i: usize,
    cd: f64,
    n: f64,
    ts: &[i64],
) {
    // The ratios and their logarithms near 1, and which lanes need more this bar.
    let (mut ratio, mut log, mut rare) = ([0.0; LANES], [0.0; LANES], 0u32);
    for l in 0..LANES {
        let r = e[l] / h.prev[l];
        ratio[l] = r;
        log[l] = ln_near_one(r);
        let mut more = (e[l] != h.prev[l]) & !near_one(r);
        more |= (e[l] >= h.peak[l]) & (i as i64 > h.nz[l]);
        if CLOSE {
            more |= h.prev_bucket[l].to_bits() != h.prev[l].to_bits();
            more |= (1.0 + (r - 1.0)).to_bits() != r.to_bits();
        }
        rare |= u32::from(more) << l;
    }
    // The period's growth and its logarithm: the bar's ratio, unless `rare` says otherwise.
    let (mut growth, mut growth_log) = (ratio, log);
    if rare != 0 {
        // The rows it reads, copied: the running sums stay out of memory.
        let before =
            Before { prev: h.prev, peak: h.peak, low: h.low, nz: h.nz, prev_bucket: h.prev_bucket };
        rare_lanes(
            before,
            stats,
            e,
            i,
            ts,
            rare,
            &ratio,
            &mut log,
            CLOSE,
            &mut growth,
            &mut growth_log,
        );
    }
    // Where a run adds nothing on a bar (its equity did not change, its period return is 0),
    // its lane adds +0 instead: the logarithm of a ratio of 1 and the return `1 - 1` are +0,
    // and adding +0 changes no bit of these sums, which start at +0 and so are never -0 (a
    // round-to-nearest sum is -0 only when both terms are). Updating every lane alike, rather
    // than selecting what to store, also keeps the rows out of masked stores, which the next
    // bar's loads would have to wait for.
    for l in 0..LANES {
        let el = e[l];
        // The log return, times the market's for Beta.
        let a = log[l];
        h.log_sum[l] += a;
        add(&mut h.log_dot, l, a * cd);
        h.prev[l] = el;
        // Drawdown: a new high starts an episode (`rare_lanes` closed the last one). Every
        // lane had its high on bar 0, and `i + 1` is past every earlier `nz`.
        let high = el >= h.peak[l];
        h.nz[l] = h.nz[l].max(if high { i as i64 + 1 } else { 0 });
        let low = if el < h.low[l] { el } else { h.low[l] };
        h.low[l] = if high { f64::INFINITY } else { low };
        h.peak[l] = h.peak[l].max(el);
        // The per-bar return's sums (the return statistics).
        let r = ratio[l] - 1.0;
        let r2 = r * r;
        let sums = [r, r2, r2 * r, r2 * r2];
        for (s, x) in h.s.iter_mut().zip(sums) {
            s[l] += x;
        }
        for (s, x) in h.cur.iter_mut().zip(sums) {
            s[l] += x;
        }
        if CLOSE {
            let r = growth[l] - 1.0;
            h.prev_bucket[l] = el;
            let g = 1.0 + r;
            h.non_positive[l] |= g <= 0.0;
            add(&mut h.ln_sum, l, growth_log[l]);
            let delta = r - h.mean[l];
            h.mean[l] += delta / n;
            h.m2[l] += delta * (r - h.mean[l]);
            let down = if r < 0.0 { r } else { 0.0 };
            add(&mut h.downside, l, down * down);
        }
    }
}

/// The per-lane work of bar `i` in the `rare` lanes: a logarithm away from 1, the end of a
/// drawdown episode, a period growth that is not the bar's ratio.
#[cold]
#[inline(never)]
#[allow(clippy::too_many_arguments)]
fn rare_lanes(
    h: Before,
    stats: &mut [StatsFold<'_>],
    e: &Row,
    i: usize,
    ts: &[i64],
    rare: u32,
    ratio: &Row,
    log: &mut Row,
    close: bool,
    growth: &mut Row,
    growth_log: &mut Row,
) {
    for l in (0..LANES).filter(|&l| rare & (1 << l) != 0) {
        let changed = e[l] != h.prev[l];
        if changed && !near_one(ratio[l]) {
            log[l] = ln(ratio[l]);
        }
        if e[l] >= h.peak[l] && i as i64 > h.nz[l] {
            let last_zero = (h.nz[l] - 1) as usize;
            let depth = 1.0 - h.low[l] / h.peak[l];
            stats[l].drawdown.record(depth, ts[i] - ts[last_zero]);
        }
        if close {
            let pb = h.prev_bucket[l];
            growth[l] = if pb.to_bits() == h.prev[l].to_bits() { ratio[l] } else { e[l] / pb };
            let g = 1.0 + (growth[l] - 1.0);
            growth_log[l] =
                if changed && g.to_bits() == ratio[l].to_bits() { log[l] } else { ln(g) };
        }
    }
}
