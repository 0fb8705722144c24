//! The simulation queue: a versioned RON file listing data sets, explicit simulations and
//! parameter sweeps (format: docs/queue-format.md).
//!
//! - [`Queue`]: a parsed queue. [`Queue::validate`] finds every problem before anything runs
//!   (with a [`StrategyCatalog`] for strategy names and parameters); [`Queue::iter`] expands
//!   grid and random sweeps lazily into [`bt_domain::SimSpec`]s with stable ids.
//! - [`WalkForward`]: a `walk_forward` entry: a sweep trained on windows of one data set, whose
//!   specs depend on the data's length ([`Queue::walk_forward_len`]); the run composes them.
//! - [`DatasetSource`], [`SyntheticSpec`]: where each data set comes from (the CLI loads it).
//! - [`QueueBuilder`], [`parse_grid_arg`], [`expand`]: writing queue files (`bt gen-queue`).
//! - [`QueueError`]: every error, with the file position or the id of what is wrong.
//!
//! Architecture invariant: this crate knows the queue format and nothing else. It does not
//! depend on the strategies (they are checked through [`StrategyCatalog`]), on data loading
//! (a [`DatasetSource`] is a description), nor on the executor. `ron` stays inside: no ron
//! type appears in the public API.
//!
//! ```
//! use bt_queue::{Queue, StrategyCatalog};
//! struct AnyStrategy;
//! impl StrategyCatalog for AnyStrategy {
//!     fn check(&self, _: &str, _: &bt_domain::Params) -> Result<(), bt_queue::StrategyError> {
//!         Ok(())
//!     }
//! }
//! let text = r#"(
//!     version: 1,
//!     datasets: {"syn": (synthetic: (bars: 500, seed: 7, interval: "1d"))},
//!     sweeps: [(id: "grid", datasets: ["syn"], strategy: "sma_cross",
//!               grid: {"fast": range(5, 34), "slow": [40, 50, 60]}, where: "fast < slow")],
//! )"#;
//! let queue = Queue::from_str(text, ".".as_ref(), "example.ron").unwrap();
//! queue.validate(&AnyStrategy).unwrap();
//! assert_eq!(queue.len(), 90);
//! assert_eq!(queue.iter().next().unwrap().id, "grid/syn/fast=5,slow=40");
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod axis;
mod builder;
mod error;
mod file;
mod queue;
pub mod ron_file;
mod sweep;
mod value;
mod walk_forward;

pub use bt_domain::{StrategyCatalog, StrategyError};

pub use crate::{
    axis::{Axis, parse_grid_arg, parse_param_arg},
    builder::{
        QueueBuilder, SYNTHETIC, Sampling, SimulationDef, StrategyQueue, SweepDef, expand,
        relative_path, sweep_defs, write_expanded,
    },
    error::{Problem, QueueError, Subject},
    queue::{DatasetSource, Queue, SyntheticSpec},
    value::{ConfigOverrides, CostOverrides},
    walk_forward::{DEFAULT_SELECT_BY, WalkForward, window_label},
};
