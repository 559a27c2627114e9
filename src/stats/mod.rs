//! Distributions of a log: rewards (quantiles, signs, a histogram), actions by the
//! policy's action key, group sizes and token counts, per split. Computed from the
//! scan's per-entry rewards and action values; shared by `rlx stats`, the export
//! summary's reward line and `--plots`. `draw` puts them on a terminal, `svg` in a file.

pub mod draw;
pub mod plots;
pub mod svg;

pub use plots::{split_rewards, write_plots, Plot};

use std::collections::HashMap;

use serde::Serialize;

/// The percentiles reported, with their JSON names.
const PERCENTILES: [(f64, &str); 5] = [
    (5.0, "p5"),
    (25.0, "p25"),
    (50.0, "p50"),
    (75.0, "p75"),
    (95.0, "p95"),
];

/// The histogram's bins unless `--bins` says otherwise.
pub const DEFAULT_BINS: usize = 20;

/// A distribution of numbers: count, extremes, percentiles (numpy's default, linear
/// interpolation between the closest ranks) and the mean.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Spread {
    pub count: u64,
    pub min: f64,
    pub p5: f64,
    pub p25: f64,
    pub p50: f64,
    pub p75: f64,
    pub p95: f64,
    pub max: f64,
    pub mean: f64,
    pub sum: f64,
}

impl Spread {
    /// The spread of `values`; None when there are none.
    pub fn of(mut values: Vec<f64>) -> Option<Spread> {
        Spread::sorting(&mut values)
    }

    /// The spread of `values`, which are left sorted.
    pub fn sorting(values: &mut [f64]) -> Option<Spread> {
        if values.is_empty() {
            return None;
        }
        // Summed in input order before sorting, so the mean does not depend on how
        // the values were gathered.
        let sum: f64 = values.iter().sum();
        values.sort_by(f64::total_cmp);
        let q = |p: f64| quantile(values, p / 100.0);
        let [p5, p25, p50, p75, p95] = PERCENTILES.map(|(p, _)| q(p));
        Some(Spread {
            count: values.len() as u64,
            min: values[0],
            p5,
            p25,
            p50,
            p75,
            p95,
            max: values[values.len() - 1],
            mean: sum / values.len() as f64,
            sum,
        })
    }

    /// The percentiles with their names, in order.
    pub fn percentiles(&self) -> [(&'static str, f64); 5] {
        let values = [self.p5, self.p25, self.p50, self.p75, self.p95];
        let mut out = [("", 0.0); 5];
        for (i, ((_, name), v)) in PERCENTILES.iter().zip(values).enumerate() {
            out[i] = (*name, v);
        }
        out
    }
}

/// The `q` quantile (0..=1) of sorted values, as numpy's `quantile(method="linear")`.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    let at = (sorted.len() - 1) as f64 * q;
    let below = at.floor() as usize;
    let above = (below + 1).min(sorted.len() - 1);
    let t = at - below as f64;
    let (a, b) = (sorted[below], sorted[above]);
    // numpy's _lerp: from the nearer end, so t = 1 gives b exactly.
    if t >= 0.5 {
        b - (b - a) * (1.0 - t)
    } else {
        a + (b - a) * t
    }
}

/// Equal-width bins from the smallest value to the largest, as `numpy.histogram(values,
/// bins)`: each bin holds [edge, next edge), the last one also its right edge; with one
/// distinct value the range is that value ± 0.5.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Histogram {
    pub edges: Vec<f64>,
    pub counts: Vec<u64>,
}

impl Histogram {
    pub fn of(values: &[f64], bins: usize, min: f64, max: f64) -> Histogram {
        let bins = bins.max(1);
        let (first, last) = if min == max {
            (min - 0.5, max + 0.5)
        } else {
            (min, max)
        };
        // numpy.linspace: i * step + start, the last edge exactly `last`.
        let step = (last - first) / bins as f64;
        let mut edges: Vec<f64> = (0..=bins).map(|i| i as f64 * step + first).collect();
        edges[bins] = last;
        let mut counts = vec![0u64; bins];
        let width = last - first;
        for &v in values {
            let guess = ((v - first) / width * bins as f64) as usize;
            let mut i = guess.min(bins - 1);
            // The guess can be a bin off near an edge; the edges decide.
            while i > 0 && v < edges[i] {
                i -= 1;
            }
            while i + 1 < bins && v >= edges[i + 1] {
                i += 1;
            }
            counts[i] += 1;
        }
        Histogram { edges, counts }
    }
}

