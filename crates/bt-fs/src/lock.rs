use std::{
    fmt,
    fs::{File, OpenOptions, TryLockError},
    io::{self, Read, Seek, SeekFrom, Write},
    path::{Path, PathBuf},
};

/// The lock file's name inside a locked directory.
pub const LOCK_FILE: &str = ".bt.lock";

/// An exclusive lock on a directory: while it lives, no other [`DirLock::acquire`] on the same
/// directory succeeds, in this process or another. The kernel releases it when the process
/// exits or is killed, so there is never a stale lock to clean up.
///
/// It is an advisory `flock(2)` on `DIR/.bt.lock` (through `std::fs::File::try_lock`): it stops
/// cooperating writers (every bt command that writes a run directory takes it), not other
/// programs. On network file systems it is only as good as their `flock` (see
/// docs/distributed.md).
#[derive(Debug)]
pub struct DirLock {
    dir: PathBuf,
    _file: File,
}

/// Why a directory could not be locked.
#[derive(Debug)]
#[non_exhaustive]
pub enum LockError {
    /// Another process (or another part of this one) holds the lock.
    Held {
        /// The directory.
        dir: PathBuf,
        /// What the holder wrote into the lock file (pid and command line), if readable.
        holder: Option<String>,
    },
    /// The lock file could not be created, opened or locked.
    Io {
        /// The lock file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
}

impl fmt::Display for LockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LockError::Held { dir, holder } => {
                write!(f, "{} is in use by another bt process", dir.display())?;
                if let Some(holder) = holder {
                    write!(f, " ({holder})")?;
                }
                write!(f, ": wait for it to finish, or write to another directory")
            }
            LockError::Io { path, source } => write!(f, "cannot lock {}: {source}", path.display()),
        }
    }
}

impl std::error::Error for LockError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LockError::Held { .. } => None,
            LockError::Io { source, .. } => Some(source),
        }
    }
}

impl DirLock {
    /// Locks `dir` (which must exist) for this process, recording `holder` (e.g.
    /// `pid 4242: bt run q.ron --out runs/x`) for whoever tries next. Fails at once, never
    /// waits, when the directory is locked.
    pub fn acquire(dir: &Path, holder: &str) -> Result<DirLock, LockError> {
        let path = dir.join(LOCK_FILE);
        let io_err = |source| LockError::Io { path: path.clone(), source };
        // Not truncated on open: the holder's note must survive a failed attempt.
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io_err)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                let holder = file
                    .read_to_string(&mut text)
                    .ok()
                    .map(|_| text.trim().to_owned())
                    .filter(|t| !t.is_empty());
                return Err(LockError::Held { dir: dir.to_owned(), holder });
            }
            Err(TryLockError::Error(e)) => return Err(io_err(e)),
        }
        // Best effort: the note only improves the message a second writer sees.
        let _ = file
            .set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(format!("{holder}\n").as_bytes()));
        Ok(DirLock { dir: dir.to_owned(), _file: file })
    }

    /// The locked directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// `pid N: <this process's command line>`: the usual holder note.
pub fn this_process() -> String {
    let args: Vec<String> = std::env::args().collect();
    format!("pid {}: {}", std::process::id(), args.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_fails_with_the_holder_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let first = DirLock::acquire(dir.path(), "pid 1: bt run q.ron").unwrap();
        let err = DirLock::acquire(dir.path(), "pid 2: bt run q.ron --resume").unwrap_err();
        let LockError::Held { holder, .. } = &err else { panic!("{err:?}") };
        assert_eq!(holder.as_deref(), Some("pid 1: bt run q.ron"));
        let text = err.to_string();
        assert!(text.contains("is in use by another bt process (pid 1: bt run q.ron)"), "{text}");
        drop(first);
        let again = DirLock::acquire(dir.path(), "pid 2: again").unwrap();
        assert_eq!(again.dir(), dir.path());
        let note = std::fs::read_to_string(dir.path().join(LOCK_FILE)).unwrap();
        assert_eq!(note, "pid 2: again\n", "the note is replaced, not appended");
        assert!(this_process().starts_with(&format!("pid {}: ", std::process::id())));
    }

    #[test]
    fn a_missing_directory_is_an_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = DirLock::acquire(&dir.path().join("nope"), "x").unwrap_err();
        assert!(matches!(err, LockError::Io { .. }), "{err:?}");
    }
}
