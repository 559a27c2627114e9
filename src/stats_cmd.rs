//! `rlx stats`: the input read as validate reads it (same scan, same checks, same
//! messages, nothing written), then its distributions per split (`stats`) printed for
//! a person on stdout, or as one JSON object with `--json`.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::time::Instant;

use serde::Serialize;

use crate::cli::StatsArgs;
use crate::example::{Policy, Split};
use crate::export::no_valid_examples;
use crate::input::{Origin, Shape};
use crate::outcome::Outcome;
use crate::progress::Progress;
use crate::stats::draw::{self, Glyphs};
use crate::stats::{self, RewardStats, SplitStats, Spread, TokenStats};
use crate::stream::SpanStream;
use crate::summary::ExportResult;
use crate::validate_cmd::{scan_like_validate, ScanRequest, Scanned};

/// How many action values the human report lists before it only counts.
const ACTIONS_SHOWN: usize = 20;

/// What `rlx stats --json` prints.
#[derive(Debug, Clone, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct StatsReport {
    pub success: bool,
    pub input: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub input_files: Vec<String>,
    pub input_shape: Option<Shape>,
    pub policy: Option<Policy>,
    /// Examples in the input, valid or not.
    pub input_examples: u64,
    /// The examples the statistics are of.
    pub valid_examples: u64,
    pub rejected_examples: u64,
    /// Valid examples over a format's limit (still in the statistics).
    pub over_limit_examples: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_by: Option<String>,
    /// One entry per split of a pre-split input, else one `all`.
    pub splits: Vec<SplitStats>,
    pub warnings: Vec<String>,
    pub warning_counts: BTreeMap<String, u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Run `rlx stats`.
pub fn run(args: &StatsArgs) -> Outcome {
    let started = Instant::now();
    let progress = Progress::new(args.common.quiet || args.common.json);
    let mut result = ExportResult {
        output: args
            .input
            .iter()
            .map(|i| if i == "-" { "<stdin>" } else { i.as_str() })
            .collect::<Vec<_>>()
            .join(", "),
        ..Default::default()
    };
    let mut report = StatsReport::default();
    let outcome = gather(args, &mut result, &mut report, &progress);
    progress.clear();
    result.elapsed_secs = started.elapsed().as_secs_f64();
    let error = outcome.as_ref().err().map(|e| format!("{e:#}"));
    let is_usage = outcome
        .as_ref()
        .err()
        .is_some_and(|e| e.chain().any(|c| c.is::<crate::UsageError>()));
    report.success = error.is_none();
    report.error = error.clone();
    report.input = result.output.clone();
    report.warnings = result.warnings.clone();
    report.warning_counts = result.warning_counts.clone();
    let printed = if args.common.json {
        let mut out = io::stdout().lock();
        serde_json::to_writer(&mut out, &report)
            .map_err(io::Error::from)
            .and_then(|()| writeln!(out))
    } else if args.common.quiet || report.splits.is_empty() {
        Ok(())
    } else {
        let glyphs = Glyphs::for_stream(&io::stdout());
        let text = human(&report, glyphs);
        io::stdout().lock().write_all(text.as_bytes())
    };
    if !args.common.json && !args.common.quiet {
        let _ = write_warnings(&result, &mut io::stderr().lock());
    }
    let exit_code = match (&error, is_usage) {
        (None, _) => 0,
        (Some(_), true) => 2,
        (Some(_), false) => 1,
    };
    // A closed stdout (`rlx stats x | head`) is not an error.
    let _ = printed;
    Outcome {
        exit_code,
        error,
        result: Some(result),
    }
}

