//! `driftsync-client`: a small real client, for trying a server by hand and for tests that
//! run real processes. Every command opens the local SQLite file, commits locally first,
//! then syncs with the server for at most `--wait-s` seconds.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use driftsync_core::{ClientConfig, RecordKey, RecordView, ReplicaId, Schema, SyncState};
use driftsync_sqlite::Durability;
use serde_json::json;

use super::{Failure, json, read_schema, run_to_exit, say};
use crate::{Change, ClientDriver, DriverConfig, Status, Write};

const EXAMPLES: &str = "\
Examples:
  driftsync-client --server ws://127.0.0.1:7420/ --db alice.db --schema schemas/notes.toml \\
      --replica 1 put notes n1 title=hello done=false
  driftsync-client --server ws://127.0.0.1:7420/ --db bob.db --schema schemas/notes.toml \\
      --replica 2 watch
  driftsync-client ... increment notes n1 count 5
  driftsync-client ... get notes n1
  driftsync-client ... --reason 'fixed a typo' update notes n1 title=hello
  driftsync-client --server ws://127.0.0.1:7420/ --db /tmp/bench --schema schemas/notes.toml \\
      --replica 1000 bench --clients 20 --duration-s 10 --write-ratio 0.8

A write commits to --db before anything is sent: with the server down it is kept and sent
on a later run. Output is JSON, one line per result.

Exit codes: 0 done, 2 bad arguments, 65 a schema or database file that cannot be used,
69 the server could not be reached in --wait-s (a write is still kept locally).";

/// A driftsync client on a local SQLite file.
#[derive(Debug, Parser)]
#[command(name = "driftsync-client", version, after_help = EXAMPLES)]
struct Args {
    /// The server, as ws://HOST:PORT/ or wss://HOST:PORT/.
    #[arg(long)]
    server: String,
    /// This client's SQLite store; created if missing.
    #[arg(long)]
    db: PathBuf,
    /// The app's schema file (TOML), the one the server runs.
    #[arg(long)]
    schema: PathBuf,
    /// This install's replica id: unique among every client of the server.
    #[arg(long)]
    replica: u64,
    /// How long to sync before giving up (the local commit is already made).
    #[arg(long, default_value_t = 5.0)]
    wait_s: f64,
    /// Why this write is made, kept with it in the server's audit trail (writes only).
    #[arg(long)]
    reason: Option<String>,
    /// For wss://: trust the certificates in this PEM file instead of the public web's roots.
    #[arg(long)]
    tls_ca: Option<PathBuf>,
    /// Commit with `synchronous = NORMAL`: faster, may lose the last writes on power loss.
    #[arg(long)]
    fast_commits: bool,
    /// The signed token the server admits this client with (see `driftsync-server token`).
    #[arg(long, conflicts_with = "token_file")]
    token: Option<String>,
    /// Read the token from this file, and again whenever the server refuses it (expired):
    /// whatever renews the file renews the client's token.
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// Encrypt the store at rest under the key in this file: exactly 32 random bytes (made by,
    /// say, `head -c 32 /dev/urandom > store.key`), kept away from the store.
    #[arg(long)]
    store_key_file: Option<PathBuf>,
    /// Connect with plain ws:// to a server off this machine: tokens and values cross the
    /// network in the clear, so only for a closed test network.
    #[arg(long)]
    insecure: bool,
    /// Ask the server to send everything uncompressed (by default large batches travel LZ4
    /// compressed); with bench, to measure what compression saves.
    #[arg(long)]
    no_compression: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Creates or re-creates a record with the given fields (field=value ...).
    Put { collection: String, id: String, fields: Vec<String> },
    /// Sets the given fields of a record (field=value ...).
    Update { collection: String, id: String, fields: Vec<String> },
    /// Deletes a record.
    Delete { collection: String, id: String },
    /// Adds DELTA to a counter field.
    Increment {
        collection: String,
        id: String,
        field: String,
        #[arg(allow_hyphen_values = true)]
        delta: i64,
    },
    /// Syncs, then prints a record (null if there is none).
    Get { collection: String, id: String },
    /// Syncs, then prints every record as it changes, until stopped.
    Watch,
    /// Pushes and pulls until nothing is left to send; prints the status.
    Sync,
    /// Prints the status after trying to sync.
    Status,
    /// Load: many clients in this process, each with its own store in the --db folder
    /// (replicas --replica, --replica + 1, ...), writing for a while; prints one JSON line of
    /// ops per second up and down and latency percentiles.
    Bench {
        /// Writing clients, besides the one that watches.
        #[arg(long, default_value_t = 10)]
        clients: u64,
        #[arg(long, default_value_t = 10.0)]
        duration_s: f64,
        /// The share of operations that are writes; the rest are local reads.
        #[arg(long, default_value_t = 1.0)]
        write_ratio: f64,
    },
}

