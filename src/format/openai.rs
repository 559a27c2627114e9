//! The OpenAI chat fine-tuning format: `train.jsonl`, `eval.jsonl` (`validation.jsonl`),
//! `metadata.json` and `USAGE.md`. Each line is exactly
//! `{"messages":[system,user,assistant]}` (FORMATS.md rule 9); rlx's own metadata goes to
//! metadata.json. Every example's tokens are counted exactly (rule 10) and examples over
//! the model's training limit are left out with a warning.

use std::io::Write;

use anyhow::Context;
use serde::Serialize;

use super::openai_preference as preference;
use super::{CheckConfig, ExampleStream, FormatWriter, Item, SplitOutcome, WriterConfig};
use crate::example::{Policy, Split};
use crate::input::Location;
use crate::json::ExampleText;
use crate::objective::Objective;
use crate::output::OutputDir;
use crate::prompt::{self, StateText};
use crate::summary::ExportResult;
use crate::template::PromptTemplate;
use crate::tokens::{Model, TokenCounter};
use crate::validate::Warning;

/// OpenAI's documented minimum number of training examples (FORMATS.md §1.6).
const MIN_TRAINING_EXAMPLES: u64 = 10;

pub struct OpenAi {
    config: WriterConfig,
    counters: Vec<ChatCounter>,
    /// Token counts of the examples written to train.jsonl.
    train_tokens: Vec<u32>,
    /// Tokens written per split (train, validation, eval).
    split_tokens: [u64; 3],
    dropped: u64,
}

pub fn new(config: &WriterConfig) -> Box<dyn FormatWriter> {
    Box::new(OpenAi {
        config: config.clone(),
        counters: Vec::new(),
        train_tokens: Vec::new(),
        split_tokens: [0; 3],
        dropped: 0,
    })
}

#[derive(Serialize)]
struct Message<'a> {
    role: &'a str,
    content: &'a str,
}

#[derive(Serialize)]
struct Line<'a> {
    messages: [Message<'a>; 3],
}

/// A token counter that knows the policy's fixed tokens (system prompt, roles, framing),
/// so each example only counts its own text.
pub struct ChatCounter {
    counter: TokenCounter,
    fixed: u64,
    /// The last templated system prompt and its fixed tokens (a template's system text
    /// is usually the same on every example).
    last_system: Option<(String, u64)>,
}

impl ChatCounter {
    /// The tokens every example of the policy has: system prompt, roles, framing.
    pub fn fixed(&self) -> u64 {
        self.fixed
    }

    /// The fixed tokens of an example whose system prompt is `system`.
    pub fn fixed_for(&mut self, system: &str) -> u64 {
        if let Some((last, fixed)) = &self.last_system {
            if last == system {
                return *fixed;
            }
        }
        let fixed =
            self.counter
                .count_messages(&[("system", system), ("user", ""), ("assistant", "")]);
        self.last_system = Some((system.to_string(), fixed));
        fixed
    }

    /// The tokens of one text, exactly.
    pub fn count(&mut self, text: &str) -> u64 {
        self.counter.count(text)
    }

    pub fn new(model: Model, policy: Policy) -> ChatCounter {
        let mut counter = TokenCounter::new(model.encoding);
        let fixed = counter.count_messages(&[
            ("system", prompt::system_prompt(policy)),
            ("user", ""),
            ("assistant", ""),
        ]);
        ChatCounter {
            counter,
            fixed,
            last_system: None,
        }
    }
}

/// A chat line (no newline) of three messages.
fn chat_line(system: &str, user: &str, assistant: &str) -> String {
    let line = Line {
        messages: [
            Message {
                role: "system",
                content: system,
            },
            Message {
                role: "user",
                content: user,
            },
            Message {
                role: "assistant",
                content: assistant,
            },
        ],
    };
    serde_json::to_string(&line).expect("a struct of strings always serializes")
}

/// One example as a chat line (no newline) and its exact token count.
pub fn render_chat(
    policy: Policy,
    example: &ExampleText,
    state: &StateText,
    counter: &mut ChatCounter,
) -> Result<(String, u64), String> {
    let system = prompt::system_prompt(policy);
    let user = prompt::render_user_prompt(policy, state);
    let assistant = prompt::render_assistant(policy, example);
    let tokens = counter.counter.count_chat(counter.fixed, &user, &assistant);
    Ok((chat_line(system, &user, &assistant), tokens))
}

