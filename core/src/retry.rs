//! Retry policy: exponential backoff with full jitter, and a circuit breaker.
//!
//! Full jitter (a uniform delay in `[0, min(cap, base * 2^attempt)]`) spreads a herd of clients
//! that failed together, so they do not all come back in the same instant. The breaker stops
//! retrying after `failures_max` consecutive failures and lets one probe through after a
//! cool-down; a success closes it and resets the backoff.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::time::MonoTime;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryConfig {
    pub backoff_ms_base: u64,
    pub backoff_ms_max: u64,
    /// Consecutive failures that open the breaker.
    pub breaker_failures_max: u32,
    /// How long an open breaker waits before it lets a probe through.
    pub breaker_cooldown_ms: u64,
}

impl Default for RetryConfig {
    fn default() -> RetryConfig {
        RetryConfig {
            backoff_ms_base: 250,
            backoff_ms_max: 30_000,
            breaker_failures_max: 12,
            breaker_cooldown_ms: 60_000,
        }
    }
}

/// The breaker's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Breaker {
    /// Retries flow, with backoff.
    Closed,
    /// Too many failures: nothing is tried before `until`.
    Open { until: MonoTime },
    /// The cool-down is over: the next attempt is a probe; its failure reopens the breaker.
    HalfOpen,
}

/// What to do after a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RetryDecision {
    /// Try again at this time.
    RetryAt(MonoTime),
    /// The breaker just opened; the probe is due at this time.
    BreakerOpened(MonoTime),
}

impl RetryDecision {
    pub(crate) fn at(self) -> MonoTime {
        match self {
            RetryDecision::RetryAt(at) | RetryDecision::BreakerOpened(at) => at,
        }
    }
}

/// Backoff and breaker state of one client.
#[derive(Clone, Debug)]
pub(crate) struct Retry {
    config: RetryConfig,
    failures: u32,
    breaker: Breaker,
    rng: ChaCha8Rng,
}

impl Retry {
    pub(crate) fn new(config: RetryConfig, rng: ChaCha8Rng) -> Retry {
        Retry { config, failures: 0, breaker: Breaker::Closed, rng }
    }

    pub(crate) fn breaker(&self) -> Breaker {
        self.breaker
    }

    /// Consecutive failures since the last success.
    #[cfg(test)]
    pub(crate) fn failures(&self) -> u32 {
        self.failures
    }

    /// Records a success: the backoff starts over and the breaker closes.
    pub(crate) fn on_success(&mut self) {
        self.failures = 0;
        self.breaker = Breaker::Closed;
    }

    /// Records a failure and says when to try next.
    pub(crate) fn on_failure(&mut self, now: MonoTime) -> RetryDecision {
        self.failures = self.failures.saturating_add(1);
        let trips = match self.breaker {
            Breaker::HalfOpen | Breaker::Open { .. } => true,
            Breaker::Closed => self.failures >= self.config.breaker_failures_max,
        };
        if trips {
            let until = now.plus_ms(self.config.breaker_cooldown_ms);
            self.breaker = Breaker::Open { until };
            return RetryDecision::BreakerOpened(until);
        }
        RetryDecision::RetryAt(now.plus_ms(self.jittered_delay_ms()))
    }

    /// Called when a retry is due: moves an open breaker whose cool-down is over to half-open.
    /// Returns whether an attempt may be made now.
    pub(crate) fn may_attempt(&mut self, now: MonoTime) -> bool {
        match self.breaker {
            Breaker::Closed | Breaker::HalfOpen => true,
            Breaker::Open { until } if now >= until => {
                self.breaker = Breaker::HalfOpen;
                true
            }
            Breaker::Open { .. } => false,
        }
    }

    /// A uniform delay in `[0, min(max, base * 2^(failures - 1))]`.
    fn jittered_delay_ms(&mut self) -> u64 {
        let exponent = self.failures.saturating_sub(1).min(40);
        let ceiling = self
            .config
            .backoff_ms_base
            .saturating_mul(1u64 << exponent)
            .min(self.config.backoff_ms_max);
        self.rng.random_range(0..=ceiling)
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    fn retry(config: RetryConfig) -> Retry {
        Retry::new(config, ChaCha8Rng::seed_from_u64(7))
    }

    #[test]
    fn delays_grow_exponentially_under_the_cap_and_reset_on_success() {
        let config = RetryConfig { breaker_failures_max: 100, ..RetryConfig::default() };
        let mut retry = retry(config);
        let now = MonoTime(0);
        for attempt in 1..=20u32 {
            let delay = retry.on_failure(now).at().0;
            let ceiling = (250u64 << (attempt - 1).min(40)).min(30_000);
            assert!(delay <= ceiling, "attempt {attempt}: {delay} > {ceiling}");
        }
        retry.on_success();
        assert_eq!(retry.failures(), 0);
        assert!(retry.on_failure(now).at().0 <= 250);
    }

    #[test]
    fn full_jitter_spreads_a_herd_across_the_window() {
        let mut delays: Vec<u64> = (0..50)
            .map(|seed| {
                let mut r = Retry::new(RetryConfig::default(), ChaCha8Rng::seed_from_u64(seed));
                r.on_failure(MonoTime(0));
                r.on_failure(MonoTime(0));
                r.on_failure(MonoTime(0)).at().0
            })
            .collect();
        delays.sort_unstable();
        delays.dedup();
        assert!(delays.len() > 40, "50 clients should pick mostly distinct delays: {delays:?}");
        assert!(delays.iter().all(|d| *d <= 1_000));
    }

    #[test]
    fn the_breaker_opens_after_repeated_failures_and_probes_after_the_cooldown() {
        let config = RetryConfig {
            breaker_failures_max: 3,
            breaker_cooldown_ms: 1_000,
            ..Default::default()
        };
        let mut retry = retry(config);
        assert!(matches!(retry.on_failure(MonoTime(0)), RetryDecision::RetryAt(_)));
        assert!(matches!(retry.on_failure(MonoTime(0)), RetryDecision::RetryAt(_)));
        assert_eq!(retry.on_failure(MonoTime(0)), RetryDecision::BreakerOpened(MonoTime(1_000)));
        assert!(!retry.may_attempt(MonoTime(999)));
        assert!(retry.may_attempt(MonoTime(1_000)));
        assert_eq!(retry.breaker(), Breaker::HalfOpen);
        // A failed probe reopens at once; a successful one closes.
        assert_eq!(
            retry.on_failure(MonoTime(1_000)),
            RetryDecision::BreakerOpened(MonoTime(2_000))
        );
        assert!(retry.may_attempt(MonoTime(2_000)));
        retry.on_success();
        assert_eq!(retry.breaker(), Breaker::Closed);
    }
}
