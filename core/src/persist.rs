//! The durable bookkeeping rows of each node, beside its records: what a client or a server
//! must remember across a restart besides its data. A leaf, so the store can name these rows
//! without knowing the state machines that write them.

use serde::{Deserialize, Serialize};

use crate::chain::Link;
use crate::hlc::{Hlc, Stamp};
use crate::ids::{LogPos, Seq};
use crate::time::WallTime;
use crate::version::VersionVector;

/// The client's durable bookkeeping, committed with the data it describes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientMeta {
    /// The server log position applied through. Never committed ahead of the data.
    pub cursor: LogPos,
    pub hlc: Hlc,
    /// Ops applied here, per writer.
    pub applied: VersionVector,
    /// The seq the next local op gets.
    pub next_seq: Seq,
    /// Own ops the server has acknowledged through.
    pub acked_seq: Seq,
    /// The local state may hold effects the server refused: rebuild it from a snapshot.
    pub resync_needed: bool,
    /// The schema version the local records are held in (0 before the first start).
    pub schema_version: u32,
    /// From which seq on local ops were written in which version, oldest first: an app
    /// upgrade leaves queued writes in the version they were made in, and the server migrates
    /// them up when they are pushed.
    pub written_versions: Vec<(Seq, u32)>,
    /// Records were pulled in this version, older than the app's, so they may lack fields a
    /// newer session would carry: a session in a newer version resyncs to fill them in.
    pub pulled_in: Option<u32>,
    /// The server's chain epoch and link at `cursor`, once known: a pull whose chain does not
    /// extend it means the server's history was rewritten.
    pub chain: Option<(u32, Link)>,
}

impl ClientMeta {
    /// The schema version the local op with `seq` was written in.
    pub fn written_version(&self, seq: Seq) -> u32 {
        self.written_versions
            .iter()
            .rev()
            .find(|(from, _)| *from <= seq)
            .or(self.written_versions.first())
            .map_or(self.schema_version, |(_, version)| *version)
    }
}

/// The server's durable bookkeeping.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerMeta {
    pub head: LogPos,
    /// Log entries at or before this position have been compacted away.
    pub compacted_through: LogPos,
    pub hlc: Hlc,
    /// The schema version records and log are stored in (0 before the first start).
    pub schema_version: u32,
    /// The hash chain's link at `compacted_through`, from which the held entries chain on.
    pub chain_base: Link,
    /// Raised whenever the server rebuilds its chain (a schema upgrade rewrites the log).
    pub chain_epoch: u32,
}

/// What the server knows of one client.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    /// The client's ops are applied (or quarantined) through this seq.
    pub acked_seq: Seq,
    /// The stamp of the op at `acked_seq`: with it a client tells an ack of its own op from an
    /// ack of another install's op under the same replica id.
    pub acked_stamp: Option<Stamp>,
    /// The cursor the client last reported as durably applied.
    pub cursor: LogPos,
    /// The oldest stamp in its outbox at that report.
    pub outbox_oldest: Option<Stamp>,
    pub last_seen: WallTime,
    /// Silent past the eviction limit: it no longer holds back collection until it has caught
    /// up again (a pull at or past the compaction point).
    pub evicted: bool,
}
