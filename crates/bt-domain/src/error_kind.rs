//! What kind of failure an error is: every library error of bt answers
//! [`ErrorKind`] through a `kind()` method, so a caller (the CLI's exit codes, a service's
//! retry policy) decides what to do without knowing every error type.

use std::fmt;

/// The three kinds of failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The caller's input is wrong: a data file, a queue, a strategy name or parameter, a
    /// setting, or an output path that cannot be used (no permission, not a directory, a
    /// read-only file system). Fix the input; retrying as is fails again.
    Input,
    /// The environment failed at run time: a full disk, a quota, a file size limit, an I/O
    /// error on a usable path. The same call can succeed once the cause is gone (and a run
    /// can be resumed).
    Io,
    /// A bug in bt (an invariant broke): report it.
    Internal,
}

impl ErrorKind {
    /// The kind of a failed create, open, write or rename of an output: [`ErrorKind::Input`]
    /// when the path itself cannot be used ([`unusable_output`]), else [`ErrorKind::Io`].
    pub fn of_write(kind: std::io::ErrorKind) -> ErrorKind {
        if unusable_output(kind) { ErrorKind::Input } else { ErrorKind::Io }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorKind::Input => "bad input",
            ErrorKind::Io => "I/O failure",
            ErrorKind::Internal => "internal error",
        })
    }
}

/// Whether a failed create, open, write or rename with this kind means the output path itself
/// cannot be used (no permission, a path under a regular file, a directory in the way, a
/// read-only file system, a missing parent): the user must choose another path or fix it. Any
/// other kind (a full disk, a quota, a file size limit, an I/O error) is a runtime failure of a
/// usable path: freeing space and retrying the same call helps.
pub fn unusable_output(kind: std::io::ErrorKind) -> bool {
    use std::io::ErrorKind as K;
    matches!(
        kind,
        K::PermissionDenied
            | K::NotADirectory
            | K::IsADirectory
            | K::ReadOnlyFilesystem
            | K::AlreadyExists
            | K::NotFound
            | K::InvalidFilename
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unusable_path_is_input_and_a_full_disk_is_io() {
        use std::io::ErrorKind as K;
        for k in [K::PermissionDenied, K::NotADirectory, K::IsADirectory, K::ReadOnlyFilesystem] {
            assert_eq!(ErrorKind::of_write(k), ErrorKind::Input, "{k:?}");
        }
        for k in [K::StorageFull, K::QuotaExceeded, K::FileTooLarge, K::Other] {
            assert_eq!(ErrorKind::of_write(k), ErrorKind::Io, "{k:?}");
        }
    }
}
