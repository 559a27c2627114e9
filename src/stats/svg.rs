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
const W: f64 = 640.0;
const COLORS: [&str; 3] = ["#4c72b0", "#dd8452", "#55a868"];
const NEGATIVE: &str = "#c44e52";

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A label shortened to 28 characters, escaped.
fn label(s: &str) -> String {
    let short: String = s.chars().take(28).collect();
    escape(&if short.len() < s.len() {
        short + "…"
    } else {
        short
    })
}

struct Canvas(String);

impl Canvas {
    fn new(height: f64, title: &str) -> Canvas {
        let mut c = Canvas(format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{height}\" viewBox=\"0 0 {W} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
        ));
        let bold = format!(
            "<tspan font-size=\"15\" font-weight=\"bold\">{}</tspan>",
            escape(title)
        );
        c.text((W / 2.0, 22.0), "middle", &bold);
        c
    }

    fn text(&mut self, (x, y): (f64, f64), anchor: &str, body: &str) {
        let _ = writeln!(
            self.0,
            "<text x=\"{x:.1}\" y=\"{y:.1}\" text-anchor=\"{anchor}\">{body}</text>"
        );
    }

    /// A bar at (x, y) of (w, h), never thinner than half a pixel, with a tooltip.
    fn bar(&mut self, (x, y): (f64, f64), (w, h): (f64, f64), fill: &str, tip: &str) {
        let _ = writeln!(
            self.0,
            "<rect class=\"bar\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{h:.1}\" fill=\"{fill}\"><title>{}</title></rect>",
            w.max(0.5),
            escape(tip)
        );
    }

    fn line(&mut self, (x1, y1): (f64, f64), (x2, y2): (f64, f64)) {
        let _ = writeln!(self.0, "<line x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\" stroke=\"#333333\"/>");
    }

    fn finish(mut self, file: String, title: String) -> Chart {
        self.0.push_str("</svg>\n");
        Chart {
            file,
            title,
            svg: self.0,
        }
    }
}

/// One bar per bin, the edges at the ends and the middle of the axis.
pub fn reward_histogram(split: &str, r: &RewardStats) -> Chart {
    let title = format!("Reward, {split} ({} examples)", r.spread.count);
    let (left, right, top, bottom) = (60.0, W - 20.0, 40.0, 300.0);
    let mut c = Canvas::new(340.0, &title);
    let h = &r.histogram;
    let most = h.counts.iter().copied().max().unwrap_or(1).max(1);
    let step = (right - left) / h.counts.len() as f64;
    for (i, &n) in h.counts.iter().enumerate() {
        let height = (bottom - top) * n as f64 / most as f64;
        let tip = format!("[{:.3}, {:.3}]: {n}", h.edges[i], h.edges[i + 1]);
        let at = (left + i as f64 * step + 0.5, bottom - height);
        c.bar(at, (step - 1.0, height), COLORS[0], &tip);
    }
    c.line((left, bottom), (right, bottom));
    c.line((left, top), (left, bottom));
    let n = h.counts.len();
    for (at, anchor) in [(0, "start"), (n / 2, "middle"), (n, "end")] {
        let x = left + at as f64 * step;
        c.text((x, bottom + 16.0), anchor, &format!("{:.3}", h.edges[at]));
    }
    c.text((left - 6.0, top + 4.0), "end", &most.to_string());
    c.text((left - 6.0, bottom), "end", "0");
    c.text(((left + right) / 2.0, bottom + 34.0), "middle", "reward");
    c.finish(format!("reward-{split}.svg"), title)
}

/// A horizontal bar per action, left of zero for a negative mean, right for a positive.
pub fn mean_reward_per_action(key: &str, actions: &[ActionStats]) -> Chart {
    let title = format!("Mean reward per {key}");
    let rows = &actions[..actions.len().min(MAX_ROWS)];
    let (left, right, top, row) = (200.0, W - 70.0, 44.0, 22.0);
    let bottom = top + row * rows.len() as f64;
    let mut c = Canvas::new(bottom + 30.0, &title);
    let reach = rows
        .iter()
        .map(|a| a.mean_reward.abs())
        .fold(1e-9, f64::max);
    let (zero, half) = ((left + right) / 2.0, (right - left) / 2.0);
    for (i, a) in rows.iter().enumerate() {
        let y = top + i as f64 * row;
        let w = half * a.mean_reward.abs() / reach;
        let (x, fill) = if a.mean_reward < 0.0 {
            (zero - w, NEGATIVE)
        } else {
            (zero, COLORS[0])
        };
        let tip = format!("{}: {:.3} ({} examples)", a.value, a.mean_reward, a.count);
        c.bar((x, y + 3.0), (w, row - 6.0), fill, &tip);
        c.text((left - 8.0, y + row / 2.0 + 4.0), "end", &label(&a.value));
        c.text(
            (right + 6.0, y + row / 2.0 + 4.0),
            "start",
            &format!("{:.3}", a.mean_reward),
        );
    }
    c.line((zero, top), (zero, bottom));
    c.text((zero, bottom + 18.0), "middle", "0");
    c.finish("mean-reward-per-action.svg".into(), title)
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
    let (left, right, top, bar_h) = (200.0, W - 70.0, 60.0, 14.0);
    let row = bar_h * splits.len() as f64 + 8.0;
    let bottom = top + row * order.len() as f64;
    let mut c = Canvas::new(bottom + 20.0, &title);
    for (j, (name, _)) in splits.iter().enumerate() {
        let x = left + j as f64 * 110.0;
        let _ = writeln!(
            c.0,
            "<rect x=\"{x:.1}\" y=\"34.0\" width=\"12\" height=\"12\" fill=\"{}\"/>",
            COLORS[j % 3]
        );
        c.text((x + 16.0, 44.0), "start", &label(name));
    }
    let counts = splits.iter().flat_map(|(_, a)| a).map(|a| a.count);
    let most = counts.max().unwrap_or(1).max(1) as f64;
    for (i, (value, _)) in order.iter().enumerate() {
        let y = top + i as f64 * row;
        c.text((left - 8.0, y + row / 2.0), "end", &label(value));
        for (j, (name, actions)) in splits.iter().enumerate() {
            let n = actions
                .iter()
                .find(|a| &a.value == value)
                .map_or(0, |a| a.count);
            let (w, by) = ((right - left) * n as f64 / most, y + j as f64 * bar_h);
            c.bar(
                (left, by),
                (w, bar_h - 2.0),
                COLORS[j % 3],
                &format!("{value}, {name}: {n}"),
            );
            c.text((left + w + 4.0, by + bar_h - 4.0), "start", &n.to_string());
        }
    }
    c.line((left, top), (left, bottom));
    c.finish("action-counts.svg".into(), title)
}
