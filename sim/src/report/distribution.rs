//! One distribution of a report (a latency in simulated milliseconds, or a count such as a
//! batch size), kept as an HdrHistogram so that seeds, scenarios and shards merge exactly.
//!
//! In `summary.json` a distribution carries its percentiles for readers and its non-empty
//! buckets for `report merge`: re-recording each bucket's highest equivalent value lands in the
//! same bucket, so a merged histogram equals the one a single run would have built.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Significant decimal digits of every histogram: 1 % resolution keeps per-seed histograms a
/// few kilobytes and `summary.json` small, which matters more in a report than the third digit.
pub const SIGNIFICANT_DIGITS: u8 = 2;

/// The percentiles every table and `summary.json` show, as (label, quantile).
pub const PERCENTILES: [(&str, f64); 4] =
    [("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p99_9", 0.999)];

/// A mergeable distribution of non-negative integers.
#[derive(Clone, Debug)]
pub struct Distribution {
    histogram: Histogram<u64>,
}

impl Default for Distribution {
    fn default() -> Distribution {
        Distribution::new()
    }
}

impl PartialEq for Distribution {
    fn eq(&self, other: &Distribution) -> bool {
        self.buckets() == other.buckets()
    }
}

impl Eq for Distribution {}

impl Distribution {
    pub fn new() -> Distribution {
        // Only an invalid digit count (outside 0..=5) can fail, and the constant is valid.
        let histogram = Histogram::new(SIGNIFICANT_DIGITS).expect("2 significant digits is valid");
        Distribution { histogram }
    }

    pub fn record(&mut self, value: u64) {
        self.record_n(value, 1);
    }

    /// Records `count` occurrences of `value`.
    pub fn record_n(&mut self, value: u64, count: u64) {
        // The histogram resizes itself, so only a value near u64::MAX could be refused;
        // saturating keeps such an impossible value visible as the maximum instead. (Saturating
        // from the start would clamp to the current, small range instead of resizing.)
        if self.histogram.record_n(value, count).is_err() {
            self.histogram.saturating_record_n(value, count);
        }
    }

    pub fn merge(&mut self, other: &Distribution) {
        // Both sides auto-resize with the same precision, so adding cannot fail.
        self.histogram.add(&other.histogram).expect("histograms of equal precision add");
    }

    pub fn count(&self) -> u64 {
        self.histogram.len()
    }

    pub fn is_empty(&self) -> bool {
        self.histogram.is_empty()
    }

    pub fn histogram(&self) -> &Histogram<u64> {
        &self.histogram
    }

    /// The value at `quantile` (0..=1), or 0 for an empty distribution.
    pub fn value_at(&self, quantile: f64) -> u64 {
        self.histogram.value_at_quantile(quantile)
    }

    /// Every non-empty bucket as (highest equivalent value, count), lowest first.
    pub fn buckets(&self) -> Vec<(u64, u64)> {
        self.histogram
            .iter_recorded()
            .map(|v| (v.value_iterated_to(), v.count_at_value()))
            .collect()
    }

    /// Rebuilds a distribution from [`Distribution::buckets`].
    pub fn from_buckets(buckets: &[(u64, u64)]) -> Distribution {
        let mut distribution = Distribution::new();
        for &(value, count) in buckets {
            distribution.record_n(value, count);
        }
        distribution
    }

    /// The figures a report shows, plus the buckets that make it mergeable.
    pub fn summary(&self, unit: &str) -> DistributionSummary {
        let h = &self.histogram;
        let empty = h.is_empty();
        DistributionSummary {
            unit: unit.to_owned(),
            count: h.len(),
            min: if empty { 0 } else { h.min() },
            max: if empty { 0 } else { h.max() },
            mean: round3(if empty { 0.0 } else { h.mean() }),
            stddev: round3(if empty { 0.0 } else { h.stdev() }),
            p50: self.value_at(0.5),
            p90: self.value_at(0.9),
            p99: self.value_at(0.99),
            p99_9: self.value_at(0.999),
            buckets: self.buckets(),
        }
    }
}

/// A distribution as `summary.json` holds it (see `reports/README.md`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistributionSummary {
    pub unit: String,
    pub count: u64,
    pub min: u64,
    pub max: u64,
    pub mean: f64,
    pub stddev: f64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p99_9: u64,
    /// (highest equivalent value, count) of every non-empty bucket, lowest first.
    pub buckets: Vec<(u64, u64)>,
}

impl DistributionSummary {
    pub fn distribution(&self) -> Distribution {
        Distribution::from_buckets(&self.buckets)
    }
}

/// Rounds to three decimals so that the JSON text does not depend on the last bits of a float
/// sum, and reads well.
fn round3(value: f64) -> f64 {
    (value * 1_000.0).round() / 1_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Goal: rebuilding from the stored buckets loses nothing, so `report merge` is exact.
    #[test]
    fn a_distribution_survives_its_buckets_round_trip() {
        let mut original = Distribution::new();
        for value in [0, 1, 7, 250, 251, 9_999, 123_456, 123_456] {
            original.record(value);
        }
        let rebuilt = Distribution::from_buckets(&original.buckets());
        assert_eq!(rebuilt, original);
        assert_eq!(rebuilt.count(), 8);
        assert_eq!(rebuilt.summary("ms"), original.summary("ms"));
    }

    /// Goal: merging two halves gives what recording everything in one place gives.
    #[test]
    fn merged_halves_equal_the_whole() {
        let (mut first, mut second, mut whole) =
            (Distribution::new(), Distribution::new(), Distribution::new());
        for value in 0..2_000u64 {
            let value = value * value % 7_919;
            whole.record(value);
            if value % 2 == 0 { first.record(value) } else { second.record(value) }
        }
        first.merge(&second);
        assert_eq!(first, whole);
        assert_eq!(first.summary("ms").p99, whole.summary("ms").p99);
    }

    /// Goal: an empty distribution reports zeros rather than panicking or inventing values.
    #[test]
    fn an_empty_distribution_summarises_as_zeros() {
        let summary = Distribution::new().summary("ms");
        assert_eq!((summary.count, summary.min, summary.max, summary.p99_9), (0, 0, 0, 0));
        assert!(summary.buckets.is_empty());
    }
}
