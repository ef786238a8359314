//! What the `testing` feature opens, for fuzzers, the simulator and the core's own tests; never
//! for an app, which needs only the crate root.
//!
//! - [`wire`]: the protocol's messages and codec, to build, damage and inspect what the state
//!   machines send one another (as quinn-proto opens its packet types to its fuzzers).
//! - [`PlantedBug`]: with it `Server::plant` makes a server carry a bug of a kind real sync
//!   engines ship, so a host's checks can be shown to catch it. Nothing plants one otherwise,
//!   and no configuration can.
//! - [`conformance`](crate::conformance): the suite every `Store` must pass.

/// The protocol's messages and their wire codec.
#[cfg(feature = "testing")]
pub mod wire {
    pub use crate::hlc::WALL_MS_MAX;
    pub use crate::protocol::*;
}

/// A bug of a kind real sync engines ship.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlantedBug {
    /// A push whose commit failed is acknowledged anyway: the client forgets writes the
    /// server never stored.
    AckFailedCommit,
    /// A delete's tombstone is recorded one log position after the delete, a bookkeeping
    /// slip that only matters when collection later trusts it.
    MisplacedTombstone,
    /// Collection compacts the log one entry past the slowest cursor it waits for: that client
    /// is sent to a resync it did not need.
    CompactionPastCursor,
    /// A token that fails its checks (signature, expiry, replica binding) is accepted anyway.
    AcceptAnyToken,
    /// Write scopes are not checked: a token's holder writes records outside its grant.
    IgnoreWriteScope,
    /// Pulls and snapshots are not filtered by read scope: every client sees every record.
    IgnoreReadScope,
    /// The audit trail names every writer `anonymous`, as a server that took the user from
    /// the wrong session would: the trail says nothing true about who wrote what.
    MisattributedAudit,
}
