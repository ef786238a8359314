//! The real client driver and server host, on SQLite files, under madsim's simulated network
//! and clock: the server and clients killed and restarted, links clogged, while three clients
//! write. Each seed ends converged, with every acknowledged write on the server.
//!
//! Built only with `--cfg madsim`: `cargo simtest -p driftsync-net --test madsim`. It runs
//! 50 seeds, or the one `MADSIM_TEST_SEED` names, and prints how many it ran.

#![cfg(madsim)]

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use driftsync_core::{
    Client, ClientConfig, MonoTime, Now, RecordKey, RecordView, ReplicaId, SchemaLineage, Server,
    ServerConfig, SyncState, Value, VersionPolicy, WallTime,
};
use driftsync_net::{ClientDriver, DriverConfig, HostLimits, ServerHost, Shutdown, Write};
use driftsync_sqlite::{Durability, SqliteStore};
use madsim::net::NetSim;
use madsim::rand::{Rng, thread_rng};
use madsim::runtime::{Handle, NodeHandle, Runtime};
use parking_lot::Mutex;

const SEEDS: u64 = 50;
const CLIENTS: u64 = 3;
const WRITES_PER_CLIENT: u64 = 25;
const SERVER_ADDR: &str = "10.0.0.1:7420";
const SCHEMA: &str = include_str!("../../schemas/notes.toml");

fn lineage() -> Arc<SchemaLineage> {
    Arc::new(SchemaLineage::from_toml("schemas/notes.toml", SCHEMA).expect("the schema is valid"))
}

fn server_config() -> ServerConfig {
    let lineage = lineage();
    let policy = VersionPolicy::only(lineage.latest());
    ServerConfig::with_lineage(lineage, policy).expect("a server config")
}

fn client_config(replica: u64) -> ClientConfig {
    let lineage = lineage();
    let latest = lineage.latest();
    let mut config =
        ClientConfig::with_lineage(ReplicaId(replica), lineage, latest).expect("config");
    config.sync_interval_ms = 2_000;
    config.retry.backoff_ms_base = 100;
    config.retry.backoff_ms_max = 3_000;
    config
}

/// What outlives a node's restarts: its file, how far its writer got, what was acknowledged.
struct Shared {
    folder: PathBuf,
    written: Vec<AtomicU64>,
    acked: Mutex<BTreeSet<RecordKey>>,
    drivers: Mutex<BTreeMap<u64, Arc<ClientDriver>>>,
}

fn start_server(handle: &Handle, shared: &Arc<Shared>) -> NodeHandle {
    let shared = shared.clone();
    handle
        .create_node()
        .name("server")
        .ip("10.0.0.1".parse().expect("an ip"))
        .init(move || {
            let db = shared.folder.join("server.db");
            async move {
                let store = SqliteStore::open(&db, Durability::Full).expect("the server store");
                let listen: SocketAddr = SERVER_ADDR.parse().expect("an address");
                let host = ServerHost::bind(listen, server_config(), store, HostLimits::default())
                    .await
                    .expect("the server binds");
                host.run(Shutdown::new()).await;
            }
        })
        .build()
}

fn start_client(handle: &Handle, shared: &Arc<Shared>, replica: u64) -> NodeHandle {
    let shared = shared.clone();
    handle
        .create_node()
        .name(format!("client-{replica}"))
        .ip(format!("10.0.1.{replica}").parse().expect("an ip"))
        .init(move || write_forever(shared.clone(), replica))
        .build()
}

/// A client's life on its node: start the driver on its file, write until its share is
/// written, noting each write the server acknowledged.
async fn write_forever(shared: Arc<Shared>, replica: u64) {
    let db = shared.folder.join(format!("client-{replica}.db"));
    let mut config = DriverConfig::new(format!("ws://{SERVER_ADDR}/"), client_config(replica), db);
    config.durability = Durability::Normal;
    config.seed = replica;
    let driver = Arc::new(ClientDriver::start(config).expect("the client starts"));
    shared.drivers.lock().insert(replica, driver.clone());
    let written = &shared.written[replica as usize - 1];
    while written.load(Ordering::SeqCst) < WRITES_PER_CLIENT {
        tokio::time::sleep(Duration::from_millis(thread_rng().gen_range(50..800))).await;
        let n = written.fetch_add(1, Ordering::SeqCst);
        let key = RecordKey::new("notes", format!("c{replica}-w{n}"));
        let fields = BTreeMap::from([("title".to_owned(), Value::Str(format!("by {replica}")))]);
        let op = driver.write(Write::Put { key: key.clone(), fields }).await.expect("a write");
        let mut status = driver.status();
        let acked = status.wait_for(|status| status.acked >= op.seq);
        if let Ok(Ok(_)) = tokio::time::timeout(Duration::from_secs(2), acked).await {
            shared.acked.lock().insert(key);
        }
    }
    std::future::pending::<()>().await;
}

