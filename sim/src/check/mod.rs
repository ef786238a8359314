//! The checkers: what must hold at the end of every run, each with a name that appears in its
//! failures. `monotonic` and `liveness` are checked while the run goes (see the engine); the
//! rest judge a read-only view of the final state ([`WorldView`]) against the [`History`] of
//! everything that happened. They are pure functions of the two: a checker never reaches into
//! the engine, and the engine never reads what a checker keeps.

mod at_commit;
mod convergence;
mod herd;
mod oracle;
mod quarantine;
mod reference;
mod rollout;

pub(crate) use at_commit::{Broken, CommitWatch};

use std::cmp::Ordering;
use std::collections::BTreeMap;

use driftsync_core::RecordKey;

use crate::engine::is_hostile_replica;
use crate::history::History;
use crate::outcome::{Checker, Failure, RunStats};
use crate::plan::NodeId;
use crate::view::{Content, Snapshot, WorldView};

/// What several end-of-run checkers read of the final state, derived once for all of them.
pub(super) struct Derived {
    /// Every replica's content now, the server's in the latest version.
    now: Snapshot,
    /// The reference merge of every committed op that was not quarantined (see
    /// [`oracle::expected_content`]).
    expected: Content,
}

impl Derived {
    fn of(view: &WorldView<'_>, history: &History) -> Derived {
        Derived { now: view.snapshot(), expected: oracle::expected_content(view, history) }
    }

    /// The server's content now, if it is up.
    fn server(&self) -> Option<&Content> {
        self.now.server.as_ref().map(|(_, content)| content)
    }
}

/// Runs every end-of-run checker.
pub(crate) fn judge(view: &WorldView<'_>, history: &History) -> Vec<Failure> {
    let derived = Derived::of(view, history);
    let mut failures = Vec::new();
    let mut found =
        |checker: Checker, node: Option<String>, record: Option<String>, detail: String| {
            failures.push(Failure {
                checker,
                node,
                record,
                at_ms: view.now_ms,
                event_index: view.event_index,
                detail,
            });
        };
    convergence::convergence(view, &derived, &mut found);
    convergence::stability(view, &derived, &mut found);
    oracle::oracle(view, history, &derived, &mut found);
    oracle::no_resurrection(view, history, &mut found);
    quarantine::quarantine_accounted(view, history, &mut found);
    quarantine::quarantine_justified(view, history, &mut found);
    rollout::no_field_loss(view, &derived, &mut found);
    rollout::outbox_survives_upgrade(view, history, &mut found);
    herd::herd_spread(view, history, &mut found);
    failures
}

/// How a checker reports: checker, node, record, detail.
pub(crate) type Report<'a> = dyn FnMut(Checker, Option<String>, Option<String>, String) + 'a;

/// The run's counters: the core's, by side, and their totals.
pub(crate) fn stats(view: &WorldView<'_>, history: &History) -> RunStats {
    let network = view.network;
    let mut server = history.crashed_server.clone();
    if let Some(live) = &view.server {
        server.add(live.metrics);
    }
    let mut clients = history.crashed_clients.clone();
    for live in view.clients.iter().filter_map(|c| c.replica.as_ref()) {
        clients.add(live.metrics);
    }
    // A hostile peer's refused write is an attack stopped, counted among the faults fired; only
    // the app's users' writes can be lost.
    let users_quarantined =
        history.quarantined_ops.iter().filter(|(op, _)| !is_hostile_replica(op.replica));
    let mut stats = RunStats {
        writes_committed: history.committed.len() as u64,
        writes_refused: history.writes_refused,
        writes_skipped_down: history.writes_skipped_down,
        messages_sent: network.sent,
        messages_lost: network.lost,
        messages_cut_by_partition: network.cut_by_partition,
        messages_duplicated: network.duplicated,
        conflicts: server.conflicts(),
        conflicts_by_rule: server.conflicts_by_rule.clone(),
        retries: server.retries + clients.retries,
        resyncs: server.resyncs + clients.resyncs,
        ops_migrated_up: server.ops_migrated_up + clients.ops_migrated_up,
        ops_migrated_down: server.ops_migrated_down + clients.ops_migrated_down,
        duplicates_dropped: server.duplicates_dropped + clients.duplicates_dropped,
        tombstones_collected: server.tombstones_collected + clients.tombstones_collected,
        clock_ahead_reports: server.clock_ahead_reports + clients.clock_ahead_reports,
        faults_fired: history.faults_fired.clone(),
        invalid_payloads_injected: view.injected.len() as u64,
        quarantined: users_quarantined.clone().count() as u64,
        server,
        clients,
        ..RunStats::default()
    };
    let server_version = format!("{} v{}", NodeId::SERVER, view.server_policy.newest);
    stats.nodes_at_schema_version.insert(server_version, 1);
    for client in &view.clients {
        let name = format!("{} v{}", client.node, client.schema_version);
        stats.nodes_at_schema_version.insert(name, 1);
    }
    for (_, kind) in users_quarantined {
        *stats.quarantined_by_reason.entry((*kind).to_owned()).or_default() += 1;
    }
    stats
}

