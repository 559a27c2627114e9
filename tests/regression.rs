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
            "out/jsonl",
            "out/parquet",
            "out/trl"
        ]
    );
}

/// Write `count` copies of the first example of tiny/five.jsonl with `edit` applied.
fn examples_with(wd: &Workdir, count: usize, edit: impl Fn(&mut Value, usize)) -> String {
    let text = std::fs::read_to_string(crate::util::fixture("tiny/five.jsonl")).unwrap();
    let base: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let mut out = String::new();
    for i in 0..count {
        let mut ex = base.clone();
        edit(&mut ex, i);
        out.push_str(&ex.to_string());
        out.push('\n');
    }
    wd.write("in.jsonl", out).display().to_string()
}

/// Issue 3, rules 14-15 (red-team finding): characters Python's splitlines breaks at
/// (U+2028, NEL, VT, FF, ...) stay inside their quoted cell, and keys with dots get
/// their own column instead of sharing one with a nested key.
#[test]
fn issue_3_csv_cells_and_columns_survive_hostile_keys_and_separators() {
    let wd = Workdir::new();
    let input = examples_with(&wd, 12, |ex, i| {
        ex["metadata"]["note"] = Value::from(format!("a\u{2028}b\u{85}c\u{b}d\u{c}e {i}"));
        ex["metadata"]["a.b"] = Value::from(1);
        ex["metadata"]["a"] = serde_json::json!({"b": 2});
    });
    wd.rlx(["export", &input, "-o", "out", "--format", "csv"])
        .run()
        .expect_success();
    crate::consumers::check("csv", &wd.path("out"), &[], "hostile csv cells");
    let header = wd.read_string("out/train.csv");
    let header = header.lines().next().unwrap();
    assert!(header.contains(r#""metadata.""a.b""""#), "{header}");
    assert!(header.contains(r#""metadata.a.b""#), "{header}");
}

/// Issue 4 (red-team finding): a key repeated inside one object is an invalid example,
/// named by its path, instead of being copied into files that datasets rejects.
#[test]
fn issue_4_repeated_keys_are_rejected_with_their_path() {
    let wd = Workdir::new();
    let input = wd.write(
        "dup.jsonl",
        r#"{"state":{"queryFeatures":{"queryLength":1}},"action":{"shouldRetrieve":true},"reward":0.5,"metadata":{"dup":1,"dup":2}}
"#,
    );
    let run = wd
        .rlx(["export", input.to_str().unwrap(), "-o", "out"])
        .run();
    run.expect_code(1);
    assert!(
        run.error_line()
            .contains("dup.jsonl:1: metadata.dup appears twice in one object"),
        "{}",
        run.report()
    );
}

/// Issue 3, rule 5 (red-team finding): fields nested deeper than Arrow loads are
/// written as JSON text, so load_dataset still reads every split.
#[test]
fn issue_3_deeply_nested_fields_load_in_datasets() {
    let wd = Workdir::new();
    let input = examples_with(&wd, 6, |ex, _| {
        let mut deep = serde_json::json!(1);
        for _ in 0..70 {
            deep = serde_json::json!({ "a": deep });
        }
        ex["metadata"]["deep"] = deep;
    });
    let run = wd
        .rlx([
            "export",
            &input,
            "-o",
            "out",
            "--format",
            "huggingface",
            "--json",
        ])
        .run();
    run.expect_success();
    let r = run.json();
    assert_eq!(r["warningCounts"]["encodedAsJson"], 1, "{}", run.report());
    crate::consumers::check("huggingface", &wd.path("out"), &[], "deep nesting");
}

/// Issue 2 (red-team finding): a dataset object's `test` array is its eval split, as
/// Hugging Face names it, and a non-split first key does not hide the dataset shape.
#[test]
fn issue_2_dataset_objects_with_test_and_other_keys_first() {
    let wd = Workdir::new();
    let text = std::fs::read_to_string(crate::util::fixture("tiny/five.jsonl")).unwrap();
    let examples: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let object = serde_json::json!({"meta": 1, "train": examples[..3], "test": examples[3..]});
    let input = wd.write("ds.json", object.to_string());
    let run = wd
        .rlx(["export", input.to_str().unwrap(), "-o", "out", "--json"])
        .run();
    run.expect_success();
    let r = run.json();
    assert_eq!(r["stats"]["trainExamples"], 3);
    assert_eq!(r["stats"]["evalExamples"], 2);
    assert_eq!(r["stats"]["keptInputSplit"], true);
}

/// Issue 3, rule 5: integers in a field that also holds floats are written as floats in
/// the huggingface split files, so load_dataset("json", data_files=...), which infers
/// types from the first file, agrees with the card even when train holds only integers.
#[test]
fn issue_3_integer_rewards_in_train_load_beside_float_rewards_in_test() {
    let wd = Workdir::new();
    let input = examples_with(&wd, 10, |ex, i| {
        ex["reward"] = if i < 8 {
            Value::from(1)
        } else {
            Value::from(0.5)
        };
    });
    wd.rlx([
        "export",
        &input,
        "-o",
        "out",
        "--format",
        "huggingface",
        "--no-shuffle",
    ])
    .run()
    .expect_success();
    assert!(wd.read_string("out/train.json").contains("\"reward\":1.0"));
    crate::consumers::check("huggingface", &wd.path("out"), &[], "int rewards in train");
}

/// Issue 5 (token counts cached piece by piece): a piece used to end at any newline
/// followed by a visible character, but o200k_base keeps punctuation, the newline and a
/// `/` right after it in one pre-token (`.\n/`), and a run of newlines with other
/// whitespace between them (`\n \n`) is one pre-token too. State text holding such
/// sequences must still give the counts Python's tiktoken gives.
#[test]
fn issue_5_token_counts_stay_exact_around_newlines_and_slashes() {
    let wd = Workdir::new();
    let nasty = [
        "a.\n/b",
        "x:\n//y",
        "p\n \nq",
        "tab\t\n\u{a0}\n/z",
        "u\u{2028}\n\u{85}\nv",
        "end.\n",
    ];
    let input = examples_with(&wd, 12, |ex, i| {
        let state = ex["state"].as_object_mut().unwrap();
        // Every state group gets a string field; the prompt shows unknown fields too.
        for group in state.values_mut() {
            group["note"] = Value::from(format!("{} {i}", nasty[i % nasty.len()]));
        }
    });
    wd.rlx([
        "export",
        &input,
        "-o",
        "out",
        "--format",
        "openai",
        "--split-ratio",
        "0.5",
    ])
    .run()
    .expect_success();
    crate::consumers::check(
        "openai",
        &wd.path("out"),
        &[],
        "newlines and slashes in state text",
    );
}
