//! How values sit in columns: keys and positions as SQL integers and text, so that rows are
//! found and ranges cut by SQL; everything else as postcard bytes, which the format version
//! covers.

use driftsync_core::StorageError;

use crate::cipher::Cipher;
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

/// A value column's bytes: postcard, sealed when the store is encrypted (see `cipher`).
pub(crate) fn seal<T: Serialize>(
    cipher: Option<&Cipher>,
    row: &Row<'_>,
    value: &T,
) -> Result<Vec<u8>, StorageError> {
    let bytes = encode(value)?;
    match cipher {
        None => Ok(bytes),
        Some(cipher) => cipher.seal(&row.context(), bytes).map_err(storage),
    }
}

/// The value of a value column, opened first when the store is encrypted.
pub(crate) fn open<T: DeserializeOwned>(
    cipher: Option<&Cipher>,
    row: &Row<'_>,
    bytes: &[u8],
) -> Result<T, StorageError> {
    match cipher {
        None => decode(row.table, bytes),
        Some(cipher) => {
            let plain = cipher
                .open(&row.context(), bytes)
                .map_err(|error| storage(format!("a row of table `{}`: {error}", row.table)))?;
            decode(row.table, &plain)
        }
    }
}

/// Which row a value belongs to: the additional data it is sealed with, so that it opens only
/// there.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Row<'a> {
    table: &'static str,
    key: [&'a str; 3],
    position: u64,
}

impl<'a> Row<'a> {
    /// A row found by a position (a seq, a log position; 0 for the quarantine's, whose id
    /// SQLite assigns).
    pub(crate) fn at(table: &'static str, position: u64) -> Row<'static> {
        Row { table, key: [""; 3], position }
    }

    /// The row of one field's state.
    pub(crate) fn field(key: &'a driftsync_core::RecordKey, name: &'a str) -> Row<'a> {
        Row { table: "fields", key: [&key.collection, &key.record, name], position: 0 }
    }

    fn context(&self) -> Vec<u8> {
        let mut context = self.table.as_bytes().to_vec();
        for part in self.key {
            context.push(0);
            context.extend_from_slice(part.as_bytes());
        }
        context.push(0);
        context.extend_from_slice(&self.position.to_le_bytes());
        context
    }
}