/// Render one example as a chat line and count its tokens: the built-in texts, or the
/// prompt template's (counted as rendered).
fn render_item(
    policy: Policy,
    template: Option<&PromptTemplate>,
    split: Split,
    counter: &mut ChatCounter,
    item: &Item,
    text: &[u8],
) -> anyhow::Result<(String, u64)> {
    let location = &item.location;
    if let Some(template) = template {
        let t = prompt::template_texts(
            template,
            policy,
            split,
            location,
            &crate::json::reparse(location, text)?,
            text,
        )?;
        let tokens =
            counter.fixed_for(&t.system) + counter.count(&t.user) + counter.count(&t.assistant);
        return Ok((chat_line(&t.system, &t.user, &t.assistant), tokens));
    }
    let (ex, state) = prompt::reread(location, text)?;
    render_chat(policy, &ex, &state, counter).map_err(|e| anyhow::anyhow!("{location}: {e}"))
}

pub fn over_limit_warning(location: &Location, tokens: u64, model: Model) -> Warning {
    Warning::DroppedByFormat {
        format: "openai",
        location: location.to_string(),
        reason: format!(
            "{tokens} tokens is over {model}'s training limit of {} tokens per example (pick a model with a larger limit with --model)",
            model.limit
        ),
    }
}

fn counters(model: Model, policy: Policy, threads: usize) -> Vec<ChatCounter> {
    (0..threads.max(1))
        .map(|_| ChatCounter::new(model, policy))
        .collect()
}

/// The examples of `examples` that are over `model`'s limit (for `rlx validate`).
pub fn over_limit(
    examples: &dyn ExampleStream,
    config: &CheckConfig,
) -> anyhow::Result<Vec<Warning>> {
    let model = config.model;
    let mut out = Vec::new();
    each_token_count(examples, config, |item, tokens| {
        if tokens > model.limit {
            out.push(over_limit_warning(&item.location, tokens, model));
        }
    })?;
    Ok(out)
}

/// Every example's token count as its line would be written (train, sft), in the
/// stream's order.
pub fn each_token_count(
    examples: &dyn ExampleStream,
    config: &CheckConfig,
    mut each: impl FnMut(&crate::stream::Item, u64),
) -> anyhow::Result<()> {
    let (policy, model) = (config.policy, config.model);
    let template = config.template.as_deref();
    let mut states = counters(model, policy, config.threads);
    super::render_then_write_with(
        examples,
        &mut states,
        |counter, item, text| {
            render_item(policy, template, Split::Train, counter, item, text)
                .map(|(_, tokens)| tokens)
        },
        |item, _, tokens| {
            each(item, tokens);
            Ok(())
        },
    )
}

fn split_slot(split: Split) -> usize {
    match split {
        Split::Train => 0,
        Split::Validation => 1,
        Split::Eval => 2,
    }
}

impl FormatWriter for OpenAi {
    fn write_split(
        &mut self,
        split: Split,
        examples: &dyn ExampleStream,
        out: &OutputDir,
    ) -> anyhow::Result<SplitOutcome> {
        let model = self.config.model;
        let policy = self.config.policy;
        if self.counters.is_empty() {
            self.counters = counters(model, policy, self.config.threads);
        }
        let mut file = out.create_data(&format!("{}.jsonl", split.name()))?;
        let mut outcome = SplitOutcome::default();
        if self.config.objective.objective == Objective::Dpo {
            let written = preference::write_pairs(
                examples,
                &mut self.counters,
                policy,
                model,
                &mut file,
                &mut outcome,
                &mut self.train_tokens,
                split,
                self.config.templates.prompt.as_deref(),
            )?;
            self.dropped += outcome.dropped.len() as u64;
            self.split_tokens[split_slot(split)] += written.tokens;
            outcome.finish_file(file, "openai", split)?;
            return Ok(outcome);
        }
        let template = self.config.templates.prompt.as_deref();
        let (dropped, split_tokens, train_tokens) = (
            &mut self.dropped,
            &mut self.split_tokens,
            &mut self.train_tokens,
        );
        super::render_then_write_with(
            examples,
            &mut self.counters,
            |counter, item, text| render_item(policy, template, split, counter, item, text),
            |item, _, (line, tokens)| {
                if tokens > model.limit {
                    *dropped += 1;
                    outcome
                        .dropped
                        .push(over_limit_warning(&item.location, tokens, model));
                    return Ok(());
                }
                file.write_all(line.as_bytes())
                    .and_then(|_| file.write_all(b"\n"))
                    .with_context(|| format!("writing {}", file.relative))?;
                outcome.written += 1;
                split_tokens[split_slot(split)] += tokens;
                if split == Split::Train {
                    train_tokens.push(tokens.min(u32::MAX as u64) as u32);
                }
                Ok(())
            },
        )?;
        outcome.finish_file(file, "openai", split)?;
        Ok(outcome)
    }

