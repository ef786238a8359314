//! Handling one peer's requests: handshake, push, pull and snapshot.

use std::borrow::Cow;
use std::sync::Arc;

use tracing::{info, info_span, warn};

use crate::auth::Grant;
use crate::chain::ChainSpan;
use crate::coverage::Mark;
use crate::event::{Origin, QuarantineNotice, ServerEvent};
use crate::ids::{LogPos, OpId, PeerId, RecordKey, ReplicaId, Seq};
use crate::op::Op;
use crate::persist::Registration;
use crate::protocol::{
    Compression, Hello, HiddenFields, Manifest, Message, OpsBytes, PROTOCOL_VERSION, PullBatch,
    PullRequest, Reject, RejectReason, SnapshotPage, SnapshotRequest, Welcome,
};
use crate::quarantine::{QuarantineReason, QuarantinedOp};
use crate::schema::{Access, MigratedOp, Negotiation, SchemaLineage};
use crate::server::Server;
use crate::store::{Mutation, Store};
use crate::testing::PlantedBug;

/// One transport's session. A session whose client joined again on another transport goes
/// back to awaiting a Hello: one live session per client.
#[derive(Clone, Debug, Default)]
pub(super) enum Session {
    #[default]
    AwaitingHello,
    /// An accepted Hello: the client, the negotiated schema version and what it allows, the
    /// codec its large messages are compressed with, and what its token lets it read and write.
    Joined {
        client: ReplicaId,
        schema_version: u32,
        access: Access,
        compression: Option<Compression>,
        grant: Arc<Grant>,
    },
}

impl Session {
    /// The client of a joined session.
    pub(super) fn client(&self) -> Option<ReplicaId> {
        match self {
            Session::Joined { client, .. } => Some(*client),
            Session::AwaitingHello => None,
        }
    }

    /// The codec a joined session negotiated.
    pub(super) fn compression(&self) -> Option<Compression> {
        match self {
            Session::Joined { compression, .. } => *compression,
            Session::AwaitingHello => None,
        }
    }
}

impl<S: Store> Server<S> {
    pub(super) fn on_message(&mut self, peer: PeerId, message: Message) {
        let batch = message.batch().unwrap_or_default();
        let _span = info_span!("request", batch = %batch, kind = message.kind_name()).entered();
        let Some(session) = self.sessions.get(&peer).cloned() else {
            // Not a connected peer (a late message on a closed transport): it must not open a
            // session of its own, let alone take over a client's live one.
            warn!(peer = peer.0, kind = message.kind_name(), "message from an unknown peer");
            let kind = message.kind_name();
            return self.events.push_back(ServerEvent::Unexpected { peer, kind });
        };
        match (message, session) {
            (Message::Hello(hello), _) => self.on_hello(peer, hello),
            (
                Message::Push(push),
                Session::Joined { client, access: Access::ReadWrite, grant, .. },
            ) => self.on_push(peer, client, &grant, push),
            (
                Message::PullRequest(request),
                Session::Joined { client, schema_version, grant, .. },
            ) => self.on_pull(peer, (client, schema_version), &grant, request),
            (Message::SnapshotRequest(request), Session::Joined { schema_version, grant, .. }) => {
                self.on_snapshot(peer, schema_version, &grant, request)
            }
            (message, _) => {
                warn!(peer = peer.0, kind = message.kind_name(), "unexpected message");
                let kind = message.kind_name();
                self.events.push_back(ServerEvent::Unexpected { peer, kind });
            }
        }
    }

