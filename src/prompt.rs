//! The text renderings of an example, shared by the OpenAI and Anthropic formats so both
//! say exactly the same thing: a system prompt per policy, the state as a user prompt
//! (every field under its heading), and the action as the assistant's answer.
//!
//! The field table here is also what `validate` checks a state against when a format
//! needs prompts, so a missing field is reported before any file is written.
//!
//! A user's `--template` replaces these texts (`template`); `template_texts` is the one
//! door every format renders a template through, and `template show` writes the texts
//! here out as a template file that renders the same bytes.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::Write as _;

use serde_json::Value;

use crate::example::Policy;
use crate::json::{
    describe_raw, items_of, minified, string_of, ExampleText, Raw, RawMap, ScanError,
};

/// How a state field is shown, and what type it must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// A number shown as written (`7`, `12.5`).
    Count,
    /// A number shown with 3 decimals.
    Score,
    Flag,
    Text,
    /// An array of scalars, comma-joined (`none` when empty).
    List,
}

pub struct Field {
    pub key: &'static str,
    pub label: &'static str,
    pub kind: FieldKind,
    pub is_optional: bool,
}

pub struct Section {
    pub group: &'static str,
    pub heading: &'static str,
    pub fields: &'static [Field],
}

const fn f(key: &'static str, label: &'static str, kind: FieldKind) -> Field {
    Field {
        key,
        label,
        kind,
        is_optional: false,
    }
}

const fn opt(key: &'static str, label: &'static str, kind: FieldKind) -> Field {
    Field {
        key,
        label,
        kind,
        is_optional: true,
    }
}

use FieldKind::{Count, Flag, List, Score, Text};

const EXTRACTION: &[Section] = &[
    Section {
        group: "contextFeatures",
        heading: "Context Information",
        fields: &[
            f("turnNumber", "Turn", Count),
            f("tokenCount", "Tokens", Count),
            f("toolCallCount", "Tool Calls", Count),
            f("hasError", "Has Error", Flag),
            f("userTurnCount", "User Turns", Count),
            f("assistantTurnCount", "Assistant Turns", Count),
        ],
    },
    Section {
        group: "memoryState",
        heading: "Memory State",
        fields: &[
            f("totalEntries", "Total Entries", Count),
            f("recentExtractions", "Recent Extractions", Count),
            f("similarEntryExists", "Similar Entry Exists", Flag),
            f("sessionCaptureCount", "Session Captures", Count),
        ],
    },
    Section {
        group: "contentFeatures",
        heading: "Content Features",
        fields: &[
            f("hasDecision", "Has Decision", Flag),
            f("hasRule", "Has Rule", Flag),
            f("hasFact", "Has Fact", Flag),
            f("hasCommand", "Has Command", Flag),
            f("noveltyScore", "Novelty Score", Score),
            f("complexity", "Complexity", Score),
        ],
    },
];

const RETRIEVAL: &[Section] = &[
    Section {
        group: "queryFeatures",
        heading: "Query Features",
        fields: &[
            f("queryLength", "Query Length", Count),
            f("hasKeywords", "Has Keywords", Flag),
            f("queryComplexity", "Complexity", Score),
            f("semanticCategory", "Category", Text),
        ],
    },
    Section {
        group: "contextFeatures",
        heading: "Context",
        fields: &[
            f("turnNumber", "Turn", Count),
            f("conversationDepth", "Conversation Depth", Count),
            f("recentToolCalls", "Recent Tool Calls", Count),
            f("hasErrors", "Has Errors", Flag),
        ],
    },
    Section {
        group: "memoryStats",
        heading: "Memory Statistics",
        fields: &[
            f("totalEntries", "Total Entries", Count),
            f("recentRetrievals", "Recent Retrievals", Count),
            f("avgRetrievalSuccess", "Average Success Rate", Score),
            opt("lastRetrievalTime", "Last Retrieval Time", Count),
        ],
    },
];

