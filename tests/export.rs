//! `rlx export` end to end: shapes, policies, split arithmetic, ordering, determinism,
//! what the files hold, atomic output, the `--json` result and the exit statuses.

use std::fs;

use serde_json::Value;

use crate::util::*;

const POLICIES: [&str; 3] = ["extraction", "retrieval", "consolidation"];

/// `rlx export INPUT -o out --json EXTRA…` in `wd`.
fn export(wd: &Workdir, input: &str, extra: &[&str]) -> Run {
    wd.rlx(["export", input, "-o", "out", "--json"])
        .args(extra)
        .run()
}

/// The first `n` lines of a fixture, written into the workdir as `name`.
fn head(wd: &Workdir, fixture_path: &str, n: usize, name: &str) -> String {
    let text = fs::read_to_string(fixture(fixture_path)).expect("fixture is UTF-8");
    let lines: Vec<&str> = text.lines().take(n).collect();
    assert_eq!(lines.len(), n, "{fixture_path} has fewer than {n} lines");
    wd.write(name, format!("{}\n", lines.join("\n")));
    name.to_string()
}

#[test]
fn every_shape_of_every_policy_exports_with_its_counts() {
    // (shape file, input examples, train, eval, keeps the input's own split)
    let shapes = [
        ("examples.jsonl", "jsonLines", 40, 32, 8, false),
        ("array.json", "array", 24, 19, 5, false),
        ("dataset-object.json", "dataset", 30, 24, 6, true),
    ];
    for policy in POLICIES {
        for (file, shape, n, train, eval, kept) in shapes {
            let wd = Workdir::new();
            let run = export(&wd, &fx(&format!("{policy}/{file}")), &[]);
            run.expect_success();
            let r = run.json();
            let what = format!("{policy}/{file}{}", run.report());
            assert_eq!(at_str(&r, "stats.policyType"), policy, "{what}");
            assert_eq!(at_str(&r, "stats.inputShape"), shape, "{what}");
            assert_eq!(at_u64(&r, "stats.inputExamples"), n, "{what}");
            assert_eq!(split_counts(&r), (train, eval, 0, n), "{what}");
            assert_eq!(r["stats"]["keptInputSplit"], Value::Bool(kept), "{what}");
            assert_eq!(
                read_jsonl(&wd.path("out/train.jsonl")).len() as u64,
                train,
                "{what}"
            );
            assert_eq!(
                read_jsonl(&wd.path("out/eval.jsonl")).len() as u64,
                eval,
                "{what}"
            );
            assert!(!wd.path("out/validation.jsonl").exists(), "{what}");
        }
    }
}

#[test]
fn the_three_shapes_of_a_policy_hold_the_same_examples() {
    // array.json and dataset-object.json are prefixes of examples.jsonl (fixtures/README.md),
    // so reading them must give exactly those examples.
    for policy in POLICIES {
        let lines = input_examples(&fixture(&format!("{policy}/examples.jsonl")));
        for (file, n) in [("array.json", 24), ("dataset-object.json", 30)] {
            let wd = Workdir::new();
            export(&wd, &fx(&format!("{policy}/{file}")), &[]).expect_success();
            let mut out = read_jsonl(&wd.path("out/train.jsonl"));
            out.extend(read_jsonl(&wd.path("out/eval.jsonl")));
            assert_eq!(
                canonical_sorted(&out),
                canonical_sorted(&lines[..n]),
                "{policy}/{file} did not give the first {n} examples of examples.jsonl"
            );
        }
    }
}

#[test]
fn policy_flag_that_matches_the_data_is_accepted() {
    for policy in POLICIES {
        let wd = Workdir::new();
        let run = export(
            &wd,
            &fx(&format!("{policy}/examples.jsonl")),
            &["--policy", policy],
        );
        run.expect_success();
        assert_eq!(at_str(&run.json(), "stats.policyType"), policy);
    }
}

#[test]
fn policy_flag_contradicting_the_data_fails_naming_the_example() {
    let wd = Workdir::new();
    let input = fx("extraction/examples.jsonl");
    let run = export(&wd, &input, &["--policy", "retrieval"]);
    run.expect_code(1);
    let line = run.error_line();
    assert!(line.contains(&format!("{input}:1: ")), "{line}");
    assert!(line.contains("extraction state"), "{line}");
    assert!(
        line.contains("expected a retrieval state (--policy retrieval)"),
        "{line}"
    );
    let r = run.json();
    assert_eq!(r["success"], Value::Bool(false));
    assert!(at_str(&r, "error").contains(&format!("{input}:1: ")));
    assert!(
        !wd.path("out").exists(),
        "a failed export left its directory"
    );
}

