//! Accepting a push: each op is admitted in seq order, validated, applied and logged; the
//! whole batch is committed at once and acknowledged only after the commit.
//!
//! An op merges against whatever the server holds of its record, a tombstone included, so an
//! op older than a delete is hidden by it however late it arrives. Only an op at or below the
//! stamp of a forgotten delete (older than the retention window, see `gc.rs`) can be
//! undecidable: on a record the server no longer holds, or re-created since it forgot, a
//! forgotten delete might hide it. Such an op is quarantined as stale, kept and reported; it
//! is never guessed at, because replicas that still hold the tombstone would hide it while the
//! server showed it.

use tracing::{debug, warn};

use crate::audit::AuditEntry;
use crate::auth::Grant;
use crate::chain::LogEntry;
use crate::event::ServerEvent;
use crate::ids::{LogPos, OpId, PeerId, ReplicaId};
use crate::op::{Op, OpBody};
use crate::persist::Registration;
use crate::protocol::{Message, Push, PushAck};
use crate::quarantine::{QuarantineReason, QuarantinedOp};
use crate::schema::{Violation, ViolationKind};
use crate::server::Server;
use crate::store::{Changes, Mutation, Store};
use crate::testing::PlantedBug;
use crate::version::Admission;

/// What one push has done so far, before its commit.
#[derive(Debug, Default)]
struct Accepted {
    registration: Registration,
    mutations: Vec<Mutation>,
    changes: Changes,
    quarantined: Vec<QuarantinedOp>,
    /// Quarantines of resent ops, reported again because their first ack may have been lost,
    /// and refusals of ops the sender did not write.
    repeated: Vec<(OpId, QuarantineReason)>,
    events: Vec<ServerEvent>,
    applied: usize,
}

impl<S: Store> Server<S> {
    pub(super) fn on_push(&mut self, peer: PeerId, client: ReplicaId, grant: &Grant, push: Push) {
        if push.ops.manifest() != push.manifest {
            // Damaged on the way: nothing is acknowledged, so the client sends it again.
            warn!(peer = peer.0, batch = %push.batch, "dropping a push that fails its manifest");
            self.metrics.messages_malformed += 1;
            self.events.push_back(ServerEvent::ManifestMismatch { peer, batch: push.batch });
            return;
        }
        let ops = match push.ops.decode(&self.config.limits) {
            Ok(ops) => ops,
            Err(error) => {
                // Nothing is acknowledged; a well-behaved client resends, a broken one is seen.
                warn!(peer = peer.0, %error, "dropping a push whose ops do not decode");
                self.metrics.messages_malformed += 1;
                self.events.push_back(ServerEvent::Malformed { peer, error });
                return;
            }
        };
        let mut registration = self.registrations.get(&client).cloned().unwrap_or_default();
        registration.last_seen = self.wall;
        let mut batch = Accepted { registration, ..Accepted::default() };
        for op in ops {
            if !self.accept((client, grant), op, push.schema_version, &mut batch) {
                break;
            }
        }
        let Accepted {
            registration,
            mut mutations,
            changes,
            quarantined,
            repeated,
            events,
            applied,
        } = batch;
        mutations.extend(changes.into_mutations(&self.records));
        mutations.extend(quarantined.iter().cloned().map(Mutation::Quarantine));
        mutations.push(Mutation::Registration { client, registration: registration.clone() });
        mutations.push(self.meta_mutation());
        if self.commit(mutations).is_err() && !self.planted(PlantedBug::AckFailedCommit) {
            return; // Nothing was acknowledged; the client resends after its timeout.
        }
        let acked_through = registration.acked_seq;
        self.registrations.insert(client, registration);
        let notices = repeated
            .into_iter()
            .chain(quarantined.iter().map(|q| (q.op.id, q.reason.clone())))
            .collect();
        self.quarantine.extend(quarantined);
        self.events.extend(events);
        let ack = PushAck { batch: push.batch, acked_through, quarantined: notices };
        self.send(peer, &Message::PushAck(ack));
        if applied > 0 {
            self.poke_others(peer);
        }
    }

    /// Takes one op into the batch; returns false when the rest must wait (a gap in seqs).
    fn accept(
        &mut self,
        (client, grant): (ReplicaId, &Grant),
        op: Op,
        version: u32,
        batch: &mut Accepted,
    ) -> bool {
        if op.id.replica != client || op.stamp.replica != client.0 {
            self.refuse_foreign(client, &op, batch);
            return true;
        }
        if let Some(go_on) = self.out_of_turn(client, &op, batch) {
            return go_on;
        }
        batch.registration.acked_seq = op.id.seq;
        batch.registration.acked_stamp = Some(op.stamp);
        self.metrics.ops_pushed += 1;
        // Checked before anything else about the op, so a write outside the grant learns
        // nothing of the schema or of what the server holds.
        if !grant.may_write(&op.key) && !self.planted(PlantedBug::IgnoreWriteScope) {
            let reason = QuarantineReason::Forbidden { user: grant.user.clone() };
            self.hold(op, reason, &mut batch.quarantined, &mut batch.events);
            return true;
        }
        let op = match self.migrate_up(&op, version) {
            Ok(None) => op,
            Ok(Some(migrated)) => migrated,
            Err(reason) => {
                self.hold(op, reason, &mut batch.quarantined, &mut batch.events);
                return true;
            }
        };
        // Only a valid op moves the clock: a stamp from beyond the bound must not drag it.
        if let Some(report) = self.clock.observe(op.stamp.hlc, self.wall) {
            self.metrics.clock_ahead_reports += 1;
            batch.events.push(ServerEvent::ClockAhead { op: op.id, report });
        }
        let held = self.records.get(&op.key).is_some();
        let forgotten =
            if held { self.recreated_over(&op.key) } else { self.forgotten_through(&op.key) };
        if let Some(forgotten_through) = forgotten.filter(|through| op.stamp <= *through) {
            let reason = QuarantineReason::Stale { forgotten_through };
            self.hold(op, reason, &mut batch.quarantined, &mut batch.events);
            return true;
        }
        if let (false, Some(forgotten_through)) = (held, forgotten) {
            // The record may be one whose delete the server forgot: an op older than that is
            // one it cannot decide for the re-created record either.
            self.recreated_over.insert(op.key.clone(), forgotten_through);
            let key = op.key.clone();
            let forgotten_through = Some(forgotten_through);
            batch.mutations.push(Mutation::RecreatedOver { key, forgotten_through });
        }
        let schema = self.config.lineage.latest_schema();
        let applied = self.records.apply(&op, schema);
        batch.changes.note(&op);
        for conflict in applied.conflicts {
            self.metrics.conflict(conflict.rule);
            batch.events.push(ServerEvent::Conflict(conflict));
        }
        self.log_applied(op, &grant.user, batch);
        true
    }

