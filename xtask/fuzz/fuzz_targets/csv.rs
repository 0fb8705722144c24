//! libFuzzer entry point of the `csv` target: see [`bt_fuzz::csv`].

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bt_fuzz::csv(data));
