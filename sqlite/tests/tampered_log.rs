//! A server log altered in its SQLite file is found, every time, at the entry that changed: a
//! single byte flipped anywhere in any entry, two entries swapped, an entry deleted, the tail
//! cut off. The server refuses to start on such a file, and an untouched one verifies.

use std::path::{Path, PathBuf};

use driftsync_core::{
    ChainBreak, Hlc, Link, LogEntry, LogPos, MemoryStore, Mutation, Now, Op, OpBody, OpId,
    RecordKey, ReplicaId, Schema, Seq, Server, ServerConfig, ServerMeta, Stamp, StartError, Store,
    WallTime,
};
use driftsync_sqlite::{Durability, SqliteStore, VerifyError};
use rusqlite::{Connection, params};
use tempfile::TempDir;

const ENTRIES: u64 = 6;

fn op(n: u64) -> Op {
    let replica = ReplicaId(1 + n % 2);
    Op {
        id: OpId { replica, seq: Seq(n) },
        stamp: Stamp::new(Hlc { wall_ms: 1_700_000_000_000 + n, logical: 0 }, replica),
        key: RecordKey::new("notes", format!("note-{n}")),
        body: OpBody::Delete,
        reason: None,
    }
}

/// A server store whose log holds `ENTRIES` chained entries, as a server writes them.
fn logged_store(folder: &TempDir) -> PathBuf {
    let path = folder.path().join("server.db");
    let mut store = SqliteStore::open(&path, Durability::Full).expect("a new store opens");
    let mut link = Link::GENESIS;
    let mut batch: Vec<Mutation> = (1..=ENTRIES)
        .map(|n| {
            let op = op(n);
            link = link.next(LogPos(n), &op);
            Mutation::LogAppend { pos: LogPos(n), entry: LogEntry { op, link } }
        })
        .collect();
    let meta = ServerMeta { head: LogPos(ENTRIES), ..ServerMeta::default() };
    batch.push(Mutation::ServerMeta(meta));
    store.commit(batch).expect("the commit succeeds");
    path
}

fn verify(path: &Path) -> Result<driftsync_sqlite::ChainReport, VerifyError> {
    SqliteStore::open(path, Durability::Full).expect("the file opens").verify_log()
}

fn broken(path: &Path) -> ChainBreak {
    match verify(path) {
        Err(VerifyError::Broken(broken)) => broken,
        other => panic!("expected a broken chain, got {other:?}"),
    }
}

fn column(conn: &Connection, column: &str, pos: u64) -> Vec<u8> {
    let query = format!("SELECT {column} FROM log WHERE pos = ?1");
    conn.query_row(&query, params![pos as i64], |row| row.get(0)).expect("the entry exists")
}

fn set_column(conn: &Connection, column: &str, pos: u64, value: &[u8]) {
    let statement = format!("UPDATE log SET {column} = ?1 WHERE pos = ?2");
    conn.execute(&statement, params![value, pos as i64]).expect("the update runs");
}

#[test]
fn an_untouched_log_verifies_to_its_last_link() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let report = verify(&logged_store(&folder)).expect("the chain holds");
    assert_eq!(report.entries, ENTRIES);
}

#[test]
fn every_byte_flipped_in_any_entry_is_found_at_that_entry() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let path = logged_store(&folder);
    let mut checked = 0;
    for pos in 1..=ENTRIES {
        for column_name in ["op", "link"] {
            let conn = Connection::open(&path).expect("the file opens in SQLite");
            let original = column(&conn, column_name, pos);
            drop(conn);
            for byte in 0..original.len() {
                let mut altered = original.clone();
                altered[byte] ^= 0x01;
                let conn = Connection::open(&path).expect("the file opens in SQLite");
                set_column(&conn, column_name, pos, &altered);
                drop(conn);
                let found = broken(&path);
                assert_eq!(
                    found,
                    ChainBreak::Altered { pos: LogPos(pos) },
                    "{column_name}[{byte}]"
                );
                let conn = Connection::open(&path).expect("the file opens in SQLite");
                set_column(&conn, column_name, pos, &original);
                checked += 1;
            }
        }
    }
    assert!(checked > ENTRIES * 40, "only {checked} bytes were tried");
    verify(&path).expect("restored, the chain holds again");
}

#[test]
fn two_swapped_entries_are_found_at_the_first_of_them() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let path = logged_store(&folder);
    let conn = Connection::open(&path).expect("the file opens in SQLite");
    for column_name in ["op", "link"] {
        let (second, fifth) = (column(&conn, column_name, 2), column(&conn, column_name, 5));
        set_column(&conn, column_name, 2, &fifth);
        set_column(&conn, column_name, 5, &second);
    }
    drop(conn);
    assert_eq!(broken(&path), ChainBreak::Altered { pos: LogPos(2) });
    let store = SqliteStore::open(&path, Durability::Full).expect("the file opens");
    let now = Now::new(driftsync_core::MonoTime(0), WallTime(1_700_000_000_000));
    let started = Server::new(ServerConfig::new(Schema::new(1)), store, now);
    assert!(
        matches!(started, Err(StartError::Tampered(ChainBreak::Altered { pos: LogPos(2) }))),
        "{:?}",
        started.err()
    );
}

#[test]
fn a_deleted_entry_and_a_cut_tail_are_found() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let path = logged_store(&folder);
    let conn = Connection::open(&path).expect("the file opens in SQLite");
    conn.execute("DELETE FROM log WHERE pos = ?1", params![ENTRIES as i64]).expect("deletes");
    drop(conn);
    let cut = ChainBreak::Truncated { held_through: LogPos(ENTRIES - 1), head: LogPos(ENTRIES) };
    assert_eq!(broken(&path), cut);
    let conn = Connection::open(&path).expect("the file opens in SQLite");
    conn.execute("DELETE FROM log WHERE pos = 3", []).expect("deletes");
    drop(conn);
    assert_eq!(broken(&path), ChainBreak::Gap { expected: LogPos(3), found: LogPos(4) });
}

/// The memory store holds the same chain: a server started on it verifies it too.
#[test]
fn a_server_starts_on_a_chained_log_it_did_not_write_itself() {
    let mut store = MemoryStore::new();
    let mut link = Link::GENESIS;
    let batch: Vec<Mutation> = (1..=3)
        .map(|n| {
            link = link.next(LogPos(n), &op(n));
            Mutation::LogAppend { pos: LogPos(n), entry: LogEntry { op: op(n), link } }
        })
        .chain([Mutation::ServerMeta(ServerMeta { head: LogPos(3), ..ServerMeta::default() })])
        .collect();
    store.commit(batch).expect("the memory store commits");
    let now = Now::new(driftsync_core::MonoTime(0), WallTime(1_700_000_000_000));
    let server = Server::new(ServerConfig::new(Schema::new(1)), store, now).expect("it starts");
    assert_eq!(server.head_link(), link);
}
