//! The discrete-event engine: one server and N clients of driftsync-core, driven exactly as a
//! real host drives them (an input, then drain every output), over a seeded network.
//!
//! One run is single-threaded and a pure function of its [`Plan`]: events are ordered by
//! `(time, seq)`, every random decision comes from the seed's streams, and every event feeds the
//! trace digest. The phases are chaos (the plan's faults and writes), heal (every fault off,
//! everyone online and up), then running until quiescent or the liveness deadline; a last
//! stability round follows, then the checkers judge.

mod clock;
mod damage;
mod event;
mod faults;
mod hostile;
mod invalid;
mod invariants;
mod io;
mod network;
mod nodes;
mod observe;
mod queue;
mod setup;
mod store;
mod tamper;
mod tokens;
mod trace;
mod workload;

use std::collections::BTreeMap;
use std::sync::Arc;

use driftsync_core::SchemaLineage;
use driftsync_core::{MonoTime, Now, Server, SyncState, WallTime};
use rand_chacha::ChaCha8Rng;

pub(crate) use hostile::is_hostile_replica;
pub use network::NetworkStats;
pub use tamper::Sabotage;
pub use trace::TraceEntry;

use crate::check;
use crate::history::{Current, History};
use crate::outcome::{Checker, Failure, Outcome};
use crate::plan::{NodeId, Plan};
use crate::seed::{Seed, Stream, stream};
use crate::view::{ClientView, ReplicaView, ServerView, Snapshot, WorldView};
use clock::WallClock;
use event::Event;
use network::Network;
use nodes::{ClientNode, ServerNode, Slot};
use observe::Observer;
use queue::EventQueue;
use setup::{new_clients, server_config, start_server};
use store::SimStore;
use tamper::Tamper;
use trace::Trace;

/// How to run one plan.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Keep every event's hash and description (for `check-determinism`).
    pub record_trace: bool,
    pub sabotage: Option<Sabotage>,
    /// A bound on processed events; a run that needs more fails its liveness check.
    pub events_max: u64,
    /// Check every node's invariants after each of its inputs (on unless measuring what the
    /// checking costs).
    pub check_invariants: bool,
}

