//! Domain types of bt: the vocabulary every other crate speaks.
//!
//! - [`Bars`]: columnar OHLCV for one instrument, validated on construction and cheap to share
//!   between threads (an `Arc` inside). Holding a `Bars` proves the data is valid.
//! - [`Interval`], [`Symbol`]: plain descriptions of a data set.
//! - [`BacktestConfig`]: the broker settings, with backtesting.py's defaults.
//! - [`Trade`], [`Stats`]: what a simulation produces.
//! - [`SyntheticSpec`]: a seeded synthetic data set, as queues describe it and bt-data makes it.
//! - [`SimSpec`], [`Params`], [`ParamValue`]: one simulation of a queue, as the queue crate hands
//!   it to the executor.
//! - [`SimRecord`], [`SummaryTable`], [`RunInfo`]: a run's results, as every output format sees
//!   them (one table shape for CSV, Markdown, JSON, Parquet and the report).
//! - [`StrategyCatalog`], [`ParamSpec`], [`StrategyError`]: what strategies accept, so queues are
//!   validated without knowing the strategies.
//! - [`ranking`]: the one top-K selection of every leaderboard; [`hash`] and [`rng`]: the stable
//!   hashes and the seeded generator behind ids, shards and random sweeps.
//! - [`ErrorKind`]: input, I/O or internal, answered by every library error's `kind()`.
//! - [`EquityObserver`]: how the engine streams the equity curve to whoever needs it (statistics,
//!   a recorded curve), so that nobody has to keep a curve they do not want.
//! - [`time`]: UTC calendar arithmetic on i64 nanosecond timestamps (no wall clock).
//! - [`window`]: walk-forward windows over a data set's bars, and their names.
//!
//! Architecture invariant: this crate depends on no other bt crate, does no I/O, and knows no
//! file format (no serde, no polars). It is the bottom of the dependency graph.
//!
//! ```
//! use bt_domain::Bars;
//! let bars = Bars::new(
//!     vec![0, 86_400_000_000_000],
//!     vec![10.0, 11.0],
//!     vec![12.0, 12.0],
//!     vec![9.0, 10.5],
//!     vec![11.0, 11.5],
//!     vec![100.0, 120.0],
//! )
//! .unwrap();
//! assert_eq!(bars.len(), 2);
//! ```

mod bars;
mod catalog;
mod config;
mod error;
mod error_kind;
pub mod hash;
mod interval;
pub mod numeric;
mod observer;
pub mod ranking;
mod record;
pub mod rng;
mod run_info;
mod sim;
mod stats;
mod synthetic;
pub mod time;
mod trade;
mod validation;
pub mod window;

pub use crate::{
    bars::{BarChecks, Bars, Column},
    catalog::{Limit, ParamKind, ParamSpec, StrategyCatalog, StrategyError, list_params},
    config::BacktestConfig,
    error::{BarsError, BarsErrorKind, ConfigError},
    error_kind::{ErrorKind, unusable_output},
    interval::Interval,
    observer::{EquityCurve, EquityObserver},
    record::{
        Cell, RETURN_KEYS, ReturnStats, SimOutcome, SimRecord, SimSummary, SummaryLayout,
        SummaryTable, push_csv_line, stat_cell,
    },
    run_info::{Attempt, DatasetInfo, RunInfo, RunMode, RunStatus},
    sim::{ParamValue, Params, SimSpec, Symbol, apply_config_params, strategy_params},
    stats::{STAT_KEYS, STAT_LABELS, StatValue, Stats},
    synthetic::SyntheticSpec,
    trade::Trade,
    validation::{PboSummary, ValidationGroup},
};
