//! `driftsync-server`: a server on an SQLite file, for an app's schema file, until SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use driftsync_core::{ServerConfig, VersionPolicy};
use driftsync_sqlite::{Durability, SqliteStore};

use super::{Failure, read_schema, run_to_exit, say};
use crate::{HostLimits, ServerHost, Shutdown};

const EXAMPLES: &str = "\
Examples:
  driftsync-server --db server.db --schema schemas/notes.toml --listen 127.0.0.1:7420
  driftsync-server --db server.db --schema app.toml --listen 0.0.0.0:443 \\
      --tls-cert /etc/app/cert.pem --tls-key /etc/app/key.pem
  DRIFTSYNC_LOG=debug driftsync-server --db /var/lib/app/sync.db --schema app.toml \\
      --listen 0.0.0.0:7420

Exit codes: 0 stopped by SIGTERM or Ctrl-C, 2 bad arguments, 65 a schema or database file
that cannot be used, 69 the address cannot be bound.";

/// Runs a driftsync server: clients connect over WebSocket (ws://ADDR/).
#[derive(Debug, Parser)]
#[command(name = "driftsync-server", version, after_help = EXAMPLES)]
struct Args {
    /// The server's SQLite store; created if missing.
    #[arg(long)]
    db: PathBuf,
    /// The app's schema file (TOML): collections, fields and versions.
    #[arg(long)]
    schema: PathBuf,
    /// The address to listen on.
    #[arg(long)]
    listen: SocketAddr,
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
}

pub fn main() -> ExitCode {
    run_to_exit(serve(Args::parse()))
}

async fn serve(args: Args) -> Result<(), Failure> {
    let lineage = read_schema(&args.schema)?;
    // Every version the stored data can be migrated down to is served, read-write.
    let oldest = lineage.reachable_from(lineage.latest());
    let policy =
        VersionPolicy { newest: lineage.latest(), writable_from: oldest, readable_from: oldest };
    let config = ServerConfig::with_lineage(lineage.into(), policy)
        .map_err(|error| Failure::data(format!("{}: {error}", args.schema.display())))?;
    let store = SqliteStore::open(&args.db, Durability::Full)
        .map_err(|error| Failure::data(error.to_string()))?;
    let limits = HostLimits {
        frame_bytes_max: args.frame_bytes_max,
        connections_max: args.connections_max,
        idle_timeout: Duration::from_secs(args.idle_timeout_s),
        ..HostLimits::default()
    };
    let host =
        ServerHost::bind(args.listen, config, store, limits).await.map_err(
            |error| match error {
                crate::server::BindError::Start(error) => {
                    Failure::data(format!("{}: {error}", args.db.display()))
                }
                crate::server::BindError::Listen(error) => {
                    Failure::unavailable(format!("{}: {error}", args.listen))
                }
            },
        )?;
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
