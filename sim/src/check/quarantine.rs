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

use driftsync_core::{Op, OpId, QuarantineReason, Stamp};

use crate::check::Report;
use crate::engine::is_hostile_replica;
use crate::history::{History, StaleDecision};
use crate::outcome::Checker;
use crate::view::WorldView;

pub(super) fn quarantine_accounted(
    view: &WorldView<'_>,
    history: &History,
    report: &mut Report<'_>,
) {
    let decided_stale: BTreeSet<OpId> = history.stale.iter().map(|d| d.op).collect();
    for (node, q) in view.quarantines() {
        let record = Some(q.op.key.to_string());
        if !history.reported.contains(&(node, q.op.id)) {
            let detail = format!("op {} was quarantined ({}) without an event", q.op.id, q.reason);
            report(Checker::QuarantineAccounted, Some(node.to_string()), record.clone(), detail);
        }
        let explained = match q.reason {
            QuarantineReason::Stale { .. } => decided_stale.contains(&q.op.id),
            QuarantineReason::Invalid(_) => view.injected.contains_key(&q.op.id),
            QuarantineReason::ForeignWriter { .. } => false,
            // Only a hostile peer writes outside its grant: honest tokens grant everything.
            QuarantineReason::Forbidden { .. } => is_hostile_replica(q.op.id.replica),
        };
        if !explained {
            let detail = format!(
                "op {} was quarantined for no cause the run explains: {}",
                q.op.id, q.reason
            );
            report(Checker::QuarantineAccounted, Some(node.to_string()), record, detail);
        }
    }
    let Some(server) = view.server else {
        return;
    };
    let held: BTreeSet<OpId> = server.quarantine.iter().map(|q| q.op.id).collect();
    for (id, kind) in view.injected {
        if !held.contains(id) {
            let detail =
                format!("op {id} was sent as an invalid payload ({kind:?}) but not quarantined");
            report(Checker::QuarantineAccounted, Some("server".to_owned()), None, detail);
        }
    }
}

pub(super) fn quarantine_justified(
    view: &WorldView<'_>,
    history: &History,
    report: &mut Report<'_>,
) {
    if history.stale.is_empty() {
        return;
    }
    let windows = Windows::of(&view.plan.params.server);
    let committed: BTreeMap<OpId, &Op> = history.committed.iter().map(|op| (op.id, op)).collect();
    for decision in &history.stale {
        let record = Some(decision.key.to_string());
        let written = committed.get(&decision.op).zip(history.written_ms.get(&decision.op));
        let problems = match written {
            None => {
                vec![format!("op {} was quarantined as stale but no client wrote it", decision.op)]
            }
            Some((op, written_ms)) => {
                let writer = decision.op.replica.0 as usize - 1;
                let silent = history.silences.was_silent_after(writer, *written_ms, decision.at_ms);
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
    use driftsync_core::{Hlc, RecordKey, ReplicaId, Seq};

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
