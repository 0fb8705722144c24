//! Atomic file writes and safe file names.

use std::{fs, path::Path};

use crate::error::ReportError;

/// Writes `bytes` to `path` atomically and durably ([`bt_fs::write_atomic`]).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    bt_fs::write_atomic(path, bytes).map_err(|e| ReportError::io(path, e))
}

/// Creates a directory and its parents.
pub(crate) fn create_dir(path: &Path) -> Result<(), ReportError> {
    fs::create_dir_all(path).map_err(|e| ReportError::io(path, e))
}

/// A file-name-safe form of an id: ASCII letters, digits, `.`, `-` and `_` kept, runs of
/// anything else become one `_`; at most 80 bytes.
pub(crate) fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_matches(|c| c == '_' || c == '.');
    let out: String = out.chars().take(80).collect();
    if out.is_empty() { "sim".into() } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_keeps_safe_characters_only() {
        assert_eq!(slug("grid/goog/fast=5,slow=40"), "grid_goog_fast_5_slow_40");
        assert_eq!(slug("../../etc/passwd"), "etc_passwd");
        assert_eq!(slug("é"), "sim");
        assert_eq!(slug("sma-10-20"), "sma-10-20");
    }
}
