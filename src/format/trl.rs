//! The TRL format: Hugging Face TRL's dataset types, one per objective, as
//! `train.jsonl`, `eval.jsonl` (`validation.jsonl`) and a dataset card `README.md` that
//! `load_dataset(DIR)` reads. sft → prompt-completion, kto → unpaired preference,
//! dpo → preference with an explicit prompt, reward → preference with an implicit
//! prompt and a `margin` (reward-formats.md §1.1, §5).
//!
//! Every row of a file has the same keys and the same kinds of values: TRL's
//! `is_conversational` looks at one arbitrary key of a row only. Pairs arrive from the
//! pairing step as chosen, rejected, chosen, rejected … examples; this file never
//! decides who is paired with whom.

use std::fmt::Write as _;
use std::io::Write;

use anyhow::Context;
use serde::Serialize;

use super::huggingface::{hf_split_name, size_category, written_splits, yaml_str};
use super::{ExampleStream, FormatWriter, Item, SplitOutcome, WriterConfig};
use crate::example::{Policy, Split};
use crate::objective::Objective;
use crate::output::OutputDir;
use crate::prompt;
use crate::reward::Reward;
use crate::summary::ExportResult;
use crate::template::PromptTemplate;
use crate::validate::Warning;

/// `--trl-style`: message lists or plain strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TrlStyle {
    /// prompt = [system, user] messages, completions = [assistant] (TRL's conversational type)
    Conversational,
    /// plain strings: the prompt is the system text, a blank line, the user text
    Standard,
}

impl TrlStyle {
    pub fn name(self) -> &'static str {
        match self {
            TrlStyle::Conversational => "conversational",
            TrlStyle::Standard => "standard",
        }
    }
}

pub struct Trl {
    config: WriterConfig,
}

pub fn new(config: &WriterConfig) -> Box<dyn FormatWriter> {
    Box::new(Trl {
        config: config.clone(),
    })
}

#[derive(Serialize)]
struct Message<'a> {
    role: &'a str,
    content: &'a str,
}

/// A prompt or completion: messages, or one string.
#[derive(Serialize)]
#[serde(untagged)]
enum Turns<'a> {
    Chat(Vec<Message<'a>>),
    Plain(String),
}

#[derive(Serialize)]
struct Row<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    prompt: Option<Turns<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    completion: Option<Turns<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    chosen: Option<Turns<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rejected: Option<Turns<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    margin: Option<serde_json::Number>,
}

/// One example rendered: its system prompt when a template made it, its user prompt,
/// its completion (built in: the action as pretty JSON), its reward.
pub struct Rendered {
    pub system: Option<String>,
    pub user: String,
    pub completion: String,
    pub reward: Reward,
}

/// Render an example's parts (the rows are put together in order, on the writing side).
pub fn render_item(
    policy: Policy,
    template: Option<&PromptTemplate>,
    split: Split,
    item: &Item,
    text: &[u8],
) -> anyhow::Result<Rendered> {
    let reward_of = |ex: &crate::json::ExampleText| {
        Reward::parse(ex.reward.get()).ok_or_else(|| {
            anyhow::anyhow!(
                "{}: the reward is no longer a number; expected the input to stay as it was read",
                item.location
            )
        })
    };
    if let Some(template) = template {
        let ex = crate::json::reparse(&item.location, text)?;
        let t = prompt::template_texts(template, policy, split, &item.location, &ex, text)?;
        return Ok(Rendered {
            system: Some(t.system),
            user: t.user,
            completion: t.assistant,
            reward: reward_of(&ex)?,
        });
    }
    let (ex, state) = prompt::reread(&item.location, text)?;
    Ok(Rendered {
        system: None,
        user: prompt::render_user_prompt(policy, &state),
        completion: prompt::pretty_action(ex.action),
        reward: reward_of(&ex)?,
    })
}

/// A margin as a JSON number that every reader types as a float (`1.0`, not `1`).
pub fn margin_number(margin: Reward) -> serde_json::Number {
    let mut text = margin.to_string();
    if !text.contains(['.', 'e']) {
        text.push_str(".0");
    }
    serde_json::from_str(&text).expect("a Reward prints as a JSON number")
}

/// The rows' text pieces for one style and one system prompt.
struct Renderer<'s> {
    style: TrlStyle,
    system: &'s str,
}

