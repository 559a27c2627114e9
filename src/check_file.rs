//! `rlx validate --check-file openai|bedrock`: check an already written platform file,
//! whoever wrote it, against the platform's rules (FORMATS.md §1.2 for OpenAI chat
//! fine-tuning, §2.2 for Claude on Bedrock), before it is uploaded.

use clap::ValueEnum;
use serde_json::{Map, Value};

use crate::input::{self, Source};
use crate::summary::ExportResult;
use crate::tokens::{self, TokenCounter};
use crate::validate::Warning;

/// The platform whose rules `rlx validate --check-file` applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFile {
    /// OpenAI chat fine-tuning JSONL ({"messages":[…]})
    Openai,
    /// Amazon Bedrock Claude fine-tuning JSONL ({"system","messages"})
    Bedrock,
}

const OPENAI_KEYS: [&str; 5] = ["role", "content", "name", "function_call", "weight"];
const OPENAI_ROLES: [&str; 4] = ["system", "user", "assistant", "function"];

/// Check every line of `path`; problems become warnings naming the line, and any
/// problem fails the run.
pub fn check(
    path: &str,
    platform: CheckFile,
    model: &str,
    result: &mut ExportResult,
) -> anyhow::Result<()> {
    let model = match platform {
        CheckFile::Openai => Some(tokens::find_model(model).map_err(crate::UsageError)?),
        CheckFile::Bedrock => None,
    };
    result.format = match platform {
        CheckFile::Openai => "openai".into(),
        CheckFile::Bedrock => "bedrock".into(),
    };
    result.format_reason = "--check-file".into();
    let source = Source::open(path, &std::env::temp_dir())?;
    let mut counter = model.map(|m| TokenCounter::new(m.encoding));
    let mut lines = 0u64;
    let mut bad = 0u64;
    let mut assistants = 0u64;
    source.scan(|raw| {
        lines += 1;
        let problem = match raw.bytes {
            None => Some("the line is too long to check".to_string()),
            Some(bytes) => match input::parse_json(bytes, &raw.location) {
                Err(f) => Some(f.message),
                Ok(v) => match platform {
                    CheckFile::Openai => {
                        let (problem, tokens) = check_openai_line(&v, counter.as_mut());
                        match (problem, tokens, model) {
                            (Some(p), _, _) => Some(p),
                            (None, Some(t), Some(m)) if t > m.limit => Some(format!(
                                "{t} tokens is over {m}'s training limit of {} tokens per example",
                                m.limit
                            )),
                            _ => None,
                        }
                    }
                    CheckFile::Bedrock => check_bedrock_line(&v).err(),
                },
            },
        };
        match problem {
            Some(reason) => {
                bad += 1;
                result.add_warning(Warning::Rejected {
                    location: raw.location.to_string(),
                    reason,
                });
            }
            None => assistants += 1,
        }
        Ok(())
    })?;
    result.stats.input_examples = lines;
    result.stats.rejected_examples = bad;
    result.stats.skipped_examples = bad;
    result.stats.total_examples = assistants;
    result.stats.train_examples = assistants;
    match platform {
        CheckFile::Openai if lines < 10 => result.add_warning(Warning::FewTrainingExamples {
            format: "openai",
            count: lines,
            minimum: 10,
            platform: "OpenAI fine-tuning",
        }),
        CheckFile::Bedrock if !(32..=10_000).contains(&lines) => {
            result.add_warning(Warning::RecordCount {
                format: "bedrock",
                split: crate::example::Split::Train,
                count: lines,
                rule: "Bedrock's Claude fine-tuning takes 32 to 10,000 training records (1,000 for a validation file)",
            })
        }
        _ => {}
    }
    if bad > 0 {
        anyhow::bail!(
            "{}: {bad} of {lines} line(s) break the {} rules; see the warnings",
            source.name(),
            result.format
        );
    }
    Ok(())
}

/// The OpenAI cookbook's seven checks, in the notebook's order, and the token count.
fn check_openai_line(
    v: &Value,
    counter: Option<&mut TokenCounter>,
) -> (Option<String>, Option<u64>) {
    let Some(obj) = v.as_object() else {
        return (
            Some("data_type: the line is not a JSON object".into()),
            None,
        );
    };
    let messages = match obj.get("messages") {
        Some(Value::Array(m)) if !m.is_empty() => m,
        _ => {
            return (
                Some("missing_messages_list: expected a non-empty \"messages\" array".into()),
                None,
            )
        }
    };
    if let Some(k) = obj
        .keys()
        .find(|k| !["messages", "tools", "parallel_tool_calls", "functions"].contains(&k.as_str()))
    {
        return (
            Some(format!(
                "the line has the key \"{k}\"; expected only messages (and tools, parallel_tool_calls, functions)"
            )),
            None,
        );
    }
    let mut has_assistant = false;
    let mut pairs: Vec<(String, String, bool)> = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        let Some(m) = m.as_object() else {
            return (
                Some(format!(
                    "message_missing_key: messages[{i}] is not an object"
                )),
                None,
            );
        };
        if !m.contains_key("role") || !m.contains_key("content") {
            return (
                Some(format!(
                    "message_missing_key: messages[{i}] needs \"role\" and \"content\""
                )),
                None,
            );
        }
        if let Some(k) = m.keys().find(|k| !OPENAI_KEYS.contains(&k.as_str())) {
            return (
                Some(format!(
                    "message_unrecognized_key: messages[{i}] has \"{k}\""
                )),
                None,
            );
        }
        let role = m.get("role").and_then(Value::as_str).unwrap_or("");
        if !OPENAI_ROLES.contains(&role) {
            return (
                Some(format!(
                    "unrecognized_role: messages[{i}] has role {}",
                    m.get("role").map(Value::to_string).unwrap_or_default()
                )),
                None,
            );
        }
        let content = m.get("content").and_then(Value::as_str).unwrap_or("");
        if content.is_empty() && !m.contains_key("function_call") {
            return (
                Some(format!(
                    "missing_content: messages[{i}] needs a non-empty string content"
                )),
                None,
            );
        }
        if let Some(w) = m.get("weight") {
            if role != "assistant" || !(w == &Value::from(0) || w == &Value::from(1)) {
                return (
                    Some(format!(
                        "messages[{i}] has weight {w}; expected 0 or 1, on assistant messages only"
                    )),
                    None,
                );
            }
        }
        has_assistant |= role == "assistant";
        pairs.push((
            role.to_string(),
            content.to_string(),
            m.contains_key("name"),
        ));
    }
    if !has_assistant {
        return (
            Some("example_missing_assistant_message: no message has role assistant".into()),
            None,
        );
    }
    let tokens = counter.map(|c| {
        let msgs: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(r, t, _)| (r.as_str(), t.as_str()))
            .collect();
        let names: u64 = pairs
            .iter()
            .zip(messages)
            .filter(|((_, _, has_name), _)| *has_name)
            .map(|(_, m)| {
                1 + m
                    .get("name")
                    .and_then(Value::as_str)
                    .map(|n| c.count(n))
                    .unwrap_or(0)
            })
            .sum();
        c.count_messages(&msgs) + names
    });
    (None, tokens)
}

