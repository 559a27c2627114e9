//! The parquet format read by its real readers: every shard through pyarrow, `datasets`
//! 5.x and 3.6 (`load_dataset(DIR)` must give the huggingface export's rows, order and
//! features), pandas, Polars and DuckDB (`tests/consumers/check_parquet.py`), Spark when
//! `RLX_SPARK_TESTS=1`; and its bytes, the same whatever `--threads`.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use serde_json::{json, Value};

use crate::consumers::venv_python;
use crate::util::*;

fn python(kind: &'static str) -> &'static PathBuf {
    static FIVE: OnceLock<PathBuf> = OnceLock::new();
    static THREE: OnceLock<PathBuf> = OnceLock::new();
    static SPARK: OnceLock<PathBuf> = OnceLock::new();
    let cell = match kind {
        "5" => &FIVE,
        "3" => &THREE,
        _ => &SPARK,
    };
    venv_python(
        cell,
        "setup-parquet-venv.sh",
        &[kind],
        "the parquet readers cannot be installed",
    )
}

/// Export `input` as parquet and as huggingface with the same flags, into `pq` and `hf`.
fn export_both(wd: &Workdir, input: &str, flags: &[&str]) {
    for (format, out) in [("parquet", "pq"), ("huggingface", "hf")] {
        let shard_flags: Vec<&str> = if format == "parquet" {
            flags.to_vec()
        } else {
            // --shard-size is parquet's own; the rows are the same without it.
            let mut f = Vec::new();
            let mut it = flags.iter();
            while let Some(&flag) = it.next() {
                if flag == "--shard-size" {
                    it.next();
                } else {
                    f.push(flag);
                }
            }
            f
        };
        wd.rlx(["export", input, "-o", out, "--format", format])
            .args(&shard_flags)
            .run()
            .expect_success();
    }
}

#[track_caller]
fn read_parquet(kind: &'static str, wd: &Workdir, extra: &[&str], what: &str) -> String {
    let out = Command::new(python(kind))
        .arg(repo().join("tests/consumers/check_parquet.py"))
        .arg(wd.path("pq"))
        .arg(wd.path("hf"))
        .args(extra)
        .output()
        .expect("running check_parquet.py");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{what}: check_parquet.py (datasets {kind}) rejected the export ({}):\n{}{stdout}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
    );
    stdout
}

/// Examples whose metadata holds what breaks readers: integers beyond int64, a field
/// that is a number in one example and a string in another, nesting past 32 levels,
/// empty objects and lists, null-only fields, lists of structs with varying keys, and
/// strings with NUL, emoji, RTL marks, CR/LF and quotes.
fn nasty_examples(wd: &Workdir) -> String {
    let text = std::fs::read_to_string(fixture("retrieval/examples.jsonl")).unwrap();
    let mut deep = json!("bottom");
    for _ in 0..40 {
        deep = json!({ "d": deep });
    }
    let lines: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, line)| {
            let mut ex: Value = serde_json::from_str(line).unwrap();
            let m = ex["metadata"].as_object_mut().unwrap();
            m.insert(
                "text".into(),
                json!(format!("\u{0}\u{1f} 👩‍👩‍👧 \u{200f}שלום\r\n\"q\" \\ {i}")),
            );
            m.insert(
                "big".into(),
                if i == 3 {
                    serde_json::from_str("123456789012345678901234567890").unwrap()
                } else {
                    json!(i)
                },
            );
            m.insert(
                "mixed".into(),
                if i % 2 == 0 { json!(i) } else { json!("odd") },
            );
            m.insert("deep".into(), deep.clone());
            m.insert("empty".into(), json!({}));
            m.insert("none".into(), Value::Null);
            m.insert("nothing".into(), json!([]));
            m.insert(
                "items".into(),
                json!([{"k": i, "tag": "a"}, {"k": -1, "extra": [1.5, null]}]),
            );
            m.insert(
                "maybe".into(),
                if i % 3 == 0 { json!(null) } else { json!(0.25) },
            );
            serde_json::to_string(&ex).unwrap()
        })
        .collect();
    wd.write("nasty.jsonl", lines.join("\n") + "\n")
        .display()
        .to_string()
}