    fn on_hello(&mut self, peer: PeerId, hello: Hello) {
        let (version, access, grant) = match self.admit(&hello) {
            Ok(admitted) => admitted,
            Err(reason) => {
                let reject = Message::Reject(Reject { batch: hello.batch, reason });
                return self.refuse(peer, hello.client, reject);
            }
        };
        // A client new to the server registers like any other: what it wrote offline before
        // its first sync merges against the tombstones the server holds, and from now on it
        // holds back collection of anything it has not pulled.
        let compacted = self.meta.compacted_through;
        let registration = self.registrations.entry(hello.client).or_default();
        // The cursor and the oldest pending stamp come as a pair from one instant of the
        // client: never advance one without the other, or collection could take a tombstone
        // an unpushed op predates.
        registration.cursor = believed(hello.cursor, compacted, self.meta.head);
        registration.outbox_oldest = hello.outbox_oldest;
        registration.last_seen = self.wall;
        let registration = registration.clone();
        // One live session per client: a reconnect supersedes the old transport.
        for session in self.sessions.values_mut() {
            if session.client() == Some(hello.client) {
                *session = Session::AwaitingHello;
            }
        }
        let compression = Compression::choose(&self.config.compression, &hello.compression);
        let user = grant.user.clone();
        let grant = Arc::new(grant);
        let joined = Session::Joined {
            client: hello.client,
            schema_version: version,
            access,
            compression,
            grant,
        };
        self.sessions.insert(peer, joined);
        let mutation =
            Mutation::Registration { client: hello.client, registration: registration.clone() };
        if self.commit(vec![mutation]).is_err() {
            return; // The client times out and says Hello again.
        }
        let resync = hello.cursor < compacted || hello.cursor > self.meta.head;
        info!(client = hello.client.0, %user, version, ?access, "client joined");
        let mut welcome = self.welcome(&hello, &registration, (version, access), resync);
        welcome.compression = compression;

        self.send(peer, &Message::Welcome(welcome));
        self.events.push_back(ServerEvent::ClientJoined {
            peer,
            client: hello.client,
            schema_version: version,
            access,
        });
    }

    /// The version, access and grant a Hello is admitted with, or why it is refused. A server
    /// without keys admits everyone to everything.
    fn admit(&self, hello: &Hello) -> Result<(u32, Access, Grant), RejectReason> {
        if hello.protocol != PROTOCOL_VERSION {
            return Err(RejectReason::ProtocolUnsupported { supported: PROTOCOL_VERSION });
        }
        let grant = match &self.config.keys {
            Some(keys) => match keys.admit(&hello.token, hello.client, self.wall) {
                Ok(grant) => grant,
                Err(_) if self.planted(PlantedBug::AcceptAnyToken) => Grant::open(),
                Err(error) => return Err(RejectReason::Token(error)),
            },
            None => Grant::open(),
        };
        match self.config.policy.negotiate(&hello.schema_versions) {
            Negotiation::Accepted { version, access } => Ok((version, access, grant)),
            Negotiation::Refused { min_required, max_supported } => {
                Err(RejectReason::SchemaUnsupported {
                    offered: hello.schema_versions.clone(),
                    min_required,
                    max_supported,
                })
            }
        }
    }

    fn welcome(
        &self,
        hello: &Hello,
        registration: &Registration,
        (version, access): (u32, Access),
        resync: bool,
    ) -> Welcome {
        let cautions = if access == Access::ReadOnly {
            vec![format!(
                "schema v{version} is read-only here: writes stay queued until the app upgrades \
                 to v{} or newer",
                self.config.policy.writable_from
            )]
        } else {
            Vec::new()
        };
        Welcome {
            batch: hello.batch,
            schema_version: version,
            access,
            head: self.meta.head,
            acked_seq: registration.acked_seq,
            acked_stamp: registration.acked_stamp,
            resync,
            compression: None,
            cautions,
            quarantined: self.quarantined_since(hello.client, hello.acked_seq),
        }
    }

    fn refuse(&mut self, peer: PeerId, client: ReplicaId, reject: Message) {
        if let Message::Reject(Reject { reason, .. }) = &reject {
            self.events.push_back(ServerEvent::ClientRejected {
                peer,
                client,
                reason: reason.clone(),
            });
        }
        self.send(peer, &reject);
    }

