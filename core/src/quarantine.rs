//! Quarantine: ops that must not be applied are kept here with the reason, never dropped.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::hlc::Stamp;
use crate::op::Op;
use crate::schema::Violation;

/// Why an op was quarantined.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum QuarantineReason {
    /// The op does not fit the schema it was checked against.
    Invalid(Violation),
    /// The op is older than deletes the server has forgotten (their retention window passed),
    /// and its record is one the server no longer holds, or re-created since it forgot them:
    /// the server cannot tell whether a forgotten delete hides the op, so applying it could
    /// resurrect what that delete removed. Every forgotten delete, and so the op, is older than
    /// the retention window by the server's clock.
    Stale { forgotten_through: Stamp },
    /// The op claims a writer other than the client that sent it.
    ForeignWriter { sender: u64 },
    /// The writer's token does not grant writing the op's record.
    Forbidden { user: String },
}

impl From<Violation> for QuarantineReason {
    fn from(violation: Violation) -> QuarantineReason {
        QuarantineReason::Invalid(violation)
    }
}

impl QuarantineReason {
    /// A stable short name, for counting quarantines by reason.
    pub fn kind(&self) -> &'static str {
        match self {
            QuarantineReason::Invalid(_) => "invalid",
            QuarantineReason::Stale { .. } => "stale",
            QuarantineReason::ForeignWriter { .. } => "foreign-writer",
            QuarantineReason::Forbidden { .. } => "forbidden",
        }
    }
}

impl fmt::Display for QuarantineReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QuarantineReason::Invalid(v) => match &v.field {
                Some(field) => write!(f, "invalid field {field}: {}", v.kind),
                None => write!(f, "invalid: {}", v.kind),
            },
            QuarantineReason::Stale { forgotten_through } => write!(
                f,
                "older than deletes the server no longer remembers (through {forgotten_through}) \
                 on a record it no longer holds or re-created since; applying it could resurrect \
                 what one of them removed"
            ),
            QuarantineReason::ForeignWriter { sender } => {
                write!(f, "sent by client {sender} but written by another replica")
            }
            QuarantineReason::Forbidden { user } => {
                write!(f, "user {user} is not granted writing this record")
            }
        }
    }
}

/// An op kept aside, with why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantinedOp {
    pub op: Op,
    pub reason: QuarantineReason,
}
