//! The client's request state machine, over the connection states of `connection.rs`.
//!
//! At most one request is outstanding. After every input, [`Client::drive`] picks the next
//! step from the durable state (resync, then push, then pull), which is what makes a restart
//! or a lost message harmless: the same state always leads to the same next request. The one
//! thing of the session's it reads is how many pushes went ahead of a due pull, and that only
//! orders a push and a pull that are both due.

use std::borrow::Cow;

use tracing::{debug, info_span, warn};

use crate::client::Client;
use crate::client::connection::{
    Conn, Link, PUSHES_AHEAD_OF_A_PULL_MAX, Pending, Phase, RequestKind, Session,
};
use crate::coverage::Mark;
use crate::event::{ClientEvent, Origin, QuarantineNotice};
use crate::ids::{OpId, Seq};
use crate::op::Op;
use crate::protocol::{
    Compression, Hello, Message, OpsBytes, PROTOCOL_VERSION, PullRequest, Push, PushAck, Reject,
    RejectReason, SnapshotRequest, Welcome, encode,
};
use crate::quarantine::{QuarantineReason, QuarantinedOp};
use crate::retry::RetryDecision;
use crate::schema::Access;
use crate::store::{Mutation, Store};
use crate::time::MonoTime;

impl<S: Store> Client<S> {
    /// Issues the next request if none is outstanding.
    pub(super) fn drive(&mut self, now: MonoTime) {
        let Link::Connected(conn) = &self.link else {
            return;
        };
        if conn.pending != Pending::None {
            return;
        }
        let handshaking = matches!(conn.phase, Phase::Handshaking);
        let next = if handshaking {
            Some((self.hello(), RequestKind::Hello))
        } else {
            self.next_request()
        };
        let Some((message, kind)) = next else {
            return; // idle
        };
        let batch = message.batch().expect("requests carry a batch id");
        let _span = info_span!("request", batch = %batch, kind = message.kind_name()).entered();
        debug!(replica = self.config.replica.0, "sending");
        let bytes = encode(&message);
        self.metrics.sent(bytes.len(), bytes.len());
        self.transmits.push_back(bytes);
        let deadline = now.plus_ms(self.response_timeout.wait_ms());
        if let Link::Connected(conn) = &mut self.link {
            conn.pending = Pending::Request { batch, kind, sent_at: now, deadline };
        }
    }

    fn hello(&mut self) -> Message {
        Message::Hello(Hello {
            batch: self.next_batch(),
            protocol: PROTOCOL_VERSION,
            client: self.config.replica,
            schema_versions: self.config.schema_versions_spoken(),
            token: self.config.token.clone(),
            cursor: self.meta.cursor,
            acked_seq: self.meta.acked_seq,
            outbox_oldest: self.outbox.front().map(|op| op.stamp),
            compression: Compression::offer(&self.config.compression),
        })
    }

    /// Resync first (local state may be wrong), then push (commit-then-transfer), then pull;
    /// but a pull kept waiting by [`PUSHES_AHEAD_OF_A_PULL_MAX`] pushes goes first.
    fn next_request(&mut self) -> Option<(Message, RequestKind)> {
        if self.meta.resync_needed {
            let staging = self.link.session().and_then(|s| s.staging.as_ref());
            let after = staging.and_then(|s| s.next.clone());
            let request = SnapshotRequest {
                batch: self.next_batch(),
                after,
                records_max: self.config.snapshot_page_records_max,
            };
            return Some((Message::SnapshotRequest(request), RequestKind::Snapshot));
        }
        let (pull_wanted, pushed_ahead) =
            self.link.session().map_or((false, 0), |s| (s.pull_wanted, s.pushes_ahead_of_pull));
        let pull_first = pull_wanted && pushed_ahead >= PUSHES_AHEAD_OF_A_PULL_MAX;
        if !pull_first && let Some(push) = self.push_request() {
            if let Some(session) = self.link.session_mut() {
                session.pushes_ahead_of_pull += u32::from(pull_wanted);
            }
            return Some(push);
        }
        if pull_wanted {
            if let Some(session) = self.link.session_mut() {
                session.pushes_ahead_of_pull = 0;
            }
            let request = PullRequest {
                batch: self.next_batch(),
                cursor: self.meta.cursor,
                ops_max: self.config.pull_batch_ops_max,
                outbox_oldest: self.outbox.front().map(|op| op.stamp),
            };
            let cursor = self.meta.cursor;
            return Some((Message::PullRequest(request), RequestKind::Pull { cursor }));
        }
        None
    }

