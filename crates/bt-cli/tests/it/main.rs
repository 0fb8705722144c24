//! End-to-end tests of the `bt` binary, run in temporary directories.

mod bad_inputs;
mod data;
mod faults;
mod in_process;
mod lock;
mod numeric;
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
