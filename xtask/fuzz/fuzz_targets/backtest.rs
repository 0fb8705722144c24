//! libFuzzer entry point of the `backtest` target: see [`bt_fuzz::backtest`].

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bt_fuzz::backtest(data));
