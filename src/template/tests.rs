//! The template engine against the built-in renderings: `template show`'s file renders the
//! built-in bytes for every policy and answer, on the fixtures and on generated states
//! with the values that are easy to get wrong (numbers not in minijinja's own form,
//! escapes, empty and nested lists, unknown fields and groups, nulls).

use proptest::prelude::*;

use super::show::built_in_template;
use super::*;
use crate::example::Policy;
use crate::json::ExampleText;
use crate::prompt::{self, Answer, StateText};

const ANSWERS: [Answer; 3] = [Answer::Action, Answer::Decision, Answer::DecisionAndBand];

fn built_in(policy: Policy, answer: Answer, line: &str) -> Texts {
    let ex = ExampleText::parse(line.as_bytes()).unwrap_or_else(|_| panic!("valid: {line}"));
    let state = StateText::parse(ex.state).expect("a state object");
    // Spelled out here rather than prompt::render_answer, so the test is independent.
    let assistant = match answer {
        Answer::Action => prompt::pretty_action(ex.action),
        Answer::Decision => prompt::render_assistant(policy, &ex),
        Answer::DecisionAndBand => format!(
            "{}, indicating {}.",
            prompt::render_assistant(policy, &ex),
            prompt::reward_band(ex.reward_value)
        ),
    };
    Texts {
        system: prompt::system_prompt(policy).to_string(),
        user: prompt::render_user_prompt(policy, &state),
        assistant,
    }
}

fn templated(template: &PromptTemplate, policy: Policy, line: &str) -> Result<Texts, String> {
    let ex = ExampleText::parse(line.as_bytes()).unwrap_or_else(|_| panic!("valid: {line}"));
    let context = Context::new(policy, "train", &ex, line.as_bytes());
    template.render(&context)
}

fn fixture_lines(policy: Policy) -> Vec<String> {
    let path = format!(
        "{}/fixtures/{}/examples.jsonl",
        env!("CARGO_MANIFEST_DIR"),
        policy.name()
    );
    let text = std::fs::read_to_string(&path).expect("the policy's fixture");
    text.lines().map(str::to_string).collect()
}

