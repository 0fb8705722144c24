use std::path::PathBuf;

use bt_domain::{ErrorKind, unusable_output};
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
    /// The run directory cannot be created or written before any simulation ran, and the path
    /// itself is the problem ([`unusable_output`]: no permission, a path under a regular file,
    /// a read-only file system): nothing was done. A full disk is [`ExecError::Write`].
    #[error(
        "cannot write {path}: {source}: choose another run directory, or make it a writable directory"
    )]
    OutDir {
        /// The directory or file that could not be created or written.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Writing a file of the run directory failed during the run (disk full, quota, file size
    /// limit), or before it for a reason other than an unusable path (a full disk; on
    /// resume, any failure to cut a torn last frame). The run stopped; `results.btr` keeps
    /// every complete result written so far and `run.json` does not say "complete".
    #[error(
        "cannot write {path}: {source}: free disk space (or fix the permissions), then resume the run; the results written so far are kept"
    )]
    Write {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The run directory already holds results and the run was not asked to resume.
    #[error("{path} already holds results of a run: resume it, or choose another run directory")]
    AlreadyHasResults {
        /// The directory.
        path: PathBuf,
    },
    /// A resume (or merge) with a different queue or data than the directory was made from.
    #[error(
        "{path} was made from a different queue, data or rules files (hash {found}, now {expected}): resume with the original files, or use a new run directory"
    )]
    QueueMismatch {
        /// run.json.
        path: PathBuf,
        /// Hash recorded in the directory.
        found: String,
        /// Hash of the queue given now.
        expected: String,
    },
    /// A resume with another number of PBO blocks than the directory was made with.
    #[error(
        "{path} was run with {found} PBO blocks per simulation, not {expected}: resume with the same number, or use a new run directory"
    )]
    PboBlocksMismatch {
        /// run.json.
        path: PathBuf,
        /// Blocks recorded in the directory.
        found: u64,
        /// Blocks asked for now.
        expected: u64,
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
    /// Another process (or another part of this one) is writing the run directory.
    #[error(
        "{} is in use by another bt process{}: wait for it to finish, or choose another run directory",
        path.display(),
        holder.as_ref().map(|h| format!(" ({h})")).unwrap_or_default()
    )]
    Locked {
        /// The run directory.
        path: PathBuf,
        /// Who holds the lock (pid and command line), if known.
        holder: Option<String>,
    },
    /// The run directory's file system cannot lock files (`flock`: e.g. Lustre without
    /// `-o flock`), so one writer per directory cannot be guaranteed.
    #[error(
        "cannot lock {path}: {source}: its file system does not support file locks (flock); mount it with lock support (Lustre: -o flock) or use a directory on another file system"
    )]
    LockUnsupported {
        /// The lock file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A simulation is recorded twice with different results (two processes wrote one log at
    /// once, before run directories had a lock; or two shards disagree): which one is right
    /// is unknown.
    #[error(
        "simulation {id:?} has two different results, in {first} and in {second}: delete the wrong run (or rerun that shard) and resume"
    )]
    DuplicateResult {
        /// The simulation id.
        id: String,
        /// Where the first is (log and frame).
        first: String,
        /// Where the second is.
        second: String,
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
    /// [`ErrorKind::Io`] for failed reads and writes of a usable directory and a thread pool
    /// that cannot start; [`ErrorKind::Input`] for everything the caller can fix (an unusable
    /// directory, a locked one, a wrong queue, a corrupt file, a shard spec).
    pub fn kind(&self) -> ErrorKind {
        match self {
            ExecError::Io { .. } | ExecError::Write { .. } | ExecError::Pool { .. } => {
                ErrorKind::Io
            }
            _ => ErrorKind::Input,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> ExecError {
        let path = path.into();
        move |source| ExecError::Io { path, source }
    }

    pub(crate) fn write(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> ExecError {
        let path = path.into();
        move |source| ExecError::Write { path, source }
    }

    /// A create, open or write that failed before the first simulation: [`ExecError::OutDir`]
    /// when the path cannot be used, else [`ExecError::Write`] (see [`ExecError::before_start`]).
    pub(crate) fn setup(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> ExecError {
        let path = path.into();
        move |source| ExecError::Write { path, source }.before_start()
    }

    /// A write that failed before the run started is a wrong output directory when the path
    /// cannot be used ([`unusable_output`]); a full disk stays a failed write (exit 1, free
    /// space and resume), since choosing another directory would not be the fix.
    pub(crate) fn before_start(self) -> ExecError {
        match self {
            ExecError::Write { path, source } | ExecError::OutDir { path, source } => {
                if unusable_output(source.kind()) {
                    ExecError::OutDir { path, source }
                } else {
                    ExecError::Write { path, source }
                }
            }
            e => e,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::ErrorKind;

    use super::*;

    fn before_start(kind: ErrorKind) -> ExecError {
        ExecError::Write { path: "out/run.json".into(), source: kind.into() }.before_start()
    }

    #[test]
    fn before_the_start_only_an_unusable_path_is_out_dir() {
        for kind in [
            ErrorKind::PermissionDenied,
            ErrorKind::NotADirectory,
            ErrorKind::IsADirectory,
            ErrorKind::ReadOnlyFilesystem,
        ] {
            let err = before_start(kind);
            assert!(matches!(err, ExecError::OutDir { .. }), "{kind:?}: {err:?}");
            assert!(err.to_string().contains("choose another run directory"), "{err}");
        }
        for kind in [
            ErrorKind::StorageFull,
            ErrorKind::QuotaExceeded,
            ErrorKind::FileTooLarge,
            ErrorKind::Other,
        ] {
            let err = before_start(kind);
            assert!(matches!(err, ExecError::Write { .. }), "{kind:?}: {err:?}");
            let text = err.to_string();
            assert!(text.contains("free disk space") && !text.contains("another run"), "{text}");
        }
    }
}
