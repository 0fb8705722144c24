use bt_domain::ErrorKind;
use thiserror::Error;

/// Why a backtest could not run or a strategy action was refused.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum EngineError {
    /// An order's size is neither a fraction in (0, 1) nor a whole number >= 1.
    #[error(
        "bar {bar}: order size {size} is invalid: use a fraction of equity in (0, 1) or a whole number of units >= 1"
    )]
    InvalidSize {
        /// Bar index at which the order was placed.
        bar: usize,
        /// The size given.
        size: f64,
    },
    /// SL/limit/TP prices are not in the required order for the order's direction.
    #[error(
        "bar {bar}: {side} orders require {requirement}, got SL={sl:?} price={price} TP={tp:?}"
    )]
    InvalidBracket {
        /// Bar index.
        bar: usize,
        /// "long" or "short".
        side: &'static str,
        /// The rule, e.g. "SL < LIMIT < TP".
        requirement: &'static str,
        /// Stop-loss.
        sl: Option<f64>,
        /// The entry reference price (limit, stop or current adjusted price).
        price: f64,
        /// Take-profit.
        tp: Option<f64>,
    },
    /// A price given to an order or trade is not a positive finite number.
    #[error("bar {bar}: {what} price {price} is invalid: prices must be finite and > 0")]
    InvalidPrice {
        /// Bar index.
        bar: usize,
        /// Which price (limit, stop, sl, tp).
        what: &'static str,
        /// The value.
        price: f64,
    },
    /// A portion outside (0, 1].
    #[error("bar {bar}: close portion {portion} is invalid: use a fraction in (0, 1]")]
    InvalidPortion {
        /// Bar index.
        bar: usize,
        /// The value.
        portion: f64,
    },
    /// A trade or order index that does not exist.
    #[error("bar {bar}: there is no {what} #{index} ({len} exist)")]
    NoSuchItem {
        /// Bar index.
        bar: usize,
        /// "trade" or "order".
        what: &'static str,
        /// The index asked for.
        index: usize,
        /// How many there are.
        len: usize,
    },
    /// Equity left the range of f64: positions worth more than ~1e308 (huge cash with a tiny
    /// margin, or prices and sizes at the edge of f64). backtesting.py fails on such sizes too
    /// (`int(inf)`); bt stops rather than report NaN statistics.
    #[error(
        "bar {bar}: equity is {equity}: position values overflow f64 (cash {cash}, margin {margin}): lower the cash or raise the margin"
    )]
    Overflow {
        /// Bar index.
        bar: usize,
        /// The non-finite equity.
        equity: f64,
        /// Starting cash of the run.
        cash: f64,
        /// Margin of the run.
        margin: f64,
    },
    /// A trailing stop that is not a price: the ATR distance is larger than the price, or the
    /// ATR is undefined (fewer bars than `atr_periods`). backtesting.py raises here too.
    #[error(
        "bar {bar}: the trailing stop of a {side} trade would be {stop} (close {close}, ATR {atr} x {n_atr}): a stop must be a price above 0; trail by fewer ATRs (trailing_atr/trailing_pct) or use fewer atr_periods than the data has bars"
    )]
    TrailingStop {
        /// Bar index.
        bar: usize,
        /// "long" or "short".
        side: &'static str,
        /// The stop it would set.
        stop: f64,
        /// The close it trails.
        close: f64,
        /// The ATR at the bar.
        atr: f64,
        /// The distance in ATRs.
        n_atr: f64,
    },
    /// A sell fill whose price the fixed slippage takes to zero or below.
    #[error(
        "bar {bar}: a sell at {price} less slippage is {slipped}: not a price; lower slippage_fixed ({fixed}) or slippage"
    )]
    Slippage {
        /// Bar index.
        bar: usize,
        /// The price before slippage.
        price: f64,
        /// After slippage.
        slipped: f64,
        /// The fixed slippage per unit.
        fixed: f64,
    },
    /// The strategy could not be initialised (e.g. a period longer than the data).
    #[error("strategy init failed: {0}")]
    Init(String),
    /// The strategy reported an error of its own.
    #[error("strategy failed at bar {bar}: {message}")]
    Strategy {
        /// Bar index.
        bar: usize,
        /// What went wrong.
        message: String,
    },
}

impl EngineError {
    /// Always [`ErrorKind::Input`]: the strategy, its settings or the data caused it.
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::Input
    }
}
