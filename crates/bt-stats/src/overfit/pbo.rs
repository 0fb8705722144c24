//! The Probability of Backtest Overfitting by combinatorially symmetric cross-validation.
//!
//! Per split (a choice of `S/2` in-sample blocks) every trial's `sr` is computed twice, in and
//! out of sample, from its per-block sums: `C(16, 8) = 12,870` splits times `N` trials times
//! two. The trials are stored in chunks of [`LANES`], block-major inside a chunk, so a split
//! sums whole rows of a chunk (vectorised) while the chunk sits in cache, and a batch of
//! splits shares each pass over the data. Every `sr` is the same sequence of floating-point
//! operations as the definition's (blocks summed in ascending order from 0), so the outcome
//! of a split depends on nothing but the split: any batching, any thread count, same bytes.

use super::{better, key};
use bt_domain::numeric::{np_mean, np_sum};

/// Trials per chunk.
const LANES: usize = 64;

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

/// One split's blocks and return counts, in and out of sample.
struct Plan {
    inside: Vec<usize>,
    outside: Vec<usize>,
    n_in: f64,
    n_out: f64,
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

    fn plan(&self, mask: u32) -> Plan {
        let (inside, outside): (Vec<usize>, Vec<usize>) =
            (0..self.s).partition(|b| (mask >> b) & 1 == 1);
        let count = |blocks: &[usize]| blocks.iter().map(|&b| self.counts[b]).sum::<u64>() as f64;
        Plan { n_in: count(&inside), n_out: count(&outside), inside, outside }
    }

    fn chunks(&self) -> impl Iterator<Item = (usize, &[f64])> {
        self.data.chunks_exact(self.s * 2 * LANES).enumerate().map(|(c, chunk)| (c * LANES, chunk))
    }

    /// One split: the best in-sample trial and where it ranks out of sample.
    pub fn split(&self, mask: u32) -> SplitOutcome {
        self.run(&[mask])[0]
    }

    /// The outcomes of `masks`, in their order: two passes over the data whatever their number.
    pub fn run(&self, masks: &[u32]) -> Vec<SplitOutcome> {
        let plans: Vec<Plan> = masks.iter().map(|&m| self.plan(m)).collect();
        let mut lanes = [0.0; LANES];
        // Pass 1: the best in-sample trial of every split.
        let mut best: Vec<(usize, f64)> = vec![(usize::MAX, f64::NAN); plans.len()];
        for (first, chunk) in self.chunks() {
            let valid = (self.n - first).min(LANES);
            for (plan, b) in plans.iter().zip(&mut best) {
                sr_lanes(chunk, &plan.inside, plan.n_in, &mut lanes);
                for (i, &v) in lanes[..valid].iter().enumerate() {
                    if b.0 == usize::MAX || better(v, b.1) {
                        *b = (first + i, v);
                    }
                }
            }
        }
        // The best's out-of-sample sr, then pass 2: how many trials it beats out of sample.
        let star: Vec<f64> =
            plans.iter().zip(&best).map(|(p, &(k, _))| self.sr(k, &p.outside, p.n_out)).collect();
        let mut counts = vec![(0u64, 0u64); plans.len()];
        for (first, chunk) in self.chunks() {
            let valid = (self.n - first).min(LANES);
            for (p, plan) in plans.iter().enumerate() {
                sr_lanes(chunk, &plan.outside, plan.n_out, &mut lanes);
                let (target, (lower, equal)) = (key(star[p]), &mut counts[p]);
                for (i, &v) in lanes[..valid].iter().enumerate() {
                    if first + i == best[p].0 {
                        continue;
                    }
                    match key(v).partial_cmp(&target) {
                        Some(std::cmp::Ordering::Less) => *lower += 1,
                        Some(std::cmp::Ordering::Equal) => *equal += 1,
                        _ => {}
                    }
                }
            }
        }
        (0..plans.len())
            .map(|p| {
                let rank = 1.0 + counts[p].0 as f64 + counts[p].1 as f64 / 2.0;
                let w = rank / (self.n as f64 + 1.0);
                SplitOutcome {
                    best: best[p].0,
                    is_sr: best[p].1,
                    oos_sr: star[p],
                    rank,
                    lambda: (w / (1.0 - w)).ln(),
                }
            })
            .collect()
    }

    /// Trial `k`'s `sr` over `blocks` (`n` returns): the lane computation for one trial.
    fn sr(&self, k: usize, blocks: &[usize], n: f64) -> f64 {
        let chunk = &self.data[(k / LANES) * self.s * 2 * LANES..][..self.s * 2 * LANES];
        let mut lanes = [0.0; LANES];
        sr_lanes(chunk, blocks, n, &mut lanes);
        lanes[k % LANES]
    }
}

/// The `sr` of every lane of `chunk` over `blocks` (ascending) holding `n` returns:
/// `mean / sqrt((sumsq - sum * mean) / (n - 1))`, `mean = sum / n`.
#[inline]
fn sr_lanes(chunk: &[f64], blocks: &[usize], n: f64, out: &mut [f64; LANES]) {
    let mut sum = [0.0f64; LANES];
    let mut sq = [0.0f64; LANES];
    for &b in blocks {
        let (s, q) = chunk[2 * b * LANES..(2 * b + 2) * LANES].split_at(LANES);
        for i in 0..LANES {
            sum[i] += s[i];
            sq[i] += q[i];
        }
    }
    for i in 0..LANES {
        let mean = sum[i] / n;
        out[i] = mean / ((sq[i] - sum[i] * mean) / (n - 1.0)).sqrt();
    }
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
