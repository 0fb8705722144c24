//! libFuzzer entry point of the `parquet` target: see [`bt_fuzz::parquet`].

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bt_fuzz::parquet(data));
