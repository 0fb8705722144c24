//! Broker settings as flags, shared by `bt backtest` and `bt gen-queue`.

use bt::{
    domain::{BacktestConfig, ParamValue},
    queue::ConfigOverrides,
};

use crate::BadInput;

/// Broker settings (`BacktestConfig`): unset flags keep backtesting.py's defaults
/// (`bt backtest`) or are not written to the queue (`bt gen-queue`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConfigFlags {
    /// Starting cash [default: 10000].
    #[arg(long, allow_negative_numbers = true)]
    pub cash: Option<f64>,
    /// Commission rate per fill, e.g. 0.002 = 0.2 %, in [-0.1, 0.1) [default: 0].
    #[arg(long, allow_negative_numbers = true)]
    pub commission: Option<f64>,
    /// Fixed commission per fill, in cash [default: 0].
    #[arg(long, allow_negative_numbers = true)]
    pub commission_fixed: Option<f64>,
    /// Bid-ask spread as a fraction of price [default: 0].
    #[arg(long, allow_negative_numbers = true)]
    pub spread: Option<f64>,
    /// Margin requirement in (0, 1]; leverage = 1/margin [default: 1].
    #[arg(long, allow_negative_numbers = true)]
    pub margin: Option<f64>,
    /// Fill market orders at the close of the signal bar (`--trade-on-close=false` unsets it).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub trade_on_close: Option<bool>,
    /// Allow simultaneous long and short trades.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub hedging: Option<bool>,
    /// Each new order closes the position first.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub exclusive_orders: Option<bool>,
    /// Close open trades at the end of the data.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub finalize_trades: Option<bool>,
    /// A stop-loss trailing the close by N ATRs on every trade (backtesting.py's
    /// TrailingStrategy.set_trailing_sl).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub trailing_atr: Option<f64>,
    /// A stop-loss trailing the close by a fraction of price, e.g. 0.05, converted to ATRs as
    /// set_trailing_pct does.
    #[arg(long, value_name = "P", allow_negative_numbers = true)]
    pub trailing_pct: Option<f64>,
    /// Bars of the average true range the trailing stop uses [default: 100].
    #[arg(long, value_name = "N")]
    pub atr_periods: Option<u64>,
    /// Trade multiples of this unit instead of whole units, e.g. 0.00000001 (backtesting.py's
    /// FractionalBacktest).
    #[arg(long, value_name = "U", allow_negative_numbers = true)]
    pub fractional_unit: Option<f64>,
    /// Slippage as a fraction of price: buys fill higher, sells lower, limits never beyond
    /// their limit, e.g. 0.0005 [default: 0].
    #[arg(long, value_name = "S", allow_negative_numbers = true)]
    pub slippage: Option<f64>,
    /// Slippage as a fixed amount per unit, on top of --slippage [default: 0].
    #[arg(long, value_name = "AMOUNT", allow_negative_numbers = true)]
    pub slippage_fixed: Option<f64>,
}

impl ConfigFlags {
    /// The flags given, as a queue's config overrides.
    pub fn overrides(&self) -> ConfigOverrides {
        ConfigOverrides {
            cash: self.cash,
            commission: self.commission,
            commission_fixed: self.commission_fixed,
            spread: self.spread,
            margin: self.margin,
            trade_on_close: self.trade_on_close,
            hedging: self.hedging,
            exclusive_orders: self.exclusive_orders,
            finalize_trades: self.finalize_trades,
            trailing_atr: self.trailing_atr,
            trailing_pct: self.trailing_pct,
            atr_periods: self.atr_periods,
            fractional_unit: self.fractional_unit,
            slippage: self.slippage,
            slippage_fixed: self.slippage_fixed,
        }
    }

    /// backtesting.py's defaults with the flags given, validated.
    pub fn config(&self) -> Result<BacktestConfig, BadInput> {
        let c = self.overrides().apply(BacktestConfig::default());
        c.validate().map_err(|e| {
            let expected = e.expected.replace("trailing_atr", "--trailing-atr");
            BadInput(format!("--{} {}: expected {expected}", e.field.replace('_', "-"), e.value))
        })?;
        Ok(c)
    }

    /// The flags given, as command-line words in a fixed order (`--cash 10000`, `--hedging`).
    pub fn words(&self) -> Vec<String> {
        let mut words = Vec::new();
        for (name, value) in self.overrides().values() {
            let flag = format!("--{}", name.replace('_', "-"));
            match value {
                ParamValue::Bool(true) => words.push(flag),
                ParamValue::Bool(false) => words.push(format!("{flag}=false")),
                other => words.extend([flag, other.to_string()]),
            }
        }
        words
    }
}
