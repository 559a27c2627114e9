//! Distributions drawn as text: a histogram in rows of bars that fits 80 columns, and a
//! one-line sparkline. Unicode blocks on a terminal that can show them; plain ASCII when
//! the output is not a terminal, `TERM=dumb` or `NO_COLOR` is set.

use std::io::IsTerminal;

use super::{Histogram, SplitReward};

/// The columns a drawing fits in.
pub const WIDTH: usize = 80;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Glyphs {
    Unicode,
    Ascii,
}

impl Glyphs {
    /// Unicode for a terminal, unless the environment asks for plain text.
    pub fn for_stream(stream: &impl IsTerminal) -> Glyphs {
        let plain = std::env::var_os("TERM").is_some_and(|t| t == "dumb")
            || std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        if stream.is_terminal() && !plain {
            Glyphs::Unicode
        } else {
            Glyphs::Ascii
        }
    }

    /// A bar of `eighths` eighths of a column; a non-zero count is never invisible.
    fn bar(self, eighths: usize, nonzero: bool) -> String {
        let eighths = if nonzero { eighths.max(1) } else { 0 };
        match self {
            Glyphs::Unicode => {
                const PARTS: [char; 8] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
                let mut s = "█".repeat(eighths / 8);
                if eighths % 8 > 0 {
                    s.push(PARTS[eighths % 8]);
                }
                s
            }
            Glyphs::Ascii => "#".repeat(eighths.div_ceil(8)),
        }
    }

    /// The sparkline's nine heights, empty first.
    fn levels(self) -> [char; 9] {
        match self {
            Glyphs::Unicode => [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'],
            Glyphs::Ascii => [' ', '.', ':', '-', '=', '+', '*', '%', '#'],
        }
    }
}

/// Decimals that tell a histogram's edges apart: 3, more for narrow bins.
pub fn edge_decimals(h: &Histogram) -> usize {
    let step = (h.edges[h.edges.len() - 1] - h.edges[0]) / h.counts.len() as f64;
    let needed = if step > 0.0 {
        (-step.log10()).ceil() as i64 + 1
    } else {
        3
    };
    needed.clamp(3, 10) as usize
}

/// One row per bin: `[lo, hi)  bar  count`, the last bin closed, within `WIDTH`.
pub fn histogram_rows(h: &Histogram, glyphs: Glyphs, indent: usize) -> Vec<String> {
    let d = edge_decimals(h);
    let labels: Vec<String> = h.edges.iter().map(|e| format!("{e:.d$}")).collect();
    let label_width = labels.iter().map(String::len).max().unwrap_or(1);
    let count_width = h
        .counts
        .iter()
        .map(|c| c.to_string().len())
        .max()
        .unwrap_or(1);
    // indent + "[" + lo + ", " + hi + ")" + "  " + bar + " " + count
    let fixed = indent + 1 + label_width + 2 + label_width + 1 + 2 + 1 + count_width;
    let bar_width = WIDTH.saturating_sub(fixed).max(10);
    let most = h.counts.iter().copied().max().unwrap_or(0).max(1);
    h.counts
        .iter()
        .enumerate()
        .map(|(i, &count)| {
            let close = if i + 1 == h.counts.len() { ']' } else { ')' };
            let eighths = (count as u128 * (bar_width as u128 * 8) / most as u128) as usize;
            let bar = glyphs.bar(eighths, count > 0);
            let pad = bar_width - bar.chars().count();
            format!(
                "{:indent$}[{:>lw$}, {:>lw$}{close}  {bar}{:pad$} {count:>count_width$}",
                "",
                labels[i],
                labels[i + 1],
                "",
                lw = label_width,
            )
        })
        .collect()
}

/// The counts as one line of heights, between brackets.
pub fn sparkline(h: &Histogram, glyphs: Glyphs) -> String {
    let levels = glyphs.levels();
    let most = h.counts.iter().copied().max().unwrap_or(0).max(1);
    let line: String = h
        .counts
        .iter()
        .map(|&c| {
            let level = if c == 0 {
                0
            } else {
                (c as u128 * 8).div_ceil(most as u128) as usize
            };
            levels[level.clamp(usize::from(c > 0), 8)]
        })
        .collect();
    format!("[{line}]")
}

/// The export summary's line for one written split: its quartiles and a sparkline.
pub fn reward_line(r: &SplitReward, glyphs: Glyphs) -> String {
    let s = &r.reward.spread;
    format!(
        "  reward:   {:<10} p25 {:.3}  p50 {:.3}  p75 {:.3}  {}",
        r.split,
        s.p25,
        s.p50,
        s.p75,
        sparkline(&r.reward.histogram, glyphs)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hist() -> Histogram {
        Histogram {
            edges: vec![-1.0, 0.0, 1.0],
            counts: vec![1, 100],
        }
    }

    #[test]
    fn rows_fit_eighty_columns_and_show_every_nonzero_bin() {
        for glyphs in [Glyphs::Unicode, Glyphs::Ascii] {
            let rows = histogram_rows(&hist(), glyphs, 2);
            assert_eq!(rows.len(), 2);
            for r in &rows {
                assert!(r.chars().count() <= WIDTH, "{r}");
            }
            assert!(rows[0].starts_with("  [-1.000,  0.000)  "), "{}", rows[0]);
            assert!(rows[1].contains("1.000]"), "{}", rows[1]);
            assert!(rows[0].trim_end().ends_with(" 1"));
            // The one example still gets a visible bar.
            assert!(rows[0].chars().any(|c| "#▏▎▍▌▋▊▉█".contains(c)));
        }
        let ascii = histogram_rows(&hist(), Glyphs::Ascii, 2);
        assert!(ascii.iter().all(|r| r.is_ascii()));
    }

    #[test]
    fn sparkline_scales_to_the_fullest_bin() {
        let h = Histogram {
            edges: vec![0.0, 1.0, 2.0, 3.0],
            counts: vec![0, 1, 8],
        };
        assert_eq!(sparkline(&h, Glyphs::Unicode), "[ ▁█]");
        assert_eq!(sparkline(&h, Glyphs::Ascii), "[ .#]");
    }

    #[test]
    fn narrow_bins_get_more_decimals() {
        let h = Histogram {
            edges: vec![0.5, 0.50005, 0.5001],
            counts: vec![1, 1],
        };
        assert_eq!(edge_decimals(&h), 6);
    }
}
