//! The client replica: a local store of records, a durable outbox, and the sync state machine.
//!
//! Methods are grouped as quinn-proto groups them: construction, getters, inputs
//! (`handle_*`, `connected`, `disconnected`), commands (`put`, `update`, `delete`,
//! `increment`, `resolve_conflict`, `sync_now`), then outputs (`poll_*`). Every input and
//! command takes a [`Now`], both clock readings at once.

mod connection;
mod invariants;
mod link;
mod pull;
mod write;

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use bytes::Bytes;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::{StartError, StorageError};
use crate::event::{ClientEvent, SyncState};
use crate::hlc::{Hlc, HlcClock};
use crate::ids::{BatchId, LogPos, RecordKey, ReplicaId, Seq};
use crate::merge::{RecordState, RecordView, Records};
use crate::metrics::Metrics;
use crate::op::Op;
use crate::persist::ClientMeta;
use crate::protocol::Limits;
use crate::protocol::{Compression, RejectReason};
use crate::quarantine::QuarantinedOp;
use crate::retry::{Retry, RetryConfig};
use crate::rtt::ResponseTimeout;
use crate::schema::{LineageError, Schema, SchemaLineage};
use crate::store::{MemoryStore, Mutation, Store};
use crate::time::{MonoTime, Now, WallTime};

use connection::{Link, Pending};

/// Timer expiries handled in one `handle_timeout` call at most.
const TIMERS_PER_INPUT_MAX: usize = 16;

/// How a client behaves. Every bound is named `*_max`.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    pub replica: ReplicaId,
    /// The schema versions this build of the app knows, up to its own.
    pub lineage: Arc<SchemaLineage>,
    /// The app's schema version: local records are held in it, local writes are made in it.
    pub schema_version: u32,
    pub token: String,
    /// The codecs the client offers to decode, preferred first; empty asks for everything
    /// plain.
    pub compression: Vec<Compression>,
    pub push_batch_ops_max: usize,
    pub pull_batch_ops_max: u32,
    pub snapshot_page_records_max: u32,
    /// Local writes are refused once this many ops wait in the outbox.
    pub outbox_ops_max: usize,
    /// How long a request may go unanswered before it counts as failed, at least: on a link
    /// whose measured round trip needs it the client waits longer, and after each timeout
    /// twice as long, up to `response_timeout_ms_max`.
    pub response_timeout_ms: u64,
    pub response_timeout_ms_max: u64,
    /// The period of the background sync timer.
    pub sync_interval_ms: u64,
    /// Remote stamps further ahead of the local wall clock than this are reported.
    pub clock_ahead_ms_max: u64,
    /// How long to wait before saying Hello again to a server that refused every version
    /// this client speaks for being too new: the server may upgrade meanwhile.
    pub schema_retry_ms: u64,
    pub retry: RetryConfig,
    pub limits: Limits,
}

impl ClientConfig {
    /// A client of a one-version schema.
    pub fn new(replica: ReplicaId, schema: Schema) -> ClientConfig {
        let schema_version = schema.version;
        ClientConfig::build(replica, Arc::new(SchemaLineage::new(schema)), schema_version)
    }

    /// A client at `schema_version` of `lineage`.
    pub fn with_lineage(
        replica: ReplicaId,
        lineage: Arc<SchemaLineage>,
        schema_version: u32,
    ) -> Result<ClientConfig, LineageError> {
        if !lineage.contains(schema_version) {
            return Err(LineageError {
                version: schema_version,
                collection: None,
                field: None,
                problem: format!(
                    "not in the lineage (v{}..=v{})",
                    lineage.first(),
                    lineage.latest()
                ),
            });
        }
        Ok(ClientConfig::build(replica, lineage, schema_version))
    }

    /// The schema of the app's version.
    pub fn schema(&self) -> &Schema {
        self.lineage.schema(self.schema_version).expect("checked when the config was built")
    }

    /// The versions this client can speak, oldest first: every version its data can be
    /// migrated down to, newest 64 at most.
    pub fn schema_versions_spoken(&self) -> Vec<u32> {
        let oldest = self.lineage.reachable_from(self.schema_version);
        let oldest = oldest.max(self.schema_version.saturating_sub(63));
        (oldest..=self.schema_version).collect()
    }

