//! The Probability of Backtest Overfitting by combinatorially symmetric cross-validation.
//!
//! Per split (a choice of `S/2` in-sample blocks) every trial's `sr` is computed twice, in and
//! out of sample, from its per-block sums: `C(16, 8) = 12,870` splits times `N` trials times
//! two. The trials are stored in chunks of [`LANES`], block-major inside a chunk. For each
//! chunk, the sums over every subset of each half of the blocks are tabulated once (`2^(S/2)`
//! per half, each summed in ascending block order from 0), so a split's sum over its blocks is
//! one addition per lane: the low half's subset plus the high half's. Pass 1 finds each split's
//! best in-sample trial over ranges of chunks (merged in order), pass 2 counts where it ranks
//! out of sample; a split's figures are the same floating-point operations whatever the ranges,
//! so any partition over threads gives the same bytes.

use super::{better, key};
use bt_domain::numeric::{np_mean, np_sum};

/// Trials per chunk.
const LANES: usize = 64;

/// The most memory [`PboData::run_one_chunk`] holds (64 MiB): every split's `sr` of every trial.
const TABLED_BYTES: usize = 64 << 20;

/// The trials of a group as the PBO needs them: per trial and block, the sum and the sum of
/// squares of its returns (every trial of a group has the same `T`, hence the same blocks).
#[derive(Debug, Clone)]
pub struct PboData {
    n: usize,
    s: usize,
    t: u64,
    counts: Vec<u64>,
    /// Chunk-major; inside chunk `c`, block `b`'s `LANES` sums then its `LANES` squares.
    data: Vec<f64>,
}

/// What one split (a choice of in-sample blocks) gives.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SplitOutcome {
    /// The trial with the best in-sample `sr` (first in queue order on ties).
    pub best: usize,
    /// Its in-sample `sr`.
    pub is_sr: f64,
    /// Its out-of-sample `sr`.
    pub oos_sr: f64,
    /// Its out-of-sample rank: `1 + #(lower) + #(other equal) / 2`.
    pub rank: f64,
    /// `ln(w / (1 - w))`, `w = rank / (N + 1)`.
    pub lambda: f64,
}

impl PboData {
    /// No trials yet, `s` blocks over `t` returns.
    pub fn new(s: usize, t: u64) -> PboData {
        let tu = t as usize;
        let counts = if s > 0 {
            (0..s).map(|b| ((b + 1) * tu / s - b * tu / s) as u64).collect()
        } else {
            Vec::new()
        };
        PboData { n: 0, s, t, counts, data: Vec::new() }
    }

    /// The data of `trials` (in queue order); `None` when the PBO is undefined (see
    /// [`super::TrialGroup::into_pbo_data`]).
    pub fn of(trials: &[&bt_domain::ReturnStats]) -> Option<PboData> {
        super::TrialGroup::of(trials).into_pbo_data()
    }

    /// Whether the blocks allow a PBO: an even number of them, at least 2, none empty.
    pub fn is_defined(&self) -> bool {
        self.s >= 2 && self.s.is_multiple_of(2) && self.t >= self.s as u64
    }

    /// Adds the next trial; `false` (and nothing added) when its `T` or number of blocks
    /// differs from the group's.
    pub fn push(&mut self, t: u64, blocks: &[[f64; 2]]) -> bool {
        if t != self.t || blocks.len() != self.s {
            return false;
        }
        if self.is_defined() {
            let lane = self.n % LANES;
            if lane == 0 {
                self.data.resize(self.data.len() + self.s * 2 * LANES, 0.0);
            }
            let base = self.data.len() - self.s * 2 * LANES;
            for (b, [sum, sq]) in blocks.iter().enumerate() {
                self.data[base + 2 * b * LANES + lane] = *sum;
                self.data[base + (2 * b + 1) * LANES + lane] = *sq;
            }
        }
        self.n += 1;
        true
    }

    /// Trials.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Blocks `S`.
    pub fn blocks(&self) -> usize {
        self.s
    }

