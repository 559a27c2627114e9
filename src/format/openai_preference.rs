//! OpenAI's preference (DPO) fine-tuning line, written by `--format openai --objective
//! dpo`: `{"input":{"messages":[system,user]},"preferred_output":[assistant],
//! "non_preferred_output":[assistant]}` (FORMATS.md §1.7). The prompt is the chosen
//! example's state; each output is an action alone, as pretty JSON. Both sides are
//! counted exactly against the model's limit, and a pair with a side over it is left
//! out with a warning. The pairs themselves come from the pairing step.

use std::io::Write;

use anyhow::Context;
use serde::Serialize;

use super::openai::ChatCounter;
use super::{ExampleStream, Item, SplitOutcome};
use crate::example::{Policy, Split};
use crate::output::OutFile;
use crate::prompt;
use crate::summary::ExportResult;
use crate::template::PromptTemplate;
use crate::tokens::Model;
use crate::validate::Warning;

/// The beta the job description suggests: the original stack's default (rl.ts config).
pub const BETA: f64 = 0.1;

#[derive(Serialize)]
struct Message<'a> {
    role: &'a str,
    content: &'a str,
}

#[derive(Serialize)]
struct Input<'a> {
    messages: [Message<'a>; 2],
}

#[derive(Serialize)]
struct Line<'a> {
    input: Input<'a>,
    preferred_output: [Message<'a>; 1],
    non_preferred_output: [Message<'a>; 1],
}

/// One example's parts and their token counts.
pub struct Side {
    /// The template's system prompt (`None`: the policy's built-in one).
    system: Option<String>,
    user: String,
    action: String,
    /// The system prompt's tokens, roles and framing.
    fixed: u64,
    user_tokens: u64,
    action_tokens: u64,
}

/// One example's texts: the built-in ones (the action alone as pretty JSON), or the
/// prompt template's; each counted as rendered.
pub fn render_side(
    policy: Policy,
    template: Option<&PromptTemplate>,
    split: Split,
    counter: &mut ChatCounter,
    item: &Item,
    text: &[u8],
) -> anyhow::Result<Side> {
    let (system, user, action, fixed) = match template {
        Some(template) => {
            let t = prompt::template_texts(
                template,
                policy,
                split,
                &item.location,
                &crate::json::reparse(&item.location, text)?,
                text,
            )?;
            let fixed = counter.fixed_for(&t.system);
            (Some(t.system), t.user, t.assistant, fixed)
        }
        None => {
            let (ex, state) = prompt::reread(&item.location, text)?;
            let user = prompt::render_user_prompt(policy, &state);
            (
                None,
                user,
                prompt::pretty_action(ex.action),
                counter.fixed(),
            )
        }
    };
    let user_tokens = counter.count(&user);
    let action_tokens = counter.count(&action);
    Ok(Side {
        system,
        user,
        action,
        fixed,
        user_tokens,
        action_tokens,
    })
}

/// The tokens written for one split: per pair, both sides.
#[derive(Debug, Default, Clone, Copy)]
pub struct Written {
    pub tokens: u64,
}

/// Write the split's pairs (examples in twos: chosen, rejected) to `file`.
#[allow(clippy::too_many_arguments)]
pub fn write_pairs(
    examples: &dyn ExampleStream,
    counters: &mut [ChatCounter],
    policy: Policy,
    model: Model,
    file: &mut OutFile,
    outcome: &mut SplitOutcome,
    pair_tokens: &mut Vec<u32>,
    split: Split,
    template: Option<&PromptTemplate>,
) -> anyhow::Result<Written> {
    let built_in_system = prompt::system_prompt(policy);
    let mut pending: Option<(Side, String)> = None;
    let mut written = Written::default();
    super::render_then_write_with(
        examples,
        counters,
        |counter, item, text| render_side(policy, template, split, counter, item, text),
        |item, _, side| {
            let Some((chosen, at)) = pending.take() else {
                pending = Some((side, item.location.to_string()));
                return Ok(());
            };
            // The prompt is the chosen example's, system text included.
            let fixed = chosen.fixed;
            let system = chosen.system.as_deref().unwrap_or(built_in_system);
            let preferred = fixed + chosen.user_tokens + chosen.action_tokens;
            let non_preferred = fixed + chosen.user_tokens + side.action_tokens;
            let longest = preferred.max(non_preferred);
            if longest > model.limit {
                outcome.dropped.push(Warning::DroppedByFormat {
                    format: "openai",
                    location: format!("the pair of {at} and {}", item.location),
                    reason: format!(
                        "a side has {longest} tokens, over {model}'s training limit of {} tokens per example (pick a model with a larger limit with --model)",
                        model.limit
                    ),
                });
                return Ok(());
            }
            let line = Line {
                input: Input {
                    messages: [
                        Message {
                            role: "system",
                            content: system,
                        },
                        Message {
                            role: "user",
                            content: &chosen.user,
                        },
                    ],
                },
                preferred_output: [Message {
                    role: "assistant",
                    content: &chosen.action,
                }],
                non_preferred_output: [Message {
                    role: "assistant",
                    content: &side.action,
                }],
            };
            let text = serde_json::to_string(&line).expect("a line of strings always serializes");
            file.write_all(text.as_bytes())
                .and_then(|_| file.write_all(b"\n"))
                .with_context(|| format!("writing {}", file.relative))?;
            outcome.written += 1;
            written.tokens += preferred + non_preferred;
            if split == Split::Train {
                pair_tokens.push((preferred + non_preferred).min(u32::MAX as u64) as u32);
            }
            Ok(())
        },
    )?;
    anyhow::ensure!(
        pending.is_none(),
        "openai: the {split} split ended inside a pair; expected chosen and rejected examples in twos"
    );
    Ok(written)
}

/// USAGE.md for a preference export.
pub fn usage(result: &ExportResult, train: &str, eval: Option<&str>, model: Model) -> String {
    let s = &result.stats;
    let policy = s.policy_type.map(|p| p.name()).unwrap_or("unknown");
    let mut text = format!(
        "# OpenAI preference fine-tuning (DPO) dataset: {policy} policy\n\n\
         Preference pairs for direct preference optimization, exported by rlx: in each \
         pair the preferred output is the action of the example with the higher reward.\n\n\
         | | |\n|---|---|\n\
         | policy | {policy} |\n\
         | training pairs | {} |\n\
         | validation pairs | {} |\n\
         | eval pairs | {} |\n\
         | model | {} ({}) |\n\
         | exported at | {} |\n\n",
        s.train_examples,
        s.validation_examples,
        s.eval_examples,
        model.name,
        model.encoding.name(),
        s.exported_at,
    );
    if let Some(p) = &s.pairs {
        text.push_str(&format!(
            "Pairs were formed inside each split by `--pair-by {}` with `--pairs {}`; a pair needs a reward gap above {}.\n\n",
            p.pair_by, p.mode, p.min_margin
        ));
    }
    super::openai::push_upload(&mut text, train, eval);
    text.push_str(&format!(
        "job = client.fine_tuning.jobs.create(\n    training_file=train.id,\n{}    model=\"{}\",\n    method={{\"type\": \"dpo\", \"dpo\": {{\"hyperparameters\": {{\"beta\": {BETA}}}}}}},\n)\n```\n\n",
        if eval.is_some() { "    validation_file=valid.id,\n" } else { "" },
        model.name,
    ));
    text.push_str(&format!(
        "## Format\n\nEach line is one object with `input` (`messages`: a system and a user message), \
         `preferred_output` and `non_preferred_output` (one assistant message each: an action as \
         JSON). No reward text is in either output.\n\n## Limits applied\n\n\
         - Tokens are counted exactly with the {enc} tokenizer of `{name}` for each side (the input \
         plus one output); pairs with a side over {limit} tokens are left out and named in rlx's \
         warnings.\n\
         - OpenAI lists gpt-4.1-2025-04-14, gpt-4.1-mini-2025-04-14 and gpt-4.1-nano-2025-04-14 for \
         DPO; Together AI, Fireworks and Azure OpenAI accept the same line.\n\
         - OpenAI is winding down its fine-tuning platform (see the deprecations page); these files \
         are also an interchange format.\n",
        enc = model.encoding.name(),
        name = model.name,
        limit = model.limit,
    ));
    text
}
