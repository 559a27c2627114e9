//! Bad input: one test per file in `fixtures/bad`, each asserting the exit status and the
//! parts of the message that matter (where, what was found, what was expected, the way
//! out), then bad paths, a full disk, `--skip-invalid` and a huge line.

use std::fs;

use serde_json::Value;

use crate::util::*;

/// Export `fixtures/bad/NAME` and expect exit 1 with one error line that starts with the
/// file name followed by `at` and contains every part of `found`; nothing may be written.
#[track_caller]
fn fails(name: &str, at: &str, found: &[&str]) -> Run {
    let wd = Workdir::new();
    let path = fx(&format!("bad/{name}"));
    let run = wd.rlx(["export", &path, "-o", "out"]).run();
    run.expect_code(1);
    let line = run.error_line().to_string();
    let start = format!("error: {path}{at}");
    assert!(
        line.starts_with(&start),
        "expected the error to start with {start:?}{}",
        run.report()
    );
    for part in found {
        assert!(
            line.contains(part),
            "expected the error to contain {part:?}{}",
            run.report()
        );
    }
    assert!(
        wd.entries().is_empty(),
        "a failed export left {:?}",
        wd.entries()
    );
    run
}

/// The hint every skippable example error ends with.
const SKIP_HINT: &str = "(--skip-invalid skips such examples and lists them in rejected.jsonl)";

/// Export `fixtures/bad/NAME` and expect success with `--json`.
fn succeeds(name: &str, extra: &[&str]) -> (Workdir, Value) {
    let wd = Workdir::new();
    let run = wd
        .rlx(["export", &fx(&format!("bad/{name}")), "-o", "out", "--json"])
        .args(extra)
        .run();
    run.expect_success();
    let r = run.json();
    (wd, r)
}

#[test]
fn reward_given_as_a_string_is_refused() {
    fails(
        "reward-is-string.jsonl",
        ":2: ",
        &[
            "\"reward\" is the string \"0.8\"",
            "expected a finite number",
            SKIP_HINT,
        ],
    );
}

#[test]
fn reward_nan_is_refused_and_named() {
    fails(
        "reward-nan.jsonl",
        ":3:",
        &[
            "\"reward\" is NaN",
            "JSON does not allow",
            "expected a finite number",
            SKIP_HINT,
        ],
    );
}

#[test]
fn reward_infinity_is_refused_and_named() {
    fails(
        "reward-infinity.jsonl",
        ":2:",
        &[
            "\"reward\" is Infinity",
            "expected a finite number",
            SKIP_HINT,
        ],
    );
}

#[test]
fn reward_null_is_refused() {
    fails(
        "reward-null.jsonl",
        ":2: ",
        &["\"reward\" is null", "expected a finite number", SKIP_HINT],
    );
}

#[test]
fn rewards_out_of_range_are_kept_with_one_warning() {
    let (_, r) = succeeds("reward-out-of-range.jsonl", &[]);
    assert_eq!(at_u64(&r, "stats.totalExamples"), 4, "{r:#}");
    assert_eq!(r["warningCounts"]["rewardOutOfRange"], 1, "{r:#}");
    let path = fx("bad/reward-out-of-range.jsonl");
    let w = r["warnings"][0].as_str().unwrap();
    assert!(w.contains("2 reward(s) outside [-1, 1]"), "{w}");
    assert!(w.contains("lowest -3, highest 1.5"), "{w}");
    assert!(w.contains(&format!("first at {path}:2")), "{w}");
}

#[test]
fn missing_state_is_refused() {
    fails("missing-state.jsonl", ":2: ", &["no \"state\"", SKIP_HINT]);
}

#[test]
fn missing_action_is_refused() {
    fails(
        "missing-action.jsonl",
        ":3: ",
        &["no \"action\"", SKIP_HINT],
    );
}

#[test]
fn missing_reward_is_refused() {
    fails(
        "missing-reward.jsonl",
        ":2: ",
        &["no \"reward\"", "expected a finite number", SKIP_HINT],
    );
}

