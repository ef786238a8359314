//! The shared core server and where its messages go: every input runs under one lock, and
//! every output is drained before the lock is let go, so no message waits on another input.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use bytes::Bytes;
use driftsync_core::{Now, PeerId, Server, ServerEvent};
use driftsync_sqlite::SqliteStore;
use parking_lot::Mutex;
use tokio::sync::{Notify, mpsc, watch};

use crate::clock::HostClock;

/// What a connection task is told to do.
#[derive(Debug)]
pub(crate) enum Outbound {
    Frame(Bytes),
    /// Close with this reason (the peer sent what cannot be decoded).
    Close(String),
}

#[derive(Debug)]
pub(crate) struct Hub {
    server: Server<SqliteStore>,
    clock: HostClock,
    peers: BTreeMap<PeerId, mpsc::UnboundedSender<Outbound>>,
    joined: BTreeSet<PeerId>,
    next_peer: u64,
}

impl Hub {
    pub(crate) fn new(server: Server<SqliteStore>, clock: HostClock) -> Hub {
        Hub { server, clock, peers: BTreeMap::new(), joined: BTreeSet::new(), next_peer: 1 }
    }

    pub(crate) fn connections(&self) -> usize {
        self.peers.len()
    }

    pub(crate) fn head(&self) -> u64 {
        self.server.head().0
    }

    pub(crate) fn has_joined(&self, peer: PeerId) -> bool {
        self.joined.contains(&peer)
    }

    /// A new connection: its id, and the core told of it.
    pub(crate) fn open(&mut self, outbound: mpsc::UnboundedSender<Outbound>) -> PeerId {
        let peer = PeerId(self.next_peer);
        self.next_peer += 1;
        self.peers.insert(peer, outbound);
        self.drive(|server, now| server.connected(now, peer));
        peer
    }

    pub(crate) fn close(&mut self, peer: PeerId) {
        self.peers.remove(&peer);
        self.joined.remove(&peer);
        self.drive(|server, now| server.disconnected(now, peer));
    }

    /// Feeds one input to the core and delivers everything it produced.
    pub(crate) fn drive(&mut self, input: impl FnOnce(&mut Server<SqliteStore>, Now)) {
        input(&mut self.server, self.clock.now());
        while let Some(transmit) = self.server.poll_transmit() {
            if let Some(peer) = self.peers.get(&transmit.to) {
                // A closed receiver means the connection is going; its close input follows.
                let _ = peer.send(Outbound::Frame(transmit.payload));
            }
        }
        while let Some(event) = self.server.poll_event() {
            self.note(event);
        }
    }

    fn note(&mut self, event: ServerEvent) {
        match &event {
            ServerEvent::ClientJoined { peer, client, schema_version, .. } => {
                self.joined.insert(*peer);
                tracing::info!(peer = peer.0, client = client.0, schema_version, "client joined");
            }
            ServerEvent::Malformed { peer, error } => {
                tracing::warn!(peer = peer.0, %error, "malformed message; closing");
                if let Some(outbound) = self.peers.get(peer) {
                    let _ = outbound.send(Outbound::Close(format!("malformed message: {error}")));
                }
            }
            ServerEvent::StorageFailed(error) => tracing::error!(%error, "commit failed"),
            ServerEvent::Quarantined(notice) => tracing::warn!(?notice, "op quarantined"),
            other => tracing::debug!(event = ?other, "server event"),
        }
    }

    fn deadline(&self) -> Option<tokio::time::Instant> {
        self.server.poll_timeout().map(|(at, _)| self.clock.instant(at))
    }
}

/// Fires the core's timer at each deadline it names, until shutdown. `wake` is notified after
/// inputs that may have moved the deadline.
pub(crate) async fn run_timers(
    hub: Arc<Mutex<Hub>>,
    wake: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let deadline = hub.lock().deadline();
        let sleep = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = sleep => hub.lock().drive(|server, now| server.handle_timeout(now)),
            _ = wake.notified() => {}
            _ = crate::server::stopped(&mut shutdown) => return,
        }
    }
}
