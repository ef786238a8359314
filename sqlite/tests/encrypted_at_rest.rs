//! A store opened with a key keeps no value a user wrote in the clear: its file (and its
//! write-ahead log) holds none of them, it loads back exactly what was committed, a value
//! moved to another row does not open, and the wrong key, no key, or a key for a plain file
//! are refused without touching the file.

use std::path::Path;

use driftsync_core::audit::AuditEntry;
use driftsync_core::conformance::StoreUnderTest;
use driftsync_core::{
    FieldState, FieldWrites, Hlc, LogEntry, LogPos, Mutation, Op, OpBody, OpId, QuarantineReason,
    QuarantinedOp, RecordKey, ReplicaId, Seq, Stamp, Store, Value, WallTime,
};
use driftsync_sqlite::{Durability, OpenError, SqliteStore, StoreKey};
use tempfile::TempDir;

const KEY: StoreKey = StoreKey::new([7; 32]);

/// The same suite every store passes, on encrypted files.
struct EncryptedFiles {
    folder: TempDir,
    made: u32,
}

impl StoreUnderTest for EncryptedFiles {
    type Store = SqliteStore;

    fn create(&mut self) -> SqliteStore {
        self.made += 1;
        let path = self.folder.path().join(format!("store-{}.db", self.made));
        SqliteStore::open_encrypted(path, Durability::Full, &KEY).expect("a new store opens")
    }

    fn reopen(&mut self, store: SqliteStore) -> SqliteStore {
        let path = store.path().to_path_buf();
        drop(store);
        SqliteStore::open_encrypted(path, Durability::Normal, &KEY).expect("it opens again")
    }
}

mod conformance {
    use super::*;
    driftsync_core::store_conformance_tests!(EncryptedFiles {
        folder: tempfile::tempdir().expect("a temporary folder"),
        made: 0,
    });
}

/// A value no SQL structure or encoding would produce by chance.
const SECRET: &str = "the launch code is 0451-SWORDFISH";

fn stamp(n: u64) -> Stamp {
    Stamp::new(Hlc { wall_ms: 1_700_000_000_000 + n, logical: 0 }, ReplicaId(1))
}

fn secret_op(n: u64) -> Op {
    let write = driftsync_core::FieldWrite::new(Value::Str(format!("{SECRET} #{n}")));
    Op {
        id: OpId { replica: ReplicaId(1), seq: Seq(n) },
        stamp: stamp(n),
        key: RecordKey::new("notes", format!("n{n}")),
        body: OpBody::Put { fields: FieldWrites::from([("title".to_owned(), write)]) },
        reason: Some(format!("{SECRET} (why)")),
    }
}

/// One of each row that holds a value a user wrote.
fn secrets() -> Vec<Mutation> {
    let state = FieldState::Register(Some(driftsync_core::Entry {
        stamp: stamp(1),
        op: secret_op(1).id,
        value: Value::Str(SECRET.to_owned()),
        seen: None,
    }));
    let key = RecordKey::new("notes", "n1");
    let entry = LogEntry {
        link: driftsync_core::Link::GENESIS.next(LogPos(1), &secret_op(2)),
        op: secret_op(2),
    };
    let held = QuarantineReason::Stale { forgotten_through: stamp(0) };
    vec![
        Mutation::Fields {
            key: key.clone(),
            created: Some(stamp(1)),
            deleted: None,
            fields: vec![("title".to_owned(), Some(state))],
        },
        Mutation::OutboxPut(secret_op(3)),
        Mutation::LogAppend { pos: LogPos(1), entry },
        Mutation::ServerMeta(driftsync_core::ServerMeta { head: LogPos(1), ..Default::default() }),
        Mutation::Quarantine(QuarantinedOp { op: secret_op(4), reason: held }),
        Mutation::Audit(AuditEntry {
            pos: LogPos(1),
            at: WallTime(1),
            user: "alice".to_owned(),
            op: secret_op(2),
        }),
    ]
}

/// Every byte of the store's files: the database, and its write-ahead log if one is left.
fn file_bytes(path: &Path) -> Vec<u8> {
    let mut bytes = std::fs::read(path).expect("the database file");
    if let Ok(wal) = std::fs::read(path.with_extension("db-wal")) {
        bytes.extend(wal);
    }
    bytes
}

