//! How long to wait for a response: a round-trip estimate in the manner of TCP's (RFC 6298).
//!
//! A fixed timeout shorter than the link's round trip fails every request: the answer always
//! arrives just after the client gave up on it, and the client never makes progress. So the
//! timeout follows the measured round trips (smoothed mean plus four deviations), never below
//! the configured floor, and doubles after each timeout up to a cap, which also finds a link
//! that got slower than anything measured so far. Every request has its own batch id, so each
//! response measures exactly one round trip (Karn's ambiguity does not arise).

/// The adaptive response timeout of one client.
#[derive(Clone, Debug)]
pub(crate) struct ResponseTimeout {
    floor_ms: u64,
    cap_ms: u64,
    /// Smoothed round trip and its mean deviation, once a response has been measured.
    smoothed: Option<(u64, u64)>,
    /// How many timeouts in a row have doubled the wait.
    backoff_exponent: u32,
}

impl ResponseTimeout {
    /// A timeout that starts at `floor_ms` and never waits longer than `cap_ms`.
    pub(crate) fn new(floor_ms: u64, cap_ms: u64) -> ResponseTimeout {
        ResponseTimeout {
            floor_ms,
            cap_ms: cap_ms.max(floor_ms),
            smoothed: None,
            backoff_exponent: 0,
        }
    }

    /// How long to wait for the response to a request sent now.
    pub(crate) fn wait_ms(&self) -> u64 {
        let estimate = self.smoothed.map_or(self.floor_ms, |(srtt, rttvar)| srtt + 4 * rttvar);
        let doubled =
            estimate.max(self.floor_ms).saturating_mul(1 << self.backoff_exponent.min(16));
        doubled.min(self.cap_ms)
    }

    /// A response arrived `rtt_ms` after its request was sent.
    pub(crate) fn on_response(&mut self, rtt_ms: u64) {
        self.backoff_exponent = 0;
        self.smoothed = Some(match self.smoothed {
            None => (rtt_ms, rtt_ms / 2),
            Some((srtt, rttvar)) => {
                let rttvar = (3 * rttvar + srtt.abs_diff(rtt_ms)) / 4;
                let srtt = (7 * srtt + rtt_ms) / 8;
                (srtt, rttvar)
            }
        });
    }

    /// A request went unanswered: wait twice as long next time.
    pub(crate) fn on_timeout(&mut self) {
        self.backoff_exponent = self.backoff_exponent.saturating_add(1).min(16);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_timeout_starts_at_the_floor_and_never_drops_below_it() {
        let mut timeout = ResponseTimeout::new(3_000, 60_000);
        assert_eq!(timeout.wait_ms(), 3_000);
        for _ in 0..20 {
            timeout.on_response(10);
        }
        assert_eq!(timeout.wait_ms(), 3_000);
    }

    #[test]
    fn a_slow_link_lengthens_the_timeout_past_its_round_trip() {
        let mut timeout = ResponseTimeout::new(3_000, 60_000);
        for _ in 0..20 {
            timeout.on_response(4_000);
        }
        assert!(timeout.wait_ms() > 4_000, "{}", timeout.wait_ms());
        assert!(timeout.wait_ms() < 8_000, "{}", timeout.wait_ms());
    }

    #[test]
    fn each_timeout_doubles_the_wait_up_to_the_cap_and_a_response_resets_it() {
        let mut timeout = ResponseTimeout::new(3_000, 20_000);
        timeout.on_timeout();
        assert_eq!(timeout.wait_ms(), 6_000);
        timeout.on_timeout();
        assert_eq!(timeout.wait_ms(), 12_000);
        timeout.on_timeout();
        assert_eq!(timeout.wait_ms(), 20_000);
        for _ in 0..100 {
            timeout.on_timeout();
        }
        assert_eq!(timeout.wait_ms(), 20_000);
        timeout.on_response(100);
        assert_eq!(timeout.wait_ms(), 3_000);
    }
}
