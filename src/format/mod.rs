//! The format table and the `FormatWriter` trait. `--format`'s values, help and
//! completions, `--format all`, format inference from the output name and the extra
//! checks of `rlx validate --format` all read the one table, so a new format is its own
//! file (its writer and `new`), its `pub mod` line and one row in `TABLE`. Only a format
//! with an option of its own (as `--anthropic-style`) touches more: the flag in
//! `cli::ExportArgs`, its field in `ExportPlan` and in `WriterConfig`.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use self::anthropic::AnthropicStyle;
use self::trl::TrlStyle;
use crate::example::{Policy, Split};
use crate::objective::{Objective, ObjectiveConfig};
use crate::output::OutputDir;
pub use crate::scan::Form;
use crate::schema::Schema;
pub use crate::stream::{Batch, ExampleStream, Item};
use crate::summary::{ExportResult, Timestamp};
use crate::tokens::Model;
use crate::validate::Warning;

pub mod anthropic;
pub mod csv;
pub mod huggingface;
pub mod jsonl;
pub mod openai;
pub mod openai_preference;
pub mod parquet;
pub mod template;
pub mod trl;

/// Render the stream's examples, a batch per job on every thread, and hand each
/// rendering in order to `write` on this thread. `write` gets each item, its text and
/// its rendering; the progress bar counts examples once `write` has taken them.
pub fn render_then_write<R: Send>(
    examples: &dyn ExampleStream,
    threads: usize,
    render: impl Fn(&Item, &[u8]) -> anyhow::Result<R> + Sync,
    write: impl FnMut(&Item, &[u8], R) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut states = vec![(); threads.max(1)];
    render_then_write_with(
        examples,
        &mut states,
        |_, item, text| render(item, text),
        write,
    )
}

/// `render_then_write` with one mutable state per rendering thread (a token cache, say).
pub fn render_then_write_with<S: Send, R: Send>(
    examples: &dyn ExampleStream,
    states: &mut [S],
    render: impl Fn(&mut S, &Item, &[u8]) -> anyhow::Result<R> + Sync,
    mut write: impl FnMut(&Item, &[u8], R) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let len = examples.len();
    let jobs = std::iter::successors(Some(0..examples.batch_end(0)), |r| {
        (r.end < len).then(|| r.end..examples.batch_end(r.end))
    })
    .filter(|r| !r.is_empty())
    .map(Ok);
    crate::parallel::ordered(
        states,
        jobs,
        |state, range| {
            let batch = examples.read(range)?;
            let rendered = batch
                .items()
                .iter()
                .map(|item| render(state, item, batch.text(item)))
                .collect::<anyhow::Result<Vec<R>>>()?;
            Ok((batch, rendered))
        },
        |(batch, rendered)| {
            for (item, r) in batch.items().iter().zip(rendered) {
                write(item, batch.text(item), r)?;
            }
            examples.progress().inc(batch.len() as u64);
            Ok(())
        },
    )
}

/// What a writer did with one split.
#[derive(Debug, Default)]
pub struct SplitOutcome {
    pub written: u64,
    /// Examples this format could not take (a token limit, a platform rule), one
    /// warning each.
    pub dropped: Vec<Warning>,
    /// Other warnings about the split.
    pub notes: Vec<Warning>,
}

impl SplitOutcome {
    /// Keep the split's file, or remove it when the format left every example out:
    /// consumers reject empty files (FORMATS.md rule 3).
    pub fn finish_file(
        &mut self,
        file: crate::output::OutFile,
        format: &'static str,
        split: Split,
    ) -> anyhow::Result<()> {
        if self.written > 0 {
            return file.finish();
        }
        file.discard()?;
        self.notes
            .push(Warning::FormatEmptiedSplit { format, split });
        Ok(())
    }
}

pub trait FormatWriter {
    /// Called once per non-empty split, with examples in their final order.
    fn write_split(
        &mut self,
        split: Split,
        examples: &dyn ExampleStream,
        out: &OutputDir,
    ) -> anyhow::Result<SplitOutcome>;

    /// README, dataset card, dictionary: written last, from the final counts. Returns
    /// warnings about the whole file set (too few records for a platform, ...).
    fn write_extras(
        &mut self,
        result: &ExportResult,
        out: &OutputDir,
    ) -> anyhow::Result<Vec<Warning>>;
}

