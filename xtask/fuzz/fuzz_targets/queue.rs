//! libFuzzer entry point of the `queue` target: see [`bt_fuzz::queue`].

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bt_fuzz::queue(data));
