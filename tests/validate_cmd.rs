//! `rlx validate`: the checks `export` runs, writing nothing; `--format openai` token
//! limits; `--check-file openai|bedrock` on written platform files.

use std::fs;

use serde_json::Value;

use crate::util::*;

const GOOD: [&str; 14] = [
    "extraction/examples.jsonl",
    "extraction/array.json",
    "extraction/dataset-object.json",
    "retrieval/examples.jsonl",
    "retrieval/array.json",
    "retrieval/dataset-object.json",
    "consolidation/examples.jsonl",
    "consolidation/array.json",
    "consolidation/dataset-object.json",
    "shapes/crlf.jsonl",
    "shapes/bom.jsonl",
    "shapes/gzipped.jsonl.gz",
    "shapes/extra-keys.jsonl",
    "shapes/dataset-with-validation.json",
];

#[test]
fn validate_accepts_good_inputs_and_writes_nothing() {
    for input in GOOD {
        let wd = Workdir::new();
        let run = wd.rlx(["validate", &fx(input), "--json"]).run();
        run.expect_success();
        let r = run.json();
        assert_eq!(r["success"], Value::Bool(true), "{input}");
        assert_eq!(
            at_u64(&r, "stats.totalExamples"),
            at_u64(&r, "stats.inputExamples"),
            "{input}{}",
            run.report()
        );
        assert!(wd.entries().is_empty(), "validate wrote {:?}", wd.entries());
    }
    let wd = Workdir::new();
    let run = wd.rlx(["validate", &fx("tiny/five.jsonl")]).run();
    run.expect_success().expect_stderr("is valid");
}

#[test]
fn validate_rejects_bad_inputs_naming_the_place() {
    // (fixture, where the first problem is)
    let bad = [
        ("reward-is-string.jsonl", ":2"),
        ("reward-nan.jsonl", ":3"),
        ("reward-infinity.jsonl", ":2"),
        ("reward-null.jsonl", ":2"),
        ("missing-state.jsonl", ":2"),
        ("missing-action.jsonl", ":3"),
        ("missing-reward.jsonl", ":2"),
        ("state-not-object.jsonl", ":2"),
        ("invalid-json.jsonl", ":3"),
        ("truncated-last-line.jsonl", ":4"),
        ("not-utf8.jsonl", ":2"),
        ("empty.jsonl", ": is empty"),
        ("whitespace-only.jsonl", ": contains only whitespace"),
        ("top-level-scalar.json", ":1:1"),
        ("top-level-string.json", ":1:1"),
        ("mixed-policies.jsonl", ":4"),
        ("unknown-policy.jsonl", ":1"),
        ("deep-nesting.jsonl", ":2"),
        ("array-bad-element.json", ":4:1: [2]"),
        ("dataset-bad-element.json", ":11:1: eval[1]"),
        ("mixed-valid-invalid.jsonl", ":3"),
    ];
    for (name, at) in bad {
        let wd = Workdir::new();
        let path = fx(&format!("bad/{name}"));
        let run = wd.rlx(["validate", &path]).run();
        run.expect_code(1);
        let place = format!("{path}{at}");
        assert!(
            run.stderr.contains(&place),
            "{name}: expected {place:?} in stderr{}",
            run.report()
        );
        assert!(wd.entries().is_empty(), "validate wrote {:?}", wd.entries());

        let run = wd.rlx(["validate", &path, "--json"]).run();
        run.expect_code(1);
        assert_eq!(run.json()["success"], Value::Bool(false), "{name}");
    }
    // Every invalid example is counted, not just the first.
    let wd = Workdir::new();
    let run = wd
        .rlx(["validate", &fx("bad/mixed-valid-invalid.jsonl"), "--json"])
        .run();
    run.expect_code(1);
    let r = run.json();
    assert_eq!(at_u64(&r, "stats.rejectedExamples"), 6, "{r:#}");
    assert_eq!(at_u64(&r, "stats.totalExamples"), 14, "{r:#}");
}

