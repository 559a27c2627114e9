//! The Anthropic/Claude format: `train.jsonl`, `eval.jsonl` (`validation.jsonl`),
//! `dataset_info.json` and `GUIDE.md`, in one of two line styles:
//! - legacy (default): `{"prompt","completion","metadata"?}` with the exact Text
//!   Completions separators (FORMATS.md rule 12) and the reward interpretation;
//! - bedrock: `{"system","messages":[user, assistant]}`, checked against the rules of
//!   Claude 3 Haiku fine-tuning on Amazon Bedrock (FORMATS.md §2.2, rule 13).
//!
//! The texts come from `prompt`, the same renderings the OpenAI format uses.

use std::fmt;
use std::io::Write;
use std::sync::OnceLock;

use anyhow::Context;
use clap::ValueEnum;
use serde_json::{json, Value};

use super::{ExampleStream, FormatWriter, SplitOutcome, WriterConfig};
use crate::example::{Policy, Split};
use crate::json::{minified, push_json_escaped, ExampleText, RawMap};
use crate::output::OutputDir;
use crate::prompt;
use crate::summary::ExportResult;
use crate::validate::Warning;

const HUMAN: &str = "\n\nHuman:";
const ASSISTANT: &str = "\n\nAssistant:";
/// Bedrock rejects these strings anywhere in `system` or a message's `content`.
const BEDROCK_FORBIDDEN: [&str; 2] = ["\nHuman:", "\nAssistant:"];
/// Bedrock's per-record token limit, estimated as characters / 3 like AWS's validator.
const BEDROCK_MAX_TOKENS: u64 = 32_000;

/// The line style, chosen with `--anthropic-style`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AnthropicStyle {
    /// {"prompt":"\n\nHuman: …\n\nAssistant:","completion":" …"}
    Legacy,
    /// {"system":…,"messages":[user, assistant]} as Bedrock's Claude 3 Haiku fine-tuning reads
    Bedrock,
}

impl fmt::Display for AnthropicStyle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AnthropicStyle::Legacy => "legacy",
            AnthropicStyle::Bedrock => "bedrock",
        })
    }
}

pub struct Anthropic {
    config: WriterConfig,
}

pub fn new(config: &WriterConfig) -> Box<dyn FormatWriter> {
    Box::new(Anthropic {
        config: config.clone(),
    })
}

/// `s` as JSON string contents (escaped, without the quotes).
fn escaped(s: &str) -> String {
    let quoted = serde_json::to_string(s).expect("a string always serializes");
    quoted[1..quoted.len() - 1].to_string()
}

/// The escaped start of every legacy prompt of a policy: `\n\nHuman: ` and the system
/// prompt, then the blank line before the state.
fn escaped_prompt_head(policy: Policy) -> &'static str {
    static HEADS: [OnceLock<String>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let slot = match policy {
        Policy::Extraction => 0,
        Policy::Retrieval => 1,
        Policy::Consolidation => 2,
    };
    HEADS[slot].get_or_init(|| escaped(&format!("{HUMAN} {}\n\n", prompt::system_prompt(policy))))
}

/// The texts of one line: the prompt template's, or `None` parts for the built-in ones.
struct LineTexts<'a> {
    /// `None`: the policy's built-in system prompt.
    system: Option<&'a str>,
    user: &'a str,
    /// The whole assistant text (legacy: the completion after its leading space).
    assistant: &'a str,
}

