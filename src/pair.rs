//! Preference pairs and KTO labels, from the index alone: per example its group key's
//! hash, its exact reward and its action's fingerprint (`RewardFacts`), never its text,
//! so a million examples pair in a few tens of megabytes. Pure functions over one
//! split's ids at a time, so no pair can span two splits.
//!
//! The rule (README "Pairs"): within a group, examples are ordered by reward, highest
//! first, ties in split order. Two examples with the same rendered action are never
//! paired, and a pair needs chosen − rejected > the minimum margin, exactly.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use serde::Serialize;

use crate::objective::{Objective, ObjectiveConfig};
use crate::reward::Reward;

/// What pairing and labelling need to know about one example, kept per index entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RewardFacts {
    /// The hash of the group key; meaningless when `has_group` is false.
    pub group: u64,
    /// The fingerprint of the action's compact text: equal actions, equal fingerprints.
    pub action: u64,
    pub reward: Reward,
    pub has_group: bool,
}

/// `--pairs`: how many pairs a group gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PairMode {
    /// At most one pair per group: its best example against the lowest-reward example
    /// whose action differs.
    BestWorst,
    /// Every pair with different actions, largest margin first, up to
    /// --max-pairs-per-group.
    All,
}

impl PairMode {
    pub fn name(self) -> &'static str {
        match self {
            PairMode::BestWorst => "best-worst",
            PairMode::All => "all",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct PairRule {
    pub mode: PairMode,
    /// With `PairMode::All`: the most pairs one group gives.
    pub max_per_group: usize,
    /// A pair needs chosen − rejected strictly above this.
    pub min_margin: Reward,
}

/// A preference pair: index entry ids, and the reward gap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pair {
    pub chosen: u32,
    pub rejected: u32,
    pub margin: Reward,
}

/// Examples of a split that are in no pair, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Unpaired {
    /// The example lacks a path of the group key.
    pub no_group_key: u64,
    /// No other example shares its group key.
    pub alone_in_group: u64,
    /// Every other example of its group has the same action.
    pub no_different_action: u64,
    /// Every example of its group with another action is within the minimum margin.
    pub below_margin: u64,
    /// It could have been paired, but its group's pairs (one with best-worst, the cap
    /// with all) were made of other examples.
    pub not_selected: u64,
}

impl Unpaired {
    pub fn total(&self) -> u64 {
        self.no_group_key
            + self.alone_in_group
            + self.no_different_action
            + self.below_margin
            + self.not_selected
    }

    pub fn add(&mut self, other: &Unpaired) {
        self.no_group_key += other.no_group_key;
        self.alone_in_group += other.alone_in_group;
        self.no_different_action += other.no_different_action;
        self.below_margin += other.below_margin;
        self.not_selected += other.not_selected;
    }
}

/// The pairs of one split, in the order they are written, and what was left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pairing {
    pub pairs: Vec<Pair>,
    /// Examples in at least one pair.
    pub used_examples: u64,
    pub unpaired: Unpaired,
}

/// One grouped example: its position in the split, and its facts.
#[derive(Clone, Copy)]
struct Member {
    position: u32,
    id: u32,
    facts: RewardFacts,
}