    /// The next push, if the outbox holds writes the session can carry. One push carries ops
    /// of one written version: older ones go as written and the server migrates them up; newer
    /// ones (the server is behind) are migrated down here, and one that would lose a field
    /// stops the batch, so it and every later write wait for a server that can carry them.
    fn push_request(&mut self) -> Option<(Message, RequestKind)> {
        let Some((session_version, Access::ReadWrite)) = self.session_schema() else {
            return None;
        };
        let written = self.meta.written_version(self.outbox.front()?.id.seq);
        let batch_version = written.min(session_version);
        // Ops already in a version the server reads are sent as they are, without a copy.
        let mut ops: Vec<Cow<'_, Op>> = Vec::new();
        for op in self.outbox.iter().take(self.config.push_batch_ops_max) {
            if self.meta.written_version(op.id.seq) != written {
                break;
            }
            if written <= session_version {
                ops.push(Cow::Borrowed(op));
                continue;
            }
            match self.config.lineage.migrate_op(op, written, session_version) {
                Ok(down) if down.hidden.is_empty() => ops.push(down.op),
                Ok(down) => {
                    if ops.is_empty()
                        && let Some(session) = self.link.session_mut()
                        && session.held_reported != Some(op.id)
                    {
                        session.held_reported = Some(op.id);
                        self.events.push_back(ClientEvent::WritesHeld {
                            op: op.id,
                            session_version,
                            fields: down.hidden,
                        });
                    }
                    break;
                }
                Err(_) => break, // Unreachable: both versions are in the lineage.
            }
        }
        let through = ops.last()?.id.seq;
        self.metrics.ops_pushed += ops.len() as u64;
        self.metrics.push_batch_sizes.record(ops.len());
        let ops = OpsBytes::encode(ops.iter().map(|op| op.as_ref()));
        let manifest = ops.manifest();
        let push = Push { batch: self.next_batch(), schema_version: batch_version, ops, manifest };
        Some((Message::Push(push), RequestKind::Push { through }))
    }

    /// The negotiated schema version and what it allows, once the handshake is done.
    pub(super) fn session_schema(&self) -> Option<(u32, Access)> {
        self.link.session().map(|session| (session.schema_version, session.access))
    }

    /// Asks for a pull, if a session is open: a new session always starts with one.
    pub(super) fn want_pull(&mut self) {
        if let Some(session) = self.link.session_mut() {
            session.pull_wanted = true;
        }
    }

    /// The one way into a resync: the local state may hold effects the server refused, so it
    /// is rebuilt from a snapshot. Durable, so a restart resumes it; `mutations` carries it.
    pub(super) fn require_resync(&mut self, mutations: &mut Vec<Mutation>) {
        self.meta.resync_needed = true;
        mutations.push(self.meta_mutation());
    }

    pub(super) fn on_message(&mut self, now: MonoTime, message: Message) {
        let expected = match &self.link {
            Link::Connected(Conn {
                pending: Pending::Request { batch, kind, sent_at, .. },
                ..
            }) => Some((*batch, *kind, *sent_at)),
            _ => None,
        };
        if let Message::Poke { head } = message {
            if head > self.meta.cursor {
                self.want_pull();
                self.drive(now);
            }
            return;
        }
        let Some((batch, kind, sent_at)) =
            expected.filter(|(batch, ..)| message.batch() == Some(*batch))
        else {
            // A duplicate, or an answer to a request that already timed out.
            debug!(replica = self.config.replica.0, kind = message.kind_name(), "stale response");
            return;
        };
        self.response_timeout.on_response(now.0.saturating_sub(sent_at.0));
        let _span = info_span!("response", batch = %batch, kind = message.kind_name()).entered();
        self.set_pending(Pending::Answered { kind });
        match (kind, message) {
            (RequestKind::Hello, Message::Welcome(welcome)) => self.on_welcome(now, welcome),
            (RequestKind::Hello, Message::Reject(reject)) => return self.on_reject(now, reject),
            (RequestKind::Push { through }, Message::PushAck(ack)) => {
                self.on_push_ack(now, through, ack)
            }
            (RequestKind::Pull { cursor }, Message::PullBatch(batch)) => {
                self.on_pull_batch(now, cursor, batch)
            }
            (RequestKind::Pull { .. }, Message::ResyncRequired { .. }) => {
                self.retry.on_success();
                let mut mutations = Vec::new();
                self.require_resync(&mut mutations);
                if self.commit(mutations).is_err() {
                    self.fail(now);
                }
            }
            (RequestKind::Snapshot, Message::SnapshotPage(page)) => {
                self.on_snapshot_page(now, page)
            }
            (kind, message) => {
                warn!(
                    replica = self.config.replica.0,
                    ?kind,
                    got = message.kind_name(),
                    "unexpected response"
                );
                self.fail(now);
            }
        }
        if let Link::Connected(conn) = &mut self.link
            && matches!(conn.pending, Pending::Answered { .. })
        {
            conn.pending = Pending::None;
        }
        self.drive(now);
    }

