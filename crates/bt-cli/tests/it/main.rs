//! End-to-end tests of the `bt` binary, run in temporary directories.

mod bad_inputs;
mod data;
mod faults;
mod numeric;
mod run;
mod shard_props;
mod slurm;

use std::process::Command;

/// The `bt` binary under test.
pub fn bt() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bt"))
}
