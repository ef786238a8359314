//! The `invariant` checker: each node's internal invariants after every input it handles (a
//! client's `check_invariants`, the server's `check_invariants_after` for what the input
//! appended), and what holds across nodes or inputs (no client has pulled past the server's
//! head; compaction never passes the cursor of a client the server waits for; an input whose
//! commit failed acknowledges nothing). The invariants that read every record and the whole
//! store (`check_all_invariants`) run every [`THOROUGH_EVERY`] inputs of a node, or more as the
//! node holds more (see [`Schedule`]), and wherever memory and store can part: before a crash,
//! after a failed commit, and at the end of the run. A broken invariant fails the seed at the
//! event that broke it, naming the invariant, the node and the event; later checks are
//! skipped, since one broken invariant tends to break others after it.

use driftsync_core::testing::wire::{Message, decode};
use driftsync_core::{InvariantViolation, LogPos, Server, Store, Stored, Transmit};

use crate::engine::Sim;
use crate::engine::store::SimStore;
use crate::outcome::Checker;
use crate::plan::NodeId;

/// How many inputs of one node pass between two thorough checks of it while it holds little.
const THOROUGH_EVERY: u64 = 256;
/// A thorough check reads everything a node holds, so the inputs between two of them grow with
/// that: one input per this many records, log entries or queued ops, which keeps the checking a
/// run does linear in its length.
const HELD_PER_INPUT: u64 = 4;

/// When each node is next checked thoroughly, and how far the cheap checks have read the
/// server's log.
#[derive(Debug)]
pub(super) struct Schedule {
    /// Inputs left before each node's next thorough check, by node id.
    inputs_to_thorough: Vec<u64>,
    /// The head at the server's last cheap check: entries through it are checked.
    log_checked: LogPos,
}

impl Schedule {
    pub(super) fn new(nodes: usize) -> Schedule {
        Schedule { inputs_to_thorough: vec![THOROUGH_EVERY; nodes], log_checked: LogPos(0) }
    }

    /// A restarted server reloaded its log: all of it is unchecked again.
    pub(super) fn server_restarted(&mut self) {
        self.log_checked = LogPos(0);
    }

    /// Counts one input of `node`; whether it is due for a thorough check.
    fn due(&mut self, node: NodeId) -> bool {
        let left = &mut self.inputs_to_thorough[node.0 as usize];
        *left = left.saturating_sub(1);
        *left == 0
    }

    /// A thorough check of `node`, holding `held` items, was made.
    fn checked_thoroughly(&mut self, node: NodeId, held: usize) {
        let spread = held as u64 / HELD_PER_INPUT;
        self.inputs_to_thorough[node.0 as usize] = spread.max(THOROUGH_EVERY);
    }
}

