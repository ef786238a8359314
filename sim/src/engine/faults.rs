//! Faults: partitions, offline periods, crashes and restarts, clock jumps, and the heal.

use driftsync_core::VersionPolicy;
use driftsync_core::{Client, SyncState};
use rand::RngCore;

use crate::engine::nodes::{Link, Slot, peer};
use crate::engine::store::SimStore;
use crate::engine::{Event, Phase, Sim};
use crate::outcome::Checker;
use crate::plan::{Fault, NodeId};

/// Counted among the faults fired: a client crashed while it resynced from a snapshot.
pub(crate) const CRASH_MID_RESYNC: &str = "crash (mid-resync)";
/// A crash that lands after an input's commit and drops what the input meant to send.
pub(crate) const CRASH_BETWEEN_COMMIT_AND_SEND: &str = "crash (between commit and send)";
/// The server collected tombstones while some client was offline.
pub(crate) const TOMBSTONE_COLLECTED_WHILE_OFFLINE: &str = "tombstone collected (a client offline)";
/// Counted among the faults fired: the server restarted holding quarantined ops.
pub(crate) const RESTART_HOLDING_QUARANTINE: &str = "restart (server holding quarantined ops)";

/// How long an armed crash waits for an input to land after before it lands anyway.
const CRASH_FALLBACK_MS: u64 = 1_000;

