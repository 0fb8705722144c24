use std::{collections::BTreeMap, fmt};

use crate::config::BacktestConfig;

/// A trading symbol or data set name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Symbol(pub String);

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A strategy parameter value.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    /// An integer (periods, windows).
    Int(i64),
    /// A real number (thresholds, multipliers).
    Float(f64),
    /// A flag.
    Bool(bool),
    /// A name.
    Str(String),
}

impl ParamValue {
    /// The value as a float, for ints and floats.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            ParamValue::Int(i) => Some(i as f64),
            ParamValue::Float(x) => Some(x),
            _ => None,
        }
    }

    /// A short name of the value's type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            ParamValue::Int(_) => "integer",
            ParamValue::Float(_) => "number",
            ParamValue::Bool(_) => "boolean",
            ParamValue::Str(_) => "string",
        }
    }
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamValue::Int(i) => write!(f, "{i}"),
            ParamValue::Float(x) => write!(f, "{x}"),
            ParamValue::Bool(b) => write!(f, "{b}"),
            ParamValue::Str(s) => f.write_str(s),
        }
    }
}

/// Strategy parameters by name, in name order (deterministic iteration).
pub type Params = BTreeMap<String, ParamValue>;

/// One simulation to run: which data, which strategy with which parameters, which broker.
///
/// A parameter named after a broker setting ([`BacktestConfig::FIELDS`], e.g. a sweep axis
/// `trailing_atr`) is that setting: the queue applies it to `config` and keeps it in `params`
/// so that results show it; [`SimSpec::strategy_params`] leaves it out for the strategy.
#[derive(Debug, Clone, PartialEq)]
pub struct SimSpec {
    /// Unique, stable id within its queue (`sma-10-20`, `grid/goog/fast=5,slow=40`).
    pub id: String,
    /// Key of the data set in the queue's `datasets` map.
    pub dataset: String,
    /// Registered strategy name (`sma_cross`).
    pub strategy: String,
    /// Strategy parameters.
    pub params: Params,
    /// Broker settings (queue defaults with this simulation's overrides applied).
    pub config: BacktestConfig,
}

impl SimSpec {
    /// The parameters for the strategy: `params` without broker settings.
    pub fn strategy_params(&self) -> Params {
        strategy_params(&self.params)
    }
}

/// `params` without the entries named after broker settings ([`BacktestConfig::FIELDS`]).
pub fn strategy_params(params: &Params) -> Params {
    params
        .iter()
        .filter(|(k, _)| !BacktestConfig::is_field(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// `base` with every entry of `params` named after a broker setting applied.
pub fn apply_config_params(
    params: &Params,
    base: BacktestConfig,
) -> Result<BacktestConfig, crate::ConfigError> {
    let mut config = base;
    for (k, v) in params.iter().filter(|(k, _)| BacktestConfig::is_field(k)) {
        config.set(k, v)?;
    }
    Ok(config)
}
