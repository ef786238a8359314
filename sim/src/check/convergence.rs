//! `convergence`: every replica's state equals the server's, migrated to the replica's schema
//! version.
//! `stability`: one more full sync round changes nothing.

use std::collections::BTreeMap;

use driftsync_core::Records;

use crate::check::{Derived, Report, first_difference};
use crate::outcome::Checker;
use crate::view::{Content, WorldView, content};

pub(super) fn convergence(view: &WorldView<'_>, derived: &Derived, report: &mut Report<'_>) {
    let (Some(server), Some(server_now)) = (view.server, derived.server()) else {
        let detail = "the server is down at the end of the run".to_owned();
        return report(Checker::Convergence, Some("server".to_owned()), None, detail);
    };
    let lineage = view.lineage;
    let mut older_expected: BTreeMap<u32, Content> = BTreeMap::new();
    for (client, client_now) in view.clients.iter().zip(&derived.now.clients) {
        let (node, version) = (client.node, client.schema_version);
        let Some(client_now) = client_now else {
            let detail = "down at the end of the run".to_owned();
            report(Checker::Convergence, Some(node.to_string()), None, detail);
            continue;
        };
        let expected: &Content = match version == lineage.latest() {
            true => server_now,
            false => older_expected.entry(version).or_insert_with(|| {
                let migrated: Records = server
                    .records
                    .iter()
                    .map(|(key, state)| {
                        let down = lineage.migrate_record(key, state, lineage.latest(), version);
                        (key.clone(), down.state)
                    })
                    .collect();
                content(&migrated)
            }),
        };
        if let Some((key, how)) = first_difference(expected, client_now) {
            let detail = format!("differs from the server (as schema v{version}): {how}");
            report(Checker::Convergence, Some(node.to_string()), Some(key.to_string()), detail);
        }
    }
}

pub(super) fn stability(view: &WorldView<'_>, derived: &Derived, report: &mut Report<'_>) {
    let Some(before) = view.baseline else {
        return; // The run never converged; liveness has already failed it.
    };
    let after = &derived.now;
    match (&before.server, &after.server) {
        (Some((head_before, view_before)), Some((head_after, view_after))) => {
            if head_before != head_after {
                let detail = format!("the log grew from {} to {}", head_before.0, head_after.0);
                report(Checker::Stability, Some("server".to_owned()), None, detail);
            }
            if let Some((key, how)) = first_difference(view_before, view_after) {
                let detail = format!("changed during the extra round: {how}");
                report(
                    Checker::Stability,
                    Some("server".to_owned()),
                    Some(key.to_string()),
                    detail,
                );
            }
        }
        _ => report(Checker::Stability, Some("server".to_owned()), None, "server down".to_owned()),
    }
    let clients = before.clients.iter().zip(&after.clients).zip(&view.clients);
    for ((before, after), client) in clients {
        let node = client.node;
        if let (Some(before), Some(after)) = (before, after)
            && let Some((key, how)) = first_difference(before, after)
        {
            let detail = format!("changed during the extra round: {how}");
            report(Checker::Stability, Some(node.to_string()), Some(key.to_string()), detail);
        }
    }
}
