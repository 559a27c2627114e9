//! The reward-aware objectives end to end: `--objective sft|dpo|kto|reward`,
//! `--min-reward`, pairing and labelling, on the real binary. Each test checks the rows
//! against the input examples themselves (who was paired with whom and why), not
//! against a stored copy of the output.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::util::*;

const POLICIES: [&str; 3] = ["extraction", "retrieval", "consolidation"];

/// An input line per example: (state, action, reward, sessionId).
fn line(state: &str, action: &str, reward: &str, session: &str) -> String {
    format!(
        r#"{{"state":{state},"action":{action},"reward":{reward},"metadata":{{"sessionId":"{session}"}}}}"#
    )
}

fn retrieval_state(len: u32, category: &str) -> String {
    format!(
        r#"{{"queryFeatures":{{"queryLength":{len},"hasKeywords":true,"queryComplexity":0.5,"semanticCategory":"{category}"}},"contextFeatures":{{"turnNumber":1,"conversationDepth":1,"recentToolCalls":0,"hasErrors":false}},"memoryStats":{{"totalEntries":10,"recentRetrievals":1,"avgRetrievalSuccess":0.5}}}}"#
    )
}

fn action(retrieve: bool, scope: &str) -> String {
    format!(r#"{{"shouldRetrieve":{retrieve},"scope":"{scope}"}}"#)
}

/// A hand-made retrieval log whose pairs are known:
/// - group A (queryLength 40–49, debugging): rewards 0.9 (global), 0.3 (project),
///   -0.5 (global, the best's own action), 0.8 (project) → best-worst pairs 0.9 with the
///   lowest *different* action, 0.3 (gap 0.6), never -0.5;
/// - group B (lookup): 0.8 and 0.7 with different actions: a gap of exactly 0.1, no pair;
/// - group C (question): two examples, identical action: no pair;
/// - group D (creation): alone.
fn pair_log() -> String {
    let a = retrieval_state(42, "debugging");
    let a2 = retrieval_state(47, "debugging");
    let b = retrieval_state(12, "lookup");
    let c = retrieval_state(25, "question");
    let d = retrieval_state(70, "creation");
    [
        line(&a, &action(true, "global"), "0.9", "s1"),
        line(&a2, &action(true, "project"), "0.3", "s1"),
        line(&a, &action(true, "global"), "-0.5", "s2"),
        line(&a2, &action(true, "project"), "0.8", "s2"),
        line(&b, &action(true, "global"), "0.8", "s3"),
        line(&b, &action(false, "global"), "0.7", "s3"),
        line(&c, &action(true, "org"), "1", "s4"),
        line(&c, &action(true, "org"), "-1", "s4"),
        line(&d, &action(false, "org"), "0.5", "s5"),
    ]
    .join("\n")
        + "\n"
}

fn export(wd: &Workdir, input: &str, flags: &[&str]) -> Value {
    let run = wd
        .rlx(["export", input, "-o", "out", "--json"])
        .args(flags)
        .run();
    run.expect_success();
    run.json()
}

/// The action text of every row's chosen and rejected side (pretty JSON, minified).
fn sides(row: &Value, key: &str) -> String {
    let v = &row[key];
    let text = match v {
        Value::Array(msgs) => msgs
            .last()
            .and_then(|m| m["content"].as_str())
            .expect("a message list ends with the assistant's action")
            .to_string(),
        Value::String(s) => s.rsplit("\n\n").next().unwrap_or(s).to_string(),
        other => panic!("{key} is {other}"),
    };
    let action: Value = serde_json::from_str(text.trim()).expect("an action is pretty JSON");
    action.to_string()
}

#[test]
fn best_worst_pairs_follow_the_rule_and_count_every_example() {
    let wd = Workdir::new();
    let input = wd.write("log.jsonl", pair_log());
    let result = export(
        &wd,
        &input.display().to_string(),
        &[
            "--format",
            "trl",
            "--objective",
            "dpo",
            "--split-ratio",
            "0",
        ],
    );
    let rows = read_jsonl(&wd.path("out/train.jsonl"));
    assert_eq!(rows.len(), 1, "{rows:?}");
    let row = &rows[0];
    assert_eq!(
        row.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["prompt", "chosen", "rejected"]
    );
    assert_eq!(
        sides(row, "chosen"),
        r#"{"shouldRetrieve":true,"scope":"global"}"#
    );
    assert_eq!(
        sides(row, "rejected"),
        r#"{"shouldRetrieve":true,"scope":"project"}"#
    );
    // The prompt is the chosen example's state (queryLength 42).
    let user = row["prompt"][1]["content"].as_str().unwrap();
    assert!(user.contains("Query Length: 42"), "{user}");
    let pairs = at(&result, "stats.pairs");
    assert_eq!(at_u64(pairs, "train"), 1);
    assert_eq!(at_u64(pairs, "usedExamples"), 2);
    let unpaired = &pairs["unpaired"];
    assert_eq!(at_u64(unpaired, "notSelected"), 2, "{unpaired}");
    assert_eq!(at_u64(unpaired, "belowMargin"), 2, "{unpaired}");
    assert_eq!(at_u64(unpaired, "noDifferentAction"), 2, "{unpaired}");
    assert_eq!(at_u64(unpaired, "aloneInGroup"), 1, "{unpaired}");
    assert_eq!(at_u64(unpaired, "noGroupKey"), 0, "{unpaired}");
    assert_eq!(at_u64(&result, "stats.trainExamples"), 1);
    // Fewer than 100 pairs is a warning, not an error.
    assert!(
        at(&result, "warningCounts")["fewTrainingPairs"] == 1,
        "{}",
        result["warnings"]
    );
}

#[test]
fn all_pairs_take_the_largest_margins_up_to_the_cap() {
    let wd = Workdir::new();
    let input = wd.write("log.jsonl", pair_log());
    let input = input.display().to_string();
    let flags = [
        "--format",
        "trl",
        "--objective",
        "reward",
        "--split-ratio",
        "0",
        "--pairs",
        "all",
    ];
    export(&wd, &input, &flags);
    let rows = read_jsonl(&wd.path("out/train.jsonl"));
    // Group A: 0.9g-0.3p (0.6), 0.9g-0.8p is 0.1 (no), 0.8p-(-0.5)g (1.3), 0.3p-(-0.5)g (0.8).
    let margins: BTreeSet<String> = rows.iter().map(|r| r["margin"].to_string()).collect();
    assert_eq!(
        margins,
        ["0.6", "0.8", "1.3"]
            .into_iter()
            .map(String::from)
            .collect()
    );
    for r in &rows {
        assert_eq!(r.as_object().unwrap().len(), 3, "{r}");
        // Both sides share the chosen example's prompt.
        assert_eq!(r["chosen"][1], r["rejected"][1]);
    }
    let wd2 = Workdir::new();
    let mut capped = flags.to_vec();
    capped.extend(["--max-pairs-per-group", "1", "--no-margin"]);
    export(&wd2, &input, &capped);
    let rows = read_jsonl(&wd2.path("out/train.jsonl"));
    assert_eq!(rows.len(), 1);
    assert!(rows[0].get("margin").is_none());
    assert_eq!(
        sides(&rows[0], "chosen"),
        r#"{"shouldRetrieve":true,"scope":"project"}"#
    );
}

#[test]
fn pairs_never_span_splits_and_pair_by_paths_groups_by_value() {
    let wd = Workdir::new();
    let src = fixture("retrieval/pairs.jsonl");
    let result = export(
        &wd,
        &src.display().to_string(),
        &[
            "--format",
            "trl",
            "--objective",
            "dpo",
            "--pair-by",
            "metadata.sessionId",
            "--pairs",
            "all",
            "--split-ratio",
            "0.5",
        ],
    );
    let input = input_examples(&src);
    let pairs = at(&result, "stats.pairs");
    let total = at_u64(pairs, "train") + at_u64(pairs, "eval");
    assert!(at_u64(pairs, "eval") > 0, "{pairs}");
    let used = at_u64(pairs, "usedExamples");
    let unpaired = at_u64(pairs, "unpairedExamples");
    assert_eq!(used + unpaired, input.len() as u64);
    let mut rows = read_jsonl(&wd.path("out/train.jsonl"));
    rows.extend(read_jsonl(&wd.path("out/eval.jsonl")));
    assert_eq!(rows.len() as u64, total);
    for r in &rows {
        assert_ne!(sides(r, "chosen"), sides(r, "rejected"));
    }
    // The same pairs come out when the pairing key is the whole session: each split's
    // pairs are formed from that split alone, so the eval pairs are those of its sessions.
    assert_eq!(at_u64(&result, "stats.evalExamples"), at_u64(pairs, "eval"));
}

#[test]
fn a_gap_of_exactly_the_margin_never_pairs() {
    let wd = Workdir::new();
    let s = retrieval_state(12, "lookup");
    let log = [
        line(&s, &action(true, "global"), "0.3", "a"),
        line(&s, &action(false, "global"), "0.2", "a"),
        line(&s, &action(true, "org"), "0.80", "b"),
        line(&s, &action(false, "org"), "0.7", "b"),
    ]
    .join("\n");
    let input = wd.write("log.jsonl", log).display().to_string();
    let run = wd
        .rlx([
            "export",
            &input,
            "-o",
            "out",
            "--objective",
            "dpo",
            "--format",
            "trl",
            "--pair-by",
            "metadata.sessionId",
            "--split-ratio",
            "0",
            "--json",
        ])
        .run();
    // No pair at all: a training set without a row is an error, and it says why.
    run.expect_code(1);
    let result = run.json();
    assert_eq!(at_u64(&result, "stats.pairs.train"), 0);
    assert_eq!(at_u64(&result, "stats.pairs.unpaired.belowMargin"), 4);
    assert!(
        at_str(&result, "error").contains("no training pair could be formed"),
        "{result}"
    );
    assert!(at_str(&result, "error").contains("within the margin 4"));
    assert!(!wd.path("out").exists());
}

#[test]
fn kto_labels_follow_the_threshold_and_keep_the_shuffled_order() {
    let wd = Workdir::new();
    let src = fx("extraction/examples.jsonl");
    let result = export(
        &wd,
        &src,
        &[
            "--format",
            "trl",
            "--objective",
            "kto",
            "--split-ratio",
            "0",
        ],
    );
    let input = input_examples(&fixture("extraction/examples.jsonl"));
    let rows = read_jsonl(&wd.path("out/train.jsonl"));
    let negative = input
        .iter()
        .filter(|e| e["reward"].as_f64().unwrap() < 0.0)
        .count();
    let zero = input
        .iter()
        .filter(|e| e["reward"].as_f64().unwrap() == 0.0)
        .count();
    assert_eq!(rows.len(), input.len() - zero);
    let undesirable = rows.iter().filter(|r| r["label"] == false).count();
    assert_eq!(undesirable, negative);
    for r in &rows {
        assert!(r["label"].is_boolean());
        assert_eq!(
            r.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["prompt", "completion", "label"]
        );
    }
    let kto = at(&result, "stats.kto");
    assert_eq!(at_u64(kto, "undesirable"), negative as u64);
    let w = &kto["weights"];
    let (d, u) = (
        at_u64(kto, "desirable") as f64,
        at_u64(kto, "undesirable") as f64,
    );
    let ratio =
        w["desirableWeight"].as_f64().unwrap() * d / (w["undesirableWeight"].as_f64().unwrap() * u);
    assert!((1.0..=1.33).contains(&ratio), "{w} gives {ratio}");
    // The rows are the seeded shuffle: a different seed gives another order.
    let wd2 = Workdir::new();
    export(
        &wd2,
        &src,
        &[
            "--format",
            "trl",
            "--objective",
            "kto",
            "--split-ratio",
            "0",
            "--seed",
            "7",
        ],
    );
    assert_ne!(wd.read("out/train.jsonl"), wd2.read("out/train.jsonl"));
    let card = wd.read_string("out/README.md");
    assert!(card.contains("desirable_weight="), "{card}");
}

#[test]
fn min_reward_filters_every_format_and_counts_what_it_dropped() {
    let input = input_examples(&fixture("consolidation/examples.jsonl"));
    let kept = input
        .iter()
        .filter(|e| e["reward"].as_f64().unwrap() >= 0.5)
        .count() as u64;
    for format in ["jsonl", "huggingface", "csv", "openai", "anthropic", "trl"] {
        let wd = Workdir::new();
        let result = export(
            &wd,
            &fx("consolidation/examples.jsonl"),
            &["--format", format, "--min-reward", "0.5"],
        );
        assert_eq!(at_u64(&result, "stats.totalExamples"), kept, "{format}");
        assert_eq!(
            at_u64(&result, "stats.filteredExamples"),
            input.len() as u64 - kept,
            "{format}"
        );
        assert_eq!(at_str(&result, "stats.minReward"), "0.5");
    }
}

#[test]
fn sft_completions_of_negative_rewards_are_warned_about() {
    let wd = Workdir::new();
    let result = export(
        &wd,
        &fx("extraction/examples.jsonl"),
        &["--format", "trl", "--split-ratio", "0"],
    );
    assert_eq!(result["warningCounts"]["negativeRewardsInSft"], 1);
    let w = result["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w.as_str().unwrap().contains("negative reward"))
        .unwrap()
        .clone();
    assert!(w.as_str().unwrap().contains("4 training example(s)"), "{w}");
    assert!(w.as_str().unwrap().contains("--min-reward 0"), "{w}");
    // The completion is the action alone: no reward text.
    let rows = read_jsonl(&wd.path("out/train.jsonl"));
    let completion = rows[0]["completion"][0]["content"].as_str().unwrap();
    assert!(!completion.contains("Reward"), "{completion}");
    serde_json::from_str::<Value>(completion).expect("the completion is the action as JSON");
    let wd = Workdir::new();
    let result = export(
        &wd,
        &fx("extraction/examples.jsonl"),
        &["--format", "trl", "--min-reward", "0"],
    );
    assert!(result["warningCounts"]
        .get("negativeRewardsInSft")
        .is_none());
}

#[test]
fn objectives_a_format_cannot_write_are_usage_errors() {
    let wd = Workdir::new();
    let run = wd
        .rlx([
            "export",
            &fx("retrieval/examples.jsonl"),
            "-o",
            "out",
            "--format",
            "csv",
            "--objective",
            "dpo",
        ])
        .run();
    run.expect_code(2);
    assert!(
        run.error_line().contains("cannot write --objective dpo")
            && run.error_line().contains("openai, trl"),
        "{}",
        run.report()
    );
    let run = wd
        .rlx([
            "export",
            &fx("retrieval/examples.jsonl"),
            "-o",
            "out2",
            "--format",
            "openai",
            "--objective",
            "dpo",
            "--model",
            "gpt-4o-mini",
        ])
        .run();
    run.expect_code(2);
    run.expect_stderr("does not take preference (DPO) fine-tuning");
}

#[test]
fn format_and_objective_come_from_the_output_name() {
    let wd = Workdir::new();
    let src = wd.write("log.jsonl", pair_log()).display().to_string();
    for (out, format, objective) in [
        ("extraction-dpo", "trl", "dpo"),
        ("retrieval-openai-dpo", "openai", "dpo"),
        ("x-kto", "trl", "kto"),
        ("x-trl", "trl", "sft"),
        ("x-hf", "huggingface", "sft"),
    ] {
        let run = wd
            .rlx(["export", &src, "-o", out, "--json", "--split-ratio", "0"])
            .run();
        run.expect_success();
        let r = run.json();
        assert_eq!(at_str(&r, "format"), format, "{out}");
        assert_eq!(at_str(&r, "stats.objective"), objective, "{out}");
        assert!(!at_str(&r, "objectiveReason").is_empty());
    }
}

#[test]
fn format_all_with_dpo_writes_every_format_that_can() {
    let wd = Workdir::new();
    let src = wd.write("log.jsonl", pair_log()).display().to_string();
    let r = export(
        &wd,
        &src,
        &[
            "--format",
            "all",
            "--objective",
            "dpo",
            "--split-ratio",
            "0",
        ],
    );
    let formats: Vec<&str> = r["formats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["format"].as_str().unwrap())
        .collect();
    assert_eq!(formats, ["openai", "trl"]);
    let line: Value = read_jsonl(&wd.path("out/openai/train.jsonl"))[0].clone();
    assert_eq!(
        line.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["input", "preferred_output", "non_preferred_output"]
    );
    assert_eq!(line["input"]["messages"].as_array().unwrap().len(), 2);
    assert_eq!(line["preferred_output"][0]["role"], "assistant");
    let meta: Value = serde_json::from_slice(&wd.read("out/openai/metadata.json")).unwrap();
    assert_eq!(meta["method"]["type"], "dpo");
    assert_eq!(meta["model"], "gpt-4.1-mini-2025-04-14");
}

#[test]
fn pairs_are_byte_identical_whatever_the_thread_count() {
    for objective in ["dpo", "reward", "kto"] {
        let mut outputs = Vec::new();
        for threads in ["1", "2", "7"] {
            let wd = Workdir::new();
            wd.rlx([
                "export",
                &fx("consolidation/examples.jsonl"),
                "-o",
                "out",
                "--format",
                "trl",
                "--objective",
                objective,
                "--pair-by",
                "state.scopeStats.scopeType",
                "--pairs",
                "all",
                "--threads",
                threads,
            ])
            .run()
            .expect_success();
            outputs.push(read_tree(&wd.path("out")));
        }
        assert_eq!(outputs[0], outputs[1], "{objective}");
        assert_eq!(outputs[0], outputs[2], "{objective}");
    }
}

/// TRL's own code reads what rlx writes: `datasets` loads the directory, the
/// `trl.data_utils` functions accept every row, and each trainer trains two steps on CPU
/// (tests/consumers/check_trl.py, in the venv tests/consumers/setup-trl-venv.sh keeps
/// under ~/.cache).
#[test]
fn trl_trainers_train_on_every_objective_and_policy() {
    let py = crate::consumers::trl_python();
    let mut cases: Vec<(&str, &str, &str)> = Vec::new();
    for policy in POLICIES {
        for objective in ["sft", "dpo", "kto", "reward"] {
            cases.push((policy, objective, "conversational"));
        }
    }
    for objective in ["sft", "dpo", "kto", "reward"] {
        cases.push(("consolidation", objective, "standard"));
    }
    for (policy, objective, style) in cases {
        let wd = Workdir::new();
        let mut args = vec![
            "export".to_string(),
            fx(&format!("{policy}/pairs.jsonl")),
            "-o".into(),
            "out".into(),
            "--format".into(),
            "trl".into(),
            "--objective".into(),
            objective.into(),
            "--trl-style".into(),
            style.into(),
        ];
        if objective == "dpo" || objective == "reward" {
            args.extend(["--pairs".into(), "all".into()]);
        }
        args.push("--json".into());
        let run = wd.rlx(args).run();
        run.expect_success();
        let mut check = vec![
            "--objective".to_string(),
            objective.into(),
            "--style".into(),
            style.into(),
            "--steps".into(),
            "2".into(),
        ];
        if objective == "kto" {
            // With the weights rlx recommends, KTOTrainer's balance check has nothing to
            // say, and --strict fails on any warning it would give.
            let w = &run.json()["stats"]["kto"]["weights"];
            check.extend([
                "--kto-weights".into(),
                format!("{},{}", w["desirableWeight"], w["undesirableWeight"]),
                "--strict".into(),
            ]);
        }
        let out = std::process::Command::new(py)
            .arg(repo().join("tests/consumers/check_trl.py"))
            .arg(wd.path("out"))
            .args(&check)
            .output()
            .expect("running check_trl.py");
        assert!(
            out.status.success(),
            "check_trl.py rejected {policy} --objective {objective} --trl-style {style}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
