//! Criterion benchmarks live in `benches/`; run them with `cargo bench -p driftsync-benches`.
//!
//! This library is the setup the benchmarks of the real transport share: their schema and
//! notes, and a server database already holding many notes, written through the core directly
//! so that making it is quick (it is not what they measure).

use std::collections::BTreeMap;
use std::path::Path;

use driftsync_core::{
    Client, ClientConfig, ClientEvent, CollectionSchema, FieldSchema, FieldType, LogPos,
    MemoryStore, MergePolicy, MonoTime, Now, PeerId, RecordKey, ReplicaId, Schema, Server,
    ServerConfig, Store, Value, WallTime,
};
use driftsync_sqlite::{Durability, SqliteStore};

/// How many notes a transport benchmark's server holds unless `DRIFTSYNC_BENCH_RECORDS` says.
pub const RECORDS_DEFAULT: usize = 100_000;

/// The replica that wrote the server's notes; the benchmarks' own clients are numbered below.
pub const AUTHOR: ReplicaId = ReplicaId(1 << 40);

/// `DRIFTSYNC_BENCH_RECORDS`, or [`RECORDS_DEFAULT`].
pub fn records() -> usize {
    std::env::var("DRIFTSYNC_BENCH_RECORDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(RECORDS_DEFAULT)
}

/// A notes app: a required title and a body, both last-writer-wins.
pub fn schema() -> Schema {
    let text = |required| {
        let field = FieldSchema::new(FieldType::Str, MergePolicy::LastWriterWins);
        if required { field.required() } else { field }
    };
    let notes = CollectionSchema::default().field("title", text(true)).field("body", text(false));
    Schema::new(1).collection("notes", notes)
}

/// The key of note `i` written by `author`.
pub fn note_key(author: ReplicaId, i: usize) -> RecordKey {
    RecordKey::new("notes", format!("{}-{i}", author.0))
}

/// Note `i`: a title and a short body, about the size of a to-do item.
pub fn note(i: usize) -> BTreeMap<String, Value> {
    BTreeMap::from([
        ("title".to_owned(), Value::Str(format!("note {i}"))),
        ("body".to_owned(), Value::Str(format!("pick up {} things on the way home", i % 97))),
    ])
}

/// Both clock readings of the setup: one instant is enough, nothing in it waits.
fn at_start() -> Now {
    Now::new(MonoTime(0), WallTime(1_700_000_000_000))
}

/// Writes `count` notes into a new server database at `path`: a core client on a memory
/// store writes them, and pushes them to a core server on the file, wired together directly.
/// The file is committed at the fast setting; the benchmarks reopen it durable.
pub fn populate_server(path: &Path, count: usize) -> Result<LogPos, String> {
    let store = SqliteStore::open(path, Durability::Normal).map_err(|e| e.to_string())?;
    let mut config = ServerConfig::new(schema());
    config.pull_batch_ops_max = 4_096;
    let now = at_start();
    let mut server = Server::new(config, store, now).map_err(|e| e.to_string())?;
    let mut config = ClientConfig::new(AUTHOR, schema());
    config.push_batch_ops_max = 4_096;
    config.outbox_ops_max = count.max(1);
    let mut client = Client::new(config, MemoryStore::new(), 1, now).map_err(|e| e.to_string())?;
    client.sync_now(now);
    const CHUNK: usize = 50_000;
    for start in (0..count).step_by(CHUNK) {
        for i in start..(start + CHUNK).min(count) {
            client.put(now, note_key(AUTHOR, i), note(i)).map_err(|e| e.to_string())?;
        }
        settle(&mut server, std::slice::from_mut(&mut client), now)?;
    }
    match client.outbox().len() {
        0 => Ok(server.head()),
        left => Err(format!("{left} notes were never acknowledged")),
    }
}

/// Delivers every message between a server and its clients, wired directly (client `i` is
/// peer `i + 1`), until all fall quiet.
pub fn settle<S: Store>(
    server: &mut Server<S>,
    clients: &mut [Client],
    now: Now,
) -> Result<(), String> {
    for _ in 0..1_000_000 {
        let mut moved = false;
        for (i, client) in clients.iter_mut().enumerate() {
            let peer = PeerId(i as u64 + 1);
            while let Some(event) = client.poll_event() {
                if event == ClientEvent::WantsConnection {
                    server.connected(now, peer);
                    client.connected(now);
                }
            }
            while let Some(bytes) = client.poll_transmit() {
                server.handle_message(now, peer, &bytes);
                moved = true;
            }
        }
        while let Some(transmit) = server.poll_transmit() {
            let client = clients.get_mut(transmit.to.0 as usize - 1).ok_or("an unknown peer")?;
            client.handle_message(now, &transmit.payload);
            moved = true;
        }
        while server.poll_event().is_some() {}
        if !moved {
            return Ok(());
        }
    }
    Err("the clients and the server never fell quiet".to_owned())
}
