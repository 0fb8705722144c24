//! Parameter values and config overrides as they appear in queue files.

use std::fmt::{self, Write as _};

use bt_domain::{BacktestConfig, ParamValue};
use serde::{Deserialize, Deserializer, de};

/// Broker settings that a queue's `defaults`, a simulation's or a sweep's `config` override.
///
/// `None` keeps the value from the level below (`BacktestConfig::default()` under `defaults`,
/// `defaults` under a simulation or sweep).
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename = "config")]
pub struct ConfigOverrides {
    /// See [`BacktestConfig::cash`].
    pub cash: Option<f64>,
    /// See [`BacktestConfig::commission`].
    pub commission: Option<f64>,
    /// See [`BacktestConfig::commission_fixed`].
    pub commission_fixed: Option<f64>,
    /// See [`BacktestConfig::spread`].
    pub spread: Option<f64>,
    /// See [`BacktestConfig::margin`].
    pub margin: Option<f64>,
    /// See [`BacktestConfig::trade_on_close`].
    pub trade_on_close: Option<bool>,
    /// See [`BacktestConfig::hedging`].
    pub hedging: Option<bool>,
    /// See [`BacktestConfig::exclusive_orders`].
    pub exclusive_orders: Option<bool>,
    /// See [`BacktestConfig::finalize_trades`].
    pub finalize_trades: Option<bool>,
}

impl ConfigOverrides {
    /// `base` with every set field replaced.
    pub fn apply(&self, base: BacktestConfig) -> BacktestConfig {
        BacktestConfig {
            cash: self.cash.unwrap_or(base.cash),
            commission: self.commission.unwrap_or(base.commission),
            commission_fixed: self.commission_fixed.unwrap_or(base.commission_fixed),
            spread: self.spread.unwrap_or(base.spread),
            margin: self.margin.unwrap_or(base.margin),
            trade_on_close: self.trade_on_close.unwrap_or(base.trade_on_close),
            hedging: self.hedging.unwrap_or(base.hedging),
            exclusive_orders: self.exclusive_orders.unwrap_or(base.exclusive_orders),
            finalize_trades: self.finalize_trades.unwrap_or(base.finalize_trades),
        }
    }

    /// Whether no field is set.
    pub fn is_empty(&self) -> bool {
        *self == ConfigOverrides::default()
    }

    /// The set fields as RON, in [`BacktestConfig::FIELDS`] order: `(cash: 10000.0, hedging: true)`.
    pub(crate) fn to_ron(self) -> String {
        let floats = [
            ("cash", self.cash),
            ("commission", self.commission),
            ("commission_fixed", self.commission_fixed),
            ("spread", self.spread),
            ("margin", self.margin),
        ];
        let bools = [
            ("trade_on_close", self.trade_on_close),
            ("hedging", self.hedging),
            ("exclusive_orders", self.exclusive_orders),
            ("finalize_trades", self.finalize_trades),
        ];
        let fields: Vec<String> = floats
            .iter()
            .filter_map(|(k, v)| v.map(|v| format!("{k}: {}", ron_float(v))))
            .chain(bools.iter().filter_map(|(k, v)| v.map(|v| format!("{k}: {v}"))))
            .collect();
        format!("({})", fields.join(", "))
    }
}

/// A parameter value in a queue file: an integer, a float, a boolean or a string.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ParamRepr(pub(crate) ParamValue);

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
