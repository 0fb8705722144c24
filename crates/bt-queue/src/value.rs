//! Parameter values and config overrides as they appear in queue files.

use std::fmt::{self, Write as _};

use bt_domain::{BacktestConfig, ParamValue};
use serde::{Deserialize, Deserializer, de};

/// Broker settings that a queue's `defaults`, a simulation's or a sweep's `config` override.
///
/// `None` keeps the value from the level below (`BacktestConfig::default()` under `defaults`,
/// `defaults` under a simulation or sweep). Each field is the [`BacktestConfig`] field of the
/// same name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename = "config")]
#[allow(missing_docs, reason = "each field is the BacktestConfig field of the same name")]
pub struct ConfigOverrides {
    pub cash: Option<f64>,
    pub commission: Option<f64>,
    pub commission_fixed: Option<f64>,
    pub spread: Option<f64>,
    pub margin: Option<f64>,
    pub trade_on_close: Option<bool>,
    pub hedging: Option<bool>,
    pub exclusive_orders: Option<bool>,
    pub finalize_trades: Option<bool>,
    pub trailing_atr: Option<f64>,
    pub trailing_pct: Option<f64>,
    pub atr_periods: Option<u64>,
    pub fractional_unit: Option<f64>,
    pub slippage: Option<f64>,
    pub slippage_fixed: Option<f64>,
}

impl ConfigOverrides {
    /// The set fields with their values, in [`BacktestConfig::FIELDS`] order.
    pub fn values(&self) -> Vec<(&'static str, ParamValue)> {
        let f = |x: Option<f64>| x.map(ParamValue::Float);
        let b = |x: Option<bool>| x.map(ParamValue::Bool);
        let all = [
            ("cash", f(self.cash)),
            ("commission", f(self.commission)),
            ("commission_fixed", f(self.commission_fixed)),
            ("spread", f(self.spread)),
            ("margin", f(self.margin)),
            ("trade_on_close", b(self.trade_on_close)),
            ("hedging", b(self.hedging)),
            ("exclusive_orders", b(self.exclusive_orders)),
            ("finalize_trades", b(self.finalize_trades)),
            ("trailing_atr", f(self.trailing_atr)),
            ("trailing_pct", f(self.trailing_pct)),
            (
                "atr_periods",
                self.atr_periods.map(|n| ParamValue::Int(n.min(i64::MAX as u64) as i64)),
            ),
            ("fractional_unit", f(self.fractional_unit)),
            ("slippage", f(self.slippage)),
            ("slippage_fixed", f(self.slippage_fixed)),
        ];
        debug_assert!(all.iter().map(|(k, _)| *k).eq(BacktestConfig::FIELDS));
        all.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))).collect()
    }

    /// `base` with every set field replaced (values are checked by
    /// [`BacktestConfig::validate`], not here).
    pub fn apply(&self, base: BacktestConfig) -> BacktestConfig {
        let mut config = base;
        for (name, value) in self.values() {
            // Every value has its field's type: set() cannot fail on these.
            let _ = config.set(name, &value);
        }
        config
    }

    /// Whether no field is set.
    pub fn is_empty(&self) -> bool {
        *self == ConfigOverrides::default()
    }

    /// The set fields as RON, in [`BacktestConfig::FIELDS`] order: `(cash: 10000.0, hedging: true)`.
    pub(crate) fn to_ron(self) -> String {
        let fields: Vec<String> = self
            .values()
            .into_iter()
            .map(|(k, v)| match v {
                ParamValue::Float(x) => format!("{k}: {}", ron_float(x)),
                other => format!("{k}: {other}"),
            })
            .collect();
        format!("({})", fields.join(", "))
    }
}

/// Broker costs of one data set when it trades as an instrument of a portfolio: a data set's
/// `costs: (commission: 0.0005, spread: 0.0001)` in a queue file (docs/queue-format.md).
///
/// `None` keeps the simulation's configuration. Each field is the [`BacktestConfig`] field of
/// the same name; single-instrument simulations ignore these (they use their configuration).
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename = "costs")]
#[allow(missing_docs, reason = "each field is the BacktestConfig field of the same name")]
pub struct CostOverrides {
    pub commission: Option<f64>,
    pub commission_fixed: Option<f64>,
    pub spread: Option<f64>,
    pub slippage: Option<f64>,
    pub slippage_fixed: Option<f64>,
    pub fractional_unit: Option<f64>,
}

