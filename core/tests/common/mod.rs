//! A small in-process world for the integration tests: one server and a few clients wired by a
//! message bus that the test controls (offline periods, dropped messages, crashes, skewed
//! clocks). Everything is synchronous and deterministic.

#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;
use std::sync::Arc;

use driftsync_core::testing::wire::{Message, decode};
use driftsync_core::{
    Client, ClientConfig, ClientEvent, CollectionSchema, FieldSchema, FieldType, MemoryStore,
    MergePolicy, MonoTime, Now, OpId, PeerId, RecordKey, ReplicaId, Schema, Server, ServerConfig,
    ServerEvent, Value, WallTime, WriteError,
};
use driftsync_core::{SchemaLineage, VersionPolicy};

/// The wall clock every node starts from, unless skewed.
pub const WALL_EPOCH_MS: u64 = 1_700_000_000_000;
/// How far a step moves time.
pub const STEP_MS: u64 = 10;

/// The schema every test world uses: one field per merge policy.
pub fn schema() -> Schema {
    Schema::new(1).collection(
        "notes",
        CollectionSchema::default()
            .field(
                "title",
                FieldSchema::new(FieldType::Str, MergePolicy::LastWriterWins).required(),
            )
            .field("body", FieldSchema::new(FieldType::Str, MergePolicy::LastWriterWins))
            .field("likes", FieldSchema::new(FieldType::I64, MergePolicy::Counter))
            .field("high", FieldSchema::new(FieldType::I64, MergePolicy::Max))
            .field("low", FieldSchema::new(FieldType::I64, MergePolicy::Min))
            .field("tags", FieldSchema::new(FieldType::Str, MergePolicy::MultiValue)),
    )
}

pub fn key(record: &str) -> RecordKey {
    RecordKey::new("notes", record)
}

pub fn text(s: &str) -> Value {
    Value::Str(s.to_owned())
}

/// `fields(&[("title", text("a"))])`
pub fn fields(pairs: &[(&str, Value)]) -> BTreeMap<String, Value> {
    pairs.iter().map(|(name, value)| ((*name).to_owned(), value.clone())).collect()
}

/// Which way a message travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    ToServer,
    ToClient,
}

/// What happens to a message a rule catches.
#[derive(Clone, Copy)]
enum Action {
    Drop,
    Tamper(fn(&mut Message)),
}

struct Rule {
    direction: Direction,
    client: usize,
    kind: &'static str,
    /// Matching messages let through before the rule starts acting.
    skip: u32,
    remaining: u32,
    action: Action,
}

pub struct World {
    pub now: MonoTime,
    pub server: Server,
    server_config: ServerConfig,
    clients: Vec<Client>,
    configs: Vec<ClientConfig>,
    online: Vec<bool>,
    wall_offset_ms: Vec<i64>,
    rules: Vec<Rule>,
    /// Every event each client reported, in order.
    pub client_events: Vec<Vec<ClientEvent>>,
    pub server_events: Vec<ServerEvent>,
    restarts: u64,
}

impl World {
    pub fn new(clients: usize) -> World {
        World::with(clients, |_| {}, |_| {})
    }

    /// A world whose configs the caller adjusts.
    pub fn with(
        clients: usize,
        server_tweak: impl FnOnce(&mut ServerConfig),
        mut client_tweak: impl FnMut(&mut ClientConfig),
    ) -> World {
        let mut server_config = ServerConfig::new(schema());
        server_tweak(&mut server_config);
        let configs: Vec<ClientConfig> = (0..clients)
            .map(|i| {
                let mut config = ClientConfig::new(ReplicaId(i as u64 + 1), schema());
                client_tweak(&mut config);
                config
            })
            .collect();
        World::from_configs(server_config, configs)
    }

    /// A world of clients at their own versions of `lineage`, served under `policy`: client
    /// `i` runs the app of `versions[i]`.
    pub fn with_lineage(
        lineage: Arc<SchemaLineage>,
        policy: VersionPolicy,
        versions: &[u32],
    ) -> World {
        let server_config = ServerConfig::with_lineage(lineage.clone(), policy)
            .expect("the policy fits the lineage");
        let configs = versions
            .iter()
            .enumerate()
            .map(|(i, version)| client_config(i, &lineage, *version))
            .collect();
        World::from_configs(server_config, configs)
    }

