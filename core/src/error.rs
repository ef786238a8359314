//! Errors, grouped by who is at fault, each saying how to recover.

use std::fmt;

use crate::chain::ChainBreak;
use crate::schema::Violation;

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
    Schema(Violation),
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

/// Why a node could not start from its store. Nothing was changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StartError {
    /// The store failed to load, or to commit what starting must write.
    Storage(StorageError),
    /// The store holds data of a schema version newer than this build knows: a newer build
    /// wrote it. Roll back by running the newer build with an older `newest` in its version
    /// policy, which migrates the data down.
    StoreNewer { stored: u32, first: u32, latest: u32 },
    /// The stored log fails its hash chain: it was altered outside the server.
    Tampered(ChainBreak),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Storage(e) => write!(f, "cannot start: {e}"),
            StartError::Tampered(e) => write!(f, "cannot start: the stored log was altered: {e}"),
            StartError::StoreNewer { stored, first, latest } => write!(
                f,
                "cannot start: the store holds schema v{stored} data but this build knows \
                 v{first}..=v{latest}; run the newer build with an older `newest` in its version \
                 policy to roll back"
            ),
        }
    }
}

impl std::error::Error for StartError {}

impl From<StorageError> for StartError {
    fn from(e: StorageError) -> StartError {
        StartError::Storage(e)
    }
}
