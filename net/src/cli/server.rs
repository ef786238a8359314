//! `driftsync-server`: a server on an SQLite file, for an app's schema file, until SIGTERM.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use driftsync_core::{ServerConfig, VersionPolicy};
use driftsync_sqlite::{Durability, SqliteStore, VerifyError};

use super::{Failure, keys, read_schema, run_to_exit, say};
use crate::{HostLimits, ServerHost, Shutdown};

const EXAMPLES: &str = "\
Examples:
  driftsync-server --db server.db --schema schemas/notes.toml --listen 127.0.0.1:7420
  driftsync-server keygen --kid 2026-12 > keys.toml.part   # then put it under [keys]
  driftsync-server --db server.db --schema app.toml --listen 0.0.0.0:443 --keys keys.toml \\
      --tls-cert /etc/app/cert.pem --tls-key /etc/app/key.pem
  driftsync-server token --keys keys.toml --kid 2026-12 --user alice --replica 1 \\
      --ttl-s 3600 --write 'notes/*'
  driftsync-server verify --db server.db
  driftsync-server audit --db server.db --record notes/n1

Off loopback the server needs --keys (signed tokens) and --tls-cert/--tls-key; --insecure
serves without them, for a closed test network only.

verify and audit read the store file: stop the server first, or run them on a copy.

Exit codes: 0 stopped by SIGTERM or Ctrl-C (verify: the chain holds), 1 verify found an
altered log, 2 bad arguments, 65 a schema, keys or database file that cannot be used, 69 the
address cannot be bound.";

/// Runs a driftsync server: clients connect over WebSocket (ws://ADDR/ or wss://ADDR/).
#[derive(Debug, Parser)]
#[command(
    name = "driftsync-server",
    version,
    after_help = EXAMPLES,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
struct Cli {
    #[command(subcommand)]
    tool: Option<Tool>,
    #[command(flatten)]
    serve: Args,
}

/// The tools beside serving.
#[derive(Debug, Subcommand)]
enum Tool {
    /// Recomputes the log's hash chain and names the first altered entry (stop the server
    /// first, or verify a copy).
    Verify {
        #[arg(long)]
        db: PathBuf,
    },
    /// Prints one record's audit trail, oldest first: when each op was applied, by whom, what
    /// it did and why (stop the server first, or read a copy).
    Audit {
        #[arg(long)]
        db: PathBuf,
        /// The record, as COLLECTION/ID.
        #[arg(long)]
        record: String,
    },
    /// Prints a new signing key as a line for the keys file's [keys] table.
    Keygen {
        #[arg(long)]
        kid: String,
    },
    /// Prints a signed token.
    Token {
        #[arg(long)]
        keys: PathBuf,
        /// The key id to sign with.
        #[arg(long)]
        kid: String,
        /// Who the token is for, as audit records and logs name them.
        #[arg(long)]
        user: String,
        /// A replica id the token may be used from (repeatable).
        #[arg(long = "replica", required = true)]
        replicas: Vec<u64>,
        #[arg(long, default_value_t = 3_600)]
        ttl_s: u64,
        /// A scope the token may read: `*`, `notes`, `notes/*`, `notes/prefix*` or
        /// `notes/id` (repeatable; what it may write it may read too).
        #[arg(long)]
        read: Vec<String>,
        /// A scope the token may write (repeatable).
        #[arg(long)]
        write: Vec<String>,
    },
}

#[derive(Debug, clap::Args)]
struct Args {
    /// The server's SQLite store; created if missing.
    #[arg(long, required = true)]
    db: Option<PathBuf>,
    /// The app's schema file (TOML): collections, fields and versions.
    #[arg(long, required = true)]
    schema: Option<PathBuf>,
    /// The address to listen on.
    #[arg(long, required = true)]
    listen: Option<SocketAddr>,
    /// The signing keys of client tokens (TOML, see `keygen`); without it anyone is admitted
    /// to everything, which only a loopback address allows.
    #[arg(long)]
    keys: Option<PathBuf>,
    /// Serve a non-loopback address without keys or without TLS (a closed test network).
    #[arg(long)]
    insecure: bool,
    /// Serve wss:// with this PEM certificate chain (with --tls-key).
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// The largest frame a client may send.
    #[arg(long, default_value_t = 8 << 20)]
    frame_bytes_max: usize,
    /// Connections beyond this are refused with "server full".
    #[arg(long, default_value_t = 10_000)]
    connections_max: usize,
    /// Seconds a connection may stay silent before it is closed.
    #[arg(long, default_value_t = 60)]
    idle_timeout_s: u64,
    /// Days the audit trail keeps each applied op (who, what, when, why); 0 keeps none.
    #[arg(long, default_value_t = 90)]
    audit_retention_days: u64,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.tool {
        None => run_to_exit(serve(cli.serve)),
        Some(tool) => run_to_exit(async move { run_tool(tool) }),
    }
}

