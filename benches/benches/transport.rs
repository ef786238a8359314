//! The real transport over loopback: `driftsync-net`'s server host and client drivers, on
//! SQLite at its durable setting (`synchronous = FULL`) at both ends, as a deployment runs.
//!
//! - `initial_download`: a fresh client (an empty file) downloads the server's notes;
//! - `steady_download`: a client that has everything pulls the ops written since it last did;
//! - `upload`: one client pushes the writes it made offline until the server acknowledges all;
//! - `hundred_clients`: a hundred clients do that at once; the figure is ops the server applied.
//!
//! Throughputs print in ops (records) per second. The server holds `DRIFTSYNC_BENCH_RECORDS`
//! notes (100,000 unless set); for the 1,000,000-record figure:
//! `DRIFTSYNC_BENCH_RECORDS=1000000 cargo bench -p driftsync-benches --bench transport -- initial`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{Criterion, Throughput};
use driftsync_benches::{note, note_key, populate_server, records, schema};
use driftsync_core::{ClientConfig, LogPos, ReplicaId, ServerConfig};
use driftsync_net::{ClientDriver, DriverConfig, HostLimits, ServerHost, Shutdown, Status, Write};
use driftsync_sqlite::{Durability, SqliteStore};
use tokio::runtime::Runtime;
use tokio::time::Instant;

/// Ops a steady download pulls, and a client uploads, per measurement.
const BATCH_OPS: usize = 20_000;
/// The clients of `hundred_clients`, and the writes each uploads.
const CLIENTS: usize = 100;
const OPS_PER_CLIENT: usize = 200;
/// Where nothing listens: a client pointed here writes offline.
const NOWHERE: &str = "ws://127.0.0.1:9/";
/// A measurement that takes longer has failed.
const PATIENCE: Duration = Duration::from_secs(600);

/// A running server over a database of notes, and the clients' folder.
struct Deployment {
    runtime: Runtime,
    folder: tempfile::TempDir,
    url: String,
    shutdown: Shutdown,
    /// The server's log head, as far as the benchmarks' own writes have moved it.
    head: LogPos,
    next_replica: u64,
}

impl Deployment {
    fn start(notes: usize) -> Deployment {
        let folder = tempfile::tempdir().expect("a temporary folder");
        let db = folder.path().join("server.db");
        let head = populate_server(&db, notes).expect("the server's notes are written");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let shutdown = Shutdown::new();
        let url = runtime.block_on(async {
            let store = SqliteStore::open(&db, Durability::Full).expect("the server store opens");
            let config = ServerConfig::new(schema());
            let listen = "127.0.0.1:0".parse().expect("an address");
            let host = ServerHost::bind(listen, config, store, HostLimits::default())
                .await
                .expect("the server binds");
            let url = format!("ws://{}/", host.local_addr().expect("an address"));
            tokio::spawn(host.run(shutdown.clone()));
            url
        });
        Deployment { runtime, folder, url, shutdown, head, next_replica: 1 }
    }

    fn new_db(&mut self) -> (ReplicaId, PathBuf) {
        let replica = ReplicaId(self.next_replica);
        self.next_replica += 1;
        (replica, self.folder.path().join(format!("client-{}.db", replica.0)))
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        self.shutdown.trigger();
    }
}

fn driver(url: &str, replica: ReplicaId, db: &Path, durability: Durability) -> ClientDriver {
    let mut config = DriverConfig::new(url, ClientConfig::new(replica, schema()), db);
    config.client.outbox_ops_max = BATCH_OPS.max(OPS_PER_CLIENT);
    config.durability = durability;
    config.seed = replica.0;
    ClientDriver::start(config).expect("the client starts")
}

/// Waits until the driver's status satisfies `done`.
async fn until(driver: &ClientDriver, done: impl Fn(&Status) -> bool) {
    let mut status = driver.status();
    let reached = tokio::time::timeout(PATIENCE, status.wait_for(|status| done(status))).await;
    assert!(reached.is_ok_and(|seen| seen.is_ok()), "the client never got there");
}

/// Writes `count` notes on a client that cannot reach the server, committed at the fast
/// setting (making them is not what is measured), and closes it.
async fn write_offline(replica: ReplicaId, db: &Path, count: usize) {
    let writer = driver(NOWHERE, replica, db, Durability::Normal);
    for i in 0..count {
        let write = Write::Put { key: note_key(replica, i), fields: note(i) };
        writer.write(write).await.expect("an offline write commits");
    }
    writer.stop().await;
}

