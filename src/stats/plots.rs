//! `export --plots`: the charts of the written splits drawn (`svg`) into `plots/` of the
//! output, and the Markdown that shows them in a dataset card. Also the reward
//! distribution of each written split that the summary reports.

use serde::Serialize;

use super::svg::{self, Chart};
use super::{actions_of, partition, RewardStats, SplitReward, DEFAULT_BINS};
use crate::example::{Policy, Split};
use crate::output::OutputDir;
use crate::scan::Inspection;
use crate::select::Selection;
use crate::summary::ExportResult;

/// A chart written, as a path under the output directory.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Plot {
    pub file: String,
    pub title: String,
}

/// The written splits and their examples, in file order.
fn written(selection: &Selection) -> Vec<(Split, &[u32])> {
    [
        (Split::Train, &selection.train[..]),
        (Split::Validation, &selection.validation[..]),
        (Split::Eval, &selection.eval[..]),
    ]
    .into_iter()
    .filter(|(_, at)| !at.is_empty())
    .collect()
}

/// The reward distribution of each non-empty split's examples, from every entry's
/// reward (consumed: see `partition`).
pub fn split_rewards(selection: &Selection, rewards: Vec<f64>) -> Vec<SplitReward> {
    if rewards.is_empty() {
        return Vec::new();
    }
    let splits = written(selection);
    let mut part = vec![u8::MAX; rewards.len()];
    for (slot, (_, at)) in splits.iter().enumerate() {
        for &i in *at {
            part[i as usize] = slot as u8;
        }
    }
    splits
        .iter()
        .zip(partition(rewards, &part, splits.len()))
        .filter_map(|((split, _), values)| {
            Some(SplitReward {
                split: split.name().to_string(),
                reward: RewardStats::of(values, DEFAULT_BINS)?,
            })
        })
        .collect()
}

/// Draw every chart into `root/plots/`.
pub fn write_plots(
    root: &OutputDir,
    selection: &Selection,
    inspection: &Inspection,
    rewards: &[SplitReward],
    policy: Policy,
) -> anyhow::Result<Vec<Plot>> {
    let key = policy.action_key();
    let splits = written(selection);
    let mut charts: Vec<Chart> = rewards
        .iter()
        .map(|r| svg::reward_histogram(&r.split, &r.reward))
        .collect();
    let actions = |at: &[u32]| {
        actions_of(
            at,
            &inspection.actions,
            &inspection.action_labels,
            &inspection.rewards,
        )
    };
    let every: Vec<u32> = selection.all().collect();
    charts.push(svg::mean_reward_per_action(key, &actions(&every)));
    let per_split: Vec<(String, Vec<_>)> = splits
        .iter()
        .map(|(split, at)| (split.name().to_string(), actions(at)))
        .collect();
    charts.push(svg::action_counts(key, &per_split));
    let dir = root.subdir("plots")?;
    let mut plots = Vec::new();
    for chart in charts {
        dir.write_doc(&chart.file, &chart.svg)?;
        plots.push(Plot {
            file: format!("plots/{}", chart.file),
            title: chart.title,
        });
    }
    Ok(plots)
}

/// The card's "Plots" section: each chart as an image, linked relative to the card
/// (`../plots/` for a card in a subdirectory of `--format all`); empty without --plots.
pub fn card_section(result: &ExportResult, out: &OutputDir) -> String {
    if result.plots.is_empty() {
        return String::new();
    }
    let up = "../".repeat(out.prefix().matches('/').count());
    let mut s = String::from("\n## Plots\n\n");
    for p in &result.plots {
        s.push_str(&format!("![{}]({up}{})\n\n", p.title, p.file));
    }
    s
}
