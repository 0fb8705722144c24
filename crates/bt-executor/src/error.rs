use std::{io::ErrorKind, path::PathBuf};

use thiserror::Error;

/// Whether a failed create, open, write or rename with this kind means the output path itself
/// cannot be used (no permission, a path under a regular file, a directory in the way, a
/// read-only file system, a missing parent): the user must choose another path or fix it.
/// Any other kind (a full disk, a quota, a file size limit, an I/O error) is a runtime failure
/// of a usable path: freeing space and retrying the same command helps.
pub fn unusable_output(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::PermissionDenied
            | ErrorKind::NotADirectory
            | ErrorKind::IsADirectory
            | ErrorKind::ReadOnlyFilesystem
            | ErrorKind::AlreadyExists
            | ErrorKind::NotFound
            | ErrorKind::InvalidFilename
    )
}

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
    #[error("cannot write {path}: {source}: choose another --out, or make it a writable directory")]
    OutDir {
        /// The directory or file that could not be created or written.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Writing a file of the run directory failed during the run (disk full, quota, file size
    /// limit), or before it for a reason other than an unusable path (a full disk; on
    /// `--resume`, any failure to cut a torn last line). The run stopped; `results.jsonl` keeps
    /// every complete result written so far and `run.json` does not say "complete".
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
            assert!(err.to_string().contains("choose another --out"), "{err}");
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
            assert!(text.contains("free disk space") && !text.contains("another --out"), "{text}");
        }
    }
}
