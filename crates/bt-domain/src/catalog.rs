//! What a strategy accepts, as every layer sees it: parameter specs ([`ParamSpec`]), the errors
//! of a strategy name or parameter ([`StrategyError`]), and the [`StrategyCatalog`] through which
//! a queue is validated without knowing the strategies (bt-strategies' registry implements it).

use std::{borrow::Cow, fmt};

use crate::{
    error_kind::ErrorKind,
    sim::{ParamValue, Params},
};

/// Knows which strategies exist and what they accept: queues are validated through it before
/// anything runs.
pub trait StrategyCatalog {
    /// Ok if `strategy` exists and `params` are valid for it (missing parameters take their
    /// defaults); else the error names what is valid.
    fn check(&self, strategy: &str, params: &Params) -> Result<(), StrategyError>;

    /// Bars of history the strategy needs before its first decision with these parameters
    /// (backtesting.py's warm-up: the largest first-valid index of its indicators), when it can
    /// tell without data. A run whose data is not longer than this never trades.
    fn warmup(&self, strategy: &str, params: &Params) -> Option<usize> {
        let _ = (strategy, params);
        None
    }
}

/// The type of a strategy parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// A whole number (periods, windows). A float with an integral value is accepted.
    Int,
    /// A real number (thresholds, multipliers). An integer is accepted and converted.
    Float,
    /// A flag.
    Bool,
}

impl ParamKind {
    /// How the type reads in messages ("an integer").
    pub fn article_name(self) -> &'static str {
        match self {
            ParamKind::Int => "an integer",
            ParamKind::Float => "a number",
            ParamKind::Bool => "true or false",
        }
    }
}

/// One end of a parameter's valid range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Limit {
    /// The bound itself is allowed (`>=`, `<=`).
    Inclusive(f64),
    /// The bound itself is not allowed (`>`, `<`).
    Exclusive(f64),
}

/// What a strategy accepts for one parameter.
///
/// Built-in strategies declare theirs as constants ([`ParamSpec::int`] and friends are `const`);
/// strategies built at run time (rules files, user code) use owned names and docs.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSpec {
    /// Name as written in queue files and on the command line.
    pub name: Cow<'static, str>,
    /// Type.
    pub kind: ParamKind,
    /// Value used when the parameter is not given; `None` makes it required.
    pub default: Option<ParamValue>,
    /// Lower end of the valid range (numbers only).
    pub min: Option<Limit>,
    /// Upper end of the valid range (numbers only).
    pub max: Option<Limit>,
    /// One line on what the parameter does.
    pub doc: Cow<'static, str>,
}

impl ParamSpec {
    /// An integer parameter with a default and an inclusive lower bound (a period, a window).
    pub const fn int(name: &'static str, default: i64, min: i64, doc: &'static str) -> ParamSpec {
        ParamSpec {
            name: Cow::Borrowed(name),
            kind: ParamKind::Int,
            default: Some(ParamValue::Int(default)),
            min: Some(Limit::Inclusive(min as f64)),
            max: None,
            doc: Cow::Borrowed(doc),
        }
    }

    /// A number parameter with a default and no range (narrow it with [`ParamSpec::range`]).
    pub const fn float(name: &'static str, default: f64, doc: &'static str) -> ParamSpec {
        ParamSpec {
            name: Cow::Borrowed(name),
            kind: ParamKind::Float,
            default: Some(ParamValue::Float(default)),
            min: None,
            max: None,
            doc: Cow::Borrowed(doc),
        }
    }

    /// A flag with a default.
    pub const fn bool(name: &'static str, default: bool, doc: &'static str) -> ParamSpec {
        ParamSpec {
            name: Cow::Borrowed(name),
            kind: ParamKind::Bool,
            default: Some(ParamValue::Bool(default)),
            min: None,
            max: None,
            doc: Cow::Borrowed(doc),
        }
    }

    /// The same parameter with this valid range.
    pub const fn range(mut self, min: Option<Limit>, max: Option<Limit>) -> ParamSpec {
        self.min = min;
        self.max = max;
        self
    }