    /// This client's quarantined ops newer than `acked`.
    fn quarantined_since(&self, client: ReplicaId, acked: Seq) -> Vec<(OpId, QuarantineReason)> {
        self.quarantine
            .iter()
            .filter(|q| q.op.id.replica == client && q.op.id.seq > acked)
            .map(|q| (q.op.id, q.reason.clone()))
            .collect()
    }

    /// Quarantines one op (committed with the rest of the batch).
    pub(super) fn hold(
        &mut self,
        op: Op,
        reason: QuarantineReason,
        quarantined: &mut Vec<QuarantinedOp>,
        events: &mut Vec<ServerEvent>,
    ) {
        // The reason's kind only at info: its detail may quote a value (a converter's refusal).
        info!(op = %op.id, key = %op.key, reason = reason.kind(), "quarantined");
        tracing::debug!(op = %op.id, %reason, "quarantine reason");
        self.metrics.quarantined(reason.kind());
        events.push(ServerEvent::Quarantined(QuarantineNotice {
            op: op.id,
            key: op.key.clone(),
            reason: reason.clone(),
            origin: Origin::Remote,
        }));
        quarantined.push(QuarantinedOp { op, reason });
    }

    pub(super) fn poke_others(&mut self, from: PeerId) {
        let head = self.meta.head;
        let peers: Vec<PeerId> = self
            .sessions
            .iter()
            .filter(|(peer, session)| **peer != from && session.client().is_some())
            .map(|(peer, _)| *peer)
            .collect();
        for peer in peers {
            self.send(peer, &Message::Poke { head });
        }
    }

    fn on_pull(
        &mut self,
        peer: PeerId,
        (client, version): (ReplicaId, u32),
        grant: &Grant,
        request: PullRequest,
    ) {
        let compacted = self.meta.compacted_through;
        let registration = self.registrations.entry(client).or_default();
        // Kept in memory and persisted by the next collection pass: a report lost in a crash
        // leaves an older one, which only makes collection more careful.
        let head = self.meta.head;
        registration.cursor = believed(request.cursor, compacted, head);
        registration.outbox_oldest = request.outbox_oldest;
        registration.last_seen = self.wall;
        let in_history = compacted <= request.cursor && request.cursor <= head;
        // Caught up again, the client holds back collection from its cursor on, as before it
        // fell silent; what it still holds from before is protected by the retention window.
        if registration.evicted && in_history {
            registration.evicted = false;
            let mutation = Mutation::Registration { client, registration: registration.clone() };
            if self.commit(vec![mutation]).is_err() {
                return;
            }
        }
        if !in_history {
            let message =
                Message::ResyncRequired { batch: request.batch, compacted_through: compacted };
            return self.send(peer, &message);
        }
        let start = (request.cursor.0 - compacted.0) as usize;
        let ops_max = request.ops_max.clamp(1, self.config.pull_batch_ops_max) as usize;
        let mut ops: Vec<&Op> = self.log.range(start..).take(ops_max).collect();
        let to = LogPos(request.cursor.0 + ops.len() as u64);
        let in_range = ops.len();
        // Nothing outside the session's read scope leaves the server; the range still
        // advances past it, and the count of what was left out keeps the batch checkable.
        if !grant.reads_everything() && !self.planted(PlantedBug::IgnoreReadScope) {
            ops.retain(|op| grant.may_read(&op.key));
        }
        let withheld = (in_range - ops.len()) as u32;
        let chain =
            ChainSpan::new(self.meta.chain_epoch, self.link_at(request.cursor), self.link_at(to));
        self.metrics.ops_pulled += ops.len() as u64;
        self.metrics.pull_batch_sizes.record(ops.len());
        let (ops, hidden) = if version == self.config.lineage.latest() {
            (OpsBytes::encode(ops), Vec::new())
        } else {
            self.metrics.ops_migrated_down += ops.len() as u64;
            self.metrics.mark(Mark::OpsMigratedDown);
            migrate_down(&self.config.lineage, ops, version)
        };
        if !hidden.is_empty() {
            self.metrics.mark(Mark::ValueHiddenFromOlderVersion);
        }
        let batch = PullBatch {
            batch: request.batch,
            from: request.cursor,
            to,
            head: self.meta.head,
            manifest: ops.manifest(),
            ops,
            withheld,
            chain,
            hidden,
        };
        self.send(peer, &Message::PullBatch(batch));
    }

