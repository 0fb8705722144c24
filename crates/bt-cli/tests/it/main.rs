//! End-to-end tests of the `bt` binary, run in temporary directories.

mod bad_inputs;
mod data;
mod run;
mod slurm;

use std::process::Command;

/// The `bt` binary under test.
pub fn bt() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bt"))
}
