//! `rlx validate --check-file openai|bedrock`: the platform rules applied to a written
//! file of any bytes. The first byte picks the platform.
#![no_main]

#[path = "common.rs"]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let platform = if pick & 1 == 0 { "openai" } else { "bedrock" };
    common::run_on_file(
        rest,
        &["validate", "{input}", "--check-file", platform, "--quiet"],
    );
});
