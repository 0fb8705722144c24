//! The values one swept parameter takes: an inclusive range or a list.

use std::fmt;

use bt_domain::ParamValue;
use serde::{Deserialize, Deserializer, de};

use bt_expr::scalar::Ty;

use crate::{
    error::QueueError,
    value::{ParamRepr, ron_float, ron_param},
};

/// The values of one swept parameter, in sweep order. Never empty.
///
/// Built with [`Axis::int_range`], [`Axis::float_range`], [`Axis::list`] or
/// [`parse_grid_arg`]; the constructors reject empty, malformed or ambiguous axes, so an
/// `Axis` is always usable.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Int {
        start: i64,
        end: i64,
        step: i64,
        count: u64,
    },
    // Points are `(scaled_start + k * scaled_step) / scale`: integer arithmetic on k*step, so a
    // range never drifts and `range(0.1, 0.3, 0.1)` gives exactly 0.1, 0.2, 0.3.
    Float {
        start: f64,
        end: f64,
        step: f64,
        scaled_start: i64,
        scaled_step: i64,
        scale: f64,
        count: u64,
    },
    List(Vec<ParamValue>),
}

/// The largest integer that every f64 below it represents exactly.
const EXACT: i64 = 1 << 53;

impl Axis {
    /// The integers `start, start + step, ...` up to and including `end` (if it is hit).
    pub fn int_range(start: i64, end: i64, step: i64) -> Result<Axis, String> {
        if step <= 0 {
            return Err(format!("step {step} must be positive, e.g. range({start}, {end}, 1)"));
        }
        if end < start {
            return Err(format!("end {end} is below start {start}: write range({end}, {start})"));
        }
        let count = ((i128::from(end) - i128::from(start)) / i128::from(step) + 1) as u64;
        Ok(Axis { kind: Kind::Int { start, end, step, count } })
    }

    /// The floats `start + k * step` for `k = 0, 1, ...` up to and including `end`, computed
    /// on the decimal digits of the three numbers so that no rounding error accumulates.
    pub fn float_range(start: f64, end: f64, step: f64) -> Result<Axis, String> {
        if !(start.is_finite() && end.is_finite() && step.is_finite()) {
            return Err("bounds and step must be finite numbers".into());
        }
        if step <= 0.0 {
            return Err(format!("step {step} must be positive"));
        }
        if end < start {
            return Err(format!("end {end} is below start {start}: swap them"));
        }
        let digits = decimals(start).max(decimals(end)).max(decimals(step));
        let too_fine =
            || "too many digits for an exact range: use fewer decimals or a list".to_string();
        if digits > 15 {
            return Err(too_fine());
        }
        let scale = 10f64.powi(digits as i32);
        let scaled = |x: f64| -> Result<i64, String> {
            let s = (x * scale).round();
            if s.abs() >= EXACT as f64 || s / scale != x {
                return Err(too_fine());
            }
            Ok(s as i64)
        };
        let (scaled_start, scaled_end, scaled_step) = (scaled(start)?, scaled(end)?, scaled(step)?);
        let count = ((scaled_end - scaled_start) / scaled_step + 1) as u64;
        Ok(Axis { kind: Kind::Float { start, end, step, scaled_start, scaled_step, scale, count } })
    }

    /// The listed values, in the order given. They must be distinct and all numbers (integers
    /// and floats may mix), all booleans or all strings.
    pub fn list(values: Vec<ParamValue>) -> Result<Axis, String> {
        if values.is_empty() {
            return Err("the list of values is empty: list at least one value".into());
        }
        let ty = ty_of(&values[0]);
        for (i, v) in values.iter().enumerate() {
            if ty_of(v) != ty {
                return Err(format!(
                    "the list mixes {} and {} values: a parameter takes values of one type",
                    values[0].type_name(),
                    v.type_name()
                ));
            }
            if let ParamValue::Float(x) = v
                && !x.is_finite()
            {
                return Err(format!("value {x} is not a finite number"));
            }
            if values[..i].contains(v) {
                return Err(format!(
                    "value {} is listed twice: list each value once",
                    ron_param(v)
                ));
            }
        }
        Ok(Axis { kind: Kind::List(values) })
    }

    /// Number of values (at least 1).
    pub fn len(&self) -> u64 {
        match &self.kind {
            Kind::Int { count, .. } | Kind::Float { count, .. } => *count,
            Kind::List(values) => values.len() as u64,
        }
    }

    /// Always false: an axis has at least one value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `i`-th value (`i < len()`).
    pub fn value(&self, i: u64) -> ParamValue {
        match &self.kind {
            Kind::Int { start, step, .. } => ParamValue::Int(int_point(*start, *step, i)),
            Kind::Float { .. } => ParamValue::Float(self.number(i)),
            Kind::List(values) => values[i as usize].clone(),
        }
    }

