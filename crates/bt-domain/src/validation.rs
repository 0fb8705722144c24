/// The Probability of Backtest Overfitting of a group, as reports show it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PboSummary {
    /// Blocks of returns `S`.
    pub blocks: u64,
    /// Splits: `C(S, S/2)`.
    pub splits: u64,
    /// The fraction of splits whose best in-sample trial ranks in the lower half out of sample.
    pub pbo: f64,
    /// The median of the splits' logits `lambda`.
    pub median_lambda: f64,
    /// The slope of out-of-sample on in-sample Sharpe ratio of the splits' best trials.
    pub degradation: f64,
    /// The fraction of splits whose best in-sample trial loses out of sample.
    pub prob_loss: f64,
    /// The lambdas' histogram: `edges` (bins + 1) and `counts`.
    pub lambda_edges: Vec<f64>,
    /// Counts per bin.
    pub lambda_counts: Vec<u64>,
    /// A sample of the splits' (in-sample, out-of-sample) Sharpe ratios of their best trial.
    pub is_oos: Vec<(f64, f64)>,
}

/// The overfitting statistics of one group of trials (the ok simulations of one strategy on one
/// data set): docs/validation.md.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ValidationGroup {
    /// The strategy.
    pub strategy: String,
    /// The data set.
    pub dataset: String,
    /// Trials.
    pub n: u64,
    /// The best trial (highest per-bar Sharpe ratio, the first in queue order on ties).
    pub best_id: String,
    /// Its per-bar Sharpe ratio.
    pub best_sr: f64,
    /// The sample variance of the trials' Sharpe ratios.
    pub sr_variance: f64,
    /// The expected maximum Sharpe ratio of `n` unskilled trials.
    pub sr0: f64,
    /// The Deflated Sharpe Ratio of the best trial (NaN for fewer than 2 trials).
    pub dsr: f64,
    /// The PBO, when defined.
    pub pbo: Option<PboSummary>,
}
