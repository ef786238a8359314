//! Per-node wall clocks: true simulated time, plus the node's offset, drift and jumps.

use crate::scenario::NodeClock;

/// Where every simulated wall clock starts (2023-11-14), so readings look like real ones.
pub(crate) const WALL_EPOCH_MS: u64 = 1_700_000_000_000;

/// One node's wall clock.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WallClock {
    offset_ms: i64,
    drift_ppm: i64,
    jumps_ms: i64,
}

impl WallClock {
    pub(crate) fn new(params: NodeClock) -> WallClock {
        WallClock { offset_ms: params.offset_ms, drift_ppm: params.drift_ppm, jumps_ms: 0 }
    }

    /// Moves the clock by `delta_ms` from now on (a jump; backwards when negative).
    pub(crate) fn jump(&mut self, delta_ms: i64) {
        self.jumps_ms = self.jumps_ms.saturating_add(delta_ms);
    }

    /// The node's reading at simulated time `now_ms`. Drift accumulates from the start:
    /// `drift_ppm` microseconds per second is `drift_ppm * now_ms / 1_000_000` milliseconds.
    pub(crate) fn read(&self, now_ms: u64) -> u64 {
        let drift_ms = (i128::from(self.drift_ppm) * i128::from(now_ms) / 1_000_000) as i64;
        let skew = self.offset_ms.saturating_add(drift_ms).saturating_add(self.jumps_ms);
        (WALL_EPOCH_MS + now_ms).saturating_add_signed(skew)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clock_reads_true_time_plus_offset_drift_and_jumps() {
        let mut clock = WallClock::new(NodeClock { offset_ms: -5_000, drift_ppm: 500 });
        assert_eq!(clock.read(0), WALL_EPOCH_MS - 5_000);
        // 500 ppm over 1,000 s gains half a second.
        assert_eq!(clock.read(1_000_000), WALL_EPOCH_MS + 1_000_000 - 5_000 + 500);
        clock.jump(-60_000);
        assert_eq!(clock.read(0), WALL_EPOCH_MS - 65_000);
    }
}
