//! Runs a queue of simulations: sequentially or on a rayon pool, bit-identical either way,
//! streaming each result to disk as it finishes, resumable after a crash, shardable across
//! machines.
//!
//! - [`execute`] runs an iterator of [`bt_domain::SimSpec`] through a [`Simulator`] into a run
//!   directory ([`RunDir`]): `results.jsonl` (one line per finished simulation, appended and
//!   flushed at once), then `summary.csv` (queue order) and `run.json` at the end, each
//!   through `bt_fs::write_atomic` (temporary file, fsync, rename). Only a [`LockedRunDir`]
//!   can be written: one writer per run directory.
//! - [`Simulator`] is how the caller plugs in strategies, the engine and statistics: the
//!   executor does not know the built-in strategies or how statistics are computed.
//! - [`Shard`] picks a deterministic 1/N of a queue by a hash of each simulation id.
//!
//! Architecture invariant: rayon lives here and nowhere else. Memory is bounded by the number of
//! threads, not by the queue's length: specs are pulled lazily in batches, results are streamed,
//! summaries are built by re-reading `results.jsonl`, and the leaderboard is a bounded heap.

mod error;
mod execute;
mod jsonl;
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
        Counts, finalize, for_each_in_queue_order, for_each_result, read_results, top_k, top_k_file,
    },
    rundir::{LockedRunDir, RunDir},
    shard::Shard,
};