#[test]
fn split_sizes_of_tiny_inputs_give_train_the_floor_of_its_share() {
    // Default --split-ratio 0.2: train = floor(n * 0.8), eval = the rest.
    for (file, n, train, eval) in [("one", 1, 0, 1), ("two", 2, 1, 1), ("five", 5, 4, 1)] {
        let wd = Workdir::new();
        let run = export(&wd, &fx(&format!("tiny/{file}.jsonl")), &[]);
        run.expect_success();
        let r = run.json();
        assert_eq!(
            split_counts(&r),
            (train, eval, 0, n),
            "tiny/{file}{}",
            run.report()
        );
        // An empty split has no file (consumers reject empty files) and a warning says so.
        assert_eq!(
            wd.path("out/train.jsonl").exists(),
            train > 0,
            "tiny/{file}"
        );
        let empty_split_warnings = r["warningCounts"]["emptySplit"].as_u64().unwrap_or(0);
        assert_eq!(
            empty_split_warnings,
            u64::from(train == 0),
            "tiny/{file}: {r:#}"
        );
    }
}

#[test]
fn split_ratio_is_an_exact_decimal() {
    // 10 * (1 - 0.8) is 1.9999999999999996 in binary floating point; exactly it is 2.
    let wd = Workdir::new();
    let ten = head(&wd, "extraction/examples.jsonl", 10, "ten.jsonl");
    let run = export(&wd, &ten, &["--split-ratio", "0.8"]);
    run.expect_success();
    assert_eq!(split_counts(&run.json()), (2, 8, 0, 10), "{}", run.report());
}

#[test]
fn validation_ratio_carves_a_validation_split() {
    let input = fx("extraction/examples.jsonl");
    for (extra, train, eval, validation) in [
        (vec!["--validation-ratio", "0.1"], 28, 8, 4),
        (
            vec!["--split-ratio", "0.3", "--validation-ratio", "0.1"],
            24,
            12,
            4,
        ),
    ] {
        let wd = Workdir::new();
        let run = export(&wd, &input, &extra);
        run.expect_success();
        let r = run.json();
        assert_eq!(
            split_counts(&r),
            (train, eval, validation, 40),
            "{extra:?}{}",
            run.report()
        );
        let counts = [("train", train), ("eval", eval), ("validation", validation)];
        for (split, n) in counts {
            let lines = read_jsonl(&wd.path(&format!("out/{split}.jsonl")));
            assert_eq!(lines.len() as u64, n, "{extra:?}: {split}.jsonl");
        }
    }
}

#[test]
fn max_examples_keeps_a_share_of_each_split() {
    // (input, --max-examples, (train, eval, validation, total), unselected, kept split)
    type Case = (&'static str, &'static str, (u64, u64, u64, u64), u64, bool);
    let cases: [Case; 3] = [
        ("extraction/examples.jsonl", "10", (8, 2, 0, 10), 30, false),
        (
            "extraction/dataset-object.json",
            "10",
            (8, 2, 0, 10),
            20,
            true,
        ),
        ("extraction/examples.jsonl", "100", (32, 8, 0, 40), 0, false),
    ];
    for (input, max, counts, unselected, kept) in cases {
        let wd = Workdir::new();
        let run = export(&wd, &fx(input), &["--max-examples", max]);
        run.expect_success();
        let r = run.json();
        let what = format!("{input} --max-examples {max}{}", run.report());
        assert_eq!(split_counts(&r), counts, "{what}");
        assert_eq!(at_u64(&r, "stats.unselectedExamples"), unselected, "{what}");
        assert_eq!(r["stats"]["keptInputSplit"], Value::Bool(kept), "{what}");
        let written = read_jsonl(&wd.path("out/train.jsonl")).len()
            + read_jsonl(&wd.path("out/eval.jsonl")).len();
        assert_eq!(written as u64, counts.3, "{what}");
    }
}

