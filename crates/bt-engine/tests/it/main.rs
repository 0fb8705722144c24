//! Integration tests of bt-engine: property tests of the broker over random bars, settings and
//! order streams (`props`, with the generators in `arb` and the scripted strategy in
//! `harness`), a check that the generators reach the broker's corners (`coverage`), and
//! hand-worked fills read from backtesting.py 0.6.6's `_Broker` (`fills`).

mod arb;
mod coverage;
mod fills;
mod findings;
mod harness;
mod props;
mod realism;
