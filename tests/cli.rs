//! The command line as a user meets it: `--help` of each command names every flag with its
//! default, and the scripts in `completions/` are what `rlx completions <shell>` prints
//! now (`RLX_BLESS=1 cargo test` rewrites them).

use std::collections::BTreeMap;
use std::fs;

use crate::util::*;

/// The help of `rlx ARGS --help`, split into one block per option (keyed by its long
/// name), each with its whitespace collapsed so wrapping does not matter.
fn option_blocks(args: &[&str]) -> (String, BTreeMap<String, String>) {
    let wd = Workdir::new();
    let run = wd.rlx(args).arg("--help").run();
    run.expect_success();
    let text = String::from_utf8(run.stdout.clone()).expect("help is UTF-8");
    let mut blocks: BTreeMap<String, String> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let t = line.trim_start();
        let indent = line.len() - t.len();
        if t.starts_with('-') && indent <= 6 {
            let long = t
                .split([' ', ','])
                .find(|w| w.starts_with("--"))
                .map(|w| w.trim_end_matches(|c: char| !c.is_alphanumeric() && c != '-'));
            current = long.map(str::to_string);
        } else if !line.is_empty() && !line.starts_with(' ') {
            current = None;
        }
        if let Some(c) = &current {
            let block = blocks.entry(c.clone()).or_default();
            block.push(' ');
            block.push_str(t);
        }
    }
    for b in blocks.values_mut() {
        *b = b.split_whitespace().collect::<Vec<_>>().join(" ");
    }
    (text, blocks)
}

#[test]
fn top_level_help_lists_every_command() {
    let (text, blocks) = option_blocks(&[]);
    for command in ["export", "validate", "stats", "template", "completions"] {
        assert!(
            text.lines().any(|l| l.trim_start().starts_with(command)),
            "rlx --help does not list {command}:\n{text}"
        );
    }
    assert!(
        blocks.contains_key("--version") && blocks.contains_key("--help"),
        "{text}"
    );
}

#[test]
fn export_help_names_every_flag_and_its_default() {
    let (text, blocks) = option_blocks(&["export"]);
    // (flag, what its help must say: defaults and possible values)
    let flags: [(&str, &[&str]); 37] = [
        ("--output", &["-o, --output <OUTPUT>"]),
        (
            "--format",
            &[
                "-f, --format <FORMAT>",
                "[default: inferred from the output directory's name, else jsonl]",
                "all",
            ],
        ),
        ("--seed", &["[default: 42]"]),
        ("--no-shuffle", &[]),
        ("--split-ratio", &["[default: 0.2]"]),
        ("--validation-ratio", &[]),
        ("--max-examples", &[]),
        ("--no-metadata", &[]),
        ("--compress", &[]),
        ("--force", &[]),
        ("--skip-invalid", &["rejected.jsonl"]),
        (
            "--model",
            &["[default: gpt-4o-mini-2024-07-18; with --objective dpo gpt-4.1-mini-2025-04-14]"],
        ),
        ("--objective", &["sft", "dpo", "kto", "reward"]),
        ("--min-reward", &["filteredExamples"]),
        ("--trl-style", &["[default: conversational]"]),
        ("--kto-threshold", &["[default: 0]"]),
        ("--pair-by", &["[default: original]"]),
        ("--pairs", &["[default: best-worst]"]),
        ("--max-pairs-per-group", &["[default: 8]"]),
        ("--min-margin", &["[default: 0.1]"]),
        ("--no-margin", &[]),
        ("--group-by", &["metadata.sessionId"]),
        ("--split-by", &["[default: ratio]", "SHA-256"]),
        ("--dedupe", &["duplicateExamples"]),
        ("--plots", &["DIR/plots/", "dataset"]),
        (
            "--anthropic-style",
            &["legacy", "bedrock", "[default: legacy]"],
        ),
        ("--no-formula-escape", &[]),
        ("--no-sync", &[]),
        ("--shard-size", &["[default: 500MB]"]),
        (
            "--compression",
            &["snappy", "zstd", "none", "[default: snappy]"],
        ),
        ("--no-cdc", &[]),
        ("--template", &["=== system ===", "rlx template show"]),
        ("--line-template", &["one JSON"]),
        ("--policy", &["extraction", "retrieval", "consolidation"]),
        ("--json", &[]),
        ("--quiet", &["-q, --quiet"]),
        ("--threads", &["[default: all cores]"]),
    ];
    for (flag, parts) in flags {
        let block = blocks
            .get(flag)
            .unwrap_or_else(|| panic!("rlx export --help does not document {flag}:\n{text}"));
        for part in parts {
            assert!(
                block.contains(part),
                "{flag}: expected {part:?} in {block:?}"
            );
        }
    }
    let known: Vec<&str> = flags
        .iter()
        .map(|(f, _)| *f)
        .chain(["--help", "--version"])
        .collect();
    for flag in blocks.keys() {
        assert!(
            known.contains(&flag.as_str()),
            "{flag} is new: add it to this test and the README"
        );
    }
}