#[test]
fn same_seed_gives_byte_identical_files_in_every_format() {
    let wd = Workdir::new();
    let input = fx("retrieval/examples.jsonl");
    for out in ["a", "b"] {
        wd.rlx([
            "export", &input, "-o", out, "--format", "all", "--seed", "9",
        ])
        .run()
        .expect_success();
    }
    let a = read_tree(&wd.path("a"));
    let b = read_tree(&wd.path("b"));
    let formats: std::collections::BTreeSet<&str> =
        a.keys().filter_map(|k| k.split('/').next()).collect();
    assert_eq!(
        formats.into_iter().collect::<Vec<_>>(),
        [
            "anthropic",
            "csv",
            "huggingface",
            "jsonl",
            "openai",
            "parquet",
            "trl"
        ],
        "--format all writes one directory per format"
    );
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (name, bytes) in &a {
        assert!(
            bytes == &b[name],
            "{name} differs between two runs with the same seed"
        );
    }
}

/// Many batches' worth of examples (the scan checks 4096 per batch, writers render
/// 1024) from a fixture: every copy distinct, some pretty-printed (rewritten rather than
/// copied through), some with an integer reward in the float column and some with an
/// extra nested key (other shapes).
fn many_examples(wd: &Workdir, fixture: &str, copies: usize) -> String {
    let text = fs::read_to_string(fixture).unwrap();
    let examples: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut out = String::new();
    for i in 0..copies {
        let mut ex = examples[i % examples.len()].clone();
        ex["metadata"]["copy"] = i.into();
        if i % 7 == 0 {
            ex["reward"] = 1.into();
        }
        if i % 11 == 0 {
            ex["metadata"]["extra"] = serde_json::json!({ "n": i, "s": "a, \"b\"\n" });
        }
        if i % 5 == 0 {
            out.push_str(
                &serde_json::to_string_pretty(&ex)
                    .unwrap()
                    .replace('\n', " "),
            );
        } else {
            out.push_str(&ex.to_string());
        }
        out.push('\n');
    }
    wd.write("many.jsonl", out).display().to_string()
}

#[test]
fn thread_count_does_not_change_a_byte() {
    let wd = Workdir::new();
    let input = many_examples(&wd, &fx("consolidation/examples.jsonl"), 6000);
    for (out, threads) in [("t1", "1"), ("t2", "2"), ("t7", "7")] {
        wd.rlx([
            "export",
            &input,
            "-o",
            out,
            "--format",
            "all",
            "--threads",
            threads,
        ])
        .run()
        .expect_success();
    }
    let one = read_tree(&wd.path("t1"));
    for other in ["t2", "t7"] {
        let tree = read_tree(&wd.path(other));
        assert_eq!(
            one.keys().collect::<Vec<_>>(),
            tree.keys().collect::<Vec<_>>()
        );
        for (name, bytes) in &one {
            assert!(
                bytes == &tree[name],
                "{name}: --threads 1 and {other} differ"
            );
        }
    }
}

#[test]
fn another_seed_gives_another_order_of_the_same_examples() {
    let wd = Workdir::new();
    let input = fx("extraction/examples.jsonl");
    let mut orders = Vec::new();
    for (out, seed) in [("s42", "42"), ("s7", "7")] {
        let run = wd
            .rlx(["export", &input, "-o", out, "--seed", seed, "--json"])
            .run();
        run.expect_success();
        assert_eq!(
            at_u64(&run.json(), "stats.seed"),
            seed.parse::<u64>().unwrap()
        );
        let mut all = read_jsonl(&wd.path(&format!("{out}/train.jsonl")));
        all.extend(read_jsonl(&wd.path(&format!("{out}/eval.jsonl"))));
        orders.push(all);
    }
    assert_ne!(
        orders[0].iter().map(canonical).collect::<Vec<_>>(),
        orders[1].iter().map(canonical).collect::<Vec<_>>(),
        "seeds 42 and 7 gave the same order"
    );
    assert_eq!(canonical_sorted(&orders[0]), canonical_sorted(&orders[1]));
}

#[test]
fn default_seed_is_42_and_the_summary_says_so() {
    let wd = Workdir::new();
    let run = wd
        .rlx(["export", &fx("tiny/five.jsonl"), "-o", "out"])
        .run();
    run.expect_success().expect_stderr("shuffled with seed 42");
    let wd = Workdir::new();
    assert_eq!(
        at_u64(&export(&wd, &fx("tiny/five.jsonl"), &[]).json(), "seed"),
        42
    );
}

