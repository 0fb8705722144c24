//! Indicators, built-in strategies and the registry that builds a strategy from a name and
//! parameters.
//!
//! - [`indicators`]: pandas-exact indicators over slices ([`indicators::sma`],
//!   [`indicators::ema`], [`indicators::rsi`], [`indicators::atr`], [`indicators::bollinger`],
//!   [`indicators::rolling_max`]/[`indicators::rolling_min`], [`indicators::macd`]) and
//!   backtesting.py's [`indicators::crossover`].
//! - [`builtin`]: strategies implementing [`bt_engine::Strategy`] with typed, validated
//!   parameters: [`builtin::SmaCross`] (backtesting.py's `SmaCross`, exactly),
//!   [`builtin::BuyAndHold`], [`builtin::RsiReversion`], [`builtin::BollingerBreakout`],
//!   [`builtin::DonchianBreakout`], [`builtin::MacdCross`].
//! - [`Registry`]: strategies by name, what each accepts ([`ParamSpec`]) and
//!   [`Registry::build`] from [`bt_domain::Params`], with errors ([`StrategyError`]) that list
//!   what is valid.
//!
//! Indicators are registered through [`bt_engine::Init::indicator`] under keys that name the
//! indicator and its inputs (`sma(close,20)`, `rsi(close,14)`), so every simulation of a sweep
//! over one data set shares them.
//!
//! Architecture invariant: depends only on bt-engine and bt-domain; no I/O, no threads, no
//! knowledge of queues, executors or file formats.
//!
//! ```
//! use bt_domain::{BacktestConfig, Bars, ParamValue, Params};
//! use bt_engine::IndicatorCache;
//! use bt_strategies::Registry;
//!
//! let registry = Registry::builtin();
//! let mut params = Params::new();
//! params.insert("fast".into(), ParamValue::Int(2));
//! params.insert("slow".into(), ParamValue::Int(4));
//! let mut strategy = registry.build("sma_cross", &params).unwrap();
//!
//! // A V: falling, then rising. The fast SMA crosses above the slow one once.
//! let close = [10.0, 9.0, 8.0, 7.0, 6.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0];
//! let ts = (0..close.len() as i64).map(|i| i * 86_400_000_000_000).collect();
//! let bars = Bars::new(ts, close.to_vec(), close.to_vec(), close.to_vec(), close.to_vec(),
//!     vec![0.0; close.len()]).unwrap();
//! let result = bt_engine::run(&bars, strategy.as_mut(), &BacktestConfig::default(),
//!     &IndicatorCache::new(), &mut ()).unwrap();
//! assert_eq!(result.open_trades.len(), 1);
//! assert!(result.open_trades[0].is_long());
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod builtin;
pub mod indicators;
mod params;
mod registry;

pub use bt_domain::{Limit, ParamKind, ParamSpec, StrategyCatalog, StrategyError};

pub use crate::{
    params::Args,
    registry::{BoxedStrategy, BuildFn, Registry, StrategyEntry, WarmupFn, canonical_params},
};
