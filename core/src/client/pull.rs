//! Applying what the server sends: pull batches and snapshot pages.
//!
//! A batch is verified against its manifest, then its ops, the new cursor and the clock are
//! committed in one store transaction: the cursor is never durable ahead of its data, so a crash
//! anywhere resumes from the last commit without reprocessing and without skipping.

use std::collections::BTreeMap;

use tracing::{debug, warn};

use crate::chain::ChainSpan;
use crate::client::Client;
use crate::coverage::Mark;
use crate::event::{ClientEvent, Origin, QuarantineNotice};
use crate::hlc::Stamp;
use crate::ids::{LogPos, RecordKey, Seq};
use crate::merge::RecordState;
use crate::op::Op;
use crate::protocol::{HiddenFields, PullBatch, SnapshotPage};
use crate::quarantine::{QuarantineReason, QuarantinedOp};
use crate::schema::Violation;
use crate::store::{Changes, Mutation, Store};
use crate::time::MonoTime;
use crate::version::VersionVector;

/// Snapshot pages received so far in a resync. Kept in memory only: a crash mid-resync starts
/// the resync over, because nothing of it was committed.
#[derive(Debug)]
pub(crate) struct Staging {
    /// The server's head when the first page was read: the cursor after the resync. Later
    /// pages may already include newer ops, which is harmless because applying an op is
    /// idempotent at the state level.
    pub at: LogPos,
    pub records: BTreeMap<RecordKey, RecordState>,
    pub applied: VersionVector,
    pub next: Option<RecordKey>,
    /// The newest stamp in any staged record: the clock moves past it when the resync ends,
    /// as it moves past every pulled op.
    pub newest: Option<Stamp>,
    /// The server's chain epoch and link at `at`.
    pub chain: (u32, crate::chain::Link),
}

impl<S: Store> Client<S> {
    pub(super) fn on_pull_batch(&mut self, now: MonoTime, cursor: LogPos, batch: PullBatch) {
        if batch.from != cursor || batch.to < batch.from {
            let replica = self.config.replica.0;
            warn!(replica, ?cursor, from = ?batch.from, "pull batch out of place");
            self.fail(now);
            return;
        }
        let ops_expected = batch.to.0 - batch.from.0;
        let accounted = u64::from(batch.manifest.count) + u64::from(batch.withheld);
        if accounted != ops_expected || batch.ops.manifest() != batch.manifest {
            self.metrics.manifest_mismatches += 1;
            self.metrics.mark(Mark::ManifestMismatchRefetched);
            self.events.push_back(ClientEvent::ManifestMismatch { batch: batch.batch });
            self.fail(now);
            return;
        }
        if self.history_rewritten(now, cursor, batch.chain) {
            return;
        }
        // Only now, with the bytes verified, are the ops parsed.
        let ops = match batch.ops.decode(&self.config.limits) {
            Ok(ops) => ops,
            Err(error) => {
                let replica = self.config.replica.0;
                warn!(replica, %error, "undecodable ops in a verified batch");
                self.metrics.messages_malformed += 1;
                self.events.push_back(ClientEvent::Malformed(error));
                self.fail(now);
                return;
            }
        };
        let mut events = cautions(batch.hidden);
        let mut changes = Changes::default();
        let mut quarantined = Vec::new();
        let session_version = self.session_schema().map_or(self.config.schema_version, |s| s.0);
        for op in &ops {
            self.apply_remote(op, session_version, &mut events, &mut quarantined, &mut changes);
        }
        let mut mutations: Vec<Mutation> = changes.into_mutations(&self.records).collect();
        mutations.extend(quarantined.iter().cloned().map(Mutation::Quarantine));
        // Clients keep their tombstones: the server serves nothing a tombstone it forgot could
        // hide (it quarantines such ops), and a resync from a snapshot is what sheds them.
        self.meta.cursor = batch.to;
        self.meta.chain = match batch.chain.to {
            Some(to) => Some((batch.chain.epoch, to)),
            None => self.meta.chain.filter(|(epoch, _)| *epoch == batch.chain.epoch),
        };
        if session_version < self.config.schema_version {
            self.meta.pulled_in =
                self.meta.pulled_in.min(Some(session_version)).or(Some(session_version));
        }
        mutations.push(self.meta_mutation());
        if self.commit(mutations).is_err() {
            self.fail(now);
            return;
        }
        self.retry.on_success();
        self.quarantine.extend(quarantined);
        self.events.extend(events);
        self.metrics.pull_batch_sizes.record(ops.len());
        if let Some(session) = self.link.session_mut() {
            session.pull_wanted = batch.to < batch.head;
        }
        debug!(replica = self.config.replica.0, to = batch.to.0, head = batch.head.0, "pulled");
    }