impl CostOverrides {
    /// The set fields with their values, in declaration order.
    pub fn values(&self) -> Vec<(&'static str, f64)> {
        [
            ("commission", self.commission),
            ("commission_fixed", self.commission_fixed),
            ("spread", self.spread),
            ("slippage", self.slippage),
            ("slippage_fixed", self.slippage_fixed),
            ("fractional_unit", self.fractional_unit),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect()
    }

    /// `base` with every set field replaced (a simulation's configuration with this
    /// instrument's costs).
    pub fn apply(&self, base: BacktestConfig) -> BacktestConfig {
        let mut config = base;
        for (name, value) in self.values() {
            // Every field is a float field of BacktestConfig: set() cannot fail on these.
            let _ = config.set(name, &ParamValue::Float(value));
        }
        config
    }

    /// Whether no field is set.
    pub fn is_empty(&self) -> bool {
        *self == CostOverrides::default()
    }

    /// Every invalid field, checked with [`BacktestConfig::validate`]'s ranges, as
    /// `costs: commission = 0.2 is invalid: expected ...`.
    pub(crate) fn problems(&self) -> Vec<String> {
        self.values()
            .into_iter()
            .filter_map(|(name, value)| {
                let one = CostOverrides::default().with(name, value);
                one.apply(BacktestConfig::default()).validate().err().map(|e| format!("costs: {e}"))
            })
            .collect()
    }

    fn with(mut self, name: &str, value: f64) -> CostOverrides {
        let slot = match name {
            "commission" => &mut self.commission,
            "commission_fixed" => &mut self.commission_fixed,
            "spread" => &mut self.spread,
            "slippage" => &mut self.slippage,
            "slippage_fixed" => &mut self.slippage_fixed,
            _ => &mut self.fractional_unit,
        };
        *slot = Some(value);
        self
    }
}

/// A parameter value in a queue file: an integer, a float, a boolean or a string.
/// A parameter value in a RON file: an integer, a float, `true`/`false` or a string.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamRepr(pub ParamValue);

impl<'de> Deserialize<'de> for ParamRepr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ParamRepr, D::Error> {
        d.deserialize_any(ParamVisitor).map(ParamRepr)
    }
}

struct ParamVisitor;

impl<'de> de::Visitor<'de> for ParamVisitor {
    type Value = ParamValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a parameter value: an integer, a float, true/false or a string")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<ParamValue, E> {
        Ok(ParamValue::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<ParamValue, E> {
        Ok(ParamValue::Int(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<ParamValue, E> {
        i64::try_from(v).map(ParamValue::Int).map_err(|_| {
            E::custom(format!("integer {v} is too large: parameters are 64-bit signed"))
        })
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<ParamValue, E> {
        if v.is_finite() {
            Ok(ParamValue::Float(v))
        } else {
            Err(E::custom(format!("parameter value {v} is not a finite number")))
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<ParamValue, E> {
        Ok(ParamValue::Str(v.to_owned()))
    }
}

/// A RON float literal that reads back to the same `f64` (`10000.0`, `0.002`, `1e-7`).
pub(crate) fn ron_float(x: f64) -> String {
    // Debug formatting is the shortest round-trip representation and always has `.`, `e`,
    // `inf` or `NaN`, so it never reads back as an integer.
    format!("{x:?}")
}

/// A RON string literal.
pub(crate) fn ron_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A parameter value as a RON literal.
pub(crate) fn ron_param(v: &ParamValue) -> String {
    match v {
        ParamValue::Int(i) => i.to_string(),
        ParamValue::Float(x) => ron_float(*x),
        ParamValue::Bool(b) => b.to_string(),
        ParamValue::Str(s) => ron_string(s),
    }
}

/// Appends a parameter value as it appears in sweep point ids: floats always show a `.` or an
/// exponent, so `2` (integer) and `2.0` (float) stay distinct.
pub(crate) fn push_id_value(out: &mut String, v: &ParamValue) {
    let _ = match v {
        ParamValue::Int(i) => write!(out, "{i}"),
        ParamValue::Float(x) => write!(out, "{x:?}"),
        ParamValue::Bool(b) => write!(out, "{b}"),
        ParamValue::Str(s) => write!(out, "{s}"),
    };
}

/// `{"a": 1, "b": true}`.
pub(crate) fn ron_params<'a>(
    params: impl IntoIterator<Item = (&'a String, &'a ParamValue)>,
) -> String {
    let items: Vec<String> =
        params.into_iter().map(|(k, v)| format!("{}: {}", ron_string(k), ron_param(v))).collect();
    format!("{{{}}}", items.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_read_back_identically() {
        for x in [10_000.0, 0.002, 1e-7, 1e20, 0.1 + 0.2, -0.0, 2.0, 1.234_567_890_123_456_8e20] {
            let back: f64 = ron::from_str(&ron_float(x)).unwrap();
            assert_eq!(back.to_bits(), x.to_bits(), "{x}");
        }
        for s in ["plain", "quote\"back\\slash", "new\nline\ttab", "ünï", "\u{1}"] {
            let back: String = ron::from_str(&ron_string(s)).unwrap();
            assert_eq!(back, s);
        }
    }

    #[test]
    fn overrides_apply_only_set_fields() {
        let o =
            ConfigOverrides { commission: Some(0.002), hedging: Some(true), ..Default::default() };
        let c = o.apply(BacktestConfig::default());
        assert_eq!((c.cash, c.commission, c.hedging, c.margin), (10_000.0, 0.002, true, 1.0));
        assert_eq!(o.to_ron(), "(commission: 0.002, hedging: true)");
        assert!(ConfigOverrides::default().is_empty() && !o.is_empty());
    }

    #[test]
    fn id_values_keep_ints_and_floats_apart() {
        let mut s = String::new();
        for v in [
            ParamValue::Int(2),
            ParamValue::Float(2.0),
            ParamValue::Float(0.5),
            ParamValue::Bool(true),
        ] {
            push_id_value(&mut s, &v);
            s.push(' ');
        }
        assert_eq!(s, "2 2.0 0.5 true ");
    }
}
