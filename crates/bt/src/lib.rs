//! bt, the backtesting workbench, as one library.
//!
//! One dependency for programs that embed bt, in the style of the `polars` facade: every
//! workspace crate is re-exported as a module, and the composition the `bt` command line is
//! made of lives here as a typed API:
//!
//! - [`Workbench`]: a strategy [`strategies::Registry`] (the built-ins plus your own) and what
//!   bt does with it: [`Workbench::read_queue`] (parse + validate), [`Workbench::run_queue`]
//!   (data sets loaded once, every simulation on 1..N threads, streamed to a run directory,
//!   crash-safe and resumable, sharded), [`Workbench::report`], [`Workbench::merge`],
//!   [`Workbench::backtest`] for a single run.
//! - [`Dataset`]: bars + indicator cache + the facts statistics need, prepared once per data set.
//! - [`Simulator`]: registry strategy + engine + statistics, the unit the executor schedules.
//! - [`run_hash`]: the queue + data fingerprint a run directory records.
//! - [`filter`]: leaderboard filters (`strategy == "rsi" and n_trades >= 20`), compiled for a
//!   run by [`Workbench::run_filter`] / [`Workbench::queue_filter`].
//! - [`Error`]: every failure, with [`Error::kind`] (input, I/O or internal).
//!
//! Modules: [`domain`] (bars, configs, trades, statistics, specs), [`data`] (CSV/Parquet,
//! synthetic bars), [`engine`] (the broker and the [`engine::Strategy`] trait),
//! [`strategies`] (indicators, built-ins, registry), [`stats`] (backtesting.py's statistics),
//! [`queue`] (the RON queue format), [`executor`] (runs, resume, shards), [`report`] (tables,
//! charts, HTML), [`fs`] (atomic writes, the run-directory lock).
//!
//! Architecture invariant: no clap, no anyhow, no printing: parsing arguments, printing and
//! exit codes belong to `bt-cli`. docs/embedding.md has the guide.
//!
//! ```no_run
//! use bt::prelude::*;
//!
//! // A strategy of your own, registered next to the built-ins.
//! struct Hold;
//! impl Strategy for Hold {
//!     fn init(&mut self, _: &mut Init<'_>) -> Result<(), EngineError> { Ok(()) }
//!     fn next(&mut self, ctx: &mut Ctx<'_, '_>) -> Result<(), EngineError> {
//!         if ctx.trade_count() == 0 && ctx.order_count() == 0 {
//!             ctx.buy(OrderSpec::market())?;
//!         }
//!         Ok(())
//!     }
//! }
//! let wb = Workbench::new(
//!     Registry::builtin().with(StrategyEntry::new("hold", |_| Ok(Box::new(Hold)))),
//! );
//! let queue = wb.read_queue("queue.ron")?;
//! let run = wb.run_queue(&queue, &RunOptions { out: "runs/x".into(), ..Default::default() })?;
//! wb.report(&run.dir, &ReportOptions::default())?;
//! # Ok::<(), bt::Error>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cluster;
mod dataset;
mod error;
pub mod filter;
mod hash;
pub mod json;
mod merge;
pub mod portfolio;
pub mod queue_strategies;
mod reporting;
pub mod results;
mod run;
pub mod shell;
mod simulate;
pub mod slurm;
mod summary;
pub mod validation;
pub mod walk_forward;
mod workbench;

pub use bt_data as data;
pub use bt_domain as domain;
pub use bt_engine as engine;
pub use bt_executor as executor;
pub use bt_fs as fs;
pub use bt_queue as queue;
pub use bt_report as report;
pub use bt_rules as rules;
pub use bt_stats as stats;
pub use bt_strategies as strategies;

pub use crate::{
    dataset::{Dataset, Datasets, load_datasets},
    error::{Error, Result},
    filter::{FilterColumns, FilterError, compile_filter},
    hash::run_hash,
    merge::{MergeError, MergeOptions, MergeOutcome},
    reporting::ReportOptions,
    run::{RunOptions, RunOutcome},
    simulate::{Backtest, DEFAULT_PBO_BLOCKS, LOCKSTEP_MAX_BARS, SimError, Simulator},
    workbench::Workbench,
};

/// The names most programs need: `use bt::prelude::*;`.
pub mod prelude {
    pub use bt_domain::{
        BacktestConfig, Bars, ErrorKind, ParamSpec, ParamValue, Params, SimRecord, Stats,
    };
    pub use bt_engine::{Ctx, EngineError, Ind, IndicatorCache, Init, OrderSpec, Strategy};
    pub use bt_executor::{Mode, Shard};
    pub use bt_report::Format;
    pub use bt_strategies::{Args, Registry, StrategyEntry, StrategyError};

    pub use crate::{
        Backtest, Dataset, Error, MergeOptions, ReportOptions, RunOptions, RunOutcome, Workbench,
    };
}