    fn build(replica: ReplicaId, lineage: Arc<SchemaLineage>, schema_version: u32) -> ClientConfig {
        ClientConfig {
            replica,
            lineage,
            schema_version,
            token: String::new(),
            compression: Compression::ALL.to_vec(),
            push_batch_ops_max: 128,
            pull_batch_ops_max: 1_024,
            snapshot_page_records_max: 256,
            outbox_ops_max: 100_000,
            response_timeout_ms: 3_000,
            response_timeout_ms_max: 60_000,
            sync_interval_ms: 10_000,
            clock_ahead_ms_max: 60_000,
            schema_retry_ms: 300_000,
            retry: RetryConfig::default(),
            limits: Limits::default(),
        }
    }
}

/// Timers, one handler each (see [`Client::handle_timeout`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ClientTimer {
    /// Time to dial again.
    Reconnect,
    /// The outstanding request has gone unanswered too long.
    Response,
    /// A backoff after a failed request is over.
    Retry,
    /// The background sync is due.
    Sync,
}

/// The client state machine. Drive it as the crate docs describe.
#[derive(Debug)]
pub struct Client<S: Store = MemoryStore> {
    config: ClientConfig,
    store: S,
    clock: HlcClock,
    wall: WallTime,
    records: Records,
    outbox: VecDeque<Op>,
    quarantine: Vec<QuarantinedOp>,
    meta: ClientMeta,
    link: Link,
    retry: Retry,
    response_timeout: ResponseTimeout,
    batch_counter: u64,
    /// The state the last `StateChanged` reported: after each input, a change is reported.
    reported_state: SyncState,
    transmits: VecDeque<Bytes>,
    events: VecDeque<ClientEvent>,
    metrics: Metrics,
    /// The reason every write takes while [`Client::with_reason`] runs.
    reason: Option<String>,
}

