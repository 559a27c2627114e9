//! `--format template`: a format of the user's own. Each example is one line rendered by
//! `--line-template` (checked to be exactly one JSON value, written compact) into
//! `train.jsonl`, `eval.jsonl` (`validation.jsonl`), with a dataset card `README.md` that
//! `load_dataset(DIR)` reads and that records the template. The line reads the prompt
//! texts of `--template` (or the built-in ones, as `--format openai` writes them). With
//! `--objective kto` a line also has `label`; with dpo or reward a line is one pair, with
//! `chosen`, `rejected` (each an example with its texts) and `margin`.

use std::fmt::Write as _;
use std::io::Write;

use anyhow::Context as _;
use minijinja::Value;

use super::huggingface::{hf_split_name, size_category, written_splits, yaml_str};
use super::{ExampleStream, FormatWriter, Item, SplitOutcome, WriterConfig};
use crate::example::Split;
use crate::objective::Objective;
use crate::output::OutputDir;
use crate::reward::Reward;
use crate::summary::ExportResult;
use crate::template::{self, Context, LineTemplate};
use crate::validate::Warning;

/// The hint on a failed line, as the scan gives it for any invalid example.
const SKIP: &str = " (--skip-invalid skips such examples and lists them in rejected.jsonl)";

pub struct Template {
    config: WriterConfig,
}

pub fn new(config: &WriterConfig) -> Box<dyn FormatWriter> {
    Box::new(Template {
        config: config.clone(),
    })
}

impl Template {
    fn line_template(&self) -> &LineTemplate {
        self.config
            .templates
            .line
            .as_deref()
            .expect("the plan writes --format template only with a line template")
    }

    /// One example's context, with its prompt texts when the line reads them.
    fn context(&self, split: Split, item: &Item, text: &[u8]) -> anyhow::Result<(Context, Reward)> {
        let line = self.line_template();
        let policy = self.config.policy;
        let location = &item.location;
        let built_in = line.reads_texts() && self.config.templates.prompt.is_none();
        let (ex, state) = if built_in {
            let (ex, state) = crate::prompt::reread(location, text)?;
            (ex, Some(state))
        } else {
            (crate::json::reparse(location, text)?, None)
        };
        let reward = Reward::parse(ex.reward.get()).ok_or_else(|| {
            anyhow::anyhow!("{location}: the reward is no longer a number; expected the input to stay as it was read")
        })?;
        let context = Context::new(policy, split.name(), &ex, text);
        let texts = match (&self.config.templates.prompt, line.reads_texts()) {
            (Some(prompt), true) => Some(
                prompt
                    .render(&context)
                    .map_err(|e| anyhow::anyhow!("{location}: {e}{SKIP}"))?,
            ),
            _ => None,
        };
        let objective = self.config.objective.objective;
        let context = template::with_texts(
            line,
            context,
            texts,
            (policy, objective),
            &ex,
            state.as_ref(),
        )
        .map_err(|e| anyhow::anyhow!("{location}: {e}"))?;
        Ok((context, reward))
    }

    /// One example's line (sft, kto), or its context when it is half of a pair.
    fn render(&self, split: Split, item: &Item, text: &[u8]) -> anyhow::Result<Rendered> {
        let (mut context, reward) = self.context(split, item, text)?;
        let o = &self.config.objective;
        if o.objective.needs_pairs() {
            return Ok(Rendered::Side(
                Box::new(context),
                reward,
                item.location.to_string(),
            ));
        }
        if o.objective == Objective::Kto {
            context.set_label(reward > o.kto_threshold);
        }
        self.line_template()
            .render(&context)
            .map(Rendered::Line)
            .map_err(|e| anyhow::anyhow!("{}: {e}{SKIP}", item.location))
    }
}

/// What the rendering threads hand the writer.
enum Rendered {
    Line(String),
    /// A pair's side: its context, reward and place; the writer renders the pair.
    Side(Box<Context>, Reward, String),
}

