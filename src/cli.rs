//! The command line: clap derive structs, their help text and defaults, and per-flag
//! parsing. Nothing here opens a file; rules between flags are checked when the
//! `ExportPlan` is built (`lib.rs`), not here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::check_file::CheckFile;
use crate::example::Policy;
use crate::format::anthropic::AnthropicStyle;
use crate::format::parquet::{self as parquet_format, ParquetCompression};
use crate::format::trl::TrlStyle;
use crate::format::{self, FormatChoice};
use crate::group::{KeyPath, PairBy};
use crate::objective::Objective;
use crate::pair::PairMode;
use crate::reward::Reward;
use crate::split::{Ratio, SplitBy};

/// The seed used when `--seed` is absent, so CI and Makefile runs are reproducible.
pub const DEFAULT_SEED: u64 = 42;
/// The eval share used when `--split-ratio` is absent (the original module's 80/20).
pub const DEFAULT_SPLIT_RATIO: &str = "0.2";
/// The model whose tokenizer and training limit `--format openai` applies by default.
pub const DEFAULT_MODEL: &str = "gpt-4o-mini-2024-07-18";

/// Turn logs of reinforcement-learning decisions into training datasets that
/// fine-tuning and ML platforms accept.
#[derive(Debug, Parser)]
#[command(name = "rlx", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Shuffle, split, validate and write a dataset in one or every format.
    Export(Box<ExportArgs>),
    /// Run every check `export` would, and write nothing.
    Validate(ValidateArgs),
    /// Show a log before training on it: the reward distribution with a histogram, the
    /// actions and how each paid off, group sizes, token counts; per split for a
    /// pre-split input. Reads like validate, writes nothing.
    Stats(StatsArgs),
    /// Remove what killed exports left beside an output directory (stale staging
    /// directories), put back an old export a killed --force left aside, and never touch
    /// the files of an export still running.
    Clean(CleanArgs),
    /// Combine parquet exports (parts of one log, each exported on its own, typically
    /// with --split-by hash and one seed) into one dataset: one data/ numbered across
    /// the parts and one card. The parts' schemas must agree.
    Merge(MergeArgs),
    /// Work with prompt templates: `rlx template show` prints the built-in texts as a
    /// template file to start your own from.
    Template(TemplateArgs),
    /// Print a shell completion script to stdout.
    Completions(CompletionsArgs),
}

/// Options shared by `export` and `validate`, flattened into both so they cannot drift.
#[derive(Debug, Args, Clone)]
pub struct CommonArgs {
    /// Policy of the examples; detected from the state's shape when absent
    /// (contextFeatures+memoryState+contentFeatures → extraction, queryFeatures →
    /// retrieval, groupFeatures → consolidation).
    #[arg(long, value_enum)]
    pub policy: Option<Policy>,

    /// Print the result as one JSON object on stdout instead of the human summary.
    #[arg(long)]
    pub json: bool,

    /// Print nothing but errors (no progress bar, no summary).
    #[arg(long, short)]
    pub quiet: bool,

    /// Worker threads for parsing and rendering [default: all cores]. The output is
    /// byte-identical whatever the number.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
}

impl CommonArgs {
    /// `--threads`, or every core.
    pub fn thread_count(&self) -> usize {
        match self.threads {
            Some(n) => n as usize,
            None => std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
        }
    }
}

#[derive(Debug, Args, Clone)]
pub struct ExportArgs {
    /// Input datasets, read in the order given: JSON Lines, a JSON array of examples, or
    /// a {"train","eval","stats"} object; gzip is detected and read transparently. `-`
    /// reads stdin (once); a directory reads its *.jsonl, *.json, *.jsonl.gz and
    /// *.json.gz files in name order.
    #[arg(required = true, num_args = 1.., value_name = "INPUT")]
    pub input: Vec<String>,

    /// Output directory. It is written atomically and must not exist or be empty,
    /// unless --force.
    #[arg(long, short)]
    pub output: PathBuf,