impl Default for RunOptions {
    fn default() -> RunOptions {
        RunOptions {
            record_trace: false,
            sabotage: None,
            events_max: 20_000_000,
            check_invariants: true,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Chaos,
    Healing,
    Stability { until_ms: u64 },
    Done,
}

/// How often the heal phase checks for convergence.
const PROBE_INTERVAL_MS: u64 = 250;
/// How long the stability round may take.
const STABILITY_MS_MAX: u64 = 60_000;

/// Runs one plan to the end and judges it.
pub fn run(plan: &Plan, options: &RunOptions) -> Outcome {
    let mut sim = Sim::new(plan, options);
    sim.run();
    sim.finish()
}

pub(crate) struct Sim<'p> {
    plan: &'p Plan,
    /// The app's schema lineage, as clients and the checkers know it.
    lineage: Arc<SchemaLineage>,
    options: RunOptions,
    /// The planted bug's hooks (no-ops unless the options name a sabotage).
    tamper: Box<dyn Tamper>,
    /// The plan's invalid payloads, corrupted into every push that carries one.
    invalid: invalid::InvalidPayloads,
    /// The plan's hostile peers, and what each has seen.
    adversaries: hostile::Adversaries,
    now_ms: u64,
    queue: EventQueue<Event>,
    network: Network,
    server: ServerNode,
    clients: Vec<ClientNode>,
    /// Indexed by node id; the server is entry 0.
    clocks: Vec<WallClock>,
    node_seeds: ChaCha8Rng,
    trace: Trace,
    /// What happened, for the checkers and the report: written here, never read to decide.
    history: History,
    /// Damaged messages a node refused (malformed, or failing a manifest), for
    /// `damage_refused`.
    damage_refusals_count: u64,
    failures: Vec<Failure>,
    phase: Phase,
    heal_at_ms: u64,
    converged_at_ms: Option<u64>,
    /// Views captured when the stability round starts.
    stability_baseline: Option<Snapshot>,
    /// Each client's count of pull batches applied when the stability round started.
    stability_pulls: Vec<u64>,
    /// Measures for the report; observes only, never steers.
    observer: Observer,
    /// Whether the server held each record the push being delivered writes, before it.
    held_before_push: BTreeMap<driftsync_core::RecordKey, bool>,
    /// The event being handled, to name it if an invariant breaks.
    current: Current,
    /// `oracle` and `no_resurrection` at every server commit.
    commit_watch: check::CommitWatch,
    /// An invariant broke: later checks are skipped.
    invariant_failed: bool,
    /// When each node's invariants are next checked in full.
    checks: invariants::Schedule,
}

impl<'p> Sim<'p> {
    fn new(plan: &'p Plan, options: &RunOptions) -> Sim<'p> {
        let params = &plan.params;
        let seed = Seed(plan.seed);
        let lineage = Arc::new(workload::run_lineage(params, false));
        let invalid = invalid::InvalidPayloads::new(&lineage);
        let tamper = tamper::hooks(options.sabotage);
        let forget = tamper.stores_forget_last_commit();
        let mut node_seeds = stream(seed, Stream::Nodes);
        let server_config = server_config(params, &lineage, &*tamper);
        let clocks: Vec<WallClock> =
            params.clocks.nodes.iter().map(|c| WallClock::new(*c)).collect();
        let start = |node: NodeId| Now::new(MonoTime(0), WallTime(clocks[node.0 as usize].read(0)));
        let server = start_server(
            server_config.clone(),
            SimStore::new(forget),
            start(NodeId::SERVER),
            &*tamper,
        );
        let clients = new_clients(params, &lineage, &mut node_seeds, &*tamper, start);
        let clocks_at_start = clocks[0].read(0);
        let mut sim = Sim {
            plan,
            lineage,
            options: options.clone(),
            tamper,
            invalid,
            adversaries: hostile::Adversaries::default(),
            now_ms: 0,
            queue: EventQueue::new(),
            network: Network::new(params.network.clone(), stream(seed, Stream::Delivery)),
            server: ServerNode {
                slot: Slot::Up(server),
                config: server_config,
                timer: Default::default(),
                crash_armed: false,
                head_seen: Default::default(),
                compacted_seen: Default::default(),
            },
            clients,
            clocks,
            node_seeds,
            trace: Trace::new(options.record_trace),
            history: History::new(params.clients as usize, clocks_at_start),
            damage_refusals_count: 0,
            failures: Vec::new(),
            phase: Phase::Chaos,
            heal_at_ms: params.chaos_ms(),
            converged_at_ms: None,
            stability_baseline: None,
            stability_pulls: Vec::new(),
            observer: Observer::new(params.clients as usize),
            held_before_push: Default::default(),
            current: Current::Start,
            commit_watch: check::CommitWatch::default(),
            invariant_failed: false,
            checks: invariants::Schedule::new(params.nodes_count() as usize),
        };
        sim.schedule_start();
        sim
    }

    /// Queues every planned write and fault, the heal, and each node's first timer.
    fn schedule_start(&mut self) {
        let plan = self.plan;
        for (index, write) in plan.workload.iter().enumerate() {
            self.queue.push(write.at_ms, Event::Write(index));
        }
        for (index, fault) in plan.faults.iter().enumerate() {
            self.queue.push(fault.at_ms, Event::Fault(index));
        }
        for (index, attack) in plan.attacks.iter().enumerate() {
            self.queue.push(attack.at_ms, Event::Attack(index));
        }
        self.queue.push(self.heal_at_ms, Event::Heal);
        self.reschedule_server_timer();
        for index in 0..self.clients.len() {
            self.reschedule_client_timer(index);
        }
    }

    fn run(&mut self) {
        let deadline_ms = self.heal_at_ms + self.plan.params.run.liveness_deadline_s * 1_000;
        while self.phase != Phase::Done {
            if self.trace.events() >= self.options.events_max {
                let detail = format!("event budget of {} exhausted", self.options.events_max);
                self.fail(Checker::Liveness, None, None, detail);
                break;
            }
            let Some((at_ms, event)) = self.queue.pop_until(deadline_ms) else {
                if self.phase == Phase::Healing {
                    self.now_ms = deadline_ms;
                    let (node, why) = self.first_unsettled().unzip();
                    let detail = format!(
                        "not converged {} s after the heal: {}",
                        self.plan.params.run.liveness_deadline_s,
                        why.unwrap_or_default()
                    );
                    self.fail(Checker::Liveness, node, None, detail);
                }
                break;
            };
            self.now_ms = at_ms;
            let step =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.handle(event)));
            if let Err(panic) = step {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_else(|| "a panic with no message".to_owned());
                self.fail(Checker::Panic, None, None, message);
                break;
            }
        }
    }