/// Everything a writer may need besides the examples.
#[derive(Clone)]
pub struct WriterConfig {
    pub policy: Policy,
    pub include_metadata: bool,
    pub model: Model,
    pub anthropic_style: AnthropicStyle,
    pub formula_escape: bool,
    /// The union schema of the examples written (for formats with `needs_schema`).
    pub schema: Arc<Schema>,
    /// Per shape id: whether that shape has an integer where the union schema has a
    /// float (such examples are rewritten so every reader infers the declared type).
    pub ints_in_float_fields: Arc<Vec<bool>>,
    pub created: Timestamp,
    /// The input dataset object's `stats`, if any (its dateRange is reported).
    pub input_stats: Option<Value>,
    pub threads: usize,
    /// The objective, and what turns rewards into its rows. For dpo and reward the
    /// examples arrive in twos: chosen, then rejected.
    pub objective: ObjectiveConfig,
    pub trl_style: TrlStyle,
    pub parquet: parquet::ParquetOptions,
    /// The user's prompt and line templates.
    pub templates: crate::template::Templates,
    /// The longest selected example's text, in bytes (parquet turns chunking off above
    /// a chunk).
    pub longest_example: u64,
}

/// A format's row in `TABLE`: everything the rest of rlx knows about it. A format is
/// named by its row (`&'static FormatSpec`); two rows are the same format when their
/// names are.
pub struct FormatSpec {
    pub name: &'static str,
    /// One line for `--help` and completions.
    pub about: &'static str,
    /// Whole words of the output directory's name that choose this format.
    pub words: &'static [&'static str],
    /// Endings of the output directory's name that choose this format (checked first).
    pub endings: &'static [&'static str],
    /// Renders prompts, so every state field a prompt shows must be present.
    pub needs_prompts: bool,
    /// Needs the union schema before writing.
    pub needs_schema: bool,
    /// Writes what `--line-template` renders (and is left out of `all` without one).
    pub needs_line_template: bool,
    /// The objectives it writes (`--objective`); every format writes sft.
    pub objectives: &'static [Objective],
    /// What `rlx validate --format` runs over every valid example besides the checks
    /// every format shares: the examples this format would leave out.
    pub validate: Option<ExampleCheck>,
    pub new: fn(&WriterConfig) -> Box<dyn FormatWriter>,
}

/// A format's own check of the examples (see `FormatSpec::validate`).
pub struct ExampleCheck {
    /// What the progress bar counts while it runs.
    pub label: &'static str,
    /// The warnings for the examples the format would leave out.
    pub run: fn(&dyn ExampleStream, &CheckConfig) -> anyhow::Result<Vec<Warning>>,
}

/// What a format's own check needs.
pub struct CheckConfig {
    pub policy: Policy,
    pub model: Model,
    pub threads: usize,
    /// The prompt template whose texts are checked instead of the built-in ones.
    pub template: Option<Arc<crate::template::PromptTemplate>>,
}

impl PartialEq for FormatSpec {
    fn eq(&self, other: &FormatSpec) -> bool {
        self.name == other.name
    }
}

impl Eq for FormatSpec {}

impl fmt::Debug for FormatSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FormatSpec({})", self.name)
    }
}

/// The formats, in the order `--format all` writes them and inference tries them.
pub const TABLE: &[FormatSpec] = &[
    FormatSpec {
        name: "huggingface",
        about: "datasets-ready JSON Lines splits with a dataset card declaring the schema",
        words: &["huggingface", "hf"],
        endings: &[],
        needs_prompts: false,
        needs_schema: true,
        needs_line_template: false,
        objectives: &[Objective::Sft],
        validate: None,
        new: huggingface::new,
    },
    FormatSpec {
        name: "openai",
        about: "chat fine-tuning JSONL with exact token counts",
        words: &["openai", "gpt"],
        endings: &[],
        needs_prompts: true,
        needs_schema: false,
        needs_line_template: false,
        objectives: &[Objective::Sft, Objective::Dpo],
        validate: Some(ExampleCheck {
            label: "tokens",
            run: openai::over_limit,
        }),
        new: openai::new,
    },
    FormatSpec {
        name: "anthropic",
        about: "Claude prompt/completion (or Bedrock) JSONL",
        words: &["anthropic", "claude"],
        endings: &[],
        needs_prompts: true,
        needs_schema: false,
        needs_line_template: false,
        objectives: &[Objective::Sft],
        validate: None,
        new: anthropic::new,
    },
    FormatSpec {
        name: "csv",
        about: "flattened CSV with a data dictionary and an analysis script",
        words: &[],
        endings: &[".csv"],
        needs_prompts: false,
        needs_schema: true,
        needs_line_template: false,
        objectives: &[Objective::Sft],
        validate: None,
        new: csv::new,
    },
    FormatSpec {
        name: "jsonl",
        about: "one example per line, as in the input",
        words: &[],
        endings: &[".jsonl", ".ndjson"],
        needs_prompts: false,
        needs_schema: false,
        needs_line_template: false,
        objectives: &[Objective::Sft],
        validate: None,
        new: jsonl::new,
    },
    FormatSpec {
        name: "parquet",
        about: "Parquet shards laid out for the Hugging Face Hub, Spark, DuckDB and Polars",
        words: &["parquet"],
        endings: &[],
        needs_prompts: false,
        needs_schema: true,
        needs_line_template: false,
        objectives: &[Objective::Sft],
        validate: None,
        new: parquet::new,
    },
    FormatSpec {
        name: "trl",
        about: "Hugging Face TRL datasets: SFT, DPO, KTO and reward-model rows (--objective)",
        words: &["trl"],
        endings: &[],
        needs_prompts: true,
        needs_schema: false,
        needs_line_template: false,
        objectives: &Objective::ALL,
        validate: None,
        new: trl::new,
    },
    FormatSpec {
        name: "template",
        about: "your own JSON lines, one per example, rendered by --line-template",
        words: &[],
        endings: &[],
        // The built-in prompt fields are needed only when the line reads the texts.
        needs_prompts: false,
        needs_schema: false,
        needs_line_template: true,
        objectives: &Objective::ALL,
        validate: None,
        new: template::new,
    },
];