    /// Output format [default: inferred from the output directory's name, else jsonl].
    /// `all` writes every format into DIR/<format>/.
    #[arg(long, short, value_parser = format::format_value_parser(), ignore_case = true, value_name = "FORMAT")]
    pub format: Option<FormatChoice>,

    /// Seed of the ChaCha20 shuffle.
    #[arg(long, default_value_t = DEFAULT_SEED)]
    pub seed: u64,

    /// Keep the input order instead of shuffling.
    #[arg(long)]
    pub no_shuffle: bool,

    /// Share of examples for the eval split, in [0, 1) [default: 0.2]. Given explicitly, it
    /// also re-splits a pre-split {"train","eval"} input.
    #[arg(long, value_name = "R")]
    pub split_ratio: Option<Ratio>,

    /// Share of examples for a validation split, in [0, 1) [default: 0]; split + validation
    /// must be < 1.
    #[arg(long, value_name = "V")]
    pub validation_ratio: Option<Ratio>,

    /// Keep the examples that share the value at this dotted path (compared as minified
    /// JSON text, e.g. metadata.sessionId) together in one split; an example without it
    /// is a group of its own. Re-splits a pre-split input.
    #[arg(long, value_name = "PATH")]
    pub group_by: Option<KeyPath>,

    /// ratio: exact counts over the seeded shuffle. hash: each example's split from
    /// SHA-256 of the seed and its key alone (the --group-by value, else the whole
    /// example), so adding examples never moves an old one; counts are then binomial.
    #[arg(long, value_enum, value_name = "HOW", default_value_t = SplitBy::Ratio)]
    pub split_by: SplitBy,

    /// Keep the first of examples with identical state, action and reward and drop the
    /// rest, counted as duplicateExamples.
    #[arg(long)]
    pub dedupe: bool,

    /// Draw SVG charts into DIR/plots/ (the reward histogram of each split, the mean
    /// reward per action, the action counts per split) and show them in the dataset
    /// cards.
    #[arg(long)]
    pub plots: bool,

    /// Keep at most N examples, shared among the splits in proportion to their sizes.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_examples: Option<u64>,

    /// Leave each example's `metadata` out of every format.
    #[arg(long)]
    pub no_metadata: bool,

    /// Gzip every data file (train.jsonl.gz, ...); README and guide files stay plain.
    #[arg(long)]
    pub compress: bool,

    /// Replace a non-empty output directory. The old one survives any failure, and the
    /// swap is one atomic step (renameat2 RENAME_EXCHANGE on Linux).
    #[arg(long)]
    pub force: bool,

    /// Skip syncing the files and directories to disk before the final rename: faster
    /// scratch exports that a power loss may leave empty (never half-replaced).
    #[arg(long)]
    pub no_sync: bool,

    /// Drop invalid examples instead of failing; each is counted, warned about and written
    /// with its location and reason to DIR/rejected.jsonl.
    #[arg(long)]
    pub skip_invalid: bool,

    /// Model whose tokenizer and training-example token limit `--format openai` applies
    /// [default: gpt-4o-mini-2024-07-18; with --objective dpo gpt-4.1-mini-2025-04-14].
    #[arg(long, value_name = "MODEL")]
    pub model: Option<String>,

    /// Line style of `--format anthropic`: legacy {"prompt","completion"} with the exact
    /// Human/Assistant separators, or Bedrock {"system","messages"} for Claude fine-tuning.
    #[arg(long, value_enum, default_value_t = AnthropicStyle::Legacy)]
    pub anthropic_style: AnthropicStyle,

    /// Write CSV string cells as they are, without the `'` that stops spreadsheets from
    /// running cells that start with = + - @ tab CR LF as formulas.
    #[arg(long)]
    pub no_formula_escape: bool,

    /// What the rewards become [default: inferred from the output name (the words dpo,
    /// kto, sft, reward), else sft]. sft: every kept example as a target; dpo:
    /// (prompt, chosen, rejected) pairs; kto: examples labelled by reward; reward:
    /// reward-model pairs with a margin.
    #[arg(long, value_enum, value_name = "OBJECTIVE")]
    pub objective: Option<Objective>,

