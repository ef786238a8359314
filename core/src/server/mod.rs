//! The sync server: the authoritative op log, the merged records, and one session per peer.
//!
//! Methods are grouped as for the client: construction, getters, inputs, outputs. The server
//! acknowledges a push only after the store has committed it, and serves pulls from its log;
//! a periodic collection pass evicts long-silent clients, compacts the log behind every
//! client's cursor, and forgets tombstones once no client can need them and their retention
//! window has passed (see [`gc`](self) and the crate docs on deletes).

mod forgotten;
mod gc;
mod invariants;
mod push;
mod session;

use std::borrow::Cow;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use bytes::Bytes;

use crate::chain::{Link, LogEntry};
use crate::error::{StartError, StorageError};
use crate::event::ServerEvent;
use crate::hlc::{HlcClock, Stamp};
use crate::ids::{LogPos, PeerId, RecordKey, ReplicaId};
use crate::merge::{RecordView, Records};
use crate::metrics::Metrics;
use crate::op::{Op, OpBody};
use crate::persist::{Registration, ServerMeta};
use crate::protocol::{Compression, Limits, Packing};
use crate::quarantine::QuarantinedOp;
use crate::schema::{LineageError, Schema, SchemaLineage, VersionPolicy};
use crate::store::{MemoryStore, Mutation, Store};
use crate::time::{MonoTime, Now, WallTime};
use forgotten::Forgotten;
use session::Session;

/// How a server behaves.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Every schema version the server knows. It stores ops and records in the latest, and
    /// migrates pushes up from, and pulls down to, each client's negotiated version.
    pub lineage: Arc<SchemaLineage>,
    /// Which versions are served read-write, read-only, or refused. Lowering `newest` rolls a
    /// migration back without touching stored data: clients negotiate the older version and
    /// hold back writes it cannot express.
    pub policy: VersionPolicy,
    /// The keys a `Hello`'s token must be signed with (see [`crate::auth`]); `None` admits
    /// everyone, for tests and loopback development.
    pub keys: Option<crate::auth::Keyring>,
    pub pull_batch_ops_max: u32,
    pub snapshot_page_records_max: u32,
    /// How often tombstones are collected and the log compacted.
    pub gc_interval_ms: u64,
    /// A client silent this long (by the server's wall clock) no longer holds back collection;
    /// when it returns it resyncs from a snapshot.
    pub client_eviction_ms: u64,
    /// How long past its own stamp (by the server's wall clock) a tombstone is kept, and so
    /// how late an op older than it may arrive and still be hidden by it exactly. At least
    /// `client_eviction_ms`: a shorter setting is raised to it (see
    /// [`ServerConfig::retention_ms`]).
    pub tombstone_retention_ms: u64,
    /// How long (by the server's wall clock) the audit trail keeps an applied op's entry
    /// (see [`crate::audit`]); `None` keeps no audit trail.
    pub audit_retention_ms: Option<u64>,
    pub clock_ahead_ms_max: u64,
    /// The codecs the server compresses with, preferred first, for clients that offer one;
    /// empty sends everything plain.
    pub compression: Vec<Compression>,
    /// Messages shorter than this, plain, are never compressed.
    pub compress_bytes_min: usize,
    pub limits: Limits,
}

impl ServerConfig {
    /// A server of one schema version.
    pub fn new(schema: Schema) -> ServerConfig {
        let policy = VersionPolicy::only(schema.version);
        ServerConfig::build(Arc::new(SchemaLineage::new(schema)), policy)
    }

    /// A server of several versions; fails if the policy serves a version the lineage lacks
    /// or cannot migrate its stored data down to.
    pub fn with_lineage(
        lineage: Arc<SchemaLineage>,
        policy: VersionPolicy,
    ) -> Result<ServerConfig, LineageError> {
        policy.check(&lineage)?;
        Ok(ServerConfig::build(lineage, policy))
    }

    /// The schema data is stored in: the lineage's latest.
    pub fn schema(&self) -> &Schema {
        self.lineage.latest_schema()
    }

    /// The tombstone retention window in force: never shorter than the eviction window, so
    /// that a client the server still waits for can never find a delete it predates forgotten.
    pub fn retention_ms(&self) -> u64 {
        self.tombstone_retention_ms.max(self.client_eviction_ms)
    }

    fn build(lineage: Arc<SchemaLineage>, policy: VersionPolicy) -> ServerConfig {
        ServerConfig {
            lineage,
            policy,
            keys: None,
            pull_batch_ops_max: 1_024,
            snapshot_page_records_max: 256,
            gc_interval_ms: 30_000,
            client_eviction_ms: 24 * 3_600_000,
            tombstone_retention_ms: 7 * 24 * 3_600_000,
            audit_retention_ms: None,
            clock_ahead_ms_max: 60_000,
            compression: Compression::ALL.to_vec(),
            // About eight small ops: below it LZ4 saves a few dozen bytes at best.
            compress_bytes_min: 1_024,
            limits: Limits::default(),
        }
    }
}

