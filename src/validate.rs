//! Every check on the data, in one place so `rlx validate` and `rlx export` cannot
//! disagree: per example, a `Rejection` (this example cannot be written) or nothing; over
//! the whole input, `Warning`s (keep going, but say so).

use std::fmt;

use crate::example::{Policy, Split};
use crate::input::Location;
use crate::json::{describe_raw, RawMap};

/// Something worth telling the user that does not stop the export. The text names the
/// option that helps, where there is one.
#[derive(Debug, Clone, PartialEq)]
pub enum Warning {
    /// An invalid example dropped under --skip-invalid.
    Rejected { location: String, reason: String },
    /// Rewards outside [-1, 1], the range the logging system produces.
    RewardsOutOfRange {
        count: u64,
        min: f64,
        max: f64,
        first: String,
    },
    /// Examples whose state, action and reward repeat an earlier one.
    Duplicates {
        copies: u64,
        first: String,
        first_copy: String,
    },
    /// A split with no examples, left out of the file set.
    EmptySplit {
        split: Split,
        kept_input_split: bool,
    },
    /// A format left out every example of a split, so it wrote no file for it.
    FormatEmptiedSplit { format: &'static str, split: Split },
    /// parquet: an example too long for content-defined chunking.
    CdcOff { longest: u64 },
    /// Fewer training examples than a platform needs.
    FewTrainingExamples {
        format: &'static str,
        count: u64,
        minimum: u64,
        platform: &'static str,
    },
    /// An example left out of one format because of that format's limits.
    DroppedByFormat {
        format: &'static str,
        location: String,
        reason: String,
    },
    /// A field the dataset card cannot declare with one type, written as JSON text.
    EncodedAsJson { field: String, reason: String },
    /// Too many or too few records for a platform's job limits.
    RecordCount {
        format: &'static str,
        split: Split,
        count: u64,
        rule: &'static str,
    },
    /// CSV cells longer than Python's csv module reads by default.
    LongCsvCells {
        count: u64,
        longest: usize,
        limit: usize,
    },
    /// Keys of a dataset object that rlx does not read.
    IgnoredKeys { keys: Vec<String> },
    /// Dataset objects among several inputs: their own split is not kept.
    InputSplitNotKept { inputs: Vec<String> },
    /// Examples without the --group-by path, each a group of its own.
    MissingGroupKey {
        path: String,
        count: u64,
        first: String,
    },
    /// Groups larger than a split's whole share.
    OversizedGroups {
        count: u64,
        largest: u64,
        share: u64,
    },
    /// An SFT export whose training split imitates decisions with a negative reward.
    NegativeRewardsInSft { formats: String, count: u64 },
    /// Fewer training pairs than the original dpo-trainer required.
    FewTrainingPairs { count: u64, minimum: u64 },
    /// KTO's training split holds only one of the two labels.
    OneKtoLabel { desirable: u64, undesirable: u64 },
    /// An action value outside the policy's documented set.
    UnknownActionValue {
        key: &'static str,
        value: String,
        count: u64,
        first: String,
    },
}

impl Warning {
    /// A stable name per kind, for counting in the summary and `--json`.
    pub fn kind(&self) -> &'static str {
        match self {
            Warning::Rejected { .. } => "rejected",
            Warning::RewardsOutOfRange { .. } => "rewardOutOfRange",
            Warning::Duplicates { .. } => "duplicates",
            Warning::EmptySplit { .. } | Warning::FormatEmptiedSplit { .. } => "emptySplit",
            Warning::FewTrainingExamples { .. } => "fewTrainingExamples",
            Warning::CdcOff { .. } => "cdcOff",
            Warning::DroppedByFormat { .. } => "droppedByFormat",
            Warning::EncodedAsJson { .. } => "encodedAsJson",
            Warning::RecordCount { .. } => "recordCount",
            Warning::IgnoredKeys { .. } => "ignoredKeys",
            Warning::LongCsvCells { .. } => "longCsvCells",
            Warning::UnknownActionValue { .. } => "unknownActionValue",
            Warning::NegativeRewardsInSft { .. } => "negativeRewardsInSft",
            Warning::MissingGroupKey { .. } => "missingGroupKey",
            Warning::InputSplitNotKept { .. } => "inputSplitNotKept",
            Warning::OversizedGroups { .. } => "oversizedGroups",
            Warning::FewTrainingPairs { .. } => "fewTrainingPairs",
            Warning::OneKtoLabel { .. } => "oneKtoLabel",
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::Rejected { location, reason } => {
                write!(f, "skipped {location}: {reason}")
            }
            Warning::RewardsOutOfRange { count, min, max, first } => write!(
                f,
                "{count} reward(s) outside [-1, 1] (lowest {min}, highest {max}; first at {first}); they are kept as they are"
            ),
            Warning::Duplicates { copies, first, first_copy } => write!(
                f,
                "{copies} example(s) repeat an earlier example's state, action and reward (first: {first_copy} repeats {first}); they are kept"
            ),
            Warning::EmptySplit { split, kept_input_split: false } => write!(
                f,
                "the {split} split has no examples, so no {split} file is written (consumers reject empty files); {} or add examples",
                match split {
                    Split::Train => "lower --split-ratio/--validation-ratio",
                    Split::Validation => "raise --validation-ratio",
                    Split::Eval => "raise --split-ratio",
                }
            ),
            Warning::EmptySplit { split, kept_input_split: true } => write!(
                f,
                "the input's {split} array has no (valid) examples, so no {split} file is written (consumers reject empty files); pass --split-ratio to re-split all examples"
            ),
            Warning::FormatEmptiedSplit { format, split } => write!(
                f,
                "{format}: every {split} example was left out (see the warnings above), so no {split} file is written"
            ),
            Warning::CdcOff { longest } => write!(
                f,
                "parquet: an example of {longest} bytes is longer than content-defined chunking's 1 MiB chunks, so the shards are written without it (pyarrow 26 cannot read a value longer than a chunk back); --no-cdc says so up front"
            ),
            Warning::FewTrainingExamples { format, count, minimum, platform } => write!(
                f,
                "{format}: {count} training example(s); {platform} needs at least {minimum}"
            ),
            Warning::DroppedByFormat { format, location, reason } => {
                write!(f, "{format}: left out {location}: {reason}")
            }
            Warning::EncodedAsJson { field, reason } => write!(
                f,
                "huggingface: {field} {reason}, so it is written as a JSON-encoded string (decode it with json.loads)"
            ),
            Warning::RecordCount { format, split, count, rule } => {
                write!(f, "{format}: the {split} file has {count} records; {rule}")
            }
            Warning::LongCsvCells { count, longest, limit } => write!(
                f,
                "csv: {count} cell(s) are longer than {limit} characters (the longest {longest}); pandas reads them, but Python's csv module needs csv.field_size_limit(sys.maxsize) first"
            ),
            Warning::IgnoredKeys { keys } => write!(
                f,
                "the dataset object's key(s) {} are not read, nor any examples in them (rlx reads train, eval or test, validation and stats)",
                keys.iter()
                    .map(|k| format!("\"{k}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Warning::InputSplitNotKept { inputs } => write!(
                f,
                "{} {} a pre-split dataset object, but with several inputs every example is pooled and split by the options; its own train/eval split is not kept (export it alone to keep it)",
                inputs.join(", "),
                if inputs.len() == 1 { "is" } else { "are" }
            ),
            Warning::MissingGroupKey { path, count, first } => write!(
                f,
                "{count} example(s) have no {path} (first at {first}); each is a group of its own, keyed by its own text"
            ),
            Warning::OversizedGroups { count, largest, share } => write!(
                f,
                "{count} group(s) hold more examples than a split's whole share of {share} (the largest {largest}); they stay whole, so the splits miss their ratios (group by a finer key to get closer)"
            ),
            Warning::NegativeRewardsInSft { formats, count } => write!(
                f,
                "{formats}: {count} training example(s) have a negative reward, and supervised fine-tuning teaches the model to repeat them; --min-reward 0 leaves them out (or train on the reward with --objective dpo or kto)"
            ),
            Warning::FewTrainingPairs { count, minimum } => write!(
                f,
                "{count} training pair(s); the original dpo-trainer refused fewer than {minimum} (widen the groups with --pair-by, lower --min-margin, or use --pairs all)"
            ),
            Warning::OneKtoLabel { desirable, undesirable } => write!(
                f,
                "the training split has {desirable} desirable and {undesirable} undesirable example(s); KTO needs both (move --kto-threshold)"
            ),
            Warning::UnknownActionValue { key, value, count, first } => write!(
                f,
                "{count} action(s) have {key} = {value}, which the policy does not define (first at {first}); they are kept"
            ),
        }
    }
}

/// An example that cannot be written, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    pub location: Location,
    pub reason: String,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.reason)
    }
}

