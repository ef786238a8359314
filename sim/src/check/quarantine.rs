//! `quarantine_accounted`: every quarantined op was reported by an event, every quarantine has
//! a cause the run explains (a stale op from an evicted writer, or an invalid payload the plan
//! injected; nothing else, because the simulated app only makes valid writes), and every
//! injected invalid payload was quarantined by the server.

use std::collections::BTreeSet;

use driftsync_core::{OpId, QuarantineReason};

use crate::check::Report;
use crate::engine::Sim;
use crate::outcome::checker;
use crate::plan::NodeId;

pub(super) fn quarantine_accounted(sim: &Sim<'_>, report: &mut Report<'_>) {
    let ledger = sim.ledger();
    let server = sim.server().into_iter().map(|s| (NodeId::SERVER, s.quarantine()));
    let clients = sim.client_nodes().filter_map(|(node, c)| Some((node, c?.quarantine())));
    for (node, held) in server.chain(clients) {
        for q in held {
            let record = Some(q.op.key.to_string());
            if !ledger.reported.contains(&(node, q.op.id)) {
                let detail =
                    format!("op {} was quarantined ({}) without an event", q.op.id, q.reason);
                report(
                    checker::QUARANTINE_ACCOUNTED,
                    Some(node.to_string()),
                    record.clone(),
                    detail,
                );
            }
            let explained = match q.reason {
                QuarantineReason::Stale { .. } => ledger.evicted.contains(&q.op.id.replica),
                QuarantineReason::Invalid(_) => ledger.injected.contains_key(&q.op.id),
                QuarantineReason::ForeignWriter { .. } => false,
            };
            if !explained {
                let detail = format!(
                    "op {} was quarantined for no cause the run explains: {}",
                    q.op.id, q.reason
                );
                report(checker::QUARANTINE_ACCOUNTED, Some(node.to_string()), record, detail);
            }
        }
    }
    let Some(server) = sim.server() else {
        return;
    };
    let held: BTreeSet<OpId> = server.quarantine().iter().map(|q| q.op.id).collect();
    for (id, kind) in &ledger.injected {
        if !held.contains(id) {
            let detail =
                format!("op {id} was sent as an invalid payload ({kind:?}) but not quarantined");
            report(checker::QUARANTINE_ACCOUNTED, Some("server".to_owned()), None, detail);
        }
    }
}