/// A message for the host to deliver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    pub to: PeerId,
    pub payload: Bytes,
}

/// The server's only timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ServerTimer {
    /// Evict silent clients, collect tombstones, compact the log.
    Collect,
}

/// The server state machine. Drive it as the crate docs describe.
#[derive(Debug)]
pub struct Server<S: Store = MemoryStore> {
    config: ServerConfig,
    store: S,
    clock: HlcClock,
    wall: WallTime,
    records: Records,
    /// Entries `(compacted_through, head]`, oldest first.
    log: VecDeque<Op>,
    /// Each held log entry's link in the hash chain, beside `log`.
    links: VecDeque<Link>,
    meta: ServerMeta,
    registrations: BTreeMap<ReplicaId, Registration>,
    /// Where each record's latest delete sits in the log, for collection.
    tombstone_pos: BTreeMap<RecordKey, LogPos>,
    /// What the server still knows of the deletes it has forgotten.
    forgotten: Forgotten,
    /// Records re-created over a forgotten delete, each with the bound of that moment (see
    /// [`Server::recreated_over`]).
    recreated_over: BTreeMap<RecordKey, Stamp>,
    sessions: BTreeMap<PeerId, Session>,
    quarantine: Vec<QuarantinedOp>,
    collect_at: MonoTime,
    transmits: VecDeque<Transmit>,
    events: VecDeque<ServerEvent>,
    metrics: Metrics,
    #[cfg(feature = "testing")]
    planted: Option<crate::testing::PlantedBug>,
}

impl<S: Store> Server<S> {
    /// Starts (or restarts) a server from whatever `store` holds.
    pub fn new(config: ServerConfig, store: S, now: Now) -> Result<Server<S>, StartError> {
        let mut store = store;
        let stored = store.load()?;
        let mut meta = stored.server_meta.unwrap_or_default();
        // Before anything is served: a log altered outside the server must not reach a client.
        let entries = stored.log.iter().map(|(pos, entry)| (*pos, entry));
        crate::chain::verify(meta.compacted_through, meta.chain_base, entries)
            .map_err(StartError::Tampered)?;
        let held_through = stored.log.last_key_value().map_or(meta.compacted_through, |e| *e.0);
        crate::chain::check_head(held_through, meta.head).map_err(StartError::Tampered)?;
        let (mut log, mut links) = split_log(stored.log);
        let mut records: Records = stored.records.into_iter().collect();
        let mut held = HeldLog { log: &mut log, links: &mut links };
        upgrade_stored(&config.lineage, &mut store, &mut meta, &mut records, &mut held)?;
        let tombstone_pos = tombstone_positions(&records, &log, meta.compacted_through);
        Ok(Server {
            clock: HlcClock::new(meta.hlc, config.clock_ahead_ms_max),
            wall: now.wall,
            collect_at: now.mono.plus_ms(config.gc_interval_ms),
            config,
            store,
            records,
            log,
            links,
            meta,
            registrations: stored.registrations,
            tombstone_pos,
            forgotten: Forgotten::new(stored.forgotten),
            recreated_over: stored.recreated_over,
            sessions: BTreeMap::new(),
            quarantine: stored.quarantine,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            metrics: Metrics::default(),
            #[cfg(feature = "testing")]
            planted: None,
        })
    }

    // ---- getters ----

    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// Every live record, as an application sees it.
    pub fn view(&self) -> BTreeMap<RecordKey, RecordView> {
        self.records.view()
    }

    pub fn records(&self) -> &Records {
        &self.records
    }

    /// Every live record as the app of schema `version` would read it: migrated down from the
    /// stored version, deprecated fields hidden, absent fields read as their default. `None`
    /// for a version the lineage lacks.
    pub fn view_as(&self, version: u32) -> Option<BTreeMap<RecordKey, RecordView>> {
        let lineage = &self.config.lineage;
        let schema = lineage.schema(version)?;
        let latest = lineage.latest();
        let view = self.records.iter().filter_map(|(key, state)| {
            let view = if version == latest {
                state.view()?
            } else {
                lineage.migrate_record(key, state, latest, version).state.view()?
            };
            Some((key.clone(), schema.present(&key.collection, view)))
        });
        Some(view.collect())
    }

    pub fn head(&self) -> LogPos {
        self.meta.head
    }

    pub fn meta(&self) -> &ServerMeta {
        &self.meta
    }

