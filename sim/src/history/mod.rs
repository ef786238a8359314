//! What happened in a run, written only by the engine as it happens and read by the checkers
//! and the counters afterwards. Nothing here steers the run: the engine decides from its own
//! state, never from its history, so what a checker reads can never change what it judges.

mod event;
mod silences;

pub(crate) use event::Current;
pub(crate) use silences::{Silences, StaleDecision};

use std::collections::{BTreeMap, BTreeSet};

use driftsync_core::{Metrics, Op, OpId, QuarantineNotice};

use crate::counters::NodeCounters;
use crate::plan::NodeId;

/// Everything the checkers and the report need to know about the run's past.
#[derive(Debug, Default)]
pub(crate) struct History {
    /// Every op a local write committed, in commit order, migrated to the lineage's latest
    /// version (the version the server stores).
    pub(crate) committed: Vec<Op>,
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
    pub(crate) writes_refused: u64,
    pub(crate) writes_skipped_down: u64,
    pub(crate) faults_fired: BTreeMap<String, u64>,
    /// When each successful connection was made.
    pub(crate) connects_ms: Vec<u64>,
    /// The same, with the client (by index) that connected.
    pub(crate) client_connects: Vec<(u64, usize)>,
    /// Every quarantine reported, as `node: op on record: reason`, up to a bound.
    pub(crate) quarantines: Vec<String>,
    /// Counters of server and client incarnations that crashed (or restarted for an upgrade):
    /// a node loses its counters with its memory, so the engine keeps them here first.
    pub(crate) crashed_server: NodeCounters,
    pub(crate) crashed_clients: NodeCounters,
}

impl History {
    /// A run of `clients` clients whose server's clock read `install_wall_ms` at the start.
    pub(crate) fn new(clients: usize, install_wall_ms: u64) -> History {
        History { silences: Silences::new(clients, install_wall_ms), ..History::default() }
    }

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

    /// Keeps the counters of a node incarnation that is about to lose them.
    pub(crate) fn absorb_crashed(&mut self, node: NodeId, metrics: &Metrics) {
        match node.is_server() {
            true => self.crashed_server.add(metrics),
            false => self.crashed_clients.add(metrics),
        }
    }
}

/// Quarantines listed by reason in a run's outcome; the counters count them all.
pub(crate) const QUARANTINES_LISTED_MAX: usize = 1_000;
