//! `ExportResult`: the JSON contract printed by `--json` (camelCase, shaped like the
//! original module's result) and the human summary printed from the same struct, so the
//! two cannot drift. Also the one clock every timestamp comes from.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::example::Policy;
use crate::validate::Warning;

/// How many warnings the human summary lists before it only counts.
const WARNINGS_SHOWN: usize = 20;

#[derive(Debug, Clone, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ExportResult {
    pub success: bool,
    /// `jsonl`, `huggingface`, `openai`, `anthropic`, `csv`, or `all`.
    pub format: String,
    /// Which rule chose the format.
    pub format_reason: String,
    /// Which rule chose the objective.
    pub objective_reason: String,
    pub output: String,
    /// Every file written, as paths under the output directory as given.
    pub files: Vec<String>,
    pub stats: Stats,
    pub seed: u64,
    /// What each format wrote (one entry, or five with `--format all`).
    pub formats: Vec<FormatStats>,
    pub warnings: Vec<String>,
    /// The charts --plots drew, for the cards to show.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub plots: Vec<crate::stats::Plot>,
    /// Stale staging directories of killed exports removed before this one started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reclaimed: Option<crate::output::Reclaimed>,
    /// Warnings counted by kind.
    pub warning_counts: BTreeMap<String, u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Whether the error was about the command line (exit status 2).
    #[serde(skip)]
    pub is_usage_error: bool,
    #[serde(skip)]
    pub elapsed_secs: f64,
    #[serde(skip)]
    pub typed_warnings: Vec<Warning>,
}

#[derive(Debug, Clone, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// Examples written (train + validation + eval).
    pub total_examples: u64,
    pub train_examples: u64,
    pub eval_examples: u64,
    pub validation_examples: u64,
    /// Examples in the input, valid or not.
    pub input_examples: u64,
    /// Examples not written: rejected as invalid plus dropped by a format's limits.
    pub skipped_examples: u64,
    /// Invalid examples dropped by --skip-invalid (listed in rejected.jsonl).
    pub rejected_examples: u64,
    /// Valid examples a format left out (OpenAI token limit, Bedrock rules).
    pub over_limit_examples: u64,
    /// Valid examples left out by --max-examples.
    pub unselected_examples: u64,
    pub file_sizes: BTreeMap<String, u64>,
    pub exported_at: String,
    pub policy_type: Option<Policy>,
    pub seed: u64,
    pub shuffled: bool,
    pub split_ratio: String,
    pub validation_ratio: String,
    /// Whether a pre-split input kept its own train/eval split.
    pub kept_input_split: bool,
    pub input_shape: Option<crate::input::Shape>,
    /// With several inputs (or a directory): every file read, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub input_files: Vec<String>,
    /// Each directory given, with how many files it held.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub input_directories: Vec<String>,
    /// `sft`, `dpo`, `kto` or `reward`.
    pub objective: String,
    /// Valid examples left out by --min-reward.
    pub filtered_examples: u64,
    /// The --min-reward threshold, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_reward: Option<String>,
    /// How the examples became pairs (dpo, reward).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pairs: Option<PairStats>,
    /// How the examples were labelled (kto).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kto: Option<KtoStats>,
    /// `ratio` or `hash`.
    pub split_by: String,
    /// The --group-by path, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_by: Option<String>,
    /// How whole groups were assigned (--group-by).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<GroupStats>,
    /// With --split-by hash: the counts the ratios would give exactly (train,
    /// validation, eval); the hash split's counts are binomial around them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_split: Option<[u64; 3]>,
    /// Examples --dedupe dropped as repeats of an earlier one.
    pub duplicate_examples: u64,
    /// The reward distribution of each written split's examples.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rewards: Vec<crate::stats::SplitReward>,
    /// What of training is seen again in eval and validation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leakage: Option<Leakage>,
}

/// Groups per split and the example counts the ratios asked for.
#[derive(Debug, Clone, Serialize, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GroupStats {
    pub train: u64,
    pub validation: u64,
    pub eval: u64,
    pub target_train: u64,
    pub target_validation: u64,
    pub target_eval: u64,
    /// The largest group's example count.
    pub largest: u64,
    /// Examples without the path, each a group of its own.
    pub missing_key: u64,
}

/// Eval and validation examples a model trained on the train split has seen: the same
/// state, action and reward (whitespace aside), or the same state only.
#[derive(Debug, Clone, Serialize, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Leakage {
    pub eval_repeats_train: u64,
    pub eval_shares_train_state: u64,
    pub validation_repeats_train: u64,
    pub validation_shares_train_state: u64,
}

