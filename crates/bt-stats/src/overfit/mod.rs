//! Is the winner real? The statistics of docs/validation.md:
//!
//! - per simulation ([`ReturnsAccumulator`], streamed in O(1) memory as the equity arrives):
//!   the per-bar Sharpe ratio `sr`, skewness, kurtosis and the Probabilistic Sharpe Ratio, and
//!   the per-block sums of its returns;
//! - per group of trials ([`TrialGroup`], fed one trial at a time in queue order, 2 S + 1
//!   numbers kept per trial): the Deflated Sharpe Ratio of the best trial ([`Deflated`]) and
//!   the Probability of Backtest Overfitting by combinatorially symmetric cross-validation
//!   ([`PboData`], whose splits a caller spreads over threads in batches; [`Pbo`] sums them up).

mod group;
mod pbo;
pub(crate) mod returns;

pub use self::{
    group::{Deflated, EULER_GAMMA, TrialGroup},
    pbo::{Best, Pbo, PboData, SplitOutcome},
    returns::{ReturnsAccumulator, psr},
};

/// Orders Sharpe ratios with NaN below every number (a trial without a defined Sharpe ratio
/// never wins, and ranks lowest).
#[inline]
fn key(x: f64) -> (bool, f64) {
    (!x.is_nan(), if x.is_nan() { 0.0 } else { x })
}

/// Whether `a` beats `b` (strictly: on a tie the earlier trial stays best).
#[inline]
fn better(a: f64, b: f64) -> bool {
    !a.is_nan() && (b.is_nan() || a > b)
}

#[cfg(test)]
mod tests {
    use bt_domain::{EquityObserver, ReturnStats, rng::SplitMix64};

    use super::*;

    fn stats(equity: &[f64], blocks: usize) -> ReturnStats {
        let mut acc = ReturnsAccumulator::new(equity.len(), blocks);
        for (i, e) in equity.iter().enumerate() {
            acc.on_equity(i, *e);
        }
        acc.finish()
    }

    #[test]
    fn moments_of_a_known_series() {
        // Returns 0.1, -0.05, 0.02, 0.0 (T = 4).
        let e = [100.0, 110.0, 104.5, 106.59, 106.59];
        let r = stats(&e, 2);
        assert_eq!(r.t, 4);
        let x = [110.0 / 100.0 - 1.0, 104.5 / 110.0 - 1.0, 106.59 / 104.5 - 1.0, 0.0];
        let mean = x.iter().sum::<f64>() / 4.0;
        let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / 3.0;
        assert!((r.sr - mean / var.sqrt()).abs() < 1e-12, "{r:?}");
        assert_eq!(r.blocks.len(), 2);
        assert!((r.blocks[0][0] - (x[0] + x[1])).abs() < 1e-15);
        assert!((r.blocks[1][1] - x[2] * x[2]).abs() < 1e-18);
        // A flat curve has no variance: everything NaN.
        let flat = stats(&[1.0; 10], 4);
        assert!(flat.sr.is_nan() && flat.skew.is_nan() && flat.psr.is_nan());
        assert_eq!(flat.blocks.len(), 4);
    }

    #[test]
    fn splits_are_the_combinations_in_lexicographic_order() {
        let trial = ReturnStats { t: 8, blocks: vec![[0.0; 2]; 4], ..ReturnStats::missing() };
        let data = PboData::of(&[&trial, &trial]).unwrap();
        assert_eq!(data.splits(), [0b0011, 0b0101, 0b1001, 0b0110, 0b1010, 0b1100]);
        let six = ReturnStats { t: 60, blocks: vec![[0.0; 2]; 16], ..ReturnStats::missing() };
        assert_eq!(PboData::of(&[&six, &six]).unwrap().splits().len(), 12870);
        assert!(PboData::of(&[&six]).is_none(), "one trial");
    }

