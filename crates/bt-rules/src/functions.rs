//! The functions of rules expressions: what each takes and gives, and how its values are
//! computed (with bt-strategies' indicators, under the cache keys the built-in strategies use,
//! so a rules strategy and a built-in share the same arrays).

use bt_strategies::indicators;

/// What an argument must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arg {
    /// A series (a price, an indicator, an expression over them) or a number.
    Series,
    /// A period: a whole number >= 1, known before the run (a number or a `$param`).
    Period,
    /// A number known before the run.
    Number,
}

/// What a function gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Out {
    /// One series per field (`fields` empty: one series).
    Series,
    /// A condition per bar.
    Cond,
    /// Evaluated bar by bar from its arguments (no array of its own).
    Pointwise,
}

/// One function of the language (compared by name).
#[derive(Debug)]
pub(crate) struct Func {
    pub(crate) name: &'static str,
    pub(crate) args: &'static [Arg],
    pub(crate) fields: &'static [&'static str],
    pub(crate) out: Out,
    /// One line for docs and errors: the exact formula.
    pub(crate) doc: &'static str,
}

use Arg::{Number, Period, Series};

pub(crate) const FUNCS: &[Func] = &[
    Func {
        name: "sma",
        args: &[Series, Period],
        fields: &[],
        out: Out::Series,
        doc: "simple moving average over n bars (pandas rolling mean)",
    },
    Func {
        name: "ema",
        args: &[Series, Period],
        fields: &[],
        out: Out::Series,
        doc: "exponential moving average, alpha = 2 / (n + 1), adjust=False",
    },
    Func {
        name: "rma",
        args: &[Series, Period],
        fields: &[],
        out: Out::Series,
        doc: "Wilder's moving average, alpha = 1 / n, adjust=False",
    },
    Func {
        name: "rsi",
        args: &[Series, Period],
        fields: &[],
        out: Out::Series,
        doc: "Wilder's RSI: 100 - 100 / (1 + rma(gains, n) / rma(losses, n))",
    },
    Func {
        name: "std",
        args: &[Series, Period],
        fields: &[],
        out: Out::Series,
        doc: "rolling population standard deviation over n bars (ddof = 0)",
    },
    Func {
        name: "atr",
        args: &[Period],
        fields: &[],
        out: Out::Series,
        doc: "average true range: rma of max(high - low, |high - prev close|, |low - prev close|) over n bars",
    },
    Func {
        name: "highest",
        args: &[Series, Period],
        fields: &[],
        out: Out::Series,
        doc: "highest value of the last n bars, the current one included",
    },
    Func {
        name: "lowest",
        args: &[Series, Period],
        fields: &[],
        out: Out::Series,
        doc: "lowest value of the last n bars, the current one included",
    },
    Func {
        name: "bollinger",
        args: &[Series, Period, Number],
        fields: &["mid", "upper", "lower"],
        out: Out::Series,
        doc: "mid = sma(x, n), upper/lower = mid +- k * std(x, n)",
    },
    Func {
        name: "macd",
        args: &[Series, Period, Period, Period],
        fields: &["line", "signal", "hist"],
        out: Out::Series,
        doc: "line = ema(x, fast) - ema(x, slow), signal = ema(line, signal), hist = line - signal",
    },
    Func {
        name: "crosses_above",
        args: &[Series, Series],
        fields: &[],
        out: Out::Cond,
        doc: "a[1] < b[1] and a > b (backtesting.py's crossover(a, b))",
    },
    Func {
        name: "crosses_below",
        args: &[Series, Series],
        fields: &[],
        out: Out::Cond,
        doc: "a[1] > b[1] and a < b (backtesting.py's crossover(b, a))",
    },
    Func { name: "abs", args: &[Series], fields: &[], out: Out::Pointwise, doc: "absolute value" },
    Func {
        name: "min",
        args: &[Series, Series],
        fields: &[],
        out: Out::Pointwise,
        doc: "the smaller of two values (NaN if either is NaN)",
    },
    Func {
        name: "max",
        args: &[Series, Series],
        fields: &[],
        out: Out::Pointwise,
        doc: "the larger of two values (NaN if either is NaN)",
    },
];

