//! Every format writer: any bytes exported with a format (and objective) picked by the
//! first byte, with or without --skip-invalid and --no-metadata, into a fresh directory.
#![no_main]

#[path = "common.rs"]
mod common;

/// Each format of the table alone, the reward objectives, and all of them at once.
const CHOICES: &[&[&str]] = &[
    &["--format", "jsonl"],
    &["--format", "huggingface"],
    &["--format", "openai"],
    &["--format", "anthropic"],
    &["--format", "anthropic", "--anthropic-style", "bedrock"],
    &["--format", "csv"],
    &["--format", "parquet"],
    &["--format", "parquet", "--shard-size", "2KB", "--compression", "zstd"],
    &["--format", "trl"],
    &["--format", "trl", "--objective", "dpo"],
    &["--format", "trl", "--objective", "kto"],
    &["--format", "trl", "--objective", "reward"],
    &["--format", "openai", "--objective", "dpo"],
    &["--format", "all"],
];

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let mut args = vec!["export", "{input}", "-o", "{out}", "--quiet", "--threads", "1"];
    args.extend_from_slice(CHOICES[pick as usize % CHOICES.len()]);
    if pick & 0x40 != 0 {
        args.push("--skip-invalid");
    }
    if pick & 0x80 != 0 {
        args.push("--no-metadata");
    }
    common::run_on_file(rest, &args);
});
