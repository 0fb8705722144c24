//! Replays the committed seed corpus and every past fuzzing finding through the fuzz targets,
//! without libFuzzer: a finding fixed once stays fixed, and the targets themselves stay
//! compiled and working between fuzzing sessions.
//!
//! Layout: `corpus/<target>/*` (seeds, and inputs worth keeping from fuzzing runs) and
//! `regressions/<target>/<finding>` (each input that once crashed, named after what it found).

use std::path::{Path, PathBuf};

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| {
            p.is_file() && !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    files.sort();
    files
}

fn replay(kind: &str, min_files: usize) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut total = 0;
    for (name, target) in bt_fuzz::TARGETS {
        let dir = root.join(kind).join(name);
        assert!(dir.is_dir(), "{} is missing: every target has one", dir.display());
        let inputs = files(&dir);
        for input in &inputs {
            let data = std::fs::read(input).expect("readable input");
            let outcome = std::panic::catch_unwind(|| target(&data));
            assert!(outcome.is_ok(), "{name}: {} panics", input.display());
        }
        if kind == "corpus" {
            assert!(inputs.len() >= min_files, "{name}: only {} seed files", inputs.len());
        }
        total += inputs.len();
    }
    eprintln!("replayed {total} {kind} inputs");
}

#[test]
fn seed_corpus_runs_clean() {
    replay("corpus", 5);
}

#[test]
fn past_findings_stay_fixed() {
    replay("regressions", 0);
}