/// What the checks need to know besides the example.
#[derive(Debug, Clone, Copy)]
pub struct Checks {
    /// The policy given with --policy.
    pub policy: Option<Policy>,
    /// Whether a chosen format renders prompts, so every prompt field must be there.
    pub needs_prompt_fields: bool,
}

/// The example's policy from what its state looks like and what --policy says.
/// `state_keys` describes the state's keys for messages.
pub fn check_policy(
    detected: Option<Policy>,
    state_keys: impl Fn() -> String,
    checks: &Checks,
) -> Result<Policy, String> {
    match (checks.policy, detected) {
        (Some(wanted), Some(found)) if wanted != found => Err(format!(
            "state is {} state (it has {}); expected {} state (--policy {wanted})",
            found.with_article(),
            found.signature().join("+"),
            wanted.with_article()
        )),
        (Some(wanted), None) => Err(format!(
            "state has none of {} ({}); expected {} state",
            wanted.signature().join("+"),
            state_keys(),
            wanted.with_article()
        )),
        (Some(wanted), Some(_)) => Ok(wanted),
        (None, None) => Err(format!(
            "state matches no policy (its keys: {}); expected one of {} (or pass --policy)",
            state_keys(),
            Policy::describe_signatures()
        )),
        (None, Some(found)) => Ok(found),
    }
}

