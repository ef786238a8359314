//! Time as the core sees it: two readings, never read from the machine, that come together
//! with every input as a [`Now`].
//!
//! [`MonoTime`] is the node's monotonic clock and drives every timer. [`WallTime`] is the node's
//! wall-clock reading and feeds only the hybrid logical clock. Keeping them apart lets a host (or
//! the simulator) skew, drift and jump the wall clock without disturbing timers; taking both
//! with each input means no input can run on a stale wall reading.

use serde::{Deserialize, Serialize};

/// A reading of the node's monotonic clock, in milliseconds from an arbitrary origin.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct MonoTime(pub u64);

impl MonoTime {
    /// This instant moved `ms` milliseconds later (saturating at the end of time).
    pub fn plus_ms(self, ms: u64) -> MonoTime {
        MonoTime(self.0.saturating_add(ms))
    }
}

/// A reading of the node's wall clock, in milliseconds since the Unix epoch.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct WallTime(pub u64);

/// Both clock readings of a node at one instant: every input and command takes one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Now {
    /// Drives timers: deadlines, backoffs, the background sync, collection.
    pub mono: MonoTime,
    /// Feeds the hybrid logical clock that stamps writes, and the server's retention windows.
    pub wall: WallTime,
}

impl Now {
    pub fn new(mono: MonoTime, wall: WallTime) -> Now {
        Now { mono, wall }
    }

    /// The same instant `ms` milliseconds later on both clocks.
    pub fn plus_ms(self, ms: u64) -> Now {
        Now { mono: self.mono.plus_ms(ms), wall: WallTime(self.wall.0.saturating_add(ms)) }
    }
}
