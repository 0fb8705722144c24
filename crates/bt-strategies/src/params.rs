//! Typed, validated strategy parameters: what a strategy accepts ([`ParamSpec`]) and the
//! validated values a builder reads ([`Args`]).

use std::fmt;

use bt_domain::{ParamValue, Params};

use crate::error::StrategyError;

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
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSpec {
    /// Name as written in queue files and on the command line.
    pub name: &'static str,
    /// Type.
    pub kind: ParamKind,
    /// Value used when the parameter is not given; `None` makes it required.
    pub default: Option<ParamValue>,
    /// Lower end of the valid range (numbers only).
    pub min: Option<Limit>,
    /// Upper end of the valid range (numbers only).
    pub max: Option<Limit>,
    /// One line on what the parameter does.
    pub doc: &'static str,
}

impl ParamSpec {
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
                param: self.name.to_owned(),
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
            param: self.name.to_owned(),
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
pub(crate) fn list_params(specs: &[ParamSpec]) -> String {
    if specs.is_empty() {
        return "none (this strategy takes no parameters)".to_owned();
    }
    specs.iter().map(ParamSpec::summary).collect::<Vec<_>>().join(", ")
}

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
            let value = match (params.get(spec.name), &spec.default) {
                (Some(given), _) => spec.coerce(strategy, given)?,
                (None, Some(default)) => default.clone(),
                (None, None) => {
                    return Err(StrategyError::MissingParam {
                        strategy: strategy.to_owned(),
                        param: spec.name.to_owned(),
                        expected: spec.rule(),
                    });
                }
            };
            values.insert(spec.name.to_owned(), value);
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