    /// The definition, one trial at a time: the low half's blocks summed in ascending order,
    /// the high half's, then the two added; divisions by `n` and `n - 1` as multiplications by
    /// their reciprocals (docs/validation.md).
    fn naive(trials: &[ReturnStats], mask: u32) -> SplitOutcome {
        let t = trials[0].t as usize;
        let s = trials[0].blocks.len();
        let sr = |r: &ReturnStats, inside: bool| {
            let mut n = 0usize;
            let mut half = |range: std::ops::Range<usize>| {
                let (mut sum, mut sq) = (0.0, 0.0);
                for b in range.filter(|&b| ((mask >> b) & 1 == 1) == inside) {
                    n += (b + 1) * t / s - b * t / s;
                    sum += r.blocks[b][0];
                    sq += r.blocks[b][1];
                }
                (sum, sq)
            };
            let ((sa, qa), (sb, qb)) = (half(0..s / 2), half(s / 2..s));
            let (sum, sq) = (sa + sb, qa + qb);
            let nf = n as f64;
            let mean = sum * (1.0 / nf);
            mean / ((sq - sum * mean) * (1.0 / (nf - 1.0))).sqrt()
        };
        let mut best = 0;
        for k in 1..trials.len() {
            if better(sr(&trials[k], true), sr(&trials[best], true)) {
                best = k;
            }
        }
        let oos = sr(&trials[best], false);
        let (mut lower, mut equal) = (0, 0);
        for (_, r) in trials.iter().enumerate().filter(|(k, _)| *k != best) {
            match key(sr(r, false)).partial_cmp(&key(oos)) {
                Some(std::cmp::Ordering::Less) => lower += 1,
                Some(std::cmp::Ordering::Equal) => equal += 1,
                _ => {}
            }
        }
        let rank = 1.0 + lower as f64 + equal as f64 / 2.0;
        let w = rank / (trials.len() as f64 + 1.0);
        SplitOutcome {
            best,
            is_sr: sr(&trials[best], true),
            oos_sr: oos,
            rank,
            lambda: (w / (1.0 - w)).ln(),
        }
    }

    #[test]
    fn chunked_splits_equal_the_definition_bit_for_bit() {
        // 150 trials (three chunks, the last partial): random walks, exact duplicates (ties),
        // flat curves (NaN sr everywhere) and flat stretches (NaN in some blocks only).
        let mut rng = SplitMix64::new(7);
        let mut trials: Vec<ReturnStats> = (0..150)
            .map(|k| {
                let mut e = 100.0;
                let curve: Vec<f64> = (0..121)
                    .map(|i| {
                        if k % 11 != 3 && !(k % 7 == 2 && i < 60) {
                            let drift = if k == 17 { 0.46 } else { 0.5 };
                            e *= 1.0 + (rng.unit_f64() - drift) * 0.04;
                        }
                        e
                    })
                    .collect();
                stats(&curve, 8)
            })
            .collect();
        // Trial 17 drifts up, so it wins in sample often; its twin in another chunk ties it.
        trials[100] = trials[17].clone();
        let refs: Vec<&ReturnStats> = trials.iter().collect();
        let data = PboData::of(&refs).unwrap();
        let masks = data.splits();
        let batch = data.run(&masks);
        // The passes over ranges of chunks, merged, give the same bytes as one pass.
        let parts: Vec<_> = (0..data.chunks()).map(|c| data.best_in(c..c + 1, &masks)).collect();
        let best = PboData::merge_best(&parts);
        let star = data.stars(&masks, &best);
        let counts: Vec<(u64, u64)> = (0..data.chunks())
            .map(|c| data.count_in(c..c + 1, &masks, &best, &star))
            .fold(vec![(0, 0); masks.len()], |acc, part| {
                acc.iter().zip(&part).map(|(a, b)| (a.0 + b.0, a.1 + b.1)).collect()
            });
        assert_eq!(data.outcomes(&best, &star, &counts), batch);
        for (k, &m) in masks.iter().enumerate() {
            let want = naive(&trials, m);
            for got in [batch[k], data.split(m)] {
                assert_eq!(got.best, want.best, "split {m:#b}");
                assert_eq!(got.is_sr.to_bits(), want.is_sr.to_bits(), "split {m:#b}");
                assert_eq!(got.oos_sr.to_bits(), want.oos_sr.to_bits(), "split {m:#b}");
                assert_eq!(got.rank, want.rank, "split {m:#b}");
            }
        }
        assert!(masks.iter().any(|&m| naive(&trials, m).rank.fract() != 0.0), "ties are exercised");
    }

