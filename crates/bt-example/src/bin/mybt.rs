//! `mybt`: the whole `bt` command line, with a strategy of your own next to the built-ins.
//!
//! ```sh
//! cargo run -p bt-example --bin mybt -- strategies
//! cargo run -p bt-example --bin mybt -- backtest --data data/GOOG.csv --strategy vol_breakout
//! ```

use std::process::ExitCode;

fn main() -> ExitCode {
    let registry = bt::strategies::Registry::builtin().with(bt_example::entry());
    bt_cli::App::new(registry).name("mybt").main(std::env::args_os())
}
