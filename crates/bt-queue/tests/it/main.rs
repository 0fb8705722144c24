//! Behavioural tests of bt-queue: one binary, one module per concern.

mod bad;
mod catalog;
mod grid;
mod portfolios;
mod random;
mod warmup;
mod write;