const CONSOLIDATION: &[Section] = &[
    Section {
        group: "groupFeatures",
        heading: "Group Features",
        fields: &[
            f("groupSize", "Group Size", Count),
            f("avgSimilarity", "Average Similarity", Score),
            f("minSimilarity", "Min Similarity", Score),
            f("maxSimilarity", "Max Similarity", Score),
            f("entryTypes", "Entry Types", List),
        ],
    },
    Section {
        group: "usageStats",
        heading: "Usage Statistics",
        fields: &[
            f("totalRetrievals", "Total Retrievals", Count),
            f("avgRetrievalRank", "Average Retrieval Rank", Score),
            f("successRate", "Success Rate", Score),
            f("lastAccessedDaysAgo", "Days Since Last Access", Count),
        ],
    },
    Section {
        group: "scopeStats",
        heading: "Scope Statistics",
        fields: &[
            f("scopeType", "Scope Type", Text),
            f("totalEntriesInScope", "Total Entries in Scope", Count),
            f("duplicateRatio", "Duplicate Ratio", Score),
        ],
    },
];

pub fn sections(policy: Policy) -> &'static [Section] {
    match policy {
        Policy::Extraction => EXTRACTION,
        Policy::Retrieval => RETRIEVAL,
        Policy::Consolidation => CONSOLIDATION,
    }
}

pub fn system_prompt(policy: Policy) -> &'static str {
    match policy {
        Policy::Extraction => "You are the extraction policy of an agent memory system. After each conversation turn you decide whether what was said should be stored in long-term memory now (store), ignored (skip) or reconsidered later (defer), and, when storing, as which entry type and with what priority. Answer with your decision as JSON.",
        Policy::Retrieval => "You are the retrieval policy of an agent memory system. For each user query you decide whether searching long-term memory will help and, if so, in which scope, for which entry types and how many results to fetch. Answer with your decision as JSON.",
        Policy::Consolidation => "You are the consolidation policy of an agent memory system. For each group of similar memory entries you decide whether to merge them, remove duplicates (dedupe), archive them, abstract them into a more general entry, or keep them as they are. Answer with your decision as JSON.",
    }
}

pub fn lead_in(policy: Policy) -> &'static str {
    match policy {
        Policy::Extraction => {
            "Analyze this conversation turn and decide whether to store its content in memory:"
        }
        Policy::Retrieval => {
            "Analyze the features of this query and decide whether and how to search memory:"
        }
        Policy::Consolidation => {
            "Analyze this group of memory entries and decide how to consolidate it:"
        }
    }
}

pub fn closing_question(policy: Policy) -> &'static str {
    match policy {
        Policy::Extraction => "What should the memory system do with this content?",
        Policy::Retrieval => "Should memory be searched for this query, and how?",
        Policy::Consolidation => "How should this group of entries be consolidated?",
    }
}

pub fn answer_lead_in(policy: Policy) -> &'static str {
    match policy {
        Policy::Extraction => "Based on the analysis, here is the extraction decision:",
        Policy::Retrieval => "Based on the analysis, here is the retrieval decision:",
        Policy::Consolidation => "Based on the analysis, here is the consolidation decision:",
    }
}

/// What a format's assistant text says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// The action alone as pretty JSON: the completion of the reward-aware formats,
    /// which must not say the reward.
    Action,
    /// A lead-in, the action in a fenced block, the expected reward (openai, bedrock).
    Decision,
    /// The decision and the reward band (the legacy Anthropic completion).
    DecisionAndBand,
}

impl Answer {
    /// The answer of a format that renders built-in texts for `objective`: the
    /// reward-aware objectives never show the reward.
    pub fn for_objective(objective: crate::objective::Objective) -> Answer {
        match objective {
            crate::objective::Objective::Sft => Answer::Decision,
            _ => Answer::Action,
        }
    }
}

/// The assistant text of `answer` for `example`.
pub fn render_answer(policy: Policy, answer: Answer, example: &ExampleText) -> String {
    match answer {
        Answer::Action => pretty_action(example.action),
        Answer::Decision => render_assistant(policy, example),
        Answer::DecisionAndBand => {
            let mut out = String::with_capacity(320);
            push_assistant(&mut out, policy, example);
            out.push_str(", indicating ");
            out.push_str(reward_band(example.reward_value));
            out.push('.');
            out
        }
    }
}

/// The texts of `example` (whose text is `bytes`) from the user's template, in `split`;
/// an error names the example.
pub fn template_texts(
    template: &crate::template::PromptTemplate,
    policy: Policy,
    split: crate::example::Split,
    location: &crate::input::Location,
    example: &ExampleText,
    bytes: &[u8],
) -> anyhow::Result<crate::template::Texts> {
    let context = crate::template::Context::new(policy, split.name(), example, bytes);
    template.render(&context).map_err(|e| {
        anyhow::anyhow!(
            "{location}: {e} (--skip-invalid skips such examples and lists them in rejected.jsonl)"
        )
    })
}