fn initial_download(c: &mut Criterion, deployment: &mut Deployment) {
    let mut group = c.benchmark_group("transport");
    group.throughput(Throughput::Elements(deployment.head.0));
    group.bench_function("initial_download", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (replica, db) = deployment.new_db();
                let head = deployment.head;
                total += deployment.runtime.block_on(async {
                    let fresh = driver(&deployment.url, replica, &db, Durability::Full);
                    let began = Instant::now();
                    until(&fresh, |status| status.cursor >= head).await;
                    let took = began.elapsed();
                    fresh.stop().await;
                    took
                });
            }
            total
        });
    });
    group.finish();
}

fn steady_download(c: &mut Criterion, deployment: &mut Deployment) {
    let (reader, reader_db) = deployment.new_db();
    let (writer, writer_db) = deployment.new_db();
    let url = deployment.url.clone();
    let head = deployment.head;
    deployment.runtime.block_on(async {
        let caught_up = driver(&url, reader, &reader_db, Durability::Full);
        until(&caught_up, |status| status.cursor >= head).await;
        caught_up.stop().await;
    });
    let mut written = 0;
    let mut group = c.benchmark_group("transport");
    group.throughput(Throughput::Elements(BATCH_OPS as u64));
    group.bench_function("steady_download", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                total += deployment.runtime.block_on(async {
                    // The reader is away while another client's writes reach the server.
                    let from = written;
                    written += BATCH_OPS;
                    let author = driver(&url, writer, &writer_db, Durability::Normal);
                    for i in from..written {
                        let write = Write::Put { key: note_key(writer, i), fields: note(i) };
                        author.write(write).await.expect("a write commits");
                    }
                    until(&author, |status| status.acked.0 >= written as u64).await;
                    author.stop().await;
                    deployment.head = LogPos(deployment.head.0 + BATCH_OPS as u64);
                    let head = deployment.head;
                    // Reopening the file (loading every record) is not part of the pull.
                    let back = driver(&url, reader, &reader_db, Durability::Full);
                    let began = Instant::now();
                    until(&back, |status| status.cursor >= head).await;
                    let took = began.elapsed();
                    back.stop().await;
                    took
                });
            }
            total
        });
    });
    group.finish();
}

fn upload(c: &mut Criterion, deployment: &mut Deployment) {
    let mut group = c.benchmark_group("transport");
    group.throughput(Throughput::Elements(BATCH_OPS as u64));
    group.bench_function("upload", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (replica, db) = deployment.new_db();
                let url = deployment.url.clone();
                total += deployment.runtime.block_on(async {
                    write_offline(replica, &db, BATCH_OPS).await;
                    let online = driver(&url, replica, &db, Durability::Full);
                    let began = Instant::now();
                    until(&online, |status| status.acked.0 >= BATCH_OPS as u64).await;
                    let took = began.elapsed();
                    online.stop().await;
                    took
                });
                deployment.head = LogPos(deployment.head.0 + BATCH_OPS as u64);
            }
            total
        });
    });
    group.finish();
}

fn hundred_clients(c: &mut Criterion, deployment: &mut Deployment) {
    let mut group = c.benchmark_group("transport");
    group.throughput(Throughput::Elements((CLIENTS * OPS_PER_CLIENT) as u64));
    group.bench_function("hundred_clients", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let clients: Vec<_> = (0..CLIENTS).map(|_| deployment.new_db()).collect();
                let url = deployment.url.clone();
                total += deployment.runtime.block_on(async {
                    for (replica, db) in &clients {
                        write_offline(*replica, db, OPS_PER_CLIENT).await;
                    }
                    let began = Instant::now();
                    let online: Vec<_> = clients
                        .iter()
                        .map(|(replica, db)| driver(&url, *replica, db, Durability::Full))
                        .collect();
                    for client in &online {
                        until(client, |status| status.acked.0 >= OPS_PER_CLIENT as u64).await;
                    }
                    let took = began.elapsed();
                    for client in online {
                        client.stop().await;
                    }
                    took
                });
                deployment.head = LogPos(deployment.head.0 + (CLIENTS * OPS_PER_CLIENT) as u64);
            }
            total
        });
    });
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default().sample_size(10).configure_from_args();
    let mut deployment = Deployment::start(records());
    initial_download(&mut criterion, &mut deployment);
    steady_download(&mut criterion, &mut deployment);
    upload(&mut criterion, &mut deployment);
    hundred_clients(&mut criterion, &mut deployment);
    criterion.final_summary();
}