fn run_tool(tool: Tool) -> Result<(), Failure> {
    match tool {
        Tool::Verify { db } => verify(&db),
        Tool::Audit { db, record } => super::audit::print(&db, &record),
        Tool::Keygen { kid } => {
            say(&keys::keygen(&kid)?);
            Ok(())
        }
        Tool::Token { keys: path, kid, user, replicas, ttl_s, read, write } => {
            let keyring = keys::read_keys(&path)?;
            let request = keys::TokenRequest { kid: &kid, user, replicas, ttl_s, read, write };
            say(&keys::sign(&keyring, request)?);
            Ok(())
        }
    }
}

/// `verify --db`: the chain holds (exit 0) or is broken at an entry (exit 1).
fn verify(db: &Path) -> Result<(), Failure> {
    if !db.is_file() {
        return Err(Failure::data(format!("{}: no such file", db.display())));
    }
    let store = SqliteStore::open(db, Durability::Full)
        .map_err(|error| Failure::data(error.to_string()))?;
    match store.verify_log() {
        Ok(report) => {
            say(&format!(
                "{}: the log's hash chain holds: {} entries after position {}, head link {}",
                db.display(),
                report.entries,
                report.compacted_through.0,
                report.head_link
            ));
            Ok(())
        }
        Err(VerifyError::Storage(error)) => {
            Err(Failure::data(format!("{}: {error}", db.display())))
        }
        Err(VerifyError::Broken(broken)) => {
            Err(Failure { code: 1, message: format!("{}: {broken}", db.display()) })
        }
    }
}

/// Off loopback, a server without keys admits anyone and one without TLS shows every token
/// and value to the network: both need `--insecure`.
fn check_exposure(args: &Args, listen: SocketAddr) -> Result<(), Failure> {
    if listen.ip().is_loopback() || args.insecure {
        return Ok(());
    }
    let missing = match (args.keys.is_some(), args.tls_cert.is_some()) {
        (true, true) => return Ok(()),
        (false, true) => "--keys (anyone could read and write everything)",
        (true, false) => {
            "--tls-cert/--tls-key (tokens and values would cross the network in \
                          the clear)"
        }
        (false, false) => "--keys and --tls-cert/--tls-key",
    };
    Err(Failure::usage(format!(
        "refusing to serve {listen} without {missing}; pass --insecure for a closed test network"
    )))
}

async fn serve(args: Args) -> Result<(), Failure> {
    let missing = |what: &str| Failure::usage(format!("--{what} is required"));
    let schema = args.schema.clone().ok_or_else(|| missing("schema"))?;
    let db = args.db.clone().ok_or_else(|| missing("db"))?;
    let listen = args.listen.ok_or_else(|| missing("listen"))?;
    check_exposure(&args, listen)?;
    let lineage = read_schema(&schema)?;
    let policy = VersionPolicy::widest(&lineage);
    let mut config = ServerConfig::with_lineage(lineage.into(), policy)
        .map_err(|error| Failure::data(format!("{}: {error}", schema.display())))?;
    config.keys = args.keys.as_deref().map(keys::read_keys).transpose()?;
    config.audit_retention_ms =
        (args.audit_retention_days > 0).then(|| args.audit_retention_days * 86_400_000);
    let store = SqliteStore::open(&db, Durability::Full)
        .map_err(|error| Failure::data(error.to_string()))?;
    let limits = HostLimits {
        frame_bytes_max: args.frame_bytes_max,
        connections_max: args.connections_max,
        idle_timeout: Duration::from_secs(args.idle_timeout_s),
        ..HostLimits::default()
    };
    let host =
        ServerHost::bind(listen, config, store, limits).await.map_err(|error| match error {
            crate::server::BindError::Start(error) => {
                Failure::data(format!("{}: {error}", db.display()))
            }
            crate::server::BindError::Listen(error) => {
                Failure::unavailable(format!("{listen}: {error}"))
            }
        })?;
    let (host, scheme) = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            let tls = crate::ServerTls::from_pem_files(cert, key)
                .map_err(|error| Failure::data(error.to_string()))?;
            (host.with_tls(tls), "wss")
        }
        _ => (host, "ws"),
    };
    let addr = host.local_addr().map_err(|error| Failure::unavailable(error.to_string()))?;
    // Scripts wait for this line; it carries the port the OS chose for port 0.
    say(&format!("listening on {scheme}://{addr}/"));
    let shutdown = Shutdown::new();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        terminated().await;
        tracing::info!("stopping: finishing the commit in flight");
        stop.trigger();
    });
    host.run(shutdown).await;
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C.
async fn terminated() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