#[test]
fn every_input_example_is_written_exactly_once_in_every_format() {
    for policy in POLICIES {
        let input = fixture(&format!("{policy}/examples.jsonl"));
        let wanted = canonical_sorted(&input_examples(&input));
        let wd = Workdir::new();
        let run = wd
            .rlx([
                "export",
                &input.display().to_string(),
                "-o",
                "out",
                "--format",
                "all",
            ])
            .args(["--validation-ratio", "0.1", "--json"])
            .run();
        run.expect_success();
        let r = run.json();
        assert_eq!(split_counts(&r), (28, 8, 4, 40), "{policy}{}", run.report());

        let splits = ["train", "eval", "validation"];
        let mut jsonl = Vec::new();
        for s in splits {
            jsonl.extend(read_jsonl(&wd.path(&format!("out/jsonl/{s}.jsonl"))));
        }
        assert_eq!(
            canonical_sorted(&jsonl),
            wanted,
            "{policy}: jsonl lost or changed examples"
        );

        // Hugging Face renames nextState and has a `test` split; the values are the same.
        let mut hf = Vec::new();
        for s in ["train", "test", "validation"] {
            for mut v in read_jsonl(&wd.path(&format!("out/huggingface/{s}.json"))) {
                let obj = v.as_object_mut().expect("an HF row is an object");
                if let Some(next) = obj.remove("next_state") {
                    obj.insert("nextState".into(), next);
                }
                hf.push(v);
            }
        }
        assert_eq!(
            canonical_sorted(&hf),
            wanted,
            "{policy}: huggingface lost or changed examples"
        );

        // The prompt formats and CSV: one record per example in each split.
        for (format, ext) in [("openai", "jsonl"), ("anthropic", "jsonl")] {
            for (s, n) in [("train", 28), ("eval", 8), ("validation", 4)] {
                let lines = read_jsonl(&wd.path(&format!("out/{format}/{s}.{ext}")));
                assert_eq!(lines.len(), n, "{policy}: {format}/{s}.{ext}");
            }
        }
        let combined = wd.read_string("out/csv/combined.csv");
        for (s, n) in [("train", 28), ("eval", 8), ("validation", 4)] {
            let rows = csv_split_rows(&combined, s);
            assert_eq!(rows, n, "{policy}: combined.csv rows of {s}");
        }
        for f in r["formats"].as_array().expect("formats is an array") {
            let what = format!("{policy}: {f}");
            assert_eq!(at_u64(f, "trainExamples"), 28, "{what}");
            assert_eq!(at_u64(f, "evalExamples"), 8, "{what}");
            assert_eq!(at_u64(f, "validationExamples"), 4, "{what}");
        }
    }
}

/// Records of `combined.csv` whose first cell is `split` (cells may hold quoted newlines).
fn csv_split_rows(text: &str, split: &str) -> usize {
    let mut count = 0;
    let mut in_quotes = false;
    let mut record_start = true;
    let mut first_cell = String::new();
    let mut in_first = true;
    let mut header = true;
    for c in text.chars() {
        if record_start {
            first_cell.clear();
            in_first = true;
            record_start = false;
        }
        match c {
            '"' => in_quotes = !in_quotes,
            ',' if !in_quotes => in_first = false,
            '\n' if !in_quotes => {
                if !header && first_cell.trim_end_matches('\r') == split {
                    count += 1;
                }
                header = false;
                record_start = true;
                continue;
            }
            _ => {}
        }
        if in_first && c != '"' {
            first_cell.push(c);
        }
    }
    count
}

