//! What a run produces: its digest, the checkers' verdicts, and counters for the report.

use crate::counters::NodeCounters;
use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

pub use crate::engine::TraceEntry;
use crate::report::measures::Measures;

/// What must hold in every run, each named in the failures it reports. The names (see
/// [`Checker::as_str`]) appear in reports, JUnit files, `summary.json` and repro files, so they
/// never change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "&'static str", try_from = "String")]
pub enum Checker {
    /// Every replica's state equals the server's.
    Convergence,
    /// The server's state equals the merge of every op durably committed anywhere.
    Oracle,
    /// No record comes back from its delete.
    NoResurrection,
    /// One more sync round changes nothing.
    Stability,
    /// Cursors, log heads and clocks never go back.
    Monotonic,
    /// Everyone converges within the deadline after the heal.
    Liveness,
    /// Every quarantined op was reported, and has a cause the run explains.
    QuarantineAccounted,
    /// Every stale quarantine happened where the server could not decide.
    QuarantineJustified,
    /// No field a newer schema version added is erased by an older client's edit.
    NoFieldLoss,
    /// Writes a client queued survive its upgrade.
    OutboxSurvivesUpgrade,
    /// Each node's internal invariants hold after each of its inputs.
    Invariant,
    /// A message damaged in transit is refused, or changes nothing.
    DamageRefused,
    /// Clients that fail together do not retry together.
    HerdSpread,
    /// No hostile peer is admitted with a bad token, has a write applied, or is shown a record
    /// outside its read scope.
    NoUnauthorizedAccess,
    /// Every op the server applied has one audit entry, at its log position, naming the user
    /// whose token pushed it.
    AuditTrail,
    /// Not a checker: a panic inside the core (or the harness), caught and reported.
    Panic,
}

impl Checker {
    /// Every checker, in the order they are listed in documentation.
    pub const ALL: [Checker; 16] = [
        Checker::Convergence,
        Checker::Oracle,
        Checker::NoResurrection,
        Checker::Stability,
        Checker::Monotonic,
        Checker::Liveness,
        Checker::QuarantineAccounted,
        Checker::QuarantineJustified,
        Checker::NoFieldLoss,
        Checker::OutboxSurvivesUpgrade,
        Checker::Invariant,
        Checker::DamageRefused,
        Checker::HerdSpread,
        Checker::NoUnauthorizedAccess,
        Checker::AuditTrail,
        Checker::Panic,
    ];

    /// The checker's name, as every report and repro file writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Checker::Convergence => "convergence",
            Checker::Oracle => "oracle",
            Checker::NoResurrection => "no_resurrection",
            Checker::Stability => "stability",
            Checker::Monotonic => "monotonic",
            Checker::Liveness => "liveness",
            Checker::QuarantineAccounted => "quarantine_accounted",
            Checker::QuarantineJustified => "quarantine_justified",
            Checker::NoFieldLoss => "no_field_loss",
            Checker::OutboxSurvivesUpgrade => "outbox_survives_upgrade",
            Checker::Invariant => "invariant",
            Checker::DamageRefused => "damage_refused",
            Checker::HerdSpread => "herd_spread",
            Checker::NoUnauthorizedAccess => "no_unauthorized_access",
            Checker::AuditTrail => "audit_trail",
            Checker::Panic => "panic",
        }
    }
}

impl fmt::Display for Checker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<Checker> for &'static str {
    fn from(checker: Checker) -> &'static str {
        checker.as_str()
    }
}

/// A name that is no checker's, read from a repro file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownChecker(pub String);

impl fmt::Display for UnknownChecker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no checker is named {:?}", self.0)
    }
}

impl std::error::Error for UnknownChecker {}

impl std::str::FromStr for Checker {
    type Err = UnknownChecker;

    fn from_str(name: &str) -> Result<Checker, UnknownChecker> {
        Checker::ALL
            .into_iter()
            .find(|checker| checker.as_str() == name)
            .ok_or_else(|| UnknownChecker(name.to_owned()))
    }
}

impl TryFrom<String> for Checker {
    type Error = UnknownChecker;

    fn try_from(name: String) -> Result<Checker, UnknownChecker> {
        name.parse()
    }
}

/// One invariant that did not hold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub checker: Checker,
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

/// Counters of one run. The node counters add up: each total below that the core counts is
/// `server` plus `clients`, except `conflicts`, counted once per conflict, where the server
/// decided it.
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
    /// Conflicts the server decided (each replica that applies both sides decides it again).
    pub conflicts: u64,
    /// The same, by merge policy.
    pub conflicts_by_rule: BTreeMap<String, u64>,
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
    /// Every counter the core keeps, summed over the server's incarnations.
    pub server: NodeCounters,
    /// The same over every client's incarnations.
    pub clients: NodeCounters,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Reports, JUnit files and repro files written before the enum existed used these names.
    #[test]
    fn checkers_keep_the_names_reports_have_always_used() {
        let names: Vec<&str> = Checker::ALL.iter().map(|c| c.as_str()).collect();
        let expected = [
            "convergence",
            "oracle",
            "no_resurrection",
            "stability",
            "monotonic",
            "liveness",
            "quarantine_accounted",
            "quarantine_justified",
            "no_field_loss",
            "outbox_survives_upgrade",
            "invariant",
            "damage_refused",
            "herd_spread",
            "no_unauthorized_access",
            "audit_trail",
            "panic",
        ];
        assert_eq!(names, expected);
    }

    #[test]
    fn a_checker_serializes_as_its_name_and_reads_back() {
        for checker in Checker::ALL {
            let json = serde_json::to_string(&checker).expect("a name serializes");
            assert_eq!(json, format!("\"{checker}\""));
            let back: Checker = serde_json::from_str(&json).expect("its own name reads back");
            assert_eq!(back, checker);
        }
    }

    #[test]
    fn a_name_no_checker_has_is_refused() {
        let read = serde_json::from_str::<Checker>("\"osmosis\"");
        assert!(read.is_err(), "an unknown checker name was accepted: {read:?}");
    }
}