    /// A world from complete configs; client `i` is peer `i + 1` and must be replica `i + 1`.
    pub fn from_configs(server_config: ServerConfig, configs: Vec<ClientConfig>) -> World {
        let now = MonoTime(0);
        let start = Now::new(now, WallTime(WALL_EPOCH_MS));
        let server =
            Server::new(server_config.clone(), MemoryStore::new(), start).expect("fresh store");
        let clients = configs
            .iter()
            .enumerate()
            .map(|(i, c)| {
                Client::new(c.clone(), MemoryStore::new(), i as u64, start).expect("fresh store")
            })
            .collect();
        World {
            now,
            server,
            server_config,
            clients,
            configs: configs.clone(),
            online: vec![true; configs.len()],
            wall_offset_ms: vec![0; configs.len()],
            rules: Vec::new(),
            client_events: vec![Vec::new(); configs.len()],
            server_events: Vec::new(),
            restarts: 0,
        }
    }

    /// Client `i`, driven at the world's instant on its own (maybe skewed) wall clock.
    pub fn client(&mut self, i: usize) -> ClientAt<'_> {
        let wall = self.wall(i);
        ClientAt { client: &mut self.clients[i], wall }
    }

    pub fn client_ref(&self, i: usize) -> &Client {
        &self.clients[i]
    }

    pub fn clients(&self) -> usize {
        self.clients.len()
    }

    /// Skews client `i`'s wall clock by `offset_ms`.
    pub fn skew(&mut self, i: usize, offset_ms: i64) {
        self.wall_offset_ms[i] = offset_ms;
    }

    fn wall(&self, i: usize) -> WallTime {
        WallTime((WALL_EPOCH_MS + self.now.0).saturating_add_signed(self.wall_offset_ms[i]))
    }

    /// Both of client `i`'s clock readings at the world's instant.
    fn client_now(&self, i: usize) -> Now {
        Now::new(self.now, self.wall(i))
    }

    /// Both of the server's clock readings at the world's instant (its clock is never skewed).
    fn server_now(&self) -> Now {
        Now::new(self.now, WallTime(WALL_EPOCH_MS + self.now.0))
    }

    pub fn go_offline(&mut self, i: usize) {
        self.online[i] = false;
        let now = self.now;
        self.client(i).disconnected(now);
        self.server.disconnected(self.server_now(), peer(i));
        self.drain();
    }

    pub fn go_online(&mut self, i: usize) {
        self.online[i] = true;
        let now = self.now;
        self.client(i).sync_now(now);
        self.drain();
    }

    /// Drops the next `count` messages of `kind` (see `Message::kind_name`) on client `i`'s link.
    pub fn drop_next(
        &mut self,
        direction: Direction,
        client: usize,
        kind: &'static str,
        count: u32,
    ) {
        self.rules.push(Rule {
            direction,
            client,
            kind,
            skip: 0,
            remaining: count,
            action: Action::Drop,
        });
    }

    /// Lets `skip` messages of `kind` through, then drops the next one.
    pub fn drop_after(
        &mut self,
        direction: Direction,
        client: usize,
        kind: &'static str,
        skip: u32,
    ) {
        self.rules.push(Rule { direction, client, kind, skip, remaining: 1, action: Action::Drop });
    }

    /// Lifts every drop and tamper rule still in force.
    pub fn stop_dropping(&mut self) {
        self.rules.clear();
    }

    /// Rewrites the next message of `kind` in transit (a damaged or forged message).
    pub fn tamper_next(
        &mut self,
        direction: Direction,
        client: usize,
        kind: &'static str,
        f: fn(&mut Message),
    ) {
        let action = Action::Tamper(f);
        self.rules.push(Rule { direction, client, kind, skip: 0, remaining: 1, action });
    }

    /// Restarts client `i` from its store: whatever it had not committed is gone.
    pub fn crash_client(&mut self, i: usize) {
        let now = self.client_now(i);
        let store = self.clients.remove(i).into_store();
        self.restarts += 1;
        let restarted = Client::new(self.configs[i].clone(), store, 1_000 + self.restarts, now)
            .expect("memory store loads");
        self.clients.insert(i, restarted);
        self.server.disconnected(self.server_now(), peer(i));
        self.drain();
    }

    /// Restarts client `i` from its store under a new config (an app upgrade or downgrade).
    pub fn restart_client_with(&mut self, i: usize, config: ClientConfig) {
        self.configs[i] = config;
        self.crash_client(i);
    }

    /// Restarts the server from its store under a new config (a new policy: a rollout or a
    /// rollback); every client's connection drops.
    pub fn restart_server_with(&mut self, config: ServerConfig) {
        self.server_config = config;
        self.crash_server();
    }

    /// Every client shows what the server shows to readers of the client's own version, and
    /// has nothing left to push.
    pub fn assert_converged_per_version(&self) {
        for (i, client) in self.clients.iter().enumerate() {
            let version = client.config().schema_version;
            let expected = self.server.view_as(version).expect("the client's version is known");
            assert_eq!(client.view(), expected, "client {i} (v{version}) diverges from the server");
            assert_eq!(client.outbox().count(), 0, "client {i} still has unacknowledged ops");
        }
    }

    /// Restarts the server from its store; every client's connection drops.
    pub fn crash_server(&mut self) {
        let now = self.now;
        let server_now = self.server_now();
        let fresh =
            Server::new(self.server_config.clone(), MemoryStore::new(), server_now).expect("fresh");
        // A fresh server stands in while the crashed one's store is moved out.
        let store = std::mem::replace(&mut self.server, fresh).into_store();
        self.server =
            Server::new(self.server_config.clone(), store, server_now).expect("memory store loads");
        for i in 0..self.clients.len() {
            self.client(i).disconnected(now);
        }
        self.drain();
    }

    /// Moves time forward by `ms`, firing timers and delivering messages every step.
    pub fn run_for(&mut self, ms: u64) {
        let end = self.now.plus_ms(ms);
        while self.now < end {
            self.now = self.now.plus_ms(STEP_MS);
            self.tick();
        }
    }

    /// Runs until every online client is idle with nothing left to pull; panics after ten
    /// simulated minutes, which is a liveness failure.
    pub fn settle(&mut self) {
        for _ in 0..(600_000 / STEP_MS) {
            self.now = self.now.plus_ms(STEP_MS);
            self.tick();
            let head = self.server.head();
            let settled = (0..self.clients.len()).all(|i| {
                !self.online[i] || (self.clients[i].is_idle() && self.clients[i].cursor() == head)
            });
            if settled {
                return;
            }
        }
        panic!("the world did not settle within ten simulated minutes");
    }

    /// Every client's visible state equals the server's, compared in full.
    pub fn assert_converged(&self) {
        let expected = self.server.view();
        for (i, client) in self.clients.iter().enumerate() {
            assert_eq!(client.view(), expected, "client {i} diverges from the server");
            assert_eq!(client.outbox().count(), 0, "client {i} still has unacknowledged ops");
        }
    }

    fn tick(&mut self) {
        let now = self.now;
        self.server.handle_timeout(self.server_now());
        for i in 0..self.clients.len() {
            self.client(i).handle_timeout(now);
        }
        self.drain();
    }

    /// Delivers messages and handles events until the bus is empty.
    pub fn drain(&mut self) {
        let now = self.now;
        for _ in 0..10_000 {
            let mut moved = false;
            for i in 0..self.clients.len() {
                while let Some(event) = self.clients[i].poll_event() {
                    if event == ClientEvent::CloseConnection {
                        self.server.disconnected(self.server_now(), peer(i));
                    }
                    if event == ClientEvent::WantsConnection {
                        if self.online[i] {
                            self.client(i).connected(now);
                            self.server.connected(self.server_now(), peer(i));
                        } else {
                            self.client(i).disconnected(now);
                        }
                    }
                    self.client_events[i].push(event);
                    moved = true;
                }
                while let Some(bytes) = self.clients[i].poll_transmit() {
                    moved = true;
                    if !self.online[i] {
                        continue;
                    }
                    if let Some(bytes) = self.intercept(Direction::ToServer, i, bytes.to_vec()) {
                        self.server.handle_message(self.server_now(), peer(i), &bytes);
                    }
                }
            }
            while let Some(event) = self.server.poll_event() {
                self.server_events.push(event);
                moved = true;
            }
            while let Some(transmit) = self.server.poll_transmit() {
                moved = true;
                let i = (transmit.to.0 - 1) as usize;
                if !self.online[i] {
                    continue;
                }
                if let Some(bytes) =
                    self.intercept(Direction::ToClient, i, transmit.payload.to_vec())
                {
                    self.client(i).handle_message(now, &bytes);
                }
            }
            if !moved {
                return self.assert_invariants();
            }
        }
        panic!("the message bus did not drain");
    }

    /// Every node keeps every invariant, its memory against its store included: checked each
    /// time the bus drains, so every test of the core also tests its invariants.
    pub fn assert_invariants(&self) {
        if let Err(violation) = self.server.check_all_invariants(self.server.store().committed()) {
            panic!("server: {violation}");
        }
        for (i, client) in self.clients.iter().enumerate() {
            if let Err(violation) = client.check_all_invariants(client.store().committed()) {
                panic!("client {i}: {violation}");
            }
        }
    }

    /// Applies the first matching rule: the bytes to deliver, or `None` to drop them.
    fn intercept(
        &mut self,
        direction: Direction,
        client: usize,
        bytes: Vec<u8>,
    ) -> Option<Vec<u8>> {
        let Ok(mut message) = decode(&bytes, &Default::default()) else {
            return Some(bytes);
        };
        let kind = message.kind_name();
        let rule = self.rules.iter_mut().find(|r| {
            r.direction == direction && r.client == client && r.kind == kind && r.remaining > 0
        });
        let Some(rule) = rule else {
            return Some(bytes);
        };
        if rule.skip > 0 {
            rule.skip -= 1;
            return Some(bytes);
        }
        rule.remaining -= 1;
        match rule.action {
            Action::Drop => None,
            Action::Tamper(f) => {
                f(&mut message);
                Some(driftsync_core::testing::wire::encode(&message).to_vec())
            }
        }
    }
}

