//! What a run produces: its digest, the checkers' verdicts, and counters for the report.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

pub use crate::engine::TraceEntry;
use crate::report::measures::Measures;

/// The names of the checkers, as they appear in failures.
pub mod checker {
    pub const CONVERGENCE: &str = "convergence";
    pub const ORACLE: &str = "oracle";
    pub const NO_RESURRECTION: &str = "no_resurrection";
    pub const STABILITY: &str = "stability";
    pub const MONOTONIC: &str = "monotonic";
    pub const LIVENESS: &str = "liveness";
    pub const QUARANTINE_ACCOUNTED: &str = "quarantine_accounted";
    pub const QUARANTINE_JUSTIFIED: &str = "quarantine_justified";
    pub const NO_FIELD_LOSS: &str = "no_field_loss";
    pub const OUTBOX_SURVIVES_UPGRADE: &str = "outbox_survives_upgrade";
    pub const INVARIANT: &str = "invariant";
    pub const DAMAGE_REFUSED: &str = "damage_refused";
    pub const HERD_SPREAD: &str = "herd_spread";
    /// Not a checker: a panic inside the core (or the harness), caught and reported.
    pub const PANIC: &str = "panic";
}

/// One invariant that did not hold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub checker: String,
    pub node: Option<String>,
    pub record: Option<String>,
    /// Simulated time of the failure (or of the check that found it).
    pub at_ms: u64,
    /// How many events had run when it was found.
    pub event_index: u64,
    pub detail: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}]", self.checker)?;
        if let Some(node) = &self.node {
            write!(f, " node {node}")?;
        }
        if let Some(record) = &self.record {
            write!(f, " record {record}")?;
        }
        write!(f, " at {} ms (event {}): {}", self.at_ms, self.event_index, self.detail)
    }
}

/// Counters of one run, summed over its nodes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunStats {
    pub writes_committed: u64,
    /// Writes the core refused (a full outbox, for example); the workload is always valid.
    pub writes_refused: u64,
    /// Writes planned while their client was crashed: the app was not running.
    pub writes_skipped_down: u64,
    pub messages_sent: u64,
    pub messages_lost: u64,
    pub messages_cut_by_partition: u64,
    pub messages_duplicated: u64,
    pub conflicts: u64,
    pub retries: u64,
    pub resyncs: u64,
    pub ops_migrated_up: u64,
    pub ops_migrated_down: u64,
    pub duplicates_dropped: u64,
    pub quarantined: u64,
    /// Quarantined ops by reason kind, summed over nodes.
    pub quarantined_by_reason: BTreeMap<String, u64>,
    /// Writes the plan corrupted into invalid payloads.
    pub invalid_payloads_injected: u64,
    /// Each node's schema version at the end (the app's for clients, the newest served for
    /// the server), as `"client-2 v3": 1`; summed over a sweep, how many seeds ended so.
    pub nodes_at_schema_version: BTreeMap<String, u64>,
    pub tombstones_collected: u64,
    pub clock_ahead_reports: u64,
    pub faults_fired: BTreeMap<String, u64>,
}

/// Everything one seed produced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub scenario: String,
    pub seed: u64,
    /// The trace digest: equal for equal (plan, binary), on any machine.
    pub digest: String,
    pub events: u64,
    pub end_ms: u64,
    pub heal_at_ms: u64,
    pub converged_at_ms: Option<u64>,
    pub failures: Vec<Failure>,
    pub stats: RunStats,
    /// Every quarantine reported, as `node: op on record: reason` (the first 1,000).
    #[serde(skip)]
    pub quarantines: Vec<String>,
    /// When each client connection was established, in simulated milliseconds.
    #[serde(skip)]
    pub connects_ms: Vec<u64>,
    #[serde(skip)]
    pub trace: Vec<TraceEntry>,
    /// Latencies, reconnects, batch sizes and hotspots, for the report.
    #[serde(skip)]
    pub measures: Measures,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }

    /// Simulated milliseconds the run covered.
    pub fn simulated_ms(&self) -> u64 {
        self.end_ms
    }
}
