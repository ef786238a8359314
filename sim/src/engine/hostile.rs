//! Hostile peers (`[security] hostile`): each planned attack opens a connection of its own to
//! the server, straight at its door (the lossy network is for honest clients), presents a
//! forged, expired or stolen token, or a valid one that grants nothing the app writes, and then
//! tries what a real attacker would: pushing writes, pulling and snapshotting to see records,
//! replaying a push an honest client sent.
//!
//! The peer is also the witness for `no_unauthorized_access`: every answer the server gives it
//! is checked here, as it arrives. A token that should be refused must be; a write of the peer
//! must come back quarantined or refused, never acknowledged as applied; no pull batch or
//! snapshot page may carry a record outside the peer's read scope. What each kind achieved is
//! counted as `<kind>` (attempts) and `<kind>-refused` (attempts the server turned away
//! completely) among the run's fired faults.

use std::collections::BTreeMap;

use bytes::Bytes;
use driftsync_core::testing::wire::{
    Hello, Message, OpsBytes, PROTOCOL_VERSION, PullRequest, Push, SnapshotRequest, decode, encode,
};
use driftsync_core::{
    BatchId, FieldType, FieldWrite, FieldWrites, Hlc, LogPos, MergePolicy, Op, OpBody, OpId,
    QuarantineReason, RecordKey, ReplicaId, Schema, Seq, Stamp, Value,
};

use crate::engine::nodes::{peer, replica};
use crate::engine::tokens::{Scopes, keyring, keyring_of, token};
use crate::engine::{Event, Sim};
use crate::outcome::Checker;
use crate::plan::NodeId;
use crate::scenario::HostileKind;

/// The same key id as the server's with another secret: what a forger who guessed the id
/// would sign with.
const FORGER_SECRET: &[u8] = b"driftsync-sim: a key the server never held";
/// Hostile peers are the nodes from here up, one per attack: above every client.
const HOSTILE_NODE_BASE: u32 = 1 << 20;
/// What the in-scope tokens of hostile peers grant: records no honest write touches.
const GRANTED_PREFIX: &str = "mallory-";
/// Writes one attempt pushes.
const WRITES_PER_ATTACK: u64 = 3;
/// A hostile peer's next message leaves this long after the answer it follows.
const STEP_MS: u64 = 1;

/// What in-scope hostile peers are granted: only records of their own prefix.
fn granted_prefix(collections: &[String]) -> Scopes {
    let own: Vec<String> = collections.iter().map(|c| format!("{c}/{GRANTED_PREFIX}*")).collect();
    Scopes { read: own.clone(), write: own }
}

/// Whether a replica id is a hostile peer's.
pub(crate) fn is_hostile_replica(replica: ReplicaId) -> bool {
    replica.0 >= u64::from(HOSTILE_NODE_BASE)
}

/// The node of attack `index`.
fn hostile_node(index: usize) -> NodeId {
    NodeId(HOSTILE_NODE_BASE + index as u32)
}

/// Whether a node is a hostile peer.
pub(crate) fn is_hostile(node: NodeId) -> bool {
    node.0 >= HOSTILE_NODE_BASE
}

/// A hostile peer's next move, queued after the server's answer.
#[derive(Debug)]
pub(crate) enum Move {
    Send(Bytes),
    Leave,
}

/// What one attempt has seen.
#[derive(Debug, Default)]
pub(crate) struct Attempt {
    admitted: bool,
    /// Ops the peer pushed, by id, with whether the server has reported each refused.
    pushed: BTreeMap<OpId, bool>,
    /// Something got through: already reported to the checker.
    breached: bool,
    concluded: bool,
}

/// Every attempt of the run, and the honest push a replay copies.
#[derive(Debug, Default)]
pub(crate) struct Adversaries {
    attempts: BTreeMap<usize, Attempt>,
    captured: Option<Bytes>,
}