#[test]
fn state_that_is_not_an_object_is_refused() {
    fails(
        "state-not-object.jsonl",
        ":2: ",
        &[
            "\"state\" is an array of 2 items",
            "expected an object",
            SKIP_HINT,
        ],
    );
}

#[test]
fn invalid_json_names_line_column_and_what_follows() {
    let run = fails("invalid-json.jsonl", ":3:", &["invalid JSON", SKIP_HINT]);
    let line = run.error_line();
    // The column points at the "reward" key that lacks its comma, quoted and cut short.
    assert!(line.contains(r#"at "\"reward\":0.8736"#), "{line}");
    assert!(line.contains('…'), "the quoted text is cut: {line}");
    assert!(line.len() < 400, "the message dumps too much: {line}");
}

#[test]
fn truncated_last_line_says_it_ends_early() {
    fails(
        "truncated-last-line.jsonl",
        ":4:",
        &["ends early", "truncated", SKIP_HINT],
    );
}

#[test]
fn invalid_utf8_names_the_byte() {
    fails(
        "not-utf8.jsonl",
        ":2:",
        &["byte 0xff is not UTF-8", "expected UTF-8 text", SKIP_HINT],
    );
}

#[test]
fn empty_file_is_refused() {
    fails(
        "empty.jsonl",
        ": is empty",
        &["expected JSON Lines, a JSON array of examples"],
    );
}

#[test]
fn whitespace_only_file_is_refused() {
    fails(
        "whitespace-only.jsonl",
        ": contains only whitespace",
        &["expected JSON Lines"],
    );
}

#[test]
fn top_level_number_is_refused() {
    fails(
        "top-level-scalar.json",
        ":1:1: ",
        &["starts with a number (42)", "expected an example object"],
    );
}

#[test]
fn top_level_string_is_refused() {
    fails(
        "top-level-string.json",
        ":1:1: ",
        &[
            "starts with a string (\"hello\")",
            "expected an example object",
        ],
    );
}

#[test]
fn mixed_policies_fail_at_the_first_example_of_another_policy() {
    let path = fx("bad/mixed-policies.jsonl");
    fails(
        "mixed-policies.jsonl",
        ":4: ",
        &[
            "state is a retrieval state",
            &format!("extraction (first at {path}:1)"),
            "--policy extraction --skip-invalid",
        ],
    );
}

#[test]
fn unknown_policy_lists_the_known_signatures() {
    fails(
        "unknown-policy.jsonl",
        ":1: ",
        &[
            "matches no policy (its keys: foo)",
            "queryFeatures → retrieval",
            "--policy",
            SKIP_HINT,
        ],
    );
}

#[test]
fn missing_prompt_field_only_matters_to_prompt_formats() {
    let (_, r) = succeeds("missing-prompt-field.jsonl", &[]);
    assert_eq!(at_u64(&r, "stats.totalExamples"), 4);
    let path = fx("bad/missing-prompt-field.jsonl");
    for format in ["openai", "anthropic"] {
        let wd = Workdir::new();
        let run = wd
            .rlx(["export", &path, "-o", "out", "--format", format])
            .run();
        run.expect_code(1);
        let line = run.error_line();
        assert!(
            line.starts_with(&format!(
                "error: {path}:2: state.contentFeatures.noveltyScore is missing"
            )),
            "--format {format}{}",
            run.report()
        );
        assert!(
            line.contains("Novelty Score") && line.contains(SKIP_HINT),
            "{line}"
        );
        assert!(wd.entries().is_empty());
    }
}

#[test]
fn duplicates_are_kept_with_one_warning_naming_the_first_copy() {
    let (_, r) = succeeds("duplicates.jsonl", &[]);
    assert_eq!(at_u64(&r, "stats.totalExamples"), 6);
    assert_eq!(r["warningCounts"]["duplicates"], 1, "{r:#}");
    let path = fx("bad/duplicates.jsonl");
    let w = r["warnings"][0].as_str().unwrap();
    assert!(w.starts_with("2 example(s) repeat"), "{w}");
    assert!(
        w.contains(&format!("first: {path}:4 repeats {path}:1")),
        "{w}"
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    fails(
        "deep-nesting.jsonl",
        ":2:",
        &["nesting is deeper than 128 levels", SKIP_HINT],
    );
}

#[test]
fn bad_array_element_is_named_by_index() {
    fails(
        "array-bad-element.json",
        ":4:1: [2]: ",
        &["\"reward\" is the string \"high\"", SKIP_HINT],
    );
}

#[test]
fn bad_dataset_element_is_named_by_split_and_index() {
    fails(
        "dataset-bad-element.json",
        ":11:1: eval[1]: ",
        &["no \"action\"", SKIP_HINT],
    );
}

#[test]
fn mixed_valid_and_invalid_lines_fail_at_the_first_invalid_one() {
    fails(
        "mixed-valid-invalid.jsonl",
        ":3:",
        &["trailing comma", SKIP_HINT],
    );
}

#[test]
fn skip_invalid_writes_rejected_file_and_accounts_for_every_line() {
    let (wd, r) = succeeds("mixed-valid-invalid.jsonl", &["--skip-invalid"]);
    let input = at_u64(&r, "stats.inputExamples");
    let total = at_u64(&r, "stats.totalExamples");
    let rejected = at_u64(&r, "stats.rejectedExamples");
    assert_eq!((input, total, rejected), (20, 14, 6), "{r:#}");
    assert_eq!(input, total + rejected);
    assert_eq!(r["warningCounts"]["rejected"], 6, "{r:#}");
    let files: Vec<&str> = r["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(files.contains(&"out/rejected.jsonl"), "{files:?}");

    let rejected = read_jsonl(&wd.path("out/rejected.jsonl"));
    let lines: Vec<u64> = rejected.iter().map(|r| at_u64(r, "line")).collect();
    assert_eq!(lines, [3, 7, 8, 12, 15, 19]);
    let path = fx("bad/mixed-valid-invalid.jsonl");
    let reasons = [
        "trailing comma",
        "no \"reward\"",
        "\"reward\" is the string \"0.8\"",
        "retrieval state",
        "\"state\" is the string \"n/a\"",
        "the number 7",
    ];
    for (entry, reason) in rejected.iter().zip(reasons) {
        assert!(at_str(entry, "reason").contains(reason), "{entry}");
        assert!(
            at_str(entry, "location").starts_with(&format!("{path}:{}", entry["line"])),
            "{entry}"
        );
        // The rejected example itself is kept, parsed when it parses, as text when not.
        assert!(
            entry.get("example").is_some() || entry.get("text").is_some(),
            "{entry}"
        );
    }
    // Nothing valid was lost: the written examples are exactly the valid lines.
    let text = fs::read_to_string(fixture("bad/mixed-valid-invalid.jsonl")).unwrap();
    let valid: Vec<Value> = text
        .lines()
        .enumerate()
        .filter(|(i, _)| ![3, 7, 8, 12, 15, 19].contains(&(i + 1)))
        .map(|(_, l)| serde_json::from_str(l).unwrap())
        .collect();
    let mut written = read_jsonl(&wd.path("out/train.jsonl"));
    written.extend(read_jsonl(&wd.path("out/eval.jsonl")));
    assert_eq!(canonical_sorted(&written), canonical_sorted(&valid));
}

#[test]
fn policy_messages_use_an_before_extraction() {
    let wd = Workdir::new();
    let run = wd
        .rlx([
            "export",
            &fx("extraction/examples.jsonl"),
            "-o",
            "out",
            "--policy",
            "retrieval",
        ])
        .run();
    run.expect_code(1);
    assert!(
        !run.error_line().contains("a extraction"),
        "{}",
        run.report()
    );
    let run = wd
        .rlx([
            "export",
            &fx("bad/unknown-policy.jsonl"),
            "-o",
            "out",
            "--policy",
            "extraction",
        ])
        .run();
    run.expect_code(1);
    assert!(
        !run.error_line().contains("a extraction"),
        "{}",
        run.report()
    );
}

#[test]
fn missing_input_file_is_named() {
    let wd = Workdir::new();
    let run = wd.rlx(["export", "nope.jsonl", "-o", "out"]).run();
    run.expect_code(1);
    let line = run.error_line();
    assert!(
        line.starts_with("error: nope.jsonl: no such file"),
        "{line}"
    );
    assert!(line.contains("- for stdin"), "{line}");
    assert!(wd.entries().is_empty(), "{:?}", wd.entries());
}

#[test]
fn directory_as_input_is_refused() {
    let wd = Workdir::new();
    fs::create_dir(wd.path("indir")).unwrap();
    let run = wd.rlx(["export", "indir", "-o", "out"]).run();
    run.expect_code(1);
    assert!(
        run.error_line().starts_with("error: indir: is a directory"),
        "{}",
        run.report()
    );
    assert_eq!(wd.entries(), ["indir"]);
}

#[test]
fn output_path_that_is_a_file_is_refused() {
    let wd = Workdir::new();
    wd.write("taken", "a file");
    for force in [false, true] {
        let run = wd
            .rlx(["export", &fx("tiny/five.jsonl"), "-o", "taken"])
            .args(force.then_some("--force"))
            .run();
        run.expect_code(1);
        assert!(
            run.error_line().contains("taken is a file"),
            "{}",
            run.report()
        );
        assert_eq!(wd.read("taken"), b"a file");
        assert_eq!(wd.entries(), ["taken"]);
    }
}

#[test]
fn unwritable_output_parent_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let wd = Workdir::new();
    let locked = wd.path("locked");
    fs::create_dir(&locked).unwrap();
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o555)).unwrap();
    if !is_write_refused(&locked) {
        eprintln!(
            "skipped: {} is writable despite mode 555 (running as root)",
            locked.display()
        );
        return;
    }
    let run = wd
        .rlx(["export", &fx("tiny/five.jsonl"), "-o", "locked/out"])
        .run();
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o755)).unwrap();
    run.expect_code(1);
    assert!(run.error_line().contains("locked"), "{}", run.report());
    assert!(list_dir(&locked).is_empty(), "{:?}", list_dir(&locked));
}

