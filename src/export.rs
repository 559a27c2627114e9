//! `rlx export`: the flags resolved into an `ExportPlan` (each choice with its reason),
//! then one direction: input → scan → select → each format's writer → rejected.jsonl →
//! the staged directory moved into place → the summary. The steps live in their own
//! rooms; this one orders them and fills the `ExportResult` as it goes.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;

use crate::cli::{self, ExportArgs};
use crate::example::{Policy, Split};
use crate::format::anthropic::AnthropicStyle;
use crate::format::parquet::ParquetOptions;
use crate::format::trl::TrlStyle;
use crate::format::{self, FormatChoice, FormatReason, FormatSpec, WriterConfig};
use crate::group::KeyPath;
use crate::input;
use crate::inputs::Inputs;
use crate::objective::{Objective, ObjectivePlan};
use crate::outcome::{finish, Outcome, UsageError};
use crate::output::{OutputDir, Staging, StagingOptions};
use crate::pair::{self, SplitRows};
use crate::progress::Progress;
use crate::scan::{self, InspectOptions, Inspection};
use crate::schema;
use crate::select::{self, SelectOptions, Selection, SplitKeys};
use crate::split::{self, HashSplit, Ratio, SplitBy};
use crate::stats;
use crate::stream::SpanStream;
use crate::summary::{
    ExportResult, FormatStats, GroupStats, KtoStats, Leakage, PairStats, Timestamp,
};
use crate::template::{LineTemplate, PromptTemplate, Templates, TrialRender};
use crate::tokens::Model;
use crate::validate::{Checks, Warning};

/// Every flag resolved, with the reasons for the choices made on the user's behalf.
#[derive(Debug, Clone)]
pub struct ExportPlan {
    pub inputs: Vec<String>,
    pub output: PathBuf,
    pub choice: FormatChoice,
    pub format_reason: FormatReason,
    pub policy: Option<Policy>,
    pub seed: u64,
    pub shuffle: bool,
    pub split_ratio: Ratio,
    pub validation_ratio: Ratio,
    /// A ratio flag, --group-by or --split-by hash was given, so a pre-split input is
    /// re-split.
    pub resplit: bool,
    pub is_split_ratio_explicit_zero: bool,
    pub max_examples: Option<u64>,
    pub include_metadata: bool,
    pub compress: bool,
    pub force: bool,
    /// Sync files and directories before the rename (off with --no-sync).
    pub sync: bool,
    pub skip_invalid: bool,
    pub model: Model,
    pub anthropic_style: AnthropicStyle,
    pub formula_escape: bool,
    pub threads: usize,
    pub objective: ObjectivePlan,
    pub trl_style: TrlStyle,
    pub parquet: ParquetOptions,
    pub group_by: Option<KeyPath>,
    pub split_by: SplitBy,
    pub dedupe: bool,
    /// Draw the charts into plots/ (--plots).
    pub plots: bool,
    pub templates: Templates,
}

impl ExportPlan {
    pub fn from_args(args: &ExportArgs) -> Result<ExportPlan, UsageError> {
        let (choice, format_reason) = match args.format {
            Some(c) => (c, FormatReason::Flag),
            None => {
                let (f, why) = format::infer_format(&args.output);
                (FormatChoice::One(f), why)
            }
        };
        let default_ratio: Ratio = cli::DEFAULT_SPLIT_RATIO
            .parse()
            .expect("the default split ratio is a valid ratio");
        let split_ratio = args.split_ratio.unwrap_or(default_ratio);
        let validation_ratio = args.validation_ratio.unwrap_or(Ratio::ZERO);
        if !split_ratio.plus(validation_ratio).is_below_one() {
            return Err(UsageError(format!(
                "--split-ratio {split_ratio} plus --validation-ratio {validation_ratio} is not below 1; expected the two shares to leave room for training examples"
            )));
        }
        let objective = ObjectivePlan::from_args(args, choice)?;
        let templates = load_templates(
            args,
            &objective.formats(choice),
            choice,
            objective.objective(),
        )?;
        let writes_openai = objective.formats(choice).iter().any(|s| s.name == "openai");
        let model = objective.model(args.model.as_deref(), writes_openai)?;
        Ok(ExportPlan {
            inputs: args.input.clone(),
            output: args.output.clone(),
            choice,
            format_reason,
            policy: args.common.policy,
            seed: args.seed,
            shuffle: !args.no_shuffle,
            split_ratio,
            validation_ratio,
            resplit: args.split_ratio.is_some()
                || args.validation_ratio.is_some()
                || args.group_by.is_some()
                || args.split_by == SplitBy::Hash,
            is_split_ratio_explicit_zero: args.split_ratio == Some(Ratio::ZERO),
            max_examples: args.max_examples,
            include_metadata: !args.no_metadata,
            compress: args.compress,
            force: args.force,
            sync: !args.no_sync,
            skip_invalid: args.skip_invalid,
            model,
            anthropic_style: args.anthropic_style,
            formula_escape: !args.no_formula_escape,
            threads: args.common.thread_count(),
            objective,
            trl_style: args.trl_style,
            parquet: ParquetOptions {
                shard_bytes: args.shard_size,
                compression: args.compression,
                cdc: !args.no_cdc,
            },
            group_by: args.group_by.clone(),
            split_by: args.split_by,
            dedupe: args.dedupe,
            plots: args.plots,
            templates,
        })
    }