/// Every flag of `flags` is in the help of `rlx COMMAND` with each of its parts.
fn expect_flags(command: &str, flags: &[(&str, &[&str])]) {
    let (text, blocks) = option_blocks(&[command]);
    for (flag, parts) in flags {
        let block = blocks
            .get(*flag)
            .unwrap_or_else(|| panic!("rlx {command} --help does not document {flag}:\n{text}"));
        for part in *parts {
            assert!(
                block.contains(part),
                "{flag}: expected {part:?} in {block:?}"
            );
        }
    }
}

#[test]
fn validate_help_names_every_flag_and_its_default() {
    expect_flags(
        "validate",
        &[
            ("--format", &["-f, --format <FORMAT>"]),
            ("--model", &["[default: gpt-4o-mini-2024-07-18]"]),
            ("--template", &["export --template"]),
            ("--check-file", &["openai", "bedrock"]),
            ("--policy", &["extraction", "retrieval", "consolidation"]),
            ("--json", &[]),
            ("--quiet", &["-q, --quiet"]),
            ("--threads", &["[default: all cores]"]),
        ],
    );
}

#[test]
fn stats_help_names_every_flag_and_its_default() {
    expect_flags(
        "stats",
        &[
            ("--group-by", &["metadata.sessionId"]),
            ("--format", &["-f, --format <FORMAT>", "token distribution"]),
            ("--model", &["[default: gpt-4o-mini-2024-07-18]"]),
            ("--template", &["export --template"]),
            ("--bins", &["[default: 20]"]),
            ("--policy", &["extraction", "retrieval", "consolidation"]),
            ("--json", &[]),
            ("--quiet", &["-q, --quiet"]),
            ("--threads", &["[default: all cores]"]),
        ],
    );
}

#[test]
fn help_shows_the_format_values_and_the_validation_default() {
    let (_, blocks) = option_blocks(&["export"]);
    assert!(
        blocks["--validation-ratio"].contains("[default: 0]"),
        "{:?}",
        blocks["--validation-ratio"]
    );
    for format in ["huggingface", "openai", "anthropic", "csv", "jsonl"] {
        assert!(
            blocks["--format"].contains(format),
            "--format help lacks {format}: {:?}",
            blocks["--format"]
        );
    }
    let (_, blocks) = option_blocks(&["validate"]);
    for format in ["huggingface", "openai", "anthropic", "csv", "jsonl"] {
        assert!(
            blocks["--format"].contains(format),
            "validate --format help lacks {format}"
        );
    }
}

const SHELLS: [(&str, &str); 4] = [
    ("bash", "rlx.bash"),
    ("zsh", "_rlx"),
    ("fish", "rlx.fish"),
    ("powershell", "_rlx.ps1"),
];

fn completions(shell: &str) -> Vec<u8> {
    let wd = Workdir::new();
    let run = wd.rlx(["completions", shell]).run();
    run.expect_success();
    assert!(
        !run.stdout.is_empty(),
        "rlx completions {shell} printed nothing"
    );
    run.stdout
}

