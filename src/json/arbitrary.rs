//! Test support for the JSON text layer: proptest strategies for arbitrary JSON values
//! and examples full of awkward keys, and `parsed`, an example read by serde_json's
//! validating parse. Compiled for tests only.

use proptest::prelude::*;
use serde_json::{json, Value};

use super::example_text::{ExampleText, TextError};

/// `v` as JSON text, compact or pretty-printed.
pub fn json_text(v: &Value, pretty: bool) -> String {
    if pretty {
        serde_json::to_string_pretty(v).expect("a Value always serializes")
    } else {
        serde_json::to_string(v).expect("a Value always serializes")
    }
}

/// An example read by serde_json's validating parse; panics with its error.
pub fn parsed(s: &str) -> ExampleText<'_> {
    match ExampleText::parse(s.as_bytes()) {
        Ok(t) => t,
        Err(TextError::Json(e)) => panic!("{e}"),
        Err(TextError::Shape(e)) => panic!("{e}"),
    }
}

pub fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{1,6}",
        Just("a.b".to_string()),
        Just("é\"\\".to_string()),
        Just(String::new()),
    ]
}

pub fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        "[ -~]{0,8}|\u{1F680}\n\t\u{2028}".prop_map(Value::from),
        Just(serde_json::from_str("123456789012345678901234").unwrap()),
    ];
    leaf.prop_recursive(3, 20, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(key(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

pub fn example() -> impl Strategy<Value = Value> {
    (
        prop::collection::btree_map(key(), value(), 0..4),
        prop::collection::btree_map(key(), value(), 0..3),
        prop::option::of(prop::collection::btree_map(key(), value(), 0..3)),
        prop::option::of(prop::collection::btree_map(key(), value(), 0..3)),
        prop::collection::btree_map("x[a-z]{0,3}", value(), 0..2),
        -1.0f64..1.0,
    )
        .prop_map(|(state, action, next, meta, extra, reward)| {
            let mut ex = json!({
                "state": Value::Object(state.into_iter().collect()),
                "action": Value::Object(action.into_iter().collect()),
                "reward": reward,
            });
            if let Some(n) = next {
                ex["nextState"] = Value::Object(n.into_iter().collect());
            }
            if let Some(m) = meta {
                ex["metadata"] = Value::Object(m.into_iter().collect());
            }
            for (k, v) in extra {
                ex[k] = v;
            }
            ex
        })
}