impl<S: Store> Client<S> {
    /// Starts (or restarts) a client from whatever `store` holds. `seed` drives retry jitter.
    pub fn new(
        config: ClientConfig,
        store: S,
        seed: u64,
        now: Now,
    ) -> Result<Client<S>, StartError> {
        let mut store = store;
        let stored = store.load()?;
        let mut meta = stored.client_meta.unwrap_or_default();
        if meta.next_seq == Seq(0) {
            meta.next_seq = Seq(1);
        }
        let mut records: Records = stored.records.into_iter().collect();
        if adopt_version(&config, &mut meta, &mut records) {
            // Stored in the version it now holds, so that the next commit, which writes only
            // what it changed, never mixes versions in the store.
            let mut mutations: Vec<Mutation> = records
                .iter()
                .map(|(key, state)| Mutation::Record {
                    key: key.clone(),
                    state: Some(state.clone()),
                })
                .collect();
            mutations.push(Mutation::ClientMeta(meta.clone()));
            store.commit(mutations)?;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let batch_counter = u64::from(rng.random::<u32>());
        let mut client = Client {
            clock: HlcClock::new(meta.hlc, config.clock_ahead_ms_max),
            wall: now.wall,
            records,
            outbox: stored.outbox.into_values().collect(),
            quarantine: stored.quarantine,
            retry: Retry::new(config.retry, rng),
            response_timeout: ResponseTimeout::new(
                config.response_timeout_ms,
                config.response_timeout_ms_max,
            ),
            meta,
            config,
            store,
            link: Link::Offline { reconnect_at: now.mono },
            batch_counter,
            reported_state: SyncState::Offline,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            metrics: Metrics::default(),
            reason: None,
        };
        client.metrics.set_outbox(client.outbox.len());
        Ok(client)
    }

    // ---- getters ----

    pub fn replica(&self) -> ReplicaId {
        self.config.replica
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// A record's visible content in the app's schema version (deprecated fields hidden,
    /// absent fields read as their default), or `None` if it does not exist here.
    pub fn get(&self, key: &RecordKey) -> Option<RecordView> {
        let view = self.records.get(key)?.view()?;
        Some(self.config.schema().present(&key.collection, view))
    }

    /// A record's full merge state, tombstone included.
    pub fn record_state(&self, key: &RecordKey) -> Option<&RecordState> {
        self.records.get(key)
    }

    /// Every live record, as the application sees it (see [`Client::get`]).
    pub fn view(&self) -> BTreeMap<RecordKey, RecordView> {
        let schema = self.config.schema();
        let mut view = self.records.view();
        for (key, fields) in view.iter_mut() {
            *fields = schema.present(&key.collection, std::mem::take(fields));
        }
        view
    }

    pub fn records(&self) -> &Records {
        &self.records
    }

    /// Local ops not yet acknowledged by the server, oldest first.
    pub fn outbox(&self) -> impl ExactSizeIterator<Item = &Op> {
        self.outbox.iter()
    }

    pub fn quarantine(&self) -> &[QuarantinedOp] {
        &self.quarantine
    }

    pub fn cursor(&self) -> LogPos {
        self.meta.cursor
    }

    pub fn meta(&self) -> &ClientMeta {
        &self.meta
    }

    /// The latest hybrid logical clock reading.
    pub fn hlc(&self) -> Hlc {
        self.clock.last()
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Why the server refused this client, if it did.
    pub fn rejection(&self) -> Option<&crate::protocol::RejectReason> {
        match &self.link {
            Link::Rejected(reason) => Some(reason),
            _ => None,
        }
    }

    pub fn sync_state(&self) -> SyncState {
        self.link.sync_state()
    }

    /// Whether the client is connected, has nothing to push or pull, and needs no resync.
    pub fn is_idle(&self) -> bool {
        self.sync_state() == SyncState::Idle
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    /// The store, for a host that injects faults into it or inspects it.
    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    /// Gives the store back, dropping everything not committed (a crash, for the simulator).
    pub fn into_store(self) -> S {
        self.store
    }

    // ---- inputs ----

    /// The transport is up: the handshake starts.
    pub fn connected(&mut self, now: Now) {
        let now = self.observe(now);
        self.link = Link::connected();
        self.drive(now);
        self.report_state();
    }

    /// The transport is down (or a dial failed): reconnect after a backoff.
    pub fn disconnected(&mut self, now: Now) {
        let now = self.observe(now);
        self.schedule_reconnect(now);
        self.report_state();
    }

    /// Handles bytes from the server.
    pub fn handle_message(&mut self, now: Now, bytes: &[u8]) {
        let now = self.observe(now);
        match crate::protocol::decode_sized(bytes, &self.config.limits) {
            Ok(decoded) => {
                self.metrics.received(decoded.wire_bytes, decoded.plain_bytes);
                self.on_message(now, decoded.message)
            }
            Err(error) => {
                self.metrics.messages_malformed += 1;
                let replica = self.config.replica.0;
                tracing::warn!(replica, %error, "dropping malformed message");
                self.events.push_back(ClientEvent::Malformed(error));
            }
        }
        self.report_state();
    }

    /// Handles every timer that is due at `now`.
    pub fn handle_timeout(&mut self, now: Now) {
        let now = self.observe(now);
        // Each handler moves its own timer past `now` or clears it; the bound guards that.
        for _ in 0..TIMERS_PER_INPUT_MAX {
            let Some((_, timer)) = self.poll_timeout().filter(|(at, _)| *at <= now) else {
                break;
            };
            match timer {
                ClientTimer::Reconnect => self.on_reconnect_due(now),
                ClientTimer::Response => self.on_response_timeout(now),
                ClientTimer::Retry => self.on_retry_due(now),
                ClientTimer::Sync => self.on_sync_due(now),
            }
        }
        self.drive(now);
        self.report_state();
    }

    // ---- commands (see write.rs for the writes) ----

    /// Replaces the authentication token sent in the next `Hello`. A client stopped by a
    /// refused token dials again at once (the answer to [`ClientEvent::TokenNeeded`]).
    pub fn set_token(&mut self, token: impl Into<String>) {
        self.config.token = token.into();
        if matches!(self.link, Link::Rejected(RejectReason::Token(_))) {
            self.link = Link::Dialing;
            self.events.push_back(ClientEvent::WantsConnection);
        }
    }

    /// Starts a sync round now instead of waiting for the background timer.
    pub fn sync_now(&mut self, now: Now) {
        let now = self.observe(now);
        self.want_pull();
        // A person asked: dial even after a rejection (they may have upgraded or fixed the
        // token with `set_token`).
        if matches!(self.link, Link::Offline { .. } | Link::Rejected(_)) {
            // A person asked: dial at once, whatever the backoff or the breaker said.
            self.link = Link::Dialing;
            self.events.push_back(ClientEvent::WantsConnection);
        }
        self.drive(now);
        self.report_state();
    }

    /// Takes an input's wall reading, for the clock; returns its monotonic one, for timers.
    fn observe(&mut self, now: Now) -> MonoTime {
        self.wall = now.wall;
        now.mono
    }

    // ---- outputs ----

    /// The next message to send to the server.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.transmits.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    /// The next deadline and which timer it belongs to.
    pub fn poll_timeout(&self) -> Option<(MonoTime, ClientTimer)> {
        let link = match &self.link {
            Link::Offline { reconnect_at } => Some((*reconnect_at, ClientTimer::Reconnect)),
            Link::Connected(conn) => match conn.pending {
                Pending::Request { deadline, .. } => Some((deadline, ClientTimer::Response)),
                Pending::Backoff { until, .. } => Some((until, ClientTimer::Retry)),
                Pending::None | Pending::Answered { .. } => None,
            },
            Link::Dialing | Link::Rejected(_) => None,
        };
        let sync = self.link.session().map(|session| (session.sync_at, ClientTimer::Sync));
        match (link, sync) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    // ---- internals shared by the submodules ----

    fn next_batch(&mut self) -> BatchId {
        self.batch_counter = self.batch_counter.wrapping_add(1);
        BatchId((self.config.replica.0 << 32) ^ self.batch_counter)
    }

    /// Reports the state the input left the client in, if it changed.
    fn report_state(&mut self) {
        let state = self.sync_state();
        if self.reported_state != state {
            self.reported_state = state;
            self.events.push_back(ClientEvent::StateChanged(state));
        }
    }

    fn commit(&mut self, batch: Vec<crate::store::Mutation>) -> Result<(), StorageError> {
        match self.store.commit(batch) {
            Ok(()) => {
                self.metrics.commits += 1;
                Ok(())
            }
            Err(error) => {
                tracing::warn!(replica = self.config.replica.0, %error, "commit failed; reloading");
                self.events.push_back(ClientEvent::StorageFailed(error.clone()));
                self.reload()?;
                Err(error)
            }
        }
    }

    /// Rebuilds the in-memory state from the store after a failed commit, so memory never
    /// holds what the store does not.
    fn reload(&mut self) -> Result<(), StorageError> {
        let stored = self.store.load()?;
        self.meta = stored.client_meta.unwrap_or_default();
        if self.meta.next_seq == Seq(0) {
            self.meta.next_seq = Seq(1);
        }
        self.records = stored.records.into_iter().collect();
        adopt_version(&self.config, &mut self.meta, &mut self.records);
        self.outbox = stored.outbox.into_values().collect();
        self.quarantine = stored.quarantine;
        self.metrics.set_outbox(self.outbox.len());
        Ok(())
    }

    fn meta_mutation(&mut self) -> crate::store::Mutation {
        self.meta.hlc = self.clock.last();
        crate::store::Mutation::ClientMeta(self.meta.clone())
    }
}

/// Brings freshly loaded state to the app's schema version. After an upgrade (or a downgrade)
/// the records are migrated at once, so the app reads its own version's shape, and a resync is
/// queued: the server holds fields the old version could not show. Queued writes keep the
/// version they were written in. Returns whether stored records were migrated.
fn adopt_version(config: &ClientConfig, meta: &mut ClientMeta, records: &mut Records) -> bool {
    let version = config.schema_version;
    if meta.schema_version == 0 {
        meta.schema_version = version;
        meta.written_versions = vec![(meta.next_seq, version)];
        return false;
    }
    if meta.schema_version == version {
        return false;
    }
    let from = meta.schema_version;
    *records = records
        .iter()
        .map(|(key, state)| {
            (key.clone(), config.lineage.migrate_record(key, state, from, version).state)
        })
        .collect();
    meta.schema_version = version;
    meta.written_versions.push((meta.next_seq, version));
    meta.resync_needed = true;
    true
}