impl Sim<'_> {
    /// After an input on client `index`: its invariants, and its cursor against the head.
    pub(super) fn check_client(&mut self, index: usize) {
        if !self.invariants_on() {
            return;
        }
        let node = NodeId::client(index as u32 + 1);
        if self.checks.due(node) {
            return self.check_all(node);
        }
        let Some(client) = self.clients[index].slot.get() else {
            return;
        };
        let mut broken = client.check_invariants().err();
        if broken.is_none()
            && let Some(server) = self.server.slot.get()
            && client.cursor() > server.head()
        {
            broken = Some(InvariantViolation {
                invariant: "cursor_within_head",
                detail: format!(
                    "the client has applied through {} but the server's head is {}",
                    client.cursor().0,
                    server.head().0
                ),
            });
        }
        if let Some(violation) = broken {
            self.invariant_broken(node, violation);
        }
    }

    /// After an input on the server.
    pub(super) fn check_server(&mut self) {
        if !self.invariants_on() {
            return;
        }
        let Some(server) = self.server.slot.get() else {
            return;
        };
        let compacted = server.meta().compacted_through;
        let compacted_before = std::mem::replace(&mut self.server.compacted_seen, compacted);
        if let Some(violation) = compaction_behind_cursors(server, compacted_before) {
            return self.invariant_broken(NodeId::SERVER, violation);
        }
        if self.checks.due(NodeId::SERVER) {
            return self.check_all(NodeId::SERVER);
        }
        let checked = std::mem::replace(&mut self.checks.log_checked, server.head());
        if let Some(violation) = server.check_invariants_after(checked).err() {
            self.invariant_broken(NodeId::SERVER, violation);
        }
    }

    /// Every invariant of a node, its memory against its store included: before a crash takes
    /// its memory away, after a failed commit made it reload, at the end of the run.
    pub(super) fn check_all(&mut self, node: NodeId) {
        if !self.invariants_on() {
            return;
        }
        let (held, broken) = match node.is_server() {
            true => self.server.slot.up().map(|server| {
                let log = server.head().0 - server.meta().compacted_through.0;
                let held = server.records().len() + log as usize;
                let loaded = stored_image(server.store_mut());
                let stored = loaded.as_ref().unwrap_or_else(|| server.store().folded());
                (held, server.check_all_invariants(stored).err())
            }),
            false => self.clients[node.0 as usize - 1].slot.up().map(|client| {
                let held = client.records().len() + client.outbox().len();
                let loaded = stored_image(client.store_mut());
                let stored = loaded.as_ref().unwrap_or_else(|| client.store().folded());
                (held, client.check_all_invariants(stored).err())
            }),
        }
        .unwrap_or_default();
        self.checks.checked_thoroughly(node, held);
        if let Some(violation) = broken {
            self.invariant_broken(node, violation);
        }
    }

    /// `no_ack_without_commit`: an input whose commit failed acknowledges nothing (a push
    /// commits once, so an ack sent by that input acknowledges what the store refused).
    pub(super) fn check_no_ack_after_failed_commit(&mut self, transmits: &[Transmit]) {
        if !self.invariants_on() {
            return;
        }
        let ack = transmits.iter().find_map(|t| match decode(&t.payload, &Default::default()) {
            Ok(Message::PushAck(ack)) => Some(ack),
            _ => None,
        });
        if let Some(ack) = ack {
            let violation = InvariantViolation {
                invariant: "no_ack_without_commit",
                detail: format!(
                    "acknowledged through seq {} although the commit failed",
                    ack.acked_through.0
                ),
            };
            self.invariant_broken(NodeId::SERVER, violation);
        }
    }

    /// Every node, thoroughly, at the end of the run.
    pub(super) fn check_all_nodes(&mut self) {
        for node in 0..=self.clients.len() as u32 {
            self.check_all(NodeId(node));
        }
    }

    fn invariants_on(&self) -> bool {
        self.options.check_invariants && !self.invariant_failed
    }

    fn invariant_broken(&mut self, node: NodeId, violation: InvariantViolation) {
        self.invariant_failed = true;
        self.fail_at_event(Checker::Invariant, Some(node.to_string()), None, violation.to_string());
    }
}

/// `compaction_behind_cursors`: when the log is compacted, the new compaction point is at or
/// behind the cursor of every client the server still waits for, so none of them is sent to a
/// resync it did not need. (Checked here, across inputs: the core keeps no earlier point.)
fn compaction_behind_cursors(
    server: &Server<SimStore>,
    compacted_before: LogPos,
) -> Option<InvariantViolation> {
    let compacted = server.meta().compacted_through;
    if compacted <= compacted_before {
        return None;
    }
    let (client, registration) =
        server.registrations().iter().find(|(_, r)| !r.evicted && r.cursor < compacted)?;
    Some(InvariantViolation {
        invariant: "compaction_behind_cursors",
        detail: format!(
            "the log was compacted through {} past client {}'s cursor {}",
            compacted.0, client.0, registration.cursor.0
        ),
    })
}

/// Folds the store's image in place, or loads a copy when it cannot be folded (see
/// [`SimStore::image`]).
fn stored_image(store: &mut SimStore) -> Option<Stored> {
    match store.image() {
        Some(_) => None,
        None => store.load().ok(),
    }
}