/// A state's groups, borrowed from the example's text, with the members of each group
/// that is an object.
pub struct StateText<'a> {
    groups: RawMap<'a>,
    members: Vec<Option<RawMap<'a>>>,
}

impl<'a> StateText<'a> {
    pub fn parse(state: Raw<'a>) -> Result<StateText<'a>, ScanError> {
        let (groups, members) = RawMap::parse_nested(state)?;
        Ok(StateText { groups, members })
    }

    /// A state whose groups (and their members, one per group, `None` where the group is
    /// not an object) were already found.
    pub fn from_groups(groups: RawMap<'a>, members: Vec<Option<RawMap<'a>>>) -> StateText<'a> {
        StateText { groups, members }
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.groups.contains_key(key)
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.groups.keys()
    }

    /// The group's members when it is an object; `Err` holds what it is instead. A
    /// repeated group keeps its last value, as everywhere else.
    fn group(&self, key: &str) -> Option<Result<&RawMap<'a>, Raw<'a>>> {
        let at = self.groups.0.iter().rposition(|(k, _)| k == key)?;
        let raw = self.groups.0[at].1;
        match &self.members[at] {
            Some(members) => Some(Ok(members)),
            None if raw.get() == "null" => None,
            None => Some(Err(raw)),
        }
    }
}

/// A prompt format's second reading of an example: its parts and its state's groups,
/// found in one scan.
pub fn reread<'a>(
    location: &crate::input::Location,
    bytes: &'a [u8],
) -> anyhow::Result<(ExampleText<'a>, StateText<'a>)> {
    let (example, groups, members) = crate::json::reparse_with_state(location, bytes)?;
    Ok((example, StateText::from_groups(groups, members)))
}

/// Check that `state` has every field the rendering needs, with a usable type.
/// Returns the first problem as "what was found; what was expected".
pub fn check_state_fields(policy: Policy, state: &StateText) -> Result<(), String> {
    for section in sections(policy) {
        let group = match state.group(section.group) {
            Some(Ok(g)) => g,
            None => {
                return Err(format!(
                    "state has no \"{}\"; expected the {} group every {} prompt shows",
                    section.group, section.heading, policy
                ))
            }
            Some(Err(other)) => {
                return Err(format!(
                    "state.{} is {}; expected an object",
                    section.group,
                    describe_raw(other)
                ))
            }
        };
        for field in section.fields {
            // Built only for a message: this loop runs for every field of every example.
            let path = || format!("state.{}.{}", section.group, field.key);
            match group.get(field.key).filter(|v| v.get() != "null") {
                None if field.is_optional => {}
                None => {
                    return Err(format!(
                        "{} is missing; expected {} (the {} prompt shows it as \"{}\")",
                        path(),
                        kind_name(field.kind),
                        policy,
                        field.label
                    ))
                }
                Some(v) if !kind_accepts(field.kind, v) => {
                    return Err(format!(
                        "{} is {}; expected {}",
                        path(),
                        describe_raw(v),
                        kind_name(field.kind)
                    ))
                }
                Some(_) => {}
            }
        }
    }
    Ok(())
}

fn kind_name(kind: FieldKind) -> &'static str {
    match kind {
        Count | Score => "a number",
        Flag => "true or false",
        Text => "a string",
        List => "an array",
    }
}

fn is_number(raw: Raw) -> bool {
    raw.get()
        .as_bytes()
        .first()
        .is_some_and(|b| *b == b'-' || b.is_ascii_digit())
}

fn kind_accepts(kind: FieldKind, v: Raw) -> bool {
    let text = v.get();
    match kind {
        Count => is_number(v),
        Score => is_number(v) && text.parse::<f64>().is_ok_and(f64::is_finite),
        Flag => text == "true" || text == "false",
        Text => text.starts_with('"'),
        List => text.starts_with('['),
    }
}