    /// The splits: every choice of `S/2` in-sample blocks, as bit masks, in the order of
    /// `itertools.combinations(range(S), S/2)`.
    pub fn splits(&self) -> Vec<u32> {
        let (s, k) = (self.s, self.s / 2);
        let mut out = Vec::new();
        let mut idx: Vec<usize> = (0..k).collect();
        loop {
            out.push(idx.iter().fold(0u32, |m, &b| m | (1 << b)));
            // Next combination in lexicographic order.
            let Some(i) = (0..k).rev().find(|&i| idx[i] != i + s - k) else { return out };
            idx[i] += 1;
            for j in i + 1..k {
                idx[j] = idx[j - 1] + 1;
            }
        }
    }

    /// Chunks of trials.
    pub fn chunks(&self) -> usize {
        self.n.div_ceil(LANES)
    }

    /// Blocks in the low half (`A`) and the high half (`B`) of a mask.
    fn halves(&self) -> (usize, usize) {
        (self.s / 2, self.s - self.s / 2)
    }

    /// The reciprocals of `n` and `n - 1` for the returns of a set of blocks.
    fn counts_of(&self, mask: u32) -> (f64, f64) {
        let n: u64 = (0..self.s).filter(|b| (mask >> b) & 1 == 1).map(|b| self.counts[b]).sum();
        let n = n as f64;
        (1.0 / n, 1.0 / (n - 1.0))
    }

    /// Per subset of each half of the blocks, the sums (then the squares) of every lane of
    /// chunk `c`, each subset summed in ascending block order from 0.
    fn tables(&self, c: usize) -> [Vec<f64>; 2] {
        let chunk = &self.data[c * self.s * 2 * LANES..][..self.s * 2 * LANES];
        let (a, b) = self.halves();
        [(0, a), (a, b)].map(|(first, size)| {
            let mut t = vec![0.0; (1 << size) * 2 * LANES];
            for sub in 1..(1usize << size) {
                let high = usize::BITS as usize - 1 - sub.leading_zeros() as usize;
                let (rest, block) = (sub & !(1 << high), first + high);
                let (src, row) = (rest * 2 * LANES, sub * 2 * LANES);
                for i in 0..2 * LANES {
                    let add = chunk[2 * block * LANES + i];
                    t[row + i] = t[src + i] + add;
                }
            }
            t
        })
    }

    /// The `sr` of the first `out.len()` lanes over the blocks of `mask`, from the chunk's
    /// `tables` (the lanes past a group's last trial are not computed: a small group costs its
    /// trials, not a whole chunk's).
    #[inline]
    fn sr_lanes(&self, tables: &[Vec<f64>; 2], mask: u32, inv: (f64, f64), out: &mut [f64]) {
        let a = self.halves().0;
        let (ma, mb) = ((mask as usize) & ((1 << a) - 1), (mask as usize) >> a);
        let ta = &tables[0][ma * 2 * LANES..][..2 * LANES];
        let tb = &tables[1][mb * 2 * LANES..][..2 * LANES];
        let (sa, qa) = ta.split_at(LANES);
        let (sb, qb) = tb.split_at(LANES);
        let n = out.len().min(LANES);
        let (sa, qa, sb, qb) = (&sa[..n], &qa[..n], &sb[..n], &qb[..n]);
        for i in 0..n {
            let (sum, sq) = (sa[i] + sb[i], qa[i] + qb[i]);
            let mean = sum * inv.0;
            out[i] = mean / ((sq - sum * mean) * inv.1).sqrt();
        }
    }

    /// Trial `k`'s `sr` over the blocks of `mask`: the lane computation for one trial.
    pub fn sr_of(&self, k: usize, mask: u32) -> f64 {
        let chunk = &self.data[(k / LANES) * self.s * 2 * LANES..][..self.s * 2 * LANES];
        let (lane, a) = (k % LANES, self.halves().0);
        let part = |range: std::ops::Range<usize>| {
            let (mut sum, mut sq) = (0.0, 0.0);
            for b in range.filter(|b| (mask >> b) & 1 == 1) {
                sum += chunk[2 * b * LANES + lane];
                sq += chunk[(2 * b + 1) * LANES + lane];
            }
            (sum, sq)
        };
        let ((sa, qa), (sb, qb)) = (part(0..a), part(a..self.s));
        let (sum, sq) = (sa + sb, qa + qb);
        let inv = self.counts_of(mask);
        let mean = sum * inv.0;
        mean / ((sq - sum * mean) * inv.1).sqrt()
    }

