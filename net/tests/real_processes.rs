//! The real binaries as separate processes: a `driftsync-server` killed with SIGKILL twice
//! and restarted, ten clients writing through `driftsync-client` processes, some of those
//! killed mid-write. Afterwards every client's SQLite file holds what the server's holds,
//! and every write a client saw acknowledged is on the server.

// Real sockets and processes: not under madsim, whose tests are in `madsim.rs`.
#![cfg(not(madsim))]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use driftsync_core::{
    Client, ClientConfig, MonoTime, Now, ReplicaId, SchemaLineage, Server, ServerConfig,
    VersionPolicy, WallTime,
};
use driftsync_sqlite::{Durability, SqliteStore};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const CLIENTS: u64 = 10;
const SCHEMA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../schemas/notes.toml");
const WRITING: Duration = Duration::from_secs(6);

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("an address").port()
}

/// Starts the server and waits for its "listening" line.
fn start_server(db: &Path, port: u16) -> Child {
    let mut server = Command::new(env!("CARGO_BIN_EXE_driftsync-server"))
        .args(["--db", &db.display().to_string(), "--schema", SCHEMA])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("DRIFTSYNC_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server starts");
    let stdout = server.stdout.take().expect("the server's output");
    let mut line = String::new();
    // The port may still be held by the killed server's socket for a moment: retry.
    if BufReader::new(stdout).read_line(&mut line).is_err() || !line.starts_with("listening") {
        let _ = server.wait();
        thread::sleep(Duration::from_millis(100));
        return start_server(db, port);
    }
    server
}

fn client(port: u16, db: &Path, replica: u64, wait_s: &str, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_driftsync-client"));
    command
        .args(["--server", &format!("ws://127.0.0.1:{port}/"), "--schema", SCHEMA])
        .args(["--db", &db.display().to_string(), "--replica", &replica.to_string()])
        .args(["--wait-s", wait_s])
        .args(args)
        .env("DRIFTSYNC_LOG", "off")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    command
}

/// One client's writes for the whole run: a process per write, one in five killed at a
/// random moment. Returns the keys whose writes were acknowledged.
fn writer(port: u16, db: PathBuf, replica: u64, stop: Arc<AtomicBool>) -> BTreeSet<String> {
    let mut rng = ChaCha8Rng::seed_from_u64(replica);
    let mut acked = BTreeSet::new();
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let id = format!("c{replica}-w{n}");
        let title = format!("title=written by {replica}");
        let args = ["put", "notes", id.as_str(), title.as_str()];
        let mut child = client(port, &db, replica, "2", &args).spawn().expect("a client starts");
        if rng.random_bool(0.2) {
            thread::sleep(Duration::from_millis(rng.random_range(0..40)));
            let _ = child.kill();
            let _ = child.wait();
            continue;
        }
        let output = child.wait_with_output().expect("the client finishes");
        if String::from_utf8_lossy(&output.stdout).contains("\"acked\":true") {
            acked.insert(id);
        }
    }
    acked
}

#[test]
fn killed_servers_and_clients_lose_no_acknowledged_write_and_every_file_converges() {
    let folder = tempfile::tempdir().expect("a folder");
    let server_db = folder.path().join("server.db");
    let port = free_port();
    let mut server = start_server(&server_db, port);
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (1..=CLIENTS)
        .map(|replica| {
            let (db, stop) = (folder.path().join(format!("client-{replica}.db")), stop.clone());
            thread::spawn(move || writer(port, db, replica, stop))
        })
        .collect();
    let started = Instant::now();
    for kill_at in [WRITING / 3, WRITING * 2 / 3] {
        thread::sleep(kill_at.saturating_sub(started.elapsed()));
        server.kill().expect("SIGKILL reaches the server");
        server.wait().expect("the server is reaped");
        thread::sleep(Duration::from_millis(300));
        server = start_server(&server_db, port);
    }
    thread::sleep(WRITING.saturating_sub(started.elapsed()));
    stop.store(true, Ordering::Relaxed);
    let acked: BTreeSet<String> =
        writers.into_iter().flat_map(|w| w.join().expect("a writer")).collect();
    assert!(acked.len() > 20, "only {} writes were acknowledged", acked.len());

    // Two rounds: the first pushes every client's queue, the second pulls everything.
    for _ in 0..2 {
        for replica in 1..=CLIENTS {
            let db = folder.path().join(format!("client-{replica}.db"));
            let status = client(port, &db, replica, "30", &["sync"]).status().expect("sync runs");
            assert!(status.success(), "client {replica} did not sync: {status}");
        }
    }
    let _ = Command::new("kill").args(["-TERM", &server.id().to_string()]).status();
    server.wait().expect("the server stops");

    let server_view = server_view(&server_db);
    for id in &acked {
        let key = driftsync_core::RecordKey::new("notes", id.clone());
        assert!(server_view.contains_key(&key), "acknowledged write {key} is not on the server");
    }
    for replica in 1..=CLIENTS {
        let view = client_view(&folder.path().join(format!("client-{replica}.db")), replica);
        let differing: Vec<_> = server_view
            .iter()
            .filter(|(key, record)| view.get(*key) != Some(*record))
            .map(|(key, _)| key.to_string())
            .chain(view.keys().filter(|key| !server_view.contains_key(*key)).map(|k| k.to_string()))
            .take(3)
            .collect();
        assert!(
            differing.is_empty(),
            "client {replica}'s file differs from the server's at {differing:?} ({} vs {} records)",
            view.len(),
            server_view.len()
        );
    }
}

fn lineage() -> Arc<SchemaLineage> {
    let text = std::fs::read_to_string(SCHEMA).expect("the schema file reads");
    Arc::new(SchemaLineage::from_toml(SCHEMA, &text).expect("the schema file is valid"))
}

fn now() -> Now {
    Now::new(MonoTime(0), WallTime(2_000_000_000_000))
}

type View = std::collections::BTreeMap<driftsync_core::RecordKey, driftsync_core::RecordView>;

fn server_view(db: &Path) -> View {
    let lineage = lineage();
    let policy = VersionPolicy::only(lineage.latest());
    let config = ServerConfig::with_lineage(lineage, policy).expect("a server config");
    let store = SqliteStore::open(db, Durability::Full).expect("the server's file opens");
    let server = Server::new(config, store, now()).expect("the server's file loads");
    // As a client of the latest version reads it: defaults filled in, retired fields hidden.
    server.view_as(server.meta().schema_version).expect("the server serves its own version")
}

fn client_view(db: &Path, replica: u64) -> View {
    let lineage = lineage();
    let latest = lineage.latest();
    let config = ClientConfig::with_lineage(ReplicaId(replica), lineage, latest).expect("a config");
    let store = SqliteStore::open(db, Durability::Full).expect("the client's file opens");
    Client::new(config, store, 0, now()).expect("the client's file loads").view()
}
