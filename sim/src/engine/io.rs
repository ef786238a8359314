//! Driving the nodes: every input is followed by draining all of the node's outputs (messages
//! into the network, events into the history, the next timer into the queue), exactly as a real
//! host would.

use std::borrow::Cow;
use std::collections::BTreeMap;

use bytes::Bytes;
use driftsync_core::testing::wire::{Message, decode};
use driftsync_core::{
    Access, Client, ClientEvent, MigratedOp, MonoTime, Now, Op, OpId, QuarantineReason, RecordKey,
    Server, ServerEvent, WallTime,
};

use crate::engine::faults::{CRASH_BETWEEN_COMMIT_AND_SEND, TOMBSTONE_COLLECTED_WHILE_OFFLINE};
use crate::engine::network::Delivery;
use crate::engine::nodes::{Link, from_peer, peer};
use crate::engine::store::SimStore;
use crate::engine::tamper::Tamper;
use crate::engine::{Event, Sim, damage, hostile, workload};
use crate::history::StaleDecision;
use crate::outcome::Checker;
use crate::plan::NodeId;

impl Sim<'_> {
    /// Runs one input on client `index` (if it is up) and drains its outputs.
    pub(super) fn with_client<R>(
        &mut self,
        index: usize,
        input: impl FnOnce(&mut Client<SimStore>, Now) -> R,
    ) -> Option<R> {
        let now = self.now_of(NodeId::client(index as u32 + 1));
        let client = self.clients[index].slot.up()?;
        let result = input(client, now);
        self.after_client_input(index);
        Some(result)
    }

    /// Runs one input on the server (if it is up) and drains its outputs.
    pub(super) fn with_server<R>(
        &mut self,
        input: impl FnOnce(&mut Server<SimStore>, Now) -> R,
    ) -> Option<R> {
        let now = self.now_of(NodeId::SERVER);
        let server = self.server.slot.up()?;
        let result = input(server, now);
        self.after_server_input();
        Some(result)
    }

    /// What `node` reads on its clocks now: the simulated instant, and its skewed wall clock.
    pub(super) fn now_of(&self, node: NodeId) -> Now {
        let wall = WallTime(self.clocks[node.0 as usize].read(self.now_ms));
        Now::new(MonoTime(self.now_ms), wall)
    }

    fn after_client_input(&mut self, index: usize) {
        let node = NodeId::client(index as u32 + 1);
        let state = &mut self.clients[index];
        let Some(client) = state.slot.up() else {
            return;
        };
        let events: Vec<ClientEvent> = std::iter::from_fn(|| client.poll_event()).collect();
        self.check_client(index);
        if events.iter().any(|e| matches!(e, ClientEvent::StorageFailed(_))) {
            self.check_all(node);
        }
        let state = &mut self.clients[index];
        let Some(client) = state.slot.up() else {
            return;
        };
        if state.crash_armed {
            // The crash lands after the input's commit, and after the host logged its events,
            // but before anything the input meant to send.
            if client.poll_transmit().is_some() {
                self.history.fired(CRASH_BETWEEN_COMMIT_AND_SEND);
            }
            for event in events {
                self.client_event(index, event);
            }
            return self.crash_client_now(index);
        }
        let transmits: Vec<Bytes> = std::iter::from_fn(|| client.poll_transmit()).collect();
        let (cursor, hlc) = (client.cursor(), client.hlc());
        self.observer.client_input(index, self.now_ms, client, state.link);
        let went_back = if cursor < state.cursor_seen {
            Some(format!("cursor went from {} back to {}", state.cursor_seen.0, cursor.0))
        } else if hlc < state.hlc_seen {
            Some(format!("clock went from {:?} back to {hlc:?}", state.hlc_seen))
        } else {
            None
        };
        state.cursor_seen = cursor;
        state.hlc_seen = hlc;
        if let Some(detail) = went_back {
            self.fail_at_event(Checker::Monotonic, Some(node.to_string()), None, detail);
        }
        for bytes in transmits {
            self.send_from_client(index, bytes);
        }
        for event in events {
            self.client_event(index, event);
        }
        self.reschedule_client_timer(index);
    }

    fn after_server_input(&mut self) {
        let Some(server) = self.server.slot.up() else {
            return;
        };
        let events: Vec<_> = std::iter::from_fn(|| server.poll_event()).collect();
        let transmits: Vec<_> = std::iter::from_fn(|| server.poll_transmit()).collect();
        self.check_server();
        self.judge_server_commit();
        let commit_failed = events.iter().any(|e| matches!(e, ServerEvent::StorageFailed(_)));
        if self.server.crash_armed {
            // As for clients: after the commit and the logged events, before any send.
            if !transmits.is_empty() {
                self.history.fired(CRASH_BETWEEN_COMMIT_AND_SEND);
            }
            self.server_events(events);
            return self.crash_server_now();
        }
        if commit_failed {
            self.check_no_ack_after_failed_commit(&transmits);
            self.check_all(NodeId::SERVER);
        }
        let Some(server) = self.server.slot.get() else {
            return;
        };
        self.observer.server_input(self.now_ms, server);
        let head = server.head();
        if head < self.server.head_seen {
            let detail =
                format!("log head went from {} back to {}", self.server.head_seen.0, head.0);
            self.fail_at_event(Checker::Monotonic, Some(NodeId::SERVER.to_string()), None, detail);
        }
        self.server.head_seen = head;
        for transmit in transmits {
            let (node, epoch) = from_peer(transmit.to);
            if hostile::is_hostile(node) {
                self.hostile_answer(node, &transmit.payload);
                continue;
            }
            let index = node.0 as usize - 1;
            if self.clients.get(index).is_some_and(|c| c.link == Link::Up { epoch }) {
                self.route(NodeId::SERVER, node, epoch, transmit.payload);
            }
        }
        self.server_events(events);
        self.reschedule_server_timer();
    }

    fn server_events(&mut self, events: Vec<ServerEvent>) {
        for event in events {
            match event {
                ServerEvent::Quarantined(notice) => {
                    self.observer.quarantined(notice.op);
                    self.history.note_quarantine(NodeId::SERVER, &notice);
                    if matches!(notice.reason, QuarantineReason::Stale { .. }) {
                        self.note_stale_decision(notice.op, notice.key);
                    }
                }
                // Counted where it is decided for everyone: each replica that later applies
                // both sides decides the same conflict again.
                ServerEvent::Conflict(report) => self.observer.conflict(&report.key),
                ServerEvent::Malformed { .. } | ServerEvent::ManifestMismatch { .. } => {
                    self.damage_refusals_count += 1;
                }
                ServerEvent::Collected { tombstones, .. }
                    if tombstones > 0 && self.clients.iter().any(|client| !client.online) =>
                {
                    self.history.fired(TOMBSTONE_COLLECTED_WHILE_OFFLINE);
                }
                _ => {}
            }
        }
    }

    fn client_event(&mut self, index: usize, event: ClientEvent) {
        let node = NodeId::client(index as u32 + 1);
        match event {
            ClientEvent::WantsConnection => {
                self.observer.dialing(index, self.now_ms);
                self.clients[index].link = Link::Dialing;
                // A dial takes a round trip before it is known to have worked.
                let rtt_ms = self.network.latency_ms() + self.network.latency_ms();
                self.queue.push(self.now_ms + rtt_ms, Event::Dial { client: node });
            }
            ClientEvent::CloseConnection => {
                if let Link::Up { epoch } = self.clients[index].link {
                    self.observer.closed(index, self.now_ms);
                    self.clients[index].link = Link::Down;
                    self.with_server(|server, now| server.disconnected(now, peer(node, epoch)));
                }
            }
            ClientEvent::Quarantined(notice) => {
                self.observer.quarantined(notice.op);
                self.history.note_quarantine(node, &notice);
            }
            ClientEvent::Negotiated { access, .. } => {
                self.clients[index].read_only = access == Access::ReadOnly;
            }
            ClientEvent::Acked { through } => self.observer.acked(index, through, self.now_ms),
            // The host's token provider answers a second later.
            ClientEvent::TokenNeeded(_) => {
                self.history.fired("token-refreshed");
                self.queue.push(self.now_ms + 1_000, Event::TokenRefresh { client: index });
            }
            ClientEvent::Malformed(_) | ClientEvent::ManifestMismatch { .. } => {
                self.damage_refusals_count += 1;
            }
            _ => {}
        }
    }

    fn send_from_client(&mut self, index: usize, bytes: Bytes) {
        let Link::Up { epoch } = self.clients[index].link else {
            return; // No transport: nothing leaves the node.
        };
        let (from, to) = (NodeId::client(index as u32 + 1), NodeId::SERVER);
        // The planted bug rewrites first, as a buggy encoder would; the plan's invalid
        // payloads then corrupt whatever ops of theirs the push carries.
        let bytes = self.tamper.outgoing(from, to, &bytes).unwrap_or(bytes);
        let bytes = self.invalid.outgoing(from, to, &bytes).unwrap_or(bytes);
        if self.wants_capture() {
            self.adversaries.capture(&bytes);
        }
        self.route(from, to, epoch, bytes);
    }

    /// Hands a message to the network and queues its arrival (or arrivals).
    fn route(&mut self, from: NodeId, to: NodeId, epoch: u32, bytes: Bytes) {
        log_message("sent", self.now_ms, from, to, &bytes);
        match self.network.route(from, to, self.now_ms) {
            Delivery::Drop(_) => {}
            Delivery::Deliver { at_ms, duplicate_at_ms } => {
                if let Some(again) = duplicate_at_ms {
                    let copy =
                        Event::Deliver { from, to, epoch, bytes: bytes.clone(), damaged: false };
                    self.queue.push(again, copy);
                }
                let forge = self.tamper.forges_manifest_under_damage(to);
                let damaged = self.network.damage().and_then(|d| damage::apply(&bytes, d, forge));
                let event = match damaged {
                    Some(bytes) => {
                        self.history.fired("damaged-message");
                        Event::Deliver { from, to, epoch, bytes, damaged: true }
                    }
                    None => Event::Deliver { from, to, epoch, bytes, damaged: false },
                };
                self.queue.push(at_ms, event);
            }
        }
    }

    pub(super) fn deliver(
        &mut self,
        from: NodeId,
        to: NodeId,
        epoch: u32,
        bytes: Bytes,
        damaged: bool,
    ) {
        log_message("delivered", self.now_ms, from, to, &bytes);
        let client = if to.is_server() { from } else { to };
        let index = client.0 as usize - 1;
        if self.clients[index].link != (Link::Up { epoch }) {
            return; // The connection it travelled on is gone.
        }
        match damaged {
            true => self.hand_over_damaged(from, to, index, bytes),
            false => self.hand_over(from, to, index, bytes),
        }
    }

    /// Gives a delivered message to its node.
    pub(super) fn hand_over(&mut self, from: NodeId, to: NodeId, index: usize, bytes: Bytes) {
        let epoch = match self.clients[index].link {
            Link::Up { epoch } => epoch,
            _ => return,
        };
        let bytes = self.tamper.incoming(from, to, &bytes).unwrap_or(bytes);
        if to.is_server() {
            if let Some(server) = self.server.slot.get() {
                let wall_ms = self.clocks[0].read(self.now_ms);
                let eviction_ms = self.plan.params.server.client_eviction_s * 1_000;
                self.history.silences.heard(index, self.now_ms, wall_ms, eviction_ms);
                self.held_before_push = records_held_before_push(server, &bytes);
            }
            self.with_server(|server, now| server.handle_message(now, peer(from, epoch), &bytes));
            return;
        }
        self.with_client(index, |client, now| client.handle_message(now, &bytes));
    }

    pub(super) fn timer(&mut self, node: NodeId, generation: u64) {
        if node.is_server() {
            if self.server.timer.fired(generation) {
                self.with_server(|server, now| server.handle_timeout(now));
            }
        } else {
            let index = node.0 as usize - 1;
            if self.clients[index].timer.fired(generation) {
                self.with_client(index, |client, now| client.handle_timeout(now));
            }
        }
    }

    pub(super) fn dial_completes(&mut self, node: NodeId) {
        let index = node.0 as usize - 1;
        if self.clients[index].link != Link::Dialing {
            return; // The client went offline or crashed meanwhile and was told so.
        }
        let reachable = self.clients[index].online
            && self.server.slot.is_up()
            && !self.network.is_cut(node, NodeId::SERVER)
            && !self.network.is_cut(NodeId::SERVER, node);
        if reachable {
            self.history.connects_ms.push(self.now_ms);
            self.history.client_connects.push((self.now_ms, index));
            let epoch = self.clients[index].epoch + 1;
            self.clients[index].epoch = epoch;
            self.clients[index].link = Link::Up { epoch };
            self.with_server(|server, now| server.connected(now, peer(node, epoch)));
            if self.clients[index].link == (Link::Up { epoch }) {
                self.with_client(index, |client, now| client.connected(now));
            } else {
                // The server crashed on that very input, taking the new connection with it.
                self.with_client(index, |client, now| client.disconnected(now));
            }
        } else {
            self.clients[index].link = Link::Down;
            self.with_client(index, |client, now| client.disconnected(now));
        }
    }

    pub(super) fn write(&mut self, index: usize) {
        let plan = self.plan;
        let write = &plan.workload[index];
        let client = write.client.0 as usize - 1;
        // The write's push may leave during this very input: mark its id before it does.
        let next_id = self.clients[client]
            .slot
            .get()
            .map(|c| OpId { replica: c.replica(), seq: c.meta().next_seq });
        if let (Some(kind), Some(id)) = (write.invalid, next_id) {
            self.invalid.mark(id, kind);
        }
        let done = self.with_client(client, |client, now| {
            let version = client.config().schema_version;
            workload::perform(client, now, write)
                .map(|_| (client.outbox().last().cloned(), version))
        });
        match done {
            None => self.history.writes_skipped_down += 1,
            Some(Ok((Some(op), version))) => {
                self.observer.written(client, op.id, self.now_ms);
                self.note_committed(client, op, version);
            }
            Some(Ok((None, _))) => unreachable!("a committed write is in the outbox"),
            Some(Err(error)) => {
                tracing::debug!(%error, "write refused");
                self.history.writes_refused += 1;
                if let Some(id) = next_id {
                    self.invalid.unmark(id);
                }
            }
        }
    }

    /// Records what held when the server quarantined `op` as stale, right after the input.
    fn note_stale_decision(&mut self, op: OpId, key: RecordKey) {
        let Some(server) = self.server.slot.get() else {
            return;
        };
        let decision = StaleDecision {
            op,
            at_ms: self.now_ms,
            server_wall_ms: self.clocks[0].read(self.now_ms),
            record_held: self.held_before_push.get(&key).copied().unwrap_or(false),
            recreated_over: server.recreated_over(&key),
            key,
        };
        self.history.stale.push(decision);
    }

    /// Records a committed write in the history, in the version the server stores.
    fn note_committed(&mut self, client: usize, op: Op, version: u32) {
        if self.clients[client].read_only {
            self.history.queued_read_only.push(op.id);
        }
        self.history.written_ms.insert(op.id, self.now_ms);
        let latest = self.lineage.latest();
        let op = if version == latest {
            op
        } else {
            // On an error the oracle expects the op as written; the server will disagree, loudly.
            match self.lineage.migrate_op(&op, version, latest) {
                Ok(MigratedOp { op: Cow::Owned(up), .. }) => up,
                Ok(MigratedOp { op: Cow::Borrowed(_), .. }) | Err(_) => op,
            }
        };
        self.history.committed.push(op);
    }

    pub(super) fn reschedule_client_timer(&mut self, index: usize) {
        let node = NodeId::client(index as u32 + 1);
        let state = &mut self.clients[index];
        let at_ms = state.slot.get().and_then(|c| c.poll_timeout()).map(|(at, _)| at.0);
        if let Some(generation) = state.timer.reschedule(at_ms) {
            let at_ms = at_ms.unwrap_or_default().max(self.now_ms);
            self.queue.push(at_ms, Event::Timer { node, generation });
        }
    }

    pub(super) fn reschedule_server_timer(&mut self) {
        let at_ms = self.server.slot.get().and_then(|s| s.poll_timeout()).map(|(at, _)| at.0);
        if let Some(generation) = self.server.timer.reschedule(at_ms) {
            let at_ms = at_ms.unwrap_or_default().max(self.now_ms);
            self.queue.push(at_ms, Event::Timer { node: NodeId::SERVER, generation });
        }
    }
}