impl<'s> Renderer<'s> {
    /// The system and user messages.
    fn messages(&self, user: &'s str) -> Vec<Message<'s>> {
        vec![
            Message {
                role: "system",
                content: self.system,
            },
            Message {
                role: "user",
                content: user,
            },
        ]
    }

    fn prompt(&self, user: &'s str) -> Turns<'s> {
        match self.style {
            TrlStyle::Conversational => Turns::Chat(self.messages(user)),
            TrlStyle::Standard => Turns::Plain(format!("{}\n\n{user}", self.system)),
        }
    }

    fn completion(&self, action: &'s str) -> Turns<'s> {
        match self.style {
            TrlStyle::Conversational => Turns::Chat(vec![Message {
                role: "assistant",
                content: action,
            }]),
            // TRL tokenizes prompt + completion as one string and needs the prompt's
            // tokens to be its prefix: a separator at the end of the prompt, or none
            // (`?{`), merges across the seam, so the blank line starts the completion.
            TrlStyle::Standard => Turns::Plain(format!("\n\n{action}")),
        }
    }

    /// The whole conversation (an implicit-prompt preference side).
    fn conversation(&self, user: &'s str, action: &'s str) -> Turns<'s> {
        match self.style {
            TrlStyle::Conversational => {
                let mut messages = self.messages(user);
                messages.push(Message {
                    role: "assistant",
                    content: action,
                });
                Turns::Chat(messages)
            }
            TrlStyle::Standard => Turns::Plain(format!("{}\n\n{user}\n\n{action}", self.system)),
        }
    }
}

fn empty_row<'a>() -> Row<'a> {
    Row {
        prompt: None,
        completion: None,
        chosen: None,
        rejected: None,
        label: None,
        margin: None,
    }
}

impl Trl {
    /// The renderer of a row whose prompt is `r`'s.
    fn renderer<'s>(&self, r: &'s Rendered) -> Renderer<'s> {
        Renderer {
            style: self.config.trl_style,
            system: r
                .system
                .as_deref()
                .unwrap_or(prompt::system_prompt(self.config.policy)),
        }
    }

    /// The row of one example (sft, kto).
    fn single_row(&self, r: &Rendered) -> String {
        let render = self.renderer(r);
        let mut row = empty_row();
        row.prompt = Some(render.prompt(&r.user));
        row.completion = Some(render.completion(&r.completion));
        if self.config.objective.objective == Objective::Kto {
            row.label = Some(r.reward > self.config.objective.kto_threshold);
        }
        serde_json::to_string(&row).expect("a row of strings always serializes")
    }

    /// The row of one pair (dpo, reward): the prompt is the chosen example's state.
    fn pair_row(&self, chosen: &Rendered, rejected: &Rendered) -> String {
        let render = self.renderer(chosen);
        let mut row = empty_row();
        if self.config.objective.objective == Objective::Dpo {
            row.prompt = Some(render.prompt(&chosen.user));
            row.chosen = Some(render.completion(&chosen.completion));
            row.rejected = Some(render.completion(&rejected.completion));
        } else {
            row.chosen = Some(render.conversation(&chosen.user, &chosen.completion));
            row.rejected = Some(render.conversation(&chosen.user, &rejected.completion));
            if self.config.objective.include_margin {
                row.margin = Some(margin_number(chosen.reward.minus(rejected.reward)));
            }
        }
        serde_json::to_string(&row).expect("a row of strings always serializes")
    }
}

impl FormatWriter for Trl {
    fn write_split(
        &mut self,
        split: Split,
        examples: &dyn ExampleStream,
        out: &OutputDir,
    ) -> anyhow::Result<SplitOutcome> {
        let policy = self.config.policy;
        let objective = self.config.objective.objective;
        let mut file = out.create_data(&format!("{}.jsonl", split.name()))?;
        let mut outcome = SplitOutcome::default();
        let mut pending: Option<Rendered> = None;
        let this = &*self;
        let template = self.config.templates.prompt.as_deref();
        super::render_then_write(
            examples,
            self.config.threads,
            |item, text| render_item(policy, template, split, item, text),
            |_, _, rendered| {
                let line = if objective.needs_pairs() {
                    match pending.take() {
                        None => {
                            pending = Some(rendered);
                            return Ok(());
                        }
                        Some(chosen) => this.pair_row(&chosen, &rendered),
                    }
                } else {
                    this.single_row(&rendered)
                };
                file.write_all(line.as_bytes())
                    .and_then(|_| file.write_all(b"\n"))
                    .with_context(|| format!("writing {}", file.relative))?;
                outcome.written += 1;
                Ok(())
            },
        )?;
        anyhow::ensure!(
            pending.is_none(),
            "trl: the {split} split ended inside a pair; expected chosen and rejected examples in twos"
        );
        outcome.finish_file(file, "trl", split)?;
        Ok(outcome)
    }

    fn write_extras(
        &mut self,
        result: &ExportResult,
        out: &OutputDir,
    ) -> anyhow::Result<Vec<Warning>> {
        out.write_doc(
            "README.md",
            &(self.card(result, out) + &crate::stats::plots::card_section(result, out)),
        )?;
        Ok(Vec::new())
    }
}

