//! The host's two clocks, read into the core's [`Now`]: tokio's monotonic instant for timers
//! (madsim's simulated one under `--cfg madsim`) and the system's wall clock for the hybrid
//! logical clock.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use driftsync_core::{MonoTime, Now, WallTime};
use tokio::time::Instant;

/// Monotonic time counted from the host's start.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HostClock {
    start: Instant,
}

impl HostClock {
    pub(crate) fn start() -> HostClock {
        HostClock { start: Instant::now() }
    }

    pub(crate) fn now(&self) -> Now {
        let mono = MonoTime(self.start.elapsed().as_millis() as u64);
        // A wall clock before 1970 reads as 1970: the hybrid clock only moves forward anyway.
        let wall = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
        Now::new(mono, WallTime(wall.as_millis() as u64))
    }

    /// The instant of a core deadline.
    pub(crate) fn instant(&self, at: MonoTime) -> Instant {
        self.start + Duration::from_millis(at.0)
    }
}
