//! Format choice and per-format file sets through the binary: inference from the output
//! name (and the reason the result gives), `--format all`, `--compress`, `--no-metadata`.

use serde_json::Value;

use crate::util::*;

#[test]
fn format_is_inferred_from_the_output_name_and_the_reason_is_given() {
    let cases = [
        ("out/data.csv", "csv", "the output name ends with .csv"),
        (
            "out/data.jsonl",
            "jsonl",
            "the output name ends with .jsonl",
        ),
        (
            "extraction-hf",
            "huggingface",
            "the output name contains the word \"hf\"",
        ),
        (
            "retrieval-openai",
            "openai",
            "the output name contains the word \"openai\"",
        ),
        (
            "claude-x",
            "anthropic",
            "the output name contains the word \"claude\"",
        ),
        (
            "shfoo",
            "jsonl",
            "the default: no --format and no format word in the output name",
        ),
        ("openai/plain", "jsonl", "the default"),
    ];
    let five = fx("tiny/five.jsonl");
    for (out, format, reason) in cases {
        let wd = Workdir::new();
        let run = wd.rlx(["export", &five, "-o", out, "--json"]).run();
        run.expect_success();
        let r = run.json();
        assert_eq!(at_str(&r, "format"), format, "-o {out}{}", run.report());
        assert!(
            at_str(&r, "formatReason").starts_with(reason),
            "-o {out}: formatReason {:?}, expected {reason:?}",
            r["formatReason"]
        );
        let marker = match format {
            "csv" => "combined.csv",
            "huggingface" => "dataset_dict.json",
            "openai" => "metadata.json",
            "anthropic" => "GUIDE.md",
            _ => "README.md",
        };
        assert!(wd.path(out).join(marker).exists(), "-o {out}: no {marker}");

        // The human summary gives the same reason.
        let wd = Workdir::new();
        let run = wd.rlx(["export", &five, "-o", out]).run();
        run.expect_success()
            .expect_stderr(&format!("format:   {format} ({reason}"));
    }
    // An explicit --format wins over the name.
    let wd = Workdir::new();
    let run = wd
        .rlx([
            "export", &five, "-o", "data.csv", "--format", "jsonl", "--json",
        ])
        .run();
    run.expect_success();
    let r = run.json();
    assert_eq!(at_str(&r, "format"), "jsonl");
    assert_eq!(at_str(&r, "formatReason"), "--format");
}

