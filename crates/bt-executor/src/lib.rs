//! Runs a queue of simulations: sequentially or on a rayon pool, bit-identical either way,
//! streaming each result to disk as it finishes, resumable after a crash, shardable across
//! machines.
//!
//! - [`execute`] runs an iterator of [`bt_domain::SimSpec`] through a [`Simulator`] into a run
//!   directory ([`RunDir`]): `results.btr` (the result log, appended a frame of records at a
//!   time: see [`log`]), then the summaries (`summary.csv` in queue order, and a
//!   [`SummaryOutput`]'s table) and `run.json` at the end, each published atomically. Only a
//!   [`LockedRunDir`] can be written: one writer per run directory.
//! - [`Simulator`] is how the caller plugs in strategies, the engine and statistics: the
//!   executor does not know the built-in strategies or how statistics are computed.
//! - [`Shard`] picks a deterministic 1/N of a queue by a hash of each simulation id.
//!
//! Architecture invariant: rayon lives here and nowhere else. Memory is bounded by the number of
//! threads, not by the queue's length: specs are pulled lazily in batches, results are streamed,
//! summaries are built by re-reading the log a few frames at a time, and the leaderboard is a
//! bounded heap.

mod error;
mod execute;
mod jsonl;
pub mod log;
mod parallel;
mod results;
mod rundir;
mod shard;

pub use crate::{
    error::ExecError,
    execute::{
        AUTO_MIN_BAR_STEPS, DatasetLookup, ExecOptions, Mode, Progress, RunOutcome, Simulator,
        Then, execute,
    },
    jsonl::{decode_record, encode_record, stats_json},
    parallel::parallel_map,
    results::{
        Counts, SUMMARY_CSV_MAX_ROWS, SummaryOutput, SummaryRows, finalize,
        for_each_in_queue_order, for_each_in_queue_order_of, for_each_result, param_kinds,
        read_results, refuse_conflict, top_k, top_k_file,
    },
    rundir::{LockedRunDir, RunDir},
    shard::Shard,
};
