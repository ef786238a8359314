//! Bringing a store written by an older build up to this build's format, in one transaction,
//! when it is opened: an app that updates keeps every write its file holds, synced or not.
//!
//! Postcard encodes a struct as its fields in order, so a row gains a new trailing field by
//! appending that field's default encoding, which is what decoding the old row with defaults
//! would give.
//!
//! - Format 1 → 2 added the server log's hash chain: the log gains a `link` column (computed
//!   by the step to 3) and the bookkeeping rows their chain fields at their defaults (the
//!   server's chain base and epoch, the client's chain link, unknown until its next pull).
//! - Format 2 → 3 added an op's reason and the audit trail: every stored op gains `reason:
//!   None` (a `0` byte after its encoding, in the outbox, the log and the quarantine), the
//!   `audit` table is created (empty: nothing before the upgrade was audited), and the log's
//!   chain is computed again over the new encoding under a new epoch, which clients take as the
//!   server's own rebuild of its chain, as after a schema upgrade, not as a rewritten history.

use driftsync_core::{LogPos, Op, OpBody, OpId, RecordKey, ServerMeta, Stamp};
use rusqlite::{Transaction, params};

use crate::open::{AUDIT_TABLE, FORMAT_VERSION};

/// Upgrades a file of an older `format`; on any error nothing of it was written.
pub(crate) fn from_format(format: i64, conn: &rusqlite::Connection) -> Result<(), String> {
    let tx = conn.unchecked_transaction().map_err(|e| e.to_string())?;
    if format <= 1 {
        format_1_to_2(&tx)?;
    }
    format_2_to_3(&tx)?;
    tx.execute_batch(&format!("PRAGMA user_version = {FORMAT_VERSION}")).map_err(fail)?;
    tx.commit().map_err(fail)
}

fn fail(error: rusqlite::Error) -> String {
    error.to_string()
}

fn format_1_to_2(tx: &Transaction<'_>) -> Result<(), String> {
    // The server's row gains a base link of zeros and an epoch of 0; the client's, no link.
    for (name, tail) in [("server", [0u8; 33].as_slice()), ("client", &[0u8])] {
        if let Some(mut value) = meta_row(tx, name)? {
            value.extend_from_slice(tail);
            set_meta_row(tx, name, &value)?;
        }
    }
    tx.execute_batch("ALTER TABLE log ADD COLUMN link BLOB NOT NULL DEFAULT x''").map_err(fail)
}

fn format_2_to_3(tx: &Transaction<'_>) -> Result<(), String> {
    for (table, key) in [("outbox", "seq"), ("quarantine", "entry")] {
        for (row, bytes) in rows(tx, table, key, "op")? {
            let bytes = with_reason(&bytes).map_err(|e| format!("{table} row {row}: {e}"))?;
            let update = format!("UPDATE {table} SET op = ?1 WHERE {key} = ?2");
            tx.execute(&update, params![bytes, row]).map_err(fail)?;
        }
    }
    let server = meta_row(tx, "server")?;
    let mut meta: ServerMeta = match &server {
        Some(bytes) => postcard::from_bytes(bytes).map_err(|e| format!("server meta: {e}"))?,
        None => ServerMeta::default(),
    };
    let mut link = meta.chain_base;
    for (pos, bytes) in rows(tx, "log", "pos", "op")? {
        let bytes = with_reason(&bytes).map_err(|e| format!("log entry {pos}: {e}"))?;
        let op: Op = postcard::from_bytes(&bytes).map_err(|e| format!("log entry {pos}: {e}"))?;
        let at = LogPos(u64::try_from(pos).map_err(|_| format!("log position {pos}"))?);
        link = link.next(at, &op);
        let update = "UPDATE log SET op = ?1, link = ?2 WHERE pos = ?3";
        tx.execute(update, params![bytes, &link.0[..], pos]).map_err(fail)?;
    }
    if server.is_some() {
        meta.chain_epoch += 1;
        let bytes = postcard::to_stdvec(&meta).map_err(|e| format!("server meta: {e}"))?;
        set_meta_row(tx, "server", &bytes)?;
    }
    tx.execute_batch(AUDIT_TABLE).map_err(fail)
}

/// An op as formats 1 and 2 encoded it: today's fields but the reason (postcard encodes a
/// struct as the tuple of its fields).
type OpBeforeReasons = (OpId, Stamp, RecordKey, OpBody);

/// A row that begins with an op of format 2, its op given `reason: None`: a `0` byte after
/// the op's encoding, before whatever follows it in the row.
fn with_reason(row: &[u8]) -> Result<Vec<u8>, String> {
    let (_, rest) = postcard::take_from_bytes::<OpBeforeReasons>(row)
        .map_err(|e| format!("the op does not decode: {e}"))?;
    let op_len = row.len() - rest.len();
    let mut bytes = Vec::with_capacity(row.len() + 1);
    bytes.extend_from_slice(&row[..op_len]);
    bytes.push(0);
    bytes.extend_from_slice(rest);
    Ok(bytes)
}

fn rows(tx: &Transaction<'_>, table: &str, key: &str, column: &str) -> Result<Rows, String> {
    let query = format!("SELECT {key}, {column} FROM {table} ORDER BY {key}");
    let mut statement = tx.prepare(&query).map_err(fail)?;
    let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?))).map_err(fail)?;
    rows.collect::<Result<_, _>>().map_err(fail)
}

type Rows = Vec<(i64, Vec<u8>)>;

fn meta_row(tx: &Transaction<'_>, name: &str) -> Result<Option<Vec<u8>>, String> {
    let query = "SELECT value FROM meta WHERE name = ?1";
    match tx.query_row(query, params![name], |row| row.get(0)) {
        Ok(value) => Ok(Some(value)),
        Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
        Err(error) => Err(error.to_string()),
    }
}

fn set_meta_row(tx: &Transaction<'_>, name: &str, value: &[u8]) -> Result<(), String> {
    tx.execute("UPDATE meta SET value = ?1 WHERE name = ?2", params![value, name])
        .map(drop)
        .map_err(fail)
}