    fn write_extras(
        &mut self,
        result: &ExportResult,
        out: &OutputDir,
    ) -> anyhow::Result<Vec<Warning>> {
        let s = &result.stats;
        let mut warnings = Vec::new();
        if s.train_examples < MIN_TRAINING_EXAMPLES {
            warnings.push(Warning::FewTrainingExamples {
                format: "openai",
                count: s.train_examples,
                minimum: MIN_TRAINING_EXAMPLES,
                platform: "OpenAI fine-tuning",
            });
        }
        let mut sorted = self.train_tokens.clone();
        sorted.sort_unstable();
        let model = self.config.model;
        let is_dpo = self.config.objective.objective == Objective::Dpo;
        let mut metadata = serde_json::json!({
            "purpose": "fine-tune",
            "format": if is_dpo { "openai-preference-jsonl" } else { "openai-chat-jsonl" },
            "policy": self.config.policy,
            "examples": s.total_examples,
            "splits": {
                "train": s.train_examples,
                "validation": s.validation_examples,
                "eval": s.eval_examples,
            },
            "model": model.name,
            "encoding": model.encoding.name(),
            "tokenLimit": model.limit,
            "droppedOverLimit": self.dropped,
            "tokens": token_stats(&sorted),
            "tokensBySplit": {
                "train": self.split_tokens[0],
                "validation": self.split_tokens[1],
                "eval": self.split_tokens[2],
            },
            "tokenCounting": "tiktoken encode_ordinary; 3 tokens per message + role + content, +3 reply priming (OpenAI cookbook)",
            "seed": s.seed,
            "created_at": s.exported_at,
        });
        if is_dpo {
            // Per pair: the input and the preferred output, plus the input and the other.
            metadata["tokenCounting"] = "per pair, both sides (input + one output), each as tiktoken encode_ordinary with the cookbook framing".into();
            metadata["method"] = serde_json::json!({
                "type": "dpo",
                "dpo": {"hyperparameters": {"beta": preference::BETA}},
            });
            metadata["pairs"] = serde_json::to_value(&s.pairs)?;
        }
        let mut text = serde_json::to_string_pretty(&metadata)?;
        text.push('\n');
        out.write_doc("metadata.json", &text)?;
        let usage_text = if is_dpo {
            let eval = eval_file(result, out);
            preference::usage(
                result,
                &out.data_name("train.jsonl"),
                eval.as_deref(),
                model,
            )
        } else {
            usage(result, out, model, self.dropped, &sorted)
        };
        out.write_doc("USAGE.md", &usage_text)?;
        Ok(warnings)
    }
}

/// The start of USAGE.md's job snippet: the client and the uploads.
pub fn push_upload(text: &mut String, train: &str, eval: Option<&str>) {
    text.push_str(&format!(
        "## Upload and start a job\n\n```python\nfrom openai import OpenAI\n\nclient = OpenAI()\n\
         train = client.files.create(file=open(\"{train}\", \"rb\"), purpose=\"fine-tune\")\n"
    ));
    if let Some(e) = eval {
        text.push_str(&format!(
            "valid = client.files.create(file=open(\"{e}\", \"rb\"), purpose=\"fine-tune\")\n"
        ));
    }
}

/// The file a job validates on: eval, else validation, if written.
fn eval_file(result: &ExportResult, out: &OutputDir) -> Option<String> {
    let s = &result.stats;
    if s.eval_examples > 0 {
        Some(out.data_name("eval.jsonl"))
    } else if s.validation_examples > 0 {
        Some(out.data_name("validation.jsonl"))
    } else {
        None
    }
}

/// total/min/mean/p50/p95/max over sorted per-example counts (nearest-rank percentiles).
fn token_stats(sorted: &[u32]) -> serde_json::Value {
    if sorted.is_empty() {
        return serde_json::json!({"total": 0, "min": 0, "mean": 0, "p50": 0, "p95": 0, "max": 0});
    }
    let total: u64 = sorted.iter().map(|&t| t as u64).sum();
    let rank = |p: f64| {
        let i = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
        sorted[i]
    };
    let mean = (total as f64 / sorted.len() as f64 * 100.0).round() / 100.0;
    serde_json::json!({
        "total": total,
        "min": sorted[0],
        "mean": mean,
        "p50": rank(0.5),
        "p95": rank(0.95),
        "max": sorted[sorted.len() - 1],
    })
}