    fn handle(&mut self, event: Event) {
        self.current = event.current();
        self.trace_event(&event);
        match event {
            Event::Deliver { from, to, epoch, bytes, damaged } => {
                self.deliver(from, to, epoch, bytes, damaged)
            }
            Event::Timer { node, generation } => self.timer(node, generation),
            Event::Dial { client } => self.dial_completes(client),
            Event::Write(index) => self.write(index),
            Event::Fault(index) => self.fault(index),
            Event::CrashFallback { node } => self.crash_fallback(node),
            Event::Heal => self.heal(),
            Event::Probe => self.probe(),
            Event::Attack(index) => self.attack(index),
            Event::AttackMove { index, next } => self.attack_move(index, next),
            Event::TokenRefresh { client } => self.refresh_token(client),
        }
    }

    fn probe(&mut self) {
        match self.phase {
            Phase::Healing if self.settled() => {
                self.converged_at_ms = Some(self.now_ms);
                self.start_stability_round();
            }
            Phase::Stability { until_ms }
                if self.stability_round_done() || self.now_ms >= until_ms =>
            {
                self.phase = Phase::Done;
                return;
            }
            _ => {}
        }
        self.queue.push(self.now_ms + PROBE_INTERVAL_MS, Event::Probe);
    }

    /// Every client is up, in session and caught up: every op pushed, every log entry pulled,
    /// no resync pending. A periodic pull may be in flight; it can bring nothing new. (Requiring
    /// every client to be idle at one instant would never hold on a slow link, where some client
    /// is always between a request and its answer.)
    fn settled(&self) -> bool {
        self.first_unsettled().is_none()
    }

    /// Settled again, and every client has completed a pull since the stability round began.
    fn stability_round_done(&self) -> bool {
        let pulled = self.clients.iter().zip(&self.stability_pulls).all(|(node, before)| {
            node.slot.get().is_some_and(|c| c.metrics().pull_batch_sizes.count > *before)
        });
        pulled && self.settled()
    }

    /// The first node that is not settled, and why.
    fn first_unsettled(&self) -> Option<(String, String)> {
        let Some(server) = self.server.slot.get() else {
            return Some((NodeId::SERVER.to_string(), "the server is down".to_owned()));
        };
        let head = server.head();
        self.clients.iter().enumerate().find_map(|(index, node)| {
            let why = match node.slot.get() {
                None => "it is down".to_owned(),
                Some(client) => {
                    let outbox = client.outbox().count();
                    let cursor = client.cursor();
                    // Connected, with a session: a client that never gets back on line
                    // after the heal has not converged, however current its state.
                    let healthy =
                        matches!(client.sync_state(), SyncState::Idle | SyncState::Syncing);
                    if healthy && cursor == head && outbox == 0 && !client.meta().resync_needed {
                        return None;
                    }
                    let rejected =
                        client.rejection().map(|r| format!(", rejected: {r}")).unwrap_or_default();
                    format!(
                        "{:?}, cursor {} of head {}, {outbox} ops unacknowledged{rejected}",
                        client.sync_state(),
                        cursor.0,
                        head.0
                    )
                }
            };
            Some((NodeId::client(index as u32 + 1).to_string(), why))
        })
    }