/// The formats that write `objective`, for `--format all` and for messages.
pub fn formats_for(objective: Objective) -> Vec<&'static FormatSpec> {
    TABLE
        .iter()
        .filter(|s| s.objectives.contains(&objective))
        .collect()
}

/// The format an objective word in the output name chooses when no format word does.
const OBJECTIVE_FORMAT: &str = "trl";

/// The format written when neither `--format` nor the output name chooses one.
const DEFAULT_FORMAT: &str = "jsonl";

/// A format's row by its name (lower case).
pub fn find_format(name: &str) -> Option<&'static FormatSpec> {
    TABLE.iter().find(|spec| spec.name == name)
}

/// A `--format` value: one format, or all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatChoice {
    One(&'static FormatSpec),
    All,
}

impl FormatChoice {
    pub fn formats(self) -> Vec<&'static FormatSpec> {
        match self {
            FormatChoice::One(spec) => vec![spec],
            FormatChoice::All => TABLE.iter().collect(),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            FormatChoice::One(spec) => spec.name,
            FormatChoice::All => "all",
        }
    }
}

impl fmt::Display for FormatChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The clap value parser for `--format`: its possible values come from the table, so
/// help, completions and errors list every format.
pub fn format_value_parser() -> impl clap::builder::TypedValueParser<Value = FormatChoice> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
    let mut values: Vec<PossibleValue> = TABLE
        .iter()
        .map(|s| PossibleValue::new(s.name).help(s.about))
        .collect();
    values.push(PossibleValue::new("all").help("every format, each in DIR/<format>/"));
    PossibleValuesParser::new(values)
        .map(|s| parse_format_choice(&s).expect("every possible value is a format of the table"))
}

/// A `--format` value by name (any case).
pub fn parse_format_choice(s: &str) -> Result<FormatChoice, String> {
    let lower = s.to_ascii_lowercase();
    if lower == "all" {
        return Ok(FormatChoice::All);
    }
    find_format(&lower).map(FormatChoice::One).ok_or_else(|| {
        format!(
            "\"{s}\" is not a format; expected one of {}, all",
            format_names().join(", ")
        )
    })
}

pub fn format_names() -> Vec<&'static str> {
    TABLE.iter().map(|s| s.name).collect()
}

/// Why a format was chosen, for the summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormatReason {
    Flag,
    Ending(&'static str),
    Word(&'static str),
    /// An objective word (`dpo`, `kto`, `sft`, `reward`) and no format word: trl.
    ObjectiveWord(&'static str),
    Default,
}

impl fmt::Display for FormatReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormatReason::Flag => f.write_str("--format"),
            FormatReason::Ending(e) => write!(f, "the output name ends with {e}"),
            FormatReason::Word(w) => write!(f, "the output name contains the word \"{w}\""),
            FormatReason::ObjectiveWord(w) => write!(
                f,
                "the output name contains the objective word \"{w}\" and no format word"
            ),
            FormatReason::Default => {
                f.write_str("the default: no --format and no format word in the output name")
            }
        }
    }
}

