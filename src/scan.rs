//! The scan: every example of the input read once, checked on every core and folded in
//! input order into an `Inspection`. A valid example leaves only an `Entry` (its place
//! in the input, its shape id and its `Form`, 24 bytes) and a fingerprint; an invalid one
//! stops the export or, with --skip-invalid, becomes a `RejectedExample`. Nothing here
//! selects, splits or writes examples.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

use crate::example::{Policy, Split};
use crate::group::{self, KeyPath, PairBy};
use crate::input::{self, Location, Origin, ScanSummary, Span};
use crate::inputs::Inputs;
use crate::json::{self, ExampleText, RawMap, TextError, WalkError};
use crate::pair::RewardFacts;
use crate::parallel;
use crate::progress::Progress;
use crate::prompt;
use crate::reward::Reward;
use crate::schema::{Schema, ShapeTable};
use crate::split::HashSplit;
use crate::template::TrialRender;
use crate::validate::{self, Checks, Print, RewardRange, Warning};

/// A valid example's place in the input: one is kept per example for the whole export,
/// so it is packed into 24 bytes (the span's offset in 48 bits).
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    offset_low: u32,
    offset_high: u16,
    pub origin: Origin,
    pub form: Form,
    len: u32,
    line: u32,
    /// Index within its array (or among the non-blank lines).
    pub index: u32,
    pub shape: u32,
}

const _: () = assert!(std::mem::size_of::<Entry>() == 24);

/// Offsets an `Entry` can hold: 256 TiB.
const MAX_OFFSET: u64 = 1 << 48;

/// What the scan learned about an example's text that lets a writer copy it through
/// instead of rewriting it: whether it is already in compact form (see
/// `json::walk_example`) and which optional parts it has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Form(u8);

impl Form {
    const COMPACT: u8 = 1;
    const NEXT_STATE: u8 = 2;
    const METADATA: u8 = 4;
    const EXTRA: u8 = 8;
    const NEGATIVE_REWARD: u8 = 16;

    pub fn of(text: &ExampleText, is_compact: bool) -> Form {
        let mut bits = 0;
        for (is_set, bit) in [
            (is_compact, Form::COMPACT),
            (text.next_state.is_some(), Form::NEXT_STATE),
            (text.metadata.is_some(), Form::METADATA),
            (!text.extra.is_empty(), Form::EXTRA),
            (text.reward_value < 0.0, Form::NEGATIVE_REWARD),
        ] {
            if is_set {
                bits |= bit;
            }
        }
        Form(bits)
    }

    /// The text is exactly `write_compact` of itself with nextState, metadata and the
    /// other keys included.
    pub fn is_compact(self) -> bool {
        self.0 & Form::COMPACT != 0
    }

    pub fn has_next_state(self) -> bool {
        self.0 & Form::NEXT_STATE != 0
    }

    pub fn has_metadata(self) -> bool {
        self.0 & Form::METADATA != 0
    }

    pub fn has_extra(self) -> bool {
        self.0 & Form::EXTRA != 0
    }

    /// The reward is below zero (a bad outcome, as the logging system marks them).
    pub fn has_negative_reward(self) -> bool {
        self.0 & Form::NEGATIVE_REWARD != 0
    }
}

impl Entry {
    /// `None` when the span starts beyond `MAX_OFFSET`.
    pub fn new(span: Span, index: u32, shape: u32, origin: Origin, form: Form) -> Option<Entry> {
        (span.offset < MAX_OFFSET).then_some(Entry {
            offset_low: span.offset as u32,
            offset_high: (span.offset >> 32) as u16,
            origin,
            form,
            len: span.len,
            line: span.line,
            index,
            shape,
        })
    }

    pub fn span(&self) -> Span {
        Span {
            offset: (self.offset_high as u64) << 32 | self.offset_low as u64,
            len: self.len,
            line: self.line,
        }
    }

    pub fn location(&self, inputs: &Inputs) -> Location {
        Location {
            source: inputs.name_at(self.span().offset).clone(),
            origin: self.origin,
            index: self.index as usize,
            line: self.line,
            column: None,
        }
    }
}

