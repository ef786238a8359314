//! `wss://`: a client that trusts the server's certificate syncs through TLS, and one that
//! does not is refused at the handshake and keeps its write.

// Real sockets: not under madsim, whose tests are in `madsim.rs`.
#![cfg(not(madsim))]

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use driftsync_core::{
    ClientConfig, CollectionSchema, FieldSchema, FieldType, MergePolicy, RecordKey, ReplicaId,
    Schema, ServerConfig, Value,
};
use driftsync_net::{
    ClientDriver, ClientTls, DriverConfig, HostLimits, ServerHost, ServerTls, Shutdown, Write,
};
use driftsync_sqlite::{Durability, SqliteStore};

fn schema() -> Schema {
    let title = FieldSchema::new(FieldType::Str, MergePolicy::LastWriterWins);
    Schema::new(1).collection("notes", CollectionSchema::default().field("title", title))
}

/// A self-signed certificate for `localhost`, made now, as PEM files in `folder`.
fn certificate(folder: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("a cert");
    let (cert, key) = (folder.join("cert.pem"), folder.join("key.pem"));
    std::fs::write(&cert, made.cert.pem()).expect("the cert writes");
    std::fs::write(&key, made.signing_key.serialize_pem()).expect("the key writes");
    (cert, key)
}

async fn write_and_wait(driver: &ClientDriver, replica: u64) -> bool {
    let fields = BTreeMap::from([("title".to_owned(), Value::Str("over tls".into()))]);
    let key = RecordKey::new("notes", format!("from-{replica}"));
    let op = driver.write(Write::Put { key, fields }).await.expect("the write commits locally");
    let mut status = driver.status();
    let acked = status.wait_for(|status| status.acked >= op.seq);
    tokio::time::timeout(Duration::from_secs(3), acked).await.is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_trusting_the_certificate_syncs_over_wss_and_a_stranger_is_refused() {
    let folder = tempfile::tempdir().expect("a folder");
    let (cert, key) = certificate(folder.path());
    let store =
        SqliteStore::open(folder.path().join("server.db"), Durability::Full).expect("a store");
    let listen = "127.0.0.1:0".parse().expect("an address");
    let host = ServerHost::bind(listen, ServerConfig::new(schema()), store, HostLimits::default())
        .await
        .expect("the server binds")
        .with_tls(ServerTls::from_pem_files(&cert, &key).expect("the cert loads"));
    let port = host.local_addr().expect("an address").port();
    let shutdown = Shutdown::new();
    tokio::spawn(host.run(shutdown.clone()));
    let url = format!("wss://localhost:{port}/");

    let start = |replica: u64, tls: Option<ClientTls>| {
        let mut config = ClientConfig::new(ReplicaId(replica), schema());
        config.retry.backoff_ms_base = 20;
        let db = folder.path().join(format!("client-{replica}.db"));
        let mut driver = DriverConfig::new(url.clone(), config, db);
        driver.tls = tls;
        ClientDriver::start(driver).expect("a client starts")
    };
    let trusting = start(1, Some(ClientTls::trusting_pem_file(&cert).expect("the cert reads")));
    assert!(write_and_wait(&trusting, 1).await, "the trusting client's write is acknowledged");

    let stranger = start(2, None);
    assert!(
        !write_and_wait(&stranger, 2).await,
        "a client that trusts only public roots syncs nothing"
    );
    let status = stranger.status().borrow().clone();
    let why = status.last_error.expect("the failed dial says why");
    assert!(why.contains("certificate"), "{why}");
    assert_eq!(status.outbox, 1, "the stranger keeps its write");
    shutdown.trigger();
}