/// The YAML of one column: a message list or a string.
fn feature_yaml(out: &mut String, name: &str, conversational: bool) {
    if conversational {
        let _ = write!(
            out,
            "  - name: {name}\n    list:\n    - name: role\n      dtype: string\n    - name: content\n      dtype: string\n"
        );
    } else {
        let _ = writeln!(out, "  - name: {name}\n    dtype: string");
    }
}

/// The columns of a file, in the order rows write them.
fn columns(objective: Objective, include_margin: bool) -> Vec<(&'static str, &'static str)> {
    match objective {
        Objective::Sft => vec![("prompt", "text"), ("completion", "text")],
        Objective::Kto => vec![
            ("prompt", "text"),
            ("completion", "text"),
            ("label", "bool"),
        ],
        Objective::Dpo => vec![("prompt", "text"), ("chosen", "text"), ("rejected", "text")],
        Objective::Reward => {
            let mut c = vec![("chosen", "text"), ("rejected", "text")];
            if include_margin {
                c.push(("margin", "float64"));
            }
            c
        }
    }
}

impl Trl {
    fn card(&self, result: &ExportResult, out: &OutputDir) -> String {
        let s = &result.stats;
        let o = &self.config.objective;
        let policy = self.config.policy.name();
        let style = self.config.trl_style;
        let is_chat = style == TrlStyle::Conversational;
        let splits = written_splits(result);
        let rows: u64 = splits.iter().map(|(_, n)| n).sum();
        let mut y = String::from("---\n");
        let _ = writeln!(y, "size_categories:\n- {}", size_category(rows));
        let _ = writeln!(
            y,
            "pretty_name: {}",
            yaml_str(&format!(
                "Agent memory {policy} policy, TRL {}",
                o.objective.dataset_type()
            ))
        );
        y.push_str("tags:\n- agent-memory\n- rlx\n- trl\n");
        let _ = writeln!(y, "- {}", o.objective.name());
        y.push_str("configs:\n- config_name: default\n  data_files:\n");
        for (split, _) in &splits {
            let _ = writeln!(
                y,
                "  - split: {}\n    path: {}",
                hf_split_name(*split),
                yaml_str(&out.data_name(&format!("{}.jsonl", split.name())))
            );
        }
        y.push_str("dataset_info:\n  features:\n");
        for (name, kind) in columns(o.objective, o.include_margin) {
            match kind {
                "text" => feature_yaml(&mut y, name, is_chat),
                dtype => {
                    let _ = writeln!(y, "  - name: {name}\n    dtype: {dtype}");
                }
            }
        }
        y.push_str("---\n\n");

        let _ = write!(
            y,
            "# Agent memory {policy} policy: TRL {} dataset\n\n\
             Decisions of the {policy} policy of an agent-memory system, exported by rlx as \
             TRL's *{}* dataset type ({} style) for `{}`.\n\n\
             | | |\n|---|---|\n\
             | objective | {} |\n| style | {} |\n| policy | {policy} |\n",
            o.objective.name(),
            o.objective.dataset_type(),
            style.name(),
            o.objective.trainer(),
            o.objective.name(),
            style.name(),
        );
        for (split, n) in &splits {
            let _ = writeln!(y, "| {} rows | {n} |", hf_split_name(*split));
        }
        if let Some(r) = &s.min_reward {
            let _ = writeln!(
                y,
                "| minimum reward | {r} ({} examples left out) |",
                s.filtered_examples
            );
        }
        let _ = writeln!(
            y,
            "| seed | {} |\n| exported at | {} |",
            s.seed, s.exported_at
        );
        if let Some(p) = &s.pairs {
            let _ = write!(
                y,
                "| pairs | {} (train {}, validation {}, eval {}) |\n\
                 | pairing | `--pair-by {}`, `--pairs {}`{}, margin above {} |\n\
                 | examples in pairs | {} |\n\
                 | unpaired: no group key / alone in group / no different action / margin / not selected | {} / {} / {} / {} / {} |\n",
                p.train + p.validation + p.eval,
                p.train,
                p.validation,
                p.eval,
                p.pair_by,
                p.mode,
                if p.mode == "all" {
                    format!(" (at most {} per group)", p.max_per_group)
                } else {
                    String::new()
                },
                p.min_margin,
                p.used_examples,
                p.unpaired.no_group_key,
                p.unpaired.alone_in_group,
                p.unpaired.no_different_action,
                p.unpaired.below_margin,
                p.unpaired.not_selected,
            );
        }
        if let Some(k) = &s.kto {
            let _ = writeln!(
                y,
                "| labels | {} desirable, {} undesirable (reward above / below {}; {} at the threshold left out) |",
                k.desirable, k.undesirable, k.threshold, k.at_threshold
            );
        }
        y.push('\n');
        y.push_str("## Columns\n\n");
        y.push_str(match (o.objective, is_chat) {
            (Objective::Sft | Objective::Kto, true) => "- `prompt`: a system message (the policy) and a user message (the state)\n- `completion`: one assistant message, the action as pretty JSON\n",
            (Objective::Sft | Objective::Kto, false) => "- `prompt`: the system text, a blank line, the user text (the state)\n- `completion`: a blank line, then the action as pretty JSON\n",
            (Objective::Dpo, true) => "- `prompt`: a system message and a user message (the chosen example's state)\n- `chosen`, `rejected`: one assistant message each, an action as pretty JSON\n",
            (Objective::Dpo, false) => "- `prompt`: the system text, a blank line, the user text (the chosen example's state)\n- `chosen`, `rejected`: a blank line, then an action as pretty JSON\n",
            (Objective::Reward, true) => "- `chosen`, `rejected`: the whole conversation (system, user, assistant); both share the chosen example's prompt\n",
            (Objective::Reward, false) => "- `chosen`, `rejected`: the system text, the user text and the action, separated by blank lines; both share the chosen example's prompt\n",
        });
        match o.objective {
            Objective::Kto => y.push_str("- `label`: `true` when the reward is above the threshold (desirable), `false` below it\n\nRows keep the seeded shuffled order: KTOTrainer reads them in file order.\n"),
            Objective::Reward if o.include_margin => y.push_str("- `margin`: the chosen reward minus the rejected one (RewardTrainer subtracts it inside its loss)\n"),
            _ => {}
        }
        y.push_str("\nThe reward itself is not in the completion: a policy must not learn to say it.\n\n## Loading and training\n\n```python\nfrom datasets import load_dataset\n\nds = load_dataset(\"path/to/this/directory\")\n");
        y.push_str(&trainer_snippet(o.objective, s));
        y
    }
}