/// One-byte entries on consecutive lines with the given origins (for tests of the steps
/// that take entries).
#[cfg(test)]
pub fn test_entries(origins: &[Origin]) -> Vec<Entry> {
    origins
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let span = Span {
                offset: i as u64,
                len: 1,
                line: i as u32 + 1,
            };
            Entry::new(span, i as u32, 0, *o, Form::default()).expect("a small offset fits")
        })
        .collect()
}

/// An example that was not valid, kept for rejected.jsonl.
#[derive(Debug, Clone)]
pub struct RejectedExample {
    pub location: Location,
    pub reason: String,
    /// The example's text (cut to 64 KiB), when it was readable.
    pub text: Option<String>,
}

/// An invalid example met without --skip-invalid: the export stops here.
#[derive(Debug)]
pub struct ExampleError {
    pub location: Location,
    pub reason: String,
    pub can_skip: bool,
}

impl fmt::Display for ExampleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.reason)?;
        if self.can_skip {
            f.write_str(" (--skip-invalid skips such examples and lists them in rejected.jsonl)")?;
        }
        Ok(())
    }
}

impl std::error::Error for ExampleError {}

pub struct Inspection {
    pub entries: Vec<Entry>,
    pub rejected: Vec<RejectedExample>,
    pub policy: Option<Policy>,
    pub input_examples: u64,
    pub scan: ScanSummary,
    pub warnings: Vec<Warning>,
    pub shapes: ShapeTable,
    /// Per entry, what pairing and labelling need (empty unless asked for).
    pub reward_facts: Vec<RewardFacts>,
    /// Valid examples left out by --min-reward.
    pub filtered_examples: u64,
    /// Per entry, the hash of its group key (`--group-by`; empty otherwise).
    pub group_keys: Vec<u64>,
    /// Per entry, its split by the hash rule (`--split-by hash`; empty otherwise).
    pub hash_splits: Vec<Split>,
    /// Per entry, fingerprints of its state, action and reward together, and of its
    /// state alone (for the leakage report).
    pub prints: Vec<u64>,
    pub state_prints: Vec<u64>,
    /// Examples without the `--group-by` path (each a group of its own), and the first.
    pub missing_group_key: (u64, Option<Location>),
    /// Examples --dedupe dropped as repeats of an earlier one.
    pub duplicate_examples: u64,
    /// Per entry, its reward (empty unless asked for).
    pub rewards: Vec<f64>,
    /// Per entry, its action's value at the policy's action key, as an index into
    /// `action_labels` (empty unless asked for).
    pub actions: Vec<u32>,
    /// The action values seen, in order of first appearance: a string as its text,
    /// anything else as its JSON.
    pub action_labels: Vec<String>,
    /// With `actions` and `--group-by`: per entry, whether it lacked the path.
    pub group_missing: Vec<bool>,
}

#[derive(Debug, Clone, Copy)]
pub struct InspectOptions<'a> {
    pub checks: Checks,
    pub skip_invalid: bool,
    pub collect_shapes: bool,
    pub threads: usize,
    /// Keep only examples with a reward at least this.
    pub min_reward: Option<Reward>,
    /// Keep each example's `RewardFacts`, with group keys by this rule when given.
    pub reward_facts: Option<Option<&'a PairBy>>,
    /// Hash each example's value at this path as its group key.
    pub group_by: Option<&'a KeyPath>,
    /// Split each example by its hash unit.
    pub hash_split: Option<&'a HashSplit>,
    /// Drop examples whose state, action and reward repeat an earlier one.
    pub dedupe: bool,
    /// Render each example with the user's templates, so one they fail on is rejected.
    pub trial: Option<&'a TrialRender>,
    /// Keep each entry's reward (`Inspection::rewards`).
    pub rewards: bool,
    /// Keep each entry's action value (`Inspection::actions`).
    pub actions: bool,
}

/// What a worker learns from one example.
struct Facts {
    policy: Policy,
    reward: f64,
    print: u64,
    shape: Option<u64>,
    form: Form,
    /// The action's value when the policy does not document it.
    action_value: Option<String>,
    /// The reward as written, when a threshold or the objective needs it.
    exact_reward: Option<Reward>,
    reward_facts: Option<RewardFacts>,
    /// The group key's hash, and whether the example had the path.
    group_key: Option<(u64, bool)>,
    hash_split: Option<Split>,
    state_print: u64,
    /// The action's value at the policy's action key, when the options ask for it.
    action_label: Option<String>,
}