fn holds(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle.as_bytes())
}

#[test]
fn an_encrypted_store_file_holds_no_field_value_or_reason_in_the_clear() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    for encrypted in [false, true] {
        let path = folder.path().join(format!("store-{encrypted}.db"));
        let mut store = match encrypted {
            true => SqliteStore::open_encrypted(&path, Durability::Full, &KEY),
            false => SqliteStore::open(&path, Durability::Full),
        }
        .expect("a new store");
        store.commit(secrets()).expect("committed");
        let bytes = file_bytes(&path);
        // The plain store shows the check can see a value where it sits.
        assert_eq!(holds(&bytes, SECRET), !encrypted, "encrypted: {encrypted}");
        assert_eq!(holds(&bytes, "(why)"), !encrypted, "encrypted: {encrypted}");
        drop(store);
        let bytes = file_bytes(&path);
        assert_eq!(holds(&bytes, SECRET), !encrypted, "closed, encrypted: {encrypted}");
    }
}

#[test]
fn an_encrypted_store_loads_back_every_value_and_the_audit_trail() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let path = folder.path().join("store.db");
    let mut store = SqliteStore::open_encrypted(&path, Durability::Full, &KEY).expect("new");
    store.commit(secrets()).expect("committed");
    drop(store);
    let store = SqliteStore::open_encrypted(&path, Durability::Full, &KEY).expect("reopens");
    let mut model = driftsync_core::Stored::default();
    model.apply(secrets());
    assert_eq!(store.load().expect("it loads"), model);
    let trail = store.audit_of(&secret_op(2).key).expect("the trail");
    assert_eq!(trail.len(), 1);
    assert_eq!(trail[0].op, secret_op(2));
    let verified = store.verify_log();
    assert!(verified.is_ok(), "the chain verifies through the sealed ops: {verified:?}");
}

#[test]
fn a_value_moved_to_another_row_does_not_open() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let path = folder.path().join("store.db");
    let mut store = SqliteStore::open_encrypted(&path, Durability::Full, &KEY).expect("new");
    store
        .commit(vec![Mutation::OutboxPut(secret_op(1)), Mutation::OutboxPut(secret_op(2))])
        .expect("committed");
    drop(store);
    {
        let conn = rusqlite::Connection::open(&path).expect("opens");
        let first: Vec<u8> =
            conn.query_row("SELECT op FROM outbox WHERE seq = 1", [], |r| r.get(0)).expect("row");
        conn.execute("UPDATE outbox SET op = ?1 WHERE seq = 2", [first]).expect("moved");
    }
    let store = SqliteStore::open_encrypted(&path, Durability::Full, &KEY).expect("opens");
    let error = store.load().expect_err("the moved value is refused");
    assert!(error.message.contains("outbox"), "{error}");
}

#[test]
fn no_key_a_wrong_key_or_a_key_for_a_plain_file_is_refused_and_the_file_left_alone() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let encrypted = folder.path().join("encrypted.db");
    let plain = folder.path().join("plain.db");
    let mut store = SqliteStore::open_encrypted(&encrypted, Durability::Full, &KEY).expect("new");
    store.commit(secrets()).expect("committed");
    drop(store);
    drop(SqliteStore::open(&plain, Durability::Full).expect("new"));
    let before = (file_bytes(&encrypted), file_bytes(&plain));
    let other = StoreKey::new([8; 32]);
    let refusals = [
        SqliteStore::open(&encrypted, Durability::Full),
        SqliteStore::open_encrypted(&encrypted, Durability::Full, &other),
        SqliteStore::open_encrypted(&plain, Durability::Full, &KEY),
    ];
    let [no_key, wrong_key, not_encrypted] = refusals.map(|opened| opened.expect_err("refused"));
    assert!(matches!(no_key, OpenError::KeyRequired { .. }), "{no_key}");
    assert!(matches!(wrong_key, OpenError::WrongKey { .. }), "{wrong_key}");
    assert!(matches!(not_encrypted, OpenError::NotEncrypted { .. }), "{not_encrypted}");
    assert!(before == (file_bytes(&encrypted), file_bytes(&plain)), "the files are untouched");
    assert!(SqliteStore::open_encrypted(&encrypted, Durability::Full, &KEY).is_ok());
}
