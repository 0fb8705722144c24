//! File-system primitives every bt writer shares, so that durability and exclusion are decided
//! once:
//!
//! - [`AtomicFile`] / [`write_atomic`]: a file appears whole or not at all. It is written to
//!   `NAME.tmp` beside the target, synced to disk, renamed over the target, and the directory is
//!   synced, so a reader never sees half a file and a crash or power cut leaves the old file or
//!   the new one. A failed or abandoned write removes its temporary file.
//! - [`DirLock`]: one writer per directory. An exclusive advisory lock (`flock`, through
//!   `std::fs::File::try_lock`) on a file in the directory, held while the lock value lives and
//!   released by the kernel when the process dies, so `kill -9` leaves no stale lock. The lock
//!   file records who holds it (pid and command line) for the message a second writer gets.
//!
//! Architecture invariant: std only; no knowledge of bt's file formats or of what a run
//! directory holds.
//!
//! ```
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("a.txt");
//! bt_fs::write_atomic(&path, b"hello").unwrap();
//! assert_eq!(std::fs::read(&path).unwrap(), b"hello");
//! let lock = bt_fs::DirLock::acquire(dir.path(), "pid 1: example").unwrap();
//! assert!(bt_fs::DirLock::acquire(dir.path(), "pid 2: another").is_err());
//! drop(lock);
//! assert!(bt_fs::DirLock::acquire(dir.path(), "pid 2: another").is_ok());
//! ```

#![forbid(unsafe_code)]

mod atomic;
mod lock;

pub use crate::{
    atomic::{AtomicFile, write_atomic},
    lock::{DirLock, LOCK_FILE, LockError, this_process},
};
