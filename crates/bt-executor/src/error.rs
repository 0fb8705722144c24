use std::path::PathBuf;

use thiserror::Error;

/// Why a run could not start, continue or finish.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ExecError {
    /// Reading a run file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The run directory cannot be created or written before any simulation ran (a read-only
    /// place, a path under a regular file, a full disk): nothing was done.
    #[error(
        "cannot write {path}: {source}: choose another --out, or make it a writable directory with free space"
    )]
    OutDir {
        /// The directory or file that could not be created or written.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Writing a file of the run directory failed during the run (disk full, quota, file size
    /// limit). The run stopped; `results.jsonl` keeps every complete result written so far and
    /// `run.json` does not say "complete".
    #[error(
        "cannot write {path}: {source}: free disk space (or fix the permissions) and finish the run with --resume; the results written so far are kept"
    )]
    Write {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The output directory already holds results and `--resume` was not given.
    #[error(
        "{path} already holds results of a run: pass --resume to finish it, or choose another --out"
    )]
    AlreadyHasResults {
        /// The directory.
        path: PathBuf,
    },
    /// `--resume` on a directory made from a different queue (or data).
    #[error(
        "{path} was made from a different queue or different data (hash {found}, now {expected}): resume with the original queue and data files, or use a new --out"
    )]
    QueueMismatch {
        /// run.json.
        path: PathBuf,
        /// Hash recorded in the directory.
        found: String,
        /// Hash of the queue given now.
        expected: String,
    },
    /// A file of the run directory is not in the expected format.
    #[error("{path}:{line}: {message}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A `K/N` shard spec is wrong.
    #[error("invalid shard {spec:?}: {reason}")]
    Shard {
        /// What was given.
        spec: String,
        /// Why it is wrong.
        reason: String,
    },
    /// The thread pool could not start.
    #[error("cannot start {threads} worker threads: {message}")]
    Pool {
        /// Requested threads.
        threads: usize,
        /// The error.
        message: String,
    },
}

impl ExecError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> ExecError {
        let path = path.into();
        move |source| ExecError::Io { path, source }
    }

    pub(crate) fn write(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> ExecError {
        let path = path.into();
        move |source| ExecError::Write { path, source }
    }

    pub(crate) fn out_dir(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> ExecError {
        let path = path.into();
        move |source| ExecError::OutDir { path, source }
    }

    /// A write that failed before the run started is a wrong output directory, not a failed run.
    pub(crate) fn before_start(self) -> ExecError {
        match self {
            ExecError::Write { path, source } => ExecError::OutDir { path, source },
            e => e,
        }
    }
}