#[test]
fn numbers_and_unknown_keys_are_kept_as_written() {
    let wd = Workdir::new();
    let input = fixture("shapes/extra-keys.jsonl");
    let run = export(
        &wd,
        &input.display().to_string(),
        &["--no-shuffle", "--split-ratio", "0"],
    );
    run.expect_success();
    let out = wd.read_string("out/train.jsonl");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    for (i, line) in lines.iter().enumerate() {
        for text in [
            r#""small":0.1,"#,
            r#""count":7,"#,
            r#""tiny":1e-7,"#,
            r#""huge":12345678901234567890,"#,
            r#""one":1.0,"#,
            r#""big":1.5E+21}"#,
        ] {
            assert!(
                line.contains(text),
                "line {}: {text} was not kept: {line}",
                i + 1
            );
        }
        let v: Value = serde_json::from_str(line).expect("output line is JSON");
        assert_eq!(
            v["episodeId"],
            Value::String(format!("ep-000{}", i + 1)),
            "line {}: the unknown key episodeId was lost: {line}",
            i + 1
        );
        assert!(
            v.get("nextState").is_some(),
            "line {}: nextState was lost",
            i + 1
        );
    }
}

#[test]
fn crlf_bom_and_gzip_inputs_read_like_plain_json_lines() {
    let crlf_text = fs::read_to_string(fixture("shapes/crlf.jsonl")).unwrap();
    let crlf: Vec<Value> = crlf_text
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_str(l).expect("a crlf fixture line is JSON"))
        .collect();
    let bom_text = fs::read(fixture("shapes/bom.jsonl")).unwrap();
    assert_eq!(
        &bom_text[..3],
        b"\xEF\xBB\xBF",
        "the bom fixture starts with a BOM"
    );
    let bom: Vec<Value> = std::str::from_utf8(&bom_text[3..])
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let gz: Vec<Value> = String::from_utf8(gunzip(
        &fs::read(fixture("shapes/gzipped.jsonl.gz")).unwrap(),
    ))
    .unwrap()
    .lines()
    .map(|l| serde_json::from_str(l).unwrap())
    .collect();
    for (file, wanted) in [
        ("crlf.jsonl", crlf),
        ("bom.jsonl", bom),
        ("gzipped.jsonl.gz", gz),
    ] {
        let wd = Workdir::new();
        let run = export(&wd, &fx(&format!("shapes/{file}")), &["--no-shuffle"]);
        run.expect_success();
        let r = run.json();
        let n = wanted.len() as u64;
        assert_eq!(
            at_u64(&r, "stats.inputExamples"),
            n,
            "{file}{}",
            run.report()
        );
        assert_eq!(at_u64(&r, "stats.totalExamples"), n, "{file}");
        let mut bytes = wd.read("out/train.jsonl");
        bytes.extend(wd.read("out/eval.jsonl"));
        assert!(!bytes.contains(&b'\r'), "{file}: a CR reached the output");
        assert!(
            !bytes.starts_with(b"\xEF\xBB\xBF"),
            "{file}: the BOM reached the output"
        );
        let mut out = read_jsonl(&wd.path("out/train.jsonl"));
        out.extend(read_jsonl(&wd.path("out/eval.jsonl")));
        let out: Vec<String> = out.iter().map(canonical).collect();
        let wanted: Vec<String> = wanted.iter().map(canonical).collect();
        assert_eq!(
            out, wanted,
            "{file}: examples differ from the input's, in order"
        );
    }
}

#[test]
fn stdin_reads_like_the_file_and_errors_name_stdin() {
    let wd = Workdir::new();
    let five = fs::read(fixture("tiny/five.jsonl")).unwrap();
    wd.rlx([
        "export",
        &fx("tiny/five.jsonl"),
        "-o",
        "from-file",
        "--format",
        "all",
    ])
    .run()
    .expect_success();
    wd.rlx(["export", "-", "-o", "from-stdin", "--format", "all"])
        .stdin(five)
        .run()
        .expect_success();
    assert!(
        read_tree(&wd.path("from-file")) == read_tree(&wd.path("from-stdin")),
        "stdin and file input gave different exports"
    );

    let gz = fs::read(fixture("shapes/gzipped.jsonl.gz")).unwrap();
    let run = wd
        .rlx(["export", "-", "-o", "gz", "--json"])
        .stdin(gz)
        .run();
    run.expect_success();
    assert_eq!(at_u64(&run.json(), "stats.totalExamples"), 10);

    let bad = fs::read(fixture("bad/reward-null.jsonl")).unwrap();
    let run = wd.rlx(["export", "-", "-o", "bad"]).stdin(bad).run();
    run.expect_code(1);
    let line = run.error_line();
    assert!(
        line.starts_with("error: <stdin>:2: \"reward\" is null"),
        "{line}"
    );
}

