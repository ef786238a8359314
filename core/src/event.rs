//! Events the state machines report to their host through `poll_event`.

use crate::error::StorageError;
use crate::hlc::ClockAhead;
use crate::ids::{BatchId, OpId, PeerId, RecordKey, ReplicaId};
use crate::merge::ConflictReport;
use crate::protocol::{DecodeError, RejectReason};
use crate::quarantine::QuarantineReason;
use crate::schema::Access;
use crate::time::MonoTime;

/// Where a quarantined op was caught.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// In this node's own outbox (for example stale after a resync, or refused by the server).
    Local,
    /// Arriving from a peer.
    Remote,
}

/// An op kept aside instead of applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuarantineNotice {
    pub op: OpId,
    pub key: RecordKey,
    pub reason: QuarantineReason,
    pub origin: Origin,
}

/// The client's connection and sync progress, for a status indicator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncState {
    Offline,
    Connecting,
    Handshaking,
    Syncing,
    Resyncing,
    Idle,
    Rejected,
}

/// What a client reports.
#[derive(Clone, Debug, PartialEq)]
pub enum ClientEvent {
    /// The client wants a transport: dial, then call `connected` or `disconnected`.
    WantsConnection,
    StateChanged(SyncState),
    Conflict(ConflictReport),
    Quarantined(QuarantineNotice),
    ClockAhead {
        op: OpId,
        report: ClockAhead,
    },
    /// The server refused the handshake; the client stops dialling until reconfigured.
    Rejected(RejectReason),
    /// The server refused the token (expired, forged, or not for this replica id): the host's
    /// token provider fetches a fresh one and passes it to `set_token`, which dials again.
    /// Nothing queued is lost meanwhile; writes wait in the outbox.
    TokenNeeded(crate::auth::TokenError),
    /// A pull batch failed its manifest check and was discarded; it will be fetched again.
    ManifestMismatch {
        batch: BatchId,
    },
    /// The server's log no longer extends what this client pulled before: the hash chain at
    /// the client's cursor is `served` now but was `held`. Its history was rewritten (an
    /// altered store, a restored backup); the client resyncs from a snapshot, keeping its
    /// queued writes. Worth an alert: nothing in normal operation does this.
    HistoryRewritten {
        at: crate::ids::LogPos,
        held: crate::chain::LinkTag,
        served: crate::chain::LinkTag,
    },
    /// A message could not be decoded and was dropped.
    Malformed(DecodeError),
    /// A commit failed: nothing of the input that made it took effect, and memory was
    /// reloaded from the store. A write command also returns the error; a sync step is
    /// retried after a backoff.
    StorageFailed(StorageError),
    /// The client gave up on its transport after repeated unanswered requests: close it. The
    /// client dials again (`WantsConnection`) when its breaker allows.
    CloseConnection,
    /// The breaker opened after repeated failures; nothing is tried before `until`.
    BreakerOpened {
        until: MonoTime,
    },
    /// A resync from a snapshot is done: the local state is the server's plus every pending
    /// local write.
    ResyncFinished {
        records: usize,
    },
    /// The server acknowledged the client's ops through this seq.
    Acked {
        through: crate::ids::Seq,
    },
    /// The handshake settled on a schema version. [`Access::ReadOnly`]: the version is
    /// deprecated, so the client pulls but keeps its writes queued until the app upgrades.
    Negotiated {
        schema_version: u32,
        access: Access,
        cautions: Vec<String>,
    },
    /// A record arrived without fields this client's schema version cannot show (added in a
    /// newer version, or holding a value it cannot express): what it reads may be partial.
    Caution {
        key: RecordKey,
        hidden_fields: Vec<String>,
    },
    /// A queued write would lose fields in the session's older schema version (the server is
    /// behind this client): it and every later write wait until the server speaks a version
    /// that can carry it.
    WritesHeld {
        op: OpId,
        session_version: u32,
        fields: Vec<String>,
    },
}

/// Why a client was evicted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Eviction {
    /// Silent for longer than `client_eviction_ms`.
    Silent,
}

/// What a server reports.
#[derive(Clone, Debug, PartialEq)]
pub enum ServerEvent {
    ClientJoined {
        peer: PeerId,
        client: ReplicaId,
        schema_version: u32,
        access: Access,
    },
    ClientRejected {
        peer: PeerId,
        client: ReplicaId,
        reason: RejectReason,
    },
    ClientLeft {
        peer: PeerId,
        client: Option<ReplicaId>,
    },
    /// The client no longer holds back collection until it catches up again; when it returns
    /// behind the compaction point it resyncs from a snapshot.
    ClientEvicted {
        client: ReplicaId,
        why: Eviction,
    },
    Conflict(ConflictReport),
    Quarantined(QuarantineNotice),
    ClockAhead {
        op: OpId,
        report: ClockAhead,
    },
    Malformed {
        peer: PeerId,
        error: DecodeError,
    },
    /// A push failed its manifest check (damaged on the way): dropped unacknowledged, so the
    /// client sends it again.
    ManifestMismatch {
        peer: PeerId,
        batch: BatchId,
    },
    /// A commit failed: nothing of the input that made it took effect (nothing was
    /// acknowledged), and memory was reloaded from the store.
    StorageFailed(StorageError),
    /// A message that makes no sense in the peer's session (for example a push before Hello).
    Unexpected {
        peer: PeerId,
        kind: &'static str,
    },
    Collected {
        tombstones: u64,
        compacted_through: crate::ids::LogPos,
    },
}