    /// The formats to write: the one chosen, or with `all` each that takes the objective
    /// (and `template` only with a line template).
    pub fn specs(&self) -> Vec<&'static FormatSpec> {
        let mut specs = self.objective.formats(self.choice);
        if self.templates.line.is_none() {
            specs.retain(|s| !s.needs_line_template);
        }
        specs
    }
}

/// Compile `--template` and `--line-template`, before any input is read, and check that
/// a format uses each.
fn load_templates(
    args: &ExportArgs,
    specs: &[&FormatSpec],
    choice: FormatChoice,
    objective: Objective,
) -> Result<Templates, UsageError> {
    let writes_lines = specs.iter().any(|s| s.needs_line_template);
    let prompt = match &args.template {
        Some(path) => {
            if !specs
                .iter()
                .any(|s| s.needs_prompts || s.needs_line_template)
            {
                return Err(UsageError(format!(
                    "--template {}: --format {choice} renders no prompts; expected a format that does (openai, anthropic, trl, template)",
                    path.display()
                )));
            }
            Some(Arc::new(PromptTemplate::load(path)?))
        }
        None => None,
    };
    let line = match &args.line_template {
        Some(path) if writes_lines => {
            let line = LineTemplate::load(path)?;
            line.check_objective(objective)?;
            Some(Arc::new(line))
        }
        Some(path) => {
            return Err(UsageError(format!(
                "--line-template {}: --format {choice} writes no template lines; expected --format template",
                path.display()
            )))
        }
        None if choice == FormatChoice::One(format::find_format("template").expect("the table has template")) => {
            return Err(UsageError(
                "--format template needs --line-template FILE, the template of one line (README shows two)".to_string(),
            ))
        }
        None => None,
    };
    Ok(Templates { prompt, line })
}

/// Run `rlx export`.
pub fn run(args: &ExportArgs) -> Outcome {
    let started = Instant::now();
    let progress = Progress::new(args.common.quiet || args.common.json);
    let mut result = ExportResult {
        output: args.output.display().to_string(),
        seed: args.seed,
        ..Default::default()
    };
    result.stats.seed = args.seed;
    let outcome = ExportPlan::from_args(args)
        .map_err(anyhow::Error::new)
        .and_then(|plan| export(&plan, &mut result, &progress));
    progress.clear();
    result.elapsed_secs = started.elapsed().as_secs_f64();
    finish(result, outcome, &args.common, false)
}

/// Whether the scan must find every field of the built-in prompts: a format renders
/// them, or the line template reads them, and no prompt template replaces them.
pub(crate) fn needs_built_in_prompts(specs: &[&FormatSpec], templates: &Templates) -> bool {
    let line_reads_texts = templates.line.as_ref().is_some_and(|l| l.reads_texts())
        && specs.iter().any(|s| s.needs_line_template);
    templates.prompt.is_none() && (specs.iter().any(|s| s.needs_prompts) || line_reads_texts)
}

/// The scan's options for `specs`; `trial` renders the user's templates.
pub(crate) fn inspect_options<'a>(
    plan_policy: Option<Policy>,
    specs: &[&FormatSpec],
    skip_invalid: bool,
    threads: usize,
    templates: &Templates,
    trial: Option<&'a TrialRender>,
) -> InspectOptions<'a> {
    InspectOptions {
        checks: Checks {
            policy: plan_policy,
            needs_prompt_fields: needs_built_in_prompts(specs, templates) || trial.is_some(),
        },
        skip_invalid,
        collect_shapes: specs.iter().any(|s| s.needs_schema),
        threads,
        min_reward: None,
        reward_facts: None,
        group_by: None,
        hash_split: None,
        dedupe: false,
        trial,
        rewards: false,
        actions: false,
    }
}

