//! Quarantine: ops that must not be applied are kept here with the reason, never dropped.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::SchemaViolation;
use crate::op::Op;
use crate::schema::MigrationError;

/// Why an op was quarantined.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum QuarantineReason {
    /// The op does not fit the schema it was checked against.
    Invalid(SchemaViolationReason),
    /// The op was written before a garbage-collection horizon by a client that had not seen
    /// everything the horizon covers (evicted, or new to the server): applying it could
    /// resurrect a record whose tombstone is gone.
    Stale { horizon_wall_ms: u64 },
    /// The op claims a writer other than the client that sent it.
    ForeignWriter { sender: u64 },
}

/// A schema violation as stored with a quarantined op.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SchemaViolationReason {
    pub field: Option<String>,
    pub problem: String,
}

impl From<SchemaViolation> for QuarantineReason {
    fn from(v: SchemaViolation) -> QuarantineReason {
        QuarantineReason::Invalid(SchemaViolationReason { field: v.field, problem: v.problem })
    }
}

impl From<MigrationError> for QuarantineReason {
    fn from(e: MigrationError) -> QuarantineReason {
        let problem = format!("migrating v{} to v{}: {}", e.from, e.to, e.problem);
        QuarantineReason::Invalid(SchemaViolationReason { field: e.field, problem })
    }
}

impl QuarantineReason {
    /// A stable short name, for counting quarantines by reason.
    pub fn kind(&self) -> &'static str {
        match self {
            QuarantineReason::Invalid(_) => "invalid",
            QuarantineReason::Stale { .. } => "stale",
            QuarantineReason::ForeignWriter { .. } => "foreign-writer",
        }
    }
}

impl fmt::Display for QuarantineReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QuarantineReason::Invalid(v) => match &v.field {
                Some(field) => write!(f, "invalid field {field}: {}", v.problem),
                None => write!(f, "invalid: {}", v.problem),
            },
            QuarantineReason::Stale { horizon_wall_ms } => write!(
                f,
                "written before the garbage-collection horizon ({horizon_wall_ms} ms) by a client \
                 that had not seen everything it covers; applying it could resurrect a collected \
                 record"
            ),
            QuarantineReason::ForeignWriter { sender } => {
                write!(f, "sent by client {sender} but written by another replica")
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