    /// The complement of `mask` among the blocks: the out-of-sample blocks.
    fn outside(&self, mask: u32) -> u32 {
        !mask & ((1u32 << self.s) - 1)
    }

    /// Pass 1 over chunks `chunks`: per split of `masks`, the trial with the best in-sample
    /// `sr` among them and that `sr` (`usize::MAX` when the range holds no trial).
    pub fn best_in(&self, chunks: std::ops::Range<usize>, masks: &[u32]) -> Vec<Best> {
        let inv: Vec<(f64, f64)> = masks.iter().map(|&m| self.counts_of(m)).collect();
        let mut best = vec![Best { trial: usize::MAX, sr: f64::NAN }; masks.len()];
        let mut lanes = [0.0; LANES];
        for c in chunks {
            let tables = self.tables(c);
            let (first, valid) = (c * LANES, (self.n - c * LANES).min(LANES));
            for ((&m, &inv), b) in masks.iter().zip(&inv).zip(&mut best) {
                let lanes = &mut lanes[..valid];
                self.sr_lanes(&tables, m, inv, lanes);
                let lanes = &*lanes;
                // The chunk's largest value (NaN only when every lane is NaN), then its first
                // lane: the same choice as a scan keeping the first strictly better value.
                let top = lanes.iter().copied().fold(f64::NAN, f64::max);
                if b.trial == usize::MAX || better(top, b.sr) {
                    let i = if top.is_nan() {
                        0
                    } else {
                        lanes.iter().position(|&v| v == top).unwrap_or(0)
                    };
                    *b = Best { trial: first + i, sr: lanes[i] };
                }
            }
        }
        best
    }

    /// The results of [`PboData::best_in`] over consecutive chunk ranges, combined in order:
    /// the best over all of them (ties to the earlier trial).
    pub fn merge_best(parts: &[Vec<Best>]) -> Vec<Best> {
        let mut out = parts.first().cloned().unwrap_or_default();
        for part in parts.iter().skip(1) {
            for (o, p) in out.iter_mut().zip(part) {
                if p.trial != usize::MAX && (o.trial == usize::MAX || better(p.sr, o.sr)) {
                    *o = *p;
                }
            }
        }
        out
    }

    /// Pass 2 over chunks `chunks`: per split, how many trials other than `best` have a lower
    /// and an equal out-of-sample `sr` than `star` (the best's).
    pub fn count_in(
        &self,
        chunks: std::ops::Range<usize>,
        masks: &[u32],
        best: &[Best],
        star: &[f64],
    ) -> Vec<(u64, u64)> {
        let outside: Vec<u32> = masks.iter().map(|&m| self.outside(m)).collect();
        let inv: Vec<(f64, f64)> = outside.iter().map(|&m| self.counts_of(m)).collect();
        let mut counts = vec![(0u64, 0u64); masks.len()];
        let mut lanes = [0.0; LANES];
        for c in chunks {
            let tables = self.tables(c);
            let (first, valid) = (c * LANES, (self.n - c * LANES).min(LANES));
            for p in 0..masks.len() {
                let lanes = &mut lanes[..valid];
                self.sr_lanes(&tables, outside[p], inv[p], lanes);
                let (t, (lower, equal)) = (star[p], &mut counts[p]);
                let lanes = &*lanes;
                // NaN ranks below every number and equals NaN (`key`), counted without branches;
                // the best itself, in this chunk, is taken out of the equal ones.
                if t.is_nan() {
                    *equal += lanes.iter().map(|v| u64::from(v.is_nan())).sum::<u64>();
                } else {
                    *lower += lanes.iter().map(|&v| u64::from(v < t || v.is_nan())).sum::<u64>();
                    *equal += lanes.iter().map(|&v| u64::from(v == t)).sum::<u64>();
                }
                let k = best[p].trial;
                if (first..first + valid).contains(&k) {
                    debug_assert_eq!(key(lanes[k - first]), key(t));
                    *equal -= 1;
                }
            }
        }
        counts
    }

