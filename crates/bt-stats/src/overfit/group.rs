//! A group of trials fed in queue order: what the Deflated Sharpe Ratio needs (every trial's
//! `sr`, the best trial's moments) and, while the trials agree on their blocks, the PBO's data.

use bt_domain::{
    ReturnStats,
    numeric::{np_mean, np_sum},
};

use super::{better, pbo::PboData, returns::psr};
use crate::normal;

/// The Euler-Mascheroni constant of the Deflated Sharpe Ratio.
pub const EULER_GAMMA: f64 = 0.5772156649015329;

/// The Deflated Sharpe Ratio of a group's best trial.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Deflated {
    /// Trials.
    pub n: usize,
    /// Position of the best trial (highest `sr`, the first in queue order on ties).
    pub best: usize,
    /// Its `sr`.
    pub best_sr: f64,
    /// The sample variance (ddof = 1) of the trials' `sr`, over those with one (a trial
    /// without a defined `sr`, e.g. one that never traded, still counts in `n`).
    pub sr_variance: f64,
    /// The expected maximum `sr` of `n` unskilled trials:
    /// `sqrt(V) * ((1 - g) * Phi^-1(1 - 1/N) + g * Phi^-1(1 - 1/(N e)))`.
    pub sr0: f64,
    /// `PSR(SR0)` of the best trial; NaN for fewer than 2 trials.
    pub dsr: f64,
}

/// The trials of one group (the ok simulations of one strategy on one data set), pushed in
/// queue order.
#[derive(Debug, Clone, Default)]
pub struct TrialGroup {
    srs: Vec<f64>,
    /// Position and `(sr, skew, kurtosis, t)` of the best trial so far.
    best: Option<(usize, [f64; 3], u64)>,
    /// The PBO's data; `None` once two trials disagree on `T` or their blocks.
    pbo: Option<PboData>,
    pbo_undefined: bool,
}

impl TrialGroup {
    /// An empty group.
    pub fn new() -> TrialGroup {
        TrialGroup::default()
    }

    /// Adds the next trial; `true` when it is the best so far.
    pub fn push(&mut self, r: &ReturnStats) -> bool {
        let k = self.srs.len();
        self.srs.push(r.sr);
        if !self.pbo_undefined {
            let data = self.pbo.get_or_insert_with(|| PboData::new(r.blocks.len(), r.t));
            if !data.push(r.t, &r.blocks) {
                self.pbo = None;
                self.pbo_undefined = true;
            }
        }
        let is_best = self.best.is_none_or(|(_, [sr, ..], _)| better(r.sr, sr));
        if is_best {
            self.best = Some((k, [r.sr, r.skew, r.kurtosis], r.t));
        }
        is_best
    }

    /// Trials pushed.
    pub fn len(&self) -> usize {
        self.srs.len()
    }

    /// Whether no trial was pushed.
    pub fn is_empty(&self) -> bool {
        self.srs.is_empty()
    }

    /// The Deflated Sharpe Ratio of the best trial; `None` for an empty group.
    pub fn deflated(&self) -> Option<Deflated> {
        let (best, [best_sr, skew, kurtosis], t) = self.best?;
        let n = self.srs.len();
        let defined: Vec<f64> = self.srs.iter().copied().filter(|s| !s.is_nan()).collect();
        let (sr_variance, sr0, dsr) = if n < 2 || defined.len() < 2 {
            (f64::NAN, f64::NAN, f64::NAN)
        } else {
            let mean = np_mean(&defined);
            let sq: Vec<f64> = defined.iter().map(|s| (s - mean) * (s - mean)).collect();
            let v = np_sum(&sq) / (defined.len() - 1) as f64;
            let nf = n as f64;
            let sr0 = v.sqrt()
                * ((1.0 - EULER_GAMMA) * normal::quantile(1.0 - 1.0 / nf)
                    + EULER_GAMMA * normal::quantile(1.0 - 1.0 / (nf * std::f64::consts::E)));
            (v, sr0, psr(best_sr, skew, kurtosis, t, sr0))
        };
        Some(Deflated { n, best, best_sr, sr_variance, sr0, dsr })
    }

    /// The PBO's data; `None` when the PBO is undefined: fewer than 2 trials, an odd or zero
    /// number of blocks, fewer returns than blocks, or trials that differ in `T` or in their
    /// number of blocks.
    pub fn into_pbo_data(self) -> Option<PboData> {
        self.pbo.filter(|d| d.n() >= 2 && d.is_defined())
    }

    /// The group of `trials`, in queue order.
    pub fn of(trials: &[&ReturnStats]) -> TrialGroup {
        let mut g = TrialGroup::new();
        for t in trials {
            g.push(t);
        }
        g
    }
}
