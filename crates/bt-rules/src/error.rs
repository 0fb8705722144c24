use std::path::PathBuf;

use bt_domain::ErrorKind;
use bt_queue::ron_file::Located;

/// Everything that can be wrong with a rules file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RulesError {
    /// The file could not be read.
    #[error("cannot read rules file {}: {source}; check the path and permissions", path.display())]
    Read {
        /// The path as given.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A problem at a place in the file: RON syntax, an unknown field, an expression that does
    /// not parse or type-check.
    #[error(transparent)]
    Located(#[from] Located),
    /// A problem of the file as a whole (no entry condition, a cycle between indicators).
    #[error("{file}: {message}")]
    Invalid {
        /// Display name of the file.
        file: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The file declares a format version this crate does not read.
    #[error(
        "{file}: unsupported rules version {found}: this bt reads version {supported}; write `version: {supported}` (see docs/rules.md)"
    )]
    Version {
        /// Display name of the file.
        file: String,
        /// The version in the file.
        found: u64,
        /// The version this crate reads.
        supported: u64,
    },
}

impl RulesError {
    /// [`ErrorKind::Input`]: the rules file is the user's.
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::Input
    }
}