/// The pairing step's accounting: pairs per split, and every example of the selected
/// splits either in a pair or unpaired with its reason.
#[derive(Debug, Clone, Serialize, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PairStats {
    pub pair_by: String,
    pub mode: String,
    pub min_margin: String,
    pub max_per_group: u64,
    /// Pairs formed per split (before a format's limits).
    pub train: u64,
    pub validation: u64,
    pub eval: u64,
    /// Examples in at least one pair.
    pub used_examples: u64,
    pub unpaired_examples: u64,
    pub unpaired: crate::pair::Unpaired,
}

/// KTO's labels over the selected splits.
#[derive(Debug, Clone, Serialize, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct KtoStats {
    pub threshold: String,
    pub desirable: u64,
    pub undesirable: u64,
    /// Examples whose reward equals the threshold, left out.
    pub at_threshold: u64,
    /// The weights TRL's KTO docs recommend for the training split's balance.
    pub weights: Option<crate::pair::KtoWeights>,
}

#[derive(Debug, Clone, Serialize, Default, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FormatStats {
    pub format: String,
    pub directory: String,
    pub train_examples: u64,
    pub eval_examples: u64,
    pub validation_examples: u64,
    pub over_limit_examples: u64,
}

impl Stats {
    /// The examples the accounting line counts as written: for pairs and labels, the
    /// examples that reached the objective step (each in a pair, unpaired with a reason,
    /// or at the KTO threshold), since a row is not an example there.
    pub fn accounted_examples(&self) -> u64 {
        match (&self.pairs, &self.kto) {
            (Some(p), _) => p.used_examples + p.unpaired_examples,
            (None, Some(k)) => k.desirable + k.undesirable + k.at_threshold,
            (None, None) => self.total_examples,
        }
    }
}

impl ExportResult {
    pub fn add_warning(&mut self, w: Warning) {
        *self.warning_counts.entry(w.kind().to_string()).or_default() += 1;
        self.warnings.push(w.to_string());
        self.typed_warnings.push(w);
    }

    /// Print the result as one JSON object and a newline.
    pub fn write_json(&self, out: &mut dyn Write) -> io::Result<()> {
        serde_json::to_writer(&mut *out, self)?;
        out.write_all(b"\n")?;
        out.flush()
    }