/// The first key at which two states differ, and how: one walk over both maps in key order
/// (runs end with whole states compared, so this is linear and allocates only for a finding).
pub(crate) fn first_difference<V: PartialEq + std::fmt::Debug>(
    expected: &BTreeMap<RecordKey, V>,
    actual: &BTreeMap<RecordKey, V>,
) -> Option<(RecordKey, String)> {
    let (mut expected, mut actual) = (expected.iter().peekable(), actual.iter().peekable());
    loop {
        let order = match (expected.peek(), actual.peek()) {
            (None, None) => return None,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some((e, _)), Some((a, _))) => e.cmp(a),
        };
        match order {
            Ordering::Less => {
                let (key, _) = expected.next()?;
                return Some((key.clone(), "missing".to_owned()));
            }
            Ordering::Greater => {
                let (key, a) = actual.next()?;
                return Some((key.clone(), format!("should not exist, found {a:?}")));
            }
            Ordering::Equal => {
                let ((key, e), (_, a)) = (expected.next()?, actual.next()?);
                if e != a {
                    return Some((key.clone(), format!("expected {e:?}, found {a:?}")));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use driftsync_core::RecordKey;

    use super::first_difference;

    fn state(entries: &[(&str, u32)]) -> BTreeMap<RecordKey, u32> {
        entries.iter().map(|(id, v)| (RecordKey::new("notes", *id), *v)).collect()
    }

    fn differs_at(expected: &[(&str, u32)], actual: &[(&str, u32)]) -> Option<(String, String)> {
        first_difference(&state(expected), &state(actual)).map(|(key, how)| (key.record, how))
    }

    #[test]
    fn equal_states_have_no_difference() {
        assert_eq!(differs_at(&[("a", 1), ("b", 2)], &[("a", 1), ("b", 2)]), None);
        assert_eq!(differs_at(&[], &[]), None);
    }

    #[test]
    fn the_first_difference_in_key_order_is_named_whatever_its_kind() {
        let found = |record: &str, how: &str| Some((record.to_owned(), how.to_owned()));
        let expected = [("a", 1), ("c", 3), ("d", 4)];
        assert_eq!(differs_at(&expected, &[("a", 1), ("d", 4)]), found("c", "missing"));
        assert_eq!(
            differs_at(&expected, &[("a", 1), ("b", 2), ("c", 3), ("d", 4)]),
            found("b", "should not exist, found 2")
        );
        assert_eq!(
            differs_at(&expected, &[("a", 1), ("c", 9), ("d", 5)]),
            found("c", "expected 3, found 9")
        );
        assert_eq!(differs_at(&expected, &[("a", 1), ("c", 3)]), found("d", "missing"));
        assert_eq!(
            differs_at(&expected, &[("a", 1), ("c", 3), ("d", 4), ("e", 5)]),
            found("e", "should not exist, found 5")
        );
    }
}
