//! Splits that do not leak and stay put: `--group-by`, `--split-by hash`, `--dedupe` and
//! the leakage report, on the real binary. Each test finds every example in the files
//! written and checks the rule on the examples themselves.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::util::*;

/// The split files of a format's directory, by split name, each as its set of rows.
fn rows_by_split(dir: &std::path::Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut out = BTreeMap::new();
    for name in list_dir(dir) {
        let split = name.split('.').next().unwrap_or_default().to_string();
        if !["train", "eval", "test", "validation"].contains(&split.as_str()) {
            continue;
        }
        let text = std::fs::read_to_string(dir.join(&name)).unwrap();
        let rows: BTreeSet<String> = if name.ends_with(".csv") {
            let mut r = csv::ReaderBuilder::new().from_reader(text.as_bytes());
            r.records()
                .map(|rec| {
                    rec.expect("a CSV record")
                        .iter()
                        .collect::<Vec<_>>()
                        .join("\u{1f}")
                })
                .collect()
        } else {
            text.lines().map(str::to_string).collect()
        };
        out.insert(split, rows);
    }
    out
}

fn export_json(wd: &Workdir, args: &[&str]) -> Value {
    let run = wd.rlx(args.iter().copied()).arg("--json").run();
    run.expect_success();
    run.json()
}

fn session_of(line: &Value) -> String {
    line["metadata"]["sessionId"].as_str().unwrap().to_string()
}

#[test]
fn group_by_keeps_every_session_in_one_split() {
    for input in ["retrieval/pairs.jsonl", "extraction/pairs.jsonl"] {
        let wd = Workdir::new();
        let r = export_json(
            &wd,
            &[
                "export",
                &fx(input),
                "-o",
                "out",
                "--format",
                "jsonl",
                "--group-by",
                "metadata.sessionId",
                "--validation-ratio",
                "0.1",
            ],
        );
        let mut seen: BTreeMap<String, &str> = BTreeMap::new();
        for split in ["train", "validation", "eval"] {
            let path = wd.path(&format!("out/{split}.jsonl"));
            if !path.exists() {
                continue;
            }
            for line in read_jsonl(&path) {
                let s = session_of(&line);
                let before = seen.insert(s.clone(), split);
                assert!(
                    before.is_none() || before == Some(split),
                    "{input}: session {s} is in {before:?} and {split}"
                );
            }
        }
        let g = at(&r, "stats.groups");
        let groups = at_u64(g, "train") + at_u64(g, "validation") + at_u64(g, "eval");
        assert_eq!(groups, seen.len() as u64, "{input}");
        let n = input_examples(&fixture(input)).len() as u64;
        assert_eq!(at_u64(g, "targetEval"), n - (n * 8 / 10));
        // As close as whole groups allow: within the largest group of the target.
        let largest = at_u64(g, "largest");
        let eval = at_u64(&r, "stats.evalExamples");
        assert!(eval.abs_diff(at_u64(g, "targetEval")) <= largest, "{r}");
        assert_eq!(at_str(&r, "stats.groupBy"), "metadata.sessionId");
    }
}

#[test]
fn examples_without_the_path_are_groups_of_their_own_in_one_warning() {
    let wd = Workdir::new();
    let r = export_json(
        &wd,
        &[
            "export",
            &fx("consolidation/examples.jsonl"),
            "-o",
            "out",
            "--group-by",
            "metadata.sessionId",
        ],
    );
    assert_eq!(
        r["warningCounts"]["missingGroupKey"], 1,
        "{}",
        r["warnings"]
    );
    assert_eq!(at_u64(&r, "stats.groups.missingKey"), 40);
    let w = r["warnings"][0].as_str().unwrap();
    assert!(
        w.contains("40 example(s) have no metadata.sessionId"),
        "{w}"
    );
}

#[test]
fn a_pre_split_input_is_re_split_by_groups() {
    let wd = Workdir::new();
    let r = export_json(
        &wd,
        &[
            "export",
            &fx("retrieval/dataset-object.json"),
            "-o",
            "out",
            "--group-by",
            "metadata.sessionId",
        ],
    );
    assert_eq!(r["stats"]["keptInputSplit"], false);
    assert!(r["stats"]["groups"].is_object());
}