fn shown_template(policy: Policy, answer: Answer) -> PromptTemplate {
    let text = built_in_template(policy, answer, "--format test");
    PromptTemplate::parse("shown.j2", &text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

#[test]
fn shown_templates_render_the_built_in_texts_of_every_fixture() {
    for policy in Policy::ALL {
        for answer in ANSWERS {
            let template = shown_template(policy, answer);
            for line in fixture_lines(policy) {
                assert_eq!(
                    templated(&template, policy, &line).unwrap(),
                    built_in(policy, answer, &line),
                    "{policy} {answer:?}: {line}"
                );
            }
        }
    }
}

/// A value the built-ins show in a way that is easy to get wrong.
fn odd_value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("1e-05".to_string()),
        Just("-0".to_string()),
        Just("1.50".to_string()),
        Just("7.0".to_string()),
        Just("12345678901234567890123".to_string()),
        Just("1E+2".to_string()),
        Just("0.0625".to_string()),
        Just("null".to_string()),
        Just("true".to_string()),
        Just(r#""a \"quoted\" \u00e9 \/ {{ not a tag }}""#.to_string()),
        Just(r#""line\nbreak""#.to_string()),
        Just("[]".to_string()),
        Just("{}".to_string()),
        Just(r#"{"k": [1, "two", null], "n": {"x": 1e-7}}"#.to_string()),
        any::<i32>().prop_map(|i| i.to_string()),
        (-1e6f64..1e6).prop_map(|x| format!("{x}")),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop::collection::vec(inner, 0..3).prop_map(|items| format!("[{}]", items.join(", ")))
    })
}

/// An example of `policy` whose known fields are plain, with odd extra fields in known
/// groups, odd values in the list, score and optional fields, and odd extra groups.
fn odd_example(policy: Policy) -> impl Strategy<Value = String> {
    (
        prop::collection::vec(odd_value(), 4),
        -2.0f64..2.0,
        prop::sample::select(vec!["0.0625", "1e-3", "0.7996", "-0.5", "1"]),
    )
        .prop_map(move |(odd, score, reward)| {
            let mut groups = Vec::new();
            for (n, section) in prompt::sections(policy).iter().enumerate() {
                let mut members = Vec::new();
                for field in section.fields {
                    let value = match field.kind {
                        _ if field.is_optional => odd[0].clone(),
                        prompt::FieldKind::Count => "3".to_string(),
                        prompt::FieldKind::Score => format!("{score}"),
                        prompt::FieldKind::Flag => "false".to_string(),
                        prompt::FieldKind::Text => r#""café\tbar""#.to_string(),
                        prompt::FieldKind::List => format!("[{}, \"x\"]", odd[1]),
                    };
                    members.push(format!("\"{}\": {value}", field.key));
                }
                if n == 1 {
                    members.push(format!("\"extraField\": {}", odd[2]));
                }
                groups.push(format!("\"{}\": {{{}}}", section.group, members.join(", ")));
            }
            groups.push(format!("\"customGroup\": {}", odd[3]));
            groups.push(r#""flagGroup": {"a": 1e-05, "b": []}"#.to_string());
            format!(
                r#"{{"state": {{{}}}, "action": {{"decision": "store", "priority": 1.50, "tags": ["a", 1e2], "nested": {{}}}}, "reward": {reward}}}"#,
                groups.join(", ")
            )
        })
}

fn any_policy_example() -> impl Strategy<Value = (Policy, String)> {
    prop::sample::select(Policy::ALL.to_vec())
        .prop_flat_map(|policy| odd_example(policy).prop_map(move |line| (policy, line)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn shown_templates_render_odd_values_as_the_built_ins_do((policy, line) in any_policy_example()) {
        for answer in ANSWERS {
            let template = shown_template(policy, answer);
            let expected = built_in(policy, answer, &line);
            prop_assert_eq!(templated(&template, policy, &line).unwrap(), expected, "{}", line);
        }
    }
}

fn first_line(policy: Policy) -> String {
    fixture_lines(policy).remove(0)
}

#[test]
fn a_missing_field_names_the_template_line() {
    let template = PromptTemplate::parse(
        "mine.j2",
        "=== system ===\nHi\n=== user ===\nTurn {{ state.contextFeatures.turnNumber }}\nSession {{ metadata.sessionId.deep }}\n=== assistant ===\n{{ action | tojson }}\n",
    )
    .unwrap();
    let line = first_line(Policy::Extraction).replace("\"metadata\"", "\"meta\"");
    let e = templated(&template, Policy::Extraction, &line).unwrap_err();
    assert!(e.starts_with("template mine.j2:5:"), "{e}");
    assert!(e.contains("metadata.sessionId"), "{e}");
}

#[test]
fn syntax_errors_and_unknown_names_are_usage_errors_with_line_and_column() {
    let e = PromptTemplate::parse(
        "t.j2",
        "# c\n=== system ===\nok\n=== user ===\nfine\n{{ state.x | nosuch }}\n=== assistant ===\nx\n",
    )
    .unwrap_err();
    assert!(e.0.starts_with("t.j2:6:"), "{e}");
    assert!(e.0.contains("\"nosuch\" is unknown"), "{e}");
    let e = PromptTemplate::parse(
        "t.j2",
        "=== system ===\nok\n=== user ===\n{% for x in state %}\n=== assistant ===\nx\n",
    )
    .unwrap_err();
    assert!(e.0.starts_with("t.j2:4:"), "{e}");
    assert!(e.0.contains("syntax error"), "{e}");
    let e = PromptTemplate::parse(
        "t.j2",
        "=== system ===\n{{ states }}\n=== user ===\n=== assistant ===\n",
    )
    .unwrap_err();
    assert!(e.0.contains("\"states\""), "{e}");
    let e = PromptTemplate::parse(
        "t.j2",
        "=== system ===\n{{ user }}\n=== user ===\n=== assistant ===\n",
    )
    .unwrap_err();
    assert!(e.0.contains("\"user\""), "{e}");
    let e = LineTemplate::parse("l.j2", "{{ 1 is nosuchtest }}").unwrap_err();
    assert!(e.0.starts_with("l.j2:1:"), "{e}");
    assert!(e.0.contains("test \"nosuchtest\""), "{e}");
    let e = LineTemplate::parse("l.j2", "\n\n  {{ nosuchfn(1) }}").unwrap_err();
    assert!(e.0.starts_with("l.j2:3:"), "{e}");
    // Names the template sets itself, and minijinja's functions, are fine.
    LineTemplate::parse(
        "l.j2",
        "{% set x = range(3) | list %}{% for i in x %}{{ i }}{% endfor %}{{ user | tojson }}",
    )
    .unwrap();
}

#[test]
fn line_templates_render_one_compact_json_value() {
    let t = LineTemplate::parse(
        "l.j2",
        "{\n  \"instruction\": {{ user | tojson }},\n  \"output\": {{ action | tojson }},\n  \"r\": {{ reward }},\n  \"p\": {{ policy | tojson }}\n}\n",
    )
    .unwrap();
    let line = r#"{"state":{"a":1},"action":{"x":1.50,"s":"\u00e9"},"reward":1e-05}"#;
    let ex = ExampleText::parse(line.as_bytes()).unwrap_or_else(|_| panic!("valid"));
    let mut context = Context::new(Policy::Retrieval, "eval", &ex, line.as_bytes());
    context.set_texts("S", "U \"q\"\n", "A");
    assert_eq!(
        t.render(&context).unwrap(),
        r#"{"instruction":"U \"q\"\n","output":{"x":1.50,"s":"é"},"r":1e-05,"p":"retrieval"}"#
    );
    let bad = LineTemplate::parse("l.j2", "{\"a\": {{ user }}}").unwrap();
    let mut context = Context::new(Policy::Retrieval, "eval", &ex, line.as_bytes());
    context.set_texts("S", "two words", "A");
    let e = bad.render(&context).unwrap_err();
    assert!(e.contains("not one JSON value"), "{e}");
    assert!(e.contains("two words"), "{e}");
    assert_eq!(
        compact_json("{\"a\": 1, \"a\": 2}").unwrap_err(),
        "the key \"a\" appears twice in one object"
    );
    assert!(compact_json("1 2").is_err());
}

#[test]
fn numbers_print_as_written_and_compute_as_numbers() {
    let t = LineTemplate::parse(
        "l.j2",
        "[{{ state.a }}, {{ state.b }}, {{ state.c }}, {{ state.a * 2 }}, {{ (state.b > 1) | tojson }}, {{ state.d | fixed(2) | tojson }}]",
    )
    .unwrap();
    let line = r#"{"state":{"a":1e-05,"b":1.50,"c":-0,"d":2.345},"action":{},"reward":0}"#;
    let ex = ExampleText::parse(line.as_bytes()).unwrap_or_else(|_| panic!("valid"));
    let context = Context::new(Policy::Retrieval, "train", &ex, line.as_bytes());
    assert_eq!(
        t.render(&context).unwrap(),
        r#"[1e-05,1.50,-0,0.00002,true,"2.35"]"#
    );
}
