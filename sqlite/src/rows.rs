//! How values sit in columns: keys and positions as SQL integers and text, so that rows are
//! found and ranges cut by SQL; everything else as postcard bytes, which the format version
//! covers.

use driftsync_core::StorageError;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub(crate) fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StorageError> {
    postcard::to_allocvec(value).map_err(|error| storage(format!("cannot encode a row: {error}")))
}

pub(crate) fn decode<T: DeserializeOwned>(table: &str, bytes: &[u8]) -> Result<T, StorageError> {
    postcard::from_bytes(bytes)
        .map_err(|error| storage(format!("a row of table `{table}` does not decode: {error}")))
}

/// A seq or log position as an SQL integer. Both count up from zero one at a time, so one
/// past `i64::MAX` is not a value a store meets; it is refused rather than wrapped, which
/// would cut a range at the wrong place.
pub(crate) fn position(value: u64) -> Result<i64, StorageError> {
    i64::try_from(value).map_err(|_| storage(format!("position {value} is past what SQLite holds")))
}

pub(crate) fn from_position(table: &str, value: i64) -> Result<u64, StorageError> {
    u64::try_from(value).map_err(|_| storage(format!("table `{table}` holds position {value}")))
}

/// A replica id, which may use all 64 bits: its bits as an SQL integer. Only equality is
/// asked of it, never order.
pub(crate) fn replica_bits(value: u64) -> i64 {
    i64::from_ne_bytes(value.to_ne_bytes())
}

pub(crate) fn replica_from_bits(value: i64) -> u64 {
    u64::from_ne_bytes(value.to_ne_bytes())
}

pub(crate) fn sql(error: rusqlite::Error) -> StorageError {
    storage(format!("sqlite: {error}"))
}

pub(crate) fn storage(message: String) -> StorageError {
    StorageError { message }
}