    /// The out-of-sample `sr` of each split's best trial.
    pub fn stars(&self, masks: &[u32], best: &[Best]) -> Vec<f64> {
        masks.iter().zip(best).map(|(&m, b)| self.sr_of(b.trial, self.outside(m))).collect()
    }

    /// The outcome of each split from the passes' results.
    pub fn outcomes(
        &self,
        best: &[Best],
        star: &[f64],
        counts: &[(u64, u64)],
    ) -> Vec<SplitOutcome> {
        best.iter()
            .zip(star)
            .zip(counts)
            .map(|((b, &oos_sr), &(lower, equal))| {
                let (k, is_sr) = (b.trial, b.sr);
                let rank = 1.0 + lower as f64 + equal as f64 / 2.0;
                let w = rank / (self.n as f64 + 1.0);
                SplitOutcome { best: k, is_sr, oos_sr, rank, lambda: (w / (1.0 - w)).ln() }
            })
            .collect()
    }

    /// Every split of `masks` on the calling thread (see the passes above for threads).
    pub fn run(&self, masks: &[u32]) -> Vec<SplitOutcome> {
        if let Some(outcomes) = self.run_one_chunk(masks) {
            return outcomes;
        }
        let all = 0..self.chunks();
        let best = self.best_in(all.clone(), masks);
        let star = self.stars(masks, &best);
        let counts = self.count_in(all, masks, &best, &star);
        self.outcomes(&best, &star, &counts)
    }

    /// Every split of a group of one chunk of trials (at most 64), when `masks` are all
    /// the splits in [`PboData::splits`]'s order; `None` otherwise.
    ///
    /// A split's out-of-sample blocks are another split's in-sample ones (in that order the
    /// complement of split `i` is split `C - 1 - i`), so each split's `sr` lanes are computed
    /// once and serve both passes, instead of once per pass: the same operations, half as many
    /// square roots and divisions. What a small group costs is then about half its fixed cost
    /// (12,870 splits at 16 blocks whatever the group's size). Larger groups keep the two
    /// passes: the table would hold every split's `sr` of every trial, and with several chunks
    /// reading it back is slower than computing it twice (measured on the 300-trial grid: 60
    /// against 55 ms for the whole run on 2 threads). The table is at most `TABLED_BYTES`
    /// (6.6 MB at 16 blocks; at 20 blocks a group of 64 trials would need 95 MB and takes the
    /// two passes).
    pub fn run_one_chunk(&self, masks: &[u32]) -> Option<Vec<SplitOutcome>> {
        let m = masks.len();
        if self.chunks() != 1 || m < 2 || m.saturating_mul(self.n).saturating_mul(8) > TABLED_BYTES
        {
            return None;
        }
        if (0..m).any(|i| self.outside(masks[i]) != masks[m - 1 - i]) {
            return None;
        }
        let (tables, valid) = (self.tables(0), self.n);
        let mut sr = vec![0.0; m * valid];
        for (&mask, lanes) in masks.iter().zip(sr.chunks_exact_mut(valid)) {
            self.sr_lanes(&tables, mask, self.counts_of(mask), lanes);
        }
        let lanes = |i: usize| &sr[i * valid..(i + 1) * valid];
        let mut best = Vec::with_capacity(m);
        let mut star = Vec::with_capacity(m);
        let mut counts = Vec::with_capacity(m);
        for i in 0..m {
            // Pass 1 on one chunk: its largest value, then its first lane (see best_in).
            let inside = lanes(i);
            let top = inside.iter().copied().fold(f64::NAN, f64::max);
            let k =
                if top.is_nan() { 0 } else { inside.iter().position(|&v| v == top).unwrap_or(0) };
            best.push(Best { trial: k, sr: inside[k] });
            // Pass 2: the out-of-sample blocks are split m - 1 - i's in-sample ones.
            let outside = lanes(m - 1 - i);
            let t = outside[k];
            star.push(t);
            let (mut lower, mut equal) = (0u64, 0u64);
            if t.is_nan() {
                equal += outside.iter().map(|v| u64::from(v.is_nan())).sum::<u64>();
            } else {
                lower += outside.iter().map(|&v| u64::from(v < t || v.is_nan())).sum::<u64>();
                equal += outside.iter().map(|&v| u64::from(v == t)).sum::<u64>();
            }
            counts.push((lower, equal - 1));
        }
        Some(self.outcomes(&best, &star, &counts))
    }

