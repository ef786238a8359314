//! `quarantine_accounted`: every quarantined op was reported by an event, every quarantine has
//! a cause the run explains (an op the server could not decide, or an invalid payload the plan
//! injected; nothing else, because the simulated app only makes valid writes), and every
//! injected invalid payload was quarantined by the server.
//!
//! `quarantine_justified`: the server quarantined an op as stale only where the README says it
//! may. A stale quarantine is a lost write, so each must show (a) that the op could have met a
//! forgotten delete: its writer went unheard for longer than the eviction window after writing
//! it, or it was older than the retention window when it arrived (its stamp against the
//! server's clock); and (b) that applying it could resurrect something: the server did not hold
//! its record (a record it holds, live or as a tombstone, decides the op by merge), or had
//! re-created it after forgetting older deletes.

use std::collections::{BTreeMap, BTreeSet};

use driftsync_core::{Op, OpId, QuarantineReason, RecordKey, Stamp};

use crate::check::Report;
use crate::engine::Sim;
use crate::outcome::Checker;
use crate::plan::NodeId;

/// When the server last heard from each client, and the silences longer than the eviction
/// window, both measured on the server's wall clock as its eviction is.
#[derive(Debug, Default)]
pub(crate) struct Silences {
    /// Per client index: the server's wall clock when it last heard from the client, or when
    /// the run began (every client is installed then).
    heard_wall_ms: Vec<u64>,
    /// Per client index: when (simulated ms) each silence longer than the eviction window ended.
    long_silence_ends_ms: Vec<Vec<u64>>,
}

impl Silences {
    pub(crate) fn new(clients: usize, install_wall_ms: u64) -> Silences {
        Silences {
            heard_wall_ms: vec![install_wall_ms; clients],
            long_silence_ends_ms: vec![Vec::new(); clients],
        }
    }

    /// The server hears from client `index` at simulated `now_ms`, its clock reading `wall_ms`.
    pub(crate) fn heard(&mut self, index: usize, now_ms: u64, wall_ms: u64, eviction_ms: u64) {
        let silent_ms = wall_ms.saturating_sub(self.heard_wall_ms[index]);
        if silent_ms > eviction_ms {
            self.long_silence_ends_ms[index].push(now_ms);
        }
        self.heard_wall_ms[index] = wall_ms;
    }

    /// Whether client `index` went unheard past the eviction window after `since_ms`, the
    /// silence ending by `until_ms`.
    fn was_silent_after(&self, index: usize, since_ms: u64, until_ms: u64) -> bool {
        let ends = self.long_silence_ends_ms.get(index).map_or(&[][..], Vec::as_slice);
        ends.iter().any(|end| *end > since_ms && *end <= until_ms)
    }
}

/// The server's situation when it quarantined one op as stale.
#[derive(Clone, Debug)]
pub(crate) struct StaleDecision {
    pub(crate) op: OpId,
    pub(crate) key: RecordKey,
    pub(crate) at_ms: u64,
    /// The server's wall clock then.
    pub(crate) server_wall_ms: u64,
    /// Whether the server held the record (live, or as a tombstone) when the push carrying the
    /// op arrived.
    pub(crate) record_held: bool,
    /// The record was re-created after the server forgot deletes through this stamp.
    pub(crate) recreated_over: Option<Stamp>,
}

pub(super) fn quarantine_accounted(sim: &Sim<'_>, report: &mut Report<'_>) {
    let ledger = sim.ledger();
    let decided_stale: BTreeSet<OpId> = ledger.stale.iter().map(|d| d.op).collect();
    let server = sim.server().into_iter().map(|s| (NodeId::SERVER, s.quarantine()));
    let clients = sim.client_nodes().filter_map(|(node, c)| Some((node, c?.quarantine())));
    for (node, held) in server.chain(clients) {
        for q in held {
            let record = Some(q.op.key.to_string());
            if !ledger.reported.contains(&(node, q.op.id)) {
                let detail =
                    format!("op {} was quarantined ({}) without an event", q.op.id, q.reason);
                report(
                    Checker::QuarantineAccounted,
                    Some(node.to_string()),
                    record.clone(),
                    detail,
                );
            }
            let explained = match q.reason {
                QuarantineReason::Stale { .. } => decided_stale.contains(&q.op.id),
                QuarantineReason::Invalid(_) => sim.injected().contains_key(&q.op.id),
                QuarantineReason::ForeignWriter { .. } => false,
            };
            if !explained {
                let detail = format!(
                    "op {} was quarantined for no cause the run explains: {}",
                    q.op.id, q.reason
                );
                report(Checker::QuarantineAccounted, Some(node.to_string()), record, detail);
            }
        }
    }
    let Some(server) = sim.server() else {
        return;
    };
    let held: BTreeSet<OpId> = server.quarantine().iter().map(|q| q.op.id).collect();
    for (id, kind) in sim.injected() {
        if !held.contains(id) {
            let detail =
                format!("op {id} was sent as an invalid payload ({kind:?}) but not quarantined");
            report(Checker::QuarantineAccounted, Some("server".to_owned()), None, detail);
        }
    }
}

