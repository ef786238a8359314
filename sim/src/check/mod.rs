//! The checkers: what must hold at the end of every run, each with a name that appears in its
//! failures. `monotonic` and `liveness` are checked while the run goes (see the engine); the
//! rest judge the final state against the ledger of everything that happened.

mod convergence;
mod herd;
mod oracle;
mod quarantine;
mod reference;
mod rollout;

pub(crate) use quarantine::{Silences, StaleDecision};

use std::collections::{BTreeMap, BTreeSet};

use driftsync_core::{Metrics, Op, OpId, QuarantineNotice, RecordKey, RecordView, Records};

use crate::engine::Sim;
use crate::outcome::{Checker, Failure, RunStats};
use crate::plan::NodeId;

/// What the harness saw happen, for the checkers.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    /// Every op a local write committed, in commit order, migrated to the lineage's latest
    /// version (the version the server stores).
    pub(crate) committed: Vec<Op>,
    /// Clients whose last handshake made them read-only, by client index.
    pub(crate) read_only: BTreeSet<usize>,
    /// Writes committed while their client was read-only: they must reach the server once it
    /// upgrades.
    pub(crate) queued_read_only: Vec<OpId>,
    /// When each committed write was made, in simulated milliseconds.
    pub(crate) written_ms: BTreeMap<OpId, u64>,
    /// Quarantines reported by an event: (reporting node, op).
    pub(crate) reported: BTreeSet<(NodeId, OpId)>,
    /// Every op quarantined anywhere, once, with the kind of the reason first reported: the
    /// writes a run lost.
    pub(crate) quarantined_ops: BTreeMap<OpId, &'static str>,
    /// How long the server went without hearing from each client.
    pub(crate) silences: Silences,
    /// What held each time the server quarantined an op as stale.
    pub(crate) stale: Vec<StaleDecision>,
    pub(crate) conflicts: u64,
    pub(crate) clock_ahead_reports: u64,
    pub(crate) writes_refused: u64,
    pub(crate) writes_skipped_down: u64,
    pub(crate) faults_fired: BTreeMap<String, u64>,
    /// When each successful connection was made.
    pub(crate) connects_ms: Vec<u64>,
    /// The same, with the client (by index) that connected.
    pub(crate) client_connects: Vec<(u64, usize)>,
    /// Every quarantine reported, as `node: op on record: reason`, up to a bound.
    pub(crate) quarantines: Vec<String>,
    /// Counters of node incarnations that crashed (or restarted for an upgrade).
    pub(crate) metrics_of_crashed: Metrics,
    /// Messages damaged in transit that a node refused (malformed or failing a manifest).
    pub(crate) damage_refused: u64,
}

impl Ledger {
    /// Counts one more fault (or faulty situation) of `kind`.
    pub(crate) fn fired(&mut self, kind: &str) {
        *self.faults_fired.entry(kind.to_owned()).or_default() += 1;
    }

    /// Records a quarantine a node reported, with its reason, for the checkers and the report.
    pub(crate) fn note_quarantine(&mut self, node: NodeId, notice: &QuarantineNotice) {
        self.reported.insert((node, notice.op));
        self.quarantined_ops.entry(notice.op).or_insert(notice.reason.kind());
        if self.quarantines.len() < QUARANTINES_LISTED_MAX {
            self.quarantines
                .push(format!("{node}: op {} on {}: {}", notice.op, notice.key, notice.reason));
        }
    }
}

/// Quarantines listed by reason in a run's outcome; the counters count them all.
pub(crate) const QUARANTINES_LISTED_MAX: usize = 1_000;

/// What replicas must agree on: every record that is more than a bare tombstone, whether it
/// exists, and every field value it holds, visible or not. Field values of a record that was
/// never put are invisible to applications but surface when it is, so they count too. Bare
/// tombstones are left out because each replica collects them on its own schedule.
pub(crate) type Content = BTreeMap<RecordKey, (bool, RecordView)>;

pub(crate) fn content(records: &Records) -> Content {
    records
        .iter()
        .filter(|(_, state)| !state.is_bare_tombstone())
        .map(|(key, state)| {
            let fields =
                state.fields.iter().filter_map(|(n, f)| Some((n.clone(), f.view()?))).collect();
            (key.clone(), (state.is_live(), fields))
        })
        .collect()
}

/// Every replica's content and the server's log head at one instant.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Snapshot {
    pub(crate) server: Option<(driftsync_core::LogPos, Content)>,
    pub(crate) clients: Vec<Option<Content>>,
}

pub(crate) fn snapshot(sim: &Sim<'_>) -> Snapshot {
    Snapshot {
        server: sim.server().map(|s| (s.head(), content(s.records()))),
        clients: sim.client_nodes().map(|(_, c)| c.map(|c| content(c.records()))).collect(),
    }
}

