//! The real server host and client drivers over loopback WebSocket: a write on one client
//! arrives on the other, and writes made while the server is down converge once it is back.

// Real sockets and processes: not under madsim, whose tests are in `madsim.rs`.
#![cfg(not(madsim))]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use driftsync_core::{
    ClientConfig, CollectionSchema, FieldSchema, FieldType, MergePolicy, RecordKey, ReplicaId,
    Schema, ServerConfig, Value,
};
use driftsync_net::{ClientDriver, DriverConfig, HostLimits, ServerHost, Shutdown, Write};
use driftsync_sqlite::{Durability, SqliteStore};

fn schema() -> Schema {
    let title = FieldSchema::new(FieldType::Str, MergePolicy::LastWriterWins);
    Schema::new(1).collection("notes", CollectionSchema::default().field("title", title))
}

async fn start_server(
    db: &Path,
    listen: SocketAddr,
) -> (SocketAddr, Shutdown, tokio::task::JoinHandle<()>) {
    let store = SqliteStore::open(db, Durability::Full).expect("the server store opens");
    let host = ServerHost::bind(listen, ServerConfig::new(schema()), store, HostLimits::default())
        .await
        .expect("the server binds");
    let addr = host.local_addr().expect("an address");
    let shutdown = Shutdown::new();
    let task = tokio::spawn(host.run(shutdown.clone()));
    (addr, shutdown, task)
}

fn client(addr: SocketAddr, db: &Path, replica: u64) -> ClientDriver {
    let mut config = ClientConfig::new(ReplicaId(replica), schema());
    config.retry.backoff_ms_base = 20;
    config.retry.backoff_ms_max = 200;
    config.sync_interval_ms = 200;
    let mut driver = DriverConfig::new(format!("ws://{addr}/"), config, db);
    driver.seed = replica;
    ClientDriver::start(driver).expect("the client starts")
}

fn title(text: &str) -> BTreeMap<String, Value> {
    BTreeMap::from([("title".to_owned(), Value::Str(text.to_owned()))])
}

/// Waits until `driver` sees `key` with `text` as its title.
async fn sees(driver: &ClientDriver, key: &RecordKey, text: &str) {
    let wanted = Some(
        title(text).into_iter().map(|(k, v)| (k, driftsync_core::FieldView::One(v))).collect(),
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while driver.get(key.clone()).await.expect("the driver answers") != wanted {
        assert!(tokio::time::Instant::now() < deadline, "{key} never showed {text:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_on_one_client_arrives_on_the_other_and_offline_writes_converge_after_a_restart() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let server_db = folder.path().join("server.db");
    let (addr, shutdown, task) = start_server(&server_db, "127.0.0.1:0".parse().unwrap()).await;
    let alice = client(addr, &folder.path().join("alice.db"), 1);
    let bob = client(addr, &folder.path().join("bob.db"), 2);

    let mut bob_changes = bob.changes();
    let first = RecordKey::new("notes", "first");
    alice.write(Write::Put { key: first.clone(), fields: title("hello") }).await.expect("a write");
    sees(&bob, &first, "hello").await;
    let announced = std::iter::from_fn(|| bob_changes.try_recv().ok())
        .any(|change| matches!(change, driftsync_net::Change::Remote { .. }));
    assert!(announced, "bob's change stream announced the pulled write");

    shutdown.trigger();
    task.await.expect("the server stops");
    let offline = RecordKey::new("notes", "offline");
    alice
        .write(Write::Put { key: offline.clone(), fields: title("while down") })
        .await
        .expect("an offline write");
    bob.write(Write::Update { key: first.clone(), fields: title("edited offline") })
        .await
        .expect("an offline edit");

    let (_, shutdown, task) = start_server(&server_db, addr).await;
    sees(&bob, &offline, "while down").await;
    sees(&alice, &first, "edited offline").await;
    assert_eq!(alice.view().await.expect("a view"), bob.view().await.expect("a view"));
    alice.stop().await;
    bob.stop().await;
    shutdown.trigger();
    task.await.expect("the server stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_driver_has_closed_its_file_and_a_new_one_reports_its_outbox_at_once() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let db = folder.path().join("alice.db");
    let nowhere: SocketAddr = "127.0.0.1:9".parse().unwrap();
    for round in 0..20 {
        let alice = client(nowhere, &db, 1);
        let key = RecordKey::new("notes", format!("n{round}"));
        alice.write(Write::Put { key, fields: title("offline") }).await.expect("a write");
        alice.stop().await;
    }
    let again = client(nowhere, &db, 1);
    assert_eq!(again.status().borrow().outbox, 20, "the status says what the file holds at once");
    again.stop().await;
    let store = SqliteStore::open(&db, Durability::Full).expect("nobody holds the file");
    drop(store);
}
