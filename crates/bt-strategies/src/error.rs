use thiserror::Error;

/// Why a strategy could not be built from a name and parameters.
///
/// Every message names what is valid (strategy names, parameter names, the allowed range), so a
/// user can fix the queue file or command line from the message alone.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum StrategyError {
    /// No strategy is registered under this name.
    #[error("unknown strategy {name:?}: use one of {valid}")]
    UnknownStrategy {
        /// The name asked for.
        name: String,
        /// Registered names, comma separated.
        valid: String,
    },
    /// The strategy has no parameter of this name.
    #[error("{strategy}: unknown parameter {param:?}: valid parameters are {valid}")]
    UnknownParam {
        /// Strategy name.
        strategy: String,
        /// The parameter given.
        param: String,
        /// The strategy's parameters with their rules and defaults.
        valid: String,
    },
    /// A parameter has a value of the wrong type.
    #[error("{strategy}: parameter {param} must be {expected}, got {got}")]
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
    #[error("{strategy}: missing parameter {param}: give it a value ({expected})")]
    MissingParam {
        /// Strategy name.
        strategy: String,
        /// Parameter name.
        param: String,
        /// What is accepted.
        expected: String,
    },
    /// A parameter's value is outside its valid range.
    #[error("{strategy}: parameter {param} = {value} is out of range: use {expected}")]
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
    #[error("{strategy}: {problem}: {fix}")]
    InvalidCombination {
        /// Strategy name.
        strategy: String,
        /// What is wrong, with the values.
        problem: String,
        /// How to fix it.
        fix: String,
    },
    /// A second strategy was registered under a name already taken.
    #[error("strategy {name:?} is already registered: register it under another name")]
    DuplicateStrategy {
        /// The name.
        name: String,
    },
}
