//! The audit trail: for every op the server applies, who wrote it (the user its writer's token
//! names), what it was (the op as stored, its reason included), where it sits in the log and
//! when the server applied it (by the server's wall clock).
//!
//! The trail is written beside the log in the same commit, so an applied op always has its
//! entry, and it outlives log compaction: a collection pass forgets only entries older than
//! the configured retention ([`ServerConfig::audit_retention_ms`]). A server writes it and
//! never reads it back, so it is not part of [`Stored`], the image a node restarts from, and a
//! restart does not pay for a long retention: a store answers [`Store::audit_of`] from its
//! own index instead ([`AuditTrail`] is the index of the stores that keep everything in
//! memory).
//!
//! [`ServerConfig::audit_retention_ms`]: crate::ServerConfig::audit_retention_ms
//! [`Stored`]: crate::Stored
//! [`Store::audit_of`]: crate::Store::audit_of
//! [`AuditTrail`]: crate::AuditTrail

use serde::{Deserialize, Serialize};

use crate::ids::LogPos;
use crate::op::Op;
use crate::time::WallTime;

/// One applied op, as the audit trail remembers it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// The op's position in the log: unique, and in the order the server applied ops.
    pub pos: LogPos,
    /// When the server applied it, by its wall clock.
    pub at: WallTime,
    /// Who: the user of the session that pushed it (`anonymous` on a server without keys).
    pub user: String,
    /// What, and in `op.reason` why: the op as the server stored it.
    pub op: Op,
}
