//! `--plots`: SVG charts written by hand (a reward histogram per split, the mean reward
//! per action, the action counts per split). Every bar is a `<rect class="bar">`, numbers
//! are printed with fixed decimals, so the same data gives the same bytes.

use std::fmt::Write;

use super::{ActionStats, RewardStats};

/// A chart and the file it goes to under `plots/`.
pub struct Chart {
    pub file: String,
    pub title: String,
    pub svg: String,
}

/// Actions a chart shows, most frequent first.
const MAX_ROWS: usize = 20;
const WIDTH: f64 = 640.0;
const SPLIT_COLORS: [&str; 3] = ["#4c72b0", "#dd8452", "#55a868"];

fn escape(s: &str) -> String {
    let short: String = s.chars().take(28).collect();
    let short = if short.len() < s.len() {
        short + "…"
    } else {
        short
    };
    short
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn start(height: f64, title: &str) -> String {
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
    );
    text(
        &mut s,
        WIDTH / 2.0,
        22.0,
        "middle",
        &format!(
            "<tspan font-size=\"15\" font-weight=\"bold\">{}</tspan>",
            escape(title)
        ),
    );
    s
}

fn text(s: &mut String, x: f64, y: f64, anchor: &str, body: &str) {
    let _ = writeln!(
        s,
        "<text x=\"{x:.1}\" y=\"{y:.1}\" text-anchor=\"{anchor}\">{body}</text>"
    );
}

fn bar(s: &mut String, x: f64, y: f64, w: f64, h: f64, fill: &str, tip: &str) {
    let _ = writeln!(
        s,
        "<rect class=\"bar\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"{fill}\"><title>{}</title></rect>",
        escape(tip)
    );
}

fn line(s: &mut String, x1: f64, y1: f64, x2: f64, y2: f64) {
    let _ = writeln!(
        s,
        "<line x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\" stroke=\"#333333\"/>"
    );
}

/// One bar per bin, the edges at the ends and the middle of the axis.
pub fn reward_histogram(split: &str, r: &RewardStats) -> Chart {
    let title = format!("Reward, {split} ({} examples)", r.spread.count);
    let (left, right, top, bottom) = (60.0, WIDTH - 20.0, 40.0, 300.0);
    let mut s = start(340.0, &title);
    let h = &r.histogram;
    let most = h.counts.iter().copied().max().unwrap_or(1).max(1) as f64;
    let step = (right - left) / h.counts.len() as f64;
    for (i, &c) in h.counts.iter().enumerate() {
        let height = (bottom - top) * c as f64 / most;
        let tip = format!("[{:.3}, {:.3}]: {c}", h.edges[i], h.edges[i + 1]);
        bar(
            &mut s,
            left + i as f64 * step + 0.5,
            bottom - height,
            (step - 1.0).max(0.5),
            height,
            SPLIT_COLORS[0],
            &tip,
        );
    }
    line(&mut s, left, bottom, right, bottom);
    line(&mut s, left, top, left, bottom);
    let n = h.edges.len() - 1;
    for (at, anchor) in [(0, "start"), (n / 2, "middle"), (n, "end")] {
        text(
            &mut s,
            left + at as f64 * step,
            bottom + 16.0,
            anchor,
            &format!("{:.3}", h.edges[at]),
        );
    }
    text(
        &mut s,
        left - 6.0,
        top + 4.0,
        "end",
        &format!("{}", most as u64),
    );
    text(&mut s, left - 6.0, bottom, "end", "0");
    text(
        &mut s,
        (left + right) / 2.0,
        bottom + 34.0,
        "middle",
        "reward",
    );
    finish(s, format!("reward-{split}.svg"), title)
}