/// Whether the server holds each record a push writes (live, or as a tombstone) before the
/// push arrives, for judging the stale quarantines the push may cause (empty for any other
/// message, and while the server has forgotten no delete, when no op can be stale).
fn records_held_before_push(server: &Server<SimStore>, bytes: &[u8]) -> BTreeMap<RecordKey, bool> {
    if !server.has_forgotten_deletes() {
        return BTreeMap::new();
    }
    let Ok(Message::Push(push)) = decode(bytes, &Default::default()) else {
        return BTreeMap::new();
    };
    let ops = push.ops.decode(&Default::default()).unwrap_or_default();
    ops.into_iter()
        .map(|op| {
            let held = server.records().get(&op.key).is_some();
            (op.key, held)
        })
        .collect()
}

/// A debug log line per message sent and delivered. The batch id is the correlation id: the
/// same id on the client's and the server's lines is the same batch. Decoding only happens when
/// debug logging is on, and reads the bytes without changing anything.
fn log_message(what: &str, now_ms: u64, from: NodeId, to: NodeId, bytes: &[u8]) {
    if !tracing::enabled!(tracing::Level::DEBUG) {
        return;
    }
    match decode(bytes, &Default::default()) {
        Ok(message) => {
            let batch = message.batch().map(|b| b.to_string()).unwrap_or_default();
            tracing::debug!(sim_ms = now_ms, %from, %to, kind = message.kind_name(), batch, "{what\
             }");
        }
        Err(error) => tracing::debug!(sim_ms = now_ms, %from, %to, %error, "{what} (undecodable)"),
    }
}
