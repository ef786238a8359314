//! A store written by an older build is upgraded in place when it is opened: its queued
//! writes, its bookkeeping, its quarantine and its log are all still there, its ops now carry
//! no reason, its log verifies against a chain computed at the upgrade (under a new epoch, so
//! that clients take it as the server's own rebuild) and it has an empty audit trail.
//!
//! Format 1 is the build before the hash chain; format 2 the build before reasons and audit.

use driftsync_core::{
    ClientMeta, Hlc, LogPos, Op, OpBody, OpId, QuarantineReason, QuarantinedOp, RecordKey,
    ReplicaId, Seq, ServerMeta, Stamp, Store,
};
use driftsync_sqlite::{Durability, FORMAT_VERSION, SqliteStore};
use rusqlite::{Connection, params};

/// The tables of format 1, as that build created them.
const FORMAT_1_TABLES: &str = "
    CREATE TABLE records (
        collection TEXT NOT NULL, record TEXT NOT NULL, created BLOB, deleted BLOB,
        PRIMARY KEY (collection, record)) WITHOUT ROWID;
    CREATE TABLE fields (
        collection TEXT NOT NULL, record TEXT NOT NULL, name TEXT NOT NULL, state BLOB NOT NULL,
        PRIMARY KEY (collection, record, name)) WITHOUT ROWID;
    CREATE TABLE outbox (seq INTEGER PRIMARY KEY, op BLOB NOT NULL);
    CREATE TABLE log (pos INTEGER PRIMARY KEY, op BLOB NOT NULL);
    CREATE TABLE quarantine (entry INTEGER PRIMARY KEY AUTOINCREMENT, op BLOB NOT NULL);
    CREATE TABLE meta (name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
    CREATE TABLE registrations (client INTEGER PRIMARY KEY, registration BLOB NOT NULL);
    CREATE TABLE recreated_over (
        collection TEXT NOT NULL, record TEXT NOT NULL, stamp BLOB NOT NULL,
        PRIMARY KEY (collection, record)) WITHOUT ROWID;
    CREATE TABLE forgotten (bucket INTEGER PRIMARY KEY, stamp BLOB NOT NULL);
    PRAGMA application_id = 1685289326;
";

fn op(n: u64) -> Op {
    let replica = ReplicaId(3);
    Op {
        id: OpId { replica, seq: Seq(n) },
        stamp: Stamp::new(Hlc { wall_ms: 1_700_000_000_000 + n, logical: 0 }, replica),
        key: RecordKey::new("notes", format!("n{n}")),
        body: OpBody::Delete,
        reason: None,
    }
}

/// An op as formats 1 and 2 wrote it: today's encoding without its trailing `reason: None`.
fn old_op(n: u64) -> Vec<u8> {
    let mut bytes = postcard::to_stdvec(&op(n)).expect("encodes");
    assert_eq!(bytes.pop(), Some(0), "the reason is the last field");
    bytes
}

/// A quarantine row as formats 1 and 2 wrote it: the old op, then the reason it was held.
fn old_quarantined(n: u64) -> (QuarantinedOp, Vec<u8>) {
    let reason = QuarantineReason::ForeignWriter { sender: 9 };
    let mut bytes = old_op(n);
    bytes.extend(postcard::to_stdvec(&reason).expect("encodes"));
    (QuarantinedOp { op: op(n), reason }, bytes)
}

/// A bookkeeping row as format 1 wrote it: today's encoding without the `trailing` bytes of
/// the fields format 2 appended at their defaults (none: as format 2 wrote it).
fn format_1_row<T: serde::Serialize>(value: &T, trailing: usize) -> Vec<u8> {
    let mut bytes = postcard::to_stdvec(value).expect("encodes");
    bytes.truncate(bytes.len() - trailing);
    bytes
}

/// Writes a file of `format` (1 or 2) holding a client's meta and a queued op, a server's meta,
/// a log of three ops and a quarantined op; returns what the upgraded file must load as.
fn old_store(path: &std::path::Path, format: i64) -> (ClientMeta, ServerMeta, QuarantinedOp) {
    let client_meta = ClientMeta { next_seq: Seq(3), ..ClientMeta::default() };
    let server_meta = ServerMeta { head: LogPos(3), ..ServerMeta::default() };
    let conn = Connection::open(path).expect("a new SQLite file");
    conn.execute_batch(FORMAT_1_TABLES).expect("the old tables");
    let (client_row, server_row) = match format {
        1 => (format_1_row(&client_meta, 1), format_1_row(&server_meta, 33)),
        _ => {
            conn.execute_batch("ALTER TABLE log ADD COLUMN link BLOB NOT NULL DEFAULT x''")
                .expect("format 2's log");
            // Format 2's bookkeeping rows are today's.
            (format_1_row(&client_meta, 0), format_1_row(&server_meta, 0))
        }
    };
    conn.execute("INSERT INTO meta VALUES ('client', ?1)", params![client_row]).expect("row");
    conn.execute("INSERT INTO meta VALUES ('server', ?1)", params![server_row]).expect("row");
    for n in 1..=3 {
        // Format 2's links are left stale (of the old encoding): the upgrade computes them.
        let insert = "INSERT INTO log (pos, op) VALUES (?1, ?2)";
        conn.execute(insert, params![n as i64, old_op(n)]).expect("row");
    }
    conn.execute("INSERT INTO outbox VALUES (2, ?1)", params![old_op(2)]).expect("row");
    let (quarantined, row) = old_quarantined(5);
    conn.execute("INSERT INTO quarantine (op) VALUES (?1)", params![row]).expect("row");
    conn.execute_batch(&format!("PRAGMA user_version = {format}")).expect("the format");
    (client_meta, server_meta, quarantined)
}

fn upgrades_keeping_everything(format: i64) {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let path = folder.path().join("old.db");
    let (client_meta, mut server_meta, quarantined) = old_store(&path, format);
    let store = SqliteStore::open(&path, Durability::Full).expect("the old file is upgraded");
    let stored = store.load().expect("it loads");
    assert_eq!(stored.client_meta, Some(client_meta));
    server_meta.chain_epoch += 1;
    assert_eq!(stored.server_meta, Some(server_meta), "a new chain epoch, nothing else");
    assert_eq!(stored.outbox.values().cloned().collect::<Vec<_>>(), [op(2)]);
    assert_eq!(stored.quarantine, [quarantined]);
    let log: Vec<Op> = stored.log.values().map(|entry| entry.op.clone()).collect();
    assert_eq!(log, [op(1), op(2), op(3)]);
    let report = store.verify_log().expect("the computed chain holds");
    assert_eq!(report.entries, 3);
    assert!(store.audit_of(&op(1).key).expect("the audit table exists").is_empty());
    drop(store);
    let conn = Connection::open(&path).expect("opens");
    let found: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0)).expect("reads");
    assert_eq!(found, FORMAT_VERSION);
}

#[test]
fn a_format_1_store_keeps_every_row_and_gains_a_verified_chain_and_an_audit_trail() {
    upgrades_keeping_everything(1);
}

#[test]
fn a_format_2_store_keeps_every_row_and_gains_reasons_a_new_chain_and_an_audit_trail() {
    upgrades_keeping_everything(2);
}
