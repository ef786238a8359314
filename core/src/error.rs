//! Errors, grouped by who is at fault, each saying how to recover.

use std::fmt;

/// An op does not fit the schema. Local writes with this error are refused; remote ops with it
/// are quarantined (kept, reported, never applied).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SchemaViolation {
    pub collection: String,
    pub record: String,
    pub field: Option<String>,
    pub problem: String,
}

impl fmt::Display for SchemaViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.collection, self.record)?;
        if let Some(field) = &self.field {
            write!(f, ".{field}")?;
        }
        write!(f, ": {}", self.problem)
    }
}

impl std::error::Error for SchemaViolation {}

/// A durable store failed. The in-memory state is unchanged by the failed operation; the host
/// should retry the input later or restart the node from its store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageError {
    pub message: String,
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "storage: {}", self.message)
    }
}

impl std::error::Error for StorageError {}

/// Why a local write was refused. Nothing was written; fix the call and try again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriteError {
    /// The caller asked for something the schema forbids.
    Schema(SchemaViolation),
    /// The caller passed input that no schema could accept (empty write, id too long, …).
    ApiMisuse(String),
    /// The outbox is full (`outbox_ops_max`); sync before writing more.
    OutboxFull { ops_max: usize },
    /// The store could not commit; nothing changed.
    Storage(StorageError),
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteError::Schema(v) => write!(f, "write refused: {v}"),
            WriteError::ApiMisuse(m) => write!(f, "write refused: {m}"),
            WriteError::OutboxFull { ops_max } => {
                write!(f, "write refused: the outbox holds its maximum of {ops_max} ops")
            }
            WriteError::Storage(e) => write!(f, "write refused: {e}"),
        }
    }
}

impl std::error::Error for WriteError {}

impl From<StorageError> for WriteError {
    fn from(e: StorageError) -> WriteError {
        WriteError::Storage(e)
    }
}