struct Pending {
    location: Location,
    span: Span,
    bytes: Option<Range<usize>>,
}

/// A batch of examples read by the scan, waiting to be checked.
struct ScanBatch {
    arena: Vec<u8>,
    pending: Vec<Pending>,
    /// Where the batch's last example ends in the input (for the progress bar).
    end: u64,
}

impl ScanBatch {
    fn new(bytes: usize) -> ScanBatch {
        ScanBatch {
            arena: Vec::with_capacity(bytes + (1 << 16)),
            pending: Vec::with_capacity(BATCH_EXAMPLES),
            end: 0,
        }
    }
}

/// The scanner's reason to stop when the checks have already failed (never reported:
/// the checks' own error is).
#[derive(Debug)]
struct ChecksStopped;

impl fmt::Display for ChecksStopped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the checks stopped")
    }
}

impl std::error::Error for ChecksStopped {}

const BATCH_EXAMPLES: usize = 1024;

/// The text of one scan batch: 1 MiB, less with many threads, so the batches in flight
/// (about one per thread and a few more) stay near 16 MiB in all. Larger batches were no
/// faster (4 MiB and 4096 examples: the same 0.11 s for `rlx validate` on 100K) and
/// doubled the peak memory.
fn scan_batch_bytes(threads: usize) -> usize {
    ((16 << 20) / (threads + 5)).clamp(256 << 10, 1 << 20)
}
const REJECTED_TEXT_LIMIT: usize = 64 << 10;

