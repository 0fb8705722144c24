//! Metadata of a run directory (`run.json`), typed: what ran, how, how far it got.

use std::fmt;

use crate::sim::ParamValue;

/// How a run's simulations were scheduled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RunMode {
    /// On the calling thread, one after another.
    #[default]
    Sequential,
    /// On a pool of worker threads.
    Parallel,
    /// Combined from shard run directories by a merge.
    Merged,
}

impl RunMode {
    /// The name written to run.json.
    pub fn name(self) -> &'static str {
        match self {
            RunMode::Sequential => "sequential",
            RunMode::Parallel => "parallel",
            RunMode::Merged => "merged",
        }
    }

    /// Parses [`RunMode::name`].
    pub fn parse(s: &str) -> Option<RunMode> {
        [RunMode::Sequential, RunMode::Parallel, RunMode::Merged]
            .into_iter()
            .find(|m| m.name() == s)
    }
}

impl fmt::Display for RunMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How far a run got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RunStatus {
    /// Simulations are running (or the process died: resume it).
    #[default]
    Running,
    /// Stopped early (Ctrl-C); resumable.
    Interrupted,
    /// Every simulation of the queue (or shard) has a result.
    Complete,
    /// A merge of shards that did not cover the whole queue.
    Partial,
}

impl RunStatus {
    /// The name written to run.json.
    pub fn name(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Interrupted => "interrupted",
            RunStatus::Complete => "complete",
            RunStatus::Partial => "partial",
        }
    }

    /// Parses [`RunStatus::name`].
    pub fn parse(s: &str) -> Option<RunStatus> {
        [RunStatus::Running, RunStatus::Interrupted, RunStatus::Complete, RunStatus::Partial]
            .into_iter()
            .find(|m| m.name() == s)
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One session of work on a run directory: the first run, then each resume.
///
/// A session is recorded when it starts (`ended: false`) and again when it ends. One that
/// never recorded its end (killed, or stopped by an error) is completed by the next resume:
/// its wall time runs from its start to the last write of the result log, and it ran what
/// the log then held beyond the other sessions' simulations.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Attempt {
    /// How it scheduled its simulations.
    pub mode: RunMode,
    /// Worker threads.
    pub threads: u64,
    /// When it started (ns since the epoch, UTC, to the millisecond); `None` in run.json files of
    /// bt versions that did not record it.
    pub started: Option<i64>,
    /// Wall time of the session, seconds.
    pub wall_time_s: f64,
    /// Simulations it ran.
    pub ran: u64,
    /// Whether it recorded its own end (else its wall time and count were estimated by the
    /// next resume, or it is still running).
    pub ended: bool,
}

/// A data set of a run, as recorded in run.json.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DatasetInfo {
    /// The queue's name for it.
    pub name: String,
    /// Where its bars came from: a path, or a synthetic spec.
    pub source: String,
    /// Number of bars.
    pub bars: u64,
}

/// Metadata of a run directory (`run.json`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunInfo {
    /// bt version that produced the run.
    pub bt_version: String,
    /// The queue file as given.
    pub queue: String,
    /// The run hash: the queue's content hash combined with its data files' fingerprints.
    pub queue_hash: String,
    /// How far the run got.
    pub status: RunStatus,
    /// How the last session scheduled its simulations ([`RunMode::Merged`] for a merge).
    pub mode: RunMode,
    /// Worker threads of the last session (the most of any shard, for a merge).
    pub threads: u64,
    /// Wall time of all sessions together (the slowest shard's, for a merge), seconds.
    pub wall_time_s: f64,
    /// Every session on this directory, in order.
    pub attempts: Vec<Attempt>,
    /// Simulations in the queue (or in this shard).
    pub total: u64,
    /// Succeeded.
    pub ok: u64,
    /// Failed.
    pub failed: u64,
    /// `K/N` when the run is one shard of a queue.
    pub shard: Option<String>,
    /// The data sets.
    pub datasets: Vec<DatasetInfo>,
    /// The broker settings the queue's defaults set (name, value), in
    /// [`crate::BacktestConfig::FIELDS`] order; simulations and sweeps may override them.
    pub config: Vec<(String, ParamValue)>,
    /// Blocks of returns each simulation keeps for the PBO (docs/validation.md); 0: none.
    pub pbo_blocks: u64,
}