    /// Every value, in order.
    pub fn values(&self) -> impl Iterator<Item = ParamValue> + '_ {
        (0..self.len()).map(|i| self.value(i))
    }

    /// The `i`-th value as a number for `where` (booleans as 0 and 1, strings as NaN: the
    /// type check keeps strings out of expressions).
    pub(crate) fn number(&self, i: u64) -> f64 {
        match &self.kind {
            Kind::Int { start, step, .. } => int_point(*start, *step, i) as f64,
            Kind::Float { scaled_start, scaled_step, scale, .. } => {
                (scaled_start + scaled_step * i as i64) as f64 / scale
            }
            Kind::List(values) => match &values[i as usize] {
                ParamValue::Int(v) => *v as f64,
                ParamValue::Float(x) => *x,
                ParamValue::Bool(b) => f64::from(u8::from(*b)),
                ParamValue::Str(_) => f64::NAN,
            },
        }
    }

    pub(crate) fn ty(&self) -> Ty {
        match &self.kind {
            Kind::Int { .. } | Kind::Float { .. } => Ty::Num,
            Kind::List(values) => ty_of(&values[0]),
        }
    }

    /// The axis as written in a queue file: `range(5, 34)`, `range(40, 130, 10)`, `[1, 2]`.
    pub(crate) fn to_ron(&self) -> String {
        match &self.kind {
            Kind::Int { start, end, step: 1, .. } => format!("range({start}, {end})"),
            Kind::Int { start, end, step, .. } => format!("range({start}, {end}, {step})"),
            Kind::Float { start, end, step, .. } => {
                format!("range({}, {}, {})", ron_float(*start), ron_float(*end), ron_float(*step))
            }
            Kind::List(values) => {
                let items: Vec<String> = values.iter().map(ron_param).collect();
                format!("[{}]", items.join(", "))
            }
        }
    }

    /// Parses the RON text of a grid value: `range(a, b)`, `range(a, b, step)` or a list.
    pub(crate) fn from_ron(text: &str) -> Result<Axis, String> {
        let text = text.trim();
        let expected =
            "expected range(start, end), range(start, end, step) or a list like [1, 2, 3]";
        if let Some(args) = text.strip_prefix("range")
            && args.trim_start().starts_with('(')
        {
            let RangeArgs(args) = ron::from_str(args)
                .map_err(|e| format!("`{text}`: {expected} ({})", lowercase(&e.code)))?;
            let axis = match args[..] {
                [Num::Int(a), Num::Int(b)] => Axis::int_range(a, b, 1),
                [Num::Int(a), Num::Int(b), Num::Int(s)] => Axis::int_range(a, b, s),
                [a, b] => Axis::float_range(a.f64(), b.f64(), 1.0),
                [a, b, s] => Axis::float_range(a.f64(), b.f64(), s.f64()),
                _ => return Err(format!("`{text}`: {expected}")),
            };
            return axis.map_err(|e| format!("`{text}`: {e}"));
        }
        match ron::from_str::<Vec<ParamRepr>>(text) {
            Ok(values) => Axis::list(values.into_iter().map(|v| v.0).collect()),
            Err(e) => Err(format!("`{text}`: {expected} ({})", lowercase(&e.code))),
        }
    }
}

impl fmt::Display for Axis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_ron())
    }
}

/// `start + i * step`, in i128 so that wide ranges do not overflow on the way (the result is
/// at most `end`).
fn int_point(start: i64, step: i64, i: u64) -> i64 {
    (i128::from(start) + i128::from(step) * i128::from(i)) as i64
}

fn lowercase(e: &ron::Error) -> String {
    let text = e.to_string();
    let mut chars = text.chars();
    chars.next().map(|c| c.to_lowercase().chain(chars).collect()).unwrap_or(text)
}

fn ty_of(v: &ParamValue) -> Ty {
    match v {
        ParamValue::Int(_) | ParamValue::Float(_) => Ty::Num,
        ParamValue::Bool(_) => Ty::Bool,
        ParamValue::Str(_) => Ty::Str,
    }
}

/// Digits after the decimal point in the shortest representation of `x` (0.25 -> 2, 1e-7 -> 7).
fn decimals(x: f64) -> u32 {
    let s = format!("{x:e}");
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let frac = mantissa.split_once('.').map_or(0, |(_, f)| f.len() as i64);
    let exp: i64 = exp.parse().unwrap_or(0);
    (frac - exp).max(0) as u32
}