impl PartialEq for Func {
    fn eq(&self, other: &Func) -> bool {
        self.name == other.name
    }
}

/// The function called `name`.
pub(crate) fn func(name: &str) -> Option<&'static Func> {
    FUNCS.iter().find(|f| f.name == name)
}

/// Every function name, for messages.
pub(crate) fn names() -> String {
    FUNCS.iter().map(|f| f.name).collect::<Vec<_>>().join(", ")
}

/// The cache key of `func` over input series keys `series` and numbers `nums`, field `field`:
/// the built-in strategies' keys (`sma(close,10)`), so their arrays are shared.
pub(crate) fn key(func: &Func, series: &[String], nums: &[f64], field: Option<usize>) -> String {
    let n = |k: usize| fmt_num(nums[k]);
    let x = series.first().map_or("", String::as_str);
    match (func.name, field) {
        ("sma" | "bollinger", None | Some(0)) => format!("sma({x},{})", n(0)),
        ("std", _) => format!("std({x},{})", n(0)),
        ("highest", _) => format!("rolling_max({x},{})", n(0)),
        ("lowest", _) => format!("rolling_min({x},{})", n(0)),
        ("atr", _) => format!("atr({})", n(0)),
        ("bollinger", Some(1)) => format!("bollinger_upper({x},{},{})", n(0), n(1)),
        ("bollinger", Some(_)) => format!("bollinger_lower({x},{},{})", n(0), n(1)),
        ("macd", None | Some(0)) => format!("macd({x},{},{})", n(0), n(1)),
        ("macd", Some(1)) => format!("macd_signal({x},{},{},{})", n(0), n(1), n(2)),
        ("macd", Some(_)) => format!("macd_hist({x},{},{},{})", n(0), n(1), n(2)),
        (name, _) => format!("{name}({x},{})", n(0)),
    }
}

/// A number as keys and canonical texts write it: integers without a fraction.
pub(crate) fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 { format!("{}", x as i64) } else { format!("{x:?}") }
}

/// The values of `func` (field `field`) over `inputs` (one slice per series argument) with
/// the numbers `nums` (periods as whole numbers); `high`, `low`, `close` for `atr`.
pub(crate) fn compute(
    func: &Func,
    inputs: &[&[f64]],
    nums: &[f64],
    field: Option<usize>,
    hlc: [&[f64]; 3],
) -> Vec<f64> {
    let p = |k: usize| nums[k] as usize;
    match func.name {
        "sma" => indicators::sma(inputs[0], p(0)),
        "ema" => indicators::ema(inputs[0], p(0)),
        "rma" => indicators::rma(inputs[0], p(0)),
        "rsi" => indicators::rsi(inputs[0], p(0)),
        "std" => indicators::rolling_std(inputs[0], p(0)),
        "atr" => indicators::atr(hlc[0], hlc[1], hlc[2], p(0)),
        "highest" => indicators::rolling_max(inputs[0], p(0)),
        "lowest" => indicators::rolling_min(inputs[0], p(0)),
        "bollinger" => {
            let mid = indicators::sma(inputs[0], p(0));
            let k = nums[1];
            match field {
                None | Some(0) => mid,
                Some(f) => {
                    // As the built-in breakout: mid[j] +- k * sd[j], element by element.
                    let sd = indicators::rolling_std(inputs[0], p(0));
                    mid.iter()
                        .zip(&sd)
                        .map(|(m, s)| if f == 1 { m + k * s } else { m - k * s })
                        .collect()
                }
            }
        }
        "macd" => {
            let (line, signal) = indicators::macd(inputs[0], p(0), p(1), p(2));
            match field {
                None | Some(0) => line,
                Some(1) => signal,
                Some(_) => line.iter().zip(&signal).map(|(a, b)| a - b).collect(),
            }
        }
        other => unreachable!("{other} has no array"),
    }
}
