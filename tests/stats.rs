//! `rlx stats` and the export's distributions, checked as a user meets them: the
//! numbers against numpy and pandas (`tests/consumers/check_stats.py`) on every policy's
//! fixtures and a generated log with awkward rewards; the report against its golden file,
//! and under tmux as a terminal shows it; the `--plots` SVGs as XML with their bars,
//! rendered by headless Chromium (screenshots in `target/test-output/plots/`).

use std::fs;
use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};

use crate::consumers::python;
use crate::util::*;

const POLICIES: [&str; 3] = ["extraction", "retrieval", "consolidation"];

/// Run `check_stats.py ARGS`; its failure fails the test with what it printed.
#[track_caller]
fn check_stats(args: &[&str], what: &str) {
    let out = Command::new(python())
        .arg(repo().join("tests/consumers/check_stats.py"))
        .args(args)
        .output()
        .expect("running check_stats.py");
    assert!(
        out.status.success(),
        "check_stats.py {what}: {}\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `rlx stats --json ARGS` into `stats.json` of the workdir.
fn stats_json(wd: &Workdir, args: &[&str]) -> String {
    let run = wd.rlx(["stats", "--json"]).args(args).run();
    run.expect_success();
    let path = wd.write("stats.json", &run.stdout);
    path.display().to_string()
}

/// 3,000 examples of `policy` built on its fixtures: rewards negative, zero, integers,
/// tiny, repeated and beyond [-1, 1]; the action key cycling through its values (and one
/// the policy does not document); sessions of uneven size, some examples without one.
fn generated_log(policy: &str) -> String {
    let base = read_jsonl(&fixture(&format!("{policy}/examples.jsonl")));
    let (key, values): (&str, Vec<Value>) = match policy {
        "extraction" => (
            "decision",
            ["store", "skip", "defer", "hold"].map(Value::from).to_vec(),
        ),
        "retrieval" => ("shouldRetrieve", vec![json!(true), json!(false)]),
        _ => (
            "action",
            ["merge", "dedupe", "archive", "abstract", "keep"]
                .map(Value::from)
                .to_vec(),
        ),
    };
    let rewards = [
        -1.0,
        0.0,
        1.0,
        0.5,
        -0.25,
        1e-7,
        2.5,
        0.123456789,
        0.5,
        -0.999,
    ];
    let mut out = String::new();
    for i in 0..3000usize {
        let mut e = base[i % base.len()].clone();
        let reward = rewards[i % rewards.len()] * if i % 7 == 0 { 0.3 } else { 1.0 };
        e["reward"] = json!(reward);
        e["action"][key] = values[(i * i + i / 3) % values.len()].clone();
        if i % 50 == 0 {
            e.as_object_mut().unwrap().remove("metadata");
            // Examples without a session are groups of their own; keep them distinct.
            e["state"]["rlxTestIndex"] = json!(i);
        } else {
            e["metadata"] = json!({"sessionId": format!("s{}", (i * 31) % 97 % (1 + i % 40))});
        }
        out.push_str(&e.to_string());
        out.push('\n');
    }
    out
}

#[test]
fn stats_match_numpy_and_pandas_on_every_policy_and_input_shape() {
    for policy in POLICIES {
        for file in ["examples.jsonl", "array.json", "dataset-object.json"] {
            let wd = Workdir::new();
            let input = fx(&format!("{policy}/{file}"));
            let by = "metadata.sessionId";
            let stats = stats_json(&wd, &[&input, "--group-by", by]);
            let what = format!("{policy}/{file}");
            check_stats(
                &[
                    "stats",
                    &input,
                    &stats,
                    "--policy",
                    policy,
                    "--group-by",
                    by,
                ],
                &what,
            );
        }
    }
}

#[test]
fn stats_match_numpy_on_a_generated_log_with_tokens_and_bins() {
    for policy in POLICIES {
        let wd = Workdir::new();
        let input = wd.write("log.jsonl.gz", gzip(generated_log(policy).as_bytes()));
        let input = input.display().to_string();
        let by = "metadata.sessionId";
        let stats = stats_json(
            &wd,
            &[
                &input,
                "--group-by",
                by,
                "--format",
                "openai",
                "--bins",
                "37",
            ],
        );
        wd.rlx([
            "export",
            &input,
            "-o",
            "oa",
            "--format",
            "openai",
            "--split-ratio",
            "0",
            "-q",
        ])
        .run()
        .expect_success();
        let oa = wd.path("oa").display().to_string();
        let args = [
            "stats",
            &input,
            &stats,
            "--policy",
            policy,
            "--group-by",
            by,
            "--bins",
            "37",
            "--openai-dir",
            &oa,
        ];
        check_stats(&args, &format!("generated {policy}"));
        // The same numbers whatever the thread count.
        let one = wd
            .rlx([
                "stats",
                "--json",
                "--threads",
                "1",
                &input,
                "--group-by",
                by,
            ])
            .run();
        let many = wd
            .rlx([
                "stats",
                "--json",
                "--threads",
                "7",
                &input,
                "--group-by",
                by,
            ])
            .run();
        assert_eq!(
            one.stdout, many.stdout,
            "{policy}: stats differ by --threads"
        );
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn invalid_examples_are_named_and_the_statistics_are_of_the_valid_ones() {
    let wd = Workdir::new();
    let good = fs::read_to_string(fixture("extraction/examples.jsonl")).unwrap();
    let input = wd.write(
        "mixed.jsonl",
        format!("{good}{{\"state\":{{}},\"reward\":1}}\n"),
    );
    let run = wd.rlx(["stats", "--json"]).arg(&input).run();
    run.expect_code(1);
    let v = run.json();
    let lines = good.lines().count() as u64;
    assert_eq!(at_u64(&v, "validExamples"), lines);
    assert_eq!(at_u64(&v, "rejectedExamples"), 1);
    assert_eq!(v["splits"][0]["examples"], json!(lines));
    let error = at_str(&v, "error");
    assert!(
        error.contains("mixed.jsonl") && error.contains("1 invalid"),
        "{error}"
    );
    let warning = v["warnings"][0].as_str().unwrap();
    assert!(
        warning.contains(&format!("mixed.jsonl:{}", lines + 1)),
        "{warning}"
    );
    // The human report still prints, on stdout; the warnings and the error on stderr.
    let run = wd.rlx(["stats"]).arg(&input).run();
    run.expect_code(1);
    assert!(
        String::from_utf8_lossy(&run.stdout).contains("reward    min"),
        "{}",
        run.report()
    );
    run.expect_stderr(&format!("mixed.jsonl:{}", lines + 1));
    // Flags are checked before any input is read.
    wd.rlx(["stats", "missing.jsonl", "--bins", "0"])
        .run()
        .expect_code(2);
    wd.rlx(["stats", "missing.jsonl", "--template", "x.j2"])
        .run()
        .expect_code(2)
        .expect_stderr("x.j2");
}

/// The report of the retrieval dataset object with groups, as a script sees it (ASCII).
fn report_args() -> Vec<String> {
    vec![
        "stats".into(),
        fx("retrieval/dataset-object.json"),
        "--group-by".into(),
        "metadata.sessionId".into(),
        "--bins".into(),
        "10".into(),
    ]
}

/// The report with the fixture's absolute path replaced, as the golden file holds it.
fn portable(text: &str) -> String {
    text.replace(
        &fx("retrieval/dataset-object.json"),
        "fixtures/retrieval/dataset-object.json",
    )
}

#[track_caller]
fn compare_golden(name: &str, actual: &str) {
    let path = repo().join("tests/golden/stats").join(name);
    if std::env::var_os("RLX_BLESS").is_some_and(|v| v == "1") {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, actual).unwrap();
    }
    let want = fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (RLX_BLESS=1 cargo test writes it)", path.display()));
    assert_eq!(
        actual,
        want,
        "{} differs (RLX_BLESS=1 cargo test rewrites it)",
        path.display()
    );
}

#[test]
fn the_report_matches_its_golden_file_and_fits_eighty_columns() {
    let wd = Workdir::new();
    let run = wd.rlx(report_args()).run();
    run.expect_success();
    let text = portable(&String::from_utf8(run.stdout.clone()).unwrap());
    assert!(text.is_ascii(), "not a terminal: plain ASCII\n{text}");
    for line in text.lines() {
        assert!(line.chars().count() <= 80, "over 80 columns: {line:?}");
    }
    compare_golden("retrieval-groups.txt", &text);
}

/// `report_args` with the fixture as a path relative to the repository.
const TMUX_ARGS: [&str; 6] = [
    "stats",
    "fixtures/retrieval/dataset-object.json",
    "--group-by",
    "metadata.sessionId",
    "--bins",
    "10",
];

/// Run `rlx` in a detached 80-column tmux session, in the repository (so paths are
/// short and as the golden file has them), and return the screen it left.
fn in_tmux(env: &str, args: &[&str]) -> String {
    let session = format!("rlx-test-{}", std::process::id());
    let session = format!("{session}-{}", env.len());
    let command = format!(
        "{env} {} {}; tmux wait-for -S {session}-done; sleep 30",
        env!("CARGO_BIN_EXE_rlx"),
        args.iter()
            .map(|a| format!("'{a}'"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let tmux = |args: &[&str]| {
        let out = Command::new("tmux")
            .args(args)
            .current_dir(repo())
            .env("TERM", "xterm-256color")
            .env_remove("NO_COLOR")
            .output()
            .expect("tmux is installed (.ci/run installs it)");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    tmux(&[
        "-L",
        &session,
        "new-session",
        "-d",
        "-s",
        &session,
        "-x",
        "80",
        "-y",
        "70",
        "-c",
        &repo().display().to_string(),
        "sh",
        "-c",
        &command,
    ]);
    tmux(&["-L", &session, "wait-for", &format!("{session}-done")]);
    let screen = tmux(&["-L", &session, "capture-pane", "-p", "-t", &session]);
    tmux(&["-L", &session, "kill-server"]);
    screen
}

#[test]
fn on_a_terminal_the_histogram_is_drawn_in_unicode_blocks_within_eighty_columns() {
    let args = TMUX_ARGS;
    let screen = in_tmux("env -u NO_COLOR", &args);
    let screen = screen.trim_end();
    assert!(
        screen.contains('█'),
        "a terminal gets block bars:\n{screen}"
    );
    for line in screen.lines() {
        assert!(line.chars().count() <= 80, "over 80 columns: {line:?}");
    }
    // The same report as the golden one, but for the bars.
    let golden =
        fs::read_to_string(repo().join("tests/golden/stats/retrieval-groups.txt")).unwrap();
    let lines: Vec<&str> = screen.lines().map(str::trim_end).collect();
    let golden: Vec<&str> = golden.lines().map(str::trim_end).collect();
    assert_eq!(lines.len(), golden.len(), "{screen}");
    for (got, want) in lines.iter().zip(&golden) {
        let bar = |c: char| "#▏▎▍▌▋▊▉█".contains(c);
        let strip = |s: &str| {
            s.chars()
                .filter(|c| !bar(*c) && *c != ' ')
                .collect::<String>()
        };
        assert_eq!(strip(got), strip(want), "{got:?} against {want:?}");
    }
    compare_golden("retrieval-groups-terminal.txt", &format!("{screen}\n"));
    // NO_COLOR, even on a terminal: plain ASCII.
    let plain = in_tmux("NO_COLOR=1", &args);
    assert!(plain.trim_end().is_ascii(), "{plain}");
    assert!(plain.contains('#'), "{plain}");
}

#[test]
fn the_export_reports_each_written_splits_rewards_as_numpy_does() {
    let wd = Workdir::new();
    let run = wd
        .rlx([
            "export",
            &fx("extraction/pairs.jsonl"),
            "-o",
            "out",
            "--format",
            "jsonl",
        ])
        .args(["--validation-ratio", "0.1", "--json"])
        .run();
    run.expect_success();
    let result = wd.write("result.json", &run.stdout).display().to_string();
    let out = wd.path("out").display().to_string();
    check_stats(&["export", &out, &result], "export rewards");
    // The human summary: one line per written split, quartiles and a sparkline.
    let run = wd
        .rlx([
            "export",
            &fx("extraction/pairs.jsonl"),
            "-o",
            "again",
            "--format",
            "jsonl",
        ])
        .run();
    let summary = run.stderr.clone();
    let lines: Vec<&str> = summary
        .lines()
        .filter(|l| l.starts_with("  reward:"))
        .collect();
    assert_eq!(lines.len(), 2, "{summary}");
    assert!(
        lines[0].contains("train") && lines[0].contains("p50 "),
        "{summary}"
    );
    assert!(
        lines[1].contains("eval") && lines[1].ends_with(']'),
        "{summary}"
    );
}

#[test]
fn plots_are_svg_with_their_bars_shown_in_the_cards_and_rendered_by_chromium() {
    let shots = repo().join("target/test-output/plots");
    fs::create_dir_all(&shots).unwrap();
    let wd = Workdir::new();
    let input = fx("consolidation/examples.jsonl");
    let actions = {
        let stats = stats_json(&wd, &[&input]);
        let v: Value = serde_json::from_str(&fs::read_to_string(stats).unwrap()).unwrap();
        v["splits"][0]["actions"]
            .as_array()
            .unwrap()
            .len()
            .to_string()
    };
    for (format, threads) in [("huggingface", "1"), ("parquet", "3")] {
        let out = format!("out-{format}");
        wd.rlx(["export", &input, "-o", &out, "--format", format, "--plots"])
            .args(["--validation-ratio", "0.1", "--threads", threads, "-q"])
            .run()
            .expect_success();
        let card = wd.read_string(&format!("{out}/README.md"));
        for name in [
            "reward-train",
            "reward-validation",
            "reward-eval",
            "action-counts",
        ] {
            assert!(
                card.contains(&format!("](plots/{name}.svg)")),
                "{format} card:\n{card}"
            );
        }
    }
    // Deterministic bytes, whatever the format or thread count.
    assert_eq!(
        read_tree(&wd.path("out-huggingface/plots")),
        read_tree(&wd.path("out-parquet/plots"))
    );
    let plots = wd.path("out-huggingface/plots").display().to_string();
    let shots_arg = shots.display().to_string();
    check_stats(
        &[
            "plots",
            &plots,
            "--splits",
            "train,validation,eval",
            "--actions",
            &actions,
            "--render-dir",
            &shots_arg,
        ],
        "plots",
    );
    // --format all: one plots/ beside the formats, linked from each card as ../plots/.
    wd.rlx([
        "export", &input, "-o", "all", "--format", "all", "--plots", "-q",
    ])
    .run()
    .expect_success();
    assert!(Path::new(&wd.path("all/plots/reward-train.svg")).is_file());
    let card = wd.read_string("all/huggingface/README.md");
    assert!(card.contains("](../plots/reward-train.svg)"), "{card}");
}
