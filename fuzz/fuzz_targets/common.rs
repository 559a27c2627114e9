//! Shared by the fuzz targets: write the bytes to a file and run an `rlx` command line on
//! it through `rlx::run`, as the binary would. The property every target checks: nothing
//! panics, every run ends with status 0, 1 or 2, and a failed export leaves no directory.

use std::path::Path;

use clap::Parser;

/// Run `rlx ARGS…` where `{input}` in ARGS is replaced by a file holding `data` and
/// `{out}` by an output path in the same fresh directory.
pub fn run_on_file(data: &[u8], args: &[&str]) -> u8 {
    let dir = tempfile::tempdir().expect("a temp dir");
    let input = dir.path().join("in.jsonl");
    std::fs::write(&input, data).expect("writing the fuzz input");
    let out = dir.path().join("out");
    let line: Vec<String> = std::iter::once("rlx".to_string())
        .chain(args.iter().map(|a| {
            a.replace("{input}", &input.display().to_string())
                .replace("{out}", &out.display().to_string())
        }))
        .collect();
    let cli = rlx::cli::Cli::try_parse_from(&line).expect("the fuzz command line parses");
    let outcome = rlx::run(cli).expect("run returns an outcome");
    assert!(outcome.exit_code <= 2, "{line:?}: {outcome:?}");
    if outcome.exit_code != 0 {
        assert!(!exists(&out), "{line:?} failed and left {}", out.display());
    }
    outcome.exit_code
}

fn exists(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok()
}
