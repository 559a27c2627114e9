//! `--template`, `--line-template` and `rlx template show`, run as a user would: the
//! printed built-in template exports byte for byte what the built-ins export, for every
//! policy, format, objective and style; template mistakes are usage errors found before
//! any input is read; what a template fails on is named (or rejected); the README's line
//! templates load in `datasets`; token counts of templated texts are exact (tiktoken).

use std::process::Command;

use crate::util::*;

const POLICIES: [&str; 3] = ["extraction", "retrieval", "consolidation"];

/// (format flags, the fixture file of the policy it reads).
fn cases() -> Vec<(Vec<&'static str>, &'static str)> {
    let line = "--line-template";
    vec![
        (vec!["--format", "openai"], "examples.jsonl"),
        (
            vec!["--format", "openai", "--validation-ratio", "0.1"],
            "examples.jsonl",
        ),
        (
            vec!["--format", "openai", "--objective", "dpo"],
            "pairs.jsonl",
        ),
        (vec!["--format", "anthropic"], "examples.jsonl"),
        (
            vec!["--format", "anthropic", "--anthropic-style", "bedrock"],
            "examples.jsonl",
        ),
        (
            vec!["--format", "trl", "--objective", "sft"],
            "examples.jsonl",
        ),
        (
            vec![
                "--format",
                "trl",
                "--objective",
                "sft",
                "--trl-style",
                "standard",
            ],
            "examples.jsonl",
        ),
        (
            vec!["--format", "trl", "--objective", "kto"],
            "examples.jsonl",
        ),
        (vec!["--format", "trl", "--objective", "dpo"], "pairs.jsonl"),
        (
            vec!["--format", "trl", "--objective", "reward"],
            "pairs.jsonl",
        ),
        (
            vec!["--format", "template", line, "LINE", "--objective", "sft"],
            "examples.jsonl",
        ),
        (
            vec!["--format", "template", line, "PAIR", "--objective", "dpo"],
            "pairs.jsonl",
        ),
    ]
}

/// `template show`'s flags for an export's flags: the ones that choose the texts.
fn show_flags<'a>(flags: &[&'a str]) -> Vec<&'a str> {
    let mut out = Vec::new();
    for pair in flags.windows(2) {
        if matches!(pair[0], "--format" | "--objective" | "--anthropic-style") {
            out.extend([pair[0], pair[1]]);
        }
    }
    out
}

#[test]
fn template_show_files_export_byte_identical_output() {
    let wd = Workdir::new();
    wd.write(
        "line.jinja",
        "{\"s\": {{ system | tojson }}, \"u\": {{ user | tojson }}, \"a\": {{ assistant | tojson }}, \"split\": {{ split | tojson }}}\n",
    );
    wd.write(
        "pair.jinja",
        "{\"p\": {{ user | tojson }}, \"c\": {{ chosen.assistant | tojson }}, \"r\": {{ rejected.assistant | tojson }}, \"m\": {{ margin }}}\n",
    );
    for policy in POLICIES {
        for (n, (flags, file)) in cases().into_iter().enumerate() {
            let flags: Vec<String> = flags
                .iter()
                .map(|f| match *f {
                    "LINE" => wd.path("line.jinja").display().to_string(),
                    "PAIR" => wd.path("pair.jinja").display().to_string(),
                    f => f.to_string(),
                })
                .collect();
            let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
            let input = fx(&format!("{policy}/{file}"));
            let shown = wd
                .rlx(["template", "show", "--policy", policy])
                .args(show_flags(&flags))
                .run();
            shown.expect_success();
            let template = wd.write(&format!("{policy}-{n}.j2"), &shown.stdout);
            let built_in = format!("{policy}-{n}-built-in");
            wd.rlx(["export", &input, "-o", &built_in])
                .args(&flags)
                .arg("-q")
                .run()
                .expect_success();
            for threads in ["1", "3"] {
                let templated = format!("{policy}-{n}-templated-{threads}");
                wd.rlx(["export", &input, "-o", &templated, "--threads", threads])
                    .args(&flags)
                    .args(["-q", "--template"])
                    .arg(&template)
                    .run()
                    .expect_success();
                let (a, b) = (
                    read_tree(&wd.path(&built_in)),
                    read_tree(&wd.path(&templated)),
                );
                let names: Vec<&String> = a.keys().collect();
                assert_eq!(names, b.keys().collect::<Vec<_>>(), "{policy} {flags:?}");
                for (name, bytes) in &a {
                    // The template format's card names the template it was given.
                    if flags.contains(&"template") && name == "README.md" {
                        continue;
                    }
                    assert!(
                        bytes == &b[name],
                        "{policy} {flags:?} --threads {threads}: {name} differs with the template show printed"
                    );
                }
            }
        }
    }
}

#[test]
fn template_show_refuses_formats_without_prompts() {
    let wd = Workdir::new();
    let run = wd
        .rlx([
            "template",
            "show",
            "--policy",
            "retrieval",
            "--format",
            "csv",
        ])
        .run();
    run.expect_code(2);
    assert!(
        run.error_line().contains("--format csv renders no prompts"),
        "{}",
        run.report()
    );
    let run = wd
        .rlx([
            "template",
            "show",
            "--policy",
            "retrieval",
            "--format",
            "anthropic",
            "--objective",
            "dpo",
        ])
        .run();
    run.expect_code(2);
}