    /// Keep only examples whose reward is at least R (compared as written decimals);
    /// the rest are counted as filteredExamples. Every format and objective.
    #[arg(long, value_name = "R", allow_hyphen_values = true)]
    pub min_reward: Option<Reward>,

    /// Prompt template (Jinja2, minijinja): the system, user and assistant texts of every
    /// format that renders prompts (openai, anthropic, trl, template), in three parts
    /// `=== system ===`, `=== user ===`, `=== assistant ===`. `rlx template show` prints
    /// the built-in ones to start from.
    #[arg(long, value_name = "FILE")]
    pub template: Option<PathBuf>,

    /// template: the Jinja2 template of one line, which must render exactly one JSON
    /// value per example (written compact). It reads state, action, reward, metadata,
    /// next_state, policy, split and the prompt texts system, user, assistant.
    #[arg(long, value_name = "FILE")]
    pub line_template: Option<PathBuf>,

    /// Row style of `--format trl`: message lists (conversational) or plain strings.
    #[arg(long, value_enum, default_value_t = TrlStyle::Conversational)]
    pub trl_style: TrlStyle,

    /// parquet: the most input text per shard, in bytes with an optional unit (KB, MB,
    /// GB, KiB, MiB, GiB); the default is push_to_hub's.
    #[arg(long, value_name = "SIZE", default_value = "500MB", value_parser = parquet_format::parse_size)]
    pub shard_size: u64,

    /// parquet: the codec of every column chunk.
    #[arg(long, value_enum, value_name = "CODEC", default_value_t = ParquetCompression::Snappy)]
    pub compression: ParquetCompression,

    /// parquet: turn content-defined chunking off (on by default: re-uploading a grown
    /// export to the Hub sends only the changed chunks).
    #[arg(long)]
    pub no_cdc: bool,

    /// kto: rewards above T are desirable, below T undesirable; examples at exactly T are
    /// left out and counted.
    #[arg(
        long,
        value_name = "T",
        default_value = "0",
        allow_hyphen_values = true
    )]
    pub kto_threshold: Reward,

    /// dpo/reward: what makes examples comparable. `original` (the original
    /// dpo-trainer's key per policy), `state` (the whole state), or dotted paths
    /// joined by commas (state.scopeStats.scopeType,metadata.sessionId).
    #[arg(long, value_name = "KEY", default_value = "original")]
    pub pair_by: PairBy,

    /// dpo/reward: one pair per group (its best against its worst different action),
    /// or every pair with different actions, largest margin first.
    #[arg(long, value_enum, value_name = "MODE", default_value_t = PairMode::BestWorst)]
    pub pairs: PairMode,

    /// dpo/reward with --pairs all: the most pairs one group gives.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_pairs_per_group: u64,

    /// dpo/reward: a pair needs chosen reward minus rejected reward above M, exactly as
    /// written (a gap of exactly 0.1 makes no pair).
    #[arg(long, value_name = "M", default_value = "0.1")]
    pub min_margin: Reward,

    /// reward: leave the `margin` column out of every row.
    #[arg(long)]
    pub no_margin: bool,

    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args, Clone)]
pub struct ValidateArgs {
    /// Input datasets (as for export), or with --check-file one already written file.
    /// `-` reads stdin.
    #[arg(required = true, num_args = 1.., value_name = "INPUT")]
    pub input: Vec<String>,

    /// Also run the checks this format needs (prompt fields for openai/anthropic, token
    /// limits for openai).
    #[arg(long, short, value_parser = format::format_value_parser(), ignore_case = true, value_name = "FORMAT")]
    pub format: Option<FormatChoice>,

    /// Model whose tokenizer and token limit the openai checks apply.
    #[arg(long, default_value = DEFAULT_MODEL)]
    pub model: String,

    /// Prompt template whose texts the openai token counts and the prompt checks use
    /// (as `export --template`).
    #[arg(long, value_name = "FILE")]
    pub template: Option<PathBuf>,

    /// Check an already written platform file instead of an rlx input: an OpenAI chat
    /// fine-tuning JSONL or a Bedrock Claude JSONL.
    #[arg(long, value_enum, value_name = "PLATFORM")]
    pub check_file: Option<CheckFile>,

    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args, Clone)]
