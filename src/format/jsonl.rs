//! The plain JSONL format: `train.jsonl`, `eval.jsonl` (`validation.jsonl`) and a
//! README. One compact object per line, keys in the order state, action, reward,
//! nextState, metadata, then any other keys the input had; numbers as written.

use std::io::Write;

use anyhow::Context;

use super::{ExampleStream, FormatWriter, SplitOutcome, WriterConfig};
use crate::example::Split;
use crate::json::reparse;
use crate::output::OutputDir;
use crate::summary::ExportResult;
use crate::validate::Warning;

pub struct Jsonl {
    config: WriterConfig,
}

pub fn new(config: &WriterConfig) -> Box<dyn FormatWriter> {
    Box::new(Jsonl {
        config: config.clone(),
    })
}

/// The file a split is written to.
pub fn file_name(split: Split) -> String {
    format!("{}.jsonl", split.name())
}

impl FormatWriter for Jsonl {
    fn write_split(
        &mut self,
        split: Split,
        examples: &dyn ExampleStream,
        out: &OutputDir,
    ) -> anyhow::Result<SplitOutcome> {
        let mut file = out.create_data(&file_name(split))?;
        let mut written = 0;
        let with_metadata = self.config.include_metadata;
        super::render_then_write(
            examples,
            self.config.threads,
            |item, text| {
                // A line already in its compact form is copied as it is.
                if item.form.is_compact() && (with_metadata || !item.form.has_metadata()) {
                    return Ok(None);
                }
                let mut line = Vec::with_capacity(text.len());
                reparse(&item.location, text)?.write_compact(
                    &mut line,
                    "nextState",
                    with_metadata,
                    true,
                )?;
                Ok(Some(line))
            },
            |_, text, line| {
                file.write_all(line.as_deref().unwrap_or(text))
                    .and_then(|_| file.write_all(b"\n"))
                    .with_context(|| format!("writing {}", file.relative))?;
                written += 1;
                Ok(())
            },
        )?;
        file.finish()?;
        Ok(SplitOutcome {
            written,
            ..Default::default()
        })
    }

    fn write_extras(
        &mut self,
        result: &ExportResult,
        out: &OutputDir,
    ) -> anyhow::Result<Vec<Warning>> {
        out.write_doc(
            "README.md",
            &(readme(&self.config, result, out) + &crate::stats::plots::card_section(result, out)),
        )?;
        Ok(Vec::new())
    }
}

fn readme(config: &WriterConfig, result: &ExportResult, out: &OutputDir) -> String {
    let s = &result.stats;
    let policy = config.policy;
    let files = split_files(result, out, file_name);
    let mut text = format!(
        "# JSONL dataset: {policy} policy\n\n\
         Decisions of the agent-memory **{policy}** policy as reinforcement-learning examples, \
         one JSON object per line, exported by rlx.\n\n\
         | | |\n|---|---|\n\
         | policy | {policy} |\n\
         | examples | {} |\n\
         | train | {} |\n\
         | validation | {} |\n\
         | eval | {} |\n\
         | seed | {} ({}) |\n\
         | split ratio (eval share) | {} |\n\
         | exported at | {} |\n\n",
        s.total_examples,
        s.train_examples,
        s.validation_examples,
        s.eval_examples,
        s.seed,
        if s.shuffled {
            "shuffled"
        } else {
            "input order"
        },
        if s.kept_input_split {
            "the input's own split".to_string()
        } else {
            s.split_ratio.clone()
        },
        s.exported_at,
    );
    text.push_str("## Files\n\n| file | split | examples |\n|---|---|---|\n");
    for (split, name, n) in &files {
        text.push_str(&format!("| `{name}` | {split} | {n} |\n"));
    }
    text.push_str(
        "\n## Format\n\nEach line is one example; keys appear in this order, and `nextState` and \
         `metadata` only when the example has them:\n\n```json\n\
         {\"state\": {...}, \"action\": {...}, \"reward\": 0.85, \"nextState\": {...}, \"metadata\": {...}}\n```\n\n\
         `reward` is the outcome score in [-1, 1] (negative for bad outcomes). Numbers are written \
         exactly as they were in the input.\n\n## Loading\n\n```python\nimport json\n",
    );
    if out.is_compressed() {
        text.push_str("import gzip\n\n");
    } else {
        text.push('\n');
    }
    for (split, name, _) in &files {
        let open = if out.is_compressed() {
            format!("gzip.open(\"{name}\", \"rt\", encoding=\"utf-8\")")
        } else {
            format!("open(\"{name}\", encoding=\"utf-8\")")
        };
        text.push_str(&format!(
            "with {open} as f:\n    {split} = [json.loads(line) for line in f]\n"
        ));
    }
    let first = files
        .first()
        .map(|(_, n, _)| n.clone())
        .unwrap_or_else(|| "train.jsonl".into());
    let cat = if out.is_compressed() {
        format!("zcat {first} |")
    } else {
        format!("cat {first} |")
    };
    text.push_str(&format!(
        "```\n\nWith `jq`:\n\n```bash\n{cat} jq -c '{{reward, action}}' | head\n{cat} jq -s 'map(.reward) | add / length'   # mean reward\n```\n"
    ));
    text
}

/// (split name, file name, count) for every split that has a file, in file order.
pub fn split_files(
    result: &ExportResult,
    out: &OutputDir,
    name_of: fn(Split) -> String,
) -> Vec<(&'static str, String, u64)> {
    let s = &result.stats;
    [
        (Split::Train, s.train_examples),
        (Split::Validation, s.validation_examples),
        (Split::Eval, s.eval_examples),
    ]
    .into_iter()
    .filter(|(_, n)| *n > 0)
    .map(|(split, n)| (split.name(), out.data_name(&name_of(split)), n))
    .collect()
}
