//! What the engine measured during one seed, for the report: distributions in simulated time
//! and counters that the end-of-run node metrics cannot give (they restart with a crashed node).

use std::collections::BTreeMap;

use serde::Serialize;

use super::distribution::Distribution;

/// The distributions of a report: key in `summary.json`, unit, and what is measured.
pub const METRICS: [(&str, &str, &str); 9] = [
    ("write_to_ack_ms", "ms", "write → acknowledged by the server"),
    (
        "write_to_visible_everywhere_ms",
        "ms",
        "write → applied on the server and every other client",
    ),
    ("heal_to_converged_ms", "ms", "heal → every replica converged"),
    ("reconnect_attempts_per_outage", "dials", "dials from a lost link to the next connection"),
    ("reconnect_backoff_ms", "ms", "lost link or failed dial → next dial"),
    ("outage_ms", "ms", "lost link → connected again"),
    ("push_batch_ops", "ops", "ops per push batch a client sent"),
    ("pull_batch_ops", "ops", "ops per pull batch a client applied"),
    ("outbox_ops", "ops", "a client's outbox length, sampled whenever it changes"),
];

/// Everything measured in one seed. The engine only observes: nothing here feeds back into
/// the run, so the trace digest is the same with or without it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Measures {
    /// By key of [`METRICS`].
    pub distributions: BTreeMap<&'static str, Distribution>,
    /// Committed writes the server never acknowledged before the run ended.
    pub writes_never_acked: u64,
    /// Committed, never quarantined writes that some replica had not applied by the end.
    pub writes_not_visible_everywhere: u64,
    /// Conflicts the server decided, per record (`collection/id`).
    pub conflicts_by_record: BTreeMap<String, u64>,
    /// What a single-seed timeline draws.
    pub activity: Activity,
}

impl Measures {
    pub fn record(&mut self, metric: &'static str, value: u64) {
        debug_assert!(METRICS.iter().any(|(key, ..)| *key == metric), "unknown metric {metric}");
        self.distributions.entry(metric).or_default().record(value);
    }

    pub fn distribution(&self, metric: &str) -> Option<&Distribution> {
        self.distributions.get(metric)
    }
}

/// Client activity over simulated time, for the fault timeline of a single-seed report.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Activity {
    /// Per client (index 0 is client-1): the `[from_ms, to_ms)` spans it was connected.
    pub connected_spans: Vec<Vec<(u64, u64)>>,
    /// Per client: when its committed writes happened.
    pub writes_ms: Vec<Vec<u64>>,
    /// The sum of every outbox, at most one point per [`OUTBOX_SAMPLE_MS`] (its maximum).
    pub outbox_total: Vec<(u64, u64)>,
}

/// The resolution of [`Activity::outbox_total`].
pub const OUTBOX_SAMPLE_MS: u64 = 1_000;
