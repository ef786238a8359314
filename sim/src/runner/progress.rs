//! Wall time, for throughput figures, the progress line and report folder names. This module is
//! the only reader of wall time in the crate: what it measures goes to the person watching, the
//! benchmark figures and the `run` block of `summary.json` (`created_utc`, `wall_s`, which the
//! snapshots leave out), and never into a simulation, whose time is the engine's own clock.
// The workspace bans `Instant` so that wall time cannot leak into a run; this module is the
// exception the ban's own comment names, and nothing it returns is handed to the engine.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant, SystemTime};

/// The least time between two progress lines.
pub const PROGRESS_INTERVAL: Duration = Duration::from_secs(5);

/// Measures the wall time since it was started.
#[derive(Clone, Copy, Debug)]
pub struct Stopwatch {
    started: Instant,
}

impl Stopwatch {
    pub fn start() -> Stopwatch {
        Stopwatch { started: Instant::now() }
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}

/// Shows progress on stderr: a live bar on a terminal; elsewhere (CI logs) a plain line at most
/// every [`PROGRESS_INTERVAL`], with no cursor movement or colours, so logs stay readable.
#[derive(Debug)]
pub struct Progress {
    enabled: bool,
    /// The live bar, when stderr is a terminal.
    bar: Option<indicatif::ProgressBar>,
    total: u64,
    done: u64,
    failed: u64,
    stopwatch: Stopwatch,
    last_printed: Instant,
}

impl Progress {
    /// A progress display for `total` items; a disabled one only counts.
    pub fn new(total: u64, enabled: bool) -> Progress {
        let bar = (enabled && std::io::stderr().is_terminal()).then(|| live_bar(total));
        Progress {
            enabled,
            bar,
            total,
            done: 0,
            failed: 0,
            stopwatch: Stopwatch::start(),
            last_printed: Instant::now(),
        }
    }

    /// Counts one finished item and prints if a line is due.
    pub fn finished(&mut self, passed: bool) {
        self.done += 1;
        if !passed {
            self.failed += 1;
        }
        if let Some(bar) = &self.bar {
            bar.inc(1);
            if !passed {
                bar.set_message(format!("{} failed", self.failed));
            }
        }
        self.tick();
    }

    /// Prints a line if one is due; call it also while waiting, so a slow seed shows up.
    pub fn tick(&mut self) {
        if !self.enabled || self.bar.is_some() || self.last_printed.elapsed() < PROGRESS_INTERVAL {
            return;
        }
        self.last_printed = Instant::now();
        let elapsed_s = self.stopwatch.elapsed().as_secs_f64();
        let line = format!(
            "progress: {}/{} seeds, {} failed, {elapsed_s:.0} s elapsed\n",
            self.done, self.total, self.failed
        );
        // A progress line that cannot be written is not worth failing the sweep for.
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }

    /// Takes the live bar off the terminal, so the results print on a clean line.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    /// The wall time since the display was created.
    pub fn elapsed(&self) -> Duration {
        self.stopwatch.elapsed()
    }
}

/// Seconds since 1970 in UTC, for naming report folders; 0 if the clock is before 1970.
pub fn utc_now_s() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Whether output may be coloured: never with `NO_COLOR` set (to anything but ""), and only on a
/// terminal. See <https://no-color.org>.
pub fn colour_enabled(is_terminal: bool) -> bool {
    is_terminal && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
}

fn live_bar(total: u64) -> indicatif::ProgressBar {
    let template = if colour_enabled(true) {
        "{elapsed_precise} [{bar:40.cyan/blue}] {pos}/{len} seeds, eta {eta} {msg:.red}"
    } else {
        "{elapsed_precise} [{bar:40}] {pos}/{len} seeds, eta {eta} {msg}"
    };
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total),
        indicatif::ProgressDrawTarget::stderr(),
    );
    // The templates above are fixed and valid; a failure would only lose the styling.
    if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}