#[test]
fn parquet_exports_read_as_the_huggingface_export_in_every_engine() {
    let cases: Vec<(String, Vec<&str>, bool)> = vec![
        (fx("extraction/examples.jsonl"), vec![], false),
        (
            fx("retrieval/examples.jsonl"),
            vec!["--validation-ratio", "0.1"],
            false,
        ),
        (
            fx("consolidation/examples.jsonl"),
            vec!["--no-metadata"],
            false,
        ),
        (
            fx("consolidation/pairs.jsonl"),
            vec!["--shard-size", "4KB", "--validation-ratio", "0.1"],
            true,
        ),
        (fx("shapes/extra-keys.jsonl"), vec![], false),
        (
            fx("retrieval/array.json"),
            vec!["--compression", "zstd"],
            false,
        ),
        (
            fx("extraction/dataset-object.json"),
            vec!["--no-cdc", "--compression", "none"],
            false,
        ),
    ];
    for (input, flags, is_sharded) in cases {
        let wd = Workdir::new();
        let what = format!("{input} {}", flags.join(" "));
        export_both(&wd, &input, &flags);
        let mut extra = vec![];
        if is_sharded {
            extra.push("--expect-shards-gt-1");
        }
        read_parquet("5", &wd, &extra, &what);
        extra.extend(["--engines", "datasets"]);
        read_parquet("3", &wd, &extra, &what);
    }
}

#[test]
fn nasty_values_survive_every_reader_and_conflicts_are_json_text() {
    let wd = Workdir::new();
    let input = nasty_examples(&wd);
    export_both(&wd, &input, &["--shard-size", "8KB"]);
    let run = wd
        .rlx([
            "export",
            &input,
            "-o",
            "again",
            "--format",
            "parquet",
            "--shard-size",
            "8KB",
            "--json",
        ])
        .run();
    run.expect_success();
    let warnings = at(&run.json(), "warningCounts").clone();
    assert!(
        warnings["encodedAsJson"].as_u64().unwrap_or(0) >= 3,
        "{warnings:#}"
    );
    let summary = read_parquet("5", &wd, &["--expect-shards-gt-1"], "nasty values");
    assert!(summary.contains("hf-metadata: yes"), "{summary}");
    read_parquet(
        "3",
        &wd,
        &["--engines", "datasets", "--expect-shards-gt-1"],
        "nasty values",
    );
}

#[test]
fn parquet_bytes_do_not_depend_on_threads_or_runs() {
    let wd = Workdir::new();
    let input = nasty_examples(&wd);
    for (out, threads) in [("a", "1"), ("b", "2"), ("c", "7")] {
        wd.rlx([
            "export",
            &input,
            "-o",
            out,
            "--format",
            "parquet",
            "--threads",
            threads,
        ])
        .args(["--shard-size", "8KB"])
        .run()
        .expect_success();
    }
    let a = read_tree(&wd.path("a"));
    assert!(a.keys().filter(|k| k.ends_with(".parquet")).count() > 1);
    for other in ["b", "c"] {
        let b = read_tree(&wd.path(other));
        assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
        for (name, bytes) in &a {
            assert!(*bytes == b[name], "{other}/{name} differs from a/{name}");
        }
    }
}

