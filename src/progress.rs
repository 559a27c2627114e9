//! The progress bar, and the one decision whether to draw it: only on a terminal stderr
//! and without --quiet. Otherwise the bar is hidden, so callers never check.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

#[derive(Clone)]
pub struct Progress {
    bar: ProgressBar,
    is_visible: bool,
}

impl Progress {
    pub fn new(quiet: bool) -> Progress {
        let is_visible = !quiet && std::io::stderr().is_terminal();
        // Drawn from the first phase on (`start`), not as an unstyled bar before it.
        let bar = ProgressBar::hidden();
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
            "{msg:>9} [{bar:30}] {human_pos}/{human_len} examples ({rate}, {eta})",
        );
    }

    fn start(&self, message: &str, total: u64, template: &str) {
        if self.is_visible {
            // Not drawn while it changes phase: a frame between the steps would show the
            // new length in the old phase's units.
            self.bar.finish_and_clear();
            self.bar.set_draw_target(ProgressDrawTarget::hidden());
            self.bar.reset();
            self.bar.set_style(
                ProgressStyle::with_template(template)
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .with_key(
                        "rate",
                        |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                            let _ = write!(w, "{:.0}/s", state.per_sec());
                        },
                    )
                    .progress_chars("=> "),
            );
            self.bar.set_message(message.to_string());
        }
        // A hidden bar still counts (tests read its position); it only never draws.
        self.bar.set_length(total);
        self.bar.set_position(0);
        if self.is_visible {
            self.bar
                .set_draw_target(ProgressDrawTarget::stderr_with_hz(8));
            self.bar.enable_steady_tick(Duration::from_millis(250));
        }
    }

    pub fn set_position(&self, pos: u64) {
        self.bar.set_position(pos);
    }

    pub fn inc(&self, n: u64) {
        self.bar.inc(n);
    }

    /// Where the bar is (examples written, or bytes read).
    pub fn position(&self) -> u64 {
        self.bar.position()
    }

    /// Remove the bar before the summary is printed.
    pub fn clear(&self) {
        if self.is_visible {
            self.bar.finish_and_clear();
        }
    }
}
