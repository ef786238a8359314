//! What is wrong with an op that does not fit a schema: one type, whoever wrote the op. A
//! local write with a violation is refused ([`crate::WriteError::Schema`]); a remote op with
//! one is quarantined ([`crate::QuarantineReason::Invalid`]), so an app matches the same kinds
//! in both places.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::hlc::Stamp;
use crate::merge::MergePolicy;
use crate::op::Op;
use crate::schema::MigrationError;
use crate::value::FieldType;

/// An op that does not fit the schema, and where: the record, and the field when one is to
/// blame.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Violation {
    pub collection: String,
    pub record: String,
    pub field: Option<String>,
    pub kind: ViolationKind,
}

/// What a violation is.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ViolationKind {
    /// The schema of this version has no such collection.
    UnknownCollection { schema_version: u32 },
    /// The collection has no such field in this version.
    UnknownField { schema_version: u32 },
    /// A value of the wrong type.
    TypeMismatch { expected: FieldType, found: FieldType },
    /// A required field written as null.
    RequiredNull,
    /// A put without a required field that has no default.
    RequiredMissing { expected: FieldType },
    /// A put or update of a counter, which changes only by increments.
    CounterWrite,
    /// An increment of a field that is not a counter.
    IncrementNotCounter { policy: MergePolicy },
    /// A resolve of a field whose policy leaves no conflict to settle.
    ResolveWithoutConflict { policy: MergePolicy },
    /// A stamp past the last millisecond of year 9999: it would drag every clock it reached
    /// to the end of time.
    StampOutOfRange { stamp: Stamp },
    /// A reason longer than [`REASON_BYTES_MAX`](crate::op::REASON_BYTES_MAX).
    ReasonTooLong { bytes: usize },
    /// A local write of a field this version removed (older clients may still write it).
    RemovedField { schema_version: u32 },
    /// Written in a version the server's lineage does not hold.
    UnknownVersion { version: u32, first: u32, latest: u32 },
    /// The op could not be translated between versions.
    Unmigratable { from: u32, to: u32, problem: String },
    /// The op fits the version it was written in but not the one it was translated to.
    AfterMigration { from: u32, to: u32, kind: Box<ViolationKind> },
}

impl Violation {
    /// A violation of `kind` by `op`, blaming `field` if one is to blame.
    pub(crate) fn of(op: &Op, field: Option<&str>, kind: ViolationKind) -> Violation {
        Violation {
            collection: op.key.collection.clone(),
            record: op.key.record.clone(),
            field: field.map(str::to_owned),
            kind,
        }
    }
}

impl Violation {
    /// `op` could not be translated between versions.
    pub(crate) fn unmigratable(op: &Op, error: MigrationError) -> Violation {
        let kind =
            ViolationKind::Unmigratable { from: error.from, to: error.to, problem: error.problem };
        Violation::of(op, error.field.as_deref(), kind)
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.collection, self.record)?;
        if let Some(field) = &self.field {
            write!(f, ".{field}")?;
        }
        write!(f, ": {}", self.kind)
    }
}

impl std::error::Error for Violation {}

impl fmt::Display for ViolationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ViolationKind::UnknownCollection { schema_version } => {
                write!(f, "unknown collection (schema v{schema_version})")
            }
            ViolationKind::UnknownField { schema_version } => {
                write!(f, "unknown field (schema v{schema_version})")
            }
            ViolationKind::TypeMismatch { expected, found } => {
                write!(f, "expected {expected}, found {found}")
            }
            ViolationKind::RequiredNull => write!(f, "required field set to null"),
            ViolationKind::RequiredMissing { expected } => {
                write!(f, "required field missing from put: expected {expected}, found nothing")
            }
            ViolationKind::CounterWrite => write!(f, "a counter changes only by increments"),
            ViolationKind::IncrementNotCounter { policy } => {
                write!(f, "increment of a {} field", policy.name())
            }
            ViolationKind::ResolveWithoutConflict { policy } => {
                write!(f, "a {} field has no conflicts", policy.name())
            }
            ViolationKind::StampOutOfRange { stamp } => {
                write!(f, "stamp {stamp} is beyond the year 9999")
            }
            ViolationKind::ReasonTooLong { bytes } => {
                let max = crate::op::REASON_BYTES_MAX;
                write!(f, "a reason of {bytes} bytes, past the {max} an op may carry")
            }
            ViolationKind::RemovedField { schema_version } => {
                write!(f, "removed in schema v{schema_version}")
            }
            ViolationKind::UnknownVersion { version, first, latest } => write!(
                f,
                "written in schema v{version}, which this server does not know \
                 (v{first}..=v{latest})"
            ),
            ViolationKind::Unmigratable { from, to, problem } => {
                write!(f, "migrating v{from} to v{to}: {problem}")
            }
            ViolationKind::AfterMigration { from, to, kind } => {
                write!(f, "after migrating v{from} to v{to}: {kind}")
            }
        }
    }
}