/// Spark reads `data/` and each split's glob (Java from Debian, pyspark from PyPI; a
/// minute to start the first time, so only with RLX_SPARK_TESTS=1).
#[test]
fn spark_reads_the_shards_when_asked() {
    if std::env::var_os("RLX_SPARK_TESTS").is_none_or(|v| v != "1") {
        eprintln!("skipped: set RLX_SPARK_TESTS=1 to read the shards with Spark");
        return;
    }
    let wd = Workdir::new();
    export_both(
        &wd,
        &fx("consolidation/pairs.jsonl"),
        &["--shard-size", "4KB", "--validation-ratio", "0.1"],
    );
    let out = Command::new(python("spark"))
        .arg(repo().join("tests/consumers/check_spark.py"))
        .arg(wd.path("pq"))
        .arg(wd.path("hf"))
        .output()
        .expect("running check_spark.py");
    assert!(
        out.status.success(),
        "check_spark.py rejected the export ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    eprintln!("{}", String::from_utf8_lossy(&out.stdout));
}

/// Two halves of a log exported apart with `--split-by hash` and merged read exactly as
/// the whole log exported at once: same rows per split, same order, same features.
#[test]
fn merged_parts_read_as_the_whole_log_exported_at_once() {
    let wd = Workdir::new();
    let text = std::fs::read_to_string(fixture("consolidation/pairs.jsonl")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let a = wd.write("a.jsonl", lines[..150].join("\n") + "\n");
    let b = wd.write("b.jsonl", lines[150..].join("\n") + "\n");
    let split = [
        "--split-by",
        "hash",
        "--no-shuffle",
        "--validation-ratio",
        "0.1",
    ];
    for (input, out) in [(&a, "parts/a"), (&b, "parts/b")] {
        wd.rlx([
            "export",
            &input.display().to_string(),
            "-o",
            out,
            "--format",
            "parquet",
        ])
        .args(split)
        .args(["--shard-size", "4KB"])
        .run()
        .expect_success();
    }
    wd.rlx([
        "export",
        &fx("consolidation/pairs.jsonl"),
        "-o",
        "hf",
        "--format",
        "huggingface",
    ])
    .args(split)
    .run()
    .expect_success();
    let run = wd
        .rlx(["merge", "parts/a", "parts/b", "-o", "pq", "--json"])
        .run();
    run.expect_success();
    let r = run.json();
    assert_eq!(
        at_u64(&r, "splits.train.rows")
            + at_u64(&r, "splits.validation.rows")
            + at_u64(&r, "splits.test.rows"),
        300
    );
    let card = wd.read_string("pq/README.md");
    assert!(
        card.contains("| merged from | `parts/a`, `parts/b` |"),
        "{card}"
    );
    read_parquet("5", &wd, &["--expect-shards-gt-1"], "merged parts");
    read_parquet("3", &wd, &["--engines", "datasets"], "merged parts");

    // A part whose columns differ is refused, naming the field, and nothing is written.
    let c = nasty_examples(&wd);
    let nasty = wd
        .rlx(["export", &c, "-o", "parts/c", "--format", "parquet"])
        .run();
    nasty.expect_success();
    wd.rlx([
        "export",
        &fx("retrieval/examples.jsonl"),
        "-o",
        "parts/d",
        "--format",
        "parquet",
    ])
    .run()
    .expect_success();
    let run = wd.rlx(["merge", "parts/c", "parts/d", "-o", "bad"]).run();
    run.expect_code(1);
    assert!(
        run.error_line()
            .contains("have different columns (first at metadata.")
            && run.error_line().contains("which only the first has"),
        "{}",
        run.report()
    );
    let run = wd.rlx(["merge", "parts/a", "parts/d", "-o", "bad"]).run();
    run.expect_code(1);
    assert!(
        run.error_line()
            .contains("expected parts of one policy's log"),
        "{}",
        run.report()
    );
    // The same Arrow type, but JSON text in one part and plain strings in the other.
    let text = std::fs::read_to_string(fixture("retrieval/examples.jsonl")).unwrap();
    for (name, is_mixed) in [("e", true), ("f", false)] {
        let lines: Vec<String> = text
            .lines()
            .enumerate()
            .map(|(i, line)| {
                let mut ex: Value = serde_json::from_str(line).unwrap();
                ex["metadata"]["note"] = if is_mixed && i % 2 == 0 {
                    json!(i)
                } else {
                    json!("x")
                };
                serde_json::to_string(&ex).unwrap()
            })
            .collect();
        let input = wd.write(&format!("{name}.jsonl"), lines.join("\n") + "\n");
        wd.rlx([
            "export",
            &input.display().to_string(),
            "-o",
            &format!("parts/{name}"),
            "--format",
            "parquet",
        ])
        .run()
        .expect_success();
    }
    let run = wd.rlx(["merge", "parts/e", "parts/f", "-o", "bad"]).run();
    run.expect_code(1);
    assert!(
        run.error_line()
            .contains("stores metadata.note as JSON text but")
            && run.error_line().contains("stores no field"),
        "{}",
        run.report()
    );
    let run = wd.rlx(["merge", "hf", "-o", "bad"]).run();
    run.expect_code(1);
    assert!(run.error_line().contains("hf/data: "), "{}", run.report());
    assert!(!wd.path("bad").exists());
}

/// A value longer than a content-defined chunk (1 MiB), which pyarrow cannot read back
/// from a chunked file: that split is written without chunking, with a warning, and
/// every reader reads it.
#[test]
fn values_longer_than_a_chunk_are_written_so_pyarrow_reads_them() {
    let wd = Workdir::new();
    let text = std::fs::read_to_string(fixture("retrieval/examples.jsonl")).unwrap();
    let lines: Vec<String> = text
        .lines()
        .take(12)
        .enumerate()
        .map(|(i, line)| {
            let mut ex: Value = serde_json::from_str(line).unwrap();
            let size = if i == 0 { 1_100_000 } else { 1000 };
            ex["metadata"]["blob"] = json!("y".repeat(size));
            serde_json::to_string(&ex).unwrap()
        })
        .collect();
    let input = wd.write("long.jsonl", lines.join("\n") + "\n");
    let input = input.display().to_string();
    export_both(&wd, &input, &["--no-shuffle", "--split-ratio", "0.25"]);
    let run = wd
        .rlx([
            "export", &input, "-o", "again", "--format", "parquet", "--json",
        ])
        .args(["--no-shuffle", "--split-ratio", "0.25"])
        .run();
    run.expect_success();
    assert_eq!(
        at_u64(&run.json(), "warningCounts.cdcOff"),
        1,
        "{:#}",
        run.json()
    );
    read_parquet("5", &wd, &[], "a 1.1 MB value");
    read_parquet("3", &wd, &["--engines", "datasets"], "a 1.1 MB value");
}
