//! Portfolio backtests: several instruments on one cash account.
//!
//! - [`Portfolio`]: named instruments and their timeline, the union of their timestamps (an
//!   instrument without a bar keeps its last price for valuation and cannot fill there).
//! - [`PortfolioStrategy`]: what users implement; [`PortfolioCtx`] sees every instrument up to
//!   the current bar and places per-instrument orders: `buy`/`sell`/`close_position`
//!   (backtesting.py's rule, bt-engine's broker generalised to one account) and
//!   `order_target_percent` (vectorbt 1.2's target-percent rule, see `vbt`).
//! - [`run`]: one backtest, equity streamed to an [`bt_domain::EquityObserver`], per-instrument
//!   exposure, turnover and contribution in the result.
//! - [`builtin`]: equal weight, momentum rotation, inverse volatility.
//!
//! docs/SEMANTICS.md ("Portfolios") is the contract; docs/portfolio.md the user guide.
//! Architecture invariant: no files, no threads, no allocation per bar in the loop.

mod broker;
pub mod builtin;
mod error;
mod rebalance;
mod run;
mod strategy;
mod vbt;

pub use crate::{
    broker::{Fill, InstrumentCosts},
    error::PortfolioError,
    run::{InstrumentSummary, Portfolio, PortfolioResult, RunOptions, run},
    strategy::{PortfolioCtx, PortfolioStrategy},
};
