//! `no_field_loss`: a field added in a newer schema version holds, on the server, exactly what
//! the writes that know it made of it: older clients' edits never erase or change it.
//! `outbox_survives_upgrade`: writes queued while their client was read-only reach the server
//! once it upgrades.

use std::collections::BTreeSet;

use driftsync_core::{RecordView, SchemaLineage, Step};

use crate::check::{Derived, Report, first_difference};
use crate::history::History;
use crate::outcome::Checker;
use crate::view::{Content, WorldView};

pub(super) fn no_field_loss(view: &WorldView<'_>, derived: &Derived, report: &mut Report<'_>) {
    let Some(server_now) = derived.server() else {
        return;
    };
    let added = added_fields(view.lineage);
    if added.is_empty() {
        return;
    }
    let only_added = |content: &Content| -> Content {
        content
            .iter()
            .map(|(key, (live, fields))| {
                let fields = fields.iter().filter(|(name, _)| added.contains(name.as_str()));
                let fields: RecordView =
                    fields.map(|(name, field)| (name.clone(), field.clone())).collect();
                (key.clone(), (*live, fields))
            })
            .filter(|(_, (_, fields))| !fields.is_empty())
            .collect()
    };
    let expected = only_added(&derived.expected);
    let actual = only_added(server_now);
    if let Some((key, how)) = first_difference(&expected, &actual) {
        let detail = format!("a field added by a newer schema version was changed: {how}");
        report(Checker::NoFieldLoss, Some("server".to_owned()), Some(key.to_string()), detail);
    }
}

/// Fields some older version does not have, by their name in the latest version.
fn added_fields(lineage: &SchemaLineage) -> BTreeSet<String> {
    let mut added = BTreeSet::new();
    for version in lineage.first() + 1..=lineage.latest() {
        for step in lineage.steps_into(version) {
            match step {
                Step::AddField { field, .. } => {
                    added.insert(field.clone());
                }
                Step::RenameField { from, to, .. } if added.remove(from) => {
                    added.insert(to.clone());
                }
                _ => {}
            }
        }
    }
    added
}

pub(super) fn outbox_survives_upgrade(
    view: &WorldView<'_>,
    history: &History,
    report: &mut Report<'_>,
) {
    let Some(server) = view.server else {
        return;
    };
    for id in &history.queued_read_only {
        let acked = server.registrations.get(&id.replica).map(|r| r.acked_seq);
        if acked.is_none_or(|acked| acked < id.seq) {
            let detail = format!(
                "op {id}, written while its client was read-only, never reached the server"
            );
            report(
                Checker::OutboxSurvivesUpgrade,
                Some(format!("client-{}", id.replica.0)),
                None,
                detail,
            );
        }
    }
}