    /// One split.
    pub fn split(&self, mask: u32) -> SplitOutcome {
        self.run(&[mask])[0]
    }
}

/// A split's best in-sample trial among some trials (`usize::MAX`: none) and its `sr`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Best {
    /// The trial.
    pub trial: usize,
    /// Its in-sample `sr`.
    pub sr: f64,
}

/// The PBO of a group from its splits' outcomes (in split order).
#[derive(Debug, Clone, PartialEq)]
pub struct Pbo {
    /// Blocks `S`.
    pub blocks: usize,
    /// Splits: `C(S, S/2)`.
    pub splits: usize,
    /// The fraction of splits with `lambda <= 0`.
    pub pbo: f64,
    /// numpy's median of the lambdas.
    pub median_lambda: f64,
    /// The least-squares slope of the best in-sample trial's out-of-sample `sr` on its
    /// in-sample `sr`, over the splits where both are defined.
    pub degradation: f64,
    /// The fraction of splits whose best in-sample trial has an out-of-sample `sr` below 0.
    pub prob_loss: f64,
    /// Every split's lambda, in split order (for the report's histogram).
    pub lambdas: Vec<f64>,
    /// Every split's (in-sample, out-of-sample) `sr` of its best trial (for the scatter).
    pub is_oos: Vec<(f64, f64)>,
}

impl Pbo {
    /// Summarises `outcomes`, one per split of [`PboData::splits`], for `blocks` blocks.
    pub fn new(blocks: usize, outcomes: &[SplitOutcome]) -> Pbo {
        let m = outcomes.len();
        let lambdas: Vec<f64> = outcomes.iter().map(|o| o.lambda).collect();
        let pbo = lambdas.iter().filter(|l| **l <= 0.0).count() as f64 / m as f64;
        let mut sorted = lambdas.clone();
        sorted.sort_by(f64::total_cmp);
        let median = if m == 0 {
            f64::NAN
        } else if m % 2 == 1 {
            sorted[m / 2]
        } else {
            (sorted[m / 2 - 1] + sorted[m / 2]) / 2.0
        };
        let is_oos: Vec<(f64, f64)> = outcomes.iter().map(|o| (o.is_sr, o.oos_sr)).collect();
        // The regression uses the splits where both Sharpe ratios are numbers (a winner that
        // is flat out of sample has none there).
        let pairs: Vec<(f64, f64)> =
            is_oos.iter().copied().filter(|(a, b)| !a.is_nan() && !b.is_nan()).collect();
        let x: Vec<f64> = pairs.iter().map(|p| p.0).collect();
        let y: Vec<f64> = pairs.iter().map(|p| p.1).collect();
        let (mx, my) = (np_mean(&x), np_mean(&y));
        let cov: Vec<f64> = pairs.iter().map(|(a, b)| (a - mx) * (b - my)).collect();
        let var: Vec<f64> = x.iter().map(|a| (a - mx) * (a - mx)).collect();
        let var_sum = np_sum(&var);
        let degradation = if var_sum > 0.0 { np_sum(&cov) / var_sum } else { f64::NAN };
        let prob_loss = is_oos.iter().filter(|p| p.1 < 0.0).count() as f64 / m as f64;
        Pbo {
            blocks,
            splits: m,
            pbo,
            median_lambda: median,
            degradation,
            prob_loss,
            lambdas,
            is_oos,
        }
    }
}