/// The rewards of one split.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RewardStats {
    #[serde(flatten)]
    pub spread: Spread,
    pub negative: u64,
    pub zero: u64,
    pub positive: u64,
    pub histogram: Histogram,
}

impl RewardStats {
    pub fn of(mut rewards: Vec<f64>, bins: usize) -> Option<RewardStats> {
        let negative = rewards.iter().filter(|r| **r < 0.0).count() as u64;
        let zero = rewards.iter().filter(|r| **r == 0.0).count() as u64;
        let positive = rewards.len() as u64 - negative - zero;
        let spread = Spread::sorting(&mut rewards)?;
        Some(RewardStats {
            histogram: Histogram::of(&rewards, bins, spread.min, spread.max),
            spread,
            negative,
            zero,
            positive,
        })
    }
}

/// One value of the policy's action key.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ActionStats {
    /// A string value as its text, any other as its JSON.
    pub value: String,
    pub count: u64,
    /// count / the split's examples.
    pub share: f64,
    pub mean_reward: f64,
}

/// The actions of one split, most frequent first (then by value).
pub fn actions_of(
    indices: &[u32],
    actions: &[u32],
    labels: &[String],
    rewards: &[f64],
) -> Vec<ActionStats> {
    let mut by_id: Vec<(u64, f64)> = vec![(0, 0.0); labels.len()];
    for &i in indices {
        let slot = &mut by_id[actions[i as usize] as usize];
        slot.0 += 1;
        slot.1 += rewards[i as usize];
    }
    let total = indices.len().max(1) as f64;
    let mut out: Vec<ActionStats> = by_id
        .into_iter()
        .enumerate()
        .filter(|(_, (count, _))| *count > 0)
        .map(|(id, (count, sum))| ActionStats {
            value: labels[id].clone(),
            count,
            share: count as f64 / total,
            mean_reward: sum / count as f64,
        })
        .collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    out
}

/// How the examples of one split fall into groups (`--group-by`).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GroupSizes {
    pub path: String,
    pub groups: u64,
    /// Groups of one example.
    pub singletons: u64,
    /// Examples without the path (each a group of its own, as the split treats them).
    pub missing_key: u64,
    /// The size of the largest group, and its share of the split's examples.
    pub largest: u64,
    pub largest_share: f64,
    pub sizes: Spread,
}

pub fn groups_of(
    path: &str,
    indices: &[u32],
    keys: &[u64],
    missing: &[bool],
) -> Option<GroupSizes> {
    let mut sizes: HashMap<u64, u64> = HashMap::new();
    for &i in indices {
        *sizes.entry(keys[i as usize]).or_default() += 1;
    }
    // Sorted so the spread's sum runs in the same order on every run.
    let mut counts: Vec<u64> = sizes.into_values().collect();
    counts.sort_unstable();
    let largest = counts.last().copied()?;
    Some(GroupSizes {
        path: path.to_string(),
        groups: counts.len() as u64,
        singletons: counts.iter().filter(|c| **c == 1).count() as u64,
        missing_key: indices.iter().filter(|i| missing[**i as usize]).count() as u64,
        largest,
        largest_share: largest as f64 / indices.len() as f64,
        sizes: Spread::of(counts.into_iter().map(|c| c as f64).collect())?,
    })
}

/// Token counts of one split, as a format renders the examples.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TokenStats {
    pub format: String,
    pub model: String,
    #[serde(flatten)]
    pub spread: Spread,
    /// Examples over the model's training limit.
    pub over_limit: u64,
}

/// The statistics of one split (or of the whole input, `split: "all"`).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SplitStats {
    pub split: String,
    pub examples: u64,
    pub reward: Option<RewardStats>,
    /// The policy's action key (`decision`, `shouldRetrieve`, `action`).
    pub action_key: String,
    pub actions: Vec<ActionStats>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<GroupSizes>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokens: Option<TokenStats>,
}

/// The reward distribution of one written split, as the export reports it.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SplitReward {
    pub split: String,
    #[serde(flatten)]
    pub reward: RewardStats,
}

