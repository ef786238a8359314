//! A batch of mutations as one SQLite transaction: all of its rows or none of them.

use driftsync_core::audit::AuditEntry;
use driftsync_core::{Mutation, RecordKey, RecordState, StorageError, Store, Stored};
use rusqlite::{Transaction, TransactionBehavior, params};

use crate::SqliteStore;
use crate::cipher::Cipher;
use crate::rows::{Row, encode, from_position, open, position, replica_bits, seal, sql};

impl Store for SqliteStore {
    fn load(&self) -> Result<Stored, StorageError> {
        crate::load::load(&self.conn, self.cipher.as_ref())
    }

    fn commit(&mut self, batch: Vec<Mutation>) -> Result<(), StorageError> {
        if batch.is_empty() {
            return Ok(());
        }
        let tx =
            self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(sql)?;
        for mutation in &batch {
            write(&tx, self.cipher.as_ref(), mutation)?;
        }
        // Dropped uncommitted on any error above: the transaction rolls back.
        tx.commit().map_err(sql)
    }

    fn audit_of(&self, key: &RecordKey) -> Result<Vec<AuditEntry>, StorageError> {
        let query = "SELECT pos, entry FROM audit WHERE collection = ?1 AND record = ?2 \
                     ORDER BY pos";
        let mut statement = self.conn.prepare_cached(query).map_err(sql)?;
        let rows = statement
            .query_map(params![key.collection, key.record], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?))
            })
            .map_err(sql)?;
        rows.map(|row| {
            let (pos, bytes) = row.map_err(sql)?;
            let pos = from_position("audit", pos)?;
            open(self.cipher.as_ref(), &Row::at("audit", pos), &bytes)
        })
        .collect()
    }
}

/// Runs one cached statement of a commit.
fn execute(
    tx: &Transaction<'_>,
    statement: &str,
    params: &[&dyn rusqlite::ToSql],
) -> Result<(), StorageError> {
    tx.prepare_cached(statement).and_then(|mut st| st.execute(params)).map(drop).map_err(sql)
}

fn write(
    tx: &Transaction<'_>,
    cipher: Option<&Cipher>,
    mutation: &Mutation,
) -> Result<(), StorageError> {
    let run = |statement: &str, params: &[&dyn rusqlite::ToSql]| execute(tx, statement, params);
    match mutation {
        Mutation::Record { key, state } => write_record(tx, cipher, key, state.as_ref()),
        Mutation::Fields { key, created, deleted, fields } => {
            upsert_head(tx, key, &encode(created)?, &encode(deleted)?)?;
            fields.iter().try_for_each(|(name, state)| write_field(tx, cipher, key, name, state))
        }
        Mutation::OutboxPut(op) => run(
            "INSERT OR REPLACE INTO outbox VALUES (?1, ?2)",
            params![position(op.id.seq.0)?, seal(cipher, &Row::at("outbox", op.id.seq.0), op)?],
        ),
        Mutation::OutboxRemoveThrough(seq) => {
            run("DELETE FROM outbox WHERE seq <= ?1", params![position(seq.0)?])
        }
        Mutation::LogAppend { pos, entry } => run(
            "INSERT OR REPLACE INTO log VALUES (?1, ?2, ?3)",
            params![
                position(pos.0)?,
                seal(cipher, &Row::at("log", pos.0), &entry.op)?,
                &entry.link.0[..]
            ],
        ),
        Mutation::LogCompactThrough(pos) => {
            run("DELETE FROM log WHERE pos <= ?1", params![position(pos.0)?])
        }
        Mutation::Quarantine(entry) => {
            let sealed = seal(cipher, &Row::at("quarantine", 0), entry)?;
            run("INSERT INTO quarantine (op) VALUES (?1)", params![sealed])
        }
        Mutation::ClientMeta(meta) => {
            run("INSERT OR REPLACE INTO meta VALUES ('client', ?1)", params![encode(meta)?])
        }
        Mutation::ServerMeta(meta) => {
            run("INSERT OR REPLACE INTO meta VALUES ('server', ?1)", params![encode(meta)?])
        }
        Mutation::Registration { client, registration } => run(
            "INSERT OR REPLACE INTO registrations VALUES (?1, ?2)",
            params![replica_bits(client.0), encode(registration)?],
        ),
        Mutation::RecreatedOver { key, forgotten_through: Some(stamp) } => run(
            "INSERT OR REPLACE INTO recreated_over VALUES (?1, ?2, ?3)",
            params![key.collection, key.record, encode(stamp)?],
        ),
        Mutation::RecreatedOver { key, forgotten_through: None } => run(
            "DELETE FROM recreated_over WHERE collection = ?1 AND record = ?2",
            params![key.collection, key.record],
        ),
        Mutation::Forgotten { bucket, through } => run(
            "INSERT OR REPLACE INTO forgotten VALUES (?1, ?2)",
            params![bucket, encode(through)?],
        ),
        Mutation::Audit(entry) => write_audit(tx, cipher, entry),
        Mutation::AuditPruneBefore(cutoff) => {
            run("DELETE FROM audit WHERE at_ms < ?1", params![position(cutoff.0)?])
        }
    }
}