    #[test]
    fn small_groups_compute_each_split_once_with_the_same_bits() {
        // Groups of one chunk take `run_one_chunk`: the same outcomes as the two passes and as
        // the definition, with ties (duplicates) and NaN sr (flat trials), at several S.
        let bits = |o: &SplitOutcome| {
            (o.best, o.is_sr.to_bits(), o.oos_sr.to_bits(), o.rank.to_bits(), o.lambda.to_bits())
        };
        let mut rng = SplitMix64::new(19);
        for (n, s) in [(2, 4), (3, 16), (10, 16), (37, 8), (64, 16), (64, 6)] {
            let mut trials: Vec<ReturnStats> = (0..n)
                .map(|k| {
                    let mut e = 100.0;
                    let curve: Vec<f64> = (0..97)
                        .map(|_| {
                            if k % 9 != 4 {
                                e *= 1.0 + (rng.unit_f64() - 0.5) * 0.04;
                            }
                            e
                        })
                        .collect();
                    stats(&curve, s)
                })
                .collect();
            if n > 2 {
                trials[n - 1] = trials[0].clone();
            }
            let refs: Vec<&ReturnStats> = trials.iter().collect();
            let data = PboData::of(&refs).unwrap();
            let masks = data.splits();
            let once = data.run_one_chunk(&masks).expect("one chunk, all the splits");
            let best = data.best_in(0..1, &masks);
            let star = data.stars(&masks, &best);
            let counts = data.count_in(0..1, &masks, &best, &star);
            let passes = data.outcomes(&best, &star, &counts);
            for (k, &m) in masks.iter().enumerate() {
                assert_eq!(bits(&once[k]), bits(&passes[k]), "n {n}, S {s}, split {m:#b}");
                assert_eq!(bits(&once[k]), bits(&naive(&trials, m)), "n {n}, S {s}, split {m:#b}");
            }
            assert!(data.run_one_chunk(&masks[1..]).is_none(), "not all the splits");
        }
        // At 20 blocks (184,756 splits) 64 trials' table would take 95 MB: two passes instead.
        let wide = ReturnStats { t: 400, blocks: vec![[0.0; 2]; 20], ..ReturnStats::missing() };
        let data = PboData::of(&vec![&wide; 64]).unwrap();
        assert!(data.run_one_chunk(&data.splits()).is_none(), "over TABLED_BYTES");
    }

    #[test]
    fn a_group_without_common_blocks_has_no_pbo_but_a_dsr() {
        let a = stats(&[100.0, 101.0, 99.0, 102.0, 103.0], 2);
        let b = stats(&[100.0, 101.0, 99.0, 102.0], 2);
        let g = TrialGroup::of(&[&a, &b]);
        assert_eq!(g.deflated().unwrap().n, 2);
        assert!(g.into_pbo_data().is_none(), "T differs");
        let odd = stats(&[100.0, 101.0, 99.0, 102.0], 3);
        assert!(TrialGroup::of(&[&odd, &odd]).into_pbo_data().is_none(), "odd S");
        let best = TrialGroup::of(&[&a, &a]).deflated().unwrap();
        assert_eq!(best.best, 0, "ties: the first in queue order");
    }

    #[test]
    fn a_trial_without_a_sharpe_ratio_counts_as_a_trial_but_not_in_the_variance() {
        let a = stats(&[100.0, 101.0, 99.0, 102.0, 103.0], 2);
        let b = stats(&[100.0, 99.0, 99.5, 101.0, 100.0], 2);
        let flat = stats(&[100.0; 5], 2);
        assert!(flat.sr.is_nan());
        let with = TrialGroup::of(&[&flat, &a, &b]).deflated().unwrap();
        let without = TrialGroup::of(&[&a, &b]).deflated().unwrap();
        assert_eq!((with.n, with.best), (3, 1), "the flat trial never wins");
        assert_eq!(with.sr_variance, without.sr_variance);
        assert!(with.sr0 > without.sr0, "more trials, a higher bar: {with:?} {without:?}");
        assert!(with.dsr < without.dsr);
    }
}