/// Scan, parse and check every example once.
pub fn inspect(
    source: &Inputs,
    options: InspectOptions<'_>,
    progress: &Progress,
) -> anyhow::Result<Inspection> {
    let mut state = Fold {
        options,
        entries: Vec::new(),
        rejected: Vec::new(),
        first: None,
        rewards: RewardRange::default(),
        prints: Vec::new(),
        shapes: ShapeTable::default(),
        action_values: BTreeMap::new(),
        input_examples: 0,
        reward_facts: Vec::new(),
        filtered_examples: 0,
        group_keys: Vec::new(),
        hash_splits: Vec::new(),
        state_prints: Vec::new(),
        missing_group_key: (0, None),
        entry_rewards: Vec::new(),
        actions: Vec::new(),
        action_labels: Vec::new(),
        action_ids: std::collections::HashMap::new(),
        group_missing: Vec::new(),
    };
    progress.start_bytes("reading", source.byte_len());
    // The scan (reading, splitting into examples) runs on a thread of its own and hands
    // over batches, so it overlaps with checking the previous batch on every core.
    let scan = std::thread::scope(|scope| -> anyhow::Result<ScanSummary> {
        let (sender, receiver) = std::sync::mpsc::sync_channel::<ScanBatch>(2);
        // Checked batches go back to the scanner to be filled again: a fresh 4 MiB
        // arena per batch would have the kernel zero new pages all along the file.
        let (recycle, recycled) = std::sync::mpsc::channel::<ScanBatch>();
        let scanner = scope.spawn(move || {
            let batch_bytes = scan_batch_bytes(options.threads);
            let next_batch = || {
                recycled
                    .try_recv()
                    .unwrap_or_else(|_| ScanBatch::new(batch_bytes))
            };
            let mut batch = next_batch();
            let summary = source.scan(|raw| {
                let bytes = raw.bytes.map(|b| {
                    let start = batch.arena.len();
                    batch.arena.extend_from_slice(b);
                    start..batch.arena.len()
                });
                batch.end = raw.span.offset + raw.span.len as u64;
                batch.pending.push(Pending {
                    location: raw.location,
                    span: raw.span,
                    bytes,
                });
                if batch.pending.len() >= BATCH_EXAMPLES || batch.arena.len() >= batch_bytes {
                    let full = std::mem::replace(&mut batch, next_batch());
                    if sender.send(full).is_err() {
                        // The checks stopped on an invalid example; that is the error.
                        return Err(anyhow::Error::new(ChecksStopped));
                    }
                }
                Ok(())
            });
            // The last batch goes only after a complete scan, as a scan error ends the
            // export before the examples read with it are checked.
            if summary.is_ok() && !batch.pending.is_empty() {
                let _ = sender.send(batch);
            }
            summary
        });
        let mut workers = vec![(); options.threads.max(1)];
        let mut reserved = false;
        let checked = parallel::ordered(
            &mut workers,
            receiver.iter().map(Ok),
            |_, batch: ScanBatch| {
                let results: Vec<Checked> = batch
                    .pending
                    .iter()
                    .map(|p| {
                        check_bytes(
                            p.bytes.clone().map(|r| &batch.arena[r]),
                            &p.location,
                            &options,
                        )
                    })
                    .collect();
                Ok((batch, results))
            },
            |(mut batch, results)| {
                progress.set_position(batch.end);
                state.fold_batch(&batch.arena, &mut batch.pending, results)?;
                if !reserved {
                    // Room for every example, estimated from the first batch: growing by
                    // doubling would hold the old and the new copy at once near the end.
                    // Pages never written cost no memory, and a first batch of unusually
                    // short examples can overestimate a lot, so the reservation may fail
                    // without harm (strict overcommit): the vectors then grow as usual.
                    reserved = true;
                    let share = batch.end.max(1) as f64 / source.byte_len().max(1) as f64;
                    let smallest_example = br#"{"state":{},"action":{},"reward":0}"#.len() as u64;
                    let estimate = ((state.entries.len() as f64 / share * 1.05) as u64)
                        .min(source.byte_len() / smallest_example)
                        as usize;
                    let _ = state
                        .entries
                        .try_reserve_exact(estimate.saturating_sub(state.entries.len()));
                    let _ = state
                        .prints
                        .try_reserve_exact(estimate.saturating_sub(state.prints.len()));
                    if options.rewards {
                        let _ = state
                            .entry_rewards
                            .try_reserve_exact(estimate.saturating_sub(state.entry_rewards.len()));
                    }
                    if options.actions {
                        let _ = state
                            .actions
                            .try_reserve_exact(estimate.saturating_sub(state.actions.len()));
                    }
                }
                batch.arena.clear();
                // The scanner may have finished already; then the batch is simply freed.
                let _ = recycle.send(batch);
                Ok(())
            },
        );
        // Dropping the receiver first lets a scanner blocked on a full channel stop.
        drop(receiver);
        let scanned = match scanner.join() {
            Ok(result) => result,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        checked?;
        scanned
    })?;
    let mut warnings = Vec::new();
    if !scan.ignored_keys.is_empty() {
        warnings.push(Warning::IgnoredKeys {
            keys: scan.ignored_keys.clone(),
        });
    }
    let Fold {
        entries,
        rejected,
        first,
        rewards,
        mut prints,
        shapes,
        action_values,
        input_examples,
        mut reward_facts,
        filtered_examples,
        mut group_keys,
        mut hash_splits,
        mut state_prints,
        missing_group_key,
        mut entry_rewards,
        mut actions,
        action_labels,
        mut group_missing,
        ..
    } = state;
    warnings.extend(rejected.iter().map(|r| Warning::Rejected {
        location: r.location.to_string(),
        reason: r.reason.clone(),
    }));
    warnings.extend(rewards.warning());
    let policy = options.checks.policy.or(first.as_ref().map(|(p, _)| *p));
    if let Some(p) = policy {
        for ((key, value), (count, at)) in action_values {
            if !validate::known_action_values(p).contains(&value.as_str()) {
                warnings.push(Warning::UnknownActionValue {
                    key,
                    value: serde_json::Value::String(value).to_string(),
                    count,
                    first: at,
                });
            }
        }
    }
    let mut entries = entries;
    let mut entry_prints: Vec<u64> = prints.iter().map(|p| p.hash).collect();
    let mut duplicate_examples = 0;
    if options.dedupe {
        let keep = validate::first_of_each(&mut prints);
        duplicate_examples = keep.iter().filter(|k| !**k).count() as u64;
        if duplicate_examples > 0 {
            retain(&mut entries, &keep);
            retain(&mut entry_prints, &keep);
            retain(&mut state_prints, &keep);
            retain(&mut reward_facts, &keep);
            retain(&mut group_keys, &keep);
            retain(&mut hash_splits, &keep);
            retain(&mut entry_rewards, &keep);
            retain(&mut actions, &keep);
            retain(&mut group_missing, &keep);
        }
    } else {
        warnings.extend(validate::find_duplicates(&mut prints, |i| {
            entries[i as usize].location(source).to_string()
        }));
    }
    Ok(Inspection {
        entries,
        rejected,
        policy,
        input_examples,
        scan,
        warnings,
        shapes,
        reward_facts,
        filtered_examples,
        group_keys,
        hash_splits,
        prints: entry_prints,
        state_prints,
        missing_group_key,
        duplicate_examples,
        rewards: entry_rewards,
        actions,
        action_labels,
        group_missing,
    })
}

/// Keep the items whose `keep` is true (a vector left empty stays empty).
fn retain<T>(items: &mut Vec<T>, keep: &[bool]) {
    if items.is_empty() {
        return;
    }
    let mut i = 0;
    items.retain(|_| {
        i += 1;
        keep[i - 1]
    });
}

struct Fold<'a> {
    options: InspectOptions<'a>,
    entries: Vec<Entry>,
    rejected: Vec<RejectedExample>,
    first: Option<(Policy, Location)>,
    rewards: RewardRange,
    prints: Vec<Print>,
    shapes: ShapeTable,
    action_values: BTreeMap<(&'static str, String), (u64, String)>,
    input_examples: u64,
    reward_facts: Vec<RewardFacts>,
    filtered_examples: u64,
    group_keys: Vec<u64>,
    hash_splits: Vec<Split>,
    state_prints: Vec<u64>,
    missing_group_key: (u64, Option<Location>),
    entry_rewards: Vec<f64>,
    actions: Vec<u32>,
    action_labels: Vec<String>,
    action_ids: std::collections::HashMap<String, u32>,
    group_missing: Vec<bool>,
}

impl Fold<'_> {
    /// Take a checked batch into the inspection, in input order.
    fn fold_batch(
        &mut self,
        arena: &[u8],
        pending: &mut Vec<Pending>,
        results: Vec<Checked>,
    ) -> anyhow::Result<()> {
        let options = self.options;
        for (p, result) in pending.drain(..).zip(results) {
            self.input_examples += 1;
            let text = || {
                p.bytes.clone().map(|r| {
                    let b = &arena[r];
                    String::from_utf8_lossy(&b[..b.len().min(REJECTED_TEXT_LIMIT)]).into_owned()
                })
            };
            let facts = match result {
                Ok(f) => f,
                Err((location, reason, detected)) => {
                    // A state of another policy is reported as such, not as the first
                    // field it lacks.
                    let mixed = match (&self.first, detected, options.checks.policy) {
                        (Some((first, at)), Some(found), None) => {
                            validate::check_same_policy(found, *first, at).err()
                        }
                        _ => None,
                    };
                    match mixed {
                        Some(reason) => self.reject_with_hint(location, reason, text(), false)?,
                        None => self.reject(location, reason, text())?,
                    }
                    continue;
                }
            };
            if options.checks.policy.is_none() {
                match &self.first {
                    None => self.first = Some((facts.policy, p.location.clone())),
                    Some((first, at)) => {
                        if let Err(reason) = validate::check_same_policy(facts.policy, *first, at) {
                            // The message already says how to get past it.
                            self.reject_with_hint(p.location, reason, text(), false)?;
                            continue;
                        }
                    }
                }
            }
            if let (Some(min), Some(reward)) = (options.min_reward, facts.exact_reward) {
                if reward < min {
                    self.filtered_examples += 1;
                    continue;
                }
            }
            if let Some(f) = facts.reward_facts {
                self.reward_facts.push(f);
            }
            if let Some((key, found)) = facts.group_key {
                self.group_keys.push(key);
                if options.actions {
                    self.group_missing.push(!found);
                }
                if !found {
                    let missing = &mut self.missing_group_key;
                    missing.0 += 1;
                    missing.1.get_or_insert_with(|| p.location.clone());
                }
            }
            if let Some(split) = facts.hash_split {
                self.hash_splits.push(split);
            }
            self.state_prints.push(facts.state_print);
            if options.rewards {
                self.entry_rewards.push(facts.reward);
            }
            if let Some(label) = facts.action_label {
                let next = self.action_labels.len() as u32;
                let id = *self.action_ids.entry(label).or_insert_with_key(|l| {
                    self.action_labels.push(l.clone());
                    next
                });
                self.actions.push(id);
            }
            let position = self.entries.len() as u32;
            self.rewards.observe(facts.reward, &p.location);
            self.prints.push(Print {
                hash: facts.print,
                position,
            });
            if let Some(v) = facts.action_value {
                let key = facts.policy.action_key();
                let slot = self
                    .action_values
                    .entry((key, v))
                    .or_insert_with(|| (0, p.location.to_string()));
                slot.0 += 1;
            }
            let shape = match facts.shape {
                Some(signature) => self.shapes.intern_signature(signature, || {
                    p.bytes
                        .clone()
                        .and_then(|r| ExampleText::parse_validated(&arena[r]).ok())
                        .map(|t| t.schema())
                        .unwrap_or(Schema::Null)
                }),
                None => 0,
            };
            let entry = Entry::new(
                p.span,
                p.location.index as u32,
                shape,
                p.location.origin,
                facts.form,
            )
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "{}: the example starts beyond {} TiB into the input; expected a smaller file",
                    p.location,
                    MAX_OFFSET >> 40
                )
            })?;
            self.entries.push(entry);
        }
        Ok(())
    }

    fn reject(
        &mut self,
        location: Location,
        reason: String,
        text: Option<String>,
    ) -> anyhow::Result<()> {
        self.reject_with_hint(location, reason, text, true)
    }

    fn reject_with_hint(
        &mut self,
        location: Location,
        reason: String,
        text: Option<String>,
        can_skip: bool,
    ) -> anyhow::Result<()> {
        if !self.options.skip_invalid {
            return Err(ExampleError {
                location,
                reason,
                can_skip,
            }
            .into());
        }
        self.rejected.push(RejectedExample {
            location,
            reason,
            text,
        });
        Ok(())
    }
}

