//! The simulated nodes: a core state machine while up, its store while crashed, and what the
//! harness tracks about each (links, timers, monotonic high-water marks).

use driftsync_core::{Client, ClientConfig, Hlc, LogPos, PeerId, ReplicaId, Server, ServerConfig};

use crate::engine::store::SimStore;
use crate::plan::NodeId;

/// A node is either running or crashed (only its durable store remains).
// Nodes are up nearly all the time; boxing the running node would only add an indirection
// to every input.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub(crate) enum Slot<T> {
    Up(T),
    Down(SimStore),
}

impl<T> Slot<T> {
    pub(crate) fn up(&mut self) -> Option<&mut T> {
        match self {
            Slot::Up(node) => Some(node),
            Slot::Down(_) => None,
        }
    }

    pub(crate) fn get(&self) -> Option<&T> {
        match self {
            Slot::Up(node) => Some(node),
            Slot::Down(_) => None,
        }
    }

    pub(crate) fn is_up(&self) -> bool {
        matches!(self, Slot::Up(_))
    }
}

/// A client's transport, as the host sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Link {
    Down,
    Dialing,
    /// Connected; messages carry the epoch so that nothing from an older connection is
    /// delivered on a newer one.
    Up {
        epoch: u32,
    },
}

#[derive(Debug)]
pub(crate) struct ServerNode {
    pub(crate) slot: Slot<Server<SimStore>>,
    pub(crate) config: ServerConfig,
    pub(crate) timer: TimerSlot,
    pub(crate) crash_armed: bool,
    pub(crate) head_seen: LogPos,
    /// The compaction point after the server's last input, for `compaction_behind_cursors`.
    pub(crate) compacted_seen: LogPos,
}

#[derive(Debug)]
pub(crate) struct ClientNode {
    pub(crate) slot: Slot<Client<SimStore>>,
    pub(crate) config: ClientConfig,
    pub(crate) online: bool,
    pub(crate) link: Link,
    pub(crate) epoch: u32,
    pub(crate) timer: TimerSlot,
    pub(crate) crash_armed: bool,
    /// The last handshake made the client read-only: the writes it commits wait in its
    /// outbox until it upgrades.
    pub(crate) read_only: bool,
    pub(crate) cursor_seen: LogPos,
    pub(crate) hlc_seen: Hlc,
}

/// The one queued timer event a node has; a newer schedule supersedes it by generation.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct TimerSlot {
    pub(crate) at_ms: Option<u64>,
    pub(crate) generation: u64,
}

impl TimerSlot {
    /// Records a new deadline; returns the generation to queue it with, or `None` if the
    /// deadline is already queued.
    pub(crate) fn reschedule(&mut self, at_ms: Option<u64>) -> Option<u64> {
        if at_ms == self.at_ms {
            return None;
        }
        self.at_ms = at_ms;
        self.generation += 1;
        at_ms.map(|_| self.generation)
    }

    pub(crate) fn fired(&mut self, generation: u64) -> bool {
        if generation == self.generation {
            self.at_ms = None;
            true
        } else {
            false
        }
    }
}

impl ClientNode {
    pub(crate) fn new(client: Client<SimStore>, config: ClientConfig) -> ClientNode {
        ClientNode {
            slot: Slot::Up(client),
            config,
            online: true,
            link: Link::Down,
            epoch: 0,
            timer: TimerSlot::default(),
            crash_armed: false,
            read_only: false,
            cursor_seen: LogPos(0),
            hlc_seen: Hlc::default(),
        }
    }
}

/// Client node ids map to replica ids one to one.
pub(crate) fn replica(node: NodeId) -> ReplicaId {
    ReplicaId(u64::from(node.0))
}

/// The peer id the server sees for a client's connection: node and epoch.
pub(crate) fn peer(node: NodeId, epoch: u32) -> PeerId {
    PeerId((u64::from(node.0) << 32) | u64::from(epoch))
}

/// The node and epoch behind a peer id.
pub(crate) fn from_peer(peer: PeerId) -> (NodeId, u32) {
    (NodeId((peer.0 >> 32) as u32), peer.0 as u32)
}
