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

/// Every check export would run, writing nothing.
fn validate_input(
    args: &ValidateArgs,
    result: &mut ExportResult,
    progress: &Progress,
) -> anyhow::Result<()> {
    let choice = args.format;
    let specs: Vec<&FormatSpec> = choice.map(|c| c.formats()).unwrap_or_default();
    result.format = choice.map(|c| c.name().to_string()).unwrap_or_default();
    result.format_reason = if choice.is_some() {
        "--format".into()
    } else {
        "no --format: format-specific checks skipped".into()
    };
    let model = tokens::find_model(&args.model).map_err(UsageError)?;
    let templates = Templates {
        prompt: match &args.template {
            Some(path) => Some(Arc::new(PromptTemplate::load(path)?)),
            None => None,
        },
        line: None,
    };
    let renders_prompts = specs.iter().any(|s| s.needs_prompts);
    if let (Some(path), false) = (&args.template, renders_prompts) {
        return Err(UsageError(format!(
            "--template {}: validate checks prompts only with --format openai, anthropic or trl",
            path.display()
        ))
        .into());
    }
    let source = Inputs::open(&args.input, &std::env::temp_dir())?;
    record_inputs(&source, result);
    let trial = templates.trial(
        renders_prompts,
        false,
        Split::ALL.to_vec(),
        crate::objective::Objective::Sft,
    );
    let inspection = scan::inspect(
        &source,
        inspect_options(
            args.common.policy,
            &specs,
            true,
            args.common.thread_count(),
            &templates,
            trial.as_ref(),
        ),
        progress,
    )?;
    record_inspection(result, &inspection);
    let valid = inspection.entries.len() as u64;
    result.stats.total_examples = valid;
    let checks: Vec<&format::ExampleCheck> =
        specs.iter().filter_map(|s| s.validate.as_ref()).collect();
    if let (false, Some(policy)) = (checks.is_empty(), inspection.policy) {
        let all: Vec<u32> = (0..inspection.entries.len() as u32).collect();
        for check in checks {
            // The bar counts examples now, not the bytes of the scan.
            progress.start_examples(check.label, valid);
            let stream = SpanStream::new(
                &source,
                &inspection.entries,
                &all,
                progress,
                args.common.thread_count(),
            );
            let over = (check.run)(
                &stream,
                &format::CheckConfig {
                    policy,
                    model,
                    threads: args.common.thread_count(),
                    template: templates.prompt.clone(),
                },
            )?;
            result.stats.over_limit_examples += over.len() as u64;
            result.stats.total_examples -= over.len() as u64;
            for w in over {
                result.add_warning(w);
            }
        }
    }
    result.stats.skipped_examples =
        result.stats.rejected_examples + result.stats.over_limit_examples;
    if inspection.entries.is_empty() {
        anyhow::bail!(no_valid_examples(&source, &inspection));
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
