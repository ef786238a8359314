//! `Params`: one seed's concrete values for every knob of a scenario.
//!
//! Params are self-contained: together with the seed they are everything the planner needs, and
//! a repro file stores them so that a replay never re-derives them from a changed scenario file.
//! Values that vary per event (each partition's length, each jump's size) stay as `_min`/`_max`
//! pairs here and are drawn by the planner.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::app::AppSpec;
use super::rollout::SchemaParams;
use super::security::SecuritySpec;
use super::spec::{ClientSettings, Mix, PartitionKind, RunSettings, ServerSettings};

/// Every drawn parameter of one run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Params {
    /// Number of clients; the server is node 0 and clients are nodes 1..=clients.
    pub clients: u32,
    /// What the clients write.
    pub workload: WorkloadParams,
    /// How messages travel.
    pub network: NetworkParams,
    /// Network partitions.
    pub partitions: PartitionParams,
    /// Offline periods of clients.
    pub offline: OfflineParams,
    /// Node crashes.
    pub crashes: CrashParams,
    /// Failing commits.
    #[serde(default)]
    pub storage: StorageParams,
    /// Wall-clock skew of each node, and clock jumps.
    pub clocks: ClockParams,
    /// Server configuration.
    pub server: ServerSettings,
    /// Client configuration.
    pub client: ClientSettings,
    /// Phase lengths.
    pub run: RunSettings,
    /// Schema versions in play.
    pub schema: SchemaParams,
    /// Signed tokens and hostile peers (fixed by the scenario, nothing drawn).
    #[serde(default, skip_serializing_if = "SecuritySpec::is_default")]
    pub security: SecuritySpec,
    /// The user's own app, schema text included (fixed by the scenario, nothing drawn); `None`
    /// for the demo notes app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<AppSpec>,
}

impl Params {
    /// Length of the chaos phase in simulated milliseconds; every planned event lies before it.
    pub fn chaos_ms(&self) -> u64 {
        self.run.chaos_s * 1_000
    }

    /// Number of nodes, server included.
    pub fn nodes_count(&self) -> u32 {
        self.clients + 1
    }
}

/// The drawn workload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkloadParams {
    /// Writes each client issues.
    pub writes_per_client: u32,
    /// Records per collection, shared by all clients.
    pub records: u32,
    /// Collection names.
    pub collections: Vec<String>,
    /// Relative weights of the write actions.
    pub mix: Mix,
    /// Mean write rate of every client, in writes per simulated second.
    pub writes_per_sec: f64,
}

/// The drawn network behaviour.
///
/// The scenario's `latency_ms` range bounds the latency of any message. Each seed draws a
/// narrower interval `[latency_ms_min, latency_ms_max]` inside it (two uniform draws, sorted),
/// and every message of the run takes a latency from that interval. Seeds thus differ in both
/// speed and jitter: some get a fast steady network, others a slow erratic one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetworkParams {
    /// Shortest one-way latency of a message.
    pub latency_ms_min: u64,
    /// Longest one-way latency of a message.
    pub latency_ms_max: u64,
    /// Probability that a message is dropped.
    pub loss: f64,
    /// Probability that a message is delivered twice.
    pub duplicate: f64,
    /// Probability that a message arrives damaged (see `NetworkSpec::corrupt`).
    #[serde(default)]
    pub corrupt: f64,
    /// When false, messages on one link arrive in the order they were sent.
    pub reorder: bool,
}

/// The drawn partitions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PartitionParams {
    /// Partitions in this run.
    pub count: u32,
    /// Shortest partition.
    pub duration_s_min: u64,
    /// Longest partition.
    pub duration_s_max: u64,
    /// Kinds a partition may take.
    pub kinds: Vec<PartitionKind>,
}

/// The drawn offline periods.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OfflineParams {
    /// The drawn fraction of clients that go offline.
    pub fraction: f64,
    /// `fraction × clients`, rounded: the clients that go offline, once each.
    pub clients_count: u32,
    /// Shortest offline period.
    pub duration_s_min: u64,
    /// Longest offline period.
    pub duration_s_max: u64,
    /// Whether all of them drop and return at the same instants.
    pub together: bool,
    /// Whether every period starts with the run (fresh installs that first connect later).
    #[serde(default)]
    pub from_start: bool,
}

/// The drawn storage faults.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StorageParams {
    /// Bursts of failing commits in this run.
    pub commit_failures: u32,
    /// Fewest consecutive commits one burst fails.
    pub commits_per_failure_min: u64,
    /// Most consecutive commits one burst fails.
    pub commits_per_failure_max: u64,
}

/// The drawn crashes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CrashParams {
    /// Crashes in this run (overlapping crashes of one node merge into one).
    pub count: u32,
    /// Whether the server may crash.
    pub server: bool,
    /// Shortest time a crashed node stays down.
    pub downtime_s_min: u64,
    /// Longest time a crashed node stays down.
    pub downtime_s_max: u64,
}

/// The drawn clock behaviour.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClockParams {
    /// One entry per node, indexed by node id (the server is entry 0).
    pub nodes: Vec<NodeClock>,
    /// Clock jumps in this run, across all nodes.
    pub jumps_count: u32,
    /// Smallest (most negative) jump.
    pub jump_ms_min: i64,
    /// Largest jump.
    pub jump_ms_max: i64,
}