    pub fn registrations(&self) -> &BTreeMap<ReplicaId, Registration> {
        &self.registrations
    }

    pub fn quarantine(&self) -> &[QuarantinedOp] {
        &self.quarantine
    }

    /// The newest forgotten delete that may have been `key`'s (see `forgotten.rs`): an op on
    /// `key` at or below it that finds no record is quarantined as stale.
    pub fn forgotten_through(&self, key: &RecordKey) -> Option<Stamp> {
        self.forgotten.through(key)
    }

    /// Whether the server has forgotten any delete yet (collected its tombstone past the
    /// retention window): until then no op can be quarantined as stale.
    pub fn has_forgotten_deletes(&self) -> bool {
        !self.forgotten.is_empty()
    }

    /// For a record re-created while a forgotten delete may have been its own: that delete's
    /// bound then, at or below which ops on the record are quarantined as stale (a replica that
    /// still holds the tombstone would hide them).
    pub fn recreated_over(&self, key: &RecordKey) -> Option<Stamp> {
        self.recreated_over.get(key).copied()
    }

    /// The hash chain's link at `pos`, which must be held or the compaction point.
    pub(crate) fn link_at(&self, pos: LogPos) -> Link {
        match pos.0.checked_sub(self.meta.compacted_through.0 + 1) {
            Some(offset) => self.links.get(offset as usize).copied().unwrap_or_default(),
            None => self.meta.chain_base,
        }
    }

    /// The link at the head of the log.
    pub fn head_link(&self) -> Link {
        self.link_at(self.meta.head)
    }

    /// Log entries still held (not compacted), oldest first.
    pub fn log(&self) -> impl Iterator<Item = &Op> {
        self.log.iter()
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
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

    /// A peer connected; it must say Hello before anything else.
    pub fn connected(&mut self, now: Now, peer: PeerId) {
        self.observe(now);
        self.sessions.insert(peer, Session::default());
    }

    pub fn disconnected(&mut self, now: Now, peer: PeerId) {
        self.observe(now);
        if let Some(session) = self.sessions.remove(&peer) {
            self.events.push_back(ServerEvent::ClientLeft { peer, client: session.client() });
        }
    }

    /// Handles bytes from a peer.
    pub fn handle_message(&mut self, now: Now, peer: PeerId, bytes: &[u8]) {
        self.observe(now);
        match crate::protocol::decode_sized(bytes, &self.config.limits) {
            Ok(decoded) => {
                self.metrics.received(decoded.wire_bytes, decoded.plain_bytes);
                self.on_message(peer, decoded.message)
            }
            Err(error) => {
                self.metrics.messages_malformed += 1;
                tracing::warn!(peer = peer.0, %error, "dropping malformed message");
                self.events.push_back(ServerEvent::Malformed { peer, error });
            }
        }
    }

    pub fn handle_timeout(&mut self, now: Now) {
        let now = self.observe(now);
        if now >= self.collect_at {
            self.collect_at = now.plus_ms(self.config.gc_interval_ms);
            self.collect();
        }
    }

    /// Takes an input's wall reading, for the clock and the retention windows; returns its
    /// monotonic one, for the collection timer.
    fn observe(&mut self, now: Now) -> MonoTime {
        self.wall = now.wall;
        now.mono
    }

    // ---- outputs ----

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.events.pop_front()
    }

    pub fn poll_timeout(&self) -> Option<(MonoTime, ServerTimer)> {
        Some((self.collect_at, ServerTimer::Collect))
    }

    /// Makes this server carry a planted bug (see [`crate::testing`]).
    #[cfg(feature = "testing")]
    pub fn plant(&mut self, bug: crate::testing::PlantedBug) {
        self.planted = Some(bug);
    }

    // ---- internals shared by the submodules ----

    /// Whether a test planted `bug`; always false without the `testing` feature.
    fn planted(&self, bug: crate::testing::PlantedBug) -> bool {
        #[cfg(feature = "testing")]
        return self.planted == Some(bug);
        #[cfg(not(feature = "testing"))]
        {
            let _ = bug;
            false
        }
    }

    fn commit(&mut self, batch: Vec<crate::store::Mutation>) -> Result<(), StorageError> {
        match self.store.commit(batch) {
            Ok(()) => {
                self.metrics.commits += 1;
                Ok(())
            }
            Err(error) => {
                tracing::warn!(%error, "commit failed; reloading");
                self.events.push_back(ServerEvent::StorageFailed(error.clone()));
                self.reload()?;
                Err(error)
            }
        }
    }