fn trainer_snippet(objective: Objective, s: &crate::summary::Stats) -> String {
    let eval = if s.eval_examples > 0 {
        "ds[\"test\"]"
    } else if s.validation_examples > 0 {
        "ds[\"validation\"]"
    } else {
        "None"
    };
    match objective {
        Objective::Sft => format!(
            "\nfrom trl import SFTConfig, SFTTrainer\n\ntrainer = SFTTrainer(\n    model=\"Qwen/Qwen2.5-0.5B-Instruct\",\n    args=SFTConfig(output_dir=\"sft-out\"),\n    train_dataset=ds[\"train\"],\n    eval_dataset={eval},\n)\ntrainer.train()\n```\n"
        ),
        Objective::Dpo => format!(
            "\nfrom trl import DPOConfig, DPOTrainer\n\ntrainer = DPOTrainer(\n    model=\"Qwen/Qwen2.5-0.5B-Instruct\",\n    args=DPOConfig(output_dir=\"dpo-out\", beta=0.1),\n    train_dataset=ds[\"train\"],\n    eval_dataset={eval},\n)\ntrainer.train()\n```\n"
        ),
        Objective::Kto => {
            let weights = s.kto.as_ref().and_then(|k| k.weights);
            let (args, note) = match weights {
                Some(w) => (
                    format!(
                        "desirable_weight={}, undesirable_weight={}",
                        w.desirable_weight, w.undesirable_weight
                    ),
                    format!(
                        "\nThe weights balance the labels as TRL's KTO docs recommend (desirable_weight × desirable to undesirable_weight × undesirable between 1:1 and 4:3): `{}` may lie in [{}, {}].\n",
                        w.weighted, w.range[0], w.range[1]
                    ),
                ),
                None => (
                    "desirable_weight=1.0, undesirable_weight=1.0".to_string(),
                    "\nOne of the labels is missing from the training split: KTO needs both.\n"
                        .to_string(),
                ),
            };
            format!(
                "\nfrom trl import KTOConfig, KTOTrainer\n\ntrainer = KTOTrainer(\n    model=\"Qwen/Qwen2.5-0.5B-Instruct\",\n    args=KTOConfig(output_dir=\"kto-out\", {args}),\n    train_dataset=ds[\"train\"],\n    eval_dataset={eval},\n)\ntrainer.train()\n```\n{note}"
            )
        }
        Objective::Reward => format!(
            "\nfrom trl import RewardConfig, RewardTrainer\n\ntrainer = RewardTrainer(\n    model=\"Qwen/Qwen2.5-0.5B-Instruct\",\n    args=RewardConfig(output_dir=\"reward-out\"),\n    train_dataset=ds[\"train\"],\n    eval_dataset={eval},\n)\ntrainer.train()\n```\n"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn margins_are_always_floats() {
        let m = |s: &str| margin_number(s.parse().unwrap()).to_string();
        assert_eq!(m("1"), "1.0");
        assert_eq!(m("0.6"), "0.6");
        assert_eq!(m("-0.25"), "-0.25");
        assert_eq!(m("100"), "100.0");
    }
}
