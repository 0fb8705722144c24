//! Integration tests of bt-stats: parity with backtesting.py's reference runs (statistics alone
//! and end to end through the engine), numeric extremes (prices near 0 and 1e12, flat prices,
//! volume 0), the streaming accumulator's edge cases, a bust run and the text table.

mod bust;
mod engine_parity;
mod extremes;
mod fixtures;
mod flat;
mod lockstep;
mod long_curve;
mod overfit;
mod parity;
mod realism;
mod stream;
mod table;
