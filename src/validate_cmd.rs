//! `rlx validate`: every check `export` would run (the same scan, and each chosen
//! format's own example check, as openai's token limit), writing nothing; or, with
//! `--check-file`, the platform rules applied to an already written file
//! (`check_file`). The checks themselves live in `validate` and the formats.

use std::sync::Arc;
use std::time::Instant;

use crate::check_file;
use crate::cli::ValidateArgs;
use crate::example::Split;
use crate::export::{inspect_options, no_valid_examples, record_inputs, record_inspection};
use crate::format::{self, FormatSpec};
use crate::inputs::Inputs;
use crate::outcome::{finish, Outcome, UsageError};
use crate::progress::Progress;
use crate::scan;
use crate::stream::SpanStream;
use crate::summary::ExportResult;
use crate::template::{PromptTemplate, Templates};
use crate::tokens;

/// Run `rlx validate`.
pub fn run(args: &ValidateArgs) -> Outcome {
    let started = Instant::now();
    let progress = Progress::new(args.common.quiet || args.common.json);
    let names: Vec<&str> = args
        .input
        .iter()
        .map(|i| if i == "-" { "<stdin>" } else { i.as_str() })
        .collect();
    let mut result = ExportResult {
        output: names.join(", "),
        ..Default::default()
    };
    let outcome = match (args.check_file, args.input.as_slice()) {
        (Some(platform), [one]) => check_file::check(one, platform, &args.model, &mut result),
        (Some(_), _) => Err(UsageError(
            "--check-file checks one written file at a time; expected one input".into(),
        )
        .into()),
        (None, _) => validate_input(args, &mut result, &progress),
    };
    progress.clear();
    result.elapsed_secs = started.elapsed().as_secs_f64();
    finish(result, outcome, &args.common, true)
}

/// What validate and stats read: the input scanned with validate's checks.
pub(crate) struct Scanned {
    pub source: Inputs,
    pub inspection: scan::Inspection,
    pub specs: Vec<&'static FormatSpec>,
    pub model: tokens::Model,
    pub templates: Templates,
}

/// What to scan, and how: the flags validate and stats share.
pub(crate) struct ScanRequest<'a> {
    pub input: &'a [String],
    pub format: Option<format::FormatChoice>,
    pub model: &'a str,
    pub template: Option<&'a std::path::Path>,
    pub common: &'a crate::cli::CommonArgs,
    /// Keep each example's reward and action value, and its group key by this path
    /// (for stats).
    pub distributions: Option<Option<&'a crate::group::KeyPath>>,
}

/// Resolve the flags (usage errors first), open the inputs and scan them with every
/// check export would run, invalid examples counted rather than fatal.
pub(crate) fn scan_like_validate(
    request: &ScanRequest<'_>,
    result: &mut ExportResult,
    progress: &Progress,
) -> anyhow::Result<Scanned> {
    let choice = request.format;
    let specs: Vec<&FormatSpec> = choice.map(|c| c.formats()).unwrap_or_default();
    result.format = choice.map(|c| c.name().to_string()).unwrap_or_default();
    result.format_reason = if choice.is_some() {
        "--format".into()
    } else {
        "no --format: format-specific checks skipped".into()
    };
    let model = tokens::find_model(request.model).map_err(UsageError)?;
    let templates = Templates {
        prompt: match request.template {
            Some(path) => Some(Arc::new(PromptTemplate::load(path)?)),
            None => None,
        },
        line: None,
    };
    let renders_prompts = specs.iter().any(|s| s.needs_prompts);
    if let (Some(path), false) = (request.template, renders_prompts) {
        return Err(UsageError(format!(
            "--template {}: prompts are checked only with --format openai, anthropic or trl",
            path.display()
        ))
        .into());
    }
    if specs.iter().any(|s| s.name == "openai") {
        model.encoding.warm_up();
    }
    let source = Inputs::open(request.input, &std::env::temp_dir())?;
    record_inputs(&source, result);
    let trial = templates.trial(
        renders_prompts,
        false,
        Split::ALL.to_vec(),
        crate::objective::Objective::Sft,
    );
    let threads = request.common.thread_count();
    let inspection = scan::inspect(
        &source,
        scan::InspectOptions {
            rewards: request.distributions.is_some(),
            actions: request.distributions.is_some(),
            group_by: request.distributions.flatten(),
            ..inspect_options(
                request.common.policy,
                &specs,
                true,
                threads,
                &templates,
                trial.as_ref(),
            )
        },
        progress,
    )?;
    record_inspection(result, &inspection);
    result.stats.total_examples = inspection.entries.len() as u64;
    Ok(Scanned {
        source,
        inspection,
        specs,
        model,
        templates,
    })
}

impl Scanned {
    /// Run each format's own example check (but those `skip` names), counting the
    /// examples it would leave out.
    pub(crate) fn run_checks(
        &self,
        skip: &[&str],
        threads: usize,
        result: &mut ExportResult,
        progress: &Progress,
    ) -> anyhow::Result<()> {
        let Some(policy) = self.inspection.policy else {
            return Ok(());
        };
        let all: Vec<u32> = (0..self.inspection.entries.len() as u32).collect();
        let checks = self
            .specs
            .iter()
            .filter(|s| !skip.contains(&s.name))
            .filter_map(|s| s.validate.as_ref());
        for check in checks {
            // The bar counts examples now, not the bytes of the scan.
            progress.start_examples(check.label, all.len() as u64);
            let stream = SpanStream::new(
                &self.source,
                &self.inspection.entries,
                &all,
                progress,
                threads,
            );
            let over = (check.run)(&stream, &self.check_config(policy, threads))?;
            result.stats.over_limit_examples += over.len() as u64;
            result.stats.total_examples -= over.len() as u64;
            for w in over {
                result.add_warning(w);
            }
        }
        Ok(())
    }

    pub(crate) fn check_config(
        &self,
        policy: crate::example::Policy,
        threads: usize,
    ) -> format::CheckConfig {
        format::CheckConfig {
            policy,
            model: self.model,
            threads,
            template: self.templates.prompt.clone(),
        }
    }
}

/// Every check export would run, writing nothing.
fn validate_input(
    args: &ValidateArgs,
    result: &mut ExportResult,
    progress: &Progress,
) -> anyhow::Result<()> {
    let scanned = scan_like_validate(
        &ScanRequest {
            input: &args.input,
            format: args.format,
            model: &args.model,
            template: args.template.as_deref(),
            common: &args.common,
            distributions: None,
        },
        result,
        progress,
    )?;
    scanned.run_checks(&[], args.common.thread_count(), result, progress)?;
    let (source, inspection) = (&scanned.source, &scanned.inspection);
    result.stats.skipped_examples =
        result.stats.rejected_examples + result.stats.over_limit_examples;
    if inspection.entries.is_empty() {
        anyhow::bail!(no_valid_examples(source, inspection));
    }
    let problems = result.stats.skipped_examples;
    if problems > 0 {
        anyhow::bail!(
            "{}: {problems} of {} example(s) would not export ({} invalid, {} over the token limit); see the warnings",
            source.name(),
            inspection.input_examples,
            result.stats.rejected_examples,
            result.stats.over_limit_examples
        );
    }
    Ok(())
}
