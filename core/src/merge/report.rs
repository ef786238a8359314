//! Conflict reports: every decision between concurrent writes, explained.

use serde::{Deserialize, Serialize};

use crate::hlc::Stamp;
use crate::ids::{OpId, RecordKey};
use crate::merge::MergePolicy;
use crate::value::Value;

/// One side of a conflict: which op wrote what, when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConflictSide {
    pub op: OpId,
    pub stamp: Stamp,
    pub value: Value,
}

/// What became of the two writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ConflictOutcome {
    /// The arriving write won and replaced the one that was there.
    Overwritten,
    /// The arriving write lost and left the field as it was.
    Ignored,
    /// A multi-value field now holds both until someone resolves it.
    Forked,
}

/// Two concurrent writes to one field met; `rule` decided and `winner` is what readers see
/// (for a fork, both sides remain visible and `winner` is the newer).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConflictReport {
    pub key: RecordKey,
    pub field: String,
    pub rule: MergePolicy,
    pub outcome: ConflictOutcome,
    pub winner: ConflictSide,
    pub loser: ConflictSide,
}

/// A decision made inside one field, before it knows which record it belongs to.
#[derive(Debug)]
pub(crate) struct Decision {
    winner: ConflictSide,
    loser: ConflictSide,
    outcome: ConflictOutcome,
}

impl Decision {
    pub(crate) fn new(
        winner: ConflictSide,
        loser: ConflictSide,
        outcome: ConflictOutcome,
    ) -> Decision {
        Decision { winner, loser, outcome }
    }
}

impl ConflictReport {
    pub(crate) fn new(
        key: &RecordKey,
        field: &str,
        rule: MergePolicy,
        decision: Decision,
    ) -> ConflictReport {
        ConflictReport {
            key: key.clone(),
            field: field.to_owned(),
            rule,
            outcome: decision.outcome,
            winner: decision.winner,
            loser: decision.loser,
        }
    }
}

impl std::fmt::Display for ConflictReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}.{}: {} kept {} (op {} at {}) over {} (op {} at {}) [{:?}]",
            self.key,
            self.field,
            self.rule.name(),
            self.winner.value,
            self.winner.op,
            self.winner.stamp,
            self.loser.value,
            self.loser.op,
            self.loser.stamp,
            self.outcome
        )
    }
}