impl Adversaries {
    /// Keeps the first push an honest client sends with ops in it, for the replays.
    pub(crate) fn capture(&mut self, bytes: &Bytes) {
        if self.captured.is_some() {
            return;
        }
        if let Ok(Message::Push(push)) = decode(bytes, &Default::default())
            && push.ops.count().is_ok_and(|count| count > 0)
        {
            self.captured = Some(bytes.clone());
        }
    }
}

impl Sim<'_> {
    /// Whether a replay is planned, so honest pushes are worth capturing.
    pub(super) fn wants_capture(&self) -> bool {
        self.adversaries.captured.is_none()
            && self.plan.attacks.iter().any(|a| a.kind == HostileKind::Replay)
    }

    /// Attack `index` of the plan begins: connect and say Hello with the kind's token.
    pub(super) fn attack(&mut self, index: usize) {
        let kind = self.plan.attacks[index].kind;
        self.history.fired(kind.name());
        let node = hostile_node(index);
        let replica = replica(node);
        let hello = Message::Hello(Hello {
            batch: BatchId(1),
            protocol: PROTOCOL_VERSION,
            client: replica,
            schema_versions: vec![self.lineage.latest()],
            token: self.hostile_token(kind, replica),
            cursor: LogPos(0),
            acked_seq: Seq(0),
            outbox_oldest: None,
            compression: Vec::new(),
        });
        self.adversaries.attempts.insert(index, Attempt::default());
        let up = self.with_server(|server, now| server.connected(now, peer(node, 0)));
        if up.is_none() {
            return; // Counted as unanswered at the end.
        }
        self.hostile_send(index, encode(&hello));
        // An attacker does not wait to be welcomed: a push on a refused connection must be
        // ignored as if it were never sent.
        if matches!(kind, HostileKind::ForgedToken | HostileKind::ExpiredToken) {
            let push = self.hostile_push(index, replica);
            self.hostile_send(index, push);
        }
    }

    /// The token a peer of `kind` presents.
    fn hostile_token(&self, kind: HostileKind, replica: ReplicaId) -> String {
        let keys = keyring();
        let now_s = self.now_of(NodeId::SERVER).wall.0 / 1_000;
        let collections = &self.plan.params.workload.collections;
        let everything = Scopes::everything;
        match kind {
            HostileKind::ForgedToken => {
                token(&keyring_of(FORGER_SECRET), vec![replica.0], now_s + 3_600, everything())
            }
            // An hour past expiry: far beyond the skew allowance.
            HostileKind::ExpiredToken => {
                token(&keys, vec![replica.0], now_s.saturating_sub(3_600), everything())
            }
            // Client 1's own valid token, presented for the peer's replica id.
            HostileKind::StolenToken => token(&keys, vec![1], now_s + 3_600, everything()),
            HostileKind::OutOfScope | HostileKind::Replay => {
                token(&keys, vec![replica.0], now_s + 3_600, granted_prefix(collections))
            }
        }
    }

    /// A push of writes to the app's own records, which no hostile token may write.
    fn hostile_push(&mut self, index: usize, replica: ReplicaId) -> Bytes {
        let wall_ms = self.now_of(NodeId::SERVER).wall.0;
        let collection = self.plan.params.workload.collections[0].clone();
        let fields = valid_put(self.lineage.latest_schema(), &collection, replica);
        let ops: Vec<Op> = (1..=WRITES_PER_ATTACK)
            .map(|seq| Op {
                id: OpId { replica, seq: Seq(seq) },
                stamp: Stamp::new(Hlc { wall_ms, logical: seq as u32 }, replica),
                key: RecordKey::new(collection.clone(), format!("r{}", seq - 1)),
                body: OpBody::Put { fields: fields.clone() },
                reason: None,
            })
            .collect();
        let attempt = self.adversaries.attempts.entry(index).or_default();
        attempt.pushed.extend(ops.iter().map(|op| (op.id, false)));
        let bytes = OpsBytes::encode(&ops);
        let push = Push {
            batch: BatchId(2),
            schema_version: self.lineage.latest(),
            manifest: bytes.manifest(),
            ops: bytes,
        };
        encode(&Message::Push(push))
    }

    /// Hands the server a message from attack `index`'s connection.
    fn hostile_send(&mut self, index: usize, bytes: Bytes) {
        let node = hostile_node(index);
        self.with_server(|server, now| server.handle_message(now, peer(node, 0), &bytes));
    }

    /// A queued move of attack `index`.
    pub(super) fn attack_move(&mut self, index: usize, next: Move) {
        match next {
            Move::Send(bytes) => self.hostile_send(index, bytes),
            Move::Leave => {
                let node = hostile_node(index);
                self.with_server(|server, now| server.disconnected(now, peer(node, 0)));
            }
        }
    }

    /// The server answered a hostile peer: judge the answer and queue the peer's next move.
    pub(super) fn hostile_answer(&mut self, node: NodeId, bytes: &[u8]) {
        let index = (node.0 - HOSTILE_NODE_BASE) as usize;
        let Some(attack) = self.plan.attacks.get(index).copied() else {
            return;
        };
        let Ok(message) = decode(bytes, &Default::default()) else {
            return;
        };
        let next = match message {
            Message::Reject(_) => self.conclude(index, true),
            Message::Welcome(_) => self.welcomed(index, attack.kind),
            Message::PushAck(ack) => {
                self.push_answered(index, &ack.quarantined);
                let request = PullRequest {
                    batch: BatchId(3),
                    cursor: LogPos(0),
                    ops_max: 1_000,
                    outbox_oldest: None,
                };
                Some(Move::Send(encode(&Message::PullRequest(request))))
            }
            Message::PullBatch(batch) => {
                let ops = batch.ops.decode(&Default::default()).unwrap_or_default();
                self.check_delivered(index, "a pull batch", ops.into_iter().map(|op| op.key));
                Some(snapshot_request())
            }
            // The log was compacted past the start: the snapshot is all there is to see.
            Message::ResyncRequired { .. } => Some(snapshot_request()),
            Message::SnapshotPage(page) => {
                let keys = page.records.into_iter().map(|(key, _)| key);
                self.check_delivered(index, "a snapshot page", keys);
                let refused = self.adversaries.attempts.get(&index).is_some_and(|a| !a.breached);
                self.conclude(index, refused)
            }
            _ => None,
        };
        if let Some(next) = next {
            self.queue.push(self.now_ms + STEP_MS, Event::AttackMove { index, next });
        }
    }

    /// A Welcome: deserved only by a valid token; either way the peer goes on to write.
    fn welcomed(&mut self, index: usize, kind: HostileKind) -> Option<Move> {
        let node = hostile_node(index);
        let replica = replica(node);
        let attempt = self.adversaries.attempts.entry(index).or_default();
        attempt.admitted = true;
        if matches!(
            kind,
            HostileKind::ForgedToken | HostileKind::ExpiredToken | HostileKind::StolenToken
        ) {
            self.breach(index, format!("the server admitted a peer presenting a {}", kind.name()));
        }
        let push = match (kind, &self.adversaries.captured) {
            (HostileKind::Replay, Some(captured)) => {
                let captured = captured.clone();
                self.note_replayed(index, &captured);
                captured
            }
            (HostileKind::Replay, None) => return self.conclude(index, true),
            _ => self.hostile_push(index, replica),
        };
        Some(Move::Send(push))
    }

    /// Notes the ops of a replayed push as the attempt's own: every one must be refused.
    fn note_replayed(&mut self, index: usize, bytes: &Bytes) {
        let Ok(Message::Push(push)) = decode(bytes, &Default::default()) else {
            return;
        };
        let ops = push.ops.decode(&Default::default()).unwrap_or_default();
        let attempt = self.adversaries.attempts.entry(index).or_default();
        attempt.pushed.extend(ops.iter().map(|op| (op.id, false)));
    }

    /// A push ack: every op the peer pushed (its own, or a replayed batch's) must come back
    /// refused; one that does not was applied. An ack on a connection never admitted is a
    /// breach in itself.
    fn push_answered(&mut self, index: usize, refused: &[(OpId, QuarantineReason)]) {
        let Some(attempt) = self.adversaries.attempts.get_mut(&index) else {
            return;
        };
        for (op, _) in refused {
            if let Some(seen) = attempt.pushed.get_mut(op) {
                *seen = true;
            }
        }
        let applied = attempt.pushed.iter().find(|(_, refused)| !**refused).map(|(op, _)| *op);
        let admitted = attempt.admitted;
        if let Some(op) = applied {
            self.breach(index, format!("the server applied op {op} pushed by a hostile peer"));
        } else if !admitted {
            let detail = "the server answered a push on a connection it never admitted";
            self.breach(index, detail.to_owned());
        }
    }

    /// Records delivered to a hostile peer must all be in its read scope.
    fn check_delivered(&mut self, index: usize, what: &str, keys: impl Iterator<Item = RecordKey>) {
        if let Some(key) = keys.into_iter().find(|key| !key.record.starts_with(GRANTED_PREFIX)) {
            let detail = format!("{what} delivered {key}, outside the peer's read scope");
            self.breach(index, detail);
        }
    }

    fn breach(&mut self, index: usize, detail: String) {
        let attempt = self.adversaries.attempts.entry(index).or_default();
        if attempt.breached {
            return;
        }
        attempt.breached = true;
        let kind = self.plan.attacks[index].kind;
        let node = Some(format!("hostile-{index}"));
        let detail = format!("{} attack #{index}: {detail}", kind.name());
        self.fail_at_event(Checker::NoUnauthorizedAccess, node, None, detail);
    }

    /// Counts the attempts that never got a verdict (the server crashed under them, or was
    /// down when they came) as `<kind>-unanswered`, so that attempts, refusals and these add up.
    pub(super) fn tally_attacks(&mut self) {
        let attacks = self.plan.attacks.iter().enumerate();
        for (index, attack) in attacks {
            let open = self.adversaries.attempts.get(&index).is_none_or(|a| !a.concluded);
            let breached = self.adversaries.attempts.get(&index).is_some_and(|a| a.breached);
            if open && !breached {
                self.history.fired(&format!("{}-unanswered", attack.kind.name()));
            }
        }
    }

    /// The attempt is over: counted as refused if nothing got through, and the peer leaves.
    fn conclude(&mut self, index: usize, refused: bool) -> Option<Move> {
        let attempt = self.adversaries.attempts.entry(index).or_default();
        if attempt.concluded {
            return None;
        }
        attempt.concluded = true;
        if refused && !attempt.breached {
            let kind = self.plan.attacks[index].kind;
            self.history.fired(&format!("{}-refused", kind.name()));
        }
        Some(Move::Leave)
    }
}

/// A request for the first page of the server's records.
fn snapshot_request() -> Move {
    let request = SnapshotRequest { batch: BatchId(4), after: None, records_max: 10_000 };
    Move::Send(encode(&Message::SnapshotRequest(request)))
}

/// A put the schema accepts, so that only the token or its scope can stop it: every required
/// field of `collection` with a plain value of its type (text naming the writer).
fn valid_put(schema: &Schema, collection: &str, replica: ReplicaId) -> FieldWrites {
    schema
        .visible_fields(collection)
        .filter(|(_, field)| field.required && field.policy != MergePolicy::Counter)
        .map(|(name, field)| {
            let value = match field.ty {
                FieldType::Str => Value::Str(format!("written by {replica}")),
                FieldType::I64 => Value::I64(0),
                FieldType::F64 => Value::F64(0.0),
                FieldType::Bool => Value::Bool(false),
                FieldType::Bytes => Value::Bytes(Vec::new()),
            };
            (name.clone(), FieldWrite::new(value))
        })
        .collect()
}