/// Export the first `n` lines of a log, then all of them: every example of the first
/// export is in the same split the second time, in every format.
#[test]
fn hash_split_never_moves_an_old_example_when_the_log_grows() {
    let all = std::fs::read_to_string(fixture("retrieval/pairs.jsonl")).unwrap();
    let lines: Vec<&str> = all.lines().collect();
    let wd = Workdir::new();
    let old = wd.write("old.jsonl", lines[..200].join("\n") + "\n");
    let new = wd.write("new.jsonl", lines.join("\n") + "\n");
    for (input, out) in [(&old, "a"), (&new, "b")] {
        export_json(
            &wd,
            &[
                "export",
                &input.display().to_string(),
                "-o",
                out,
                "--format",
                "all",
                "--split-by",
                "hash",
                "--validation-ratio",
                "0.1",
            ],
        );
    }
    for format in list_dir(&wd.path("a")) {
        if format == "parquet" {
            // Its rows are huggingface's, in the same order (tests/consumers.rs reads both).
            continue;
        }
        let before = rows_by_split(&wd.path(&format!("a/{format}")));
        let after = rows_by_split(&wd.path(&format!("b/{format}")));
        assert!(!before.is_empty(), "{format}: no split files");
        for (split, rows) in &before {
            let later = after.get(split).cloned().unwrap_or_default();
            let moved: Vec<&String> = rows.iter().filter(|r| !later.contains(*r)).collect();
            assert!(
                moved.is_empty(),
                "{format}: {} row(s) of {split} moved, e.g. {:.200}",
                moved.len(),
                moved[0]
            );
        }
    }
}

/// The split of an example is the README's formula, recomputed here: u = the first 8
/// bytes of SHA-256("<seed>:<key>") / 2^64, eval when u < R, validation when < R + V.
#[test]
fn hash_split_follows_the_documented_formula() {
    use sha2::{Digest, Sha256};
    let wd = Workdir::new();
    let r = export_json(
        &wd,
        &[
            "export",
            &fx("retrieval/pairs.jsonl"),
            "-o",
            "out",
            "--format",
            "jsonl",
            "--split-by",
            "hash",
            "--group-by",
            "metadata.sessionId",
            "--seed",
            "7",
            "--split-ratio",
            "0.25",
        ],
    );
    assert!(r["stats"]["expectedSplit"].is_array());
    for (file, want_eval) in [("train", false), ("eval", true)] {
        for line in read_jsonl(&wd.path(&format!("out/{file}.jsonl"))) {
            let key = serde_json::to_string(&line["metadata"]["sessionId"]).unwrap();
            let digest = Sha256::digest(format!("7:{key}").as_bytes());
            let u = u64::from_be_bytes(digest[..8].try_into().unwrap());
            // u / 2^64 < 1/4 exactly when u < 2^62.
            assert_eq!(u < (1u64 << 62), want_eval, "{key} in {file}");
        }
    }
}

