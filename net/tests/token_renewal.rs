//! A client driver whose token the server refuses asks its token provider for a fresh one,
//! and keeps asking while the provider has none: once a renewed token appears, the client
//! dials again and its queued write reaches the server.

// Real sockets: not under madsim.
#![cfg(not(madsim))]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use driftsync_core::auth::{Claims, Keyring};
use driftsync_core::{
    ClientConfig, CollectionSchema, FieldSchema, FieldType, MergePolicy, RecordKey, ReplicaId,
    Schema, ServerConfig, Value,
};
use driftsync_net::{
    ClientDriver, DriverConfig, HostLimits, ServerHost, Shutdown, TokenProvider, Write,
};
use driftsync_sqlite::{Durability, SqliteStore};

fn schema() -> Schema {
    let title = FieldSchema::new(FieldType::Str, MergePolicy::LastWriterWins);
    Schema::new(1).collection("notes", CollectionSchema::default().field("title", title))
}

fn keys() -> Keyring {
    let mut keys = Keyring::new();
    keys.insert("k1", b"a token renewal test key, 32+ bytes").expect("long enough");
    keys
}

/// A token for replica 1 that expires `from_now_s` seconds from now (negative: in the past).
fn token(from_now_s: i64) -> String {
    let now_s = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let exp = now_s.saturating_add_signed(from_now_s);
    let claims = Claims {
        sub: "alice".into(),
        exp,
        nbf: None,
        replicas: vec![1],
        read: Vec::new(),
        write: vec!["*".into()],
    };
    keys().issue("k1", &claims).expect("the key is in the ring")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_client_keeps_asking_its_provider_and_syncs_once_a_fresh_token_appears() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let store = SqliteStore::open(folder.path().join("server.db"), Durability::Full)
        .expect("the server store opens");
    let mut config = ServerConfig::new(schema());
    config.keys = Some(keys());
    let listen = "127.0.0.1:0".parse().expect("an address");
    let host = ServerHost::bind(listen, config, store, HostLimits::default())
        .await
        .expect("the server binds");
    let addr = host.local_addr().expect("an address");
    let shutdown = Shutdown::new();
    let server = tokio::spawn(host.run(shutdown.clone()));

    // Expired an hour ago, past the minute of skew allowed; the provider has nothing newer yet.
    let renewed: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    let mut client = ClientConfig::new(ReplicaId(1), schema());
    client.token = token(-3_600);
    client.retry.backoff_ms_base = 20;
    let mut driver = DriverConfig::new(format!("ws://{addr}/"), client, folder.path().join("c.db"));
    let source = renewed.clone();
    driver.token_provider = Some(TokenProvider::new(move || source.lock().ok()?.clone()));
    let alice = ClientDriver::start(driver).expect("the client starts");
    let key = RecordKey::new("notes", "n1");
    let fields = BTreeMap::from([("title".to_owned(), Value::Str("queued".into()))]);
    alice.write(Write::Put { key, fields }).await.expect("committed locally");

    let mut status = alice.status();
    let refused = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let now = status.borrow_and_update().clone();
            if now.last_error.as_deref().is_some_and(|e| e.contains("token refused")) {
                return now;
            }
            status.changed().await.expect("the driver runs");
        }
    })
    .await
    .expect("the expired token is refused");
    assert_eq!(refused.outbox, 1, "the write waits in the outbox");

    *renewed.lock().expect("the lock") = Some(token(3_600));
    let synced = tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            if status.borrow_and_update().outbox == 0 {
                return;
            }
            status.changed().await.expect("the driver runs");
        }
    })
    .await;
    assert!(synced.is_ok(), "the renewed token brought the client back: {:?}", *status.borrow());
    alice.stop().await;
    shutdown.trigger();
    server.await.expect("the server stops");
}