fn gather(
    args: &StatsArgs,
    result: &mut ExportResult,
    report: &mut StatsReport,
    progress: &Progress,
) -> anyhow::Result<()> {
    let mut scanned = scan_like_validate(
        &ScanRequest {
            input: &args.input,
            format: args.format,
            model: &args.model,
            template: args.template.as_deref(),
            common: &args.common,
            distributions: Some(args.group_by.as_ref()),
        },
        result,
        progress,
    )?;
    let threads = args.common.thread_count();
    let counts_tokens = scanned.specs.iter().any(|s| s.name == "openai");
    scanned.run_checks(&["openai"], threads, result, progress)?;
    let tokens = match (counts_tokens, scanned.inspection.policy) {
        (true, Some(policy)) => Some(token_counts(&scanned, policy, threads, result, progress)?),
        _ => None,
    };
    let model = scanned.model;
    let Scanned {
        source, inspection, ..
    } = &mut scanned;
    report.input_files = result.stats.input_files.clone();
    report.input_shape = Some(source.shape);
    report.policy = inspection.policy;
    report.input_examples = inspection.input_examples;
    report.valid_examples = inspection.entries.len() as u64;
    report.rejected_examples = inspection.rejected.len() as u64;
    report.over_limit_examples = result.stats.over_limit_examples;
    report.format = args.format.map(|f| f.name().to_string());
    report.group_by = args.group_by.as_ref().map(|p| p.to_string());
    let Some(policy) = inspection.policy.filter(|_| !inspection.entries.is_empty()) else {
        anyhow::bail!(no_valid_examples(source, inspection));
    };
    // Each entry's section: its split in a pre-split input, else one `all`.
    let count = inspection.entries.len();
    let (names, part): (Vec<String>, Vec<u8>) = if source.keeps_own_split() {
        let present: Vec<Split> = Split::ALL
            .into_iter()
            .filter(|s| {
                inspection
                    .entries
                    .iter()
                    .any(|e| e.origin == Origin::Dataset(*s))
            })
            .collect();
        let slot = |o: Origin| present.iter().position(|s| Origin::Dataset(*s) == o);
        (
            present.iter().map(|s| s.name().to_string()).collect(),
            inspection
                .entries
                .iter()
                .map(|e| slot(e.origin).unwrap_or(0) as u8)
                .collect(),
        )
    } else {
        (vec!["all".into()], vec![0; count])
    };
    let mut sections: Vec<Vec<u32>> = vec![Vec::new(); names.len()];
    for (i, &p) in part.iter().enumerate() {
        sections[usize::from(p)].push(i as u32);
    }
    // What the scan kept for exporting is not needed from here on; freed, its pages
    // hold the sections' work instead of adding to the peak.
    for unused in [&mut inspection.prints, &mut inspection.state_prints] {
        *unused = Vec::new();
    }
    inspection.entries = Vec::new();
    let bins = usize::from(args.bins);
    let limit = model.limit as f64;
    // The actions need every entry's reward; then the rewards (and token counts) are
    // partitioned by section in their own buffers.
    let mut actions: Vec<_> = sections
        .iter()
        .map(|at| {
            stats::actions_of(
                at,
                &inspection.actions,
                &inspection.action_labels,
                &inspection.rewards,
            )
        })
        .collect();
    let mut rewards = stats::partition(std::mem::take(&mut inspection.rewards), &part, names.len());
    let mut tokens = tokens.map(|t| stats::partition(t, &part, names.len()));
    for (i, (name, at)) in names.into_iter().zip(&sections).enumerate() {
        let groups = args.group_by.as_ref().and_then(|path| {
            stats::groups_of(
                &path.to_string(),
                at,
                &inspection.group_keys,
                &inspection.group_missing,
            )
        });
        let tokens = tokens.as_mut().and_then(|parts| {
            let of_split = std::mem::take(&mut parts[i]);
            let over_limit = of_split.iter().filter(|&&t| t > limit).count() as u64;
            Some(TokenStats {
                format: "openai".into(),
                model: model.name.to_string(),
                spread: Spread::of(of_split)?,
                over_limit,
            })
        });
        report.splits.push(SplitStats {
            split: name,
            examples: at.len() as u64,
            reward: RewardStats::of(std::mem::take(&mut rewards[i]), bins),
            action_key: policy.action_key().to_string(),
            actions: std::mem::take(&mut actions[i]),
            groups,
            tokens,
        });
    }
    let problems = report.rejected_examples + report.over_limit_examples;
    if problems > 0 {
        anyhow::bail!(
            "{}: {problems} of {} example(s) would not export ({} invalid, {} over the token limit; see the warnings); the statistics are of the {} valid example(s)",
            source.name(),
            inspection.input_examples,
            report.rejected_examples,
            report.over_limit_examples,
            report.valid_examples
        );
    }
    Ok(())
}

/// Every valid example's openai token count, by entry (as f64, exact below 2^53, for
/// the spread); over-limit ones warned about.
fn token_counts(
    scanned: &Scanned,
    policy: Policy,
    threads: usize,
    result: &mut ExportResult,
    progress: &Progress,
) -> anyhow::Result<Vec<f64>> {
    let all: Vec<u32> = (0..scanned.inspection.entries.len() as u32).collect();
    progress.start_examples("tokens", all.len() as u64);
    let stream = SpanStream::new(
        &scanned.source,
        &scanned.inspection.entries,
        &all,
        progress,
        threads,
    );
    let model = scanned.model;
    let mut counts = Vec::with_capacity(all.len());
    crate::format::openai::each_token_count(
        &stream,
        &scanned.check_config(policy, threads),
        |item, tokens| {
            if tokens > model.limit {
                result.stats.over_limit_examples += 1;
                result.add_warning(crate::format::openai::over_limit_warning(
                    &item.location,
                    tokens,
                    model,
                ));
            }
            counts.push(tokens as f64);
        },
    )?;
    Ok(counts)
}