/// The splits an export may write, for templates that read `split`.
fn possible_splits(plan: &ExportPlan, source: &Inputs) -> Vec<Split> {
    let keeps_own = source.keeps_own_split() && !plan.resplit;
    let mut splits = vec![Split::Train];
    if keeps_own || plan.validation_ratio != Ratio::ZERO {
        splits.push(Split::Validation);
    }
    if keeps_own || plan.split_ratio != Ratio::ZERO {
        splits.push(Split::Eval);
    }
    splits
}

/// The whole export; fills `result` as it goes so a failure still reports what it knew.
fn export(plan: &ExportPlan, result: &mut ExportResult, progress: &Progress) -> anyhow::Result<()> {
    let created = Timestamp::now()?;
    result.format = plan.choice.name().to_string();
    result.format_reason = plan.format_reason.to_string();
    result.objective_reason = plan.objective.reason.to_string();
    result.stats.objective = plan.objective.objective().name().to_string();
    result.stats.min_reward = plan.objective.min_reward.map(|r| r.to_string());
    result.stats.exported_at = created.iso();
    result.stats.shuffled = plan.shuffle;
    result.stats.split_ratio = plan.split_ratio.to_string();
    result.stats.validation_ratio = plan.validation_ratio.to_string();
    let staging = Staging::begin(
        &plan.output,
        StagingOptions {
            force: plan.force,
            compress: plan.compress,
            sync: plan.sync,
        },
    )?;
    if !staging.reclaimed.is_empty() {
        result.reclaimed = Some(staging.reclaimed.clone());
    }
    let specs = plan.specs();
    if specs.iter().any(|s| s.name == "openai") {
        plan.model.encoding.warm_up();
    }
    let source = Inputs::open(&plan.inputs, staging.spool_dir())?;
    record_inputs(&source, result);
    let objective = plan.objective.objective();
    // With --skip-invalid an example a template fails on is rejected before the split,
    // so the scan renders every example once more; without it, the writer's failure
    // ends the export, naming the example, and each example is rendered once.
    let trial = plan
        .templates
        .trial(
            specs.iter().any(|s| s.needs_prompts),
            specs.iter().any(|s| s.needs_line_template),
            possible_splits(plan, &source),
            objective,
        )
        .filter(|_| plan.skip_invalid);
    let hash_split = (plan.split_by == SplitBy::Hash)
        .then(|| HashSplit::new(plan.seed, plan.split_ratio, plan.validation_ratio));
    let mut inspection = scan::inspect(
        &source,
        InspectOptions {
            min_reward: plan.objective.min_reward,
            reward_facts: objective
                .needs_reward_facts()
                .then_some(objective.needs_pairs().then_some(&plan.objective.pair_by)),
            group_by: plan.group_by.as_ref(),
            hash_split: hash_split.as_ref(),
            dedupe: plan.dedupe,
            rewards: true,
            actions: plan.plots,
            ..inspect_options(
                plan.policy,
                &specs,
                plan.skip_invalid,
                plan.threads,
                &plan.templates,
                trial.as_ref(),
            )
        },
        progress,
    )?;
    record_inspection(result, &inspection);
    crate::fault::kill_at("kill-after-scan");
    result.stats.filtered_examples = inspection.filtered_examples;
    result.stats.duplicate_examples = inspection.duplicate_examples;
    result.stats.split_by = plan.split_by.name().to_string();
    result.stats.group_by = plan.group_by.as_ref().map(|p| p.to_string());
    if let (Some(path), (count, Some(first))) = (&plan.group_by, &inspection.missing_group_key) {
        result.add_warning(Warning::MissingGroupKey {
            path: path.to_string(),
            count: *count,
            first: first.to_string(),
        });
    }
    let Some(policy) = inspection.policy else {
        anyhow::bail!(no_valid_examples(&source, &inspection));
    };
    if inspection.entries.is_empty() {
        anyhow::bail!(no_valid_examples(&source, &inspection));
    }
    result.stats.policy_type = Some(policy);
    let selection = select::select(
        &inspection.entries,
        if source.keeps_own_split() {
            source.shape
        } else {
            input::Shape::JsonLines
        },
        &SelectOptions {
            shuffle: plan.shuffle,
            seed: plan.seed,
            split_ratio: plan.split_ratio,
            validation_ratio: plan.validation_ratio,
            resplit: plan.resplit,
            max_examples: plan.max_examples,
            split_by: plan.split_by,
        },
        SplitKeys {
            groups: (!inspection.group_keys.is_empty()).then_some(&inspection.group_keys[..]),
            hash_splits: (!inspection.hash_splits.is_empty())
                .then_some(&inspection.hash_splits[..]),
        },
    );
    record_split(plan, &selection, &inspection, result);
    // The plots still need each entry's reward (the mean per action); the summary alone
    // takes the vector over.
    let rewards = if plan.plots {
        inspection.rewards.clone()
    } else {
        std::mem::take(&mut inspection.rewards)
    };
    result.stats.rewards = stats::split_rewards(&selection, rewards);
    let sizes = selection.sizes();
    result.stats.kept_input_split = selection.kept_input_split;
    result.stats.train_examples = sizes.train;
    result.stats.validation_examples = sizes.validation;
    result.stats.eval_examples = sizes.eval;
    result.stats.total_examples = sizes.total();
    result.stats.unselected_examples = selection.unselected;
    for w in empty_split_warnings(plan, &source, &inspection, &selection) {
        result.add_warning(w);
    }
    let rows = objective_rows(plan, &selection, &inspection, result);
    if let Some(why) = no_training_rows(plan, &rows, result) {
        anyhow::bail!("{}: {why}", source.name());
    }

    let schema = Arc::new(if specs.iter().any(|s| s.needs_schema) {
        inspection.shapes.union(
            selection
                .all()
                .map(|i| inspection.entries[i as usize].shape),
        )
    } else {
        schema::Schema::Null
    });
    let ints_in_float_fields = Arc::new(inspection.shapes.ints_in_float_fields(&schema));
    let config = WriterConfig {
        policy,
        include_metadata: plan.include_metadata,
        model: plan.model,
        anthropic_style: plan.anthropic_style,
        formula_escape: plan.formula_escape,
        schema,
        ints_in_float_fields,
        created,
        input_stats: inspection.scan.stats.clone(),
        threads: plan.threads,
        objective: plan.objective.config,
        trl_style: plan.trl_style,
        parquet: plan.parquet,
        templates: plan.templates.clone(),
        longest_example: selection
            .all()
            .map(|i| u64::from(inspection.entries[i as usize].span().len))
            .max()
            .unwrap_or(0),
    };
    let root = staging.dir().clone();
    let is_all = matches!(plan.choice, FormatChoice::All);
    let mut per_format = Vec::new();
    for spec in &specs {
        let dir = if is_all {
            root.subdir(spec.name)?
        } else {
            root.clone()
        };
        let (writer, stats) = write_format(
            spec,
            &config,
            &source,
            &inspection,
            &rows,
            &dir,
            progress,
            result,
        )?;
        per_format.push((writer, dir, stats));
    }
    write_rejected(&root, &inspection.rejected)?;
    source.check_unchanged()?;
    // A single format's counts are what it wrote; with --format all the top level keeps
    // the selection and each format reports its own.
    if !is_all {
        if let Some((_, _, stats)) = per_format.first() {
            result.stats.train_examples = stats.train_examples;
            result.stats.validation_examples = stats.validation_examples;
            result.stats.eval_examples = stats.eval_examples;
            result.stats.total_examples =
                stats.train_examples + stats.validation_examples + stats.eval_examples;
        }
    }
    result.stats.over_limit_examples = per_format
        .iter()
        .map(|(_, _, s)| s.over_limit_examples)
        .sum();
    result.stats.skipped_examples =
        result.stats.rejected_examples + result.stats.over_limit_examples;
    result.formats = per_format.iter().map(|(_, _, s)| s.clone()).collect();
    if plan.plots {
        result.plots = stats::write_plots(
            &root,
            &selection,
            &inspection,
            &result.stats.rewards,
            policy,
        )?;
    }
    for (writer, dir, stats) in &mut per_format {
        let mut view = result.clone();
        view.stats.train_examples = stats.train_examples;
        view.stats.validation_examples = stats.validation_examples;
        view.stats.eval_examples = stats.eval_examples;
        view.stats.total_examples =
            stats.train_examples + stats.validation_examples + stats.eval_examples;
        for w in writer.write_extras(&view, dir)? {
            result.add_warning(w);
        }
    }
    let files = staging.commit()?;
    for f in files {
        let path = join_display(&plan.output, &f.relative);
        result.stats.file_sizes.insert(path.clone(), f.bytes);
        result.files.push(path);
    }
    Ok(())
}