    /// The validity rule in words: "an integer >= 1", "a number in (0, 100)", "true or false".
    pub fn rule(&self) -> String {
        let kind = self.kind.article_name();
        match (self.min, self.max) {
            (None, None) => kind.to_owned(),
            (Some(lo), None) => match lo {
                Limit::Inclusive(v) => format!("{kind} >= {v}"),
                Limit::Exclusive(v) => format!("{kind} > {v}"),
            },
            (None, Some(hi)) => match hi {
                Limit::Inclusive(v) => format!("{kind} <= {v}"),
                Limit::Exclusive(v) => format!("{kind} < {v}"),
            },
            (Some(lo), Some(hi)) => {
                let (open, a) = match lo {
                    Limit::Inclusive(v) => ('[', v),
                    Limit::Exclusive(v) => ('(', v),
                };
                let (close, b) = match hi {
                    Limit::Inclusive(v) => (']', v),
                    Limit::Exclusive(v) => (')', v),
                };
                format!("{kind} in {open}{a}, {b}{close}")
            }
        }
    }

    /// "fast (an integer >= 1, default 10)": the parameter as listed in error messages.
    pub fn summary(&self) -> String {
        match &self.default {
            Some(d) => format!("{} ({}, default {d})", self.name, self.rule()),
            None => format!("{} ({}, required)", self.name, self.rule()),
        }
    }

    /// Checks a numeric value against the range.
    pub fn check_range(&self, strategy: &str, value: f64) -> Result<(), StrategyError> {
        let above = match self.min {
            None => true,
            Some(Limit::Inclusive(lo)) => value >= lo,
            Some(Limit::Exclusive(lo)) => value > lo,
        };
        let below = match self.max {
            None => true,
            Some(Limit::Inclusive(hi)) => value <= hi,
            Some(Limit::Exclusive(hi)) => value < hi,
        };
        if value.is_finite() && above && below {
            Ok(())
        } else {
            Err(StrategyError::OutOfRange {
                strategy: strategy.to_owned(),
                param: self.name.to_string(),
                value: value.to_string(),
                expected: self.rule(),
            })
        }
    }

    /// Converts a given value to this parameter's type (an integer where a number is expected;
    /// an integral number where an integer is expected) and checks its range.
    pub fn coerce(&self, strategy: &str, value: &ParamValue) -> Result<ParamValue, StrategyError> {
        let wrong_type = || StrategyError::WrongType {
            strategy: strategy.to_owned(),
            param: self.name.to_string(),
            expected: self.rule(),
            got: format!("{} {value}", value.type_name()),
        };
        let coerced = match (self.kind, value) {
            (ParamKind::Int, ParamValue::Int(i)) => ParamValue::Int(*i),
            // Only integral floats that fit an i64 (`i64::MAX as f64` is 2^63).
            (ParamKind::Int, ParamValue::Float(x))
                if x.is_finite() && x.fract() == 0.0 && x.abs() < i64::MAX as f64 =>
            {
                ParamValue::Int(*x as i64)
            }
            (ParamKind::Float, ParamValue::Int(i)) => ParamValue::Float(*i as f64),
            (ParamKind::Float, ParamValue::Float(x)) => ParamValue::Float(*x),
            (ParamKind::Bool, ParamValue::Bool(b)) => ParamValue::Bool(*b),
            _ => return Err(wrong_type()),
        };
        if let Some(x) = coerced.as_f64() {
            self.check_range(strategy, x)?;
        }
        Ok(coerced)
    }
}

/// Lists parameters for messages: "fast (an integer >= 1, default 10), slow (...)".
pub fn list_params(specs: &[ParamSpec]) -> String {
    if specs.is_empty() {
        return "none (this strategy takes no parameters)".to_owned();
    }
    specs.iter().map(ParamSpec::summary).collect::<Vec<_>>().join(", ")
}