    fn on_snapshot(&mut self, peer: PeerId, version: u32, grant: &Grant, request: SnapshotRequest) {
        let records_max =
            request.records_max.clamp(1, self.config.snapshot_page_records_max) as usize;
        let mut page: Vec<(RecordKey, crate::merge::RecordState)> = Vec::with_capacity(records_max);
        let mut hidden = Vec::new();
        let mut next = None;
        let latest = self.config.lineage.latest();
        let filtered = !grant.reads_everything() && !self.planted(PlantedBug::IgnoreReadScope);
        for (key, state) in self.records.iter_after(request.after.as_ref()) {
            if page.len() == records_max {
                next = page.last().map(|(key, _)| key.clone());
                break;
            }
            if filtered && !grant.may_read(key) {
                continue;
            }
            if version == latest {
                page.push((key.clone(), state.clone()));
            } else {
                let down = self.config.lineage.migrate_record(key, state, latest, version);
                note_hidden(&mut hidden, key, down.hidden);
                page.push((key.clone(), down.state));
            }
        }
        let applied = self.registrations.iter().map(|(client, r)| (*client, r.acked_seq)).collect();
        let page = SnapshotPage {
            batch: request.batch,
            at: self.meta.head,
            chain_epoch: self.meta.chain_epoch,
            chain_link: self.head_link(),
            manifest: Manifest::of(&page),
            records: page,
            next,
            applied,
            hidden,
        };
        self.send(peer, &Message::SnapshotPage(page));
    }
}

/// Log ops as an older session version expresses them, and what each record lost.
fn migrate_down(
    lineage: &SchemaLineage,
    ops: Vec<&Op>,
    version: u32,
) -> (OpsBytes, Vec<HiddenFields>) {
    let latest = lineage.latest();
    let mut hidden: Vec<HiddenFields> = Vec::new();
    let mut migrated: Vec<Cow<'_, Op>> = Vec::with_capacity(ops.len());
    for op in ops {
        // Down never fails: it hides what the older version cannot express.
        let down = lineage
            .migrate_op(op, latest, version)
            .unwrap_or(MigratedOp { op: Cow::Borrowed(op), hidden: Vec::new() });
        note_hidden(&mut hidden, &op.key, down.hidden);
        migrated.push(down.op);
    }
    (OpsBytes::encode(migrated.iter().map(|op| &**op)), hidden)
}

/// Adds `fields` to what `key` lost, once per field.
fn note_hidden(hidden: &mut Vec<HiddenFields>, key: &RecordKey, fields: Vec<String>) {
    if fields.is_empty() {
        return;
    }
    let index = match hidden.iter().position(|h| &h.key == key) {
        Some(index) => index,
        None => {
            hidden.push(HiddenFields { key: key.clone(), fields: Vec::new() });
            hidden.len() - 1
        }
    };
    for field in fields {
        if !hidden[index].fields.contains(&field) {
            hidden[index].fields.push(field);
        }
    }
}

/// The cursor a client's report is recorded as. One past the head is from a history this
/// server never wrote (a restored server, another server's client, a forger): it cannot have
/// seen anything here, so it holds back collection from the compaction point, as a client
/// behind that point does, until the resync it is sent to gives it a cursor of this log.
fn believed(reported: LogPos, compacted: LogPos, head: LogPos) -> LogPos {
    if reported > head { compacted } else { reported }
}
