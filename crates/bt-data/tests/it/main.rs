//! Integration tests of bt-data: the broken-file corpus, accepted layouts, round trips.

mod errors;
mod layouts;
mod roundtrip;
mod table;

use std::path::{Path, PathBuf};

/// A fixture path relative to the crate root (cargo runs tests from there), so that error
/// messages and snapshots never contain absolute paths.
pub fn fixture(rel: &str) -> PathBuf {
    Path::new("tests").join(rel)
}

/// Writes `content` to `name` in `dir` and returns the path.
pub fn write(dir: &Path, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p
}