/// Pair the examples of one split. `ids` are index entry ids in split order; `facts`
/// is indexed by entry id. Pairs come out in split order of their chosen example (then
/// of their rejected one), so the file follows the seeded shuffle.
pub fn pair_split(ids: &[u32], facts: &[RewardFacts], rule: &PairRule) -> Pairing {
    let mut unpaired = Unpaired::default();
    let mut members: Vec<Member> = Vec::with_capacity(ids.len());
    for (position, &id) in ids.iter().enumerate() {
        let f = facts[id as usize];
        if f.has_group {
            members.push(Member {
                position: position as u32,
                id,
                facts: f,
            });
        } else {
            unpaired.no_group_key += 1;
        }
    }
    // Groups together; inside each, reward highest first, ties in split order.
    members.sort_unstable_by(|a, b| {
        a.facts
            .group
            .cmp(&b.facts.group)
            .then_with(|| b.facts.reward.cmp(&a.facts.reward))
            .then_with(|| a.position.cmp(&b.position))
    });
    // (chosen position, rejected position, pair)
    let mut found: Vec<(u32, u32, Pair)> = Vec::new();
    let mut used = 0u64;
    let mut start = 0;
    while start < members.len() {
        let group = members[start].facts.group;
        let end = start
            + members[start..]
                .iter()
                .position(|m| m.facts.group != group)
                .unwrap_or(members.len() - start);
        let g = &members[start..end];
        let before = found.len();
        match rule.mode {
            PairMode::BestWorst => pair_best_worst(g, rule, &mut found, &mut unpaired),
            PairMode::All => pair_all(g, rule, &mut found, &mut unpaired),
        }
        used += count_used(&found[before..]);
        start = end;
    }
    found.sort_unstable_by_key(|(c, r, _)| (*c, *r));
    Pairing {
        pairs: found.into_iter().map(|(_, _, p)| p).collect(),
        used_examples: used,
        unpaired,
    }
}

fn count_used(pairs: &[(u32, u32, Pair)]) -> u64 {
    let mut ids: Vec<u32> = pairs.iter().flat_map(|(c, r, _)| [*c, *r]).collect();
    ids.sort_unstable();
    ids.dedup();
    ids.len() as u64
}

fn make_pair(chosen: &Member, rejected: &Member) -> (u32, u32, Pair) {
    (
        chosen.position,
        rejected.position,
        Pair {
            chosen: chosen.id,
            rejected: rejected.id,
            margin: chosen.facts.reward.minus(rejected.facts.reward),
        },
    )
}

fn pair_best_worst(
    g: &[Member],
    rule: &PairRule,
    found: &mut Vec<(u32, u32, Pair)>,
    unpaired: &mut Unpaired,
) {
    let n = g.len() as u64;
    if n == 1 {
        unpaired.alone_in_group += 1;
        return;
    }
    let best = &g[0];
    let Some(worst) = g.iter().rev().find(|m| m.facts.action != best.facts.action) else {
        unpaired.no_different_action += n;
        return;
    };
    if best.facts.reward.minus(worst.facts.reward) > rule.min_margin {
        found.push(make_pair(best, worst));
        unpaired.not_selected += n - 2;
    } else {
        unpaired.below_margin += n;
    }
}

/// The group's examples in order, with the ends a partner is looked for at: for each
/// end, the outermost example and the outermost one whose action differs from it.
struct Ends {
    outer: usize,
    other: Option<usize>,
}

impl Ends {
    fn find(g: &[Member], order: impl Iterator<Item = usize> + Clone) -> Ends {
        let outer = order.clone().next().expect("a group has a member");
        let other = order
            .into_iter()
            .find(|&i| g[i].facts.action != g[outer].facts.action);
        Ends { outer, other }
    }

    /// The outermost example whose action differs from `g[i]`'s.
    fn partner(&self, g: &[Member], i: usize) -> Option<usize> {
        if g[self.outer].facts.action != g[i].facts.action {
            Some(self.outer)
        } else {
            self.other
        }
    }
}

/// A candidate pair in the heap: the largest margin first, then the higher chosen,
/// then the lower rejected.
#[derive(PartialEq, Eq)]
struct Candidate {
    margin: Reward,
    chosen: Reverse<usize>,
    rejected: usize,
}