#[derive(Debug, Clone, Copy)]
enum Num {
    Int(i64),
    Float(f64),
}

impl Num {
    fn f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(x) => x,
        }
    }
}

struct RangeArgs(Vec<Num>);

impl<'de> Deserialize<'de> for RangeArgs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<RangeArgs, D::Error> {
        struct V;
        impl<'de> de::Visitor<'de> for V {
            type Value = RangeArgs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("(start, end) or (start, end, step)")
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<RangeArgs, A::Error> {
                let mut args = Vec::new();
                while let Some(ParamRepr(v)) = seq.next_element()? {
                    args.push(match v {
                        ParamValue::Int(i) => Num::Int(i),
                        ParamValue::Float(x) => Num::Float(x),
                        other => {
                            return Err(de::Error::custom(format!(
                                "range bounds must be numbers, found {}",
                                other.type_name()
                            )));
                        }
                    });
                }
                Ok(RangeArgs(args))
            }
        }
        d.deserialize_any(V)
    }
}

/// Parses a command-line sweep axis: `fast=5..=34`, `slow=40..=130:10`, `k=0.5..=2.0:0.5`,
/// `fast=5,10,20`, `long_only=true,false`, `mode=a,b`.
///
/// Ranges are inclusive (`a..=b`, optional `:step`); lists are comma-separated, and each item
/// is an integer, a float, `true`/`false`, or else a string.
pub fn parse_grid_arg(spec: &str) -> Result<(String, Axis), QueueError> {
    let bad = |reason: String| QueueError::GridSpec { spec: spec.to_owned(), reason };
    let (name, values) = split_assignment(spec).map_err(|r| bad(r.into()))?;
    let axis = if let Some((start, rest)) = values.split_once("..") {
        let Some(rest) = rest.strip_prefix('=') else {
            return Err(bad("ranges are inclusive: write `a..=b` (or `a..=b:step`)".into()));
        };
        let (end, step) = match rest.split_once(':') {
            Some((end, step)) => (end, Some(step)),
            None => (rest, None),
        };
        let num = |s: &str| match scalar(s.trim()) {
            ParamValue::Int(i) => Ok(Num::Int(i)),
            ParamValue::Float(x) => Ok(Num::Float(x)),
            _ => Err(bad(format!(
                "`{}` is not a number; expected e.g. fast=5..=34 or k=0.5..=2.0:0.5",
                s.trim()
            ))),
        };
        let (start, end, step) = (num(start)?, num(end)?, step.map(num).transpose()?);
        match (start, end, step.unwrap_or(Num::Int(1))) {
            (Num::Int(a), Num::Int(b), Num::Int(s)) => Axis::int_range(a, b, s),
            (a, b, s) => Axis::float_range(a.f64(), b.f64(), s.f64()),
        }
    } else {
        Axis::list(values.split(',').map(|s| scalar(s.trim())).collect())
    };
    Ok((name.to_owned(), axis.map_err(bad)?))
}

/// Parses a fixed parameter `key=value` (`long_only=true`, `period=14`, `k=0.5`, `mode=fast`).
pub fn parse_param_arg(spec: &str) -> Result<(String, ParamValue), QueueError> {
    let (name, value) = split_assignment(spec)
        .map_err(|r| QueueError::ParamSpec { spec: spec.to_owned(), reason: r.into() })?;
    Ok((name.to_owned(), scalar(value.trim())))
}

fn split_assignment(spec: &str) -> Result<(&str, &str), &'static str> {
    let (name, value) =
        spec.split_once('=').ok_or("expected name=value, e.g. fast=5..=34 or fast=5,10,20")?;
    let name = name.trim();
    let valid = name.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_alphanumeric() || c == '_');
    if !valid {
        return Err("the name before `=` must be a parameter name of letters, digits and `_`");
    }
    if value.trim().is_empty() {
        return Err("nothing after `=`: give a value, a list a,b,c or a range a..=b");
    }
    Ok((name, value))
}