/// A token file's token: its text without surrounding whitespace.
fn read_store_key(path: &std::path::Path) -> Result<driftsync_sqlite::StoreKey, Failure> {
    let bytes = std::fs::read(path).map_err(|error| {
        Failure::data(format!("{}: cannot read the store key: {error}", path.display()))
    })?;
    let key: [u8; 32] = bytes.try_into().map_err(|bytes: Vec<u8>| {
        let found = bytes.len();
        Failure::data(format!("{}: a store key is 32 bytes, found {found}", path.display()))
    })?;
    Ok(driftsync_sqlite::StoreKey::new(key))
}

fn read_token(path: &std::path::Path) -> Result<String, Failure> {
    std::fs::read_to_string(path).map(|text| text.trim().to_owned()).map_err(|error| {
        Failure::data(format!("{}: cannot read the token: {error}", path.display()))
    })
}

/// Whether a `ws://` URL names this machine: `localhost` or a loopback address.
fn is_loopback_url(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => authority.rsplit_once(':').map_or(authority, |(host, _)| host),
    };
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

pub fn main() -> ExitCode {
    run_to_exit(run(Args::parse()))
}

async fn run(args: Args) -> Result<(), Failure> {
    let lineage = read_schema(&args.schema)?;
    let schema = lineage.latest_schema().clone();
    let version = lineage.latest();
    let client = ClientConfig::with_lineage(ReplicaId(args.replica), lineage.into(), version)
        .map_err(|error| Failure::data(error.to_string()))?;
    if args.server.starts_with("ws://") && !is_loopback_url(&args.server) && !args.insecure {
        return Err(Failure::usage(format!(
            "refusing plain ws:// to {}: use wss://, or --insecure for a closed test network",
            args.server
        )));
    }
    let mut config = DriverConfig::new(args.server.clone(), client, &args.db);
    config.seed = args.replica;
    if let Some(token) = &args.token {
        config.client.token = token.clone();
    }
    if let Some(path) = args.token_file.clone() {
        config.client.token = read_token(&path)?;
        config.token_provider = Some(crate::TokenProvider::new(move || read_token(&path).ok()));
    }
    if let Some(path) = &args.store_key_file {
        config.store_key = Some(read_store_key(path)?);
    }
    if let Some(ca) = &args.tls_ca {
        let tls =
            crate::ClientTls::trusting_pem_file(ca).map_err(|e| Failure::data(e.to_string()))?;
        config.tls = Some(tls);
    }
    if args.fast_commits {
        config.durability = Durability::Normal;
    }
    if args.no_compression {
        config.client.compression.clear();
    }
    if let Command::Bench { clients, duration_s, write_ratio } = args.command {
        if !(0.0..=1.0).contains(&write_ratio) || duration_s <= 0.0 {
            return Err(Failure::usage("--write-ratio is 0 to 1 and --duration-s above 0"));
        }
        let load = super::bench::Load {
            url: &args.server,
            folder: &args.db,
            lineage: config.client.lineage.clone(),
            compression: config.client.compression.clone(),
            replica_base: args.replica,
            clients,
            duration: Duration::from_secs_f64(duration_s),
            write_ratio,
            tls: config.tls.clone(),
            durability: config.durability,
        };
        return super::bench::run(load).await;
    }
    let driver = ClientDriver::start(config).map_err(|error| Failure::data(error.to_string()))?;
    let wait = Duration::from_secs_f64(args.wait_s.max(0.0));
    let result = command(&driver, &schema, (args.command, args.reason), wait).await;
    driver.stop().await;
    result
}