#[test]
fn template_mistakes_are_usage_errors_before_any_input_is_read() {
    let wd = Workdir::new();
    wd.write(
        "syntax.j2",
        "# mine\n=== system ===\nHi\n=== user ===\n{% for x in state %}\n=== assistant ===\nx\n",
    );
    wd.write(
        "filter.j2",
        "=== system ===\nHi\n=== user ===\nok\n  {{ state | nosuch }}\n=== assistant ===\nx\n",
    );
    wd.write("line.j2", "{{ reward }}");
    // The input does not exist: a template error must come first.
    for (flags, expected) in [
        (
            vec!["--format", "openai", "--template", "syntax.j2"],
            "syntax.j2:5:",
        ),
        (
            vec!["--format", "openai", "--template", "filter.j2"],
            "filter.j2:5:14: the filter \"nosuch\" is unknown",
        ),
        (
            vec!["--format", "openai", "--template", "missing.j2"],
            "--template missing.j2: cannot read it",
        ),
        (
            vec!["--format", "jsonl", "--template", "syntax.j2"],
            "--format jsonl renders no prompts",
        ),
        (
            vec!["--format", "openai", "--line-template", "line.j2"],
            "expected --format template",
        ),
        (
            vec!["--format", "template"],
            "--format template needs --line-template FILE",
        ),
    ] {
        let run = wd
            .rlx(["export", "no-such-input.jsonl", "-o", "out"])
            .args(&flags)
            .run();
        run.expect_code(2);
        assert!(
            run.error_line().contains(expected),
            "{flags:?}: {}",
            run.report()
        );
        assert!(
            !wd.path("out").exists(),
            "{flags:?} left an output directory"
        );
    }
    let run = wd
        .rlx([
            "validate",
            "no-such-input.jsonl",
            "--format",
            "openai",
            "--template",
            "filter.j2",
        ])
        .run();
    run.expect_code(2);
    assert!(
        run.error_line().contains("filter.j2:5:14:"),
        "{}",
        run.report()
    );
}

/// Three examples, the second without metadata.
fn three_examples(wd: &Workdir) -> String {
    let lines: Vec<String> = std::fs::read_to_string(fixture("extraction/examples.jsonl"))
        .expect("the fixture")
        .lines()
        .take(3)
        .map(str::to_string)
        .collect();
    let mut second: serde_json::Value = serde_json::from_str(&lines[1]).expect("JSON");
    second
        .as_object_mut()
        .expect("an object")
        .remove("metadata");
    let text = format!("{}\n{}\n{}\n", lines[0], second, lines[2]);
    wd.write("in.jsonl", text).display().to_string()
}

#[test]
fn a_field_the_template_reads_and_an_example_lacks_is_named_or_rejected() {
    let wd = Workdir::new();
    let input = three_examples(&wd);
    wd.write(
        "mine.j2",
        "=== system ===\nYou decide.\n=== user ===\nTurn {{ state.contextFeatures.turnNumber }}\nSession {{ metadata.sessionId }}\n=== assistant ===\n{{ action | tojson }}\n",
    );
    let run = wd
        .rlx([
            "export",
            &input,
            "-o",
            "out",
            "--format",
            "openai",
            "--split-ratio",
            "0",
            "--template",
            "mine.j2",
        ])
        .run();
    run.expect_code(1);
    let line = run.error_line();
    assert!(line.contains("in.jsonl:2:"), "{}", run.report());
    assert!(line.contains("mine.j2:5:"), "{}", run.report());
    assert!(line.contains("metadata.sessionId"), "{}", run.report());
    assert!(!wd.path("out").exists());

    let run = wd
        .rlx([
            "export",
            &input,
            "-o",
            "out",
            "--format",
            "openai",
            "--split-ratio",
            "0",
            "--template",
            "mine.j2",
            "--skip-invalid",
            "--json",
        ])
        .run();
    run.expect_success();
    assert_eq!(at_u64(&run.json(), "stats.trainExamples"), 2);
    let rejected = read_jsonl(&wd.path("out/rejected.jsonl"));
    assert_eq!(rejected.len(), 1);
    let text = rejected[0].to_string();
    assert!(text.contains("mine.j2:5:"), "{text}");
    let lines = read_jsonl(&wd.path("out/train.jsonl"));
    let user = at(&lines[0], "messages")[1]["content"]
        .as_str()
        .unwrap_or_default();
    assert!(
        user.starts_with("Turn ") && user.contains("\nSession sess-"),
        "{user}"
    );
}

