use crate::{error::ConfigError, sim::ParamValue};

/// The `&'static` name of a field (for errors), or a generic one.
fn static_name(name: &str) -> &'static str {
    BacktestConfig::FIELDS.iter().find(|f| **f == name).copied().unwrap_or("setting")
}

/// Broker settings of one backtest, with backtesting.py's defaults and limits.
///
/// `commission` is the relative rate charged on each fill's notional (entry and exit);
/// `commission_fixed` is a fixed cash amount added to every fill. backtesting.py's
/// `commission=(fixed, rate)` is `commission_fixed = fixed, commission = rate`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BacktestConfig {
    /// Starting cash (> 0). backtesting.py: `cash=10_000`.
    pub cash: f64,
    /// Relative commission per fill, in [-0.1, 0.1). Negative is a maker rebate.
    pub commission: f64,
    /// Fixed commission per fill, in cash (>= 0).
    pub commission_fixed: f64,
    /// Bid-ask spread as a fraction of price (>= 0): longs pay `price * (1 + spread)`.
    pub spread: f64,
    /// Margin requirement in (0, 1]; leverage is `1 / margin`.
    pub margin: f64,
    /// Fill market orders at the close of the bar they were placed on.
    pub trade_on_close: bool,
    /// Allow long and short trades at once instead of netting FIFO.
    pub hedging: bool,
    /// Each new order closes the position and cancels other pending orders first.
    pub exclusive_orders: bool,
    /// Close trades still open at the end of the data (at the last bar's open).
    pub finalize_trades: bool,
    /// A stop-loss that trails the close by this many ATRs (backtesting.py's
    /// `TrailingStrategy.set_trailing_sl(n)`), on every open trade; `None`: off.
    pub trailing_atr: Option<f64>,
    /// A stop-loss that trails the close by this fraction of price, converted to ATRs as
    /// backtesting.py's `set_trailing_pct` does; `None`: off.
    pub trailing_pct: Option<f64>,
    /// Bars of the rolling mean of true ranges the trailing stop uses (backtesting.py: 100).
    pub atr_periods: usize,
    /// Trade in multiples of this unit instead of whole units (backtesting.py's
    /// `FractionalBacktest(fractional_unit=...)`); `None`: whole units.
    pub fractional_unit: Option<f64>,
    /// Slippage as a fraction of price: every fill but a limit's moves against the trader by
    /// it (buys higher, sells lower); limit orders fill at their limit or better.
    pub slippage: f64,
    /// Slippage as a fixed amount per unit, on top of [`BacktestConfig::slippage`].
    pub slippage_fixed: f64,
}

impl Default for BacktestConfig {
    fn default() -> Self {
        BacktestConfig {
            cash: 10_000.0,
            commission: 0.0,
            commission_fixed: 0.0,
            spread: 0.0,
            margin: 1.0,
            trade_on_close: false,
            hedging: false,
            exclusive_orders: false,
            finalize_trades: false,
            trailing_atr: None,
            trailing_pct: None,
            atr_periods: 100,
            fractional_unit: None,
            slippage: 0.0,
            slippage_fixed: 0.0,
        }
    }
}

impl BacktestConfig {
    /// Names of every field, as written in queue files and CLI flags.
    pub const FIELDS: [&'static str; 15] = [
        "cash",
        "commission",
        "commission_fixed",
        "spread",
        "margin",
        "trade_on_close",
        "hedging",
        "exclusive_orders",
        "finalize_trades",
        "trailing_atr",
        "trailing_pct",
        "atr_periods",
        "fractional_unit",
        "slippage",
        "slippage_fixed",
    ];

    /// Whether `name` is a field (a sweep axis of that name sets the field).
    pub fn is_field(name: &str) -> bool {
        BacktestConfig::FIELDS.contains(&name)
    }

    /// Sets field `name` from a value as queues and command lines give it: numbers for number
    /// fields (an integer is accepted), an integer for `atr_periods`, true/false for flags.
    /// The value is checked by [`BacktestConfig::validate`], not here.
    pub fn set(&mut self, name: &str, value: &ParamValue) -> Result<(), ConfigError> {
        let wrong = |expected| {
            Err(ConfigError {
                field: static_name(name),
                value: value.as_f64().unwrap_or(f64::NAN),
                expected,
            })
        };
        let number = value.as_f64();
        let flag = match value {
            ParamValue::Bool(b) => Some(*b),
            _ => None,
        };
        match (name, number, flag) {
            ("cash", Some(x), _) => self.cash = x,
            ("commission", Some(x), _) => self.commission = x,
            ("commission_fixed", Some(x), _) => self.commission_fixed = x,
            ("spread", Some(x), _) => self.spread = x,
            ("margin", Some(x), _) => self.margin = x,
            ("trailing_atr", Some(x), _) => self.trailing_atr = Some(x),
            ("trailing_pct", Some(x), _) => self.trailing_pct = Some(x),
            ("fractional_unit", Some(x), _) => self.fractional_unit = Some(x),
            ("slippage", Some(x), _) => self.slippage = x,
            ("slippage_fixed", Some(x), _) => self.slippage_fixed = x,
            ("atr_periods", _, _) => match value {
                ParamValue::Int(n) if *n >= 1 => self.atr_periods = *n as usize,
                _ => return wrong("a whole number of bars >= 1, e.g. 100"),
            },
            ("trade_on_close", _, Some(b)) => self.trade_on_close = b,
            ("hedging", _, Some(b)) => self.hedging = b,
            ("exclusive_orders", _, Some(b)) => self.exclusive_orders = b,
            ("finalize_trades", _, Some(b)) => self.finalize_trades = b,
            ("trade_on_close" | "hedging" | "exclusive_orders" | "finalize_trades", _, None) => {
                return wrong("true or false");
            }
            _ if BacktestConfig::is_field(name) => return wrong("a number"),
            _ => return wrong("a broker setting: one of BacktestConfig::FIELDS"),
        }
        Ok(())
    }