    /// Rebuilds memory from the store after a failed commit, so memory never holds what the
    /// store does not. Sessions survive; their next requests see the reloaded state.
    fn reload(&mut self) -> Result<(), StorageError> {
        let stored = self.store.load()?;
        self.meta = stored.server_meta.unwrap_or_default();
        (self.log, self.links) = split_log(stored.log);
        self.records = stored.records.into_iter().collect();
        self.registrations = stored.registrations;
        self.forgotten = Forgotten::new(stored.forgotten);
        self.recreated_over = stored.recreated_over;
        self.quarantine = stored.quarantine;
        self.tombstone_pos =
            tombstone_positions(&self.records, &self.log, self.meta.compacted_through);
        Ok(())
    }

    fn meta_mutation(&mut self) -> crate::store::Mutation {
        self.meta.hlc = self.clock.last();
        crate::store::Mutation::ServerMeta(self.meta.clone())
    }

    /// Encodes a message for a peer, compressed if its session negotiated a codec.
    fn send(&mut self, to: PeerId, message: &crate::protocol::Message) {
        let compression = self.sessions.get(&to).and_then(|session| session.compression());
        let packing = Packing { compression, threshold_bytes: self.config.compress_bytes_min };
        let encoded = crate::protocol::encode_packed(message, packing);
        self.metrics.sent(encoded.bytes.len(), encoded.plain_bytes);
        self.transmits.push_back(Transmit { to, payload: encoded.bytes });
    }
}

/// The held log and its links, which change together.
struct HeldLog<'a> {
    log: &'a mut VecDeque<Op>,
    links: &'a mut VecDeque<Link>,
}

/// The stored log as the server holds it: ops and their links side by side.
fn split_log(stored: BTreeMap<LogPos, LogEntry>) -> (VecDeque<Op>, VecDeque<Link>) {
    stored.into_values().map(|entry| (entry.op, entry.link)).unzip()
}

/// Brings stored data to the lineage's latest version: a new release of the server migrates
/// every record and log entry up once, in one commit, before it serves anything. A store newer
/// than this build is refused: a rollback lowers [`VersionPolicy::newest`] on the newer build
/// instead, which keeps the data readable.
fn upgrade_stored<S: Store>(
    lineage: &SchemaLineage,
    store: &mut S,
    meta: &mut ServerMeta,
    records: &mut Records,
    held: &mut HeldLog<'_>,
) -> Result<(), StartError> {
    let latest = lineage.latest();
    let from = meta.schema_version;
    if from == latest {
        return Ok(());
    }
    if from > latest {
        return Err(StartError::StoreNewer { stored: from, first: lineage.first(), latest });
    }
    let mut mutations = Vec::new();
    if from != 0 {
        *records = records
            .iter()
            .map(|(key, state)| {
                (key.clone(), lineage.migrate_record(key, state, from, latest).state)
            })
            .collect();
        mutations.extend(
            records
                .iter()
                .map(|(k, s)| Mutation::Record { key: k.clone(), state: Some(s.clone()) }),
        );
        // Rewriting the log in the new version rebuilds its chain, in a new epoch that
        // clients adopt rather than report as a rewritten history.
        meta.chain_epoch += 1;
        let mut link = meta.chain_base;
        for (offset, (op, stored_link)) in
            held.log.iter_mut().zip(held.links.iter_mut()).enumerate()
        {
            // An entry a converter refuses stays as written: it was valid when it was applied,
            // and its record state above already dropped what cannot be expressed.
            if let Ok(up) = lineage.migrate_op(op, from, latest)
                && let Cow::Owned(migrated) = up.op
            {
                *op = migrated;
            }
            let pos = LogPos(meta.compacted_through.0 + offset as u64 + 1);
            link = link.next(pos, op);
            *stored_link = link;
            mutations.push(Mutation::LogAppend { pos, entry: LogEntry { op: op.clone(), link } });
        }
        tracing::info!(from, to = latest, records = records.len(), "migrated stored data");
    }
    meta.schema_version = latest;
    mutations.push(Mutation::ServerMeta(meta.clone()));
    Ok(store.commit(mutations)?)
}

/// Rebuilds where each tombstone sits. A delete that was compacted away is at or before the
/// compaction point, which is the conservative position to assume.
fn tombstone_positions(
    records: &Records,
    log: &VecDeque<Op>,
    compacted_through: LogPos,
) -> BTreeMap<RecordKey, LogPos> {
    let mut positions: BTreeMap<RecordKey, LogPos> = records
        .iter()
        .filter(|(_, state)| state.deleted.is_some())
        .map(|(key, _)| (key.clone(), compacted_through))
        .collect();
    for (offset, op) in log.iter().enumerate() {
        if matches!(op.body, OpBody::Delete) {
            positions.insert(op.key.clone(), LogPos(compacted_through.0 + offset as u64 + 1));
        }
    }
    positions
}