/// Faults for a while: kills and restarts of the server and of clients, clogged links.
async fn chaos(handle: &Handle, server: &NodeHandle, clients: &[NodeHandle]) {
    let net = NetSim::current();
    for _ in 0..12 {
        tokio::time::sleep(Duration::from_millis(thread_rng().gen_range(1_000..5_000))).await;
        let pause = Duration::from_millis(thread_rng().gen_range(200..3_000));
        let client = &clients[thread_rng().gen_range(0..clients.len())];
        match thread_rng().gen_range(0..4) {
            0 => {
                handle.kill(server.id());
                tokio::time::sleep(pause).await;
                handle.restart(server.id());
            }
            1 => {
                handle.kill(client.id());
                tokio::time::sleep(pause).await;
                handle.restart(client.id());
            }
            2 => {
                net.clog_node(client.id());
                tokio::time::sleep(pause).await;
                net.unclog_node(client.id());
            }
            _ => {
                net.clog_node(server.id());
                tokio::time::sleep(pause).await;
                net.unclog_node(server.id());
            }
        }
    }
}

/// Waits until every client has written its share, has nothing left to send, and all of them
/// show the same records.
async fn converged(shared: &Shared) {
    for _ in 0..600 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let drivers: Vec<_> = shared.drivers.lock().values().cloned().collect();
        let done = shared.written.iter().all(|w| w.load(Ordering::SeqCst) >= WRITES_PER_CLIENT);
        let quiet = drivers.iter().all(|driver| {
            let status = driver.status().borrow().clone();
            status.outbox == 0 && status.state == SyncState::Idle
        });
        if !(done && quiet) || drivers.len() < CLIENTS as usize {
            continue;
        }
        let mut views = Vec::new();
        for driver in &drivers {
            views.push(driver.view().await.expect("the driver answers"));
        }
        if views.windows(2).all(|pair| pair[0] == pair[1]) {
            return;
        }
    }
    panic!("the clients did not converge within 300 simulated seconds");
}

type View = BTreeMap<RecordKey, RecordView>;

fn now() -> Now {
    Now::new(MonoTime(0), WallTime(2_000_000_000_000))
}

fn server_file_view(db: &Path) -> View {
    let store = SqliteStore::open(db, Durability::Full).expect("the server's file opens");
    let server = Server::new(server_config(), store, now()).expect("the server's file loads");
    server.view_as(server.meta().schema_version).expect("its own version")
}

fn client_file_view(db: &Path, replica: u64) -> View {
    let store = SqliteStore::open(db, Durability::Full).expect("the client's file opens");
    Client::new(client_config(replica), store, 0, now()).expect("the client's file loads").view()
}

/// Runs one seed; returns how many acknowledged writes it checked. (Also run by the
/// `madsim_seeds` benchmark, which includes this file.)
pub(crate) async fn one_seed(folder: PathBuf) -> usize {
    let handle = Handle::current();
    let shared = Arc::new(Shared {
        folder: folder.clone(),
        written: (0..CLIENTS).map(|_| AtomicU64::new(0)).collect(),
        acked: Mutex::new(BTreeSet::new()),
        drivers: Mutex::new(BTreeMap::new()),
    });
    let server = start_server(&handle, &shared);
    let clients: Vec<_> =
        (1..=CLIENTS).map(|replica| start_client(&handle, &shared, replica)).collect();
    chaos(&handle, &server, &clients).await;
    converged(&shared).await;
    // Killing every node closes its store; then the files are read as a restart would.
    for node in clients.iter().chain([&server]) {
        handle.kill(node.id());
    }
    // A killed node's tasks, and the stores they hold, are dropped as the runtime runs on.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let server_view = server_file_view(&folder.join("server.db"));
    for key in shared.acked.lock().iter() {
        assert!(server_view.contains_key(key), "acknowledged write {key} is not on the server");
    }
    assert!(!shared.acked.lock().is_empty(), "no write was ever acknowledged");
    for replica in 1..=CLIENTS {
        let view = client_file_view(&folder.join(format!("client-{replica}.db")), replica);
        assert!(view == server_view, "client {replica}'s file differs from the server's");
    }
    shared.acked.lock().len()
}

#[test]
fn killed_restarted_and_clogged_nodes_converge_and_keep_every_acknowledged_write() {
    let seeds: Vec<u64> = match std::env::var("MADSIM_TEST_SEED") {
        Ok(seed) => vec![seed.parse().expect("MADSIM_TEST_SEED is a number")],
        Err(_) => (0..SEEDS).collect(),
    };
    let mut checked = 0;
    for &seed in &seeds {
        let folder = tempfile::tempdir().expect("a folder");
        let path = folder.path().to_path_buf();
        let runtime = Runtime::with_seed_and_config(seed, madsim::Config::default());
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            runtime.block_on(one_seed(path))
        }));
        let Ok(acked) = outcome else {
            panic!(
                "seed {seed} failed; rerun it with: \
                 MADSIM_TEST_SEED={seed} cargo simtest -p driftsync-net --test madsim"
            );
        };
        checked += acked;
    }
    // The count shows the flag took effect: without it this file compiles to no test at all.
    #[allow(clippy::print_stdout)]
    {
        let ran = seeds.len();
        println!(
            "madsim: {ran} seeds passed, {checked} acknowledged writes found on every replica"
        );
    }
}