#[test]
fn pre_split_input_keeps_its_split_unless_a_ratio_is_given() {
    let path = fixture("extraction/dataset-object.json");
    let dataset: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    let train: Vec<Value> = dataset["train"].as_array().unwrap().clone();
    let eval: Vec<Value> = dataset["eval"].as_array().unwrap().clone();

    let wd = Workdir::new();
    let run = export(&wd, &path.display().to_string(), &[]);
    run.expect_success();
    assert_eq!(run.json()["stats"]["keptInputSplit"], Value::Bool(true));
    assert_eq!(
        canonical_sorted(&read_jsonl(&wd.path("out/train.jsonl"))),
        canonical_sorted(&train),
        "train.jsonl is not the input's train array"
    );
    assert_eq!(
        canonical_sorted(&read_jsonl(&wd.path("out/eval.jsonl"))),
        canonical_sorted(&eval),
        "eval.jsonl is not the input's eval array"
    );
    let run = wd
        .rlx(["export", &path.display().to_string(), "-o", "human"])
        .run();
    run.expect_success().expect_stderr("the input's own split");

    let wd = Workdir::new();
    let run = export(&wd, &path.display().to_string(), &["--split-ratio", "0.5"]);
    run.expect_success();
    let r = run.json();
    assert_eq!(r["stats"]["keptInputSplit"], Value::Bool(false));
    assert_eq!(split_counts(&r), (15, 15, 0, 30));
    let mut all = read_jsonl(&wd.path("out/train.jsonl"));
    all.extend(read_jsonl(&wd.path("out/eval.jsonl")));
    let mut both = train.clone();
    both.extend(eval.clone());
    assert_eq!(canonical_sorted(&all), canonical_sorted(&both));

    // A dataset with its own validation array keeps it too.
    let path = fixture("shapes/dataset-with-validation.json");
    let dataset: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    let wd = Workdir::new();
    let run = export(&wd, &path.display().to_string(), &[]);
    run.expect_success();
    assert_eq!(split_counts(&run.json()), (6, 2, 2, 10), "{}", run.report());
    for (split, file) in [
        ("train", "train"),
        ("eval", "eval"),
        ("validation", "validation"),
    ] {
        assert_eq!(
            canonical_sorted(&read_jsonl(&wd.path(&format!("out/{file}.jsonl")))),
            canonical_sorted(dataset[split].as_array().unwrap()),
            "{file}.jsonl is not the input's {split} array"
        );
    }
}

#[test]
fn no_shuffle_keeps_the_input_order() {
    let input = fixture("retrieval/examples.jsonl");
    let lines: Vec<String> = input_examples(&input).iter().map(canonical).collect();
    let wd = Workdir::new();
    let run = export(&wd, &input.display().to_string(), &["--no-shuffle"]);
    run.expect_success();
    assert_eq!(run.json()["stats"]["shuffled"], Value::Bool(false));
    let train: Vec<String> = read_jsonl(&wd.path("out/train.jsonl"))
        .iter()
        .map(canonical)
        .collect();
    let eval: Vec<String> = read_jsonl(&wd.path("out/eval.jsonl"))
        .iter()
        .map(canonical)
        .collect();
    assert_eq!(train, lines[..32], "train.jsonl is not lines 1-32 in order");
    assert_eq!(eval, lines[32..], "eval.jsonl is not lines 33-40 in order");
}

#[test]
fn existing_non_empty_output_is_refused_and_left_alone() {
    let wd = Workdir::new();
    wd.write("out/keep.txt", "precious");
    let before = read_tree(&wd.path("out"));
    let run = export(&wd, &fx("tiny/five.jsonl"), &[]);
    run.expect_code(1);
    assert!(run
        .error_line()
        .contains("out exists and is not empty; pass --force"));
    assert_eq!(run.json()["success"], Value::Bool(false));
    assert!(
        read_tree(&wd.path("out")) == before,
        "a refused export touched the directory"
    );
    assert_eq!(
        wd.entries(),
        ["out"],
        "a refused export left something beside it"
    );
}

#[test]
fn existing_empty_output_directory_is_filled() {
    let wd = Workdir::new();
    fs::create_dir(wd.path("out")).unwrap();
    export(&wd, &fx("tiny/five.jsonl"), &[]).expect_success();
    assert_eq!(
        list_dir(&wd.path("out")),
        ["README.md", "eval.jsonl", "train.jsonl"]
    );
    assert_eq!(wd.entries(), ["out"]);
}

