//! The report's eyes inside the engine: latencies in simulated time, reconnects, batch sizes,
//! outbox lengths and conflict hotspots, taken from what the nodes already expose.
//!
//! Observation only: nothing here draws from a random stream, schedules an event or touches a
//! node mutably, so a seed's trace digest is the same whether or not anyone reads the report.

use std::collections::BTreeMap;

use driftsync_core::{Client, LogPos, OpId, RecordKey, Seq, Server};

use crate::engine::nodes::Link;
use crate::engine::store::SimStore;
use crate::report::measures::{Measures, OUTBOX_SAMPLE_MS};

#[derive(Debug)]
pub(crate) struct Observer {
    clients: Vec<ClientWatch>,
    /// Committed ops not yet applied everywhere, by (writer replica, seq).
    unseen: BTreeMap<(u64, u64), Unseen>,
    server_head: LogPos,
    /// Per writer replica: the seq through which the server has applied its ops.
    server_applied: BTreeMap<u64, u64>,
    outbox_total: u64,
    measures: Measures,
}

#[derive(Debug)]
struct Unseen {
    written_ms: u64,
    /// Replicas other than the writer that have applied it (the server included).
    replicas_count: u32,
}

#[derive(Debug, Default)]
struct ClientWatch {
    /// Own ops waiting for the server's ack: seq → write time.
    unacked: BTreeMap<u64, u64>,
    cursor: LogPos,
    /// Per writer replica: the seq through which this client has applied its ops.
    applied: BTreeMap<u64, u64>,
    link: Option<Link>,
    up_since_ms: Option<u64>,
    outage_since_ms: Option<u64>,
    dials_count: u64,
    backoff_from_ms: Option<u64>,
    /// (batches, ops) of the push and pull batch-size metrics already recorded.
    push_seen: (u64, u64),
    pull_seen: (u64, u64),
    outbox_ops: u64,
}

impl Observer {
    pub(crate) fn new(clients_count: usize) -> Observer {
        let mut measures = Measures::default();
        measures.activity.connected_spans = vec![Vec::new(); clients_count];
        measures.activity.writes_ms = vec![Vec::new(); clients_count];
        Observer {
            clients: (0..clients_count).map(|_| ClientWatch::default()).collect(),
            unseen: BTreeMap::new(),
            server_head: LogPos(0),
            server_applied: BTreeMap::new(),
            outbox_total: 0,
            measures,
        }
    }

    pub(crate) fn written(&mut self, index: usize, op: OpId, now_ms: u64) {
        self.clients[index].unacked.insert(op.seq.0, now_ms);
        let unseen = Unseen { written_ms: now_ms, replicas_count: 0 };
        self.unseen.insert((op.replica.0, op.seq.0), unseen);
        self.measures.activity.writes_ms[index].push(now_ms);
    }

    pub(crate) fn acked(&mut self, index: usize, through: Seq, now_ms: u64) {
        let unacked = &mut self.clients[index].unacked;
        let still_unacked = unacked.split_off(&(through.0 + 1));
        for written_ms in std::mem::replace(unacked, still_unacked).into_values() {
            self.measures.record("write_to_ack_ms", now_ms.saturating_sub(written_ms));
        }
    }

    /// A conflict the server decided, on `key`.
    pub(crate) fn conflict(&mut self, key: &RecordKey) {
        *self.measures.conflicts_by_record.entry(key.to_string()).or_default() += 1;
    }

    /// A quarantined op will never be applied everywhere; the run's counters count it by reason.
    pub(crate) fn quarantined(&mut self, op: OpId) {
        self.unseen.remove(&(op.replica.0, op.seq.0));
    }

    /// The client asked for a transport.
    pub(crate) fn dialing(&mut self, index: usize, now_ms: u64) {
        let watch = &mut self.clients[index];
        watch.link = Some(Link::Dialing);
        if watch.outage_since_ms.is_some() {
            watch.dials_count += 1;
        }
        if let Some(from_ms) = watch.backoff_from_ms.take() {
            self.measures.record("reconnect_backoff_ms", now_ms.saturating_sub(from_ms));
        }
    }

    /// The client closed its transport itself, after unanswered requests.
    pub(crate) fn closed(&mut self, index: usize, now_ms: u64) {
        if matches!(self.clients[index].link, Some(Link::Up { .. })) {
            self.link_lost(index, now_ms);
        }
    }

    /// After every input of a client that is up: its link as the host sees it, and what the
    /// client exposes.
    pub(crate) fn client_input(
        &mut self,
        index: usize,
        now_ms: u64,
        client: &Client<SimStore>,
        link: Link,
    ) {
        self.link_now(index, now_ms, link);
        self.batches(index, client);
        self.outbox(index, now_ms, client.metrics().outbox_ops);
        if client.cursor() != self.clients[index].cursor {
            self.clients[index].cursor = client.cursor();
            let own = index as u64 + 1;
            let applied: Vec<(u64, u64)> =
                client.meta().applied.iter().map(|(r, s)| (r.0, s.0)).collect();
            for (writer, through) in applied {
                if writer != own {
                    let seen = self.clients[index].applied.entry(writer).or_default();
                    let from = std::mem::replace(seen, (*seen).max(through));
                    self.seen(writer, from, through, now_ms);
                }
            }
        }
    }

