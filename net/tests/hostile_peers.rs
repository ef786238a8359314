//! Peers that misbehave each get a close frame that says why, and the server keeps serving
//! everyone else: garbage, text, an oversized frame, no handshake, a thousand idle sockets.

// Real sockets and processes: not under madsim, whose tests are in `madsim.rs`.
#![cfg(not(madsim))]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use driftsync_core::{
    ClientConfig, CollectionSchema, FieldSchema, FieldType, MergePolicy, RecordKey, ReplicaId,
    Schema, ServerConfig, Value,
};
use driftsync_net::{ClientDriver, DriverConfig, HostLimits, ServerHost, Shutdown, Write};
use driftsync_sqlite::{Durability, SqliteStore};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

const FRAME_BYTES_MAX: usize = 64 << 10;

fn schema() -> Schema {
    let title = FieldSchema::new(FieldType::Str, MergePolicy::LastWriterWins);
    Schema::new(1).collection("notes", CollectionSchema::default().field("title", title))
}

async fn server(folder: &tempfile::TempDir) -> (SocketAddr, Shutdown) {
    server_with(folder, 2_000).await
}

async fn server_with(folder: &tempfile::TempDir, connections_max: usize) -> (SocketAddr, Shutdown) {
    let limits = HostLimits {
        frame_bytes_max: FRAME_BYTES_MAX,
        connections_max,
        hello_timeout: Duration::from_millis(400),
        idle_timeout: Duration::from_secs(30),
    };
    server_limited(folder, limits).await
}

async fn server_limited(folder: &tempfile::TempDir, limits: HostLimits) -> (SocketAddr, Shutdown) {
    let store =
        SqliteStore::open(folder.path().join("server.db"), Durability::Full).expect("a store");
    let host = ServerHost::bind(
        "127.0.0.1:0".parse().unwrap(),
        ServerConfig::new(schema()),
        store,
        limits,
    )
    .await
    .expect("the server binds");
    let addr = host.local_addr().expect("an address");
    let shutdown = Shutdown::new();
    tokio::spawn(host.run(shutdown.clone()));
    (addr, shutdown)
}

async fn raw(addr: SocketAddr) -> WebSocketStream<TcpStream> {
    let stream = TcpStream::connect(addr).await.expect("TCP connects");
    let (socket, _) = tokio_tungstenite::client_async(format!("ws://{addr}/"), stream)
        .await
        .expect("WebSocket opens");
    socket
}

/// Reads until the server's close frame; returns its code and reason.
async fn close_of(socket: &mut WebSocketStream<TcpStream>) -> (CloseCode, String) {
    let read = async {
        while let Some(message) = socket.next().await {
            match message {
                Ok(Message::Close(Some(frame))) => return (frame.code, frame.reason.to_string()),
                Ok(Message::Close(None)) => return (CloseCode::Status, String::new()),
                Ok(_) => {}
                Err(error) => return (CloseCode::Abnormal, error.to_string()),
            }
        }
        (CloseCode::Abnormal, "no close frame".to_owned())
    };
    tokio::time::timeout(Duration::from_secs(10), read).await.expect("the server closes in time")
}