#[test]
fn each_format_writes_its_file_set() {
    let sets: [(&str, &[&str]); 7] = [
        ("jsonl", &["README.md", "eval.jsonl", "train.jsonl"]),
        ("trl", &["README.md", "eval.jsonl", "train.jsonl"]),
        (
            "huggingface",
            &[
                "README.md",
                "dataset_dict.json",
                "dataset_info.json",
                "test.json",
                "train.json",
            ],
        ),
        (
            "openai",
            &["USAGE.md", "eval.jsonl", "metadata.json", "train.jsonl"],
        ),
        (
            "anthropic",
            &["GUIDE.md", "dataset_info.json", "eval.jsonl", "train.jsonl"],
        ),
        (
            "csv",
            &[
                "analysis_template.py",
                "combined.csv",
                "data_dictionary.md",
                "eval.csv",
                "train.csv",
            ],
        ),
        ("parquet", &["README.md", "data"]),
    ];
    let wd = Workdir::new();
    let run = wd
        .rlx([
            "export",
            &fx("retrieval/examples.jsonl"),
            "-o",
            "all",
            "--format",
            "all",
            "--json",
        ])
        .run();
    run.expect_success();
    let r = run.json();
    assert_eq!(at_str(&r, "format"), "all");
    let mut listed: Vec<String> = Vec::new();
    for (format, files) in sets {
        assert_eq!(
            list_dir(&wd.path(&format!("all/{format}"))),
            files,
            "--format all: {format}/"
        );
        for f in files {
            let path = format!("all/{format}/{f}");
            if wd.path(&path).is_dir() {
                // parquet's data/: its shards are the files.
                let shards = list_dir(&wd.path(&path));
                assert_eq!(
                    shards,
                    [
                        "test-00000-of-00001.parquet",
                        "train-00000-of-00001.parquet"
                    ],
                    "{path}"
                );
                listed.extend(shards.iter().map(|s| format!("{path}/{s}")));
            } else {
                listed.push(path);
            }
        }

        let wd = Workdir::new();
        let run = wd
            .rlx([
                "export",
                &fx("retrieval/examples.jsonl"),
                "-o",
                "out",
                "--format",
                format,
            ])
            .run();
        run.expect_success();
        assert_eq!(list_dir(&wd.path("out")), files, "--format {format}");
    }
    listed.sort();
    let files: Vec<&str> = r["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(files, listed, "--format all: the result's files");
    let formats: Vec<&str> = r["formats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| at_str(f, "format"))
        .collect();
    assert_eq!(
        formats,
        [
            "huggingface",
            "openai",
            "anthropic",
            "csv",
            "jsonl",
            "parquet",
            "trl"
        ]
    );
}

#[test]
fn compress_gzips_data_files_and_leaves_documents_plain() {
    let wd = Workdir::new();
    let run = wd
        .rlx([
            "export",
            &fx("extraction/examples.jsonl"),
            "-o",
            "out",
            "--format",
            "all",
        ])
        .args(["--compress", "--validation-ratio", "0.1", "--json"])
        .run();
    run.expect_success();
    let plain_docs = [
        "jsonl/README.md",
        "huggingface/README.md",
        "huggingface/dataset_dict.json",
        "huggingface/dataset_info.json",
        "openai/USAGE.md",
        "openai/metadata.json",
        "anthropic/GUIDE.md",
        "anthropic/dataset_info.json",
        "csv/data_dictionary.md",
        "csv/analysis_template.py",
        "trl/README.md",
        "parquet/README.md",
    ];
    let tree = read_tree(&wd.path("out"));
    for doc in plain_docs {
        let bytes = tree
            .get(doc)
            .unwrap_or_else(|| panic!("{doc} is missing: {:?}", tree.keys()));
        assert!(!bytes.starts_with(&[0x1f, 0x8b]), "{doc} is compressed");
        assert!(std::str::from_utf8(bytes).is_ok(), "{doc} is not text");
    }
    // Parquet compresses its own column chunks; --compress leaves its shards alone.
    for shard in tree.keys().filter(|k| k.starts_with("parquet/data/")) {
        assert!(tree[shard].starts_with(b"PAR1"), "{shard} is not Parquet");
        assert!(shard.ends_with(".parquet"), "{shard}");
    }
    let data: Vec<&String> = tree
        .keys()
        .filter(|k| !plain_docs.contains(&k.as_str()) && !k.starts_with("parquet/data/"))
        .collect();
    assert_eq!(data.len(), 19, "data files: {data:?}");
    for name in data {
        assert!(name.ends_with(".gz"), "{name} is a data file but not .gz");
        let text = String::from_utf8(gunzip(&tree[name]))
            .unwrap_or_else(|_| panic!("{name} does not gunzip to UTF-8"));
        assert!(text.ends_with('\n'), "{name}: last line has no newline");
        if name.contains(".json") {
            for (i, line) in text.lines().enumerate() {
                let v: Result<Value, _> = serde_json::from_str(line);
                assert!(
                    v.is_ok_and(|v| v.is_object()),
                    "{name}:{}: not a JSON object: {line}",
                    i + 1
                );
            }
        }
    }
    let jsonl_lines: usize = ["train", "eval", "validation"]
        .iter()
        .map(|s| read_jsonl(&wd.path(&format!("out/jsonl/{s}.jsonl.gz"))).len())
        .sum();
    assert_eq!(jsonl_lines, 40);
}

#[test]
fn no_metadata_leaves_metadata_out_of_every_format() {
    let wd = Workdir::new();
    let run = wd
        .rlx([
            "export",
            &fx("consolidation/examples.jsonl"),
            "-o",
            "out",
            "--format",
            "all",
        ])
        .arg("--no-metadata")
        .run();
    run.expect_success();
    let with = Workdir::new();
    with.rlx([
        "export",
        &fx("consolidation/examples.jsonl"),
        "-o",
        "out",
        "--format",
        "all",
    ])
    .run()
    .expect_success();
    // Without the flag the metadata is there, so the checks below can fail.
    assert!(with
        .read_string("out/jsonl/train.jsonl")
        .contains("\"decisionId\":\"dec-"));
    assert!(with
        .read_string("out/csv/train.csv")
        .contains("metadata.decisionId"));
    let session = "\"decisionId\"";
    for (name, bytes) in read_tree(&wd.path("out")) {
        if name.ends_with(".md") || name.ends_with(".py") {
            continue;
        }
        // A Parquet shard is binary, but its keys and strings are stored as written.
        let text = String::from_utf8_lossy(&bytes).into_owned();
        assert!(
            !text.contains("dec-"),
            "{name}: a metadata value survived --no-metadata"
        );
        assert!(
            !text.contains(session),
            "{name}: a metadata key survived --no-metadata"
        );
        if name.ends_with(".jsonl") || name.ends_with("train.json") || name.ends_with("test.json") {
            for line in text.lines() {
                let v: Value = serde_json::from_str(line).unwrap();
                assert!(
                    v.get("metadata").is_none(),
                    "{name}: a line has metadata: {line}"
                );
            }
        }
        if name.ends_with(".csv") {
            let header = text.lines().next().unwrap_or("");
            assert!(
                !header.contains("metadata."),
                "{name}: metadata columns: {header}"
            );
        }
    }
}