#[test]
fn completions_directory_matches_what_rlx_prints() {
    let dir = repo().join("completions");
    let mut stale = Vec::new();
    for (shell, file) in SHELLS {
        let now = completions(shell);
        let path = dir.join(file);
        if std::env::var_os("RLX_BLESS").is_some_and(|v| v == "1") {
            fs::create_dir_all(&dir).unwrap();
            fs::write(&path, &now).unwrap();
            continue;
        }
        match fs::read(&path) {
            Ok(committed) if committed == now => {}
            Ok(_) => stale.push(format!(
                "{} differs from `rlx completions {shell}`",
                path.display()
            )),
            Err(e) => stale.push(format!("{}: {e}", path.display())),
        }
    }
    assert!(
        stale.is_empty(),
        "completions/ is stale (RLX_BLESS=1 cargo test regenerates it):\n{}",
        stale.join("\n")
    );
}

#[test]
fn completions_offer_every_subcommand_and_flag() {
    let bash = String::from_utf8(completions("bash")).unwrap();
    for word in [
        "export",
        "validate",
        "completions",
        "--split-ratio",
        "--anthropic-style",
        "--check-file",
    ] {
        assert!(bash.contains(word), "bash completions lack {word}");
    }
    assert!(
        bash.contains("legacy bedrock"),
        "bash completions lack the --anthropic-style values"
    );
}

#[test]
fn completions_offer_the_format_names() {
    let bash = String::from_utf8(completions("bash")).unwrap();
    let block = bash
        .split("--format)")
        .nth(1)
        .and_then(|s| s.split(";;").next())
        .expect("bash completions have a --format case");
    for format in ["huggingface", "openai", "anthropic", "csv", "jsonl", "all"] {
        assert!(
            block.contains(format),
            "--format completion lacks {format}: {block}"
        );
    }
}

#[test]
fn version_and_unknown_commands() {
    let wd = Workdir::new();
    let run = wd.rlx(["--version"]).run();
    run.expect_success();
    let out = String::from_utf8_lossy(&run.stdout);
    assert_eq!(out.trim(), format!("rlx {}", env!("CARGO_PKG_VERSION")));
    let run = wd.rlx(["frobnicate"]).run();
    run.expect_code(2).expect_stderr("frobnicate");
    let run = wd.rlx(["export"]).run();
    run.expect_code(2).expect_stderr("<INPUT>");
}

/// Run `rlx ARGS` with stdout a pipe whose reader has already exited; returns (exit
/// status, stderr).
fn run_into_closed_pipe(wd: &Workdir, args: &str) -> (String, String) {
    let run = wd
        .sh(&format!(
            "exec bash -c 'exec 3> >(true); wait $!; \"$RLX\" {args} >&3 2>err; echo $?'"
        ))
        .run();
    run.expect_success();
    let code = String::from_utf8_lossy(&run.stdout).trim().to_string();
    let err = fs::read_to_string(wd.path("err")).unwrap_or_default();
    (code, err)
}

#[test]
fn closed_stdout_is_not_an_error() {
    let wd = Workdir::new();
    let five = fx("tiny/five.jsonl");
    for args in [
        format!("export {five} -o out --json"),
        format!("validate {five} --json"),
        "export --help".to_string(),
    ] {
        let (code, err) = run_into_closed_pipe(&wd, &args);
        assert_eq!(code, "0", "rlx {args} into a closed pipe: {err}");
        assert!(!err.contains("panicked"), "rlx {args}: {err}");
    }
    assert!(
        wd.path("out/train.jsonl").exists(),
        "the export itself still happened"
    );
}

#[test]
fn completions_into_a_closed_pipe_exit_quietly() {
    let wd = Workdir::new();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let (code, err) = run_into_closed_pipe(&wd, &format!("completions {shell}"));
        assert_eq!(
            code, "0",
            "rlx completions {shell} into a closed pipe: {err}"
        );
        assert!(!err.contains("panicked"), "rlx completions {shell}: {err}");
    }
}