/// A real client still writes and has its write acknowledged.
async fn still_serves(addr: SocketAddr, folder: &tempfile::TempDir, replica: u64) {
    let mut config = ClientConfig::new(ReplicaId(replica), schema());
    config.retry.backoff_ms_base = 20;
    let db = folder.path().join(format!("client-{replica}.db"));
    let driver = ClientDriver::start(DriverConfig::new(format!("ws://{addr}/"), config, db))
        .expect("a client");
    let fields = BTreeMap::from([("title".to_owned(), Value::Str("still here".into()))]);
    let key = RecordKey::new("notes", format!("from-{replica}"));
    let op = driver.write(Write::Put { key, fields }).await.expect("the write commits");
    let mut status = driver.status();
    let acked = status.wait_for(|status| status.acked >= op.seq);
    tokio::time::timeout(Duration::from_secs(10), acked)
        .await
        .expect("acknowledged in time")
        .expect("a status");
    driver.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_text_and_oversized_frames_are_closed_with_their_reason() {
    let folder = tempfile::tempdir().expect("a folder");
    let (addr, shutdown) = server(&folder).await;

    let mut garbage = raw(addr).await;
    garbage.send(Message::Binary(vec![0xff; 40].into())).await.expect("sent");
    let (code, reason) = close_of(&mut garbage).await;
    assert_eq!(code, CloseCode::Invalid);
    assert!(reason.starts_with("malformed message"), "{reason}");

    let mut text = raw(addr).await;
    text.send(Message::Text("hello?".into())).await.expect("sent");
    assert_eq!(
        close_of(&mut text).await,
        (CloseCode::Unsupported, "binary frames only".to_owned())
    );

    let mut oversized = raw(addr).await;
    oversized.send(Message::Binary(vec![0; FRAME_BYTES_MAX + 1].into())).await.expect("sent");
    let (code, reason) = close_of(&mut oversized).await;
    assert_eq!(code, CloseCode::Size, "{reason}");
    assert!(reason.starts_with("frame too large"), "{reason}");

    still_serves(addr, &folder, 1).await;
    shutdown.trigger();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_connections_that_never_say_hello_are_each_closed_and_the_server_stays_up() {
    let folder = tempfile::tempdir().expect("a folder");
    let (addr, shutdown) = server(&folder).await;
    // Each is read, as a client's socket is, so that it answers the server's pings.
    let mut silent = Vec::new();
    for _ in 0..1_000 {
        let mut socket = raw(addr).await;
        silent.push(tokio::spawn(async move { close_of(&mut socket).await }));
    }
    still_serves(addr, &folder, 2).await;
    for closed in silent {
        let (code, reason) = closed.await.expect("the reader finishes");
        assert_eq!(code, CloseCode::Policy, "{reason}");
        assert!(reason.contains("no Hello"), "{reason}");
    }
    still_serves(addr, &folder, 3).await;
    shutdown.trigger();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_past_the_limit_is_told_the_server_is_full() {
    let folder = tempfile::tempdir().expect("a folder");
    let (addr, shutdown) = server_with(&folder, 2).await;
    let _first = raw(addr).await;
    let _second = raw(addr).await;
    // The two above are registered once their handshakes finish; give them the moment.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut third = raw(addr).await;
    assert_eq!(close_of(&mut third).await, (CloseCode::Again, "server full".to_owned()));
    shutdown.trigger();
}

/// A valid Hello of replica `client`, as a real client's first frame.
fn hello(client: u64) -> Message {
    use driftsync_core::testing::wire::{self, Hello, PROTOCOL_VERSION};
    let hello = wire::Message::Hello(Hello {
        batch: driftsync_core::BatchId(1),
        protocol: PROTOCOL_VERSION,
        client: ReplicaId(client),
        schema_versions: vec![1],
        token: String::new(),
        cursor: driftsync_core::LogPos(0),
        acked_seq: driftsync_core::Seq(0),
        outbox_oldest: None,
        compression: Vec::new(),
    });
    Message::Binary(wire::encode(&hello))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_says_hello_then_falls_silent_is_closed_as_idle_and_others_sync_on() {
    let folder = tempfile::tempdir().expect("a folder");
    let limits = HostLimits {
        frame_bytes_max: FRAME_BYTES_MAX,
        connections_max: 100,
        hello_timeout: Duration::from_secs(10),
        idle_timeout: Duration::from_millis(600),
    };
    let (addr, _shutdown) = server_limited(&folder, limits).await;
    let mut silent = raw(addr).await;
    silent.send(hello(41)).await.expect("the Hello is sent");
    // Not reading, this peer answers no ping: to the server it has gone dark.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let mut welcomed = false;
    let close = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(message) = silent.next().await {
            match message {
                Ok(Message::Binary(_)) => welcomed = true,
                Ok(Message::Close(Some(frame))) => return (frame.code, frame.reason.to_string()),
                Ok(_) => {}
                Err(error) => return (CloseCode::Abnormal, error.to_string()),
            }
        }
        (CloseCode::Abnormal, "no close frame".to_owned())
    })
    .await
    .expect("the server closes in time");
    assert!(welcomed, "the Hello was accepted before the silence");
    assert_eq!(close, (CloseCode::Away, "idle".to_owned()));
    still_serves(addr, &folder, 42).await;
}