#[test]
fn failed_forced_export_keeps_the_old_directory() {
    let wd = Workdir::new();
    wd.write("out/keep.txt", "precious");
    wd.write("out/sub/deep.txt", "also");
    let before = read_tree(&wd.path("out"));
    let run = export(&wd, &fx("bad/reward-null.jsonl"), &["--force"]);
    run.expect_code(1);
    assert!(
        read_tree(&wd.path("out")) == before,
        "a failed --force export changed the old directory"
    );
    assert_eq!(
        wd.entries(),
        ["out"],
        "a failed --force export left temporary directories"
    );
}

#[test]
fn forced_export_replaces_the_old_directory() {
    let wd = Workdir::new();
    wd.write("out/old.txt", "old");
    let run = export(&wd, &fx("tiny/five.jsonl"), &["--force"]);
    run.expect_success();
    assert_eq!(
        list_dir(&wd.path("out")),
        ["README.md", "eval.jsonl", "train.jsonl"]
    );
    assert_eq!(
        wd.entries(),
        ["out"],
        "a --force export left temporary directories"
    );
}

#[test]
fn missing_parents_are_created_and_removed_again_on_failure() {
    let wd = Workdir::new();
    let run = wd
        .rlx(["export", &fx("tiny/five.jsonl"), "-o", "a/b/out", "--json"])
        .run();
    run.expect_success();
    assert!(wd.path("a/b/out/train.jsonl").exists());
    let run = wd
        .rlx(["export", &fx("bad/reward-null.jsonl"), "-o", "x/y/out"])
        .run();
    run.expect_code(1);
    assert_eq!(
        wd.entries(),
        ["a"],
        "a failed export left the parents it created"
    );
}

#[test]
fn json_result_describes_the_export() {
    let wd = Workdir::new();
    let run = export(&wd, &fx("extraction/examples.jsonl"), &["--seed", "7"]);
    run.expect_success();
    let r = run.json();
    assert_eq!(r["success"], Value::Bool(true));
    assert!(
        r.get("error").is_none(),
        "a successful result has no error: {r:#}"
    );
    assert_eq!(at_str(&r, "format"), "jsonl");
    assert!(!at_str(&r, "formatReason").is_empty());
    assert_eq!(at_str(&r, "output"), "out");
    assert_eq!(at_u64(&r, "seed"), 7);
    assert_eq!(at_u64(&r, "stats.seed"), 7);
    assert_eq!(at_str(&r, "stats.exportedAt"), EPOCH_ISO);
    assert_eq!(at_str(&r, "stats.policyType"), "extraction");
    assert!(r["warnings"].is_array(), "{r:#}");
    assert!(r["warningCounts"].is_object(), "{r:#}");

    let files: Vec<&str> = r["files"]
        .as_array()
        .expect("files is an array")
        .iter()
        .map(|f| f.as_str().expect("a file is a string"))
        .collect();
    assert_eq!(
        files,
        ["out/README.md", "out/eval.jsonl", "out/train.jsonl"]
    );
    let sizes = r["stats"]["fileSizes"]
        .as_object()
        .expect("fileSizes is an object");
    assert_eq!(sizes.keys().map(String::as_str).collect::<Vec<_>>(), files);
    for f in files {
        let on_disk = fs::metadata(wd.path(f)).unwrap().len();
        assert_eq!(sizes[f].as_u64(), Some(on_disk), "fileSizes of {f}");
    }
    assert_eq!(
        at_u64(&r, "stats.inputExamples"),
        at_u64(&r, "stats.totalExamples")
            + at_u64(&r, "stats.rejectedExamples")
            + at_u64(&r, "stats.overLimitExamples")
            + at_u64(&r, "stats.unselectedExamples")
    );
    assert!(
        run.stderr.is_empty(),
        "--json prints no summary on stderr{}",
        run.report()
    );
}