impl Ord for Candidate {
    fn cmp(&self, other: &Candidate) -> Ordering {
        self.margin
            .cmp(&other.margin)
            .then_with(|| self.chosen.cmp(&other.chosen))
            .then_with(|| self.rejected.cmp(&other.rejected))
    }
}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Candidate) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Every pair (i above j) with different actions and a gap above the margin, largest
/// gap first, at most `max_per_group`. Each chosen example keeps a pointer to its next
/// partner from the bottom, found in one step, so the heap holds one candidate per
/// example and every pop is a real pair: n log n plus log n per pair, never n².
fn pair_all(
    g: &[Member],
    rule: &PairRule,
    found: &mut Vec<(u32, u32, Pair)>,
    unpaired: &mut Unpaired,
) {
    let n = g.len();
    if n == 1 {
        unpaired.alone_in_group += 1;
        return;
    }
    let bottom = Ends::find(g, (0..n).rev());
    let top = Ends::find(g, 0..n);
    let gap = |i: usize, j: usize| g[i].facts.reward.minus(g[j].facts.reward);
    // For each j, the nearest example above it with another action: the next partner
    // below a pointer is found in one step, whatever the runs of equal actions.
    let mut other_above: Vec<Option<usize>> = vec![None; n];
    for j in 1..n {
        other_above[j] = if g[j - 1].facts.action != g[j].facts.action {
            Some(j - 1)
        } else {
            other_above[j - 1]
        };
    }
    let next_below = |i: usize, from: usize| -> Option<usize> {
        let k = from.checked_sub(1).filter(|&k| k > i)?;
        if g[k].facts.action != g[i].facts.action {
            return Some(k);
        }
        // g[k] has i's action, so the nearest above it with another action is the one.
        other_above[k].filter(|&p| p > i)
    };
    let mut heap: BinaryHeap<Candidate> = (0..n)
        .filter_map(|i| {
            let j = bottom.partner(g, i).filter(|&j| j > i)?;
            Some(Candidate {
                margin: gap(i, j),
                chosen: Reverse(i),
                rejected: j,
            })
        })
        .collect();
    let mut used = vec![false; n];
    let mut made = 0;
    while made < rule.max_per_group {
        let Some(c) = heap.pop() else { break };
        if c.margin <= rule.min_margin {
            break;
        }
        let (i, j) = (c.chosen.0, c.rejected);
        found.push(make_pair(&g[i], &g[j]));
        used[i] = true;
        used[j] = true;
        made += 1;
        if let Some(next) = next_below(i, j) {
            heap.push(Candidate {
                margin: gap(i, next),
                chosen: Reverse(i),
                rejected: next,
            });
        }
    }
    for (i, m) in g.iter().enumerate() {
        if used[i] {
            continue;
        }
        let (Some(hi), Some(lo)) = (top.partner(g, i), bottom.partner(g, i)) else {
            unpaired.no_different_action += 1;
            continue;
        };
        let reward = m.facts.reward;
        let can_pair = g[hi].facts.reward.minus(reward) > rule.min_margin
            || reward.minus(g[lo].facts.reward) > rule.min_margin;
        if can_pair {
            unpaired.not_selected += 1;
        } else {
            unpaired.below_margin += 1;
        }
    }
}

/// KTO's labels for one split: desirable above the threshold, undesirable below, and
/// examples exactly at it left out (counted), in split order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Labelling {
    pub ids: Vec<u32>,
    pub desirable: u64,
    pub undesirable: u64,
    pub at_threshold: u64,
}

pub fn label_split(ids: &[u32], rewards: impl Fn(u32) -> Reward, threshold: Reward) -> Labelling {
    let mut out = Labelling {
        ids: Vec::with_capacity(ids.len()),
        ..Labelling::default()
    };
    for &id in ids {
        match rewards(id).cmp(&threshold) {
            Ordering::Greater => out.desirable += 1,
            Ordering::Less => out.undesirable += 1,
            Ordering::Equal => {
                out.at_threshold += 1;
                continue;
            }
        }
        out.ids.push(id);
    }
    out
}

/// Whether a reward is KTO-desirable: above the threshold.
pub fn is_desirable(reward: Reward, threshold: Reward) -> bool {
    reward > threshold
}

/// The class weights TRL's KTO docs recommend for an imbalance: the ratio of
/// desirable_weight · positives to undesirable_weight · negatives in 1:1 to 4:3, the
/// less common class upweighted and the other left at 1 (KTOTrainer checks 1.33).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KtoWeights {
    pub desirable_weight: f64,
    pub undesirable_weight: f64,
    /// The range the upweighted class's weight may take.
    pub range: [f64; 2],
    /// Which weight `range` is for: "desirable_weight" or "undesirable_weight".
    pub weighted: &'static str,
}