pub(super) fn quarantine_justified(sim: &Sim<'_>, report: &mut Report<'_>) {
    let ledger = sim.ledger();
    if ledger.stale.is_empty() {
        return;
    }
    let windows = Windows::of(&sim.params().server);
    let committed: BTreeMap<OpId, &Op> = sim.committed_ops().iter().map(|op| (op.id, op)).collect();
    for decision in &ledger.stale {
        let record = Some(decision.key.to_string());
        let written = committed.get(&decision.op).zip(ledger.written_ms.get(&decision.op));
        let problems = match written {
            None => {
                vec![format!("op {} was quarantined as stale but no client wrote it", decision.op)]
            }
            Some((op, written_ms)) => {
                let writer = decision.op.replica.0 as usize - 1;
                let silent = ledger.silences.was_silent_after(writer, *written_ms, decision.at_ms);
                unjustified(decision, op.stamp, silent, windows)
            }
        };
        for detail in problems {
            report(Checker::QuarantineJustified, Some("server".to_owned()), record.clone(), detail);
        }
    }
}

/// The scenario's eviction and retention windows, in milliseconds, as the README states them.
#[derive(Clone, Copy, Debug)]
struct Windows {
    eviction_ms: u64,
    retention_ms: u64,
}

impl Windows {
    fn of(settings: &crate::scenario::ServerSettings) -> Windows {
        let eviction_ms = settings.client_eviction_s * 1_000;
        // As the core does: the retention window is never shorter than the eviction window.
        let retention_ms = (settings.tombstone_retention_s * 1_000).max(eviction_ms);
        Windows { eviction_ms, retention_ms }
    }
}

/// Why quarantining the op stamped `stamp` as stale broke the rules, if it did. `silent`: its
/// writer went unheard past the eviction window after writing it.
fn unjustified(
    decision: &StaleDecision,
    stamp: Stamp,
    silent: bool,
    windows: Windows,
) -> Vec<String> {
    let mut problems = Vec::new();
    let age_ms = decision.server_wall_ms.saturating_sub(stamp.hlc.wall_ms);
    if !silent && age_ms <= windows.retention_ms {
        problems.push(format!(
            "op {} was quarantined as stale although it was {} s old (retention {} s) and its \
             writer was never silent past the eviction window ({} s) after writing it",
            decision.op,
            age_ms / 1_000,
            windows.retention_ms / 1_000,
            windows.eviction_ms / 1_000
        ));
    }
    let recreated = decision.recreated_over.is_some_and(|over| stamp <= over);
    if decision.record_held && !recreated {
        problems.push(format!(
            "op {} was quarantined as stale although the server held its record (live, or as \
             a tombstone that decides it): applying it could resurrect nothing",
            decision.op
        ));
    }
    problems
}

#[cfg(test)]
mod tests {
    use driftsync_core::{Hlc, ReplicaId, Seq};

    use super::*;

    const WINDOWS: Windows = Windows { eviction_ms: 60_000, retention_ms: 120_000 };

    fn decision(record_held: bool) -> StaleDecision {
        StaleDecision {
            op: OpId { replica: ReplicaId(2), seq: Seq(7) },
            key: RecordKey::new("notes", "r1"),
            at_ms: 500_000,
            server_wall_ms: 1_000_000,
            record_held,
            recreated_over: None,
        }
    }

    fn stamped(wall_ms: u64) -> Stamp {
        Stamp { hlc: Hlc { wall_ms, logical: 0 }, replica: 2 }
    }

    /// Goal: the two conditions the README gives, each on its own, decide the verdict.
    #[test]
    fn a_stale_quarantine_needs_an_old_op_or_a_silent_writer_and_a_record_the_server_lacks() {
        let old = stamped(1_000_000 - 200_000);
        let young = stamped(1_000_000 - 10_000);
        assert!(unjustified(&decision(false), old, false, WINDOWS).is_empty());
        assert!(unjustified(&decision(false), young, true, WINDOWS).is_empty());
        let needless = unjustified(&decision(false), young, false, WINDOWS);
        assert!(needless[0].contains("10 s old (retention 120 s)"), "{needless:?}");
        let held = unjustified(&decision(true), old, true, WINDOWS);
        assert_eq!(held.len(), 1);
        assert!(held[0].contains("held its record"), "{held:?}");
    }

    /// Goal: a record re-created after deletes were forgotten may hold back older ops.
    #[test]
    fn a_record_re_created_over_forgotten_deletes_justifies_older_ops_only() {
        let mut recreated = decision(true);
        recreated.recreated_over = Some(stamped(900_000));
        assert!(unjustified(&recreated, stamped(850_000), false, WINDOWS).is_empty());
        let newer = unjustified(&recreated, stamped(950_000), true, WINDOWS);
        assert!(newer[0].contains("held its record"), "{newer:?}");
    }
}