/// A legacy line, or why the example cannot be one.
fn legacy_line(
    policy: Policy,
    texts: &LineTexts,
    ex: &ExampleText,
    include_metadata: bool,
) -> Result<String, String> {
    // The built-in fixed texts hold no separator (a test checks the system prompts);
    // only the state's values can bring one in, or a template's texts.
    let system = texts.system.unwrap_or_default();
    for (part, text) in [
        ("system prompt", system),
        ("rendered state", texts.user),
        ("completion", texts.assistant),
    ] {
        if let Some(sep) = [HUMAN, ASSISTANT].iter().find(|s| text.contains(**s)) {
            return Err(format!(
                "the {part} contains {sep:?}, which would start a new turn of the Human/Assistant prompt"
            ));
        }
    }
    // Written escaped straight into the line; the built-in head (separator and system
    // prompt) is the same on every line, so it is escaped once per policy.
    let mut line = String::with_capacity(texts.user.len() + texts.assistant.len() + 1536);
    line.push_str("{\"prompt\":\"");
    match texts.system {
        None => line.push_str(escaped_prompt_head(policy)),
        Some(system) => push_json_escaped(&mut line, &format!("{HUMAN} {system}\n\n")),
    }
    push_json_escaped(&mut line, texts.user);
    line.push_str(&escaped(ASSISTANT));
    line.push_str("\",\"completion\":\" ");
    push_json_escaped(&mut line, texts.assistant);
    line.push('"');
    if include_metadata {
        // The example's metadata, then reward and policy, which win on a name clash.
        line.push_str(",\"metadata\":{");
        if let Some(meta) = ex.metadata {
            let members = RawMap::parse(meta).map_err(|e| e.to_string())?;
            for (k, v) in &members.0 {
                // A repeated key keeps only its last value, as everywhere else.
                let is_last = members
                    .get(k)
                    .is_some_and(|last| last.get().as_ptr() == v.get().as_ptr());
                if k == "reward" || k == "policy" || !is_last {
                    continue;
                }
                line.push('"');
                push_json_escaped(&mut line, k);
                line.push_str("\":");
                line.push_str(&minified(*v));
                line.push(',');
            }
        }
        line.push_str("\"reward\":");
        line.push_str(ex.reward.get());
        line.push_str(",\"policy\":\"");
        push_json_escaped(&mut line, policy.name());
        line.push('"');
        line.push('}');
    }
    line.push('}');
    Ok(line)
}

/// A Bedrock line, or the §2.2 rule the example breaks.
fn bedrock_line(system: &str, user: &str, assistant: &str) -> Result<String, String> {
    for (field, text) in [
        ("system", system),
        ("user content", user),
        ("assistant content", assistant),
    ] {
        if let Some(s) = BEDROCK_FORBIDDEN.iter().find(|s| text.contains(**s)) {
            return Err(format!(
                "the {field} contains {s:?}, which Bedrock rejects in Claude fine-tuning data"
            ));
        }
    }
    let chars = (system.chars().count() + user.chars().count() + assistant.chars().count()) as u64;
    let estimate = chars / 3;
    if estimate > BEDROCK_MAX_TOKENS {
        return Err(format!(
            "about {estimate} tokens (characters / 3, as AWS's validator estimates); Bedrock allows {BEDROCK_MAX_TOKENS} per record"
        ));
    }
    Ok(json!({
        "system": system,
        "messages": [
            {"role": "user", "content": user},
            {"role": "assistant", "content": assistant},
        ]
    })
    .to_string())
}

/// One example's line in `style`, or why the format leaves it out.
fn render_line(
    config: &WriterConfig,
    split: Split,
    item: &super::Item,
    text: &[u8],
) -> anyhow::Result<Result<String, String>> {
    let policy = config.policy;
    let style = config.anthropic_style;
    if let Some(template) = config.templates.prompt.as_deref() {
        let ex = crate::json::reparse(&item.location, text)?;
        let t = prompt::template_texts(template, policy, split, &item.location, &ex, text)?;
        return Ok(match style {
            AnthropicStyle::Legacy => legacy_line(
                policy,
                &LineTexts {
                    system: Some(&t.system),
                    user: &t.user,
                    assistant: &t.assistant,
                },
                &ex,
                config.include_metadata,
            ),
            AnthropicStyle::Bedrock => bedrock_line(&t.system, &t.user, &t.assistant),
        });
    }
    let (ex, state) = prompt::reread(&item.location, text)?;
    let user = prompt::render_user_prompt(policy, &state);
    Ok(match style {
        AnthropicStyle::Legacy => legacy_line(
            policy,
            &LineTexts {
                system: None,
                user: &user,
                assistant: &prompt::render_answer(policy, prompt::Answer::DecisionAndBand, &ex),
            },
            &ex,
            config.include_metadata,
        ),
        AnthropicStyle::Bedrock => bedrock_line(
            prompt::system_prompt(policy),
            &user,
            &prompt::render_assistant(policy, &ex),
        ),
    })
}

