use bt_domain::ErrorKind;
use bt_engine::EngineError;
use thiserror::Error;

/// Why a portfolio backtest could not run.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum PortfolioError {
    /// No instrument was given.
    #[error("a portfolio needs at least one instrument")]
    NoInstruments,
    /// The per-instrument costs do not match the instruments.
    #[error(
        "{costs} instrument cost entries for {instruments} instruments: give one per instrument"
    )]
    CostsMismatch {
        /// Entries given.
        costs: usize,
        /// Instruments.
        instruments: usize,
    },
    /// A setting of the single-instrument engine that portfolio runs do not support.
    #[error("portfolio runs do not support {0}: remove it from the configuration")]
    Unsupported(&'static str),
    /// The configuration is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// An instrument index outside the portfolio.
    #[error("bar {bar}: instrument {instrument} does not exist (the portfolio has {n})")]
    NoSuchInstrument {
        /// Timeline bar.
        bar: usize,
        /// The index given.
        instrument: usize,
        /// Instruments in the portfolio.
        n: usize,
    },
    /// A target weight that is not a finite number.
    #[error("bar {bar}: target weight {weight} for instrument {instrument} is not a finite number")]
    InvalidWeight {
        /// Timeline bar.
        bar: usize,
        /// Instrument index.
        instrument: usize,
        /// The weight given.
        weight: f64,
    },
    /// A strategy parameter is invalid.
    #[error("{0}")]
    Param(String),
    /// The engine refused an action (order size, prices, slippage) or the equity overflowed.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl PortfolioError {
    /// The error's kind: every portfolio error is the caller's input (data, strategy, settings).
    pub fn kind(&self) -> ErrorKind {
        match self {
            PortfolioError::Engine(e) => e.kind(),
            _ => ErrorKind::Input,
        }
    }
}