/// FORMATS.md §2.2: Bedrock's rules for one Claude fine-tuning record.
fn check_bedrock_line(v: &Value) -> Result<(), String> {
    let obj: &Map<String, Value> = v.as_object().ok_or("the line is not a JSON object")?;
    if let Some(k) = obj.keys().find(|k| *k != "system" && *k != "messages") {
        return Err(format!(
            "the line has the key \"{k}\"; expected only system and messages"
        ));
    }
    let mut texts: Vec<&str> = Vec::new();
    match obj.get("system") {
        None => {}
        Some(Value::String(s)) => texts.push(s),
        Some(other) => {
            return Err(format!(
                "\"system\" is {}; expected a string",
                crate::example::describe_value(other)
            ))
        }
    }
    let messages = obj
        .get("messages")
        .and_then(Value::as_array)
        .ok_or("expected a \"messages\" array")?;
    if messages.len() < 2 {
        return Err(format!(
            "{} message(s); expected at least 2",
            messages.len()
        ));
    }
    for (i, m) in messages.iter().enumerate() {
        let m = m
            .as_object()
            .ok_or(format!("messages[{i}] is not an object"))?;
        if let Some(k) = m.keys().find(|k| *k != "role" && *k != "content") {
            return Err(format!(
                "messages[{i}] has the key \"{k}\"; expected only role and content"
            ));
        }
        let expected = if i % 2 == 0 { "user" } else { "assistant" };
        let role = m.get("role").and_then(Value::as_str).unwrap_or("");
        if role != expected {
            return Err(format!(
                "messages[{i}] has role \"{role}\"; expected \"{expected}\" (user first, then alternating)"
            ));
        }
        match m.get("content") {
            Some(Value::String(s)) if !s.is_empty() => texts.push(s),
            _ => return Err(format!("messages[{i}] needs a non-empty string content")),
        }
    }
    if messages.len() % 2 != 0 {
        return Err("the last message is from the user; expected the assistant last".into());
    }
    for t in &texts {
        if let Some(s) = ["\nHuman:", "\nAssistant:"]
            .iter()
            .find(|s| t.contains(**s))
        {
            return Err(format!("a text contains {s:?}, which Bedrock rejects"));
        }
    }
    let chars: usize = texts.iter().map(|t| t.chars().count()).sum();
    if chars / 3 > 32_000 {
        return Err(format!(
            "about {} tokens (characters / 3); Bedrock allows 32,000 per record",
            chars / 3
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn openai_checks_follow_the_cookbook() {
        let ok = json!({"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"yo"}]});
        assert_eq!(check_openai_line(&ok, None).0, None);
        let tool =
            json!({"messages":[{"role":"tool","content":"x"},{"role":"assistant","content":"y"}]});
        assert!(check_openai_line(&tool, None)
            .0
            .unwrap()
            .starts_with("unrecognized_role"));
        let empty =
            json!({"messages":[{"role":"user","content":""},{"role":"assistant","content":"y"}]});
        assert!(check_openai_line(&empty, None)
            .0
            .unwrap()
            .starts_with("missing_content"));
        let none = json!({"messages":[{"role":"user","content":"x"}]});
        assert!(check_openai_line(&none, None)
            .0
            .unwrap()
            .starts_with("example_missing_assistant_message"));
        assert!(check_openai_line(&json!([1]), None)
            .0
            .unwrap()
            .starts_with("data_type"));
    }

    #[test]
    fn bedrock_rules() {
        let ok = json!({"system":"s","messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"}]});
        assert_eq!(check_bedrock_line(&ok), Ok(()));
        let bad = json!({"messages":[{"role":"user","content":"a\nHuman: x"},{"role":"assistant","content":"b"}]});
        assert!(check_bedrock_line(&bad).unwrap_err().contains("Human"));
        let order =
            json!({"messages":[{"role":"assistant","content":"a"},{"role":"user","content":"b"}]});
        assert!(check_bedrock_line(&order).is_err());
        let sys = json!({"system":[{"text":"s"}],"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"}]});
        assert!(check_bedrock_line(&sys).is_err());
    }
}