    /// The server refused the handshake: stop until reconfigured, or, when only the server is
    /// behind this app, ask again later.
    fn on_reject(&mut self, now: MonoTime, reject: Reject) {
        warn!(replica = self.config.replica.0, reason = %reject.reason, "rejected");
        self.events.push_back(ClientEvent::Rejected(reject.reason.clone()));
        if let RejectReason::Token(error) = &reject.reason {
            self.events.push_back(ClientEvent::TokenNeeded(error.clone()));
        }
        if let RejectReason::SchemaUnsupported { min_required, .. } = reject.reason
            && min_required <= self.config.schema_version
        {
            // The server is behind this app: ask again later, it may have upgraded.
            self.events.push_back(ClientEvent::CloseConnection);
            self.link = Link::Offline { reconnect_at: now.plus_ms(self.config.schema_retry_ms) };
            return;
        }
        self.link = Link::Rejected(reject.reason);
    }

    fn on_welcome(&mut self, now: MonoTime, welcome: Welcome) {
        let acked_op = self.outbox.iter().find(|op| op.id.seq == welcome.acked_seq);
        let foreign_ack = acked_op.is_some_and(|op| Some(op.stamp) != welcome.acked_stamp);
        if welcome.acked_seq >= self.meta.next_seq || foreign_ack {
            let reason = RejectReason::ReplicaIdInUse {
                server_acked: welcome.acked_seq,
                next_local: self.meta.next_seq,
            };
            warn!(replica = self.config.replica.0, %reason, "stopping");
            self.events.push_back(ClientEvent::Rejected(reason.clone()));
            self.link = Link::Rejected(reason);
            return;
        }
        if !self.config.schema_versions_spoken().contains(&welcome.schema_version) {
            warn!(
                replica = self.config.replica.0,
                version = welcome.schema_version,
                "server chose a version not offered"
            );
            self.fail(now);
            return;
        }
        let acked_before = self.meta.acked_seq;
        self.retry.on_success();
        let (schema_version, access) = (welcome.schema_version, welcome.access);
        if let Link::Connected(conn) = &mut self.link {
            conn.phase = Phase::Ready(Session {
                schema_version,
                access,
                pull_wanted: true,
                pushes_ahead_of_pull: 0,
                sync_at: now.plus_ms(self.config.sync_interval_ms),
                staging: None,
                held_reported: None,
            });
        }
        self.events.push_back(ClientEvent::Negotiated {
            schema_version,
            access,
            cautions: welcome.cautions.clone(),
        });
        let mut mutations = Vec::new();
        let refused_ops = self.refused_ops(&welcome.quarantined);
        if welcome.acked_seq > self.meta.acked_seq {
            self.metrics.mark(Mark::LostAckSettledByWelcome);
            self.forget_acked(welcome.acked_seq, &mut mutations);
        }
        if welcome.resync {
            self.metrics.mark(Mark::ResyncOrderedByServer);
        }
        // Ops the server quarantined while we missed the ack: their effects are in our state.
        let refused = !refused_ops.is_empty();
        // Records pulled in an older version lack what this session's version can carry.
        let partial = self.meta.pulled_in.is_some_and(|pulled| pulled < schema_version);
        if (welcome.resync || refused || partial) && !self.meta.resync_needed {
            self.require_resync(&mut mutations);
        }
        self.commit_acked(now, mutations, acked_before, refused_ops);
    }

    fn on_push_ack(&mut self, now: MonoTime, through: Seq, ack: PushAck) {
        let acked_before = self.meta.acked_seq;
        self.retry.on_success();
        let mut mutations = Vec::new();
        let refused_ops = self.refused_ops(&ack.quarantined);
        if ack.acked_through > self.meta.acked_seq {
            self.forget_acked(ack.acked_through.min(through), &mut mutations);
        }
        if !refused_ops.is_empty() {
            self.metrics.mark(Mark::RefusedOpsRebuilt);
            // The server refused ops whose effects are in our local state: rebuild it from the
            // server's state plus what is still pending.
            self.require_resync(&mut mutations);
        }
        self.want_pull();
        self.commit_acked(now, mutations, acked_before, refused_ops);
    }

    /// Own outbox ops the server says it quarantined, with its reasons.
    fn refused_ops(&self, notices: &[(OpId, QuarantineReason)]) -> Vec<QuarantinedOp> {
        notices
            .iter()
            .filter_map(|(id, reason)| {
                let op = self.outbox.iter().find(|op| op.id == *id)?;
                Some(QuarantinedOp { op: op.clone(), reason: reason.clone() })
            })
            .collect()
    }

