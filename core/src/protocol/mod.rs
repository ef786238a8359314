//! The client ↔ server protocol: messages, their wire codec, and batch manifests.

mod compression;
mod manifest;
mod ops_bytes;
mod wire;

use serde::{Deserialize, Serialize};

pub use compression::{Compression, Packing};
pub use manifest::Manifest;
pub use ops_bytes::OpsBytes;
// `Decoded` is for the `testing` feature's wire module, which re-exports this one.
#[cfg_attr(not(feature = "testing"), allow(unused_imports))]
pub use wire::{DecodeError, Decoded, Limits, decode_sized, encode, encode_packed};
#[cfg(feature = "testing")]
pub use wire::{Encoded, WIRE_VERSION, decode, seal};

use crate::chain::{ChainSpan, Link};
use crate::hlc::Stamp;
use crate::ids::{BatchId, LogPos, OpId, RecordKey, ReplicaId, Seq};
use crate::merge::RecordState;
use crate::quarantine::QuarantineReason;
use crate::schema::Access;

/// The protocol revision this build speaks.
pub const PROTOCOL_VERSION: u16 = 4;

/// Every message either side sends.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Message {
    Hello(Hello),
    Welcome(Welcome),
    Reject(Reject),
    Push(Push),
    PushAck(PushAck),
    PullRequest(PullRequest),
    PullBatch(PullBatch),
    /// The client's cursor is older than the compaction horizon: it must resync from a snapshot.
    ResyncRequired {
        batch: BatchId,
        compacted_through: LogPos,
    },
    SnapshotRequest(SnapshotRequest),
    SnapshotPage(SnapshotPage),
    /// The log grew; a client that is idle should pull.
    Poke {
        head: LogPos,
    },
}

/// Opens every (re)connection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    pub batch: BatchId,
    pub protocol: u16,
    pub client: ReplicaId,
    /// Schema versions the client speaks; the server picks the highest it supports too.
    pub schema_versions: Vec<u32>,
    pub token: String,
    /// The resume point: the log position the client has durably applied through.
    pub cursor: LogPos,
    /// The highest of its own seqs the client knows the server has acknowledged.
    pub acked_seq: Seq,
    /// The oldest stamp still in the client's outbox, reported with the cursor: together they
    /// tell the server whether this client could still push an op older than a tombstone.
    pub outbox_oldest: Option<Stamp>,
    /// The codecs the client can decode, by name (see [`Compression::name`]), preferred first.
    pub compression: Vec<String>,
}

/// Accepts a Hello.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Welcome {
    pub batch: BatchId,
    /// The highest version both sides speak: the version of every op and record in this
    /// session's messages.
    pub schema_version: u32,
    /// Read-only: the version is deprecated, so the client pulls only and keeps its writes
    /// queued until the app upgrades. (Encoded as the flag it replaced: 0 read-write, 1 not.)
    pub access: Access,
    pub head: LogPos,
    /// The server's authoritative ack for this client: ops through this seq are durable there.
    pub acked_seq: Seq,
    /// The stamp of the op at `acked_seq`, so the client can check the ack is of its own op.
    pub acked_stamp: Option<Stamp>,
    /// The client's cursor is older than the compaction horizon; it must resync.
    pub resync: bool,
    /// The codec the server compresses its large messages to this client with, if any: one
    /// the client offered.
    pub compression: Option<Compression>,
    /// Things the client should know about its session (for example a deprecated version).
    pub cautions: Vec<String>,
    /// Ops of this client, newer than the ack it reported, that the server quarantined: the
    /// client may have missed the ack that said so.
    pub quarantined: Vec<(OpId, QuarantineReason)>,
}

/// Refuses a Hello, saying why and what would be accepted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reject {
    pub batch: BatchId,
    pub reason: RejectReason,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RejectReason {
    ProtocolUnsupported {
        supported: u16,
    },
    SchemaUnsupported {
        offered: Vec<u32>,
        min_required: u32,
        max_supported: u32,
    },
    /// The token is missing, forged, expired or not for this replica id: the client asks its
    /// host for a fresh one ([`crate::ClientEvent::TokenNeeded`]).
    Token(crate::auth::TokenError),
    /// Decided by the client, not sent by a server: the server has acknowledged seqs this
    /// replica has not written yet, so another install is using its replica id. Syncing on
    /// would drop this install's writes as duplicates; it stops instead, keeping them.
    ReplicaIdInUse {
        server_acked: Seq,
        next_local: Seq,
    },
}

