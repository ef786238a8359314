//! Identifiers. Each is a newtype so a sequence number can never be passed as a log position.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A replica that writes ops: one per client install. Assigned by the application.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ReplicaId(pub u64);

impl fmt::Display for ReplicaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "replica-{}", self.0)
    }
}

/// A per-replica op sequence number. Seqs are contiguous from 1, so a replica's progress is one
/// number (a version vector holds one per writer).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Seq(pub u64);

impl Seq {
    /// The seq after this one.
    pub fn next(self) -> Seq {
        Seq(self.0 + 1)
    }
}

/// The stable id of an op: who wrote it and where it sits in that writer's sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OpId {
    pub replica: ReplicaId,
    pub seq: Seq,
}

impl fmt::Display for OpId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.replica.0, self.seq.0)
    }
}

/// A position in the server's op log. Position `n` means "the first `n` entries"; a client's
/// cursor is the position it has durably applied through.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct LogPos(pub u64);

/// Identifies one request/response exchange; it also serves as the correlation id that links a
/// batch's log lines on the client and on the server.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct BatchId(pub u64);

impl fmt::Display for BatchId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// A transport-level peer, assigned by the server's host for each connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PeerId(pub u64);

/// A collection name and a record id within it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RecordKey {
    pub collection: String,
    pub record: String,
}

impl RecordKey {
    pub fn new(collection: impl Into<String>, record: impl Into<String>) -> RecordKey {
        RecordKey { collection: collection.into(), record: record.into() }
    }
}

impl fmt::Display for RecordKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.collection, self.record)
    }
}