    /// Whether the server's chain at our cursor is not the one we were served before: its
    /// history was rewritten under us (a restored backup, an altered store). It is reported,
    /// and the state rebuilt from a snapshot of what the server now holds, which our pending
    /// writes then merge into; nothing queued is lost.
    fn history_rewritten(&mut self, now: MonoTime, cursor: LogPos, chain: ChainSpan) -> bool {
        let Some((epoch, held)) = self.meta.chain else {
            return false;
        };
        // A new epoch is the server's own rebuild of its chain (a schema upgrade).
        if epoch != chain.epoch || held.tag() == chain.from {
            return false;
        }
        let replica = self.config.replica.0;
        let held = held.tag();
        warn!(replica, ?cursor, %held, served = %chain.from, "the server's history was rewritten");
        self.metrics.history_rewrites += 1;
        self.events.push_back(ClientEvent::HistoryRewritten {
            at: cursor,
            held,
            served: chain.from,
        });
        self.retry.on_success();
        self.meta.chain = None;
        let mut mutations = Vec::new();
        self.require_resync(&mut mutations);
        if self.commit(mutations).is_err() {
            self.fail(now);
        }
        true
    }

    /// Applies one remote op, sent in `version`, to memory, noting what it changed for the
    /// batch's commit.
    fn apply_remote(
        &mut self,
        op: &Op,
        version: u32,
        events: &mut Vec<ClientEvent>,
        quarantined: &mut Vec<QuarantinedOp>,
        changes: &mut Changes,
    ) {
        if self.meta.applied.contains(op.id) {
            self.metrics.duplicates_dropped += 1;
            return;
        }
        self.meta.applied.advance(op.id);
        self.metrics.ops_pulled += 1;
        let migrated;
        let op = if version == self.config.schema_version {
            op
        } else {
            self.metrics.ops_migrated_up += 1;
            migrated = self.config.lineage.migrate_op(op, version, self.config.schema_version);
            match &migrated {
                Ok(up) => &up.op,
                Err(error) => {
                    let reason = Violation::unmigratable(op, error.clone()).into();
                    self.hold_remote(op, reason, events, quarantined);
                    return;
                }
            }
        };
        if let Err(violation) = self.config.schema().validate(op) {
            let reason = QuarantineReason::from(violation);
            self.hold_remote(op, reason, events, quarantined);
            return;
        }
        // Only a valid op moves the clock: a stamp from beyond the bound must not drag it along.
        if let Some(report) = self.clock.observe(op.stamp.hlc, self.wall) {
            self.metrics.clock_ahead_reports += 1;
            events.push(ClientEvent::ClockAhead { op: op.id, report });
        }
        let applied = self.records.apply(op, self.config.schema());
        changes.note(op);
        for conflict in applied.conflicts {
            self.metrics.conflict(conflict.rule);
            events.push(ClientEvent::Conflict(conflict));
        }
    }

    /// Quarantines a remote op this client cannot apply, reporting it.
    fn hold_remote(
        &mut self,
        op: &Op,
        reason: QuarantineReason,
        events: &mut Vec<ClientEvent>,
        quarantined: &mut Vec<QuarantinedOp>,
    ) {
        self.metrics.quarantined(reason.kind());
        events.push(ClientEvent::Quarantined(QuarantineNotice {
            op: op.id,
            key: op.key.clone(),
            reason: reason.clone(),
            origin: Origin::Remote,
        }));
        quarantined.push(QuarantinedOp { op: op.clone(), reason });
    }

