//! The input reader and the scan: any bytes (JSON Lines, an array, a dataset object,
//! gzip, BOMs, UTF-16, garbage) through `rlx validate`, which reads, scans and checks
//! every example as export does and writes nothing.
#![no_main]

#[path = "common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    common::run_on_file(data, &["validate", "{input}", "--quiet", "--threads", "1"]);
});