#[test]
fn full_disk_leaves_no_half_written_export() {
    // `ulimit -f 1` caps every file at 1 KiB. The kernel sends SIGXFSZ, which kills the
    // process by default; with the signal ignored, the write fails with EFBIG instead.
    let input = fx("extraction/examples.jsonl");
    let wd = Workdir::new();
    let run = wd
        .sh(&format!(
            "ulimit -f 1; exec \"$RLX\" export '{input}' -o out"
        ))
        .run();
    assert_ne!(
        run.code(),
        Some(0),
        "a capped export succeeded{}",
        run.report()
    );
    assert!(
        !wd.path("out").exists(),
        "a half-written export is in place{}",
        run.report()
    );

    let wd = Workdir::new();
    let run = wd
        .sh(&format!(
            "trap '' XFSZ; ulimit -f 1; exec \"$RLX\" export '{input}' -o out"
        ))
        .run();
    run.expect_code(1);
    assert!(
        run.error_line().contains("File too large"),
        "{}",
        run.report()
    );
    assert!(
        wd.entries().is_empty(),
        "a failed export left {:?}",
        wd.entries()
    );

    // With --force the old directory survives.
    let wd = Workdir::new();
    wd.write("out/old.txt", "old");
    let run = wd
        .sh(&format!(
            "trap '' XFSZ; ulimit -f 1; exec \"$RLX\" export '{input}' -o out --force"
        ))
        .run();
    run.expect_code(1);
    assert_eq!(list_dir(&wd.path("out")), ["old.txt"]);
    assert_eq!(
        wd.entries(),
        ["out"],
        "a failed export left temporary directories"
    );
}