    pub(super) fn on_snapshot_page(&mut self, now: MonoTime, page: SnapshotPage) {
        if !page.manifest.verifies(&page.records) {
            self.metrics.manifest_mismatches += 1;
            self.metrics.mark(Mark::ManifestMismatchRefetched);
            self.events.push_back(ClientEvent::ManifestMismatch { batch: page.batch });
            self.fail(now);
            return;
        }
        self.retry.on_success();
        let version = self.session_schema().map_or(self.config.schema_version, |s| s.0);
        let Some(session) = self.link.session_mut() else {
            return; // unreachable: a snapshot page answers a request of a session
        };
        let staging = session.staging.get_or_insert_with(|| {
            Box::new(Staging {
                at: page.at,
                chain: (page.chain_epoch, page.chain_link),
                records: BTreeMap::new(),
                applied: VersionVector::default(),
                next: None,
                newest: None,
            })
        });
        if staging.records.is_empty() && staging.next.is_none() {
            for (replica, seq) in &page.applied {
                staging.applied.advance(crate::ids::OpId { replica: *replica, seq: *seq });
            }
        }
        let mut events = cautions(page.hidden);
        for (key, state) in page.records {
            staging.newest = staging.newest.max(state.newest_stamp());
            if version == self.config.schema_version {
                staging.records.insert(key, state);
                continue;
            }
            let up = self.config.lineage.migrate_record(
                &key,
                &state,
                version,
                self.config.schema_version,
            );
            events.extend(cautions(vec![HiddenFields { key: key.clone(), fields: up.hidden }]));
            staging.records.insert(key, up.state);
        }
        self.events.extend(events);
        staging.next = page.next;
        if staging.next.is_none() {
            self.finish_resync(now);
        }
    }

    /// Replaces the local state by the snapshot plus every pending local op. The server
    /// decides each pending op when it arrives (merged, or quarantined and reported back), so
    /// none is judged here: the snapshot carries every tombstone the server still holds, and
    /// a pending op older than one of them is hidden by it here exactly as there.
    fn finish_resync(&mut self, now: MonoTime) {
        let Some(staging) = self.link.session_mut().and_then(|s| s.staging.take()) else {
            return;
        };
        let mut mutations = Vec::new();
        if let Some(newest) = staging.newest {
            self.clock.observe(newest.hlc, self.wall);
        }
        let mut records: crate::merge::Records = staging.records.into_iter().collect();
        for op in &self.outbox {
            // Our own pending writes were validated when they were made, in the version they
            // were made in.
            let written = self.meta.written_version(op.id.seq);
            let schema = self.config.schema();
            if written == self.config.schema_version {
                records.apply(op, schema);
            } else if let Ok(up) =
                self.config.lineage.migrate_op(op, written, self.config.schema_version)
            {
                records.apply(&up.op, schema);
            }
            // An op that cannot be migrated up is refused by the server too, and its
            // quarantine notice comes back with the ack.
        }
        for (key, _) in self.records.iter() {
            if records.get(key).is_none() {
                mutations.push(Mutation::Record { key: key.clone(), state: None });
            }
        }
        for (key, state) in records.iter() {
            mutations.push(Mutation::Record { key: key.clone(), state: Some(state.clone()) });
        }
        let own_last = Seq(self.meta.next_seq.0.saturating_sub(1));
        let mut applied = staging.applied;
        applied.advance(crate::ids::OpId { replica: self.config.replica, seq: own_last });
        let record_count = records.len();
        self.records = records;
        self.meta.applied = applied;
        self.meta.cursor = staging.at;
        self.meta.chain = Some(staging.chain);
        self.meta.resync_needed = false;
        let version = self.session_schema().map_or(self.config.schema_version, |s| s.0);
        self.meta.pulled_in = (version < self.config.schema_version).then_some(version);
        mutations.push(self.meta_mutation());
        if self.commit(mutations).is_err() {
            self.fail(now);
            return;
        }
        self.metrics.resyncs += 1;
        self.metrics.mark(Mark::ResyncFinished);
        self.events.push_back(ClientEvent::ResyncFinished { records: record_count });
        self.want_pull();
    }
}

/// Caution events for records that arrived without fields the app's version cannot show.
fn cautions(hidden: Vec<HiddenFields>) -> Vec<ClientEvent> {
    hidden
        .into_iter()
        .filter(|h| !h.fields.is_empty())
        .map(|h| ClientEvent::Caution { key: h.key, hidden_fields: h.fields })
        .collect()
}
