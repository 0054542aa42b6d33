//! Progress on standard error: a bar on a terminal, and plain lines (at
//! most one every few seconds) when standard error goes to a file or pipe.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

const PLAIN_EVERY: Duration = Duration::from_secs(2);

pub struct Progress {
    bar: Option<ProgressBar>,
    what: &'static str,
    last_line: Option<Instant>,
    started: Instant,
}

impl Progress {
    /// Progress towards `total` units (bytes of the file, items listed),
    /// counting `what` ("rows", "DIDs").
    pub fn new(total: u64, what: &'static str) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {wide_bar} {percent:>3}% {msg} (eta {eta})",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        });
        Self {
            bar,
            what,
            last_line: None,
            started: Instant::now(),
        }
    }

    pub fn set_total(&mut self, total: u64) {
        if let Some(bar) = &self.bar {
            bar.set_length(total);
        }
    }

    /// `position` units of the total done; `count` of `what` so far.
    pub fn update(&mut self, position: u64, total: u64, count: u64, rejected: u64) {
        let message = if rejected > 0 {
            format!("{count} {} ({rejected} rejected)", self.what)
        } else {
            format!("{count} {}", self.what)
        };
        match &self.bar {
            Some(bar) => {
                bar.set_position(position);
                bar.set_message(message);
            }
            None => {
                if self
                    .last_line
                    .is_none_or(|last| last.elapsed() >= PLAIN_EVERY)
                {
                    let percent = (position * 100).checked_div(total).unwrap_or(100);
                    eprintln!("numbering: {message}, {percent}% done");
                    self.last_line = Some(Instant::now());
                }
            }
        }
    }

    /// Clears the bar; returns how long the work took.
    pub fn finish(self) -> Duration {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
        self.started.elapsed()
    }
}