/// Upserts (`Some`) or removes (`None`) one field of a record.
fn write_field(
    tx: &Transaction<'_>,
    cipher: Option<&Cipher>,
    key: &RecordKey,
    name: &str,
    state: &Option<driftsync_core::FieldState>,
) -> Result<(), StorageError> {
    let (c, r) = (&key.collection, &key.record);
    let statement = |text: &str, params: &[&dyn rusqlite::ToSql]| execute(tx, text, params);
    match state {
        Some(state) => statement(
            "INSERT OR REPLACE INTO fields VALUES (?1, ?2, ?3, ?4)",
            params![c, r, name, seal(cipher, &Row::field(key, name), state)?],
        ),
        None => statement(
            "DELETE FROM fields WHERE collection = ?1 AND record = ?2 AND name = ?3",
            params![c, r, name],
        ),
    }
}

/// Adds an applied op to the audit trail, sealed for its log position.
fn write_audit(
    tx: &Transaction<'_>,
    cipher: Option<&Cipher>,
    entry: &AuditEntry,
) -> Result<(), StorageError> {
    let (key, pos) = (&entry.op.key, entry.pos);
    execute(
        tx,
        "INSERT OR REPLACE INTO audit VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            key.collection,
            key.record,
            position(pos.0)?,
            position(entry.at.0)?,
            seal(cipher, &Row::at("audit", pos.0), entry)?
        ],
    )
}

/// Replaces a whole record: its head and exactly its fields, or removes it.
fn write_record(
    tx: &Transaction<'_>,
    cipher: Option<&Cipher>,
    key: &RecordKey,
    state: Option<&RecordState>,
) -> Result<(), StorageError> {
    let (c, r) = (&key.collection, &key.record);
    tx.prepare_cached("DELETE FROM fields WHERE collection = ?1 AND record = ?2")
        .and_then(|mut st| st.execute(params![c, r]))
        .map_err(sql)?;
    let Some(state) = state else {
        tx.prepare_cached("DELETE FROM records WHERE collection = ?1 AND record = ?2")
            .and_then(|mut st| st.execute(params![c, r]))
            .map_err(sql)?;
        return Ok(());
    };
    upsert_head(tx, key, &encode(&state.created)?, &encode(&state.deleted)?)?;
    let mut insert =
        tx.prepare_cached("INSERT INTO fields VALUES (?1, ?2, ?3, ?4)").map_err(sql)?;
    for (name, field) in &state.fields {
        insert
            .execute(params![c, r, name, seal(cipher, &Row::field(key, name), field)?])
            .map_err(sql)?;
    }
    Ok(())
}

fn upsert_head(
    tx: &Transaction<'_>,
    key: &RecordKey,
    created: &[u8],
    deleted: &[u8],
) -> Result<(), StorageError> {
    tx.prepare_cached("INSERT OR REPLACE INTO records VALUES (?1, ?2, ?3, ?4)")
        .and_then(|mut st| st.execute(params![key.collection, key.record, created, deleted]))
        .map(drop)
        .map_err(sql)
}