#[test]
fn json_result_on_failure_has_success_false_and_the_error() {
    let wd = Workdir::new();
    let input = fx("bad/reward-is-string.jsonl");
    let run = export(&wd, &input, &[]);
    run.expect_code(1);
    let r = run.json();
    assert_eq!(r["success"], Value::Bool(false));
    let error = at_str(&r, "error");
    assert!(error.starts_with(&format!("{input}:2: ")), "{error}");
    assert_eq!(r["files"], serde_json::json!([]));
    assert!(!wd.path("out").exists());
}

#[test]
fn usage_errors_exit_2_and_say_what_is_wrong() {
    let five = fx("tiny/five.jsonl");
    let cases: [(&[&str], &str); 5] = [
        (&["--split-ratio", "1"], "1 is not below 1"),
        (&["--split-ratio", "NaN"], "is not a ratio"),
        (
            &["--split-ratio", "0.6", "--validation-ratio", "0.5"],
            "--split-ratio 0.6 plus --validation-ratio 0.5 is not below 1",
        ),
        (
            &["--format", "arrow"],
            "invalid value 'arrow' for '--format <FORMAT>'",
        ),
        (
            &["--format", "openai", "--model", "gpt-9"],
            "--model \"gpt-9\" is not a model",
        ),
    ];
    for (extra, message) in cases {
        let wd = Workdir::new();
        let run = wd.rlx(["export", &five, "-o", "out"]).args(extra).run();
        run.expect_code(2);
        assert!(
            run.error_line().contains(message),
            "{extra:?}{}",
            run.report()
        );
        assert!(
            wd.entries().is_empty(),
            "{extra:?}: a usage error wrote {:?}",
            wd.entries()
        );
    }
    // Rules between flags are found after parsing; --json still reports them.
    let wd = Workdir::new();
    let run = export(
        &wd,
        &five,
        &["--split-ratio", "0.6", "--validation-ratio", "0.5"],
    );
    run.expect_code(2);
    let r = run.json();
    assert_eq!(r["success"], Value::Bool(false));
    assert!(at_str(&r, "error").contains("--validation-ratio"));
}

#[test]
fn exported_at_is_now_without_source_date_epoch() {
    let wd = Workdir::new();
    let run = wd
        .rlx(["export", &fx("tiny/five.jsonl"), "-o", "out", "--json"])
        .env_remove("SOURCE_DATE_EPOCH")
        .run();
    run.expect_success();
    let r = run.json();
    let at = at_str(&r, "stats.exportedAt");
    let year: u32 = at[..4].parse().unwrap_or(0);
    assert!(
        year >= 2025 && at.ends_with('Z') && at.len() == 24,
        "exportedAt {at}"
    );

    let wd = Workdir::new();
    let run = wd
        .rlx(["export", &fx("tiny/five.jsonl"), "-o", "out"])
        .env("SOURCE_DATE_EPOCH", "yesterday")
        .run();
    run.expect_code(1);
    assert!(run
        .error_line()
        .contains("SOURCE_DATE_EPOCH is \"yesterday\""));
    assert!(wd.entries().is_empty(), "{:?}", wd.entries());
}

#[test]
fn interrupt_removes_the_staging_directory_and_keeps_the_old_one() {
    for signal in ["-INT", "-TERM"] {
        let wd = Workdir::new();
        let status = HeldExport::start(&wd, &[]).kill(signal);
        assert_eq!(status.code(), Some(130), "kill {signal}");
        assert_eq!(
            wd.entries(),
            ["tmp"],
            "kill {signal} left a staging directory or a lock"
        );

        let wd = Workdir::new();
        wd.write("out/old.txt", "old");
        let status = HeldExport::start(&wd, &["--force"]).kill(signal);
        assert_eq!(status.code(), Some(130), "kill {signal} --force");
        assert_eq!(wd.entries(), ["out", "tmp"], "kill {signal} --force");
        assert_eq!(list_dir(&wd.path("out")), ["old.txt"]);
    }
}

#[test]
fn quiet_prints_nothing_but_the_error() {
    let wd = Workdir::new();
    let run = wd
        .rlx(["export", &fx("tiny/five.jsonl"), "-o", "out", "--quiet"])
        .run();
    run.expect_success();
    assert!(
        run.stderr.is_empty() && run.stdout.is_empty(),
        "{}",
        run.report()
    );
    let run = wd
        .rlx(["export", &fx("bad/reward-null.jsonl"), "-o", "bad", "-q"])
        .run();
    run.expect_code(1);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.report());
    run.error_line();
}
