//! Time as the core sees it: two separate inputs, never read from the machine.
//!
//! [`MonoTime`] is the node's monotonic clock and drives every timer. [`WallTime`] is the node's
//! wall-clock reading and feeds only the hybrid logical clock. Keeping them apart lets a host (or
//! the simulator) skew, drift and jump the wall clock without disturbing timers.

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
