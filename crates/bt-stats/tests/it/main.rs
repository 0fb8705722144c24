//! Integration tests of bt-stats: parity with backtesting.py's reference runs (statistics alone
//! and end to end through the engine), the streaming accumulator's edge cases, a bust run and
//! the text table.

mod bust;
mod engine_parity;
mod fixtures;
mod long_curve;
mod parity;
mod stream;
mod table;