pub struct StatsArgs {
    /// Input datasets, as for export; `-` reads stdin.
    #[arg(required = true, num_args = 1.., value_name = "INPUT")]
    pub input: Vec<String>,

    /// Also report the sizes of the groups that share the value at this dotted path
    /// (e.g. metadata.sessionId), as `export --group-by` would keep them together.
    #[arg(long, value_name = "PATH")]
    pub group_by: Option<KeyPath>,

    /// Also run this format's checks; openai adds the token distribution of its lines.
    #[arg(long, short, value_parser = format::format_value_parser(), ignore_case = true, value_name = "FORMAT")]
    pub format: Option<FormatChoice>,

    /// Model whose tokenizer and token limit --format openai applies.
    #[arg(long, default_value = DEFAULT_MODEL)]
    pub model: String,

    /// Prompt template whose texts the openai token counts use (as `export --template`).
    #[arg(long, value_name = "FILE")]
    pub template: Option<PathBuf>,

    /// Bins of the reward histogram.
    #[arg(long, value_name = "N", default_value_t = crate::stats::DEFAULT_BINS as u16, value_parser = clap::value_parser!(u16).range(1..=200))]
    pub bins: u16,

    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args, Clone)]
pub struct MergeArgs {
    /// Directories written by `rlx export --format parquet`, in the order their shards
    /// are numbered.
    #[arg(required = true, num_args = 1.., value_name = "PART")]
    pub parts: Vec<PathBuf>,

    /// Output directory, written atomically like an export's.
    #[arg(long, short)]
    pub output: PathBuf,

    /// Replace a non-empty output directory.
    #[arg(long)]
    pub force: bool,

    /// Skip syncing the files to disk before the final rename.
    #[arg(long)]
    pub no_sync: bool,

    /// Print the result as one JSON object on stdout instead of the human summary.
    #[arg(long)]
    pub json: bool,

    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args, Clone)]
pub struct CleanArgs {
    /// The output directory an export was writing (as given to `export -o`); it need
    /// not exist.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,

    /// Print the result as one JSON object on stdout instead of the human summary.
    #[arg(long)]
    pub json: bool,

    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args, Clone)]
pub struct TemplateArgs {
    #[command(subcommand)]
    pub command: TemplateCommand,
}

#[derive(Debug, Subcommand, Clone)]
pub enum TemplateCommand {
    /// Print the built-in system, user and assistant texts of a policy and format as a
    /// template file; exporting with it gives byte-identical output.
    Show(TemplateShowArgs),
}

#[derive(Debug, Args, Clone)]
pub struct TemplateShowArgs {
    /// The policy whose texts to print.
    #[arg(long, value_enum)]
    pub policy: Policy,

    /// The format whose texts to print: openai, anthropic, trl or template.
    #[arg(long, short, value_parser = format::format_value_parser(), ignore_case = true, value_name = "FORMAT", default_value = "openai")]
    pub format: FormatChoice,

    /// The objective (openai with dpo writes the action alone, as trl does).
    #[arg(long, value_enum, value_name = "OBJECTIVE", default_value_t = Objective::Sft)]
    pub objective: Objective,

    /// The anthropic line style (legacy completions add the reward band).
    #[arg(long, value_enum, default_value_t = AnthropicStyle::Legacy)]
    pub anthropic_style: AnthropicStyle,
}

#[derive(Debug, Args, Clone)]
pub struct CompletionsArgs {
    /// Shell to generate completions for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn split_ratio_out_of_range_is_a_parse_error() {
        let r = Cli::try_parse_from(["rlx", "export", "x", "-o", "d", "--split-ratio", "1"]);
        assert!(r.is_err());
        let r = Cli::try_parse_from(["rlx", "export", "x", "-o", "d", "--split-ratio", "NaN"]);
        assert!(r.is_err());
        let r = Cli::try_parse_from(["rlx", "export", "x", "-o", "d", "--max-examples", "0"]);
        assert!(r.is_err());
    }
}