#[test]
fn a_line_that_is_not_one_json_value_is_named_with_what_it_rendered() {
    let wd = Workdir::new();
    let input = three_examples(&wd);
    wd.write(
        "bad.jinja",
        "{\"policy\": {% if reward > 0.5 %}{{ policy }}{% else %}{{ policy | tojson }}{% endif %}}",
    );
    let run = wd
        .rlx([
            "export",
            &input,
            "-o",
            "out",
            "--format",
            "template",
            "--line-template",
            "bad.jinja",
        ])
        .run();
    run.expect_code(1);
    let line = run.error_line();
    assert!(line.contains("in.jsonl:"), "{}", run.report());
    assert!(line.contains("not one JSON value"), "{}", run.report());
    assert!(
        line.contains(r#"{\"policy\": extraction}"#),
        "{}",
        run.report()
    );
    assert!(!wd.path("out").exists());
    // With --skip-invalid the scan renders every line first, and rejects the bad ones.
    let run = wd
        .rlx([
            "export",
            &input,
            "-o",
            "out",
            "--format",
            "template",
            "--line-template",
            "bad.jinja",
            "--skip-invalid",
            "--split-ratio",
            "0",
            "--json",
        ])
        .run();
    run.expect_success();
    let rejected = read_jsonl(&wd.path("out/rejected.jsonl"));
    let written = read_jsonl(&wd.path("out/train.jsonl"));
    assert_eq!(rejected.len() + written.len(), 3);
    assert!(
        !rejected.is_empty() && !written.is_empty(),
        "{}",
        run.report()
    );
    for r in &rejected {
        assert!(r.to_string().contains("not one JSON value"), "{r}");
    }
}

#[test]
fn validate_counts_the_tokens_of_the_templated_texts() {
    let wd = Workdir::new();
    // About 70,000 tokens per example: over gpt-4o-mini's 65,536.
    wd.write(
        "long.j2",
        "=== system ===\nHi\n=== user ===\n{% for i in range(70000) %} x{% endfor %}\n=== assistant ===\n{{ action | tojson }}\n",
    );
    let input = fx("tiny/five.jsonl");
    wd.rlx(["validate", &input, "--format", "openai"])
        .run()
        .expect_success();
    let run = wd
        .rlx([
            "validate",
            &input,
            "--format",
            "openai",
            "--template",
            "long.j2",
            "--json",
        ])
        .run();
    run.expect_code(1);
    assert_eq!(
        at_u64(&run.json(), "stats.overLimitExamples"),
        5,
        "{}",
        run.report()
    );
}

/// The README's line templates, shipped in fixtures/templates/.
const README_TEMPLATES: [(&str, &str, &str); 2] = [
    ("alpaca", "templates/alpaca.jinja", "sft"),
    ("chatml-intel", "templates/chatml-intel.jinja", "dpo"),
];

#[test]
fn readme_line_templates_load_in_datasets() {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README.md");
    for (kind, file, objective) in README_TEMPLATES {
        let text = std::fs::read_to_string(fixture(file)).expect("the template");
        assert!(
            readme.contains(text.trim_end()),
            "README.md must show fixtures/{file} as it is"
        );
        for policy in POLICIES {
            let wd = Workdir::new();
            let input = fx(&format!(
                "{policy}/{}",
                if objective == "sft" {
                    "examples.jsonl"
                } else {
                    "pairs.jsonl"
                }
            ));
            let run = wd
                .rlx([
                    "export",
                    &input,
                    "-o",
                    "out",
                    "--format",
                    "template",
                    "--objective",
                    objective,
                    "--line-template",
                    &fx(file),
                    "--json",
                ])
                .run();
            run.expect_success();
            let result = run.json();
            let counts = format!(
                "train={},test={}",
                at_u64(&result, "stats.trainExamples"),
                at_u64(&result, "stats.evalExamples")
            );
            let out = Command::new(crate::consumers::python())
                .arg(repo().join("tests/consumers/check_template.py"))
                .arg(wd.path("out"))
                .args(["--kind", kind, "--expect-counts", &counts])
                .output()
                .expect("running check_template.py");
            assert!(
                out.status.success(),
                "{policy} {kind}: check_template.py rejected the export:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

#[test]
fn templated_openai_token_counts_are_exact() {
    // Text the piecewise counter must get right: leading spaces and tabs, runs of
    // newlines, CJK, emoji, combining marks, a newline before "/" and before spaces.
    let template = "=== system ===\n  Système:\tdécide 🧠 — 決定せよ\n\n\n=== user ===\n{% for key, value in state | items %}\n{{ key }}:\n  {{ value | tojson }}\n/{{ key }}\n\n \n{% endfor %}\nq̃uestion? ¿¡\n=== assistant ===\n   {{ action | pretty_json }}\n\n\n{{ reward | fixed(5) }} ✓\n";
    for policy in POLICIES {
        let wd = Workdir::new();
        wd.write("odd.j2", template);
        wd.rlx([
            "export",
            &fx(&format!("{policy}/examples.jsonl")),
            "-o",
            "out",
            "--format",
            "openai",
            "--template",
            "odd.j2",
        ])
        .run()
        .expect_success();
        crate::consumers::check(
            "openai",
            &wd.path("out"),
            &["--expect-counts", "train=32,eval=8,validation=0"],
            &format!("{policy} with odd.j2"),
        );
    }
}