    /// After every input of the server.
    pub(crate) fn server_input(&mut self, now_ms: u64, server: &Server<SimStore>) {
        if server.head() == self.server_head {
            return;
        }
        self.server_head = server.head();
        for (writer, registration) in server.registrations() {
            let through = registration.acked_seq.0;
            let seen = self.server_applied.entry(writer.0).or_default();
            let from = std::mem::replace(seen, (*seen).max(through));
            self.seen(writer.0, from, through, now_ms);
        }
    }

    pub(crate) fn finish(
        mut self,
        heal_at_ms: u64,
        converged_at_ms: Option<u64>,
        end_ms: u64,
    ) -> Measures {
        if let Some(converged_ms) = converged_at_ms {
            self.measures.record("heal_to_converged_ms", converged_ms.saturating_sub(heal_at_ms));
        }
        for (index, watch) in self.clients.iter().enumerate() {
            if let Some(from_ms) = watch.up_since_ms {
                self.measures.activity.connected_spans[index].push((from_ms, end_ms));
            }
            self.measures.writes_never_acked += watch.unacked.len() as u64;
        }
        self.measures.writes_not_visible_everywhere = self.unseen.len() as u64;
        self.measures
    }

    /// One more replica applied `writer`'s ops `(from, through]`.
    fn seen(&mut self, writer: u64, from: u64, through: u64, now_ms: u64) {
        if through <= from {
            return;
        }
        let replicas_needed = self.clients.len() as u32;
        let mut done = Vec::new();
        for (key, unseen) in self.unseen.range_mut((writer, from + 1)..=(writer, through)) {
            unseen.replicas_count += 1;
            if unseen.replicas_count >= replicas_needed {
                done.push((*key, now_ms.saturating_sub(unseen.written_ms)));
            }
        }
        for (key, latency_ms) in done {
            self.unseen.remove(&key);
            self.measures.record("write_to_visible_everywhere_ms", latency_ms);
        }
    }

    fn link_now(&mut self, index: usize, now_ms: u64, link: Link) {
        let was = self.clients[index].link;
        match (was, link) {
            (Some(Link::Up { .. }), Link::Up { .. }) => {}
            (_, Link::Up { .. }) => {
                let watch = &mut self.clients[index];
                watch.link = Some(link);
                watch.up_since_ms = Some(now_ms);
                if let Some(since_ms) = watch.outage_since_ms.take() {
                    let dials_count = std::mem::take(&mut watch.dials_count);
                    self.measures.record("reconnect_attempts_per_outage", dials_count);
                    self.measures.record("outage_ms", now_ms.saturating_sub(since_ms));
                }
            }
            (Some(Link::Up { .. }), _) => self.link_lost(index, now_ms),
            (Some(Link::Dialing), Link::Down) => {
                let watch = &mut self.clients[index];
                watch.link = Some(Link::Down);
                watch.outage_since_ms.get_or_insert(now_ms);
                watch.backoff_from_ms = Some(now_ms);
            }
            _ => {}
        }
    }

    fn link_lost(&mut self, index: usize, now_ms: u64) {
        let watch = &mut self.clients[index];
        watch.link = Some(Link::Down);
        if let Some(from_ms) = watch.up_since_ms.take() {
            self.measures.activity.connected_spans[index].push((from_ms, now_ms));
        }
        watch.outage_since_ms.get_or_insert(now_ms);
        watch.backoff_from_ms = Some(now_ms);
    }

    fn batches(&mut self, index: usize, client: &Client<SimStore>) {
        let metrics = client.metrics();
        let push = (metrics.push_batch_sizes.count, metrics.push_batch_sizes.ops_total);
        let pull = (metrics.pull_batch_sizes.count, metrics.pull_batch_sizes.ops_total);
        let watch = &mut self.clients[index];
        let pushed = batch_delta(&mut watch.push_seen, push);
        let pulled = batch_delta(&mut watch.pull_seen, pull);
        for (metric, (batches, ops)) in [("push_batch_ops", pushed), ("pull_batch_ops", pulled)] {
            // Several batches in one input share their ops evenly; one batch is exact.
            for _ in 0..batches {
                self.measures.record(metric, ops / batches);
            }
        }
    }

    fn outbox(&mut self, index: usize, now_ms: u64, outbox_ops: u64) {
        let watch = &mut self.clients[index];
        if outbox_ops == watch.outbox_ops {
            return;
        }
        self.outbox_total = self.outbox_total - watch.outbox_ops + outbox_ops;
        watch.outbox_ops = outbox_ops;
        self.measures.record("outbox_ops", outbox_ops);
        let samples = &mut self.measures.activity.outbox_total;
        let bucket_ms = now_ms - now_ms % OUTBOX_SAMPLE_MS;
        match samples.last_mut() {
            Some((at_ms, total)) if *at_ms == bucket_ms => *total = (*total).max(self.outbox_total),
            _ => samples.push((bucket_ms, self.outbox_total)),
        }
    }
}

/// The (batches, ops) recorded since `seen`, which then moves to `now`. A restarted client
/// counts from zero again.
fn batch_delta(seen: &mut (u64, u64), now: (u64, u64)) -> (u64, u64) {
    if now.0 < seen.0 {
        *seen = (0, 0);
    }
    let delta = (now.0 - seen.0, now.1.saturating_sub(seen.1));
    *seen = now;
    delta
}
