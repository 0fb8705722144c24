//! Behavioural tests of bt-strategies: indicator parity with pandas, the built-in strategies on
//! hand-made series and on backtesting.py's reference runs, the registry's errors, and the
//! absence of look-ahead.

mod common;
mod lookahead;
mod parity;
mod registry;
mod strategies;
