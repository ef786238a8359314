//! A read-only view of the world, for the checkers and the counters: what each replica holds,
//! with no handle on the engine that holds it. The engine builds one whenever something is to
//! be judged; a test can build one from bare core state, with no world around it.

use std::collections::BTreeMap;

use driftsync_core::{
    FieldView, LogPos, Metrics, OpId, QuarantinedOp, RecordKey, RecordState, RecordView, Records,
    Registration, ReplicaId, SchemaLineage, VersionPolicy,
};

use crate::engine::NetworkStats;
use crate::plan::{InvalidPayload, NodeId, Plan};

/// The world at one instant, as the checkers may see it.
#[derive(Debug)]
pub(crate) struct WorldView<'a> {
    /// `None` while the server is crashed.
    pub(crate) server: Option<ServerView<'a>>,
    /// Client 1 first.
    pub(crate) clients: Vec<ClientView<'a>>,
    /// The app's schema lineage, as clients and the checkers know it.
    pub(crate) lineage: &'a SchemaLineage,
    pub(crate) plan: &'a Plan,
    /// The schema versions the server serves now.
    pub(crate) server_policy: VersionPolicy,
    /// Committed writes the plan corrupts on the wire, and how.
    pub(crate) injected: &'a BTreeMap<OpId, InvalidPayload>,
    /// Every replica's content when the stability round began, if it did.
    pub(crate) baseline: Option<&'a Snapshot>,
    pub(crate) network: &'a NetworkStats,
    /// Simulated time, and events run, when the view was taken.
    pub(crate) now_ms: u64,
    pub(crate) event_index: u64,
}

/// What the server holds.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ServerView<'a> {
    pub(crate) records: &'a Records,
    pub(crate) quarantine: &'a [QuarantinedOp],
    pub(crate) registrations: &'a BTreeMap<ReplicaId, Registration>,
    pub(crate) head: LogPos,
    pub(crate) metrics: &'a Metrics,
}

/// One client, up or crashed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ClientView<'a> {
    pub(crate) node: NodeId,
    /// The app's schema version.
    pub(crate) schema_version: u32,
    /// `None` while the client is crashed.
    pub(crate) replica: Option<ReplicaView<'a>>,
}

/// What a running client holds.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ReplicaView<'a> {
    pub(crate) records: &'a Records,
    pub(crate) quarantine: &'a [QuarantinedOp],
    pub(crate) metrics: &'a Metrics,
}

impl WorldView<'_> {
    /// Every replica's content and the server's log head.
    pub(crate) fn snapshot(&self) -> Snapshot {
        Snapshot {
            server: self.server.map(|s| (s.head, content(s.records))),
            clients: self.clients.iter().map(|c| c.replica.map(|r| content(r.records))).collect(),
        }
    }

    /// Every op held in a quarantine anywhere, with the node that holds it.
    pub(crate) fn quarantines(&self) -> impl Iterator<Item = (NodeId, &QuarantinedOp)> {
        let server = self.server.iter().flat_map(|s| s.quarantine.iter());
        let server = server.map(|q| (NodeId::SERVER, q));
        let clients = self.clients.iter().flat_map(|c| {
            c.replica.iter().flat_map(move |r| r.quarantine.iter().map(move |q| (c.node, q)))
        });
        server.chain(clients)
    }
}

/// What replicas must agree on: every record that is more than a bare tombstone, whether it
/// exists, and every field value it holds, visible or not. Field values of a record that was
/// never put are invisible to applications but surface when it is, so they count too. Bare
/// tombstones are left out because each replica collects them on its own schedule.
pub(crate) type Content = BTreeMap<RecordKey, (bool, RecordView)>;

pub(crate) fn content(records: &Records) -> Content {
    records.iter().filter_map(|(key, state)| Some((key.clone(), record_content(state)?))).collect()
}

/// One record's entry in [`Content`], or `None` for a bare tombstone.
pub(crate) fn record_content(state: &RecordState) -> Option<(bool, RecordView)> {
    if state.is_bare_tombstone() {
        return None;
    }
    let fields = visible_fields(state).map(|(name, view)| (name.to_owned(), view)).collect();
    Some((state.is_live(), fields))
}

/// A record's fields that hold a value, in name order, as [`record_content`] lists them.
pub(crate) fn visible_fields(state: &RecordState) -> impl Iterator<Item = (&str, FieldView)> {
    state.fields.iter().filter_map(|(name, field)| Some((name.as_str(), field.view()?)))
}

/// Every replica's content and the server's log head at one instant.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Snapshot {
    pub(crate) server: Option<(LogPos, Content)>,
    pub(crate) clients: Vec<Option<Content>>,
}
