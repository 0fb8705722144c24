//! The simulation core: a deterministic, event-driven, bar-by-bar broker with backtesting.py
//! 0.6.6's semantics, and the [`Strategy`] trait users implement.
//!
//! - [`run`] drives one backtest: it calls [`Strategy::init`] once with the whole history (for
//!   vectorized indicators), then for each bar processes pending orders, records equity and calls
//!   [`Strategy::next`], which sees data only up to and including the current bar ([`Ctx`] hands
//!   out slices that end at the current bar: no look-ahead through the API).
//! - [`OrderSpec`]: market, limit, stop and stop-limit orders with optional SL/TP brackets, sized
//!   as a fraction of available margin or in whole units.
//! - [`IndicatorCache`]: indicators shared by all simulations of one data set, computed once.
//! - [`BacktestResult`]: closed trades, trades still open at the end, and final balances. The
//!   equity curve is streamed to an [`bt_domain::EquityObserver`]; nothing keeps it unless asked.
//!
//! Architecture invariant: no files, no threads, no polars, no knowledge of built-in strategies.
//! The bar loop does not allocate per bar. Floating-point operations follow backtesting.py's
//! evaluation order where parity depends on it (see SEMANTICS.md, vendored in docs/).
//!
//! ```
//! use bt_domain::{BacktestConfig, Bars, EquityCurve};
//! use bt_engine::{Ctx, EngineError, IndicatorCache, Init, OrderSpec, Strategy};
//!
//! struct BuyOnce;
//! impl Strategy for BuyOnce {
//!     fn init(&mut self, _: &mut Init<'_>) -> Result<(), EngineError> { Ok(()) }
//!     fn next(&mut self, ctx: &mut Ctx<'_, '_>) -> Result<(), EngineError> {
//!         if ctx.trade_count() == 0 && ctx.order_count() == 0 {
//!             ctx.buy(OrderSpec::market())?;
//!         }
//!         Ok(())
//!     }
//! }
//! let day = 86_400_000_000_000;
//! let bars = Bars::new(vec![0, day, 2 * day], vec![10.0, 11.0, 12.0], vec![10.0, 11.0, 12.0],
//!     vec![10.0, 11.0, 12.0], vec![10.0, 11.0, 12.0], vec![0.0; 3]).unwrap();
//! let mut curve = EquityCurve::default();
//! let result = bt_engine::run(&bars, &mut BuyOnce, &BacktestConfig::default(),
//!     &IndicatorCache::new(), &mut curve).unwrap();
//! assert_eq!(result.open_trades.len(), 1);      // 833 units bought at bar 2's open of 12
//! assert_eq!(curve.0, vec![10_000.0, 10_000.0, 10_000.0]);
//! ```

mod broker;
mod cache;
mod error;
mod order;
mod run;
mod strategy;
mod trailing;
pub mod window;

/// Pieces of the broker the portfolio broker (bt-portfolio) shares: CPython's float floor
/// division (whole-unit sizing) and backtesting.py's order-size rule.
pub use crate::broker::{check_order_size, fill_units, py_floordiv};
pub use crate::{
    cache::{IndicatorCache, Scaled},
    error::EngineError,
    order::{OrderInfo, OrderSpec, TradeInfo},
    run::{BacktestResult, run, run_from},
    strategy::{Ctx, Ind, Init, Strategy},
    trailing::trailing_atr,
};

/// backtesting.py's default order size: `1 - f64::EPSILON` of available margin.
pub const FULL_EQUITY: f64 = 1.0 - f64::EPSILON;