/// Without --policy, every example must have the policy of the first valid one.
pub fn check_same_policy(found: Policy, first: Policy, first_at: &Location) -> Result<(), String> {
    if found == first {
        return Ok(());
    }
    Err(format!(
        "state is {} state, but the examples before it are {first} (first at {first_at}); one export holds one policy: pass --policy {first} --skip-invalid to keep only the {first} examples, or split the input by policy",
        found.with_article()
    ))
}

/// Up to six keys, for messages.
pub fn keys_of<'k>(keys: impl Iterator<Item = &'k str>) -> String {
    let all: Vec<&str> = keys.collect();
    if all.is_empty() {
        return "none".into();
    }
    let more = if all.len() > 6 { ", …" } else { "" };
    format!("{}{more}", all[..all.len().min(6)].join(", "))
}

/// The action must carry the policy's own key with the right type.
pub fn check_action(policy: Policy, action: &RawMap) -> Result<(), String> {
    let key = policy.action_key();
    let Some(value) = action.get(key) else {
        let other = Policy::ALL
            .into_iter()
            .find(|p| *p != policy && action.contains_key(p.action_key()));
        return Err(match other {
            Some(p) => format!(
                "action has \"{}\" (the {p} policy's key) but no \"{key}\"; expected {} action",
                p.action_key(),
                policy.with_article()
            ),
            None => format!(
                "action has no \"{key}\"; expected {} action",
                policy.with_article()
            ),
        });
    };
    let text = value.get();
    match policy {
        Policy::Retrieval if text == "true" || text == "false" => Ok(()),
        Policy::Retrieval => Err(format!(
            "action.{key} is {}; expected true or false",
            describe_raw(value)
        )),
        _ if text.starts_with('"') => Ok(()),
        _ => Err(format!(
            "action.{key} is {}; expected a string",
            describe_raw(value)
        )),
    }
}

/// The values each policy's action key is documented to take.
pub fn known_action_values(policy: Policy) -> &'static [&'static str] {
    match policy {
        Policy::Extraction => &["store", "skip", "defer"],
        Policy::Retrieval => &[],
        Policy::Consolidation => &["merge", "dedupe", "archive", "abstract", "keep"],
    }
}

/// Rewards outside [-1, 1], aggregated into one warning.
#[derive(Debug, Default)]
pub struct RewardRange {
    count: u64,
    min: f64,
    max: f64,
    first: Option<String>,
}

impl RewardRange {
    pub fn observe(&mut self, reward: f64, location: &Location) {
        if (-1.0..=1.0).contains(&reward) {
            return;
        }
        if self.count == 0 {
            self.min = reward;
            self.max = reward;
            self.first = Some(location.to_string());
        }
        self.count += 1;
        self.min = self.min.min(reward);
        self.max = self.max.max(reward);
    }

    pub fn warning(&self) -> Option<Warning> {
        (self.count > 0).then(|| Warning::RewardsOutOfRange {
            count: self.count,
            min: self.min,
            max: self.max,
            first: self.first.clone().unwrap_or_default(),
        })
    }
}

/// An example's duplicate fingerprint and its position among the valid examples,
/// packed into 12 bytes: one is kept per example until the scan ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(C, packed(4))]
pub struct Print {
    pub hash: u64,
    pub position: u32,
}