/// Thousands separated by commas.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The report for a person: a header, then each split's sections.
pub fn human(report: &StatsReport, glyphs: Glyphs) -> String {
    let mut s = String::new();
    let mut line = |text: String| {
        s.push_str(&text);
        s.push('\n');
    };
    line(format!("rlx stats: {}", report.input));
    if let Some(p) = report.policy {
        line(format!("  policy:   {p}"));
    }
    if let Some(shape) = report.input_shape {
        let files = if report.input_files.is_empty() {
            String::new()
        } else {
            format!(" from {} file(s)", report.input_files.len())
        };
        line(format!(
            "  input:    {} example(s){files}, {shape}; {} valid",
            grouped(report.input_examples),
            grouped(report.valid_examples)
        ));
    }
    for split in &report.splits {
        line(String::new());
        line(format!(
            "{}: {} example(s)",
            split.split,
            grouped(split.examples)
        ));
        if let Some(r) = &split.reward {
            for l in reward_lines(r, glyphs) {
                line(l);
            }
        }
        for l in action_lines(split) {
            line(l);
        }
        if let Some(g) = &split.groups {
            line(format!(
                "  groups    {}: {} group(s)",
                g.path,
                grouped(g.groups)
            ));
            line(format!("            size {}", spread_line(&g.sizes)));
            line(format!(
                "            {} of one example, {} without the path; the largest holds {:.1}%",
                grouped(g.singletons),
                grouped(g.missing_key),
                g.largest_share * 100.0
            ));
        }
        if let Some(t) = &split.tokens {
            line(format!(
                "  tokens    {}, {}: total {}; {} over the training limit",
                t.format,
                t.model,
                grouped(t.spread.sum as u64),
                grouped(t.over_limit)
            ));
            line(format!("            {}", spread_line(&t.spread)));
        }
    }
    s
}

/// `min 1  p5 1.0  p50 8.0  p95 20.0  max 41  mean 8.3`, of counts.
fn spread_line(s: &Spread) -> String {
    format!(
        "min {}  p5 {:.1}  p50 {:.1}  p95 {:.1}  max {}  mean {:.1}",
        s.min, s.p5, s.p50, s.p95, s.max, s.mean
    )
}

fn reward_lines(r: &RewardStats, glyphs: Glyphs) -> Vec<String> {
    let s = &r.spread;
    let mut out = vec![
        format!(
            "  reward    min {:.3}  p5 {:.3}  p25 {:.3}  p50 {:.3}",
            s.min, s.p5, s.p25, s.p50
        ),
        format!(
            "            p75 {:.3}  p95 {:.3}  max {:.3}  mean {:.3}",
            s.p75, s.p95, s.max, s.mean
        ),
        format!(
            "            {} < 0, {} = 0, {} > 0",
            grouped(r.negative),
            grouped(r.zero),
            grouped(r.positive)
        ),
    ];
    out.extend(draw::histogram_rows(&r.histogram, glyphs, 12));
    out
}

fn action_lines(split: &SplitStats) -> Vec<String> {
    let shown = &split.actions[..split.actions.len().min(ACTIONS_SHOWN)];
    let clip = |v: &str| -> String {
        if v.chars().count() > 28 {
            v.chars().take(27).collect::<String>() + "~"
        } else {
            v.to_string()
        }
    };
    let width = shown
        .iter()
        .map(|a| clip(&a.value).chars().count())
        .chain([split.action_key.len()])
        .max()
        .unwrap_or(6);
    let mut out = vec![format!(
        "  actions   {:<width$}  {:>10}  {:>6}  {:>11}",
        split.action_key, "count", "share", "mean reward"
    )];
    for a in shown {
        out.push(format!(
            "            {:<width$}  {:>10}  {:>5.1}%  {:>11.3}",
            clip(&a.value),
            grouped(a.count),
            a.share * 100.0,
            a.mean_reward
        ));
    }
    if split.actions.len() > ACTIONS_SHOWN {
        out.push(format!(
            "            ... and {} more value(s); --json lists them all",
            split.actions.len() - ACTIONS_SHOWN
        ));
    }
    out
}

/// The warnings on stderr, as validate lists them.
fn write_warnings(result: &ExportResult, out: &mut dyn Write) -> io::Result<()> {
    const SHOWN: usize = 20;
    if result.warnings.is_empty() {
        return Ok(());
    }
    writeln!(out, "  warnings ({}):", result.warnings.len())?;
    for w in result.warnings.iter().take(SHOWN) {
        writeln!(out, "    - {w}")?;
    }
    if result.warnings.len() > SHOWN {
        writeln!(
            out,
            "    … and {} more; --json lists them all",
            result.warnings.len() - SHOWN
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::grouped;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(1234567), "1,234,567");
    }
}