#[test]
fn dedupe_drops_repeats_and_the_report_counts_leaks_without_it() {
    let text = std::fs::read_to_string(fixture("retrieval/examples.jsonl")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // Every example twice, the copy with another metadata note (same state, action,
    // reward), plus the first ten once more byte for byte.
    let mut log = String::new();
    for l in &lines {
        log.push_str(l);
        log.push('\n');
    }
    for l in &lines[..10] {
        log.push_str(l);
        log.push('\n');
    }
    let wd = Workdir::new();
    let input = wd.write("log.jsonl", &log).display().to_string();
    let r = export_json(&wd, &["export", &input, "-o", "d", "--dedupe"]);
    assert_eq!(at_u64(&r, "stats.duplicateExamples"), 10);
    assert_eq!(at_u64(&r, "stats.totalExamples"), 40);
    assert_eq!(at_u64(&r, "stats.inputExamples"), 50);
    let mut all = read_jsonl(&wd.path("d/train.jsonl"));
    all.extend(read_jsonl(&wd.path("d/eval.jsonl")));
    let distinct: BTreeSet<String> = all.iter().map(|v| v.to_string()).collect();
    assert_eq!(distinct.len(), 40);

    let r = export_json(&wd, &["export", &input, "-o", "k"]);
    let train: BTreeSet<String> = read_jsonl(&wd.path("k/train.jsonl"))
        .iter()
        .map(|v| v.to_string())
        .collect();
    let repeats = read_jsonl(&wd.path("k/eval.jsonl"))
        .iter()
        .filter(|v| train.contains(&v.to_string()))
        .count() as u64;
    assert_eq!(at_u64(&r, "stats.leakage.evalRepeatsTrain"), repeats);
    assert!(at_u64(&r, "stats.leakage.evalSharesTrainState") >= repeats);
    // With the hash split, identical examples share a split: nothing leaks.
    let r = export_json(&wd, &["export", &input, "-o", "h", "--split-by", "hash"]);
    assert_eq!(at_u64(&r, "stats.leakage.evalRepeatsTrain"), 0);
}

#[test]
fn many_inputs_of_any_shape_export_as_one_and_name_their_files() {
    let wd = Workdir::new();
    let gz = wd.write(
        "more.jsonl.gz",
        std::fs::read(fixture("shapes/gzipped.jsonl.gz")).unwrap(),
    );
    let dir = wd.path("logs");
    std::fs::create_dir_all(&dir).unwrap();
    let text = std::fs::read_to_string(fixture("extraction/examples.jsonl")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    wd.write("logs/b.jsonl", lines[20..].join("\n") + "\n");
    wd.write("logs/a.jsonl", lines[..20].join("\n") + "\n");
    wd.write("logs/notes.txt", "not an input\n");
    let r = export_json(
        &wd,
        &[
            "export",
            &fx("extraction/array.json"),
            &gz.display().to_string(),
            "logs",
            "-o",
            "out",
            "--format",
            "jsonl",
        ],
    );
    let files: Vec<&str> = r["stats"]["inputFiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(files.len(), 4, "{files:?}");
    assert!(files[2].ends_with("logs/a.jsonl") && files[3].ends_with("logs/b.jsonl"));
    assert_eq!(at_u64(&r, "stats.inputExamples"), 24 + 10 + 40);
    assert_eq!(at_u64(&r, "stats.totalExamples"), 74);
    assert!(r["stats"]["inputDirectories"][0]
        .as_str()
        .unwrap()
        .contains("(2 file(s))"));
    let mut written: Vec<String> = read_jsonl(&wd.path("out/train.jsonl"))
        .iter()
        .chain(read_jsonl(&wd.path("out/eval.jsonl")).iter())
        .map(canonical)
        .collect();
    written.sort();
    let array: Vec<Value> =
        serde_json::from_slice(&std::fs::read(fixture("extraction/array.json")).unwrap()).unwrap();
    let mut want: Vec<String> = array
        .iter()
        .chain(input_examples(&fixture("extraction/examples.jsonl")).iter())
        .map(canonical)
        .collect();
    let gz_lines = String::from_utf8(gunzip(&std::fs::read(&gz).unwrap())).unwrap();
    want.extend(
        gz_lines
            .lines()
            .map(|l| canonical(&serde_json::from_str(l).unwrap())),
    );
    want.sort();
    assert_eq!(written, want);
}

#[test]
fn a_bad_example_in_a_later_input_is_named_by_its_file() {
    let wd = Workdir::new();
    let run = wd
        .rlx([
            "export",
            &fx("extraction/examples.jsonl"),
            &fx("bad/reward-is-string.jsonl"),
            "-o",
            "out",
        ])
        .run();
    run.expect_code(1);
    assert!(
        run.error_line().contains("reward-is-string.jsonl:2:"),
        "{}",
        run.report()
    );
    assert!(!wd.path("out").exists());
}

#[test]
fn dataset_objects_among_several_inputs_are_pooled_with_a_warning() {
    let wd = Workdir::new();
    let r = export_json(
        &wd,
        &[
            "export",
            &fx("retrieval/dataset-object.json"),
            &fx("retrieval/examples.jsonl"),
            "-o",
            "out",
        ],
    );
    assert_eq!(r["stats"]["keptInputSplit"], false);
    assert_eq!(r["warningCounts"]["inputSplitNotKept"], 1);
    assert_eq!(at_u64(&r, "stats.totalExamples"), 70);
}

#[test]
fn an_empty_directory_is_an_error_naming_it() {
    let wd = Workdir::new();
    std::fs::create_dir_all(wd.path("empty")).unwrap();
    let run = wd.rlx(["export", "empty", "-o", "out"]).run();
    run.expect_code(1);
    run.expect_stderr("empty: is a directory with no non-empty *.jsonl");
    let run = wd.rlx(["validate", "-", "-"]).stdin("").run();
    run.expect_code(1);
    run.expect_stderr("stdin is given more than once");
}

#[test]
fn validate_reads_many_inputs_too() {
    let wd = Workdir::new();
    let run = wd
        .rlx([
            "validate",
            &fx("retrieval/examples.jsonl"),
            &fx("retrieval/array.json"),
            "--json",
        ])
        .run();
    run.expect_success();
    assert_eq!(at_u64(&run.json(), "stats.inputExamples"), 64);
}