    /// For an op that is not the next of its writer's seqs: whether the rest of the push goes
    /// on (a duplicate, answered again) or waits (a gap). `None` for the next op.
    fn out_of_turn(&mut self, client: ReplicaId, op: &Op, batch: &mut Accepted) -> Option<bool> {
        match Admission::of(batch.registration.acked_seq, op.id.seq) {
            Admission::Duplicate => {
                self.metrics.duplicates_dropped += 1;
                let held = self.quarantine.iter().find(|q| q.op.id == op.id);
                batch.repeated.extend(held.map(|q| (q.op.id, q.reason.clone())));
                Some(true)
            }
            Admission::Gap { expected } => {
                // The ack tells the client where to resume.
                debug!(client = client.0, ?expected, got = op.id.seq.0, "gap in pushed seqs");
                self.metrics.ops_out_of_order += 1;
                Some(false)
            }
            Admission::Next => None,
        }
    }

    /// Refuses an op the sender did not write, telling the sender only. It is not kept: its
    /// real writer still holds it, and keeping it would tell that writer at its next Hello
    /// that an op of its own was refused (a replayed batch would make a victim believe its
    /// applied writes were lost).
    fn refuse_foreign(&mut self, client: ReplicaId, op: &Op, batch: &mut Accepted) {
        warn!(client = client.0, op = %op.id, "refusing an op written by another replica");
        self.metrics.quarantined("foreign-writer");
        batch.repeated.push((op.id, QuarantineReason::ForeignWriter { sender: client.0 }));
    }

    /// Appends an applied op to the log and the audit trail, noting where a delete's
    /// tombstone now sits.
    fn log_applied(&mut self, op: Op, user: &str, batch: &mut Accepted) {
        self.meta.head = LogPos(self.meta.head.0 + 1);
        if matches!(op.body, OpBody::Delete) {
            let pos = match self.planted(PlantedBug::MisplacedTombstone) {
                true => LogPos(self.meta.head.0 + 1),
                false => self.meta.head,
            };
            self.tombstone_pos.insert(op.key.clone(), pos);
        }
        let link = self.link_at(LogPos(self.meta.head.0 - 1)).next(self.meta.head, &op);
        let entry = LogEntry { op: op.clone(), link };
        batch.mutations.push(Mutation::LogAppend { pos: self.meta.head, entry });
        if self.config.audit_retention_ms.is_some() {
            let user = match self.planted(PlantedBug::MisattributedAudit) {
                true => "anonymous".to_owned(),
                false => user.to_owned(),
            };
            let (pos, at) = (self.meta.head, self.wall);
            batch.mutations.push(Mutation::Audit(AuditEntry { pos, at, user, op: op.clone() }));
        }
        self.log.push_back(op);
        self.links.push_back(link);
        batch.applied += 1;
    }

    /// Validates `op` in the version it was written in, migrates it to the stored version and
    /// validates it there: a push is checked before and after translation. `None` means the op
    /// is already in the stored version; an error is the reason to quarantine it.
    fn migrate_up(&mut self, op: &Op, version: u32) -> Result<Option<Op>, QuarantineReason> {
        let lineage = &self.config.lineage;
        let Some(written_in) = lineage.schema(version) else {
            let (first, latest) = (lineage.first(), lineage.latest());
            let kind = ViolationKind::UnknownVersion { version, first, latest };
            return Err(QuarantineReason::Invalid(Violation::of(op, None, kind)));
        };
        written_in.validate(op)?;
        if version == lineage.latest() {
            return Ok(None);
        }
        let migrated = lineage
            .migrate_op(op, version, lineage.latest())
            .map_err(|error| Violation::unmigratable(op, error))?
            .op
            .into_owned();
        if let Err(mut violation) = lineage.latest_schema().validate(&migrated) {
            let kind = Box::new(violation.kind);
            violation.kind =
                ViolationKind::AfterMigration { from: version, to: lineage.latest(), kind };
            return Err(QuarantineReason::Invalid(violation));
        }
        self.metrics.ops_migrated_up += 1;
        Ok(Some(migrated))
    }
}