impl std::fmt::Display for RejectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RejectReason::ProtocolUnsupported { supported } => {
                write!(f, "protocol unsupported; the server speaks version {supported}")
            }
            RejectReason::SchemaUnsupported { offered, min_required, max_supported } => write!(
                f,
                "schema versions {offered:?} unsupported; the server accepts \
                 {min_required}..={max_supported}"
            ),
            RejectReason::Token(error) => write!(f, "authentication refused: {error}"),
            RejectReason::ReplicaIdInUse { server_acked, next_local } => write!(
                f,
                "the server acknowledged seq {} but this replica's next is {}: its replica id \
                 is in use by another install",
                server_acked.0, next_local.0
            ),
        }
    }
}

/// A bounded batch of outbox ops, in seq order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Push {
    pub batch: BatchId,
    /// The schema version the ops are written in: the session's, or an older one for writes
    /// queued before the client upgraded (the server migrates them up).
    pub schema_version: u32,
    /// The digest of exactly `ops`, checked by the server before it parses them.
    pub manifest: Manifest,
    pub ops: OpsBytes,
}

/// Fields of a record the reader's schema version cannot show: added in a newer version, or
/// holding a value its converter cannot express.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HiddenFields {
    pub key: RecordKey,
    pub fields: Vec<String>,
}

/// Sent only after the server's durable commit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushAck {
    pub batch: BatchId,
    /// Every op of this client through this seq is durable on the server (applied or
    /// quarantined); the client may forget them.
    pub acked_through: Seq,
    /// Ops of this batch the server quarantined instead of applying.
    pub quarantined: Vec<(OpId, QuarantineReason)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequest {
    pub batch: BatchId,
    pub cursor: LogPos,
    pub ops_max: u32,
    /// The oldest stamp still in the client's outbox: the server may collect a tombstone only
    /// once no client can still push an op older than it.
    pub outbox_oldest: Option<Stamp>,
}

/// Log entries `(from, to]`, verified by the manifest before they are applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullBatch {
    pub batch: BatchId,
    pub from: LogPos,
    pub to: LogPos,
    pub head: LogPos,
    /// The entries, encoded; `manifest` is a digest of exactly these bytes.
    pub ops: OpsBytes,
    pub manifest: Manifest,
    /// Entries of `from..to` left out because the session may not read their records: with
    /// the ops sent they account for the whole range.
    pub withheld: u32,
    /// The log's hash chain at both ends of the range.
    pub chain: ChainSpan,
    /// Records whose ops in this batch lost fields on the way down to the session's version.
    pub hidden: Vec<HiddenFields>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotRequest {
    pub batch: BatchId,
    /// Resume after this record (pages are in key order); `None` starts from the beginning.
    pub after: Option<RecordKey>,
    pub records_max: u32,
}

/// One page of the server's records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotPage {
    pub batch: BatchId,
    /// The server's log head when this page was read.
    pub at: LogPos,
    /// The hash chain's epoch and link at `at`.
    pub chain_epoch: u32,
    pub chain_link: Link,
    pub records: Vec<(RecordKey, RecordState)>,
    /// Where the next page starts, or `None` if this is the last.
    pub next: Option<RecordKey>,
    /// The server's version vector when this page was read.
    pub applied: Vec<(ReplicaId, Seq)>,
    pub manifest: Manifest,
    /// Records of this page that lost fields on the way down to the session's version.
    pub hidden: Vec<HiddenFields>,
}

impl Message {
    /// The request/response id this message carries, if any (the correlation id in logs).
    pub fn batch(&self) -> Option<BatchId> {
        match self {
            Message::Hello(m) => Some(m.batch),
            Message::Welcome(m) => Some(m.batch),
            Message::Reject(m) => Some(m.batch),
            Message::Push(m) => Some(m.batch),
            Message::PushAck(m) => Some(m.batch),
            Message::PullRequest(m) => Some(m.batch),
            Message::PullBatch(m) => Some(m.batch),
            Message::ResyncRequired { batch, .. } => Some(*batch),
            Message::SnapshotRequest(m) => Some(m.batch),
            Message::SnapshotPage(m) => Some(m.batch),
            Message::Poke { .. } => None,
        }
    }

    /// The message's kind, for logs and counters.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Message::Hello(_) => "hello",
            Message::Welcome(_) => "welcome",
            Message::Reject(_) => "reject",
            Message::Push(_) => "push",
            Message::PushAck(_) => "push-ack",
            Message::PullRequest(_) => "pull-request",
            Message::PullBatch(_) => "pull-batch",
            Message::ResyncRequired { .. } => "resync-required",
            Message::SnapshotRequest(_) => "snapshot-request",
            Message::SnapshotPage(_) => "snapshot-page",
            Message::Poke { .. } => "poke",
        }
    }
}