pub fn kto_weights(desirable: u64, undesirable: u64) -> Option<KtoWeights> {
    if desirable == 0 || undesirable == 0 {
        return None;
    }
    let (d, u) = (desirable as f64, undesirable as f64);
    let round = |x: f64| (x * 100.0).round() / 100.0;
    if desirable <= undesirable {
        let (lo, hi) = (u / d, 1.33 * u / d);
        Some(KtoWeights {
            desirable_weight: round((lo + hi) / 2.0),
            undesirable_weight: 1.0,
            range: [round(lo), round(hi)],
            weighted: "desirable_weight",
        })
    } else {
        let (lo, hi) = (d / (1.33 * u), d / u);
        Some(KtoWeights {
            desirable_weight: 1.0,
            undesirable_weight: round((lo + hi) / 2.0),
            range: [round(lo), round(hi)],
            weighted: "undesirable_weight",
        })
    }
}

/// What one split becomes under an objective: the ids of the examples its rows are
/// made of, in row order (for pairs: chosen, rejected, chosen, rejected …), and the
/// accounting of how they were chosen.
#[derive(Debug, Clone, Default)]
pub struct SplitRows {
    pub ids: Vec<u32>,
    /// dpo, reward: the pairing (its pairs are also `ids`, two by two).
    pub pairing: Option<Pairing>,
    /// kto: the labelling (its `ids` moved into `ids`).
    pub labelling: Option<Labelling>,
}