/// The user message: a lead-in, every state field under its heading, and a question.
pub fn render_user_prompt(policy: Policy, state: &StateText) -> String {
    let mut out = String::with_capacity(768);
    out.push_str(lead_in(policy));
    out.push_str("\n\n");
    let known = sections(policy);
    for (n, section) in known.iter().enumerate() {
        if n > 0 {
            out.push_str("\n\n");
        }
        out.push_str("**");
        out.push_str(section.heading);
        out.push_str(":**");
        let group = state.group(section.group).and_then(Result::ok);
        for field in section.fields {
            let value = group.as_ref().and_then(|g| g.get(field.key));
            out.push_str("\n- ");
            out.push_str(field.label);
            out.push_str(": ");
            match value {
                None => out.push_str("n/a"),
                Some(v) => render_field(&mut out, field.kind, v),
            }
        }
        // Fields the table does not know are shown too, under their own key.
        if let Some(g) = &group {
            for (key, v) in &g.0 {
                if !section.fields.iter().any(|f| f.key == key) {
                    let _ = write!(out, "\n- {key}: ");
                    render_value(&mut out, *v);
                }
            }
        }
    }
    for ((key, v), members) in state.groups.0.iter().zip(&state.members) {
        if known.iter().any(|s| s.group == key) {
            continue;
        }
        let _ = write!(out, "\n\n**{key}:**");
        match members {
            Some(members) => {
                for (k, v) in &members.0 {
                    let _ = write!(out, "\n- {k}: ");
                    render_value(&mut out, *v);
                }
            }
            None => {
                out.push_str("\n- ");
                render_value(&mut out, *v);
            }
        }
    }
    out.push_str("\n\n");
    out.push_str(closing_question(policy));
    out
}

fn render_field(out: &mut String, kind: FieldKind, v: Raw) {
    match kind {
        Score if is_number(v) => match v.get().parse::<f64>() {
            Ok(x) if x.is_finite() => push_fixed3(out, x),
            _ => out.push_str(v.get()),
        },
        List if v.get() == "[]" => out.push_str("none"),
        _ => render_value(out, v),
    }
}

/// Scalars as text, arrays comma-joined, objects as compact JSON, null as n/a.
fn render_value(out: &mut String, v: Raw) {
    let text = v.get();
    match text.as_bytes().first() {
        None | Some(b'n') => out.push_str("n/a"),
        Some(b'"') => out.push_str(&string_of(v).unwrap_or_default()),
        Some(b'[') => {
            let items = items_of(v).unwrap_or_default();
            if items.is_empty() {
                out.push_str("none");
            }
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                render_value(out, *item);
            }
        }
        Some(b'{') => out.push_str(&minified(v)),
        Some(_) => out.push_str(text),
    }
}

/// The action as pretty JSON in a fenced block, after a lead-in line, appended to `out`.
pub fn push_decision(out: &mut String, policy: Policy, action: Raw) {
    // A log holds few distinct actions, and pretty-printing one means parsing it into a
    // Value: remember the last renderings per thread.
    thread_local! {
        static RENDERED: RefCell<[HashMap<String, String>; 3]> = RefCell::new(Default::default());
    }
    let slot = policy as usize;
    let is_cached = RENDERED.with(|c| match c.borrow()[slot].get(action.get()) {
        Some(hit) => {
            out.push_str(hit);
            true
        }
        None => false,
    });
    if is_cached {
        return;
    }
    let rendered = format!(
        "{}\n\n```json\n{}\n```",
        answer_lead_in(policy),
        pretty_action(action)
    );
    out.push_str(&rendered);
    RENDERED.with(|c| {
        let cache = &mut c.borrow_mut()[slot];
        if cache.len() >= 4096 {
            cache.clear();
        }
        cache.insert(action.get().to_string(), rendered);
    });
}

/// The action alone as pretty JSON (2-space indent, keys and numbers as in the input):
/// the completion of the reward-aware formats, which must not say the reward.
pub fn pretty_action(action: Raw) -> String {
    thread_local! {
        static PRETTY: RefCell<HashMap<String, String>> = RefCell::new(HashMap::new());
    }
    if let Some(hit) = PRETTY.with(|c| c.borrow().get(action.get()).cloned()) {
        return hit;
    }
    let value: Value = serde_json::from_str(action.get()).unwrap_or(Value::Null);
    let pretty = serde_json::to_string_pretty(&value)
        .expect("a serde_json value always serializes: its keys are strings");
    PRETTY.with(|c| {
        let mut cache = c.borrow_mut();
        if cache.len() >= 4096 {
            cache.clear();
        }
        cache.insert(action.get().to_string(), pretty.clone());
    });
    pretty
}

/// The assistant message: the decision, then the expected reward with 3 decimals.
pub fn render_assistant(policy: Policy, example: &ExampleText) -> String {
    let mut out = String::with_capacity(256);
    push_assistant(&mut out, policy, example);
    out
}

