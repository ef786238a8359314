//! Reading the whole committed image back, as a restarted node does.

use driftsync_core::{
    ClientMeta, Link, LogEntry, LogPos, Op, QuarantinedOp, RecordKey, RecordState, ReplicaId, Seq,
    ServerMeta, StorageError, Stored,
};
use rusqlite::Connection;

use crate::cipher::Cipher;
use crate::rows::{Row, decode, from_position, open, replica_from_bits, sql};

pub(crate) fn load(conn: &Connection, cipher: Option<&Cipher>) -> Result<Stored, StorageError> {
    let mut stored = Stored::default();
    each(conn, "SELECT collection, record, created, deleted FROM records", |row| {
        let key = RecordKey::new(row.get::<_, String>(0)?, row.get::<_, String>(1)?);
        Ok((key, row.get::<_, Vec<u8>>(2)?, row.get::<_, Vec<u8>>(3)?))
    })?
    .into_iter()
    .try_for_each(|(key, created, deleted)| {
        let state = RecordState {
            created: decode("records", &created)?,
            deleted: decode("records", &deleted)?,
            fields: Default::default(),
        };
        stored.records.insert(key, state);
        Ok::<_, StorageError>(())
    })?;
    let fields = each(conn, "SELECT collection, record, name, state FROM fields", |row| {
        let key = RecordKey::new(row.get::<_, String>(0)?, row.get::<_, String>(1)?);
        Ok((key, row.get::<_, String>(2)?, row.get::<_, Vec<u8>>(3)?))
    })?;
    for (key, name, state) in fields {
        let Some(record) = stored.records.get_mut(&key) else {
            let message = format!("field `{name}` of {key} has no record row");
            return Err(StorageError { message });
        };
        let state = open(cipher, &Row::field(&key, &name), &state)?;
        record.fields.insert(name, state);
    }
    for (seq, op) in blobs(conn, "SELECT seq, op FROM outbox")? {
        let seq = from_position("outbox", seq)?;
        stored.outbox.insert(Seq(seq), open::<Op>(cipher, &Row::at("outbox", seq), &op)?);
    }
    load_log(conn, cipher, &mut stored)?;
    for (_, entry) in blobs(conn, "SELECT entry, op FROM quarantine ORDER BY entry")? {
        let entry = open::<QuarantinedOp>(cipher, &Row::at("quarantine", 0), &entry)?;
        stored.quarantine.push(entry);
    }
    load_meta(conn, &mut stored)?;
    for (client, registration) in blobs(conn, "SELECT client, registration FROM registrations")? {
        let client = ReplicaId(replica_from_bits(client));
        stored.registrations.insert(client, decode("registrations", &registration)?);
    }
    let recreated = each(conn, "SELECT collection, record, stamp FROM recreated_over", |row| {
        let key = RecordKey::new(row.get::<_, String>(0)?, row.get::<_, String>(1)?);
        Ok((key, row.get::<_, Vec<u8>>(2)?))
    })?;
    for (key, stamp) in recreated {
        stored.recreated_over.insert(key, decode("recreated_over", &stamp)?);
    }
    for (bucket, stamp) in blobs(conn, "SELECT bucket, stamp FROM forgotten")? {
        let bucket = u16::try_from(bucket).map_err(|_| StorageError {
            message: format!("table `forgotten` holds bucket {bucket}"),
        })?;
        stored.forgotten.insert(bucket, decode("forgotten", &stamp)?);
    }
    Ok(stored)
}

fn load_meta(conn: &Connection, stored: &mut Stored) -> Result<(), StorageError> {
    let rows = each(conn, "SELECT name, value FROM meta", |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, Vec<u8>>(1)?))
    })?;
    for (name, value) in rows {
        match name.as_str() {
            "client" => stored.client_meta = Some(decode::<ClientMeta>("meta", &value)?),
            "server" => stored.server_meta = Some(decode::<ServerMeta>("meta", &value)?),
            // The key check of an encrypted store, checked at open.
            "cipher" => {}
            other => {
                let message = format!("table `meta` holds an unknown row `{other}`");
                return Err(StorageError { message });
            }
        }
    }
    Ok(())
}

/// Rows of an integer and a blob.
fn blobs(conn: &Connection, query: &str) -> Result<Vec<(i64, Vec<u8>)>, StorageError> {
    each(conn, query, |row| Ok((row.get(0)?, row.get(1)?)))
}

fn each<T>(
    conn: &Connection,
    query: &str,
    read: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>, StorageError> {
    let mut statement = conn.prepare_cached(query).map_err(sql)?;
    let rows = statement.query_map([], read).map_err(sql)?;
    rows.collect::<Result<_, _>>().map_err(sql)
}

/// The log with each entry's link. A link of the wrong length is damage like any other: the
/// chain check at the server's start names the entry.
fn load_log(
    conn: &Connection,
    cipher: Option<&Cipher>,
    stored: &mut Stored,
) -> Result<(), StorageError> {
    let rows = each(conn, "SELECT pos, op, link FROM log", |row| {
        Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?, row.get::<_, Vec<u8>>(2)?))
    })?;
    for (pos, op, link) in rows {
        let pos = from_position("log", pos)?;
        let link = Link(link.try_into().unwrap_or_default());
        let op = open::<Op>(cipher, &Row::at("log", pos), &op)?;
        stored.log.insert(LogPos(pos), LogEntry { op, link });
    }
    Ok(())
}