/// The rows of one split, from its ids in split order.
pub fn rows_of_split(
    config: &ObjectiveConfig,
    rule: &PairRule,
    ids: &[u32],
    facts: &[RewardFacts],
) -> SplitRows {
    match config.objective {
        Objective::Sft => SplitRows {
            ids: ids.to_vec(),
            ..SplitRows::default()
        },
        Objective::Kto => {
            let mut labelling =
                label_split(ids, |id| facts[id as usize].reward, config.kto_threshold);
            SplitRows {
                ids: std::mem::take(&mut labelling.ids),
                labelling: Some(labelling),
                ..SplitRows::default()
            }
        }
        Objective::Dpo | Objective::Reward => {
            let pairing = pair_split(ids, facts, rule);
            let ids = pairing
                .pairs
                .iter()
                .flat_map(|p| [p.chosen, p.rejected])
                .collect();
            SplitRows {
                ids,
                pairing: Some(pairing),
                ..SplitRows::default()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// (group, action, reward) per example; `None` group = no key.
    fn facts(rows: &[(Option<u64>, u64, &str)]) -> Vec<RewardFacts> {
        rows.iter()
            .map(|(g, a, r)| RewardFacts {
                group: g.unwrap_or(0),
                action: *a,
                reward: r.parse().unwrap(),
                has_group: g.is_some(),
            })
            .collect()
    }

    fn rule(mode: PairMode, cap: usize) -> PairRule {
        PairRule {
            mode,
            max_per_group: cap,
            min_margin: "0.1".parse().unwrap(),
        }
    }

    fn ids(n: usize) -> Vec<u32> {
        (0..n as u32).collect()
    }

    fn pairs_of(p: &Pairing) -> Vec<(u32, u32, String)> {
        p.pairs
            .iter()
            .map(|p| (p.chosen, p.rejected, p.margin.to_string()))
            .collect()
    }

    #[test]
    fn best_worst_pairs_the_best_with_the_lowest_different_action() {
        let f = facts(&[
            (Some(1), 10, "0.2"),
            (Some(1), 20, "0.9"),
            (Some(1), 20, "-1"), // same action as the best: never its partner
            (Some(1), 30, "0.5"),
            (Some(1), 30, "-0.5"),
        ]);
        let p = pair_split(&ids(5), &f, &rule(PairMode::BestWorst, 8));
        assert_eq!(pairs_of(&p), vec![(1, 4, "1.4".into())]);
        assert_eq!(p.used_examples, 2);
        assert_eq!(p.unpaired.not_selected, 3);
    }

    #[test]
    fn a_gap_of_exactly_the_margin_makes_no_pair() {
        for (a, b) in [("0.8", "0.7"), ("0.3", "0.2")] {
            let f = facts(&[(Some(1), 1, a), (Some(1), 2, b)]);
            let p = pair_split(&ids(2), &f, &rule(PairMode::BestWorst, 8));
            assert!(p.pairs.is_empty(), "{a} vs {b}");
            assert_eq!(p.unpaired.below_margin, 2);
        }
        let f = facts(&[(Some(1), 1, "0.8"), (Some(1), 2, "0.69")]);
        let p = pair_split(&ids(2), &f, &rule(PairMode::BestWorst, 8));
        assert_eq!(pairs_of(&p), vec![(0, 1, "0.11".into())]);
    }

    #[test]
    fn identical_actions_never_pair_and_keyless_examples_are_counted() {
        let f = facts(&[
            (Some(1), 7, "1"),
            (Some(1), 7, "-1"),
            (None, 8, "0.5"),
            (Some(2), 9, "0"),
        ]);
        let p = pair_split(&ids(4), &f, &rule(PairMode::BestWorst, 8));
        assert!(p.pairs.is_empty());
        assert_eq!(
            p.unpaired,
            Unpaired {
                no_group_key: 1,
                alone_in_group: 1,
                no_different_action: 2,
                below_margin: 0,
                not_selected: 0,
            }
        );
    }

    #[test]
    fn ties_keep_split_order() {
        // Both best at 1.0: the earlier in split order is chosen; both worst at 0: the
        // later in split order is the lowest.
        let f = facts(&[
            (Some(1), 1, "0"),
            (Some(1), 2, "1.0"),
            (Some(1), 3, "1"),
            (Some(1), 4, "0"),
        ]);
        let order = [3, 2, 1, 0];
        let p = pair_split(&order, &f, &rule(PairMode::BestWorst, 8));
        assert_eq!(pairs_of(&p), vec![(2, 0, "1".into())]);
    }

    #[test]
    fn all_takes_the_largest_margins_up_to_the_cap() {
        let f = facts(&[
            (Some(1), 1, "1"),
            (Some(1), 2, "0.5"),
            (Some(1), 3, "0"),
            (Some(1), 1, "-1"),
        ]);
        let all = pair_split(&ids(4), &f, &rule(PairMode::All, 8));
        // 0-3 share an action. Gaps: 0-2 1, 0-1 0.5, 1-2 0.5, 1-3 1.5, 2-3 1.
        assert_eq!(
            pairs_of(&all),
            vec![
                (0, 1, "0.5".into()),
                (0, 2, "1".into()),
                (1, 2, "0.5".into()),
                (1, 3, "1.5".into()),
                (2, 3, "1".into()),
            ]
        );
        assert_eq!(all.used_examples, 4);
        let capped = pair_split(&ids(4), &f, &rule(PairMode::All, 2));
        assert_eq!(
            pairs_of(&capped),
            vec![(0, 2, "1".into()), (1, 3, "1.5".into())]
        );
    }

    #[test]
    fn all_counts_why_an_example_is_left_out() {
        let f = facts(&[
            (Some(1), 1, "1"),
            (Some(1), 2, "0"),
            (Some(1), 2, "0.95"), // within the margin of the only other action
            (Some(1), 1, "0.9"),  // could pair with 1 (action 2), beyond the cap
        ]);
        let p = pair_split(&ids(4), &f, &rule(PairMode::All, 1));
        assert_eq!(pairs_of(&p), vec![(0, 1, "1".into())]);
        assert_eq!(p.unpaired.below_margin, 1);
        assert_eq!(p.unpaired.not_selected, 1);
    }

    #[test]
    fn kto_labels_leave_out_the_threshold() {
        let rewards = ["0.5", "0", "-0.5", "0.0"].map(|s| s.parse::<Reward>().unwrap());
        let l = label_split(&[0, 1, 2, 3], |i| rewards[i as usize], Reward::ZERO);
        assert_eq!(l.ids, vec![0, 2]);
        assert_eq!((l.desirable, l.undesirable, l.at_threshold), (1, 1, 2));
    }

    #[test]
    fn kto_weights_upweight_the_rarer_class_into_trls_range() {
        let w = kto_weights(100, 300).unwrap();
        assert_eq!(w.weighted, "desirable_weight");
        assert_eq!(w.range, [3.0, 3.99]);
        let ratio = w.desirable_weight * 100.0 / 300.0;
        assert!((1.0..=1.33).contains(&ratio), "{ratio}");
        let w = kto_weights(400, 100).unwrap();
        assert_eq!(w.weighted, "undesirable_weight");
        let ratio = 400.0 / (w.undesirable_weight * 100.0);
        assert!((1.0..=1.33).contains(&ratio), "{ratio}");
        assert!(kto_weights(0, 5).is_none());
    }

    /// The brute force the heap must agree with: every valid pair, largest gap first.
    fn all_pairs_slowly(order: &[u32], f: &[RewardFacts], rule: &PairRule) -> Vec<(u32, u32)> {
        let mut out = Vec::new();
        let mut groups: Vec<u64> = order
            .iter()
            .filter(|&&i| f[i as usize].has_group)
            .map(|&i| f[i as usize].group)
            .collect();
        groups.sort_unstable();
        groups.dedup();
        for g in groups {
            let mut m: Vec<(usize, u32)> = order
                .iter()
                .enumerate()
                .filter(|(_, &i)| f[i as usize].has_group && f[i as usize].group == g)
                .map(|(p, &i)| (p, i))
                .collect();
            m.sort_by(|a, b| {
                f[b.1 as usize]
                    .reward
                    .cmp(&f[a.1 as usize].reward)
                    .then(a.0.cmp(&b.0))
            });
            let mut cands = Vec::new();
            for i in 0..m.len() {
                for j in i + 1..m.len() {
                    let (a, b) = (f[m[i].1 as usize], f[m[j].1 as usize]);
                    let gap = a.reward.minus(b.reward);
                    if a.action != b.action && gap > rule.min_margin {
                        cands.push((gap, Reverse(i), j));
                    }
                }
            }
            cands.sort_by(|a, b| b.cmp(a));
            for (_, Reverse(i), j) in cands.into_iter().take(rule.max_per_group) {
                out.push((m[i].0, m[j].0, m[i].1, m[j].1));
            }
        }
        out.sort();
        out.into_iter().map(|(_, _, c, r)| (c, r)).collect()
    }

    proptest! {
        #[test]
        fn all_agrees_with_brute_force_and_accounts_for_every_example(
            rows in prop::collection::vec((0u64..3, 0u64..3, -4i32..5, any::<bool>()), 1..40),
            cap in 1usize..6,
            seed in any::<u64>(),
        ) {
            let f: Vec<RewardFacts> = rows.iter().map(|(g, a, r, has)| RewardFacts {
                group: *g,
                action: *a,
                reward: format!("{}", *r as f64 / 4.0).parse().unwrap(),
                has_group: *has || *g != 0,
            }).collect();
            let mut order = ids(f.len());
            let mut s = seed;
            for i in (1..order.len()).rev() {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                order.swap(i, (s >> 33) as usize % (i + 1));
            }
            for mode in [PairMode::All, PairMode::BestWorst] {
                let r = rule(mode, cap);
                let p = pair_split(&order, &f, &r);
                prop_assert_eq!(p.used_examples + p.unpaired.total(), f.len() as u64);
                for pair in &p.pairs {
                    let (c, rj) = (f[pair.chosen as usize], f[pair.rejected as usize]);
                    prop_assert!(c.group == rj.group && c.action != rj.action);
                    prop_assert!(pair.margin > r.min_margin);
                }
                if mode == PairMode::All {
                    let got: Vec<(u32, u32)> = p.pairs.iter().map(|p| (p.chosen, p.rejected)).collect();
                    prop_assert_eq!(got, all_pairs_slowly(&order, &f, &r));
                } else {
                    prop_assert!(p.pairs.len() <= all_pairs_slowly(&order, &f, &rule(PairMode::All, 1)).len());
                }
            }
        }
    }
}
