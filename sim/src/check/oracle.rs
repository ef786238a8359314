//! `oracle`: the server's state equals the reference merge (see [`super::reference`]) of every
//! op durably committed anywhere and not quarantined: nothing lost, nothing invented, counters
//! exact.
//! `no_resurrection`: nothing the server shows is older than a committed delete of its record.

use std::collections::{BTreeMap, BTreeSet};

use driftsync_core::{Op, OpBody, OpId, RecordKey, Stamp};

use crate::check::{Report, first_difference, reference};
use crate::history::History;
use crate::outcome::Checker;
use crate::view::{Content, WorldView, content};

/// Ops kept aside anywhere: they are accounted for by `quarantine_accounted`, not merged.
fn quarantined(view: &WorldView<'_>) -> BTreeSet<OpId> {
    view.quarantines().map(|(_, q)| q.op.id).collect()
}

fn merged_ops<'a>(view: &WorldView<'_>, history: &'a History) -> impl Iterator<Item = &'a Op> {
    let held = quarantined(view);
    history.committed.iter().filter(move |op| !held.contains(&op.id))
}

/// What the server must show: the reference merge of every committed op that was not
/// quarantined, in the latest version. It shares no code with the core's merge, so a merge bug
/// that every replica makes alike still fails a run.
pub(super) fn expected_content(view: &WorldView<'_>, history: &History) -> Content {
    reference::content(merged_ops(view, history), view.lineage.latest_schema())
}

pub(super) fn oracle(view: &WorldView<'_>, history: &History, report: &mut Report<'_>) {
    let Some(server) = view.server else {
        return; // Convergence reports a server that is down.
    };
    let expected = expected_content(view, history);
    for op in merged_ops(view, history) {
        let acked = server.registrations.get(&op.id.replica).map(|r| r.acked_seq);
        if acked.is_none_or(|acked| acked < op.id.seq) {
            let detail =
                format!("op {} was committed by its writer but never reached the server", op.id);
            report(Checker::Oracle, Some("server".to_owned()), Some(op.key.to_string()), detail);
            return;
        }
    }
    if let Some((key, how)) = first_difference(&expected, &content(server.records)) {
        let detail = format!("the server is not the reference merge of the committed ops: {how}");
        report(Checker::Oracle, Some("server".to_owned()), Some(key.to_string()), detail);
    }
}

pub(super) fn no_resurrection(view: &WorldView<'_>, history: &History, report: &mut Report<'_>) {
    let Some(server) = view.server else {
        return;
    };
    let mut last_delete: BTreeMap<&RecordKey, Stamp> = BTreeMap::new();
    let mut newest_put: BTreeMap<&RecordKey, Stamp> = BTreeMap::new();
    let mut newest_write: BTreeMap<(&RecordKey, &str), Stamp> = BTreeMap::new();
    for op in merged_ops(view, history) {
        let key = &op.key;
        match &op.body {
            OpBody::Delete => bump(&mut last_delete, key, op.stamp),
            OpBody::Put { fields } | OpBody::Update { fields } => {
                if matches!(op.body, OpBody::Put { .. }) {
                    bump(&mut newest_put, key, op.stamp);
                }
                for name in fields.keys() {
                    bump(&mut newest_write, (key, name.as_str()), op.stamp);
                }
            }
            OpBody::Increment { field, .. } | OpBody::Resolve { field, .. } => {
                bump(&mut newest_write, (key, field.as_str()), op.stamp);
            }
        }
    }
    for (key, record) in server.records.view() {
        let Some(deleted) = last_delete.get(&key) else {
            continue;
        };
        if newest_put.get(&key).is_none_or(|put| put < deleted) {
            let detail = format!("visible although no put is newer than its delete at {deleted}");
            report(
                Checker::NoResurrection,
                Some("server".to_owned()),
                Some(key.to_string()),
                detail,
            );
            continue;
        }
        for field in record.keys() {
            if newest_write.get(&(&key, field.as_str())).is_none_or(|w| w < deleted) {
                let detail =
                    format!("field {field} shows a value older than the delete at {deleted}");
                report(
                    Checker::NoResurrection,
                    Some("server".to_owned()),
                    Some(key.to_string()),
                    detail,
                );
            }
        }
    }
}

fn bump<K: Ord>(map: &mut BTreeMap<K, Stamp>, key: K, stamp: Stamp) {
    let entry = map.entry(key).or_insert(stamp);
    *entry = (*entry).max(stamp);
}