/// What checking one example found: its facts, or where and why it is invalid (and the
/// policy its state looks like, if any).
type Checked = Result<Facts, (Location, String, Option<Policy>)>;

type Failure = (Location, String, Option<Policy>);

/// serde_json's parse, then a walk per part: slower than `json::parse_and_walk`, but
/// every failure comes out with its message (the JSON error with its line and column, a
/// shape rule, a lone surrogate, a repeated key's path, nesting too deep).
fn parse_and_walk_slowly<'a>(
    bytes: &'a [u8],
    location: &Location,
    syntax: &dyn Fn(input::ParseFailure) -> Failure,
    fail: &dyn Fn(String, Option<Policy>) -> Failure,
) -> Result<json::Parsed<'a>, Failure> {
    let text = match ExampleText::parse(bytes) {
        Ok(t) => t,
        Err(TextError::Json(e)) => return Err(syntax(input::json_failure(bytes, &e, location))),
        Err(TextError::Shape(e)) => return Err((location.clone(), e.0, None)),
    };
    if memchr::memchr(b'\\', bytes).is_some() {
        if let Some(at) = json::find_lone_surrogate(bytes) {
            let escape =
                String::from_utf8_lossy(&bytes[at..(at + 6).min(bytes.len())]).into_owned();
            let mut place = location.clone();
            let (line, column) = input::line_col(bytes, at, location);
            place.line = line;
            place.column = Some(column);
            return Err((
                place,
                format!(
                    "a string holds the escape {escape}, half of a UTF-16 surrogate pair with no other half, which is not Unicode; expected valid text (Python's json.dumps writes these for broken strings)"
                ),
                None,
            ));
        }
    }
    let walked = json::walk_example(&text, bytes).map_err(|e| match e {
        WalkError::RepeatedKey(path) => fail(
            format!("{path} appears twice in one object; expected each key once (datasets and strict JSON readers reject repeated keys)"),
            None,
        ),
        WalkError::TooDeep => fail(
            format!(
                "nesting is deeper than {} levels; expected an example nested at most {} deep",
                input::MAX_DEPTH,
                input::MAX_DEPTH
            ),
            None,
        ),
        // serde_json accepted it, so this is a disagreement between the two readers.
        WalkError::Invalid => fail(
            "the example is JSON that rlx's own reader cannot follow; please report it".into(),
            None,
        ),
    })?;
    let state = RawMap::parse(text.state).map_err(|e| fail(e.to_string(), None))?;
    let action = RawMap::parse(text.action).map_err(|e| fail(e.to_string(), None))?;
    Ok(json::Parsed {
        text,
        walked,
        state,
        action,
    })
}

