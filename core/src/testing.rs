//! Planted bugs, for showing that a host's checks catch what they exist for.
//!
//! With the `testing` feature, `Server::plant` makes a server carry one
//! of these bugs. Nothing plants one otherwise, and no default configuration can: the feature
//! exists for the simulator's tests of its own checkers.

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
}