fn usage(
    result: &ExportResult,
    out: &OutputDir,
    model: Model,
    dropped: u64,
    sorted: &[u32],
) -> String {
    let s = &result.stats;
    let train = out.data_name("train.jsonl");
    let eval = eval_file(result, out);
    let total_tokens: u64 = sorted.iter().map(|&t| t as u64).sum();
    let mut text = format!(
        "# OpenAI fine-tuning dataset: {policy} policy\n\n\
         Chat-format JSONL for supervised fine-tuning, exported by rlx.\n\n\
         | | |\n|---|---|\n\
         | policy | {policy} |\n\
         | training examples | {} |\n\
         | validation examples | {} |\n\
         | eval examples | {} |\n\
         | model | {} ({}) |\n\
         | training tokens | {total_tokens} |\n\
         | left out over the token limit | {dropped} |\n\
         | exported at | {} |\n\n",
        s.train_examples,
        s.validation_examples,
        s.eval_examples,
        model.name,
        model.encoding.name(),
        s.exported_at,
        policy = s.policy_type.map(|p| p.name()).unwrap_or("unknown"),
    );
    text.push_str(
        "## Platform status (November 2026)\n\n\
         OpenAI is winding down its fine-tuning platform: it is closed to new users, existing users \
         can still create jobs for the coming months, and GPT-4o, 4o-mini, 4.1 and 4.1-mini (with \
         their fine-tunes) are scheduled to shut down on 2027-01-14. Check the platform's \
         deprecations page before planning a job.\n\n\
         The same files are accepted unchanged by OpenAI-compatible trainers that read chat JSONL \
         (`{\"messages\": [...]}`), such as Azure OpenAI fine-tuning, Together AI and Fireworks AI, \
         and by Hugging Face TRL's `SFTTrainer` (conversational format).\n\n",
    );
    push_upload(&mut text, &train, eval.as_deref());
    text.push_str(&format!(
        "job = client.fine_tuning.jobs.create(\n    training_file=train.id,\n{}    model=\"{}\",\n    suffix=\"{}-policy\",\n)\nprint(client.fine_tuning.jobs.retrieve(job.id).status)\n```\n\n",
        if eval.is_some() { "    validation_file=valid.id,\n" } else { "" },
        model.name,
        s.policy_type.map(|p| p.name()).unwrap_or("rl"),
    ));
    if out.is_compressed() {
        text.push_str("The files were written with `--compress`: run `gunzip *.gz` first, since the Files API only accepts `.jsonl`.\n\n");
    }
    text.push_str(&format!(
        "## Format\n\nEach line is exactly one object with a `messages` array of a system, a user and an \
         assistant message; no other keys. The system message describes the policy, the user \
         message lists the state under headings, and the assistant message gives the action as JSON \
         and the expected reward.\n\n## Limits applied\n\n\
         - Tokens are counted exactly with the {enc} tokenizer of `{name}` by the OpenAI cookbook \
         formula (3 tokens per message plus role and content, 3 for reply priming). \
         `metadata.json` has the total and the per-example distribution.\n\
         - Examples over {limit} tokens, `{name}`'s training limit per example, are left out and \
         named in rlx's warnings ({dropped} this time); training would otherwise truncate them.\n\
         - OpenAI needs at least 10 training examples and suggests starting with 50 to 100.\n\
         - Upload limit: 512 MB per file through the Files API (8 GB through the Uploads API).\n",
        enc = model.encoding.name(),
        name = model.name,
        limit = model.limit,
    ));
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::{find_model, Encoding};

    #[test]
    fn percentiles_use_nearest_rank() {
        let v = token_stats(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        assert_eq!(v["p50"], 5);
        assert_eq!(v["p95"], 10);
        assert_eq!(v["total"], 55);
        assert_eq!(v["mean"], 5.5);
    }

    #[test]
    fn chat_lines_have_exactly_three_messages() {
        let src = r#"{"state":{"groupFeatures":{"groupSize":2}},"action":{"action":"merge"},"reward":0.5,"metadata":{"decisionId":"d1"}}"#;
        let Ok(ex) = ExampleText::parse(src.as_bytes()) else {
            panic!("a valid example")
        };
        let model = find_model("gpt-4o-mini-2024-07-18").unwrap();
        assert_eq!(model.encoding, Encoding::O200kBase);
        let mut c = ChatCounter::new(model, Policy::Consolidation);
        let state = StateText::parse(ex.state).unwrap();
        let (line, tokens) = render_chat(Policy::Consolidation, &ex, &state, &mut c).unwrap();
        let mut plain = TokenCounter::new(model.encoding);
        let v0: serde_json::Value = serde_json::from_str(&line).unwrap();
        let texts: Vec<(&str, &str)> = v0["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (m["role"].as_str().unwrap(), m["content"].as_str().unwrap()))
            .collect();
        assert_eq!(tokens, plain.count_messages(&texts));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v.as_object().unwrap().len(), 1);
        let roles: Vec<&str> = v["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["role"].as_str().unwrap())
            .collect();
        assert_eq!(roles, ["system", "user", "assistant"]);
        assert!(!line.contains("decisionId"));
        assert!(tokens > 50 && tokens < 400, "{tokens}");
    }
}