fn check_bytes(bytes: Option<&[u8]>, location: &Location, options: &InspectOptions<'_>) -> Checked {
    let Some(bytes) = bytes else {
        return Err((
            location.clone(),
            format!(
                "the example is longer than {} MiB; expected examples of at most that size",
                input::MAX_EXAMPLE_BYTES >> 20
            ),
            None,
        ));
    };
    let syntax = |f: input::ParseFailure| {
        let mut at = location.clone();
        if let Some(line) = f.line {
            at.line = line;
            at.column = f.column;
        }
        (at, f.message, None)
    };
    let utf8 = input::check_utf8(bytes, location).map_err(syntax)?;
    let fail = |reason: String, detected: Option<Policy>| (location.clone(), reason, detected);
    // One pass validates and walks a good example; anything else takes the slow path,
    // which finds what is wrong and says so.
    let json::Parsed {
        text,
        walked,
        state: groups,
        action,
    } = match json::parse_and_walk(utf8) {
        Some(parsed) => parsed,
        None => parse_and_walk_slowly(bytes, location, &syntax, &fail)?,
    };
    // The groups' members are read only when a format renders prompts.
    let state = if options.checks.needs_prompt_fields {
        Some(prompt::StateText::parse(text.state).map_err(|e| fail(e.to_string(), None))?)
    } else {
        None
    };
    let detected = Policy::detect_by(|k| groups.contains_key(k));
    let policy = validate::check_policy(
        detected,
        || validate::keys_of(groups.keys()),
        &options.checks,
    )
    .map_err(|r| fail(r, detected))?;
    validate::check_action(policy, &action).map_err(|r| fail(r, detected))?;
    // A prompt template replaces the built-in texts and their field table: it is its
    // own check, by rendering.
    if let (Some(state), None) = (&state, options.trial.and_then(|t| t.prompt.as_ref())) {
        prompt::check_state_fields(policy, state).map_err(|r| fail(r, detected))?;
    }
    if let Some(trial) = options.trial {
        trial
            .check(policy, &text, utf8.as_bytes(), state.as_ref())
            .map_err(|r| fail(r, detected))?;
    }
    // Only values the policy does not document are counted (and warned about).
    let action_value = action
        .get(policy.action_key())
        .filter(|v| v.get().starts_with('"'))
        .and_then(json::string_of)
        .filter(|v| !validate::known_action_values(policy).contains(&v.as_ref()))
        .map(Cow::into_owned);
    let action_label = options.actions.then(|| {
        action
            .get(policy.action_key())
            .map_or_else(String::new, |v| {
                match v
                    .get()
                    .starts_with('"')
                    .then(|| json::string_of(v))
                    .flatten()
                {
                    Some(s) => s.into_owned(),
                    None => v.get().trim().to_string(),
                }
            })
    });
    let exact_reward = if options.min_reward.is_some() || options.reward_facts.is_some() {
        let reward = Reward::parse(text.reward.get())
            .ok_or_else(|| fail("reward is not a decimal number".into(), detected))?;
        Some(reward)
    } else {
        None
    };
    let reward_facts = match (options.reward_facts, exact_reward) {
        (Some(by), Some(reward)) => {
            let group = by.and_then(|by| group::pair_key(by, policy, &text, walked.is_compact));
            Some(RewardFacts {
                group: group.unwrap_or(0),
                has_group: group.is_some(),
                action: group::action_fingerprint(text.action, walked.is_compact),
                reward,
            })
        }
        _ => None,
    };
    let (group_key, hash_split) = if options.group_by.is_some() || options.hash_split.is_some() {
        let (key, found) = group::split_key(options.group_by, &text, utf8, walked.is_compact);
        (
            options
                .group_by
                .map(|_| (group::hash_parts([key.as_bytes()]), found)),
            options
                .hash_split
                .map(|h| h.split_of(group::hash_unit_after(&h.prefix, &key))),
        )
    } else {
        (None, None)
    };
    Ok(Facts {
        group_key,
        hash_split,
        state_print: walked.state_print,
        policy,
        reward: text.reward_value,
        print: walked.print,
        shape: options.collect_shapes.then_some(walked.shape),
        form: Form::of(&text, walked.is_compact),
        action_value,
        exact_reward,
        reward_facts,
        action_label,
    })
}