/// Why a strategy could not be built from a name and parameters.
///
/// Every message names what is valid (strategy names, parameter names, the allowed range), so a
/// user can fix the queue file or command line from the message alone.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum StrategyError {
    /// No strategy is registered under this name.
    UnknownStrategy {
        /// The name asked for.
        name: String,
        /// Registered names, comma separated.
        valid: String,
    },
    /// The strategy has no parameter of this name.
    UnknownParam {
        /// Strategy name.
        strategy: String,
        /// The parameter given.
        param: String,
        /// The strategy's parameters with their rules and defaults.
        valid: String,
    },
    /// A parameter has a value of the wrong type.
    WrongType {
        /// Strategy name.
        strategy: String,
        /// Parameter name.
        param: String,
        /// What is accepted, e.g. "an integer >= 1".
        expected: String,
        /// The value given, with its type.
        got: String,
    },
    /// A parameter without a default was not given.
    MissingParam {
        /// Strategy name.
        strategy: String,
        /// Parameter name.
        param: String,
        /// What is accepted.
        expected: String,
    },
    /// A parameter's value is outside its valid range.
    OutOfRange {
        /// Strategy name.
        strategy: String,
        /// Parameter name.
        param: String,
        /// The value given.
        value: String,
        /// What is accepted, e.g. "a number in (0, 100)".
        expected: String,
    },
    /// Parameters that are valid one by one but not together (e.g. `fast >= slow`).
    InvalidCombination {
        /// Strategy name.
        strategy: String,
        /// What is wrong, with the values.
        problem: String,
        /// How to fix it.
        fix: String,
    },
    /// A second strategy was registered under a name already taken.
    DuplicateStrategy {
        /// The name.
        name: String,
    },
}

impl StrategyError {
    /// Always [`ErrorKind::Input`]: a strategy name or parameter the caller gave.
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::Input
    }

    /// The rule broken, without the values: errors of many sweep points that break the same
    /// rule share it, so a queue's check can count them together.
    pub fn rule(&self) -> String {
        match self {
            StrategyError::UnknownStrategy { name, .. } => format!("unknown strategy {name:?}"),
            StrategyError::UnknownParam { param, .. } => format!("unknown parameter {param:?}"),
            StrategyError::WrongType { param, expected, .. } => {
                format!("{param} must be {expected}")
            }
            StrategyError::MissingParam { param, .. } => format!("missing parameter {param}"),
            StrategyError::OutOfRange { param, expected, .. } => {
                format!("{param} out of range: use {expected}")
            }
            StrategyError::InvalidCombination { fix, .. } => fix.clone(),
            StrategyError::DuplicateStrategy { name } => {
                format!("strategy {name:?} registered twice")
            }
        }
    }

    /// Whether every point of a sweep would break it alike (the strategy or a parameter name
    /// is unknown), so it is reported once for the sweep, not per point.
    pub fn is_sweep_wide(&self) -> bool {
        matches!(self, StrategyError::UnknownStrategy { .. } | StrategyError::UnknownParam { .. })
    }
}

impl fmt::Display for StrategyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StrategyError::UnknownStrategy { name, valid } => {
                write!(f, "unknown strategy {name:?}: use one of {valid}")
            }
            StrategyError::UnknownParam { strategy, param, valid } => {
                write!(f, "{strategy}: unknown parameter {param:?}: valid parameters are {valid}")
            }
            StrategyError::WrongType { strategy, param, expected, got } => {
                write!(f, "{strategy}: parameter {param} must be {expected}, got {got}")
            }
            StrategyError::MissingParam { strategy, param, expected } => {
                write!(f, "{strategy}: missing parameter {param}: give it a value ({expected})")
            }
            StrategyError::OutOfRange { strategy, param, value, expected } => {
                write!(f, "{strategy}: parameter {param} = {value} is out of range: use {expected}")
            }
            StrategyError::InvalidCombination { strategy, problem, fix } => {
                write!(f, "{strategy}: {problem}: {fix}")
            }
            StrategyError::DuplicateStrategy { name } => {
                write!(f, "strategy {name:?} is already registered: register it under another name")
            }
        }
    }
}

impl std::error::Error for StrategyError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_read_like_ranges() {
        let p = ParamSpec::int("fast", 10, 1, "fast period");
        assert_eq!(p.rule(), "an integer >= 1");
        assert_eq!(p.summary(), "fast (an integer >= 1, default 10)");
        let level = ParamSpec::float("lower", 30.0, "level")
            .range(Some(Limit::Exclusive(0.0)), Some(Limit::Exclusive(100.0)));
        assert_eq!(level.rule(), "a number in (0, 100)");
        assert!(level.check_range("rsi", 100.0).is_err());
        assert_eq!(level.coerce("rsi", &ParamValue::Int(20)), Ok(ParamValue::Float(20.0)));
        assert_eq!(p.coerce("sma", &ParamValue::Float(5.0)), Ok(ParamValue::Int(5)));
        let e = p.coerce("sma", &ParamValue::Bool(true)).unwrap_err();
        assert_eq!(e.to_string(), "sma: parameter fast must be an integer >= 1, got boolean true");
    }
}
