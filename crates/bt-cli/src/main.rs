//! `bt`: the command-line tool of the bt backtesting workbench, over the built-in strategies.
//! Everything is in the `bt_cli` library (a program with strategies of its own calls the same
//! [`bt_cli::App`]).

use std::process::ExitCode;

fn main() -> ExitCode {
    bt_cli::App::new(bt::strategies::Registry::builtin()).main(std::env::args_os())
}