/// How one node's wall clock departs from true simulated time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeClock {
    /// Constant offset added to the node's wall-clock reading.
    pub offset_ms: i64,
    /// Rate error: the node's clock gains this many microseconds per simulated second.
    pub drift_ppm: i64,
}

impl fmt::Display for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_workload(f)?;
        self.fmt_faults(f)?;
        self.fmt_nodes(f)
    }
}

/// The printed parameters, a group of lines each, in the order of the scenario file.
impl Params {
    /// Topology, workload and network.
    fn fmt_workload(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let workload = &self.workload;
        let mix = &workload.mix;
        writeln!(f, "topology   clients {}", self.clients)?;
        writeln!(
            f,
            "workload   writes_per_client {}, records {}, collections [{}], writes_per_sec {}",
            workload.writes_per_client,
            workload.records,
            workload.collections.join(", "),
            workload.writes_per_sec
        )?;
        writeln!(
            f,
            "mix        put {}, update {}, delete {}, increment {}, resolve {}",
            mix.put, mix.update, mix.delete, mix.increment, mix.resolve
        )?;
        if let Some(app) = &self.app {
            let schema =
                app.schema.as_ref().map_or("inline".to_owned(), |p| p.display().to_string());
            writeln!(f, "app        schema {schema}")?;
            for (name, workload) in &app.collections {
                writeln!(
                    f,
                    "  {name}: share {}, records {}, keys {:?}, text_chars {:?}, bytes {:?}",
                    workload.share,
                    workload.records.map_or("default".to_owned(), |r| r.to_string()),
                    workload.keys,
                    workload.text_chars,
                    workload.bytes
                )?;
            }
        }
        let network = &self.network;
        writeln!(
            f,
            "network    latency_ms [{}, {}], loss {}, duplicate {}, corrupt {}, reorder {}",
            network.latency_ms_min,
            network.latency_ms_max,
            network.loss,
            network.duplicate,
            network.corrupt,
            network.reorder
        )?;
        Ok(())
    }

    /// Partitions, offline periods, crashes, storage faults and clocks.
    fn fmt_faults(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let partitions = &self.partitions;
        let kinds: Vec<&str> = partitions.kinds.iter().map(|kind| kind.name()).collect();
        writeln!(
            f,
            "partitions count {}, duration_s [{}, {}], kinds [{}]",
            partitions.count,
            partitions.duration_s_min,
            partitions.duration_s_max,
            kinds.join(", ")
        )?;
        let offline = &self.offline;
        writeln!(
            f,
            "offline    fraction {}, clients_count {}, duration_s [{}, {}], together {}, \
             from_start {}",
            offline.fraction,
            offline.clients_count,
            offline.duration_s_min,
            offline.duration_s_max,
            offline.together,
            offline.from_start
        )?;
        let crashes = &self.crashes;
        writeln!(
            f,
            "crashes    count {}, server {}, downtime_s [{}, {}]",
            crashes.count, crashes.server, crashes.downtime_s_min, crashes.downtime_s_max
        )?;
        let storage = &self.storage;
        writeln!(
            f,
            "storage    commit_failures {}, commits_per_failure [{}, {}]",
            storage.commit_failures,
            storage.commits_per_failure_min,
            storage.commits_per_failure_max
        )?;
        let clocks = &self.clocks;
        writeln!(
            f,
            "clocks     jumps_count {}, jump_ms [{}, {}]",
            clocks.jumps_count, clocks.jump_ms_min, clocks.jump_ms_max
        )?;
        for (node, clock) in clocks.nodes.iter().enumerate() {
            let role = if node == 0 { " (server)" } else { "" };
            writeln!(
                f,
                "  node {node}{role}: offset_ms {}, drift_ppm {}",
                clock.offset_ms, clock.drift_ppm
            )?;
        }
        Ok(())
    }

    /// The server, the clients, the run's phases and the schema rollout. The last line ends
    /// without a newline, as every `Display` value does.
    fn fmt_nodes(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "server     gc_interval_s {}, client_eviction_s {}, tombstone_retention_s {}, \
             snapshot_page_records {}",
            self.server.gc_interval_s,
            self.server.client_eviction_s,
            self.server.tombstone_retention_s,
            self.server.snapshot_page_records
        )?;
        writeln!(
            f,
            "client     sync_interval_s {}, clock_ahead_ms_max {}",
            self.client.sync_interval_s, self.client.clock_ahead_ms_max
        )?;
        writeln!(
            f,
            "run        chaos_s {}, liveness_deadline_s {}",
            self.run.chaos_s, self.run.liveness_deadline_s
        )?;
        let schema = &self.schema;
        let versions: Vec<String> = schema.client_versions.iter().map(u32::to_string).collect();
        write!(
            f,
            "schema     client_versions [{}], upgrade_probability {}, invalid_payload_rate {}",
            versions.join(", "),
            schema.upgrade_probability,
            schema.invalid_payload_rate
        )?;
        for entry in &schema.server {
            write!(
                f,
                "\n  server from {} s: newest v{}, writable from v{}, readable from v{}",
                entry.at_s, entry.newest, entry.writable_from, entry.readable_from
            )?;
        }
        Ok(())
    }
}