impl FormatWriter for Template {
    fn write_split(
        &mut self,
        split: Split,
        examples: &dyn ExampleStream,
        out: &OutputDir,
    ) -> anyhow::Result<SplitOutcome> {
        let mut file = out.create_data(&format!("{}.jsonl", split.name()))?;
        let mut outcome = SplitOutcome::default();
        let this = &*self;
        let mut pending: Option<(Box<Context>, Reward, String)> = None;
        super::render_then_write(
            examples,
            self.config.threads,
            |item, text| this.render(split, item, text),
            |_, _, rendered| {
                let line = match rendered {
                    Rendered::Line(line) => line,
                    Rendered::Side(context, reward, at) => match pending.take() {
                        None => {
                            pending = Some((context, reward, at));
                            return Ok(());
                        }
                        Some((chosen, chosen_reward, chosen_at)) => {
                            let margin = chosen_reward.minus(reward).to_string();
                            let margin = Value::from(margin.parse::<f64>().unwrap_or(f64::NAN));
                            let pair = Context::pair(*chosen, *context, margin);
                            this.line_template().render(&pair).map_err(|e| {
                                anyhow::anyhow!("the pair of {chosen_at} and {at}: {e}")
                            })?
                        }
                    },
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
            "template: the {split} split ended inside a pair; expected chosen and rejected examples in twos"
        );
        outcome.finish_file(file, "template", split)?;
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

/// A Markdown fence longer than any run of backticks in `text`.
fn fence_for(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

impl Template {
    fn card(&self, result: &ExportResult, out: &OutputDir) -> String {
        let s = &result.stats;
        let policy = self.config.policy.name();
        let line = self.line_template();
        let splits = written_splits(result);
        let rows: u64 = splits.iter().map(|(_, n)| n).sum();
        let mut y = String::from("---\n");
        let _ = writeln!(y, "size_categories:\n- {}", size_category(rows));
        let _ = writeln!(
            y,
            "pretty_name: {}",
            yaml_str(&format!("Agent memory {policy} policy, templated rows"))
        );
        y.push_str(
            "tags:\n- agent-memory\n- rlx\nconfigs:\n- config_name: default\n  data_files:\n",
        );
        for (split, _) in &splits {
            let _ = writeln!(
                y,
                "  - split: {}\n    path: {}",
                hf_split_name(*split),
                yaml_str(&out.data_name(&format!("{}.jsonl", split.name())))
            );
        }
        y.push_str("---\n\n");
        let _ = write!(
            y,
            "# Agent memory {policy} policy: templated rows\n\n\
             Decisions of the {policy} policy of an agent-memory system, exported by rlx with \
             `--format template`: each line is one example rendered by the line template below \
             and written as compact JSON.\n\n\
             | | |\n|---|---|\n| policy | {policy} |\n| objective | {} |\n| line template | `{}` |\n| prompt texts | {} |\n",
            self.config.objective.objective,
            line.path(),
            match (&self.config.templates.prompt, self.config.objective.objective) {
                (Some(p), _) => format!("`{}`", p.path()),
                (None, Objective::Sft) => "built in, as `--format openai` writes them".to_string(),
                (None, _) => "built in, the answer being the action alone (no reward)".to_string(),
            },
        );
        for (split, n) in &splits {
            let _ = writeln!(
                y,
                "| {} rows (`{}`) | {n} |",
                hf_split_name(*split),
                out.data_name(&format!("{}.jsonl", split.name()))
            );
        }
        let _ = write!(
            y,
            "| seed | {} |\n| exported at | {} |\n\n",
            s.seed, s.exported_at
        );
        let fence = fence_for(line.source());
        let _ = write!(
            y,
            "## Line template\n\n{fence}jinja\n{}\n{fence}\n\n\
             ## Loading\n\n```python\nfrom datasets import load_dataset\n\n\
             ds = load_dataset(\"path/to/this/directory\")\n```\n\n\
             Every line is one JSON value; `datasets` needs every line of a file to be an \
             object with the same keys and value types.\n",
            line.source().trim_end()
        );
        y
    }
}
