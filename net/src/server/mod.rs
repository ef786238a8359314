//! The server host: one core `Server` shared by every connection, a timer task for its
//! deadlines, and an accept loop bounded by [`HostLimits`].

mod connection;
mod hub;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use driftsync_core::{Server, ServerConfig, StartError};
use driftsync_sqlite::SqliteStore;
use parking_lot::Mutex;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};

use crate::clock::HostClock;
use hub::Hub;

/// What the host allows each peer.
#[derive(Clone, Debug)]
pub struct HostLimits {
    /// The largest WebSocket frame (and message) accepted; a larger one closes the connection.
    pub frame_bytes_max: usize,
    /// Connections beyond this are closed at once with "server full".
    pub connections_max: usize,
    /// A connection that has not completed the handshake (`Hello`) by then is closed.
    pub hello_timeout: Duration,
    /// A connection silent for this long (no frame, not even a pong) is closed.
    pub idle_timeout: Duration,
}

impl Default for HostLimits {
    fn default() -> HostLimits {
        HostLimits {
            frame_bytes_max: 8 << 20,
            connections_max: 10_000,
            hello_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
        }
    }
}

/// Asks a running host to stop: it stops accepting, closes every connection with "server
/// shutting down" and returns once no commit is in flight.
#[derive(Clone, Debug)]
pub struct Shutdown(watch::Sender<bool>);

impl Shutdown {
    pub fn new() -> Shutdown {
        Shutdown(watch::channel(false).0)
    }

    pub fn trigger(&self) {
        self.0.send_replace(true);
    }

    fn watch(&self) -> watch::Receiver<bool> {
        self.0.subscribe()
    }
}

impl Default for Shutdown {
    fn default() -> Shutdown {
        Shutdown::new()
    }
}

/// A bound server host, ready to [`run`](ServerHost::run).
#[derive(Debug)]
pub struct ServerHost {
    listener: TcpListener,
    hub: Arc<Mutex<Hub>>,
    wake: Arc<Notify>,
    limits: HostLimits,
    tls: Option<crate::ServerTls>,
}

impl ServerHost {
    /// Starts the core server on `store` and binds `listen`.
    pub async fn bind(
        listen: SocketAddr,
        config: ServerConfig,
        store: SqliteStore,
        limits: HostLimits,
    ) -> Result<ServerHost, BindError> {
        let clock = HostClock::start();
        let server = Server::new(config, store, clock.now()).map_err(BindError::Start)?;
        let listener = TcpListener::bind(listen).await.map_err(BindError::Listen)?;
        let hub = Arc::new(Mutex::new(Hub::new(server, clock)));
        Ok(ServerHost { listener, hub, wake: Arc::new(Notify::new()), limits, tls: None })
    }

    /// Serves `wss://` with this certificate instead of `ws://`.
    pub fn with_tls(mut self, tls: crate::ServerTls) -> ServerHost {
        self.tls = Some(tls);
        self
    }

    /// The address it listens on (with the port the OS chose for port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` is triggered.
    pub async fn run(self, shutdown: Shutdown) {
        let timers =
            tokio::spawn(hub::run_timers(self.hub.clone(), self.wake.clone(), shutdown.watch()));
        let mut stop = shutdown.watch();
        let mut connections = Vec::new();
        loop {
            tokio::select! {
                accepted = self.listener.accept() => {
                    let Ok((stream, addr)) = accepted else { continue };
                    let context = connection::Context {
                        hub: self.hub.clone(),
                        wake: self.wake.clone(),
                        limits: self.limits.clone(),
                        shutdown: shutdown.watch(),
                    };
                    connections.retain(|task: &tokio::task::JoinHandle<()>| !task.is_finished());
                    let tls = self.tls.clone();
                    connections.push(tokio::spawn(connection::accept(stream, addr, tls, context)));
                }
                _ = crate::server::stopped(&mut stop) => break,
            }
        }
        drop(self.listener);
        for task in connections {
            let _ = task.await;
        }
        let _ = timers.await;
        // Taking the lock waits out a commit in flight; after it the store is quiet.
        let hub = self.hub.lock();
        tracing::info!(head = hub.head(), "server stopped");
    }
}

/// Resolves once shutdown is triggered (or its sender is gone).
pub(crate) async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns must not live across an await of the caller.
    let _ = shutdown.wait_for(|stopped| *stopped).await.map(|_| ());
}

/// Why a host did not start.
#[derive(Debug)]
pub enum BindError {
    Start(StartError),
    Listen(std::io::Error),
}

impl std::fmt::Display for BindError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BindError::Start(error) => write!(f, "the server cannot start: {error}"),
            BindError::Listen(error) => write!(f, "cannot listen: {error}"),
        }
    }
}

impl std::error::Error for BindError {}
