//! A strategy catalog for tests, standing in for bt-strategies.

use bt_domain::{ParamValue, Params};
use bt_queue::{StrategyCatalog, StrategyError};

/// Knows `sma_cross {fast, slow, long_only}`, `rsi_reversion {period, lower, upper}` and
/// `buy_and_hold {}`.
pub struct TestCatalog;

#[derive(Clone, Copy)]
enum Kind {
    Int,
    Num,
    Bool,
}

impl StrategyCatalog for TestCatalog {
    fn check(&self, strategy: &str, params: &Params) -> Result<(), StrategyError> {
        let spec: &[(&str, Kind, bool)] = match strategy {
            "sma_cross" => &[
                ("fast", Kind::Int, true),
                ("slow", Kind::Int, true),
                ("long_only", Kind::Bool, false),
            ],
            "rsi_reversion" => &[
                ("period", Kind::Int, true),
                ("lower", Kind::Num, true),
                ("upper", Kind::Num, true),
            ],
            "buy_and_hold" => &[],
            other => {
                return Err(StrategyError::UnknownStrategy {
                    name: other.to_owned(),
                    valid: "buy_and_hold, rsi_reversion, sma_cross".into(),
                });
            }
        };
        let valid = || match spec.iter().map(|(n, ..)| *n).collect::<Vec<_>>().join(", ") {
            none if none.is_empty() => "none".to_string(),
            names => names,
        };
        for (name, value) in params {
            let Some((_, kind, _)) = spec.iter().find(|(n, ..)| n == name) else {
                return Err(StrategyError::UnknownParam {
                    strategy: strategy.to_owned(),
                    param: name.clone(),
                    valid: valid(),
                });
            };
            let ok = matches!(
                (kind, value),
                (Kind::Int, ParamValue::Int(_))
                    | (Kind::Num, ParamValue::Int(_) | ParamValue::Float(_))
                    | (Kind::Bool, ParamValue::Bool(_))
            );
            if !ok {
                return Err(StrategyError::WrongType {
                    strategy: strategy.to_owned(),
                    param: name.clone(),
                    expected: match kind {
                        Kind::Int => "an integer",
                        Kind::Num => "a number",
                        Kind::Bool => "true or false",
                    }
                    .into(),
                    got: format!("{} {value}", value.type_name()),
                });
            }
        }
        for (name, _, required) in spec {
            if *required && !params.contains_key(*name) {
                return Err(StrategyError::MissingParam {
                    strategy: strategy.to_owned(),
                    param: (*name).to_owned(),
                    expected: "a value".into(),
                });
            }
        }
        if strategy == "sma_cross" {
            if let Some(ParamValue::Int(fast)) = params.get("fast")
                && *fast < 1
            {
                return Err(StrategyError::OutOfRange {
                    strategy: strategy.to_owned(),
                    param: "fast".into(),
                    value: fast.to_string(),
                    expected: "an integer >= 1".into(),
                });
            }
            let (fast, slow) = (params["fast"].as_f64(), params["slow"].as_f64());
            if fast >= slow {
                return Err(StrategyError::InvalidCombination {
                    strategy: strategy.to_owned(),
                    problem: format!(
                        "fast ({}) must be below slow ({})",
                        params["fast"], params["slow"]
                    ),
                    fix: "use fast < slow".into(),
                });
            }
        }
        Ok(())
    }

    /// sma_cross: the slow SMA's first value is at bar `slow - 1`.
    fn warmup(&self, strategy: &str, params: &Params) -> Option<usize> {
        match (strategy, params.get("slow")) {
            ("sma_cross", Some(ParamValue::Int(slow))) => Some((*slow as usize).saturating_sub(1)),
            _ => None,
        }
    }
}