#[test]
fn full_disk_signal_leaves_no_staging_directory() {
    let input = fx("extraction/examples.jsonl");
    let wd = Workdir::new();
    let run = wd
        .sh(&format!(
            "ulimit -f 1; exec \"$RLX\" export '{input}' -o out"
        ))
        .run();
    assert_ne!(run.code(), Some(0), "{}", run.report());
    assert!(
        wd.entries().is_empty(),
        "left {:?}{}",
        wd.entries(),
        run.report()
    );
}

#[test]
fn huge_single_line_is_an_error_or_a_success_never_a_crash() {
    let wd = Workdir::new();
    let five = fs::read_to_string(fixture("tiny/five.jsonl")).unwrap();
    let mut lines: Vec<String> = five.lines().map(str::to_string).collect();
    let huge = format!(
        r#"{{"state":{{"x":"{}"}},"action":{{}},"reward":1}}"#,
        "a".repeat(80 << 20)
    );
    lines.insert(2, huge);
    wd.write("huge.jsonl", format!("{}\n", lines.join("\n")));
    for extra in [None, Some("--skip-invalid")] {
        let out = if extra.is_some() { "skipped" } else { "out" };
        let run = wd
            .rlx(["export", "huge.jsonl", "-o", out, "--json"])
            .args(extra)
            .run();
        assert!(
            run.signal().is_none() && matches!(run.code(), Some(0) | Some(1)),
            "expected exit 0 or 1, not a crash{}",
            run.report()
        );
        let r = run.json();
        if run.code() == Some(1) {
            assert!(
                at_str(&r, "error").contains("huge.jsonl:3"),
                "{}",
                run.report()
            );
        } else {
            assert_eq!(
                at_u64(&r, "stats.inputExamples"),
                at_u64(&r, "stats.totalExamples") + at_u64(&r, "stats.rejectedExamples"),
                "{}",
                run.report()
            );
        }
    }
}