    /// Commits what an ack changed, keeping the writes the server refused; the host hears of
    /// the ack and of each refused write only once that is durable, so it hears of each once.
    fn commit_acked(
        &mut self,
        now: MonoTime,
        mut mutations: Vec<Mutation>,
        acked_before: Seq,
        refused_ops: Vec<QuarantinedOp>,
    ) {
        mutations.extend(refused_ops.iter().cloned().map(Mutation::Quarantine));
        if mutations.is_empty() {
            return;
        }
        if self.commit(mutations).is_err() {
            return self.fail(now);
        }
        for refused in refused_ops {
            // The app wrote this op and may have shown it: it must learn the server refused it
            // and why, not just see its effect vanish at the resync.
            self.metrics.quarantined(refused.reason.kind());
            self.events.push_back(ClientEvent::Quarantined(QuarantineNotice {
                op: refused.op.id,
                key: refused.op.key.clone(),
                reason: refused.reason.clone(),
                origin: Origin::Local,
            }));
            self.quarantine.push(refused);
        }
        if self.meta.acked_seq > acked_before {
            self.events.push_back(ClientEvent::Acked { through: self.meta.acked_seq });
        }
    }

    /// Drops acknowledged ops from the outbox (adding the mutations to `mutations`).
    fn forget_acked(&mut self, through: Seq, mutations: &mut Vec<Mutation>) {
        while self.outbox.front().is_some_and(|op| op.id.seq <= through) {
            self.outbox.pop_front();
        }
        self.meta.acked_seq = through;
        // Version marks older than every queued op are history; the newest always stays.
        while self.meta.written_versions.get(1).is_some_and(|(from, _)| *from <= through.next()) {
            self.meta.written_versions.remove(0);
        }
        mutations.push(Mutation::OutboxRemoveThrough(through));
        mutations.push(self.meta_mutation());
        self.metrics.set_outbox(self.outbox.len());
    }

    /// The outstanding request failed: back off (or open the breaker) before the next one.
    pub(super) fn fail(&mut self, now: MonoTime) {
        self.metrics.retries += 1;
        let decision = self.retry.on_failure(now);
        if let RetryDecision::BreakerOpened(until) = decision {
            self.metrics.breaker_opened += 1;
            self.events.push_back(ClientEvent::BreakerOpened { until });
            // So many requests went unanswered that the transport itself is suspect (a
            // half-open connection, a server that died without a reset): give it up and dial
            // afresh once the breaker allows.
            self.events.push_back(ClientEvent::CloseConnection);
            self.link = Link::Offline { reconnect_at: until };
            return;
        }
        // A failure always follows a request: timed out, or answered with something unusable.
        let after = match &self.link {
            Link::Connected(Conn { pending, .. }) => match *pending {
                Pending::Request { kind, .. } | Pending::Answered { kind } => kind,
                Pending::Backoff { after, .. } => after,
                Pending::None => RequestKind::Hello,
            },
            _ => RequestKind::Hello,
        };
        self.set_pending(Pending::Backoff { until: decision.at(), after });
    }

    fn set_pending(&mut self, pending: Pending) {
        if let Link::Connected(conn) = &mut self.link {
            conn.pending = pending;
        }
    }

    pub(super) fn schedule_reconnect(&mut self, now: MonoTime) {
        self.metrics.retries += 1;
        let decision = self.retry.on_failure(now);
        if let RetryDecision::BreakerOpened(until) = decision {
            self.metrics.breaker_opened += 1;
            self.events.push_back(ClientEvent::BreakerOpened { until });
        }
        self.link = Link::Offline { reconnect_at: decision.at() };
    }

    pub(super) fn on_reconnect_due(&mut self, now: MonoTime) {
        if self.retry.may_attempt(now) {
            self.link = Link::Dialing;
            self.events.push_back(ClientEvent::WantsConnection);
        } else if let crate::retry::Breaker::Open { until } = self.retry.breaker() {
            self.link = Link::Offline { reconnect_at: until };
        }
    }

    pub(super) fn on_response_timeout(&mut self, now: MonoTime) {
        debug!(replica = self.config.replica.0, "request timed out");
        self.response_timeout.on_timeout();
        self.fail(now);
    }

    pub(super) fn on_retry_due(&mut self, now: MonoTime) {
        if self.retry.may_attempt(now) {
            self.set_pending(Pending::None);
        } else if let crate::retry::Breaker::Open { until } = self.retry.breaker()
            && let Link::Connected(Conn { pending: Pending::Backoff { after, .. }, .. }) = self.link
        {
            self.set_pending(Pending::Backoff { until, after });
        }
    }

    pub(super) fn on_sync_due(&mut self, now: MonoTime) {
        let next = now.plus_ms(self.config.sync_interval_ms);
        if let Some(session) = self.link.session_mut() {
            session.pull_wanted = true;
            session.sync_at = next;
        }
    }
}
