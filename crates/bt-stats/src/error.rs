use thiserror::Error;

/// Why statistics could not be computed from the given inputs.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum StatsError {
    /// The equity curve does not have one value per bar.
    #[error(
        "equity curve has {len} values for {n_bars} bars: pass exactly one equity value per bar"
    )]
    CurveLength {
        /// Length of the curve given.
        len: usize,
        /// Number of bars.
        n_bars: usize,
    },
}