    /// Checks every value against backtesting.py's limits.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let check = |field, value: f64, ok: bool, expected| {
            if value.is_finite() && ok {
                Ok(())
            } else {
                Err(ConfigError { field, value, expected })
            }
        };
        check("cash", self.cash, self.cash > 0.0, "a positive amount, e.g. 10000")?;
        check(
            "commission",
            self.commission,
            (-0.1..0.1).contains(&self.commission),
            "a rate in [-0.1, 0.1), e.g. 0.002 for 0.2%",
        )?;
        check(
            "commission_fixed",
            self.commission_fixed,
            self.commission_fixed >= 0.0,
            "a cash amount >= 0",
        )?;
        check("spread", self.spread, self.spread >= 0.0, "a fraction >= 0, e.g. 0.0002")?;
        check(
            "margin",
            self.margin,
            self.margin > 0.0 && self.margin <= 1.0,
            "a fraction in (0, 1]: 1 = no leverage, 0.02 = 50:1",
        )?;
        if let Some(n) = self.trailing_atr {
            check("trailing_atr", n, n > 0.0, "a number of ATRs > 0, e.g. 3")?;
        }
        if let Some(p) = self.trailing_pct {
            check("trailing_pct", p, p > 0.0 && p < 1.0, "a fraction in (0, 1), e.g. 0.05 for 5%")?;
            if self.trailing_atr.is_some() {
                return Err(ConfigError {
                    field: "trailing_pct",
                    value: p,
                    expected: "unset when trailing_atr is set: give one of the two",
                });
            }
        }
        check(
            "atr_periods",
            self.atr_periods as f64,
            self.atr_periods >= 1,
            "a whole number of bars >= 1, e.g. 100",
        )?;
        if let Some(u) = self.fractional_unit {
            check(
                "fractional_unit",
                u,
                u > 0.0 && u <= 1.0,
                "a unit in (0, 1], e.g. 0.00000001 (one satoshi) or 0.01",
            )?;
        }
        check(
            "slippage",
            self.slippage,
            (0.0..0.5).contains(&self.slippage),
            "a fraction of price in [0, 0.5), e.g. 0.0005 for 5 basis points",
        )?;
        check(
            "slippage_fixed",
            self.slippage_fixed,
            self.slippage_fixed >= 0.0,
            "a price amount per unit >= 0",
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_limits_enforced() {
        assert!(BacktestConfig::default().validate().is_ok());
        let bad = |f: fn(&mut BacktestConfig)| {
            let mut c = BacktestConfig::default();
            f(&mut c);
            c.validate().unwrap_err().field
        };
        assert_eq!(bad(|c| c.cash = -1.0), "cash");
        assert_eq!(bad(|c| c.commission = 0.1), "commission");
        assert_eq!(bad(|c| c.commission = f64::NAN), "commission");
        assert_eq!(bad(|c| c.margin = 0.0), "margin");
        assert_eq!(bad(|c| c.spread = -0.01), "spread");
        let rebate = BacktestConfig { commission: -0.1, ..BacktestConfig::default() };
        assert!(rebate.validate().is_ok());
        assert_eq!(bad(|c| c.trailing_atr = Some(0.0)), "trailing_atr");
        assert_eq!(bad(|c| c.trailing_pct = Some(1.0)), "trailing_pct");
        assert_eq!(bad(|c| c.trailing_pct = Some(f64::NAN)), "trailing_pct");
        assert_eq!(
            bad(|c| {
                c.trailing_atr = Some(3.0);
                c.trailing_pct = Some(0.05);
            }),
            "trailing_pct"
        );
        assert_eq!(bad(|c| c.atr_periods = 0), "atr_periods");
        assert_eq!(bad(|c| c.fractional_unit = Some(2.0)), "fractional_unit");
        assert_eq!(bad(|c| c.fractional_unit = Some(-1e-8)), "fractional_unit");
        assert_eq!(bad(|c| c.slippage = -0.001), "slippage");
        assert_eq!(bad(|c| c.slippage_fixed = f64::INFINITY), "slippage_fixed");
    }

    #[test]
    fn fields_are_set_by_name_with_type_checks() {
        let mut c = BacktestConfig::default();
        c.set("trailing_atr", &ParamValue::Int(3)).unwrap();
        c.set("atr_periods", &ParamValue::Int(14)).unwrap();
        c.set("hedging", &ParamValue::Bool(true)).unwrap();
        c.set("slippage", &ParamValue::Float(0.001)).unwrap();
        assert_eq!(
            (c.trailing_atr, c.atr_periods, c.hedging, c.slippage),
            (Some(3.0), 14, true, 0.001)
        );
        assert!(c.set("atr_periods", &ParamValue::Float(2.5)).is_err());
        assert!(c.set("hedging", &ParamValue::Int(1)).is_err());
        assert!(c.set("cash", &ParamValue::Str("x".into())).is_err());
        assert!(c.set("nope", &ParamValue::Int(1)).is_err());
        assert!(BacktestConfig::FIELDS.iter().all(|f| BacktestConfig::is_field(f)));
    }
}