/// Infer the format from the output directory's own name (not its parents): endings
/// first (`.csv`, `.jsonl`, `.ndjson`), then whole words (`extraction-hf` has the word
/// `hf`; `shfoo` does not), else jsonl, as the original `createExportOptions` did.
pub fn infer_format(output: &Path) -> (&'static FormatSpec, FormatReason) {
    let name = output
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    for spec in TABLE {
        if let Some(e) = spec.endings.iter().find(|e| name.ends_with(*e)) {
            return (spec, FormatReason::Ending(e));
        }
    }
    let words: Vec<&str> = name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    for spec in TABLE {
        if let Some(w) = spec.words.iter().find(|w| words.contains(w)) {
            return (spec, FormatReason::Word(w));
        }
    }
    if let Some((objective, _)) = infer_objective(output) {
        let trl = find_format(OBJECTIVE_FORMAT).expect("the objective format has a row in TABLE");
        return (trl, FormatReason::ObjectiveWord(objective.name()));
    }
    let default = find_format(DEFAULT_FORMAT).expect("the default format has a row in TABLE");
    (default, FormatReason::Default)
}

/// The objective a whole word of the output directory's own name chooses (`dpo`,
/// `kto`, `sft`, `reward`), with that word.
pub fn infer_objective(output: &Path) -> Option<(Objective, &'static str)> {
    let name = output
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .find_map(Objective::from_word)
        .map(|o| (o, o.name()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Location;
    use crate::progress::Progress;
    use crate::stream::BATCH;
    use std::ops::Range;

    /// Examples held in memory: `n` texts `{"n":i}`.
    struct Numbers {
        n: usize,
        progress: Progress,
    }

    impl ExampleStream for Numbers {
        fn len(&self) -> usize {
            self.n
        }

        fn read(&self, range: Range<usize>) -> anyhow::Result<Batch> {
            let mut bytes = Vec::new();
            let mut items = Vec::new();
            for i in range {
                let start = bytes.len();
                bytes.extend_from_slice(format!("{{\"n\":{i}}}").as_bytes());
                let location = Location {
                    source: "mem".into(),
                    origin: crate::input::Origin::Line,
                    index: i,
                    line: i as u32 + 1,
                    column: None,
                };
                items.push((location, None, Form::default(), start..bytes.len()));
            }
            Ok(Batch::from_parts(bytes, items))
        }

        fn progress(&self) -> &Progress {
            &self.progress
        }

        fn text_bytes(&self, range: Range<usize>) -> u64 {
            range.map(|i| format!("{{\"n\":{i}}}").len() as u64).sum()
        }
    }

    #[test]
    fn rendering_keeps_order_and_progress_counts_only_what_was_written() {
        let n = BATCH * 5 + 17;
        for threads in [1, 2, 4] {
            let stream = Numbers {
                n,
                progress: Progress::hidden(),
            };
            let mut written = Vec::new();
            render_then_write(
                &stream,
                threads,
                |item, text| Ok((item.location.index, text.len())),
                |item, text, (index, len)| {
                    assert_eq!((index, len), (item.location.index, text.len()));
                    assert!(
                        stream.progress.position() <= written.len() as u64,
                        "the bar is ahead of the file"
                    );
                    written.push(index);
                    Ok(())
                },
            )
            .unwrap();
            assert_eq!(written, (0..n).collect::<Vec<_>>(), "{threads} threads");
            assert_eq!(stream.progress.position(), n as u64);
        }
    }

    fn infer(p: &str) -> &'static str {
        infer_format(Path::new(p)).0.name
    }

    #[test]
    fn inference_follows_the_table_on_whole_words_of_the_last_component() {
        assert_eq!(infer("out/data.csv"), "csv");
        assert_eq!(infer("out/data.JSONL"), "jsonl");
        assert_eq!(infer("out/x.ndjson"), "jsonl");
        assert_eq!(infer("datasets/extraction-hf"), "huggingface");
        assert_eq!(infer("my_huggingface_export"), "huggingface");
        assert_eq!(infer("retrieval-openai"), "openai");
        assert_eq!(infer("gpt.train"), "openai");
        assert_eq!(infer("claude-data"), "anthropic");
        assert_eq!(infer("shfoo"), "jsonl");
        assert_eq!(infer("egypt"), "jsonl");
        assert_eq!(infer("pathfinder"), "jsonl");
        assert_eq!(infer("chf/plain"), "jsonl");
        assert_eq!(infer("openai/plain"), "jsonl");
        assert_eq!(
            infer_format(Path::new("a/extraction-hf")).1,
            FormatReason::Word("hf")
        );
        assert_eq!(infer_format(Path::new("x")).1, FormatReason::Default);
    }

    #[test]
    fn format_values_come_from_the_table() {
        assert_eq!(
            parse_format_choice("OpenAI"),
            Ok(FormatChoice::One(find_format("openai").unwrap()))
        );
        assert_eq!(parse_format_choice("all"), Ok(FormatChoice::All));
        let e = parse_format_choice("arrow").unwrap_err();
        assert!(
            e.contains("huggingface, openai, anthropic, csv, jsonl, parquet, trl, template, all")
        );
    }
}
