//! The schema rollout: server redeployments, client app upgrades, and corrupted payloads.
//!
//! Everything here draws from the Schema stream, after the drawn parameters, so a scenario
//! without a `[schema]` table plans exactly the faults and writes it did before the table
//! existed.

use rand::RngCore;

use super::{Fault, InvalidPayload, NodeId, PlannedWrite, TimedFault, WriteAction};
use crate::scenario::Params;
use crate::seed;

/// Server redeployments and client upgrades, into the fault schedule.
pub(super) fn schedule_versions(
    params: &Params,
    rng: &mut impl RngCore,
    faults: &mut Vec<TimedFault>,
) {
    let schema = &params.schema;
    for entry in schema.server.iter().skip(1) {
        let fault = Fault::ServerVersions {
            newest: entry.newest,
            writable_from: entry.writable_from,
            readable_from: entry.readable_from,
        };
        faults.push(TimedFault { at_ms: entry.at_s * 1_000, fault });
    }
    let target = schema.server_final().newest;
    for (index, version) in schema.client_versions.iter().enumerate() {
        // One draw each, whatever the outcome, so one client's luck never shifts another's.
        let upgrades = seed::chance(rng, schema.upgrade_probability);
        let at_ms = seed::uniform_u64(rng, 0, params.chaos_ms() - 1);
        if upgrades && *version < target {
            let client = NodeId::client(index as u32 + 1);
            faults.push(TimedFault { at_ms, fault: Fault::Upgrade { client, version: target } });
        }
    }
    faults.sort_by_key(|timed| (timed.at_ms, timed.fault.order_key()));
}

/// Marks the writes whose payload the wire corrupts; draws after [`schedule_versions`].
pub(super) fn mark_invalid(params: &Params, rng: &mut impl RngCore, workload: &mut [PlannedWrite]) {
    let schema = &params.schema;
    if schema.invalid_payload_rate > 0.0 {
        for write in workload.iter_mut() {
            if !seed::chance(rng, schema.invalid_payload_rate) {
                continue;
            }
            write.invalid = match write.action {
                WriteAction::Put { .. } if seed::chance(rng, 0.5) => {
                    Some(InvalidPayload::MissingRequired)
                }
                WriteAction::Put { .. } | WriteAction::Update { .. } => {
                    Some(InvalidPayload::TypeMismatch)
                }
                _ => None,
            };
        }
    }
}
