//! Ops: the unit of change. Every local write becomes one op with a stable id and a stamp.

mod field_writes;

use serde::{Deserialize, Serialize};

pub use field_writes::FieldWrites;

use crate::hlc::Stamp;
use crate::ids::{OpId, RecordKey};
use crate::value::Value;

/// One change to one record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Op {
    pub id: OpId,
    pub stamp: Stamp,
    pub key: RecordKey,
    pub body: OpBody,
    /// Why the app made the write, if it said (see [`Client::with_reason`]): kept with the op
    /// in the log's hash chain and in the server's audit trail. At most [`REASON_BYTES_MAX`].
    ///
    /// [`Client::with_reason`]: crate::Client::with_reason
    pub reason: Option<String>,
}

/// The longest reason an op may carry: a sentence for the audit trail, not a payload.
pub const REASON_BYTES_MAX: usize = 1024;

/// What an op does. Writes are field-level: a put or update touches only the fields it names,
/// so a writer never erases a field it did not change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OpBody {
    /// Creates (or re-creates after a delete) the record and sets the named fields.
    Put { fields: FieldWrites },
    /// Sets the named fields of the record.
    Update { fields: FieldWrites },
    /// Tombstones the record: every value older than this op is hidden.
    Delete,
    /// Adds `delta` to a counter field.
    Increment { field: String, delta: i64 },
    /// A person's resolution of a conflicted field: it supersedes every value in `write.seen`.
    Resolve { field: String, write: FieldWrite },
}

/// A value written to one field, with the ops whose values the writer saw in that field. The
/// seen list is what makes conflicts explainable (a write that saw the value it replaced is not
/// a conflict) and lets multi-value fields drop exactly the values a writer superseded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldWrite {
    pub value: Value,
    pub seen: Vec<OpId>,
}

impl FieldWrite {
    pub fn new(value: Value) -> FieldWrite {
        FieldWrite { value, seen: Vec::new() }
    }
}

impl Op {
    /// How many field-level changes this op makes (the unit of the apply benchmarks).
    pub fn field_op_count(&self) -> usize {
        match &self.body {
            OpBody::Put { fields } | OpBody::Update { fields } => fields.len().max(1),
            OpBody::Delete | OpBody::Increment { .. } | OpBody::Resolve { .. } => 1,
        }
    }

    /// A short name of the op's kind, for logs and reports.
    pub fn kind_name(&self) -> &'static str {
        match self.body {
            OpBody::Put { .. } => "put",
            OpBody::Update { .. } => "update",
            OpBody::Delete => "delete",
            OpBody::Increment { .. } => "increment",
            OpBody::Resolve { .. } => "resolve",
        }
    }
}
