//! Where a run is on a cluster: the worker threads a scheduler grants and the shard of an array
//! task, read from the environment of Slurm, Kubernetes Indexed Jobs and AWS Batch array jobs.

use bt_domain::ErrorKind;
use bt_executor::Shard;

/// Worker threads: `SLURM_CPUS_PER_TASK` (Slurm without cgroups shows every core to every
/// task), else all cores.
pub fn default_threads() -> usize {
    if let Some(n) = std::env::var("SLURM_CPUS_PER_TASK").ok().and_then(|v| v.parse().ok())
        && n > 0
    {
        return n;
    }
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Why no shard could be read from the environment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterError {
    /// A variable is not a number.
    #[error("{name}={value:?} is not a non-negative integer")]
    NotANumber {
        /// The variable.
        name: String,
        /// Its value.
        value: String,
    },
    /// The index is set but the count is not.
    #[error("{index} is set but {count} is not: {fix}")]
    NoCount {
        /// The index variable.
        index: &'static str,
        /// The count variable.
        count: &'static str,
        /// How to set it.
        fix: &'static str,
    },
    /// No scheduler variables at all.
    #[error(
        "no scheduler variables: set SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT, JOB_COMPLETION_INDEX with a shard count (BT_SHARDS), or AWS_BATCH_JOB_ARRAY_INDEX/AWS_BATCH_JOB_ARRAY_SIZE; or give the shard as K/N"
    )]
    NoScheduler,
    /// The index and count do not make a shard.
    #[error("{0}")]
    Shard(String),
}

impl ClusterError {
    /// Always [`ErrorKind::Input`]: the environment the caller set.
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::Input
    }
}

/// This task's shard, from the scheduler's environment: Slurm (`SLURM_ARRAY_TASK_ID` of
/// `SLURM_ARRAY_TASK_COUNT`), a Kubernetes Indexed Job (`JOB_COMPLETION_INDEX` of `count`, else
/// of `BT_SHARDS`: Kubernetes does not tell the completions), AWS Batch
/// (`AWS_BATCH_JOB_ARRAY_INDEX` of `AWS_BATCH_JOB_ARRAY_SIZE`).
pub fn shard_from_env(count: Option<u64>) -> Result<Shard, ClusterError> {
    let var = |k: &str| std::env::var(k).ok();
    let num = |name: &str, value: String| -> Result<u64, ClusterError> {
        value.trim().parse().map_err(|_| ClusterError::NotANumber { name: name.into(), value })
    };
    let shard =
        |index, count| Shard::new(index, count).map_err(|e| ClusterError::Shard(e.to_string()));
    if let Some(id) = var("SLURM_ARRAY_TASK_ID") {
        let n = var("SLURM_ARRAY_TASK_COUNT").ok_or(ClusterError::NoCount {
            index: "SLURM_ARRAY_TASK_ID",
            count: "SLURM_ARRAY_TASK_COUNT",
            fix: "submit with --array=0-(N-1)",
        })?;
        return shard(num("SLURM_ARRAY_TASK_ID", id)?, num("SLURM_ARRAY_TASK_COUNT", n)?);
    }
    if let Some(id) = var("JOB_COMPLETION_INDEX") {
        let n = match count {
            Some(n) => n,
            None => num(
                "BT_SHARDS",
                var("BT_SHARDS").ok_or(ClusterError::NoCount {
                    index: "JOB_COMPLETION_INDEX",
                    count: "BT_SHARDS",
                    fix: "give the shard count (the Job's completions)",
                })?,
            )?,
        };
        return shard(num("JOB_COMPLETION_INDEX", id)?, n);
    }
    if let Some(id) = var("AWS_BATCH_JOB_ARRAY_INDEX") {
        let n = var("AWS_BATCH_JOB_ARRAY_SIZE").ok_or(ClusterError::NoCount {
            index: "AWS_BATCH_JOB_ARRAY_INDEX",
            count: "AWS_BATCH_JOB_ARRAY_SIZE",
            fix: "run it as an array job",
        })?;
        return shard(num("AWS_BATCH_JOB_ARRAY_INDEX", id)?, num("AWS_BATCH_JOB_ARRAY_SIZE", n)?);
    }
    Err(ClusterError::NoScheduler)
}