/// The values grouped by `part[i]` (`parts` groups; a larger part is left out), each in
/// entry order. The largest group is compacted in the values' own buffer and only the
/// others are copied, so a million rewards cost their 8 MB once, not twice.
pub fn partition(mut values: Vec<f64>, part: &[u8], parts: usize) -> Vec<Vec<f64>> {
    let mut sizes = vec![0usize; parts];
    for &p in part {
        if let Some(n) = sizes.get_mut(usize::from(p)) {
            *n += 1;
        }
    }
    let largest = (0..parts)
        .max_by_key(|&p| (sizes[p], usize::MAX - p))
        .unwrap_or(0);
    let mut groups: Vec<Vec<f64>> = (0..parts)
        .map(|p| {
            if p == largest {
                return Vec::new();
            }
            let mut g = Vec::with_capacity(sizes[p]);
            g.extend(
                part.iter()
                    .zip(&values)
                    .filter(|(q, _)| usize::from(**q) == p)
                    .map(|(_, v)| *v),
            );
            g
        })
        .collect();
    let mut kept = 0;
    for i in 0..values.len() {
        if usize::from(part[i]) == largest {
            values[kept] = values[i];
            kept += 1;
        }
    }
    values.truncate(kept);
    if parts > 0 {
        groups[largest] = values;
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_between_ranks_as_numpy() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert_eq!(quantile(&v, 1.0), 4.0);
        assert_eq!(quantile(&v, 0.5), 2.5);
        // numpy.percentile([1,2,3,4], 25) == 1.75
        assert_eq!(quantile(&v, 0.25), 1.75);
        assert_eq!(quantile(&[7.0], 0.95), 7.0);
    }

    #[test]
    fn spread_counts_and_means() {
        let s = Spread::of(vec![3.0, -1.0, 1.0]).unwrap();
        assert_eq!(
            (s.count, s.min, s.max, s.p50, s.mean),
            (3, -1.0, 3.0, 1.0, 1.0)
        );
        assert!(Spread::of(vec![]).is_none());
    }

    #[test]
    fn histogram_bins_are_half_open_but_the_last() {
        let h = Histogram::of(&[0.0, 0.5, 1.0, 0.25], 2, 0.0, 1.0);
        assert_eq!(h.edges, vec![0.0, 0.5, 1.0]);
        assert_eq!(h.counts, vec![2, 2]);
        // One distinct value: numpy's range is value ± 0.5.
        let h = Histogram::of(&[2.0, 2.0], 4, 2.0, 2.0);
        assert_eq!(h.edges, vec![1.5, 1.75, 2.0, 2.25, 2.5]);
        assert_eq!(h.counts, vec![0, 0, 2, 0]);
    }

    #[test]
    fn histogram_counts_every_value_once_near_edges() {
        // Values a tenth apart land on edges computed in floating point.
        let values: Vec<f64> = (0..=100).map(|i| -1.0 + i as f64 * 0.02).collect();
        let h = Histogram::of(&values, 20, -1.0, 1.0);
        assert_eq!(h.counts.iter().sum::<u64>(), 101);
        for (i, c) in h.counts.iter().enumerate() {
            let want = values
                .iter()
                .filter(|v| {
                    **v >= h.edges[i] && (**v < h.edges[i + 1] || (i == 19 && **v <= h.edges[20]))
                })
                .count() as u64;
            assert_eq!(*c, want, "bin {i}");
        }
    }

    #[test]
    fn partition_keeps_entry_order_and_leaves_out_other_parts() {
        let values = vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0];
        let groups = partition(values, &[1, 0, 0, 9, 1, 0], 2);
        assert_eq!(groups, vec![vec![1.0, 2.0, 5.0], vec![0.0, 4.0]]);
        assert_eq!(partition(vec![], &[], 3), vec![Vec::<f64>::new(); 3]);
    }

    #[test]
    fn actions_are_counted_with_their_mean_reward() {
        let labels = vec!["store".to_string(), "skip".to_string()];
        let a = actions_of(&[0, 1, 2], &[0, 1, 0], &labels, &[1.0, -1.0, 0.0]);
        assert_eq!(a[0].value, "store");
        assert_eq!((a[0].count, a[0].mean_reward), (2, 0.5));
        assert_eq!((a[1].count, a[1].mean_reward), (1, -1.0));
        assert!((a[0].share - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn groups_report_sizes_and_the_largest() {
        let g = groups_of(
            "metadata.sessionId",
            &[0, 1, 2, 3],
            &[7, 7, 7, 9],
            &[false, false, false, true],
        )
        .unwrap();
        assert_eq!(
            (g.groups, g.singletons, g.largest, g.missing_key),
            (2, 1, 3, 1)
        );
        assert_eq!(g.largest_share, 0.75);
    }
}
