//! End-to-end tests of the `bt` binary, run in temporary directories.

mod bad_inputs;
mod data;
mod faults;
mod in_process;
mod leaderboard;
mod lock;
mod numeric;
mod portfolio;
mod rules;
mod run;
mod shard_props;
mod slurm;
mod strategies;
mod validation;

use std::process::{Command, Output};

/// The `bt` binary under test.
pub fn bt() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bt"))
}

/// The records of a run directory's result log (a torn frame of a run in progress is
/// ignored), in file order.
pub fn records(dir: &std::path::Path) -> Vec<bt::domain::SimRecord> {
    bt::executor::read_results(&dir.join("results.btr")).unwrap_or_default()
}

/// How many results a run directory holds so far.
pub fn record_count(dir: &std::path::Path) -> usize {
    records(dir).len()
}

/// `bt results DIR`: every record as a JSON line, in queue order.
pub fn results_jsonl(dir: &std::path::Path) -> String {
    let o = bt().arg("results").arg(dir).output().unwrap();
    ok_text(&o)
}

/// Output bytes as text, for messages and assertions.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts that a command succeeded, showing its exit code and output otherwise.
pub fn ok(o: &Output) {
    ok_text(o);
}

/// [`ok`], returning stdout.
pub fn ok_text(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        text(&o.stdout),
        text(&o.stderr)
    );
    text(&o.stdout)
}
