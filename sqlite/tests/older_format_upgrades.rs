//! A store written by the build before the hash chain (format 1) is upgraded in place when it
//! is opened: its queued writes, its bookkeeping and its log are all still there, and the log
//! now verifies against a chain computed at the upgrade.

use driftsync_core::{
    ClientMeta, Hlc, LogPos, Op, OpBody, OpId, RecordKey, ReplicaId, Seq, ServerMeta, Stamp, Store,
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
    PRAGMA user_version = 1;
";

fn op(n: u64) -> Op {
    let replica = ReplicaId(3);
    Op {
        id: OpId { replica, seq: Seq(n) },
        stamp: Stamp::new(Hlc { wall_ms: 1_700_000_000_000 + n, logical: 0 }, replica),
        key: RecordKey::new("notes", format!("n{n}")),
        body: OpBody::Delete,
    }
}

/// A row as format 1 wrote it: today's encoding without the `trailing` bytes of the fields
/// format 2 appended at their defaults.
fn format_1_row<T: serde::Serialize>(value: &T, trailing: usize) -> Vec<u8> {
    let mut bytes = postcard::to_stdvec(value).expect("encodes");
    bytes.truncate(bytes.len() - trailing);
    bytes
}

#[test]
fn a_format_1_store_keeps_its_queued_writes_and_gains_a_verified_chain() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let path = folder.path().join("old.db");
    let client_meta = ClientMeta { next_seq: Seq(3), ..ClientMeta::default() };
    let server_meta = ServerMeta { head: LogPos(3), ..ServerMeta::default() };
    {
        let conn = Connection::open(&path).expect("a new SQLite file");
        conn.execute_batch(FORMAT_1_TABLES).expect("the old tables");
        let client_row = format_1_row(&client_meta, 1);
        let server_row = format_1_row(&server_meta, 33);
        conn.execute("INSERT INTO meta VALUES ('client', ?1)", params![client_row]).expect("row");
        conn.execute("INSERT INTO meta VALUES ('server', ?1)", params![server_row]).expect("row");
        for n in 1..=3 {
            let bytes = postcard::to_stdvec(&op(n)).expect("encodes");
            conn.execute("INSERT INTO log VALUES (?1, ?2)", params![n as i64, bytes]).expect("row");
        }
        let queued = postcard::to_stdvec(&op(2)).expect("encodes");
        conn.execute("INSERT INTO outbox VALUES (2, ?1)", params![queued]).expect("row");
    }
    let store = SqliteStore::open(&path, Durability::Full).expect("the old file is upgraded");
    let stored = store.load().expect("it loads");
    assert_eq!(stored.client_meta, Some(client_meta));
    assert_eq!(stored.server_meta, Some(server_meta));
    assert_eq!(stored.outbox.values().cloned().collect::<Vec<_>>(), [op(2)]);
    assert_eq!(stored.log.len(), 3);
    let report = store.verify_log().expect("the computed chain holds");
    assert_eq!(report.entries, 3);
    drop(store);
    let conn = Connection::open(&path).expect("opens");
    let format: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0)).expect("reads");
    assert_eq!(format, FORMAT_VERSION);
}
