//! Bringing a store written by an older build up to this build's format, in one transaction,
//! when it is opened: an app that updates keeps every write its file holds, synced or not.
//!
//! Format 1 → 2 adds the server log's hash chain. The log gains a `link` column, computed for
//! every held entry from a fresh chain at the compaction point, and the bookkeeping rows gain
//! their new trailing fields at their defaults (postcard encodes a struct as its fields in
//! order, so appending their default encodings is decoding the old row with defaults): the
//! server's chain base and epoch, the client's chain link (unknown until its next pull).

use driftsync_core::{Link, LogPos, Op};
use rusqlite::{Connection, params};

/// Upgrades a format-1 file; on any error nothing of it was written.
pub(crate) fn from_format_1(conn: &Connection) -> Result<(), String> {
    let tx = conn.unchecked_transaction().map_err(|e| e.to_string())?;
    let fail = |e: rusqlite::Error| e.to_string();
    // The server's row gains a base link of zeros and an epoch of 0; the client's, no link.
    for (name, tail) in [("server", [0u8; 33].as_slice()), ("client", &[0u8])] {
        let query = "SELECT value FROM meta WHERE name = ?1";
        let row: Option<Vec<u8>> = match tx.query_row(query, params![name], |row| row.get(0)) {
            Ok(value) => Some(value),
            Err(rusqlite::Error::QueryReturnedNoRows) => None,
            Err(error) => return Err(error.to_string()),
        };
        if let Some(mut value) = row {
            value.extend_from_slice(tail);
            tx.execute("UPDATE meta SET value = ?1 WHERE name = ?2", params![value, name])
                .map_err(fail)?;
        }
    }
    tx.execute_batch("ALTER TABLE log ADD COLUMN link BLOB NOT NULL DEFAULT x''").map_err(fail)?;
    let entries: Vec<(i64, Vec<u8>)> = {
        let mut statement = tx.prepare("SELECT pos, op FROM log ORDER BY pos").map_err(fail)?;
        let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?))).map_err(fail)?;
        rows.collect::<Result<_, _>>().map_err(fail)?
    };
    let mut link = Link::GENESIS;
    for (pos, bytes) in entries {
        let op: Op = postcard::from_bytes(&bytes)
            .map_err(|e| format!("log entry {pos} does not decode: {e}"))?;
        let at = LogPos(u64::try_from(pos).map_err(|_| format!("log position {pos}"))?);
        link = link.next(at, &op);
        tx.execute("UPDATE log SET link = ?1 WHERE pos = ?2", params![&link.0[..], pos])
            .map_err(fail)?;
    }
    tx.execute_batch("PRAGMA user_version = 2").map_err(fail)?;
    tx.commit().map_err(fail)
}
