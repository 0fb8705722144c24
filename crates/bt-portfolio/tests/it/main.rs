//! bt-portfolio's integration tests.

mod common;
mod identity;
mod props;
mod vectorbt;