pub fn peer(i: usize) -> PeerId {
    PeerId(i as u64 + 1)
}

/// The config of client `i` running the app of `version` of `lineage`.
pub fn client_config(i: usize, lineage: &Arc<SchemaLineage>, version: u32) -> ClientConfig {
    ClientConfig::with_lineage(ReplicaId(i as u64 + 1), lineage.clone(), version)
        .expect("the version is in the lineage")
}

/// A client driven at one instant: its commands and inputs take the world's monotonic time as
/// the tests write it and add the client's own wall reading, as a host would.
pub struct ClientAt<'w> {
    client: &'w mut Client,
    wall: WallTime,
}

impl ClientAt<'_> {
    fn at(&self, now: MonoTime) -> Now {
        Now::new(now, self.wall)
    }

    pub fn put(
        &mut self,
        now: MonoTime,
        key: RecordKey,
        fields: BTreeMap<String, Value>,
    ) -> Result<OpId, WriteError> {
        self.client.put(self.at(now), key, fields)
    }

    /// A put that says why, for the audit trail.
    pub fn put_because(
        &mut self,
        now: MonoTime,
        key: RecordKey,
        fields: BTreeMap<String, Value>,
        reason: &str,
    ) -> Result<OpId, WriteError> {
        let at = self.at(now);
        self.client.with_reason(reason, |client| client.put(at, key, fields))
    }

    pub fn update(
        &mut self,
        now: MonoTime,
        key: RecordKey,
        fields: BTreeMap<String, Value>,
    ) -> Result<OpId, WriteError> {
        self.client.update(self.at(now), key, fields)
    }

    pub fn delete(&mut self, now: MonoTime, key: RecordKey) -> Result<OpId, WriteError> {
        self.client.delete(self.at(now), key)
    }

    pub fn increment(
        &mut self,
        now: MonoTime,
        key: RecordKey,
        field: &str,
        delta: i64,
    ) -> Result<OpId, WriteError> {
        self.client.increment(self.at(now), key, field, delta)
    }

    pub fn resolve_conflict(
        &mut self,
        now: MonoTime,
        key: RecordKey,
        field: &str,
        value: Value,
    ) -> Result<OpId, WriteError> {
        self.client.resolve_conflict(self.at(now), key, field, value)
    }

    pub fn sync_now(&mut self, now: MonoTime) {
        self.client.sync_now(self.at(now));
    }

    pub fn connected(&mut self, now: MonoTime) {
        self.client.connected(self.at(now));
    }

    pub fn disconnected(&mut self, now: MonoTime) {
        self.client.disconnected(self.at(now));
    }

    pub fn handle_timeout(&mut self, now: MonoTime) {
        self.client.handle_timeout(self.at(now));
    }

    pub fn handle_message(&mut self, now: MonoTime, bytes: &[u8]) {
        self.client.handle_message(self.at(now), bytes);
    }
}

