//! `oracle`: the server's state equals the reference merge (see [`super::reference`]) of every
//! op durably committed anywhere and not quarantined: nothing lost, nothing invented, counters
//! exact.
//! `no_resurrection`: nothing the server shows is older than a committed delete of its record.

use std::collections::{BTreeMap, BTreeSet};

use driftsync_core::{Op, OpId, RecordKey, RecordView};

use crate::check::reference::{self, Newest};
use crate::check::{Derived, Report, first_difference};
use crate::history::History;
use crate::outcome::Checker;
use crate::view::{Content, WorldView};

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

pub(super) fn oracle(
    view: &WorldView<'_>,
    history: &History,
    derived: &Derived,
    report: &mut Report<'_>,
) {
    let (Some(server), Some(server_now)) = (view.server, derived.server()) else {
        return; // Convergence reports a server that is down.
    };
    for op in merged_ops(view, history) {
        let acked = server.registrations.get(&op.id.replica).map(|r| r.acked_seq);
        if acked.is_none_or(|acked| acked < op.id.seq) {
            let detail =
                format!("op {} was committed by its writer but never reached the server", op.id);
            report(Checker::Oracle, Some("server".to_owned()), Some(op.key.to_string()), detail);
            return;
        }
    }
    if let Some((key, how)) = first_difference(&derived.expected, server_now) {
        let detail = format!("the server is not the reference merge of the committed ops: {how}");
        report(Checker::Oracle, Some("server".to_owned()), Some(key.to_string()), detail);
    }
}

pub(super) fn no_resurrection(view: &WorldView<'_>, history: &History, report: &mut Report<'_>) {
    let Some(server) = view.server else {
        return;
    };
    let mut by_record: BTreeMap<&RecordKey, Vec<&Op>> = BTreeMap::new();
    for op in merged_ops(view, history) {
        by_record.entry(&op.key).or_default().push(op);
    }
    for (key, shown) in server.records.view() {
        let Some(ops) = by_record.get(&key) else {
            continue;
        };
        for detail in resurrected(&Newest::of(ops.iter().copied()), &shown) {
            let record = Some(key.to_string());
            report(Checker::NoResurrection, Some("server".to_owned()), record, detail);
        }
    }
}

/// What of `shown`, the visible content of a record whose ops have the newest stamps `newest`,
/// is older than the record's newest delete: the record itself when no put is newer than the
/// delete, or each field that no write since the delete gave its value.
pub(super) fn resurrected(newest: &Newest, shown: &RecordView) -> Vec<String> {
    let Some(deleted) = newest.delete else {
        return Vec::new();
    };
    if newest.put.is_none_or(|put| put < deleted) {
        return vec![format!("visible although no put is newer than its delete at {deleted}")];
    }
    shown
        .keys()
        .filter(|field| newest.write.get(field.as_str()).is_none_or(|w| *w < deleted))
        .map(|field| format!("field {field} shows a value older than the delete at {deleted}"))
        .collect()
}
