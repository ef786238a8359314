//! Wall time, for throughput figures and the progress line. This module is the only reader of
//! wall time in the crate: what it measures goes to the person watching and to the benchmark
//! figures, and never into a simulation, whose time is the engine's own simulated clock.
// The workspace bans `Instant` so that wall time cannot leak into a run; this module is the
// exception the ban's own comment names, and nothing it returns is handed to the engine.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::io::Write;
use std::time::{Duration, Instant};

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

/// Prints a plain progress line to stderr at most every [`PROGRESS_INTERVAL`]: no cursor
/// movement or colours, so CI logs stay readable.
#[derive(Debug)]
pub struct Progress {
    enabled: bool,
    total: u64,
    done: u64,
    failed: u64,
    stopwatch: Stopwatch,
    last_printed: Instant,
}

impl Progress {
    /// A progress display for `total` items; a disabled one only counts.
    pub fn new(total: u64, enabled: bool) -> Progress {
        Progress {
            enabled,
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
        self.tick();
    }

    /// Prints a line if one is due; call it also while waiting, so a slow seed shows up.
    pub fn tick(&mut self) {
        if !self.enabled || self.last_printed.elapsed() < PROGRESS_INTERVAL {
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

    /// The wall time since the display was created.
    pub fn elapsed(&self) -> Duration {
        self.stopwatch.elapsed()
    }
}