fn join_display(dir: &Path, relative: &str) -> String {
    dir.join(relative).display().to_string()
}

pub(crate) fn record_inspection(result: &mut ExportResult, inspection: &Inspection) {
    result.stats.input_examples = inspection.input_examples;
    result.stats.rejected_examples = inspection.rejected.len() as u64;
    result.stats.skipped_examples = inspection.rejected.len() as u64;
    result.stats.policy_type = inspection.policy;
    for w in &inspection.warnings {
        result.add_warning(w.clone());
    }
}

/// The inputs read, in `result`, and a warning for dataset objects pooled with others.
pub(crate) fn record_inputs(inputs: &Inputs, result: &mut ExportResult) {
    result.stats.input_shape = Some(inputs.shape);
    if inputs.len() > 1 || !inputs.directories.is_empty() {
        result.stats.input_files = inputs.names();
        result.stats.input_directories = inputs
            .directories
            .iter()
            .map(|(d, n)| format!("{d} ({n} file(s))"))
            .collect();
    }
    let pooled = inputs.pooled_datasets();
    if !pooled.is_empty() {
        result.add_warning(Warning::InputSplitNotKept { inputs: pooled });
    }
}

pub(crate) fn no_valid_examples(source: &Inputs, inspection: &Inspection) -> String {
    if inspection.input_examples == 0 {
        format!(
            "{}: the {} holds no examples; expected at least one",
            source.name(),
            source.shape
        )
    } else if inspection.filtered_examples > 0 && inspection.rejected.is_empty() {
        format!(
            "{}: all {} example(s) have a reward below --min-reward; expected at least one to keep (lower --min-reward)",
            source.name(),
            inspection.input_examples
        )
    } else {
        format!(
            "{}: all {} example(s) were rejected or filtered ({} rejected, see the warnings; {} below --min-reward); expected at least one valid example",
            source.name(),
            inspection.input_examples,
            inspection.rejected.len(),
            inspection.filtered_examples
        )
    }
}