impl Sim<'_> {
    pub(super) fn fault(&mut self, index: usize) {
        let plan = self.plan;
        let fault = &plan.faults[index].fault;
        self.history.fired(fault_name(fault));
        match fault {
            Fault::PartitionStart { id, kind, side_a, side_b } => {
                self.network.partition(*id, *kind, side_a, side_b);
            }
            Fault::PartitionEnd { id } => self.network.heal_partition(*id),
            Fault::Offline { client } => self.go_offline(client_index(*client)),
            Fault::Online { client } => self.go_online(client_index(*client)),
            Fault::Crash { node } => {
                // The crash lands right after the node's next input: after its commit, before
                // the messages that input produced.
                self.arm_crash(*node);
                self.queue
                    .push(self.now_ms + CRASH_FALLBACK_MS, Event::CrashFallback { node: *node });
            }
            Fault::Restart { node } => self.restart(*node),
            Fault::ClockJump { node, delta_ms } => self.clocks[node.0 as usize].jump(*delta_ms),
            Fault::ServerVersions { newest, writable_from, readable_from } => {
                let policy = VersionPolicy {
                    newest: *newest,
                    writable_from: *writable_from,
                    readable_from: *readable_from,
                };
                self.redeploy_server(policy);
            }
            Fault::Upgrade { client, version } => {
                self.upgrade_client(client_index(*client), *version);
            }
            Fault::CommitFailures { node, commits } => self.fail_commits(*node, *commits),
        }
    }

    /// Restarts the server serving other schema versions (a crashed one picks them up when
    /// it restarts). Stored data is untouched: that is what makes a rollback lose nothing.
    fn redeploy_server(&mut self, policy: VersionPolicy) {
        policy.check(&self.server.config.lineage).expect("validated: the policy fits the lineage");
        self.server.config.policy = policy;
        if self.server.slot.is_up() {
            self.crash_server_now();
            self.restart(NodeId::SERVER);
        }
    }

    /// Installs another app version on a client: it restarts from its store (a crashed one
    /// picks the version up when it restarts).
    fn upgrade_client(&mut self, index: usize, version: u32) {
        if self.clients[index].config.schema_version == version {
            return;
        }
        self.clients[index].config.schema_version = version;
        if self.clients[index].slot.is_up() {
            self.crash_client_now(index);
        }
        let node = NodeId::client(index as u32 + 1);
        if let Slot::Down(store) = &mut self.clients[index].slot {
            *store = self.tamper.on_upgrade(node, std::mem::take(store));
        }
        self.restart(node);
    }

    /// Makes the node's next commits fail, if it is up (a down node has no disk to fail).
    fn fail_commits(&mut self, node: NodeId, commits: u32) {
        let store = match node.is_server() {
            true => self.server.slot.up().map(|s| s.store_mut()),
            false => self.clients[client_index(node)].slot.up().map(|c| c.store_mut()),
        };
        if let Some(store) = store {
            store.fail_next_commits(commits);
        }
    }

    pub(super) fn crash_fallback(&mut self, node: NodeId) {
        if node.is_server() {
            if self.server.crash_armed {
                self.crash_server_now();
            }
        } else if self.clients[client_index(node)].crash_armed {
            self.crash_client_now(client_index(node));
        }
    }

    pub(super) fn heal(&mut self) {
        self.phase = Phase::Healing;
        self.network.heal();
        self.restart(NodeId::SERVER);
        let policy = self.server.config.policy;
        for index in 0..self.clients.len() {
            self.restart(NodeId::client(index as u32 + 1));
            // A client the server no longer lets write gets the update that lets it sync.
            let version = self.clients[index].config.schema_version;
            if !(policy.writable_from..=policy.newest).contains(&version) {
                self.upgrade_client(index, policy.newest);
            }
            if self.tamper.stays_offline_after_heal(NodeId::client(index as u32 + 1)) {
                self.go_offline(index);
            } else if !self.clients[index].online {
                self.go_online(index);
            }
        }
        self.queue.push(self.now_ms, Event::Probe);
    }

    fn arm_crash(&mut self, node: NodeId) {
        if node.is_server() {
            self.server.crash_armed = self.server.slot.is_up();
        } else {
            let state = &mut self.clients[client_index(node)];
            state.crash_armed = state.slot.is_up();
        }
    }

    fn go_offline(&mut self, index: usize) {
        let node = NodeId::client(index as u32 + 1);
        self.clients[index].online = false;
        match self.clients[index].link {
            Link::Up { epoch } => {
                self.clients[index].link = Link::Down;
                self.with_server(|server, now| server.disconnected(now, peer(node, epoch)));
                self.with_client(index, |client, now| client.disconnected(now));
            }
            Link::Dialing => {
                self.clients[index].link = Link::Down;
                self.with_client(index, |client, now| client.disconnected(now));
            }
            Link::Down => {}
        }
    }

    /// The network is back for this client. It reconnects when its own backoff says so: that
    /// jitter, not a signal from the host, is what keeps a herd of returning clients from
    /// dialling in the same instant.
    fn go_online(&mut self, index: usize) {
        self.clients[index].online = true;
    }

    pub(super) fn crash_client_now(&mut self, index: usize) {
        let node = NodeId::client(index as u32 + 1);
        let state = &mut self.clients[index];
        state.crash_armed = false;
        self.check_all(node);
        let state = &mut self.clients[index];
        let slot = std::mem::replace(&mut state.slot, Slot::Down(SimStore::default()));
        let Slot::Up(client) = slot else {
            state.slot = slot;
            return;
        };
        self.history.absorb_crashed(node, client.metrics());
        if client.sync_state() == SyncState::Resyncing {
            self.history.fired(CRASH_MID_RESYNC);
        }
        let state = &mut self.clients[index];
        let store = client.into_store().after_crash();
        let durable = store.crashed_image().client_meta.clone().unwrap_or_default();
        let cursor_seen = state.cursor_seen;
        state.slot = Slot::Down(store);
        state.timer.reschedule(None);
        // The clock may legitimately lose uncommitted ticks; the cursor never may.
        state.hlc_seen = durable.hlc;
        let link = std::mem::replace(&mut state.link, Link::Down);
        if durable.cursor < cursor_seen {
            let detail = format!(
                "cursor went from {} back to {} across a crash",
                cursor_seen.0, durable.cursor.0
            );
            self.fail_at_event(Checker::Monotonic, Some(node.to_string()), None, detail);
        }
        if let Link::Up { epoch } = link {
            self.with_server(|server, now| server.disconnected(now, peer(node, epoch)));
        }
    }

    pub(super) fn crash_server_now(&mut self) {
        self.server.crash_armed = false;
        self.check_all(NodeId::SERVER);
        let slot = std::mem::replace(&mut self.server.slot, Slot::Down(SimStore::default()));
        let Slot::Up(server) = slot else {
            self.server.slot = slot;
            return;
        };
        self.history.absorb_crashed(NodeId::SERVER, server.metrics());
        let store = server.into_store().after_crash();
        self.server.slot = Slot::Down(store);
        self.server.timer.reschedule(None);
        for index in 0..self.clients.len() {
            if let Link::Up { .. } = self.clients[index].link {
                self.clients[index].link = Link::Down;
                self.with_client(index, |client, now| client.disconnected(now));
            }
        }
    }

    /// Restarts a crashed node from its store (a crash still armed lands first).
    fn restart(&mut self, node: NodeId) {
        let now = self.now_of(node);
        if node.is_server() {
            if self.server.crash_armed {
                self.crash_server_now();
            }
            if self.server.slot.is_up() {
                return;
            }
            let vacant = Slot::Down(SimStore::default());
            let Slot::Down(store) = std::mem::replace(&mut self.server.slot, vacant) else {
                unreachable!("checked above that the server is down");
            };
            let store = self.tamper.on_restart(node, store);
            let config = self.server.config.clone();
            let server = super::setup::start_server(config, store, now, &*self.tamper);
            if !server.quarantine().is_empty() {
                self.history.fired(RESTART_HOLDING_QUARANTINE);
            }
            self.server.slot = Slot::Up(server);
            self.checks.server_restarted();
            self.with_server(|_, _| ());
            return;
        }
        let index = client_index(node);
        if self.clients[index].crash_armed {
            self.crash_client_now(index);
        }
        let state = &mut self.clients[index];
        if state.slot.is_up() {
            return;
        }
        let Slot::Down(store) = std::mem::replace(&mut state.slot, Slot::Down(SimStore::default()))
        else {
            unreachable!("checked above that the client is down");
        };
        let store = self.tamper.on_restart(node, store);
        let seed = self.tamper.jitter_seed(self.node_seeds.next_u64());
        let client = Client::new(state.config.clone(), store, seed, now).expect("the store loads");
        state.slot = Slot::Up(client);
        self.with_client(index, |_, _| ());
    }
}

fn client_index(node: NodeId) -> usize {
    debug_assert!(!node.is_server(), "offline periods and client indexes are for clients");
    node.0 as usize - 1
}

fn fault_name(fault: &Fault) -> &'static str {
    match fault {
        Fault::PartitionStart { .. } => "partition",
        Fault::PartitionEnd { .. } => "partition-end",
        Fault::Offline { .. } => "offline",
        Fault::Online { .. } => "online",
        Fault::Crash { .. } => "crash",
        Fault::Restart { .. } => "restart",
        Fault::ClockJump { .. } => "clock-jump",
        Fault::ServerVersions { .. } => "server-versions",
        Fault::Upgrade { .. } => "upgrade",
        Fault::CommitFailures { .. } => "commit-failure",
    }
}