async fn command(
    driver: &ClientDriver,
    schema: &Schema,
    (command, reason): (Command, Option<String>),
    wait: Duration,
) -> Result<(), Failure> {
    let key = |collection: String, id: String| RecordKey::new(collection, id);
    let write = match command {
        Command::Put { collection, id, fields } => {
            let fields = assignments(schema, &collection, &fields)?;
            Write::Put { key: key(collection, id), fields }
        }
        Command::Update { collection, id, fields } => {
            let fields = assignments(schema, &collection, &fields)?;
            Write::Update { key: key(collection, id), fields }
        }
        Command::Delete { collection, id } => Write::Delete { key: key(collection, id) },
        Command::Increment { collection, id, field, delta } => {
            Write::Increment { key: key(collection, id), field, delta }
        }
        Command::Get { collection, id } => {
            let synced = synced(driver, wait).await;
            let record = driver.get(key(collection, id)).await.map_err(stopped)?;
            say(&record.as_ref().map_or(serde_json::Value::Null, json::record).to_string());
            return reached(synced, driver);
        }
        Command::Watch => return watch(driver, wait).await,
        Command::Bench { .. } => return Err(Failure::usage("bench runs its own clients")),
        Command::Sync | Command::Status => {
            let synced = synced(driver, wait).await;
            say(&status_json(&driver.status().borrow()).to_string());
            return reached(synced, driver);
        }
    };
    let written = match &reason {
        Some(reason) => driver.write_because(write, reason).await,
        None => driver.write(write).await,
    };
    let op = written.map_err(|error| Failure::data(error.to_string()))?;
    let acked = wait_for(driver, wait, |status| status.acked >= op.seq).await;
    say(&json!({ "op": op.to_string(), "acked": acked }).to_string());
    reached(acked, driver)
}

fn assignments(
    schema: &Schema,
    collection: &str,
    texts: &[String],
) -> Result<BTreeMap<String, driftsync_core::Value>, Failure> {
    texts
        .iter()
        .map(|text| json::assignment(schema, collection, text))
        .collect::<Result<_, _>>()
        .map_err(Failure::usage)
}

/// Prints every record that changes, as `{"key": …, "record": …}` lines, until stopped.
async fn watch(driver: &ClientDriver, wait: Duration) -> Result<(), Failure> {
    let mut changes = driver.changes();
    let mut seen: BTreeMap<RecordKey, RecordView> = BTreeMap::new();
    synced(driver, wait).await;
    loop {
        let view = driver.view().await.map_err(stopped)?;
        for (key, record) in &view {
            if seen.get(key) != Some(record) {
                say(&json!({ "key": key.to_string(), "record": json::record(record) }).to_string());
            }
        }
        for key in seen.keys().filter(|key| !view.contains_key(*key)) {
            say(&json!({ "key": key.to_string(), "record": null }).to_string());
        }
        seen = view;
        loop {
            match changes.recv().await {
                Ok(Change::Local { .. } | Change::Remote { .. }) => break,
                Ok(Change::Acked { .. }) => {}
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => break,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return Ok(()),
            }
        }
    }
}

/// Waits until the client has nothing left to send and is in step with the server.
pub(super) async fn synced(driver: &ClientDriver, wait: Duration) -> bool {
    let _ = driver.sync_now();
    wait_for(driver, wait, |status| status.state == SyncState::Idle && status.outbox == 0).await
}

async fn wait_for(driver: &ClientDriver, wait: Duration, done: impl Fn(&Status) -> bool) -> bool {
    let mut status = driver.status();
    tokio::time::timeout(wait, status.wait_for(|status| done(status)))
        .await
        .is_ok_and(|seen| seen.is_ok())
}

fn reached(reached: bool, driver: &ClientDriver) -> Result<(), Failure> {
    if reached {
        return Ok(());
    }
    let status = driver.status().borrow().clone();
    let why = status.last_error.unwrap_or_else(|| format!("still {:?}", status.state));
    Err(Failure::unavailable(format!(
        "not synced with the server in time ({why}); local writes are kept"
    )))
}

fn status_json(status: &Status) -> serde_json::Value {
    json!({
        "state": format!("{:?}", status.state),
        "connected": status.connected,
        "acked": status.acked.0,
        "outbox": status.outbox,
        "cursor": status.cursor.0,
        "last_error": status.last_error,
    })
}

fn stopped(error: crate::DriverError) -> Failure {
    Failure::unavailable(error.to_string())
}

#[cfg(test)]
mod tests {
    use super::is_loopback_url;

    #[test]
    fn only_this_machine_counts_as_loopback() {
        for url in
            ["ws://127.0.0.1:7420/", "ws://localhost:1/", "ws://[::1]:7420/", "ws://127.1.2.3/"]
        {
            assert!(is_loopback_url(url), "{url}");
        }
        for url in ["ws://10.0.0.2:7420/", "ws://example.com/", "ws://[2001:db8::1]:80/"] {
            assert!(!is_loopback_url(url), "{url}");
        }
    }
}