/// Runs every end-of-run checker.
pub(crate) fn judge(sim: &Sim<'_>) -> Vec<Failure> {
    let mut failures = Vec::new();
    let mut found =
        |checker: Checker, node: Option<String>, record: Option<String>, detail: String| {
            failures.push(Failure {
                checker,
                node,
                record,
                at_ms: sim.now_ms(),
                event_index: sim.event_index(),
                detail,
            });
        };
    convergence::convergence(sim, &mut found);
    convergence::stability(sim, &mut found);
    oracle::oracle(sim, &mut found);
    oracle::no_resurrection(sim, &mut found);
    quarantine::quarantine_accounted(sim, &mut found);
    quarantine::quarantine_justified(sim, &mut found);
    rollout::no_field_loss(sim, &mut found);
    rollout::outbox_survives_upgrade(sim, &mut found);
    herd::herd_spread(sim, &mut found);
    failures
}

/// How a checker reports: checker, node, record, detail.
pub(crate) type Report<'a> = dyn FnMut(Checker, Option<String>, Option<String>, String) + 'a;

/// The run's counters, summed over nodes.
pub(crate) fn stats(sim: &Sim<'_>) -> RunStats {
    let ledger = sim.ledger();
    let network = sim.network_stats();
    let mut stats = RunStats {
        writes_committed: ledger.committed.len() as u64,
        writes_refused: ledger.writes_refused,
        writes_skipped_down: ledger.writes_skipped_down,
        messages_sent: network.sent,
        messages_lost: network.lost,
        messages_cut_by_partition: network.cut_by_partition,
        messages_duplicated: network.duplicated,
        conflicts: ledger.conflicts,
        clock_ahead_reports: ledger.clock_ahead_reports,
        faults_fired: ledger.faults_fired.clone(),
        invalid_payloads_injected: sim.injected().len() as u64,
        ..RunStats::default()
    };
    let server_version = format!("{} v{}", NodeId::SERVER, sim.server_policy().newest);
    stats.nodes_at_schema_version.insert(server_version, 1);
    for ((node, _), version) in sim.client_nodes().zip(sim.client_versions()) {
        stats.nodes_at_schema_version.insert(format!("{node} v{version}"), 1);
    }
    let metrics = sim
        .server()
        .map(|s| s.metrics())
        .into_iter()
        .chain(sim.client_nodes().filter_map(|(_, c)| c.map(|c| c.metrics())));
    let mut total = ledger.metrics_of_crashed.clone();
    for m in metrics {
        absorb_metrics(&mut total, m);
    }
    stats.retries = total.retries;
    stats.resyncs = total.resyncs;
    stats.ops_migrated_up = total.ops_migrated_up;
    stats.ops_migrated_down = total.ops_migrated_down;
    stats.duplicates_dropped = total.duplicates_dropped;
    stats.quarantined = ledger.quarantined_ops.len() as u64;
    for kind in ledger.quarantined_ops.values() {
        *stats.quarantined_by_reason.entry((*kind).to_owned()).or_default() += 1;
    }
    stats.tombstones_collected = total.tombstones_collected;
    stats
}

/// Adds one node's counters to the run's. Nodes lose their counters when they crash, so the
/// engine absorbs them into the ledger first (see [`Ledger::metrics_of_crashed`]).
pub(crate) fn absorb_metrics(sum: &mut Metrics, m: &Metrics) {
    sum.retries += m.retries;
    sum.resyncs += m.resyncs;
    sum.ops_migrated_up += m.ops_migrated_up;
    sum.ops_migrated_down += m.ops_migrated_down;
    sum.duplicates_dropped += m.duplicates_dropped;
    sum.tombstones_collected += m.tombstones_collected;
}

/// The first key at which two states differ, and how.
pub(crate) fn first_difference<V: PartialEq + std::fmt::Debug>(
    expected: &BTreeMap<RecordKey, V>,
    actual: &BTreeMap<RecordKey, V>,
) -> Option<(RecordKey, String)> {
    let keys: BTreeSet<&RecordKey> = expected.keys().chain(actual.keys()).collect();
    keys.into_iter().find_map(|key| match (expected.get(key), actual.get(key)) {
        (Some(e), Some(a)) if e == a => None,
        (Some(e), Some(a)) => Some((key.clone(), format!("expected {e:?}, found {a:?}"))),
        (Some(_), None) => Some((key.clone(), "missing".to_owned())),
        (None, Some(a)) => Some((key.clone(), format!("should not exist, found {a:?}"))),
        (None, None) => None,
    })
}
