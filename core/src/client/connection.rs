//! The client's connection as types: each state holds what exists in it, so a session's pull,
//! sync timer and resync pages end with its transport, and what the client is doing
//! ([`SyncState`]) is read off the state instead of kept beside it.

use crate::client::pull::Staging;
use crate::event::SyncState;
use crate::ids::{BatchId, LogPos, OpId, Seq};
use crate::protocol::RejectReason;
use crate::schema::Access;
use crate::time::MonoTime;

#[derive(Debug)]
pub(super) enum Link {
    /// No transport. Dial when `reconnect_at` comes.
    Offline {
        reconnect_at: MonoTime,
    },
    /// `WantsConnection` was emitted; waiting for `connected` or `disconnected`.
    Dialing,
    Connected(Conn),
    /// The server refused the handshake; nothing more is tried until the host reconfigures.
    Rejected(RejectReason),
}

#[derive(Debug)]
pub(super) struct Conn {
    pub(super) phase: Phase,
    pub(super) pending: Pending,
}

#[derive(Debug)]
pub(super) enum Phase {
    Handshaking,
    Ready(Session),
}

/// What a session holds once the handshake is done; it ends with its transport.
#[derive(Debug)]
pub(super) struct Session {
    pub(super) schema_version: u32,
    pub(super) access: Access,
    /// A pull is due: the session is new, the server said it has more, or the sync came round.
    pub(super) pull_wanted: bool,
    /// Pushes sent in a row while a pull was due. Pushes go first, but after
    /// [`PUSHES_AHEAD_OF_A_PULL_MAX`] of them the due pull goes: a client writing faster than
    /// its round trips always has a push to send, and pushes alone would keep it from ever
    /// seeing the others' writes.
    pub(super) pushes_ahead_of_pull: u32,
    /// When the background sync is next due.
    pub(super) sync_at: MonoTime,
    /// The snapshot pages of a resync so far.
    /// Boxed: a session spends most of its life without one.
    pub(super) staging: Option<Box<Staging>>,
    /// The queued write last reported held back, so that a session reports it once.
    pub(super) held_reported: Option<OpId>,
}

/// How many pushes may go ahead of a due pull. Each carries what was written during the last
/// round trip, so a client writing without pause still pulls every few round trips, a full
/// batch each time (far more than it writes), while the pushes of a client writing now and
/// then are never held back behind a pull.
pub(super) const PUSHES_AHEAD_OF_A_PULL_MAX: u32 = 4;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Pending {
    None,
    Request {
        batch: BatchId,
        kind: RequestKind,
        sent_at: MonoTime,
        deadline: MonoTime,
    },
    /// The answer to a request of this kind is being handled (only ever seen within one input).
    Answered {
        kind: RequestKind,
    },
    /// Waiting out a backoff after a request of kind `after` failed.
    Backoff {
        until: MonoTime,
        after: RequestKind,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum RequestKind {
    Hello,
    Push { through: Seq },
    Pull { cursor: LogPos },
    Snapshot,
}

impl RequestKind {
    /// What the client is doing while a request of this kind is out or backing off.
    fn state(self) -> SyncState {
        match self {
            RequestKind::Hello => SyncState::Handshaking,
            RequestKind::Push { .. } | RequestKind::Pull { .. } => SyncState::Syncing,
            RequestKind::Snapshot => SyncState::Resyncing,
        }
    }
}

impl Link {
    pub(super) fn connected() -> Link {
        Link::Connected(Conn { phase: Phase::Handshaking, pending: Pending::None })
    }

    /// The session, once the handshake is done.
    pub(super) fn session(&self) -> Option<&Session> {
        match self {
            Link::Connected(Conn { phase: Phase::Ready(session), .. }) => Some(session),
            _ => None,
        }
    }

    pub(super) fn session_mut(&mut self) -> Option<&mut Session> {
        match self {
            Link::Connected(Conn { phase: Phase::Ready(session), .. }) => Some(session),
            _ => None,
        }
    }

    /// What the client is doing, read off the connection: every state has one answer.
    pub(super) fn sync_state(&self) -> SyncState {
        match self {
            Link::Offline { .. } => SyncState::Offline,
            Link::Dialing => SyncState::Connecting,
            Link::Rejected(_) => SyncState::Rejected,
            Link::Connected(conn) => match (conn.pending, &conn.phase) {
                (Pending::Request { kind, .. } | Pending::Answered { kind }, _)
                | (Pending::Backoff { after: kind, .. }, _) => kind.state(),
                (Pending::None, Phase::Handshaking) => SyncState::Handshaking,
                // After every input the client sends what it can; none left out means idle.
                (Pending::None, Phase::Ready(_)) => SyncState::Idle,
            },
        }
    }
}
