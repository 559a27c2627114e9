//! The training objective an export writes for (`--objective`), and the settings that
//! turn rewards into training signal: the KTO threshold and the margin column. Which
//! formats write which objective is declared in the format table, not here; the plan
//! checks the flags against it.

use std::fmt;

use crate::cli::ExportArgs;
use crate::format::{self, FormatChoice, FormatSpec};
use crate::group::PairBy;
use crate::pair::PairRule;
use crate::reward::Reward;
use crate::tokens::{self, Model};
use crate::UsageError;

/// `--objective`: which dataset type the rewards become.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum Objective {
    /// every selected example as an imitation target (prompt, completion)
    #[default]
    Sft,
    /// preference pairs (prompt, chosen, rejected) from groups of examples
    Dpo,
    /// every example with a desirable/undesirable label from its reward
    Kto,
    /// reward-model pairs (chosen, rejected conversations, margin)
    Reward,
}

impl Objective {
    pub const ALL: [Objective; 4] = [
        Objective::Sft,
        Objective::Dpo,
        Objective::Kto,
        Objective::Reward,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Objective::Sft => "sft",
            Objective::Dpo => "dpo",
            Objective::Kto => "kto",
            Objective::Reward => "reward",
        }
    }

    /// Rows are pairs of examples, made by the pairing step.
    pub fn needs_pairs(self) -> bool {
        matches!(self, Objective::Dpo | Objective::Reward)
    }

    /// The scan keeps each example's exact reward (and, for pairs, group and action).
    pub fn needs_reward_facts(self) -> bool {
        self != Objective::Sft
    }

    /// TRL's name for the dataset type (docs/source/dataset_formats.md).
    pub fn dataset_type(self) -> &'static str {
        match self {
            Objective::Sft => "prompt-completion",
            Objective::Dpo => "preference (explicit prompt)",
            Objective::Kto => "unpaired preference",
            Objective::Reward => "preference (implicit prompt)",
        }
    }

    pub fn trainer(self) -> &'static str {
        match self {
            Objective::Sft => "SFTTrainer",
            Objective::Dpo => "DPOTrainer",
            Objective::Kto => "KTOTrainer",
            Objective::Reward => "RewardTrainer",
        }
    }

    /// An objective named by a whole word of the output directory's name.
    pub fn from_word(word: &str) -> Option<Objective> {
        Objective::ALL.into_iter().find(|o| o.name() == word)
    }
}

impl fmt::Display for Objective {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a writer needs to know about the objective.
#[derive(Debug, Clone, Copy)]
pub struct ObjectiveConfig {
    pub objective: Objective,
    /// KTO: above is desirable, below undesirable.
    pub kto_threshold: Reward,
    /// reward: write the `margin` column.
    pub include_margin: bool,
}

impl Default for ObjectiveConfig {
    fn default() -> ObjectiveConfig {
        ObjectiveConfig {
            objective: Objective::Sft,
            kto_threshold: Reward::ZERO,
            include_margin: true,
        }
    }
}

/// Why the objective is what it is, for the summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectiveReason {
    Flag,
    Word(&'static str),
    Default,
}

impl fmt::Display for ObjectiveReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ObjectiveReason::Flag => f.write_str("--objective"),
            ObjectiveReason::Word(w) => write!(f, "the output name contains the word \"{w}\""),
            ObjectiveReason::Default => f.write_str("the default"),
        }
    }
}

/// The objective flags of `rlx export`, resolved and checked against each other and
/// against the formats chosen.
#[derive(Debug, Clone)]
pub struct ObjectivePlan {
    pub config: ObjectiveConfig,
    pub reason: ObjectiveReason,
    pub min_reward: Option<Reward>,
    pub pair_by: PairBy,
    pub rule: PairRule,
}

impl ObjectivePlan {
    pub fn from_args(args: &ExportArgs, choice: FormatChoice) -> Result<ObjectivePlan, UsageError> {
        // A word of the output name chooses the objective only where it does not fight
        // an explicit --format: `--format csv -o high-reward` stays a CSV export, and
        // `--format all` takes its objective from --objective alone.
        let can_take = |o: Objective| match choice {
            FormatChoice::One(spec) => args.format.is_none() || spec.objectives.contains(&o),
            FormatChoice::All => false,
        };
        let (objective, reason) = match args.objective {
            Some(o) => (o, ObjectiveReason::Flag),
            None => match format::infer_objective(&args.output) {
                Some((o, w)) if can_take(o) => (o, ObjectiveReason::Word(w)),
                _ => (Objective::Sft, ObjectiveReason::Default),
            },
        };
        if let FormatChoice::One(spec) = choice {
            if !spec.objectives.contains(&objective) {
                let takers: Vec<&str> = format::formats_for(objective)
                    .iter()
                    .map(|s| s.name)
                    .collect();
                let format_from = if args.format.is_some() {
                    format!("--format {}", spec.name)
                } else {
                    format!("the format {} (from the output name)", spec.name)
                };
                return Err(UsageError(format!(
                    "{format_from} cannot write --objective {objective} (objective from {reason}); expected a format that takes it: {}, or all",
                    takers.join(", ")
                )));
            }
        }
        if args.min_margin.is_negative() {
            return Err(UsageError(format!(
                "--min-margin {} is negative; expected 0 or more (the chosen example of a pair never has the lower reward)",
                args.min_margin
            )));
        }
        Ok(ObjectivePlan {
            config: ObjectiveConfig {
                objective,
                kto_threshold: args.kto_threshold,
                include_margin: !args.no_margin,
            },
            reason,
            min_reward: args.min_reward,
            pair_by: args.pair_by.clone(),
            rule: PairRule {
                mode: args.pairs,
                max_per_group: args.max_pairs_per_group as usize,
                min_margin: args.min_margin,
            },
        })
    }

    pub fn objective(&self) -> Objective {
        self.config.objective
    }

    /// The formats of `choice` that write this objective (`all` keeps those that can).
    pub fn formats(&self, choice: FormatChoice) -> Vec<&'static FormatSpec> {
        choice
            .formats()
            .into_iter()
            .filter(|s| s.objectives.contains(&self.objective()))
            .collect()
    }

    /// The model for OpenAI's token counts: --model, else the default for the objective.
    /// A preference export needs a model OpenAI takes DPO jobs for.
    pub fn model(&self, given: Option<&str>, writes_openai: bool) -> Result<Model, UsageError> {
        let is_dpo = self.objective() == Objective::Dpo;
        let name = given.unwrap_or(if is_dpo {
            tokens::DEFAULT_DPO_MODEL
        } else {
            crate::cli::DEFAULT_MODEL
        });
        let model = tokens::find_model(name).map_err(UsageError)?;
        if is_dpo && writes_openai && !model.supports_dpo {
            return Err(UsageError(format!(
                "--model {} does not take preference (DPO) fine-tuning; expected one of {} with --objective dpo",
                model.name,
                tokens::dpo_models().join(", ")
            )));
        }
        Ok(model)
    }
}
