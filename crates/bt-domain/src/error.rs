use std::fmt;

use crate::bars::Column;

/// Why a set of columns is not a valid [`crate::Bars`].
///
/// `index` is the 0-based bar index; loaders translate it to a file row.
#[derive(Debug, Clone, PartialEq)]
pub struct BarsError {
    /// 0-based index of the offending bar (for [`BarsErrorKind::NotIncreasing`], the later bar).
    pub index: usize,
    /// What is wrong.
    pub kind: BarsErrorKind,
}

/// The kinds of invalid bar data.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum BarsErrorKind {
    /// The columns have different lengths.
    LengthMismatch {
        /// The column whose length differs from the timestamps'.
        column: Column,
        /// Its length.
        len: usize,
        /// The number of timestamps.
        expected: usize,
    },
    /// Fewer than two bars.
    TooFewBars {
        /// How many bars there are.
        len: usize,
    },
    /// A price or volume is NaN or infinite.
    NotFinite {
        /// The column.
        column: Column,
        /// The value.
        value: f64,
    },
    /// A price is zero or negative.
    NonPositivePrice {
        /// The column.
        column: Column,
        /// The value.
        value: f64,
    },
    /// Volume is negative.
    NegativeVolume {
        /// The value.
        value: f64,
    },
    /// High is below max(open, close).
    HighBelowBody {
        /// The high.
        high: f64,
        /// max(open, close).
        body_max: f64,
    },
    /// Low is above min(open, close).
    LowAboveBody {
        /// The low.
        low: f64,
        /// min(open, close).
        body_min: f64,
    },
    /// Timestamps must increase strictly; `index - 1` is the previous bar.
    NotIncreasing {
        /// Timestamp (ns) of the previous bar.
        previous: i64,
        /// Timestamp (ns) of this bar.
        current: i64,
    },
}

impl fmt::Display for BarsErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BarsErrorKind::LengthMismatch { column, len, expected } => {
                write!(f, "column {column} has {len} values but there are {expected} timestamps")
            }
            BarsErrorKind::TooFewBars { len } => {
                write!(f, "{len} bar(s): a backtest needs at least 2 bars")
            }
            BarsErrorKind::NotFinite { column, value } => {
                write!(f, "{column} is {value}: prices and volumes must be finite numbers")
            }
            BarsErrorKind::NonPositivePrice { column, value } => {
                write!(f, "{column} is {value}: prices must be greater than 0")
            }
            BarsErrorKind::NegativeVolume { value } => {
                write!(f, "volume is {value}: volume must not be negative")
            }
            BarsErrorKind::HighBelowBody { high, body_max } => {
                write!(f, "high {high} is below max(open, close) = {body_max}")
            }
            BarsErrorKind::LowAboveBody { low, body_min } => {
                write!(f, "low {low} is above min(open, close) = {body_min}")
            }
            BarsErrorKind::NotIncreasing { previous, current } => write!(
                f,
                "timestamp {} is not after the previous bar's {}: timestamps must be strictly increasing",
                crate::time::format_iso(*current),
                crate::time::format_iso(*previous)
            ),
        }
    }
}

impl fmt::Display for BarsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bar {}: {}", self.index, self.kind)
    }
}

impl std::error::Error for BarsError {}

/// An invalid [`crate::BacktestConfig`] value.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    /// The field name, as in the queue file (`cash`, `commission`, ...).
    pub field: &'static str,
    /// The offending value.
    pub value: f64,
    /// What a valid value looks like.
    pub expected: &'static str,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} = {} is invalid: expected {}", self.field, self.value, self.expected)
    }
}

impl std::error::Error for ConfigError {}
