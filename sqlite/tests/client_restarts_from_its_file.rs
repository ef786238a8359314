//! A client on the SQLite store keeps an offline write across a restart of its process: the
//! write is in the outbox of the client that opens the same file again.

use std::collections::BTreeMap;

use driftsync_core::{
    Client, ClientConfig, CollectionSchema, FieldSchema, FieldType, MergePolicy, MonoTime, Now,
    RecordKey, ReplicaId, Schema, Value, WallTime,
};
use driftsync_sqlite::{Durability, SqliteStore};

#[test]
fn an_offline_write_is_still_queued_after_the_client_reopens_its_file() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let path = folder.path().join("phone.db");
    let schema = Schema::new(1).collection(
        "notes",
        CollectionSchema::default()
            .field("title", FieldSchema::new(FieldType::Str, MergePolicy::LastWriterWins)),
    );
    let now = Now::new(MonoTime(0), WallTime(1_700_000_000_000));
    let config = ClientConfig::new(ReplicaId(7), schema);
    let store = SqliteStore::open(&path, Durability::Full).expect("a new store opens");
    let mut client = Client::new(config.clone(), store, 1, now).expect("the client starts");
    let key = RecordKey::new("notes", "n1");
    let fields = BTreeMap::from([("title".to_owned(), Value::Str("written offline".into()))]);
    client.put(now, key.clone(), fields).expect("the write commits locally");
    drop(client);

    let store = SqliteStore::open(&path, Durability::Full).expect("the store reopens");
    let client = Client::new(config, store, 2, now).expect("the client restarts");
    let queued: Vec<_> = client.outbox().map(|op| op.key.clone()).collect();
    assert_eq!(queued, std::slice::from_ref(&key));
    assert!(client.view().contains_key(&key), "the write is visible after the restart");
}