#[test]
fn validate_keeps_warnings_as_warnings() {
    for name in [
        "duplicates.jsonl",
        "reward-out-of-range.jsonl",
        "missing-prompt-field.jsonl",
    ] {
        let wd = Workdir::new();
        wd.rlx(["validate", &fx(&format!("bad/{name}"))])
            .run()
            .expect_success();
    }
    // ...but a prompt format needs every prompt field.
    let wd = Workdir::new();
    let path = fx("bad/missing-prompt-field.jsonl");
    let run = wd.rlx(["validate", &path, "--format", "openai"]).run();
    run.expect_code(1);
    run.expect_stderr(&format!(
        "{path}:2: state.contentFeatures.noveltyScore is missing"
    ));
}

#[test]
fn validate_reads_stdin() {
    let wd = Workdir::new();
    let run = wd
        .rlx(["validate", "-", "--json"])
        .stdin(fs::read(fixture("tiny/five.jsonl")).unwrap())
        .run();
    run.expect_success();
    assert_eq!(at_u64(&run.json(), "stats.totalExamples"), 5);
    let run = wd
        .rlx(["validate", "-"])
        .stdin(fs::read(fixture("bad/reward-null.jsonl")).unwrap())
        .run();
    run.expect_code(1)
        .expect_stderr("<stdin>:2: \"reward\" is null");
}

/// five.jsonl with line 3's action padded to about 5,300 tokens: over gpt-3.5-turbo-0613's
/// 4,096-token training limit, well under gpt-4o-mini's 65,536.
fn long_example_input(wd: &Workdir) -> String {
    let text = fs::read_to_string(fixture("tiny/five.jsonl")).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut v: Value = serde_json::from_str(&lines[2]).unwrap();
    v["action"]["rationale"] = Value::String("lorem ipsum dolor sit amet ".repeat(1000));
    lines[2] = serde_json::to_string(&v).unwrap();
    wd.write("long.jsonl", format!("{}\n", lines.join("\n")));
    "long.jsonl".into()
}

#[test]
fn validate_format_openai_counts_tokens_against_the_model_limit() {
    let wd = Workdir::new();
    let input = long_example_input(&wd);
    let run = wd
        .rlx([
            "validate",
            &input,
            "--format",
            "openai",
            "--model",
            "gpt-3.5-turbo-0613",
            "--json",
        ])
        .run();
    run.expect_code(1);
    let r = run.json();
    assert_eq!(at_u64(&r, "stats.overLimitExamples"), 1, "{r:#}");
    assert_eq!(at_u64(&r, "stats.totalExamples"), 4, "{r:#}");
    let w = r["warnings"][0].as_str().unwrap();
    assert!(w.contains("long.jsonl:3"), "{w}");
    assert!(w.contains("training limit of 4096 tokens"), "{w}");
    let tokens: u64 = w
        .split_whitespace()
        .find_map(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("no token count in {w:?}"));
    assert!(
        (5000..6000).contains(&tokens),
        "implausible token count {tokens}: {w}"
    );

    // The default model's limit is far larger; without --format no tokens are counted.
    for extra in [&["--format", "openai"][..], &[][..]] {
        let run = wd.rlx(["validate", &input, "--json"]).args(extra).run();
        run.expect_success();
        assert_eq!(
            at_u64(&run.json(), "stats.overLimitExamples"),
            0,
            "{extra:?}"
        );
    }
    let run = wd
        .rlx(["validate", &input, "--format", "openai", "--model", "gpt-9"])
        .run();
    run.expect_code(2);
    assert!(
        wd.entries() == ["long.jsonl"],
        "validate wrote {:?}",
        wd.entries()
    );
}

#[test]
fn export_openai_leaves_out_examples_over_the_token_limit() {
    let wd = Workdir::new();
    let input = long_example_input(&wd);
    let run = wd
        .rlx([
            "export",
            &input,
            "-o",
            "out",
            "--format",
            "openai",
            "--no-shuffle",
        ])
        .args(["--model", "gpt-3.5-turbo-0613", "--json"])
        .run();
    run.expect_success();
    let r = run.json();
    assert_eq!(at_u64(&r, "stats.overLimitExamples"), 1, "{r:#}");
    assert_eq!(at_u64(&r, "stats.totalExamples"), 4, "{r:#}");
    let meta: Value = serde_json::from_slice(&wd.read("out/metadata.json")).unwrap();
    assert_eq!(at_str(&meta, "model"), "gpt-3.5-turbo-0613");
    assert_eq!(at_str(&meta, "encoding"), "cl100k_base");
    let lines = read_jsonl(&wd.path("out/train.jsonl")).len()
        + read_jsonl(&wd.path("out/eval.jsonl")).len();
    assert_eq!(lines, 4);
}