/// A command-line value: integer, float, boolean, or else string.
fn scalar(s: &str) -> ParamValue {
    if let Ok(i) = s.parse::<i64>() {
        ParamValue::Int(i)
    } else if let Some(x) = s.parse::<f64>().ok().filter(|x| x.is_finite()) {
        ParamValue::Float(x)
    } else if s == "true" || s == "false" {
        ParamValue::Bool(s == "true")
    } else {
        ParamValue::Str(s.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(axis: &Axis) -> Vec<String> {
        axis.values().map(|v| v.to_string()).collect()
    }

    #[test]
    fn int_ranges_are_inclusive_with_optional_step() {
        let a = Axis::int_range(5, 34, 1).unwrap();
        assert_eq!(
            (a.len(), a.value(0), a.value(29)),
            (30, ParamValue::Int(5), ParamValue::Int(34))
        );
        let a = Axis::int_range(40, 130, 10).unwrap();
        assert_eq!(a.len(), 10);
        assert_eq!(Axis::int_range(0, 10, 3).unwrap().len(), 4, "0 3 6 9");
        assert_eq!(Axis::int_range(7, 7, 5).unwrap().len(), 1);
        assert!(Axis::int_range(5, 4, 1).is_err());
        assert!(Axis::int_range(1, 4, 0).is_err());
        assert_eq!(Axis::int_range(i64::MIN, i64::MAX, i64::MAX).unwrap().len(), 3);
    }

    #[test]
    fn float_ranges_do_not_drift() {
        let a = Axis::float_range(0.5, 2.0, 0.5).unwrap();
        assert_eq!(values(&a), ["0.5", "1", "1.5", "2"]);
        let a = Axis::float_range(0.1, 1.0, 0.1).unwrap();
        assert_eq!(a.len(), 10, "naive accumulation gives 0.9999999999999999 and 9 points");
        assert_eq!(a.value(2), ParamValue::Float(0.3), "not 0.30000000000000004");
        assert_eq!(a.value(9), ParamValue::Float(1.0));
        let a = Axis::float_range(0.0, 1.0, 0.3).unwrap();
        assert_eq!(values(&a), ["0", "0.3", "0.6", "0.9"]);
        assert!(Axis::float_range(0.0, 1.0, 0.0).is_err());
        assert!(Axis::float_range(0.0, f64::INFINITY, 1.0).is_err());
        assert!(Axis::float_range(0.0, 1.0, 1e-20).is_err());
    }

    #[test]
    fn lists_reject_empty_mixed_and_repeated_values() {
        use ParamValue::{Bool, Float, Int};
        assert!(Axis::list(vec![]).unwrap_err().contains("empty"));
        assert!(Axis::list(vec![Int(1), Bool(true)]).unwrap_err().contains("mixes"));
        assert!(Axis::list(vec![Int(1), Int(2), Int(1)]).unwrap_err().contains("listed twice"));
        assert_eq!(Axis::list(vec![Int(1), Float(1.5)]).unwrap().len(), 2);
    }

    #[test]
    fn ron_round_trip() {
        for text in [
            "range(5, 34)",
            "range(40, 130, 10)",
            "range(0.5, 2.0, 0.5)",
            "[40, 50, 60]",
            "[true, false]",
            "[\"a\", \"b\"]",
            "[0.5, 1.0]",
        ] {
            let axis = Axis::from_ron(text).unwrap();
            assert_eq!(axis.to_ron(), text);
        }
        assert_eq!(Axis::from_ron("range(0.5, 2)").unwrap().len(), 2);
        assert_eq!(Axis::from_ron("range (1, 3) // comment\n").unwrap().len(), 3);
        for bad in
            ["range(5)", "range(1, 2, 3, 4)", "rang(1, 2)", "range(\"a\", 2)", "5", "[]", "(1, 2)"]
        {
            assert!(Axis::from_ron(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn command_line_specs() {
        let (name, a) = parse_grid_arg("fast=5..=34").unwrap();
        assert_eq!((name.as_str(), a.to_ron()), ("fast", "range(5, 34)".to_string()));
        assert_eq!(parse_grid_arg("slow=40..=130:10").unwrap().1.len(), 10);
        assert_eq!(parse_grid_arg("k=0.5..=2.0:0.5").unwrap().1.to_ron(), "range(0.5, 2.0, 0.5)");
        assert_eq!(parse_grid_arg("fast=5,10,20").unwrap().1.to_ron(), "[5, 10, 20]");
        assert_eq!(parse_grid_arg("long_only=true,false").unwrap().1.to_ron(), "[true, false]");
        assert_eq!(parse_grid_arg("mode=a, b").unwrap().1.to_ron(), "[\"a\", \"b\"]");
        for bad in
            ["fast", "=1", "fast=", "fast=5..34", "fast=a..=3", "fast=5..=1", "f=1,1", "f-x=1"]
        {
            let e = parse_grid_arg(bad).unwrap_err().to_string();
            assert!(e.starts_with("invalid grid spec"), "{bad}: {e}");
        }
        assert_eq!(
            parse_param_arg("long_only=true").unwrap(),
            ("long_only".into(), ParamValue::Bool(true))
        );
        assert_eq!(parse_param_arg("k=0.5").unwrap().1, ParamValue::Float(0.5));
        assert!(parse_param_arg("k").is_err());
    }
}