/// Per position, whether it is the first of its fingerprint (what --dedupe keeps).
/// `prints` is sorted in place.
pub fn first_of_each(prints: &mut [Print]) -> Vec<bool> {
    prints.sort_unstable();
    let mut keep = vec![true; prints.len()];
    for w in prints.windows(2) {
        if w[0].hash == w[1].hash {
            keep[w[1].position as usize] = false;
        }
    }
    keep
}

/// Count examples whose fingerprint repeats an earlier one; the result names the
/// earliest repeat and what it repeats.
pub fn find_duplicates(prints: &mut [Print], locate: impl Fn(u32) -> String) -> Option<Warning> {
    prints.sort_unstable();
    let mut copies = 0u64;
    let mut earliest: Option<(u32, u32)> = None;
    for w in prints.windows(2) {
        let (hash, copy) = (w[1].hash, w[1].position);
        if w[0].hash == hash {
            copies += 1;
            // The first of the run is its original (sorted by position within a hash).
            let run_start = prints
                .partition_point(|p| p.hash < hash)
                .min(prints.len() - 1);
            let original = prints[run_start].position;
            if earliest.is_none_or(|(_, c)| copy < c) {
                earliest = Some((original, copy));
            }
        }
    }
    earliest.map(|(original, copy)| Warning::Duplicates {
        copies,
        first: locate(original),
        first_copy: locate(copy),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Origin;
    use crate::json::Raw;
    use serde_json::json;

    fn loc(line: u32) -> Location {
        Location {
            source: "x.jsonl".into(),
            origin: Origin::Line,
            index: 0,
            line,
            column: None,
        }
    }

    const NO_CHECKS: Checks = Checks {
        policy: None,
        needs_prompt_fields: false,
    };

    fn keys() -> String {
        "queryFeatures".into()
    }

    #[test]
    fn mixed_policies_name_the_first_example() {
        let first = loc(1);
        let found = check_policy(Some(Policy::Retrieval), keys, &NO_CHECKS).unwrap();
        let err = check_same_policy(found, Policy::Extraction, &first).unwrap_err();
        assert!(err.starts_with("state is a retrieval state, but the examples before it are extraction (first at x.jsonl:1)"));
        assert!(err.contains("--policy extraction --skip-invalid"));
    }

    #[test]
    fn policy_flag_contradicting_the_data_is_an_error() {
        let checks = Checks {
            policy: Some(Policy::Extraction),
            needs_prompt_fields: false,
        };
        let err = check_policy(Some(Policy::Consolidation), keys, &checks).unwrap_err();
        assert_eq!(
            err,
            "state is a consolidation state (it has groupFeatures); expected an extraction state (--policy extraction)"
        );
        let err = check_policy(None, keys, &NO_CHECKS).unwrap_err();
        assert!(err.starts_with("state matches no policy (its keys: queryFeatures)"));
    }

    #[test]
    fn actions_need_their_policy_key() {
        let action = json!({"decision": "store"}).to_string();
        let action = RawMap::parse(Raw::from_validated(&action)).unwrap();
        let err = check_action(Policy::Consolidation, &action).unwrap_err();
        assert_eq!(
            err,
            "action has \"decision\" (the extraction policy's key) but no \"action\"; expected a consolidation action"
        );
        let action = json!({"shouldRetrieve": "yes"}).to_string();
        let action = RawMap::parse(Raw::from_validated(&action)).unwrap();
        let err = check_action(Policy::Retrieval, &action).unwrap_err();
        assert_eq!(
            err,
            "action.shouldRetrieve is the string \"yes\"; expected true or false"
        );
    }

    #[test]
    fn duplicates_name_the_earliest_repeat() {
        let mut prints: Vec<Print> = [(5, 0), (7, 1), (5, 2), (7, 3), (5, 4)]
            .into_iter()
            .map(|(hash, position)| Print { hash, position })
            .collect();
        let w = find_duplicates(&mut prints, |i| format!("line {}", i + 1)).unwrap();
        assert_eq!(
            w,
            Warning::Duplicates {
                copies: 3,
                first: "line 1".into(),
                first_copy: "line 3".into()
            }
        );
    }

    #[test]
    fn rewards_out_of_range_are_aggregated() {
        let mut r = RewardRange::default();
        r.observe(0.5, &loc(1));
        r.observe(-0.5, &loc(2));
        r.observe(1.5, &loc(3));
        r.observe(-3.0, &loc(4));
        let w = r.warning().unwrap();
        assert_eq!(
            w.to_string(),
            "2 reward(s) outside [-1, 1] (lowest -3, highest 1.5; first at x.jsonl:3); they are kept as they are"
        );
    }
}
