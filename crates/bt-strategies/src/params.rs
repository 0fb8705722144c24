//! The validated values a builder reads ([`Args`]); what a strategy accepts
//! ([`bt_domain::ParamSpec`]) is domain vocabulary.

use std::fmt;

use bt_domain::{ParamSpec, ParamValue, Params, StrategyError, list_params};

/// Validated parameters of one strategy: every declared parameter present (defaults filled in),
/// of its declared type and inside its range. Builders read them with the typed getters.
#[derive(Debug, Clone, PartialEq)]
pub struct Args<'a> {
    strategy: &'a str,
    specs: &'a [ParamSpec],
    values: Params,
}

impl<'a> Args<'a> {
    /// Validates `params` against `specs`: unknown names, types, ranges, missing values.
    pub fn new(
        strategy: &'a str,
        specs: &'a [ParamSpec],
        params: &Params,
    ) -> Result<Args<'a>, StrategyError> {
        if let Some(unknown) = params.keys().find(|k| !specs.iter().any(|s| s.name == k.as_str())) {
            return Err(StrategyError::UnknownParam {
                strategy: strategy.to_owned(),
                param: unknown.clone(),
                valid: list_params(specs),
            });
        }
        let mut values = Params::new();
        for spec in specs {
            let value = match (params.get(spec.name.as_ref()), &spec.default) {
                (Some(given), _) => spec.coerce(strategy, given)?,
                (None, Some(default)) => default.clone(),
                (None, None) => {
                    return Err(StrategyError::MissingParam {
                        strategy: strategy.to_owned(),
                        param: spec.name.to_string(),
                        expected: spec.rule(),
                    });
                }
            };
            values.insert(spec.name.to_string(), value);
        }
        Ok(Args { strategy, specs, values })
    }

    /// The strategy these arguments are for.
    pub fn strategy(&self) -> &str {
        self.strategy
    }

    /// Every parameter with its value, defaults filled in.
    pub fn params(&self) -> &Params {
        &self.values
    }

    /// Consumes the arguments, returning every parameter with its value.
    pub fn into_params(self) -> Params {
        self.values
    }

    fn get(&self, name: &str) -> Result<&ParamValue, StrategyError> {
        self.values.get(name).ok_or_else(|| StrategyError::UnknownParam {
            strategy: self.strategy.to_owned(),
            param: name.to_owned(),
            valid: list_params(self.specs),
        })
    }

    fn wrong_type(&self, name: &str, expected: &str, got: &ParamValue) -> StrategyError {
        StrategyError::WrongType {
            strategy: self.strategy.to_owned(),
            param: name.to_owned(),
            expected: expected.to_owned(),
            got: format!("{} {got}", got.type_name()),
        }
    }

    /// An integer parameter as a count or period (must be >= 0).
    pub fn usize(&self, name: &str) -> Result<usize, StrategyError> {
        match self.get(name)? {
            ParamValue::Int(i) => usize::try_from(*i).map_err(|_| StrategyError::OutOfRange {
                strategy: self.strategy.to_owned(),
                param: name.to_owned(),
                value: i.to_string(),
                expected: "an integer >= 0".to_owned(),
            }),
            other => Err(self.wrong_type(name, "an integer", other)),
        }
    }

    /// A number parameter.
    pub fn f64(&self, name: &str) -> Result<f64, StrategyError> {
        match self.get(name)? {
            ParamValue::Float(x) => Ok(*x),
            ParamValue::Int(i) => Ok(*i as f64),
            other => Err(self.wrong_type(name, "a number", other)),
        }
    }

    /// A flag parameter.
    pub fn bool(&self, name: &str) -> Result<bool, StrategyError> {
        match self.get(name)? {
            ParamValue::Bool(b) => Ok(*b),
            other => Err(self.wrong_type(name, "true or false", other)),
        }
    }
}

impl fmt::Display for Args<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.strategy)?;
        for (k, (name, value)) in self.values.iter().enumerate() {
            if k > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{name}={value}")?;
        }
        f.write_str(")")
    }
}
