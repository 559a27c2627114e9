//! Golden files: every format of three small inputs, compared byte for byte with
//! `tests/golden/<fixture>/<format>/`. `RLX_BLESS=1 cargo test` rewrites them from the
//! current output; read the diff before committing it.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use crate::util::*;

/// (directory under tests/golden, `--format`, extra flags)
const VARIANTS: [(&str, &str, &[&str]); 6] = [
    ("jsonl", "jsonl", &[]),
    ("huggingface", "huggingface", &[]),
    ("openai", "openai", &[]),
    ("anthropic", "anthropic", &[]),
    (
        "anthropic-bedrock",
        "anthropic",
        &["--anthropic-style", "bedrock"],
    ),
    ("csv", "csv", &[]),
];

fn is_blessing() -> bool {
    std::env::var_os("RLX_BLESS").is_some_and(|v| v == "1")
}

/// Export `input` in every variant and compare with (or, blessing, rewrite) the golden tree.
fn check_golden(name: &str, input: &str) {
    let golden_root = repo().join("tests/golden").join(name);
    let mut problems = Vec::new();
    for (dir, format, flags) in VARIANTS {
        let wd = Workdir::new();
        let run = wd
            .rlx(["export", &fx(input), "-o", "out", "--format", format])
            .args(flags)
            .run();
        run.expect_success();
        let actual = read_tree(&wd.path("out"));
        let golden_dir = golden_root.join(dir);
        if is_blessing() {
            bless(&golden_dir, &actual);
            continue;
        }
        let expected = if golden_dir.is_dir() {
            read_tree(&golden_dir)
        } else {
            BTreeMap::new()
        };
        problems.extend(compare(&golden_dir, &expected, &actual));
    }
    assert!(
        problems.is_empty(),
        "{name}: the export differs from tests/golden/{name} (RLX_BLESS=1 cargo test rewrites it; read the diff first):\n{}",
        problems.join("\n")
    );
}

fn bless(dir: &Path, files: &BTreeMap<String, Vec<u8>>) {
    if dir.exists() {
        fs::remove_dir_all(dir).expect("removing the old golden files");
    }
    for (rel, bytes) in files {
        let p = dir.join(rel);
        fs::create_dir_all(p.parent().expect("a golden file has a parent")).unwrap();
        fs::write(&p, bytes).unwrap_or_else(|e| panic!("writing {}: {e}", p.display()));
    }
}

/// Every difference: missing and extra files, and each differing file's first differing line.
fn compare(
    dir: &Path,
    expected: &BTreeMap<String, Vec<u8>>,
    actual: &BTreeMap<String, Vec<u8>>,
) -> Vec<String> {
    let mut out = Vec::new();
    for name in expected.keys().filter(|k| !actual.contains_key(*k)) {
        out.push(format!("  {}: no longer written", dir.join(name).display()));
    }
    for (name, bytes) in actual {
        let path = dir.join(name);
        let Some(want) = expected.get(name) else {
            out.push(format!(
                "  {}: written but not in the golden files",
                path.display()
            ));
            continue;
        };
        if want == bytes {
            continue;
        }
        let want_text = String::from_utf8_lossy(want);
        let got_text = String::from_utf8_lossy(bytes);
        let want_lines: Vec<&str> = want_text.split_inclusive('\n').collect();
        let got_lines: Vec<&str> = got_text.split_inclusive('\n').collect();
        let n = want_lines
            .iter()
            .zip(&got_lines)
            .position(|(a, b)| a != b)
            .unwrap_or(want_lines.len().min(got_lines.len()));
        let show = |l: Option<&&str>| match l {
            Some(l) => format!("{:?}", cut(l)),
            None => "(end of file)".to_string(),
        };
        out.push(format!(
            "  {}:{}: first difference\n    golden: {}\n    now:    {}",
            path.display(),
            n + 1,
            show(want_lines.get(n)),
            show(got_lines.get(n))
        ));
    }
    out
}

fn cut(s: &str) -> String {
    if s.chars().count() <= 300 {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(300).collect::<String>())
    }
}

#[test]
fn golden_five_extraction_examples() {
    check_golden("five", "tiny/five.jsonl");
}

#[test]
fn golden_five_retrieval_examples() {
    check_golden("retrieval-5", "golden/retrieval-5.jsonl");
}

#[test]
fn golden_five_consolidation_examples() {
    check_golden("consolidation-5", "golden/consolidation-5.jsonl");
}
