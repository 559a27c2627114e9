//! Every format read the way its real consumer reads it: `tests/consumers/check_export.py`
//! (Hugging Face `datasets`, pandas, tiktoken, the cookbook checks, Bedrock's rules) run on
//! fresh exports of each policy. A missing Python or a failed pip install fails the test:
//! these checks are the point, so they are never skipped.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use crate::util::*;

const POLICIES: [&str; 3] = ["extraction", "retrieval", "consolidation"];

/// The python a setup script prints as its last line, run once per test process.
/// A failed setup fails the test: the consumer checks are the point.
pub(crate) fn venv_python(
    cell: &'static OnceLock<PathBuf>,
    script: &str,
    args: &[&str],
    what: &str,
) -> &'static PathBuf {
    cell.get_or_init(|| {
        let script = repo().join("tests/consumers").join(script);
        let out = Command::new("bash")
            .arg(&script)
            .args(args)
            .current_dir(repo())
            .output()
            .unwrap_or_else(|e| panic!("cannot run bash {}: {e}", script.display()));
        assert!(
            out.status.success(),
            "bash {} failed ({}): {what}\n{}",
            script.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let py = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let py = PathBuf::from(py.lines().last().unwrap_or_default());
        assert!(
            py.is_file(),
            "{} printed {py:?}, which is not a file",
            script.display()
        );
        py
    })
}

/// The venv's python, set up by `tests/consumers/setup-venv.sh`.
pub(crate) fn python() -> &'static PathBuf {
    static PY: OnceLock<PathBuf> = OnceLock::new();
    venv_python(
        &PY,
        "setup-venv.sh",
        &[],
        "python3 or pip is not usable, and the consumer checks cannot run",
    )
}

/// The python of the TRL venv (torch, transformers, trl), kept outside the clone by
/// `tests/consumers/setup-trl-venv.sh` so that only a new machine installs it.
pub(crate) fn trl_python() -> &'static PathBuf {
    static PY: OnceLock<PathBuf> = OnceLock::new();
    venv_python(
        &PY,
        "setup-trl-venv.sh",
        &[],
        "the TRL consumer checks cannot run",
    )
}

/// Run the consumer check on `dir`; its rejection fails the test with its stderr.
#[track_caller]
pub(crate) fn check(format: &str, dir: &std::path::Path, extra: &[&str], what: &str) {
    let out = Command::new(python())
        .arg(repo().join("tests/consumers/check_export.py"))
        .arg(format)
        .arg(dir)
        .args(extra)
        .output()
        .expect("running check_export.py");
    assert!(
        out.status.success(),
        "{what}: check_export.py {format} {} {} rejected the export ({}):\n{}{}",
        dir.display(),
        extra.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Export each policy's examples.jsonl as `format` with `flags`, then check it.
fn export_and_check(format: &str, flags: &[&str], check_args: &[&str], counts: &str) {
    for policy in POLICIES {
        let wd = Workdir::new();
        let what = format!("{policy} --format {format} {}", flags.join(" "));
        let run = wd
            .rlx([
                "export",
                &fx(&format!("{policy}/examples.jsonl")),
                "-o",
                "out",
                "--format",
                format,
            ])
            .args(flags)
            .run();
        run.expect_success();
        let mut args = check_args.to_vec();
        args.extend(["--expect-counts", counts]);
        check(format, &wd.path("out"), &args, &what);
    }
}

#[test]
fn jsonl_exports_pass_the_consumer_check() {
    export_and_check("jsonl", &[], &[], "train=32,eval=8,validation=0");
}

#[test]
fn huggingface_exports_load_with_datasets() {
    export_and_check("huggingface", &[], &[], "train=32,test=8,validation=0");
}

#[test]
fn openai_exports_pass_the_cookbook_checks_and_token_recount() {
    export_and_check("openai", &[], &[], "train=32,eval=8,validation=0");
}

#[test]
fn openai_exports_for_another_model_pass_with_that_model() {
    let wd = Workdir::new();
    wd.rlx([
        "export",
        &fx("retrieval/examples.jsonl"),
        "-o",
        "out",
        "--format",
        "openai",
    ])
    .args(["--model", "gpt-3.5-turbo-0125"])
    .run()
    .expect_success();
    check(
        "openai",
        &wd.path("out"),
        &[
            "--model",
            "gpt-3.5-turbo-0125",
            "--expect-counts",
            "train=32,eval=8",
        ],
        "retrieval --model gpt-3.5-turbo-0125",
    );
}

#[test]
fn anthropic_legacy_exports_pass_the_prompt_format_check() {
    export_and_check(
        "anthropic",
        &[],
        &["--style", "legacy"],
        "train=32,eval=8,validation=0",
    );
}

#[test]
fn anthropic_bedrock_exports_pass_bedrock_rules() {
    export_and_check(
        "anthropic",
        &["--anthropic-style", "bedrock"],
        &["--style", "bedrock"],
        "train=32,eval=8,validation=0",
    );
}

#[test]
fn csv_exports_read_with_pandas_and_run_the_template() {
    export_and_check("csv", &[], &[], "train=32,eval=8,validation=0");
}

#[test]
fn every_format_with_a_validation_split_passes() {
    let wd = Workdir::new();
    wd.rlx([
        "export",
        &fx("retrieval/examples.jsonl"),
        "-o",
        "out",
        "--format",
        "all",
    ])
    .args(["--validation-ratio", "0.1"])
    .run()
    .expect_success();
    for format in ["jsonl", "huggingface", "openai", "anthropic", "csv"] {
        let eval = if format == "huggingface" {
            "test"
        } else {
            "eval"
        };
        check(
            format,
            &wd.path(&format!("out/{format}")),
            &[
                "--expect-counts",
                &format!("train=28,{eval}=8,validation=4"),
            ],
            &format!("retrieval --validation-ratio 0.1 {format}"),
        );
    }
}

#[test]
fn every_format_compressed_passes() {
    let wd = Workdir::new();
    wd.rlx([
        "export",
        &fx("consolidation/examples.jsonl"),
        "-o",
        "out",
        "--format",
        "all",
    ])
    .arg("--compress")
    .run()
    .expect_success();
    for format in ["jsonl", "huggingface", "openai", "anthropic", "csv"] {
        let eval = if format == "huggingface" {
            "test"
        } else {
            "eval"
        };
        check(
            format,
            &wd.path(&format!("out/{format}")),
            &["--expect-counts", &format!("train=32,{eval}=8")],
            &format!("consolidation --compress {format}"),
        );
    }
}

#[test]
fn nasty_text_and_odd_inputs_pass_every_consumer() {
    // Unknown keys, nextState and odd number text; and an export without metadata.
    for (input, flags) in [
        ("shapes/extra-keys.jsonl", &[][..]),
        ("extraction/examples.jsonl", &["--no-metadata"][..]),
    ] {
        let wd = Workdir::new();
        wd.rlx(["export", &fx(input), "-o", "out", "--format", "all"])
            .args(flags)
            .run()
            .expect_success();
        for format in ["jsonl", "huggingface", "openai", "anthropic", "csv"] {
            check(
                format,
                &wd.path(&format!("out/{format}")),
                &[],
                &format!("{input} {flags:?} {format}"),
            );
        }
    }
}
