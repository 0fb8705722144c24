//! libFuzzer entry point of the `rules` target: see [`bt_fuzz::rules`].

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bt_fuzz::rules(data));