    /// The human summary (stderr).
    pub fn write_human(&self, out: &mut dyn Write, is_validation: bool) -> io::Result<()> {
        let s = &self.stats;
        let verb = if is_validation {
            "validated"
        } else {
            "exported"
        };
        if self.success {
            if is_validation {
                writeln!(out, "rlx: {} is valid", self.output)?;
            } else {
                let unit = match (&s.pairs, &s.kto) {
                    (Some(_), _) => "pair(s)",
                    (None, Some(_)) => "labelled example(s)",
                    (None, None) => "example(s)",
                };
                writeln!(
                    out,
                    "rlx: {verb} {} {unit} to {}",
                    s.total_examples, self.output
                )?;
            }
        }
        if !self.format.is_empty() {
            writeln!(out, "  format:   {} ({})", self.format, self.format_reason)?;
        }
        if let Some(p) = s.policy_type {
            writeln!(out, "  policy:   {p}")?;
        }
        if let Some(shape) = s.input_shape {
            if s.input_files.is_empty() {
                writeln!(out, "  input:    {} example(s), {shape}", s.input_examples)?;
            } else {
                writeln!(
                    out,
                    "  input:    {} example(s) from {} file(s): {}",
                    s.input_examples,
                    s.input_files.len(),
                    s.input_files.join(", ")
                )?;
                for d in &s.input_directories {
                    writeln!(out, "            directory {d}")?;
                }
            }
        }
        if !is_validation {
            let order = if s.shuffled {
                format!("shuffled with seed {}", s.seed)
            } else {
                format!("input order (seed {} unused)", s.seed)
            };
            writeln!(out, "  order:    {order}")?;
            let how = if s.kept_input_split {
                "the input's own split".to_string()
            } else if s.validation_ratio != "0" {
                format!(
                    "split ratio {}, validation ratio {}",
                    s.split_ratio, s.validation_ratio
                )
            } else {
                format!("split ratio {}", s.split_ratio)
            };
            let unit = if s.pairs.is_some() { "pair" } else { "example" };
            writeln!(
                out,
                "  splits:   train {}, validation {}, eval {} {unit}s ({how})",
                s.train_examples, s.validation_examples, s.eval_examples
            )?;
            let glyphs = crate::stats::draw::Glyphs::for_stream(&io::stderr());
            for r in &s.rewards {
                writeln!(out, "{}", crate::stats::draw::reward_line(r, glyphs))?;
            }
            if let Some(g) = &s.groups {
                writeln!(
                    out,
                    "  groups:   train {}, validation {}, eval {} group(s) of {} (target examples train {}, validation {}, eval {}; largest group {})",
                    g.train,
                    g.validation,
                    g.eval,
                    s.group_by.as_deref().unwrap_or("?"),
                    g.target_train,
                    g.target_validation,
                    g.target_eval,
                    g.largest
                )?;
            }
            if let Some([t, v, e]) = s.expected_split {
                writeln!(
                    out,
                    "            --split-by hash: counts are binomial (the ratios' exact counts would be train {t}, validation {v}, eval {e})"
                )?;
            }
            if let Some(l) = &s.leakage {
                writeln!(
                    out,
                    "  leakage:  eval {} repeat a training example (state, action, reward), {} share a training state; validation {}, {}{}",
                    l.eval_repeats_train,
                    l.eval_shares_train_state,
                    l.validation_repeats_train,
                    l.validation_shares_train_state,
                    if s.split_by == "hash" && s.group_by.is_none() {
                        " (identical whole examples share a split; these differ in metadata or other keys)"
                    } else {
                        ""
                    }
                )?;
            }
            if !s.objective.is_empty() && s.objective != "sft" || s.min_reward.is_some() {
                let filter = match &s.min_reward {
                    Some(r) => format!(", reward >= {r} ({} left out)", s.filtered_examples),
                    None => String::new(),
                };
                writeln!(
                    out,
                    "  objective: {} ({}){filter}",
                    s.objective, self.objective_reason
                )?;
            }
            if let Some(p) = &s.pairs {
                let u = &p.unpaired;
                writeln!(
                    out,
                    "  pairs:    {} examples in pairs; unpaired {} (no group key {}, alone in group {}, no different action {}, within the margin {}, not selected {})",
                    p.used_examples,
                    p.unpaired_examples,
                    u.no_group_key,
                    u.alone_in_group,
                    u.no_different_action,
                    u.below_margin,
                    u.not_selected
                )?;
                writeln!(
                    out,
                    "            --pair-by {}, --pairs {}, margin above {}",
                    p.pair_by, p.mode, p.min_margin
                )?;
            }
            if let Some(k) = &s.kto {
                writeln!(
                    out,
                    "  labels:   {} desirable, {} undesirable, {} at the threshold {} left out (all splits)",
                    k.desirable, k.undesirable, k.at_threshold, k.threshold
                )?;
                if let Some(w) = &k.weights {
                    writeln!(
                        out,
                        "            KTOConfig(desirable_weight={}, undesirable_weight={}) for the train split's balance; {} may lie in [{}, {}]",
                        w.desirable_weight, w.undesirable_weight, w.weighted, w.range[0], w.range[1]
                    )?;
                }
            }
        }
        let is_rows = s.pairs.is_some() || s.kto.is_some();
        let mut accounting = format!(
            "  accounting: {} in = {} {}",
            s.input_examples,
            s.accounted_examples(),
            match (is_validation, is_rows) {
                (true, _) => "valid",
                (false, true) => "selected",
                (false, false) => "written",
            }
        );
        accounting.push_str(&format!(" + {} rejected", s.rejected_examples));
        if !is_rows {
            accounting.push_str(&format!(" + {} over a format limit", s.over_limit_examples));
        }
        accounting.push_str(&format!(
            " + {} not selected (--max-examples)",
            s.unselected_examples
        ));
        if s.filtered_examples > 0 {
            accounting.push_str(&format!(" + {} below --min-reward", s.filtered_examples));
        }
        if s.duplicate_examples > 0 {
            accounting.push_str(&format!(
                " + {} duplicates (--dedupe)",
                s.duplicate_examples
            ));
        }
        writeln!(out, "{accounting}")?;
        if is_rows && s.over_limit_examples > 0 {
            writeln!(
                out,
                "  rows:     {} left out over a format limit",
                s.over_limit_examples
            )?;
        }
        if self.formats.len() > 1 {
            for f in &self.formats {
                writeln!(
                    out,
                    "  {:<12} train {}, validation {}, eval {}, over limit {}",
                    format!("{}:", f.format),
                    f.train_examples,
                    f.validation_examples,
                    f.eval_examples,
                    f.over_limit_examples
                )?;
            }
        }
        if !self.files.is_empty() {
            writeln!(out, "  files:")?;
            for f in &self.files {
                let size = s.file_sizes.get(f).copied().unwrap_or(0);
                writeln!(out, "    {:>10}  {f}", human_bytes(size))?;
            }
        }
        if let Some(r) = &self.reclaimed {
            write_reclaimed(out, r)?;
        }
        if !self.warnings.is_empty() {
            writeln!(out, "  warnings ({}):", self.warnings.len())?;
            for w in self.warnings.iter().take(WARNINGS_SHOWN) {
                writeln!(out, "    - {w}")?;
            }
            if self.warnings.len() > WARNINGS_SHOWN {
                let counts: Vec<String> = self
                    .warning_counts
                    .iter()
                    .map(|(k, n)| format!("{k} {n}"))
                    .collect();
                writeln!(
                    out,
                    "    … and {} more ({}); --json lists them all",
                    self.warnings.len() - WARNINGS_SHOWN,
                    counts.join(", ")
                )?;
            }
        }
        writeln!(out, "  elapsed:  {:.2}s", self.elapsed_secs)?;
        Ok(())
    }
}