/// `render_assistant`, appended to `out`.
pub fn push_assistant(out: &mut String, policy: Policy, example: &ExampleText) {
    push_decision(out, policy, example.action);
    out.push_str("\n\n**Expected Reward**: ");
    push_fixed3(out, example.reward_value);
}

/// The reward band of the original module's Anthropic export, applied to the reward as
/// shown (3 decimals), so `0.7996` shown as `0.800` is "excellent".
pub fn reward_band(reward: f64) -> &'static str {
    let shown = match thousandths(reward) {
        Some((false, n)) => n as f64 / 1000.0,
        Some((true, n)) => -(n as f64) / 1000.0,
        None => to_fixed3(reward).parse().unwrap_or(reward),
    };
    if shown >= 0.8 {
        "excellent outcome likelihood"
    } else if shown >= 0.6 {
        "good outcome likelihood"
    } else if shown >= 0.4 {
        "moderate outcome likelihood"
    } else if shown >= 0.2 {
        "fair outcome likelihood"
    } else {
        "low outcome likelihood"
    }
}

/// JavaScript's `x.toFixed(3)`: the exact binary value rounded, ties away from zero
/// (Rust's `{:.3}` rounds ties to even: 0.0625 → 0.062, JS gives 0.063), and −0 as 0.000.
pub fn to_fixed3(x: f64) -> String {
    let mut out = String::with_capacity(8);
    push_fixed3(&mut out, x);
    out
}

/// `to_fixed3`, appended to `out`. Scores and rewards take the exact integer path
/// (the float formatter's exact mode was 4% of an anthropic export).
pub fn push_fixed3(out: &mut String, x: f64) {
    match thousandths(x) {
        Some((is_negative, n)) => {
            if is_negative {
                out.push('-');
            }
            let _ = write!(out, "{}.{:03}", n / 1000, n % 1000);
        }
        None => out.push_str(&to_fixed3_by_formatter(x)),
    }
}

/// `x` in thousandths, rounded half away from zero, computed exactly from its binary
/// value: the sign and the magnitude. `None` for 0, non-finite values and |x| ≥ 1e15.
fn thousandths(x: f64) -> Option<(bool, u64)> {
    if x == 0.0 || !x.is_finite() || x.abs() >= 1e15 {
        return None;
    }
    let bits = x.to_bits();
    let exponent = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1 << 52) - 1);
    let (mantissa, e) = if exponent == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1 << 52), exponent - 1075)
    };
    // |x| · 1000 = mantissa · 1000 · 2^e, with |x| < 1e15 so e ≤ 0.
    let scaled = mantissa as u128 * 1000;
    let shift = (-e) as u32;
    let n = if shift == 0 {
        scaled
    } else if shift >= 127 {
        0
    } else {
        let half = 1u128 << (shift - 1);
        let rest = scaled & ((1u128 << shift) - 1);
        (scaled >> shift) + u128::from(rest >= half)
    };
    Some((x < 0.0, n as u64))
}