    fn start_stability_round(&mut self) {
        self.stability_baseline = Some(self.view().snapshot());
        self.stability_pulls = self
            .clients
            .iter()
            .map(|node| node.slot.get().map_or(0, |c| c.metrics().pull_batch_sizes.count))
            .collect();
        self.phase = Phase::Stability { until_ms: self.now_ms + STABILITY_MS_MAX };
        if let Some(write) = self.tamper.write_during_stability(&self.plan.workload) {
            self.with_client(write.client.0 as usize - 1, |client, now| {
                let _ = workload::perform(client, now, &write);
            });
        }
        for index in 0..self.clients.len() {
            self.with_client(index, |client, now| client.sync_now(now));
        }
    }

    fn finish(mut self) -> Outcome {
        // After a panic the state is whatever the panic left: judging it would only add noise.
        if !self.failures.iter().any(|f| f.checker == Checker::Panic) {
            self.check_all_nodes();
            let found = check::judge(&self.view(), &self.history);
            self.failures.extend(found);
        }
        self.tally_attacks();
        if self.plan.params.security.tokens {
            self.check_audit_trail();
        }
        let stats = check::stats(&self.view(), &self.history);
        let observer = std::mem::replace(&mut self.observer, Observer::new(0));
        let measures = observer.finish(self.heal_at_ms, self.converged_at_ms, self.now_ms);
        Outcome {
            scenario: self.plan.scenario.clone(),
            seed: self.plan.seed,
            digest: self.trace.digest(),
            events: self.trace.events(),
            end_ms: self.now_ms,
            heal_at_ms: self.heal_at_ms,
            converged_at_ms: self.converged_at_ms,
            failures: self.failures,
            stats,
            connects_ms: std::mem::take(&mut self.history.connects_ms),
            quarantines: std::mem::take(&mut self.history.quarantines),
            trace: self.trace.take_recorded(),
            measures,
        }
    }

    pub(crate) fn fail(
        &mut self,
        checker: Checker,
        node: Option<String>,
        record: Option<String>,
        detail: String,
    ) {
        self.failures.push(Failure {
            checker,
            node,
            record,
            at_ms: self.now_ms,
            event_index: self.trace.events(),
            detail,
        });
    }

    /// A failure found while handling an event, naming the event: the first bad one, since
    /// the checks that call this run after every input.
    pub(crate) fn fail_at_event(
        &mut self,
        checker: Checker,
        node: Option<String>,
        record: Option<String>,
        detail: String,
    ) {
        let detail = format!("{detail}, after {}", self.current.describe());
        self.fail(checker, node, record, detail);
    }

    /// `oracle` and `no_resurrection` after a server input, naming the input if they fail.
    fn judge_server_commit(&mut self) {
        let Some(server) = self.server.slot.get() else {
            return;
        };
        let schema = self.lineage.latest_schema();
        let found =
            self.commit_watch.after_server_input(&server_view(server), &self.history, schema);
        for check::Broken { checker, record, detail } in found {
            self.fail_at_event(checker, Some(NodeId::SERVER.to_string()), record, detail);
        }
    }

    /// The world as the checkers may see it: read-only, with no handle on the engine.
    pub(crate) fn view(&self) -> WorldView<'_> {
        let server = self.server.slot.get().map(server_view);
        let clients = self.clients.iter().enumerate().map(|(index, node)| ClientView {
            node: NodeId::client(index as u32 + 1),
            schema_version: node.config.schema_version,
            replica: node.slot.get().map(|c| ReplicaView {
                records: c.records(),
                quarantine: c.quarantine(),
                metrics: c.metrics(),
            }),
        });
        WorldView {
            server,
            clients: clients.collect(),
            lineage: &self.lineage,
            plan: self.plan,
            server_policy: self.server.config.policy,
            injected: self.invalid.marked(),
            baseline: self.stability_baseline.as_ref(),
            network: &self.network.stats,
            now_ms: self.now_ms,
            event_index: self.trace.events(),
        }
    }
}

/// What the server holds, for the checkers.
fn server_view(server: &Server<SimStore>) -> ServerView<'_> {
    ServerView {
        records: server.records(),
        quarantine: server.quarantine(),
        registrations: server.registrations(),
        head: server.head(),
        metrics: server.metrics(),
    }
}
