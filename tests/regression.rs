//! Regression tests, one per fixed bug, each named for its issue
//! (`issue_123_split_ratio_loses_an_example`) and citing it in a comment, so a failure
//! points at the discussion that explains the rule.

use serde_json::Value;

use crate::util::{at_str, fx, Workdir};

/// Issue 2 ("Under --json a failure still prints the result object"): a value clap
/// rejects must not leave stdout empty for the script reading it.
#[test]
fn issue_2_usage_error_under_json_still_prints_the_result() {
    let wd = Workdir::new();
    let run = wd
        .rlx([
            "export",
            &fx("tiny/five.jsonl"),
            "-o",
            "out",
            "--split-ratio",
            "2",
            "--json",
        ])
        .run();
    run.expect_code(2);
    let r = run.json();
    assert_eq!(r["success"], Value::Bool(false));
    assert!(
        at_str(&r, "error").contains("--split-ratio"),
        "{}",
        run.report()
    );
    assert!(wd.entries().is_empty());
}

/// Issue 3 (`--format all` writes each format into DIR/<format>/): each entry of the
/// result's `formats` names the directory that format was written to.
#[test]
fn issue_3_format_all_reports_each_subdirectory() {
    let wd = Workdir::new();
    let run = wd
        .rlx([
            "export",
            &fx("tiny/five.jsonl"),
            "-o",
            "out",
            "--format",
            "all",
            "--json",
        ])
        .run();
    run.expect_success();
    let r = run.json();
    let dirs: Vec<&str> = r["formats"]
        .as_array()
        .expect("formats is an array")
        .iter()
        .map(|f| f["directory"].as_str().expect("a directory"))
        .collect();
    assert_eq!(
        dirs,
        [
            "out/huggingface",
            "out/openai",
            "out/anthropic",
            "out/csv",
            "out/jsonl"
        ]
    );
}