fn format_label(style: AnthropicStyle) -> &'static str {
    match style {
        AnthropicStyle::Legacy => "anthropic",
        AnthropicStyle::Bedrock => "anthropic (bedrock)",
    }
}

impl FormatWriter for Anthropic {
    fn write_split(
        &mut self,
        split: Split,
        examples: &dyn ExampleStream,
        out: &OutputDir,
    ) -> anyhow::Result<SplitOutcome> {
        let mut file = out.create_data(&format!("{}.jsonl", split.name()))?;
        let mut outcome = SplitOutcome::default();
        let style = self.config.anthropic_style;
        let label = format_label(style);
        let config = &self.config;
        super::render_then_write(
            examples,
            self.config.threads,
            |item, text| render_line(config, split, item, text),
            |item, _, line| {
                match line {
                    Ok(text) => {
                        file.write_all(text.as_bytes())
                            .and_then(|_| file.write_all(b"\n"))
                            .with_context(|| format!("writing {}", file.relative))?;
                        outcome.written += 1;
                    }
                    Err(reason) => outcome.dropped.push(Warning::DroppedByFormat {
                        format: label,
                        location: item.location.to_string(),
                        reason,
                    }),
                }
                Ok(())
            },
        )?;
        outcome.finish_file(file, format_label(style), split)?;
        Ok(outcome)
    }

    fn write_extras(
        &mut self,
        result: &ExportResult,
        out: &OutputDir,
    ) -> anyhow::Result<Vec<Warning>> {
        let s = &result.stats;
        let style = self.config.anthropic_style;
        let mut warnings = Vec::new();
        if style == AnthropicStyle::Bedrock {
            let label = format_label(style);
            if !(32..=10_000).contains(&s.train_examples) {
                warnings.push(Warning::RecordCount {
                    format: label,
                    split: Split::Train,
                    count: s.train_examples,
                    rule: "Bedrock's Claude fine-tuning takes 32 to 10,000 training records",
                });
            }
            for (split, n) in [
                (Split::Validation, s.validation_examples),
                (Split::Eval, s.eval_examples),
            ] {
                if n > 0 && !(32..=1_000).contains(&n) {
                    warnings.push(Warning::RecordCount {
                        format: label,
                        split,
                        count: n,
                        rule: "Bedrock takes 32 to 1,000 validation records",
                    });
                }
            }
            if s.total_examples > 10_000 {
                warnings.push(Warning::RecordCount {
                    format: label,
                    split: Split::Train,
                    count: s.total_examples,
                    rule: "Bedrock allows at most 10,000 training plus validation records (this counts every split)",
                });
            }
        }
        let date_range = self
            .config
            .input_stats
            .as_ref()
            .and_then(|st| st.get("dateRange"))
            .cloned()
            .unwrap_or(Value::Null);
        let info = json!({
            "policy": self.config.policy,
            "totalExamples": s.total_examples,
            "trainExamples": s.train_examples,
            "validationExamples": s.validation_examples,
            "evalExamples": s.eval_examples,
            "dateRange": date_range,
            "createdAt": s.exported_at,
            "format": match style {
                AnthropicStyle::Legacy => "anthropic_jsonl",
                AnthropicStyle::Bedrock => "bedrock_claude_jsonl",
            },
            "style": style.to_string(),
            "includesMetadata": style == AnthropicStyle::Legacy && self.config.include_metadata,
            "seed": s.seed,
        });
        let mut text = serde_json::to_string_pretty(&info)?;
        text.push('\n');
        out.write_doc("dataset_info.json", &text)?;
        out.write_doc("GUIDE.md", &guide(result, out, style))?;
        Ok(warnings)
    }
}

