//! The progress bar, and the one decision whether to draw it: only on a terminal stderr
//! and without --quiet. Otherwise the bar is hidden, so callers never check.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

#[derive(Clone)]
pub struct Progress {
    bar: ProgressBar,
    is_visible: bool,
}

impl Progress {
    pub fn new(quiet: bool) -> Progress {
        let is_visible = !quiet && std::io::stderr().is_terminal();
        let bar = if is_visible {
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(8))
        } else {
            ProgressBar::hidden()
        };
        Progress { bar, is_visible }
    }

    /// A hidden bar, for library callers and tests.
    pub fn hidden() -> Progress {
        Progress {
            bar: ProgressBar::hidden(),
            is_visible: false,
        }
    }

    /// Start a phase measured in bytes (reading the input).
    pub fn start_bytes(&self, message: &str, total: u64) {
        self.start(
            message,
            total,
            "{msg:>9} [{bar:30}] {binary_bytes}/{binary_total_bytes} ({eta})",
        );
    }

    /// Start a phase measured in examples (writing a format).
    pub fn start_examples(&self, message: &str, total: u64) {
        self.start(
            message,
            total,
            "{msg:>9} [{bar:30}] {human_pos}/{human_len} examples ({per_sec}, {eta})",
        );
    }

    fn start(&self, message: &str, total: u64, template: &str) {
        if !self.is_visible {
            return;
        }
        self.bar.reset();
        self.bar.set_length(total);
        self.bar.set_position(0);
        self.bar.set_style(
            ProgressStyle::with_template(template)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        self.bar.set_message(message.to_string());
        self.bar.enable_steady_tick(Duration::from_millis(250));
    }

    pub fn set_position(&self, pos: u64) {
        if self.is_visible {
            self.bar.set_position(pos);
        }
    }

    pub fn inc(&self, n: u64) {
        if self.is_visible {
            self.bar.inc(n);
        }
    }

    /// Remove the bar before the summary is printed.
    pub fn clear(&self) {
        if self.is_visible {
            self.bar.finish_and_clear();
        }
    }
}