/// An edit of one line (1-based) of a JSON Lines file.
type LineEdit<'a> = (usize, &'a dyn Fn(&mut Value));

/// Copy `src` to `dst` with some lines edited.
fn doctor(src: &std::path::Path, dst: &std::path::Path, edits: &[LineEdit]) {
    let text = fs::read_to_string(src).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for (line, edit) in edits {
        let mut v: Value = serde_json::from_str(&lines[line - 1]).unwrap();
        edit(&mut v);
        lines[line - 1] = serde_json::to_string(&v).unwrap();
    }
    fs::write(dst, format!("{}\n", lines.join("\n"))).unwrap();
}

#[test]
fn check_file_openai_passes_an_export_and_names_broken_lines() {
    let wd = Workdir::new();
    wd.rlx([
        "export",
        &fx("extraction/examples.jsonl"),
        "-o",
        "oa",
        "--format",
        "openai",
    ])
    .run()
    .expect_success();
    let run = wd
        .rlx([
            "validate",
            "oa/train.jsonl",
            "--check-file",
            "openai",
            "--json",
        ])
        .run();
    run.expect_success();
    assert_eq!(at_u64(&run.json(), "stats.totalExamples"), 32);

    doctor(
        &wd.path("oa/train.jsonl"),
        &wd.path("doctored.jsonl"),
        &[
            (5, &|v: &mut Value| v["messages"][1]["role"] = "tool".into()),
            (10, &|v: &mut Value| v["messages"][2]["content"] = "".into()),
        ],
    );
    let run = wd
        .rlx([
            "validate",
            "doctored.jsonl",
            "--check-file",
            "openai",
            "--json",
        ])
        .run();
    run.expect_code(1);
    let r = run.json();
    let warnings: Vec<&str> = r["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert_eq!(warnings.len(), 2, "{warnings:#?}");
    assert!(
        warnings[0].contains("doctored.jsonl:5") && warnings[0].contains("\"tool\""),
        "{warnings:#?}"
    );
    assert!(
        warnings[1].contains("doctored.jsonl:10") && warnings[1].contains("content"),
        "{warnings:#?}"
    );
    assert!(at_str(&r, "error").contains("2 of 32 line(s)"), "{r:#}");
}

#[test]
fn check_file_bedrock_passes_a_bedrock_export_and_names_broken_lines() {
    let wd = Workdir::new();
    wd.rlx([
        "export",
        &fx("retrieval/examples.jsonl"),
        "-o",
        "ob",
        "--format",
        "anthropic",
    ])
    .args(["--anthropic-style", "bedrock"])
    .run()
    .expect_success();
    let run = wd
        .rlx([
            "validate",
            "ob/train.jsonl",
            "--check-file",
            "bedrock",
            "--json",
        ])
        .run();
    run.expect_success();
    assert_eq!(at_u64(&run.json(), "stats.totalExamples"), 32);

    doctor(
        &wd.path("ob/train.jsonl"),
        &wd.path("doctored.jsonl"),
        &[
            (5, &|v: &mut Value| v["messages"][0]["role"] = "tool".into()),
            (10, &|v: &mut Value| v["messages"][1]["content"] = "".into()),
        ],
    );
    let run = wd
        .rlx(["validate", "doctored.jsonl", "--check-file", "bedrock"])
        .run();
    run.expect_code(1);
    run.expect_stderr("doctored.jsonl:5")
        .expect_stderr("\"tool\"")
        .expect_stderr("doctored.jsonl:10")
        .expect_stderr("non-empty");
    assert!(run
        .error_line()
        .contains("2 of 32 line(s) break the bedrock rules"));

    // A legacy-style line is not a Bedrock line.
    wd.rlx([
        "export",
        &fx("retrieval/examples.jsonl"),
        "-o",
        "legacy",
        "--format",
        "anthropic",
    ])
    .run()
    .expect_success();
    let run = wd
        .rlx(["validate", "legacy/train.jsonl", "--check-file", "bedrock"])
        .run();
    run.expect_code(1);
}
