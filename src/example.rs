//! The domain: an `Example` (state, action, reward, optional nextState and metadata, and
//! any other keys, kept in order), the three `Policy`s and how to tell them apart, and the
//! `Split`s an export writes. Numbers keep their original text (serde_json's
//! arbitrary_precision), so a round trip changes nothing.

use std::fmt;

use clap::ValueEnum;
use serde::Serialize;
use serde_json::{Map, Number, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// store, skip or defer what a conversation said
    Extraction,
    /// whether and where to search memory
    Retrieval,
    /// merge, dedupe, archive, abstract or keep memory entries
    Consolidation,
}

impl Policy {
    pub const ALL: [Policy; 3] = [Policy::Extraction, Policy::Retrieval, Policy::Consolidation];

    pub fn name(self) -> &'static str {
        match self {
            Policy::Extraction => "extraction",
            Policy::Retrieval => "retrieval",
            Policy::Consolidation => "consolidation",
        }
    }

    /// The name with its indefinite article ("an extraction", "a retrieval").
    pub fn with_article(self) -> &'static str {
        match self {
            Policy::Extraction => "an extraction",
            Policy::Retrieval => "a retrieval",
            Policy::Consolidation => "a consolidation",
        }
    }

    /// The state keys that identify this policy.
    pub fn signature(self) -> &'static [&'static str] {
        match self {
            Policy::Extraction => &["contextFeatures", "memoryState", "contentFeatures"],
            Policy::Retrieval => &["queryFeatures"],
            Policy::Consolidation => &["groupFeatures"],
        }
    }

    /// The action key every action of this policy has.
    pub fn action_key(self) -> &'static str {
        match self {
            Policy::Extraction => "decision",
            Policy::Retrieval => "shouldRetrieve",
            Policy::Consolidation => "action",
        }
    }

    /// Detect the policy from the state's top-level keys. Retrieval states also carry
    /// `contextFeatures`, so the more specific signatures are tried first.
    pub fn detect(state: &Map<String, Value>) -> Option<Policy> {
        Policy::detect_by(|k| state.contains_key(k))
    }

    /// `detect` over any view of the state's keys.
    pub fn detect_by(has_key: impl Fn(&str) -> bool) -> Option<Policy> {
        [Policy::Retrieval, Policy::Consolidation, Policy::Extraction]
            .into_iter()
            .find(|p| p.signature().iter().all(|k| has_key(k)))
    }

    pub fn describe_signatures() -> String {
        Policy::ALL
            .iter()
            .map(|p| format!("{} → {}", p.signature().join("+"), p.name()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The splits an export writes, in file order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    Train,
    Validation,
    Eval,
}

impl Split {
    pub const ALL: [Split; 3] = [Split::Train, Split::Validation, Split::Eval];

    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Validation => "validation",
            Split::Eval => "eval",
        }
    }
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One logged decision.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    pub state: Map<String, Value>,
    pub action: Map<String, Value>,
    pub reward: Number,
    pub next_state: Option<Map<String, Value>>,
    pub metadata: Option<Map<String, Value>>,
    /// Keys beyond the five above, in input order.
    pub extra: Map<String, Value>,
}

/// Why a JSON value is not an example. The text is the "what was found; what was
/// expected" half of a message; the location is added by the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct ShapeError(pub String);

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A short description of a JSON value for messages: its type and, cut to ~60
/// characters, its text.
pub fn describe_value(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {}", quote_cut(&n.to_string(), false)),
        Value::String(s) => format!("the string {}", quote_cut(s, true)),
        Value::Array(a) => format!("an array of {} items", a.len()),
        Value::Object(_) => "an object".to_string(),
    }
}

/// `text` cut to about 60 characters, as a JSON string literal when `quoted`.
pub fn quote_cut(text: &str, quoted: bool) -> String {
    const LIMIT: usize = 60;
    let cut: String = text.chars().take(LIMIT).collect();
    let ellipsis = if cut.len() < text.len() { "…" } else { "" };
    if quoted {
        format!("{}{ellipsis}", Value::String(cut))
    } else {
        format!("{cut}{ellipsis}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn policies_are_detected_from_state_keys() {
        let ex = json!({"contextFeatures": {}, "memoryState": {}, "contentFeatures": {}});
        assert_eq!(
            Policy::detect(ex.as_object().unwrap()),
            Some(Policy::Extraction)
        );
        let re = json!({"queryFeatures": {}, "contextFeatures": {}, "memoryStats": {}});
        assert_eq!(
            Policy::detect(re.as_object().unwrap()),
            Some(Policy::Retrieval)
        );
        let co = json!({"groupFeatures": {}});
        assert_eq!(
            Policy::detect(co.as_object().unwrap()),
            Some(Policy::Consolidation)
        );
        let none = json!({"contextFeatures": {}});
        assert_eq!(Policy::detect(none.as_object().unwrap()), None);
    }

    #[test]
    fn values_are_described_with_their_type() {
        assert_eq!(describe_value(&json!("0.8")), "the string \"0.8\"");
        assert_eq!(describe_value(&json!([1, 2])), "an array of 2 items");
        assert_eq!(describe_value(&json!(null)), "null");
        let long = "x".repeat(100);
        assert_eq!(quote_cut(&long, false).chars().count(), 61);
    }
}
