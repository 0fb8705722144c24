use crate::error::ConfigError;

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
        }
    }
}

impl BacktestConfig {
    /// Names of every field, as written in queue files and CLI flags.
    pub const FIELDS: [&'static str; 9] = [
        "cash",
        "commission",
        "commission_fixed",
        "spread",
        "margin",
        "trade_on_close",
        "hedging",
        "exclusive_orders",
        "finalize_trades",
    ];

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
    }
}