/// five.jsonl's first line with `edit` applied to its text, as `name` in `wd`.
fn edited_first_line(wd: &Workdir, name: &str, edit: impl Fn(&str) -> String) -> String {
    let text = fs::read_to_string(fixture("tiny/five.jsonl")).unwrap();
    let first = text.lines().next().unwrap();
    let edited = edit(first);
    assert_ne!(edited, first, "the edit changed nothing");
    wd.write(name, format!("{first}\n{edited}\n"));
    name.to_string()
}

#[test]
fn lone_surrogate_escape_gets_one_verdict_from_validate_and_every_format() {
    let wd = Workdir::new();
    let input = edited_first_line(&wd, "surrogate.jsonl", |l| {
        l.replacen("\"note\":\"", "\"note\":\"\\ud800", 1)
    });
    for format in ["jsonl", "huggingface", "openai", "anthropic", "csv"] {
        let validate = wd.rlx(["validate", &input, "--format", format]).run();
        let out = format!("out-{format}");
        let export = wd
            .rlx(["export", &input, "-o", &out, "--format", format])
            .run();
        assert_eq!(
            validate.code(),
            export.code(),
            "--format {format}: validate and export disagree{}{}",
            validate.report(),
            export.report()
        );
        assert!(
            !export.stderr.contains("input changed"),
            "--format {format}: a misleading message{}",
            export.report()
        );
        if export.code() == Some(1) {
            assert!(
                export.error_line().contains("surrogate.jsonl:2"),
                "{}",
                export.report()
            );
        }
    }
}

#[test]
fn duplicates_are_found_whatever_the_whitespace() {
    let wd = Workdir::new();
    let input = edited_first_line(&wd, "spaced.jsonl", |l| {
        let v: Value = serde_json::from_str(l).unwrap();
        serde_json::to_string_pretty(&v).unwrap().replace('\n', " ")
    });
    let run = wd.rlx(["export", &input, "-o", "out", "--json"]).run();
    run.expect_success();
    let r = run.json();
    assert_eq!(r["warningCounts"]["duplicates"], 1, "{r:#}");
}

#[test]
fn every_bad_fixture_has_a_test_here() {
    // Each bad-input class has its own fixture and its own test (STYLE.md, Tests).
    let source = include_str!("bad_input.rs");
    let missing: Vec<String> = list_dir(&repo().join("fixtures/bad"))
        .into_iter()
        .filter(|name| !source.contains(&format!("\"{name}\"")))
        .collect();
    assert!(
        missing.is_empty(),
        "fixtures/bad files no test names: {missing:?}"
    );
}
