//! Integration tests of bt-report (one binary).

mod browser;
mod charts;
mod filter;
mod fixtures;
mod font;
mod report;
mod streaming;
mod synthetic;
mod tables;