/// A horizontal bar per action, left of zero for a negative mean, right for a positive.
pub fn mean_reward_per_action(key: &str, actions: &[ActionStats]) -> Chart {
    let title = format!("Mean reward per {key}");
    let rows = &actions[..actions.len().min(MAX_ROWS)];
    let (left, right, top, row) = (200.0, WIDTH - 70.0, 44.0, 22.0);
    let bottom = top + row * rows.len() as f64;
    let mut s = start(bottom + 30.0, &title);
    let reach = rows
        .iter()
        .map(|a| a.mean_reward.abs())
        .fold(0.0, f64::max)
        .max(1e-9);
    let zero = (left + right) / 2.0;
    let half = (right - left) / 2.0;
    for (i, a) in rows.iter().enumerate() {
        let y = top + i as f64 * row;
        let w = half * a.mean_reward.abs() / reach;
        let (x, fill) = if a.mean_reward < 0.0 {
            (zero - w, "#c44e52")
        } else {
            (zero, SPLIT_COLORS[0])
        };
        bar(
            &mut s,
            x,
            y + 3.0,
            w.max(0.5),
            row - 6.0,
            fill,
            &format!("{}: {:.3} ({} examples)", a.value, a.mean_reward, a.count),
        );
        text(
            &mut s,
            left - 8.0,
            y + row / 2.0 + 4.0,
            "end",
            &escape(&a.value),
        );
        text(
            &mut s,
            right + 6.0,
            y + row / 2.0 + 4.0,
            "start",
            &format!("{:.3}", a.mean_reward),
        );
    }
    line(&mut s, zero, top, zero, bottom);
    text(&mut s, zero, bottom + 18.0, "middle", "0");
    finish(s, "mean-reward-per-action.svg".into(), title)
}

/// For each action (most frequent overall first), a bar per split, with a legend.
pub fn action_counts(key: &str, splits: &[(String, Vec<ActionStats>)]) -> Chart {
    let title = format!("Examples per {key} and split");
    let mut order: Vec<(String, u64)> = Vec::new();
    for a in splits.iter().flat_map(|(_, actions)| actions) {
        match order.iter_mut().find(|(v, _)| *v == a.value) {
            Some(slot) => slot.1 += a.count,
            None => order.push((a.value.clone(), a.count)),
        }
    }
    order.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    order.truncate(MAX_ROWS);
    let (left, right, top) = (200.0, WIDTH - 70.0, 60.0);
    let bar_h = 14.0;
    let row = bar_h * splits.len() as f64 + 8.0;
    let bottom = top + row * order.len() as f64;
    let mut s = start(bottom + 20.0, &title);
    for (j, (name, _)) in splits.iter().enumerate() {
        let x = left + j as f64 * 110.0;
        let _ = writeln!(
            s,
            "<rect x=\"{x:.1}\" y=\"34.0\" width=\"12\" height=\"12\" fill=\"{}\"/>",
            SPLIT_COLORS[j % 3]
        );
        text(&mut s, x + 16.0, 44.0, "start", &escape(name));
    }
    let most = splits
        .iter()
        .flat_map(|(_, a)| a)
        .map(|a| a.count)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    for (i, (value, _)) in order.iter().enumerate() {
        let y = top + i as f64 * row;
        text(&mut s, left - 8.0, y + row / 2.0, "end", &escape(value));
        for (j, (name, actions)) in splits.iter().enumerate() {
            let count = actions
                .iter()
                .find(|a| &a.value == value)
                .map_or(0, |a| a.count);
            let w = (right - left) * count as f64 / most;
            let by = y + j as f64 * bar_h;
            bar(
                &mut s,
                left,
                by,
                w.max(0.5),
                bar_h - 2.0,
                SPLIT_COLORS[j % 3],
                &format!("{value}, {name}: {count}"),
            );
            text(
                &mut s,
                left + w + 4.0,
                by + bar_h - 4.0,
                "start",
                &count.to_string(),
            );
        }
    }
    line(&mut s, left, top, left, bottom);
    finish(s, "action-counts.svg".into(), title)
}

fn finish(mut svg: String, file: String, title: String) -> Chart {
    svg.push_str("</svg>\n");
    Chart { file, title, svg }
}
