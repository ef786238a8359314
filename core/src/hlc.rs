//! Hybrid logical clock.
//!
//! A stamp is the wall time in milliseconds plus a logical counter. The clock never goes
//! backwards, whatever the wall clock does (skew, drift, jumps back), and it advances past every
//! stamp it receives, so an op written after seeing another op always carries a larger stamp.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::ReplicaId;
use crate::time::WallTime;

/// One hybrid logical clock reading.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Hlc {
    pub wall_ms: u64,
    pub logical: u32,
}

/// A totally ordered op stamp: the clock reading, then the writer as the deterministic
/// tie-break. Two distinct ops never share a stamp because a replica ticks once per op.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Stamp {
    pub hlc: Hlc,
    pub replica: u64,
}

impl Stamp {
    pub fn new(hlc: Hlc, replica: ReplicaId) -> Stamp {
        Stamp { hlc, replica: replica.0 }
    }
}

impl fmt::Display for Stamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}@{}", self.hlc.wall_ms, self.hlc.logical, self.replica)
    }
}

/// The latest wall time a stamp may carry (the last millisecond of year 9999). Ops stamped
/// beyond it are refused as invalid: accepting one would drag every clock it reaches to the end
/// of time, where it could no longer move forward.
#[cfg_attr(not(feature = "testing"), allow(unreachable_pub))]
pub const WALL_MS_MAX: u64 = 253_402_300_799_999;

/// A remote stamp that ran further ahead of the local wall clock than the configured bound.
/// It is still applied (dropping it would lose data); the host is told so it can investigate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClockAhead {
    pub remote: Hlc,
    pub local_wall: WallTime,
    pub ahead_ms: u64,
}

/// The clock of one node.
#[derive(Clone, Debug)]
pub(crate) struct HlcClock {
    last: Hlc,
    ahead_ms_max: u64,
}

impl HlcClock {
    /// A clock that resumes from `last` (persisted) and reports remote stamps more than
    /// `ahead_ms_max` ahead of the local wall clock.
    pub(crate) fn new(last: Hlc, ahead_ms_max: u64) -> HlcClock {
        HlcClock { last, ahead_ms_max }
    }

    /// The latest reading handed out or observed.
    pub(crate) fn last(&self) -> Hlc {
        self.last
    }

    /// A fresh reading for a local event, strictly greater than every earlier one.
    pub(crate) fn tick(&mut self, wall: WallTime) -> Hlc {
        let next = if wall.0 > self.last.wall_ms {
            Hlc { wall_ms: wall.0, logical: 0 }
        } else {
            bump(self.last)
        };
        debug_assert!(next > self.last, "the clock must move forward");
        self.last = next;
        next
    }

    /// Advances past a received stamp. Returns a report when the stamp is implausibly far ahead.
    pub(crate) fn observe(&mut self, remote: Hlc, wall: WallTime) -> Option<ClockAhead> {
        if remote > self.last {
            self.last = remote;
        }
        if wall.0 > self.last.wall_ms {
            self.last = Hlc { wall_ms: wall.0, logical: 0 };
        }
        let ahead_ms = remote.wall_ms.saturating_sub(wall.0);
        (ahead_ms > self.ahead_ms_max).then_some(ClockAhead { remote, local_wall: wall, ahead_ms })
    }
}

/// The next reading after `hlc` at the same wall time; on counter overflow the wall part moves
/// on by a millisecond, which keeps the order total without an unbounded counter.
fn bump(hlc: Hlc) -> Hlc {
    match hlc.logical.checked_add(1) {
        Some(logical) => Hlc { wall_ms: hlc.wall_ms, logical },
        None => Hlc { wall_ms: hlc.wall_ms.saturating_add(1), logical: 0 },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_never_goes_backwards_when_the_wall_clock_jumps_back() {
        let mut clock = HlcClock::new(Hlc::default(), 1_000);
        let a = clock.tick(WallTime(10_000));
        let b = clock.tick(WallTime(5_000));
        let c = clock.tick(WallTime(5_001));
        assert!(a < b);
        assert!(b < c);
        assert_eq!(b.wall_ms, 10_000);
    }

    #[test]
    fn observing_a_remote_stamp_moves_the_clock_past_it() {
        let mut clock = HlcClock::new(Hlc::default(), u64::MAX);
        let remote = Hlc { wall_ms: 50_000, logical: 7 };
        assert_eq!(clock.observe(remote, WallTime(1_000)), None);
        assert!(clock.tick(WallTime(1_001)) > remote);
    }

    #[test]
    fn a_stamp_far_ahead_is_reported_and_still_observed() {
        let mut clock = HlcClock::new(Hlc::default(), 1_000);
        let remote = Hlc { wall_ms: 10_000, logical: 0 };
        let report = clock.observe(remote, WallTime(2_000)).expect("8 s ahead exceeds 1 s bound");
        assert_eq!(report.ahead_ms, 8_000);
        assert_eq!(clock.last(), remote);
    }

    #[test]
    fn logical_overflow_carries_into_the_wall_part() {
        let mut clock = HlcClock::new(Hlc { wall_ms: 5, logical: u32::MAX }, 0);
        let next = clock.tick(WallTime(0));
        assert_eq!(next, Hlc { wall_ms: 6, logical: 0 });
    }
}