fn empty_split_warnings(
    plan: &ExportPlan,
    source: &Inputs,
    inspection: &Inspection,
    selection: &Selection,
) -> Vec<Warning> {
    let mut out = Vec::new();
    let had_validation = inspection
        .entries
        .iter()
        .any(|e| e.origin == input::Origin::Dataset(Split::Validation));
    for split in Split::ALL {
        if !selection.split(split).is_empty() {
            continue;
        }
        let wanted = match split {
            Split::Train => true,
            Split::Eval => !plan.is_split_ratio_explicit_zero,
            Split::Validation => {
                plan.validation_ratio != Ratio::ZERO || (source.keeps_own_split() && had_validation)
            }
        };
        if wanted {
            out.push(Warning::EmptySplit {
                split,
                kept_input_split: selection.kept_input_split,
            });
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn write_format(
    spec: &FormatSpec,
    config: &WriterConfig,
    source: &Inputs,
    inspection: &Inspection,
    rows: &[SplitRows; 3],
    dir: &OutputDir,
    progress: &Progress,
    result: &mut ExportResult,
) -> anyhow::Result<(Box<dyn format::FormatWriter>, FormatStats)> {
    let mut writer = (spec.new)(config);
    let mut stats = FormatStats {
        format: spec.name.to_string(),
        directory: if dir.prefix().is_empty() {
            result.output.clone()
        } else {
            join_display(
                Path::new(&result.output),
                dir.prefix().trim_end_matches('/'),
            )
        },
        ..Default::default()
    };
    progress.start_examples(spec.name, rows.iter().map(|r| r.ids.len() as u64).sum());
    for split in Split::ALL {
        let ids = &rows[split as usize].ids;
        if ids.is_empty() {
            continue;
        }
        let stream = SpanStream::new(source, &inspection.entries, ids, progress, config.threads);
        let outcome = writer
            .write_split(split, &stream, dir)
            .with_context(|| format!("{}: writing the {split} split", spec.name))?;
        let dropped = outcome.dropped.len() as u64;
        match split {
            Split::Train => stats.train_examples = outcome.written,
            Split::Validation => stats.validation_examples = outcome.written,
            Split::Eval => stats.eval_examples = outcome.written,
        }
        stats.over_limit_examples += dropped;
        for w in outcome.dropped.into_iter().chain(outcome.notes) {
            result.add_warning(w);
        }
    }
    Ok((writer, stats))
}

/// Turn each split's selected examples into the ids its rows are made of (pairs,
/// labelled examples, or the examples themselves), and record how in `result`.
fn objective_rows(
    plan: &ExportPlan,
    selection: &Selection,
    inspection: &Inspection,
    result: &mut ExportResult,
) -> [SplitRows; 3] {
    let o = &plan.objective;
    let rows = Split::ALL.map(|split| {
        pair::rows_of_split(
            &o.config,
            &o.rule,
            selection.split(split),
            &inspection.reward_facts,
        )
    });
    let count = |split: Split| rows[split as usize].ids.len() as u64;
    if o.objective() != Objective::Sft {
        // The rows are what every count below the objective step is about (pairs,
        // labelled examples); each format then reports what it wrote of them.
        let per_row = if o.objective().needs_pairs() { 2 } else { 1 };
        result.stats.train_examples = count(Split::Train) / per_row;
        result.stats.validation_examples = count(Split::Validation) / per_row;
        result.stats.eval_examples = count(Split::Eval) / per_row;
        result.stats.total_examples = result.stats.train_examples
            + result.stats.validation_examples
            + result.stats.eval_examples;
    }
    match o.objective() {
        Objective::Sft => {
            // A completion that imitates a bad decision teaches it.
            let imitating: Vec<&str> = plan
                .specs()
                .iter()
                .filter(|s| s.needs_prompts)
                .map(|s| s.name)
                .collect();
            let negative = rows[Split::Train as usize]
                .ids
                .iter()
                .filter(|&&id| inspection.entries[id as usize].form.has_negative_reward())
                .count() as u64;
            if !imitating.is_empty() && negative > 0 {
                result.add_warning(Warning::NegativeRewardsInSft {
                    formats: imitating.join(", "),
                    count: negative,
                });
            }
        }
        Objective::Dpo | Objective::Reward => {
            let mut stats = PairStats {
                pair_by: o.pair_by.to_string(),
                mode: o.rule.mode.name().to_string(),
                min_margin: o.rule.min_margin.to_string(),
                max_per_group: o.rule.max_per_group as u64,
                train: count(Split::Train) / 2,
                validation: count(Split::Validation) / 2,
                eval: count(Split::Eval) / 2,
                ..PairStats::default()
            };
            for r in &rows {
                if let Some(p) = &r.pairing {
                    stats.used_examples += p.used_examples;
                    stats.unpaired.add(&p.unpaired);
                }
            }
            stats.unpaired_examples = stats.unpaired.total();
            if stats.train < MIN_TRAINING_PAIRS {
                result.add_warning(Warning::FewTrainingPairs {
                    count: stats.train,
                    minimum: MIN_TRAINING_PAIRS,
                });
            }
            result.stats.pairs = Some(stats);
        }
        Objective::Kto => {
            let mut stats = KtoStats {
                threshold: o.config.kto_threshold.to_string(),
                ..KtoStats::default()
            };
            for r in &rows {
                if let Some(l) = &r.labelling {
                    stats.desirable += l.desirable;
                    stats.undesirable += l.undesirable;
                    stats.at_threshold += l.at_threshold;
                }
            }
            let train = rows[Split::Train as usize].labelling.as_ref();
            let (d, u) = train.map_or((0, 0), |l| (l.desirable, l.undesirable));
            stats.weights = pair::kto_weights(d, u);
            if d + u > 0 && (d == 0 || u == 0) {
                result.add_warning(Warning::OneKtoLabel {
                    desirable: d,
                    undesirable: u,
                });
            }
            result.stats.kto = Some(stats);
        }
    }
    rows
}

/// What the split did, in `result`: groups per split against their targets, a warning
/// for groups larger than a share, and the leakage the split leaves (repeats of a
/// training example's state, action and reward, or of its state alone, in eval and
/// validation).
fn record_split(
    plan: &ExportPlan,
    selection: &Selection,
    inspection: &Inspection,
    result: &mut ExportResult,
) {
    if let Some(g) = &selection.groups {
        result.stats.groups = Some(GroupStats {
            train: g.groups[0],
            validation: g.groups[1],
            eval: g.groups[2],
            target_train: g.targets.train,
            target_validation: g.targets.validation,
            target_eval: g.targets.eval,
            largest: g.largest,
            missing_key: inspection.missing_group_key.0,
        });
        if g.oversized > 0 {
            result.add_warning(Warning::OversizedGroups {
                count: g.oversized,
                largest: g.largest,
                share: g.smallest_share,
            });
        }
    }
    if plan.split_by == SplitBy::Hash && selection.groups.is_none() {
        let n = selection.sizes().total();
        let t = split::split_sizes(n, plan.split_ratio, plan.validation_ratio);
        result.stats.expected_split = Some([t.train, t.validation, t.eval]);
    } else if let Some(g) = &selection.groups {
        if plan.split_by == SplitBy::Hash {
            let t = g.targets;
            result.stats.expected_split = Some([t.train, t.validation, t.eval]);
        }
    }
    result.stats.leakage = Some(leakage(selection, inspection));
}

/// Eval and validation examples that repeat a training example (its state, action and
/// reward), or share a training example's state only.
fn leakage(selection: &Selection, inspection: &Inspection) -> Leakage {
    // Sorted vectors rather than hash sets: 8 bytes per training example, not ~20.
    let sorted = |of: &[u64]| {
        let mut v: Vec<u64> = selection.train.iter().map(|&i| of[i as usize]).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let count = |ids: &[u32], of: &[u64], train: &[u64]| {
        ids.iter()
            .filter(|&&i| train.binary_search(&of[i as usize]).is_ok())
            .count() as u64
    };
    let (prints, states) = (&inspection.prints, &inspection.state_prints);
    let (train_prints, train_states) = (sorted(prints), sorted(states));
    Leakage {
        eval_repeats_train: count(&selection.eval, prints, &train_prints),
        eval_shares_train_state: count(&selection.eval, states, &train_states),
        validation_repeats_train: count(&selection.validation, prints, &train_prints),
        validation_shares_train_state: count(&selection.validation, states, &train_states),
    }
}

/// Why a reward-aware export has no training row, if it has none: a training set
/// without one loads nowhere (the split would have no file and the card no train).
fn no_training_rows(
    plan: &ExportPlan,
    rows: &[SplitRows; 3],
    result: &ExportResult,
) -> Option<String> {
    let train = &rows[Split::Train as usize];
    if !train.ids.is_empty() || plan.objective.objective() == Objective::Sft {
        return None;
    }
    let examples = result.stats.train_examples;
    if let Some(p) = &train.pairing {
        let u = &p.unpaired;
        return Some(format!(
            "no training pair could be formed from the training split's {} example(s) (no group key {}, alone in their group {}, no different action {}, within the margin {}); expected at least one (widen the groups with --pair-by, lower --min-margin)",
            u.total(),
            u.no_group_key,
            u.alone_in_group,
            u.no_different_action,
            u.below_margin
        ));
    }
    let at = train.labelling.as_ref().map_or(0, |l| l.at_threshold);
    Some(format!(
        "every one of the training split's {at} example(s) has a reward of exactly --kto-threshold {} and is left out ({examples} rows); expected at least one labelled example (move --kto-threshold)",
        plan.objective.config.kto_threshold
    ))
}

/// The original dpo-trainer refused to train on fewer pairs (original-stack.md §1).
const MIN_TRAINING_PAIRS: u64 = 100;

/// rejected.jsonl: every example --skip-invalid dropped, with where it was and why.
fn write_rejected(root: &OutputDir, rejected: &[scan::RejectedExample]) -> anyhow::Result<()> {
    if rejected.is_empty() {
        return Ok(());
    }
    let mut f = root.create_doc("rejected.jsonl")?;
    for r in rejected {
        let mut line = serde_json::Map::new();
        line.insert("location".into(), r.location.to_string().into());
        line.insert("line".into(), r.location.line.into());
        if r.location.origin != input::Origin::Line {
            line.insert("index".into(), r.location.index.into());
        }
        if let input::Origin::Dataset(split) = r.location.origin {
            line.insert("split".into(), split.name().into());
        }
        line.insert("reason".into(), r.reason.clone().into());
        let example = r
            .text
            .as_deref()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok());
        match (example, &r.text) {
            (Some(v), _) => {
                line.insert("example".into(), v);
            }
            (None, Some(t)) => {
                line.insert("text".into(), t.clone().into());
            }
            (None, None) => {}
        }
        serde_json::to_writer(&mut f, &line).context("writing rejected.jsonl")?;
        f.write_all(b"\n").context("writing rejected.jsonl")?;
    }
    f.finish()
}

/// Fuzzing the whole pipeline through `run`: arbitrary bytes, and valid examples full of
/// hostile values, through the reader and every format writer. The property is that
/// nothing panics and every run ends with a status of 0, 1 or 2. `RLX_FUZZ_CASES`
/// raises the number of cases per property (48 by default) for a long run.
#[cfg(test)]
mod fuzz {
    use super::*;
    use crate::cli::Cli;
    use clap::Parser;
    use proptest::prelude::*;
    use serde_json::json;

    fn export(input: &[u8], extra: &[&str]) -> Outcome {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("in.jsonl");
        std::fs::write(&path, input).expect("writing the fuzz input");
        let out = dir.path().join("out");
        let mut args = vec![
            "rlx".to_string(),
            "export".into(),
            path.display().to_string(),
            "-o".into(),
            out.display().to_string(),
            "--quiet".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let cli = Cli::try_parse_from(args).expect("the fuzz command line parses");
        let outcome = crate::run(cli).expect("run returns an outcome");
        assert!(outcome.exit_code <= 2, "{outcome:?}");
        if outcome.exit_code != 0 {
            assert!(!out.exists(), "a failed export left {}", out.display());
        }
        outcome
    }

    const VALID: &str = r#"{"state":{"queryFeatures":{"queryLength":5,"hasKeywords":true,"queryComplexity":0.3,"semanticCategory":"general"},"contextFeatures":{"turnNumber":1,"conversationDepth":1,"recentToolCalls":1,"hasErrors":false},"memoryStats":{"totalEntries":10,"recentRetrievals":1,"avgRetrievalSuccess":0.5}},"action":{"shouldRetrieve":true},"reward":0.5,"metadata":{"queryText":"q"}}"#;

    fn hostile_string() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "[=+\\-@\t\r\n\"',;\\\\]{0,3}[a-z ]{0,8}",
            Just("\n\nHuman: hi\n\nAssistant:".to_string()),
            Just("<|endoftext|>".to_string()),
            Just("👩‍👩‍👧 日本語 \u{0}\u{1f}\u{7f}\u{2028}".to_string()),
            Just("None".to_string()),
        ]
    }

    fn hostile_value() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(serde_json::Value::from),
            hostile_string().prop_map(serde_json::Value::from),
            Just(serde_json::from_str("123456789012345678901234567890").expect("a big integer")),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
                prop::collection::btree_map(hostile_string(), inner, 0..4)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: std::env::var("RLX_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(48),
            ..ProptestConfig::default()
        })]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
            export(&bytes, &["--format", "all", "--skip-invalid"]);
        }

        #[test]
        fn mutated_examples_never_panic(
            cuts in prop::collection::vec((0usize..VALID.len(), any::<u8>()), 1..6),
            lines in 1usize..4,
        ) {
            let mut bytes = VALID.as_bytes().to_vec();
            for (at, b) in cuts {
                let at = at.min(bytes.len().saturating_sub(1));
                bytes[at] = b;
            }
            let mut input = Vec::new();
            for _ in 0..lines {
                input.extend_from_slice(VALID.as_bytes());
                input.push(b'\n');
            }
            input.extend_from_slice(&bytes);
            let outcome = export(&input, &["--format", "all", "--skip-invalid"]);
            prop_assert_eq!(outcome.exit_code, 0, "{:?}", outcome.error);
        }

        #[test]
        fn hostile_values_export_in_every_format(
            meta in prop::collection::vec(hostile_value(), 1..5),
            extra in hostile_value(),
            compress in any::<bool>(),
        ) {
            let mut input = String::new();
            for m in &meta {
                let mut ex: serde_json::Value = serde_json::from_str(VALID).expect("VALID parses");
                ex["metadata"] = json!({"note": m, "queryText": m});
                ex["state"]["memoryStats"]["extra"] = extra.clone();
                ex["nextState"] = json!({"x": m});
                input.push_str(&ex.to_string());
                input.push('\n');
            }
            let mut flags = vec!["--format", "all", "--split-ratio", "0.5"];
            if compress {
                flags.push("--compress");
            }
            let outcome = export(input.as_bytes(), &flags);
            prop_assert_eq!(outcome.exit_code, 0, "{:?}", outcome.error);
        }
    }
}
