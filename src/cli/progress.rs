//! A progress bar on stderr, shown only when stderr is a terminal.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Draws densebin's phases as a byte progress bar.
pub struct Bar(ProgressBar);

impl Bar {
    /// A bar, hidden when `quiet` or when stderr is not a terminal.
    pub fn new(quiet: bool) -> Bar {
        let target = if quiet || !std::io::stderr().is_terminal() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        Bar(ProgressBar::with_draw_target(None, target))
    }

    /// Removes the bar from the terminal.
    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl densebin::Progress for Bar {
    fn begin(&self, phase: &str, total: Option<u64>) {
        let template = if total.is_some() {
            "{msg} [{wide_bar}] {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}"
        } else {
            "{msg} {spinner} {bytes} {binary_bytes_per_sec}"
        };
        let style = ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        self.0.set_style(style);
        self.0.set_length(total.unwrap_or(0));
        self.0.set_position(0);
        self.0.set_message(phase.to_string());
    }

    fn advance(&self, bytes: u64) {
        self.0.inc(bytes);
    }
}
