//! Behavioural tests of bt-queue: one binary, one module per concern.

mod bad;
mod catalog;
mod write;
mod grid;
mod random;