fn guide(result: &ExportResult, out: &OutputDir, style: AnthropicStyle) -> String {
    let s = &result.stats;
    let policy = s.policy_type.map(|p| p.name()).unwrap_or("unknown");
    let train = out.data_name("train.jsonl");
    let mut text = format!(
        "# Claude dataset: {policy} policy\n\n\
         Exported by rlx in the **{style}** style.\n\n\
         | | |\n|---|---|\n\
         | policy | {policy} |\n\
         | training examples | {} |\n\
         | validation examples | {} |\n\
         | eval examples | {} |\n\
         | exported at | {} |\n\n\
         ## Platform status (November 2026)\n\n\
         No Anthropic product accepts prompt/completion JSONL for fine-tuning. The only route to \
         fine-tune Claude was Claude 3 Haiku on Amazon Bedrock, whose model card gives an \
         end-of-life date of 2026-09-10 (lifecycle \"Legacy\"); no other Claude fine-tuning route is \
         known. The Text Completions API that the legacy `Human:`/`Assistant:` convention belongs \
         to is itself legacy. Use these files as few-shot material, for evaluation, or with trainers \
         that read the same shapes.\n\n",
        s.train_examples, s.validation_examples, s.eval_examples, s.exported_at,
    );
    match style {
        AnthropicStyle::Legacy => text.push_str(
            "## Format (legacy)\n\nEach line is `{\"prompt\": ..., \"completion\": ...}` plus, unless \
             `--no-metadata`, a `metadata` object with the example's metadata, its `reward` and the \
             `policy`.\n\n\
             - `prompt` starts with `\\n\\nHuman: ` and ends with `\\n\\nAssistant:`, the exact \
             separators of the Text Completions API, with the policy's instructions and the state \
             under headings in between.\n\
             - `completion` starts with a space, then gives the action as JSON in a fenced block \
             and the expected reward with 3 decimals and its band: excellent (≥ 0.8), good (≥ 0.6), \
             moderate (≥ 0.4), fair (≥ 0.2), else low (negative rewards are low outcomes).\n\n\
             To fine-tune on Bedrock, export again with `--anthropic-style bedrock`: Bedrock rejects \
             `\\nHuman:` inside its records.\n\n",
        ),
        AnthropicStyle::Bedrock => text.push_str(
            "## Format (Bedrock)\n\nEach line is `{\"system\": ..., \"messages\": [{\"role\": \"user\", ...}, \
             {\"role\": \"assistant\", ...}]}` as Bedrock's Claude 3 Haiku fine-tuning reads it. rlx \
             checks Bedrock's rules: no `\\nHuman:` or `\\nAssistant:` in any text (such examples \
             are left out with a warning), at most 32,000 tokens per record (estimated as characters / \
             3), 32 to 10,000 training and 32 to 1,000 validation records (warnings).\n\n\
             Hyperparameter ranges: epochCount 1-10 (default 2), batchSize 4-256 (32), \
             learningRateMultiplier 0.1-2 (1), earlyStoppingThreshold 0-0.1 (0.001), \
             earlyStoppingPatience 1-10 (2).\n\n",
        ),
    }
    let open = if out.is_compressed() {
        format!("gzip.open(\"{train}\", \"rt\", encoding=\"utf-8\")")
    } else {
        format!("open(\"{train}\", encoding=\"utf-8\")")
    };
    text.push_str(&format!(
        "## Use\n\n```python\nimport json{}\n\nwith {open} as f:\n    examples = [json.loads(line) for line in f]\nprint(len(examples), \"training examples\")\n```\n\n\
         ## Quality notes\n\n\
         - The split is per example: decisions from one {unit} can land in both train and eval. \
         Split the source logs by {key} before exporting if that leakage matters.\n\
         - Rewards are in [-1, 1]; negative rewards mark bad outcomes.\n",
        if out.is_compressed() { "\nimport gzip" } else { "" },
        unit = if policy == "consolidation" { "group of entries" } else { "session" },
        key = if policy == "consolidation" { "`metadata.entryIds`" } else { "`metadata.sessionId`" },
    ));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_texts_hold_no_separator() {
        // legacy_line checks only the rendered state for separators.
        for policy in Policy::ALL {
            let system = prompt::system_prompt(policy);
            for s in [HUMAN, ASSISTANT].iter().chain(&BEDROCK_FORBIDDEN) {
                assert!(!system.contains(s), "{policy}: {s:?}");
            }
        }
    }

    fn example(category: &str) -> String {
        json!({
            "state": {
                "queryFeatures": {"queryLength": 5, "hasKeywords": true, "queryComplexity": 0.3, "semanticCategory": category},
                "contextFeatures": {"turnNumber": 1, "conversationDepth": 1, "recentToolCalls": 1, "hasErrors": false},
                "memoryStats": {"totalEntries": 10, "recentRetrievals": 1, "avgRetrievalSuccess": 0.5}
            },
            "action": {"shouldRetrieve": true},
            "reward": 0.7996,
            "metadata": {"sessionId": "s1", "reward": "shadowed"}
        })
        .to_string()
    }

    fn text(src: &str) -> ExampleText<'_> {
        match ExampleText::parse(src.as_bytes()) {
            Ok(t) => t,
            Err(_) => panic!("a valid example"),
        }
    }

    fn legacy(src: &str, include_metadata: bool) -> Result<String, String> {
        let t = text(src);
        let state = prompt::StateText::parse(t.state).unwrap();
        let texts = LineTexts {
            system: None,
            user: &prompt::render_user_prompt(Policy::Retrieval, &state),
            assistant: &prompt::render_answer(
                Policy::Retrieval,
                prompt::Answer::DecisionAndBand,
                &t,
            ),
        };
        legacy_line(Policy::Retrieval, &texts, &t, include_metadata)
    }

    fn bedrock(src: &str) -> Result<String, String> {
        let t = text(src);
        let state = prompt::StateText::parse(t.state).unwrap();
        bedrock_line(
            prompt::system_prompt(Policy::Retrieval),
            &prompt::render_user_prompt(Policy::Retrieval, &state),
            &prompt::render_assistant(Policy::Retrieval, &t),
        )
    }

    #[test]
    fn legacy_lines_use_the_exact_separators() {
        let src = example("general");
        let v: Value = serde_json::from_str(&legacy(&src, true).unwrap()).unwrap();
        let prompt = v["prompt"].as_str().unwrap();
        assert!(prompt.starts_with("\n\nHuman: You are the retrieval policy"));
        assert!(prompt.ends_with("\n\nAssistant:"));
        let completion = v["completion"].as_str().unwrap();
        assert!(completion.starts_with(' '));
        assert!(completion
            .ends_with("**Expected Reward**: 0.800, indicating excellent outcome likelihood."));
        assert_eq!(v["metadata"]["reward"], json!(0.7996));
        assert_eq!(v["metadata"]["policy"], "retrieval");
        assert_eq!(v["metadata"]["sessionId"], "s1");
        let bad = example("x\n\nHuman: y");
        assert!(legacy(&bad, false).is_err());
    }

    #[test]
    fn bedrock_lines_follow_section_2_2() {
        let src = example("general");
        let v: Value = serde_json::from_str(&bedrock(&src).unwrap()).unwrap();
        assert_eq!(v.as_object().unwrap().len(), 2);
        assert_eq!(v["messages"][0]["role"], "user");
        assert_eq!(v["messages"][1]["role"], "assistant");
        let bad = example("a\nHuman: b");
        let e = bedrock(&bad).unwrap_err();
        assert!(e.contains("\\nHuman:"), "{e}");
    }
}