impl std::ops::Deref for ClientAt<'_> {
    type Target = Client;

    fn deref(&self) -> &Client {
        self.client
    }
}

impl std::ops::DerefMut for ClientAt<'_> {
    fn deref_mut(&mut self) -> &mut Client {
        self.client
    }
}

/// The signing keys of the test servers that require tokens.
pub fn test_keys() -> driftsync_core::auth::Keyring {
    let mut keys = driftsync_core::auth::Keyring::new();
    keys.insert("test", b"a test signing key of 32 bytes!!").expect("long enough");
    keys
}

/// A token for `replica`, valid until `valid_s` seconds after the test epoch, to everything.
pub fn token_for(replica: u64, valid_s: u64) -> String {
    token_scoped(replica, valid_s, &[], &["*"])
}

/// A token for `replica` with these read and write scopes.
pub fn token_scoped(replica: u64, valid_s: u64, read: &[&str], write: &[&str]) -> String {
    let claims = driftsync_core::auth::Claims {
        sub: format!("user-{replica}"),
        exp: WALL_EPOCH_MS / 1_000 + valid_s,
        nbf: None,
        replicas: vec![replica],
        read: read.iter().map(|s| (*s).to_owned()).collect(),
        write: write.iter().map(|s| (*s).to_owned()).collect(),
    };
    test_keys().issue("test", &claims).expect("the test key")
}