/// The formatter's route (also the reference the fast path is tested against).
fn to_fixed3_by_formatter(x: f64) -> String {
    if x == 0.0 {
        return "0.000".to_string();
    }
    // A value is exactly halfway between two 3-decimal numbers iff 16·x is an odd
    // integer (k + 0.5)/1000 is dyadic only when it is a multiple of 1/16.
    let y = x * 16.0;
    if y.fract() == 0.0 && y.abs() < 1e15 && (y.abs() as u64) % 2 == 1 {
        let thousandths = (y.abs() * 62.5).ceil() as u64;
        let sign = if x < 0.0 { "-" } else { "" };
        return format!("{sign}{}.{:03}", thousandths / 1000, thousandths % 1000);
    }
    format!("{x:.3}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use proptest::prelude::Strategy as _;

    proptest::proptest! {
        #[test]
        fn fast_to_fixed3_equals_the_formatter(
            x in proptest::prop_oneof![
                proptest::num::f64::ANY,
                -2.0f64..2.0,
                (-40000i64..40000).prop_map(|k| k as f64 / 16.0),
                (-2000i64..2000).prop_map(|k| k as f64 / 1000.0 + 0.0005),
            ]
        ) {
            // Past 1e12 the formatter's tie arithmetic (|16x| · 62.5 in f64) rounds.
            if x.abs() < 1e12 {
                proptest::prop_assert_eq!(to_fixed3(x), to_fixed3_by_formatter(x), "{:e}", x);
            }
        }
    }

    #[test]
    fn to_fixed3_is_exact_for_large_ties() {
        // 6290784358674.5625 is 6290784358674562.5 thousandths: away from zero is ...563.
        assert_eq!(to_fixed3(-6290784358674.5625), "-6290784358674.563");
        assert_eq!(to_fixed3(1e15), format!("{:.3}", 1e15));
    }

    #[test]
    fn to_fixed3_matches_javascript() {
        assert_eq!(to_fixed3(0.0625), "0.063");
        assert_eq!(to_fixed3(-0.0625), "-0.063");
        assert_eq!(to_fixed3(0.1875), "0.188");
        assert_eq!(to_fixed3(0.125), "0.125");
        assert_eq!(to_fixed3(-0.0), "0.000");
        assert_eq!(to_fixed3(0.85), "0.850");
        assert_eq!(to_fixed3(1.0005), "1.000"); // 1.0005 is below the tie in binary
        assert_eq!(to_fixed3(2.5), "2.500");
    }

    #[test]
    fn bands_use_the_reward_as_shown() {
        assert_eq!(reward_band(0.7996), "excellent outcome likelihood");
        assert_eq!(reward_band(0.6), "good outcome likelihood");
        assert_eq!(reward_band(-0.5), "low outcome likelihood");
        assert_eq!(reward_band(0.2), "fair outcome likelihood");
    }

    fn retrieval_state() -> serde_json::Map<String, Value> {
        json!({
            "queryFeatures": {"queryLength": 42, "hasKeywords": true, "queryComplexity": 0.0625, "semanticCategory": "debugging"},
            "contextFeatures": {"turnNumber": 3, "conversationDepth": 3, "recentToolCalls": 2, "hasErrors": false},
            "memoryStats": {"totalEntries": 30, "recentRetrievals": 3, "avgRetrievalSuccess": 0.75}
        })
        .as_object()
        .cloned()
        .unwrap()
    }

    fn raw(v: &impl serde::Serialize) -> String {
        serde_json::to_string(v).unwrap()
    }

    fn check(state: &serde_json::Map<String, Value>) -> Result<(), String> {
        let r = raw(state);
        check_state_fields(
            Policy::Retrieval,
            &StateText::parse(Raw::from_validated(&r)).unwrap(),
        )
    }

    #[test]
    fn user_prompt_lists_every_field_and_marks_absent_ones() {
        let r = raw(&retrieval_state());
        let text = render_user_prompt(
            Policy::Retrieval,
            &StateText::parse(Raw::from_validated(&r)).unwrap(),
        );
        assert_eq!(
            text,
            "Analyze the features of this query and decide whether and how to search memory:\n\n\
             **Query Features:**\n- Query Length: 42\n- Has Keywords: true\n- Complexity: 0.063\n- Category: debugging\n\n\
             **Context:**\n- Turn: 3\n- Conversation Depth: 3\n- Recent Tool Calls: 2\n- Has Errors: false\n\n\
             **Memory Statistics:**\n- Total Entries: 30\n- Recent Retrievals: 3\n- Average Success Rate: 0.750\n- Last Retrieval Time: n/a\n\n\
             Should memory be searched for this query, and how?"
        );
    }

    #[test]
    fn missing_required_fields_are_named() {
        let mut state = retrieval_state();
        assert_eq!(check(&state), Ok(()));
        state["queryFeatures"]
            .as_object_mut()
            .unwrap()
            .remove("queryComplexity");
        let e = check(&state).unwrap_err();
        assert!(
            e.starts_with("state.queryFeatures.queryComplexity is missing"),
            "{e}"
        );
        state.remove("memoryStats");
        state["queryFeatures"]["queryComplexity"] = json!("high");
        let e = check(&state).unwrap_err();
        assert_eq!(
            e,
            "state.queryFeatures.queryComplexity is the string \"high\"; expected a number"
        );
    }

    #[test]
    fn assistant_shows_action_and_reward() {
        let src = r#"{"state":{},"action":{"decision":"store","priority":50},"reward":0.85}"#;
        let Ok(ex) = ExampleText::parse(src.as_bytes()) else {
            panic!("a valid example")
        };
        assert_eq!(
            render_assistant(Policy::Extraction, &ex),
            "Based on the analysis, here is the extraction decision:\n\n```json\n{\n  \"decision\": \"store\",\n  \"priority\": 50\n}\n```\n\n**Expected Reward**: 0.850"
        );
    }
}