/// "reclaimed: 1.3 GiB in 1 directory left by a killed export (...)", shared by the
/// export summary and `rlx clean`.
pub fn write_reclaimed(out: &mut dyn Write, r: &crate::output::Reclaimed) -> io::Result<()> {
    if let Some(old) = &r.restored {
        writeln!(
            out,
            "  restored: {}, the previous export a killed rlx had moved aside as {old}",
            r.restored_to.as_deref().unwrap_or("the output")
        )?;
    }
    if !r.removed.is_empty() {
        writeln!(
            out,
            "  reclaimed: {} in {} director{} left by killed exports ({})",
            human_bytes(r.bytes),
            r.removed.len(),
            if r.removed.len() == 1 { "y" } else { "ies" },
            r.removed.join(", ")
        )?;
    }
    Ok(())
}

pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64;
    let mut unit = "B";
    for u in UNITS {
        if v < 1024.0 {
            break;
        }
        v /= 1024.0;
        unit = u;
    }
    format!("{v:.1} {unit}")
}

/// The time an export is stamped with: `SOURCE_DATE_EPOCH` when set (reproducible
/// builds convention), else now. Every timestamp in every file comes from here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp {
    pub unix_secs: i64,
}

impl Timestamp {
    pub fn now() -> anyhow::Result<Timestamp> {
        if let Ok(v) = std::env::var("SOURCE_DATE_EPOCH") {
            let secs = v.trim().parse::<i64>().map_err(|_| {
                anyhow::anyhow!(
                    "SOURCE_DATE_EPOCH is \"{v}\"; expected whole seconds since 1970 (unset it to use the current time)"
                )
            })?;
            return Ok(Timestamp { unix_secs: secs });
        }
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        Ok(Timestamp { unix_secs: secs })
    }

    /// ISO 8601 in UTC with milliseconds, as JavaScript's toISOString writes it.
    pub fn iso(self) -> String {
        let (y, m, d, hh, mm, ss) = self.civil();
        format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.000Z")
    }

    pub fn year(self) -> i64 {
        self.civil().0
    }

    /// (year, month, day, hour, minute, second) in UTC.
    fn civil(self) -> (i64, u32, u32, u32, u32, u32) {
        let days = self.unix_secs.div_euclid(86_400);
        let rem = self.unix_secs.rem_euclid(86_400);
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let y = yoe + era * 400;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let y = if m <= 2 { y + 1 } else { y };
        (
            y,
            m,
            d,
            (rem / 3600) as u32,
            (rem % 3600 / 60) as u32,
            (rem % 60) as u32,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_format_like_javascript() {
        assert_eq!(Timestamp { unix_secs: 0 }.iso(), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            Timestamp {
                unix_secs: 1_764_088_797
            }
            .iso(),
            "2025-11-25T16:39:57.000Z"
        );
        assert_eq!(
            Timestamp {
                unix_secs: 951_782_400
            }
            .iso(),
            "2000-02-29T00:00:00.000Z"
        );
    }

    #[test]
    fn sizes_are_human() {
        assert_eq!(human_bytes(12), "12 B");
        assert_eq!(human_bytes(2048), "2.0 KiB");
        assert_eq!(human_bytes(5 << 20), "5.0 MiB");
    }
}
